"""Activation explorer for notebooks/01_activations.ipynb.

Pick an activation and the spread (standard deviation) of the pre-activations that reach it;
the explorer feeds a fixed standard-normal sample, scaled by that std, through the function
and shows three panels: the curve f(x) and its slope f'(x) with the band where the inputs
fall, the histogram of the outputs f(z), and the histogram of the local gradients f'(z).
The title gives the mean output (is it zero-centred?), the share of inputs whose local
gradient is weak (|f'| below 5% of the function's steepest slope: saturated or dead) and the
share whose gradient is exactly zero.

Pure, seeded compute functions (``curve``, ``max_slope``, ``explore``), drawing (``plot_curve``
for static figures, ``ExplorerView`` / ``draw`` for the widget) and the builder ``activation_explorer``.
"""
from functools import lru_cache

import numpy as np

from ..activations import ELU, GELU, LeakyReLU, PReLU, ReLU, SiLU, Sigmoid, Tanh
from ..layers import Maxout
from ..module import Module
from ..rng import seeds as course_seeds
from ._common import render_png

# name shown in the dropdown -> factory of a fresh layer
ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "ReLU": ReLU,
    "Leaky ReLU (α=0.01)": lambda: LeakyReLU(0.01),
    "PReLU (α=0.25)": lambda: PReLU(1, init=0.25),
    "ELU (α=1)": ELU,
    "GELU": GELU,
    "SiLU / Swish": SiLU,
}
WEAK = 0.05          # a local gradient below 5% of the steepest slope counts as "weak"
SLIDER = (-1.0, 1.5, 0.05)   # log10 of the input std: min, max, step


def curve(act, x):
    """The curve f(x) and the slope f'(x) of an activation layer, for a 1-D grid x.

    Element-wise activations use ``act.derivative``; layers without one (PReLU with one
    slope, a Maxout(1 -> 1) unit) are run forward on x as a batch of N one-feature examples
    and backward with an upstream gradient of ones, which returns f'(x) for each example
    (their parameter gradients are zeroed again afterwards).
    Shapes: x (N,) -> f (N,), df (N,).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"curve expects a 1-D grid x of shape (N,), got {x.shape}")
    if hasattr(act, "derivative"):
        return act.forward(x), act.derivative(x)
    if not isinstance(act, Module):
        raise TypeError(f"curve expects an activation layer, got {type(act).__name__}")
    f = act.forward(x[:, None])
    df = act.backward(np.ones_like(f))
    act.zero_grad()
    if f.shape[1] != 1:
        raise ValueError(f"curve: {act!r} must map one feature to one output, got {f.shape[1]}")
    return f[:, 0], df[:, 0]


@lru_cache(maxsize=None)
def max_slope(name):
    """The steepest |f'(x)| of ACTIVATIONS[name] on [-10, 10] (sigmoid 1/4, tanh and ReLU 1)."""
    _, df = curve(_make(name), np.linspace(-10.0, 10.0, 20001))
    return float(np.abs(df).max())


