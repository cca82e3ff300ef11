"""The real-data experiments of notebooks/06_optimizers.ipynb, each run on several seeds.

The bench is the digits split of the course (``cl.data.load_digits``) with the inputs centred
by the training set's mean image (``cl.data.Center``, notebook 00), and a ReLU MLP with He
initialization (64 -> 64 -> ... -> 10). A run is identified by its seed: the weights come from
``np.random.default_rng(seed)``, the order of the mini-batches (and any other random
ingredient) from ``np.random.default_rng([seed, k])`` with its own stream k, so that two
methods compared on the same seed start from the same weights and see the same batches.
Defaults take their seeds from ``COURSE_SEED`` (``cl.seeds``).

Experiments (each returns per-seed numbers, drawn by the matching ``draw_*`` function):
``batch_size_study`` (section 1: batch size with its own learning rate), ``start_losses``
(section 5: the first steps of Adam with and without bias correction), ``warmup_study``
(section 7: Adam at a high rate with and without warm-up), ``clip_every_step`` and
``spike_study`` (section 8: clipping that acts on every step, and clipping of rare spikes),
``optimizer_scan`` (section 11: six optimizers over a grid of rates) and ``averaging_study``
(section 12: the last iterate against averages of the weights).
"""
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import init as _init
from ..activations import ReLU
from ..averaging import AveragedModel
from ..clip import clip_grad_norm
from ..data import Center, load_digits
from ..experiments import SeedRuns
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Sequential
from ..optim import SGD, AdaGrad, Adam, RMSProp
from ..rng import course_seed, seeds as course_seeds
from ..schedules import CosineWarmupLR
from ..train import evaluate, fit
from ._common import one_blas_thread
from .optimizers import OPTIMIZERS, STYLES

LOSS = SoftmaxCrossEntropy()


def _seeds(seeds, n=3):
    return course_seeds(n) if seeds is None else [int(s) for s in seeds]


def _rng(seed, stream):
    """The generator of one random ingredient (``stream`` >= 1) of the run with this seed."""
    return np.random.default_rng([int(seed), int(stream)])


@lru_cache(maxsize=4)
def _digits(course):
    Xtr, ytr, Xval, yval, _, _ = load_digits()
    center = Center().fit(Xtr)
    out = (center.transform(Xtr), ytr, center.transform(Xval), yval)
    for a in out:
        a.setflags(write=False)
    return out


def digits():
    """The course's digits split (seeded by COURSE_SEED), inputs centred with the training
    mean: (X_train, y_train, X_val, y_val), read-only. Shapes: X (N, 64), y (N,)."""
    return _digits(course_seed())


def mlp(seed, depth=2, width=64, scale=1.0):
    """A ReLU MLP 64 -> width (x depth - 1) -> 10 with He-normal weights times ``scale``, drawn
    from ``np.random.default_rng(seed)``. depth = number of Linear layers."""
    rng = np.random.default_rng(int(seed))

    def he(fan_in, fan_out, rng=None):
        return scale * _init.he_normal(fan_in, fan_out, rng=rng)

    layers, fan_in = [], 64
    for _ in range(depth - 1):
        layers += [Linear(fan_in, width, init=he, rng=rng), ReLU()]
        fan_in = width
    return Sequential(*layers, Linear(fan_in, 10, init=he, rng=rng))


