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
# # 05 · Dropout
#
# A large network trained on a small data set can memorize it, including the examples whose
# labels are wrong. **Dropout** (Hinton et al. 2012; Srivastava et al. 2014) is a
# regularizer that is almost too simple: during training, every hidden unit is switched off at
# random, independently for every example and every step. No unit can count on any other one
# being present, so each has to be useful on its own. At test time all units are on. This
# notebook gets the details right (what $p$ means, the scaling, the backward pass) and then
# measures, on real digits, what dropout does and what it does not do.
#
# **Learning objectives.** After this notebook you can
#
# 1. state what the drop rate $p$ means in PyTorch/Keras and recognise the papers and notes
#    that use $p$ for the keep probability;
# 2. explain inverted dropout and the older test-time scaling, and show that both keep the
#    expected activation;
# 3. put dropout in the right places with sensible rates, and switch it off for evaluation;
# 4. write and gradient-check the backward pass (same mask as the forward pass);
# 5. interpret dropout as training an exponential ensemble of weight-sharing thinned networks,
#    and test that view;
# 6. run the overfitting experiment and read its train/validation gap honestly.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb), [03 Backpropagation](03_backpropagation.ipynb)
# (backward passes, gradient checking), [04 Batch normalization](04_batch_normalization.ipynb)
# (train vs eval mode).
#
# **Estimated time.** 60 minutes.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.functional import softmax
from course_lib.widgets import dropout as dow

cl.set_seed(0)
X_train, y_train, X_val, y_val, X_test, y_test = cl.data.load_digits()
print(f"digits: train {X_train.shape}, validation {X_val.shape}")

# %% [markdown]
# ## 1. What $p$ means
#
# In training, dropout multiplies every activation $h_j$ by an independent random mask
# $m_j \sim \text{Bernoulli}(1-p)$: the unit is **dropped with probability $p$** and
# **kept with probability $1-p$**. PyTorch (`nn.Dropout(p=0.5)`), Keras (`Dropout(rate=0.5)`)
# and `cl.Dropout(p)` all use $p$ for the **drop rate**.
#
# > **Careful with old sources.** The original dropout paper (Srivastava et al. 2014),
# > TensorFlow 1 (`tf.nn.dropout(x, keep_prob)`) and some well-known lecture notes use $p$
# > for the **keep** probability. "Dropout with $p = 0.8$" means keep 80% there and drop 80%
# > in PyTorch, which is a very different network. Read the code or the formula, not the
# > letter. For $p = 0.5$ the two readings happen to coincide, which is how the confusion
# > survives.
#
# Here is `cl.Dropout(0.5)` applied to a block of ones. Dropped entries are 0, and kept ones
# become $1/(1-p) = 2$ (section 2 explains why):

# %%
drop = cl.Dropout(p=0.5, rng=0)
print(drop.forward(np.ones((4, 12))))

big = cl.Dropout(p=0.3, rng=1).forward(np.ones((1000, 500)))
frac = np.mean(big == 0)
se = np.sqrt(0.3 * 0.7 / big.size)
print(f"p = 0.3: dropped fraction {frac:.4f} (expected 0.3, standard error {se:.5f})")
assert abs(frac - 0.3) < 4 * se

# %% [markdown]
# ## 2. Keeping the expected activation: inverted dropout vs test-time scaling
#
# If a unit is kept only a fraction $1-p$ of the time, the next layer sees on average
# $(1-p)\,h$ during training but $h$ at test time. The two conventions fix this mismatch on
# different sides:
#
# | | training | test | expected training output |
# |---|---|---|---|
# | **inverted dropout** (PyTorch, Keras, `course_lib`) | $\tilde h = h\cdot m/(1-p)$ | $h$ | $h$ |
# | **test-time scaling** (the 2014 paper) | $\tilde h = h\cdot m$ | $(1-p)\,h$ | $(1-p)\,h$ |
#
# Either way, the test-time activation equals the *expected* training-time activation.
# Inverted dropout is the standard because inference becomes the plain network. Deployment
# code never needs to know $p$, and $p$ can be changed between training runs without
# touching it. The two conventions train the same family of functions: the test-time scaling
# version just ends up with next-layer weights that are $1/(1-p)$ times larger.
#
# We check the mean on a large batch of ReLU-like activations, with the standard error of the
# mean difference as the yardstick:

