"""Checks for exercises/07_regularization.ipynb: the L2 and L1 penalties with their
(sub)gradients over a list of parameters, the max-norm projection, early stopping with
patience, label-smoothed targets, and a prediction of the variance of an average."""
import functools
import math

import numpy as np

from ..module import Parameter
from ._common import as_array, check_shape, close, fail, fmt_array, passed
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


def _params_text(arrays):
    return "[" + ", ".join(f"cl.Parameter({fmt_array(a)})" for a in arrays) + "]"


def _call_penalty(fn, name, arrays, lam):
    """Call fn(params, lam) on fresh Parameters; return (value, grads, call text)."""
    params = [Parameter(a, name="W" if _is_weight(a) else "b") for a in arrays]
    call = f"{name}(params, lam={lam:g}) with params = {_params_text(arrays)}"
    result, _ = call_recording_fp_warnings(fn, params, lam)   # nan from 0 / 0 shows in the values
    if any(not np.array_equal(p.data, a) for p, a in zip(params, arrays)):
        fail(f"{call} changed the parameters' data; a penalty only reads the weights")
    if any(np.any(p.grad != 0) for p in params):
        fail(f"{call} wrote into p.grad. Return the gradients as a list instead (the training "
             f"loop adds them; cl.L2.add_grad is the library's version that writes into p.grad)")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return a tuple (value, grads), got {type(result).__name__}")
    value, grads = result
    value = as_array(value, f"{call}: value")
    if value.size != 1:
        fail(f"{call}: value should be one number (the penalty added to the loss), got an array "
             f"of shape {value.shape}")
    if not isinstance(grads, (list, tuple)):
        fail(f"{call}: grads should be a list with one array per parameter, got "
             f"{type(grads).__name__}")
    if len(grads) != len(params):
        fail(f"{call}: grads has {len(grads)} entries for {len(params)} parameters. Return one "
             f"gradient per parameter, in the same order, with zeros for the biases")
    out = []
    for i, (g, a) in enumerate(zip(grads, arrays)):
        g = as_array(g, f"{call}: grads[{i}]")
        check_shape(g, a.shape, f"{call}: grads[{i}]")
        out.append(g)
    return float(value), out, call


def _split(arrays):
    weights = [a for a in arrays if _is_weight(a)]
    biases = [a for a in arrays if not _is_weight(a)]
    return weights, biases


def _check_bias_grads(grads, arrays, lam, call, penalty):
    for i, (g, a) in enumerate(zip(grads, arrays)):
        if _is_weight(a) or np.all(g == 0):
            continue
        if close(g, lam * a) or close(g, 2 * lam * a) or close(g, lam * np.sign(a)):
            fail(f"{call}: grads[{i}] belongs to a bias and is not zero. Penalize only the "
                 f"weights (arrays with 2 or more axes): a bias shifts a unit's output and does "
                 f"not make the function more complex, so it gets no {penalty} gradient")
        fail(f"{call}: grads[{i}] belongs to a bias (a 1-D array); its penalty gradient must "
             f"be all zeros")


