# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbgrader,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercises 01 · Activation functions
#
# **What you will practise**
#
# 1. a sigmoid that never overflows, and its derivative;
# 2. a Leaky ReLU layer with its forward and backward pass (α = 0 gives the plain ReLU);
# 3. ELU and its derivative;
# 4. counting dead ReLU units — and finding out why the count depends on how much data you
#    look at;
# 5. reading activation statistics recorded during training: which layer died first?
#
# **Prerequisites.** The lecture [01 · Activation functions](../notebooks/01_activations.ipynb),
# in particular sections 2 (sigmoid), 5–7 (ReLU, dead units and their statistics during
# training, Leaky ReLU) and 8 (ELU).
#
# **How the checks work.** Each exercise cell contains the lines `# YOUR CODE HERE` and
# `raise NotImplementedError()`: replace them with your code, run the cell, then run the check
# cell below it. A check calls your function on fixed inputs and prints one line with a ✓, or
# stops with a hint about the most likely mistake and the exact call it made, so that you can
# repeat the call in a new cell. If your own code raises an error, you see that error
# unchanged. A Markdown cell saying "YOUR ANSWER HERE" asks for a short written answer; no
# check reads it.

# %%
import numpy as np
import matplotlib.pyplot as plt
import course_lib as cl
from course_lib import checks

_ = cl.set_seed()          # every random draw below derives from COURSE_SEED

# %% [markdown]
# ## Exercise 1 · A stable sigmoid and its derivative
#
# **(a)** Write `sigmoid(x)` $= 1/(1 + e^{-x})$, element-wise for an array `x` of any shape.
# It must work for $x = \pm 1000$ **without any overflow warning**. The trick: only ever
# exponentiate a number $\le 0$. With $e = e^{-|x|} \in (0, 1]$,
#
# $$\sigma(x) = \frac{1}{1 + e} \ \text{ for } x \ge 0, \qquad \sigma(x) = \frac{e}{1 + e} \ \text{ for } x < 0 .$$
#
# Careful with `np.where(cond, a, b)`: NumPy computes **both** `a` and `b` for every element
# before choosing, so `np.where(x >= 0, 1 / (1 + np.exp(-x)), ...)` still overflows for
# $x = -1000$ even though that branch is thrown away. Compute $e$ once, from $-|x|$.

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true}
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)) element-wise, without overflow."""
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sigmoid(sigmoid)

# %% [markdown]
# **(b)** Write `sigmoid_grad(x)` $= \sigma'(x) = \sigma(x)\,(1 - \sigma(x))$, using your stable
# `sigmoid`. It is at most $1/4$ (at $x = 0$) and vanishes in both tails.

# %% nbgrader={"grade": false, "grade_id": "sigmoid_grad", "locked": false, "schema_version": 3, "solution": true}
def sigmoid_grad(x):
    """d sigma / dx = sigma(x) (1 - sigma(x)), element-wise."""
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1.0 - s)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid_grad", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sigmoid_grad(sigmoid_grad)

# %% [markdown]
# Your two functions against the library's sigmoid layer, over a range that includes ±1000:

# %%
x = np.concatenate([[-1000.0], np.linspace(-8, 8, 401), [1000.0]])
print("max |difference| to cl.Sigmoid:", np.abs(sigmoid(x) - cl.Sigmoid().forward(x)).max(),
      "| max of sigmoid_grad:", sigmoid_grad(x).max())
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(x[1:-1], sigmoid(x[1:-1]), label="sigmoid")
ax.plot(x[1:-1], sigmoid_grad(x[1:-1]), "--", label="sigmoid_grad")
ax.set(xlabel="x", title="your sigmoid and its derivative")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 2 · A Leaky ReLU layer
#
# Complete the class `LeakyReLU` with the layer interface of `course_lib`:
#
# * `forward(x)`: $f(x) = x$ for $x > 0$ and $\alpha x$ for $x \le 0$, element-wise on a batch
#   `x` of any shape. Remember what `backward` will need.
# * `backward(dout)`: the gradient with respect to the input of the **most recent** `forward`:
#   `dout` where $x > 0$, $\alpha \cdot$ `dout` where $x \le 0$. (At exactly $x = 0$ use the
#   slope of the negative side, as PyTorch does.)
#
# With `alpha=0.0` the layer is the plain ReLU, whose gradient is exactly 0 for $x < 0$. The
# mask comes from the layer's **input** $x$, not from the sign of `dout`; and `backward`
# returns the local slope **times** `dout` (the chain rule).

# %% nbgrader={"grade": false, "grade_id": "leaky_relu", "locked": false, "schema_version": 3, "solution": true}
class LeakyReLU:
    """f(x) = x for x > 0, alpha * x otherwise; alpha = 0 is the ReLU."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x):
        ### BEGIN SOLUTION
        self.positive = x > 0
        return np.where(self.positive, x, self.alpha * x)
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        return np.where(self.positive, dout, self.alpha * dout)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_leaky_relu", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_leaky_relu(LeakyReLU)

