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
# tried on real runs on the digits, and every number it rests on is checked by an `assert`.
#
# **Learning objectives.** After this notebook you can
#
# 1. run the three sanity checks before any long training: first loss $\approx \ln K$,
#    regularization raises the loss, a tiny subset can be learned perfectly;
# 2. scan the learning rate on a log grid and read each curve: flat, explodes, drops fast then
#    stalls, descends steadily;
# 3. recognise an initialization problem in a loss that sits flat and then suddenly drops;
# 4. decide from the train/validation gap whether to regularize more or add capacity;
# 5. read per-layer diagnostics (mean, std, saturated %, dead % of activations and gradients)
#    and the update-to-weight ratio;
# 6. tune hyperparameters in order of importance, sample rates and strengths on a log scale,
#    prefer random to grid search, go from coarse to fine and check the edges of the range;
# 7. use the rules of thumb for layer width as what they are: starting points;
# 8. train a network end to end with a sensible default recipe and every diagnostic on.
#
# **Prerequisites.** Notebooks 00–07 (this one uses all of them: $\ln K$ from 00, dead ReLUs
# from 01, He initialization from 02, BatchNorm from 04, dropout from 05, Adam and schedules from
# 06, L2 and early stopping from 07).
#
# **Estimated time.** 75–90 minutes.

# %%
import numpy as np
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.search import LogUniform
from course_lib.widgets import practice as pr

_ = cl.set_seed(0)
threadpool_limits(1)     # our matrices are small: one BLAS thread is fastest, extra ones only compete
np.set_printoptions(precision=4, suppress=True)

X_train, y_train, X_val, y_val, X_test, y_test = pr.digits()   # centred with the TRAINING mean
loss_fn = cl.SoftmaxCrossEntropy()
print(f"train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}")

# %% [markdown]
# ## 1 · Three sanity checks before you train
#
# A long run that fails tells you little: it could be the data, the model, the loss, the
# optimizer or the hyperparameters. Three checks that take seconds rule out most bugs before
# you spend the minutes (or days). The network for most of this notebook is the same small MLP,
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
model = pr.make_mlp(rng=0)
print(model)
loss0, acc0 = cl.evaluate(model, loss_fn, X_train, y_train)
print(f"first loss {loss0:.4f}   ln 10 = {np.log(10):.4f}   accuracy {acc0:.3f} (chance: 0.1)")
assert abs(loss0 - np.log(10)) < 0.02

for scale in (0.1, 1.0, 10.0):
    first = cl.evaluate(pr.make_mlp(rng=0, last_scale=scale), loss_fn, X_train, y_train)[0]
    print(f"output layer × {scale:<4}: first loss {first:.3f}")
assert cl.evaluate(pr.make_mlp(rng=0, last_scale=10.0), loss_fn, X_train, y_train)[0] > 2 * np.log(10)

# %% [markdown]
# ### Check 2: turning regularization up raises the loss
#
# Add an L2 penalty $\frac{\lambda}{2}\sum w^2$ (notebook 07) to the same untrained network.
# The data loss does not change, the penalty is positive, so the total must grow with
# $\lambda$. If it does not, the penalty is not wired into the loss you are printing (a
# classic: the gradient gets the penalty, the logged loss does not — or the other way round).
# It also explains why check 1 is done with regularization off: with $\lambda > 0$ the first
# loss is *supposed* to be above $\ln K$.

# %%
lams = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
totals = [loss0 + cl.L2(lam).value(model.parameters()) for lam in lams]
for lam, total in zip(lams, totals):
    print(f"λ = {lam:<7g} first loss {total:8.3f}")
assert totals[0] == loss0                       # λ = 0: the data loss alone
assert all(a < b for a, b in zip(totals, totals[1:]))   # strictly increasing in λ

# %% [markdown]
# ### Check 3: overfit a tiny subset
#
# Take 20 training examples, turn regularization off and train until the network has
# memorised them: a model with 17,610 parameters must reach 100 % training accuracy on 20 digits,
# with the loss close to 0. If it cannot, something is broken in the forward pass, the backward
# pass, the loss or the update — and no amount of tuning on the full data would have told you
# which. (The validation accuracy stays poor: memorising 20 examples is not learning digits.)

# %%
X20, y20 = X_train[:20], y_train[:20]
tiny = pr.make_mlp(rng=0)
hist20 = cl.fit(tiny, loss_fn, cl.Adam(tiny.parameters(), lr=3e-3), X20, y20, epochs=100,
                batch_size=20, val=(X_val, y_val), rng=0, progress=False)
_, acc20 = cl.evaluate(tiny, loss_fn, X20, y20)
print(f"20 examples, {hist20.steps} full-batch steps: loss {hist20.loss[0]:.3f} → {hist20.loss[-1]:.1e}, "
      f"training accuracy {acc20:.2f}, validation accuracy {hist20.val_acc[-1]:.2f}")
