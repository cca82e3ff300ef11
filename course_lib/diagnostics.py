"""Per-layer diagnostics: activation and gradient statistics, update-to-weight ratios, and
plain-language hints read off a History.

Introduced in notebooks/08_training_in_practice.ipynb (used already in 01 and 02).
"""
import math

import numpy as np

from .activations import ELU, GELU, LeakyReLU, PReLU, ReLU, SiLU, Sigmoid, Tanh
from .layers import Maxout
from .module import Sequential
# Karpathy's recipe checks and calibration live in their own files; diagnostics re-exports them
from .calibration import CalibrationBins, calibration_bins, expected_calibration_error  # noqa: F401
from .sanity import (BaselineComparison, BatchIndependence, BatchMixing,  # noqa: F401
                     batch_independence, input_independent_baseline, locate_batch_mixing)

NONLINEAR = (ReLU, LeakyReLU, PReLU, ELU, Sigmoid, Tanh, GELU, SiLU, Maxout)


def _layers(model):
    if not isinstance(model, Sequential):
        raise TypeError(f"diagnostics expect a Sequential model, got {type(model).__name__}")
    return model.layers


def trace(model, X, loss_fn=None, y=None, training=False):
    """Run ``model`` layer by layer on X and record every layer's output; if ``loss_fn`` and
    ``y`` are given, also backpropagate and record the gradient of the loss w.r.t. each output.

    Runs in eval mode unless ``training`` (the model's mode is restored). Parameter gradients
    are zeroed afterwards so the trace leaves no trace. Returns (outputs, grads), two lists
    with one array per layer (grads is None without a loss).
    """
    layers = _layers(model)
    was = model.training
    model.train(training)
    try:
        outputs, h = [], X
        for layer in layers:
            h = layer.forward(h)
            outputs.append(h)
        grads = None
        if loss_fn is not None:
            if y is None:
                raise ValueError("trace: gradients need the targets y")
            loss_fn.forward(h, y)
            d = loss_fn.backward()
            grads = [None] * len(layers)
            for i in range(len(layers) - 1, -1, -1):
                grads[i] = d
                d = layers[i].backward(d)
            model.zero_grad()
    finally:
        model.train(was)
    return outputs, grads


def saturated_fraction(layer, out):
    """Share of outputs where the unit's slope is nearly 0: |tanh| > 0.97, or the same point
    of the sigmoid (|2 sigma - 1| > 0.97). NaN for units that do not saturate that way."""
    if isinstance(layer, Tanh):
        return float(np.mean(np.abs(out) > 0.97))
    if isinstance(layer, Sigmoid):
        return float(np.mean(np.abs(2.0 * out - 1.0) > 0.97))
    return math.nan


def dead_fraction(layer, out):
    """Share of ReLU units that output 0 for EVERY example: they get no gradient and never
    recover. NaN for other layers."""
    if isinstance(layer, ReLU):
        return float(np.mean(np.all(out <= 0, axis=0)))
    return math.nan


class LayerStats:
    """A table with one row per non-linear layer: mean, std, saturated %, dead % of its output,
    and mean/std of the gradient at its output when available. ``rows`` is a list of dicts."""

    columns = ("layer", "mean", "std", "saturated", "dead", "grad_mean", "grad_std")

    def __init__(self, rows):
        self.rows = rows

    def column(self, name):
        return np.array([r[name] for r in self.rows], dtype=float if name != "layer" else object)

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        head = f"{'layer':<22}{'mean':>9}{'std':>9}{'sat %':>8}{'dead %':>8}{'grad mean':>11}{'grad std':>10}"
        lines = [head]
        for r in self.rows:
            def pct(v):
                return f"{100 * v:8.1f}" if not math.isnan(v) else f"{'—':>8}"

            def num(v, w):
                return f"{v:{w}.2e}" if not math.isnan(v) else f"{'—':>{w}}"
            lines.append(f"{r['layer']:<22}{r['mean']:9.3f}{r['std']:9.3f}{pct(r['saturated'])}"
                         f"{pct(r['dead'])}{num(r['grad_mean'], 11)}{num(r['grad_std'], 10)}")
        return "\n".join(lines)