# %%
rng = np.random.default_rng(2)
h = np.maximum(rng.standard_normal((2000, 256)), 0.0)     # non-negative, like ReLU outputs
n = h.size
for p in (0.2, 0.5, 0.8):
    out = cl.Dropout(p, rng=3).forward(h)                 # inverted: train-time output
    se_inv = (out - h).std() / np.sqrt(n)
    z_inv = (out.mean() - h.mean()) / se_inv
    kept = h * (rng.random(h.shape) >= p)                 # test-time scaling: train output ...
    test = (1 - p) * h                                    # ... and its test output
    se_alt = (kept - test).std() / np.sqrt(n)
    z_alt = (kept.mean() - test.mean()) / se_alt
    print(f"p = {p}: inverted  mean in {h.mean():.4f}, mean out {out.mean():.4f}, z = {z_inv:+.2f} | "
          f"test-time scaling: train mean {kept.mean():.4f}, test mean {test.mean():.4f}, z = {z_alt:+.2f}")
    assert abs(out.mean() - h.mean()) < 4 * se_inv       # mean preserved within sampling error
    assert abs(kept.mean() - test.mean()) < 4 * se_alt

# %% [markdown]
# The mean over many units is preserved. The same holds **per unit**: for one fixed example,
# averaging the dropout output of each unit over many masks recovers that unit's activation
# (inverted), or its test-time value $(1-p)h_j$ (the other convention).

# %%
p = 0.5
h1 = h[0, :60]                                            # one example, 60 units
masks = np.random.default_rng(4).random((20000, 60)) >= p
avg_inv = (h1 * masks / (1 - p)).mean(axis=0)            # E[train output], inverted
avg_alt = (h1 * masks).mean(axis=0)                      # E[train output], test-time scaling
se_unit = h1 * np.sqrt(p / (1 - p)) / np.sqrt(len(masks))  # std of the inverted mean per unit
print(f"largest per-unit deviation: {np.max(np.abs(avg_inv - h1) / np.maximum(se_unit, 1e-12)):.2f} standard errors")
assert np.all(np.abs(avg_inv - h1) <= 5 * se_unit + 1e-12)
assert np.all(np.abs(avg_alt - (1 - p) * h1) <= 5 * (1 - p) * se_unit + 1e-12)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
lim = [0, h1.max() * 1.05]
axes[0].plot(lim, lim, "k--", lw=1, label="y = x")
axes[0].plot(h1, avg_inv, "o", ms=4, label="mean over 20,000 masks")
axes[0].set_xlabel("test-time output  $h_j$")
axes[0].set_title("inverted dropout: train $h_j m_j/(1-p)$, test $h_j$")
axes[1].plot(lim, lim, "k--", lw=1, label="y = x")
axes[1].plot((1 - p) * h1, avg_alt, "o", ms=4, color="tab:green", label="mean over 20,000 masks")
axes[1].set_xlabel("test-time output  $(1-p)\\,h_j$")
axes[1].set_title("test-time scaling: train $h_j m_j$, test $(1-p)h_j$")
for ax in axes:
    ax.set_ylabel("average training-time output")
    ax.legend(fontsize=8, loc="upper left")
