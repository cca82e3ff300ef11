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
        if kind == "old s":                 # the step before the update of s
            w = w - lr * grad / (np.sqrt(s) + eps)
            return w, rho * s + (1 - rho) * grad ** 2
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
                 sign=1.0, store_hat=False, decay="decoupled", in_place=False, v_form=None,
                 no_eps=False):
    """An Adam(W) step with one planted variation. beta_v: the beta of v ("beta1": the
    misprint); v_form(beta1, beta2) -> (weight of the old v, weight of grad**2, beta of the
    correction): other forms of the misprint."""
    def adam_core(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0):
        bv = beta2 if beta_v is None else (beta1 if beta_v == "beta1" else beta_v)
        v_old, v_new, bc = (bv, 1 - bv, bv) if v_form is None else v_form(beta1, beta2)
        if decay == "l2":
            grad = grad + weight_decay * w
        elif decay == "decoupled":
            w = w - lr * weight_decay * w
        elif decay == "no lr":
            w = w - weight_decay * w
        if in_place:
            m *= beta1
            m += (1 - beta1) * grad
            v *= v_old
            v += v_new * grad ** 2
        else:
            m = beta1 * m + (1 - beta1) * grad
            v = v_old * v + v_new * grad ** 2
        te = t + t_shift
        m_hat = m / (1 - beta1 ** te) if correct_m else m
        v_hat = v / (1 - bc ** te) if correct_v else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + (0.0 if no_eps else eps)
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
    (dict(beta_v="beta1"), "updated with beta1"),
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


# ------------------------------------------------------------ sharper diagnoses

def test_rmsprop_names_a_step_taken_with_the_old_s():
    message = hint(checks.check_rmsprop, rmsprop_variant("old s"), match="divides by the OLD s")
    assert "update" in message and "lr * grad / eps" in message


def test_rmsprop_names_a_missing_eps():
    hint(checks.check_rmsprop, rmsprop_variant("no eps"), match="without eps")


@pytest.mark.parametrize("form", [
    dict(beta_v="beta1"),                                               # the misprint as printed
    dict(v_form=lambda b1, b2: (b1, 1 - b1, b2)),                       # … with beta2 in v_hat
    dict(v_form=lambda b1, b2: (b1, 1 - b2, b2)),                       # mixed
    dict(v_form=lambda b1, b2: (b2, 1 - b1, b2)),                       # mixed the other way
    dict(beta_v="beta1", correct_m=False, correct_v=False),             # … and no correction
])
def test_adam_names_the_misprinted_second_moment_in_every_form(form):
    for check, fn in ((checks.check_adam, adam_only(**form)), (checks.check_adamw, adam_variant(**form))):
        message = hint(check, fn, match="updated with beta1")
        assert "misprint" in message and "beta2 * v + (1 - beta2) * grad**2" in message


def test_adam_says_the_first_step_is_right_only_when_it_is():
    assert "one-step test" in hint(checks.check_adam, adam_only(beta_v="beta1"), match="misprint")
    message = hint(checks.check_adam, adam_only(v_form=lambda b1, b2: (b1, 1 - b1, b2)), match="misprint")
    assert "one-step test" not in message


def test_adam_names_a_missing_eps():
    hint(checks.check_adam, adam_only(no_eps=True), match="without eps")


def test_momentum_names_the_old_velocity_combined_with_another_mistake():
    def old_v_dampened(w, grad, v, lr, momentum):
        return w - lr * v, momentum * v + (1 - momentum) * grad
    hint(checks.check_sgd_momentum, old_v_dampened, match="from BEFORE this step's update")


def test_clip_grad_norm_names_gradients_returned_unchanged():
    hint(checks.check_clip_grad_norm, lambda grads, max_norm: clip_variant()(grads, 1e9)[0:1] +
         (clip_variant()(grads, max_norm)[1],), match="unchanged although")


def test_reproducing_calls_paste_into_a_cell():
    """The hint's call runs as printed (loops on their own line) and reproduces the failure."""
    message = hint(checks.check_adam, adam_only(beta_v="beta1"), match="misprint")
    code = message.split("to reproduce: ", 1)[1]
    namespace = {"np": np, "adam_step": adam_only(beta_v="beta1")}
    exec(compile(code, "<hint>", "exec"), namespace)
    assert namespace["w"].shape == (3,)
    assert not np.allclose(namespace["w"], adam_path()[-1])


# ------------------------------------------------------------------ hidden tests

