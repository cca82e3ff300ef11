"""Checks for exercises/03_backpropagation.ipynb: the affine layer's backward pass, centred
numerical gradients, the relative error, the worked example's gradients, and a bug hunt."""
import numpy as np

from ..gradcheck import gradcheck
from ._common import as_array, check_shape, close, fail, fmt_array, passed
from ._fp import call_recording_fp_warnings


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _unpack(result, n, what, names):
    if not isinstance(result, (tuple, list)) or len(result) != n:
        fail(f"{what} should return a tuple ({', '.join(names)}), got "
             f"{type(result).__name__}" + (f" of length {len(result)}"
                                          if isinstance(result, (tuple, list)) else ""))
    return [as_array(r, f"{what}: {name}") for r, name in zip(result, names)]


# ------------------------------------------------------------- Linear backward

def _linear_inputs(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, W, dout = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    call = (f"rng = np.random.default_rng({seed}); x = rng.standard_normal(({n}, {d})); "
            f"W = rng.standard_normal(({d}, {m})); dout = rng.standard_normal(({n}, {m})); "
            f"linear_backward(dout, x, W)")
    return x, W, dout, call


def check_linear_backward(linear_backward):
    """Check ``linear_backward(dout, x, W) -> (dx, dW, db)`` for out = x @ W + b:
    dx = dout @ W.T, dW = x.T @ dout, db = dout summed over the batch.

    Diagnoses: W not transposed in dx (on a square W, where the shapes cannot tell);
    dW transposed (dout.T @ x); dW or dx averaged over the batch instead of summed; db not
    summed (shape (N, M)), summed over the wrong axis (shape (N,)), or averaged; inputs
    modified in place. A second call with N, D, M all different catches what the square
    case hides.
    """
    for n, d, m, seed in ((4, 3, 3, 0), (5, 3, 2, 1)):
        x, W, dout, call = _linear_inputs(n, d, m, seed)
        args = (dout.copy(), x.copy(), W.copy())
        dx, dW, db = _unpack(linear_backward(*args), 3, call, ("dx", "dW", "db"))
        if not all(np.array_equal(a, b) for a, b in zip(args, (dout, x, W))):
            fail(f"{call} changed one of its inputs in place")

        check_shape(dx, (n, d), f"{call}: dx")
        if d == m and close(dx, dout @ W):
            fail(f"{call}: dx = dout @ W is missing a transpose. Each input feature i reaches "
                 f"output j through W[i, j], so dx = dout @ W.T (shape (N, D), like x)")
        if close(dx, dout @ W.T / n):
            fail(f"{call}: dx is divided by N. Every example's dx is its own row: "
                 f"dx = dout @ W.T, no averaging (the loss already did that)")
        if not close(dx, dout @ W.T):
            fail(f"{call}: dx is not dout @ W.T")

        if dW.shape == (m, d) and d != m:
            fail(f"{call}: dW has shape {dW.shape}, the transpose of W's {W.shape}. A gradient "
                 f"has the shape of its variable: dW = x.T @ dout")
        check_shape(dW, (d, m), f"{call}: dW")
        if d == m and close(dW, dout.T @ x):
            fail(f"{call}: dW = dout.T @ x is the transpose of the gradient (the square W hides "
                 f"it in the shape). dW[i, j] pairs input i with output j: dW = x.T @ dout")
        if close(dW, x.T @ dout / n):
            fail(f"{call}: dW is averaged over the batch. W is used by every example, so its "
                 f"gradient is the SUM of the per-example gradients: x.T @ dout (any 1/N "
                 f"belongs to the loss, which has already put it into dout)")
        if not close(dW, x.T @ dout):
            fail(f"{call}: dW is not x.T @ dout")

        if db.shape == (n, m):
            fail(f"{call}: db has shape {db.shape}, one row per example. b is shared by the "
                 f"whole batch: sum dout over the examples (axis=0), shape ({m},)")
        if db.shape == (n,):
            fail(f"{call}: db has shape ({n},): you summed over the outputs (axis=1). Sum over "
                 f"the examples, axis=0, to get one value per output unit")
        check_shape(db, (m,), f"{call}: db")
        if close(db, dout.mean(axis=0)):
            fail(f"{call}: db is averaged over the batch; like dW it is the SUM over the "
                 f"examples, dout.sum(axis=0)")
        if not close(db, dout.sum(axis=0)):
            fail(f"{call}: db is not dout summed over the batch")
    passed("linear_backward")


# ------------------------------------------------------------ numerical gradient

def _f_cubic(x):
    return float(np.sum(x ** 3) + 2.0 * np.sum(x))


_F_TEXT = "f = lambda x: np.sum(x ** 3) + 2 * np.sum(x)"
_X_NUM = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]])


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


