"""Shared fixtures for the course_lib tests.

Randomness comes only from seeded ``np.random.Generator``s (never the global ``np.random``
state), everything is float64, and PyTorch is optional: parity is checked against the
committed reference file everywhere (tests/test_torch_references.py), and the tests that
compare with live torch (``torch`` fixture or marker) are DESELECTED when torch cannot be
imported, with one line in the summary saying so (so a run without torch shows no skips).
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
    """The torch module (tests that use it are deselected when it cannot be imported)."""
    return _import_torch()


def _torch_importable():
    try:
        import torch  # noqa: F401  (a broken install raises ImportError too)
    except ImportError:
        return False
    return True


def _needs_torch(item):
    return item.get_closest_marker("torch") is not None or "torch" in getattr(item, "fixturenames", ())


_TORCH_DESELECTED = pytest.StashKey[int]()    # how many live torch tests were deselected


def pytest_collection_modifyitems(config, items):
    # without torch, its live comparisons are deselected, not skipped; the parity itself is
    # still checked against tests/references/ (no torch needed)
    live = [item for item in items if _needs_torch(item)]
    if not live or _torch_importable():
        return
    items[:] = [item for item in items if not _needs_torch(item)]
    config.hook.pytest_deselected(items=live)
    config.stash[_TORCH_DESELECTED] = len(live)


def pytest_sessionfinish(session):
    # an xdist worker hands its count to the controller, which prints the line
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["torch_deselected"] = session.config.stash.get(_TORCH_DESELECTED, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    count = getattr(node, "workeroutput", {}).get("torch_deselected", 0)
    stash = node.config.stash
    stash[_TORCH_DESELECTED] = max(stash.get(_TORCH_DESELECTED, 0), count)


def pytest_terminal_summary(terminalreporter, config):
    count = config.stash.get(_TORCH_DESELECTED, 0)
    if count and not hasattr(config, "workeroutput"):
        terminalreporter.write_line(
            f"PyTorch is not importable: {count} live comparisons with it were deselected; parity "
            f"was checked against the committed torch reference values (tests/references/).")


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
