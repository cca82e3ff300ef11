"""The dropout experiments of notebooks/05_dropout.ipynb: many small MLPs trained at once.

The bench: a wide ReLU MLP (64 -> width -> width -> 10, ``Dropout(p)`` after each hidden
ReLU, none on the output layer, He-normal weights) trained with SGD + momentum on a SMALL
subset of the digits (the first 200 training examples of the course split, centred with
their own mean image), optionally with a fraction of the labels replaced by random classes.
After every epoch the net is measured in evaluation mode (dropout off) on the training subset
(against the labels it is trained on, and against the true labels), on the validation set,
and on the corrupted examples alone: the fraction of them predicted as their WRONG training
label is the net's *memorization* of the label noise.

One run is identified by a ``Setting`` (drop rate, label noise, width, lr, momentum,
max-norm) and a pair of seeds ``(noise_seed, init_seed)``: the first draws the corrupted
labels, the second the weights, the dropout masks and the order of the mini-batches (three
independent streams spawned from it). All runs of one width are trained together, as one
stack of networks in float32 (the course's stacked trainer, ``_stacked.py``: the arithmetic
of ``cl.fit`` with ``cl.SGD`` and ``max_norm=``, run by run; ``reference_run`` is the same
run through ``cl.fit``, and the tests check that the two agree). Results are cached, so the notebook's cells and the widget
share every run.

Early stopping: for each budget in ``BUDGETS`` the measured epoch with the lowest validation
loss (the criterion of ``cl.EarlyStopping``) is kept, and the *test* accuracy of the weights of that epoch is
reported, so that the selection (on validation) and the score (on test) use different data.

Public functions: ``Setting``, ``course_runs`` (the seed pairs), ``training_data``,
``train_stack`` (uncached), ``get_runs`` / ``prefetch`` (cached), ``RunSet`` (the per-seed
results of one setting), ``reference_run``, ``model_from_state``.
"""
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Optional

import numpy as np

from ..data import corrupt_labels, load_digits
from ..experiments import SeedRuns
from ..rng import seeds as course_seeds
from ._common import one_blas_thread
from ._stacked import BestEpochs, accuracy, fit_stacked, nll, stack

N_TRAIN, WIDTH, BATCH_SIZE = 200, 128, 32
LR, MOMENTUM = 0.02, 0.9
SHORT, LONG = 40, 150
BUDGETS = (SHORT, LONG)
EVAL_EVERY = (2, 5)     # the nets are measured every 2nd epoch up to SHORT, then every 5th


@dataclass(frozen=True)
class Setting:
    """One configuration of the bench. ``max_norm``: the bound c on every unit's incoming
    weight vector (projected after each step, as ``cl.fit(max_norm=c)``), or None."""

    p: float = 0.0
    label_noise: float = 0.2
    width: int = WIDTH
    lr: float = LR
    momentum: float = MOMENTUM
    max_norm: Optional[float] = None

    def __post_init__(self):
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"Setting: p is the drop rate and must be in [0, 1), got {self.p!r}")
        if not 0.0 <= self.label_noise <= 1.0:
            raise ValueError(f"Setting: label_noise must be in [0, 1], got {self.label_noise!r}")
        if self.max_norm is not None and not self.max_norm > 0:
            raise ValueError(f"Setting: max_norm must be None or > 0, got {self.max_norm!r}")
        # normalize the numbers so that equal settings hit the same cache entry
        for name in ("p", "label_noise", "lr", "momentum"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "width", int(self.width))
        if self.max_norm is not None:
            object.__setattr__(self, "max_norm", float(self.max_norm))

    def but(self, **changes):
        """A copy with some fields changed: ``Setting(p=0.5).but(width=512)``."""
        return replace(self, **changes)

    def describe(self):
        parts = [f"p = {self.p:g}"]
        if self.width != WIDTH:
            parts.append(f"width {self.width}")
        if (self.lr, self.momentum) != (LR, MOMENTUM):
            parts.append(f"lr {self.lr:g}, momentum {self.momentum:g}")
        if self.max_norm is not None:
            parts.append(f"max-norm c = {self.max_norm:g}")
        return ", ".join(parts)


