"""The experiments over seeds of notebooks/02_initialization.ipynb, and their figures.

Each function runs one experiment on the seeds it is given (the notebook passes
``cl.seeds(n)``, so COURSE_SEED moves them all), returns the per-seed numbers as
``SeedRuns`` (or dicts of them), and leaves the judging to the notebook's asserts:

* ``symmetry_runs``: constant, zero, random and constant + dropout starts of a small tanh net
  on the digits (§1);
* ``classic_runs``: the 10-layer, 500-unit tanh net at std 0.01, std 1 and Xavier (§2);
* ``funnel``: variance ratios through a stack of shrinking layers, linear or ReLU (§3);
* ``gain_profiles``: ``initialization.propagate_many`` over seeds, for the gain tables and
  sweeps of §6-§8;
* ``relu_stack``, ``init_profile``, ``lr_scan``: PyTorch's default, Xavier, He and LSUV on a
  20-layer ReLU stack, at initialization and in training (§9);
* ``stats_run``: one training run watched by ``ActivationStats`` (§10).

Randomness: a seed s gives independent generators through ``np.random.SeedSequence(s)``, one
per ingredient (weights, data order, dropout masks...). The ``draw_*`` functions draw the
results at the notebook's width (8.4 inches, fonts >= 9 pt).
"""
import math
from functools import lru_cache, partial

import numpy as np

from .. import init as cinit
from ..activation_stats import ActivationStats, dead_units
from ..activations import ReLU, Tanh
from ..data import Center, Standardize, load_digits
from ..dropout import Dropout
from ..experiments import SeedRuns
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD
from ..rng import course_seed
from ..train import fit
from ._common import one_blas_thread
from ._stacked import BestEpochs, accuracy, fit_stacked, nll, stack
from .initialization import propagate_many


def streams(seed, k):
    """k independent generators derived from one seed (SeedSequence(seed).spawn(k))."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(k)]


@lru_cache(maxsize=4)
def _digits(cs, how):
    d = load_digits()
    pre = (Center() if how == "center" else Standardize()).fit(d.X_train)
    return (pre.transform(d.X_train), d.y_train, pre.transform(d.X_val), d.y_val,
            pre.transform(d.X_test), d.y_test)


def digits(how="standardize"):
    """The course's digits split (from COURSE_SEED), preprocessed with training statistics:
    ``how`` = "center" (the mean image subtracted) or "standardize" (also each pixel's std;
    constant pixels keep std 1). Returns X_train, y_train, X_val, y_val, X_test, y_test."""
    if how not in ("center", "standardize"):
        raise ValueError(f"digits: how must be 'center' or 'standardize', got {how!r}")
    return _digits(course_seed(), how)


# ------------------------------------------------------------------ §1 symmetry

def constant_init(c):
    """An initializer that fills W with the value c (for the demonstration only)."""
    return lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), float(c))


SYMMETRY_VARIANTS = {
    "all zeros": (cinit.zeros, 0.0),
    "constant 0.05": (constant_init(0.05), 0.0),
    "random, std 0.01": (partial(cinit.normal, std=0.01), 0.0),
    "constant 0.05 + dropout 0.2": (constant_init(0.05), 0.2),
}


def max_unit_difference(W):
    """Largest spread over the units (columns) of W, input by input: 0 iff all columns agree."""
    return float(np.ptp(W, axis=1).max())


def symmetry_runs(seeds, epochs=10, hidden=32, lr=0.5, batch_size=32):
    """Train 64 -> hidden tanh units (-> Dropout) -> 10 on the centred digits, once per
    variant of ``SYMMETRY_VARIANTS`` and seed (plain SGD, ``lr``, ``epochs``).

    Returns (runs, nets): runs[variant] is a SeedRuns with "val_acc", "in_spread" (largest
    difference between two hidden units' incoming weights), "out_spread" (outgoing weights),
    "b_spread" (hidden biases), "W_range" (np.ptp of W1: how far the weights moved),
    "W_max" (largest |weight|), "out_bias" (largest |output bias|); nets[variant] is the
    trained net of the first seed.
    """
    Xtr, ytr, Xva, yva, _, _ = digits("center")
    runs, nets = {}, {}
    for name, (init, p) in SYMMETRY_VARIANTS.items():
        rows = []
        for k, seed in enumerate(seeds):
            w_rng, order_rng, drop_rng = streams(seed, 3)
            layers = [Linear(64, hidden, init=init, rng=w_rng), Tanh()]
            if p > 0:
                layers.append(Dropout(p, rng=drop_rng))
            layers.append(Linear(hidden, 10, init=init, rng=w_rng))
            net = Sequential(*layers)
            hist = fit(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=lr), Xtr, ytr,
                       epochs=epochs, batch_size=batch_size, val=(Xva, yva), rng=order_rng,
                       progress=False, ratio_every=0)
            W1, W2 = net.layers[0].W.data, net.layers[-1].W.data
            rows.append({"val_acc": hist.val_acc[-1], "in_spread": max_unit_difference(W1),
                         "out_spread": max_unit_difference(W2.T),
                         "b_spread": float(np.ptp(net.layers[0].b.data)),
                         "W_range": float(np.ptp(W1)),
                         "W_max": float(max(np.abs(W1).max(), np.abs(W2).max())),
                         "out_bias": float(np.abs(net.layers[-1].b.data).max())})
            if k == 0:
                nets[name] = net
        runs[name] = SeedRuns(list(seeds), rows)
    return runs, nets


def draw_unit_images(nets, names, n_units=8):
    """Incoming weights of the first hidden units of each net, as 8x8 images (one row per
    net). Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), n_units, figsize=(8.4, 1.15 * len(names) + 0.45),
                             squeeze=False)
    for row, name in enumerate(names):
        W = nets[name].layers[0].W.data
        vmax = np.abs(W).max()
        for j, ax in enumerate(axes[row]):
            ax.imshow(W[:, j].reshape(8, 8), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"unit {j + 1}", fontsize=9)
        axes[row, 0].set_ylabel(name.replace(" + ", "\n+ "), fontsize=9)
    fig.suptitle("incoming weights of hidden units 1–8 after training, as 8×8 images "
                 "(red > 0 > blue)", fontsize=10)
    fig.tight_layout(pad=0.4)
    return fig


