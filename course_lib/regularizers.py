"""Weight penalties: L2, L1 and elastic net. Added to the loss, with their gradients added to
``Parameter.grad``. By default only weights (arrays with 2 or more axes) are penalized, not
biases, BatchNorm's gamma/beta or PReLU's slopes.
Introduced in notebooks/07_regularization.ipynb.
"""
import numpy as np

from .module import Module


def _weights(params, include_biases):
    if isinstance(params, Module):
        params = params.parameters()
    return [p for p in params if include_biases or p.is_weight]


class Penalty:
    """Base class: ``value(params)`` is the number added to the loss; ``add_grad(params)``
    adds its gradient into each ``p.grad``."""

    include_biases = False

    def value(self, params):
        return float(sum(self._value(p.data) for p in _weights(params, self.include_biases)))

    def add_grad(self, params):
        for p in _weights(params, self.include_biases):
            p.grad += self._grad(p.data)

    def __call__(self, params):
        return self.value(params)


class L2(Penalty):
    """L2 penalty (lam / 2) * sum w**2, gradient lam * w — weight decay for plain SGD.

    MAP view: a Gaussian prior w ~ N(0, 1/lam) on each weight.
    """

    def __init__(self, lam, include_biases=False):
        if lam < 0:
            raise ValueError(f"L2: lam must be >= 0, got {lam!r}")
        self.lam, self.include_biases = float(lam), include_biases

    def _value(self, w):
        return 0.5 * self.lam * np.sum(w * w)

    def _grad(self, w):
        return self.lam * w

    def __repr__(self):
        return f"L2(lam={self.lam:g})"


class L1(Penalty):
    """L1 penalty lam * sum |w|, subgradient lam * sign(w) (0 at w = 0): drives weights to zero.

    MAP view: a Laplace prior on each weight.
    """

    def __init__(self, lam, include_biases=False):
        if lam < 0:
            raise ValueError(f"L1: lam must be >= 0, got {lam!r}")
        self.lam, self.include_biases = float(lam), include_biases

    def _value(self, w):
        return self.lam * np.sum(np.abs(w))

    def _grad(self, w):
        return self.lam * np.sign(w)

    def __repr__(self):
        return f"L1(lam={self.lam:g})"


class ElasticNet(Penalty):
    """Elastic net: l1 * sum |w| + (l2 / 2) * sum w**2."""

    def __init__(self, l1, l2, include_biases=False):
        self.parts = (L1(l1), L2(l2))
        self.include_biases = include_biases

    def _value(self, w):
        return sum(part._value(w) for part in self.parts)

    def _grad(self, w):
        return sum(part._grad(w) for part in self.parts)

    def __repr__(self):
        return f"ElasticNet(l1={self.parts[0].lam:g}, l2={self.parts[1].lam:g})"
