"""The learning-rate scanner for notebooks/08_training_in_practice.ipynb, and the helpers of
that notebook's figures.

The scan: the same ReLU MLP (64 -> 100 -> 100 -> 10, He init, output layer scaled by 0.1 so
that the first loss is ln 10) is trained on the centred digits for ``EPOCHS`` epochs of Adam,
once for every learning rate in ``LRS`` (a log grid, four points per decade), with
``cl.fit``'s explosion guard on (a loss above 3x the first one stops the run). The scan is
read with the reading guide (``read_scan``): flat -> too low, explodes -> too high,
fast drop then plateau -> too high, steady descent -> good. The widget highlights one run over
all the others and shows its update-to-weight ratios.

``precompute()`` trains the grid once (cached); afterwards a slider move only redraws one
reused figure (``ScannerView``), well under 250 ms.

Also here, for the notebook's static figures: ``toy_objective`` and ``draw_search`` (random
vs grid search, Bergstra & Bengio 2012), ``decade_fractions`` (log-scale sampling) and
``narrow`` (the coarse -> fine step of a search).
"""
import io
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..activations import ReLU
from ..data import Center, load_digits
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import Adam
from ..rng import seeds as course_seeds
from ..search import LogUniform, Uniform
from ..train import fit
from ._common import one_blas_thread

EPOCHS, BATCH_SIZE, WIDTH = 8, 64, 100
LOG_LRS = tuple(np.round(np.arange(-5.0, 0.001, 0.25), 2))   # log10 of the scanned rates
LRS = tuple(float(10.0 ** e) for e in LOG_LRS)                # 1e-5 ... 1, 21 rates

# the reading guide: verdict key -> (what the curve does, what it says about the rate, colour),
# in the order in which the verdicts appear along the learning-rate axis
GUIDE = {
    "flat": ("flat or barely falling", "too low", "tab:blue"),
    "good": ("steady descent", "good", "tab:green"),
    "spikes": ("fast drop, then spikes", "slightly too high", "goldenrod"),
    "plateau": ("fast drop, then flat and high", "too high", "tab:orange"),
    "exploded": ("explodes", "too high", "tab:red"),
}
LINESTYLE = {"flat": ":", "good": "-", "spikes": "--", "plateau": "-.", "exploded": "-"}
SHORT = {"flat": "too low", "good": "good", "spikes": "spikes", "plateau": "flat & high",
         "exploded": "exploded"}


def default_seed(seed=None):
    """``seed`` if given, else the first seed of COURSE_SEED (``cl.seeds(1)[0]``)."""
    return course_seeds(1)[0] if seed is None else seed


# ---------------------------------------------------------------------------------------------
# data and model

@lru_cache(maxsize=1)
def digits():
    """The course's digits split, centred with the TRAINING mean; loaded once.

    Returns (X_train, y_train, X_val, y_val, X_test, y_test). Shapes: X (N, 64), y (N,).
    """
    split = load_digits()
    center = Center().fit(split.X_train)
    out = []
    for X, y in ((split.X_train, split.y_train), (split.X_val, split.y_val), (split.X_test, split.y_test)):
        X = center.transform(X)
        X.flags.writeable = False
        y = y.copy()
        y.flags.writeable = False
        out += [X, y]
    return tuple(out)


@lru_cache(maxsize=1)
def training_mean():
    """The mean training image that ``digits()`` subtracts (read-only). Shapes: (64,)."""
    mean = Center().fit(load_digits().X_train).mean.copy()
    mean.flags.writeable = False
    return mean


