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
# # 03 · Backpropagation and gradient checking
#
# Training means changing the parameters so that the loss goes down, and for that we need
# $\partial L / \partial \theta$ for every one of them. A network with a million parameters
# would need two million forward passes to get these numbers by finite differences.
# Backpropagation gets all of them in one backward sweep that costs about two forward
# passes. It is only the chain rule applied in a good order, but it is easy to get one detail
# wrong, and a wrong gradient often does not crash anything: the net still trains, just
# worse. So this notebook also teaches the check that catches such mistakes.
#
# **Learning objectives.** After this notebook you can
#
# 1. draw a computational graph and run backprop through it by hand: *local gradient × upstream
#    gradient*, and a **sum** wherever a value is used more than once;
# 2. derive and implement the gradients of a one-hidden-layer network, first for one example and
#    then for a whole batch with matrix products;
# 3. explain why a backward pass is a vector-Jacobian product, and why nobody builds the Jacobian;
# 4. write the backward pass of the affine layer, the activations, softmax-cross-entropy and MSE;
# 5. check any gradient numerically: centred differences, relative error, the 1e-7 / 1e-4 rule of
#    thumb, why $h \approx 10^{-5}$, why kinks and float32 mislead;
# 6. find a planted bug by checking one layer at a time, and use CS231n's habits: the data loss
#    first with regularization off, a check after a short burn-in, a sample of coordinates
#    from every parameter array;
# 7. say what backprop costs in memory: the forward caches, linear in batch size and depth,
#    and why training needs more memory than inference;
# 8. take a gradient-descent step and say what the learning rate does.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (layers, losses, $\mathrm{d(MSE)}/\mathrm{d}\hat y$,
# softmax-cross-entropy gradient), [01 Activation functions](01_activations.ipynb) (the
# derivatives). Calculus: partial derivatives and the chain rule.
#
# **Estimated time.** 75–90 minutes.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import course_lib as cl
from course_lib.functional import sigmoid, softmax
from course_lib.widgets import backprop as bpw

_ = cl.set_seed()        # every random draw below derives from COURSE_SEED (default 0)
print(f"COURSE_SEED = {cl.course_seed()}")

# %% [markdown]
# ## 1. Computational graphs and the chain rule
#
# Any loss a network computes is a long composition of small operations: multiply, add,
# apply $\sigma$, square. Write each operation as a node, with edges from its inputs: that is
# the **computational graph**. Each node only has to know two things:
#
# * **forward:** its output from its inputs;
# * **backward:** its *local* gradient, the derivative of its output with respect to each input.
#
# The chain rule then says how the gradient of the final loss $L$ reaches an input $u$ of a node
# $v = g(u, \dots)$:
#
# $$\frac{\partial L}{\partial u} \;=\; \underbrace{\frac{\partial v}{\partial u}}_{\text{local}}\;\cdot\;\underbrace{\frac{\partial L}{\partial v}}_{\text{upstream}}.$$
#
# Going from the loss backwards, every node receives its upstream gradient, multiplies it by its
# local gradients and sends the results on to its inputs. When a value is used by **several**
# nodes (it *fans out*), $L$ depends on it along several paths, and the multivariable chain rule
# **adds** the contributions:
#
# $$\frac{\partial L}{\partial u} = \sum_{v \,\in\, \text{users of } u} \frac{\partial v}{\partial u}\,\frac{\partial L}{\partial v}.$$
#
# Some patterns are worth remembering: an **add** node passes its upstream gradient unchanged to
# every input; a **multiply** node sends each input the upstream gradient times the *other*
# input; a **max** node routes the whole gradient to the input that won.
#
# Here is a graph small enough to do by hand: $c = a\,b$, $d = c + a$, $L = d^2$, at
# $a = 2$, $b = -3$. The input $a$ fans out: it feeds both $c$ and $d$.

# %%
a, b = 2.0, -3.0
# forward pass
c = a * b                      # -6
d = c + a                      # -4: a is used a second time here
L = d ** 2                     # 16
# backward pass: each line is (local gradient) x (upstream gradient)
dL_dd = 2 * d * 1.0            # d(d^2)/dd = 2d, upstream dL/dL = 1
dL_dc = 1.0 * dL_dd            # add node: local gradient 1
dL_db = a * dL_dc              # multiply node: the other input
dL_da = b * dL_dc + 1.0 * dL_dd    # a fans out: the path through c PLUS the path through d
print(f"L = {L:g};  dL/dd = {dL_dd:g}, dL/dc = {dL_dc:g}, dL/db = {dL_db:g}, "
      f"dL/da = {b * dL_dc:g} + {dL_dd:g} = {dL_da:g}")

# check against a centred-difference derivative of L(a, b) = (a*b + a)^2
def L_of(a, b):
    return (a * b + a) ** 2

h = 1e-5
num_da = (L_of(a + h, b) - L_of(a - h, b)) / (2 * h)
num_db = (L_of(a, b + h) - L_of(a, b - h)) / (2 * h)
print(f"numerical: dL/da = {num_da:.8f}, dL/db = {num_db:.8f}")
assert (dL_da, dL_db) == (16.0, -16.0)      # = 2a(b+1)^2 and 2a^2(b+1) from L = a^2 (b+1)^2
assert abs(dL_da - num_da) < 1e-6 and abs(dL_db - num_db) < 1e-6
# forgetting one path of the fan-out gives a badly wrong answer
assert abs(b * dL_dc - num_da) > 1 and abs(dL_dd - num_da) > 1

# %% [markdown]
# The drawing below shows the finished pass: values in black inside the nodes, gradients in red
# above them, and on each edge (turned red, pointing backwards) the gradient it carries. The
# two red edges leaving $a$ carry $24$ and $-8$; their sum is $\partial L/\partial a = 16$.

# %%
trace = bpw.graph_trace(a, b)
fig, ax = plt.subplots(figsize=(8.4, 3.4))
bpw.draw_graph(len(trace) - 1, trace, ax)
fig.tight_layout()
plt.show()
assert trace[-1]["grads"] == {"L": 1.0, "d": -8.0, "c": -8.0, "b": -16.0, "a": 16.0}

# %% [markdown]
# **Step through it.** Move the `step` slider to replay the pass one node at a time: first the
# forward values, then the gradients from $L$ back to the inputs. Watch $\partial L/\partial a$:
# it is "$-8$ so far" after the path through $d$, and only becomes $16$ when the path through
# $c$ arrives. Change $a$ and $b$ to see that the rules do not care about the numbers. (Try
# $b = -1$: then $d = 0$ and every gradient vanishes.)

# %% tags=["nbval-ignore-output"]
display(bpw.graph_stepper(a, b))

# %% [markdown]
# ## 2. The worked example: one hidden sigmoid layer, squared loss
#
# The smallest real network: input $x \in \mathbb{R}^D$ (a column vector), a hidden layer of
# $H$ sigmoid units with weights $W \in \mathbb{R}^{D \times H}$, an identity output with weights
# $V \in \mathbb{R}^{H \times 1}$, no biases, and the squared loss against a target $y$:
#
# $$z = x^\top W \;(1 \times H), \qquad s = \sigma(z), \qquad \hat y = s\,V, \qquad L = (\hat y - y)^2,$$
#
# so $\hat y = \sigma(x^\top W)\,V$. Backwards, one node at a time:
#
# $$\frac{\partial L}{\partial \hat y} = 2(\hat y - y).$$
#
# $\hat y = \sum_j s_j V_j$ is linear in $V$ with coefficient $s_j$, so
#
# $$\frac{\partial L}{\partial V} = 2(\hat y - y)\, s^\top = 2(\hat y - y)\,\sigma(W^\top x) \qquad (H \times 1,\ \text{the shape of } V).$$
#
# In the same way $\partial L / \partial s = 2(\hat y - y)\,V^\top$ ($1 \times H$). The sigmoid acts
# element by element with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$, so its local gradient is a
# product, element by element:
#
# $$\frac{\partial L}{\partial z} = 2(\hat y - y)\,\big[V^\top \odot \sigma(x^\top W) \odot (1 - \sigma(x^\top W))\big].$$
#
# Finally $z_j = \sum_i x_i W_{ij}$, so $\partial z_j / \partial W_{ij} = x_i$, and each weight
# $W_{ij}$ only reaches $L$ through $z_j$:
#
# $$\frac{\partial L}{\partial W} = 2(\hat y - y)\; x\,\big[V^\top \odot \sigma(x^\top W) \odot (1 - \sigma(x^\top W))\big] \qquad (D \times 1 \text{ times } 1 \times H = D \times H).$$
#
# A useful habit: **a gradient has the shape of the thing it is the gradient of**. That alone
# often tells you where the transposes and outer products must go. Now the same in a few lines
# of NumPy (with $V$ stored as a vector of length $H$):

# %%
def loss_and_grads(x, W, V, y):
    """L = (sigma(x W) V - y)^2 and its gradients. Shapes: x (D,), W (D, H), V (H,)."""
    s = sigmoid(x @ W)                       # sigma(x^T W), shape (H,)
    yhat = s @ V
    g = 2 * (yhat - y)                       # dL/dyhat
    dV = g * s                               # 2 (yhat - y) sigma(W^T x)
    dW = g * np.outer(x, V * s * (1 - s))    # 2 (yhat - y) x [V^T * s * (1 - s)]
    return (yhat - y) ** 2, dW, dV

