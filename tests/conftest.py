"""Shared fixtures for the course_lib tests.

Randomness comes only from seeded ``np.random.Generator``s (never the global ``np.random``
state), everything is float64, and PyTorch is optional: tests that compare with it take the
``torch`` fixture (or carry the ``torch`` marker) and are skipped with a message when it is
not installed.
"""
import numpy as np
import pytest

import course_lib as cl

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is in the [test] extra; without it only its tests are lost
    settings = None
else:
    # small and deadline-free: the whole suite must stay well under a minute on 2 cores
    # derandomized and without an example database: same examples every run, no .hypothesis/
    settings.register_profile("course", max_examples=15, deadline=None, derandomize=True,
                              database=None,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    settings.load_profile("course")

TORCH_MISSING = ("PyTorch cannot be imported (not installed?), so the comparisons with it "
                 "are skipped; install the CPU build: pip install torch --index-url "
                 "https://download.pytorch.org/whl/cpu")


def _import_torch():
    # ImportError, not only ModuleNotFoundError: a broken install (missing shared library)
    # is "not importable" too
    torch = pytest.importorskip("torch", reason=TORCH_MISSING, exc_type=ImportError)
    # the comparisons are of float64 arithmetic; one thread keeps them fast on 2 cores
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch():
    """The torch module; the test is skipped (with an install hint) when it is missing."""
    return _import_torch()


def pytest_runtest_setup(item):
    # a test marked @pytest.mark.torch is skipped cleanly even if it does not ask for the fixture
    if item.get_closest_marker("torch") is not None:
        _import_torch()


@pytest.fixture(autouse=True)
def _reset_default_rng():
    """Every test starts from the same default generator, whatever ran before it."""
    cl.set_seed(0)
    yield
    cl.set_seed(0)


@pytest.fixture
def rng():
    """A fresh seeded generator for test data (independent of course_lib's default)."""
    return np.random.default_rng(1234)


@pytest.fixture
def make_rng():
    """Factory for extra seeded generators: ``make_rng(seed)``."""
    return np.random.default_rng


@pytest.fixture(scope="session")
def digits():
    """The course's digits split (seeded, scaled to [0, 1]); loaded once per session."""
    return cl.data.load_digits()
