"""The checks of exercises/03_backpropagation.ipynb, proved both ways: each passes the
reference solution, and each typical mistake it claims to catch fails with its targeted hint —
without the hint revealing the expected numbers, and without swallowing the student's own
errors."""

import numpy as np
import pytest

import course_lib as cl
from course_lib import checks
from course_lib.checks import backprop
from course_lib.checks._common import hidden_mode
from course_lib.functional import sigmoid
from _checkutil import assert_hides as _assert_hides, hint, passes, raises_own_error
from _hardcoded import hard_coded

HIDDEN_SEEDS = [1, 11, 777, 2024, 31337]


def assert_hides(message, values):
    return _assert_hides(message, values, min_abs=1e-3)


# ------------------------------------------------------------------ Linear backward

def linear_variant(dx=None, dW=None, db=None):
    def linear_backward(dout, x, W):
        return (dout @ W.T if dx is None else dx(dout, x, W),
                x.T @ dout if dW is None else dW(dout, x, W),
                dout.sum(axis=0) if db is None else db(dout, x, W))
    return linear_backward


def test_linear_backward_passes_the_reference(capsys):
    passes(capsys, checks.check_linear_backward, linear_variant(), name="linear_backward")


def in_place(dout, x, W):
    dout *= 2
    return linear_variant()(dout / 2, x, W)


@pytest.mark.parametrize("wrong, match", [
    (linear_variant(dx=lambda d, x, W: d @ W), "missing a transpose"),
    (linear_variant(dx=lambda d, x, W: d @ W.T / len(x)), "dx is divided by N"),
    (linear_variant(dW=lambda d, x, W: d.T @ x), "transpose of the gradient"),
    (linear_variant(dW=lambda d, x, W: x.T @ d / len(x)), "dW is averaged"),
    (linear_variant(db=lambda d, x, W: d), "one row per example"),
    (linear_variant(db=lambda d, x, W: d.sum(axis=1)), "summed over the outputs"),
    (linear_variant(db=lambda d, x, W: d.mean(axis=0)), "db is averaged"),
    (lambda dout, x, W: linear_variant()(dout, x, W)[:2], "should return a tuple"),
    (in_place, "in place"),
])
def test_linear_backward_mistakes(wrong, match):
    hint(checks.check_linear_backward, wrong, match=match)


def test_linear_backward_catches_the_transposed_dW_on_rectangular_shapes():
    # a dW transposed only when W is not square: the second call's shapes expose it
    def sneaky(dout, x, W):
        dW = x.T @ dout
        return dout @ W.T, (dW if W.shape[0] == W.shape[1] else dW.T), dout.sum(axis=0)
    hint(checks.check_linear_backward, sneaky, match="the transpose of W's")


def test_linear_backward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_linear_backward(raises_own_error)
    # a missing transpose on rectangular shapes is NumPy's own shape error, untouched
    with pytest.raises(ValueError, match="matmul"):
        checks.check_linear_backward(
            linear_variant(dx=lambda d, x, W: d @ W if W.shape[0] != W.shape[1] else d @ W.T))


# ------------------------------------------------------------------ numerical gradient

def numgrad_variant(kind="centred", restore=True, rows=False, default_h=1e-5, use_h=True,
                    on_copy=False):
    def numerical_gradient(f, x, h=default_h):
        h = h if use_h else 1e-5
        grad = np.zeros_like(x)
        target = x.copy() if on_copy else x
        index = range(len(x)) if rows else np.ndindex(x.shape)
        for i in index:
            old = x[i].copy() if rows else x[i]
            target[i] = old + h
            plus = f(x)
            if kind == "second at x":
                target[i] = target[i] - h
            else:
                target[i] = old - h
            minus = f(x)
            middle = None
            if kind in ("forward", "backward"):
                target[i] = old
                middle = f(x)
            if restore:
                target[i] = old
            grad[i] = {"centred": (plus - minus) / (2 * h), "denominator h": (plus - minus) / h,
                       "second at x": (plus - minus) / (2 * h),
                       "forward": (plus - (middle if middle is not None else 0)) / h,
                       "backward": ((middle if middle is not None else 0) - minus) / h}[kind]
        return grad
    return numerical_gradient


