"""Losses: mean over the batch; ``forward`` returns a float, ``backward()`` returns dL/d(input).

All three match PyTorch's functions with reduction="mean" and are stable for logits of ±1000.
Introduced in notebooks/00_foundations.ipynb.
"""
import numpy as np

from .functional import log_softmax, sigmoid


def _array(x, owner, what):
    try:
        x = np.asarray(x)
    except (TypeError, ValueError):
        raise TypeError(f"{owner!r} expects {what} as a numeric array, got {type(x).__name__}") from None
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{owner!r} expects {what} as a numeric array, got dtype {x.dtype}")
    return x


class Loss:
    """Base class: a loss caches what ``backward`` needs in ``forward``."""

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def _need_cache(self):
        if getattr(self, "_grad", None) is None:
            raise RuntimeError(f"{self!r}.backward was called before forward: compute the loss "
                               f"first, loss.forward(pred, target)")

    def backward(self):
        """d(mean loss)/d(pred), same shape as pred."""
        self._need_cache()
        return self._grad

    def __repr__(self):
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by the negative log-likelihood of the target, averaged over the batch.

    L = -(1/N) sum_i sum_k t_ik log softmax(z_i)_k, with t = one-hot(y) for integer labels
    (or a given distribution of shape (N, K)), smoothed as t = (1 - a) t + a / K when
    label_smoothing = a. dL/dz = (softmax(z) - t) / N.  (= torch.nn.functional.cross_entropy)
    Shapes: logits z (N, K); target y (N,) integers in [0, K) or (N, K) probabilities.
    """

    def __init__(self, label_smoothing=0.0):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"SoftmaxCrossEntropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self._grad = None

    def forward(self, logits, y):
        z = _array(logits, self, "logits")
        if z.ndim != 2:
            raise ValueError(f"{self!r} expects logits of shape (N, K), got {z.shape}")
        n, k = z.shape
        y = _array(y, self, "targets")
        if y.ndim == 1:
            if y.shape[0] != n:
                raise ValueError(f"{self!r}: got {n} rows of logits but {y.shape[0]} labels")
            if y.dtype.kind not in "iu" and not np.all(np.mod(y, 1) == 0):
                raise TypeError(f"{self!r} expects integer class labels of shape (N,), got dtype "
                                f"{y.dtype}; for probabilities pass an (N, K) array")
            y = y.astype(np.int64)
            if y.size and (y.min() < 0 or y.max() >= k):
                raise ValueError(f"{self!r}: labels must lie in [0, {k}) for {k} classes, got "
                                 f"values from {y.min()} to {y.max()}")
            t = np.zeros((n, k))
            t[np.arange(n), y] = 1.0
        elif y.shape == z.shape:
            t = y.astype(np.float64)
        else:
            raise ValueError(f"{self!r} expects targets of shape ({n},) (labels) or {z.shape} "
                             f"(probabilities), got {y.shape}")
        if self.label_smoothing:
            t = (1.0 - self.label_smoothing) * t + self.label_smoothing / k
        logp = log_softmax(z.astype(np.float64, copy=False))
        self._grad = (np.exp(logp) - t) / n
        return float(-(t * logp).sum() / n)

    def __repr__(self):
        return f"SoftmaxCrossEntropy(label_smoothing={self.label_smoothing})"


class MSELoss(Loss):
    """Mean squared error over all elements: L = mean((pred - y)**2); dL/dpred = 2 (pred - y) / numel.

    Shapes: pred and y of the same shape, e.g. (N, 1) and (N, 1). Unlike PyTorch we refuse
    (N, 1) against (N,) instead of silently broadcasting it to (N, N).
    """

    def forward(self, pred, y):
        pred = _array(pred, self, "predictions").astype(np.float64, copy=False)
        y = _array(y, self, "targets").astype(np.float64, copy=False)
        if pred.shape != y.shape:
            hint = " — use y.reshape(-1, 1)" if pred.ndim == 2 and y.shape == pred.shape[:1] else ""
            raise ValueError(f"{self!r} expects targets of the prediction's shape {pred.shape}, "
                             f"got {y.shape}{hint}")
        diff = pred - y
        self._grad = 2.0 * diff / diff.size
        return float(np.mean(diff ** 2))


class BCEWithLogits(Loss):
    """Sigmoid + binary cross-entropy in one stable step, averaged over all elements.

    L = mean(max(z, 0) - z * y + log(1 + exp(-|z|)));  dL/dz = (sigma(z) - y) / numel.
    (= torch.nn.functional.binary_cross_entropy_with_logits)
    Shapes: logits z and targets y in [0, 1] of the same shape, e.g. (N, 1).
    """

    def forward(self, logits, y):
        z = _array(logits, self, "logits").astype(np.float64, copy=False)
        y = _array(y, self, "targets").astype(np.float64, copy=False)
        if z.shape != y.shape:
            hint = " — use y.reshape(-1, 1)" if z.ndim == 2 and y.shape == z.shape[:1] else ""
            raise ValueError(f"{self!r} expects targets of the logits' shape {z.shape}, "
                             f"got {y.shape}{hint}")
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{self!r}: targets must be probabilities in [0, 1], got values "
                             f"from {y.min()} to {y.max()}")
        loss = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
        self._grad = (sigmoid(z) - y) / z.size
        return float(loss.mean())
