"""Init-scale explorer: how the scale of the initial weights decides whether activations and
gradients survive a deep stack of layers.

A deep net of square ``Linear(width, width, bias=False)`` layers, each followed by the chosen
non-linearity, with weights W = gain * G / sqrt(width) (G fixed standard-normal matrices, so
gain = 1 is LeCun's / Xavier's std for square layers and torch's recommended gains are
``course_lib.init.gain(activation)``). A unit-Gaussian batch goes forward; a unit-Gaussian
"probe" gradient is fed in at the top and goes backward. The widget shows per-layer
histograms of the activations and of the gradients, and every layer's std.

``propagate`` measures one gain; ``propagate_many`` measures a list of gains in one pass (the
weights of all gains are multiples of the same G, so one matrix product per layer serves
them all), which is how the explorer fills its cache and how notebook 02 builds its tables.
The random draws (X, the probe and the G's) come from ``seed``, by default the first of
``cl.seeds`` (so from COURSE_SEED).

Used in notebooks/02_initialization.ipynb.
"""
import math
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from ..activations import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from ..functional import sigmoid
from ..layers import Linear
from ..losses import Loss
from ..module import Sequential
from ..rng import seeds as course_seeds
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
WIDTH, N = 256, 128      # the explorer's layer width and batch size
_CHUNK_ROWS = 2048       # gains are pushed through together in blocks of about this many rows


def _f_and_slope(activation):
    """(f, slope) for the batched pass: a = f(z) and f'(z) computed from (z, a). The formulas
    are those of the course's layers (the tests compare with diagnostics.trace)."""
    if activation == "tanh":
        return np.tanh, lambda z, a: 1.0 - a * a
    if activation == "sigmoid":
        return sigmoid, lambda z, a: a * (1.0 - a)
    if activation == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: (z > 0).astype(z.dtype))
    if activation == "leaky_relu":
        return (lambda z: np.where(z > 0, z, 0.01 * z)), (lambda z, a: np.where(z > 0, 1.0, 0.01))
    if activation == "elu":
        return ((lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))),
                (lambda z, a: np.where(z > 0, 1.0, a + 1.0)))
    return (lambda z: z), None


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


def default_seed(seed=None):
    """``seed`` if given, else the first seed of the course (``cl.seeds(1)[0]``)."""
    return course_seeds(1)[0] if seed is None else int(seed)