# ------------------------------------------------------------------ §2 the classic experiment

CLASSIC_SCHEMES = {"std = 0.01": lambda width: 0.01, "std = 1": lambda width: 1.0,
                   "Xavier": lambda width: math.sqrt(2.0 / (width + width))}


def _tanh_stack_pass(X, G, Gs, stds, bins=60):
    """Forward X through a_l = tanh(a_(l-1) W_l) with W_l = std_k G_l for every std_k at once,
    and backward the probe G: per-layer statistics, arrays (K, depth). The arithmetic of
    diagnostics.trace(..., ProbeLoss(), G) on Linear(bias=False) + Tanh layers."""
    k, (n, width), depth = len(stds), X.shape, len(Gs)
    scale = np.asarray(stds, dtype=float)[:, None, None]
    acts, h = [], np.broadcast_to(X, (k, n, width))
    for Gl in Gs:
        z = (h.reshape(k * n, width) @ Gl).reshape(k, n, width)
        z *= scale
        h = np.tanh(z)
        acts.append(h)
    grad_std, dW_ratio = np.empty((k, depth)), np.empty((k, depth))
    W_norm = [np.linalg.norm(Gl) * scale[:, 0, 0] for Gl in Gs]
    d = np.broadcast_to(G, (k, n, width))
    for i in range(depth - 1, -1, -1):
        grad_std[:, i] = d.reshape(k, -1).std(axis=1)
        dz = d * (1.0 - acts[i] * acts[i])
        x_in = np.broadcast_to(X, (k, n, width)) if i == 0 else acts[i - 1]
        dW = np.matmul(x_in.transpose(0, 2, 1), dz)                          # (K, width, width)
        dW_ratio[:, i] = np.sqrt((dW * dW).sum(axis=(1, 2))) / W_norm[i]
        d = (dz.reshape(k * n, width) @ Gs[i].T).reshape(k, n, width)
        d *= scale
    flat = [a.reshape(k, -1) for a in acts]
    hist = np.stack([[np.histogram(row, bins=bins, range=(-1.0, 1.0))[0] for row in f]
                     for f in flat], axis=1).astype(float)                  # (K, depth, bins)
    stack = lambda fn: np.stack([fn(f) for f in flat], axis=1)             # noqa: E731
    return {"act_std": stack(lambda f: f.std(axis=1)), "grad_std": grad_std,
            "dW_ratio": dW_ratio,
            "saturated": stack(lambda f: (np.abs(f) > 0.97).mean(axis=1)),
            "slope": stack(lambda f: (1.0 - f * f).mean(axis=1)),
            "flat_slope": stack(lambda f: (1.0 - f * f < 0.01).mean(axis=1)),
            "hist": hist / hist.sum(axis=2, keepdims=True)}


