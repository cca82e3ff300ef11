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
# # Exercises 03 · Backpropagation and gradient checking
#
# **What you will practise**
#
# 1. the backward pass of the affine layer: $\mathrm{d}x$, $\mathrm{d}W$, $\mathrm{d}b$;
# 2. a numerical gradient with centred differences;
# 3. the relative error that judges a gradient;
# 4. the gradients $\partial L/\partial W$ and $\partial L/\partial V$ of the lecture's worked
#    example, batched, checked with your own tools;
# 5. a bug hunt: one of five layers has a wrong backward pass — find it.
#
# **Prerequisites.** The lecture [03 · Backpropagation](../notebooks/03_backpropagation.ipynb),
# sections 2–3 (the worked example), 5 (backward passes) and 6–7 (gradient checking, bug hunt).
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
from course_lib.functional import sigmoid

_ = cl.set_seed()          # every random draw below derives from COURSE_SEED (default 0)

# %% [markdown]
# ## Exercise 1 · The affine layer's backward pass
#
# An affine layer computes $\text{out} = xW + b$ with $x$ of shape $(N, D)$, $W$ of shape
# $(D, M)$, $b$ of shape $(M,)$. Given the upstream gradient
# $\mathrm{d}\text{out} = \partial L/\partial\,\text{out}$ of shape $(N, M)$, write
# `linear_backward(dout, x, W)` returning the tuple `(dx, dW, db)`:
#
# $$\mathrm{d}x = \mathrm{d}\text{out}\; W^\top \ (N \times D), \qquad
#   \mathrm{d}W = x^\top\, \mathrm{d}\text{out} \ (D \times M), \qquad
#   \mathrm{d}b = \textstyle\sum_n \mathrm{d}\text{out}_n \ (M,).$$
#
# Every gradient has the shape of its variable: that alone tells you where the transposes go.
# $W$ and $b$ are used by every example, so their gradients **sum** over the batch (no
# averaging: a mean loss has already put its $1/N$ into `dout`).

# %% nbgrader={"grade": false, "grade_id": "linear_backward", "locked": false, "schema_version": 3, "solution": true}
def linear_backward(dout, x, W):
    """Gradients of out = x @ W + b. Shapes: dout (N, M), x (N, D), W (D, M) ->
    dx (N, D), dW (D, M), db (M,)."""
    ### BEGIN SOLUTION
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_linear_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_linear_backward(linear_backward)

# %% [markdown]
# Your formulas inside a `course_lib` layer, judged by `cl.gradcheck`:

# %%
class MyLinear(cl.Linear):
    """cl.Linear with your backward pass."""

    def backward(self, dout):
        dx, dW, db = linear_backward(dout, self.x, self.W.data)
        self.W.grad += dW
        self.b.grad += db
        return dx


print(cl.gradcheck(MyLinear(6, 4, rng=cl.make_rng(0)), cl.make_rng(1).standard_normal((8, 6))))

# %% [markdown]
# ## Exercise 2 · A numerical gradient with centred differences
#
# Write `numerical_gradient(f, x, h=1e-5)`. Here `f` is a function that takes an array shaped
# like `x` and returns a float, and `x` may have any shape. For **every element** $i$ of `x`
# compute
#
# $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h\,e_i) - f(x - h\,e_i)}{2h}$$
#
# and return the array of these numbers (shape of `x`). Perturb one element at a time;
# `np.ndindex(x.shape)` yields the index of every element, whatever the shape. If you change
# `x` in place, put the old value back before moving on: the caller's `x` must be unchanged at
# the end.
# The check passes a fairly large `h` on purpose, so that a forward difference, a wrong
# denominator or a second evaluation at the wrong point shows clearly.

# %% nbgrader={"grade": false, "grade_id": "numerical_gradient", "locked": false, "schema_version": 3, "solution": true}
def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function f at x (any shape)."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_numerical_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_numerical_gradient(numerical_gradient)

# %% [markdown]
# ## Exercise 3 · The relative error
#
# Write `rel_error(a, b)` for two arrays of the same shape: the **largest** element-wise
# relative error
#
# $$\max_i \frac{|a_i - b_i|}{\max(|a_i| + |b_i|,\ 10^{-12})}.$$
#
# It is symmetric in `a` and `b`, never larger than 1, and the $10^{-12}$ guard turns $0/0$
# (both entries zero) into $0$. Return one float. Rule of thumb in float64: below $10^{-7}$
# good, above $10^{-4}$ wrong.

# %% nbgrader={"grade": false, "grade_id": "rel_error", "locked": false, "schema_version": 3, "solution": true}
def rel_error(a, b):
    """max |a - b| / max(|a| + |b|, 1e-12) over all elements."""
    ### BEGIN SOLUTION
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_rel_error", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_rel_error(rel_error)

