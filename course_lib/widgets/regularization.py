"""Regularization explorer and the bench of notebooks/07_regularization.ipynb.

1. Capacity (``curve_data``, ``curve_train``, ``curve_val``, ``poly_features``, ``fit_poly``,
   ``capacity_sweep``, ``ridge_sweep``, ``bias_variance``): least-squares polynomials of
   growing degree, optionally ridge-penalized, fitted to a few noisy samples of sin(pi x).
2. The bench (``bench_data``, ``make_mlp``, ``Spec``/``spec``, ``bench_runs``, ``train_run``,
   ``train_bench``): a ReLU MLP 64 -> 128 -> 10 trained on 300 training digits of which 20%
   carry a random label, so that overfitting costs validation accuracy. Inputs are centred
   with the mean of those 300 images (notebook 00). ``train_run(method, strength, seed)``
   gives the run with one regularizer (none / L2 / L1 / elastic net / max-norm / dropout) at
   one of seven strengths; ``precompute()`` trains the whole grid on ``GRID_SEEDS`` seeds (all
   networks of a seed at once, see ``_stacked.py``), after which a control move only redraws
   (``draw``, ``regularization_explorer``).
3. Small experiments of the later sections: data augmentation (``shift_digits``,
   ``augment``, ``train_augmented``), label smoothing on separable data (``logit_growth``,
   ``smoothing_floor``), the variance of an average (``average_variance``). The experiments
   over seeds (max-norm and the learning rate, network size, calibration, ensembles, the
   method comparison) are in ``regularization_experiments.py``.

Seeds: every random draw derives from COURSE_SEED. A run's ``seed`` comes from
``cl.seeds(n)``; it seeds three independent generators, ``np.random.default_rng((seed, 0))``
for the initial weights, ``(seed, 1)`` for the dropout masks and ``(seed, 2)`` for the
shuffling. The label noise and the data split are fixed per COURSE_SEED (``cl.make_rng``).
All compute functions are pure and seeded: numpy in, numbers and arrays out, no plotting.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..activations import ReLU
from ..data import Center, corrupt_labels, load_digits
from ..dropout import Dropout
from ..functional import softmax
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD, Adam
from ..regularizers import L1, L2, ElasticNet
from ..rng import course_seed, make_rng, seeds as course_seeds
from ..train import evaluate, fit
from ._common import one_blas_thread, relu_mlp, render_png
from ._stacked import BestEpochs, accuracy, fit_stacked, nll, stack


def _seed(seed):
    """The run seed: ``seed`` if given, else the first of ``cl.seeds`` (COURSE_SEED)."""
    return course_seeds(1)[0] if seed is None else int(seed)


def run_rngs(seed):
    """The three generators of one run: (initial weights, dropout masks, shuffling)."""
    return tuple(np.random.default_rng((int(seed), k)) for k in range(3))


# ------------------------------------------------------------------ 1. capacity on a 1-D curve

CURVE_NOISE = 0.3


def true_function(x):
    """The curve behind the 1-D data: f(x) = 2 + sin(pi x), a signal around a baseline of 2.
    Shapes: any -> same."""
    return 2.0 + np.sin(np.pi * x)


def curve_data(n, noise=CURVE_NOISE, rng=None, grid=False):
    """n points with targets f(x) + noise * N(0, 1): x ~ U[-1, 1], or with ``grid`` the fixed
    design x = linspace(-1, 1, n) (only the noise is random). ``rng``: a Generator or a seed
    (None: ``cl.make_rng(10)``). Shapes: x (n,), y (n,)."""
    g = rng if isinstance(rng, np.random.Generator) else \
        (make_rng(10) if rng is None else np.random.default_rng(rng))
    x = np.linspace(-1.0, 1.0, n) if grid else g.uniform(-1.0, 1.0, n)
    return x, true_function(x) + noise * g.standard_normal(n)


def curve_train(seed=None, n=20, noise=CURVE_NOISE):
    """The training set of draw ``seed``: n evenly spaced x, fresh noise. Shapes: (n,), (n,)."""
    return curve_data(n, noise, np.random.default_rng((_seed(seed), 10)), grid=True)


def curve_val(seed=None, n=1000, noise=CURVE_NOISE):
    """A large validation set for draw ``seed`` (uniform x). Shapes: (n,), (n,)."""
    return curve_data(n, noise, np.random.default_rng((_seed(seed), 11)))


def poly_features(x, degree):
    """Legendre polynomials P_0(x) .. P_degree(x) as columns: well conditioned on [-1, 1]. They
    span the same functions as 1, x, .., x**degree, but a penalty on their coefficients is a
    different penalty from one on the coefficients of the powers.
    Shapes: x (n,) -> (n, degree + 1)."""
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


def _mse(c, x, y):
    return float(np.mean((predict_poly(c, x) - y) ** 2))


def capacity_sweep(degrees, seed=None, lam=0.0):
    """Train and validation mean squared error of the least-squares polynomial of each degree,
    on draw ``seed`` (``curve_train``/``curve_val``); ``lam`` adds the ridge penalty of
    ``fit_poly``. Returns (train_mse, val_mse), each of shape (len(degrees),)."""
    x, y = curve_train(seed)
    xv, yv = curve_val(seed)
    fits = [fit_poly(x, y, d, lam) for d in degrees]
    return np.array([_mse(c, x, y) for c in fits]), np.array([_mse(c, xv, yv) for c in fits])


def ridge_sweep(lams, degree=15, seed=None, penalize_intercept=False):
    """Train and validation MSE of the degree-``degree`` polynomial for each penalty in
    ``lams``, on draw ``seed``. Returns (train_mse, val_mse), each (len(lams),)."""
    x, y = curve_train(seed)
    xv, yv = curve_val(seed)
    fits = [fit_poly(x, y, degree, lam, penalize_intercept) for lam in lams]
    return np.array([_mse(c, x, y) for c in fits]), np.array([_mse(c, xv, yv) for c in fits])


def bias_variance(degrees, n_train=20, n_sets=300, noise=CURVE_NOISE, n_grid=101, seed=None):
    """Bias-variance decomposition of the degree-d least-squares fit, over ``n_sets``
    training sets of ``n_train`` evenly spaced points (independent noise), at ``n_grid``
    points of [-1, 1].

    For each degree, with yhat_s(x) the fit to training set s and ybar(x) = mean_s yhat_s(x):
      bias2    = mean_x (ybar(x) - f(x))**2
      variance = mean_x mean_s (yhat_s(x) - ybar(x))**2
      error    = mean_x mean_s (yhat_s(x) - y_new)**2 with fresh noisy targets y_new,
    which is bias2 + variance + noise**2 up to sampling error.
    All fits of one degree are one least-squares solve with n_sets right-hand sides.
    Returns a dict of arrays of shape (len(degrees),): "bias2", "variance", "error".
    """
    g = np.random.default_rng((_seed(seed), 12))
    xg = np.linspace(-1.0, 1.0, n_grid)
    fg = true_function(xg)
    x = np.linspace(-1.0, 1.0, n_train)
    Y = true_function(x)[:, None] + noise * g.standard_normal((n_train, n_sets))
    y_new = fg + noise * g.standard_normal((n_sets, n_grid))
    out = {"bias2": [], "variance": [], "error": []}
    for d in degrees:
        coef = np.linalg.lstsq(poly_features(x, d), Y, rcond=None)[0]        # (d + 1, n_sets)
        preds = (poly_features(xg, d) @ coef).T                               # (n_sets, n_grid)
        mean = preds.mean(axis=0)
        out["bias2"].append(np.mean((mean - fg) ** 2))
        out["variance"].append(np.mean((preds - mean) ** 2))
        out["error"].append(np.mean((preds - y_new) ** 2))
    return {k: np.array(v) for k, v in out.items()}


# ------------------------------------------------------------------ 2. the bench

N_TRAIN, LABEL_NOISE, WIDTH = 300, 0.2, 128
EPOCHS, BATCH_SIZE, LR, MOMENTUM, PATIENCE = 60, 32, 0.05, 0.9, 5
GRID_SEEDS = 3                                              # the explorer's grid: cl.seeds(3)
LABEL_NOISE_RNG = 70                                        # cl.make_rng index of the label noise
METHODS = ("none", "L2", "L1", "elastic net", "max-norm", "dropout")
EXPONENTS = (-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0)      # strength s = 10 ** exponent
STRENGTHS = tuple(10.0 ** e for e in EXPONENTS)
DROPOUT_P = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)            # dropout's seven strengths
BINS = np.linspace(-1.0, 1.0, 81)                           # for the first-layer histograms
NEAR_ZERO = 1e-3                                             # |w| below this counts as "near zero"


@lru_cache(maxsize=4)
def _digits(cs):
    return load_digits()


def digits():
    """The course's seeded digits split (COURSE_SEED), loaded once. Shapes: X (N, 64), y (N,)."""
    return _digits(course_seed())


