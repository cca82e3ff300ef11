"""Hyperparameter search: random and grid, with log-uniform sampling for rates and strengths.

Sample a learning rate as 10 ** uniform(-6, -1), never uniform(1e-6, 1e-1): the latter puts
90% of its draws above 1e-2. Random search beats grid search when only a few of the
hyperparameters matter (Bergstra & Bengio 2012): n random trials try n distinct values of
each hyperparameter, a grid only n ** (1 / d).

Quasi-random search (what the Deep Learning Tuning Playbook recommends for exploration) keeps
random search's n distinct values per axis but spreads the n points evenly, without the
clusters and holes of independent draws: a scrambled Halton sequence, mapped onto the same
search space. Every search maps a point u of the unit cube onto the space the same way
(``from_unit``): LogUniform on the log scale, Uniform linearly, Choice by cutting [0, 1) into
equal bins.
Introduced in notebooks/08_training_in_practice.ipynb.
"""
import itertools
import math

import numpy as np

from .rng import get_rng, make_rng


def log_uniform(low, high, size=None, rng=None):
    """10 ** U(log10 low, log10 high): every decade between low and high is equally likely."""
    if not 0 < low < high:
        raise ValueError(f"log_uniform: need 0 < low < high, got low={low!r}, high={high!r}")
    return 10.0 ** get_rng(rng).uniform(math.log10(low), math.log10(high), size)


class LogUniform:
    """A positive hyperparameter sampled on a log scale (learning rate, weight decay)."""

    def __init__(self, low, high):
        if not 0 < low < high:
            raise ValueError(f"LogUniform: need 0 < low < high, got low={low!r}, high={high!r}")
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        return float(log_uniform(self.low, self.high, rng=rng))

    def grid(self, n):
        return list(np.geomspace(self.low, self.high, n))

    def from_unit(self, u):
        """u in [0, 1) -> 10 ** (log10 low + u (log10 high - log10 low)): linear in the exponent."""
        lo, hi = math.log10(self.low), math.log10(self.high)
        return float(10.0 ** (lo + float(u) * (hi - lo)))

    def __repr__(self):
        return f"LogUniform({self.low:g}, {self.high:g})"


class Uniform:
    """A hyperparameter sampled uniformly (a dropout rate, a momentum)."""

    def __init__(self, low, high):
        if not low < high:
            raise ValueError(f"Uniform: need low < high, got low={low!r}, high={high!r}")
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def grid(self, n):
        return list(np.linspace(self.low, self.high, n))

    def from_unit(self, u):
        """u in [0, 1) -> low + u (high - low)."""
        return float(self.low + float(u) * (self.high - self.low))

    def __repr__(self):
        return f"Uniform({self.low:g}, {self.high:g})"


class Choice:
    """One of a few options (a width, an activation)."""

    def __init__(self, options):
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice: needs at least one option")

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self, n):
        return list(self.options)

    def from_unit(self, u):
        """u in [0, 1) -> options[floor(u k)] for k options: k equal bins of the unit interval."""
        k = len(self.options)
        return self.options[min(int(float(u) * k), k - 1)]

    def __repr__(self):
        return f"Choice({self.options!r})"


class SearchResult:
    """Trials as dicts {"params": {...}, "score": float}, best first."""

    def __init__(self, trials, maximize):
        self.maximize = maximize
        self.trials = sorted(trials, key=lambda t: -t["score"] if maximize else t["score"])

    @property
    def best(self):
        return self.trials[0]

    def values(self, name):
        """The values tried for one hyperparameter, in the order of ``trials``."""
        return [t["params"][name] for t in self.trials]

    def scores(self):
        return [t["score"] for t in self.trials]

    def at_edge(self, space, fraction=0.1):
        """Names of LogUniform/Uniform hyperparameters whose best value lies in the outer
        ``fraction`` of the range (on the log scale for LogUniform): widen the range there."""
        edge = []
        for name, dist in space.items():
            if isinstance(dist, (LogUniform, Uniform)):
                v = self.best["params"][name]
                if isinstance(dist, LogUniform):
                    lo, hi, v = math.log10(dist.low), math.log10(dist.high), math.log10(v)
                else:
                    lo, hi = dist.low, dist.high
                pos = (v - lo) / (hi - lo)
                if pos < fraction or pos > 1 - fraction:
                    edge.append(name)
        return edge

    def __repr__(self):
        b = self.best
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in b["params"].items())
        return f"SearchResult({len(self.trials)} trials, best score {b['score']:.4g} at {params})"


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise ValueError("search: space must be a non-empty dict name -> LogUniform/Uniform/Choice")
    for name, dist in space.items():
        if not isinstance(dist, (LogUniform, Uniform, Choice)):
            raise TypeError(f"search: space[{name!r}] must be LogUniform, Uniform or Choice, "
                            f"got {type(dist).__name__}")


