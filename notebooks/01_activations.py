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
# what it breaks, and measures every claim on several seeds.
#
# **Learning objectives.** After this notebook you can
#
# 1. write down each activation and its derivative, and recognise its curve;
# 2. explain the three problems of the sigmoid — saturation, non-zero-centred outputs, cost —
#    and show the zig-zag that non-zero-centred inputs cause;
# 3. relate tanh to the sigmoid ($\tanh x = 2\sigma(2x) - 1$) and say what it fixes;
# 4. explain why ReLU trains fast, how its units die, and watch them die during training
#    with activation statistics recorded at every step;
# 5. say what Leaky ReLU's slope, PReLU's learned slope, ELU and Maxout buy and what they cost;
# 6. choose an activation for a new network — and test that choice on real data, each
#    candidate at its own learning rate.
#
# **Prerequisites.** [00 · Foundations](00_foundations.ipynb): layers $a = f(xW + b)$, the
# softmax cross-entropy loss, mini-batch gradient descent, the digits data, comparing runs on
# several seeds. The chain rule: the backward pass through $a = f(z)$ is
# $\partial L/\partial z = f'(z)\,\partial L/\partial a$ (derived in detail in notebook 03).
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
from course_lib.widgets import activations_experiments as axp

cl.set_seed()          # every random draw below derives from COURSE_SEED
threadpool_limits(1)   # our matrices are small: one BLAS thread is fastest, extra ones only compete
np.set_printoptions(precision=4, suppress=True)

# the digits, centred with the training mean (notebook 00); used for every real-data experiment
digits = axp.digits()
(Xtr, ytr), (Xva, yva) = digits["train"], digits["val"]
loss_fn = cl.SoftmaxCrossEntropy()
mlp = axp.make_mlp     # Linear → act → … → Linear; the same seed gives the same weights for every act

print(f"COURSE_SEED = {cl.course_seed()}; seeds of the repeated runs: {cl.seeds(5)}")
print(f"digits: {len(Xtr)} training, {len(Xva)} validation images, centred; mean of the training "
      f"pixels now {np.abs(Xtr.mean(axis=0)).max():.1e}")
print(mlp("ReLU", [64, 100, 10], seed=cl.seeds(1)[0]))

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
# | Maxout | $\max_{j \le k}\,(x w_j + b_j)$ — a unit with $k$ affine pieces | that of the winning piece | $\mathbb{R}$ |
# | GELU | $x\,\Phi(x)$ ($\Phi$ = standard normal CDF) | $\Phi(x) + x\,\varphi(x)$ | $\approx(-0.17, \infty)$ |
# | SiLU / Swish | $x\,\sigma(x)$ | $\sigma(x)\,(1 + x(1-\sigma(x)))$ | $\approx(-0.28, \infty)$ |
#
# Each is a layer in `course_lib`; the element-wise ones have a `.derivative(x)` method.
# PReLU and Maxout have parameters, so `aw.curve` gets their slope from `backward` instead.
# The Maxout unit below has $k = 3$ hand-picked pieces; Leaky ReLU is drawn with
# $\alpha = 0.1$ because $0.01$ is invisible at this scale.

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
fig = aw.draw_zoo(zoo)
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
# layers of 64, **identical initial weights** (He init, the course's default), only the
# activation differs; `cl.diagnostics.layer_stats` measures the spread (std) of the loss
# gradient at each activation's output on the digits. Five seeds (five sets of weights).

# %%
profiles = cl.over_seeds(axp.grad_profile, n=5)      # {activation: (5 seeds, 5 layers)}
for name in ("sigmoid", "tanh", "ReLU"):
    g = profiles[name]
    print(f"{name:<8} gradient std in layers 1 … 5 relative to layer 5, mean of the seeds: {g.mean(axis=0)}"
          f"   layer 1 / layer 5 per seed: {g[:, 0].min():.3g} … {g[:, 0].max():.3g}")
assert np.all(profiles["sigmoid"][:, 0] < 0.03)                  # 4 sigmoid layers: > 30x smaller, every seed
assert np.all((0.5 < profiles["ReLU"][:, 0]) & (profiles["ReLU"][:, 0] < 2))   # ReLU keeps the scale
assert np.all(profiles["tanh"][:, 0] > 1.3)                      # tanh with He weights: it GROWS

# %% [markdown]
# Through four sigmoid layers the gradient loses a factor of about 100 (≈ 3× per layer) on
# every seed: the first layer of a deep sigmoid net learns a hundred times more slowly than
# the last. ReLU keeps the scale. tanh's gradient *grows* towards the input, by 1.7–2× over
# four layers: with He's weights (scaled for ReLU) each tanh layer passes back more than it
# receives. The slope alone does not decide: the weight scale multiplies it, and notebook 02
# chooses that scale for each activation.
#
# Initialization can compensate only partly: since $\sigma'(0) = 1/4$ while
# $\tanh'(0) = 1$, a sigmoid layer needs about **4× the weight scale of a tanh layer** to
# pass gradients on at the same strength backward — and even then its units saturate more
# easily. Notebook 02 checks that factor forward and backward.
#
# ### Problem 2: the outputs are not zero-centred
#
# $\sigma(x) > 0$ always, so the next layer only ever sees positive inputs — with a
# surprising consequence for how that layer learns (section 3). How far from centred are
# they? In the five-layer nets above, on the digits, we compare each hidden layer's
# $|\text{mean}| / \text{std}$ — 0 for centred activations, large when the mean dominates
# the spread:

# %%
def centring(name, seed):
    stats = cl.diagnostics.layer_stats(mlp(name, axp.DEEP, seed), Xtr)
    return np.abs(stats.column("mean")) / stats.column("std")      # one value per hidden layer


offset = {name: np.array([centring(name, s) for s in cl.seeds(5)]) for name in ("sigmoid", "tanh", "ReLU", "ELU")}
for name, v in offset.items():
    print(f"{name:<8} |mean| / std of the hidden outputs, all layers and seeds: {v.min():.2f} … {v.max():.2f}")
assert offset["sigmoid"].min() > 2           # sigmoid: the mean is several stds away from 0
assert offset["tanh"].max() < 0.1            # tanh: centred

