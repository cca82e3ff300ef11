"""Checks for exercises/06_optimizers.ipynb: pure update rules (SGD with momentum, Nesterov,
RMSProp, Adam, AdamW) checked over several steps against course_lib's optimizers (which
match torch.optim), a prediction of Adam's step length, clipping by global norm, and the
optimal momentum on a quadratic with a prediction of its convergence rate (measured on
cl.SGD runs).

Every check of a function has a hidden variant: with ``seed=<int>`` it draws another start
point, other gradients (more or fewer steps and coordinates, one coordinate still with tiny
gradients), other learning rates (and where the rate drops), momentum, rho, betas, eps and
weight decay, or other gradient arrays and thresholds for clipping; the optimal momentum's
check draws other curvature pairs. The prediction checks have none: their numbers are the
answer about one stated scenario."""
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..module import Parameter
from ..optim import SGD, Adam, AdamW, RMSProp
from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, read_predictions, unpack
from ._fp import call_recording_fp_warnings


# The fixed public inputs of every trajectory: a start point and five gradients. The third
# coordinate's gradients are tiny, so that eps placed inside the square root shows.
W0 = np.array([1.0, -2.0, 0.5])
GRADS = np.array([[0.5, -0.3, 2e-5], [-0.2, 0.4, 1e-5], [0.1, 0.1, -3e-5],
                  [0.3, -0.2, 2e-5], [-0.4, 0.05, 1e-5]])
LRS = [0.1, 0.1, 0.1, 0.02, 0.02]           # momentum checks: the rate drops at step 4


@dataclass(frozen=True)
class _Loop(Call):
    """A Call whose code is a loop: the setup goes on its own line, so that the text pastes
    into a cell as it is."""

    def __str__(self):
        return f"{self.setup}\n{self.code}" if self.setup else self.code


def trajectory_inputs(seed=None):
    """The inputs of the update-rule checks: start point ``w0``, gradients ``grads`` (steps, D)
    whose last coordinate is tiny, the momentum checks' rates ``lrs`` (dropping at step
    ``drop`` + 1) and ``momentum``, and the hyperparameters of RMSProp (``rms``), Adam
    (``adam``) and AdamW (``wd``). ``seed=None``: the public inputs."""
    if seed is None:
        return SimpleNamespace(w0=W0, grads=GRADS, lrs=list(LRS), drop=3, momentum=0.9,
                               rms=dict(lr=0.01, rho=0.9, eps=1e-8),
                               adam=dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8), wd=0.1)
    g = np.random.default_rng(seed)
    d, steps = int(g.integers(3, 6)), int(g.integers(5, 8))
    w0 = np.round(g.uniform(-2.0, 2.0, d), 2)
    grads = np.round(g.normal(0.0, 0.4, (steps, d)), 3)
    grads[grads == 0] = 0.01
    grads[:, -1] = g.integers(10, 40, steps) * g.choice([-1, 1], steps) / 1e6      # tiny
    lr0 = float(g.choice([0.05, 0.1, 0.2]))
    drop = int(g.integers(2, steps - 1))                    # at least two steps on each side
    lrs = [lr0] * drop + [round(lr0 * float(g.choice([0.1, 0.2, 0.3])), 6)] * (steps - drop)
    return SimpleNamespace(
        w0=w0, grads=grads, lrs=lrs, drop=drop, momentum=float(g.choice([0.8, 0.85, 0.9, 0.95])),
        rms=dict(lr=float(g.choice([0.005, 0.01, 0.02])), rho=float(g.choice([0.8, 0.9, 0.95, 0.99])),
                 eps=float(g.choice([1e-8, 1e-7]))),
        adam=dict(lr=float(g.choice([0.05, 0.1, 0.2])), beta1=float(g.choice([0.8, 0.9, 0.95])),
                  beta2=float(g.choice([0.99, 0.995, 0.999])), eps=1e-8),
        wd=float(g.choice([0.05, 0.1, 0.2, 0.3])))


def _setup(inp, state):
    zeros = f"np.zeros({len(inp.w0)})"
    return (f"{state} = {fmt_array(inp.w0)}, " + ", ".join([zeros] * (state.count(",")))
            + f"; grads = {fmt_array(inp.grads)}")


def _reference(make_opt, inp, lrs):
    """Trajectory of a course_lib optimizer (== torch.optim) fed the gradients; one lr per step."""
    p = Parameter(inp.w0.copy())
    opt = make_opt([p])
    path = []
    for g, lr in zip(inp.grads, lrs):
        opt.lr = lr
        p.grad[...] = g
        opt.step()
        path.append(p.data.copy())
    return np.array(path)


def _run_student(step_fn, name, state_names, inp, call, extra):
    """Run the student's pure update over the gradients. ``extra(k)`` gives the arguments after
    the state for step k (0-based). Returns (rows, bad, warns): the list of (w, *states) per
    step, the step at which a value became nan or inf (or None), and the floating-point
    warnings of that step."""
    d = len(inp.w0)
    w = inp.w0.copy()
    states = [np.zeros(d) for _ in state_names]
    rows = []
    names = ("w",) + tuple(state_names)
    for k, g in enumerate(inp.grads):
        args = [w.copy(), g.copy()] + [s.copy() for s in states]
        result, warns = call_recording_fp_warnings(step_fn, *args, *extra(k))
        if not (np.array_equal(args[0], w) and np.array_equal(args[1], g)
                and all(np.array_equal(a, s) for a, s in zip(args[2:], states))):
            fail(f"{name} changed one of its arguments in place at step {k + 1} (e.g. "
                 f"`v *= momentum` or `w -= ...`). The update must be pure: compute and return NEW "
                 f"arrays, e.g. v = momentum * v + grad", call)
        out = unpack(result, names, name, call)
        out = [as_array(o, f"{name}'s {n} at step {k + 1}", call) for o, n in zip(out, names)]
        for o, n in zip(out, names):
            check_shape(o, (d,), f"{name}'s {n} at step {k + 1}", call)
        if not all(np.isfinite(o).all() for o in out):
            return rows + [out], k + 1, warns
        rows.append(out)
        w, states = out[0], out[1:]
    return rows, None, []