# %% [markdown]
# A gradient check of your layer against centred differences (notebook 03 explains the method;
# here it is a referee). The inputs are kept away from the kink at 0, where a finite difference
# would mix the two slopes.

# %%
rng = cl.make_rng(0)
x = rng.standard_normal((5, 4))
x[np.abs(x) < 0.1] = 0.5                       # keep away from the kink
dout = rng.standard_normal((5, 4))
for alpha in (0.0, 0.1):
    layer = LeakyReLU(alpha)
    layer.forward(x)
    analytic = layer.backward(dout)
    numeric = cl.numerical_gradient(lambda: LeakyReLU(alpha).forward(x), x, dout=dout)
    print(f"alpha = {alpha}: relative error {cl.rel_error(analytic, numeric):.1e}")

# %% [markdown]
# ## Exercise 3 · ELU and its derivative
#
# Write `elu(x, alpha=1.0)` and `elu_grad(x, alpha=1.0)`:
#
# $$\text{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}
# \qquad\qquad
# \text{ELU}'(x) = \begin{cases} 1 & x > 0 \\ \alpha\, e^{x} & x \le 0 \end{cases}$$
#
# Both must work for $x = 1000$ without an overflow warning. As in exercise 1, `np.where`
# evaluates both branches: exponentiate `np.minimum(x, 0)`, never `x` itself.
# (`np.expm1(u)` computes $e^u - 1$ accurately for small $u$; `np.exp(u) - 1` is also accepted.)

# %% nbgrader={"grade": false, "grade_id": "elu", "locked": false, "schema_version": 3, "solution": true}
def elu(x, alpha=1.0):
    """ELU(x) = x for x > 0, alpha * (exp(x) - 1) otherwise."""
    ### BEGIN SOLUTION
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    ### END SOLUTION


def elu_grad(x, alpha=1.0):
    """ELU'(x) = 1 for x > 0, alpha * exp(x) otherwise."""
    ### BEGIN SOLUTION
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_elu", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_elu(elu, elu_grad)

# %% [markdown]
# With $\alpha = 1$ the slope is continuous at 0 ($\alpha e^0 = 1$ from the left), so ELU is
# smooth there; with another $\alpha$ it has a kink:

# %%
for alpha in (1.0, 0.5):
    left, right = elu_grad(np.array(-1e-9), alpha), elu_grad(np.array(1e-9), alpha)
    print(f"alpha = {alpha}: slope just left of 0 = {left:.4f}, just right = {right:.4f}")

# %% [markdown]
# ## Exercise 4 · Counting dead units
#
# A ReLU unit is **dead** on a data set if it outputs 0 for **every** example of it: then it
# passes no gradient and its incoming weights never change again.
#
# Write `dead_fraction(A)` for the ReLU outputs `A` of one layer, shape `(N, H)`: row $n$ is
# example $n$, column $j$ is unit $j$. Return the **fraction of units** (columns) that are 0 on
# all $N$ rows, one float between 0 and 1.
#
# Pitfalls: reduce over the examples (`axis=0`), not over the units; a ReLU output is never
# negative, so test `A <= 0` (or `A == 0`), not `A < 0`; a unit that is 0 on *some* examples
# is normal, not dead.

