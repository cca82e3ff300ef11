"""Regularization explorer and the experiments of notebooks/07_regularization.ipynb.

1. Capacity (``curve_data``, ``poly_features``, ``fit_poly``, ``capacity_sweep``,
   ``bias_variance``): least-squares polynomials of growing degree, optionally ridge-penalized,
   fitted to a few noisy samples of sin(pi x) on [-1, 1].
2. The bench (``bench_data``, ``make_mlp``, ``train_bench``, ``train_run``): a ReLU MLP
   64 -> 128 -> 10 trained on 300 training digits of which 20% carry a random label, so that
   overfitting costs validation accuracy. ``train_run(method, strength)`` trains it with one
   regularizer (none / L2 / L1 / elastic net / max-norm / dropout) at one of seven strengths;
   ``precompute()`` fills the whole grid the explorer shows, after which a control move only
   redraws (``draw``, ``regularization_explorer``).
3. Experiments of the later sections: max-norm at a high learning rate (``max_norm_run``),
   data augmentation (``shift_digits``, ``augment``, ``train_augmented``), label smoothing
   on separable data (``logit_growth``), the variance of an average (``average_variance``).

All compute functions are pure and seeded: numpy in, numbers and arrays out, no plotting.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..activations import ReLU
from ..data import corrupt_labels, load_digits
from ..dropout import Dropout
from ..functional import softmax
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD, Adam
from ..regularizers import L1, L2, ElasticNet
from ..train import evaluate, fit
from ._common import one_blas_thread, render_png


# ------------------------------------------------------------------ 1. capacity on a 1-D curve

CURVE_NOISE = 0.3


def true_function(x):
    """The curve behind the 1-D data: f(x) = 2 + sin(pi x), a signal around a baseline of 2.
    Shapes: any -> same."""
    return 2.0 + np.sin(np.pi * x)


def curve_data(n, noise=CURVE_NOISE, rng=0, grid=False):
    """n points with targets f(x) + noise * N(0, 1): x ~ U[-1, 1], or with ``grid`` the fixed
    design x = linspace(-1, 1, n) (only the noise is random). Shapes: x (n,), y (n,)."""
    g = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    x = np.linspace(-1.0, 1.0, n) if grid else g.uniform(-1.0, 1.0, n)
    return x, true_function(x) + noise * g.standard_normal(n)


def poly_features(x, degree):
    """Legendre polynomials P_0(x) .. P_degree(x) as columns (well conditioned on [-1, 1],
    and spanning the same functions as 1, x, .., x**degree). Shapes: x (n,) -> (n, degree + 1)."""
    return np.polynomial.legendre.legvander(np.asarray(x, dtype=np.float64), degree)


def fit_poly(x, y, degree, lam=0.0, penalize_intercept=False):
    """Coefficients c minimizing mean((Phi c - y)**2) + (lam / 2) * ||c'||**2, where c' is c
    without the constant term P_0 (the polynomial's "bias") unless ``penalize_intercept``.

    Solved as one least-squares problem on [Phi / sqrt(n); sqrt(lam / 2) D] (no normal
    equations, so no squared condition number). Shapes: x, y (n,) -> c (degree + 1,).
    """
    phi = poly_features(x, degree)
    n, k = phi.shape
    if lam > 0:
        d = np.eye(k)
        if not penalize_intercept:
            d[0, 0] = 0.0
        phi = np.vstack([phi / np.sqrt(n), np.sqrt(lam / 2.0) * d])
        y = np.concatenate([np.asarray(y, dtype=np.float64) / np.sqrt(n), np.zeros(k)])
    return np.linalg.lstsq(phi, y, rcond=None)[0]


def predict_poly(c, x):
    """Evaluate the Legendre series with coefficients c at x. Shapes: c (k,), x (m,) -> (m,)."""
    return poly_features(x, len(c) - 1) @ c


def capacity_sweep(degrees, n_train=20, n_val=1000, noise=CURVE_NOISE, lam=0.0, rng=0):
    """Train and validation mean squared error of the least-squares polynomial of each degree.

    One training set (``n_train`` evenly spaced points, noise seeded by ``rng``) and one large
    validation set (uniform x, seed ``rng + 1``) for all degrees; ``lam`` adds the ridge penalty
    of ``fit_poly``. Returns (train_mse, val_mse), each of shape (len(degrees),).
    """
    x, y = curve_data(n_train, noise, rng, grid=True)
    xv, yv = curve_data(n_val, noise, rng + 1)
    tr, va = [], []
    for d in degrees:
        c = fit_poly(x, y, d, lam)
        tr.append(np.mean((predict_poly(c, x) - y) ** 2))
        va.append(np.mean((predict_poly(c, xv) - yv) ** 2))
    return np.array(tr), np.array(va)


def bias_variance(degrees, n_train=20, n_sets=300, noise=CURVE_NOISE, n_grid=101, rng=0):
    """Bias-variance decomposition of the degree-d least-squares fit, over ``n_sets``
    training sets of ``n_train`` evenly spaced points (independent noise), at ``n_grid``
    points of [-1, 1].

    For each degree, with yhat_s(x) the fit to training set s and ybar(x) = mean_s yhat_s(x):
      bias2    = mean_x (ybar(x) - f(x))**2
      variance = mean_x mean_s (yhat_s(x) - ybar(x))**2
      error    = mean_x mean_s (yhat_s(x) - y_new)**2 with fresh noisy targets y_new,
    which is bias2 + variance + noise**2 up to sampling error.
    Returns a dict of arrays of shape (len(degrees),): "bias2", "variance", "error".
    """
    g = np.random.default_rng(rng)
    xg = np.linspace(-1.0, 1.0, n_grid)
    fg = true_function(xg)
    sets = [curve_data(n_train, noise, g, grid=True) for _ in range(n_sets)]
    y_new = fg + noise * g.standard_normal((n_sets, n_grid))
    out = {"bias2": [], "variance": [], "error": []}
    for d in degrees:
        preds = np.array([predict_poly(fit_poly(x, y, d), xg) for x, y in sets])   # (n_sets, n_grid)
        mean = preds.mean(axis=0)
        out["bias2"].append(np.mean((mean - fg) ** 2))
        out["variance"].append(np.mean((preds - mean) ** 2))
        out["error"].append(np.mean((preds - y_new) ** 2))
    return {k: np.array(v) for k, v in out.items()}


# ------------------------------------------------------------------ 2. the bench

N_TRAIN, LABEL_NOISE, WIDTH = 300, 0.2, 128
EPOCHS, BATCH_SIZE, LR, MOMENTUM = 60, 32, 0.05, 0.9
METHODS = ("none", "L2", "L1", "elastic net", "max-norm", "dropout")
EXPONENTS = (-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0)      # strength s = 10 ** exponent
STRENGTHS = tuple(10.0 ** e for e in EXPONENTS)
BINS = np.linspace(-1.0, 1.0, 81)                           # for the first-layer histograms
NEAR_ZERO = 1e-3                                             # |w| below this counts as "near zero"


@lru_cache(maxsize=1)
def digits():
    """The course's seeded digits split, loaded once. Shapes: X (N, 64), y (N,)."""
    return load_digits()


def bench_data(n=N_TRAIN, label_noise=LABEL_NOISE, rng=0):
    """The first ``n`` training digits; a fraction ``label_noise`` of their labels is replaced
    by a uniformly random class (sometimes the right one by chance). Shapes: X (n, 64), y (n,)."""
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    if label_noise > 0:
        y = corrupt_labels(y, label_noise, 10, np.random.default_rng(rng))
    return X, y


def make_mlp(widths=(WIDTH,), p=0.0, rng=0):
    """ReLU MLP 64 -> widths... -> 10 with Dropout(p) after every hidden ReLU (none on the output).

    ``rng`` (an int) seeds the He-normal weights; the dropout masks use seed rng + 100.
    Shapes: input (N, 64) -> logits (N, 10).
    """
    init_rng = np.random.default_rng(rng)
    mask_rng = np.random.default_rng(rng + 100)
    layers, fan_in = [], 64
    for w in widths:
        layers += [Linear(fan_in, w, rng=init_rng), ReLU()]
        if p > 0:
            layers.append(Dropout(p, rng=mask_rng))
        fan_in = w
    layers.append(Linear(fan_in, 10, rng=init_rng))
    return Sequential(*layers)


def snap(strength):
    """Index of the grid strength nearest to ``strength`` (on the log scale)."""
    k = int(round(2.0 * (np.log10(strength) - EXPONENTS[0])))
    return min(max(k, 0), len(EXPONENTS) - 1)


def settings(method, strength):
    """What strength s means for each method, as (label, regularizer, max_norm, p).

    L2: lam = s;  L1: lam = s / 10;  elastic net: l1 = s / 20, l2 = s / 2 (half of each);
    max-norm: c = 4 / sqrt(2)**k for the k-th grid strength (4 at s = 1e-4 ... 0.5 at 0.1);
    dropout: p = 0.1 (k + 1) (0.1 ... 0.7). "none" ignores s.
    """
    if method not in METHODS:
        raise ValueError(f"settings: method must be one of {METHODS}, got {method!r}")
    k = snap(strength)
    s = STRENGTHS[k]
    if method == "L2":
        return f"L2, λ = {s:.2g}", L2(s), None, 0.0
    if method == "L1":
        return f"L1, λ = {s / 10:.2g}", L1(s / 10), None, 0.0
    if method == "elastic net":
        return f"elastic net, λ1 = {s / 20:.2g}, λ2 = {s / 2:.2g}", ElasticNet(s / 20, s / 2), None, 0.0
    if method == "max-norm":
        c = 4.0 / np.sqrt(2.0) ** k
        return f"max-norm, c = {c:.2g}", None, c, 0.0
    if method == "dropout":
        p = round(0.1 * (k + 1), 1)
        return f"dropout, p = {p:g}", None, None, p
    return "no regularization", None, None, 0.0


@dataclass(frozen=True)
class Run:
    """One bench run. Per epoch, all in evaluation mode (dropout off): ``train_loss``,
    ``train_acc`` (on the training subset with the labels it was trained on), ``val_loss``,
    ``val_acc`` (clean validation set), each (epochs,). ``W1``: first-layer weights (64, width);
    ``counts``: their histogram over BINS; ``near_zero``: fraction of first-layer weights with
    |w| < NEAR_ZERO; ``max_col_norm``: largest incoming-weight norm of any unit;
    ``val_probs``: final softmax outputs on the validation set (N_val, 10);
    ``snapshots``: validation softmax outputs after each of the last 10 epochs (10, N_val, 10).
    """

    label: str
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    W1: np.ndarray
    counts: np.ndarray
    near_zero: float
    max_col_norm: float
    val_probs: np.ndarray
    snapshots: np.ndarray


def _frozen(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


def train_bench(widths=(WIDTH,), p=0.0, regularizer=None, max_norm=None, seed=0, epochs=EPOCHS,
                label="", label_noise=LABEL_NOISE):
    """Train ``make_mlp(widths, p, rng=seed)`` on ``bench_data()`` and measure it every epoch.

    SGD with momentum 0.9, lr 0.05, mini-batches of 32; ``regularizer`` (a cl.L1/L2/ElasticNet)
    and ``max_norm`` are passed to ``cl.fit``. The shuffling order is seeded with seed + 2.
    Returns a Run.
    """
    X, y = bench_data(label_noise=label_noise)
    split = digits()
    model = make_mlp(widths, p, rng=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    order = np.random.default_rng(seed + 2)
    rows, snaps = [], []
    for epoch in range(epochs):
        fit(model, loss_fn, opt, X, y, epochs=1, batch_size=BATCH_SIZE, rng=order,
            regularizer=regularizer, max_norm=max_norm, progress=False, ratio_every=0)
        rows.append(evaluate(model, loss_fn, X, y) + evaluate(model, loss_fn, split.X_val, split.y_val))
        if epoch >= epochs - 10:
            model.eval()
            snaps.append(softmax(model.forward(split.X_val)))
            model.train()
    train_loss, train_acc, val_loss, val_acc = (np.array(c) for c in zip(*rows))
    W1 = model.layers[0].W.data.copy()
    counts = np.histogram(W1, BINS)[0]
    col = max(float(np.sqrt((layer.W.data ** 2).sum(axis=0)).max())
              for layer in model.layers if isinstance(layer, Linear))
    snapshots = np.array(snaps)
    arrays = _frozen(train_loss, train_acc, val_loss, val_acc, W1, counts, snapshots)
    return Run(label, *arrays[:6], float(np.mean(np.abs(W1) < NEAR_ZERO)), col, snapshots[-1], snapshots)


@lru_cache(maxsize=None)
def _cached_run(method, k, seed, epochs):
    label, reg, c, p = settings(method, STRENGTHS[k])
    return train_bench(p=p, regularizer=reg, max_norm=c, seed=seed, epochs=epochs, label=label)


def train_run(method, strength=1e-2, seed=0, epochs=EPOCHS):
    """The bench trained with one regularizer at the grid strength nearest ``strength``
    (cached; "none" is the same run for every strength). Returns a Run (read-only arrays)."""
    if method not in METHODS:
        raise ValueError(f"train_run: method must be one of {METHODS}, got {method!r}")
    k = 0 if method == "none" else snap(strength)
    return _cached_run(method, k, int(seed), int(epochs))


def precompute(methods=METHODS, strengths=STRENGTHS):
    """Train (and cache) every run the explorer can show; returns the number of runs."""
    n = 0
    with one_blas_thread():
        for method in methods:
            for s in (strengths[:1] if method == "none" else strengths):
                train_run(method, s)
                n += 1
    return n


def pixel_weight_norms(W1):
    """Norm of each input pixel's outgoing first-layer weights, as an image.
    Shapes: W1 (64, H) -> (8, 8)."""
    return np.sqrt((W1 ** 2).sum(axis=1)).reshape(8, 8)


def draw(strength=1e-2, method="L1", fig=None):
    """Left: histogram of the first-layer weights (log counts) for the chosen run and, faint,
    without regularization. Middle: loss per epoch. Right: accuracy per epoch (train on the
    noisy training labels, validation clean; evaluation mode). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(12, 3.7))
    # fixed margins instead of tight_layout, which would double the redraw time
    ax0, ax1, ax2 = fig.subplots(1, 3, gridspec_kw={"left": 0.065, "right": 0.99, "bottom": 0.14,
                                                    "top": 0.8, "wspace": 0.27})
    base, run = train_run("none"), train_run(method, strength)
    ax0.stairs(base.counts + 0.5, BINS, color="0.6", label="none", baseline=0.5)
    ax0.stairs(run.counts + 0.5, BINS, color="tab:purple", lw=1.5, fill=method != "none",
               alpha=0.5 if method != "none" else 1.0, label=method, baseline=0.5)
    ax0.set_yscale("log")
    ax0.set_ylim(0.5, 1e4)
    ax0.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax0.yaxis.set_minor_locator(NullLocator())   # fewer tick labels: a faster redraw
    ax0.set_xlabel("first-layer weight")
    ax0.set_ylabel("count (log scale)")
    ax0.legend(fontsize=8, loc="upper right")
    ep = np.arange(1, len(run.val_loss) + 1)
    shown = [(run, 1.0, 2.0, "")] if method == "none" else [(base, 0.35, 1.0, " (none)"), (run, 1.0, 2.0, "")]
    for r, alpha, lw, tag in shown:
        ax1.plot(ep, r.train_loss, color="tab:blue", alpha=alpha, lw=lw, label=f"train{tag}")
        ax1.plot(ep, r.val_loss, color="tab:orange", alpha=alpha, lw=lw, label=f"validation{tag}")
        ax2.plot(ep, r.train_acc, color="tab:blue", alpha=alpha, lw=lw, label=f"train{tag}")
        ax2.plot(ep, r.val_acc, color="tab:orange", alpha=alpha, lw=lw, label=f"validation{tag}")
    ax1.set_ylim(0, 2.5)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy (eval mode)")
    ax1.legend(fontsize=7, loc="upper right", ncol=2)
    ax2.set_ylim(0.4, 1.01)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (eval mode)")
    ax2.legend(fontsize=7, loc="lower right", ncol=2)
    note = " (the strength has no effect)" if method == "none" else ""
    fig.suptitle(f"{run.label}{note}: final validation accuracy {run.val_acc[-1]:.3f} "
                 f"(none: {base.val_acc[-1]:.3f}), training accuracy {run.train_acc[-1]:.3f}\n"
                 f"first layer: {100 * run.near_zero:.0f}% of weights |w| < {NEAR_ZERO:g} "
                 f"(none: {100 * base.near_zero:.0f}%); largest column norm {run.max_col_norm:.2f}",
                 fontsize=9)
    return fig


def regularization_explorer(strength=1e-2, method="L1"):
    """Build the widget: strength (log slider over the precomputed grid, first control) and
    method (dropdown). The callback draws and returns the Run it shows."""
    import ipywidgets as W
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    # one figure, redrawn and sent as a PNG: no pyplot bookkeeping and no second "tight"
    # rendering pass, which together doubled the time of a slider move
    fig = Figure(figsize=(12, 3.7))

    def update(strength, method):
        fig.clear()
        draw(strength, method, fig=fig)
        display(Image(render_png(fig)))
        return train_run(method, strength)

    style = {"description_width": "initial"}
    box = W.interactive(
        update,
        strength=W.FloatLogSlider(value=STRENGTHS[snap(strength)], base=10, min=EXPONENTS[0],
                                  max=EXPONENTS[-1], step=0.5, description="strength",
                                  readout_format=".2g", continuous_update=False, style=style,
                                  layout=W.Layout(width="420px")),
        method=W.Dropdown(options=list(METHODS), value=method, description="method", style=style),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


# ------------------------------------------------------------------ 3. experiments

@dataclass(frozen=True)
class MaxNormRun:
    """Per epoch: ``val_acc``, ``max_col_norm`` (largest incoming-weight norm over all layers),
    ``max_logit`` (largest |logit| on the validation set); ``col_norms``: the first layer's
    final column norms (H,); ``dead``: the final fraction of hidden ReLUs that no training
    input activates."""

    val_acc: np.ndarray
    max_col_norm: np.ndarray
    max_logit: np.ndarray
    col_norms: np.ndarray
    dead: float


@lru_cache(maxsize=None)
def max_norm_run(c=None, lr=0.5, seed=0, epochs=15, p=0.5, width=WIDTH):
    """64 -> width -> 10 ReLU MLP with Dropout(p) on ALL training digits, SGD with momentum 0.9
    at a high learning rate, with (``c``) or without (None) the max-norm constraint.
    Returns a MaxNormRun (cached)."""
    split = digits()
    model = make_mlp((width,), p, rng=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    order = np.random.default_rng(seed + 2)
    linears = [m for m in model.layers if isinstance(m, Linear)]
    acc, norm, logit = [], [], []
    for _ in range(epochs):
        fit(model, loss_fn, opt, split.X_train, split.y_train, epochs=1, batch_size=64, rng=order,
            max_norm=c, progress=False, ratio_every=0, explode_factor=np.inf)
        model.eval()
        z = model.forward(split.X_val)
        model.train()
        acc.append(np.mean(z.argmax(axis=1) == split.y_val))
        logit.append(np.abs(z).max())
        norm.append(max(np.sqrt((m.W.data ** 2).sum(axis=0)).max() for m in linears))
    cols = np.sqrt((linears[0].W.data ** 2).sum(axis=0))
    pre = split.X_train @ linears[0].W.data + linears[0].b.data
    dead = float(np.mean(np.all(pre <= 0, axis=0)))
    return MaxNormRun(*_frozen(np.array(acc), np.array(norm), np.array(logit), cols), dead)


def shift_digits(X, dx, dy):
    """Move 8x8 digit images by dx pixels right and dy pixels down; pixels moved in are 0.
    Shapes: X (N, 64) -> (N, 64)."""
    img = np.asarray(X).reshape(-1, 8, 8)
    out = np.zeros_like(img)
    h = 8
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):h + min(dx, 0)] = \
        img[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):h - max(dx, 0)]
    return out.reshape(len(img), 64)


def augment(X, rng, shift_prob=0.0, noise=0.0):
    """A fresh random version of each image: with probability ``shift_prob`` a shift by one
    pixel in one of the 8 directions, then Gaussian pixel noise of std ``noise``.
    Shapes: X (N, 64) -> (N, 64)."""
    g = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    X = np.array(X, dtype=np.float64)
    if shift_prob > 0:
        moves = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
        which = g.integers(0, len(moves), len(X))
        moved = g.random(len(X)) < shift_prob
        for k, (dx, dy) in enumerate(moves):
            sel = moved & (which == k)
            if sel.any():
                X[sel] = shift_digits(X[sel], dx, dy)
    if noise > 0:
        X += noise * g.standard_normal(X.shape)
    return X


AUGMENTATIONS = {"none": (0.0, 0.0), "noise": (0.0, 0.2), "shifts": (0.5, 0.0)}


@lru_cache(maxsize=None)
def shifted_val(rng=99):
    """The validation digits, each moved by one pixel in a random one of 8 directions."""
    return augment(digits().X_val, rng, shift_prob=1.0)


@lru_cache(maxsize=None)
def train_augmented(kind="none", seed=0, n=200, epochs=60):
    """64 -> 128 -> 10 MLP on the first ``n`` (clean) training digits; every epoch sees a
    fresh augmentation of them (``AUGMENTATIONS[kind]`` = (shift_prob, noise)).
    Returns (val_acc, val_loss, shifted_val_acc)."""
    shift_prob, noise = AUGMENTATIONS[kind]
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    model = make_mlp(rng=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    g = np.random.default_rng(seed + 10)
    for _ in range(epochs):
        Xa = augment(X, g, shift_prob, noise) if kind != "none" else X
        fit(model, loss_fn, opt, Xa, y, epochs=1, batch_size=BATCH_SIZE, rng=g, progress=False,
            ratio_every=0)
    val_loss, val_acc = evaluate(model, loss_fn, split.X_val, split.y_val)
    return val_acc, val_loss, evaluate(model, loss_fn, shifted_val(), split.y_val)[1]


def smoothing_floor(alpha, k=10):
    """The smallest possible smoothed cross-entropy: the entropy of the target
    t = (1 - alpha) onehot + alpha / k. Also returns the logit gap z_true - z_other at which a
    softmax output equals t: log(1 + k (1 - alpha) / alpha) (inf for alpha = 0)."""
    hi, lo = 1.0 - alpha + alpha / k, alpha / k
    ent = -hi * np.log(hi) - ((k - 1) * lo * np.log(lo) if lo > 0 else 0.0)
    gap = np.log(1.0 + k * (1.0 - alpha) / alpha) if alpha > 0 else np.inf
    return float(ent), float(gap)


@lru_cache(maxsize=None)
def logit_growth(alpha, steps=2000, lr=0.05, n=200):
    """A linear softmax classifier (Linear(64, 10), zero init) trained by full-batch Adam on the
    first ``n`` training digits (linearly separable), with label smoothing ``alpha``.

    Returns (steps_recorded, loss, logit_norm, margin, train_acc), recorded at about 40
    log-spaced steps: the training loss, the mean logit norm ||z_i||, the mean margin (true-class
    logit minus the largest other) and the training accuracy. Each an array (n_recorded,).
    """
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    model = Linear(64, 10, init="zeros")
    loss_fn = SoftmaxCrossEntropy(label_smoothing=alpha)
    opt = Adam(model.parameters(), lr=lr)
    record = set(np.unique(np.geomspace(1, steps, 40).astype(int)).tolist())
    rows = []
    for t in range(1, steps + 1):
        z = model.forward(X)
        loss = loss_fn.forward(z, y)
        if t in record:
            other = np.where(np.arange(10) == y[:, None], -np.inf, z).max(axis=1)
            rows.append((t, loss, np.linalg.norm(z, axis=1).mean(),
                         np.mean(z[np.arange(n), y] - other), np.mean(z.argmax(axis=1) == y)))
        opt.zero_grad()
        model.backward_params(loss_fn.backward())
        opt.step()
    return tuple(_frozen(*(np.array(c) for c in zip(*rows))))


def average_variance(ns, sigma=1.0, rho=0.0, trials=20000, rng=0):
    """Empirical variance of the average of n predictions whose errors have variance sigma**2
    and pairwise correlation rho (e_i = sigma (sqrt(rho) z0 + sqrt(1 - rho) z_i)).
    Theory: sigma**2 (rho + (1 - rho) / n). Returns an array of shape (len(ns),)."""
    g = np.random.default_rng(rng)
    out = []
    for n in ns:
        z0 = g.standard_normal((trials, 1))
        e = sigma * (np.sqrt(rho) * z0 + np.sqrt(1.0 - rho) * g.standard_normal((trials, n)))
        out.append(e.mean(axis=1).var())
    return np.array(out)
