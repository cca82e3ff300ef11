"""Weight initializers. Each returns an array of shape (fan_in, fan_out).

Our weights are (fan_in, fan_out) because a layer computes ``x @ W`` on a batch-first ``x``;
PyTorch stores the transpose (out, in), so its ``fan_in`` is its second axis and ours the first.
The formulas and ``gain`` follow ``torch.nn.init`` exactly. Biases start at 0 unless the
initializer declares a ``bias`` rule (``torch_default``, PyTorch's nn.Linear default, does).
``lsuv`` is the data-driven alternative: orthonormal weights rescaled on a batch.
Introduced in notebooks/02_initialization.ipynb.
"""
import math

import numpy as np

from .rng import get_rng

# calculate_gain in torch.nn.init: the factor that keeps the output variance of a
# layer + non-linearity equal to its input variance.
_GAINS = {
    "linear": lambda param: 1.0,
    "identity": lambda param: 1.0,
    "sigmoid": lambda param: 1.0,
    "tanh": lambda param: 5.0 / 3.0,
    "relu": lambda param: math.sqrt(2.0),
    "leaky_relu": lambda param: math.sqrt(2.0 / (1.0 + (0.01 if param is None else param) ** 2)),
    "selu": lambda param: 3.0 / 4.0,
}


def gain(nonlinearity, param=None):
    """Recommended gain for a non-linearity, as ``torch.nn.init.calculate_gain``.

    linear/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope**2)), selu 3/4.
    Note the sigmoid gain is 1 by PyTorch's convention; the usual advice (Bengio 2012 and the
    Theano tutorial, both citing Glorot & Bengio 2010) is about 4x the tanh scale for the
    logistic sigmoid, because sigmoid'(0) = 1/4: that fixes the backward pass only, and tanh's
    5/3 is a forward-pass choice (notebook 02 measures both directions).
    """
    if nonlinearity not in _GAINS:
        raise ValueError(f"gain: unknown nonlinearity {nonlinearity!r}; expected one of "
                         f"{sorted(_GAINS)}")
    if param is not None and nonlinearity != "leaky_relu":
        raise ValueError(f"gain: param is only used for 'leaky_relu', got param={param!r} "
                         f"for {nonlinearity!r}")
    return _GAINS[nonlinearity](param)


def _check_fans(fan_in, fan_out):
    for name, v in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"init: {name} must be a positive integer, got {v!r}")


def zeros(fan_in, fan_out, rng=None):
    """All zeros. Fine for biases; for weights it keeps every unit identical (notebook 02)."""
    _check_fans(fan_in, fan_out)
    return np.zeros((fan_in, fan_out))


def normal(fan_in, fan_out, rng=None, std=1.0, mean=0.0):
    """W ~ N(mean, std**2)."""
    _check_fans(fan_in, fan_out)
    return mean + std * get_rng(rng).standard_normal((fan_in, fan_out))


