"""Checks for exercises/06_optimizers.ipynb: pure update rules (SGD with momentum, Nesterov,
RMSProp, Adam, AdamW) checked over several steps against course_lib's optimizers (which
match torch.optim), a prediction of Adam's step length, and clipping by global norm."""
import numpy as np

from ..module import Parameter
from ..optim import SGD, Adam, AdamW, RMSProp
from ._common import as_array, check_shape, close, fail, fmt_array, passed, unpack
from ._fp import call_recording_fp_warnings


# The fixed inputs of every trajectory: a start point and five gradients. The third
# coordinate's gradients are tiny, so that eps placed inside the square root shows.
W0 = np.array([1.0, -2.0, 0.5])
GRADS = np.array([[0.5, -0.3, 2e-5], [-0.2, 0.4, 1e-5], [0.1, 0.1, -3e-5],
                  [0.3, -0.2, 2e-5], [-0.4, 0.05, 1e-5]])
LRS = [0.1, 0.1, 0.1, 0.02, 0.02]           # momentum checks: the rate drops at step 4


def _reference(make_opt, lrs):
    """Trajectory of a course_lib optimizer (== torch.optim) fed GRADS; lrs: one per step."""
    p = Parameter(W0.copy())
    opt = make_opt([p])
    path = []
    for g, lr in zip(GRADS, lrs):
        opt.lr = lr
        p.grad[...] = g
        opt.step()
        path.append(p.data.copy())
    return np.array(path)


def _run_student(step_fn, state_names, call, extra):
    """Run the student's pure update over GRADS. ``extra(k)`` gives the arguments after the
    state for step k (0-based). Returns the list of (w, *states) per step."""
    w = W0.copy()
    states = [np.zeros(3) for _ in state_names]
    rows = []
    for k, g in enumerate(GRADS):
        args = [w.copy(), g.copy()] + [s.copy() for s in states]
        result, warns = call_recording_fp_warnings(step_fn, *args, *extra(k))
        if not (np.array_equal(args[0], w) and np.array_equal(args[1], g)
                and all(np.array_equal(a, s) for a, s in zip(args[2:], states))):
            fail(f"{call}: at step {k + 1} your function changed one of its arguments in place "
                 f"(e.g. `v *= momentum` or `w -= ...`). The update must be pure: compute and "
                 f"return NEW arrays, e.g. v = momentum * v + grad")
        out = unpack(result, ("w",) + tuple(state_names), call)
        out = [as_array(o, f"{call}: {name} at step {k + 1}") for o, name in
               zip(out, ("w",) + tuple(state_names))]
        for o, name in zip(out, ("w",) + tuple(state_names)):
            check_shape(o, (3,), f"{call}: {name} at step {k + 1}")
        if not all(np.isfinite(o).all() for o in out):
            return rows + [out], k + 1, warns
        rows.append(out)
        w, states = out[0], out[1:]
    return rows, None, []


def _first_difference(path, ref):
    for k, (a, b) in enumerate(zip(path, ref)):
        if not close(a, b):
            return k
    return None


def _judge(path, ref, candidates, call, what="w"):
    """Fail with the hint of the first candidate trajectory the student's path matches."""
    for cand, hint in candidates:
        if len(cand) == len(path) and all(close(a, b) for a, b in zip(path, cand)):
            fail(f"{call}: {hint}")
    k = _first_difference(path, ref)
    fail(f"{call}: {what} is right for the first {k} step(s) and wrong from step {k + 1} on"
         if k else f"{call}: {what} is already wrong after the first step")


# ------------------------------------------------------------------ momentum