from course_lib.checks import optimizers as oc                     # noqa: E402
from course_lib.checks._common import hidden_mode                  # noqa: E402
from _hiddencheck import HIDDEN_SEEDS, assert_advice_form, hidden_hint   # noqa: E402

MOMENTUM_MISTAKES = [
    (dict(kind="sign"), "UP the gradient"),
    (dict(kind="lr inside"), "lr INSIDE the velocity"),
    (dict(kind="dampening"), "averaged the gradients"),
    (dict(kind="old v"), "from BEFORE this step's update|the OLD v"),
    (dict(kind="plain"), "plain SGD"),
    (dict(v_out=lambda v, lr: -v), "opposite sign"),
    (dict(v_out=lambda v, lr: 2 * v), "without lr"),
    (dict(in_place=True), "in place"),
]
RMSPROP_MISTAKES = [
    (rmsprop_variant("old s"), "OLD s"),
    (rmsprop_variant("eps inside"), "inside the square root"),
    (rmsprop_variant("no eps"), "without eps"),
    (rmsprop_variant("no 1-rho"), r"factor \(1 - rho\) is missing"),
    (rmsprop_variant("swapped"), "swapped"),
    (rmsprop_variant("no sqrt"), "ROOT"),
    (rmsprop_variant("sign"), "UP the gradient"),
    (rmsprop_variant(s_out=lambda s: 2 * s), "returned s"),
]
ADAMW_ONLY_MISTAKES = [
    (dict(decay="l2"), "that is L2"),
    (dict(decay="no lr"), "not multiplied by lr"),
    (dict(decay="after"), "AFTER the Adam step"),
    (dict(decay="none"), "no weight decay at all"),
]
CLIP_MISTAKES = [
    (clip_variant("per tensor"), "per-tensor norms"),
    (clip_variant(always=True), "EXCEEDS max_norm"),
    (clip_variant("value"), "DIRECTION"),
    (clip_variant("sum of norms"), "sum of the arrays' norms"),
    (clip_variant("squared"), "SQUARED norm"),
    (clip_variant(total_kind="after"), "AFTER clipping"),
    (clip_variant(in_place=True), "in place"),
]


def hidden_path(seed, step, state_count, hyper):
    inp = oc.trajectory_inputs(seed)
    w, state, out = inp.w0.copy(), [np.zeros(len(inp.w0))] * state_count, []
    for k, g in enumerate(inp.grads):
        w, *state = step(w, g, *state, **hyper(k, inp))
        out.append(w)
    return np.array(out)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3, 4, 5))
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_sgd_momentum(momentum_variant(), seed=seed)
    checks.check_nesterov(momentum_variant(nesterov=True), seed=seed)
    checks.check_rmsprop(rmsprop_variant(), seed=seed)
    checks.check_adam(adam_only(), seed=seed)
    checks.check_adamw(adam_variant(), seed=seed)
    checks.check_clip_grad_norm(clip_variant(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 6


def test_hidden_inputs_stay_in_the_regime():
    for seed in range(60):
        inp = oc.trajectory_inputs(seed)
        assert np.all(np.abs(inp.grads[:, -1]) < 1e-4) and np.all(np.abs(inp.grads[:, :-1]) >= 1e-3)
        assert 2 <= inp.drop <= len(inp.grads) - 2 and inp.lrs[inp.drop] < inp.lrs[0]
        assert inp.adam["beta1"] < inp.adam["beta2"] and inp.rms["rho"] != 0.5
        grads, _, low, high = oc.clip_inputs(seed)
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        assert low < max(np.abs(g).max() for g in grads) and low < total < high


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("wrong, match", MOMENTUM_MISTAKES)
def test_hidden_momentum_catches_the_same_mistakes(seed, nesterov, wrong, match):
    check = checks.check_nesterov if nesterov else checks.check_sgd_momentum
    message = hidden_hint(check, momentum_variant(nesterov=nesterov, **wrong), seed, match)
    assert_advice_form(message, "nesterov_step" if nesterov else "sgd_momentum_step")
    assert_hides(message, hidden_path(seed, momentum_variant(nesterov=nesterov), 1,
                                      hyper=lambda k, inp: dict(lr=inp.lrs[k], momentum=inp.momentum)))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", RMSPROP_MISTAKES)
def test_hidden_rmsprop_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_rmsprop, wrong, seed, match)
    assert_advice_form(message, "rmsprop_step")
    assert_hides(message, hidden_path(seed, rmsprop_variant(), 1, hyper=lambda k, inp: inp.rms))


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", ADAM_MISTAKES + [(dict(v_form=lambda b1, b2: (b1, 1 - b1, b2)), "misprint"),
                                                          (dict(no_eps=True), "without eps")])
