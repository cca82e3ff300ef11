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
#    expected activation (and only the expected activation);
# 3. put dropout in the right places with sensible rates, and switch it off for evaluation;
# 4. write and gradient-check the backward pass (same mask as the forward pass);
# 5. run the overfitting experiment and read it honestly: against an early-stopped baseline,
#    at more than one training budget, on several seeds;
# 6. say which parts of the original paper's practical guide (wider layers, a larger learning
#    rate with high momentum, max-norm, longer training) help on a small bench;
# 7. interpret dropout as training an exponential ensemble of weight-sharing thinned networks,
#    and test that view.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb), [03 Backpropagation](03_backpropagation.ipynb)
# (backward passes, gradient checking), [04 Batch normalization](04_batch_normalization.ipynb)
# (train vs eval mode).
#
# **Estimated time.** 75 minutes.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets import dropout as dow
from course_lib.widgets import dropout_experiments as dex

cl.set_seed()                      # every random draw below derives from COURSE_SEED
print(f"COURSE_SEED = {cl.course_seed()}; seeds of the repeated runs: {cl.seeds(3)}")

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
drop = cl.Dropout(p=0.5, rng=cl.make_rng(0))
print(drop.forward(np.ones((4, 12))))

big = cl.Dropout(p=0.3, rng=cl.make_rng(1)).forward(np.ones((1000, 500)))
frac = np.mean(big == 0)
se = np.sqrt(0.3 * 0.7 / big.size)
print(f"p = 0.3: dropped fraction {frac:.4f} (expected 0.3, standard error {se:.5f})")
assert abs(frac - 0.3) < 4 * se              # a wrong convention (keep rate) would give 0.7

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
# version just ends up with next-layer weights that are $1/(1-p)$ times larger. (With the same
# learning rate and weight decay the two *runs* are not identical, though: the
# reparametrization changes the effective step size and the strength of L2 or max-norm.)
#
# We check the mean on a large batch of ReLU-like activations, with the standard error of the
# mean difference as the yardstick:

# %%
rng = cl.make_rng(2)
h = np.maximum(rng.standard_normal((2000, 256)), 0.0)     # non-negative, like ReLU outputs
n = h.size
for p in (0.2, 0.5, 0.8):
    out = cl.Dropout(p, rng=cl.make_rng(3)).forward(h)    # inverted: train-time output
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
# (inverted), or its test-time value $(1-p)h_j$ (the other convention). But only the mean: a
# single training-time output of unit $j$ is either 0 or $h_j/(1-p)$, so its standard
# deviation is $h_j\sqrt{p/(1-p)}$ (inverted) or $h_j\sqrt{p(1-p)}$ (test-time scaling). At
# $p = 0.5$ that is as large as the activation itself. We measure both over 20,000 masks:

# %%
p = 0.5
h1 = h[0, :60]                                            # one example, 60 units
masks = cl.make_rng(4).random((20000, 60)) >= p
outputs = {"inverted": h1 * masks / (1 - p), "test-time": h1 * masks}
avg = {k: v.mean(axis=0) for k, v in outputs.items()}
sd = {k: v.std(axis=0) for k, v in outputs.items()}
se_unit = h1 * np.sqrt(p / (1 - p)) / np.sqrt(len(masks))  # std of the inverted mean per unit
print(f"largest per-unit deviation of the mean: "
      f"{np.max(np.abs(avg['inverted'] - h1) / np.maximum(se_unit, 1e-12)):.2f} standard errors")
assert np.all(np.abs(avg["inverted"] - h1) <= 5 * se_unit + 1e-12)
assert np.all(np.abs(avg["test-time"] - (1 - p) * h1) <= 5 * (1 - p) * se_unit + 1e-12)
on = h1 > 0
ratio = sd["inverted"][on] / (h1[on] * np.sqrt(p / (1 - p)))
print(f"measured s.d. / formula h·sqrt(p/(1-p)): {ratio.min():.3f} … {ratio.max():.3f} "
      f"over the {on.sum()} active units")
assert np.all(np.abs(ratio - 1) < 0.05)      # the spread is as large as the formula says

fig = dow.draw_unit_means(h1, avg, sd, p)
plt.show()