def _momentum_path(lrs, mu, kind="torch", nesterov=False):
    w, v, path, vs = W0.copy(), np.zeros(3), [], []
    for g, lr in zip(GRADS, lrs):
        if kind == "torch":
            v = mu * v + g
            w = w - lr * ((g + mu * v) if nesterov else v)
        elif kind == "sign":
            v = mu * v + g
            w = w + lr * ((g + mu * v) if nesterov else v)
        elif kind == "lr inside":
            v = mu * v + lr * g
            w = w - ((lr * g + mu * v) if nesterov else v)
        elif kind == "dampening":
            v = mu * v + (1 - mu) * g
            w = w - lr * ((g + mu * v) if nesterov else v)
        elif kind == "old v":                       # step with the velocity before its update
            w = w - lr * ((g + mu * v) if nesterov else v)
            v = mu * v + g
        elif kind == "classical":                    # (for Nesterov) plain momentum
            v = mu * v + g
            w = w - lr * v
        elif kind == "plain":
            w = w - lr * g
        path.append(w)
        vs.append(v)
    return np.array(path), np.array(vs)


def _momentum_call(name, state="v"):
    return (f"w, {state} = {fmt_array(W0)}, np.zeros(3); grads = {fmt_array(GRADS)}; lrs = {LRS}; "
            f"for grad, lr in zip(grads, lrs): w, {state} = {name}(w, grad, {state}, lr, "
            f"momentum=0.9)")


def _check_momentum_like(step_fn, nesterov):
    name = "nesterov_step" if nesterov else "sgd_momentum_step"
    mu = 0.9
    call = _momentum_call(name)
    rows, bad, _ = _run_student(step_fn, ("v",), call, lambda k: (LRS[k], mu))
    if bad is not None:
        fail(f"{call}: w or v is not finite (nan or inf) at step {bad}")
    path = np.array([r[0] for r in rows])
    vs = np.array([r[1] for r in rows])
    ref = _reference(lambda ps: SGD(ps, lr=LRS[0], momentum=mu, nesterov=nesterov), LRS)
    ref_v = _momentum_path(LRS, mu, "torch", nesterov)[1]
    if all(close(a, b) for a, b in zip(path, ref)):
        if not close(vs, ref_v):
            if close(vs, -ref_v):
                fail(f"{call}: w is right but v has the opposite sign. Keep PyTorch's "
                     f"velocity v = momentum * v + grad (the step subtracts lr * v)")
            fail(f"{call}: w is right but the returned v is not PyTorch's velocity "
                 f"momentum * v + grad (without lr)")
        return
    lr_hint = ("your w agrees while lr is constant and differs from step 4 on, where lr drops "
               "from 0.1 to 0.02: you put lr INSIDE the velocity (v = momentum * v + lr * grad; "
               "w -= v, or the same with the signs flipped). That form equals PyTorch's only "
               "for a constant rate; PyTorch keeps lr outside: v = momentum * v + grad; "
               "w -= lr * v" + (" (Nesterov: w -= lr * (grad + momentum * v))" if nesterov else ""))
    candidates = [
        (_momentum_path(LRS, mu, "sign", nesterov)[0],
         "the weights move UP the gradient: subtract the step, w = w - lr * ..."),
        (_momentum_path(LRS, mu, "lr inside", nesterov)[0], lr_hint),
        (_momentum_path(LRS, mu, "dampening", nesterov)[0],
         "you averaged the gradients, v = momentum * v + (1 - momentum) * grad. PyTorch's "
         "momentum SUMS them: v = momentum * v + grad"),
    ]
    if nesterov:
        # (stepping along grad + momentum * old v is the same as classical momentum)
        candidates.append((_momentum_path(LRS, mu, "classical")[0],
                           "that is classical momentum (w -= lr * v with the new v, or "
                           "equivalently grad + momentum * the OLD v). Nesterov steps along the "
                           "look-ahead direction: w -= lr * (grad + momentum * v), with the "
                           "updated v"))
    else:
        candidates.append((_momentum_path(LRS, mu, "old v")[0],
                           "you stepped with the velocity from BEFORE this step's update. First "
                           "update v = momentum * v + grad, then use the new v in the step"))
    candidates.append((_momentum_path(LRS, mu, "plain")[0],
                       "that is plain SGD (w -= lr * grad): the velocity is not used"))
    k = _first_difference(path, ref)
    if k == 3 and close(path[:3], _momentum_path(LRS, mu, "lr inside", nesterov)[0][:3]):
        fail(f"{call}: {lr_hint}")
    for cand, hint in candidates:
        if all(close(a, b) for a, b in zip(path, cand)):
            fail(f"{call}: {hint}")
    if k != 0 and not close(vs[0], ref_v[0]):
        if close(vs[0], -ref_v[0]):
            fail(f"{call}: w is right after the first step but the returned v has the opposite "
                 f"sign. Keep PyTorch's velocity v = momentum * v + grad (the step subtracts "
                 f"lr * v)")
        fail(f"{call}: w is right after the first step but the returned v is not PyTorch's "
             f"velocity momentum * v + grad (without lr)")
    _judge(path, ref, [], call)


