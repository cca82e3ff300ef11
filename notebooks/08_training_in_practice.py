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
# # 08 · Training in practice: babysitting the learning process and tuning hyperparameters
#
# The previous notebooks built the parts: layers and losses (00), activations (01),
# initialization (02), backpropagation (03), BatchNorm (04), dropout (05), optimizers and
# schedules (06), regularization (07). This last notebook is about **using** them: how to tell,
# early and cheaply, whether a training run is healthy; what each kind of bad curve is telling
# you; and how to spend a limited budget of runs on hyperparameters. Every reading rule below is
# tried on real runs on the digits, on three seeds (from `COURSE_SEED`: initializations, batch
# orders and draws), and every number it rests on is checked by an `assert` on each of them.
#
# **Learning objectives.** After this notebook you can
#
# 1. run the sanity checks before any long training: first loss $\approx \ln K$,
#    regularization raises the logged loss, one small batch can be learned perfectly — and
#    three more from Karpathy's *Recipe for Training Neural Networks*: look at the exact batch
#    the network receives, beat the input-independent baseline, test that examples do not mix;
# 2. scan the learning rate on a log grid and read each curve: flat, steady, spiking, stuck
#    high, exploding;
# 3. recognise an initialization problem in a loss that sits flat and then suddenly drops;
# 4. decide from the train/validation gap whether to regularize more or add capacity;
# 5. read per-layer diagnostics (mean, std, saturated %, dead % of activations and gradients),
#    the first layer's weights as images, and the update-to-weight ratio;
# 6. tune hyperparameters in order of importance, sort them into scientific, nuisance and
#    fixed ones, sample rates and strengths on a log scale, know when random, quasi-random and
#    grid search win, go from coarse to fine and check the edges of the range;
# 7. use the rules of thumb for layer width as what they are: starting points;
# 8. build a default recipe one ingredient at a time, with the learning rate re-tuned at each
#    step, and train it end to end with every diagnostic on.
#
# **Prerequisites.** Notebooks 00–07 (this one uses all of them: $\ln K$ from 00, dead ReLUs
# from 01, He initialization from 02, BatchNorm from 04, dropout from 05, Adam and schedules from
# 06, L2 and early stopping from 07).
#
# **Estimated time.** 90–110 minutes.

# %%
import numpy as np
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.search import LogUniform
from course_lib.widgets import practice as pr
from course_lib.widgets import practice_experiments as px

_ = cl.set_seed()          # the default generator, from COURSE_SEED
SEEDS = cl.seeds(3)        # every experiment runs on these three seeds (0, 1, 2 under COURSE_SEED=0)
S0 = SEEDS[0]              # the seed whose single runs are drawn
threadpool_limits(1)       # our matrices are small: one BLAS thread is fastest, extra ones only compete
np.set_printoptions(precision=4, suppress=True)

X_train, y_train, X_val, y_val, X_test, y_test = pr.digits()   # centred with the TRAINING mean
loss_fn = cl.SoftmaxCrossEntropy()
print(f"train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}; seeds {SEEDS}")

# %% [markdown]
# ## 1 · Three sanity checks before you train
#
# A long run that fails tells you little: it could be the data, the model, the loss, the
# optimizer or the hyperparameters. Checks that take seconds rule out most bugs before you
# spend the minutes (or days). The network for most of this notebook is the same small MLP,
# 64 → 100 → 100 → 10 with ReLUs and He initialization (`pr.make_mlp`).
#
# ### Check 1: the first loss is $\ln K$, with regularization off
#
# A freshly initialized classifier knows nothing, so it should spread its probability evenly
# over the $K$ classes: $p = 1/K$ for the gold class and a cross-entropy of
# $-\ln(1/K) = \ln K$ (2.303 for the 10 digits; notebook 00). That only happens if the logits
# start close to each other, which is why `make_mlp` multiplies the output layer's weights by
# 0.1. A first loss far above $\ln K$ means confident wrong guesses at step 0: the first steps
# of training are then spent only on shrinking the logits (the "hockey stick" at the start of a
# curve). A loss far *off* — say 147 for a batch of 64 — points to a bug such as summing
# instead of averaging over the batch ($64 \ln 10 = 147$).

# %%
print(pr.make_mlp(rng=S0))
first = cl.over_seeds(lambda s: {f"x {scale:g}": cl.evaluate(pr.make_mlp(rng=s, last_scale=scale),
                                                              loss_fn, X_train, y_train)[0]
                                  for scale in (0.1, 1.0, 10.0)}, seeds=SEEDS)
for key in first.keys():
    print(f"output layer {key:>6}: first loss {first.summary(key)}")
print(f"ln 10 = {np.log(10):.4f}")
assert np.all(np.abs(first["x 0.1"] - np.log(10)) < 0.02)      # ln K on every seed ...
assert np.all(first["x 10"] > np.log(10) + 1)                  # ... a 100x larger output layer: far above

# %% [markdown]
# ### Check 2: turning regularization up raises the logged loss
#
# Add an L2 penalty $\frac{\lambda}{2}\sum w^2$ (notebook 07) and look at the **first loss the
# training loop logs**, the one you would watch: `cl.fit(..., regularizer=cl.L2(lam))` adds
# the penalty to each mini-batch's loss before it logs it. From the same initialization and the
# same first batch the data loss is the same for every $\lambda$, the penalty is positive, so
# `hist.loss[0]` must grow with $\lambda$. If it does not, the penalty is not wired into the
# loss you are printing — a classic is a penalty that reaches the gradient but not the logged
# loss. We plant exactly that bug (`px.GradientOnlyL2`, whose `value` returns 0) to see that
# the check catches it. (The opposite bug, a penalty in the logged loss but not in the
# gradient, passes this check; a gradient check of loss + penalty, notebook 03, catches that
# one.) It also explains why check 1 is done with regularization off: with $\lambda > 0$ the
# first loss is *supposed* to be above $\ln K$.

# %%
lams = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
logged = {s: px.first_logged_loss(lams, seed=s) for s in SEEDS}   # hist.loss[0] of cl.fit(..., regularizer=cl.L2(lam), epochs=1)
planted = px.first_logged_loss(lams, seed=S0, penalty=px.GradientOnlyL2)
for k, lam in enumerate(lams):
    print(f"λ = {lam:<7g} first logged loss {'  '.join(f'{logged[s][k]:8.3f}' for s in SEEDS)}   "
          f"| planted bug {planted[k]:.3f}")


def rises(losses):
    return bool(np.all(np.diff(losses) > 0))


assert all(rises(v) for v in logged.values())      # strictly increasing in λ, on every seed
assert not rises(planted) and np.ptp(planted) == 0  # the bug logs the data loss alone: caught

# %% [markdown]
# ### Check 3: overfit one small batch
#
# Take 20 training examples, turn regularization off and train on them alone until the network
# has memorised them: a model with 17,610 parameters must reach 100 % training accuracy on 20
# digits, with the loss close to 0. If it cannot, something is broken in the forward pass, the
# backward pass, the loss or the update — and no amount of tuning on the full data would have
# told you which. Each seed draws another 20 examples and another initialization. (The
# validation accuracy stays poor: memorising 20 examples is not learning digits.)

# %%
tiny = cl.over_seeds(px.overfit_batch, seeds=SEEDS)     # 100 full-batch steps of Adam, lr 3e-3
print(f"training accuracy on the 20: {tiny.summary('train_acc')}")
print(f"loss: first {tiny.summary('first')}, last {tiny.summary('last', '.1e')}")
print(f"validation accuracy: {tiny.summary('val_acc')}")
assert np.all(tiny["train_acc"] == 1.0) and np.all(tiny["last"] < 0.01)   # memorised, every seed
assert np.all(tiny["val_acc"] < 0.9)                                       # ... and not generalized as well

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
cl.plots.plot_seeds(np.arange(1, tiny["curve"].shape[1] + 1), tiny["curve"], ax=ax, marker="",
                    label="training loss on the 20", band=False)
