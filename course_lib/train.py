"""The training loop: ``fit`` returns a ``History``; early stopping; explosion and NaN guards.

Introduced in notebooks/06_optimizers.ipynb and used from there on; notebook 08 reads its
diagnostics.
"""
import math

import numpy as np

from .clip import clip_grad_norm, max_norm as _max_norm
from .losses import BCEWithLogits, SoftmaxCrossEntropy
from .rng import get_rng


class History:
    """What happened during ``fit``.

    Per step: ``loss``, ``lr``. Per epoch: ``train_loss``, ``train_acc`` (running averages over
    the epoch's mini-batches, in training mode), ``val_loss``, ``val_acc`` (a full pass in eval
    mode). ``update_ratios[name]``: list of ||dW|| / ||W|| per recorded step (every
    ``ratio_every`` steps, listed in ``ratio_steps``) for each weight matrix. ``status`` is
    "completed", "early_stopped" or "exploded"; ``message`` says why a run stopped.
    """

    def __init__(self):
        self.loss, self.lr = [], []
        self.train_loss, self.train_acc, self.val_loss, self.val_acc = [], [], [], []
        self.update_ratios, self.ratio_steps = {}, []
        self.status, self.message = "running", ""
        self.best_epoch = None
        self.epochs = 0

    @property
    def steps(self):
        return len(self.loss)

    @property
    def exploded(self):
        return self.status == "exploded"

    def __repr__(self):
        parts = [f"History({self.status}, {self.epochs} epochs, {self.steps} steps"]
        if self.loss:
            parts.append(f"loss {self.loss[0]:.3f} → {self.loss[-1]:.3f}")
        if self.val_acc:
            parts.append(f"val_acc {self.val_acc[-1]:.3f}")
        return ", ".join(parts) + ")"


class EarlyStopping:
    """Stop when validation loss has not improved by ``min_delta`` for ``patience`` epochs;
    with ``restore_best`` the weights of the best epoch are put back at the end."""

    def __init__(self, patience=5, min_delta=0.0, restore_best=True):
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience!r}")
        self.patience, self.min_delta, self.restore_best = int(patience), float(min_delta), restore_best
        self.best, self.best_epoch, self.best_state, self.wait = math.inf, None, None, 0

    def update(self, model, epoch, val_loss):
        """Record an epoch; returns True when training should stop."""
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, best_epoch={self.best_epoch})"


def _is_classifier(loss_fn):
    return isinstance(loss_fn, (SoftmaxCrossEntropy, BCEWithLogits))


def _correct(loss_fn, out, y):
    if isinstance(loss_fn, SoftmaxCrossEntropy):
        gold = y if y.ndim == 1 else y.argmax(axis=1)      # probability targets: their top class
        return int((out.argmax(axis=1) == gold).sum())
    if isinstance(loss_fn, BCEWithLogits):
        return int(((out > 0) == (y > 0.5)).all(axis=1).sum()) if out.ndim == 2 else int(((out > 0) == (y > 0.5)).sum())
    return 0


def evaluate(model, loss_fn, X, y, batch_size=1024):
    """Mean loss and accuracy (None for regression) over X in eval mode; restores the mode."""
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    try:
        for i in range(0, len(X), batch_size):
            out = model(X[i:i + batch_size])
            total += loss_fn.forward(out, y[i:i + batch_size]) * len(out)
            correct += _correct(loss_fn, out, y[i:i + batch_size])
    finally:
        model.train(was_training)
    acc = correct / len(X) if _is_classifier(loss_fn) else None
    return total / len(X), acc


def _weights(model):
    return [(name, p) for name, p in model.named_parameters() if p.is_weight]


class Callback:
    """Hooks into ``fit``; override any of them (all do nothing by default).

    ``on_train_begin(model)``; ``on_step_end(step, model, loss)`` after each optimizer step
    (and max-norm projection); ``on_epoch_end(epoch, model, history)`` after the epoch's
    validation pass (``epoch`` counts from 0); ``on_train_end(model, history)``, also when a
    run explodes or stops early.
    """

    def on_train_begin(self, model):
        pass

    def on_step_end(self, step, model, loss):
        pass

    def on_epoch_end(self, epoch, model, history):
        pass

    def on_train_end(self, model, history):
        pass