def bench_data(n=N_TRAIN, label_noise=LABEL_NOISE, rng=None):
    """The first ``n`` training digits (raw pixels in [0, 1]); a fraction ``label_noise`` of
    their labels is replaced by a uniformly random class (sometimes the right one by chance),
    drawn from ``rng`` (default ``cl.make_rng(LABEL_NOISE_RNG)``). Shapes: X (n, 64), y (n,)."""
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    if label_noise > 0:
        y = corrupt_labels(y, label_noise, 10, make_rng(LABEL_NOISE_RNG) if rng is None else rng)
    return X, y


@lru_cache(maxsize=4)
def _bench_sets(cs, n, label_noise):
    X, y = bench_data(n, label_noise)
    split = digits()
    center = Center().fit(X)
    return (center.transform(X), y, (center.transform(split.X_val), split.y_val),
            (center.transform(split.X_test), split.y_test))


def bench_sets(n=N_TRAIN, label_noise=LABEL_NOISE):
    """What the bench trains and measures on, centred with the mean of its training images:
    (X, y, (X_val, y_val), (X_test, y_test)). Cached per COURSE_SEED."""
    return _bench_sets(course_seed(), n, label_noise)


def make_mlp(widths=(WIDTH,), p=0.0, seed=None):
    """ReLU MLP 64 -> widths... -> 10 with Dropout(p) after every hidden ReLU (none on the output).

    He-normal weights from ``default_rng((seed, 0))``, dropout masks from ``(seed, 1)``
    (``seed`` default: the first of ``cl.seeds``). Shapes: input (N, 64) -> logits (N, 10).
    """
    init_rng, mask_rng, _ = run_rngs(_seed(seed))
    return relu_mlp(widths, p, init_rng, mask_rng)


