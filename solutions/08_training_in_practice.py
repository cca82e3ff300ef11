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
# # Exercises 08 · Training in practice
#
# **What you will practise**
#
# 1. the first sanity check as a reusable routine: the first loss against $\ln K$, with
#    regularization off, and the penalty on top;
# 2. the second: overfitting a tiny subset until every example is learned;
# 3. sampling learning rates on a log scale, checked statistically;
# 4. a random search over the learning rate and the dropout rate that returns the best trial;
# 5. reading a learning-rate scan: too low, too high or good;
# 6. Karpathy's batch-independence test, written by hand: find the layer that mixes examples.
#
# **Prerequisites.** The lecture
# [08 · Training in practice](../notebooks/08_training_in_practice.ipynb): sections 1 and 2 (the
# sanity checks, batch independence among them), 3 (the learning-rate scan and its reading
# guide), 10 (log-scale sampling) and 11–12 (random search, coarse to fine).
#
# **How the checks work.** Each exercise cell contains the lines `# YOUR CODE HERE` and
# `raise NotImplementedError()`: replace them with your code, run the cell, then run the check
# cell below it. A check calls your function on fixed inputs and prints one line with a ✓, or
# stops with a hint about the most likely mistake and the exact call it made, so that you can
# repeat the call in a new cell. If your own code raises an error, you see that error
# unchanged. A Markdown cell saying "YOUR ANSWER HERE" asks for a short written answer; no
# check reads it, so write it for yourself (or for your instructor).

# %%
import numpy as np
import matplotlib.pyplot as plt
import course_lib as cl
from course_lib import checks

_ = cl.set_seed()                 # the default generator, from COURSE_SEED
SEED = cl.seeds(1)[0]             # the seed of the demonstrations below (0 under COURSE_SEED=0)

# %% [markdown]
# The data and the network of the lecture: the digits, centred with the **training** mean, and a
# ReLU MLP 64 → 100 → 100 → 10 with He initialization whose output layer is scaled by 0.1
# (so that the first logits are small). `make_mlp` builds a fresh one on every call, optionally
# with dropout after each hidden ReLU.

# %%
split = cl.data.load_digits()
center = cl.data.Center().fit(split.X_train)
X_train, y_train = center.transform(split.X_train), split.y_train
X_val, y_val = center.transform(split.X_val), split.y_val
loss_fn = cl.SoftmaxCrossEntropy()


def make_mlp(widths=(100, 100), p=0.0, last_scale=0.1, rng=SEED):
    """ReLU MLP 64 -> widths -> 10, He init, Dropout(p) after each hidden ReLU if p > 0."""
    g = np.random.default_rng(rng)
    layers, fan_in = [], 64
    for i, width in enumerate(widths):
        layers += [cl.Linear(fan_in, width, rng=g), cl.ReLU()]
        if p > 0:
            layers.append(cl.Dropout(p, rng=rng + 1 + i))
        fan_in = width
    layers.append(cl.Linear(fan_in, 10, rng=g))
    layers[-1].W.data *= last_scale
    return cl.Sequential(*layers)


print(make_mlp())

# %% [markdown]
# ## Exercise 1 · Sanity check: the first loss
#
# Write `first_loss_check(make_model, X, y, num_classes, regularizer, tol=0.05)`. Build **one**
# fresh model with `make_model()` and return a tuple `(loss, ok, loss_with_penalty)`:
#
# * `loss`: the mean softmax cross-entropy of the untrained model on `(X, y)`
#   (`cl.SoftmaxCrossEntropy().forward(model.forward(X), y)`), with regularization **off**;
# * `ok`: `True` if $|\text{loss} - \ln K| \le$ `tol`, with $K$ = `num_classes`, else `False`;
# * `loss_with_penalty`: the same loss plus the penalty `regularizer.value(model.parameters())`
#   (a `cl.L2`, say) — sanity check 2: turning regularization on must raise the loss.
#
# Pitfalls the check looks for: the penalty inside `loss` or `ok` (a healthy model then fails
# check 1); `np.log10` or `np.log2` instead of the natural log; $K$ taken from the batch (a batch
# need not contain every class); a one-sided comparison (a loss far *below* $\ln K$ is just as
# suspicious).

