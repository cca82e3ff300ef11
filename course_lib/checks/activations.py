"""Checks for exercises/01_activations.ipynb: a stable sigmoid and its derivative, a Leaky
ReLU layer (forward and backward), ELU with its derivative, and a dead-unit counter.

Each check takes ``seed=None``: the public inputs its hints print, or, with an integer seed,
other inputs of the same kind (the grader's hidden tests)."""
import numpy as np

from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed
from ._fp import call_recording_fp_warnings


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _call(fn, name, x, *extra):
    """Call fn on a copy of x (plus extra arguments); return (output, fp warnings, Call)."""
    args = ", ".join([fmt_array(x)] + [repr(e) for e in extra])
    call = Call(f"{name}({args})")
    x_in = x.copy()
    out, warns = call_recording_fp_warnings(fn, x_in, *extra)
    if not np.array_equal(x_in, x):
        fail(f"{name} modifies its input in place (e.g. `x[x < 0] = ...`), so the caller's x "
             f"is changed; return a new array (np.where builds one)", call)
    out = as_array(out, f"{name}'s result", call)
    check_shape(out, x.shape, f"{name}'s result", call)
    return out, warns, call


_WHERE_HINT = ("Note that np.where(cond, a, b) computes BOTH a and b for every element before "
               "choosing, so an exp in the branch you do not pick still overflows.")


def _big(g):
    """A magnitude whose exp overflows in float64 (exp(x) is inf above about 709.8)."""
    return float(g.integers(800, 1500))


# ------------------------------------------------------------------------ sigmoid

_X_SIG = np.array([-1000.0, -20.0, -2.0, 0.0, 0.5, 3.0, 1000.0])
_X_SIG_2D = np.array([[-1.0, 0.0, 2.0], [4.0, -3.0, 0.25]])


def _sigmoid_inputs(seed):
    """A vector with +-(a number whose exp overflows), 0 and moderate values; a 2-D batch."""
    if seed is None:
        return _X_SIG, _X_SIG_2D
    g = np.random.default_rng(seed)
    big = _big(g)
    middle = np.round(g.normal(0.0, 3.0, int(g.integers(3, 6))), 2)
    x = g.permutation(np.concatenate([[-big, -float(g.integers(15, 40)), 0.0, big], middle]))
    x2 = np.round(g.normal(0.0, 2.0, (int(g.integers(2, 4)), int(g.integers(3, 6)))), 2)
    return x, x2


@check()
def check_sigmoid(sigmoid, *, seed=None):
    """Check ``sigmoid(x)`` = 1 / (1 + exp(-x)) element-wise, without overflow for |x| near 1000.

    Diagnoses: nan from exp of a large x (e.g. exp(x) / (1 + exp(x))), an overflow warning
    even when the values come out right (1 / (1 + exp(-x)) at x = -1000, or np.where
    evaluating both branches), the sign of the exponent flipped, the shape of the input not
    kept, the input modified in place.
    """
    x, x2 = _sigmoid_inputs(seed)
    got, warns, call = _call(sigmoid, "sigmoid", x)
    if np.any(np.isnan(got)):
        fail("sigmoid's result contains nan: exp of a large number (above about 709) overflows "
             "to inf, and inf / inf is nan. Only ever take exp of a number <= 0, e.g. "
             "exp(-|x|), and choose the formula by the sign of x", call)
    if close(got, _sigmoid(-x)):
        fail("Your sigmoid decreases with x, so it computes sigma(-x) = 1 - sigma(x). Check the "
             "sign in the exponent: sigma(x) = 1 / (1 + exp(-x))", call)
    if not close(got, _sigmoid(x)):
        fail("sigmoid returned values that are not 1 / (1 + exp(-x))", call)
    if any("overflow" in w for w in warns):
        fail(f"Your sigmoid gives the right values, but exp overflowed on the way "
             f"(RuntimeWarning: overflow encountered in exp): 1 / (1 + exp(1000)) only works by "
             f"luck. {_WHERE_HINT} Compute e = exp(-|x|) once and use it in both branches", call)
    got, _, call = _call(sigmoid, "sigmoid", x2)
    if not close(got, _sigmoid(x2)):
        fail("sigmoid is wrong on a 2-D input: every element must get its own sigmoid", call)
    passed("sigmoid")