def snap(strength):
    """Index of the grid strength nearest to ``strength`` (on the log scale)."""
    k = int(round(2.0 * (np.log10(strength) - EXPONENTS[0])))
    return min(max(k, 0), len(EXPONENTS) - 1)


class Spec(NamedTuple):
    """One training recipe of the bench: penalties l1, l2 on the weights, max-norm radius c
    (inf: none), dropout p, label smoothing alpha, learning rate lr. ``method``/``k``: where it
    sits in the grid."""

    method: str
    k: int
    label: str
    l1: float = 0.0
    l2: float = 0.0
    c: float = float("inf")
    p: float = 0.0
    alpha: float = 0.0
    lr: float = LR


def spec(method, strength=1e-2):
    """The grid recipe of ``method`` at the grid strength nearest ``strength``.

    Strength s = 10**e, e in EXPONENTS (k = 0 .. 6). L2: lam = s (1e-4 .. 0.1);
    L1: lam = s / sqrt(10) (3.2e-5 .. 0.032); elastic net: l1 = s / 20, l2 = s / 2;
    max-norm: c = 4 / sqrt(2)**k (4 .. 0.5); dropout: p = DROPOUT_P[k] (0.1 .. 0.95).
    "none" ignores s.
    """
    if method not in METHODS:
        raise ValueError(f"spec: method must be one of {METHODS}, got {method!r}")
    k = snap(strength)
    s = STRENGTHS[k]
    if method == "L2":
        return Spec(method, k, f"L2, λ = {s:.2g}", l2=s)
    if method == "L1":
        lam = s / np.sqrt(10.0)
        return Spec(method, k, f"L1, λ = {lam:.2g}", l1=lam)
    if method == "elastic net":
        return Spec(method, k, f"elastic net, λ1 = {s / 20:.2g}, λ2 = {s / 2:.2g}", l1=s / 20, l2=s / 2)
    if method == "max-norm":
        c = 4.0 / np.sqrt(2.0) ** k
        return Spec(method, k, f"max-norm, c = {c:.2g}", c=c)
    if method == "dropout":
        return Spec(method, k, f"dropout, p = {DROPOUT_P[k]:g}", p=DROPOUT_P[k])
    return Spec("none", 0, "no regularization")


def smoothing_spec(alpha):
    """The bench with label smoothing ``alpha`` and nothing else."""
    if alpha == 0:
        return spec("none")
    return Spec("smoothing", 0, f"label smoothing α = {alpha:g}", alpha=float(alpha))


def settings(method, strength):
    """The grid recipe as (label, regularizer, max_norm, p) for ``cl.fit``: the penalty as a
    cl.L1 / cl.L2 / cl.ElasticNet (or None), the max-norm radius (or None), the dropout rate."""
    return _fit_settings(spec(method, strength))


def _fit_settings(sp):
    if sp.l1 and sp.l2:
        reg = ElasticNet(sp.l1, sp.l2)
    elif sp.l1:
        reg = L1(sp.l1)
    elif sp.l2:
        reg = L2(sp.l2)
    else:
        reg = None
    return sp.label, reg, (None if np.isinf(sp.c) else sp.c), sp.p


GRID = tuple([spec("none")] + [spec(m, s) for m in METHODS[1:] for s in STRENGTHS])


@dataclass(frozen=True)
class Run:
    """One bench run (seed ``seed``). Per epoch, all in evaluation mode (dropout off):
    ``train_loss``, ``train_acc`` (on the training subset with the labels it was trained on;
    None if not recorded), ``val_loss`` (cross-entropy, unsmoothed), ``val_acc`` (clean
    validation set), each (epochs,). ``W1``: final first-layer weights (64, width); ``counts``:
    their histogram over BINS; ``near_zero``: fraction of them with |w| < NEAR_ZERO;
    ``max_col_norm``: final largest incoming-weight norm of any unit; ``val_probs``: final
    softmax outputs on the validation set (N_val, 10); ``snapshots``: validation softmax
    outputs after each of the last 10 epochs (10, N_val, 10).
    Early stopping with patience PATIENCE on the validation loss: ``best_epoch`` (0-based
    index of the restored epoch), ``stop_epoch`` (epochs it would have run), ``es_val_probs``.
    Test set (touched once, at the end): ``test_acc``/``test_loss`` of the final model,
    ``es_test_acc``/``es_test_loss`` of the early-stopped one. ``final_train_loss`` and
    ``final_train_acc``: the final model on its (noisy) training labels, always recorded.
    """

    label: str
    seed: int
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
    best_epoch: int
    stop_epoch: int
    es_val_probs: np.ndarray
    test_acc: float
    test_loss: float
    es_test_acc: float
    es_test_loss: float
    final_train_loss: float
    final_train_acc: float

    @property
    def es_val_acc(self):
        """Validation accuracy of the early-stopped (restored) model."""
        return float(self.val_acc[self.best_epoch])

    @property
    def es_val_loss(self):
        return float(self.val_loss[self.best_epoch])


