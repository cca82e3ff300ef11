"""Checks for exercises/07_regularization.ipynb: the L2 and L1 penalties with their
(sub)gradients over a list of parameters, the max-norm projection, early stopping with
patience, label-smoothed targets, and a prediction of the variance of an average.

Every check of a function has a hidden variant: with ``seed=<int>`` it draws other
parameter lists (other shapes and orders, BatchNorm's 1-D gamma and beta among them) and
strengths, other weight matrices and radii, other validation curves and patiences, other
labels, class counts and alphas. The prediction check has none: its number is the answer
about one stated scenario."""
import functools
import math

import numpy as np

from ..module import Parameter
from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed
from ._fp import call_recording_fp_warnings


# ------------------------------------------------------------------- penalties

# two weight matrices and two bias vectors; the zeros make sign(0) visible for L1
_ARRAYS_A = (np.array([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.5]]), np.array([1.0, -2.0]),
             np.array([[0.0], [-3.0]]), np.array([0.5]))
_ARRAYS_B = (np.array([[0.2, -0.4, 0.0], [1.2, 0.7, -0.9]]), np.array([0.3, -0.6, 2.0]),
             np.array([[-1.1, 0.4], [0.0, 0.8], [0.6, -0.2]]), np.array([-1.5, 0.25]))
_CASES = ((_ARRAYS_A, 0.1), (_ARRAYS_B, 0.03))


def _is_weight(a):
    return a.ndim >= 2


def _names(arrays):
    """The names a model gives its arrays: W and b for a Linear layer, gamma and beta for the
    two 1-D arrays that follow a bias (a BatchNorm layer)."""
    names = []
    for a in arrays:
        if _is_weight(a):
            names.append("W")
        else:
            names.append({"b": "gamma", "gamma": "beta"}.get(names[-1] if names else "", "b"))
    return names


def penalty_cases(seed=None):
    """The (arrays, lam) pairs of the penalty checks. Hidden: the parameters of small models,
    Linear layers with or without a BatchNorm (1-D gamma and beta) in between, with some
    weights exactly 0."""
    if seed is None:
        return _CASES
    g = np.random.default_rng(seed)
    cases = []
    for case in range(2):
        widths = [int(w) for w in g.integers(2, 6, size=int(g.integers(3, 5)))]
        with_bn = int(g.integers(len(widths) - 2))        # the first model surely has a BatchNorm
        arrays = []
        for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            W = np.round(g.normal(0.0, 1.0, (fan_in, fan_out)), 2)
            W.flat[int(g.integers(W.size))] = 0.0
            arrays += [W, np.round(g.normal(0.0, 1.0, fan_out), 2)]
            if k < len(widths) - 2 and (g.random() < 0.5 or (case == 0 and k == with_bn)):
                arrays += [np.round(g.uniform(0.5, 1.5, fan_out), 2), np.round(g.normal(0.0, 0.5, fan_out), 2)]
        cases.append((tuple(arrays), float(g.choice([0.005, 0.01, 0.05, 0.2, 0.3]))))
    return tuple(cases)


def _params_text(arrays):
    return "[" + ", ".join(f"cl.Parameter({fmt_array(a)}, name={n!r})"
                           for a, n in zip(arrays, _names(arrays))) + "]"


def _call_penalty(fn, name, arrays, lam):
    """Call fn(params, lam) on fresh Parameters; return (value, grads, call)."""
    params = [Parameter(a, name=n) for a, n in zip(arrays, _names(arrays))]
    call = Call(f"{name}(params, lam={lam:g})", f"params = {_params_text(arrays)}")
    result, _ = call_recording_fp_warnings(fn, params, lam)   # nan from 0 / 0 shows in the values
    if any(not np.array_equal(p.data, a) for p, a in zip(params, arrays)):
        fail(f"{name} changed the parameters' data; a penalty only reads the weights", call)
    if any(np.any(p.grad != 0) for p in params):
        fail(f"{name} wrote into p.grad. Return the gradients as a list instead (the training "
             f"loop adds them; cl.L2.add_grad is the library's version that writes into p.grad)", call)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{name} should return a tuple (value, grads), got {type(result).__name__}", call)
    value, grads = result
    value = as_array(value, f"{name}'s value", call)
    if value.size != 1:
        fail(f"The value that {name} returned should be one number (the penalty added to the "
             f"loss), got an array of shape {value.shape}", call)
    if not isinstance(grads, (list, tuple)):
        fail(f"The grads that {name} returned should be a list with one array per parameter, got "
             f"{type(grads).__name__}", call)
    if len(grads) != len(params):
        fail(f"The grads that {name} returned have {len(grads)} entries for {len(params)} "
             f"parameters. Return one gradient per parameter, in the same order, with zeros for "
             f"the biases", call)
    out = []
    for i, (g, a) in enumerate(zip(grads, arrays)):
        g = as_array(g, f"{name}'s grads[{i}]", call)
        check_shape(g, a.shape, f"{name}'s grads[{i}]", call)
        out.append(g)
    return float(value), out, call


