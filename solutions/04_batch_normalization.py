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
# 3. the same backward pass derived node by node on the computational graph;
# 4. the $\gamma$ and $\beta$ that make BatchNorm give back its input;
# 5. predicting, by hand, how one example's output depends on the rest of its batch in
#    training mode and in evaluation mode — and what that means for a deployed model.
#
# **Prerequisites.** The lecture [04 · Batch normalization](../notebooks/04_batch_normalization.ipynb),
# sections 1 (the transform, and γ, β undoing it), 3 (training vs evaluation mode, the running
# statistics) and 4 (the backward pass, node by node and compact). Notation as there: a
# mini-batch $x$ of shape $(N, D)$, statistics per feature (column).
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

_ = cl.set_seed()                  # every random draw below derives from COURSE_SEED
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
lin = cl.Linear(64, 16, rng=cl.make_rng(1))
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
rng = cl.make_rng(4)
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
# ## Exercise 3 · The backward pass, node by node
#
# The compact formula of exercise 2 is the end of a derivation. Here you do the derivation
# itself, as in section 4 of the lecture: the training-mode forward pass is written as a chain
# of elementary nodes (given below), and you walk the chain backwards, computing the gradient
# of the loss with respect to every node from the gradients of the nodes it feeds.
#
# | node | forward | shape |
# |---|---|---|
# | `mu` | $\frac1N\sum_i x_i$ | $(D,)$ |
# | `xc` | $x - \mu$ | $(N, D)$ |
# | `var` | $\frac1N\sum_i x_{c,i}^2$ | $(D,)$ |
# | `std` | $\sqrt{\mathrm{var}+\varepsilon}$ | $(D,)$ |
# | `inv` | $1/\mathrm{std}$ | $(D,)$ |
# | `x_hat` | $x_c\cdot\mathrm{inv}$ | $(N, D)$ |
# | `y` | $\gamma\,\hat x + \beta$ | $(N, D)$ |
#
# Write `batchnorm_backward_staged(dout, cache)`, where `dout` $=\partial L/\partial y$ has
# shape $(N, D)$ and `cache` is the dict returned by `batchnorm_forward_staged`. It returns a
# dict `grads` with one entry per node, the gradient of the loss with respect to that node,
# filled in the order of the backward pass: `"beta"`, `"gamma"`, `"x_hat"`, `"inv"`, `"std"`,
# `"var"`, `"xc"`, `"mu"`, `"x"`. Each gradient has the shape of its node. Three rules do the
# bookkeeping:
#
# * a value **broadcast** to every example in the forward pass ($\mu$, inv, $\gamma$,
#   $\beta$) gets the **sum over the batch** (`axis=0`) of the gradients coming back;
# * a **mean over the batch** ($\mu$, var) gives every example $\frac1N$ of its node's
#   gradient, times the local derivative of what is averaged;
# * a node that feeds **two** nodes (`xc` feeds `x_hat` and `var`; `x` feeds `xc` and `mu`)
#   gets the **sum** of the gradients of both paths.
#
# The check compares your nodes one by one, in the order above, and names the first one that
# is wrong.

# %%
def batchnorm_forward_staged(x, gamma, beta, eps=1e-5):
    """Training-mode BatchNorm as named nodes. Shapes: x (N, D); gamma, beta (D,).
    Returns (y, cache), cache a dict with the input, every node, gamma, beta and eps."""
    n = len(x)                           # the batch size N
    mu = x.sum(axis=0) / n               # (D,)   a mean over the batch
    xc = x - mu                          # (N, D) mu broadcast to every example
    var = (xc ** 2).sum(axis=0) / n      # (D,)   the biased variance
    std = np.sqrt(var + eps)             # (D,)
    inv = 1.0 / std                      # (D,)
    x_hat = xc * inv                     # (N, D) inv broadcast to every example
    y = gamma * x_hat + beta             # (N, D)
    cache = {"x": x, "mu": mu, "xc": xc, "var": var, "std": std, "inv": inv, "x_hat": x_hat,
             "gamma": gamma, "beta": beta, "eps": eps}
    return y, cache


# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward_staged", "locked": false, "schema_version": 3, "solution": true}
def batchnorm_backward_staged(dout, cache):
    """The gradient of the loss with respect to every node of batchnorm_forward_staged.
    Shapes: dout (N, D). Returns a dict: beta, gamma (D,), x_hat (N, D), inv, std, var (D,),
    xc (N, D), mu (D,), x (N, D)."""
    grads = {}
    ### BEGIN SOLUTION
    n = dout.shape[0]
    xc, std, inv, x_hat, gamma = cache["xc"], cache["std"], cache["inv"], cache["x_hat"], cache["gamma"]
    grads["beta"] = dout.sum(axis=0)                       # beta broadcast: sum over the batch
    grads["gamma"] = (dout * x_hat).sum(axis=0)            # gamma broadcast, local gradient x_hat
    grads["x_hat"] = dout * gamma
    grads["inv"] = (grads["x_hat"] * xc).sum(axis=0)       # inv broadcast, local gradient xc
    grads["std"] = -grads["inv"] / std ** 2                # d(1/std) = -1/std^2
    grads["var"] = grads["std"] / (2.0 * std)              # d sqrt(var + eps) = 1 / (2 std)
    # two paths into xc: through x_hat, and through var = mean(xc^2)
    grads["xc"] = grads["x_hat"] * inv + grads["var"] * 2.0 * xc / n
    grads["mu"] = -grads["xc"].sum(axis=0)                 # mu broadcast with a minus sign
    grads["x"] = grads["xc"] + grads["mu"] / n             # two paths into x: xc, and mu = mean(x)
    ### END SOLUTION
    return grads


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_backward_staged", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_batchnorm_backward_staged(batchnorm_backward_staged)

# %% [markdown]
# Your graph against your compact formula of exercise 2, on the batch of exercise 2's
# gradient check: the two derivations give the same gradient, up to rounding.

# %%
_, staged_cache = batchnorm_forward_staged(x_small, gamma_s, beta_s)
staged = batchnorm_backward_staged(dout, staged_cache)
_, compact_cache, _, _ = batchnorm_forward(x_small, gamma_s, beta_s, zeros, ones, training=True)
dx_c, dgamma_c, dbeta_c = batchnorm_backward(dout, compact_cache)
print(f"staged vs compact, relative error: dx {cl.rel_error(staged['x'], dx_c):.1e}, "
      f"dgamma {cl.rel_error(staged['gamma'], dgamma_c):.1e}, dbeta {cl.rel_error(staged['beta'], dbeta_c):.1e}")

# %% [markdown]
# ## Exercise 4 · γ and β that undo the normalization
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
# ## Exercise 5 · Predict, then measure: one example, two batches, two modes
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
# observations with what you measured in exercise 5. What does `model.eval()` guarantee?

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
# * On the graph: broadcast forward means sum over the batch backward, a mean forward means
#   $\frac1N$ to every example backward, and a node that feeds two nodes adds both paths; the
#   node-by-node gradient equals the compact formula.
# * $\gamma = \sqrt{\sigma_B^2 + \varepsilon}$, $\beta = \mu_B$ give back the input: BN costs no
#   expressive power.
#
# Next: the lecture [05 · Dropout](../notebooks/05_dropout.ipynb).
