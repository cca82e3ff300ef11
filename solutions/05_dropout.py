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

_ = cl.set_seed(0)
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
print(dropout_forward(ones, 0.5, True, np.random.default_rng(0))[0])
print(cl.Dropout(0.5, rng=0).forward(ones))

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
x_small = np.random.default_rng(6).standard_normal((6, 10))
dout = np.random.default_rng(7).standard_normal((6, 10))
out, mask = dropout_forward(x_small, 0.5, True, np.random.default_rng(8))
dx = dropout_backward(dout, mask)
numeric = cl.numerical_gradient(lambda: dropout_forward(x_small, 0.5, True, np.random.default_rng(8))[0],
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
mask_rng = np.random.default_rng(10)
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
# A wide net (64 → 256 → 256 → 10, dropout after each hidden ReLU, none on the output layer)
# is trained on only **200** training digits for 40 epochs, with your `eval_accuracy` measuring
# training and validation accuracy after every epoch. Two versions of the 200 labels: the
# true ones, and a copy in which 20 % were replaced by random classes (the validation labels
# stay clean). Drop rates: 0 (no dropout), 0.5, and, for the noisy labels, 0.8. Run the cell
# (a few seconds), then answer the question below.

# %%
from threadpoolctl import threadpool_limits

X_small, y_clean = X_train[:200], y_train[:200]
noise_rng = np.random.default_rng(1)
y_noisy = y_clean.copy()
replaced = noise_rng.random(200) < 0.2
y_noisy[replaced] = noise_rng.integers(0, 10, replaced.sum())


def make_mlp(p, seed):
    """64 -> 256 -> 256 -> 10 ReLU net with Dropout(p) after each hidden ReLU."""
    rng = np.random.default_rng(seed)
    layers, fan_in = [], 64
    for _ in range(2):
        layers += [cl.Linear(fan_in, 256, rng=rng), cl.ReLU(), cl.Dropout(p, rng=rng)]
        fan_in = 256
    return cl.Sequential(*layers, cl.Linear(fan_in, 10, rng=rng))


def run(p, labels, seed=0, epochs=40):
    """Train on (X_small, labels); per-epoch accuracies in evaluation mode."""
    model = make_mlp(p, seed)
    opt = cl.SGD(model.parameters(), lr=0.02, momentum=0.9)
    order = np.random.default_rng(seed + 1)
    train_acc, val_acc = [], []
    for _ in range(epochs):
        cl.fit(model, cl.SoftmaxCrossEntropy(), opt, X_small, labels, epochs=1, batch_size=32,
               rng=order, progress=False, ratio_every=0)
        train_acc.append(eval_accuracy(model, X_small, labels))
        val_acc.append(eval_accuracy(model, X_val, y_val))
    return model, np.array(train_acc), np.array(val_acc)


settings = [("clean", 0.0), ("clean", 0.5), ("20% noisy", 0.0), ("20% noisy", 0.5), ("20% noisy", 0.8)]
results = {}
with threadpool_limits(limits=1, user_api="blas"):        # small matrices: one BLAS thread is fastest
    for labels, p in settings:
        results[labels, p] = run(p, y_clean if labels == "clean" else y_noisy)

print("labels      p    train acc   val acc   gap    (eval mode, mean of the last 10 epochs)")
for (labels, p), (_, tr, va) in results.items():
    print(f"{labels:10s} {p:4.1f}   {tr[-10:].mean():8.3f}  {va[-10:].mean():8.3f}  {tr[-10:].mean() - va[-10:].mean():+.3f}")

model_05, _, val_05 = results["20% noisy", 0.5]
model_05.train()
train_mode_acc = np.mean(model_05.forward(X_small).argmax(axis=1) == y_noisy)
print(f"\np = 0.5, noisy labels, after the last epoch: training accuracy {train_mode_acc:.3f} "
      f"measured in TRAINING mode (dropout on), {eval_accuracy(model_05, X_small, y_noisy):.3f} "
      f"in evaluation mode; validation accuracy {val_05[-1]:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
epochs = np.arange(1, 41)
for ax, labels in zip(axes, ("clean", "20% noisy")):
    for p, color in ((0.0, "tab:red"), (0.5, "tab:blue")):
        _, tr, va = results[labels, p]
        ax.plot(epochs, tr, color=color, label=f"train, p = {p}")
        ax.plot(epochs, va, color=color, ls="--", label=f"validation, p = {p}")
    ax.set(title=f"{labels} training labels", xlabel="epoch", ylim=(0.5, 1.01))
    ax.legend(fontsize=8, loc="lower right")
axes[0].set_ylabel("accuracy (evaluation mode)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question.** (1) With the noisy labels, what does dropout at $p = 0.5$ do to the training
# accuracy, the validation accuracy and the gap between them? Is a training accuracy well below
# 1 a failure here? (2) With clean labels the gap barely moves. Why does dropout help so much
# less there? (3) What happens at $p = 0.8$, and what would the training accuracy measured in
# training mode (the printed line) have led you to conclude if you had used it for the gap?

# %% [markdown] nbgrader={"grade": true, "grade_id": "overfitting_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) Without dropout the net fits the noisy training labels almost perfectly (train ≈ 0.99),
# wrong ones included, and validation accuracy falls to about 0.81: a gap near 0.19. With
# p = 0.5 the training accuracy drops to about 0.90 while validation accuracy rises to about
# 0.86, and the gap shrinks to about 0.04. The lower training accuracy is the point, not a
# failure: about 18 % of these labels are wrong, so a model that gets them "right" has memorized
# noise. Dropout makes memorizing isolated odd examples hard (no unit can count on particular
# partners), so the net refuses many of the wrong labels and generalizes better.
# (2) With clean labels memorizing the 200 examples teaches nothing false. The remaining gap
# (about 0.07 either way) comes from 200 digits not covering all the ways people write, and no
# regularizer can supply missing data, so dropout changes the gap and the validation accuracy
# very little.
# (3) At p = 0.8 the gap is smaller still (about 0.02), but both accuracies are lower than at
# p = 0.5, validation even below the net without dropout: too much is dropped, the net
# underfits. The rate is a trade-off to tune on the validation set. Measured in training mode,
# the training accuracy of the p = 0.5 net is clearly lower than in evaluation mode, because
# each prediction comes from a random thinned network; a gap computed from it would come out
# near zero and hide the overfitting that remains. Accuracies for a train/validation comparison
# are measured with dropout off.
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
# * Dropout narrows the gap when the net memorizes what it should not (noisy labels); it cannot
#   make up for missing data, and too high a rate underfits.
#
# Next: the lecture [06 · Optimizers](../notebooks/06_optimizers.ipynb).
