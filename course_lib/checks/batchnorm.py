"""Checks for exercises/04_batch_normalization.ipynb: the BatchNorm forward pass in both modes
with PyTorch's running statistics, the compact backward pass, the gamma/beta that undo the
normalization, and a prediction of how one example's output depends on its batch."""
import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ._common import as_array, check_shape, close, fail, fmt_array, passed, read_predictions, unpack


def _normalize(x, mu, var, eps, eps_mode="inside"):
    if eps_mode == "inside":
        return (x - mu) / np.sqrt(var + eps)
    if eps_mode == "outside":
        return (x - mu) / (np.sqrt(var) + eps)
    return (x - mu) / np.sqrt(var)                         # eps forgotten


# ------------------------------------------------------------------ forward pass

_LOC = [2.0, -1.0, 0.5, 3.0]
_SCALE = [3.0, 0.5, 1.5, 0.01]          # the last feature is nearly constant: eps matters there
_GAMMA = np.array([1.5, 0.5, 1.0, 2.0])
_BETA = np.array([0.1, -0.2, 0.0, 0.3])
_RMEAN = np.array([0.5, -0.5, 0.0, 1.0])
_RVAR = np.array([2.0, 0.5, 1.0, 0.1])


def _forward_inputs():
    x = np.random.default_rng(0).normal(_LOC, _SCALE, size=(6, 4))
    setup = (f"x = np.random.default_rng(0).normal({_LOC}, {_SCALE}, size=(6, 4)); "
             f"gamma = {fmt_array(_GAMMA)}; beta = {fmt_array(_BETA)}; running_mean = {fmt_array(_RMEAN)}; "
             f"running_var = {fmt_array(_RVAR)}; ")
    return x, setup


def _call_forward(batchnorm_forward, x, training, call, **kwargs):
    args = [x.copy(), _GAMMA.copy(), _BETA.copy(), _RMEAN.copy(), _RVAR.copy()]
    result = batchnorm_forward(*args, training, **kwargs)
    out, cache, rm, rv = unpack(result, ("out", "cache", "running_mean", "running_var"), call)
    for name, given, orig in zip(("x", "gamma", "beta", "running_mean", "running_var"), args,
                                 (x, _GAMMA, _BETA, _RMEAN, _RVAR)):
        if not np.array_equal(given, orig):
            fail(f"{call} changed its argument `{name}` in place. Return NEW arrays (e.g. "
                 f"`new_mean = (1 - momentum) * running_mean + momentum * mu`) and leave the "
                 f"caller's arrays alone")
    out = as_array(out, f"{call}: out")
    check_shape(out, x.shape, f"{call}: out")
    cache = unpack(cache, ("x_hat", "gamma", "inv_std"), f"{call}: the cache")
    x_hat = as_array(cache[0], f"{call}: cache x_hat")
    inv_std = as_array(cache[2], f"{call}: cache inv_std")
    rm = as_array(rm, f"{call}: running_mean")
    rv = as_array(rv, f"{call}: running_var")
    return out, x_hat, as_array(cache[1], f"{call}: cache gamma"), inv_std, rm, rv


def _check_running_shapes(rm, rv, x, call):
    n, d = x.shape
    for name, value in (("running_mean", rm), ("running_var", rv)):
        if value.shape != (d,) and value.ndim >= 1 and value.shape[0] == n:
            fail(f"{call}: the returned {name} has shape {value.shape}: its statistics were taken "
                 f"per EXAMPLE. BatchNorm keeps one statistic per FEATURE: reduce over the batch, "
                 f"axis=0, shape ({d},)")
        check_shape(value, (d,), f"{call}: {name}")