def make_optimizer(name, params, lr):
    """The optimizers of the real-data comparison (section 11): PyTorch's defaults, beta 0.9
    for momentum and Nesterov."""
    if name == "SGD":
        return SGD(params, lr)
    if name == "momentum":
        return SGD(params, lr, momentum=0.9)
    if name == "Nesterov":
        return SGD(params, lr, momentum=0.9, nesterov=True)
    if name == "AdaGrad":
        return AdaGrad(params, lr)
    if name == "RMSProp":
        return RMSProp(params, lr)
    if name == "Adam":
        return Adam(params, lr)
    raise ValueError(f"make_optimizer: unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def _full_loss(model, X, y):
    return LOSS.forward(model.forward(X), y)


# ------------------------------------------------------------------ section 1: batch size

# each batch size gets its own grid (a rate that works for B = 1 is far too small for the
# full batch); the shared rate 0.1 of the first comparison is in every grid
BATCH_GRIDS = {1: (0.03, 0.1, 0.3), 32: (0.1, 1.0, 3.0, 10.0), "full": (0.1, 3.0, 10.0, 30.0)}
SHARED_LR = 0.1


def sgd_run(batch_size, lr, steps, seed, record):
    """Plain mini-batch SGD on the digits MLP for ``steps`` steps (a new shuffle every epoch,
    the last partial batch dropped); the full training loss after each step in ``record``
    (inf from the step where a batch loss turned non-finite or above 10 on).
    Shapes: returns (len(record),)."""
    X, y, _, _ = digits()
    n = len(X)
    model, rng = mlp(seed), _rng(seed, 1)
    opt = SGD(model.parameters(), lr=lr)
    record = sorted(set(int(r) for r in record))
    out, pos, order = {}, n, None
    for step in range(1, steps + 1):
        if pos + batch_size > n:
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        loss = LOSS.forward(model.forward(X[idx]), y[idx])
        if not np.isfinite(loss) or loss > 10.0:
            break
        opt.zero_grad()
        model.backward_params(LOSS.backward())
        opt.step()
        if step in record:
            out[step] = _full_loss(model, X, y)
    return np.array([out.get(r, np.inf) for r in record])


@dataclass
class BatchStudy:
    """Loss curves of SGD for several batch sizes and rates. ``steps[B]``: the recorded step
    numbers; ``loss[B][lr]``: array (n_seeds, len(steps[B])); ``n``: the training set size."""

    n: int
    seeds: list
    steps: dict
    loss: dict
    budget: dict = field(default_factory=dict)

    def examples(self, B):
        return self.steps[B] * B

    def at(self, B, lr, step):
        """Per-seed losses of (B, lr) at a recorded step."""
        return self.loss[B][lr][:, list(self.steps[B]).index(step)]

    def best_lr(self, B):
        """The rate of the grid with the lowest mean final loss (exploded runs count as inf)."""
        return min(self.loss[B], key=lambda lr: np.mean(self.loss[B][lr][:, -1]))


def batch_size_study(seeds=None, epochs_small=2, steps_large=100):
    """Section 1: B = 1 for ``epochs_small`` epochs of examples, B = 32 and the full batch for
    ``steps_large`` steps, each over its own grid of rates (BATCH_GRIDS), on every seed.
    The full batch is stored under its size N. Returns a BatchStudy."""
    seeds = _seeds(seeds)
    n = len(digits()[0])
    sizes = {1: epochs_small * n, 32: steps_large, n: steps_large}
    steps, loss = {}, {}
    with one_blas_thread():
        for B, total in sizes.items():
            marks = np.unique(np.r_[np.geomspace(1, total, 28).astype(int), max(1, n // B),
                                    max(1, epochs_small * n // B), min(total, steps_large)])
            marks = marks[marks <= total]
            steps[B] = marks
            grid = BATCH_GRIDS["full" if B == n else B]
            loss[B] = {lr: np.array([sgd_run(B, lr, total, s, marks) for s in seeds]) for lr in grid}
    return BatchStudy(n, seeds, steps, loss, budget=sizes)


def draw_batch_sizes(study, axes=None):
    """Two panels: training loss against examples seen and against steps, each batch size at
    its own best rate (solid, mean of the seeds with their min-max band) and at the shared
    rate 0.1 (dashed, where that is not already its best). Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.1), sharey=True)
    fig = axes[0].figure
    colors = {1: "tab:red", 32: "tab:blue", study.n: "tab:green"}
    names = {1: "B = 1", 32: "B = 32", study.n: f"B = {study.n} (full)"}
    for ax, per_example in zip(axes, (True, False)):
        for B in (1, 32, study.n):
            x = study.examples(B) if per_example else study.steps[B]
            best = study.best_lr(B)
            variants = [(best, "-", 1.8)] + ([(SHARED_LR, "--", 1.1)] if best != SHARED_LR else [])
            for lr, ls, width in variants:
                v = np.where(np.isfinite(study.loss[B][lr]), study.loss[B][lr], np.nan)
                label = f"{names[B]}, lr {lr:g}" + (" (its best)" if ls == "-" else "")
                ax.plot(x, np.nanmean(v, axis=0), ls=ls, lw=width, color=colors[B],
                        label=label if per_example else None)
                if ls == "-":
                    ax.fill_between(x, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=colors[B],
                                    alpha=0.18, lw=0)
        ax.set(xscale="log", yscale="log", xlabel="examples seen (log)" if per_example else "steps (log)")
        ax.grid(alpha=0.3)
    axes[0].set(ylabel="training loss (full set, log)", title="per example seen")
    axes[1].set(title="per step")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return axes


# ------------------------------------------------------------------ section 5: the first steps

def start_losses(make_opt, seeds=None, steps=10, lr=None):
    """The first ``steps`` mini-batch losses of the digits MLP (batch 64) with the optimizer
    ``make_opt(params)``, per seed; ``jump`` = the largest of them / the first. A run that
    ``cl.fit`` stops as exploded (loss > 3x the first) is padded with its last loss.
    Returns SeedRuns with ``jump`` (n,) and ``loss`` (n, steps)."""
    X, y, _, _ = digits()

    def run(seed):
        model = mlp(seed)
        h = fit(model, LOSS, make_opt(model.parameters()), X, y, epochs=1, batch_size=64,
                rng=_rng(seed, 1), progress=False, ratio_every=0)
        loss = np.array(h.loss[:steps])
        loss = np.r_[loss, np.full(steps - len(loss), loss[-1])]
        return {"jump": loss.max() / loss[0], "loss": loss, "exploded": float(h.exploded)}

    with one_blas_thread():
        return SeedRuns(_seeds(seeds), [run(s) for s in _seeds(seeds)])


# ------------------------------------------------------------------ section 7: warm-up

def warmup_study(seeds=None, warmups=(0, 20), lr=0.1, depth=4, epochs=10, watch=60):
    """Adam at a high rate on a ``depth``-layer MLP, with a cosine decay over the whole run
    and a linear warm-up of ``warmup`` steps (0 = none; ``cl.CosineWarmupLR``), per seed.

    Per warm-up: SeedRuns with ``jump`` (the largest batch loss of the first ``watch`` steps /
    the first), ``exploded`` (1 if cl.fit stopped the run: a loss above 3x the first),
    ``val_acc`` (at the end; 0.1 = chance for an exploded run) and ``loss`` (n, watch).
    Returns dict warmup -> SeedRuns.
    """
    X, y, Xv, yv = digits()
    steps_per_epoch = -(-len(X) // 64)

    def run(seed, warmup):
        model = mlp(seed, depth=depth)
        opt = Adam(model.parameters(), lr=lr)
        sched = CosineWarmupLR(opt, warmup=warmup, total=epochs * steps_per_epoch)
        h = fit(model, LOSS, opt, X, y, epochs=epochs, batch_size=64, rng=_rng(seed, 1),
                val=(Xv, yv), scheduler=sched, schedule_every="step", progress=False, ratio_every=0)
        loss = np.array(h.loss[:watch])
        jump = loss.max() / loss[0]
        loss = np.r_[loss, np.full(watch - len(loss), np.nan)]
        acc = h.val_acc[-1] if (h.status == "completed" and h.val_acc) else 0.1
        return {"jump": jump, "exploded": float(h.exploded), "val_acc": acc, "loss": loss}

    seeds = _seeds(seeds)
    with one_blas_thread():
        return {w: SeedRuns(seeds, [run(s, w) for s in seeds]) for w in warmups}


def draw_warmup(study, axes=None):
    """Left: the batch losses of the first steps, one faint line per seed and warm-up; right:
    the validation accuracy per seed (exploded runs at chance). Returns the axes."""
    import matplotlib.pyplot as plt

    from ..plots import plot_seed_points

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.5), gridspec_kw=dict(width_ratios=(1.6, 1)))
    colors = ("tab:red", "tab:blue", "tab:green")
    for (w, runs), color in zip(study.items(), colors):
        loss = runs["loss"] / runs["loss"][:, :1]
        for i, row in enumerate(loss):
            axes[0].plot(np.arange(1, len(row) + 1), row, color=color, lw=1.0, alpha=0.7,
                         label=(f"warm-up {w} steps" if w else "no warm-up") if i == 0 else None)
    axes[0].axhline(1.0, color="grey", lw=0.7, ls=":")
    axes[0].axhline(3.0, color="k", lw=0.7, ls="--")
    axes[0].text(loss.shape[1], 3.08, "cl.fit stops a run above 3×", fontsize=9, ha="right")
    axes[0].set(xlabel="step", ylabel="batch loss / first loss", ylim=(0, 4.2),
                title="the first steps, one line per seed")
    axes[0].legend(fontsize=9, loc="upper right")
    groups = {(f"warm-up {w}" if w else "no warm-up"): runs["val_acc"] for w, runs in study.items()}
    plot_seed_points(groups, ax=axes[1], ylabel="validation accuracy", title="end of training\n(exploded run = 0.1)",
                     colors=list(colors[:len(groups)]))
    axes[0].figure.tight_layout()
    return axes


# ------------------------------------------------------------------ section 8: clipping

def train_clipped(model, lr, epochs=5, clip=None, momentum=0.9, seed=0, spikes=(), spike_std=3.0):
    """SGD + momentum on the digits (batch 64, a new shuffle every epoch from stream 1 of
    ``seed``) with optional clipping by global norm at ``clip``; the steps listed in
    ``spikes`` train on an outlier batch instead: 64 noise images (Gaussian pixels of std
    ``spike_std``) with random labels (stream 2). Returns dict with the per-step gradient
    ``norm`` before clipping, ``clipped`` (bool per step), ``spike`` (bool per step), ``loss``
    and the final ``val_acc`` (0.1, chance, if the loss turned non-finite)."""
    X, y, Xv, yv = digits()
    n = len(X)
    order_rng, spike_rng = _rng(seed, 1), _rng(seed, 2)
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    params = model.parameters()
    spikes = set(int(s) for s in spikes)
    norms, clipped, is_spike, losses = [], [], [], []
    step, broken = 0, False
    for _ in range(epochs):
        order = order_rng.permutation(n)
        for start in range(0, n, 64):
            idx = order[start:start + 64]
            xb, yb = X[idx], y[idx]
            if step in spikes:
                xb = spike_std * spike_rng.standard_normal(xb.shape)
                yb = spike_rng.integers(0, 10, len(yb))
            with np.errstate(all="ignore"):
                loss = LOSS.forward(model.forward(xb), yb)
            if not np.isfinite(loss):
                broken = True
                break
            opt.zero_grad()
            with np.errstate(over="ignore", invalid="ignore"):
                model.backward_params(LOSS.backward())
            with np.errstate(over="ignore", invalid="ignore"):      # a diverging run: inf norms
                total = clip_grad_norm(params, np.inf if clip is None else clip)
            norms.append(total)
            clipped.append(clip is not None and total > clip)
            is_spike.append(step in spikes)
            losses.append(loss)
            opt.step()
            step += 1
        if broken:
            break
    with np.errstate(all="ignore"):
        acc = 0.1 if broken else evaluate(model, LOSS, Xv, yv)[1]
    if not np.isfinite(acc):
        acc = 0.1
    return dict(norm=np.array(norms), clipped=np.array(clipped, dtype=bool),
                spike=np.array(is_spike, dtype=bool), loss=np.array(losses), val_acc=float(acc))


def clip_every_step(seeds=None, clip=1.0, lr=0.1, small_lrs=(0.01, 0.03), depth=8, scale=1.4, epochs=5):
    """The 8-layer net with weights 1.4x He (notebook 02's exploding start): SGD + momentum at
    ``lr`` with clipping at ``clip``, without clipping, and without clipping at smaller rates.
    Returns SeedRuns with ``clipped_share`` and ``val_acc`` per variant (``val_plain``,
    ``val_lr<r>``)."""
    def run(seed):
        out = {}
        r = train_clipped(mlp(seed, depth, scale=scale), lr, epochs, clip=clip, seed=seed)
        out["clipped_share"] = r["clipped"].mean()
        out["median_norm"] = float(np.median(r["norm"]))
        out["val_clipped"] = r["val_acc"]
        out["val_plain"] = train_clipped(mlp(seed, depth, scale=scale), lr, epochs, seed=seed)["val_acc"]
        for small in small_lrs:
            out[f"val_lr{small:g}"] = train_clipped(mlp(seed, depth, scale=scale), small, epochs,
                                                    seed=seed)["val_acc"]
        return out

    with one_blas_thread():
        return SeedRuns(_seeds(seeds), [run(s) for s in _seeds(seeds)])


@dataclass
class SpikeStudy:
    """Per seed: the clean run, the run with outlier batches (``spiky``), the same with
    clipping at ``clip`` (2x the clean run's median norm) and a spiky run at a lower rate.
    ``runs[name][i]`` is train_clipped's dict for seed i; ``clip[i]`` the threshold."""

    seeds: list
    spike_steps: list
    clip: np.ndarray
    runs: dict
    lr: float
    low_lr: float

    def val_acc(self, name):
        return np.array([r["val_acc"] for r in self.runs[name]])

    def clipped_share(self, spikes):
        """Share of clipped steps among the spike steps (spikes=True) or the ordinary ones."""
        return np.array([r["clipped"][r["spike"] == spikes].mean() for r in self.runs["clipped"]])


def spike_study(seeds=None, lr=0.1, low_lr=0.03, depth=4, epochs=5, n_spikes=3, factor=2.0):
    """Section 8: a well-initialized ``depth``-layer MLP, SGD + momentum at ``lr``, with
    ``n_spikes`` outlier batches at random steps (stream 3 of the seed, after the first
    epoch). Clipping threshold: ``factor`` x the median gradient norm of the clean run of the
    same seed. Returns a SpikeStudy."""
    seeds = _seeds(seeds)
    steps_total = epochs * -(-len(digits()[0]) // 64)
    runs = {k: [] for k in ("clean", "spiky", "clipped", "low_lr")}
    thresholds, where = [], []
    with one_blas_thread():
        for seed in seeds:
            at = np.sort(_rng(seed, 3).choice(np.arange(steps_total // 5, steps_total - 5), n_spikes,
                                              replace=False))
            where.append(at)
            clean = train_clipped(mlp(seed, depth), lr, epochs, seed=seed)
            c = factor * float(np.median(clean["norm"]))
            thresholds.append(c)
            runs["clean"].append(clean)
            runs["spiky"].append(train_clipped(mlp(seed, depth), lr, epochs, seed=seed, spikes=at))
            runs["clipped"].append(train_clipped(mlp(seed, depth), lr, epochs, clip=c, seed=seed, spikes=at))
            runs["low_lr"].append(train_clipped(mlp(seed, depth), low_lr, epochs, seed=seed, spikes=at))
    return SpikeStudy(seeds, where, np.array(thresholds), runs, lr, low_lr)


def draw_spikes(study, axes=None):
    """Left: the gradient norms of the first seed's spiky run with its threshold and the spike
    steps; right: validation accuracy per seed for the four variants. Returns the axes."""
    import matplotlib.pyplot as plt

    from ..plots import plot_seed_points

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.6), gridspec_kw=dict(width_ratios=(1.3, 1)))
    r = study.runs["clipped"][0]
    t = np.arange(len(r["norm"]))
    axes[0].semilogy(t, r["norm"], color="tab:blue", lw=1.2, label="‖g‖ before clipping")
    axes[0].semilogy(t[r["spike"]], r["norm"][r["spike"]], "rv", ms=7, zorder=3, label="outlier batch")
    axes[0].axhline(study.clip[0], color="k", ls="--", lw=1.0, label=f"c = 2 × median = {study.clip[0]:.2f}")
    axes[0].set(xlabel="step", ylabel="global gradient norm (log)",
                title=f"seed {study.seeds[0]}: {int(r['clipped'].sum())} of {len(t)} steps clipped")
    lo = float(r["norm"].min())
    axes[0].set_ylim(lo / 6, None)
    axes[0].legend(fontsize=9, loc="lower left", ncol=2)
    axes[0].grid(alpha=0.3)
    groups = {"clean": study.val_acc("clean"), "spikes": study.val_acc("spiky"),
              "spikes\n+ clip": study.val_acc("clipped"), f"spikes\nlr {study.low_lr:g}": study.val_acc("low_lr")}
    plot_seed_points(groups, ax=axes[1], ylabel="validation accuracy",
                     title=f"{len(study.seeds)} seeds, lr {study.lr:g}",
                     colors=["tab:green", "tab:red", "tab:blue", "tab:orange"])
    axes[1].tick_params(axis="x", labelsize=9)
    axes[0].figure.tight_layout()
    return axes


# ------------------------------------------------------------------ section 11: the scan

SCAN_GRID = 10.0 ** np.arange(-3.0, 1.25, 0.5)


@dataclass
class Scan:
    """The real-data comparison. ``final[name]``: (n_seeds, len(grid)) training loss after the
    last epoch (nan where the run exploded); ``curves[name]``: (n_seeds, len(grid), epochs);
    ``val_acc[name]``: (n_seeds, len(grid)) final validation accuracy (nan if exploded)."""

    grid: np.ndarray
    seeds: list
    epochs: int
    final: dict
    curves: dict
    val_acc: dict

    def mean_final(self, name):
        v = self.final[name]
        out = np.full(v.shape[1], np.nan)
        ok = np.isfinite(v).all(axis=0)            # a rate counts only if no seed exploded
        out[ok] = v[:, ok].mean(axis=0)
        return out

    def best(self, name):
        """Index of the rate with the lowest mean final loss (over rates where no seed exploded)."""
        return int(np.nanargmin(self.mean_final(name)))

    def best_per_seed(self, name):
        return np.array([int(np.nanargmin(row)) for row in self.final[name]])

    def first_exploding(self, name):
        """Index of the smallest rate at which some seed exploded (len(grid) if none)."""
        bad = np.flatnonzero(~np.isfinite(self.final[name]).all(axis=0))
        return int(bad[0]) if bad.size else len(self.grid)

    def width(self, name, within=3.0):
        """How many grid rates have a mean final loss within ``within`` x of the best."""
        m = self.mean_final(name)
        return int(np.sum(m <= within * np.nanmin(m)))


def optimizer_scan(seeds=None, grid=SCAN_GRID, epochs=10, names=OPTIMIZERS):
    """Section 11: the digits MLP (batch 64) with every optimizer over the same log grid of
    rates for ``epochs`` epochs, on every seed. Returns a Scan."""
    X, y, Xv, yv = digits()
    seeds = _seeds(seeds)
    final, curves, val = {}, {}, {}
    with one_blas_thread():
        for name in names:
            final[name] = np.full((len(seeds), len(grid)), np.nan)
            curves[name] = np.full((len(seeds), len(grid), epochs), np.nan)
            val[name] = np.full((len(seeds), len(grid)), np.nan)
            for i, seed in enumerate(seeds):
                for j, lr in enumerate(grid):
                    model = mlp(seed)
                    h = fit(model, LOSS, make_optimizer(name, model.parameters(), lr), X, y,
                            epochs=epochs, batch_size=64, rng=_rng(seed, 1), val=(Xv, yv),
                            progress=False, ratio_every=0)
                    if h.status == "completed":
                        final[name][i, j] = h.train_loss[-1]
                        curves[name][i, j] = h.train_loss
                        val[name][i, j] = h.val_acc[-1]
    return Scan(np.asarray(grid), seeds, epochs, final, curves, val)


def draw_scan(scan, axes=None):
    """Left: each optimizer's mean final loss / its best, against lr / its best lr (so that
    the widths of the valleys compare), the seeds' min-max as a band, exploded rates as
    crosses in a grey strip (one row per optimizer); right: the training curves at each
    optimizer's best rate (mean and band). One legend for both. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 4.4), gridspec_kw=dict(width_ratios=(1.2, 1)))
    ax, ax_c = axes
    fig = ax.figure
    top, gap = 300.0, 1.35
    handles = []
    for k, name in enumerate(scan.final):
        color, ls = STYLES[name]["color"], STYLES[name]["ls"]
        b = scan.best(name)
        ref = scan.mean_final(name)[b]
        rel = scan.grid / scan.grid[b]
        v = scan.final[name] / ref
        ok = np.isfinite(v).all(axis=0)
        line, = ax.plot(rel[ok], v[:, ok].mean(axis=0), marker="o", ms=3.5, lw=1.5, color=color, ls=ls,
                        label=f"{name}, best lr {scan.grid[b]:.2g}")
        handles.append(line)
        ax.fill_between(rel[ok], v[:, ok].min(axis=0), v[:, ok].max(axis=0), color=color, alpha=0.12, lw=0)
        blown = ~ok
        ax.plot(rel[blown], np.full(blown.sum(), top * gap ** k), "x", ms=6, mew=1.6, color=color)
        c = scan.curves[name][:, b]
        ep = np.arange(1, scan.epochs + 1)
        ax_c.plot(ep, c.mean(axis=0), color=color, ls=ls, lw=1.5)
        ax_c.fill_between(ep, c.min(axis=0), c.max(axis=0), color=color, alpha=0.12, lw=0)
    n = len(scan.final)
    ax.axhline(3.0, color="grey", lw=0.8, ls=":")
    ax.text(2e-4, 3.3, "3× the best", fontsize=9, color="0.35")
    ax.axhspan(top / gap, top * gap ** n, color="0.92", zorder=0)
    ax.text(2e-4, top * gap ** (n / 2 - 0.5), "exploded\n(any seed)", fontsize=9, color="0.35", va="center")
    ax.set(xscale="log", yscale="log", xlabel="lr / its best lr (log)", xlim=(1e-4, 3e3),
           ylabel="final loss / its best (log)", ylim=(0.7, top * gap ** n),
           title=f"after {scan.epochs} epochs, mean of {len(scan.seeds)} seeds")
    ax.grid(alpha=0.3)
    ax_c.set(yscale="log", xlabel="epoch", ylabel="training loss (log)", title="each at its best rate")
    ax_c.grid(alpha=0.3)
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    return axes


# ------------------------------------------------------------------ section 12: averaging

def averaging_study(seeds=None, lrs=(1.0, 0.3), momentum=0.9, epochs=10, batch_size=64, decay=0.98):
    """Section 12: SGD + momentum at a constant rate on the digits MLP; the last iterate
    against an EMA of the weights (``decay``, updated every step) and an equal-weight (SWA)
    average of every step of the second half, plus the best epoch's validation loss of the
    last iterate (what early stopping would keep). Per rate: SeedRuns with ``val_loss_*`` and
    ``val_acc_*`` for last, ema, swa, and ``val_loss_best_epoch``. Returns dict lr -> SeedRuns."""
    X, y, Xv, yv = digits()
    steps_per_epoch = -(-len(X) // batch_size)

    def run(seed, lr):
        model = mlp(seed)
        ema = AveragedModel(model, decay=decay)
        swa = AveragedModel(model, start=steps_per_epoch * epochs // 2)
        h = fit(model, LOSS, SGD(model.parameters(), lr=lr, momentum=momentum), X, y, epochs=epochs,
                batch_size=batch_size, rng=_rng(seed, 1), val=(Xv, yv), progress=False,
                ratio_every=0, callbacks=[ema, swa])
        out = {}
        for key, m in (("last", model), ("ema", ema), ("swa", swa)):
            out[f"val_loss_{key}"], out[f"val_acc_{key}"] = evaluate(m, LOSS, Xv, yv)
        out["val_loss_best_epoch"] = min(h.val_loss)
        out["exploded"] = float(h.exploded)
        return out

    seeds = _seeds(seeds)
    with one_blas_thread():
        return {lr: SeedRuns(seeds, [run(s, lr) for s in seeds]) for lr in lrs}


def draw_averaging(study, axes=None):
    """Each average against the last iterate of the same run, per seed: the change of the
    validation loss in % (left: best epoch, EMA, SWA) and of the validation accuracy in points
    (right: EMA, SWA), one colour per rate, a bar at the mean. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.5), gridspec_kw=dict(width_ratios=(3, 2.2)))
    panels = ((("best epoch", "val_loss_best_epoch"), ("EMA", "val_loss_ema"), ("SWA", "val_loss_swa")),
              (("EMA", "val_acc_ema"), ("SWA", "val_acc_swa")))
    colors = ("tab:red", "tab:blue", "tab:green")
    offsets = np.linspace(-0.18, 0.18, len(study))
    for ax, keys, percent in zip(axes, panels, (True, False)):
        for (lr, runs), color, off in zip(study.items(), colors, offsets):
            for i, (_, key) in enumerate(keys):
                if percent:
                    d = 100.0 * (runs[key] / runs["val_loss_last"] - 1.0)
                else:
                    d = 100.0 * (runs[key] - runs["val_acc_last"])
                x = i + off + np.linspace(-0.04, 0.04, len(d))
                ax.scatter(x, d, s=20, color=color, alpha=0.8, zorder=3, label=f"lr {lr:g}" if i == 0 else None)
                ax.hlines(d.mean(), i + off - 0.09, i + off + 0.09, color=color, lw=2.5, zorder=4)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([k for k, _ in keys])
        ax.set_xlim(-0.5, len(keys) - 0.5)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set(ylabel="change vs last iterate (%)", title="validation loss (lower is better)")
    axes[1].set(ylabel="change vs last iterate (points)", title="validation accuracy")
    axes[0].legend(fontsize=9, loc="lower right", title="constant rate", title_fontsize=9)
    axes[0].figure.tight_layout()
    return axes
