"""Batch normalization (Ioffe & Szegedy 2015), with PyTorch's running-statistics convention,
and layer normalization (Ba, Kiros & Hinton 2016), which does not depend on the batch.

Introduced in notebooks/04_batch_normalization.ipynb.
"""
import numpy as np

from .module import Module, Parameter, as_input, check_dout


class BatchNorm1d(Module):
    """Normalize each feature over the mini-batch, then scale and shift.

    Training:  mu, var = batch mean and biased batch variance (per feature)
               x_hat = (x - mu) / sqrt(var + eps);  out = gamma * x_hat + beta
               running_mean = (1 - momentum) * running_mean + momentum * mu
               running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)
    Evaluation: the same transform with running_mean and running_var — never the test batch.
    As in PyTorch, the running variance is fed the UNBIASED batch variance while the
    normalization uses the biased one; ``momentum=None`` gives a cumulative average.
    Shapes: x (N, num_features) -> (N, num_features); gamma, beta (num_features,).
    running_mean, running_var and num_batches_tracked are buffers, not parameters.
    """

    _buffers = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"BatchNorm1d: num_features must be a positive integer, got {num_features!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.gamma = Parameter(np.ones(num_features), name="gamma")
        self.beta = Parameter(np.zeros(num_features), name="beta")
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self.x_hat = self.inv_std = None
        self._cache_training = None

    def forward(self, x):
        x = as_input(x, self, self.num_features)
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(f"{self!r} in training mode needs more than 1 example per batch "
                                 f"to estimate a variance, got input of shape {x.shape}; call "
                                 f".eval() to use the running statistics")
            mu = x.mean(axis=0)
            var = x.var(axis=0)
            self.num_batches_tracked += 1
            m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mu
            self.running_var *= 1.0 - m
            self.running_var += m * var * (n / (n - 1))
        else:
            mu, var = self.running_mean, self.running_var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = (x - mu) * self.inv_std
        self._cache_training = self.training
        return self.gamma.data * self.x_hat + self.beta.data

    def backward(self, dout):
        self._need_cache("x_hat")
        dout = check_dout(dout, self.x_hat.shape, self)
        self.gamma.grad += (dout * self.x_hat).sum(axis=0)
        self.beta.grad += dout.sum(axis=0)
        dx_hat = dout * self.gamma.data
        if not self._cache_training:
            # eval mode: mu and var are constants, so the map is affine per feature
            return dx_hat * self.inv_std
        # training mode: mu and var depend on every example; the compact formula
        # dx = inv_std / N * (N dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))
        n = dout.shape[0]
        return (self.inv_std / n) * (n * dx_hat - dx_hat.sum(axis=0)
                                     - self.x_hat * (dx_hat * self.x_hat).sum(axis=0))

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    """Normalize each example over its features, then scale and shift (Ba, Kiros & Hinton 2016).

    mu, var = mean and biased variance of each ROW of x (over its D features)
    x_hat = (x - mu) / sqrt(var + eps);  out = gamma * x_hat + beta
    The statistics are per example, so the output of one example never depends on the rest
    of the batch, a batch of one works, and training and evaluation compute the same thing
    (no running statistics). ``gamma`` and ``beta`` (D,) are named as in BatchNorm1d; PyTorch
    calls them ``weight`` and ``bias``. ``elementwise_affine=False``: no gamma and beta.
    Backward, with dx_hat = dout * gamma (sums over the feature axis, per row):
        dx = inv_std / D * (D dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))
    (BatchNorm's compact formula with the roles of the two axes swapped.)
    Shapes: x (N, D) -> (N, D), D = normalized_shape (an int or a 1-tuple (D,)).
    Introduced in notebooks/04_batch_normalization.ipynb.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        try:
            shape = tuple(shape)
        except TypeError:
            shape = None
        if (shape is None or len(shape) != 1 or not isinstance(shape[0], (int, np.integer))
                or shape[0] < 1):
            raise ValueError(f"LayerNorm: normalized_shape must be the number of features D (an "
                             f"int) or (D,), got {normalized_shape!r}; this LayerNorm normalizes "
                             f"the feature axis of (N, D) inputs only")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be > 0, got {eps!r}")
        self.normalized_shape = (int(shape[0]),)
        self.num_features = int(shape[0])
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        if self.elementwise_affine:
            self.gamma = Parameter(np.ones(self.num_features), name="gamma")
            self.beta = Parameter(np.zeros(self.num_features), name="beta")
        else:
            self.gamma = self.beta = None
        self.x_hat = self.inv_std = None

    def forward(self, x):
        x = as_input(x, self, self.num_features)
        mu = x.mean(axis=1, keepdims=True)
        var = x.var(axis=1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = (x - mu) * self.inv_std
        if self.gamma is None:
            return self.x_hat
        return self.gamma.data * self.x_hat + self.beta.data

    def backward(self, dout):
        self._need_cache("x_hat")
        dout = check_dout(dout, self.x_hat.shape, self)
        if self.gamma is None:
            dx_hat = dout
        else:
            self.gamma.grad += (dout * self.x_hat).sum(axis=0)
            self.beta.grad += dout.sum(axis=0)
            dx_hat = dout * self.gamma.data
        d = self.num_features
        return (self.inv_std / d) * (d * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                                     - self.x_hat * (dx_hat * self.x_hat).sum(axis=1, keepdims=True))

    def extra_repr(self):
        affine = "" if self.elementwise_affine else ", elementwise_affine=False"
        return f"{self.num_features}, eps={self.eps}{affine}"