@check()
def check_sigmoid_grad(sigmoid_grad, *, seed=None):
    """Check ``sigmoid_grad(x)`` = sigma(x) (1 - sigma(x)), finite for |x| near 1000.

    Diagnoses: the derivative written as sigma(x), as 1 - sigma(x), as x (1 - x) (the
    formula applied to x instead of sigma(x)), nan or overflow for large |x|, the sign of
    the exponent flipped in the sigmoid it uses, the input modified in place.
    """
    x, x2 = _sigmoid_inputs(seed)
    got, warns, call = _call(sigmoid_grad, "sigmoid_grad", x)
    s = _sigmoid(x)
    if np.any(np.isnan(got)):
        fail("sigmoid_grad's result contains nan: something overflowed for large |x| (exp of "
             "anything above about 709 is inf, and inf / inf or inf * 0 is nan). Build the "
             "derivative from a stable sigmoid", call)
    if close(got, s):
        fail("sigmoid_grad returned sigma(x) itself. The derivative is sigma(x) (1 - sigma(x)): "
             "at most 1/4, at x = 0", call)
    if close(got, 1 - s):
        fail("sigmoid_grad returned 1 - sigma(x); the derivative is the product "
             "sigma(x) (1 - sigma(x))", call)
    with np.errstate(over="ignore", invalid="ignore"):
        applied_to_x = x * (1 - x)
    if close(got, applied_to_x):
        fail("Your sigmoid_grad computed x (1 - x). The formula is s (1 - s) with "
             "s = sigma(x), the sigmoid's OUTPUT", call)
    if not close(got, s * (1 - s)):
        fail("sigmoid_grad returned values that are not sigma(x) (1 - sigma(x)); its maximum "
             "should be at x = 0 and it should vanish in both tails", call)
    if any("overflow" in w for w in warns):
        fail("Your sigmoid_grad gives the right values, but exp overflowed on the way "
             "(RuntimeWarning). Use your stable sigmoid inside the derivative", call)
    got, _, call = _call(sigmoid_grad, "sigmoid_grad", x2)
    if not close(got, _sigmoid(x2) * (1 - _sigmoid(x2))):
        fail("sigmoid_grad is wrong on a 2-D input: every element must get its own derivative",
             call)
    passed("sigmoid_grad")


# --------------------------------------------------------------------- Leaky ReLU

_X_LR = np.array([[1.5, -2.0, 0.3, -0.1], [-1.0, 2.5, -0.7, 0.8], [0.2, -0.4, 1.1, -3.0]])
_D_LR = np.array([[0.5, 1.0, -2.0, -0.3], [2.0, -1.5, 0.4, 0.7], [-0.6, -1.0, 1.2, 0.9]])
_X_LR2 = np.array([[-0.5, 1.0, 2.0, -1.5], [0.3, -0.2, -0.9, 1.4], [-2.2, 0.6, 0.1, -0.8]])
_X_ZERO = np.array([[0.0, 1.0], [-1.0, 0.0]])


def _nonzero(g, shape, scale=1.5):
    """Rounded normal values, none of them 0, both signs present."""
    while True:
        v = np.round(g.normal(0.0, scale, shape), 2)
        v[v == 0] = 0.5
        if (v > 0).any() and (v < 0).any():
            return v


