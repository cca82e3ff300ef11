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
# # 01 · Activation functions
#
# Between two affine maps sits an element-wise non-linearity $f$, the **activation**. Without
# it a deep network is one affine map (notebook 00); with it the network can bend its
# decision boundary. But *which* $f$ matters far beyond expressiveness: the activation's
# **slope** multiplies every gradient that flows backward through it, its **mean** shapes the
# updates of the next layer, and its **cost** is paid for every unit of every example. This
# notebook goes through the classic activations one by one — sigmoid, tanh, ReLU, Leaky
# ReLU, PReLU, ELU, Maxout — and two modern ones (GELU, SiLU), states what each fixes and
# what it breaks, and measures every claim.
#
# **Learning objectives.** After this notebook you can
#
# 1. write down each activation and its derivative, and recognise its curve;
# 2. explain the three problems of the sigmoid — saturation, non-zero-centred outputs, cost —
#    and show the zig-zag that non-zero-centred inputs cause;
# 3. relate tanh to the sigmoid ($\tanh x = 2\sigma(2x) - 1$) and say what it fixes;
# 4. explain why ReLU trains fast, how its units die, and detect dead units in a trained net;
# 5. say why Leaky ReLU's slope must stay well below 1, how PReLU learns its slope, what ELU
#    and Maxout buy and what they cost;
# 6. choose an activation for a new network — and test that choice on real data.
#
# **Prerequisites.** [00 · Foundations](00_foundations.ipynb): layers $a = f(xW + b)$, the
# softmax cross-entropy loss, mini-batch gradient descent, the digits data. The chain rule:
# the backward pass through $a = f(z)$ is $\partial L/\partial z = f'(z)\,\partial L/\partial a$
# (derived in detail in notebook 03).
#
# **Estimated time.** 75–90 minutes.

# %%
import timeit
from math import erf

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from threadpoolctl import threadpool_limits

import course_lib as cl
from course_lib.widgets import activations as aw

cl.set_seed(0)
threadpool_limits(1)   # our matrices are small: one BLAS thread is fastest, extra ones only compete
np.set_printoptions(precision=4, suppress=True)

# the digits, centred with the training mean (notebook 00); used for every real-data experiment
split = cl.data.load_digits()
center = cl.data.Center().fit(split.X_train)
Xtr, ytr = center.transform(split.X_train), split.y_train
Xva, yva = center.transform(split.X_val), split.y_val
loss_fn = cl.SoftmaxCrossEntropy()