ax.set(yscale="log", xlabel="full-batch step", ylabel="training loss (log scale)")
ax.set_title("check 3: 20 examples are memorised (3 seeds)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2 · Three more checks from Karpathy's recipe
#
# A. Karpathy's *A Recipe for Training Neural Networks* (2019) adds checks that need no
# training at all, or a few seconds of it.
#
# ### Look at the exact batch the network receives
#
# Not the data set on disk: the batch **right before `forward`**, after loading, shuffling,
# preprocessing and batching, each of which can scramble it. `px.Peek` is an identity layer
# that keeps what it is given in training mode; put in front of the network, it records what
# `cl.fit` feeds it (`px.PeekLoss` does the same for the labels). We decode the centred inputs
# back to images (add the training mean) and print each label above its image. The second row
# is a planted bug — labels shifted by one against the images, as a misaligned join would do
# it: a person spots it at a glance, and the check below the picture does too.

# %%
xb, yb = px.first_batch(X_train, y_train, seed=S0)                       # recorded inside the network
xb_bug, yb_bug = px.first_batch(X_train, np.roll(y_train, 1), seed=S0)   # planted: labels shifted by one
mean = pr.training_mean()
decoded = xb + mean
rows = px.match_rows(xb, X_train)
levels = 16 * decoded                                          # load_digits scales the 0..16 intensities by 1/16
print(f"batch {xb.shape}, labels {yb[:16]}; decoded intensity levels {levels.min():.0f}..{levels.max():.0f}")
assert np.all(rows >= 0) and np.array_equal(yb, y_train[rows])      # each input is a training digit, with ITS label
assert np.allclose(levels, np.round(levels)) and levels.min() >= 0 and levels.max() <= 16   # whole levels 0..16
assert not np.array_equal(yb_bug, y_train[px.match_rows(xb_bug, X_train)])   # the planted misalignment is caught

# %%
fig = plt.figure(figsize=(8.4, 2.6))
top, bottom = fig.subfigures(2, 1)
px.draw_batch(xb, yb, mean, top, n=8, title="the first batch as the network gets it (8 of 64)")
px.draw_batch(xb_bug, yb_bug, mean, bottom, n=8, title="planted bug: labels shifted by one — which labels are wrong?")
plt.show()

# %% [markdown]
# ### The input-independent baseline
#
# Train once on the real inputs and once on inputs set to **zero**
# (`cl.diagnostics.input_independent_baseline`: same initialization, same batches). With
# $x = 0$ the network can only learn a constant output, so the second run shows what the labels
# alone are worth: for cross-entropy at best the entropy $-\sum_k q_k \ln q_k$ of the label
# frequencies $q$ — about $\ln 10$ here, the digits are nearly balanced. The real run must beat
# it clearly, or the network is not using its input. A planted failure: all-zero initial
# weights (notebook 02) give every hidden unit the same zero output and no weight any gradient,
# so the "real" run learns nothing that the zero-input run does not.

# %%
base = cl.over_seeds(px.baseline, seeds=SEEDS)           # 5 epochs of Adam, lr 3e-3, each seed
print(f"validation loss: real inputs {base.summary('real')}; zero inputs {base.summary('zero')}; "
      f"labels alone {base.summary('labels')}")
print(f"validation accuracy: real {base.summary('real_acc')}; zero {base.summary('zero_acc')}")
broken = px.baseline(S0, make_model=lambda s: pr.make_mlp(rng=s, init="zeros"))
print(f"planted: all-zero weights: real {broken['real']:.4f} vs zero inputs {broken['zero']:.4f}")
assert np.all(base["real"] < 0.1 * base["zero"])                 # the inputs carry the information
assert np.all(np.abs(base["zero"] - base["labels"]) < 0.01)     # the zero run reaches the labels-alone loss
assert not broken["beats"]                                      # the planted failure does not beat it

# %% [markdown]
# ### Batch independence: the backprop dependency test
#
# In a network that treats examples separately, example $i$'s output cannot depend on example
# $j$'s input: $\partial\, \text{out}_i / \partial x_j = 0$ for $j \ne i$. Karpathy's test
# backpropagates a gradient from **one** row of the output and checks that only that row of the
# input gradient is nonzero (`cl.diagnostics.batch_independence`; our layers' own backward
# passes do the work). A nonzero cross-example gradient means something mixes the batch: a
# reshape or transpose across the batch axis, a mean over the wrong axis — or **BatchNorm in
# training mode**, which mixes by design: it normalizes each example with the mean and variance
# of the whole batch (notebook 04), so each output depends on every input, by an amount that
# shrinks like $1/N$ with the batch size $N$. In eval mode BatchNorm uses its running
# statistics and passes. `cl.diagnostics.locate_batch_mixing` runs the test on every prefix of a
# `Sequential` and names the first layer that mixes.
#
# The recipe network of section 14 (Linear → BatchNorm → ReLU → Dropout, twice) is the test
# object; each seed picks other examples and other upstream gradients.

# %%
mixing = {s: px.mixing_report(s, X_train) for s in SEEDS}     # the MLP, the recipe net in training and eval mode
for s, m in mixing.items():
    assert m["mlp"] and not m["train"] and m["eval"]           # MLP passes; BN fails in training, passes in eval
    assert m["where"].first == 1 and isinstance(m["where"].layer, cl.BatchNorm1d)   # ... and the culprit is named
    rel = m["rel"]
    assert rel[0] > rel[1] > rel[2] and rel[0] / rel[2] > 4    # BN's mixing shrinks as the batch grows
print(mixing[S0]["mlp"], mixing[S0]["train"], mixing[S0]["eval"], sep="\n")
print(mixing[S0]["where"])
for s in SEEDS:
    print(f"seed {s}: BatchNorm's largest cross-example gradient, relative to the example's own, "
          f"for batches of 8, 32, 128: " + ", ".join(f"{r:.3f}" for r in mixing[s]["rel"]))

# %% [markdown]
# The verdicts are exact, not statistical: the MLP's cross-example gradients are 0.0, not
# merely small. BatchNorm's are a few percent to a few tens of percent of an example's own
# gradient and fall roughly as $1/N$ (the lines above). That is why BatchNorm networks are
# evaluated in eval mode, and why tiny batches make BatchNorm's training noisy. The exercise
# notebook asks you to find a layer that mixes examples in models you have not seen.

# %% [markdown]
# ## 3 · The learning-rate scan, and how to read a loss curve
#
# The learning rate is the hyperparameter to get right first (section 9). Find its range with a
# **scan**: train the same network from the same initialization for a few epochs at each rate
# of a log grid — here 21 rates from $10^{-5}$ to $1$, four per decade, 8 epochs of Adam each,
# on each of the three seeds. A few epochs are enough to see the *shape* of each curve, and
# shape is what we read:
#
# | the loss … | reading |
# |---|---|
# | stays flat, or falls slowly and almost linearly | rate **too low** |
# | descends steadily and keeps falling | **good** |
# | drops fast, reaches low values, but **spikes** up again and again | rate **slightly too high**: the run is *unstable* |
# | drops fast, then stays **flat at a high level** | rate **too high** (look for dead units, section 6) |
# | explodes | rate **too high** |
#
# The Deep Learning Tuning Playbook (Godbole et al., 2023) calls the spiking kind **training
# instability**: the loss can go low, but some steps throw it back up. Its remedies are a
# slightly lower rate, a learning-rate warm-up, a decay schedule or gradient clipping (notebook
# 06) — not a rate ten times lower. A curve that is flat and high has a different problem:
# the network itself has been damaged, and section 6 looks inside.
#
# A run that explodes is not worth finishing: `cl.fit` stops it as soon as a mini-batch loss
# exceeds **3× the first loss** (its `explode_factor`) and says so in `History.status` and
# `History.message`. `pr.read_scan` turns the table into explicit thresholds — flat: the loss
# has not halved; among the higher rates that end more than 3× above the best one, *spikes*
# if the low level they reach between jumps (the 10th percentile of their second half) is
# within 3× of the best run's, *flat and high* if not — so that the verdicts can be printed and
# checked. Reading curves is a judgement; the thresholds only make this one visible.

# %%
scans = pr.scans(SEEDS)           # 21 rates x 3 seeds, cached: the widget in section 8 reuses the first
runs = scans[S0]
print(pr.scan_table(scans))

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.0), gridspec_kw={"width_ratios": [1.45, 1]})
pr.draw_scan(scans, axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# The verdicts appear in the order of the guide along the learning-rate axis, on every seed —
# with one kind of exception: where the good band meets the spiking one, a single rate can read
# "spikes" between two "good" ones (one late spike lifts a curve's end above the 3× threshold;
# the border is noisy). Where each band begins moves with the seed by a grid step or two (the
# table), and on some seeds the narrow spiking band falls between two grid points and no rate
# spikes at all. One rate of each kind, on the first seed:

# %%
for key, lr in pr.examples_of(runs).items():
    print(runs[lr].title)
print()
print(next(run.message for run in runs.values() if run.exploded))

band = {"flat": 0, "good": 1, "spikes": 1, "plateau": 2, "exploded": 3}   # good and spikes may swap at their border
for s, scan in scans.items():
    rank = [band[r.verdict] for r in scan.values()]
    assert rank[0] == 0 and rank[-1] == 3                        # flat at the bottom, exploded at the top ...
    assert all(b >= a - 1 for a, b in zip(rank, rank[1:]))        # ... in order, up to a swap of neighbouring bands
    assert scan[pr.nearest_lr(1.0)].status == "exploded at step 1"
    top = max(lr for lr, r in scan.items() if not r.exploded)
    assert scan[top].verdict == "plateau"                       # the last rate before explosions is stuck high
    accs = {lr: r.val_acc for lr, r in scan.items() if not r.exploded}
    best_good = max(a for lr, a in accs.items() if scan[lr].verdict == "good")
    assert best_good >= max(accs.values()) - 0.02               # the good band holds the best (within 2 points)
assert {r.verdict for scan in scans.values() for r in scan.values()} == set(pr.GUIDE)   # every case appears
best = {s: max(a for a in (r.val_acc for r in scan.values()) if a is not None) for s, scan in scans.items()}
print("best validation accuracy after 8 epochs per seed:", {s: round(a, 3) for s, a in best.items()})

# %% [markdown]
# Reading the picture (left: the first seed, colour = rate, line style = verdict):
#
# * **Too low (dotted, dark).** At $10^{-5}$ Adam moves each weight by about $10^{-5}$ per step:
#   after 136 steps the loss has hardly left $\ln 10$. Nothing is wrong except patience — but a
#   scan cannot tell "slow" from "stuck", which is why the next section exists.
# * **Good (solid).** From about $6\cdot10^{-4}$ to $10^{-2}$ the loss falls steadily on the log
#   scale and is still falling when the scan ends; the best validation accuracy is in this band,
#   or within a point or two of it (right panel).
# * **Slightly too high, spikes (dashed).** Just above the good band the loss drops *faster*
#   at first and reaches the lowest values of the whole scan between jumps — then a bad step
#   throws it up by a factor of 10 or more, and it has to come down again. The end-of-run level
#   is high because of the spikes, not because the network cannot fit; validation accuracy is
#   within a few points of the best. This is where a warm-up or a decay schedule pays off.
# * **Too high, flat and high (dash-dot).** At $0.1$ (and on some seeds $0.056$) the loss
#   stays at a level the good rates pass far below, on every seed. Section 6 finds why: many
#   of the units are dead.
# * **Too high, explodes (×).** From about $0.18$ the very first update is so large that the
#   next loss is over 3× the first; `cl.fit` stops the run at step 1. (On an occasional seed
#   $0.1$ explodes too, later in the run.)
#
# A **schedule** combines the two ends: start near the top of the good band to get the fast
# early drop, then decay the rate so the loss can settle (notebook 06; the recipe in section 14
# uses cosine decay with a warm-up).
#
# ## 4 · Flat for a while, then a sudden drop: suspect the initialization
#
# A different shape: the loss sits at $\ln K$ for a long stretch and then falls off a cliff.
# The rate is not the problem (the same rate works from another initialization); the network
# was initialized so that **almost no signal gets through**. With weights that are too small
# for the depth, each layer shrinks its input, the output hardly depends on the input (loss
# $\approx \ln K$), and every weight's gradient is multiplied by the small weights of all the
# other layers. The weights grow slowly and multiplicatively until the signal gets through —
# then learning takes off at once. (Saxe, McClelland and Ganguli (2014) analyse exactly these
# plateaus for deep linear networks.)
#
# Reproduce it: six ReLU layers of 64 units, initialized with $\mathcal N(0, 0.1^2)$ — a
# harmless-looking "small random numbers" choice, but 0.57× He's
# $\sqrt{2/64} = 0.177$, so the signal's standard deviation shrinks by
# $0.57^6 \approx 0.03$ through the stack (notebook 02) — against He initialization, same SGD
# with momentum 0.9 at rate 0.1, 12 epochs, on each seed.

# %%
cliff = {s: px.init_cliff(s) for s in SEEDS}
for s, pair in cliff.items():
    for name, (loss, hints, exploded) in pair.items():
        q1, q4 = px.quarters(loss)
        print(f"seed {s}, init {name:5}: first quarter {q1:.3f}, last quarter {q4:.3f} — {hints[0][:64]}")
    (small, small_hints, small_boom), (he, he_hints, _) = pair["small"], pair["He"]
    assert abs(px.quarters(small)[0] - np.log(10)) < 0.01        # flat at ln 10 for a quarter of the run ...
    assert px.quarters(small)[1] < 0.5 * np.log(10)              # ... then it learned after all
    assert px.quarters(he)[0] < np.log(10) - 0.05                # He is already below ln 10 in that quarter
    assert small_boom or any("initialization" in h for h in small_hints)
    assert not any("initialization" in h for h in he_hints)
assert sum(any("initialization" in h for h in cliff[s]["small"][1]) for s in SEEDS) >= 2   # the hint, mostly
assert np.mean([px.quarters(cliff[s]["He"][0])[0] for s in SEEDS]) < np.log(10) - 0.3   # He: well down, on average

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.4))
px.draw_cliff(cliff, ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# `cl.diagnostics.hints` reads the same shape off the History: flat in the first quarter, most of
# the drop afterwards. When the cliff comes varies with the seed, the flat start does not. (At
# this rate neither run is smooth after its drop — He's jumps back up now and then, and on some
# seeds the small-init run, once it takes off, spikes past the explosion guard; the hint then
# reports the explosion instead — but the flat start is there every time.) In a short scan the small-init run would have looked "flat → rate too
# low"; the cure is not a higher rate but a better initialization (or BatchNorm, which makes
# the scale of the weights matter much less; notebook 04).
#
# ## 5 · Train versus validation: regularize more, or add capacity?
#
# Once the loss goes down, compare the accuracy on the training and the validation set after
# each epoch:
#
# * **a big gap** (training far above validation): the network fits what is particular to the
#   training examples — **overfitting**: regularize more (L2, dropout, early stopping; notebooks
#   05 and 07) or get more data;
# * **no gap, both low**: the network cannot even fit the training set — **underfitting**: add
#   capacity (width, depth) or train longer. Regularizing more would only make it worse.
#
# Both regimes on the digits, 60 epochs each: a 100-100 network on only 100 training examples,
# and — deliberately extreme — a network whose hidden layer has a **single** unit, on the full
# training set. To tell "add capacity" from "train longer", compare what the second half of the
# run added with what capacity adds.

# %%
reg = {s: px.regimes(s) for s in SEEDS}
for s, pair in reg.items():
    over, under = pair["over"], pair["under"]
    gain = under.train_acc[-1] - under.train_acc[29]
    print(f"seed {s}: 100-100 net on 100 examples: train {over.train_acc[-1]:.3f}, val {over.val_acc[-1]:.3f} | "
          f"1-unit net: train {under.train_acc[-1]:.3f}, val {under.val_acc[-1]:.3f}, "
          f"epochs 31-60 added {gain:+.3f} | scan's 100-100 net, 8 epochs: {scans[s][pr.nearest_lr(10 ** -2.5)].val_acc:.3f}")
    assert over.train_acc[-1] >= 0.99 and over.train_acc[-1] - over.val_acc[-1] > 0.05   # memorised: a gap
    assert under.train_acc[-1] < 0.5 and abs(under.train_acc[-1] - under.val_acc[-1]) < 0.1   # cannot fit: both low
    assert "overfitting" in cl.diagnostics.hints(over)[0]
    assert gain < 0.1                                                           # training longer: a few points ...
    assert scans[s][pr.nearest_lr(10 ** -2.5)].val_acc > under.val_acc[-1] + 0.4  # ... capacity: 40+ points
for s in SEEDS:
    print(f"hints, seed {s}: " + " | ".join(cl.diagnostics.hints(reg[s][k])[0].split(" —")[0] for k in ("over", "under")))

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), sharey=True)
px.draw_regimes(reg, axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# The single unit's training accuracy is still creeping up at epoch 60, by a few points per 30
# epochs; the 100-100 network of the scan gets about 0.96 in 8. Training longer is not the
# missing ingredient here, capacity is. `cl.diagnostics.hints` reads the gap with a fixed
# threshold (more than 5 points: "overfitting"); on some seeds and splits the single unit's
# training and validation accuracies happen to differ by more than that, and the hint then
# says "overfitting" for a network that fits only a third of its training set. A threshold is
# a crude reader: when both accuracies are far below what the task allows, the problem is
# capacity, whatever the gap.

# %% [markdown]
# ## 6 · Looking inside: per-layer diagnostics, and the first layer's weights
#
# Curves show *that* something is wrong; per-layer statistics show *where*.
# `cl.diagnostics.layer_stats` runs a batch through the network, layer by layer, and reports for
# every non-linearity the **mean and standard deviation** of its output, the **saturated %**
# (tanh or sigmoid units on their flat tails, slope ≈ 0), the **dead %** (ReLUs that output 0
# for *every* example, so they never get a gradient again) — and, when given the loss, the
# mean and standard deviation of the **gradient** arriving at that layer. What healthy looks
# like: similar standard deviations from layer to layer (neither shrinking nor growing),
# hardly any saturated or dead units, gradients of similar size in every layer.
#
# First the ReLU network of the scan after 8 epochs at every rate above the good band, on each
# seed: how many ReLUs of the second hidden layer are dead?

# %%
dead = {s: {lr: cl.diagnostics.layer_stats(pr.scan_model(r), X_train).column("dead").max()
            for lr, r in scan.items() if not r.exploded and lr >= 10 ** -2.5} for s, scan in scans.items()}
for s in SEEDS:
    print(f"seed {s}: " + "  ".join(f"{lr:.2g} {scans[s][lr].verdict[:5]} {100 * d:3.0f}%" for lr, d in dead[s].items()))
lr_good = pr.nearest_lr(10 ** -2.5)
lr_top = {s: max(lr for lr, r in scan.items() if not r.exploded) for s, scan in scans.items()}   # last before explosions
lr_high = lr_top[S0]
print(f"\nafter the scan at lr = {lr_high:.3g} (seed {S0}):")
print(cl.diagnostics.layer_stats(pr.scan_model(runs[lr_high]), X_train, loss_fn, y_train))
for s in SEEDS:
    assert dead[s][lr_good] < 0.05                          # healthy: almost every ReLU is alive
    assert dead[s][lr_top[s]] > 0.3                         # flat and high: a large share of a layer is dead
    by_kind = {k: [d for lr, d in dead[s].items() if scans[s][lr].verdict == k] for k in ("spikes", "plateau")}
    if by_kind["spikes"]:
        assert np.mean(by_kind["spikes"]) < np.mean(by_kind["plateau"])   # spiking runs: fewer dead units
for hint in cl.diagnostics.hints(cl.History(), cl.diagnostics.layer_stats(pr.scan_model(runs[lr_high]), X_train)):
    print("hint:", hint)

# %% [markdown]
# The flat-and-high curves of section 3 have a cause inside the network: at the last rate before
# the explosions (0.1 on most seeds) the big early updates pushed the pre-activations of a third
# to two thirds of the second layer's units below zero for every input, and a dead ReLU passes
# no gradient, so it stays dead
# (notebook 01). The network that is left is much smaller than the one you built. The share of
# dead units grows with the rate; the spiking rates have fewer of them than the flat-and-high
# ones (but not none: the two kinds are ends of one range, not separate diseases).
#
# Next, saturation. A deep tanh network (five layers of 100) at initialization, with Xavier's
# scale and with $\mathcal N(0, 1)$ weights (notebook 02's classic), on each seed:

# %%
tanh_stats = {(name, s): cl.diagnostics.layer_stats(px.tanh_net(name, s), X_train, loss_fn, y_train)
              for name in px.TANH_INITS for s in SEEDS}          # five tanh layers of 100, at initialization
print(f"init N(0, 1), seed {S0}:\n{tanh_stats['N(0, 1)', S0]}")
for s in SEEDS:
    sat_ok, sat_sick = (tanh_stats[k, s].column("saturated") for k in ("Xavier", "N(0, 1)"))
    g_ok, g_sick = (tanh_stats[k, s].column("grad_std") for k in ("Xavier", "N(0, 1)"))
    print(f"seed {s}: saturated at most {100 * sat_ok.max():.1f} % (Xavier) vs {100 * sat_sick.min():.0f}-"
          f"{100 * sat_sick.max():.0f} % (N(0, 1)); gradient std largest/smallest layer "
          f"{g_ok.max() / g_ok.min():.1f} vs {g_sick.max() / g_sick.min():.0f}")
    assert sat_ok.max() < 0.01                     # healthy: no unit on its flat tails
    assert sat_sick[1:].min() > 0.5                # sick: most units saturated from layer 2 on
    assert g_ok.max() / g_ok.min() < 2             # gradients of similar size in every layer ...
    assert g_sick.max() / g_sick.min() > 10        # ... or differing by more than 10x

# %%
fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1.2, 1, 1]})
px.draw_saturation(tanh_stats, X_train, axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The first layer's weights, as images (CS231n)
#
# On image inputs the first layer's weights have the shape of the images: unit $j$'s 64 weights
# form an 8 × 8 picture of what it responds to. CS231n recommends looking at them: trained
# filters show structure (strokes, blobs), random ones look like noise, and pure noise after
# training means the layer has not learned much. Here the scan's network at a good rate, on the
# first seed — before training, after 8 epochs, and the change:

# %%
W0, W1 = px.first_layer(runs[lr_good], S0)
fig = plt.figure(figsize=(8.4, 3.4))
px.draw_filters(W0, W1, fig, units=8, title=f"first-layer weights of 8 units, lr {lr_good:.3g} (blue < 0 < red)")
plt.show()

# %%
const = px.constant_pixels(X_train)
for s in SEEDS:
    W0, W1 = px.first_layer(scans[s][lr_good], s)
    corr = [px.neighbour_correlation(W) for W in (W0, W1, W1 - W0)]
    print(f"seed {s}: neighbouring-pixel correlation of the weights: init {corr[0]:+.3f}, trained {corr[1]:+.3f}, "
          f"change {corr[2]:+.3f}; size of the change {np.linalg.norm(W1 - W0) / np.linalg.norm(W0):.2f} x the init")
    assert abs(corr[0]) < 0.05 and corr[2] > 0.3 and corr[1] > corr[0] + 0.1   # the learned part is smooth
    assert np.array_equal(W1[const], W0[const])      # pixels that are 0 in every digit: weights never moved
print(f"pixels that are 0 in every training digit: {[int(k) for k in const]} (corners and the left edge)")

# %% [markdown]
# What the pictures say: the trained filters are still mostly their random initialization, with
# a smooth pattern on top — the **change** is smooth (neighbouring pixels moved together,
# correlation around 0.4), the initial noise is not (about 0). After only 8 epochs the learned
# part is about half the size of the initial weights. And the weights of the three pixels that
# are 0 in every training digit never moved at all: their gradient $x^\top \delta$ is exactly 0,
# so Adam never changes them — the noise at those pixels is the initialization, forever (weight
# decay would pull it to 0). Noisy first-layer filters on real images are the classic sign of
# too little training or too little regularization.
#
# ## 7 · The update-to-weight ratio
#
# One number per weight matrix and step says how fast that layer is changing:
#
# $$\text{ratio} = \frac{\lVert \Delta W \rVert}{\lVert W \rVert},$$
#
# the size of this step's update relative to the weights it changes. A rule of thumb says about
# $10^{-3}$ is healthy. It comes from CS231n's notes, written for SGD, and from the settled runs
# of Karpathy's makemore lectures; it is an order of magnitude, not a target. `cl.fit` records
# the ratio of every weight matrix every few steps (`History.update_ratios`), and
# `cl.plots.plot_update_ratios` draws $\log_{10}$ of it with the line at $-3$.

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
px.draw_ratios(scans, axes, lr=lr_good)
fig.tight_layout()
plt.show()

# %%
for s, scan in scans.items():
    ok = [lr for lr, r in scan.items() if not r.exploded]
    ratios = np.array([scan[lr].median_ratio() for lr in ok])
    near = ok[int(np.argmin(np.abs(np.log10(ratios) + 3)))]           # the rate whose ratio is closest to 1e-3
    best_lr = max(ok, key=lambda lr: scan[lr].val_acc)
    print(f"seed {s}: ratio closest to 1e-3 at lr {near:.2g} ({scan[near].median_ratio():.1e}, val acc "
          f"{scan[near].val_acc:.3f}, {scan[near].verdict}); best val acc at lr {best_lr:.2g} "
          f"(ratio {scan[best_lr].median_ratio():.1e}, val acc {scan[best_lr].val_acc:.3f})")
    assert scan[best_lr].val_acc - scan[near].val_acc > 0.1           # 1e-3 points at a too-low rate here
    assert scan[near].verdict == "flat"
    below = np.log10([scan[lr].median_ratio() for lr in ok if scan[lr].verdict in ("flat", "good", "spikes")])
    assert np.all(np.diff(below) > -0.1) and below[-1] - below[0] > 2   # larger rate, larger updates (up to the plateau)
    assert scan[pr.nearest_lr(1e-5)].median_ratio() < 1e-4            # a tiny rate: more than 10x below
    good = [scan[lr].median_ratio() for lr in ok if scan[lr].verdict == "good"]
    assert 1e-3 < min(good) and max(good) < 2e-2                      # the good runs: 1e-3 to 2e-2

# %% [markdown]
# The ratio grows with the rate (until the flat-and-high runs, whose dead units no longer
# move), but the rule of thumb does not pick the rate here: on every
# seed the run whose ratio is closest to $10^{-3}$ is one of the *too slow* ones (around
# $\mathrm{lr} = 2\cdot10^{-4}$, far below the best validation accuracy), and the good runs sit at
# $2$–$10 \times 10^{-3}$. That is expected for Adam: its step on each weight is about lr, so
# early in training $\lVert\Delta W\rVert / \lVert W\rVert \approx \mathrm{lr} / \mathrm{rms}(W)$, and the ratio adds
# little to the rate itself. The ratio also moves during a run (left: it falls as the weights
# grow; the output layer, "4.W", starts with weights scaled down by 0.1 and so with a high
# ratio). Where the ratio earns its place is **comparing layers within one run**: a layer whose
# ratio is 100× below the others' is barely learning (look at its inputs and gradients), one
# 100× above is being rewritten every step (check-your-understanding question 5).
#
# ## 8 · Explore: the learning-rate scanner
#
# The slider moves over the 21 rates of the scan (the first seed's, precomputed above, so a
# move only redraws). Left: the run of the chosen rate (thin: per step; thick: moving average)
# over all the others in grey; its status (`ok`, `exploded at step N`, `too slow`) and the
# reading guide's verdict are in the title. Right: its update-to-weight ratios per weight
# matrix, with $10^{-3}$ and the factor-10 band.
#
# Things to try:
#
# 1. Start at $10^{-5}$ and step up: watch the curve go from flat to steady, and the ratios climb
#    towards the band at the same time.
# 2. Find the first rate whose curve spikes: where is it relative to the lowest curve, and how
#    high do the spikes go? Then find the first one that stays flat and high.
# 3. Step into the red: how many steps does the run last? Why is the ratio of the explosive step
#    close to 1?

# %% tags=["nbval-ignore-output"]
display(pr.lr_scanner(lr=lr_good, runs=runs))

# %% [markdown]
# ## 9 · Which hyperparameters to tune first — and which to tune at all
#
# A network has many knobs; a budget has few runs. Spend them in order of how much each knob
# usually matters:
#
# 1. **the learning rate** — it decides between no progress, good progress and divergence
#    (section 3: validation accuracy from under 0.3 to about 0.97 across the grid), and its best
#    value moves whenever something else changes (section 14);
# 2. **its schedule** (decay, warm-up; notebook 06);
# 3. **the regularization strength** (L2 $\lambda$ or weight decay; notebook 07);
# 4. **the dropout rate** (notebook 05);
# 5. **the width** of the layers;
# 6. **the depth**.
#
# The order is a prior from experience (Bengio 2012, *Practical recommendations for
# gradient-based training of deep architectures*), not a law: it tells you what to search over
# first, and with which range. Section 13 measures the width's effect against the rate's.
#
# The Deep Learning Tuning Playbook adds a distinction that matters more than the order. In
# any one experiment, every hyperparameter is one of three kinds:
#
# * **scientific**: the one whose effect you want to know ("does BatchNorm help?", "which
#   width?");
# * **nuisance**: the ones that must be re-tuned for each value of the scientific one, so that
#   each gets a fair chance — almost always the learning rate (its best value depends on the
#   architecture, the batch size, the schedule);
# * **fixed**: the ones held constant, which limits the conclusion to that setting (the data,
#   the number of epochs, the batch size, Adam's betas).
#
# The batch size, in the Playbook's advice, is chosen for throughput (the largest that the
# hardware runs efficiently), and the learning rate is re-tuned after it. Comparing two
# scientific values at one shared learning rate compares one tuned set-up with one untuned one.
# The plot that does it right — the scientific hyperparameter on the x axis, each value at its
# own best nuisance setting — is the Playbook's **isolation plot**; section 14 draws one.
#
# ## 10 · Sample rates and strengths on a log scale
#
# A learning rate of $10^{-4}$ and one of $10^{-3}$ differ as much as $10^{-3}$ and $10^{-2}$:
# what matters is the **factor** between values, not their difference. So a search should give
# every decade the same share of its trials:
#
# $$\text{lr} = 10^{u}, \quad u \sim \mathcal U(-6, -1) \qquad\text{and not}\qquad
#   \text{lr} \sim \mathcal U(10^{-6}, 10^{-1}).$$
#
# The second puts 90 % of its draws in the top decade $[10^{-2}, 10^{-1}]$ and only one draw in
# a thousand below $10^{-4}$. The same holds for regularization strengths (and anything else
# that acts multiplicatively). `cl.search.log_uniform(low, high)` and `LogUniform(low, high)`
# sample this way.

# %%
draws = 100_000
log_draws = cl.search.log_uniform(1e-6, 1e-1, size=draws, rng=cl.make_rng(1))   # 10 ** uniform(-6, -1)
lin_draws = cl.make_rng(2).uniform(1e-6, 1e-1, size=draws)                      # the mistake
f_log, f_lin = pr.decade_fractions(log_draws), pr.decade_fractions(lin_draws)
decades = [f"[1e{k}, 1e{k + 1})" for k in range(-6, -1)]
for name, f_lo, f_li in zip(decades, f_log, f_lin):
    print(f"{name:13}  10**uniform(-6,-1): {f_lo:6.1%}   uniform(1e-6,1e-1): {f_li:7.2%}")
assert np.allclose(f_log, 0.2, atol=0.01)                 # every decade gets its fifth
assert abs(f_lin[-1] - 0.9) < 0.01                        # the top decade takes 90 %
assert abs(f_lin[:3].sum() - 0.01) < 0.002                # below 1e-3: about 1 in 100 ...
assert f_lin[:2].sum() < 0.002                            # ... below 1e-4: about 1 in 1,000

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.3))
xs = np.arange(len(decades))
ax.bar(xs - 0.2, f_log, 0.4, label="10 ** uniform(−6, −1)")
ax.bar(xs + 0.2, f_lin, 0.4, label="uniform(1e-6, 1e-1)")
for x, v in zip(xs, f_lin):
    ax.text(x + 0.2, v * 1.3, f"{v:.2%}", ha="center", fontsize=8)