# %% nbgrader={"grade": false, "grade_id": "dead_fraction", "locked": false, "schema_version": 3, "solution": true}
def dead_fraction(A):
    """Fraction of the H units (columns of A, shape (N, H)) that are 0 on every example."""
    ### BEGIN SOLUTION
    return float(np.mean(np.all(A <= 0, axis=0)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dead_fraction", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dead_fraction(dead_fraction)

# %% [markdown]
# ## Exercise 5 · Experiment: how much data does "dead" need?
#
# Monitoring tools often report the dead share on the current mini-batch. Is that the same
# number? We train two copies of one MLP (64 → 100 → 100 → 10, ReLU) on the centred digits
# for 5 epochs: one with a sensible learning rate (0.05) and one with a far too high one (1.0,
# the lecture's dead-ReLU experiment). Then your `dead_fraction` measures the second hidden
# layer on random batches of $B$ training examples (50 batches per size, averaged) and on the
# whole training set. Run the cells, then answer the question below.

# %%
digits = cl.data.load_digits()
center = cl.data.Center().fit(digits.X_train)
X_train, y_train = center.transform(digits.X_train), digits.y_train


def train_relu_mlp(lr, seed=cl.seeds(1)[0]):
    rng = np.random.default_rng(seed)
    model = cl.Sequential(cl.Linear(64, 100, rng=rng), cl.ReLU(), cl.Linear(100, 100, rng=rng),
                          cl.ReLU(), cl.Linear(100, 10, rng=rng))
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=lr, momentum=0.9),
           X_train, y_train, epochs=5, batch_size=64, rng=seed, progress=False, ratio_every=0,
           explode_factor=1e9)           # let the high rate run on, as a naive loop would
    return model


batch_sizes = [1, 4, 16, 64, 256]
per_batch, full = {}, {}
for lr in (0.05, 1.0):
    outputs, _ = cl.diagnostics.trace(train_relu_mlp(lr), X_train)
    A = outputs[3]                       # the second hidden layer's ReLU outputs, (N, 100)
    pick = cl.make_rng(1)
    per_batch[lr] = [np.mean([dead_fraction(A[pick.choice(len(A), B, replace=False)])
                              for _ in range(50)]) for B in batch_sizes]
    full[lr] = dead_fraction(A)
    print(f"lr = {lr}: dead on the whole training set {full[lr]:.0%}; on batches of "
          + ", ".join(f"{B}: {d:.0%}" for B, d in zip(batch_sizes, per_batch[lr])))

fig, ax = plt.subplots(figsize=(6.5, 3.6))
for lr, color in ((0.05, "C0"), (1.0, "C3")):
    ax.semilogx(batch_sizes, per_batch[lr], "o-", color=color, label=f"lr {lr}: on one batch of B")
    ax.axhline(full[lr], color=color, ls="--", label=f"lr {lr}: on all {len(X_train)} examples")
ax.set(xlabel="batch size B", ylabel="dead fraction", ylim=(0, 1),
       title="'dead' units in the second hidden layer")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question.** For the healthy network (lr 0.05), why is the dead fraction measured on one
# batch so much larger than on the whole training set, and why does it fall as $B$ grows?
# Which of the numbers tells you that a unit will never learn again, and what would you
# monitor in practice?

