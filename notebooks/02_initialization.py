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
# # 02 · Initialization and variance propagation
#
# Before the first gradient step, a network is nothing but its initial weights. This notebook
# shows that the choice of those numbers is not a detail: with the wrong ones, a network either
# cannot tell its units apart, or its signal dies (or explodes) on the way through the layers,
# forward and backward. We derive the rules that fix it — Xavier/Glorot, He, and the
# per-activation gains — from one line of variance arithmetic, and measure every claim, on
# several seeds.
#
# **Learning objectives.** After this notebook you can
#
# 1. explain why all-zero or constant weights make a layer's units identical forever
#    (symmetry), show it on a trained net, and name what else breaks the tie (dropout);
# 2. predict, for a deep stack, whether activations and gradients shrink, explode or keep
#    their scale, from the per-layer factors $\text{fan\_in}\cdot\mathrm{Var}(W)$ (forward)
#    and $\text{fan\_out}\cdot\mathrm{Var}(W)\cdot\mathbb E[f'(z)^2]$ (backward);
# 3. derive Xavier/Glorot ($\mathrm{Var}(W) = 2/(\text{fan\_in}+\text{fan\_out})$) and He
#    ($\mathrm{Var}(W) = 2/\text{fan\_in}$) initialization, and convert a normal std into the
#    range of a uniform distribution with the same variance;
# 4. pick the gain for an activation (linear, tanh, ReLU, Leaky ReLU, sigmoid), say which
#    direction (forward or backward) each gain is chosen for, and spot a widely copied table
#    that has the sigmoid/tanh factor backwards;
# 5. say what PyTorch's own `nn.Linear` default does to a 20-layer ReLU stack, and what LSUV
#    (a data-driven init) does instead;
# 6. read per-layer histograms, stds and dead-unit counts, at initialization and during
#    training (`cl.diagnostics.ActivationStats`), to diagnose a bad initialization.
#
# **Prerequisites.** [00 · Foundations](00_foundations.ipynb) (layers $a = f(xW + b)$,
# losses, the digits data, centring the inputs, experiments on several seeds) and
# [01 · Activation functions](01_activations.ipynb) (tanh, sigmoid, ReLU, Leaky ReLU and their
# derivatives). Variance and independence at the level of a first statistics course.
#
# **Estimated time.** 75–90 minutes.

# %%
import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets import initialization_experiments as ie
from course_lib.widgets.initialization import init_explorer

cl.set_seed()                      # every random draw below derives from COURSE_SEED
SEEDS = cl.seeds(3)                # the seeds of every repeated experiment
print(f"COURSE_SEED = {cl.course_seed()}; seeds of the repeated runs: {SEEDS}")
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1 · Symmetry: why the weights cannot all start equal
#
# Suppose every weight of a hidden layer starts at the same value $c$ (zero is the special
# case $c = 0$). Then every hidden unit computes the same function of the input, so all of
# them output the same number for every example. In the backward pass each unit's gradient is
# its outgoing weight times the same upstream signal times the same local slope — identical
# again. Gradient descent applies identical updates to identical weights, and the units stay
# copies of each other **forever**: a layer of 32 units has the expressive power of one.
# Nothing in gradient descent itself can break the tie. Randomness can: random initial
# weights, or random noise that treats the units differently during training — dropout's
# per-unit masks (notebook 05) do exactly that.
#
# All zeros is even worse for tanh or ReLU hidden layers: the hidden outputs are
# $\tanh(0) = 0$ and the outgoing weights are $0$, so the gradient reaching the first layer
# is exactly zero and the gradient of the second layer's weights is zero too. Only the output
# biases learn — the net predicts one class for every input.
#
# We train small nets (64 → 32 tanh units → 10 classes, plain SGD at lr 0.5, 10 epochs, the
# digits centred as in notebook 00) that differ only in their initial weights — all zeros,
# all 0.05, random with std 0.01, and all 0.05 with dropout (p = 0.2) after the hidden layer —
# each on three seeds (the seed draws the random weights, the order of the mini-batches and
# the dropout masks). Biases start at zero in all of them (`cl.Linear` does that).

# %%
sym, sym_nets = ie.symmetry_runs(SEEDS)
print(f"{'start':28s} {'val accuracy (3 seeds)':>36s} {'max difference between two units':>34s}")
for name, r in sym.items():
    print(f"{name:28s} {r.summary('val_acc'):>36s} {r['in_spread'].max():34.3g}")

zeros, const, rand, drop = (sym[k] for k in ie.SYMMETRY_VARIANTS)
# all zeros: on every seed the weights never receive a gradient; only the output biases learn
assert np.all(zeros["W_max"] == 0) and np.all(zeros["out_bias"] > 0.01)
assert np.all(zeros["val_acc"] < 0.15)                    # one class for every input
# constant: after training, every hidden unit is still an exact copy of the first one ...
assert np.all(const["in_spread"] < 1e-12) and np.all(const["out_spread"] < 1e-12)
assert np.all(const["b_spread"] < 1e-12)
assert np.all(const["W_range"] > 0.1)                     # ... although the weights moved a lot
assert np.all(const["val_acc"] < 0.6)                     # 32 copies of one unit: a weak model
# random: symmetry broken, and small random numbers are fine for a shallow net
assert np.all(rand["val_acc"] > 0.9)
# dropout breaks the tie of the constant start: the units differ, the net learns
assert np.all(drop["in_spread"] > 0.1) and np.all(drop["val_acc"] > 0.85)

# %% [markdown]
# "A layer of 32 identical units is one unit" can be checked exactly: copy the constant net
# (first seed) into a net with **one** hidden unit (its outgoing weights are the 32 copies
# summed) and compare the outputs.

# %%
const_net = sym_nets["constant 0.05"]
W1, W2 = const_net[0].W.data, const_net[2].W.data
X_val = ie.digits("center")[2]
one = cl.Sequential(cl.Linear(64, 1), cl.Tanh(), cl.Linear(1, 10))
one[0].W.data[:] = W1[:, :1]
one[0].b.data[:] = const_net[0].b.data[0]
one[2].W.data[:] = W2.sum(axis=0, keepdims=True)
one[2].b.data[:] = const_net[2].b.data
gap = np.abs(one.forward(X_val) - const_net.forward(X_val)).max()
print(f"max |logits(32 identical units) - logits(1 unit)| = {gap:.1e}")
assert gap < 1e-10

# %%
fig = ie.draw_unit_images(sym_nets, ["constant 0.05", "random, std 0.01",
                                     "constant 0.05 + dropout 0.2"])
plt.show()

# %% [markdown]
# The top row is eight copies of one picture; the two rows below show eight different feature
# detectors each — from random weights, and from the constant start once dropout's masks have
# told the units apart. That is the first rule: **initialize weights randomly** (biases may
# start at zero — the weights already break the symmetry). Dropout is a regularizer, not an
# initialization scheme; that it also breaks the tie is a side effect. The second observation
# is that tiny random numbers (std 0.01) trained this *shallow* net perfectly well (on every
# seed above 0.9). Deep nets are a different story.

# %% [markdown]
# ## 2 · The classic experiment: a deep tanh net at three scales
#
# Take 10 layers of 500 tanh units, feed a batch of 128 unit-Gaussian examples, and look at
# what comes out of every layer for three initial scales: $W \sim \mathcal N(0, 0.01^2)$,
# $W \sim \mathcal N(0, 1)$, and Xavier ($\mathrm{std} = \sqrt{2/(500+500)} \approx 0.045$,
# derived in section 3).
#
# For the backward pass we do not need a trained task. We feed the top of the network a
# gradient of our choosing — a fixed unit-Gaussian matrix $G$, as if a loss had produced it —
# and let backpropagation carry it down. (`ProbeLoss` in the widget module is the loss
# $L = \sum \text{out} \odot G$, whose gradient is exactly $G$.) Every change of the gradient's
# size below the top is then caused by the layers alone. Each seed draws its own inputs,
# probe and standard-normal weight matrices; the three scales share them (each multiplies the
# same matrices by its std), so they differ in nothing but the scale. `ie.classic_runs`
# returns each layer's statistics per seed.

# %%
classic = ie.classic_runs(SEEDS, n=128, width=500, depth=10)
fig = ie.draw_ridges(classic)
plt.show()

# %% [markdown]
# Each row is one layer's histogram, **scaled to its own peak** (so a spike and a wide bump
# get the same height; the layer's std is written on the right). Three different pictures:
#
# * **std = 0.01.** The first layer's outputs already have std $\approx 0.01\sqrt{500}
#   \approx 0.22$, and every further layer multiplies by the same factor: from layer 3 on
#   the histogram is a single bin at zero, and after ten layers the activations are a
#   millionth of the input's scale.
# * **std = 1.** Each unit sums 500 inputs with unit-variance weights: pre-activations of
#   std $\approx 22$. tanh squashes almost all of them to $\pm 1$ — the units are
#   **saturated**, in the flat tails where $\tanh'(z) = 1 - \tanh^2(z) \approx 0$. All ten
#   layers look the same: once saturated, every layer passes on signs of $\pm 1$.
# * **Xavier.** Activations keep a spread in every layer (it shrinks slowly; section 6 shows
#   the gain that stops even that).

# %%
for name, r in classic.items():
    print(f"{name:11s} act std per layer (seed {SEEDS[0]}):",
          " ".join(f"{v:.2g}" for v in r["act_std"][0]))
    print(f"{'':11s} over {len(SEEDS)} seeds: saturated (|a| > 0.97) {r['saturated'].min():.0%}"
          f"–{r['saturated'].max():.0%}, mean tanh'(z) {r['slope'].min():.3f}–{r['slope'].max():.3f}")

