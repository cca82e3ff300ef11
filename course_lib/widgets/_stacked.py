"""Many small networks of one structure trained at once, each as ``cl.fit`` would train it.

The experiments of notebooks 01, 02, 04, 05 and 07 repeat short training runs dozens of times:
over seeds, learning rates, strengths, activations. Each run is small (a few hundred
examples, layers of 32 to 256 units), so Python's per-step overhead costs more than the
arithmetic. Here M runs are *stacked*: every array gets a new first axis of length M (the
weights of a Linear layer become (M, in, out), a batch of activations (M, B, D)), and one
training step of all M runs is a handful of batched matrix products.

Each run stays an independent run. It keeps its own initial parameters and buffers (copied
from its ``cl.Sequential``), its own generator for the order of the mini-batches and its own
generator for the dropout masks, drawn in the order ``cl.fit`` draws them, and its own
hyperparameters (learning rate, momentum, L1/L2 strengths, max-norm radius, label smoothing,
dropout rate, Leaky ReLU slope). So in float64 a stacked run equals the same run through
``cl.fit`` up to rounding (tests/test_stacked.py checks it for every layer and option). In
float32, what deep-learning frameworks train in and several times faster here, the runs
round differently and agree with float64 ones statistically, not digit for digit.

Reading order:
  StackedParameter, StackedLayer          the per-run arrays along axis 0
  StackedLinear, StackedMaxout            affine layers
  StackedReLU, StackedActivation          element-wise non-linearities
  StackedDropout                          per-run masks from per-run generators
  StackedBatchNorm1d, StackedLayerNorm    normalization (running statistics, ghost batches)
  StackedSequential, stack(models)        M cl.Sequential models -> one stacked model
  StackedSoftmaxCrossEntropy, StackedPenalty, StackedSGD    the loss, L1/L2, the optimizer
  fit_stacked -> StackedHistory           the training loop, with an evaluation hook
  nll, accuracy, BestEpochs               for evaluation hooks (early-stopping bookkeeping)
"""
import copy
from dataclasses import dataclass

import numpy as np

from ..activations import Activation, ReLU
from ..dropout import Dropout
from ..functional import log_softmax
from ..layers import Linear, Maxout
from ..module import Sequential
from ..normalization import BatchNorm1d, LayerNorm


# ------------------------------------------------------------------------------ the base

class StackedParameter:
    """M parameters of one shape stacked: ``data`` (M, ...) and ``grad`` of the same shape.

    Unlike ``cl.Parameter.grad``, ``grad`` is overwritten by every backward pass (a training
    step has one backward pass, so there is nothing to accumulate). ``is_weight`` as in
    ``cl.Parameter``: the arrays that penalties and max-norm act on (not biases, gamma, beta).
    """

    def __init__(self, data, is_weight):
        self.data = data
        self.grad = np.zeros_like(data)
        self.is_weight = is_weight


class StackedLayer:
    """Base class: the counterpart of M course layers of one kind, run m along axis 0.

    ``forward(x)`` caches what ``backward(dout)`` needs; ``backward`` writes the parameter
    gradients into ``p.grad`` and returns d loss / d x (not computed when ``need_dx`` is
    False: the first layer's). A backward pass may change the ``dout`` it receives: every
    dout is a fresh array of that pass. Attributes named in ``state`` (parameters and
    buffers, which training changes) and in ``per_run`` (numbers and generators that may
    differ between runs) hold one entry per run, so that ``take`` and ``put`` can move runs
    in and out of the stack. Shapes: x (M, B, D) -> (M, B, D').
    """

    state = ()
    per_run = ()
    training = True

    def __init__(self, layers, dtype):
        """``layers``: the M course layers (one per run) this stacked layer stands for."""

    def parameters(self):
        return [v for v in (getattr(self, name) for name in self.state) if isinstance(v, StackedParameter)]

    def take(self, rows):
        """A copy holding only the runs ``rows`` (indices or a boolean mask)."""
        new = copy.copy(self)
        for name in self.state + self.per_run:
            value = getattr(self, name)
            if isinstance(value, StackedParameter):
                value = StackedParameter(value.data[rows], value.is_weight)
            elif isinstance(value, np.ndarray):
                value = value[rows]
            elif isinstance(value, list):
                value = [value[i] for i in np.arange(len(value))[rows]]
            setattr(new, name, value)
        return new

    def put(self, rows, other, other_rows=slice(None)):
        """Write the parameters and buffers of runs ``other_rows`` of ``other`` (a stacked
        layer of the same kind) into runs ``rows`` of this one."""
        for name in self.state:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, StackedParameter):
                mine.data[rows] = theirs.data[other_rows]
            elif isinstance(mine, np.ndarray):
                mine[rows] = theirs[other_rows]

    def unstack(self, m, layer):
        """Write run m's parameters and buffers into the course layer ``layer``."""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        return ""


# ------------------------------------------------------------------------------ affine layers

class StackedLinear(StackedLayer):
    """M Linear layers: out[m] = x[m] @ W[m] + b[m].

    Shapes: x (M, B, in), or (B, in) shared by every run; W (M, in, out); b (M, out) or None
    (``bias=False``); out (M, B, out). Built from M ``cl.Linear`` layers (W, b copied).
    """

    state = ("W", "b")

    def __init__(self, layers, dtype):
        self.W = StackedParameter(np.stack([layer.W.data for layer in layers]).astype(dtype), True)
        self.b = None if layers[0].b is None else \
            StackedParameter(np.stack([layer.b.data for layer in layers]).astype(dtype), False)

    def forward(self, x):
        self.x = x
        out = x @ self.W.data                 # an (N, in) x is broadcast against every run's W
        if self.b is not None:
            out += self.b.data[:, None, :]
        return out

    def backward(self, dout, need_dx=True):
        np.matmul(self.x.swapaxes(-1, -2), dout, out=self.W.grad)
        if self.b is not None:
            dout.sum(axis=1, out=self.b.grad)
        return dout @ self.W.data.transpose(0, 2, 1) if need_dx else None

    def unstack(self, m, layer):
        layer.W.data[...] = self.W.data[m]
        if self.b is not None:
            layer.b.data[...] = self.b.data[m]

    def extra_repr(self):
        _, d, h = self.W.data.shape
        return f"{d}→{h}" + ("" if self.b is not None else ", bias=False")


