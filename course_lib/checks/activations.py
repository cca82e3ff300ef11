"""Checks for exercises/01_activations.ipynb: a stable sigmoid and its derivative, a Leaky
ReLU layer (forward and backward), ELU with its derivative, a dead-unit counter, and a reading
of activation statistics recorded during training ("which layer died first?").

Each check takes ``seed=None``: the public inputs its hints print, or, with an integer seed,
other inputs of the same kind (the grader's hidden tests)."""
import numpy as np

from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, unpack
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


# ------------------------------------------------- reading ActivationStats: which layer died first?

class StatsRecord:
    """What ``cl.diagnostics.ActivationStats`` records, without the training run: the watched
    layers' indices in the model (``layers``), the training step of each record (``steps``),
    and per layer the per-batch dead share (``dead[i]``; NaN for non-ReLU layers) and the
    saturated share (``saturated[i]``; NaN for non-tanh layers), one value per record. A
    stand-in with the same attributes, for the exercise's checks."""

    def __init__(self, names, steps, dead, saturated, every):
        self.names = dict(names)
        self.layers = list(self.names)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.dead = {i: np.asarray(v, dtype=float) for i, v in dead.items()}
        self.saturated = {i: np.asarray(v, dtype=float) for i, v in saturated.items()}
        self.every = int(every)

    def copy(self):
        return StatsRecord(self.names, self.steps.copy(), {i: v.copy() for i, v in self.dead.items()},
                           {i: v.copy() for i, v in self.saturated.items()}, self.every)

    def __len__(self):
        return len(self.steps)

    def __repr__(self):
        return (f"StatsRecord({len(self.layers)} layers {self.layers}, {len(self)} recorded steps, "
                f"every {self.every})")


def _rising(g, n, start, cross, value, units, threshold, after_max):
    """A dead-share curve over n records: below ``threshold`` before record ``cross`` (rising
    from ``start``), ``value`` at it, then between threshold and ``after_max`` (in steps of
    1/units, non-decreasing); None for cross: never reaches it."""
    def q(v):
        return np.round(np.asarray(v) * units) / units
    top = threshold - 1.0 / units
    if cross is None:
        return np.minimum(q(np.sort(g.uniform(0, top, n))), top)
    before = q(np.sort(g.uniform(start, top, cross))) if cross else np.zeros(0)
    lo = max(value, threshold)
    rest = q(np.sort(g.uniform(lo, max(after_max, lo), n - cross - 1)))
    return np.concatenate([np.minimum(before, top), [value], np.maximum(rest, value)])


def _record(g, public):
    """A record of a net with a tanh layer first and n_relu ReLU layers: per role (see
    _dead_answers) a layer whose curve makes that mistake give its own answer; and a second,
    healthy record of the same net in which no layer reaches the threshold."""
    n_relu = 5 if public else int(g.integers(5, 7))
    gap = 2 if public else int(g.choice([2, 3]))            # Linear + act, or Linear + BatchNorm + act
    every = 5 if public else int(g.choice([2, 4, 5, 10]))
    n_rec = 20 if public else int(g.integers(16, 26))
    units = 64 if public else int(g.choice([32, 64, 100, 128]))
    threshold = 0.5 if public else float(g.choice([0.25, 0.5, 0.75]))
    tanh_i = 1
    relu = [1 + gap * (j + 1) for j in range(n_relu)]
    names = {tanh_i: f"{tanh_i}: Tanh()"}
    names.update({i: f"{i}: ReLU()" for i in relu})
    steps = every * np.arange(n_rec)
    # crossing records: the earliest to a middle layer (the answer), the latest to another
    # middle layer, the rest at random; at least two records between the answer and the next
    cross = np.sort(g.choice(np.arange(4, n_rec - 2), size=n_relu, replace=False))
    while cross[1] < cross[0] + 2:
        cross = np.sort(g.choice(np.arange(4, n_rec - 2), size=n_relu, replace=False))
    middle = list(g.permutation(np.arange(1, n_relu - 1)))
    order = [None] * n_relu
    order[middle[0]] = cross[0]                  # the answer
    order[middle[1]] = cross[-1]                 # reaches it last
    rest = list(g.permutation(cross[1:-1]))
    for j in range(n_relu):
        if order[j] is None:
            order[j] = rest.pop()
    heavy = middle[2]                            # the most dead at the end (and on average)
    dead, saturated = {tanh_i: np.full(n_rec, np.nan)}, {}
    for j, i in enumerate(relu):
        value = threshold if j == middle[0] else threshold + float(g.integers(0, 4)) / units
        after_max = 1.0 if j == heavy else threshold + 0.25 * (1 - threshold)
        curve = _rising(g, n_rec, 0.0, int(order[j]), value, units, threshold, after_max)
        if j == heavy:
            curve[order[j] + 1:] = np.maximum(curve[order[j] + 1:], 1.0)
            curve[order[j]] = max(curve[order[j]], threshold + 1.0 / units)
        dead[i] = curve
        saturated[i] = np.full(n_rec, np.nan)
    sat_cross = int(g.integers(1, cross[0]))
    saturated[tanh_i] = _rising(g, n_rec, 0.05, sat_cross, threshold + 0.1, 100, threshold, 0.95)
    record = StatsRecord(names, steps, dead, saturated, every)
    healthy_dead = {tanh_i: np.full(n_rec, np.nan)}
    healthy_dead.update({i: _rising(g, n_rec, 0.0, None, 0.0, units, threshold, 0.0) for i in relu})
    healthy = StatsRecord(names, steps, healthy_dead, saturated, every)
    return record, threshold, healthy


