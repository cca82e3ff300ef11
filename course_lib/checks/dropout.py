"""Checks for exercises/05_dropout.ipynb: inverted dropout forward (training and evaluation)
and backward, a prediction of the mean and its sampling error, and an accuracy measured in
evaluation mode."""
import numpy as np

from ._common import as_array, check_shape, close, fail, fmt_array, passed, read_predictions, unpack


# ------------------------------------------------------------------ forward pass

_P = 0.2
_X_TEXT = "x = np.random.default_rng(0).uniform(0.5, 2.0, size=(400, 250))"


def _x():
    return np.random.default_rng(0).uniform(0.5, 2.0, size=(400, 250))


def _call_forward(dropout_forward, x, p, training, seed, rng=None):
    call = (f"{_X_TEXT}; dropout_forward(x, p={p:g}, training={training}, "
            f"rng=np.random.default_rng({seed}))")
    x_in = x.copy()
    result = dropout_forward(x_in, p, training, np.random.default_rng(seed) if rng is None else rng)
    out, mask = unpack(result, ("out", "mask"), call)
    if not np.array_equal(x_in, x):
        fail(f"{call} changed x in place (e.g. `x *= mask`); return a new array, out = x * mask")
    out = as_array(out, f"{call}: out")
    check_shape(out, x.shape, f"{call}: out")
    if mask is None:
        fail(f"{call}: mask is None. Return the mask as an array shaped like x (in evaluation "
             f"mode: np.ones_like(x)), so that the backward pass is always dout * mask")
    mask = as_array(mask, f"{call}: mask")
    check_shape(mask, x.shape, f"{call}: mask")
    return out, mask, call


def check_dropout_forward(dropout_forward):
    """Check ``dropout_forward(x, p, training, rng) -> (out, mask)``: inverted dropout with p the
    DROP rate. Training: mask = (kept) / (1 - p), out = x * mask, drawn from ``rng``;
    evaluation: out = x and a mask of ones. Judged statistically on 100,000 entries.

    Diagnoses: dropout applied at evaluation time; the old convention (no scaling in training,
    (1 - p) at evaluation); the 1/(1 - p) scaling missing, or 1/p or (1 - p) instead; p used
    as the keep probability; nothing dropped; an unscaled (boolean) mask returned; out not
    equal to x * mask; kept entries scaled unevenly; a new generator or the global np.random
    used instead of ``rng`` (masks that repeat, or that cannot be reproduced); the input
    modified in place; a missing mask in evaluation mode.
    """
    x, p = _x(), _P

    out, mask, call = _call_forward(dropout_forward, x, p, False, 1)
    if not np.array_equal(out, x):
        if np.any(out == 0):
            fail(f"{call}: some entries are zero in EVALUATION mode. Dropout is switched off at "
                 f"evaluation time: return x unchanged")
        if close(out, (1 - p) * x):
            fail(f"{call}: you scaled by (1 - p) at evaluation time. That is the old convention; "
                 f"INVERTED dropout scales the kept units by 1 / (1 - p) during training, so that "
                 f"evaluation is the identity")
        fail(f"{call}: in evaluation mode out must be x itself (no dropping, no scaling)")
    if not np.array_equal(mask, np.ones_like(x)):
        fail(f"{call}: in evaluation mode the mask must be all ones (np.ones_like(x)), so that "
             f"the backward pass dout * mask lets every gradient through")

    out, mask, call = _call_forward(dropout_forward, x, p, True, 1)
    dropped = out == 0
    frac = dropped.mean()
    se = np.sqrt(p * (1 - p) / x.size)
    if frac == 0:
        fail(f"{call}: nothing was dropped in training mode: zero each entry with probability "
             f"p = {p:g}")
    if abs(frac - (1 - p)) < 5 * se:
        fail(f"{call} dropped a fraction {frac:.3f} of the entries: you used p as the KEEP "
             f"probability. In PyTorch and in this course p is the DROP rate: drop where "
             f"u < p, keep where u >= p (u = rng.random(x.shape))")
    if abs(frac - p) > 5 * se:
        fail(f"{call} dropped a fraction {frac:.3f} of the entries, far from p = {p:g}: each "
             f"entry must be dropped independently with probability p")
    ratio = out[~dropped] / x[~dropped]
    if not np.allclose(ratio, ratio[0], rtol=1e-9):
        fail(f"{call}: the kept entries are not all scaled by the same factor: out = x * mask "
             f"with mask = keep / (1 - p)")
    scale = ratio[0]
    if not np.isclose(scale, 1 / (1 - p), rtol=1e-9):
        if np.isclose(scale, 1.0):
            fail(f"{call}: the kept entries are not scaled. Inverted dropout divides them by "
                 f"(1 - p) during training, so that the expected output equals x and evaluation "
                 f"needs no scaling")
        if np.isclose(scale, 1 / p):
            fail(f"{call}: the kept entries are divided by p. p is the DROP rate; the kept "
                 f"fraction is 1 - p, so divide by (1 - p)")
        if np.isclose(scale, 1 - p):
            fail(f"{call}: the kept entries are multiplied by (1 - p); inverted dropout DIVIDES "
                 f"them by (1 - p), which keeps the mean")
        fail(f"{call}: the kept entries are scaled by {scale:g}; inverted dropout divides them by "
             f"(1 - p)")
    if not close(out, x * mask):
        if close(out, x * mask / (1 - p)):
            fail(f"{call}: the returned mask is not scaled (it holds 0 and 1). Return the SCALED "
                 f"mask, keep / (1 - p), so that out = x * mask and the backward pass is "
                 f"dout * mask")
        fail(f"{call}: out is not x * mask: return the mask you actually applied")

    out2, _, call2 = _call_forward(dropout_forward, x, p, True, 1)
    if not np.array_equal(out, out2):
        fail(f"{call2} gave a different result when called again with a generator of the same "
             f"seed: draw the mask from the `rng` argument (rng.random(x.shape)), not from "
             f"np.random")
    rng = np.random.default_rng(2)
    first, _, _ = _call_forward(dropout_forward, x, p, True, 2, rng=rng)
    second, _, call3 = _call_forward(dropout_forward, x, p, True, 2, rng=rng)
    if np.array_equal(first, second):
        fail(f"two calls with the SAME generator (rng = np.random.default_rng(2), passed twice) "
             f"dropped exactly the same entries. Draw from the rng you are given; do not create "
             f"or reseed a generator inside the function")
    passed("dropout_forward")