def test_hidden_adam_catches_the_same_mistakes(seed, wrong, match):
    with np.errstate(divide="ignore", invalid="ignore"):
        message = hidden_hint(checks.check_adam, adam_only(**wrong), seed, match)
        message_w = hidden_hint(checks.check_adamw, adam_variant(**wrong), seed, match)
    assert_advice_form(message, "adam_step")
    assert_advice_form(message_w, "adamw_step")
    ref = hidden_path(seed, adam_only(), 2, hyper=lambda k, inp: dict(t=k + 1, **inp.adam))
    assert_hides(message, ref)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", ADAMW_ONLY_MISTAKES)
def test_hidden_adamw_catches_the_decay_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_adamw, adam_variant(**wrong), seed, match)
    assert_advice_form(message, "adamw_step")
    ref = hidden_path(seed, adam_variant(), 2,
                      hyper=lambda k, inp: dict(t=k + 1, weight_decay=inp.wd, **inp.adam))
    assert_hides(message, ref)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", CLIP_MISTAKES)
def test_hidden_clip_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_clip_grad_norm, wrong, seed, match)
    assert_advice_form(message, "clip_grad_norm")
    grads, _, low, _ = oc.clip_inputs(seed)
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    assert_hides(message, np.r_[total, np.concatenate([g.ravel() for g in grads]) * low / total])


def test_public_messages_name_the_function_and_start_a_sentence():
    for nesterov in (False, True):
        check = checks.check_nesterov if nesterov else checks.check_sgd_momentum
        for wrong, match in MOMENTUM_MISTAKES:
            assert_advice_form(hint(check, momentum_variant(nesterov=nesterov, **wrong), match=match),
                               "nesterov_step" if nesterov else "sgd_momentum_step")
    for wrong, match in RMSPROP_MISTAKES:
        assert_advice_form(hint(checks.check_rmsprop, wrong, match=match), "rmsprop_step")
    with np.errstate(divide="ignore", invalid="ignore"):
        for wrong, match in ADAM_MISTAKES:
            assert_advice_form(hint(checks.check_adam, adam_only(**wrong), match=match), "adam_step")
    for wrong, match in CLIP_MISTAKES:
        assert_advice_form(hint(checks.check_clip_grad_norm, wrong, match=match), "clip_grad_norm")


def replaying(answers):
    """A 'solution' that replays the public check's answers in order, one per call."""
    calls = []

    def step(*args, **kwargs):
        calls.append(1)
        return answers[(len(calls) - 1) % len(answers)]
    return step


def recorded(step, state_count, inp, extra):
    w, state, out = inp.w0.copy(), [np.zeros(len(inp.w0))] * state_count, []
    for k, g in enumerate(inp.grads):
        result = step(w, g, *state, *extra(k))
        out.append(result)
        w, *state = result
    return out


def test_hard_coded_answers_fail_the_hidden_tests():
    pub = oc.trajectory_inputs()
    cases = [
        (checks.check_sgd_momentum, recorded(momentum_variant(), 1, pub, lambda k: (pub.lrs[k], 0.9))),
        (checks.check_nesterov, recorded(momentum_variant(nesterov=True), 1, pub, lambda k: (pub.lrs[k], 0.9))),
        (checks.check_rmsprop, recorded(rmsprop_variant(), 1, pub, lambda k: (0.01, 0.9, 1e-8))),
        (checks.check_adam, recorded(adam_only(), 2, pub, lambda k: (k + 1, 0.1, 0.9, 0.999, 1e-8))),
        (checks.check_adamw, recorded(adam_variant(), 2, pub, lambda k: (k + 1, 0.1, 0.9, 0.999, 1e-8, 0.1))),
    ]
    for check, answers in cases:
        check(replaying(answers))                                  # fools the public check …
        for seed in HIDDEN_SEEDS:
            with pytest.raises(AssertionError):
                check(replaying(answers), seed=seed)               # … not a hidden one
    grads, _, low, high = oc.clip_inputs()
    table = {low: clip_variant()(grads, low), high: clip_variant()(grads, high)}
    checks.check_clip_grad_norm(lambda g, max_norm: table[max_norm])
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_clip_grad_norm(lambda g, max_norm: table.get(max_norm, table[low]), seed=seed)


@pytest.mark.parametrize("check", [checks.check_sgd_momentum, checks.check_nesterov, checks.check_rmsprop,
                                   checks.check_adam, checks.check_adamw, checks.check_clip_grad_norm])