def _frozen(*arrays):
    for a in arrays:
        if a is not None:
            a.flags.writeable = False
    return arrays


def _run(label, seed, train_loss, train_acc, val_loss, val_acc, W1, col, snapshots, best_epoch,
         stop_epoch, es_probs, test, final_train):
    W1 = np.array(W1, dtype=np.float64)
    counts = np.histogram(W1, BINS)[0]
    snapshots = np.asarray(snapshots, dtype=np.float32)
    arrays = _frozen(train_loss, train_acc, val_loss, val_acc, W1, counts, snapshots, es_probs)
    return Run(label, int(seed), *arrays[:6], float(np.mean(np.abs(W1) < NEAR_ZERO)), float(col),
               snapshots[-1], snapshots, int(best_epoch), int(stop_epoch), arrays[7],
               *(float(v) for v in test), *(float(v) for v in final_train))


def early_stop_epochs(val_loss, patience=PATIENCE):
    """What cl.EarlyStopping(patience) decides on a validation-loss curve: (best_epoch, the
    number of epochs run). best_epoch is 0-based; the count is len(curve) if it never stops."""
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, v in enumerate(val_loss):
        if v < best:
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch + 1
    return best_epoch, len(val_loss)


def train_bench(widths=(WIDTH,), p=0.0, regularizer=None, max_norm=None, seed=None, epochs=EPOCHS,
                label="", label_smoothing=0.0, lr=LR):
    """The reference implementation of one bench run, through ``cl.fit`` one epoch at a time
    (float64). ``bench_runs`` computes the same runs many at a time; the tests compare them.

    ``make_mlp(widths, p, seed)`` trained on ``bench_sets()`` with SGD (momentum 0.9, ``lr``,
    mini-batches of 32, shuffled by ``run_rngs(seed)[2]``), ``regularizer`` (a
    cl.L1/L2/ElasticNet) and ``max_norm`` passed to ``cl.fit``, the loss smoothed by
    ``label_smoothing``. Measured after every epoch in eval mode. Returns a Run.
    """
    seed = _seed(seed)
    X, y, (Xv, yv), (Xt, yt) = bench_sets()
    model = make_mlp(widths, p, seed=seed)
    loss_fn = SoftmaxCrossEntropy(label_smoothing=label_smoothing)
    plain = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    order = run_rngs(seed)[2]
    rows, snaps = [], []
    best_loss, best_probs, best_test, wait, stopped = np.inf, None, None, 0, False
    for epoch in range(epochs):
        fit(model, loss_fn, opt, X, y, epochs=1, batch_size=BATCH_SIZE, rng=order,
            regularizer=regularizer, max_norm=max_norm, progress=False, ratio_every=0,
            explode_factor=np.inf)
        rows.append(evaluate(model, plain, X, y) + evaluate(model, plain, Xv, yv))
        model.eval()
        probs = softmax(model.forward(Xv))
        model.train()
        if epoch >= epochs - 10:
            snaps.append(probs)
        if not stopped:                      # what EarlyStopping(PATIENCE) would restore
            if rows[-1][2] < best_loss:
                best_loss, best_probs, best_test, wait = rows[-1][2], probs, evaluate(model, plain, Xt, yt), 0
            else:
                wait += 1
                stopped = wait >= PATIENCE
    train_loss, train_acc, val_loss, val_acc = (np.array(c) for c in zip(*rows))
    best_epoch, stop_epoch = early_stop_epochs(val_loss)
    linears = [m for m in model.layers if isinstance(m, Linear)]
    col = max(float(np.sqrt((m.W.data ** 2).sum(axis=0)).max()) for m in linears)
    test_loss, test_acc = evaluate(model, plain, Xt, yt)
    return _run(label, seed, train_loss, train_acc, val_loss, val_acc, linears[0].W.data, col,
                np.array(snaps), best_epoch, stop_epoch, best_probs,
                (test_acc, test_loss, best_test[1], best_test[0]), (train_loss[-1], train_acc[-1]))


@dataclass
class StackedRuns:
    """What ``train_stacked`` measured, run m along axis 0 of every array.

    Per epoch (M, epochs), all in eval mode: ``val_loss`` (cross-entropy against the hard
    labels, without smoothing), ``val_acc``; ``train_loss``/``train_acc`` on the training data
    with the labels it was trained on (None unless ``train_curves``); ``max_col_norm`` (largest
    incoming-weight norm of any unit, all layers) and ``max_logit`` (largest |logit| on the
    validation set). ``snapshots`` (M, k, N_val, K): validation probabilities after each of the
    last k epochs (the last one is the final model). Early stopping with ``patience`` on the
    validation loss, as ``cl.EarlyStopping`` would do it: ``best_epoch`` (M,) is the 0-based
    epoch whose weights it would restore, ``stop_epoch`` (M,) the number of epochs it would have
    run (= epochs if it never stops); ``best_val_probs`` (M, N_val, K) the restored model's
    validation probabilities. ``weights``/``biases``: final parameters per Linear layer,
    (M, in, out) and (M, out); ``best_weights``/``best_biases``: the restored ones. ``test`` (if
    a test set was given): dict with "final_acc", "final_loss", "best_acc", "best_loss", each
    (M,). ``final_train_loss``/``final_train_acc`` (M,): the final model on the training data.
    """

    val_loss: np.ndarray
    val_acc: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    max_col_norm: np.ndarray
    max_logit: np.ndarray
    snapshots: np.ndarray
    best_epoch: np.ndarray
    stop_epoch: np.ndarray
    best_val_probs: np.ndarray
    weights: list
    biases: list
    best_weights: list
    best_biases: list
    test: dict
    final_train_loss: np.ndarray
    final_train_acc: np.ndarray


