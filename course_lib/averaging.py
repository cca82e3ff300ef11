"""Weight averaging: keep a running average of the weights along the training trajectory.

SGD with a constant learning rate does not settle at a minimum, it bounces around one; the
average of the iterates sits closer to the centre (Polyak & Juditsky 1992). Two averages, as
``torch.optim.swa_utils.AveragedModel``:
- equal weights (Polyak averaging; SWA, Izmailov et al. 2018, when the iterates are sampled
  late in training): avg_n = avg_{n-1} + (w_n - avg_{n-1}) / n, the mean of the n iterates;
- exponential moving average (EMA) with decay d: avg_n = d avg_{n-1} + (1 - d) w_n, which
  forgets old iterates with a time constant of about 1 / (1 - d) updates.
Both copy the weights on the first update. ``update_bn`` recomputes BatchNorm's running
statistics for the averaged weights (they were collected with other weights).
Introduced in notebooks/06_optimizers.ipynb (weight averaging against the last iterate).
"""
import copy

import numpy as np

from .module import Module
from .normalization import BatchNorm1d
from .train import Callback


def _set_buffer(module, name, value):
    owner, attr = module._locate(name)
    current = getattr(owner, attr)
    if isinstance(current, np.ndarray):
        current[...] = value
    else:
        setattr(owner, attr, type(current)(value))


class AveragedModel(Module, Callback):
    """A running average of a model's weights, held in its own copy of the model.

    ``decay=None``: equal weights, avg_n = avg_{n-1} + (w_n - avg_{n-1}) / n (Polyak / SWA,
    = torch's default average). ``decay=d`` in [0, 1]: exponential moving average,
    avg_n = d avg_{n-1} + (1 - d) w_n (= torch's ``get_ema_avg_fn(d)`` /
    ``get_ema_multi_avg_fn(d)``). As in torch, the first ``update_parameters`` copies the
    weights (n_averaged = 0 -> 1), whatever the decay. ``use_buffers=False``: the buffers
    (BatchNorm's running statistics) are copied from the model at every update, not averaged;
    ``use_buffers=True``: they are averaged like the parameters (integer buffers such as
    ``num_batches_tracked`` in float64 and truncated, as torch's copy into a long tensor does
    with float64 as its default dtype; so the equal-weight average of that counter stays at 1,
    in torch too).

    ``module`` is a deep copy of ``model`` (same layers, separate Parameters); the original is
    never changed. ``forward``/``__call__``, ``eval()``, ``train()``, ``parameters()`` and
    ``state_dict()`` act on that copy (``n_averaged`` is a buffer, as in torch).

    As a Callback, ``cl.fit(..., callbacks=[avg])`` updates it after optimizer steps
    ``start, start + every, start + 2 every, ...`` (fit's step counter, from 0), or with
    ``per="epoch"`` after epochs ``start, start + every, ...`` (from 0; SWA's "once per epoch
    from epoch s on"). Evaluate it with ``cl.evaluate(avg, loss, X_val, y_val)``; with
    BatchNorm call ``update_bn(X_train, avg)`` first (or use ``use_buffers=True``).
    Shapes: as the wrapped model.
    Introduced in notebooks/06_optimizers.ipynb.
    """

    _buffers = ("n_averaged",)

    def __init__(self, model, decay=None, use_buffers=False, every=1, start=0, per="step"):
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be a course_lib Module, got "
                            f"{type(model).__name__}")
        if decay is not None:
            if isinstance(decay, bool) or not isinstance(decay, (int, float, np.floating)) \
                    or not 0.0 <= decay <= 1.0:
                raise ValueError(f"AveragedModel: decay must be None (equal weights) or a number "
                                 f"in [0, 1] (EMA, e.g. 0.99), got {decay!r}")
            decay = float(decay)
        for name, v, low in (("every", every, 1), ("start", start, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"AveragedModel: {name} must be an integer >= {low}, got {v!r}")
        if per not in ("step", "epoch"):
            raise ValueError(f"AveragedModel: per must be 'step' or 'epoch', got {per!r}")
        self.module = copy.deepcopy(model)
        self.decay, self.use_buffers = decay, bool(use_buffers)
        self.every, self.start, self.per = int(every), int(start), per
        self.n_averaged = 0
        self.training = model.training

    def forward(self, x):
        return self.module.forward(x)

    def backward(self, dout):
        return self.module.backward(dout)

    def _check_same(self, model):
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel.update_parameters: model must be a course_lib Module, "
                            f"got {type(model).__name__}")
        mine, theirs = self.module.named_parameters(), model.named_parameters()
        if [p.shape for _, p in mine] != [p.shape for _, p in theirs]:
            raise ValueError(f"AveragedModel: the model's parameters {[p.shape for _, p in theirs]} "
                             f"do not match the averaged copy's {[p.shape for _, p in mine]}: "
                             f"average the model it was built from")

    def _average(self, avg, w):
        """The new average of ``avg`` (the old one) and ``w`` (the model's current value)."""
        if self.decay is None:
            return avg + (w - avg) / (self.n_averaged + 1)
        return self.decay * avg + (1.0 - self.decay) * w

    def _average_int(self, avg, w):
        # torch averages an integer buffer in its default float dtype and truncates when it
        # copies the result back; float64 here, as torch with float64 as its default dtype
        # (with torch's float32 default the rounding can differ and the counter by 1)
        return np.trunc(self._average(np.asarray(avg, dtype=np.float64), w))

    def update_parameters(self, model):
        """Fold the current weights of ``model`` into the average (the first call copies them).

        Parameters: avg <- w (n_averaged = 0), else the average above; buffers: averaged too
        with ``use_buffers``, else copied. Then n_averaged += 1.
        """
        self._check_same(model)
        first = self.n_averaged == 0
        for (_, mine), (_, theirs) in zip(self.module.named_parameters(), model.named_parameters()):
            mine.data[...] = theirs.data if first else self._average(mine.data, theirs.data)
        for (name, mine), (_, theirs) in zip(self.module.named_buffers(), model.named_buffers()):
            if first or not self.use_buffers:
                value = np.array(theirs, copy=True)
            elif np.issubdtype(np.asarray(theirs).dtype, np.integer):
                value = self._average_int(np.asarray(mine), np.asarray(theirs))
            else:
                value = self._average(np.asarray(mine, dtype=np.float64), np.asarray(theirs))
            _set_buffer(self.module, name, value)
        self.n_averaged += 1

    def _due(self, count):
        return count >= self.start and (count - self.start) % self.every == 0

    def on_train_begin(self, model):
        self._check_same(model)

    def on_step_end(self, step, model, loss):
        if self.per == "step" and self._due(step):
            self.update_parameters(model)

    def on_epoch_end(self, epoch, model, history):
        if self.per == "epoch" and self._due(epoch):
            self.update_parameters(model)

    def extra_repr(self):
        kind = "equal weights" if self.decay is None else f"EMA decay={self.decay:g}"
        when = f"every {self.every} {self.per}{'s' if self.every > 1 else ''} from {self.per} {self.start}"
        buffers = ", use_buffers=True" if self.use_buffers else ""
        return f"{kind}, n_averaged={self.n_averaged}, {when}{buffers}"

    def __repr__(self):
        inner = repr(self.module).replace("\n", "\n  ")
        return f"AveragedModel({self.extra_repr()})\n  module: {inner}"