D = 500
small, big, xav = classic["std = 0.01"], classic["std = 1"], classic["Xavier"]
# std = 0.01: on every seed, layer 1 has std ~ 0.01 sqrt(500) (tanh(z) is a few % below z
# at this scale), and each layer multiplies by about that again
assert np.all(np.abs(small["act_std"][:, 0] / (0.01 * np.sqrt(D)) - 1) < 0.08)
shrink = small["act_std"][:, 1:] / small["act_std"][:, :-1]
assert np.all((shrink > 0.2) & (shrink < 0.25))
assert np.all(small["act_std"][:, -1] < 1e-5)
# std = 1: saturated, with a near-zero local slope, in every layer on every seed
assert big["saturated"].min() > 0.85 and big["slope"].max() < 0.06
# Xavier: a spread in every layer, no saturation to speak of
assert xav["act_std"].min() > 0.15 and xav["saturated"].max() < 0.05 and xav["slope"].min() > 0.5

# %% [markdown]
# ### And the gradients?
#
# The same picture, read backwards: the gradient's std at each layer's output (the probe at
# layer 10 has std 1), and the size of each weight matrix's gradient relative to the weights,
# $\|\partial L/\partial W\| / \|W\|$ — the quantity a learning rate multiplies. (The probe's
# absolute scale is arbitrary; compare the schemes and the layers with each other.) Each seed
# is a thin line, the bold line their geometric mean; here the seeds agree so closely that
# the thin lines hide behind the bold one.

# %%
fig = ie.draw_classic_profiles(classic)
plt.show()

# %%
for name, r in classic.items():
    down = r["grad_std"][:, 0] / r["grad_std"][:, -1]
    print(f"{name:11s} gradient std layer 1 / layer 10: {down.min():.1e} … {down.max():.1e};"
          f"  ||dW||/||W|| from {r['dW_ratio'].min():.1e} to {r['dW_ratio'].max():.1e}")

# on every seed:
# std = 0.01: the gradients shrink layer by layer on the way down, as the activations did going up
assert np.all(small["grad_std"][:, 0] / small["grad_std"][:, -1] < 1e-4)
# ... and every weight gradient is tiny: each is (small input) x (small gradient)
assert np.all(small["dW_ratio"].max(axis=1) < 1e-3 * xav["dW_ratio"].min(axis=1))
# Xavier: gradients keep their scale within a small factor, all layers learn at similar rates
assert np.all(xav["grad_std"].max(axis=1) / xav["grad_std"].min(axis=1) < 5)
assert np.all(xav["dW_ratio"].max(axis=1) / xav["dW_ratio"].min(axis=1) < 3)
# std = 1: in every layer, most units multiply the gradient passing through them by tanh' < 0.01 ...
assert big["flat_slope"].min() > 0.8
# ... yet the few unsaturated units pass it on through weights of std 1: in total it GROWS downwards
assert np.all(big["grad_std"][:, 0] / big["grad_std"][:, -1] > 100)
assert np.all(big["dW_ratio"].max(axis=1) / big["dW_ratio"].min(axis=1) > 1e3)

# %% [markdown]
# What the numbers say:
#
# * **std = 0.01**: on the way down each layer multiplies the gradient by the same small
#   factor as on the way up, so the early layers get almost nothing. Worse, each weight
#   gradient $\partial L/\partial W_l = a_{l-1}^\top\, \delta_l$ (with $\delta_l$ the gradient
#   at layer $l$'s pre-activation) is a product of a small activation and a small gradient:
#   all layers' updates are $\sim 10^{-4}$–$10^{-5}$ times those under Xavier. The net is
#   stuck before it starts.
# * **std = 1**: you will often read that "the gradients vanish". Precisely: for more than
#   80% of the unit–example pairs the local slope $\tanh'(z)$ is below 0.01, so the gradient
#   through those units vanishes and their weights barely learn. But the few units in their
#   linear range pass the gradient on through weights of std 1 (a factor $\sqrt{500}$ per
#   layer), so the *total* gradient grows towards the input: the bottom layer's update is
#   $10^4$–$10^5$ times larger, relative to its weights, than the top layer's. No single
#   learning rate suits both — either way, training is broken.
# * **Xavier**: gradients and relative updates stay within a small factor across layers.
#
# The next section explains why, and where the $\sqrt{2/(\text{fan\_in}+\text{fan\_out})}$
# comes from.

# %% [markdown]
# ## 3 · The variance of a layer's output
#
# One unit of a layer computes $z = \sum_{i=1}^{n} x_i w_i$ with $n = \text{fan\_in}$
# (the bias starts at 0). Assume the weights are independent of each other and of the inputs,
# with mean 0, and the inputs have mean 0 too. For one term, independence gives
#
# $$\mathrm{Var}(x_i w_i) = \mathbb E[x_i^2]\,\mathbb E[w_i^2] - \big(\mathbb E[x_i]\,
#   \mathbb E[w_i]\big)^2 = \mathrm{Var}(x_i)\,\mathrm{Var}(w_i).$$
#
# For two different terms, $\mathrm{Cov}(x_i w_i, x_j w_j) = \mathbb E[x_i x_j]\,\mathbb E[w_i]\,
# \mathbb E[w_j] = 0$: the terms are uncorrelated (even if the inputs are not), so their
# variances add:
#
# $$\boxed{\mathrm{Var}(z) = \text{fan\_in}\cdot\mathrm{Var}(W)\cdot\mathrm{Var}(x).}$$
#
# (If the inputs do **not** have mean 0, $\mathrm{Var}(x)$ becomes $\mathbb E[x^2]$ — this is
# where ReLU and the sigmoid come in, sections 5 and 7.) Near 0, tanh is the identity, so a
# tanh layer at small scale behaves like this linear map. Through $L$ layers the factors
# multiply:
#
# $$\mathrm{Var}(z_L) = \mathrm{Var}(x)\prod_{l=1}^{L} \text{fan\_in}_l\,\mathrm{Var}(W_l).$$
#
# A product of $L$ equal factors vanishes if the factor is below 1 and explodes if it is
# above — exponentially in depth. With std 0.01 and fan-in 500 the factor is
# $500 \cdot 10^{-4} = 0.05$ in variance, $\sqrt{0.05} \approx 0.22$ in std: exactly the
# shrink we measured. First a check of the formula itself, then of the product.

# %%
rng = cl.make_rng(1)
for fan_in, std_w, std_x in [(100, 0.1, 1.0), (300, 0.02, 2.0), (1000, 0.05, 0.5)]:
    x = std_x * rng.standard_normal((4000, fan_in))
    W = cl.init.normal(fan_in, 200, rng=rng, std=std_w)
    predicted = fan_in * std_w ** 2 * std_x ** 2
    measured = (x @ W).var()
    print(f"fan_in {fan_in:4d}, Var(W) {std_w ** 2:.0e}, Var(x) {std_x ** 2:4.2f}: "
          f"predicted Var(z) {predicted:6.3f}, measured {measured:6.3f}")
    assert abs(measured / predicted - 1) < 0.05

predicted_std10 = (0.01 * np.sqrt(D)) ** 10         # ten factors of 0.01 * sqrt(500)
measured_std10 = small["act_std"][:, -1]
print(f"std = 0.01, layer 10: predicted std {predicted_std10:.2e}, measured "
      f"{measured_std10.min():.2e} … {measured_std10.max():.2e} ({len(SEEDS)} seeds)")
assert np.all(np.abs(measured_std10 / predicted_std10 - 1) < 0.2)

# %% [markdown]
# ### Forward, backward, and Glorot & Bengio's compromise
#
# To keep the forward variance, each factor must be 1:
# $\mathrm{Var}(W) = 1/\text{fan\_in}$ (LeCun's rule).
#
# The backward pass has the same structure with the roles swapped. The gradient with respect
# to a layer's input is $\partial L/\partial x = (\partial L/\partial z)\, W^\top$: each input
# unit sums over the $\text{fan\_out}$ units it feeds. And on its way from the layer's output
# $a = f(z)$ to $z$ the gradient is multiplied by the local slope,
# $\partial L/\partial z = \partial L/\partial a \odot f'(z)$. With the same independence
# assumptions,
#
# $$\mathrm{Var}\Big(\frac{\partial L}{\partial x}\Big) = \text{fan\_out}\cdot\mathrm{Var}(W)
#   \cdot\mathbb E\big[f'(z)^2\big]\cdot\mathrm{Var}\Big(\frac{\partial L}{\partial a}\Big).$$
#
# For a linear layer, or tanh near 0, $\mathbb E[f'(z)^2] = 1$ and keeping the gradient's
# variance needs $\mathrm{Var}(W) = 1/\text{fan\_out}$; for ReLU, $f'(z)$ is 1 on half of the
# inputs and 0 on the other half, so $\mathbb E[f'(z)^2] = \tfrac12$ and the backward rule is
# $\mathrm{Var}(W) = 2/\text{fan\_out}$ (section 5). Below we check the whole formula, slope
# included, layer by layer in 20-layer stacks (the measurement of section 6).
#
# The forward and the backward rule can both hold only when $\text{fan\_in} = \text{fan\_out}$.
# Glorot & Bengio (2010), deriving for activations with $f'(0) = 1$, proposed the compromise
#
# $$\mathrm{Var}(W) = \frac{2}{\text{fan\_in} + \text{fan\_out}},$$
#
# which is the **harmonic mean** $\frac{2}{1/a + 1/b}$ of the two candidates
# $a = 1/\text{fan\_in}$ and $b = 1/\text{fan\_out}$ (since $1/a + 1/b = \text{fan\_in} +
# \text{fan\_out}$).
# This is **Xavier** (or Glorot) initialization; `cl.init.xavier_normal` draws it.

