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
# per-activation gains — from one line of variance arithmetic, and measure every claim.
#
# **Learning objectives.** After this notebook you can
#
# 1. explain why all-zero or constant weights make a layer's units identical forever
#    (symmetry), and show it on a trained net;
# 2. predict, for a deep stack, whether activations and gradients shrink, explode or keep
#    their scale, from the product of the factors $\text{fan\_in}\cdot\mathrm{Var}(W)$;
# 3. derive Xavier/Glorot ($\mathrm{Var}(W) = 2/(\text{fan\_in}+\text{fan\_out})$) and He
#    ($\mathrm{Var}(W) = 2/\text{fan\_in}$) initialization, and convert a normal std into the
#    range of a uniform distribution with the same variance;
# 4. pick the gain for an activation (linear, tanh, ReLU, Leaky ReLU, sigmoid) — and spot a
#    widely copied table that has the sigmoid/tanh factor backwards;
# 5. read per-layer activation and gradient histograms to diagnose a bad initialization.
#
# **Prerequisites.** [00 · Foundations](00_foundations.ipynb) (layers $a = f(xW + b)$,
# losses, the digits data) and [01 · Activation functions](01_activations.ipynb) (tanh,
# sigmoid, ReLU, Leaky ReLU and their derivatives). Variance and independence at the level of
# a first statistics course.
#
# **Estimated time.** 60–75 minutes.

# %%
from functools import partial
from statistics import harmonic_mean

import numpy as np
import matplotlib.pyplot as plt

import course_lib as cl
from course_lib.widgets.initialization import ProbeLoss, init_explorer, propagate

cl.set_seed(0)
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
# Nothing in the algorithm can break the tie; only randomness at initialization does.
#
# All zeros is even worse for tanh or ReLU hidden layers: the hidden outputs are
# $\tanh(0) = 0$ and the outgoing weights are $0$, so the gradient reaching the first layer
# is exactly zero and the gradient of the second layer's weights is zero too. Only the output
# biases learn — the net predicts one class for every input.
#
# Let us train three small nets (64 → 32 tanh units → 10 classes) on the digits, differing
# only in their initial weights. Biases start at zero in all three (`cl.Linear` does that).

# %%
data = cl.data.load_digits()
X_train, y_train, X_val, y_val = data.X_train, data.y_train, data.X_val, data.y_val


def constant(c):
    """An initializer that fills W with the value c (for the demonstration only)."""
    return lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), c)


def train_digits(init, hidden=32, epochs=20):
    model = cl.Sequential(cl.Linear(64, hidden, init=init, rng=1), cl.Tanh(),
                          cl.Linear(hidden, 10, init=init, rng=2))
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.5),
                  X_train, y_train, epochs=epochs, batch_size=32, val=(X_val, y_val),
                  rng=0, progress=False)
    return model, hist.val_acc[-1]


inits = {"all zeros": cl.init.zeros, "constant 0.05": constant(0.05),
         "random, std 0.01": partial(cl.init.normal, std=0.01)}
nets, accs = {}, {}
for name, init in inits.items():
    nets[name], accs[name] = train_digits(init)
    print(f"{name:18s} validation accuracy after 20 epochs: {accs[name]:.3f}")

# %% [markdown]
# Now look inside. Column $j$ of the first weight matrix holds the incoming weights of hidden
# unit $j$, row $j$ of the second one its outgoing weights.

# %%
zero_net, const_net, rand_net = nets.values()
W1, W2 = const_net[0].W.data, const_net[2].W.data
print("all zeros:   |W1| max =", np.abs(zero_net[0].W.data).max(), " |W2| max =",
      np.abs(zero_net[2].W.data).max(), " output biases learned:", zero_net[2].b.data.round(2))
print("constant:    largest difference between two hidden units' incoming weights =",
      np.abs(W1 - W1[:, :1]).max(), "; outgoing weights:", np.abs(W2 - W2[:1]).max())
print("             yet the weights did move: W1 ranges over", W1.min().round(3), "…", W1.max().round(3))

# all zeros: the weights never receive a gradient; only the output biases learn
assert np.all(zero_net[0].W.data == 0) and np.all(zero_net[2].W.data == 0)
assert np.abs(zero_net[2].b.data).max() > 0.01
assert accs["all zeros"] < 0.15                  # one class for every input
# constant: after training, every hidden unit is still an exact copy of the first one
assert np.abs(W1 - W1[:, :1]).max() < 1e-12 and np.abs(W2 - W2[:1]).max() < 1e-12
assert np.ptp(const_net[0].b.data) < 1e-12
assert np.ptp(W1) > 0.1                          # ...although the weights changed a lot
# random: symmetry broken, and small random numbers are fine for a shallow net
assert accs["random, std 0.01"] > 0.9 > 0.6 > accs["constant 0.05"]