# %% [markdown]
# A sigmoid layer's outputs sit 2.5–6 standard deviations away from zero: they are
# essentially a constant ½ plus small variations. tanh's are centred; ReLU's and ELU's lie in
# between (section 8).
#
# ### Problem 3: the exponential is costly
#
# Every sigmoid evaluates an `exp` (or a `tanh`) and some arithmetic; ReLU is one comparison.
# The timing below is per million values, on whatever machine runs this notebook, so its
# output is not checked by the tests (no assert on a time). It compares whole activation
# layers, the bare NumPy functions, and the textbook stable sigmoid (one `exp` of $-|x|$ and a
# choice of formula by the sign of $x$, as in exercise 1).

# %% tags=["nbval-ignore-output"]
u = cl.make_rng(3).standard_normal(1_000_000)


def textbook_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


candidates = {"np.maximum (bare)": lambda: np.maximum(u, 0.0), "np.exp (bare)": lambda: np.exp(u),
              "np.tanh (bare)": lambda: np.tanh(u), "ReLU layer": lambda: cl.ReLU().forward(u),
              "Leaky ReLU layer": lambda: cl.LeakyReLU().forward(u), "ELU layer": lambda: cl.ELU().forward(u),
              "tanh layer": lambda: cl.Tanh().forward(u), "sigmoid layer": lambda: cl.Sigmoid().forward(u),
              "SiLU layer": lambda: cl.SiLU().forward(u), "GELU layer": lambda: cl.GELU().forward(u),
              "textbook sigmoid": lambda: textbook_sigmoid(u)}
cost = {name: min(timeit.repeat(f, number=2, repeat=4)) / 2 for name, f in candidates.items()}
for name, t in cost.items():
    print(f"{name:<18} {1e3 * t:6.2f} ms   ({t / cost['ReLU layer']:5.1f}× the ReLU layer)")

# %%
# the library's fast sigmoid computes the same numbers as the textbook formula
same = np.abs(cl.Sigmoid().forward(u) - textbook_sigmoid(u)).max()
print(f"max |library sigmoid − textbook sigmoid| on the million values: {same:.1e}")
assert same < 1e-15

# %% [markdown]
# On the machine that built this notebook (shared with other jobs, so the numbers are noisy),
# the bare `exp` and `tanh` cost one to three times the bare `maximum`: on a CPU whose NumPy
# has vectorized math functions, an element-wise function over a large array is limited by
# moving memory about as much as by arithmetic. What a layer costs is mostly **how many passes
# over the data** its formula makes — each pass writes a fresh 8 MB temporary array here. ReLU
# makes one; the library's sigmoid, computed as $\tfrac12(1 + \tanh(x/2))$ (section 4's
# identity), a few; Leaky ReLU two; ELU and GELU several (GELU: $x\cdot x\cdot x$, a `tanh`
# and five multiplications and additions). So the layers land between about 2× and a few
# tens of times the ReLU layer, and the textbook stable sigmoid gives the same numbers as the
# library's at several times its cost: `np.where` on a random sign pattern and two divisions
# cost more than the `exp`. (An earlier version of this library wrote GELU's $x^3$ as
# `x ** 3`, NumPy's general power function, and GELU measured 200× ReLU — a measurement of
# one line of code, not of GELU.)
#
# So "exp is costly" is true but modest: a factor of several on the activation, on a CPU. On GPUs
# element-wise functions are fused into their neighbours and the difference shrinks further,
# and in a network the matrix products dominate the cost either way. It is a real but
# secondary argument.

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
# (the same *relative* step for both, well inside the stable range $\eta < 2/\|x\|^2$). Ten
# runs per input kind (ten orders of the examples); besides the number of steps we measure the
# path's **detour**: its length divided by the straight distance $\|w_0 - w^*\|$.

# %%
inputs = axp.zigzag_inputs(k=0)                     # {"positive": σ(u), "centred": σ(u) − ½}, 500 × 2
g_centred = (inputs["centred"] @ (axp.W0 - axp.W_STAR))[:, None] * inputs["centred"]   # per-example gradients at w0
mixed = np.mean(np.sign(g_centred[:, 0]) != np.sign(g_centred[:, 1]))
zz = cl.over_seeds(lambda seed: axp.zigzag(seed, inputs), n=10)
print(f"centred inputs: {mixed:.0%} of the examples' gradients at w0 have components of opposite signs "
      f"(positive inputs: none, by the argument above)")
for kind in inputs:
    print(f"{kind:<9} steps to reach w*: {zz.summary(kind + ' steps', '.0f')};  detour {zz.summary(kind + ' detour', '.2f')}")
assert 0.2 < mixed < 0.8                                          # centred: many mixed-sign updates
assert zz["positive steps"].min() > 2 * zz["centred steps"].max()  # every positive run is slower
assert zz["positive detour"].mean() > 1.5 * zz["centred detour"].mean()  # … and takes the longer way (on average)

# %%
paths = {kind: axp.sgd_path(X, cl.seeds(1)[0]) for kind, X in inputs.items()}
fig = aw.draw_zigzag(inputs, paths, axp.W0, axp.W_STAR)
plt.show()

# %% [markdown]
# Left: with positive inputs every example's step points into the first or third quadrant —
# never into the shaded lower-right quadrant, which is where $w^*$ lies; with centred inputs
# many steps go there directly. Middle: the path can only creep towards $w^*$ as a staircase
# of north-east / south-west moves, about three times as long as the straight line. Right:
# centred inputs allow any direction, and the path is short. The loss contours tell the same
# story in the language of notebook 00: the loss is $\tfrac12 (w - w^*)^\top C\, (w - w^*)$
# with $C = \mathbb{E}[x x^\top]$, and the mean of the inputs adds a large eigenvalue along
# $(1, 1)$ to $C$, stretching the valley (the long, narrow ellipses in the middle panel):

# %%
for name, X in inputs.items():
    eigvals, eigvecs = np.linalg.eigh(X.T @ X / len(X))
    print(f"{name:<9} eigenvalues of C: {eigvals}   condition number {eigvals[1] / eigvals[0]:5.1f}   "
          f"top eigenvector {eigvecs[:, 1] * np.sign(eigvecs[0, 1])}")
