"""Checks for exercises/05_dropout.ipynb: inverted dropout forward (training and evaluation)
and backward, a prediction of the mean and its sampling error, and an accuracy measured in
evaluation mode."""
import numpy as np

from ._common import Call, as_array, check, check_shape, close, fail, passed, read_predictions, unpack


# ------------------------------------------------------------------ forward pass

_P = 0.2


def _forward_inputs(seed):
    """The input x, the drop rate p and the seeds of the generators; with ``seed=None`` the
    public ones, printed in the hints. Returns (x, p, seeds, setup text)."""
    if seed is None:
        rows, cols, low, high, p, seeds = 400, 250, 0.5, 2.0, _P, (1, 2)
    else:
        g = np.random.default_rng(seed)
        rows, cols = int(g.integers(300, 480)), int(g.integers(200, 300))
        low, high = float(g.uniform(0.2, 0.8)), float(g.uniform(1.5, 3.0))
        p = float(g.choice([0.1, 0.15, 0.25, 0.3, 0.35, 0.4, 0.6]))
        seeds = tuple(int(v) for v in g.integers(10, 10_000, size=2))
    x = np.random.default_rng(0 if seed is None else seed).uniform(low, high, size=(rows, cols))
    setup = (f"x = np.random.default_rng({0 if seed is None else seed}).uniform({low:g}, {high:g}, "
             f"size=({rows}, {cols}))")
    return x, p, seeds, setup


def _call_forward(dropout_forward, x, p, training, seed, setup, rng=None):
    call = Call(f"dropout_forward(x, p={p:g}, training={training}, "
                f"rng=np.random.default_rng({seed}))", setup)
    x_in = x.copy()
    result = dropout_forward(x_in, p, training, np.random.default_rng(seed) if rng is None else rng)
    out, mask = unpack(result, ("out", "mask"), "dropout_forward", call)
    if not np.array_equal(x_in, x):
        fail("dropout_forward changed x in place (e.g. `x *= mask`); return a new array, "
             "out = x * mask", call)
    out = as_array(out, "dropout_forward's out", call)
    check_shape(out, x.shape, "dropout_forward's out", call)
    if mask is None:
        fail("dropout_forward's mask is None. Return the mask as an array shaped like x (in "
             "evaluation mode: np.ones_like(x)), so that the backward pass is always dout * mask",
             call)
    mask = as_array(mask, "dropout_forward's mask", call)
    check_shape(mask, x.shape, "dropout_forward's mask", call)
    return out, mask, call


@check()
def check_dropout_forward(dropout_forward, *, seed=None):
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
    x, p, (s1, s2), setup = _forward_inputs(seed)

    out, mask, call = _call_forward(dropout_forward, x, p, False, s1, setup)
    if not np.array_equal(out, x):
        if np.any(out == 0):
            fail("Some entries are zero in EVALUATION mode. Dropout is switched off at "
                 "evaluation time: return x unchanged", call)
        if close(out, (1 - p) * x):
            fail("You scaled by (1 - p) at evaluation time. That is the old convention; "
                 "INVERTED dropout scales the kept units by 1 / (1 - p) during training, so that "
                 "evaluation is the identity", call)
        fail("In evaluation mode out must be x itself (no dropping, no scaling)", call)
    if not np.array_equal(mask, np.ones_like(x)):
        fail("In evaluation mode the mask must be all ones (np.ones_like(x)), so that the "
             "backward pass dout * mask lets every gradient through", call)

    out, mask, call = _call_forward(dropout_forward, x, p, True, s1, setup)
    dropped = out == 0
    frac = dropped.mean()
    se = np.sqrt(p * (1 - p) / x.size)
    if frac == 0:
        fail(f"Nothing was dropped in training mode: zero each entry with probability p "
             f"(here p = {p:g})", call)
    if abs(frac - (1 - p)) < 5 * se:
        fail(f"A fraction {frac:.3f} of the entries was dropped: you used p as the KEEP "
             f"probability. In PyTorch and in this course p is the DROP rate: drop where "
             f"u < p, keep where u >= p (u = rng.random(x.shape))", call)
    if abs(frac - p) > 5 * se:
        fail(f"A fraction {frac:.3f} of the entries was dropped, far from p = {p:g}: each entry "
             f"must be dropped independently with probability p", call)
    ratio = out[~dropped] / x[~dropped]
    if not np.allclose(ratio, ratio[0], rtol=1e-9):
        fail("The kept entries are not all scaled by the same factor: out = x * mask with "
             "mask = keep / (1 - p)", call)
    scale = ratio[0]
    if not np.isclose(scale, 1 / (1 - p), rtol=1e-9):
        if np.isclose(scale, 1.0):
            fail("The kept entries are not scaled. Inverted dropout divides them by (1 - p) "
                 "during training, so that the expected output equals x and evaluation needs no "
                 "scaling", call)
        if np.isclose(scale, 1 / p):
            fail("The kept entries are divided by p. p is the DROP rate; the kept fraction is "
                 "1 - p, so divide by (1 - p)", call)
        if np.isclose(scale, 1 - p):
            fail("The kept entries are multiplied by (1 - p); inverted dropout DIVIDES them by "
                 "(1 - p), which keeps the mean", call)
        fail(f"The kept entries are scaled by {scale:g}; inverted dropout divides them by "
             f"(1 - p)", call)
    if not close(out, x * mask):
        if close(out, x * mask / (1 - p)):
            fail("The returned mask is not scaled (it holds 0 and 1). Return the SCALED mask, "
                 "keep / (1 - p), so that out = x * mask and the backward pass is dout * mask",
                 call)
        fail("out is not x * mask: return the mask you actually applied", call)

    out2, _, call2 = _call_forward(dropout_forward, x, p, True, s1, setup)
    if not np.array_equal(out, out2):
        fail("A second call with a generator of the same seed gave a different result: draw "
             "the mask from the `rng` argument (rng.random(x.shape)), not from np.random", call2)
    rng = np.random.default_rng(s2)
    first, _, _ = _call_forward(dropout_forward, x, p, True, s2, setup, rng=rng)
    second, _, _ = _call_forward(dropout_forward, x, p, True, s2, setup, rng=rng)
    if np.array_equal(first, second):
        fail("Two calls with the SAME generator dropped exactly the same entries. Draw from the "
             "rng you are given; do not create or reseed a generator inside the function",
             Call(f"rng = np.random.default_rng({s2}); dropout_forward(x, {p:g}, True, rng); "
                  f"dropout_forward(x, {p:g}, True, rng)", setup))
    passed("dropout_forward")


