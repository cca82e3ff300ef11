"""Numerically stable element-wise functions shared by layers and losses.

Introduced in notebooks/00_foundations.ipynb (stable softmax) and 01_activations.ipynb.
"""
import numpy as np


def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)), computed without overflow for any x.

    exp is only ever taken of -|x| <= 0, so it lies in (0, 1].
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_softmax(z, axis=-1):
    """log softmax(z) = z - logsumexp(z); subtracting the max keeps exp in (0, 1].

    Shapes: z (N, K) -> (N, K).
    """
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z). Shapes: (N, K) -> (N, K)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(y, num_classes):
    """Integer labels (N,) -> one-hot rows (N, num_classes)."""
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out