def _same_path(path, cand):
    return len(cand) == len(path) and all(close(a, b) for a, b in zip(path, cand))


def _first_difference(path, ref):
    for k, (a, b) in enumerate(zip(path, ref)):
        if not close(a, b):
            return k
    return None


def _judge(path, ref, candidates, name, call, what="w"):
    """Fail with the hint of the first candidate trajectory the student's path matches."""
    for cand, hint in candidates:
        if _same_path(path, cand):
            fail(f"{name} {hint}", call)
    k = _first_difference(path, ref)
    fail(f"The {what} that {name} returned is right for the first {k} step(s) and wrong from step "
         f"{k + 1} on" if k else f"The {what} that {name} returned is already wrong after the first "
         f"step", call)


# ------------------------------------------------------------------ momentum

def _momentum_path(inp, mu, kind="torch", nesterov=False):
    w, v, path, vs = inp.w0.copy(), np.zeros(len(inp.w0)), [], []
    for g, lr in zip(inp.grads, inp.lrs):
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


def _check_momentum_like(step_fn, nesterov, seed):
    name = "nesterov_step" if nesterov else "sgd_momentum_step"
    inp = trajectory_inputs(seed)
    mu = inp.momentum
    call = _Loop(f"for grad, lr in zip(grads, lrs): w, v = {name}(w, grad, v, lr, momentum={mu:g})",
                 _setup(inp, "w, v") + f"; lrs = {inp.lrs}")
    rows, bad, _ = _run_student(step_fn, name, ("v",), inp, call, lambda k: (inp.lrs[k], mu))
    if bad is not None:
        fail(f"{name} returned a w or v that is not finite (nan or inf) at step {bad}", call)
    path = np.array([r[0] for r in rows])
    vs = np.array([r[1] for r in rows])
    ref = _reference(lambda ps: SGD(ps, lr=inp.lrs[0], momentum=mu, nesterov=nesterov), inp, inp.lrs)
    ref_v = _momentum_path(inp, mu, "torch", nesterov)[1]
    if _same_path(path, ref):
        if not close(vs, ref_v):
            if close(vs, -ref_v):
                fail(f"{name} returns the right w but a v with the opposite sign. Keep PyTorch's "
                     f"velocity v = momentum * v + grad (the step subtracts lr * v)", call)
            fail(f"{name} returns the right w but its v is not PyTorch's velocity "
                 f"momentum * v + grad (without lr)", call)
        return
    lr_hint = ("agrees with PyTorch while lr is constant and differs from the step where lr "
               "drops: you put lr INSIDE the velocity (v = momentum * v + lr * grad; w -= v, or "
               "the same with the signs flipped). That form equals PyTorch's only for a constant "
               "rate; PyTorch keeps lr outside: v = momentum * v + grad; w -= lr * v"
               + (" (Nesterov: w -= lr * (grad + momentum * v))" if nesterov else ""))
    candidates = [
        (_momentum_path(inp, mu, "sign", nesterov)[0],
         "moves the weights UP the gradient: subtract the step, w = w - lr * ..."),
        (_momentum_path(inp, mu, "lr inside", nesterov)[0], lr_hint),
        (_momentum_path(inp, mu, "dampening", nesterov)[0],
         "averaged the gradients, v = momentum * v + (1 - momentum) * grad. PyTorch's momentum "
         "SUMS them: v = momentum * v + grad"),
    ]
    old_v_hint = ("steps with the velocity from BEFORE this step's update (at the first step that "
                  "velocity is 0, so w does not move). First update v = momentum * v + grad, then "
                  "use the new v in the step")
    if nesterov:
        # (stepping along grad + momentum * old v is the same as classical momentum)
        candidates.append((_momentum_path(inp, mu, "classical")[0],
                           "computes classical momentum (w -= lr * v with the new v, or "
                           "equivalently grad + momentum * the OLD v). Nesterov steps along the "
                           "look-ahead direction: w -= lr * (grad + momentum * v), with the "
                           "updated v"))
    else:
        candidates.append((_momentum_path(inp, mu, "old v")[0], old_v_hint))
    candidates.append((_momentum_path(inp, mu, "plain")[0],
                       "takes plain SGD steps (w -= lr * grad): the velocity is not used"))
    k = _first_difference(path, ref)
    drop = inp.drop
    if k == drop and close(path[:drop], _momentum_path(inp, mu, "lr inside", nesterov)[0][:drop]):
        fail(f"{name} {lr_hint}", call)
    for cand, hint in candidates:
        if _same_path(path, cand):
            fail(f"{name} {hint}", call)
    if not nesterov and close(path[0], inp.w0):
        fail(f"{name} {old_v_hint}", call)
    if k != 0 and not close(vs[0], ref_v[0]):
        if close(vs[0], -ref_v[0]):
            fail(f"{name} returns the right w after the first step but a v with the opposite "
                 f"sign. Keep PyTorch's velocity v = momentum * v + grad (the step subtracts "
                 f"lr * v)", call)
        fail(f"{name} returns the right w after the first step but its v is not PyTorch's "
             f"velocity momentum * v + grad (without lr)", call)
    _judge(path, ref, [], name, call)


@check()
def check_sgd_momentum(sgd_momentum_step, *, seed=None):
    """Check ``sgd_momentum_step(w, grad, v, lr, momentum) -> (w, v)``, PyTorch's form
    v = momentum * v + grad; w = w - lr * v, over 5 steps whose lr drops from 0.1 to 0.02 at
    step 4, against cl.SGD(momentum=0.9) (= torch.optim.SGD). With a ``seed``: another start,
    other gradients (5 to 7 steps, 3 to 5 coordinates), another rate, drop and momentum.

    Diagnoses: the sign of the step; lr inside the velocity (m = beta m + lr g; w -= m, or
    CS231n's v = mu v - lr g; w += v), which agrees until lr changes; the dampened average
    (1 - momentum) * grad; the step taken with the velocity before its update; the velocity
    not used (plain SGD); a right w with a wrong v (sign or scale); arguments modified in
    place; nan or inf.
    """
    _check_momentum_like(sgd_momentum_step, nesterov=False, seed=seed)
    passed("sgd_momentum")


