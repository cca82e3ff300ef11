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


L2_MISTAKES = [
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
]


@pytest.mark.parametrize("wrong, match", L2_MISTAKES)
def test_l2_mistakes(wrong, match):
    message = hint(checks.check_l2_penalty, wrong, match=match)
    assert_hides(message, penalty_values("l2"))


def test_l1_passes_the_reference(capsys):
    passes(capsys, checks.check_l1_penalty, l1_ok, name="l1_penalty")


def l1_divide(params, lam):
    value, grads = l1_ok(params, lam)
    return value, [lam * p.data / np.abs(p.data) if p.data.ndim >= 2 else g for p, g in zip(params, grads)]


L1_MISTAKES = [
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
]


@pytest.mark.parametrize("wrong, match", L1_MISTAKES)
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


MAX_NORM_MISTAKES = [
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
]


@pytest.mark.parametrize("wrong, match", MAX_NORM_MISTAKES)
def test_max_norm_mistakes(wrong, match):
    message = hint(checks.check_max_norm, wrong, match=match)
    refs = [reg._scale_columns(W, c) for W, c, _ in reg._maxnorm_cases()]
    assert_hides(message, np.concatenate([r.ravel() for r in refs]))


def test_max_norm_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_max_norm(raises_own_error)


# ------------------------------------------------------------------ early stopping

def stopper(compare="best", offset=0, reset=True, copy="arrays", restore="in place",
            returns=True, best_epoch_shift=0, attributes=True, snapshot_on_equal=False):
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
            improved = {"best": val_loss < best, "best or equal": val_loss <= best,
                        "last": val_loss < self.prev}[compare]
            if val_loss < best or (snapshot_on_equal and val_loss == best):
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


STOPPER_MISTAKES = [
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
    (stopper(compare="best or equal"), "EQUAL to the best as an improvement"),
    (stopper(snapshot_on_equal=True), "only EQUALS the best"),
]


@pytest.mark.parametrize("wrong, match", STOPPER_MISTAKES)
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


SMOOTH_MISTAKES = [
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
]


@pytest.mark.parametrize("wrong, match", SMOOTH_MISTAKES)
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


# ------------------------------------------------------------ sharper diagnoses

def test_early_stopping_told_apart_with_the_tie_and_hints_paste_into_a_cell():
    assert reg._told_apart(reg._SEQUENCES)
    message = hint(checks.check_early_stopping, stopper(compare="best or equal"), match="strictly below")
    code = message.split("to reproduce: ", 1)[1]
    namespace = {"np": np, "checks": checks, "EarlyStopping": stopper(compare="best or equal")}
    exec(compile(code.replace("checks.regularization.run_stopper", "result = checks.regularization.run_stopper"),
                 "<hint>", "exec"), namespace)
    stopper_obj, stop, weights = namespace["result"]
    assert stop != reg._stop_epoch(reg._SEQUENCES[0][0], reg._SEQUENCES[0][1])


def test_run_stopper_names_a_return_value_that_is_not_a_bool():
    with pytest.raises(TypeError, match="True \\(stop now\\) or False"):
        reg.run_stopper(stopper(returns=False), [1.0, 0.9], 2)


def test_penalties_with_the_weights_found_by_position_fail_a_hidden_test():
    """Every other parameter is a weight in the public lists (W, b, W, b); a model with a
    BatchNorm layer has the 1-D gamma and beta in between."""
    def by_position(params, lam):
        value, grads = 0.0, []
        for i, p in enumerate(params):
            value += 0.5 * lam * np.sum(p.data ** 2) if i % 2 == 0 else 0.0
            grads.append(lam * p.data if i % 2 == 0 else np.zeros_like(p.data))
        return value, grads
    checks.check_l2_penalty(by_position)                        # passes the public check …
    for seed in HIDDEN_SEEDS:
        arrays = reg.penalty_cases(seed)[0][0]
        assert any(a.ndim == 1 and b.ndim == 1 for a, b in zip(arrays, arrays[1:]))   # gamma, beta
        hidden_hint(checks.check_l2_penalty, by_position, seed, "by their position")


