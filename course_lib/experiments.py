"""Experiments on several seeds: keep every per-seed result, report the spread, compare paired.

The course's evidence standard (one seed proves nothing): an experiment is a function of a
seed, ``over_seeds`` runs it on the seeds that ``COURSE_SEED`` gives and returns a
``SeedRuns``, whose ``summary`` says "mean ± std (min … max, n seeds)". Two methods run on
the same seeds are compared with ``paired``: the difference per seed, its mean, its standard
error and how many seeds it wins — never two unpaired means. ``cl.plots.plot_seeds`` draws
them.
Introduced in notebooks/00_foundations.ipynb.
"""
import math

import numpy as np

from .rng import seeds as course_seeds


def _as_dict(value):
    if isinstance(value, dict):
        return value
    return {"value": value}


class SeedRuns:
    """The results of one experiment on several seeds.

    ``runs[key]`` is an array with one entry per seed along axis 0 (a float per seed gives
    shape (n_seeds,), a curve per seed (n_seeds, T)). ``seeds`` lists the seeds in that order.
    A run that returned a plain number stores it under the key "value".
    """

    def __init__(self, seeds, results):
        if len(seeds) != len(results) or not results:
            raise ValueError(f"SeedRuns: need one result per seed, got {len(results)} results "
                             f"for {len(seeds)} seeds")
        self.seeds = list(seeds)
        dicts = [_as_dict(r) for r in results]
        keys = list(dicts[0])
        for s, d in zip(self.seeds, dicts):
            if list(d) != keys:
                raise ValueError(f"SeedRuns: the run for seed {s} returned keys {sorted(d)}, "
                                 f"the first returned {sorted(keys)}")
        self._data = {k: np.array([d[k] for d in dicts], dtype=float) for k in keys}

    def keys(self):
        return list(self._data)

    def __getitem__(self, key):
        if key not in self._data:
            raise KeyError(f"SeedRuns has no result {key!r}; it has {self.keys()}")
        return self._data[key]

    def __len__(self):
        return len(self.seeds)

    def _key(self, key):
        if key is None:
            if len(self._data) != 1:
                raise ValueError(f"SeedRuns holds {self.keys()}: name the one you mean")
            key = next(iter(self._data))
        return self[key]

    def mean(self, key=None):
        """Mean over the seeds (axis 0)."""
        return self._key(key).mean(axis=0)

    def std(self, key=None):
        """Sample standard deviation over the seeds (ddof=1; 0 for a single seed)."""
        v = self._key(key)
        return v.std(axis=0, ddof=1) if len(v) > 1 else np.zeros_like(v[0])

    def min(self, key=None):
        return self._key(key).min(axis=0)

    def max(self, key=None):
        return self._key(key).max(axis=0)

    def spread(self, key=None):
        """max - min over the seeds."""
        v = self._key(key)
        return v.max(axis=0) - v.min(axis=0)

    def summary(self, key=None, fmt=".3f"):
        """'mean ± std (min … max, n seeds)' of a scalar result."""
        v = self._key(key)
        if v.ndim != 1:
            raise ValueError(f"summary needs one number per seed, got shape {v.shape}")
        return (f"{v.mean():{fmt}} ± {self.std(key):{fmt}} "
                f"({v.min():{fmt}} … {v.max():{fmt}}, {len(v)} seeds)")

    def __repr__(self):
        parts = []
        for k, v in self._data.items():
            parts.append(f"{k}: {self.summary(k)}" if v.ndim == 1 else f"{k}: shape {v.shape}")
        return f"SeedRuns(seeds {self.seeds}; " + "; ".join(parts) + ")"


def over_seeds(run, n=3, seeds=None, progress=False):
    """Run ``run(seed)`` once per seed and collect the results in a SeedRuns.

    ``run`` returns a number or a dict name -> number/array (the same names every time).
    The seeds are ``seeds`` if given, else ``cl.seeds(n)`` (derived from COURSE_SEED).
    """
    seeds = course_seeds(n) if seeds is None else list(seeds)
    it = seeds
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(seeds, desc="seeds", leave=False)
    return SeedRuns(seeds, [run(s) for s in it])