@check()
def check_nesterov(nesterov_step, *, seed=None):
    """Check ``nesterov_step(w, grad, v, lr, momentum) -> (w, v)``, PyTorch's Nesterov form
    v = momentum * v + grad; w = w - lr * (grad + momentum * v), over the same 5 steps,
    against cl.SGD(momentum=0.9, nesterov=True); with a ``seed``, on other inputs as in
    check_sgd_momentum.

    Diagnoses: classical momentum instead; the old velocity in the look-ahead term; the sign;
    lr inside the velocity; the dampened average; plain SGD; a wrong returned v; arguments
    modified in place.
    """
    _check_momentum_like(nesterov_step, nesterov=True, seed=seed)
    passed("nesterov")


# ------------------------------------------------------------------ RMSProp

def _rmsprop_path(inp, kind="ok"):
    lr, rho, eps = inp.rms["lr"], inp.rms["rho"], inp.rms["eps"]
    w, s, path = inp.w0.copy(), np.zeros(len(inp.w0)), []
    for g in inp.grads:
        s_old = s
        if kind == "no 1-rho":
            s = rho * s + g * g
        elif kind == "swapped":
            s = (1 - rho) * s + rho * g * g
        else:
            s = rho * s + (1 - rho) * g * g
        s_used = s_old if kind in ("old s", "old s, eps inside") else s
        if kind in ("eps inside", "old s, eps inside"):
            step = g / np.sqrt(s_used + eps)
        elif kind == "no sqrt":
            step = g / (s_used + eps)
        elif kind == "no eps":
            step = g / np.sqrt(s_used)
        else:
            step = g / (np.sqrt(s_used) + eps)
        w = w - lr * step if kind != "sign" else w + lr * step
        path.append(w)
    return np.array(path)


@check()
def check_rmsprop(rmsprop_step, *, seed=None):
    """Check ``rmsprop_step(w, grad, s, lr, rho, eps) -> (w, s)``:
    s = rho * s + (1 - rho) * grad**2; w = w - lr * grad / (sqrt(s) + eps), over 5 steps
    (lr 0.01, rho 0.9, eps 1e-8) against cl.RMSProp(alpha=rho) (= torch.optim.RMSprop). With
    a ``seed``: another start and other gradients, lr, rho and eps.

    Diagnoses: the step taken with the OLD s (s updated after the step: the first step is
    lr * grad / eps); eps inside the square root; no eps; the (1 - rho) factor missing; rho
    and 1 - rho swapped; grad instead of grad**2 (a negative s); no square root; the sign of the step; a right w with a wrong s;
    arguments modified in place; nan or inf (no eps).
    """
    inp = trajectory_inputs(seed)
    lr, rho, eps = inp.rms["lr"], inp.rms["rho"], inp.rms["eps"]
    name = "rmsprop_step"
    call = _Loop(f"for grad in grads: w, s = {name}(w, grad, s, lr={lr:g}, rho={rho:g}, eps={eps:g})",
                 _setup(inp, "w, s"))
    rows, bad, _ = _run_student(rmsprop_step, name, ("s",), inp, call, lambda k: (lr, rho, eps))
    if bad is not None:
        if np.any(rows[-1][1] < 0) or any(np.any(r[1] < 0) for r in rows[:-1]):
            fail(f"{name}'s s became negative: s must average the SQUARED gradient, "
                 f"s = rho * s + (1 - rho) * grad**2 (a square root of a negative s is nan)", call)
        fail(f"{name} returned a w or s that is not finite (nan or inf) at step {bad}: is eps "
             f"added to the denominator?", call)
    path = np.array([r[0] for r in rows])
    ref = _reference(lambda ps: RMSProp(ps, lr=lr, alpha=rho, eps=eps), inp, [lr] * len(inp.grads))
    if _same_path(path, ref):
        s_ref = np.zeros(len(inp.w0))
        for g, (_, s) in zip(inp.grads, rows):
            s_ref = rho * s_ref + (1 - rho) * g * g
            if not close(s, s_ref):
                fail(f"{name} returns the right w but the returned s is not the moving average "
                     f"rho * s + (1 - rho) * grad**2", call)
        passed("rmsprop")
        return
    old_s = ("divides by the OLD s: it takes the step before updating s, so at the first step s "
             "is still 0 and the step is lr * grad / eps, enormous. First update "
             "s = rho * s + (1 - rho) * grad**2, then step with the NEW s: "
             "w - lr * grad / (sqrt(s) + eps)")
    g0, w0 = inp.grads[0], inp.w0
    if close(path[0], w0 - lr * g0 / eps) or close(path[0], w0 - lr * g0 / np.sqrt(eps)):
        fail(f"{name} {old_s}", call)
    candidates = [
        (_rmsprop_path(inp, "old s"), old_s),
        (_rmsprop_path(inp, "old s, eps inside"), old_s),
        (_rmsprop_path(inp, "eps inside"), "puts eps inside the square root. RMSProp (and "
                                           "PyTorch) divide by sqrt(s) + eps; the difference "
                                           "shows on the coordinate with tiny gradients"),
        (_rmsprop_path(inp, "no eps"), "divides by sqrt(s) without eps: add eps after the "
                                       "square root, sqrt(s) + eps. The difference shows on the "
                                       "coordinate with tiny gradients"),
        (_rmsprop_path(inp, "no 1-rho"), "leaves out the factor (1 - rho): the factor (1 - rho) "
                                         "is missing, and s = rho * s + (1 - rho) * grad**2 is "
                                         "an average, not a sum"),
        (_rmsprop_path(inp, "swapped"), "has rho and 1 - rho swapped: the OLD s keeps the weight "
                                        "rho, the new grad**2 gets 1 - rho"),
        (_rmsprop_path(inp, "no sqrt"), "divides by the mean square itself; divide by its ROOT, "
                                        "sqrt(s) + eps"),
        (_rmsprop_path(inp, "sign"), "moves the weights UP the gradient: w = w - lr * grad / ..."),
    ]
    s1 = (1 - rho) * g0 ** 2
    if close(path[0], ref[0]) and not close(rows[0][1], s1):
        candidates.append((path, "returns the right w after the first step but its s is not "
                                 "the moving average rho * s + (1 - rho) * grad**2 (the "
                                 "returned s is wrong)"))
    _judge(path, ref, candidates, name, call)