eig_pos, vec_pos = np.linalg.eigh(inputs["positive"].T @ inputs["positive"] / 500)
eig_cen = np.linalg.eigvalsh(inputs["centred"].T @ inputs["centred"] / 500)
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
# are just as flat: problem 1 remains, and so does the transcendental function. (Read
# backwards, the identity gives $\sigma(x) = \tfrac12(1 + \tanh(x/2))$, which is how
# `course_lib` computes the sigmoid: `tanh` cannot overflow.)

# %%
tanh = cl.Tanh()
x = np.linspace(-8, 8, 16001)
identity_err = np.abs(tanh.forward(x) - (2 * sigmoid.forward(2 * x) - 1)).max()
print(f"max |tanh(x) − (2σ(2x) − 1)| on [−8, 8]: {identity_err:.1e}")
print(f"max tanh' = {tanh.derivative(x).max():.3f}    tanh'(3) = {tanh.derivative(np.array(3.0)):.4f}")
assert identity_err < 1e-12
assert tanh.derivative(x).max() == 1.0                     # slope 1 at 0 (sigmoid: 1/4)
assert tanh.derivative(np.array(3.0)) < 0.01               # … and saturated beyond |x| ≈ 3

# %% [markdown]
# ## 5 · ReLU: cheap, no saturation for $x > 0$ — does it converge faster?
#
# $\mathrm{ReLU}(x) = \max(0, x)$. Its slope is exactly 1 for every positive input, however
# large: a rectified unit **cannot saturate** on that side, and the gradient passes through
# active units undiminished (the first/last ratio ≈ 1 in section 2). It costs a comparison,
# no exponential. (Its derivative at the kink $x = 0$ is undefined; like PyTorch we use 0
# there. It almost never matters: exact zeros are rare.)
#
# **The published number.** Krizhevsky, Sutskever & Hinton (2012, the "AlexNet" paper)
# trained a four-layer convolutional network on CIFAR-10 and reported that with ReLUs it
# reached 25% training error about **six times faster** (in epochs) than the same network
# with tanh units, each with its own best learning rate. We cannot rerun that here (no
# downloads, no convolutions), so we measure our own version on a small problem: a deep-ish
# MLP (5 hidden layers of 32 units, the same initial weights for every activation) on the
# three-class spirals, SGD with momentum 0.9 and batches of 32, and count the **epochs until
# the training accuracy first reaches 99%** (at most 60 epochs), on **8 seeds** (initial
# weights and batch order), under two protocols:
#
# * **(a) the same settings for all:** learning rate 0.01;
# * **(b) each activation with its own best learning rate** from {0.003, 0.01, 0.03, 0.1},
#   per seed, as in the AlexNet comparison.
#
# That is 64 training runs per activation; `axp.spirals_race` trains them side by side (one
# stack of networks, `axp.train_many`, which the tests check against `cl.fit`).

# %%
races = {name: axp.spirals_race(name) for name in ("ReLU", "tanh")}
races["sigmoid"] = axp.spirals_race("sigmoid", lrs=axp.SPIRAL_LRS[1:], n=3)   # 3 seeds suffice: it never gets there
race = axp.race_summary()              # per seed: epochs at lr 0.01, at the best lr, the best lr
ratio = race["tanh same"] / race["ReLU same"]
print("epochs to 99% at lr 0.01   ReLU:", race["ReLU same"], "  tanh:", race["tanh same"])
print(f"    tanh / ReLU per seed: {ratio.min():.2f} … {ratio.max():.2f}; ratio of the means "
      f"{race['tanh same'].mean() / race['ReLU same'].mean():.2f}; ReLU first on "
      f"{np.sum(race['ReLU same'] < race['tanh same'])} of {len(ratio)} seeds")
print("sigmoid, lr 0.01 / 0.03 / 0.1, 3 seeds:", races["sigmoid"]["epochs"].tolist())
assert race["tanh same"].mean() > race["ReLU same"].mean()         # same lr: ReLU faster on average …
assert ratio.min() <= 1.0                                          # … but not on every seed
assert np.all(np.isinf(races["sigmoid"]["epochs"]))               # sigmoid: never, at any lr, in 60 epochs

# %%
tuned_ratio = race["tanh tuned"].mean() / race["ReLU tuned"].mean()
print("epochs to 99% at the best lr   ReLU:", race["ReLU tuned"], "  tanh:", race["tanh tuned"])
print(f"    ratio of the means {tuned_ratio:.2f};  best lr per seed   ReLU: {race['ReLU best lr']}   "
      f"tanh: {race['tanh best lr']}")
assert 0.6 < tuned_ratio < 1.7                                    # tuned: far from a factor of 6
best_lr_ratio = np.exp(np.log(race["tanh best lr"]).mean() - np.log(race["ReLU best lr"]).mean())
print(f"    geometric mean of the best rates, tanh / ReLU: {best_lr_ratio:.2f}")
assert best_lr_ratio > 0.8                                        # tanh never wants a clearly smaller rate

# %%
fig = aw.draw_race(races, 0.01, axp.SPIRAL_LRS, axp.SPIRAL_TARGET, axp.SPIRAL_EPOCHS)
plt.show()

