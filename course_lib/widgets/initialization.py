"""Init-scale explorer: how the scale of the initial weights decides whether activations and
gradients survive a deep stack of layers.

A deep net of square ``Linear(width, width, bias=False)`` layers, each followed by the chosen
non-linearity, with weights W = gain * G / sqrt(width) (G fixed standard-normal matrices, so
gain = 1 is LeCun's / Xavier's std for square layers and torch's recommended gains are
``course_lib.init.gain(activation)``). A unit-Gaussian batch goes forward; a unit-Gaussian
"probe" gradient is fed in at the top and goes backward. The widget shows per-layer
histograms of the activations and of the gradients, and every layer's std.

Used in notebooks/02_initialization.ipynb (the function ``propagate`` also feeds the gains
and sigmoid-versus-tanh measurements there).
"""
import math
from functools import lru_cache

import numpy as np

from ..activations import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from ..layers import Linear
from ..losses import Loss
from ..module import Sequential
from ._common import one_blas_thread, render_png

# name -> (layer factory, histogram range of its outputs); None means "no non-linearity"
ACTIVATIONS = {
    "tanh": (Tanh, (-1.0, 1.0)),
    "relu": (ReLU, (-1.0, 4.0)),
    "leaky_relu": (lambda: LeakyReLU(0.01), (-1.0, 4.0)),
    "sigmoid": (Sigmoid, (0.0, 1.0)),
    "elu": (ELU, (-1.5, 4.0)),
    "linear": (None, (-4.0, 4.0)),
}
GRAD_RANGE = (-4.0, 4.0)
DEPTHS = (2, 5, 10, 20)
# the log slider: gains 10**-1.5 ... 10**1.5 in steps of 10**0.05 (so that √2 = 10**0.15 is one)
GAIN_EXPONENTS = (-1.5, 1.5, 0.05)
MAX_SHOWN = 6            # histograms drawn per panel (evenly spaced layers, first and last)


class ProbeLoss(Loss):
    """A probe, not a training loss: L = sum(pred * G) for a fixed array G, so dL/dpred = G.

    Feeding a fixed random G at the top lets the backward pass be measured on its own: any
    change of the gradient's size below the top is caused by the layers, not by the outputs.
    Shapes: pred (N, D), G (N, D). Introduced in notebooks/02_initialization.ipynb.
    """

    def __init__(self):
        self._grad = None

    def forward(self, pred, G):
        pred, G = np.asarray(pred), np.asarray(G)
        if pred.shape != G.shape:
            raise ValueError(f"{self!r} expects the probe G of the prediction's shape "
                             f"{pred.shape}, got {G.shape}")
        self._grad = G
        return float(np.sum(pred * G))


@lru_cache(maxsize=8)
def _base(depth, width, n, seed):
    """Fixed standard-normal draws: input X (n, width), probe G (n, width), depth matrices."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, width))
    G = rng.standard_normal((n, width))
    Ws = [rng.standard_normal((width, width)) for _ in range(depth)]
    return X, G, Ws


def deep_net(gain, activation="tanh", depth=10, width=256, n=256, seed=0):
    """The explorer's network: depth x [Linear(width, width, bias=False), activation], with
    W = gain * G_l / sqrt(width). Returns (model, X, G): the model, its unit-Gaussian input
    and the unit-Gaussian probe gradient. Shapes: X, G (n, width)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"deep_net: unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}")
    if not (isinstance(depth, (int, np.integer)) and depth >= 1):
        raise ValueError(f"deep_net: depth must be a positive integer, got {depth!r}")
    if not gain > 0:
        raise ValueError(f"deep_net: gain must be positive, got {gain!r}")
    X, G, Ws = _base(int(depth), int(width), int(n), int(seed))
    make_act = ACTIVATIONS[activation][0]
    scale = gain / math.sqrt(width)
    layers = []
    for W in Ws:
        layers.append(Linear(width, width, init=lambda fi, fo, rng, W=W: scale * W, bias=False))
        if make_act is not None:
            layers.append(make_act())
    return Sequential(*layers), X, G


def shown_layers(depth, k=MAX_SHOWN):
    """Indices (0-based) of at most k evenly spaced layers, always the first and the last."""
    return np.unique(np.round(np.linspace(0, depth - 1, min(k, depth))).astype(int))


def _hist(values, lo, hi, bins):
    # values beyond the range go into the edge bins: an explosion shows as a pile at the edge
    counts, _ = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
    return counts / (values.size * (hi - lo) / bins)


def _frozen(a):
    a = np.asarray(a, dtype=float)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=512)
