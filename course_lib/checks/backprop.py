"""Checks for exercises/03_backpropagation.ipynb: the affine layer's backward pass, centred
numerical gradients, the relative error, the worked example's gradients, and a bug hunt.

Each check with inputs takes ``seed=None``: the public inputs its hints print, or, with an
integer seed, other inputs of the same kind (the grader's hidden tests)."""
import numpy as np

from ..gradcheck import gradcheck
from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, unpack
from ._fp import call_recording_fp_warnings


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _arrays(result, names, what, call):
    """The student's tuple of arrays, each as a float array."""
    return [as_array(r, f"{what}'s {name}", call)
            for r, name in zip(unpack(result, names, what, call), names)]


# ------------------------------------------------------------- Linear backward

def _linear_cases(seed):
    """(N, D, M, seed) of the two calls: a square W (where a missing transpose keeps the
    shapes right), then N, D, M all different."""
    if seed is None:
        return ((4, 3, 3, 0), (5, 3, 2, 1))
    g = np.random.default_rng(seed)
    d = int(g.integers(2, 6))
    n, m2, d2 = d + int(g.integers(1, 4)), *g.choice(np.arange(2, 8), size=2, replace=False)
    n2 = int(g.choice([v for v in range(2, 9) if v not in (m2, d2)]))
    return ((n, d, d, int(g.integers(2, 10_000))), (n2, int(d2), int(m2), int(g.integers(2, 10_000))))


def _linear_inputs(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, W, dout = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    call = Call("linear_backward(dout, x, W)",
                f"rng = np.random.default_rng({seed}); x = rng.standard_normal(({n}, {d})); "
                f"W = rng.standard_normal(({d}, {m})); dout = rng.standard_normal(({n}, {m}))")
    return x, W, dout, call


@check()
def check_linear_backward(linear_backward, *, seed=None):
    """Check ``linear_backward(dout, x, W) -> (dx, dW, db)`` for out = x @ W + b:
    dx = dout @ W.T, dW = x.T @ dout, db = dout summed over the batch.

    Diagnoses: W not transposed in dx (on a square W, where the shapes cannot tell);
    dW transposed (dout.T @ x); dW or dx averaged over the batch instead of summed; db not
    summed (shape (N, M)), summed over the wrong axis (shape (N,)), summed with keepdims
    (shape (1, M)), or averaged; inputs modified in place. A second call with N, D, M all
    different catches what the square case hides.
    """
    for n, d, m, s in _linear_cases(seed):
        x, W, dout, call = _linear_inputs(n, d, m, s)
        args = (dout.copy(), x.copy(), W.copy())
        dx, dW, db = _arrays(linear_backward(*args), ("dx", "dW", "db"), "linear_backward", call)
        if not all(np.array_equal(a, b) for a, b in zip(args, (dout, x, W))):
            fail("linear_backward modifies one of its inputs in place; compute new arrays", call)

        check_shape(dx, (n, d), "linear_backward's dx", call)
        if d == m and close(dx, dout @ W):
            fail("Your linear_backward's dx = dout @ W is missing a transpose. Each input "
                 "feature i reaches output j through W[i, j], so dx = dout @ W.T (shape (N, D), "
                 "like x)", call)
        if close(dx, dout @ W.T / n):
            fail("Your linear_backward's dx is divided by N. Every example's dx is its own row: "
                 "dx = dout @ W.T, no averaging (the loss already did that)", call)
        if not close(dx, dout @ W.T):
            fail("linear_backward's dx is not dout @ W.T", call)

        if dW.shape == (m, d) and d != m:
            fail("Your linear_backward's dW has the transpose of W's shape, (M, D) instead of "
                 "(D, M). A gradient has the shape of its variable: dW = x.T @ dout", call)
        check_shape(dW, (d, m), "linear_backward's dW", call)
        if d == m and close(dW, dout.T @ x):
            fail("Your linear_backward's dW = dout.T @ x is the transpose of the gradient (a "
                 "square W hides it in the shape). dW[i, j] pairs input i with output j: "
                 "dW = x.T @ dout", call)
        if close(dW, x.T @ dout / n):
            fail("Your linear_backward's dW is averaged over the batch. W is used by every "
                 "example, so its gradient is the SUM of the per-example gradients: x.T @ dout "
                 "(any 1/N belongs to the loss, which has already put it into dout)", call)
        if not close(dW, x.T @ dout):
            fail("linear_backward's dW is not x.T @ dout", call)

        if db.shape == (n, m):
            fail("Your linear_backward's db has one row per example (shape (N, M)). b is shared "
                 "by the whole batch: sum dout over the examples (axis=0), shape (M,)", call)
        if db.shape == (n,):
            fail("Your linear_backward's db has shape (N,): you summed over the outputs "
                 "(axis=1). Sum over the examples, axis=0, to get one value per output unit", call)
        if db.shape == (1, m):
            fail("Your linear_backward's db has shape (1, M): sum over axis=0 without "
                 "keepdims, so that db has the shape of b, (M,)", call)
        check_shape(db, (m,), "linear_backward's db", call)
        if close(db, dout.mean(axis=0)):
            fail("Your linear_backward's db is averaged over the batch; like dW it is the SUM "
                 "over the examples, dout.sum(axis=0)", call)
        if not close(db, dout.sum(axis=0)):
            fail("linear_backward's db is not dout summed over the batch", call)
    passed("linear_backward")


# ------------------------------------------------------------ numerical gradient

_X_NUM = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]])