ax.set(xticks=xs, xticklabels=decades, xlabel="decade of the sampled learning rate", yscale="log",
       ylim=(5e-5, 2), ylabel="share of 100,000 draws (log)",
       title="log-uniform sampling gives every decade the same share")
ax.title.set_fontsize(10)
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# > **A misprint to correct.** A widely copied lecture recipe samples the learning rate as
# > `10 ** uniform(-3, 6)`. Taken literally that draws rates between $10^{-3}$ and $10^{6}$:
# > two thirds of them above 1, where every network of this course explodes at the first step
# > (section 3). The exponents were meant to be negative — e.g. `10 ** uniform(-6, -3)` for rates
# > between $10^{-6}$ and $10^{-3}$ — and the range should be set around what a scan showed.

# %%
misprint = 10 ** cl.make_rng(3).uniform(-3, 6, size=draws)
print(f"10 ** uniform(-3, 6): {np.mean(misprint > 1):.1%} of the draws are above 1, "
      f"the largest is {misprint.max():.2g}")
assert abs(np.mean(misprint > 1) - 2 / 3) < 0.01

# %% [markdown]
# ## 11 · Grid, random or quasi-random search?
#
# A grid of $n$ values per axis over $d$ hyperparameters costs $n^d$ runs and tries only $n$
# distinct values of each. If one hyperparameter matters and the others barely do — the usual
# case (section 9) — most of the grid's runs repeat the same few values of the one that matters.
# $N$ random trials try $N$ distinct values of *every* hyperparameter. That is the argument and
# the picture of Bergstra & Bengio (2012). **Quasi-random** search, which the Tuning Playbook
# recommends for exploration, keeps the $N$ distinct values but spreads them evenly, without
# the clusters and holes of independent draws: `cl.search.quasi_random_search` maps a scrambled
# Halton sequence onto the search space.
#
# The picture, on a 2-D objective to maximise: $f(x, y) = g(x) + h(y)$ with a narrow bump $g$
# of height 1 in the important $x$ and a shallow one of height 0.05 in $y$ (`pr.toy_objective`).
# Each search gets 9 trials; the grid is **centred** (its values 1/6, 1/2, 5/6 are the middles of
# three equal cells, `centered=True`: a grid with both edges, 0, 1/2, 1, wastes two thirds of
# its values on the boundary). The curves above and right of each square are $g$ and $h$, the
# **marginals**, with the values each search tried marked on them; $h$ is drawn on $g$'s scale,
# so it looks flat — by design: $y$ barely matters.

