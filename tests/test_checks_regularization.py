"""The checks of exercises/07_regularization.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import regularization as reg
from _checkutil import assert_hides, hint, passes, raises_own_error


# ------------------------------------------------------------------ penalties

def penalty(value_of, grad_of, bias_value=None, bias_grad=None):
    """A penalty function built from per-array rules (weights: ndim >= 2)."""
    def fn(params, lam):
        value, grads = 0.0, []
        for p in params:
            w = p.data
            if w.ndim >= 2:
                value += value_of(w, lam)
                grads.append(grad_of(w, lam))
            else:
                value += bias_value(w, lam) if bias_value else 0.0
                grads.append(bias_grad(w, lam) if bias_grad else np.zeros_like(w))
        return value, grads
    return fn


l2_ok = penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w)
l1_ok = penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.sign(w))


def penalty_values(kind):
    out = []
    for arrays, lam in reg._CASES:
        weights = [a for a in arrays if a.ndim >= 2]
        if kind == "l2":
            out.append(0.5 * lam * sum(np.sum(w * w) for w in weights))
        else:
            out.append(lam * sum(np.sum(np.abs(w)) for w in weights))
    return out


def test_l2_passes_the_reference(capsys):
    passes(capsys, checks.check_l2_penalty, l2_ok, name="l2_penalty")


def test_l2_accepts_a_name_based_weight_test(capsys):
    def l2(params, lam):
        value = sum(0.5 * lam * float(np.sum(p.data ** 2)) for p in params if p.name == "W")
        return value, [lam * p.data if p.name == "W" else 0 * p.data for p in params]
    passes(capsys, checks.check_l2_penalty, l2, name="l2_penalty")


def l2_sum_norm_all(params, lam):
    weights = [p.data for p in params if p.data.ndim >= 2]
    value = 0.5 * lam * np.sqrt(sum(np.sum(w * w) for w in weights))
    return value, [lam * p.data if p.data.ndim >= 2 else np.zeros_like(p.data) for p in params]


def l2_into_grad(params, lam):
    for p in params:
        if p.data.ndim >= 2:
            p.grad += lam * p.data
    return l2_ok(params, lam)


def l2_changes_data(params, lam):
    result = l2_ok(params, lam)
    params[0].data *= 0.5
    return result


def l2_weights_only_grads(params, lam):
    value, grads = l2_ok(params, lam)
    return value, [g for g, p in zip(grads, params) if p.data.ndim >= 2]


def l2_flat_grads(params, lam):
    value, grads = l2_ok(params, lam)
    return value, [g.ravel() for g in grads]


@pytest.mark.parametrize("wrong, match", [
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w,
             bias_value=lambda b, lam: 0.5 * lam * np.sum(b * b)), "includes the biases"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w,
             bias_grad=lambda b, lam: lam * b), "belongs to a bias and is not zero"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w,
             bias_grad=lambda b, lam: 0.3 + 0 * b), "must be all zeros"),
    (penalty(lambda w, lam: lam * np.sum(w * w), lambda w, lam: lam * w), "is \\(lam / 2\\)"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: 2 * lam * w), "cancel the 2"),
    (penalty(lambda w, lam: 0.5 * lam * np.linalg.norm(w), lambda w, lam: lam * w), "SQUARED norm"),
    (penalty(lambda w, lam: lam * np.linalg.norm(w), lambda w, lam: lam * w), "SQUARED norm"),
    (l2_sum_norm_all, "SQUARED norm"),
    (penalty(lambda w, lam: 0.5 * lam * np.mean(w * w), lambda w, lam: lam * w), "averaged"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: -lam * w), "wrong sign"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w / np.linalg.norm(w)),
     "gradient of the norm"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * np.sign(w)), "L1 subgradient"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: 0.7 * w), "is not lam \\* w"),
    (penalty(lambda w, lam: 1.0, lambda w, lam: lam * w), "not \\(lam / 2\\) \\* the sum"),
    (l2_into_grad, "wrote into p.grad"),
    (l2_changes_data, "changed the parameters' data"),
    (l2_weights_only_grads, "one gradient per parameter"),
    (l2_flat_grads, "shape"),
    (lambda params, lam: None, "tuple \\(value, grads\\)"),
    (lambda params, lam: (None, []), "None"),
])
def test_l2_mistakes(wrong, match):
    message = hint(checks.check_l2_penalty, wrong, match=match)
    assert_hides(message, penalty_values("l2"))


def test_l1_passes_the_reference(capsys):
    passes(capsys, checks.check_l1_penalty, l1_ok, name="l1_penalty")


def l1_divide(params, lam):
    value, grads = l1_ok(params, lam)
    return value, [lam * p.data / np.abs(p.data) if p.data.ndim >= 2 else g for p, g in zip(params, grads)]


@pytest.mark.parametrize("wrong, match", [
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.sign(w),
             bias_value=lambda b, lam: lam * np.sum(np.abs(b))), "includes the biases"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.sign(w),
             bias_grad=lambda b, lam: lam * np.sign(b)), "belongs to a bias"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.abs(w)), "penalty itself"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.where(w >= 0, 1.0, -1.0)),
     "except where w == 0"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * np.where(w > 0, 1.0, -1.0)),
     "except where w == 0"),
    (l1_divide, "nan or inf"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: lam * w), "the L2 gradient"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: -lam * np.sign(w)), "wrong sign"),
    (penalty(lambda w, lam: 0.5 * lam * np.sum(np.abs(w)), lambda w, lam: lam * np.sign(w)), "no 1/2"),
    (penalty(lambda w, lam: lam * np.sum(w * w), lambda w, lam: lam * np.sign(w)), "squared the weights"),
    (penalty(lambda w, lam: lam * np.mean(np.abs(w)), lambda w, lam: lam * np.sign(w)), "averaged"),
    (penalty(lambda w, lam: lam * np.sum(np.abs(w)), lambda w, lam: 0.5 * lam * np.sign(w)),
     "is not lam \\* sign"),
    (l2_into_grad, "wrote into p.grad"),
])
def test_l1_mistakes(wrong, match):
    message = hint(checks.check_l1_penalty, wrong, match=match)
    assert_hides(message, penalty_values("l1"))


def test_l1_with_a_nan_gradient_prints_no_warning(capsys, recwarn):
    with pytest.raises(AssertionError, match="nan or inf"):
        checks.check_l1_penalty(l1_divide)
    assert not [w for w in recwarn if "invalid value" in str(w.message)]


def test_penalty_checks_let_the_students_error_through():
    for check in (checks.check_l2_penalty, checks.check_l1_penalty):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error)


# ------------------------------------------------------------------ max-norm

def max_norm_ok(W, c):
    norms = np.linalg.norm(W, axis=0)
    return W * np.minimum(1.0, c / norms)


def max_norm_in_place(W, c):
    W[...] = max_norm_ok(W, c)
    return W


def test_max_norm_passes_the_reference(capsys):
    passes(capsys, checks.check_max_norm, max_norm_ok, name="max_norm")


def test_max_norm_accepts_the_library_on_a_copy(capsys):
    import course_lib as cl

    def via_library(W, c):
        out = W.copy()
        cl.max_norm(out, c)
        return out
    passes(capsys, checks.check_max_norm, via_library, name="max_norm")


@pytest.mark.parametrize("wrong, match", [
    (lambda W, c: max_norm_ok(W.T, c).T, "ROWS"),
    (lambda W, c: W * (c / np.linalg.norm(W, axis=0)), "also those that were inside"),
    (lambda W, c: W * np.where(np.linalg.norm(W, axis=0) > c, 1 / np.linalg.norm(W, axis=0), 1.0),
     "did not multiply by c"),
    (lambda W, c: np.clip(W, -c, c), "clipped each weight"),
    (lambda W, c: W * min(1.0, c / np.linalg.norm(W)), "whole matrix"),
    (lambda W, c: W * np.where(np.linalg.norm(W, axis=0) > c, np.linalg.norm(W, axis=0) / c, 1.0),
     "got LONGER"),
    (max_norm_in_place, "changed W in place"),
    (lambda W, c: max_norm_ok(W, c).T, "transpose"),
    (lambda W, c: 0.9 * max_norm_ok(W, c), "not W with its too-long columns"),
    (lambda W, c: W * np.where(np.linalg.norm(W, axis=0) > c, 0.99 * c / np.linalg.norm(W, axis=0) + 0.1, 1.0),
     "still have a norm above c"),
])
def test_max_norm_mistakes(wrong, match):
    message = hint(checks.check_max_norm, wrong, match=match)
    refs = [reg._scale_columns(W, c) for W, c, _ in reg._maxnorm_cases()]
    assert_hides(message, np.concatenate([r.ravel() for r in refs]))


def test_max_norm_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_max_norm(raises_own_error)


# ------------------------------------------------------------------ early stopping

def stopper(compare="best", offset=0, reset=True, copy="arrays", restore="in place",
            returns=True, best_epoch_shift=0, attributes=True):
    """An EarlyStopping class with one planted variation."""
    class Stopper:
        def __init__(self, patience):
            self.patience = patience
            self.best_loss, self.best_epoch, self.snapshot = np.inf, None, None
            self.prev, self.bad = np.inf, 0
            if not attributes:
                del self.best_loss, self.best_epoch
                self.lowest = np.inf

        def update(self, epoch, val_loss, weights):
            best = self.best_loss if attributes else self.lowest
            improved = val_loss < (best if compare == "best" else self.prev)
            if val_loss < best:
                if attributes:
                    self.best_loss, self.best_epoch = val_loss, epoch + best_epoch_shift
                else:
                    self.lowest = val_loss
                if copy == "arrays":
                    self.snapshot = {k: v.copy() for k, v in weights.items()}
                elif copy == "dict":
                    self.snapshot = weights.copy()
                else:
                    self.snapshot = weights
            if improved:
                if reset:
                    self.bad = 0
            else:
                self.bad += 1
            self.prev = val_loss
            if not returns:
                return None
            return self.bad > 0 and self.bad >= self.patience + offset

        def restore(self, weights):
            if restore == "in place":
                for k, v in self.snapshot.items():
                    weights[k][...] = v
            elif restore == "rebind":
                for k, v in self.snapshot.items():
                    weights[k] = v.copy()
    return Stopper


class NeverStops:
    def __init__(self, patience):
        self.best_loss, self.best_epoch = np.inf, None

    def update(self, epoch, val_loss, weights):
        return False


def test_early_stopping_passes_the_reference(capsys):
    passes(capsys, checks.check_early_stopping, stopper(), name="early_stopping")


def test_early_stopping_variants_are_told_apart():
    """Every planted rule gives a different pair of stop epochs, and none agrees with the
    correct rule: the diagnosis by stop epochs is unambiguous."""
    signatures = [tuple(reg._stop_epoch(l, p) for l, p in reg._SEQUENCES)]
    for kwargs, _ in reg._STOP_VARIANTS:
        signatures.append(tuple(reg._stop_epoch(l, p, **kwargs) for l, p in reg._SEQUENCES))
    assert len(set(signatures)) == len(signatures), signatures


@pytest.mark.parametrize("wrong, match", [
    (stopper(offset=1), "one epoch too late"),
    (stopper(offset=-1), "one epoch too early"),
    (stopper(compare="last"), "PREVIOUS epoch's. An improvement"),
    (stopper(compare="last", offset=1), "stops one epoch late"),
    (stopper(compare="last", offset=-1), "stops one epoch early"),
    (stopper(reset=False), "restart at 0"),
    (NeverStops, "never returned True"),
    (stopper(returns=False), "must return True \\(stop now\\) or False"),
    (stopper(attributes=False), "best_epoch and best_loss"),
    (stopper(best_epoch_shift=1), "best_epoch is"),
    (stopper(copy="reference"), "LAST epoch"),
    (stopper(copy="dict"), "copies only the dict"),
    (stopper(restore="rebind"), "replaced the dict's entries"),
    (stopper(restore="nothing"), "did not change the weights"),
])
def test_early_stopping_mistakes(wrong, match):
    hint(checks.check_early_stopping, wrong, match=match)


def test_early_stopping_lets_the_students_error_through():
    class Broken:
        def __init__(self, patience):
            raise ValueError("my own bug")

    with pytest.raises(ValueError, match="my own bug"):
        checks.check_early_stopping(Broken)


# ------------------------------------------------------------------ label smoothing

def smooth_ok(y, k, alpha):
    return (1 - alpha) * np.eye(k)[y] + alpha / k


def smooth_in_place(y, k, alpha):
    out = smooth_ok(y, k, alpha)
    y[...] = 0
    return out


def test_smooth_labels_passes_the_reference(capsys):
    passes(capsys, checks.check_smooth_labels, smooth_ok, name="smooth_labels")


@pytest.mark.parametrize("wrong, match", [
    (lambda y, k, a: (1 - a) * np.eye(k)[y] + a / (k - 1) * (1 - np.eye(k)[y]), "alpha / \\(K - 1\\)"),
    (lambda y, k, a: (1 - a) * np.eye(k)[y], "only the gold class"),
    (lambda y, k, a: np.eye(k)[y] + a / k, "without scaling"),
    (lambda y, k, a: (1 - a) * np.eye(k)[y] + a / k * (1 - np.eye(k)[y]), "did not get its share"),
    (lambda y, k, a: smooth_ok(y, int(y.max()) + 1, a), "from the labels"),
    (lambda y, k, a: smooth_ok(np.unique(y, return_inverse=True)[1], len(np.unique(y)), a), "from the labels"),
    (lambda y, k, a: smooth_ok(y, k, a).T, "one row per example"),
    (smooth_in_place, "changed y in place"),
    (lambda y, k, a: (1 - a) * np.eye(k)[y] + a / (k - 1), "do not sum to 1"),
    (lambda y, k, a: np.roll(smooth_ok(y, k, a), 1, axis=1), "does not return"),
])
def test_smooth_labels_mistakes(wrong, match):
    message = hint(checks.check_smooth_labels, wrong, match=match)
    assert_hides(message, [np.unique(smooth_ok(y, k, a)) for y, k, a in reg._SMOOTH_CASES][0])


def test_smooth_labels_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_smooth_labels(raises_own_error)


# ------------------------------------------------------------------ ensemble variance

def test_ensemble_variance_passes_good_predictions(capsys):
    for p in (0.6 ** 2 / 8, np.float64(0.045), np.array(0.0452)):
        passes(capsys, checks.check_ensemble_variance, p, name="ensemble_variance")


@pytest.mark.parametrize("prediction, match", [
    (0.6 / 8, "STANDARD DEVIATION by n"),
    (0.36 / 64, "variances of n independent errors add up"),
    (0.6 / np.sqrt(8), "STANDARD DEVIATION of the average"),
    (0.36, "a single model's spread"),
    (0.6, "a single model's spread"),
    (8 * 0.36, "variance of the SUM"),
    (0.36 / np.sqrt(8), "not with sqrt\\(n\\)"),
    (-0.1, "a variance is positive"),
    (0.01, "not within 5 %"),
    (None, "is None"),
    (np.array([0.04, 0.05]), "one finite number"),
    (np.nan, "one finite number"),
])
def test_ensemble_variance_mistakes(prediction, match):
    message = hint(checks.check_ensemble_variance, prediction, match=match)
    assert_hides(message, [0.36 / 8])
