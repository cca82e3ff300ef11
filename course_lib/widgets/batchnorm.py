"""BatchNorm explorer for notebooks/04_batch_normalization.ipynb.

A 6-layer ReLU MLP on the digits, trained for a few epochs with plain SGD, with or without
BatchNorm (Linear -> BatchNorm1d -> ReLU), for every learning rate in ``LRS`` and every
init scale in ``INIT_SCALES`` (each weight matrix is He-normal times the scale). The widget
shows the per-step training loss of the chosen setting and, for context, the validation
accuracy against the learning rate at the chosen init scale.

Every run is short (68 SGD steps) and cached: ``precompute()`` trains the whole grid once
(70 runs, a few seconds), after which a slider move only redraws.

Pure, seeded compute functions (``make_mlp``, ``compute_run`` and its cached form
``train_run``, ``precompute``, ``sweep``), the drawing function ``draw`` and the builder
``bn_explorer``.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..data import load_digits
from ..init import he_normal
from ..layers import Linear
from ..activations import ReLU
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..normalization import BatchNorm1d
from ..optim import SGD
from ..train import evaluate, fit
from ._common import one_blas_thread, render_png

LRS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
INIT_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
DEPTH, WIDTH, EPOCHS, BATCH_SIZE = 6, 64, 4, 64
_COLORS = {True: "tab:blue", False: "tab:red"}
_NAMES = {True: "with BN", False: "without BN"}


@lru_cache(maxsize=1)
def digits():
    """The course's digits split (seeded), loaded once. Shapes: X (N, 64), y (N,)."""
    return load_digits()


def make_mlp(batchnorm, init_scale=1.0, depth=DEPTH, width=WIDTH, placement="before", rng=0):
    """A ReLU MLP 64 -> width x (depth - 1) -> 10 whose weights are ``init_scale`` x He-normal.

    ``placement="before"``: Linear -> BatchNorm1d -> ReLU (the original paper; the Linear has
    no bias because BN's beta replaces it); ``"after"``: Linear -> ReLU -> BatchNorm1d.
    ``batchnorm=False`` gives the plain net Linear -> ReLU. The output layer is a plain Linear.
    Shapes: input (N, 64) -> logits (N, 10).
    """
    if placement not in ("before", "after"):
        raise ValueError(f"make_mlp: placement must be 'before' or 'after', got {placement!r}")
    rng = np.random.default_rng(rng)
    sizes = [64] + [width] * (depth - 1) + [10]

    def init(fan_in, fan_out, r):
        return init_scale * he_normal(fan_in, fan_out, rng=r)

    layers = []
    for i in range(depth):
        hidden = i < depth - 1
        bias = not (batchnorm and hidden and placement == "before")
        layers.append(Linear(sizes[i], sizes[i + 1], init=init, bias=bias, rng=rng))
        if not hidden:
            break
        if batchnorm and placement == "before":
            layers += [BatchNorm1d(sizes[i + 1]), ReLU()]
        elif batchnorm:
            layers += [ReLU(), BatchNorm1d(sizes[i + 1])]
        else:
            layers.append(ReLU())
    return Sequential(*layers)


@dataclass(frozen=True)
class Run:
    """One training run: per-step training ``loss`` (T,), ``status`` ("completed" or
    "diverged"), ``diverged_at`` (the step whose loss exceeded 3x the first; None if the run
    completed or hit a NaN), final validation accuracy ``val_acc``."""

    loss: np.ndarray
    status: str
    diverged_at: object
    val_acc: float

    @property
    def diverged(self):
        return self.status == "diverged"


def train_run(batchnorm, lr, init_scale=1.0, epochs=EPOCHS, placement="before", seed=0):
    """``compute_run`` with a cache: the explorer and the notebook share every run.

    Arguments are normalized first, so ``train_run(True, 0.2)`` and
    ``train_run(True, 0.2, 1.0, 4)`` hit the same cache entry. Do not modify the result.
    """
    return _cached_run(bool(batchnorm), float(lr), float(init_scale), int(epochs),
                       str(placement), int(seed))


@lru_cache(maxsize=None)
def _cached_run(batchnorm, lr, init_scale, epochs, placement, seed):
    return compute_run(batchnorm, lr, init_scale, epochs, placement, seed)


def compute_run(batchnorm, lr, init_scale=1.0, epochs=EPOCHS, placement="before", seed=0):
    """Train ``make_mlp(batchnorm, init_scale, placement=...)`` with plain SGD (uncached).

    ``epochs`` passes over the 1,079 training digits in mini-batches of 64. A run whose loss
    exceeds 3x its initial value (``cl.fit``'s rule) or becomes NaN/inf is "diverged".
    Same arguments -> the same Run.
    """
    X, y, Xv, yv, _, _ = digits()
    model = make_mlp(batchnorm, init_scale, placement=placement, rng=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=lr)
    status, diverged_at = "completed", None
    # a diverging run overflows on purpose; that is the result, not a warning to show
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        try:
            hist = fit(model, loss_fn, opt, X, y, epochs=epochs, batch_size=BATCH_SIZE,
                       rng=seed + 1, progress=False, ratio_every=0)
            losses = np.array(hist.loss)
            if hist.exploded:
                status, diverged_at = "diverged", len(losses) - 1
        except FloatingPointError:   # a NaN/inf loss: fit raises, the curve is lost
            losses, status = np.array([np.inf]), "diverged"
        _, acc = evaluate(model, loss_fn, Xv, yv)
    losses.flags.writeable = False
    return Run(losses, status, diverged_at, float(acc))