# %%
grid = cl.search.grid_search(pr.toy_objective, pr.TOY_SPACE, points_per_axis=3, maximize=True, centered=True)
rand = cl.search.random_search(pr.toy_objective, pr.TOY_SPACE, n_trials=9, rng=cl.make_rng(4), maximize=True)
quasi = cl.search.quasi_random_search(pr.toy_objective, pr.TOY_SPACE, 9, seed=cl.make_rng(5), maximize=True)
distinct = {name: len(set(np.round(r.values("x"), 9))) for name, r in
            (("grid", grid), ("random", rand), ("quasi-random", quasi))}
print("distinct values of the important x:", distinct)
assert distinct == {"grid": 3, "random": 9, "quasi-random": 9}

fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.7))
for ax, result, title in zip(axes, (grid, rand, quasi), ("centred grid 3 × 3", "random, 9 trials", "quasi-random, 9")):
    pr.draw_search(result, ax, title, ylabel=ax is axes[0])
fig.subplots_adjust(left=0.07, right=0.95, top=0.7, bottom=0.13, wspace=0.38)
plt.show()

# %% [markdown]
# One search on one objective proves little (the bump could sit right on a grid value), so
# average over **problem instances**: 500 objectives per seed, each with its bump at a random
# position $x$ (and $h$'s at a random $y$); every method gets 9 trials on each, random and
# quasi-random with fresh draws per instance. Then the counter-case: **both** hyperparameters
# matter (two narrow bumps of height 1), the situation in which Bergstra & Bengio's argument
# for random search does not apply.