assert acc20 == 1.0 and hist20.loss[-1] < 0.01
assert hist20.val_acc[-1] < 0.7

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
cl.plots.plot_loss(hist20, ax=ax, log=True)
ax.set_title("check 3: 20 examples are memorised (training loss, log scale)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2 · The learning-rate scan, and how to read a loss curve
#
# The learning rate is the hyperparameter to get right first (section 8). Find its range with a
# **scan**: train the same network from the same initialization for a few epochs at each rate
# of a log grid — here 21 rates from $10^{-5}$ to $1$, four per decade, 8 epochs of Adam each.
# A few epochs are enough to see the *shape* of each curve, and shape is what we read:
#
# | the loss … | reading |
# |---|---|
# | stays flat, or falls slowly and almost linearly | rate **too low** |
# | explodes | rate **too high** |
# | drops fast, then stalls at a level lower rates go below | rate **too high** |
# | descends steadily and keeps falling | **good** |
#
# A run that explodes is not worth finishing: `cl.fit` stops it as soon as a mini-batch loss
# exceeds **3× the first loss** (its `explode_factor`) and says so in `History.status` and
# `History.message`. `pr.read_scan` turns the table into explicit thresholds — flat: the loss
# has not halved; plateau: a rate above the best one that ends more than 3× higher — so that
# the verdicts can be printed and checked. Reading curves is a judgement; the thresholds only
# make this one visible.

# %%
runs = pr.precompute()          # the 21 runs, cached: the widget in section 7 reuses them
for lr, run in runs.items():
    acc = "—" if run.val_acc is None else f"{run.val_acc:.3f}"
    shape, meaning, _ = pr.GUIDE[run.verdict]
    print(f"lr {lr:8.2g}  {run.status:18}  {shape:24} → {meaning:9}  val acc {acc}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.4, 1]})
pr.draw_scan(runs, axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# All four cases of the reading guide appear, in order along the learning-rate axis. Point at
# one of each:

# %%
# the grid rates nearest to these values (the keys of runs)
lr_tiny, lr_flat, lr_good, lr_plateau, lr_boom = (pr.nearest_lr(v) for v in (1e-5, 1e-4, 10 ** -2.5, 0.1, 10 ** -0.75))
for lr in (lr_flat, lr_good, lr_plateau, lr_boom):
    print(runs[lr].title)
print()
for run in runs.values():
    if run.exploded:
        print(run.message)

verdicts = [run.verdict for run in runs.values()]
assert set(verdicts) == set(pr.GUIDE)                              # every case appears
rank = [list(pr.GUIDE).index(v) for v in verdicts]
assert rank == sorted(rank)                                        # flat → good → plateau → exploded
assert [runs[lr].verdict for lr in (lr_flat, lr_good, lr_plateau, lr_boom)] == list(pr.GUIDE)
assert runs[lr_boom].status == "exploded at step 1" and "exploded" in runs[lr_boom].message
best_lr = max((lr for lr in runs if not runs[lr].exploded), key=lambda lr: runs[lr].val_acc)
print(f"\nbest validation accuracy {runs[best_lr].val_acc:.3f} at lr = {best_lr:.3g} ({runs[best_lr].verdict})")
assert runs[best_lr].verdict == "good"

# %% [markdown]
# Reading the picture:
#
# * **Too low (blue).** At $10^{-5}$ Adam moves each weight by about $10^{-5}$ per step: after
#   136 steps the loss has hardly left $\ln 10$. Nothing is wrong except patience — but a scan
#   cannot tell "slow" from "stuck", which is why the next section exists.
# * **Good (green).** From about $6\cdot10^{-4}$ to $10^{-2}$ the loss falls steadily on the
#   log scale and is still falling when the scan ends; the best validation accuracy is in this
#   band.
# * **Too high, plateau (orange).** From about $2\cdot10^{-2}$ the loss drops *faster* at first
#   — that is what makes high rates tempting — and then stalls at a level the good rates pass
#   below: the steps are too long to settle into the bottom of the valley, so the loss bounces at
#   a height set by the step size. (Section 5 finds a second reason inside the network.)
# * **Too high, explodes (red).** From about $0.18$ the very first update is so large that the
#   next loss is over 3× the first; `cl.fit` stops the run at step 1.
#
# The plateau is why a **schedule** helps: start near the top of the good band to get the fast
# early drop, then decay the rate so the loss can settle lower (notebook 06; the recipe in
# section 13 uses cosine decay).
#
# ## 3 · Flat for a while, then a sudden drop: suspect the initialization
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
# with momentum, same rate.

# %%
def small_init(fan_in, fan_out, rng):
    return cl.init.normal(fan_in, fan_out, rng=rng, std=0.1)


deep_hists = {}
for name, init in (("N(0, 0.1²)", small_init), ("He", "he_normal")):
    net = pr.make_mlp(widths=(64,) * 6, rng=0, init=init)
    deep_hists[name] = cl.fit(net, loss_fn, cl.SGD(net.parameters(), lr=0.1, momentum=0.9),
                              X_train, y_train, epochs=12, rng=0, progress=False)
    print(f"{name:10}: {cl.diagnostics.hints(deep_hists[name])[0]}")

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.4))
for (name, hist), color in zip(deep_hists.items(), ("tab:purple", "tab:green")):
    ax.plot(hist.loss, color=color, alpha=0.25, lw=0.7)
    ax.plot(*pr.smooth(hist.loss), color=color, lw=2, label=f"init {name}")
q = deep_hists["He"].steps // 4
ax.axvspan(0, q, color="0.9", zorder=0, label="first quarter of the run")
ax.axhline(np.log(10), color="0.5", ls=":", lw=1)
ax.set(xlabel="SGD step", ylabel="training loss", ylim=(0, 2.6),
       title="6 ReLU layers, same rate: flat then a cliff (small init) vs an immediate descent (He)")
ax.title.set_fontsize(10)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
for name, hist in deep_hists.items():
    loss = np.asarray(hist.loss)
    q = loss.size // 4
    print(f"{name:10}: first quarter mean {loss[:q].mean():.3f}, last quarter mean {loss[-q:].mean():.3f}")
small, he = (np.asarray(h.loss) for h in deep_hists.values())
q = small.size // 4
assert abs(small[:q].mean() - np.log(10)) < 0.01          # flat at ln 10 for a quarter of the run …
assert small[-q:].mean() < 0.3 * np.log(10)                # … then it learned after all
assert he[:q].mean() < 0.6 * np.log(10)                    # He is already well down in that quarter
assert any("initialization" in h for h in cl.diagnostics.hints(deep_hists["N(0, 0.1²)"]))
assert not any("initialization" in h for h in cl.diagnostics.hints(deep_hists["He"]))

# %% [markdown]
# `cl.diagnostics.hints` reads the same shape off the History: flat in the first quarter, most of
# the drop afterwards. (For the He network its first remark is about the first layer's large
# updates, a fair point at this rate — but its loss falls from the first steps.) In a short scan this run would have looked "flat → rate too low"; the
# cure is not a higher rate but a better initialization (or BatchNorm, which makes the scale of
# the weights matter much less; notebook 04).
#
# ## 4 · Train versus validation: regularize more, or add capacity?
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
# Both regimes on the digits: a 100-100 network on only 100 training examples, and a network
# whose hidden layer has just 2 units on the full training set.

# %%
big = pr.make_mlp(widths=(100, 100), rng=0)
h_over = cl.fit(big, loss_fn, cl.Adam(big.parameters(), lr=1e-3), X_train[:100], y_train[:100],
                epochs=60, batch_size=32, val=(X_val, y_val), rng=0, progress=False)
thin = pr.make_mlp(widths=(2,), rng=0)
h_under = cl.fit(thin, loss_fn, cl.Adam(thin.parameters(), lr=1e-2), X_train, y_train,
                 epochs=30, val=(X_val, y_val), rng=0, progress=False)
regimes = {"100-100 net, 100 examples": h_over, "2-unit net, all 1,079 examples": h_under}
for name, hist in regimes.items():
    gap = hist.train_acc[-1] - hist.val_acc[-1]
    print(f"{name}: train {hist.train_acc[-1]:.3f}, validation {hist.val_acc[-1]:.3f}, gap {gap:+.3f}")
    print("   hint:", cl.diagnostics.hints(hist)[0])

assert h_over.train_acc[-1] - h_over.val_acc[-1] > 0.10                         # big gap
assert abs(h_under.train_acc[-1] - h_under.val_acc[-1]) < 0.05 and h_under.train_acc[-1] < 0.8
assert "overfitting" in cl.diagnostics.hints(h_over)[0]
assert "underfitting" in cl.diagnostics.hints(h_under)[0]
# adding capacity is the cure for the second: the scan's 100-100 network on the same data
print(f"with capacity (100-100 net, section 2, lr {lr_good:.3g}): validation {runs[lr_good].val_acc:.3f}")
assert runs[lr_good].val_acc > h_under.val_acc[-1] + 0.3

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, (name, hist) in zip(axes, regimes.items()):
    epochs = np.arange(1, hist.epochs + 1)
    ax.plot(epochs, hist.train_acc, "o-", ms=2.5, label="train")
    ax.plot(epochs, hist.val_acc, "o-", ms=2.5, label="validation")
    ax.fill_between(epochs, hist.val_acc, hist.train_acc, color="tab:red", alpha=0.12, label="gap")
    verdict = "big gap → regularize more" if hist is h_over else "no gap, both low → add capacity"
    ax.set(xlabel="epoch", title=f"{name}\n{verdict}")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8, loc="lower right")
