"""The checks of exercises/06_optimizers.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks.optimizers import GRADS, W0
from _checkutil import assert_hides as _assert_hides, hint, passes, raises_own_error


def assert_hides(message, values):
    return _assert_hides(message, values, min_abs=1e-6)


# ------------------------------------------------------------------ momentum

def momentum_variant(kind="torch", nesterov=False, v_out=None, in_place=False):
    def step(w, grad, v, lr, momentum):
        if kind == "lr inside":
            v = momentum * v + lr * grad
            w = w - ((lr * grad + momentum * v) if nesterov else v)
            return w, v
        if kind == "cs231n":
            v = momentum * v - lr * grad
            return w + v, v
        if kind == "old v":
            w = w - lr * ((grad + momentum * v) if nesterov else v)
            return w, momentum * v + grad
        if kind == "plain":
            return w - lr * grad, v
        if in_place:
            v *= momentum
            v += grad
        else:
            v = momentum * v + ((1 - momentum) * grad if kind == "dampening" else grad)
        direction = (grad + momentum * v) if (nesterov and kind != "classical") else v
        w = w + lr * direction if kind == "sign" else w - lr * direction
        return w, (v if v_out is None else v_out(v, lr))
    return step


def reference_path(nesterov, lrs=(0.1, 0.1, 0.1, 0.02, 0.02)):
    w, v, out = W0.copy(), np.zeros(3), []
    for g, lr in zip(GRADS, lrs):
        w, v = momentum_variant(nesterov=nesterov)(w, g, v, lr, 0.9)
        out.append(w)
    return np.array(out)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_checks_pass_the_reference(capsys, nesterov):
    check = checks.check_nesterov if nesterov else checks.check_sgd_momentum
    passes(capsys, check, momentum_variant(nesterov=nesterov),
           name="nesterov" if nesterov else "sgd_momentum")


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("wrong, match", [
    (dict(kind="sign"), "UP the gradient"),
    (dict(kind="lr inside"), "lr INSIDE the velocity"),
    (dict(kind="dampening"), "averaged the gradients"),
    (dict(kind="old v"), "from BEFORE this step's update|the OLD v"),
    (dict(kind="plain"), "plain SGD"),
    (dict(v_out=lambda v, lr: -v), "opposite sign"),
    (dict(v_out=lambda v, lr: 2 * v), "without lr"),
    (dict(in_place=True), "in place"),
])
def test_momentum_mistakes(nesterov, wrong, match):
    check = checks.check_nesterov if nesterov else checks.check_sgd_momentum
    message = hint(check, momentum_variant(nesterov=nesterov, **wrong), match=match)
    assert_hides(message, reference_path(nesterov))


def test_momentum_catches_the_cs231n_form():
    hint(checks.check_sgd_momentum, momentum_variant(kind="cs231n"), match="lr INSIDE")


def test_nesterov_catches_classical_momentum():
    hint(checks.check_nesterov, momentum_variant(kind="classical", nesterov=True),
         match="classical momentum")


def test_momentum_lets_the_students_error_through():
    for check in (checks.check_sgd_momentum, checks.check_nesterov):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error)


# ------------------------------------------------------------------ RMSProp

def rmsprop_variant(kind="ok", s_out=None):
    def rmsprop_step(w, grad, s, lr, rho, eps):
        if kind == "no 1-rho":
            s = rho * s + grad ** 2
        elif kind == "swapped":
            s = (1 - rho) * s + rho * grad ** 2
        else:
            s = rho * s + (1 - rho) * grad ** 2
        if kind == "eps inside":
            denom = np.sqrt(s + eps)
        elif kind == "no sqrt":
            denom = s + eps
        elif kind == "no eps":
            denom = np.sqrt(s)
        else:
            denom = np.sqrt(s) + eps
        w = w + lr * grad / denom if kind == "sign" else w - lr * grad / denom
        return w, (s if s_out is None else s_out(s))
    return rmsprop_step


def test_rmsprop_passes_the_reference(capsys):
    passes(capsys, checks.check_rmsprop, rmsprop_variant(), name="rmsprop")


@pytest.mark.parametrize("wrong, match", [
    (rmsprop_variant("eps inside"), "inside the square root"),
    (rmsprop_variant("no 1-rho"), r"factor \(1 - rho\) is missing"),
    (rmsprop_variant("swapped"), "swapped"),
    (rmsprop_variant("no sqrt"), "ROOT"),
    (rmsprop_variant("sign"), "UP the gradient"),
    (rmsprop_variant(s_out=lambda s: 2 * s), "returned s"),
    (rmsprop_variant(s_out=lambda s: np.sqrt(s)), "returned s"),
    (lambda w, grad, s, lr, rho, eps: rmsprop_variant()(w, grad, s, lr, rho, eps)[0],
     "should return a tuple"),
])
def test_rmsprop_mistakes(wrong, match):
    message = hint(checks.check_rmsprop, wrong, match=match)
    w, s, path = W0.copy(), np.zeros(3), []
    for g in GRADS:
        w, s = rmsprop_variant()(w, g, s, 0.01, 0.9, 1e-8)
        path.append(w)
    assert_hides(message, path)


def test_rmsprop_catches_a_missing_eps():
    # with the checker's gradients no s is exactly 0, so no eps is only a tiny difference ...
    def zero_first(w, grad, s, lr, rho, eps):
        s = rho * s + (1 - rho) * grad ** 2
        return w - lr * grad / np.sqrt(s) * np.inf * 0, s      # ... unless it produces nan
    with np.errstate(invalid="ignore"):
        hint(checks.check_rmsprop, zero_first, match="not finite")


def test_rmsprop_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_rmsprop(raises_own_error)


# ------------------------------------------------------------------ Adam and AdamW

def adam_variant(correct_m=True, correct_v=True, beta_v=None, t_shift=0, eps_inside=False,
                 sign=1.0, store_hat=False, decay="decoupled", in_place=False):
    def adam_core(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0):
        bv = beta2 if beta_v is None else beta_v
        if decay == "l2":
            grad = grad + weight_decay * w
        elif decay == "decoupled":
            w = w - lr * weight_decay * w
        elif decay == "no lr":
            w = w - weight_decay * w
        if in_place:
            m *= beta1
            m += (1 - beta1) * grad
            v *= bv
            v += (1 - bv) * grad ** 2
        else:
            m = beta1 * m + (1 - beta1) * grad
            v = bv * v + (1 - bv) * grad ** 2
        te = t + t_shift
        m_hat = m / (1 - beta1 ** te) if correct_m else m
        v_hat = v / (1 - bv ** te) if correct_v else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        w = w - sign * lr * m_hat / denom
        if decay == "after":
            w = w * (1 - lr * weight_decay)
        return (w, m_hat, v_hat) if store_hat else (w, m, v)
    return adam_core


def adam_only(**kwargs):
    core = adam_variant(**kwargs)
    return lambda w, grad, m, v, t, lr, beta1, beta2, eps: core(w, grad, m, v, t, lr, beta1, beta2, eps)


ADAM_MISTAKES = [
    (dict(correct_m=False, correct_v=False), "no bias correction"),
    (dict(correct_v=False), "only m is bias-corrected"),
    (dict(correct_m=False), "only v is bias-corrected"),
    (dict(beta_v=0.9), "updated with beta1"),
    (dict(eps_inside=True), "inside the square root"),
    (dict(t_shift=1), "t \\+ 1"),
    (dict(t_shift=-1), "t - 1"),
    (dict(sign=-1.0), "UP the gradient"),
    (dict(store_hat=True), "bias-CORRECTED moments"),
    (dict(in_place=True), "in place"),
]


def adam_path(decay=None):
    w, m, v, path = W0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        if decay is None:
            w, m, v = adam_only()(w, g, m, v, t, 0.1, 0.9, 0.999, 1e-8)
        else:
            w, m, v = adam_variant()(w, g, m, v, t, 0.1, 0.9, 0.999, 1e-8, 0.1)
        path.append(w)
    return np.array(path)


def test_adam_passes_the_reference(capsys):
    passes(capsys, checks.check_adam, adam_only(), name="adam")


def test_adamw_passes_the_reference(capsys):
    passes(capsys, checks.check_adamw, adam_variant(), name="adamw")


@pytest.mark.parametrize("wrong, match", ADAM_MISTAKES)
def test_adam_mistakes(wrong, match):
    with np.errstate(divide="ignore", invalid="ignore"):
        message = hint(checks.check_adam, adam_only(**wrong), match=match)
    assert_hides(message, adam_path())


@pytest.mark.parametrize("wrong, match", [
    (dict(decay="l2"), "that is L2"),
    (dict(decay="no lr"), "not multiplied by lr"),
    (dict(decay="after"), "AFTER the Adam step"),
    (dict(decay="none"), "no weight decay at all"),
] + ADAM_MISTAKES)
def test_adamw_mistakes(wrong, match):
    with np.errstate(divide="ignore", invalid="ignore"):
        message = hint(checks.check_adamw, adam_variant(**wrong), match=match)
    assert_hides(message, adam_path(decay="decoupled"))


def test_adam_t_minus_one_does_not_leak_a_warning(recwarn):
    with pytest.raises(AssertionError, match="t - 1"):
        checks.check_adam(adam_only(t_shift=-1))
    assert not [w for w in recwarn if "divide" in str(w.message)]


def test_adam_catches_a_right_w_with_wrong_state():
    def wrong_state(w, grad, m, v, t, lr, beta1, beta2, eps):
        w2, m2, v2 = adam_only()(w, grad, m, v, t, lr, beta1, beta2, eps)
        return w2, 2 * m2, v2
    hint(checks.check_adam, wrong_state, match="returned m or v is not the raw")


def test_adam_lets_the_students_error_through():
    for check in (checks.check_adam, checks.check_adamw):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error)


# ---------------------------------------------------------- Adam's step length

LR = 0.01
RIGHT = (LR, LR, LR * 0.1 / 1.9)


def test_adam_step_prediction_passes_the_reference(capsys):
    passes(capsys, checks.check_adam_step_prediction, *RIGHT, name="adam_step_prediction")
    passes(capsys, checks.check_adam_step_prediction, 0.01, 0.01, 0.0005,
           name="adam_step_prediction")


@pytest.mark.parametrize("preds, match", [
    ((LR * 0.5, LR, RIGHT[2]), "SGD's step"),
    ((LR, LR * 500, RIGHT[2]), "SGD's step"),
    ((LR / 2, LR * 500, RIGHT[2]), "SGD's step"),
    ((LR, LR * 1000, RIGHT[2]), "1000 times"),
    ((LR * 3, LR, RIGHT[2]), "what are m_hat"),
    ((LR, LR, 0.0), "do not cancel exactly"),
    ((LR, LR, LR), "nearly cancels"),
    ((LR, LR, LR * 0.1), "geometric series"),
    ((LR, LR, LR / 1.9), r"multiplied by \(1 - beta1\)"),
    ((LR, LR, 0.003), "alternating signs"),
    ((LR, -LR, RIGHT[2]), "not negative"),
    ((None, LR, RIGHT[2]), "is None"),
])
def test_adam_step_prediction_mistakes(preds, match):
    message = hint(checks.check_adam_step_prediction, *preds, match=match)
    hidden = [v for v in RIGHT if not any(p is not None and np.isclose(v, p) for p in preds)]
    assert_hides(message, hidden)


# ------------------------------------------------------------------ clipping

def clip_variant(kind="global", total_kind="before", in_place=False, always=False):
    def clip_grad_norm(grads, max_norm):
        norms = [np.sqrt(np.sum(g ** 2)) for g in grads]
        total = float(np.sqrt(sum(n ** 2 for n in norms)))
        if kind == "per tensor":
            out = [g * min(1.0, max_norm / n) for g, n in zip(grads, norms)]
        elif kind == "value":
            out = [np.clip(g, -max_norm, max_norm) for g in grads]
        elif kind == "sum of norms":
            total = sum(norms)
            out = [g * min(1.0, max_norm / total) for g in grads]
        elif kind == "squared":
            total = total ** 2
            out = [g * min(1.0, max_norm / total) for g in grads]
        else:
            coef = max_norm / (total + 1e-6)
            if always or coef < 1:
                if in_place:
                    for g in grads:
                        g *= coef
                    out = grads
                else:
                    out = [g * coef for g in grads]
            else:
                out = list(grads)
        reported = {"before": total, "after": min(total, max_norm)}[total_kind]
        return out, reported
    return clip_grad_norm


def test_clip_grad_norm_passes_the_reference(capsys):
    passes(capsys, checks.check_clip_grad_norm, clip_variant(), name="clip_grad_norm")


@pytest.mark.parametrize("wrong, match", [
    (clip_variant("per tensor"), "per-tensor norms"),
    (clip_variant(always=True), "EXCEEDS max_norm"),
    (clip_variant("value"), "DIRECTION"),
    (clip_variant("sum of norms"), "sum of the arrays' norms"),
    (clip_variant("squared"), "SQUARED norm"),
    (clip_variant(total_kind="after"), "AFTER clipping"),
    (clip_variant(in_place=True), "in place"),
    (lambda grads, max_norm: clip_variant()(grads, max_norm)[0], "should return a tuple"),
])
def test_clip_grad_norm_mistakes(wrong, match):
    message = hint(checks.check_clip_grad_norm, wrong, match=match)
    grads = [np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.0, -4.0, 1.0])]
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    assert_hides(message, np.r_[total, np.concatenate([g.ravel() for g in grads]) * 2 / total])


def test_clip_grad_norm_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_clip_grad_norm(raises_own_error)