def check_numerical_gradient(numerical_gradient):
    """Check ``numerical_gradient(f, x, h=1e-5)``: the centred difference
    (f(x + h e_i) - f(x - h e_i)) / 2h for every element i of x (any shape), with x restored.

    Diagnoses: forward or backward differences; the denominator h instead of 2h; the second
    evaluation at x instead of x - h (after x[i] += h, subtracting h once); x left perturbed
    (h not restored); whole rows perturbed at once (a loop over len(x) on a 2-D x); f not
    seeing the perturbation (all zeros); the shape of x not kept; h ignored.
    """
    x0 = _X_NUM
    for h in (1e-3, 1e-2):
        call = f"{_F_TEXT}; x = {fmt_array(x0)}; numerical_gradient(f, x, h={h:g})"
        x = x0.copy()
        got = as_array(numerical_gradient(_f_cubic, x, h=h), call)
        if not np.array_equal(x, x0):
            off = x - x0
            detail = ""
            if np.allclose(np.abs(off[off != 0]), h):
                detail = f" (some elements are off by {h:g}: h was added or subtracted and not undone)"
            fail(f"{call} left x changed{detail}. After evaluating f at x[i] + h and x[i] - h, "
                 f"restore x[i] to its old value before moving on; the caller's x must be "
                 f"unchanged")
        check_shape(got, x0.shape, call)
        if np.allclose(got, 0.0):
            fail(f"{call} returned zeros: f never saw the perturbed values. Perturb the array "
                 f"that you pass to f (x itself, or a copy that you then pass)")
        ref = _differences(_f_cubic, x0, h, "centred")
        if close(got, ref):
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
        for kind, hint in hints.items():
            if close(got, _differences(_f_cubic, x0, h, kind)):
                fail(f"{call}: {hint}")
        if close(got, 3 * x0 ** 2 + 2, rtol=1e-8):
            fail(f"{call}: your result does not depend on h. Use the h you are given (the "
                 f"check passes h={h:g} on purpose)")
        if close(got, _rows_perturbed(_f_cubic, x0, h)):
            fail(f"{call}: you perturbed a whole ROW at once (x[i] with one index on a 2-D "
                 f"array). Visit every element: for i in np.ndindex(x.shape)")
        fail(f"{call} is not the centred difference (f(x + h e_i) - f(x - h e_i)) / 2h of each "
             f"element")

    call = f"{_F_TEXT}; x = {fmt_array(x0)}; numerical_gradient(f, x)"
    got = as_array(numerical_gradient(_f_cubic, x0.copy()), call)
    check_shape(got, x0.shape, call)
    exact = 3 * x0 ** 2 + 2
    err = np.max(np.abs(got - exact) / np.maximum(np.abs(got) + np.abs(exact), 1e-12))
    if err > 1e-7:
        fail(f"{call}: with the default h the relative error against the exact derivative is "
             f"{err:.1e}; with centred differences and h = 1e-5 it should be far below 1e-7. "
             f"Is the default h = 1e-5?")
    passed("numerical_gradient")


# -------------------------------------------------------------- relative error

_A_REL = np.array([1.0, -0.004, 0.5, 2.0, 0.06])
_B_REL = np.array([1.5, -0.002, 0.5, 1.8, 0.1])