def check_sgd_momentum(sgd_momentum_step):
    """Check ``sgd_momentum_step(w, grad, v, lr, momentum) -> (w, v)``, PyTorch's form
    v = momentum * v + grad; w = w - lr * v, over 5 steps whose lr drops from 0.1 to 0.02 at
    step 4, against cl.SGD(momentum=0.9) (= torch.optim.SGD).

    Diagnoses: the sign of the step; lr inside the velocity (m = beta m + lr g; w -= m, or
    CS231n's v = mu v - lr g; w += v), which agrees until lr changes; the dampened average
    (1 - momentum) * grad; the step taken with the velocity before its update; the velocity
    not used (plain SGD); a right w with a wrong v (sign or scale); arguments modified in
    place; nan or inf.
    """
    _check_momentum_like(sgd_momentum_step, nesterov=False)
    passed("sgd_momentum")


def check_nesterov(nesterov_step):
    """Check ``nesterov_step(w, grad, v, lr, momentum) -> (w, v)``, PyTorch's Nesterov form
    v = momentum * v + grad; w = w - lr * (grad + momentum * v), over the same 5 steps,
    against cl.SGD(momentum=0.9, nesterov=True).

    Diagnoses: classical momentum instead; the old velocity in the look-ahead term; the sign;
    lr inside the velocity; the dampened average; plain SGD; a wrong returned v; arguments
    modified in place.
    """
    _check_momentum_like(nesterov_step, nesterov=True)
    passed("nesterov")


# ------------------------------------------------------------------ RMSProp

_RMS = dict(lr=0.01, rho=0.9, eps=1e-8)


def _rmsprop_path(kind="ok"):
    lr, rho, eps = _RMS["lr"], _RMS["rho"], _RMS["eps"]
    w, s, path = W0.copy(), np.zeros(3), []
    for g in GRADS:
        if kind == "no 1-rho":
            s = rho * s + g * g
        elif kind == "swapped":
            s = (1 - rho) * s + rho * g * g
        else:
            s = rho * s + (1 - rho) * g * g
        if kind == "eps inside":
            step = g / np.sqrt(s + eps)
        elif kind == "no sqrt":
            step = g / (s + eps)
        elif kind == "abs":
            step = g / (np.abs(s) + eps)
        else:
            step = g / (np.sqrt(s) + eps)
        w = w - lr * step if kind != "sign" else w + lr * step
        path.append(w)
    return np.array(path)