def _split(arrays):
    weights = [a for a in arrays if _is_weight(a)]
    biases = [a for a in arrays if not _is_weight(a)]
    return weights, biases


_BY_POSITION = ("picks the weights by their position (every other parameter). A model with a "
                "BatchNorm layer has the 1-D gamma and beta between its weight matrices: pick the "
                "weights by their shape, p.data.ndim >= 2")


def _even(arrays, f):
    """The sum of f over the arrays at even positions: a penalty that finds weights by position."""
    return sum(float(f(a)) for a in arrays[0::2])


def _check_bias_grads(grads, arrays, lam, name, call, penalty):
    for i, (g, a) in enumerate(zip(grads, arrays)):
        if _is_weight(a) or np.all(g == 0):
            continue
        if close(g, lam * a) or close(g, 2 * lam * a) or close(g, lam * np.sign(a)):
            fail(f"The grads[{i}] that {name} returned belongs to a bias and is not zero (a 1-D "
                 f"parameter: a bias, or BatchNorm's gamma and beta). Penalize only the weights "
                 f"(arrays with 2 or more axes): a bias shifts a unit's output and does not make "
                 f"the function more complex, so it gets no {penalty} gradient", call)
        fail(f"The grads[{i}] that {name} returned belongs to a bias (a 1-D array); its penalty "
             f"gradient must be all zeros", call)


@check()
def check_l2_penalty(l2_penalty, *, seed=None):
    """Check ``l2_penalty(params, lam) -> (value, grads)``: value = (lam / 2) * sum of w**2
    over the weights (parameters with 2 or more axes), grads = [lam * w for a weight, zeros
    for a bias], on two fixed lists of Parameters (with a ``seed``: the parameters of other
    small models, BatchNorm's 1-D gamma and beta among them, and other lam).

    Diagnoses: the biases penalized (in the value or in the gradient); the weights picked by
    position (every other parameter) instead of by shape; the 1/2 missing (value
    lam * ||w||**2 or gradient 2 lam w); the norm instead of the squared norm (per parameter
    or over all weights, with or without 1/2); a mean instead of a sum; the gradient with the
    wrong sign, of the norm (lam w / ||w||), or of L1 (lam sign(w)); writing into p.grad or
    changing the data; a wrong number or shape of gradients.
    """
    name = "l2_penalty"
    for arrays, lam in penalty_cases(seed):
        value, grads, call = _call_penalty(l2_penalty, name, arrays, lam)
        weights, biases = _split(arrays)
        wsq = sum(float(np.sum(w * w)) for w in weights)
        bsq = sum(float(np.sum(b * b)) for b in biases)
        norms = [float(np.linalg.norm(w)) for w in weights]
        if not close(value, 0.5 * lam * wsq):
            if close(value, 0.5 * lam * (wsq + bsq)) or close(value, lam * (wsq + bsq)):
                fail(f"The value that {name} returned includes the biases. Penalize only the "
                     f"weights (parameters with 2 or more axes); a bias does not make the "
                     f"function more complex", call)
            if close(value, lam * wsq):
                fail(f"The value that {name} returned is lam * sum(w**2); the course's L2 penalty "
                     f"is (lam / 2) * sum(w**2), so that its gradient is simply lam * w", call)
            if any(close(value, f * x) for f in (0.5 * lam, lam)
                   for x in (sum(norms), math.sqrt(wsq))):
                fail(f"{name} used the norm ||w||; the L2 penalty uses the SQUARED norm, the "
                     f"plain sum of the squared weights (no square root)", call)
            if any(close(value, f * m) for f in (0.5 * lam, lam)
                   for m in (sum(float(np.mean(w * w)) for w in weights),
                             wsq / sum(w.size for w in weights))):
                fail(f"{name} averaged the squared weights; the penalty SUMS them", call)
            if any(not _is_weight(a) for a in arrays[0::2]) and close(
                    value, 0.5 * lam * _even(arrays, lambda a: np.sum(a * a))):
                fail(f"{name} {_BY_POSITION}", call)
            fail(f"{name} returned the value {value:g}, which is not (lam / 2) * the sum of the "
                 f"squared weights", call)
        _check_bias_grads(grads, arrays, lam, name, call, "L2")
        for i, (g, w) in enumerate(zip(grads, arrays)):
            if not _is_weight(w) or close(g, lam * w):
                continue
            if close(g, 2 * lam * w):
                fail(f"The grads[{i}] that {name} returned is 2 * lam * w. The derivative of "
                     f"(lam / 2) w**2 is lam * w: the 1/2 in the penalty is there to cancel the 2", call)
            if close(g, -lam * w):
                fail(f"The grads[{i}] that {name} returned has the wrong sign. The penalty grows "
                     f"with |w|, so its gradient points away from 0: +lam * w (the update then "
                     f"subtracts it)", call)
            if close(g, lam * w / np.linalg.norm(w)) or close(g, 0.5 * lam * w / np.linalg.norm(w)):
                fail(f"The grads[{i}] that {name} returned is the gradient of the norm ||w||, not "
                     f"of the squared norm (lam / 2) ||w||**2", call)
            if close(g, lam * np.sign(w)):
                fail(f"The grads[{i}] that {name} returned is lam * sign(w), the L1 subgradient; "
                     f"the L2 gradient is proportional to w itself", call)
            fail(f"The grads[{i}] that {name} returned is not lam * w", call)
    passed("l2_penalty")


