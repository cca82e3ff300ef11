"""Checks for exercises/01_activations.ipynb: a stable sigmoid and its derivative, a Leaky
ReLU layer (forward and backward), ELU with its derivative, and a dead-unit counter."""
import numpy as np

from ._common import as_array, check_shape, close, fail, fmt_array, passed
from ._fp import call_recording_fp_warnings


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _call(fn, name, x, *extra):
    """Call fn on a copy of x (plus extra arguments); return (output, fp warnings, call text)."""
    x_in = x.copy()
    out, warns = call_recording_fp_warnings(fn, x_in, *extra)
    args = ", ".join([fmt_array(x)] + [repr(e) for e in extra])
    call = f"{name}({args})"
    if not np.array_equal(x_in, x):
        fail(f"{call} changed its input array in place; return a new array")
    out = as_array(out, call)
    check_shape(out, x.shape, call)
    return out, warns, call


_WHERE_HINT = ("Note that np.where(cond, a, b) computes BOTH a and b for every element before "
               "choosing, so an exp in the branch you do not pick still overflows.")

# ------------------------------------------------------------------------ sigmoid

_X_SIG = np.array([-1000.0, -20.0, -2.0, 0.0, 0.5, 3.0, 1000.0])
_X_SIG_2D = np.array([[-1.0, 0.0, 2.0], [4.0, -3.0, 0.25]])


def check_sigmoid(sigmoid):
    """Check ``sigmoid(x)`` = 1 / (1 + exp(-x)) element-wise, without overflow for |x| = 1000.

    Diagnoses: nan from exp(1000) (e.g. exp(x) / (1 + exp(x))), an overflow warning even
    when the values come out right (1 / (1 + exp(-x)) at x = -1000, or np.where evaluating
    both branches), the sign of the exponent flipped, the shape of the input not kept,
    the input modified in place.
    """
    got, warns, call = _call(sigmoid, "sigmoid", _X_SIG)
    if np.any(np.isnan(got)):
        fail(f"{call} contains nan: exp(1000) overflows to inf, and inf / inf is nan. Only ever "
             f"take exp of a number <= 0, e.g. exp(-|x|), and choose the formula by the sign of x")
    if close(got, _sigmoid(-_X_SIG)):
        fail(f"{call}: your function decreases with x, so it computes sigma(-x) = 1 - sigma(x). "
             f"Check the sign in the exponent: sigma(x) = 1 / (1 + exp(-x))")
    if not close(got, _sigmoid(_X_SIG)):
        fail(f"{call} returned values that are not 1 / (1 + exp(-x))")
    if any("overflow" in w for w in warns):
        fail(f"{call} gives the right values, but exp overflowed on the way (RuntimeWarning: "
             f"overflow encountered in exp): 1 / (1 + exp(1000)) only works by luck. "
             f"{_WHERE_HINT} Compute e = exp(-|x|) once and use it in both branches")
    got, _, call = _call(sigmoid, "sigmoid", _X_SIG_2D)
    if not close(got, _sigmoid(_X_SIG_2D)):
        fail(f"{call}: on a 2-D input every element must get its own sigmoid")
    passed("sigmoid")


def check_sigmoid_grad(sigmoid_grad):
    """Check ``sigmoid_grad(x)`` = sigma(x) (1 - sigma(x)), finite for |x| = 1000.

    Diagnoses: the derivative written as sigma(x), as 1 - sigma(x), as x (1 - x) (the
    formula applied to x instead of sigma(x)), nan or overflow for |x| = 1000, the sign of
    the exponent flipped in the sigmoid it uses.
    """
    got, warns, call = _call(sigmoid_grad, "sigmoid_grad", _X_SIG)
    s = _sigmoid(_X_SIG)
    if np.any(np.isnan(got)):
        fail(f"{call} contains nan: something overflowed for |x| = 1000 (exp(1000) = inf, and "
             f"inf / inf or inf * 0 is nan). Build the derivative from a stable sigmoid")
    if close(got, s):
        fail(f"{call}: you returned sigma(x) itself. The derivative is sigma(x) (1 - sigma(x)): "
             f"at most 1/4, at x = 0")
    if close(got, 1 - s):
        fail(f"{call}: you returned 1 - sigma(x); the derivative is the product "
             f"sigma(x) (1 - sigma(x))")
    with np.errstate(over="ignore", invalid="ignore"):
        applied_to_x = _X_SIG * (1 - _X_SIG)
    if close(got, applied_to_x):
        fail(f"{call}: you computed x (1 - x). The formula is s (1 - s) with s = sigma(x), "
             f"the sigmoid's OUTPUT")
    if not close(got, s * (1 - s)):
        fail(f"{call} returned values that are not sigma(x) (1 - sigma(x)); its maximum should be "
             f"at x = 0 and it should vanish in both tails")
    if any("overflow" in w for w in warns):
        fail(f"{call} gives the right values, but exp overflowed on the way (RuntimeWarning). "
             f"Use your stable sigmoid inside the derivative")
    passed("sigmoid_grad")


