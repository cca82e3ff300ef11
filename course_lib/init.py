"""Weight initializers. Each returns an array of shape (fan_in, fan_out).

Our weights are (fan_in, fan_out) because a layer computes ``x @ W`` on a batch-first ``x``;
PyTorch stores the transpose (out, in), so its ``fan_in`` is its second axis and ours the first.
The formulas and ``gain`` follow ``torch.nn.init`` exactly.
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
    Note the sigmoid gain is 1 by PyTorch's convention; Glorot & Bengio's analysis suggests
    about 4x the tanh scale for the logistic sigmoid because sigmoid'(0) = 1/4 (notebook 02).
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


INITIALIZERS = {
    "zeros": zeros,
    "normal": normal,
    "uniform": uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_normal": lecun_normal,
}


def make_weights(init, fan_in, fan_out, rng=None):
    """Resolve a layer's ``init`` argument: a name from INITIALIZERS or a callable
    ``init(fan_in, fan_out, rng) -> array``."""
    if callable(init):
        W = np.asarray(init(fan_in, fan_out, rng), dtype=np.float64)
        if W.shape != (fan_in, fan_out):
            raise ValueError(f"init callable returned shape {W.shape}, expected "
                             f"({fan_in}, {fan_out})")
        return W
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITIALIZERS)} "
                         f"or a callable (fan_in, fan_out, rng) -> array")
    return INITIALIZERS[init](fan_in, fan_out, rng)
