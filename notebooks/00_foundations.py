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
# # 00 · Foundations: the network, its losses, its data
#
# Everything later in this course (activations, initialization, backpropagation, BatchNorm,
# dropout, optimizers, regularization, babysitting) is a refinement of three things set up
# here: **what a multi-layer perceptron computes**, **which loss it is trained on**, and **how
# the data it sees is split and preprocessed**. Each claim below is checked by an `assert`
# in the cell that shows it, so running this notebook is also a test of what it says.
#
# **Learning objectives.** After this notebook you can
#
# 1. write an MLP as a stack of affine maps and activations, say why "affine" and not
#    "linear", and count its parameters by hand;
# 2. pick the output function and loss for a real-valued, a yes/no and a K-class target, and
#    state the gradient of each loss with respect to the network's last pre-activation;
# 3. compute softmax and log-softmax without overflow;
# 4. use the sanity value $\ln K$ for a freshly initialized classifier;
# 5. split data into train / validation / test and use each part for its one job;
# 6. center, standardize, PCA-project and whiten inputs with statistics from the training set
#    only — and recognise the leak when that rule is broken;
# 7. explain with a condition number why normalized inputs make gradient descent faster.
#
# **Prerequisites.** Python and NumPy (arrays, broadcasting, `@`), the chain rule, matrices
# and eigenvalues at first-year level. This is the first notebook of the course.
#
# **Estimated time.** 60–75 minutes.

# %%
import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets import foundations as fw

cl.set_seed()                      # every random draw below derives from COURSE_SEED (default 0)
np.set_printoptions(precision=4, suppress=True)
print(f"COURSE_SEED = {cl.course_seed()}; seeds of the repeated runs: {cl.seeds(5)}")

# %% [markdown]
# ## 1 · The network: affine maps and activations
#
# A fully connected layer takes a batch of inputs $x$ (one example per **row**) and computes
#
# $$a = f(x W + b), \qquad x \in \mathbb{R}^{N \times \text{fan\_in}},\;
#   W \in \mathbb{R}^{\text{fan\_in} \times \text{fan\_out}},\; b \in \mathbb{R}^{\text{fan\_out}},$$
#
# first an **affine map** $x \mapsto xW + b$, then an element-wise non-linearity $f$ (the
# **activation**, notebook 01). A multi-layer perceptron (MLP) is this, layer after layer:
# $x \to f_1(xW_1 + b_1) \to f_2(\,\cdot\, W_2 + b_2) \to \dots$
#
# Vocabulary you will meet:
#
# * **Weights** $W$ are also called the **kernel** (Keras, TensorFlow and Flax name the
#   attribute `kernel`). Column $j$ of $W$ holds the incoming weights of unit $j$.
# * **Biases** $b$ set what a unit does when its input is zero: $0\,W + b = b$. Geometrically,
#   unit $j$ splits input space along the hyperplane $x \cdot W_{:,j} + b_j = 0$; without a
#   bias that hyperplane is forced through the origin.
# * The map $x \mapsto xW + b$ is **affine, not linear**. A linear map $g$ satisfies
#   $g(x + x') = g(x) + g(x')$ and hence $g(0) = 0$; with a non-zero bias both fail. Many
#   texts say "linear layer" (PyTorch's class is `nn.Linear`, and so is ours, `cl.Linear`),
#   but the precise word is affine.
#
# > **Notation note (said once, used everywhere).** This course writes $a = f(xW + b)$ with a
# > batch-first $x$ of shape (N, fan_in) and $W$ of shape **(fan_in, fan_out)**, which is how
# > NumPy code is written. Textbooks usually write one example as a column vector,
# > $a = f(W a_{\text{prev}} + b)$, with $W$ of shape **(fan_out, fan_in)** — and PyTorch
# > stores `Linear.weight` that way too. It is the same map: one $W$ is the transpose of the
# > other. The cell below checks exactly that.

# %%
layer = cl.Linear(3, 2, rng=cl.make_rng(1))   # fan_in = 3, fan_out = 2
layer.b.data[:] = [0.5, -1.0]                 # non-zero biases, so that we can see them act
print(layer, "| W:", layer.W.shape, "| b:", layer.b.shape)

x = np.array([[1.0, 2.0, 3.0],
              [0.0, -1.0, 0.5]])              # a batch of N = 2 examples, one per row
out = layer.forward(x)
print("x W + b =\n", out)
assert np.allclose(out, x @ layer.W.data + layer.b.data)

# the textbook form: column vectors and W_textbook of shape (fan_out, fan_in) = our W transposed
W_textbook = layer.W.data.T
assert np.allclose(out, (W_textbook @ x.T + layer.b.data[:, None]).T)

# %% [markdown]
# The bias is the response to a zero input, and it is exactly what breaks additivity:

# %%
zero = np.zeros((1, 3))
print("layer(0)            =", layer.forward(zero))
x1, x2 = x[:1], x[1:]
defect = layer.forward(x1 + x2) - (layer.forward(x1) + layer.forward(x2))
print("layer(x1 + x2) - layer(x1) - layer(x2) =", defect, " (= -b)")
assert np.allclose(layer.forward(zero), layer.b.data)
assert np.allclose(defect, -layer.b.data)       # affine: off by exactly the bias
assert not np.allclose(defect, 0)               # so not linear

# %% [markdown]
# **Why the activation is essential.** Two affine layers in a row are one affine layer:
# $(xW_1 + b_1)W_2 + b_2 = x\,(W_1W_2) + (b_1W_2 + b_2)$. Depth without non-linearities buys
# nothing. A handy test for "is $g$ affine?" is $g(x) + g(-x) = 2g(0)$ for every $x$. The
# stack without activation passes it; with a ReLU in between it fails.

# %%
A1, A2 = cl.Linear(4, 8, rng=cl.make_rng(2)), cl.Linear(8, 3, rng=cl.make_rng(3))
A1.b.data[:] = 0.1
A2.b.data[:] = -0.2
stack = cl.Sequential(A1, A2)                       # affine ∘ affine
mlp_small = cl.Sequential(A1, cl.ReLU(), A2)        # affine ∘ ReLU ∘ affine

W_eff, b_eff = A1.W.data @ A2.W.data, A1.b.data @ A2.W.data + A2.b.data
xs = cl.make_rng(4).standard_normal((5, 4))
assert np.allclose(stack.forward(xs), xs @ W_eff + b_eff)    # collapses to a single affine map


def affine_defect(net, x):
    """max |g(x) + g(-x) - 2 g(0)|: zero for every affine map."""
    return np.abs(net.forward(x) + net.forward(-x) - 2 * net.forward(np.zeros_like(x))).max()


print(f"affine test, no activation:   {affine_defect(stack, xs):.1e}")
print(f"affine test, ReLU in between: {affine_defect(mlp_small, xs):.2f}")
assert affine_defect(stack, xs) < 1e-12
assert affine_defect(mlp_small, xs) > 0.1

# %% [markdown]
# ### Counting parameters
#
# A network with $d$ inputs, one hidden layer of $h$ units and $o$ outputs has a $d \times h$
# and an $h \times o$ weight matrix and one bias per hidden and output unit:
#
# $$\#\text{params} = d\,h + h\,o + h + o .$$
#
# For the digits classifier used throughout the course ($d = 64$ pixels, $h = 100$,
# $o = 10$ classes) that is $6400 + 1000 + 100 + 10 = 7510$. `course_lib` counts for us.