rng = cl.make_rng(1)
D, H = 3, 4
x, W, V, y = rng.standard_normal(D), rng.standard_normal((D, H)), rng.standard_normal(H), 0.5
L, dW, dV = loss_and_grads(x, W, V, y)

# centred differences, one parameter at a time (cl.numerical_gradient perturbs W and V in place)
num_dW = cl.numerical_gradient(lambda: loss_and_grads(x, W, V, y)[0], W)
num_dV = cl.numerical_gradient(lambda: loss_and_grads(x, W, V, y)[0], V)
err_W, err_V = cl.rel_error(dW, num_dW), cl.rel_error(dV, num_dV)
print(f"L = {L:.6f};  relative error dW: {err_W:.1e}, dV: {err_V:.1e}")
assert err_W < 1e-7 and err_V < 1e-7

# %% [markdown]
# The same network from `course_lib` layers: `Linear(bias=False)` → `Sigmoid` →
# `Linear(bias=False)` with `MSELoss`. Two details: `Linear` computes `x @ W` with `x` as a
# **row** (a batch of one, shape `(1, D)`), and `V` becomes a weight matrix of shape `(H, 1)`.
# And `MSELoss` takes the **mean** over all elements: for one example with one output that is our
# $(\hat y - y)^2$ exactly, for a batch of $N$ it divides by $N$.

# %%
net = cl.Sequential(cl.Linear(D, H, bias=False), cl.Sigmoid(), cl.Linear(H, 1, bias=False))
net[0].W.data[...] = W
net[2].W.data[...] = V.reshape(H, 1)
mse = cl.MSELoss()
L_lib = mse.forward(net.forward(x.reshape(1, D)), np.array([[y]]))
net.zero_grad()
net.backward(mse.backward())
print(f"course_lib: L = {L_lib:.6f}; max |dW - ours| = {np.abs(net[0].W.grad - dW).max():.1e}, "
      f"max |dV - ours| = {np.abs(net[2].W.grad.ravel() - dV).max():.1e}")
assert abs(L_lib - L) < 1e-12
assert cl.rel_error(net[0].W.grad, dW) < 1e-12 and cl.rel_error(net[2].W.grad.ravel(), dV) < 1e-12

# %% [markdown]
# ## 3. The batched, vectorized form
#
# One example at a time is how we derive; a batch at a time is how we compute. Stack $N$
# examples as the **rows** of $X \in \mathbb{R}^{N \times D}$ and average the loss, as `MSELoss`
# does:
#
# $$Z = XW,\quad S = \sigma(Z),\quad \hat y = S V,\quad L = \tfrac{1}{N}\textstyle\sum_n (\hat y_n - y_n)^2.$$
#
# Writing $\mathrm{d}A$ for $\partial L/\partial A$, the backward pass is five lines of matrix
# algebra, each with the shape of its variable:
#
# $$\mathrm{d}\hat y = \tfrac{2}{N}(\hat y - y)\;(N),\quad \mathrm{d}V = S^\top \mathrm{d}\hat y\;(H),\quad \mathrm{d}S = \mathrm{d}\hat y\, V^\top\;(N\times H),\quad \mathrm{d}Z = \mathrm{d}S \odot S \odot (1 - S),\quad \mathrm{d}W = X^\top \mathrm{d}Z\;(D\times H).$$
#
# Where did the sum over the batch go? Into the matrix products: $\mathrm{d}W = X^\top
# \mathrm{d}Z = \sum_n x_n^\top\, \mathrm{d}z_n$. The weights are used by *every* example, so they
# fan out $N$ times, and their gradient is the sum of the $N$ per-example gradients. That is the
# rule from section 1 again. (The same holds for a bias: $\mathrm{d}b = \sum_n \mathrm{d}z_n$. In
# section 7 you will see a layer that forgets this.)

# %%
def batch_loss_and_grads(X, W, V, y):
    """Mean squared loss of sigma(X W) V against y and its gradients.
    Shapes: X (N, D), W (D, H), V (H,), y (N,)."""
    S = sigmoid(X @ W)                      # (N, H)
    r = S @ V - y                           # residuals (N,)
    dyhat = 2 * r / len(X)                  # the mean over the batch brings the 1/N
    dV = S.T @ dyhat
    dZ = np.outer(dyhat, V) * S * (1 - S)
    dW = X.T @ dZ                           # sums the N per-example contributions
    return np.mean(r ** 2), dW, dV

N = 5
while True:   # a batch with no gradient entry near 0 (a tiny entry's relative error is noise: section 6)
    Xb, yb = rng.standard_normal((N, D)), rng.standard_normal(N)
    Lb, dWb, dVb = batch_loss_and_grads(Xb, W, V, yb)
    if np.abs(dWb).min() > 0.05 * np.abs(dWb).max():
        break

# 1) the mean of the single-example gradients
per_example = [loss_and_grads(Xb[n], W, V, yb[n]) for n in range(N)]
assert abs(Lb - np.mean([p[0] for p in per_example])) < 1e-12
assert cl.rel_error(dWb, np.mean([p[1] for p in per_example], axis=0)) < 1e-12
assert cl.rel_error(dVb, np.mean([p[2] for p in per_example], axis=0)) < 1e-12
# 2) course_lib with MSELoss on the batch (targets of shape (N, 1), like the predictions)
L_lib = mse.forward(net.forward(Xb), yb.reshape(N, 1))
net.zero_grad()
net.backward(mse.backward())
assert abs(L_lib - Lb) < 1e-12 and cl.rel_error(net[0].W.grad, dWb) < 1e-12
# 3) the numerical gradient
err = cl.rel_error(dWb, cl.numerical_gradient(lambda: batch_loss_and_grads(Xb, W, V, yb)[0], W))
print(f"batch of {N}: L = {Lb:.5f}, equals the mean of the per-example losses and course_lib; "
      f"rel. error of dW vs numerical: {err:.1e}")
assert err < 1e-7

# %% [markdown]
# Had we summed the squared errors instead of averaging, every gradient would be $N$ times
# larger. Neither is wrong, but the learning rate you need changes by that factor, so know which
# one your loss uses. (PyTorch's and `course_lib`'s default is the mean.)
#
# Vectorizing is not just tidier. A Python loop over examples pays the interpreter's overhead
# $N$ times, while one matrix product hands the whole batch to optimized BLAS code:

# %% tags=["nbval-ignore-output"]
Xbig = cl.make_rng(2).standard_normal((2000, D))
ybig = cl.make_rng(3).standard_normal(2000)
t0 = time.perf_counter()
loop = [loss_and_grads(Xbig[n], W, V, ybig[n]) for n in range(len(Xbig))]
t_loop = time.perf_counter() - t0
t0 = time.perf_counter()
vec = batch_loss_and_grads(Xbig, W, V, ybig)
t_vec = time.perf_counter() - t0
print(f"N = 2000: loop {1000 * t_loop:.1f} ms, vectorized {1000 * t_vec:.2f} ms, "
      f"{t_loop / t_vec:.0f}x faster")
assert cl.rel_error(vec[1], np.mean([p[1] for p in loop], axis=0)) < 1e-10   # the same numbers

# %% [markdown]
# ## 4. Jacobians, and why we never build them
#
# A layer maps a vector $x \in \mathbb{R}^n$ to $y \in \mathbb{R}^m$. Its derivative is a matrix,
# the **Jacobian** $J \in \mathbb{R}^{m \times n}$ with $J_{ij} = \partial y_i / \partial x_j$.
# With a batch, input and output are matrices and the derivative is a 4-index tensor
# $\partial Y_{nk} / \partial X_{n'd}$, and so is the derivative with respect to a weight matrix. In matrix form the chain rule reads
#
# $$\underbrace{\frac{\partial L}{\partial x}}_{1 \times n} = \underbrace{\frac{\partial L}{\partial y}}_{1 \times m}\; \underbrace{J}_{m \times n},$$
#
# a **vector-Jacobian product** (VJP). The backward pass of every layer computes exactly this
# product, but with a formula that never writes $J$ down. Let us build $J$ once to see it. For
# `Linear(3 → 4)` on a batch of 2, flatten the input to 6 numbers and the output to 8:

# %%
lin = cl.Linear(3, 4, rng=cl.make_rng(2))
Xs = cl.make_rng(3).standard_normal((2, 3))
out = lin.forward(Xs)
J = np.zeros((out.size, Xs.size))                 # (8, 6)
for j in range(Xs.size):                          # one column per input element
    e = np.zeros(Xs.size)
    e[j] = 1e-5
    e = e.reshape(Xs.shape)
    J[:, j] = ((lin.forward(Xs + e) - lin.forward(Xs - e)) / 2e-5).ravel()