def course_runs(n_noise=3, n_init=1):
    """Seed pairs (noise_seed, init_seed) derived from COURSE_SEED: ``n_noise`` label-noise
    draws crossed with ``n_init`` initialisations. With n_init=1 the k-th noise draw goes with
    the k-th init seed (``[(s0, s0), (s1, s1), ...]``), so every run differs in both."""
    noise = course_seeds(n_noise)
    if n_init == 1:
        return [(s, s) for s in noise]
    return [(a, b) for a in noise for b in course_seeds(n_init)]


def _streams(seed, n):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(n)]


def run_generators(init_seed):
    """The three independent generators of one run: weights, dropout masks, batch order."""
    return tuple(_streams(init_seed, 3))


@lru_cache(maxsize=None)
def _split():
    return load_digits()


@lru_cache(maxsize=None)
def _data(label_noise, noise_seed):
    split = _split()
    X = split.X_train[:N_TRAIN]
    mean = X.mean(axis=0)                                   # centred as notebook 00 teaches
    y_true = split.y_train[:N_TRAIN]
    y = y_true
    if label_noise > 0:
        y = corrupt_labels(y_true, label_noise, 10, _streams(noise_seed, 4)[3])
    out = (X - mean, y, y_true, split.X_val - mean, split.y_val, split.X_test - mean, split.y_test)
    for a in out:
        a.flags.writeable = False
    return out


def training_data(label_noise=0.2, noise_seed=None):
    """The bench's data for one label-noise draw: ``(X, y, y_true, X_val, y_val, X_test,
    y_test)``, every input centred with the mean image of the 200 training examples. ``y`` is
    ``y_true`` with a fraction ``label_noise`` of the labels replaced by a uniformly random
    class (which may by chance be the right one). ``noise_seed`` defaults to the first
    course seed. Shapes: X (200, 64), y (200,). Read-only arrays."""
    noise_seed = course_seeds(1)[0] if noise_seed is None else int(noise_seed)
    return _data(float(label_noise), noise_seed if label_noise > 0 else 0)


def make_mlp(p, width=WIDTH, rng=None, mask_rng=None):
    """The bench's net as a course_lib model: 64 -> width -> width -> 10, ReLU, Dropout(p)
    after each hidden ReLU (none for p = 0), no dropout on the output layer.
    ``rng``: generator (or seed) of the He-normal weights; ``mask_rng``: of the masks."""
    from ..rng import get_rng
    from ._common import relu_mlp

    return relu_mlp((width, width), p, get_rng(rng), get_rng(mask_rng))


def _linears(model):
    from ..layers import Linear
    return [layer for layer in model.layers if isinstance(layer, Linear)]


def model_from_state(p, state):
    """A ``make_mlp(p, width)`` model (float64) holding the weights ``state`` of one run: a list
    ``[W1, b1, W2, b2, W3, b3]`` as stored in ``RunSet.states``."""
    width = state[0].shape[1]
    model = make_mlp(p, width, rng=np.random.default_rng(0))   # weights overwritten below
    for layer, (W, b) in zip(_linears(model), zip(state[0::2], state[1::2])):
        layer.W.data[...] = W
        layer.b.data[...] = b
    return model


# ----------------------------------------------------------------------------- training


def eval_epochs(epochs=LONG, budgets=BUDGETS, every=EVAL_EVERY, dense=SHORT):
    """The epochs (1-based) after which the nets are measured: epoch 1, every ``every[0]``-th
    epoch up to ``dense``, then every ``every[1]``-th, plus each budget and the last epoch.
    An int ``every`` is used for both (1: every epoch)."""
    near, far = (every, every) if isinstance(every, int) else every
    marks = ({1} | set(range(near, min(dense, epochs) + 1, near))
             | set(range(dense + far, epochs + 1, far)))
    return np.array(sorted(marks | {b for b in budgets if b <= epochs} | {epochs}))