# %% [markdown]
# The variance of a unit's output grows during training by $h_j^2\,p/(1-p)$. That noise is
# what regularizes. It also means that a layer after dropout sees different statistics in
# training and in evaluation: the mean matches, the variance does not. A BatchNorm layer
# right after dropout learns its running variance from the noisy training activations and
# then applies it to the quieter evaluation ones. Li et al. (CVPR 2019, "Understanding the
# disharmony between dropout and batch normalization by variance shift") measured this
# "variance shift" and recommended putting dropout after the last BatchNorm layer.
#
# ## 3. Evaluation: no dropout
#
# At evaluation time we want one deterministic prediction from the full network, so dropout is
# switched off. `model.eval()` (in PyTorch and here) makes every `Dropout` layer the identity.
# With inverted dropout no rescaling is needed:

# %%
layer = cl.Dropout(0.5, rng=cl.make_rng(5))
layer.eval()
out_eval = layer.forward(h)
assert out_eval is h or np.array_equal(out_eval, h)
layer.train()
out_train = layer.forward(h)
active = h > 0                                            # ReLU already zeroed the others
dropped = np.mean(out_train[active] == 0)
se_drop = np.sqrt(0.25 / active.sum())
print(f"eval mode: identical to the input: {np.array_equal(out_eval, h)}")
print(f"train mode: {np.mean(out_train == 0):.1%} zeros in all, because {np.mean(~active):.1%} "
      f"of the inputs were already 0; of the non-zero inputs {dropped:.1%} were dropped")
assert not np.array_equal(out_train, h)
assert abs(dropped - 0.5) < 4 * se_drop      # p = 0.5 of the non-zero inputs, not 75%

# %% [markdown]
# Forgetting `model.eval()` leaves the network guessing with a random half of its units. Section 7
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
# * **When the model underfits** (training accuracy stays low even when trained long enough),
#   dropout makes it worse. Lower the rate to 0.2–0.3, or remove it. Dropout is for a model
#   that can fit the training set and does so too well. Be careful with the diagnosis, though:
#   a dropout net also fits *more slowly*, and section 6 shows a rate that looks like
#   underfitting after 40 epochs and fits every training example after 150.
#
# > **The paper's practical guide** (Srivastava et al. 2014, Appendix A) comes with the rates:
# > (i) if $n$ units are right for a layer without dropout, use about $n/(1-p)$ with it;
# > (ii) use 10–100 times the learning rate that suits the plain net, and momentum 0.95–0.99
# > instead of 0.9; (iii) bound each unit's incoming weight vector with max-norm, $\|w\|\le c$
# > with $c \approx 3$–4, so that the large steps cannot blow up the weights (the constraint is
# > taught in [07 §4](07_regularization.ipynb#4.-Max-norm:-a-constraint-instead-of-a-penalty));
# > (iv) expect to train longer: their dropout nets took 2–3 times as long (their section 7).
# > Section 6 measures all four on this notebook's bench.
#
# The network of this notebook's experiment follows these rules:

# %%
print(dow.make_mlp(p=0.5, rng=cl.make_rng(6)))

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
# pass. We check the layer alone and a whole small network with dropout. For the network the
# tolerance is 1e-5 rather than 1e-7: a ReLU network is piecewise linear, and when a
# pre-activation happens to lie within the finite-difference step of a kink, or a gradient
# element is tiny, single elements reach relative errors of 1e-7 to 1e-6 on some seeds even
# though the backward pass is right. The mistakes below give errors near 1.

# %%
x_small = cl.make_rng(6).standard_normal((6, 10))
res_layer = cl.gradcheck(cl.Dropout(0.5, rng=cl.make_rng(7)), x_small)
small_net = dow.make_mlp(p=0.5, width=32, rng=cl.make_rng(8), mask_rng=cl.make_rng(9))
res_net = cl.gradcheck(small_net, cl.make_rng(10).random((5, 64)))
print(res_layer)
print(f"network with dropout: max relative error {res_net.max_error:.1e}")
assert res_layer.max_error < 1e-7
assert res_net.max_error < 1e-5     # ReLU kinks: see below; a wrong mask gives ~1

# %% [markdown]
# What goes wrong without the mask? Two plausible bugs. The first draws a **fresh mask** in
# the backward pass. The second multiplies by $1/(1-p)$ but **forgets the mask**. The
# reference is the numerical gradient with the forward mask held fixed. A third check shows why
# the mask must be frozen during gradient checking as well: if every evaluation draws a new
# mask, the finite differences compare different networks and are meaningless.

