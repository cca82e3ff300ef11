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


@lru_cache(maxsize=1024)
def explore(name, scale, n=20000, seed=0, bins=60):
    """Pre-activations z = scale * u (u a fixed standard-normal sample of size n, seeded)
    through ACTIVATIONS[name]: statistics and histograms of f(z) and f'(z). Cached.

    Returns a dict: name, scale; mean_out, std_out (of f(z)); weak = share of z with
    |f'(z)| < WEAK * max_slope(name); zero = share with f'(z) == 0 exactly; mean_grad;
    act_hist, grad_hist (bins,) = share of the n inputs per bin over act_edges, grad_edges
    (bins + 1,); curve_x, curve_f, curve_df (401,) = the function drawn over a range that
    covers +-4 std and at least [-4, 4]. Arrays are read-only.
    """
    if not scale > 0:
        raise ValueError(f"explore: the input std must be positive, got {scale!r}")
    act = _make(name)
    z = scale * _base(int(n), int(seed))
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

    def __init__(self, figsize=(12, 3.4), dpi=80):
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.axes = ax0, ax1, ax2 = self.fig.subplots(1, 3)
        self.fig.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.80, wspace=0.25)
        self.band = ax0.axvspan(-2, 2, color="0.88", label="±2 std of inputs")
        self.f_line, = ax0.plot([], [], color="C0", label="f(x)")
        self.df_line, = ax0.plot([], [], "--", color="C1", label="f'(x)")
        ax0.axhline(0, color="grey", lw=0.5)
        ax0.set_xlabel("pre-activation x", fontsize=9)
        ax0.legend(fontsize=7, loc="upper left")
        self.act_bars = ax1.stairs([0.0], [0.0, 1.0], fill=True, color="C0", alpha=0.7)
        ax1.set_xlabel("output f(z)", fontsize=9)
        ax1.set_ylabel("share of inputs", fontsize=9)
        self.grad_bars = ax2.stairs([0.0], [0.0, 1.0], fill=True, color="C1", alpha=0.7)
        self.weak_line = ax2.axvline(0.0, color="k", ls=":", lw=1, label="weak gradient below this")
        ax2.set_xlabel("local gradient f'(z)", fontsize=9)
        ax2.legend(fontsize=7, loc="upper center")
        for ax in self.axes:
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(labelsize=8)

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
        ax0.set_title("function and slope", fontsize=10)
        for bars, ax, hist, edges in ((self.act_bars, ax1, result["act_hist"], result["act_edges"]),
                                      (self.grad_bars, ax2, result["grad_hist"], result["grad_edges"])):
            bars.set_data(hist, edges)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, 1.08 * hist.max())
        ax1.set_title(f"outputs: mean {result['mean_out']:+.2f}, std {result['std_out']:.2g}", fontsize=10)
        weak = WEAK * max_slope(result["name"])
        self.weak_line.set_xdata([weak, weak])
        ax2.set_title(f"local gradients: mean {result['mean_grad']:.2g}", fontsize=10)
        self.fig.suptitle(f"{result['name']}, input std {s:.3g}:  weak gradient (|f'| < {weak:.3g}) "
                          f"for {result['weak']:.0%} of inputs, exactly zero for {result['zero']:.0%}",
                          fontsize=11)
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
