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
# # Exercises 05 · Dropout
#
# **What you will practise**
#
# 1. inverted dropout's forward pass, with $p$ the **drop** rate, in training and in
#    evaluation mode;
# 2. its backward pass, with the mask of the forward pass;
# 3. predicting the mean of a dropout layer's output and how much that mean fluctuates from
#    mask to mask — then measuring both;
# 4. measuring accuracy the right way: in evaluation mode, leaving the model as you found it;
# 5. an overfitting experiment: read the train/validation gap with and without dropout.
#
# **Prerequisites.** The lecture [05 · Dropout](../notebooks/05_dropout.ipynb), sections 1
# (what $p$ means), 2 (inverted dropout keeps the mean), 3 (evaluation), 5 (the backward pass)
# and 6 (the overfitting experiment).
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

_ = cl.set_seed()          # from COURSE_SEED (default 0), like every random draw below
X_train, y_train, X_val, y_val, X_test, y_test = cl.data.load_digits()

# %% [markdown]
# ## Exercise 1 · Inverted dropout, forward
#
# Write `dropout_forward(x, p, training, rng)` for an array `x` of any shape, a drop rate
# `0 <= p < 1` and a NumPy generator `rng`. It returns `(out, mask)` with `out = x * mask`:
#
# * **training**: every entry is dropped independently with probability $p$ and kept with
#   probability $1-p$. Draw `u = rng.random(x.shape)` and keep the entries with `u >= p`. The
#   mask holds **0** for a dropped entry and **$1/(1-p)$** for a kept one (the scaled mask), so
#   that the expected output equals `x`;
# * **evaluation**: no dropout and no scaling: `out` is `x`, and `mask` is `np.ones_like(x)`.
#
# Draw only from `rng` (never `np.random.…`, never a new generator inside the function): the
# caller's generator makes runs reproducible, and successive calls must give new masks. Do not
# change `x` in place.

# %% nbgrader={"grade": false, "grade_id": "dropout_forward", "locked": false, "schema_version": 3, "solution": true}
def dropout_forward(x, p, training, rng):
    """Inverted dropout with drop rate p. Returns (out, mask), out = x * mask, shapes of x."""
    ### BEGIN SOLUTION
    if not training:
        return x, np.ones_like(x)
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dropout_forward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dropout_forward(dropout_forward)

# %% [markdown]
# Your layer on a block of ones, next to `cl.Dropout` with the same generator seed (they draw
# the same uniform numbers, so they drop the same entries):

# %%
ones = np.ones((3, 10))
print(dropout_forward(ones, 0.5, True, cl.make_rng(0))[0])
print(cl.Dropout(0.5, rng=cl.make_rng(0)).forward(ones))

# %% [markdown]
# ## Exercise 2 · Inverted dropout, backward
#
# In training the forward pass multiplies `x` by a fixed mask, so $\partial\,\text{out}/\partial x$
# is that mask. Write `dropout_backward(dout, mask)` returning `dx`, with `mask` the (scaled)
# mask that your forward pass returned. A dropped unit did not influence the loss and gets no
# gradient; a kept one gets its gradient scaled by the same $1/(1-p)$. Never draw a new mask
# here.

# %% nbgrader={"grade": false, "grade_id": "dropout_backward", "locked": false, "schema_version": 3, "solution": true}
def dropout_backward(dout, mask):
    """Gradient through dropout with the forward pass's scaled mask. Shapes: dout, mask -> dx."""
    ### BEGIN SOLUTION
    return dout * mask
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dropout_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dropout_backward(dropout_backward)

# %% [markdown]
# A gradient check of your pair. The numerical gradient evaluates the forward pass many times;
# passing a **fresh generator with the same seed** every time replays the same mask, which is
# what the numerical side must see (the lecture's section 5 shows what happens otherwise).