def check_rmsprop(rmsprop_step):
    """Check ``rmsprop_step(w, grad, s, lr, rho, eps) -> (w, s)``:
    s = rho * s + (1 - rho) * grad**2; w = w - lr * grad / (sqrt(s) + eps), over 5 steps
    (lr 0.01, rho 0.9, eps 1e-8) against cl.RMSProp(alpha=rho) (= torch.optim.RMSprop).

    Diagnoses: eps inside the square root; the (1 - rho) factor missing; rho and 1 - rho
    swapped; no square root; the sign of the step; a right w with a wrong s; arguments
    modified in place; nan or inf (no eps).
    """
    call = (f"w, s = {fmt_array(W0)}, np.zeros(3); grads = {fmt_array(GRADS)}; for grad in grads: "
            f"w, s = rmsprop_step(w, grad, s, lr=0.01, rho=0.9, eps=1e-8)")
    rows, bad, _ = _run_student(rmsprop_step, ("s",), call,
                                lambda k: (_RMS["lr"], _RMS["rho"], _RMS["eps"]))
    if bad is not None:
        fail(f"{call}: w or s is not finite (nan or inf) at step {bad}: is eps added to the "
             f"denominator?")
    path = np.array([r[0] for r in rows])
    ref = _reference(lambda ps: RMSProp(ps, lr=_RMS["lr"], alpha=_RMS["rho"], eps=_RMS["eps"]),
                     [_RMS["lr"]] * len(GRADS))
    if all(close(a, b) for a, b in zip(path, ref)):
        s_ref = np.zeros(3)
        for g, (_, s) in zip(GRADS, rows):
            s_ref = _RMS["rho"] * s_ref + (1 - _RMS["rho"]) * g * g
            if not close(s, s_ref):
                fail(f"{call}: w is right but the returned s is not the moving average "
                     f"rho * s + (1 - rho) * grad**2")
        passed("rmsprop")
        return
    candidates = [
        (_rmsprop_path("eps inside"), "eps is inside the square root. RMSProp (and PyTorch) "
                                      "divide by sqrt(s) + eps; the difference shows on the "
                                      "coordinate with tiny gradients"),
        (_rmsprop_path("no 1-rho"), "the factor (1 - rho) is missing: s = rho * s + "
                                    "(1 - rho) * grad**2 is an average, not a sum"),
        (_rmsprop_path("swapped"), "rho and 1 - rho are swapped: the OLD s keeps the weight rho "
                                   "(0.9), the new grad**2 gets 1 - rho"),
        (_rmsprop_path("no sqrt"), "divide by the ROOT of the mean square, sqrt(s) + eps"),
        (_rmsprop_path("sign"), "the weights move UP the gradient: w = w - lr * grad / ..."),
    ]
    s1 = (1 - _RMS["rho"]) * GRADS[0] ** 2
    if close(path[0], ref[0]) and not close(rows[0][1], s1):
        candidates.append((path, "w is right after the first step but the returned s is not "
                                 "the moving average rho * s + (1 - rho) * grad**2"))
    _judge(path, ref, candidates, call)


# ------------------------------------------------------------------ Adam and AdamW

_ADAM = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
_WD = 0.1


def _adam_path(correct_m=True, correct_v=True, beta_v=None, t_shift=0, eps_inside=False,
               sign=1.0, store_hat=False, wd=0.0, decay="none"):
    lr, b1, b2, eps = _ADAM["lr"], _ADAM["beta1"], _ADAM["beta2"], _ADAM["eps"]
    bv = b2 if beta_v is None else beta_v
    w, m, v, path = W0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        if decay == "l2":
            g = g + wd * w
        elif decay == "decoupled":
            w = w - lr * wd * w
        elif decay == "no lr":
            w = w - wd * w
        m = b1 * m + (1 - b1) * g
        v = bv * v + (1 - bv) * g * g
        te = t + t_shift
        m_hat = m / (1 - b1 ** te) if correct_m else m
        v_hat = v / (1 - bv ** te) if correct_v else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        w = w - sign * lr * m_hat / denom
        if decay == "after":
            w = w * (1 - lr * wd)
        if store_hat:
            m, v = m_hat, v_hat
        path.append(w)
    return np.array(path)