@check()
def check_l1_penalty(l1_penalty, *, seed=None):
    """Check ``l1_penalty(params, lam) -> (value, grads)``: value = lam * sum of |w| over the
    weights, grads = [lam * sign(w) for a weight, with 0 where w == 0; zeros for a bias], on
    two fixed lists of Parameters that contain weights equal to 0 (with a ``seed``: other
    lists, as in check_l2_penalty).

    Diagnoses: the biases penalized; the weights picked by position; |w| used as the gradient; sign(0) taken as +1 or -1, or
    nan from w / |w|; the L2 gradient lam * w; the wrong sign; a 1/2 in the value; squared
    weights in the value; a mean instead of a sum; writing into p.grad.
    """
    name = "l1_penalty"
    for arrays, lam in penalty_cases(seed):
        value, grads, call = _call_penalty(l1_penalty, name, arrays, lam)
        weights, biases = _split(arrays)
        wabs = sum(float(np.sum(np.abs(w))) for w in weights)
        babs = sum(float(np.sum(np.abs(b))) for b in biases)
        wsq = sum(float(np.sum(w * w)) for w in weights)
        if not close(value, lam * wabs):
            if close(value, lam * (wabs + babs)):
                fail(f"The value that {name} returned includes the biases. Penalize only the "
                     f"weights (parameters with 2 or more axes)", call)
            if close(value, 0.5 * lam * wabs):
                fail(f"The value that {name} returned has a 1/2; the L1 penalty has no 1/2: it "
                     f"is lam * sum(|w|)", call)
            if close(value, lam * wsq) or close(value, 0.5 * lam * wsq):
                fail(f"{name} squared the weights (that is L2); L1 sums their absolute values "
                     f"|w|", call)
            if close(value, lam * wabs / sum(w.size for w in weights)) or close(
                    value, lam * sum(float(np.mean(np.abs(w))) for w in weights)):
                fail(f"{name} averaged |w|; the penalty SUMS the absolute values", call)
            if any(not _is_weight(a) for a in arrays[0::2]) and close(
                    value, lam * _even(arrays, lambda a: np.sum(np.abs(a)))):
                fail(f"{name} {_BY_POSITION}", call)
            fail(f"{name} returned the value {value:g}, which is not lam * the sum of |w| over "
                 f"the weights", call)
        _check_bias_grads(grads, arrays, lam, name, call, "L1")
        for i, (g, w) in enumerate(zip(grads, arrays)):
            ref = lam * np.sign(w)
            if not _is_weight(w) or close(g, ref):
                continue
            zero = w == 0
            if not np.all(np.isfinite(g)):
                fail(f"The grads[{i}] that {name} returned contains nan or inf where w == 0. "
                     f"w / |w| divides by zero there; np.sign(w) gives the subgradient 0 at "
                     f"w == 0", call)
            if close(g, lam * np.abs(w)):
                fail(f"The grads[{i}] that {name} returned is lam * |w|, the penalty itself, not "
                     f"its slope. The slope of |w| is +1 for w > 0 and -1 for w < 0: "
                     f"lam * sign(w)", call)
            if close(g[~zero], ref[~zero]) and not close(g[zero], 0.0):
                fail(f"The grads[{i}] that {name} returned is right except where w == 0. |w| has "
                     f"a kink there and the course uses the subgradient 0 (np.sign(0) is 0); "
                     f"np.where(w >= 0, 1, -1) or similar gives +-lam instead", call)
            if close(g, lam * w):
                fail(f"The grads[{i}] that {name} returned is lam * w, the L2 gradient; L1 pulls "
                     f"with the same force lam whatever the size of w: lam * sign(w)", call)
            if close(g, -ref):
                fail(f"The grads[{i}] that {name} returned has the wrong sign; the penalty grows "
                     f"with |w|, so its gradient is +lam * sign(w)", call)
            fail(f"The grads[{i}] that {name} returned is not lam * sign(w)", call)
    passed("l1_penalty")


# ------------------------------------------------------------------- max-norm