# %%
fan_in, fan_out = 784, 256
W = cl.init.xavier_normal(fan_in, fan_out, rng=cl.make_rng(2))
print(f"({fan_in}, {fan_out}): 2/(fan_in+fan_out) = {2 / (fan_in + fan_out):.3e}, "
      f"xavier_normal sample variance = {W.var():.3e}")
assert abs(W.var() / (2 / (fan_in + fan_out)) - 1) < 0.03

# the backward factor, layer by layer: std(dL/da_(l-1)) / std(dL/da_l) = gain * sqrt(E[f'(z_l)^2])
# for square layers of 256 units with std(W) = gain / sqrt(256), i.e. fan_out Var(W) = gain^2
for act, g in (("tanh", 1.0), ("relu", np.sqrt(2)), ("sigmoid", 4.0)):
    runs = ie.gain_profiles([g], act, SEEDS)[g]
    measured = runs["grad_std"][:, :-1] / runs["grad_std"][:, 1:]
    predicted = g * np.sqrt(runs["slope_sq"][:, 1:])
    err = np.abs(measured / predicted - 1)
    print(f"{act:7s} gain {g:.3g}: measured backward factor per layer {measured.min():.3f} … "
          f"{measured.max():.3f}; fan_out Var(W) E[f'^2] predicts it within {err.max():.1%}")
    assert err.max() < 0.08          # the formula, E[f'(z)^2] included, at every layer and seed

# %% [markdown]
# When do the three rules disagree? In a funnel, where widths change from layer to layer. Take
# five linear layers 1024 → 512 → 256 → 128 → 64 → 32 and measure the variance ratio over the
# whole stack, forward (output / input) and backward (gradient at the input / gradient at the
# output). Theory: each layer multiplies the forward variance by $\text{fan\_in}\,\mathrm{Var}(W)$
# and the backward variance by $\text{fan\_out}\,\mathrm{Var}(W)$.

# %%
widths = [1024, 512, 256, 128, 64, 32]
rules = {"1/fan_in": lambda fi, fo: 1 / fi, "1/fan_out": lambda fi, fo: 1 / fo,
         "Xavier": lambda fi, fo: 2 / (fi + fo)}
print(f"{'rule':10s} {'forward':>18s} {'backward':>18s}   (measured / theory)")
for k, (name, var) in enumerate(rules.items()):
    r = ie.funnel(widths, var, rng=cl.make_rng(3 + k))
    print(f"{name:10s} {r['forward']:8.3f} / {r['forward_theory']:7.3f} "
          f"{r['backward']:8.3f} / {r['backward_theory']:7.3f}")
    # one draw of layers as narrow as 32 units: within ±11% on the draws we tried
    assert abs(r["forward"] / r["forward_theory"] - 1) < 0.15
    assert abs(r["backward"] / r["backward_theory"] - 1) < 0.15

# %% [markdown]
# Each pure rule keeps one direction exact and scales the other by $32/1024$ or its inverse.
# Xavier gives up exactness in both directions to stay within a factor of about 4–8 in each.
#
# He et al. (2015, section 2.2) made a sharper observation: the mismatch **does not
# compound**. With the forward rule, the backward product is
# $\prod_l \text{fan\_out}_l/\text{fan\_in}_l$, and since each layer's fan_out is the next
# layer's fan_in this product **telescopes** to (last width)/(first width) — $32/1024$ here —
# however many layers the funnel has. A constant factor, not an exponential one: either rule
# trains, which is why PyTorch is content with `mode="fan_in"` by default. The same funnel
# in 5 and in 10 steps, with the forward rule $1/\text{fan\_in}$:

# %%
funnel10 = [int(round(1024 * 2 ** (-k / 2))) for k in range(11)]      # 1024, 724, ..., 32
print(f"{'1/fan_in':22s} {'forward':>17s} {'backward':>17s}   (measured / theory)")
backward = {}
for k, w in enumerate((widths, funnel10)):
    r = ie.funnel(w, rules["1/fan_in"], rng=cl.make_rng(6 + k))
    backward[len(w) - 1] = r["backward"]
    print(f"{len(w) - 1:2d} layers {w[0]} → {w[-1]:<5d} {r['forward']:8.3f} / {r['forward_theory']:6.3f}"
          f" {r['backward']:8.4f} / {r['backward_theory']:6.4f}")
    # one draw of the narrow layers scatters (about ±20% over 20 draws we tried): a wide margin
    assert abs(r["forward"] - 1) < 0.25 and abs(r["backward"] / (32 / 1024) - 1) < 0.25
# twice the depth, the same backward mismatch 32/1024: it telescopes instead of compounding
# (compounding a per-layer factor would have squared it)
assert 0.6 < backward[10] / backward[5] < 1.6

# %% [markdown]
# With ReLUs and He's $2/\text{fan\_in}$ it is the same story on average: each ReLU's $\tfrac12$ (forward
# and backward) cancels the rule's 2, and what remains telescopes. For the square layers of
# most hidden stacks the rules coincide anyway.

# %% [markdown]
# ## 4 · Uniform or normal?
#
# Xavier and He come in two flavours with the **same variance**. A uniform distribution on
# $[-r, r]$ has density $1/(2r)$, so
#
# $$\mathrm{Var}(U[-r, r]) = \int_{-r}^{r} \frac{w^2}{2r}\,dw = \frac{r^2}{3}.$$
#
# To match a normal with standard deviation $\sigma$ we need $r = \sqrt{3}\,\sigma$; for Xavier,
# $\sigma = \sqrt{2/(\text{fan\_in}+\text{fan\_out})}$ gives
# $r = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}$ — the formula printed in Glorot & Bengio's
# paper. Which flavour you use matters little; mixing up $r$ and $\sigma$ (a factor $\sqrt 3$)
# is the mistake to avoid.

# %%
fan_in, fan_out = 300, 200
std = np.sqrt(2 / (fan_in + fan_out))
r = np.sqrt(6 / (fan_in + fan_out))
W_u = cl.init.xavier_uniform(fan_in, fan_out, rng=cl.make_rng(5))
W_n = cl.init.xavier_normal(fan_in, fan_out, rng=cl.make_rng(6))
print(f"r = {r:.4f};  max |W_uniform| = {np.abs(W_u).max():.4f}")
print(f"variance: uniform {W_u.var():.3e}, normal {W_n.var():.3e}, target {std ** 2:.3e}")
# the library's uniform draws fill [-r, r] and no more, with the variance of the normal
assert np.abs(W_u).max() <= r and np.abs(W_u).max() > 0.999 * r
assert abs(W_u.var() / std ** 2 - 1) < 0.02 and abs(W_n.var() / std ** 2 - 1) < 0.02
# the same for He: U[-sqrt(6 / fan_in), +sqrt(6 / fan_in)] has the variance 2 / fan_in
W_hu = cl.init.he_uniform(fan_in, fan_out, rng=cl.make_rng(7))
assert abs(W_hu.var() / (2 / fan_in) - 1) < 0.02 and np.abs(W_hu).max() <= np.sqrt(6 / fan_in)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.hist(W_n.ravel(), bins=80, density=True, alpha=0.6, label=f"xavier_normal (std {std:.3f})")
ax.hist(W_u.ravel(), bins=80, density=True, alpha=0.6, label=f"xavier_uniform (r = √3·std = {r:.3f})")
ax.axvline(-r, color="k", ls="--", lw=1)
ax.axvline(r, color="k", ls="--", lw=1)
ax.set_xlabel("weight value")
ax.set_ylabel("density")
ax.set_title("same variance, different shapes (dashed: ±r)", fontsize=10)
ax.legend(fontsize=9, loc="upper left")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5 · ReLU halves the variance: He initialization
#
# Xavier's derivation assumed an activation that is the identity near 0 (tanh). A ReLU sets
# every negative input to 0. For a pre-activation $z$ symmetric around 0, half of the mass is
# removed, and what is left keeps its square:
#
# $$\mathbb E[\mathrm{relu}(z)^2] = \tfrac12\,\mathbb E[z^2] = \tfrac12\,\mathrm{Var}(z).$$
#
# The next layer's variance is $\text{fan\_in}\cdot\mathrm{Var}(W)\cdot\mathbb E[a^2]$ (the
# ReLU outputs have mean $> 0$, so the second moment is what counts, section 3). Keeping it
# constant needs $\text{fan\_in}\cdot\mathrm{Var}(W)\cdot\tfrac12 = 1$:
#
# $$\mathrm{Var}(W) = \frac{2}{\text{fan\_in}} \qquad\text{(He et al., 2015)}.$$
#
# Backward, the same $\tfrac12$ appears as $\mathbb E[\mathrm{relu}'(z)^2]$, so He's backward
# rule is $2/\text{fan\_out}$ — and by the telescoping argument of section 3 either one will do.
# In NumPy the forward rule is one line,
# `rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)`; `cl.init.he_normal`
# (= PyTorch's `kaiming_normal_`) draws the same distribution.

# %%
z = cl.make_rng(8).standard_normal(1_000_000) * 1.7
print(f"E[relu(z)^2] / Var(z) = {np.mean(np.maximum(z, 0) ** 2) / z.var():.4f}  (theory 0.5)")
assert abs(np.mean(np.maximum(z, 0) ** 2) / z.var() - 0.5) < 0.005

fan_in, fan_out = 512, 256
W_manual = cl.make_rng(9).standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)
W_he = cl.init.he_normal(fan_in, fan_out, rng=cl.make_rng(9))
print(f"std: by hand {W_manual.std():.5f}, cl.init.he_normal {W_he.std():.5f}, "
      f"sqrt(2 / fan_in) = {np.sqrt(2 / fan_in):.5f}")
assert np.allclose(W_manual, W_he, rtol=1e-12)                 # same numbers from the same seed
assert abs(W_he.std() / np.sqrt(2 / fan_in) - 1) < 0.01

