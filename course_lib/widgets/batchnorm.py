"""BatchNorm explorer for notebooks/04_batch_normalization.ipynb.

The bench of ``batchnorm_experiments``: a 6-layer ReLU MLP on the digits (inputs centred with
the training mean image), trained for 4 epochs of plain SGD in batches of 64, with or without
BatchNorm (Linear -> BatchNorm1d -> ReLU), for every learning rate in ``LRS`` and every init
scale in ``INIT_SCALES`` (each weight matrix is He-normal times the scale), on 3 seeds
(``cl.seeds(3)``, from COURSE_SEED). The widget shows the per-step training loss of the chosen
setting on every seed and, for context, the validation accuracy against the learning rate at
the chosen init scale (every seed and their mean).

The whole grid (2 nets x 7 lrs x 5 scales x 3 seeds = 210 runs) is trained once, stacked, by
``precompute()`` (``batchnorm_experiments.lr_grid``, cached), after which a slider move only
redraws. The notebook's learning-rate and init-scale sweeps read the same runs.

Functions: ``precompute``, ``grids``, the drawing function ``draw`` and the builder
``bn_explorer``.
"""
import numpy as np

from . import batchnorm_experiments as bx
from ._common import render_png

LRS, INIT_SCALES, EPOCHS, BATCH_SIZE = bx.LRS, bx.INIT_SCALES, bx.EPOCHS, bx.BATCH_SIZE
NETS = ("batch", "none")
_COLORS = {"batch": "tab:blue", "none": "tab:red"}
_NAMES = {"batch": "with BN", "none": "without BN"}


def grids(seeds=None, lrs=LRS, scales=INIT_SCALES):
    """The two cached grids {"batch": Grid, "none": Grid} (centred inputs)."""
    return {net: bx.lr_grid(net, "centred", lrs, scales, seeds) for net in NETS}


def precompute(seeds=None, lrs=LRS, scales=INIT_SCALES):
    """Train (and cache) every run the explorer can show; returns the number of runs."""
    g = grids(seeds, lrs, scales)
    return sum(grid.val_acc.size for grid in g.values())


def _tick_label(v, _pos=None):
    return f"{v:g}" if 1e-3 <= v < 1e4 else f"1e{np.log10(v):.0f}"


def _loss_label(net, acc, stopped):
    if not stopped.any():
        return f"{_NAMES[net]}: val acc " + " / ".join(f"{a:.2f}" for a in acc)
    return f"{_NAMES[net]}: diverged on {int(stopped.sum())} of {len(stopped)} seeds"


def draw(lr, init_scale, show="both", seeds=None, lrs=LRS, scales=INIT_SCALES, fig=None):
    """Loss curves of the chosen setting on every seed (left) and validation accuracy
    against the learning rate at the chosen init scale, per seed and mean (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(8.4, 3.5))
    # fixed margins instead of tight_layout, which would double the redraw time
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1], "left": 0.085,
                                               "right": 0.985, "bottom": 0.14, "top": 0.91,
                                               "wspace": 0.25})
    nets = {"both": NETS, "with BN": ("batch",), "without BN": ("none",)}[show]
    g = grids(seeds, lrs, scales)
    j, c = g["batch"].lrs.index(float(lr)), g["batch"].scales.index(float(init_scale))
    span = [np.log(10.0)]
    for net in nets:
        grid = g[net]
        curves, acc, stopped = grid.loss[:, j, c], grid.val_acc[:, j, c], grid.stopped[:, j, c]
        for k, curve in enumerate(curves):
            finite = curve[np.isfinite(curve)]
            span += [finite.min(), finite.max()] if len(finite) else []
            ax1.plot(np.arange(len(finite)), finite, color=_COLORS[net], lw=1.2, alpha=0.8,
                     label=_loss_label(net, acc, stopped) if k == 0 else None)
            if stopped[k] and len(finite):
                ax1.plot(len(finite) - 1, finite[-1], "x", color=_COLORS[net], ms=9, mew=2)
        v = grid.val_acc[:, :, c]
        for row in v:
            ax2.plot(grid.lrs, row, "o-", color=_COLORS[net], lw=0.8, ms=3, alpha=0.35)
        ax2.plot(grid.lrs, v.mean(axis=0), "o-", color=_COLORS[net], lw=2, ms=4,
                 label=f"{_NAMES[net]} (mean of {len(v)} seeds)")
    ax1.axhline(np.log(10), color="0.6", ls=":", lw=1, label="ln 10 (chance)")
    ax1.set_yscale("log")
    # plain tick labels (mathtext 10^k labels are slow to lay out), no minor ticks, and few
    # major ones: a loss axis spanning 16 decades would otherwise carry ~150 tick marks, and
    # laying them out would dominate the redraw
    narrow = max(span) / min(span) < 1e3
    ax1.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)) if narrow else LogLocator(numticks=6))
    ax1.yaxis.set_major_formatter(FuncFormatter(_tick_label))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_xlim(0, g["batch"].loss.shape[-1])
    ax1.set_xlabel(f"SGD step (mini-batch of {BATCH_SIZE})", fontsize=9.5)
    ax1.set_ylabel("training loss (log scale)", fontsize=9.5)
    ax1.set_title(f"lr = {lr:g}, init scale = {init_scale:g} × He, {len(g['batch'].seeds)} seeds",
                  fontsize=10)
    ax1.legend(fontsize=8.5, loc="best")
    ax2.axvline(lr, color="0.4", ls="--", lw=1)
    ax2.set_xscale("log")
    ax2.minorticks_off()
    ax2.set_xticks(lrs, [f"{v:g}" for v in lrs], fontsize=9)
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel("learning rate (log scale)", fontsize=9.5)
    ax2.set_ylabel("validation accuracy", fontsize=9.5)
    ax2.set_title(f"after {EPOCHS} epochs, init scale {init_scale:g} × He", fontsize=10)
    ax2.legend(fontsize=8.5, loc="center left")
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=9)
    return fig


def bn_explorer(lr=0.1, init_scale=1.0, show="both", seeds=None, lrs=LRS, scales=INIT_SCALES):
    """Build the widget: learning-rate slider (log-spaced values), init-scale slider, and which
    nets to show. Every value is a precomputed grid point; the callback returns the figure."""
    import ipywidgets as W
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    # one figure, redrawn and sent as a PNG: no pyplot bookkeeping and no second "tight"
    # rendering pass, which together made a slider move much slower
    fig = Figure(figsize=(8.4, 3.5))

    def update(lr, init_scale, show):
        fig.clear()
        draw(lr, init_scale, show, seeds, lrs, scales, fig=fig)
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
