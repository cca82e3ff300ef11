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
# # Exercises 04 · Batch normalization
#
# **What you will practise**
#
# 1. the BatchNorm forward pass in both modes: batch statistics and PyTorch's running
#    averages in training, the running statistics in evaluation;
# 2. the backward pass in its compact form, verified against a numerical gradient;
# 3. the $\gamma$ and $\beta$ that make BatchNorm give back its input;
# 4. predicting, by hand, how one example's output depends on the rest of its batch in
#    training mode and in evaluation mode — and what that means for a deployed model.
#
# **Prerequisites.** The lecture [04 · Batch normalization](../notebooks/04_batch_normalization.ipynb),
# sections 1 (the transform, and γ, β undoing it), 3 (training vs evaluation mode, the running
# statistics) and 4 (the backward pass). Notation as there: a mini-batch $x$ of shape
# $(N, D)$, statistics per feature (column).
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

_ = cl.set_seed(0)
X_train, y_train, X_val, y_val, X_test, y_test = cl.data.load_digits()

# %% [markdown]
# ## Exercise 1 · The forward pass, in both modes
#
# Write `batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5)`
# for a batch `x` of shape $(N, D)$ and per-feature arrays `gamma`, `beta`, `running_mean`,
# `running_var` of shape $(D,)$. It returns the tuple
# `(out, cache, new_running_mean, new_running_var)`.
#
# * **Training** (`training=True`): normalize with the statistics of the batch, per feature
#   (`axis=0`): the mean $\mu_B$ and the **biased** variance $\sigma_B^2$ (divide by $N$,
#   `x.var(axis=0)`). Update the running statistics as PyTorch does, with `momentum` the
#   weight of the **new** value:
#
#   $$\text{running\_mean} \leftarrow (1-m)\,\text{running\_mean} + m\,\mu_B, \qquad
#     \text{running\_var} \leftarrow (1-m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma_B^2 ,$$
#
#   the running variance being fed the **unbiased** batch variance.
# * **Evaluation** (`training=False`): normalize with `running_mean` and `running_var`, and
#   return them unchanged.
#
# In both modes $\hat x = (x - \mu)\cdot \text{inv\_std}$ with
# $\text{inv\_std} = 1/\sqrt{\sigma^2 + \varepsilon}$ (ε **inside** the square root), and
# $\text{out} = \gamma\,\hat x + \beta$. The cache is the tuple `(x_hat, gamma, inv_std)`: exactly what
# the backward pass of exercise 2 needs.
#
# Do not modify the arguments in place (no `running_mean *= ...`): compute and return new
# arrays, so that the function is pure and the caller decides what to keep.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_forward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """BatchNorm over the batch axis. Shapes: x (N, D); gamma, beta, running_* (D,).
    Returns (out (N, D), cache = (x_hat, gamma, inv_std), running_mean, running_var)."""
    ### BEGIN SOLUTION
    if training:
        n = x.shape[0]
        mu = x.mean(axis=0)
        var = x.var(axis=0)                       # biased: standardizes THIS batch
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mu, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std), running_mean, running_var
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_batchnorm_forward(batchnorm_forward)

# %% [markdown]
# Your function against `cl.BatchNorm1d` (which follows PyTorch): three training batches of
# pre-activations of a `Linear(64, 16)` layer, then a validation batch in evaluation mode.

# %%
lin = cl.Linear(64, 16, rng=1)
bn = cl.BatchNorm1d(16)
gamma, beta = np.ones(16), np.zeros(16)
run_mean, run_var = np.zeros(16), np.ones(16)          # the initial buffers
for i in range(3):
    xb = lin.forward(X_train[64 * i: 64 * (i + 1)])
    out_mine, _, run_mean, run_var = batchnorm_forward(xb, gamma, beta, run_mean, run_var, training=True)
    print(f"training batch {i}: max |yours - BatchNorm1d| = {np.abs(out_mine - bn.forward(xb)).max():.1e}")
print(f"running statistics: {np.abs(run_mean - bn.running_mean).max():.1e} (mean), "
      f"{np.abs(run_var - bn.running_var).max():.1e} (var)")
bn.eval()
xv = lin.forward(X_val[:10])
out_eval = batchnorm_forward(xv, gamma, beta, run_mean, run_var, training=False)[0]
print(f"evaluation mode: max |yours - BatchNorm1d| = {np.abs(out_eval - bn.forward(xv)).max():.1e}")

# %% [markdown]
# ## Exercise 2 · The backward pass
#
# Write `batchnorm_backward(dout, cache)` for **training mode**, where `cache = (x_hat, gamma, inv_std)`
# comes from your forward pass and `dout` $= \partial L/\partial\,\text{out}$ has shape
# $(N, D)$. Return `(dx, dgamma, dbeta)`:
#
# $$\mathrm{d}\beta = \sum_i \mathrm{d}\text{out}_i, \qquad
#   \mathrm{d}\gamma = \sum_i \mathrm{d}\text{out}_i\,\hat x_i, \qquad
#   \mathrm{d}x_i = \frac{\text{inv\_std}}{N}\Big(N g_i - \sum_k g_k - \hat x_i \sum_k g_k \hat x_k\Big),
#   \quad g = \mathrm{d}\text{out}\cdot\gamma ,$$
#
# every sum over the batch (`axis=0`), so that `dgamma` and `dbeta` have shape $(D,)$. The two
# subtracted terms are the paths through $\mu_B$ and $\sigma_B^2$, which depend on every
# example: leaving them out treats the batch statistics as constants, which is right only in
# evaluation mode. Mind the factor $N$: once in front of $g_i$, once in the denominator.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_backward(dout, cache):
    """Training-mode BatchNorm gradients. Shapes: dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,)."""
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_batchnorm_backward(batchnorm_backward)

# %% [markdown]
# Your pair of functions under a gradient check (centred differences, as in notebook 03), on a
# small off-centre batch with random $\gamma$ and $\beta$. The last line shows a consequence
# of the two subtracted terms: for every feature, $\mathrm{d}x$ sums to zero over the batch.

# %%
rng = np.random.default_rng(4)
x_small = 3.0 + 2.0 * rng.standard_normal((8, 5))
gamma_s, beta_s = rng.uniform(0.5, 1.5, 5), rng.standard_normal(5)
dout = rng.standard_normal((8, 5))
zeros, ones = np.zeros(5), np.ones(5)


def forward_out():
    return batchnorm_forward(x_small, gamma_s, beta_s, zeros, ones, training=True)[0]


_, cache, _, _ = batchnorm_forward(x_small, gamma_s, beta_s, zeros, ones, training=True)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
for name, analytic, wrt in (("dx", dx, x_small), ("dgamma", dgamma, gamma_s), ("dbeta", dbeta, beta_s)):
    numeric = cl.numerical_gradient(forward_out, wrt, dout)    # perturbs wrt in place, then restores it
    print(f"{name:6s} relative error {cl.rel_error(analytic, numeric):.1e}")
print(f"largest |sum of dx over the batch|: {np.abs(dx.sum(axis=0)).max():.1e}")

# %% [markdown]
# ## Exercise 3 · γ and β that undo the normalization
#
# Write `identity_params(x, eps=1e-5)` returning `(gamma, beta)`, each of shape $(D,)$, such
# that BatchNorm in training mode applied to the batch `x` returns `x` itself (up to rounding).
# Think about which operation each parameter has to undo: $\beta$ the subtraction, $\gamma$
# the division — including the ε that went into it.

# %% nbgrader={"grade": false, "grade_id": "bn_identity", "locked": false, "schema_version": 3, "solution": true}
def identity_params(x, eps=1e-5):
    """gamma, beta (D,) with which training-mode BatchNorm maps the batch x (N, D) to itself."""
    ### BEGIN SOLUTION
    gamma = np.sqrt(x.var(axis=0) + eps)        # undoes the division by sqrt(var + eps)
    beta = x.mean(axis=0)                       # puts the batch mean back
    return gamma, beta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bn_identity", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_bn_identity(identity_params)

# %% [markdown]
# The identity is exact for the batch the parameters were computed from. On the **next**
# batch, with its own $\mu_B$ and $\sigma_B$, the same fixed $\gamma$ and $\beta$ only undo the
# normalization approximately. That is enough: the network can represent the identity on
# average, and training moves $\gamma, \beta$ wherever they help.

# %%
x1 = lin.forward(X_train[:64])
x2 = lin.forward(X_train[64:128])
g_id, b_id = identity_params(x1)
same = batchnorm_forward(x1, g_id, b_id, np.zeros(16), np.ones(16), training=True)[0]
other = batchnorm_forward(x2, g_id, b_id, np.zeros(16), np.ones(16), training=True)[0]
print(f"same batch:  max |BN(x) - x| = {np.abs(same - x1).max():.1e}")
print(f"next batch:  mean |BN(x) - x| = {np.abs(other - x2).mean():.3f}, "
      f"against a mean |x - mean(x)| of {np.abs(x2 - x2.mean(axis=0)).mean():.3f}")

# %% [markdown]
# ## Exercise 4 · Predict, then measure: one example, two batches, two modes
#
# A BatchNorm layer with **one** feature, $\gamma = 1$, $\beta = 0$, $\varepsilon = 10^{-5}$
# (negligible here), whose running statistics after training are `running_mean = 1.0` and
# `running_var = 4.0`. The example $x = 2$ arrives in one of two batches of four:
#
# * batch A $= [2, 0, 0, 0]$,
# * batch B $= [2, 4, 4, 4]$.
#
# **Before measuring**, work out by hand the layer's output for the example $x = 2$ (the
# first entry) in each batch, in training mode and in evaluation mode, and assign the four
# numbers (or NumPy expressions) to `train_A`, `train_B`, `eval_A`, `eval_B`. Recall which
# statistics each mode uses, and which variance.

# %% nbgrader={"grade": false, "grade_id": "batch_dependence", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
# batch A: mean 0.5, biased variance (1.5**2 + 3 * 0.5**2) / 4 = 0.75
train_A = (2 - 0.5) / np.sqrt(0.75)          # +sqrt(3): the example is above its batch's mean
# batch B: mean 3.5, the same variance 0.75
train_B = (2 - 3.5) / np.sqrt(0.75)          # -sqrt(3): now it is below
# evaluation mode: the running statistics, whatever else is in the batch
eval_A = eval_B = (2 - 1.0) / np.sqrt(4.0)
### END SOLUTION

# %% [markdown]
# The measurement, with your `batchnorm_forward` and with `cl.BatchNorm1d`:

# %%
batches = {"A": np.array([[2.0], [0.0], [0.0], [0.0]]), "B": np.array([[2.0], [4.0], [4.0], [4.0]])}
predicted = {("train", "A"): train_A, ("train", "B"): train_B, ("eval", "A"): eval_A, ("eval", "B"): eval_B}
for (mode, name), pred in predicted.items():
    batch = batches[name]
    mine = batchnorm_forward(batch, np.ones(1), np.zeros(1), np.ones(1), np.full(1, 4.0),
                             training=(mode == "train"))[0][0, 0]
    layer = cl.BatchNorm1d(1)
    layer.running_mean[:], layer.running_var[:] = 1.0, 4.0
    layer.train(mode == "train")
    print(f"{mode:5s} mode, batch {name}: predicted {float(pred):+.4f}, your function {mine:+.4f}, "
          f"BatchNorm1d {layer.forward(batch)[0, 0]:+.4f}")

# %% nbgrader={"grade": true, "grade_id": "check_batch_dependence", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_batch_dependence(train_A, train_B, eval_A, eval_B)

# %% [markdown]
# **Question.** A digits classifier with BatchNorm reaches the same validation accuracy whether
# or not `model.eval()` is called before predicting, because the validation set is shuffled and
# evaluated in batches of 64. On the test set, which is stored sorted by class and evaluated in
# batches of 64 as well, the version without `model.eval()` drops to near chance. Explain both
# observations with what you measured in exercise 4. What does `model.eval()` guarantee?

# %% [markdown] nbgrader={"grade": true, "grade_id": "batch_dependence_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# Without `model.eval()` every BN layer normalizes an example with the mean and variance of the
# batch it arrives in, so its output depends on its companions: the same x = 2 gave +1.73 in
# batch A and −1.73 in batch B. In a shuffled batch of 64 the batch statistics are close to the
# statistics of the whole training distribution, which the running averages estimate, so the
# outputs (and the accuracy) hardly change, and the bug stays hidden. In a batch sorted by
# class, all 64 examples are, say, zeros: the batch mean absorbs what makes them zeros and the
# network only sees how each zero differs from the other zeros, so its predictions are wrong.
# `model.eval()` makes every BN layer use its running statistics, fixed numbers, so each
# prediction depends on its own input only — the same answer in any batch, also in a batch of
# one (0.5 in A and in B above).
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * Training mode: batch mean and **biased** variance per feature, ε inside the square root;
#   the running averages move by `momentum` (the weight of the new value, 0.1 in PyTorch)
#   towards the batch mean and the **unbiased** batch variance.
# * Evaluation mode: the running statistics, frozen; a prediction no longer depends on the
#   batch.
# * Backward: $\mathrm{d}\gamma, \mathrm{d}\beta$ sum over the batch; $\mathrm{d}x$ has the two
#   extra terms through $\mu_B$ and $\sigma_B^2$, and sums to zero per feature.
# * $\gamma = \sqrt{\sigma_B^2 + \varepsilon}$, $\beta = \mu_B$ give back the input: BN costs no
#   expressive power.
#
# Next: the lecture [05 · Dropout](../notebooks/05_dropout.ipynb).