def mlp(act, sizes, seed=0):
    """Linear → act → … → Linear with the course's default He init. The same seed gives the
    same weights whatever the activation, so two nets differ ONLY in their activation.
    ``act`` is a layer class (or factory); "maxout" makes Maxout(k=2) layers instead."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        if act == "maxout":
            layers.append(cl.Maxout(fan_in, fan_out, pieces=2, rng=rng))
        else:
            layers += [cl.Linear(fan_in, fan_out, rng=rng), act()]
    layers.append(cl.Linear(sizes[-2], sizes[-1], rng=rng))
    return cl.Sequential(*layers)


print(split, "| centred, mean of the training pixels now",
      f"{np.abs(Xtr.mean(axis=0)).max():.1e}")
print(mlp(cl.ReLU, [64, 100, 10]))

# %% [markdown]
# ## 1 · The family at a glance
#
# | name | $f(x)$ | $f'(x)$ | range |
# |---|---|---|---|
# | sigmoid | $\sigma(x) = \dfrac{1}{1+e^{-x}}$ | $\sigma(x)\,(1-\sigma(x))$ | $(0, 1)$ |
# | tanh | $\tanh x = 2\sigma(2x) - 1$ | $1 - \tanh^2 x$ | $(-1, 1)$ |
# | ReLU | $\max(0, x)$ | $1$ if $x > 0$, else $0$ | $[0, \infty)$ |
# | Leaky ReLU | $\max(\alpha x, x)$, $\alpha \approx 0.01$ | $1$ or $\alpha$ | $\mathbb{R}$ |
# | PReLU | $\max(\alpha x, x)$, $\alpha$ **learned** | $1$ or $\alpha$; $\;\partial f/\partial\alpha = x$ for $x \le 0$ | $\mathbb{R}$ |
# | ELU | $x$ if $x > 0$, else $\alpha(e^x - 1)$ | $1$ or $\alpha e^x$ | $(-\alpha, \infty)$ |
# | Maxout | $\max_{j \le k}\,(x w_j + b_j)$ — a unit with $k$ affine pieces | slope of the winning piece | $\mathbb{R}$ |
# | GELU | $x\,\Phi(x)$ ($\Phi$ = standard normal CDF) | $\Phi(x) + x\,\varphi(x)$ | $\approx(-0.17, \infty)$ |
# | SiLU / Swish | $x\,\sigma(x)$ | $\sigma(x)\,(1 + x(1-\sigma(x)))$ | $\approx(-0.28, \infty)$ |
#
# Each is a layer in `course_lib`; the element-wise ones have a `.derivative(x)` method, and
# `cl.plots.plot_activation` draws $f$ (solid) with $f'$ (dashed). PReLU and Maxout have
# parameters, so we get their slope from `backward` instead (`aw.curve` does that). The
# Maxout unit below has $k = 3$ hand-picked pieces; Leaky ReLU is drawn with $\alpha = 0.1$
# because $0.01$ is invisible at this scale.

# %%
maxout_unit = cl.Maxout(1, 1, pieces=3)
maxout_unit.W.data[:] = np.array([-0.5, 0.2, 1.5]).reshape(1, 1, 3)    # three lines …
maxout_unit.b.data[:] = [[-1.0, 0.0, -1.5]]                           # … their max is convex

zoo = {
    "sigmoid": cl.Sigmoid(), "tanh": cl.Tanh(), "ReLU": cl.ReLU(),
    "Leaky ReLU (α = 0.1 here)": cl.LeakyReLU(0.1), "PReLU (α = 0.25 at init)": cl.PReLU(1, init=0.25),
    "ELU (α = 1)": cl.ELU(1.0), "Maxout (k = 3 pieces)": maxout_unit,
    "GELU": cl.GELU(), "SiLU / Swish": cl.SiLU(),
}
fig, axes = plt.subplots(3, 3, figsize=(11, 8.5), sharex=True)
x = np.linspace(-4, 4, 801)
for ax, (name, act) in zip(axes.ravel(), zoo.items()):
    if hasattr(act, "derivative"):
        cl.plots.plot_activation(act, ax=ax, x=x, title=name)
    else:
        aw.plot_curve(act, ax=ax, x=x, title=name)
    ax.set_ylim(-1.7, 3.2)
for ax in axes[:2].ravel():
    ax.set_xlabel("")
fig.suptitle("Activation functions f (solid) and their derivatives f' (dashed)", y=0.995)
fig.tight_layout()
plt.show()

# %% [markdown]
# Three shapes recur. **Squashing** functions (sigmoid, tanh) are flat far from 0 — their
# derivative vanishes in both tails. **Rectifiers** (ReLU and its relatives) are the identity
# for $x > 0$, so their slope there is exactly 1 however large $x$ gets; they differ in what
# they do for $x < 0$. **Smooth rectifiers** (ELU, GELU, SiLU) round off the kink. Every
# section below is about one of these differences.

# %% [markdown]
# ## 2 · Sigmoid and its three problems
#
# $\sigma(x) = 1/(1 + e^{-x})$ squashes any number into $(0, 1)$. It was the activation of
# early neural networks because of a biological story: read $\sigma$ as a neuron's **firing
# rate**, from silent (0) to firing as fast as it can (1). It is still the right *output*
# function for a yes/no target (notebook 00). As a *hidden* activation it has three problems.
#
# ### Problem 1: saturation kills the gradient
#
# $\sigma'(x) = \sigma(x)(1 - \sigma(x))$ is at most $\tfrac12\cdot\tfrac12 = \tfrac14$, at
# $x = 0$, and decays like $e^{-|x|}$ in the tails. A unit whose input sits in a tail is
# **saturated**: whatever the loss wants, the backward pass multiplies that wish by almost 0,
# so the weights feeding the unit hardly move.

# %%
sigmoid = cl.Sigmoid()
x = np.linspace(-10, 10, 20001)          # a grid that contains 0 exactly
d = sigmoid.derivative(x)
print(f"max σ'(x) = {d.max():.6f} at x = {x[d.argmax()]:+.3f}")
for v in (2.0, 5.0, 10.0):
    print(f"σ'({v:>4}) = {sigmoid.derivative(np.array(v)):.2e}   σ({v}) = {sigmoid.forward(np.array(v)):.5f}")
assert abs(d.max() - 0.25) < 1e-12 and abs(x[d.argmax()]) < 1e-12     # max slope 1/4, at 0
assert sigmoid.derivative(np.array(5.0)) < 0.007                       # < 3% of the max at x = 5

# %% [markdown]
# Even at the best point, $x = 0$, a sigmoid layer passes back at most a quarter of the
# gradient it receives. Stack layers and these quarters multiply. Here are five hidden
# layers, **identical weights**, only the activation differs; `cl.diagnostics.layer_stats`
# measures the spread (std) of the loss gradient at each activation's output on the digits.

# %%
deep = [64, 64, 64, 64, 64, 64, 10]
attenuation = {}
for act in (cl.Sigmoid, cl.Tanh, cl.ReLU):
    stats = cl.diagnostics.layer_stats(mlp(act, deep), Xtr, loss_fn, ytr)
    g = stats.column("grad_std")
    attenuation[act.__name__] = g[0] / g[-1]
    print(f"{act.__name__:<8} gradient std in layers 1 … 5, relative to layer 5: {g / g[-1]}")
assert attenuation["Sigmoid"] < 0.03               # 4 sigmoid layers: the gradient shrinks > 30x
assert 0.5 < attenuation["ReLU"] < 2               # ReLU (with He init): the scale is kept

# %% [markdown]
# Through four sigmoid layers the gradient loses a factor of about 100 (≈ 3× per layer);
# the first layer of a deep sigmoid net learns a hundred times more slowly than the last.
# ReLU keeps the scale. (tanh's gradient even grows a little towards the input: He init is
# scaled for ReLU and slightly too large for tanh.)
#
# Initialization can compensate only partly (notebook 02): since $\sigma'(0) = 1/4$ while
# $\tanh'(0) = 1$, a sigmoid layer needs about **4× the weight scale of a tanh layer** to
# pass gradients on at the same strength — and even then its units saturate more easily.
# A widely copied initialization table has this factor the wrong way round (it gives tanh
# 4× the sigmoid's scale); notebook 02 derives the correct version.
#
# ### Problem 2: the outputs are not zero-centred
#
# $\sigma(x) > 0$ always; for inputs symmetric around 0 its outputs average $\tfrac12$. So the
# next layer only ever sees positive inputs. That has a surprising consequence for how
# that layer learns — section 3.

# %%
z = np.random.default_rng(0).standard_normal(100_000)
print(f"mean of σ(z) for z ~ N(0, 1): {sigmoid.forward(z).mean():.4f}")
assert abs(sigmoid.forward(z).mean() - 0.5) < 0.01

# %% [markdown]
# ### Problem 3: the exponential is costly
#
# Every sigmoid evaluates an `exp` and a division; ReLU is one comparison. The timing below
# (per million values, on whatever machine runs this notebook — so its output is not checked
# by the tests, only the ordering asserted at the end) compares whole activation layers and
# also the bare NumPy `exp` against the bare `maximum`.

# %% tags=["nbval-ignore-output"]
u = np.random.default_rng(1).standard_normal(1_000_000)
candidates = {"np.maximum (bare)": lambda: np.maximum(u, 0.0), "np.exp (bare)": lambda: np.exp(u),
              "ReLU layer": lambda: cl.ReLU().forward(u), "sigmoid layer": lambda: cl.Sigmoid().forward(u),
              "tanh layer": lambda: cl.Tanh().forward(u), "ELU layer": lambda: cl.ELU().forward(u),
              "GELU layer": lambda: cl.GELU().forward(u)}
cost = {name: min(timeit.repeat(f, number=3, repeat=7)) / 3 for name, f in candidates.items()}
for name, t in cost.items():
    print(f"{name:<18} {1e3 * t:6.2f} ms   ({t / cost['ReLU layer']:5.1f}× the ReLU layer)")
assert cost["sigmoid layer"] > 1.5 * cost["ReLU layer"]

# %% [markdown]
# The sigmoid layer costs many times the ReLU layer. But look at the two bare lines: on the
# machine that ran this notebook (a modern CPU whose NumPy has vectorized math functions),
# a bare `exp` costs little more than `maximum` — both are limited by reading and writing
# memory, not by arithmetic. Most of the sigmoid's cost here
# comes from the extra passes over the data that a numerically stable version needs
# (`abs`, `exp`, two divisions, a selection). "exp is costly" was a stronger statement
# on older hardware and in scalar code; on GPUs, element-wise functions are fused into
# their neighbours and the difference shrinks further. It is a real but secondary argument:
# the matrix products dominate the cost of a network either way.

# %% [markdown]
# ## 3 · Why zero-centred inputs matter: the zig-zag
#
# Take one unit that receives inputs $x_1, x_2$ from the previous layer:
# $z = w_1 x_1 + w_2 x_2$. For one example, the chain rule gives
#
# $$\frac{\partial L}{\partial w_i} = \frac{\partial L}{\partial z}\, x_i .$$
#
# If every $x_i > 0$ (outputs of sigmoids, or of ReLUs), all components of this gradient have
# **the sign of the single number** $\partial L/\partial z$. An update can therefore increase
# all of the unit's weights or decrease all of them — never raise $w_1$ while lowering
# $w_2$. If the best weights need exactly that, each example can only push along the diagonal
# $(+,+)$ or $(-,-)$, and the path to the optimum becomes a **zig-zag** of such moves.
#
# The experiment: a two-weight unit learns the target $w^* = (1, -1)$ from $w_0 = (-1, 1)$
# (squared error, one example per step). Inputs are sigmoid outputs $x = \sigma(u)$,
# $u \sim N(0, 1)$ — or the same numbers centred, $x - \tfrac12 = \tfrac12\tanh(u/2)$, which is
# what a tanh layer would deliver. Each run takes the step size $\eta = 0.5 / \mathbb{E}\|x\|^2$
# (the same *relative* step for both, well inside the stable range $\eta < 2/\|x\|^2$).

# %%
U = np.random.default_rng(0).standard_normal((500, 2))
inputs = {"positive inputs σ(u)": sigmoid.forward(U), "centred inputs σ(u) − ½": sigmoid.forward(U) - 0.5}
w0, w_star = np.array([-1.0, 1.0]), np.array([1.0, -1.0])


def sgd_path(X, seed, tol=0.1, max_steps=2000):
    """One-example-per-step SGD on L = ½ (x·w − x·w*)²; returns the visited weights (T, 2)."""
    rng = np.random.default_rng(seed)
    lr = 0.5 / np.mean(np.sum(X ** 2, axis=1))
    w, path = w0.copy(), [w0.copy()]
    while len(path) <= max_steps and np.linalg.norm(w - w_star) >= tol:
        x = X[rng.integers(len(X))]
        w = w - lr * (x @ (w - w_star)) * x          # dL/dw = (dL/dz) x
        path.append(w.copy())
    return np.array(path)


same_sign, steps = {}, {}
for name, X in inputs.items():
    g = (X @ (w0 - w_star))[:, None] * X              # per-example gradients at w0
    same_sign[name] = np.mean(np.sign(g[:, 0]) == np.sign(g[:, 1]))
    steps[name] = [len(sgd_path(X, seed)) - 1 for seed in range(10)]
    print(f"{name:<26} gradients with both components of one sign: {same_sign[name]:5.0%}   "
          f"steps to reach w* (10 runs): median {np.median(steps[name]):.0f}")
pos, cen = inputs
assert same_sign[pos] == 1.0 and 0.2 < same_sign[cen] < 0.8
assert np.median(steps[pos]) > 3 * np.median(steps[cen])

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
ax = axes[0]
ax.fill_between([0, 2], -2, 0, color="C2", alpha=0.12, label="towards w* (Δw₁ > 0, Δw₂ < 0)")
for (name, X), marker in zip(inputs.items(), ("o", "x")):
    lr = 0.5 / np.mean(np.sum(X ** 2, axis=1))
    step = -lr * (X @ (w0 - w_star))[:, None] * X      # each example's SGD step at w0
    ax.scatter(step[:, 0], step[:, 1], s=10, marker=marker, alpha=0.5, label=name)
ax.axhline(0, color="grey", lw=0.5)
ax.axvline(0, color="grey", lw=0.5)
ax.set_xlim(-1.2, 1.2)
ax.set_ylim(-1.2, 1.2)
ax.set_aspect("equal")
ax.set_xlabel("Δw₁")
ax.set_ylabel("Δw₂")
ax.set_title("one SGD step per example, at w₀")
ax.legend(fontsize=7, loc="upper left")
for ax, (name, X) in zip(axes[1:], inputs.items()):
    C = X.T @ X / len(X)                               # the loss is ½ (w − w*)ᵀ C (w − w*)
    cl.plots.plot_optimizer_paths(
        lambda a, b: 0.5 * (C[0, 0] * (a - 1) ** 2 + 2 * C[0, 1] * (a - 1) * (b + 1) + C[1, 1] * (b + 1) ** 2),
        {f"SGD, {len(sgd_path(X, 0)) - 1} steps": sgd_path(X, 0)}, ax=ax,
        xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), levels=15, title=name)
    ax.plot(*w_star, "k*", ms=12)
fig.tight_layout()
plt.show()

# %% [markdown]
# Left: with positive inputs every example's step points into the first or third quadrant —
# never into the shaded lower-right quadrant, which is where $w^*$ lies; with centred inputs
# many steps go there directly. Middle: the path can only creep towards $w^*$ as a staircase
# of north-east / south-west moves. Right: centred inputs allow any direction, and the path
# is short. The loss contours tell the same story in the language of notebook 00: the loss
# is $\tfrac12 (w - w^*)^\top C\, (w - w^*)$ with $C = \mathbb{E}[x x^\top]$, and the mean of
# the inputs adds a large eigenvalue along $(1, 1)$ to $C$, stretching the valley:
#
# %%
for name, X in inputs.items():
    eigvals, eigvecs = np.linalg.eigh(X.T @ X / len(X))
    print(f"{name:<26} eigenvalues of C: {eigvals}   condition number {eigvals[1] / eigvals[0]:5.1f}   "
          f"top eigenvector {eigvecs[:, 1] * np.sign(eigvecs[0, 1])}")
eig_pos, vec_pos = np.linalg.eigh(inputs[pos].T @ inputs[pos] / len(inputs[pos]))
eig_cen = np.linalg.eigvalsh(inputs[cen].T @ inputs[cen] / len(inputs[cen]))
assert eig_pos[1] / eig_pos[0] > 5 and eig_cen[1] / eig_cen[0] < 1.5
assert abs(vec_pos[:, 1] @ np.array([1.0, 1.0]) / np.sqrt(2)) > 0.99     # the long axis is (1, 1)

# %% [markdown]
# Mini-batches soften the effect (the examples' $\partial L/\partial z$ differ in sign, so a
# batch gradient can point anywhere), but the stretched valley remains. This is one reason
# to centre the *data* (notebook 00), to prefer zero-centred *activations* (tanh over
# sigmoid; ELU over ReLU, section 8) — and, later, for BatchNorm (notebook 04).

# %% [markdown]
# ## 4 · tanh: zero-centred, but it still saturates
#
# $\tanh$ is a sigmoid stretched to $(-1, 1)$ and shifted to be odd:
# $\tanh(x) = 2\sigma(2x) - 1$ (multiply numerator and denominator of $\tanh x =
# \frac{e^x - e^{-x}}{e^x + e^{-x}}$ by $e^{-x}$). Its outputs are zero-centred for symmetric
# inputs — problem 2 is fixed — and its slope at 0 is 1 instead of $\tfrac14$. But its tails
# are just as flat: problem 1 remains, and so does the exponential.

# %%
tanh = cl.Tanh()
x = np.linspace(-8, 8, 16001)
identity_err = np.abs(tanh.forward(x) - (2 * sigmoid.forward(2 * x) - 1)).max()
print(f"max |tanh(x) − (2σ(2x) − 1)| on [−8, 8]: {identity_err:.1e}")
print(f"mean tanh(z), z ~ N(0,1): {tanh.forward(z).mean():+.4f}    max tanh' = {tanh.derivative(x).max():.3f}"
      f"    tanh'(3) = {tanh.derivative(np.array(3.0)):.4f}")
assert identity_err < 1e-12
assert abs(tanh.forward(z).mean()) < 0.01                  # zero-centred
assert tanh.derivative(x).max() == 1.0                     # slope 1 at 0 (sigmoid: 1/4)
assert tanh.derivative(np.array(3.0)) < 0.01               # … and saturated beyond |x| ≈ 3

# %% [markdown]
# ## 5 · ReLU: cheap, no saturation for $x > 0$ — and it converges faster
#
# $\mathrm{ReLU}(x) = \max(0, x)$. Its slope is exactly 1 for every positive input, however
# large: a rectified unit **cannot saturate** on that side, and the gradient passes through
# active units undiminished (we saw the first/last ratio ≈ 1 in section 2). It costs a
# comparison, no exponential. (Its derivative at the kink $x = 0$ is undefined; like PyTorch
# we use 0 there. It almost never matters: exact zeros are rare.)
#
# **The published number.** Krizhevsky, Sutskever & Hinton (2012, the "AlexNet" paper)
# trained a four-layer convolutional network on CIFAR-10 and reported that with ReLUs it
# reached 25% training error about **six times faster** (in epochs) than the same network
# with tanh units, each with its own best learning rate. We cannot rerun that here (no
# downloads, no convolutions), so we measure our own version on a small problem: a deep-ish
# MLP (5 hidden layers of 32 units, the same initial weights for every activation) on the
# three-class spirals, SGD with momentum 0.9, and count the **epochs until the training
# accuracy first reaches 99%** — under two protocols:
#
# * **(a) the same settings for all:** learning rate 0.01, three seeds;
# * **(b) each activation with its own best learning rate** from {0.003, 0.01, 0.03}, as in
#   the AlexNet comparison, three seeds.

# %%
X_sp, y_sp = cl.data.make_spirals(100, 3, noise=0.2, rng=0)
spiral_net, target, max_epochs = [2, 32, 32, 32, 32, 32, 3], 0.99, 60


def epochs_to_target(act, lr, seed):
    """SGD (momentum 0.9) on the spirals, one epoch at a time, until the full-pass training
    accuracy reaches ``target``. Returns (epochs needed, or inf; accuracy after each epoch)."""
    model = mlp(act, spiral_net, seed)
    opt, shuffle, curve = cl.SGD(model.parameters(), lr=lr, momentum=0.9), np.random.default_rng(seed), []
    while len(curve) < max_epochs and (not curve or curve[-1] < target):
        # one epoch per call; the explosion guard compares with the call's first loss, so off
        cl.fit(model, loss_fn, opt, X_sp, y_sp, epochs=1, batch_size=32, rng=shuffle,
               progress=False, ratio_every=0, explode_factor=np.inf)
        curve.append(cl.evaluate(model, loss_fn, X_sp, y_sp)[1])
    return (len(curve) if curve[-1] >= target else np.inf), curve


same_lr = {act.__name__: [epochs_to_target(act, 0.01, seed) for seed in range(3)]
           for act in (cl.ReLU, cl.Tanh, cl.Sigmoid)}
for name, runs in same_lr.items():
    print(f"(a) lr 0.01   {name:<8} epochs to {target:.0%}, seeds 0–2: {[float(n) for n, _ in runs]}")
relu_a, tanh_a = ([n for n, _ in same_lr[k]] for k in ("ReLU", "Tanh"))
print(f"    ReLU speed-up over tanh at the same settings: {np.mean(tanh_a) / np.mean(relu_a):.1f}×")
assert all(r < t for r, t in zip(relu_a, tanh_a))                  # ReLU first, on every seed
assert all(np.isinf(n) for n, _ in same_lr["Sigmoid"])            # sigmoid: never, in 60 epochs

# %%
grid = (0.003, 0.01, 0.03)
tuned = {act.__name__: [min(epochs_to_target(act, lr, seed)[0] for lr in grid) for seed in range(3)]
         for act in (cl.ReLU, cl.Tanh)}
sigmoid_any = [epochs_to_target(cl.Sigmoid, lr, 0)[0] for lr in grid]
for name, best_n in tuned.items():
    print(f"(b) best lr   {name:<8} epochs to {target:.0%}, seeds 0–2: {best_n}")
print(f"    sigmoid at each lr of the grid (seed 0): {sigmoid_any}")
ratio_b = np.mean(tuned["Tanh"]) / np.mean(tuned["ReLU"])
print(f"    tuned: tanh needs {ratio_b:.2f}× the epochs of ReLU on average")
assert 0.5 < ratio_b < 2                          # tuned, neither is even 2× faster here
assert all(np.isinf(n) for n in sigmoid_any)

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, runs in same_lr.items():
    n, curve = runs[0]
    ax.plot(np.arange(1, len(curve) + 1), curve, "o-", ms=2.5,
            label=f"{name}: " + (f"{n} epochs" if np.isfinite(n) else f"not in {max_epochs} epochs"))
ax.axhline(target, color="k", ls=":", lw=1, label=f"target {target:.0%}")
ax.set_xlabel("epoch")
ax.set_ylabel("training accuracy (full pass)")
ax.set_title("Spirals, 5 hidden layers × 32, lr 0.01 for all (seed 0)")
ax.legend(fontsize=8, loc="center right")
plt.show()

# %% [markdown]
# What the measurement says:
#
# * **At the same settings ReLU gets there first, on every seed**, and the deep sigmoid net
#   never gets off the ground (section 2's attenuation). The reason is the slope: an active
#   ReLU passes the gradient on with factor 1, a tanh unit with $	anh'(z) < 1$ — much less
#   when it saturates — so the same learning rate means smaller effective steps for tanh.
# * **Give each its own best learning rate and, on this small problem, the gap closes**:
#   tanh simply wants a larger rate (0.03 here) and then needs about as many epochs as
#   ReLU. We do not reproduce AlexNet's 6×, and that is worth saying plainly: such a factor
#   belongs to a setting — a larger convolutional network on real images, where saturation
#   bites harder — not to the activation alone. A small, well-initialized MLP is where tanh
#   suffers least.
# * ReLU keeps two practical advantages regardless: each epoch is cheaper, and a
#   non-saturating unit is less sensitive to how large its inputs are.
#
# ### ReLU's problems
#
# * **Not zero-centred.** For $z \sim N(0, 1)$ the mean output is $1/\sqrt{2\pi} \approx 0.40$:
#   the next layer gets positive inputs, with section 3's consequences.
# * **Zero gradient for $x < 0$.** An inactive unit passes no gradient, so its incoming
#   weights get no update from that example. If a unit is inactive for **every** training
#   example, it never gets an update again: it is **dead**. Two common causes: an unlucky
#   initialization, or one large update (a too-high learning rate) that pushes its weights or
#   bias so far that $xW + b < 0$ for all data.
# * A small **positive bias**, such as $b = 0.01$, is sometimes used to start every ReLU
#   active on more inputs. The evidence that it helps is mixed, and — as the next experiment
#   shows — it does not protect against the large-update kind of death.

# %%
relu = cl.ReLU()
print(f"mean ReLU(z), z ~ N(0,1): {relu.forward(z).mean():.4f}   (1/√(2π) = {1 / np.sqrt(2 * np.pi):.4f})")
assert abs(relu.forward(z).mean() - 1 / np.sqrt(2 * np.pi)) < 0.01

# %% [markdown]
# ## 6 · The dead-ReLU experiment
#
# An MLP 64 → 100 → 100 → 10 on the digits, SGD with momentum 0.9 for 5 epochs, once with a
# sensible learning rate (0.05) and once with a rate 20× too high (1.0). Afterwards,
# `cl.diagnostics.layer_stats` runs the whole **training set** through the net and reports,
# per ReLU layer, the share of units that output 0 for *every* example (`dead`, computed by
# `cl.diagnostics.dead_fraction`). `fit` normally stops a run whose loss exceeds 3× its
# initial value; we raise that guard (`explode_factor`) so the run goes on as a naive training
# loop would. Three seeds each, and a third variant: the high rate with all biases
# initialized to 0.01.

# %%
def train_digits(act, lr, seed, epochs=5, sizes=(64, 100, 100, 10), bias=0.0):
    model = mlp(act, list(sizes), seed)
    for layer in model:
        if isinstance(layer, cl.Linear):
            layer.b.data[:] = bias
    hist = cl.fit(model, loss_fn, cl.SGD(model.parameters(), lr=lr, momentum=0.9), Xtr, ytr,
                  epochs=epochs, batch_size=64, val=(Xva, yva), rng=seed, progress=False,
                  ratio_every=0, explode_factor=1e9)
    return model, hist


def dead_share(model):
    """Share of all hidden ReLUs that never fire on the training set."""
    stats = cl.diagnostics.layer_stats(model, Xtr)
    sizes = [layer.out_features for layer in model if isinstance(layer, cl.Linear)][:-1]
    return float(np.average(stats.column("dead"), weights=sizes)), stats


dead, models, hists = {}, {}, {}
for label, lr, bias in (("lr 0.05", 0.05, 0.0), ("lr 1.0", 1.0, 0.0), ("lr 1.0, bias 0.01", 1.0, 0.01)):
    dead[label] = []
    for seed in range(3):
        model, hist = train_digits(cl.ReLU, lr, seed, bias=bias)
        share, stats = dead_share(model)
        dead[label].append(share)
        models[label, seed], hists[label, seed] = model, hist
        print(f"{label:<18} seed {seed}: dead per layer {stats.column('dead')}  → {share:5.1%} of all "
              f"hidden units; val acc {hist.val_acc[-1]:.3f} ({hist.status})")
    print()
mean_dead = {label: np.mean(v) for label, v in dead.items()}
print({label: f"{v:.1%}" for label, v in mean_dead.items()})
assert mean_dead["lr 0.05"] < 0.05
assert mean_dead["lr 1.0"] > 0.3 and mean_dead["lr 1.0"] > 10 * mean_dead["lr 0.05"]
assert mean_dead["lr 1.0, bias 0.01"] > 0.3          # the small positive bias does not save them

# %% [markdown]
# With the sensible rate essentially every unit is alive; with the high rate around half of
# all hidden units never fire again, in some runs nearly a whole layer — and then the
# network is reduced to guessing (validation accuracy near 10%). Two of the high-rate runs
# even trip the raised guard ("exploded": the loss grew a billionfold); the units died on
# the way. Starting every bias at 0.01 does not prevent any of it.
#
# The picture below shows *how often* each hidden unit of the second layer fires on the
# training set: a dead unit is a bar at exactly 0.

# %%
def firing_rate(model, layer_index=3):
    outputs, _ = cl.diagnostics.trace(model, Xtr)
    return (outputs[layer_index] > 0).mean(axis=0)         # per unit: share of examples active


fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, label in zip(axes, ("lr 0.05", "lr 1.0")):
    rate = firing_rate(models[label, 0])
    ax.hist(rate, bins=np.linspace(0, 1, 21), color="C0" if label == "lr 0.05" else "C3")
    ax.set_title(f"{label}: {np.mean(rate == 0):.0%} of layer-2 units dead (seed 0)")
    ax.set_xlabel("share of training examples on which the unit fires")
axes[0].set_ylabel("number of units")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to do about it.** Mind the learning rate first (notebook 08 shows how to find
# one); watch the dead share during training — `cl.diagnostics.hints` reads it off a
# `layer_stats` table for you; or use an activation whose negative side still passes
# gradient (next section).

# %%
hints = cl.diagnostics.hints(hists["lr 1.0", 1], dead_share(models["lr 1.0", 1])[1])
print("\n".join("• " + line for line in hints))
assert any("dead" in line for line in hints)

# %% [markdown]
# ## 7 · Leaky ReLU and PReLU: keep a little slope on the negative side
#
# **Leaky ReLU** $f(x) = \max(\alpha x, x)$ with a small $\alpha$, typically $0.01$. For
# $x < 0$ the slope is $\alpha$ instead of 0, so an inactive unit still receives a (small)
# gradient and can recover: it cannot die.
#
# Why "small"? At $\alpha = 1$ the function is $\max(x, x) = x$: the identity. A network of
# affine layers joined by identities is one affine map — depth buys nothing, and the network
# can only draw straight decision boundaries. `course_lib` therefore refuses $\alpha = 1$:

# %%
try:
    cl.LeakyReLU(alpha=1.0)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# To see the collapse anyway we use a PReLU (next subsection) whose slope is set to 1 and
# frozen. Three layers, two "activations" — and the product of the weight matrices, with the
# biases carried along, reproduces the network's output exactly:
#
# $$\big((xW_1 + b_1)W_2 + b_2\big)W_3 + b_3 = x\,\underbrace{W_1W_2W_3}_{W} + \underbrace{(b_1W_2 + b_2)W_3 + b_3}_{b}.$$

# %%
rng = np.random.default_rng(3)
lin = [cl.Linear(2, 16, rng=rng), cl.Linear(16, 16, rng=rng), cl.Linear(16, 2, rng=rng)]
for layer in lin:
    layer.b.data[:] = rng.normal(0, 0.5, layer.out_features)
linear_net = cl.Sequential(lin[0], cl.PReLU(1, init=1.0), lin[1], cl.PReLU(1, init=1.0), lin[2])
(W1, b1), (W2, b2), (W3, b3) = [(layer.W.data, layer.b.data) for layer in lin]
W_eff, b_eff = W1 @ W2 @ W3, (b1 @ W2 + b2) @ W3 + b3
xs = rng.standard_normal((200, 2))
collapse_err = np.abs(linear_net.forward(xs) - (xs @ W_eff + b_eff)).max()
print(f"3 layers with α = 1 vs. one affine map (2×2 W, 2 biases): max difference {collapse_err:.1e}")
assert collapse_err < 1e-12

# %% [markdown]
# The consequence, on the two concentric circles (not separable by a line): the same
# network trained with $\alpha = 0.01$ and with the frozen $\alpha = 1$.

# %%
X_c, y_c = cl.data.make_circles(400, noise=0.08, factor=0.5, rng=0)
circle_nets = {}
for alpha in (0.01, 1.0):
    net = mlp(lambda: cl.PReLU(1, init=alpha), [2, 32, 32, 2], seed=0)
    trainable = [p for name, p in net.named_parameters() if not name.endswith("alpha")]   # α frozen
    cl.fit(net, loss_fn, cl.SGD(trainable, lr=0.05, momentum=0.9), X_c, y_c, epochs=60,
           batch_size=32, rng=0, progress=False, ratio_every=0)
    circle_nets[alpha] = (net, cl.evaluate(net, loss_fn, X_c, y_c)[1])
    print(f"α = {alpha:<4}: training accuracy {circle_nets[alpha][1]:.3f}")
assert circle_nets[0.01][1] > 0.95 and circle_nets[1.0][1] < 0.7

fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, (alpha, (net, acc)) in zip(axes, circle_nets.items()):
    cl.plots.plot_decision_boundary(net, X_c, y_c, ax=ax, title=f"α = {alpha}: accuracy {acc:.0%}")
fig.tight_layout()
plt.show()

# %% [markdown]
# With $\alpha = 1$ the best the network can do is a straight line (≈ 50% on this data).
# In between, the kink — a change of slope by $1 - \alpha$ — fades as $\alpha \to 1$, and each
# unit contributes less and less non-linearity; keep $\alpha$ well below 1.
#
# ### PReLU: learn the slope
#
# **PReLU** (He et al., 2015) makes $\alpha$ a parameter — one per unit (channel), or one
# shared by the layer — trained by backprop like the weights. It needs its own gradient:
# for $f = \max(\alpha x, x)$ with $\alpha < 1$, $\partial f/\partial\alpha = x$ where
# $x \le 0$ and 0 elsewhere, so
#
# $$\frac{\partial L}{\partial \alpha_j} = \sum_{i:\,x_{ij} \le 0} \frac{\partial L}{\partial f_{ij}}\, x_{ij}$$
#
# (summed over the batch). A gradient check (notebook 03) compares this with finite
# differences:

# %%
check = cl.gradcheck(cl.PReLU(5, init=0.25), np.random.default_rng(0).standard_normal((16, 5)))
print(check)
assert check.errors["alpha"] < 1e-7 and check.ok

# %% [markdown]
# And $\alpha$ does move. A digits MLP with one PReLU slope per hidden unit, all starting at
# 0.25; we record the slopes after every epoch.

# %%
rng = np.random.default_rng(0)
prelu_net = cl.Sequential(cl.Linear(64, 64, rng=rng), cl.PReLU(64), cl.Linear(64, 64, rng=rng),
                          cl.PReLU(64), cl.Linear(64, 10, rng=rng))
opt = cl.SGD(prelu_net.parameters(), lr=0.05, momentum=0.9)
shuffle = np.random.default_rng(0)
alphas = [np.r_[prelu_net[1].alpha.data, prelu_net[3].alpha.data]]
for epoch in range(10):
    hist = cl.fit(prelu_net, loss_fn, opt, Xtr, ytr, epochs=1, batch_size=64, val=(Xva, yva),
                  rng=shuffle, progress=False, ratio_every=0)
    alphas.append(np.r_[prelu_net[1].alpha.data, prelu_net[3].alpha.data])
alphas = np.array(alphas)                                     # (epochs + 1, 128 units)
moved = np.abs(alphas[-1] - 0.25)
print(f"val accuracy {hist.val_acc[-1]:.3f}; after 10 epochs α ranges over [{alphas[-1].min():.2f}, "
      f"{alphas[-1].max():.2f}], mean |α − 0.25| = {moved.mean():.3f}, "
      f"layer means {alphas[-1, :64].mean():.3f} / {alphas[-1, 64:].mean():.3f}")
assert moved.mean() > 0.03 and alphas[-1].std() > 0.03

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, (lo, hi), title in zip(axes, ((0, 64), (64, 128)), ("hidden layer 1", "hidden layer 2")):
    ax.plot(alphas[:, lo:hi], color="C0", lw=0.6, alpha=0.5)
    ax.plot(alphas[:, lo:hi].mean(axis=1), color="k", lw=2, label="mean over units")
    ax.set_title(f"PReLU slopes, {title}")
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
axes[0].set_ylabel("α (one line per unit)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each unit finds its own slope. Two practical notes: PReLU adds one parameter per unit
# (negligible), and weight decay should **not** be applied to $\alpha$ — it would pull every
# slope towards 0, i.e. back to plain ReLU (He et al. leave it out for that reason).

# %% [markdown]
# ## 8 · ELU: smooth, and closer to zero mean
#
# $$\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^x - 1) & x \le 0 \end{cases}$$
#
# (Clevert et al., 2016). For $x > 0$ it is ReLU; for $x < 0$ it bends smoothly down and
# **saturates at $-\alpha$**. With $\alpha = 1$ the slope is continuous at 0 ($\alpha e^0 = 1$
# from the left), so the function is smooth. The negative outputs pull the mean activation
# towards 0 — a partial fix of the zero-centring problem — and the saturation to $-\alpha$
# makes a strongly negative unit's output a fixed value rather than a source of noise. The
# price: an `exp` again, for every negative input.

# %%
elu = cl.ELU(alpha=1.0)
print(f"ELU(−30) = {elu.forward(np.array(-30.0)):.12f}   slope just left / right of 0: "
      f"{elu.derivative(np.array(-1e-9)):.6f} / {elu.derivative(np.array(1e-9)):.6f}")
assert abs(elu.forward(np.array(-30.0)) + 1.0) < 1e-12                     # saturates to −α
assert abs(elu.derivative(np.array(-1e-9)) - elu.derivative(np.array(1e-9))) < 1e-8   # smooth

# %% [markdown]
# Zero mean "on real data": three hidden layers with **the same weights**, ReLU or ELU, and
# the mean of each layer's activations over the digits training set.

# %%
means = {act.__name__: cl.diagnostics.layer_stats(mlp(act, [64, 64, 64, 64, 10]), Xtr).column("mean")
         for act in (cl.ReLU, cl.ELU)}
for name, m in means.items():
    print(f"{name:<4} mean activation per hidden layer: {m}")
assert np.all(np.abs(means["ELU"]) < np.abs(means["ReLU"]))

# %% [markdown]
# ## 9 · Maxout: learn the activation's shape
#
# A Maxout unit (Goodfellow et al., 2013) computes $k$ affine functions of its input and
# outputs the largest: $\;\max_{j \le k}(x w_j + b_j)$. It is not a function applied after a
# `Linear` layer — it *replaces* the pair, which is why `cl.Maxout(in, out, pieces=k)` is a
# layer with weights of shape `(in, out, k)`.
#
# * It **generalizes ReLU and Leaky ReLU**: with $k = 2$ and one piece fixed at zero it is
#   $\max(0, xw + b)$; with the second piece $0.01\times$ the first, it is Leaky ReLU.
# * Its output is linear in the winning piece, with slope 1 in that piece's parameters, so
#   it **never saturates**, and some piece always wins, so a gradient always flows: it
#   **does not die** the way a ReLU does.
# * The price: **$k$ times the parameters** (and the compute) of the Linear layer it replaces.

# %%
rng = np.random.default_rng(0)
W, b = rng.standard_normal((64, 8)), rng.standard_normal(8)
xs = Xtr[:50]
maxout = cl.Maxout(64, 8, pieces=2)
for second, reference in ((0.0, cl.ReLU()), (0.01, cl.LeakyReLU(0.01))):
    maxout.W.data[...] = np.stack([W, second * W], axis=-1)
    maxout.b.data[...] = np.stack([b, second * b], axis=-1)
    err = np.abs(maxout.forward(xs) - reference.forward(xs @ W + b)).max()
    print(f"Maxout with second piece = {second} × first  vs  {reference!r}: max difference {err:.1e}")
    assert err < 1e-12

for k in (2, 3, 4):
    n_max, n_lin = cl.Maxout(64, 100, pieces=k).num_parameters(), cl.Linear(64, 100).num_parameters()
    print(f"Maxout(64→100, k={k}): {n_max:,} parameters = {n_max / n_lin:.0f} × Linear(64→100)'s {n_lin:,}")
    assert n_max == k * (64 * 100 + 100) == k * n_lin

# %% [markdown]
# ## 10 · GELU and SiLU: the smooth rectifiers of modern networks
#
# Two newer members of the same family, common in Transformers (GELU; SiLU inside the
# "SwiGLU" blocks of LLaMA-style models) and in vision networks such as EfficientNet (SiLU):
#
# * **GELU** (Hendrycks & Gimpel, 2016): $x\,\Phi(x)$, where $\Phi$ is the standard normal
#   CDF — "keep $x$ with the probability that a standard normal is below $x$". BERT and GPT-2
#   use it. `cl.GELU` uses the common tanh approximation
#   $0.5x\,(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$, like `torch.nn.GELU(approximate="tanh")`.
# * **SiLU**, also called **Swish** (with $\beta = 1$): $x\,\sigma(x)$ (Elfwing et al. 2017;
#   Ramachandran et al. 2017).
#
# Both are smooth everywhere, behave like ReLU for large $|x|$, and — unlike the fixed
# activations so far (a Maxout unit can learn such shapes) — are **not monotonic**: they dip slightly below zero for negative $x$ before
# returning to 0. Both cost an exponential or a tanh.

# %%
x = np.linspace(-6, 6, 120001)
gelu_exact = x * 0.5 * (1 + np.vectorize(erf)(x / np.sqrt(2)))
approx_err = np.abs(cl.GELU().forward(x) - gelu_exact).max()
silu, gelu = cl.SiLU().forward(x), cl.GELU().forward(x)
print(f"GELU: tanh approximation vs exact x·Φ(x): max difference {approx_err:.1e}")
print(f"minimum of SiLU: {silu.min():.4f} at x = {x[silu.argmin()]:.3f};  "
      f"of GELU: {gelu.min():.4f} at x = {x[gelu.argmin()]:.3f}")
assert approx_err < 1e-3
assert abs(silu.min() + 0.2785) < 1e-3 and abs(gelu.min() + 0.170) < 2e-3    # the dips
assert np.any(np.diff(silu) < 0) and np.any(np.diff(gelu) < 0)              # not monotonic

# %% [markdown]
# ## 11 · The practical advice — stated, then tested
#
# The usual advice, which we will now put to a test:
#
# 1. **Use ReLU** — and mind the learning rate (section 6).
# 2. If units die, or you have the budget to try, **try Leaky ReLU, ELU or Maxout**.
# 3. **tanh** is rarely better than the ReLU family.
# 4. **Do not use sigmoid in hidden layers** (keep it for a yes/no output).
#
# The test: the same MLP on the digits, 64 → 64 → 64 → 64 → 10, the same initial weights
# (He init; Maxout has its own, twice as many), the same optimizer (SGD, momentum 0.9,
# lr 0.02), the same budget (20 epochs, batch 64), two seeds; only the hidden activation
# changes. We report the validation accuracy.

# %%
contest = {"ReLU": cl.ReLU, "Leaky ReLU": cl.LeakyReLU, "ELU": cl.ELU, "Maxout (k=2)": "maxout",
           "GELU": cl.GELU, "SiLU": cl.SiLU, "tanh": cl.Tanh, "sigmoid": cl.Sigmoid}
results, trained = {}, {}
for name, act in contest.items():
    accs = []
    for seed in (0, 1):
        model = mlp(act, [64, 64, 64, 64, 10], seed)
        hist = cl.fit(model, loss_fn, cl.SGD(model.parameters(), lr=0.02, momentum=0.9), Xtr, ytr,
                      epochs=20, batch_size=64, val=(Xva, yva), rng=seed, progress=False, ratio_every=0)
        accs.append(hist.val_acc[-1])
        trained[name, seed] = model
    results[name] = float(np.mean(accs))

print(f"{'activation':<14}{'val accuracy':>14}{'parameters':>12}")
for name, acc in sorted(results.items(), key=lambda item: -item[1]):
    print(f"{name:<14}{acc:>14.3f}{trained[name, 0].num_parameters():>12,}")

# %%
rectifiers = ("ReLU", "Leaky ReLU", "ELU", "Maxout (k=2)", "GELU", "SiLU")
best_rectifier = max(results[name] for name in rectifiers)
others = [acc for name, acc in results.items() if name != "sigmoid"]
print(f"sigmoid {results['sigmoid']:.3f} vs the next worst {min(others):.3f}; best rectifier "
      f"{best_rectifier:.3f}, ReLU {results['ReLU']:.3f}, tanh {results['tanh']:.3f}")
assert results["sigmoid"] < min(others) - 0.2           # sigmoid hidden layers: far behind
assert best_rectifier >= results["tanh"] - 0.01          # tanh gains nothing over the family
assert results["ReLU"] >= results["tanh"] - 0.02         # plain ReLU is within noise of tanh
assert max(results[n] for n in rectifiers) - min(results[n] for n in rectifiers) < 0.03

# ELU's promise, checked on the trained networks: hidden means closer to zero than ReLU's
elu_means = cl.diagnostics.layer_stats(trained["ELU", 0], Xtr).column("mean")
relu_means = cl.diagnostics.layer_stats(trained["ReLU", 0], Xtr).column("mean")
print("trained nets, mean hidden activation per layer — ReLU:", relu_means, " ELU:", elu_means)
assert np.all(np.abs(elu_means) < np.abs(relu_means))

# %% [markdown]
# What the test supports, and what it does not:
#
# * **Avoid sigmoid in hidden layers** — confirmed, by a wide margin: with three sigmoid
#   layers the net barely trains in this budget (section 2's vanishing gradient).
# * **The ReLU family is a safe default** — all six rectifiers land within about a point of
#   each other. Maxout matches the others but pays with twice the parameters.
# * **tanh rarely helps** — here it is *as good as* the ReLU family, not worse: a shallow,
#   well-initialized MLP on small images is where saturation bites least. The advice says
#   it rarely *helps*, and indeed it buys nothing here, while it costs an exponential and
#   falls behind in deeper nets (section 5).
# * On one small dataset, differences of a point or less are noise (359 validation
#   images: one point is 3–4 images). Do not rank ReLU, Leaky ReLU, ELU, GELU and SiLU on
#   this evidence — test on your own problem, as we just did.

# %% [markdown]
# ## 12 · Explore: what does a layer's input scale do to its activation?
#
# The slider sets the **standard deviation of the pre-activations** reaching a layer (this is
# what initialization and normalization control, notebooks 02 and 04); the dropdown picks the
# activation. Left: the curve and its slope, with the band where ±2 std of the inputs fall.
# Middle: the histogram of the outputs. Right: the histogram of the **local gradients**
# $f'(z)$ — the factor by which the backward pass is multiplied at this layer. The title
# counts the inputs whose local gradient is **weak** (below 5% of the function's steepest
# slope: saturated or dead) and **exactly zero**.
#
# Things to try: tanh or sigmoid from std 0.1 to 30 (the weak share climbs towards 100%:
# saturation); ReLU at any std (always half the inputs get exactly zero gradient — not dead
# units, just inactive for those inputs); the mean output of sigmoid versus tanh versus ELU;
# GELU and SiLU at std ≈ 3 (some local gradients are negative: these two are not monotonic).

# %%
explorer = aw.activation_explorer(name="tanh", scale=1.0)
display(explorer)

# %%
# what the widget shows, checked at two settings
calm, hot = aw.explore("tanh", 0.3), aw.explore("tanh", 10.0)
relu_half = aw.explore("ReLU", 3.0)
print(f"tanh, std 0.3: weak {calm['weak']:.1%};  tanh, std 10: weak {hot['weak']:.1%};  "
      f"ReLU, std 3: exactly zero {relu_half['zero']:.1%}")
assert calm["weak"] < 0.01 and hot["weak"] > 0.6
assert abs(relu_half["zero"] - 0.5) < 0.02

# %% [markdown]
# ## Check your understanding
#
# **1.** A 10-layer network uses sigmoid hidden units, perfectly initialized so that every
# pre-activation is near 0. By at least what factor is the gradient reaching the first layer
# reduced by the activations alone, compared with the last layer?
#
# <details><summary>Answer</summary>
#
# Each sigmoid multiplies the backward signal by $\sigma'(z) \le 1/4$, with equality only at
# $z = 0$. Through 9 sigmoid layers between the last and the first, that is a factor of at
# least $4^9 \approx 2.6 \times 10^5$ — before any saturation. The weights would have to make
# up a factor 4 per layer, which is why sigmoid layers need a larger init scale than tanh
# layers (notebook 02), and why deep sigmoid nets were so hard to train.
# </details>
#
# **2.** A unit receives the outputs of a ReLU layer as its inputs. For one example,
# $\partial L/\partial z = -0.3$ at this unit. What can you say about the signs of the
# gradients of its incoming weights? What changes if the previous layer used tanh?
#
# <details><summary>Answer</summary>
#
# $\partial L/\partial w_i = -0.3\,x_i$ with every $x_i \ge 0$: all these gradients are $\le 0$
# (zero for inputs that were inactive), so this example's update raises all the weights
# together. With tanh inputs the $x_i$ have both signs, and so do the gradients: the update
# can raise some weights and lower others. This is the zig-zag argument of section 3.
# </details>
#
# **3.** You raised the learning rate 10×, the training loss went up and then flattened, and
# `layer_stats` reports 60% dead units in the first layer. Why don't the units come back if
# you now lower the learning rate, and what are your options?
#
# <details><summary>Answer</summary>
#
# A dead ReLU outputs 0 for every training example, so its local gradient is 0 for every
# example and its incoming weights and bias receive no gradient at all — no learning rate
# moves them. Options: retrain from a fresh initialization with a sensible rate (or a
# warm-up, notebook 06); use Leaky ReLU / PReLU / ELU (a non-zero slope for $x < 0$ lets a
# unit recover); BatchNorm before the activation (notebook 04) keeps the pre-activations
# centred so a unit is active for part of every batch.
# </details>
#
# **4.** Why is Leaky ReLU with $\alpha = 1$ useless, and why is $\alpha = 0.5$ already a poor
# choice, even though it is non-linear?
#
# <details><summary>Answer</summary>
#
# With $\alpha = 1$ the activation is the identity, so the network is a product of affine
# maps, which is one affine map (section 7 reproduced the net exactly with
# $W_1W_2W_3$): only linear decision boundaries. With $\alpha = 0.5$ the kink exists but is
# mild — each unit can bend the function only by a factor of 2 in slope, so the network
# needs more units or layers for the same non-linearity. A small $\alpha$ keeps ReLU's strong
# non-linearity while still letting gradient through on the negative side.
# </details>
#
# **5.** A layer has 128 inputs and 256 outputs. How many parameters does it have as
# `Linear` + ReLU, and as `Maxout` with $k = 3$?
#
# <details><summary>Answer</summary>
#
# Linear: $128 \cdot 256 + 256 = 33{,}024$ (ReLU has none). Maxout with $k = 3$: three
# pieces, each with its own weights and biases: $3 \cdot 33{,}024 = 99{,}072$.
# </details>

# %% [markdown]
# ## Summary
#
# * The activation's **slope** multiplies every gradient through it; its **mean** decides
#   whether the next layer's weight gradients can have mixed signs; its **cost** is paid
#   per unit and example.
# * **Sigmoid**: slope at most 1/4 and flat tails (saturation: the gradient shrank ≈100×
#   over four layers here), outputs centred at 1/2 (all-same-sign weight gradients →
#   zig-zag), an exponential. Keep it for yes/no outputs.
# * **tanh** $= 2\sigma(2x) - 1$: zero-centred, slope 1 at 0, but it still saturates.
# * **ReLU**: slope 1 for $x > 0$, no saturation there, cheap. At the same settings it
#   reached the target ≈1.8× sooner than tanh on our deep spirals MLP; with each
#   learning rate tuned the gap closed (AlexNet reported ≈6× on CIFAR-10 — a property of
#   that setting). Not zero-centred, and units **die**: with a too-high learning rate
#   about half of all hidden units never fired again.
# * **Leaky ReLU** ($\alpha \approx 0.01$) and **PReLU** (learned $\alpha$, with its own
#   gradient) keep a small slope for $x < 0$; $\alpha$ must stay well below 1 — at 1 the
#   network collapses to one affine map.
# * **ELU**: smooth, saturates to $-\alpha$, mean activations closer to 0; costs an exp.
#   **Maxout**: max of $k$ affine pieces, generalizes (Leaky) ReLU, no saturation or dying,
#   $k\times$ the parameters. **GELU / SiLU**: smooth, non-monotonic rectifiers used in
#   modern architectures.
# * Tested advice: ReLU family by default (mind the learning rate), sigmoid never in hidden
#   layers; tanh was as good but no better on a shallow net.
#
# **Next:** notebook 02 chooses the initial weights so that activations and gradients keep
# their scale through many layers — for each of these activations.
#
# **Exercises:** implement the activations and their derivatives yourself, measure dead
# units and saturation, and run your own activation contest in
# [exercises/01_activations.ipynb](../exercises/01_activations.ipynb).
