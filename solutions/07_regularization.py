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
# # Exercises 07 · Regularization and generalization
#
# **What you will practise**
#
# 1. the L2 penalty and its gradient over a whole list of parameters, weights only;
# 2. the L1 penalty and its subgradient, and the sparse weights it leaves behind;
# 3. the max-norm projection of each unit's incoming weights;
# 4. early stopping with patience that gives you back the weights of the best epoch;
# 5. label-smoothed targets;
# 6. how much averaging models reduces the variance: predicted first, then measured.
#
# **Prerequisites.** The lecture [07 · Regularization](../notebooks/07_regularization.ipynb):
# sections 1 (biases are not penalized), 2 (L2), 3 (L1), 4 (max-norm), 5 (early stopping),
# 7 (label smoothing) and 8 (ensembles). Notation as there: a layer computes $xW + b$ with
# $W$ of shape (fan_in, fan_out), so unit $j$'s incoming weights are the column $W_{:,j}$.
#
# **How the checks work.** Each exercise cell contains the lines `# YOUR CODE HERE` and
# `raise NotImplementedError()`: replace them with your code, run the cell, then run the check
# cell below it. A check calls your function on fixed inputs and prints one line with a ✓, or
# stops with a hint about the most likely mistake and the exact call it made, so that you can
# repeat the call in a new cell. If your own code raises an error, you see that error
# unchanged. A Markdown cell saying "YOUR ANSWER HERE" asks for a short written answer; no
# check reads it, so write it for yourself (or for your instructor).

# %%
import numpy as np
import matplotlib.pyplot as plt
import course_lib as cl
from course_lib import checks

_ = cl.set_seed()          # from COURSE_SEED (default 0), like every random draw below

# %% [markdown]
# ## Exercise 1 · The L2 penalty and its gradient
#
# Write `l2_penalty(params, lam)`. `params` is a list of `cl.Parameter`s, such as
# `model.parameters()`; `p.data` is each one's array. The **weights** are the parameters with
# two or more axes (`p.data.ndim >= 2`); the one-axis ones are biases. Return a tuple
# `(value, grads)`:
#
# * `value`, one float: $\frac{\lambda}{2}\sum_{\text{weights } W}\ \sum_{ij} W_{ij}^2$, the
#   number added to the loss;
# * `grads`, a list with **one array per parameter, in the order of `params`**, each of that
#   parameter's shape: $\lambda W$ for a weight, zeros (`np.zeros_like`) for a bias.
#
# Do not change `p.data` or `p.grad`: the caller decides what to do with the gradients.
#
# Pitfalls the check looks for: penalizing the biases; losing the $\frac12$ (then the gradient
# is $2\lambda W$); the norm $\lVert W\rVert$ instead of the **squared** norm; the wrong sign of
# the gradient.

# %% nbgrader={"grade": false, "grade_id": "l2_penalty", "locked": false, "schema_version": 3, "solution": true}
def l2_penalty(params, lam):
    """(lam / 2) * sum of squared weights, and its gradient per parameter (0 for biases)."""
    ### BEGIN SOLUTION
    value, grads = 0.0, []
    for p in params:
        if p.data.ndim >= 2:
            value += 0.5 * lam * np.sum(p.data ** 2)
            grads.append(lam * p.data)
        else:
            grads.append(np.zeros_like(p.data))
    return float(value), grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_l2_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_l2_penalty(l2_penalty)

# %% [markdown]
# Your function agrees with the library's `cl.L2`, which the lecture used through
# `cl.fit(..., regularizer=cl.L2(lam))`, on a real network:

# %%
net = cl.Sequential(cl.Linear(64, 32, rng=cl.make_rng(1)), cl.ReLU(), cl.Linear(32, 10, rng=cl.make_rng(2)))
for p in net.parameters():
    if p.name == "b":
        p.data[...] = 0.5                      # non-zero biases: a penalty on them would show
value, grads = l2_penalty(net.parameters(), 1e-2)
net.zero_grad()
cl.L2(1e-2).add_grad(net)
print(f"penalty: yours {value:.6f}, cl.L2 {cl.L2(1e-2).value(net):.6f}")
print("gradients identical:", all(np.allclose(g, p.grad) for g, p in zip(grads, net.parameters())))