# --------------------------------------------------------------------- Leaky ReLU

_X_LR = np.array([[1.5, -2.0, 0.3, -0.1], [-1.0, 2.5, -0.7, 0.8], [0.2, -0.4, 1.1, -3.0]])
_D_LR = np.array([[0.5, 1.0, -2.0, -0.3], [2.0, -1.5, 0.4, 0.7], [-0.6, -1.0, 1.2, 0.9]])
_X_LR2 = np.array([[-0.5, 1.0, 2.0, -1.5], [0.3, -0.2, -0.9, 1.4], [-2.2, 0.6, 0.1, -0.8]])
_X_ZERO = np.array([[0.0, 1.0], [-1.0, 0.0]])


def _leaky(x, alpha):
    return np.where(x > 0, x, alpha * x)


def _leaky_grad(x, dout, alpha):
    return np.where(x > 0, dout, alpha * dout)


def check_leaky_relu(LeakyReLU):
    """Check a ``LeakyReLU(alpha)`` layer: forward(x) = x if x > 0 else alpha x; backward(dout)
    = dout where x > 0, alpha dout elsewhere (slope alpha at x = 0, as PyTorch); alpha = 0 is
    the plain ReLU.

    Diagnoses: alpha applied to the positive side (or the condition inverted), alpha
    ignored; a non-zero gradient for
    x < 0 in the ReLU case (no mask, inverted mask); the mask taken from the upstream
    gradient dout instead of the forward input; the local slope returned without multiplying
    by dout; alpha missing (or applied to the wrong side) in backward; a mask left over from
    an earlier forward call; the slope at x = 0.
    """
    x, dout = _X_LR, _D_LR
    xs, ds = fmt_array(x), fmt_array(dout)

    relu = LeakyReLU(alpha=0.0)
    call = f"LeakyReLU(alpha=0.0).forward({xs})"
    out = as_array(relu.forward(x.copy()), call)
    check_shape(out, x.shape, call)
    if close(out, x):
        fail(f"{call} returned x unchanged; negative inputs must become alpha * x (0 here)")
    if close(out, np.minimum(x, 0.0)):
        fail(f"{call} kept the NEGATIVE inputs and zeroed the positive ones: the condition is "
             f"inverted, or alpha is applied to the positive side. f(x) = x for x > 0")
    if not close(out, np.maximum(x, 0.0)):
        fail(f"{call} is not max(0, x) element-wise")
    call = f"layer = LeakyReLU(alpha=0.0); layer.forward({xs}); layer.backward({ds})"
    dx = as_array(relu.backward(dout.copy()), call)
    check_shape(dx, x.shape, call)
    if close(dx, dout):
        fail(f"{call}: you passed dout through unchanged. Where x < 0 the ReLU is flat, so the "
             f"gradient there must be 0: multiply dout by the mask (x > 0)")
    if close(dx, dout * (dout > 0)):
        fail(f"{call}: your mask comes from the sign of dout. It must come from the forward "
             f"INPUT x (store x, or the mask x > 0, in forward)")
    if close(dx, (x > 0).astype(float)):
        fail(f"{call}: you returned the local slope f'(x) only; the chain rule multiplies it by "
             f"the upstream gradient: dout * f'(x)")
    if close(dx, dout * (x < 0)) or close(dx, dout * (x <= 0)):
        fail(f"{call}: the mask is inverted (or alpha is applied to the positive side): the "
             f"gradient flows unchanged where x > 0 and is alpha * dout (0 here) where x < 0")
    if close(dx, dout * x) or close(dx, dout * np.maximum(x, 0)):
        fail(f"{call}: you multiplied dout by x (or ReLU(x)); ReLU's slope is 1 where x > 0, "
             f"not x")
    if not close(dx, _leaky_grad(x, dout, 0.0)):
        fail(f"{call}: backward should return dout where x > 0 and 0 elsewhere")

    alpha = 0.1
    leaky = LeakyReLU(alpha=alpha)
    call = f"LeakyReLU(alpha=0.1).forward({xs})"
    out = as_array(leaky.forward(x.copy()), call)
    check_shape(out, x.shape, call)
    if close(out, np.where(x > 0, alpha * x, x)):
        fail(f"{call}: alpha was applied to the POSITIVE side. Leaky ReLU is x for x > 0 and "
             f"alpha * x for x <= 0")
    if close(out, np.maximum(x, 0.0)):
        fail(f"{call}: negative inputs became 0, so alpha is not used: they must become alpha * x")
    if not close(out, _leaky(x, alpha)):
        fail(f"{call} is not x for x > 0 and alpha * x otherwise")
    call = f"layer = LeakyReLU(alpha=0.1); layer.forward({xs}); layer.backward({ds})"
    dx = as_array(leaky.backward(dout.copy()), call)
    check_shape(dx, x.shape, call)
    if close(dx, np.where(x > 0, alpha * dout, dout)):
        fail(f"{call}: alpha is applied to the positive side in backward; the slope is 1 for "
             f"x > 0 and alpha for x <= 0")
    if close(dx, _leaky_grad(x, dout, 0.0)):
        fail(f"{call}: the gradient is 0 where x < 0, as for a plain ReLU; a Leaky ReLU passes "
             f"alpha * dout there (that is what keeps its units alive)")
    if close(dx, np.where(dout > 0, dout, alpha * dout)):
        fail(f"{call}: your mask comes from the sign of dout; it must come from the forward "
             f"input x")
    if close(dx, np.where(x > 0, 1.0, alpha)):
        fail(f"{call}: you returned the local slope only; multiply it by dout")
    if not close(dx, _leaky_grad(x, dout, alpha)):
        fail(f"{call}: backward should return dout where x > 0 and alpha * dout elsewhere")

    x2 = _X_LR2
    call = (f"layer = LeakyReLU(alpha=0.1); layer.forward({xs}); layer.forward({fmt_array(x2)}); "
            f"layer.backward({ds})")
    fresh = LeakyReLU(alpha=alpha)
    fresh.forward(x.copy())
    fresh.forward(x2.copy())
    dx = as_array(fresh.backward(dout.copy()), call)
    if close(dx, _leaky_grad(x, dout, alpha)):
        fail(f"{call}: backward used the mask of the FIRST forward call. Store the input (or "
             f"mask) in every forward call; backward belongs to the most recent forward")
    if not close(dx, _leaky_grad(x2, dout, alpha)):
        fail(f"{call}: backward does not match the most recent forward input")

    call = f"layer = LeakyReLU(alpha=0.0); layer.forward({fmt_array(_X_ZERO)}); layer.backward(np.ones((2, 2)))"
    at_zero = LeakyReLU(alpha=0.0)
    at_zero.forward(_X_ZERO.copy())
    dx = as_array(at_zero.backward(np.ones((2, 2))), call)
    if not close(dx, _leaky_grad(_X_ZERO, np.ones((2, 2)), 0.0)):
        fail(f"{call}: at x = 0 exactly, use the slope of the negative side (mask x > 0, not "
             f"x >= 0), as PyTorch does")
    passed("leaky_relu")


