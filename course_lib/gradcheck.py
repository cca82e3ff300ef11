"""Gradient checking: compare a backward pass with centred finite differences.

Rule of thumb for the relative error in float64: < 1e-7 good; 1e-7 .. 1e-4 suspicious
(a kink such as ReLU at 0 can cause it); > 1e-4 the backward pass is wrong.
Introduced in notebooks/03_backpropagation.ipynb.
"""
import numpy as np

from .losses import Loss
from .module import Module
from .rng import get_rng


def rel_error(a, b, tiny=1e-12):
    """max over elements of |a - b| / max(|a| + |b|, tiny)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centred differences (f(x + h) - f(x - h)) / 2h for every element of ``x``.

    ``f()`` takes no argument and reads ``x``, which is perturbed IN PLACE and restored.
    If f returns an array, pass ``dout`` (its upstream gradient) and the gradient of
    sum(f() * dout) is returned — a vector-Jacobian product, never the Jacobian itself.
    Shapes: returns an array shaped like x.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("numerical_gradient: x must be a float64 ndarray that f reads; "
                        f"got {type(x).__name__} {getattr(x, 'dtype', '')} (float32 rounding "
                        "swamps the h = 1e-5 differences)")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.array(f(), dtype=np.float64)      # a copy: f may return x itself
        x[i] = old - h
        minus = np.array(f(), dtype=np.float64)
        x[i] = old
        diff = plus - minus
        grad[i] = (np.sum(diff * dout) if dout is not None else float(diff)) / (2 * h)
    return grad


def _array_error(analytic, numeric, zero=1e-8):
    """Relative error, except for a gradient that is zero everywhere (a bias just before
    BatchNorm, say): there the relative error is noise over noise, so report the absolute
    difference instead."""
    if max(np.abs(analytic).max(initial=0.0), np.abs(numeric).max(initial=0.0)) < zero:
        return float(np.abs(analytic - numeric).max(initial=0.0))
    return rel_error(analytic, numeric)


class GradcheckResult:
    """Relative error per checked array (input and each parameter)."""

    def __init__(self, name, errors, tol):
        self.name, self.errors, self.tol = name, errors, tol

    @property
    def max_error(self):
        return max(self.errors.values()) if self.errors else 0.0

    @property
    def ok(self):
        return self.max_error < self.tol

    def __bool__(self):
        return self.ok

    def __repr__(self):
        rows = [f"  {key:<12} {err:.2e}  {'ok' if err < self.tol else 'FAILED'}"
                for key, err in self.errors.items()]
        head = f"gradcheck {self.name}: {'passed' if self.ok else 'FAILED'} (tol {self.tol:g})"
        return "\n".join([head] + rows)


def _generators(obj):
    """Every Generator a forward pass may draw from: the default and any a module owns."""
    gens = [get_rng()]
    if isinstance(obj, Module):
        for m in obj.modules():
            r = getattr(m, "rng", None)
            if isinstance(r, np.random.Generator):
                gens.append(r)
    return gens


def gradcheck(obj, x, target=None, dout=None, h=1e-5, tol=1e-7, rng=None):
    """Check a layer's (or a loss's) backward pass against numerical gradients in one call.

    For a layer: f(x) = sum(layer.forward(x) * dout), dout random (seeded) if not given; the
    input gradient and every parameter gradient are checked. For a loss: f(x) = loss(x, target).
    Random layers (Dropout) replay the same mask at each evaluation: the generators are
    rewound before every forward pass. Returns a GradcheckResult (truthy when all pass).
    """
    x = np.array(x, dtype=np.float64)
    gens = _generators(obj)
    states = [g.bit_generator.state for g in gens]

    def rewind():
        for g, s in zip(gens, states):
            g.bit_generator.state = s

    if isinstance(obj, Loss):
        if target is None:
            raise ValueError("gradcheck of a loss needs target=")
        obj.forward(x, target)
        errors = {"input": _array_error(obj.backward(), numerical_gradient(lambda: obj.forward(x, target), x, h=h))}
        return GradcheckResult(repr(obj), errors, tol)
    if not isinstance(obj, Module):
        raise TypeError(f"gradcheck expects a Module or a Loss, got {type(obj).__name__}")

    rewind()
    out = obj.forward(x)
    if dout is None:
        dout = get_rng(rng if rng is not None else 0).standard_normal(out.shape)
    obj.zero_grad()
    dx = obj.backward(dout)
    analytic = {"input": dx}
    analytic.update({name: p.grad.copy() for name, p in obj.named_parameters()})

    def f():
        rewind()
        return obj.forward(x)

    errors = {"input": _array_error(dx, numerical_gradient(f, x, dout, h))}
    for name, p in obj.named_parameters():
        errors[name] = _array_error(analytic[name], numerical_gradient(f, p.data, dout, h))
    rewind()
    return GradcheckResult(repr(obj).split("\n")[0], errors, tol)