def layer_stats(model, X, loss_fn=None, y=None, training=False, all_layers=False):
    """Statistics of every non-linear layer's output (and its gradient if a loss is given).

    Shapes: X (N, D). See ``trace`` for the modes. Returns a LayerStats table.
    """
    outputs, grads = trace(model, X, loss_fn, y, training)
    rows = []
    for i, (layer, out) in enumerate(zip(model.layers, outputs)):
        if not all_layers and not isinstance(layer, NONLINEAR):
            continue
        g = grads[i] if grads is not None else None
        rows.append({
            "layer": f"{i}: {layer!r}"[:21],
            "index": i,
            "mean": float(out.mean()),
            "std": float(out.std()),
            "saturated": saturated_fraction(layer, out),
            "dead": dead_fraction(layer, out),
            "grad_mean": float(g.mean()) if g is not None else math.nan,
            "grad_std": float(g.std()) if g is not None else math.nan,
        })
    return LayerStats(rows)


def update_ratio_summary(history, last=None):
    """Median ||dW|| / ||W|| per weight matrix over the recorded steps (or the ``last`` ones)."""
    out = {}
    for name, ratios in history.update_ratios.items():
        r = np.asarray(ratios[-last:] if last else ratios)
        out[name] = float(np.median(r)) if r.size else math.nan
    return out


def hints(history, stats=None):
    """Plain-language readings of a History (and optionally a LayerStats table)."""
    out = []
    if history.status == "exploded":
        out.append(history.message)
        return out
    loss = np.asarray(history.loss)
    if loss.size >= 10:
        first, last = loss[: max(1, loss.size // 10)].mean(), loss[-max(1, loss.size // 10):].mean()
        if last > 1.05 * first:
            out.append(f"the loss rose ({first:.3g} → {last:.3g}): learning rate too high, or a bug "
                       f"in the gradient (check its sign)")
        elif last > 0.95 * first:
            out.append(f"the loss barely moved ({first:.3g} → {last:.3g}): learning rate too low, "
                       f"or the network is stuck (check the initialization and dead units)")
        else:
            q = loss.size // 4
            early_drop = loss[0] - loss[q] if q else 0.0
            if q and early_drop < 0.05 * (loss[0] - last) and loss[q] - last > 0.5 * (loss[0] - last):
                out.append("the loss stayed flat for a while and then dropped: suspect the initialization")
    if history.train_acc and history.val_acc:
        gap = history.train_acc[-1] - history.val_acc[-1]
        if gap > 0.05:
            out.append(f"train accuracy exceeds validation by {100 * gap:.1f} points: overfitting — "
                       f"regularize more (L2, dropout, more data, early stopping)")
        elif history.train_acc[-1] < 0.9:
            out.append(f"train and validation accuracy are close and low ({100 * history.train_acc[-1]:.1f}%): "
                       f"underfitting — add capacity or train longer")
    for name, r in update_ratio_summary(history).items():
        if math.isnan(r) or r <= 0:
            continue
        if r < 1e-4:
            out.append(f"{name}: updates are {r:.1e} of the weights (healthy ≈ 1e-3): learning rate too low for this layer?")
        elif r > 1e-2:
            out.append(f"{name}: updates are {r:.1e} of the weights (healthy ≈ 1e-3): learning rate too high?")
    if stats is not None:
        for row in stats.rows:
            if not math.isnan(row["dead"]) and row["dead"] > 0.1:
                out.append(f"layer {row['layer']}: {100 * row['dead']:.0f}% of its ReLUs are dead — lower the learning rate or try LeakyReLU/ELU")
            if not math.isnan(row["saturated"]) and row["saturated"] > 0.1:
                out.append(f"layer {row['layer']}: {100 * row['saturated']:.0f}% saturated — reduce the init scale or use BatchNorm")
    if not out:
        out.append("nothing alarming: the loss falls, the gap is small, updates are near 1e-3 of the weights")
    return out


# Activation statistics during training (a fit callback) and the memory held by the forward
# caches live in their own files; imported last, because activation_stats uses the helpers above
from .activation_stats import ActivationStats, dead_units  # noqa: E402,F401
from .memory import CacheMemory, cache_memory  # noqa: E402,F401