# ---------------------------------------------------------------------------- ELU

_X_ELU = np.array([-1000.0, -5.0, -1.0, -0.1, 0.2, 2.0, 1000.0])


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x, alpha):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def check_elu(elu, elu_grad):
    """Check ``elu(x, alpha)`` = x for x > 0, alpha (exp(x) - 1) otherwise, and
    ``elu_grad(x, alpha)`` = 1 for x > 0, alpha exp(x) otherwise, without overflow for x = 1000.

    Diagnoses (forward): alpha missing, the -1 missing, negative side set to 0 (ReLU),
    exp overflow in the branch np.where discards. (derivative): alpha missing, the function
    itself alpha (exp(x) - 1) used as its slope, slope 0 or 1 on the negative side,
    overflow; both with the input modified in place.
    """
    for alpha in (1.0, 0.5):
        got, warns, call = _call(elu, "elu", _X_ELU, alpha)
        x = _X_ELU
        if np.any(np.isnan(got)):
            fail(f"{call} contains nan; exp(1000) overflowed somewhere. Take exp only of "
                 f"np.minimum(x, 0)")
        if close(got, np.maximum(x, 0.0)):
            fail(f"{call}: negative inputs became 0 (that is ReLU). ELU bends smoothly down to "
                 f"-alpha: alpha * (exp(x) - 1) for x <= 0")
        if alpha != 1.0 and close(got, _elu(x, 1.0)):
            fail(f"{call}: alpha is not used; the negative side is alpha * (exp(x) - 1)")
        with np.errstate(over="ignore"):
            no_minus_one = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))
        if close(got, no_minus_one):
            fail(f"{call}: for x <= 0 you return alpha * exp(x); ELU is alpha * (exp(x) - 1), so "
                 f"that it is 0 at x = 0 and tends to -alpha")
        if not close(got, _elu(x, alpha)):
            fail(f"{call} is not x for x > 0 and alpha * (exp(x) - 1) otherwise")
        if any("overflow" in w for w in warns):
            fail(f"{call} gives the right values, but exp overflowed for x = 1000 (RuntimeWarning). "
                 f"{_WHERE_HINT} Use np.exp(np.minimum(x, 0))")

        got, warns, call = _call(elu_grad, "elu_grad", _X_ELU, alpha)
        if np.any(np.isnan(got)):
            fail(f"{call} contains nan; something overflowed for x = 1000")
        if close(got, np.where(x > 0, 1.0, _elu(x, alpha))):
            fail(f"{call}: on the negative side you returned the function alpha (exp(x) - 1); its "
                 f"derivative is alpha * exp(x)")
        if close(got, (x > 0).astype(float)):
            fail(f"{call}: the slope is 0 for x <= 0, as for ReLU; ELU's slope there is "
                 f"alpha * exp(x), small but never 0")
        if close(got, np.ones_like(x)):
            fail(f"{call}: the slope is 1 everywhere; for x <= 0 it is alpha * exp(x)")
        if alpha != 1.0 and close(got, _elu_grad(x, 1.0)):
            fail(f"{call}: alpha is missing from the slope; for x <= 0 it is alpha * exp(x)")
        if not close(got, _elu_grad(x, alpha)):
            fail(f"{call} is not 1 for x > 0 and alpha * exp(x) otherwise")
        if any("overflow" in w for w in warns):
            fail(f"{call} gives the right values, but exp overflowed for x = 1000 (RuntimeWarning). "
                 f"{_WHERE_HINT} Use np.exp(np.minimum(x, 0))")
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