# ----------------------------------------------------------------- backward pass

def _backward_inputs(seed):
    if seed is None:
        s, shape, p = 3, (4, 6), 0.25
    else:
        g = np.random.default_rng(seed)
        s, shape = int(g.integers(10, 10_000)), (int(g.integers(3, 9)), int(g.integers(4, 12)))
        p = float(g.choice([0.2, 0.3, 0.4, 0.6]))
    rng = np.random.default_rng(s)
    mask = (rng.random(shape) >= p) / (1 - p)
    dout = rng.standard_normal(shape)
    call = Call("dropout_backward(dout, mask)",
                f"rng = np.random.default_rng({s}); mask = (rng.random({shape}) >= {p:g}) / "
                f"{1 - p:g}; dout = rng.standard_normal({shape})")
    return mask, dout, call


@check()
def check_dropout_backward(dropout_backward, *, seed=None):
    """Check ``dropout_backward(dout, mask) -> dx`` = dout * mask, with the (scaled) mask of the
    forward pass.

    Diagnoses: a new mask drawn in the backward pass (zeros in the wrong places, or results
    that change from call to call); the inverted mask (gradient only where units were
    dropped); the mask ignored (dout returned); the mask returned without dout; the scaling
    lost (a boolean mask rebuilt from the scaled one); a second division by (1 - p); the
    inputs modified in place.
    """
    mask, dout, call = _backward_inputs(seed)
    args = (dout.copy(), mask.copy())
    dx = as_array(dropout_backward(*args), "dropout_backward's result", call)
    if not (np.array_equal(args[0], dout) and np.array_equal(args[1], mask)):
        fail("dropout_backward changed dout or mask in place; return a new array", call)
    check_shape(dx, dout.shape, "dropout_backward's result", call)
    ref = dout * mask
    if close(dx, ref):
        dx2 = as_array(dropout_backward(dout.copy(), mask.copy()), "dropout_backward's result", call)
        if not np.array_equal(dx, dx2):
            fail("dropout_backward gives a different result on every call: the backward pass "
                 "must not draw anything, it reuses the forward pass's mask", call)
        passed("dropout_backward")
        return
    if close(dx, dout):
        fail("dropout_backward returned dout unchanged. A dropped unit did not affect the "
             "loss, so its gradient is 0: multiply by the mask", call)
    if close(dx, mask):
        fail("dropout_backward returned the mask itself; the chain rule multiplies it by the "
             "upstream gradient: dx = dout * mask", call)
    if close(dx, dout * (mask > 0)):
        fail("The zeros are right but the 1 / (1 - p) scaling is lost. The forward pass "
             "multiplied the kept units by 1 / (1 - p), so their gradient gets the same factor: "
             "dx = dout * mask with the scaled mask", call)
    if close(dx, dout * mask * mask):
        fail("The scaling is applied twice; the mask is already scaled by 1 / (1 - p)", call)
    zeros = dx == 0
    if zeros.any() and np.array_equal(zeros, mask != 0):
        fail("The mask is inverted: your gradient flows only through the DROPPED units (where "
             "mask == 0) and is zero for the kept ones. A kept unit is where mask != 0 (it holds "
             "1 / (1 - p)); dx = dout * mask", call)
    if zeros.any() and not np.array_equal(zeros, mask == 0):
        fail("dx is zero in other places than the mask. Did you draw a NEW mask? The backward "
             "pass must use the mask of the forward pass, which it receives", call)
    fail("dropout_backward's result is not dout * mask", call)


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