J_exact = np.kron(np.eye(2), lin.W.data.T)        # block diagonal: example n only touches row n
dout = cl.make_rng(4).standard_normal(out.shape)
lin.forward(Xs)
dx = lin.backward(dout)                           # the layer's backward pass: dout @ W.T
print(f"Jacobian {J.shape}, zero entries: {np.mean(J_exact == 0):.0%}; "
      f"max |dout J - backward| = {np.abs(dout.ravel() @ J_exact - dx.ravel()).max():.1e}")
assert np.allclose(J, J_exact, atol=1e-9)
assert np.allclose(dout.ravel() @ J_exact, dx.ravel(), atol=1e-12)

# %% [markdown]
# The Jacobian of a linear layer with respect to its input is mostly zeros: example $n$'s output
# depends only on example $n$'s input, and each block is just $W^\top$. The backward pass
# `dout @ W.T` uses exactly that structure.
#
# An element-wise activation has an even simpler Jacobian: diagonal, with $f'(x_i)$ on the
# diagonal, so its VJP is `dout * f'(x)`. **Softmax** is the exception among common layers:
# every output depends on every input. For $s = \mathrm{softmax}(z)$,
# $\partial s_i/\partial z_j = s_i(\delta_{ij} - s_j)$, that is $J = \mathrm{diag}(s) - s s^\top$,
# a dense, symmetric matrix whose rows sum to zero (adding a constant to all logits changes
# nothing). Its VJP still needs no matrix: $g J = s \odot (g - g\cdot s)$.

# %%
z = np.array([1.0, -0.5, 2.0, 0.3, -1.2])
s = softmax(z)
J_soft = np.diag(s) - np.outer(s, s)
J_soft_num = np.array([(softmax(z + 1e-5 * e) - softmax(z - 1e-5 * e)) / 2e-5 for e in np.eye(5)]).T
g = cl.make_rng(5).standard_normal(5)
print(f"max |J - numerical J| = {np.abs(J_soft - J_soft_num).max():.1e}; "
      f"row sums = {np.abs(J_soft.sum(axis=1)).max():.1e}; "
      f"max |g J - s*(g - g.s)| = {np.abs(g @ J_soft - s * (g - g @ s)).max():.1e}")
assert np.allclose(J_soft, J_soft_num, atol=1e-9)
assert np.allclose(J_soft, J_soft.T) and np.allclose(J_soft.sum(axis=1), 0, atol=1e-15)
assert np.allclose(g @ J_soft, s * (g - g @ s), atol=1e-15)

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), gridspec_kw={"width_ratios": [1.3, 1]})
for ax, M, title, (xl, yl) in (
        (axes[0], J_exact, "Linear(3→4), batch 2: ∂ vec(out) / ∂ vec(x)", ("input element (n, d)", "output element (n, k)")),
        (axes[1], J_soft, "softmax of 5 logits: ∂s / ∂z", ("logit j", "output i"))):
    lim = np.abs(M).max()
    im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    fig.colorbar(im, ax=ax, shrink=0.85)
fig.tight_layout()
plt.show()

# %% [markdown]
# Now the sizes for a realistic layer. Take `Linear(1024 → 1024)` on a batch of 128 in float64:

# %%
N_, D_, M_ = 128, 1024, 1024
bytes_J_x = (N_ * M_) * (N_ * D_) * 8            # d out / d x
bytes_J_W = (N_ * M_) * (D_ * M_) * 8            # d out / d W
bytes_vjp = N_ * D_ * 8 + D_ * M_ * 8            # what backward actually returns: dx and dW
print(f"Jacobian w.r.t. the input:   {bytes_J_x / 1e9:,.0f} GB")
print(f"Jacobian w.r.t. the weights: {bytes_J_W / 1e12:,.1f} TB")
print(f"dx and dW from the backward pass: {bytes_vjp / 1e6:.1f} MB")
assert bytes_J_x > 1e11 and bytes_J_W > 1e12 and bytes_vjp < 1e7

# %% [markdown]
# Hundreds of gigabytes for one layer's Jacobian, against a few megabytes for the two gradients
# we need. The backward pass of every layer is therefore written as a **formula for the
# vector-Jacobian product**, here `dx = dout @ W.T` and `dW = x.T @ dout`: two matrix products
# where the forward pass needed one.

# %% [markdown]
# ## 5. The backward pass of every layer, and a check of each
#
# Every layer's `backward(dout)` receives $\mathrm{d}\,\text{out} = \partial L/\partial\,\text{out}$
# and returns $\partial L / \partial x$, adding its parameter gradients into `p.grad` on the way.
# Each loss's `backward()` returns $\partial L/\partial\,\text{prediction}$ for the **mean** loss
# over the batch.
#
# | object | forward | backward |
# |---|---|---|
# | `Linear` | $\text{out} = xW + b$ | $\mathrm{d}x = \mathrm{d}\text{out}\,W^\top$, $\ \mathrm{d}W = x^\top \mathrm{d}\text{out}$, $\ \mathrm{d}b = \sum_n \mathrm{d}\text{out}_n$ |
# | element-wise $f$ | $\text{out} = f(x)$ | $\mathrm{d}x = \mathrm{d}\text{out} \odot f'(x)$ |
# | `ReLU` | $\max(0, x)$ | $\mathrm{d}\text{out} \odot [x > 0]$ |
# | `Sigmoid` | $\sigma(x)$ | $\mathrm{d}\text{out} \odot \sigma(x)(1 - \sigma(x))$ |
# | `Tanh` | $\tanh x$ | $\mathrm{d}\text{out} \odot (1 - \tanh^2 x)$ |
# | `LeakyReLU`, `ELU`, `GELU`, `SiLU` | see notebook 01 | $\mathrm{d}\text{out} \odot f'(x)$ |
# | `SoftmaxCrossEntropy` | $L = -\frac1N \sum_n \log \mathrm{softmax}(z_n)_{y_n}$ | $\mathrm{d}z = \frac1N(\mathrm{softmax}(z) - \mathrm{onehot}(y))$ |
# | `MSELoss` | $L = \mathrm{mean}((\hat y - y)^2)$ | $\mathrm{d}\hat y = 2(\hat y - y) / \text{numel}$ |
# | `BCEWithLogits` | $L = \mathrm{mean}(-y\log\sigma(z) - (1-y)\log(1 - \sigma(z)))$ | $\mathrm{d}z = (\sigma(z) - y)/\text{numel}$ |
#
# For the affine layer, the shapes leave only one way to write it: $\mathrm{d}W$ must be
# $D \times M$, and the only product of $x$ ($N \times D$) and $\mathrm{d}\text{out}$
# ($N \times M$) with that shape is $x^\top \mathrm{d}\text{out}$, which also sums over the batch.
# Written out, the table's first row is three lines:

# %%
class TableLinear(cl.Linear):
    """cl.Linear with the table's backward pass, written as plainly as possible."""

    def backward(self, dout):
        self.W.grad += self.x.T @ dout          # dW = x^T dout: the sum over the batch
        self.b.grad += dout.sum(axis=0)         # db = sum_n dout_n
        return dout @ self.W.data.T             # dx = dout W^T


x5, d5 = cl.make_rng(13).standard_normal((5, 6)), cl.make_rng(14).standard_normal((5, 4))
plain, library = TableLinear(6, 4, rng=cl.make_rng(15)), cl.Linear(6, 4, rng=cl.make_rng(15))
for lay in (plain, library):
    lay.zero_grad()
    for _ in range(2):                          # two backward passes: the gradients must ADD
        lay.forward(x5)
        dx = lay.backward(d5)
assert np.array_equal(plain.W.grad, library.W.grad) and np.array_equal(plain.b.grad, library.b.grad)
assert np.array_equal(dx, d5 @ library.W.data.T) and np.allclose(library.W.grad, 2 * x5.T @ d5)
print(inspect.getsource(cl.Linear.backward_params))

# %% [markdown]
# The library's `backward_params` (printed above, as it is in `course_lib/layers.py` today)
# computes the same numbers — the cell checks that they are identical, bit for bit, after
# two accumulating backward passes. It writes the weight gradient as
# `self.W.accumulate_matmul(self.x.T, dout)` instead of `self.W.grad += self.x.T @ dout`.
# That is a speed detail, not different mathematics: right after `zero_grad()`,
# `accumulate_matmul` lets NumPy write $x^\top \mathrm{d}\text{out}$ straight into the
# gradient array (`np.matmul(a, b, out=grad)`), skipping the pass that fills it with zeros,
# the temporary array for the product and the addition; on a second backward pass without
# `zero_grad()` it adds, so gradients still accumulate as in PyTorch.

# %% [markdown]
# The softmax-cross-entropy row follows from section 4: the upstream gradient of
# $-\log s_y$ is $g = -\mathrm{onehot}(y)/s_y$, so $g\cdot s = -1$, and the softmax VJP gives
# $s \odot (g - g\cdot s) = s \odot g + s = s - \mathrm{onehot}(y)$. The two nodes together have a
# simpler and more stable backward pass than either alone, which is why libraries fuse them.

# %%
y_gold = 2
g = -np.eye(5)[y_gold] / s[y_gold]                  # d(-log s_y)/ds
assert np.allclose(g @ J_soft, s - np.eye(5)[y_gold], atol=1e-14)
ce = cl.SoftmaxCrossEntropy()
ce.forward(z.reshape(1, 5), np.array([y_gold]))
assert np.allclose(ce.backward().ravel(), s - np.eye(5)[y_gold], atol=1e-15)
print("softmax VJP of d(-log s_y)/ds  =  softmax(z) - onehot(y)  =  SoftmaxCrossEntropy.backward()")