def train_stack(jobs, epochs=LONG, budgets=BUDGETS, dtype=np.float32, every=EVAL_EVERY):
    """Train one net per job, all at once; return one result dict per job (uncached).

    ``jobs``: list of ``(Setting, noise_seed, init_seed)``, all of the same width. Each net is
    ``make_mlp(p, width)`` with the weights, masks and batch order of
    ``run_generators(init_seed)``, trained for ``epochs`` epochs as ``cl.fit`` with
    ``cl.SGD(lr, momentum)``, mini-batches of 32 and ``max_norm=c`` (the course's stacked
    trainer, ``_stacked.fit_stacked``); a run whose mini-batch loss exceeds 3x its first one
    stops as exploded (as in ``cl.fit``) and its later metrics are NaN.
    Per job, arrays over the measured epochs ``eval_epochs(epochs, budgets, every)``
    (stored under "epochs"): ``train_loss``, ``train_acc`` (against the
    training labels), ``true_acc`` (the same predictions against the true labels),
    ``memorized`` (fraction of the corrupted examples predicted as their wrong label; NaN
    without label noise), ``val_loss``, ``val_acc``; per budget b in ``budgets``:
    ``best_epoch[b]`` (1-based: the measured epoch with the lowest validation loss, as
    ``cl.EarlyStopping`` watches), ``best_val_loss[b]``, ``best_val[b]`` (validation accuracy
    of that epoch), ``test_best[b]``
    (test accuracy of the weights of that epoch), ``test_final[b]``; ``exploded`` (the epoch,
    or 0); ``state``: the final weights (float64).
    """
    if not jobs:
        return []
    widths = {s.width for s, _, _ in jobs}
    if len(widths) != 1:
        raise ValueError(f"train_stack: all jobs must have the same width, got {sorted(widths)}")
    budgets = sorted({b for b in budgets if b <= epochs} | {epochs})
    width = widths.pop()
    R = len(jobs)
    data = [training_data(s.label_noise, ns) for s, ns, _ in jobs]
    X, _, _, X_val, y_val, X_test, y_test = data[0]
    n = len(X)
    Y = np.stack([d[1] for d in data])                          # (R, n) training labels
    Y_true = data[0][2]
    corrupt = Y != Y_true                                       # (R, n)
    n_corrupt = corrupt.sum(axis=1)
    X_eval = np.concatenate([X, X_val])                         # train subset + validation

    models, orders = [], []
    for s, _, init_seed in jobs:
        init_g, mask_g, order_g = run_generators(init_seed)
        models.append(make_mlp(s.p, width, rng=init_g, mask_rng=mask_g))
        orders.append(order_g)
    model = stack(models, dtype)

    marks = eval_epochs(epochs, budgets, every)
    column = {int(e): i for i, e in enumerate(marks)}
    out = {k: np.full((R, len(marks)), np.nan) for k in
           ("train_loss", "train_acc", "true_acc", "memorized", "val_loss", "val_acc")}
    per_budget = {k: {b: np.full(R, np.nan) for b in budgets}
                  for k in ("best_epoch", "best_val_loss", "best_val", "test_best", "test_final")}
    best = BestEpochs(model)                 # lowest validation loss over the measured epochs
    best_val = np.zeros(R)

    def at_budget(b, live, runs):
        per_budget["best_epoch"][b] = best.best_epoch.astype(float)
        per_budget["best_val_loss"][b] = best.best_loss.copy()
        per_budget["best_val"][b] = best_val.copy()
        per_budget["test_best"][b] = accuracy(best.best.forward(X_test), y_test)
        if runs.size:                        # the exploded runs have no final weights
            per_budget["test_final"][b][runs] = accuracy(live.forward(X_test), y_test)

    def measure(epoch, live, runs):
        c = column[epoch]
        z = live.forward(X_eval)             # evaluation mode: no masks
        z_train, z_val = z[:, :n], z[:, n:]
        pred = z_train.argmax(axis=2)
        out["train_loss"][runs, c] = nll(z_train, Y[runs])
        out["train_acc"][runs, c] = (pred == Y[runs]).mean(axis=1)
        out["true_acc"][runs, c] = (pred == Y_true).mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["memorized"][runs, c] = ((pred == Y[runs]) & corrupt[runs]).sum(axis=1) / n_corrupt[runs]
        out["val_loss"][runs, c] = nll(z_val, y_val)
        out["val_acc"][runs, c] = va = accuracy(z_val, y_val)
        improved = best.update(epoch, out["val_loss"][runs, c], live, runs)
        best_val[runs[improved]] = va[improved]
        if epoch in budgets:
            at_budget(epoch, live, runs)

    settings = [s for s, _, _ in jobs]
    with one_blas_thread():
        hist = fit_stacked(model, X, Y, orders=orders, epochs=epochs, batch_size=BATCH_SIZE,
                           lr=[s.lr for s in settings], momentum=[s.momentum for s in settings],
                           max_norm=[s.max_norm for s in settings], explode_factor=3.0,
                           evaluate=measure, evaluate_at=marks)
        for b in budgets:                    # every run exploded before this budget
            if np.isnan(per_budget["test_best"][b]).all():
                at_budget(b, None, np.arange(0))
    exploded = np.where(hist.status == "exploded", hist.stop_epoch, 0)
    linears = [layer for layer in model.layers if hasattr(layer, "W")]
    results = []
    for r in range(R):
        res = {k: v[r] for k, v in out.items()}
        for k, by_b in per_budget.items():
            res[k] = {b: float(v[r]) for b, v in by_b.items()}
        res["exploded"] = int(exploded[r])
        res["epochs"] = marks
        res["state"] = [np.array(a[r], dtype=np.float64) for layer in linears
                        for a in (layer.W.data, layer.b.data)]
        results.append(res)
    return results


# ----------------------------------------------------------------------------- cache


_CACHE = {}


def _key(setting, run, epochs):
    noise_seed, init_seed = run
    if setting.label_noise == 0:
        noise_seed = 0                                          # no noise draw to vary
    return (setting, int(noise_seed), int(init_seed), int(epochs))


def prefetch(settings, runs=None, epochs=LONG):
    """Train (and cache) every ``setting x run`` not yet cached, one stack per width.
    ``settings`` is a list of Settings (each on ``runs``, default ``course_runs()``) or a
    list of ``(Setting, runs)`` pairs. Returns the number of runs trained now."""
    default = course_runs() if runs is None else list(runs)
    todo = {}
    for item in settings:
        s, its_runs = item if isinstance(item, tuple) else (item, default)
        for run in its_runs:
            key = _key(s, run, epochs)
            if key not in _CACHE:
                todo.setdefault(s.width, {})[key] = (s, key[1], key[2])
    for jobs in todo.values():
        for key, res in zip(list(jobs), train_stack(list(jobs.values()), epochs)):
            _CACHE[key] = res
    return sum(len(j) for j in todo.values())


class RunSet:
    """The runs of one Setting on several seed pairs: arrays with one row per run.

    ``epochs(budget)``: the measured epochs up to ``budget``; ``curve(name, budget)``:
    (n_runs, n_measured) metric at those epochs; ``final(name, budget)``: its value at the
    budget; ``best_epoch(b)``, ``best_val(b)``, ``test_best(b)``, ``test_final(b)``: one
    number per run for budget b (early stopping within b epochs); ``states``: final weights
    per run; ``seed_runs(budget)``: the scalar results as a ``SeedRuns``.
    """

    def __init__(self, setting, runs, results, epochs):
        self.setting, self.runs, self.n_epochs = setting, list(runs), epochs
        self._res = results

    def __len__(self):
        return len(self._res)

    def _budget(self, budget):
        budget = self.n_epochs if budget is None else int(budget)
        if not 1 <= budget <= self.n_epochs:
            raise ValueError(f"RunSet: budget must be in [1, {self.n_epochs}], got {budget}")
        return budget

    def epochs(self, budget=None):
        marks = self._res[0]["epochs"]
        return marks[marks <= self._budget(budget)]

    def curve(self, name, budget=None):
        keep = self._res[0]["epochs"] <= self._budget(budget)
        return np.array([r[name][keep] for r in self._res])

    def final(self, name, budget=None):
        return self.curve(name, budget)[:, -1]

    def _per_budget(self, name, budget):
        budget = self._budget(budget)
        if budget not in self._res[0][name]:
            raise ValueError(f"RunSet: early stopping was recorded for the budgets "
                             f"{sorted(self._res[0][name])}, not {budget}")
        return np.array([r[name][budget] for r in self._res])

    def best_epoch(self, budget=None):
        return self._per_budget("best_epoch", budget)

    def best_val(self, budget=None):
        return self._per_budget("best_val", budget)

    def best_val_loss(self, budget=None):
        return self._per_budget("best_val_loss", budget)

    def test_best(self, budget=None):
        return self._per_budget("test_best", budget)

    def test_final(self, budget=None):
        return self._per_budget("test_final", budget)

    @property
    def exploded(self):
        return np.array([r["exploded"] for r in self._res])

    @property
    def states(self):
        return [r["state"] for r in self._res]

    def seed_runs(self, budget=None):
        """A SeedRuns (one entry per seed pair) of the scalar results at ``budget``:
        test_best, test_final, best_epoch, val_final, train_final, memorized, gap
        (train - validation accuracy at the budget)."""
        b = self._budget(budget)
        cols = {"test_best": self.test_best(b), "test_final": self.test_final(b),
                "best_epoch": self.best_epoch(b), "val_final": self.final("val_acc", b),
                "train_final": self.final("train_acc", b), "memorized": self.final("memorized", b)}
        cols["gap"] = cols["train_final"] - cols["val_final"]
        return SeedRuns(self.runs, [{k: v[i] for k, v in cols.items()} for i in range(len(self))])

    def __repr__(self):
        return f"RunSet({self.setting.describe()}, {len(self)} runs, {self.n_epochs} epochs)"


def get_runs(setting, runs=None, epochs=LONG):
    """The cached runs of ``setting`` on the seed pairs ``runs`` (default ``course_runs()``),
    trained for ``epochs`` epochs (what is missing is trained now)."""
    runs = course_runs() if runs is None else list(runs)
    prefetch([setting], runs, epochs)
    return RunSet(setting, runs, [_CACHE[_key(setting, r, epochs)] for r in runs], epochs)


def clear_cache():
    _CACHE.clear()


# ----------------------------------------------------------------------------- the notebook's runs

RATES = (0.0, 0.1, 0.3, 0.5, 0.7)
LABELS = {"clean": 0.0, "20% noisy": 0.2}
NOISY = Setting(p=0.0, label_noise=0.2)
DROPOUT = NOISY.but(p=0.5)
HIGH_LR = dict(lr=0.1, momentum=0.95)
C_TUNED = 1.5
# Srivastava et al. (2014), Appendix A, on this bench: (key, name, Setting)
GUIDE = (
    ("plain", "p = 0, lr 0.02", NOISY),
    ("plain_lr0.01", "p = 0, lr 0.01", NOISY.but(lr=0.01)),
    ("plain_lr0.05", "p = 0, lr 0.05", NOISY.but(lr=0.05)),
    ("dropout", "p = 0.5", DROPOUT),
    ("widen", "(i) p = 0.5, width 256", DROPOUT.but(width=2 * WIDTH)),
    ("max_norm", "(iii) p = 0.5, c = 1.5", DROPOUT.but(max_norm=C_TUNED)),
    ("high_lr", "(ii) p = 0.5, lr 0.1, mom. 0.95", DROPOUT.but(**HIGH_LR)),
    ("recipe", "(ii)+(iii) p = 0.5, lr 0.1, c = 1.5", DROPOUT.but(**HIGH_LR, max_norm=C_TUNED)),
    ("control", "p = 0, lr 0.1, mom. 0.95, c = 1.5", NOISY.but(**HIGH_LR, max_norm=C_TUNED)),
)


def sweep_settings(rates=RATES, labels=LABELS):
    return [Setting(p=float(r), label_noise=noise) for noise in labels.values() for r in rates]


def notebook_jobs():
    """Every (Setting, runs) group the notebook shows: the drop-rate sweep (both label sets,
    3 runs), the headline p = 0 / 0.5 on noisy labels (3 noise draws x 2 inits), the guide."""
    runs3, crossed = course_runs(3), course_runs(3, 2)
    groups = [(s, runs3) for s in sweep_settings()]
    groups += [(NOISY, crossed), (DROPOUT, crossed)]
    groups += [(s, runs3) for _, _, s in GUIDE]
    return groups


def precompute():
    """Train every run of the notebook (one stack per width); returns how many were trained."""
    return prefetch(notebook_jobs())


# ----------------------------------------------------------------------------- reference


def reference_run(setting, noise_seed, init_seed, epochs):
    """One run of the bench through ``cl.fit`` (float64, epoch by epoch), for the tests:
    returns per-epoch ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` (eval mode)
    and the final weights as ``[W1, b1, W2, b2, W3, b3]``."""
    from ..losses import SoftmaxCrossEntropy
    from ..optim import SGD
    from ..train import evaluate, fit

    X, y, _, X_val, y_val, _, _ = training_data(setting.label_noise, noise_seed)
    init_g, mask_g, order_g = run_generators(init_seed)
    model = make_mlp(setting.p, setting.width, rng=init_g, mask_rng=mask_g)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(model.parameters(), lr=setting.lr, momentum=setting.momentum)
    rows = []
    with one_blas_thread():
        for _ in range(epochs):
            fit(model, loss_fn, opt, X, y, epochs=1, batch_size=BATCH_SIZE, rng=order_g,
                max_norm=setting.max_norm, progress=False, ratio_every=0)
            rows.append(evaluate(model, loss_fn, X, y) + evaluate(model, loss_fn, X_val, y_val))
    cols = [np.array(c) for c in zip(*rows)]
    state = [a for lin in _linears(model) for a in (lin.W.data.copy(), lin.b.data.copy())]
    return dict(zip(("train_loss", "train_acc", "val_loss", "val_acc"), cols), state=state)


# ----------------------------------------------------------------------------- sections 7 and 8


def _hidden_forward(state, X, keep=(None, None), rescale=(1.0, 1.0)):
    """Eval-mode forward of one bench net given by its weights, with optional unit masks
    ``keep`` (a boolean (width,) per hidden layer, applied to every example) and scale
    factors. Returns the logits and the two hidden activations."""
    W1, b1, W2, b2, W3, b3 = state
    h1 = np.maximum(X @ W1 + b1, 0.0)
    if keep[0] is not None:
        h1 = h1 * keep[0] * rescale[0]
    h2 = np.maximum(h1 @ W2 + b2, 0.0)
    if keep[1] is not None:
        h2 = h2 * keep[1] * rescale[1]
    return h2 @ W3 + b3, h1, h2


def mc_averaging(state, p, rng, T=100, counts=(1, 2, 5, 10, 20, 50, 100)):
    """Weight scaling vs Monte-Carlo averaging for one trained net (notebook 05, section 7).

    The net (``model_from_state(p, state)``) is run once in eval mode and ``T`` times in
    training mode (fresh masks from ``rng``) on the validation set. Returns: ``acc_eval``,
    ``acc_mc`` (accuracy of the average of the first t softmax outputs, t in ``counts``),
    ``acc_single`` (mean accuracy of one thinned net), ``agree`` (fraction of digits where
    the 100-mask average and the eval pass predict the same class), ``prob_gap`` (mean
    |p_eval - p_avg|)."""
    from ..dropout import Dropout
    from ..functional import softmax

    _, _, _, X_val, y_val, _, _ = training_data(0.0)
    net = model_from_state(p, state)
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.rng = rng
    net.eval()
    prob_eval = softmax(net.forward(X_val))
    net.train()
    samples = np.array([softmax(net.forward(X_val)) for _ in range(T)])
    net.eval()
    running = np.cumsum(samples, axis=0)
    acc_mc = np.array([(running[t - 1].argmax(axis=1) == y_val).mean() for t in counts])
    prob_mc = running[-1] / T
    return {"acc_eval": float((prob_eval.argmax(axis=1) == y_val).mean()),
            "acc_mc": acc_mc,
            "acc_single": float((samples.argmax(axis=2) == y_val).mean()),
            "agree": float((prob_mc.argmax(axis=1) == prob_eval.argmax(axis=1)).mean()),
            "prob_gap": float(np.abs(prob_eval - prob_mc).mean())}


def random_removal(state, fractions, rng, trials=10, rescale=True):
    """Validation accuracy when a random fraction q of the units of each hidden layer is
    removed, the same units for every example, averaged over ``trials`` draws; with
    ``rescale`` the remaining units are multiplied by 1/(1 - q) (as dropout does)."""
    _, _, _, X_val, y_val, _, _ = training_data(0.0)
    width = state[0].shape[1]
    accs = []
    for q in fractions:
        scale = 1.0 / (1.0 - q) if rescale else 1.0
        acc = [(_hidden_forward(state, X_val, (rng.random(width) >= q, rng.random(width) >= q),
                                (scale, scale))[0].argmax(axis=1) == y_val).mean()
               for _ in range(trials if q > 0 else 1)]
        accs.append(float(np.mean(acc)))
    return np.array(accs)