# ------------------------------------------------------------------ hidden tests

from course_lib.checks._common import hidden_mode                  # noqa: E402
from _hiddencheck import HIDDEN_SEEDS, assert_advice_form, hidden_hint   # noqa: E402

# (a constant gradient 0.37 for the biases: 0.3 is one of the hidden strengths, where it would
# look like lam * sign(b))
L2_HIDDEN_MISTAKES = [(w, m) for w, m in L2_MISTAKES if m != "must be all zeros"] + [
    (penalty(lambda w, lam: 0.5 * lam * np.sum(w * w), lambda w, lam: lam * w,
             bias_grad=lambda b, lam: 0.37 + 0 * b), "must be all zeros")]


def hidden_penalty_values(seed, kind):
    out = []
    for arrays, lam in reg.penalty_cases(seed):
        weights = [a for a in arrays if a.ndim >= 2]
        if kind == "l2":
            out.append(0.5 * lam * sum(np.sum(w * w) for w in weights))
        else:
            out.append(lam * sum(np.sum(np.abs(w)) for w in weights))
    return out


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3, 4, 5))
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_l2_penalty(l2_ok, seed=seed)
    checks.check_l1_penalty(l1_ok, seed=seed)
    checks.check_max_norm(max_norm_ok, seed=seed)
    checks.check_early_stopping(stopper(), seed=seed)
    checks.check_smooth_labels(smooth_ok, seed=seed)
    assert capsys.readouterr().out.count("✓") == 5


def test_hidden_inputs_stay_in_the_regime():
    for seed in range(40):
        sequences = reg.stopping_sequences(seed)
        assert reg._told_apart(sequences)
        ties = [len(set(l)) < len(l) for l, _ in sequences]
        assert ties == [False, False, True]
        for W, c, _ in reg._maxnorm_cases(seed)[:2]:
            norms = np.linalg.norm(W, axis=0)
            assert norms.min() < c < norms.max() and np.abs(W).max() > c and W.shape[0] != W.shape[1]
        for y, k, alpha in reg.smoothing_cases(seed):
            assert y.max() < k - 1 and len(y) != k
        for arrays, lam in reg.penalty_cases(seed):
            assert any(np.any(a == 0) for a in arrays if a.ndim >= 2)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", L2_HIDDEN_MISTAKES)
def test_hidden_l2_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_l2_penalty, wrong, seed, match)
    assert_advice_form(message, "l2_penalty")
    assert_hides(message, hidden_penalty_values(seed, "l2"))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", L1_MISTAKES)
def test_hidden_l1_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(invalid="ignore", divide="ignore"):
        message = hidden_hint(checks.check_l1_penalty, wrong, seed, match)
    assert_advice_form(message, "l1_penalty")
    assert_hides(message, hidden_penalty_values(seed, "l1"))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", MAX_NORM_MISTAKES)
def test_hidden_max_norm_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_max_norm, wrong, seed, match)
    assert_advice_form(message, "max_norm")
    refs = [reg._scale_columns(W, c) for W, c, _ in reg._maxnorm_cases(seed)]
    assert_hides(message, np.concatenate([r.ravel() for r in refs]))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", STOPPER_MISTAKES + [(NeverStops, "never returned True")])
def test_hidden_early_stopping_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_early_stopping, wrong, seed, match)
    assert_advice_form(message, "EarlyStopping")
    for losses, _ in reg.stopping_sequences(seed):
        assert f"{losses[1]:g}" not in message            # no validation loss of the hidden curves


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", SMOOTH_MISTAKES)
def test_hidden_smooth_labels_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_smooth_labels, wrong, seed, match)
    assert_advice_form(message, "smooth_labels")
    assert_hides(message, np.concatenate([np.unique(smooth_ok(y, k, a)) for y, k, a in reg.smoothing_cases(seed)]))


