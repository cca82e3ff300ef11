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
# # Exercises 02 · Initialization and variance propagation
#
# **What you will practise**
#
# 1. writing the Xavier (normal and uniform) and He initializers from their variance formulas;
# 2. measuring how the spread of the activations changes from layer to layer;
# 3. predicting, with one line of variance arithmetic, how fast a deep tanh net with small
#    weights collapses — then checking the prediction;
# 4. showing that identical units stay identical, and finding out which weights must be random.
#
# **Prerequisites.** The lecture [02 · Initialization](../notebooks/02_initialization.ipynb),
# sections 1 (symmetry), 3 (the variance of a layer's output), 4 (uniform or normal) and 5 (He).
# Notation as there: a layer computes $a = f(xW)$ with $W$ of shape (fan_in, fan_out).
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
# ## Exercise 1 · Xavier and He initializers
#
# Each initializer takes `(fan_in, fan_out, rng)` and returns a weight matrix of shape
# **(fan_in, fan_out)** with mean 0, drawn from the generator `rng` (`rng.standard_normal`,
# `rng.normal`, `rng.uniform`; never `np.random.randn`, whose global state would make runs
# irreproducible).
#
# **(a)** Glorot & Bengio's compromise between keeping the forward variance
# ($1/\text{fan\_in}$) and the backward variance ($1/\text{fan\_out}$):
# $\mathrm{Var}(W) = 2/(\text{fan\_in} + \text{fan\_out})$.
#
# * `xavier_normal`: $W \sim \mathcal N(0, \sigma^2)$ with $\sigma = \sqrt{2/(\text{fan\_in}+\text{fan\_out})}$
#   (mind: `rng.normal` takes the standard deviation, not the variance);
# * `xavier_uniform`: $W \sim U[-r, r]$ with the **same variance**. $U[-r, r]$ has variance
#   $r^2/3$, so $r = \sqrt 3\,\sigma = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}$.

# %% nbgrader={"grade": false, "grade_id": "xavier", "locked": false, "schema_version": 3, "solution": true}
def xavier_normal(fan_in, fan_out, rng):
    """W ~ N(0, 2 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    ### BEGIN SOLUTION
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return std * rng.standard_normal((fan_in, fan_out))
    ### END SOLUTION


def xavier_uniform(fan_in, fan_out, rng):
    """W ~ U[-r, r] with r = sqrt(6 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    ### BEGIN SOLUTION
    r = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-r, r, size=(fan_in, fan_out))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_xavier", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_xavier(xavier_normal, xavier_uniform)

# %% [markdown]
# **(b)** He et al.: a ReLU zeroes half of its inputs and keeps half of the second moment, so
# the forward variance is preserved by $\mathrm{Var}(W) = 2/\text{fan\_in}$. Write `he_normal`,
# $W \sim \mathcal N(0, 2/\text{fan\_in})$.

# %% nbgrader={"grade": false, "grade_id": "he", "locked": false, "schema_version": 3, "solution": true}
def he_normal(fan_in, fan_out, rng):
    """W ~ N(0, 2 / fan_in), shape (fan_in, fan_out)."""
    ### BEGIN SOLUTION
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_he", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_he(he_normal)

# %% [markdown]
# Your initializers draw exactly what `course_lib`'s do (which follow `torch.nn.init`): the
# same seed gives the same numbers, up to the order of the draws.

# %%
for name, mine, lib in (("xavier_normal", xavier_normal, cl.init.xavier_normal),
                        ("xavier_uniform", xavier_uniform, cl.init.xavier_uniform),
                        ("he_normal", he_normal, cl.init.he_normal)):
    a = mine(300, 200, cl.make_rng(5))
    b = lib(300, 200, rng=cl.make_rng(5))         # a second generator with the same seed
    print(f"{name:15s} std: yours {a.std():.5f}, course_lib {b.std():.5f}; "
          f"identical draws: {np.allclose(a, b)}")

# %% [markdown]
# ## Exercise 2 · The spread of the activations, layer by layer
#
# Write `layer_stds(x, weight_std, depth, activation, rng)`. Starting from the batch
# `x` of shape `(N, D)`, apply `depth` layers
#
# $$a_0 = x, \qquad a_l = \text{activation}(a_{l-1} W_l), \qquad W_l \sim \mathcal N(0, \text{weight\_std}^2) \text{ of shape } (D, D),$$
#
# with no biases and a **fresh** $W_l$ drawn from `rng` for every layer
# (`weight_std * rng.standard_normal((D, D))`). Return a NumPy array of length `depth`: the
# standard deviation of all entries of $a_1, \dots, a_{\text{depth}}$ (`a.std()`), the layers'
# outputs after the activation. `activation` is a function such as `np.tanh`.
#
# The check compares your numbers with reference statistics of the same experiment, within
# 25 % per layer, so drawing the weights in another order is fine.

