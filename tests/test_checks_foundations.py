"""The checks of exercises/00_foundations.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

from course_lib import checks
from _checkutil import assert_hides, passes

# ------------------------------------------------------------------ helpers


def hint(check, *args, match):
    """The AssertionError message of a failing check (which must match ``match``)."""
    with pytest.raises(AssertionError, match=match) as info:
        check(*args)
    return str(info.value)


# ------------------------------------------------------------------ softmax

def softmax_ok(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def softmax_column_max(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=1))
    return e / e.sum(axis=1)


def softmax_sum_no_keepdims(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


def softmax_sum_axis0(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_unnormalized(z):
    return np.exp(z - z.max(axis=1, keepdims=True))


def softmax_in_place(z):
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_keepdims_only_when_square(z):
    # contrived: right on square inputs, so only the one-column backstop can catch it
    if z.shape[0] == z.shape[1]:
        return softmax_ok(z)
    e = np.exp(z - z.max(axis=1))
    return e / e.sum(axis=1)


SOFTMAX_INPUTS = [np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [-2.0, 0.0, 0.3]]),
                  np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.0, 1.0, 0.5]])]
SOFTMAX_EXPECTED = np.concatenate([softmax_ok(z).ravel() for z in SOFTMAX_INPUTS])


def test_softmax_passes_the_reference(capsys):
    passes(capsys, checks.check_softmax, softmax_ok, name="softmax")


@pytest.mark.parametrize("wrong, match", [
    (softmax_naive, "overflows"),
    (softmax_global_max, "one max of the whole array"),
    (softmax_column_max, "max of each COLUMN"),
    (softmax_no_keepdims, "keepdims=True"),
    (softmax_sum_no_keepdims, "keepdims=True"),
    (softmax_sum_axis0, "COLUMNS of your output sum to 1"),
    (softmax_unnormalized, "do not sum to 1"),
    (softmax_in_place, "in place"),
    (softmax_keepdims_only_when_square, r"expected \(4, 1\)"),
])
def test_softmax_mistakes(wrong, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_softmax, wrong, match=match)
    assert_hides(message, SOFTMAX_EXPECTED)


def test_softmax_hint_shows_the_call():
    message = hint(checks.check_softmax, softmax_naive, match="overflows")
    assert "softmax(np.array([[1000.0, 999.0, 998.0]]))" in message


def test_softmax_lets_the_students_error_through():
    def broken(z):
        raise ValueError("my own bug")
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_softmax(broken)


def test_softmax_returning_none():
    hint(checks.check_softmax, lambda z: None, match="return")


# ------------------------------------------------------------------ cross-entropy

def _log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def ce_ok(z, y):
    n, k = z.shape
    logp = _log_softmax(z)
    return -logp[np.arange(n), y].mean(), (np.exp(logp) - np.eye(k)[y]) / n


def ce_variant(loss_scale=1.0, loss_fn=None, dz_fn=None, per_example=False):
    """ce_ok with one term replaced."""
    def ce(z, y):
        n, k = z.shape
        logp = _log_softmax(z)
        per = -logp[np.arange(n), y]
        loss = per if per_example else loss_scale * per.mean()
        if loss_fn is not None:
            loss = loss_fn(z, y, n, k)
        p, onehot = np.exp(logp), np.eye(k)[y]
        dz = (p - onehot) / n if dz_fn is None else dz_fn(p, onehot, n, k)
        return loss, dz
    return ce


def ce_log_of_softmax(z, y):
    n, k = z.shape
    p = softmax_ok(z)
    return -np.log(p[np.arange(n), y]).mean(), (p - np.eye(k)[y]) / n


def ce_naive(z, y):
    n, k = z.shape
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(n), y]).mean(), (p - np.eye(k)[y]) / n


def ce_in_place(z, y):
    z -= z.max(axis=1, keepdims=True)
    return ce_ok(z, y)


CE_Z = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -0.5], [1.5, 1.5, -2.0], [-1.0, 0.3, 0.8]])
CE_Y = np.array([0, 2, 1, 2])
CE_EXPECTED = np.r_[ce_ok(CE_Z, CE_Y)[0], ce_ok(CE_Z, CE_Y)[1].ravel(),
                    ce_ok(np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]]), np.array([2, 0]))[0]]


def test_cross_entropy_passes_the_reference(capsys):
    passes(capsys, checks.check_cross_entropy, ce_ok, name="cross_entropy")


@pytest.mark.parametrize("wrong, match", [
    (ce_variant(loss_scale=4.0), "SUM over the batch"),
    (ce_variant(loss_scale=1 / 3), r"all N\*K entries"),
    (ce_variant(loss_scale=-1.0), "NEGATIVE log-likelihood"),
    (ce_variant(loss_fn=lambda z, y, n, k: -z[np.arange(n), y].mean()), "log-sum-exp term"),
    (ce_variant(per_example=True), "ONE number"),
    (ce_variant(dz_fn=lambda p, oh, n, k: p - oh), "N times too large"),
    (ce_variant(dz_fn=lambda p, oh, n, k: (oh - p) / n), "wrong sign"),
    (ce_variant(dz_fn=lambda p, oh, n, k: p / n), "subtract the one-hot"),
    (ce_variant(dz_fn=lambda p, oh, n, k: (p - oh) / (n * k)), r"divided by N\*K"),
    (ce_log_of_softmax, r"never log\(softmax\(z\)\)"),
    (ce_naive, r"never log\(softmax\(z\)\)"),
    (ce_in_place, "in place"),
    (lambda z, y: ce_ok(z, y)[0], "should return a pair"),
])
def test_cross_entropy_mistakes(wrong, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_cross_entropy, wrong, match=match)
    assert_hides(message, CE_EXPECTED)


def test_cross_entropy_lets_the_students_error_through():
    def broken(z, y):
        return z[:, y.reshape(2, 2)] + np.ones(5)     # a shape bug of the student's own
    with pytest.raises(ValueError):
        checks.check_cross_entropy(broken)


# ------------------------------------------------------------------ initial loss

def test_initial_loss_passes_good_predictions(capsys):
    for prediction in (np.log(10), 2.3, np.float64(2.30)):
        passes(capsys, checks.check_initial_loss, prediction, name="initial_loss")


@pytest.mark.parametrize("prediction, match", [
    (0.1, "PROBABILITY"),
    (10, "not K"),
    (1.0, "log10"),
    (np.log2(10), "log2"),
    (0.0, "loss of 0"),
    (-2.3, "never negative"),
    (0.9, "error rate"),
    (5.0, "far from the measured initial loss"),
    (np.array([2.3, 2.3]), "one number"),
    (None, "assign your prediction"),
    (float("nan"), "finite"),
])
def test_initial_loss_mistakes(prediction, match):
    message = hint(checks.check_initial_loss, prediction, match=match)
    if np.ndim(prediction) == 0 and prediction is not None:
        message = message.replace(f"{float(prediction):g}", "<the prediction>")
    assert_hides(message, [np.log(10)])


# ------------------------------------------------------------------ standardize

class StandardizeOk:
    def fit(self, X):
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 1e-8, std, 1.0)
        return self

    def transform(self, X):
        return (X - self.mean) / self.std


class NoReturn(StandardizeOk):
    def fit(self, X):
        super().fit(X)


class Leak(StandardizeOk):
    def transform(self, X):
        return StandardizeOk().fit(X).transform(X)


class ZeroDivision(StandardizeOk):
    def fit(self, X):
        self.mean, self.std = X.mean(axis=0), X.std(axis=0)
        return self


class TinyEpsilon(StandardizeOk):
    def fit(self, X):
        self.mean, self.std = X.mean(axis=0), X.std(axis=0)
        return self

    def transform(self, X):
        return (X - self.mean) / (self.std + 1e-8)


class Unbiased(StandardizeOk):
    def fit(self, X):
        super().fit(X)
        std = X.std(axis=0, ddof=1)
        self.std = np.where(std > 1e-8, std, 1.0)
        return self


class PerExample(StandardizeOk):
    def transform(self, X):
        mean, std = X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)
        return (X - mean) / np.where(std > 1e-8, std, 1.0)


class InPlaceTransform(StandardizeOk):
    def transform(self, X):
        X -= self.mean
        X /= self.std
        return X


class InPlaceFit(StandardizeOk):
    def fit(self, X):
        super().fit(X)
        X -= self.mean
        return self


X_TRAIN = np.array([[1.0, 10.0, 5.0], [2.0, 20.0, 5.0], [3.0, 60.0, 5.0], [6.0, 30.0, 5.0]])
X_TEST = np.array([[0.0, 40.0, 5.0], [4.0, 0.0, 7.0], [10.0, 25.0, 5.0]])
STD_EXPECTED = np.r_[StandardizeOk().fit(X_TRAIN).transform(X_TRAIN).ravel(),
                     StandardizeOk().fit(X_TRAIN).transform(X_TEST).ravel(),
                     X_TRAIN.mean(axis=0), X_TRAIN.std(axis=0)]


def test_standardize_passes_the_reference(capsys):
    passes(capsys, checks.check_standardize, StandardizeOk, name="standardize")


@pytest.mark.parametrize("wrong, match", [
    (NoReturn, "return self"),
    (Leak, "leak"),
    (ZeroDivision, "divided by zero"),
    (TinyEpsilon, "tiny epsilon"),
    (Unbiased, r"ddof=1"),
    (PerExample, "per EXAMPLE"),
    (InPlaceTransform, "in place"),
    (InPlaceFit, "fit changed X_train in place"),
])
def test_standardize_mistakes(wrong, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_standardize, wrong, match=match)
    assert_hides(message, STD_EXPECTED)


def test_standardize_lets_the_students_error_through():
    class Broken(StandardizeOk):
        def transform(self, X):
            raise ValueError("my own bug")
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_standardize(Broken)
