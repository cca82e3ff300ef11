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
# network smaller. Every tool is tried on real digits, on several seeds, against the plain
# network at its own best (early-stopped), and every claim is checked by an `assert`,
# including the claims where a tool did *not* help.
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
# 6. measure calibration (reliability diagram, expected calibration error);
# 7. compute how much averaging $n$ models reduces the variance, and build ensembles from seeds
#    and snapshots;
# 8. argue why you should regularize a big network instead of training a small one, and how
#    that fits with the U-shaped error curve (double descent).
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (train/validation/test splits,
# centring the inputs, softmax cross-entropy), [03 Backpropagation](03_backpropagation.ipynb)
# (gradients), [05 Dropout](05_dropout.ipynb) (the first regularizer of the course, and its
# noisy-label experiment), [06 Optimizers](06_optimizers.ipynb) (SGD with momentum, L2 vs
# decoupled weight decay).
#
# **Estimated time.** 100 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.widgets import regularization as rw
from course_lib.widgets import regularization_experiments as rx

threadpool_limits(1)     # our matrices are small: one BLAS thread is fastest, extra ones only compete
_ = cl.set_seed()        # the course's default generator, from COURSE_SEED (default 0)

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
# coefficients, so the degree is the capacity knob. One draw of the noise proves little, so we
# repeat the sweep on five draws (`cl.seeds(5)`), each with its own validation set of 1,000
# points.

# %%
degrees = np.arange(16)
draws = cl.seeds(5)
sweeps = [rw.capacity_sweep(degrees, seed=s) for s in draws]
train_mse = np.array([t for t, _ in sweeps])             # (draws, degrees)
val_mse = np.array([v for _, v in sweeps])
bv = rw.bias_variance(degrees)                           # 300 more training sets, each with fresh noise
noise_var = rw.CURVE_NOISE ** 2
for d in (0, 1, 3, 5, 9, 13, 15):
    print(f"degree {d:2d}: train MSE {train_mse[:, d].mean():.3f}, validation MSE {val_mse[:, d].mean():.3f} "
          f"({val_mse[:, d].min():.3f}–{val_mse[:, d].max():.3f} over {len(draws)} draws) | "
          f"bias² {bv['bias2'][d]:.4f}, variance {bv['variance'][d]:.3f}")

best = val_mse.argmin(axis=1)
print("best degree per draw:", best)
assert np.all(np.diff(train_mse, axis=1) <= 1e-12)        # sanity: nested least squares never fits worse
assert np.all((3 <= best) & (best <= 12))                  # validation error: a U, minimum in the middle,
assert np.all(val_mse[:, 0] > 3 * val_mse.min(axis=1))     # ... far above it on the left,
assert val_mse[:, -1].mean() > 3 * val_mse.min(axis=1).mean()  # ... and on the right, on average
assert np.all(train_mse[:, -1] < noise_var) and np.all(val_mse[:, -1] > noise_var)  # degree 15 fits noise
assert bv["bias2"][5] < 0.01 * bv["bias2"][1]              # bias falls with capacity ...
assert np.all(np.diff(bv["variance"]) > 0)                 # ... variance rises at every step
decomposed = bv["bias2"] + bv["variance"] + noise_var
assert np.all(np.abs(bv["error"] - decomposed) < 0.05 * bv["error"])   # error = bias² + variance + σ²

# %% [markdown]
# The training error falls with every extra degree; a nested family of models can only fit
# better. The validation error falls, flattens, and rises again: a U, with its minimum at
# degree 3–7 on every draw. At degree 15 the training MSE is far *below* the noise variance
# $0.09$. The true function itself would score about 0.09 on these points, so anything much
# lower has fitted the noise. The polynomial has memorized it, and pays on new data; how much
# it pays depends a lot on the draw (the right end of the U varies severalfold).
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
# the measured error within 5% (the remaining difference is sampling error of the 300 draws).
# The same sampling error explains the small rise of bias² at the highest degrees in the figure
# below: the average of 300 very jumpy fits still carries about variance/300 of noise.

# %%
xs = np.linspace(-1, 1, 300)
x20, y20 = rw.curve_train(draws[0])
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
ax = axes[0]
ax.plot(x20, y20, "ko", ms=4, label="training data")
ax.plot(xs, rw.true_function(xs), "k--", lw=1, label="true $f(x)$")
for d, color in ((1, "tab:blue"), (5, "tab:green"), (15, "tab:red")):
    ax.plot(xs, rw.predict_poly(rw.fit_poly(x20, y20, d), xs), color=color, label=f"degree {d}")
ax.set(xlabel="x", ylabel="y", ylim=(0.3, 4.9), title="underfit, about right, overfit\n(first draw)")
ax.legend(fontsize=8, ncol=3, loc="upper center", handlelength=1.5, columnspacing=0.8)
ax = axes[1]
cl.plots.plot_seeds(degrees, train_mse, ax=ax, color="0.15", band=False)
cl.plots.plot_seeds(degrees, val_mse, ax=ax, color="tab:orange", band=False)
ax.plot([], [], "o-", color="0.15", label="training MSE")
ax.plot([], [], "o-", color="tab:orange", label="validation MSE")
ax.plot(degrees, bv["bias2"], "--", color="tab:purple", label="bias²")
ax.plot(degrees, bv["variance"], "--", color="tab:brown", label="variance")
ax.axhline(noise_var, color="0.5", lw=0.8, ls=":", label="noise σ²")
ax.set_yscale("log")
ax.set_ylim(4e-6, 4)
ax.set(xlabel="polynomial degree (capacity)", ylabel="MSE (log scale)",
       title=f"{len(draws)} draws (faint) and their mean")
ax.legend(fontsize=8, ncol=3, loc="lower left", handlelength=1.5, columnspacing=0.8)
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
# better behaved than the powers $x^k$ and span the same functions). The penalty, though, is
# not the same: a penalty on Legendre coefficients is a different regularizer from one on the
# coefficients of $1, x, x^2, \ldots$ A penalty always depends on how the model is parametrized.

# %%
lams = np.logspace(-8, 0, 17)
ridge = np.array([rw.ridge_sweep(lams, seed=s) for s in draws])     # (draws, train/val, λ)
k = ridge[:, 1].argmin(axis=1)                                      # best λ per draw
for s, kk, r in zip(draws, k, ridge):
    print(f"draw {s}: λ = {lams[0]:.0e}: validation {r[1, 0]:.3f}; best λ = {lams[kk]:.0e}: "
          f"train {r[0, kk]:.3f}, validation {r[1, kk]:.3f}")
ratio = ridge[np.arange(len(draws)), 1, k] / ridge[:, 1, 0]
assert np.all(np.diff(ridge[:, 0], axis=1) >= -1e-12)          # sanity: training error only goes up with λ
assert np.all((0 < k) & (k < len(lams) - 1))                    # the best λ is inside the range ...
assert ratio.mean() < 0.5                                       # ... and much better than none on average

fig, ax = plt.subplots(figsize=(6.5, 3.6))
cl.plots.plot_seeds(lams, ridge[:, 0], ax=ax, label="training MSE", logx=True)
cl.plots.plot_seeds(lams, ridge[:, 1], ax=ax, label="validation MSE", logx=True)
ax.set_yscale("log")
ax.set(xlabel="penalty strength λ (log scale)", ylabel="MSE (log scale)",
       title="degree-15 polynomial with an L2 penalty (5 draws)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The penalty costs training error at every $\lambda$, and buys validation error: at the
# best $\lambda$ (between $10^{-2}$ and $10^{-1}$ here) the validation error is on average
# under half of the unpenalized value, although the gain varies a lot between draws (on a draw
# whose degree-15 fit happens not to overfit much, there is little to gain). Too much
# penalty underfits again, so $\lambda$ is a hyperparameter chosen on the validation set.
#
# ### Penalize the weights, usually not the biases
#
# The penalty above left out one coefficient (its sum starts at $k = 1$): the constant term
# $c_0$, the polynomial's *intercept* or bias. A penalty expresses a preference for simpler
# functions. A large weight makes the output react strongly to its input, so it matters for
# how wiggly the function is; the intercept only shifts the curve up or down and says nothing
# about wiggliness. Shrinking it towards 0 pulls every prediction towards an arbitrary value.
# Biases are also cheap in variance: each is one number per unit, estimated from all $N$
# examples. Watch what happens when the intercept is penalized too, on our data with its
# baseline of 2, first with a strong penalty ($\lambda = 1$, chosen to make the effect
# visible) and then at each draw's best $\lambda$:

# %%
def intercept_cost(lam, s):
    """Validation MSE with the intercept penalized, divided by the MSE with it free."""
    return rw.ridge_sweep([lam], seed=s, penalize_intercept=True)[1][0] / rw.ridge_sweep([lam], seed=s)[1][0]


strong = np.array([intercept_cost(1.0, s) for s in draws])
at_best = np.array([intercept_cost(lams[kk], s) for s, kk in zip(draws, k)])
print(f"validation MSE, intercept penalized / intercept free: λ = 1: {np.round(strong, 2)}; "
      f"at the best λ: {np.round(at_best, 2)}")
assert np.all(strong > 1.5)                # a strong penalty on the intercept costs a lot, every draw
assert np.all(np.abs(at_best - 1) < 0.35)  # at a well-chosen λ the effect is much smaller, either way

# %% [markdown]
# With a strong penalty, shrinking the intercept about doubles the validation error or worse,
# on every draw. At the best $\lambda$ the difference is small, and it can go either way (the
# even Legendre polynomials can partly stand in for the missing constant): the principle is
# about not pulling predictions towards an arbitrary value, and its cost grows with the
# penalty.
#
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
rng = cl.make_rng(1)
Xs, ys = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
eta, lam = 0.1, 0.05


def one_step(regularizer=None, weight_decay=0.0):
    """One SGD step of Linear(5, 3) (bias 0.5) on a fixed batch; returns (W0, b0, gW, gb, W1, b1)."""
    layer = cl.Linear(5, 3, rng=cl.make_rng(2))
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
#   one time in ten); the validation set is clean; the inputs are **centred** with the mean of
#   these 300 images, as notebook 00 teaches;
# * 60 epochs of SGD with momentum 0.9, learning rate 0.05, mini-batches of 32;
# * losses and accuracies measured in evaluation mode after every epoch; each run also records
#   what early stopping with patience 5 (section 5) would have restored, so that every method
#   can be compared with the plain network *at its own best epoch*;
# * **three seeds** for every setting (`cl.seeds(3)`): a seed fixes the initial weights, the
#   dropout masks and the shuffling order. The noisy labels stay the same.
#
# Five regularizers (L2, L1, elastic net, max-norm, dropout) are trained on this bench at seven
# strengths each, on the three seeds: that is the grid the explorer of section 10 shows; we
# train it once now and reuse the runs. (So that about a hundred runs take seconds, the library
# trains all networks of a seed side by side, as one stack of weight matrices, in float32;
# `course_lib/widgets/_stacked.py` explains how, and its tests show that it computes the same
# runs as `cl.fit`.) The test set stays untouched until section 10.

# %% tags=["nbval-ignore-output"]
import time

t0 = time.perf_counter()
n_runs = rw.precompute()
print(f"{n_runs} training runs in {time.perf_counter() - t0:.1f} s")

# %%
seeds = rw.grid_seeds()
wrong = np.mean(rw.bench_data()[1] != rw.digits().y_train[:rw.N_TRAIN])
nones = [rw.train_run("none", seed=s) for s in seeds]
none = nones[0]                                        # the first seed's run, used in the figures
print(f"{100 * wrong:.0f}% of the 300 training labels are wrong")
for r in nones:
    print(f"seed {r.seed}: training accuracy {r.train_acc[-1]:.3f} (on the noisy labels), validation "
          f"accuracy {r.val_acc[-1]:.3f}; validation loss {r.val_loss.min():.3f} at its best, "
          f"{r.val_loss[-1]:.3f} at the end")
assert 0.1 < wrong < 0.28                            # 20% replaced, one in ten by the right class
assert all(r.train_acc[-1] > 0.98 for r in nones)                      # it memorizes the wrong labels
assert all(r.val_loss[-1] > r.val_loss.min() and r.val_acc[-1] < r.val_acc.max() - 0.03
           for r in nones)                                              # and pays for it on validation

# %% [markdown]
# On every seed the plain network learns the noisy training labels almost perfectly. Since
# about a fifth of them are wrong, it has learned wrong answers, and validation accuracy ends far
# below what the same run reached earlier (section 5 measures how far).
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
# at the first layer's 8,192 weights (three seeds for the numbers, the first for the figure):

# %%
def trio(s):
    """The L2, L1 and elastic-net runs of seed s compared below."""
    return rw.train_run("L2", 1e-2, seed=s), rw.train_run("L1", 1e-2, seed=s), \
        rw.train_run("elastic net", 10 ** -1.5, seed=s)


for s in seeds:
    for r in (rw.train_run("none", seed=s),) + trio(s):
        print(f"seed {s} {r.label:38s} train acc {r.train_acc[-1]:.3f}, val acc {r.val_acc[-1]:.3f}, "
              f"first-layer |w| < 0.001: {100 * r.near_zero:5.1f}%")
    l2, l1, en = trio(s)
    assert abs(l1.train_acc[-1] - l2.train_acc[-1]) < 0.05      # a comparable price in training accuracy
    assert l1.near_zero > 0.5 and l1.near_zero > 10 * l2.near_zero   # L1: most weights ~0; L2: few
    assert en.near_zero > 5 * l2.near_zero                       # elastic net inherits L1's sparsity
l2, l1, en = trio(seeds[0])

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
log_bins = np.linspace(-7, 0, 57)
for r, color in ((none, "0.5"), (l2, "tab:blue"), (l1, "tab:red")):
    axes[0].stairs(r.counts + 0.5, rw.BINS, baseline=0.5, color=color, lw=1.5, label=r.label)
    axes[1].stairs(np.histogram(np.log10(np.abs(r.W1) + 1e-30), log_bins)[0], log_bins, color=color,
                   lw=1.5, label=r.label)
axes[0].set_yscale("log")
axes[0].set(xlabel="first-layer weight w", ylabel="count (log scale)", title="the weights")
axes[1].axvline(-3, color="0.3", ls=":", lw=1)
axes[1].set(xlabel="log10 |w|", ylabel="count", title="their sizes: L1 piles up below 0.001")
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
# them. The network is **sparse**, on every seed.
#
# ### Feature selection: which pixels does the network still look at?
#
# Sparsity is most useful when it removes whole inputs. Row $i$ of the first weight matrix
# holds everything pixel $i$ sends into the network, so the norm of that row measures how
# much the network uses the pixel. Some pixels at the border of the 8×8 digits are 0 in
# every one of the 300 training images: they carry no information (centred, they are exactly
# 0). Their weights get **no** gradient from the data at all.

# %%
Xb, _ = rw.bench_data()
pixel_std = Xb.std(axis=0)
constant = pixel_std == 0
print(f"{constant.sum()} constant pixels: {np.flatnonzero(constant)}")
for s in seeds:
    runs = (rw.train_run("none", seed=s),) + trio(s)[:2]
    norms = {r.label: rw.pixel_weight_norms(r.W1).ravel() for r in runs}
    n0, n2, n1 = (norms[r.label] for r in runs)
    print(f"seed {s}: weight norm of the constant pixels / mean of the others: "
          f"none {n0[constant].max() / n0[~constant].mean():.3f}, L2 {n2[constant].min() / n2[~constant].mean():.3f}"
          f"–{n2[constant].max() / n2[~constant].mean():.3f}, L1 at most {n1[constant].max() / n1[~constant].mean():.4f}")
    init = rw.pixel_weight_norms(rw.make_mlp(seed=s)[0].W.data).ravel()
    assert np.allclose(n0[constant], init[constant], rtol=1e-5)     # no data gradient, no penalty: still at init
    assert n1[constant].max() < 0.01 * n1[~constant].mean()         # L1: switched off
    assert n2[constant].min() > 0.05 * n2[~constant].mean()         # L2: only dimmed
assert constant.sum() >= 4

fig, axes = plt.subplots(1, 4, figsize=(8.4, 2.7))
axes[0].imshow(pixel_std.reshape(8, 8), cmap="gray")
axes[0].set_title("pixel std over the\ntraining digits", fontsize=9)
for ax, r in zip(axes[1:], (none, l2, l1)):
    img_norm = rw.pixel_weight_norms(r.W1)
    img = ax.imshow(img_norm / img_norm.max(), cmap="magma", vmin=0, vmax=1)
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
# features and drop the rest, somewhat arbitrarily. (Each panel is scaled by its own largest
# norm, so the L2 panel's dimming is relative; the printed ratios are the numbers.)
#
# ### Elastic net
#
# The **elastic net** adds both penalties, $\lambda_1\|w\|_1 + \frac{\lambda_2}{2}\|w\|^2$
# (`cl.ElasticNet(l1, l2)`). The L1 part still produces zeros. The L2 part makes the objective
# strictly convex in the linear case, and it makes correlated features share their weight
# instead of one of them winning. In the runs above (λ1 = 0.0016, λ2 = 0.016) it is about as
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
# a projection back onto the ball of radius $c$. Columns inside the ball are not touched at
# all, so unlike L2 there is no pull on weights that behave. `cl.max_norm(W, c)` does this in
# place; `cl.fit(..., max_norm=c)` applies it after each step to every weight matrix (not to
# biases).

# %%
W = cl.make_rng(3).normal(0, 1, (64, 6)) * np.array([0.1, 0.3, 0.5, 0.8, 1.0, 2.0])
before = np.linalg.norm(W, axis=0)
n_clipped = cl.max_norm(W, 4.0)
after = np.linalg.norm(W, axis=0)
print("column norms before:", np.round(before, 2))
print("column norms after: ", np.round(after, 2), f"({n_clipped} columns projected)")
assert np.all(after <= 4.0 + 1e-9)
assert np.array_equal(after[before <= 4.0], before[before <= 4.0])       # the others are untouched
assert np.allclose(after[before > 4.0], 4.0) and n_clipped == np.sum(before > 4.0)

# %% [markdown]
# The original dropout paper (Srivastava et al., 2014) paired dropout with max-norm, with
# $c$ typically 3–4 in its experiments, and noted that the constraint lets you use much
# larger learning rates: however wild a step is, the weights cannot run away. We test that
# on the full training set (1,079 digits, centred) with a 64 → 128 → 10 network, dropout
# 0.5, momentum 0.9 and mini-batches of 64: 15 epochs at learning rates from 0.05 to 2, with
# and without $c = 3$, three seeds each. We score the mean validation accuracy of the last five
# epochs and count the hidden ReLUs that no training digit turns on any more ("dead").

# %%
sweep = rx.max_norm_sweep()
free, capped = sweep.acc                           # (lr, seed) each
for i, lr in enumerate(sweep.lrs):
    print(f"lr {lr:4g}: unconstrained {free[i].mean():.3f} ({free[i].min():.3f}–{free[i].max():.3f}), "
          f"dead {100 * sweep.dead[0, i].mean():3.0f}% | c = 3: {capped[i].mean():.3f} "
          f"({capped[i].min():.3f}–{capped[i].max():.3f}), dead {100 * sweep.dead[1, i].mean():3.0f}% | "
          f"largest column norm {sweep.col_norm[0, i, :, -1].mean():5.1f} vs {sweep.col_norm[1, i, :, -1].max():.2f}")
print(f"lr {sweep.wild_lr:g} (first seed): " + ", ".join(
    f"{'unconstrained' if c is None else f'c = {c:g}'} {acc:.3f} with {100 * dead:.0f}% dead"
    for c, (acc, dead) in sweep.wild.items()))
sane = sweep.lrs <= 0.5
best_free = free.mean(axis=1).max()
assert np.all(sweep.col_norm[1] <= 3.0 + 1e-5)                    # every unit stays inside the ball
assert np.abs(capped[sane] - free[sane]).mean() < 0.01            # at sane rates max-norm is inert
assert np.all(capped[-1] > 0.9) and np.all(free[-1] < 0.75)       # at lr 2 it limits the damage ...
assert capped[~sane].mean(axis=1).max() < best_free + 0.01        # ... but does not beat the best sane lr
assert all(acc < best_free - 0.2 and dead > 0.8 for acc, dead in sweep.wild.values())   # lr 4 breaks both

rx.plot_max_norm_sweep(sweep)
plt.show()

# %% [markdown]
# Read the figure from the left. At learning rates up to 0.5 the constraint changes nothing
# that matters: the best rates, 0.1–0.5, reach about 0.96 with or without it. Beyond that
# the unconstrained network degrades (lr 1) and then collapses (lr 2): its column norms grow
# without bound and most of its ReLUs die. With $c = 3$ the same rates still give 0.95 or more.
# So **max-norm limits the damage of a too-large learning rate; here it does not make the large
# rate useful**: nothing beats simply using a sane one. It does not remove the upper end
# either: at lr 4 both versions break down (most units dead, accuracy far below a sane rate's),
# because a bound on the weights' length says nothing about the biases or about how a step
# points.
#
# Two lessons about the setting. First, **centring the inputs moved the edge.** The same net
# on raw pixels in $[0, 1]$ already breaks at lr 0.5:

# %%
raw = rx.max_norm_sweep(lrs=(0.5,), wild_lr=None, centre=False)
print(f"raw pixels, lr 0.5: unconstrained {raw.acc[0, 0].mean():.3f} with {100 * raw.dead[0, 0].mean():.0f}% "
      f"dead ReLUs; c = 3: {raw.acc[1, 0].mean():.3f} with {100 * raw.dead[1, 0].mean():.0f}% dead "
      f"(centred: {free[sweep.lrs == 0.5].mean():.3f}, {100 * sweep.dead[0, sweep.lrs == 0.5].mean():.0f}% dead)")
assert np.all(raw.dead[:, 0] > 0.3) and np.all(sweep.dead[:, sweep.lrs == 0.5] < 0.05)
assert raw.acc[:, 0].mean() < free[sweep.lrs == 0.5].mean() - 0.03

# %% [markdown]
# With uncentred inputs every pixel pushes a unit's pre-activation the same way, the first
# steps are large and correlated, and many units are pushed below zero for every digit: they
# die. Preprocessing first, then learning-rate tuning, then constraints.
#
# Second, **a good radius depends on the scale of the inputs and the number of them** (the
# fan-in): $|w \cdot x| \le c\,\|x\|$, so the same $c$ means a different bound on the
# pre-activation when the inputs are larger or more numerous. The 3–4 of the dropout paper
# fits its networks, not necessarily yours: tune $c$ like $\lambda$. On the noisy bench the
# grid of section 10 finds the best radius near $c = 1$ on every seed:

# %%
mn = rw.method_runs("max-norm")                                   # (strength, seed)
mn_final = np.array([[r.val_acc[-1] for r in row] for row in mn])
cs_grid = [row[0].label.split("= ")[1] for row in mn]
print("final validation accuracy by c (mean of the seeds):",
      ", ".join(f"c = {c}: {v:.3f}" for c, v in zip(cs_grid, mn_final.mean(axis=1))))
best_c = np.array([mn[i][0].label for i in mn_final.argmax(axis=0)])
print("best c per seed:", best_c)
assert all(0.7 <= rw.spec("max-norm", rw.STRENGTHS[i]).c <= 1.5 for i in mn_final.argmax(axis=0))
assert mn_final[0].mean() < mn_final.max(axis=0).mean() - 0.04    # c = 4 barely constrains anything here

# %% [markdown]
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
# Patience matters because validation curves are noisy and can have several local minima
# (Prechelt, 1998, "Early stopping — but when?", who studied such stopping criteria
# systematically): with patience 1 the first random uptick would end training.
# `cl.EarlyStopping(patience=5)` does all three steps inside `cl.fit`. Its message counts
# epochs from 1, as the figure does; `stopper.best_epoch` is an index into the per-epoch lists,
# so it counts from 0.

# %%
X, y, (X_val, y_val), _ = rw.bench_sets()            # the bench, centred
model = rw.make_mlp(seed=seeds[0])
loss_fn = cl.SoftmaxCrossEntropy()
stopper = cl.EarlyStopping(patience=5)
hist = cl.fit(model, loss_fn, cl.SGD(model.parameters(), lr=rw.LR, momentum=rw.MOMENTUM), X, y,
              epochs=rw.EPOCHS, batch_size=rw.BATCH_SIZE, val=(X_val, y_val),
              rng=rw.run_rngs(seeds[0])[2], early_stopping=stopper, progress=False)
restored_loss, restored_acc = cl.evaluate(model, loss_fn, X_val, y_val)
print(hist.message)
print(f"best epoch {stopper.best_epoch + 1} (counted from 1, like the message): recorded val loss "
      f"{stopper.best:.6f}; restored model: val loss {restored_loss:.6f}, val accuracy {restored_acc:.3f}")
print(f"training on for all {rw.EPOCHS} epochs would end at val loss {none.val_loss[-1]:.3f}, "
      f"accuracy {none.val_acc[-1]:.3f}")
assert hist.status == "early_stopped" and hist.epochs == stopper.best_epoch + 1 + stopper.patience
assert f"best epoch {stopper.best_epoch + 1} " in hist.message       # the message counts from 1
assert abs(restored_loss - stopper.best) < 1e-12 and stopper.best == min(hist.val_loss)
# the bench's run of this seed (float32, trained with its neighbours) is the same run, cut short,
# and its early-stopping bookkeeping makes the same decision
assert np.allclose(hist.val_loss, none.val_loss[:hist.epochs], atol=1e-4)
assert none.best_epoch == stopper.best_epoch and none.stop_epoch == hist.epochs
for r in nones:
    print(f"seed {r.seed}: early-stopped at epoch {r.best_epoch + 1}: val loss {r.es_val_loss:.3f}, "
          f"accuracy {r.es_val_acc:.3f}; after {rw.EPOCHS} epochs: {r.val_loss[-1]:.3f}, {r.val_acc[-1]:.3f}")
    assert r.es_val_loss < r.val_loss[-1] and r.es_val_acc > r.val_acc[-1] + 0.015
assert np.mean([r.es_val_acc - r.val_acc[-1] for r in nones]) > 0.03   # several points, on average

fig, ax = plt.subplots(figsize=(7.5, 3.6))
ep = np.arange(1, rw.EPOCHS + 1)
ax.plot(ep, none.val_loss, color="tab:orange", alpha=0.35, label="validation, had we not stopped")
ax.plot(ep, none.train_loss, color="tab:blue", alpha=0.35, label="train, had we not stopped")
ax.plot(ep[:hist.epochs], hist.val_loss, "o-", ms=3, color="tab:orange", label="validation (monitored)")
ax.axvline(stopper.best_epoch + 1, color="tab:green", ls="--", lw=1,
           label=f"best epoch {stopper.best_epoch + 1}: weights restored")
ax.axvline(hist.epochs, color="0.4", ls=":", lw=1, label=f"stop after epoch {hist.epochs} (patience {stopper.patience})")
ax.set(xlabel="epoch (counted from 1)", ylabel="cross-entropy (eval mode)", ylim=(0, 2.2),
       title="early stopping on the bench (no other regularization), first seed")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The restored network has exactly the validation loss recorded at its best epoch, below where
# the full run ends, and on every seed it is more accurate than the over-trained one, by several
# points on average (2 to 15 points in our runs, depending on the seed and on the draw of the
# data). Notice also that the lowest validation loss of the whole run (printed in section 3)
# can come later than the epoch patience 5 settles on: validation curves have several local
# minima, which is Prechelt's reason for patience and for not taking the first minimum too
# seriously. All this makes early stopping the **reference** every other method on this bench
# has to beat: "better than training for 60 epochs and keeping the last weights" is a low bar.
#
# A fair reference is also one at its own best learning rate. The bench's 0.05 was not tuned for
# the plain network, so we check the early-stopped plain network at other rates:

# %%
lrs, es_val, _ = rx.lr_check()
print("early-stopped plain network, validation accuracy (mean of the seeds):",
      ", ".join(f"lr {lr:g}: {v:.3f}" for lr, v in zip(lrs, es_val.mean(axis=1))))
assert es_val.mean(axis=1).max() < es_val[list(lrs).index(rw.LR)].mean() + 0.025   # 0.05 is within 2.5 points

# %% [markdown]
# Early stopping is almost insensitive to the learning rate here (a larger rate just reaches
# its best epoch sooner): the rates from 0.02 to 0.2 end within a couple of points of each
# other, and which one is best changes with the seed. 0.05 is a fair reference. Early stopping
# is close to free, and it combines with everything else, so use it almost always. Two caveats:
#
# * The validation set now chooses something (the epoch). Its loss is therefore an optimistic
#   estimate of the test loss; report the test set (section 10 does).
# * Stopping early is itself a kind of L2 penalty. For a quadratic loss and gradient descent
#   started near 0, stopping after $t$ steps of size $\eta$ behaves roughly like an L2
#   penalty with $\lambda \approx 1/(\eta t)$ (Goodfellow et al., *Deep Learning*, §7.8): the
#   weights have not had time to grow. The number of epochs is a regularization
#   hyperparameter, whether you tune it or not.
#
# ## 6. Noise on the inputs and data augmentation
#
# If a small change to an input should not change its label, train on changed inputs: each
# epoch the network sees a new version of every example, with the old label. This is **data
# augmentation**. It tells the network which differences to ignore, and it makes a small data
# set behave more like a large one. (Adding small Gaussian noise of variance $\sigma^2$ to the
# inputs is, to leading order in $\sigma^2$, equivalent to a Tikhonov penalty on the derivatives
# of the network's output with respect to its inputs; Bishop, 1995.)
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
# Here is a digit that touches the right border, so that the shifts are easy to see:

# %%
split = rw.digits()
i_digit = rw.border_digit("right")
digit = split.X_train[i_digit:i_digit + 1]
variants = [("original", digit), ("right", rw.shift_digits(digit, 1, 0)),
            ("left", rw.shift_digits(digit, -1, 0)), ("up", rw.shift_digits(digit, 0, -1)),
            ("down", rw.shift_digits(digit, 0, 1)), ("noise σ = 0.2", rw.augment(digit, cl.make_rng(4), noise=0.2))]
fig, axes = plt.subplots(1, 6, figsize=(8.4, 1.9))
for ax, (name, img) in zip(axes, variants):
    ax.imshow(img.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"one training digit (a {split.y_train[i_digit]}) and five augmented versions", fontsize=10)
fig.subplots_adjust(top=0.75)
plt.show()
assert digit[0].reshape(8, 8)[:, 7].sum() > 1.0           # it really touches the right border
assert np.array_equal(rw.shift_digits(rw.shift_digits(digit, 1, 0), -1, 0)[0].reshape(8, 8)[:, :7],
                      digit[0].reshape(8, 8)[:, :7])      # a shift moves pixels, it does not change them

# %% [markdown]
# Moved right, the digit loses its rightmost column. The experiment: the bench network on only
# 200 clean training digits (centred) for 60 epochs, three seeds, each with no augmentation,
# with noise, and with shifts. We measure accuracy on the usual validation digits and on a copy
# of them in which every digit is moved by one pixel.

# %%
kinds = list(rw.AUGMENTATIONS)
# res[kind]: one row per seed: validation accuracy, validation loss, accuracy on shifted digits
res = {k: np.array([rw.train_augmented(k, s) for s in seeds]) for k in kinds}
for k in kinds:
    a = res[k]
    print(f"{k:7s}: val acc {np.round(a[:, 0], 3)} (mean {a[:, 0].mean():.3f}), val loss "
          f"{np.round(a[:, 1], 3)}, accuracy on shifted digits {np.round(a[:, 2], 3)}")
assert res["noise"][:, 1].mean() < res["none"][:, 1].mean() + 0.01      # noise: no worse a val loss on average
assert res["noise"][:, 0].mean() > res["none"][:, 0].mean() - 0.005      # and no loss in accuracy
assert np.all(res["none"][:, 2] < res["none"][:, 0] - 0.4)               # the MLP fails on shifted digits
assert np.all(res["shifts"][:, 2] > res["none"][:, 2] + 0.35)            # shift augmentation fixes that ...
assert np.all(np.abs(res["none"][:, 0] - res["shifts"][:, 0]) < 0.06)    # ... at little change on centred digits

# %% [markdown]
# An honest result in three parts.
#
# * **Noise** is a modest regularizer at best: on most draws of the data it lowers the
#   validation loss by a few hundredths, on some it changes nothing, and it leaves the accuracy
#   about where it was.
# * **Shifts** change the accuracy on the validation digits by a few points at most, up or
#   down depending on the seed (and on the draw of the data: `COURSE_SEED`). These digits
#   were centred and size-normalized when the data set was made, so the test data contain no
#   shifts to be robust to. On an 8×8 grid a one-pixel
#   move is also a big change (an eighth of the image).
# * But look at the shifted copy of the validation set. The plain MLP drops from above 0.9 to
#   about 0.3: moved by one pixel, most digits are no longer recognized. With shift
#   augmentation it gets about 0.8. Augmentation buys exactly the invariance you train for;
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
# **Label smoothing** (Szegedy et al., 2016, "Rethinking the Inception architecture for
# computer vision", where it was introduced for Inception-v3) trains towards a softened target
# instead,
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
growth0, growth1 = z0[-1] / z0[i250] - 1, z1[-1] / z1[i250] - 1
assert growth1 < 0.3 * growth0 and z1[-1] < 0.5 * z0[-1]       # smoothed logits: small, and they barely grow
assert loss1[-1] > floor                                        # the smoothed loss stays above its floor
assert m1[-1] < margin < m0[-1]        # smoothed margins stay below the ideal 4.51; hard ones pass it

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
for a, (st, loss, znorm, marg, acc) in runs.items():
    axes[0].semilogx(st, znorm, label=f"α = {a}")
    axes[1].loglog(st, loss, label=f"α = {a}")
axes[1].axhline(floor, color="tab:orange", ls=":", lw=1, label="floor for α = 0.1 (entropy of t)")
axes[0].set(xlabel="step (log scale)", ylabel="mean logit norm ‖z‖",
            title="without smoothing the logits keep growing")
axes[1].set(xlabel="step (log scale)", ylabel="training loss (log scale)",
            title="the smoothed loss has a floor")
axes[0].set_title("without smoothing the logits keep growing", fontsize=10)
axes[1].set_title("the smoothed loss has a floor", fontsize=10)
for ax in axes:
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Without smoothing the loss heads to 0 and the logits keep growing, although every training
# example is already classified correctly. Under plain gradient descent the growth is roughly
# logarithmic in the number of steps; under Adam, as here, it is faster. Nothing in the loss
# ever stops it; the mean margin is already past 4.51 and still rising. With $\alpha = 0.1$ the
# logit norm levels off after a small overshoot, within a hundred steps or so, at less than half
# the unsmoothed norm, and from there it barely moves (it drifts up by a few percent on some
# draws of the digits, where the unsmoothed one grows by half), while the loss settles above
# its floor. (A linear model cannot give all 200 examples the ideal margin at once, so it stops
# a little above the floor, with a mean margin below 4.51.)
#
# ### Does smoothing help on the bench? Accuracy and calibration
#
# Two benefits are claimed for label smoothing: a little more accuracy, and better
# **calibration**: predicted probabilities that mean what they say (Müller, Kornblith and
# Hinton, 2019, "When does label smoothing help?", measured it on image and translation
# models). A classifier is calibrated if, among the examples it labels with confidence 0.8
# (its largest softmax probability), 80% are right. To measure it, sort the validation
# predictions into 15 equal-width confidence bins $B_b$ and compare, in each bin, the
# accuracy with the mean confidence. The **expected calibration error** (Guo et al., 2017,
# "On calibration of modern neural networks") averages the gaps, weighted by the bins' sizes:
#
# $$\mathrm{ECE} = \sum_b \frac{|B_b|}{N}\,\big|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\big| .$$
#
# Plotted, accuracy against confidence per bin is a **reliability diagram**; points below the
# diagonal are over-confident, points above it under-confident.
# `cl.diagnostics.expected_calibration_error(probs, y)`, `cl.diagnostics.calibration_bins` and
# `cl.plots.plot_reliability` compute and draw them. We train the noisy-label bench with
# $\alpha = 0$, $0.1$ and $0.2$ on five seeds (60 epochs, nothing else changed) and measure the
# final and the early-stopped models:

# %%
sm = rx.smoothing_study(alphas=(0.0, 0.1, 0.2), n_seeds=5)
for i, a in enumerate(sm.alphas):
    print(f"α = {a:g}: final accuracy {np.round(sm.acc[i], 3)}, mean confidence {sm.confidence[i].mean():.3f}, "
          f"ECE {np.round(sm.ece[i], 3)}")
    print(f"         early-stopped accuracy {np.round(sm.es_acc[i], 3)}, mean confidence "
          f"{sm.es_confidence[i].mean():.3f}, ECE {np.round(sm.es_ece[i], 3)}")
probs0 = sm.probs[0][0]
assert abs(cl.diagnostics.expected_calibration_error(probs0, rw.bench_sets()[2][1]) - sm.ece[0, 0]) < 1e-12
acc_gain = cl.paired(sm.acc[1], sm.acc[0], ("α = 0.1", "α = 0"))
print(acc_gain.summary())
assert acc_gain.mean > 0                                        # at the last epoch, a little more accuracy,
assert abs(sm.es_acc[1].mean() - sm.es_acc[0].mean()) < 0.025   # early-stopped, no clear change ...
assert sm.ece[1].mean() > sm.ece[0].mean() and np.all(sm.ece[2] > sm.ece[0])   # ... but worse calibration:
assert np.all(sm.confidence[1:] < sm.acc[1:] - 0.05)            # smoothed nets are under-confident here
assert np.all(sm.es_confidence[0] < sm.es_acc[0] - 0.05)        # and so is the early-stopped plain net

fig = rx.plot_smoothing(sm)
plt.show()

# %% [markdown]
# The numbers do not repeat the textbook story, and that is the point of measuring.
#
# * **Accuracy.** At the last epoch smoothing gains a little on average (the paired difference
#   above): like the other regularizers, it slows the memorization of the wrong labels. The
#   early-stopped models gain nothing consistent from it.
# * **Calibration.** The plain network trained to the end is only mildly over-confident on
#   these digits (ECE between about 0.03 and 0.1; its points sit close to the diagonal).
#   Smoothing pulls every prediction away from 1, by design: its mean confidence falls to
#   about 0.67 at $\alpha = 0.1$ while its accuracy stays around 0.8. The smoothed networks are
#   **under-confident** (their points sit above the diagonal), and their ECE is larger on
#   average, up to about three times. At $\alpha = 0.2$ it is larger on every seed. (The
#   early-stopped plain network is under-confident too: it stopped before its probabilities
#   had grown.)
#
# Müller et al. found better calibration on large networks that are strongly over-confident
# without smoothing; there, pulling the probabilities in corrects an error. Here there was
# little over-confidence to correct, and a fifth of the training labels are wrong, which already
# teaches the network to hedge. Smoothing changes calibration in a known *direction* (less
# confident); whether that is better depends on where the model stood. Measure it, and if you
# need calibrated probabilities, fit a temperature on the validation set (Guo et al.'s
# temperature scaling) rather than hoping a regularizer gets it right.
#
# Label smoothing is standard for large image classifiers and for translation models, usually
# with $\alpha = 0.1$. One known side effect: it squeezes the examples of a class together in
# the last hidden layer, which makes the network a worse *teacher* for knowledge distillation
# (Müller et al., 2019).
#
# ## 8. Ensembles
#
# Train several models and average their predictions. If model $i$ makes an error $e_i$ with
# variance $\sigma^2$, and the errors are **independent**, the average has variance
#
# $$\mathrm{Var}\Big(\frac1n \sum_{i=1}^n e_i\Big) = \frac{\sigma^2}{n} .$$
#
# If the errors have pairwise correlation $\rho$, the variance is
# $\sigma^2\big(\rho + \frac{1 - \rho}{n}\big)$: only the uncorrelated part averages out. A
# quick simulation of correlated errors checks the formula:

# %%
ns = np.array([1, 2, 5, 10, 20, 50])
var_ind = rw.average_variance(ns, sigma=1.0, rho=0.0)
var_cor = rw.average_variance(ns, sigma=1.0, rho=0.5)
for n, a, b in zip(ns, var_ind, var_cor):
    print(f"n = {n:2d}: independent {a:.4f} (σ²/n = {1 / n:.4f}); correlated ρ = 0.5: {b:.4f} "
          f"(theory {0.5 + 0.5 / n:.4f})")
assert np.all(np.abs(var_ind * ns - 1) < 0.05)                   # ≈ σ²/n within 5%
assert np.all(np.abs(var_cor / (0.5 + 0.5 / ns) - 1) < 0.05)     # ≈ σ²(ρ + (1 - ρ)/n)

# %% [markdown]
# Models trained on the same data make correlated mistakes, so the gain from an ensemble is
# real but smaller than $1/n$. Ways to get members whose errors are as independent as possible:
#
# * **different seeds**: same data and architecture, different initialization and shuffling;
#   for neural networks this alone gives surprisingly diverse models;
# * **bagging** (bootstrap aggregating): train each model on a bootstrap sample, $N$ examples
#   drawn *with replacement* (each model sees about 63% of the distinct examples);
# * **different architectures or hyperparameters**;
# * **snapshots** of a single run: average the predictions of checkpoints saved along the way
#   (often combined with a cyclic learning rate so that the snapshots differ more), or average
#   the *weights* of late checkpoints (Polyak averaging, stochastic weight averaging,
#   `cl.AveragedModel`). These cost one training run instead of $n$.
#
# Dropout (notebook 05) is an implicit ensemble of this kind. On the bench we average the class
# probabilities of four members trained on different seeds, and repeat that on three disjoint
# blocks of seeds (12 seeds per recipe). The members are: unregularized and trained to the end;
# unregularized and early-stopped; and L2, dropout and max-norm, each at the strength the grid
# of section 10 finds best (on the validation set, mean of its three seeds).

# %%
members = {"no regularization": rw.spec("none"), "early-stopped": "early-stopped"}
members.update({m: rx.tuned_spec(m) for m in ("L2", "dropout", "max-norm")})
ens = rx.ensemble_study(members, n_members=4, n_blocks=3)
es_single = ens.single["early-stopped"].mean(axis=1)           # early stopping alone, mean member, per block
for name in ens.names:
    print(f"{ens.labels[name]:34s} mean member {np.round(ens.single[name].mean(axis=1), 3)}, best member "
          f"{np.round(ens.single[name].max(axis=1), 3)}, ensemble of 4 {np.round(ens.ens_acc[name], 3)} "
          f"(gain vs mean {np.round(ens.gain_mean(name), 3)}, vs best {np.round(ens.gain_best(name), 3)})")
regularized = ("L2", "dropout", "max-norm")
best_reg = np.max([ens.ens_acc[m] for m in regularized], axis=0)
assert np.all(ens.ens_acc["no regularization"] < es_single - 0.02)   # over-trained members lose to early stopping
assert np.mean(best_reg - es_single) > 0.005 and np.sum(best_reg > es_single) >= 2   # regularized ones beat it
assert np.mean([ens.gain_mean(n) for n in ens.names]) > 0            # an ensemble beats its mean member on average
assert min(ens.gain_mean(n).min() for n in ens.names) > -0.01        # and never loses more than a point to it

rx.plot_ensembles(ens)
plt.show()

# %% [markdown]
# What the ensembles show:
#
# * Averaging **over-trained** members does not undo the over-training: four unregularized
#   runs that memorized the wrong labels, averaged, stay far below a single early-stopped run.
#   An ensemble averages out the *differences* between its members (their variance), not what
#   they all learned wrong.
# * Ensembles of **regularized** (or early-stopped) members are the best results of the bench:
#   above early stopping alone on average and on most blocks (by up to three points; on some
#   draws of the data by less than one, and on an occasional block not at all). Ensembling
#   *adds to* regularization; it does not replace it.
# * The gain over the **average** member is small here (at most about three points, sometimes
#   none) and levels off after a few members (the left panel): the members make correlated
#   mistakes. An ensemble does not always beat its **best** member, but you only know which
#   member is best by spending the validation set on it.
#
# The price of a real ensemble is $n$ times the training *and* the prediction cost. That is why
# ensembles win competitions and are rarer in deployed systems, and why cheap approximations
# exist. The cheapest: average the predictions of the last 10 epochs of *one* run.

# %%
snap = rx.snapshot_study()
for i, s in enumerate(seeds):
    print(f"seed {s}: final model accuracy {snap['final_acc'][i]:.3f}, NLL {snap['final_nll'][i]:.3f}; "
          f"average of the last 10 epochs {snap['snap_acc'][i]:.3f}, NLL {snap['snap_nll'][i]:.3f}")
assert np.all(np.abs(snap["snap_acc"] - snap["final_acc"]) < 0.02)   # accuracy: no real change either way
assert snap["snap_nll"].mean() < snap["final_nll"].mean()            # probabilities: slightly better on average

# %% [markdown]
# Consecutive epochs of one over-trained run make almost the same mistakes, so their average
# is nearly the final model: a slightly better NLL, no real change in accuracy. Snapshots help
# when the snapshots differ (a cyclic learning rate that kicks the run out of its minimum
# between snapshots) and when the run is not over-trained to begin with.
#
# ## 9. Don't shrink the network: regularize it
#
# If a network overfits, why not just make it smaller? That looks like the lesson of the U
# in section 1. For networks it is usually the wrong one: capacity helps in ways that
# regularization does not undo. A large network can represent the right function, the
# regularizer then stops it from fitting the noise, and large networks are *easier to
# optimize*: their loss landscapes have many minima of about equal quality (Choromanska et
# al., 2015, found the spread of their losses shrinking as networks grow), while a small
# network may not even fit the data it should. The practical rule: use the biggest network your
# compute budget allows, and control overfitting with the tools of this notebook.
#
# To test the rule fairly, size and regularization must be varied *separately*: small and big
# networks, each with and without dropout (dropout 0.3 for the small ones, 0.5 for the big
# ones; not tuned per size), each measured at its last epoch and early-stopped, four seeds each.

# %%
shrink = rx.shrink_study(n_seeds=4)
for name, v in shrink.items():
    print(f"{name:28s} ({v['params']:6,d} parameters): last epoch {v['final'].mean():.3f} "
          f"({v['final'].min():.3f}–{v['final'].max():.3f}), early-stopped {v['es'].mean():.3f} "
          f"({v['es'].min():.3f}–{v['es'].max():.3f}); final training loss {v['train_loss'].mean():.2f}")
small, small_do = shrink["64-32-10"], shrink["64-32-10, dropout 0.3"]
big, big_do = shrink["64-256-256-10"], shrink["64-256-256-10, dropout 0.5"]
print(f"\n{'2 × 2 (mean of the seeds)':30s} {'no regularization':>18s} {'dropout':>8s}")
for key, when in (("final", "last epoch"), ("es", "early-stopped")):
    for name, (plain_net, dropout_net) in (("64-32-10", (small, small_do)), ("64-256-256-10", (big, big_do))):
        print(f"{name + ', ' + when:30s} {plain_net[key].mean():18.3f} {dropout_net[key].mean():8.3f}")
size_gain = big["final"].mean() - small["final"].mean()
dropout_gain = small_do["final"].mean() - small["final"].mean()
assert size_gain > 0                                      # even unregularized, the big net is better at the end
assert dropout_gain > size_gain                           # ... but dropout buys the small net more than size
assert abs(big["es"].mean() - small["es"].mean()) < 0.03  # early-stopped, the two sizes are close
plain = [v for v in shrink.values() if v["p"] == 0]
assert big_do["es"].mean() > max(v["es"].mean() for v in plain) - 0.01   # big + dropout: as good as any plain size
tiny = shrink["64-8-10"]
assert tiny["es"].mean() < min(v["es"].mean() for n, v in shrink.items() if n != "64-8-10")  # tiny: worst
assert np.all(tiny["train_loss"] > 2 * np.max([v["train_loss"] for v in plain[1:]], axis=0))  # tiny: can't fit

rx.plot_shrink(shrink)
plt.show()

# %% [markdown]
# The 2 × 2 table separates the two effects. At the last epoch, **even without
# regularization the big network generalizes better than the small one** (by one to four points
# in our runs on different `COURSE_SEED`s), and dropout is worth more than size for the small
# network. Early-stopped, the plain sizes from 2,400 to 85,000 parameters end within two or
# three points of each other, and the big network with dropout is as good as the best of them
# (within about a point) or better. Nowhere did shrinking help: the tiniest network (610
# parameters), which cannot even fit its training set, is the worst early-stopped network on
# the bench. (The dropout rates were not tuned per size, and four seeds leave differences of a
# point or two within the noise; the figure shows every seed.)
#
# ### How does that fit with the U of section 1?
#
# Every network here except the tiny one has more parameters than there are training examples
# (300) and fits its noisy training labels almost perfectly: it could memorize them, and by the
# end it does. Classical bias–variance reasoning says such a model should generalize terribly,
# and the bigger the worse. It does not, and the same happens with much larger networks: test
# error keeps falling as models grow past the point where they can interpolate the training
# data. Belkin et al. (2019, "Reconciling modern machine-learning practice and the classical
# bias–variance trade-off") called the full curve **double descent**: the classical U up to
# the *interpolation threshold*, where the model can just fit the data, a peak there, and a
# second descent beyond it. Nakkiran et al. (2020, "Deep double descent") showed it in deep
# networks, in model size and in training time. Beyond the threshold there are many ways to
# fit the data, and the training procedure picks a smooth one: gradient descent from a small
# initialization prefers small weights, an **implicit regularization**.
#
# Our polynomials show the whole curve. Extend section 1's sweep past degree 19 (20
# coefficients for 20 points, the threshold): least squares then has infinitely many exact
# fits, and `lstsq` returns the one with the smallest coefficients.

# %%
dd_degrees = np.array([0, 1, 2, 3, 4, 5, 7, 9, 11, 13, 15, 17, 18, 19, 20, 21, 23, 26, 30, 40, 60, 100])
_, dd_train, dd_val = rx.double_descent(dd_degrees, n_draws=len(draws))
at = {d: i for i, d in enumerate(dd_degrees)}
print("validation MSE, mean of the draws: " + ", ".join(f"degree {d}: {dd_val[:, at[d]].mean():.3g}"
                                                      for d in (5, 15, 19, 21, 40, 100)))
assert np.all(dd_train[:, at[19]:] < 1e-12)                     # from degree 19 on, the fit is exact
assert np.all(dd_val[:, at[19]] > 100 * dd_val[:, at[5]])        # the peak at the interpolation threshold
assert np.all(dd_val[:, at[100]] < 0.01 * dd_val[:, at[19]])     # the second descent, on every draw,
assert dd_val[:, at[100]].mean() < dd_val[:, at[15]].mean()      # on average below the overfit degree 15
assert np.all(dd_val[:, at[100]] > dd_val[:, :at[15]].min(axis=1))   # but not below the classical optimum here

fig, ax = plt.subplots(figsize=(7.0, 3.5))
cl.plots.plot_seeds(dd_degrees + 1, dd_val, ax=ax, label="validation MSE", color="tab:orange", logx=True)
ax.axvline(20, color="0.4", ls=":", lw=1)
ax.text(22, 1e3, "interpolation threshold:\n20 coefficients, 20 points", fontsize=8.5, color="0.3")
ax.axhline(noise_var, color="0.5", lw=0.8, ls=":")
ax.set(yscale="log", xlabel="coefficients = degree + 1 (log scale)", ylabel="validation MSE (log scale)",
       title=f"double descent of minimum-norm least squares ({len(draws)} draws)")
ax.set_xticks([1, 2, 4, 6, 10, 20, 40, 101], ["1", "2", "4", "6", "10", "20", "40", "101"])
ax.minorticks_off()
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# On every draw: the U of section 1, an enormous peak at degree 19, where there is exactly one
# fit and it must pass through every noisy point, and then a second descent, on average to
# below the error of degree 15, as the extra coefficients let the minimum-norm solution spread
# the fit over many small terms. For these polynomials the second descent does not beat the
# best small degree; for large networks trained by SGD it often does. The U is not wrong, it is the first
# half of the picture, and the number of parameters is a poor measure of capacity once the
# training procedure chooses among many perfect fits. That is why the rule is "big network,
# regularized, early-stopped", not "small network".
#
# ## 10. Explore: method × strength
#
# The explorer shows every run of the bench grid, on its three seeds. Choose a **method** and
# move the **strength** (seven steps, log scale). What the strength means per method: L2
# $\lambda$ from $10^{-4}$ to $0.1$; L1 $\lambda$ from $3\cdot10^{-5}$ to $0.03$; elastic net
# $\lambda_1$ from $5\cdot10^{-6}$ to $0.005$ with $\lambda_2 = 10\lambda_1$; max-norm $c$ from 4
# down to 0.5; dropout $p$ from 0.1 to 0.95. Top left: the first-layer weight histogram of the
# first seed (grey: no regularization). Top right: the final validation accuracy of each
# strength, per seed and mean, against the unregularized net at its last epoch and
# early-stopped. Bottom: loss and accuracy per epoch, mean of the seeds (faint: no
# regularization, and each seed's validation accuracy). Strongly regularized runs show
# *validation* accuracy above *training* accuracy. That is not a bug: about a fifth of the
# training labels are wrong, and a network that refuses to learn them scores at most about 0.8
# on the training set.
#
# Things to try: find the strength at which each method is best and where it starts to
# underfit; compare the histogram shapes of L1, L2 and max-norm (a hard edge?); check which
# methods leave the histogram alone although they change the curves; find the methods whose
# best final accuracy is still below the early-stopped plain network.

# %% tags=["nbval-ignore-output"]
display(rw.regularization_explorer(strength=1e-2, method="L1"))

# %% [markdown]
# ### Each method at its best, against early stopping
#
# The question a practitioner asks is not "does L2 beat a network trained too long?" but
# "does it beat what I get for free by early stopping?" We answer it with the protocol of
# notebook 08: choose each method's strength on the validation set (best mean final accuracy of
# the three seeds; the grid is wide enough that the best is never at its edge), then measure
# the chosen network **once on the test set**, which nothing so far has looked at. The
# reference is the plain network early-stopped (its own best epoch), also on the test set. We
# also train every chosen setting for 150 epochs instead of 60, to see whether the methods
# prevent memorization or only slow it down.

# %%
comp = rx.comparison(n_seeds=len(seeds), long_epochs=150)
ref = comp.ref
print(f"no regularization: test accuracy last epoch {np.round(ref['test'], 3)}, early-stopped "
      f"{np.round(ref['es_test'], 3)}, after {comp.long_epochs} epochs {np.round(ref['long_test'], 3)}")
for m in comp.choice:
    gain = cl.paired(comp.test[m], ref["es_test"], (m, "early stopping"))
    print(f"{comp.labels[m]:36s} (each seed's best: {comp.per_seed_best[m]}) test {np.round(comp.test[m], 3)}; "
          f"+ early stopping {np.round(comp.es_test[m], 3)}; {comp.long_epochs} epochs {np.round(comp.long_test[m], 3)}")
    print(f"{'':36s} {gain.summary()}")
gains = {m: comp.test[m].mean() - ref["es_test"].mean() for m in comp.choice}    # over early stopping
es_gain = ref["es_test"].mean() - ref["test"].mean()                               # early stopping's own
assert not any(comp.edge.values())                                          # no best strength at the edge,
assert all(np.all((0 < b) & (b < len(rw.STRENGTHS) - 1)) for b in comp.per_seed_best.values())  # on any seed
assert all(comp.test[m].mean() > ref["test"].mean() + 0.005 for m in comp.choice)   # each beats the over-trained
assert all(np.all(comp.test[m] > ref["test"]) for m in comp.choice if m != "L1")   # net, all but L1 on every seed
assert es_gain > np.mean(list(gains.values()))         # but early stopping alone gets most of the way
assert ref["long_test"].mean() < ref["test"].mean() + 0.01                  # the plain net gets no better
assert all(comp.long_test[m].mean() > ref["long_test"].mean() + 0.03 for m in comp.choice if m != "L1")

rx.plot_comparison(comp)
plt.show()

# %% [markdown]
# Tuned, every method beats the network trained for 60 epochs without regularization on
# average (by 1 to 10 points in our runs, depending on how much the over-trained net loses on a
# given draw of the data), and all but L1 on every seed. That is the comparison most
# demonstrations show, and it is the weak one. Against **early stopping**, the honest
# reference, the picture changes: the gains shrink to a few points on the test set (mean of
# three seeds, with seed-to-seed differences of one to two points), some methods are not ahead
# at all, and L1 usually trails. How much a tuned method adds varies with the draw of the data:
# in our runs on other `COURSE_SEED`s, from nothing to about five points, most where early
# stopping itself did worst. In every run, early stopping alone recovered more than the tuned
# methods added on top of it on average, usually two or three times as much.
#
# Adding early stopping on top of a tuned method (open circles) moves the result by a point or
# two either way, and more for L1, whose validation loss can rise early while the penalty is
# still pruning weights, so that patience 5 stops too soon on some seeds and at a good moment on
# others. Trained for 150 epochs the plain network gets no better (usually a point or two
# worse); L2, elastic net, max-norm and dropout keep most of their 60-epoch accuracy at these
# strengths and stay well above it, so they do slow memorization a lot. L1 at its 60-epoch strength loses more of its gain on some seeds.
#
# So on this bench: early stopping is the first regularizer to use; a tuned weight penalty,
# max-norm or dropout may add a few points; an ensemble of such networks adds up to another
# three (section 8). These are conclusions about a 9,600-parameter MLP on 300 noisy digits;
# the *method* (tune on validation, compare against early stopping, report the test set, on
# several seeds) carries over, the numbers do not.
#
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
# 6. A colleague adds label smoothing ($\alpha = 0.1$) "to calibrate the model" and reports a
#    higher ECE than before. Is that a bug?
#
# <details><summary>Answer</summary>
#
# Not necessarily. Smoothing lowers every confidence. If the model was over-confident, that
# moves the reliability diagram towards the diagonal and the ECE falls; if it was already
# calibrated (or under-confident, as early-stopped or noisy-label models often are), it pushes
# the model past the diagonal and the ECE rises, as on our bench. Look at the reliability
# diagram (which side of the diagonal are the points?) and, for calibrated probabilities, fit
# a temperature on the validation set instead.
# </details>
#
# ## Summary
#
# * The **generalization gap** is validation minus training error. More capacity lowers the
#   bias and raises the variance; the expected test error is bias² + variance + noise, so it
#   traces a U, up to the interpolation threshold; beyond it the error can fall again (double
#   descent). **Regularization** is anything meant to lower generalization error rather than
#   training error; it usually raises the training error a little.
# * Penalize **weights, not biases** (`cl.L2`, `cl.L1`, `cl.ElasticNet` skip them by default;
#   an optimizer's `weight_decay=` does not).
# * **L2**: $\frac\lambda2\|w\|^2$, gradient $\lambda w$, each SGD step multiplies the weights
#   by $1 - \eta\lambda$ (weight decay). It is MAP estimation with a Gaussian prior,
#   $\lambda = 1/(N\sigma_w^2)$. It equals decoupled weight decay only for SGD, not for Adam (use AdamW).
# * **L1**: $\lambda\|w\|_1$, subgradient $\lambda\,\mathrm{sign}(w)$, a constant pull that drives
#   weights to (near) zero. Sparse weights mean feature selection: here it switched off the
#   uninformative border pixels. **Elastic net** combines both.
# * **Max-norm** projects each unit's incoming weights onto $\|w\| \le c$ after every step. It
#   limits the damage of a too-large learning rate but does not make that rate better than a
#   sane one; a good $c$ depends on the input scale and fan-in (3–4 in the dropout paper, about
#   1 on our bench): tune it like $\lambda$. Centring the inputs did more for large rates here.
# * **Early stopping** with patience restores the weights of the best validation epoch: almost
#   free, akin to L2, and the reference every other method must beat. Against it, tuned
#   penalties, max-norm and dropout gained at most a few points on the bench.
# * **Noise and augmentation** teach invariances. They help where test data vary that way (shifted
#   digits: about 0.3 → 0.8) and hardly matter where they do not. CNNs get translation from
#   weight sharing.
# * **Label smoothing** $t = (1-\alpha)\,\mathrm{onehot} + \alpha/K$ gives the loss a finite
#   optimum (margin $\log(1 + K(1-\alpha)/\alpha)$); without it the logits grow forever on
#   separable data. It lowers every confidence: that improves calibration only if the model
#   was over-confident (on our bench it was not, and the ECE rose). Measure it.
# * **Ensembles** divide the independent part of the variance by $n$:
#   $\sigma^2(\rho + (1-\rho)/n)$. They add to regularization and do not replace it: over-trained
#   members stay over-trained; regularized members gave the best results of the bench.
# * **Don't shrink the network to regularize it**: even unregularized, the big net beat the
#   small one at the last epoch, and regularized and early-stopped it was as good as any size.
#
# **Next:** [08 Training in practice](08_training_in_practice.ipynb). **Practice:** the exercise
# notebook [exercises/07_regularization.ipynb](../exercises/07_regularization.ipynb): write the
# penalties, the max-norm projection and label smoothing yourself, with instant checks.