# %% [markdown]
# What the measurement says (the numbers above; we also ran COURSE_SEED 0 to 15 — 128 runs
# per protocol — and quote the range over those 16 sets of 8 seeds):
#
# * **At the same settings (lr 0.01) ReLU gets there first on most seeds, not on all**: on
#   average tanh needs 1.1–1.4× the epochs, but single seeds range from tanh being first or
#   tied (ratio ≈ 0.5–1) to tanh needing twice as long. The deep sigmoid net never gets
#   off the ground at any rate of the grid (section 2's attenuation).
# * **Why?** Not because tanh's slope is below 1 — section 2 showed that tanh's gradient
#   *grows* towards the input with these weights. The measurement points, in part, at the
#   learning rate: tanh's best rate on the grid is more often 0.03 than ReLU's, so a shared
#   0.01 tends to be further below tanh's optimum. The evidence is modest: the geometric mean
#   of tanh's best rates was higher than ReLU's for 12 of the 16 course seeds, equal for 3 and
#   lower (by 13%) for one; the assert only checks that tanh never wants a clearly smaller rate.
# * **Give each its own best learning rate and, on this small problem, the gap mostly closes**:
#   the ratio of the means is 0.9–1.4 over the 16 course seeds (1.1 on average), ReLU ahead on
#   some seeds, tanh on others.
#   We do not reproduce AlexNet's 6×, and that is worth saying plainly: such a factor belongs
#   to a setting — a larger convolutional network on real images — not to the activation
#   alone. A small, well-initialized MLP is where tanh suffers least.
# * ReLU keeps two practical advantages regardless: each epoch is cheaper, and a
#   non-saturating unit is less sensitive to how large its inputs are.
#
# ### ReLU's problems
#
# * **Not zero-centred.** For $z \sim N(0, 1)$ the mean output is $1/\sqrt{2\pi} \approx 0.40$:
#   the next layer gets positive inputs, with section 3's consequences.
# * **Zero gradient for $x < 0$.** An inactive unit passes no gradient, so its incoming
#   weights get no update from that example. If a unit is inactive for **every** training
#   example, it gets no update from any of them: it is **dead**. Two common causes: an
#   unlucky initialization, or one large update (a too-high learning rate) that pushes its
#   weights or bias so far that $xW + b < 0$ for all data. A dead unit of the *first* layer
#   can never come back (its inputs are the fixed data); a dead unit deeper in the net could,
#   in principle, if the layers below it changed — in practice they rarely do (section 6).
# * A small **positive bias**, such as $b = 0.01$, is sometimes used to start every ReLU
#   active on more inputs. The evidence that it helps is mixed, and — as the next experiment
#   shows — it does not protect against the large-update kind of death.

# %%
relu = cl.ReLU()
z = cl.make_rng(4).standard_normal(100_000)
print(f"mean ReLU(z), z ~ N(0,1): {relu.forward(z).mean():.4f}   (1/√(2π) = {1 / np.sqrt(2 * np.pi):.4f})")
assert abs(relu.forward(z).mean() - 1 / np.sqrt(2 * np.pi)) < 0.01

# %% [markdown]
# ## 6 · The dead-ReLU experiment, step by step
#
# An MLP 64 → 100 → 100 → 100 → 10 on the digits, SGD with momentum 0.9, batches of 64, for 5
# epochs (85 steps), once with a sensible learning rate (0.05) and once with a rate 20× too
# high (1.0); five seeds each. Two variants at the high rate: all biases initialized to 0.01,
# and the same network with **Leaky ReLU** or **ELU** units, which cannot die. `fit` normally
# stops a run whose loss exceeds 3× its initial value; we raise that guard (`explode_factor`)
# to a billion, so the run goes on as a naive training loop would.
#
# **During training** a `cl.diagnostics.ActivationStats` callback (forward hooks on every
# hidden activation) records, at every step, each layer's mean and std, a histogram of its
# outputs, and the share of its units that output 0 for every example of the mini-batch (dead
# *on that batch*). **After training**, `axp.silent_units` runs the whole training set through
# the net and counts the units that output $\le 0$ for *every* example: for ReLU the truly
# dead units, for Leaky ReLU and ELU units stuck on their negative side (which still receive a
# small gradient).

# %%
dead = {label: axp.dead_runs(label) for label in axp.DEAD_CONFIGS}      # 5 seeds per configuration
print(f"{'':36}{'status':>10}{'silent per hidden layer':>30}{'val acc':>9}")
for label, runs in dead.items():
    for r in runs:
        print(f"{label if r is runs[0] else '':<36}{r.status:>10}{str([round(v, 2) for v in r.silent.values()]):>30}"
              f"{r.val_acc:9.2f}   (seed {r.seed}, {len(r.stats)} steps)")
share = {label: np.array([r.share() for r in runs]) for label, runs in dead.items()}
val = {label: np.array([r.val_acc for r in runs]) for label, runs in dead.items()}
print("silent share of all hidden units:", {label: f"{v.min():.0%} … {v.max():.0%}" for label, v in share.items()})
assert np.all(share["ReLU, lr 0.05"] < 0.05) and np.all(val["ReLU, lr 0.05"] > 0.9)
assert np.all(share["ReLU, lr 1.0"] > 0.25) and share["ReLU, lr 1.0"].mean() > 0.4     # every seed
assert np.all(share["ReLU, lr 1.0, bias 0.01"] > 0.25)          # the small positive bias does not save them
assert np.all(val["ReLU, lr 1.0"] < 0.25) and np.all(val["ReLU, lr 1.0, bias 0.01"] < 0.25)
for label in ("Leaky ReLU, lr 1.0", "ELU, lr 1.0"):             # units that cannot die: the loss explodes
    assert all(r.status == "exploded" for r in dead[label]) and np.all(val[label] < 0.25)

# %% [markdown]
# With the sensible rate essentially every unit is alive (a few percent of the last layer's
# units are silent) and the nets reach about 96% validation accuracy. With the high rate a
# third to four fifths of all hidden units end silent — more than a quarter on every seed, in
# some runs whole layers — and the network is reduced to guessing (validation accuracy 10–20%). Starting every bias at
# 0.01 changes nothing. On many seeds the loss also grows a billionfold at some point and
# trips the raised guard ("exploded"), but the units died before.
#
# The two activations that cannot die do not rescue the run: at lr 1.0 every Leaky ReLU and
# every ELU net **exploded**, within 10–45 steps. Their units keep passing gradient, so
# nothing stops the weights from growing. A non-dying activation turns death into divergence;
# the cure for a too-high learning rate is the learning rate.
#
# How often does each unit of the first hidden layer fire on the training set? Dead units
# get their own (black) bar:

# %%
def firing_rate(model, layer_index=1):
    outputs, _ = cl.diagnostics.trace(model, Xtr)
    return (outputs[layer_index] > 0).mean(axis=0)         # per unit: share of examples active


first = {label: dead[label][0] for label in ("ReLU, lr 0.05", "ReLU, lr 1.0")}
rates = {f"{label} (seed {r.seed})": firing_rate(r.stats.model) for label, r in first.items()}
fig = aw.draw_firing(rates)
plt.show()