# %%
d, h, o = 64, 100, 10
mlp = cl.Sequential(cl.Linear(d, h, rng=cl.make_rng(1)), cl.ReLU(), cl.Linear(h, o, rng=cl.make_rng(2)))
print(mlp)
for name, p in mlp.named_parameters():
    print(f"  {name:<4} shape {str(p.shape):<10} {p.size:>5} numbers")
print("formula d*h + h*o + h + o =", d * h + h * o + h + o)
assert mlp.num_parameters() == d * h + h * o + h + o == 7510

# %% [markdown]
# ## 2 · Outputs and losses
#
# The last layer is affine too; its outputs $z$ are called **logits**. What turns them into a
# prediction depends on the type of the target:
#
# | target | output function | the output means | loss | `course_lib` |
# |---|---|---|---|---|
# | real number(s) (regression) | none (identity), $\hat y = z$ | the predicted value | squared error | `cl.MSELoss()` |
# | one yes/no outcome | sigmoid $\sigma(z) = 1/(1+e^{-z})$ | $P(\text{yes})$ | binary cross-entropy | `cl.BCEWithLogits()` |
# | one gold class out of $K$ | softmax $o_k = e^{z_k} / \sum_j e^{z_j}$ | a distribution over the $K$ classes | categorical cross-entropy | `cl.SoftmaxCrossEntropy()` |
#
# The losses, averaged over a batch of $N$ examples:
#
# * **squared error** $\;L = \frac1N\sum_i (\hat y_i - y_i)^2$ (mean squared error, MSE);
# * **binary cross-entropy** $\;L = -\frac1N\sum_i \big[g_i \log p_i + (1-g_i)\log(1-p_i)\big]$
#   with $p_i = \sigma(z_i)$ and target $g_i \in [0, 1]$;
# * **categorical cross-entropy** $\;L = -\frac1N\sum_i \sum_k g_{ik} \log o_{ik}$. With a
#   one-hot target only the gold class $y_i$ survives: $L = -\frac1N\sum_i \log o_{i,y_i}$,
#   the **negative log-likelihood of the gold class**.
#
# As in PyTorch, the two classification losses take the **logits** and apply sigmoid or
# softmax inside. That is not laziness: fused, they can be computed stably (below) and their
# gradients become very simple (§2.2). So our networks end with a `Linear` layer, and you
# apply `cl.functional.softmax` yourself only when you want probabilities to look at.
#
# First, each formula by hand against the library:

# %%
rng = cl.make_rng(1)
N, K = 6, 4

y_hat, y = rng.standard_normal((N, 1)), rng.standard_normal((N, 1))   # regression
mse_hand = np.mean((y_hat - y) ** 2)

z_bin, g_bin = 2 * rng.standard_normal((N, 1)), rng.integers(0, 2, (N, 1)).astype(float)  # yes/no
p = 1 / (1 + np.exp(-z_bin))
bce_hand = -np.mean(g_bin * np.log(p) + (1 - g_bin) * np.log(1 - p))

z, gold = rng.standard_normal((N, K)), rng.integers(0, K, N)          # K classes
o = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
nll_hand = -np.mean(np.log(o[np.arange(N), gold]))                    # -log prob of the gold class

losses = {"MSE": (mse_hand, cl.MSELoss()(y_hat, y)),
          "binary CE": (bce_hand, cl.BCEWithLogits()(z_bin, g_bin)),
          "categorical CE": (nll_hand, cl.SoftmaxCrossEntropy()(z, gold))}
for name, (by_hand, lib) in losses.items():
    print(f"{name:<15} by hand {by_hand:.6f}   course_lib {lib:.6f}")
    assert abs(by_hand - lib) < 1e-12

# %% [markdown]
# How each loss responds to its input tells a lot. Squared error grows quadratically with the
# error, so its slope is unbounded. The two cross-entropies, seen as functions of the logit,
# become straight lines for confidently wrong predictions (slope $-1$) and flatten to $0$ for
# confidently right ones: their slope always lies between $-1$ and $1$.

# %%
fw.plot_losses()            # the three loss/slope pairs (course_lib/widgets/foundations.py)
plt.show()

# %% [markdown]
# ### 2.1 · Stable softmax and log-softmax
#
# Softmax does not change if the same constant $c$ is subtracted from every logit:
# $e^{z_k - c} / \sum_j e^{z_j - c} = e^{z_k}/\sum_j e^{z_j}$. The naive formula computes
# $e^{z}$ first, and `float64` overflows to `inf` beyond $z \approx 709$; then
# $\infty / \infty$ is `nan`. At the other end, $e^{-1000}$ underflows to $0$ and
# $\log 0 = -\infty$.
#
# The stable recipe chooses $c = m = \max_k z_k$: the largest exponent becomes $e^0 = 1$ (no
# overflow) and the denominator is at least $1$, so its logarithm is finite. For the log
# probabilities use the **log-sum-exp** identity
#
# $$\log o_k = z_k - \log\sum_j e^{z_j} = z_k - m - \log\sum_j e^{z_j - m}.$$
#
# Below, the naive version runs with the warnings silenced (we provoke them on purpose); the
# stable one runs with overflow, invalid operations and division by zero turned into
# **errors**, so if it overflowed anywhere the cell would fail.

# %%
z_big = np.array([[1000.0, 999.0, 998.0]])
with np.errstate(over="ignore", invalid="ignore"):
    e = np.exp(z_big)
    naive = e / e.sum(axis=1, keepdims=True)
print("naive:  exp(z) =", e, "-> softmax =", naive)
assert np.isinf(e).all() and np.isnan(naive).all()

with np.errstate(over="raise", invalid="raise", divide="raise"):
    stable = cl.functional.softmax(z_big)
    log_stable = cl.functional.log_softmax(z_big)
print("stable: softmax =", stable, " log-softmax =", log_stable)
assert np.allclose(stable, cl.functional.softmax(np.array([[0.0, -1.0, -2.0]])))  # shift invariance
assert np.isfinite(log_stable).all() and abs(stable.sum() - 1) < 1e-12

# %% [markdown]
# The underflow side, and what it does to a loss: one example whose gold class (index 1) has
# logit $0$ while another class has logit $1000$. The correct loss is
# $-\log o_1 = \log(e^{1000} + e^0) - 0 \approx 1000$.

# %%
z_wrong = np.array([[1000.0, 0.0]])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    e = np.exp(z_wrong)
    naive_loss = -np.log(e / e.sum())[0, 1]
stable_loss = cl.SoftmaxCrossEntropy()(z_wrong, np.array([1]))
print(f"naive -log softmax: {naive_loss}   stable: {stable_loss:.4f}")
assert not np.isfinite(naive_loss)
assert abs(stable_loss - 1000.0) < 1e-9

