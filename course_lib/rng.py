"""Seeding: one default ``np.random.Generator`` for the whole course.

Every function that draws random numbers takes ``rng=None``; ``None`` means "use the default
generator", which ``set_seed`` resets. The global ``np.random`` state is never touched.
Introduced in notebooks/00_foundations.ipynb.
"""
import numpy as np

_default = np.random.default_rng(0)


def set_seed(seed):
    """Reset the course's default generator: same seed, same numbers, every run."""
    global _default
    _default = np.random.default_rng(seed)
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