# %% nbgrader={"grade": false, "grade_id": "first_loss_check", "locked": false, "schema_version": 3, "solution": true}
def first_loss_check(make_model, X, y, num_classes, regularizer, tol=0.05):
    """(first data loss, whether it is within tol of ln K, the loss plus the penalty)."""
    ### BEGIN SOLUTION
    model = make_model()
    loss = cl.SoftmaxCrossEntropy().forward(model.forward(X), y)
    ok = bool(abs(loss - np.log(num_classes)) <= tol)
    return loss, ok, loss + regularizer.value(model.parameters())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_first_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_first_loss(first_loss_check)

# %% [markdown]
# Your routine on three set-ups of the lecture's network: as built, with its output layer left
# 100 times larger (a scale of 10 instead of 0.1), and as built with a strong penalty:

# %%
setups = {"output layer x 0.1, L2 1e-3": (lambda: make_mlp(), cl.L2(1e-3)),
          "output layer x 10,  L2 1e-3": (lambda: make_mlp(last_scale=10.0), cl.L2(1e-3)),
          "output layer x 0.1, L2 1e-1": (lambda: make_mlp(), cl.L2(1e-1))}
for name, (factory, reg) in setups.items():
    loss, ok, with_penalty = first_loss_check(factory, X_train, y_train, 10, reg)
    print(f"{name}: first loss {loss:.3f} (ln 10 = {np.log(10):.3f}) -> ok = {ok}; "
          f"with the penalty {with_penalty:.3f}")

# %% [markdown]
# ## Exercise 2 · Sanity check: overfit a tiny subset
#
# Write `overfit_tiny(make_model, X, y, n=20, epochs=100, lr=3e-3)`: build a fresh model with
# `make_model()`, train it with `cl.Adam(model.parameters(), lr=lr)` on the **first `n`**
# examples only, full-batch (`batch_size=n`), for `epochs` epochs, without any regularization
# (`cl.fit(..., progress=False)` does the loop). Return `(model, train_acc)`: the trained model
# and its accuracy on those `n` examples, a fraction between 0 and 1 (`cl.evaluate` returns the
# mean loss and the accuracy).
#
# The check trains your routine on 20 inputs with **random** labels: there is nothing to
# generalize, only to memorize, which a healthy network with backpropagation, loss and
# optimizer all correct does easily.

# %% nbgrader={"grade": false, "grade_id": "overfit_tiny", "locked": false, "schema_version": 3, "solution": true}
def overfit_tiny(make_model, X, y, n=20, epochs=100, lr=3e-3):
    """Train a fresh model full-batch on the first n examples; return (model, accuracy on them)."""
    ### BEGIN SOLUTION
    model = make_model()
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.Adam(model.parameters(), lr=lr), X[:n], y[:n],
           epochs=epochs, batch_size=n, progress=False)
    _, train_acc = cl.evaluate(model, cl.SoftmaxCrossEntropy(), X[:n], y[:n])
    return model, train_acc
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_overfit_tiny", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_overfit_tiny(overfit_tiny)

# %% [markdown]
# On the digits:

# %%
tiny_model, tiny_acc = overfit_tiny(make_mlp, X_train, y_train)
val_loss, val_acc = cl.evaluate(tiny_model, loss_fn, X_val, y_val)
print(f"accuracy on the 20 training digits {tiny_acc:.2f}; on the {len(X_val)} validation digits "
      f"{val_acc:.2f} (loss {val_loss:.2f})")

# %% [markdown]
# **Question.** A classmate's network reaches only 40 % on the 20 examples after 100 epochs, and
# 45 % after 1,000. Name three different kinds of bug that can cause this, and for each one a
# quick test from this course that would confirm or rule it out.