# %% [markdown]
# ## 6 · Gains: one rule per activation
#
# Every variance-preserving rule has the form $\mathrm{std}(W) = \text{gain}/\sqrt{\text{fan}}$
# with a **gain** that compensates what the activation does to the variance. PyTorch's
# `torch.nn.init.calculate_gain` (and `cl.init.gain`) lists:
#
# | activation | gain | why |
# |---|---|---|
# | linear / identity | 1 | nothing to compensate |
# | sigmoid | 1 | PyTorch's convention (but see the next section) |
# | tanh | 5/3 | an empirical value above 1: away from 0, tanh's slope is below 1 (a **forward** choice, see below) |
# | ReLU | $\sqrt 2$ | ReLU keeps half the second moment (section 5) |
# | Leaky ReLU, slope $\alpha$ | $\sqrt{2/(1+\alpha^2)}$ | it keeps $(1+\alpha^2)/2$ of the second moment |
#
# He initialization is $\text{gain}\,/\sqrt{\text{fan\_in}}$ with the ReLU gain; Xavier can
# take a gain too (`cl.init.xavier_normal(..., gain=5/3)` for tanh). (The course's parity
# tests compare `cl.init.gain` with PyTorch's `calculate_gain`; here we test what the gains
# *do*.) The Leaky ReLU rule first, measured:

# %%
gains = {name: cl.init.gain(name) for name in ("linear", "sigmoid", "tanh", "relu")}
gains["leaky_relu"] = cl.init.gain("leaky_relu", 0.01)
print({k: round(v, 4) for k, v in gains.items()})

alpha = 0.2
z = cl.make_rng(10).standard_normal(1_000_000)
kept = np.mean(np.where(z > 0, z, alpha * z) ** 2) / z.var()
print(f"Leaky ReLU (alpha={alpha}) keeps {kept:.4f} of the second moment; "
      f"(1 + alpha^2)/2 = {(1 + alpha ** 2) / 2:.4f}")
assert abs(kept - (1 + alpha ** 2) / 2) < 0.005

# %% [markdown]
# Do the gains deliver? `ie.gain_profiles` (the computation behind this notebook's widget)
# pushes a unit-Gaussian batch of 128 examples through 20 layers of 256 units with
# $\mathrm{std}(W) = \text{gain}/\sqrt{256}$ and backpropagates a unit-Gaussian probe from the
# top, on three seeds (each seed draws its own inputs, probe and weights). We compare the
# last layer's activation std with the first's (**forward**) and the first layer's gradient
# std with the last's (**backward**), at gain 1 and at the recommended gain — and, for tanh,
# at two gains in between.

# %%
table = [("linear", [1.0]), ("relu", [1.0, np.sqrt(2)]),
         ("leaky_relu", [1.0, gains["leaky_relu"]]),
         ("tanh", [1.0, 1.2, np.sqrt(2), 5 / 3])]
prof = {(act, g): runs for act, gs in table
        for g, runs in ie.gain_profiles(gs, act, SEEDS).items()}
fwd = {key: ie.forward_ratio(r) for key, r in prof.items()}
bwd = {key: ie.backward_ratio(r) for key, r in prof.items()}
print(f"{'activation':11s} {'gain':>6s} {'forward: act std 20 / 1':>26s} "
      f"{'backward: grad std 1 / 20':>27s} {'per layer':>10s}")
for (act, g) in prof:
    f, b = fwd[act, g], bwd[act, g]
    print(f"{act:11s} {g:6.3f} {f.mean():12.3g} ({f.min():.3g} … {f.max():.3g})"
          f" {b.mean():13.3g} ({b.min():.3g} … {b.max():.3g}) {ie.per_layer(b, 20).mean():10.3f}")

# every assert on every seed:
# linear, gain 1: exactly right in both directions (up to sampling)
assert np.all(np.abs(np.log(fwd["linear", 1.0])) < np.log(1.4))
assert np.all(np.abs(np.log(bwd["linear", 1.0])) < np.log(1.4))
# ReLU and Leaky ReLU: gain 1 collapses; the recommended gain keeps the scale both ways
for act in ("relu", "leaky_relu"):
    g = gains[act]
    assert np.all(fwd[act, 1.0] < 0.01)
    assert np.all((fwd[act, g] > 0.5) & (fwd[act, g] < 2) & (bwd[act, g] > 0.5) & (bwd[act, g] < 2))
# tanh, gain 1: the activations drift down, and so do the gradients
assert np.all(fwd["tanh", 1.0] < 0.35) and np.all(bwd["tanh", 1.0] < 0.5)
# tanh, gain 5/3: the forward std holds (within 25%), but the gradient GROWS towards the input,
# by a steady ~1.1 per layer
assert np.all(fwd["tanh", 5 / 3] > 0.75)
assert np.all(bwd["tanh", 5 / 3] > 3)
assert np.all((ie.per_layer(bwd["tanh", 5 / 3], 20) > 1.06) & (ie.per_layer(bwd["tanh", 5 / 3], 20) < 1.13))
# He's sqrt(2), between the two: the gradient grows too, about 2x over 20 layers
assert np.all((bwd["tanh", np.sqrt(2)] > 1.4) & (bwd["tanh", np.sqrt(2)] < 3.5))

# %% [markdown]
# For ReLU the recommended gain works both ways. For **tanh it does not**: 5/3 keeps the
# forward std (it settles at about 0.65 after a few layers), but backward the gradient grows
# by about 1.1 per layer, five times over 20 layers. Gain 1 errs the other way: both the
# activations and the gradients fade. Let us sweep the gain.

# %%
sweep_gains = [0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.414, 1.55, 1.667, 1.8, 2.0, 2.25, 2.5]
sweep = ie.gain_profiles(sweep_gains, "tanh", SEEDS)
fig = ie.draw_tanh_sweep(sweep_gains, sweep)
plt.show()

# %%
bwd_sweep = np.array([ie.backward_ratio(sweep[g]) for g in sweep_gains])    # (gains, seeds)
fwd_sweep = np.array([ie.forward_ratio(sweep[g]) for g in sweep_gains])
# the gain at which the gradient keeps its scale over 20 layers, per seed (log-linear interpolation)
flat_gain = np.array([np.exp(np.interp(0.0, np.log(bwd_sweep[:, s]), np.log(sweep_gains)))
                      for s in range(len(SEEDS))])
print("gain with gradient std layer 1 = layer 20:", np.round(flat_gain, 3))
print("forward ratio at that gain:", np.round([np.interp(g, sweep_gains, fwd_sweep[:, s])
                                               for s, g in enumerate(flat_gain)], 3))
# the backward ratio rises monotonically with the gain, and crosses 1 between 1.1 and 1.3
assert np.all(np.diff(bwd_sweep, axis=0) > 0)
assert np.all((flat_gain > 1.1) & (flat_gain < 1.3))
# there, the forward std still falls by a third or more over the 20 layers
assert np.all(np.array([np.interp(g, sweep_gains, fwd_sweep[:, s])
                        for s, g in enumerate(flat_gain)]) < 0.75)

# per-layer growth at 5/3 is the same at depth 50: the gradient grows exponentially with depth
deep50 = ie.gain_profiles([5 / 3], "tanh", SEEDS, depth=50)[5 / 3]
f20, f50 = ie.per_layer(bwd["tanh", 5 / 3], 20), ie.per_layer(ie.backward_ratio(deep50), 50)
print(f"gain 5/3, gradient growth per layer: {f20.mean():.3f} at depth 20, {f50.mean():.3f} at "
      f"depth 50 (layer 1 / layer 50: {ie.backward_ratio(deep50).mean():.0f}×)")
assert np.all(np.abs(f50 / f20 - 1) < 0.03)

# %% [markdown]
# No single gain keeps a deep tanh stack flat in **both** directions. This is the
# order-to-chaos transition described by Poole et al. (2016) and Schoenholz et al. (2017):
# for tanh without biases the critical gain is 1, where the per-layer gradient factor
# $\text{gain}\cdot\sqrt{\mathbb E[\tanh'(z)^2]}$ tends to 1 — but only because the signal
# itself slowly fades to 0, where $\tanh'$ is 1. Below gain 1 the net is *ordered*: signals
# and gradients shrink exponentially. Above it the net is *chaotic*: the activations settle at
# a fixed, non-zero scale (what 5/3 is chosen for), but nearby inputs are pulled apart and the
# gradient grows exponentially with depth. In 20 layers the compromise is a gain of about
# 1.1–1.3 (the gradient flat, the activations falling by a third to a half); 5/3 is a
# **forward-pass choice**, and He's $\sqrt 2$ lies between the two, its gradient growing about
# 2× over 20 layers (which is what notebook 01 saw growing in its tanh net with He init).
# In shallow nets all of this is a factor of two either way; in deep tanh nets it is why
# normalization (notebook 04) took over.