def uniform(fan_in, fan_out, rng=None, a=1.0):
    """W ~ U[-a, a]; its variance is a**2 / 3."""
    _check_fans(fan_in, fan_out)
    return get_rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng=None, gain=1.0):
    """Glorot & Bengio (2010): std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal(fan_in, fan_out, rng, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform(fan_in, fan_out, rng=None, gain=1.0):
    """Glorot & Bengio (2010): U[-r, r] with r = gain * sqrt(6 / (fan_in + fan_out))."""
    return uniform(fan_in, fan_out, rng, a=gain * math.sqrt(6.0 / (fan_in + fan_out)))


def _fan(fan_in, fan_out, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def he_normal(fan_in, fan_out, rng=None, gain=math.sqrt(2.0), mode="fan_in"):
    """He et al. (2015): std = gain / sqrt(fan), gain sqrt(2) for ReLU (= kaiming_normal_)."""
    _check_fans(fan_in, fan_out)
    return normal(fan_in, fan_out, rng, std=gain / math.sqrt(_fan(fan_in, fan_out, mode)))


def he_uniform(fan_in, fan_out, rng=None, gain=math.sqrt(2.0), mode="fan_in"):
    """He et al. (2015), uniform: r = gain * sqrt(3 / fan) (= kaiming_uniform_)."""
    _check_fans(fan_in, fan_out)
    return uniform(fan_in, fan_out, rng, a=gain * math.sqrt(3.0 / _fan(fan_in, fan_out, mode)))


def lecun_normal(fan_in, fan_out, rng=None, gain=1.0):
    """LeCun (1998): std = gain / sqrt(fan_in); keeps the variance for linear/SELU units."""
    _check_fans(fan_in, fan_out)
    return normal(fan_in, fan_out, rng, std=gain / math.sqrt(fan_in))


def _orthonormalize(A):
    """torch.nn.init.orthogonal_'s recipe on a (rows, cols) matrix A, in PyTorch's layout.

    Work on the tall orientation (transpose when rows < cols), take the QR factorization,
    and multiply each column of Q by the sign of R's diagonal entry: without that correction
    Q depends on the sign conventions of the QR routine and is not uniformly (Haar)
    distributed (Mezzadri 2007). Returns the (rows, cols) matrix with orthonormal rows or
    columns, whichever are fewer.
    """
    rows, cols = A.shape
    tall = A.T if rows < cols else A
    q, r = np.linalg.qr(tall)
    q = q * np.sign(np.diag(r))
    return q.T if rows < cols else q


def orthogonal(fan_in, fan_out, rng=None, gain=1.0):
    """Saxe et al. (2014): a (semi-)orthogonal matrix times ``gain`` (= torch orthogonal_).

    W = gain * Q, Q from the sign-corrected QR of a standard normal matrix, drawn in PyTorch's
    (fan_out, fan_in) layout and transposed into ours. If fan_in >= fan_out the columns of W
    are orthonormal (W.T @ W = gain**2 I); otherwise its rows are (W @ W.T = gain**2 I).
    With fan_in <= fan_out, ||x @ W|| = gain * ||x|| for every x: the map keeps lengths.
    Shapes: returns (fan_in, fan_out). The start of LSUV (``lsuv``, notebook 02).
    """
    _check_fans(fan_in, fan_out)
    return gain * _orthonormalize(get_rng(rng).standard_normal((fan_out, fan_in))).T


def torch_default(fan_in, fan_out, rng=None):
    """PyTorch's own ``nn.Linear`` default: W ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)], and the
    bias too (see ``torch_default.bias``).

    PyTorch writes it as kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)) = sqrt(1/3),
    bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in); so std = 1 / sqrt(3 fan_in), a factor
    sqrt(6) ~ 2.45 below He's sqrt(2 / fan_in). Through a ReLU layer the weights then carry
    1/6 of the input's second moment instead of all of it (He): the signal from the input
    shrinks by 6 per layer, and the random biases take its place (notebook 02).
    Shapes: returns (fan_in, fan_out).
    """
    return he_uniform(fan_in, fan_out, rng, gain=gain("leaky_relu", math.sqrt(5.0)))


def _torch_default_bias(fan_in, fan_out, rng=None):
    """PyTorch's nn.Linear bias: b ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)], drawn after W."""
    bound = 1.0 / math.sqrt(fan_in)
    return get_rng(rng).uniform(-bound, bound, size=fan_out)


# An initializer may say how it initializes the bias: a ``bias`` attribute, a function
# (fan_in, fan_out, rng) -> array (fan_out,). Without one the bias starts at 0 (make_bias).
torch_default.bias = _torch_default_bias


INITIALIZERS = {
    "zeros": zeros,
    "normal": normal,
    "uniform": uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_normal": lecun_normal,
    "orthogonal": orthogonal,
    "torch_default": torch_default,
}


def make_weights(init, fan_in, fan_out, rng=None):
    """Resolve a layer's ``init`` argument: a name from INITIALIZERS or a callable
    ``init(fan_in, fan_out, rng) -> array``."""
    W = np.asarray(_resolve(init)(fan_in, fan_out, rng), dtype=np.float64)
    if W.shape != (fan_in, fan_out):
        what = "init callable" if callable(init) else f"init {init!r}"
        raise ValueError(f"{what} returned shape {W.shape}, expected ({fan_in}, {fan_out})")
    return W


def _resolve(init):
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITIALIZERS)} "
                         f"or a callable (fan_in, fan_out, rng) -> array")
    return INITIALIZERS[init]


def make_bias(init, fan_in, fan_out, rng=None):
    """A layer's initial bias for its ``init`` argument: the initializer's ``bias`` function if
    it declares one (only ``torch_default`` does), else zeros. Shapes: returns (fan_out,)."""
    draw = getattr(_resolve(init), "bias", None)
    if draw is None:
        return np.zeros(fan_out)
    b = np.asarray(draw(fan_in, fan_out, rng), dtype=np.float64)
    if b.shape != (fan_out,):
        raise ValueError(f"init bias function returned shape {b.shape}, expected ({fan_out},)")
    return b


