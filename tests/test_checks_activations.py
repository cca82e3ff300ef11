"""The checks of exercises/01_activations.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import activations
from course_lib.checks._common import hidden_mode
from _checkutil import assert_hides as _assert_hides, hint, passes, raises_own_error
from _hardcoded import hard_coded, hard_coded_class

HIDDEN_SEEDS = [1, 11, 777, 2024, 31337]


def assert_hides(message, values):
    return _assert_hides(message, values, min_abs=1e-3)


# ------------------------------------------------------------------ sigmoid

def sigmoid_ok(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


X_SIG = np.array([-1000.0, -20.0, -2.0, 0.0, 0.5, 3.0, 1000.0])
SIG_EXPECTED = np.r_[sigmoid_ok(X_SIG), sigmoid_ok(X_SIG) * (1 - sigmoid_ok(X_SIG))]


def test_sigmoid_passes_the_reference(capsys):
    passes(capsys, checks.check_sigmoid, sigmoid_ok, name="sigmoid")


def test_sigmoid_accepts_scipy_style_expit(capsys):
    def expit(x):        # another stable formulation: 0.5 * (1 + tanh(x / 2))
        return 0.5 * (1.0 + np.tanh(0.5 * x))
    passes(capsys, checks.check_sigmoid, expit, name="sigmoid")


def sigmoid_where_both_branches(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def sigmoid_in_place(x):
    x *= -1
    return 1 / (1 + np.exp(np.minimum(x, 700)))


@pytest.mark.parametrize("wrong, match", [
    (lambda x: 1 / (1 + np.exp(-x)), "exp overflowed on the way"),
    (sigmoid_where_both_branches, "BOTH a and b"),
    (lambda x: np.exp(x) / (1 + np.exp(x)), "contains nan"),
    (lambda x: sigmoid_ok(-x), "sign in the exponent"),
    (np.tanh, r"not 1 / \(1 \+ exp\(-x\)\)"),
    (lambda x: sigmoid_ok(np.ravel(x)), r"shape \(6,\)"),
    (sigmoid_in_place, "in place"),
])
def test_sigmoid_mistakes(wrong, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_sigmoid, wrong, match=match)
    assert_hides(message, SIG_EXPECTED)


def sigmoid_grad_ok(x):
    s = sigmoid_ok(x)
    return s * (1 - s)


def test_sigmoid_grad_passes_the_reference(capsys):
    passes(capsys, checks.check_sigmoid_grad, sigmoid_grad_ok, name="sigmoid_grad")


def sigmoid_grad_naive(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


@pytest.mark.parametrize("wrong, match", [
    (sigmoid_ok, "sigma\\(x\\) itself"),
    (lambda x: 1 - sigmoid_ok(x), "returned 1 - sigma"),
    (lambda x: x * (1 - x), r"computed x \(1 - x\)"),
    (lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, "contains nan"),
    (sigmoid_grad_naive, "exp overflowed on the way"),
    (lambda x: sigmoid_ok(x) * (1 + sigmoid_ok(x)), "not sigma"),
])
def test_sigmoid_grad_mistakes(wrong, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_sigmoid_grad, wrong, match=match)
    assert_hides(message, SIG_EXPECTED)


@pytest.mark.parametrize("check", [checks.check_sigmoid, checks.check_sigmoid_grad])
def test_sigmoid_checks_let_the_students_error_through(check):
    with pytest.raises(ValueError, match="my own bug"):
        check(raises_own_error)


# ------------------------------------------------------------------ Leaky ReLU

def leaky_class(forward=None, backward=None, cache_first_only=False):
    """A LeakyReLU class; forward(self, x) / backward(self, dout) may be replaced."""
    class Layer:
        def __init__(self, alpha=0.01):
            self.alpha = alpha
            self.x = None

        def forward(self, x):
            if not (cache_first_only and self.x is not None):
                self.x = x
            if forward is not None:
                return forward(self, x)
            return np.where(x > 0, x, self.alpha * x)

        def backward(self, dout):
            if backward is not None:
                return backward(self, dout)
            return np.where(self.x > 0, dout, self.alpha * dout)
    return Layer


def test_leaky_relu_passes_the_reference(capsys):
    passes(capsys, checks.check_leaky_relu, leaky_class(), name="leaky_relu")


def test_leaky_relu_passes_an_output_mask(capsys):
    class FromOutput:                              # a mask from the output is just as good
        def __init__(self, alpha=0.01):
            self.alpha = alpha

        def forward(self, x):
            self.out = np.maximum(x, self.alpha * x)
            return self.out

        def backward(self, dout):
            return dout * np.where(self.out > 0, 1.0, self.alpha)
    passes(capsys, checks.check_leaky_relu, FromOutput, name="leaky_relu")


@pytest.mark.parametrize("wrong, match", [
    (leaky_class(forward=lambda s, x: x), "returned x unchanged"),
    (leaky_class(forward=lambda s, x: np.where(x > 0, s.alpha * x, x)), "positive side"),
    (leaky_class(forward=lambda s, x: np.maximum(x, 0)), "alpha is not used"),
    (leaky_class(backward=lambda s, d: d), "must be 0"),
    (leaky_class(backward=lambda s, d: np.where(d > 0, d, s.alpha * d)), "sign of dout"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, 1.0, s.alpha)), "local slope"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, s.alpha * d, d)), "inverted"),
    (leaky_class(backward=lambda s, d: d * s.x), "multiplied dout by x"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, d, 0.0)), "as for a plain ReLU"),
    (leaky_class(cache_first_only=True), "FIRST forward call"),
    (leaky_class(backward=lambda s, d: np.where(s.x >= 0, d, s.alpha * d)), "x = 0 exactly"),
])
def test_leaky_relu_mistakes(wrong, match):
    hint(checks.check_leaky_relu, wrong, match=match)


def test_leaky_relu_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_leaky_relu(leaky_class(backward=raises_own_error))


# ------------------------------------------------------------------ ELU

def elu_ok(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad_ok(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


X_ELU = np.array([-1000.0, -5.0, -1.0, -0.1, 0.0, 0.2, 2.0, 1000.0])
ELU_EXPECTED = np.r_[elu_ok(X_ELU, 0.5), elu_grad_ok(X_ELU, 0.5), elu_ok(X_ELU), elu_grad_ok(X_ELU)]


def test_elu_passes_the_reference(capsys):
    passes(capsys, checks.check_elu, elu_ok, elu_grad_ok, name="elu")


def test_elu_passes_the_f_plus_alpha_form_of_the_derivative(capsys):
    def elu_grad(x, alpha=1.0):                    # f'(x) = f(x) + alpha for x <= 0
        return np.where(x > 0, 1.0, elu_ok(x, alpha) + alpha)
    passes(capsys, checks.check_elu, elu_ok, elu_grad, name="elu")


@pytest.mark.parametrize("elu, elu_grad, match", [
    (lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), elu_grad_ok, "BOTH a and b"),
    (lambda x, alpha=1.0: x * (x > 0) + alpha * (np.exp(x) - 1) * (x <= 0), elu_grad_ok, "contains nan"),
    (lambda x, alpha=1.0: np.maximum(x, 0), elu_grad_ok, "that is ReLU"),
    (lambda x, alpha=1.0: elu_ok(x), elu_grad_ok, "alpha is not used"),
    (lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), elu_grad_ok,
     r"alpha \* \(exp\(x\) - 1\), so"),
    (elu_ok, lambda x, alpha=1.0: np.where(x > 0, 1.0, elu_ok(x, alpha)), "returned the function"),
    (elu_ok, lambda x, alpha=1.0: (x > 0).astype(float), "slope is 0"),
    (elu_ok, lambda x, alpha=1.0: np.ones_like(x), "slope is 1 everywhere"),
    (elu_ok, lambda x, alpha=1.0: elu_grad_ok(x), "alpha is missing"),
    (elu_ok, lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)), "BOTH a and b"),
    (elu_ok, lambda x, alpha=1.0: (x > 0) + alpha * np.exp(x) * (x <= 0), "contains nan"),
])
def test_elu_mistakes(elu, elu_grad, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_elu, elu, elu_grad, match=match)
    assert_hides(message, ELU_EXPECTED)


def test_elu_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_elu(elu_ok, raises_own_error)


# ------------------------------------------------------------------ dead units

def dead_ok(A):
    return float(np.mean(np.all(A <= 0, axis=0)))


def test_dead_fraction_passes_the_reference(capsys):
    passes(capsys, checks.check_dead_fraction, dead_ok, name="dead_fraction")
    passes(capsys, checks.check_dead_fraction, lambda A: np.mean((A == 0).all(axis=0)),
           name="dead_fraction")


@pytest.mark.parametrize("wrong, match", [
    (lambda A: np.mean(np.all(A <= 0, axis=1)), "counted EXAMPLES"),
    (lambda A: np.mean(A <= 0), "share of zero ENTRIES"),
    (lambda A: np.mean(np.any(A <= 0, axis=0)), "ANY example"),
    (lambda A: np.mean(np.all(A < 0, axis=0)), "`A <= 0`"),
    (lambda A: np.sum(np.all(A <= 0, axis=0)), "FRACTION"),
    (lambda A: 1 - np.mean(np.all(A <= 0, axis=0)), "NOT dead"),
    (lambda A: np.all(A <= 0, axis=0), "one number"),
    (lambda A: 0.45, "not the fraction of columns"),       # 0.5 is now count / N, diagnosed
    (lambda A: np.sum(np.all(A <= 0, axis=0)) / A.shape[0], "number of EXAMPLES"),
])
def test_dead_fraction_mistakes(wrong, match):
    message = hint(checks.check_dead_fraction, wrong, match=match)
    assert "0.375" not in message and "3 of" not in message


def test_dead_fraction_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_dead_fraction(raises_own_error)


# ------------------------------------------------------------------ sharper diagnoses

def leaky_forward_in_place(self, x):
    self.x = x > 0
    x[x < 0] *= self.alpha
    return x


def leaky_backward_in_place(self, dout):
    dout[self.x <= 0] *= self.alpha
    return dout


@pytest.mark.parametrize("wrong, match", [
    (leaky_class(forward=leaky_forward_in_place,
                 backward=lambda s, d: np.where(s.x, d, s.alpha * d)), "forward modifies its input in place"),
    (leaky_class(backward=leaky_backward_in_place), "backward modifies dout in place"),
])
def test_leaky_relu_catches_in_place_updates(wrong, match):
    # both give the right numbers on the copies the check passes: only the comparison of the
    # caller's arrays before and after the call exposes them
    hint(checks.check_leaky_relu, wrong, match=match)


def elu_in_place(x, alpha=1.0):
    neg = x <= 0
    x[neg] = alpha * np.expm1(x[neg])
    return x


def elu_grad_in_place(x, alpha=1.0):
    neg = x <= 0
    x[neg] = alpha * np.exp(x[neg])
    x[~neg] = 1.0
    return x


@pytest.mark.parametrize("elu, elu_grad, match", [
    (elu_in_place, elu_grad_ok, "elu modifies its input in place"),
    (elu_ok, elu_grad_in_place, "elu_grad modifies its input in place"),
])
def test_elu_catches_in_place_updates(elu, elu_grad, match):
    with np.errstate(all="ignore"):
        message = hint(checks.check_elu, elu, elu_grad, match=match)
    assert_hides(message, ELU_EXPECTED)


def test_sigmoid_grad_catches_an_in_place_update():
    def sigmoid_grad(x):
        s = sigmoid_ok(x)
        x[:] = s * (1 - s)
        return x
    hint(checks.check_sigmoid_grad, sigmoid_grad, match="sigmoid_grad modifies its input in place")


def elu_grad_ge(x, alpha=1.0):
    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def test_elu_grad_catches_slope_one_at_zero():
    # x >= 0 and x > 0 differ only at exactly 0, and only when alpha != 1; the public inputs
    # hold 0 and alpha 0.5. PyTorch's ELU backward gives alpha at 0, as cl.ELU does.
    message = hint(checks.check_elu, elu_ok, elu_grad_ge, match="returns 1 at x = 0 exactly")
    assert "elu_grad(np.array([" in message and "0.0" in message and ", 0.5)" in message
    assert_hides(message, ELU_EXPECTED)


def test_elu_grad_at_zero_follows_pytorch_and_course_lib(torch):
    import course_lib as cl
    for alpha in (1.0, 0.5, 2.0):
        x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
        torch.nn.functional.elu(x, alpha=alpha).sum().backward()
        assert np.allclose(x.grad.numpy(), elu_grad_ok(np.array([-1.0, 0.0, 1.0]), alpha))
        assert np.allclose(cl.ELU(alpha).derivative(np.array([0.0])), alpha)


def test_leaky_relu_at_zero_follows_pytorch(torch):
    x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.leaky_relu(x, 0.1).sum().backward()
    assert np.allclose(x.grad.numpy(), [0.1, 0.1, 1.0])


# ------------------------------------------------------------------ hidden tests

class LeakyOk:
    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.positive, dout, self.alpha * dout)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_sigmoid(sigmoid_ok, seed=seed)
    checks.check_sigmoid_grad(sigmoid_grad_ok, seed=seed)
    checks.check_leaky_relu(LeakyOk, seed=seed)
    checks.check_elu(elu_ok, elu_grad_ok, seed=seed)
    checks.check_dead_fraction(dead_ok, seed=seed)
    assert capsys.readouterr().out.count("✓") == 5


def test_hidden_inputs_differ_from_the_public_ones():
    for seed in HIDDEN_SEEDS:
        assert not np.array_equal(activations._sigmoid_inputs(seed)[0], X_SIG)
        assert activations._leaky_inputs(seed)["x"].shape != (3, 4) or \
            not np.array_equal(activations._leaky_inputs(seed)["x"], activations._X_LR)
        x, alphas = activations._elu_inputs(seed)
        assert 0.0 in x and alphas[0] == 1.0 and alphas[1] != 1.0 and not np.array_equal(x, X_ELU)
        assert activations._dead_inputs(seed).shape != (6, 8) or \
            not np.array_equal(activations._dead_inputs(seed), activations._A_DEAD)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("check, wrong, match", [
    (checks.check_sigmoid, lambda x: 1 / (1 + np.exp(-x)), "exp overflowed on the way"),
    (checks.check_sigmoid, sigmoid_where_both_branches, "BOTH a and b"),
    (checks.check_sigmoid, lambda x: np.exp(x) / (1 + np.exp(x)), "contains nan"),
    (checks.check_sigmoid, lambda x: sigmoid_ok(-x), "sign in the exponent"),
    (checks.check_sigmoid, lambda x: sigmoid_ok(np.ravel(x)), r"has shape \(\d+,\)"),
    (checks.check_sigmoid, sigmoid_in_place, "in place"),
    (checks.check_sigmoid_grad, sigmoid_ok, "sigma\\(x\\) itself"),
    (checks.check_sigmoid_grad, lambda x: 1 - sigmoid_ok(x), "returned 1 - sigma"),
    (checks.check_sigmoid_grad, lambda x: x * (1 - x), r"computed x \(1 - x\)"),
    (checks.check_sigmoid_grad, sigmoid_grad_naive, "exp overflowed on the way"),
    (checks.check_dead_fraction, lambda A: np.mean(np.all(A <= 0, axis=1)), "counted EXAMPLES"),
    (checks.check_dead_fraction, lambda A: np.mean(A <= 0), "share of zero ENTRIES"),
    (checks.check_dead_fraction, lambda A: np.mean(np.any(A <= 0, axis=0)), "ANY example"),
    (checks.check_dead_fraction, lambda A: np.mean(np.all(A < 0, axis=0)), "`A <= 0`"),
    (checks.check_dead_fraction, lambda A: np.sum(np.all(A <= 0, axis=0)), "FRACTION"),
    (checks.check_dead_fraction, lambda A: np.sum(np.all(A <= 0, axis=0)) / len(A), "EXAMPLES"),
    (checks.check_dead_fraction, lambda A: 1 - np.mean(np.all(A <= 0, axis=0)), "NOT dead"),
])
def test_hidden_variants_catch_the_same_mistakes(seed, check, wrong, match):
    with np.errstate(all="ignore"):
        hint(lambda f: check(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (leaky_class(forward=lambda s, x: x), "returned x unchanged"),
    (leaky_class(forward=lambda s, x: np.where(x > 0, s.alpha * x, x)), "positive side"),
    (leaky_class(forward=lambda s, x: np.maximum(x, 0)), "alpha is not used"),
    (leaky_class(backward=lambda s, d: d), "must be 0"),
    (leaky_class(backward=lambda s, d: np.where(d > 0, d, s.alpha * d)), "sign of dout"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, 1.0, s.alpha)), "local slope"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, s.alpha * d, d)), "inverted"),
    (leaky_class(backward=lambda s, d: d * s.x), "multiplied dout by x"),
    (leaky_class(backward=lambda s, d: np.where(s.x > 0, d, 0.0)), "as for a plain ReLU"),
    (leaky_class(cache_first_only=True), "FIRST forward call"),
    (leaky_class(backward=lambda s, d: np.where(s.x >= 0, d, s.alpha * d)), "x = 0 exactly"),
    (leaky_class(forward=leaky_forward_in_place,
                 backward=lambda s, d: np.where(s.x, d, s.alpha * d)), "forward modifies its input"),
    (leaky_class(backward=leaky_backward_in_place), "backward modifies dout in place"),
])
def test_hidden_leaky_relu_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_leaky_relu(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("elu, elu_grad, match", [
    (lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), elu_grad_ok, "BOTH a and b"),
    (lambda x, alpha=1.0: np.maximum(x, 0), elu_grad_ok, "that is ReLU"),
    (lambda x, alpha=1.0: elu_ok(x), elu_grad_ok, "alpha is not used"),
    (lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), elu_grad_ok,
     r"alpha \* \(exp\(x\) - 1\), so"),
    (elu_in_place, elu_grad_ok, "elu modifies its input in place"),
    (elu_ok, lambda x, alpha=1.0: np.where(x > 0, 1.0, elu_ok(x, alpha)), "returned the function"),
    (elu_ok, lambda x, alpha=1.0: (x > 0).astype(float), "slope is 0"),
    (elu_ok, lambda x, alpha=1.0: np.ones_like(x), "slope is 1 everywhere"),
    (elu_ok, lambda x, alpha=1.0: elu_grad_ok(x), "alpha is missing"),
    (elu_ok, elu_grad_ge, "returns 1 at x = 0 exactly"),
    (elu_ok, lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)), "BOTH a and b"),
    (elu_ok, elu_grad_in_place, "elu_grad modifies its input in place"),
])
def test_hidden_elu_catches_the_same_mistakes(seed, elu, elu_grad, match):
    with np.errstate(all="ignore"):
        message = hint(lambda f, g: checks.check_elu(f, g, seed=seed), elu, elu_grad, match=match)
    x, alphas = activations._elu_inputs(seed)
    assert_hides(message, np.r_[elu_ok(x, alphas[1]), elu_grad_ok(x, alphas[1])])


@pytest.mark.parametrize("check, reference", [
    (checks.check_sigmoid, sigmoid_ok), (checks.check_sigmoid_grad, sigmoid_grad_ok),
    (checks.check_dead_fraction, dead_ok),
])
def test_a_hard_coded_answer_fails_the_hidden_test(capsys, check, reference):
    make = hard_coded(check, reference)
    check(make())                                   # fools the public check …
    with pytest.raises(AssertionError):
        check(make(), seed=5)                       # … not the hidden one


def test_a_hard_coded_elu_fails_the_hidden_test(capsys):
    rec_f = hard_coded(lambda f: checks.check_elu(f, elu_grad_ok), elu_ok)
    rec_g = hard_coded(lambda g: checks.check_elu(elu_ok, g), elu_grad_ok)
    checks.check_elu(rec_f(), rec_g())
    with pytest.raises(AssertionError):
        checks.check_elu(rec_f(), rec_g(), seed=5)


def test_a_hard_coded_leaky_relu_fails_the_hidden_test(capsys):
    make = hard_coded_class(checks.check_leaky_relu, LeakyOk, ["forward", "backward"])
    checks.check_leaky_relu(make())
    with pytest.raises(AssertionError):
        checks.check_leaky_relu(make(), seed=5)


@pytest.mark.parametrize("check, args", [
    (checks.check_sigmoid, (lambda x: sigmoid_ok(-x),)),
    (checks.check_sigmoid_grad, (sigmoid_ok,)),
    (checks.check_leaky_relu, (leaky_class(backward=lambda s, d: np.where(s.x >= 0, d, s.alpha * d)),)),
    (checks.check_leaky_relu, (leaky_class(forward=leaky_forward_in_place,
                                           backward=lambda s, d: np.where(s.x, d, s.alpha * d)),)),
    (checks.check_elu, (elu_ok, elu_grad_ge)),
    (checks.check_dead_fraction, (lambda A: np.mean(A <= 0),)),
])
def test_hidden_mode_messages_hold_no_inputs(check, args):
    with hidden_mode(), np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as info:
            check(*args, seed=7)
    message = str(info.value)
    assert "to reproduce" not in message and "np.array(" not in message


def test_hidden_variants_let_the_students_errors_through():
    for check in (checks.check_sigmoid, checks.check_sigmoid_grad, checks.check_dead_fraction):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error, seed=3)
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_leaky_relu(leaky_class(backward=raises_own_error), seed=3)
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_elu(raises_own_error, elu_grad_ok, seed=3)


def test_every_activation_check_has_a_hidden_variant():
    for check in (checks.check_sigmoid, checks.check_sigmoid_grad, checks.check_leaky_relu,
                  checks.check_elu, checks.check_dead_fraction, checks.check_first_dead_layer):
        assert check.hidden is True


def test_the_notebook_solutions_pass_the_public_and_hidden_tests(capsys):
    from _notebook_solutions import solution_namespace
    ns = solution_namespace("01_activations", ["sigmoid", "sigmoid_grad", "leaky_relu", "elu",
                                               "dead_fraction", "first_dead_layer"])
    for seed in [None] + HIDDEN_SEEDS + list(range(20)):
        checks.check_sigmoid(ns["sigmoid"], seed=seed)
        checks.check_sigmoid_grad(ns["sigmoid_grad"], seed=seed)
        checks.check_leaky_relu(ns["LeakyReLU"], seed=seed)
        checks.check_elu(ns["elu"], ns["elu_grad"], seed=seed)
        checks.check_dead_fraction(ns["dead_fraction"], seed=seed)
        checks.check_first_dead_layer(ns["first_dead_layer"], seed=seed)
    assert capsys.readouterr().out.count("✓") == 6 * (1 + len(HIDDEN_SEEDS) + 20)


# ------------------------------------------------- reading ActivationStats: first dead layer

def first_dead_ok(stats, threshold):
    best = None
    for i in stats.layers:
        hits = np.flatnonzero(np.asarray(stats.dead[i]) >= threshold)
        if hits.size and (best is None or stats.steps[hits[0]] < best[1]):
            best = (i, int(stats.steps[hits[0]]))
    return best


def _crossings(stats, threshold, which="dead", strict=False):
    out = {}
    for i in stats.layers:
        v = np.asarray(getattr(stats, which)[i])
        k = np.flatnonzero(v > threshold if strict else v >= threshold)
        if k.size:
            out[i] = int(k[0])
    return out


def fd_saturated(stats, threshold):
    c = _crossings(stats, threshold, "saturated")
    i = min(c, key=c.get)
    return i, int(stats.steps[c[i]])


def fd_argmax(stats, threshold):            # np.argmax of an all-False (or all-NaN) row is 0
    ks = {i: int(np.argmax(np.asarray(stats.dead[i]) >= threshold)) for i in stats.layers}
    i = min(stats.layers, key=lambda j: (ks[j], stats.layers.index(j)))
    return i, int(stats.steps[ks[i]])


def fd_argmax_no_none(stats, threshold):   # right when a layer reaches it, never None
    best = first_dead_ok(stats, threshold)
    return best if best is not None else (stats.layers[0], int(stats.steps[0]))


def fd_record_index(stats, threshold):
    c = _crossings(stats, threshold)
    i = min(c, key=lambda j: (c[j], stats.layers.index(j)))
    return i, c[i]


def fd_strict(stats, threshold):
    c = _crossings(stats, threshold, strict=True)
    i = min(c, key=lambda j: (c[j], stats.layers.index(j)))
    return i, int(stats.steps[c[i]])


def fd_position(stats, threshold):
    i, step = first_dead_ok(stats, threshold)
    return stats.layers.index(i), step


def fd_relu_position_1based(stats, threshold):
    i, step = first_dead_ok(stats, threshold)
    relu = [j for j in stats.layers if not np.all(np.isnan(stats.dead[j]))]
    return relu.index(i) + 1, step


def fd_latest(stats, threshold):
    c = _crossings(stats, threshold)
    i = max(c, key=c.get)
    return i, int(stats.steps[c[i]])


def fd_overwrite(stats, threshold):         # the loop keeps the last layer that reaches it
    best = None
    for i, k in _crossings(stats, threshold).items():
        best = (i, int(stats.steps[k]))
    return best


def fd_first_in_order(stats, threshold):
    i, k = next(iter(_crossings(stats, threshold).items()))
    return i, int(stats.steps[k])


def fd_whole_run(stats, threshold):         # the layer with the most dead units at the end
    relu = [i for i in stats.layers if not np.all(np.isnan(stats.dead[i]))]
    i = max(relu, key=lambda j: stats.dead[j][-1])
    return i, int(stats.steps[-1])


def fd_mean_over_run(stats, threshold):
    relu = [i for i in stats.layers if not np.all(np.isnan(stats.dead[i]))]
    i = max(relu, key=lambda j: np.mean(stats.dead[j]))
    k = int(np.argmax(stats.dead[i]))
    return i, int(stats.steps[k])


def fd_always_none(stats, threshold):
    return None


def fd_in_place(stats, threshold):
    for i in stats.layers:
        stats.dead[i][np.isnan(stats.dead[i])] = 0.0
    return first_dead_ok(stats, threshold)


def fd_wrong_step(stats, threshold):
    i, step = first_dead_ok(stats, threshold)
    return i, step + 1


FD_MISTAKES = [
    (fd_saturated, "stats.saturated"),
    (fd_argmax, "np.argmax"),
    (fd_argmax_no_none, "healthy record.*np.argmax"),
    (fd_record_index, "record index"),
    (fd_strict, r"EXCEEDS the threshold \(>\)"),
    (fd_position, "position"),
    (fd_relu_position_1based, "position"),
    (fd_latest, "LAST"),
    (fd_overwrite, "overwrite"),
    (fd_first_in_order, "first in TIME|in TIME"),
    (fd_whole_run, "whole run"),
    (fd_mean_over_run, "whole run"),
    (fd_always_none, "returned None"),
    (fd_in_place, "modifies the record"),
    (fd_wrong_step, "right layer, but not the step"),
]


def test_first_dead_layer_passes_the_reference(capsys):
    passes(capsys, checks.check_first_dead_layer, first_dead_ok, name="first_dead_layer")


def test_first_dead_layer_reference_is_the_librarys():
    from course_lib.widgets.activations_experiments import first_dead_layer
    for seed in [None] + list(range(30)):
        stats, threshold, healthy = activations.example_record(seed)
        assert first_dead_layer(stats, threshold) == first_dead_ok(stats, threshold)
        assert first_dead_layer(healthy, threshold) is None


@pytest.mark.parametrize("wrong, match", FD_MISTAKES)
def test_first_dead_layer_mistakes(wrong, match):
    message = hint(checks.check_first_dead_layer, wrong, match=match)
    stats, threshold, _ = activations.example_record()
    layer, step = first_dead_ok(stats, threshold)
    assert f"step {step}" not in message and f"layer {layer}" not in message


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", FD_MISTAKES)
def test_hidden_first_dead_layer_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_first_dead_layer(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + list(range(20)))
def test_first_dead_layer_hidden_reference_passes(capsys, seed):
    checks.check_first_dead_layer(first_dead_ok, seed=seed)
    assert "✓ first_dead_layer" in capsys.readouterr().out


def test_hidden_records_vary():
    shapes = {(tuple(s.layers), len(s), s.every, t) for s, t, _ in
              (activations.example_record(seed) for seed in HIDDEN_SEEDS)}
    assert len(shapes) == len(HIDDEN_SEEDS)


def test_a_hard_coded_first_dead_layer_fails_the_hidden_test(capsys):
    make = hard_coded(checks.check_first_dead_layer, first_dead_ok)
    checks.check_first_dead_layer(make())
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_first_dead_layer(make(), seed=seed)


def test_first_dead_layer_hidden_mode_messages_hold_no_inputs():
    for wrong, _ in FD_MISTAKES:
        with hidden_mode(), pytest.raises(AssertionError) as info:
            checks.check_first_dead_layer(wrong, seed=7)
        message = str(info.value)
        assert "to reproduce" not in message and "example_record" not in message


def test_first_dead_layer_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_first_dead_layer(raises_own_error)
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_first_dead_layer(raises_own_error, seed=3)


def test_first_dead_layer_works_on_a_real_activation_stats_record():
    # the record of a real run has the attributes the exercise uses
    import course_lib as cl
    rng = np.random.default_rng(0)
    model = cl.Sequential(cl.Linear(4, 8, rng=rng), cl.ReLU(), cl.Linear(8, 3, rng=rng))
    stats = cl.diagnostics.ActivationStats(model, every=2)
    X, y = rng.standard_normal((64, 4)), rng.integers(0, 3, 64)
    model.layers[0].b.data[:] = -100.0          # every unit of layer 1 dead from the start
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.1), X, y, epochs=2,
           batch_size=16, rng=0, progress=False, ratio_every=0, callbacks=[stats])
    assert first_dead_ok(stats, 0.5) == (1, 0)
    from course_lib.widgets.activations_experiments import first_dead_layer
    assert first_dead_layer(stats, 0.5) == (1, 0)