def fit(model, loss_fn, optimizer, X, y, epochs=10, batch_size=64, val=None, rng=None,
        shuffle=True, scheduler=None, schedule_every="epoch", regularizer=None, clip_norm=None,
        max_norm=None, early_stopping=None, explode_factor=3.0, ratio_every=10, progress=True,
        callbacks=()):
    """Train ``model`` with mini-batch gradient descent; return a History.

    Each step: forward, loss (+ regularizer), backward, optional clip_grad_norm, optimizer
    step, optional max-norm projection, the callbacks' ``on_step_end``, and the scheduler when
    ``schedule_every="step"``. ``early_stopping``: an EarlyStopping or a patience (int); needs
    ``val=(X_val, y_val)``. ``callbacks``: Callback objects (e.g. ``diagnostics.ActivationStats``,
    ``AveragedModel``). A loss above ``explode_factor`` times the first step's loss stops the
    run as "exploded"; a NaN or infinite loss raises FloatingPointError naming the step.
    Epochs in messages count from 1, as on the plots; ``History.best_epoch`` is an index
    (from 0) into the per-epoch lists.
    Shapes: X (N, D); y (N,) labels or (N, K) targets.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"fit: batch_size must be >= 1, got {batch_size!r}")
    if schedule_every not in ("epoch", "step"):
        raise ValueError(f"fit: schedule_every must be 'epoch' or 'step', got {schedule_every!r}")
    if isinstance(early_stopping, int):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and val is None:
        raise ValueError("fit: early stopping watches the validation loss; pass val=(X_val, y_val)")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback objects (on_step_end, on_epoch_end, "
                            f"…), got {type(cb).__name__}")
    rng = get_rng(rng)
    hist = History()
    weights = _weights(model) if ratio_every else []
    for name, _ in weights:
        hist.update_ratios[name] = []
    before = [np.empty_like(p.data) for _, p in weights]
    n = len(X)
    params = model.parameters()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="epochs", leave=False)
    model.train()
    for cb in callbacks:
        cb.on_train_begin(model)
    step = 0
    try:
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            ep_loss, ep_correct = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                xb, yb = X[idx], y[idx]
                out = model(xb)          # model(x): forward hooks on the model fire too
                loss = loss_fn.forward(out, yb)
                if regularizer is not None:
                    loss += regularizer.value(params)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"fit: the loss became {loss} at step {step} (epoch {epoch}): the learning "
                        f"rate ({optimizer.lr:g}) is probably too high, or the weights overflowed; "
                        f"try a 10x smaller lr, gradient clipping (clip_norm=) or BatchNorm")
                hist.loss.append(loss)
                hist.lr.append(optimizer.lr)
                ep_loss += loss * len(idx)
                ep_correct += _correct(loss_fn, out, yb)
                if loss > explode_factor * hist.loss[0]:
                    hist.status = "exploded"
                    hist.message = (f"loss exploded at step {step}: {loss:.3g} > {explode_factor:g}× "
                                    f"the initial {hist.loss[0]:.3g} — learning rate too high?")
                    for cb in callbacks:
                        cb.on_train_end(model, hist)
                    return hist
                optimizer.zero_grad()
                model.backward_params(loss_fn.backward())
                if regularizer is not None:
                    regularizer.add_grad(params)
                if clip_norm is not None:
                    clip_grad_norm(params, clip_norm)
                record = ratio_every and step % ratio_every == 0
                if record:
                    for buf, (_, p) in zip(before, weights):
                        np.copyto(buf, p.data)
                optimizer.step()
                if max_norm is not None:
                    _max_norm(params, max_norm)
                if record:
                    hist.ratio_steps.append(step)
                    for buf, (name, p) in zip(before, weights):
                        buf -= p.data
                        hist.update_ratios[name].append(
                            float(np.linalg.norm(buf) / (np.linalg.norm(p.data) + 1e-12)))
                for cb in callbacks:
                    cb.on_step_end(step, model, loss)
                if scheduler is not None and schedule_every == "step":
                    scheduler.step()
                step += 1
            hist.epochs = epoch + 1
            hist.train_loss.append(ep_loss / n)
            if _is_classifier(loss_fn):
                hist.train_acc.append(ep_correct / n)
            if val is not None:
                vl, va = evaluate(model, loss_fn, *val)
                hist.val_loss.append(vl)
                if va is not None:
                    hist.val_acc.append(va)
            for cb in callbacks:
                cb.on_epoch_end(epoch, model, hist)
            if scheduler is not None and schedule_every == "epoch":
                scheduler.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{hist.train_loss[-1]:.4f}")
            if early_stopping is not None and early_stopping.update(model, epoch, hist.val_loss[-1]):
                hist.status = "early_stopped"
                hist.message = (f"early stop after epoch {epoch + 1}: no improvement in val loss for "
                                f"{early_stopping.patience} epochs; best epoch "
                                f"{early_stopping.best_epoch + 1} (epochs counted from 1)")
                break
        else:
            hist.status = "completed"
    finally:
        if bar is not None:
            bar.close()
        model.train()
    if early_stopping is not None:
        hist.best_epoch = early_stopping.best_epoch
        if early_stopping.restore_best and early_stopping.best_state is not None:
            model.load_state_dict(early_stopping.best_state)
    for cb in callbacks:
        cb.on_train_end(model, hist)
    return hist