axes[0].set_ylabel("accuracy")
axes[0].set_ylim(0, 1.02)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5 · Looking inside: per-layer diagnostics
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
# First the ReLU network of the scan, after training at a good rate and at the plateau rate:

# %%
def scan_model(lr):
    """The scan's network with the weights it ended with at rate lr."""
    net = pr.make_mlp(rng=0)
    net.load_state_dict(runs[lr].state)
    return net


relu_stats = {}
for lr in (lr_good, lr_plateau):
    relu_stats[lr] = cl.diagnostics.layer_stats(scan_model(lr), X_train, loss_fn, y_train)
    print(f"after the scan at lr = {lr:.3g} ({runs[lr].verdict}):\n{relu_stats[lr]}\n")
dead_good, dead_sick = (relu_stats[lr].column("dead") for lr in (lr_good, lr_plateau))
assert dead_good.max() < 0.05                  # healthy: almost every ReLU is alive
assert dead_sick.max() > 0.3                   # sick: a large share of a layer is dead
for hint in cl.diagnostics.hints(cl.History(), relu_stats[lr_plateau]):
    print("hint:", hint)

# %% [markdown]
# The plateau of section 2 has a second cause: at $\mathrm{lr} = 0.1$ the big early updates pushed
# the pre-activations of many units below zero for every input, and a dead ReLU passes no
# gradient, so it stays dead (notebook 01). The network that is left is much smaller than the
# one you built.
#
# Next, saturation. A deep tanh network (five layers of 100) at initialization, with Xavier's
# scale and with $\mathcal N(0, 1)$ weights (notebook 02's classic):

# %%
tanh_stats = {}
for name, init in (("Xavier", "xavier_normal"),
                   ("N(0, 1)", lambda fan_in, fan_out, rng: cl.init.normal(fan_in, fan_out, rng=rng, std=1.0))):
    net = pr.make_mlp(widths=(100,) * 5, rng=0, init=init, activation=cl.Tanh)
    tanh_stats[name] = (net, cl.diagnostics.layer_stats(net, X_train, loss_fn, y_train))
    print(f"tanh net, init {name}:\n{tanh_stats[name][1]}\n")
sat_ok, sat_sick = (tanh_stats[k][1].column("saturated") for k in ("Xavier", "N(0, 1)"))
g_ok, g_sick = (tanh_stats[k][1].column("grad_std") for k in ("Xavier", "N(0, 1)"))
print(f"gradient std, largest / smallest layer: Xavier {g_ok.max() / g_ok.min():.1f}, "
      f"N(0, 1) {g_sick.max() / g_sick.min():.0f}")
assert sat_ok.max() < 0.01                     # healthy: no unit on its flat tails
assert sat_sick[1:].min() > 0.5                # sick: most units saturated from layer 2 on
assert g_ok.max() / g_ok.min() < 2             # gradients of similar size in every layer …
assert g_sick.max() / g_sick.min() > 10        # … or differing by more than 10×

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
for ax, name in zip(axes, ("Xavier", "N(0, 1)")):
    net, _ = tanh_stats[name]
    outputs, _ = cl.diagnostics.trace(net, X_train)
    acts = [out for layer, out in zip(net.layers, outputs) if isinstance(layer, cl.Tanh)]
    sat = 100 * tanh_stats[name][1].column("saturated")
    cl.plots.plot_layer_histograms(acts, ax=ax, labels=[f"tanh {i + 1}" for i in range(len(acts))],
                                   range=(-1, 1), xlabel="activation",
                                   title=f"tanh net, init {name}: up to {sat.max():.0f} % saturated")
    ax.legend(fontsize=7, loc="upper center")
    ax.title.set_fontsize(10)