# %% [markdown]
# "A layer of 32 identical units is one unit" can be checked exactly: copy the constant net
# into a net with **one** hidden unit (its outgoing weights are the 32 copies summed) and
# compare the outputs.

# %%
one = cl.Sequential(cl.Linear(64, 1), cl.Tanh(), cl.Linear(1, 10))
one[0].W.data[:] = W1[:, :1]
one[0].b.data[:] = const_net[0].b.data[0]
one[2].W.data[:] = W2.sum(axis=0, keepdims=True)
one[2].b.data[:] = const_net[2].b.data
gap = np.abs(one.forward(X_val) - const_net.forward(X_val)).max()
print(f"max |logits(32 identical units) - logits(1 unit)| = {gap:.1e}")
assert gap < 1e-10

# %%
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for row, (name, net) in enumerate([("constant 0.05", const_net), ("random, std 0.01", rand_net)]):
    W = net[0].W.data
    for j, ax in enumerate(axes[row]):
        ax.imshow(W[:, j].reshape(8, 8), cmap="RdBu_r", vmin=-np.abs(W).max(), vmax=np.abs(W).max())
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"unit {j + 1}", fontsize=8)
    axes[row, 0].set_ylabel(name, fontsize=8)
fig.suptitle("incoming weights of hidden units 1–8 after training, as 8×8 images", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The top row is eight copies of one picture; the bottom row shows eight different feature
# detectors. That is the first rule: **initialize weights randomly** (biases may start at
# zero — the weights already break the symmetry, section 8). The second observation is that
# tiny random numbers (std 0.01) trained this *shallow* net perfectly well. Deep nets are a
# different story.

# %% [markdown]
# ## 2 · The classic experiment: a deep tanh net at three scales
#
# Take 10 layers of 500 tanh units, feed 500 examples of unit-Gaussian input, and look at
# what comes out of every layer for three initial scales: $W \sim \mathcal N(0, 0.01^2)$,
# $W \sim \mathcal N(0, 1)$, and Xavier ($\mathrm{std} = \sqrt{2/(500+500)} \approx 0.045$,
# derived in section 3).
#
# For the backward pass we do not need a trained task. We feed the top of the network a
# gradient of our choosing — a fixed unit-Gaussian matrix $G$, as if a loss had produced it —
# and let backpropagation carry it down. `ProbeLoss` is the loss $L = \sum \text{out} \odot G$,
# whose gradient is exactly $G$; every change of the gradient's size below the top is then
# caused by the layers alone. `cl.diagnostics.trace` records each layer's output and the
# gradient with respect to it.

# %%
N, D, L = 500, 500, 10
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D))          # unit-Gaussian inputs
G = rng.standard_normal((N, D))          # the probe gradient fed in at the top


def deep_net(init, activation=cl.Tanh, depth=L, width=D, seed=1):
    r = np.random.default_rng(seed)
    layers = []
    for _ in range(depth):
        layers += [cl.Linear(width, width, init=init, rng=r), activation()]
    return cl.Sequential(*layers)


def measure(model, X, G, weight_grads=True):
    """Per-layer activations, their std, the gradient std at each activation output, and
    (optionally) ||dL/dW|| / ||W|| of each weight matrix: what a learning rate multiplies."""
    outputs, grads = cl.diagnostics.trace(model, X, ProbeLoss(), G)
    acts, dacts, dz = outputs[1::2], grads[1::2], grads[0::2]
    r = {"acts": acts, "act_std": np.array([a.std() for a in acts]),
         "grad_std": np.array([g.std() for g in dacts])}
    if weight_grads:        # dL/dW_l = (input of layer l)^T (gradient at its output)
        inputs = [X] + acts[:-1]
        r["dW_ratio"] = np.array([np.linalg.norm(x.T @ g) / np.linalg.norm(lin.W.data)
                                  for x, g, lin in zip(inputs, dz, model.layers[0::2])])
    return r


schemes = {"std = 0.01": partial(cl.init.normal, std=0.01),
           "std = 1": partial(cl.init.normal, std=1.0),
           "Xavier": cl.init.xavier_normal}
classic = {name: measure(deep_net(init), X, G) for name, init in schemes.items()}

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, (name, r) in zip(axes, classic.items()):
    cl.plots.plot_layer_histograms(r["acts"], ax=ax, bins=60, range=(-1, 1),
                                   title=f"tanh activations, W: {name}",
                                   labels=[f"layer {i + 1}" for i in range(L)],
                                   xlabel="activation value")
    ax.set_ylim(0, 3)
    ax.legend(fontsize=6.5, loc="upper center" if name == "std = 1" else "upper right")
plt.tight_layout()
plt.show()

