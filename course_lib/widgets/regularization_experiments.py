"""The experiments over seeds of notebooks/07_regularization.ipynb, and their figures.

Each function runs one experiment on several seeds (``cl.seeds``, so COURSE_SEED moves them
all), returns the per-seed numbers, and leaves the judging to the notebook's asserts:

* ``lr_check``: is the bench's learning rate the plain net's own best? (early-stopped, §5)
* ``max_norm_sweep``: max-norm against the learning rate on all training digits (§4);
* ``smoothing_study``: label smoothing's accuracy and calibration (ECE) on the bench (§7);
* ``ensemble_study`` and ``snapshot_study``: ensembles of unregularized, early-stopped and
  regularized members, and snapshots of one run (§8);
* ``shrink_study``: small and big networks, with and without dropout (§9);
* ``comparison``: every method at its best strength against early stopping, on the test set,
  and at a longer budget (§10).

Bench runs come from ``regularization.bench_runs`` (cached, trained many at a time); the
``plot_*`` functions draw the results (they take ``ax``/``axes`` and return them).
"""
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np

from ..calibration import calibration_bins
from ..rng import course_seed, make_rng, seeds as course_seeds
from . import regularization as rw
from ._common import one_blas_thread


def _nll(probs, y):
    p = np.clip(probs[np.arange(len(y)), y], 1e-12, None)
    return float(-np.mean(np.log(p)))


def _acc(probs, y):
    return float(np.mean(probs.argmax(axis=1) == y))


def _val_labels():
    return rw.bench_sets()[2][1]


# ------------------------------------------------------------------ tuning on the grid

def tuned_spec(method, seeds=None):
    """The grid recipe of ``method`` with the best mean final validation accuracy over the
    grid seeds (the strength a practitioner would pick from the explorer)."""
    if method == "none":
        return rw.spec("none")
    rows = rw.method_runs(method, seeds)
    k = int(np.argmax([np.mean([r.val_acc[-1] for r in row]) for row in rows]))
    return rw.spec(method, rw.STRENGTHS[k])


# ------------------------------------------------------------------ §9 double descent of polynomials

def double_descent(degrees, n_draws=5):
    """Validation MSE of least-squares Legendre fits of each degree to the 20-point curve
    data, on ``n_draws`` draws. Beyond degree 19 the system is underdetermined and lstsq
    returns the minimum-norm interpolant. Returns (degrees, train_mse, val_mse), the MSEs
    (n_draws, len(degrees))."""
    tr, va = zip(*(rw.capacity_sweep(degrees, seed=s) for s in course_seeds(n_draws)))
    return np.asarray(degrees), np.array(tr), np.array(va)


# ------------------------------------------------------------------ §5 the plain net's own lr

LR_CHECK = (0.02, 0.05, 0.1, 0.2)


def lr_check(lrs=LR_CHECK, n_seeds=rw.GRID_SEEDS):
    """The unregularized bench at several learning rates, early-stopped (patience 5).
    Returns (lrs, es_val_acc (n_lr, n_seeds), es_test_acc (n_lr, n_seeds))."""
    seeds = course_seeds(n_seeds)
    specs = [rw.spec("none") if lr == rw.LR else
             rw.Spec("none", 0, f"no regularization, lr {lr:g}", lr=float(lr)) for lr in lrs]
    runs = rw.bench_runs(specs, seeds, train_curves=False)
    return (np.array(lrs), np.array([[r.es_val_acc for r in row] for row in runs]),
            np.array([[r.es_test_acc for r in row] for row in runs]))


# ------------------------------------------------------------------ §4 max-norm and the learning rate

@dataclass(frozen=True)
class MaxNormSweep:
    """Max-norm on all training digits, 64 -> 128 -> 10 with dropout 0.5, SGD + momentum 0.9,
    mini-batches of 64, ``epochs`` epochs. Axis order (radius, lr, seed): ``cs`` (None = no
    constraint), ``lrs``, ``seeds``. ``acc``: validation accuracy, mean of the last 5 epochs;
    ``dead``: final fraction of hidden ReLUs that no training digit turns on; ``col_norm``,
    ``max_logit``, ``val_acc``: per epoch (last axis). ``wild``: {c: (final val acc, dead)} at
    lr ``wild_lr`` for the first seed (empty without one)."""

    cs: tuple
    lrs: np.ndarray
    seeds: list
    acc: np.ndarray
    dead: np.ndarray
    col_norm: np.ndarray
    max_logit: np.ndarray
    val_acc: np.ndarray
    wild_lr: float
    wild: dict = field(default_factory=dict)


