"""The experiments of notebooks/01_activations.ipynb, on several seeds, cached.

Every random draw derives from COURSE_SEED: the data sets from ``cl.make_rng(k)``, the
networks (initial weights, mini-batch order) from ``cl.seeds(n)``. The same seed gives the
same initial weights whatever the activation (``make_mlp``), so two runs on one seed differ
only in what is compared.

Many of these runs are small (300 spiral points, a 64-wide MLP on the digits), so Python's
per-step overhead costs more than the arithmetic. ``train_many`` trains M such networks side
by side with the course's stacked trainer (``_stacked.py``: weights stacked along a first
axis, the arithmetic of ``cl.fit`` + ``cl.SGD(momentum=...)`` and the same shuffling, one
permutation per epoch from each network's own generator): a stacked run equals the same run
through ``cl.fit`` up to rounding (tests/test_widgets_activations.py and test_stacked.py
check it).

The experiments:
  grad_profile(seed)       §2: gradient std per hidden layer, sigmoid / tanh / ReLU nets
  zigzag(...)              §3: SGD paths of a two-weight unit on positive vs centred inputs
  spirals_race(act, ...)   §5: epochs until 99% training accuracy on the spirals, lr x seed
  dead_runs(config, seed)  §6: the dead-ReLU experiment recorded with ActivationStats
  alpha_sweep(...)         §7: Leaky ReLU's alpha on the circles
  prelu_slopes(seed)       §7: PReLU slopes during training
  contest(act, ...)        §11: the activation contest on the digits, each at its own lr
Public helpers: make_mlp, train_many, digits, first_dead_layer, silent_units.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..activation_stats import ActivationStats, dead_units
from ..activations import ELU, GELU, LeakyReLU, PReLU, ReLU, SiLU, Sigmoid, Tanh
from ..data import Center, load_digits, make_circles, make_spirals
from ..diagnostics import layer_stats, trace
from ..layers import Linear, Maxout
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD
from ..rng import make_rng, seeds as course_seeds
from ..train import evaluate, fit
from ._common import one_blas_thread
from ._stacked import StackedLinear, StackedSequential, accuracy, fit_stacked, nll, stack

# name -> factory of a fresh activation layer ("maxout": Maxout(k=2) replaces Linear + act)
ACTS = {
    "ReLU": ReLU, "Leaky ReLU": LeakyReLU, "ELU": ELU, "Maxout (k=2)": "maxout",
    "GELU": GELU, "SiLU": SiLU, "tanh": Tanh, "sigmoid": Sigmoid,
}
RECTIFIERS = ("ReLU", "Leaky ReLU", "ELU", "Maxout (k=2)", "GELU", "SiLU")


def _factory(act):
    if isinstance(act, str) and act != "maxout":
        if act not in ACTS:
            raise ValueError(f"unknown activation {act!r}; expected one of {list(ACTS)}")
        return ACTS[act]
    return act


def make_mlp(act, sizes, seed):
    """Linear -> act -> ... -> Linear, He-normal weights drawn from ``np.random.default_rng(seed)``
    in layer order, so the same seed gives the same weights whatever the activation.

    ``act``: a layer class or factory, a name of ACTS, or "maxout" (Maxout(k=2) layers
    instead of Linear + act; twice the parameters, its own weights).
    """
    act = _factory(act)
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        if act == "maxout":
            layers.append(Maxout(fan_in, fan_out, pieces=2, rng=rng))
        else:
            layers += [Linear(fan_in, fan_out, rng=rng), act()]
    layers.append(Linear(sizes[-2], sizes[-1], rng=rng))
    return Sequential(*layers)


@lru_cache(maxsize=4)
def _digits(course_seed_key):
    split = load_digits()
    center = Center().fit(split.X_train)
    return {"train": (center.transform(split.X_train), split.y_train),
            "val": (center.transform(split.X_val), split.y_val),
            "test": (center.transform(split.X_test), split.y_test)}


def digits():
    """The digits split of the course (``load_digits``), centred with the training mean:
    {"train": (X, y), "val": ..., "test": ...}. Cached per COURSE_SEED."""
    return _digits(tuple(course_seeds(1)))


# ------------------------------------------------------------------------------------------
# many small networks trained side by side
# ------------------------------------------------------------------------------------------

@dataclass
class ManyRuns:
    """What ``train_many`` measured, network m along axis 0: ``acc[name]`` and ``loss[name]``
    (M, epochs) on each evaluation set after every epoch (eval mode: a full pass; NaN after a
    network stopped), and ``model``, the trained stack (``_stacked.StackedSequential``).
    ``weights`` / ``biases``: the final parameters per affine layer ((M, in, out), (M, out);
    Maxout layers with their pieces side by side, (M, in, out * k)). ``evaluate(X, y)``:
    (loss, accuracy), each (M,), of the final networks on another data set."""

    acc: dict
    loss: dict
    model: StackedSequential

    @property
    def weights(self):
        return [layer.W.data for layer in self.model.layers if isinstance(layer, StackedLinear)]

    @property
    def biases(self):
        return [layer.b.data for layer in self.model.layers if isinstance(layer, StackedLinear)]

    def evaluate(self, X, y):
        with np.errstate(all="ignore"), one_blas_thread():
            z = self.model.eval().forward(X)
        return nll(z, y), accuracy(z, y)


def train_many(nets, X, y, *, lr, epochs, batch_size, momentum, orders, evals=None, until=None,
               dtype=np.float64):
    """Train the networks ``nets`` (cl.Sequential of one structure, e.g. ``make_mlp``'s; the
    activation may differ from layer to layer, LeakyReLU's and ELU's alpha from network to
    network) side by side with SGD + momentum on the softmax cross-entropy of (X, y), with
    ``_stacked.fit_stacked``. Returns a ManyRuns.

    ``lr``: one per network or one for all; ``orders[m]``: the generator that shuffles network
    m's epochs (one permutation per epoch, as ``cl.fit(rng=...)``). ``evals``: {name: (X, y)}
    measured after every epoch (default: the training set, as "train"). ``until`` = (name,
    accuracy): a network stops training after the first epoch at which its accuracy on that
    evaluation set reaches the value (its later epochs are NaN; its weights stay those of that
    epoch). The nets themselves are not changed. A network whose weights overflow gets NaN
    losses (no run is stopped for it). ``dtype``: float64 reproduces cl.fit to rounding;
    float32 (what deep-learning frameworks train in) is faster and rounds differently, so its
    runs agree with float64 ones statistically, not digit for digit.
    Shapes: X (N, D), y (N,) integer labels.
    """
    nets = list(nets)
    if not nets:
        raise ValueError("train_many: got no networks")
    evals = {"train": (X, y)} if evals is None else evals
    if until is not None and until[0] not in evals:
        raise ValueError(f"train_many: until names {until[0]!r}, not one of the evaluation sets {list(evals)}")
    model = stack(nets, dtype)
    acc = {name: np.full((len(nets), epochs), np.nan) for name in evals}
    loss = {name: np.full((len(nets), epochs), np.nan) for name in evals}

    def measure(epoch, live, runs):
        for name, (Xe, ye) in evals.items():
            z = live.forward(Xe)
            loss[name][runs, epoch - 1], acc[name][runs, epoch - 1] = nll(z, ye), accuracy(z, ye)
        if until is not None:                        # these networks are done
            return acc[until[0]][runs, epoch - 1] >= until[1]

    with np.errstate(all="ignore"), one_blas_thread():
        fit_stacked(model, X, y, orders=orders, epochs=epochs, batch_size=batch_size, lr=lr,
                    momentum=momentum, explode_factor=None, record_loss=False, evaluate=measure)
    return ManyRuns(acc, loss, model)


# ------------------------------------------------------------------------------------------
# §2 gradient attenuation, §3 the zig-zag
# ------------------------------------------------------------------------------------------

DEEP = (64, 64, 64, 64, 64, 64, 10)          # five hidden layers of 64


def grad_profile(seed, acts=("sigmoid", "tanh", "ReLU")):
    """Std of the loss gradient at each hidden activation's output (layer 1 .. 5) of the DEEP
    net on the training digits, relative to layer 5, for each activation on the same initial
    weights (seed): {name: (5,) array}. Its first entry is the first/last ratio."""
    Xtr, ytr = digits()["train"]
    out = {}
    for name in acts:
        g = layer_stats(make_mlp(name, DEEP, seed), Xtr, SoftmaxCrossEntropy(), ytr).column("grad_std")
        out[name] = g / g[-1]
    return out


W0, W_STAR = np.array([-1.0, 1.0]), np.array([1.0, -1.0])


def zigzag_inputs(k=0, n=500):
    """Inputs of the two-weight unit: sigmoid outputs sigma(u), u ~ N(0, 1) from make_rng(k),
    and the same numbers centred (sigma(u) - 1/2): {"positive": (n, 2), "centred": (n, 2)}."""
    from ..functional import sigmoid
    s = sigmoid(make_rng(k).standard_normal((n, 2)))
    return {"positive": s, "centred": s - 0.5}


def sgd_path(X, seed, tol=0.1, max_steps=2000):
    """One-example-per-step SGD on L = 1/2 (x.w - x.w*)^2 from W0 until |w - w*| < tol, with
    step size 0.5 / E|x|^2 (the same relative step for any input scale). Returns the visited
    weights (T, 2)."""
    rng = np.random.default_rng(seed)
    lr = 0.5 / np.mean(np.sum(X ** 2, axis=1))
    w, path = W0.copy(), [W0.copy()]
    while len(path) <= max_steps and np.linalg.norm(w - W_STAR) >= tol:
        x = X[rng.integers(len(X))]
        w = w - lr * (x @ (w - W_STAR)) * x          # dL/dw = (dL/dz) x
        path.append(w.copy())
    return np.array(path)


def zigzag(seed, inputs):
    """One SGD run per input kind: steps to reach w*, and the path's length relative to the
    straight distance |w0 - w*| (1 = a straight line; a zig-zag is longer)."""
    out = {}
    for name, X in inputs.items():
        path = sgd_path(X, seed)
        length = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
        out[f"{name} steps"] = len(path) - 1
        out[f"{name} detour"] = length / np.linalg.norm(W0 - W_STAR)
    return out


# ------------------------------------------------------------------------------------------
# §5 the spirals race
# ------------------------------------------------------------------------------------------

SPIRAL_NET = (2, 32, 32, 32, 32, 32, 3)
SPIRAL_TARGET, SPIRAL_EPOCHS, SPIRAL_BATCH = 0.99, 60, 32
SPIRAL_LRS = (0.003, 0.01, 0.03)
SPIRAL_SEEDS = 8


@lru_cache(maxsize=4)
def _spirals(key):
    return make_spirals(100, 3, noise=0.2, rng=make_rng(0))


def spirals():
    """The three-class spirals (300 points) drawn from make_rng(0)."""
    return _spirals(tuple(course_seeds(1)))


@lru_cache(maxsize=None)
def _race(act, lrs, seeds):
    X, y = spirals()
    nets = [make_mlp(act, SPIRAL_NET, s) for _ in lrs for s in seeds]
    orders = [np.random.default_rng(s) for _ in lrs for s in seeds]
    lr = np.repeat(lrs, len(seeds))
    runs = train_many(nets, X, y, lr=lr, epochs=SPIRAL_EPOCHS, batch_size=SPIRAL_BATCH,
                      momentum=0.9, orders=orders, until=("train", SPIRAL_TARGET), dtype=np.float32)
    curves = runs.acc["train"].reshape(len(lrs), len(seeds), SPIRAL_EPOCHS)
    reached = curves >= SPIRAL_TARGET
    epochs = np.where(reached.any(axis=2), reached.argmax(axis=2) + 1.0, np.inf)
    curves.setflags(write=False)
    epochs.setflags(write=False)
    return {"epochs": epochs, "curves": curves}


def spirals_race(act, lrs=SPIRAL_LRS, n=SPIRAL_SEEDS):
    """SGD (momentum 0.9, batches of 32) on the spirals with the SPIRAL_NET (five hidden layers
    of 32) for SPIRAL_EPOCHS epochs, for every lr and each of n seeds (cl.seeds(n)).

    Returns {"epochs": (len(lrs), n) epochs until the full-pass training accuracy first
    reached SPIRAL_TARGET (inf if never), "curves": (len(lrs), n, epochs) that accuracy}.
    Cached; arrays are read-only."""
    return _race(act, tuple(float(v) for v in lrs), tuple(course_seeds(n)))


def race_summary(lrs=SPIRAL_LRS, n=SPIRAL_SEEDS, same_lr=0.01):
    """ReLU against tanh, per seed: epochs at the same lr, each one's best over lrs, and the
    best lr itself. A dict of (n,) arrays."""
    lrs = tuple(lrs)
    out = {}
    for name in ("ReLU", "tanh"):
        e = spirals_race(name, lrs, n)["epochs"]
        out[f"{name} same"] = e[lrs.index(same_lr)]
        out[f"{name} tuned"] = e.min(axis=0)
        out[f"{name} best lr"] = np.array(lrs)[e.argmin(axis=0)]
    return out


# ------------------------------------------------------------------------------------------
# §6 the dead-ReLU experiment, recorded during training
# ------------------------------------------------------------------------------------------

DEAD_NET = (64, 100, 100, 100, 10)
DEAD_EPOCHS, RECOVER_EPOCHS, DEAD_BATCH = 5, 5, 64
GOOD_LR, HIGH_LR = 0.05, 1.0
DEAD_SEEDS = 5
BURST = "ReLU, 1 epoch at lr 1.0, then 0.05"
# label -> (activation, learning rate, initial bias, epochs at that rate, epochs at GOOD_LR after)
DEAD_CONFIGS = {
    "ReLU, lr 0.05": ("ReLU", GOOD_LR, 0.0, DEAD_EPOCHS, 0),
    "ReLU, lr 1.0": ("ReLU", HIGH_LR, 0.0, DEAD_EPOCHS, 0),
    "ReLU, lr 1.0, bias 0.01": ("ReLU", HIGH_LR, 0.01, DEAD_EPOCHS, 0),
    "Leaky ReLU, lr 1.0": ("Leaky ReLU", HIGH_LR, 0.0, DEAD_EPOCHS, 0),
    "ELU, lr 1.0": ("ELU", HIGH_LR, 0.0, DEAD_EPOCHS, 0),
    BURST: ("ReLU", HIGH_LR, 0.0, 1, RECOVER_EPOCHS),
}


def silent_units(model, X, layers=None):
    """Units of the rectifier layers (ReLU, LeakyReLU, ELU, PReLU) that are on their negative
    side (output <= 0) for EVERY example of X: {layer index: bool mask (units,)}. For ReLU these
    are the dead units (``dead_units``); a Leaky ReLU or ELU unit there still gets a gradient,
    scaled by its negative-side slope. Runs in eval mode."""
    outputs, _ = trace(model, X)
    kinds = (ReLU, LeakyReLU, ELU, PReLU)
    wanted = range(len(model.layers)) if layers is None else layers
    return {i: np.all(outputs[i] <= 0, axis=0) for i in wanted if isinstance(model.layers[i], kinds)}


@dataclass
class DeadRun:
    """One run of the dead-ReLU experiment: ``stats`` (the ActivationStats of every step, both
    phases), ``status`` ("completed", "exploded" or "nan"), ``steps`` in the first phase
    (``switch``: the step where the lr dropped to GOOD_LR, or None), the exact share of silent
    units per hidden layer on the training set after the first phase (``silent``) and at
    the end (``silent_end``), {layer index: share}, the validation accuracy then (``val_acc``,
    ``val_acc_end``), and the History of the last phase (``history``; None after a NaN)."""

    label: str
    seed: int
    stats: ActivationStats
    status: str
    switch: object
    silent: dict
    silent_end: dict
    val_acc: float
    val_acc_end: float
    history: object = None

    def share(self, end=False):
        """Silent share of all hidden units (the layers weighted by their width)."""
        s = self.silent_end if end else self.silent
        return float(np.mean(list(s.values())))


def _phase(model, lr, seed, epochs, stats):
    d = digits()
    loss_fn = SoftmaxCrossEntropy()
    try:
        hist = fit(model, loss_fn, SGD(model.parameters(), lr=lr, momentum=0.9), *d["train"],
                   epochs=epochs, batch_size=DEAD_BATCH, val=d["val"], rng=seed, progress=False,
                   ratio_every=0, explode_factor=1e9, callbacks=[stats])
        return hist.status, hist
    except FloatingPointError:
        return "nan", None


@lru_cache(maxsize=None)
def _dead_run(label, seed):
    act, lr, bias, epochs, recover = DEAD_CONFIGS[label]
    d = digits()
    Xtr = d["train"][0]
    model = make_mlp(act, DEAD_NET, seed)
    for layer in model.layers:
        if isinstance(layer, Linear):
            layer.b.data[:] = bias
    stats = ActivationStats(model)
    with np.errstate(all="ignore"), one_blas_thread():
        status, history = _phase(model, lr, seed, epochs, stats)
        silent = {i: float(m.mean()) for i, m in silent_units(model, Xtr).items()}
        val = evaluate(model, SoftmaxCrossEntropy(), *d["val"])[1] if status != "nan" else np.nan
        switch = None
        silent_end, val_end = silent, val
        if recover and status == "completed":     # an exploded net cannot go on: its next step is NaN
            switch = int(stats.steps[-1]) + 1 if len(stats) else 0
            _, history = _phase(model, GOOD_LR, seed + 1, recover, stats)
            silent_end = {i: float(m.mean()) for i, m in silent_units(model, Xtr).items()}
            val_end = evaluate(model, SoftmaxCrossEntropy(), *d["val"])[1]
    stats.remove()
    return DeadRun(label, seed, stats, status, switch, silent, silent_end, float(val), float(val_end),
                   history)


def dead_runs(label, n=DEAD_SEEDS):
    """The runs of one DEAD_CONFIGS entry on cl.seeds(n): a list of DeadRun (cached).

    The DEAD_NET (64 -> 100 -> 100 -> 100 -> 10) on the centred digits, SGD with momentum 0.9,
    batches of 64, the config's epochs at its lr (fit's explosion guard raised to 1e9, so the
    run goes on as a naive loop would), every step recorded by ActivationStats; the configs
    with a recovery phase then train more epochs at GOOD_LR (if the first phase did not
    explode), recorded by the same ActivationStats (its steps go on counting)."""
    if label not in DEAD_CONFIGS:
        raise ValueError(f"unknown configuration {label!r}; expected one of {list(DEAD_CONFIGS)}")
    return [_dead_run(label, s) for s in course_seeds(n)]


def first_dead_layer(stats, threshold=0.5):
    """The layer whose per-batch dead share first reached ``threshold``, and the training step
    when it did: (layer index in the model, step), or None if no layer reached it. On a tie
    (two layers at the same step) the one nearer the input. The reference solution of the
    exercise 'which layer died first?' (notebook 01's exercises)."""
    best = None
    for i in stats.layers:
        hits = np.flatnonzero(np.asarray(stats.dead[i]) >= threshold)     # NaN never counts
        if hits.size and (best is None or stats.steps[hits[0]] < best[1]):
            best = (int(i), int(stats.steps[hits[0]]))
    return best


# ------------------------------------------------------------------------------------------
# §7 Leaky ReLU's alpha on the circles, PReLU's slopes
# ------------------------------------------------------------------------------------------

CIRCLE_NET = (2, 32, 32, 2)
ALPHAS = (0.01, 0.1, 0.3, 0.5, 0.9)
CIRCLE_LRS = (0.003, 0.01, 0.03, 0.1, 0.3)
CIRCLE_TARGET, CIRCLE_EPOCHS, CIRCLE_SEEDS = 0.99, 60, 4


@lru_cache(maxsize=4)
def _circles(key):
    train = make_circles(400, noise=0.08, factor=0.5, rng=make_rng(1))
    test = make_circles(2000, noise=0.08, factor=0.5, rng=make_rng(2))
    return train, test


def circles():
    """Two concentric circles: 400 training points (make_rng(1)) and 2000 test points
    (make_rng(2)), noise 0.08, inner radius 0.5."""
    return _circles(tuple(course_seeds(1)))


@lru_cache(maxsize=None)
def _alpha_sweep(alphas, lrs, seeds):
    (X, y), test = circles()
    grid = [(a, lr, s) for a in alphas for lr in lrs for s in seeds]
    # the same seed gives the same weights whatever the slope (make_mlp)
    nets = [make_mlp(lambda a=a: LeakyReLU(a), CIRCLE_NET, s) for a, _, s in grid]
    runs = train_many(nets, X, y, lr=[lr for _, lr, _ in grid], epochs=CIRCLE_EPOCHS, batch_size=32,
                      momentum=0.9, orders=[np.random.default_rng(s) for _, _, s in grid],
                      until=("train", CIRCLE_TARGET), dtype=np.float32)
    shape = (len(alphas), len(lrs), len(seeds))
    curves = runs.acc["train"].reshape(shape + (CIRCLE_EPOCHS,))
    reached = curves >= CIRCLE_TARGET
    epochs = np.where(reached.any(axis=3), reached.argmax(axis=3) + 1.0, np.inf)
    test_acc = runs.evaluate(*test)[1].reshape(shape)
    final = np.array([[[c[~np.isnan(c)][-1] for c in per_lr] for per_lr in per_a] for per_a in curves])
    return {alpha: {"epochs": epochs[k], "train": final[k], "test": test_acc[k]}
            for k, alpha in enumerate(alphas)}


def alpha_sweep(alphas=ALPHAS, lrs=CIRCLE_LRS, n=CIRCLE_SEEDS):
    """Leaky ReLU(alpha) nets (CIRCLE_NET, two hidden layers of 32) on the circles, SGD with
    momentum 0.9, batches of 32, at most CIRCLE_EPOCHS epochs (a run stops when its training
    accuracy reaches CIRCLE_TARGET), each alpha at each lr of ``lrs``, on cl.seeds(n).
    Returns {alpha: {"epochs": epochs to the target (inf: not within the budget), "train":
    the training accuracy when the run stopped, "test": the stopped net's accuracy on the 2000
    test points; each (len(lrs), n)}}. Cached."""
    return _alpha_sweep(tuple(float(a) for a in alphas), tuple(float(v) for v in lrs),
                        tuple(course_seeds(n)))


def alpha_table(alphas=ALPHAS, lrs=CIRCLE_LRS, n=CIRCLE_SEEDS):
    """Per alpha at its own best lr (the most seeds reaching the target, then the fewest mean
    epochs): {alpha: {"lr": float, "epochs", "train", "test": (n,) per seed}}."""
    table = {}
    for alpha, r in alpha_sweep(alphas, lrs, n).items():
        def key(j):
            e = r["epochs"][j]
            done = np.isfinite(e)
            return (-done.sum(), e[done].mean() if done.any() else np.inf, -r["train"][j].mean())
        j = min(range(len(lrs)), key=key)
        table[alpha] = {"lr": lrs[j], "epochs": r["epochs"][j], "train": r["train"][j],
                        "test": r["test"][j]}
    return table


@lru_cache(maxsize=None)
def _prelu_slopes(seed, epochs):
    d = digits()
    rng = np.random.default_rng(seed)
    net = Sequential(Linear(64, 64, rng=rng), PReLU(64), Linear(64, 64, rng=rng), PReLU(64),
                     Linear(64, 10, rng=rng))
    opt = SGD(net.parameters(), lr=0.05, momentum=0.9)
    shuffle = np.random.default_rng(seed)
    alphas = [np.r_[net[1].alpha.data, net[3].alpha.data]]
    with one_blas_thread():
        for _ in range(epochs):
            fit(net, SoftmaxCrossEntropy(), opt, *d["train"], epochs=1, batch_size=64, rng=shuffle,
                progress=False, ratio_every=0)
            alphas.append(np.r_[net[1].alpha.data, net[3].alpha.data])
        val = evaluate(net, SoftmaxCrossEntropy(), *d["val"])[1]
    alphas = np.array(alphas)
    alphas.setflags(write=False)
    return alphas, float(val)


def prelu_slopes(seed, epochs=10):
    """A digits MLP 64 -> 64 -> 64 -> 10 with one PReLU slope per hidden unit (all 0.25 at the
    start), SGD lr 0.05 with momentum 0.9: the slopes after every epoch (epochs + 1, 128) and
    the final validation accuracy. Cached."""
    return _prelu_slopes(int(seed), int(epochs))


# ------------------------------------------------------------------------------------------
# §11 the contest
# ------------------------------------------------------------------------------------------

CONTEST_NET = (64, 64, 64, 64, 10)
CONTEST_LRS = (0.03, 0.1, 0.3)
# the sigmoid net's best rate is the top of the shared grid: it gets one more, so that its
# optimum lies inside its grid too
CONTEST_EXTRA_LRS = {"sigmoid": (1.0,)}
CONTEST_EPOCHS, CONTEST_SEEDS = 20, 3


@lru_cache(maxsize=None)
def _contest(act, lrs, seeds):
    d = digits()
    nets = [make_mlp(act, CONTEST_NET, s) for _ in lrs for s in seeds]
    orders = [np.random.default_rng(s) for _ in lrs for s in seeds]
    runs = train_many(nets, *d["train"], lr=np.repeat(lrs, len(seeds)), epochs=CONTEST_EPOCHS,
                      batch_size=64, momentum=0.9, orders=orders, evals={"val": d["val"]},
                      dtype=np.float32)
    shape = (len(lrs), len(seeds))
    return {"val": runs.acc["val"].reshape(shape + (CONTEST_EPOCHS,)),
            "test": runs.evaluate(*d["test"])[1].reshape(shape),
            "parameters": nets[0].num_parameters()}


def contest_lrs(name):
    """The learning rates the contest tries for one activation."""
    return CONTEST_LRS + CONTEST_EXTRA_LRS.get(name, ())


def contest(act, lrs=None, n=CONTEST_SEEDS):
    """The CONTEST_NET (three hidden layers of 64) on the centred digits with one activation,
    SGD momentum 0.9, batches of 64, CONTEST_EPOCHS epochs, at every lr of ``lrs`` on
    cl.seeds(n) (default lrs: ``contest_lrs(act)``). {"val": accuracy after every epoch (len(lrs), n, epochs), "test": the final
    nets' accuracy (len(lrs), n), "parameters": int}. Cached."""
    lrs = contest_lrs(act) if lrs is None else lrs
    return _contest(act, tuple(float(v) for v in lrs), tuple(course_seeds(n)))


def contest_table(names=tuple(ACTS), n=CONTEST_SEEDS):
    """Each activation at its own best lr, chosen by the mean final VALIDATION accuracy over
    the seeds; reported: the per-seed final TEST accuracy (n,), the chosen lr, the mean
    final validation accuracy at every lr, the parameter count."""
    table = {}
    for name in names:
        lrs = contest_lrs(name)
        r = contest(name, lrs, n)
        val = r["val"][:, :, -1].mean(axis=1)
        j = int(np.argmax(val))
        table[name] = {"lr": lrs[j], "test": r["test"][j], "val": r["val"][j, :, -1], "val_by_lr": val,
                       "parameters": r["parameters"]}
    return table