class Paired:
    """A paired comparison on the same seeds: ``diff[i] = a[i] - b[i]``.

    ``mean``, ``se`` (standard error of the mean difference, std / sqrt(n)), ``min``, ``max``
    and ``wins`` (seeds on which a > b). ``t`` is mean / se (0 when the differences are all 0).
    """

    def __init__(self, a, b, names=("a", "b")):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape or a.ndim != 1 or a.size < 2:
            raise ValueError(f"paired: need two 1-D arrays of the same length >= 2 (one value "
                             f"per seed), got shapes {a.shape} and {b.shape}")
        self.a, self.b, self.names = a, b, tuple(names)
        self.diff = a - b
        self.n = a.size
        self.mean = float(self.diff.mean())
        self.se = float(self.diff.std(ddof=1) / math.sqrt(self.n))
        self.min, self.max = float(self.diff.min()), float(self.diff.max())
        self.wins = int((self.diff > 0).sum())

    @property
    def t(self):
        if self.se == 0:
            return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)
        return self.mean / self.se

    def summary(self, fmt="+.3f"):
        a, b = self.names
        return (f"{a} − {b}: {self.mean:{fmt}} ± {self.se:.3f} (s.e., paired; per seed "
                f"{self.min:{fmt}} … {self.max:{fmt}}; {a} ahead on {self.wins}/{self.n} seeds)")

    def __repr__(self):
        return f"Paired({self.summary()})"


def paired(a, b, names=("a", "b")):
    """Compare two methods measured on the same seeds (or the same examples): see Paired."""
    return Paired(a, b, names)


class McNemar:
    """Two classifiers compared on the SAME examples (notebook 00 §7).

    From the per-example correctness vectors a and b: ``only_a`` examples right by a and
    wrong by b, ``only_b`` the reverse (the discordant pairs; the examples both get right or
    both get wrong say nothing about which is better). ``diff`` = accuracy(a) - accuracy(b)
    = (only_a - only_b) / n; ``se`` its paired standard error, std(a_i - b_i) / sqrt(n);
    ``unpaired_se`` the standard error two independent test sets would give,
    sqrt(p_a (1 - p_a) / n + p_b (1 - p_b) / n); ``p`` McNemar's exact two-sided p-value, the
    binomial probability of a split of the discordant pairs at least this uneven if each pair
    were a fair coin.
    """

    def __init__(self, a, b):
        a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
        if a.shape != b.shape or a.ndim != 1 or a.size < 2:
            raise ValueError(f"mcnemar: need two 1-D correctness vectors of the same length >= 2 "
                             f"(one entry per example), got shapes {a.shape} and {b.shape}")
        self.n = a.size
        self.only_a, self.only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
        d = a.astype(float) - b.astype(float)
        self.diff = float(d.mean())
        self.se = float(d.std(ddof=1) / math.sqrt(self.n))
        pa, pb = a.mean(), b.mean()
        self.unpaired_se = float(math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / self.n))
        m, k = self.only_a + self.only_b, min(self.only_a, self.only_b)
        # exact binomial tail in integers: no overflow or rounding for any m
        self.p = 1.0 if m == 0 else min(1.0, 2 * sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m)

    def summary(self, names=("a", "b")):
        a, b = names
        return (f"{a} − {b}: {100 * self.diff:+.1f} points ± {100 * self.se:.1f} (paired s.e.); "
                f"{self.only_a} digits only {a} gets right, {self.only_b} only {b}; "
                f"McNemar p = {self.p:.2g}")

    def __repr__(self):
        return f"McNemar({self.summary()})"


def mcnemar(a, b):
    """Paired comparison of two classifiers' per-example correctness on one data set: see McNemar."""
    return McNemar(a, b)


def bootstrap_se(values, n_boot=2000, rng=None):
    """Standard error of the mean of ``values`` (one number per example) by the bootstrap:
    the std of the mean over ``n_boot`` resamples of the examples with replacement. For a
    paired comparison pass the per-example differences a_i - b_i. Shapes: values (N,)."""
    from .rng import get_rng

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"bootstrap_se: need a 1-D array of >= 2 values, got shape {v.shape}")
    idx = get_rng(rng).integers(0, v.size, size=(int(n_boot), v.size))
    return float(v[idx].mean(axis=1).std(ddof=1))
