"""Dropout-rate explorer for notebooks/05_dropout.ipynb.

A wide ReLU MLP (64 -> 256 -> 256 -> 10, dropout after each hidden ReLU, none on the output
layer) is trained on a SMALL subset of the digits (200 examples) for 40 epochs of SGD with
momentum, once for every drop rate in ``RATES``, with clean training labels and with 20% of
them replaced by random classes. After every epoch the loss and accuracy on the training subset and on the
validation set are measured, both in evaluation mode (dropout off), so the train/validation
gap is a fair comparison. The widget shows these curves for the chosen drop rate next to the
no-dropout run.

Every run is cached; ``precompute()`` trains the grid once (16 runs), after which a slider
move only redraws.

Pure, seeded compute functions (``make_mlp``, ``training_subset``, ``compute_curves`` and its
cached form ``train_curves``, ``gaps``, ``precompute``), the drawing function ``draw`` and the
builder ``dropout_explorer``.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..activations import ReLU
from ..data import corrupt_labels, load_digits
from ..dropout import Dropout
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD
from ..train import evaluate, fit
from ._common import one_blas_thread

RATES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
LABEL_NOISE = {"clean": 0.0, "20% noisy": 0.2}
N_TRAIN, WIDTH, DEPTH = 200, 256, 2
EPOCHS, BATCH_SIZE, LR, MOMENTUM = 40, 32, 0.02, 0.9


@lru_cache(maxsize=1)
def digits():
    """The course's digits split (seeded), loaded once. Shapes: X (N, 64), y (N,)."""
    return load_digits()


def make_mlp(p, width=WIDTH, depth=DEPTH, rng=0, mask_rng=None):
    """64 -> width x depth -> 10 ReLU MLP with Dropout(p) after every hidden ReLU.

    No dropout on the output layer: dropping logits would only add noise to the prediction.
    ``rng`` seeds the weights (He-normal), ``mask_rng`` the dropout masks (default: rng + 1).
    Shapes: input (N, 64) -> logits (N, 10).
    """
    init_rng = np.random.default_rng(rng)
    mask_rng = np.random.default_rng(rng + 1 if mask_rng is None else mask_rng)
    layers, fan_in = [], 64
    for _ in range(depth):
        layers += [Linear(fan_in, width, rng=init_rng), ReLU()]
        if p > 0:
            layers.append(Dropout(p, rng=mask_rng))
        fan_in = width
    layers.append(Linear(fan_in, 10, rng=init_rng))
    return Sequential(*layers)


def training_subset(n=N_TRAIN, label_noise=0.0, rng=0):
    """The first ``n`` training digits; a fraction ``label_noise`` of their labels is replaced
    by a uniformly random class (which may by chance be the right one).

    Shapes: X (n, 64), y (n,).
    """
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    if label_noise > 0:
        y = corrupt_labels(y, label_noise, 10, np.random.default_rng(rng))
    return X, y


@dataclass(frozen=True)
class Curves:
    """Per-epoch metrics of one run, all measured in evaluation mode (dropout off):
    ``train_loss``, ``train_acc`` (on the training subset, with the labels it was trained
    on), ``val_loss``, ``val_acc`` (clean validation set), each of shape (epochs,);
    ``state``: the final weights (a ``state_dict``), to rebuild the model with ``make_mlp``."""

    p: float
    label_noise: float
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    state: dict


def train_curves(p, label_noise=0.0, seed=0, epochs=EPOCHS):
    """``compute_curves`` with a cache: the explorer and the notebook share every run.

    Arguments are normalized first, so ``train_curves(0.5)`` and ``train_curves(0.5, 0.0, 0,
    40)`` hit the same cache entry. Do not modify the result.
    """
    return _cached_curves(float(p), float(label_noise), int(seed), int(epochs))


@lru_cache(maxsize=None)
def _cached_curves(p, label_noise, seed, epochs):
    return compute_curves(p, label_noise, seed, epochs)