def _linear_params(model):
    layers = [layer for layer in model.layers if hasattr(layer, "W")]
    return [layer.W.data for layer in layers], [layer.b.data for layer in layers]


def train_stacked(nets, X, y, *, epochs, batch_size, lr, momentum, orders, val, l1=0.0, l2=0.0,
                  max_norm=None, label_smoothing=0.0, test=None, train_curves=True, snapshots=10,
                  patience=5, dtype=np.float64):
    """Train the bench networks ``nets`` (cl.Sequential of one structure) side by side with
    ``_stacked.fit_stacked`` (SGD + momentum; per network m: ``lr``, ``l1``, ``l2``,
    ``max_norm``, ``label_smoothing``, shuffled by ``orders[m]``, no explosion check) and
    measure them after every epoch in eval mode: returns a StackedRuns.

    ``val`` = (X_val, y_val) is measured after every epoch, ``test`` = (X_test, y_test) only at
    the end, for the final and the early-stopped weights. ``dtype``: float64 reproduces cl.fit
    to rounding (the tests compare with ``train_bench``); float32 is several times faster and
    agrees statistically. Shapes: X (N, D), y (N,) integer labels.
    """
    model = stack(nets, dtype)
    m = len(model)
    (Xv, yv), k = val, nets[0].layers[-1].W.shape[1]
    keys = ["val_loss", "val_acc", "max_col_norm", "max_logit"] + (["train_loss", "train_acc"] if train_curves else [])
    hist = {key: np.full((m, epochs), np.nan) for key in keys}
    n_snap = min(snapshots, epochs)
    snaps = np.zeros((m, n_snap, len(yv), k))
    best = BestEpochs(model, patience)
    best_probs = np.zeros((m, len(yv), k))            # probabilities are kept in float64

    def measure(epoch, live, runs):
        e = epoch - 1
        z = live.forward(Xv).astype(np.float64)
        hist["val_loss"][runs, e], hist["val_acc"][runs, e] = nll(z, yv), accuracy(z, yv)
        hist["max_logit"][runs, e] = np.abs(z).max(axis=(1, 2))
        hist["max_col_norm"][runs, e] = np.max([np.sqrt((p.data * p.data).sum(axis=1)).max(axis=1)
                                                for p in live.parameters() if p.is_weight], axis=0)
        if train_curves:
            zt = live.forward(X)
            hist["train_loss"][runs, e], hist["train_acc"][runs, e] = nll(zt, y), accuracy(zt, y)
        improved = best.update(epoch, hist["val_loss"][runs, e], live, runs)
        if e >= epochs - n_snap:
            snaps[runs, e - (epochs - n_snap)] = probs = softmax(z)
            best_probs[runs[improved]] = probs[improved]
        elif improved.any():
            best_probs[runs[improved]] = softmax(z[improved])

    fit_stacked(model, X, y, orders=orders, epochs=epochs, batch_size=batch_size, lr=lr,
                momentum=momentum, l1=l1, l2=l2, max_norm=max_norm, label_smoothing=label_smoothing,
                explode_factor=None, record_loss=False, evaluate=measure)
    model.eval()
    z_train = model.forward(X)
    test_out = {}
    if test is not None:
        for name, net in (("final", model), ("best", best.best)):
            z = net.forward(test[0])
            test_out[f"{name}_loss"], test_out[f"{name}_acc"] = nll(z, test[1]), accuracy(z, test[1])
    weights, biases = _linear_params(model)
    best_w, best_b = _linear_params(best.best)
    return StackedRuns(hist["val_loss"], hist["val_acc"], hist.get("train_loss"), hist.get("train_acc"),
                       hist["max_col_norm"], hist["max_logit"], snaps,
                       np.maximum(best.best_epoch - 1, 0), np.where(best.stop_epoch > 0, best.stop_epoch, epochs),
                       best_probs, weights, biases, best_w, best_b, test_out, nll(z_train, y), accuracy(z_train, y))


_RUNS = {}          # (COURSE_SEED, widths, epochs, spec, seed) -> Run