@lru_cache(maxsize=8)
def _max_norm_sweep(cs_key, cs, lrs, seeds, epochs, wild_lr, p, width, centre):
    split = rw.digits()
    mean = split.X_train.mean(axis=0) if centre else 0.0
    X, y = split.X_train - mean, split.y_train
    val = (split.X_val - mean, split.y_val)
    jobs = [(ci, li, si) for ci in range(len(cs)) for li in range(len(lrs)) for si in range(len(seeds))]
    if wild_lr:
        jobs += [(ci, -1, 0) for ci in range(len(cs))]            # the wild learning rate
    nets = [rw.make_mlp((width,), p, seed=seeds[si]) for _, _, si in jobs]
    lr = [wild_lr if li < 0 else lrs[li] for _, li, _ in jobs]
    c = [np.inf if cs[ci] is None else cs[ci] for ci, _, _ in jobs]
    with one_blas_thread():
        res = rw.train_stacked(nets, X, y, epochs=epochs, batch_size=64, lr=lr, momentum=rw.MOMENTUM,
                               orders=[rw.run_rngs(seeds[si])[2] for _, _, si in jobs], val=val,
                               max_norm=c, train_curves=False, snapshots=1, dtype=np.float32)
    W1, b1 = res.weights[0], res.biases[0]
    pre = (X.astype(np.float32) @ W1.transpose(1, 0, 2).reshape(64, -1)).reshape(len(X), len(jobs), -1)
    pre = pre + b1[None]
    dead = np.mean(np.all(~(pre > 0), axis=0), axis=1)             # NaN counts as dead
    shape = (len(cs), len(lrs), len(seeds))
    acc, dd = np.zeros(shape), np.zeros(shape)
    col, logit, va = (np.zeros(shape + (epochs,)) for _ in range(3))
    wild = {}
    for j, (ci, li, si) in enumerate(jobs):
        if li < 0:
            wild[cs[ci]] = (float(res.val_acc[j, -1]), float(dead[j]))
            continue
        acc[ci, li, si] = res.val_acc[j, -5:].mean()
        dd[ci, li, si] = dead[j]
        col[ci, li, si], logit[ci, li, si], va[ci, li, si] = res.max_col_norm[j], res.max_logit[j], res.val_acc[j]
    return MaxNormSweep(tuple(cs), np.array(lrs), list(seeds), acc, dd, col, logit, va, wild_lr, wild)


def max_norm_sweep(lrs=(0.05, 0.1, 0.2, 0.5, 1.0, 2.0), c=3.0, n_seeds=3, epochs=15, wild_lr=4.0,
                   p=0.5, width=rw.WIDTH, centre=True):
    """Each learning rate in ``lrs`` with and without max-norm radius ``c``, on ``n_seeds``
    seeds, inputs centred with the training mean (``centre=False``: raw pixels in [0, 1]);
    ``wild_lr`` (or None) adds one run per variant on the first seed. Returns a MaxNormSweep
    (cached)."""
    seeds = tuple(course_seeds(n_seeds))
    return _max_norm_sweep(course_seed(), (None, float(c)), tuple(float(v) for v in lrs), seeds,
                           int(epochs), float(wild_lr or 0.0), float(p), int(width), bool(centre))