def check_l2_penalty(l2_penalty):
    """Check ``l2_penalty(params, lam) -> (value, grads)``: value = (lam / 2) * sum of w**2
    over the weights (parameters with 2 or more axes), grads = [lam * w for a weight, zeros
    for a bias], on two fixed lists of Parameters.

    Diagnoses: the biases penalized (in the value or in the gradient); the 1/2 missing (value
    lam * ||w||**2 or gradient 2 lam w); the norm instead of the squared norm (per parameter
    or over all weights, with or without 1/2); a mean instead of a sum; the gradient with the
    wrong sign, of the norm (lam w / ||w||), or of L1 (lam sign(w)); writing into p.grad or
    changing the data; a wrong number or shape of gradients.
    """
    for arrays, lam in _CASES:
        value, grads, call = _call_penalty(l2_penalty, "l2_penalty", arrays, lam)
        weights, biases = _split(arrays)
        wsq = sum(float(np.sum(w * w)) for w in weights)
        bsq = sum(float(np.sum(b * b)) for b in biases)
        norms = [float(np.linalg.norm(w)) for w in weights]
        if not close(value, 0.5 * lam * wsq):
            if close(value, 0.5 * lam * (wsq + bsq)) or close(value, lam * (wsq + bsq)):
                fail(f"{call}: your value includes the biases. Penalize only the weights "
                     f"(parameters with 2 or more axes); a bias does not make the function "
                     f"more complex")
            if close(value, lam * wsq):
                fail(f"{call}: the value is lam * sum(w**2); the course's L2 penalty is "
                     f"(lam / 2) * sum(w**2), so that its gradient is simply lam * w")
            if any(close(value, f * x) for f in (0.5 * lam, lam)
                   for x in (sum(norms), math.sqrt(wsq))):
                fail(f"{call}: you used the norm ||w||; the L2 penalty uses the SQUARED norm, "
                     f"the plain sum of the squared weights (no square root)")
            if any(close(value, f * m) for f in (0.5 * lam, lam)
                   for m in (sum(float(np.mean(w * w)) for w in weights),
                             wsq / sum(w.size for w in weights))):
                fail(f"{call}: you averaged the squared weights; the penalty SUMS them")
            fail(f"{call} returned the value {value:g}, which is not (lam / 2) * the sum of the "
                 f"squared weights")
        _check_bias_grads(grads, arrays, lam, call, "L2")
        for i, (g, w) in enumerate(zip(grads, arrays)):
            if not _is_weight(w) or close(g, lam * w):
                continue
            if close(g, 2 * lam * w):
                fail(f"{call}: grads[{i}] is 2 * lam * w. The derivative of (lam / 2) w**2 is "
                     f"lam * w: the 1/2 in the penalty is there to cancel the 2")
            if close(g, -lam * w):
                fail(f"{call}: grads[{i}] has the wrong sign. The penalty grows with |w|, so its "
                     f"gradient points away from 0: +lam * w (the update then subtracts it)")
            if close(g, lam * w / np.linalg.norm(w)) or close(g, 0.5 * lam * w / np.linalg.norm(w)):
                fail(f"{call}: grads[{i}] is the gradient of the norm ||w||, not of the squared "
                     f"norm (lam / 2) ||w||**2")
            if close(g, lam * np.sign(w)):
                fail(f"{call}: grads[{i}] is lam * sign(w), the L1 subgradient; the L2 gradient "
                     f"is proportional to w itself")
            fail(f"{call}: grads[{i}] is not lam * w")
    passed("l2_penalty")


def check_l1_penalty(l1_penalty):
    """Check ``l1_penalty(params, lam) -> (value, grads)``: value = lam * sum of |w| over the
    weights, grads = [lam * sign(w) for a weight, with 0 where w == 0; zeros for a bias], on
    two fixed lists of Parameters that contain weights equal to 0.

    Diagnoses: the biases penalized; |w| used as the gradient; sign(0) taken as +1 or -1, or
    nan from w / |w|; the L2 gradient lam * w; the wrong sign; a 1/2 in the value; squared
    weights in the value; a mean instead of a sum; writing into p.grad.
    """
    for arrays, lam in _CASES:
        value, grads, call = _call_penalty(l1_penalty, "l1_penalty", arrays, lam)
        weights, biases = _split(arrays)
        wabs = sum(float(np.sum(np.abs(w))) for w in weights)
        babs = sum(float(np.sum(np.abs(b))) for b in biases)
        wsq = sum(float(np.sum(w * w)) for w in weights)
        if not close(value, lam * wabs):
            if close(value, lam * (wabs + babs)):
                fail(f"{call}: your value includes the biases. Penalize only the weights "
                     f"(parameters with 2 or more axes)")
            if close(value, 0.5 * lam * wabs):
                fail(f"{call}: the L1 penalty has no 1/2: it is lam * sum(|w|)")
            if close(value, lam * wsq) or close(value, 0.5 * lam * wsq):
                fail(f"{call}: you squared the weights (that is L2); L1 sums their absolute "
                     f"values |w|")
            if close(value, lam * wabs / sum(w.size for w in weights)) or close(
                    value, lam * sum(float(np.mean(np.abs(w))) for w in weights)):
                fail(f"{call}: you averaged |w|; the penalty SUMS the absolute values")
            fail(f"{call} returned the value {value:g}, which is not lam * the sum of |w| over "
                 f"the weights")
        _check_bias_grads(grads, arrays, lam, call, "L1")
        for i, (g, w) in enumerate(zip(grads, arrays)):
            ref = lam * np.sign(w)
            if not _is_weight(w) or close(g, ref):
                continue
            zero = w == 0
            if not np.all(np.isfinite(g)):
                fail(f"{call}: grads[{i}] contains nan or inf where w == 0. w / |w| divides by "
                     f"zero there; np.sign(w) gives the subgradient 0 at w == 0")
            if close(g, lam * np.abs(w)):
                fail(f"{call}: grads[{i}] is lam * |w|, the penalty itself, not its slope. The "
                     f"slope of |w| is +1 for w > 0 and -1 for w < 0: lam * sign(w)")
            if close(g[~zero], ref[~zero]) and not close(g[zero], 0.0):
                fail(f"{call}: grads[{i}] is right except where w == 0. |w| has a kink there and "
                     f"the course uses the subgradient 0 (np.sign(0) is 0); np.where(w >= 0, 1, "
                     f"-1) or similar gives +-lam instead")
            if close(g, lam * w):
                fail(f"{call}: grads[{i}] is lam * w, the L2 gradient; L1 pulls with the same "
                     f"force lam whatever the size of w: lam * sign(w)")
            if close(g, -ref):
                fail(f"{call}: grads[{i}] has the wrong sign; the penalty grows with |w|, so its "
                     f"gradient is +lam * sign(w)")
            fail(f"{call}: grads[{i}] is not lam * sign(w)")
    passed("l1_penalty")