# %% [markdown]
# Now the check of everything: `cl.gradcheck(layer, x)` contracts the layer's output with a
# fixed random `dout` and compares the input gradient and every parameter gradient with
# centred differences; for a loss it checks $\partial L/\partial\,\text{prediction}$. (Dropout is
# random, so `gradcheck` replays the same mask at every evaluation; BatchNorm is checked both in
# training mode, where the batch statistics depend on the input, and in evaluation mode.)

# %%
rng = cl.make_rng(6)
X6 = rng.standard_normal((5, 6))
bn_eval = cl.BatchNorm1d(6)
for _ in range(5):                                  # give the running statistics real values
    bn_eval.forward(3 + 2 * rng.standard_normal((8, 6)))
bn_eval.eval()
checks = {
    "Linear": cl.Linear(6, 4, rng=cl.make_rng(7)),
    "Linear(bias=False)": cl.Linear(6, 4, bias=False, rng=cl.make_rng(8)),
    "Maxout(pieces=3)": cl.Maxout(6, 4, pieces=3, rng=cl.make_rng(9)),
    "ReLU": cl.ReLU(), "LeakyReLU(0.1)": cl.LeakyReLU(0.1), "PReLU": cl.PReLU(6),
    "ELU": cl.ELU(), "Sigmoid": cl.Sigmoid(), "Tanh": cl.Tanh(), "GELU": cl.GELU(), "SiLU": cl.SiLU(),
    "BatchNorm1d (train)": cl.BatchNorm1d(6), "BatchNorm1d (eval)": bn_eval,
    "Dropout(p=0.3)": cl.Dropout(0.3, rng=cl.make_rng(10)),
    "MLP (Sequential)": cl.Sequential(cl.Linear(6, 8, rng=cl.make_rng(11)), cl.BatchNorm1d(8), cl.ReLU(),
                                      cl.Linear(8, 3, rng=cl.make_rng(12))),
}
results = {name: cl.gradcheck(layer, X6) for name, layer in checks.items()}
logits, labels = 0.5 * rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)   # moderate: see §6
pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
probs = rng.uniform(size=(5, 2))
results["SoftmaxCrossEntropy"] = cl.gradcheck(cl.SoftmaxCrossEntropy(), logits, target=labels)
results["SoftmaxCE(smoothing=0.1)"] = cl.gradcheck(cl.SoftmaxCrossEntropy(0.1), logits, target=labels)
results["MSELoss"] = cl.gradcheck(cl.MSELoss(), pred, target=target)
results["BCEWithLogits"] = cl.gradcheck(cl.BCEWithLogits(), pred, target=probs)

print(f"{'object':<26}{'max rel. error':>15}   worst array   verdict")
for name, r in results.items():
    worst = max(r.errors, key=r.errors.get)
    print(f"{name:<26}{r.max_error:>15.1e}   {worst:<13} {bpw.verdict(r.max_error)}")
assert all(r.max_error < 1e-7 for r in results.values())

# %%
fig, ax = plt.subplots(figsize=(8.4, 4.6))
bpw.plot_gradcheck_dots(results, ax)
ax.set_title("cl.gradcheck of every course_lib layer and loss (float64, h = 1e-5)", fontsize=10)
fig.tight_layout()
plt.show()
worst = max(results, key=lambda n: results[n].max_error)
print(f"largest error: {worst}, {results[worst].max_error:.1e}")
assert results[worst].max_error < 5e-8

# %% [markdown]
# Each dot is one object's largest relative error; a dot in the yellow band would be
# suspicious, one in the red band wrong. The errors range from about $10^{-12}$ to a few
# $10^{-8}$, all comfortably below $10^{-7}$.
#
# ## 6. Gradient checking, properly
#
# ### The relative error and the rule of thumb
#
# Why relative? Gradients of different layers differ by orders of magnitude, so an absolute
# difference of $10^{-6}$ is excellent for a gradient of size 10 and useless for one of size
# $10^{-7}$. The course uses
#
# $$\text{rel. error}(a, b) = \frac{|a - b|}{\max(|a| + |b|,\ \text{tiny})},$$
#
# symmetric in the analytic $a$ and the numerical $b$, never larger than 1, with `tiny` ($10^{-12}$)
# preventing $0/0$ when both are zero. `cl.rel_error` takes the **maximum over all elements**, so
# one bad entry is enough to fail. In float64 with centred differences and $h = 10^{-5}$:
#
# * **< 1e-7: good.** Correct gradients typically land between $10^{-12}$ and $10^{-8}$.
# * **1e-7 … 1e-4: suspicious.** Possibly a bug with a small effect, or a kink (see below);
#   investigate.
# * **> 1e-4: wrong**, almost certainly a bug.
#
# (Readers of the CS231n notes: they divide by $\max(|a|, |b|)$ instead of $|a| + |b|$, which
# makes their number up to twice ours, and they read it more leniently — above $10^{-2}$
# probably wrong, $10^{-4}$ to $10^{-2}$ uncomfortable, below $10^{-4}$ fine for objectives
# with kinks, below $10^{-7}$ happy. The course's stricter $10^{-4}$ line assumes what this
# notebook does: float64, centred differences, small inputs, one layer at a time, where a
# kink can be found and explained rather than tolerated.)
#
# Because the maximum is taken element by element, an element whose true gradient is tiny
# (a saturated tanh or sigmoid unit, say $10^{-6}$ of the others) can look suspicious from
# rounding alone: the numerical error does not shrink with the gradient. Keep test inputs of
# moderate size.
#
# (In deep networks errors accumulate through many layers, so a whole-network check may sit
# somewhat higher than a single layer's; that is one more reason to check layer by layer.)
#
# ### Centred differences, and why h ≈ 1e-5
#
# Taylor's theorem tells us how accurate a difference quotient is:
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \tfrac{h^2}{2} f''(x) \pm \tfrac{h^3}{6} f'''(x) + \dots$$
#
# * **forward difference** $\dfrac{f(x+h) - f(x)}{h} = f'(x) + \tfrac{h}{2} f''(x) + \dots$:
#   truncation error $O(h)$;
# * **centred difference** $\dfrac{f(x+h) - f(x-h)}{2h} = f'(x) + \tfrac{h^2}{6} f'''(x) + \dots$:
#   the even terms cancel, error $O(h^2)$, for the price of one more evaluation.
#
# So smaller $h$ is better? Only up to a point. The computer stores $f$ with a relative
# rounding error of about $\varepsilon$ ($1.1\cdot 10^{-16}$ in float64), and dividing a
# difference of two rounded numbers by $h$ amplifies that to about $\varepsilon |f| / h$. The
# total error is roughly $C h^p + \varepsilon|f|/h$, smallest near $h^\ast \approx
# \varepsilon^{1/(p+1)}$: about $10^{-8}$ for forward differences (error $\approx 10^{-8}$), and
# about $5\cdot 10^{-6}$ for centred ones (error $\approx 10^{-11}$). Hence **centred differences
# with $h \approx 10^{-5}$**. Let us measure it on the worked example's $\partial L/\partial W$:

# %%
case = "worked example: σ layer + squared loss"
lh = bpw.LOG10_H                                   # log10 h from -12 to -1
hs = 10.0 ** lh
err = {(dt, m): bpw.error_curve(case, dt, m) for dt in bpw.DTYPES for m in bpw.METHODS}
trunc = (lh >= -4) & (lh <= -2)                    # where the truncation error dominates
slope_fwd = np.polyfit(lh[trunc], np.log10(err["float64", "forward"][trunc]), 1)[0]
slope_cen = np.polyfit(lh[trunc], np.log10(err["float64", "centred"][trunc]), 1)[0]
roundoff = lh <= -9                                # where rounding dominates
slope_round = np.polyfit(lh[roundoff], np.log10(err["float64", "centred"][roundoff]), 1)[0]


def at(dtype, method, log10_h=-5):
    """The error curve's value at h = 10**log10_h."""
    return err[dtype, method][np.argmin(np.abs(lh - log10_h))]


print(f"slopes for large h: forward {slope_fwd:.2f}, centred {slope_cen:.2f}; "
      f"for tiny h (rounding): {slope_round:.2f}")
print(f"float64 at h = 1e-5: centred {at('float64', 'centred'):.1e}, forward {at('float64', 'forward'):.1e}; "
      f"best forward over all h: {err['float64', 'forward'].min():.1e} "
      f"(at h = {hs[np.argmin(err['float64', 'forward'])]:.0e})")
