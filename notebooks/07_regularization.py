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
# # 07 · Regularization and generalization
#
# A network is trained on one set of examples and used on others. Low training loss is easy
# to get: a big enough network can memorize its training set, wrong labels included. What we
# want is low error on examples it has never seen, and that is a different quantity. This
# notebook is about the gap between the two and about the tools that shrink it: weight
# penalties, weight constraints, early stopping, noise and augmentation, label smoothing and
# ensembles. We also look at one tool that sounds sensible and usually is not: making the
# network smaller. Every tool is tried on real digits and every claim is checked by an
# `assert`, including the claims where a tool did *not* help.
#
# **Learning objectives.** After this notebook you can
#
# 1. define the generalization gap, read it off a capacity sweep, and split the expected test
#    error into bias², variance and noise;
# 2. say what counts as regularization, and why the weights are penalized but the biases are not;
# 3. derive weight decay from the L2 penalty and the L2 penalty from a Gaussian prior (MAP);
# 4. explain why L1 gives sparse weights and L2 does not, and use L1 to find uninformative inputs;
#    combine both as an elastic net;
# 5. apply a max-norm constraint, early stopping with patience, input noise and data augmentation,
#    and label smoothing, and say what each one does and does not fix;
# 6. compute how much averaging $n$ models reduces the variance, and build ensembles from seeds
#    and snapshots;
# 7. argue why you should regularize a big network instead of training a small one.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (train/validation/test splits,
# softmax cross-entropy), [03 Backpropagation](03_backpropagation.ipynb) (gradients),
# [05 Dropout](05_dropout.ipynb) (the first regularizer of the course, and its noisy-label
# experiment), [06 Optimizers](06_optimizers.ipynb) (SGD with momentum, L2 vs decoupled weight
# decay).
#
# **Estimated time.** 90 minutes.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.functional import softmax
from course_lib.widgets import regularization as rw

threadpool_limits(1)     # our matrices are small: one BLAS thread is fastest, extra ones only compete
_ = cl.set_seed(0)       # the course's default generator; everything random below also gets rng=

# %% [markdown]
# ## 1. Generalization: the gap, capacity, bias and variance
#
# The **training error** is the average loss on the examples we fit. The **generalization
# error** is the expected loss on a fresh example from the same distribution; we estimate it on
# a held-out validation set (notebook 00). Their difference is the **generalization gap**:
#
# $$\text{gap} = \underbrace{\mathbb{E}_{(x, y)}\,\ell(\hat y(x), y)}_{\text{generalization error}} - \underbrace{\tfrac1N \textstyle\sum_{n} \ell(\hat y(x_n), y_n)}_{\text{training error}} .$$
#
# The gap grows with the **capacity** of the model (how many different functions it can
# represent) and shrinks with the amount of data. The cleanest place to watch this is a 1-D
# regression. We take 20 evenly spaced inputs on $[-1, 1]$, targets
# $y = f(x) + \varepsilon$ with $f(x) = 2 + \sin \pi x$ and noise $\varepsilon \sim \mathcal N(0, 0.3^2)$,
# and fit least-squares polynomials of degree 0 to 15. A polynomial of degree $d$ has $d + 1$
# coefficients, so the degree is the capacity knob.

# %%
degrees = np.arange(16)
train_mse, val_mse = rw.capacity_sweep(degrees)
bv = rw.bias_variance(degrees)          # 300 training sets, each with fresh noise
noise_var = rw.CURVE_NOISE ** 2
for d in (0, 1, 3, 5, 9, 13, 15):
    print(f"degree {d:2d}: train MSE {train_mse[d]:.3f}, validation MSE {val_mse[d]:.3f}, "
          f"gap {val_mse[d] - train_mse[d]:.3f} | bias² {bv['bias2'][d]:.4f}, "
          f"variance {bv['variance'][d]:.3f}")

best = int(np.argmin(val_mse))
assert np.all(np.diff(train_mse) <= 1e-12)                # more capacity never fits the training set worse
assert 3 <= best <= 12                                     # validation error: a U, minimum in the middle
assert val_mse[0] > 3 * val_mse[best] and val_mse[-1] > 2.5 * val_mse[best]
assert train_mse[-1] < noise_var < val_mse[-1]             # degree 15 fits *below* the noise level: it fits noise
assert bv["bias2"][5] < 0.01 * bv["bias2"][1]              # bias falls with capacity ...
assert np.all(np.diff(bv["variance"]) > 0)                 # ... variance rises at every step
decomposed = bv["bias2"] + bv["variance"] + noise_var
assert np.all(np.abs(bv["error"] - decomposed) < 0.03 * bv["error"])   # error = bias² + variance + σ²

# %% [markdown]
# The training error falls with every extra degree; a nested family of models can only fit
# better. The validation error falls, flattens, and rises again: a U. At degree 15 the
# training MSE (about 0.013) is far *below* the noise variance $0.09$. The true function
# itself would score about 0.09 on these points, so anything much lower has fitted the noise.
# The polynomial has memorized it, and pays on new data.
#
# The columns on the right explain the U. Imagine drawing many training sets (same $x$, new
# noise) and fitting each one. Write $\bar y(x)$ for the average fit. Then, at every $x$,
#
# $$\mathbb{E}\big[(\hat y(x) - y)^2\big] = \underbrace{\big(\bar y(x) - f(x)\big)^2}_{\text{bias}^2} + \underbrace{\mathbb{E}\big[(\hat y(x) - \bar y(x))^2\big]}_{\text{variance}} + \underbrace{\sigma^2}_{\text{noise}} .$$
#
# **Bias** is the error of the *average* model: a straight line cannot follow a sine however
# much data it gets. **Variance** is how much the fit moves when the training set changes: a
# degree-15 polynomial chases every noise sample, so it looks different on every draw. More
# capacity trades bias for variance. The asserts above check that the three terms add up to
# the measured error within 3% (the remaining difference is sampling error of the 300 draws).
# The same sampling error explains the small rise of bias² at degrees 14–15 in the figure
# below: the average of 300 very jumpy fits still carries about variance/300 of noise.

# %%
xs = np.linspace(-1, 1, 300)
x20, y20 = rw.curve_data(20, grid=True)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
ax = axes[0]
ax.plot(x20, y20, "ko", ms=4, label="training data")
ax.plot(xs, rw.true_function(xs), "k--", lw=1, label="true $f(x)$")
for d, color in ((1, "tab:blue"), (5, "tab:green"), (15, "tab:red")):
    ax.plot(xs, rw.predict_poly(rw.fit_poly(x20, y20, d), xs), color=color, label=f"degree {d}")
ax.set(xlabel="x", ylabel="y", ylim=(0.3, 3.8), title="underfit, about right, overfit")
ax.legend(fontsize=8, ncol=2, loc="lower center")
ax = axes[1]
ax.semilogy(degrees, train_mse, "o-", ms=4, label="training MSE")
ax.semilogy(degrees, val_mse, "o-", ms=4, label="validation MSE")
ax.semilogy(degrees, bv["bias2"], "--", label="bias²")
ax.semilogy(degrees, bv["variance"], "--", label="variance")
ax.axhline(noise_var, color="0.5", lw=0.8, ls=":", label="noise σ²")
ax.set(xlabel="polynomial degree (capacity)", ylabel="mean squared error (log scale)",
       title="train error falls, validation error is a U")
