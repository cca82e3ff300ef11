"""The experiments of notebooks/08_training_in_practice.ipynb, each a function of a seed.

Every function here runs one experiment for ONE seed (an initialization, a batch order, a
draw of problem instances) and returns its numbers; the notebook runs it on the seeds that
``cl.seeds(n)`` gives (``cl.over_seeds``) and asserts on every seed. Runs are cached
(``lru_cache``) so that the notebook's cells and figures share them.

* sanity checks before training (Karpathy's "Recipe", CS231n): ``first_batch`` (the exact
  batch the network receives, through a ``Peek`` layer), ``first_logged_loss`` (check 2
  along the path a student uses, with the planted bug ``GradientOnlyL2``), ``overfit_batch``;
* curve shapes: ``init_cliff`` (flat then a cliff), ``regimes`` (the train/validation gap);
* the first layer's weights as images: ``first_layer``, ``neighbour_correlation``,
  ``draw_filters``;
* search: ``search_showdown`` (grid with edges, centred grid, random and quasi-random search
  averaged over problem instances), ``coarse_to_fine``, ``one_knob``;
* width: ``width_accuracy``, ``sensitivity`` (how much a factor around the best costs);
* the default recipe, one ingredient at a time: ``recipe_net``, ``recipe_run``,
  ``ablation`` and ``draw_isolation`` (the Tuning Playbook's isolation plot: the
  scientific hyperparameter on the x axis, the nuisance learning rate tuned for each value).
"""
from functools import lru_cache

import numpy as np

from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Module, Sequential
from ..normalization import BatchNorm1d
from ..activations import ReLU
from ..dropout import Dropout
from ..optim import Adam
from ..regularizers import L2
from ..schedules import CosineWarmupLR
from ..search import LogUniform, SearchResult, halton, random_search
from ..train import EarlyStopping, evaluate, fit
from ._common import one_blas_thread
from .practice import digits, make_mlp, narrow, default_seed

LOSS = SoftmaxCrossEntropy()


def _gen(seed, k):
    """The k-th independent generator of one seed's experiment."""
    return np.random.default_rng([int(seed), int(k)])