def _check_train_out(out, x, eps, call):
    mu, var = x.mean(axis=0), x.var(axis=0)
    ref = _GAMMA * _normalize(x, mu, var, eps) + _BETA
    if close(out, ref):
        return
    mu_row, var_row = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    hints = [
        (_GAMMA * _normalize(x, mu_row, var_row, eps) + _BETA,
         "you normalized each EXAMPLE (row) over its features. BatchNorm normalizes each "
         "FEATURE (column) over the batch: mean and variance with axis=0"),
        (_GAMMA * _normalize(x, mu, x.var(axis=0, ddof=1), eps) + _BETA,
         "you normalized with the UNBIASED variance (divided by N - 1). The normalization uses "
         "the batch's own, biased variance (divide by N, np.var's default); only the running "
         "variance gets the unbiased one"),
        (_GAMMA * _normalize(x, mu, var, eps, "outside") + _BETA,
         "eps is added outside the square root. It belongs inside: (x - mu) / sqrt(var + eps). "
         "The difference shows on the nearly constant last feature"),
        (_GAMMA * _normalize(x, mu, var, eps, "none") + _BETA,
         "eps is missing: divide by sqrt(var + eps), which keeps a nearly constant feature (the "
         "last one here) from being blown up"),
        (_GAMMA * (x - mu) / (var + eps) + _BETA,
         "you divided by the variance; divide by the standard deviation sqrt(var + eps)"),
        (_normalize(x, mu, var, eps),
         "out is x_hat itself: apply the scale and shift, out = gamma * x_hat + beta"),
        (_BETA * _normalize(x, mu, var, eps) + _GAMMA,
         "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)"),
        (_GAMMA * _normalize(x, _RMEAN, _RVAR, eps) + _BETA,
         "in training mode you normalized with the RUNNING statistics. Training normalizes with "
         "the statistics of the current batch (and updates the running ones)"),
    ]
    for candidate, hint in hints:
        if close(out, candidate):
            fail(f"{call}: {hint}")
    fail(f"{call}: out is not gamma * (x - mu) / sqrt(var + eps) + beta with the batch mean and "
         f"the biased batch variance of each feature")


def _check_cache(x_hat, gamma, inv_std, x, mu, var, eps, call):
    ref_inv = 1.0 / np.sqrt(var + eps)
    if not close(gamma, _GAMMA):
        fail(f"{call}: the cache's second entry should be gamma, as given")
    check_shape(inv_std, var.shape, f"{call}: cache inv_std")
    if close(inv_std, np.sqrt(var + eps)):
        fail(f"{call}: the cache's inv_std is sqrt(var + eps), the standard deviation. Store its "
             f"INVERSE, 1 / sqrt(var + eps)")
    if not close(inv_std, ref_inv):
        fail(f"{call}: the cache's inv_std is not 1 / sqrt(var + eps) of the statistics used for "
             f"normalizing")
    check_shape(x_hat, x.shape, f"{call}: cache x_hat")
    if not close(x_hat, (x - mu) * ref_inv):
        if close(x_hat, _GAMMA * (x - mu) * ref_inv + _BETA):
            fail(f"{call}: the cache's x_hat is the output; store the normalized input "
                 f"(x - mu) * inv_std, before gamma and beta")
        fail(f"{call}: the cache's x_hat is not (x - mu) * inv_std")