class StackedMaxout(StackedLinear):
    """M Maxout layers: out[m][:, j] = max_k (x[m] @ W[m][:, j, k] + b[m][j, k]).

    The affine part is a StackedLinear whose columns are cl.Maxout's (unit, piece) pairs, the
    pieces of a unit side by side (the layout of ``W.reshape(in, -1)``, which is also what
    ``cl.max_norm`` projects). The gradient flows into the winning piece only; on a tie the
    first piece wins (as argmax). Shapes: x (M, B, in); W (M, in, out * pieces);
    b (M, out * pieces); out (M, B, out).
    """

    def __init__(self, layers, dtype):
        self.pieces = layers[0].pieces
        self.W = StackedParameter(np.stack([layer.W.data.reshape(layer.in_features, -1)
                                            for layer in layers]).astype(dtype), True)
        self.b = StackedParameter(np.stack([layer.b.data.reshape(-1) for layer in layers]).astype(dtype), False)

    def forward(self, x):
        z = super().forward(x)
        z = z.reshape(z.shape[:2] + (-1, self.pieces))            # (M, B, out, pieces)
        if self.pieces == 2:        # the common case, without the slower take_along_axis
            self.win = z[..., 1] > z[..., 0]
            return np.maximum(z[..., 0], z[..., 1])
        self.win = z.argmax(axis=3)
        return np.take_along_axis(z, self.win[..., None], axis=3)[..., 0]

    def backward(self, dout, need_dx=True):
        if self.pieces == 2:
            dz = np.stack([np.where(self.win, 0.0, dout), np.where(self.win, dout, 0.0)], axis=3)
        else:
            dz = np.zeros(self.win.shape + (self.pieces,), dtype=dout.dtype)
            np.put_along_axis(dz, self.win[..., None], dout[..., None], axis=3)
        return super().backward(dz.reshape(dz.shape[:2] + (-1,)).astype(dout.dtype, copy=False), need_dx)

    def unstack(self, m, layer):
        layer.W.data[...] = self.W.data[m].reshape(layer.W.shape)
        layer.b.data[...] = self.b.data[m].reshape(layer.b.shape)

    def extra_repr(self):
        _, d, h = self.W.data.shape
        return f"{d}→{h // self.pieces}, pieces={self.pieces}"


# ------------------------------------------------------------------------------ non-linearities

class StackedReLU(StackedLayer):
    """M ReLU layers: max(0, x); backward lets dout through where the output is > 0 (as
    ``cl.ReLU``, which caches its output, not its input). With ``inplace`` (``stack`` sets it
    when the layer before returns a fresh array that nothing else holds: Linear, Maxout,
    BatchNorm1d) the output overwrites the input, which saves allocating one large array per
    pass (a third of an evaluation pass's time at the sizes of the notebooks).
    Shapes: (M, B, D) -> (M, B, D)."""

    inplace = False

    def forward(self, x):
        self.out = np.maximum(x, 0.0, out=x if self.inplace else None)
        return self.out

    def backward(self, dout, need_dx=True):
        dout *= self.out > 0
        return dout