# %% [markdown]
# ### 2.2 · The derivatives everything else builds on
#
# Backpropagation (notebook 03) starts from $\partial L / \partial z$, the gradient of the loss
# with respect to the last layer's output. For our three pairs it has the same shape,
# **"prediction minus target"**. Per example (the batch mean adds a factor $1/N$):
#
# * **Squared error**, $\ell = (\hat y - y)^2$: $\;\dfrac{\partial \ell}{\partial \hat y} = 2(\hat y - y)$.
# * **Softmax + cross-entropy** with any target distribution $g$ ($\sum_k g_k = 1$):
#   from $\log o_k = z_k - \log\sum_j e^{z_j}$ we get $\partial \log o_k / \partial z_j = \delta_{kj} - o_j$, so
#   $$\frac{\partial \ell}{\partial z_j} = -\sum_k g_k(\delta_{kj} - o_j) = o_j \sum_k g_k - g_j = o_j - g_j .$$
#   For a one-hot target this is $\text{softmax}(z) - \text{onehot}(\text{gold})$.
# * **Sigmoid + binary cross-entropy**: with $p = \sigma(z)$ and $\sigma'(z) = p(1-p)$,
#   $\dfrac{\partial \ell}{\partial p} = \dfrac{p - g}{p(1-p)}$, and the chain rule cancels the
#   denominator: $\;\dfrac{\partial \ell}{\partial z} = \sigma(z) - g$.
#
# The cancellation in the last two is why frameworks fuse the output function into the loss.
# We check each formula twice: against the library's `backward()` exactly, and against
# centred finite differences with `cl.numerical_gradient` / `cl.gradcheck` (notebook 03 covers
# gradient checking in depth; here it is a referee). The relative error must be below $10^{-7}$.

# %%
rng = cl.make_rng(2)
N, K = 5, 4
onehot, softmax, sigmoid = cl.functional.one_hot, cl.functional.softmax, cl.functional.sigmoid
errors = {}

y_hat, y = rng.standard_normal((N, 1)), rng.standard_normal((N, 1))
mse = cl.MSELoss()
mse(y_hat, y)
analytic = mse.backward()               # read it now: every forward call below refreshes the cache
assert np.allclose(analytic, 2 * (y_hat - y) / N)
numeric = cl.numerical_gradient(lambda: mse.forward(y_hat, y), y_hat)   # centred differences
errors["MSE:            2(ŷ − y)"] = cl.rel_error(analytic, numeric)

z, gold = rng.standard_normal((N, K)), rng.integers(0, K, N)
ce = cl.SoftmaxCrossEntropy()
ce(z, gold)
assert np.allclose(ce.backward(), (softmax(z) - onehot(gold, K)) / N)
errors["softmax + NLL:  o − onehot"] = cl.gradcheck(ce, z, target=gold).max_error

g = softmax(3 * rng.standard_normal((N, K)))     # a general target: any rows summing to 1
ce(z, g)
assert np.allclose(ce.backward(), (softmax(z) - g) / N)
errors["softmax + CE:   o − g"] = cl.gradcheck(ce, z, target=g).max_error

z_bin, g_bin = 3 * rng.standard_normal((N, 1)), rng.uniform(0, 1, (N, 1))
bce = cl.BCEWithLogits()
bce(z_bin, g_bin)
assert np.allclose(bce.backward(), (sigmoid(z_bin) - g_bin) / N)
errors["sigmoid + BCE:  σ(z) − g"] = cl.gradcheck(bce, z_bin, target=g_bin).max_error

for name, err in errors.items():
    print(f"{name}   relative error vs finite differences {err:.1e}")
assert max(errors.values()) < 1e-7

# %% [markdown]
# ### 2.3 · A sanity value: the initial loss is $\ln K$
#
# If a $K$-class classifier knows nothing yet, the honest output is the uniform distribution,
# $o_k = 1/K$, and the cross-entropy is $-\log(1/K) = \ln K$: **2.303 for K = 10**. Checking
# this before training catches a wrong loss (a wrong logarithm, a wrong divisor) and badly
# scaled logits in seconds. It does not catch wrong labels: a uniform prediction scores
# $\ln K$ on *any* labels in $[0, K)$, right or shuffled (labels outside that range make
# `cl.SoftmaxCrossEntropy` raise an error instead).
#
# We get close to that only if the initial logits are close to equal. With the usual
# initialization of the last layer they are random numbers of order 1, and because
# log-sum-exp is convex the expected loss is then *above* $\ln K$ (Jensen's inequality). The
# common fix is to start the last layer small (here: scale its weights by 0.01), so the net
# starts maximally uncertain instead of confidently wrong.
#
# We load the real handwritten digits now (8×8 images, 64 pixels in $[0, 1]$, 10 classes;
# §3 explains the split) and evaluate a freshly built classifier on the training set.

# %%
split = cl.data.load_digits()
X_train, y_train, X_val, y_val, X_test, y_test = split

net = cl.Sequential(cl.Linear(64, 100, rng=cl.make_rng(1)), cl.ReLU(), cl.Linear(100, 10, rng=cl.make_rng(2)))
loss_fn = cl.SoftmaxCrossEntropy()
loss_default = loss_fn(net.forward(X_train), y_train)
net[2].W.data *= 0.01                                 # small last layer: logits ≈ 0
logits = net.forward(X_train)
loss_small = loss_fn(logits, y_train)
print(f"ln 10 = {np.log(10):.3f} | initial loss, default last layer {loss_default:.3f} | "
      f"small last layer {loss_small:.3f}")
print("largest deviation of a predicted probability from 1/10:", np.abs(softmax(logits) - 0.1).max().round(4))
assert abs(loss_small - np.log(10)) < 0.02
assert loss_default > np.log(10) + 0.02               # random logits: above ln K (Jensen)
assert np.abs(softmax(logits) - 0.1).max() < 0.02

# %% [markdown]
# A loss far *above* $\ln K$ at the start means large logits, and the bigger they are the
# higher it gets. A classic bug gives the opposite symptom: applying softmax twice (a softmax
# layer at the end of the network, and then a loss that applies its own softmax). The second
# softmax only ever sees numbers in $[0, 1]$, so its outputs stay close to uniform: the loss
# sits near $\ln K$ **whatever the logits are**, and cannot even fall below
# $\ln(K - 1 + e) - 1$ for a perfect one-hot prediction (1.46 for $K = 10$, 3.63 for
# $K = 100$). A loss stuck near $\ln K$ that hardly moves is its symptom. Measured for 100
# classes:

# %%
K100 = 100
gold100 = cl.make_rng(6).integers(0, K100, 1000)
print(f"ln {K100} = {np.log(K100):.3f}")
twice = {}
for scale in (1, 5, 20):
    z100 = scale * cl.make_rng(7).standard_normal((1000, K100))
    once, twice[scale] = loss_fn(z100, gold100), loss_fn(softmax(z100), gold100)
    print(f"logits of std {scale:>2}: cross-entropy {once:6.2f} | with softmax applied twice {twice[scale]:.3f}")
    assert once > np.log(K100) + 0.3                           # large logits: far above ln K
best_twice = loss_fn(cl.functional.one_hot(gold100, K100), gold100)   # probabilities of a perfect net
print(f"softmax twice, even for a perfect prediction: {best_twice:.3f} = ln(K - 1 + e) - 1 = "
      f"{np.log(K100 - 1 + np.e) - 1:.3f}")
assert all(abs(v - np.log(K100)) < 0.02 for v in twice.values())   # stuck at ln K, whatever the scale
assert abs(best_twice - (np.log(K100 - 1 + np.e) - 1)) < 1e-12

# %% [markdown]
# ## 3 · Data: train, validation, test — and mini-batches
#
# Each part of the data has one job:
#
# * the **training set** fits the weights;
# * the **validation set** chooses everything the training set cannot: learning rate,
#   regularization strength, architecture, when to stop;
# * the **test set** gives one final, unbiased estimate — used **once**, at the end. Every
#   decision you base on the test score turns it into a second validation set, and its number
#   becomes optimistic.
#
# **Why not cross-validation?** $k$-fold cross-validation trains $k$ models per setting to use
# every example for validation once. For neural networks training is the expensive part and
# data are usually plentiful, so practitioners prefer **one validation split of respectable
# size**. "Respectable" can be made concrete: an accuracy $\hat p$ measured on $n$ examples has
# standard error $\sqrt{\hat p(1 - \hat p)/n}$ — about one percentage point for 96% on the
# 359 validation digits below. That is the uncertainty of **one** accuracy; comparing two
# models on the same digits is a different question, answered in §7 (which also checks this
# formula against a bootstrap). (On a small data set where you can afford $k$ trainings,
# cross-validation remains a fine choice.)
#
# `cl.data.load_digits()` shuffles the 1,797 digits once with a fixed seed and cuts them
# 60 / 20 / 20 %.