# %% [markdown]
# Three different pathologies, and one healthy picture:
#
# * **std = 0.01.** The first layer's outputs already have std $\approx 0.01\sqrt{500}
#   \approx 0.22$, and every further layer multiplies by the same factor: after ten layers
#   the activations are a spike at zero, a millionth of the input's scale.
# * **std = 1.** Each unit sums 500 inputs with unit-variance weights: pre-activations of
#   std $\approx 22$. tanh squashes almost all of them to $\pm 1$ — the units are
#   **saturated**, in the flat tails where $\tanh'(z) = 1 - \tanh^2(z) \approx 0$.
# * **Xavier.** Activations keep a spread in every layer (it shrinks slowly; section 6 shows
#   the gain that stops even that).

# %%
for name, r in classic.items():
    r["saturated"] = np.array([np.mean(np.abs(a) > 0.97) for a in r["acts"]])  # in the flat tails
    r["slope"] = np.array([np.mean(1 - a ** 2) for a in r["acts"]])            # mean tanh'(z)
    print(f"{name:11s} act std per layer:", " ".join(f"{v:.2g}" for v in r["act_std"]))
    print(f"{'':11s} saturated (|a| > 0.97): {r['saturated'].min():.0%}–{r['saturated'].max():.0%}, "
          f"mean tanh'(z): {r['slope'].min():.3f}–{r['slope'].max():.3f}")

small, big, xav = classic["std = 0.01"], classic["std = 1"], classic["Xavier"]
# std = 0.01: layer 1 has std ~ 0.01 * sqrt(500), and each layer multiplies by about that again
assert abs(small["act_std"][0] / (0.01 * np.sqrt(D)) - 1) < 0.05
shrink = small["act_std"][1:] / small["act_std"][:-1]
assert np.all((shrink > 0.2) & (shrink < 0.25))
assert small["act_std"][-1] < 1e-5
# std = 1: saturated, with a near-zero local slope, in every layer
assert big["saturated"].min() > 0.85 and big["slope"].max() < 0.06
# Xavier: a spread in every layer, no saturation to speak of
assert xav["act_std"].min() > 0.15 and xav["saturated"].max() < 0.05 and xav["slope"].min() > 0.5

# %% [markdown]
# ### And the gradients?
#
# The same picture, read backwards: the gradient's std at each layer's output (the probe at
# layer 10 has std 1), and the size of each weight matrix's gradient relative to the weights,
# $\|\partial L/\partial W\| / \|W\|$ — the quantity a learning rate multiplies. (The probe's
# absolute scale is arbitrary; compare the schemes and the layers with each other.)

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
layers = np.arange(1, L + 1)
for name, r in classic.items():
    axes[0].semilogy(layers, r["act_std"], "o-", ms=4, label=name)
    axes[1].semilogy(layers, r["grad_std"], "o-", ms=4, label=name)
    axes[2].semilogy(layers, r["dW_ratio"], "o-", ms=4, label=name)
titles = ["activation std (forward →)", "gradient std at each layer (← backward)",
          "||dL/dW|| / ||W|| per layer"]
for ax, title in zip(axes, titles):
    ax.set_xlabel("layer")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
axes[0].set_ylabel("log scale")
plt.tight_layout()
plt.show()

# %%
for name, r in classic.items():
    print(f"{name:11s} gradient std layer 1 / layer 10 = {r['grad_std'][0] / r['grad_std'][-1]:.1e}; "
          f" ||dW||/||W|| from {r['dW_ratio'].min():.1e} to {r['dW_ratio'].max():.1e}")

# std = 0.01: the gradients shrink layer by layer on the way down, as the activations did going up
assert small["grad_std"][0] / small["grad_std"][-1] < 1e-4
# ... and every weight gradient is tiny: each is (small input) x (small gradient)
assert small["dW_ratio"].max() < 1e-3 * xav["dW_ratio"].min()
# Xavier: gradients keep their scale within a small factor, all layers learn at similar rates
assert xav["grad_std"].max() / xav["grad_std"].min() < 5
assert xav["dW_ratio"].max() / xav["dW_ratio"].min() < 3
# std = 1: in every layer, most units multiply the gradient passing through them by tanh' < 0.01 ...
assert min(np.mean(1 - a ** 2 < 0.01) for a in big["acts"]) > 0.8
# ... yet the few unsaturated units pass it on through weights of std 1: in total it GROWS downwards
assert big["grad_std"][0] / big["grad_std"][-1] > 100
assert big["dW_ratio"].max() / big["dW_ratio"].min() > 1e3

# %% [markdown]
# What the numbers say:
#
# * **std = 0.01**: on the way down each layer multiplies the gradient by the same small
#   factor as on the way up, so the early layers get almost nothing. Worse, each weight
#   gradient $\partial L/\partial W_l = a_{l-1}^\top\, \delta_l$ (with $\delta_l$ the gradient
#   at layer $l$'s pre-activation) is a product of a small activation and a small gradient: all layers' updates are $\sim 10^{-5}$ times those
#   under Xavier. The net is stuck before it starts.
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
# where ReLU comes in, section 5.) Near 0, tanh is the identity, so a tanh layer at small
# scale behaves like this linear map. Through $L$ layers the factors multiply:
#
# $$\mathrm{Var}(z_L) = \mathrm{Var}(x)\prod_{l=1}^{L} \text{fan\_in}_l\,\mathrm{Var}(W_l).$$
#
# A product of $L$ equal factors vanishes if the factor is below 1 and explodes if it is
# above — exponentially in depth. With std 0.01 and fan-in 500 the factor is
# $500 \cdot 10^{-4} = 0.05$ in variance, $\sqrt{0.05} \approx 0.22$ in std: exactly the
# shrink we measured. First a check of the formula itself, then of the product.

