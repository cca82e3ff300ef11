"""Checks for exercises/00_foundations.ipynb: a stable softmax, cross-entropy with its
gradient, the initial-loss sanity value ln K, and a standardizer fitted on training data.

Each check with inputs takes ``seed=None``: the public inputs its hints print, or, with an
integer seed, other inputs of the same kind (the grader's hidden tests)."""
import numpy as np

from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, read_predictions, unpack
from ._fp import call_recording_fp_warnings


def _softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _no_keepdims(z, in_max=True, in_sum=True):
    m = z.max(axis=1) if in_max else z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    return e / (e.sum(axis=1) if in_sum else e.sum(axis=1, keepdims=True))


# ------------------------------------------------------------------------- softmax

_Z_SQUARE = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [-2.0, 0.0, 0.3]])
_Z_WIDE = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.0, 1.0, 0.5]])
_Z_COLUMN = np.array([[0.0], [3.0], [-1.0], [2.0]])
_Z_HUGE = np.array([[1000.0, 999.0, 998.0]])
_Z_MIXED = np.array([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -1001.0]])
# a row that spans more than exp's range: only the max shift keeps every exponent <= 0
_Z_SPREAD = np.array([[800.0, 0.0, -800.0]])


def _softmax_inputs(seed):
    """The logits of check_softmax: a square batch, a wide one, one column, a row of huge
    logits, a huge and a very negative row together, a row spanning more than exp's range."""
    if seed is None:
        return dict(square=_Z_SQUARE, column=_Z_COLUMN, wide=_Z_WIDE, huge=_Z_HUGE,
                    mixed=_Z_MIXED, spread=_Z_SPREAD)
    g = np.random.default_rng(seed)
    n = int(g.integers(3, 6))
    rows = int(g.integers(2, 5))
    k = int(g.integers(3, 6))
    big = float(g.integers(800, 1600))
    spread = float(g.integers(750, 1500)) * np.array([1.0, 0.0, -1.0])
    return dict(
        square=np.round(g.normal(0.0, 1.5, (n, n)), 2),
        column=np.round(g.normal(0.0, 2.0, (int(g.integers(3, 7)), 1)), 2),
        wide=np.round(g.normal(0.0, 1.5, (rows, rows + int(g.integers(1, 4)))), 2),
        huge=np.round(big + g.normal(0.0, 1.5, (1, k)), 1),
        mixed=np.round(np.vstack([big + g.normal(0.0, 1.5, k), -big + g.normal(0.0, 1.5, k)]), 1),
        spread=g.permutation(spread)[None, :],
    )


def _call_softmax(softmax, z):
    """Call softmax on a copy of z; return (output, fp warnings, Call)."""
    call = Call(f"softmax({fmt_array(z)})")
    z_in = z.copy()
    out, warns = call_recording_fp_warnings(softmax, z_in)
    if not np.array_equal(z_in, z):
        fail("Your softmax modifies its input in place (e.g. `z -= z.max(...)`): the caller's "
             "logits are gone. Compute `z - z.max(...)` into a new array instead", call)
    return as_array(out, "softmax's result", call), warns, call