# %% [markdown]
# ## 7 · A correction: the sigmoid needs the *larger* scale, not tanh — for the backward pass
#
# > **Known error.** A widely copied table of initialization parameters lists tanh with **4
# > times** the logistic sigmoid's scale. It is the other way round: the common advice is to
# > give the logistic sigmoid weights about **4× those of tanh**. This rule —
# > $r = 4\sqrt{6/(\text{fan\_in}+\text{fan\_out})}$ for sigmoid units — is stated in Bengio
# > (2012, "Practical recommendations for gradient-based training of deep architectures") and
# > in the deeplearning.net Theano tutorial (multilayer perceptron), both citing Glorot &
# > Bengio (2010). Glorot & Bengio's own derivation (their section 4.2.1) assumes an
# > activation with $f'(0) = 1$ and does not state the factor.
#
# The reason for the 4 is the slope at the origin: $\sigma'(0) = 1/4$ while $\tanh'(0) = 1$.
# **Backward**, each layer multiplies the gradient's std by
# $\text{gain}\cdot\sqrt{\mathbb E[\sigma'(z)^2]}$ (section 3), about $\text{gain}/4$ while
# $z$ stays near 0: gain 4 undoes the quarter.
#
# **Forward** the story is different, and ×4 does not "undo" anything. The sigmoid's outputs
# have mean about $\tfrac12$, so the next layer sees (section 3, non-centred inputs)
#
# $$\mathrm{Var}(z_{l+1}) = \text{gain}^2\,\mathbb E[a_l^2] = \text{gain}^2\big(\mathbb E[a_l]^2 +
#   \mathrm{Var}(a_l)\big) \approx \text{gain}^2\Big(\tfrac14 + \tfrac{\mathrm{Var}(z_l)}{16}\Big),$$
#
# using $\sigma(z) \approx \tfrac12 + z/4$ near 0. The mean $\tfrac12$ dominates: at gain 1
# the pre-activation variance settles near $0.27$, neither vanishing nor exploding; at gain 4
# the term $16 \cdot \tfrac14 = 4$ is **added to the pre-activation variance at every layer**,
# whatever the signal. The units then sit away from 0, where $\sigma' < \tfrac14$ and some
# saturate, and the backward factor falls short of 1 again. (tanh $= 2\sigma(2x) - 1$ is the
# centred sigmoid: no mean, no such offset.)
#
# We measure it in 20-layer nets of 256 units, at Xavier scale ×1 and ×4, three seeds.

# %%
h = 1e-4
slope_sig = (cl.Sigmoid().forward(np.array(h)) - cl.Sigmoid().forward(np.array(-h))) / (2 * h)
slope_tanh = (cl.Tanh().forward(np.array(h)) - cl.Tanh().forward(np.array(-h))) / (2 * h)
print(f"sigma'(0) = {slope_sig:.4f}, tanh'(0) = {slope_tanh:.4f} (central differences)")
assert abs(slope_sig - 0.25) < 1e-6 and abs(slope_tanh - 1) < 1e-6

cases = {(act, g): runs for act in ("sigmoid", "tanh")
         for g, runs in ie.gain_profiles([1.0, 4.0], act, SEEDS).items()}
print(f"{'':12s} {'mean a':>7s} {'Var(z), layers 2-20':>20s} {'max sat.':>9s} "
      f"{'grad 1 / 20':>20s} {'per layer':>10s}")
down = {}
for (act, g), r in cases.items():
    down[act, g] = ie.backward_ratio(r)
    v = r["pre_std"][:, 1:] ** 2
    print(f"{act:7s} ×{g:<3g} {r['act_mean'][:, 1:].mean():7.2f} {v.min():9.2f} … {v.max():6.2f}"
          f" {r['saturated'].max():9.0%} {down[act, g].min():9.1e} … {down[act, g].max():7.1e}"
          f" {ie.per_layer(down[act, g], 20).mean():10.3f}")

sig1, sig4 = cases["sigmoid", 1.0], cases["sigmoid", 4.0]
# forward: the next layer's pre-activation variance is gain^2 E[a^2], not gain^2 Var(a): on
# average over the layers within 6% on every seed (single layers scatter by up to ~20%: the
# mean 1/2 times each unit's sum of 256 weights is one random offset per unit) ...
for g, r in ((1.0, sig1), (4.0, sig4)):
    v_next = r["pre_std"][:, 1:] ** 2
    ratio = v_next / (g ** 2 * r["act_sq"][:, :-1])
    assert np.all(np.abs(ratio.mean(axis=1) - 1) < 0.06) and np.all(np.abs(ratio - 1) < 0.35)
    # ... while Var(a) in place of E[a^2] would miss by a factor of 2.5 (x4) to 7 (x1) or more
    miss = v_next / (g ** 2 * r["act_std"][:, :-1] ** 2)
    assert np.all(miss.mean(axis=1) > 2) and np.all(miss > 1.5)
# ... so at x4 the mean 1/2 alone puts 16 * 1/4 = 4 into every layer's pre-activation variance
assert np.all((sig4["pre_std"][:, 1:] ** 2).mean(axis=1) > 4) and np.all(sig4["pre_std"][:, 1:] ** 2 > 3)
# ... and at x1 the variance neither vanishes nor explodes: from layer 6 on it settles near
# 1/4 + Var/16 ~ 0.27 (on average over the layers; single layers scatter by about ±25%)
v1 = sig1["pre_std"][:, 5:] ** 2
assert np.all((v1.mean(axis=1) > 0.22) & (v1.mean(axis=1) < 0.31))
assert np.all((v1 > 0.15) & (v1 < 0.4))
# backward: x1 keeps about a quarter of the gradient's std per layer (sigma'(0) = 1/4) ...
assert np.all((ie.per_layer(down["sigmoid", 1.0], 20) > 0.2) & (ie.per_layer(down["sigmoid", 1.0], 20) < 0.3))
# ... x4 rescues many orders of magnitude, but not all: the offset units lose ~1/3 per layer
assert np.all(down["sigmoid", 4.0] > 1e6 * down["sigmoid", 1.0])
assert np.all((ie.per_layer(down["sigmoid", 4.0], 20) > 0.5) & (ie.per_layer(down["sigmoid", 4.0], 20) < 0.75))
# tanh at x1 is healthy; at x4 (the copied table's advice) it saturates and the gradient blows up
assert np.all((down["tanh", 1.0] > 0.1) & (down["tanh", 1.0] < 10))
assert cases["tanh", 1.0]["saturated"].max() < 0.1
assert cases["tanh", 4.0]["saturated"].min(axis=1).min() > 0.5 and np.all(down["tanh", 4.0] > 1e3)

# %%
fig = ie.draw_sigmoid(cases, {("sigmoid", 1.0): ("C0", "--", "sigmoid ×1 (copied table)"),
                              ("sigmoid", 4.0): ("C0", "-", "sigmoid ×4 (Bengio 2012)"),
                              ("tanh", 1.0): ("C1", "-", "tanh ×1 (Xavier)"),
                              ("tanh", 4.0): ("C1", "--", "tanh ×4 (copied table)")})
plt.show()

# %% [markdown]
# Left, forward: the sigmoid's pre-activations neither collapse nor explode at ×1 — the mean
# $\tfrac12$ carries a fixed variance of about 0.27 through every layer — and ×4 lifts them to
# a variance of 4–5, far from the steep middle. Right, backward: with the copied table's
# advice both nets fail — sigmoid ×1 loses three quarters of the gradient per layer
# ($10^{-12}$ after 20 layers) and tanh ×4 saturates most of its units while its gradient
# explodes towards the input. The 4× of the advice moves the sigmoid's gradient by eight
# orders of magnitude but still loses about a third per layer, because of the forward offset.
# The factor 4 fixes the backward $\sigma'(0) = \tfrac14$ only; the mean $\tfrac12$ is a forward
# problem that no scale fixes — one more reason (notebook 01) to keep sigmoids out of hidden
# layers. PyTorch's `calculate_gain('sigmoid') = 1` is a convention, not a derivation.

# %% [markdown]
# ## 8 · Twenty layers, three schemes, two activations
#
# The summary experiment: 20 layers of 256 units, std 0.01, Xavier and He, each with tanh and
# with ReLU, three seeds. For square layers of 256 units these are the gains 0.16
# ($0.01\sqrt{256}$), 1 ($\sqrt{2/(256+256)} = 1/\sqrt{256}$) and $\sqrt 2$ of the same
# computation. Biases are zero, as `cl.Linear` starts them and as nearly everyone does: the
# random weights already break the symmetry, and a zero bias leaves the variance arithmetic
# untouched. (A small positive bias such as 0.01 is sometimes used to start ReLU units
# active; section 9 shows what PyTorch's *random* biases do.)
#
# Top row: each layer's std, forward and backward. Bottom row, zoomed: the **factor per
# layer**, $\mathrm{std}_l/\mathrm{std}_{l-1}$ forward and $\mathrm{std}_l/\mathrm{std}_{l+1}$
# backward — where a good init sits on the line at 1.

# %%
schemes = {"std = 0.01": 0.16, "Xavier": 1.0, "He": np.sqrt(2)}
deep20 = {}
for act in ("tanh", "relu"):
    runs = ie.gain_profiles(list(schemes.values()), act, SEEDS)
    for name, g in schemes.items():
        deep20[name, act] = runs[g]
colors = {"std = 0.01": "C3", "Xavier": "C0", "He": "C2"}
fig = ie.draw_twenty(deep20, {(n, a): (colors[n], "-" if a == "relu" else "--",
                                       f"{n}, {'ReLU' if a == 'relu' else 'tanh'}")
                              for n, a in deep20})
plt.show()

# %%
print(f"{'':17s} {'act std: layer 20 / 1':>24s} {'max/min over layers':>21s} {'grad std: layer 1 / 20':>24s}")
for (name, act), r in deep20.items():
    a, g = r["act_std"], r["grad_std"]
    spread = a.max(axis=1) / a.min(axis=1)
    print(f"{name + ', ' + act:17s} {ie.forward_ratio(r).mean():24.2e} "
          f"{spread.min():9.3g} … {spread.max():<9.3g} {ie.backward_ratio(r).mean():24.2e}")

he_relu, xav_relu, he_tanh = deep20["He", "relu"], deep20["Xavier", "relu"], deep20["He", "tanh"]
spread = lambda v: v.max(axis=1) / v.min(axis=1)                       # noqa: E731 (per seed)
# He + ReLU: no layer changes the std by more than 35%, and over all 20 layers the std stays
# within a factor of 2 on average over the seeds (each seed below 2.5; 1.2-1.8 over 30 seeds we tried)
a_step = he_relu["act_std"][:, 1:] / he_relu["act_std"][:, :-1]
assert np.all(np.abs(np.log(a_step)) < np.log(1.35))
assert spread(he_relu["act_std"]).mean() < 2 and np.all(spread(he_relu["act_std"]) < 2.5)
assert np.all(spread(he_relu["grad_std"]) < 2)
# std = 0.01 collapses by many orders of magnitude, forward and backward, with either activation
for act in ("tanh", "relu"):
    r = deep20["std = 0.01", act]
    assert np.all(ie.forward_ratio(r) < 1e-10) and np.all(ie.backward_ratio(r) < 1e-10)