# %%
rng = np.random.default_rng(3)
for fan_in, std_w, std_x in [(100, 0.1, 1.0), (300, 0.02, 2.0), (1000, 0.05, 0.5)]:
    x = std_x * rng.standard_normal((4000, fan_in))
    W = cl.init.normal(fan_in, 200, rng=rng, std=std_w)
    predicted = fan_in * std_w ** 2 * std_x ** 2
    measured = (x @ W).var()
    print(f"fan_in {fan_in:4d}, Var(W) {std_w ** 2:.0e}, Var(x) {std_x ** 2:4.2f}: "
          f"predicted Var(z) {predicted:6.3f}, measured {measured:6.3f}")
    assert abs(measured / predicted - 1) < 0.05

predicted_std10 = (0.01 * np.sqrt(D)) ** L          # ten factors of 0.01 * sqrt(500)
print(f"std = 0.01, layer 10: predicted std {predicted_std10:.2e}, measured {small['act_std'][-1]:.2e}")
assert abs(small["act_std"][-1] / predicted_std10 - 1) < 0.2

# %% [markdown]
# ### Forward, backward, and Glorot & Bengio's compromise
#
# To keep the forward variance, each factor must be 1:
# $\mathrm{Var}(W) = 1/\text{fan\_in}$ (LeCun's rule).
#
# The backward pass has the same structure with the roles swapped. The gradient with respect
# to a layer's input is $\partial L/\partial x = (\partial L/\partial z)\, W^\top$: each input
# unit sums over the $\text{fan\_out}$ units it feeds, so
#
# $$\mathrm{Var}\Big(\frac{\partial L}{\partial x}\Big) = \text{fan\_out}\cdot\mathrm{Var}(W)
#   \cdot\mathrm{Var}\Big(\frac{\partial L}{\partial z}\Big),$$
#
# and keeping the gradient's variance needs $\mathrm{Var}(W) = 1/\text{fan\_out}$. Both can
# hold only when $\text{fan\_in} = \text{fan\_out}$. Glorot & Bengio (2010) proposed the
# compromise
#
# $$\mathrm{Var}(W) = \frac{2}{\text{fan\_in} + \text{fan\_out}},$$
#
# which is the **harmonic mean** $\frac{2}{1/a + 1/b}$ of the two candidates
# $a = 1/\text{fan\_in}$ and $b = 1/\text{fan\_out}$ (since $1/a + 1/b = \text{fan\_in} +
# \text{fan\_out}$).
# This is **Xavier** (or Glorot) initialization; `cl.init.xavier_normal` draws it.

# %%
for fan_in, fan_out in [(500, 500), (784, 256), (64, 1000), (3, 7)]:
    assert np.isclose(2 / (fan_in + fan_out), harmonic_mean([1 / fan_in, 1 / fan_out]), rtol=1e-12)

fan_in, fan_out = 784, 256
W = cl.init.xavier_normal(fan_in, fan_out, rng=rng)
print(f"({fan_in}, {fan_out}): 2/(fan_in+fan_out) = {2 / (fan_in + fan_out):.3e}, harmonic mean of "
      f"1/fan_in and 1/fan_out = {harmonic_mean([1 / fan_in, 1 / fan_out]):.3e}, "
      f"xavier_normal sample variance = {W.var():.3e}")
assert abs(W.var() / (2 / (fan_in + fan_out)) - 1) < 0.03

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
rng = np.random.default_rng(4)
x0 = rng.standard_normal((1000, widths[0]))
g_top = rng.standard_normal((1000, widths[-1]))
print(f"{'rule':10s} {'forward':>18s} {'backward':>18s}   (measured / theory)")
for name, var in rules.items():
    funnel = cl.Sequential(*[cl.Linear(fi, fo, rng=rng,
                                       init=partial(cl.init.normal, std=np.sqrt(var(fi, fo))))
                             for fi, fo in zip(widths[:-1], widths[1:])])
    out = funnel.forward(x0)
    g_in = funnel.backward(g_top)                  # the gradient at the network's input
    fwd, bwd = out.var() / x0.var(), g_in.var() / g_top.var()
    fwd_theory = np.prod([fi * var(fi, fo) for fi, fo in zip(widths[:-1], widths[1:])])
    bwd_theory = np.prod([fo * var(fi, fo) for fi, fo in zip(widths[:-1], widths[1:])])
    print(f"{name:10s} {fwd:8.3f} / {fwd_theory:7.3f} {bwd:8.3f} / {bwd_theory:7.3f}")
    assert abs(fwd / fwd_theory - 1) < 0.1 and abs(bwd / bwd_theory - 1) < 0.1