def _check_running(rm, rv, x, momentum, call):
    n = x.shape[0]
    mu, var, var_u = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
    m = momentum
    if not close(rm, (1 - m) * _RMEAN + m * mu):
        mean_hints = [
            (_RMEAN, "running_mean was not updated. In training mode it moves towards the batch "
                     "mean: (1 - momentum) * running_mean + momentum * mu"),
            (m * _RMEAN + (1 - m) * mu,
             f"the momentum convention is reversed: you kept momentum = {m:g} of the OLD value. "
             f"PyTorch's momentum is the weight of the NEW batch statistic: "
             f"(1 - momentum) * running_mean + momentum * mu (a 'decay' of 1 - momentum)"),
            (mu, "running_mean was replaced by the batch mean; it is a moving AVERAGE: "
                 "(1 - momentum) * running_mean + momentum * mu"),
        ]
        for candidate, hint in mean_hints:
            if close(rm, candidate):
                fail(f"{call}: {hint}")
        fail(f"{call}: running_mean is not (1 - momentum) * running_mean + momentum * mu")
    if not close(rv, (1 - m) * _RVAR + m * var_u):
        var_hints = [
            (_RVAR, "running_var was not updated. In training mode it moves towards the batch "
                    "variance: (1 - momentum) * running_var + momentum * unbiased_var"),
            ((1 - m) * _RVAR + m * var,
             f"running_var was fed the BIASED batch variance. PyTorch feeds the running estimate "
             f"the UNBIASED variance, var * N / (N - 1) (np.var(..., ddof=1)); here N = {n}"),
            (m * _RVAR + (1 - m) * var_u,
             "the momentum convention is reversed in running_var: momentum is the weight of the "
             "NEW batch statistic"),
            (m * _RVAR + (1 - m) * var,
             "the momentum convention is reversed in running_var, and it was fed the biased "
             "variance (PyTorch uses the unbiased one, ddof=1)"),
            (var_u, "running_var was replaced by the batch variance; it is a moving AVERAGE"),
            ((1 - m) * _RVAR + m * np.sqrt(var_u),
             "running_var was fed a standard deviation; feed it the (unbiased) variance"),
        ]
        for candidate, hint in var_hints:
            if close(rv, candidate):
                fail(f"{call}: {hint}")
        fail(f"{call}: running_var is not (1 - momentum) * running_var + momentum * "
             f"(unbiased batch variance)")


def check_batchnorm_forward(batchnorm_forward):
    """Check ``batchnorm_forward(x, gamma, beta, running_mean, running_var, training,
    momentum=0.1, eps=1e-5) -> (out, cache, running_mean, running_var)`` with
    cache = (x_hat, gamma, inv_std), in training mode (batch statistics, running statistics
    updated as in PyTorch) and in evaluation mode (running statistics, nothing updated).

    Diagnoses: normalizing over the wrong axis (per example); the unbiased variance used for
    normalizing; eps outside the square root, or missing; dividing by the variance; gamma and
    beta missing or swapped; running statistics used in training; the biased variance fed
    into running_var; the momentum convention reversed (0.9 for the new value); running
    statistics not updated, or replaced instead of averaged; a standard deviation in
    running_var; the momentum or eps argument ignored; batch statistics used at evaluation
    time; running statistics changed at evaluation time; inv_std stored as the std; the
    output cached as x_hat; arguments modified in place.
    """
    x, setup = _forward_inputs()
    mu, var = x.mean(axis=0), x.var(axis=0)

    call = setup + "batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True)"
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, x, True, call)
    _check_train_out(out, x, 1e-5, call)
    _check_running_shapes(rm, rv, x, call)
    _check_cache(x_hat, gamma, inv_std, x, mu, var, 1e-5, call)
    _check_running(rm, rv, x, 0.1, call)

    call = setup + ("batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, "
                    "momentum=0.3, eps=0.5)")
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, x, True, call,
                                                       momentum=0.3, eps=0.5)
    if not close(out, _GAMMA * _normalize(x, mu, var, 0.5) + _BETA):
        if close(out, _GAMMA * _normalize(x, mu, var, 1e-5) + _BETA):
            fail(f"{call}: the output did not change with eps=0.5: use the `eps` argument, not "
                 f"a fixed 1e-5")
        _check_train_out(out, x, 0.5, call)
    _check_running_shapes(rm, rv, x, call)
    if close(rm, 0.9 * _RMEAN + 0.1 * mu) and close(rv, 0.9 * _RVAR + 0.1 * x.var(axis=0, ddof=1)):
        fail(f"{call}: the running statistics did not change with momentum=0.3: use the "
             f"`momentum` argument, not a fixed 0.1")
    _check_running(rm, rv, x, 0.3, call)

    call = setup + "batchnorm_forward(x, gamma, beta, running_mean, running_var, training=False)"
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, x, False, call)
    _check_running_shapes(rm, rv, x, call)
    ref = _GAMMA * _normalize(x, _RMEAN, _RVAR, 1e-5) + _BETA
    if not close(out, ref):
        eval_hints = [
            (_GAMMA * _normalize(x, mu, var, 1e-5) + _BETA,
             "in evaluation mode you normalized with the statistics of the batch. Evaluation "
             "uses the RUNNING statistics, so that a prediction does not depend on the other "
             "examples in the batch"),
            (_GAMMA * _normalize(x, mu, x.var(axis=0, ddof=1), 1e-5) + _BETA,
             "in evaluation mode you normalized with the statistics of the batch; use the "
             "running statistics"),
            (_GAMMA * _normalize(x, _RMEAN, _RVAR, 1e-5, "outside") + _BETA,
             "eps is outside the square root: (x - running_mean) / sqrt(running_var + eps)"),
            (_GAMMA * (x - _RMEAN) / (_RVAR + 1e-5) + _BETA,
             "you divided by the running variance; divide by sqrt(running_var + eps)"),
            (_normalize(x, _RMEAN, _RVAR, 1e-5),
             "the scale and shift are missing in evaluation mode: gamma * x_hat + beta"),
        ]
        for candidate, hint in eval_hints:
            if close(out, candidate):
                fail(f"{call}: {hint}")
        fail(f"{call}: out is not gamma * (x - running_mean) / sqrt(running_var + eps) + beta")
    if not (close(rm, _RMEAN) and close(rv, _RVAR)):
        fail(f"{call}: evaluation mode changed the running statistics. They are frozen at "
             f"evaluation time: return running_mean and running_var unchanged")
    _check_cache(x_hat, gamma, inv_std, x, _RMEAN, _RVAR, 1e-5, call)
    passed("batchnorm_forward")


