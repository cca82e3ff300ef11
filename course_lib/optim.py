"""Optimizers with PyTorch's update rules. State is kept in lists parallel to the parameters.

g below is the gradient after weight decay is added (g = grad + weight_decay * w) where the
optimizer has L2-style weight decay; t counts steps from 1.
Introduced in notebooks/06_optimizers.ipynb.
"""
import numpy as np

from .module import Module, Parameter


def _param_list(params, owner):
    if isinstance(params, Module):
        params = params.parameters()
    params = list(params)
    if not params:
        raise ValueError(f"{owner}: got an empty parameter list")
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner} expects Parameters (e.g. model.parameters()), got "
                            f"{type(p).__name__} at position {i}")
    return params


def _positive(owner, **values):
    for name, v in values.items():
        if not v >= 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {v!r}")


class Optimizer:
    """Base class: holds the parameter list and the learning rate ``lr`` (schedules change it)."""

    def __init__(self, params, lr):
        self.params = _param_list(params, type(self).__name__)
        _positive(type(self).__name__, lr=lr)
        self.lr = float(lr)
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            self._update(i, p)

    def _update(self, i, p):
        raise NotImplementedError

    def _state(self):
        return [np.zeros_like(p.data) for p in self.params]

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    v = momentum * v + g  (v = g at the first step);  w -= lr * v
    Nesterov: w -= lr * (g + momentum * v).  Without momentum: w -= lr * g.
    This is PyTorch's form with lr outside the velocity; the form m = beta m + lr g,
    w -= m is the same only while lr is constant (notebook 06).
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        _positive("SGD", momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self.velocity = [None] * len(self.params)

    def _update(self, i, p):
        g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = g.copy()
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): s += g**2;  w -= lr * g / (sqrt(s) + eps).

    The effective rate lr / sqrt(s) only ever shrinks. (= torch.optim.Adagrad)
    """

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr)
        _positive("AdaGrad", eps=eps, weight_decay=weight_decay)
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.sum_sq = self._state()

    def _update(self, i, p):
        g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
        self.sum_sq[i] += g * g
        p.data -= self.lr * g / (np.sqrt(self.sum_sq[i]) + self.eps)


class RMSProp(Optimizer):
    """RMSProp (Hinton's lecture 6e): s = alpha s + (1 - alpha) g**2;  w -= lr * g / (sqrt(s) + eps).

    ``alpha`` is PyTorch's name for the decay rate (rho in many texts). With momentum > 0:
    b = momentum b + g / (sqrt(s) + eps);  w -= lr * b.  (= torch.optim.RMSprop)
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        _positive("RMSProp", eps=eps, momentum=momentum, weight_decay=weight_decay)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"RMSProp: alpha must be in [0, 1), got {alpha!r}")
        self.alpha, self.eps, self.momentum, self.weight_decay = float(alpha), float(eps), float(momentum), float(weight_decay)
        self.square_avg = self._state()
        self.buf = self._state()

    def _update(self, i, p):
        g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
        s = self.square_avg[i]
        s *= self.alpha
        s += (1.0 - self.alpha) * g * g
        step = g / (np.sqrt(s) + self.eps)
        if self.momentum:
            self.buf[i] *= self.momentum
            self.buf[i] += step
            step = self.buf[i]
        p.data -= self.lr * step


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; t is incremented BEFORE it is used.

    m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g**2      (v uses beta2, not beta1)
    m_hat = m / (1 - b1**t); v_hat = v / (1 - b2**t);  w -= lr * m_hat / (sqrt(v_hat) + eps)
    weight_decay here is L2 (added to g); for decoupled decay use AdamW. (= torch.optim.Adam)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        for name, b in (("beta1", b1), ("beta2", b2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{type(self).__name__}: {name} must be in [0, 1), got {b!r}")
        _positive(type(self).__name__, eps=eps, weight_decay=weight_decay)
        self.betas, self.eps, self.weight_decay = (float(b1), float(b2)), float(eps), float(weight_decay)
        self.m = self._state()
        self.v = self._state()

    def _gradient(self, p):
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

    def _update(self, i, p):
        g = self._gradient(p)
        b1, b2 = self.betas
        m, v = self.m[i], self.v[i]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        bc1 = 1.0 - b1 ** self.t
        bc2 = 1.0 - b2 ** self.t
        # the same arithmetic order as PyTorch: lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
        p.data -= (self.lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    w -= lr * weight_decay * w, then the Adam step on the raw gradient. Unlike L2 in Adam,
    the decay is not divided by sqrt(v_hat), so every weight decays at the same rate.
    (= torch.optim.AdamW, whose default weight_decay is 0.01)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _gradient(self, p):
        return p.grad

    def _update(self, i, p):
        p.data *= 1.0 - self.lr * self.weight_decay
        super()._update(i, p)