# %% [markdown]
# Each pure rule keeps one direction exact and scales the other by $32/1024$ or its inverse
# (the ratios telescope: $\prod \text{fan\_out}_l/\text{fan\_in}_l = 32/1024$). Xavier gives
# up exactness in both directions to stay within a factor of about 4–8 in each. For the
# square layers of most hidden stacks the three rules coincide.

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
W_u = cl.init.xavier_uniform(fan_in, fan_out, rng=5)
W_n = cl.init.xavier_normal(fan_in, fan_out, rng=6)
print(f"r = {r:.4f} = sqrt(3) * std = {np.sqrt(3) * std:.4f};  max |W_uniform| = {np.abs(W_u).max():.4f}")
print(f"variance: uniform {W_u.var():.3e}, normal {W_n.var():.3e}, target {std ** 2:.3e}")
assert np.isclose(r, np.sqrt(3) * std, rtol=1e-12)
assert np.abs(W_u).max() <= r and np.abs(W_u).max() > 0.999 * r
assert abs(W_u.var() / std ** 2 - 1) < 0.02 and abs(W_n.var() / std ** 2 - 1) < 0.02
# the same for He: U[-sqrt(6 / fan_in), +sqrt(6 / fan_in)] has the variance 2 / fan_in
W_hu = cl.init.he_uniform(fan_in, fan_out, rng=7)
assert abs(W_hu.var() / (2 / fan_in) - 1) < 0.02 and np.abs(W_hu).max() <= np.sqrt(6 / fan_in)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.hist(W_n.ravel(), bins=80, density=True, alpha=0.6, label=f"xavier_normal (std {std:.3f})")
ax.hist(W_u.ravel(), bins=80, density=True, alpha=0.6, label=f"xavier_uniform (r = √3·std = {r:.3f})")
ax.axvline(-r, color="k", ls="--", lw=1)
ax.axvline(r, color="k", ls="--", lw=1)
ax.set_xlabel("weight value")
ax.set_ylabel("density")
ax.set_title("same variance, different shapes (dashed: ±r)", fontsize=10)
ax.legend(fontsize=8, loc="upper left")
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
# In NumPy this is one line, `rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)`;
# `cl.init.he_normal` (= PyTorch's `kaiming_normal_`) draws the same distribution.

# %%
z = np.random.default_rng(8).standard_normal(1_000_000) * 1.7
print(f"E[relu(z)^2] / Var(z) = {np.mean(np.maximum(z, 0) ** 2) / z.var():.4f}  (theory 0.5)")
assert abs(np.mean(np.maximum(z, 0) ** 2) / z.var() - 0.5) < 0.005

fan_in, fan_out = 512, 256
W_manual = np.random.default_rng(9).standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)
W_he = cl.init.he_normal(fan_in, fan_out, rng=np.random.default_rng(9))
print(f"std: by hand {W_manual.std():.5f}, cl.init.he_normal {W_he.std():.5f}, "
      f"sqrt(2 / fan_in) = {np.sqrt(2 / fan_in):.5f}")
assert np.isclose(W_manual.std(), W_he.std(), rtol=1e-10)       # same numbers from the same seed
assert np.allclose(W_manual, W_he, rtol=1e-12)
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
# | tanh | 5/3 | an empirical value slightly above 1: away from 0, tanh's slope is below 1 |
# | ReLU | $\sqrt 2$ | ReLU keeps half the second moment (section 5) |
# | Leaky ReLU, slope $\alpha$ | $\sqrt{2/(1+\alpha^2)}$ | it keeps $(1+\alpha^2)/2$ of the second moment |
#
# He initialization is $\text{gain}\,/\sqrt{\text{fan\_in}}$ with the ReLU gain; Xavier can
# take a gain too (`cl.init.xavier_normal(..., gain=5/3)` for tanh).

# %%
gains = {name: cl.init.gain(name) for name in ("linear", "sigmoid", "tanh", "relu")}
gains["leaky_relu"] = cl.init.gain("leaky_relu", 0.01)
print({k: round(v, 4) for k, v in gains.items()}, " leaky_relu(0.2):", round(cl.init.gain("leaky_relu", 0.2), 4))
assert gains["linear"] == gains["sigmoid"] == 1.0
assert np.isclose(gains["tanh"], 5 / 3) and np.isclose(gains["relu"], np.sqrt(2))
assert np.isclose(gains["leaky_relu"], np.sqrt(2 / (1 + 0.01 ** 2)))
assert np.isclose(cl.init.gain("leaky_relu", 0.2), np.sqrt(2 / (1 + 0.2 ** 2)))