# %% [markdown]
# Your two tools together judge exercise 1 once more, this time without `course_lib`'s:

# %%
rng = cl.make_rng(2)
x, W, b, dout = (rng.standard_normal((5, 3)), rng.standard_normal((3, 4)),
                 rng.standard_normal(4), rng.standard_normal((5, 4)))
dx, dW, db = linear_backward(dout, x, W)
# the scalar f = sum(out * dout) has exactly these gradients
errors = {"dx": rel_error(dx, numerical_gradient(lambda x_: np.sum((x_ @ W + b) * dout), x.copy())),
          "dW": rel_error(dW, numerical_gradient(lambda W_: np.sum((x @ W_ + b) * dout), W.copy())),
          "db": rel_error(db, numerical_gradient(lambda b_: np.sum((x @ W + b_) * dout), b.copy()))}
print({k: f"{v:.1e}" for k, v in errors.items()})

# %% [markdown]
# ## Exercise 4 · The worked example, batched
#
# The lecture's network: a hidden layer of $H$ sigmoid units without biases, an identity output,
# the squared loss. For a batch $X$ of shape $(N, D)$, weights $W$ $(D, H)$ and $V$ $(H,)$,
# targets $y$ $(N,)$:
#
# $$S = \sigma(XW), \qquad \hat y = S V, \qquad L = \frac1N \sum_n (\hat y_n - y_n)^2 .$$
#
# Write `sigmoid_net_grads(X, W, V, y)` returning `(loss, dW, dV)` with $\mathrm{d}W =
# \partial L/\partial W$ (shape of $W$) and $\mathrm{d}V = \partial L/\partial V$ (shape of $V$).
# Derive them first, one node at a time, as in the lecture: $\partial L/\partial \hat y$, then
# $V$, then through the sigmoid ($\sigma' = \sigma(1-\sigma)$) to $W$. Pitfalls: the factor 2,
# the $1/N$ of the mean, the sign (prediction minus target), $\sigma'$ rather than $\sigma$, and
# $V$ on the way to $W$. Use `sigmoid` from `course_lib.functional` (imported above).

# %% nbgrader={"grade": false, "grade_id": "sigmoid_net_grads", "locked": false, "schema_version": 3, "solution": true}
def sigmoid_net_grads(X, W, V, y):
    """Mean squared loss of sigmoid(X @ W) @ V against y, and its gradients dW, dV."""
    ### BEGIN SOLUTION
    S = sigmoid(X @ W)                          # (N, H)
    r = S @ V - y                               # residuals (N,)
    dyhat = 2 * r / len(X)                      # dL/dyhat, with the 1/N of the mean
    dV = S.T @ dyhat                            # (H,)
    dZ = np.outer(dyhat, V) * S * (1 - S)       # back through the sigmoid, (N, H)
    dW = X.T @ dZ                               # (D, H), summed over the batch
    return np.mean(r ** 2), dW, dV
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid_net_grads", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sigmoid_net_grads(sigmoid_net_grads)

# %% [markdown]
# And the verdict of your own gradient checker, on a new batch:

# %%
rng = cl.make_rng(3)
X4, W4, V4, y4 = (rng.standard_normal((7, 3)), rng.standard_normal((3, 5)),
                  rng.standard_normal(5), rng.standard_normal(7))
_, dW4, dV4 = sigmoid_net_grads(X4, W4, V4, y4)
num_dW = numerical_gradient(lambda W_: sigmoid_net_grads(X4, W_, V4, y4)[0], W4.copy())
num_dV = numerical_gradient(lambda V_: sigmoid_net_grads(X4, W4, V_, y4)[0], V4.copy())
print(f"relative error dW {rel_error(dW4, num_dW):.1e}, dV {rel_error(dV4, num_dV):.1e}")

# %% [markdown]
# ## Exercise 5 · Bug hunt
#
# Five hand-written layers, chained into one model. One of them has a wrong backward pass.
# Read them if you like, but let the gradient check decide.

# %%
class Affine(cl.Module):
    """out = x @ W + b."""

    def __init__(self, fan_in, fan_out, rng):
        self.W = cl.Parameter(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        self.b = cl.Parameter(0.1 * rng.standard_normal(fan_out))

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


class Softplus(cl.Module):
    """out = log(1 + exp(x)), a smooth ReLU; its derivative is sigmoid(x)."""

    def forward(self, x):
        self.x = x
        return np.logaddexp(0.0, x)

    def backward(self, dout):
        return dout * sigmoid(self.x)


class Scale(cl.Module):
    """out = x * gamma: one learned scale per feature."""

    def __init__(self, features):
        self.gamma = cl.Parameter(np.linspace(0.5, 1.5, features))

    def forward(self, x):
        self.x = x
        return x * self.gamma.data

    def backward(self, dout):
        self.gamma.grad += (dout * self.x).sum(axis=0)
        return dout * self.gamma.data


class Tanh(cl.Module):
    """out = tanh(x)."""

    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, dout):
        return dout * (1 - self.t) ** 2