# ------------------------------------------------------------------ Adam and AdamW

def _adam_path(inp, correct_m=True, correct_v=True, beta_v=None, t_shift=0, eps_mode="outside",
               sign=1.0, store_hat=False, wd=0.0, decay="none"):
    a = inp.adam
    lr, b1, b2, eps = a["lr"], a["beta1"], a["beta2"], a["eps"]
    bv = b2 if beta_v is None else beta_v
    d = len(inp.w0)
    w, m, v, path = inp.w0.copy(), np.zeros(d), np.zeros(d), []
    for t, g in enumerate(inp.grads, start=1):
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
        denom = {"outside": np.sqrt(v_hat) + eps, "inside": np.sqrt(v_hat + eps),
                 "none": np.sqrt(v_hat)}[eps_mode]
        w = w - sign * lr * m_hat / denom
        if decay == "after":
            w = w * (1 - lr * wd)
        if store_hat:
            m, v = m_hat, v_hat
        path.append(w)
    return np.array(path)


def _second_moments(grads, beta_old, weight_new):
    """The raw second moments v_t = beta_old * v + weight_new * grad**2 along the gradients."""
    v, out = np.zeros(grads.shape[1]), []
    for g in grads:
        v = beta_old * v + weight_new * g * g
        out.append(v)
    return out


def _typo(form="v = beta1 * v + (1 - beta1) * grad**2", first_step_right=True):
    """The hint for the misprinted second moment (``form``: what the student computed)."""
    text = ("the second moment is updated with beta1: " + form + ". That is the misprint of a "
            "widely copied Adam pseudocode (the lecture's 'two errors in copied Adam code'), not "
            "a variant. v uses beta2: v = beta2 * v + (1 - beta2) * grad**2, and "
            "v_hat = v / (1 - beta2**t), so that the scale estimate averages over about "
            "1 / (1 - beta2) steps")
    if first_step_right:
        text += (". Your first step is right all the same, which is why the misprint survives a "
                 "one-step test")
    return text


_TYPO = _typo()


def _adam_candidates(inp, wd=0.0, decay="none"):
    kw = dict(wd=wd, decay=decay)
    b1 = inp.adam["beta1"]
    return [
        (_adam_path(inp, correct_m=False, correct_v=False, **kw),
         "has no bias correction. m and v start at 0, so divide them by (1 - beta1**t) and "
         "(1 - beta2**t) before the step; without it the first steps are several times too "
         "large"),
        (_adam_path(inp, correct_v=False, **kw), "bias-corrects only m: only m is bias-corrected, "
                                                 "and v needs its correction too: "
                                                 "v_hat = v / (1 - beta2**t)"),
        (_adam_path(inp, correct_m=False, **kw), "bias-corrects only v: only v is bias-corrected, "
                                                 "and m needs its correction too: "
                                                 "m_hat = m / (1 - beta1**t)"),
        (_adam_path(inp, beta_v=b1, **kw), "uses beta1 for v: " + _TYPO),
        (_adam_path(inp, eps_mode="inside", **kw), "puts eps inside the square root; Adam (and "
                                                   "PyTorch) divide by sqrt(v_hat) + eps. The "
                                                   "difference shows on the coordinate with tiny "
                                                   "gradients"),
        (_adam_path(inp, eps_mode="none", **kw), "divides by sqrt(v_hat) without eps (or adds eps "
                                                 "outside the division): the denominator is "
                                                 "sqrt(v_hat) + eps. The difference shows on the "
                                                 "coordinate with tiny gradients"),
        (_adam_path(inp, t_shift=1, **kw), "uses t + 1 in the bias correction. The caller passes "
                                           "t = 1 at the first step (it increments t BEFORE "
                                           "calling), so use beta1**t and beta2**t as they are"),
        (_adam_path(inp, sign=-1.0, **kw), "moves the weights UP the gradient: w = w - lr * "
                                           "m_hat / (sqrt(v_hat) + eps)"),
        (_adam_path(inp, store_hat=True, **kw), "returns the bias-CORRECTED moments as the new "
                                                "state. Return the raw averages m and v; m_hat "
                                                "and v_hat are recomputed at every step"),
    ]