alpha = 0.2                                   # the Leaky ReLU rule, measured
z = np.random.default_rng(10).standard_normal(1_000_000)
kept = np.mean(np.where(z > 0, z, alpha * z) ** 2) / z.var()
print(f"Leaky ReLU (alpha={alpha}) keeps {kept:.4f} of the second moment; (1 + alpha^2)/2 = {(1 + alpha ** 2) / 2:.4f}")
assert abs(kept - (1 + alpha ** 2) / 2) < 0.005

# %% [markdown]
# Do the gains deliver? `propagate` (the computation behind this notebook's widget) pushes a
# unit-Gaussian batch through 20 layers of 256 units with
# $\mathrm{std}(W) = \text{gain}/\sqrt{256}$ and returns each layer's activation std. We
# compare the last layer with the first, at gain 1 and at the recommended gain.

# %%
print(f"{'activation':11s} {'gain 1: last/first':>19s} {'recommended':>12s} {'last/first':>11s}")
ratio = {}
for act in ("linear", "tanh", "relu", "leaky_relu"):
    for g in (1.0, gains[act]):
        s = propagate(g, act, depth=20)["act_std"]
        ratio[act, g] = s[-1] / s[0]
    print(f"{act:11s} {ratio[act, 1.0]:19.3g} {gains[act]:12.3f} {ratio[act, gains[act]]:11.3g}")
    assert 0.5 < ratio[act, gains[act]] < 2          # the recommended gain keeps the scale
assert ratio["relu", 1.0] < 0.01 and ratio["leaky_relu", 1.0] < 0.01   # gain 1 under ReLU: collapse
assert ratio["tanh", 1.0] < 0.35                     # gain 1 under tanh: a steady drift down

# %% [markdown]
# ## 7 · A correction: the sigmoid needs the *larger* scale, not tanh
#
# > **Known error.** A widely copied table of initialization parameters lists tanh with **4
# > times** the logistic sigmoid's scale. It is the other way round, and Glorot & Bengio's
# > paper says so: the logistic sigmoid needs weights about **4× those of tanh**.
#
# The reason is the slope at the origin, where a well-initialized unit operates:
# $\sigma'(0) = 1/4$ while $\tanh'(0) = 1$. Near 0, $\sigma(x) \approx \tfrac12 + x/4$, so a
# sigmoid layer passes on only a quarter of the signal's standard deviation — forward and
# backward — and multiplying its weights by 4 undoes exactly that: $\sigma(4x) \approx \tfrac12 + x$.
# (The same follows from $\tanh(x) = 2\sigma(2x) - 1$: a factor 2 inside and a factor 2 outside.)
# Scaling tanh's weights by 4 instead pushes its units into saturation.
#
# We measure it in 20-layer nets of 256 units, at Xavier scale ×1 and ×4, with the unit-Gaussian
# probe gradient at the top.

# %%
h = 1e-4
slope_sig = (cl.Sigmoid().forward(np.array(h)) - cl.Sigmoid().forward(np.array(-h))) / (2 * h)
slope_tanh = (np.tanh(h) - np.tanh(-h)) / (2 * h)
print(f"sigma'(0) = {slope_sig:.4f}, tanh'(0) = {slope_tanh:.4f}")
assert abs(slope_sig - 0.25) < 1e-6 and abs(slope_tanh - 1) < 1e-6

cases = {(act, g): propagate(g, act, depth=20) for act in ("sigmoid", "tanh") for g in (1.0, 4.0)}
print(f"{'':15s} {'grad std layer 1 / layer 20':>28s} {'per layer':>10s} {'max saturated':>14s}")
down = {}
for (act, g), r in cases.items():
    down[act, g] = r["grad_std"][0] / r["grad_std"][-1]
    per_layer = down[act, g] ** (1 / 19)        # 19 steps from layer 20 down to layer 1
    print(f"{act:8s} ×{g:<4g}  {down[act, g]:28.2e} {per_layer:10.3f} {r['saturated'].max():14.0%}")

# sigmoid at ×1: each layer keeps about a quarter of the gradient's std (sigma'(0) = 1/4)
assert 0.2 < down["sigmoid", 1.0] ** (1 / 19) < 0.3 and down["sigmoid", 1.0] < 1e-9
# the 4x scale (Glorot) rescues about eight orders of magnitude
assert down["sigmoid", 4.0] > 1e6 * down["sigmoid", 1.0]
# tanh at x1 is healthy; at x4 (the copied table's advice) it saturates and the gradient blows up
assert 0.1 < down["tanh", 1.0] < 10 and cases["tanh", 1.0]["saturated"].max() < 0.1
assert cases["tanh", 4.0]["saturated"].max() > 0.5 and down["tanh", 4.0] > 1e3

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
styles = {("sigmoid", 1.0): ("C0", "--", "sigmoid ×1 (copied table)"),
          ("sigmoid", 4.0): ("C0", "-", "sigmoid ×4 (Glorot)"),
          ("tanh", 1.0): ("C1", "-", "tanh ×1 (Glorot)"),
          ("tanh", 4.0): ("C1", "--", "tanh ×4 (copied table)")}