# %% [markdown] nbgrader={"grade": true, "grade_id": "overfit_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# * A wrong backward pass (a missing transpose, a sign error, a forgotten mask): gradient-check
#   each layer against centred differences (notebook 03); a relative error above 1e-4 points at
#   the layer.
# * A wrong loss or a loss/label mismatch (labels shifted against the inputs, the gradient of
#   a different loss, a sum where a mean was meant): check the first loss against ln K, and the
#   loss gradient against softmax − onehot on a tiny batch by hand.
# * An update that does not happen or goes the wrong way (zero_grad after backward, a learning
#   rate that is effectively 0, parameters not registered with the optimizer, gradients not
#   reaching some layer): print the update-to-weight ratio per layer (around 1e-3 is healthy; 0
#   means the layer does not learn), or compare the weights before and after one step.
# A model with too little capacity (a 2-unit bottleneck, say) can also fail to memorize; that is
# not a bug, and widening a layer is then the test.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 3 · Sampling learning rates on a log scale
#
# Write `sample_log_uniform(low, high, size, rng)`: `size` values between `low` and `high`
# whose **logarithm** is uniformly distributed, so every decade gets the same share:
#
# $$v = 10^{u}, \qquad u \sim \mathcal U(\log_{10}\text{low},\ \log_{10}\text{high}).$$
#
# Draw from the generator `rng` (`rng.uniform`). The check is statistical: it draws 20,000
# values for two ranges with fixed seeds and compares the distribution of $\log_{10} v$ with the
# uniform one.
#
# Pitfalls: `rng.uniform(low, high)` is uniform on the linear scale and puts 90 % of the draws
# for $(10^{-6}, 10^{-1})$ in the top decade; the widely copied recipe `10 ** uniform(-3, 6)` is
# a misprint (it means negative exponents); `np.log` is the natural log, so `10 ** x` does not
# undo it.

# %% nbgrader={"grade": false, "grade_id": "sample_log_uniform", "locked": false, "schema_version": 3, "solution": true}
def sample_log_uniform(low, high, size, rng):
    """size values with log10 uniform on [log10 low, log10 high]."""
    ### BEGIN SOLUTION
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_log_uniform", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_log_uniform(sample_log_uniform)

# %% [markdown]
# Where 30 learning rates from $(10^{-6}, 10^{-1})$ land, drawn by your sampler and by a linear
# one:

# %%
rng = cl.make_rng(5)
draws = {"log-uniform (yours)": sample_log_uniform(1e-6, 1e-1, 30, rng),
         "uniform(1e-6, 1e-1)": rng.uniform(1e-6, 1e-1, 30)}
fig, ax = plt.subplots(figsize=(7, 2.4))
for row, (name, v) in enumerate(draws.items()):
    ax.plot(v, np.full(v.size, row), "|", ms=18, mew=2)
    print(f"{name:20s}: {np.sum(v < 1e-3):2d} of 30 below 1e-3")
ax.set(xscale="log", xlim=(1e-6, 1e-1), yticks=[0, 1], yticklabels=list(draws), ylim=(-0.6, 1.6),
       xlabel="learning rate (log scale)", title="30 draws each")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 4 · Random search, and the best trial
#
# Write `random_search(objective, n_trials, lr_range, p_range, rng)`. For each of `n_trials`
# trials draw a learning rate **log-uniformly** from `lr_range = (low, high)` (with your
# `sample_log_uniform(low, high, 1, rng)[0]`) and a dropout rate **uniformly** from `p_range`
# (a rate between 0 and 1 is not a scale factor), both from `rng`; call
# `score = objective(lr, p)` (higher is better, e.g. validation accuracy) and record the trial
# as a dict `{"lr": lr, "p": p, "score": score}`.
# Return `(best, trials)`: `trials` is the list of all trials in the order they were run, `best`
# the one with the **highest** score.
#
# Pitfalls: a grid is not a random search (with $n$ trials it tries only about $\sqrt n$
# distinct learning rates); the learning rate sampled on the linear scale; returning the last
# trial, or the one with the lowest score.

# %% nbgrader={"grade": false, "grade_id": "random_search", "locked": false, "schema_version": 3, "solution": true}
def random_search(objective, n_trials, lr_range, p_range, rng):
    """Random search: lr log-uniform, p uniform; returns (best trial, all trials)."""
    ### BEGIN SOLUTION
    trials = []
    for _ in range(n_trials):
        lr = float(sample_log_uniform(lr_range[0], lr_range[1], 1, rng)[0])
        p = float(rng.uniform(p_range[0], p_range[1]))
        trials.append({"lr": lr, "p": p, "score": objective(lr, p)})
    best = max(trials, key=lambda t: t["score"])
    return best, trials
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_random_search", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_random_search(random_search)

# %% [markdown]
# **The search on the digits.** 20 trials; each trains a 64 → 100 → 10 network with dropout
# rate $p$ after the hidden layer for 3 epochs of Adam at rate lr and scores its validation
# accuracy (a run stopped by the explosion guard scores 0). The ranges are deliberately wide:
# lr from $10^{-5}$ to 1, $p$ from 0 to 0.7.