xs = np.arange(len(dead_good))
axes[2].bar(xs - 0.2, 100 * dead_good, 0.4, color="tab:green", label=f"lr {lr_good:.3g} (good)")
axes[2].bar(xs + 0.2, 100 * dead_sick, 0.4, color="tab:orange", label=f"lr {lr_plateau:.3g} (plateau)")
for x, d0, d1 in zip(xs, dead_good, dead_sick):
    axes[2].text(x - 0.2, 100 * d0 + 1, f"{100 * d0:.0f} %", ha="center", fontsize=8)
    axes[2].text(x + 0.2, 100 * d1 + 1, f"{100 * d1:.0f} %", ha="center", fontsize=8)
axes[2].set(xticks=xs, xticklabels=[f"ReLU {i + 1}" for i in xs], ylabel="dead units (%)",
            ylim=(0, 100), title="ReLU net after the scan: dead units")
axes[2].title.set_fontsize(10)
axes[2].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6 · The update-to-weight ratio
#
# One number per weight matrix and step says whether the learning rate suits that layer:
#
# $$\text{ratio} = \frac{\lVert \Delta W \rVert}{\lVert W \rVert},$$
#
# the size of this step's update relative to the weights it changes. A rule of thumb (CS231n;
# Karpathy's makemore part 3): about $10^{-3}$ is healthy. Much smaller — the weights barely
# move, learning is too slow; much larger — each step rewrites a large part of the weights,
# which is unstable. `cl.fit` records the ratio of every weight matrix every few steps
# (`History.update_ratios`), and `cl.plots.plot_update_ratios` draws $\log_{10}$ of it with the
# line at $-3$.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
cl.plots.plot_update_ratios(runs[lr_good], ax=axes[0], title=f"lr = {lr_good:.3g} (good)")
cl.plots.plot_update_ratios(runs[lr_tiny], ax=axes[1], title=f"lr = {lr_tiny:.3g} (too low)")
for ax in axes[:2]:
    ax.set_ylim(-6.5, 0.5)
    ax.title.set_fontsize(10)
ok = [lr for lr, r in runs.items() if not r.exploded]
ratios = np.array([runs[lr].median_ratio() for lr in ok])
for lr, r in zip(ok, ratios):
    axes[2].plot(lr, r, "o", color=pr.GUIDE[runs[lr].verdict][2])
axes[2].axhspan(1e-4, 1e-2, color="tab:green", alpha=0.08, label="1e-3 within a factor of 10")
axes[2].axhline(1e-3, color="k", ls="--", lw=1)
axes[2].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="median ‖ΔW‖ / ‖W‖ (hidden layers)",
            title="every completed run of the scan, coloured by verdict")
axes[2].title.set_fontsize(10)
axes[2].legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %%
for lr in (lr_tiny, lr_flat, lr_good, lr_plateau):
    print(f"lr {lr:8.3g} ({runs[lr].verdict:7}): median update/weight ratio {runs[lr].median_ratio():.1e}")
assert 1e-4 < runs[lr_good].median_ratio() < 1e-2             # a good rate: within 10× of 1e-3
assert runs[lr_tiny].median_ratio() < 1e-4               # a tiny rate: more than 10× below
assert all(1e-4 < runs[lr].median_ratio() < 1e-2 for lr in ok if runs[lr].verdict == "good")
plateau_r = [runs[lr].median_ratio() for lr in ok if runs[lr].verdict == "plateau"]
good_r = [runs[lr].median_ratio() for lr in ok if runs[lr].verdict == "good"]
assert min(plateau_r) > max(good_r) and max(plateau_r) > 1e-2  # plateau rates: above the good ones
assert np.all(np.diff(np.log10(ratios)) > -0.05)              # larger rate, larger updates
slow_in_band = [lr for lr in ok if runs[lr].verdict == "flat" and 1e-4 < runs[lr].median_ratio() < 1e-2]
print(f"'too low' rates whose ratio is nevertheless inside the band: {', '.join(f'{lr:.2g}' for lr in slow_in_band)}")
assert len(slow_in_band) >= 3                                 # the caveat below

# %% [markdown]
# The ratio grows with the rate; every "good" verdict of the scan sits inside the factor-of-10
# band around $10^{-3}$, the plateau rates lie above all of them (at and beyond the band's top
# edge), the slowest rates far below. Three honest caveats. The band also holds the upper half
# of the "too low" rates: within 8 epochs they were too slow, although their updates look
# normal — the ratio is a coarse check and does not replace the curve. The output layer starts
# with weights scaled down by 0.1, so its ratio starts high and falls as its weights grow (left
# panel, "4.W"). And the ratio of a good run falls during training as the weights grow (left
# panel), so where in the run you look matters. The rule is an order-of-magnitude check, most
# useful for spotting a layer that is off by 100× from the others.
#
# ## 7 · Explore: the learning-rate scanner
#
# The slider moves over the 21 rates of the scan (precomputed above, so a move only redraws).
# Left: the run of the chosen rate (thin: per step; thick: moving average) over all the others
# in grey; its status (`ok`, `exploded at step N`, `too slow`) and the reading guide's verdict
# are in the title. Right: its update-to-weight ratios per weight matrix, with $10^{-3}$ and the
# factor-10 band.
#
# Things to try:
#
# 1. Start at $10^{-5}$ and step up: watch the curve go from flat to steady, and the ratios climb
#    towards the band at the same time.
# 2. Find the first rate whose curve ends *above* a lower rate's curve: the plateau begins.
#    Where are its ratios?
# 3. Step into the red: how many steps does the run last? Why is the ratio of the explosive step
#    close to 1?

# %% tags=["nbval-ignore-output"]
display(pr.lr_scanner(lr=lr_good, runs=runs))