class SiLU(cl.Module):
    """out = x * sigmoid(x)."""

    def forward(self, x):
        self.x, self.s = x, sigmoid(x)
        return x * self.s

    def backward(self, dout):
        return dout * self.s * (1 + self.x * (1 - self.s))


rng = cl.make_rng(11)
layers = {"Affine 1": Affine(6, 5, rng), "Softplus": Softplus(), "Scale": Scale(5),
          "Tanh": Tanh(), "SiLU": SiLU(), "Affine 2": Affine(5, 3, rng)}
model = cl.Sequential(*layers.values())
x_hunt, y_hunt = rng.standard_normal((8, 6)), rng.integers(0, 3, size=8)

# %% [markdown]
# First the whole model: every parameter's gradient of the loss, against centred differences.

# %%
def model_gradcheck(model, loss_fn, X, y):
    """Relative error of each parameter's gradient of loss_fn(model(X), y)."""
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    f = lambda: loss_fn.forward(model.forward(X), y)        # noqa: E731
    return {name: cl.rel_error(p.grad, cl.numerical_gradient(f, p.data))
            for name, p in model.named_parameters()}


names = list(layers)
for key, err in model_gradcheck(model, cl.SoftmaxCrossEntropy(), x_hunt, y_hunt).items():
    index, param = key.split(".")               # "0.W": parameter W of the model's layer 0
    print(f"{names[int(index)]:9s} {param:6s} relative error {err:.1e}")

# %% [markdown]
# The whole-model check says *that* something is wrong, not *where*. Find the culprit: check
# each layer alone with `cl.gradcheck(layer, inp)`, on the input `inp` it receives in the chain
# (the first layer gets `x_hunt`; each layer's output is the next one's input). Then set
# `buggy_layer` to the name of the wrong layer, as a string from `layers` (for example
# `buggy_layer = "Scale"`).

# %% nbgrader={"grade": false, "grade_id": "bug_hunt", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
inp = x_hunt
for name, layer in layers.items():
    result = cl.gradcheck(layer, inp)
    print(f"{name:9s} max relative error {result.max_error:.1e}  {'ok' if result.ok else 'FAILED'}")
    inp = layer.forward(inp)
buggy_layer = "Tanh"       # its backward uses (1 - t)**2; the derivative is 1 - t**2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_bug_hunt", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_bug_hunt(buggy_layer, layers, x_hunt)

# %% [markdown]
# **Question.** In the whole-model check, which parameters failed and which passed? Explain the
# pattern from the position of the buggy layer in the chain, and say why the whole-model check
# alone could not tell you which layer to fix.

# %% [markdown] nbgrader={"grade": true, "grade_id": "bug_hunt_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# Failed: the parameters of every layer before the tanh in the chain (Affine 1's W and b, Scale's
# gamma); passed: Affine 2's W and b, the only parameters after it. The backward pass runs from
# the loss towards the input: the gradient reaching Affine 2 has not been through the tanh yet,
# so its parameter gradients are right. The tanh layer passes a wrong dx down, and every gradient
# computed from it — all parameters upstream of the tanh — inherits the error. The layers
# without parameters (Softplus, Tanh, SiLU) do not appear in the table at all, so the
# whole-model check only brackets the culprit: Scale's gamma is wrong and Affine 2 is right, so
# a wrong dx was passed down somewhere between them — by Tanh, by SiLU, or by Affine 2 itself.
# Checking each layer alone removes the guesswork.
# ### END SOLUTION

# %% [markdown]
# ## Wrap-up
#
# * Affine backward: $\mathrm{d}x = \mathrm{d}\text{out}\,W^\top$, $\mathrm{d}W = x^\top \mathrm{d}\text{out}$,
#   $\mathrm{d}b = \sum_n \mathrm{d}\text{out}_n$; shapes decide the transposes, shared parameters
#   sum over the batch.
# * A numerical gradient uses **centred** differences with the element restored; the relative
#   error is element-wise, symmetric, guarded against $0/0$, and maximal over elements.
# * For the worked example, $\partial L/\partial V = S^\top \mathrm{d}\hat y$ and
#   $\partial L/\partial W = X^\top[(\mathrm{d}\hat y\, V^\top) \odot S \odot (1 - S)]$ with
#   $\mathrm{d}\hat y = 2(\hat y - y)/N$.
# * A wrong $\mathrm{d}x$ corrupts every gradient upstream of it: check layer by layer.
#
# Next: the lecture [04 · Batch normalization](../notebooks/04_batch_normalization.ipynb).
