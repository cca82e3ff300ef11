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
# makes it much less sensitive to the initial weight scale. It also brings two traps: the
# layer behaves differently in training and in evaluation, and it needs batches large enough
# to have statistics. **Layer normalization** avoids both, and we compare the two.
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
# 4. derive the backward pass node by node on the computational graph, simplify it to the
#    compact formula, and verify both with a gradient check;
# 5. measure what BN does on real data, against a fair baseline (centred inputs, each net at
#    its own learning rates, several seeds): how much larger learning rates it tolerates, its
#    robustness to the init scale, and how small its regularizing side effect is;
# 6. explain why BN breaks at batch sizes of 2–8, show the batch-dependence bug, and use
#    LayerNorm, which does not depend on the batch, as the fix.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (layers, losses, the digits,
# centring the inputs), [02 Initialization](02_initialization.ipynb) (variance propagation,
# He init) and [03 Backpropagation](03_backpropagation.ipynb) (backward passes, gradient
# checking).
#
# **Estimated time.** 80–95 minutes.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets import batchnorm as bnw                # the explorer (section 7)
from course_lib.widgets import batchnorm_experiments as bx     # the experiments on several seeds
from course_lib.widgets import batchnorm_graph as bng          # the staged backward pass

cl.set_seed()                      # every random draw below derives from COURSE_SEED
SEEDS = cl.seeds(3)
print(f"COURSE_SEED = {cl.course_seed()}; seeds of the repeated runs: {SEEDS}")
X_train, y_train, X_val, y_val, X_test, y_test = cl.data.load_digits()   # pixels in [0, 1]
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
# digits, normalized once by hand and once by `cl.BatchNorm1d`. (The raw pixels in $[0, 1]$
# are not centred, like the input of any layer that follows a ReLU, so the features have
# means far from 0.)

# %%
lin = cl.Linear(64, 16, rng=cl.make_rng(1))
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
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), sharex=True)
for ax, values, title in ((axes[0], x, "before BN: own mean and spread"),
                          (axes[1], y_bn, "after BN (γ = 1, β = 0): mean 0, std 1")):
    ax.boxplot(values, positions=np.arange(16), showfliers=False, widths=0.6)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(np.arange(0, 16, 3), [str(k) for k in range(0, 16, 3)])
    ax.set_xlabel("feature j (column of the mini-batch)")
axes[0].set_ylabel("value over the 64 examples")
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
# common in practice and works about as well.
#
# With BN right after a linear layer, that layer's bias is useless: the batch mean subtracts
# any constant added to a feature, and $\beta$ provides the shift instead. Its gradient is
# exactly zero (section 4 shows why), so `course_lib` builds those layers with `bias=False`,
# as PyTorch code does for convolutions followed by BN:

# %%
lin_b = cl.Linear(64, 16, rng=cl.make_rng(2))         # WITH a bias, followed by BN
bn_b = cl.BatchNorm1d(16)
out_b = bn_b.forward(lin_b.forward(X_train[:64]))
lin_b.zero_grad()
lin_b.backward(bn_b.backward(cl.make_rng(3).standard_normal(out_b.shape)))
print(f"largest |gradient| of the bias in front of BN: {np.abs(lin_b.b.grad).max():.1e}")
assert np.abs(lin_b.b.grad).max() < 1e-12

print(bx.make_net("batch", rng=SEEDS[0]))

# %% [markdown]
# This 6-layer net (64 → 5 × 64 → 10) is the bench of the whole notebook. It is trained on the
# digits with plain SGD in mini-batches of 64, for 4 epochs unless said otherwise, and its
# inputs are **centred** with the training set's mean image, as notebook 00 teaches: the same
# preprocessing for the nets with and without BN. Every experiment runs on three seeds
# (`cl.seeds(3)`: each seed draws the initial weights and the order of the mini-batches).
# Both placements of BN train well:

# %%
place = bx.placement_study(lr=0.2)
for p, acc in place.items():
    print(f"BN {p:6s} the ReLU: validation accuracy {acc.round(3)} (seeds {SEEDS})")
assert min(acc.min() for acc in place.values()) > 0.9          # both train, on every seed
gap_place = place["before"] - place["after"]
print(f"before - after, per seed: {gap_place.round(3)}")

# %% [markdown]
# The two orders land within about a point of each other. Over the 15 seeds we tried
# (COURSE_SEED 0–3 and 7), BN before the ReLU was ahead on 11, by at most 1.2 points, and
# behind on the others by at most 0.8: a small edge on this bench, no more.
#
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
# One more detail, which `cl.BatchNorm1d` follows: the running variance is fed the
# **unbiased** batch variance, $\frac{N}{N-1}\sigma_B^2$, because it estimates the population
# variance. This is PyTorch's rule, and it is already in the original paper: Ioffe &
# Szegedy's Algorithm 2 uses $\mathrm{Var}[x] = \frac{m}{m-1}\,\mathrm{E}_B[\sigma_B^2]$ at
# inference ($m$ there is the batch size). The normalization in training still uses the
# biased $\sigma_B^2$. The buffers start at mean 0 and variance 1. We check `course_lib`'s
# buffers against a hand computation over three batches:

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
rng_b = cl.make_rng(5)
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
ax.set_ylabel(f"feature j = {j}")
ax.set_title("the running mean is an exponential moving average of batch means", fontsize=10)
lo, hi = min(0.0, pop_mean), max(0.0, pop_mean)
ax.set_ylim(lo - 0.15 * (hi - lo) - 0.05, hi + 0.45 * (hi - lo) + 0.05)
ax.legend(fontsize=8.5, loc="upper left", ncol=2)
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
# that is, normalizing with the statistics of the test batch? We take the bench net with BN
# after 4 epochs at lr 0.2 (one per seed) and compare its evaluation-mode predictions with
# batch-statistics predictions. The helper below computes the latter by hand, because
# `cl.BatchNorm1d` in training mode would also update its running buffers, which is a second
# bug of the same mistake.