assert abs(slope_fwd - 1) < 0.15 and abs(slope_cen - 2) < 0.2 and slope_round < -0.7
assert at("float64", "centred") < 1e-8                     # good, by an order of magnitude or more
assert 1e-7 < at("float64", "forward") < 1e-4              # a CORRECT gradient looks suspicious
assert err["float64", "forward"].min() > 10 * err["float64", "centred"].min()   # even at its best h, forward is far worse

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.8), sharey=True)
for ax, dt in zip(axes, bpw.DTYPES):
    ax.axhspan(1e-7, 1e-4, color="gold", alpha=0.18, lw=0, label="suspicious band")
    ax.loglog(hs, err[dt, "centred"], "o-", ms=3, color="tab:blue", label="centred difference")
    ax.loglog(hs, err[dt, "forward"], "s--", ms=3, color="tab:purple", label="forward difference")
    ax.axvline(1e-5, color="0.5", lw=1, ls=":")
    ax.text(1.3e-5, 2e-12, "h = 1e-5", color="0.35", fontsize=9, ha="left", va="bottom")
    ax.set_xlabel("step h")
    ax.set_title(f"{dt}: error of ∂L/∂W vs h", fontsize=10)
axes[0].loglog(hs[trunc], 0.5 * err["float64", "forward"][trunc][0] * (hs[trunc] / hs[trunc][0]),
               color="k", lw=1, alpha=0.6, label="slope 1 and 2")
axes[0].loglog(hs[trunc], 0.3 * err["float64", "centred"][trunc][0] * (hs[trunc] / hs[trunc][0]) ** 2,
               color="k", lw=1, alpha=0.6)
axes[0].set_ylabel("relative error vs exact gradient")
axes[0].set_ylim(1e-12, 3)
fig.tight_layout(rect=(0, 0.1, 1, 1))
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=9, frameon=False)
plt.show()

# %% [markdown]
# On the left (float64) the two V shapes: the right arm is the truncation error (slope 1 for
# forward, 2 for centred differences), the left arm the rounding error (slope −1). At
# $h = 10^{-5}$ the centred difference is good by an order of magnitude or more, while the forward
# difference makes a **correct** gradient look suspicious: do not use forward differences.
#
# ### Why float32 is not enough
#
# On the right, the same computation in float32, where $\varepsilon \approx 6\cdot 10^{-8}$.
# Now the rounding error $\varepsilon |f|/h$ is already about $10^{-2}$ at $h = 10^{-5}$ (and
# more for the smallest gradient entries: $10^{-2}$ to 1 here, depending on the draw), and for
# $h \lesssim 10^{-6}$ the relative error is about 1: the change of $f$ is lost in rounding and
# the difference comes out as zero. Even the best $h$, near $\varepsilon^{1/3} \approx 10^{-2.5}$,
# leaves an error around $\varepsilon^{2/3} \approx 10^{-5}$. There is no $h$ at which a correct float32
# gradient passes the 1e-7 rule. Even the step itself is not what we asked for:

# %%
one, h32 = np.float32(1.0), np.float32(1e-5)
actual_step = float((one + h32) - one)
print(f"in float32, (1 + 1e-5) - 1 = {actual_step:.6e}: the step is off by "
      f"{abs(actual_step - 1e-5) / 1e-5:.2%}")
print(f"worked example at h = 1e-5: float64 {at('float64', 'centred'):.1e}, "
      f"float32 {at('float32', 'centred'):.1e}; best float32 over all h: {err['float32', 'centred'].min():.1e}")
assert abs(actual_step - 1e-5) / 1e-5 > 1e-3
assert at("float64", "centred") < 1e-7 < 1e-4 < at("float32", "centred")
# no h rescues float32, for any of the explorer's layers and either difference
best32 = {c: min(bpw.error_curve(c, "float32", m).min() for m in bpw.METHODS) for c in bpw.CASES}
for c, e in best32.items():
    print(f"  best float32 error, {c}: {e:.1e}")
assert all(e > 1e-7 for e in best32.values())

# %% [markdown]
# So: **gradient-check in float64**, even if you later train in float32 (the check is about
# the formula, not about the precision you train in). `cl.numerical_gradient` refuses float32
# input for this reason.
#
# ### Kinks: when a correct gradient fails the check
#
# ReLU, Leaky ReLU, Maxout, max-pooling and the L1 penalty have **kinks**: points where the
# derivative jumps. The centred difference looks at $f$ on $[x - h, x + h]$; if a kink lies
# inside that interval, the quotient mixes the two slopes. For ReLU at an input $d \in (0, h)$
# the numerical derivative is $\frac{(d + h) - 0}{2h}$ while the analytic one is 1, a relative
# error of $\frac{h - d}{3h + d}$: anything from nearly $1/3$ (input just above the kink) down
# to 0 (the kink at the edge of the interval). The layer is correct in every case.

# %%
relu, h = cl.ReLU(), 1e-5
rng = cl.make_rng(9)
x_relu = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.1, 2.0, (3, 4))   # every input >= 0.1 from the kink...
kink = {}
for depth in (2.0, 0.99999, 0.5):                  # ...except x[0, 0] = depth * h
    x_k = x_relu.copy()
    x_k[0, 0] = depth * h
    kink[depth] = cl.gradcheck(relu, x_k, h=h)
    print(f"x[0, 0] = {depth:g} h: max rel. error {kink[depth].max_error:.1e} → "
          f"{bpw.verdict(kink[depth].max_error)}")
assert [bpw.verdict(kink[d].max_error) for d in (2.0, 0.99999, 0.5)] == ["good", "suspicious", "wrong"]
assert abs(kink[0.5].max_error - 0.5 / 3.5) < 1e-6        # (h - d)/(3h + d) with d = h/2

# localize: which element fails, and is its input within h of the kink?
x_k[0, 0] = 0.5 * h
relu.forward(x_k)
analytic = relu.backward(np.ones_like(x_k))
numeric = cl.numerical_gradient(lambda: relu.forward(x_k), x_k, dout=np.ones_like(x_k))
elementwise = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
bad = np.argwhere(elementwise > 1e-7)
print("failing elements:", bad.tolist(), "| their inputs:", x_k[tuple(bad.T)])
assert bad.tolist() == [[0, 0]] and np.all(np.abs(x_k[tuple(bad.T)]) < h)

# %% [markdown]
# With inputs drawn from a continuous distribution, landing within $10^{-5}$ of zero is rare
# for one unit, but a network has thousands of units and a check visits all of them, so it
# does happen. What to do: (1) look at **which** elements fail and whether their inputs sit
# within $h$ of a kink, as above; (2) check on a few examples only (fewer kinks to cross);
# (3) for ReLU layers, test the layer on inputs kept away from 0. Don't "fix" the check by
# loosening the threshold: a real bug can hide in the same band.
#
# ### Explore: the gradient-check explorer
#
# Move the slider for $h$ and watch the relative error of the finite-difference gradient
# (black circle) and the verdict in the title. Things to try:
#
# * `float64`, centred, any smooth layer: find the bottom of the V. Is it near $10^{-5}$?
# * switch to `forward`: is there *any* $h$ that reaches the green band?
# * switch to `float32`: the whole curve rises; at $h = 10^{-5}$ every layer is "wrong";
#   for small $h$ the error is exactly 1 (the difference rounds to 0).
# * `linear`: an affine map has no curvature, so there is no truncation error at all; only
#   rounding remains, and larger $h$ is simply better.
# * `ReLU (an input 3e-4 from the kink)`: fine while $h < 3\cdot 10^{-4}$, "wrong" as soon as the
#   interval $[x - h, x + h]$ contains the kink, though the layer is correct. The forward
#   difference looks only to the right of $x > 0$, so it never sees that kink.

# %% tags=["nbval-ignore-output"]
bpw.precompute()                       # every curve, once (about a second)
display(bpw.gradcheck_explorer())

# %% [markdown]
# ## 7. A planted-bug hunt
#
# Below are three hand-written layer classes, the way you might write them in an exercise. One
# of them contains a mistake. Read them; can you spot it before the gradient check does?

# %%
class MyLinear(cl.Linear):
    """cl.Linear's forward and parameters, with a hand-written backward."""

    def backward(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


class MyTanh(cl.Module):
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, dout):
        return dout * (1 - self.t ** 2)