def precompute(lrs=LRS, scales=INIT_SCALES, epochs=EPOCHS):
    """Train (and cache) every run the explorer can show: lrs x scales x {BN, plain}.

    Returns the number of runs in the grid.
    """
    n = 0
    for lr in lrs:
        for s in scales:
            for bn in (True, False):
                train_run(bn, float(lr), float(s), epochs)
                n += 1
    return n


def sweep(batchnorm, lrs=LRS, init_scale=1.0, epochs=EPOCHS):
    """Final validation accuracy for each learning rate (cached runs). Shapes: returns (len(lrs),)."""
    return np.array([train_run(batchnorm, float(lr), float(init_scale), epochs).val_acc for lr in lrs])


def _tick_label(v, _pos=None):
    return f"{v:g}" if 1e-3 <= v < 1e4 else f"1e{np.log10(v):.0f}"


def draw(lr, init_scale, show="both", lrs=LRS, epochs=EPOCHS, fig=None):
    """Loss curves of the chosen setting (left) and validation accuracy vs lr (right)."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(10, 3.6))
    # fixed margins instead of tight_layout, which would double the redraw time
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1], "left": 0.075,
                                               "right": 0.98, "bottom": 0.14, "top": 0.91,
                                               "wspace": 0.22})
    nets = {"both": (True, False), "with BN": (True,), "without BN": (False,)}[show]
    span = [np.log(10.0)]
    for bn in nets:
        run = train_run(bn, float(lr), float(init_scale), epochs)
        loss = run.loss[np.isfinite(run.loss)]
        span += [loss.min(), loss.max()] if len(loss) else []
        if not run.diverged:
            label = f"{_NAMES[bn]}: val acc {run.val_acc:.2f}"
        else:
            step = "" if run.diverged_at is None else f" at step {run.diverged_at}"
            label = f"{_NAMES[bn]}: diverged{step}"
        ax1.plot(np.arange(len(loss)), loss, color=_COLORS[bn], lw=1.5, label=label)
        if run.diverged and len(loss):
            ax1.plot(len(loss) - 1, loss[-1], "x", color=_COLORS[bn], ms=10, mew=2)
        ax2.plot(lrs, sweep(bn, lrs, init_scale, epochs), "o-", color=_COLORS[bn], label=_NAMES[bn])
    ax1.axhline(np.log(10), color="0.6", ls=":", lw=1, label="ln 10 (chance)")
    ax1.set_yscale("log")
    # plain tick labels (mathtext 10^k labels are slow to lay out), no minor ticks, and few
    # major ones: a loss axis spanning 16 decades would otherwise carry ~150 tick marks, and
    # laying them out would dominate the redraw
    narrow = max(span) / min(span) < 1e3
    ax1.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if narrow else LogLocator(numticks=6))
    ax1.yaxis.set_major_formatter(FuncFormatter(_tick_label))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_xlim(0, -(-len(digits().X_train) // BATCH_SIZE) * epochs)
    ax1.set_xlabel("SGD step (mini-batch of 64)")
    ax1.set_ylabel("training loss (log scale)")
    ax1.set_title(f"lr = {lr:g}, init scale = {init_scale:g} × He", fontsize=10)
    ax1.legend(fontsize=8, loc="upper right")
    ax2.axvline(lr, color="0.4", ls="--", lw=1)
    ax2.set_xscale("log")
    ax2.minorticks_off()
    ax2.set_xticks(lrs, [f"{v:g}" for v in lrs], fontsize=8)
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("learning rate (log scale)")
    ax2.set_ylabel("validation accuracy")
    ax2.set_title(f"after {epochs} epochs, init scale {init_scale:g} × He", fontsize=10)
    ax2.legend(fontsize=8, loc="lower left")
    return fig


def bn_explorer(lr=0.1, init_scale=1.0, show="both", lrs=LRS, scales=INIT_SCALES):
    """Build the widget: learning-rate slider (log-spaced values), init-scale slider, and which
    nets to show. Every value is a precomputed grid point; the callback returns the figure."""
    import ipywidgets as W
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    # one figure, redrawn and sent as a PNG: no pyplot bookkeeping and no second "tight"
    # rendering pass, which together made a slider move much slower
    fig = Figure(figsize=(10, 3.6))

    def update(lr, init_scale, show):
        fig.clear()
        draw(lr, init_scale, show, lrs, fig=fig)
        display(Image(render_png(fig)))
        return fig

    style = {"description_width": "initial"}
    layout = W.Layout(width="430px")
    box = W.interactive(
        update,
        lr=W.SelectionSlider(options=[(f"{v:g}", float(v)) for v in lrs], value=float(lr),
                             description="learning rate (log)", style=style, layout=layout),
        init_scale=W.SelectionSlider(options=[(f"{v:g} × He", float(v)) for v in scales],
                                     value=float(init_scale), description="init scale",
                                     style=style, layout=layout),
        show=W.ToggleButtons(options=["both", "with BN", "without BN"], value=show,
                             description="nets", style=style),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box