def _check_adam_like(step_fn, name, seed, decoupled=False):
    inp = trajectory_inputs(seed)
    a = inp.adam
    lr, b1, b2, eps = a["lr"], a["beta1"], a["beta2"], a["eps"]
    wd = inp.wd if decoupled else None
    extra = "" if wd is None else f", weight_decay={wd:g}"
    call = _Loop(f"for t, grad in enumerate(grads, start=1): w, m, v = {name}(w, grad, m, v, t, "
                 f"lr={lr:g}, beta1={b1:g}, beta2={b2:g}, eps={eps:g}{extra})", _setup(inp, "w, m, v"))
    args = (lr, b1, b2, eps) + (() if wd is None else (wd,))
    rows, bad, warns = _run_student(step_fn, name, ("m", "v"), inp, call, lambda k: (k + 1,) + args)
    if bad is not None:
        if any(np.any(r[2] < 0) for r in rows):
            fail(f"{name}'s v became negative: v must average the SQUARED gradient, "
                 f"v = beta2 * v + (1 - beta2) * grad**2 (a square root of a negative v is nan)", call)
        if bad == 1 and any("divide by zero" in w or "invalid value" in w for w in warns):
            fail(f"{name} returned a w that is not finite after the first step (division by "
                 f"zero). The first call gets t = 1, so 1 - beta1**t is not 0: did you use t - 1 "
                 f"in the bias correction (t counted from 0)? The caller increments t BEFORE "
                 f"calling", call)
        fail(f"{name} returned a w, m or v that is not finite (nan or inf) at step {bad}", call)
    path = np.array([r[0] for r in rows])
    steps = len(inp.grads)
    if wd is None:
        ref = _reference(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), eps=eps), inp, [lr] * steps)
    else:
        ref = _reference(lambda ps: AdamW(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd),
                         inp, [lr] * steps)
    if _same_path(path, ref):
        m_ref, v_ref = np.zeros(len(inp.w0)), np.zeros(len(inp.w0))
        for g, (_, m, v) in zip(inp.grads, rows):
            m_ref = b1 * m_ref + (1 - b1) * g
            v_ref = b2 * v_ref + (1 - b2) * g * g
            if not (close(m, m_ref) and close(v, v_ref)):
                fail(f"{name} returns the right w but its m or v is not the raw moving average "
                     f"(m = beta1 * m + (1 - beta1) * grad, v = beta2 * v + (1 - beta2) * "
                     f"grad**2, without bias correction): the returned m or v is not the raw "
                     f"average", call)
        return
    # the misprint beta1-in-v shows in the returned state, whatever the rest of the step does
    vs = [r[2] for r in rows]
    for beta_old, weight_new, form in ((b1, 1 - b1, "v = beta1 * v + (1 - beta1) * grad**2"),
                                       (b1, 1 - b2, "v = beta1 * v + (1 - beta2) * grad**2"),
                                       (b2, 1 - b1, "v = beta2 * v + (1 - beta1) * grad**2 (beta1 "
                                                    "in the weight of the new term)")):
        typo = _second_moments(inp.grads, beta_old, weight_new)
        if all(close(v, t) for v, t in zip(vs, typo)):
            fail(f"In {name}, {_typo(form, close(path[0], ref[0]))}", call)
    state_hint = []
    g1 = inp.grads[0]
    if close(path[0], ref[0]) and not (close(rows[0][1], (1 - b1) * g1)
                                       and close(rows[0][2], (1 - b2) * g1 * g1)):
        if close(rows[0][1], g1) and close(rows[0][2], g1 * g1):
            hint = ("returns the bias-CORRECTED moments as the new state. Return the raw "
                    "averages m and v; m_hat and v_hat are recomputed at every step")
        else:
            hint = ("returns the right w after the first step but its m or v is not the raw "
                    "moving average (m = beta1 * m + (1 - beta1) * grad, v = beta2 * v + "
                    "(1 - beta2) * grad**2): the returned m or v is not the raw average")
        state_hint = [(path, hint)]
    if wd is None:
        _judge(path, ref, _adam_candidates(inp) + state_hint, name, call)
    decay_candidates = [
        (_adam_path(inp, wd=wd, decay="l2"),
         "adds the decay to the gradient (grad + weight_decay * w): that is L2 regularization, "
         "Adam's `weight_decay`, whose decay is divided by sqrt(v_hat) like the rest of the "
         "gradient. AdamW decouples it: w = w - lr * weight_decay * w, then the Adam step on the "
         "raw gradient"),
        (_adam_path(inp, wd=wd, decay="no lr"),
         "decays the weights by weight_decay * w, not multiplied by lr: w = w - lr * "
         "weight_decay * w (PyTorch's AdamW scales the decay with the learning rate)"),
        (_adam_path(inp, wd=wd, decay="after"),
         "decays the weights AFTER the Adam step. AdamW (like PyTorch) shrinks the OLD weights: "
         "w = w - lr * weight_decay * w first, then the Adam step"),
        (_adam_path(inp), "applies no weight decay at all: this is plain Adam. Shrink the weights "
                          "first, w = w - lr * weight_decay * w"),
    ]
    _judge(path, ref, decay_candidates + _adam_candidates(inp, wd, "decoupled") + state_hint, name, call)


@check()
def check_adam(adam_step, *, seed=None):
    """Check ``adam_step(w, grad, m, v, t, lr, beta1, beta2, eps) -> (w, m, v)`` with t the
    number of the step (1 at the first call; the caller increments it before calling), over
    5 steps (lr 0.1, betas 0.9 and 0.999, eps 1e-8) against cl.Adam (= torch.optim.Adam).
    With a ``seed``: another start, other gradients, lr and betas.

    Diagnoses: no bias correction; only m or only v corrected; the second moment updated
    with beta1 (the misprinted pseudocode; noticed in the returned v whatever the rest of the
    step does, also mixed with 1 - beta2); eps inside the square root, or missing; t off by
    one (t + 1 in the correction; t - 1, which divides by zero at the first step); grad
    instead of grad**2 in v (a negative v); the sign;
    the corrected moments returned as the state; a right w with wrong m or v; arguments
    modified in place.
    """
    _check_adam_like(adam_step, "adam_step", seed)
    passed("adam")


@check()
def check_adamw(adamw_step, *, seed=None):
    """Check ``adamw_step(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (w, m, v)``,
    decoupled weight decay: w = w - lr * weight_decay * w, then the Adam step on the raw
    gradient; over 5 steps (weight_decay 0.1) against cl.AdamW (= torch.optim.AdamW). With a
    ``seed``: other inputs as in check_adam, and another weight decay.

    Diagnoses: the decay added to the gradient (L2, Adam's weight_decay); the decay without
    lr; the decay applied after the Adam step; no decay; and every Adam mistake of
    check_adam (bias correction, beta1 in v, eps, t off by one, sign, state).
    """
    _check_adam_like(adamw_step, "adamw_step", seed, decoupled=True)
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


@check(hidden=False, why="a prediction about the one scenario the exercise states (Adam with lr 0.01 "
                         "and default betas, step 2000, gradients 0.5, 500 and +-0.5): the three "
                         "numbers are the answer")
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