def classic_runs(seeds, n=200, width=500, depth=10):
    """The classic experiment: ``depth`` tanh layers of ``width`` units (no biases), unit-
    Gaussian inputs (n, width) and a unit-Gaussian probe gradient at the top, at the three
    scales of ``CLASSIC_SCHEMES``. Per seed one draw of inputs, probe and standard-normal
    matrices G_l, which the three schemes share (W_l = std * G_l: common random numbers, so
    the schemes differ only in their scale).

    Returns {scheme: SeedRuns} with, per seed, arrays over the layers: "act_std", "grad_std",
    "dW_ratio" (||dL/dW|| / ||W||), "saturated" (share of |a| > 0.97), "slope" (mean of
    tanh'(z)), "flat_slope" (share of tanh'(z) < 0.01) and "hist" (depth, 60): each layer's
    histogram over [-1, 1] as shares of the entries.
    """
    names = list(CLASSIC_SCHEMES)
    stds = [CLASSIC_SCHEMES[name](width) for name in names]
    out = {name: [] for name in names}
    with one_blas_thread():
        for seed in seeds:
            data_rng, w_rng = streams(seed, 2)
            X = data_rng.standard_normal((n, width))
            G = data_rng.standard_normal((n, width))
            Gs = [w_rng.standard_normal((width, width)) for _ in range(depth)]
            res = _tanh_stack_pass(X, G, Gs, stds)
            for j, name in enumerate(names):
                out[name].append({key: v[j] for key, v in res.items()})
    return {name: SeedRuns(list(seeds), rows) for name, rows in out.items()}


def draw_ridges(classic, seed_index=0):
    """One panel per scheme: each layer's activation histogram as a ridge scaled to its own
    peak (layer 1 at the bottom), with the layer's std written at the right. Heights are not
    comparable between ridges; the stds are. Returns the figure."""
    import matplotlib.pyplot as plt

    names = list(classic)
    depth = classic[names[0]]["act_std"].shape[1]
    fig, axes = plt.subplots(1, len(names), figsize=(8.4, 4.2), sharey=True)
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, depth))
    edges = np.linspace(-1.0, 1.0, classic[names[0]]["hist"].shape[2] + 1)
    for ax, name in zip(axes, names):
        hist = classic[name]["hist"][seed_index]
        stds = classic[name]["act_std"][seed_index]
        for layer in range(depth):
            h = hist[layer] / hist[layer].max() * 0.85
            base = layer + 1
            ax.stairs(base + h, edges, baseline=base, fill=True, color=colors[layer], alpha=0.85)
            ax.stairs(base + h, edges, baseline=base, color=colors[layer], lw=0.8)
            ax.text(1.03, base + 0.15, f"{stds[layer]:.2g}", fontsize=9, va="bottom",
                    ha="left", transform=ax.get_yaxis_transform())
        ax.set_xlim(-1.12, 1.12)
        ax.set_xticks([-1, 0, 1])
        ax.set_ylim(0.8, depth + 1.05)
        ax.set_title(f"W: {name}", fontsize=10)
        ax.set_xlabel("tanh activation value", fontsize=9)
        ax.tick_params(labelsize=9)
        ax.text(1.03, depth + 0.95, "std", fontsize=9, ha="left", va="bottom",
                transform=ax.get_yaxis_transform())
    axes[0].set_yticks(np.arange(1, depth + 1) + 0.3)
    axes[0].set_yticklabels([str(i) for i in range(1, depth + 1)])
    axes[0].set_ylabel("layer (each histogram scaled to its own peak)", fontsize=9)
    fig.tight_layout(w_pad=3.2)
    return fig