def _leaky_inputs(seed):
    """x, dout, a second input x2, the leaky alpha; the input with exact zeros, its dout and
    the alpha of that call."""
    if seed is None:
        return dict(x=_X_LR, dout=_D_LR, x2=_X_LR2, alpha=0.1, x0=_X_ZERO,
                    dout0=np.ones((2, 2)), alpha0=0.0)
    g = np.random.default_rng(seed)
    shape = (int(g.integers(2, 5)), int(g.integers(3, 7)))
    x = _nonzero(g, shape)
    while True:        # the signs of dout and of x2 must differ from those of x somewhere
        dout, x2 = _nonzero(g, shape), _nonzero(g, shape)
        if ((dout > 0) != (x > 0)).any() and ((x2 > 0) != (x > 0)).any():
            break
    alpha = float(g.choice([0.05, 0.1, 0.2, 0.3]))
    shape0 = (int(g.integers(2, 4)), int(g.integers(2, 5)))
    x0 = _nonzero(g, shape0)
    x0.flat[g.choice(x0.size, size=2, replace=False)] = 0.0
    return dict(x=x, dout=dout, x2=x2, alpha=alpha, x0=x0, dout0=_nonzero(g, shape0), alpha0=alpha)


def _leaky(x, alpha):
    return np.where(x > 0, x, alpha * x)


def _leaky_grad(x, dout, alpha):
    return np.where(x > 0, dout, alpha * dout)


def _forward(layer, x, call):
    x_in = x.copy()
    out = layer.forward(x_in)
    if not np.array_equal(x_in, x):
        fail("LeakyReLU.forward modifies its input in place (e.g. `x[x < 0] *= alpha; return "
             "x`): the caller's array is changed, and so is whatever else refers to it (the "
             "previous layer's output, or the x you kept for backward). Return a new array, "
             "e.g. np.where(x > 0, x, alpha * x)", call)
    out = as_array(out, "LeakyReLU.forward's result", call)
    check_shape(out, x.shape, "LeakyReLU.forward's result", call)
    return out


def _backward(layer, dout, call):
    d_in = dout.copy()
    dx = layer.backward(d_in)
    if not np.array_equal(d_in, dout):
        fail("LeakyReLU.backward modifies dout in place (e.g. `dout[mask] *= alpha`): the "
             "caller's upstream gradient is changed. Return a new array, e.g. "
             "np.where(mask, dout, alpha * dout)", call)
    dx = as_array(dx, "LeakyReLU.backward's result", call)
    check_shape(dx, dout.shape, "LeakyReLU.backward's result", call)
    return dx