# %% [markdown]
# **Step by step.** The per-batch dead share of each hidden layer over the training steps, all
# five seeds (the first bold). The third panel is one more configuration: **one** epoch at
# lr 1.0 (a learning-rate spike), then 5 epochs at 0.05 (dotted line) — do the units come back?

# %%
panels = {"ReLU, lr 0.05": [r.stats for r in dead["ReLU, lr 0.05"]],
          "ReLU, lr 1.0": [r.stats for r in dead["ReLU, lr 1.0"]],
          "1 epoch at lr 1.0, then 0.05": [r.stats for r in dead[axp.BURST]]}
switch = next(r.switch for r in dead[axp.BURST] if r.switch is not None)   # the first step at lr 0.05
fig = aw.draw_dead_steps(panels, switch={"1 epoch at lr 1.0, then 0.05": switch})
plt.show()

first_dead = [axp.first_dead_layer(r.stats, 0.5) for r in dead["ReLU, lr 1.0"]]
print("lr 1.0 — the first layer whose batch-dead share reached 50%, (layer index, step), per seed:", first_dead)
assert all(fd is not None and fd[1] < 30 for fd in first_dead)   # they die within the first 2 epochs
assert all(axp.first_dead_layer(r.stats, 0.5) is None for r in dead["ReLU, lr 0.05"])

# %% [markdown]
# At lr 0.05 the batch-dead share stays near zero (a unit that fires on a few percent of the
# digits can miss a whole batch of 64; that is sparsity, not death — exercise 5 measures
# it). At lr 1.0 the units die **within the first 10–25 steps**, typically a deeper layer
# first (layer index 3 or 5 of the Sequential: the second or third hidden layer), and the
# share never falls back. Which layer died first is a question you will answer from such
# records in the exercises.
#
# The same story as fast.ai's **"colorful dimension"**: for each hidden layer an image whose
# column $t$ is the histogram of the layer's outputs at step $t$ (colour: log of the count).
# A healthy ReLU layer spreads over $[0, 6)$; a dying one collapses into the bottom row, the
# exact zeros:

# %%
fig, axes = plt.subplots(2, 3, figsize=(8.4, 4.4), sharex=True, constrained_layout=True)
cl.plots.plot_colorful_dimension(dead["ReLU, lr 0.05"][0].stats, axes=axes[0])
cl.plots.plot_colorful_dimension(dead["ReLU, lr 1.0"][0].stats, axes=axes[1])
axes[0, 0].set_ylabel("lr 0.05\nactivation", fontsize=9)
axes[1, 0].set_ylabel("lr 1.0\nactivation", fontsize=9)
plt.show()

# %% [markdown]
# And the units that cannot die? The std of the third hidden layer's outputs per step, on a
# log scale, for all five seeds of each configuration: the healthy net stays near 1; the
# high-rate ReLU nets blow up and then collapse to 0 as their units die; the Leaky ReLU and
# ELU nets blow up until the guard stops them.

# %%
fig = aw.draw_std_steps({label: [r.stats for r in dead[label]] for label in
                         ("ReLU, lr 0.05", "ReLU, lr 1.0", "Leaky ReLU, lr 1.0", "ELU, lr 1.0")}, layer=5)
plt.show()
stopped_at = {label: [len(r.stats) for r in dead[label]] for label in ("Leaky ReLU, lr 1.0", "ELU, lr 1.0")}
print("steps until the guard stopped the run:", stopped_at)

# %% [markdown]
# **Do dead units come back?** The learning-rate spike of the third panel, in numbers: the
# silent share after the one epoch at lr 1.0, after the 5 epochs at 0.05 that follow, and
# the validation accuracy reached, against the healthy runs (5 epochs at 0.05 from the start):

# %%
burst = dead[axp.BURST]
after = {"silent share after the spike": share[axp.BURST],
         "… after 5 epochs at lr 0.05": np.array([r.share(end=True) for r in burst]),
         "val acc after": np.array([r.val_acc_end for r in burst]),
         "val acc, healthy runs": val["ReLU, lr 0.05"]}
for name, v in after.items():
    print(f"{name:<30} per seed: {np.round(v, 3)}")
before, later = after["silent share after the spike"], after["… after 5 epochs at lr 0.05"]
assert np.all(before > 0.15)                       # one epoch at lr 1.0 kills a real share, every seed
assert later.mean() > 0.8 * before.mean() and np.all(later > 0.1)   # most of them stay dead

# %% [markdown]
# In practice they do not recover: 5 epochs at a sensible rate later, most of the units that
# died in the spike are still silent. The first hidden layer cannot recover at all: its dead
# units' weights receive no gradient from any example, so they never change. Deeper units
# can revive when the layers below them move, and on some seeds a few do (while others die),
# but the share moves little. What the loss costs depends on the problem: the digits need far
# fewer units than this net has, so some seeds retrain with the survivors to nearly the
# healthy accuracy, while on others the accuracy stays far below. **What to do about it.**
# Mind the learning rate first (notebook 08 shows how to find one; a warm-up, notebook 06,
# avoids such spikes at the start); watch the dead share during training, as above, or read
# it off a `layer_stats` table with `cl.diagnostics.hints`:

# %%
spiked = next(r for r in burst if r.history is not None and r.history.status == "completed")
hints = cl.diagnostics.hints(spiked.history, cl.diagnostics.layer_stats(spiked.stats.model, Xtr))
print("\n".join("• " + line for line in hints))
assert any("dead" in line for line in hints)

# %% [markdown]
# **Scrub through the records yourself.** The slider moves through the training steps of one
# run (the first seed of each configuration above); the dropdown picks the run. Each panel is
# a hidden layer's colorful-dimension image with a cursor at the step; its title gives the
# layer's dead share on that step's batch (for Leaky ReLU and ELU, which have no dead units,
# the std of its outputs). Things to try: the step at which each layer of "ReLU, lr 1.0"
# collapses; the spike run before and after the learning rate drops; how far the ELU run
# gets before the guard stops it.

# %%
scrubber = aw.stats_scrubber("ReLU, lr 1.0", step=0)
display(scrubber)