def _adam_candidates(wd=0.0, decay="none"):
    kw = dict(wd=wd, decay=decay)
    return [
        (_adam_path(correct_m=False, correct_v=False, **kw),
         "there is no bias correction. m and v start at 0, so divide them by (1 - beta1**t) "
         "and (1 - beta2**t) before the step; without it the first steps are several times "
         "too large"),
        (_adam_path(correct_v=False, **kw), "only m is bias-corrected; v needs its correction "
                                            "too: v_hat = v / (1 - beta2**t)"),
        (_adam_path(correct_m=False, **kw), "only v is bias-corrected; m needs its correction "
                                            "too: m_hat = m / (1 - beta1**t)"),
        (_adam_path(beta_v=_ADAM["beta1"], **kw),
         "the second moment is updated with beta1 (a widely copied typo). v uses beta2: "
         "v = beta2 * v + (1 - beta2) * grad**2, and v_hat = v / (1 - beta2**t)"),
        (_adam_path(eps_inside=True, **kw), "eps is inside the square root; Adam (and PyTorch) "
                                            "divide by sqrt(v_hat) + eps. The difference shows "
                                            "on the coordinate with tiny gradients"),
        (_adam_path(t_shift=1, **kw), "the bias correction uses t + 1. The caller passes t = 1 "
                                      "at the first step (it increments t BEFORE calling), so "
                                      "use beta1**t and beta2**t as they are"),
        (_adam_path(sign=-1.0, **kw), "the weights move UP the gradient: w = w - lr * m_hat / "
                                      "(sqrt(v_hat) + eps)"),
        (_adam_path(store_hat=True, **kw), "you returned the bias-CORRECTED moments as the new "
                                           "state. Return the raw averages m and v; m_hat and "
                                           "v_hat are recomputed at every step"),
    ]


def _adam_call(name, extra=""):
    return (f"w, m, v = {fmt_array(W0)}, np.zeros(3), np.zeros(3); grads = {fmt_array(GRADS)}; "
            f"for t, grad in enumerate(grads, start=1): w, m, v = {name}(w, grad, m, v, t, "
            f"lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8{extra})")


def _check_adam_like(step_fn, name, wd=None):
    extra = "" if wd is None else f", weight_decay={wd:g}"
    call = _adam_call(name, extra)
    args = (_ADAM["lr"], _ADAM["beta1"], _ADAM["beta2"], _ADAM["eps"]) + (() if wd is None else (wd,))
    rows, bad, warns = _run_student(step_fn, ("m", "v"), call, lambda k: (k + 1,) + args)
    if bad is not None:
        if bad == 1 and any("divide by zero" in w or "invalid value" in w for w in warns):
            fail(f"{call}: w is not finite after the first step (division by zero). The first "
                 f"call gets t = 1, so 1 - beta1**t = 0.1: did you use t - 1 in the bias "
                 f"correction? The caller increments t BEFORE calling")
        fail(f"{call}: w, m or v is not finite (nan or inf) at step {bad}")
    path = np.array([r[0] for r in rows])
    if wd is None:
        ref = _reference(lambda ps: Adam(ps, lr=_ADAM["lr"], betas=(_ADAM["beta1"], _ADAM["beta2"]),
                                         eps=_ADAM["eps"]), [_ADAM["lr"]] * len(GRADS))
    else:
        ref = _reference(lambda ps: AdamW(ps, lr=_ADAM["lr"], betas=(_ADAM["beta1"], _ADAM["beta2"]),
                                          eps=_ADAM["eps"], weight_decay=wd), [_ADAM["lr"]] * len(GRADS))
    if all(close(a, b) for a, b in zip(path, ref)):
        m_ref, v_ref = np.zeros(3), np.zeros(3)
        for g, (_, m, v) in zip(GRADS, rows):
            m_ref = _ADAM["beta1"] * m_ref + (1 - _ADAM["beta1"]) * g
            v_ref = _ADAM["beta2"] * v_ref + (1 - _ADAM["beta2"]) * g * g
            if not (close(m, m_ref) and close(v, v_ref)):
                fail(f"{call}: w is right but the returned m or v is not the raw moving average "
                     f"(m = beta1 * m + (1 - beta1) * grad, v = beta2 * v + (1 - beta2) * "
                     f"grad**2, without bias correction)")
        return
    state_hint = []
    b1, b2 = _ADAM["beta1"], _ADAM["beta2"]
    g1 = GRADS[0]
    if close(path[0], ref[0]) and not (close(rows[0][1], (1 - b1) * g1)
                                       and close(rows[0][2], (1 - b2) * g1 * g1)):
        if close(rows[0][1], g1) and close(rows[0][2], g1 * g1):
            hint = ("you returned the bias-CORRECTED moments as the new state. Return the raw "
                    "averages m and v; m_hat and v_hat are recomputed at every step")
        else:
            hint = ("w is right after the first step but the returned m or v is not the raw "
                    "moving average (m = beta1 * m + (1 - beta1) * grad, v = beta2 * v + "
                    "(1 - beta2) * grad**2)")
        state_hint = [(path, hint)]
    if wd is None:
        _judge(path, ref, _adam_candidates() + state_hint, call)
    decay_candidates = [
        (_adam_path(wd=wd, decay="l2"),
         "you added the decay to the gradient (grad + weight_decay * w): that is L2 "
         "regularization, Adam's `weight_decay`, whose decay is divided by sqrt(v_hat) like "
         "the rest of the gradient. AdamW decouples it: w = w - lr * weight_decay * w, then the "
         "Adam step on the raw gradient"),
        (_adam_path(wd=wd, decay="no lr"),
         "the decay is not multiplied by lr: w = w - lr * weight_decay * w (PyTorch's AdamW "
         "scales the decay with the learning rate)"),
        (_adam_path(wd=wd, decay="after"),
         "you decayed the weights AFTER the Adam step. AdamW (like PyTorch) shrinks the OLD "
         "weights: w = w - lr * weight_decay * w first, then the Adam step"),
        (_adam_path(), "there is no weight decay at all: this is plain Adam. Shrink the weights "
                       "first, w = w - lr * weight_decay * w"),
    ]
    _judge(path, ref, decay_candidates + _adam_candidates(wd, "decoupled") + state_hint, call)