# %%
p = 0.5
layer = cl.Dropout(p, rng=cl.make_rng(11))
out = layer.forward(x_small)
dout = cl.make_rng(12).standard_normal(out.shape)
mask = layer.mask.copy()                                  # the forward pass's (scaled) mask
x_num = x_small.copy()                                    # numerical_gradient perturbs it in place
num = cl.numerical_gradient(lambda: x_num * mask, x_num, dout)
dx_right = layer.backward(dout)
dx_fresh = dout * (cl.make_rng(13).random(x_small.shape) >= p) / (1 - p)
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
# **The bench.** The network above (64 → 128 → 128 → 10, about 26,000 parameters) is trained
# on only **200** training digits, centred with their mean image (notebook 00), with SGD and
# momentum 0.9, learning rate 0.02 and mini-batches of 32, for **150 epochs**, so that every
# conclusion can be read at a short budget (40 epochs) and at a long one. All losses and
# accuracies are measured in **evaluation mode**, with dropout off, after every 2nd epoch up to
# epoch 40 and every 5th after that. (The training loss that `cl.fit` records is averaged over
# the dropout-perturbed mini-batches: fine for watching training, unfair for a train/validation
# gap.)
#
# **Two training sets.** The true labels, and the same digits with 20% of the labels replaced
# by random classes (about 18% end up wrong, since the random class is sometimes the right one).
# Validation and test labels are always clean. Mislabelled data are common in practice, and
# they show what overfitting costs: a network that memorizes them learns wrong answers. For the
# noisy labels we also measure **memorization**: the fraction of the corrupted training
# examples that the net predicts *as their wrong label*.
#
# **A fair comparison** needs two more things. *Early stopping*: for every run we also keep
# the weights of the measured epoch with the lowest validation loss (what `cl.EarlyStopping`
# watches, [notebook 07 §5](07_regularization.ipynb#5.-Early-stopping)) and report their
# **test** accuracy, so that the epoch is chosen on one data set and scored on another.
# *Seeds*: every number comes from several runs whose label-noise draws, initial weights,
# masks and mini-batch orders all derive from COURSE_SEED; the figures show every run, and
# each assert holds on every run or on the mean with a stated margin.
#
# About sixty networks are trained for this section. They are small, so `dex.train_stack` trains
# them together, as one stack of networks in float32, with the arithmetic of `cl.fit` and
# `cl.SGD` (the tests check that the two agree run by run). Every run is cached: the explorer
# below shows the same runs.