def test_numerical_gradient_passes_the_reference(capsys):
    passes(capsys, checks.check_numerical_gradient, numgrad_variant(), name="numerical_gradient")


def test_numerical_gradient_accepts_copies(capsys):
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            grad[i] = (f(x + e) - f(x - e)) / (2 * h)
        return grad
    passes(capsys, checks.check_numerical_gradient, numerical_gradient, name="numerical_gradient")


@pytest.mark.parametrize("wrong, match", [
    (numgrad_variant(kind="forward"), "forward difference"),
    (numgrad_variant(kind="backward"), "backward difference"),
    (numgrad_variant(kind="denominator h"), "twice the derivative"),
    (numgrad_variant(kind="second at x"), "second evaluation is at x"),
    (numgrad_variant(restore=False), "left x changed"),
    (numgrad_variant(rows=True), "whole ROW"),
    (numgrad_variant(on_copy=True), "returned zeros"),
    (numgrad_variant(use_h=False), "does not depend on h"),
    (numgrad_variant(default_h=1e-2), "default h"),
    (lambda f, x, h=1e-5: numgrad_variant()(f, x, h).ravel(), r"expected \(2, 3\)"),
])
def test_numerical_gradient_mistakes(wrong, match):
    message = hint(checks.check_numerical_gradient, wrong, match=match)
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]])
    assert_hides(message, 3 * x ** 2 + 2)


def test_numerical_gradient_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_numerical_gradient(raises_own_error)


# ------------------------------------------------------------------ relative error

def rel_ok(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def test_rel_error_passes_the_reference(capsys):
    passes(capsys, checks.check_rel_error, rel_ok, name="rel_error")
    passes(capsys, checks.check_rel_error, cl.rel_error, name="rel_error")


@pytest.mark.parametrize("wrong, match", [
    (lambda a, b: np.mean(np.abs(a - b) / (np.abs(a) + np.abs(b))), "averaged over the elements"),
    (lambda a, b: np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)), "norms"),
    (lambda a, b: np.abs(a - b).max() / (np.abs(a) + np.abs(b)).max(), "largest difference"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))), r"max\(\|a\|, \|b\|\)"),
    (lambda a, b: np.max((a - b) / (np.abs(a) + np.abs(b))), "numerator needs an abs"),
    (lambda a, b: np.max(np.abs(a - b) / (a + b)), "denominator needs abs"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(a)), r"divided by \|a\| only"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(b)), r"divided by \|b\| only"),
    (lambda a, b: np.max((a - b) / (a + b)), "symmetric"),
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), "0 by 0"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12), axis=0),
     "ONE number"),
    (lambda a, b: 0.7, "which is not max"),
])
def test_rel_error_mistakes(wrong, match):
    message = hint(checks.check_rel_error, wrong, match=match)
    a = np.array([1.0, -0.004, 0.5, 2.0, 0.06])
    b = np.array([1.5, -0.002, 0.5, 1.8, 0.1])
    assert_hides(message, [rel_ok(a, b)])


def test_rel_error_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_rel_error(raises_own_error)


# ------------------------------------------------------------------ worked example

def worked_variant(factor=2.0, mean=True, slope="s(1-s)", use_V=True, sign=1.0, dV_from="S",
                   loss_sum=False, dW_scale=1.0, transpose_dW=False):
    def sigmoid_net_grads(X, W, V, y):
        Z = X @ W
        S = sigmoid(Z)
        r = S @ V - y
        g = sign * factor * r / (len(X) if mean else 1)
        dV = (S if dV_from == "S" else Z).T @ g
        local = {"s(1-s)": S * (1 - S), "s": S, "1": np.ones_like(S)}[slope]
        dW = dW_scale * X.T @ (np.outer(g, V if use_V else np.ones_like(V)) * local)
        loss = np.sum(r ** 2) if loss_sum else np.mean(r ** 2)
        return loss, (dW.T if transpose_dW else dW), dV
    return sigmoid_net_grads


def test_sigmoid_net_grads_passes_the_reference(capsys):
    passes(capsys, checks.check_sigmoid_net_grads, worked_variant(), name="sigmoid_net_grads")