# %%
Xc_train, _, Xc_val, _, _, _ = bx.training_data("centred")   # the bench's centred inputs
nets = bx.trained_nets("batch", lr=0.2)                       # one trained BN net per seed


def forward_with_batch_stats(model, X):
    """The WRONG way to predict: normalize with the statistics of the batch X itself."""
    h = X
    for layer in model.layers:
        if isinstance(layer, cl.BatchNorm1d):
            h = layer.gamma.data * (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + layer.eps) + layer.beta.data
        else:
            h = layer.forward(h)
    return h


def sorted_batches_accuracy(model):
    """Batch statistics on the validation set stored sorted by class, one batch per class."""
    logits = np.empty((len(Xc_val), 10))
    for k in range(10):
        idx = np.flatnonzero(y_val == k)
        logits[idx] = forward_with_batch_stats(model, Xc_val[idx])
    return (logits.argmax(axis=1) == y_val).mean()


for net in nets:
    net.eval()
acc_eval = np.array([(net.forward(Xc_val).argmax(axis=1) == y_val).mean() for net in nets])
acc_sorted = np.array([sorted_batches_accuracy(net) for net in nets])
print(f"evaluation mode (running statistics):      accuracy {acc_eval.round(3)}")
print(f"batch statistics, batches sorted by class: accuracy {acc_sorted.round(3)}")
assert acc_eval.min() > 0.9 and acc_sorted.max() < 0.5            # on every seed

# %% [markdown]
# A validation set stored sorted by class, as many data files are, and fed in batches, drops
# to near chance with batch statistics. Why? Take the validation digits that all three nets
# classify correctly and confidently (probability > 0.9) in evaluation mode, and put each one
# into a batch with 63 training examples of its own class:

# %%
p_all = np.stack([cl.functional.softmax(net.forward(Xc_val)) for net in nets])   # (seeds, N, 10)
confident = np.flatnonzero((p_all[:, np.arange(len(y_val)), y_val] > 0.9).all(axis=0))[:60]


def p_among_own_class(net, i):
    """P(true class) of validation digit i, batch statistics, among 63 others of its class."""
    same = Xc_train[y_train == y_val[i]][:63]
    return cl.functional.softmax(forward_with_batch_stats(net, np.r_[Xc_val[i:i + 1], same]))[0][y_val[i]]


p_same = np.array([[p_among_own_class(net, i) for i in confident] for net in nets])   # (seeds, 60)
collapsed = (p_same < 0.5).mean(axis=1)
print(f"of {len(confident)} confidently classified digits, the share whose P(true class) falls "
      f"below 0.5 among their own class: {collapsed.round(2)} (seeds {SEEDS})")
assert (collapsed > 0.6).all()                          # most of them, on every seed

# one of them in three contexts: the first that collapses for the first net
net0 = nets[0]
i0 = confident[int(np.argmax(p_same[0] < 0.5))]
x0, label0 = Xc_val[i0:i0 + 1], y_val[i0]
others_random = Xc_train[cl.make_rng(6).choice(len(Xc_train), 63, replace=False)]
others_same = Xc_train[y_train == label0][:63]
probs = {"evaluation mode (running statistics)": cl.functional.softmax(net0.forward(x0))[0],
         "batch statistics, 63 random companions":
             cl.functional.softmax(forward_with_batch_stats(net0, np.r_[x0, others_random]))[0],
         f"batch statistics, 63 other {label0}s":
             cl.functional.softmax(forward_with_batch_stats(net0, np.r_[x0, others_same]))[0]}
for name, p in probs.items():
    print(f"{name:42s} predicts {p.argmax()}, P(true class {label0}) = {p[label0]:.3f}")
# in evaluation mode the companions do not matter at all
same = net0.forward(np.r_[x0, others_same])[0] - net0.forward(x0)[0]
assert np.abs(same).max() < 1e-12

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
w = 0.27
for k, (lab, p) in enumerate(probs.items()):
    ax.bar(np.arange(10) + (k - 1) * w, p, width=w, label=lab)
ax.set_xticks(range(10))
ax.set_xlabel("class")
ax.set_ylabel("predicted probability")
ax.set_title(f"one validation example (a {label0}): its prediction should not depend on its batch",
             fontsize=10)
ax.legend(fontsize=8.5, loc="upper right")
plt.show()

# %% [markdown]
# With random companions the batch statistics are close to the running ones and little
# changes. Among other examples of its class, the digit is no longer unusual: the batch mean
# has absorbed everything that made it what it is, and the network sees what is left. With a
# **batch of one** it gets worse. $x - \mu_B = 0$ for every feature, so every BN output equals
# $\beta$ whatever the input. `cl.BatchNorm1d` refuses this in training mode, and so does
# PyTorch. Done by hand, every example gets the same prediction:

# %%
net0.train()
try:
    net0.forward(Xc_val[:1])
except ValueError as e:
    print("ValueError:", e)
net0.eval()
single = np.array([forward_with_batch_stats(net0, Xc_val[i:i + 1])[0] for i in range(20)])
print("batch-statistics predictions of 20 single examples:", single.argmax(axis=1))
print("true labels:                                      ", y_val[:20])
assert np.ptp(single, axis=0).max() < 1e-12            # identical outputs for different inputs