@check()
def check_softmax(softmax, *, seed=None):
    """Check ``softmax(z)``, row-wise softmax of logits z of shape (N, K).

    Diagnoses: max or sum without keepdims (wrong broadcasting; on a one-column input it is
    a wrong shape), max or sum over the wrong axis, rows that do not sum to 1, the input
    modified in place, no max subtraction (overflow / nan for logits near 1000), one global
    max instead of one per row (nan when rows have very different scales), the row's min or
    mean subtracted instead of its max (overflow on a row that spans more than exp's range).
    """
    inputs = _softmax_inputs(seed)
    z = inputs["square"]
    got, _, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, "softmax's result", call)
    for variant in (_no_keepdims(z), _no_keepdims(z, in_sum=False), _no_keepdims(z, in_max=False)):
        if close(got, variant):
            fail("Your softmax's `z.max(axis=1)` or `.sum(axis=1)` seems to have lost its axis: "
                 "a (N,) array broadcasts against (N, K) along the wrong axis (on a square input "
                 "even without an error). Use `keepdims=True`", call)
    if np.allclose(got.sum(axis=0), 1.0) and not np.allclose(got.sum(axis=1), 1.0):
        fail("The COLUMNS of your softmax's output sum to 1. Softmax normalizes each row (one "
             "example's K logits): use axis=1", call)
    e_col = np.exp(z - z.max(axis=0, keepdims=True))
    if close(got, e_col / e_col.sum(axis=1, keepdims=True)):
        fail("Your softmax subtracts the max of each COLUMN. Subtract each row's max "
             "(axis=1, keepdims=True): one constant per example leaves its probabilities "
             "unchanged, a constant per class does not", call)
    if np.all(np.isfinite(got)) and not np.allclose(got.sum(axis=1), 1.0):
        fail("The rows of your softmax's output do not sum to 1, so they are not probability "
             "distributions. Divide exp(z - max) by its sum over each row", call)
    if not close(got, _softmax(z)):
        fail("softmax returned values that are not exp(z_k) / sum_j exp(z_j) row by row", call)

    z = inputs["column"]
    got, _, call = _call_softmax(softmax, z)
    if got.shape == (len(z), len(z)):
        fail(f"softmax returned shape {got.shape} for one-column logits (N, 1): an (N,) array "
             f"of row maxima or sums broadcast against (N, 1) into an (N, N) matrix. Use "
             f"`keepdims=True`", call)
    check_shape(got, z.shape, "softmax's result", call)
    if not close(got, _softmax(z)):
        fail("softmax is wrong on one-column logits: with a single class every probability "
             "must be exactly 1", call)

    z = inputs["wide"]
    got, _, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, "softmax's result", call)
    if not close(got, _softmax(z)):
        fail("softmax returned values that are not the row-wise softmax on a batch with more "
             "classes than examples (K > N)", call)

    z = inputs["huge"]
    got, warns, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, "softmax's result", call)
    if not np.all(np.isfinite(got)) or any("overflow" in w for w in warns):
        fail("Your softmax overflows on large logits: exp of anything above about 709 is inf "
             "in float64, and inf / inf is nan. Subtract the row's maximum before "
             "exponentiating; softmax does not change when the same constant is subtracted "
             "from every logit", call)
    if not close(got, _softmax(z)):
        fail("softmax is finite but wrong on large logits: the max subtraction must leave the "
             "probabilities unchanged (compare with the same logits minus their maximum)", call)

    z = inputs["mixed"]
    got, warns, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, "softmax's result", call)
    if not np.all(np.isfinite(got)) or warns:
        fail("Your softmax gives nan or a floating-point warning for the second row. Did you "
             "subtract one max of the whole array? The second row lies thousands below it, "
             "its exp underflows to 0 everywhere, and 0 / 0 is nan. Subtract each row's own "
             "max (axis=1, keepdims=True)", call)
    if not close(got, _softmax(z)):
        fail("softmax returned values that are not the row-wise softmax", call)

    z = inputs["spread"]
    got, warns, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, "softmax's result", call)
    if not np.all(np.isfinite(got)) or any("overflow" in w for w in warns):
        fail("Your softmax overflows on a row whose logits span more than exp's range. Did you "
             "subtract the row's min or mean instead of its max? Only the max makes every "
             "exponent <= 0, so that no exp can overflow", call)
    if not close(got, _softmax(z)):
        fail("softmax returned values that are not the row-wise softmax on a row with a very "
             "wide spread of logits", call)
    passed("softmax")


# ------------------------------------------------------------------ cross-entropy