# %%
one = cl.over_seeds(px.search_showdown, seeds=SEEDS)
both = cl.over_seeds(lambda s: px.search_showdown(s, both=True), seeds=SEEDS)
methods = ("grid", "centred grid", "random", "quasi-random")
for name, res in (("only x matters", one), ("both matter", both)):
    print(f"{name}: mean best of 9 trials over 500 instances — " + "; ".join(f"{m} {res.summary(m)}" for m in methods))
    print(f"   random beats the centred grid on {res.summary('random > centred grid', '.0%')} of the instances, "
          f"quasi-random beats random on {res.summary('quasi-random > random', '.0%')}")
for k in range(len(SEEDS)):
    assert one["centred grid"][k] > one["grid"][k] + 0.1          # a grid with its edges wastes trials
    assert one["random"][k] > one["centred grid"][k] + 0.1        # one axis matters: random beats the grid ...
    assert one["quasi-random"][k] > one["random"][k] + 0.05       # ... and quasi-random beats random
    assert both["quasi-random"][k] > both["centred grid"][k] - 0.03   # both matter: quasi-random at least as good
assert both["centred grid"].mean() > both["random"].mean()        # ... and the grid beats random, pooled
assert both["centred grid > random"].mean() > 0.5                 # ... on more than half of the instances
assert both["quasi-random"].mean() > max(both["centred grid"].mean(), both["random"].mean())

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), sharey=True)
colors = ["0.6", "tab:blue", "tab:orange", "tab:green"]
for ax, res, title in ((axes[0], one, "only x matters"), (axes[1], both, "both x and y matter")):
    labels = {"grid": "grid\n(with edges)", "centred grid": "centred\ngrid", "random": "random",
              "quasi-random": "quasi-\nrandom"}
    cl.plots.plot_seed_points({labels[m]: res[m] for m in methods}, ax=ax, colors=colors)
    ax.set_title(f"{title} (dot = seed)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
axes[0].set_ylabel("best of 9 trials, mean of 500 problems")
axes[0].set_ylim(0, 1.35)
fig.tight_layout()
plt.show()

# %% [markdown]
# What the numbers show: when only $x$ matters, the centred grid's three $x$ values leave gaps
# that a narrow bump falls into; 9 random trials land closer on average and beat the grid on
# about two thirds of the problems, and quasi-random search, which puts its 9 values of $x$
# evenly, does better still. A grid with its edges is worst of all. When both matter, the
# grid's evenness in each axis is no longer wasted: it beats random search on average (by a
# few hundredths, pooled over the seeds) and on slightly more than half of the problems, and
# quasi-random search is about as good as the grid or better. So random search's advantage comes from *low effective dimensionality* —
# few of the hyperparameters matter — which is the usual case but not a law, and quasi-random
# search keeps that advantage without random search's clumps. With more hyperparameters the
# grid's waste grows exponentially, the others' does not.
#
# ## 12 · Coarse → fine, on the digits
#
# A real search runs in stages. **Coarse**: wide log ranges, short runs (a few epochs are
# enough to separate hopeless settings from promising ones). **Fine**: a narrower range around
# the best coarse trials. After each stage, check that the best value is **not at the edge of
# its range**: if it is, the optimum may lie outside and the range must be widened in that
# direction (`SearchResult.at_edge`).
#
# Here: the learning rate and the L2 strength $\lambda$ of a 64 → 100 → 10 network, both
# log-uniform; 16 trials, then 16 trials in the range spanned by the four best coarse trials
# (widened 2× on each side, `pr.narrow`), **both stages with the same budget** (3 epochs per
# trial), scored by validation accuracy. Is the fine stage's winner really better? Picking the
# best of 16 noisy scores flatters it (on 359 validation digits one example is 0.28 points), so
# both winners are then re-trained for 6 epochs on three fresh seeds.

# %%
c2f = {s: px.coarse_to_fine(s) for s in SEEDS}
first_search = c2f[S0]
print("coarse:", first_search["coarse"], "| at the edge:", first_search["coarse"].at_edge(px.COARSE_SPACE))
print("fine space:", first_search["fine_space"])
print("fine:  ", first_search["fine"], "| at the edge:", first_search["fine"].at_edge(first_search["fine_space"]))
for s, r in c2f.items():
    span = r["fine_space"]["lr"].high / r["fine_space"]["lr"].low
    print(f"seed {s}: best trial coarse {r['coarse'].best['score']:.3f}, fine {r['fine'].best['score']:.3f}; "
          f"re-trained (6 epochs, 3 fresh seeds) coarse winner {r['confirm'][0]:.3f}, fine winner {r['confirm'][1]:.3f}; "
          f"fine lr range {np.log10(span):.1f} decades; at the edge: {r['fine'].at_edge(r['fine_space']) or 'none'}")
    assert span < 1e5                                           # narrower than the coarse 6 decades
    assert r["confirm"][1] > r["confirm"][0] - 0.03              # re-trained, the fine winner is never much worse

# %% [markdown]
# The fine stage's best trial often scores a point or so above the coarse one, but re-trained on
# fresh seeds the two winners are usually within about a point of each other, in both
# directions (at worst the fine winner was 2.3 points behind, over COURSE_SEED 0–13): the coarse stage had already landed in the good band, and the fine stage's
# "gain" is mostly the maximum of more noisy scores in that band. Not always: 16 random trials
# over six decades can miss the band, and then the fine stage recovers several points (on
# COURSE_SEED 8 and 9 one of the three searches gained 3.8 and 4.7 points, re-trained). What the second stage buys is a map —
# a range a few decades wide in which the rate is good, and the finding that $\lambda$ hardly
# matters — plus the edge check. When the fine stage's best *is* at an edge (it happens on some
# seeds), the procedure says: widen the range that way and search again.
#
# What `at_edge` catches, made certain: a range that stops at $\mathrm{lr} = 10^{-3}$ (a guess some
# tutorials start from). A 4-point grid over $[10^{-6}, 10^{-3}]$ puts its best at the top edge,
# and the check says to widen the range upwards.

# %%
low_space = {"lr": LogUniform(1e-6, 1e-3)}
low = cl.search.grid_search(lambda lr: px.val_accuracy(lr, 1e-6, 3, S0), low_space, 4, maximize=True)
print(low, "| at the edge:", low.at_edge(low_space))
assert low.at_edge(low_space) == ["lr"]

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6), sharey=True)
px.draw_coarse_fine(first_search, fig, axes, seed=S0)
fig.tight_layout(rect=(0, 0, 1, 0.88))
plt.show()