def check_dead_fraction(dead_fraction):
    """Check ``dead_fraction(A)``: the fraction of units (columns of the ReLU outputs A,
    shape (N examples, H units)) that output 0 on EVERY example.

    Diagnoses: counting per example (rows) instead of per unit, the share of zero entries
    instead of units, units silent on ANY example instead of all, `< 0` instead of `<= 0`
    (ReLU outputs are never negative: that counts nothing), a count instead of a fraction,
    the active fraction instead of the dead one.
    """
    a = _A_DEAD
    call = f"dead_fraction({fmt_array(a)})"
    a_in = a.copy()
    value = as_array(dead_fraction(a_in), call)
    if not np.array_equal(a_in, a):
        fail(f"{call} changed its input in place")
    if value.size != 1:
        fail(f"{call} should return one number (a fraction of the units), got an array of shape "
             f"{value.shape}. Did you return the per-unit flags without averaging them?")
    got = float(value)
    n, h = a.shape
    dead = np.all(a <= 0, axis=0)
    if close(got, np.mean(np.all(a <= 0, axis=1))):
        fail(f"{call}: you counted EXAMPLES (rows) on which nothing fires. A dead unit is a "
             f"COLUMN that is 0 for every example: reduce over axis=0")
    if close(got, np.mean(a <= 0)):
        fail(f"{call}: you returned the share of zero ENTRIES. A unit is dead only if it is 0 on "
             f"every example; silent for some examples is normal for a ReLU")
    if close(got, np.mean(np.any(a <= 0, axis=0))):
        fail(f"{call}: you counted units that are 0 on ANY example; a dead unit is 0 on ALL "
             f"examples (np.all)")
    if close(got, 0.0):
        fail(f"{call} returned 0, but some columns of this matrix are entirely 0. If you tested "
             f"`A < 0`: ReLU outputs are never negative, a dead unit outputs exactly 0, so test "
             f"`A <= 0`")
    if close(got, dead.sum()):
        fail(f"{call} returned a count of units; return the FRACTION of all {h} units")
    if close(got, 1 - dead.mean()):
        fail(f"{call}: you returned the fraction of units that are NOT dead")
    if not close(got, dead.mean()):
        fail(f"{call} is not the fraction of columns that are 0 on every row")
    passed("dead_fraction")