def _numgrad_inputs(seed):
    """(a, b, x, hs): f(x) = a sum(x**3) + b sum(x) at x, with the two step sizes of the check."""
    if seed is None:
        return 1.0, 2.0, _X_NUM, (1e-3, 1e-2)
    g = np.random.default_rng(seed)
    a, b = float(g.choice([0.5, 1.5, 2.0, 3.0])), float(g.choice([-2.0, 1.0, 3.0]))
    x = np.round(g.uniform(-2.0, 2.0, (int(g.integers(2, 5)), int(g.integers(2, 5)))), 1)
    x[x == 0] = 0.3
    hs = tuple(float(h) for h in g.choice([2e-3, 5e-3, 1e-2, 2e-2], size=2, replace=False))
    return a, b, x, hs


def _f_text(a, b):
    if (a, b) == (1.0, 2.0):
        return "f = lambda x: np.sum(x ** 3) + 2 * np.sum(x)"
    return f"f = lambda x: {a!r} * np.sum(x ** 3) + {b!r} * np.sum(x)"


def _differences(f, x, h, kind):
    """Finite-difference gradient of f at x of the given kind (reference and mistakes)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        if kind == "centred":
            grad[i] = (f(x + e) - f(x - e)) / (2 * h)
        elif kind == "forward":
            grad[i] = (f(x + e) - f(x)) / h
        elif kind == "backward":
            grad[i] = (f(x) - f(x - e)) / h
        elif kind == "denominator h":
            grad[i] = (f(x + e) - f(x - e)) / h
        elif kind == "second at x":
            grad[i] = (f(x + e) - f(x)) / (2 * h)
    return grad


def _rows_perturbed(f, x, h):
    grad = np.zeros_like(x)
    for r in range(len(x)):
        e = np.zeros_like(x)
        e[r] = h
        grad[r] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


@check()
def check_numerical_gradient(numerical_gradient, *, seed=None):
    """Check ``numerical_gradient(f, x, h=1e-5)``: the centred difference
    (f(x + h e_i) - f(x - h e_i)) / 2h for every element i of x (any shape), with x restored
    (a drift of a few rounding errors from adding and subtracting h is accepted).

    Diagnoses: forward or backward differences; the denominator h instead of 2h; the second
    evaluation at x instead of x - h (after x[i] += h, subtracting h once); x left perturbed
    (h not restored); whole rows perturbed at once (a loop over len(x) on a 2-D x); f not
    seeing the perturbation (all zeros); the shape of x not kept; h ignored; a default h
    that is not 1e-5.
    """
    a, b, x0, hs = _numgrad_inputs(seed)

    def f(x):
        return float(a * np.sum(x ** 3) + b * np.sum(x))

    setup = f"{_f_text(a, b)}; x = {fmt_array(x0)}"
    exact = 3 * a * x0 ** 2 + b
    for h in hs:
        call = Call(f"numerical_gradient(f, x, h={h:g})", setup)
        x = x0.copy()
        got = as_array(numerical_gradient(f, x, h=h), "numerical_gradient's result", call)
        if not np.allclose(x, x0, rtol=1e-12, atol=1e-12):
            off = x - x0
            detail = ""
            if np.allclose(np.abs(off[np.abs(off) > 1e-12]), h):
                detail = " (some elements are off by h: it was added or subtracted and not undone)"
            fail(f"numerical_gradient left x changed{detail}. After evaluating f at x[i] + h and "
                 f"x[i] - h, restore x[i] to its old value before moving on; the caller's x must "
                 f"be unchanged", call)
        check_shape(got, x0.shape, "numerical_gradient's result", call)
        if np.allclose(got, 0.0):
            fail("numerical_gradient returned zeros: f never saw the perturbed values. Perturb "
                 "the array that you pass to f (x itself, or a copy that you then pass)", call)
        if close(got, _differences(f, x0, h, "centred")):
            continue
        hints = {
            "forward": "that is the forward difference (f(x + h) - f(x)) / h, with an O(h) "
                       "error. Use the centred difference (f(x + h) - f(x - h)) / 2h, whose "
                       "error is O(h**2)",
            "backward": "that is the backward difference (f(x) - f(x - h)) / h, with an O(h) "
                        "error. Use the centred difference (f(x + h) - f(x - h)) / 2h",
            "denominator h": "your values are twice the derivative: the two evaluations are "
                             "2h apart, so divide by 2 * h, not h",
            "second at x": "your second evaluation is at x, not at x - h: after x[i] += h, "
                           "subtracting h once only brings x[i] back; subtract 2 * h (or "
                           "set x[i] = old - h)",
        }
        for kind, text in hints.items():
            if close(got, _differences(f, x0, h, kind)):
                fail(f"Your numerical_gradient is wrong: {text}", call)
        if close(got, exact, rtol=1e-8):
            fail("Your numerical_gradient's result does not depend on h. Use the h you are "
                 "given (the check passes a large h on purpose)", call)
        if close(got, _rows_perturbed(f, x0, h)):
            fail("Your numerical_gradient perturbs a whole ROW at once (x[i] with one index on "
                 "a 2-D array). Visit every element: for i in np.ndindex(x.shape)", call)
        fail("numerical_gradient's result is not the centred difference "
             "(f(x + h e_i) - f(x - h e_i)) / 2h of each element", call)

    call = Call("numerical_gradient(f, x)", setup)
    got = as_array(numerical_gradient(f, x0.copy()), "numerical_gradient's result", call)
    check_shape(got, x0.shape, "numerical_gradient's result", call)
    err = np.max(np.abs(got - exact) / np.maximum(np.abs(got) + np.abs(exact), 1e-12))
    if err > 1e-7:
        fail(f"With the default h your numerical_gradient's relative error against the exact "
             f"derivative is {err:.1e}; with centred differences and h = 1e-5 it should be far "
             f"below 1e-7. Is the default h = 1e-5?", call)
    passed("numerical_gradient")


# -------------------------------------------------------------- relative error

_A_REL = np.array([1.0, -0.004, 0.5, 2.0, 0.06])
_B_REL = np.array([1.5, -0.002, 0.5, 1.8, 0.1])
_Z_REL = np.array([0.0, 0.5, -1.0])
_A2_REL = np.array([[1.0, 2.0, -3.0], [0.5, 0.1, 4.0]])
_B2_REL = np.array([[1.0, 2.2, -3.0], [0.5, 0.1, 3.0]])


def _rel(a, b, tiny=1e-12):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def _rel_candidates(a, b):
    """(value, hint) for the diagnosed mistakes."""
    d, s = np.abs(a - b), np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [
            (np.mean(d / s), "you averaged over the elements; take the MAX, so that one bad "
                             "element is enough to fail the check"),
            (np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)),
             "you compared the norms of the whole arrays; compute the relative error of each "
             "element, then take the max"),
            (d.max() / s.max(), "you divided the largest difference by the largest |a| + |b|; "
                                "divide element by element, then take the max"),
            (np.max(d / np.maximum(np.abs(a), np.abs(b))),
             "you divided by max(|a|, |b|); the course's relative error divides by |a| + |b|"),
            (np.max((a - b) / s), "the numerator needs an abs: |a - b|"),
            (np.max(d / (a + b)), "the denominator needs abs values: |a| + |b|, not a + b "
                                  "(negative entries make it negative)"),
            (np.max(d / np.abs(a)), "you divided by |a| only: that is not symmetric in a and b, "
                                    "and it is infinite where a = 0. Divide by |a| + |b|"),
            (np.max(d / np.abs(b)), "you divided by |b| only: that is not symmetric in a and b, "
                                    "and it is infinite where b = 0. Divide by |a| + |b|"),
        ]


def _rel_inputs(seed):
    """(a, b) on which every diagnosed mistake gives its own number (swapped too); z with a
    0 entry; a 2-D pair."""
    if seed is None:
        return _A_REL, _B_REL, _Z_REL, _A2_REL, _B2_REL
    g = np.random.default_rng(seed)
    for _ in range(100_000):
        n = int(g.integers(5, 9))
        a = np.round(g.normal(0.0, 1.0, n) * 10.0 ** g.integers(-2, 1, n), 3)
        b = np.round(a * g.uniform(0.4, 1.6, n), 3)
        same = int(g.integers(n))
        b[same] = a[same]                         # one entry without error
        if np.any(a == 0) or np.any(b == 0) or np.any(a + b == 0):
            continue
        # (as on the public pair, the largest error sits at a negative entry with |a| > |b|,
        # or a + b and a - b would leave the max unchanged)
        v = np.array([_rel(a, b)] + [value for value, _ in _rel_candidates(a, b)])
        if np.min(np.abs(v[:, None] - v[None, :]) / np.maximum(np.abs(v[:, None]), 1e-9)
                  + 9 * np.eye(len(v))) > 0.01:
            break
    else:
        raise RuntimeError(f"no inputs found for seed {seed}")
    z = g.permutation(np.r_[0.0, np.round(g.normal(0.0, 1.0, int(g.integers(2, 5))), 2)])
    shape = (int(g.integers(2, 4)), int(g.integers(3, 5)))
    a2 = np.round(g.normal(0.0, 2.0, shape), 1)
    a2[a2 == 0] = 0.7
    b2 = a2.copy()
    for i in g.choice(a2.size, size=2, replace=False):
        b2.flat[i] = np.round(a2.flat[i] * g.uniform(0.5, 0.9), 2)
    return a, b, z, a2, b2


def _call_rel(rel_error, a, b):
    call = Call(f"rel_error({fmt_array(a)}, {fmt_array(b)})")
    a_in, b_in = a.copy(), b.copy()
    value, _ = call_recording_fp_warnings(rel_error, a_in, b_in)
    if not (np.array_equal(a_in, a) and np.array_equal(b_in, b)):
        fail("rel_error modifies its inputs in place; compute new arrays", call)
    value = as_array(value, "rel_error's result", call)
    if value.size != 1:
        fail(f"rel_error returned an array of shape {value.shape}; return ONE number, the max "
             f"over all elements (np.max without an axis)", call)
    return float(value), call


@check()
def check_rel_error(rel_error, *, seed=None):
    """Check ``rel_error(a, b)`` = max over elements of |a - b| / max(|a| + |b|, 1e-12).

    Diagnoses: dividing by |a| (or |b|) only, which is not symmetric; max(|a|, |b|) instead
    of |a| + |b|; a missing abs in the numerator or denominator; the mean over elements
    instead of the max; norms of whole arrays; max|a - b| over max(|a| + |b|); no guard
    against 0 / 0 (nan when both are 0); a max over one axis only; inputs modified in place.
    """
    a, b, z, a2, b2 = _rel_inputs(seed)
    got, call = _call_rel(rel_error, a, b)
    if not close(got, _rel(a, b)):
        for value, text in _rel_candidates(a, b):
            if close(got, value):
                fail(f"Your rel_error is wrong: {text}", call)
        fail(f"rel_error returned {got:g}, which is not max |a - b| / max(|a| + |b|, 1e-12)", call)

    got, call = _call_rel(rel_error, b, a)
    if not close(got, _rel(b, a)):
        fail("Your rel_error gives another value when a and b are swapped. The relative error "
             "must be symmetric: abs values in numerator and denominator, |a| + |b| below", call)

    got, call = _call_rel(rel_error, z, z.copy())
    if not np.isfinite(got) or not close(got, 0.0):
        fail(f"rel_error returned {got} for two identical arrays, whose relative error is 0. "
             f"Where both entries are 0 you divide 0 by 0; guard the denominator with "
             f"np.maximum(|a| + |b|, 1e-12)", call)

    got, call = _call_rel(rel_error, a2, b2)
    if not close(got, _rel(a2, b2)):
        fail("rel_error is wrong on 2-D arrays: take the max over ALL elements", call)
    passed("rel_error")


# ------------------------------------------------------------ the worked example

def _worked_inputs(seed=None):
    if seed is None:
        s, n, d, h = 0, 5, 3, 4
    else:
        g = np.random.default_rng(seed)
        s, n, d = int(g.integers(1, 10_000)), int(g.integers(4, 10)), int(g.integers(2, 6))
        h = int(g.choice([v for v in range(3, 8) if v != d]))     # dW.T then has another shape
    rng = np.random.default_rng(s)
    X, W = rng.standard_normal((n, d)), rng.standard_normal((d, h))
    V, y = rng.standard_normal(h), rng.standard_normal(n)
    call = Call("sigmoid_net_grads(X, W, V, y)",
                f"rng = np.random.default_rng({s}); X = rng.standard_normal(({n}, {d})); "
                f"W = rng.standard_normal(({d}, {h})); V = rng.standard_normal({h}); "
                f"y = rng.standard_normal({n})")
    return X, W, V, y, call


def _worked(X, W, V, y, factor=2.0, mean=True, local="s(1-s)", use_V=True, sign=1.0, dV_from="S"):
    Z = X @ W
    S = _sigmoid(Z)
    r = S @ V - y
    n = len(X)
    g = sign * factor * r / (n if mean else 1)
    dV = (S if dV_from == "S" else Z).T @ g
    slope = {"s(1-s)": S * (1 - S), "s": S, "1": np.ones_like(S)}[local]
    dW = X.T @ (np.outer(g, V if use_V else np.ones_like(V)) * slope)
    return float(np.mean(r ** 2)), dW, dV


@check()
def check_sigmoid_net_grads(sigmoid_net_grads, *, seed=None):
    """Check ``sigmoid_net_grads(X, W, V, y) -> (loss, dW, dV)`` for the worked example,
    batched: yhat = sigmoid(X @ W) @ V, loss = mean over the N examples of (yhat - y)**2.

    Diagnoses: the loss summed instead of averaged; the factor 2 missing; the 1/N missing
    (gradients N times too large); the sign of (yhat - y) flipped; sigma(z) used as its own
    derivative, or the sigmoid's derivative left out; V missing from dW; dV built from the
    pre-activations X @ W instead of sigma(X @ W); dW transposed; dW alone off by N.
    """
    X, W, V, y, call = _worked_inputs(seed)
    n = len(X)
    loss, dW, dV = _arrays(sigmoid_net_grads(X.copy(), W.copy(), V.copy(), y.copy()),
                           ("loss", "dW", "dV"), "sigmoid_net_grads", call)
    if loss.size != 1:
        fail(f"sigmoid_net_grads's loss should be one number (the mean over the batch), got "
             f"shape {loss.shape}", call)
    loss = float(loss)
    ref_loss, ref_dW, ref_dV = _worked(X, W, V, y)
    if close(loss, n * ref_loss):
        fail("Your sigmoid_net_grads's loss is the SUM of the squared errors; take the mean "
             "over the N examples", call)
    if not close(loss, ref_loss):
        fail("sigmoid_net_grads's loss is not mean((sigmoid(X @ W) @ V - y) ** 2)", call)

    if dW.shape == W.shape[::-1]:
        fail("Your sigmoid_net_grads's dW has the transposed shape (H, D); a gradient has the "
             "shape of its variable, W is (D, H): dW = X.T @ dZ", call)
    check_shape(dW, W.shape, "sigmoid_net_grads's dW", call)
    check_shape(dV, V.shape, "sigmoid_net_grads's dV", call)

    both = [
        (dict(factor=1.0), "both gradients are half of what they should be: d(r**2)/dr = 2r, "
                           "the factor 2 is missing"),
        (dict(mean=False), "both gradients are N times too large: the loss is a MEAN over the N "
                           "examples, so dL/dyhat = 2 (yhat - y) / N"),
        (dict(sign=-1.0), "both gradients have the wrong sign: dL/dyhat = 2 (yhat - y) / N, "
                          "prediction minus target"),
    ]
    for kwargs, text in both:
        _, cand_dW, cand_dV = _worked(X, W, V, y, **kwargs)
        if close(dW, cand_dW) and close(dV, cand_dV):
            fail(f"In your sigmoid_net_grads {text}", call)

    if close(dV, _worked(X, W, V, y, dV_from="Z")[2]):
        fail("Your sigmoid_net_grads's dV uses the pre-activations X @ W; yhat = s @ V with "
             "s = sigmoid(X @ W), so dV = s.T @ dyhat", call)
    if not close(dV, ref_dV):
        fail("sigmoid_net_grads's dV is not sigmoid(X @ W).T @ dyhat with "
             "dyhat = 2 (yhat - y) / N", call)

    dW_hints = [
        (dict(local="s"), "dW uses sigma(z) as the sigmoid's derivative; the derivative is "
                          "sigma(z) (1 - sigma(z))"),
        (dict(local="1"), "dW is missing the sigmoid's derivative sigma(z) (1 - sigma(z)): the "
                          "gradient passes through the hidden sigmoid on its way to W"),
        (dict(use_V=False), "dW is missing V: hidden unit j reaches yhat through the weight V[j], "
                            "so dL/ds_j = dyhat * V[j]"),
    ]
    for kwargs, text in dW_hints:
        if close(dW, _worked(X, W, V, y, **kwargs)[1]):
            fail(f"Your sigmoid_net_grads's {text}", call)
    if close(dW, ref_dW / n) or close(dW, ref_dW * n):
        fail("Your sigmoid_net_grads's dV is right but dW is off by a factor N: use the same "
             "dyhat (with its 1/N) for both, and sum over the batch in X.T @ dZ", call)
    if not close(dW, ref_dW):
        fail("sigmoid_net_grads's dW is not X.T @ (outer(dyhat, V) * s * (1 - s))", call)
    passed("sigmoid_net_grads")


# -------------------------------------------------------------------- bug hunt

@check(hidden=False, why="grades the answer about the notebook's own chain of layers, which the "
                         "notebook passes in; the check recomputes which layer fails, so "
                         "there is no input of its own to vary")
def check_bug_hunt(buggy_layer, layers, x):
    """Check the answer of the bug hunt: ``buggy_layer`` names (or is) the one layer of
    ``layers`` (an ordered dict name -> layer, applied in that order to the input ``x``)
    whose backward pass is wrong. The check finds it by gradient-checking each layer alone
    on the input it receives in the chain, so no answer is stored here.

    Diagnoses: a layer that passes its gradient check named as the culprit; a name that is
    not one of the layers; several layers named; layers that were edited so none fails.
    """
    names = list(layers)
    if isinstance(buggy_layer, (list, tuple, set)):
        fail(f"buggy_layer should name exactly ONE layer, got {len(buggy_layer)}")
    answer = None
    if isinstance(buggy_layer, str):
        for name in names:
            if name.lower() == buggy_layer.strip().lower():
                answer = name
    else:
        for name, layer in layers.items():
            if buggy_layer is layer or buggy_layer is type(layer):
                answer = name
    if answer is None:
        fail(f"buggy_layer = {buggy_layer!r} is not one of the layers; answer with one of the "
             f"names {names}")

    errors, inp = {}, np.array(x, dtype=np.float64)
    for name, layer in layers.items():
        errors[name] = gradcheck(layer, inp).max_error
        inp = layer.forward(inp)
    wrong = [name for name, e in errors.items() if e > 1e-4]
    if not wrong:
        fail(f"None of the layers fails its gradient check any more, so buggy_layer = "
             f"{buggy_layer!r} cannot be judged. Did you fix the bug in the cell that defines "
             f"the layers? The question is which one WAS wrong: re-run that cell unchanged and "
             f"answer again")
    if answer not in wrong:
        fail(f"Your buggy_layer is {answer!r}, but cl.gradcheck passes for {answer!r} on the "
             f"input it receives in the chain (max relative error {errors[answer]:.1e}): its "
             f"backward pass is right. A wrong dx "
             f"corrupts every gradient UPSTREAM of the culprit, so a failing whole-model check "
             f"does not point at it: gradient-check every layer alone")
    passed("bug_hunt")