# %% nbgrader={"grade": false, "grade_id": "layer_stds", "locked": false, "schema_version": 3, "solution": true}
def layer_stds(x, weight_std, depth, activation, rng):
    """Std of each layer's activations in a depth-layer net of square random layers."""
    ### BEGIN SOLUTION
    a, stds = x, []
    for _ in range(depth):
        W = weight_std * rng.standard_normal((x.shape[1], x.shape[1]))
        a = activation(a @ W)
        stds.append(a.std())
    return np.array(stds)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_layer_stds", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_layer_stds(layer_stds)

# %% [markdown]
# ## Exercise 3 · Predict, then measure: a deep tanh net with std 0.01
#
# Take $N = 200$ unit-Gaussian inputs of width $D = 256$ and push them through 10 tanh layers
# of width 256 whose weights have std **0.01**. **Before measuring**, predict the std of the
# activations after layer 1 and after layer 10. Use $\mathrm{Var}(z) = \text{fan\_in}\cdot
# \mathrm{Var}(W)\cdot\mathrm{Var}(x)$ and $\tanh z \approx z$ for small $z$. Assign your two
# predictions, as numbers or NumPy expressions, to `predicted_std_layer1` and
# `predicted_std_layer10`.

# %% nbgrader={"grade": false, "grade_id": "collapse_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
factor = 0.01 * np.sqrt(256)              # the std is multiplied by std(W) sqrt(fan_in) = 0.16
predicted_std_layer1 = factor             # input std 1
predicted_std_layer10 = factor ** 10      # ten such factors: about 1e-8
### END SOLUTION

# %% [markdown]
# The measurement, with your `layer_stds`:

# %%
x_collapse = cl.make_rng(1).standard_normal((200, 256))
measured = layer_stds(x_collapse, 0.01, 10, np.tanh, cl.make_rng(2))
print("measured std per layer:", " ".join(f"{s:.2g}" for s in measured))
print(f"your prediction: layer 1 {predicted_std_layer1:.3g}, layer 10 {predicted_std_layer10:.3g}")

fig, ax = plt.subplots(figsize=(6, 3.4))
layers = np.arange(1, 11)
ax.semilogy(layers, measured, "o-", label="measured")
ax.semilogy([1, 10], [predicted_std_layer1, predicted_std_layer10], "s", ms=9, mfc="none",
            label="your predictions")
ax.set(xlabel="layer", ylabel="activation std (log scale)", xticks=layers,
       title="10 tanh layers, W ~ N(0, 0.01²), width 256")
ax.legend()
fig.tight_layout()
plt.show()

# %% nbgrader={"grade": true, "grade_id": "check_collapse_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_collapse_prediction(predicted_std_layer1, predicted_std_layer10)

# %% [markdown]
# The same function shows what the right scale does. With $\mathrm{std}(W) = 1/\sqrt{\text{fan\_in}}$
# (Xavier's value for square layers) the tanh net keeps a spread through all ten layers; it
# drifts down slowly, because tanh's slope is below 1 away from 0 (the lecture's section 6
# on gains). ReLU with He's $\sqrt{2/\text{fan\_in}}$ keeps its scale:

# %%
for name, act, std in (("tanh, std 0.01", np.tanh, 0.01),
                       ("tanh, std 1/sqrt(256)", np.tanh, 1 / np.sqrt(256)),
                       ("ReLU, std sqrt(2/256)", lambda a: np.maximum(a, 0.0), np.sqrt(2 / 256))):
    s = layer_stds(x_collapse, std, 10, act, cl.make_rng(2))   # the same draws, scaled
    print(f"{name:22s} layer 1: {s[0]:.3g}   layer 10: {s[-1]:.3g}")

# %% [markdown]
# ## Exercise 4 · Symmetry: identical units stay identical
#
# Hidden unit $j$ of a layer is described by its incoming weights, column `W[:, j]` of the
# (fan_in, fan_out) matrix. Write `max_unit_difference(W)`: for each input $i$ take the spread
# across the units, $\max_j W_{ij} - \min_j W_{ij}$ (`np.ptp`), and return the largest spread
# over all inputs, one float. It is 0 exactly when all units have identical incoming weights.