def compute_curves(p, label_noise=0.0, seed=0, epochs=EPOCHS):
    """Train ``make_mlp(p, rng=seed)`` on ``training_subset(label_noise=...)`` (uncached).

    SGD with momentum 0.9, lr 0.02, mini-batches of 32, ``epochs`` passes. Same arguments ->
    the same Curves.
    """
    X, y = training_subset(label_noise=label_noise)
    split = digits()
    model = make_mlp(p, rng=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order_rng = np.random.default_rng(seed + 2)
    rows = []
    with one_blas_thread():
        for _ in range(epochs):
            fit(model, loss_fn, opt, X, y, epochs=1, batch_size=BATCH_SIZE, rng=order_rng,
                progress=False, ratio_every=0)
            rows.append(evaluate(model, loss_fn, X, y) + evaluate(model, loss_fn, split.X_val, split.y_val))
    cols = [np.array(c) for c in zip(*rows)]
    for c in cols:
        c.flags.writeable = False
    return Curves(float(p), float(label_noise), *cols, model.state_dict())


def gaps(curves, last=10):
    """Train/validation gaps averaged over the last ``last`` epochs:
    (val_loss - train_loss, train_acc - val_acc)."""
    return (float(np.mean(curves.val_loss[-last:] - curves.train_loss[-last:])),
            float(np.mean(curves.train_acc[-last:] - curves.val_acc[-last:])))


def precompute(rates=RATES, noises=tuple(LABEL_NOISE.values()), epochs=EPOCHS):
    """Train (and cache) every run the explorer can show; returns the number of runs."""
    for noise in noises:
        for p in rates:
            train_curves(float(p), float(noise), 0, epochs)
    return len(rates) * len(noises)


def draw(p, labels="clean", epochs=EPOCHS, fig=None):
    """Loss (left, log scale) and accuracy (right) per epoch, train vs validation, for drop
    rate ``p`` (solid) and without dropout (faint); the title gives the accuracies and gaps."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(10, 3.6))
    # fixed margins instead of tight_layout, which would double the redraw time
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"left": 0.07, "right": 0.98, "bottom": 0.14,
                                               "top": 0.85, "wspace": 0.22})
    noise = LABEL_NOISE[labels]
    base = train_curves(0.0, noise, 0, epochs)
    run = train_curves(float(p), noise, 0, epochs)
    ep = np.arange(1, epochs + 1)
    shown = [(run, 1.0, 2.0, "p = 0")] if p == 0 else [(base, 0.35, 1.0, "p = 0"),
                                                       (run, 1.0, 2.0, f"p = {p:g}")]
    for c, alpha, lw, tag in shown:
        ax1.plot(ep, c.train_loss, color="tab:blue", alpha=alpha, lw=lw, label=f"train, {tag}")
        ax1.plot(ep, c.val_loss, color="tab:orange", alpha=alpha, lw=lw, label=f"validation, {tag}")
        ax2.plot(ep, c.train_acc, color="tab:blue", alpha=alpha, lw=lw, label=f"train, {tag}")
        ax2.plot(ep, c.val_acc, color="tab:orange", alpha=alpha, lw=lw, label=f"validation, {tag}")
    ax1.set_yscale("log")
    ax1.set_ylim(3e-3, 4)
    # plain tick labels: mathtext (10^k) labels are slow to lay out
    ax1.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy (eval mode, log scale)")
    ax2.set_ylim(0.6, 1.01)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (eval mode)")
    ax2.legend(fontsize=7, loc="lower right", ncol=2)
    gl, ga = gaps(run)
    gl0, ga0 = gaps(base)
    fig.suptitle(f"drop rate p = {p:g}, {labels} training labels: final validation accuracy "
                 f"{run.val_acc[-1]:.3f} (p = 0: {base.val_acc[-1]:.3f})\n"
                 f"gaps over the last 10 epochs: loss val − train {gl:.2f} (p = 0: {gl0:.2f}), "
                 f"accuracy train − val {ga:+.3f} (p = 0: {ga0:+.3f})", fontsize=9)
    return fig


def dropout_explorer(p=0.3, labels="clean", rates=RATES, epochs=EPOCHS):
    """Build the widget: drop-rate slider (precomputed values) and clean/noisy training labels.
    The callback returns the figure."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def update(p, labels):
        fig = draw(p, labels, epochs)
        plt.show()
        return fig

    box = W.interactive(
        update,
        p=W.SelectionSlider(options=[(f"{v:g}", float(v)) for v in rates], value=float(p),
                            description="drop rate p", style={"description_width": "initial"},
                            layout=W.Layout(width="430px")),
        labels=W.ToggleButtons(options=list(LABEL_NOISE), value=labels, description="training labels"),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box