def check_adam(adam_step):
    """Check ``adam_step(w, grad, m, v, t, lr, beta1, beta2, eps) -> (w, m, v)`` with t the
    number of the step (1 at the first call; the caller increments it before calling), over
    5 steps (lr 0.1, betas 0.9 and 0.999, eps 1e-8) against cl.Adam (= torch.optim.Adam).

    Diagnoses: no bias correction; only m or only v corrected; the second moment updated
    with beta1; eps inside the square root; t off by one (t + 1 in the correction; t - 1,
    which divides by zero at the first step); the sign; the corrected moments returned as the
    state; a right w with wrong m or v; arguments modified in place.
    """
    _check_adam_like(adam_step, "adam_step")
    passed("adam")


def check_adamw(adamw_step):
    """Check ``adamw_step(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (w, m, v)``,
    decoupled weight decay: w = w - lr * weight_decay * w, then the Adam step on the raw
    gradient; over 5 steps (weight_decay 0.1) against cl.AdamW (= torch.optim.AdamW).

    Diagnoses: the decay added to the gradient (L2, Adam's weight_decay); the decay without
    lr; the decay applied after the Adam step; no decay; and every Adam mistake of
    check_adam (bias correction, beta1 in v, eps, t off by one, sign, state).
    """
    _check_adam_like(adamw_step, "adamw_step", wd=_WD)
    passed("adamw")


# ---------------------------------------------------------- Adam's step length

_PRED_LR, _PRED_STEPS = 0.01, 2000


def _measure_adam_steps():
    """|w_T - w_(T-1)| at step T = 2000 of cl.Adam (lr 0.01, default betas) for a constant
    gradient 0.5, a constant gradient 500 and a gradient alternating +0.5, -0.5, ..."""
    out = {}
    for name, grad_at in (("constant", lambda k: 0.5), ("scaled", lambda k: 500.0),
                          ("alternating", lambda k: 0.5 * (-1) ** k)):
        p = Parameter(np.zeros(1))
        opt = Adam([p], lr=_PRED_LR)
        for k in range(_PRED_STEPS):
            before = p.data.copy()
            p.grad[...] = grad_at(k)
            opt.step()
        out[name] = float(abs(p.data - before)[0])
    return out


