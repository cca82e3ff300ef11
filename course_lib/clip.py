"""Gradient clipping and the max-norm weight constraint.

Introduced in notebooks/06_optimizers.ipynb (clipping) and 07_regularization.ipynb (max-norm).
"""
import numpy as np

from .module import Module, Parameter


def _params(params, owner):
    if isinstance(params, Module):
        return params.parameters()
    if isinstance(params, Parameter):
        return [params]
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner} expects Parameters, got {type(p).__name__} at position {i}")
    return params


def clip_grad_norm(params, max_norm):
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    total = sqrt(sum over parameters of ||grad||**2); if total > max_norm:
    grad *= max_norm / (total + 1e-6).  Returns total (before clipping), as
    ``torch.nn.utils.clip_grad_norm_`` does. The direction of the step is unchanged.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm!r}")
    params = _params(params, "clip_grad_norm")
    total = float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in params)))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad *= coef
    return total


def clip_grad_value(params, clip_value):
    """Clip every gradient element into [-clip_value, clip_value] (changes the direction)."""
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value: clip_value must be > 0, got {clip_value!r}")
    for p in _params(params, "clip_grad_value"):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def max_norm(params_or_W, c):
    """Project each unit's incoming weight vector onto the ball ||w||_2 <= c, in place.

    With W of shape (fan_in, fan_out) a unit's incoming weights are a column; columns with
    norm > c are scaled by c / (norm + 1e-7) (as torch.renorm). Biases (1-D) are left alone.
    Accepts an array, a Parameter, a list of Parameters or a Module. Returns the number of
    columns that were rescaled.
    """
    if not c > 0:
        raise ValueError(f"max_norm: c must be > 0, got {c!r}")
    if isinstance(params_or_W, np.ndarray):
        arrays = [params_or_W]
    else:
        arrays = [p.data for p in _params(params_or_W, "max_norm") if p.is_weight]
    clipped = 0
    for W in arrays:
        if W.ndim < 2:
            continue
        cols = W.reshape(W.shape[0], -1)      # Maxout's (in, out, pieces) -> one column per piece
        norms = np.sqrt((cols * cols).sum(axis=0))
        over = norms > c
        if over.any():
            cols[:, over] *= c / (norms[over] + 1e-7)
            clipped += int(over.sum())
    return clipped