def test_hidden_variants_let_the_students_error_through(check):
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        check(raises_own_error, seed=HIDDEN_SEEDS[0])


def test_the_prediction_declares_why_it_has_no_hidden_variant():
    assert checks.check_adam_step_prediction.hidden is False
    assert "scenario" in checks.check_adam_step_prediction.hidden_why
    for check in (checks.check_sgd_momentum, checks.check_nesterov, checks.check_rmsprop,
                  checks.check_adam, checks.check_adamw, checks.check_clip_grad_norm):
        assert check.hidden is True


def test_a_second_moment_of_unsquared_gradients_gets_its_own_hint():
    def rms_unsquared(w, grad, s, lr, rho, eps):
        s = rho * s + (1 - rho) * grad
        return w - lr * grad / (np.sqrt(s) + eps), s

    def adam_unsquared(w, grad, m, v, t, lr, beta1, beta2, eps):
        m, v = beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
    with np.errstate(invalid="ignore"):
        hint(checks.check_rmsprop, rms_unsquared, match="s became negative")
        hint(checks.check_adam, adam_unsquared, match="v became negative")
        for seed in HIDDEN_SEEDS:
            hidden_hint(checks.check_rmsprop, rms_unsquared, seed, "SQUARED gradient")


# ------------------------------------------------------------ optimal momentum on a quadratic

def om_variant(beta_kind="ok", lr_kind="ok", swap=False):
    """optimal_momentum with one planted variation of beta or lr; swap: kappa = lam_min / lam_max."""
    def optimal_momentum(lam_min, lam_max):
        a, b = (lam_max, lam_min) if swap else (lam_min, lam_max)
        k = b / a
        r = np.sqrt(k)
        beta = {"ok": ((r - 1) / (r + 1)) ** 2, "gd": (k - 1) / (k + 1), "no square": (r - 1) / (r + 1),
                "kappa": ((k - 1) / (k + 1)) ** 2, "inverted": ((r + 1) / (r - 1)) ** 2,
                "one minus": 1 - 1 / k}[beta_kind]
        s = np.sqrt(lam_max) + np.sqrt(lam_min)
        lr = {"ok": 4 / s ** 2, "gd": 2 / (lam_min + lam_max), "no square": 4 / s,
              "no roots": 4 / (lam_min + lam_max), "two": 2 / s ** 2, "safe": 1 / lam_max,
              "inverse": s ** 2 / 4}[lr_kind]
        return lr, beta
    return optimal_momentum


OM_MISTAKES = [
    (dict(beta_kind="gd"), "gradient descent's best RATE"),
    (dict(beta_kind="no square"), "Square it"),
    (dict(beta_kind="kappa"), "uses kappa where the formula has sqrt"),
    (dict(beta_kind="inverted"), "inverted fraction"),
    (dict(beta_kind="one minus"), "1 - 1/kappa"),
    (dict(beta_kind="no square", swap=True), "swap lam_min and lam_max"),
    (dict(beta_kind="gd", swap=True), "swap lam_min and lam_max"),
    (dict(lr_kind="gd"), "plain gradient descent's best rate 2 / \\(lam_min \\+ lam_max\\)"),
    (dict(lr_kind="no square"), "forgot the square"),
    (dict(lr_kind="no roots"), "square roots"),
    (dict(lr_kind="two"), "has 2 where the formula has 4"),
    (dict(lr_kind="safe"), "1 / lam_max"),
    (dict(lr_kind="inverse"), "inverse of the optimal lr"),
]


def om_expected(seed=None):
    values = []
    for lam_min, lam_max in oc.momentum_pairs(seed):
        root = np.sqrt(lam_max / lam_min)
        values += [4 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2, ((root - 1) / (root + 1)) ** 2]
    return values


def test_optimal_momentum_passes_the_reference(capsys):
    passes(capsys, checks.check_optimal_momentum, om_variant(), name="optimal_momentum")
    passes(capsys, checks.check_optimal_momentum, om_variant(swap=True), name="optimal_momentum")  # symmetric


def test_optimal_momentum_reference_is_polyaks_optimum():
    # the check's reference is the (lr, beta) at which no other setting converges faster
    from course_lib.widgets import optimizers as race
    for lam_min, lam_max in oc.momentum_pairs() + oc.momentum_pairs(11):
        lr, beta = oc._momentum_reference(lam_min, lam_max)
        best = race.optimal_momentum(lam_min, lam_max)
        assert np.isclose(lr, best.lr, rtol=1e-12) and np.isclose(beta, best.beta, rtol=1e-12)
        grid = race.momentum_rate(np.linspace(1e-3, 2.2, 300)[None, :] * lr, np.linspace(0, 0.999, 300)[:, None],
                                  lam_min, lam_max)
        assert grid.min() >= best.rate - 1e-9