ax.legend(fontsize=8, ncol=2, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What counts as regularization
#
# We could pick the degree by validation error, and for polynomials that is fine. For
# networks the better recipe is different: keep the big model and **change the training
# procedure** so that it prefers simpler functions. Any change that is meant to lower the
# generalization error *without* aiming at a lower training error counts as **regularization**.
# Usually the training error even goes up a little. Here is the oldest example, a penalty on the
# size of the coefficients (ridge regression), applied to the degree-15 polynomial:
#
# $$\min_c\; \frac1N \sum_{n=1}^N (\hat y(x_n) - y_n)^2 + \frac{\lambda}{2} \sum_{k=1}^{15} c_k^2, \qquad \hat y(x) = \sum_{k=0}^{15} c_k P_k(x),$$
#
# where the $P_k$ are polynomials of degree $k$ (Legendre polynomials, which are numerically
# better behaved than the powers $x^k$ and span the same functions).

# %%
lams = np.logspace(-8, 0, 17)
xv, yv = rw.curve_data(1000, rng=1)
ridge = np.array([[np.mean((rw.predict_poly(rw.fit_poly(x20, y20, 15, lam), x) - y) ** 2)
                   for x, y in ((x20, y20), (xv, yv))] for lam in lams])
k = int(np.argmin(ridge[:, 1]))
print(f"degree 15, λ = {lams[0]:.0e}: train {ridge[0, 0]:.3f}, validation {ridge[0, 1]:.3f}")
print(f"degree 15, λ = {lams[k]:.0e}: train {ridge[k, 0]:.3f}, validation {ridge[k, 1]:.3f}  (best λ)")
assert np.all(np.diff(ridge[:, 0]) >= -1e-12)                # training error only goes up with λ ...
assert ridge[k, 1] < 0.5 * ridge[0, 1] and 0 < k < len(lams) - 1   # ... validation error drops, then rises

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(lams, ridge[:, 0], "o-", ms=4, label="training MSE")
ax.loglog(lams, ridge[:, 1], "o-", ms=4, label="validation MSE")
ax.axvline(lams[k], color="0.6", lw=0.8, ls=":")
ax.set(xlabel="penalty strength λ (log scale)", ylabel="MSE (log scale)",
       title="degree-15 polynomial with an L2 penalty")
ax.set_yticks([0.02, 0.05, 0.1, 0.2, 0.5], labels=["0.02", "0.05", "0.1", "0.2", "0.5"])
ax.yaxis.set_minor_formatter(plt.NullFormatter())
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The penalty costs training error at every $\lambda$, and buys validation error: at the
# best $\lambda$ it is about a third of the unpenalized value. Too much penalty underfits
# again, so $\lambda$ is a hyperparameter chosen on the validation set.
#
# ### Penalize the weights, usually not the biases
#
# The penalty above left out one coefficient (its sum starts at $k = 1$): the constant term
# $c_0$, the polynomial's *intercept* or bias. A penalty expresses a preference for simpler
# functions. A large weight makes the output react strongly to its input, so it matters for
# how wiggly the function is; the intercept only shifts the curve up or down and says nothing
# about wiggliness. Shrinking it towards 0 pulls every prediction towards an arbitrary value. Biases are also cheap in
# variance: each is one number per unit, estimated from all $N$ examples. Watch what happens
# when the intercept is penalized too, on our data with its baseline of 2:

# %%
lam = 1.0
err = {pen: np.mean((rw.predict_poly(rw.fit_poly(x20, y20, 15, lam, penalize_intercept=pen), xv) - yv) ** 2)
       for pen in (False, True)}
print(f"λ = {lam:g}: validation MSE {err[False]:.3f} with the intercept free, "
      f"{err[True]:.3f} with it penalized")
assert err[True] > 1.5 * err[False]

# %% [markdown]
# In a network the same reasoning applies to every bias vector (and to BatchNorm's $\beta$ and
# $\gamma$). `cl.L2`, `cl.L1` and `cl.ElasticNet` therefore penalize only the weight matrices by
# default (`include_biases=False`). Check it on a small MLP whose biases we set to 1:

# %%
net = rw.make_mlp()
for p in net.parameters():
    if p.name == "b":
        p.data[...] = 1.0
pen = cl.L2(0.01)
by_hand = 0.5 * 0.01 * sum(np.sum(layer.W.data ** 2) for layer in net if isinstance(layer, cl.Linear))
net.zero_grad()
pen.add_grad(net)
for name, p in net.named_parameters():
    print(f"  {name:4s} {str(p.shape):10s} penalty gradient max |.| = {np.abs(p.grad).max():.4f}")
assert abs(pen.value(net) - by_hand) < 1e-12
assert all(np.allclose(p.grad, 0.01 * p.data) if p.name == "W" else np.all(p.grad == 0)
           for p in net.parameters())

# %% [markdown]
# ## 2. L2 regularization and weight decay
#
# The L2 penalty adds $\frac{\lambda}{2}\|w\|^2$ (the sum of all squared weights) to the loss.
# Its gradient is simply $\lambda w$, so one SGD step with learning rate $\eta$ becomes
#
# $$w \;\leftarrow\; w - \eta\,(\nabla_w L + \lambda w) \;=\; (1 - \eta\lambda)\, w - \eta\, \nabla_w L .$$
#
# Before the usual gradient step, every weight is **multiplied** by $1 - \eta\lambda$, slightly
# less than 1: it decays towards zero, by the same *fraction* for every weight. That is why the
# L2 penalty is called **weight decay**. We check one step exactly, and also what the
# optimizer's own `weight_decay=` does:

# %%
rng = np.random.default_rng(1)
Xs, ys = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
eta, lam = 0.1, 0.05


def one_step(regularizer=None, weight_decay=0.0):
    """One SGD step of Linear(5, 3) (bias 0.5) on a fixed batch; returns (W0, b0, gW, gb, W1, b1)."""
    layer = cl.Linear(5, 3, rng=2)
    layer.b.data[...] = 0.5
    W0, b0 = layer.W.data.copy(), layer.b.data.copy()
    opt = cl.SGD(layer.parameters(), lr=eta, weight_decay=weight_decay)
    loss_fn = cl.SoftmaxCrossEntropy()
    opt.zero_grad()
    loss_fn.forward(layer.forward(Xs), ys)
    layer.backward(loss_fn.backward())
    gW, gb = layer.W.grad.copy(), layer.b.grad.copy()      # the data gradient only
    if regularizer is not None:
        regularizer.add_grad(layer)
    opt.step()
    return W0, b0, gW, gb, layer.W.data, layer.b.data


W0, b0, gW, gb, W1, b1 = one_step(regularizer=cl.L2(lam))
print(f"max |W1 - ((1 - ηλ) W0 - η gW)| = {np.abs(W1 - ((1 - eta * lam) * W0 - eta * gW)).max():.1e}")
assert np.allclose(W1, (1 - eta * lam) * W0 - eta * gW, atol=1e-15, rtol=0)   # decay, then the gradient step
assert np.allclose(b1, b0 - eta * gb, atol=1e-15, rtol=0)                     # the bias is not decayed
*_, W1o, b1o = one_step(weight_decay=lam)
assert np.allclose(W1o, W1, atol=1e-15, rtol=0)                    # SGD(weight_decay=λ): the same on W ...
assert np.allclose(b1o, (1 - eta * lam) * b0 - eta * gb, atol=1e-15, rtol=0)  # ... but it decays b too

# with no data gradient, k steps shrink a weight geometrically: w_k = (1 - ηλ)^k w_0
w = cl.Parameter(np.array([[1.0, -2.0]]))
opt = cl.SGD([w], lr=eta)
for _ in range(100):
    opt.zero_grad()
    cl.L2(lam).add_grad([w])
    opt.step()
assert np.allclose(w.data, (1 - eta * lam) ** 100 * np.array([[1.0, -2.0]]), rtol=1e-12)
print(f"after 100 steps of pure decay: w = {w.data.ravel()}, "
      f"factor (1 - ηλ)^100 = {(1 - eta * lam) ** 100:.4f}")

# %% [markdown]
# Three things to notice.
#
# * An optimizer's `weight_decay=` (ours, like PyTorch's) decays *every* parameter it is given,
#   biases included. To spare the biases in PyTorch you pass two parameter groups; in
#   `course_lib` you use a penalty object, `cl.fit(..., regularizer=cl.L2(lam))`.
# * Conventions differ by a factor of 2. Some texts write the penalty as $\lambda\|w\|^2$, with
#   gradient $2\lambda w$. PyTorch's `weight_decay=λ` adds $\lambda w$ to the gradient, which is
#   our $\frac{\lambda}{2}\|w\|^2$. Check which one a paper means before copying its $\lambda$.
# * "L2 regularization" and "weight decay" are the same thing **only for plain SGD**. (With
#   momentum they differ slightly, since the $\lambda w$ term then also passes through the
#   velocity.) In Adam, the $\lambda w$ term is divided by $\sqrt{\hat v}$ like the rest of
#   the gradient, so weights with large gradients are barely decayed. AdamW applies the decay
#   directly instead (notebook 06, section 6). Sources that use the two names interchangeably
#   for Adam are wrong.
#
# ### The Bayesian view: L2 is a Gaussian prior
#
# Read the loss as a negative log-likelihood, $L(w) = -\frac1N \sum_n \log p(y_n \mid x_n, w)$,
# and put a prior on the weights: each one independently $w_i \sim \mathcal N(0, \sigma_w^2)$.
# The **maximum a posteriori** (MAP) estimate maximizes $p(w \mid \mathcal D) \propto
# p(\mathcal D \mid w)\, p(w)$, i.e. it minimizes
#
# $$-\log p(\mathcal D \mid w) - \log p(w) \;=\; N\, L(w) + \frac{1}{2\sigma_w^2}\|w\|^2 + \text{const},$$
#
# because $-\log p(w) = \sum_i \frac{w_i^2}{2\sigma_w^2} + \text{const}$. Dividing by $N$ gives
# exactly our objective $L(w) + \frac{\lambda}{2}\|w\|^2$ with
#
# $$\lambda = \frac{1}{N \sigma_w^2} .$$
#
# A strong penalty is a narrow prior: we are confident the weights are small. And with more
# data ($N$ larger) the same prior means a smaller $\lambda$: the evidence outweighs the prior.
# The same argument with a Laplace prior $p(w_i) \propto e^{-|w_i|/b}$ gives the L1 penalty of
# the next section.
#
# ## 3. A bench where overfitting hurts, and L1
#
# To compare regularizers on real data we need a network that overfits in a way that costs
# something. As in notebook 05 we use a small training set with some wrong labels. Our bench:
#
# * a ReLU MLP 64 → 128 → 10 (about 9,600 parameters);
# * the first 300 training digits, of which 20% got a label drawn at random (right by chance
#   one time in ten); the validation set is clean;
# * 60 epochs of SGD with momentum 0.9, learning rate 0.05, mini-batches of 32;
# * losses and accuracies measured in evaluation mode after every epoch.
#
# Five regularizers (L2, L1, elastic net, max-norm, dropout) are trained on this bench at seven
# strengths each. That is the grid the explorer of section 10 shows; we train it once now and
# reuse the runs.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
n_runs = rw.precompute()
print(f"{n_runs} training runs in {time.perf_counter() - t0:.1f} s")

# %%
wrong = np.mean(rw.bench_data()[1] != rw.digits().y_train[:rw.N_TRAIN])
none = rw.train_run("none")
print(f"{100 * wrong:.0f}% of the 300 training labels are wrong")
print(f"no regularization: training accuracy {none.train_acc[-1]:.3f} (on the noisy labels), "
      f"validation accuracy {none.val_acc[-1]:.3f}; validation loss {none.val_loss.min():.3f} at its "
      f"best, {none.val_loss[-1]:.3f} at the end")
assert 0.15 < wrong < 0.2
assert none.train_acc[-1] > 0.98 and none.val_acc[-1] < 0.85   # it memorizes the wrong labels too

# %% [markdown]
# The plain network learns the noisy training labels almost perfectly. Since 17% of them
# are wrong, it has learned wrong answers, and validation accuracy stays near 0.81.
#
# ### L1: a constant pull towards zero
#
# The L1 penalty is $\lambda\|w\|_1 = \lambda \sum_i |w_i|$. Its gradient is
# $\lambda\,\mathrm{sign}(w_i)$; at $w_i = 0$, where $|w|$ has a kink, any value in
# $[-\lambda, \lambda]$ is a valid *subgradient*, and we use 0. Compare the two pulls towards zero:
#
# * L2 pulls with force $\lambda w_i$, which fades as the weight gets small. A weight is never
#   pushed all the way to 0.
# * L1 pulls with the same force $\lambda$ however small the weight is. A weight whose data
#   gradient is weaker than $\lambda$ is pushed to 0 and kept there.
#
# One weight with a quadratic data loss $\frac a2 (w - w^*)^2$ shows it in closed form. The L2
# minimizer is $w = \frac{a}{a + \lambda} w^*$, shrunk but never zero. The L1 minimizer is the
# *soft threshold* $w = \mathrm{sign}(w^*)\max(|w^*| - \lambda/a,\, 0)$, exactly zero whenever
# $|w^*| \le \lambda/a$. Plain (sub)gradient descent does not land exactly on 0: it
# overshoots and jitters around it with steps of size about $\eta\lambda$. Sparse solvers
# take a *proximal* step that applies the soft threshold after each update and so produces
# exact zeros. We simply count weights below 0.001 as "near zero".
#
# We compare an L1 and an L2 run that pay about the same price in training accuracy, and look
# at the first layer's 8,192 weights:

# %%
l2, l1, en = rw.train_run("L2", 1e-2), rw.train_run("L1", 10 ** -1.5), rw.train_run("elastic net", 10 ** -1.5)
near = {r.label: r.near_zero for r in (none, l2, l1, en)}           # fraction of |w| < rw.NEAR_ZERO = 0.001
for r in (none, l2, l1, en):
    print(f"{r.label:38s} train acc {r.train_acc[-1]:.3f}, val acc {r.val_acc[-1]:.3f}, "
          f"first-layer weights with |w| < 0.001: {100 * near[r.label]:5.1f}%")
assert abs(l1.train_acc[-1] - l2.train_acc[-1]) < 0.05     # a comparable price in training accuracy
assert near[l1.label] > 0.5 and near[l1.label] > 10 * near[l2.label]   # L1: most weights ~0; L2: few
assert near[en.label] > 5 * near[l2.label]                 # elastic net inherits L1's sparsity

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
log_bins = np.linspace(-7, 0, 57)
for r, color in ((none, "0.5"), (l2, "tab:blue"), (l1, "tab:red")):
    axes[0].stairs(r.counts + 0.5, rw.BINS, baseline=0.5, color=color, lw=1.5, label=r.label)
    axes[1].stairs(np.histogram(np.log10(np.abs(r.W1)), log_bins)[0], log_bins, color=color, lw=1.5,
                   label=r.label)
axes[0].set_yscale("log")
axes[0].set(xlabel="first-layer weight w", ylabel="count (log scale)", title="the weights")
axes[1].axvline(-3, color="0.3", ls=":", lw=1)
axes[1].set(xlabel="log10 |w|", ylabel="count", title="their sizes: L1 piles up below 0.001 (dotted)")
for ax in axes:
    ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the left, both penalties seem to pile weights up around 0, but the bins are 0.025
# wide. The sizes on the right tell them apart. L2 makes the whole distribution narrower and
# keeps its bell shape: its weights sit around 0.01–0.1, and very few fall below 0.001. L1
# splits the weights into two groups: a few large ones that the data need, and most of the
# rest jittering around 0 at sizes of $10^{-5}$–$10^{-3}$, where the subgradient steps leave
# them. The network is **sparse**.
#
# ### Feature selection: which pixels does the network still look at?
#
# Sparsity is most useful when it removes whole inputs. Row $i$ of the first weight matrix
# holds everything pixel $i$ sends into the network, so the norm of that row measures how
# much the network uses the pixel. Some pixels at the border of the 8×8 digits are 0 in
# every one of the 300 training images: they carry no information. Their weights get **no** gradient from the
# data at all.

# %%
Xb, _ = rw.bench_data()
pixel_std = Xb.std(axis=0)
constant = pixel_std == 0
norms = {r.label: rw.pixel_weight_norms(r.W1).ravel() for r in (none, l2, l1)}
for r in (none, l2, l1):
    print(f"{r.label:22s} weight norm of constant pixels: max {norms[r.label][constant].max():.3g}; "
          f"of the other pixels: mean {norms[r.label][~constant].mean():.3g}")
print(f"{constant.sum()} constant pixels: {np.flatnonzero(constant)}")
assert constant.sum() >= 4
assert np.allclose(norms[none.label][constant],                  # no data gradient, no penalty:
                   rw.pixel_weight_norms(rw.make_mlp()[0].W.data).ravel()[constant])  # still at init
assert norms[l1.label][constant].max() < 0.01 * norms[l1.label][~constant].mean()     # L1: switched off
assert norms[l2.label][constant].min() > 0.05 * norms[l2.label][~constant].mean()     # L2: only dimmed

fig, axes = plt.subplots(1, 4, figsize=(11, 3.1))
axes[0].imshow(pixel_std.reshape(8, 8), cmap="gray")
axes[0].set_title("pixel std over the\ntraining digits", fontsize=9)
for ax, r in zip(axes[1:], (none, l2, l1)):
    img = ax.imshow(rw.pixel_weight_norms(r.W1) / norms[r.label].max(), cmap="magma", vmin=0, vmax=1)
    ax.set_title(f"weight norm per pixel\n{r.label}", fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(img, ax=axes[1:], fraction=0.02, label="norm / largest norm")
plt.show()

# %% [markdown]
# Without a penalty the weights of the constant pixels never move: they keep their random
# initial values forever, and the picture is noise. L2 dims them, by a factor that depends on
# how long we trained. L1 switches them off completely, along with most of the near-constant
# border pixels, and what remains is the region where the digits actually differ. L1 has
# selected the features. That is useful for interpretation and for cheaper models. Its
# weakness shows with *correlated* inputs: L1 tends to keep one of a group of similar
# features and drop the rest, somewhat arbitrarily.
#
# ### Elastic net
#
# The **elastic net** adds both penalties, $\lambda_1\|w\|_1 + \frac{\lambda_2}{2}\|w\|^2$
# (`cl.ElasticNet(l1, l2)`). The L1 part still produces zeros. The L2 part makes the objective
# strictly convex in the linear case, and it makes correlated features share their weight
# instead of one of them winning. In the run above (λ1 = 0.0016, λ2 = 0.016) it is nearly as
# sparse as pure L1.
#
# ## 4. Max-norm: a constraint instead of a penalty
#
# A penalty *discourages* large weights; a constraint *forbids* them. The **max-norm**
# constraint limits the length of each unit's incoming weight vector, column $j$ of $W$:
# after every update,
#
# $$w_{:,j} \;\leftarrow\; w_{:,j}\cdot\min\!\Big(1,\; \frac{c}{\|w_{:,j}\|_2}\Big),$$
#
# a projection back onto the ball of radius $c$ (typical values $c \approx 3$–$4$). Columns
# inside the ball are not touched at all, so unlike L2 there is no pull on weights that behave.
# `cl.max_norm(W, c)` does this in place; `cl.fit(..., max_norm=c)` applies it after each step
# to every weight matrix (not to biases).

# %%
W = np.random.default_rng(3).normal(0, 1, (64, 6)) * np.array([0.1, 0.3, 0.5, 0.8, 1.0, 2.0])
before = np.linalg.norm(W, axis=0)
n_clipped = cl.max_norm(W, 4.0)
after = np.linalg.norm(W, axis=0)
print("column norms before:", np.round(before, 2))
print("column norms after: ", np.round(after, 2), f"({n_clipped} columns projected)")
assert np.all(after <= 4.0 + 1e-9)
assert np.array_equal(after[before <= 4.0], before[before <= 4.0])       # the others are untouched
assert np.allclose(after[before > 4.0], 4.0) and n_clipped == np.sum(before > 4.0)

# %% [markdown]
# The original dropout paper paired dropout with max-norm and noted that the constraint lets
# you use much larger learning rates: however wild a step is, the weights cannot run away. We
# test this on the full training set (1,079 digits) with a 64 → 128 → 10 network, dropout 0.5,
# momentum 0.9 and a learning rate of 0.5, ten times the bench's. Each run goes for 15 epochs,
# with and without $c = 3$, for four seeds.

# %%
seeds = range(4)
free = [rw.max_norm_run(None, lr=0.5, seed=s) for s in seeds]
capped = [rw.max_norm_run(3.0, lr=0.5, seed=s) for s in seeds]
for s, f, c in zip(seeds, free, capped):
    print(f"seed {s}: validation accuracy (mean of the last 5 epochs) {f.val_acc[-5:].mean():.3f} "
          f"unconstrained vs {c.val_acc[-5:].mean():.3f} with c = 3; largest column norm "
          f"{f.max_col_norm[-1]:.1f} vs {c.max_col_norm.max():.2f}; largest |logit| "
          f"{f.max_logit[-1]:.0f} vs {c.max_logit[-1]:.0f}")
acc_free = np.array([f.val_acc[-5:].mean() for f in free])
acc_capped = np.array([c.val_acc[-5:].mean() for c in capped])
assert all(c.max_col_norm.max() <= 3.0 + 1e-9 for c in capped)     # every unit stays inside the ball
assert all(f.max_col_norm[-1] > 2 * 3.0 for f in free)              # without it, norms grow past 2c
assert np.all(acc_capped > acc_free) and acc_capped.mean() > acc_free.mean() + 0.02

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ep = np.arange(1, 16)
for runs, color, name in ((free, "tab:red", "unconstrained"), (capped, "tab:blue", "max-norm c = 3")):
    for r in runs:
        axes[0].plot(ep, r.max_col_norm, color=color, alpha=0.6)
        axes[1].plot(ep, r.val_acc, color=color, alpha=0.25, lw=1)
    axes[0].plot([], [], color=color, label=name)
    axes[1].plot(ep, np.mean([r.val_acc for r in runs], axis=0), color=color, lw=2.5, label=f"{name}, mean")
axes[0].axhline(3.0, color="0.4", ls=":", lw=1)
axes[0].set(xlabel="epoch", ylabel="largest incoming-weight norm", title="learning rate 0.5: weight norms")
axes[1].set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.7, 0.96),
            title="validation accuracy (4 seeds each, faint)")