# %%
def val_accuracy(lr, p):
    net = make_mlp(widths=(100,), p=p)
    with np.errstate(over="ignore", invalid="ignore"):      # an exploding run is reported, not warned
        hist = cl.fit(net, loss_fn, cl.Adam(net.parameters(), lr=lr), X_train, y_train, epochs=3,
                      val=(X_val, y_val), rng=SEED, ratio_every=0, progress=False)
    return 0.0 if hist.exploded else hist.val_acc[-1]


best, trials = random_search(val_accuracy, 20, (1e-5, 1.0), (0.0, 0.7), cl.make_rng(0))
print(f"best of {len(trials)} trials: lr = {best['lr']:.3g}, p = {best['p']:.2f}, "
      f"validation accuracy {best['score']:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, name, scale in ((axes[0], "lr", "log"), (axes[1], "p", "linear")):
    ax.plot([t[name] for t in trials], [t["score"] for t in trials], "o", color="tab:blue")
    ax.plot(best[name], best["score"], "*", color="tab:red", ms=14, label="best")
    ax.set(xscale=scale, xlabel="learning rate" if name == "lr" else "dropout rate p")
axes[0].set(ylabel="validation accuracy after 3 epochs", xlim=(1e-5, 1.0))
axes[1].set(xlim=(0, 0.7))
axes[0].legend(fontsize=8)
fig.suptitle("20 random trials", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question.** (1) Which of the two hyperparameters decides the score, judging from the two
# panels? (2) Is the best learning rate at the edge of its range? Describe the next, finer stage
# of the search: which ranges, and what would you change about the runs? (3) With the same
# budget of 20 runs, how many distinct learning rates would a 4 × 5 grid have tried?

# %% [markdown] nbgrader={"grade": true, "grade_id": "search_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) The learning rate: the score climbs from about 0.2 (near chance) below 1e-4 through 0.69 at
# 3e-4 to 0.90–0.96 between about 4e-3 and 0.2, and falls to 0 (exploded) at 0.5 and 1. Across
# the whole range of p, trials with similar learning rates score about the same (the
# p = 0.62 trial at 0.78 is explained by its rate, 2.7e-3): after 3 epochs dropout hardly
# matters.
# (2) No: the best rate, about 0.027, lies well inside the five decades searched, with good
# scores on both sides of it and explosions above 0.2. A finer stage would search lr
# log-uniformly from about 4e-3 to 0.2, where the good trials are, keep p over a wide range
# (0 to 0.6, say), and train each run longer (10 or more epochs instead of 3): a short run
# favours high rates that may later stall on a plateau, and dropout needs time to make a
# difference. After that stage, check again that the best value is not at the edge of the new
# range.
# (3) A 4 × 5 grid tries 4 (or 5) distinct learning rates, each repeated with several values of
# p that barely matter; the random search tried 20.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 5 · Reading a learning-rate scan
#
# A scan trains the same network for a few epochs at each rate of a log grid and records the
# training loss at every step. Write `read_scan(curves)`, which applies the lecture's reading
# guide to a whole scan. `curves` is a dict `lr -> loss` (a 1-D array, one value per step; a run
# stopped by the explosion guard is short and ends above 3× its first loss). Return a dict with
# the same keys and one of the labels `"too low"`, `"good"`, `"too high"` per rate, by these
# rules (the final level of a curve is the mean of its last quarter of steps, at least one
# step: `loss[-max(1, len(loss) // 4):].mean()`):
#
# 1. **explodes** — some loss is above 3× the first one: `"too high"`;
# 2. else **flat** — the final level is still above half of the first loss (it has not even
#    halved): `"too low"`;
# 3. of the remaining rates, the one with the lowest final level is the reference. A rate
#    **higher** than the reference whose final level is more than 3× the reference's **dropped
#    fast, then stalled on a plateau**: `"too high"`;
# 4. every other rate: `"good"` (a rate below the reference that ends higher is slower, not
#    broken).
#
# Do not assume the dict is sorted by rate. The check reads three synthetic scans (the second
# listed from the highest rate down, the third in no order; the third also holds a run that
# spiked above 3× its first loss and came back, and a flat run whose very last value dips);
# here they are:

# %%
from course_lib.checks.practice import example_scans

from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm

norm, cmap = LogNorm(1e-5, 1.0), plt.get_cmap("viridis")
fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.3), sharey=True, layout="constrained")
for ax, scan, title in zip(axes, example_scans(), ("example scan 1", "example scan 2", "example scan 3")):
    for lr in sorted(scan):
        ax.plot(scan[lr], color=cmap(norm(lr)), lw=1.1)
    ax.set(yscale="log", xlabel="step")
    ax.set_title(f"{title} ({len(scan)} rates)", fontsize=10)