_W_MAXNORM = np.array([[0.6, 3.0, 0.0, 6.0],     # column norms 1, 5, 2.5, 10
                       [0.8, 0.0, 1.5, 8.0],
                       [0.0, 4.0, 2.0, 0.0]])


def _maxnorm_cases(seed=None):
    """(W, c, setup) triples: a radius that some columns exceed (twice), one that none does."""
    if seed is None:
        g = np.random.default_rng(7)
        W2 = g.standard_normal((5, 6)) * np.array([0.2, 0.5, 0.8, 1.0, 1.4, 2.0])
        return ((_W_MAXNORM, 3.0, "W = " + fmt_array(_W_MAXNORM)),
                (W2, 1.5, "W = np.random.default_rng(7).standard_normal((5, 6)) * "
                          "np.array([0.2, 0.5, 0.8, 1.0, 1.4, 2.0])"),
                (_W_MAXNORM, 20.0, "W = " + fmt_array(_W_MAXNORM)))
    g = np.random.default_rng(seed)
    cases = []
    for _ in range(2):
        while True:
            fan_in, fan_out = int(g.integers(2, 7)), int(g.integers(3, 8))
            if fan_in != fan_out:
                break
        while True:
            scales = np.sort(np.round(g.uniform(0.2, 3.0, fan_out), 1))
            W = np.round(g.normal(0.0, 1.0, (fan_in, fan_out)) * scales, 2)
            norms = np.linalg.norm(W, axis=0)
            if norms.min() > 0.05:
                break
        c = round(float(np.quantile(norms, g.uniform(0.3, 0.7))), 2)
        big = int(np.argmax(norms))
        W[0, big] = round(1.5 * c + 0.1, 2)           # one weight above c: clipping by value shows
        cases.append((W, c, "W = " + fmt_array(W)))
    W, _, setup = cases[0]
    cases.append((W, round(2.0 * float(np.linalg.norm(W, axis=0).max()), 1), setup))
    return tuple(cases)


def _scale_columns(W, c, which="over"):
    norms = np.linalg.norm(W, axis=0)
    if which == "over":
        factor = np.where(norms > c, c / norms, 1.0)
    elif which == "all":
        factor = c / norms
    else:            # "unit": divided by the norm, c forgotten
        factor = np.where(norms > c, 1.0 / norms, 1.0)
    return W * factor


@check()
def check_max_norm(max_norm, *, seed=None):
    """Check ``max_norm(W, c)``: a new array in which every column of W (fan_in, fan_out) —
    one unit's incoming weights — whose L2 norm exceeds c is scaled down to norm c, and the
    other columns are unchanged; W itself is left unchanged. With a ``seed``: other matrices
    and radii.

    Diagnoses: rows instead of columns; every column rescaled to norm c (also those inside
    the ball); dividing by the norm without multiplying by c; clipping each entry to [-c, c];
    the norm of the whole matrix; the scale factor upside down (norm / c); W changed in place;
    a wrong shape.
    """
    name = "max_norm"
    for W, c, setup in _maxnorm_cases(seed):
        call = Call(f"{name}(W, c={c:g})", setup)
        W_in = W.copy()
        got = as_array(max_norm(W_in, c), f"{name}'s result", call)
        if not np.array_equal(W_in, W):
            fail(f"{name} changed W in place. Return the projected weights as a new array and "
                 f"leave W as it was (e.g. compute W * factor)", call)
        if got.shape == W.T.shape and W.shape != W.T.shape:
            fail(f"{name} returned the transpose of W's shape; return an array shaped like W, "
                 f"(fan_in, fan_out)", call)
        check_shape(got, W.shape, f"{name}'s result", call)
        ref = _scale_columns(W, c)
        if close(got, ref):
            continue
        rows = _scale_columns(W.T, c).T
        if close(got, rows):
            fail(f"{name} rescaled the ROWS. W has shape (fan_in, fan_out), so unit j's incoming "
                 f"weights are the COLUMN W[:, j]: take the norms over axis=0", call)
        if close(got, _scale_columns(W, c, "all")):
            fail(f"{name} gave every column norm c, also those that were inside the ball. "
                 f"Max-norm is a projection: a column with norm <= c is left alone, only longer "
                 f"ones are scaled down", call)
        if close(got, _scale_columns(W, c, "unit")):
            fail(f"{name} divided the too-long columns by their norm (they now have norm 1) but "
                 f"did not multiply by c. The factor is c / norm", call)
        if close(got, np.clip(W, -c, c)):
            fail(f"{name} clipped each weight to [-c, c]; max-norm bounds the LENGTH of each "
                 f"unit's weight vector, ||W[:, j]||_2 <= c, and keeps its direction", call)
        total = np.linalg.norm(W)
        if close(got, W * min(1.0, c / total)):
            fail(f"{name} used the norm of the whole matrix. The constraint is per unit: one norm "
                 f"per column", call)
        norms = np.linalg.norm(W, axis=0)
        if close(got, W * np.where(norms > c, norms / c, 1.0)):
            fail(f"{name} made the long columns LONGER; the scale factor is c / norm, not "
                 f"norm / c (the long columns got LONGER)", call)
        got_norms = np.linalg.norm(got, axis=0)
        if np.any(got_norms > c * (1 + 1e-6)):
            fail(f"Some columns of the result of {name} still have a norm above c", call)
        fail(f"The result of {name} is not W with its too-long columns scaled to norm c", call)
    passed("max_norm")