# %% [markdown]
# ## 8 · Which hyperparameters to tune first
#
# A network has many knobs; a budget has few runs. Spend them in order of how much each knob
# usually matters:
#
# 1. **the learning rate** — by far the most important; it decides between no progress, good
#    progress and divergence (section 2: validation accuracy from 0.18 to 0.97 across the grid);
# 2. **its schedule** (decay, warm-up; notebook 06);
# 3. **the regularization strength** (L2 $\lambda$ or weight decay; notebook 07);
# 4. **the dropout rate** (notebook 05);
# 5. **the width** of the layers;
# 6. **the depth**.
#
# The order is a prior from experience (Bengio 2012, *Practical recommendations for
# gradient-based training of deep architectures*), not a law: it tells you what to search over
# first, and with which range. Section 12 measures the width's effect against the rate's.
#
# ## 9 · Sample rates and strengths on a log scale
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
log_draws = cl.search.log_uniform(1e-6, 1e-1, size=draws, rng=1)       # 10 ** uniform(-6, -1)
lin_draws = np.random.default_rng(2).uniform(1e-6, 1e-1, size=draws)    # the mistake
f_log, f_lin = pr.decade_fractions(log_draws), pr.decade_fractions(lin_draws)
decades = [f"[1e{k}, 1e{k + 1})" for k in range(-6, -1)]
for name, f_lo, f_li in zip(decades, f_log, f_lin):
    print(f"{name:13}  10**uniform(-6,-1): {f_lo:6.1%}   uniform(1e-6,1e-1): {f_li:7.2%}")
assert np.allclose(f_log, 0.2, atol=0.01)                 # every decade gets its fifth
assert abs(f_lin[-1] - 0.9) < 0.01                        # the top decade takes 90 %
assert abs(f_lin[:3].sum() - 0.01) < 0.002              # below 1e-3: about 1 in 100 …
assert f_lin[:2].sum() < 0.002                            # … below 1e-4: about 1 in 1,000

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.3))
xs = np.arange(len(decades))
ax.bar(xs - 0.2, f_log, 0.4, label="10 ** uniform(−6, −1)")
ax.bar(xs + 0.2, f_lin, 0.4, label="uniform(1e-6, 1e-1)")
ax.set(xticks=xs, xticklabels=decades, xlabel="decade of the sampled learning rate",
       ylabel="share of 100,000 draws", title="log-uniform sampling gives every decade the same share")
ax.title.set_fontsize(10)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# > **A misprint to correct.** A widely copied lecture recipe samples the learning rate as
# > `10 ** uniform(-3, 6)`. Taken literally that draws rates between $10^{-3}$ and $10^{6}$:
# > two thirds of them above 1, where every network of this course explodes at the first step
# > (section 2). The exponents were meant to be negative — e.g. `10 ** uniform(-6, -3)` for rates
# > between $10^{-6}$ and $10^{-3}$ — and the range should be set around what a scan showed.

# %%
misprint = 10 ** np.random.default_rng(3).uniform(-3, 6, size=draws)
print(f"10 ** uniform(-3, 6): {np.mean(misprint > 1):.1%} of the draws are above 1, "
      f"the largest is {misprint.max():.2g}")
assert abs(np.mean(misprint > 1) - 2 / 3) < 0.01

# %% [markdown]
# ## 10 · Random search beats grid search when few hyperparameters matter
#
# A grid of $n$ values per axis over $d$ hyperparameters costs $n^d$ runs and tries only $n$
# distinct values of each. If one hyperparameter matters and the others barely do — the usual
# case (section 8) — most of the grid's runs repeat the same few values of the one that matters.
# $N$ random trials try $N$ distinct values of *every* hyperparameter. That is the argument and
# the picture of Bergstra & Bengio (2012), reproduced here with `cl.search` on a 2-D objective
# to maximise: $f(x, y) = g(x) + h(y)$ with a narrow bump $g$ of height 1 in the important $x$
# and a shallow one of height 0.05 in $y$ (`pr.toy_objective`). Both searches get 9 trials. The
# curves above and right of each square are $g$ and $h$, the **marginals**, with the values
# each search tried marked on them.

# %%
grid = cl.search.grid_search(pr.toy_objective, pr.TOY_SPACE, points_per_axis=3, maximize=True)
rand = cl.search.random_search(pr.toy_objective, pr.TOY_SPACE, n_trials=9, rng=0, maximize=True)
print("grid:  ", grid)
print("random:", rand)
distinct = {name: len(set(np.round(r.values("x"), 9))) for name, r in (("grid", grid), ("random", rand))}
print("distinct values of the important x:", distinct)
assert len(grid.trials) == len(rand.trials) == 9
assert distinct == {"grid": 3, "random": 9}

fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
pr.draw_search(grid, axes[0], "grid, 3 × 3")
pr.draw_search(rand, axes[1], "random, 9 trials")
fig.subplots_adjust(left=0.06, right=0.9, top=0.72, bottom=0.1, wspace=0.45)
plt.show()

# %% [markdown]
# One random search can be unlucky, so compare the **average** over many seeds: 1,000 random
# searches of 9 trials against the (deterministic) 3 × 3 grid.

# %%
best_random = np.array([cl.search.random_search(pr.toy_objective, pr.TOY_SPACE, 9, rng=seed,
                                                maximize=True).best["score"] for seed in range(1000)])
grid_best = grid.best["score"]
print(f"grid best {grid_best:.3f}; random best: mean {best_random.mean():.3f}, "
      f"better than the grid in {np.mean(best_random > grid_best):.1%} of 1,000 seeds")
assert best_random.mean() > grid_best + 0.4
assert np.mean(best_random > grid_best) > 0.9

# %% [markdown]
# The grid's three values of $x$ are 0, 0.5 and 1, and the bump at 0.7 falls between them; no
# amount of care on the unimportant $y$ axis helps. A finer grid would find it — at $n^2$ runs.
# With more hyperparameters the grid's waste grows exponentially, the random search's does not.
#
# ## 11 · Coarse → fine, on the digits
#
# A real search runs in stages. **Coarse**: wide log ranges, short runs (a few epochs are
# enough to separate hopeless settings from promising ones). **Fine**: a narrower range around
# the best coarse trials, longer runs. After each stage, check that the best value is **not at
# the edge of its range**: if it is, the optimum may lie outside and the range must be widened
# in that direction (`SearchResult.at_edge`).
#
# Here: the learning rate and the L2 strength $\lambda$ of a 64 → 100 → 10 network, both
# log-uniform; 20 trials of 3 epochs, then 20 trials of 6 epochs in the range spanned by the
# five best coarse trials (widened 2× on each side, `pr.narrow`); the score is validation
# accuracy.