class StackedActivation(StackedLayer):
    """M copies of one element-wise course activation (cl.Tanh, Sigmoid, GELU, SiLU, ELU,
    LeakyReLU, ...): forward f(x), backward dout * f'(x), with the course layer's OWN ``f``
    and ``derivative``. Those methods are called with this object as their ``self``: a number
    the course layers hold (LeakyReLU's and ELU's ``alpha``), which may differ from run to
    run, is here an (M, 1, 1) array that broadcasts over each run's batch.
    Shapes: (M, B, D) -> (M, B, D).
    """

    def __init__(self, layers, dtype):
        self.kind = type(layers[0])
        self.per_run = tuple(name for name, v in vars(layers[0]).items()
                             if isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
        for name in self.per_run:
            setattr(self, name, np.array([getattr(layer, name) for layer in layers], dtype=dtype)[:, None, None])

    def forward(self, x):
        self.x = x
        return self.kind.f(self, x)

    def backward(self, dout, need_dx=True):
        dout *= self.kind.derivative(self, self.x)
        return dout

    def __repr__(self):
        numbers = ", ".join(f"{name} per run" for name in self.per_run)
        return f"Stacked{self.kind.__name__}({numbers})"


# ------------------------------------------------------------------------------ dropout

class StackedDropout(StackedLayer):
    """M Dropout layers: run m zeroes each activation with probability ``p[m]`` and scales the
    others by 1 / (1 - p[m]), with masks drawn from ITS OWN generator ``rngs[m]``, the same
    draw as ``cl.Dropout``: (u >= p) / (1 - p), u of shape (B, D) ~ U[0, 1). A run with
    p = 0 draws nothing (its mask is all ones). Identity in evaluation mode.
    Shapes: (M, B, D) -> (M, B, D); p (M,).
    """

    per_run = ("p", "rngs")

    def __init__(self, layers, dtype):
        # a model without a Dropout at this place (None) is a model with Dropout(p=0) here
        self.p = np.array([0.0 if layer is None else layer.p for layer in layers])
        self.rngs = [None if layer is None or layer.p == 0 else layer.rng for layer in layers]

    def forward(self, x):
        self.mask = None
        if not self.training or not self.p.any():
            return x
        self.mask = np.ones(x.shape, dtype=x.dtype)
        for m in np.flatnonzero(self.p):
            p = self.p[m]
            self.mask[m] = 0.0 if p == 1 else (self.rngs[m].random(x.shape[1:]) >= p) / (1.0 - p)
        return x * self.mask

    def backward(self, dout, need_dx=True):
        if self.mask is not None:
            dout *= self.mask
        return dout

    def extra_repr(self):
        return f"p={np.unique(self.p).tolist()}"


# ------------------------------------------------------------------------------ normalization

class StackedBatchNorm1d(StackedLayer):
    """M BatchNorm1d layers with PyTorch's running statistics, as ``cl.BatchNorm1d``.

    Training: each run's batch statistics (mean, biased variance per feature),
    x_hat = (x - mu) / sqrt(var + eps), out = gamma x_hat + beta, and the running statistics
    updated with momentum (the running variance fed the unbiased batch variance). Evaluation:
    the same transform with the running statistics. With ``ghost_size`` g (a BatchNorm1d
    subclass that has one, such as notebook 04's GhostBatchNorm1d) each consecutive group of g
    examples of a batch is normalized with its own statistics, and the running statistics are
    updated once per group, in order, as if the groups had come one after the other.
    Shapes: x (M, B, D) -> (M, B, D); gamma, beta, running_mean, running_var (M, D).
    """

    state = ("gamma", "beta", "running_mean", "running_var", "num_batches_tracked")

    def __init__(self, layers, dtype):
        first = layers[0]
        self.eps, self.momentum = first.eps, first.momentum
        self.ghost_size = getattr(first, "ghost_size", None)
        self.gamma = StackedParameter(np.stack([layer.gamma.data for layer in layers]).astype(dtype), False)
        self.beta = StackedParameter(np.stack([layer.beta.data for layer in layers]).astype(dtype), False)
        self.running_mean = np.stack([layer.running_mean for layer in layers]).astype(dtype)
        self.running_var = np.stack([layer.running_var for layer in layers]).astype(dtype)
        self.num_batches_tracked = np.array([layer.num_batches_tracked for layer in layers])

    def forward(self, x):
        gamma, beta = self.gamma.data[:, None, :], self.beta.data[:, None, :]
        if not self.training:
            self.inv_std = 1.0 / np.sqrt(self.running_var + self.eps)[:, None, None, :]
            self.x_hat = ((x - self.running_mean[:, None, :]) * self.inv_std[:, 0])[:, None]
            return gamma * self.x_hat[:, 0] + beta
        m_, b_, d_ = x.shape
        g = self.ghost_size or b_
        if b_ % g or g < 2:
            raise ValueError(f"{self!r} in training mode: a batch of {b_} examples cannot be "
                             f"normalized in groups of {g} (need a multiple of the group size, "
                             f"and groups of at least 2); drop the last incomplete batch")
        k = b_ // g
        xg = x.reshape(m_, k, g, d_)                      # (M, groups, g, D)
        # np.var's own steps (sum / g, centre, square, sum / g), keeping the centred values
        mu = xg.sum(axis=2, keepdims=True) / g
        xc = xg - mu
        var = (xc * xc).sum(axis=2, keepdims=True) / g
        self._update_running(mu[:, :, 0], var[:, :, 0], g)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = xc * self.inv_std
        return (gamma[:, None] * self.x_hat + beta[:, None]).reshape(m_, b_, d_)

    def _update_running(self, mu, var, g):
        """mu, var (M, groups, D): one update per group, in order."""
        m, k = self.momentum, mu.shape[1]
        if k == 1:             # cl.BatchNorm1d's update, operation for operation
            self.running_mean = self.running_mean * (1.0 - m) + m * mu[:, 0]
            self.running_var = self.running_var * (1.0 - m) + m * var[:, 0] * (g / (g - 1))
        else:                  # k updates in closed form: group j enters with weight m (1 - m)^(k-1-j)
            w = (m * (1.0 - m) ** np.arange(k - 1, -1, -1)).astype(mu.dtype)
            self.running_mean = (1.0 - m) ** k * self.running_mean + np.einsum("k,mkd->md", w, mu)
            self.running_var = (1.0 - m) ** k * self.running_var + np.einsum("k,mkd->md", w, var) * (g / (g - 1))
        self.num_batches_tracked = self.num_batches_tracked + k

    def backward(self, dout, need_dx=True):
        gamma, x_hat, inv = self.gamma.data, self.x_hat, self.inv_std
        m_, k, g, d_ = x_hat.shape
        dg = dout.reshape(m_, k, g, d_)
        (dg * x_hat).sum(axis=(1, 2), out=self.gamma.grad)
        dg.sum(axis=(1, 2), out=self.beta.grad)
        if not need_dx:
            return None
        if not self.training:          # the running statistics are constants: affine per feature
            return (dout * gamma[:, None, :]) * inv[:, 0]
        # cl.BatchNorm1d's compact formula, per (ghost) batch of g examples:
        # dx = inv_std / g * (g dx_hat - sum dx_hat - x_hat sum(dx_hat x_hat)), dx_hat = dout gamma
        dx_hat = dg * gamma[:, None, None, :]
        dx = g * dx_hat
        dx -= dx_hat.sum(axis=2, keepdims=True)
        dx -= x_hat * (dx_hat * x_hat).sum(axis=2, keepdims=True)
        dx *= inv / g
        return dx.reshape(m_, k * g, d_)

    def unstack(self, m, layer):
        layer.gamma.data[...] = self.gamma.data[m]
        layer.beta.data[...] = self.beta.data[m]
        layer.running_mean[...] = self.running_mean[m]
        layer.running_var[...] = self.running_var[m]
        layer.num_batches_tracked = int(self.num_batches_tracked[m])

    def extra_repr(self):
        ghost = "" if self.ghost_size is None else f", ghost_size={self.ghost_size}"
        return f"{self.gamma.data.shape[1]}, eps={self.eps}, momentum={self.momentum}{ghost}"


class StackedLayerNorm(StackedLayer):
    """M LayerNorm layers, as ``cl.LayerNorm``: each example normalized over its own D
    features, x_hat = (x - mu) / sqrt(var + eps), out = gamma x_hat + beta (no gamma, beta
    with ``elementwise_affine=False``). The same in training and evaluation mode.
    Shapes: x (M, B, D) -> (M, B, D); gamma, beta (M, D) or None.
    """

    state = ("gamma", "beta")

    def __init__(self, layers, dtype):
        self.eps = layers[0].eps
        self.gamma = self.beta = None
        if layers[0].gamma is not None:
            self.gamma = StackedParameter(np.stack([layer.gamma.data for layer in layers]).astype(dtype), False)
            self.beta = StackedParameter(np.stack([layer.beta.data for layer in layers]).astype(dtype), False)

    def forward(self, x):
        d = x.shape[2]
        # x.mean and x.var over the features, by np.var's own steps, keeping the centred values
        mu = x.sum(axis=2, keepdims=True) / d
        xc = x - mu
        var = (xc * xc).sum(axis=2, keepdims=True) / d
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = xc * self.inv_std
        if self.gamma is None:
            return self.x_hat
        return self.gamma.data[:, None, :] * self.x_hat + self.beta.data[:, None, :]

    def backward(self, dout, need_dx=True):
        if self.gamma is None:
            dx_hat = dout
        else:
            (dout * self.x_hat).sum(axis=1, out=self.gamma.grad)
            dout.sum(axis=1, out=self.beta.grad)
            dx_hat = dout * self.gamma.data[:, None, :]
        if not need_dx:
            return None
        d = self.x_hat.shape[2]
        return (self.inv_std / d) * (d * dx_hat - dx_hat.sum(axis=2, keepdims=True)
                                     - self.x_hat * (dx_hat * self.x_hat).sum(axis=2, keepdims=True))

    def unstack(self, m, layer):
        if self.gamma is not None:
            layer.gamma.data[...] = self.gamma.data[m]
            layer.beta.data[...] = self.beta.data[m]

    def extra_repr(self):
        return f"eps={self.eps}" + ("" if self.gamma is not None else ", elementwise_affine=False")


# ------------------------------------------------------------------------------ the model

SUPPORTED = ("Linear, Maxout, ReLU and the other element-wise activations of course_lib.activations "
             "(not PReLU), Dropout, BatchNorm1d (also with a ghost_size), LayerNorm")


def _stacked_kind(layer):
    """The stacked class for one course layer, or None if there is none."""
    if type(layer) is ReLU:
        return StackedReLU
    for course, stacked in ((Maxout, StackedMaxout), (Linear, StackedLinear), (Activation, StackedActivation),
                            (BatchNorm1d, StackedBatchNorm1d), (LayerNorm, StackedLayerNorm)):
        if isinstance(layer, course):
            return stacked
    return None


def _slots(model, m):
    """The layers of model m as [dropout, layer, dropout, layer, ..., layer, dropout]: each
    layer other than Dropout between the Dropout layers around it (None where there is
    none), each item a pair (index in model.layers, layer)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"stack: expects cl.Sequential models, got {type(model).__name__} for model {m}")
    slots = [None]
    for j, layer in enumerate(model.layers):
        if isinstance(layer, Dropout):
            if slots[-1] is not None:
                raise ValueError(f"stack: model {m} has two Dropout layers in a row (layers "
                                 f"{slots[-1][0]} and {j}); merge them into one")
            slots[-1] = (j, layer)
        else:
            if _stacked_kind(layer) is None:
                raise TypeError(f"stack: layer {j} of model {m} is {layer!r}, which has no stacked "
                                f"counterpart; supported: {SUPPORTED}")
            slots += [(j, layer), None]
    return slots


def _signature(layer):
    """What must be equal in every run at one place of the stack: the kind, the parameter
    shapes, and the numbers the runs share (eps, momentum, ghost size)."""
    shapes = tuple((name, p.shape) for name, p in layer.named_parameters())
    shared = ()
    if isinstance(layer, (BatchNorm1d, LayerNorm)):
        shared = (layer.eps, getattr(layer, "momentum", None), getattr(layer, "ghost_size", None))
    return type(layer), shapes, shared


class StackedSequential:
    """M ``cl.Sequential`` models of one structure, stacked (build it with ``stack(models)``).

    ``forward(x)``: logits (M, N, K) of x (M, N, D), or of (N, D) shared by every run;
    ``backward(dout)``: the gradients of every parameter (not d loss / d input).
    ``train()`` / ``eval()`` as in course_lib; ``take(rows)``: a stack of some of the runs
    (copies); ``put(rows, other, other_rows)``: copy runs of another stack into these rows;
    ``copy()``; ``to_models(models)``: course models holding the stacked runs. ``parameters()``:
    the layers' StackedParameters, all of them views into ``flat`` (M, P).
    """

    def __init__(self, layers, n_runs, dtype, places):
        self.layers, self.n_runs, self.dtype = layers, n_runs, np.dtype(dtype)
        self._places = places            # which slot of _slots each stacked layer comes from
        self.training = True
        self._pack()

    def _pack(self):
        """Put all parameters side by side into one (M, P) array and their gradients into
        another: each layer's parameter becomes a view into them, and ``flat`` (a
        StackedParameter of the two) lets the optimizer update everything in one operation,
        which matters when there are many small steps (batches of 2, many layers)."""
        params = [p for layer in self.layers for p in layer.parameters()]
        sizes = [int(np.prod(p.data.shape[1:])) for p in params]
        data = np.empty((self.n_runs, sum(sizes)), dtype=self.dtype)
        grad = np.zeros_like(data)
        start = 0
        for p, size in zip(params, sizes):
            shape = p.data.shape
            view = data[:, start:start + size].reshape(shape)
            view[...] = p.data
            p.data, p.grad = view, grad[:, start:start + size].reshape(shape)
            start += size
        self.flat = StackedParameter(data, False)
        self.flat.grad = grad
        self._params = params

    def __len__(self):
        return self.n_runs

    def forward(self, x):
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim not in (2, 3) or (x.ndim == 3 and len(x) != self.n_runs):
            raise ValueError(f"StackedSequential of {self.n_runs} runs expects input of shape (N, D) "
                             f"(shared by every run) or ({self.n_runs}, N, D), got {x.shape}")
        if x.ndim == 2 and not isinstance(self.layers[0], StackedLinear):
            x = np.broadcast_to(x, (self.n_runs,) + x.shape)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, need_dx=i > 0)

    def parameters(self):
        return self._params

    def train(self, mode=True):
        self.training = mode
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    def take(self, rows):
        """A new stack of the runs ``rows`` (indices or a boolean mask), copied; the dropout
        generators are the same objects (a run goes on drawing from its own)."""
        rows = np.arange(self.n_runs)[rows]
        new = copy.copy(self)
        new.layers = [layer.take(rows) for layer in self.layers]
        new.n_runs = len(rows)
        new._pack()
        return new

    def copy(self):
        return self.take(slice(None))

    def put(self, rows, other, other_rows=slice(None)):
        """Copy the parameters and buffers of runs ``other_rows`` of ``other`` into runs ``rows``."""
        for mine, theirs in zip(self.layers, other.layers):
            mine.put(rows, theirs, other_rows)

    def to_models(self, models):
        """Deep copies of ``models`` (M cl.Sequential of this structure, e.g. those the stack
        was built from) holding run m's parameters and buffers in copy m."""
        out = [copy.deepcopy(model) for model in models]
        if len(out) != self.n_runs:
            raise ValueError(f"to_models: got {len(out)} models for a stack of {self.n_runs} runs")
        for m, model in enumerate(out):
            slots = _slots(model, m)
            for layer, place in zip(self.layers, self._places):
                if slots[place] is not None:
                    layer.unstack(m, slots[place][1])
        return out

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return f"StackedSequential({self.n_runs} runs, {self.dtype.name},\n" + "\n".join(lines) + "\n)"