def _readonly(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------------------------
# sanity checks before training

class Peek(Module):
    """An identity layer that keeps the first ``keep`` inputs it gets in training mode, i.e.
    exactly what the network receives from the training loop. Put it in front of a model:
    ``Sequential(Peek(), *model)``. Shapes: any; out is x."""

    def __init__(self, keep=1):
        self.keep, self.seen = int(keep), []

    def forward(self, x):
        if self.training and len(self.seen) < self.keep:
            self.seen.append(np.array(x, copy=True))
        return x

    def backward(self, dout):
        return dout


class PeekLoss:
    """A loss that passes through to ``loss_fn`` and keeps the first ``keep`` label batches
    it is given in training (what the loss is computed against)."""

    def __init__(self, loss_fn, keep=1):
        self.loss_fn, self.keep, self.seen = loss_fn, int(keep), []
        self.recording = True

    def forward(self, out, y):
        if self.recording and len(self.seen) < self.keep:
            self.seen.append(np.array(y, copy=True))
        return self.loss_fn.forward(out, y)

    def backward(self):
        return self.loss_fn.backward()

    def __getattr__(self, name):          # label_smoothing etc. of the wrapped loss
        return getattr(self.loss_fn, name)


def first_batch(X, y, seed=None, batch_size=64, lr=3e-3):
    """The first mini-batch that ``cl.fit`` feeds to the scan's MLP, seen from inside: a
    ``Peek`` layer in front of the network records the inputs, a ``PeekLoss`` the labels
    (one epoch of Adam is run; the inputs of the first step are returned).
    Shapes: X (N, D), y (N,) -> (xb (batch_size, D), yb (batch_size,))."""
    seed = default_seed(seed)
    peek, loss = Peek(), PeekLoss(LOSS)
    net = Sequential(peek, *make_mlp(rng=seed))
    with one_blas_thread():
        fit(net, loss, Adam(net.parameters(), lr=lr), X, y, epochs=1, batch_size=batch_size,
            rng=seed, ratio_every=0, progress=False)
    return peek.seen[0], loss.seen[0]


def match_rows(batch, X):
    """For each row of ``batch`` the index of the identical row of ``X`` (-1 if there is none).
    Shapes: batch (B, D), X (N, D) -> (B,)."""
    batch, X = np.asarray(batch), np.asarray(X)
    d2 = (batch ** 2).sum(1)[:, None] + (X ** 2).sum(1)[None, :] - 2 * batch @ X.T
    idx = np.argmin(d2, axis=1)
    same = np.all(np.abs(X[idx] - batch) <= 1e-12, axis=1)
    return np.where(same, idx, -1)


def draw_batch(xb, yb, mean, fig, n=16, cols=8, title=None):
    """The first ``n`` inputs of a batch as the 8 x 8 images they encode (the training mean
    added back; pixels in [0, 1]), each with its label above. Returns the axes."""
    axes = fig.subplots(int(np.ceil(n / cols)), cols)
    for k, ax in enumerate(np.ravel(axes)):
        ax.set_axis_off()
        if k < min(n, len(xb)):
            ax.imshow((xb[k] + mean).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"label {int(yb[k])}", fontsize=9, pad=2)
    if title:
        fig.suptitle(title, fontsize=10)
    return axes


class GradientOnlyL2(L2):
    """A planted bug: the L2 penalty reaches the gradient but not the loss that is printed
    (``value`` returns 0). ``cl.fit`` logs loss + value(params), so its first loss stays flat
    in lambda."""

    def value(self, params):
        return 0.0


def first_logged_loss(lams, seed=None, penalty=L2):
    """Sanity check 2 along a student's path: for each lambda, one epoch of
    ``cl.fit(..., regularizer=penalty(lam))`` from the same initialization and the same
    batches; returns the first logged loss ``hist.loss[0]`` for each (data loss of the first
    batch + the penalty at the initial weights). Shapes: lams (L,) -> (L,)."""
    X, y, *_ = digits()
    seed = default_seed(seed)
    out = []
    for lam in lams:
        net = make_mlp(rng=seed)
        with one_blas_thread():
            hist = fit(net, LOSS, Adam(net.parameters(), lr=1e-3), X, y, epochs=1,
                       regularizer=penalty(lam), rng=seed, ratio_every=0, progress=False)
        out.append(hist.loss[0])
    return np.array(out)


@lru_cache(maxsize=None)
def overfit_batch(seed, n=20, epochs=100, lr=3e-3):
    """Sanity check 3: a fresh MLP trained full-batch on ``n`` training examples drawn at
    random (by ``seed``), regularization off. Returns dict train_acc, first and last loss,
    val_acc, and the loss curve (epochs,)."""
    X, y, Xv, yv, *_ = digits()
    rows = _gen(seed, 1).choice(len(X), n, replace=False)
    net = make_mlp(rng=seed)
    with one_blas_thread():
        hist = fit(net, LOSS, Adam(net.parameters(), lr=lr), X[rows], y[rows], epochs=epochs,
                   batch_size=n, val=(Xv, yv), rng=seed, ratio_every=0, progress=False)
    _, acc = evaluate(net, LOSS, X[rows], y[rows])
    return {"train_acc": acc, "first": hist.loss[0], "last": hist.loss[-1],
            "val_acc": hist.val_acc[-1], "curve": _readonly(hist.loss)}


def baseline(seed, make_model=None, epochs=5, lr=3e-3):
    """Karpathy's input-independent baseline for one seed: ``cl.diagnostics.
    input_independent_baseline`` with the scan's MLP (or ``make_model(seed)``), Adam(lr),
    ``epochs`` epochs. Returns dict real, zero (final validation losses), labels (the loss
    of the best constant prediction), real_acc, zero_acc, beats."""
    from ..sanity import input_independent_baseline

    X, y, Xv, yv, *_ = digits()
    factory = (lambda: make_mlp(rng=seed)) if make_model is None else (lambda: make_model(seed))
    with one_blas_thread():
        c = input_independent_baseline(factory, LOSS, lambda p: Adam(p, lr=lr), X, y,
                                       val=(Xv, yv), seed=int(seed), epochs=epochs)
    real, zero = c.final()
    real_acc, zero_acc = c.final("val_acc")
    return {"real": real, "zero": zero, "labels": c.label_only["val_loss"], "real_acc": real_acc,
            "zero_acc": zero_acc, "beats": float(c.beats_baseline)}


# ---------------------------------------------------------------------------------------------
# curve shapes: flat then a cliff; the train/validation gap

def _small_init(fan_in, fan_out, rng):
    from ..init import normal
    return normal(fan_in, fan_out, rng=rng, std=0.1)


@lru_cache(maxsize=None)
def init_cliff(seed, epochs=12, lr=0.1, depth=6):
    """Six ReLU layers of 64, SGD with momentum 0.9 at ``lr``, from N(0, 0.1^2) weights and
    from He initialization (same seed for both). Returns dict name -> (read-only loss (T,), the
    hints of ``cl.diagnostics.hints``, whether the explosion guard stopped the run)."""
    from ..diagnostics import hints
    from ..optim import SGD

    X, y, *_ = digits()
    out = {}
    for name, init in (("small", _small_init), ("He", "he_normal")):
        net = make_mlp(widths=(64,) * depth, rng=seed, init=init)
        with one_blas_thread():
            hist = fit(net, LOSS, SGD(net.parameters(), lr=lr, momentum=0.9), X, y,
                       epochs=epochs, rng=seed, ratio_every=0, progress=False)
        out[name] = (_readonly(hist.loss), tuple(hints(hist)), hist.exploded)
    return out


def quarters(loss):
    """(mean of the first quarter, mean of the last quarter) of a loss curve."""
    loss = np.asarray(loss)
    q = loss.size // 4
    return float(loss[:q].mean()), float(loss[-q:].mean())


@lru_cache(maxsize=None)
def regimes(seed, epochs=60, thin_width=1):
    """The two regimes of the gap: a 100-100 net on 100 training examples (Adam 1e-3,
    batches of 32) and a net with a hidden layer of ``thin_width`` units on all of them (Adam
    1e-2), ``epochs`` epochs each. Returns dict "over", "under" -> History."""
    X, y, Xv, yv, *_ = digits()
    big, thin = make_mlp(widths=(100, 100), rng=seed), make_mlp(widths=(thin_width,), rng=seed)
    with one_blas_thread():
        over = fit(big, LOSS, Adam(big.parameters(), lr=1e-3), X[:100], y[:100], epochs=epochs,
                   batch_size=32, val=(Xv, yv), rng=seed, ratio_every=0, progress=False)
        under = fit(thin, LOSS, Adam(thin.parameters(), lr=1e-2), X, y, epochs=epochs,
                    val=(Xv, yv), rng=seed, ratio_every=0, progress=False)
    return {"over": over, "under": under}


# ---------------------------------------------------------------------------------------------
# the first layer's weights as images (CS231n)

def constant_pixels(X):
    """Indices of the input columns that are constant over ``X`` (here: always 0)."""
    return np.flatnonzero(np.asarray(X).std(axis=0) == 0)


def neighbour_correlation(W, side=8):
    """How smooth the first layer's filters are: the correlation between the weights of
    horizontally or vertically neighbouring pixels, pooled over all units. Near 0 for
    random weights; positive when neighbouring pixels get similar weights (strokes).
    Shapes: W (side * side, H) -> float."""
    img = np.asarray(W).T.reshape(-1, side, side)
    a = np.concatenate([img[:, :, :-1].ravel(), img[:, :-1, :].ravel()])
    b = np.concatenate([img[:, :, 1:].ravel(), img[:, 1:, :].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def first_layer(run, seed):
    """(W at initialization, W after the scan run ``run``) of the first layer, (64, 100)."""
    return make_mlp(rng=seed)[0].W.data.copy(), np.array(run.state["0.W"])


def draw_filters(W0, W1, fig, units=8, title=None):
    """Three rows of ``units`` first-layer filters as 8 x 8 images: at initialization, after
    training, and the change; one colour scale per row (blue negative, red positive)."""
    axes = fig.subplots(3, units)
    rows = (("at init", W0), ("trained", W1), ("change", W1 - W0))
    for r, (name, W) in enumerate(rows):
        lim = np.abs(W[:, :units]).max()
        for u in range(units):
            ax = axes[r, u]
            ax.imshow(W[:, u].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if u == 0:
                ax.set_ylabel(name, fontsize=9)
            if r == 0:
                ax.set_title(f"unit {u + 1}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return axes


# ---------------------------------------------------------------------------------------------
# search: grid, centred grid, random and quasi-random, averaged over problem instances

BUMP_WIDTH = 0.12


def bump(x, centre, width=BUMP_WIDTH):
    """A narrow bump of height 1 at ``centre``: exp(-((x - centre) / width)^2)."""
    return np.exp(-(((np.asarray(x) - centre) / width) ** 2))


def grid_points(n=3, centred=False):
    """The n x n grid in the unit square, with its edges (0, 1/2, 1 for n = 3) or centred in
    n equal cells (1/6, 1/2, 5/6). Shapes: -> (n * n, 2)."""
    axis = (np.arange(n) + 0.5) / n if centred else np.linspace(0.0, 1.0, n)
    return np.array([(a, b) for a in axis for b in axis])


def _best(points, cx, cy, both):
    # points (I, P, 2) or (P, 2); centres (I,) -> best objective per instance (I,)
    pts = np.broadcast_to(points, (len(cx),) + np.shape(points)[-2:])
    g = bump(pts[..., 0], cx[:, None])
    h = bump(pts[..., 1], cy[:, None]) if both else 0.05 * bump(pts[..., 1], cy[:, None], 0.3)
    return (g + h).max(axis=1)


@lru_cache(maxsize=None)
def _instances(seed, instances, trials):
    # the problems and the random and quasi-random points of one seed, shared by both cases
    rng = _gen(seed, 7)
    cx, cy = rng.uniform(0, 1, instances), rng.uniform(0, 1, instances)
    rand = rng.uniform(0, 1, (instances, trials, 2))
    quasi = np.array([halton(trials, 2, rng=rng) for _ in range(instances)])
    return cx, cy, rand, quasi


def search_showdown(seed, instances=500, trials=9, both=False):
    """Four searches of ``trials`` points in the unit square on ``instances`` random problems
    f(x, y) = g(x) + h(y): g a narrow bump of height 1 at a random x; h a shallow one (height
    0.05, width 0.3) at a random y, or with ``both`` a second narrow bump of height 1 (then
    both hyperparameters matter). For each instance: the grid with its edges, the centred
    grid, ``trials`` random points and the first ``trials`` points of a scrambled Halton
    sequence (``cl.search.halton``, its own scrambling per instance; the same problems and
    points in both cases). Returns dict method -> mean best score over the instances, and
    "<a> > <b>" -> share of the instances where a is strictly better."""
    n = int(round(np.sqrt(trials)))
    cx, cy, rand, quasi = _instances(int(seed), int(instances), int(trials))
    found = {"grid": _best(grid_points(n), cx, cy, both),
             "centred grid": _best(grid_points(n, centred=True), cx, cy, both),
             "random": _best(rand, cx, cy, both),
             "quasi-random": _best(quasi, cx, cy, both)}
    out = {k: float(v.mean()) for k, v in found.items()}
    for a, b in (("random", "centred grid"), ("quasi-random", "random"),
                 ("quasi-random", "centred grid"), ("centred grid", "random")):
        out[f"{a} > {b}"] = float(np.mean(found[a] > found[b]))
    return out


def _val_accuracy(lr, lam, epochs, seed):
    X, y, Xv, yv, *_ = digits()
    net = make_mlp(widths=(100,), rng=seed)
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        hist = fit(net, LOSS, Adam(net.parameters(), lr=lr), X, y, epochs=epochs, val=(Xv, yv),
                   regularizer=L2(lam), rng=seed, ratio_every=0, progress=False)
    return 0.0 if hist.exploded else hist.val_acc[-1]


@lru_cache(maxsize=None)
def val_accuracy(lr, lam, epochs, seed):
    """Validation accuracy of a 64 -> 100 -> 10 net after ``epochs`` epochs of Adam(lr) with an
    L2 penalty lam (0 if the explosion guard stopped it); initialization and batch order from
    ``seed``. Cached."""
    return _val_accuracy(float(lr), float(lam), int(epochs), int(seed))


COARSE_SPACE = {"lr": LogUniform(1e-6, 1.0), "lam": LogUniform(1e-6, 1.0)}


@lru_cache(maxsize=None)
def coarse_to_fine(seed, trials=16, top=4, epochs=3, confirm_epochs=6, confirm_seeds=3):
    """Two stages of random search over (lr, lam), the SAME budget per trial (``epochs``):
    coarse over COARSE_SPACE, fine over ``narrow(coarse, COARSE_SPACE, top)`` (the range of
    the ``top`` best coarse trials, widened 2x on each side); then both
    winners re-trained for ``confirm_epochs`` on ``confirm_seeds`` fresh seeds (other
    initializations and batch orders), which removes the optimism of picking the best of
    many noisy scores. Returns dict coarse, fine (SearchResults), fine_space, and confirm:
    (coarse winner, fine winner) mean re-trained accuracy."""
    score = lambda e: (lambda lr, lam: val_accuracy(lr, lam, e, seed))      # noqa: E731
    coarse = random_search(score(epochs), COARSE_SPACE, trials, rng=_gen(seed, 1), maximize=True)
    fine_space = narrow(coarse, COARSE_SPACE, top=top)
    fine = random_search(score(epochs), fine_space, trials, rng=_gen(seed, 2), maximize=True)
    fresh = [int(_gen(seed, 3).integers(2 ** 31)) + k for k in range(confirm_seeds)]
    confirm = tuple(float(np.mean([val_accuracy(r.best["params"]["lr"], r.best["params"]["lam"],
                                                confirm_epochs, s) for s in fresh]))
                    for r in (coarse, fine))
    return {"coarse": coarse, "fine": fine, "fine_space": fine_space, "confirm": confirm}


def one_knob(seed, lr, lam, lams=(1e-6, 1e-4, 1e-3, 1.0), lrs=(1e-5, 1e-1), epochs=6):
    """From a setting (lr, lam), vary one knob at a time: dict "lam" -> {lam: accuracy},
    "lr" -> {lr: accuracy}, the setting's own lr included (6 epochs, initialization and
    batches from ``seed``)."""
    return {"lam": {m: val_accuracy(lr, m, epochs, seed) for m in lams},
            "lr": {r: val_accuracy(r, lam, epochs, seed) for r in sorted(set(lrs) | {lr})}}


# ---------------------------------------------------------------------------------------------
# width, and how much a factor around the best costs

@lru_cache(maxsize=None)
def width_accuracy(width, seed, lr=3e-3, epochs=10):
    """Validation accuracy of one hidden layer of ``width`` ReLUs after ``epochs`` epochs of
    Adam(lr); initialization and batch order from ``seed``."""
    X, y, Xv, yv, *_ = digits()
    net = make_mlp(widths=(int(width),), rng=int(seed))
    with one_blas_thread():
        hist = fit(net, LOSS, Adam(net.parameters(), lr=lr), X, y, epochs=epochs, val=(Xv, yv),
                   rng=int(seed), ratio_every=0, progress=False)
    return hist.val_acc[-1]


def sensitivity(values, scores, factor=4.0):
    """What moving a hyperparameter by ``factor`` away from its best value costs, per seed.

    ``values`` (K,) positive and increasing; ``scores`` (S, K), one row per seed, higher is
    better. The best value b is the argmax of the MEAN over the seeds (one noisy seed does not
    pick it); each seed's scores at b / factor and b * factor are interpolated linearly in
    log10(value). Returns (b, drop below (S,), drop above (S,)): the seed's score at b minus
    its score there; a side that lies outside the measured range is None.
    """
    v = np.log10(np.asarray(values, dtype=float))
    s = np.atleast_2d(np.asarray(scores, dtype=float))
    k = int(np.argmax(s.mean(axis=0)))
    out = []
    for side in (-1, 1):
        t = v[k] + side * np.log10(factor)
        if t < v[0] - 1e-9 or t > v[-1] + 1e-9:
            out.append(None)
        else:
            out.append(np.array([row[k] - np.interp(t, v, row) for row in s]))
    return float(10 ** v[k]), out[0], out[1]


# ---------------------------------------------------------------------------------------------
# the default recipe, one ingredient at a time

RECIPE_STEPS = ("plain", "+ BatchNorm", "+ dropout 0.2", "+ cosine & warm-up")
RECIPE_LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def recipe_net(seed, width=64, batchnorm=True, p=0.2):
    """He init, Linear -> (BatchNorm) -> ReLU -> (Dropout p), twice, then a Linear whose
    weights are scaled by 0.1 (first loss ln 10). With BatchNorm the hidden Linears have no
    bias (BN's beta is the bias). Shapes: (N, 64) -> (N, 10)."""
    g = _gen(seed, 0)
    layers, fan_in = [], 64
    for i in range(2):
        layers.append(Linear(fan_in, width, init="he_normal", bias=not batchnorm, rng=g))
        if batchnorm:
            layers.append(BatchNorm1d(width))
        layers.append(ReLU())
        if p:
            layers.append(Dropout(p, rng=_gen(seed, 10 + i)))
        fan_in = width
    layers.append(Linear(fan_in, 10, rng=g))
    layers[-1].W.data *= 0.1
    return Sequential(*layers)


def _step_config(step):
    k = RECIPE_STEPS.index(step)
    return {"batchnorm": k >= 1, "p": 0.2 if k >= 2 else 0.0, "schedule": k >= 3}


@lru_cache(maxsize=None)
def recipe_run(step, lr, seed, epochs=15, patience=5, width=64):
    """Train the recipe up to ``step`` (one of RECIPE_STEPS, cumulative) at Adam(lr) for at
    most ``epochs`` epochs with early stopping on the validation loss (patience, best weights
    restored); "+ cosine & warm-up" adds a one-epoch linear warm-up and cosine decay to 0 over
    the whole budget. Returns (History, model) — cached: do not train the model further."""
    X, y, Xv, yv, *_ = digits()
    cfg = _step_config(step)
    net = recipe_net(seed, width, cfg["batchnorm"], cfg["p"])
    opt = Adam(net.parameters(), lr=lr)
    per_epoch = int(np.ceil(len(X) / 64))
    sched = CosineWarmupLR(opt, warmup=per_epoch, total=epochs * per_epoch) if cfg["schedule"] else None
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        hist = fit(net, LOSS, opt, X, y, epochs=epochs, val=(Xv, yv), rng=int(seed),
                   scheduler=sched, schedule_every="step", early_stopping=EarlyStopping(patience),
                   ratio_every=10, progress=False)
    return hist, net


def _best_val_loss(hist):
    """Validation loss at the restored best epoch; inf for a run that exploded before one."""
    if hist.best_epoch is None or not hist.val_loss:
        return float("inf")
    return float(hist.val_loss[hist.best_epoch])


class Ablation:
    """The recipe built one ingredient at a time (``steps``, cumulative).

    Nuisance tuning, on the first seed: every step at every rate of ``lrs``; when the best rate
    is at an edge of the grid, the grid is widened by a factor of about 3 in that direction
    (within [1e-5, 1]) until the best is inside — the edge check of section 12.
    ``tuning[step]``: (rates (R,), validation losses at the restored best epoch (R,));
    ``chosen[step]``: the rate with the lowest; ``widened[step]``: the rates added.
    Comparison: every step at its chosen rate on every seed: ``best_loss[step]``,
    ``best_acc[step]``, ``best_epoch[step]`` (counted from 1), each (seeds,).
    ``shared_loss[step]`` (seeds,): every step at the PLAIN step's chosen rate, what a
    comparison without re-tuning would see. ``at_edge``: steps whose chosen rate is still at an
    edge of their grid (only when the widening hit its limits).
    """

    def __init__(self, seeds, lrs, steps, epochs):
        self.seeds, self.lrs, self.steps, self.epochs = list(seeds), tuple(lrs), tuple(steps), epochs
        tune = self.seeds[0]
        self.tuning, self.chosen, self.widened = {}, {}, {}
        self.best_loss, self.best_acc, self.best_epoch, self.shared_loss = {}, {}, {}, {}
        for step in steps:
            grid, added = sorted(self.lrs), []
            while True:
                losses = {lr: _best_val_loss(recipe_run(step, lr, tune, epochs)[0]) for lr in grid}
                best = min(grid, key=losses.get)
                if best == grid[-1] and best * 3 <= 1.0:
                    new = float(f"{best * 3:.1g}")
                    grid.append(new)
                elif best == grid[0] and best / 3 >= 1e-5:
                    new = float(f"{best / 3:.1g}")
                    grid.insert(0, new)
                else:
                    break
                added.append(new)
            self.tuning[step] = (np.array(grid), np.array([losses[lr] for lr in grid]))
            self.chosen[step], self.widened[step] = best, added
        shared = self.chosen[steps[0]]
        for step in steps:
            hs = [self.run(step, s)[0] for s in self.seeds]
            self.best_loss[step] = np.array([_best_val_loss(h) for h in hs])
            self.best_acc[step] = np.array([h.val_acc[h.best_epoch] if h.best_epoch is not None else 0.0
                                            for h in hs])
            self.best_epoch[step] = np.array([-1 if h.best_epoch is None else h.best_epoch + 1 for h in hs])
            self.shared_loss[step] = np.array([_best_val_loss(recipe_run(step, shared, s, epochs)[0])
                                               for s in self.seeds])
        self.at_edge = [k for k in steps if self.chosen[k] in (self.tuning[k][0][0], self.tuning[k][0][-1])]

    def run(self, step, seed, epochs=None, patience=None):
        """(History, model) of ``step`` at its chosen rate on ``seed`` (cached)."""
        if epochs is None:
            return recipe_run(step, self.chosen[step], seed, self.epochs)
        return recipe_run(step, self.chosen[step], seed, epochs, patience)

    def table(self):
        """The ablation as text: per step the chosen rate, the validation loss and accuracy
        per seed and their mean."""
        head = f"{'':<20}{'lr':>7}   " + "  ".join(f"seed {s:<6}" for s in self.seeds)
        lines = [head + "  mean loss  mean acc  best epochs"]
        for step in self.steps:
            cells = "  ".join(f"{l:.3f}/{a:.3f}" for l, a in zip(self.best_loss[step], self.best_acc[step]))
            lines.append(f"{step:<20}{self.chosen[step]:>7g}   {cells}  {self.best_loss[step].mean():9.3f}"
                         f"  {self.best_acc[step].mean():8.3f}  {', '.join(map(str, self.best_epoch[step]))}")
        lines.append(f"(validation loss / accuracy at the restored best epoch of {self.epochs}, each step at its "
                     f"own rate)")
        return "\n".join(lines)


def ablation(seeds, lrs=RECIPE_LRS, steps=RECIPE_STEPS, epochs=12):
    """Run (cached) and collect the ablation: an Ablation."""
    return Ablation(seeds, lrs, steps, epochs)


def draw_isolation(abl, axes):
    """The Tuning Playbook's isolation plot, two panels. Left: the nuisance tuning, validation
    loss against the learning rate for each recipe step on the tuning seed (★ the chosen rate;
    x at the top: a run that exploded).
    Right: each step at its own chosen rate (filled dots, one per seed; bar at the mean) and at
    the plain step's rate without re-tuning (hollow)."""
    import matplotlib.pyplot as plt

    ax, ax2 = axes
    colors = plt.get_cmap("tab10").colors
    for i, step in enumerate(abl.steps):
        rates, losses = abl.tuning[step]
        ok = np.isfinite(losses)
        ax.plot(rates[ok], losses[ok], "o-", color=colors[i], lw=1.8, ms=4, label=step)
        ax.plot(rates[~ok], np.full((~ok).sum(), 1.1), "x", color=colors[i], ms=7, mew=2)
        k = int(np.flatnonzero(rates == abl.chosen[step])[0])
        ax.plot(rates[k], losses[k], "*", color=colors[i], ms=13, mec="k", mew=0.6, zorder=5)
    lrs = np.unique(np.concatenate([abl.tuning[k][0] for k in abl.steps]))
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set(xscale="log", yscale="log", xlabel="learning rate (the nuisance)",
           ylabel="validation loss at best epoch")
    ax.yaxis.set_major_locator(FixedLocator([0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8, 1.2]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticks(lrs)
    ax.set_xticklabels([f"{v:g}" for v in lrs])
    ax.minorticks_off()
    ax.legend(fontsize=8, loc="upper center")
    ax.set_title(f"tuning the rate for each step (seed {abl.seeds[0]})", fontsize=10)
    shared = abl.chosen[abl.steps[0]]
    for i, step in enumerate(abl.steps):
        tuned, fixed = abl.best_loss[step], abl.shared_loss[step]
        off = np.linspace(-0.06, 0.06, len(tuned))
        ax2.scatter(i + off - 0.13, tuned, color=colors[i], s=24, zorder=3)
        ax2.hlines(tuned.mean(), i - 0.3, i + 0.04, color=colors[i], lw=2.5)
        ax2.scatter(i + off + 0.17, fixed, facecolors="none", edgecolors=colors[i], s=24, zorder=3)
    ax2.set_xticks(range(len(abl.steps)))
    ax2.set_xticklabels([s.replace("+ ", "+\n").replace(" & ", " &\n") for s in abl.steps], fontsize=8)
    ax2.set_ylabel("validation loss at best epoch")
    ax2.set_title(f"{len(abl.seeds)} seeds: own rate (filled), lr {shared:g} (hollow)", fontsize=10)
    ax2.grid(axis="y", alpha=0.3)
    return axes


# ---------------------------------------------------------------------------------------------
# the notebook's other figures and small reports

def mixing_report(seed, X, sizes=(8, 32, 128)):
    """Batch independence on one seed (its examples and upstream gradients): the scan's MLP,
    the recipe network in training mode, located, and in eval mode, and BatchNorm's relative
    cross-example gradient for batches of ``sizes`` (the first rows of X). Returns a dict."""
    from ..sanity import batch_independence, locate_batch_mixing

    net = recipe_net(seed)
    out = {"mlp": batch_independence(make_mlp(rng=seed), X[:32], seed=seed),
           "train": batch_independence(net, X[:32], seed=seed),
           "where": locate_batch_mixing(net, X[:32], seed=seed),
           "rel": [batch_independence(net, X[:n], seed=seed).max_rel for n in sizes]}
    net.eval()
    out["eval"] = batch_independence(net, X[:32], seed=seed)
    return out


def draw_cliff(cliff, ax):
    """The smoothed losses of ``init_cliff`` (dict seed -> its result) for both inits, every
    seed (the first bold), with the first quarter of the run shaded."""
    from .practice import smooth

    for name, color, label in (("small", "tab:purple", "N(0, 0.1²)"), ("He", "tab:green", "He")):
        for k, result in enumerate(cliff.values()):
            ax.plot(*smooth(result[name][0]), color=color, lw=1.6, alpha=1.0 if k == 0 else 0.45,
                    label=f"init {label} ({len(cliff)} seeds)" if k == 0 else None)
    q = len(next(iter(cliff.values()))["He"][0]) // 4
    ax.axvspan(0, q, color="0.92", zorder=0, label="first quarter of the run")
    ax.axhline(np.log(10), color="0.5", ls=":", lw=1)
    ax.set(xlabel="SGD step", ylabel="training loss (moving average)", ylim=(0, 2.6))
    ax.set_title("6 ReLU layers, same rate: flat then a cliff (small init) vs a descent from the start (He)",
                 fontsize=10)
    ax.legend(fontsize=8)
    return ax


def draw_regimes(reg, axes):
    """Train and validation accuracy per epoch of ``regimes`` (dict seed -> its result), per
    seed with the mean, the overfitting case left and the underfitting one right."""
    from ..plots import plot_seeds

    titles = {"over": "100-100 net, 100 examples\nbig gap → regularize more",
              "under": "1-unit net, all training examples\nno gap, both low → add capacity"}
    for ax, key in zip(axes, ("over", "under")):
        hists = [r[key] for r in reg.values()]
        epochs = np.arange(1, hists[0].epochs + 1)
        plot_seeds(epochs, [h.train_acc for h in hists], ax=ax, marker="", label="train")
        plot_seeds(epochs, [h.val_acc for h in hists], ax=ax, marker="", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(titles[key], fontsize=10)
        ax.legend(fontsize=8, loc="center right")
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(0, 1.02)
    return axes


def _normal_1(fan_in, fan_out, rng):
    from ..init import normal
    return normal(fan_in, fan_out, rng=rng, std=1.0)


TANH_INITS = {"Xavier": "xavier_normal", "N(0, 1)": _normal_1}


def tanh_net(name, seed, depth=5, width=100):
    """A deep tanh MLP (``depth`` layers of ``width``) initialized with TANH_INITS[name]."""
    from ..activations import Tanh
    return make_mlp(widths=(width,) * depth, rng=seed, init=TANH_INITS[name], activation=Tanh)


def draw_saturation(stats, X, axes):
    """Three panels for the tanh networks: the activations of layers 2 onwards (first seed's
    nets, both inits, log density), the std per layer and the saturated share per layer
    (every seed; the first bold). ``stats``: dict (init name, seed) -> LayerStats."""
    from ..activations import Tanh
    from ..diagnostics import trace

    seeds = sorted({s for _, s in stats}, key=[s for _, s in stats].index)
    colors = {"Xavier": "tab:green", "N(0, 1)": "tab:red"}
    layers = None
    for name, color in colors.items():
        net = tanh_net(name, seeds[0], depth=len(stats[name, seeds[0]]))
        outputs, _ = trace(net, X)
        acts = [o.ravel() for layer, o in zip(net.layers, outputs) if isinstance(layer, Tanh)]
        axes[0].hist(np.concatenate(acts[1:]), bins=50, range=(-1, 1), density=True, histtype="step",
                     lw=1.8, color=color, label=f"init {name}")
        layers = np.arange(1, len(acts) + 1)
        for k, s in enumerate(seeds):
            st = stats[name, s]
            alpha = 1 if k == 0 else 0.4
            axes[1].plot(layers, st.column("std"), "o-", color=color, ms=3, lw=1, alpha=alpha)
            axes[2].plot(layers, 100 * st.column("saturated"), "o-", color=color, ms=3, lw=1, alpha=alpha,
                         label=name if k == 0 else None)
    axes[0].set(xlabel="tanh output, layers 2 on", ylabel="density", yscale="log")
    axes[0].legend(fontsize=8, loc="lower center")
    axes[0].set_title("activations: bell vs pile-up at ±1", fontsize=10)
    axes[1].set(xlabel="tanh layer", ylabel="std of the output", xticks=layers, ylim=(0, 1.05))
    axes[1].set_title(f"std per layer ({len(seeds)} seeds)", fontsize=10)
    axes[2].set(xlabel="tanh layer", ylabel="saturated units (%)", xticks=layers, ylim=(-3, 103))
    axes[2].set_title("saturated % per layer", fontsize=10)
    axes[2].legend(fontsize=8, loc="center right")
    return axes


def draw_ratios(scans, axes, lr=10 ** -2.5):
    """Left: the update ratios per layer of the first seed's run at (the grid rate nearest)
    ``lr``. Right: the median ratio of every completed run against its rate, every seed,
    coloured by verdict, with the first seed's best validation accuracy starred."""
    from ..plots import plot_update_ratios
    from .practice import GUIDE, nearest_lr

    seed, runs = next(iter(scans.items()))
    good = nearest_lr(lr, tuple(runs))
    plot_update_ratios(runs[good], ax=axes[0], title=f"per layer, lr = {good:.3g} (seed {seed})")
    axes[0].set_ylim(-4.5, -0.5)
    axes[0].title.set_fontsize(10)
    axes[0].legend(fontsize=8, ncol=2, loc="upper right")
    for k, scan in enumerate(scans.values()):
        ok = [r for r, run in scan.items() if not run.exploded]
        axes[1].plot(ok, [scan[r].median_ratio() for r in ok], color="0.6", lw=0.8, zorder=1)
        for r in ok:
            axes[1].plot(r, scan[r].median_ratio(), "o", color=GUIDE[scan[r].verdict][2], ms=4,
                         alpha=1 if k == 0 else 0.6, zorder=2)
    best = max((r for r, run in runs.items() if not run.exploded), key=lambda r: runs[r].val_acc)
    axes[1].plot(best, runs[best].median_ratio(), "*", color="tab:red", ms=14, mec="k", mew=0.5,
                 label=f"best validation accuracy (seed {seed})", zorder=3)
    axes[1].axhspan(1e-4, 1e-2, color="tab:green", alpha=0.08, label="1e-3 within a factor of 10")
    axes[1].axhline(1e-3, color="k", ls="--", lw=1)
    axes[1].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="median ‖ΔW‖ / ‖W‖ (hidden W)")
    axes[1].set_title(f"completed runs, {len(scans)} seeds, colour = verdict", fontsize=10)
    axes[1].legend(fontsize=8, loc="upper left")
    return axes


def draw_coarse_fine(search, fig, axes, seed=None):
    """The two stages of ``coarse_to_fine`` against each hyperparameter, coloured by the other
    one (log colour bar): coarse trials as squares, fine ones as circles, the best as a star,
    the fine range shaded."""
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    coarse, fine, space = search["coarse"], search["fine"], search["fine_space"]
    norm = LogNorm(1e-6, 1.0)
    for ax, name, other in ((axes[0], "lr", "lam"), (axes[1], "lam", "lr")):
        ax.axvspan(space[name].low, space[name].high, color="tab:blue", alpha=0.08)
        ax.scatter(coarse.values(name), coarse.scores(), c=coarse.values(other), cmap="viridis",
                   norm=norm, marker="s", s=26)
        points = ax.scatter(fine.values(name), fine.scores(), c=fine.values(other), cmap="viridis",
                            norm=norm, marker="o", s=26, edgecolors="k", linewidths=0.5)
        ax.plot(fine.best["params"][name], fine.best["score"], "*", color="tab:red", ms=13)
        ax.set(xscale="log", xlabel="learning rate" if name == "lr" else "L2 strength λ")
        bar = fig.colorbar(points, ax=ax, pad=0.02)
        bar.set_label("λ" if other == "lam" else "learning rate", fontsize=9)
    axes[0].set(ylabel="validation accuracy (3 epochs)", ylim=(0, 1.02))
    keys = [Line2D([], [], ls="", marker="s", color="0.5", label="coarse trial"),
            Line2D([], [], ls="", marker="o", color="0.5", mec="k", label="fine trial"),
            Line2D([], [], ls="", marker="*", color="tab:red", ms=12, label="best"),
            Rectangle((0, 0), 1, 1, color="tab:blue", alpha=0.15, label="fine range")]
    fig.legend(handles=keys, loc="upper center", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.93))
    fig.suptitle("coarse → fine, same budget" + ("" if seed is None else f" (seed {seed})")
                 + "; colour = the other hyperparameter", fontsize=10)
    return axes


def draw_final(hist, axes, title=None):
    """The final run: loss (log) and accuracy per epoch with the restored best epoch marked,
    and the update-to-weight ratios per layer."""
    from ..plots import plot_curves, plot_update_ratios

    plot_curves(hist, axes=axes[:2])
    axes[0].set_yscale("log")
    if hist.best_epoch is not None:
        for ax in axes[:2]:
            ax.axvline(hist.best_epoch + 1, color="tab:red", ls=":", lw=1.2, label="restored best epoch")
            ax.legend(fontsize=8)
    plot_update_ratios(hist, ax=axes[2], title="update-to-weight ratios")
    axes[2].title.set_fontsize(10)
    axes[2].set_ylim(-6, 0)
    axes[2].legend(fontsize=7, loc="lower left")
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes
