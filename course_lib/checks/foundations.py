"""Checks for exercises/00_foundations.ipynb: a stable softmax, cross-entropy with its
gradient, the initial-loss sanity value ln K, and a standardizer fitted on training data."""
import numpy as np

from ._common import as_array, check_shape, close, fail, fmt_array, passed
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


def _call_softmax(softmax, z):
    """Call softmax on a copy of z; return (output, fp warnings, call text)."""
    z_in = z.copy()
    out, warns = call_recording_fp_warnings(softmax, z_in)
    call = f"softmax({fmt_array(z)})"
    if not np.array_equal(z_in, z):
        fail(f"{call} changed its input array in place (e.g. `z -= z.max(...)`): the caller's "
             f"logits are gone. Compute `z - z.max(...)` into a new array instead")
    return as_array(out, call), warns, call


def check_softmax(softmax):
    """Check ``softmax(z)``, row-wise softmax of logits z of shape (N, K).

    Diagnoses: max or sum without keepdims (wrong broadcasting; on a one-column input it is
    a wrong shape), max or sum over the wrong axis, rows that do not sum to 1, the input
    modified in place, no max subtraction (overflow / nan for logits of 1000), one global
    max instead of one per row (nan when rows have very different scales).
    """
    z = _Z_SQUARE
    got, _, call = _call_softmax(softmax, z)
    check_shape(got, z.shape, call)
    keepdims_hint = (f"{call}: it looks like `z.max(axis=1)` or `.sum(axis=1)` lost its axis: a "
                     f"(N,) array broadcasts against (N, K) along the wrong axis (on this square "
                     f"input even without an error). Use `keepdims=True`")
    for variant in (_no_keepdims(z), _no_keepdims(z, in_sum=False), _no_keepdims(z, in_max=False)):
        if close(got, variant):
            fail(keepdims_hint)
    if np.allclose(got.sum(axis=0), 1.0) and not np.allclose(got.sum(axis=1), 1.0):
        fail(f"{call}: the COLUMNS of your output sum to 1. Softmax normalizes each row (one "
             f"example's K logits): use axis=1")
    e_col = np.exp(z - z.max(axis=0, keepdims=True))
    if close(got, e_col / e_col.sum(axis=1, keepdims=True)):
        fail(f"{call}: you subtracted the max of each COLUMN. Subtract each row's max "
             f"(axis=1, keepdims=True): one constant per example leaves its probabilities "
             f"unchanged, a constant per class does not")
    if np.all(np.isfinite(got)) and not np.allclose(got.sum(axis=1), 1.0):
        fail(f"{call}: the rows of your output do not sum to 1, so they are not probability "
             f"distributions. Divide exp(z - max) by its sum over each row")
    if not close(got, _softmax(z)):
        fail(f"{call} returned values that are not exp(z_k) / sum_j exp(z_j) row by row")

    got, _, call = _call_softmax(softmax, _Z_COLUMN)
    if got.shape == (4, 4):
        fail(f"{call} returned shape (4, 4), expected (4, 1): a (4,) array of row maxima or sums "
             f"broadcast against (4, 1) into a (4, 4) matrix. Use `keepdims=True`")
    check_shape(got, _Z_COLUMN.shape, call)
    if not close(got, _softmax(_Z_COLUMN)):
        fail(f"{call}: with a single class every probability must be exactly 1")

    got, _, call = _call_softmax(softmax, _Z_WIDE)
    check_shape(got, _Z_WIDE.shape, call)
    if not close(got, _softmax(_Z_WIDE)):
        fail(f"{call} returned values that are not the row-wise softmax (this input has N = 2 "
             f"rows and K = 4 classes)")

    got, warns, call = _call_softmax(softmax, _Z_HUGE)
    check_shape(got, _Z_HUGE.shape, call)
    if not np.all(np.isfinite(got)) or any("overflow" in w for w in warns):
        fail(f"{call} overflows: exp(1000) is inf in float64 and inf / inf is nan. Subtract the "
             f"row's maximum before exponentiating; softmax does not change when the same "
             f"constant is subtracted from every logit")
    if not close(got, _softmax(_Z_HUGE)):
        fail(f"{call} is finite but wrong: the max subtraction must leave the probabilities "
             f"unchanged (compare with the same logits minus 998)")

    got, warns, call = _call_softmax(softmax, _Z_MIXED)
    check_shape(got, _Z_MIXED.shape, call)
    if not np.all(np.isfinite(got)) or warns:
        fail(f"{call} gives nan or a floating-point warning for the second row. Did you subtract "
             f"one max of the whole array? The second row then becomes exp(-2000) = 0 "
             f"everywhere, and 0 / 0 is nan. Subtract each row's own max "
             f"(axis=1, keepdims=True)")
    if not close(got, _softmax(_Z_MIXED)):
        fail(f"{call} returned values that are not the row-wise softmax")
    passed("softmax")


# ------------------------------------------------------------------ cross-entropy

_Z_CE = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -0.5], [1.5, 1.5, -2.0], [-1.0, 0.3, 0.8]])
_Y_CE = np.array([0, 2, 1, 2])
_Z_CE_BIG = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
_Y_CE_BIG = np.array([2, 0])


def _reference_ce(z, y):
    n, k = z.shape
    onehot = np.eye(k)[y]
    return -_log_softmax(z)[np.arange(n), y].mean(), (_softmax(z) - onehot) / n


def _call_ce(cross_entropy, z, y):
    z_in, y_in = z.copy(), y.copy()
    result, warns = call_recording_fp_warnings(cross_entropy, z_in, y_in)
    call = f"cross_entropy({fmt_array(z)}, {fmt_array(y)})"
    if not np.array_equal(z_in, z) or not np.array_equal(y_in, y):
        fail(f"{call} changed its input arrays in place; compute new arrays instead")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return a pair (loss, dz), got {type(result).__name__}")
    loss = as_array(result[0], f"{call}[0] (the loss)")
    if loss.size != 1:
        fail(f"{call}: the loss should be ONE number, the mean over the batch; got an array of "
             f"shape {loss.shape}. Did you return the per-example losses without averaging?")
    dz = as_array(result[1], f"{call}[1] (dz)")
    check_shape(dz, z.shape, f"{call}: dz")
    return float(loss), dz, warns, call


def check_cross_entropy(cross_entropy):
    """Check ``cross_entropy(z, y) -> (loss, dz)`` for logits z (N, K) and integer labels y (N,).

    loss = -(1/N) sum_i log softmax(z_i)[y_i]; dz = (softmax(z) - onehot(y)) / N.
    Diagnoses: loss summed instead of averaged or divided by N*K, negative sign forgotten,
    log-sum-exp term missing, per-example losses returned; dz without 1/N, with the wrong
    sign, without the one-hot subtracted, divided by N*K; log of a softmax that underflows
    (inf for logits of ±1000); inputs changed in place.
    """
    z, y = _Z_CE, _Y_CE
    n, k = z.shape
    loss, dz, _, call = _call_ce(cross_entropy, z, y)
    ref_loss, ref_dz = _reference_ce(z, y)
    if not np.isfinite(loss):
        fail(f"{call} returned a loss of {loss}: check the log of the gold-class probabilities")
    if close(loss, n * ref_loss):
        fail(f"{call}: your loss is the SUM over the batch; divide by N to get the mean")
    if close(loss, ref_loss / k):
        fail(f"{call}: you averaged over all N*K entries; average over the N examples only "
             f"(each example contributes one term, -log of its gold-class probability)")
    if close(loss, -ref_loss):
        fail(f"{call}: your loss is negative. Cross-entropy is the NEGATIVE log-likelihood: "
             f"-log p is positive because p < 1")
    if close(loss, -z[np.arange(n), y].mean()):
        fail(f"{call}: your loss is -z[gold] only; the log-probability is "
             f"z[gold] - log sum_j exp(z_j) (the log-sum-exp term normalizes)")
    if not close(loss, ref_loss):
        fail(f"{call} returned loss {loss:.6g}, which is not the mean over the examples of "
             f"-log softmax(z_i)[y_i]")
    onehot = np.eye(k)[y]
    p = _softmax(z)
    if close(dz, n * ref_dz):
        fail(f"{call}: your dz is N times too large. The loss is a mean over N examples, so "
             f"its gradient carries a factor 1/N")
    if close(dz, -ref_dz):
        fail(f"{call}: your dz has the wrong sign; it is softmax(z) - onehot(y), not the reverse")
    if close(dz, p / n) or close(dz, p):
        fail(f"{call}: your dz looks like softmax(z) (/ N) alone; subtract the one-hot of the "
             f"gold labels")
    if close(dz, ref_dz / k):
        fail(f"{call}: your dz is divided by N*K; the 1/N comes from the mean over examples only")
    if close(dz, (p - onehot) * (1 - onehot) / n) or close(dz, -onehot / n):
        fail(f"{call}: your dz is wrong in the gold-class entries: the gradient is "
             f"softmax(z) - onehot(y) in every entry")
    if not close(dz, ref_dz):
        fail(f"{call}: dz is not (softmax(z) - onehot(y)) / N")

    z, y = _Z_CE_BIG, _Y_CE_BIG
    loss, dz, warns, call = _call_ce(cross_entropy, z, y)
    ref_loss, ref_dz = _reference_ce(z, y)
    if not np.isfinite(loss) or not np.all(np.isfinite(dz)) or warns:
        fail(f"{call} gives inf/nan or a floating-point warning. The probability of a gold class "
             f"whose logit is 2000 below the max underflows to 0 and log 0 = -inf. Compute the "
             f"log-probabilities directly: z - max - log(sum(exp(z - max))) (log-sum-exp), never "
             f"log(softmax(z))")
    if not close(loss, ref_loss) or not close(dz, ref_dz):
        fail(f"{call} is finite but wrong; the loss here must equal the mean of each gold "
             f"logit's distance below log-sum-exp")
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


