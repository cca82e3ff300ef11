"""Activation functions as layers, each with its derivative in ``backward``.

Element-wise activations accept arrays of any shape (handy for plotting a curve);
inside a network they see (N, D) batches. Each class also offers ``derivative(x)``,
the local slope f'(x), used in notebook 01's plots.
Introduced in notebooks/01_activations.ipynb.
"""
import math

import numpy as np

from .functional import sigmoid
from .module import Module, Parameter, as_input, check_dout


def _as_float(x, owner):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{owner!r} expects a numeric array, got {type(x).__name__}") from None
    return x


class Activation(Module):
    """An element-wise non-linearity: backward is dout * f'(x) with the cached input."""

    def __init__(self):
        self.x = None

    def f(self, x):
        raise NotImplementedError

    def derivative(self, x):
        """f'(x), element-wise."""
        raise NotImplementedError

    def forward(self, x):
        self.x = _as_float(x, self)
        return self.f(self.x)

    def backward(self, dout):
        self._need_cache("x")
        dout = check_dout(dout, self.x.shape, self)
        return dout * self.derivative(self.x)


class ReLU(Activation):
    """ReLU(x) = max(0, x); derivative 1 for x > 0, 0 otherwise (0 at the kink, as PyTorch).

    The backward pass needs only the sign pattern, and out > 0 exactly where x > 0, so the
    layer caches its output ``out`` and not its input: ``x`` stays None. (Caching both held
    two arrays per ReLU layer where one suffices: notebook 03 measures it.)
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = np.maximum(_as_float(x, self), 0.0)
        return self.out

    def f(self, x):
        return np.maximum(x, 0.0)

    def derivative(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, dout):
        self._need_cache("out")
        dout = check_dout(dout, self.out.shape, self)
        return dout * (self.out > 0)


class LeakyReLU(Activation):
    """LeakyReLU(x) = x for x > 0, alpha * x otherwise (alpha is PyTorch's negative_slope)."""

    def __init__(self, alpha=0.01):
        super().__init__()
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU: alpha must be in [0, 1), got {alpha!r} (alpha = 1 makes "
                             f"the layer linear, and stacked linear layers collapse into one)")
        self.alpha = float(alpha)

    def f(self, x):
        # = where(x > 0, x, alpha x) for 0 <= alpha < 1, without np.where's slow selection
        return np.maximum(x, self.alpha * x)

    def derivative(self, x):
        return np.where(x > 0, 1.0, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class PReLU(Module):
    """Parametric ReLU (He et al. 2015): LeakyReLU whose slope ``alpha`` is learned.

    out = x for x > 0, alpha * x otherwise; d out/d alpha = x where x <= 0.
    Shapes: x (N, num_features), alpha (num_features,) — or (1,) shared when num_features=1.
    """

    def __init__(self, num_features=1, init=0.25):
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"PReLU: num_features must be a positive integer, got {num_features!r}")
        self.num_features = int(num_features)
        self.alpha = Parameter(np.full(self.num_features, float(init)), name="alpha")
        self.x = None

    def forward(self, x):
        x = as_input(x, self, None if self.num_features == 1 else self.num_features)
        self.x = x
        return np.where(x > 0, x, self.alpha.data * x)

    def backward(self, dout):
        self._need_cache("x")
        dout = check_dout(dout, self.x.shape, self)
        neg = self.x <= 0
        dalpha = (dout * self.x * neg).sum(axis=0)
        self.alpha.grad += dalpha.sum(keepdims=True) if self.num_features == 1 else dalpha
        return np.where(neg, self.alpha.data * dout, dout)

    def extra_repr(self):
        return f"num_features={self.num_features}"


class ELU(Activation):
    """ELU(x) = x for x > 0, alpha * (exp(x) - 1) otherwise (Clevert et al. 2016).

    Smooth, saturates to -alpha for very negative x; derivative alpha * exp(x) there.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def f(self, x):
        # exp only of non-positive numbers: no overflow for large x; one of the two terms is
        # exactly 0 for every x, so the sum is the textbook np.where, without its slow selection
        return np.maximum(x, 0.0) + self.alpha * np.expm1(np.minimum(x, 0.0))

    def derivative(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0.0)))

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(Activation):
    """sigma(x) = 1 / (1 + exp(-x)); derivative sigma(x) (1 - sigma(x)) <= 1/4."""

    def f(self, x):
        return sigmoid(x)

    def derivative(self, x):
        s = sigmoid(x)
        return s * (1.0 - s)


class Tanh(Activation):
    """tanh(x) = 2 sigma(2x) - 1; derivative 1 - tanh(x)**2 <= 1."""

    def f(self, x):
        return np.tanh(x)

    def derivative(self, x):
        t = np.tanh(x)
        return 1.0 - t * t


_C = math.sqrt(2.0 / math.pi)


class GELU(Activation):
    """GELU, tanh approximation (= torch GELU(approximate="tanh")).

    GELU(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))).
    """

    # x * x * x, not x ** 3: NumPy's power with a float exponent is ~50x slower than two products

    def f(self, x):
        return 0.5 * x * (1.0 + np.tanh(_C * (x + 0.044715 * (x * x * x))))

    def derivative(self, x):
        x2 = x * x
        t = np.tanh(_C * (x + 0.044715 * (x2 * x)))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _C * (1.0 + 3 * 0.044715 * x2)


class SiLU(Activation):
    """SiLU / Swish: x * sigma(x); derivative sigma(x) (1 + x (1 - sigma(x)))."""

    def f(self, x):
        return x * sigmoid(x)

    def derivative(self, x):
        s = sigmoid(x)
        return s * (1.0 + x * (1.0 - s))
