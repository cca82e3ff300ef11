"""Seeding: one course seed, one default ``np.random.Generator``, and seeds for experiments.

Every random draw of the course flows from ``COURSE_SEED`` (an environment variable, default
0), so a whole notebook can be re-run on other seeds and its asserts must still hold:

    COURSE_SEED=7 jupyter lab          # or: make lab COURSE_SEED=7

Every function that draws random numbers takes ``rng=None``; ``None`` means "use the default
generator", which ``set_seed`` resets. Experiments that need several independent runs take
their seeds from ``seeds(n)`` and their generators from ``make_rng(k)``. Under the default
``COURSE_SEED=0`` these are simply the seeds 0, 1, 2, ..., so ``make_rng(5)`` is
``np.random.default_rng(5)``; under ``COURSE_SEED=s`` they become 1000 s, 1000 s + 1, ...
The global ``np.random`` state is never touched.
Introduced in notebooks/00_foundations.ipynb.
"""
import os

import numpy as np

ENV_VAR = "COURSE_SEED"
_BAND = 1000          # seeds of one course seed: 1000 * COURSE_SEED + k, 0 <= k < 1000


def course_seed():
    """The course seed: the integer in the environment variable COURSE_SEED, default 0."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{ENV_VAR} must be a non-negative integer, got {value}")
    return value


def _derived(k):
    if not isinstance(k, (int, np.integer)) or not 0 <= k < _BAND:
        raise ValueError(f"a seed offset must be an integer in [0, {_BAND}), got {k!r}")
    return _BAND * course_seed() + int(k)


def seeds(n, start=0):
    """``n`` seeds for an experiment repeated on independent runs, derived from COURSE_SEED.

    Under COURSE_SEED=0 they are start, start + 1, ..., start + n - 1.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"seeds: n must be a positive integer, got {n!r}")
    return [_derived(start + i) for i in range(n)]


def make_rng(k=0):
    """A fresh generator for one random ingredient of an experiment (its k-th), derived from
    COURSE_SEED: ``np.random.default_rng(1000 * COURSE_SEED + k)``."""
    return np.random.default_rng(_derived(k))


_default = np.random.default_rng(_derived(0))


def set_seed(seed=None):
    """Reset the course's default generator: same seed, same numbers, every run.

    ``set_seed()`` derives the seed from COURSE_SEED (0 under the default COURSE_SEED=0);
    ``set_seed(s)`` uses the explicit seed s whatever COURSE_SEED says.
    """
    global _default
    _default = np.random.default_rng(_derived(0) if seed is None else seed)
    return _default


def get_rng(rng=None):
    """Return ``rng`` if given (a Generator or an int seed), else the default generator."""
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, "
                    f"got {type(rng).__name__}")