def plot_max_norm_sweep(sweep, axes=None):
    """Left: validation accuracy against the learning rate (log), per seed and mean, with and
    without the constraint. Right: the share of dead ReLUs. Returns the axes."""
    import matplotlib.pyplot as plt

    from .. import plots

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    colors = ("tab:red", "tab:blue")
    for ci, c in enumerate(sweep.cs):
        name = "unconstrained" if c is None else f"max-norm c = {c:g}"
        plots.plot_seeds(sweep.lrs, sweep.acc[ci].T, ax=axes[0], label=name, color=colors[ci], logx=True)
        plots.plot_seeds(sweep.lrs, 100 * sweep.dead[ci].T, ax=axes[1], label=name, color=colors[ci],
                         logx=True)
    for ax in axes:
        ax.set_xticks(sweep.lrs, [f"{v:g}" for v in sweep.lrs])
        ax.minorticks_off()
        ax.set_xlabel("learning rate (log scale)")
        ax.legend(fontsize=8)
    axes[0].set(ylabel="validation accuracy\n(mean of the last 5 epochs)", title="accuracy")
    axes[1].set(ylabel="dead hidden ReLUs (%)", title="units that no digit turns on")
    axes[0].figure.tight_layout()
    return axes


# ------------------------------------------------------------------ §7 label smoothing and calibration

@dataclass(frozen=True)
class SmoothingStudy:
    """The bench with label smoothing ``alphas`` on ``seeds``. Arrays (n_alpha, n_seeds) for the
    final model: ``acc``, ``nll`` (against the hard labels), ``ece`` (``bins`` equal-width
    bins), ``confidence`` (mean top probability); the same with ``es_`` for the early-stopped
    model (patience 5 on the validation cross-entropy). ``probs[a][s]``: final validation
    probabilities, ``es_probs[a][s]`` the early-stopped ones."""

    alphas: tuple
    seeds: list
    bins: int
    acc: np.ndarray
    nll: np.ndarray
    ece: np.ndarray
    confidence: np.ndarray
    es_acc: np.ndarray
    es_nll: np.ndarray
    es_ece: np.ndarray
    es_confidence: np.ndarray
    probs: list
    es_probs: list


def smoothing_study(alphas=(0.0, 0.1, 0.2), n_seeds=5, bins=15):
    """Label smoothing alpha on the noisy-label bench (60 epochs), ``n_seeds`` seeds."""
    seeds = course_seeds(n_seeds)
    runs = rw.bench_runs([rw.smoothing_spec(a) for a in alphas], seeds, train_curves=False)
    yv = _val_labels()
    out = {}
    for tag, attr in (("", "val_probs"), ("es_", "es_val_probs")):
        P = [[np.asarray(getattr(r, attr), dtype=np.float64) for r in row] for row in runs]
        P = [[p / p.sum(axis=1, keepdims=True) for p in row] for row in P]
        out[tag + "probs"] = P
        out[tag + "acc"] = np.array([[_acc(p, yv) for p in row] for row in P])
        out[tag + "nll"] = np.array([[_nll(p, yv) for p in row] for row in P])
        out[tag + "ece"] = np.array([[calibration_bins(p, yv, bins).ece for p in row] for row in P])
        out[tag + "confidence"] = np.array([[p.max(axis=1).mean() for p in row] for row in P])
    return SmoothingStudy(tuple(alphas), seeds, bins, out["acc"], out["nll"], out["ece"],
                          out["confidence"], out["es_acc"], out["es_nll"], out["es_ece"],
                          out["es_confidence"], out["probs"], out["es_probs"])