# %% [markdown]
# > **A common error in lecture notes.** Some notes say that at test time BN normalizes with
# > the mean and variance *of the test batch*. It does not. It uses the running estimates
# > collected during training (`model.eval()` in PyTorch and here; `training=False` in Keras).
# > With test-batch statistics a prediction depends on the other examples in the batch (a
# > sorted validation set lost most of its accuracy above), and a batch of one has no
# > statistics at all. Section 6 comes back to this with small batches, and to LayerNorm,
# > which has no such problem.
#
# ### Convolutional layers
#
# For a convolutional feature map of shape $(N, C, H, W)$ the statistics are computed per
# **channel**, over the batch *and* all spatial positions, e.g. `x.mean(axis=(0, 2, 3))`.
# There is one $\gamma_c, \beta_c$ per channel. Every position of a channel is the same
# feature detector, so it gets the same normalization. `course_lib` has no convolutions; PyTorch's
# `BatchNorm2d` does exactly this.
#
# ## 4. The backward pass, node by node
#
# In training mode $\mu_B$ and $\sigma_B^2$ depend on **every** example of the batch, so the
# gradient with respect to one $x_i$ does not flow through $\hat x_i$ alone. The safe way to
# get it right (the way of CS231n's assignment 2 and Karpathy's makemore part 4) is to write
# the forward pass as a chain of elementary **nodes**, each with a local derivative you can
# write down at once, and then walk the chain backwards. Per feature:
#
# | node | forward | shape | what it does to the batch |
# |---|---|---|---|
# | $\mu$ | $\frac1N\sum_i x_i$ | $(D,)$ | a mean over the batch |
# | $x_c$ | $x - \mu$ | $(N, D)$ | $\mu$ broadcast to every example |
# | $\mathrm{var}$ | $\frac1N\sum_i x_{c,i}^2$ | $(D,)$ | a mean over the batch |
# | $\mathrm{std}$ | $\sqrt{\mathrm{var}+\varepsilon}$ | $(D,)$ | |
# | $\mathrm{inv}$ | $1/\mathrm{std}$ | $(D,)$ | |
# | $\hat x$ | $x_c\cdot\mathrm{inv}$ | $(N, D)$ | inv broadcast to every example |
# | $y$ | $\gamma\hat x + \beta$ | $(N, D)$ | $\gamma, \beta$ broadcast to every example |

# %%
bng.draw_graph()
plt.show()

# %% [markdown]
# Write $\bar v = \partial L/\partial v$ for the gradient that arrives at node $v$, starting
# with $\bar y$ = `dout`. Two rules do all the bookkeeping. **A value broadcast to every
# example** in the forward pass (the blue edges: $\mu$, inv, $\gamma$, $\beta$) influences the
# loss through every example, so its gradient is the **sum over the batch** of what comes
# back from each one. **A mean over the batch** (the orange edges) hands each example
# $\frac1N$ of its node's gradient. And where a node feeds two others, the gradients of the
# two paths **add up**. Walking backwards:
#
# $$
# \begin{aligned}
# y = \gamma\hat x + \beta:&\quad \bar\beta = \textstyle\sum_i \bar y_i, \qquad
#   \bar\gamma = \sum_i \bar y_i\,\hat x_i, \qquad \bar{\hat x} = \gamma\,\bar y \\
# \hat x = x_c\cdot\mathrm{inv}:&\quad \overline{\mathrm{inv}} = \textstyle\sum_i \bar{\hat x}_i\,x_{c,i},
#   \qquad \bar x_c \mathrel{+}= \bar{\hat x}\cdot\mathrm{inv} \quad\text{(first path)} \\
# \mathrm{inv} = 1/\mathrm{std}:&\quad \overline{\mathrm{std}} = -\,\overline{\mathrm{inv}}/\mathrm{std}^2 \\
# \mathrm{std} = \sqrt{\mathrm{var}+\varepsilon}:&\quad \overline{\mathrm{var}} = \overline{\mathrm{std}}\,/\,(2\,\mathrm{std}) \\
# \mathrm{var} = \tfrac1N\textstyle\sum_i x_{c,i}^2:&\quad \bar x_{c,i} \mathrel{+}= \tfrac{2}{N}\,x_{c,i}\,\overline{\mathrm{var}}
#   \quad\text{(second path)} \\
# x_c = x - \mu:&\quad \bar\mu = -\textstyle\sum_i \bar x_{c,i}, \qquad \bar x \mathrel{+}= \bar x_c
#   \quad\text{(first path)} \\
# \mu = \tfrac1N\textstyle\sum_i x_i:&\quad \bar x_i \mathrel{+}= \tfrac1N\,\bar\mu \quad\text{(second path)}
# \end{aligned}
# $$
#
# `bng.batchnorm_backward_staged` is exactly this list, one line per node, and returns the
# gradient of every node. We check it against `cl.BatchNorm1d`'s backward pass (the compact
# formula below) and against centred differences, on a small off-centre batch:

# %%
rng = cl.make_rng(4)
x_small = 3.0 + 2.0 * rng.standard_normal((8, 5))     # a small batch, off-centre and wide
gamma_s, beta_s = rng.uniform(0.5, 1.5, 5), rng.standard_normal(5)
dout = rng.standard_normal(x_small.shape)

y_staged, cache = bng.batchnorm_forward_staged(x_small, gamma_s, beta_s)
grads = bng.batchnorm_backward_staged(dout, cache)
print("nodes, in the order of the backward pass:", list(grads))

bn_check = cl.BatchNorm1d(5)
bn_check.gamma.data[:], bn_check.beta.data[:] = gamma_s, beta_s
y_lib = bn_check.forward(x_small)
dx_lib = bn_check.backward(dout)
errors = {"dx": cl.rel_error(grads["x"], dx_lib), "dgamma": cl.rel_error(grads["gamma"], bn_check.gamma.grad),
          "dbeta": cl.rel_error(grads["beta"], bn_check.beta.grad)}