# %% [markdown]
# The left panel is section 9 again: the score rises and falls with the learning rate over
# four decades, while across most of the six decades of $\lambda$ (right) it is flat — the low
# points there are the ones with a bad learning rate (their colour), until $\lambda$ becomes
# large (short runs on this data overfit little, so there is little to regularize). Had we
# spent the same 32 runs on a grid, at most $\sqrt{32} \approx 5$ learning rates would have
# been tried. Check the title's claim one knob at a time, from the best setting found, on each
# seed:

# %%
for s, r in c2f.items():
    knobs = px.one_knob(s, r["fine"].best["params"]["lr"], r["fine"].best["params"]["lam"])
    print(f"seed {s}: λ varied {dict((f'{k:g}', round(v, 3)) for k, v in knobs['lam'].items())}; "
          f"lr varied {dict((f'{k:g}', round(v, 3)) for k, v in knobs['lr'].items())}")
    small_lams = [knobs["lam"][lam] for lam in (1e-6, 1e-4, 1e-3)]
    assert max(small_lams) - min(small_lams) < 0.06                   # λ from 1e-6 to 1e-3: within a few points
    assert knobs["lam"][1.0] < 0.5                                    # a very strong penalty does
    assert max(knobs["lr"].values()) - min(knobs["lr"].values()) > 0.3  # the rate decides

# %% [markdown]
# ## 13 · How wide? Rules of thumb, tested
#
# Three rules for the size of a hidden layer are repeated in many texts (popularised by
# J. Heaton's *Introduction to Neural Networks for Java*, 2008):
#
# 1. between the size of the input and the output layer — here between 10 and 64;
# 2. about 2/3 of the input size plus the output size — $\frac23 \cdot 64 + 10 \approx 53$;
# 3. less than twice the input size — under 128.
#
# Test them: one hidden layer of each width from 4 to 512, 10 epochs of Adam at a rate from the
# good band ($3\cdot10^{-3}$), validation accuracy on each of the three seeds.

# %%
widths = (4, 8, 16, 32, 53, 64, 128, 256, 512)
width_acc = np.array([[px.width_accuracy(w, s) for w in widths] for s in SEEDS])   # (seeds, widths)
mean_acc = width_acc.mean(axis=0)
for w, a, row in zip(widths, mean_acc, width_acc.T):
    print(f"width {w:4}: validation accuracy {a:.3f} (seeds {', '.join(f'{v:.3f}' for v in row)})")
best_w = widths[int(np.argmax(mean_acc))]
rule2 = width_acc[:, widths.index(53)]
print(f"best width {best_w} ({mean_acc.max():.3f}); the 2/3 rule's 53: {rule2.mean():.3f}")
assert best_w >= 128                                          # outside rules 1 and 2, at or past rule 3's limit
assert np.all(rule2 > 0.9)                                    # the 2/3 rule's width works ...
assert np.all(width_acc.max(axis=1) > rule2) and (width_acc.max(axis=1) - rule2).mean() > 0.005  # ... but costs
assert np.all(width_acc.max(axis=1) - width_acc[:, widths.index(8)] > 0.05)  # rule 1's low end underfits

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.5))
ax.axvspan(10, 64, color="tab:green", alpha=0.1, label="rule 1: between output (10) and input (64)")
ax.axvline(53, color="tab:green", ls="--", lw=1.2, label="rule 2: 2/3 · 64 + 10 ≈ 53")
ax.axvline(128, color="tab:red", ls=":", lw=1.5, label="rule 3: under 2 · 64 = 128")
cl.plots.plot_seeds(widths, width_acc, ax=ax, color="k", label="validation accuracy")
ax.set(xscale="log", xticks=widths, xticklabels=[str(w) for w in widths], xlabel="hidden width",
       ylabel="validation accuracy", title="one hidden layer, 10 epochs: wider keeps helping")
ax.minorticks_off()
ax.title.set_fontsize(10)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# The rules are starting points, not answers. Rule 1's lower end (widths 8–16) clearly
# underfits; rule 2's 53 works, but below the best on every seed (by about one to three points); and the best widths
# lie beyond rule 3's limit: on this data more width keeps helping (ever more slowly), and the
# cost of a wider layer is compute, not accuracy, as long as overfitting is controlled by
# regularization (notebook 07: rather a big network regularized well than a small one). We
# also kept the learning rate fixed: strictly, every width deserves its own (section 9).
#
# **Does the width matter less than the learning rate?** Compare both over the same kind of
# range: a factor of 4 either side of each one's best value (the best taken from the mean over
# the seeds; widths from the study above, rates from the scan of section 3, scores interpolated
# on the log scale).