fig.suptitle(f"p = {p}: in both conventions the test output is the expected training output", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Only the mean is preserved. The variance of a unit's output grows during training (by
# $h_j^2\,p/(1-p)$), which is the noise that regularizes. It also means that a layer after
# dropout sees slightly different statistics in training and evaluation. This is one reason
# why putting dropout right before a BatchNorm layer can behave badly.
#
# ## 3. Evaluation: no dropout
#
# At evaluation time we want one deterministic prediction from the full network, so dropout is
# switched off. `model.eval()` (in PyTorch and here) makes every `Dropout` layer the identity.
# With inverted dropout no rescaling is needed:

# %%
layer = cl.Dropout(0.5, rng=5)
layer.eval()
out_eval = layer.forward(h)
assert out_eval is h or np.array_equal(out_eval, h)
layer.train()
out_train = layer.forward(h)
print(f"eval mode: identical to the input: {np.array_equal(out_eval, h)};  "
      f"train mode: {np.mean(out_train == 0):.1%} zeros")
assert not np.array_equal(out_train, h)

# %% [markdown]
# Forgetting `model.eval()` leaves the network guessing with a random half of its units. Section 6
# measures what that costs.
#
# ## 4. Where, and how much
#
# * **Hidden layers**, after the non-linearity: `Linear → ReLU → Dropout`. The larger the
#   layer, the more it can afford to lose. $p = 0.5$ is the classic rate for wide fully
#   connected hidden layers.
# * **Inputs**, if at all, with a small rate (the paper used a keep probability of 0.8, that is
#   $p = 0.2$).
# * **Not on the output layer.** The output units *are* the prediction. Dropping a logit
#   does not create a useful sub-network: it just deletes a class score at random.
# * **When the model underfits** (training accuracy stays low), dropout makes it worse. Lower
#   the rate to 0.2–0.3, or remove it. Dropout is for a model that can fit the training
#   set and does so too well.
#
# The network of this notebook's experiment follows these rules:

# %%
print(dow.make_mlp(p=0.5))

# %% [markdown]
# ## 5. The backward pass uses the same mask
#
# The forward pass in training is $\tilde h = h\odot m/(1-p)$ with a fixed, sampled $m$. It is
# an element-wise multiplication by a constant, so
#
# $$\frac{\partial L}{\partial h} = \frac{\partial L}{\partial \tilde h}\odot\frac{m}{(1-p)}$$
#
# with **the same mask** that was used in the forward pass. A dropped unit did not contribute
# to the loss, so it gets no gradient. `cl.Dropout` caches the scaled mask in `forward` and
# reuses it in `backward`. For a gradient check the numerical side must also see the same mask
# on every evaluation: `cl.gradcheck` rewinds the layer's random generator before each forward
# pass. We check the layer alone and a whole small network with dropout:

# %%
x_small = np.random.default_rng(6).standard_normal((6, 10))
res_layer = cl.gradcheck(cl.Dropout(0.5, rng=7), x_small)
small_net = dow.make_mlp(p=0.5, width=12, rng=8)
res_net = cl.gradcheck(small_net, np.random.default_rng(9).random((5, 64)))
print(res_layer)
print(f"network with dropout: max relative error {res_net.max_error:.1e}")
assert res_layer.max_error < 1e-7 and res_net.max_error < 1e-7

# %% [markdown]
# What goes wrong without the mask? Two plausible bugs. The first draws a **fresh mask** in
# the backward pass. The second multiplies by $1/(1-p)$ but **forgets the mask**. The
# reference is the numerical gradient with the forward mask held fixed. A third check shows why
# the mask must be frozen during gradient checking as well: if every evaluation draws a new
# mask, the finite differences compare different networks and are meaningless.

# %%
p = 0.5
layer = cl.Dropout(p, rng=10)
out = layer.forward(x_small)
dout = np.random.default_rng(11).standard_normal(out.shape)
mask = layer.mask.copy()                                  # the forward pass's (scaled) mask
x_num = x_small.copy()                                    # numerical_gradient perturbs it in place
num = cl.numerical_gradient(lambda: x_num * mask, x_num, dout)
dx_right = layer.backward(dout)
dx_fresh = dout * (np.random.default_rng(12).random(x_small.shape) >= p) / (1 - p)
dx_nomask = dout / (1 - p)
x_copy = x_small.copy()
num_unfrozen = cl.numerical_gradient(lambda: layer.forward(x_copy), x_copy, dout)
errors = {"same mask (correct)": cl.rel_error(dx_right, num),
          "fresh mask in backward": cl.rel_error(dx_fresh, num),
          "scaling but no mask": cl.rel_error(dx_nomask, num),
          "numerical grad. with unfrozen masks": cl.rel_error(dx_right, num_unfrozen)}
for name, err in errors.items():
    print(f"{name:<38} relative error {err:.1e}")
assert errors["same mask (correct)"] < 1e-7
assert min(errors["fresh mask in backward"], errors["scaling but no mask"],
           errors["numerical grad. with unfrozen masks"]) > 0.1

# %% [markdown]
# ## 6. The overfitting experiment
#
# Now the real test. The network above (64 → 256 → 256 → 10, about 85,000 weights) is trained
# on only **200** training digits for 40 epochs of SGD with momentum, once for each drop rate
# 0, 0.1, …, 0.7. All losses and accuracies, on the training subset and on the validation set,
# are measured in **evaluation mode**, with dropout off. (The training loss that `cl.fit`
# records is averaged over the dropout-perturbed mini-batches, so it overstates the training
# loss of the final network: fine for watching training, unfair for a train/validation gap.)
#
# We run this twice: with the true labels, and with 20% of the 200 training labels replaced by
# random classes. The validation labels are always clean. Mislabelled data are common in
# practice, and they show what overfitting costs: a network that memorizes them learns wrong
# answers. All runs are cached and also feed the explorer at the end of the section.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
n_runs = dow.precompute()
print(f"{n_runs} training runs in {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ### Clean labels

# %%
fig = dow.draw(0.5, "clean")
plt.show()

clean0, clean5 = dow.train_curves(0.0, 0.0), dow.train_curves(0.5, 0.0)
print(f"p = 0  : train acc {clean0.train_acc[-1]:.3f}, val acc {clean0.val_acc[-1]:.3f}")
print(f"p = 0.5: train acc {clean5.train_acc[-1]:.3f}, val acc {clean5.val_acc[-1]:.3f}")
assert clean0.train_acc[-1] > 0.995 and clean0.val_acc[-1] < 0.95   # the plain net overfits

# %% [markdown]
# Without dropout the network fits all 200 training digits (and their loss goes to ~0.01)
# while the validation accuracy stays around 0.93. That is overfitting by the usual definition.
# But with clean labels it is fairly *benign*: memorizing correct examples does not
# teach the network anything false. Most of the gap comes from the 200 examples simply not
# covering all the ways people write digits, and no regularizer can supply that missing data.
# Dropout at $p = 0.5$ changes little here. Over three seeds:

# %%
rows = []
for seed in (0, 1, 2):
    c0, c5 = dow.train_curves(0.0, 0.0, seed), dow.train_curves(0.5, 0.0, seed)
    rows.append((dow.gaps(c0), dow.gaps(c5), c0.val_acc[-10:].mean(), c5.val_acc[-10:].mean()))
    print(f"seed {seed}: loss gap {rows[-1][0][0]:.3f} → {rows[-1][1][0]:.3f}, "
          f"accuracy gap {rows[-1][0][1]:.3f} → {rows[-1][1][1]:.3f}, "
          f"val acc {rows[-1][2]:.3f} → {rows[-1][3]:.3f}   (p = 0 → p = 0.5, last 10 epochs)")
assert all(abs(r[3] - r[2]) < 0.02 for r in rows)       # clean labels: a small effect either way

# %% [markdown]
# ### 20% noisy labels

# %%
fig = dow.draw(0.5, "20% noisy")
plt.show()

rows = []
for seed in (0, 1, 2):
    c0, c5 = dow.train_curves(0.0, 0.2, seed), dow.train_curves(0.5, 0.2, seed)
    rows.append((dow.gaps(c0), dow.gaps(c5), c0.val_acc[-10:].mean(), c5.val_acc[-10:].mean()))
    print(f"seed {seed}: loss gap {rows[-1][0][0]:.3f} → {rows[-1][1][0]:.3f}, "
          f"accuracy gap {rows[-1][0][1]:+.3f} → {rows[-1][1][1]:+.3f}, "
          f"val acc {rows[-1][2]:.3f} → {rows[-1][3]:.3f}   (p = 0 → p = 0.5, last 10 epochs)")
for (gl0, ga0), (gl5, ga5), va0, va5 in rows:                # every seed:
    assert gl5 < 0.5 * gl0 and ga5 < 0.5 * ga0                # the gap shrinks by more than half
    assert va5 > va0 + 0.02                                    # and validation accuracy improves

# %% [markdown]
# With noisy labels the plain network again reaches (almost) 100% training accuracy. About
# 18% of what it memorized is now *wrong* (the random replacement hits the true class 1 time
# in 10), and validation accuracy falls to 0.82–0.84. With dropout the network cannot
# memorize the odd examples as easily. Its training accuracy on the noisy labels stays
# near 0.86, so it effectively refuses to learn many of the wrong labels. The train/validation
# gap shrinks by more than half for every seed, and validation accuracy rises by four to
# five points.
#
# The drop rate is a trade-off. In the summary over all rates, the gap falls steadily with
# $p$ for noisy labels and barely moves for clean ones. Validation accuracy peaks at a
# moderate rate (0.4–0.5 here) and drops again when too much is dropped (underfitting):

# %%
rates = np.array(dow.RATES)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for labels, color in (("clean", "tab:blue"), ("20% noisy", "tab:red")):
    curves = [dow.train_curves(float(r), dow.LABEL_NOISE[labels]) for r in rates]
    axes[0].plot(rates, [dow.gaps(c)[1] for c in curves], "o-", color=color, label=f"{labels} labels")
    axes[1].plot(rates, [c.val_acc[-10:].mean() for c in curves], "o-", color=color, label=f"{labels} labels")
axes[0].axhline(0, color="0.6", lw=0.8)
axes[0].set_ylabel("train − validation accuracy")
axes[0].set_title("train/validation gap")
axes[1].set_ylabel("validation accuracy")
axes[1].set_title("validation accuracy peaks at a moderate p")
for ax in axes:
    ax.set_xlabel("drop rate p")
    ax.legend(fontsize=8)
fig.suptitle("mean over the last 10 of 40 epochs, 200 training digits", fontsize=10)
fig.tight_layout()
plt.show()

gap_noisy = np.array([dow.gaps(dow.train_curves(float(r), 0.2))[1] for r in rates])
assert gap_noisy[-1] < gap_noisy[0] / 3           # p = 0.7 vs p = 0: the gap has all but closed
acc_clean = np.array([dow.train_curves(float(r), 0.0).val_acc[-10:].mean() for r in rates])
assert acc_clean[-1] < acc_clean.max() - 0.02     # too much dropout costs accuracy (underfitting)

# %% [markdown]
# ### Explore: drop rate → train/validation curves
#
# Move the drop rate and watch the blue (train) and orange (validation) curves approach each
# other. The faint curves are the run without dropout. Switch between clean and noisy labels.
# Things to look for: at which rate does validation accuracy peak? From which rate on does the
# training accuracy on clean labels stop reaching 1.0 (underfitting)?

# %%
display(dow.dropout_explorer(p=0.3, labels="clean"))

# %% [markdown]
# ## 7. The ensemble view
#
# Each mask $m$ selects a **thinned sub-network**. With $H$ droppable units there are $2^H$
# of them. Here $H = 512$, so $2^{512}\approx 10^{154}$ networks, all sharing one set of
# weights. Each training step trains one randomly chosen sub-network on one mini-batch. At
# test time we would ideally average the predictions of all of them. That is impossible
# exactly, but dropping nothing and keeping the expected activations (the **weight scaling
# rule**) is a cheap approximation of that average. For a single linear layer followed by
# softmax it is exactly the normalized geometric mean of the sub-networks' predictions. For
# deep ReLU nets it is an approximation that works well.
#
# We can test the approximation directly. We take the network trained with $p = 0.5$ on clean
# labels, average its softmax outputs over $T$ random masks (training mode; "Monte Carlo
# dropout"), and compare with the single deterministic evaluation-mode pass:

# %%
net = dow.make_mlp(p=0.5, rng=0)
net.load_state_dict(dow.train_curves(0.5, 0.0).state)
net.eval()
prob_eval = softmax(net.forward(X_val))
net.train()
samples = np.array([softmax(net.forward(X_val)) for _ in range(100)])    # 100 thinned networks
net.eval()
counts = np.array([1, 2, 5, 10, 20, 50, 100])
acc_mc = [(samples[:t].mean(axis=0).argmax(axis=1) == y_val).mean() for t in counts]
prob_mc = samples.mean(axis=0)
acc_eval = (prob_eval.argmax(axis=1) == y_val).mean()
acc_single = np.mean([(s.argmax(axis=1) == y_val).mean() for s in samples])
agree = (prob_mc.argmax(axis=1) == prob_eval.argmax(axis=1)).mean()
print(f"accuracy: one thinned network {acc_single:.3f}, average of 100 {acc_mc[-1]:.3f}, "
      f"eval mode (weight scaling) {acc_eval:.3f}")
print(f"same predicted class for {agree:.1%} of the validation digits; "
      f"mean |p_eval - p_avg| = {np.abs(prob_eval - prob_mc).mean():.3f}")
assert agree > 0.95 and abs(acc_mc[-1] - acc_eval) < 0.02
assert np.abs(prob_eval - prob_mc).mean() < 0.05
assert acc_single < acc_eval - 0.05            # a single thinned network is much worse

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogx(counts, acc_mc, "o-", label="average of T thinned networks (train mode)")
ax.axhline(acc_eval, color="k", ls="--", lw=1, label="evaluation mode: one pass, no dropout")
ax.set_xticks(counts, [str(c) for c in counts])
ax.minorticks_off()
ax.set_xlabel("number of sampled masks T (log scale)")
ax.set_ylabel("validation accuracy")
ax.set_title("the weight-scaled network ≈ the average of the ensemble")
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# One thinned network (what you get by forgetting `model.eval()`) is about ten points worse. The
# average over many masks climbs to the accuracy of the evaluation-mode network, which costs a
# single forward pass. (The spread of the sampled predictions is sometimes used as an
# uncertainty estimate. That is "MC dropout", a topic for another day.)
#
# ## 8. Co-adaptation
#
# Without dropout, a hidden unit can become useful only *in combination* with particular other
# units, each correcting the others' quirks. Such co-adapted feature detectors fit the
# training set well but are fragile. Dropout makes every partner unreliable, so each unit has
# to carry information that is useful on its own, with whatever subset of units happens to be
# present.
#
# A direct test: remove a random fraction of the hidden units of both layers, the **same**
# units for every example (rescaling the rest by $1/(1-q)$), and measure the validation
# accuracy. This is averaged over 20 random removals, for networks trained with $p = 0$,
# $0.3$ and $0.5$ on clean labels:

# %%
def accuracy_with_units_removed(model, q, rng, trials=20):
    """Validation accuracy when a random fraction q of each hidden layer's units is removed."""
    model.eval()
    accs = []
    for _ in range(trials):
        a = X_val
        for layer in model.layers:
            a = layer.forward(a)
            if isinstance(layer, cl.ReLU):                 # after each hidden non-linearity
                a = a * (rng.random(a.shape[1]) >= q) / (1 - q)
        accs.append((a.argmax(axis=1) == y_val).mean())
    return float(np.mean(accs))


fractions = [0.0, 0.25, 0.5, 0.75]
removal = {}
for p_train in (0.0, 0.3, 0.5):
    m = dow.make_mlp(p_train, rng=0)
    m.load_state_dict(dow.train_curves(p_train, 0.0).state)
    removal[p_train] = [accuracy_with_units_removed(m, q, np.random.default_rng(13)) for q in fractions]
    print(f"trained with p = {p_train}: accuracy with 0/25/50/75% of units removed:",
          np.round(removal[p_train], 3))
drop_plain = removal[0.0][0] - removal[0.0][2]
drop_dropout = removal[0.5][0] - removal[0.5][2]
print(f"removing half the units costs {drop_plain:.3f} (trained without dropout) vs "
      f"{drop_dropout:.3f} (trained with p = 0.5)")
assert drop_plain > 2 * drop_dropout

fig, ax = plt.subplots(figsize=(7, 3.5))
for p_train, acc in removal.items():
    ax.plot(fractions, acc, "o-", label=f"trained with p = {p_train}")
ax.set_xlabel("fraction of hidden units removed at test time")
ax.set_ylabel("validation accuracy")
ax.set_title("units trained with dropout do not depend on particular partners")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# All three networks are equally accurate when intact, but the one trained without dropout
# falls apart much faster when units go missing. Its units lean on each other. This is
# partly by construction, since the dropout nets were trained under exactly this kind of
# damage. That is the point, though: robustness to missing partners is the property dropout
# trains in.
#
# ## Check your understanding
#
# 1. A paper reports "dropout with $p = 0.9$ on the input layer". Your PyTorch port uses
#    `nn.Dropout(0.9)` there, and the network barely learns. What went wrong?
#
# <details><summary>Answer</summary>
#
# The paper's $p$ is the *keep* probability (as in Srivastava et al. 2014 and TensorFlow 1's
# `keep_prob`): it drops 10% of the inputs. PyTorch's `p` is the *drop* rate, so the port
# drops 90% of them. The equivalent is `nn.Dropout(0.1)`.
# </details>
#
# 2. With inverted dropout, why does the test-time code not need to know $p$? What would you
#    have to change at test time if training had used the un-scaled mask $h\cdot m$?
#
# <details><summary>Answer</summary>
#
# Inverted dropout scales the kept activations by $1/(1-p)$ during training, so the expected
# training activation already equals the plain activation $h$. At test time the layer is the
# identity. With the un-scaled mask the expected training activation is $(1-p)h$, so at test
# time every activation (or equivalently the next layer's weights) must be multiplied by
# $1-p$. The test code then depends on $p$.
# </details>
#
# 3. A student's dropout layer passes its unit tests for the forward pass, but training with it
#    is erratic and a gradient check gives a relative error near 1. The backward pass is
#    `return dout * (rng.random(dout.shape) >= p) / (1 - p)`. Explain.
#
# <details><summary>Answer</summary>
#
# The backward pass draws a **new** mask. The gradient must use the mask of the forward pass:
# a unit that was dropped contributed nothing to the loss and must get zero gradient, and a
# kept unit must get its gradient scaled by $1/(1-p)$. With an independent mask, about half
# of the gradients go to the wrong units. Cache the mask in `forward` and reuse it.
# </details>
#
# 4. In the experiment, dropout closed most of the train/validation gap with noisy labels but
#    barely changed validation accuracy with clean labels. Why the difference?
#
# <details><summary>Answer</summary>
#
# With noisy labels the plain network's overfitting is *harmful*: it memorizes wrong answers,
# and dropout makes memorizing isolated odd examples hard. With clean labels memorization is
# fairly benign, and the remaining gap comes mostly from the small training set not covering
# all the variation in handwriting. A regularizer cannot supply missing information, so a
# large gap does not by itself mean that more regularization will help.
# </details>
#
# 5. You evaluate a dropout network by averaging its softmax over 100 forward passes in
#    training mode. Your colleague just calls `model.eval()`. Whose numbers will be better, and
#    which is cheaper?
#
# <details><summary>Answer</summary>
#
# About the same: the evaluation-mode network (weight scaling rule) approximates the average
# of the thinned networks well (here within 1% accuracy and 97% agreement on the predicted
# class). It costs one forward pass instead of 100. A *single* training-mode pass would be
# clearly worse.
# </details>
#
# ## Summary
#
# * Dropout zeroes each hidden unit independently with probability $p$, the **drop rate**
#   in PyTorch/Keras/`course_lib`. The 2014 paper, TF1's `keep_prob` and some notes use $p$
#   for the keep probability $1-p$.
# * **Inverted dropout** scales kept units by $1/(1-p)$ in training and is the identity at
#   test time. The older convention scales by $1-p$ at test time. Both match the expected
#   training activation, and the mean is preserved within sampling error.
# * Use it after hidden non-linearities, typically $p = 0.5$ for wide dense layers and 0.2
#   for inputs. Lower it (0.2–0.3) or remove it when the model underfits, never use it on the
#   output layer, and always switch it off for evaluation (`model.eval()`).
# * The backward pass multiplies by the same scaled mask as the forward pass, and the
#   gradient check must replay that mask too.
# * Dropout trains an ensemble of $2^H$ weight-sharing thinned networks. The evaluation-mode
#   network approximates their average (checked: 97% agreement, same accuracy), and units
#   trained this way do not rely on particular partners.
# * On 200 digits it shrank the train/validation gap by more than half and raised validation
#   accuracy when the labels were noisy. With clean labels the effect was small. Dropout
#   fights memorization, not a lack of data.
#
# **Next:** practise in the exercises
# [exercises/05_dropout.ipynb](../exercises/05_dropout.ipynb), then continue with
# [06 Optimizers](06_optimizers.ipynb).