def _run(objective, settings, maximize, progress):
    if progress:
        from tqdm.auto import tqdm
        settings = tqdm(settings, desc="trials", leave=False)
    return SearchResult([{"params": p, "score": float(objective(**p))} for p in settings], maximize)


def random_search(objective, space, n_trials, rng=None, maximize=False, progress=False):
    """Call ``objective(**params)`` on ``n_trials`` random draws from ``space``.

    ``space``: dict name -> LogUniform / Uniform / Choice. The objective returns a score
    (lower is better unless ``maximize``). Returns a SearchResult.
    """
    _check_space(space)
    rng = get_rng(rng)
    settings = [{name: dist.sample(rng) for name, dist in space.items()} for _ in range(n_trials)]
    return _run(objective, settings, maximize, progress)


def grid_search(objective, space, points_per_axis, maximize=False, progress=False,
                centered=False):
    """Call ``objective(**params)`` on every point of a grid with ``points_per_axis`` values per
    LogUniform/Uniform axis (geometric spacing for LogUniform) and every option of a Choice.

    By default the grid includes both ends of each range. ``centered=True`` puts the values at
    the centres of ``points_per_axis`` equal cells instead, u = (k + 1/2) / points_per_axis
    mapped by ``from_unit`` (on the log scale for LogUniform): no trial is spent on an edge.
    """
    _check_space(space)
    if not isinstance(points_per_axis, (int, np.integer)) or points_per_axis < 1:
        raise ValueError(f"grid_search: points_per_axis must be a positive integer, got "
                         f"{points_per_axis!r}")
    names = list(space)
    if centered:
        cells = (np.arange(points_per_axis) + 0.5) / points_per_axis
        axes = [space[n].grid(points_per_axis) if isinstance(space[n], Choice)
                else [space[n].from_unit(u) for u in cells] for n in names]
    else:
        axes = [space[n].grid(points_per_axis) for n in names]
    settings = [dict(zip(names, map(lambda v: v.item() if hasattr(v, "item") else v, combo)))
                for combo in itertools.product(*axes)]
    return _run(objective, settings, maximize, progress)


# ---------------------------------------------------------------------------------------------
# quasi-random search: a scrambled Halton sequence
# ---------------------------------------------------------------------------------------------

def first_primes(d):
    """The first ``d`` prime numbers: the bases of a d-dimensional Halton sequence."""
    primes, k = [], 2
    while len(primes) < d:
        if all(k % p for p in primes if p * p <= k):
            primes.append(k)
        k += 1
    return primes


def _digits(base):
    # the largest D with base ** D <= 2 ** 52: the integer sum_k digit_k base ** (D - 1 - k)
    # is exact in float64 and the point value / base ** D stays strictly below 1
    D = 0
    while base ** (D + 1) <= 2 ** 52:
        D += 1
    return D