# %% [markdown]
# ## Exercise 2 · The L1 penalty and its subgradient
#
# Write `l1_penalty(params, lam)` with the same interface: `value` is
# $\lambda \sum_{\text{weights}} \sum_{ij} |W_{ij}|$, and `grads` holds $\lambda\,\mathrm{sign}(W)$
# for each weight and zeros for each bias. At $W_{ij} = 0$ the function $|w|$ has a kink; any
# number in $[-\lambda, \lambda]$ is a valid subgradient there, and the course (like PyTorch's
# `sign`) uses **0**.
#
# Pitfalls: $|W|$ is the penalty, not its slope; `w / abs(w)` is `nan` at 0; comparisons such as
# `np.where(w >= 0, 1, -1)` give $\pm\lambda$ at 0 instead of 0.

# %% nbgrader={"grade": false, "grade_id": "l1_penalty", "locked": false, "schema_version": 3, "solution": true}
def l1_penalty(params, lam):
    """lam * sum of |weights|, and its subgradient lam * sign(W) per parameter (0 for biases)."""
    ### BEGIN SOLUTION
    value, grads = 0.0, []
    for p in params:
        if p.data.ndim >= 2:
            value += lam * np.sum(np.abs(p.data))
            grads.append(lam * np.sign(p.data))
        else:
            grads.append(np.zeros_like(p.data))
    return float(value), grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_l1_penalty", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_l1_penalty(l1_penalty)

# %% [markdown]
# **Experiment: which penalty makes weights vanish?** A linear softmax classifier (64 pixels →
# 10 classes, $W$ of shape (64, 10)) is trained on the 1,079 training digits with 300 full-batch
# gradient steps, learning rate 0.5, three times: without a penalty, with your L2 penalty
# ($\lambda = 10^{-2}$) and with your L1 penalty ($\lambda = 10^{-3}$). Your `grads` are added
# to the data gradient before each step. We count the weights with $|w| < 10^{-3}$ and look
# at the sizes of all 640 weights.

# %%
digits = cl.data.load_digits()