def test_public_messages_name_the_function_and_start_a_sentence():
    for check, mistakes, name in ((checks.check_l2_penalty, L2_MISTAKES, "l2_penalty"),
                                  (checks.check_l1_penalty, L1_MISTAKES, "l1_penalty"),
                                  (checks.check_max_norm, MAX_NORM_MISTAKES, "max_norm"),
                                  (checks.check_early_stopping, STOPPER_MISTAKES, "EarlyStopping"),
                                  (checks.check_smooth_labels, SMOOTH_MISTAKES, "smooth_labels")):
        for wrong, match in mistakes:
            with np.errstate(invalid="ignore", divide="ignore"):
                assert_advice_form(hint(check, wrong, match=match), name)


def test_hard_coded_answers_fail_the_hidden_tests():
    answers = {lam: l2_ok([cl_param(a) for a in arrays], lam) for arrays, lam in reg._CASES}
    l1_answers = {lam: l1_ok([cl_param(a) for a in arrays], lam) for arrays, lam in reg._CASES}
    norm_answers = {(W.shape, c): max_norm_ok(W, c) for W, c, _ in reg._maxnorm_cases()}
    smooth_answers = {(len(y), k, a): smooth_ok(y, k, a) for y, k, a in reg._SMOOTH_CASES}
    stops = {(tuple(l[:3]), p): reg._stop_epoch(l, p) for l, p in reg._SEQUENCES}

    class Memorized:
        """Stops at the public sequences' stop epochs, recognised by their first losses."""
        def __init__(self, patience):
            self.patience, self.seen, self.best_loss, self.best_epoch, self.snap = patience, [], np.inf, None, None

        def update(self, epoch, val_loss, weights):
            self.seen.append(val_loss)
            if val_loss < self.best_loss:
                self.best_loss, self.best_epoch = val_loss, epoch
                self.snap = {k: v.copy() for k, v in weights.items()}
            return epoch == stops.get((tuple(self.seen[:3]), self.patience), 5)

        def restore(self, weights):
            for k, v in self.snap.items():
                weights[k][...] = v

    fakes = [(checks.check_l2_penalty, lambda params, lam: answers.get(lam, answers[0.1])),
             (checks.check_l1_penalty, lambda params, lam: l1_answers.get(lam, l1_answers[0.1])),
             (checks.check_max_norm, lambda W, c: norm_answers.get((W.shape, c), W)),
             (checks.check_smooth_labels, lambda y, k, a: smooth_answers.get((len(y), k, a), np.eye(k)[y])),
             (checks.check_early_stopping, Memorized)]
    for check, fake in fakes:
        check(fake)                                              # fools the public check …
        for seed in HIDDEN_SEEDS:
            with pytest.raises(AssertionError):
                check(fake, seed=seed)                           # … not a hidden one


def cl_param(a):
    import course_lib as cl
    return cl.Parameter(a)


@pytest.mark.parametrize("check", [checks.check_l2_penalty, checks.check_l1_penalty, checks.check_max_norm,
                                   checks.check_smooth_labels])
def test_hidden_variants_let_the_students_error_through(check):
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        check(raises_own_error, seed=HIDDEN_SEEDS[0])


def test_hidden_early_stopping_lets_the_students_error_through():
    class Broken:
        def __init__(self, patience):
            raise ValueError("my own bug")
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        checks.check_early_stopping(Broken, seed=HIDDEN_SEEDS[0])


def test_the_prediction_declares_why_it_has_no_hidden_variant():
    assert checks.check_ensemble_variance.hidden is False
    assert "scenario" in checks.check_ensemble_variance.hidden_why
    for check in (checks.check_l2_penalty, checks.check_l1_penalty, checks.check_max_norm,
                  checks.check_early_stopping, checks.check_smooth_labels):
        assert check.hidden is True


def test_l1_with_the_weights_found_by_position_fails_a_hidden_test():
    def by_position(params, lam):
        return (sum(lam * np.sum(np.abs(p.data)) for p in params[0::2]),
                [lam * np.sign(p.data) if i % 2 == 0 else np.zeros_like(p.data) for i, p in enumerate(params)])
    checks.check_l1_penalty(by_position)
    hidden_hint(checks.check_l1_penalty, by_position, HIDDEN_SEEDS[0], "by their position")