print("staged vs BatchNorm1d (compact formula), relative error:",
      {k: f"{v:.1e}" for k, v in errors.items()})
assert np.abs(y_staged - y_lib).max() < 1e-12 and max(errors.values()) < 1e-12
res_staged = cl.gradcheck(bng.StagedBatchNorm1d(5), x_small)   # the staged backward as a layer
print(res_staged)
assert res_staged.max_error < 1e-7

# %% [markdown]
# **From the graph to the compact formula.** Write $s = \mathrm{inv}$ and
# $g_i = \bar{\hat x}_i = \gamma\bar y_i$. The chain through inv, std and var collapses to
# $\overline{\mathrm{var}} = -\frac{s^3}{2}\sum_k g_k x_{c,k}$. With $x_{c,i}\,s = \hat x_i$ the
# two paths into $x_c$ become
# $\bar x_{c,i} = s\,g_i - \frac{s}{N}\,\hat x_i\sum_k g_k\hat x_k$. Summing over the batch,
# the second term vanishes because $\sum_i\hat x_i = 0$, so $\bar\mu = -s\sum_k g_k$. Adding
# $\bar\mu/N$ to every example:
#
# $$
# \frac{\partial L}{\partial x_i} = \frac{\gamma}{N\sqrt{\sigma_B^2+\varepsilon}}
# \Big( N \bar y_i - \sum_{k} \bar y_k - \hat x_i \sum_{k} \bar y_k \hat x_k \Big).
# $$
#
# The three terms are the three paths: directly through $\hat x_i$, through $\mu_B$, and
# through $\sigma_B^2$. The two subtracted terms remove from the gradient exactly the
# directions that the normalization makes irrelevant: shifting all $x_i$ of a feature by a
# constant, and scaling them about their mean. Consequently $\sum_i \partial L/\partial x_i =
# 0$ for every feature, which is why the bias in front of BN received a zero gradient in
# section 2. In evaluation mode $\mu$ and $\sigma^2$ are constants, and the layer is just a
# per-feature affine map with gradient $\gamma/\sqrt{\sigma^2+\varepsilon}$.
#
# The compact form is what `cl.BatchNorm1d` (and PyTorch) use. Is it faster? It skips the
# intermediate arrays of the staged version, but both make a handful of passes over the
# $(N, D)$ batch, so the difference is small (`make bench` times both with
# `bng.time_backwards`):

# %% tags=["nbval-ignore-output"]
t = bng.time_backwards(n=64, d=256)
print(f"batch (64, 256): staged {1e6 * t['staged']:.0f} µs, compact {1e6 * t['compact']:.0f} µs "
      f"per backward pass (staged / compact = {t['ratio']:.2f}); max |difference of dx| = {t['max_abs_diff']:.0e}")

# %% [markdown]
# We also gradient-check the library layer in both modes, and a tempting wrong backward pass
# that treats $\mu_B, \sigma_B$ as constants in training mode:

# %%
res_train = cl.gradcheck(bn_check, x_small)
bn_check.eval()
res_eval = cl.gradcheck(bn_check, x_small)
bn_check.train()
print(res_train)
print(res_eval)
assert res_train.max_error < 1e-7 and res_eval.max_error < 1e-7

# the wrong backward: dx = g * γ / sqrt(σ² + ε), as if μ_B and σ_B did not depend on x
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
# themselves can be measured, as long as the comparison is fair.
#
# The bench of section 2 (6 layers, plain SGD, batches of 64, centred inputs, 4 epochs) is
# trained with and without BN over a grid of learning rates and weight scales (each weight
# matrix is He-normal × `init_scale`), on three seeds: 2 nets × 7 learning rates × 5 scales ×
# 3 seeds = 210 runs. They are trained together, stacked, in float32 (the arithmetic of
# `cl.fit` run by run; the tests check the two agree), and cached: the two sweeps below and the
# explorer of section 7 read the same runs.
#
# ### Larger learning rates

# %%
t0 = time.perf_counter()
grids = bnw.grids()                          # {"batch": Grid, "none": Grid}, centred inputs
raw = {net: bx.lr_grid(net, "raw", scales=(1.0,)) for net in ("batch", "none")}   # raw pixels

# %% tags=["nbval-ignore-output"]
print(f"{bnw.precompute() + 2 * len(SEEDS) * len(bx.LRS)} training runs in {time.perf_counter() - t0:.1f} s")

# %%
lrs = grids["batch"].lrs
acc_bn, _ = grids["batch"].at_scale(1.0)       # (seeds, lrs)
acc_plain, _ = grids["none"].at_scale(1.0)
print("lr:        ", "  ".join(f"{v:5g}" for v in lrs))
for name, acc in (("with BN", acc_bn), ("without BN", acc_plain)):
    for s, row in zip(SEEDS, acc):
        print(f"{name:<11} seed {s:<5}", "  ".join(f"{a:5.2f}" for a in row))
usable_bn, usable_plain = bx.usable_lr(acc_bn, lrs), bx.usable_lr(acc_plain, lrs)
print(f"largest lr reaching 90% validation accuracy: with BN {usable_bn}, without {usable_plain}, "
      f"ratio {usable_bn / usable_plain} (seeds {SEEDS})")
assert (usable_bn >= 1.0).all()                    # BN reaches 90% at lr >= 1 on every seed ...
assert (usable_plain <= 1.0).all()                 # ... the plain net never above lr 1 ...
assert (usable_bn / usable_plain >= 2).all()       # ... a factor >= 2 on every seed
assert acc_plain[:, lrs.index(2.0)].max() < 0.5    # at lr 2 the plain net fails on every seed,
assert acc_bn[:, lrs.index(2.0)].min() > 0.8       # the BN net trains
best = cl.paired(acc_bn.max(axis=1), acc_plain.max(axis=1), ("BN", "plain"))
print("each net at its own best lr:", best.summary())
assert abs(best.mean) < 0.05                       # at their best lrs the two are close