for ax in axes:
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Without the constraint the column norms climb to 7–10 in a few epochs, the logits grow
# with them, and validation accuracy swings more and more from epoch to epoch. With $c = 3$ the norms sit at
# the ceiling, and every seed ends better. Max-norm is not magic, though. It bounds the
# *weights*, not the biases and not the dynamics. At twice that learning rate both versions
# fail:

# %%
wild = {c: rw.max_norm_run(c, lr=1.0, seed=0) for c in (None, 3.0)}
for c, r in wild.items():
    print(f"learning rate 1.0, {'unconstrained' if c is None else f'c = {c:g}':13s}: final validation "
          f"accuracy {r.val_acc[-1]:.3f}, dead ReLUs {100 * r.dead:.0f}%")
print(f"(learning rate 0.5: dead ReLUs {100 * np.mean([r.dead for r in free]):.0f}% unconstrained, "
      f"{100 * np.mean([r.dead for r in capped]):.0f}% with c = 3, averaged over the seeds)")
assert all(r.val_acc[-1] < 0.6 and r.dead > 0.9 for r in wild.values())

# %% [markdown]
# The huge steps have killed almost every ReLU: no training digit turns them on any more
# (a large negative bias or a bad weight direction is enough, and neither is prevented by a
# bound on the weights' length). Even at learning rate 0.5 most units died; the networks
# above live on the remaining fifth or so. Max-norm widens the range of usable learning rates; it
# does not remove the upper end.
#
# ## 5. Early stopping
#
# Look at the unregularized bench run again: its validation loss is lowest early and then
# creeps up while the network memorizes the wrong labels. **Early stopping** keeps the weights
# from the best epoch:
#
# * after every epoch, evaluate the validation loss; if it is the best so far, save a copy of
#   the weights;
# * if it has not improved for `patience` epochs in a row, stop;
# * restore the saved weights.
#
# Patience matters because validation curves are noisy: with patience 1 the first random
# uptick would end training. `cl.EarlyStopping(patience=5)` does all three steps inside
# `cl.fit`.