def stack(models, dtype=np.float64):
    """One StackedSequential from M cl.Sequential ``models`` of identical structure.

    Their parameters and buffers are copied (the models are not changed); their Dropout
    generators are used as they are, so a stacked run draws its masks from its model's own
    generator, as ``cl.fit`` would. The models must have the same layers with the same shapes
    (and, for BatchNorm1d and LayerNorm, the same eps, momentum and ghost size); LeakyReLU's
    and ELU's alpha and Dropout's p may differ, and a Dropout missing from some models counts
    as Dropout(p=0) there. ``dtype``: float64 (the course's) or float32.
    """
    models = list(models)
    if not models:
        raise ValueError("stack: got no models")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"stack: dtype must be float32 or float64, got {dtype!r}")
    all_slots = [_slots(model, m) for m, model in enumerate(models)]
    if len({len(s) for s in all_slots}) != 1:
        counts = [(len(s) - 1) // 2 for s in all_slots]
        raise ValueError(f"stack: all models must have the same layers and the same layer shapes; "
                         f"they have {counts} layers (not counting Dropout)")
    layers, places = [], []
    for place in range(len(all_slots[0])):
        items = [s[place] for s in all_slots]
        if place % 2 == 0:                               # a dropout slot
            if all(item is None for item in items):
                continue
            group = [None if item is None else item[1] for item in items]
            layers.append(StackedDropout(group, dtype))
        else:
            (j0, first), sig = items[0], _signature(items[0][1])
            for m, (j, layer) in enumerate(items):
                if _signature(layer) != sig:
                    raise ValueError(f"stack: the models differ: layer {j0} of model 0 is {first!r}, "
                                     f"layer {j} of model {m} is {layer!r}; all models must have the "
                                     f"same layers and the same layer shapes")
            layers.append(_stacked_kind(first)([item[1] for item in items], dtype))
        places.append(place)
    _check_dropout_generators(all_slots)
    for before, layer in zip(layers, layers[1:]):
        if isinstance(layer, StackedReLU) and isinstance(before, (StackedLinear, StackedBatchNorm1d)):
            layer.inplace = True
    return StackedSequential(layers, len(models), dtype, places)


def _check_dropout_generators(all_slots):
    owner = {}
    for m, slots in enumerate(all_slots):
        for item in slots[0::2]:
            if item is None or item[1].p == 0:
                continue
            j, layer = item
            if layer.rng is None:
                raise ValueError(f"stack: the Dropout at layer {j} of model {m} draws from the course's "
                                 f"default generator (rng=None), which all runs would share; give each "
                                 f"model's Dropout its own generator, Dropout(p, rng=...)")
            if owner.setdefault(id(layer.rng), m) != m:
                raise ValueError(f"stack: models {owner[id(layer.rng)]} and {m} draw their dropout masks "
                                 f"from the same generator; each run needs its own")


# ------------------------------------------------------------------------------ loss, penalty, SGD

def per_run(value, n_runs, name, default=0.0, low=0.0, high=np.inf):
    """A per-run hyperparameter as a float array (M,): one value for all runs or one per run,
    each in [low, high] (None: ``default``)."""
    v = np.asarray(default if value is None else value, dtype=np.float64)
    if v.ndim > 1 or (v.ndim == 1 and len(v) != n_runs):
        raise ValueError(f"{name}: expected one number or one per run ({n_runs} runs), got shape {v.shape}")
    v = np.broadcast_to(v, (n_runs,)).copy()
    if not np.all((v >= low) & (v <= high)):
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}] for every run, got {v.tolist()}")
    return v