# %%
print(split)
n_train, n_val, n_test = len(X_train), len(X_val), len(X_test)
assert n_train + n_val + n_test == 1797
for part, labels in [("train", y_train), ("val", y_val), ("test", y_test)]:
    print(f"{part:<5} examples per class:", np.bincount(labels, minlength=10))
se = np.sqrt(0.96 * 0.04 / n_val)
print(f"the formula's standard error of a 96% accuracy measured on {n_val} validation digits: {se:.3f}")

# %% [markdown]
# **Mini-batches.** The training loss is a mean over $N$ examples, so its gradient is the mean
# of $N$ per-example gradients. A random **mini-batch** of $B$ examples gives an unbiased
# estimate of it at $B/N$ of the cost. Its error shrinks like $1/\sqrt{B}$ (times
# $\sqrt{(N-B)/(N-1)}$ because we sample without replacement): four times the batch buys only
# half the noise. Batches of 32–256 are the usual compromise between noise per step and
# cost per step, and they keep vectorized hardware busy. One **epoch** is one pass over the
# shuffled training set in $\lceil N/B \rceil$ steps; `cl.fit(..., batch_size=64)` does exactly that.
#
# Let us measure the noise on the digits classifier from §2.3: the relative distance between
# mini-batch gradients and the full-batch gradient, for several batch sizes.

# %%
def flat_grad(model, loss, X, y):
    """All parameter gradients of mean-loss(model(X), y), concatenated into one vector."""
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


g_full = flat_grad(net, loss_fn, X_train, y_train)
rng = cl.make_rng(3)
batch_sizes = np.array([1, 4, 16, 64, 256])
noise = []
for B in batch_sizes:
    sq = [np.sum((flat_grad(net, loss_fn, X_train[idx], y_train[idx]) - g_full) ** 2)
          for idx in (rng.choice(n_train, B, replace=False) for _ in range(100))]
    noise.append(np.sqrt(np.mean(sq)) / np.linalg.norm(g_full))
noise = np.array(noise)
slope = np.polyfit(np.log(batch_sizes[:4]), np.log(noise[:4]), 1)[0]
for B, r in zip(batch_sizes, noise):
    print(f"B = {B:>3}: RMS gradient error = {r:.2f} × |full gradient|")