_Z_CE = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -0.5], [1.5, 1.5, -2.0], [-1.0, 0.3, 0.8]])
_Y_CE = np.array([0, 2, 1, 2])
_Z_CE_BIG = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
_Y_CE_BIG = np.array([2, 0])


def _ce_inputs(seed):
    """(z, y) of a small batch and (z, y) of logits whose gold class lies far below the max."""
    if seed is None:
        return (_Z_CE, _Y_CE), (_Z_CE_BIG, _Y_CE_BIG)
    g = np.random.default_rng(seed)
    n, k = int(g.integers(4, 9)), int(g.integers(3, 7))
    z = np.round(g.normal(0.0, 1.5, (n, k)), 2)
    y = g.integers(0, k, n)
    rows, gold = [], []
    for _ in range(int(g.integers(2, 4))):
        row = g.permutation(float(g.integers(800, 1500)) * np.array([1.0, 0.0, -1.0]))
        rows.append(row)
        gold.append(int(g.choice(np.flatnonzero(row < row.max()))))
    return (z, y), (np.array(rows), np.array(gold))


def _reference_ce(z, y):
    n, k = z.shape
    onehot = np.eye(k)[y]
    return -_log_softmax(z)[np.arange(n), y].mean(), (_softmax(z) - onehot) / n


def _call_ce(cross_entropy, z, y):
    call = Call(f"cross_entropy({fmt_array(z)}, {fmt_array(y)})")
    z_in, y_in = z.copy(), y.copy()
    result, warns = call_recording_fp_warnings(cross_entropy, z_in, y_in)
    if not np.array_equal(z_in, z) or not np.array_equal(y_in, y):
        fail("Your cross_entropy modifies its input arrays in place; compute new arrays instead",
             call)
    loss, dz = unpack(result, ("loss", "dz"), "cross_entropy", call)
    loss = as_array(loss, "cross_entropy's loss", call)
    if loss.size != 1:
        fail(f"cross_entropy's loss should be ONE number, the mean over the batch; got an array "
             f"of shape {loss.shape}. Did you return the per-example losses without averaging?",
             call)
    dz = as_array(dz, "cross_entropy's dz", call)
    check_shape(dz, z.shape, "cross_entropy's dz", call)
    return float(loss), dz, warns, call