# %% [markdown]
# With centred inputs both nets train well up to lr 0.2–0.5. At lr 1 the plain net becomes a
# lottery (33–83% over the 15 seeds we tried, COURSE_SEED 0–3 and 7, depending on whether a
# large early step pushes most of its ReLUs into their dead zone), and at lr 2 it fails on
# every seed, while the BN net still reaches 86–97%. BN extends the largest usable learning
# rate (≥ 90% validation accuracy) from 0.5 to 2 on most seeds: **a factor of 4** (4 to 10
# over the 15 seeds; the grid steps by factors of 2–2.5, so the factor is only known to about
# that precision), with BN's own limit between 2 and 5. At each net's own best learning rate
# the two are close: BN is 0–5 points ahead after 4 epochs. The figure shows every seed:

# %%
bx.draw_lr_sweeps(grids, raw)
plt.show()

# %% [markdown]
# **The same comparison with raw pixels** (right panel) is what this notebook used to show,
# and it exaggerated BN's margin. Fed the uncentred $[0, 1]$ pixels, the plain net already
# fails at lr 0.5 (9–50%), and its best accuracy drops to 77–93%. The BN net does not care: its
# first BN layer subtracts the batch mean of $xW$, which removes any constant offset of the
# inputs, so raw and centred inputs give the same network up to rounding (the tests check this
# exactly). Part of what looked like "BN tolerates 10× larger learning rates" was BN doing the
# centring that the plain net was denied.

# %%
acc_raw_bn, _ = raw["batch"].at_scale(1.0)
acc_raw_plain, _ = raw["none"].at_scale(1.0)
usable_raw = bx.usable_lr(acc_raw_plain, lrs)
print(f"plain net, largest lr reaching 90%: raw pixels {usable_raw}, centred {usable_plain}")
print(f"plain net, best accuracy: raw {acc_raw_plain.max(axis=1).round(3)}, centred {acc_plain.max(axis=1).round(3)}")
assert (usable_raw < usable_plain).all()           # centring buys the plain net a larger lr
small_lr = [i for i, v in enumerate(lrs) if v <= 0.5]
diff_bn = np.abs(acc_raw_bn - acc_bn)[:, small_lr].max()
print(f"BN net, raw vs centred, lr <= 0.5: largest difference {diff_bn:.3f}")
assert diff_bn < 0.03                              # BN does the centring itself

# %% [markdown]
# **A longer budget.** Four epochs favour whatever learns fastest. Trained for 12 epochs, the
# plain net's best accuracy catches up with BN's (−0.3 to +3 points over the 18 seeds we
# tried, COURSE_SEED 0–4 and 7), and some of its lr 1 runs recover, so the largest lr reaching
# 90% now differs by 1–4× (4× or 2× on most seeds; it is a threshold on a coarse grid). What
# does not change with the budget: at lr 2 the plain net fails on every seed, and BN trains.

# %%
long = {net: bx.lr_grid(net, lrs=(0.2, 0.5, 1.0, 2.0, 5.0), scales=(1.0,), epochs=12)
        for net in ("batch", "none")}
acc12 = {net: g.at_scale(1.0)[0] for net, g in long.items()}
use12 = {net: bx.usable_lr(a, long[net].lrs) for net, a in acc12.items()}
print(f"12 epochs, largest lr reaching 90%: with BN {use12['batch']}, without {use12['none']}")
best12 = cl.paired(acc12["batch"].max(axis=1), acc12["none"].max(axis=1), ("BN", "plain"))
print("12 epochs, each net at its own best lr:", best12.summary())
j2 = long["batch"].lrs.index(2.0)
print(f"12 epochs, lr 2: with BN {acc12['batch'][:, j2].round(3)}, without {acc12['none'][:, j2].round(3)}")
assert (acc12["none"][:, j2] < 0.5).all() and (acc12["batch"][:, j2] > 0.8).all()
assert abs(best12.mean) < 0.03                     # at their best lrs: close

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
scales = grids["batch"].scales
sc_bn, _ = grids["batch"].at_lr(0.2)          # (seeds, scales)
sc_plain, _ = grids["none"].at_lr(0.2)
print("init scale:", "  ".join(f"{s:5g}" for s in scales))
for name, acc in (("with BN", sc_bn), ("without BN", sc_plain)):
    print(f"{name:<11}", "  ".join(f"{a:5.2f}" for a in np.median(acc, axis=0)), "  (median of 3 seeds)")
off = [i for i, s in enumerate(scales) if s != 1.0]
assert sc_bn.min() > 0.75                              # BN: every scale trains, every seed
far = [i for i, s in enumerate(scales) if s not in (1.0, 2.0)]
assert (np.median(sc_plain[:, far], axis=0) < 0.5).all()   # plain: at 1/4, 1/2 and 4 it fails
assert (sc_bn.min(axis=1) > sc_plain.min(axis=1) + 0.5).all()   # worst scale, per seed

bx.draw_init_scales(grids, lr=0.2)
plt.show()

# %% [markdown]
# With BN every scale from 1/4 to 4 trained on every seed (82–97% over COURSE_SEED 0–15,
# 48 runs per scale). Without BN only the He scale itself trains reliably: at 1/4, 1/2 and 4
# the plain net stays at or near chance (the median of three seeds below 35% on every course
# seed), and at scale 2 it is a lottery (for most course seeds the median run fails, for
# three of the 16 it trains). The range covered is $[1/4, 4]$; we did not try more extreme
# scales.
#
# BN's curve is not perfectly flat, and the reason is instructive. Scaling a layer's weights by
# $a$ leaves its output unchanged, but it divides the gradient with respect to those weights by
# $a$, while the weights themselves are $a$ times larger. Each SGD step therefore changes the
# weights by a fraction $\propto \mathrm{lr}/a^2$: **the weight scale turns into an effective
# learning rate**. Small scales train fast, large scales train slowly (at scale 4 the BN net
# needs lr 2 to do as well as at scale 1 with lr 0.2). Both facts are checked here on one
# layer:

# %%
lin_s = cl.Linear(64, 16, bias=False, rng=cl.make_rng(7))
bn_s = cl.BatchNorm1d(16, eps=0.0)        # with ε = 0 the invariance is exact
g_out = cl.make_rng(8).standard_normal((64, 16))
outs, grads_s = {}, {}
for a in (1.0, 4.0):
    lin_s.W.data *= a
    outs[a] = bn_s.forward(lin_s.forward(X_train[:64]))
    lin_s.zero_grad()
    lin_s.backward(bn_s.backward(g_out))
    grads_s[a] = lin_s.W.grad.copy()
    lin_s.W.data /= a
print(f"output change when W is scaled by 4: {np.abs(outs[4.0] - outs[1.0]).max():.1e}")
print(f"gradient ratio ||dW(4W)|| / ||dW(W)|| = {np.linalg.norm(grads_s[4.0]) / np.linalg.norm(grads_s[1.0]):.4f}")
assert np.abs(outs[4.0] - outs[1.0]).max() < 1e-10          # same forward pass
assert cl.rel_error(grads_s[4.0], grads_s[1.0] / 4.0) < 1e-8     # gradient divided by 4

# %% [markdown]
# ### A small regularizing side effect
#
# In training, each example is normalized with the statistics of the batch it happens to land
# in, and the batch is random. So BN adds noise to every hidden feature, and the noise
# shrinks like $1/\sqrt{N}$ with the batch size $N$. We measure it directly: the normalized
# value $\hat x$ of one fixed training example in the first BN layer, over 300 random batches
# of each size.

# %%
H1 = X_train @ bx.make_net("batch", rng=SEEDS[0])[0].W.data   # first-layer pre-activations, (1079, 64)
rng_n = cl.make_rng(9)
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

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.loglog(sizes, noise, "o-", label="measured")
ax.loglog(sizes, noise[0] * np.sqrt(sizes[0] / sizes), "k--", lw=1, label=r"$\propto 1/\sqrt{N}$")
ax.minorticks_off()
ax.set_xticks(sizes, [str(n) for n in sizes])
ax.set_yticks([0.05, 0.1, 0.2, 0.5], ["0.05", "0.1", "0.2", "0.5"])
ax.set_xlabel("batch size N (log scale)")
ax.set_ylabel("std of $\\hat x$ of one example")
ax.set_title("BN's batch noise on one example", fontsize=10)
ax.legend()
plt.show()

# %% [markdown]
# Does this noise regularize? Comparing a net with BN against one without cannot tell: BN also
# changes the optimization, and the two nets want different learning rates. We isolate the
# noise instead with **ghost batch normalization** (Hoffer, Hubara & Soudry, 2017): the same
# BN net, the same gradient batch of 256, the same lr 0.5 and the same 120 steps (30 epochs),
# but the statistics of every BN layer are computed over consecutive "ghost" batches of 4, 16
# or 64 examples inside each batch of 256, or over all 256 (plain BN). Only the noise of the
# statistics changes.

# %%
ghost = bx.ghost_study()
for g in ghost.ghost_sizes:
    print(f"statistics over {g:3d}: train acc {ghost.train_acc[g].round(3)}, val acc "
          f"{ghost.val_acc[g].round(3)}, val loss {ghost.val_loss[g].round(3)}")
gain = cl.paired(ghost.val_acc[16], ghost.val_acc[256], ("ghost 16", "plain BN (256)"))
print(gain.summary())
assert (ghost.train_acc[16] > 0.99).all() and (ghost.train_acc[256] > 0.99).all()  # both fit
assert ghost.val_loss[16].mean() < ghost.val_loss[256].mean()   # more noise, better val loss ...
assert (gain.diff > -0.006).all()                           # ... and never worse accuracy
assert (ghost.val_acc[4] < ghost.val_acc[16]).all()         # too much noise hurts

bx.draw_ghost(ghost)
plt.show()

# %% [markdown]
# Both nets fit the training set completely. With ghost batches of 16 the validation loss is
# lower on average (and in 38 of 42 runs over COURSE_SEED 0–13), and the validation accuracy
# is 0 to 3.7 points higher (never lower in those 42 runs; one point is about 3.6 of the 359
# validation digits): the batch noise does regularize, a little. Ghost batches of 4 are too
# noisy: the net no longer fits its training set (92–96%) and loses up to 9.5 points. So the noise is a real but small effect that depends on the batch size,
# not a tool to tune. When a model overfits, use an actual regularizer (notebooks 05 and 07).
# Nets with BN often need less dropout, which is consistent with the noise doing some of the
# same work.
#
# ## 6. Small batches, the batch-dependence bug, and LayerNorm
#
# The noise measured above grows like $1/\sqrt N$, and at very small batches BN stops working
# for two reasons. **The statistics are noise**: with $N = 2$ the normalized values are
# $\hat x = \pm 1$ (up to $\varepsilon$) for every feature, whatever the inputs, so a hidden
# feature only says which of the two examples is larger. **Training and evaluation
# disagree**: the network learns to work with the batch statistics of tiny batches, and at
# test time it gets the running averages instead, a different function.
#
# **Layer normalization** (Ba, Kiros & Hinton, 2016) normalizes each *example* over its own
# $D$ features instead of each feature over the batch:
#
# $$
# \mu_i = \frac1D\sum_{j=1}^D x_{ij},\qquad \sigma_i^2 = \frac1D\sum_{j=1}^D (x_{ij}-\mu_i)^2,
# \qquad y_{ij} = \gamma_j\,\frac{x_{ij}-\mu_i}{\sqrt{\sigma_i^2+\varepsilon}} + \beta_j .
# $$
#
# No statistic involves another example, so the output of one example never depends on the
# batch, a batch of one works, and training and evaluation compute the same thing (no
# running statistics). `cl.LayerNorm` is PyTorch's `nn.LayerNorm` over the last axis; its
# backward pass is BatchNorm's compact formula with the two axes swapped.