def unit_importance(state):
    """How much each unit of the LAST hidden layer feeds the output: its mean activation on the
    training digits times the norm of its outgoing weights. Shape (width,)."""
    X = training_data(0.0)[0]
    _, _, h2 = _hidden_forward(state, X)
    return h2.mean(axis=0) * np.linalg.norm(state[4], axis=1)


def targeted_removal(state, counts):
    """Validation accuracy when the k most important units of the last hidden layer
    (``unit_importance``) are removed, without rescaling, for k in ``counts``. Nothing
    random: not the perturbation dropout trains for."""
    _, _, _, X_val, y_val, _, _ = training_data(0.0)
    order = np.argsort(unit_importance(state))[::-1]
    width = state[0].shape[1]
    accs = []
    for k in counts:
        keep = np.ones(width, dtype=bool)
        keep[order[:k]] = False
        logits = _hidden_forward(state, X_val, (None, keep))[0]
        accs.append(float((logits.argmax(axis=1) == y_val).mean()))
    return np.array(accs)


def hidden_statistics(state):
    """Statistics of the last hidden layer on the validation digits (Srivastava et al. 2014,
    section 7.1): ``active`` (mean fraction of units > 0 per example), ``top_share`` (share of
    the total importance held by the 10% most important units) and ``mean_abs_corr`` (mean
    |correlation| between pairs of units that are ever active)."""
    _, _, _, X_val, _, _, _ = training_data(0.0)
    _, _, h2 = _hidden_forward(state, X_val)
    imp = np.sort(unit_importance(state))[::-1]
    live = h2.std(axis=0) > 0
    corr = np.corrcoef(h2[:, live].T)
    off = corr[~np.eye(len(corr), dtype=bool)]
    return {"active": float((h2 > 0).mean()),
            "top_share": float(imp[:max(1, len(imp) // 10)].sum() / imp.sum()),
            "mean_abs_corr": float(np.abs(off).mean())}


# ----------------------------------------------------------------------------- summaries


def headline(runs=None, epochs=LONG):
    """p = 0 and p = 0.5 on 20% noisy labels, on 3 label-noise draws x 2 initialisations."""
    runs = course_runs(3, 2) if runs is None else runs
    return get_runs(NOISY, runs, epochs), get_runs(DROPOUT, runs, epochs)


def sweep(labels, runs=None, rates=RATES, epochs=LONG):
    """{rate: RunSet} of the drop-rate sweep for one label set ("clean" or "20% noisy")."""
    noise = LABELS[labels]
    return {float(r): get_runs(Setting(p=float(r), label_noise=noise), runs, epochs) for r in rates}


def sweep_table(labels, runs=None, rates=RATES, epochs=LONG):
    """Per-seed results of the sweep, each (n_runs, n_rates): test accuracy of the final
    weights after the short budget (``final_short``) and after ``epochs`` (``final_long``), of
    the early-stopped weights (``early_stopped``, lowest validation loss within ``epochs``),
    the training accuracy at both budgets and the memorized fraction at the end."""
    short = min(SHORT, epochs)
    sets = sweep(labels, runs, rates, epochs)
    col = lambda f: np.stack([f(rs) for rs in sets.values()], axis=1)   # noqa: E731
    return {"final_short": col(lambda rs: rs.test_final(short)),
            "final_long": col(lambda rs: rs.test_final(epochs)),
            "early_stopped": col(lambda rs: rs.test_best(epochs)),
            "train_short": col(lambda rs: rs.final("train_acc", short)),
            "train_long": col(lambda rs: rs.final("train_acc", epochs)),
            "memorized": col(lambda rs: rs.final("memorized", epochs))}


def guide_rows(runs=None, epochs=LONG):
    """The measured guide (Srivastava et al. 2014, App. A): a dict key -> row, one per entry of
    ``GUIDE``, in its order, each trained for ``epochs`` epochs.

    The baseline is the no-dropout net at its own best learning rate: of the plain rows, the
    one with the lowest mean early-stopping VALIDATION loss. Each row has ``name``,
    ``setting``, ``test_best`` (early-stopped test accuracy per run), ``test_best_short``
    (early-stopped within the short budget), ``vs_base`` (paired difference with the
    baseline, a ``Paired``), ``test_final`` (after ``epochs``; NaN for an exploded run),
    ``memorized`` (at the end), ``best_epoch``, ``exploded`` (number of runs) and
    ``baseline`` (True for the baseline row)."""
    from ..experiments import paired

    runs = course_runs(3) if runs is None else runs
    sets = [(key, name, get_runs(s, runs, epochs)) for key, name, s in GUIDE]
    plain = [(k, rs) for k, _, rs in sets if rs.setting.p == 0 and rs.setting.max_norm is None
             and rs.setting.momentum == MOMENTUM]
    base_key, base = min(plain, key=lambda kr: kr[1].best_val_loss().mean())
    rows = {}
    for key, name, rs in sets:
        es = rs.test_best()
        rows[key] = {"name": name, "setting": rs.setting, "test_best": es,
                     "test_best_short": rs.test_best(min(SHORT, epochs)),
                     "vs_base": paired(es, base.test_best(), (key, base_key)),
                     "test_final": rs.test_final(), "memorized": rs.final("memorized"),
                     "best_epoch": rs.best_epoch(), "exploded": int((rs.exploded > 0).sum()),
                     "baseline": key == base_key}
    return rows


def format_guide(rows, epochs=LONG):
    """The guide as a text table (one line per row)."""
    head = (f"{'setting':<37}{'early-stopped test acc':>23}{'vs baseline (paired)':>23}"
            f"{'after ' + str(epochs) + ' ep.':>15}{'memorized':>11}{'best ep.':>10}")
    lines = [head, "-" * len(head)]
    for r in rows.values():
        es, d = r["test_best"], r["vs_base"]
        fin = r["test_final"]
        fin_s = f"{np.nanmean(fin):.3f}" if np.isfinite(fin).any() else "-"
        if r["exploded"]:
            fin_s += f" ({r['exploded']}✗)"
        mem = r["memorized"]
        mem_s = f"{np.nanmean(mem):.2f}" if np.isfinite(mem).any() else "-"
        name = r["name"] + (" *" if r["baseline"] else "")
        vs = "baseline" if r["baseline"] else f"{d.mean:+.3f} ± {d.se:.3f} ({d.wins}/{d.n})"
        lines.append(f"{name:<37}{es.mean():>8.3f} ({es.min():.3f}…{es.max():.3f})"
                     f"{vs:>23}{fin_s:>15}{mem_s:>11}{np.median(r['best_epoch']):>10.0f}")
    lines.append("* baseline: the plain net at its own best learning rate (lowest validation loss); "
                 "✗ exploded runs")
    return "\n".join(lines)


MC_COUNTS = (1, 2, 5, 10, 20, 50, 100)


def mc_study(p=0.5, runs=None, T=100, epochs=LONG):
    """``mc_averaging`` for every clean-label run of drop rate ``p`` (final weights after
    ``epochs`` epochs), masks from ``cl.make_rng(20 + k)`` for the k-th run: a SeedRuns."""
    from ..rng import make_rng

    rs = get_runs(Setting(p=p, label_noise=0.0), runs, epochs)
    counts = tuple(c for c in MC_COUNTS if c <= T)
    return SeedRuns(rs.runs, [mc_averaging(state, p, make_rng(20 + k), T, counts)
                              for k, state in enumerate(rs.states)])


REMOVE_FRACTIONS = (0.0, 0.25, 0.5, 0.75)
REMOVE_COUNTS = (0, 13, 26, 64)


def coadaptation_study(rates=(0.0, 0.3, 0.5), runs=None, epochs=LONG):
    """Section 8 for the clean-label nets of each rate (final weights after ``epochs``):
    {p: SeedRuns} with ``random`` (random_removal at REMOVE_FRACTIONS, masks from
    ``cl.make_rng(30 + k)`` for the k-th run), ``targeted`` (targeted_removal of
    REMOVE_COUNTS units) and the ``hidden_statistics``."""
    from ..rng import make_rng

    out = {}
    for p in rates:
        rs = get_runs(Setting(p=float(p), label_noise=0.0), runs, epochs)
        res = []
        for k, state in enumerate(rs.states):
            d = {"random": random_removal(state, REMOVE_FRACTIONS, make_rng(30 + k)),
                 "targeted": targeted_removal(state, REMOVE_COUNTS)}
            d.update(hidden_statistics(state))
            res.append(d)
        out[float(p)] = SeedRuns(rs.runs, res)
    return out
