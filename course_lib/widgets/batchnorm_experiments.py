"""The experiments of notebooks/04_batch_normalization.ipynb: many small MLPs trained at once.

The bench: a 6-layer ReLU MLP on the digits (64 -> 5 x 64 -> 10, He-normal weights times an
``init_scale``), with a normalization layer in front of every hidden ReLU or none:
BatchNorm1d, LayerNorm, or ``GhostBatchNorm1d`` (BatchNorm whose statistics come from
smaller "ghost" batches, Hoffer et al. 2017). Plain SGD, inputs centred with the training
mean image (as notebook 00 teaches) unless an experiment says "raw".

Every experiment repeats short runs over seeds, learning rates, init scales or batch sizes.
``train_stack`` trains M networks of the same shape together, as one stack of arrays
(weights (M, fan_in, fan_out), with the course's stacked trainer ``_stacked.py``): the
arithmetic of ``cl.fit`` with ``cl.SGD`` and ``cl.SoftmaxCrossEntropy`` run by run, each
network with its own weights, learning rate and shuffling generator, including ``cl.fit``'s
rule that a loss above 3x the first one stops a run ("diverged"). ``reference_run`` is the same run through the course's own modules and
``cl.fit``; the tests check that the two agree. A seed ``s`` gives two independent streams
(``np.random.SeedSequence(s).spawn(2)``): the initial weights and the order of the
mini-batches.

Results are cached (``functools.lru_cache``): the notebook's cells and the explorer share
every run. Public functions: ``GhostBatchNorm1d``, ``make_net``, ``streams``, ``train_stack``,
``reference_run``, ``training_data``, ``run_seeds``, and the studies ``lr_grid`` (with
``usable_lr``), ``trained_nets``, ``placement_study``, ``ghost_study``, ``small_batch_study``
and ``batch_dependence``.
"""
import copy
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..activations import ReLU
from ..data import Center, load_digits
from ..init import he_normal
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..normalization import BatchNorm1d, LayerNorm
from ..optim import SGD
from ..rng import get_rng, make_rng, seeds as course_seeds
from ..train import evaluate, fit
from ._common import one_blas_thread
from ._stacked import accuracy, fit_stacked, nll, stack

DEPTH, WIDTH, EPOCHS, BATCH_SIZE = 6, 64, 4, 64
LRS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
INIT_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
NORMS = ("none", "batch", "layer", "ghost")
EXPLODE = 3.0                 # cl.fit's rule: a loss above 3x the first one stops the run


# ------------------------------------------------------------------------------ the layer