# %%
def val_accuracy(lr, lam, epochs):
    net = pr.make_mlp(widths=(100,), rng=0)
    hist = cl.fit(net, loss_fn, cl.Adam(net.parameters(), lr=lr), X_train, y_train, epochs=epochs,
                  val=(X_val, y_val), regularizer=cl.L2(lam), rng=0, ratio_every=0, progress=False)
    return 0.0 if hist.exploded else hist.val_acc[-1]


coarse_space = {"lr": LogUniform(1e-6, 1.0), "lam": LogUniform(1e-6, 1.0)}
coarse = cl.search.random_search(lambda lr, lam: val_accuracy(lr, lam, 3), coarse_space, 20,
                                 rng=1, maximize=True)
fine_space = pr.narrow(coarse, coarse_space, top=5)
fine = cl.search.random_search(lambda lr, lam: val_accuracy(lr, lam, 6), fine_space, 20,
                               rng=2, maximize=True)
print("coarse:", coarse, "| at the edge:", coarse.at_edge(coarse_space))
print("fine space:", fine_space)
print("fine:  ", fine, "| at the edge:", fine.at_edge(fine_space))
assert fine.at_edge(fine_space) == []                  # the best is inside the fine range
assert fine.best["score"] >= coarse.best["score"]
assert fine_space["lr"].high / fine_space["lr"].low < 1e3     # under 3 decades wide (coarse: 6)

# %% [markdown]
# What `at_edge` catches: suppose the coarse range had stopped at $\mathrm{lr} = 10^{-3}$ (a
# guess some tutorials start from). Then the best trial in it sits at its top edge, and the
# check says to widen the range upwards. (It also flags $\lambda$, at its *lower* edge: among
# these ten trials the weakest penalty won. For a strength that can mean "extend the range
# down" or simply "regularization is not what limits these short runs" — the fine stage above
# shows the second.)

# %%
low_space = {"lr": LogUniform(1e-6, 1e-3), "lam": coarse_space["lam"]}
low = cl.search.SearchResult([t for t in coarse.trials if t["params"]["lr"] < 1e-3], maximize=True)
print(low, "| at the edge:", low.at_edge(low_space))
assert "lr" in low.at_edge(low_space)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, name in zip(axes, ("lr", "lam")):
    ax.axvspan(fine_space[name].low, fine_space[name].high, color="tab:blue", alpha=0.08,
               label="fine range")
    ax.plot(coarse.values(name), coarse.scores(), "o", color="0.55", label="coarse: 3 epochs")
    ax.plot(fine.values(name), fine.scores(), "o", color="tab:blue", label="fine: 6 epochs")
    ax.plot(fine.best["params"][name], fine.best["score"], "*", color="tab:red", ms=14, label="best")
    ax.set(xscale="log", xlabel="learning rate" if name == "lr" else "L2 strength λ")
axes[0].set(ylabel="validation accuracy", ylim=(0, 1.02))
axes[0].legend(fontsize=8, loc="lower left")
fig.suptitle("coarse → fine: the learning rate decides; λ hardly matters up to about 1e-3", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel is section 8 again: the score rises and falls with the learning rate over
# four decades, while across most of the six decades of $\lambda$ it is flat, until $\lambda$
# becomes large (short runs on this data overfit little, so there is little to regularize).
# Had we spent the same 40 runs on a grid, at most $\sqrt{40} \approx 6$ learning rates would
# have been tried. Check the title's claim one knob at a time, from the best setting found:

# %%
best = fine.best["params"]
by_lam = {lam: val_accuracy(best["lr"], lam, 6) for lam in (1e-6, 1e-4, 1e-3, 1e-2, 1.0)}
by_lr = {lr: val_accuracy(lr, best["lam"], 6) for lr in (1e-5, 1e-3, 1e-1)}
print("λ varied, best lr: ", {f"{k:g}": round(v, 3) for k, v in by_lam.items()})
print("lr varied, best λ: ", {f"{k:g}": round(v, 3) for k, v in by_lr.items()})
small_lams = [by_lam[lam] for lam in (1e-6, 1e-4, 1e-3)]
assert max(small_lams) - min(small_lams) < 0.02        # λ from 1e-6 to 1e-3: hardly matters
assert by_lam[1.0] < 0.5                               # a very strong penalty does
assert max(by_lr.values()) - min(by_lr.values()) > 0.3 # the rate decides
#
# ## 12 · How wide? Rules of thumb, tested
#
# Three rules for the size of a hidden layer are repeated in many texts (popularised by
# J. Heaton's *Introduction to Neural Networks for Java*, 2008):
#
# 1. between the size of the input and the output layer — here between 10 and 64;
# 2. about 2/3 of the input size plus the output size — $\frac23 \cdot 64 + 10 \approx 53$;
# 3. less than twice the input size — under 128.
#
# Test them: one hidden layer of each width from 4 to 512, 10 epochs of Adam at a rate from the
# good band, validation accuracy averaged over 3 seeds (so that one lucky initialization does
# not decide).

# %%
widths = (4, 8, 16, 32, 53, 64, 128, 256, 512)


def width_accuracy(width, seed):
    net = pr.make_mlp(widths=(width,), rng=seed)
    hist = cl.fit(net, loss_fn, cl.Adam(net.parameters(), lr=3e-3), X_train, y_train, epochs=10,
                  val=(X_val, y_val), rng=seed, ratio_every=0, progress=False)
    return hist.val_acc[-1]


width_acc = np.array([[width_accuracy(w, seed) for seed in range(3)] for w in widths]).mean(axis=1)
for w, a in zip(widths, width_acc):
    print(f"width {w:4}: validation accuracy {a:.3f}")
best_w = widths[int(np.argmax(width_acc))]
rule2 = width_acc[widths.index(53)]
print(f"best width {best_w} ({width_acc.max():.3f}); the 2/3 rule's 53: {rule2:.3f}")
assert best_w >= 128                                  # outside rules 1 and 2, at or past rule 3's limit
assert rule2 > 0.9                                    # the 2/3 rule's width works …
assert width_acc.max() - rule2 > 0.02                 # … but stopping there costs accuracy
assert width_acc.max() - width_acc[widths.index(8)] > 0.1    # rule 1's low end underfits

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.5))
ax.axvspan(10, 64, color="tab:green", alpha=0.1, label="rule 1: between output (10) and input (64)")
ax.axvline(53, color="tab:green", ls="--", lw=1.2, label="rule 2: 2/3 · 64 + 10 ≈ 53")
ax.axvline(128, color="tab:red", ls=":", lw=1.5, label="rule 3: under 2 · 64 = 128")
ax.plot(widths, width_acc, "o-", color="k", label="mean of 3 seeds")
ax.set(xscale="log", xticks=widths, xticklabels=[str(w) for w in widths], xlabel="hidden width",
       ylabel="validation accuracy", title="one hidden layer, 10 epochs: wider keeps helping")