# ----------------------------------------------------------------- backward pass

def _backward_inputs():
    rng = np.random.default_rng(3)
    mask = (rng.random((4, 6)) >= 0.25) / 0.75
    dout = rng.standard_normal((4, 6))
    call = ("rng = np.random.default_rng(3); mask = (rng.random((4, 6)) >= 0.25) / 0.75; "
            "dout = rng.standard_normal((4, 6)); dropout_backward(dout, mask)")
    return mask, dout, call


def check_dropout_backward(dropout_backward):
    """Check ``dropout_backward(dout, mask) -> dx`` = dout * mask, with the (scaled) mask of the
    forward pass.

    Diagnoses: a new mask drawn in the backward pass (zeros in the wrong places, or results
    that change from call to call); the mask ignored (dout returned); the mask returned
    without dout; the scaling lost (a boolean mask rebuilt from the scaled one); a second
    division by (1 - p); the inputs modified in place.
    """
    mask, dout, call = _backward_inputs()
    args = (dout.copy(), mask.copy())
    dx = as_array(dropout_backward(*args), call)
    if not (np.array_equal(args[0], dout) and np.array_equal(args[1], mask)):
        fail(f"{call} changed dout or mask in place; return a new array")
    check_shape(dx, dout.shape, call)
    ref = dout * mask
    if close(dx, ref):
        dx2 = as_array(dropout_backward(dout.copy(), mask.copy()), call)
        if not np.array_equal(dx, dx2):
            fail(f"{call} gives a different result on every call: the backward pass must not "
                 f"draw anything, it reuses the forward pass's mask")
        passed("dropout_backward")
        return
    if close(dx, dout):
        fail(f"{call} returned dout unchanged. A dropped unit did not affect the loss, so its "
             f"gradient is 0: multiply by the mask")
    if close(dx, mask):
        fail(f"{call} returned the mask itself; the chain rule multiplies it by the upstream "
             f"gradient: dx = dout * mask")
    if close(dx, dout * (mask > 0)):
        fail(f"{call}: the zeros are right but the 1 / (1 - p) scaling is lost. The forward pass "
             f"multiplied the kept units by 1 / (1 - p), so their gradient gets the same factor: "
             f"dx = dout * mask with the scaled mask")
    if close(dx, dout * mask * mask):
        fail(f"{call}: the scaling is applied twice; the mask is already scaled by 1 / (1 - p)")
    zeros = dx == 0
    if zeros.any() and not np.array_equal(zeros, mask == 0):
        fail(f"{call}: dx is zero in other places than the mask. Did you draw a NEW mask? The "
             f"backward pass must use the mask of the forward pass, which it receives")
    fail(f"{call} is not dout * mask")