@check(hidden=False, why="a prediction about the one scenario the exercise states (h = 2, p = 0.3, "
                         "400 x 250 entries): the numbers are the answer")
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

def accuracy_test_model(seed=None):
    """The fixed inputs of check_eval_accuracy: a little classifier with dropout, 20 examples
    X (20, 6) and labels y (20,) that its evaluation-mode network gets right on 15. With a
    ``seed`` (the grader's hidden test) the sizes, weights and the number right change."""
    from ..activations import ReLU
    from ..dropout import Dropout
    from ..layers import Linear
    from ..module import Sequential

    if seed is None:
        s, n, d, h, k, wrong = 7, 20, 6, 40, 4, 5
    else:
        g = np.random.default_rng(seed)
        s, n, d, h = int(g.integers(10, 10_000)), int(g.integers(16, 40)), int(g.integers(3, 9)), int(g.integers(20, 60))
        k = int(g.integers(3, 7))
        wrong = int(g.integers(2, n // 2))
    rng = np.random.default_rng(s)
    model = Sequential(Linear(d, h, rng=rng), ReLU(), Dropout(0.5, rng=s + 1), Linear(h, k, rng=rng))
    X = rng.standard_normal((n, d))
    model.eval()
    pred = model.forward(X).argmax(axis=1)
    model.train()
    y = pred.copy()
    y[:wrong] = (pred[:wrong] + 1) % k
    return model, X, y


@check()
def check_eval_accuracy(eval_accuracy, *, seed=None):
    """Check ``eval_accuracy(model, X, y) -> float``: the fraction of examples whose largest
    logit is the label, computed in EVALUATION mode, with the model left in the mode it was
    in (training or evaluation).

    Diagnoses: dropout active during the measurement (model.eval() missing — noticed because
    the dropout layer drew random numbers); the model left in evaluation mode after the call
    (model.train() missing), or switched to training mode when it had been in evaluation
    mode; a percentage instead of a fraction; the argmax over the wrong axis; a count instead
    of a fraction.
    """
    for start_training in (True, False):
        model, X, y = accuracy_test_model(seed)
        call = Call("eval_accuracy(model, X, y)",
                    "model, X, y = checks.dropout.accuracy_test_model()"
                    + ("" if start_training else "; model.eval()"))
        model.train(start_training)
        dropout = model[2]
        state = dropout.rng.bit_generator.state
        got = as_array(eval_accuracy(model, X.copy(), y.copy()), "eval_accuracy's result", call)
        mode = "training" if start_training else "evaluation"
        if got.size != 1:
            fail(f"eval_accuracy returned an array of shape {got.shape}; return ONE number, the "
                 f"fraction of correct predictions", call)
        got = float(got)
        if start_training and dropout.rng.bit_generator.state != state:
            fail("The dropout layer drew random numbers during your measurement, so it was in "
                 "TRAINING mode. Call model.eval() before the forward pass: accuracy is measured "
                 "with dropout off", call)
        if model.training != start_training:
            now = "training" if model.training else "evaluation"
            fail(f"The model was in {mode} mode before your call and is in {now} mode after it. "
                 f"Remember model.training first and restore it at the end "
                 f"(model.train(was_training)); otherwise training silently continues without "
                 f"dropout", call)
        model.eval()
        correct = (model.forward(X).argmax(axis=1) == y)
        ref = correct.mean()
        if close(got, ref):
            continue
        if close(got, 100 * ref):
            fail(f"eval_accuracy returned {got:g}: return a fraction between 0 and 1, not a "
                 f"percentage", call)
        if close(got, correct.sum()):
            fail(f"eval_accuracy returned {got:g}, a count: divide by the number of examples", call)
        fail(f"eval_accuracy returned {got:g}, which is not the fraction of examples whose "
             f"largest logit (argmax over the classes, axis=1) equals the label", call)
    passed("eval_accuracy")