def check_initial_loss(predicted_loss):
    """Check a prediction of the initial loss of a fresh 10-class classifier against a
    measurement (a classifier whose last layer starts small, on random inputs).

    Diagnoses: predicting the probability 1/K instead of the loss, K instead of ln K,
    log10 or log2 instead of the natural log, 0, a negative loss, the error rate 1 - 1/K.
    """
    what = "predicted_loss"
    if predicted_loss is None:
        fail(f"{what} is None: assign your prediction, a number, to it")
    value = as_array(predicted_loss, what)
    if value.size != 1:
        fail(f"{what} should be one number, got an array of shape {value.shape}")
    pred = float(value)
    k = 10
    measured = _measure_initial_loss(k)
    if not np.isfinite(pred):
        fail(f"{what} = {pred}: a prediction must be a finite number")
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


def _stats(x, ddof=0, axis=0):
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, ddof=ddof, keepdims=True)
    return mean, np.where(std > 1e-8, std, 1.0)


def _standardized(x, fitted_on, ddof=0):
    mean, std = _stats(fitted_on, ddof)
    return (x - mean) / std


def check_standardize(Standardize):
    """Check a ``Standardize`` class: ``fit(X)`` stores the per-feature mean and (population)
    std of X and returns self; ``transform(X)`` returns (X - mean) / std with those stored
    statistics; features with training std 0 keep std 1.

    Diagnoses: fit not returning self; statistics of the data being transformed (the leak);
    division by a zero std (nan/inf) or by a tiny epsilon that blows up test values; the
    unbiased std (ddof=1); statistics per example (axis=1) instead of per feature; inputs
    modified in place.
    """
    train, test = _X_TRAIN, _X_TEST
    setup = f"s = Standardize(); s.fit(X_train) with X_train = {fmt_array(train)}"
    s = Standardize()
    x_fit = train.copy()
    returned = s.fit(x_fit)
    if not np.array_equal(x_fit, train):
        fail(f"{setup}: fit changed X_train in place; compute the statistics without modifying it")
    if returned is not s:
        fail(f"{setup}: fit should end with `return self`, so that "
             f"`Standardize().fit(X_train).transform(X)` works")

    x_in = train.copy()
    out = as_array(s.transform(x_in), "s.transform(X_train)")
    call = f"{setup}; s.transform(X_train)"
    if not np.array_equal(x_in, train):
        fail(f"{call} changed its input in place (e.g. `X -= self.mean`); return a new array")
    check_shape(out, train.shape, call)
    if not np.all(np.isfinite(out)):
        fail(f"{call} contains nan or inf in the last column. That feature is constant in "
             f"X_train, so its std is 0 and you divided by zero. Use std 1 for such features "
             f"(e.g. np.where(std > 1e-8, std, 1.0)): they are only centred")
    if close(out, _standardized(train, train, ddof=1)):
        fail(f"{call}: you used the unbiased std (ddof=1). Standardizing uses the population "
             f"std of the training set, np.std's default (ddof=0)")
    mean_r, std_r = _stats(train, axis=1)
    if close(out, (train - mean_r) / std_r):
        fail(f"{call}: you computed one mean and std per EXAMPLE (row). Standardize each "
             f"FEATURE (column): statistics over axis=0")
    if not close(out, _standardized(train, train)):
        fail(f"{call} is not (X_train - mean) / std per feature (with std 1 for the constant "
             f"feature)")

    x_in = test.copy()
    out = as_array(s.transform(x_in), "s.transform(X_test)")
    call = f"{setup}; s.transform(X_test) with X_test = {fmt_array(test)}"
    if not np.array_equal(x_in, test):
        fail(f"{call} changed its input in place; return a new array")
    check_shape(out, test.shape, call)
    if close(out, _standardized(test, test)) or np.allclose(out.mean(axis=0), 0.0):
        fail(f"{call}: the output has mean 0 per feature, so transform used the statistics of "
             f"X_test itself. That is the leak: the test data must be transformed with the "
             f"mean and std that fit computed on the training set (store them in fit, use "
             f"them in transform)")
    if not np.all(np.isfinite(out)) or np.abs(out).max() > 1e3:
        fail(f"{call}: the last feature was constant in training (std 0) but varies in X_test; "
             f"dividing it by 0 or by a tiny epsilon turns a change of 2 into nan or "
             f"astronomically large values. Use std 1 for features whose training std is 0")
    if not close(out, _standardized(test, train)):
        fail(f"{call} is not (X_test - mean_train) / std_train per feature")
    passed("standardize")