# %%
# what the scrubber shows, checked at the first and the last step of the high-rate run
start, end = aw.scrub("ReLU, lr 1.0", 0), aw.scrub("ReLU, lr 1.0", 10_000)
print(f"ReLU, lr 1.0 (seed {dead['ReLU, lr 1.0'][0].seed}): batch-dead share per layer at step "
      f"{start['step']}: {[round(v, 2) for v in start['dead'].values()]}; at step {end['step']}: "
      f"{[round(v, 2) for v in end['dead'].values()]}")
assert max(start["dead"].values()) < 0.2 and max(end["dead"].values()) > 0.5

# %% [markdown]
# ## 7 · Leaky ReLU and PReLU: keep a little slope on the negative side
#
# **Leaky ReLU** $f(x) = \max(\alpha x, x)$ with a small $\alpha$, typically $0.01$. For
# $x < 0$ the slope is $\alpha$ instead of 0, so an inactive unit still receives a (small)
# gradient and can recover: it cannot die (section 6 showed that this does not make a
# too-high learning rate safe).
#
# How small must $\alpha$ be? At $\alpha = 1$ the function is $\max(x, x) = x$: the identity.
# A network of affine layers joined by identities is one affine map — depth buys nothing, and
# the network can only draw straight decision boundaries. `course_lib` therefore refuses
# $\alpha = 1$:

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
rng = cl.make_rng(6)
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
# The consequence, on two concentric circles (not separable by a line): the same network
# trained with $\alpha = 0.01$ and with the frozen $\alpha = 1$ (60 epochs, lr 0.05).

# %%
(X_c, y_c), circles_test = axp.circles()
circle_nets = {}
for alpha in (0.01, 1.0):
    net = mlp(lambda: cl.PReLU(1, init=alpha), axp.CIRCLE_NET, seed=cl.seeds(1)[0])
    trainable = [p for name, p in net.named_parameters() if not name.endswith("alpha")]   # α frozen
    cl.fit(net, loss_fn, cl.SGD(trainable, lr=0.05, momentum=0.9), X_c, y_c, epochs=60,
           batch_size=32, rng=cl.make_rng(7), progress=False, ratio_every=0)
    circle_nets[alpha] = (net, cl.evaluate(net, loss_fn, X_c, y_c)[1])
    print(f"α = {alpha:<4}: training accuracy {circle_nets[alpha][1]:.3f}")
assert circle_nets[0.01][1] > 0.95 and circle_nets[1.0][1] < 0.7

fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8), constrained_layout=True)
for ax, (alpha, (net, acc)) in zip(axes, circle_nets.items()):
    cl.plots.plot_decision_boundary(net, X_c, y_c, ax=ax, title=f"α = {alpha}: accuracy {acc:.0%}")
plt.show()

# %% [markdown]
# With $\alpha = 1$ the best the network can do is a straight line (≈ 50% on this data). And
# in between? At a kink the slope changes by $1 - \alpha$, so a larger $\alpha$ gives each unit
# a milder bend — but the weights can make up for it: $\mathrm{LReLU}_\alpha(x) = \alpha x +
# (1 - \alpha)\,\mathrm{ReLU}(x)$, a linear part plus a rescaled ReLU. (Xu et al. 2015 even
# found $\alpha \approx 0.18$ better than $0.01$ on their image benchmarks.) The measurement:
# the circles with $\alpha \in \{0.01, 0.1, 0.3, 0.5, 0.9\}$, each $\alpha$ at its own best
# learning rate from {0.003, 0.01, 0.03, 0.1, 0.3}, four seeds, counting the epochs until 99%
# training accuracy (at most 60).

# %%
alphas_tbl = axp.alpha_table()
for alpha, r in alphas_tbl.items():
    print(f"α = {alpha:<4}: best lr {r['lr']:<5g} epochs to 99% per seed {r['epochs']}   "
          f"test accuracy then {r['test'].min():.3f} … {r['test'].max():.3f}")
fast = np.concatenate([alphas_tbl[a]["epochs"] for a in (0.01, 0.1, 0.3, 0.5)])
assert fast.max() <= 10                                       # α up to 0.5: a handful of epochs, every seed
assert alphas_tbl[0.9]["epochs"].min() > 2 * fast.max()         # α = 0.9: several times longer, every seed
assert all(r["test"].min() > 0.95 for r in alphas_tbl.values() if np.all(np.isfinite(r["epochs"])))
fig = aw.draw_alpha(alphas_tbl, axp.CIRCLE_TARGET, axp.CIRCLE_EPOCHS)
plt.show()

# %% [markdown]
# Up to $\alpha = 0.5$ the slope hardly matters here: every seed fits the circles in a few
# epochs (α = 0.5 perhaps an epoch later than the smaller slopes). At $\alpha = 0.9$ training
# takes ten times as long and works only at the smallest rates of the grid: with a bend of
# 0.1 per unit, the weights must grow large before the net is curved enough, and large
# weights need small steps. So "keep $\alpha$ well below 1" is right, but on this problem
# "well below" means below about 0.5, not 0.01; the usual 0.01 is a choice, not a necessity.
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
check = cl.gradcheck(cl.PReLU(5, init=0.25), cl.make_rng(8).standard_normal((16, 5)))
print(check)
assert check.errors["alpha"] < 1e-7 and check.ok

# %% [markdown]
# And $\alpha$ does move. A digits MLP with one PReLU slope per hidden unit, all starting at
# 0.25, trained for 10 epochs (lr 0.05, momentum 0.9) on three seeds; we record the slopes
# after every epoch.

# %%
slopes = {seed: axp.prelu_slopes(seed) for seed in cl.seeds(3)}       # seed -> (alphas per epoch, val acc)
for seed, (alphas, val_acc) in slopes.items():
    moved = np.abs(alphas[-1] - 0.25)
    print(f"seed {seed}: val accuracy {val_acc:.3f}; after 10 epochs α ranges over [{alphas[-1].min():.2f}, "
          f"{alphas[-1].max():.2f}], mean |α − 0.25| = {moved.mean():.3f}, "
          f"layer means {alphas[-1, :64].mean():.3f} / {alphas[-1, 64:].mean():.3f}")
    assert moved.mean() > 0.03 and alphas[-1].std() > 0.03       # the slopes move, and spread apart
