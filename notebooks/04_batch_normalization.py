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
# # 04 · Batch normalization
#
# Notebook 02 chose the weight scale so that activations keep a sensible size from layer to
# layer, but only at initialization: as soon as the weights move, the distribution of every
# hidden layer's input moves with them. **Batch normalization** (Ioffe & Szegedy, 2015) does
# not rely on a good start. It re-standardizes each feature of a hidden layer on every
# mini-batch, and it adds two parameters per feature so the network keeps all of its
# expressive power. In practice this lets a deep net train with larger learning rates and
# makes it much less sensitive to the initial weight scale. It also brings a trap: the layer
# behaves differently in training and in evaluation.
#
# **Learning objectives.** After this notebook you can
#
# 1. compute the batch-norm transform by hand: batch mean, biased batch variance,
#    $\hat x$, and $y = \gamma\hat x + \beta$, and explain why $\gamma, \beta$ cost no
#    expressive power;
# 2. place BN in a network (after the affine layer, before the non-linearity, as in the paper)
#    and explain why the preceding bias becomes useless;
# 3. keep and use the running statistics correctly: the update rule, PyTorch's `momentum` vs the
#    "decay" of other libraries, the unbiased variance in the running estimate, and what goes
#    wrong when a model is evaluated with batch statistics;
# 4. state the backward pass in its compact form and verify it with a gradient check;
# 5. measure what BN does on real data: larger usable learning rates, robustness to the init
#    scale, and only a small regularizing side effect.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (layers, losses, the digits),
# [02 Initialization](02_initialization.ipynb) (variance propagation, He init) and
# [03 Backpropagation](03_backpropagation.ipynb) (backward passes, gradient checking).
#
# **Estimated time.** 60–75 minutes.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets import batchnorm as bnw

cl.set_seed(0)
X_train, y_train, X_val, y_val, X_test, y_test = cl.data.load_digits()
print(f"digits: train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}")

# %% [markdown]
# ## 1. The transform, one step at a time
#
# Take a mini-batch of $N$ examples arriving at a layer with $D$ features, $x \in
# \mathbb{R}^{N\times D}$. Batch normalization treats **each feature (column) separately** and
# uses only the examples of the current mini-batch:
#
# $$
# \mu_B = \frac1N\sum_{i=1}^N x_i, \qquad
# \sigma_B^2 = \frac1N\sum_{i=1}^N (x_i-\mu_B)^2, \qquad
# \hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\varepsilon}}, \qquad
# y_i = \gamma\,\hat x_i + \beta .
# $$
#
# All operations are per feature: $\mu_B, \sigma_B^2, \gamma, \beta \in \mathbb{R}^D$.
# The variance is the **biased** one (divide by $N$, not $N-1$): we are standardizing *this*
# batch, not estimating a population. $\varepsilon$ (`eps`, $10^{-5}$ by default) keeps
# the division safe when a feature is almost constant in the batch. $\gamma$ starts at 1 and
# $\beta$ at 0, and both are learned like any weight.
#
# Here are the pre-activations of a random `Linear(64, 16)` layer on one mini-batch of 64
# digits, normalized once by hand and once by `cl.BatchNorm1d`:

# %%
lin = cl.Linear(64, 16, rng=1)
x = lin.forward(X_train[:64])            # pre-activations of one mini-batch, (N, D) = (64, 16)

eps = 1e-5
mu = x.mean(axis=0)                      # μ_B, one per feature
var = x.var(axis=0)                      # σ²_B, BIASED: divides by N
x_hat = (x - mu) / np.sqrt(var + eps)
gamma, beta = np.ones(16), np.zeros(16)  # the initial values of BN's parameters
y_hand = gamma * x_hat + beta

bn = cl.BatchNorm1d(16)
y_bn = bn.forward(x)                     # training mode: uses the batch statistics
print("feature means before:", np.round(mu[:6], 2), "...")
print("feature stds  before:", np.round(np.sqrt(var[:6]), 2), "...")
print(f"max |by hand - BatchNorm1d|  = {np.abs(y_hand - y_bn).max():.1e}")
print(f"after BN: max |feature mean| = {np.abs(y_bn.mean(axis=0)).max():.1e}, "
      f"feature stds in [{y_bn.std(axis=0).min():.6f}, {y_bn.std(axis=0).max():.6f}]")