# %%
X, y = rw.bench_data()
split = rw.digits()
model = rw.make_mlp()
loss_fn = cl.SoftmaxCrossEntropy()
stopper = cl.EarlyStopping(patience=5)
hist = cl.fit(model, loss_fn, cl.SGD(model.parameters(), lr=rw.LR, momentum=rw.MOMENTUM), X, y,
              epochs=rw.EPOCHS, batch_size=rw.BATCH_SIZE, val=(split.X_val, split.y_val),
              rng=np.random.default_rng(2), early_stopping=stopper, progress=False)
restored_loss, restored_acc = cl.evaluate(model, loss_fn, split.X_val, split.y_val)
print(hist.message)
print(f"best epoch {stopper.best_epoch + 1}: recorded val loss {stopper.best:.6f}; restored model: "
      f"val loss {restored_loss:.6f}, val accuracy {restored_acc:.3f}")
print(f"training on for all {rw.EPOCHS} epochs would end at val loss {none.val_loss[-1]:.3f}, "
      f"accuracy {none.val_acc[-1]:.3f}")
assert hist.status == "early_stopped" and hist.epochs == stopper.best_epoch + 1 + stopper.patience
assert abs(restored_loss - stopper.best) < 1e-12 and stopper.best == min(hist.val_loss)
assert np.allclose(hist.val_loss, none.val_loss[:hist.epochs])   # the same run as the bench, cut short
assert restored_loss < none.val_loss[-1] - 0.05