# Xavier under ReLU loses half the variance per layer: a factor 1/sqrt(2) = 0.707 in std, per layer
x_step = np.exp(np.log(xav_relu["act_std"][:, 1:] / xav_relu["act_std"][:, :-1]).mean(axis=1))
assert np.all(np.abs(x_step / np.sqrt(0.5) - 1) < 0.05)
# He under tanh: the activations stay within a factor of 2, the gradient grows 1.4-3.5x (section 6)
assert np.all(spread(he_tanh["act_std"]) < 2)
assert np.all((ie.backward_ratio(he_tanh) > 1.4) & (ie.backward_ratio(he_tanh) < 3.5))

# %% [markdown]
# Reading the plot: **std = 0.01** (red) falls by a factor of about 6–9 per layer in both
# directions (0.16 for tanh, $0.16/\sqrt2 \approx 0.11$ for ReLU); **Xavier with ReLU** (blue,
# solid) loses a factor $1/\sqrt 2$ every layer — slow, but after 20 layers the signal is a
# thousand times smaller; **He with ReLU** (green, solid) sits on the line at 1, its per-layer
# factors scattering by 10–20% around it (the finite width of 256 units), both ways. For tanh
# (dashed), Xavier drifts down slowly in both directions, and He holds the activations while
# its gradient grows a few % per layer — the chaotic side of section 6. Normalization layers
# (notebook 04) make a network far less sensitive to all of this; initialization is still the
# first thing to get right.

# %% [markdown]
# ## 9 · PyTorch's default, Xavier, He and LSUV on a 20-layer ReLU stack
#
# So far the inputs were Gaussian noise and the nets had no biases. Now a real stack on real
# data: the standardized digits (each pixel centred and scaled with training statistics, as
# in notebook 00) through 20 hidden layers of 64 ReLU units and a linear output layer of 10,
# initialized four ways:
#
# * **PyTorch's default** for `nn.Linear`, which `cl.Linear(..., init="torch_default")`
#   reproduces: `kaiming_uniform_(a=√5)`, i.e. $W \sim U[-1/\sqrt{\text{fan\_in}},
#   1/\sqrt{\text{fan\_in}}]$, std $1/\sqrt{3\,\text{fan\_in}}$ — a factor $\sqrt 6 \approx 2.45$
#   below He — and **random biases** from the same range. Through a ReLU layer the weights
#   carry $\text{fan\_in}\cdot\mathrm{Var}(W)\cdot\tfrac12 = \tfrac16$ of the second moment.
# * **Xavier** ($1/\sqrt{64}$ here: square layers) and **He** ($\sqrt{2/64}$), biases 0.
# * **LSUV**, "layer-sequential unit variance" (Mishkin & Matas 2016), a data-driven init:
#   start from orthonormal weights (`cl.init.orthogonal`), then, layer by layer from the
#   input, rescale each weight matrix until its output has variance 1 on a batch of real
#   training inputs (`cl.init.lsuv`, here on 256 digits). It measures instead of deriving.
#
# First the stack at initialization, three seeds (each seed its own weights): each hidden
# layer's activation std on 256 digits, and the share of **dead** units — units that output 0
# for every one of the training digits (`cl.diagnostics.dead_units`, notebook 01).

# %%
profile = ie.init_profile(SEEDS)
fig = ie.draw_init_profile(profile)
plt.show()

# %%
ln10 = np.log(10)
print(f"{'init':16s} {'std, layer 20':>22s} {'input-dependent share':>22s} "
      f"{'logit std over digits':>22s} {'dead units':>11s}")
for init, r in profile.items():
    a = r["act_std"][:, -1]
    print(f"{ie.INIT_LABELS[init]:16s} {a.mean():9.3g} ({a.min():.2g} … {a.max():.2g})"
          f" {r['signal'].mean():22.2g} {r['logit_spread'].mean():22.2g} {r['dead'].mean():11.0%}")

torch_d, xav_s, he_s, lsuv_s = (profile[k] for k in ie.STACK_INITS)
# PyTorch's default: on every seed the deepest layer is nearly constant across the digits —
# what varies from digit to digit is a vanishing share of it, and so are the logits
assert np.all(torch_d["act_std"][:, -1] < 0.1)
assert np.all(torch_d["signal"] < 1e-6) and np.all(torch_d["logit_spread"] < 1e-6)
# ... and a third or more of its units are dead on every training digit, before any training
assert np.all(torch_d["dead"].mean(axis=1) > 0.3)
# Xavier + ReLU: the same pattern as He, each layer 1/sqrt(2) smaller (no biases, ReLU(cx) = c ReLU(x))
assert np.all(np.abs(xav_s["act_std"][:, -1] / he_s["act_std"][:, -1] / 2 ** -10 - 1) < 1e-6)
# He keeps the deepest layer near the scale of the input (0.2-1.1 over the ten COURSE_SEEDs
# we tried: a random walk over 20 layers of 64 units), with a real input-dependent part
assert np.all((he_s["act_std"][:, -1] > 0.12) & (he_s["act_std"][:, -1] < 4))
assert np.all(he_s["signal"] > 0.05)
# LSUV: every layer's pre-activations have variance 1 on the batch; for zero-mean Gaussian
# ones a ReLU output would have std sqrt(1/2 - 1/(2 pi)) = 0.584. Every layer stays within 35%
# of that (the units' own means differ, so it is not exact; 0.79-1.29x over ten COURSE_SEEDs),
# and nothing drifts with depth
assert np.all(np.abs(lsuv_s["act_std"] / np.sqrt(0.5 - 0.5 / np.pi) - 1) < 0.35)
# He and LSUV kill far fewer units than PyTorch's default does
assert np.all(he_s["dead"].mean(axis=1) < 0.25) and np.all(lsuv_s["dead"].mean(axis=1) < 0.25)

# %% [markdown]
# What PyTorch's default does to this stack: each layer passes on only $\tfrac16$ of its
# input's second moment through the weights, so after a few layers the signal from the digit
# is smaller than the random biases, which are the same for every digit. From then on each
# layer computes nearly the same vector for every input: the part of the deepest layer that
# changes from digit to digit is $10^{-14}$ of it, the logits differ between digits by
# $10^{-9}$. A unit whose bias is negative and larger than that tiny signal is dead on every
# digit — 40% of them. (Xavier loses the signal too, by $1/\sqrt2$ per layer, but without
# biases nothing replaces it: the deepest layer is $2^{-10}$ of He's, *exactly*, with exactly
# He's dead units, since $\mathrm{relu}(cx) = c\,\mathrm{relu}(x)$.) He keeps the scale;
# its dead units (10–15%, more in the deepest layers) come from depth itself: in a deep ReLU
# stack the representations of different inputs grow more alike from layer to layer, so a
# unit can end up on the same side of zero for all of them. LSUV's stds stay, layer after
# layer, within about 20–30% of the 0.58 its rule predicts for Gaussian pre-activations.
#
# PyTorch's default is tuned for shallow nets, and most deep PyTorch models put normalization
# layers between their linear layers (notebook 04), which undo any scale. For a plain deep
# ReLU stack — what this course builds — it is the wrong start, and that is why
# **`cl.Linear` defaults to He** (`init="he_normal"`).
#
# Does this matter once training starts? Each init is trained with SGD (momentum 0.9,
# batches of 64) at three learning rates, 0.003, 0.01 and 0.03, for 3 epochs, on the same three
# seeds (the seed draws the weights and the order of the mini-batches; every init sees the same
# order). All 27 runs are trained side by side (`_stacked.fit_stacked`, float32, the
# arithmetic of `cl.fit`). Each init is judged at its **own best** learning rate (lowest mean
# validation loss at the end). Xavier is left out to save time: it is He shrunk by $2^{-10}$ at
# the top (the table above), and in a check outside this notebook (same stack and rates, three
# seeds) its loss stayed within 0.05 of $\ln 10$ for the first 5 epochs.

# %%
scan_inits = ("torch_default", "he_normal", "lsuv")
scan = ie.lr_scan(SEEDS, inits=scan_inits, lrs=(0.003, 0.01, 0.03), epochs=3)
fig = ie.draw_lr_scan(scan)
plt.show()

# %%
print(f"{'init':16s} {'best lr':>8s} {'val loss after epoch 1':>24s} {'after epoch 3':>22s} "
      f"{'test acc.':>18s}")
for init in scan_inits:
    vl, acc = scan.at_best(init, "val_loss"), scan.at_best(init, "test_acc")
    print(f"{ie.INIT_LABELS[init]:16s} {scan.best_lr(init):8g} {vl[:, 0].mean():10.3f} "
          f"({vl[:, 0].min():.2f} … {vl[:, 0].max():.2f}) {vl[:, -1].mean():8.3f} "
          f"({vl[:, -1].min():.2f} … {vl[:, -1].max():.2f}) {acc.mean():7.2f} ({acc.min():.2f} … {acc.max():.2f})")
lsuv_vs_he = cl.paired(scan.at_best("lsuv", "test_acc"), scan.at_best("he_normal", "test_acc"),
                       names=("LSUV", "He"))
print("test accuracy,", lsuv_vs_he.summary())

