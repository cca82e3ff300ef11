"""Hyperparameter search: random and grid, with log-uniform sampling for rates and strengths.

Sample a learning rate as 10 ** uniform(-6, -1), never uniform(1e-6, 1e-1): the latter puts
90% of its draws above 1e-2. Random search beats grid search when only a few of the
hyperparameters matter (Bergstra & Bengio 2012): n random trials try n distinct values of
each hyperparameter, a grid only n ** (1 / d).
Introduced in notebooks/08_training_in_practice.ipynb.
"""
import itertools
import math

import numpy as np

from .rng import get_rng


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


def grid_search(objective, space, points_per_axis, maximize=False, progress=False):
    """Call ``objective(**params)`` on every point of a grid with ``points_per_axis`` values per
    LogUniform/Uniform axis (geometric spacing for LogUniform) and every option of a Choice."""
    _check_space(space)
    names = list(space)
    axes = [space[n].grid(points_per_axis) for n in names]
    settings = [dict(zip(names, map(lambda v: v.item() if hasattr(v, "item") else v, combo)))
                for combo in itertools.product(*axes)]
    return _run(objective, settings, maximize, progress)