def halton(n, d, rng=None, scramble=True):
    """The first ``n`` points of the d-dimensional Halton sequence, scrambled.

    Dimension j uses the j-th prime b as its base. Point i is the radical inverse of i: write
    i = sum_k a_k b ** k in base b and mirror the digits at the radix point,
    x_ij = sum_k a_k b ** -(k + 1). So in base 2: 0, 1/2, 1/4, 3/4, 1/8, 5/8, ...; any b ** m
    consecutive points put exactly one point into each interval [c / b ** m, (c + 1) / b ** m).
    Scrambling (``scramble=True``): every digit position k of every dimension gets its own
    random permutation sigma_jk of {0, ..., b - 1}, x_ij = sum_k sigma_jk(a_k) b ** -(k + 1),
    over all the digits float64 can hold (also the zeros above i's leading digit). This is the
    simpler random-digit-permutation scrambling (Matousek 1998), not Owen's nested scrambling,
    whose permutation would also depend on the preceding digits. A bijection per digit keeps
    the stratification above, and it removes the plain sequence's artefacts: the first point
    is no longer 0, and neighbouring primes (e.g. 17 and 19) no longer give correlated
    dimensions. ``scramble=False`` gives the plain sequence (and draws nothing from ``rng``).
    Shapes: returns (n, d) in [0, 1).
    Introduced in notebooks/08_training_in_practice.ipynb (quasi-random search).
    """
    for name, v in (("n", n), ("d", d)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"halton: {name} must be a positive integer, got {v!r}")
    rng = get_rng(rng) if scramble else None
    index = np.arange(n, dtype=np.int64)
    points = np.empty((n, d))
    for j, base in enumerate(first_primes(d)):
        D = _digits(base)
        value = np.zeros(n, dtype=np.int64)
        rest = index.copy()
        for _ in range(D):
            digit = rest % base
            rest //= base
            if scramble:
                digit = rng.permutation(base)[digit]
            value = value * base + digit          # Horner: the k-th digit ends up at base**-(k+1)
        points[:, j] = value / float(base ** D)
    return points


def centered_discrepancy(points):
    """The squared centred L2 discrepancy (Hickernell 1998) of points in the unit cube.

    With z = x - 1/2 (per coordinate):
    CD^2 = (13/12)^d - (2/n) sum_i prod_k (1 + |z_ik|/2 - z_ik^2/2)
           + (1/n^2) sum_i sum_j prod_k (1 + |z_ik|/2 + |z_jk|/2 - |x_ik - x_jk|/2).
    It compares the share of points in every box with a corner at a vertex of the cube with
    the box's volume, in the mean-square sense, including the boxes of every projection onto
    fewer coordinates. Lower is more even. (= ``scipy.stats.qmc.discrepancy(x, method="CD")``.)
    Shapes: points (n, d) in [0, 1]; returns a float.
    Introduced in notebooks/08_training_in_practice.ipynb.
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"centered_discrepancy expects points of shape (n, d), got {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("centered_discrepancy expects points in the unit cube [0, 1]^d; map them "
                         "there first (e.g. (x - low) / (high - low))")
    n, d = x.shape
    a = np.abs(x - 0.5)
    single = np.prod(1 + 0.5 * a - 0.5 * a ** 2, axis=1).sum()
    pair = np.prod(1 + 0.5 * a[:, None, :] + 0.5 * a[None, :, :]
                   - 0.5 * np.abs(x[:, None, :] - x[None, :, :]), axis=2).sum()
    return float((13.0 / 12.0) ** d - 2.0 / n * single + pair / n ** 2)


def quasi_random_search(objective, space, n, seed=None, maximize=False, progress=False):
    """Call ``objective(**params)`` on the first ``n`` points of a scrambled Halton sequence.

    Point i of ``halton(n, len(space))`` is mapped coordinate by coordinate onto the space,
    in the order of its keys: LogUniform as 10 ** (log10 low + u (log10 high - log10 low)),
    Uniform as low + u (high - low), Choice as options[floor(u k)]. Like random search, n
    trials try n distinct values of every continuous hyperparameter; unlike it, the points
    leave no large holes (low discrepancy). ``seed``: an int or a Generator for the
    scrambling; None derives it from COURSE_SEED (``make_rng(0)``). Returns a SearchResult.
    Shapes: space with d entries -> n trials of d values.
    Introduced in notebooks/08_training_in_practice.ipynb.
    """
    _check_space(space)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"quasi_random_search: n (the number of trials) must be a positive "
                         f"integer, got {n!r}")
    rng = make_rng(0) if seed is None else get_rng(seed)
    names = list(space)
    unit = halton(n, len(names), rng)
    settings = [{name: space[name].from_unit(u[j]) for j, name in enumerate(names)} for u in unit]
    return _run(objective, settings, maximize, progress)