def train_linear(penalty=None, lam=0.0, steps=300, lr=0.5):
    """Full-batch gradient descent on a 64 -> 10 softmax classifier, optionally penalized."""
    layer = cl.Linear(64, 10, rng=cl.make_rng(0))
    loss_fn = cl.SoftmaxCrossEntropy()
    opt = cl.SGD(layer.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn.forward(layer.forward(digits.X_train), digits.y_train)
        layer.backward(loss_fn.backward())
        if penalty is not None:
            _, grads = penalty(layer.parameters(), lam)
            for p, g in zip(layer.parameters(), grads):
                p.grad += g
        opt.step()
    _, val_acc = cl.evaluate(layer, loss_fn, digits.X_val, digits.y_val)
    return layer.W.data.copy(), val_acc


linear = {"no penalty": train_linear(), "L2, λ = 1e-2": train_linear(l2_penalty, 1e-2),
          "L1, λ = 1e-3": train_linear(l1_penalty, 1e-3)}
for name, (W, acc) in linear.items():
    print(f"{name:13s} validation accuracy {acc:.3f}; weights with |w| < 1e-3: "
          f"{np.mean(np.abs(W) < 1e-3):6.1%}; largest |w| {np.abs(W).max():.2f}")

fig, ax = plt.subplots(figsize=(7, 3.4))
bins = np.linspace(-7, 1, 49)
for (name, (W, _)), color in zip(linear.items(), ("0.5", "tab:blue", "tab:red")):
    ax.stairs(np.histogram(np.log10(np.abs(W) + 1e-12), bins)[0], bins, color=color, lw=1.5, label=name)
ax.axvline(-3, color="0.3", ls=":", lw=1)
ax.set(xlabel="log10 |w|", ylabel="number of weights", title="sizes of the 640 weights of a linear classifier")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question.** (1) Which penalty leaves about a quarter of the weights below $10^{-3}$, and why
# does the other one leave almost none there, although its $\lambda$ is ten times larger?
# (2) Three pixels are 0 in every training image (`digits.X_train.std(axis=0) == 0`). What
# gradient do their 30 weights get from the data, and what happens to them without a penalty,
# with L2 and with L1? (How far can each penalty move a weight in 300 steps of size
# $\eta = 0.5$?)

# %% [markdown] nbgrader={"grade": true, "grade_id": "l1_l2_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) L1. Its pull towards 0 has the constant size λ whatever the weight, so every weight whose
# data gradient is weaker than λ is pushed to 0 and then jitters around it by about ηλ = 5e-4 per
# step, below the 1e-3 threshold. L2 pulls with λw, a force that fades as the weight shrinks:
# weights become smaller but are never brought to (near) zero.
# (2) None: their input x_i is 0 for every example, and the data gradient of W_ij is a sum of
# x_i times something. Without a penalty they keep their random initial values forever. L2
# multiplies them by (1 − ηλ) = 0.995 per step, 0.995^300 ≈ 0.22 in all: shrunk, not zero.
# L1 moves each of them ηλ = 5e-4 towards 0 per step, at most 0.15 in 300 steps: those that
# started smaller than that (about three quarters) reached 0 and stay there; the larger ones are
# still on their way. Most of L1's near-zero weights belong to other pixels, though: pixels that
# are almost always 0 or hardly differ between the classes, whose data gradient is weaker than
# λ. L1 has selected the informative pixels.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 3 · Max-norm: project each unit onto a ball
#
# Write `max_norm(W, c)` for a weight matrix `W` of shape (fan_in, fan_out). Unit $j$'s incoming
# weights are the **column** $W_{:,j}$. Return a **new** array in which every column whose
# Euclidean norm exceeds `c` is scaled to norm exactly `c` (same direction), and every other
# column is unchanged:
#
# $$W_{:,j} \leftarrow W_{:,j}\cdot \min\!\Big(1, \frac{c}{\lVert W_{:,j}\rVert_2}\Big).$$
#
# Leave `W` itself unchanged. Pitfalls: rows instead of columns; rescaling every column (also
# the short ones) to norm $c$; dividing by the norm and forgetting to multiply by $c$; clipping
# the individual weights instead of the length of the vector.

# %% nbgrader={"grade": false, "grade_id": "max_norm", "locked": false, "schema_version": 3, "solution": true}
def max_norm(W, c):
    """W with every column of norm > c scaled down to norm c; a new array."""
    ### BEGIN SOLUTION
    norms = np.sqrt(np.sum(W ** 2, axis=0))
    return W * np.minimum(1.0, c / norms)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_max_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_max_norm(max_norm)

# %% [markdown]
# The same projection as `cl.max_norm`, which works in place (as `cl.fit(..., max_norm=c)` does
# after every step), on six units of increasing size:

# %%
W = cl.make_rng(3).normal(0, 1, (64, 6)) * np.array([0.1, 0.3, 0.5, 0.8, 1.0, 2.0])
W_lib = W.copy()
cl.max_norm(W_lib, 4.0)
print("column norms before:     ", np.round(np.linalg.norm(W, axis=0), 2))
print("after your max_norm:     ", np.round(np.linalg.norm(max_norm(W, 4.0), axis=0), 2))
print("same as cl.max_norm:", np.allclose(max_norm(W, 4.0), W_lib))

# %% [markdown]
# ## Exercise 4 · Early stopping that restores the best weights
#
# Write a class `EarlyStopping` that a training loop calls once per epoch:
#
# * `EarlyStopping(patience)` starts with `best_loss = np.inf` and `best_epoch = None`;
# * `update(epoch, val_loss, weights)` records one epoch and **returns `True` when training
#   should stop**, else `False`. `weights` is a dict name → NumPy array: the model's own
#   parameter arrays, which the optimizer keeps changing **in place** after `update` returns.
#   If `val_loss` is strictly lower than `best_loss`, it is the new best: store the loss, the
#   epoch and a snapshot of the weights. Otherwise count one more epoch without improvement.
#   Stop once `patience` epochs **in a row** brought no improvement.
# * `restore(weights)` copies the snapshot back into the arrays of `weights`, in place, so that
#   the model gets the best epoch's weights back.
#
# Example with `patience=2` and validation losses 1.0, 0.8, 0.9, 0.85, …: epoch 1 is the best;
# epochs 2 and 3 bring no loss below 0.8, so `update` returns `True` at epoch 3.
#
# Pitfalls the check looks for: a snapshot that is a reference to the live arrays (or
# `weights.copy()`, which copies the dict but shares the arrays) and therefore changes with
# them; a `restore` that rebinds dict entries instead of writing into the arrays
# (`array[...] = values` writes in place); comparing with the previous epoch instead of the
# best; forgetting to reset the count after an improvement; patience off by one.

# %% nbgrader={"grade": false, "grade_id": "early_stopping", "locked": false, "schema_version": 3, "solution": true}
class EarlyStopping:
    """Stop after `patience` epochs in a row without a new best validation loss; keep a copy of
    the best epoch's weights and restore them on request."""

    ### BEGIN SOLUTION
    def __init__(self, patience):
        self.patience = patience
        self.best_loss, self.best_epoch = np.inf, None
        self.best_weights = None
        self.bad_epochs = 0

    def update(self, epoch, val_loss, weights):
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch = val_loss, epoch
            self.best_weights = {name: w.copy() for name, w in weights.items()}
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, weights):
        for name, saved in self.best_weights.items():
            weights[name][...] = saved
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_early_stopping", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_early_stopping(EarlyStopping)