def check_adam_step_prediction(step_constant, step_scaled, step_alternating):
    """Check predictions of the length of Adam's 2000th step (lr 0.01, beta1 0.9, beta2 0.999)
    for a constant gradient 0.5, a constant gradient 500, and a gradient alternating
    +0.5, -0.5, ..., against cl.Adam; within 10 %.

    Diagnoses: SGD's step lr * |g| (Adam divides by sqrt(v_hat) ~ |g|); a step that grows
    with the gradient's scale; the alternating case predicted as 0 (m does not cancel
    exactly), as lr (m averages the signs away), as lr * (1 - beta1) or lr / (1 + beta1)
    (half of the geometric series); a negative length.
    """
    preds = {}
    for name, value in (("step_constant", step_constant), ("step_scaled", step_scaled),
                        ("step_alternating", step_alternating)):
        if value is None:
            fail(f"{name} is None: assign your prediction, a number, to it")
        v = as_array(value, name)
        if v.size != 1 or not np.isfinite(v).all():
            fail(f"{name} should be one finite number, got {value!r}")
        if float(v) < 0:
            fail(f"{name} = {float(v):g}: a step LENGTH is not negative")
        preds[name] = float(v)
    measured = _measure_adam_steps()
    lr, b1 = _PRED_LR, 0.9

    def near(value, target):
        return abs(value - target) <= 0.1 * abs(target)

    for name, g in (("step_constant", 0.5), ("step_scaled", 500.0)):
        value = preds[name]
        if near(value, measured[name[5:]]):
            continue
        if near(value, lr * g):
            fail(f"{name} = {value:g} is SGD's step lr * |g|. Adam divides m_hat by "
                 f"sqrt(v_hat): after many steps with the same gradient, m_hat ~ g and "
                 f"sqrt(v_hat) ~ |g|")
        if name == "step_scaled" and near(value, 1000 * preds["step_constant"]):
            fail("step_scaled is 1000 times step_constant, but Adam's step does not grow with "
                 "the gradient's scale: multiplying g by 1000 multiplies both m_hat and "
                 "sqrt(v_hat) by 1000")
        fail(f"{name} = {value:g}: after 2000 steps of the same gradient g, what are m_hat and "
             f"v_hat, and what is lr * m_hat / sqrt(v_hat)?")

    value = preds["step_alternating"]
    if not near(value, measured["alternating"]):
        hints = [
            (lr, "m is an average of +g and -g: it nearly cancels, while v (an average of g**2) "
                 "does not. The step is much shorter than with a constant gradient"),
            (lr * (1 - b1), "the factor (1 - beta1) is only the newest gradient's weight; the "
                            "older ones, with alternating signs, add up as a geometric series "
                            "1 - beta1 + beta1**2 - ..."),
            (lr / (1 + b1), "the geometric series 1 - beta1 + beta1**2 - ... = 1 / (1 + beta1) "
                            "is multiplied by (1 - beta1) in m"),
        ]
        if value == 0.0:
            fail("step_alternating = 0: m is an exponential average, and the newest gradient "
                 "weighs more than the one before, so +g and -g do not cancel exactly")
        for target, hint in hints:
            if near(value, target):
                fail(f"step_alternating = {value:g}: {hint}")
        fail(f"step_alternating = {value:g}: write m after many steps as (1 - beta1) times a "
             f"geometric series with alternating signs; v_hat is g**2")
    passed("adam_step_prediction")


# ------------------------------------------------------------------ clipping

def _clip_inputs():
    grads = [np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.0, -4.0, 1.0])]
    text = "grads = [np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.0, -4.0, 1.0])]"
    return grads, text


def _call_clip(clip_grad_norm, grads, max_norm, call):
    given = [g.copy() for g in grads]
    result = clip_grad_norm(given, max_norm)
    if (isinstance(result, (list, tuple)) and len(result) == len(grads)
            and all(isinstance(r, np.ndarray) and r.size > 1 for r in result)):
        fail(f"{call} should return a tuple (clipped, total_norm); it looks like you returned "
             f"only the list of clipped gradients")
    clipped, total = unpack(result, ("clipped", "total_norm"), call)
    if not all(np.array_equal(a, b) for a, b in zip(given, grads)):
        fail(f"{call} changed the caller's gradients in place; return NEW arrays (c * g creates "
             f"one)")
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        fail(f"{call}: `clipped` should be a list with one array per gradient ({len(grads)})")
    clipped = [as_array(c, f"{call}: clipped[{i}]") for i, c in enumerate(clipped)]
    for i, (c, g) in enumerate(zip(clipped, grads)):
        check_shape(c, g.shape, f"{call}: clipped[{i}]")
    total = as_array(total, f"{call}: total_norm")
    if total.size != 1:
        fail(f"{call}: total_norm should be one number, the global norm of all gradients")
    return clipped, float(total)