print(f"log-log slope for B = 1..64: {slope:.3f} (theory: -0.5)")
assert -0.6 < slope < -0.4
print(f"B = 256 has {noise[0] / noise[-1]:.0f}x less noise than B = 1 (theory: {np.sqrt(256 * (n_train - 1) / (n_train - 256)):.0f}x)")
assert noise[0] > 3                          # a single example: the noise dwarfs the gradient
assert 12 < noise[0] / noise[-1] < 26         # 256x the cost buys ~18x less noise

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.6))
theory = noise[0] * np.sqrt((n_train - batch_sizes) / (n_train - 1) / batch_sizes)
ax.loglog(batch_sizes, noise, "o-", label="measured (100 batches each)")
ax.loglog(batch_sizes, theory, "k--", lw=1, label="$\\propto 1/\\sqrt{B}$ (with finite-N correction)")
ax.set(xlabel="batch size B", ylabel="RMS |g_B − g| / |g|", title="mini-batch gradient noise (digits MLP)")
ax.legend(fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4 · Preprocessing, fitted on the training set
#
# Four standard transforms of the inputs, all estimated from the **training set only** and
# then applied unchanged to validation and test data (and, later, to every example the
# deployed model sees):
#
# | transform | formula | `cl.data` | effect |
# |---|---|---|---|
# | zero-centering | $x - \mu$ | `Center()` | every feature has mean 0 |
# | standardizing | $(x - \mu)/\sigma$ | `Standardize()` | mean 0, variance 1 per feature |
# | PCA | $(x - \mu)\,U_k$ | `PCA(k)` | coordinates along the top-$k$ eigenvectors $U_k$ of the covariance; decorrelated, dimension reduced |
# | whitening | $(x - \mu)\,U_k / \sqrt{\lambda + \varepsilon}$ | `Whiten(k)` | PCA, then every direction scaled to variance 1: covariance $\approx I$ |
#
# ($\mu$, $\sigma$: per-feature training mean and standard deviation; $\lambda$: eigenvalues of
# the training covariance; $\varepsilon$ keeps near-zero directions — mostly noise — from being
# blown up.) Each object has `fit(X_train)` and `transform(X)`.
#
# First a picture of what each transform does, on two correlated features with non-zero
# means and different scales (the data of §5, `fw.make_data`, with the second feature in
# units that make it three times as spread as the first, so both fit in one picture). Same
# scale on both axes of every panel; the grey lines cross at the origin.

# %%
X2d, _ = fw.make_data(scale=0.3)
flat = fw.scatter_versions(X2d)                      # each transform fitted on X2d itself
fw.plot_scatter_versions(flat)
plt.show()
cov = {name: np.cov(V, rowvar=False) for name, V in flat.items()}
assert np.abs(flat["centred"].mean(axis=0)).max() < 1e-12                 # centred: mean 0 ...
assert abs(cov["centred"][0, 1] - cov["raw"][0, 1]) < 1e-9                # ... nothing else changed
assert np.allclose(np.diag(cov["standardized"]), len(X2d) / (len(X2d) - 1))   # variance 1 per axis
assert abs(cov["PCA (decorrelated)"][0, 1]) < 1e-9                        # rotated: no correlation left
assert np.isclose(np.trace(cov["PCA (decorrelated)"]), np.trace(cov["centred"]))   # a rotation keeps the spread
assert np.allclose(cov["whitened"], np.eye(2))                            # whitened: covariance I

# %% [markdown]
# Centring moves the cloud to the origin; standardizing also gives both axes unit spread,
# but the cloud stays tilted (the correlation $\rho$ survives); PCA rotates it so that the
# axes are the directions of largest and smallest variance (no correlation left, the
# variances unchanged); whitening then scales each of those directions to variance 1 — a
# round cloud. §5 shows what each step does to gradient descent. Now the same transforms on
# the digits:

# %%
center = cl.data.Center().fit(X_train)
standardize = cl.data.Standardize().fit(X_train)
pca = cl.data.PCA().fit(X_train)                    # all 64 components, to read the spectrum
whiten = cl.data.Whiten(20).fit(X_train)

Xc, Xs, Xw = center.transform(X_train), standardize.transform(X_train), whiten.transform(X_train)
cum = np.cumsum(pca.explained_variance_ratio)
k90 = int(np.searchsorted(cum, 0.90)) + 1
cov_w = np.cov(Xw, rowvar=False)
varying = X_train.std(axis=0) > 0
print("centered train:     max |feature mean| =", f"{np.abs(Xc.mean(axis=0)).max():.1e}")
print("standardized train: feature std in", Xs[:, varying].std(axis=0).min().round(6), "..",
      Xs[:, varying].std(axis=0).max().round(6), f"({(~varying).sum()} pixels are constant: left at 0)")
print(f"PCA: {k90} of 64 components keep 90% of the variance")
print("whitened (20 comps) train covariance: max |cov - I| =", f"{np.abs(cov_w - np.eye(20)).max():.1e}")
print("the same transforms on the VALIDATION set: max |feature mean| after centering =",
      f"{np.abs(center.transform(X_val).mean(axis=0)).max():.3f}  (not 0 — as it should be)")
assert np.abs(Xc.mean(axis=0)).max() < 1e-12
assert np.allclose(Xs[:, varying].std(axis=0), 1) and np.allclose(Xs.mean(axis=0), 0)
assert k90 < 30                                         # 64 pixels, but far fewer directions matter
assert np.abs(cov_w - np.eye(20)).max() < 1e-2          # whitened: identity covariance on train
# validation data are transformed with the STORED training mean (not their own, which would give 0)
assert np.allclose(center.transform(X_val), X_val - X_train.mean(axis=0))

# %% [markdown]
# **For images, centering is the common practice**: subtract the mean image (as here) or one
# mean per colour channel. Pixels already share one unit and range, so dividing by a
# per-pixel standard deviation adds little — and it can hurt: pixels near the border of the
# digits are almost always blank in the training set, their $\sigma$ is tiny, and one test
# digit with a little ink there gets an enormous standardized value. PCA and whitening are
# rarely applied to images fed to convolutional networks (the covariance of a large image is
# huge), but they are useful to look at data and for small inputs like these.

# %%
idx = 0
fig, axes = plt.subplots(1, 4, figsize=(8.4, 2.5), gridspec_kw={"width_ratios": [1, 1, 1.25, 1.7]})
for ax, img, title in [(axes[0], X_train[idx], f"a digit (label {y_train[idx]})"),
                       (axes[1], center.mean, "the mean image"),
                       (axes[2], Xc[idx], "the digit, centered")]:
    lim = np.abs(img).max()
    im = ax.imshow(img.reshape(8, 8), cmap="gray" if ax is not axes[2] else "RdBu_r",
                   vmin=0 if ax is not axes[2] else -lim, vmax=1 if ax is not axes[2] else lim)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.colorbar(im, ax=axes[2], fraction=0.046).ax.tick_params(labelsize=8)   # the first two: black 0, white 1
axes[3].plot(np.arange(1, 65), cum, ".-")
axes[3].axhline(0.9, color="grey", ls="--", lw=1)
axes[3].axvline(k90, color="grey", ls="--", lw=1)
axes[3].set(xlabel="PCA components k", ylabel="variance kept")
axes[3].set_title(f"PCA: {k90} components keep 90%", fontsize=9)
fig.tight_layout()
plt.show()

# %%
pixel_std = X_train.std(axis=0)
z_honest = standardize.transform(X_test)
print(f"{(pixel_std < 0.01).sum()} of 64 pixels have a training std below 0.01 "
      f"({(pixel_std == 0).sum()} are always blank)")
print(f"largest |standardized value|: training set {np.abs(Xs).max():.0f}, test set {np.abs(z_honest).max():.0f}")
assert np.abs(z_honest).max() > 10        # a test digit with rare ink: >10 standard deviations out

# %% [markdown]
# ### The leak: statistics fitted on all the data
#
# It is tempting to standardize the whole data set once, before splitting. Then the
# transform of each test example depends on the test set itself, and the test set no longer
# simulates data the model has never seen. Two concrete views of the damage:
#
# 1. **The features change.** Fitting the standardizer on train + test moves every test
#    feature a little, and the rare-ink pixels a lot: the statistics have already "seen" that
#    rare test ink. (How much depends on the split: a pixel that is blank in the training set
#    but inked in a test digit gets a tiny $\sigma$ only once the test set is included, and
#    then its test values jump by tens of standard deviations.)
# 2. **Estimates become optimistic.** The effect is largest when the training set is small
#    relative to what the statistics must estimate. We fit a 20-component PCA on only 100
#    training digits — honestly, or with the test set mixed in — and ask how well it
#    reconstructs test digits. The validation digits play "tomorrow's data": nobody looked at
#    them. To see past the luck of one draw we repeat this on five disjoint sets of 100
#    training digits.

# %%
leaky = cl.data.Standardize().fit(np.concatenate([X_train, X_test]))   # WRONG: sees the test set
z_leaky = leaky.transform(X_test)
change = np.abs(z_leaky - z_honest)
print(f"largest |test feature|: honest {np.abs(z_honest).max():.0f}, leaked {np.abs(z_leaky).max():.0f}; "
      f"test features changed: mean {change.mean():.3f}, largest {change.max():.1f} standard deviations")
assert change.max() > 0.5 and change.max() > 20 * change.mean()     # a little everywhere, a lot somewhere


def reconstruction_error(pca, X):
    """Mean squared distance between X and its projection onto the PCA components."""
    X_rec = pca.transform(X) @ pca.components.T + pca.mean
    return np.mean(np.sum((X - X_rec) ** 2, axis=1))


gap = {"honest (train only)": [], "leaked (train + test)": []}   # how much the test number flatters
for i in range(5):                                                # five disjoint sets of 100 digits
    X_small = X_train[100 * i:100 * (i + 1)]
    for name, fit_on in (("honest (train only)", X_small), ("leaked (train + test)", np.r_[X_small, X_test])):
        p_ = cl.data.PCA(20).fit(fit_on)
        on_test, on_new = reconstruction_error(p_, X_test), reconstruction_error(p_, X_val)
        gap[name].append((on_new - on_test) / on_new)
gap = {name: np.array(v) for name, v in gap.items()}
for name, g in gap.items():
    print(f"{name:<22} the test error is lower than the error on unseen data by "
          f"{100 * g.mean():+.0f}% ({100 * g.min():+.0f} … {100 * g.max():+.0f}% over the 5 subsets)")
leak = gap["leaked (train + test)"] - gap["honest (train only)"]     # paired: same subset, same sets
print(f"the leak alone: {100 * leak.min():.0f} … {100 * leak.max():.0f} percentage points more flattering")
assert np.all(leak > 0.08) and leak.mean() > 0.1             # the leak flatters, on every subset
assert abs(gap["honest (train only)"].mean()) < leak.mean()  # honest: only the val/test sampling noise

# %% [markdown]
# The honest pipeline's test number predicts what happens on new data up to a few percent
# either way — the validation and test digits are two different samples, and they differ a
# little by chance. The leaked one flatters by about ten to sixteen percentage points more
# than the honest one, on every subset, and that part is pure leak. The same logic holds for every
# statistic a pipeline estimates — means, variances, PCA bases, vocabularies, feature
# selections, and hyperparameters chosen by looking at test scores.
#
# ## 5 · Why normalize: the shape of the loss surface
#
# To *see* what preprocessing does to training we need a model with only two parameters, so
# that the loss is a landscape we can draw. Take linear regression without a bias,
# $\hat y = w_1 x_1 + w_2 x_2$, on two correlated features with non-zero means and very
# different scales ($x_1 \approx 3 \pm 1$, $x_2 \approx 30 \pm 10$: think of one feature in
# metres and one in decimetres). The target is a fixed linear function of the features plus
# noise (`fw.make_data`; after preprocessing, the target is centred too, which is what a bias
# would absorb).
#
# The mean squared error of a linear model is a quadratic in $w$,
#
# $$L(w) = \tfrac1N\lVert Xw - y\rVert^2, \qquad \nabla^2 L = H = \tfrac2N X^\top X ,$$
#
# so its contours are ellipses whose axes point along the eigenvectors of $H$ and whose axis
# ratio is $\sqrt{\kappa}$, with the **condition number** $\kappa = \lambda_{\max}/\lambda_{\min}$.
# Gradient descent must use a learning rate below $2/\lambda_{\max}$ or it diverges along the
# steepest direction, while progress along the flattest direction is about $\text{lr}\cdot\lambda_{\min}$
# per step: the number of steps grows in proportion to $\kappa$.
#
# * Raw features: $X^\top X/N$ contains the **means** ($\mathbb{E}[xx^\top] = \mu\mu^\top + \Sigma$)
#   and the **scales**: huge $\kappa$.
# * Centering removes $\mu\mu^\top$; standardizing turns $X^\top X/N$ into the correlation
#   matrix, $\kappa = (1+\rho)/(1-\rho)$ for two features with correlation $\rho$; whitening
#   makes it the identity, $\kappa = 1$.

# %%
X_raw, y_raw = fw.make_data(scale=1.0)
rho = np.corrcoef(X_raw, rowvar=False)[0, 1]
print("raw feature means", X_raw.mean(axis=0).round(2), "stds", X_raw.std(axis=0).round(2),
      f"correlation {rho:.2f}")
versions, kappa = {}, {}
for how in fw.PREPROCESSING:
    versions[how] = fw.preprocess(X_raw, y_raw, how)
    kappa[how] = fw.condition_number(versions[how][0])
    print(f"{how:<13} condition number of the Hessian: {kappa[how]:>8.1f}")
assert kappa["raw"] > 100 * kappa["standardized"]                      # standardizing: >100x better
assert kappa["raw"] > kappa["centered"] > kappa["standardized"] > kappa["whitened"]
assert abs(kappa["standardized"] - (1 + rho) / (1 - rho)) < 1e-9      # the correlation is all that is left
assert abs(kappa["whitened"] - 1) < 1e-9

# %% [markdown]
# Now run gradient descent from $w = 0$ on each version, each with its own best constant
# learning rate $\text{lr} = 2/(\lambda_{\max} + \lambda_{\min})$ of $H$ — the most favourable
# choice for each, so the comparison is fair to the raw inputs. We count the steps until the
# excess loss $L - L^*$ falls below $10^{-6}$ of its starting value.

# %%
best_lr, steps = {}, {}
for how, (X, y) in versions.items():
    lam = np.linalg.eigvalsh(2 * X.T @ X / len(X))                    # eigenvalues of H
    best_lr[how] = 2 / (lam[0] + lam[-1])
    steps[how] = fw.steps_to_converge(X, y, best_lr[how], tol=1e-6)
    print(f"{how:<13} lr = {best_lr[how]:.2g}: {steps[how]:>5} steps to reduce L − L* by 10^6")
assert steps["raw"] > 100 * steps["standardized"]        # raw inputs: >100x more steps
assert steps["whitened"] <= 2 and steps["standardized"] < 50

# %%
fig, axes = plt.subplots(2, 2, figsize=(8.4, 8.0))
for ax, how in zip(axes.ravel(), fw.PREPROCESSING):
    res = fw.explore(1.0, how, best_lr[how], 50)
    fw.plot_contours(res, ax, title=f"{how}: κ = {kappa[how]:,.0f}, 50 steps",
                     inset=how == "raw", legend="lower right" if how == "whitened" else None)
fig.suptitle("loss contours over (w1, w2), same scale on both axes; gradient descent from w = 0\n"
             "at each version's best learning rate", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Raw inputs give a long, narrow valley: the learning rate is limited by its steep walls, so
# gradient descent bounces from wall to wall and barely moves along the floor — in 50 steps
# it covers so little of the window that the inset has to magnify the zig-zag. Centering
# removes most of the problem, standardizing nearly all of it, and after whitening the
# contours are circles and one step lands on the minimum.
#
# The curves below make the speed difference explicit (log scale). An excess loss below
# $10^{-12}$ is drawn at $10^{-12}$ (the grey band): there the difference of two float64 losses
# of order 1 is rounding noise. The whitened run gets there in a single step (its two points
# are marked), which is why its curve falls straight down.

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
fw.plot_gaps(versions, best_lr, kappa, steps=300, floor=1e-12, ax=ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Units should not matter — and after standardizing they don't.** Express $x_2$ in other
# units (multiply it by a factor): with raw inputs the condition number, and with it the
# usable learning rate and the training time, swings by orders of magnitude; the standardized
# problem is literally the same problem.

# %%
print("unit factor for x2 :", "  ".join(f"{s:>8g}" for s in [0.01, 0.1, 1, 10, 100]))
table = {how: [fw.condition_number(fw.preprocess(*fw.make_data(scale=s), how)[0])
               for s in [0.01, 0.1, 1, 10, 100]] for how in ("raw", "standardized")}
for how, row in table.items():
    print(f"κ {how:<16}:", "  ".join(f"{k:>8.3g}" for k in row))
assert max(table["raw"]) / min(table["raw"]) > 1e4
assert np.ptp(table["standardized"]) < 1e-9 * table["standardized"][0]

# %% [markdown]
# A deep network's loss is not a quadratic, but its first layer sees exactly this geometry:
# the gradient for $W_1$ is built from the inputs, so badly scaled or off-centre inputs make
# the first layer's problem ill-conditioned. Input normalization is the cheapest remedy;
# BatchNorm (notebook 04) applies the same idea inside the network.
#
# ## 6 · Explore: loss surface and preprocessing
#
# * **unit scale of x2** (log slider): change the units of the second feature.
# * **inputs**: raw, centered, standardized or whitened.
# * **learning rate** (log slider).
#
# Left: contours of the loss (same scale on both axes) with 100 gradient-descent steps from
# $w = 0$ (black square) towards the minimum (star). Right: the excess loss of all four
# versions at the same learning rate. The line above the plots gives the stability limit of
# the learning rate for the chosen inputs. Things to try:
#
# 1. With raw inputs, raise the learning rate to just below the limit, then move the unit
#    scale: the same learning rate now diverges (or crawls).
# 2. Switch to standardized: the unit-scale slider loses all effect, and a learning rate of
#    about 0.3 converges in a few dozen steps — where the raw version diverges.
# 3. Push the learning rate towards the limit on any version and watch the zig-zag across the
#    valley appear before divergence.

# %% tags=["nbval-ignore-output"]
display(fw.loss_surface_explorer())

# %% [markdown]
# ## 7 · Putting it together: tune on validation, report on test once
#
# A complete, honest mini-pipeline on the digits: center with the training mean, build the
# classifier, train with mini-batches of 64 (SGD with momentum 0.9, 15 epochs: the budget of
# every run below), choose the learning rate by **validation** accuracy, and only then
# evaluate the chosen setting on the **test** set — once. Every run is repeated on several
# seeds (the seed draws the initial weights and the order of the mini-batches), because one
# run of a setting is one sample of what that setting does.
#
# ### 7.1 · What the $\ln K$ start buys
#
# First the initialization of the last layer, which §2.3 checked only at step 0. Karpathy's
# "hockey stick": a net that starts *confidently wrong* (large logits, loss far above
# $\ln K$) spends its first steps only squashing its logits, and the loss curve drops like
# the blade of a hockey stick before the real learning starts. We scale the last layer's
# initial weights by 0.01 (loss $\ln 10$, as in §2.3), 1 (He's default), 10 and 30 — a ten-
# or thirtyfold too large init, which is what a forgotten $1/\sqrt{\text{fan\_in}}$ or
# unnormalized inputs produce — and train each on 3 seeds at lr 0.1.

# %%
runs_init = fw.init_scale_runs()                 # 4 initial scales x 3 seeds, 15 epochs each
fw.plot_init_scales(runs_init)
plt.show()
scales, lnK = fw.INIT_SCALES, np.log(10)
tl, vl, va = runs_init["train_loss"], runs_init["val_loss"], runs_init["val_acc"]   # (seeds, scales, ...)
below = (tl < lnK).argmax(axis=2)                 # first step with a loss below ln 10
epoch2 = tl[:, :, 17:34].mean(axis=2)             # mean training loss over the second epoch
last = tl[:, :, -17:].mean(axis=2)                # ... and over the last one
print("last layer × | first loss  | below ln 10 from step | training loss, epoch 2 / 15 | epoch 15: val loss, accuracy")
for m, scale in enumerate(scales):
    print(f"{scale:>11g} | {tl[:, m, 0].min():5.2f}–{tl[:, m, 0].max():5.2f} | {below[:, m].min():>11}–{below[:, m].max():<9} | "
          f"{epoch2[:, m].min():.2f}–{epoch2[:, m].max():.2f} / {last[:, m].max():<12.0e} | "
          f"{vl[:, m, -1].min():.3f}–{vl[:, m, -1].max():.3f}, {va[:, m, -1].min():.3f}–{va[:, m, -1].max():.3f}")
small, big = scales.index(0.01), scales.index(30.0)
assert np.all(np.abs(tl[:, small, 0] - lnK) < 0.01)                # the small last layer starts at ln K
assert np.all(tl[:, big, 0] > 5 * lnK)                             # x30: confidently wrong, far above
assert np.all(below[:, big] <= 10)                                 # ... but below ln K within 10 steps
assert np.all(epoch2[:, scales.index(1.0)] < epoch2[:, small])     # the x0.01 start is not the fastest
assert np.all(last[:, big] < 0.1 * last[:, small])                 # x30 fits the training digits hardest
assert np.all(vl[:, big, -1] > 3 * vl[:, small, -1])               # the lasting cost: overconfidence
assert vl[:, scales.index(10.0), -1].mean() > 1.1 * vl[:, small, -1].mean()
assert abs(va[:, big, -1].mean() - va[:, small, -1].mean()) < 0.03    # ... at about the same accuracy

# %% [markdown]
# On every seed the picture is the same. The hockey stick is there (×30 starts near 20 and is
# below $\ln 10$ within a handful of steps), but on this small problem the blade is short:
# the wasted steps are not what a bad init costs. Two less obvious things are:
#
# * The $\ln K$ start is **not the fastest start**. With the last layer at ×0.01 the logits
#   are near 0, but so is the gradient that reaches the first layer (it is multiplied by the
#   last layer's weights): in the second epoch its training loss is still well above that of
#   He's default (×1), which starts only a little above $\ln K$ (§2.3).
# * A confidently wrong start leaves a **lasting** mark on the validation loss: after 15
#   epochs the ×30 net's validation loss is several times that of the others, at about the
#   same accuracy. The net has fitted the training digits with huge logits (its training loss
#   is far below the others'), and the few validation digits it gets wrong, it gets wrong
#   with near-certainty: cross-entropy punishes that without limit. ×10 shows the same on a
#   smaller scale.
#
# So start at (or near) $\ln K$, and read a much larger initial loss as a bug report: it will
# not stop training, but the model it produces is overconfident.
#
# ### 7.2 · Choosing the learning rate on the validation set
#
# Four learning rates, five seeds each, the last layer at ×0.01 (initial loss $\ln 10$ on
# every run); the validation accuracy after the last epoch decides.

# %%
sel = fw.lr_selection()                          # 4 learning rates x 5 seeds, 15 epochs each
lrs, val = fw.LRS, sel["val_acc"]                # val: final validation accuracy, (seeds, lrs)
assert np.all(np.abs(sel["first_loss"] - np.log(10)) < 0.05)           # the ln K check, every run
assert np.all(sel["steps"] == 15 * int(np.ceil(n_train / 64)))         # 17 mini-batches per epoch
ranked = np.argsort(-val.mean(axis=0))            # best first, by the mean over the seeds
for j, lr in enumerate(lrs):
    print(f"lr = {lr:<6g} validation accuracy {val[:, j].mean():.3f} ± {val[:, j].std(ddof=1):.3f} "
          f"(seeds: {' '.join(f'{v:.3f}' for v in val[:, j])})")
fw.plot_lr_selection(sel, top=tuple(ranked[:2]))
plt.show()

# %% [markdown]
# The learning rate matters enormously: too small and 15 epochs are not enough. But are the
# top two really different? The textbook standard error $\sqrt{p(1-p)/n}$ of §3 is the
# uncertainty of **one** accuracy measured on a sample of digits; it is the wrong tool for a
# comparison. Both models are scored on the *same* 359 digits, and most digits are easy for
# both (or hard for both): they say nothing about which model is better. What does is the
# **discordant** digits — right for one model and wrong for the other. McNemar's test asks
# whether their split could be a fair coin flip; equivalently, the paired standard error of
# the difference is the standard deviation of the per-digit differences $a_i - b_i$ over
# $\sqrt n$ (`cl.experiments.mcnemar`). A bootstrap over the digits checks both formulas.
#
# And the comparison has a second source of noise, which no test on one validation set sees:
# **the training seed**. The same setting trained again scores differently.

# %%
best, second, third = ranked[:3]
correct = sel["correct"].astype(bool)             # (seeds, lrs, validation digits): right or wrong
names = (f"lr {lrs[best]:g}", f"lr {lrs[second]:g}")
top = [cl.experiments.mcnemar(c[best], c[second]) for c in correct]     # one paired test per seed
vs3 = [cl.experiments.mcnemar(c[best], c[third]) for c in correct]
print(f"seed {sel.seeds[0]}, on the same {n_val} digits:", top[0].summary(names))
print(f"  paired s.e. {100 * top[0].se:.2f} points; unpaired (as if on two independent sets) "
      f"{100 * top[0].unpaired_se:.2f}")
p_top = np.array([t.p for t in top])
print("McNemar p of the top two, per seed:", " ".join(f"{p:.2f}" for p in p_top))
print(f"lr {lrs[best]:g} − lr {lrs[third]:g}, per seed:", " ".join(f"{100 * t.diff:+.1f}" for t in vs3),
      "points; McNemar p", " ".join(f"{t.p:.0e}" for t in vs3))
seed_gap = cl.paired(val[:, best], val[:, second], names)
print("top two over the seeds:", seed_gap.summary())
rng = cl.make_rng(8)
boot_one = cl.experiments.bootstrap_se(correct[0, best], rng=rng)
boot_pair = cl.experiments.bootstrap_se(correct[0, best] * 1.0 - correct[0, second], rng=rng)
p0 = val[0, best]
print(f"bootstrap over the digits: s.e. of one accuracy {boot_one:.4f} (formula {np.sqrt(p0 * (1 - p0) / n_val):.4f}), "
      f"of the paired difference {boot_pair:.4f} (formula {top[0].se:.4f})")
spread = max(np.ptp(val[:, best]), np.ptp(val[:, second]))
print(f"seed-to-seed range of one setting: up to {100 * spread:.1f} points; "
      f"mean gap of the top two: {100 * seed_gap.mean:+.2f} points")
assert val[:, best].mean() - val[:, ranked[-1]].mean() > 0.1          # the learning rate matters a lot
third_gap = cl.paired(val[:, best], val[:, third])
assert third_gap.wins == len(val) and third_gap.t > 3                 # the third loses, on every seed
assert (p_top > 0.05).sum() >= 4                                      # top two: no resolvable difference
assert np.mean([t.se / t.unpaired_se for t in top]) < 0.95           # pairing: shared errors cancel
assert abs(boot_one / np.sqrt(p0 * (1 - p0) / n_val) - 1) < 0.15      # the s.e. formula of §3 holds
assert abs(boot_pair / top[0].se - 1) < 0.15                          # and the paired one
assert spread > abs(seed_gap.mean)                                     # seed noise exceeds the gap
assert seed_gap.min < 0.02                                             # on some seed the best is ahead by under 2 points

# %% [markdown]
# What the validation set can and cannot tell apart:
#
# * **It separates the third setting — given several seeds.** The best learning rate beats
#   the third on every seed, usually by several points, and McNemar's test on a single run
#   mostly rejects a fair split of the discordant digits ($p < 0.05$). Not always: on some
#   splits of the digits the third comes within a point or two on some seeds, inside what one
#   run on 359 digits can resolve. The seeds together leave no doubt (it loses on all five).
# * **It cannot separate the top two.** They disagree on only a handful to a dozen and a half
#   digits, split roughly evenly: the paired standard error is about one point, and the
#   difference is within two of them (McNemar $p > 0.05$) on (nearly) every seed. The paired
#   error is usually smaller than the unpaired one — the two models fail on some of the same
#   hard digits, and pairing removes that shared part. A gap of two to three points would be
#   resolved on a single run; a few tenths of a point would need tens of times more
#   validation digits.
# * **The seed moves a setting by about as much.** One setting trained on five seeds ranges
#   over one to two points, more than the mean gap of the top two; which of the two "wins" on
#   a single run is partly chance (the right panel: the per-seed differences usually fall on
#   both sides of 0; for some course seeds one of the two is ahead on all five runs, each time
#   by about a point or less). More seeds average out the training noise; only more validation digits shrink
#   the sampling noise, since every seed is scored on the same 359.
#
# So the two best learning rates are, as far as this validation set can tell, equally good;
# we keep the one with the higher mean (an arbitrary but fixed rule), and its seed-to-seed
# spread is part of what we report. Then, once, the test set:

# %%
test = sel["test_acc"][:, best]
print(f"chosen: lr = {lrs[best]:g}; its test accuracy, reported once: {test.mean():.3f} "
      f"(seeds {test.min():.3f} … {test.max():.3f})")
assert np.all(test > 0.93)

# %% [markdown]
# ## Check your understanding
#
# 1. How many parameters does an MLP with 784 inputs, one hidden layer of 256 units and 10
#    outputs have?
#
#    <details><summary>Answer</summary>
#
#    $784 \cdot 256 + 256 \cdot 10 + 256 + 10 = 200{,}704 + 2{,}560 + 266 = 203{,}530$.
#    </details>
#
# 2. A freshly initialized 100-class classifier reports an initial loss of 9.2. What did you
#    expect, and what would you look at first?
#
#    <details><summary>Answer</summary>
#
#    About $\ln 100 \approx 4.61$. A much larger value means the initial logits are large and
#    confidently wrong. Look for what makes them large: the scale of the last layer's
#    initialization (start it small), inputs that were not normalized (pixels in 0–255 instead
#    of 0–1), a hand-written init without the $1/\sqrt{\text{fan\_in}}$. (Not softmax applied
#    twice: that squashes the logits into $[0, 1]$ first, and the loss then sits near
#    $\ln K$ whatever the logits, §2.3 — its symptom is a loss stuck near 4.6 that hardly
#    moves.) Training would still bring the loss down within a few steps, but §7.1 shows the
#    price: an overconfident model with a much higher validation loss.
#    </details>
#
# 3. Why do `SoftmaxCrossEntropy` and `BCEWithLogits` take logits rather than probabilities?
#
#    <details><summary>Answer</summary>
#
#    Fused, the loss can be computed with log-sum-exp (subtract the max) and a stable
#    sigmoid, so logits of ±1000 give finite, exact losses; and the gradient collapses to
#    $o - g$ or $\sigma(z) - g$, with no division by $p(1-p)$, which would blow up for saturated
#    outputs.
#    </details>
#
# 4. You standardized your inputs with the mean and std of the whole data set, then split it.
#    What is wrong, and what do you do with a single new example at deployment time?
#
#    <details><summary>Answer</summary>
#
#    The test examples influenced the statistics, so the test set no longer simulates unseen
#    data and its score is optimistic (§4). Fit the statistics on the training set only, store
#    them with the model, and apply those stored statistics to every new example — one example
#    has no mean or std of its own to use.
#    </details>
#
# 5. You change one raw input feature from metres to millimetres. What happens to plain
#    gradient descent on raw inputs, and on standardized inputs?
#
#    <details><summary>Answer</summary>
#
#    Raw: that feature's values grow 1000×, its curvature $10^6$×; the largest stable learning
#    rate shrinks accordingly and the other weights crawl (the condition number explodes).
#    Standardized: nothing changes — standardizing divides the unit out again (§5 shows κ is
#    identical for every unit factor).
#    </details>
#
# ## Summary
#
# * A layer is an **affine** map $xW + b$ (weights a.k.a. kernel, shape (fan_in, fan_out) in
#   our batch-first notation; the bias is the response to zero input) followed by an
#   activation; without activations a stack of layers collapses into one affine map. A
#   $d$–$h$–$o$ MLP has $dh + ho + h + o$ parameters.
# * Output function by target: none (real values, MSE), sigmoid (yes/no, binary
#   cross-entropy), softmax (one of $K$ classes, cross-entropy = negative log-likelihood of the
#   gold class).
# * Gradients with respect to the last pre-activation: $2(\hat y - y)$; $\text{softmax}(z) - g$
#   (one-hot $g$ for a gold class); $\sigma(z) - g$. Verified to $< 10^{-7}$ against finite
#   differences.
# * Softmax and log-softmax are computed after subtracting the maximum logit (log-sum-exp);
#   the naive formula gives `nan`/`inf` at logits of 1000.
# * A freshly initialized $K$-class classifier should start at loss $\approx \ln K$ (2.303 for
#   10 classes) when the last layer starts small. Far above it: logits too large (init scale,
#   unnormalized inputs), and an overconfident model at the end; stuck at it: softmax applied
#   twice.
# * Train fits, validation chooses, test reports once; one respectable validation split
#   rather than cross-validation for nets. One accuracy on $n$ examples has standard error
#   $\sqrt{p(1-p)/n}$; two models scored on the same examples are compared **paired**
#   (McNemar: only the examples they disagree on count), and on several training seeds,
#   because the seed moves a result about as much as the validation sample does. Mini-batch
#   gradient noise falls like $1/\sqrt{B}$.
# * Center / standardize / PCA / whiten with **training** statistics only; fitting them on all
#   data leaks test information and flatters the test score. For images, centering is the
#   norm.
# * Normalized inputs shrink the condition number of the loss (here from about 1,300 to 4, and
#   to 1 after whitening) and gradient descent converges hundreds of times faster.
#
# **Next:** practise all of this in the exercise notebook
# [exercises/00_foundations.ipynb](../exercises/00_foundations.ipynb), then continue with
# notebook 01 on activation functions.