@check()
def check_leaky_relu(LeakyReLU, *, seed=None):
    """Check a ``LeakyReLU(alpha)`` layer: forward(x) = x if x > 0 else alpha x; backward(dout)
    = dout where x > 0, alpha dout elsewhere (slope alpha at x = 0, as PyTorch); alpha = 0 is
    the plain ReLU.

    Diagnoses: alpha applied to the positive side (or the condition inverted), alpha
    ignored; a non-zero gradient for x < 0 in the ReLU case (no mask, inverted mask); the
    mask taken from the upstream gradient dout instead of the forward input; the local slope
    returned without multiplying by dout; alpha missing (or applied to the wrong side) in
    backward; a mask left over from an earlier forward call; the slope at x = 0; forward or
    backward modifying its input in place.
    """
    inp = _leaky_inputs(seed)
    x, dout, alpha = inp["x"], inp["dout"], inp["alpha"]
    setup = f"x = {fmt_array(x)}; dout = {fmt_array(dout)}"

    relu = LeakyReLU(alpha=0.0)
    call = Call("LeakyReLU(alpha=0.0).forward(x)", setup)
    out = _forward(relu, x, call)
    if close(out, x):
        fail("LeakyReLU(alpha=0.0).forward returned x unchanged; negative inputs must become "
             "alpha * x (0 here)", call)
    if close(out, np.minimum(x, 0.0)):
        fail("LeakyReLU(alpha=0.0).forward kept the NEGATIVE inputs and zeroed the positive "
             "ones: the condition is inverted, or alpha is applied to the positive side. "
             "f(x) = x for x > 0", call)
    if not close(out, np.maximum(x, 0.0)):
        fail("LeakyReLU(alpha=0.0).forward is not max(0, x) element-wise", call)
    call = Call("layer = LeakyReLU(alpha=0.0); layer.forward(x); layer.backward(dout)", setup)
    dx = _backward(relu, dout, call)
    if close(dx, dout):
        fail("Your LeakyReLU(alpha=0.0).backward passes dout through unchanged. Where x < 0 the "
             "ReLU is flat, so the gradient there must be 0: multiply dout by the mask (x > 0)",
             call)
    if close(dx, dout * (dout > 0)):
        fail("Your LeakyReLU.backward takes its mask from the sign of dout. It must come from "
             "the forward INPUT x (store x, or the mask x > 0, in forward)", call)
    if close(dx, (x > 0).astype(float)):
        fail("Your LeakyReLU.backward returns the local slope f'(x) only; the chain rule "
             "multiplies it by the upstream gradient: dout * f'(x)", call)
    if close(dx, dout * (x < 0)) or close(dx, dout * (x <= 0)):
        fail("In your LeakyReLU.backward the mask is inverted (or alpha is applied to the "
             "positive side): the gradient flows unchanged where x > 0 and is alpha * dout (0 "
             "here) where x < 0", call)
    if close(dx, dout * x) or close(dx, dout * np.maximum(x, 0)):
        fail("Your LeakyReLU.backward multiplied dout by x (or ReLU(x)); ReLU's slope is 1 "
             "where x > 0, not x", call)
    if not close(dx, _leaky_grad(x, dout, 0.0)):
        fail("LeakyReLU(alpha=0.0).backward should return dout where x > 0 and 0 elsewhere",
             call)

    leaky = LeakyReLU(alpha=alpha)
    call = Call(f"LeakyReLU(alpha={alpha!r}).forward(x)", setup)
    out = _forward(leaky, x, call)
    if close(out, np.where(x > 0, alpha * x, x)):
        fail("Your LeakyReLU.forward applies alpha to the POSITIVE side. Leaky ReLU is x for "
             "x > 0 and alpha * x for x <= 0", call)
    if close(out, np.maximum(x, 0.0)):
        fail("In your LeakyReLU.forward negative inputs became 0, so alpha is not used: they "
             "must become alpha * x", call)
    if not close(out, _leaky(x, alpha)):
        fail("LeakyReLU.forward is not x for x > 0 and alpha * x otherwise", call)
    call = Call(f"layer = LeakyReLU(alpha={alpha!r}); layer.forward(x); layer.backward(dout)", setup)
    dx = _backward(leaky, dout, call)
    if close(dx, np.where(x > 0, alpha * dout, dout)):
        fail("Your LeakyReLU.backward applies alpha to the positive side; the slope is 1 for "
             "x > 0 and alpha for x <= 0", call)
    if close(dx, _leaky_grad(x, dout, 0.0)):
        fail("Your LeakyReLU.backward gives 0 where x < 0, as for a plain ReLU; a Leaky ReLU "
             "passes alpha * dout there (that is what keeps its units alive)", call)
    if close(dx, np.where(dout > 0, dout, alpha * dout)):
        fail("Your LeakyReLU.backward takes its mask from the sign of dout; it must come from "
             "the forward input x", call)
    if close(dx, np.where(x > 0, 1.0, alpha)):
        fail("Your LeakyReLU.backward returns the local slope only; multiply it by dout", call)
    if not close(dx, _leaky_grad(x, dout, alpha)):
        fail("LeakyReLU.backward should return dout where x > 0 and alpha * dout elsewhere", call)

    x2 = inp["x2"]
    call = Call(f"layer = LeakyReLU(alpha={alpha!r}); layer.forward(x); layer.forward(x2); "
                f"layer.backward(dout)", f"{setup}; x2 = {fmt_array(x2)}")
    fresh = LeakyReLU(alpha=alpha)
    _forward(fresh, x, call)
    _forward(fresh, x2, call)
    dx = _backward(fresh, dout, call)
    if close(dx, _leaky_grad(x, dout, alpha)):
        fail("Your LeakyReLU.backward used the mask of the FIRST forward call. Store the input "
             "(or mask) in every forward call; backward belongs to the most recent forward", call)
    if not close(dx, _leaky_grad(x2, dout, alpha)):
        fail("LeakyReLU.backward does not match the most recent forward input", call)

    x0, dout0, alpha0 = inp["x0"], inp["dout0"], inp["alpha0"]
    dout_text = "np.ones((2, 2))" if seed is None else fmt_array(dout0)
    call = Call(f"layer = LeakyReLU(alpha={alpha0!r}); layer.forward(x); layer.backward(dout)",
                f"x = {fmt_array(x0)}; dout = {dout_text}")
    at_zero = LeakyReLU(alpha=alpha0)
    _forward(at_zero, x0, call)
    dx = _backward(at_zero, dout0, call)
    if not close(dx, _leaky_grad(x0, dout0, alpha0)):
        if close(dx, np.where(x0 >= 0, dout0, alpha0 * dout0)):
            fail("Your LeakyReLU.backward uses slope 1 at x = 0 exactly; use the slope of the "
                 "negative side there (mask x > 0, not x >= 0), as PyTorch does", call)
        fail("LeakyReLU.backward is wrong on an input with exact zeros: slope 1 where x > 0, "
             "alpha where x <= 0", call)
    passed("leaky_relu")