def plot_smoothing(study, fig=None, seed_index=0, show=(0.0, 0.1)):
    """Left: reliability diagram of the final models for the alphas in ``show`` (one seed).
    Right: ECE and accuracy per seed and alpha (final: filled; early-stopped: open).
    Returns the figure."""
    import matplotlib.pyplot as plt

    from .. import plots

    if fig is None:
        fig = plt.figure(figsize=(8.4, 4.3))
    gs = fig.add_gridspec(1, 3, width_ratios=(1.35, 1, 1), wspace=0.45, left=0.08, right=0.98,
                          bottom=0.13, top=0.9)
    ax = fig.add_subplot(gs[0])
    yv = _val_labels()
    colors = {0.0: "tab:red", 0.1: "tab:blue", 0.2: "tab:green"}
    for a in show:
        i = study.alphas.index(a)
        plots.plot_reliability(study.probs[i][seed_index], yv, bins=study.bins, ax=ax,
                               label=f"α = {a:g}", color=colors.get(a))
    ax.set_title(f"reliability, final model\n(seed {study.seeds[seed_index]})", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    for j, (key, ylabel) in enumerate((("ece", "ECE (15 bins)"), ("acc", "validation accuracy"))):
        axj = fig.add_subplot(gs[j + 1])
        for i, a in enumerate(study.alphas):
            c = colors.get(a, None)
            v, e = getattr(study, key)[i], getattr(study, "es_" + key)[i]
            off = np.linspace(-0.12, 0.12, len(v))
            axj.scatter(i + off - 0.08, v, s=22, color=c, zorder=3)
            axj.scatter(i + off + 0.08, e, s=22, facecolors="none", edgecolors=c, zorder=3)
            axj.hlines(v.mean(), i - 0.3, i + 0.02, color=c, lw=2)
            axj.hlines(e.mean(), i - 0.02, i + 0.3, color=c, lw=1.2, ls="--")
        axj.set_xticks(range(len(study.alphas)), [f"α={a:g}" for a in study.alphas], fontsize=9)
        axj.set_xlim(-0.6, len(study.alphas) - 0.4)
        axj.set_ylabel(ylabel, fontsize=10)
        axj.tick_params(labelsize=9)
        axj.set_title("● final   ○ early-stopped", fontsize=9)
    return fig


# ------------------------------------------------------------------ §8 ensembles

@dataclass(frozen=True)
class EnsembleStudy:
    """Ensembles on the bench. For each name in ``names`` (a recipe; "early-stopped" means
    unregularized members restored at their early-stopping epoch): ``single[name]`` (n_blocks,
    n_members) validation accuracy of each member, ``ens_acc[name]``/``ens_nll[name]``
    (n_blocks,) of the average of its block's probabilities; ``curve[name]`` = (n, mean, lo,
    hi): accuracy of an ensemble of n members drawn from all n_blocks * n_members runs, mean and
    min/max over ``subsets`` random subsets (all subsets when there are fewer)."""

    names: list
    labels: dict
    seeds: list
    n_members: int
    single: dict
    single_nll: dict
    ens_acc: dict
    ens_nll: dict
    curve: dict

    def gain_mean(self, name):
        """Ensemble accuracy minus the mean member's, per block."""
        return self.ens_acc[name] - self.single[name].mean(axis=1)

    def gain_best(self, name):
        """Ensemble accuracy minus the best member's, per block."""
        return self.ens_acc[name] - self.single[name].max(axis=1)


def _curve(P, y, subsets, rng):
    n_all = len(P)
    ns = np.arange(1, n_all + 1)
    mean, lo, hi = [], [], []
    for n in ns:
        combos = list(combinations(range(n_all), n)) if n in (1, n_all) else None
        if combos is None:
            combos = {tuple(sorted(rng.choice(n_all, n, replace=False))) for _ in range(subsets)}
        accs = [_acc(P[list(c)].mean(axis=0), y) for c in combos]
        mean.append(np.mean(accs))
        lo.append(np.min(accs))
        hi.append(np.max(accs))
    return ns, np.array(mean), np.array(lo), np.array(hi)


def ensemble_study(members, n_members=4, n_blocks=3, subsets=30):
    """``members``: dict name -> Spec (or the string "early-stopped": unregularized runs
    restored at their best epoch). Each is trained on n_blocks * n_members seeds; block b
    holds seeds b * n_members ... (b + 1) * n_members - 1 of ``cl.seeds``. Returns an
    EnsembleStudy."""
    seeds = course_seeds(n_blocks * n_members)
    yv = _val_labels()
    rng = make_rng(73)
    out = {k: {} for k in ("single", "single_nll", "ens_acc", "ens_nll", "curve")}
    labels = {}
    for name, sp in members.items():
        es = isinstance(sp, str)
        if es and sp != "early-stopped":
            raise ValueError(f"ensemble_study: a member is a Spec or 'early-stopped', got {sp!r}")
        runs = rw.bench_runs([rw.spec("none") if es else sp], seeds, train_curves=False)[0]
        labels[name] = "no regularization, early-stopped" if es else runs[0].label
        P = np.array([np.asarray(r.es_val_probs if es else r.val_probs, dtype=np.float64) for r in runs])
        P /= P.sum(axis=2, keepdims=True)
        blocks = P.reshape(n_blocks, n_members, *P.shape[1:])
        out["single"][name] = np.array([[_acc(p, yv) for p in b] for b in blocks])
        out["single_nll"][name] = np.array([[_nll(p, yv) for p in b] for b in blocks])
        out["ens_acc"][name] = np.array([_acc(b.mean(axis=0), yv) for b in blocks])
        out["ens_nll"][name] = np.array([_nll(b.mean(axis=0), yv) for b in blocks])
        out["curve"][name] = _curve(P, yv, subsets, rng)
    return EnsembleStudy(list(members), labels, seeds, n_members, out["single"], out["single_nll"],
                         out["ens_acc"], out["ens_nll"], out["curve"])


def snapshot_study(n_seeds=rw.GRID_SEEDS):
    """Average of the last 10 epochs' validation probabilities of one unregularized run,
    against its final model, per seed. Returns dict of arrays (n_seeds,): "final_acc",
    "final_nll", "snap_acc", "snap_nll"."""
    runs = rw.bench_runs([rw.spec("none")], course_seeds(n_seeds), train_curves=False)[0]
    yv = _val_labels()
    out = {"final_acc": [], "final_nll": [], "snap_acc": [], "snap_nll": []}
    for r in runs:
        final = np.asarray(r.val_probs, dtype=np.float64)
        snap = np.asarray(r.snapshots, dtype=np.float64).mean(axis=0)
        out["final_acc"].append(_acc(final, yv))
        out["final_nll"].append(_nll(final / final.sum(1, keepdims=True), yv))
        out["snap_acc"].append(_acc(snap, yv))
        out["snap_nll"].append(_nll(snap / snap.sum(1, keepdims=True), yv))
    return {k: np.array(v) for k, v in out.items()}


def plot_ensembles(study, axes=None, colors=None):
    """Left: accuracy of an ensemble against its number of members (mean over random subsets,
    band min…max), per recipe. Right: per block, the mean member, the best member and the
    ensemble. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.7), gridspec_kw={"width_ratios": (1.1, 1)})
    palette = colors or ["0.45", "tab:green", "tab:blue", "tab:purple", "tab:orange", "tab:red"]
    ax = axes[0]
    for i, name in enumerate(study.names):
        n, mean, lo, hi = study.curve[name]
        c = palette[i % len(palette)]
        ax.plot(n, mean, "o-", ms=3, color=c, label=name)
        ax.fill_between(n, lo, hi, color=c, alpha=0.12, lw=0)
    ax.set(xlabel="members in the ensemble", ylabel="validation accuracy",
           title="ensemble size (band: min…max\nover random subsets of the members)")
    ax.set_xticks(n[::2] if len(n) > 8 else n)
    ax.legend(fontsize=7.5, loc="lower right")
    ax = axes[1]
    width = 0.8 / len(study.names)
    for i, name in enumerate(study.names):
        c = palette[i % len(palette)]
        for j, (vals, marker) in enumerate(((study.single[name].mean(axis=1), "o"),
                                            (study.single[name].max(axis=1), "^"),
                                            (study.ens_acc[name], "*"))):
            x = j + (i - (len(study.names) - 1) / 2) * width
            ax.scatter(np.full(len(vals), x), vals, marker=marker, s=40 if marker == "*" else 20,
                       color=c, zorder=3)
    ax.set_xticks(range(3), ["mean\nmember", "best\nmember", f"ensemble\nof {study.n_members}"], fontsize=9)
    ax.set(ylabel="validation accuracy",
           title=f"per block of {study.n_members} seeds\n(colours as on the left)")
    axes[0].figure.tight_layout()
    return axes


# ------------------------------------------------------------------ §9 don't shrink the network

SHRINK = (("64-8-10", (8,), 0.0), ("64-32-10", (32,), 0.0), ("64-32-10, dropout 0.3", (32,), 0.3),
          ("64-128-10", (128,), 0.0), ("64-128-10, dropout 0.5", (128,), 0.5),
          ("64-256-256-10", (256, 256), 0.0), ("64-256-256-10, dropout 0.5", (256, 256), 0.5))


def _dropout_spec(p):
    if p == 0:
        return rw.spec("none")
    if p in rw.DROPOUT_P:
        return rw.spec("dropout", rw.STRENGTHS[rw.DROPOUT_P.index(p)])
    return rw.Spec("dropout", -1, f"dropout, p = {p:g}", p=float(p))


def _n_params(widths):
    sizes = (64,) + tuple(widths) + (10,)
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


def shrink_study(configs=SHRINK, n_seeds=4):
    """Each (name, widths, dropout p) trained on the bench on ``n_seeds`` seeds (60 epochs).
    Returns dict name -> dict with "final" and "es" (validation accuracy at the last and at
    the early-stopping epoch), "train_loss" (final, on the noisy training labels), each
    (n_seeds,), and "params"."""
    seeds = course_seeds(n_seeds)
    out = {}
    for name, widths, p in configs:
        runs = rw.bench_runs([_dropout_spec(p)], seeds, widths=widths, train_curves=False)[0]
        out[name] = {"final": np.array([r.val_acc[-1] for r in runs]),
                     "es": np.array([r.es_val_acc for r in runs]),
                     "train_loss": np.array([r.final_train_loss for r in runs]),
                     "params": _n_params(widths), "widths": widths, "p": p}
    return out


def plot_shrink(study, ax=None):
    """Validation accuracy against the number of parameters (log), plain nets and nets with
    dropout, at the last epoch (filled, solid) and early-stopped (open, dashed); a dot per
    seed. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.9))
    for with_dropout, color in ((False, "tab:blue"), (True, "tab:orange")):
        rows = [(v["params"], v) for v in study.values() if (v["p"] > 0) == with_dropout]
        rows.sort(key=lambda t: t[0])
        xs = np.array([r[0] for r in rows])
        for key, ls, filled in (("final", "-", True), ("es", "--", False)):
            vals = np.array([r[1][key] for r in rows])                       # (n_configs, seeds)
            ax.plot(xs, vals.mean(axis=1), ls=ls, color=color, lw=1.8,
                    label=f"{'dropout' if with_dropout else 'no regularization'}, "
                          f"{'last epoch' if key == 'final' else 'early-stopped'}")
            for x, v in zip(xs, vals):
                jitter = x * np.exp(np.linspace(-0.06, 0.06, len(v)))
                ax.scatter(jitter, v, s=16, color=color if filled else "none", edgecolors=color, zorder=3)
    ax.set_xscale("log")
    sizes = sorted({(v["params"], v["widths"]) for v in study.values()})
    ax.set_xticks([n for n, _ in sizes],
                  ["-".join(map(str, (64,) + w + (10,))) + f"\n{n:,d}" for n, w in sizes], fontsize=8.5)
    ax.minorticks_off()
    ax.set(xlabel="network (parameters, log scale)", ylabel="validation accuracy",
           title=f"size and dropout varied separately ({len(next(iter(study.values()))['final'])} seeds)")
    ax.legend(fontsize=8, loc="lower right")
    ax.figure.tight_layout()
    return ax