def bench_runs(specs, seeds, widths=(WIDTH,), epochs=EPOCHS, train_curves=True):
    """The bench trained with each recipe in ``specs`` (Spec) on each seed in ``seeds``.

    Returns a list (one per spec) of lists (one per seed) of Runs. Runs are cached; the
    missing ones are trained together by ``train_stacked`` in float32 (the tests show that the
    float64 mode equals ``train_bench``). Without ``train_curves`` the per-epoch training-set
    measurements are skipped (``train_loss``/``train_acc`` None) unless already cached.
    """
    specs, seeds = [s if isinstance(s, Spec) else spec(*s) for s in specs], [int(s) for s in seeds]
    widths = tuple(int(w) for w in widths)
    cs = course_seed()

    def key(sp, sd):
        return (cs, widths, int(epochs), sp, sd)

    todo = []
    for sp in specs:
        for sd in seeds:
            run = _RUNS.get(key(sp, sd))
            if (run is None or (train_curves and run.train_loss is None)) and (sp, sd) not in todo:
                todo.append((sp, sd))
    if todo:
        X, y, val, test = bench_sets()
        nets = [make_mlp(widths, sp.p, seed=sd) for sp, sd in todo]
        with one_blas_thread():
            res = train_stacked(
                nets, X, y, epochs=epochs, batch_size=BATCH_SIZE, lr=[sp.lr for sp, _ in todo],
                momentum=MOMENTUM,
                orders=[run_rngs(sd)[2] for _, sd in todo], val=val, test=test,
                l1=[sp.l1 for sp, _ in todo], l2=[sp.l2 for sp, _ in todo],
                max_norm=[sp.c for sp, _ in todo], label_smoothing=[sp.alpha for sp, _ in todo],
                train_curves=train_curves, patience=PATIENCE, dtype=np.float32)
        for i, (sp, sd) in enumerate(todo):
            _RUNS[key(sp, sd)] = _run(
                sp.label, sd, None if res.train_loss is None else res.train_loss[i],
                None if res.train_acc is None else res.train_acc[i], res.val_loss[i], res.val_acc[i],
                res.weights[0][i], res.max_col_norm[i, -1], res.snapshots[i], res.best_epoch[i],
                res.stop_epoch[i], res.best_val_probs[i],
                (res.test["final_acc"][i], res.test["final_loss"][i], res.test["best_acc"][i],
                 res.test["best_loss"][i]), (res.final_train_loss[i], res.final_train_acc[i]))
    return [[_RUNS[key(sp, sd)] for sd in seeds] for sp in specs]


def grid_seeds():
    """The seeds of the explorer's grid: ``cl.seeds(GRID_SEEDS)``."""
    return course_seeds(GRID_SEEDS)


def train_run(method, strength=1e-2, seed=None):
    """The bench with one regularizer at the grid strength nearest ``strength`` on ``seed``
    (default: the first grid seed); "none" is the same run for every strength. The first call
    for a seed trains that seed's whole grid. Returns a Run (read-only arrays)."""
    if method not in METHODS:
        raise ValueError(f"train_run: method must be one of {METHODS}, got {method!r}")
    seed = _seed(seed)
    bench_runs(GRID, [seed])
    return bench_runs([spec(method, strength)], [seed])[0][0]


def method_runs(method, seeds=None):
    """Runs of ``method`` at each of the seven strengths on each seed: a list (strength) of
    lists (seed). Default seeds: the grid seeds."""
    seeds = grid_seeds() if seeds is None else list(seeds)
    for sd in seeds:
        bench_runs(GRID, [sd])
    return bench_runs([spec(method, s) for s in STRENGTHS], seeds)


def precompute(seeds=None):
    """Train (and cache) every run the explorer can show, on the grid seeds; returns the
    number of runs."""
    seeds = grid_seeds() if seeds is None else list(seeds)
    for sd in seeds:
        bench_runs(GRID, [sd])
    return len(GRID) * len(seeds)


def pixel_weight_norms(W1):
    """Norm of each input pixel's outgoing first-layer weights, as an image.
    Shapes: W1 (64, H) -> (8, 8)."""
    return np.sqrt((W1 ** 2).sum(axis=1)).reshape(8, 8)


def strength_labels(method):
    """Tick labels of the seven strengths of ``method``: the value of its own knob."""
    if method == "none":
        return ["–"] * len(STRENGTHS)
    values = [spec(method, s) for s in STRENGTHS]
    if method == "L2":
        return [f"{v.l2:.2g}" for v in values]
    if method in ("L1", "elastic net"):
        return [f"{v.l1:.2g}" for v in values]
    if method == "max-norm":
        return [f"{v.c:.2g}" for v in values]
    return [f"{v.p:g}" for v in values]