@pytest.mark.parametrize("wrong, match", OM_MISTAKES)
def test_optimal_momentum_mistakes(wrong, match):
    message = hint(checks.check_optimal_momentum, om_variant(**wrong), match=match)
    assert_advice_form(message, "optimal_momentum")
    assert_hides(message, om_expected())


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3, 4, 5))
def test_optimal_momentum_hidden_variants_pass_the_reference(capsys, seed):
    checks.check_optimal_momentum(om_variant(), seed=seed)
    assert "✓ optimal_momentum" in capsys.readouterr().out


def test_optimal_momentum_hidden_pairs_stay_in_the_regime():
    for seed in range(60):
        pairs = oc.momentum_pairs(seed)
        assert len(pairs) == 3 and pairs != oc.momentum_pairs()
        for lam_min, lam_max in pairs:
            assert 0.009 < lam_min < 2.01 and 3.9 < lam_max / lam_min < 2001


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", OM_MISTAKES)
def test_hidden_optimal_momentum_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_optimal_momentum, om_variant(**wrong), seed, match)
    assert_advice_form(message, "optimal_momentum")
    assert_hides(message, om_expected(seed))


def test_optimal_momentum_hard_coded_answers_fail_the_hidden_tests():
    table = {pair: om_variant()(*pair) for pair in oc.momentum_pairs()}
    cheat = lambda lam_min, lam_max: table.get((lam_min, lam_max), (0.1, 0.5))   # noqa: E731
    checks.check_optimal_momentum(cheat)                            # fools the public check ...
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_optimal_momentum(cheat, seed=seed)         # ... not a hidden one


def test_optimal_momentum_form_errors_and_the_students_own_error():
    hint(checks.check_optimal_momentum, lambda a, b: 0.1, match="should return a tuple")
    hint(checks.check_optimal_momentum, lambda a, b: (np.nan, 0.5), match="two finite numbers")
    hint(checks.check_optimal_momentum, lambda a, b: (0.1, 0.5), match="The beta that optimal_momentum")
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_optimal_momentum(raises_own_error)
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        checks.check_optimal_momentum(raises_own_error, seed=HIDDEN_SEEDS[0])


# ------------------------------------------------------------ predicted convergence rates

K400 = 400.0
RATES = ((K400 - 1) / (K400 + 1), (np.sqrt(K400) - 1) / (np.sqrt(K400) + 1))


def test_rate_prediction_passes_exact_and_rounded_answers(capsys):
    passes(capsys, checks.check_momentum_rate_prediction, *RATES, name="momentum_rate_prediction")
    passes(capsys, checks.check_momentum_rate_prediction, 0.995, 0.905, name="momentum_rate_prediction")


def test_rate_prediction_is_measured_on_cl_sgd_runs():
    measured = oc._measured_rates()
    assert np.isclose(measured["gd"], RATES[0], rtol=1e-9)            # exact for GD: both ends at |1 - lr lam|
    assert abs((1 - measured["momentum"]) / (1 - RATES[1]) - 1) < 0.02   # critically damped: t rate^t


g, m = RATES


@pytest.mark.parametrize("preds, match", [
    ((m, g), "swapped"),
    ((g, m ** 2), "beta\\* itself"),
    ((g, g), "is gradient descent's rate"),
    ((g, 1 - 1 / np.sqrt(K400)), "1 - 1/sqrt\\(kappa\\)"),
    ((g, 0.7), "double root"),
    ((1 - 1 / K400, m), "lr = 1 / lam_max"),
    ((m, m), "is momentum's rate"),
    ((g ** 2, m), "factor by which f shrinks"),
    ((0.97, m), "1 - lr \\* lam"),
    ((1.2, m), "between 0 and 1"),
    ((g, -0.1), "between 0 and 1"),
    ((None, m), "is None"),
])
def test_rate_prediction_mistakes(preds, match):
    message = hint(checks.check_momentum_rate_prediction, *preds, match=match)
    hidden = [v for v in RATES if not any(p is not None and np.isclose(v, p) for p in preds)]
    assert_hides(message, hidden)


def test_the_rate_prediction_declares_why_it_has_no_hidden_variant():
    assert checks.check_momentum_rate_prediction.hidden is False
    assert "quadratic" in checks.check_momentum_rate_prediction.hidden_why
    assert checks.check_optimal_momentum.hidden is True