# %% [markdown] nbgrader={"grade": true, "grade_id": "dead_units_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# A healthy ReLU unit is silent on a good share of the examples (it fires only for inputs on one
# side of its hyperplane). If it fires on a fraction q of the data, a random batch of B examples
# misses it completely with probability about (1 − q)^B, and then the batch-level count calls it
# "dead". With B = 1 the number is just the share of units that are inactive for that one
# example; as B grows, (1 − q)^B shrinks and only units that fire rarely or never remain. Only
# the count over the whole training set answers the real question — does the unit receive a
# gradient from ANY example? — because a unit silent on every training example gets no update
# and stays dead. So monitor the dead fraction on the full training set (or a large fixed
# subset), as `cl.diagnostics.layer_stats` does; the per-batch number mostly measures sparsity.
# The broken network (lr 1.0) shows the difference: its full-set number is high too.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 6 · Reading activation statistics: which layer died first?
#
# `cl.diagnostics.ActivationStats` (lecture section 6) watches a model's activation layers
# during training and keeps, at every `every`-th step:
#
# * `stats.layers` — the watched layers' **indices in the model**, e.g. `[1, 3, 5]` for
#   `Sequential(Linear, ReLU, Linear, ReLU, Linear, ReLU, Linear)`;
# * `stats.steps` — the training step of each record, e.g. `[0, 5, 10, …]` with `every=5`;
# * `stats.dead[i]` — for layer index `i`, one value per record: the share of its units that
#   were 0 for every example of that step's mini-batch (NaN for layers that are not ReLU);
# * `stats.saturated[i]` — the share of saturated outputs of a tanh or sigmoid layer (NaN
#   for the others).
#
# Write `first_dead_layer(stats, threshold)`: the layer whose dead share **first reached**
# the threshold ($\ge$), and the **training step** at which it did, as a tuple
# `(layer index in the model, step)`. "First" means earliest in training; if two layers reach
# it at the same step, return the one nearer the input. If no layer ever reaches it, return
# `None`.
#
# Pitfalls: `np.argmax` of an all-False array is 0 (and `np.nan >= t` is False); the step of
# record `k` is `stats.steps[k]`, not `k`; return the layer's index (an element of
# `stats.layers`), not its position in that list.

# %% nbgrader={"grade": false, "grade_id": "first_dead_layer", "locked": false, "schema_version": 3, "solution": true}
def first_dead_layer(stats, threshold):
    """(layer index, training step) of the layer whose per-batch dead share first reached
    threshold; the layer nearer the input on a tie; None if no layer reached it."""
    ### BEGIN SOLUTION
    best = None
    for i in stats.layers:
        reached = np.flatnonzero(np.asarray(stats.dead[i]) >= threshold)
        if reached.size:
            step = int(stats.steps[reached[0]])
            if best is None or step < best[1]:
                best = (i, step)
    return best
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_first_dead_layer", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_first_dead_layer(first_dead_layer)

# %% [markdown]
# Your function on real records: the lecture's dead-ReLU experiment (a 64 → 100 → 100 → 100
# → 10 MLP, 5 epochs at the far too high learning rate 1.0), three seeds, each recorded by
# `ActivationStats` at every step. The chart shows the first seed's record.

# %%
from course_lib.widgets import activations_experiments as axp

runs = axp.dead_runs("ReLU, lr 1.0", n=3)
for r in runs:
    print(f"seed {r.seed}: first layer whose batch-dead share reached 50%: {first_dead_layer(r.stats, 0.5)}; "
          f"at 90%: {first_dead_layer(r.stats, 0.9)}")
ax = cl.plots.plot_dead_saturated(runs[0].stats, title=f"ReLU, lr 1.0 (seed {runs[0].seed})")
ax.axhline(50, color="k", ls=":", lw=1)
plt.show()

# %% [markdown]
# ## Wrap-up
#
# * Stable element-wise functions exponentiate only non-positive numbers; `np.where` does not
#   protect a branch from being computed.
# * An activation layer's backward pass is `dout` times the local slope, with the mask taken from
#   the forward **input**; Leaky ReLU keeps a slope α on the negative side, ELU a slope $\alpha e^x$.
# * "Dead" means silent on the whole data set. On a mini-batch, healthy but sparse units look
#   dead too.
# * Activation statistics recorded during training answer "when" questions: read each layer's
#   curve for its first crossing, then compare the layers; mind record index vs step and
#   position vs layer index.
#
# Next: the lecture [02 · Initialization](../notebooks/02_initialization.ipynb).