# %% [markdown]
# **Your stopper on the lecture's bench**: the ReLU MLP 64 → 128 → 10 on 300 training digits of
# which 20 % carry a random label, SGD with momentum 0.9, learning rate 0.05, mini-batches of
# 32, at most 60 epochs, patience 5. The loop trains one epoch at a time, measures the
# validation loss, and asks your stopper; `weights` holds the model's parameter arrays
# themselves, so the optimizer changes them in place, as in the check.

# %%
from course_lib.widgets import regularization as rw

X_bench, y_bench = rw.bench_data()
model = rw.make_mlp()
loss_fn = cl.SoftmaxCrossEntropy()
opt = cl.SGD(model.parameters(), lr=0.05, momentum=0.9)
order = cl.make_rng(2)                     # the shuffling order, continued epoch to epoch
weights = {name: p.data for name, p in model.named_parameters()}
stopper = EarlyStopping(patience=5)
val_losses = []
for epoch in range(60):
    cl.fit(model, loss_fn, opt, X_bench, y_bench, epochs=1, batch_size=32, rng=order,
           progress=False, ratio_every=0)
    val_losses.append(cl.evaluate(model, loss_fn, digits.X_val, digits.y_val)[0])
    if stopper.update(epoch, val_losses[-1], weights):
        break
before = cl.evaluate(model, loss_fn, digits.X_val, digits.y_val)
stopper.restore(weights)
after = cl.evaluate(model, loss_fn, digits.X_val, digits.y_val)
print(f"stopped after epoch {epoch} (counting from 0); best epoch {stopper.best_epoch}, "
      f"best validation loss {stopper.best_loss:.4f}")
print(f"validation loss / accuracy at the stop: {before[0]:.4f} / {before[1]:.3f}; "
      f"after restore: {after[0]:.4f} / {after[1]:.3f}")

fig, ax = plt.subplots(figsize=(6.5, 3.3))
ax.plot(val_losses, "o-", ms=3, label="validation loss")
ax.axvline(stopper.best_epoch, color="tab:green", ls="--", lw=1, label="best epoch (restored)")
ax.axvline(epoch, color="0.4", ls=":", lw=1, label="stop")
ax.set(xlabel="epoch", ylabel="cross-entropy", title="early stopping with your class, patience 5")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# After `restore`, the model's validation loss is exactly the best loss your stopper recorded.
# (With a snapshot that is not a copy, the two would differ: the "best" weights would be the
# final ones.)
#
# ## Exercise 5 · Label-smoothed targets
#
# Write `smooth_labels(y, num_classes, alpha)`: for integer labels `y` of shape `(N,)` return
# the targets of shape `(N, num_classes)`
#
# $$t = (1 - \alpha)\,\mathrm{onehot}(y) + \frac{\alpha}{K}, \qquad K = \texttt{num\_classes},$$
#
# so the gold class gets $1 - \alpha + \alpha/K$, every other class $\alpha/K$, and each row
# sums to 1. Use `num_classes`, not the labels, for $K$: a batch need not contain every class.
#
# Pitfalls: $\alpha/(K-1)$ on the wrong classes (a different convention from the one the course
# and PyTorch use); lowering the gold class without spreading the mass; adding $\alpha/K$
# without scaling the one-hot part by $1 - \alpha$.

# %% nbgrader={"grade": false, "grade_id": "smooth_labels", "locked": false, "schema_version": 3, "solution": true}
def smooth_labels(y, num_classes, alpha):
    """(1 - alpha) * onehot(y) + alpha / K, shape (N, K)."""
    ### BEGIN SOLUTION
    onehot = np.eye(num_classes)[y]
    return (1.0 - alpha) * onehot + alpha / num_classes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_smooth_labels", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_smooth_labels(smooth_labels)