ax.minorticks_off()
ax.title.set_fontsize(10)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %%
lr_spread = max(r.val_acc for r in runs.values() if not r.exploded) - min(
    r.val_acc for r in runs.values() if not r.exploded)
w_sel = [widths.index(w) for w in (32, 512)]
width_spread = width_acc[w_sel[1]] - width_acc[w_sel[0]]
print(f"validation accuracy moves by {lr_spread:.2f} across the learning-rate scan, "
      f"by {width_spread:.3f} from width 32 to 512")
assert lr_spread > 5 * width_spread

# %% [markdown]
# The rules are starting points, not answers. Rule 1's lower end (widths 8–16) clearly
# underfits; rule 2's 53 works, but about 3 points below the best; and the best widths lie
# beyond rule 3's limit: on this data more width keeps helping (ever more slowly), and the cost
# of a wider layer is compute, not accuracy, as long as overfitting is controlled by
# regularization (notebook 07: rather a big network regularized well than a small one). We
# also kept the learning rate fixed: strictly, every width deserves its own. And once the
# width is in a sensible range it matters much less than the learning rate: a sixteen-fold
# change of width moved the accuracy by about 5 points, the learning rate by almost 80.
#
# ## 13 · The default recipe, end to end, with every diagnostic on
#
# To finish the course, a sensible default for a new problem of this kind:
#
# * **He initialization** and **ReLU** (or ELU) units (notebooks 01 and 02);
# * **BatchNorm** after each hidden affine layer (notebook 04) — which makes the rest much less
#   sensitive to the scales of the weights and the rate;
# * **dropout** after each hidden activation (notebook 05), a moderate 0.2 here;
# * **Adam** (notebook 06), with a cosine schedule and a short warm-up;
# * early stopping on the validation loss (notebook 07);
# * and then **tune the learning rate** — the one hyperparameter that must be searched.
#
# Before training: the sanity check of section 1.

# %%
def recipe_net(width=128, p=0.2, rng=0):
    """He init, Linear → BatchNorm → ReLU → Dropout, twice, then a small output layer."""
    g = np.random.default_rng(rng)
    layers, fan_in = [], 64
    for i in range(2):
        layers += [cl.Linear(fan_in, width, init="he_normal", bias=False, rng=g),   # BN's β is the bias
                   cl.BatchNorm1d(width), cl.ReLU(), cl.Dropout(p, rng=rng + 1 + i)]
        fan_in = width
    layers.append(cl.Linear(fan_in, 10, rng=g))
    layers[-1].W.data *= 0.1
    return cl.Sequential(*layers)


net = recipe_net()
print(net)
first = cl.evaluate(net, loss_fn, X_train, y_train)[0]
print(f"first loss {first:.3f} (ln 10 = {np.log(10):.3f})")
assert abs(first - np.log(10)) < 0.02

# %% [markdown]
# Tune the learning rate with a scan over half-decades, 8 epochs per rate, and pick the rate
# with the lowest **validation loss** (on 359 validation digits one example is 0.3 points of
# accuracy, so the loss, which also counts how confident each prediction is, separates close
# rates more reliably):

# %%
recipe_lrs = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
recipe_scan = {}
for lr in recipe_lrs:
    net = recipe_net()
    hist = cl.fit(net, loss_fn, cl.Adam(net.parameters(), lr=lr), X_train, y_train, epochs=8,
                  val=(X_val, y_val), rng=0, ratio_every=0, progress=False)
    recipe_scan[lr] = np.inf if hist.exploded else hist.val_loss[-1]
    print(f"lr {lr:6g}: {hist.status:9}  validation loss {recipe_scan[lr]:.3f}, accuracy {hist.val_acc[-1]:.3f}")
lr_recipe = min(recipe_scan, key=recipe_scan.get)
print(f"chosen: lr = {lr_recipe:g}")
assert lr_recipe not in (recipe_lrs[0], recipe_lrs[-1])        # not at the edge of the grid

# %% [markdown]
# Now the real run: 30 epochs at most, cosine decay after a one-epoch warm-up, early stopping
# with patience 5 (restoring the best weights), update ratios recorded.

# %%
net = recipe_net()
opt = cl.Adam(net.parameters(), lr=lr_recipe)
steps_per_epoch = int(np.ceil(len(X_train) / 64))
hist = cl.fit(net, loss_fn, opt, X_train, y_train, epochs=30, val=(X_val, y_val), rng=0,
              scheduler=cl.CosineWarmupLR(opt, warmup=steps_per_epoch, total=30 * steps_per_epoch),
              schedule_every="step", early_stopping=cl.EarlyStopping(patience=5), progress=False)