_CFN = "clip_grad_norm"


def clip_inputs(seed=None):
    """The gradient arrays of check_clip_grad_norm, the text that builds them, and the two
    thresholds: one below the global norm (clipping acts), one above it."""
    if seed is None:
        grads = [np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.0, -4.0, 1.0])]
        return grads, "grads = [np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.0, -4.0, 1.0])]", 2.0, 10.0
    g = np.random.default_rng(seed)
    shapes = [(int(g.integers(2, 5)), int(g.integers(2, 4))), (int(g.integers(2, 6)),)]
    if g.random() < 0.5:
        shapes.append((int(g.integers(2, 4)), int(g.integers(2, 5))))
    grads = [np.round(g.normal(0.0, 1.0, s), 2) for s in shapes]
    big = grads[int(g.integers(len(grads)))]
    big.flat[int(g.integers(big.size))] = round(float(g.uniform(2.5, 5.0) * g.choice([-1, 1])), 2)
    largest = max(float(np.abs(a).max()) for a in grads)
    total = float(np.sqrt(sum(np.sum(a ** 2) for a in grads)))
    low = round(float(g.uniform(0.4, 0.8)) * largest, 2)      # below one entry: by-value clipping shows
    high = round(float(g.uniform(1.5, 3.0)) * total, 1)
    return grads, "grads = [" + ", ".join(fmt_array(a) for a in grads) + "]", low, high


def _call_clip(clip_grad_norm, grads, max_norm, call):
    given = [g.copy() for g in grads]
    result = clip_grad_norm(given, max_norm)
    if (isinstance(result, (list, tuple)) and len(result) == len(grads)
            and all(isinstance(r, np.ndarray) and r.size > 1 for r in result)):
        fail(f"{_CFN} should return a tuple (clipped, total_norm); it looks like you returned "
             f"only the list of clipped gradients", call)
    clipped, total = unpack(result, ("clipped", "total_norm"), _CFN, call)
    if not all(np.array_equal(a, b) for a, b in zip(given, grads)):
        fail(f"{_CFN} changed the caller's gradients in place; return NEW arrays (c * g creates "
             f"one)", call)
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        fail(f"The `clipped` that {_CFN} returned should be a list with one array per gradient", call)
    clipped = [as_array(c, f"{_CFN}'s clipped[{i}]", call) for i, c in enumerate(clipped)]
    for i, (c, g) in enumerate(zip(clipped, grads)):
        check_shape(c, g.shape, f"{_CFN}'s clipped[{i}]", call)
    total = as_array(total, f"{_CFN}'s total_norm", call)
    if total.size != 1:
        fail(f"The total_norm that {_CFN} returned should be one number, the global norm of all "
             f"gradients", call)
    return clipped, float(total)


@check()
def check_clip_grad_norm(clip_grad_norm, *, seed=None):
    """Check ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)``: one global L2 norm
    over all gradient arrays together; if it exceeds max_norm, every array is scaled by
    max_norm / total_norm (direction kept); total_norm is the norm BEFORE clipping (as
    torch.nn.utils.clip_grad_norm_ returns). With a ``seed``: other arrays (2 or 3, other
    shapes) and thresholds.

    Diagnoses: per-tensor norms (each array clipped on its own); clipping (rescaling up) when
    the norm is below the threshold; clipping by value (np.clip), which changes the
    direction; the sum of the per-array norms, or the squared norm, as the total; the norm
    after clipping returned; gradients returned unchanged although the norm is too large; the
    inputs modified in place.
    """
    grads, text, c_low, c_high = clip_inputs(seed)
    norms = [np.linalg.norm(g) for g in grads]
    total_ref = float(np.sqrt(sum(n ** 2 for n in norms)))

    c = c_low
    call = Call(f"{_CFN}(grads, max_norm={c:g})", text)
    clipped, total = _call_clip(clip_grad_norm, grads, c, call)
    ref = [g * c / total_ref for g in grads]
    if not all(close(a, b) for a, b in zip(clipped, ref)):
        candidates = [
            ([g * min(1.0, c / n) for g, n in zip(grads, norms)],
             "clipped each array to norm max_norm on its own (per-tensor norms). Compute ONE "
             "global norm over all arrays, sqrt(sum of all squared entries), and scale every "
             "array by the same factor, so the direction of the whole step is kept"),
            ([np.clip(g, -c, c) for g in grads],
             "clipped each entry to [-max_norm, max_norm] (clipping by value). That changes the "
             "DIRECTION of the gradient; clipping by norm scales all entries by the same factor"),
            ([g * c / sum(norms) for g in grads],
             "divides by the sum of the arrays' norms; the global norm is "
             "sqrt(sum over arrays of ||g||**2)"),
            ([g * c / total_ref ** 2 for g in grads],
             "divides by the SQUARED norm; the global norm is the square root of the sum of "
             "squares"),
            (grads, "returned the gradients unchanged although their global norm exceeds "
                    "max_norm: then every array is scaled by max_norm / (global norm)"),
        ]
        for cand, hint in candidates:
            if all(close(a, b) for a, b in zip(clipped, cand)):
                fail(f"{_CFN} {hint}", call)
        fail(f"The clipped gradients that {_CFN} returned are not grads * max_norm / (global "
             f"norm)", call)
    if not close(total, total_ref):
        if close(total, c):
            fail(f"The total_norm that {_CFN} returned is the norm AFTER clipping (max_norm). "
                 f"Return the global norm before clipping: it is what you log to see how often "
                 f"clipping acts", call)
        if close(total, sum(norms)):
            fail(f"The total_norm that {_CFN} returned is the sum of the arrays' norms; return "
                 f"sqrt(sum over arrays of ||g||**2)", call)
        if close(total, total_ref ** 2):
            fail(f"The total_norm that {_CFN} returned is the squared norm; take the square "
                 f"root", call)
        fail(f"The total_norm that {_CFN} returned is not the global L2 norm of all gradients "
             f"before clipping", call)

    c = c_high
    call = Call(f"{_CFN}(grads, max_norm={c:g})", text)
    clipped, total = _call_clip(clip_grad_norm, grads, c, call)
    if not all(close(a, b) for a, b in zip(clipped, grads)):
        if all(close(a, g * c / total_ref) for a, g in zip(clipped, grads)):
            fail(f"{_CFN} rescaled the gradients (up to norm max_norm) although the global norm "
                 f"is below max_norm. Clip only when the norm EXCEEDS max_norm; otherwise return "
                 f"the gradients unchanged", call)
        fail(f"{_CFN} changed the gradients although the global norm is below max_norm: they "
             f"must come back unchanged", call)
    if not close(total, total_ref):
        fail(f"The total_norm that {_CFN} returned is not the global L2 norm of all gradients", call)
    passed("clip_grad_norm")