def check_clip_grad_norm(clip_grad_norm):
    """Check ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)``: one global L2 norm
    over all gradient arrays together; if it exceeds max_norm, every array is scaled by
    max_norm / total_norm (direction kept); total_norm is the norm BEFORE clipping (as
    torch.nn.utils.clip_grad_norm_ returns).

    Diagnoses: per-tensor norms (each array clipped on its own); clipping (rescaling up) when
    the norm is below the threshold; clipping by value (np.clip), which changes the
    direction; the sum of the per-array norms, or the squared norm, as the total; the norm
    after clipping returned; the inputs modified in place.
    """
    grads, text = _clip_inputs()
    norms = [np.linalg.norm(g) for g in grads]
    total_ref = float(np.sqrt(sum(n ** 2 for n in norms)))

    c = 2.0
    call = f"{text}; clip_grad_norm(grads, max_norm={c:g})"
    clipped, total = _call_clip(clip_grad_norm, grads, c, call)
    ref = [g * c / total_ref for g in grads]
    if not all(close(a, b) for a, b in zip(clipped, ref)):
        candidates = [
            ([g * min(1.0, c / n) for g, n in zip(grads, norms)],
             "each array was clipped to norm max_norm on its own (per-tensor norms). Compute ONE "
             "global norm over all arrays, sqrt(sum of all squared entries), and scale every "
             "array by the same factor, so the direction of the whole step is kept"),
            ([np.clip(g, -c, c) for g in grads],
             "you clipped each entry to [-max_norm, max_norm] (clipping by value). That changes "
             "the DIRECTION of the gradient; clipping by norm scales all entries by the same "
             "factor"),
            ([g * c / sum(norms) for g in grads],
             "the total is the sum of the arrays' norms; the global norm is "
             "sqrt(sum over arrays of ||g||**2)"),
            ([g * c / total_ref ** 2 for g in grads],
             "you divided by the SQUARED norm; the global norm is the square root of the sum of "
             "squares"),
        ]
        for cand, hint in candidates:
            if all(close(a, b) for a, b in zip(clipped, cand)):
                fail(f"{call}: {hint}")
        fail(f"{call}: the clipped gradients are not grads * max_norm / (global norm)")
    if not close(total, total_ref):
        if close(total, c):
            fail(f"{call}: total_norm is the norm AFTER clipping (max_norm). Return the global "
                 f"norm before clipping: it is what you log to see how often clipping acts")
        if close(total, sum(norms)):
            fail(f"{call}: total_norm is the sum of the arrays' norms; return "
                 f"sqrt(sum over arrays of ||g||**2)")
        if close(total, total_ref ** 2):
            fail(f"{call}: total_norm is the squared norm; take the square root")
        fail(f"{call}: total_norm is not the global L2 norm of all gradients before clipping")

    c = 10.0
    call = f"{text}; clip_grad_norm(grads, max_norm={c:g})"
    clipped, total = _call_clip(clip_grad_norm, grads, c, call)
    if not all(close(a, b) for a, b in zip(clipped, grads)):
        if all(close(a, g * c / total_ref) for a, g in zip(clipped, grads)):
            fail(f"{call}: the global norm is below max_norm, yet you rescaled the gradients (up "
                 f"to norm max_norm). Clip only when the norm EXCEEDS max_norm; otherwise "
                 f"return the gradients unchanged")
        fail(f"{call}: the global norm is below max_norm, so the gradients must come back "
             f"unchanged")
    if not close(total, total_ref):
        fail(f"{call}: total_norm is not the global L2 norm of all gradients")
    passed("clip_grad_norm")