# --------------------------------------------------------- predict the mean

_H, _P_PRED, _SHAPE, _N_MASKS = 2.0, 0.3, (400, 250), 300


def _measure_means():
    """Means of the inverted-dropout output of a constant activation h, over many masks.

    The output's mean is h / (1 - p) times the kept fraction, and the number of kept entries
    of one mask is Binomial(n, 1 - p): drawing that count is the same experiment as drawing
    the n entries, only faster.
    """
    n = _SHAPE[0] * _SHAPE[1]
    kept = np.random.default_rng(5).binomial(n, 1 - _P_PRED, size=_N_MASKS)
    return _H / (1 - _P_PRED) * kept / n


def check_dropout_mean_prediction(predicted_mean, predicted_std_of_mean):
    """Check predictions for inverted dropout with p = 0.3 on an activation h = 2.0 everywhere
    (shape (400, 250)): the mean of the training-time output over its 100,000 entries, and the
    standard deviation of that mean from one mask to the next; both against 300 sampled masks
    (mean within 1 %, std within 20 %).

    Diagnoses for the mean: the unscaled expectation (1 - p) h; the value of a kept entry
    h / (1 - p); p h. For the std: the std of ONE entry (no division by sqrt(n)); the variance
    instead of the std; division by n instead of sqrt(n); the unscaled Bernoulli variance
    h**2 p (1 - p); the factor h forgotten; zero (the mean does fluctuate).
    """
    preds = read_predictions(predicted_mean=predicted_mean, predicted_std_of_mean=predicted_std_of_mean)
    means = _measure_means()
    h, p, n = _H, _P_PRED, _SHAPE[0] * _SHAPE[1]

    def near(value, target, tol):
        return abs(value - target) <= tol * abs(target)

    pm = preds["predicted_mean"]
    if not near(pm, means.mean(), 0.01):
        hints = [((1 - p) * h, "that is the expected output WITHOUT the 1/(1 - p) scaling. "
                               "Inverted dropout scales the kept entries up, which exactly "
                               "compensates for the dropped ones"),
                 (h / (1 - p), "that is the value of one KEPT entry; a fraction p of the entries "
                               "is 0, so average over kept and dropped"),
                 (p * h, "a fraction p is dropped, 1 - p is kept and scaled by 1/(1 - p): what "
                         "is the average?")]
        for target, hint in hints:
            if near(pm, target, 0.01):
                fail(f"predicted_mean = {pm:g}: {hint}")
        fail(f"predicted_mean = {pm:g} is not close to the measured mean output. Each entry is "
             f"h/(1 - p) with probability 1 - p and 0 otherwise: its expectation is the mean")

    ps = preds["predicted_std_of_mean"]
    measured_std = means.std(ddof=1)
    if not near(ps, measured_std, 0.2):
        var1 = h ** 2 * p / (1 - p)                      # variance of one entry
        hints = [
            (0.0, "the mean of 100,000 random entries is itself random: it changes a little "
                  "from one mask to the next"),
            (np.sqrt(var1), "that is the std of ONE entry. The mean of n independent entries "
                            "has std sqrt(Var(entry) / n), with n = 400 * 250"),
            (var1 / n, "that is the VARIANCE of the mean; take its square root"),
            (np.sqrt(var1) / n, "the std of a mean of n independent entries is "
                                "std(entry) / sqrt(n), not / n"),
            (h * np.sqrt(p * (1 - p) / n),
             "that is the std for the UNSCALED mask (entries h or 0). A kept entry is "
             "h / (1 - p): recompute Var(entry) = E[entry**2] - E[entry]**2"),
            (np.sqrt(p / (1 - p) / n), "the factor h is missing: Var(entry) is proportional "
                                       "to h**2"),
        ]
        for target, hint in hints:
            if (target == 0.0 and ps == 0.0) or (target != 0.0 and near(ps, target, 0.2)):
                fail(f"predicted_std_of_mean = {ps:g}: {hint}")
        fail(f"predicted_std_of_mean = {ps:g} is not within 20 % of the measured spread. Compute "
             f"Var(entry) = E[entry**2] - E[entry]**2 for one entry, then the std of a mean of "
             f"n independent entries")
    passed("dropout_mean_prediction")