# ---------------------------------------------------------------------------- ELU

# includes 0, where ELU's derivative is alpha (the x <= 0 branch, as in PyTorch)
_X_ELU = np.array([-1000.0, -5.0, -1.0, -0.1, 0.0, 0.2, 2.0, 1000.0])
_ALPHAS_ELU = (1.0, 0.5)


def _elu_inputs(seed):
    """x (with +-(a number whose exp overflows) and 0) and the alphas: 1 and another one."""
    if seed is None:
        return _X_ELU, _ALPHAS_ELU
    g = np.random.default_rng(seed)
    big = _big(g)
    negative = -np.round(g.uniform(0.05, 6.0, int(g.integers(2, 5))), 2)
    positive = np.round(g.uniform(0.05, 4.0, int(g.integers(1, 4))), 2)
    x = g.permutation(np.concatenate([[-big, 0.0, big], negative, positive]))
    return x, (1.0, float(g.choice([0.3, 0.5, 0.7, 1.5, 2.0])))


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


@check()
def check_elu(elu, elu_grad, *, seed=None):
    """Check ``elu(x, alpha)`` = x for x > 0, alpha (exp(x) - 1) otherwise, and
    ``elu_grad(x, alpha)`` = 1 for x > 0, alpha exp(x) otherwise (so alpha at x = 0 exactly,
    as PyTorch's ELU backward), without overflow for x near 1000.

    Diagnoses (forward): alpha missing, the -1 missing, negative side set to 0 (ReLU),
    exp overflow in the branch np.where discards. (derivative): alpha missing, the function
    itself alpha (exp(x) - 1) used as its slope, slope 0 or 1 on the negative side, slope 1
    at x = 0 (x >= 0 instead of x > 0, visible with alpha != 1), overflow; both with the input
    modified in place.
    """
    x, alphas = _elu_inputs(seed)
    for alpha in alphas:
        got, warns, call = _call(elu, "elu", x, alpha)
        if np.any(np.isnan(got)):
            fail("elu's result contains nan; exp of a large x overflowed somewhere. Take exp "
                 "only of np.minimum(x, 0)", call)
        if close(got, np.maximum(x, 0.0)):
            fail("In your elu negative inputs became 0 (that is ReLU). ELU bends smoothly down "
                 "to -alpha: alpha * (exp(x) - 1) for x <= 0", call)
        if alpha != 1.0 and close(got, _elu(x, 1.0)):
            fail("In your elu alpha is not used; the negative side is alpha * (exp(x) - 1)", call)
        with np.errstate(over="ignore"):
            no_minus_one = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))
        if close(got, no_minus_one):
            fail("For x <= 0 your elu returns alpha * exp(x); ELU is alpha * (exp(x) - 1), so "
                 "that it is 0 at x = 0 and tends to -alpha", call)
        if not close(got, _elu(x, alpha)):
            fail("elu is not x for x > 0 and alpha * (exp(x) - 1) otherwise", call)
        if any("overflow" in w for w in warns):
            fail(f"Your elu gives the right values, but exp overflowed for a large x "
                 f"(RuntimeWarning). {_WHERE_HINT} Use np.exp(np.minimum(x, 0))", call)

        got, warns, call = _call(elu_grad, "elu_grad", x, alpha)
        ref = _elu_grad(x, alpha)
        if np.any(np.isnan(got)):
            fail("elu_grad's result contains nan; something overflowed for a large x", call)
        if close(got, np.where(x > 0, 1.0, _elu(x, alpha))):
            fail("On the negative side your elu_grad returned the function alpha (exp(x) - 1); "
                 "its derivative is alpha * exp(x)", call)
        if close(got, (x > 0).astype(float)):
            fail("Your elu_grad's slope is 0 for x <= 0, as for ReLU; ELU's slope there is "
                 "alpha * exp(x), small but never 0", call)
        if close(got, np.ones_like(x)):
            fail("Your elu_grad's slope is 1 everywhere; for x <= 0 it is alpha * exp(x)", call)
        if alpha != 1.0 and close(got, _elu_grad(x, 1.0)):
            fail("In your elu_grad alpha is missing from the slope; for x <= 0 it is alpha * exp(x)",
                 call)
        zero = x == 0
        if not close(got, ref) and close(got[~zero], ref[~zero]) and close(got[zero], 1.0):
            fail("elu_grad returns 1 at x = 0 exactly, where the slope is alpha: ELU'(x) = "
                 "alpha * exp(x) for x <= 0 (PyTorch's ELU backward gives alpha at 0 too). Use "
                 "x > 0, not x >= 0, for the linear branch", call)
        if not close(got, ref):
            fail("elu_grad is not 1 for x > 0 and alpha * exp(x) otherwise", call)
        if any("overflow" in w for w in warns):
            fail(f"Your elu_grad gives the right values, but exp overflowed for a large x "
                 f"(RuntimeWarning). {_WHERE_HINT} Use np.exp(np.minimum(x, 0))", call)
    passed("elu")