# %%
x_small = cl.make_rng(6).standard_normal((6, 10))
dout = cl.make_rng(7).standard_normal((6, 10))
out, mask = dropout_forward(x_small, 0.5, True, cl.make_rng(8))
dx = dropout_backward(dout, mask)
numeric = cl.numerical_gradient(lambda: dropout_forward(x_small, 0.5, True, cl.make_rng(8))[0],
                                x_small, dout)
print(f"relative error of dx: {cl.rel_error(dx, numeric):.1e}")

# %% [markdown]
# ## Exercise 3 · Predict, then measure: the mean and its sampling error
#
# A layer's activations are all equal, $h = 2$, in an array of shape (400, 250), that is
# $n = 100{,}000$ entries. Inverted dropout with $p = 0.3$ is applied in training mode. Each
# output entry is $h/(1-p)$ with probability $1-p$ and $0$ with probability $p$,
# independently of the others.
#
# **Before measuring**, predict
#
# * `predicted_mean`: the mean of the 100,000 output entries (on average over masks);
# * `predicted_std_of_mean`: the standard deviation of that mean from one mask to the next.
#   Compute the variance of **one** entry, $E[y^2] - E[y]^2$, then use that the mean of $n$
#   independent entries has variance $\mathrm{Var}(y)/n$.
#
# The second number is the yardstick behind "the mean is preserved within sampling error".

# %% nbgrader={"grade": false, "grade_id": "dropout_mean_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
h, p, n = 2.0, 0.3, 400 * 250
predicted_mean = (1 - p) * h / (1 - p)                    # = h: the scaling compensates exactly
var_entry = (1 - p) * (h / (1 - p)) ** 2 - h ** 2        # E[y^2] - E[y]^2 = h^2 p / (1 - p)
predicted_std_of_mean = np.sqrt(var_entry / n)           # about 0.0041
### END SOLUTION

# %% [markdown]
# The measurement: 300 masks from your `dropout_forward`, the mean output of each.

# %%
h_block = np.full((400, 250), 2.0)
mask_rng = cl.make_rng(10)
means = np.array([dropout_forward(h_block, 0.3, True, mask_rng)[0].mean() for _ in range(300)])
print(f"mean of the 300 means: {means.mean():.5f}   your prediction {float(predicted_mean):.5f}")
print(f"std of the 300 means:  {means.std(ddof=1):.5f}   your prediction {float(predicted_std_of_mean):.5f}")

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.hist(means, bins=25, color="tab:blue", alpha=0.7, label="300 masks")
for k in (-2, 0, 2):
    ax.axvline(predicted_mean + k * predicted_std_of_mean, color="k", ls="-" if k == 0 else ":",
               lw=1, label="prediction ± 2 std" if k == 2 else None)