# ------------------------------------------------------------------- early stopping

# (validation losses, patience); the first two have no ties, so < and <= agree there; the
# third has a loss EQUAL to the best, which is not an improvement
_SEQUENCES = (
    ((2.0, 1.5, 1.2, 1.3, 1.1, 1.25, 1.15, 1.18, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9), 3),
    ((1.0, 0.9, 0.95, 0.85, 0.8, 0.82, 0.86, 0.84, 0.9, 0.83, 0.91, 0.95, 1.0), 2),
    ((1.2, 1.0, 1.1, 1.0, 1.05, 1.08, 1.12, 1.2, 1.3), 2),
)


def _stop_epoch(losses, patience, compare="best", offset=0, reset=True):
    """The epoch at which a stopper of the given kind says stop (None if it never does).
    compare: "best" (a loss strictly below the best so far is an improvement), "best or
    equal" (<=), or "last" (below the previous epoch's loss)."""
    best = prev = math.inf
    wait = 0
    for epoch, loss in enumerate(losses):
        if compare == "best":
            improved = loss < best
        elif compare == "best or equal":
            improved = loss <= best
        else:
            improved = loss < prev
        if improved:
            if reset:
                wait = 0
        else:
            wait += 1
        best, prev = min(best, loss), loss
        if wait > 0 and wait >= patience + offset:
            return epoch
    return None


def _best_epoch(losses, stop):
    return int(np.argmin(losses[:stop + 1]))


# variants of the rule, as (keyword arguments of _stop_epoch, hint)
_STOP_VARIANTS = (
    (dict(offset=1), "stopped one epoch too late: with patience p, update must return True at "
                     "the p-th epoch in a row without improvement (count, then compare with >=)"),
    (dict(offset=-1), "stopped one epoch too early: with patience p, training goes on through "
                      "p - 1 epochs without improvement and stops at the p-th"),
    (dict(compare="last"), "compares each loss with the PREVIOUS epoch's. An improvement means a "
                           "loss below the BEST so far; a small recovery after an uptick is not "
                           "one"),
    (dict(compare="last", offset=1), "compares each loss with the PREVIOUS epoch's, and stops one "
                                     "epoch late. An improvement means a loss below the BEST so "
                                     "far"),
    (dict(compare="last", offset=-1), "compares each loss with the PREVIOUS epoch's (an "
                                      "improvement means a loss below the BEST so far), and "
                                      "stops one epoch early"),
    (dict(reset=False), "counts ALL epochs without improvement; the count must restart at 0 "
                        "whenever the loss improves: patience is about epochs IN A ROW"),
    (dict(compare="best or equal"), "counts a loss EQUAL to the best as an improvement (<= "
                                    "instead of <). Only a loss strictly below the best so far "
                                    "is a new best; an equal one is an epoch without "
                                    "improvement"),
)


def _signature(sequences, **kwargs):
    return [_stop_epoch(losses, patience, **kwargs) for losses, patience in sequences]


def _told_apart(sequences):
    """The correct rule and every variant stop on every sequence, at epochs that tell them
    apart on the sequences together: the diagnosis by stop epochs is unambiguous."""
    signatures = [tuple(_signature(sequences))] + [tuple(_signature(sequences, **kw))
                                                   for kw, _ in _STOP_VARIANTS]
    return len(set(signatures)) == len(signatures) and not any(None in s for s in signatures)


def stopping_sequences(seed=None):
    """The (validation losses, patience) pairs of check_early_stopping. Hidden: validation
    curves that fall, wobble and rise, the last one with a loss equal to its best."""
    if seed is None:
        return _SEQUENCES
    g = np.random.default_rng(seed)
    while True:
        sequences = []
        for k in range(3):
            patience, n = int(g.integers(2, 5)), int(g.integers(8, 13))
            t = np.arange(n)
            low = int(g.integers(3, n - 2))
            body = 1.0 + 0.8 * np.exp(-t / g.uniform(1.0, 3.0)) + 0.03 * np.maximum(t - low, 0)
            body = body + g.normal(0.0, 0.03, n)
            tail = body[-1] + np.cumsum(g.uniform(0.03, 0.1, patience + 2))   # it ends rising
            losses = np.round(np.r_[body, tail], 3)
            if k == 2:                                   # a later loss equal to the best so far
                at = int(np.argmin(losses[:n - 2]))
                losses[at + 2] = losses[at]
            elif len(set(losses.tolist())) < len(losses):
                break
            sequences.append((tuple(float(v) for v in losses), patience))
        if len(sequences) == 3 and _told_apart(sequences):
            return tuple(sequences)