# ------------------------------------------------------------ optimal momentum on a quadratic

_OM = "optimal_momentum"
# the public curvature pairs: the lecture's ravine (kappa 100), kappa 9 (round numbers) and
# kappa 400 (the quadratic of the prediction)
_OM_PAIRS = ((0.2, 20.0), (1.0, 9.0), (0.05, 20.0))


def momentum_pairs(seed=None):
    """The (lam_min, lam_max) pairs check_optimal_momentum calls the student's function with:
    the public ones, or with a ``seed`` three others (lam_min log-uniform in [0.01, 2],
    condition numbers log-uniform in [4, 2000], rounded to 3 significant digits)."""
    if seed is None:
        return _OM_PAIRS
    g = np.random.default_rng(seed)
    pairs = []
    for _ in range(3):
        lam_min = float(f"{10 ** g.uniform(-2, np.log10(2)):.3g}")
        kappa = float(f"{10 ** g.uniform(np.log10(4), np.log10(2000)):.3g}")
        pairs.append((lam_min, float(f"{lam_min * kappa:.4g}")))
    return tuple(pairs)


def _momentum_reference(lam_min, lam_max):
    """Polyak's optimum: lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2, beta = ((sqrt k - 1) / (sqrt k + 1))**2."""
    root = np.sqrt(lam_max / lam_min)
    return 4.0 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2, ((root - 1.0) / (root + 1.0)) ** 2


def _beta_mistakes(lam_min, lam_max):
    """(wrong beta, hint) for the typical mistakes, each computed for these curvatures."""
    k = lam_max / lam_min
    r = np.sqrt(k)
    return [
        ((k - 1) / (k + 1), "returns gradient descent's best RATE (kappa - 1) / (kappa + 1) as beta. "
                            "The optimal momentum is the square of momentum's rate: "
                            "beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2"),
        ((r - 1) / (r + 1), "returns (sqrt(kappa) - 1) / (sqrt(kappa) + 1) as beta: that is momentum's "
                            "RATE at the optimum, the square root of beta. Square it"),
        (((k - 1) / (k + 1)) ** 2, "uses kappa where the formula has sqrt(kappa): "
                                   "beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2"),
        (((r + 1) / (r - 1)) ** 2, "returns the inverted fraction ((sqrt(kappa) + 1) / (sqrt(kappa) - 1))**2, "
                                   "which is above 1 (momentum would diverge); the minus goes in the numerator"),
        (1 - 1 / k, "returns 1 - 1/kappa as beta: the optimum is ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2"),
    ]