# %%
ln = cl.LayerNorm(16)
out_ln = ln.forward(x)                                  # x: the (64, 16) batch of section 1
print(f"LayerNorm: every ROW has mean {np.abs(out_ln.mean(axis=1)).max():.0e} and std "
      f"{out_ln.std(axis=1).mean():.5f}; the columns do not: feature means {out_ln.mean(axis=0)[:3].round(2)} ...")
alone = ln.forward(x[:1])                               # a batch of one
ln.eval()
assert np.abs(alone - out_ln[:1]).max() < 1e-12          # the same output alone or in a batch
assert np.abs(ln.forward(x) - out_ln).max() == 0.0       # and the same in evaluation mode
print(cl.gradcheck(cl.LayerNorm(5), x_small))

# %% [markdown]
# **BN against LayerNorm at small batches.** The bench with BatchNorm or LayerNorm in front of
# every hidden ReLU, trained for 3 epochs at batch sizes 2, 4, 8 and 64 (the same number of
# examples seen at every size: 1,617 SGD steps at batch 2, 48 at batch 64; the last incomplete
# batch of each epoch is dropped, as PyTorch's `drop_last=True` does, because BN cannot
# normalize a batch of one). Each (layer, batch size) gets its best learning rate from a grid
# of three, chosen on the mean validation accuracy over the seeds (the same small optimism for
# both). We report the validation accuracy in evaluation mode, the way the model would be used,
# and in training mode (batch statistics, batches of the training size), which is what the
# network was trained to do.

# %%
small = bx.small_batch_study()


def spread(v):
    return f"{v.mean():.3f} ({v.min():.2f}–{v.max():.2f})".ljust(20)


print(" " * 22 + "".join(f"batch {b}".ljust(20) for b in small.batch_sizes))
for norm, name in (("batch", "BatchNorm"), ("layer", "LayerNorm")):
    print(f"{name + ' lr':22s}" + "".join(f"{small.lr[norm, b]:<20g}" for b in small.batch_sizes))
    print(f"{name + ' eval mode':22s}" + "".join(spread(small.val_acc[norm, b]) for b in small.batch_sizes))
    print(f"{name + ' train mode':22s}" + "".join(spread(small.val_acc_train_mode[norm, b])
                                                for b in small.batch_sizes))
print("(validation accuracy: mean and range over the seeds)")
assert small.val_acc["batch", 2].max() < 0.5                     # BN at batch 2: broken
assert np.median(small.val_acc["layer", 2]) > 0.85               # LayerNorm: fine (as a rule)
for b in (2, 4):
    assert np.median(small.val_acc["layer", b] - small.val_acc["batch", b]) > 0.05
for b in (4, 8):
    assert (small.gap("batch", b) > 0.05).all()    # BN: evaluation and training mode disagree
for b in small.batch_sizes:
    assert np.array_equal(small.gap("layer", b), np.zeros(len(SEEDS)))   # LayerNorm: never
assert (small.val_acc["batch", 64] > 0.9).all()                  # at batch 64 BN is fine

bx.draw_small_batches(small)
plt.show()

# %% [markdown]
# At batch 2, BN does not train: with $\hat x = \pm1$ everywhere there is almost nothing to
# learn from, and its validation accuracy stays far below 50% in both modes (the assert;
# 11–37% over COURSE_SEED 0–15), against 93–98% for LayerNorm in 46 of those 48 runs. (The
# other two LayerNorm runs collapsed to chance: SGD on batches of two is noisy for any
# network, but only BN fails by construction.) At batches
# of 4 and 8 it learns, but what it learned (training mode, cyan) and what it does at test
# time (evaluation mode, blue) are visibly different functions, 9–34 points apart. (Here the
# evaluation mode is the *better* one: the running averages are smoother than the statistics
# of 4 or 8 examples. In general the mismatch can go either way.) LayerNorm is unaffected by
# the batch size, and identical in both modes. At batch 64 BN catches up and is as good as
# or slightly better than LayerNorm on this bench; LayerNorm is the standard choice where
# batches are small or examples must be processed alone (transformers, recurrent nets), BN in
# convolutional nets trained with large batches.
#
# ### The batch-dependence bug, and the test that finds it
#
# In training mode, BN makes every example's output depend on the other examples of its batch.
# Karpathy's recipe for training neural nets has a test for exactly this
# (`cl.diagnostics.batch_independence`, notebook 08): backpropagate from the output of ONE
# example, and check that the gradient with respect to every OTHER example's input is exactly
# zero. We apply it to the nets trained at batch 8 above, and count how often an example's
# predicted class changes when it is put into 10 different random batches of 8:

# %%
bn8, ln8 = small.nets["batch", 8], small.nets["layer", 8]      # one trained net per seed
Xv16 = Xc_val[:16]
for name, net, mode in (("BatchNorm", bn8[0], "train"), ("BatchNorm", bn8[0], "eval"),
                        ("LayerNorm", ln8[0], "train")):
    net.train(mode == "train")
    print(f"{name}, {mode} mode:", cl.diagnostics.batch_independence(net, Xv16))