# %%
lrs = np.array(pr.LRS)
lr_acc = np.array([[0.0 if scans[s][lr].val_acc is None else scans[s][lr].val_acc for lr in pr.LRS] for s in SEEDS])
best_lr, lr_down, lr_up = px.sensitivity(lrs, lr_acc, factor=4)
best_width, w_down, w_up = px.sensitivity(widths, width_acc, factor=4)
print(f"learning rate: best {best_lr:.3g}; ÷4 costs {100 * lr_down.mean():.1f} points (seeds "
      f"{', '.join(f'{100 * v:.1f}' for v in lr_down)}), ×4 costs {100 * lr_up.mean():.1f} "
      f"({', '.join(f'{100 * v:.1f}' for v in lr_up)})")
print(f"width: best {best_width:g}; ÷4 costs {100 * w_down.mean():.1f} points (seeds "
      f"{', '.join(f'{100 * v:.1f}' for v in w_down)}); ×4 not measured (the widest is at or near the best)")
explode_at = [min(lr for lr, r in scans[s].items() if r.exploded) for s in SEEDS]
print(f"the smallest rate that explodes: {', '.join(f'{v:.2g}' for v in explode_at)} "
      f"= {', '.join(f'{v / best_lr:.0f}' for v in explode_at)} x the best")
assert np.all(w_down < 0.03)                                        # 4x narrower than the best: a point or two
assert np.all(lr_down < 0.1) and np.all(lr_up < 0.1)                # 4x off the best rate: one to several points
assert all(v / best_lr <= 100 for v in explode_at)                  # within 100x above its best, it diverges
assert np.all(width_acc[:, widths.index(4)] > 0.4)                 # while 100x narrower still learns something

# %% [markdown]
# Measured over equal factors, the two are much closer than "the rate moved the accuracy by 80
# points, the width by 5" suggested (an earlier version of this notebook compared the rate over
# five decades with the width over one). A factor of 4 narrower than the best width costs about
# a point; a factor of 4 on the wrong side of the best rate costs one to several points,
# depending on the seed and the split. The bigger reasons to tune the rate first lie further
# out: its bad side is a cliff — a rate some 10–30× above the best diverges, while a 128×
# narrower layer still learns something — and its best value moves with everything else
# (section 14 shows it moving with the schedule), so a rate tuned for one set-up is not tuned
# for the next. A width that is large enough tends to stay large enough.
#
# ## 14 · The default recipe, one ingredient at a time
#
# To finish the course, a sensible default for a new problem of this kind:
#
# * **He initialization** and **ReLU** (or ELU) units (notebooks 01 and 02);
# * **BatchNorm** after each hidden affine layer (notebook 04) — which makes the rest much less
#   sensitive to the scales of the weights and the rate;
# * **dropout** after each hidden activation (notebook 05), a moderate 0.2 here;
# * **Adam** (notebook 06), with a cosine schedule and a one-epoch warm-up;
# * early stopping on the validation loss (notebook 07);
# * and then **tune the learning rate** — the one hyperparameter that must be searched.
#
# Karpathy's advice is to **add complexity one ingredient at a time**, and to check that each
# one helps. With section 9's vocabulary: the recipe step is the scientific hyperparameter; the
# learning rate is the nuisance, re-tuned for every step on the first seed (5 rates from
# $10^{-3}$ to $10^{-1}$, the grid widened by a factor of 3 whenever the best is at an edge —
# section 12's check — and the rate with the lowest validation loss kept); fixed are the data,
# two hidden layers of 64 units, Adam's betas, batches of 64 and a budget of 12 epochs with
# early stopping (patience 4, best weights restored). Each step is then compared at its own
# rate on all three seeds. Every run starts from the same sanity check: the first loss is
# $\ln 10$.

# %%
print(px.recipe_net(S0))
firsts = [cl.evaluate(px.recipe_net(s), loss_fn, X_train, y_train)[0] for s in SEEDS]
print("first loss per seed:", np.round(firsts, 4), f"(ln 10 = {np.log(10):.4f})")
assert np.all(np.abs(np.array(firsts) - np.log(10)) < 0.02)

# %%
abl = px.ablation(SEEDS)          # tuning: each step at 5+ rates on the first seed; comparison: 3 seeds
print(abl.table())
steps = abl.steps
loss = np.array([abl.best_loss[k] for k in steps])               # (steps, seeds)
effect = np.diff(loss, axis=0)                                    # what each ingredient changed, per seed
for k, row in zip(steps[1:], effect):
    print(f"{k:20} changes the validation loss by {', '.join(f'{v:+.3f}' for v in row)} "
          f"(better on {int(np.sum(row < 0))} of {len(row)} seeds)")
print("the rate each step chose:", abl.chosen, "| grid widened at an edge:",
      {k: v for k, v in abl.widened.items() if v} or "never")
shared = abl.chosen[steps[0]]
print(f"the full recipe at the plain net's rate {shared:g}, without re-tuning: {np.round(abl.shared_loss[steps[-1]], 3)} "
      f"(mean {abl.shared_loss[steps[-1]].mean():.3f}; at its own rate {loss[-1].mean():.3f})")
assert np.all(np.abs(effect) < 0.1)                               # every ingredient: under 0.1, every seed
assert abl.chosen[steps[-1]] >= shared                            # the best rate did not move down with the schedule
assert abl.at_edge == []                                          # every chosen rate inside its (widened) grid

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.7), gridspec_kw={"width_ratios": [1.1, 1]})
px.draw_isolation(abl, axes)
fig.suptitle("the recipe one ingredient at a time, 12 epochs: an isolation plot", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# What the ablation shows: the steps differ by a few hundredths of validation loss, about the
# size of the seed-to-seed spread, and which ingredient helps depends on the seed — and on the
# split of the data. (Under the default `COURSE_SEED=0` BatchNorm lowers the loss on every seed
# and dropout and the schedule add nothing; under other `COURSE_SEED`s, which also split the
# digits differently, we saw BatchNorm's gain grow to 0.06 on one split and vanish on another,
# and the schedule come out ahead on some seeds. The table above is the one for your seed.) What
# held on every split we tried is the Playbook's point that the best learning rate depends on
# the schedule: with cosine decay and warm-up it was **higher** than the plain network's on
# seven of the eight splits we tried, and equal on the eighth (the average rate of a cosine
# schedule is half its peak, and the warm-up protects the first steps). When the
# plain network's best rate is well below the schedule's — under `COURSE_SEED=0` it is 3×
# lower — a comparison at the plain rate, without re-tuning, makes the full recipe look clearly
# worse than it is (right panel, hollow circles): the untuned comparison would have blamed the
# schedule for the wrong rate.
#
# A conclusion like "dropout does not help" could be an artefact of the short budget: dropout
# slows fitting, and some of the best epochs above are the last of the 12. So train the two
# candidates longer — BatchNorm alone and the full recipe, each at its chosen rate, up to 30
# epochs with patience 6 (the cosine schedule stretched over the 30) — and keep the one that
# validation prefers.

# %%
longer = {k: [abl.run(k, s, epochs=30, patience=6) for s in SEEDS] for k in (steps[1], steps[-1])}
for k, pairs in longer.items():
    print(f"{k:20} 30 epochs: val loss " + ", ".join(f"{h.val_loss[h.best_epoch]:.3f} (best epoch {h.best_epoch + 1})"
                                            for h, _ in pairs))
gap_long = np.array([hf.val_loss[hf.best_epoch] - hb.val_loss[hb.best_epoch]
                     for (hb, _), (hf, _) in zip(longer[steps[1]], longer[steps[-1]])])
final_step = steps[-1] if gap_long.mean() < 0 else steps[1]
print(f"full recipe minus BatchNorm alone, 30 epochs: {np.round(gap_long, 3)} -> we keep: {final_step}")
assert np.all(np.abs(gap_long) < 0.06)            # trained longer: within a few hundredths of BatchNorm alone, every seed

# %% [markdown]
# Trained for up to 30 epochs, the full recipe and BatchNorm alone stay within a few hundredths
# of each other (per seed above; positive means the full recipe is worse). That is a finding
# about this data, this network and this budget, not a verdict on dropout or schedules: notebook
# 05 shows dropout helping where a network can memorise much more than it should. Karpathy's
# point stands either way — without the ablation you would have credited all four ingredients
# for what at most one of them did. A default recipe is where you start; the ablation decides
# what stays.
#
# The model that validation chose, end to end, with every diagnostic on (the first seed's run):

# %%
hist, net = longer[final_step][0]
print(final_step, hist, "| best epoch (from 1):", hist.best_epoch + 1)
stats = cl.diagnostics.layer_stats(net, X_train, loss_fn, y_train)
print(stats)
for hint in cl.diagnostics.hints(hist, stats):
    print("hint:", hint)

# %%
fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.2))
px.draw_final(hist, axes, title=f"{final_step}: Adam lr {abl.chosen[final_step]:g}, early stopping (seed {S0})")
fig.tight_layout()
plt.show()

# %%
final = {s: (cl.evaluate(n, loss_fn, X_train, y_train)[1], cl.evaluate(n, loss_fn, X_val, y_val)[1])
         for s, (h, n) in zip(SEEDS, longer[final_step])}