for key, r in cases.items():
    color, ls, label = styles[key]
    ax.semilogy(np.arange(1, 21), r["grad_std"], ls, color=color, marker="o", ms=3, label=label)
ax.set_xlabel("layer (the probe gradient enters at layer 20)")
ax.set_xticks([1, 5, 10, 15, 20])
ax.set_ylabel("gradient std (log scale)")
ax.set_title("backward pass through 20 layers, Xavier scale × 1 or × 4", fontsize=10)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# With the copied table's advice both nets fail: sigmoid ×1 loses three quarters of the
# gradient per layer ($10^{-12}$ after 20 layers) and tanh ×4 saturates 60% of its units
# while its gradient explodes towards the input. Glorot's factor gets tanh right and moves
# the sigmoid by eight orders of magnitude — though not all the way: the sigmoid's outputs
# have mean $\tfrac12$, which gives every next unit a random offset and pushes it away from
# its steepest point. The factor of 4 comes from a linearization at 0 that this offset
# breaks — one more reason (notebook 01) to keep sigmoids out of hidden layers. PyTorch's
# `calculate_gain('sigmoid') = 1` is a convention, not a derivation.

# %% [markdown]
# ## 8 · Twenty layers, three schemes, two activations
#
# The summary experiment: 20 layers of 256 units, std 0.01, Xavier and He, each with tanh and
# with ReLU. Left, the forward pass (activation std per layer); right, the backward pass
# (gradient std per layer, the probe entering at layer 20). Biases start at zero, as
# `cl.Linear` does by default and as nearly everyone does: the random weights already break
# the symmetry, and a zero bias leaves the variance arithmetic above untouched. (A small
# positive bias such as 0.01 is sometimes used to start ReLU units active; it changes little.)

# %%
rng = np.random.default_rng(11)
X20, G20 = rng.standard_normal((128, 256)), rng.standard_normal((128, 256))
inits20 = {"std = 0.01": partial(cl.init.normal, std=0.01), "Xavier": cl.init.xavier_normal,
           "He": cl.init.he_normal}
deep20 = {}
for act_name, act in (("tanh", cl.Tanh), ("ReLU", cl.ReLU)):
    for name, init in inits20.items():
        model = deep_net(init, act, depth=20, width=256, seed=12)
        assert all(np.all(lin.b.data == 0) for lin in model.layers[0::2])   # biases start at 0
        deep20[name, act_name] = measure(model, X20, G20, weight_grads=False)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
colors = {"std = 0.01": "C3", "Xavier": "C0", "He": "C2"}
for (name, act_name), r in deep20.items():
    style = "-" if act_name == "ReLU" else "--"
    for ax, key in zip(axes, ("act_std", "grad_std")):
        ax.semilogy(np.arange(1, 21), r[key], style, color=colors[name], marker=".",
                    label=f"{name}, {act_name}")
axes[0].set_title("forward: activation std per layer", fontsize=10)
axes[1].set_title("backward: gradient std per layer (probe at layer 20)", fontsize=10)
for ax in axes:
    ax.set_xlabel("layer")
    ax.set_ylabel("std (log scale)")
    ax.set_ylim(1e-22, 1e2)
    ax.set_xticks([1, 5, 10, 15, 20])
axes[1].legend(fontsize=8, loc="lower right", ncol=2)
plt.tight_layout()
plt.show()

# %%
print(f"{'':18s} {'act std: layer 20 / 1':>22s} {'max/min':>9s} {'grad std: layer 1 / 20':>23s}")
for (name, act_name), r in deep20.items():
    a, g = r["act_std"], r["grad_std"]
    print(f"{name + ', ' + act_name:18s} {a[-1] / a[0]:22.2e} {a.max() / a.min():9.3g} {g[0] / g[-1]:23.2e}")

he_relu, xav_relu = deep20["He", "ReLU"], deep20["Xavier", "ReLU"]
# He + ReLU keeps the activation std within a factor of 2 over 20 layers, and the gradient's too
assert he_relu["act_std"].max() / he_relu["act_std"].min() < 2
assert he_relu["grad_std"].max() / he_relu["grad_std"].min() < 2
# std = 0.01 collapses by many orders of magnitude, forward and backward, with either activation
for act_name in ("tanh", "ReLU"):
    r = deep20["std = 0.01", act_name]
    assert r["act_std"][-1] / r["act_std"][0] < 1e-10
    assert r["grad_std"][0] / r["grad_std"][-1] < 1e-10
# Xavier under ReLU loses a factor 1/2 in variance per layer: (1/sqrt 2)^19 ~ 1.4e-3 in std
assert 0.3 < (xav_relu["act_std"][-1] / xav_relu["act_std"][0]) / 2 ** -9.5 < 3
# He under tanh overshoots a little but stays bounded (tanh cannot exceed 1)
assert deep20["He", "tanh"]["act_std"].max() / deep20["He", "tanh"]["act_std"].min() < 2