bn8[0].train()
assert not cl.diagnostics.batch_independence(bn8[0], Xv16)      # mixes the examples
bn8[0].eval()
assert cl.diagnostics.batch_independence(bn8[0], Xv16)          # evaluation mode does not
ln8[0].train()
assert cl.diagnostics.batch_independence(ln8[0], Xv16)          # LayerNorm never does

changed = {norm: np.array([bx.batch_dependence(net, Xc_val, rng=cl.make_rng(10))[0]
                           for net in small.nets[norm, 8]]) for norm in ("batch", "layer")}
print(f"share of 40 validation examples whose predicted class depends on their 7 batch-mates "
      f"(training mode): BatchNorm {changed['batch'].round(2)}, LayerNorm {changed['layer']}")
assert (changed["batch"] > 0.2).all() and (changed["layer"] == 0).all()

# %% [markdown]
# In training mode, the output of example $i$ of a BN net depends on the inputs of the other
# examples (the gradient from example $i$'s output reaches example $j$'s input), and in
# batches of 8 half to three quarters of the predictions change with the batch-mates. In
# evaluation mode BN passes the test, because the running statistics are constants.
# LayerNorm passes in both modes.
#
# This is the deployment bug of section 3 in its general form: any model that computes
# statistics across the batch at prediction time gives answers that depend on what else is in
# the batch. With BN the fix is `model.eval()`; where batches are small, or examples arrive one
# at a time during *training* as well (online learning, a recurrent net unrolled over time),
# LayerNorm removes the problem at its root, because it never looks across the batch.
#
# ## 7. Explore: BN × learning rate × init scale
#
# The 210 runs of section 5 are cached, so each slider move only redraws. The left panel shows
# the training loss of the chosen setting on each of the three seeds, the right panel the
# validation accuracy against the learning rate at the chosen init scale. Things to try:
#
# * At init scale 1, move the learning rate from 0.1 to 2 and watch the red curves fail from
#   lr 1 on, and the blue ones from lr 5.
# * Set init scale 4: the plain net's initial loss is in the thousands and then explodes. The
#   BN net starts at a loss of about 6–8 (the scale reaches only its output layer) and learns,
#   faster the larger the lr (the effective learning rate ∝ lr / scale²).
# * Set init scale 1/4: now the BN net does best at small learning rates, while at scale 4 it
#   needs lr ≥ 1. The best learning rate moves with the init scale.

# %%
display(bnw.bn_explorer(lr=0.5, init_scale=1.0))

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
# PyTorch's convention and Ioffe & Szegedy's Algorithm 2, followed by `cl.BatchNorm1d`.
# </details>
#
# 5. In the staged backward pass, $\mu$ has shape $(D,)$ and feeds $x_c = x - \mu$ of shape
#    $(N, D)$. Why is $\bar\mu$ a *sum* over the batch, and why does every $x_i$ then receive
#    only $\bar\mu/N$?
#
# <details><summary>Answer</summary>
#
# In the forward pass the one number $\mu_j$ is subtracted from all $N$ examples, so changing
# it changes the loss through all of them: its gradient is the sum of the $N$ contributions
# (with the sign of the subtraction, $\bar\mu = -\sum_i \bar x_{c,i}$). Going further back,
# $\mu = \frac1N\sum_i x_i$, so $\partial\mu/\partial x_i = 1/N$: each example gets $\frac1N$
# of $\bar\mu$. Broadcast forward means sum backward; mean forward means spread $1/N$ backward.
# </details>
#
# 6. Why did the BN net train at init scale 4 while the plain net exploded, and why was it still
#    a bit worse there than at scale 1 after 4 epochs at lr 0.2?
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
# 7. Your inputs are so large that only 2 examples fit in memory per step. What happens to a
#    net with BatchNorm, and what would you use instead?
#
# <details><summary>Answer</summary>
#
# With two examples every normalized feature is $\pm1$, the statistics are pure noise, and the
# running averages used at test time describe a different function from the one trained
# (section 6: near-chance accuracy at batch 2). Use a normalization that does not look across
# the batch: LayerNorm (or GroupNorm in convolutional nets), which behaves the same in training
# and in evaluation and works for a batch of one.
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
#   depend on the batch (a class-sorted validation set dropped to chance on every seed) and a
#   batch of one gives the same output for every input.
# * The backward pass, derived node by node on the graph (broadcast forward = sum backward,
#   mean forward = 1/N backward, two paths add), simplifies to
#   $dx = \frac{\gamma}{N\sqrt{\sigma^2+\varepsilon}}(N g - \sum g - \hat x\sum g\hat x)$;
#   both pass the gradient check at < 1e-7 and agree to 1e-12.
# * On the digits with centred inputs (3 seeds per run, 15 tried; 4 epochs), BN raised the
#   largest usable learning rate from 0.5 to 2 on most seeds (a factor of 4; 4–10 over the
#   seeds after 4 epochs, 1–4 after 12; at lr 2 the plain net always failed and BN always
#   trained) and trained at every init scale from 1/4 to 4. Against raw, uncentred pixels the margin looked larger, because
#   BN's first layer centres the inputs for free. At each net's own best lr the two are
#   close. The regularizing effect of BN's batch noise, isolated with ghost batches, is real
#   but small (0–2 points).
# * At batch sizes of 2–8 BN breaks (noisy statistics, evaluation ≠ training), and its
#   outputs depend on the batch-mates in training mode; LayerNorm normalizes each example on
#   its own and has neither problem.
#
# **Next:** practise in the exercises
# [exercises/04_batch_normalization.ipynb](../exercises/04_batch_normalization.ipynb), then
# continue with [05 Dropout](05_dropout.ipynb).