assert np.abs(y_hand - y_bn).max() < 1e-12
assert np.abs(y_bn.mean(axis=0)).max() < 1e-10           # every feature has mean 0 ...
assert np.allclose(y_bn.std(axis=0), 1.0, atol=1e-3)      # ... and std 1 (up to ε)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharex=True)
axes[0].boxplot(x, showfliers=False)
axes[0].set_title("before BN: each feature has its own mean and spread")
axes[1].boxplot(y_bn, showfliers=False)
axes[1].set_title("after BN (γ = 1, β = 0): mean 0, std 1 per feature")
for ax in axes:
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("feature (column of the mini-batch)")
    ax.set_ylabel("value over the 64 examples")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### γ and β can undo the normalization
#
# Forcing every hidden feature to mean 0 and variance 1 would be a real restriction: a sigmoid
# would be stuck near its linear middle, and a ReLU would always pass exactly half of a
# symmetric distribution. The learned scale and shift remove that restriction. With
# $\gamma = \sqrt{\sigma_B^2+\varepsilon}$ and $\beta = \mu_B$ the layer gives back its input
# exactly:

# %%
bn_identity = cl.BatchNorm1d(16)
bn_identity.gamma.data[:] = np.sqrt(var + bn_identity.eps)
bn_identity.beta.data[:] = mu
err_identity = np.abs(bn_identity.forward(x) - x).max()
print(f"γ = sqrt(σ² + ε), β = μ:  max |BN(x) - x| = {err_identity:.1e}")
assert err_identity < 1e-12

# %% [markdown]
# So BN does not change *what* the network can represent. It changes *how* it is parametrized.
# The mean and scale of each hidden feature used to be an accident of all the weights below
# it. Now they are two explicit parameters per feature that gradient descent can set
# directly. (The identity is exact only for this batch, since $\gamma$ and $\beta$ are fixed
# numbers while $\mu_B, \sigma_B$ change a little from batch to batch. The network can undo the
# normalization on average, which is all it needs.)
#
# ## 2. Where BN goes in a network
#
# The original paper normalizes the **pre-activation**: `Linear → BatchNorm → ReLU`. The
# non-linearity then always sees inputs of a controlled scale (set by $\gamma$) around a learned
# centre ($\beta$). Putting BN **after** the activation (`Linear → ReLU → BatchNorm`) is also
# common in practice and works about as well. Neither order is clearly better in general.
#
# With BN right after a linear layer, that layer's bias is useless: the batch mean subtracts
# any constant added to a feature, and $\beta$ provides the shift instead. Its gradient is
# exactly zero (section 6 shows why), so `course_lib` builds those layers with `bias=False`,
# as PyTorch code does for convolutions followed by BN:

# %%
lin_b = cl.Linear(64, 16, rng=2)                      # WITH a bias, followed by BN
bn_b = cl.BatchNorm1d(16)
out_b = bn_b.forward(lin_b.forward(X_train[:64]))
lin_b.zero_grad()
lin_b.backward(bn_b.backward(np.random.default_rng(3).standard_normal(out_b.shape)))
print(f"largest |gradient| of the bias in front of BN: {np.abs(lin_b.b.grad).max():.1e}")
assert np.abs(lin_b.b.grad).max() < 1e-12

print(bnw.make_mlp(batchnorm=True))
acc_place = {p: bnw.train_run(True, 0.2, 1.0, placement=p).val_acc for p in ("before", "after")}
print("validation accuracy after 4 epochs, lr 0.2:",
      {f"BN {p} ReLU": round(a, 3) for p, a in acc_place.items()})
assert min(acc_place.values()) > 0.9                 # both placements train well

# %% [markdown]
# ## 3. Training mode vs evaluation mode
#
# In training, every example is normalized with the statistics of its mini-batch. At test time
# that is the wrong thing to do: there may be a single example, and even with many, the
# prediction for one example must not depend on which other examples happen to be in the same
# batch. So BN keeps **running estimates** of each feature's mean and variance during
# training and uses them, frozen, in evaluation mode:
#
# $$
# \text{running} \leftarrow (1-m)\,\text{running} + m\cdot\text{batch statistic},
# \qquad m = 0.1 \text{ in PyTorch (its argument \texttt{momentum})}.
# $$
#
# This is an exponential moving average with an effective memory of about $1/m = 10$ batches.
# Other libraries write the same rule with the **decay** $1-m$: "decay 0.9" means
# $m = 0.1$. TensorFlow/Keras call the decay `momentum`, with default 0.99, which is
# $m = 0.01$ in PyTorch's terms. Same word, opposite meaning: check which convention a
# library uses before copying a value.
#
# One more detail of PyTorch's rule, which `cl.BatchNorm1d` follows: the running variance is
# fed the **unbiased** batch variance, $\frac{N}{N-1}\sigma_B^2$, because it estimates the
# population variance. The normalization in training still uses the biased $\sigma_B^2$. The
# buffers start at mean 0 and variance 1. We check `course_lib`'s buffers against a hand
# computation over three batches:

# %%
bn = cl.BatchNorm1d(16, momentum=0.1)
run_mean, run_var, m = np.zeros(16), np.ones(16), 0.1      # the initial buffers
for i in range(3):
    xb = lin.forward(X_train[64 * i: 64 * (i + 1)])
    bn.forward(xb)
    run_mean = (1 - m) * run_mean + m * xb.mean(axis=0)
    run_var = (1 - m) * run_var + m * xb.var(axis=0, ddof=1)    # ddof=1: UNBIASED, / (N - 1)
err_mean = np.abs(bn.running_mean - run_mean).max()
err_var = np.abs(bn.running_var - run_var).max()
print(f"running_mean vs hand: {err_mean:.1e}   running_var vs hand (unbiased): {err_var:.1e}")
assert err_mean < 1e-12 and err_var < 1e-12

# feeding the biased variance instead would give visibly different buffers
biased = np.ones(16)
for i in range(3):
    biased = (1 - m) * biased + m * lin.forward(X_train[64 * i: 64 * (i + 1)]).var(axis=0)
print(f"with the biased variance the buffer would differ by up to {np.abs(bn.running_var - biased).max():.1e}")
assert np.abs(bn.running_var - biased).max() > 1e-4

# %% [markdown]
# How quickly do the running estimates settle? Below, one feature of `lin`'s pre-activations
# is fed to BN in 60 random mini-batches, with PyTorch's $m = 0.1$ and with Keras's default
# ($m = 0.01$, "momentum 0.99"). The dashed line is the feature's mean over the whole training
# set, the value the running mean should reach.

# %%
H = lin.forward(X_train)                        # every training example, (1079, 16)
j = int(np.argmax(np.abs(H.mean(axis=0)) / H.std(axis=0)))   # a feature whose mean is far from 0
pop_mean, pop_std = H[:, j].mean(), H[:, j].std()
rng_b = np.random.default_rng(5)
batch_idx = [rng_b.choice(len(H), 64, replace=False) for _ in range(60)]
traces = {}
for m_ in (0.1, 0.01):
    bn_m = cl.BatchNorm1d(16, momentum=m_)
    trace = []
    for idx in batch_idx:
        bn_m.forward(H[idx])
        trace.append(bn_m.running_mean[j])
    traces[m_] = np.array(trace)
err = {m_: abs(t[-1] - pop_mean) / pop_std for m_, t in traces.items()}
print(f"after 60 steps, |running mean - training mean| = {err[0.1]:.2f} std (m = 0.1), "
      f"{err[0.01]:.2f} std (m = 0.01)")
assert err[0.1] < 0.25 and err[0.01] > 0.5

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot([H[idx, j].mean() for idx in batch_idx], ".", color="0.6", label="batch mean $\\mu_B$")
ax.plot(traces[0.1], lw=2, label="running mean, m = 0.1 (PyTorch)")
ax.plot(traces[0.01], lw=2, label="running mean, m = 0.01 (Keras 'momentum' 0.99)")
ax.axhline(pop_mean, color="k", ls="--", lw=1, label="training-set mean")
ax.set_xlabel("training step (mini-batch of 64)")
ax.set_ylabel(f"feature {j}")
ax.set_title("the running mean is an exponential moving average of batch means")
ax.set_ylim(-0.05, 1.3)
ax.legend(fontsize=8, loc="upper left", ncol=2)
plt.show()

# %% [markdown]
# With $m = 0.1$ the estimate is close after a few dozen steps. With $m = 0.01$ it still
# carries $0.99^{60}\approx 55\%$ of its initial value 0: a short training run with a small
# $m$ leaves the evaluation mode with poor statistics. (Some practitioners recompute the
# statistics after training with one pass over the training data: `momentum=None` gives a
# plain cumulative average.)
#
# ### The bug: evaluating with batch statistics
#
# What happens if a trained network is used for predictions while still in training mode,
# that is, normalizing with the statistics of the test batch? We train a 6-layer BN net for four
# epochs and compare its evaluation-mode predictions with batch-statistics predictions. The
# helper below computes the latter by hand, because `cl.BatchNorm1d` in training mode would
# also update its running buffers, which is a second bug of the same mistake.

# %%
model = bnw.make_mlp(batchnorm=True, rng=0)
cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.2), X_train, y_train,
       epochs=4, batch_size=64, rng=1, progress=False)