def _first_reach(record, threshold, which="dead", strict=False):
    """(layer, step) of the earliest record at which a layer's share reaches the threshold
    (ties: the layer nearer the input), or None; for every layer: {layer: record index}."""
    hits = {}
    for i in record.layers:
        v = getattr(record, which)[i]
        k = np.flatnonzero(v > threshold if strict else v >= threshold)
        if k.size:
            hits[i] = int(k[0])
    if not hits:
        return None, hits
    best = min(hits, key=lambda i: (hits[i], record.layers.index(i)))
    return (best, int(record.steps[hits[best]])), hits


def _record_answers(record, threshold):
    """The right answer and what each diagnosed mistake returns."""
    right, hits = _first_reach(record, threshold)
    layer, step = right
    k = hits[layer]
    order = [i for i in record.layers if i in hits]
    latest = max(hits, key=lambda i: hits[i])
    final = {i: record.dead[i][-1] for i in hits}
    mean = {i: record.dead[i].mean() for i in hits}
    relu = [i for i in record.layers if not np.all(np.isnan(record.dead[i]))]
    return dict(
        right=right,
        strict=_first_reach(record, threshold, strict=True)[0],
        saturated=_first_reach(record, threshold, "saturated")[0],
        index=(layer, k),
        positions={record.layers.index(layer), record.layers.index(layer) + 1,
                   relu.index(layer), relu.index(layer) + 1},
        deepest=(order[-1], int(record.steps[hits[order[-1]]])),
        shallowest=(order[0], int(record.steps[hits[order[0]]])),
        latest=(latest, int(record.steps[hits[latest]])),
        whole_run={max(final, key=final.get), max(mean, key=mean.get)},
        argmax_layers={i for i in record.layers if i not in hits},
    )


def _distinct(record, threshold):
    """Does every diagnosed mistake give its own answer on this record?"""
    a = _record_answers(record, threshold)
    answers = [a[k] for k in ("right", "strict", "saturated", "index", "deepest", "shallowest", "latest")]
    if any(x is None for x in answers) or len(set(answers)) != len(answers):
        return False
    heavy = {i for i in record.layers if record.dead[i][-1] == 1.0}
    return (a["whole_run"] == heavy and a["right"][0] not in heavy
            and a["right"][0] not in a["positions"]
            and a["latest"][0] not in heavy | {a["deepest"][0], a["shallowest"][0]}
            and a["right"][1] != int(record.steps[0]))


def example_record(seed=None):
    """The check's record (a StatsRecord), its threshold and a healthy record of the same net:
    ``stats, threshold, healthy = example_record()``; with a seed, a hidden test's. Records are
    drawn until every diagnosed mistake gives its own answer."""
    g = np.random.default_rng(2101 if seed is None else seed)
    while True:
        record, threshold, healthy = _record(g, public=seed is None)
        if _distinct(record, threshold):
            return record, threshold, healthy


def _as_answer(result, call):
    """The student's (layer, step), or None."""
    if result is None:
        return None
    layer, step = unpack(result, ("layer", "step"), "first_dead_layer's result", call)
    out = []
    for name, v in (("layer", layer), ("step", step)):
        try:
            f = float(v)
        except (TypeError, ValueError):
            fail(f"first_dead_layer's {name} should be an integer, got {type(v).__name__}", call)
        if not np.isfinite(f) or f != round(f):
            fail(f"first_dead_layer's {name} should be an integer, got {v!r}", call)
        out.append(int(round(f)))
    return tuple(out)