def _weights_at(epoch):
    """What the simulated model's weights are after ``epoch``: distinct values per epoch."""
    return {"W": np.full((2, 2), float(epoch + 1)), "b": np.full(2, -float(epoch + 1))}


def _drive(EarlyStopping, losses, patience):
    """(stopper, stop epoch or None, weights, the first non-bool that update returned or None)."""
    stopper = EarlyStopping(patience)
    weights = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    for epoch, loss in enumerate(losses):
        for name, value in _weights_at(epoch).items():
            weights[name][...] = value           # the optimizer changes the arrays in place
        stop = stopper.update(epoch, loss, weights)
        if not isinstance(stop, (bool, np.bool_)):
            return stopper, None, weights, (stop,)
        if stop:
            return stopper, epoch, weights, None
    return stopper, None, weights, None


def run_stopper(EarlyStopping, losses, patience):
    """Drive an EarlyStopping class like a training loop: one ``update(epoch, val_loss,
    weights)`` per validation loss, the arrays of ``weights`` changing in place between epochs
    (as an optimizer changes them), until update returns True. Returns (stopper, the epoch at
    which it said stop or None, weights): what check_early_stopping sees."""
    stopper, stop, weights, odd = _drive(EarlyStopping, losses, patience)
    if odd is not None:
        raise TypeError(f"run_stopper: EarlyStopping.update returned {odd[0]!r}; it must return "
                        f"True (stop now) or False")
    return stopper, stop, weights


def _run_stopper(EarlyStopping, losses, patience, call):
    stopper, stop, weights, odd = _drive(EarlyStopping, losses, patience)
    if odd is not None:
        fail(f"EarlyStopping.update returned {odd[0]!r}; it must return True (stop now) or False", call)
    return stopper, stop, weights


@check()
def check_early_stopping(EarlyStopping, *, seed=None):
    """Check an ``EarlyStopping(patience)`` class with ``update(epoch, val_loss, weights) ->
    bool`` (True = stop now), attributes ``best_loss`` and ``best_epoch``, and
    ``restore(weights)`` that copies the best epoch's weights back into the arrays of
    ``weights`` (a dict name -> array) in place. It is driven by three fixed sequences of
    validation losses (the third with a loss equal to the best) while the arrays of
    ``weights`` change in place after every epoch, as an optimizer changes them (with a
    ``seed``: other curves and patiences).

    Diagnoses: patience off by one (stopping one epoch late or early); comparing with the
    last loss instead of the best; an equal loss counted as an improvement (<=); not
    resetting the count after an improvement; never stopping; update returning something
    other than a bool; best_epoch / best_loss wrong or missing (also: moved to a later epoch
    with an equal loss); the snapshot not copied (a reference to the live arrays, or
    dict.copy() that shares them); restore that does nothing or only rebinds the dict entries
    instead of writing into the arrays.
    """
    sequences = stopping_sequences(seed)
    for losses, patience in sequences:
        call = Call(f"checks.regularization.run_stopper(EarlyStopping, losses, patience={patience})",
                    f"losses = {list(losses)}")
        stopper, stop, weights = _run_stopper(EarlyStopping, losses, patience, call)
        ref_stop = _stop_epoch(losses, patience)
        if stop != ref_stop:
            got_signature = [_run_stopper(EarlyStopping, l, p, call)[1] for l, p in sequences]
            for kwargs, hint in _STOP_VARIANTS:
                if _signature(sequences, **kwargs) == got_signature:
                    fail(f"EarlyStopping.update {hint}", call)
            if stop is None:
                fail("EarlyStopping.update never returned True. It must return True once "
                     "`patience` epochs in a row brought no loss below the best so far", call)
            fail(f"EarlyStopping.update returned True at epoch {stop}, which is not where "
                 f"`patience` epochs in a row without a new best loss end", call)
        best_epoch = getattr(stopper, "best_epoch", None)
        best_loss = getattr(stopper, "best_loss", None)
        if best_epoch is None or best_loss is None:
            fail("The EarlyStopping object should keep the attributes best_epoch and best_loss", call)
        ref_best = _best_epoch(losses, stop)
        if best_epoch != ref_best:
            if (isinstance(best_epoch, (int, np.integer)) and ref_best < best_epoch <= stop
                    and losses[best_epoch] == losses[ref_best]):
                fail(f"EarlyStopping's best_epoch is {best_epoch!r}, a later epoch whose loss only "
                     f"EQUALS the best. Only a loss strictly below the best so far is a new best "
                     f"(val_loss < best_loss): keep the first epoch with the lowest loss", call)
            fail(f"EarlyStopping's best_epoch is {best_epoch!r}, but it should be the epoch with "
                 f"the lowest validation loss seen so far", call)
        if not close(float(best_loss), min(losses[:stop + 1])):
            fail(f"EarlyStopping's best_loss is {best_loss!r}, which is not the lowest validation "
                 f"loss seen so far", call)
        # restore into fresh arrays first: that tells a missing copy from a missing restore
        fresh = {"W": np.full((2, 2), 99.0), "b": np.full(2, 99.0)}
        arrays = dict(fresh)
        best, last = _weights_at(best_epoch), _weights_at(stop)
        stopper.restore(fresh)
        if all(np.array_equal(arrays[k], last[k]) for k in arrays) or all(
                np.array_equal(fresh[k], last[k]) for k in fresh):
            fail("EarlyStopping.restore() put back the weights of the LAST epoch, not of the best "
                 "one. The snapshot was not copied: the weights' arrays keep changing in place "
                 "after update() returns, so store copies of the arrays ({k: v.copy() for k, v "
                 "in weights.items()}; weights.copy() copies only the dict)", call)
        if all(np.array_equal(fresh[k], best[k]) for k in fresh) and not all(
                np.array_equal(arrays[k], best[k]) for k in arrays):
            fail("EarlyStopping.restore() replaced the dict's entries instead of writing into the "
                 "arrays. The model's parameters are those arrays: write in place, "
                 "weights[name][...] = saved", call)
        if all(np.array_equal(arrays[k], np.full(arrays[k].shape, 99.0)) for k in arrays):
            fail("EarlyStopping.restore(weights) did not change the weights. It must copy the "
                 "best epoch's weights back into the arrays, in place", call)
        if not all(np.array_equal(arrays[k], best[k]) for k in arrays):
            fail("After EarlyStopping.restore(), the weights are not those saved at the best "
                 "epoch", call)
        stopper.restore(weights)
        if not all(np.array_equal(weights[k], best[k]) for k in weights):
            fail("EarlyStopping.restore(weights) on the training loop's weights did not bring "
                 "back the best epoch's values", call)
    passed("early_stopping")