# ------------------------------------------------------- accuracy in eval mode

def accuracy_test_model():
    """The fixed inputs of check_eval_accuracy: a little classifier with dropout, 20 examples
    X (20, 6) and labels y (20,) that its evaluation-mode network gets right on 15."""
    from ..activations import ReLU
    from ..dropout import Dropout
    from ..layers import Linear
    from ..module import Sequential

    rng = np.random.default_rng(7)
    model = Sequential(Linear(6, 40, rng=rng), ReLU(), Dropout(0.5, rng=8), Linear(40, 4, rng=rng))
    X = rng.standard_normal((20, 6))
    model.eval()
    pred = model.forward(X).argmax(axis=1)
    model.train()
    y = pred.copy()
    y[:5] = (pred[:5] + 1) % 4
    return model, X, y


def check_eval_accuracy(eval_accuracy):
    """Check ``eval_accuracy(model, X, y) -> float``: the fraction of examples whose largest
    logit is the label, computed in EVALUATION mode, with the model left in the mode it was
    in (training or evaluation).

    Diagnoses: dropout active during the measurement (model.eval() missing — noticed because
    the dropout layer drew random numbers); the model left in evaluation mode after the call
    (model.train() missing), or switched to training mode when it had been in evaluation
    mode; a percentage instead of a fraction; the argmax over the wrong axis; a count instead
    of a fraction.
    """
    call = "model, X, y = checks.dropout.accuracy_test_model(); eval_accuracy(model, X, y)"
    for start_training in (True, False):
        model, X, y = accuracy_test_model()
        model.train(start_training)
        dropout = model[2]
        state = dropout.rng.bit_generator.state
        got = as_array(eval_accuracy(model, X.copy(), y.copy()), call)
        mode = "training" if start_training else "evaluation"
        if got.size != 1:
            fail(f"{call} returned an array of shape {got.shape}; return ONE number, the "
                 f"fraction of correct predictions")
        got = float(got)
        if start_training and dropout.rng.bit_generator.state != state:
            fail(f"{call}: the dropout layer drew random numbers during your measurement, so it "
                 f"was in TRAINING mode. Call model.eval() before the forward pass: accuracy is "
                 f"measured with dropout off")
        if model.training != start_training:
            now = "training" if model.training else "evaluation"
            fail(f"{call}: the model was in {mode} mode before your call and is in {now} mode "
                 f"after it. Remember model.training first and restore it at the end "
                 f"(model.train(was_training)); otherwise training silently continues without "
                 f"dropout")
        model.eval()
        correct = (model.forward(X).argmax(axis=1) == y)
        ref = correct.mean()
        if close(got, ref):
            continue
        if close(got, 100 * ref):
            fail(f"{call} returned {got:g}: return a fraction between 0 and 1, not a percentage")
        if close(got, correct.sum()):
            fail(f"{call} returned {got:g}, a count: divide by the number of examples")
        fail(f"{call} returned {got:g}, which is not the fraction of examples whose largest logit "
             f"(argmax over the classes, axis=1) equals the label")
    passed("eval_accuracy")