@pytest.mark.parametrize("wrong, match", [
    (worked_variant(loss_sum=True), "SUM of the squared errors"),
    (worked_variant(factor=1.0), "factor 2 is missing"),
    (worked_variant(mean=False), "N times too large"),
    (worked_variant(sign=-1.0), "wrong sign"),
    (worked_variant(dV_from="Z"), "pre-activations"),
    (worked_variant(slope="s"), r"uses sigma\(z\) as the sigmoid's derivative"),
    (worked_variant(slope="1"), "missing the sigmoid's derivative"),
    (worked_variant(use_V=False), "dW is missing V"),
    (worked_variant(dW_scale=5.0), "off by a factor N"),
    (worked_variant(transpose_dW=True), "shape of its variable"),
    (lambda X, W, V, y: worked_variant()(X, W, V, y)[1:], "should return a tuple"),
    (lambda X, W, V, y: ((sigmoid(X @ W) @ V - y) ** 2,) + worked_variant()(X, W, V, y)[1:],
     "one number"),
])
def test_sigmoid_net_grads_mistakes(wrong, match):
    message = hint(checks.check_sigmoid_net_grads, wrong, match=match)
    rng = np.random.default_rng(0)
    X, W, V, y = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(5)
    loss, dW, dV = worked_variant()(X, W, V, y)
    assert_hides(message, np.r_[loss, dW.ravel(), dV])


def test_sigmoid_net_grads_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_sigmoid_net_grads(raises_own_error)


# ------------------------------------------------------------------ bug hunt

class Affine(cl.Module):
    def __init__(self, fan_in, fan_out, rng):
        self.W = cl.Parameter(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        self.b = cl.Parameter(0.1 * rng.standard_normal(fan_out))

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


class BadTanh(cl.Module):
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, dout):
        return dout * (1 - self.t) ** 2


class GoodTanh(BadTanh):
    def backward(self, dout):
        return dout * (1 - self.t ** 2)


def hunt(tanh=BadTanh):
    rng = np.random.default_rng(11)
    layers = {"Affine 1": Affine(6, 5, rng), "Tanh": tanh(), "Sigmoid": cl.Sigmoid(),
              "Affine 2": Affine(5, 3, rng)}
    return layers, rng.standard_normal((8, 6))


def test_bug_hunt_passes_the_right_answer(capsys):
    layers, x = hunt()
    for answer in ("Tanh", " tanh ", layers["Tanh"], BadTanh):
        passes(capsys, checks.check_bug_hunt, answer, layers, x, name="bug_hunt")


@pytest.mark.parametrize("answer, match", [
    ("Affine 1", "passes for 'Affine 1'"),
    ("Sigmoid", "passes for 'Sigmoid'"),
    ("ReLU", "not one of the layers"),
    (["Tanh", "Sigmoid"], "exactly ONE"),
    (None, "not one of the layers"),
])
def test_bug_hunt_wrong_answers(answer, match):
    layers, x = hunt()
    message = hint(checks.check_bug_hunt, answer, layers, x, match=match)
    if "not one of" not in message and "exactly ONE" not in message:
        assert "Tanh" not in message, "the hint must not name the culprit"


def test_bug_hunt_notices_layers_that_were_fixed():
    layers, x = hunt(GoodTanh)
    hint(checks.check_bug_hunt, "Tanh", layers, x, match="none of the layers fails")


# ------------------------------------------------------------------ sharper diagnoses

