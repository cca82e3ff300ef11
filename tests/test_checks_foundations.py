"""The checks of exercises/00_foundations.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import foundations
from course_lib.checks._common import hidden_mode
from _checkutil import assert_hides, hint, passes, raises_own_error
from _hardcoded import hard_coded, hard_coded_class

HIDDEN_SEEDS = [1, 11, 777, 2024, 31337]


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
    (softmax_sum_axis0, "COLUMNS of your softmax's output sum to 1"),
    (softmax_unnormalized, "do not sum to 1"),
    (softmax_in_place, "in place"),
    (softmax_keepdims_only_when_square, r"shape \(4, 4\) for one-column"),
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
    (ce_naive, "overflows on large logits"),
    (ce_in_place, "in place"),
    (lambda z, y: ce_ok(z, y)[0], r"should return a tuple \(loss, dz\)"),
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
    (np.array([2.3, 2.3]), "one finite number"),
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
    (InPlaceFit, "fit modifies X_train in place"),
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


# ------------------------------------------------------------------ sharper diagnoses

def softmax_min_shift(z):
    e = np.exp(z - z.min(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_mean_shift(z):
    e = np.exp(z - z.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("wrong", [softmax_min_shift, softmax_mean_shift])
def test_softmax_catches_a_shift_by_the_min_or_the_mean(wrong):
    # both pass logits near 1000 (any shift works there); a row spanning 1600 exposes them
    with np.errstate(all="ignore"):
        message = hint(checks.check_softmax, wrong, match="min or mean instead of its max")
    assert "softmax(np.array([[800.0, 0.0, -800.0]]))" in message
    assert_hides(message, SOFTMAX_EXPECTED)


def ce_epsilon_in_log(z, y):
    n, k = z.shape
    p = softmax_ok(z)
    return -np.log(p[np.arange(n), y] + 1e-12).mean(), (p - np.eye(k)[y]) / n


def ce_clipped(z, y):
    n, k = z.shape
    p = softmax_ok(z)
    return -np.log(np.clip(p[np.arange(n), y], 1e-15, 1.0)).mean(), (p - np.eye(k)[y]) / n


@pytest.mark.parametrize("wrong", [ce_epsilon_in_log, ce_clipped])
def test_cross_entropy_catches_an_epsilon_that_caps_the_loss(wrong):
    message = hint(checks.check_cross_entropy, wrong, match="epsilon inside the log")
    assert_hides(message, CE_EXPECTED)


class Variance(StandardizeOk):
    def transform(self, X):
        return (X - self.mean) / self.std ** 2


class NotCentred(StandardizeOk):
    def transform(self, X):
        return X / self.std


@pytest.mark.parametrize("wrong, match", [(Variance, "divides by the variance"),
                                          (NotCentred, "does not subtract the mean")])
def test_standardize_targets_the_variance_and_the_missing_centring(wrong, match):
    message = hint(checks.check_standardize, wrong, match=match)
    assert_hides(message, STD_EXPECTED)


def test_every_failure_names_the_function_and_shows_the_call():
    message = hint(checks.check_cross_entropy, ce_variant(loss_scale=-1.0), match="negative")
    advice, call = message.split("\nto reproduce: ")
    assert advice[0].isupper() and "cross_entropy" in advice
    assert call == "cross_entropy(np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -0.5], [1.5, 1.5, -2.0], " \
                   "[-1.0, 0.3, 0.8]]), np.array([0, 2, 1, 2]))"
    message = hint(checks.check_standardize, Leak, match="leak")
    assert message.split("\nto reproduce: ")[1].startswith("X_train = np.array(")


# ------------------------------------------------------------------ hidden tests

@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_softmax(softmax_ok, seed=seed)
    checks.check_cross_entropy(ce_ok, seed=seed)
    checks.check_standardize(StandardizeOk, seed=seed)
    assert capsys.readouterr().out.count("✓") == 3


def test_hidden_inputs_differ_from_the_public_ones():
    for seed in HIDDEN_SEEDS:
        assert foundations._softmax_inputs(seed)["square"].shape != (3, 3) or \
            not np.array_equal(foundations._softmax_inputs(seed)["square"], foundations._Z_SQUARE)
        (z, _), _ = foundations._ce_inputs(seed)
        assert z.shape != foundations._Z_CE.shape or not np.array_equal(z, foundations._Z_CE)
        assert foundations._standardize_inputs(seed)[0].shape != (4, 3) or \
            not np.array_equal(foundations._standardize_inputs(seed)[0], foundations._X_TRAIN)


def softmax_square_only(z):
    if z.shape[0] == z.shape[1]:
        return softmax_ok(z)
    e = np.exp(z - z.max(axis=1))
    return e / e.sum(axis=1)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (softmax_naive, "overflows"),
    (softmax_global_max, "one max of the whole array"),
    (softmax_column_max, "max of each COLUMN"),
    (softmax_no_keepdims, "keepdims=True"),
    (softmax_sum_no_keepdims, "keepdims=True"),
    (softmax_sum_axis0, "COLUMNS of your softmax's output sum to 1"),
    (softmax_unnormalized, "do not sum to 1"),
    (softmax_in_place, "in place"),
    (softmax_square_only, r"shape \((\d+), \1\) for one-column"),
    (softmax_min_shift, "min or mean"),
    (softmax_mean_shift, "min or mean"),
])
def test_hidden_softmax_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(all="ignore"):
        message = hint(lambda f: checks.check_softmax(f, seed=seed), wrong, match=match)
    inputs = foundations._softmax_inputs(seed)
    assert_hides(message, np.concatenate([softmax_ok(inputs[k]).ravel() for k in ("square", "wide")]))


def _gold_logp(z, y):
    return _log_softmax(z)[np.arange(len(z)), y]


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (ce_variant(loss_fn=lambda z, y, n, k: -_gold_logp(z, y).sum()), "SUM over the batch"),
    (ce_variant(loss_fn=lambda z, y, n, k: -_gold_logp(z, y).mean() / k), r"all N\*K entries"),
    (ce_variant(loss_scale=-1.0), "NEGATIVE log-likelihood"),
    (ce_variant(loss_fn=lambda z, y, n, k: -z[np.arange(n), y].mean()), "log-sum-exp term"),
    (ce_variant(per_example=True), "ONE number"),
    (ce_variant(dz_fn=lambda p, oh, n, k: p - oh), "N times too large"),
    (ce_variant(dz_fn=lambda p, oh, n, k: (oh - p) / n), "wrong sign"),
    (ce_variant(dz_fn=lambda p, oh, n, k: p / n), "subtract the one-hot"),
    (ce_variant(dz_fn=lambda p, oh, n, k: (p - oh) / (n * k)), r"divided by N\*K"),
    (ce_log_of_softmax, r"never log\(softmax\(z\)\)"),
    (ce_naive, "overflows on large logits"),
    (ce_epsilon_in_log, "epsilon inside the log"),
    (ce_in_place, "in place"),
])
def test_hidden_cross_entropy_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(all="ignore"):
        message = hint(lambda f: checks.check_cross_entropy(f, seed=seed), wrong, match=match)
    (z, y), _ = foundations._ce_inputs(seed)
    loss, dz = ce_ok(z, y)
    assert_hides(message, np.r_[loss, dz.ravel()])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (NoReturn, "return self"), (Leak, "leak"), (ZeroDivision, "divided by zero"),
    (TinyEpsilon, "tiny epsilon"), (Unbiased, "ddof=1"), (PerExample, "per EXAMPLE"),
    (InPlaceTransform, "in place"), (InPlaceFit, "fit modifies X_train in place"),
    (Variance, "variance"), (NotCentred, "does not subtract the mean"),
])
def test_hidden_standardize_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(all="ignore"):
        message = hint(lambda f: checks.check_standardize(f, seed=seed), wrong, match=match)
    train, test = foundations._standardize_inputs(seed)
    assert_hides(message, np.r_[StandardizeOk().fit(train).transform(test).ravel(),
                                train.mean(axis=0), train.std(axis=0)])


def test_a_hard_coded_softmax_fails_the_hidden_test(capsys):
    make = hard_coded(checks.check_softmax, softmax_ok)
    checks.check_softmax(make())                                  # fools the public check …
    with pytest.raises(AssertionError):
        checks.check_softmax(make(), seed=5)                      # … not the hidden one


def test_a_hard_coded_cross_entropy_fails_the_hidden_test(capsys):
    make = hard_coded(checks.check_cross_entropy, ce_ok)
    checks.check_cross_entropy(make())
    with pytest.raises(AssertionError):
        checks.check_cross_entropy(make(), seed=5)


def test_a_hard_coded_standardize_fails_the_hidden_test(capsys):
    make = hard_coded_class(checks.check_standardize, StandardizeOk, ["transform"])
    checks.check_standardize(make())
    with pytest.raises(AssertionError):
        checks.check_standardize(make(), seed=5)


@pytest.mark.parametrize("check, wrong", [
    (checks.check_softmax, softmax_global_max),
    (checks.check_softmax, softmax_square_only),
    (checks.check_cross_entropy, ce_epsilon_in_log),
    (checks.check_cross_entropy, ce_variant(loss_scale=-1.0)),
    (checks.check_standardize, Leak),
    (checks.check_standardize, TinyEpsilon),
])
def test_hidden_mode_messages_hold_no_inputs(check, wrong):
    with hidden_mode(), np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as info:
            check(wrong, seed=7)
    message = str(info.value)
    assert "to reproduce" not in message and "np.array(" not in message
    assert message[0].isupper() or message.split()[0].rstrip("'s") in (
        "softmax", "cross_entropy", "Standardize.fit", "Standardize.transform")


def test_hidden_variants_let_the_students_errors_through():
    for check in (checks.check_softmax, checks.check_cross_entropy):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error, seed=3)

    class Broken(StandardizeOk):
        def fit(self, X):
            raise ValueError("my own bug")
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_standardize(Broken, seed=3)


def test_initial_loss_declares_why_it_has_no_hidden_variant():
    assert checks.check_initial_loss.hidden is False
    assert "prediction" in checks.check_initial_loss.hidden_why
    for check in (checks.check_softmax, checks.check_cross_entropy, checks.check_standardize):
        assert check.hidden is True


def test_the_notebook_solutions_pass_the_public_and_hidden_tests(capsys):
    from _notebook_solutions import solution_namespace
    ns = solution_namespace("00_foundations", ["softmax", "cross_entropy", "initial_loss_prediction",
                                               "standardize"])
    checks.check_initial_loss(ns["predicted_loss"])
    for seed in [None] + HIDDEN_SEEDS + list(range(20)):
        checks.check_softmax(ns["softmax"], seed=seed)
        checks.check_cross_entropy(ns["cross_entropy"], seed=seed)
        checks.check_standardize(ns["Standardize"], seed=seed)
    assert capsys.readouterr().out.count("✓") == 1 + 3 * (1 + len(HIDDEN_SEEDS) + 20)


def test_hidden_mode_does_not_reveal_the_one_column_shape():
    with hidden_mode():
        with pytest.raises(AssertionError) as info:
            checks.check_softmax(softmax_square_only, seed=7)
    n = len(foundations._softmax_inputs(7)["column"])
    assert f"({n}, 1)" not in str(info.value) and "one-column" in str(info.value)