# ------------------------------------------------------------------ §10 every method at its best

@dataclass(frozen=True)
class Comparison:
    """Each method of the grid at the strength with the best mean final validation accuracy
    over ``seeds`` (``choice[m]`` = grid index, ``labels[m]``, ``edge[m]``: True if that is the
    first or last strength; ``per_seed_best[m]``: each seed's own best index). Per method,
    arrays (n_seeds,): ``val`` (final validation accuracy), ``test`` (final, test set),
    ``es_test`` (the method plus early stopping, test set), ``long_test``/``long_val`` (trained
    ``long_epochs`` epochs). ``ref``: the same for the unregularized net, plus "es_val"."""

    seeds: list
    long_epochs: int
    choice: dict
    labels: dict
    edge: dict
    per_seed_best: dict
    val: dict
    test: dict
    es_test: dict
    long_test: dict
    long_val: dict
    ref: dict


def comparison(n_seeds=rw.GRID_SEEDS, long_epochs=150):
    """Tune each method's strength on the validation set (mean over seeds, 60 epochs), then
    report the test set: final model, the method with early stopping, and after
    ``long_epochs`` epochs. The unregularized net is the reference (final and early-stopped)."""
    seeds = course_seeds(n_seeds)
    out = {k: {} for k in ("choice", "labels", "edge", "per_seed_best", "val", "test", "es_test",
                           "long_test", "long_val")}
    best_specs = [rw.spec("none")]
    for m in rw.METHODS[1:]:
        rows = rw.method_runs(m, seeds)                       # (strength, seed)
        fin = np.array([[r.val_acc[-1] for r in row] for row in rows])
        k = int(np.argmax(fin.mean(axis=1)))
        out["choice"][m], out["labels"][m] = k, rows[k][0].label
        out["edge"][m] = k in (0, len(rw.STRENGTHS) - 1)
        out["per_seed_best"][m] = fin.argmax(axis=0)
        out["val"][m] = fin[k]
        out["test"][m] = np.array([r.test_acc for r in rows[k]])
        out["es_test"][m] = np.array([r.es_test_acc for r in rows[k]])
        best_specs.append(rw.spec(m, rw.STRENGTHS[k]))
    long_runs = rw.bench_runs(best_specs, seeds, epochs=long_epochs, train_curves=False)
    for m, row in zip(rw.METHODS[1:], long_runs[1:]):
        out["long_test"][m] = np.array([r.test_acc for r in row])
        out["long_val"][m] = np.array([r.val_acc[-1] for r in row])
    none = rw.bench_runs([rw.spec("none")], seeds, train_curves=False)[0]
    ref = {"val": np.array([r.val_acc[-1] for r in none]), "es_val": np.array([r.es_val_acc for r in none]),
           "test": np.array([r.test_acc for r in none]), "es_test": np.array([r.es_test_acc for r in none]),
           "long_test": np.array([r.test_acc for r in long_runs[0]]),
           "long_val": np.array([r.val_acc[-1] for r in long_runs[0]])}
    return Comparison(seeds, int(long_epochs), out["choice"], out["labels"], out["edge"],
                      out["per_seed_best"], out["val"], out["test"], out["es_test"], out["long_test"],
                      out["long_val"], ref)