# ------------------------------------------------------------------- max-norm

_W_MAXNORM = np.array([[0.6, 3.0, 0.0, 6.0],     # column norms 1, 5, 2.5, 10
                       [0.8, 0.0, 1.5, 8.0],
                       [0.0, 4.0, 2.0, 0.0]])


def _maxnorm_cases():
    g = np.random.default_rng(7)
    W2 = g.standard_normal((5, 6)) * np.array([0.2, 0.5, 0.8, 1.0, 1.4, 2.0])
    return ((_W_MAXNORM, 3.0, "W = " + fmt_array(_W_MAXNORM)),
            (W2, 1.5, "W = np.random.default_rng(7).standard_normal((5, 6)) * "
                      "np.array([0.2, 0.5, 0.8, 1.0, 1.4, 2.0])"),
            (_W_MAXNORM, 20.0, "W = " + fmt_array(_W_MAXNORM)))


def _scale_columns(W, c, which="over"):
    norms = np.linalg.norm(W, axis=0)
    if which == "over":
        factor = np.where(norms > c, c / norms, 1.0)
    elif which == "all":
        factor = c / norms
    else:            # "unit": divided by the norm, c forgotten
        factor = np.where(norms > c, 1.0 / norms, 1.0)
    return W * factor


def check_max_norm(max_norm):
    """Check ``max_norm(W, c)``: a new array in which every column of W (fan_in, fan_out) —
    one unit's incoming weights — whose L2 norm exceeds c is scaled down to norm c, and the
    other columns are unchanged; W itself is left unchanged.

    Diagnoses: rows instead of columns; every column rescaled to norm c (also those inside
    the ball); dividing by the norm without multiplying by c; clipping each entry to [-c, c];
    the norm of the whole matrix; the scale factor upside down (norm / c); W changed in place;
    a wrong shape.
    """
    for W, c, setup in _maxnorm_cases():
        call = f"{setup}; max_norm(W, c={c:g})"
        W_in = W.copy()
        got = as_array(max_norm(W_in, c), call)
        if not np.array_equal(W_in, W):
            fail(f"{call} changed W in place. Return the projected weights as a new array and "
                 f"leave W as it was (e.g. compute W * factor)")
        if got.shape == W.T.shape and W.shape != W.T.shape:
            fail(f"{call} returned shape {got.shape}, the transpose of W's {W.shape}")
        check_shape(got, W.shape, call)
        ref = _scale_columns(W, c)
        if close(got, ref):
            continue
        rows = _scale_columns(W.T, c).T
        if close(got, rows):
            fail(f"{call}: you rescaled the ROWS. W has shape (fan_in, fan_out), so unit j's "
                 f"incoming weights are the COLUMN W[:, j]: take the norms over axis=0")
        if close(got, _scale_columns(W, c, "all")):
            fail(f"{call}: every column now has norm c, also those that were inside the ball. "
                 f"Max-norm is a projection: a column with norm <= c is left alone, only longer "
                 f"ones are scaled down")
        if close(got, _scale_columns(W, c, "unit")):
            fail(f"{call}: the columns that were too long now have norm 1: you divided by the "
                 f"norm but did not multiply by c. The factor is c / norm")
        if close(got, np.clip(W, -c, c)):
            fail(f"{call}: you clipped each weight to [-c, c]; max-norm bounds the LENGTH of each "
                 f"unit's weight vector, ||W[:, j]||_2 <= c, and keeps its direction")
        total = np.linalg.norm(W)
        if close(got, W * min(1.0, c / total)):
            fail(f"{call}: you used the norm of the whole matrix. The constraint is per unit: "
                 f"one norm per column")
        norms = np.linalg.norm(W, axis=0)
        if close(got, W * np.where(norms > c, norms / c, 1.0)):
            fail(f"{call}: the long columns got LONGER; the scale factor is c / norm, not norm / c")
        got_norms = np.linalg.norm(got, axis=0)
        if np.any(got_norms > c * (1 + 1e-6)):
            fail(f"{call}: some columns of the result still have a norm above c")
        fail(f"{call}: the result is not W with its too-long columns scaled to norm c")
    passed("max_norm")


# ------------------------------------------------------------------- early stopping

# (validation losses, patience); no ties, so < and <= agree
_SEQUENCES = (
    ((2.0, 1.5, 1.2, 1.3, 1.1, 1.25, 1.15, 1.18, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9), 3),
    ((1.0, 0.9, 0.95, 0.85, 0.8, 0.82, 0.86, 0.84, 0.9, 0.83, 0.91, 0.95, 1.0), 2),
)


def _stop_epoch(losses, patience, compare="best", offset=0, reset=True):
    """The epoch at which a stopper of the given kind says stop (None if it never does)."""
    best = prev = math.inf
    wait = 0
    for epoch, loss in enumerate(losses):
        if loss < (best if compare == "best" else prev):
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
    (dict(offset=1), "update stopped one epoch too late: with patience p it must return True at "
                     "the p-th epoch in a row without improvement (count, then compare with >=)"),
    (dict(offset=-1), "update stopped one epoch too early: with patience p, training goes on "
                      "through p - 1 epochs without improvement and stops at the p-th"),
    (dict(compare="last"), "update compares each loss with the PREVIOUS epoch's. An improvement "
                           "means a loss below the BEST so far; a small recovery after an "
                           "uptick is not one"),
    (dict(compare="last", offset=1), "update compares each loss with the PREVIOUS epoch's, and "
                                     "stops one epoch late. An improvement means a loss below the "
                                     "BEST so far"),
    (dict(compare="last", offset=-1), "update compares each loss with the PREVIOUS epoch's (an "
                                      "improvement means a loss below the BEST so far), and "
                                      "stops one epoch early"),
    (dict(reset=False), "update counts ALL epochs without improvement; the count must restart "
                        "at 0 whenever the loss improves: patience is about epochs IN A ROW"),
)


def _weights_at(epoch):
    """What the simulated model's weights are after ``epoch``: distinct values per epoch."""
    return {"W": np.full((2, 2), float(epoch + 1)), "b": np.full(2, -float(epoch + 1))}


def _run_stopper(EarlyStopping, losses, patience, call):
    """Drive the student's class like a training loop; returns (stopper, stop epoch, weights)."""
    stopper = EarlyStopping(patience)
    weights = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    for epoch, loss in enumerate(losses):
        for name, value in _weights_at(epoch).items():
            weights[name][...] = value           # the optimizer changes the arrays in place
        stop = stopper.update(epoch, loss, weights)
        if not isinstance(stop, (bool, np.bool_)):
            fail(f"{call}: update returned {stop!r}; it must return True (stop now) or False")
        if stop:
            return stopper, epoch, weights
    return stopper, None, weights