def propagate(gain, activation="tanh", depth=10, width=256, n=256, seed=0, bins=50):
    """Forward a unit-Gaussian batch and backward a unit-Gaussian probe gradient through
    ``deep_net``; return per-layer statistics (cached: same arguments, same arrays).

    The numbers equal ``diagnostics.trace(model, X, ProbeLoss(), G)`` on ``deep_net``'s
    model (a test checks it); this loop skips the weight gradients, which are not shown.
    Returns a dict of read-only arrays:
      act_std, grad_std (depth,): std of each layer's activation output and of the gradient
        of the probe loss with respect to it (the top layer's gradient is the probe, std ~1);
      saturated (depth,): share of tanh/sigmoid outputs in the flat tails (NaN otherwise);
      shown (k,): layers with histograms; act_hist, grad_hist (k, bins): densities over
      act_edges, grad_edges (bins + 1,).
    Shapes: see above; ``depth`` layers, k <= 6.
    """
    model, X, G = deep_net(gain, activation, depth, width, n, seed)
    if ACTIVATIONS[activation][0] is None:
        linears, nonlinears = model.layers, [None] * depth
    else:
        linears, nonlinears = model.layers[0::2], model.layers[1::2]
    with one_blas_thread():
        acts, h = [], X
        for lin, f in zip(linears, nonlinears):
            h = lin.forward(h)
            if f is not None:
                h = f.forward(h)
            acts.append(h)
        dacts, d = [None] * depth, G
        for i in range(depth - 1, -1, -1):
            dacts[i] = d
            if nonlinears[i] is not None:
                d = nonlinears[i].backward(d)
            d = d @ linears[i].W.data.T
    act_std = [a.std() for a in acts]
    grad_std = [g.std() for g in dacts]
    if activation == "tanh":
        saturated = [np.mean(np.abs(a) > 0.97) for a in acts]
    elif activation == "sigmoid":
        saturated = [np.mean(np.abs(2.0 * a - 1.0) > 0.97) for a in acts]
    else:
        saturated = [math.nan] * depth
    shown = shown_layers(depth)
    (alo, ahi), (glo, ghi) = ACTIVATIONS[activation][1], GRAD_RANGE
    return {
        "act_std": _frozen(act_std), "grad_std": _frozen(grad_std),
        "saturated": _frozen(saturated), "shown": shown,
        "act_hist": _frozen([_hist(acts[i], alo, ahi, bins) for i in shown]),
        "grad_hist": _frozen([_hist(dacts[i], glo, ghi, bins) for i in shown]),
        "act_edges": _frozen(np.linspace(alo, ahi, bins + 1)),
        "grad_edges": _frozen(np.linspace(glo, ghi, bins + 1)),
    }


def snap(gain):
    """The gain rounded to 4 significant digits: the cache key, so that a slider value computed
    in the browser (which may differ from NumPy's in the last bit) finds its precomputed entry."""
    return float(f"{float(gain):.4g}")


def precompute(gains, activation="tanh", depth=10, width=256, n=256, seed=0):
    """Fill ``propagate``'s cache for a list of gains (e.g. every position of the slider).
    Arguments are passed positionally, as the explorer does: lru_cache keys differ otherwise."""
    for g in gains:
        propagate(snap(g), activation, depth, width, n, seed)


def slider_values(exponents=GAIN_EXPONENTS):
    """The gains the explorer's log slider can take: 10 ** (min_exp + k * step)."""
    min_exp, max_exp, step = exponents
    k = int(round((max_exp - min_exp) / step))
    return 10.0 ** (min_exp + step * np.arange(k + 1))


def _ylim(hist, lo, hi):
    # a collapsed layer is a spike of height ~bins / (hi - lo): cap the axis so the others stay
    # readable and let the spike run off the top
    return 1.08 * min(float(np.max(hist)), 6.0 / (hi - lo))