def _batches(data, batch_size):
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"update_bn: an array of inputs must have shape (N, D), got {data.shape}")
        if batch_size is None:
            yield data
            return
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
            raise ValueError(f"update_bn: batch_size must be an integer >= 2 (BatchNorm needs a "
                             f"variance) or None for one pass over all of X, got {batch_size!r}")
        for i in range(0, len(data), batch_size):
            yield data[i:i + batch_size]
        return
    try:
        iterator = iter(data)
    except TypeError:
        raise TypeError(f"update_bn: data must be an array X (N, D) or an iterable of batches "
                        f"(arrays or (x, y) pairs), got {type(data).__name__}") from None
    for batch in iterator:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def update_bn(data, model, batch_size=None):
    """Recompute every BatchNorm layer's running statistics with one pass over ``data``.

    As ``torch.optim.swa_utils.update_bn``: reset running_mean = 0, running_var = 1,
    num_batches_tracked = 0; set momentum = None (a cumulative average: after n batches the
    running mean is the mean of the n batch means, the running variance the mean of the n
    unbiased batch variances); forward every batch in training mode; restore each layer's
    momentum and the model's mode. Parameters are not touched. ``data``: an array X (one pass
    in batches of ``batch_size``; None = all of X as one batch, which gives the exact mean and
    unbiased variance of the data) or an iterable of batches (arrays or (x, y) pairs, the
    first element is used). Dropout layers are active during the pass, as in torch.
    Shapes: X (N, D). Returns the model.
    Introduced in notebooks/06_optimizers.ipynb (weight averaging with BatchNorm).
    """
    if not isinstance(model, Module):
        raise TypeError(f"update_bn: model must be a course_lib Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, BatchNorm1d)]
    if not layers:
        return model
    momenta = {}
    for bn in layers:
        bn.running_mean[...] = 0.0
        bn.running_var[...] = 1.0
        bn.num_batches_tracked = 0
        momenta[bn] = bn.momentum
        bn.momentum = None
    was = model.training
    model.train()
    try:
        for batch in _batches(data, batch_size):
            model.forward(batch)
    finally:
        for bn, m in momenta.items():
            bn.momentum = m
        model.train(was)
    return model