def draw(strength=1e-2, method="L1", fig=None):
    """The explorer's figure, 2 x 2 (every seed of the grid):
    top left, the first-layer weight histogram of the first seed (grey: no regularization);
    top right, final validation accuracy against the strength of ``method`` (one faint line per
    seed, bold mean) with the unregularized net at its last and at its early-stopped epoch;
    bottom, loss and accuracy per epoch, mean over the seeds (faint: no regularization).
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(8.4, 6.0))
    # fixed margins instead of tight_layout, which would double the redraw time
    (ax0, ax1), (ax2, ax3) = fig.subplots(2, 2, gridspec_kw={
        "left": 0.085, "right": 0.985, "bottom": 0.085, "top": 0.87, "wspace": 0.28, "hspace": 0.42})
    seeds = grid_seeds()
    base = [train_run("none", seed=s) for s in seeds]
    runs = [train_run(method, strength, seed=s) for s in seeds]
    k = snap(strength)
    run0 = runs[0]
    ax0.stairs(base[0].counts + 0.5, BINS, color="0.55", label="none", baseline=0.5)
    if method != "none":
        ax0.stairs(run0.counts + 0.5, BINS, color="tab:purple", lw=1.5, fill=True, alpha=0.5,
                   label=method, baseline=0.5)
    ax0.set_yscale("log")
    ax0.set_ylim(0.5, 1e4)
    ax0.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax0.yaxis.set_minor_locator(NullLocator())   # fewer tick labels: a faster redraw
    ax0.set_xlabel("first-layer weight (first seed)", fontsize=9)
    ax0.set_ylabel("count (log scale)", fontsize=9)
    ax0.legend(fontsize=8, loc="upper right")

    # top right: the method's strength sweep
    ref_final = np.mean([b.val_acc[-1] for b in base])
    ref_es = np.mean([b.es_val_acc for b in base])
    ax1.axhline(ref_final, color="0.4", ls="--", lw=1, label="none, last epoch")
    ax1.axhline(ref_es, color="tab:green", ls=":", lw=1.5, label="none, early-stopped")
    if method != "none":
        sweep = np.array([[r.val_acc[-1] for r in row] for row in method_runs(method)])   # (7, seeds)
        xs = np.arange(len(STRENGTHS))
        ax1.plot(xs, sweep, color="tab:purple", alpha=0.3, lw=0.9)
        ax1.plot(xs, sweep.mean(axis=1), "o-", color="tab:purple", ms=4, lw=2, label=f"{method}, mean")
        ax1.plot([k], [sweep[k].mean()], "o", ms=11, mfc="none", mec="k", mew=1.5)
        ax1.set_xticks(xs, strength_labels(method), fontsize=8)
        ax1.set_xlabel({"L2": "λ", "L1": "λ", "elastic net": "λ1 (λ2 = 10 λ1)", "max-norm": "c",
                        "dropout": "p"}[method] + " (circle: shown below)", fontsize=9)
    else:
        ax1.set_xticks([])
        ax1.set_xlabel("(no strength to sweep: choose a method)", fontsize=9)
    ax1.set_ylim(0.4, 1.0)
    ax1.set_ylabel("final validation accuracy", fontsize=9)
    ax1.legend(fontsize=7.5, loc="lower left")

    ep = np.arange(1, EPOCHS + 1)
    shown = [(runs, 1.0, 2.0, "")] if method == "none" else [(base, 0.35, 1.0, " (none)"), (runs, 1.0, 2.0, "")]
    for rs, alpha, lw, tag in shown:
        tl, vl = np.mean([r.train_loss for r in rs], axis=0), np.mean([r.val_loss for r in rs], axis=0)
        ta, va = np.mean([r.train_acc for r in rs], axis=0), np.mean([r.val_acc for r in rs], axis=0)
        ax2.plot(ep, tl, color="tab:blue", alpha=alpha, lw=lw, label=f"train{tag}")
        ax2.plot(ep, vl, color="tab:orange", alpha=alpha, lw=lw, label=f"validation{tag}")
        ax3.plot(ep, ta, color="tab:blue", alpha=alpha, lw=lw, label=f"train{tag}")
        ax3.plot(ep, va, color="tab:orange", alpha=alpha, lw=lw, label=f"validation{tag}")
    for r in runs:
        ax3.plot(ep, r.val_acc, color="tab:orange", alpha=0.3, lw=0.7)
    ax2.set_ylim(0, 2.5)
    ax2.set_xlabel("epoch", fontsize=9)
    ax2.set_ylabel("cross-entropy (eval mode)", fontsize=9)
    ax2.legend(fontsize=7.5, loc="upper right", ncol=2)
    ax3.set_ylim(0.4, 1.01)
    ax3.set_xlabel("epoch (faint: each seed's validation)", fontsize=9)
    ax3.set_ylabel("accuracy (eval mode)", fontsize=9)
    ax3.legend(fontsize=7.5, loc="lower right", ncol=2)
    # few, fixed ticks: creating tick objects is most of a redraw's time
    ax0.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax0.set_yticks([1, 10, 100, 1000, 10000])
    ax1.set_yticks([0.4, 0.6, 0.8, 1.0])
    for ax in (ax2, ax3):
        ax.set_xticks([0, 20, 40, 60])
    ax2.set_yticks([0, 1, 2])
    ax3.set_yticks([0.4, 0.6, 0.8, 1.0])
    for ax in (ax0, ax1, ax2, ax3):
        ax.tick_params(labelsize=8)
    va = np.array([r.val_acc[-1] for r in runs])
    fig.suptitle(f"{run0.label}: final validation accuracy {va.mean():.3f} ({va.min():.3f}–{va.max():.3f}, "
                 f"{len(va)} seeds)\nnone: {ref_final:.3f}, early-stopped {ref_es:.3f}; training accuracy "
                 f"{np.mean([r.train_acc[-1] for r in runs]):.3f}; |w| < {NEAR_ZERO:g}: "
                 f"{100 * run0.near_zero:.0f}% (none {100 * base[0].near_zero:.0f}%); largest column norm "
                 f"{run0.max_col_norm:.2f}", fontsize=9)
    return fig


def regularization_explorer(strength=1e-2, method="L1"):
    """Build the widget: strength (log slider over the precomputed grid, first control) and
    method (dropdown). The callback draws and returns the first seed's Run it shows."""
    import ipywidgets as W
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    # one figure, redrawn and sent as a PNG: no pyplot bookkeeping and no second "tight"
    # rendering pass, which together doubled the time of a slider move
    fig = Figure(figsize=(8.4, 6.0))

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