def forward_with_batch_stats(model, X):
    """The WRONG way to predict: normalize with the statistics of the batch X itself."""
    h = X
    for layer in model.layers:
        if isinstance(layer, cl.BatchNorm1d):
            h = layer.gamma.data * (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + layer.eps) + layer.beta.data
        else:
            h = layer.forward(h)
    return h


model.eval()
acc_eval = (model.forward(X_val).argmax(axis=1) == y_val).mean()
# the validation set stored sorted by class, as many data files are, and fed in batches
logits_sorted = np.empty((len(X_val), 10))
for k in range(10):
    idx = np.flatnonzero(y_val == k)
    logits_sorted[idx] = forward_with_batch_stats(model, X_val[idx])
acc_sorted = (logits_sorted.argmax(axis=1) == y_val).mean()
print(f"evaluation mode (running statistics):           accuracy {acc_eval:.3f}")
print(f"batch statistics, batches sorted by class:      accuracy {acc_sorted:.3f}")
assert acc_eval > 0.9 and acc_sorted < 0.5

# the same example, three contexts
x0 = X_val[:1]                                  # a "0"
others_random = X_train[np.random.default_rng(6).choice(len(X_train), 63, replace=False)]
others_zeros = X_train[y_train == 0][:63]
p_eval = cl.functional.softmax(model.forward(x0))[0]
p_random = cl.functional.softmax(forward_with_batch_stats(model, np.r_[x0, others_random]))[0]
p_zeros = cl.functional.softmax(forward_with_batch_stats(model, np.r_[x0, others_zeros]))[0]
print(f"true label {y_val[0]}; predicted: eval mode {p_eval.argmax()}, batch stats with random "
      f"companions {p_random.argmax()}, batch stats among 63 other zeros {p_zeros.argmax()}")
assert p_eval.argmax() == y_val[0] and p_zeros.argmax() != y_val[0]
# in evaluation mode the companions do not matter at all
same = model.forward(np.r_[x0, others_zeros])[0] - model.forward(x0)[0]
assert np.abs(same).max() < 1e-12

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
w = 0.27
for k, (p, lab) in enumerate([(p_eval, "evaluation mode (running statistics)"),
                              (p_random, "batch statistics, 63 random companions"),
                              (p_zeros, "batch statistics, 63 other zeros")]):
    ax.bar(np.arange(10) + (k - 1) * w, p, width=w, label=lab)
ax.set_xticks(range(10))
ax.set_xlabel("class")
ax.set_ylabel("predicted probability")
ax.set_title(f"one validation example (a {y_val[0]}): its prediction should not depend on its batch")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Among other zeros, the "0" is no longer unusual: the batch mean has absorbed everything that
# made it a zero, and the network sees what is left. With a **batch of one** it gets worse.
# $x - \mu_B = 0$ for every feature, so every BN output equals $\beta$ whatever the input.
# `cl.BatchNorm1d` refuses this in training mode, and so does PyTorch. Done by hand, every
# example gets the same prediction:

# %%
model.train()
try:
    model.forward(X_val[:1])
except ValueError as e:
    print("ValueError:", e)
model.eval()
single = np.array([forward_with_batch_stats(model, X_val[i:i + 1])[0] for i in range(20)])
print("batch-statistics predictions of 20 single examples:", single.argmax(axis=1))
print("true labels:                                      ", y_val[:20])
assert np.ptp(single, axis=0).max() < 1e-12            # identical outputs for different inputs