ax.set(xlabel="mean of the dropout output", ylabel="number of masks",
       title="inverted dropout, p = 0.3, h = 2: the mean is preserved")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% nbgrader={"grade": true, "grade_id": "check_dropout_mean_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dropout_mean_prediction(predicted_mean, predicted_std_of_mean)

# %% [markdown]
# ## Exercise 4 · Accuracy in evaluation mode
#
# Write `eval_accuracy(model, X, y)`: the fraction (between 0 and 1) of the examples in `X`
# whose largest logit (`argmax` over the classes, `axis=1`) equals the integer label in `y`,
# computed with dropout **off**, i.e. after `model.eval()`. Afterwards the model must be back
# in the mode it was in before the call (`model.training` tells you which): a training loop
# that calls your function after every epoch must keep training *with* dropout. Use
# `model.forward` and `model.train(...)`/`model.eval()`, not `cl.evaluate`.

# %% nbgrader={"grade": false, "grade_id": "eval_accuracy", "locked": false, "schema_version": 3, "solution": true}
def eval_accuracy(model, X, y):
    """Fraction of correct argmax predictions in evaluation mode; restores the model's mode."""
    ### BEGIN SOLUTION
    was_training = model.training
    model.eval()
    accuracy = float(np.mean(model.forward(X).argmax(axis=1) == y))
    model.train(was_training)
    return accuracy
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_eval_accuracy", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_eval_accuracy(eval_accuracy)

# %% [markdown]
# ## Exercise 5 · The overfitting experiment
#
# A wide net (64 → 128 → 128 → 10, dropout after each hidden ReLU, none on the output layer)
# is trained on only **200** training digits (centred with their own mean, as notebook 00
# teaches), with your `eval_accuracy` measuring training and validation accuracy after every
# epoch. Two versions of the 200 labels: the true ones, and a copy in which 20 % were replaced
# by random classes (the validation labels stay clean). Drop rates 0 and 0.5; 40 epochs with
# the clean labels, 150 with the noisy ones, so that you can compare a short and a long
# budget. For the noisy labels the cell also records which share of the WRONG training labels
# the net reproduces (it has "memorized" them). Every random draw comes from `COURSE_SEED`.
# Run the cell (about ten seconds), then answer the question below.

# %%
from threadpoolctl import threadpool_limits

center = cl.data.Center().fit(X_train[:200])
X_small, X_val_c = center.transform(X_train[:200]), center.transform(X_val)
y_clean = y_train[:200]
y_noisy = cl.data.corrupt_labels(y_clean, 0.2, rng=cl.make_rng(1))
wrong = y_noisy != y_clean


def make_mlp(p, rng):
    """64 -> 128 -> 128 -> 10 ReLU net with Dropout(p) after each hidden ReLU."""
    layers, fan_in = [], 64
    for _ in range(2):
        layers += [cl.Linear(fan_in, 128, rng=rng), cl.ReLU(), cl.Dropout(p, rng=rng)]
        fan_in = 128
    return cl.Sequential(*layers, cl.Linear(fan_in, 10, rng=rng))


def run(p, labels, epochs):
    """Train on (X_small, labels); per-epoch accuracies in evaluation mode, and the share of
    the wrong labels the net reproduces."""
    rng = cl.make_rng(2)
    model = make_mlp(p, rng)
    opt = cl.SGD(model.parameters(), lr=0.02, momentum=0.9)
    train_acc, val_acc, memorized = [], [], []
    for _ in range(epochs):
        cl.fit(model, cl.SoftmaxCrossEntropy(), opt, X_small, labels, epochs=1, batch_size=32,
               rng=rng, progress=False, ratio_every=0)
        train_acc.append(eval_accuracy(model, X_small, labels))
        val_acc.append(eval_accuracy(model, X_val_c, y_val))
        memorized.append(eval_accuracy(model, X_small[wrong], labels[wrong]))
    return model, np.array(train_acc), np.array(val_acc), np.array(memorized)


settings = [("clean", 0.0, 40), ("clean", 0.5, 40), ("20% noisy", 0.0, 150), ("20% noisy", 0.5, 150)]
results = {}
with threadpool_limits(limits=1, user_api="blas"):        # small matrices: one BLAS thread is fastest
    for labels, p, epochs in settings:
        results[labels, p] = run(p, y_clean if labels == "clean" else y_noisy, epochs)

print("labels      p   epoch  train acc  val acc   gap    wrong labels memorized  best val acc (epoch)")
for (labels, p), (_, tr, va, mem) in results.items():
    best = int(va.argmax())
    for e in ([40] if labels == "clean" else [40, 150]):
        shown = f"{mem[e - 1]:10.2f}" if labels != "clean" else f"{'—':>10}"
        print(f"{labels:10s} {p:4.1f} {e:6d}   {tr[e - 1]:8.3f} {va[e - 1]:8.3f}  {tr[e - 1] - va[e - 1]:+.3f}"
              f"   {shown}             {va[best]:.3f} ({best + 1})")

model_05 = results["20% noisy", 0.5][0]
model_05.train()
train_mode_acc = np.mean(model_05.forward(X_small).argmax(axis=1) == y_noisy)
print(f"\np = 0.5, noisy labels, after the last epoch: training accuracy {train_mode_acc:.3f} "
      f"measured in TRAINING mode (dropout on), {eval_accuracy(model_05, X_small, y_noisy):.3f} "
      f"in evaluation mode")

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
for p, color in ((0.0, "tab:red"), (0.5, "tab:blue")):
    _, tr, va, mem = results["20% noisy", p]
    epochs = np.arange(1, len(va) + 1)
    axes[0].plot(epochs, tr, color=color, label=f"train, p = {p}")
    axes[0].plot(epochs, va, color=color, ls="--", label=f"validation, p = {p}")
    axes[1].plot(epochs, mem, color=color, label=f"p = {p}")
axes[0].set(title="20% noisy labels", xlabel="epoch", ylabel="accuracy (evaluation mode)", ylim=(0.5, 1.01))
axes[1].set(title="wrong training labels reproduced", xlabel="epoch", ylabel="share", ylim=(0, 1.02))
for ax in axes:
    ax.axvline(40, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize=9, loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question.** (1) With the noisy labels, compare $p = 0$ and $p = 0.5$ after 40 epochs: training
# accuracy, share of wrong labels memorized, validation accuracy, gap. (2) Compare them again
# after 150 epochs. Does dropout *prevent* memorizing the wrong labels, or *delay* it? (3) Compare
# the best validation accuracy each net reached (the early-stopped result): how much of the
# 40-epoch advantage of dropout is left once the baseline is stopped at its own best epoch?
# (4) With clean labels the gap barely moves; why? (5) What would the training accuracy
# measured in training mode (the printed line) have led you to conclude about the gap?

# %% [markdown] nbgrader={"grade": true, "grade_id": "overfitting_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) After 40 epochs the net without dropout reproduces nearly all the wrong labels (training
# accuracy ≈ 0.99) and its validation accuracy has dropped to about 0.8; with $p = 0.5$ it has
# memorized far fewer of them (typically a third to two thirds), its training accuracy is lower
# and its validation accuracy higher, so the gap is much smaller. (2) After 150 epochs the
# dropout net has memorized almost all the wrong labels too (typically above 90 %), its
# training accuracy is near 1 and the gap is back to most of its old size: dropout **slows**
# memorization, it does not prevent it (Srivastava et al. note that dropout nets need longer
# training; the same holds for memorizing). (3) The fair baseline is the plain net stopped at
# its best epoch (early stopping, notebook 07): its best validation accuracy is much closer to
# the dropout net's than its 40-epoch value, so only a small part of the advantage remains —
# part of what looked like a dropout gain was implicit early stopping. Report both numbers
# and the budget. (4) With clean labels memorizing the 200 examples teaches nothing false; the
# remaining gap comes from 200 digits not covering all the ways people write. No penalty on
# the weights can supply that missing data — only more (or augmented) data can. (5) In
# training mode each prediction comes from a random thinned network, so the training
# accuracy comes out lower than in evaluation mode; a gap computed from it would look
# smaller than it is and hide the overfitting that remains. Train/validation comparisons are
# measured with dropout off.
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * $p$ is the **drop** rate; inverted dropout multiplies by the scaled mask
#   $m/(1-p)$ in training and is the identity in evaluation.
# * The backward pass multiplies by the **same** scaled mask; a gradient check must replay it.
# * The mean is preserved: one entry has variance $h^2 p/(1-p)$, so the mean of $n$ entries
#   fluctuates by $h\sqrt{p/((1-p)\,n)}$ — tiny for a whole layer.
# * Measure accuracies in evaluation mode and put the model back in its previous mode.
# * With noisy labels dropout slows memorization and narrows the gap at a short budget; trained
#   long enough, the net memorizes anyway, and against an early-stopped baseline the gain is
#   small. It cannot make up for missing data.
#
# Next: the lecture [06 · Optimizers](../notebooks/06_optimizers.ipynb).