print(hist, "| best epoch:", hist.best_epoch)
stats = cl.diagnostics.layer_stats(net, X_train, loss_fn, y_train)
print(stats)
for hint in cl.diagnostics.hints(hist, stats):
    print("hint:", hint)

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
cl.plots.plot_curves(hist, axes=axes[:2])
axes[0].set_yscale("log")
cl.plots.plot_update_ratios(hist, ax=axes[2], title="update-to-weight ratios (cosine decay)")
axes[2].title.set_fontsize(10)
axes[2].set_ylim(-6, 0)
fig.suptitle(f"the default recipe: BN + ReLU + dropout 0.2, Adam lr {lr_recipe:g} with cosine decay, "
             f"early stopping (best epoch {hist.best_epoch})", fontsize=11)
fig.tight_layout()
plt.show()

# %%
_, train_acc = cl.evaluate(net, loss_fn, X_train, y_train)
_, val_acc = cl.evaluate(net, loss_fn, X_val, y_val)
ratios = cl.diagnostics.update_ratio_summary(hist)
print(f"train {train_acc:.3f}, validation {val_acc:.3f}; median update ratios "
      + ", ".join(f"{k} {v:.1e}" for k, v in ratios.items()))
assert train_acc - val_acc < 0.05                               # small gap
assert all(1e-4 < r < 1e-2 for r in ratios.values())            # updates near 1e-3 of the weights
assert np.nanmax(stats.column("dead")) < 0.05                   # no dead ReLUs
assert not any(w in " ".join(cl.diagnostics.hints(hist, stats)) for w in ("exploded", "dead", "saturated"))

# %% [markdown]
# Every diagnostic is quiet: the first loss was $\ln 10$, the rate came from a scan and is not
# at its edge, the training and validation curves stay close, the update ratios sit around
# $10^{-3}$, no unit is dead. Only now, once, the **test set** — it has not been used for any
# decision above:

# %%
test_loss, test_acc = cl.evaluate(net, loss_fn, X_test, y_test)
print(f"test accuracy {test_acc:.3f} (test loss {test_loss:.3f}) on {len(X_test)} digits never used before")
assert test_acc >= 0.95

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
# 2. In a scan, $\mathrm{lr} = 3\cdot10^{-2}$ reaches a lower loss than $10^{-3}$ after one epoch,
#    but after eight epochs $10^{-3}$ is lower and still falling while $3\cdot10^{-2}$ has been
#    flat since epoch 2. Which would you pick, and how could you get the best of both?
#
# <details><summary>Answer</summary>
#
# $3\cdot10^{-2}$ shows "fast drop, then plateau": too high for the end of training. Pick a rate
# from the steady-descent band — and to get the fast start too, use a schedule: begin near the
# top of the good band and decay the rate (step, exponential or cosine decay), so the loss can
# settle below the plateau that the high rate would hold it at. Also look inside: a plateau at a
# high rate often comes with dead ReLUs (section 5).
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
#    learning rate matters. How many distinct learning rates do a 3 × 3 × 3 grid and 27 random
#    trials test?
#
# <details><summary>Answer</summary>
#
# The grid: 3 (each repeated 9 times with settings of the other two that make no difference).
# Random search: 27, all distinct. That is why random search finds better settings when only a
# few hyperparameters matter (Bergstra & Bengio 2012) — and it never needs to know which ones
# those are.
# </details>
#
# 5. After 20 epochs, training accuracy 99.8 %, validation 88 %, and the update-to-weight ratio
#    of the first layer is $10^{-6}$ while the others are near $10^{-3}$. What do you change?
#
# <details><summary>Answer</summary>
#
# Two separate findings. The gap of 12 points is overfitting: regularize more (L2 / weight decay,
# dropout, early stopping, more data or augmentation) — not a smaller network. The tiny ratio
# says the first layer hardly learns: look at its gradient and its inputs (unnormalized inputs?
# a saturated or dead layer right above it?) rather than raising the global rate, which would
# push the other layers out of their healthy range.
# </details>
#
# ## Summary
#
# * **Before training**: the first loss is $\ln K$ with regularization off (scale the output
#   layer down); turning regularization up raises the loss; the network memorises 20 examples
#   (100 % training accuracy). Each check costs seconds and rules out a class of bugs.
# * **Learning-rate scan**: a few epochs per rate on a log grid; `cl.fit` stops a run whose loss
#   exceeds 3× its first value. Read the curves: flat → too low; explodes → too high; fast drop
#   then plateau → too high; steady descent → good.
# * **Flat, then a sudden drop**: suspect the initialization (too small for the depth), not the
#   learning rate.
# * **Train vs validation**: a big gap → regularize more; no gap and both low → add capacity.
# * **Inside the network**: per-layer mean, std, saturated % and dead % of activations, and the
#   size of the gradients, locate the problem (dead ReLUs after a too-high rate, saturated tanh
#   after a too-large initialization). The **update-to-weight ratio** $\lVert\Delta W\rVert /
#   \lVert W\rVert$ should be around $10^{-3}$, within about a factor of 10; plot its
#   $\log_{10}$.
# * **Hyperparameters, in order of importance**: learning rate, its schedule, regularization
#   strength, dropout rate, width, depth. Sample rates and strengths **log-uniformly**,
#   `10 ** uniform(-6, -1)`, never `uniform(1e-6, 1e-1)` (and `10 ** uniform(-3, 6)` is a
#   misprint for negative exponents). **Random search** beats grid search when few
#   hyperparameters matter. Go **coarse → fine**, and widen the range when the best value is at
#   its edge.
# * **Width rules of thumb** (between input and output size; 2/3 of input + output; under twice
#   the input) are starting points: on the digits the best width was beyond all three.
# * **The default recipe**: He init, ReLU or ELU, BatchNorm, dropout, Adam (with a schedule),
#   then tune the learning rate — here it reaches over 95 % test accuracy on the digits with every
#   diagnostic quiet.
#
# **Next:** practise in the exercise notebook
# [exercises/08_training_in_practice.ipynb](../exercises/08_training_in_practice.ipynb): run the
# sanity checks on a network with planted bugs, read scans, and search hyperparameters on a
# budget. This is the last notebook of the course — from here on, train your own networks with
# the diagnostics on.