def make_mlp(widths=(WIDTH, WIDTH), rng=None, init="he_normal", activation=ReLU, last_scale=0.1):
    """A 64 -> widths... -> 10 MLP: Linear + activation per hidden layer, then a Linear.

    The output layer's weights are multiplied by ``last_scale`` so that the first logits are
    small and the first loss is close to ln 10. ``rng``: an int seed or a Generator for the
    weights; None takes the first seed of COURSE_SEED. Shapes: input (N, 64) -> logits (N, 10).
    """
    g = np.random.default_rng(default_seed(rng)) if not isinstance(rng, np.random.Generator) else rng
    layers, fan_in = [], 64
    for w in widths:
        layers += [Linear(fan_in, w, init=init, rng=g), activation()]
        fan_in = w
    layers.append(Linear(fan_in, 10, rng=g))
    layers[-1].W.data *= last_scale
    return Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# reading a loss curve

def final_level(loss):
    """Mean loss over the last quarter of a run (its level at the end). Shapes: loss (T,)."""
    loss = np.asarray(loss, dtype=float)
    return float(loss[-max(1, loss.size // 4):].mean())


def floor_level(loss, q=0.1):
    """The level a run reaches between its spikes: the ``q`` quantile (default the 10th
    percentile) of the per-step losses in the second half of the run. Shapes: loss (T,)."""
    loss = np.asarray(loss, dtype=float)
    return float(np.quantile(loss[loss.size // 2:], q))


def read_scan(curves, min_drop=0.5, plateau_factor=3.0, floor_factor=3.0):
    """The reading guide as a rule, applied to a whole scan; returns dict lr -> GUIDE key.

    ``curves``: dict lr -> (loss (T,), exploded). A curve is "exploded" if the explosion
    guard stopped it; "flat" if its last quarter is still above (1 - min_drop) x its first
    loss (it has not even halved). Among the others the reference is the rate that ends
    lowest (``final_level``); every other rate is "good" unless it is a HIGHER rate that ends
    more than ``plateau_factor`` x higher than the reference. Such a rate fell fast and did
    not stay down, for one of two reasons: if its floor (``floor_level``: the low losses it
    reaches between jumps) is within ``floor_factor`` x the reference's floor, it can fit as
    well but its spikes throw it back: "spikes" (an unstable run); otherwise it never gets
    down there: "plateau". Reading curves is a judgement; the thresholds make it explicit,
    not universal.
    """
    verdicts, level, floor = {}, {}, {}
    for lr, (loss, exploded) in curves.items():
        loss = np.asarray(loss, dtype=float)
        if exploded:
            verdicts[lr] = "exploded"
        elif final_level(loss) > (1.0 - min_drop) * loss[0]:
            verdicts[lr] = "flat"
        else:
            level[lr], floor[lr] = final_level(loss), floor_level(loss)
    if level:
        ref = min(level, key=level.get)
        for lr, lev in level.items():
            if lr > ref and lev > plateau_factor * level[ref]:
                verdicts[lr] = "spikes" if floor[lr] <= floor_factor * floor[ref] else "plateau"
            else:
                verdicts[lr] = "good"
    return {lr: verdicts[lr] for lr in curves}


@dataclass(frozen=True)
class ScanRun:
    """One run of the scan. ``loss`` (T,) per step; ``exploded_at`` (step or None);
    ``val_acc`` after the last epoch (None if exploded); ``ratios`` name -> (R,)
    update-to-weight ratios at ``ratio_steps`` (R,); ``message`` from ``cl.fit``; ``state``
    the final weights (rebuild with ``make_mlp`` + ``load_state_dict``); ``verdict`` a GUIDE
    key, set by ``precompute`` from the whole scan (None for a lone run)."""

    lr: float
    loss: np.ndarray
    exploded_at: object
    val_acc: object
    ratios: dict
    ratio_steps: np.ndarray
    message: str
    state: dict
    verdict: object = None

    @property
    def exploded(self):
        return self.exploded_at is not None

    @property
    def update_ratios(self):
        """The ratios under History's name, so ``cl.plots.plot_update_ratios(run)`` works."""
        return self.ratios

    @property
    def status(self):
        """"exploded at step N", "too slow" (a flat curve) or "ok"."""
        if self.exploded:
            return f"exploded at step {self.exploded_at}"
        return "too slow" if self.verdict == "flat" else "ok"

    @property
    def title(self):
        """The widget's headline: rate, status and the reading guide's verdict."""
        shape, meaning, _ = GUIDE[self.verdict]
        return f"lr = {self.lr:.3g}: {self.status} — {shape} → {meaning}"

    def median_ratio(self, name=None):
        """Median update-to-weight ratio of one weight (default: over all hidden-layer weights)."""
        names = [name] if name else list(self.ratios)[:-1]
        return float(np.median(np.concatenate([self.ratios[n] for n in names])))


def _readonly(a):
    a = np.asarray(a, dtype=float)
    a.flags.writeable = False
    return a


def scan_run(lr, epochs=EPOCHS, seed=None):
    """Train ``make_mlp(rng=seed)`` with Adam(lr) for ``epochs`` epochs (cached).

    Mini-batches of 64 in an order seeded by ``seed`` (None: the first seed of COURSE_SEED);
    update ratios recorded every 4 steps. Same arguments -> the same ScanRun (its arrays are
    read-only; ``verdict`` is None).
    """
    return _scan_run(float(lr), int(epochs), int(default_seed(seed)))


@lru_cache(maxsize=None)
def _scan_run(lr, epochs, seed):
    X, y, Xv, yv, _, _ = digits()
    model = make_mlp(rng=seed)
    # an exploding run overflows on purpose: the guard reports it, no warning needed
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        hist = fit(model, SoftmaxCrossEntropy(), Adam(model.parameters(), lr=lr), X, y,
                   epochs=epochs, batch_size=BATCH_SIZE, val=(Xv, yv), rng=seed, ratio_every=4,
                   progress=False)
    return ScanRun(float(lr), _readonly(hist.loss), hist.steps - 1 if hist.exploded else None,
                   hist.val_acc[-1] if hist.val_acc else None,
                   {k: _readonly(v) for k, v in hist.update_ratios.items()},
                   _readonly(hist.ratio_steps), hist.message, model.state_dict())


def precompute(lrs=LRS, epochs=EPOCHS, seed=None):
    """Train (and cache) every run of the scan and read it; returns dict lr -> ScanRun with
    its ``verdict`` set by ``read_scan``. ``seed``: None takes the first seed of COURSE_SEED."""
    seed = default_seed(seed)
    runs = {float(lr): scan_run(float(lr), epochs, seed) for lr in lrs}
    verdicts = read_scan({lr: (r.loss, r.exploded) for lr, r in runs.items()})
    return {lr: replace(r, verdict=verdicts[lr]) for lr, r in runs.items()}


def scans(seeds, lrs=LRS, epochs=EPOCHS):
    """The scan on several seeds (each its own initialization and batch order): dict seed ->
    (dict lr -> ScanRun). Cached run by run, so the widget and the notebook share them."""
    return {int(s): precompute(lrs, epochs, int(s)) for s in seeds}


def scan_model(run, seed=None):
    """The scan's network with the weights ``run`` (a ScanRun) ended with."""
    net = make_mlp(rng=default_seed(seed))
    net.load_state_dict(run.state)
    return net


def examples_of(runs):
    """One rate per verdict of a scan: dict GUIDE key -> the middle rate (on the grid) that got
    it; verdicts that do not occur are left out."""
    out = {}
    for key in GUIDE:
        lrs = [lr for lr, r in runs.items() if r.verdict == key]
        if lrs:
            out[key] = lrs[len(lrs) // 2]
    return out


def scan_table(scans):
    """The scan on several seeds as text: one line per rate, verdict and validation accuracy
    per seed."""
    seeds = list(scans)
    lines = [f"{'lr':>8}  " + "".join(f"{'seed ' + str(s):<24}" for s in seeds)]
    for lr in scans[seeds[0]]:
        cells = []
        for s in seeds:
            r = scans[s][lr]
            acc = "—" if r.val_acc is None else f"{r.val_acc:.3f}"
            cells.append(f"{r.verdict:9} val {acc:<9}")
        lines.append(f"{lr:8.2g}  " + "".join(f"{c:<24}" for c in cells))
    return "\n".join(lines)


def nearest_lr(value, lrs=LRS):
    """The grid rate closest to ``value`` on the log scale (a slider's float may be off by 1 ulp)."""
    logs = np.log10(lrs)
    return float(lrs[int(np.argmin(np.abs(logs - math.log10(value))))])


def smooth(loss, beta=0.9):
    """Exponential moving average with bias correction (as Adam corrects its moments):
    s_t = beta s_(t-1) + (1 - beta) loss_t, shown as s_t / (1 - beta^(t+1)), so the curve
    starts at the first loss and averages over about 1 / (1 - beta) = 10 steps.

    Shapes: loss (T,) -> (steps (T,), values (T,)).
    """
    loss = np.asarray(loss, dtype=float)
    out, s = np.empty_like(loss), 0.0
    for t, v in enumerate(loss):
        s = beta * s + (1.0 - beta) * v
        out[t] = s / (1.0 - beta ** (t + 1))
    return np.arange(loss.size), out


# ---------------------------------------------------------------------------------------------
# drawing the scan

def _log_ticks(ax, axis="y", ticks=(1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)):
    # plain tick labels: mathtext (10^k) labels are slow to lay out
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator(list(ticks)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_locator(NullLocator())


def _seed_scans(runs):
    """dict seed -> runs, from either that or one scan (dict lr -> ScanRun)."""
    first = next(iter(runs.values()))
    return runs if isinstance(first, dict) else {None: runs}


def draw_scan(runs, axes=None, ylim=(1e-4, 30.0), cmap="viridis"):
    """The static scan figure. Left: every run of the first seed's scan, its smoothed loss
    coloured by log10(lr) (colour bar) with the verdict as the line style. Right: validation
    accuracy after the scan against the rate, one line per seed, markers coloured by verdict
    (x: stopped by the explosion guard). ``runs``: dict seed -> scan, or one scan (dict lr ->
    ScanRun). Returns the two axes."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    by_seed = _seed_scans(runs)
    first = next(iter(by_seed.values()))
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 4.0), gridspec_kw={"width_ratios": [1.45, 1]})
    ax, ax2 = axes
    logs = np.log10(list(first))
    norm = Normalize(logs.min(), logs.max())
    colors = plt.get_cmap(cmap)
    for lr, run in first.items():
        color = colors(norm(np.log10(lr)))
        if run.exploded:            # too short to average: the raw losses, clipped to the axes
            top = min(run.loss[-1], ylim[1] * 0.8)
            ax.plot([0, run.exploded_at], [run.loss[0], top], color=color, lw=1.2)
            ax.plot(run.exploded_at, top, "x", color=color, ms=7, mew=2)
            continue
        ax.plot(*smooth(run.loss), color=color, lw=1.3, ls=LINESTYLE[run.verdict])
    ax.axhline(np.log(10), color="0.5", ls=":", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    _log_ticks(ax)
    ax.set_xlabel("Adam step (mini-batch of 64)")
    ax.set_ylabel("training loss (moving average)")
    handles = [Line2D([], [], color="0.25", lw=1.5, ls=LINESTYLE[k],
                      marker="x" if k == "exploded" else None, label=SHORT[k]) for k in GUIDE]
    ax.legend(handles=handles, fontsize=8, loc="lower left", handlelength=2.4, framealpha=0.9,
              title="line style = verdict", title_fontsize=8)
    seed = next(iter(by_seed))
    ax.set_title(f"{len(first)} rates, {EPOCHS} epochs each" + ("" if seed is None else f" (seed {seed})"),
                 fontsize=10)
    bar = ax.figure.colorbar(ScalarMappable(norm, colors), ax=ax, pad=0.02, fraction=0.05)
    bar.set_label("log10(learning rate)", fontsize=9)
    bar.ax.tick_params(labelsize=8)

    for k, scan in enumerate(by_seed.values()):
        lrs = np.array(list(scan))
        acc = np.array([0.0 if r.val_acc is None else r.val_acc for r in scan.values()])
        ax2.plot(lrs, acc, color="0.6" if k else "0.3", lw=0.8, zorder=1)
        for lr, a, run in zip(lrs, acc, scan.values()):
            c = GUIDE[run.verdict][2]
            ax2.plot(lr, a, "x" if run.exploded else "o", color=c, ms=5.5 if k == 0 else 4,
                     mew=1.5, alpha=1.0 if k == 0 else 0.6, zorder=2)
    lrs = np.array(list(first))
    ax2.set_xscale("log")
    ax2.set_xlim(lrs.min() / 2, lrs.max() * 2)
    ax2.set_ylim(-0.03, 1.03)
    ax2.set_xlabel("learning rate")
    ax2.set_ylabel(f"validation accuracy after {EPOCHS} epochs")
    n = len(by_seed)
    ax2.set_title(f"{n} seed{'s' if n > 1 else ''} (first seed: large markers)", fontsize=10)
    marks = [Line2D([], [], ls="", marker="x" if k == "exploded" else "o", color=c, mew=1.5, label=SHORT[k])
             for k, (_, _, c) in GUIDE.items()]
    ax2.legend(handles=marks, fontsize=8, loc="lower right", bbox_to_anchor=(0.9, 0.04), title="verdict",
               title_fontsize=8)
    ax2.grid(alpha=0.3)
    return axes


class ScannerView:
    """The widget's figure, built once: all scan curves in grey, the chosen one on top in its
    verdict's colour (left); its update-to-weight ratios per layer (right).

    For speed the static part (axes, ticks, grey curves) is rendered once and kept as a
    background; a move restores it and draws only the artists that change (blitting).
    """

    def __init__(self, runs, figsize=(10, 3.8), dpi=80):
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.runs = runs
        self.fig = Figure(figsize=figsize, dpi=dpi)   # not registered with pyplot: never shown twice
        self.canvas = FigureCanvasAgg(self.fig)
        ax1, ax2 = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1], "left": 0.085,
                                                        "right": 0.985, "bottom": 0.14, "top": 0.84,
                                                        "wspace": 0.22})
        self.ax1, self.ax2 = ax1, ax2
        for run in runs.values():
            ax1.plot(*smooth(run.loss), color="0.75", lw=0.8)
        ax1.axhline(np.log(10), color="0.5", ls=":", lw=1)
        self.raw, = ax1.plot([], [], lw=0.6, alpha=0.35)
        self.curve, = ax1.plot([], [], lw=2.4)
        self.cross, = ax1.plot([], [], "x", ms=10, mew=2.5)
        ax1.set_yscale("log")
        ax1.set_ylim(1e-4, 30.0)
        ax1.set_xlim(0, max(len(r.loss) for r in runs.values()))
        _log_ticks(ax1)
        ax1.set_xlabel("Adam step (mini-batch of 64)")
        ax1.set_ylabel("training loss (log scale)")
        names = list(next(iter(runs.values())).ratios)
        colors = plt.get_cmap("tab10").colors
        labels = [f"W{i + 1}" + (", output" if i == len(names) - 1 else "") for i in range(len(names))]
        self.ratio_lines = {n: ax2.plot([], [], "-", lw=1.3, color=colors[i], label=labels[i])[0]
                            for i, n in enumerate(names)}
        ax2.axhspan(-4, -2, color="tab:green", alpha=0.08)
        ax2.axhline(-3, color="k", ls="--", lw=1, label="1e-3")
        ax2.set_ylim(-6.5, 0.5)
        ax2.set_xlim(0, max(len(r.loss) for r in runs.values()))
        ax2.set_xlabel("step")
        ax2.set_ylabel("log10(‖ΔW‖ / ‖W‖)")
        self.legend2 = ax2.legend(fontsize=7, loc="lower right", ncol=2)
        # panel titles as figure texts at fixed places: cheap to redraw on their own
        self.title1, self.title2 = (
            self.fig.text(0.5 * (ax.get_position().x0 + ax.get_position().x1), 0.86, "",
                          ha="center", fontsize=10) for ax in (ax1, ax2))
        self.suptitle = self.fig.suptitle("", fontsize=11)
        # drawn on every update, in this order (the legend last, over the ratio lines)
        self.dynamic = [self.raw, self.curve, self.cross, *self.ratio_lines.values(), self.legend2,
                        self.title1, self.title2, self.suptitle]
        self.background = None

    def update(self, lr):
        """Highlight the run of grid rate ``lr``; returns that ScanRun."""
        run = self.runs[nearest_lr(lr, tuple(self.runs))]
        color = GUIDE[run.verdict][2]
        self.raw.set_data(np.arange(run.loss.size), run.loss)
        self.raw.set_color(color)
        self.curve.set_data(*smooth(run.loss))
        self.curve.set_color(color)
        if run.exploded:
            self.cross.set_data([run.exploded_at], [min(run.loss[-1], 27.0)])
        else:
            self.cross.set_data([], [])
        self.cross.set_color(color)
        for name, line in self.ratio_lines.items():
            r = run.ratios[name]
            line.set_data(run.ratio_steps[: r.size], np.log10(np.maximum(r, 1e-30)))
            line.set_marker("o" if r.size < 3 else "")     # an exploded run has one or two points
        self.suptitle.set_text(run.title)
        self.suptitle.set_color(color)
        acc = "—" if run.val_acc is None else f"{run.val_acc:.3f}"
        self.title1.set_text(f"this run (colour) over the other {len(self.runs) - 1} (grey); val acc {acc}")
        self.title2.set_text(f"update-to-weight ratios, median {run.median_ratio():.1e} (hidden W)")
        return run

    def _capture_background(self):
        for artist in self.dynamic:
            artist.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for artist in self.dynamic:
            artist.set_visible(True)

    def render(self, lr):
        """Update and return (PNG bytes, ScanRun): restore the static background, draw the
        changing artists on top, encode the pixels as PNG."""
        from PIL import Image

        run = self.update(lr)
        if self.background is None:
            self._capture_background()
        self.canvas.restore_region(self.background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        pixels = np.asarray(self.canvas.buffer_rgba())[..., :3]
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="png", compress_level=1)
        return buf.getvalue(), run


def lr_scanner(lr=10 ** -2.5, runs=None):
    """Build the widget: a log slider over the scanned learning rates (the first and only
    control). Each move redraws the reused figure; ``widget.result`` is (png, ScanRun)."""
    import ipywidgets as W
    from IPython.display import Image, display

    runs = precompute() if runs is None else runs
    logs = np.log10(list(runs))
    step = float(np.round(np.diff(logs).min(), 6))
    view = ScannerView(runs)

    def show(lr):
        png, run = view.render(lr)
        display(Image(data=png, format="png"))
        return png, run

    box = W.interactive(
        show,
        lr=W.FloatLogSlider(value=nearest_lr(lr, tuple(runs)), base=10, min=float(logs.min()),
                            max=float(logs.max()), step=step, readout_format=".3g",
                            description="learning rate", continuous_update=False,
                            style={"description_width": "initial"}, layout=W.Layout(width="460px")),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


# ---------------------------------------------------------------------------------------------
# hyperparameter search: log-scale sampling, random vs grid, coarse -> fine

def decade_fractions(values, low_exp=-6, high_exp=-1):
    """Share of ``values`` in each decade [10^k, 10^(k+1)) for k = low_exp .. high_exp - 1.

    Shapes: values (N,) -> (high_exp - low_exp,).
    """
    values = np.asarray(values, dtype=float)
    edges = 10.0 ** np.arange(low_exp, high_exp + 1)
    counts, _ = np.histogram(values, bins=edges)
    return counts / values.size


def important(x):
    """The axis that matters: a narrow bump at x = 0.7, height 1 (x in [0, 1])."""
    return np.exp(-(((np.asarray(x) - 0.7) / 0.12) ** 2))


def unimportant(y):
    """The axis that barely matters: a shallow bump of height 0.05 at y = 0.35."""
    return 0.05 * np.exp(-(((np.asarray(y) - 0.35) / 0.3) ** 2))


def toy_objective(x, y):
    """Bergstra & Bengio's picture as a function to MAXIMIZE: important(x) + unimportant(y)."""
    return float(important(x) + unimportant(y))


TOY_SPACE = {"x": Uniform(0.0, 1.0), "y": Uniform(0.0, 1.0)}


def draw_search(result, ax, title, ylabel=True):
    """Points tried by a search in the unit square, with the two marginal objectives drawn
    above (x, the important one) and to the right (y, on the same scale); each tried value is
    marked on them. Compact enough for three panels side by side."""
    xs, ys = np.array(result.values("x")), np.array(result.values("y"))
    t = np.linspace(0, 1, 300)
    gx, gy = np.meshgrid(t, t)
    ax.contourf(gx, gy, important(gx) + unimportant(gy), levels=12, cmap="Greens", alpha=0.7)
    ax.plot(xs, ys, "o", color="k", ms=5)
    best = result.best["params"]
    ax.plot(best["x"], best["y"], "*", color="tab:red", ms=14)
    ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), xlabel="x (important)")
    if ylabel:
        ax.set_ylabel("y (unimportant)")
    top = ax.inset_axes([0.0, 1.04, 1.0, 0.3], sharex=ax)
    top.plot(t, important(t), color="tab:green")
    top.plot(xs, important(xs), "o", color="k", ms=3.5)
    top.set_title(f"{title}\n{len(np.unique(np.round(xs, 9)))} distinct x, best {result.best['score']:.2f}",
                  fontsize=9)
    top.set_yticks([])
    if ylabel:
        top.set_ylabel("g(x)", fontsize=9)
    top.tick_params(labelbottom=False)
    right = ax.inset_axes([1.04, 0.0, 0.16, 1.0], sharey=ax)
    right.plot(unimportant(t), t, color="tab:green")
    right.plot(unimportant(ys), ys, "o", color="k", ms=3.5)
    right.set_xlim(0, 1.0)          # same scale as the top marginal: y barely matters
    right.set_xticks([])
    right.set_xlabel("h(y)", fontsize=9)
    right.tick_params(labelleft=False)
    return ax


def narrow(result, space, top=5, widen=2.0):
    """The next, finer search space: for each LogUniform (Uniform) hyperparameter, the range
    spanned by the ``top`` best trials, widened by a factor ``widen`` on each side on the log
    scale (by ``widen - 1`` times the span on the linear scale) and clipped to the old range.
    Other entries (Choice) are kept."""
    best = result.trials[:top]
    out = {}
    for name, dist in space.items():
        values = np.array([t["params"][name] for t in best], dtype=float)
        if isinstance(dist, LogUniform):
            lo, hi = max(values.min() / widen, dist.low), min(values.max() * widen, dist.high)
            out[name] = LogUniform(lo, hi)
        elif isinstance(dist, Uniform):
            pad = (widen - 1.0) * max(values.max() - values.min(), 1e-12)
            out[name] = Uniform(max(values.min() - pad, dist.low), min(values.max() + pad, dist.high))
        else:
            out[name] = dist
    return out