# %% [markdown]
# > **A common error in lecture notes.** Some notes say that at test time BN normalizes with
# > the mean and variance *of the test batch*. It does not. It uses the running estimates
# > collected during training (`model.eval()` in PyTorch and here; `training=False` in Keras).
# > With test-batch statistics a prediction depends on the other examples in the batch (a
# > sorted test set lost most of its accuracy above), and a batch of one has no statistics at
# > all.
#
# ### Convolutional layers
#
# For a convolutional feature map of shape $(N, C, H, W)$ the statistics are computed per
# **channel**, over the batch *and* all spatial positions, e.g. `x.mean(axis=(0, 2, 3))`.
# There is one $\gamma_c, \beta_c$ per channel. Every position of a channel is the same
# feature detector, so it gets the same normalization. `course_lib` has no convolutions; PyTorch's
# `BatchNorm2d` does exactly this.
#
# ## 4. The backward pass
#
# In training mode $\mu_B$ and $\sigma_B^2$ depend on **every** example of the batch, so the
# gradient with respect to $x_i$ has three paths: directly through $x_i$, through $\mu_B$, and
# through $\sigma_B^2$. Writing $g_i = \partial L/\partial y_i$ (per feature, over the batch),
# the parameter gradients are
# $\frac{\partial L}{\partial\gamma} = \sum_i g_i\hat x_i$ and
# $\frac{\partial L}{\partial\beta} = \sum_i g_i$. Collecting the three paths gives the
# compact form
#
# $$
# \frac{\partial L}{\partial x_i} = \frac{\gamma}{N\sqrt{\sigma_B^2+\varepsilon}}
# \Big( N g_i - \sum_{k} g_k - \hat x_i \sum_{k} g_k \hat x_k \Big).
# $$
#
# The two subtracted terms remove from the gradient exactly the directions that the
# normalization makes irrelevant: shifting all $x_i$ of a feature by a constant, and scaling
# them about their mean. Consequently $\sum_i \partial L/\partial x_i = 0$ for every feature,
# which is why the bias in front of BN received a zero gradient in section 2. In evaluation
# mode $\mu$ and $\sigma^2$ are constants, and the layer is just a per-feature affine map with
# gradient $\gamma/\sqrt{\sigma^2+\varepsilon}$.
#
# We gradient-check both modes, and also a tempting wrong backward pass that treats
# $\mu_B, \sigma_B$ as constants in training mode:

# %%
rng = np.random.default_rng(4)
x_small = 3.0 + 2.0 * rng.standard_normal((8, 5))     # a small batch, off-centre and wide
bn_check = cl.BatchNorm1d(5)
bn_check.gamma.data[:] = rng.uniform(0.5, 1.5, 5)
bn_check.beta.data[:] = rng.standard_normal(5)
res_train = cl.gradcheck(bn_check, x_small)
bn_check.eval()
res_eval = cl.gradcheck(bn_check, x_small)
bn_check.train()
print(res_train)
print(res_eval)
assert res_train.max_error < 1e-7 and res_eval.max_error < 1e-7

# the wrong backward: dx = g * γ / sqrt(σ² + ε), as if μ_B and σ_B did not depend on x
dout = rng.standard_normal(x_small.shape)
bn_check.forward(x_small)
dx_wrong = dout * bn_check.gamma.data * bn_check.inv_std
dx_num = cl.numerical_gradient(lambda: bn_check.forward(x_small), x_small, dout)
print(f"relative error of the 'constant statistics' backward: {cl.rel_error(dx_wrong, dx_num):.2f}")
print(f"per-feature sum of the correct dx: {np.abs(dx_num.sum(axis=0)).max():.1e}")
assert cl.rel_error(dx_wrong, dx_num) > 0.1
assert np.abs(dx_num.sum(axis=0)).max() < 1e-6

# %% [markdown]
# ## 5. What BN does on real data
#
# *Why* BN helps is still debated. The original paper credited it with reducing "internal
# covariate shift", the drift of each layer's input distribution during training. Later
# experiments (Santurkar et al., 2018) found that this shift matters little and that BN's
# real benefit is a smoother loss surface, which tolerates larger steps. The effects
# themselves are not in doubt, and we can measure them.
#
# The explorer of this notebook (section 6) trains a 6-layer ReLU MLP (64 → 5 × 64 → 10) on the
# digits for 4 epochs of plain SGD, with and without BN, over a grid of learning rates and
# weight scales (each weight matrix is He-normal × `init_scale`). Every run is cached. The
# two sweeps below read from the same grid.
#
# ### Larger learning rates

# %%
t0 = time.perf_counter()
lrs = bnw.LRS
acc_lr = {bn_on: bnw.sweep(bn_on, lrs, init_scale=1.0) for bn_on in (True, False)}
scales = bnw.INIT_SCALES
acc_scale = {bn_on: np.array([bnw.train_run(bn_on, 0.2, s).val_acc for s in scales])
             for bn_on in (True, False)}
print("lr:          ", "  ".join(f"{v:5g}" for v in lrs))
for bn_on in (True, False):
    runs = [bnw.train_run(bn_on, lr, 1.0) for lr in lrs]
    print(f"{'with BN' if bn_on else 'without BN':<13}", "  ".join(
        f"{'div.' if r.diverged else f'{r.val_acc:.2f}':>5}" for r in runs))