# ------------------------------------------------------------------ 3. small experiments

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


@lru_cache(maxsize=4)
def _shifted_val(cs):
    return augment(digits().X_val, make_rng(71), shift_prob=1.0)


def shifted_val():
    """The validation digits, each moved by one pixel in a random one of 8 directions
    (``cl.make_rng(71)``)."""
    return _shifted_val(course_seed())


def border_digit(side="left"):
    """Index of the first training digit with the most ink in its outermost column on
    ``side`` ("left" or "right"), so that a shift towards that side visibly cuts it."""
    col = {"left": 0, "right": 7}[side]
    ink = digits().X_train.reshape(-1, 8, 8)[:, :, col].sum(axis=1)
    return int(np.argmax(ink))


@lru_cache(maxsize=None)
def _augmented(cs, kind, seed, n, epochs):
    shift_prob, noise = AUGMENTATIONS[kind]
    split = digits()
    X, y = split.X_train[:n], split.y_train[:n]
    center = Center().fit(X)
    model = make_mlp(seed=seed)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    g = run_rngs(seed)[2]
    for _ in range(epochs):
        Xa = augment(X, g, shift_prob, noise) if kind != "none" else X
        fit(model, loss_fn, opt, center.transform(Xa), y, epochs=1, batch_size=BATCH_SIZE, rng=g,
            progress=False, ratio_every=0)
    val_loss, val_acc = evaluate(model, loss_fn, center.transform(split.X_val), split.y_val)
    return val_acc, val_loss, evaluate(model, loss_fn, center.transform(shifted_val()), split.y_val)[1]


def train_augmented(kind="none", seed=None, n=200, epochs=EPOCHS):
    """64 -> 128 -> 10 MLP on the first ``n`` (clean) training digits; every epoch sees a
    fresh augmentation of them (``AUGMENTATIONS[kind]`` = (shift_prob, noise)); inputs centred
    with the mean of the n clean images. Returns (val_acc, val_loss, shifted_val_acc). Cached."""
    with one_blas_thread():
        return _augmented(course_seed(), kind, _seed(seed), int(n), int(epochs))


def smoothing_floor(alpha, k=10):
    """The smallest possible smoothed cross-entropy: the entropy of the target
    t = (1 - alpha) onehot + alpha / k. Also returns the logit gap z_true - z_other at which a
    softmax output equals t: log(1 + k (1 - alpha) / alpha) (inf for alpha = 0)."""
    hi, lo = 1.0 - alpha + alpha / k, alpha / k
    ent = -hi * np.log(hi) - ((k - 1) * lo * np.log(lo) if lo > 0 else 0.0)
    gap = np.log(1.0 + k * (1.0 - alpha) / alpha) if alpha > 0 else np.inf
    return float(ent), float(gap)


@lru_cache(maxsize=None)
def _logit_growth(cs, alpha, steps, lr, n):
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


def logit_growth(alpha, steps=2000, lr=0.05, n=200):
    """A linear softmax classifier (Linear(64, 10), zero init) trained by full-batch Adam on the
    first ``n`` training digits (linearly separable), with label smoothing ``alpha``.

    Returns (steps_recorded, loss, logit_norm, margin, train_acc), recorded at about 40
    log-spaced steps: the training loss, the mean logit norm ||z_i||, the mean margin (true-class
    logit minus the largest other) and the training accuracy. Each an array (n_recorded,).
    Deterministic (zero init, full batch); the digits depend on COURSE_SEED. Cached.
    """
    return _logit_growth(course_seed(), float(alpha), int(steps), float(lr), int(n))


def average_variance(ns, sigma=1.0, rho=0.0, trials=20000, rng=None):
    """Empirical variance of the average of n predictions whose errors have variance sigma**2
    and pairwise correlation rho (e_i = sigma (sqrt(rho) z0 + sqrt(1 - rho) z_i)).
    Theory: sigma**2 (rho + (1 - rho) / n). ``rng``: Generator or seed (None: cl.make_rng(72)).
    Returns an array of shape (len(ns),)."""
    g = rng if isinstance(rng, np.random.Generator) else \
        (make_rng(72) if rng is None else np.random.default_rng(rng))
    out = []
    for n in ns:
        z0 = g.standard_normal((trials, 1))
        e = sigma * (np.sqrt(rho) * z0 + np.sqrt(1.0 - rho) * g.standard_normal((trials, n)))
        out.append(e.mean(axis=1).var())
    return np.array(out)