def numgrad_add_subtract(f, x, h=1e-5):
    """Right, but x[i] += h; x[i] -= 2h; x[i] += h can leave x off by one rounding error."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        x[i] += h
        grad[i] = (plus - minus) / (2 * h)
    return grad


def test_numerical_gradient_accepts_a_rounding_drift_in_x(capsys):
    # this correct solution used to fail with "left x changed": 0.2 + 0.01 - 0.02 + 0.01 != 0.2
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]])
    assert not np.array_equal(x + 1e-2 - 2e-2 + 1e-2, x)
    passes(capsys, checks.check_numerical_gradient, numgrad_add_subtract, name="numerical_gradient")


def test_linear_backward_diagnoses_db_with_keepdims():
    message = hint(checks.check_linear_backward,
                   linear_variant(db=lambda d, x, W: d.sum(axis=0, keepdims=True)), match="without keepdims")
    assert "to reproduce: rng = np.random.default_rng(0)" in message


# ------------------------------------------------------------------ hidden tests

@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_linear_backward(linear_variant(), seed=seed)
    checks.check_numerical_gradient(numgrad_variant(), seed=seed)
    checks.check_numerical_gradient(numgrad_add_subtract, seed=seed)
    checks.check_rel_error(rel_ok, seed=seed)
    checks.check_rel_error(cl.rel_error, seed=seed)
    checks.check_sigmoid_net_grads(worked_variant(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 6


def test_hidden_inputs_differ_from_the_public_ones():
    for seed in HIDDEN_SEEDS:
        assert backprop._linear_cases(seed) != backprop._linear_cases(None)
        n, d, m, _ = backprop._linear_cases(seed)[1]
        assert len({n, d, m}) == 3
        assert not np.array_equal(backprop._numgrad_inputs(seed)[2], backprop._X_NUM)
        assert not np.array_equal(backprop._rel_inputs(seed)[0], backprop._A_REL)
        assert backprop._worked_inputs(seed)[4] != backprop._worked_inputs()[4]


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (linear_variant(dx=lambda d, x, W: d @ W if W.shape[0] == W.shape[1] else d @ W.T), "missing a transpose"),
    (linear_variant(dx=lambda d, x, W: d @ W.T / len(x)), "dx is divided by N"),
    (linear_variant(dW=lambda d, x, W: d.T @ x if W.shape[0] == W.shape[1] else x.T @ d),
     "transpose of the gradient"),
    (linear_variant(dW=lambda d, x, W: (x.T @ d).T), "transpose of the gradient"),
    (linear_variant(dW=lambda d, x, W: x.T @ d / len(x)), "dW is averaged"),
    (linear_variant(db=lambda d, x, W: d), "one row per example"),
    (linear_variant(db=lambda d, x, W: d.sum(axis=1)), "summed over the outputs"),
    (linear_variant(db=lambda d, x, W: d.sum(axis=0, keepdims=True)), "without keepdims"),
    (linear_variant(db=lambda d, x, W: d.mean(axis=0)), "db is averaged"),
    (in_place, "in place"),
])
def test_hidden_linear_backward_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_linear_backward(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (numgrad_variant(kind="forward"), "forward difference"),
    (numgrad_variant(kind="backward"), "backward difference"),
    (numgrad_variant(kind="denominator h"), "twice the derivative"),
    (numgrad_variant(kind="second at x"), "second evaluation is at x"),
    (numgrad_variant(restore=False), "left x changed"),
    (numgrad_variant(rows=True), "whole ROW"),
    (numgrad_variant(on_copy=True), "returned zeros"),
    (numgrad_variant(use_h=False), "does not depend on h"),
    (numgrad_variant(default_h=1e-2), "default h"),
    (lambda f, x, h=1e-5: numgrad_variant()(f, x, h).ravel(), "has shape"),
])
def test_hidden_numerical_gradient_catches_the_same_mistakes(seed, wrong, match):
    message = hint(lambda g: checks.check_numerical_gradient(g, seed=seed), wrong, match=match)
    a, b, x, _ = backprop._numgrad_inputs(seed)
    assert_hides(message, 3 * a * x ** 2 + b)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (lambda a, b: np.mean(np.abs(a - b) / (np.abs(a) + np.abs(b))), "averaged over the elements"),
    (lambda a, b: np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)), "norms"),
    (lambda a, b: np.abs(a - b).max() / (np.abs(a) + np.abs(b)).max(), "largest difference"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))), r"max\(\|a\|, \|b\|\)"),
    (lambda a, b: np.max((a - b) / (np.abs(a) + np.abs(b))), "numerator needs an abs"),
    (lambda a, b: np.max(np.abs(a - b) / (a + b)), "denominator needs abs"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(a)), r"divided by \|a\| only"),
    (lambda a, b: np.max(np.abs(a - b) / np.abs(b)), r"divided by \|b\| only"),
    (lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))), "0 by 0"),
    (lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12), axis=0),
     "ONE number"),
])
def test_hidden_rel_error_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(all="ignore"):
        message = hint(lambda f: checks.check_rel_error(f, seed=seed), wrong, match=match)
    a, b = backprop._rel_inputs(seed)[:2]
    assert_hides(message, [rel_ok(a, b)])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (worked_variant(loss_sum=True), "SUM of the squared errors"),
    (worked_variant(factor=1.0), "factor 2 is missing"),
    (worked_variant(mean=False), "N times too large"),
    (worked_variant(sign=-1.0), "wrong sign"),
    (worked_variant(dV_from="Z"), "pre-activations"),
    (worked_variant(slope="s"), r"uses sigma\(z\) as the sigmoid's derivative"),
    (worked_variant(slope="1"), "missing the sigmoid's derivative"),
    (worked_variant(use_V=False), "dW is missing V"),
    (worked_variant(dW_scale=1.7), "is not X.T"),
    (worked_variant(transpose_dW=True), "shape of its variable"),
])
def test_hidden_sigmoid_net_grads_catches_the_same_mistakes(seed, wrong, match):
    message = hint(lambda f: checks.check_sigmoid_net_grads(f, seed=seed), wrong, match=match)
    X, W, V, y, _ = backprop._worked_inputs(seed)
    loss, dW, dV = worked_variant()(X, W, V, y)
    assert_hides(message, np.r_[loss, dW.ravel(), dV])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_sigmoid_net_grads_catches_dW_off_by_N(seed):
    def off_by_n(X, W, V, y):
        loss, dW, dV = worked_variant()(X, W, V, y)
        return loss, dW * len(X), dV
    hint(lambda f: checks.check_sigmoid_net_grads(f, seed=seed), off_by_n, match="off by a factor N")


@pytest.mark.parametrize("check, reference", [
    (checks.check_linear_backward, linear_variant()),
    (checks.check_numerical_gradient, numgrad_variant()),
    (checks.check_rel_error, rel_ok),
    (checks.check_sigmoid_net_grads, worked_variant()),
])
def test_a_hard_coded_answer_fails_the_hidden_test(capsys, check, reference):
    make = hard_coded(check, reference)
    check(make())                                   # fools the public check …
    with pytest.raises(AssertionError):
        check(make(), seed=5)                       # … not the hidden one


@pytest.mark.parametrize("check, wrong", [
    (checks.check_linear_backward, linear_variant(dW=lambda d, x, W: x.T @ d / len(x))),
    (checks.check_numerical_gradient, numgrad_variant(restore=False)),
    (checks.check_numerical_gradient, numgrad_variant(use_h=False)),
    (checks.check_rel_error, lambda a, b: np.max(np.abs(a - b) / np.abs(a))),
    (checks.check_rel_error, lambda a, b: np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))),
    (checks.check_sigmoid_net_grads, worked_variant(sign=-1.0)),
])
def test_hidden_mode_messages_hold_no_inputs(check, wrong):
    with hidden_mode(), np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as info:
            check(wrong, seed=7)
    message = str(info.value)
    assert "to reproduce" not in message and "np.array(" not in message and "default_rng(" not in message
    assert "h=" not in message and "lambda" not in message


def test_hidden_variants_let_the_students_errors_through():
    for check in (checks.check_linear_backward, checks.check_numerical_gradient,
                  checks.check_rel_error, checks.check_sigmoid_net_grads):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error, seed=3)


def test_bug_hunt_declares_why_it_has_no_hidden_variant():
    assert checks.check_bug_hunt.hidden is False
    assert "notebook" in checks.check_bug_hunt.hidden_why
    for check in (checks.check_linear_backward, checks.check_numerical_gradient,
                  checks.check_rel_error, checks.check_sigmoid_net_grads):
        assert check.hidden is True


def test_the_notebook_solutions_pass_the_public_and_hidden_tests(capsys):
    from _notebook_solutions import solution_namespace
    ns = solution_namespace("03_backpropagation", ["linear_backward", "numerical_gradient",
                                                   "rel_error", "sigmoid_net_grads"])
    for seed in [None] + HIDDEN_SEEDS + list(range(20)):
        checks.check_linear_backward(ns["linear_backward"], seed=seed)
        checks.check_numerical_gradient(ns["numerical_gradient"], seed=seed)
        checks.check_rel_error(ns["rel_error"], seed=seed)
        checks.check_sigmoid_net_grads(ns["sigmoid_net_grads"], seed=seed)
    assert capsys.readouterr().out.count("✓") == 4 * (1 + len(HIDDEN_SEEDS) + 20)