# %% tags=["nbval-ignore-output"]
t0 = time.perf_counter()
n_runs = dow.precompute()
print(f"{n_runs} training runs in {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ### Clean labels
#
# The explorer's figure for $p = 0.5$ (solid: the mean of three runs, band: their range) and
# $p = 0$ (dashed), over the whole 150 epochs:

# %%
fig = dow.draw(0.5, "clean", epochs=dex.LONG)
plt.show()

clean = {p: dex.get_runs(dex.Setting(p=p, label_noise=0.0)) for p in (0.0, 0.5)}
for p, rs in clean.items():
    s = rs.seed_runs()
    print(f"p = {p}: train acc {s.summary('train_final')}, validation acc {s.summary('val_final')}, "
          f"early-stopped test acc {s.summary('test_best')}")
clean_gain = cl.paired(clean[0.5].test_best(), clean[0.0].test_best(), ("p = 0.5", "p = 0"))
print("early-stopped test accuracy,", clean_gain.summary())
assert np.all(clean[0.0].final("train_acc") == 1.0)   # the plain net fits every training digit ...
assert np.all(clean[0.0].final("val_acc") < 0.97)     # ... and is wrong on more than 3% of the others
assert abs(clean_gain.mean) < 0.03                     # clean labels: dropout changes little

# %% [markdown]
# Without dropout the network fits all 200 training digits (its training loss falls below
# 0.01) while the validation accuracy stays around 0.9–0.95. That is overfitting by the usual
# definition. But with clean labels it is fairly *benign*: memorizing correct examples does not
# teach the network anything false. Most of the gap comes from the 200 examples simply not
# covering all the ways people write digits. No penalty on the weights can supply that missing
# data; only more (or augmented, [notebook 07 §6](07_regularization.ipynb#6.-Noise-on-the-inputs-and-data-augmentation))
# data can. Dropout at $p = 0.5$ changes the early-stopped test accuracy by less than the
# spread between runs.
#
# ### 20% noisy labels: dropout slows memorization, it does not prevent it
#
# Now the labels with 20% random classes, on six runs for each rate: three label-noise draws,
# each with two initialisations. Left: the fraction of the corrupted labels that the net has
# memorized; right: the validation accuracy.

# %%
base, drop = dex.headline()            # p = 0 and p = 0.5: 3 label-noise draws x 2 inits
fig = dow.draw_memorization(base, drop)
plt.show()

for b in dex.BUDGETS:
    s0, s5 = base.seed_runs(b), drop.seed_runs(b)
    print(f"after {b:3d} epochs, p = 0 vs p = 0.5: wrong labels memorized {s0.summary('memorized', '.2f')}"
          f" vs {s5.summary('memorized', '.2f')}")
    print(f"{'':31}train − validation accuracy {s0.summary('gap')} vs {s5.summary('gap')}")
mem = {b: (base.final("memorized", b), drop.final("memorized", b)) for b in dex.BUDGETS}
shrink = {b: 1 - drop.seed_runs(b).mean("gap") / base.seed_runs(b).mean("gap") for b in dex.BUDGETS}
print(f"dropout shrinks the mean gap by {shrink[dex.SHORT]:.0%} after {dex.SHORT} epochs "
      f"and by {shrink[dex.LONG]:.0%} after {dex.LONG}")
assert np.all(mem[dex.SHORT][1] < mem[dex.SHORT][0] - 0.3)   # after 40 epochs: far less memorized, every run
assert np.all(mem[dex.LONG][1] > 0.8)                          # after 150: most of it memorized anyway
assert shrink[dex.SHORT] > 0.6 and shrink[dex.LONG] < 0.35     # the "closed" gap re-opens

# %% [markdown]
# After 40 epochs the picture looks like the textbook one. The plain net has memorized almost
# every wrong label (its training accuracy is ~1 on labels that are 18% wrong), while the
# dropout net has memorized only a third to a half of them, and its train/validation gap has
# all but closed. But the net is not done: its training loss is still falling and its
# memorization curve is still rising. Trained on, it memorizes almost all the wrong labels
# too, and after 150 epochs its gap is only 10–20% smaller than the plain net's.
# **Dropout slows memorization down; it does not prevent it.** Each step trains a random
# half-width sub-network, so fitting an isolated wrong label takes many more steps (Srivastava
# et al. note that dropout nets take 2–3 times longer to train). A claim about dropout "refusing"
# to learn wrong labels, made after 40 epochs, is a claim about the budget.
#
# What about accuracy? A plain net trained for a fixed number of epochs is an unfair baseline:
# its validation accuracy peaks after 10–20 epochs and then decays as it memorizes. We compare
# the test accuracy of the final weights at both budgets, and of the early-stopped weights:

# %%
fixed = {b: cl.paired(drop.test_final(b), base.test_final(b), ("p = 0.5", "p = 0")) for b in dex.BUDGETS}
stopped = cl.paired(drop.test_best(), base.test_best(), ("p = 0.5", "p = 0"))
for b in dex.BUDGETS:
    print(f"test accuracy, final weights after {b:3d} epochs: {fixed[b].summary()}")
print(f"test accuracy, early-stopped (≤ {dex.LONG} epochs):   {stopped.summary()}")
print(f"best epochs (lowest validation loss): p = 0 {np.median(base.best_epoch()):.0f}, "
      f"p = 0.5 {np.median(drop.best_epoch()):.0f} (medians)")
assert fixed[dex.SHORT].mean > stopped.mean + 0.01   # much of the fixed-budget gain is the baseline's decay
assert -0.01 < stopped.mean < 0.06                   # against the early-stopped baseline: a small gain
assert np.median(drop.best_epoch()) > np.median(base.best_epoch())   # dropout nets peak later

# %% [markdown]
# After 40 epochs, dropout looks three to seven points better, because the plain net is
# measured long after its best epoch. Against the **early-stopped** plain net the gain is
# about one to four points on average (+1.1 to +4.1 over COURSE_SEED 0–13, six runs each),
# and a single run can be a few points better or worse:
# early stopping alone removes most of the damage that memorizing the wrong labels does. The
# dropout net's best epoch comes later, and its early-stopped score is the fair one to quote.
# Early stopping is the subject of notebook 07 §5; here it is the baseline that keeps the
# comparison honest.
#
# ### The drop rate, at two budgets
#
# The same question for every rate, on three runs each: the test accuracy of the final
# weights after 40 and after 150 epochs, and of the early-stopped weights.

# %%
rates = np.array(dex.RATES)
tables = {labels: dex.sweep_table(labels) for labels in dex.LABELS}
fig = dow.draw_sweep(tables)
plt.show()

for labels, t in tables.items():
    print(f"{labels:>9} labels, mean test acc for p = {', '.join(f'{r:g}' for r in rates)}")
    for key, what in (("final_short", f"final, {dex.SHORT} ep."), ("final_long", f"final, {dex.LONG} ep."),
                      ("early_stopped", "early-stopped")):
        print(f"{what:>24}: " + "  ".join(f"{v:.3f}" for v in t[key].mean(axis=0)))
noisy, clean_t = tables["20% noisy"], tables["clean"]
memorized_long = noisy["memorized"].mean(axis=0)
print("wrong labels memorized after 150 epochs:", np.round(memorized_long, 2))
print(f"clean labels, p = 0.7: train acc {clean_t['train_short'][:, -1].mean():.3f} after "
      f"{dex.SHORT} epochs, {clean_t['train_long'][:, -1].mean():.3f} after {dex.LONG}")
assert noisy["final_long"].mean(axis=0).argmax() == len(rates) - 1    # after 150 epochs p = 0.7 looks best ...
assert memorized_long[-1] < memorized_long[rates == 0.5][0] - 0.15    # ... because it memorizes slowest
es_range = np.ptp(noisy["early_stopped"].mean(axis=0))
print(f"early-stopped, noisy labels: the mean over rates spans {es_range:.3f}")
assert es_range < 0.06                                    # early-stopped, the rate matters little
assert np.all(clean_t["train_long"][:, -1] > 0.99)        # clean, p = 0.7 fits (nearly) every digit by 150: not underfitting

# %% [markdown]
# At a fixed budget the best rate depends on the budget. With noisy labels the final weights
# after 40 epochs are best around $p = 0.5$ (a moderate rate, the classic picture), and after
# 150 epochs at the highest rate, simply because $p = 0.7$ is the slowest to memorize. On
# clean labels $p = 0.7$ is the slowest to fit: after 40 epochs it has not fitted every
# training digit yet and its test accuracy is the lowest or close to it, the pattern that gets
# called "underfitting". By epoch 150 it fits all or nearly all (> 99%) of the training digits and ends within about a
# point of the others. What looked like underfitting was slow
# convergence. Early-stopped, every rate from 0 to 0.7 lands within a few points, and the
# differences between neighbouring rates are of the size of the spread between runs. So
# "validation accuracy peaks at a moderate $p$" is true at *a* budget; the rate and the
# training time are one decision, not two.
#
# ### Explore: drop rate, labels and budget
#
# Move the drop rate and watch the blue (train) and orange (validation) curves approach each
# other; the dashed curves are the runs without dropout, the band the range of three runs.
# With noisy labels the green curve is the fraction of wrong labels the net reproduces.
# Start with noisy labels at 40 epochs, then switch the budget to 150 epochs. **Does dropout
# prevent memorization, or delay it?** Which rate is still below half after 150 epochs? On
# clean labels, does $p = 0.7$ underfit, or is it just slow?

# %%
display(dow.dropout_explorer(p=0.5, labels="20% noisy", epochs=dex.SHORT))

# %% [markdown]
# ### The paper's practical guide, measured
#
# Section 4 listed Srivastava et al.'s recommendations for training dropout nets. Here they are
# on this bench, with 20% noisy labels and three runs per row, each row early-stopped (test
# accuracy at the epoch of lowest validation loss within 150 epochs) and compared with the
# plain net at its *own* best learning rate (0.01, 0.02 or 0.05, picked by validation loss):
#
# * (i) widen the hidden layers from 128 to $128/(1-p) = 256$ units;
# * (ii) a 5× larger learning rate with momentum 0.95, i.e. a 10× larger effective step
#   $\eta/(1-\beta)$;
# * (iii) max-norm $c = 1.5$. The paper's $c = 3$–4 hardly binds here: with He initialization
#   the incoming weight vectors start at norm $\approx\sqrt 2$, and even after 150 epochs the
#   largest is about 3 (measured below), so the bound has to be near the initial norm to act.
#   1.5 was chosen in preliminary runs (on COURSE_SEED 0) from 1, 1.5, 2 and 3;
# * (iv) train longer: the 150-epoch budget against early stopping within 40 epochs.
#
# The last row applies (ii) and (iii) without dropout, to see which part does the work.

# %%
rows = dex.guide_rows()
print(dex.format_guide(rows))
fig = dow.draw_guide(rows)
plt.show()

largest = max(np.linalg.norm(W, axis=0).max() for st in dex.get_runs(dex.DROPOUT).states for W in st[0::2])
print(f"p = 0.5 at lr 0.02, no max-norm: largest incoming-weight norm after 150 epochs {largest:.2f}")
longer = cl.paired(rows["dropout"]["test_best"], rows["dropout"]["test_best_short"], ("150", "40"))
print(f"(iv) p = 0.5, early-stopped within 150 vs within 40 epochs: {longer.summary()}")
unstable = rows["high_lr"]["exploded"] + np.sum(rows["high_lr"]["test_final"] < 0.7)
print(f"(ii) without max-norm: {rows['high_lr']['exploded']} of 3 runs exploded, "
      f"{unstable} of 3 ended below 0.7 test accuracy or exploded")
assert largest < 4                                         # c = 4 would never bind, c = 3 barely
assert unstable >= 1                                       # (ii) alone is unstable here
assert np.nanmean(rows["recipe"]["memorized"]) < 0.8       # (ii)+(iii): far less memorized after 150 epochs
assert np.nanmean(rows["dropout"]["memorized"]) > 0.9      # ... than dropout at the plain settings
assert rows["control"]["memorized"].mean() > 0.95          # (ii)+(iii) without dropout: everything memorized
helpers = {k: cl.paired(rows[k]["test_best"], rows["dropout"]["test_best"], (k, "dropout"))
           for k in ("widen", "max_norm", "recipe")}
for k, d in helpers.items():
    print(f"early-stopped test accuracy, {rows[k]['name']} vs p = 0.5: {d.mean:+.3f} ± {d.se:.3f}")
assert all(abs(d.mean) < 0.045 for d in helpers.values())  # no helper changes plain dropout by more than ~4 points
assert -0.02 < rows["dropout"]["vs_base"].mean < 0.05      # dropout vs the tuned baseline: small
assert abs(longer.mean) < 0.03                             # (iv): a longer budget adds little once early-stopped

# %% [markdown]
# What the guide does on this bench:
#
# * **Early-stopped, no helper is clearly better than plain dropout.** Dropout itself lands
#   between about 0 and +4 points above the tuned plain net (depending on the seeds), and
#   (i), (iii) and (ii)+(iii) land within about three points of plain dropout, in either
#   direction, and the sign depends on the runs: over COURSE_SEED 0–13 each helper's mean
#   difference ranged from about −3 to +3 points (the recipe (ii)+(iii): −2.9 to +3.3), so a
#   helper that looks clearly better on one set of three seeds looks worse on another.
# * **(ii) without (iii) is unstable**: with the larger step some runs explode (the loss
#   passes three times its initial value) or collapse. That is exactly why the paper pairs the
#   high learning rate with max-norm.
# * **(ii) + (iii) changes what the net learns**: after 150 epochs it reproduces only about
#   half to two thirds of the wrong labels, where dropout at the plain settings has memorized nearly all of
#   them. Bounded weights cannot make the large, confident logits that fitting isolated wrong
#   labels needs, and the large noisy steps keep knocking them out again. Without dropout the
#   same recipe memorizes everything and is no better than the baseline: the combination does
#   the work.
# * **(i) widening** gives no consistent gain here; **(iv) training longer** adds nothing once
#   the run is early-stopped (the dropout net's best epoch lies well within 150 epochs). The
#   paper's regime, millions of examples and hours of training, is not this one; what carries
#   over is the pairing of a large step with a weight bound, and the need to judge dropout at
#   its own training time.
#
# ## 7. The ensemble view
#
# Each mask $m$ selects a **thinned sub-network**. With $H$ droppable units there are $2^H$
# of them. Here $H = 256$, so $2^{256}\approx 10^{77}$ networks, all sharing one set of
# weights. Each training step trains one randomly chosen sub-network on one mini-batch. At
# test time we would ideally average the predictions of all of them. That is impossible
# exactly, but dropping nothing and keeping the expected activations (the **weight scaling
# rule**) is a cheap approximation of that average. For a single linear layer followed by
# softmax it is exactly the normalized geometric mean of the sub-networks' predictions. For
# deep ReLU nets it is an approximation that works well.
#
# We can test the approximation directly. We take the three networks trained with $p = 0.5$
# on clean labels (150 epochs), average each one's softmax outputs over $T$ random masks
# (training mode; "Monte Carlo dropout"), and compare with the single deterministic
# evaluation-mode pass:

# %%
mc = dex.mc_study(p=0.5, T=100)
print(f"accuracy: one thinned network {mc.summary('acc_single')} (mean over 100 masks)")
avg100 = mc["acc_mc"][:, -1]
print(f"          average of 100      {avg100.mean():.3f} ({avg100.min():.3f} … {avg100.max():.3f})")
print(f"          eval mode           {mc.summary('acc_eval')}")
print(f"same predicted class as eval mode: {mc.summary('agree')}; mean |p_eval − p_avg| {mc.summary('prob_gap')}")
assert np.all(mc["agree"] > 0.95) and np.all(np.abs(mc["acc_mc"][:, -1] - mc["acc_eval"]) < 0.02)
assert np.all(mc["prob_gap"] < 0.05)
assert np.all(mc["acc_single"] < mc["acc_eval"] - 0.02)           # one thinned network is worse, every run
assert np.mean(mc["acc_eval"] - mc["acc_single"]) > 0.03          # by several points on average

fig = dow.draw_mc(dex.MC_COUNTS, mc["acc_mc"], mc["acc_eval"], mc["acc_single"])
plt.show()

# %% [markdown]
# One thinned network (what you get by forgetting `model.eval()`) is about five points worse
# than the evaluation-mode network (three to seven points on single runs and seeds): that is
# the mean over 100 masks (red crosses); the curve's point at $T = 1$ is a single mask. The average over many masks climbs to the accuracy of the
# evaluation-mode network, which costs a single forward pass. (The spread of the sampled
# predictions is sometimes used as an uncertainty estimate. That is "MC dropout", a topic for
# another day.)
#
# ## 8. Co-adaptation
#
# Without dropout, a hidden unit can become useful only *in combination* with particular other
# units, each correcting the others' quirks. Such co-adapted feature detectors fit the
# training set well but are fragile. Dropout makes every partner unreliable, so each unit has
# to carry information that is useful on its own, with whatever subset of units happens to be
# present.
#
# A first test: remove a random fraction $q$ of the hidden units of both layers, the **same**
# units for every example, rescale the rest by $1/(1-q)$, and measure the validation accuracy
# (mean of 10 random removals). This is the very perturbation the dropout nets were trained
# on, so it is partly a test by construction. A second test is not: remove the $k$ **most
# important** units of the last hidden layer (largest mean activation × norm of the outgoing
# weights), without rescaling. Both for the three nets trained with each of $p = 0$, 0.3 and
# 0.5 on clean labels:

# %%
co = dex.coadaptation_study(rates=(0.0, 0.3, 0.5))
for p, s in co.items():
    print(f"trained with p = {p}: random removal of {', '.join(f'{q:.0%}' for q in dex.REMOVE_FRACTIONS)}: "
          f"{np.round(s.mean('random'), 3)}; top {', '.join(map(str, dex.REMOVE_COUNTS))} units: "
          f"{np.round(s.mean('targeted'), 3)}")
loss_random = {p: s["random"][:, 0] - s["random"][:, 2] for p, s in co.items()}      # q = 50%
loss_top = {p: s["targeted"][:, 0] - s["targeted"][:, -1] for p, s in co.items()}    # top half
print(f"removing a random half costs {loss_random[0.0].mean():.3f} (p = 0) vs "
      f"{loss_random[0.5].mean():.3f} (p = 0.5); the most important half {loss_top[0.0].mean():.3f} "
      f"vs {loss_top[0.5].mean():.3f}")
assert np.all(loss_random[0.0] > 2 * loss_random[0.5])        # every run: far more robust to random removal
assert loss_top[0.5].mean() < 0.5 * loss_top[0.0].mean()      # and to losing its most important units

fig = dow.draw_removal(dex.REMOVE_FRACTIONS, {p: s["random"] for p, s in co.items()},
                       dex.REMOVE_COUNTS, {p: s["targeted"] for p, s in co.items()})
plt.show()

# %% [markdown]
# All three networks are about equally accurate when intact, but the one trained without
# dropout falls apart much faster when units go missing, randomly or, more tellingly, when
# its most important units go. Its output leans on fewer units. What does the last hidden
# layer look like inside? Srivastava et al. (section 7.1) report that dropout makes the
# activations sparser. Three statistics on the validation digits:

# %%
for p, s in co.items():
    print(f"p = {p}: units active per digit {s.summary('active')}, share of the importance held by the top "
          f"10% of units {s.summary('top_share')}, mean |correlation| between units {s.summary('mean_abs_corr')}")
assert np.all(co[0.5]["active"] < co[0.0]["active"] - 0.05)           # sparser, on every run
assert co[0.5]["top_share"].mean() < co[0.0]["top_share"].mean()       # importance spread more evenly

# %% [markdown]
# With dropout fewer units are active for a given digit, and the output's reliance is spread
# more evenly over the units. But dropout does not make the units *less correlated*: the mean
# |correlation| is about the same or a little higher. A unit that may vanish at any step is
# best backed up by others that carry similar information, so part of what dropout buys is
# redundancy. "Less co-adapted" here means "no unit is indispensable", not "every unit is
# independent".
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
# 4. A colleague trains a net with and without dropout for 40 epochs on labels with 20% noise
#    and reports "dropout raises validation accuracy by five points and stops the net from
#    learning the wrong labels". Which two measurements would you ask for before believing it?
#
# <details><summary>Answer</summary>
#
# (a) The plain net early-stopped (its best epoch, chosen on validation and scored on held-out
# data), not its accuracy long after it began to memorize: in section 6 most of the five
# points disappear against it. (b) The same runs trained much longer, with the memorized
# fraction of the wrong labels: the dropout net memorizes most of them too, only later.
# And both on several seeds.
# </details>
#
# 5. You evaluate a dropout network by averaging its softmax over 100 forward passes in
#    training mode. Your colleague just calls `model.eval()`. Whose numbers will be better, and
#    which is cheaper?
#
# <details><summary>Answer</summary>
#
# About the same: the evaluation-mode network (weight scaling rule) approximates the average
# of the thinned networks well (here within two points of accuracy and about 98% agreement on
# the predicted class). It costs one forward pass instead of 100. A *single* training-mode pass
# would be clearly worse.
# </details>
#
# ## Summary
#
# * Dropout zeroes each hidden unit independently with probability $p$, the **drop rate**
#   in PyTorch/Keras/`course_lib`. The 2014 paper, TF1's `keep_prob` and some notes use $p$
#   for the keep probability $1-p$.
# * **Inverted dropout** scales kept units by $1/(1-p)$ in training and is the identity at
#   test time. The older convention scales by $1-p$ at test time. Both match the expected
#   training activation; the variance is not matched (it grows by $h^2 p/(1-p)$).
# * Use it after hidden non-linearities, typically $p = 0.5$ for wide dense layers and 0.2
#   for inputs. Lower it or remove it when the model underfits (after enough training), never
#   use it on the output layer, and always switch it off for evaluation (`model.eval()`).
# * The backward pass multiplies by the same scaled mask as the forward pass, and the
#   gradient check must replay that mask too.
# * On 200 digits with 20% wrong labels, dropout **slows memorization** (a third of the wrong
#   labels after 40 epochs instead of nearly all), but after 150 epochs it has memorized most
#   of them too. Against the early-stopped plain net it gains about one to two points; the
#   "five points at 40 epochs" are mostly the baseline's over-training. The best rate at a
#   fixed budget moves with the budget. With clean labels the effect is small.
# * Of the paper's practical guide, a large learning rate with high momentum needs max-norm
#   to be stable, and together with dropout they keep memorization down for much longer;
#   early-stopped, no recommendation beats the others beyond the spread between runs here.
# * Dropout trains an ensemble of $2^H$ weight-sharing thinned networks. The evaluation-mode
#   network approximates their average (checked on three runs), and units trained this way
#   do not depend on particular partners: the net survives losing units, even its most
#   important ones, with sparser and more redundant hidden units.
#
# **Next:** practise in the exercises
# [exercises/05_dropout.ipynb](../exercises/05_dropout.ipynb), then continue with
# [06 Optimizers](06_optimizers.ipynb).
