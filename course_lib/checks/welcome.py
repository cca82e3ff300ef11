"""Checks for notebooks/welcome.ipynb: a first taste of instant feedback."""
import numpy as np

from ._common import as_array, close, fail, passed


def check_mse(mse):
    """Check ``mse(y_hat, y)`` = mean of the squared differences, on fixed inputs."""
    y_hat = np.array([1.0, 2.0, 4.0])
    y = np.array([1.0, 3.0, 2.0])
    got = float(as_array(mse(y_hat, y), "mse(y_hat, y)"))
    call = "mse(np.array([1., 2., 4.]), np.array([1., 3., 2.]))"
    diffs = y_hat - y
    if close(got, np.abs(diffs).mean()):
        fail(f"{call}: it looks like you averaged |y_hat - y|; the differences must be squared")
    if close(got, (diffs ** 2).sum()):
        fail(f"{call}: it looks like you summed the squared differences; take the mean instead")
    if close(got, diffs.mean() ** 2):
        fail(f"{call}: square each difference BEFORE averaging, not the average")
    if not close(got, (diffs ** 2).mean()):
        fail(f"{call} returned {got:g}, which is not the mean squared difference")
    passed("mse")