fig, ax = plt.subplots(figsize=(7.5, 3.6))
ep = np.arange(1, rw.EPOCHS + 1)
ax.plot(ep, none.val_loss, color="tab:orange", alpha=0.35, label="validation, had we not stopped")
ax.plot(ep, none.train_loss, color="tab:blue", alpha=0.35, label="train, had we not stopped")
ax.plot(ep[:hist.epochs], hist.val_loss, "o-", ms=3, color="tab:orange", label="validation (monitored)")
ax.axvline(stopper.best_epoch + 1, color="tab:green", ls="--", lw=1, label="best epoch: weights restored")
ax.axvline(hist.epochs, color="0.4", ls=":", lw=1, label=f"stop (patience {stopper.patience})")
ax.set(xlabel="epoch", ylabel="cross-entropy (eval mode)", ylim=(0, 2.2),
       title="early stopping on the bench (no other regularization)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The restored network has exactly the validation loss recorded at its best epoch, well below
# where the full run ends. Early stopping is close to free, and it combines with everything else,
# so use it almost always. Two caveats:
#
# * The validation set now chooses something (the epoch). Its loss is therefore an optimistic
#   estimate of the test loss; report the test set.
# * Stopping early is itself a kind of L2 penalty. For a quadratic loss and gradient descent
#   started near 0, stopping after $t$ steps of size $\eta$ behaves roughly like an L2
#   penalty with $\lambda \approx 1/(\eta t)$: the weights have not had time to grow.
#   The number of epochs is a regularization hyperparameter, whether you tune it or not.
#
# ## 6. Noise on the inputs and data augmentation
#
# If a small change to an input should not change its label, train on changed inputs: each
# epoch the network sees a new version of every example, with the old label. This is **data
# augmentation**. It tells the network which differences to ignore, and it makes a small data
# set behave more like a large one. (Adding small Gaussian noise to the inputs is, to first
# order, equivalent to a penalty on the network's sensitivity to its inputs; Bishop 1995.)
#
# For images the usual augmentations are
#
# * **flips**: a horizontal flip is fine for photos of cats, but not for digits or text
#   (a flipped 2 is not a 2): an augmentation must keep the label;
# * **random crops and translations**, small rotations and scalings;
# * **colour shifts**: brightness, contrast, saturation, hue;
# * **mixup**: train on blends of two examples and of their labels,
#   $\tilde x = \lambda x_i + (1 - \lambda)x_j$, $\tilde y = \lambda y_i + (1 - \lambda) y_j$ with
#   $\lambda \sim \mathrm{Beta}(\alpha, \alpha)$ (`cl.SoftmaxCrossEntropy` accepts such
#   probability targets).
#
# For the digits we try two: Gaussian pixel noise ($\sigma = 0.2$, pixels lie in $[0, 1]$) and
# moving the whole image by one pixel in one of 8 directions (half of the images each epoch).

# %%
digit = split.X_train[:1]
variants = [("original", digit), ("right", rw.shift_digits(digit, 1, 0)),
            ("left", rw.shift_digits(digit, -1, 0)), ("up", rw.shift_digits(digit, 0, -1)),
            ("down", rw.shift_digits(digit, 0, 1)), ("noise σ = 0.2", rw.augment(digit, 0, noise=0.2))]
fig, axes = plt.subplots(1, 6, figsize=(10, 2.1))
for ax, (name, img) in zip(axes, variants):
    ax.imshow(img.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"one training digit (a {split.y_train[0]}) and five augmented versions", fontsize=10)
plt.show()
assert np.array_equal(rw.shift_digits(rw.shift_digits(digit, 1, 0), -1, 0)[0].reshape(8, 8)[:, :7],
                      digit[0].reshape(8, 8)[:, :7])      # a shift moves pixels, it does not change them

# %% [markdown]
# The experiment: the bench network on only 200 clean training digits for 60 epochs, three
# seeds, each with no augmentation, with noise, and with shifts. We measure accuracy on the
# usual validation digits and on a copy of them in which every digit is moved by one pixel.

# %%
kinds = list(rw.AUGMENTATIONS)
# res[kind]: one row per seed: validation accuracy, validation loss, accuracy on shifted digits
res = {k: np.array([rw.train_augmented(k, s) for s in range(3)]) for k in kinds}
for k in kinds:
    a = res[k]
    print(f"{k:7s}: val acc {np.round(a[:, 0], 3)} (mean {a[:, 0].mean():.3f}), val loss "
          f"{a[:, 1].mean():.3f}, accuracy on shifted digits {a[:, 2].mean():.3f}")
assert np.all(res["noise"][:, 1] < res["none"][:, 1])                    # noise: lower val loss, every seed
assert res["noise"][:, 0].mean() >= res["none"][:, 0].mean()             # and no loss in accuracy
assert np.all(res["none"][:, 2] < res["none"][:, 0] - 0.4)               # the MLP fails on shifted digits
assert np.all(res["shifts"][:, 2] > res["none"][:, 2] + 0.35)            # shift augmentation fixes that ...
cost = res["none"][:, 0] - res["shifts"][:, 0]
assert np.all((0 < cost) & (cost < 0.05))                                # ... at a small cost on centred digits

# %% [markdown]
# An honest result in three parts.
#
# * **Noise** helps a little: the validation loss is lower for every seed and accuracy rises
#   by about a point on average. A modest regularizer.
# * **Shifts** *cost* one to three and a half points of accuracy on the validation digits.
#   These digits were centred and size-normalized when the data set was made, so the test data
#   contain no shifts to be robust to. On an 8×8 grid a one-pixel move is also a big change (an
#   eighth of the image), and recognizing every digit in nine positions is a harder task for a
#   model that sees only 200 examples.
# * But look at the shifted copy of the validation set. The plain MLP drops from about 0.91 to
#   about 0.31: moved by one pixel, most digits are no longer recognized. With shift
#   augmentation it gets about 0.78. Augmentation buys exactly the invariance you train for;
#   whether that shows up in your validation number depends on whether your test data vary in
#   that way. Choose augmentations for the variation you expect at test time.
#
# **Why translations matter less for convolutional networks.** An MLP has a separate weight
# for every pixel, so a digit one pixel to the right activates entirely different weights, and
# the net must learn every position from examples. A convolutional layer applies the same small
# filter at every position (weight sharing), so a shifted input gives a shifted feature map:
# the layer is *translation-equivariant* by construction. Pooling then makes the result
# approximately invariant. Translation is built into the architecture instead of being taught
# by augmentation. (Only approximately: strides and borders break exact equivariance, which is
# why random crops still help CNNs in practice.)
#
# ## 7. Label smoothing
#
# With hard one-hot targets, cross-entropy asks for probability 1 on the true class. A
# softmax only reaches 1 in the limit of infinitely large logit differences. So on a training
# set that the network can separate, the loss is **never satisfied**: its gradient
# $\mathrm{softmax}(z) - \mathrm{onehot}(y)$ is never zero, and gradient descent keeps growing
# the logits and the weights that produce them. That makes the model overconfident.
# **Label smoothing** trains towards a softened target instead,
#
# $$t = (1 - \alpha)\,\mathrm{onehot}(y) + \frac{\alpha}{K},$$
#
# which puts $1 - \alpha + \alpha/K$ on the true class and $\alpha/K$ on each of the others.
# This target *can* be matched exactly, by finite logits: all wrong classes equal, and the
# true class ahead by a margin $m$ with
#
# $$\frac{e^m}{e^m + K - 1} = 1 - \alpha + \frac{\alpha}{K} \quad\Longleftrightarrow\quad m = \log\Big(1 + \frac{K(1 - \alpha)}{\alpha}\Big),$$
#
# about 4.51 for $\alpha = 0.1$, $K = 10$. There the gradient is exactly zero, and the loss
# equals its floor, the entropy of $t$. `cl.SoftmaxCrossEntropy(label_smoothing=α)` implements
# it (with PyTorch's definition).

# %%
K, alpha = 10, 0.1
floor, margin = rw.smoothing_floor(alpha, K)
z = np.zeros((1, K))
z[0, 3] = margin                                  # the ideal logits for a true class 3
ce = cl.SoftmaxCrossEntropy(label_smoothing=alpha)
loss_at_margin = ce.forward(z, np.array([3]))
print(f"ideal margin {margin:.4f}; loss there {loss_at_margin:.6f} = entropy of the target {floor:.6f}; "
      f"max |gradient| {np.abs(ce.backward()).max():.1e}")
assert abs(loss_at_margin - floor) < 1e-12 and np.abs(ce.backward()).max() < 1e-15
hard = cl.SoftmaxCrossEntropy()
for m in (5.0, 10.0, 20.0):                       # hard targets: the gradient only shrinks, never vanishes
    hard.forward(m * np.eye(K)[[3]], np.array([3]))
    assert 0 < np.abs(hard.backward()).max()

# %% [markdown]
# Now on data: a linear softmax classifier on 200 training digits (which it can separate
# perfectly), trained with full-batch Adam for 2,000 steps, with and without smoothing. We
# follow the average length of the logit vector $\|z_i\|$.

# %%
runs = {a: rw.logit_growth(a) for a in (0.0, 0.1)}
for a, (steps, loss, znorm, marg, acc) in runs.items():
    i250, i500 = np.searchsorted(steps, 250), np.searchsorted(steps, 500)
    print(f"α = {a}: training accuracy {acc[-1]:.2f}, loss {loss[-1]:.4f}, mean margin {marg[-1]:.2f}; "
          f"mean logit norm {znorm[i250]:.2f} (step {steps[i250]}) → {znorm[i500]:.2f} "
          f"(step {steps[i500]}) → {znorm[-1]:.2f} (step {steps[-1]})")
steps, loss0, z0, m0, acc0 = runs[0.0]
_, loss1, z1, m1, acc1 = runs[0.1]
i250 = np.searchsorted(steps, 250)
assert acc0[-1] == 1.0 and acc1[-1] == 1.0        # both separate the training set
assert loss0[-1] < 1e-3 and z0[-1] > 1.4 * z0[i250] and np.all(np.diff(z0[i250:]) > 0)   # still growing
assert abs(z1[-1] / z1[i250] - 1) < 0.02 and loss1[-1] > floor   # bounded; the loss stays above its floor
assert m1[-1] < margin < m0[-1]        # smoothed margins stay below the ideal 4.51; hard ones pass it

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for a, (st, loss, znorm, marg, acc) in runs.items():
    axes[0].semilogx(st, znorm, label=f"α = {a}")
    axes[1].loglog(st, loss, label=f"α = {a}")
axes[1].axhline(floor, color="tab:orange", ls=":", lw=1, label="floor for α = 0.1 (entropy of t)")
axes[0].set(xlabel="step (log scale)", ylabel="mean logit norm ‖z‖",
            title="without smoothing the logits keep growing")
axes[1].set(xlabel="step (log scale)", ylabel="training loss (log scale)",
            title="the smoothed loss has a floor")
for ax in axes:
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Without smoothing the loss heads to 0 and the logits keep growing, although every training
# example is already classified correctly. Under plain gradient descent the growth is roughly
# logarithmic in the number of steps; under Adam, as here, it is faster. Nothing in the loss
# ever stops it; the mean margin is already past 4.51 and still rising. With $\alpha = 0.1$ the
# logit norm levels off after a small overshoot, within a hundred steps or so, and the loss
# settles above its floor. (A linear model cannot give all 200 examples the ideal margin at
# once, so it stops a little above the floor, with a mean margin below 4.51.)
#
# Label smoothing is standard for large image classifiers and for translation models, where it
# improves accuracy and calibration (predicted probabilities that mean what they say) by a
# small but reliable amount; $\alpha = 0.1$ is the usual choice. One known side effect: it
# squeezes the examples of a class together in the last hidden layer, which makes the network
# a worse *teacher* for knowledge distillation (Müller et al., 2019).
#
# ## 8. Ensembles
#
# Train several models and average their predictions. If model $i$ makes an error $e_i$ with
# variance $\sigma^2$, and the errors are **independent**, the average has variance
#
# $$\mathrm{Var}\Big(\frac1n \sum_{i=1}^n e_i\Big) = \frac{\sigma^2}{n} .$$
#
# If the errors have pairwise correlation $\rho$, the variance is
# $\sigma^2\big(\rho + \frac{1 - \rho}{n}\big)$: only the uncorrelated part averages out. Models
# trained on the same data make correlated mistakes, so the gain from an ensemble is real
# but smaller than $1/n$.

# %%
ns = np.array([1, 2, 5, 10, 20, 50])
var_ind = rw.average_variance(ns, sigma=1.0, rho=0.0)
var_cor = rw.average_variance(ns, sigma=1.0, rho=0.5)
for n, a, b in zip(ns, var_ind, var_cor):
    print(f"n = {n:2d}: independent {a:.4f} (σ²/n = {1 / n:.4f}); correlated ρ = 0.5: {b:.4f} "
          f"(theory {0.5 + 0.5 / n:.4f})")
assert np.all(np.abs(var_ind * ns - 1) < 0.05)                   # ≈ σ²/n within 5%
assert np.all(np.abs(var_cor / (0.5 + 0.5 / ns) - 1) < 0.05)     # ≈ σ²(ρ + (1 - ρ)/n)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(ns, var_ind, "o", label="independent errors (simulated)")
ax.loglog(ns, 1 / ns, "-", color="tab:blue", lw=1, label="σ²/n")
ax.loglog(ns, var_cor, "s", label="correlation ρ = 0.5 (simulated)")
ax.loglog(ns, 0.5 + 0.5 / ns, "-", color="tab:orange", lw=1, label="σ²(ρ + (1 − ρ)/n)")
ax.set(xlabel="number of models averaged n", ylabel="variance of the average (σ² = 1)",
       title="averaging removes the independent part of the error")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Ways to get models whose errors are as independent as possible:
#
# * **different seeds**: same data and architecture, different initialization and shuffling;
#   for neural networks this alone gives surprisingly diverse models;
# * **bagging** (bootstrap aggregating): train each model on a bootstrap sample, $N$ examples
#   drawn *with replacement* (each model sees about 63% of the distinct examples);
# * **different architectures or hyperparameters**;
# * **snapshots** of a single run: average the predictions of checkpoints saved along the way
#   (often combined with a cyclic learning rate so that the snapshots differ more), or average
#   the *weights* of late checkpoints (Polyak averaging, stochastic weight averaging). These
#   cost one training run instead of $n$.
#
# Dropout (notebook 05) is an implicit ensemble of this kind. On the bench, five seeds, and the
# average of the class probabilities:

# %%
def scores(probs):
    """Validation accuracy and mean negative log-likelihood of averaged softmax outputs (N, 10)."""
    return (float(np.mean(probs.argmax(axis=1) == split.y_val)),
            float(-np.mean(np.log(probs[np.arange(len(probs)), split.y_val]))))


members = [rw.train_run("none", seed=s) for s in range(5)]
single = np.array([scores(r.val_probs) for r in members])
ens_acc, ens_nll = scores(np.mean([r.val_probs for r in members], axis=0))
snap_acc, snap_nll = scores(none.snapshots.mean(axis=0))        # last 10 epochs of one run
print(f"single models: accuracy {np.round(single[:, 0], 3)}, mean {single[:, 0].mean():.3f}; "
      f"NLL mean {single[:, 1].mean():.3f}")
print(f"ensemble of 5 seeds: accuracy {ens_acc:.3f}, NLL {ens_nll:.3f}")
print(f"snapshot average (one run, last 10 epochs): accuracy {snap_acc:.3f}, NLL {snap_nll:.3f} "
      f"(its final snapshot: {single[0, 0]:.3f}, {single[0, 1]:.3f})")
assert ens_acc > single[:, 0].mean() + 0.01 and ens_nll < single[:, 1].mean() - 0.03
assert snap_nll < single[0, 1]

# %% [markdown]
# The ensemble beats the average member by about two points of accuracy and by a clear
# margin in NLL. The snapshots of a single run also help, a little: consecutive epochs make
# strongly correlated errors. The price of a real ensemble is $n$ times the training *and* the
# prediction cost. That is why ensembles win competitions and are rarer in deployed systems,
# and why cheap approximations (dropout, snapshots, weight averaging) exist.
#
# ## 9. Don't shrink the network: regularize it
#
# If a network overfits, why not just make it smaller? Because capacity helps in two ways
# that regularization does not undo. A large network can represent the right function; the
# regularizer then stops it from fitting the noise. And large networks are *easier to
# optimize*. Their loss landscapes have many minima, and most of them are about equally good
# (Choromanska et al., 2015, found the spread of their losses shrinking as networks grow),
# while a small network's result depends much more on where it started. The practical rule:
# use the biggest network your compute budget allows, and control overfitting with the tools
# of this notebook. Here are two options on the bench data, three seeds each: small networks
# without regularization, and a large one (two hidden layers of 256, about 85,000 parameters)
# with dropout 0.5.

# %%
small8 = [rw.train_bench(widths=(8,), seed=s) for s in range(3)]
small32 = [rw.train_bench(widths=(32,), seed=s) for s in range(3)]
big = [rw.train_bench(widths=(256, 256), p=0.5, seed=s) for s in range(3)]
summary, train_loss = {}, {}
for name, rs, n_par in (("64-8-10, no regularization", small8, rw.make_mlp((8,)).num_parameters()),
                        ("64-32-10, no regularization", small32, rw.make_mlp((32,)).num_parameters()),
                        ("64-256-256-10, dropout 0.5", big, rw.make_mlp((256, 256)).num_parameters())):
    va = np.array([r.val_acc[-1] for r in rs])
    tl = np.array([r.train_loss[-1] for r in rs])
    summary[name], train_loss[name] = va, tl
    print(f"{name:28s} ({n_par:6,d} parameters): val acc {np.round(va, 3)}, mean {va.mean():.3f}; "
          f"final training loss from {tl.min():.2f} to {tl.max():.2f}")
small_best = max(summary["64-8-10, no regularization"].mean(), summary["64-32-10, no regularization"].mean())
big_va = summary["64-256-256-10, dropout 0.5"]
assert big_va.min() > small_best + 0.05               # every big regularized run beats the best small mean
assert np.ptp(summary["64-8-10, no regularization"]) > 3 * np.ptp(big_va)   # small nets: a seed lottery,
assert np.ptp(train_loss["64-8-10, no regularization"]) > \
    3 * np.ptp(train_loss["64-256-256-10, dropout 0.5"])                  # in training loss too

# %% [markdown]
# The big regularized network wins by about ten points, for every seed. The tiniest network
# also shows the lottery: the same data and architecture give validation accuracies spread
# over more than ten points depending on the seed, where the three big runs agree within
# a point and a half. Its training losses differ just as much: different seeds ended in
# minima of quite different quality. Shrinking a network does reduce overfitting, but it
# throws away the capacity and the easy optimization that the big network brings.
#
# ## 10. Explore: method × strength
#
# The explorer shows every run of the bench grid. Choose a **method** and move the
# **strength** (log scale, $10^{-4}$ to $10^{-1}$). What the strength $s$ means per method:
# L2 $\lambda = s$; L1 $\lambda = s/10$; elastic net $\lambda_1 = s/20$, $\lambda_2 = s/2$;
# max-norm $c$ from 4 down to 0.5; dropout $p$ from 0.1 to 0.7. Left: the first-layer weight
# histogram (grey: no regularization). Middle and right: loss and accuracy per epoch (faint: no
# regularization). Strongly regularized runs show *validation* accuracy above *training*
# accuracy. That is not a bug: 17% of the training labels are wrong, and a network that refuses
# to learn them scores at most 0.83 on the training set.
#
# Things to try: find the strength at which each method is best and where it starts to
# underfit; compare the histogram shapes of L1, L2 and max-norm (a hard edge?); check which
# methods leave the histogram alone although they change the curves.

# %%
best = {}
for method in rw.METHODS[1:]:
    runs = [rw.train_run(method, s) for s in rw.STRENGTHS]
    i = int(np.argmax([r.val_acc[-1] for r in runs]))
    best[method] = runs[i]
    print(f"{method:12s} best at {runs[i].label:38s}: val acc {runs[i].val_acc[-1]:.3f} "
          f"(no regularization {none.val_acc[-1]:.3f}); "
          f"strongest setting: val acc {runs[-1].val_acc[-1]:.3f}")
assert all(r.val_acc[-1] > none.val_acc[-1] + 0.03 for r in best.values())   # each method helps when tuned
assert rw.train_run("L2", 0.1).train_acc[-1] < 0.6                          # and too much of it underfits

# %% tags=["nbval-ignore-output"]
display(rw.regularization_explorer(strength=1e-2, method="L1"))

# %% [markdown]
# ## Check your understanding
#
# 1. A model's training error keeps falling as you add capacity while its validation error
#    rises. Which of bias and variance is growing, and name two ways to reduce it without
#    removing capacity.
#
# <details><summary>Answer</summary>
#
# Variance: the fitted function depends more and more on the particular noise of the training
# set. Reduce it with a penalty (L2/L1), a constraint (max-norm), early stopping, dropout, data
# augmentation or more data, or by averaging several models (an ensemble). Each of these keeps
# the capacity to represent the right function and limits how much of the noise it can fit.
# </details>
#
# 2. With SGD at learning rate $\eta = 0.05$ and an L2 penalty $\frac\lambda2\|w\|^2$,
#    $\lambda = 10^{-3}$, by what factor does the penalty alone shrink a weight per step? And
#    why would you not put the biases under the same penalty?
#
# <details><summary>Answer</summary>
#
# $w \leftarrow (1 - \eta\lambda)w - \eta\nabla L$, so by the factor $1 - 5\cdot 10^{-5}$ per
# step, about $e^{-0.05} \approx 0.95$ over 1,000 steps (with momentum $\beta$ the effective rate
# is about $1/(1-\beta)$ times larger). Biases do not make the function more complex, only
# shift it. There are few of them and each is estimated from all examples, so their variance is
# small. Penalizing them pulls outputs (or units' thresholds) towards an arbitrary 0 and can
# cause underfitting.
# </details>
#
# 3. Why does L1 produce weights that are (nearly) exactly zero and L2 does not? What would you
#    do to obtain *exact* zeros?
#
# <details><summary>Answer</summary>
#
# The L1 pull towards 0 is constant, $\lambda\,\mathrm{sign}(w)$, so any weight whose data
# gradient is weaker than $\lambda$ is driven to 0. The L2 pull $\lambda w$ vanishes as $w \to 0$,
# so weights only approach 0 geometrically. For one weight with a quadratic loss, the L1 solution is
# the soft threshold $\mathrm{sign}(w^*)\max(|w^*| - \lambda/a, 0)$, which is zero on a whole
# interval. SGD with the subgradient jitters around 0 with amplitude $\sim\eta\lambda$. For exact
# zeros use a proximal update, the soft threshold after each step:
# $w \leftarrow \mathrm{sign}(w)\max(|w| - \eta\lambda, 0)$.
# </details>
#
# 4. Your validation accuracy got *worse* after adding random one-pixel shifts to training,
#    although the classifier is now far more robust to shifted digits. Is the augmentation wrong?
#
# <details><summary>Answer</summary>
#
# Not necessarily. Augmentation buys invariance to the transformation you apply. If the
# validation (and test) data never contain that transformation, because these digits are
# centred, the invariance is not rewarded there and costs some capacity. Keep it if the data
# your model will meet can be shifted; otherwise choose augmentations that match the variation
# you actually expect. A convolutional network would need much less of it, since weight sharing
# makes it translation-equivariant by construction.
# </details>
#
# 5. Five models have errors of variance $\sigma^2$ with pairwise correlation $\rho = 0.6$. What is
#    the variance of their average, and what is the best any number of such models can do?
#
# <details><summary>Answer</summary>
#
# $\sigma^2(\rho + (1-\rho)/n) = \sigma^2(0.6 + 0.4/5) = 0.68\,\sigma^2$. As $n \to \infty$ it
# tends to $\rho\sigma^2 = 0.6\,\sigma^2$: the correlated part never averages out, which is why
# ensembles try to make their members differ (seeds, bootstrap samples, architectures).
# </details>
#
# ## Summary
#
# * The **generalization gap** is validation minus training error. More capacity lowers the
#   bias and raises the variance; the expected test error is bias² + variance + noise, so it
#   traces a U. **Regularization** is anything meant to lower generalization error rather than
#   training error; it usually raises the training error a little.
# * Penalize **weights, not biases** (`cl.L2`, `cl.L1`, `cl.ElasticNet` skip them by default;
#   an optimizer's `weight_decay=` does not).
# * **L2**: $\frac\lambda2\|w\|^2$, gradient $\lambda w$, each SGD step multiplies the weights
#   by $1 - \eta\lambda$ (weight decay). It is MAP estimation with a Gaussian prior,
#   $\lambda = 1/(N\sigma_w^2)$. It equals decoupled weight decay only for SGD, not for Adam (use AdamW).
# * **L1**: $\lambda\|w\|_1$, subgradient $\lambda\,\mathrm{sign}(w)$, a constant pull that drives
#   weights to (near) zero. Sparse weights mean feature selection: here it switched off the
#   uninformative border pixels. **Elastic net** combines both.
# * **Max-norm** projects each unit's incoming weights onto $\|w\| \le c$ ($c \approx 3$–4) after
#   every step. The weights stay bounded at learning rates that hurt the unconstrained network,
#   but biases and dead ReLUs are not covered.
# * **Early stopping** with patience restores the weights of the best validation epoch: almost
#   free, akin to L2, and it spends the validation set, so report test numbers.
# * **Noise and augmentation** teach invariances. They help where test data vary that way (shifted
#   digits: 0.31 → 0.78) and can cost a little where they do not. CNNs get translation from
#   weight sharing.
# * **Label smoothing** $t = (1-\alpha)\,\mathrm{onehot} + \alpha/K$ gives the loss a finite
#   optimum (margin $\log(1 + K(1-\alpha)/\alpha)$); without it the logits grow forever on
#   separable data.
# * **Ensembles** divide the independent part of the variance by $n$:
#   $\sigma^2(\rho + (1-\rho)/n)$. Seeds, bagging and snapshots all work; five seeds beat the
#   average single bench model clearly.
# * **Don't shrink the network to regularize it**: a big regularized net beat small plain nets by
#   about ten points, and small nets are a seed lottery.
#
# **Next:** [08 Training in practice](08_training_in_practice.ipynb). **Practice:** the exercise
# notebook [exercises/07_regularization.ipynb](../exercises/07_regularization.ipynb): write the
# penalties, the max-norm projection and label smoothing yourself, with instant checks.