# %% nbgrader={"grade": false, "grade_id": "max_unit_difference", "locked": false, "schema_version": 3, "solution": true}
def max_unit_difference(W):
    """max over inputs i of (max_j W[i, j] - min_j W[i, j]); 0 iff all columns are equal."""
    ### BEGIN SOLUTION
    return float(np.ptp(W, axis=1).max())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_max_unit_difference", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_max_unit_difference(max_unit_difference)

# %% [markdown]
# **The experiment.** A net 64 → 32 tanh units → 10 classes is trained for 10 epochs on the
# digits in four variants that differ only in how the two weight matrices $W_1$ (64 × 32) and
# $W_2$ (32 × 10) start: constant (every entry 0.05), all zeros, or random ($\mathcal N(0, 0.1^2)$).
# Your function then measures how different the 32 hidden units are, through their incoming
# weights (columns of $W_1$) and their outgoing weights (rows of $W_2$, hence `W2.T`).

# %%
digits = cl.data.load_digits()


def constant(c):
    return lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), c)


def random_normal(fan_in, fan_out, rng):
    return 0.1 * rng.standard_normal((fan_in, fan_out))


variants = {"W1 constant, W2 constant": (constant(0.05), constant(0.05)),
            "W1 random,   W2 zeros": (random_normal, constant(0.0)),
            "W1 constant, W2 random": (constant(0.05), random_normal),
            "W1 zeros,    W2 random": (constant(0.0), random_normal)}
for name, (init1, init2) in variants.items():
    net = cl.Sequential(cl.Linear(64, 32, init=init1, rng=cl.make_rng(6)), cl.Tanh(),
                        cl.Linear(32, 10, init=init2, rng=cl.make_rng(7)))
    hist = cl.fit(net, cl.SoftmaxCrossEntropy(), cl.SGD(net.parameters(), lr=0.5),
                  digits.X_train, digits.y_train, epochs=10, batch_size=32,
                  val=(digits.X_val, digits.y_val), rng=cl.make_rng(8), progress=False,
                  ratio_every=0)
    W1, W2 = net[0].W.data, net[2].W.data
    print(f"{name}: hidden units differ by {max_unit_difference(W1):.3f} (incoming), "
          f"{max_unit_difference(W2.T):.3f} (outgoing); output units by "
          f"{max_unit_difference(W2):.3f}; val accuracy {hist.val_acc[-1]:.2f}")

# %% [markdown]
# **Question.** Only the first variant keeps its 32 hidden units identical. (1) Explain with the
# backward pass why making *either* weight matrix random (or, in the last variant, $W_1$ all
# zeros and $W_2$ random) is enough to make the hidden units different. (2) In the first variant
# the 10 **output** units also started identical, yet they end up different. Why?

# %% [markdown] nbgrader={"grade": true, "grade_id": "symmetry_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) The gradient of hidden unit j's incoming weights is X^T (dh_j ⊙ tanh'(z_j)) with
# dh_j = Σ_k dz_k W2[j, k]. Two hidden units get the same update only if they have the same
# pre-activation z_j (same incoming weights) AND the same upstream gradient dh_j (same outgoing
# weights). With W1 random the z_j differ; with W2 random the dh_j differ, so the units'
# updates differ from the first step on, even if W1 started constant or zero (with W1 = 0 all
# h_j = tanh(0) = 0, but dh_j ≠ 0 still reaches W1 through tanh'(0) = 1). Only when both the
# incoming and the outgoing weights are equal are the units interchangeable, and then they stay
# so forever.
# (2) Output unit k's gradient is h^T (softmax_k − onehot_k): the targets treat each class
# differently, so the loss itself breaks the symmetry between output units. (Their rows in W2 —
# the weights from the identical hidden units — still agree: the outgoing spread is 0.)
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * Xavier: $\mathrm{Var}(W) = 2/(\text{fan\_in} + \text{fan\_out})$; He: $2/\text{fan\_in}$. A
#   normal init takes the square root as its std, a uniform one the bound $r = \sqrt 3\,\sigma$.
# * Each layer multiplies the activation std by about $\mathrm{std}(W)\sqrt{\text{fan\_in}}$
#   (times what the activation keeps): ten factors of 0.16 leave $10^{-8}$.
# * Units are interchangeable only when both their incoming and their outgoing weights agree;
#   random weights break the tie, the biases may start at 0.
#
# Next: the lecture [03 · Backpropagation](../notebooks/03_backpropagation.ipynb).