def plot_comparison(comp, ax=None):
    """Test accuracy per method at its tuned strength, a dot per seed: final model (filled),
    with early stopping (open), trained longer (x); lines: the unregularized net final
    (dashed) and early-stopped (green band: min…max over seeds). Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.4, 4.4))
    ref = comp.ref
    ax.axhspan(ref["es_test"].min(), ref["es_test"].max(), color="tab:green", alpha=0.15, lw=0)
    ax.axhline(ref["es_test"].mean(), color="tab:green", lw=1.5,
               label="no regularization, early-stopped (band: seeds)")
    ax.axhline(ref["test"].mean(), color="0.4", ls="--", lw=1.2, label="no regularization, last epoch")
    methods = list(comp.choice)
    for i, m in enumerate(methods):
        n = len(comp.seeds)
        off = np.linspace(-0.06, 0.06, n)
        ax.scatter(i - 0.22 + off, comp.test[m], s=24, color="tab:purple", zorder=3,
                   label="tuned, last epoch (60)" if i == 0 else None)
        ax.scatter(i + off, comp.es_test[m], s=24, facecolors="none", edgecolors="tab:purple", zorder=3,
                   label="tuned + early stopping" if i == 0 else None)
        ax.scatter(i + 0.22 + off, comp.long_test[m], s=26, marker="x", color="tab:brown", zorder=3,
                   label=f"tuned, {comp.long_epochs} epochs" if i == 0 else None)
    ax.set_xticks(range(len(methods)), [f"{m}\n{comp.labels[m].split(', ', 1)[1]}" for m in methods],
                  fontsize=8.5)
    ax.set_xlim(-0.6, len(methods) - 0.4)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"each method at its best strength (chosen on validation), {len(comp.seeds)} seeds",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    ax.figure.tight_layout()
    return ax
