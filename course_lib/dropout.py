"""Inverted dropout (Srivastava et al. 2014, with PyTorch's meaning of p).

Introduced in notebooks/05_dropout.ipynb.
"""
import numpy as np

from .module import Module, check_dout
from .rng import get_rng


class Dropout(Module):
    """Zero each activation with probability ``p`` (the DROP rate) and scale survivors by 1/(1 - p).

    Training:   mask = (u >= p) / (1 - p) with u ~ U[0, 1);  out = x * mask
    Evaluation: out = x (the scaling during training already keeps E[out] = x).
    Backward uses the same mask. ``p`` is the drop probability, as in PyTorch and Keras;
    the original paper's p is the KEEP probability.
    Shapes: any; out has the shape of x.
    """

    def __init__(self, p=0.5, rng=None):
        if not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p is the drop probability and must be in [0, 1], got {p!r}")
        self.p = float(p)
        # an int seed becomes one Generator here, so successive masks differ
        self.rng = None if rng is None else get_rng(rng)
        self.mask = None

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64) if not isinstance(x, np.ndarray) else x
        if not self.training or self.p == 0.0:
            self.mask = None
            self._shape = x.shape
            return x
        if self.p == 1.0:
            self.mask = np.zeros_like(x)
        else:
            self.mask = (get_rng(self.rng).random(x.shape) >= self.p) / (1.0 - self.p)
        self._shape = x.shape
        return x * self.mask

    def backward(self, dout):
        if not hasattr(self, "_shape"):
            self._need_cache("mask")
        dout = check_dout(dout, self._shape, self)
        return dout if self.mask is None else dout * self.mask

    def extra_repr(self):
        return f"p={self.p}"