i_torch = scan.inits.index("torch_default")
# PyTorch's default: at every learning rate, seed and epoch the loss stays at chance (ln 10)
assert np.all(np.abs(scan.val_loss[i_torch] - ln10) < 0.02)
# He and LSUV learn at their best learning rate, on every seed, within 3 epochs
for init in ("he_normal", "lsuv"):
    final = scan.at_best(init, "val_loss")[:, -1]
    assert final.mean() < 1.9 and np.all(final < 2.15)
    assert np.all(scan.at_best(init, "test_acc") > 0.15)     # guessing: 0.1
# most of the progress comes after the first epoch: the first-epoch loss says little
for init in ("he_normal", "lsuv"):
    vl = scan.at_best(init, "val_loss").mean(axis=0)
    assert ln10 - vl[-1] > 2 * (ln10 - vl[0])
# at this budget LSUV is ahead of He: on average, and on at least 2 of the 3 seeds
# (14 of the 15 runs over COURSE_SEED = 0, 1, 2, 3, 7)
assert lsuv_vs_he.mean > 0 and lsuv_vs_he.wins >= 2

# %% [markdown]
# After one epoch no init has got far (validation loss 1.9–2.3 against $\ln 10 = 2.30$ for
# guessing): a 20-layer plain stack starts slowly whatever its init, and most of the progress
# comes later, so the first-epoch loss says little. After three, He and LSUV are on their way at their best learning
# rate (0.01 on most seeds), while PyTorch's default has not moved **at any** of the three
# learning rates: its loss is $\ln 10$ to two decimals, its test accuracy that of guessing.
# This is not a learning rate too small for tiny gradients — the net's output simply does not
# depend on its input, so there is nothing for the lower layers' gradients to say.
#
# Between the two that train, LSUV is ahead at this budget: about 0.1–0.2 in test accuracy on
# average, on 14 of the 15 runs we made (COURSE_SEED 0, 1, 2, 3, 7; the paired difference
# above is this run's). Its orthonormal start and its exact unit variance on real inputs give
# the deep layers a cleaner start than He's Gaussian draws, whose per-layer factors scatter by
# 10–20% (section 8). We did not run long enough here to say whether the gap survives a longer
# budget; in a check outside this notebook (20 epochs, three seeds) it had shrunk to a few
# points (best validation accuracy over the three rates 0.94 for LSUV on all three seeds,
# 0.89–0.91 for He).

# %% [markdown]
# ## 10 · Watching the activations while the net trains
#
# A number at initialization is one snapshot. `cl.diagnostics.ActivationStats` (notebook 01)
# records, at every few training steps, each layer's activation mean, std, saturated and
# dead shares and a histogram over fixed bins, through forward hooks, as a `cl.fit` callback.
# `cl.plots.plot_colorful_dimension` stacks the histograms into an image per layer
# (fast.ai's "colorful dimension"): x is the training step, y the activation value, the
# colour the log-count — so you watch the distribution evolve step by step.
#
# **ReLU, PyTorch's default against He**: the same 20-layer stack, trained with `cl.fit`
# (SGD, momentum 0.9, lr 0.01 — He's best above on most seeds; no rate helped PyTorch's
# default), 4 epochs, three seeds, statistics every 4th step. The images below show hidden
# layers 1, 7, 13 and 20 of the first seed.

# %%
relu_runs = {init: [ie.stats_run(init, s, epochs=4, lr=0.01, every=4) for s in SEEDS]
             for init in ("torch_default", "he_normal")}
watched = [1, 13, 25, 39]                    # model.layers indices of hidden ReLU layers 1, 7, 13, 20
fig = ie.draw_colorful_pair([relu_runs[i][0][0] for i in relu_runs],
                            [ie.INIT_LABELS[i] for i in relu_runs], watched,
                            f"ReLU activations during training (seed {SEEDS[0]}): "
                            "PyTorch's default (top), He (bottom)")
plt.show()

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), sharey=True, constrained_layout=True)
for ax, init in zip(axes, relu_runs):
    cl.plots.plot_dead_saturated(relu_runs[init][0][0], ax=ax, which="dead",
                                 title=f"{ie.INIT_LABELS[init]}: dead units per batch")
plt.show()

# %%
print(f"{'':16s} {'dead units before':>18s} {'after 4 epochs':>15s} {'deepest layer':>15s} {'val acc.':>9s}")
dead = {}
for init, runs in relu_runs.items():
    before = np.array([ie.mean_dead(r[2]) for r in runs])
    after = np.array([ie.mean_dead(r[3]) for r in runs])
    deepest = np.array([list(r[3].values())[-1] for r in runs])
    acc = np.array([r[1].val_acc[-1] for r in runs])
    dead[init] = before, after, acc
    for s, b, a, d, v in zip(SEEDS, before, after, deepest, acc):
        print(f"{ie.INIT_LABELS[init] + f', seed {s}':16s} {b:18.0%} {a:15.0%} {d:15.0%} {v:9.2f}")

# exact counts on all training digits (dead_units), on every seed:
# PyTorch's default: a third or more of the units are dead and stay dead — no recovery
b, a, acc = dead["torch_default"]
assert np.all(a > 0.3) and np.all(a > b - 0.02) and np.all(acc < 0.15)
# He: few dead units at the start and at the end, and the net learns (guessing: 0.1)
b, a, acc = dead["he_normal"]
assert np.all(b < 0.25) and np.all(a < 0.2) and acc.mean() > 0.3   # (a single run can still stall)
# He's deepest layer: its std first collapses (within the first 20 steps), then recovers
deep_std = np.array([r[0].std[39] for r in relu_runs["he_normal"]])      # (seeds, recorded steps)
steps = relu_runs["he_normal"][0][0].steps
early = steps <= 20
print("He, deepest layer std: first step", deep_std[:, 0].round(2), " lowest in steps 0-20",
      deep_std[:, early].min(axis=1).round(2), " last", deep_std[:, -1].round(2))
assert np.median(deep_std[:, early].min(axis=1) / deep_std[:, 0]) < 0.65   # on most runs
assert np.all(deep_std[:, -1] > 2.5 * deep_std[:, early].min(axis=1))

# %% [markdown]
# Top row, PyTorch's default: from hidden layer 7 up each image is one thin bright line at
# the bottom that never moves — every unit outputs nearly the same small value for every
# digit, step after step, and the dead ones sit at exactly 0 (hidden layer 1, still fed by
# the input, keeps a spread). The dead chart (its colour bar counts `model.layers`, so 39 is
# hidden layer 20) says the same in numbers: 40–60% of the units of the deeper layers are
# dead, from the first step to the last, and the exact count over all training digits does
# not change.
#
# Bottom row, He: wide distributions that change as the net learns, in two acts. In the
# first ~12 steps the deepest layers **collapse** (hidden layer 20's std falls to below two
# thirds of its start on most runs, mostly to 0.1–0.2): He's random logits start with
# a loss of 2.3–4.6 (above $\ln 10 = 2.30$ on most seeds), and shrinking the top of the net is
# probably the quickest way down. Then they **recover** and widen, to 0.8–2.7, as the net
# starts to use its features. The share of dead units, 7–16% at the start, ends at 6–16%: it fell on 12
# of the 15 runs we made (COURSE_SEED 0, 1, 2, 3, 7) and rose a little on three, so He's dead
# units partly **recover** and PyTorch's default's do not move at all. A ReLU unit dead on
# every input can come back when the layers that feed it move (a first-layer unit, whose
# input is the fixed data, cannot).
#
# **tanh, std 1 against Xavier**: the same stack with tanh units, 3 epochs at lr 0.01. With
# std 1 each unit sums 64 inputs with unit weights (pre-activation std 8): the saturation of
# section 2, now on real data and during training. We also give the std-1 net a ten times
# larger learning rate, to see whether the rate is what holds it back.

# %%
tanh_runs = {(init, lr): [ie.stats_run(init, s, activation="tanh", epochs=3, lr=lr, every=4)
                          for s in SEEDS]
             for init, lr in (("normal_1", 0.01), ("xavier_normal", 0.01), ("normal_1", 0.1))}
pair = [("normal_1", 0.01), ("xavier_normal", 0.01)]
fig = ie.draw_colorful_pair([tanh_runs[k][0][0] for k in pair],
                            [ie.INIT_LABELS[k[0]] for k in pair], watched,
                            f"tanh activations during training (seed {SEEDS[0]}): "
                            "std 1 (top), Xavier (bottom)")
plt.show()

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), sharey=True, constrained_layout=True)
for ax, key in zip(axes, [("normal_1", 0.01), ("xavier_normal", 0.01)]):
    cl.plots.plot_dead_saturated(tanh_runs[key][0][0], ax=ax, which="saturated",
                                 title=f"{ie.INIT_LABELS[key[0]]}: saturated outputs")
plt.show()

# %%
print(f"{'':24s} {'saturated: first step':>22s} {'last step':>10s} {'val acc. (3 seeds)':>26s}")
sat = {}
for key, runs in tanh_runs.items():
    first = np.array([np.nanmean([st.saturated[i][0] for i in st.layers]) for st, *_ in runs])
    last = np.array([np.nanmean([st.saturated[i][-1] for i in st.layers]) for st, *_ in runs])
    acc = np.array([r[1].val_acc[-1] for r in runs])
    sat[key] = first, last, acc
    print(f"{ie.INIT_LABELS[key[0]] + f', lr {key[1]:g}':24s} {first.mean():22.0%} "
          f"{last.mean():10.0%} {acc.mean():8.2f} ({acc.min():.2f} … {acc.max():.2f})")

# on every seed: std 1 starts and ends saturated (most outputs in the flat tails) and does not
# learn at either rate; Xavier has almost no saturation and learns
for lr in (0.01, 0.1):
    first, last, acc = sat["normal_1", lr]
    assert np.all(first > 0.7) and np.all(last > 0.7) and np.all(acc < 0.3)
first, last, acc = sat["xavier_normal", 0.01]
assert np.all(last < 0.05) and np.all(acc > 0.7)