def check_early_stopping(EarlyStopping):
    """Check an ``EarlyStopping(patience)`` class with ``update(epoch, val_loss, weights) ->
    bool`` (True = stop now), attributes ``best_loss`` and ``best_epoch``, and
    ``restore(weights)`` that copies the best epoch's weights back into the arrays of
    ``weights`` (a dict name -> array) in place. It is driven by two fixed sequences of
    validation losses while the arrays of ``weights`` change in place after every epoch, as
    an optimizer changes them.

    Diagnoses: patience off by one (stopping one epoch late or early); comparing with the
    last loss instead of the best; not resetting the count after an improvement; never
    stopping; update returning something other than a bool; best_epoch / best_loss wrong or
    missing; the snapshot not copied (a reference to the live arrays, or dict.copy() that
    shares them); restore that does nothing or only rebinds the dict entries instead of
    writing into the arrays.
    """
    for losses, patience in _SEQUENCES:
        call = (f"stopper = EarlyStopping(patience={patience}), then one stopper.update(epoch, "
                f"val_loss, weights) per epoch for the validation losses {list(losses)}, the "
                f"arrays of weights = {{'W': ..., 'b': ...}} changing in place between epochs")
        stopper, stop, weights = _run_stopper(EarlyStopping, losses, patience, call)
        ref_stop = _stop_epoch(losses, patience)
        if stop != ref_stop:
            if stop is None:
                fail(f"{call}: update never returned True. It must return True once `patience` "
                     f"epochs in a row brought no loss below the best so far")
            got_signature = [stop] + [_run_stopper(EarlyStopping, l, p, call)[1]
                                      for l, p in _SEQUENCES if l != losses]
            for kwargs, hint in _STOP_VARIANTS:
                signature = [_stop_epoch(losses, patience, **kwargs)] + [
                    _stop_epoch(l, p, **kwargs) for l, p in _SEQUENCES if l != losses]
                if signature == got_signature:
                    fail(f"{call}: {hint}")
            fail(f"{call}: update returned True at epoch {stop}, which is not where `patience` "
                 f"epochs in a row without a new best loss end")
        best_epoch = getattr(stopper, "best_epoch", None)
        best_loss = getattr(stopper, "best_loss", None)
        if best_epoch is None or best_loss is None:
            fail(f"{call}: the stopper should keep the attributes best_epoch and best_loss")
        if best_epoch != _best_epoch(losses, stop):
            fail(f"{call}: best_epoch is {best_epoch!r}, but it should be the epoch with the lowest "
                 f"validation loss seen so far")
        if not close(float(best_loss), min(losses[:stop + 1])):
            fail(f"{call}: best_loss is {best_loss!r}, which is not the lowest validation loss "
                 f"seen so far")
        # restore into fresh arrays first: that tells a missing copy from a missing restore
        fresh = {"W": np.full((2, 2), 99.0), "b": np.full(2, 99.0)}
        arrays = dict(fresh)
        best, last = _weights_at(best_epoch), _weights_at(stop)
        stopper.restore(fresh)
        if all(np.array_equal(arrays[k], last[k]) for k in arrays) or all(
                np.array_equal(fresh[k], last[k]) for k in fresh):
            fail(f"{call}: restore() put back the weights of the LAST epoch, not of the best one. "
                 f"The snapshot was not copied: the weights' arrays keep changing in place after "
                 f"update() returns, so store copies of the arrays ({{k: v.copy() for k, v in "
                 f"weights.items()}}; weights.copy() copies only the dict)")
        if all(np.array_equal(fresh[k], best[k]) for k in fresh) and not all(
                np.array_equal(arrays[k], best[k]) for k in arrays):
            fail(f"{call}: restore() replaced the dict's entries instead of writing into the "
                 f"arrays. The model's parameters are those arrays: write in place, "
                 f"weights[name][...] = saved")
        if all(np.array_equal(arrays[k], np.full(arrays[k].shape, 99.0)) for k in arrays):
            fail(f"{call}: restore(weights) did not change the weights. It must copy the best "
                 f"epoch's weights back into the arrays, in place")
        if not all(np.array_equal(arrays[k], best[k]) for k in arrays):
            fail(f"{call}: after restore(), the weights are not those saved at the best epoch")
        stopper.restore(weights)
        if not all(np.array_equal(weights[k], best[k]) for k in weights):
            fail(f"{call}: restore(weights) on the training loop's weights did not bring back "
                 f"the best epoch's values")
    passed("early_stopping")