# ------------------------------------------------------------------- label smoothing

_SMOOTH_CASES = ((np.array([2, 0, 3, 0]), 5, 0.1), (np.array([1, 6, 4]), 7, 0.3),
                 (np.array([1, 0]), 3, 0.0), (np.array([2, 1]), 4, 1.0))


def smoothing_cases(seed=None):
    """The (y, num_classes, alpha) triples of check_smooth_labels: labels in which the highest
    class never occurs and not every class does; the last two with alpha 0 and 1."""
    if seed is None:
        return _SMOOTH_CASES
    g = np.random.default_rng(seed)
    cases = []
    for alpha in (float(g.choice([0.05, 0.1, 0.2])), float(g.choice([0.25, 0.3, 0.4])), 0.0, 1.0):
        while True:
            k, n = int(g.integers(4, 11)), int(g.integers(2, 9))
            if n != k:
                break
        y = g.integers(0, k - 1, n)                     # never the highest class
        cases.append((y, k, alpha))
    return tuple(cases)


@check()
def check_smooth_labels(smooth_labels, *, seed=None):
    """Check ``smooth_labels(y, num_classes, alpha)`` = (1 - alpha) * onehot(y) + alpha / K,
    shape (N, K), on fixed labels (in which the highest class never occurs); with a ``seed``,
    on other labels, class counts and alphas.

    Diagnoses: alpha / (K - 1) on the wrong classes (and 1 - alpha on the gold one); only the
    gold class smoothed (rows that do not sum to 1); alpha / K added without scaling the
    one-hot part by (1 - alpha); alpha / K on the wrong classes only; K taken from the labels
    (their max + 1 or the number of distinct values) instead of num_classes; the transposed
    shape; y changed in place.
    """
    name = "smooth_labels"
    for y, k, alpha in smoothing_cases(seed):
        call = Call(f"{name}({fmt_array(y)}, num_classes={k}, alpha={alpha:g})")
        y_in = y.copy()
        got = as_array(smooth_labels(y_in, k, alpha), f"{name}'s result", call)
        if not np.array_equal(y_in, y):
            fail(f"{name} changed y in place", call)
        n = len(y)
        if got.shape in ((n, int(y.max()) + 1), (n, len(np.unique(y)))) and got.shape != (n, k):
            fail(f"{name} returned an array of shape {got.shape}: it took the number of classes "
                 f"from the labels, but a batch need not contain every class. Use num_classes", call)
        if got.shape == (k, n) and n != k:
            fail(f"{name} returned an array of shape {got.shape}; the targets have one row per "
                 f"example: (N, num_classes)", call)
        check_shape(got, (n, k), f"{name}'s result", call)
        onehot = np.eye(k)[y]
        ref = (1 - alpha) * onehot + alpha / k
        if close(got, ref):
            continue
        if close(got, (1 - alpha) * onehot + alpha / (k - 1) * (1 - onehot)):
            fail(f"{name} spread alpha / (K - 1) over the wrong classes. The course (and "
                 f"PyTorch) mixes the one-hot target with the UNIFORM distribution over all K "
                 f"classes: (1 - alpha) * onehot + alpha / K, so the gold class also gets its "
                 f"alpha / K", call)
        if close(got, (1 - alpha) * onehot):
            fail(f"{name} smoothed only the gold class, so the rows no longer sum to 1. The mass "
                 f"alpha taken from the gold class is spread evenly over all K classes", call)
        if close(got, onehot + alpha / k):
            fail(f"{name} added alpha / K to the one-hot targets without scaling them by "
                 f"(1 - alpha); the rows sum to 1 + alpha instead of 1", call)
        if close(got, (1 - alpha) * onehot + alpha / k * (1 - onehot)):
            fail(f"In the result of {name} the gold class did not get its share alpha / K of the "
                 f"uniform part, so the rows sum to less than 1", call)
        if not np.allclose(got.sum(axis=1), 1.0):
            fail(f"The rows of the result of {name} do not sum to 1; a target is a probability "
                 f"distribution over the K classes", call)
        fail(f"{name} does not return (1 - alpha) * onehot(y) + alpha / K", call)
    passed("smooth_labels")


