"""Learning-rate schedules. ``lr_at(t)`` is the pure formula; ``step()`` advances t by one
(call it once per epoch or once per iteration, as you decide) and writes the new rate into
``optimizer.lr``, like ``torch.optim.lr_scheduler``.
Introduced in notebooks/06_optimizers.ipynb.
"""
import math


class Schedule:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.t = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, t):
        raise NotImplementedError

    def step(self):
        self.t += 1
        self.optimizer.lr = self.lr_at(self.t)
        return self.optimizer.lr

    def __repr__(self):
        return f"{type(self).__name__}(base_lr={self.base_lr:g}, t={self.t})"


class StepLR(Schedule):
    """Step decay: lr = base_lr * gamma ** floor(t / step_size). (= torch StepLR)"""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(Schedule):
    """Exponential decay: lr = base_lr * gamma ** t. (= torch ExponentialLR)"""

    def __init__(self, optimizer, gamma):
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialLR: gamma must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, t):
        return self.base_lr * self.gamma ** t


class InverseTimeLR(Schedule):
    """1/t decay: lr = base_lr / (1 + decay * t)."""

    def __init__(self, optimizer, decay):
        if decay < 0:
            raise ValueError(f"InverseTimeLR: decay must be >= 0, got {decay!r}")
        self.decay = float(decay)
        super().__init__(optimizer)

    def lr_at(self, t):
        return self.base_lr / (1.0 + self.decay * t)


class CosineWarmupLR(Schedule):
    """Linear warm-up to base_lr over ``warmup`` steps, then cosine decay to ``min_lr`` at ``total``.

    t < warmup:  lr = base_lr * (t + 1) / warmup
    t >= warmup: lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2
    (after ``total`` steps the rate stays at min_lr)
    """

    def __init__(self, optimizer, warmup, total, min_lr=0.0):
        if not 0 <= warmup < total:
            raise ValueError(f"CosineWarmupLR: need 0 <= warmup < total, got warmup={warmup!r}, total={total!r}")
        self.warmup, self.total, self.min_lr = int(warmup), int(total), float(min_lr)
        super().__init__(optimizer)

    def lr_at(self, t):
        if t < self.warmup:
            return self.base_lr * (t + 1) / self.warmup
        progress = min(1.0, (t - self.warmup) / (self.total - self.warmup))
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