def _rel(a, b, tiny=1e-12):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def _call_rel(rel_error, a, b):
    a_in, b_in = a.copy(), b.copy()
    value, _ = call_recording_fp_warnings(rel_error, a_in, b_in)
    call = f"rel_error({fmt_array(a)}, {fmt_array(b)})"
    if not (np.array_equal(a_in, a) and np.array_equal(b_in, b)):
        fail(f"{call} changed its inputs in place")
    value = as_array(value, call)
    if value.size != 1:
        fail(f"{call} returned an array of shape {value.shape}; return ONE number, the max over "
             f"all elements (np.max without an axis)")
    return float(value), call


def check_rel_error(rel_error):
    """Check ``rel_error(a, b)`` = max over elements of |a - b| / max(|a| + |b|, 1e-12).

    Diagnoses: dividing by |a| (or |b|) only, which is not symmetric; max(|a|, |b|) instead
    of |a| + |b|; a missing abs in the numerator or denominator; the mean over elements
    instead of the max; norms of whole arrays; max|a - b| over max(|a| + |b|); no guard
    against 0 / 0 (nan when both are 0); a max over one axis only.
    """
    a, b = _A_REL, _B_REL
    got, call = _call_rel(rel_error, a, b)
    d, s = np.abs(a - b), np.abs(a) + np.abs(b)
    if not close(got, _rel(a, b)):
        candidates = [
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
        for value, hint in candidates:
            if close(got, value):
                fail(f"{call}: {hint}")
        fail(f"{call} returned {got:g}, which is not max |a - b| / max(|a| + |b|, 1e-12)")

    got, call = _call_rel(rel_error, b, a)
    if not close(got, _rel(b, a)):
        fail(f"{call} differs from rel_error(a, b) with the arguments swapped. The relative "
             f"error must be symmetric: abs values in numerator and denominator, |a| + |b| "
             f"below")

    z = np.array([0.0, 0.5, -1.0])
    got, call = _call_rel(rel_error, z, z.copy())
    if not np.isfinite(got) or not close(got, 0.0):
        fail(f"{call} returned {got}: two identical arrays have relative error 0. Where both "
             f"entries are 0 you divide 0 by 0; guard the denominator with "
             f"np.maximum(|a| + |b|, 1e-12)")

    a2 = np.array([[1.0, 2.0, -3.0], [0.5, 0.1, 4.0]])
    b2 = np.array([[1.0, 2.2, -3.0], [0.5, 0.1, 3.0]])
    got, call = _call_rel(rel_error, a2, b2)
    if not close(got, _rel(a2, b2)):
        fail(f"{call}: on 2-D arrays, take the max over ALL elements")
    passed("rel_error")


# ------------------------------------------------------------ the worked example

def _worked_inputs(seed=0, n=5, d=3, h=4):
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((n, d)), rng.standard_normal((d, h))
    V, y = rng.standard_normal(h), rng.standard_normal(n)
    call = (f"rng = np.random.default_rng({seed}); X = rng.standard_normal(({n}, {d})); "
            f"W = rng.standard_normal(({d}, {h})); V = rng.standard_normal({h}); "
            f"y = rng.standard_normal({n}); sigmoid_net_grads(X, W, V, y)")
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


def check_sigmoid_net_grads(sigmoid_net_grads):
    """Check ``sigmoid_net_grads(X, W, V, y) -> (loss, dW, dV)`` for the worked example,
    batched: yhat = sigmoid(X @ W) @ V, loss = mean over the N examples of (yhat - y)**2.

    Diagnoses: the loss summed instead of averaged; the factor 2 missing; the 1/N missing
    (gradients N times too large); the sign of (yhat - y) flipped; sigma(z) used as its own
    derivative, or the sigmoid's derivative left out; V missing from dW; dV built from the
    pre-activations X @ W instead of sigma(X @ W); dW transposed.
    """
    X, W, V, y, call = _worked_inputs()
    n, d = X.shape
    h = W.shape[1]
    loss, dW, dV = _unpack(sigmoid_net_grads(X.copy(), W.copy(), V.copy(), y.copy()), 3, call,
                           ("loss", "dW", "dV"))
    if loss.size != 1:
        fail(f"{call}: the loss should be one number (the mean over the batch), got shape "
             f"{loss.shape}")
    loss = float(loss)
    ref_loss, ref_dW, ref_dV = _worked(X, W, V, y)
    if close(loss, n * ref_loss):
        fail(f"{call}: your loss is the SUM of the squared errors; take the mean over the N "
             f"examples")
    if not close(loss, ref_loss):
        fail(f"{call}: the loss is not mean((sigmoid(X @ W) @ V - y) ** 2)")

    if dW.shape == (h, d):
        fail(f"{call}: dW has shape {dW.shape}; a gradient has the shape of its variable, W "
             f"is {W.shape}: dW = X.T @ dZ")
    check_shape(dW, W.shape, f"{call}: dW")
    check_shape(dV, V.shape, f"{call}: dV")

    both = [
        (dict(factor=1.0), "both gradients are half of what they should be: d(r**2)/dr = 2r, "
                           "the factor 2 is missing"),
        (dict(mean=False), "both gradients are N times too large: the loss is a MEAN over the N "
                           "examples, so dL/dyhat = 2 (yhat - y) / N"),
        (dict(sign=-1.0), "both gradients have the wrong sign: dL/dyhat = 2 (yhat - y) / N, "
                          "prediction minus target"),
    ]
    for kwargs, hint in both:
        _, cand_dW, cand_dV = _worked(X, W, V, y, **kwargs)
        if close(dW, cand_dW) and close(dV, cand_dV):
            fail(f"{call}: {hint}")

    if close(dV, _worked(X, W, V, y, dV_from="Z")[2]):
        fail(f"{call}: dV uses the pre-activations X @ W; yhat = s @ V with s = sigmoid(X @ W), "
             f"so dV = s.T @ dyhat")
    if not close(dV, ref_dV):
        fail(f"{call}: dV is not sigmoid(X @ W).T @ dyhat with dyhat = 2 (yhat - y) / N")

    dW_hints = [
        (dict(local="s"), "dW uses sigma(z) as the sigmoid's derivative; the derivative is "
                          "sigma(z) (1 - sigma(z))"),
        (dict(local="1"), "dW is missing the sigmoid's derivative sigma(z) (1 - sigma(z)): the "
                          "gradient passes through the hidden sigmoid on its way to W"),
        (dict(use_V=False), "dW is missing V: hidden unit j reaches yhat through the weight V[j], "
                            "so dL/ds_j = dyhat * V[j]"),
    ]
    for kwargs, hint in dW_hints:
        if close(dW, _worked(X, W, V, y, **kwargs)[1]):
            fail(f"{call}: {hint}")
    if close(dW, ref_dW / n) or close(dW, ref_dW * n):
        fail(f"{call}: dV is right but dW is off by a factor N: use the same dyhat (with its "
             f"1/N) for both, and sum over the batch in X.T @ dZ")
    if not close(dW, ref_dW):
        fail(f"{call}: dW is not X.T @ (outer(dyhat, V) * s * (1 - s))")
    passed("sigmoid_net_grads")


# -------------------------------------------------------------------- bug hunt

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
        fail("none of the layers fails its gradient check any more. Did you fix the bug in the "
             "cell that defines the layers? The question is which one WAS wrong: re-run that "
             "cell unchanged and answer again")
    if answer not in wrong:
        fail(f"cl.gradcheck passes for {answer!r} on the input it receives in the chain (max "
             f"relative error {errors[answer]:.1e}): its backward pass is right. A wrong dx corrupts "
             f"every gradient UPSTREAM of the culprit, so a failing whole-model check does not "
             f"point at it: gradient-check every layer alone")
    passed("bug_hunt")