class StackedSoftmaxCrossEntropy:
    """M ``cl.SoftmaxCrossEntropy`` losses, run m with label smoothing ``label_smoothing[m]``.

    L[m] = -(1/B) sum_i sum_k t_ik log softmax(z[m]_i)_k, t = (1 - a) one-hot(y) + a / K;
    dL[m]/dz[m] = (softmax(z[m]) - t) / B. ``forward(z, y)`` returns L (M,), ``backward()``
    the gradient. Shapes: z (M, B, K); y (M, B) integer labels.
    """

    def __init__(self, label_smoothing, n_runs):
        self.label_smoothing = per_run(label_smoothing, n_runs, "label_smoothing", high=1.0)

    def forward(self, z, y):
        _, n, k = z.shape
        t = np.eye(k, dtype=z.dtype)[y]                         # one-hot targets (M, B, K)
        if self.label_smoothing.any():
            a = self.label_smoothing.astype(z.dtype)[:, None, None]
            t = (1.0 - a) * t + a / k
        logp = log_softmax(z)
        self._grad = (np.exp(logp) - t) / n
        return -(t * logp).sum(axis=(1, 2)) / n

    def backward(self):
        return self._grad

    def take(self, rows):
        new = copy.copy(self)
        new.label_smoothing = self.label_smoothing[rows]
        return new