def _make(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {list(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


@lru_cache(maxsize=4)
def _base(n, seed):
    z = np.random.default_rng(seed).standard_normal(n)
    z.setflags(write=False)
    return z


def _frozen(a):
    a = np.asarray(a, dtype=float)
    a.setflags(write=False)
    return a


def snap(scale):
    """The std rounded to 4 significant digits: the cache key (a slider value computed in the
    browser may differ from NumPy's 10 ** k in the last bit)."""
    return float(f"{float(scale):.4g}")


def slider_values():
    """Every std the explorer's log slider can take: 10 ** (min + k * step)."""
    lo, hi, step = SLIDER
    k = int(round((hi - lo) / step))
    return 10.0 ** (lo + step * np.arange(k + 1))


def explore(name, scale, n=20000, seed=None, bins=60):
    """Pre-activations z = scale * u (u a fixed standard-normal sample of size n, drawn from
    ``np.random.default_rng(seed)``; seed None: the first of ``cl.seeds``, from COURSE_SEED)
    through ACTIVATIONS[name]: statistics and histograms of f(z) and f'(z). Cached.

    Returns a dict: name, scale; mean_out, std_out (of f(z)); weak = share of z with
    |f'(z)| < WEAK * max_slope(name); zero = share with f'(z) == 0 exactly; mean_grad;
    act_hist, grad_hist (bins,) = share of the n inputs per bin over act_edges, grad_edges
    (bins + 1,); curve_x, curve_f, curve_df (401,) = the function drawn over a range that
    covers +-4 std and at least [-4, 4]. Arrays are read-only.
    """
    if not scale > 0:
        raise ValueError(f"explore: the input std must be positive, got {scale!r}")
    seed = course_seeds(1)[0] if seed is None else int(seed)
    return _explore(name, float(scale), int(n), seed, int(bins))


explore.cache_clear = lambda: _explore.cache_clear()     # empties the cache behind explore


@lru_cache(maxsize=1024)
def _explore(name, scale, n, seed, bins):
    act = _make(name)
    z = scale * _base(n, seed)
    a, g = curve(act, z)
    top = max_slope(name)
    a_lo, a_hi = float(a.min()), float(a.max())
    if a_hi - a_lo < 1e-12:
        a_lo, a_hi = a_lo - 0.5, a_hi + 0.5
    g_lo, g_hi = min(0.0, float(g.min())), 1.05 * top
    act_hist, act_edges = np.histogram(a, bins=bins, range=(a_lo, a_hi))
    grad_hist, grad_edges = np.histogram(g, bins=bins, range=(g_lo, g_hi))
    half = max(4.0, 4.0 * scale)
    xs = np.linspace(-half, half, 401)
    fx, dfx = curve(_make(name), xs)
    return {
        "name": name, "scale": float(scale),
        "mean_out": float(a.mean()), "std_out": float(a.std()),
        "weak": float(np.mean(np.abs(g) < WEAK * top)),
        "zero": float(np.mean(g == 0.0)),
        "mean_grad": float(g.mean()),
        "act_hist": _frozen(act_hist / z.size), "act_edges": _frozen(act_edges),
        "grad_hist": _frozen(grad_hist / z.size), "grad_edges": _frozen(grad_edges),
        "curve_x": _frozen(xs), "curve_f": _frozen(fx), "curve_df": _frozen(dfx),
    }


def precompute(names=None):
    """Fill ``explore``'s cache for every slider position of the given activations."""
    for name in names or ACTIVATIONS:
        for s in slider_values():
            explore(name, snap(s))


def plot_curve(act, ax=None, x=None, title=None):
    """Like ``course_lib.plots.plot_activation`` (f solid, f' dashed) for any layer that
    ``curve`` accepts, including PReLU and a Maxout(1 -> 1) unit. Returns the axes."""
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(-5, 5, 401) if x is None else x
    f, df = curve(act, x)
    ax.plot(x, f, label="f(x)")
    ax.plot(x, df, "--", label="f'(x)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(title or repr(act))
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    return ax


class ExplorerView:
    """The explorer's figure, made once; ``update(result)`` swaps the data of its artists.

    Reusing one figure (a ``matplotlib.figure.Figure`` made outside pyplot, so nothing
    accumulates) keeps a redraw cheap: the axes, ticks and legends are not rebuilt.
    """

    def __init__(self, figsize=(8.4, 3.1), dpi=100):
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.axes = ax0, ax1, ax2 = self.fig.subplots(1, 3)
        self.fig.subplots_adjust(left=0.06, right=0.99, bottom=0.16, top=0.79, wspace=0.3)
        self.band = ax0.axvspan(-2, 2, color="0.88", label="±2 std")
        self.f_line, = ax0.plot([], [], color="C0", label="f(x)")
        self.df_line, = ax0.plot([], [], "--", color="C1", label="f'(x)")
        ax0.axhline(0, color="grey", lw=0.5)
        ax0.set_xlabel("pre-activation x", fontsize=9)
        ax0.legend(fontsize=9, loc="upper left", handlelength=1.5, borderpad=0.3, labelspacing=0.2)
        self.act_bars = ax1.stairs([0.0], [0.0, 1.0], fill=True, color="C0", alpha=0.7)
        ax1.set_xlabel("output f(z)", fontsize=9)
        ax1.set_ylabel("share of inputs", fontsize=9)
        self.grad_bars = ax2.stairs([0.0], [0.0, 1.0], fill=True, color="C1", alpha=0.7)
        self.weak_line = ax2.axvline(0.0, color="k", ls=":", lw=1, label="weak below")
        ax2.set_xlabel("local gradient f'(z)", fontsize=9)
        ax2.legend(fontsize=9, loc="upper center", borderpad=0.3)
        for ax in self.axes:
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(labelsize=9)

    def update(self, result):
        """Show an ``explore`` result; returns the figure."""
        ax0, ax1, ax2 = self.axes
        s, x = result["scale"], result["curve_x"]
        self.band.set_x(-2 * s)
        self.band.set_width(4 * s)
        self.f_line.set_data(x, result["curve_f"])
        self.df_line.set_data(x, result["curve_df"])
        lo = min(result["curve_f"].min(), result["curve_df"].min())
        hi = max(result["curve_f"].max(), result["curve_df"].max())
        pad = 0.06 * (hi - lo)
        ax0.set_xlim(x[0], x[-1])
        ax0.set_ylim(lo - pad, hi + pad)
        ax0.set_title("function and slope", fontsize=9)
        for bars, ax, hist, edges in ((self.act_bars, ax1, result["act_hist"], result["act_edges"]),
                                      (self.grad_bars, ax2, result["grad_hist"], result["grad_edges"])):
            bars.set_data(hist, edges)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, 1.08 * hist.max())
        ax1.set_title(f"outputs: mean {result['mean_out']:+.2f}, std {result['std_out']:.2g}", fontsize=9)
        weak = WEAK * max_slope(result["name"])
        self.weak_line.set_xdata([weak, weak])
        ax2.set_title(f"local gradients: mean {result['mean_grad']:.2g}", fontsize=9)
        self.fig.suptitle(f"{result['name']}, input std {s:.3g}: weak gradient (|f'| < {weak:.3g}) "
                          f"for {result['weak']:.0%} of inputs, exactly zero for {result['zero']:.0%}",
                          fontsize=10)
        return self.fig


def draw(result, view=None):
    """The explorer's three panels for an ``explore`` result (in ``view`` if given, else in a
    new ExplorerView); returns the figure."""
    return (view or ExplorerView()).update(result)


def activation_explorer(name="tanh", scale=1.0, warm=True):
    """Build the explorer: a log slider for the input std (first control) and a dropdown for
    the activation. Each change looks up (or computes) ``explore`` and redraws.

    With ``warm`` every slider position of the default activation is precomputed. Returns an
    ``ipywidgets.interactive``; its ``result`` is the dict from ``explore``.
    """
    import ipywidgets as widgets
    from IPython.display import Image, display

    lo, hi, step = SLIDER
    slider = widgets.FloatLogSlider(value=scale, base=10, min=lo, max=hi, step=step,
                                    description="input std", readout_format=".3g",
                                    continuous_update=False)
    dropdown = widgets.Dropdown(options=list(ACTIVATIONS), value=name, description="activation")
    if warm:
        precompute([name])

    view = ExplorerView()

    def update(scale, name):
        result = explore(name, snap(scale))
        display(Image(render_png(view.update(result))))
        return result

    box = widgets.interactive(update, scale=slider, name=dropdown)
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


# ------------------------------------------------------------------------------------------
# the notebook's static figures (each returns its figure; the data come from
# activations_experiments, so the figures and the asserts read the same runs)
# ------------------------------------------------------------------------------------------

def _plt():
    import matplotlib.pyplot as plt
    return plt


def _depth_colors(n):
    # as cl.plots: viridis without its pale yellow end, dark = near the input
    return _plt().cm.viridis(np.linspace(0.0, 0.85, max(n, 1)))


def draw_zoo(zoo, x=None):
    """The activation functions f (solid) and their derivatives f' (dashed), one panel each,
    3 per row, at the notebook's width. ``zoo``: {title: layer}."""
    plt = _plt()
    x = np.linspace(-4, 4, 801) if x is None else x
    rows = -(-len(zoo) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(8.4, 2.15 * rows), sharex=True, sharey=True,
                             constrained_layout=True)
    for ax, (name, act) in zip(axes.ravel(), zoo.items()):
        f, df = curve(act, x)
        ax.plot(x, f, lw=1.6, label="f(x)")
        ax.plot(x, df, "--", lw=1.4, label="f'(x)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name, fontsize=10)
        ax.set_ylim(-1.7, 3.2)
        ax.tick_params(labelsize=9)
    for ax in axes.ravel()[len(zoo):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("x", fontsize=9)
    axes[0, 0].legend(fontsize=9, loc="upper left")
    fig.suptitle("Activation functions f (solid) and their derivatives f' (dashed)", fontsize=11)
    return fig


def _quadratic(C, w_star):
    def f(a, b):
        da, db = a - w_star[0], b - w_star[1]
        return 0.5 * (C[0, 0] * da * da + 2 * C[0, 1] * da * db + C[1, 1] * db * db)
    return f


def draw_zigzag(inputs, paths, w0, w_star):
    """§3: left, each example's SGD step at w0 for positive and centred inputs; then one SGD path
    per input kind on the contours of its loss 1/2 (w - w*)' C (w - w*), C = E[x x'].
    ``inputs`` / ``paths``: {name: (n, 2) inputs}, {name: (T, 2) visited weights}."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.0), constrained_layout=True)
    ax = axes[0]
    ax.fill_between([0, 2], -2, 0, color="C2", alpha=0.15, lw=0, label="towards w*")
    for (name, X), marker, color in zip(inputs.items(), ("o", "x"), ("C0", "C1")):
        lr = 0.5 / np.mean(np.sum(X ** 2, axis=1))
        step = -lr * (X @ (w0 - w_star))[:, None] * X      # each example's SGD step at w0
        ax.scatter(step[:, 0], step[:, 1], s=8, marker=marker, alpha=0.5, color=color, label=name)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), aspect="equal")
    ax.set_xlabel("Δw₁", fontsize=9)
    ax.set_ylabel("Δw₂", fontsize=9)
    ax.set_title("one SGD step per example, at w₀", fontsize=10)
    ax.legend(fontsize=9, loc="upper left", markerscale=1.5, handletextpad=0.2, borderpad=0.3)
    g = np.linspace(-1.6, 1.6, 241)
    ga, gb = np.meshgrid(g, g)
    for ax, (name, X), color in zip(axes[1:], inputs.items(), ("C0", "C1")):
        C = X.T @ X / len(X)
        z = _quadratic(C, w_star)(ga, gb)
        levels = np.geomspace(max(z.min(), 1e-4) * 3, z.max(), 9)
        ax.contour(ga, gb, z, levels=levels, colors="0.35", linewidths=0.9)
        path = paths[name]
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.3)
        ax.plot(*w0, "ko", ms=5)
        ax.plot(*w_star, "k*", ms=11)
        ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal")
        ax.set_xlabel("w₁", fontsize=9)
        ax.set_title(f"{name}: {len(path) - 1} steps", fontsize=10)
    axes[1].set_ylabel("w₂", fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=9)
    return fig


def draw_race(races, same_lr, lrs, target, max_epochs):
    """§5: left, training accuracy per epoch at the shared lr, every seed (one colour per
    activation); right, epochs to the target per seed at the shared lr and with each
    activation's best lr (a marker at the top: not reached). ``races``: {name: spirals_race
    result}."""
    plt = _plt()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.4, 3.3), constrained_layout=True,
                                   gridspec_kw={"width_ratios": [1.1, 1]})
    j = list(lrs).index(same_lr)
    colors = {"ReLU": "C0", "tanh": "C1", "sigmoid": "C3"}
    for name, r in races.items():
        for k, curve_ in enumerate(r["curves"][j]):
            ax0.plot(np.arange(1, len(curve_) + 1), curve_, color=colors.get(name), lw=0.9, alpha=0.6,
                     label=name if k == 0 else None)
    ax0.axhline(target, color="k", ls=":", lw=1)
    ax0.set(ylim=(0.3, 1.01), xlim=(0, max_epochs))
    ax0.set_xlabel("epoch", fontsize=9)
    ax0.set_ylabel("training accuracy (full pass)", fontsize=9)
    ax0.set_title(f"lr {same_lr} for all, every seed", fontsize=10)
    ax0.legend(fontsize=9, loc="center right")
    top = max_epochs + 6
    xs, labels = 0, []
    for name in ("ReLU", "tanh"):
        e = races[name]["epochs"]
        for what, values in ((f"lr {same_lr}", e[j]), ("best lr", e.min(axis=0))):
            v = np.where(np.isfinite(values), values, top)
            off = np.linspace(-0.15, 0.15, len(v))
            ax1.scatter(xs + off, v, s=22, color=colors[name], alpha=0.85, zorder=3,
                        marker="o" if what != "best lr" else "D")
            ax1.hlines(np.mean(v), xs - 0.28, xs + 0.28, color=colors[name], lw=2.2)
            labels.append(f"{name}\n{what}")
            xs += 1
    ax1.axhline(top, color="0.7", lw=0.8, ls="--")
    ax1.text(xs - 0.5, top - 1.5, f"not in {max_epochs}", fontsize=9, ha="right", va="top", color="0.4")
    ax1.set_xticks(range(xs))
    ax1.set_xticklabels(labels, fontsize=9)
    ax1.set_ylim(0, top + 3)
    ax1.set_ylabel(f"epochs to {target:.0%} (per seed; bar: mean)", fontsize=9)
    ax1.set_title("ReLU vs tanh, per seed", fontsize=10)
    for ax in (ax0, ax1):
        ax.tick_params(labelsize=9)
    return fig


def draw_firing(rates):
    """§6: how often each unit of a layer fires on the training set, one panel per run; units
    that never fire (dead) are their own black bar left of the axis, not part of the first bin.
    ``rates``: {title: (units,) share of examples on which each unit is active}."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(rates), figsize=(8.4, 2.9), sharey=True, constrained_layout=True)
    axes = np.atleast_1d(axes)
    edges = np.linspace(0, 1, 21)
    for ax, (title, rate) in zip(axes, rates.items()):
        rate = np.asarray(rate)
        dead = rate == 0
        ax.hist(rate[~dead], bins=edges, color="C0", label="fires on some examples")
        ax.bar(-0.07, dead.sum(), width=0.06, color="k", label="dead: fires on none")
        ax.set_xlim(-0.12, 1.02)
        ax.set_title(f"{title}: {dead.mean():.0%} dead", fontsize=10)
        ax.set_xlabel("share of training examples the unit fires on", fontsize=9)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("number of units", fontsize=9)
    axes[-1].legend(fontsize=9, loc="upper right")
    return fig


def draw_dead_steps(panels, switch=None):
    """§6 during training: the per-batch dead share of each ReLU layer over the training steps
    (ActivationStats), one panel per configuration, one line per layer and seed (the first
    seed bold). ``panels``: {title: [ActivationStats, ...]}; ``switch``: {title: the step
    where that panel's lr was lowered} (a dotted line), or None."""
    switch = switch or {}
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(8.4, 3.0), sharey=True, constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, (title, stats_list) in zip(axes, panels.items()):
        layers = stats_list[0].layers
        colors = _depth_colors(len(layers))
        for k, stats in enumerate(stats_list):
            for c, i in zip(colors, layers):
                ax.plot(stats.steps, 100 * stats.dead[i], color=c, lw=1.6 if k == 0 else 0.7,
                        alpha=1.0 if k == 0 else 0.45,
                        label=f"hidden layer {layers.index(i) + 1}" if k == 0 else None)
        if switch.get(title) is not None:
            ax.axvline(switch[title], color="k", ls=":", lw=1)
            ax.text(switch[title] + 3, 25, "lr → 0.05", fontsize=9, rotation=90, va="center")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training step", fontsize=9)
        ax.set_ylim(-2, 102)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("dead units on the batch (%)", fontsize=9)
    axes[0].legend(fontsize=9, loc="center right")
    return fig


def draw_std_steps(panels, layer, last_step=None, floor=1e-4):
    """§6 during training: the std of one hidden layer's outputs over the training steps, log
    scale, one colour per configuration, every seed; a std of exactly 0 (every unit of the
    layer silent on the batch) is drawn at ``floor``. ``panels``: {label: [ActivationStats]};
    ``last_step``: the last step shown (None: all)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.4, 3.0), constrained_layout=True)
    for c, (label, stats_list) in zip(("C0", "C3", "C2", "C4", "C1"), panels.items()):
        for k, stats in enumerate(stats_list):
            keep = stats.steps <= (np.inf if last_step is None else last_step)
            std = np.maximum(stats.std[layer][keep], floor)
            ax.plot(stats.steps[keep], std, color=c, lw=1.2, alpha=0.8, label=label if k == 0 else None)
    ax.set_yscale("log")
    ax.axhline(floor, color="0.6", lw=0.8, ls="--")
    ax.text(0.99, floor * 1.8, "std 0: every unit silent", transform=ax.get_yaxis_transform(),
            ha="right", fontsize=9, color="0.35")
    ax.set_ylim(floor / 3, None)
    ax.set_xlabel("training step", fontsize=9)
    ax.set_ylabel("std of the layer's outputs", fontsize=9)
    ax.legend(fontsize=9, loc="upper right", ncol=2)
    ax.tick_params(labelsize=9)
    return fig


def draw_alpha(table, target, max_epochs):
    """§7: epochs until the circles are fitted to ``target``, per seed, against Leaky ReLU's
    alpha, each alpha at its own best lr (marker at the top: not within max_epochs)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 3.0), constrained_layout=True)
    top = max_epochs + 5
    for k, (alpha, r) in enumerate(table.items()):
        e = np.where(np.isfinite(r["epochs"]), r["epochs"], top)
        ax.scatter(k + np.linspace(-0.12, 0.12, len(e)), e, s=24, color="C0", zorder=3)
        ax.hlines(e.mean(), k - 0.25, k + 0.25, color="C0", lw=2.2)
        ax.text(k, e.max() * 1.25 + 0.5, f"lr {r['lr']:g}", ha="center", fontsize=9, color="0.3")
    ax.set_yscale("log")
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels([f"α = {a:g}" for a in table], fontsize=9)
    ax.set_ylim(0.8, top * 2.5)
    ax.set_ylabel(f"epochs to {target:.0%} training acc.", fontsize=9)
    ax.set_title("Leaky ReLU's slope α on the circles (each α at its best lr)", fontsize=10)
    ax.tick_params(labelsize=9)
    return fig


def draw_prelu(alphas_list, init=0.25):
    """§7: PReLU slopes per epoch for the two hidden layers of the first run (one faint line per
    unit) and the layer means of every run. ``alphas_list``: [(epochs + 1, 128) per seed]."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 2.9), sharey=True, constrained_layout=True)
    half = alphas_list[0].shape[1] // 2
    for ax, (lo, hi), title in zip(axes, ((0, half), (half, 2 * half)), ("hidden layer 1", "hidden layer 2")):
        ax.plot(alphas_list[0][:, lo:hi], color="C0", lw=0.5, alpha=0.4)
        for k, a in enumerate(alphas_list):
            ax.plot(a[:, lo:hi].mean(axis=1), color="k", lw=2 if k == 0 else 1, alpha=1 if k == 0 else 0.6,
                    label="layer mean, every seed" if k == 0 else None)
        ax.axhline(init, color="grey", ls=":", lw=1)
        ax.set_title(f"PReLU slopes, {title}", fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        ax.tick_params(labelsize=9)
    axes[0].set_ylabel("α (one line per unit, first seed)", fontsize=9)
    axes[0].legend(fontsize=9, loc="upper left")
    return fig


def draw_contest(table):
    """§11: test accuracy per seed of each activation at its own best lr (dots, bar = mean),
    sorted by the mean. ``table``: activations_experiments.contest_table()."""
    plt = _plt()
    names = sorted(table, key=lambda n: -table[n]["test"].mean())
    fig, ax = plt.subplots(figsize=(8.4, 3.2), constrained_layout=True)
    for k, name in enumerate(names):
        v = table[name]["test"]
        ax.scatter(k + np.linspace(-0.12, 0.12, len(v)), v, s=24, color="C0", zorder=3)
        ax.hlines(v.mean(), k - 0.28, k + 0.28, color="C0", lw=2.2)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\nlr {table[n]['lr']:g}" for n in names], fontsize=9)
    ax.set_ylabel("test accuracy (per seed)", fontsize=9)
    ax.set_title("Each activation at its own learning rate (chosen on validation); dots: seeds, "
                 "bar: mean", fontsize=10)
    ax.tick_params(labelsize=9)
    return fig


# ------------------------------------------------------------------------------------------
# the second widget: scrub through a dead-ReLU run's activation statistics, step by step
# ------------------------------------------------------------------------------------------

SCRUB_CONFIGS = ("ReLU, lr 0.05", "ReLU, lr 1.0", "ReLU, 1 epoch at lr 1.0, then 0.05",
                 "Leaky ReLU, lr 1.0", "ELU, lr 1.0")


def _scrub_run(label):
    from . import activations_experiments as axp
    if label not in SCRUB_CONFIGS:
        raise ValueError(f"unknown run {label!r}; expected one of {list(SCRUB_CONFIGS)}")
    return axp.dead_runs(label, n=1)[0]     # the first seed's run, cached with the notebook's


def scrub(label, step):
    """What the run ``label`` (its first seed, from activations_experiments.dead_runs) recorded at
    the last recorded step <= ``step``: {"label", "step", "last" (its last step), "status",
    "switch" (where the lr dropped, or None), "layers", and per layer index "dead" (per-batch
    dead share, NaN for non-ReLU), "std", "outside" (share outside the histogram's range)}."""
    run = _scrub_run(label)
    stats = run.stats
    k = int(np.clip(np.searchsorted(stats.steps, int(step), side="right") - 1, 0, len(stats) - 1))
    return {"label": label, "step": int(stats.steps[k]), "last": int(stats.steps[-1]),
            "status": run.status, "switch": run.switch, "layers": list(stats.layers),
            "dead": {i: float(stats.dead[i][k]) for i in stats.layers},
            "std": {i: float(stats.std[i][k]) for i in stats.layers},
            "outside": {i: float(stats.outside[i][k]) for i in stats.layers}}


class ScrubberView:
    """One colorful-dimension image per hidden layer (histogram of its outputs per step, log
    counts) with a cursor at the chosen step (and a red dotted line where the lr dropped);
    made once, ``update(result)`` swaps the data."""

    def __init__(self, figsize=(8.4, 2.9), dpi=100):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.axes = self.fig.subplots(1, 3, sharey=True)
        self.fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.78, wspace=0.08)
        self.images, self.cursors, self.switches, self.label = [], [], [], None
        for ax in self.axes:
            self.images.append(ax.imshow(np.zeros((2, 2)), origin="lower", aspect="auto",
                                         cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"))
            self.cursors.append(ax.axvline(0, color="w", lw=1.2, ls="--"))
            self.switches.append(ax.axvline(0, color="C3", lw=1.0, ls=":", visible=False))
            ax.set_xlabel("training step", fontsize=9)
            ax.tick_params(labelsize=9)
        self.axes[0].set_ylabel("activation", fontsize=9)

    def _images(self, label):
        stats = _scrub_run(label).stats
        imgs = [np.log1p(stats.hist[i].T.astype(float)) for i in stats.layers]
        vmax = max(float(img.max()) for img in imgs) or 1.0
        for im, img, i in zip(self.images, imgs, stats.layers):
            lo, hi = stats.ranges[i]
            im.set_data(img)
            im.set_extent((stats.steps[0] - 0.5, stats.steps[-1] + 0.5, lo, hi))
            im.set_clim(0.0, vmax)
        for ax, i in zip(self.axes, stats.layers):
            ax.set_xlim(stats.steps[0] - 0.5, stats.steps[-1] + 0.5)
            ax.set_ylim(*stats.ranges[i])
        switch = _scrub_run(label).switch          # where the lr dropped: a red dotted line
        for line in self.switches:
            line.set_visible(switch is not None)
            if switch is not None:
                line.set_xdata([switch - 0.5, switch - 0.5])
        self.label = label

    def update(self, result):
        if result["label"] != self.label:
            self._images(result["label"])
        for ax, cursor, i, k in zip(self.axes, self.cursors, result["layers"], range(3)):
            cursor.set_xdata([result["step"], result["step"]])
            dead = result["dead"][i]
            what = f"dead {dead:.0%}" if np.isfinite(dead) else f"std {result['std'][i]:.2g}"
            ax.set_title(f"hidden layer {k + 1}: {what}", fontsize=10)
        note = {"exploded": ", stopped by the explosion guard", "nan": ", stopped: NaN"}.get(result["status"], "")
        phase = ""
        if result["switch"] is not None:
            phase = "  (lr 1.0)" if result["step"] < result["switch"] else "  (lr 0.05 now)"
        self.fig.suptitle(f"{result['label']}: step {result['step']} of {result['last']}{note}{phase}",
                          fontsize=11)
        return self.fig


def stats_scrubber(label="ReLU, lr 1.0", step=0):
    """A step slider and a run dropdown over the dead-ReLU runs of section 6 (first seed): the
    colorful-dimension image of each hidden layer with a cursor at the step, and the dead share
    of each layer on that step's batch in the titles. Returns an ``ipywidgets.interactive``
    whose ``result`` is the dict from ``scrub``. The runs are those of the notebook (cached)."""
    import ipywidgets as widgets
    from IPython.display import Image, display

    for name in SCRUB_CONFIGS:             # compute (or look up) every run once, up front
        _scrub_run(name)
    longest = max(int(_scrub_run(name).stats.steps[-1]) for name in SCRUB_CONFIGS)
    slider = widgets.IntSlider(value=step, min=0, max=longest, step=1, description="step",
                               continuous_update=False)
    dropdown = widgets.Dropdown(options=list(SCRUB_CONFIGS), value=label, description="run",
                                layout=widgets.Layout(width="360px"))
    view = ScrubberView()

    def update(step, label):
        result = scrub(label, step)
        display(Image(render_png(view.update(result))))
        return result

    return widgets.interactive(update, step=slider, label=dropdown)