# %% [markdown]
# Reading the plot: **std = 0.01** (red) falls by about an order of magnitude per layer in
# both directions; **Xavier with ReLU** (blue, solid) halves the variance every layer —
# slow, but after 20 layers the signal is a thousand times smaller; **He with ReLU** (green,
# solid) is flat both ways. For tanh (dashed), Xavier drifts down slowly and He (gain
# $\sqrt2$, close to tanh's 5/3) holds the activations' scale, its gradients growing about
# 2× over 20 layers. Normalization layers (notebook 04) make a network far less
# sensitive to all of this; initialization is still the first thing to get right.

# %% [markdown]
# ## 9 · Explore: init scale × activation × depth
#
# The widget below runs the 20-layer experiment live. The slider sets the gain,
# $\mathrm{std}(W) = \text{gain}/\sqrt{256}$, on a log scale; the dropdowns choose the
# activation and the depth. Left: histograms of the activations of up to six layers
# (colour = depth); middle: histograms of the gradients (the unit-Gaussian probe enters at the
# top); right: every layer's std. Things to try:
#
# * tanh, depth 10: gain 0.16 is std 0.01 at this width (collapse), gain 16 is std 1
#   (saturation at ±1, exploding gradients), gain 1 is Xavier; find the gain that keeps both
#   curves flat (compare with 5/3).
# * relu: gain 1 collapses slowly, $\sqrt 2 \approx 1.41$ is flat, 2 explodes. Then switch
#   to depth 20 and see how much sharper the optimum becomes.
# * sigmoid: how large must the gain be before the gradient survives 20 layers?
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
#    Any constant has this problem; only random initialization breaks the symmetry.
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
#    a Leaky ReLU with slope 0.2?
#
#    <details><summary>Answer</summary>
#
#    ReLU zeroes the negative half of a symmetric pre-activation, so it keeps half the
#    second moment: $\text{fan\_in}\cdot\mathrm{Var}(W)\cdot\tfrac12 = 1$ gives
#    $\mathrm{Var}(W) = 2/\text{fan\_in}$, a gain of $\sqrt 2$. A Leaky ReLU keeps
#    $(1+\alpha^2)/2$, so the gain is $\sqrt{2/(1+0.04)} \approx 1.387$.
#    </details>
#
# 5. A table tells you to use 4× the Xavier scale for tanh and 1× for the sigmoid. What do you
#    expect in a 20-layer net, and what is the correct relation?
#
#    <details><summary>Answer</summary>
#
#    tanh at 4× saturates (most $|a| > 0.97$), its gradients through saturated units vanish
#    while the total gradient grows towards the input; the sigmoid at 1× loses about 3/4 of
#    the gradient's std per layer because $\sigma'(0) = 1/4$. Correct (Glorot & Bengio): the
#    sigmoid needs about 4× the tanh scale, not the reverse.
#    </details>
#
# ## Summary
#
# * Constant (or zero) weights keep the units of a layer identical forever: **initialize
#   weights randomly**, biases at 0.
# * Small random weights (std 0.01) are fine for shallow nets, but in deep nets the variance
#   is multiplied by $\text{fan\_in}\cdot\mathrm{Var}(W)$ (times what the activation keeps) at
#   every layer, forward, and by $\text{fan\_out}\cdot\mathrm{Var}(W)$ backward: a factor below
#   1 vanishes and above 1 explodes, exponentially in depth. Too large saturates tanh.
# * Preserve the forward variance with $\mathrm{Var}(W) = 1/\text{fan\_in}$, the backward with
#   $1/\text{fan\_out}$; Xavier/Glorot takes their harmonic mean $2/(\text{fan\_in}+\text{fan\_out})$.
#   Uniform $U[-r, r]$ has variance $r^2/3$, so $r = \sqrt 3\,\sigma = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}$.
# * ReLU halves the second moment: **He** initialization, $\mathrm{Var}(W) = 2/\text{fan\_in}$,
#   keeps a 20-layer ReLU net's activations and gradients within a factor of 2.
# * Gains per activation: linear/sigmoid 1 (PyTorch convention), tanh 5/3, ReLU $\sqrt 2$,
#   Leaky ReLU $\sqrt{2/(1+\alpha^2)}$. The logistic sigmoid needs about 4× the tanh scale
#   ($\sigma'(0) = 1/4$), not the other way round as a widely copied table says.
# * Diagnose with per-layer histograms and stds of activations **and** gradients
#   (`cl.diagnostics.trace`, `cl.diagnostics.layer_stats`).
#
# **Next:** [03 · Backpropagation and gradient checking](03_backpropagation.ipynb).
# **Practice:** the exercises for this notebook,
# [exercises/02_initialization.ipynb](../exercises/02_initialization.ipynb).
