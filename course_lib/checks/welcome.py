"""Checks for notebooks/welcome.ipynb: a first taste of instant feedback."""
import numpy as np

from ._common import Call, as_array, check, close, fail, fmt_array, passed


@check()
def check_mse(mse, *, seed=None):
    """Check ``mse(y_hat, y)`` = mean of the squared differences, on fixed inputs (or, with a
    ``seed``, on other vectors of another length)."""
    if seed is None:
        y_hat, y = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    else:
        g = np.random.default_rng(seed)
        n = int(g.integers(4, 12))
        y_hat, y = np.round(g.normal(0, 2, n), 2), np.round(g.normal(0, 2, n), 2)
    call = Call(f"mse({fmt_array(y_hat)}, {fmt_array(y)})")
    got = float(as_array(mse(y_hat.copy(), y.copy()), "mse's result", call))
    diffs = y_hat - y
    if close(got, np.abs(diffs).mean()):
        fail("It looks like you averaged |y_hat - y|; the differences must be squared", call)
    if close(got, (diffs ** 2).sum()):
        fail("It looks like you summed the squared differences; take the mean instead", call)
    if close(got, diffs.mean() ** 2):
        fail("Square each difference BEFORE averaging, not the average", call)
    if not close(got, (diffs ** 2).mean()):
        fail(f"mse returned {got:g}, which is not the mean squared difference", call)
    passed("mse")