class MySigmoid(cl.Module):
    def forward(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def backward(self, dout):
        return dout * self.s


model = cl.Sequential(MyLinear(6, 8, rng=cl.make_rng(20)), MyTanh(), MyLinear(8, 8, rng=cl.make_rng(21)), MySigmoid(),
                      MyLinear(8, 3, rng=cl.make_rng(22)))
rng = cl.make_rng(23)
Xh, yh = 0.3 * rng.standard_normal((10, 6)), rng.integers(0, 3, size=10)
loss_fn = cl.SoftmaxCrossEntropy()

# %% [markdown]
# **Step 1: check the whole model.** Compare every parameter's gradient of the loss with its
# numerical gradient:

# %%
def model_gradcheck(model, loss_fn, X, y):
    """Relative error of each parameter's gradient of loss_fn(model(X), y)."""
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    f = lambda: loss_fn.forward(model.forward(X), y)           # noqa: E731
    return {name: cl.rel_error(p.grad, cl.numerical_gradient(f, p.data))
            for name, p in model.named_parameters()}

whole = model_gradcheck(model, loss_fn, Xh, yh)
for name, e in whole.items():
    print(f"  {name:<5} {e:.1e}  {bpw.verdict(e)}")
assert {n for n, e in whole.items() if e > 1e-4} == {"0.W", "0.b", "2.W", "2.b"}
assert {n for n, e in whole.items() if e < 1e-7} == {"4.W", "4.b"}

# %% [markdown]
# Something is wrong. The pattern already says where: the last layer's parameters are fine,
# everything in layers 0 and 2 is wrong. A mistake in a layer's input gradient $\mathrm{d}x$
# corrupts everything **upstream** of it (earlier in the network), because all those gradients
# are computed from it, and nothing downstream. Layer 4's parameters are right, so the gradient
# arriving from the loss is right; layer 2's are wrong, so a wrong $\mathrm{d}x$ was passed down
# by layer 3 or layer 4.
#
# **Step 2: check each layer on its own**, on the input it actually receives in this model:

# %%
per_layer, inp = {}, Xh
for i, layer in enumerate(model):
    per_layer[i] = cl.gradcheck(layer, inp)
    print(f"  ({i}) {type(layer).__name__:<10} max rel. error {per_layer[i].max_error:.1e}  "
          f"{bpw.verdict(per_layer[i].max_error)}")
    inp = layer.forward(inp)
failing = [i for i, r in per_layer.items() if not r.ok]
assert failing == [3] and type(model[3]).__name__ == "MySigmoid"

# %% [markdown]
# Only layer 3, `MySigmoid`, fails. Its backward returns `dout * s`, using
# $\sigma$ itself as the derivative; the derivative is $\sigma(1 - \sigma)$. Fix it and check
# again, layer by layer and as a whole:

# %%
class FixedSigmoid(MySigmoid):
    def backward(self, dout):
        return dout * self.s * (1 - self.s)

model.layers[3] = FixedSigmoid()
whole = model_gradcheck(model, loss_fn, Xh, yh)
print("after the fix:", ", ".join(f"{n} {e:.1e}" for n, e in whole.items()))
assert max(whole.values()) < 1e-6                     # far from "wrong": no bug left (rounding, see below)
assert cl.gradcheck(model[3], rng.standard_normal((4, 8)))   # the fixed layer alone: good

# %% [markdown]
# All good now. The whole-model errors ($10^{-9}$ to $10^{-7}$, depending on the draw) are
# typically larger than a single layer's: rounding errors of many operations add up, and the
# smallest entries of a gradient are relatively the noisiest — on some draws the first
# layer's even crosses $10^{-7}$ from rounding alone, while the fixed layer checked alone is
# good. Another reason to check layer by layer.

# %% [markdown]
# **A second bug, and a lesson about test inputs.** Here a layer averages the bias gradient over
# the batch instead of summing it, a classic confusion with the mean in the loss. Unlike the
# sigmoid bug it affects only its own parameter (`dx` is still right), and it is invisible with a
# batch of one, where the mean and the sum coincide:

# %%
class MeanBiasLinear(cl.Linear):
    def backward_params(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.mean(axis=0)          # should be dout.sum(axis=0)
        return dout

layer = MeanBiasLinear(6, 4, rng=cl.make_rng(24))
r1 = cl.gradcheck(layer, rng.standard_normal((1, 6)))
r8 = cl.gradcheck(layer, rng.standard_normal((8, 6)))
print(r1)
print(r8)
assert r1.ok and not r8.ok
assert r8.errors["b"] > 1e-4 and r8.errors["W"] < 1e-7 and r8.errors["input"] < 1e-7

# %% [markdown]
# Lessons for writing checks: use a **batch larger than one**, and make all sizes **different**
# (here $N = 8$, $D = 6$, $M = 4$), so that a forgotten sum, a wrong axis or a transposed matrix
# cannot hide behind a coincidence of shapes. Check each layer alone before checking the whole,
# and remember that `cl.gradcheck` is cheap for a small layer and hopeless for a real network
# (two forward passes per parameter): check small, then train big.
#
# ### Three habits from CS231n, each measured
#
# **1. Check the data loss alone first, with the regularization off.** A gradient check of a
# sum of terms judges the sum. When one term dominates the gradient, a bug in another term
# is diluted: the check sees it, but only in proportion to that term's share. Here the
# sigmoid bug from above sits in the data loss, and an L2 penalty $\frac{\lambda}{2}\sum
# \lVert W\rVert^2$ (gradient $\lambda W$, correctly implemented) is added to the loss. We
# look at every entry of the two weight matrices the bug reaches (layers 0 and 2):

# %%
buggy = cl.Sequential(MyLinear(6, 8, rng=cl.make_rng(20)), MyTanh(), MyLinear(8, 8, rng=cl.make_rng(21)),
                      MySigmoid(), MyLinear(8, 3, rng=cl.make_rng(22)))
entry = {lam: bpw.entry_errors(buggy, loss_fn, Xh, yh, lam, names=("0.W", "2.W")) for lam in (0.0, 1.0, 100.0)}
for lam, e in entry.items():
    print(f"lambda = {lam:<5g} error of the median entry {np.median(e):.0e}, of the worst {e.max():.0e}; "
          f"entries that would pass (< 1e-4): {np.mean(e < 1e-4):.0%}")
assert np.median(entry[0.0]) > 0.1 and np.mean(entry[0.0] < 1e-4) < 0.05   # penalty off: plainly wrong
assert np.median(entry[100.0]) < 1e-3                        # a strong penalty dilutes the same bug ...
assert np.mean(entry[100.0] < 1e-4) > 0.3                    # ... so that many entries look fine
assert entry[100.0].max() > 1e-4                             # (the worst entry still shows it)

# %% [markdown]
# The bug did not change; the penalty's own (correct) gradient $\lambda W$ swamped it in most
# entries. A check of *every* entry still catches it here, through the weights close to 0,
# where $\lambda W$ is small — but a check of a few random entries (habit 3) would often
# pass. Check the data loss with $\lambda = 0$ first, then the penalty on its own.
#
# **2. Check after a short burn-in, not only at the initialization.** A check visits one
# point of parameter space, and the initialization is a special one: small weights, small
# pre-activations, nearly uniform probabilities. Some bugs are invisible there. This tanh
# layer uses its cached *input* in the derivative, $1 - x^2$ instead of $1 - \tanh^2 x$ —
# nearly the same number while $|x| \ll 1$:

# %%
class TanhInputBug(cl.Module):
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1 - self.x ** 2)        # should be 1 - tanh(x)**2


small = lambda fan_in, fan_out, rng: 0.002 * rng.standard_normal((fan_in, fan_out))   # noqa: E731
rng = cl.make_rng(25)
net_b = cl.Sequential(cl.Linear(6, 16, init=small, rng=rng), TanhInputBug(), cl.Linear(16, 3, init=small, rng=rng))
Xb_ = rng.standard_normal((64, 6))
yb_ = (Xb_ @ rng.standard_normal((6, 3))).argmax(axis=1)          # a learnable 3-class problem
at_init = max(model_gradcheck(net_b, loss_fn, Xb_[:8], yb_[:8]).values())
opt_b = cl.SGD(net_b.parameters(), lr=0.5)
for _ in range(50):                                                # the burn-in: 50 full-batch steps
    opt_b.zero_grad()
    loss_fn.forward(net_b.forward(Xb_), yb_)
    net_b.backward(loss_fn.backward())
    opt_b.step()
after = max(model_gradcheck(net_b, loss_fn, Xb_[:8], yb_[:8]).values())
print(f"at the initialization: {at_init:.1e} ({bpw.verdict(at_init)}); after 50 steps "
      f"(loss {loss_fn.forward(net_b.forward(Xb_), yb_):.2f}): {after:.1e} ({bpw.verdict(after)})")
assert at_init < 1e-4 < after                                      # invisible at init, plain after

# %% [markdown]
# At the initialization the check says at worst "suspicious", which is easy to explain away;
# fifty steps later, with pre-activations of order 1, it says "wrong". (The buggy net even
# trains for those fifty steps: a wrong gradient is often still a descent direction. Trained
# longer, this one diverges.)
#
# **3. In a big network, check a random subset of coordinates — of every parameter array.**
# A full check costs two forward passes per parameter: for the 26,122 parameters below, 52,244
# passes. Checking a few coordinates is cheap, but *which* ones matters. Drawn from all
# parameters pooled into one vector, a sample rarely lands in a small array such as a bias.
# Here one layer averages its bias gradient instead of summing it (the bug from above) — a
# bug that lives only in 128 of the 26,122 numbers:

# %%
rng = cl.make_rng(26)
big = cl.Sequential(cl.Linear(64, 128, rng=rng), cl.ReLU(), MeanBiasLinear(128, 128, rng=rng), cl.ReLU(),
                    cl.Linear(128, 10, rng=rng))
X_big, y_big = rng.standard_normal((16, 64)), rng.integers(0, 10, 16)
pooled = [bpw.sampled_gradcheck(big, loss_fn, X_big, y_big, 30, rng, per_array=False) for _ in range(20)]
per_array = [bpw.sampled_gradcheck(big, loss_fn, X_big, y_big, 5, rng, per_array=True) for _ in range(20)]
found_pooled = sum(max(e.values()) > 1e-4 for e in pooled)
flagged = [sorted(n for n, v in e.items() if v > 1e-4) for e in per_array]
miss = (1 - 128 / big.num_parameters()) ** 30
print(f"{big.num_parameters():,} parameters; 20 random checks of 30 coordinates each")
print(f"  pooled sample: the bug found {found_pooled} times out of 20 (expected {20 * (1 - miss):.1f})")
print(f"  5 coordinates of each of the 6 arrays: found {sum(f == ['2.b'] for f in flagged)} times out of 20")
assert all(f == ["2.b"] for f in flagged)          # per array: found every time, and nothing else flagged
assert found_pooled <= 10                          # pooled: missed most of the time

# %% [markdown]
# Same cost (30 coordinates), very different power: sampled per array, every check finds
# the bug and points at the right array; pooled, most checks miss it.
#
# ## 8. The memory cost of backprop
#
# Backpropagation needs, at each layer, numbers from the forward pass: `Linear` multiplies
# its upstream gradient by its input $x$ ($\mathrm{d}W = x^\top\mathrm{d}\text{out}$), an
# activation needs $x$ or $f(x)$ for $f'$. So the forward pass of training must **keep**
# these arrays (the layers' caches, here attributes such as `layer.x`) until the backward
# pass has used them, while a forward pass for prediction can throw each activation away as
# soon as the next layer has consumed it. That is why training needs far more memory than
# inference (d2l §5.3), and why the cost grows with the batch size and the depth.
#
# `cl.diagnostics.cache_memory(model, X)` runs one forward pass and adds up the bytes of
# every array the layers hold for their backward pass, counting an array shared by two
# layers once (a ReLU's output *is* the next `Linear`'s input). For an MLP with $L$ hidden
# ReLU layers of width $w$ on 64 inputs, the text predicts $8\,(64 + L\,w)$ bytes per example
# in float64: the input, kept by the first `Linear`, and one array of width $w$ per hidden
# layer, kept by the ReLU (its output, which its backward pass needs to know where
# $x > 0$) and shared with the next `Linear`. Measured:

# %%
mlp3 = bpw.mlp(depth=3, width=256, seed=cl.seeds(1)[0])
print(cl.diagnostics.cache_memory(mlp3, cl.make_rng(27).standard_normal((64, 64))))

# %%
sweep = bpw.memory_sweep(batch_sizes=(1, 4, 16, 64, 256, 1024), depths=(1, 2, 4, 8), width=256,
                         depth=3, batch=64, seed=cl.seeds(1)[0])
N_b, by_n = np.array(sweep["batch_sizes"]), sweep["by_batch"]
L_d, by_d = np.array(sweep["depths"]), sweep["by_depth"]
w = sweep["width"]
for n, r in zip(N_b, by_n):
    print(f"batch {n:>4}: caches {r['caches']:>9,} B = {r['per_example']:,.0f} B per example; "
          f"inference peak {r['infer_peak']:>9,} B; parameters {r['params']:,} B")
for d, r in zip(L_d, by_d):
    print(f"{d} hidden layers, batch 64: caches {r['caches']:>9,} B, parameters + gradients "
          f"{2 * r['params']:>9,} B, inference peak {r['infer_peak']:,} B")
assert all(r["caches"] == n * 8 * (64 + 3 * w) for n, r in zip(N_b, by_n))    # exactly linear in N
assert all(r["caches"] == 64 * 8 * (64 + d * w) for d, r in zip(L_d, by_d))    # exactly linear in depth
assert all(r["eval_caches"] == r["caches"] for r in by_n + by_d)             # eval() keeps them too
slack = 80_000                # NumPy's fixed working buffer (64 kB) and small Python objects
for n, r in zip(N_b, by_n):   # tracemalloc, a second measurement: the caches are really held ...
    assert r["train_peak"] >= r["caches"] - n * 64 * 8                       # (the input existed before)
    assert 2 * n * w * 8 <= r["infer_peak"] <= 2 * n * w * 8 + slack           # ... inference: two activations
peaks = np.array([r["infer_peak"] for r in by_d])
assert np.ptp(peaks) < slack < (by_d[-1]["caches"] - by_d[0]["caches"]) / 10   # flat in depth
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
bpw.plot_memory(sweep, axes)
plt.show()

# %% [markdown]
# The laws hold to the byte, because they are counted from the arrays themselves: the caches
# grow **linearly with the batch size** (a constant 6,656 bytes per example here) and
# **linearly with the depth** (one $N \times w$ array per hidden layer). The parameters do not
# depend on the batch at all, so for small batches they dominate, and from a batch size of
# about `params / per-example` (here ≈ 180) the caches do. A forward pass for inference only
# ever holds about two activations at once — a layer's input and its output, plus a fixed
# 64 kB working buffer of NumPy's — whatever the depth: the flat dashed line. Two details:
#
# * `model.eval()` does **not** drop the caches: our layers (like PyTorch's with autograd on)
#   cache whenever they run. PyTorch's `torch.no_grad()` / `torch.inference_mode()` is what
#   tells it not to record them; `bpw.inference_peak` imitates it by dropping each cache
#   after use.
# * An activation could cache its input *and* its output. ReLU's backward reads only the
#   sign pattern, and `out > 0` exactly where `x > 0`, so the output is enough. `course_lib`'s
#   ReLU used to keep both; measured, that doubled the activation memory of every ReLU
#   network:

# %%
class KeepBothReLU(cl.ReLU):
    """ReLU that also keeps its input, which its backward pass never reads."""

    def forward(self, x):
        self.x = x
        return super().forward(x)


both = cl.Sequential(*[KeepBothReLU() if isinstance(m, cl.ReLU) else m for m in mlp3.layers])
X27 = cl.make_rng(27).standard_normal((64, 64))
kept_both, kept_out = cl.diagnostics.cache_memory(both, X27), cl.diagnostics.cache_memory(mlp3, X27)
print(f"per example: ReLU keeps x and out {kept_both.per_example:,.0f} B, only out {kept_out.per_example:,.0f} B")
assert kept_both.per_example == 8 * (64 + 2 * 3 * w) and kept_out.per_example == 8 * (64 + 3 * w)
assert cl.gradcheck(cl.ReLU(), x_relu)                   # and the lean ReLU's backward is still right

# %% [markdown]
# The library's ReLU now caches only its output. Real
# frameworks go further: activation **checkpointing** keeps only every $k$-th layer's
# activations and recomputes the rest during the backward pass, trading compute for memory.
#
# ## 9. Using the gradient: gradient descent
#
#
# The gradient $g = \partial L / \partial \theta$ points in the direction in which $L$ grows fastest;
# its length says how fast. **Gradient descent** steps the other way:
#
# $$\theta \leftarrow \theta - \alpha\, \frac{\partial L}{\partial \theta}.$$
#
# The **learning rate** $\alpha$ is the step size, measured in units of the gradient. To first
# order, $L(\theta - \alpha g) \approx L(\theta) - \alpha \|g\|^2$, which is a decrease. But that
# linear approximation only holds near $\theta$: too large a step jumps past the valley, the
# loss falls far short of the prediction or even goes *up*. We train the worked example's network (8 sigmoid units, full batch) on a
# generated 2-D regression problem.

# %%
rng = cl.make_rng(30)
Xr = rng.standard_normal((200, 2))
y_r = sigmoid(Xr @ (2 * rng.standard_normal((2, 8)))) @ rng.standard_normal(8) \
    + 0.05 * rng.standard_normal(200)
W0, V0 = 0.5 * rng.standard_normal((2, 8)), 0.5 * rng.standard_normal(8)

# the first-order prediction, tested with one step of size alpha
L0, gW, gV = batch_loss_and_grads(Xr, W0, V0, y_r)
g2 = np.sum(gW ** 2) + np.sum(gV ** 2)
for alpha in (1e-4, 1e-2, 1.0):
    L1 = batch_loss_and_grads(Xr, W0 - alpha * gW, V0 - alpha * gV, y_r)[0]
    print(f"alpha = {alpha:g}: actual decrease / predicted alpha*|g|^2 = {(L0 - L1) / (alpha * g2):+.4f}")
    if alpha == 1e-4:
        assert abs((L0 - L1) / (alpha * g2) - 1) < 0.01      # small steps: as predicted
    if alpha == 1.0:
        assert (L0 - L1) / (alpha * g2) < 0.75                # too large: far short of the prediction

# %%
def gradient_descent(alpha, steps=200):
    """Full-batch gradient descent on the worked example; stops when the loss exceeds 3x its start."""
    W, V, losses = W0.copy(), V0.copy(), []
    for _ in range(steps):
        L, dW, dV = batch_loss_and_grads(Xr, W, V, y_r)
        losses.append(L)
        if L > 3 * losses[0]:                   # exploded: stop before it overflows
            break
        W -= alpha * dW                         # theta <- theta - alpha dL/dtheta
        V -= alpha * dV
    return np.array(losses)

runs = {alpha: gradient_descent(alpha) for alpha in (0.03, 0.3, 1.0)}
for alpha, losses in runs.items():
    print(f"alpha = {alpha:<4g}: loss {losses[0]:.3f} → {losses[-1]:.4g} after {len(losses)} steps")
good, slow, big = runs[0.3], runs[0.03], runs[1.0]
assert good[-1] < 0.25 * good[0] and np.all(np.diff(good) <= 0)  # steady descent
print(f"after 20 steps: loss {slow[20]:.4g} at alpha = 0.03, {good[20]:.4g} at alpha = 0.3")
assert slow[-1] < slow[0] and slow[20] > 1.5 * good[20]             # also descends, but slower
assert big[-1] > 3 * big[0] and len(big) < 10                       # explodes within a few steps

# one step of cl.SGD is exactly this update
net = cl.Sequential(cl.Linear(2, 8, bias=False), cl.Sigmoid(), cl.Linear(8, 1, bias=False))
net[0].W.data[...], net[2].W.data[...] = W0, V0.reshape(8, 1)
opt = cl.SGD(net.parameters(), lr=0.3)
opt.zero_grad()
mse.forward(net.forward(Xr), y_r.reshape(-1, 1))
net.backward(mse.backward())
opt.step()
assert np.allclose(net[0].W.data, W0 - 0.3 * gW) and np.allclose(net[2].W.data.ravel(), V0 - 0.3 * gV)

fig, ax = plt.subplots(figsize=(7, 3.8))
for (alpha, losses), style in zip(runs.items(), ("-", "-", "o-")):
    label = f"α = {alpha:g}" + (" (exploded, stopped)" if alpha == 1.0 else "")
    ax.semilogy(losses, style, ms=4, label=label)
ax.set_xlabel("gradient-descent step (full batch)")
ax.set_ylabel("mean squared error (log scale)")
ax.set_title("The learning rate is the step size")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# A small rate descends steadily but slowly; a rate ten times larger gets much further in the
# same number of steps (compare the losses after 20 steps; after 200 both may be close to
# the floor set by the noise in the targets); another factor of about three and the steps overshoot so badly that the
# loss explodes within a few steps. Choosing and scheduling $\alpha$ is the subject of notebooks
# 06 and 08; everything there rests on the gradients being right, which is what this notebook
# taught you to make sure of.
#
# ## Check your understanding
#
# 1. In the graph $c = ab$, $d = c + a$, $L = d^2$, a student computes $\partial L/\partial a$
#    as $b \cdot \partial L/\partial c$ only. What did they forget, and where does the same
#    mistake hide in a batched layer?
#
# <details><summary>Answer</summary>
#
# $a$ is used twice (by $c$ and by $d$), so $L$ depends on it along two paths and the chain
# rule **adds** both contributions: $b\cdot(-8) + 1\cdot(-8) = 16$, not $24$. In a batched layer
# the weights and the bias are used by every example of the batch, so their gradients are
# sums over the batch: $\mathrm{d}W = X^\top \mathrm{d}Z$ does it inside the matrix product,
# $\mathrm{d}b = \sum_n \mathrm{d}z_n$ must do it explicitly.
# </details>
#
# 2. Your gradient check reports a maximum relative error of $3\cdot 10^{-6}$ for a network with
#    ReLUs, and $2\cdot 10^{-2}$ for a network with only sigmoids and tanh. Which result worries you
#    more, and what do you do next in each case?
#
# <details><summary>Answer</summary>
#
# The smooth network: with no kinks, $2\cdot 10^{-2}$ (> 1e-4) means a bug. Check layer by layer
# to localize it, starting from the layer just below the highest-up parameter that still passes.
# The ReLU result is only suspicious: find the failing elements and check whether their
# pre-activations lie within $h$ of 0 (a kink). If they do, the gradient is fine; if they don't,
# investigate as for a bug.
# </details>
#
# 3. Why not use forward differences with $h = 10^{-5}$? And why not make $h$ as small as
#    possible, say $10^{-12}$, to get the derivative "exactly"?
#
# <details><summary>Answer</summary>
#
# Forward differences have an $O(h)$ truncation error: at $h = 10^{-5}$ that is a relative error
# around $10^{-6}$, enough to make a correct gradient look suspicious, and no $h$ takes them far
# below $10^{-7}$. Centred differences are $O(h^2)$. Tiny $h$ fails for another reason: $f$ is
# stored with rounding error $\approx \varepsilon |f|$, and dividing the difference by $h$
# amplifies it to $\varepsilon|f|/h$: at $h = 10^{-12}$ in float64 the error is back up to
# $10^{-4}$–$10^{-3}$ (see the V-shaped curve in section 6). The best
# compromise for centred differences in float64 is $h \approx 10^{-5}$ to $10^{-6}$.
# </details>
#
# 4. A layer whose bias gradient is `dout.mean(axis=0)` passes `cl.gradcheck` on an input of
#    shape `(1, 6)`. Why, and how should you choose test inputs?
#
# <details><summary>Answer</summary>
#
# With one example the mean and the sum over the batch are the same number. Use a batch of
# several examples and make every dimension different (e.g. $N = 8$, $D = 6$, $M = 4$) so that
# a missing sum, a wrong axis or a transposed weight matrix changes the result or raises a shape
# error instead of hiding.
# </details>
#
# 5. How many numbers does the Jacobian of `Linear(4096 → 4096)` with respect to its input have
#    for a batch of 64, and what does the backward pass compute instead?
#
# <details><summary>Answer</summary>
#
# $(64 \cdot 4096)^2 \approx 6.9 \cdot 10^{10}$ numbers (about 550 GB in float64), of which all
# but the 64 diagonal blocks ($W^\top$ each) are zero. The backward pass computes only the
# vector-Jacobian product $\mathrm{d}x = \mathrm{d}\text{out}\,W^\top$, one matrix product with
# $64 \cdot 4096$ numbers as the result.
# </details>
#
# 6. Training with batches of 256 runs out of memory, and so does computing the validation
#    loss at batch 256 after `model.eval()`. Why the second, and what helps in each case?
#
# <details><summary>Answer</summary>
#
# The forward caches grow linearly with the batch size (a constant number of bytes per
# example, section 8), and `eval()` does not drop them: the layers still keep what a backward
# pass would need. For training, halve the batch (the caches halve) or recompute activations
# during the backward pass (checkpointing); for evaluation, run the forward pass without
# caches (`torch.no_grad()` in PyTorch), which holds only about two activations at a time,
# whatever the depth — or simply evaluate in smaller batches.
# </details>
#
# ## Summary
#
# * Backpropagation is the chain rule applied from the loss backwards through the computational
#   graph: each node multiplies its **upstream gradient by its local gradient**; where a value
#   fans out, the contributions **add**, and that includes weights shared by all examples of a
#   batch.
# * For $\hat y = \sigma(x^\top W)\,V$ with squared loss:
#   $\partial L/\partial V = 2(\hat y - y)\,\sigma(W^\top x)$ and
#   $\partial L/\partial W = 2(\hat y - y)\,x\,[V^\top \odot \sigma(x^\top W) \odot (1 - \sigma(x^\top W))]$;
#   batched, the sums over examples move into matrix products ($\mathrm{d}W = X^\top \mathrm{d}Z$),
#   and a mean loss brings a factor $1/N$.
# * A backward pass computes a **vector-Jacobian product**; the Jacobian itself would take
#   hundreds of gigabytes for an ordinary layer and is never built.
# * Backward passes: affine $\mathrm{d}x = \mathrm{d}\text{out}\,W^\top$, $\mathrm{d}W = x^\top
#   \mathrm{d}\text{out}$, $\mathrm{d}b = \sum_n \mathrm{d}\text{out}_n$; activations
#   $\mathrm{d}\text{out} \odot f'(x)$; softmax-cross-entropy $(\mathrm{softmax} - \mathrm{onehot})/N$;
#   MSE $2(\hat y - y)/\text{numel}$. Every `course_lib` layer and loss passes `cl.gradcheck`.
# * Gradient checks: **centred** differences, $h \approx 10^{-5}$, **float64**, relative error
#   with the max over elements; < 1e-7 good, 1e-7 … 1e-4 suspicious (kinks can do this to correct
#   code), > 1e-4 wrong. Forward differences and float32 are not accurate enough.
# * Find a bug by checking each layer alone, with a batch > 1 and all sizes different; a wrong
#   $\mathrm{d}x$ corrupts every gradient upstream of it. Check the data loss with the
#   regularization off first (a dominant penalty dilutes a data-loss bug), check again after a
#   short burn-in (the initialization can hide a bug), and in big nets check a few coordinates
#   of **every** parameter array (a pooled sample misses the biases).
# * Memory: the forward pass of training keeps what backward needs (inputs of `Linear`,
#   outputs of ReLU, ...): bytes per example constant, total linear in the batch size and in
#   the depth, measured to the byte with `cl.diagnostics.cache_memory`. Inference keeps about
#   two activations at a time, whatever the depth; `eval()` alone does not drop the caches.
# * Gradient descent $\theta \leftarrow \theta - \alpha\,\partial L/\partial\theta$: the learning
#   rate is the step size; small steps decrease the loss by $\approx \alpha\|g\|^2$, too large
#   steps make it explode.
#
# **Next:** practise in the exercise notebook
# [exercises/03_backpropagation.ipynb](../exercises/03_backpropagation.ipynb): write backward
# passes yourself and let the gradient check judge them.