@lru_cache(maxsize=16)
def _base(depth, width, n, seed):
    """Fixed standard-normal draws: input X (n, width), probe G (n, width), depth matrices."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, width))
    G = rng.standard_normal((n, width))
    Ws = [rng.standard_normal((width, width)) for _ in range(depth)]
    for a in [X, G] + Ws:
        a.setflags(write=False)
    return X, G, Ws


def _check(gain, activation, depth):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}")
    if not (isinstance(depth, (int, np.integer)) and depth >= 1):
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if not (np.isfinite(gain) and gain > 0):
        raise ValueError(f"gain must be a positive number, got {gain!r}")


def deep_net(gain, activation="tanh", depth=10, width=WIDTH, n=N, seed=None):
    """The explorer's network: depth x [Linear(width, width, bias=False), activation], with
    W = gain * G_l / sqrt(width). Returns (model, X, G): the model, its unit-Gaussian input
    and the unit-Gaussian probe gradient. Shapes: X, G (n, width)."""
    try:
        _check(gain, activation, depth)
    except ValueError as e:
        raise ValueError(f"deep_net: {e}") from None
    X, G, Ws = _base(int(depth), int(width), int(n), default_seed(seed))
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


def _hists(values, lo, hi, bins):
    """Densities over ``bins`` equal bins of [lo, hi], one row per leading index of values
    (K, ...). Values beyond the range go into the edge bins (an explosion shows as a pile at
    the edge), as np.histogram of the clipped values would count them."""
    k = values.shape[0]
    flat = values.reshape(k, -1)
    t = np.clip(flat, lo, hi)              # clip the floats first: huge values cannot overflow
    t -= lo
    t *= bins / (hi - lo)
    idx = t.astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)     # the value hi belongs to the last bin
    idx += (np.arange(k) * bins)[:, None]
    counts = np.bincount(idx.ravel(), minlength=k * bins).reshape(k, bins)
    return counts / (flat.shape[1] * (hi - lo) / bins)


def _frozen(a):
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def _stats_block(gains, activation, depth, width, n, seed, bins):
    """The forward and backward passes of a block of gains at once: arrays (K, ...)."""
    X, G, Ws = _base(depth, width, n, seed)
    f, slope = _f_and_slope(activation)
    k = len(gains)
    scale = (np.asarray(gains, dtype=float) / math.sqrt(width))[:, None, None]   # (K, 1, 1)
    shown = shown_layers(depth)
    (alo, ahi), (glo, ghi) = ACTIVATIONS[activation][1], GRAD_RANGE
    out = {key: np.empty((k, depth)) for key in
           ("act_std", "act_mean", "act_sq", "pre_std", "slope_sq", "grad_std", "saturated")}
    act_hist, grad_hist = [], []
    slopes = []
    h = np.broadcast_to(X, (k, n, width))
    for i, W in enumerate(Ws):
        z = (h.reshape(k * n, width) @ W).reshape(k, n, width)
        z *= scale
        a = f(z)
        if slope is not None:
            slopes.append(slope(z, a))
            s2 = slopes[-1].reshape(k, -1)
            out["slope_sq"][:, i] = np.einsum("ij,ij->i", s2, s2) / s2.shape[1]
        else:
            out["slope_sq"][:, i] = 1.0
        flat = a.reshape(k, -1)
        out["pre_std"][:, i] = z.reshape(k, -1).std(axis=1)
        out["act_mean"][:, i] = flat.mean(axis=1)
        out["act_sq"][:, i] = np.einsum("ij,ij->i", flat, flat) / flat.shape[1]
        out["act_std"][:, i] = flat.std(axis=1)
        if activation == "tanh":
            out["saturated"][:, i] = (np.abs(flat) > 0.97).mean(axis=1)
        elif activation == "sigmoid":
            out["saturated"][:, i] = (np.abs(2.0 * flat - 1.0) > 0.97).mean(axis=1)
        else:
            out["saturated"][:, i] = math.nan
        if i in shown:
            act_hist.append(_hists(a, alo, ahi, bins))
        h = a
    d = np.broadcast_to(G, (k, n, width))
    grads_shown = {}
    for i in range(depth - 1, -1, -1):
        out["grad_std"][:, i] = d.reshape(k, -1).std(axis=1)
        if i in shown:
            grads_shown[i] = _hists(d, glo, ghi, bins)
        if slope is not None:
            d = d * slopes[i]
        d = (d.reshape(k * n, width) @ Ws[i].T).reshape(k, n, width)
        d *= scale
    out["act_hist"] = np.stack(act_hist, axis=1)                          # (K, k_shown, bins)
    out["grad_hist"] = np.stack([grads_shown[i] for i in shown], axis=1)
    return out


# results by (gain, activation, depth, width, n, seed, bins), least recently used dropped
_CACHE = OrderedDict()
_CACHE_SIZE = 1024


def clear_cache():
    """Forget every stored ``propagate`` result (and the fixed random draws)."""
    _CACHE.clear()
    _base.cache_clear()


def _key(gain, activation, depth, width, n, seed, bins):
    return (snap(gain), activation, int(depth), int(width), int(n), int(seed), int(bins))


def propagate_many(gains, activation="tanh", depth=10, width=WIDTH, n=N, seed=None, bins=50):
    """``propagate`` for each gain of ``gains``, computed together; returns a list of result
    dicts in the order of ``gains`` (cached: stored results are not recomputed).

    The gains are rounded by ``snap`` (4 significant digits) before use.
    """
    seed = default_seed(seed)
    gains = [snap(g) for g in gains]
    for g in gains:
        _check(g, activation, depth)
    depth, width, n, bins = int(depth), int(width), int(n), int(bins)
    missing = list(dict.fromkeys(g for g in gains if
                                 _key(g, activation, depth, width, n, seed, bins) not in _CACHE))
    shown = shown_layers(depth)
    (alo, ahi), (glo, ghi) = ACTIVATIONS[activation][1], GRAD_RANGE
    act_edges, grad_edges = (_frozen(np.linspace(alo, ahi, bins + 1)),
                             _frozen(np.linspace(glo, ghi, bins + 1)))
    block = max(1, _CHUNK_ROWS // n)
    with one_blas_thread():
        for start in range(0, len(missing), block):
            chunk = missing[start:start + block]
            res = _stats_block(chunk, activation, depth, width, n, seed, bins)
            for j, g in enumerate(chunk):
                entry = {key: _frozen(res[key][j]) for key in res}
                entry.update(shown=shown, act_edges=act_edges, grad_edges=grad_edges)
                _CACHE[_key(g, activation, depth, width, n, seed, bins)] = entry
    results = []
    for g in gains:
        key = _key(g, activation, depth, width, n, seed, bins)
        _CACHE.move_to_end(key)
        results.append(_CACHE[key])
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return results


def propagate(gain, activation="tanh", depth=10, width=WIDTH, n=N, seed=None, bins=50):
    """Forward a unit-Gaussian batch and backward a unit-Gaussian probe gradient through
    ``deep_net``; return per-layer statistics (cached: same arguments, same arrays).

    The numbers equal ``diagnostics.trace(model, X, ProbeLoss(), G)`` on ``deep_net``'s
    model up to rounding (a test checks it). ``seed`` None: the first of ``cl.seeds``.
    Returns a dict of read-only arrays:
      act_std, grad_std (depth,): std of each layer's activation output and of the gradient
        of the probe loss with respect to it (the top layer's gradient is the probe, std ~1);
      act_mean, act_sq (depth,): mean and second moment E[a^2] of each layer's outputs;
      pre_std (depth,): std of each layer's pre-activation z = x W;
      slope_sq (depth,): E[f'(z)^2] of each layer, the activation's share of the backward
        factor fan_out Var(W) E[f'(z)^2] (1 for "linear");
      saturated (depth,): share of tanh/sigmoid outputs in the flat tails (NaN otherwise);
      shown (k,): layers with histograms; act_hist, grad_hist (k, bins): densities over
      act_edges, grad_edges (bins + 1,).
    Shapes: see above; ``depth`` layers, k <= 6.
    """
    return propagate_many([gain], activation, depth, width, n, seed, bins)[0]


def snap(gain):
    """The gain rounded to 4 significant digits: the cache key, so that a slider value computed
    in the browser (which may differ from NumPy's in the last bit) finds its precomputed entry."""
    return float(f"{float(gain):.4g}")


def precompute(gains, activation="tanh", depth=10, width=WIDTH, n=N, seed=None):
    """Fill ``propagate``'s cache for a list of gains (e.g. every position of the slider)."""
    propagate_many(gains, activation, depth, width, n, seed)


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

    8.4 x 3.5 inches at 100 dpi (the notebook's width, shown 1:1), fonts of 9-10 points, and
    one legend row below the panels, off the data. The figure and its axes are built once;
    ``update`` changes only data, limits and labels, because building axes costs more than
    drawing them. A ``matplotlib.figure.Figure`` outside pyplot, so nothing accumulates in
    pyplot's list of open figures.
    """

    def __init__(self):
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        self.fig = Figure(figsize=(8.4, 3.3), dpi=100)
        self.axes = self.fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.05]})
        self.fig.subplots_adjust(left=0.035, right=0.985, bottom=0.27, top=0.91, wspace=0.32)
        self.hist_lines = []
        for ax, what in zip(self.axes[:2], ("activation", "gradient")):
            self.hist_lines.append([ax.plot([], [], lw=1.5)[0] for _ in range(MAX_SHOWN)])
            ax.set_xlabel(f"{what} value", fontsize=9, labelpad=1)
            ax.set_ylabel("density", fontsize=9, labelpad=1)
            ax.set_yticks([])              # the shapes matter here, not the density values
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(labelsize=9, pad=2)
        self.axes[1].set_title("gradients (probe at the top)", fontsize=10)
        ax = self.axes[2]
        ax.set_yscale("log")
        self.std_lines = (ax.plot([], [], "o-", ms=3, color="C0")[0],
                          ax.plot([], [], "s--", ms=3, color="C3")[0])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(LogLocator(numticks=5))
        # plain-text tick labels: mathtext ("$10^{-3}$") is re-parsed on every draw and is slow
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.tick_params(labelsize=9, pad=2)
        ax.set_xlabel("layer", fontsize=9, labelpad=1)
        # one legend row under the panels: the layers' colours, then the two std curves
        self._layer_keys = [Line2D([], [], lw=2.5) for _ in range(MAX_SHOWN)]
        self._std_keys = [Line2D([], [], marker="o", ms=4, color="C0", lw=1.2),
                          Line2D([], [], marker="s", ms=4, color="C3", ls="--", lw=1.2)]
        self._legend = None

    def update(self, result, activation, gain):
        """Show one ``propagate`` result. Returns the figure."""
        import matplotlib

        shown = result["shown"]
        colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.85, len(shown)))
        for ax, lines, key in zip(self.axes[:2], self.hist_lines, ("act", "grad")):
            edges, hist = result[key + "_edges"], result[key + "_hist"]
            mid = 0.5 * (edges[1:] + edges[:-1])
            for j, line in enumerate(lines):
                line.set_visible(j < len(shown))
                if j < len(shown):
                    line.set_data(mid, hist[j])
                    line.set_color(colors[j])
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, _ylim(hist, edges[0], edges[-1]))
        self.axes[0].set_title(f"activations ({activation})", fontsize=10)
        ax = self.axes[2]
        layers = np.arange(1, len(result["act_std"]) + 1)
        for line, key in zip(self.std_lines, ("act_std", "grad_std")):
            line.set_data(layers, np.maximum(result[key], 1e-300))
        ax.set_xlim(0.5, len(layers) + 0.5)
        ax.set_ylim(*_log_limits(result["act_std"], result["grad_std"]))
        ax.set_title(f"std per layer, gain {gain:.3g}", fontsize=10)
        for key, c in zip(self._layer_keys, colors):
            key.set_color(c)
        if self._legend is not None:
            self._legend.remove()
        handles = self._layer_keys[:len(shown)] + self._std_keys
        labels = ([f"layer {i + 1}" for i in shown] +
                  ["activation std", "gradient std"])
        torch_gain = _torch_gain(activation)
        self._legend = self.fig.legend(
            handles, labels, loc="lower center", ncol=len(handles), fontsize=9,
            frameon=False, bbox_to_anchor=(0.5, 0.0), columnspacing=0.9, handlelength=1.3,
            handletextpad=0.4,
            title=f"histogram colour = depth;  torch's recommended gain for {activation}: "
                  f"{torch_gain:.3g}", title_fontsize=9)
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


def init_explorer(width=WIDTH, n=N, seed=None, warm=True):
    """Build the explorer: a log slider for the gain (first control), dropdowns for the
    activation and the depth. Each change recomputes (cached) and redraws.

    With ``warm`` the default setting's whole slider range is precomputed (in one batched
    pass), so moving the slider only draws. ``seed`` None: the first of ``cl.seeds``.
    Returns an ``ipywidgets.interactive``; its ``result`` is the figure (one figure, updated in
    place and shown as a PNG after every change).
    """
    import ipywidgets as widgets
    from IPython.display import Image, display

    seed = default_seed(seed)
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
