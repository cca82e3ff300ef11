"""Affine layers: Linear and Maxout.

Introduced in notebooks/00_foundations.ipynb (Linear) and 01_activations.ipynb (Maxout).
"""
import numpy as np

from .init import make_bias, make_weights
from .module import Module, Parameter, as_input, check_dout
from .rng import get_rng


def _check_features(owner, **sizes):
    for name, v in sizes.items():
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")


class Linear(Module):
    """Affine map: out = x @ W + b.

    Shapes: x (N, in_features), W (in_features, out_features), b (out_features,),
    out (N, out_features). W is the transpose of PyTorch's ``Linear.weight``.
    ``init`` is a name from ``course_lib.init.INITIALIZERS`` or a callable
    ``(fan_in, fan_out, rng) -> array``; biases start at 0, except for initializers that
    declare a bias rule: ``init="torch_default"`` is PyTorch's nn.Linear default, W and b
    both U[-1/sqrt(in_features), 1/sqrt(in_features)], drawn in that order (notebook 02).
    Introduced in notebooks/00_foundations.ipynb.
    """

    def __init__(self, in_features, out_features, init="he_normal", bias=True, rng=None):
        _check_features("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = get_rng(rng)      # once: an int seed must not give W and b the same stream
        self.W = Parameter(make_weights(init, self.in_features, self.out_features, rng), name="W")
        self.b = (Parameter(make_bias(init, self.in_features, self.out_features, rng), name="b")
                  if bias else None)
        self.x = None

    def forward(self, x):
        x = as_input(x, self, self.in_features)
        self.x = x
        out = x @ self.W.data
        if self.b is not None:
            out += self.b.data
        return out

    def backward_params(self, dout):
        self._need_cache("x")
        dout = check_dout(dout, (self.x.shape[0], self.out_features), self)
        self.W.accumulate_matmul(self.x.T, dout)
        if self.b is not None:
            self.b.grad += dout.sum(axis=0)
        return dout

    def backward(self, dout):
        dout = self.backward_params(dout)
        return dout @ self.W.data.T

    def extra_repr(self):
        return f"{self.in_features}→{self.out_features}" + ("" if self.b is not None else ", bias=False")


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013): the max of ``pieces`` affine maps.

    out[:, j] = max_k (x @ W[:, j, k] + b[j, k]).
    Shapes: x (N, in_features), W (in_features, out_features, pieces),
    b (out_features, pieces), out (N, out_features).
    With pieces=2 and one piece fixed at 0 it is ReLU; it cannot saturate or die,
    at the price of ``pieces`` times the parameters of a Linear layer.
    Introduced in notebooks/01_activations.ipynb.
    """

    def __init__(self, in_features, out_features, pieces=2, init="he_normal", rng=None):
        _check_features("Maxout", in_features=in_features, out_features=out_features,
                        pieces=pieces)
        self.in_features, self.out_features, self.pieces = int(in_features), int(out_features), int(pieces)
        rng = get_rng(rng)
        W = make_weights(init, self.in_features, self.out_features * self.pieces, rng)
        self.W = Parameter(W.reshape(self.in_features, self.out_features, self.pieces), name="W")
        b = make_bias(init, self.in_features, self.out_features * self.pieces, rng)
        self.b = Parameter(b.reshape(self.out_features, self.pieces), name="b")
        self.x = self.argmax = None

    def forward(self, x):
        x = as_input(x, self, self.in_features)
        z = (x @ self.W.data.reshape(self.in_features, -1)).reshape(len(x), self.out_features, self.pieces)
        z += self.b.data
        self.x = x
        self.argmax = z.argmax(axis=2)
        return np.take_along_axis(z, self.argmax[..., None], axis=2)[..., 0]

    def backward(self, dout):
        self._need_cache("x", "argmax")
        dout = check_dout(dout, (self.x.shape[0], self.out_features), self)
        # the gradient flows only into the winning piece of each unit
        dz = np.zeros((len(dout), self.out_features, self.pieces))
        np.put_along_axis(dz, self.argmax[..., None], dout[..., None], axis=2)
        dz2 = dz.reshape(len(dout), -1)
        self.W.grad += (self.x.T @ dz2).reshape(self.W.shape)
        self.b.grad += dz.sum(axis=0)
        return dz2 @ self.W.data.reshape(self.in_features, -1).T

    def extra_repr(self):
        return f"{self.in_features}→{self.out_features}, pieces={self.pieces}"