# %% [markdown]
# `cl.SoftmaxCrossEntropy` accepts probability targets of shape (N, K). With your smoothed
# targets it computes exactly the loss and gradient of its own `label_smoothing=α` option:

# %%
logits = cl.make_rng(4).normal(0, 3, (6, 10))
labels = np.array([3, 3, 0, 9, 5, 1])
mine, builtin = cl.SoftmaxCrossEntropy(), cl.SoftmaxCrossEntropy(label_smoothing=0.1)
loss_mine = mine.forward(logits, smooth_labels(labels, 10, 0.1))
loss_builtin = builtin.forward(logits, labels)
print(f"loss with your targets {loss_mine:.6f}, with label_smoothing=0.1 {loss_builtin:.6f}; "
      f"same gradient: {np.allclose(mine.backward(), builtin.backward())}")

# %% [markdown]
# ## Exercise 6 · Predict, then measure: the variance of an average
#
# Eight models each estimate the same quantity with an error of standard deviation
# $\sigma = 0.6$ (variance $0.36$), and the errors are **independent**. The ensemble reports the
# average of the eight estimates. **Before measuring**, predict the variance of the ensemble's
# error and assign it, as a number or a NumPy expression, to `predicted_variance`. Use
# $\mathrm{Var}(aX) = a^2\,\mathrm{Var}(X)$ and, for independent terms,
# $\mathrm{Var}(\sum_i X_i) = \sum_i \mathrm{Var}(X_i)$.

# %% nbgrader={"grade": false, "grade_id": "ensemble_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
predicted_variance = 0.6 ** 2 / 8        # Var(sum) = 8 sigma^2, divided by 8^2
### END SOLUTION

# %% [markdown]
# The measurement: 100,000 simulated ensembles of $n$ models for several $n$.

# %%
rng = cl.make_rng(11)
ns = np.array([1, 2, 4, 8, 16, 32])
measured = np.array([rng.normal(0, 0.6, (100_000, n)).mean(axis=1).var() for n in ns])
print(f"n = 8: measured variance of the average {measured[3]:.4f}; "
      f"your prediction {float(predicted_variance):.4f}")

fig, ax = plt.subplots(figsize=(6, 3.3))
ax.loglog(ns, measured, "o-", label="measured")
ax.loglog([8], [predicted_variance], "s", ms=10, mfc="none", label="your prediction (n = 8)")
ax.set(xlabel="models averaged n", ylabel="variance of the average error",
       title="independent errors, σ = 0.6")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% nbgrader={"grade": true, "grade_id": "check_ensemble_variance", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_ensemble_variance(predicted_variance)

# %% [markdown]
# **Question.** In the lecture (section 8), five networks trained from different seeds on the
# same data improved the validation accuracy by about two points over an average member — a
# real gain, but nowhere near what dividing the variance of the errors by 5 would suggest. Why?
# What does that tell you about how to choose the members of an ensemble?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ensemble_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# σ²/n holds only for independent errors. Networks trained on the same data with the same
# architecture make largely the same mistakes (hard or mislabelled examples are hard for all of
# them), so their errors are positively correlated. With pairwise correlation ρ the variance of
# the average is σ²(ρ + (1 − ρ)/n): only the uncorrelated part shrinks with n, and it can never go
# below ρσ². Part of each error is also bias, which averaging does not remove at all. So choose
# members whose errors differ as much as possible while each stays good: different seeds (the
# cheapest), bootstrap samples of the data (bagging), different architectures or
# hyperparameters. Adding more near-identical members soon stops paying.
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * L2: value $\frac\lambda2\sum W^2$, gradient $\lambda W$; L1: value $\lambda\sum|W|$,
#   subgradient $\lambda\,\mathrm{sign}(W)$ with 0 at 0. Both skip the biases. L1's constant
#   pull drives weights to (near) zero; L2's fading pull only shrinks them.
# * Max-norm scales only the columns (units) longer than $c$ back to length $c$.
# * Early stopping needs a **copy** of the best weights, a count of epochs without a new best
#   that resets on improvement, and a restore that writes into the model's own arrays.
# * Label smoothing mixes the one-hot target with the uniform distribution over all $K$ classes.
# * Averaging $n$ independent errors divides the variance by $n$; correlated members gain less.
#
# Next: the lecture [08 · Training in practice](../notebooks/08_training_in_practice.ipynb).