fig = aw.draw_prelu([alphas for alphas, _ in slopes.values()])
plt.show()

# %% [markdown]
# Each unit finds its own slope, on every seed. Two practical notes: PReLU adds one parameter
# per unit (negligible), and weight decay should **not** be applied to $\alpha$ — it would
# pull every slope towards 0, i.e. back to plain ReLU (He et al. leave it out for that reason).

# %% [markdown]
# ## 8 · ELU: smoother, and closer to zero mean
#
# $$\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^x - 1) & x \le 0 \end{cases}$$
#
# (Clevert et al., 2016). For $x > 0$ it is ReLU; for $x < 0$ it bends smoothly down and
# **saturates at $-\alpha$**. With $\alpha = 1$ the slope is continuous at 0 ($\alpha e^0 = 1$
# from the left), so the function is continuously differentiable ($C^1$) — but not smooth in
# the strict sense: its second derivative jumps from 1 to 0 at $x = 0$. The negative outputs
# pull the mean activation towards 0 — a partial fix of the zero-centring problem — and the
# saturation to $-\alpha$ makes a strongly negative unit's output a fixed value rather than a
# source of noise. The price: an `exp` again, for every negative input.

# %%
elu = cl.ELU(alpha=1.0)
h = 1e-4
second = {side: (elu.forward(np.array(x0 + h)) - 2 * elu.forward(np.array(x0)) + elu.forward(np.array(x0 - h))) / h**2
          for side, x0 in (("left", -1e-3), ("right", 1e-3))}
print(f"ELU(−30) = {elu.forward(np.array(-30.0)):.12f}   slope just left / right of 0: "
      f"{elu.derivative(np.array(-1e-9)):.6f} / {elu.derivative(np.array(1e-9)):.6f}   "
      f"second derivative left / right: {second['left']:.3f} / {second['right']:.3f}")
assert abs(elu.forward(np.array(-30.0)) + 1.0) < 1e-12                     # saturates to −α
assert abs(elu.derivative(np.array(-1e-9)) - elu.derivative(np.array(1e-9))) < 1e-8   # C¹: no kink
assert abs(second["left"] - 1.0) < 0.01 and abs(second["right"]) < 1e-6                # … but f'' jumps

# %% [markdown]
# Zero mean "on real data": section 2's measurement of $|\text{mean}|/\text{std}$ per hidden
# layer, five-layer nets on the digits with **the same weights**, five seeds. (Comparing the
# means alone would prove little: ELU ≤ ReLU everywhere, so ELU's mean is lower whether or
# not it is closer to centred.)

# %%
print(f"|mean| / std per hidden layer, all layers and seeds — ReLU: {offset['ReLU'].min():.2f} … "
      f"{offset['ReLU'].max():.2f};  ELU: {offset['ELU'].min():.2f} … {offset['ELU'].max():.2f}")
assert offset["ELU"].max() < offset["ReLU"].min()            # ELU more centred, in every layer and seed

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
# * Its output equals the winning piece's pre-activation, so its slope **with respect to that
#   pre-activation is 1**: it **never saturates**, and some piece always wins, so a gradient
#   always flows — it **does not die** the way a ReLU does. (A piece that never wins on any
#   example gets no gradient, though: the same fate, one piece at a time.)
# * The price: **$k$ times the parameters** (and the compute) of the Linear layer it replaces.

# %%
rng = cl.make_rng(9)
W, b = rng.standard_normal((64, 8)), rng.standard_normal(8)
xs = Xtr[:50]
maxout = cl.Maxout(64, 8, pieces=2)
for second_piece, reference in ((0.0, cl.ReLU()), (0.01, cl.LeakyReLU(0.01))):
    maxout.W.data[...] = np.stack([W, second_piece * W], axis=-1)
    maxout.b.data[...] = np.stack([b, second_piece * b], axis=-1)
    err = np.abs(maxout.forward(xs) - reference.forward(xs @ W + b)).max()
    print(f"Maxout with second piece = {second_piece} × first  vs  {reference!r}: max difference {err:.1e}")
    assert err < 1e-12

for k in (2, 3, 4):
    n_max, n_lin = cl.Maxout(64, 100, pieces=k).num_parameters(), cl.Linear(64, 100).num_parameters()
    print(f"Maxout(64→100, k={k}): {n_max:,} parameters = {n_max / n_lin:.0f} × Linear(64→100)'s {n_lin:,}")
    assert n_max == k * n_lin

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
# * **SiLU**, $x\,\sigma(x)$: the name is from the same paper by Hendrycks & Gimpel (2016);
#   Elfwing et al. (2017) used it in reinforcement learning, and Ramachandran et al. (2017)
#   found it by automated search and called it **Swish** (with $\beta = 1$).
#
# Both are smooth everywhere, behave like ReLU for large $|x|$, and — unlike the fixed
# activations so far (a Maxout unit can learn such shapes) — are **not monotonic**: they dip
# slightly below zero for negative $x$ before returning to 0. Both cost a transcendental
# function.

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
# (He init; Maxout has its own, twice as many), SGD with momentum 0.9, batches of 64, 20
# epochs; only the hidden activation changes. A fair contest gives **each activation its own
# learning rate**: every activation trains at 0.03, 0.1 and 0.3 (the sigmoid also at 1.0,
# because its best rate is the top of that grid) on three seeds; its rate is chosen by the
# mean **validation** accuracy, and we report the **test** accuracy of those runs — chosen on
# one set, scored on another (notebook 00). That is 96 networks, trained as stacks by
# `axp.contest` (in float32, so they agree with `cl.fit` runs statistically, not digit for
# digit).

# %%
contest = axp.contest_table()
print(f"{'activation':<14}{'best lr':>8}{'test accuracy per seed':>28}{'mean':>7}{'parameters':>12}")
for name, r in sorted(contest.items(), key=lambda item: -item[1]["test"].mean()):
    print(f"{name:<14}{r['lr']:>8g}{str(np.round(r['test'], 3)):>28}{r['test'].mean():7.3f}{r['parameters']:>12,}")