class ExplorerFigure:
    """The explorer's three panels: activation histograms, gradient histograms, per-layer std.

    The figure and its axes are built once; ``update`` changes only data, limits and labels,
    because building axes costs more than drawing them. A ``matplotlib.figure.Figure`` outside
    pyplot, so nothing accumulates in pyplot's list of open figures.
    """

    def __init__(self):
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        self.fig = Figure(figsize=(12, 3.5), dpi=80)
        self.axes = self.fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1.15, 1]})
        self.fig.subplots_adjust(left=0.03, right=0.99, bottom=0.15, top=0.91, wspace=0.2)
        self.hist_lines = []
        for ax, what in zip(self.axes[:2], ("activation", "gradient")):
            self.hist_lines.append([ax.plot([], [], lw=1.4)[0] for _ in range(MAX_SHOWN)])
            ax.set_xlabel(f"{what} value", fontsize=9)
            ax.set_ylabel("density", fontsize=9)
            ax.set_yticks([])              # the shapes matter here, not the density values
            ax.xaxis.set_major_locator(MaxNLocator(5))
        self.axes[1].set_title("gradients (probe enters at the top)", fontsize=10)
        ax = self.axes[2]
        ax.set_yscale("log")
        self.std_lines = (ax.plot([], [], "o-", ms=3, label="activations")[0],
                          ax.plot([], [], "s--", ms=3, label="gradients")[0])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        # plain-text tick labels: mathtext ("$10^{-3}$") is re-parsed on every draw and is slow
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.set_xlabel("layer", fontsize=9)
        ax.set_ylabel("std (log scale)", fontsize=9)

    def update(self, result, activation, gain):
        """Show one ``propagate`` result. Returns the figure."""
        import matplotlib

        shown = result["shown"]
        colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(shown)))
        for ax, lines, key in zip(self.axes[:2], self.hist_lines, ("act", "grad")):
            edges, hist = result[key + "_edges"], result[key + "_hist"]
            mid = 0.5 * (edges[1:] + edges[:-1])
            for j, line in enumerate(lines):
                line.set_visible(j < len(shown))
                if j < len(shown):
                    line.set_data(mid, hist[j])
                    line.set_color(colors[j])
                    line.set_label(f"layer {shown[j] + 1}")
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, _ylim(hist, edges[0], edges[-1]))
        # one legend for both panels (text is the slow part of drawing)
        self.axes[0].legend(handles=self.hist_lines[0][:len(shown)], fontsize=7,
                            loc="upper right", framealpha=0.8)
        self.axes[0].set_title(f"activations ({activation})", fontsize=10)
        ax = self.axes[2]
        layers = np.arange(1, len(result["act_std"]) + 1)
        for line, key in zip(self.std_lines, ("act_std", "grad_std")):
            line.set_data(layers, np.maximum(result[key], 1e-300))
        ax.set_xlim(0.5, len(layers) + 0.5)
        ax.set_ylim(*_log_limits(result["act_std"], result["grad_std"]))
        ax.set_title(f"std per layer; gain {gain:.3g} (torch's: {_torch_gain(activation):.3g})",
                     fontsize=10)
        # keep the legend off the gradient curve, which starts low when gradients vanish
        vanishing = result["grad_std"][0] < 1e-3 * result["grad_std"][-1]
        ax.legend(handles=list(self.std_lines), fontsize=8,
                  loc="upper left" if vanishing else "lower left")
        return self.fig


def draw(result, activation, gain):
    """A new explorer figure showing one ``propagate`` result (for static use). Returns it."""
    return ExplorerFigure().update(result, activation, gain)


def _log_limits(*arrays, min_decades=2.0):
    # at least two decades, so that a flat curve still gets labelled ticks
    v = np.concatenate(arrays)
    lo, hi = np.log10(max(v.min(), 1e-300)) - 0.2, np.log10(max(v.max(), 1e-300)) + 0.2
    pad = max(0.0, min_decades - (hi - lo)) / 2
    return 10.0 ** np.floor(lo - pad), 10.0 ** np.ceil(hi + pad)


def _torch_gain(activation):
    from ..init import gain
    if activation == "elu":
        return 1.0          # calculate_gain has no entry for ELU; we show the linear gain
    return gain(activation)


def init_explorer(width=256, n=256, seed=0, warm=True):
    """Build the explorer: a log slider for the gain (first control), dropdowns for the
    activation and the depth. Each change recomputes (cached) and redraws.

    With ``warm`` the default setting's whole slider range is precomputed, so moving the
    slider only draws. Returns an ``ipywidgets.interactive``; its ``result`` is the figure
    (one figure, updated in place and shown as a PNG after every change).
    """
    import ipywidgets as widgets
    from IPython.display import Image, display

    min_exp, max_exp, step = GAIN_EXPONENTS
    slider = widgets.FloatLogSlider(value=1.0, base=10, min=min_exp, max=max_exp, step=step,
                                    description="gain", readout_format=".3g",
                                    continuous_update=False, layout=widgets.Layout(width="450px"))
    act = widgets.Dropdown(options=list(ACTIVATIONS), value="tanh", description="activation")
    depth = widgets.Dropdown(options=list(DEPTHS), value=10, description="depth")
    if warm:
        precompute(slider_values(), "tanh", 10, width, n, seed)

    panels = ExplorerFigure()

    def update(gain, activation, depth):
        gain = snap(gain)
        result = propagate(gain, activation, int(depth), width, n, seed)
        fig = panels.update(result, activation, gain)
        display(Image(render_png(fig)))
        return fig

    box = widgets.interactive(update, gain=slider, activation=act, depth=depth)
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box