# %% tags=["nbval-ignore-output"]
print(f"{2 * (len(lrs) + len(scales)) - 2} training runs in {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ("div." = diverged: the loss rose above 3× its initial value.) Without BN the net trains
# only up to lr ≈ 0.2. At larger rates its loss blows up, or one huge step pushes every ReLU
# into its dead zone and the loss stays flat at chance level. With BN the same net trains
# well up to lr = 2:

# %%
high = [i for i, lr in enumerate(lrs) if lr >= 0.5]
print("lr ≥ 0.5, validation accuracy with BN:", acc_lr[True][high].round(3),
      " without:", acc_lr[False][high].round(3))
assert all(acc_lr[True][i] > 0.9 for i in high)       # BN trains at every lr in [0.5, 2] ...
assert all(acc_lr[False][i] < 0.5 for i in high)      # ... where the plain net fails
assert bnw.train_run(False, 1.0, 1.0).diverged        # at lr = 1 it diverges outright

# %% [markdown]
# ### Much less sensitivity to the initial weight scale
#
# Now we fix lr = 0.2 (good for both nets at the standard He scale) and multiply every weight
# matrix by a factor between 1/4 and 4. Without BN each of the 6 layers multiplies the signal by
# that factor, so the output scale changes by $4^{6} \approx 4000$ either way: the small
# scales start with vanishing signals and gradients, the large ones explode. With BN the
# forward pass of every hidden layer does not depend on its weight scale at all:
# $\mathrm{BN}(a\,xW) = \mathrm{BN}(xW)$ for $a > 0$.

# %%
spread = {bn_on: acc_scale[bn_on].max() - acc_scale[bn_on].min() for bn_on in (True, False)}
print("init scale:  ", "  ".join(f"{s:5g}" for s in scales))
for bn_on in (True, False):
    print(f"{'with BN' if bn_on else 'without BN':<13}", "  ".join(f"{a:5.2f}" for a in acc_scale[bn_on]),
          f"   spread {spread[bn_on]:.2f}")
assert acc_scale[True].min() > 0.8                    # BN: every scale trains
assert spread[False] > 0.5                            # plain: only scale 1 works
assert spread[True] < spread[False] / 4               # BN's spread is much smaller

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for bn_on, color in ((True, "tab:blue"), (False, "tab:red")):
    label = "with BN" if bn_on else "without BN"
    axes[0].plot(lrs, acc_lr[bn_on], "o-", color=color, label=label)
    axes[1].plot(scales, acc_scale[bn_on], "o-", color=color, label=label)
axes[0].set_xlabel("learning rate (log scale)")
axes[0].set_title("init scale 1 × He: BN tolerates 10× larger lr")
axes[1].set_xlabel("init scale (× He-normal, log scale)")
axes[1].set_title("lr = 0.2: BN tolerates any init scale")
for ax, ticks in zip(axes, (lrs, scales)):
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("validation accuracy after 4 epochs")
    ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# BN's curve is not perfectly flat, and the reason is instructive. Scaling a layer's weights by
# $a$ leaves its output unchanged, but it divides the gradient with respect to those weights by
# $a$, while the weights themselves are $a$ times larger. Each SGD step therefore changes the
# weights by a fraction $\propto \mathrm{lr}/a^2$: **the weight scale turns into an effective
# learning rate**. Small scales train fast (and at scale 1/4 slightly too fast for large lr),
# large scales train slowly. Both facts are checked here on one layer:

# %%
lin_s = cl.Linear(64, 16, bias=False, rng=7)
bn_s = cl.BatchNorm1d(16, eps=0.0)        # with ε = 0 the invariance is exact
g_out = np.random.default_rng(8).standard_normal((64, 16))
outs, grads = {}, {}
for a in (1.0, 4.0):
    lin_s.W.data *= a
    outs[a] = bn_s.forward(lin_s.forward(X_train[:64]))
    lin_s.zero_grad()
    lin_s.backward(bn_s.backward(g_out))
    grads[a] = lin_s.W.grad.copy()
    lin_s.W.data /= a
print(f"output change when W is scaled by 4: {np.abs(outs[4.0] - outs[1.0]).max():.1e}")
print(f"gradient ratio ||dW(4W)|| / ||dW(W)|| = {np.linalg.norm(grads[4.0]) / np.linalg.norm(grads[1.0]):.4f}")
assert np.abs(outs[4.0] - outs[1.0]).max() < 1e-10          # same forward pass
assert cl.rel_error(grads[4.0], grads[1.0] / 4.0) < 1e-8     # gradient divided by 4

# %% [markdown]
# ### A slight regularizing side effect
#
# In training, each example is normalized with the statistics of the batch it happens to land
# in, and the batch is random. So BN adds noise to every hidden feature, and the noise
# shrinks like $1/\sqrt{N}$ with the batch size $N$. We measure it directly: the normalized
# value $\hat x$ of one fixed training example in the first BN layer, over 300 random batches
# of each size.

# %%
H1 = X_train @ bnw.make_mlp(True, rng=0).layers[0].W.data   # first-layer pre-activations, (1079, 64)
rng_n = np.random.default_rng(9)
sizes = np.array([4, 8, 16, 32, 64, 128, 256])
noise = []
for n_b in sizes:
    others = np.array([rng_n.choice(np.arange(1, len(H1)), n_b - 1, replace=False) for _ in range(300)])
    batch = np.concatenate([np.broadcast_to(H1[0], (300, 1, 64)), H1[others]], axis=1)
    xhat0 = (batch[:, 0] - batch.mean(axis=1)) / np.sqrt(batch.var(axis=1) + 1e-5)
    noise.append(xhat0.std(axis=0).mean())            # spread over batches, averaged over features
noise = np.array(noise)
ratio = noise[sizes == 8][0] / noise[sizes == 128][0]
print("batch size:", sizes)
print("std of x̂ :", noise.round(3))
print(f"noise ratio batch 8 / batch 128 = {ratio:.2f} (1/sqrt(N) predicts 4)")
assert 3.0 < ratio < 5.5

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(sizes, noise, "o-", label="measured")
ax.loglog(sizes, noise[0] * np.sqrt(sizes[0] / sizes), "k--", lw=1, label=r"$\propto 1/\sqrt{N}$")
ax.minorticks_off()
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_yticks([0.05, 0.1, 0.2, 0.5], ["0.05", "0.1", "0.2", "0.5"])
ax.set_xlabel("batch size N (log scale)")
ax.set_ylabel("std of $\\hat x$ of one example")
ax.set_title("BN's batch noise on one example")
ax.legend()
plt.show()

# %% [markdown]
# Does this noise regularize? We train both nets longer (20 epochs, each at a learning rate that
# suits it) for three seeds and compare training and validation accuracy, both in evaluation
# mode.

# %%
rows = []
for seed in (0, 1, 2):
    for bn_on, lr in ((False, 0.1), (True, 0.2)):
        net = bnw.make_mlp(bn_on, rng=seed)
        cl.fit(net, cl.SoftmaxCrossEntropy(), cl.SGD(net.parameters(), lr=lr), X_train, y_train,
               epochs=20, batch_size=64, rng=seed + 1, progress=False, ratio_every=0)
        _, tr = cl.evaluate(net, cl.SoftmaxCrossEntropy(), X_train, y_train)
        _, va = cl.evaluate(net, cl.SoftmaxCrossEntropy(), X_val, y_val)
        rows.append((seed, bn_on, tr, va))
        print(f"seed {seed}  {'with BN   ' if bn_on else 'without BN'}  train acc {tr:.3f}  "
              f"val acc {va:.3f}  gap {tr - va:.3f}")
gain = np.array([r[3] for r in rows if r[1]]) - np.array([r[3] for r in rows if not r[1]])
print(f"validation gain from BN per seed: {gain.round(3)}")
assert all(r[2] > 0.99 for r in rows if r[1])        # BN nets still fit the training set
assert (gain > -0.005).all() and gain.mean() < 0.05  # a small gain, not a cure for overfitting

# %% [markdown]
# The honest reading is that BN helped by one to two points here, and both nets still
# reach (nearly) 100% training accuracy. BN did not stop memorization. We also cannot tell from
# this experiment how much of the gain is regularization and how much is better optimization.
# The noise is a side effect that depends on the batch size (it disappears for large
# batches), not a tool to tune. When a model overfits, use an actual regularizer (notebooks 05
# and 07). Nets with BN often need less dropout, which is consistent with the noise doing
# some of the same work.
#
# ## 6. Explore: BN × learning rate × init scale
#
# The grid of 70 short runs behind the sweeps is computed once below (a few seconds). After
# that, each slider move only redraws. Things to try:
#
# * At init scale 1, move the learning rate from 0.1 to 2 and watch the red curve fail.
# * Set init scale 4: the plain net's initial loss is in the thousands and then explodes. The
#   BN net starts at a loss of about 7 (the scale reaches only its output layer) and learns,
#   faster the larger the lr (the effective learning rate ∝ lr / scale²).
# * Set init scale 1/4: now the BN net peaks around lr 0.1 and gets worse from lr 1 on, while at
#   scale 4 it needs lr ≥ 0.5. The best learning rate moves with the init scale.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
n_runs = bnw.precompute()
print(f"{n_runs} runs ready in {time.perf_counter() - t0:.1f} s")

# %%
display(bnw.bn_explorer(lr=0.1, init_scale=1.0))

# %% [markdown]
# ## Check your understanding
#
# 1. A colleague keeps `bias=True` in every `Linear` layer that feeds a BatchNorm. Is anything
#    wrong with the model's predictions? What is wasted?
#
# <details><summary>Answer</summary>
#
# Nothing is wrong with the predictions: the batch mean subtracts the bias again, so the
# output does not depend on it, and its gradient is exactly zero (the BN input gradient sums
# to zero over the batch). The parameter and its optimizer state are wasted, and with weight
# decay it just decays. BN's $\beta$ already provides the shift.
# </details>
#
# 2. A model with BN reaches 96% validation accuracy. Deployed behind a web service that calls
#    it on one request at a time, it returns the same class for every input. What happened, and
#    what is the fix?
#
# <details><summary>Answer</summary>
#
# The service runs the model in training mode, with batch statistics. With one example
# $x - \mu_B = 0$, so every BN layer outputs $\beta$ and all inputs get the same prediction
# (PyTorch would raise an error for a batch of one in training mode; code that works around
# it, or a framework that does not check, gives exactly this). Fix: `model.eval()` so that BN
# uses its running statistics.
# </details>
#
# 3. With PyTorch's `momentum=0.1`, what weight does the very first batch's mean still have in
#    the running mean after 20 more updates? What is the same setting called in Keras?
#
# <details><summary>Answer</summary>
#
# It entered with weight $m = 0.1$ and has been multiplied by $1-m = 0.9$ twenty times:
# $0.1\cdot 0.9^{20}\approx 0.012$. In Keras the same rule is `momentum=0.9` (Keras's argument is
# the decay $1-m$; its default 0.99 corresponds to PyTorch's 0.01).
# </details>
#
# 4. In a batch of $N = 4$, why does the running variance receive $\frac43\sigma_B^2$ while
#    the normalization uses $\sigma_B^2$?
#
# <details><summary>Answer</summary>
#
# The normalization standardizes *this* batch exactly, so it uses the batch's own (biased)
# variance. The running variance estimates the variance of the whole population, and the
# batch variance around the batch's own mean underestimates it by the factor $(N-1)/N$ on
# average. Multiplying by $N/(N-1)$ (Bessel's correction) removes that bias. That is
# PyTorch's convention, followed by `cl.BatchNorm1d`.
# </details>
#
# 5. Why did the BN net train at init scale 4 while the plain net exploded, and why was it still
#    a bit worse there than at scale 1 after 4 epochs?
#
# <details><summary>Answer</summary>
#
# Each hidden layer's output is divided by its batch standard deviation, so scaling the weights
# by 4 does not change the forward pass. The plain net instead multiplies its output scale by
# $4^6$. But the gradient with respect to the scaled weights is 4× smaller while the weights
# are 4× larger, so each step moves them by a 16× smaller fraction: the effective learning
# rate is lr/16, and in 4 epochs the net simply learned less.
# </details>
#
# ## Summary
#
# * BN standardizes each feature over the mini-batch ($\mu_B$, biased $\sigma_B^2$,
#   $\hat x$) and then applies a learned $\gamma\hat x + \beta$, which can represent the
#   identity, so no expressive power is lost.
# * Place it after the affine layer and before the non-linearity (paper); after the
#   activation also works. The bias in front of BN is redundant.
# * Training uses batch statistics and updates running averages,
#   running ← (1 − m)·running + m·batch, with m = 0.1 in PyTorch (a "decay" of 0.9; Keras's
#   `momentum` is the decay). The running variance gets the unbiased batch variance.
# * Evaluation uses the running statistics, never the test batch's: otherwise predictions
#   depend on the batch (a class-sorted validation set dropped to chance) and a batch of
#   one gives the same output for every input.
# * The backward pass has three paths per example. In compact form,
#   $dx = \frac{\gamma}{N\sqrt{\sigma^2+\varepsilon}}(N g - \sum g - \hat x\sum g\hat x)$,
#   which passes the gradient check at < 1e-7.
# * On the digits, BN let a 6-layer net train at 10× larger learning rates and at any init
#   scale from 1/4 to 4. The weight scale became an effective learning rate. The regularizing
#   effect of its batch noise was real but small.
#
# **Next:** practise in the exercises
# [exercises/04_batch_normalization.ipynb](../exercises/04_batch_normalization.ipynb), then
# continue with [05 Dropout](05_dropout.ipynb).