class LSUVResult:
    """What ``lsuv`` did, one entry per Linear layer (keyed by its index in the model).

    ``scales[i]``: the factor the orthonormal weights were multiplied by in total;
    ``iterations[i]``: how many rescalings it took; ``variances[i]``: the variance of the
    measured output on the batch at the end; ``converged[i]``: |variance - 1| < tol.
    """

    def __init__(self, tol):
        self.tol = tol
        self.scales, self.iterations, self.variances, self.converged = {}, {}, {}, {}

    @property
    def layers(self):
        return list(self.scales)

    def __repr__(self):
        lines = [f"LSUV (tol {self.tol:g}): {len(self.scales)} layers",
                 f"  {'layer':>5} {'scale':>10} {'iterations':>11} {'variance':>10}"]
        for i in self.scales:
            flag = "" if self.converged[i] else "  not converged"
            lines.append(f"  {i:>5} {self.scales[i]:10.4f} {self.iterations[i]:11d} "
                         f"{self.variances[i]:10.4f}{flag}")
        return "\n".join(lines)


def _output_var(linear, after, h):
    """Variance over all entries of linear(h), or of after(linear(h)) when after is given."""
    out = linear.forward(h)
    return float(np.var(out if after is None else after.forward(out)))


def lsuv(model, X, tol=0.1, max_iter=10, measure="linear", orthogonal_start=True, rng=None):
    """Layer-sequential unit-variance init (Mishkin & Matas 2016, "All you need is a good init").

    1. (``orthogonal_start``) every Linear gets W = orthogonal(fan_in, fan_out, rng), b = 0;
    2. then, layer by layer from the input: while |Var(B) - 1| >= tol and fewer than
       ``max_iter`` rescalings, W <- W / sqrt(Var(B)), where B is the layer's output on the
       batch X and Var the variance over all its entries (the paper's Algorithm 1).
    ``measure="linear"`` takes B = the Linear layer's own output x @ W + b, the
    pre-activation (the paper's "output blob" of a fully connected layer); ``"activation"``
    takes the output of the element-wise layer right after it instead (LSUV-keras measures a
    Dense layer's output, which includes its activation). With "linear" and b = 0 one
    rescaling gives Var = 1 up to rounding, because the layer's input no longer changes once
    the layers before it are done. "activation" suits ReLU-like units; a tanh output
    can never reach variance 1 (|tanh| < 1), so there the loop stops at ``max_iter`` with
    the units pushed into saturation (``converged`` says so).
    The forward passes run in eval mode (no dropout noise, no BatchNorm running-statistics
    update); the model's train/eval mode is restored afterwards. Only Linear layers are
    initialized (Maxout, BatchNorm, PReLU keep their parameters). Deterministic given rng.
    Shapes: X (N, in_features) — a batch of real training inputs, N of a few hundred.
    Returns an LSUVResult (scales, iterations, variances per layer index).
    Introduced in notebooks/02_initialization.ipynb.
    """
    # imported here because layers.py imports this module
    from .activations import Activation, PReLU
    from .layers import Linear
    from .module import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"lsuv expects a Sequential model, got {type(model).__name__}")
    if measure not in ("linear", "activation"):
        raise ValueError(f"lsuv: measure must be 'linear' (pre-activation) or 'activation', "
                         f"got {measure!r}")
    if not tol > 0:
        raise ValueError(f"lsuv: tol must be > 0, got {tol!r}")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"lsuv: max_iter must be a positive integer, got {max_iter!r}")
    layers = model.layers
    if not any(isinstance(layer, Linear) for layer in layers):
        raise ValueError(f"lsuv: the model has no Linear layer to initialize: {model!r}")
    X = np.asarray(X, dtype=np.float64)
    rng = get_rng(rng)
    result = LSUVResult(tol)
    was_training = model.training
    model.eval()
    try:
        if orthogonal_start:
            for layer in layers:
                if isinstance(layer, Linear):
                    layer.W.data[...] = orthogonal(layer.in_features, layer.out_features, rng)
                    if layer.b is not None:
                        layer.b.data[...] = 0.0
        h = X
        for i, layer in enumerate(layers):
            if not isinstance(layer, Linear):
                h = layer.forward(h)
                continue
            after = layers[i + 1] if i + 1 < len(layers) else None
            if measure == "linear" or not isinstance(after, (Activation, PReLU)):
                after = None              # measure the Linear output itself
            var, scale, it = _output_var(layer, after, h), 1.0, 0
            while abs(var - 1.0) >= tol and it < max_iter:
                if not np.isfinite(var) or var == 0.0:
                    raise ValueError(f"lsuv: the output of layer {i} ({layer!r}) has variance "
                                     f"{var} on the batch; it cannot be rescaled to 1 (are the "
                                     f"inputs constant, or the units before it all dead?)")
                factor = 1.0 / math.sqrt(var)
                layer.W.data *= factor
                scale *= factor
                it += 1
                var = _output_var(layer, after, h)
            result.scales[i], result.iterations[i] = scale, it
            result.variances[i], result.converged[i] = var, abs(var - 1.0) < tol
            h = layer.forward(h)
    finally:
        model.train(was_training)
    return result
