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
# # Exercises 00 · Foundations
#
# **What you will practise**
#
# 1. a softmax that survives logits of ±1000;
# 2. the cross-entropy loss for integer labels **and** its gradient with respect to the logits;
# 3. the sanity value of a fresh classifier's loss — predicted first, then measured;
# 4. a standardizer that learns its statistics from the training set only.
#
# **Prerequisites.** The lecture [00 · Foundations](../notebooks/00_foundations.ipynb),
# sections 2 (outputs and losses) and 4 (preprocessing).
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

_ = cl.set_seed()          # every random draw below derives from COURSE_SEED (default 0)

# %% [markdown]
# ## Exercise 1 · A stable softmax
#
# Write `softmax(z)` for a batch of logits `z` of shape `(N, K)` (one example per row). It
# returns an array of the same shape whose row $i$ is
#
# $$\text{softmax}(z_i)_k = \frac{e^{z_{ik} - m_i}}{\sum_j e^{z_{ij} - m_i}},\qquad m_i = \max_k z_{ik}.$$
#
# Pitfalls the check looks for:
#
# * without subtracting the maximum, `np.exp(1000.)` is `inf`, and `inf / inf` is `nan`;
# * subtract **each row's** maximum: one maximum of the whole array fails when the rows have
#   very different scales;
# * `z.max(axis=1)` has shape `(N,)`; to subtract it from every column you need
#   `keepdims=True` (shape `(N, 1)`), and the same for the sum;
# * do not change `z` in place (`z -= ...` would destroy the caller's logits).

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true}
def softmax(z):
    """Row-wise softmax of logits z. Shapes: (N, K) -> (N, K)."""
    ### BEGIN SOLUTION
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_softmax", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_softmax(softmax)

# %% [markdown]
# Your function on the logits that break the naive formula; the three probabilities are those
# of the logits $(2, 1, 0)$, because only differences between logits matter:

# %%
print(softmax(np.array([[1000.0, 999.0, 998.0], [2.0, 1.0, 0.0]])))

# %% [markdown]
# ## Exercise 2 · Cross-entropy and its gradient
#
# Write `cross_entropy(z, y)` for logits `z` of shape `(N, K)` and integer labels `y` of shape
# `(N,)` with values in $\{0, \dots, K-1\}$. Return a pair `(loss, dz)`:
#
# * `loss`, one float: the mean over the batch of the negative log-probability of the gold
#   class, $L = -\frac1N \sum_i \log \text{softmax}(z_i)_{y_i}$;
# * `dz`, shape `(N, K)`: $\partial L / \partial z = \frac1N\big(\text{softmax}(z) - \text{onehot}(y)\big)$.
#
# Compute the log-probabilities with the log-sum-exp form
# $\log \text{softmax}(z)_k = (z_k - m) - \log\sum_j e^{z_j - m}$. Do **not** take `np.log` of a
# softmax: for a gold logit 1000 below the largest one the probability underflows to 0 and
# $\log 0 = -\infty$. `z[np.arange(N), y]` picks each row's gold entry, and `np.eye(K)[y]` is
# the one-hot matrix. Keep the function self-contained (do not call your `softmax`).

# %% nbgrader={"grade": false, "grade_id": "cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def cross_entropy(z, y):
    """Mean softmax cross-entropy of logits z (N, K) for labels y (N,), and dL/dz (N, K)."""
    ### BEGIN SOLUTION
    n, k = z.shape
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    dz = (np.exp(log_p) - np.eye(k)[y]) / n
    return loss, dz
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_cross_entropy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_cross_entropy(cross_entropy)

# %% [markdown]
# Two independent referees agree with your function: the library's loss and a centred-difference
# gradient (notebook 03 explains `cl.numerical_gradient`).

# %%
rng = cl.make_rng(1)
z_demo, y_demo = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
loss_demo, dz_demo = cross_entropy(z_demo, y_demo)
numeric = cl.numerical_gradient(lambda: cross_entropy(z_demo, y_demo)[0], z_demo)
print(f"loss {loss_demo:.6f} (course_lib: {cl.SoftmaxCrossEntropy()(z_demo, y_demo):.6f}); "
      f"relative error of dz: {cl.rel_error(dz_demo, numeric):.1e}")

# %% [markdown]
# ## Exercise 3 · Predict, then measure: the loss of a fresh classifier
#
# A 10-class classifier (64 → 100 ReLU units → 10) has just been built. Its last layer is scaled
# down so that all ten logits start close to 0. **Before running anything**, predict its mean
# cross-entropy on the digits training set and write the prediction below as a number or a
# NumPy expression (for example `predicted_loss = 1.5`). Think: which probability does the
# network give the gold class?

# %% nbgrader={"grade": false, "grade_id": "initial_loss_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
predicted_loss = np.log(10)      # uniform probabilities 1/10: -log(1/10) = ln 10
### END SOLUTION