@check()
def check_first_dead_layer(first_dead_layer, *, seed=None):
    """Check ``first_dead_layer(stats, threshold)``: the layer whose per-batch dead share
    (``stats.dead[i]``) first reached ``threshold`` (>=), and the training step when it did, as
    (layer index in the model, step); the layer nearer the input on a tie; None if no layer
    reaches it.

    Diagnoses: the saturated share read instead of the dead share; np.argmax of an all-False
    comparison (0) taken as a crossing (layers without a ReLU reading, or a healthy record);
    the record index k returned instead of the training step stats.steps[k]; > instead of >=
    (crossed vs reached); the layer's position in stats.layers (or among the ReLU layers)
    instead of its index in the model; the first (or last) layer in the model's order that
    reaches the threshold instead of the earliest in time; the layer that reached it last; the
    layer with the most dead units over the run or at its end (a whole-run reading); None
    although a layer reaches it; an answer for a healthy record; the record modified in place.
    """
    g_record, threshold, healthy = example_record(seed)
    setup = ("from course_lib.checks.activations import example_record; stats, threshold, healthy = "
             + ("example_record()" if seed is None else f"example_record(seed={seed})"))
    call = Call("first_dead_layer(stats, threshold)", setup)
    given = g_record.copy()
    got = _as_answer(first_dead_layer(given, threshold), call)
    unchanged = all(np.array_equal(given.dead[i], g_record.dead[i], equal_nan=True) for i in g_record.layers)
    if not unchanged or not np.array_equal(given.steps, g_record.steps):
        fail("first_dead_layer modifies the record it reads (stats.dead or stats.steps); read it "
             "without changing it", call)
    a = _record_answers(g_record, threshold)
    if got != a["right"]:
        name = "first_dead_layer"
        if got is None:
            fail(f"Your {name} returned None, but in this record some layer's dead share does reach "
                 f"the threshold. Compare with >= (reached, not only exceeded), look at every "
                 f"layer in stats.layers, and remember that NaN >= t is False (only skip NaN)", call)
        layer, step = got
        if got == a["saturated"]:
            fail(f"Your {name} read stats.saturated: that is the share of saturated tanh/sigmoid "
                 f"outputs, not of dead units. A ReLU unit dies; read stats.dead[i] (NaN for the "
                 f"layers that are not ReLU)", call)
        if step == a["right"][1] and layer in a["positions"] and layer != a["right"][0]:
            fail(f"Your {name} returned a position (in stats.layers, or among the ReLU layers), "
                 f"not the layer's index in the model. stats.layers holds the indices: return the "
                 f"element, e.g. stats.layers[j], not j", call)
        at_start = step == int(g_record.steps[0]) and got not in (a["deepest"], a["shallowest"], a["latest"])
        if layer in a["argmax_layers"] or at_start:
            fail(f"Your {name} answered step {step} for a layer that never reaches the threshold "
                 f"there. np.argmax(d >= threshold) returns 0 when NO entry is True (and NaN >= t "
                 f"is False for the layers without a dead reading): check .any() first, or use "
                 f"np.flatnonzero", call)
        if got == a["index"]:
            fail(f"Your {name} returned the record index k as the step. The records are taken "
                 f"every {g_record.every} steps here: the training step of record k is "
                 f"stats.steps[k]", call)
        if a["strict"] is not None and got == a["strict"]:
            fail(f"Your {name} waits until the dead share EXCEEDS the threshold (>); the question "
                 f"is when it first REACHED it (>=). A share exactly at the threshold counts", call)
        if got == a["latest"]:
            fail(f"Your {name} returned the layer that reached the threshold LAST. 'First' means "
                 f"earliest in training: keep the smallest step over the layers", call)
        if got == a["deepest"]:
            fail(f"Your {name} returned the deepest (last in the model's order) layer that reaches "
                 f"the threshold — does your loop overwrite the answer for every layer that "
                 f"reaches it? Keep the layer that reaches it at the EARLIEST step", call)
        if got == a["shallowest"]:
            fail(f"Your {name} returned the first layer in the model's order that reaches the "
                 f"threshold; the question is which got there first in TIME. Compare the steps "
                 f"at which the layers reach it and keep the earliest", call)
        if layer in a["whole_run"] and layer != a["right"][0]:
            fail(f"Your {name} picked the layer with the most dead units over the whole run (or "
                 f"at its end). The question is a per-step reading: for each layer find the first "
                 f"record at which its share reaches the threshold, then take the earliest", call)
        if layer == a["right"][0]:
            fail(f"Your {name} found the right layer, but not the step at which its dead share "
                 f"first reached the threshold", call)
        fail(f"Your {name} returned (layer {layer}, step {step}), which is not the layer whose dead "
             f"share reached the threshold first", call)
    call = Call("first_dead_layer(healthy, threshold)", setup)
    got = _as_answer(first_dead_layer(healthy.copy(), threshold), call)
    if got is not None:
        if got[1] == int(healthy.steps[0]):
            fail("In this healthy record no layer's dead share ever reaches the threshold, but your "
                 "first_dead_layer answered a layer at the first step: np.argmax of an all-False "
                 "array is 0. Check .any() first and return None when no layer reaches it", call)
        fail("In this healthy record no layer's dead share ever reaches the threshold: "
             "first_dead_layer should return None", call)
    passed("first_dead_layer")