class StackedPenalty:
    """The stacked ``cl.L1``, ``cl.L2`` and ``cl.ElasticNet``: run m pays
    l1[m] sum |w| + (l2[m] / 2) sum w**2 over its weight matrices (not the biases, gamma or
    beta); ``add_grad`` adds l1 sign(w) + l2 w to their gradients. Only the runs with a
    penalty are touched. Shapes: l1, l2 (M,); ``value(params)`` (M,).
    """

    def __init__(self, l1, l2, n_runs):
        self.l1, self.l2 = per_run(l1, n_runs, "l1"), per_run(l2, n_runs, "l2")
        self.rows = np.flatnonzero((self.l1 > 0) | (self.l2 > 0))
        if self.rows.size == n_runs:
            self.rows = slice(None)          # every run: work on the arrays themselves

    def _strengths(self, w):
        shape = (-1,) + (1,) * (w.ndim - 1)
        return (self.l1[self.rows].astype(w.dtype).reshape(shape),
                self.l2[self.rows].astype(w.dtype).reshape(shape))

    def value(self, params):
        out = np.zeros(len(self.l1))
        for p in params:
            if p.is_weight:
                w = p.data[self.rows]
                w = w.reshape(len(w), -1)
                out[self.rows] += self.l1[self.rows] * np.abs(w).sum(axis=1) \
                    + 0.5 * self.l2[self.rows] * (w * w).sum(axis=1)
        return out

    def add_grad(self, params):
        for p in params:
            if p.is_weight:
                w = p.data[self.rows]
                l1, l2 = self._strengths(w)
                p.grad[self.rows] += l1 * np.sign(w) + l2 * w

    def take(self, rows):
        return StackedPenalty(self.l1[rows], self.l2[rows], len(self.l1[rows]))


class StackedSGD:
    """``cl.SGD`` with momentum for M runs at once, run m with its own ``lr[m]`` and
    ``momentum[m]``: v = momentum v + g (v = g at the first step), w -= lr v; with momentum 0
    for every run, w -= lr g. ``params``: StackedParameters (``model.parameters()``); after
    ``step`` their ``grad`` arrays hold the step lr v (scratch space: the next backward pass
    overwrites them anyway).
    """

    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        n_runs = len(self.params[0].data)
        self.lr = per_run(lr, n_runs, "lr")
        self.momentum = per_run(momentum, n_runs, "momentum")
        self.velocity = [None] * len(self.params)
        self._columns()

    def _columns(self):
        """lr and momentum as (M, 1, ...) arrays in each parameter's dtype: they broadcast
        over each run's array."""
        col = lambda v, p: v.astype(p.data.dtype).reshape((-1,) + (1,) * (p.data.ndim - 1))  # noqa: E731
        self._lr = [col(self.lr, p) for p in self.params]
        self._momentum = [col(self.momentum, p) for p in self.params] if self.momentum.any() else None

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            if self._momentum is not None:
                if self.velocity[i] is None:
                    self.velocity[i] = g.copy()
                else:
                    self.velocity[i] *= self._momentum[i]
                    self.velocity[i] += g
                g = self.velocity[i]
            np.multiply(g, self._lr[i], out=p.grad)
            p.data -= p.grad

    def take(self, rows, params):
        """The optimizer of the runs ``rows``, for ``params`` (the parameters of ``model.take(rows)``)."""
        new = copy.copy(self)
        new.params = list(params)
        new.lr, new.momentum = self.lr[rows], self.momentum[rows]
        new.velocity = [None if v is None else v[rows] for v in self.velocity]
        new._columns()
        return new