# %% [markdown]
# Top row, std 1: from the first step almost all outputs sit at $\pm 1$ (two bright bands at
# the edges of each image) and they stay there; the saturation chart shows about 80% of the
# outputs in the flat tails at the start and more at the end — training pushes the units
# *further* out, since the only gradients left come through the few unsaturated units.
# Neither lr 0.01 nor 0.1 gets it off chance level within 3 epochs. Bottom row, Xavier:
# a bell around 0 in every layer, almost nothing saturated, and the net learns (above 0.7
# validation accuracy on every seed). A saturated start is not a slow start; it is a start
# the net does not recover from on this budget.

# %% [markdown]
# ## 11 · Explore: init scale × activation × depth
#
# The widget below runs the deep-stack experiment live (layers of 256 units, a batch of 128
# unit-Gaussian examples, the seed from COURSE_SEED). The slider sets the gain,
# $\mathrm{std}(W) = \text{gain}/\sqrt{256}$, on a log scale; the dropdowns choose the
# activation and the depth. Left: histograms of the activations of up to six layers
# (colour = depth); middle: histograms of the gradients (the unit-Gaussian probe enters at the
# top); right: every layer's std. Things to try:
#
# * tanh, depth 10: gain 0.16 is std 0.01 at this width (collapse), gain 16 is std 1
#   (saturation at ±1, exploding gradients), gain 1 is Xavier; find the gain that keeps the
#   gradient curve flat, and the one that keeps the activation curve flat — they differ
#   (section 6).
# * relu: gain 1 collapses slowly, $\sqrt 2 \approx 1.41$ is flat, 2 explodes. Then switch
#   to depth 20 and see how much sharper the optimum becomes.
# * sigmoid: how large must the gain be before the gradient survives 20 layers, and what
#   happens to the activation histograms then?
# * linear: the only activation for which gain 1 is exactly right, at every depth.

# %%
explorer = init_explorer()
display(explorer)

# %% [markdown]
# ## Check your understanding
#
# 1. A colleague initializes every weight of a 3-layer MLP to 0.1 "to avoid the zero
#    problem". What goes wrong, and does training longer help?
#
#    <details><summary>Answer</summary>
#
#    All units of a layer start identical, receive identical gradients and stay identical
#    (section 1), so each hidden layer acts like a single unit no matter how long it trains.
#    Any constant has this problem; random initialization breaks the symmetry (and so would
#    dropout's random masks, as a side effect).
#    </details>
#
# 2. A layer has fan_in = 400 and fan_out = 100. Give the std of its weights under LeCun
#    ($1/\text{fan\_in}$), Xavier and He, and the range $r$ of Xavier-uniform.
#
#    <details><summary>Answer</summary>
#
#    LeCun $\sqrt{1/400} = 0.05$; Xavier $\sqrt{2/500} \approx 0.063$; He $\sqrt{2/400}
#    \approx 0.071$; Xavier-uniform $r = \sqrt{6/500} \approx 0.110 = \sqrt 3 \cdot 0.063$.
#    </details>
#
# 3. In a 50-layer linear network with square layers of width 1000, the weights are drawn
#    with std 0.033 instead of $1/\sqrt{1000} \approx 0.0316$. By what factor does the output
#    std differ from the input std?
#
#    <details><summary>Answer</summary>
#
#    Each layer multiplies the std by $0.033 \cdot \sqrt{1000} \approx 1.044$; fifty layers by
#    $1.044^{50} \approx 8.4$. A 4% error per layer becomes almost an order of magnitude — the
#    product is exponential in depth.
#    </details>
#
# 4. Why does He initialization use a gain of $\sqrt 2$ for ReLU, and what would you use for
#    a Leaky ReLU with slope 0.2? Does the gain also keep the gradients' scale?
#
#    <details><summary>Answer</summary>
#
#    ReLU zeroes the negative half of a symmetric pre-activation, so it keeps half the
#    second moment: $\text{fan\_in}\cdot\mathrm{Var}(W)\cdot\tfrac12 = 1$ gives
#    $\mathrm{Var}(W) = 2/\text{fan\_in}$, a gain of $\sqrt 2$. A Leaky ReLU keeps
#    $(1+\alpha^2)/2$, so the gain is $\sqrt{2/(1+0.04)} \approx 1.387$. Backward the factor is
#    $\text{fan\_out}\cdot\mathrm{Var}(W)\cdot\mathbb E[f'(z)^2]$ with $\mathbb E[f'(z)^2] =
#    \tfrac12$ for ReLU (and $(1+\alpha^2)/2$ for Leaky ReLU): the same gain, so yes for square
#    layers; in a funnel the mismatch is the ratio of the first and last widths, not growing
#    with depth (section 3).
#    </details>
#
# 5. A table tells you to use 4× the Xavier scale for tanh and 1× for the sigmoid. What do you
#    expect in a 20-layer net, and what is the correct relation?
#
#    <details><summary>Answer</summary>
#
#    tanh at 4× saturates (most $|a| > 0.97$), its gradients through saturated units vanish
#    while the total gradient grows towards the input; the sigmoid at 1× loses about 3/4 of
#    the gradient's std per layer because $\sigma'(0) = 1/4$. The usual advice (Bengio 2012,
#    the Theano tutorial) is the reverse: about 4× the tanh scale for the sigmoid. That fixes
#    the backward $\sigma'(0) = \tfrac14$; forward, the sigmoid's mean $\tfrac12$ then adds about
#    4 to every layer's pre-activation variance, and the gradient still loses about a third
#    per layer (section 7).
#    </details>
#
# 6. Your 20-layer tanh net is initialized with the recommended gain 5/3. The activations look
#    healthy in every layer. Is the backward pass healthy too?
#
#    <details><summary>Answer</summary>
#
#    Not quite: 5/3 is chosen for the forward pass. Backward, each layer multiplies the
#    gradient by $\tfrac53\sqrt{\mathbb E[\tanh'(z)^2]} \approx 1.1$, so the first layer's
#    gradient is about 5× the last's over 20 layers and about 100× over 50 (the chaotic phase
#    of section 6). A gain near 1.2 keeps the gradient flat at this depth, at the price of
#    activations that shrink by a third.
#    </details>
#
# 7. A deep ReLU stack built with PyTorch's default `nn.Linear` init stays at loss $\ln 10$ for
#    every learning rate you try. What do you check first, and what do you change?
#
#    <details><summary>Answer</summary>
#
#    Check whether the output depends on the input at all: the spread of the deep activations
#    (or of the logits) across examples, and the share of dead units. PyTorch's default carries
#    only $\tfrac16$ of the second moment per ReLU layer, so the random biases take over and the
#    deep layers become constant (section 9). Use He init (`cl.Linear`'s default), or LSUV, or
#    add normalization layers (notebook 04).
#    </details>
#
# ## Summary
#
# * Constant (or zero) weights keep the units of a layer identical forever: **initialize
#   weights randomly**, biases at 0. (Dropout's masks also break the tie.)
# * Small random weights (std 0.01) are fine for shallow nets, but in deep nets the variance
#   is multiplied at every layer by $\text{fan\_in}\cdot\mathrm{Var}(W)$ (times what the
#   activation keeps) forward, and by $\text{fan\_out}\cdot\mathrm{Var}(W)\cdot\mathbb E[f'(z)^2]$
#   backward: a factor below 1 vanishes and above 1 explodes, exponentially in depth. Too large
#   saturates tanh.
# * Preserve the forward variance with $\mathrm{Var}(W) = 1/\text{fan\_in}$, the backward with
#   $1/\text{fan\_out}$; Xavier/Glorot takes their harmonic mean $2/(\text{fan\_in}+\text{fan\_out})$.
#   In a stack the fan-in/fan-out mismatch telescopes to (last width)/(first width), so either
#   pure rule works (He et al.). Uniform $U[-r, r]$ has variance $r^2/3$, so
#   $r = \sqrt 3\,\sigma = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}$.
# * ReLU halves the second moment, forward and backward: **He** initialization,
#   $\mathrm{Var}(W) = 2/\text{fan\_in}$, keeps a 20-layer ReLU net's activations within a
#   factor of 2 on average over seeds (each layer within ±35%), and its gradients too.
# * Gains per activation: linear/sigmoid 1 (PyTorch convention), tanh 5/3, ReLU $\sqrt 2$,
#   Leaky ReLU $\sqrt{2/(1+\alpha^2)}$. tanh's 5/3 is a forward choice: backward the gradient
#   grows about 1.1× per layer (the chaotic side of the order-to-chaos transition); no gain
#   keeps a deep tanh stack flat both ways. The logistic sigmoid needs about 4× the tanh scale
#   (Bengio 2012, the Theano tutorial) for the backward $\sigma'(0) = 1/4$ only; forward, its
#   mean $\tfrac12$ dominates the next layer's input.
# * PyTorch's own `nn.Linear` default (std $1/\sqrt{3\,\text{fan\_in}}$, random biases) turns a
#   20-layer ReLU stack into a constant function of its input: it stays at chance at every
#   learning rate we tried, with 40% dead units. He and LSUV (orthonormal start, rescaled on
#   real data) train it; that is why `cl.Linear` defaults to He.
# * Diagnose with per-layer histograms, stds and dead/saturated shares of activations **and**
#   gradients — at initialization (`cl.diagnostics.trace`, `layer_stats`, `dead_units`) and
#   during training (`cl.diagnostics.ActivationStats` with `cl.plots.plot_colorful_dimension`
#   and `plot_dead_saturated`).
#
# **Next:** [03 · Backpropagation and gradient checking](03_backpropagation.ipynb).
# **Practice:** the exercises for this notebook,
# [exercises/02_initialization.ipynb](../exercises/02_initialization.ipynb).
