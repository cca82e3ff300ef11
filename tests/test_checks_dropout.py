"""The checks of exercises/05_dropout.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

import course_lib as cl
from course_lib import checks
from _checkutil import assert_hides as _assert_hides, hint, passes, raises_own_error


def assert_hides(message, values):
    return _assert_hides(message, values, min_abs=1e-6)


# ------------------------------------------------------------------ forward pass

def forward_variant(keep_prob=False, scale="inverted", eval_drop=False, eval_scale=False,
                    boolean_mask=False, new_rng=False, global_rng=False, in_place=False,
                    eval_mask="ones", never=False):
    def dropout_forward(x, p, training, rng):
        if not training:
            out = x * (1 - p) if eval_scale else x
            if eval_drop:
                out = x * (rng.random(x.shape) >= p) / (1 - p)
            return out, (np.ones_like(x) if eval_mask == "ones" else None)
        if new_rng:
            rng = np.random.default_rng(0)
        u = np.random.random(x.shape) if global_rng else rng.random(x.shape)
        keep = (u < p) if keep_prob else (u >= p)
        if never:
            keep = np.ones_like(keep)
        factor = {"inverted": 1 / (1 - p), "none": 1.0, "1/p": 1 / p, "1-p": 1 - p}[scale]
        if keep_prob and scale == "inverted":
            factor = 1 / p
        mask = keep * factor
        if in_place:
            x *= mask
            return x, mask
        return x * mask, (keep.astype(float) if boolean_mask else mask)
    return dropout_forward


def test_dropout_forward_passes_the_reference(capsys):
    passes(capsys, checks.check_dropout_forward, forward_variant(), name="dropout_forward")


def test_dropout_forward_passes_course_lib(capsys):
    def dropout_forward(x, p, training, rng):
        layer = cl.Dropout(p, rng=rng)
        layer.train(training)
        out = layer.forward(x)
        return out, (np.ones_like(x) if layer.mask is None else layer.mask)
    passes(capsys, checks.check_dropout_forward, dropout_forward, name="dropout_forward")


def test_dropout_forward_accepts_another_way_to_draw(capsys):
    def dropout_forward(x, p, training, rng):
        if not training:
            return x, np.ones_like(x)
        mask = rng.binomial(1, 1 - p, size=x.shape) / (1 - p)
        return x * mask, mask
    passes(capsys, checks.check_dropout_forward, dropout_forward, name="dropout_forward")


@pytest.mark.parametrize("wrong, match", [
    (forward_variant(scale="none"), "are not scaled"),
    (forward_variant(keep_prob=True), "KEEP"),
    (forward_variant(scale="1/p"), "divided by p"),
    (forward_variant(scale="1-p"), r"multiplied by \(1 - p\)"),
    (forward_variant(eval_drop=True), "EVALUATION mode"),
    (forward_variant(scale="none", eval_scale=True), "old convention"),
    (forward_variant(boolean_mask=True), "not scaled"),
    (forward_variant(new_rng=True), "SAME generator"),
    (forward_variant(global_rng=True), "not from np.random"),
    (forward_variant(in_place=True), "in place"),
    (forward_variant(eval_mask=None), "mask is None"),
    (forward_variant(never=True), "nothing was dropped"),
    (lambda x, p, training, rng: forward_variant()(x, p, training, rng)[0], "should return a tuple"),
])
def test_dropout_forward_mistakes(wrong, match):
    message = hint(checks.check_dropout_forward, wrong, match=match)
    assert_hides(message, [1 / (1 - 0.2)])


def test_dropout_forward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_dropout_forward(raises_own_error)


# ----------------------------------------------------------------- backward pass

def test_dropout_backward_passes_the_reference(capsys):
    passes(capsys, checks.check_dropout_backward, lambda dout, mask: dout * mask,
           name="dropout_backward")


def fresh_mask(dout, mask):
    return dout * (np.random.default_rng(99).random(dout.shape) >= 0.25) / 0.75


def random_each_call(dout, mask):
    return dout * mask * (1 + 1e-3 * np.random.random())


def in_place(dout, mask):
    dout *= mask
    return dout


def complement_mask(dout, mask):
    return dout * (mask == 0)


@pytest.mark.parametrize("wrong, match", [
    (fresh_mask, "NEW mask"),
    (complement_mask, "mask is inverted"),
    (lambda dout, mask: dout, "unchanged"),
    (lambda dout, mask: mask, "mask itself"),
    (lambda dout, mask: dout * (mask > 0), "scaling is lost"),
    (lambda dout, mask: dout * mask * mask, "applied twice"),
    (in_place, "in place"),
    (lambda dout, mask: dout * mask + 0.1, "is not dout \\* mask"),
])
def test_dropout_backward_mistakes(wrong, match):
    message = hint(checks.check_dropout_backward, wrong, match=match)
    rng = np.random.default_rng(3)
    mask = (rng.random((4, 6)) >= 0.25) / 0.75
    assert_hides(message, rng.standard_normal((4, 6)) * mask)


def test_dropout_backward_notices_randomness_in_a_right_looking_result():
    calls = []

    def sometimes(dout, mask):
        calls.append(1)
        return dout * mask * (1.0 if len(calls) == 1 else 1.5)
    hint(checks.check_dropout_backward, sometimes, match="different result on every call")


def test_dropout_backward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_dropout_backward(raises_own_error)


# --------------------------------------------------------- predict the mean

H, P, N = 2.0, 0.3, 400 * 250
RIGHT_STD = np.sqrt(H ** 2 * P / (1 - P) / N)


def test_dropout_mean_prediction_passes_the_reference(capsys):
    passes(capsys, checks.check_dropout_mean_prediction, H, RIGHT_STD, name="dropout_mean_prediction")
    passes(capsys, checks.check_dropout_mean_prediction, 2, 0.004, name="dropout_mean_prediction")


@pytest.mark.parametrize("mean, std, match", [
    ((1 - P) * H, RIGHT_STD, "WITHOUT the 1/\\(1 - p\\) scaling"),
    (H / (1 - P), RIGHT_STD, "one KEPT entry"),
    (P * H, RIGHT_STD, "what is the average"),
    (3.0, RIGHT_STD, "not close to the measured mean"),
    (H, 0.0, "itself random"),
    (H, np.sqrt(H ** 2 * P / (1 - P)), "std of ONE entry"),
    (H, H ** 2 * P / (1 - P) / N, "VARIANCE of the mean"),
    (H, np.sqrt(H ** 2 * P / (1 - P)) / N, "not / n"),
    (H, H * np.sqrt(P * (1 - P) / N), "UNSCALED mask"),
    (H, np.sqrt(P / (1 - P) / N), "factor h is missing"),
    (H, 0.1, "not within 20 %"),
    (None, RIGHT_STD, "is None"),
    (H, [1.0, 2.0], "one finite number"),
])
def test_dropout_mean_prediction_mistakes(mean, std, match):
    message = hint(checks.check_dropout_mean_prediction, mean, std, match=match)
    assert_hides(message, [RIGHT_STD])


def test_dropout_mean_prediction_compares_with_a_real_measurement():
    # the check's fast binomial measurement agrees with sampling the masks entry by entry
    rng = np.random.default_rng(0)
    means = [(H * (rng.random((400, 250)) >= P) / (1 - P)).mean() for _ in range(100)]
    assert abs(np.std(means, ddof=1) / RIGHT_STD - 1) < 0.25
    assert abs(np.mean(means) - H) < 4 * RIGHT_STD / 10


# ------------------------------------------------------- accuracy in eval mode

def accuracy_variant(switch=True, restore="previous", percent=False, count=False, axis=1):
    def eval_accuracy(model, X, y):
        was = model.training
        if switch:
            model.eval()
        pred = model.forward(X).argmax(axis=axis)
        if restore == "previous":
            model.train(was)
        elif restore == "train":
            model.train()
        correct = (pred == y)
        if count:
            return correct.sum()
        return 100 * correct.mean() if percent else correct.mean()
    return eval_accuracy


def test_eval_accuracy_passes_the_reference(capsys):
    passes(capsys, checks.check_eval_accuracy, accuracy_variant(), name="eval_accuracy")
    passes(capsys, checks.check_eval_accuracy,
           lambda model, X, y: cl.evaluate(model, cl.SoftmaxCrossEntropy(), X, y)[1],
           name="eval_accuracy")


@pytest.mark.parametrize("wrong, match", [
    (accuracy_variant(switch=False), "TRAINING mode"),
    (accuracy_variant(restore="none"), "restore it"),
    (accuracy_variant(restore="train"), "evaluation mode before your call"),
    (accuracy_variant(percent=True), "percentage"),
    (accuracy_variant(count=True), "a count"),
    (lambda model, X, y: accuracy_variant()(model, X, y) * 0.5, "argmax over the classes"),
    (lambda model, X, y: np.array([0.5, 0.5]), "ONE number"),
])
def test_eval_accuracy_mistakes(wrong, match):
    message = hint(checks.check_eval_accuracy, wrong, match=match)
    assert_hides(message, [0.75])


def test_eval_accuracy_reference_model_has_the_intended_accuracy():
    model, X, y = checks.dropout.accuracy_test_model()
    assert accuracy_variant()(model, X, y) == 0.75
    model.train()
    train_mode = np.mean([(model.forward(X).argmax(axis=1) == y).mean() for _ in range(5)])
    assert train_mode != 0.75


def test_eval_accuracy_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_eval_accuracy(raises_own_error)


# ------------------------------------------------------------------ hidden tests

HIDDEN_SEEDS = [11, 2024, 777]


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_dropout_forward(forward_variant(), seed=seed)
    checks.check_dropout_backward(lambda dout, mask: dout * mask, seed=seed)
    checks.check_eval_accuracy(accuracy_variant(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 3


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("check, wrong, match", [
    (checks.check_dropout_forward, forward_variant(keep_prob=True), "KEEP"),
    (checks.check_dropout_forward, forward_variant(scale="none"), "not scaled"),
    (checks.check_dropout_backward, complement_mask, "inverted"),
    (checks.check_dropout_backward, fresh_mask, "NEW mask"),
    (checks.check_eval_accuracy, accuracy_variant(switch=False), "TRAINING mode"),
])
def test_hidden_variants_catch_the_same_mistakes(seed, check, wrong, match):
    hint(lambda f: check(f, seed=seed), wrong, match=match)


def hard_coded_forward():
    """A 'solution' that memorized the public inputs' answers."""
    x, p, (s1, _), _ = checks.dropout._forward_inputs(None)
    eval_out = (x.copy(), np.ones_like(x))
    train_out = forward_variant()(x, p, True, np.random.default_rng(s1))
    calls = []

    def dropout_forward(x, p, training, rng):
        calls.append(training)
        if training and calls.count(True) > 2:       # the two calls with one generator
            return forward_variant()(x, p, training, rng)
        return eval_out if not training else train_out
    return dropout_forward


def test_a_hard_coded_answer_fails_the_hidden_test():
    checks.check_dropout_forward(hard_coded_forward())          # fools the public check …
    with pytest.raises(AssertionError):
        checks.check_dropout_forward(hard_coded_forward(), seed=5)   # … not the hidden one


def test_mean_prediction_declares_why_it_has_no_hidden_variant():
    assert checks.check_dropout_mean_prediction.hidden is False
    assert "prediction" in checks.check_dropout_mean_prediction.hidden_why