def project_max_norm(params, c):
    """``cl.max_norm`` for every run at once: each unit's incoming weights (a column of a
    weight matrix) of run m projected onto the ball of radius c[m] (inf: no constraint).
    Columns of norm > c are scaled by c / (norm + 1e-7). Shapes: c (M,)."""
    rows = np.flatnonzero(np.isfinite(c))
    if rows.size == 0:
        return
    cap = c[rows][:, None]
    for p in params:
        if p.is_weight:
            W = p.data[rows] if rows.size < len(c) else p.data
            norms = np.sqrt((W * W).sum(axis=1))                         # (rows, out)
            over = norms > cap
            if over.any():
                W *= np.where(over, cap / (norms + 1e-7), 1.0).astype(W.dtype)[:, None, :]
                if rows.size < len(c):
                    p.data[rows] = W


# ------------------------------------------------------------------------------ the training loop

@dataclass
class StackedHistory:
    """What ``fit_stacked`` recorded, run m along axis 0.

    ``loss`` (M, steps): every step's training loss (cross-entropy on the mini-batch, plus the
    penalty), NaN after the run stopped, or None without ``record_loss``. ``status`` (M,):
    "completed", "exploded" (its loss was not finite or above ``explode_factor`` times its
    first one: it stopped before that step's update, as ``cl.fit`` stops) or "stopped" (the
    evaluation hook said so). ``stop_epoch`` (M,): the epoch (from 1) in which it stopped, 0 if
    it completed; ``stop_step`` (M,): the step at which it exploded, -1 otherwise.
    ``steps_per_epoch``: the number of mini-batches per epoch.
    """

    loss: np.ndarray
    status: np.ndarray
    stop_epoch: np.ndarray
    stop_step: np.ndarray
    steps_per_epoch: int


class _Live:
    """The runs still training: which runs they are, their rows of the stacked model and of
    everything else that is per run. ``keep(rows)`` lets the others go."""

    def __init__(self, model, orders, y, loss_fn, optimizer, penalty, radius):
        self.runs, self.model, self.orders, self.y = np.arange(len(model)), model, orders, y
        self.loss_fn, self.optimizer, self.penalty, self.radius = loss_fn, optimizer, penalty, radius

    def keep(self, rows):
        self.runs = self.runs[rows]
        self.model = self.model.take(rows)
        self.orders = [g for g, k in zip(self.orders, rows) if k]
        self.y = None if self.y is None else self.y[rows]
        self.loss_fn = self.loss_fn.take(rows)
        self.optimizer = self.optimizer.take(rows, [self.model.flat])
        self.penalty = None if self.penalty is None else self.penalty.take(rows)
        self.radius = self.radius[rows]


def fit_stacked(model, X, y, *, orders, epochs, batch_size, lr, momentum=0.0, l1=0.0, l2=0.0,
                max_norm=None, label_smoothing=0.0, drop_last=False, explode_factor=3.0,
                record_loss=True, evaluate=None, evaluate_at=None):
    """Train the M runs of the StackedSequential ``model`` (in place), each as
    ``cl.fit(model_m, cl.SoftmaxCrossEntropy(label_smoothing[m]), cl.SGD(lr[m], momentum[m]),
    X, y_m, batch_size=..., rng=orders[m], regularizer=cl.ElasticNet(l1[m], l2[m]),
    max_norm=max_norm[m], explode_factor=...)`` would. Returns a StackedHistory.

    Per run (one number for all runs, or one per run): ``lr``, ``momentum``, ``l1``, ``l2``,
    ``max_norm`` (None or inf: no constraint), ``label_smoothing``. ``orders[m]``: the
    generator that shuffles run m's epochs (one permutation per epoch). ``y``: labels (N,)
    shared by every run, or (M, N), one row per run. Each step: forward (training mode),
    loss, the explosion check, backward, penalty gradient, SGD step, max-norm.
    ``drop_last``: skip an epoch's last batch when it is smaller than ``batch_size`` (what a
    BatchNorm with batches of one needs; cl.fit has no such option).
    ``explode_factor``: a run whose loss is not finite or above this times its first loss stops
    before that step's update (cl.fit raises FloatingPointError on a non-finite loss, a single
    run cannot); None: never stop a run (its numbers may then overflow to NaN).
    ``record_loss=False`` skips computing the loss values (only with explode_factor=None).
    ``evaluate(epoch, model, runs)``: called after each epoch in ``evaluate_at`` (epochs counted
    from 1; default every epoch, an int k: every k-th), with the stack of the runs still
    training in evaluation mode and ``runs``, which of the M runs its rows are. It may return a
    boolean array (one per row): those runs stop there ("stopped"). A run that stops leaves
    the stack (the others go on faster) and ``model`` gets its parameters of that moment back.
    Shapes: X (N, D); y (N,) or (M, N) integer labels.
    """
    n_runs = len(model)
    orders = list(orders)
    if len(orders) != n_runs:
        raise ValueError(f"fit_stacked: need one shuffling generator per run, got {len(orders)} "
                         f"for {n_runs} runs")
    X = np.asarray(X, dtype=model.dtype)
    y = np.asarray(y, dtype=np.int64)
    if y.shape not in ((len(X),), (n_runs, len(X))):
        raise ValueError(f"fit_stacked: y must have shape ({len(X)},) or ({n_runs}, {len(X)}), got {y.shape}")
    if explode_factor is not None and not record_loss:
        raise ValueError("fit_stacked: the explosion check watches the loss; keep record_loss=True")
    n = len(X)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"fit_stacked: batch_size must be a positive integer, got {batch_size!r}")
    starts = [s for s in range(0, n, batch_size) if not (drop_last and s + batch_size > n)]
    if not starts:
        raise ValueError(f"fit_stacked: with drop_last, {n} examples make no batch of {batch_size}")
    if isinstance(evaluate_at, (int, np.integer)):
        evaluate_at = range(int(evaluate_at), epochs + 1, int(evaluate_at))
    evaluate_at = set(range(1, epochs + 1) if evaluate_at is None else (int(e) for e in evaluate_at))

    # the max-norm radius per run: None (for all runs or for one) and inf mean no constraint
    radius = np.asarray(np.inf if max_norm is None else max_norm, dtype=np.float64)
    radius = per_run(np.where(np.isnan(radius), np.inf, radius), n_runs, "max_norm")
    if np.any(radius == 0):
        raise ValueError(f"max_norm must be > 0 (or None/inf: no constraint), got {radius.tolist()}")
    live_model = model.copy().train()
    penalty = StackedPenalty(l1, l2, n_runs)
    live = _Live(live_model, orders, y if y.ndim == 2 else None,
                 StackedSoftmaxCrossEntropy(label_smoothing, n_runs),
                 StackedSGD([live_model.flat], lr, momentum),       # every parameter at once
                 penalty if (penalty.l1 > 0).any() or (penalty.l2 > 0).any() else None, radius)
    hist = StackedHistory(np.full((n_runs, epochs * len(starts)), np.nan) if record_loss else None,
                          np.full(n_runs, "completed", dtype=object), np.zeros(n_runs, dtype=int),
                          np.full(n_runs, -1), len(starts))
    first = np.full(n_runs, np.nan)

    def leave(rows, status, epoch):
        model.put(live.runs[rows], live.model, rows)     # their state now: before any further update
        hist.status[live.runs[rows]] = status
        hist.stop_epoch[live.runs[rows]] = epoch

    step = 0
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            if live.runs.size == 0:
                break
            perms = np.stack([g.permutation(n) for g in live.orders])     # (M, N)
            for start in starts:
                idx = perms[:, start:start + batch_size]                    # (M, B)
                yb = y[idx] if live.y is None else np.take_along_axis(live.y, idx, axis=1)
                loss = live.loss_fn.forward(live.model.forward(X[idx]), yb)
                exploded = np.zeros(len(live.runs), dtype=bool)
                if record_loss:
                    if live.penalty is not None:
                        loss = loss + live.penalty.value(live.model.parameters())
                    hist.loss[live.runs, step] = loss
                    if explode_factor is not None:
                        if step == 0:
                            first[:] = loss
                        exploded = ~np.isfinite(loss) | (loss > explode_factor * first[live.runs])
                        if exploded.any():
                            leave(exploded, "exploded", epoch)
                            hist.stop_step[live.runs[exploded]] = step
                params = live.model.parameters()
                live.model.backward(live.loss_fn.backward())
                if live.penalty is not None:
                    live.penalty.add_grad(params)
                live.optimizer.step()
                if np.isfinite(live.radius).any():
                    project_max_norm(params, live.radius)
                if exploded.any():          # they were stopped before this update: drop them
                    live.keep(~exploded)
                    perms = perms[~exploded]
                    if live.runs.size == 0:
                        break
                step += 1
            if evaluate is not None and epoch in evaluate_at and live.runs.size:
                done = evaluate(epoch, live.model.eval(), live.runs)
                live.model.train()
                if done is not None and np.any(done):
                    done = np.asarray(done, dtype=bool)
                    leave(done, "stopped", epoch)
                    live.keep(~done)
    model.put(live.runs, live.model)
    return hist