# ----------------------------------------------------------------- backward pass

def _backward_inputs():
    rng = np.random.default_rng(1)
    x = 3.0 + 2.0 * rng.standard_normal((5, 3))
    gamma = np.array([0.5, 1.5, 2.0])
    dout = rng.standard_normal((5, 3))
    eps = 1e-5
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    call = ("rng = np.random.default_rng(1); x = 3 + 2 * rng.standard_normal((5, 3)); "
            "gamma = np.array([0.5, 1.5, 2.0]); dout = rng.standard_normal((5, 3)); "
            "inv_std = 1 / np.sqrt(x.var(axis=0) + 1e-5); x_hat = (x - x.mean(axis=0)) * inv_std; "
            "batchnorm_backward(dout, (x_hat, gamma, inv_std))")
    return x, gamma, dout, x_hat, inv_std, eps, call


def _numerical_dx(x, gamma, dout, eps):
    """Centred differences of sum(BN(x) * dout): the check's reference, independent of the
    formula the student is asked to use."""
    x = x.copy()

    def f():
        return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)

    return numerical_gradient(f, x, dout)


def check_batchnorm_backward(batchnorm_backward):
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` in training mode, with
    cache = (x_hat, gamma, inv_std) from the forward pass; dx is compared with a numerical
    gradient of the forward pass.

    Diagnoses: dgamma or dbeta not summed over the batch (shape (N, D)), summed over the
    features, or averaged; dgamma built from something other than x_hat; mu and var treated
    as constants (dx = dout * gamma * inv_std, the two mean terms missing); only one of the
    two mean terms present; a wrong factor N (the 1/N missing, N missing in front of dout,
    sums where means belong); gamma missing from dx; the inputs modified in place.
    """
    x, gamma, dout, x_hat, inv_std, eps, call = _backward_inputs()
    n, d = x.shape
    args = (dout.copy(), (x_hat.copy(), gamma.copy(), inv_std.copy()))
    result = batchnorm_backward(*args)
    dx, dgamma, dbeta = unpack(result, ("dx", "dgamma", "dbeta"), call)
    if not (np.array_equal(args[0], dout) and all(np.array_equal(a, b) for a, b in
                                                   zip(args[1], (x_hat, gamma, inv_std)))):
        fail(f"{call} changed dout or the cache in place; compute new arrays")
    dx = as_array(dx, f"{call}: dx")
    dgamma = as_array(dgamma, f"{call}: dgamma")
    dbeta = as_array(dbeta, f"{call}: dbeta")

    for name, value, ref, mean_ref in (("dbeta", dbeta, dout.sum(axis=0), dout.mean(axis=0)),
                                       ("dgamma", dgamma, (dout * x_hat).sum(axis=0),
                                        (dout * x_hat).mean(axis=0))):
        param = name[1:]
        if value.shape == (n, d):
            fail(f"{call}: {name} has shape {value.shape}, one row per example. {param} is "
                 f"shared by the whole batch, so its gradient is SUMMED over the examples "
                 f"(axis=0), shape ({d},)")
        if value.shape == (n,):
            fail(f"{call}: {name} has shape ({n},): you summed over the features (axis=1). Sum "
                 f"over the examples, axis=0")
        check_shape(value, (d,), f"{call}: {name}")
        if close(value, mean_ref):
            fail(f"{call}: {name} is averaged over the batch; it is the SUM over the examples "
                 f"(any 1/N is already inside dout)")
        if not close(value, ref):
            if name == "dgamma":
                fail(f"{call}: dgamma is not sum over the batch of dout * x_hat (gamma "
                     f"multiplies x_hat, so x_hat is its local gradient)")
            fail(f"{call}: dbeta is not dout summed over the batch")

    check_shape(dx, (n, d), f"{call}: dx")
    g = dout * gamma                                       # gradient with respect to x_hat
    s1, s2 = g.sum(axis=0), (g * x_hat).sum(axis=0)
    candidates = [
        (g * inv_std,
         "dx = dout * gamma * inv_std treats mu and var as constants. In training mode they "
         "depend on every example of the batch, so dx has two more terms (the paths through mu "
         "and through var): the compact formula subtracts sum(g) and x_hat * sum(g * x_hat)"),
        (inv_std / n * (n * g - x_hat * s2),
         "the term from the path through the batch MEAN is missing: subtract sum over the "
         "batch of g (per feature)"),
        (inv_std / n * (n * g - s1),
         "the term from the path through the batch VARIANCE is missing: subtract "
         "x_hat * sum(g * x_hat)"),
        (inv_std * (n * g - s1 - x_hat * s2),
         "dx is N times too large: the compact formula has the factor inv_std / N in front"),
        (inv_std / n * (g - s1 - x_hat * s2),
         "the factor N is missing in front of g: inv_std / N * (N * g - sum(g) - "
         "x_hat * sum(g * x_hat))"),
        (inv_std * (g - s1 - x_hat * s2),
         "the subtracted terms must be MEANS over the batch, not sums (or keep the sums and put "
         "the whole bracket over N, with N * g in front)"),
        (inv_std / n * (n * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0)),
         "gamma is missing from dx: the gradient reaching x_hat is g = dout * gamma"),
    ]
    for candidate, hint in candidates:
        if close(dx, candidate):
            fail(f"{call}: {hint}")
    err = rel_error(dx, _numerical_dx(x, gamma, dout, eps))
    if err > 1e-6:
        fail(f"{call}: dx does not match a numerical gradient of the forward pass (relative "
             f"error {err:.1e}). The compact formula: dx = inv_std / N * (N * g - sum(g) - "
             f"x_hat * sum(g * x_hat)) with g = dout * gamma and sums over the batch (axis=0)")
    passed("batchnorm_backward")


# --------------------------------------------------------- recovering the identity

_X_ID = np.array([[4.0, -1.0, 0.20], [1.0, -3.0, 0.21], [2.5, 0.5, 0.19], [6.0, -2.0, 0.20],
                  [0.5, -0.5, 0.22]])


def check_bn_identity(identity_params):
    """Check ``identity_params(x, eps) -> (gamma, beta)``: the per-feature scale and shift with
    which BatchNorm in training mode returns its input x unchanged (gamma = sqrt(var + eps),
    beta = mean, both over the batch).

    Diagnoses: gamma without eps (the std); gamma = var + eps (no square root); gamma the
    inverse 1 / sqrt(var + eps); the unbiased variance; beta = 0 or gamma and beta swapped;
    statistics over the wrong axis or over all entries (shapes).
    """
    for eps in (1e-5, 0.5):
        x = _X_ID
        call = f"identity_params({fmt_array(x)}, eps={eps:g})"
        result = identity_params(x.copy(), eps)
        gamma, beta = unpack(result, ("gamma", "beta"), call)
        gamma, beta = as_array(gamma, f"{call}: gamma"), as_array(beta, f"{call}: beta")
        d = x.shape[1]
        for name, value in (("gamma", gamma), ("beta", beta)):
            if value.shape == (x.shape[0],):
                fail(f"{call}: {name} has shape {value.shape}, one value per example. BatchNorm "
                     f"has one gamma and one beta per FEATURE: use axis=0")
            if value.size == 1:
                fail(f"{call}: {name} is a single number; BatchNorm has one {name} per feature "
                     f"(statistics over the batch, axis=0)")
            check_shape(value, (d,), f"{call}: {name}")
        mu, var = x.mean(axis=0), x.var(axis=0)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
        if close(out, x, rtol=1e-9, atol=1e-12):
            continue
        if not close(beta, mu):
            if close(beta, np.zeros(d)):
                fail(f"{call}: with beta = 0 the output has mean 0; to give back x, beta must "
                     f"put each feature's batch mean back")
            if close(beta, np.sqrt(var + eps)) and close(gamma, mu):
                fail(f"{call}: gamma and beta are swapped: gamma SCALES x_hat (so it must undo "
                     f"the division), beta SHIFTS it (so it must undo the subtraction)")
            fail(f"{call}: beta should undo the subtraction of the batch mean")
        gamma_hints = [
            (np.sqrt(var), "gamma = std without eps; x_hat was divided by sqrt(var + eps), so "
                           "gamma must be sqrt(var + eps) to undo it exactly"),
            (var + eps, "gamma must undo a division by the STANDARD DEVIATION sqrt(var + eps); "
                        "you used the variance"),
            (1.0 / np.sqrt(var + eps), "gamma is the inverse of what it should be: x_hat was "
                                       "DIVIDED by sqrt(var + eps), so multiply by it"),
            (np.sqrt(x.var(axis=0, ddof=1) + eps),
             "you used the unbiased variance; the normalization divided by sqrt of the BIASED "
             "batch variance (np.var's default) plus eps"),
        ]
        for candidate, hint in gamma_hints:
            if close(gamma, candidate):
                fail(f"{call}: {hint}")
        fail(f"{call}: with your gamma, BatchNorm does not give back x: gamma must undo the "
             f"division by sqrt(var + eps)")
    passed("bn_identity")


# ---------------------------------------------------- the batch a prediction sees

_EXAMPLE, _COMPANIONS_A, _COMPANIONS_B = 2.0, 0.0, 4.0
_RUN_MEAN, _RUN_VAR = 1.0, 4.0


def _measure_batch_dependence():
    """The BN output of the example 2.0 in batches A and B, measured with cl.BatchNorm1d."""
    from ..normalization import BatchNorm1d

    results = {}
    for mode in ("train", "eval"):
        for name, c in (("A", _COMPANIONS_A), ("B", _COMPANIONS_B)):
            bn = BatchNorm1d(1)
            bn.running_mean[:] = _RUN_MEAN
            bn.running_var[:] = _RUN_VAR
            if mode == "eval":
                bn.eval()
            batch = np.array([[_EXAMPLE], [c], [c], [c]])
            results[mode, name] = float(bn.forward(batch)[0, 0])
    return results


def check_batch_dependence(train_A, train_B, eval_A, eval_B):
    """Check predictions of the BatchNorm output (one feature, gamma = 1, beta = 0,
    eps = 1e-5, running_mean = 1, running_var = 4) for the example 2.0 in the batch
    A = [2, 0, 0, 0] and in the batch B = [2, 4, 4, 4], in training and in evaluation mode,
    against cl.BatchNorm1d. Tolerance: 1 %.

    Diagnoses: evaluation-mode predictions that depend on the batch, or that use the batch
    statistics; dividing by the variance instead of the standard deviation, or not at all;
    training-mode predictions that ignore the batch (equal in A and B, or computed from the
    running statistics); the unbiased variance in training mode; the sign of the example's
    position relative to the batch mean.
    """
    preds = read_predictions(train_A=train_A, train_B=train_B, eval_A=eval_A, eval_B=eval_B)
    measured = _measure_batch_dependence()

    def near(p, target):
        return abs(p - target) <= 0.01 * max(abs(target), 1e-3)

    x = _EXAMPLE
    ea, eb = preds["eval_A"], preds["eval_B"]
    if not (near(ea, measured["eval", "A"]) and near(eb, measured["eval", "B"])):
        batch_a, batch_b = np.array([x, 0, 0, 0.0]), np.array([x, 4, 4, 4.0])
        if not near(ea, eb):
            fail(f"eval_A = {ea:g} and eval_B = {eb:g} differ, but in evaluation mode BatchNorm "
                 f"uses the running statistics, fixed numbers: the other examples of the batch "
                 f"do not enter at all")
        for batch, label in ((batch_a, "A"), (batch_b, "B")):
            z = (x - batch.mean()) / batch.std()
            if near(ea, z) or near(ea, (x - batch.mean()) / batch.std(ddof=1)):
                fail(f"your evaluation-mode predictions use the statistics of batch {label}; "
                     f"evaluation mode normalizes with running_mean and running_var")
        if near(ea, (x - _RUN_MEAN) / _RUN_VAR):
            fail(f"eval_A = {ea:g}: you divided by the running VARIANCE; BatchNorm divides by "
                 f"the standard deviation sqrt(running_var + eps)")
        if near(ea, x - _RUN_MEAN) or near(ea, x):
            fail(f"eval_A = {ea:g}: subtract running_mean AND divide by sqrt(running_var + eps)")
        fail(f"eval_A = {ea:g} is not (x - running_mean) / sqrt(running_var + eps) for x = 2")

    ta, tb = preds["train_A"], preds["train_B"]
    if not (near(ta, measured["train", "A"]) and near(tb, measured["train", "B"])):
        if near(ta, tb):
            fail(f"train_A and train_B are equal ({ta:g}), but in training mode every example is "
                 f"normalized with the mean and variance of ITS batch, and the batches differ")
        if near(ta, measured["eval", "A"]) or near(tb, measured["eval", "B"]):
            fail("a training-mode prediction uses the running statistics; training mode "
                 "normalizes with the statistics of the batch")
        for value, batch, label in ((ta, np.array([x, 0, 0, 0.0]), "train_A"),
                                    (tb, np.array([x, 4, 4, 4.0]), "train_B")):
            mu = batch.mean()
            if near(value, (x - mu) / batch.std(ddof=1)):
                fail(f"{label} = {value:g} uses the unbiased variance (divided by N - 1 = 3). "
                     f"The normalization uses the biased batch variance, divided by N = 4")
            if near(value, (x - mu) / batch.var()):
                fail(f"{label} = {value:g}: you divided by the batch variance; divide by the "
                     f"standard deviation")
            if near(value, x - mu):
                fail(f"{label} = {value:g}: after subtracting the batch mean, divide by the batch "
                     f"standard deviation")
            if near(value, -(x - mu) / batch.std()):
                fail(f"{label} = {value:g} has the wrong sign: is the example above or below the "
                     f"mean of {label[-1]}'s batch?")
        fail("your training-mode predictions are not (x - mu_B) / sqrt(var_B + eps) with the mean "
             "and biased variance of each batch")
    passed("batch_dependence")