class GhostBatchNorm1d(BatchNorm1d):
    """BatchNorm1d that, in training mode, normalizes each consecutive group of
    ``ghost_size`` examples of the batch with that group's own statistics ("ghost batch
    normalization", Hoffer, Hubara & Soudry 2017).

    The gradient step still averages over the whole batch; only the noise of the batch
    statistics is that of a batch of ``ghost_size``. The running statistics are updated once
    per ghost batch, in order, as if the groups had been fed one after the other. Evaluation
    mode is BatchNorm1d's. The batch size must be a multiple of ``ghost_size``.
    Shapes: x (N, num_features) -> (N, num_features).
    Introduced in notebooks/04_batch_normalization.ipynb.
    """

    def __init__(self, num_features, ghost_size, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        if not isinstance(ghost_size, (int, np.integer)) or ghost_size < 2:
            raise ValueError(f"GhostBatchNorm1d: ghost_size must be an integer >= 2, got {ghost_size!r}")
        self.ghost_size = int(ghost_size)
        self._groups = None

    def forward(self, x):
        if not self.training:
            self._groups = None
            return super().forward(x)
        n, g = np.shape(x)[0], self.ghost_size
        if n % g:
            raise ValueError(f"{self!r}: a training batch of {n} examples is not a multiple of "
                             f"ghost_size={g}; drop the last incomplete batch")
        outs, caches = [], []
        for start in range(0, n, g):
            outs.append(super().forward(x[start:start + g]))
            caches.append((self.x_hat, self.inv_std))
        self._groups = caches
        self.x_hat = np.concatenate([c[0] for c in caches])
        return np.concatenate(outs)

    def backward(self, dout):
        if self._groups is None:
            return super().backward(dout)
        g, parts = self.ghost_size, []
        for k, (x_hat, inv_std) in enumerate(self._groups):
            self.x_hat, self.inv_std = x_hat, inv_std
            parts.append(super().backward(dout[k * g:(k + 1) * g]))
        self.x_hat = np.concatenate([c[0] for c in self._groups])
        return np.concatenate(parts)

    def extra_repr(self):
        return super().extra_repr() + f", ghost_size={self.ghost_size}"


# ------------------------------------------------------------------------------ the bench

def streams(seed):
    """The two generators of one run: (initial weights, order of the mini-batches)."""
    init, order = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(order)


def make_net(norm="batch", init_scale=1.0, depth=DEPTH, width=WIDTH, placement="before",
             ghost_size=None, rng=None):
    """The bench MLP 64 -> width x (depth - 1) -> 10, each weight matrix He-normal x init_scale.

    ``norm``: "batch" (BatchNorm1d), "layer" (LayerNorm), "ghost" (GhostBatchNorm1d with
    ``ghost_size``) or "none". ``placement="before"``: Linear -> norm -> ReLU (the BN paper;
    the Linear has no bias, the norm's beta replaces it); "after": Linear -> ReLU -> norm.
    The output layer is a plain Linear with a bias. ``rng``: seed or Generator of the weights
    (None: the course's default generator, ``cl.set_seed``).
    Shapes: (N, 64) -> logits (N, 10).
    """
    if norm not in NORMS:
        raise ValueError(f"make_net: norm must be one of {NORMS}, got {norm!r}")
    if placement not in ("before", "after"):
        raise ValueError(f"make_net: placement must be 'before' or 'after', got {placement!r}")
    if norm == "ghost" and ghost_size is None:
        raise ValueError("make_net: norm='ghost' needs a ghost_size")
    rng = get_rng(rng)
    sizes = [64] + [width] * (depth - 1) + [10]

    def init(fan_in, fan_out, r):
        return init_scale * he_normal(fan_in, fan_out, rng=r)

    def norm_layer(d):
        return {"batch": lambda: BatchNorm1d(d), "layer": lambda: LayerNorm(d),
                "ghost": lambda: GhostBatchNorm1d(d, ghost_size)}[norm]()

    layers = []
    for i in range(depth):
        hidden = i < depth - 1
        bias = not (norm != "none" and hidden and placement == "before")
        layers.append(Linear(sizes[i], sizes[i + 1], init=init, bias=bias, rng=rng))
        if not hidden:
            break
        if norm == "none":
            layers.append(ReLU())
        elif placement == "before":
            layers += [norm_layer(sizes[i + 1]), ReLU()]
        else:
            layers += [ReLU(), norm_layer(sizes[i + 1])]
    return Sequential(*layers)


@lru_cache(maxsize=None)
def _split():
    return load_digits()


@lru_cache(maxsize=None)
def training_data(inputs="centred"):
    """(X_train, y_train, X_val, y_val, X_test, y_test) of the course split; ``inputs``:
    "centred" (minus the training mean image, fitted on the training set only) or "raw"
    (the [0, 1] pixels). Read-only arrays."""
    if inputs not in ("centred", "raw"):
        raise ValueError(f"training_data: inputs must be 'centred' or 'raw', got {inputs!r}")
    X, y, Xv, yv, Xt, yt = _split()
    if inputs == "centred":
        c = Center().fit(X)
        X, Xv, Xt = c.transform(X), c.transform(Xv), c.transform(Xt)
    out = tuple(np.array(a) for a in (X, y, Xv, yv, Xt, yt))
    for a in out:
        a.flags.writeable = False
    return out


# ------------------------------------------------------------------- the stacked trainer

@dataclass
class StackResult:
    """What ``train_stack`` measured; network m along axis 0 of every array.

    ``loss`` (M, T): the training loss of every step (NaN after a run stopped); ``stopped``
    (M,): the run diverged (a loss above 3x its first, or not finite) and stopped there, as
    ``cl.fit`` stops; ``stop_step`` (M,): that step (-1 if the run completed).
    In evaluation mode at the end: ``val_acc``, ``val_loss`` (M,) and, if asked for,
    ``train_acc`` (M,) on the training set; ``val_acc_epochs`` (M, epochs) after every epoch.
    ``val_acc_train_mode`` (M,): the accuracy on the validation set in TRAINING mode, in
    shuffled batches of the training batch size (a last batch of one joins the batch before
    it; the running statistics are left alone).
    ``nets``: copies of the input networks holding the trained parameters and buffers.
    """

    loss: np.ndarray
    stopped: np.ndarray
    stop_step: np.ndarray
    val_acc: np.ndarray
    val_loss: np.ndarray
    val_acc_epochs: np.ndarray
    train_acc: np.ndarray
    val_acc_train_mode: np.ndarray
    nets: list


def train_stack(nets, X, y, lrs, order_rngs, epochs=EPOCHS, batch_size=BATCH_SIZE,
                drop_last=False, val=None, train_acc=False, val_every_epoch=False,
                train_mode_val_rng=None, keep_nets=False, dtype=np.float64):
    """Train M networks of the same structure together with plain SGD; return a StackResult.

    Net m: its own initial weights (copied from ``nets[m]``, which stay unchanged), its own
    learning rate ``lrs[m]`` and its own generator ``order_rngs[m]`` for the order of the
    mini-batches (one permutation per epoch, as ``cl.fit(rng=...)`` draws it). Per step, as
    ``cl.fit`` with ``cl.SGD`` and ``cl.SoftmaxCrossEntropy`` (the course's stacked trainer,
    ``_stacked.fit_stacked``): forward in training mode, mean cross-entropy, and — unless the
    loss exceeded 3x the net's first loss or is not finite, which stops that net for good —
    backward and ``w -= lr * grad``. ``drop_last``: skip the last batch of an epoch when it is
    smaller than ``batch_size`` (PyTorch's DataLoader option; BatchNorm cannot normalize a
    batch of one). ``val=(X_val, y_val)``: the evaluation-mode results at the end
    (``val_every_epoch``: also after each epoch). ``train_mode_val_rng``: a generator for the
    order of the training-mode pass over the validation set (``val_acc_train_mode``).
    Shapes: X (N, 64), y (N,) integer labels.
    """
    if len(order_rngs) != len(nets):
        raise ValueError(f"train_stack: need one order generator per net ({len(nets)}), got {len(order_rngs)}")
    model = stack(nets, dtype)
    val_epochs = np.full((len(nets), epochs), np.nan) if val_every_epoch else None

    def measure(epoch, live, runs):
        val_epochs[runs, epoch - 1] = accuracy(live.forward(val[0]), val[1])

    result = {}
    with np.errstate(all="ignore"), one_blas_thread():
        hist = fit_stacked(model, X, y, orders=order_rngs, epochs=epochs, batch_size=batch_size, lr=lrs,
                           drop_last=drop_last, explode_factor=EXPLODE,
                           evaluate=measure if val_every_epoch else None)
        model.eval()
        if val is not None:
            logits = model.forward(val[0])
            result["val_acc"], result["val_loss"] = accuracy(logits, val[1]), nll(logits, val[1])
            if train_mode_val_rng is not None:
                result["val_acc_train_mode"] = _train_mode_accuracy(model, val[0], np.asarray(val[1]),
                                                                    batch_size, train_mode_val_rng)
        if train_acc:
            result["train_acc"] = accuracy(model.forward(X), y)
    stopped = hist.status == "exploded"
    if val_every_epoch:            # a stopped net keeps the weights it stopped with
        for m in np.flatnonzero(stopped):
            val_epochs[m, hist.stop_epoch[m] - 1:] = result["val_acc"][m]
    return StackResult(loss=hist.loss, stopped=stopped, stop_step=hist.stop_step,
                       val_acc=result.get("val_acc"), val_loss=result.get("val_loss"),
                       val_acc_epochs=val_epochs, train_acc=result.get("train_acc"),
                       val_acc_train_mode=result.get("val_acc_train_mode"),
                       nets=model.to_models(nets) if keep_nets else None)


def _train_mode_accuracy(model, X, y, batch_size, rng):
    """Accuracy on (X, y) with every BatchNorm in training mode (batch statistics), in
    shuffled batches of ``batch_size`` (a last batch of one joins the previous one), on a copy
    of the stack: the model's running statistics are left alone."""
    probe = model.copy().train()
    order = rng.permutation(len(X))
    batches = [order[s:s + batch_size] for s in range(0, len(X), batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [np.concatenate(batches[-2:])]
    correct = 0.0
    for idx in batches:
        logits = probe.forward(X[idx])
        correct = correct + (logits.argmax(axis=-1) == y[idx]).sum(axis=-1)
    return correct / len(X)


def reference_run(net, X, y, lr, order_rng, epochs=EPOCHS, batch_size=BATCH_SIZE,
                  drop_last=False, val=None):
    """One run through the course's modules, for the tests of ``train_stack``: ``cl.fit``
    (or, with ``drop_last``, the same loop written out, skipping the short last batch).
    Returns (losses, stopped, val_acc, trained net)."""
    net = copy.deepcopy(net)
    loss_fn = SoftmaxCrossEntropy()
    opt = SGD(net.parameters(), lr=lr)
    with np.errstate(all="ignore"):
        if not drop_last:
            try:
                hist = fit(net, loss_fn, opt, X, y, epochs=epochs, batch_size=batch_size,
                           rng=order_rng, progress=False, ratio_every=0)
                losses, stopped = np.array(hist.loss), hist.exploded
            except FloatingPointError:
                losses, stopped = None, True
        else:
            losses, stopped, n = [], False, len(X)
            net.train()
            for _ in range(epochs):
                order = order_rng.permutation(n)
                for start in range(0, n - batch_size + 1, batch_size):
                    idx = order[start:start + batch_size]
                    loss = loss_fn.forward(net(X[idx]), y[idx])
                    losses.append(loss)
                    if not np.isfinite(loss) or loss > EXPLODE * losses[0]:
                        stopped = True
                        break
                    opt.zero_grad()
                    net.backward_params(loss_fn.backward())
                    opt.step()
                if stopped:
                    break
            losses = np.array(losses)
        acc = evaluate(net, loss_fn, *val)[1] if val is not None else None
    return losses, stopped, acc, net


# ------------------------------------------------------------------------------ studies

DTYPE = np.float32            # the studies train in float32 (twice as fast; tests compare)


def run_seeds(n=3):
    """The seeds of the studies: ``cl.seeds(n)``, derived from COURSE_SEED (0, 1, 2 by default)."""
    return tuple(course_seeds(n))


def _train(norm, jobs, inputs="centred", epochs=EPOCHS, batch_size=BATCH_SIZE, drop_last=False,
           placement="before", ghost_size=None, **kw):
    """Train one stack: ``jobs`` is a list of (seed, lr, init_scale)."""
    X, y, Xv, yv, _, _ = training_data(inputs)
    nets, orders, lrs = [], [], []
    for seed, lr, scale in jobs:
        init_rng, order_rng = streams(seed)
        nets.append(make_net(norm, scale, placement=placement, ghost_size=ghost_size, rng=init_rng))
        orders.append(order_rng)
        lrs.append(lr)
    return train_stack(nets, X, y, lrs, orders, epochs=epochs, batch_size=batch_size,
                       drop_last=drop_last, val=(Xv, yv), dtype=DTYPE, **kw)


@dataclass(frozen=True)
class Grid:
    """Runs over seeds x learning rates x init scales of one net: ``val_acc``, ``stopped``
    (S, L, C), ``loss`` (S, L, C, T) per step (NaN after a stop). Read-only arrays."""

    norm: str
    inputs: str
    seeds: tuple
    lrs: tuple
    scales: tuple
    val_acc: np.ndarray
    stopped: np.ndarray
    loss: np.ndarray

    def at_scale(self, scale=1.0):
        """(val_acc, stopped), each (S, L), at one init scale."""
        c = self.scales.index(float(scale))
        return self.val_acc[:, :, c], self.stopped[:, :, c]

    def at_lr(self, lr):
        """(val_acc, stopped), each (S, C), at one learning rate."""
        j = self.lrs.index(float(lr))
        return self.val_acc[:, j, :], self.stopped[:, j, :]


def lr_grid(norm, inputs="centred", lrs=LRS, scales=INIT_SCALES, seeds=None, epochs=EPOCHS):
    """Every (seed, lr, init scale) run of the bench with ``norm`` ("batch" or "none"), for
    ``epochs`` epochs of plain SGD in batches of 64 (cached). Returns a Grid."""
    seeds = run_seeds() if seeds is None else tuple(int(s) for s in seeds)
    return _lr_grid(norm, inputs, tuple(float(v) for v in lrs), tuple(float(v) for v in scales),
                    seeds, int(epochs))


@lru_cache(maxsize=None)
def _lr_grid(norm, inputs, lrs, scales, seeds, epochs):
    jobs = [(s, lr, c) for s in seeds for lr in lrs for c in scales]
    res = _train(norm, jobs, inputs, epochs)
    shape = (len(seeds), len(lrs), len(scales))
    arrays = [res.val_acc.reshape(shape), res.stopped.reshape(shape), res.loss.reshape(shape + (-1,))]
    for a in arrays:
        a.flags.writeable = False
    return Grid(norm, inputs, seeds, lrs, scales, *arrays)


def usable_lr(val_acc, lrs, threshold=0.9):
    """Per seed, the largest learning rate of the sweep whose run reached ``threshold``
    validation accuracy (0 if none did). Shapes: val_acc (S, L), lrs (L,) -> (S,)."""
    ok = np.asarray(val_acc) >= threshold
    lrs = np.asarray(lrs, dtype=float)
    return np.array([lrs[row].max() if row.any() else 0.0 for row in ok])


def trained_nets(norm="batch", lr=0.2, seeds=None, epochs=EPOCHS, inputs="centred"):
    """The bench nets trained at one lr, one per seed, as course_lib Sequentials (cached;
    do not train them further). Returns a tuple of nets."""
    seeds = run_seeds() if seeds is None else tuple(int(s) for s in seeds)
    return _trained(norm, float(lr), seeds, int(epochs), inputs)


@lru_cache(maxsize=None)
def _trained(norm, lr, seeds, epochs, inputs):
    return tuple(_train(norm, [(s, lr, 1.0) for s in seeds], inputs, epochs, keep_nets=True).nets)


@lru_cache(maxsize=None)
def _placement(seeds, lr, epochs):
    return {p: _train("batch", [(s, lr, 1.0) for s in seeds], epochs=epochs, placement=p).val_acc
            for p in ("before", "after")}


def placement_study(lr=0.2, seeds=None, epochs=EPOCHS):
    """Validation accuracy (S,) of BN before and after the ReLU, at one lr (cached)."""
    seeds = run_seeds() if seeds is None else tuple(int(s) for s in seeds)
    return _placement(seeds, float(lr), int(epochs))


GHOST_SIZES = (4, 16, 64, 256)
GHOST_BATCH, GHOST_LR, GHOST_EPOCHS = 256, 0.5, 30


@dataclass(frozen=True)
class GhostStudy:
    """BN nets trained with the same gradient batch, lr and steps, normalized over ghost
    batches of each size: per size, arrays over seeds ``train_acc``, ``val_acc``,
    ``val_loss`` (S,) and ``val_acc_epochs`` (S, epochs), all in evaluation mode."""

    ghost_sizes: tuple
    batch_size: int
    lr: float
    epochs: int
    seeds: tuple
    train_acc: dict
    val_acc: dict
    val_loss: dict
    val_acc_epochs: dict


def ghost_study(ghost_sizes=GHOST_SIZES, batch_size=GHOST_BATCH, lr=GHOST_LR, epochs=GHOST_EPOCHS,
                seeds=None):
    """Isolate the noise of BatchNorm's batch statistics (cached): the same gradient batch
    (``batch_size``, the last incomplete batch dropped), the same lr and number of steps, the
    statistics from ghost batches of each size (``batch_size`` itself = plain BatchNorm)."""
    seeds = run_seeds() if seeds is None else tuple(int(s) for s in seeds)
    return _ghost(tuple(int(g) for g in ghost_sizes), int(batch_size), float(lr), int(epochs), seeds)


@lru_cache(maxsize=None)
def _ghost(ghost_sizes, batch_size, lr, epochs, seeds):
    train, val, loss, curves = {}, {}, {}, {}
    for g in ghost_sizes:
        if batch_size % g:
            raise ValueError(f"ghost_study: ghost size {g} does not divide the batch size {batch_size}")
        norm, size = ("batch", None) if g == batch_size else ("ghost", g)
        res = _train(norm, [(s, lr, 1.0) for s in seeds], epochs=epochs, batch_size=batch_size,
                     drop_last=True, ghost_size=size, train_acc=True, val_every_epoch=True)
        train[g], val[g], loss[g], curves[g] = res.train_acc, res.val_acc, res.val_loss, res.val_acc_epochs
    return GhostStudy(ghost_sizes, batch_size, lr, epochs, seeds, train, val, loss, curves)


SMALL_BATCHES = (2, 4, 8, 64)
SMALL_LRS = {2: (0.01, 0.02, 0.05), 4: (0.02, 0.05, 0.1), 8: (0.02, 0.05, 0.1), 64: (0.2, 0.5, 1.0)}
SMALL_EPOCHS = 3


@dataclass(frozen=True)
class SmallBatchStudy:
    """The bench with BatchNorm or LayerNorm at several batch sizes, each (norm, batch size)
    at its own best lr of a small grid (the best mean validation accuracy over the seeds).
    Per key (norm, batch_size): ``lr`` (the chosen one), ``val_acc`` (S,) in evaluation mode,
    ``val_acc_train_mode`` (S,) in training mode (batch statistics, batches of that size),
    ``grid_val_acc`` (S, L) over the whole lr grid, and ``nets`` (S,) the trained networks."""

    batch_sizes: tuple
    norms: tuple
    epochs: int
    seeds: tuple
    lr: dict
    val_acc: dict
    val_acc_train_mode: dict
    grid_val_acc: dict
    nets: dict

    def gap(self, norm, batch_size):
        """Evaluation-mode minus training-mode validation accuracy (S,)."""
        return self.val_acc[norm, batch_size] - self.val_acc_train_mode[norm, batch_size]


def small_batch_study(batch_sizes=SMALL_BATCHES, norms=("batch", "layer"), epochs=SMALL_EPOCHS,
                      seeds=None):
    """BatchNorm against LayerNorm at small batch sizes (cached): the same net, ``epochs``
    epochs at every batch size (the last incomplete batch dropped), lr grids ``SMALL_LRS``."""
    seeds = run_seeds() if seeds is None else tuple(int(s) for s in seeds)
    return _small(tuple(int(b) for b in batch_sizes), tuple(norms), int(epochs), seeds)


@lru_cache(maxsize=None)
def _small(batch_sizes, norms, epochs, seeds):
    out = {k: {} for k in ("lr", "val", "train_mode", "grid", "nets")}
    for norm in norms:
        for b in batch_sizes:
            lrs = SMALL_LRS[b]
            res = _train(norm, [(s, lr, 1.0) for s in seeds for lr in lrs], epochs=epochs,
                         batch_size=b, drop_last=True, keep_nets=True,
                         train_mode_val_rng=np.random.default_rng(seeds[0] + 7))
            grid = res.val_acc.reshape(len(seeds), len(lrs))
            best = int(np.argmax(grid.mean(axis=0)))
            pick = np.arange(len(seeds)) * len(lrs) + best
            out["lr"][norm, b] = lrs[best]
            out["grid"][norm, b] = grid
            out["val"][norm, b] = res.val_acc[pick]
            out["train_mode"][norm, b] = res.val_acc_train_mode[pick]
            out["nets"][norm, b] = [res.nets[i] for i in pick]
    return SmallBatchStudy(batch_sizes, norms, epochs, seeds, out["lr"], out["val"],
                           out["train_mode"], out["grid"], out["nets"])


def batch_dependence(net, X, examples=40, contexts=10, batch_size=8, rng=None):
    """How much does a prediction depend on the rest of its batch, in TRAINING mode?

    Each of the first ``examples`` rows of X is put into ``contexts`` batches of
    ``batch_size`` with companions drawn at random from the other rows, and classified with
    the net in training mode (buffers put back). Returns (changed, spread): the share of the
    examples whose predicted class is not the same in every context, and the largest
    difference of one logit between two contexts. The net's mode is restored. ``rng``: seed or
    Generator of the companions (None: derived from COURSE_SEED, ``make_rng(0)``).
    """
    rng = make_rng(0) if rng is None else get_rng(rng)
    X = np.asarray(X, dtype=np.float64)
    was, state = net.training, net.state_dict()
    net.train()
    changed, spread = 0, 0.0
    try:
        for i in range(examples):
            others = np.delete(np.arange(len(X)), i)
            logits = np.array([net.forward(np.r_[X[i:i + 1], X[rng.choice(others, batch_size - 1,
                                                                           replace=False)]])[0]
                               for _ in range(contexts)])
            changed += len(set(logits.argmax(axis=1))) > 1
            spread = max(spread, float(np.ptp(logits, axis=0).max()))
    finally:
        net.load_state_dict(state)
        net.train(was)
    return changed / examples, spread


# ------------------------------------------------------------------------------ figures

_NET_STYLE = {"batch": ("tab:blue", "with BN"), "none": ("tab:red", "without BN"),
              "layer": ("tab:green", "LayerNorm")}


def _log_ticks(ax, values):
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(values, [f"{v:g}" for v in values])


def draw_lr_sweeps(centred, raw, epochs=EPOCHS):
    """Validation accuracy against the learning rate, every seed and the mean, with and
    without BN: inputs centred (left) and raw [0, 1] pixels (right). ``centred``/``raw``:
    dicts net -> Grid with the init scale 1. Returns the figure (8.4 x 3.3 in)."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3), sharey=True)
    for ax, grids, title in ((axes[0], centred, "inputs centred (both nets)"),
                             (axes[1], raw, "raw [0, 1] pixels (no preprocessing)")):
        for net in ("batch", "none"):
            color, name = _NET_STYLE[net]
            acc, _ = grids[net].at_scale(1.0)
            plot_seeds(grids[net].lrs, acc, ax=ax, label=name, color=color)
        _log_ticks(ax, grids["batch"].lrs)
        ax.axhline(0.9, color="0.5", ls=":", lw=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("learning rate (log scale)")
        ax.legend(fontsize=8.5, loc="lower left")
    axes[0].set_ylabel(f"validation accuracy after {epochs} epochs")
    axes[0].set_ylim(0, 1.02)
    fig.tight_layout()
    return fig


def draw_init_scales(grids, lr=0.2, epochs=EPOCHS):
    """Validation accuracy against the init scale at one lr, every seed and the mean, with and
    without BN. Returns the figure (6 x 3.2 in)."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    for net in ("batch", "none"):
        color, name = _NET_STYLE[net]
        acc, _ = grids[net].at_lr(lr)
        plot_seeds(grids[net].scales, acc, ax=ax, label=name, color=color)
    _log_ticks(ax, grids["batch"].scales)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("init scale (× He-normal, log scale)")
    ax.set_ylabel(f"val. accuracy after {epochs} epochs")
    ax.set_title(f"lr = {lr:g}, inputs centred", fontsize=10)
    ax.legend(fontsize=8.5, loc="center left")
    fig.tight_layout()
    return fig


def draw_ghost(study):
    """Left: validation accuracy per epoch for each ghost-batch size (mean over the seeds and
    the min–max band); right: the final validation accuracy of every seed per ghost size.
    Colour by the ghost-batch size. Returns the figure (8.4 x 3.3 in)."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.3), gridspec_kw={"width_ratios": [1.5, 1]})
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(study.ghost_sizes)))
    epochs = np.arange(1, study.epochs + 1)
    for color, g in zip(colors, study.ghost_sizes):
        v = study.val_acc_epochs[g]
        label = f"{g}" + (" (= plain BN)" if g == study.batch_size else "")
        ax1.plot(epochs, v.mean(axis=0), color=color, lw=2, label=label)
        ax1.fill_between(epochs, v.min(axis=0), v.max(axis=0), color=color, alpha=0.2, lw=0)
        final = study.val_acc[g]
        i = study.ghost_sizes.index(g)
        ax2.scatter(i + np.linspace(-0.1, 0.1, len(final)), final, color=color, s=28, zorder=3)
        ax2.hlines(final.mean(), i - 0.25, i + 0.25, color=color, lw=2.5)
    ax1.set_ylim(0.75, 1.0)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("validation accuracy (eval mode)")
    ax1.set_title(f"batch {study.batch_size}, lr {study.lr:g}: ghost-batch size", fontsize=10)
    ax1.legend(title="statistics over", fontsize=8.5, title_fontsize=8.5, loc="lower right", ncol=2)
    ax2.set_xticks(range(len(study.ghost_sizes)), [str(g) for g in study.ghost_sizes])
    ax2.set_xlabel("ghost-batch size")
    ax2.set_ylabel("final validation accuracy")
    ax2.set_title(f"after {study.epochs} epochs, {len(study.seeds)} seeds", fontsize=10)
    fig.tight_layout()
    return fig


def draw_small_batches(study):
    """Validation accuracy against the batch size: BatchNorm in evaluation mode (running
    statistics), BatchNorm in training mode (batch statistics), LayerNorm (the same in both
    modes); every seed and the mean. Returns the figure (7 x 3.4 in)."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    b = list(study.batch_sizes)
    rows = [("BatchNorm, eval mode (running statistics)", "tab:blue", "o",
             np.stack([study.val_acc["batch", k] for k in b], axis=1)),
            ("BatchNorm, training mode (batch statistics)", "tab:cyan", "s",
             np.stack([study.val_acc_train_mode["batch", k] for k in b], axis=1)),
            ("LayerNorm (both modes)", "tab:green", "^",
             np.stack([study.val_acc["layer", k] for k in b], axis=1))]
    for label, color, marker, values in rows:
        plot_seeds(b, values, ax=ax, label=label, color=color, marker=marker)
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set_xticks(b, [str(k) for k in b])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("batch size (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"{study.epochs} epochs at every batch size, each at its best lr", fontsize=10)
    ax.legend(fontsize=8.5, loc="lower right")
    fig.tight_layout()
    return fig