def _lr_mistakes(lam_min, lam_max):
    """(wrong lr, hint) for the typical mistakes."""
    s = np.sqrt(lam_max) + np.sqrt(lam_min)
    return [
        (2 / (lam_min + lam_max), "returns plain gradient descent's best rate 2 / (lam_min + lam_max) as "
                                  "lr. With momentum the optimal step is larger: "
                                  "lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
        (4 / s, "forgot the square in the lr: lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
        (4 / (lam_min + lam_max), "uses the curvatures where the formula has their square roots: "
                                  "lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
        (2 / s ** 2, "has 2 where the formula has 4: lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
        (1 / lam_max, "returns 1 / lam_max, gradient descent's safe rate, as lr: the optimum for "
                      "momentum is lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
        (s ** 2 / 4, "returns the inverse of the optimal lr: lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2"),
    ]


@check()
def check_optimal_momentum(optimal_momentum, *, seed=None):
    """Check ``optimal_momentum(lam_min, lam_max) -> (lr, beta)``, heavy-ball momentum's best
    constant setting on a quadratic with curvatures lam_min <= lam_max (Polyak; distill's "Why
    Momentum Really Works"): lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2 and
    beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2 with kappa = lam_max / lam_min, on three
    curvature pairs. With a ``seed``: three other pairs (momentum_pairs).

    Diagnoses: beta from gradient descent's rate (kappa - 1) / (kappa + 1); the square
    forgotten (momentum's rate returned as beta); kappa instead of sqrt(kappa); the inverted
    fraction (beta > 1); 1 - 1/kappa; lam_min and lam_max swapped (a negative beta); the lr of
    plain gradient descent 2 / (lam_min + lam_max); the lr without its square, with the
    curvatures instead of their roots, with 2 instead of 4, 1 / lam_max, or inverted; a
    result that is not two finite numbers.
    """
    for lam_min, lam_max in momentum_pairs(seed):
        call = Call(f"{_OM}({lam_min!r}, {lam_max!r})")
        result = optimal_momentum(lam_min, lam_max)
        lr, beta = unpack(result, ("lr", "beta"), _OM, call)
        lr, beta = as_array(lr, f"{_OM}'s lr", call), as_array(beta, f"{_OM}'s beta", call)
        if lr.size != 1 or beta.size != 1 or not (np.isfinite(lr).all() and np.isfinite(beta).all()):
            fail(f"{_OM} should return two finite numbers (lr, beta), got {result!r}", call)
        lr, beta = float(lr), float(beta)
        ref_lr, ref_beta = _momentum_reference(lam_min, lam_max)
        if not close(beta, ref_beta, rtol=1e-6):
            for wrong, hint in _beta_mistakes(lam_min, lam_max):
                if close(beta, wrong, rtol=1e-6):
                    fail(f"{_OM} {hint}", call)
            if beta < 0:
                fail(f"{_OM} returns a negative beta. Momentum's beta is in [0, 1) and kappa = lam_max "
                     f"/ lam_min is at least 1: did you swap lam_min and lam_max (kappa below 1 turns "
                     f"sqrt(kappa) - 1 negative)?", call)
            fail(f"The beta that {_OM} returns is not ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2 with "
                 f"kappa = lam_max / lam_min", call)
        if not close(lr, ref_lr, rtol=1e-6):
            for wrong, hint in _lr_mistakes(lam_min, lam_max):
                if close(lr, wrong, rtol=1e-6):
                    fail(f"{_OM} {hint}", call)
            fail(f"The lr that {_OM} returns is not 4 / (sqrt(lam_max) + sqrt(lam_min))**2", call)
    passed("optimal_momentum")


# ---------------------------------------------------------------- predicted convergence rates

_RATE_LAMS = (0.05, 20.0)          # the quadratic of the prediction: kappa = 400
_RATE_STEPS = 1500


def _measured_rate(lr, beta, steps=_RATE_STEPS, window=50):
    """The per-step factor by which ||w|| shrinks on f = (lam_min w1**2 + lam_max w2**2) / 2 with
    cl.SGD(lr, momentum=beta) from (1, 1): the envelope (largest ||w|| over ``window`` steps) at
    the end against the one at the middle of the run."""
    lam = np.array(_RATE_LAMS)
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=lr, momentum=beta)
    norms = []
    for _ in range(steps):
        p.grad[...] = lam * p.data
        opt.step()
        norms.append(float(np.linalg.norm(p.data)))
    norms = np.array(norms)
    mid = steps // 2
    return float((norms[-window:].max() / norms[mid - window:mid].max()) ** (1.0 / (steps - mid)))


def _measured_rates():
    lam_min, lam_max = _RATE_LAMS
    lr, beta = _momentum_reference(lam_min, lam_max)
    return {"gd": _measured_rate(2.0 / (lam_min + lam_max), 0.0), "momentum": _measured_rate(lr, beta)}


@check(hidden=False, why="a prediction about the one quadratic the exercise states (curvatures 0.05 "
                         "and 20): the two rates are the answer")
def check_momentum_rate_prediction(rate_gd, rate_momentum):
    """Check predictions of the convergence rate per step (the factor by which the distance to
    the minimum shrinks) on the quadratic with curvatures 0.05 and 20 (kappa = 400): of gradient
    descent at its best constant rate, and of momentum at its optimal (lr, beta); measured with
    cl.SGD runs, compared on 1 - rate (the speed) within 5 %.

    Diagnoses: the two rates swapped; beta* given as momentum's rate (the rate is sqrt(beta*));
    gradient descent's rate at lr = 1 / lam_max (1 - 1/kappa); momentum's formula for GD or
    GD's for momentum; the squared rates (the decay of f, not of the distance); a rate that is
    not in (0, 1).
    """
    preds = read_predictions(rate_gd=rate_gd, rate_momentum=rate_momentum)
    measured = _measured_rates()
    k = _RATE_LAMS[1] / _RATE_LAMS[0]
    r = np.sqrt(k)

    def near(value, target):
        return abs((1.0 - value) - (1.0 - target)) <= 0.05 * (1.0 - target)

    for name, value in preds.items():
        if not 0.0 < value < 1.0:
            fail(f"{name} = {value:g}: a convergence rate is the factor by which the error shrinks "
                 f"per step, a number between 0 and 1 for a run that converges")
    gd_ok, mom_ok = near(preds["rate_gd"], measured["gd"]), near(preds["rate_momentum"], measured["momentum"])
    if gd_ok and mom_ok:
        passed("momentum_rate_prediction")
        return
    if near(preds["rate_gd"], measured["momentum"]) and near(preds["rate_momentum"], measured["gd"]):
        fail("rate_gd and rate_momentum are swapped: momentum is the faster one (the smaller rate)")
    if not gd_ok:
        value = preds["rate_gd"]
        for target, hint in (
                (1 - 1 / k, "is gradient descent's rate at lr = 1 / lam_max. At its best rate "
                            "2 / (lam_min + lam_max) both curvatures shrink by the same factor "
                            "|1 - lr * lam|"),
                ((r - 1) / (r + 1), "is momentum's rate, with sqrt(kappa). Plain gradient descent "
                                    "has kappa itself: (kappa - 1) / (kappa + 1)"),
                (((k - 1) / (k + 1)) ** 2, "is the factor by which f shrinks per step, the square of "
                                           "the rate: the distance shrinks by (kappa - 1) / (kappa + 1)")):
            if near(value, target):
                fail(f"rate_gd = {value:g} {hint}")
        fail(f"rate_gd = {value:g}: at lr = 2 / (lam_min + lam_max) every coordinate is multiplied by "
             f"1 - lr * lam per step; what is |1 - lr * lam| at either curvature?")
    value = preds["rate_momentum"]
    for target, hint in (
            (((r - 1) / (r + 1)) ** 2, "is beta* itself (and the factor by which f shrinks). The "
                                       "rate is the size of the eigenvalues, sqrt(beta*)"),
            ((k - 1) / (k + 1), "is gradient descent's rate. At the optimum momentum's rate has "
                                "sqrt(kappa) where GD's has kappa"),
            (1 - 1 / r, "is 1 - 1/sqrt(kappa); the exact rate is (sqrt(kappa) - 1) / (sqrt(kappa) + 1)")):
        if near(value, target):
            fail(f"rate_momentum = {value:g} {hint}")
    fail(f"rate_momentum = {value:g}: at (lr*, beta*) the eigenvalues of momentum's step are a "
         f"double root of z**2 - (1 + beta - lr * lam) z + beta = 0; their product is beta, so their "
         f"size is ...?")