# ------------------------------------------------------------------- label smoothing

_SMOOTH_CASES = ((np.array([2, 0, 3, 0]), 5, 0.1), (np.array([1, 6, 4]), 7, 0.3),
                 (np.array([1, 0]), 3, 0.0), (np.array([2, 1]), 4, 1.0))


def check_smooth_labels(smooth_labels):
    """Check ``smooth_labels(y, num_classes, alpha)`` = (1 - alpha) * onehot(y) + alpha / K,
    shape (N, K), on fixed labels (in which the highest class never occurs).

    Diagnoses: alpha / (K - 1) on the wrong classes (and 1 - alpha on the gold one); only the
    gold class smoothed (rows that do not sum to 1); alpha / K added without scaling the
    one-hot part by (1 - alpha); alpha / K on the wrong classes only; K taken from the labels
    (their max + 1 or the number of distinct values) instead of num_classes; the transposed
    shape; y changed in place.
    """
    for y, k, alpha in _SMOOTH_CASES:
        call = f"smooth_labels({fmt_array(y)}, num_classes={k}, alpha={alpha:g})"
        y_in = y.copy()
        got = as_array(smooth_labels(y_in, k, alpha), call)
        if not np.array_equal(y_in, y):
            fail(f"{call} changed y in place")
        n = len(y)
        if got.shape in ((n, int(y.max()) + 1), (n, len(np.unique(y)))) and got.shape != (n, k):
            fail(f"{call} returned shape {got.shape}: you took the number of classes from the "
                 f"labels, but a batch need not contain every class. Use num_classes")
        if got.shape == (k, n) and n != k:
            fail(f"{call} returned shape {got.shape}; the targets have one row per example: "
                 f"(N, num_classes)")
        check_shape(got, (n, k), call)
        onehot = np.eye(k)[y]
        ref = (1 - alpha) * onehot + alpha / k
        if close(got, ref):
            continue
        if close(got, (1 - alpha) * onehot + alpha / (k - 1) * (1 - onehot)):
            fail(f"{call}: you spread alpha / (K - 1) over the wrong classes. The course (and "
                 f"PyTorch) mixes the one-hot target with the UNIFORM distribution over all K "
                 f"classes: (1 - alpha) * onehot + alpha / K, so the gold class also gets its "
                 f"alpha / K")
        if close(got, (1 - alpha) * onehot):
            fail(f"{call}: only the gold class was smoothed, so the rows no longer sum to 1. "
                 f"The mass alpha taken from the gold class is spread evenly over all K classes")
        if close(got, onehot + alpha / k):
            fail(f"{call}: you added alpha / K to the one-hot targets without scaling them by "
                 f"(1 - alpha); the rows sum to 1 + alpha instead of 1")
        if close(got, (1 - alpha) * onehot + alpha / k * (1 - onehot)):
            fail(f"{call}: the gold class did not get its share alpha / K of the uniform part, "
                 f"so the rows sum to less than 1")
        if not np.allclose(got.sum(axis=1), 1.0):
            fail(f"{call}: the rows of the result do not sum to 1; a target is a probability "
                 f"distribution over the K classes")
        fail(f"{call} does not return (1 - alpha) * onehot(y) + alpha / K")
    passed("smooth_labels")


# ------------------------------------------------------------------- ensembles

_ENSEMBLE = dict(n_models=8, sigma=0.6)


@functools.lru_cache(maxsize=1)
def _measure_average_variance(trials=200_000):
    n, sigma = _ENSEMBLE["n_models"], _ENSEMBLE["sigma"]
    errors = np.random.default_rng(0).normal(0.0, sigma, size=(trials, n))
    return float(errors.mean(axis=1).var())


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