@check()
def check_cross_entropy(cross_entropy, *, seed=None):
    """Check ``cross_entropy(z, y) -> (loss, dz)`` for logits z (N, K) and integer labels y (N,).

    loss = -(1/N) sum_i log softmax(z_i)[y_i]; dz = (softmax(z) - onehot(y)) / N.
    Diagnoses: loss summed instead of averaged or divided by N*K, negative sign forgotten,
    log-sum-exp term missing, per-example losses returned; dz without 1/N, with the wrong
    sign, without the one-hot subtracted, divided by N*K; log of a softmax that underflows
    (inf for a gold logit far below the max); exp of unshifted logits that overflows; an
    epsilon or a clip inside the log that caps the loss; inputs changed in place.
    """
    (z, y), (z_big, y_big) = _ce_inputs(seed)
    n, k = z.shape
    loss, dz, _, call = _call_ce(cross_entropy, z, y)
    ref_loss, ref_dz = _reference_ce(z, y)
    if not np.isfinite(loss):
        fail(f"cross_entropy returned a loss of {loss}: check the log of the gold-class "
             f"probabilities", call)
    if close(loss, n * ref_loss):
        fail("Your cross_entropy loss is the SUM over the batch; divide by N to get the mean", call)
    if close(loss, ref_loss / k):
        fail("Your cross_entropy averages over all N*K entries; average over the N examples "
             "only (each example contributes one term, -log of its gold-class probability)", call)
    if close(loss, -ref_loss):
        fail("Your cross_entropy loss is negative. Cross-entropy is the NEGATIVE log-likelihood: "
             "-log p is positive because p < 1", call)
    if close(loss, -z[np.arange(n), y].mean()):
        fail("Your cross_entropy loss is -z[gold] only; the log-probability is "
             "z[gold] - log sum_j exp(z_j) (the log-sum-exp term normalizes)", call)
    if not close(loss, ref_loss):
        fail(f"cross_entropy returned loss {loss:.6g}, which is not the mean over the examples "
             f"of -log softmax(z_i)[y_i]", call)
    onehot = np.eye(k)[y]
    p = _softmax(z)
    if close(dz, n * ref_dz):
        fail("Your cross_entropy's dz is N times too large. The loss is a mean over N examples, "
             "so its gradient carries a factor 1/N", call)
    if close(dz, -ref_dz):
        fail("Your cross_entropy's dz has the wrong sign; it is softmax(z) - onehot(y), not the "
             "reverse", call)
    if close(dz, p / n) or close(dz, p):
        fail("Your cross_entropy's dz looks like softmax(z) (/ N) alone; subtract the one-hot "
             "of the gold labels", call)
    if close(dz, ref_dz / k):
        fail("Your cross_entropy's dz is divided by N*K; the 1/N comes from the mean over "
             "examples only", call)
    if close(dz, (p - onehot) * (1 - onehot) / n) or close(dz, -onehot / n):
        fail("Your cross_entropy's dz is wrong in the gold-class entries: the gradient is "
             "softmax(z) - onehot(y) in every entry", call)
    if not close(dz, ref_dz):
        fail("cross_entropy's dz is not (softmax(z) - onehot(y)) / N", call)

    loss, dz, warns, call = _call_ce(cross_entropy, z_big, y_big)
    ref_loss, ref_dz = _reference_ce(z_big, y_big)
    if any("overflow" in w for w in warns):
        fail("Your cross_entropy overflows on large logits: exp of anything above about 709 is "
             "inf. Subtract each row's max before exponentiating: log-probabilities are "
             "z - max - log(sum(exp(z - max))) (log-sum-exp)", call)
    if not np.isfinite(loss) or not np.all(np.isfinite(dz)) or warns:
        fail("Your cross_entropy gives inf/nan or a floating-point warning. The probability of a "
             "gold class whose logit lies far below the max underflows to 0, and log 0 = -inf. "
             "Compute the log-probabilities directly: z - max - log(sum(exp(z - max))) "
             "(log-sum-exp), never log(softmax(z))", call)
    if not close(dz, ref_dz):
        fail("cross_entropy's dz is finite but wrong for logits far apart: it is "
             "(softmax(z) - onehot(y)) / N there too", call)
    if loss < 0.5 * ref_loss:
        fail("Your cross_entropy's loss is finite but far too small when the gold class's "
             "probability underflows: an epsilon inside the log (log(p + 1e-12)) or a clipped p "
             "caps each term. Compute the log-probabilities with log-sum-exp instead, "
             "z - max - log(sum(exp(z - max))), never log(softmax(z))", call)
    if not close(loss, ref_loss):
        fail("Your cross_entropy's loss is finite but wrong for logits far apart; it must equal "
             "the mean of each gold logit's distance below log-sum-exp", call)
    passed("cross_entropy")


# ------------------------------------------------------------------- initial loss