ratios = cl.diagnostics.update_ratio_summary(hist)
print("train / validation accuracy per seed:", {s: tuple(round(v, 3) for v in a) for s, a in final.items()})
print("median update ratios, seed", S0, ", ".join(f"{k} {v:.1e}" for k, v in ratios.items()))
assert all(tr - va < 0.05 for tr, va in final.values())          # accuracies close: a small gap
assert max(ratios.values()) / min(ratios.values()) < 3            # no layer left behind: the layers agree
assert np.nanmax(stats.column("dead")) < 0.05                    # no dead ReLUs
assert not any(w in " ".join(cl.diagnostics.hints(hist, stats)) for w in ("exploded", "dead", "saturated"))

# %% [markdown]
# Every diagnostic is quiet: the first loss was $\ln 10$, the rate came from a scan and is not
# at its edge, the training and validation **accuracies** stay within a few points (the losses
# less so: the training loss keeps falling after the validation loss has stopped — which is what
# early stopping watches; the dotted line marks the epoch whose weights were restored), the
# layers' update ratios agree within a factor of 3, no unit is dead. Only now, once, the
# **test set** — it has not been used for any decision above:

# %%
test_acc = [cl.evaluate(n, loss_fn, X_test, y_test)[1] for _, n in longer[final_step]]
print(f"test accuracy of {final_step!r} on {len(X_test)} digits never used before, per seed: "
      f"{', '.join(f'{a:.3f}' for a in test_acc)}")
assert min(test_acc) >= 0.95

# %% [markdown]
# ## Check your understanding
#
# 1. A 10-class classifier, regularization off, prints a first loss of 4.1. A colleague's prints
#    147.4 with batches of 64. What do you suspect in each case?
#
# <details><summary>Answer</summary>
#
# $\ln 10 = 2.30$ is expected. 4.1 means the network starts with confident (and mostly wrong)
# predictions: the logits are too large at initialization — typically an output layer that is
# not scaled down, or a too large initialization overall. It trains, but the first steps are
# wasted on shrinking the logits. $147.4 = 64 \cdot 2.30$: the loss is summed over the batch
# instead of averaged — a bug that also multiplies the gradient, and so the effective learning
# rate, by 64.
# </details>
#
# 2. In a scan, $\mathrm{lr} = 3\cdot10^{-2}$ reaches lower mini-batch losses than $10^{-2}$, but
#    its curve jumps up by 10× every few dozen steps and ends higher; $\mathrm{lr} = 10^{-1}$
#    drops fast and then stays near 0.5. What do you call each, and what do you do?
#
# <details><summary>Answer</summary>
#
# $3\cdot10^{-2}$ is *unstable* ("fast drop, then spikes"): slightly too high. The network can
# fit (the low points between the spikes), but some steps are too long. Lower the rate a little,
# or keep it and add a warm-up, a decay schedule or gradient clipping. $10^{-1}$ is "flat and
# high": too high, and it has damaged the network — look at the dead-unit share (section 6:
# more than half of a layer dead); a schedule will not bring those units back, a lower rate
# (or LeakyReLU/ELU) avoids killing them.
# </details>
#
# 3. You sample 30 learning rates with `np.random.uniform(1e-6, 1e-1)`. About how many land
#    below $10^{-3}$? And how many with `10 ** np.random.uniform(-6, -1)`?
#
# <details><summary>Answer</summary>
#
# Uniform: the interval below $10^{-3}$ is about 1 % of the range, so $30 \cdot 0.01 \approx 0.3$
# — most likely none; three of the five decades are never tried. Log-uniform: three fifths of
# the range of exponents, so about 18. Rates and strengths act multiplicatively: sample their
# logarithm uniformly.
# </details>
#
# 4. You have a budget of 27 runs for three hyperparameters, of which (unknown to you) only the
#    learning rate matters. How many distinct learning rates do a 3 × 3 × 3 grid, 27 random
#    trials and 27 quasi-random trials test? And if all three mattered equally?
#
# <details><summary>Answer</summary>
#
# The grid: 3 (each repeated 9 times with settings of the other two that make no difference).
# Random and quasi-random search: 27, all distinct, and quasi-random ones evenly spread. That is
# why they find better settings when few hyperparameters matter (Bergstra & Bengio 2012) — and
# they never need to know which ones those are. If all three mattered, the grid's evenness is
# no longer wasted: section 11 found a centred grid slightly ahead of random search in that
# case, and quasi-random search about as good as the grid or better.
# </details>
#
# 5. After 20 epochs, training accuracy 99.8 %, validation 88 %, and the update-to-weight ratio
#    of the first layer is $10^{-6}$ while the others are near $10^{-3}$. What do you change?
#
# <details><summary>Answer</summary>
#
# Two separate findings. The gap of 12 points is overfitting: regularize more (L2 / weight decay,
# dropout, early stopping, more data or augmentation) — not a smaller network. The tiny ratio,
# 1000× below the other layers', says the first layer hardly learns: look at its gradient and its
# inputs (unnormalized inputs? a saturated or dead layer right above it?) rather than raising the
# global rate, which would push the other layers out of their range. Comparing layers is what the
# ratio is good for; its absolute value says little with Adam (section 7).
# </details>
#
# 6. You want to know whether dropout helps your model. A colleague trains with and without
#    dropout, both at lr $10^{-3}$, and reports that dropout is worse. What is wrong with the
#    comparison, and how do you fix it?
#
# <details><summary>Answer</summary>
#
# Dropout is the scientific hyperparameter; the learning rate is a nuisance one, and its best
# value can differ between the two set-ups. At one shared rate you compare a tuned model with
# an untuned one. Re-tune the rate for each (a small scan each), compare each at its best, on
# several seeds, and train long enough that the slower of the two has finished — the isolation
# plot of section 14.
# </details>
#
# ## Summary
#
# * **Before training**: the first loss is $\ln K$ with regularization off (scale the output
#   layer down); turning regularization up raises the **logged** loss (check it along the path you
#   use, `cl.fit(..., regularizer=...)`); the network memorises one small batch (100 % training
#   accuracy). Then Karpathy's: **look at the exact batch** the network receives (decoded, with
#   its labels); the real inputs must beat the **input-independent baseline** (zeros in, what the
#   labels alone give); and **examples must not mix** — the gradient of one example's output
#   w.r.t. another's input is exactly 0, except with BatchNorm in training mode (by design, of
#   order $1/N$).
# * **Learning-rate scan**: a few epochs per rate on a log grid; `cl.fit` stops a run whose loss
#   exceeds 3× its first value. Read the curves: flat → too low; steady descent → good; fast
#   drop then spikes → slightly too high, an unstable run (warm-up, decay, clipping, a bit lower);
#   fast drop then flat and high → too high, look for dead units; explodes → too high.
# * **Flat, then a sudden drop**: suspect the initialization (too small for the depth), not the
#   learning rate.
# * **Train vs validation**: a big gap → regularize more; no gap and both low → add capacity
#   (check that training longer adds little).
# * **Inside the network**: per-layer mean, std, saturated % and dead % of activations, and the
#   size of the gradients, locate the problem (dead ReLUs after a too-high rate, saturated tanh
#   after a too-large initialization). The first layer's weights as images show what it learned
#   (and what it never touched). The **update-to-weight ratio** $\lVert\Delta W\rVert /
#   \lVert W\rVert$ compares layers; its rule of thumb $10^{-3}$ (CS231n, for SGD) does not pick
#   the rate for Adam. Plot its $\log_{10}$.
# * **Hyperparameters, in order of importance**: learning rate, its schedule, regularization
#   strength, dropout rate, width, depth — and in each experiment: scientific, nuisance (re-tune
#   them: the learning rate) and fixed. Sample rates and strengths **log-uniformly**,
#   `10 ** uniform(-6, -1)`, never `uniform(1e-6, 1e-1)` (and `10 ** uniform(-3, 6)` is a
#   misprint for negative exponents). **Random and quasi-random search** beat a grid when few
#   hyperparameters matter; when all matter, a centred grid is slightly ahead of random search.
#   Go **coarse → fine** at a fixed budget per trial, re-check a "better" winner on fresh seeds,
#   and widen the range when the best value is at its edge.
# * **Width rules of thumb** (between input and output size; 2/3 of input + output; under twice
#   the input) are starting points: on the digits the best width was beyond all three. Over a
#   factor of 4 from their best, width and rate cost a point or a few; the rate is tuned first
#   because it diverges some 10–30× above its best and its best moves with everything else.
# * **The default recipe**, built one ingredient at a time with the rate re-tuned at each step:
#   He init, ReLU, BatchNorm, dropout, Adam with a schedule, early stopping. On the digits each
#   ingredient changed the validation loss by a few hundredths, in a direction that varied
#   with the seed and the split; the best learning rate went up with the schedule. The model
#   that validation chose reaches over 95 % test accuracy on every seed, with every diagnostic
#   quiet.
#
# **Next:** practise in the exercise notebook
# [exercises/08_training_in_practice.ipynb](../exercises/08_training_in_practice.ipynb): run the
# sanity checks on a network with planted bugs, find the layer that mixes examples, read scans,
# and search hyperparameters on a budget. This is the last notebook of the course — from here on,
# train your own networks with the diagnostics on.