# ------------------------------------------------------------------- ensembles

_ENSEMBLE = dict(n_models=8, sigma=0.6)


@functools.lru_cache(maxsize=1)
def _measure_average_variance(trials=200_000):
    n, sigma = _ENSEMBLE["n_models"], _ENSEMBLE["sigma"]
    errors = np.random.default_rng(0).normal(0.0, sigma, size=(trials, n))
    return float(errors.mean(axis=1).var())


@check(hidden=False, why="a prediction about the one scenario the exercise states (8 models with "
                         "independent errors of standard deviation 0.6): the number is the answer")
def check_ensemble_variance(predicted_variance):
    """Check a prediction of the variance of the average of 8 independent errors, each of
    standard deviation 0.6, against a simulation (within 5 %).

    Diagnoses: sigma / n (the std divided by n); sigma**2 / n**2; the standard deviation
    sigma / sqrt(n) instead of the variance; no reduction (sigma**2 or sigma); the variance of
    the SUM (n sigma**2); sigma**2 / sqrt(n); a value that is not one finite number.
    """
    what = "predicted_variance"
    if predicted_variance is None:
        fail(f"{what} is None: assign your prediction, a number, to it")
    v = as_array(predicted_variance, what)
    if v.size != 1 or not np.all(np.isfinite(v)):
        fail(f"{what} should be one finite number, got {predicted_variance!r}")
    p = float(v)
    n, sigma = _ENSEMBLE["n_models"], _ENSEMBLE["sigma"]
    measured = _measure_average_variance()
    if abs(p / measured - 1) < 0.05:
        passed("ensemble_variance")
        return
    s2 = sigma ** 2

    def near(target):
        return abs(p / target - 1) < 0.05

    if p <= 0:
        fail(f"{what} = {p:g}: a variance is positive; averaging shrinks it but never to 0")
    if near(sigma / n):
        fail(f"{what} = {p:g}: you divided the STANDARD DEVIATION by n. Variances add up: "
             f"Var(sum) = n sigma**2 for independent errors, and the average is the sum / n")
    if near(s2 / n ** 2):
        fail(f"{what} = {p:g}: Var(sum / n) = Var(sum) / n**2, but Var(sum) is not sigma**2: "
             f"the variances of n independent errors add up")
    if near(sigma / math.sqrt(n)):
        fail(f"{what} = {p:g}: that is the STANDARD DEVIATION of the average; the question asks "
             f"for its variance")
    if near(s2) or near(sigma):
        fail(f"{what} = {p:g}: that is a single model's spread. Averaging n models whose errors "
             f"are independent cancels part of the errors; how does the variance scale with n?")
    if near(n * s2):
        fail(f"{what} = {p:g} is the variance of the SUM of the n errors; the average divides the "
             f"sum by n, and a factor 1/n in a variable is 1/n**2 in its variance")
    if near(s2 / math.sqrt(n)):
        fail(f"{what} = {p:g}: the variance shrinks with n itself, not with sqrt(n) (the std "
             f"shrinks with sqrt(n))")
    fail(f"{what} = {p:g} is not within 5 % of the measured variance of the average. Use "
         f"Var(a X) = a**2 Var(X) and, for independent errors, Var(sum) = sum of the variances")