def _measure_initial_loss(k=10, n=500, d=64, hidden=100, seed=0):
    """Loss of a fresh d-hidden-k ReLU classifier with a small last layer on random inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rng.integers(0, k, n)
    w1 = rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d)
    w2 = 0.01 * rng.standard_normal((hidden, k)) * np.sqrt(2.0 / hidden)
    z = np.maximum(x @ w1, 0.0) @ w2
    return float(-_log_softmax(z)[np.arange(n), y].mean())


@check(hidden=False, why="a prediction about the one classifier the exercise describes (10 "
                         "classes, a last layer scaled down): the number is the answer, ln 10")
def check_initial_loss(predicted_loss):
    """Check a prediction of the initial loss of a fresh 10-class classifier against a
    measurement (a classifier whose last layer starts small, on random inputs).

    Diagnoses: predicting the probability 1/K instead of the loss, K instead of ln K,
    log10 or log2 instead of the natural log, 0, a negative loss, the error rate 1 - 1/K.
    """
    what = "predicted_loss"
    pred = read_predictions(predicted_loss=predicted_loss)[what]
    k = 10
    measured = _measure_initial_loss(k)
    if abs(pred - measured) <= 0.05:
        passed("initial_loss")
        return
    if abs(pred - 1 / k) < 0.02:
        fail(f"{what} = {pred:g} is the PROBABILITY an untrained classifier gives each class, "
             f"including the gold one. The loss is the negative log of that probability")
    if abs(pred - k) < 0.5:
        fail(f"{what} = {pred:g}: the loss is -log(1/K), and -log(1/K) = log K, not K")
    if abs(pred - np.log10(k)) < 0.05:
        fail(f"{what} = {pred:g}: that is log10. Cross-entropy uses the natural log (np.log)")
    if abs(pred - np.log2(k)) < 0.05:
        fail(f"{what} = {pred:g}: that is log2 (bits). Cross-entropy here uses the natural log "
             f"(np.log)")
    if abs(pred) < 0.05:
        fail(f"{what} = {pred:g}: a loss of 0 means the gold class gets probability 1. An "
             f"untrained classifier knows nothing yet; what probability does it give each class?")
    if pred < 0:
        fail(f"{what} = {pred:g}: cross-entropy -log p is never negative, because p <= 1")
    if abs(pred - (1 - 1 / k)) < 0.02:
        fail(f"{what} = {pred:g} is the error rate of random guessing, not the cross-entropy")
    fail(f"{what} = {pred:g} is far from the measured initial loss. Which probability does a "
         f"classifier that knows nothing give the gold class, and what is -log of it?")


# ------------------------------------------------------------------- standardize

_X_TRAIN = np.array([[1.0, 10.0, 5.0], [2.0, 20.0, 5.0], [3.0, 60.0, 5.0], [6.0, 30.0, 5.0]])
_X_TEST = np.array([[0.0, 40.0, 5.0], [4.0, 0.0, 7.0], [10.0, 25.0, 5.0]])


def _standardize_inputs(seed):
    """X_train with one constant feature, and X_test in which that feature varies."""
    if seed is None:
        return _X_TRAIN, _X_TEST
    g = np.random.default_rng(seed)
    n, m, d = int(g.integers(4, 8)), int(g.integers(3, 6)), int(g.integers(3, 6))
    centres = np.round(g.uniform(-5.0, 20.0, d), 0)
    scales = g.choice([1.0, 3.0, 10.0, 30.0], d)
    while True:
        train = np.round(g.normal(centres, scales, (n, d)), 1)
        test = np.round(g.normal(centres, 1.5 * scales, (m, d)), 1)
        # an integer: its mean is exact, so the constant feature's std is exactly 0 (as in public)
        const, value = int(g.integers(d)), float(g.integers(-5, 11))
        train[:, const] = value
        test[:, const] = value
        test[int(g.integers(m)), const] = value + float(g.choice([-3.0, -1.0, 2.0, 4.0]))
        others = np.delete(train, const, axis=1)
        if np.all(others.std(axis=0) > 0.1):
            return train, test


def _stats(x, ddof=0, axis=0):
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, ddof=ddof, keepdims=True)
    return mean, np.where(std > 1e-8, std, 1.0)


def _standardized(x, fitted_on, ddof=0):
    mean, std = _stats(fitted_on, ddof)
    return (x - mean) / std


@check()
def check_standardize(Standardize, *, seed=None):
    """Check a ``Standardize`` class: ``fit(X)`` stores the per-feature mean and (population)
    std of X and returns self; ``transform(X)`` returns (X - mean) / std with those stored
    statistics; features with training std 0 keep std 1.

    Diagnoses: fit not returning self; statistics of the data being transformed (the leak);
    division by a zero std (nan/inf) or by a tiny epsilon that blows up test values; the
    unbiased std (ddof=1); statistics per example (axis=1) instead of per feature; division
    by the variance; the mean not subtracted; inputs modified in place.
    """
    train, test = _standardize_inputs(seed)
    setup = f"X_train = {fmt_array(train)}; X_test = {fmt_array(test)}"
    call = Call("s = Standardize(); s.fit(X_train)", setup)
    s = Standardize()
    x_fit = train.copy()
    returned = s.fit(x_fit)
    if not np.array_equal(x_fit, train):
        fail("Standardize.fit modifies X_train in place; compute the statistics without "
             "modifying it", call)
    if returned is not s:
        fail("Standardize.fit should end with `return self`, so that "
             "`Standardize().fit(X_train).transform(X)` works", call)

    x_in = train.copy()
    call = Call("s = Standardize(); s.fit(X_train); s.transform(X_train)", setup)
    out = as_array(s.transform(x_in), "s.transform(X_train)", call)
    if not np.array_equal(x_in, train):
        fail("Standardize.transform modifies its input in place (e.g. `X -= self.mean`); "
             "return a new array", call)
    check_shape(out, train.shape, "s.transform(X_train)", call)
    if not np.all(np.isfinite(out)):
        fail("Your Standardize.transform(X_train) contains nan or inf. One feature is constant "
             "in X_train, so its std is 0 and you divided by zero. Use std 1 for such features "
             "(e.g. np.where(std > 1e-8, std, 1.0)): they are only centred", call)
    if close(out, _standardized(train, train, ddof=1)):
        fail("Your Standardize uses the unbiased std (ddof=1). Standardizing uses the population "
             "std of the training set, np.std's default (ddof=0)", call)
    mean_r, std_r = _stats(train, axis=1)
    if close(out, (train - mean_r) / std_r):
        fail("Your Standardize computes one mean and std per EXAMPLE (row). Standardize each "
             "FEATURE (column): statistics over axis=0", call)
    mean, std = _stats(train)
    if close(out, (train - mean) / std ** 2):
        fail("Your Standardize divides by the variance; divide by the std, its square root",
             call)
    if close(out, train / std):
        fail("Your Standardize.transform divides by the std but does not subtract the mean: "
             "(X - mean) / std", call)
    if not close(out, _standardized(train, train)):
        fail("Your Standardize.transform(X_train) is not (X_train - mean) / std per feature "
             "(with std 1 for a constant feature)", call)

    x_in = test.copy()
    call = Call("s = Standardize(); s.fit(X_train); s.transform(X_test)", setup)
    out = as_array(s.transform(x_in), "s.transform(X_test)", call)
    if not np.array_equal(x_in, test):
        fail("Standardize.transform modifies its input in place; return a new array", call)
    check_shape(out, test.shape, "s.transform(X_test)", call)
    if close(out, _standardized(test, test)) or np.allclose(out.mean(axis=0), 0.0):
        fail("Your Standardize.transform(X_test) has mean 0 per feature, so it used the "
             "statistics of X_test itself. That is the leak: the test data must be transformed "
             "with the mean and std that fit computed on the training set (store them in fit, "
             "use them in transform)", call)
    if not np.all(np.isfinite(out)) or np.abs(out).max() > 1e3:
        fail("A feature was constant in training (std 0) but varies in X_test, and your "
             "Standardize turns that change into nan or astronomically large values: dividing "
             "by 0 or by a tiny epsilon does that. Use std 1 for features whose training std "
             "is 0", call)
    if not close(out, _standardized(test, train)):
        fail("Your Standardize.transform(X_test) is not (X_test - mean_train) / std_train per "
             "feature", call)
    passed("standardize")