# ------------------------------------------------------------------------------ evaluation hooks

def _labels(y, logits):
    return np.broadcast_to(np.asarray(y), logits.shape[:2])


def nll(logits, y):
    """Mean cross-entropy of the labels per run, from the softmax of the logits in float64
    (unsmoothed, as ``cl.evaluate`` reports it). Shapes: logits (M, N, K), y (N,) or (M, N)
    -> (M,)."""
    logp = log_softmax(np.asarray(logits, dtype=np.float64))
    return -np.take_along_axis(logp, _labels(y, logp)[..., None], axis=2)[..., 0].mean(axis=1)


def accuracy(logits, y):
    """Share of the examples whose largest logit is their label's, per run.
    Shapes: logits (M, N, K), y (N,) or (M, N) -> (M,)."""
    return (logits.argmax(axis=2) == _labels(y, logits)).mean(axis=1)


class BestEpochs:
    """Early-stopping bookkeeping: for every run, what ``cl.EarlyStopping(patience)`` would
    decide from its validation losses, without stopping any run.

    Call ``update(epoch, val_loss, model, runs)`` from an evaluation hook (the arguments it got,
    and val_loss (len(runs),)); it returns which rows improved. ``best_loss`` (M,): the lowest
    validation loss so far; ``best_epoch`` (M,): the epoch it was measured at (0: none yet);
    ``stop_epoch`` (M,): the epoch after which EarlyStopping would have stopped the run (no
    improvement for ``patience`` evaluations; 0: not (yet); None patience: never); later epochs
    no longer count. ``best``: a StackedSequential holding every run's parameters and buffers of
    its best epoch (before the first improvement: those of ``model`` when it was created), in
    evaluation mode.
    """

    def __init__(self, model, patience=None):
        self.best, self.patience = model.copy().eval(), patience
        self.best_loss = np.full(len(model), np.inf)
        self.best_epoch = np.zeros(len(model), dtype=int)
        self.stop_epoch = np.zeros(len(model), dtype=int)
        self.wait = np.zeros(len(model), dtype=int)

    def update(self, epoch, val_loss, model, runs):
        watching = self.stop_epoch[runs] == 0
        improved = watching & (val_loss < self.best_loss[runs])
        rows = runs[improved]
        self.best_loss[rows], self.best_epoch[rows], self.wait[rows] = val_loss[improved], epoch, 0
        if rows.size:
            self.best.put(rows, model, improved)
        worse = runs[watching & ~improved]
        self.wait[worse] += 1
        if self.patience is not None:
            self.stop_epoch[worse[self.wait[worse] >= self.patience]] = epoch
        return improved