# ----------------------------------------------------------------- dead units

# 6 examples x 8 units of ReLU outputs. Units 1, 4 and 6 are dead (0 on every example);
# example 3 has no active unit; unit 7 fires only once.
_A_DEAD = np.array([
    [0.5, 0.0, 1.2, 0.0, 0.0, 0.3, 0.0, 0.0],
    [0.0, 0.0, 0.7, 2.0, 0.0, 0.0, 0.0, 0.0],
    [1.1, 0.0, 0.0, 0.4, 0.0, 0.9, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.2, 0.0, 0.3, 0.0, 0.0, 1.5, 0.0, 0.0],
    [0.9, 0.0, 0.0, 0.6, 0.0, 0.2, 0.0, 0.8],
])


def _dead_answers(a):
    """The right fraction and what each diagnosed mistake returns, by name."""
    n = len(a)
    dead = np.all(a <= 0, axis=0)
    return dict(right=dead.mean(), rows=np.mean(np.all(a <= 0, axis=1)), entries=np.mean(a <= 0),
                any=np.mean(np.any(a <= 0, axis=0)), none=0.0, count=float(dead.sum()),
                alive=1 - dead.mean(), per_example=dead.sum() / n)


def _dead_inputs(seed):
    """ReLU outputs with some dead units, an example with no active unit and a unit that
    fires once; with a seed, drawn until every diagnosed mistake gives its own number."""
    if seed is None:
        return _A_DEAD
    g = np.random.default_rng(seed)
    while True:
        n, h = int(g.integers(5, 10)), int(g.integers(6, 13))
        a = np.round(g.uniform(0.1, 2.0, (n, h)), 1) * (g.random((n, h)) < 0.6)
        dead = g.choice(h, size=int(g.integers(1, h // 2 + 1)), replace=False)
        a[:, dead] = 0.0
        a[int(g.integers(n)), :] = 0.0
        alive = np.flatnonzero(np.any(a > 0, axis=0))
        if len(alive) == 0:
            continue
        once = int(g.choice(alive))
        keep = int(g.choice(np.flatnonzero(a[:, once] > 0)))
        a[:, once] = np.where(np.arange(n) == keep, a[:, once], 0.0)
        values = np.array(list(_dead_answers(a).values()))
        if np.min(np.abs(values[:, None] - values[None, :]) + np.eye(len(values))) > 1e-3:
            return a


@check()
def check_dead_fraction(dead_fraction, *, seed=None):
    """Check ``dead_fraction(A)``: the fraction of units (columns of the ReLU outputs A,
    shape (N examples, H units)) that output 0 on EVERY example.

    Diagnoses: counting per example (rows) instead of per unit, the share of zero entries
    instead of units, units silent on ANY example instead of all, `< 0` instead of `<= 0`
    (ReLU outputs are never negative: that counts nothing), a count instead of a fraction,
    the count divided by the number of examples, the active fraction instead of the dead
    one, the input modified in place.
    """
    a = _dead_inputs(seed)
    call = Call(f"dead_fraction({fmt_array(a)})")
    a_in = a.copy()
    value = as_array(dead_fraction(a_in), "dead_fraction's result", call)
    if not np.array_equal(a_in, a):
        fail("dead_fraction modifies its input in place; compute the fraction without "
             "changing A", call)
    if value.size != 1:
        fail(f"dead_fraction should return one number (a fraction of the units), got an array "
             f"of shape {value.shape}. Did you return the per-unit flags without averaging them?",
             call)
    got = float(value)
    answers = _dead_answers(a)
    if close(got, answers["right"]):
        passed("dead_fraction")
        return
    if close(got, answers["rows"]):
        fail("Your dead_fraction counted EXAMPLES (rows) on which nothing fires. A dead unit is a "
             "COLUMN that is 0 for every example: reduce over axis=0", call)
    if close(got, answers["entries"]):
        fail("Your dead_fraction returns the share of zero ENTRIES. A unit is dead only if it is "
             "0 on every example; silent for some examples is normal for a ReLU", call)
    if close(got, answers["any"]):
        fail("Your dead_fraction counted units that are 0 on ANY example; a dead unit is 0 on "
             "ALL examples (np.all)", call)
    if close(got, 0.0):
        fail("dead_fraction returned 0, but some columns of this matrix are entirely 0. If you "
             "tested `A < 0`: ReLU outputs are never negative, a dead unit outputs exactly 0, "
             "so test `A <= 0`", call)
    if close(got, answers["count"]):
        fail("dead_fraction returned a count of units; return the FRACTION of all units (the "
             "count divided by the number of columns)", call)
    if close(got, answers["per_example"]):
        fail("Your dead_fraction divides the count of dead units by the number of EXAMPLES "
             "(rows); divide by the number of units, the columns (A.shape[1])", call)
    if close(got, answers["alive"]):
        fail("Your dead_fraction returns the fraction of units that are NOT dead", call)
    fail("dead_fraction's result is not the fraction of columns that are 0 on every row", call)