def _log_y(ax, numticks=6):
    """Log y axis with a few labelled decades and unlabelled minor ticks: fewer tick labels
    keep the figure readable and its layout fast."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=numticks))
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0), numticks=numticks))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _row_major(n, ncol):
    """The order in which to hand n legend entries to matplotlib (which fills columns first)
    so that they read row by row."""
    nrow = -(-n // ncol)
    grid = np.full((nrow, ncol), -1)
    grid.ravel()[:n] = np.arange(n)
    return [int(i) for i in grid.T.ravel() if i >= 0]


def _seed_lines(ax, x, values, color, label, ls="-", marker="o", ms=3.5, lw=1.8):
    """Every seed as a thin line, their geometric mean as a bold one (for log axes)."""
    v = np.asarray(values, dtype=float)
    for row in v:
        ax.plot(x, row, ls, color=color, lw=0.8, alpha=0.4)
    gm = np.exp(np.mean(np.log(np.maximum(v, 1e-300)), axis=0))
    return ax.plot(x, gm, ls, color=color, lw=lw, marker=marker, ms=ms, label=label)[0]


def draw_classic_profiles(classic):
    """Activation std, gradient std and ||dL/dW|| / ||W|| per layer for each scheme, every
    seed a thin line. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(8.4, 3.3))
    depth = classic[next(iter(classic))]["act_std"].shape[1]
    layers = np.arange(1, depth + 1)
    titles = {"act_std": "activation std (forward →)",
              "grad_std": "gradient std (← backward)",
              "dW_ratio": "‖dL/dW‖ / ‖W‖"}
    handles = []
    for k, (name, runs) in enumerate(classic.items()):
        for ax, key in zip(axes, titles):
            h = _seed_lines(ax, layers, runs[key], f"C{k}", name)
        handles.append(h)
    for ax, title in zip(axes, titles.values()):
        _log_y(ax)
        ax.set_xlabel("layer", fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([1, 4, 7, 10])
        ax.tick_params(labelsize=9)
    fig.legend(handles, [f"W: {n}" for n in classic], loc="lower center", ncol=3, fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


# ------------------------------------------------------------------ §3 the funnel

def funnel(widths, var_rule, activation="linear", n=1000, rng=None):
    """Variance ratios through Linear layers of the given widths (ReLU between them if
    ``activation`` = "relu", none after the last), W ~ N(0, var_rule(fan_in, fan_out)).

    Forward: E[out^2] / E[x^2] for unit-Gaussian x; backward: E[g_in^2] / E[g_out^2] for a
    unit-Gaussian gradient g_out at the top. Theory: the product over layers of
    fan_in Var(W) (forward) or fan_out Var(W) (backward), times 1/2 for every ReLU (it keeps
    half the second moment forward, E[relu'(z)^2] = 1/2 backward). Returns a dict with
    "forward", "backward", "forward_theory", "backward_theory".
    """
    if activation not in ("linear", "relu"):
        raise ValueError(f"funnel: activation must be 'linear' or 'relu', got {activation!r}")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    pairs = list(zip(widths[:-1], widths[1:]))
    Ws = [math.sqrt(var_rule(fi, fo)) * rng.standard_normal((fi, fo)) for fi, fo in pairs]
    x = rng.standard_normal((n, widths[0]))
    g_top = rng.standard_normal((n, widths[-1]))
    relu = activation == "relu"
    with one_blas_thread():
        h, masks = x, []
        for i, W in enumerate(Ws):
            h = h @ W
            if relu and i < len(Ws) - 1:
                masks.append(h > 0)
                h = h * masks[-1]
        d = g_top
        for i in range(len(Ws) - 1, -1, -1):
            d = d @ Ws[i].T
            if relu and i > 0:
                d = d * masks[i - 1]
    half = 0.5 ** (len(Ws) - 1) if relu else 1.0
    return {"forward": float(np.mean(h ** 2) / np.mean(x ** 2)),
            "backward": float(np.mean(d ** 2) / np.mean(g_top ** 2)),
            "forward_theory": float(np.prod([fi * var_rule(fi, fo) for fi, fo in pairs]) * half),
            "backward_theory": float(np.prod([fo * var_rule(fi, fo) for fi, fo in pairs]) * half)}


# ------------------------------------------------------------------ §6-§8 gains over seeds

def gain_profiles(gains, activation, seeds, depth=20, width=256, n=128):
    """``propagate_many`` on every seed: {gain: SeedRuns} with the per-layer arrays act_std,
    act_mean, act_sq, pre_std, slope_sq, grad_std, saturated (one row per seed)."""
    keys = ("act_std", "act_mean", "act_sq", "pre_std", "slope_sq", "grad_std", "saturated")
    per_seed = [propagate_many(gains, activation, depth, width, n, s) for s in seeds]
    return {g: SeedRuns(list(seeds), [{k: res[j][k] for k in keys} for res in per_seed])
            for j, g in enumerate(gains)}


def forward_ratio(runs):
    """Activation std of the last layer / the first, per seed."""
    a = runs["act_std"]
    return a[:, -1] / a[:, 0]


def backward_ratio(runs):
    """Gradient std at the first layer / at the last (where the probe enters), per seed."""
    g = runs["grad_std"]
    return g[:, 0] / g[:, -1]


def per_layer(ratio, depth):
    """The per-layer factor of a ratio over depth - 1 steps: ratio ** (1 / (depth - 1))."""
    return np.asarray(ratio) ** (1.0 / (depth - 1))


def draw_tanh_sweep(gains, profiles, marks=((1.0, "1"), (math.sqrt(2), "√2 (He)"),
                                            (5 / 3, "5/3 (torch)"))):
    """Forward (activation std, layer 20 / layer 1) and backward (gradient std, layer 1 /
    layer 20) of a deep tanh stack against the gain, every seed a thin line. Returns the
    figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.4, 3.4))
    fwd = np.array([forward_ratio(profiles[g]) for g in gains]).T
    bwd = np.array([backward_ratio(profiles[g]) for g in gains]).T
    depth = profiles[gains[0]]["act_std"].shape[1]
    _seed_lines(ax, gains, fwd, "C0", f"forward: activation std, layer {depth} / layer 1")
    _seed_lines(ax, gains, bwd, "C3", f"backward: gradient std, layer 1 / layer {depth}",
                ls="--", marker="s")
    ax.axhline(1.0, color="0.5", lw=0.8)
    for g, label in marks:
        ax.axvline(g, color="0.6", lw=0.8, ls=":")
        ax.text(g, 0.98, label, transform=ax.get_xaxis_transform(), fontsize=9, ha="center",
                va="top", bbox=dict(fc="white", ec="none", pad=1))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([0.8, 1, 1.2, 1.5, 2, 2.5])
    ax.set_xticklabels(["0.8", "1", "1.2", "1.5", "2", "2.5"])
    ax.set_xlabel("gain (std(W) = gain / √256)", fontsize=9)
    ax.set_ylabel("ratio over the stack", fontsize=9)
    ax.tick_params(labelsize=9)
    ax.set_title(f"tanh, {depth} layers of 256 units: no gain keeps both directions flat",
                 fontsize=10)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def draw_sigmoid(profiles, styles):
    """Pre-activation std (forward) and gradient std (backward) per layer for the sigmoid and
    tanh cases of §7: ``profiles[(activation, gain)]`` SeedRuns, ``styles[(activation, gain)]``
    = (color, linestyle, label). Returns the figure."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FixedLocator, NullLocator

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
    handles = []
    for key, runs in profiles.items():
        color, ls, label = styles[key]
        depth = runs["pre_std"].shape[1]
        layers = np.arange(1, depth + 1)
        _seed_lines(axes[0], layers, runs["pre_std"] ** 2, color, label, ls=ls, ms=3)
        handles.append(_seed_lines(axes[1], layers, runs["grad_std"], color, label, ls=ls,
                                   ms=3))
    axes[0].set_title("forward: variance of the pre-activations z", fontsize=10)
    axes[1].set_title("backward: gradient std (probe at the top)", fontsize=10)
    for ax in axes:
        _log_y(ax)
        ax.set_xlabel("layer", fontsize=9)
        ax.set_xticks([1, 5, 10, 15, 20])
        ax.tick_params(labelsize=9)
    ticks = [0.01, 0.03, 0.1, 0.27, 1, 4, 16]
    axes[0].yaxis.set_major_locator(FixedLocator(ticks))
    axes[0].yaxis.set_minor_locator(NullLocator())
    axes[0].set_yticklabels([f"{t:g}" for t in ticks])
    for level, text in ((4.0, "16 · ¼ = 4"), (0.27, "¼ + Var/16 ≈ 0.27")):
        axes[0].axhline(level, color="0.55", lw=0.8, ls=":")
        axes[0].text(20.5, level * 0.8, text, fontsize=9, ha="right", va="top", color="0.3")
    fig.legend(handles, [styles[k][2] for k in profiles], loc="lower center", ncol=4,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def draw_twenty(profiles, styles):
    """§8: per-layer std (top) and the per-layer factor std_l / std_(l-1) (bottom, zoomed),
    forward (left) and backward (right), every seed a thin line. ``profiles[key]`` SeedRuns,
    ``styles[key]`` = (color, linestyle, label). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    fig, axes = plt.subplots(2, 2, figsize=(8.4, 6.0), sharex=True)
    handles = []
    for key, runs in profiles.items():
        color, ls, label = styles[key]
        a, g = runs["act_std"], runs["grad_std"]
        depth = a.shape[1]
        layers = np.arange(1, depth + 1)
        _seed_lines(axes[0, 0], layers, a, color, label, ls=ls, ms=2.5)
        handles.append(_seed_lines(axes[0, 1], layers, g, color, label, ls=ls, ms=2.5))
        # forward: layer l over layer l-1; backward: layer l over layer l+1 (the way it flows)
        _seed_lines(axes[1, 0], layers[1:], a[:, 1:] / a[:, :-1], color, label, ls=ls, ms=2.5)
        _seed_lines(axes[1, 1], layers[:-1], g[:, :-1] / g[:, 1:], color, label, ls=ls, ms=2.5)
    axes[0, 0].set_title("forward: activation std", fontsize=10)
    axes[0, 1].set_title("backward: gradient std (probe at layer 20)", fontsize=10)
    axes[1, 0].set_title("forward factor per layer: std(l) / std(l − 1)", fontsize=10)
    axes[1, 1].set_title("backward factor per layer: std(l) / std(l + 1)", fontsize=10)
    for ax in axes.ravel():
        _log_y(ax)
        ax.tick_params(labelsize=9)
        ax.set_xticks([1, 5, 10, 15, 20])
    for ax in axes[1]:
        ax.set_ylim(0.08, 2.0)
        ax.yaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 0.7, 1, 1.4, 2]))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_yticklabels(["0.1", "0.2", "0.5", "0.7", "1", "1.4", "2"])
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set_xlabel("layer", fontsize=9)
    labels = [styles[k][2] for k in profiles]
    order = _row_major(len(handles), 3)        # matplotlib fills legend columns first
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center",
               ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.075, 1, 1))
    return fig


# ------------------------------------------------------------------ §9 a 20-layer ReLU stack

STACK_INITS = ("torch_default", "xavier_normal", "he_normal", "lsuv")
INIT_LABELS = {"torch_default": "PyTorch default", "xavier_normal": "Xavier",
               "he_normal": "He", "lsuv": "LSUV", "normal_1": "std 1",
               "tanh_gain": "Xavier × 5/3"}


def relu_stack(init, seed, depth=20, width=64, activation="relu", lsuv_batch=256):
    """64 -> depth x [Linear(width, init), ReLU or Tanh] -> Linear(width, 10), the weights
    from ``seed``. ``init``: a name of course_lib.init, "normal_1" (N(0, 1)), "tanh_gain"
    (Xavier with gain 5/3) or "lsuv" (He-shaped layers, then ``cl.init.lsuv`` on the first
    ``lsuv_batch`` training digits: orthonormal start, each layer's pre-activation variance
    rescaled to 1). The output layer gets the same init. Returns (model, lsuv_result or None).
    """
    w_rng, lsuv_rng = streams(seed, 2)
    act = {"relu": ReLU, "tanh": Tanh}[activation]
    layer_init = {"lsuv": "he_normal", "normal_1": partial(cinit.normal, std=1.0),
                  "tanh_gain": partial(cinit.xavier_normal, gain=5 / 3)}.get(init, init)
    layers, fan_in = [], 64
    for _ in range(depth):
        layers += [Linear(fan_in, width, init=layer_init, rng=w_rng), act()]
        fan_in = width
    layers.append(Linear(fan_in, 10, init=layer_init, rng=w_rng))
    model = Sequential(*layers)
    result = None
    if init == "lsuv":
        result = cinit.lsuv(model, digits()[0][:lsuv_batch], rng=lsuv_rng)
    return model, result


def init_profile(seeds, inits=STACK_INITS, depth=20, width=64, activation="relu", n=256):
    """The stack at initialization, on the first n standardized training digits: {init:
    SeedRuns} with "act_std" (depth,) per hidden layer, "dead" (depth,) the share of units
    that output 0 on EVERY training digit (``dead_units``, ReLU only), "signal" the share of
    the deepest hidden layer's second moment that varies from digit to digit
    (mean over units of Var_examples(a) / E[a^2]), and "logit_spread": the std over digits of
    the logits, averaged over the 10 outputs."""
    Xtr = digits()[0]
    out = {}
    for init in inits:
        rows = []
        for seed in seeds:
            model, _ = relu_stack(init, seed, depth, width, activation)
            h, stds, last = Xtr[:n], [], None
            for layer in model.layers:
                h = layer.forward(h)
                if layer is not model.layers[-1] and not isinstance(layer, Linear):
                    stds.append(h.std())
                    last = h
            row = {"act_std": np.array(stds),
                   "signal": float(np.mean(last.var(axis=0)) / max(np.mean(last ** 2), 1e-300)),
                   "logit_spread": float(h.std(axis=0).mean())}
            if activation == "relu":
                masks = dead_units(model, Xtr)
                row["dead"] = np.array([masks[i].mean() for i in sorted(masks)])
            rows.append(row)
        out[init] = SeedRuns(list(seeds), rows)
    return out


def draw_init_profile(profile, depth=20):
    """Left: activation std per hidden layer at initialization; right: share of dead units.
    Every seed a thin line. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    layers = np.arange(1, depth + 1)
    handles = []
    for k, (init, runs) in enumerate(profile.items()):
        color = f"C{k}"
        handles.append(_seed_lines(axes[0], layers, runs["act_std"], color, INIT_LABELS[init],
                                   ms=3))
        if "dead" in runs.keys():
            v = 100 * runs["dead"]
            for row in v:
                axes[1].plot(layers, row, color=color, lw=0.8, alpha=0.4)
            axes[1].plot(layers, v.mean(axis=0), "o-", color=color, ms=3, lw=1.8)
    _log_y(axes[0])
    axes[0].set_title("activation std per layer (digits)", fontsize=10)
    axes[1].set_title("dead units: 0 on every training digit", fontsize=10)
    axes[1].set_ylabel("% of the layer's 64 units", fontsize=9)
    axes[1].set_ylim(-2, 100)
    for ax in axes:
        ax.set_xlabel("hidden layer", fontsize=9)
        ax.set_xticks([1, 5, 10, 15, 20])
        ax.tick_params(labelsize=9)
    fig.legend(handles, [INIT_LABELS[i] for i in profile], loc="lower center", ncol=4,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


@lru_cache(maxsize=4)
def _lr_scan(cs, seeds, inits, lrs, epochs, depth, width, batch_size, momentum):
    Xtr, ytr, Xva, yva, Xte, yte = digits()
    nets, lr_of, orders = [], [], []
    for init in inits:
        for lr in lrs:
            for seed in seeds:
                model, _ = relu_stack(init, seed, depth, width)
                nets.append(model)
                lr_of.append(lr)
                orders.append(streams(seed, 3)[2])      # the same data order for every init
    model = stack(nets, np.float32)
    val_loss, val_acc = np.full((2, len(nets), epochs), np.nan)
    best = BestEpochs(model)                     # the epoch of the lowest validation loss

    def measure(epoch, live, runs):
        z = live.forward(Xva)
        val_loss[runs, epoch - 1], val_acc[runs, epoch - 1] = nll(z, yva), accuracy(z, yva)
        best.update(epoch, val_loss[runs, epoch - 1], live, runs)

    with one_blas_thread(), np.errstate(all="ignore"):
        fit_stacked(model, Xtr, ytr, orders=orders, epochs=epochs, batch_size=batch_size, lr=lr_of,
                    momentum=momentum, explode_factor=None, record_loss=False, evaluate=measure)
        test_acc = accuracy(best.best.forward(Xte), yte)
    shape = (len(inits), len(lrs), len(seeds))
    val_loss = np.where(np.isfinite(val_loss), val_loss, np.inf)
    return {"val_loss": val_loss.reshape(shape + (epochs,)),
            "val_acc": val_acc.reshape(shape + (epochs,)),
            "test_acc": test_acc.reshape(shape),
            "best_epoch": np.maximum(best.best_epoch - 1, 0).reshape(shape)}


class LRScan:
    """The 20-layer ReLU stack trained from each init at each learning rate on each seed.

    Arrays indexed [init, lr, seed(, epoch)]: ``val_loss`` (inf where a run diverged),
    ``val_acc``, ``test_acc`` (test accuracy of the epoch with the lowest validation loss),
    ``best_epoch``. ``best_lr(init)``: the learning rate with the lowest mean validation loss
    at the end of the budget; ``at_best(init, key)``: that learning rate's per-seed values.
    """

    def __init__(self, inits, lrs, seeds, epochs, arrays):
        self.inits, self.lrs, self.seeds, self.epochs = list(inits), list(lrs), list(seeds), epochs
        for k, v in arrays.items():
            setattr(self, k, v)

    def _i(self, init):
        return self.inits.index(init)

    def best_lr(self, init):
        final = self.val_loss[self._i(init), :, :, -1]
        return self.lrs[int(np.argmin(final.mean(axis=1)))]

    def at_best(self, init, key):
        return getattr(self, key)[self._i(init), self.lrs.index(self.best_lr(init))]


def lr_scan(seeds, inits=STACK_INITS, lrs=(0.003, 0.01, 0.03), epochs=5, depth=20, width=64,
            batch_size=64, momentum=0.9):
    """Train ``relu_stack(init, seed)`` for every init x lr x seed with SGD + momentum on the
    standardized digits (all runs side by side in float32, ``_stacked.fit_stacked``: the
    arithmetic of cl.fit). Every init sees the same data order on a given seed. Cached.
    Returns an LRScan."""
    key = (course_seed(), tuple(seeds), tuple(inits), tuple(lrs), int(epochs), int(depth),
           int(width), int(batch_size), float(momentum))
    return LRScan(inits, lrs, seeds, epochs, _lr_scan(*key))


def draw_lr_scan(scan):
    """Left: validation loss after the budget against the learning rate, per init (every seed
    a dot); right: the validation loss per epoch at each init's best learning rate. Returns
    the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
    handles = []
    lrs = np.array(scan.lrs)
    epochs = np.arange(1, scan.epochs + 1)
    for k, init in enumerate(scan.inits):
        color = f"C{k}"
        final = np.minimum(scan.val_loss[k, :, :, -1], 4.0)        # diverged runs at the top
        for j, lr in enumerate(lrs):
            axes[0].scatter(np.full(final.shape[1], lr) * (1 + 0.06 * (k - 1.5)), final[j],
                            s=16, color=color, alpha=0.7, zorder=3)
        h, = axes[0].plot(lrs * (1 + 0.06 * (k - 1.5)), final.mean(axis=1), "-", color=color,
                          lw=1.6, label=INIT_LABELS[init])
        handles.append(h)
        curves = np.minimum(scan.at_best(init, "val_loss"), 4.0)
        for row in curves:
            axes[1].plot(epochs, row, color=color, lw=0.8, alpha=0.45)
        axes[1].plot(epochs, curves.mean(axis=0), "o-", color=color, lw=1.8, ms=3.5)
    for ax in axes:
        ax.axhline(math.log(10), color="0.5", lw=0.8, ls=":")
        ax.tick_params(labelsize=9)
    from matplotlib.ticker import NullLocator

    axes[1].text(scan.epochs, math.log(10) - 0.03, "ln 10: chance", fontsize=9, va="top",
                 ha="right", color="0.3")
    axes[0].set_xscale("log")
    axes[0].set_xticks(lrs)
    axes[0].xaxis.set_minor_locator(NullLocator())
    axes[0].set_xticklabels([f"{v:g}" for v in lrs])
    axes[0].set_xlim(lrs[0] / 1.6, lrs[-1] * 1.6)
    axes[0].set_xlabel("learning rate (SGD, momentum 0.9)", fontsize=9)
    axes[0].set_ylabel("validation loss", fontsize=9)
    axes[0].set_title(f"after {scan.epochs} epochs, every seed a dot", fontsize=10)
    axes[1].set_xlabel("epoch", fontsize=9)
    axes[1].set_xticks(epochs)
    axes[1].set_title("at each init's own best learning rate", fontsize=10)
    fig.legend(handles, [INIT_LABELS[i] for i in scan.inits], loc="lower center", ncol=4,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


# ------------------------------------------------------------------ §10 statistics in training

@lru_cache(maxsize=16)
def _stats_run(cs, init, activation, depth, seed, epochs, lr, every):
    Xtr, ytr, Xva, yva, _, _ = digits()
    model, _ = relu_stack(init, seed, depth, activation=activation)
    stats = ActivationStats(model, every=every)
    dead_before = stats.dead_on(Xtr) if activation == "relu" else None
    with one_blas_thread():
        hist = fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr, momentum=0.9),
                   Xtr, ytr, epochs=epochs, batch_size=64, val=(Xva, yva),
                   rng=streams(seed, 3)[2], progress=False, ratio_every=0, callbacks=[stats],
                   explode_factor=1e9)
    stats.remove()
    dead_after = stats.dead_on(Xtr) if activation == "relu" else None
    return stats, hist, dead_before, dead_after


def stats_run(init, seed, activation="relu", depth=20, epochs=5, lr=0.01, every=2):
    """One run of ``relu_stack(init, seed, depth, activation=...)`` trained with cl.fit (SGD,
    momentum 0.9, batch 64, standardized digits) under ``ActivationStats(every=every)``.
    Cached. Returns (stats, history, dead_before, dead_after): the dead shares are exact
    (``stats.dead_on`` on all training digits, {layer index: share}; None for tanh)."""
    return _stats_run(course_seed(), init, activation, int(depth), int(seed), int(epochs),
                      float(lr), int(every))


def draw_colorful_pair(runs, labels, layers, title):
    """fast.ai's colorful dimension of two training runs, one row each (``runs``: two
    ActivationStats; ``layers``: model.layers indices of the hidden activation layers to
    show, titled by their hidden-layer number). Returns the figure."""
    import matplotlib.pyplot as plt
    from ..plots import plot_colorful_dimension

    fig, axes = plt.subplots(2, len(layers), figsize=(8.4, 4.6), sharex=True,
                             constrained_layout=True)
    for row, stats, label in zip(axes, runs, labels):
        plot_colorful_dimension(stats, axes=row, layers=layers)
        for ax, i in zip(row, layers):
            ax.set_title(f"hidden layer {(i + 1) // 2}", fontsize=9)
        row[0].set_ylabel(f"{label}\nactivation", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return fig


def mean_dead(dead):
    """Mean share of dead units over the layers of a ``dead_on`` dict."""
    return float(np.mean(list(dead.values())))