# %% [markdown]
# Now the measurement (nothing to write here):

# %%
digits = cl.data.load_digits()
net = cl.Sequential(cl.Linear(64, 100, rng=cl.make_rng(1)), cl.ReLU(), cl.Linear(100, 10, rng=cl.make_rng(2)))
net[2].W.data *= 0.01                              # a small last layer: logits close to 0
measured_loss = cl.SoftmaxCrossEntropy()(net.forward(digits.X_train), digits.y_train)
print(f"measured initial loss: {measured_loss:.4f}")

# %% nbgrader={"grade": true, "grade_id": "check_initial_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_initial_loss(predicted_loss)

# %% [markdown]
# **Question.** A colleague builds a fresh 10-class classifier the same way and reports an
# initial loss of **1.0**, well *below* the value you predicted. Nothing has been trained yet.
# Give two different explanations of how that can happen, and say how you would tell them apart.

# %% [markdown] nbgrader={"grade": true, "grade_id": "initial_loss_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# A classifier that gives every class probability 1/10 has loss −ln(1/10) = ln 10 ≈ 2.30 on
# any labels, and an untrained one cannot be systematically better, so 1.0 points at the loss
# computation or at the word "fresh". (1) The loss uses the wrong logarithm: log10(10) = 1.0
# exactly. (2) The model is not fresh: trained weights were loaded (or the optimizer already
# took steps before the loss was recorded). A third suspect is any other bug in the loss's
# bookkeeping, such as dividing the summed loss by more than N terms.
# To tell them apart, feed the loss function all-zero logits for a few examples: a correct
# loss returns exactly ln 10 = 2.3026, the log10 version 1.0, a wrong divisor something else.
# If the loss passes that test, rebuild the model from scratch and evaluate it again.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 4 · A standardizer fitted on the training set
#
# Write a class `Standardize` with two methods:
#
# * `fit(X)` with `X` of shape `(N, D)`: compute and store the per-feature (per-column) mean
#   and standard deviation of `X`, then `return self`. Use the population std, `X.std(axis=0)`
#   (NumPy's default `ddof=0`). A feature whose std is 0 (below `1e-8`) gets std **1**, so it is
#   only centred; dividing by 0 gives `nan`, and dividing by a tiny epsilon blows up any test
#   value that differs from the constant.
# * `transform(X)`: return a new array `(X - mean) / std` using the **stored** training
#   statistics, whatever data is passed in (training, validation or test).
#
# The whole point: statistics come from the training set only. A `transform` that recomputes the
# mean and std of the data it is given leaks information from the test set.

# %% nbgrader={"grade": false, "grade_id": "standardize", "locked": false, "schema_version": 3, "solution": true}
class Standardize:
    """Per-feature (x - mean) / std with statistics from the data passed to fit."""

    def fit(self, X):
        ### BEGIN SOLUTION
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 1e-8, std, 1.0)
        return self
        ### END SOLUTION

    def transform(self, X):
        ### BEGIN SOLUTION
        return (X - self.mean) / self.std
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_standardize", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_standardize(Standardize)

# %% [markdown]
# Your standardizer on the digits. On the training set every varying pixel has mean 0 and std 1;
# on the validation set it does not, and should not: those pixels were transformed with the
# training statistics, exactly as tomorrow's data will be.

# %%
scaler = Standardize().fit(digits.X_train)
Z_train, Z_val = scaler.transform(digits.X_train), scaler.transform(digits.X_val)
varying = digits.X_train.std(axis=0) > 1e-8
print(f"train: max |mean| {np.abs(Z_train.mean(axis=0)).max():.1e}, "
      f"std of varying pixels in [{Z_train[:, varying].std(axis=0).min():.3f}, "
      f"{Z_train[:, varying].std(axis=0).max():.3f}]")
print(f"validation: max |mean| {np.abs(Z_val.mean(axis=0)).max():.2f}, "
      f"largest |value| {np.abs(Z_val).max():.1f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(Z_val[:, varying].mean(axis=0), bins=30)
ax.set(xlabel="mean of a standardized pixel on the validation set", ylabel="pixels",
       title="validation statistics stay close to, but not at, 0")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Wrap-up
#
# * Softmax and its logarithm are computed after subtracting each row's maximum; the cross-entropy
#   uses log-sum-exp, never `log(softmax(z))`.
# * The gradient of the mean softmax cross-entropy is $(\text{softmax}(z) - \text{onehot}(y))/N$:
#   prediction minus target, averaged.
# * A fresh $K$-class classifier with a small last layer starts at $\ln K$; a value far above or
#   below it is a bug report.
# * Preprocessing statistics are fitted on the training set and then applied, unchanged, to every
#   other set.
#
# Next: the lecture [01 · Activation functions](../notebooks/01_activations.ipynb).