mean_acc = {name: r["test"].mean() for name, r in contest.items()}
others = [acc for name, acc in mean_acc.items() if name != "sigmoid"]
rect = [mean_acc[name] for name in axp.RECTIFIERS]
assert mean_acc["sigmoid"] < min(others) - 0.005            # sigmoid: last, even at its own rate
assert max(rect) - min(rect) < 0.03                         # the six rectifiers: within a few points
assert abs(mean_acc["tanh"] - mean_acc["ReLU"]) < 0.02       # tanh ≈ ReLU here
fig = aw.draw_contest(contest)
plt.show()

# %%
# the same contest at ONE shared rate (0.03) would have told another story about the sigmoid
at_shared = {name: axp.contest(name)["test"][0] for name in ("ReLU", "tanh", "sigmoid")}
print("test accuracy per seed at lr 0.03 for all:", {name: np.round(v, 3) for name, v in at_shared.items()})
assert at_shared["sigmoid"].mean() < mean_acc["sigmoid"] - 0.1     # sigmoid needs its own, 10× larger rate

# %% [markdown]
# What the test supports, and what it does not (the numbers above; over the course seeds 0,
# 1, 2, 3 and 7 the conclusions are the same):
#
# * **Avoid sigmoid in hidden layers** — confirmed, but by less than a shared learning rate
#   suggests. At the rectifiers' rate the three-layer sigmoid net barely trains in 20 epochs
#   (section 2's vanishing gradient); at its own rate (0.3, ten times larger) it reaches
#   about 94–96% test accuracy, still the last of the eight on average, 1–4 points behind.
# * **The ReLU family is a safe default** — all six rectifiers land within one to two points
#   of each other. Maxout matches the others but pays with twice the parameters.
# * **tanh rarely helps** — here it is *as good as* the ReLU family, not worse, both at its own
#   rate and in section 5's race: a shallow, well-initialized MLP on small images is where
#   saturation bites least. The advice says it rarely *helps*, and indeed it buys nothing here.
# * On one small dataset, differences of a point or less are noise (359 test images: one
#   point is 3–4 images, and the seeds spread by about a point). Do not rank ReLU, Leaky
#   ReLU, ELU, GELU and SiLU on this evidence — test on your own problem, as we just did.

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
# `layer_stats` reports 60% dead units in the first layer. Why don't those units come back if
# you now lower the learning rate, and what are your options?
#
# <details><summary>Answer</summary>
#
# A dead first-layer ReLU outputs 0 for every training example, so its local gradient is 0
# for every example and its incoming weights and bias receive no gradient at all: lowering
# the learning rate scales a zero. (Deeper dead units could in principle revive when the
# layers below them change; section 6 measured that in practice the network does not
# recover.) Options: retrain from a fresh initialization with a sensible rate (or a warm-up,
# notebook 06); BatchNorm before the activation (notebook 04) keeps the pre-activations
# centred so a unit is active for part of every batch. Leaky ReLU / PReLU / ELU keep a slope
# for $x < 0$ so a unit can recover — but at a rate that kills ReLUs, section 6's Leaky ReLU
# and ELU nets diverged instead: they do not replace a sensible learning rate.
# </details>
#
# **4.** Why is Leaky ReLU with $\alpha = 1$ useless? Is $\alpha = 0.5$ a poor choice?
#
# <details><summary>Answer</summary>
#
# With $\alpha = 1$ the activation is the identity, so the network is a product of affine
# maps, which is one affine map (section 7 reproduced the net exactly with $W_1W_2W_3$): only
# linear decision boundaries. $\alpha = 0.5$ still bends: $\mathrm{LReLU}_{0.5}(x) = 0.5x +
# 0.5\,\mathrm{ReLU}(x)$, and the next layer's weights can scale the ReLU part up. On the
# circles it trained about as fast as $\alpha = 0.01$, each at its own learning rate; only
# $\alpha = 0.9$ was much slower. A "poor choice" needs a measurement on your problem; what is
# certain is the limit $\alpha \to 1$, where the non-linearity vanishes.
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
# * **Sigmoid**: slope at most 1/4 and flat tails (the gradient shrank ≈100× over four layers,
#   every seed), outputs centred at 1/2 (all-same-sign weight gradients → zig-zag, 3× the
#   path length), a transcendental function (several times ReLU's cost on a CPU). Keep it for
#   yes/no outputs.
# * **tanh** $= 2\sigma(2x) - 1$: zero-centred, slope 1 at 0, but it still saturates.
# * **ReLU**: slope 1 for $x > 0$, no saturation there, cheap. At one shared learning rate it
#   reached 99% on the spirals about 1.1–1.4× sooner than tanh on average (not on every seed);
#   with each learning rate tuned the gap mostly closed (AlexNet reported ≈6× on CIFAR-10 — a
#   property of that setting). Not zero-centred, and units **die**: with a 20× too high
#   learning rate a third to four fifths of all hidden units died, most within the first
#   ~25 steps; after a one-epoch spike most stayed dead through 5 epochs at a sensible rate.
# * **Leaky ReLU** and **PReLU** (learned $\alpha$, with its own gradient) keep a slope for
#   $x < 0$, so their units cannot die — but at the rate that killed the ReLUs they diverged.
#   $\alpha$ must stay below 1 (at 1 the network collapses to one affine map); on the circles
#   anything up to 0.5 trained as fast as 0.01.
# * **ELU**: $C^1$, saturates to $-\alpha$, activations closer to zero mean; costs an exp.
#   **Maxout**: max of $k$ affine pieces, generalizes (Leaky) ReLU, no saturation or dying,
#   $k\times$ the parameters. **GELU / SiLU**: smooth, non-monotonic rectifiers used in
#   modern architectures.
# * Tested advice, each activation at its own learning rate: the ReLU family by default (mind
#   the learning rate), tanh as good but no better on a shallow net, sigmoid last in hidden
#   layers even when it gets its own rate.
#
# **Next:** notebook 02 chooses the initial weights so that activations and gradients keep
# their scale through many layers — for each of these activations.
#
# **Exercises:** implement the activations and their derivatives yourself, measure dead
# units, read an activation-statistics record ("which layer died first?"), in
# [exercises/01_activations.ipynb](../exercises/01_activations.ipynb).