axes[0].set_ylabel("training loss (log scale)")
bar = fig.colorbar(ScalarMappable(norm, cmap), ax=axes, pad=0.01, fraction=0.03)
bar.set_label("learning rate", fontsize=9)
plt.show()

# %% nbgrader={"grade": false, "grade_id": "read_scan", "locked": false, "schema_version": 3, "solution": true}
def read_scan(curves):
    """dict lr -> loss curve  ->  dict lr -> "too low" | "good" | "too high"."""
    ### BEGIN SOLUTION
    labels, level = {}, {}
    for lr, loss in curves.items():
        loss = np.asarray(loss, dtype=float)
        if loss.max() > 3 * loss[0]:
            labels[lr] = "too high"
            continue
        final = loss[-max(1, len(loss) // 4):].mean()
        if final > 0.5 * loss[0]:
            labels[lr] = "too low"
        else:
            level[lr] = final
    if level:
        ref = min(level, key=level.get)
        for lr, final in level.items():
            labels[lr] = "too high" if lr > ref and final > 3 * level[ref] else "good"
    return {lr: labels[lr] for lr in curves}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_read_scan", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_read_scan(read_scan)

# %% [markdown]
# **A real scan to read.** The lecture's network, 11 rates from $10^{-5}$ to 1 (two per decade),
# 6 epochs of Adam each, from the same initialization; `cl.fit` stops a run whose loss exceeds
# 3× its first value. Your `read_scan` labels the curves:

# %%
scan = {}
for lr in 10.0 ** np.arange(-5.0, 0.01, 0.5):
    net = make_mlp()
    with np.errstate(over="ignore", invalid="ignore"):
        hist = cl.fit(net, loss_fn, cl.Adam(net.parameters(), lr=lr), X_train, y_train, epochs=6,
                      rng=SEED, ratio_every=0, progress=False)
    scan[float(lr)] = np.array(hist.loss)
labels = read_scan(scan)
colors = {"too low": "tab:blue", "good": "tab:green", "too high": "tab:red"}
fig, ax = plt.subplots(figsize=(7.5, 3.6))
for lr, loss in scan.items():
    if len(loss) > 10:                  # a moving average over 10 steps: the shape, not the noise
        ax.plot(np.arange(9, len(loss)), np.convolve(loss, np.ones(10) / 10, mode="valid"),
                color=colors[labels[lr]], lw=1.5)
    else:
        ax.plot(loss, "x-", color=colors[labels[lr]], lw=1.5)
    print(f"lr {lr:8.2g}: {len(loss):3d} steps, final level {loss[-max(1, len(loss) // 4):].mean():8.4f} "
          f"-> {labels[lr]}")
for label, color in colors.items():
    ax.plot([], [], color=color, label=label)
ax.set(yscale="log", ylim=(3e-3, 30), xlabel="Adam step (mini-batch of 64)",
       ylabel="training loss (moving average)",
       title="a real scan, labelled by your read_scan")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 6 · Which layer mixes the examples?
#
# In a network that treats the examples of a batch separately, example $i$'s output does not
# depend on example $j$'s input: $\partial\, \text{out}_i / \partial x_j = 0$ for $j \ne i$
# (lecture, section 2). Write `find_mixing_layer(model, X)`, which returns the index (from 0) of
# the **first** layer of the `cl.Sequential` `model` that breaks this, or `None` if no layer
# does. Re-build the test yourself with the layers' own backward passes (do not call
# `cl.diagnostics.batch_independence` or `locate_batch_mixing`, which do exactly this):
#
# for k = 0, 1, …, `len(model) - 1`:
#
# 1. take the prefix `model[:k + 1]`, a `cl.Sequential` of the first k + 1 layers (the same
#    layer objects);
# 2. make **one** forward pass of `X` through it;
# 3. build an upstream gradient of the output's shape that is zero except in one row $i$ (say
#    $i = 0$, a row of ones);
# 4. pass it to the prefix's `backward`: what comes back is the gradient of the sum of row $i$
#    of the output with respect to every input row;
# 5. if some row $j \ne i$ of that input gradient is not zero (larger than, say, $10^{-10}$
#    times the largest entry of row $i$, or than $10^{-12}$ when row $i$ is all zero), layer k
#    mixes: return k.
#
# Test the model **in the mode it is given** — do not call `model.train()` or `model.eval()`:
# BatchNorm mixes the batch in training mode only. And compare nothing across two forward
# passes: in training mode every forward pass of a Dropout layer draws a new mask.
#
# The check gives your function five small models, each with a batch `X`: BatchNorm in training
# mode, a layer that centres each feature over the batch, a dropout network that mixes nothing,
# a model whose first layer shifts the rows of the batch by one, and the BatchNorm model in
# eval mode. (`checks.practice.BatchCentre` and `BatchRoll` are the two planted bugs.)

# %% nbgrader={"grade": false, "grade_id": "find_mixing_layer", "locked": false, "schema_version": 3, "solution": true}
def find_mixing_layer(model, X):
    """Index of the first layer whose output for one example depends on another example's
    input (in the model's current mode), or None."""
    ### BEGIN SOLUTION
    for k in range(len(model)):
        prefix = model[:k + 1]
        out = prefix.forward(X)
        dout = np.zeros_like(out)
        dout[0] = 1.0
        dx = prefix.backward(dout)
        own, cross = np.abs(dx[0]).max(), np.abs(dx[1:]).max()
        if cross > max(1e-10 * own, 1e-12):
            return k
    return None
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_find_mixing_layer", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_find_mixing_layer(find_mixing_layer)

# %% [markdown]
# Your test on the lecture's recipe network (Linear → BatchNorm → ReLU → Dropout, twice) in both
# modes, and on a network with the planted batch-centring layer:

# %%
from course_lib.checks.practice import BatchCentre
from course_lib.widgets.practice_experiments import recipe_net

net = recipe_net(SEED)
batch = X_train[:32]
print(f"recipe network, training mode: layer {find_mixing_layer(net, batch)} ({net[1]!r})")
net.eval()
print(f"recipe network, eval mode:     {find_mixing_layer(net, batch)}")
net.train()
planted = cl.Sequential(cl.Linear(64, 32, rng=cl.make_rng(6)), cl.ReLU(), BatchCentre(),
                        cl.Linear(32, 10, rng=cl.make_rng(7)))
print(f"a network that centres over the batch: layer {find_mixing_layer(planted, batch)}")

# %% [markdown]
# **Question.** BatchNorm in training mode fails this test, yet nobody calls it a bug. Why is it
# acceptable there, what does it cost (think of a batch of 2, and of the test-time
# prediction for a single example), and in which situation would the same mixing be a real bug?

# %% [markdown] nbgrader={"grade": true, "grade_id": "mixing_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# BatchNorm mixes by design: during training it normalizes each example with the mean and
# variance of its batch, and the resulting noise is part of why it regularizes. The cost is that
# an example's output depends on its batch-mates: with a batch of 2 the statistics are very noisy
# (and with 1 they are undefined), and a model whose predictions depended on the batch at test
# time would give one example different answers in different batches. That is why BatchNorm
# switches to its running statistics in eval mode, where the test passes. The same mixing is a
# bug when it is not intended — a mean over the wrong axis, a reshape or transpose across the
# batch axis, a loss that averages over the wrong dimension — or when BatchNorm is left in
# training mode at evaluation time.
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * Before training: the first loss is $\ln K$ (natural log, $K$ = the number of classes) with
#   regularization off, the penalty raises it, and the network memorizes 20 examples.
# * Sample rates and strengths as $10^{u}$ with $u$ uniform between the log10 of the bounds;
#   sample rates of things like dropout uniformly.
# * A random search tries a new value of every hyperparameter in every trial; keep the best
#   trial, then search again, finer, around it — and never stop at the edge of a range.
# * Read a scan as a whole: explodes → too high; not even halved → too low; a higher rate that
#   ends far above the best one → too high (plateau); the rest → good.
# * A network must not mix the examples of a batch: backpropagate from one example's output and
#   check that every other example's input gradient is exactly zero, prefix by prefix, in the
#   mode the model is used in.
#
# This is the last exercise notebook of the course: from here on, train your own networks with
# these checks and the diagnostics of the lecture switched on.
