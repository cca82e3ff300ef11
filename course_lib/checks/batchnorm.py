"""Checks for exercises/04_batch_normalization.ipynb: the BatchNorm forward pass in both modes
with PyTorch's running statistics, the compact backward pass, the backward pass node by node
on the computational graph, the gamma/beta that undo the normalization, and a prediction of
how one example's output depends on its batch.

Every check of a function has a hidden variant: with ``seed=<int>`` it draws another batch
(other N and D, other statistics, gamma, beta, running statistics, momentum and eps) from the
seed. The prediction check has none: its numbers are the answer about one stated scenario."""
from types import SimpleNamespace

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, read_predictions, unpack


def _normalize(x, mu, var, eps, eps_mode="inside"):
    if eps_mode == "inside":
        return (x - mu) / np.sqrt(var + eps)
    if eps_mode == "outside":
        return (x - mu) / (np.sqrt(var) + eps)
    return (x - mu) / np.sqrt(var)                         # eps forgotten


def _batch_size_and_width(g, n_range, d_range):
    """N and D drawn from g, never equal (so that the axis of a statistic shows in its shape)."""
    while True:
        n, d = int(g.integers(*n_range)), int(g.integers(*d_range))
        if n != d:
            return n, d


# ------------------------------------------------------------------ forward pass

_LOC = [2.0, -1.0, 0.5, 3.0]
_SCALE = [3.0, 0.5, 1.5, 0.01]          # the last feature is nearly constant: eps matters there
_GAMMA = np.array([1.5, 0.5, 1.0, 2.0])
_BETA = np.array([0.1, -0.2, 0.0, 0.3])
_RMEAN = np.array([0.5, -0.5, 0.0, 1.0])
_RVAR = np.array([2.0, 0.5, 1.0, 0.1])
_FN = "batchnorm_forward"


def forward_inputs(seed=None):
    """The inputs of check_batchnorm_forward: x, gamma, beta, running_mean, running_var, the
    second call's momentum and eps (``momentum2``, ``eps2``) and ``setup``, the statements that
    build them. ``seed=None``: the public inputs; an integer: a hidden test's."""
    if seed is None:
        n, loc, scale, data_seed = 6, _LOC, _SCALE, 0
        gamma, beta, rmean, rvar = _GAMMA, _BETA, _RMEAN, _RVAR
        momentum2, eps2 = 0.3, 0.5
    else:
        g = np.random.default_rng(seed)
        n, d = _batch_size_and_width(g, (5, 12), (3, 7))
        loc = np.round(g.uniform(-3, 3, d), 1).tolist()
        scale = np.round(g.uniform(0.5, 3.0, d), 1)
        scale[-1] = 0.01                                  # nearly constant: eps matters there
        scale = scale.tolist()
        gamma = np.round(g.uniform(0.5, 2.0, d), 2)
        beta = np.round(g.normal(0.0, 0.3, d), 2)
        rmean = np.round(g.normal(0.0, 1.0, d), 2)
        rvar = np.round(g.uniform(0.1, 2.5, d), 2)
        momentum2 = float(g.choice([0.2, 0.3, 0.4, 0.6, 0.7]))     # never 0.1, nor 0.5 (= 1 - 0.5)
        eps2 = float(g.choice([0.2, 0.5, 1.0]))
        data_seed = seed
    x = np.random.default_rng(data_seed).normal(loc, scale, size=(n, len(loc)))
    setup = (f"x = np.random.default_rng({data_seed}).normal({loc}, {scale}, size=({n}, {len(loc)})); "
             f"gamma = {fmt_array(gamma)}; beta = {fmt_array(beta)}; "
             f"running_mean = {fmt_array(rmean)}; running_var = {fmt_array(rvar)}")
    return SimpleNamespace(x=x, gamma=np.array(gamma, dtype=float), beta=np.array(beta, dtype=float),
                           rmean=np.array(rmean, dtype=float), rvar=np.array(rvar, dtype=float),
                           momentum2=momentum2, eps2=eps2, setup=setup)


def _call_forward(batchnorm_forward, inp, training, call, **kwargs):
    args = [inp.x.copy(), inp.gamma.copy(), inp.beta.copy(), inp.rmean.copy(), inp.rvar.copy()]
    result = batchnorm_forward(*args, training, **kwargs)
    out, cache, rm, rv = unpack(result, ("out", "cache", "running_mean", "running_var"), _FN, call)
    for name, given, orig in zip(("x", "gamma", "beta", "running_mean", "running_var"), args,
                                 (inp.x, inp.gamma, inp.beta, inp.rmean, inp.rvar)):
        if not np.array_equal(given, orig):
            fail(f"{_FN} changed its argument `{name}` in place. Return NEW arrays (e.g. "
                 f"`new_mean = (1 - momentum) * running_mean + momentum * mu`) and leave the "
                 f"caller's arrays alone", call)
    out = as_array(out, f"{_FN}'s out", call)
    check_shape(out, inp.x.shape, f"{_FN}'s out", call)
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        got = type(cache).__name__ + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else "")
        fail(f"{_FN}'s cache should be a tuple (x_hat, gamma, inv_std), got {got}", call)
    x_hat = as_array(cache[0], f"{_FN}'s cache x_hat", call)
    gamma = as_array(cache[1], f"{_FN}'s cache gamma", call)
    inv_std = as_array(cache[2], f"{_FN}'s cache inv_std", call)
    rm = as_array(rm, f"{_FN}'s running_mean", call)
    rv = as_array(rv, f"{_FN}'s running_var", call)
    return out, x_hat, gamma, inv_std, rm, rv


def _check_running_shapes(rm, rv, x, call):
    n, d = x.shape
    for name, value in (("running_mean", rm), ("running_var", rv)):
        if value.shape != (d,) and value.ndim >= 1 and value.shape[0] == n:
            fail(f"The running_mean or running_var that {_FN} returned has one entry per EXAMPLE "
                 f"(shape {value.shape}): its statistics were taken over the features. BatchNorm "
                 f"keeps one statistic per FEATURE: reduce over the batch, axis=0", call)
        check_shape(value, (d,), f"{_FN}'s {name}", call)


def _check_train_out(out, inp, eps, call):
    x, gamma, beta = inp.x, inp.gamma, inp.beta
    mu, var = x.mean(axis=0), x.var(axis=0)
    ref = gamma * _normalize(x, mu, var, eps) + beta
    if close(out, ref):
        return
    mu_row, var_row = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    hints = [
        (gamma * _normalize(x, mu_row, var_row, eps) + beta,
         "normalized each EXAMPLE (row) over its features. BatchNorm normalizes each FEATURE "
         "(column) over the batch: mean and variance with axis=0"),
        (gamma * _normalize(x, mu, x.var(axis=0, ddof=1), eps) + beta,
         "normalized with the UNBIASED variance (divided by N - 1). The normalization uses the "
         "batch's own, biased variance (divide by N, np.var's default); only the running "
         "variance gets the unbiased one"),
        (gamma * _normalize(x, mu, var, eps, "outside") + beta,
         "adds eps outside the square root. It belongs inside: (x - mu) / sqrt(var + eps). The "
         "difference shows on the nearly constant last feature"),
        (gamma * _normalize(x, mu, var, eps, "none") + beta,
         "has no eps (eps is missing): divide by sqrt(var + eps), which keeps a nearly constant "
         "feature (the last one here) from being blown up"),
        (gamma * (x - mu) / (var + eps) + beta,
         "divided by the variance; divide by the standard deviation sqrt(var + eps)"),
        (_normalize(x, mu, var, eps),
         "returned x_hat itself as out: apply the scale and shift, out = gamma * x_hat + beta"),
        (beta * _normalize(x, mu, var, eps) + gamma,
         "has gamma and beta swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)"),
        (gamma * _normalize(x, inp.rmean, inp.rvar, eps) + beta,
         "normalized with the RUNNING statistics in training mode. Training normalizes with the "
         "statistics of the current batch (and updates the running ones)"),
    ]
    for candidate, hint in hints:
        if close(out, candidate):
            fail(f"In training mode, {_FN} {hint}", call)
    fail(f"In training mode, {_FN}'s out is not gamma * (x - mu) / sqrt(var + eps) + beta with "
         f"the batch mean and the biased batch variance of each feature", call)


def _check_cache(x_hat, gamma, inv_std, inp, mu, var, eps, call):
    x = inp.x
    ref_inv = 1.0 / np.sqrt(var + eps)
    if gamma.shape != inp.gamma.shape or not close(gamma, inp.gamma):
        fail(f"The second entry of {_FN}'s cache should be gamma, as given", call)
    check_shape(inv_std, var.shape, f"{_FN}'s cache inv_std", call)
    if close(inv_std, np.sqrt(var + eps)):
        fail(f"The inv_std in {_FN}'s cache is sqrt(var + eps), the standard deviation. Store its "
             f"INVERSE, 1 / sqrt(var + eps)", call)
    if not close(inv_std, ref_inv):
        fail(f"The inv_std in {_FN}'s cache is not 1 / sqrt(var + eps) of the statistics used for "
             f"normalizing", call)
    check_shape(x_hat, x.shape, f"{_FN}'s cache x_hat", call)
    if not close(x_hat, (x - mu) * ref_inv):
        if close(x_hat, inp.gamma * (x - mu) * ref_inv + inp.beta):
            fail(f"In {_FN}'s cache, x_hat is the output; store the normalized input "
                 f"(x - mu) * inv_std, before gamma and beta", call)
        fail(f"The x_hat in {_FN}'s cache is not (x - mu) * inv_std", call)


def _check_running(rm, rv, inp, momentum, call):
    x, rmean, rvar = inp.x, inp.rmean, inp.rvar
    mu, var, var_u = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
    m = momentum
    if not close(rm, (1 - m) * rmean + m * mu):
        mean_hints = [
            (rmean, "left running_mean as it was (running_mean was not updated). In training mode it moves towards the batch "
                    "mean: (1 - momentum) * running_mean + momentum * mu"),
            (m * rmean + (1 - m) * mu,
             "has the momentum convention reversed in running_mean (the convention is reversed: "
             "the OLD value got the weight `momentum`). PyTorch's momentum is the weight of the NEW batch statistic: "
             "(1 - momentum) * running_mean + momentum * mu (a 'decay' of 1 - momentum)"),
            (mu, "returned the batch mean: running_mean was replaced by the batch mean; it is a moving AVERAGE: "
                 "(1 - momentum) * running_mean + momentum * mu"),
        ]
        for candidate, hint in mean_hints:
            if close(rm, candidate):
                fail(f"{_FN} {hint}", call)
        fail(f"The running_mean that {_FN} returned is not (1 - momentum) * running_mean + "
             f"momentum * mu", call)
    if not close(rv, (1 - m) * rvar + m * var_u):
        var_hints = [
            (rvar, "left running_var as it was (running_var was not updated). In training mode it moves towards the batch "
                   "variance: (1 - momentum) * running_var + momentum * unbiased_var"),
            ((1 - m) * rvar + m * var,
             "fed running_var the BIASED batch variance. PyTorch feeds the running estimate the "
             "UNBIASED variance, var * N / (N - 1) (np.var(..., ddof=1)), N the batch size"),
            (m * rvar + (1 - m) * var_u,
             "has the momentum convention reversed in running_var (the convention is reversed): "
             "momentum is the weight of the NEW batch statistic"),
            (m * rvar + (1 - m) * var,
             "has the momentum convention reversed in running_var (the convention is reversed), "
             "and feeds it the biased variance (PyTorch uses the unbiased one, ddof=1)"),
            (var_u, "returned the batch variance: running_var was replaced by the batch variance; "
                    "it is a moving AVERAGE"),
            ((1 - m) * rvar + m * np.sqrt(var_u),
             "fed running_var a standard deviation; feed it the (unbiased) variance"),
        ]
        for candidate, hint in var_hints:
            if close(rv, candidate):
                fail(f"{_FN} {hint}", call)
        fail(f"The running_var that {_FN} returned is not (1 - momentum) * running_var + "
             f"momentum * (unbiased batch variance)", call)


@check()
def check_batchnorm_forward(batchnorm_forward, *, seed=None):
    """Check ``batchnorm_forward(x, gamma, beta, running_mean, running_var, training,
    momentum=0.1, eps=1e-5) -> (out, cache, running_mean, running_var)`` with
    cache = (x_hat, gamma, inv_std), in training mode (batch statistics, running statistics
    updated as in PyTorch) and in evaluation mode (running statistics, nothing updated). With
    a ``seed``: another batch (N, D, statistics), gamma, beta, running statistics, momentum
    and eps.

    Diagnoses: normalizing over the wrong axis (per example); the unbiased variance used for
    normalizing; eps outside the square root, or missing; dividing by the variance; gamma and
    beta missing or swapped; running statistics used in training; the biased variance fed
    into running_var; the momentum convention reversed (0.9 for the new value); running
    statistics not updated, or replaced instead of averaged; a standard deviation in
    running_var; the momentum or eps argument ignored; batch statistics used at evaluation
    time; running statistics changed at evaluation time; inv_std stored as the std; the
    output cached as x_hat; arguments modified in place.
    """
    inp = forward_inputs(seed)
    x = inp.x
    mu, var = x.mean(axis=0), x.var(axis=0)

    call = Call(f"{_FN}(x, gamma, beta, running_mean, running_var, training=True)", inp.setup)
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, inp, True, call)
    _check_train_out(out, inp, 1e-5, call)
    _check_running_shapes(rm, rv, x, call)
    _check_cache(x_hat, gamma, inv_std, inp, mu, var, 1e-5, call)
    _check_running(rm, rv, inp, 0.1, call)

    m2, eps2 = inp.momentum2, inp.eps2
    call = Call(f"{_FN}(x, gamma, beta, running_mean, running_var, training=True, "
                f"momentum={m2:g}, eps={eps2:g})", inp.setup)
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, inp, True, call,
                                                       momentum=m2, eps=eps2)
    if not close(out, inp.gamma * _normalize(x, mu, var, eps2) + inp.beta):
        if close(out, inp.gamma * _normalize(x, mu, var, 1e-5) + inp.beta):
            fail(f"{_FN}'s output did not change with another eps: use the `eps` argument, not a "
                 f"fixed 1e-5", call)
        _check_train_out(out, inp, eps2, call)
    _check_running_shapes(rm, rv, x, call)
    if close(rm, 0.9 * inp.rmean + 0.1 * mu) and close(rv, 0.9 * inp.rvar + 0.1 * x.var(axis=0, ddof=1)):
        fail(f"The running statistics that {_FN} returned did not change with another momentum: "
             f"use the `momentum` argument, not a fixed 0.1", call)
    _check_cache(x_hat, gamma, inv_std, inp, mu, var, eps2, call)
    _check_running(rm, rv, inp, m2, call)

    call = Call(f"{_FN}(x, gamma, beta, running_mean, running_var, training=False)", inp.setup)
    out, x_hat, gamma, inv_std, rm, rv = _call_forward(batchnorm_forward, inp, False, call)
    _check_running_shapes(rm, rv, x, call)
    g_, b_, rmean, rvar = inp.gamma, inp.beta, inp.rmean, inp.rvar
    ref = g_ * _normalize(x, rmean, rvar, 1e-5) + b_
    if not close(out, ref):
        eval_hints = [
            (g_ * _normalize(x, mu, var, 1e-5) + b_,
             "normalized with the statistics of the batch. Evaluation uses the RUNNING "
             "statistics, so that a prediction does not depend on the other examples in the batch"),
            (g_ * _normalize(x, mu, x.var(axis=0, ddof=1), 1e-5) + b_,
             "normalized with the statistics of the batch; use the running statistics"),
            (g_ * _normalize(x, rmean, rvar, 1e-5, "outside") + b_,
             "adds eps outside the square root: (x - running_mean) / sqrt(running_var + eps)"),
            (g_ * (x - rmean) / (rvar + 1e-5) + b_,
             "divided by the running variance; divide by sqrt(running_var + eps)"),
            (_normalize(x, rmean, rvar, 1e-5),
             "leaves out the scale and shift: gamma * x_hat + beta"),
        ]
        for candidate, hint in eval_hints:
            if close(out, candidate):
                fail(f"In evaluation mode, {_FN} {hint}", call)
        fail(f"In evaluation mode, {_FN}'s out is not gamma * (x - running_mean) / "
             f"sqrt(running_var + eps) + beta", call)
    if not (close(rm, rmean) and close(rv, rvar)):
        fail(f"In evaluation mode, {_FN} changed the running statistics. They are frozen at "
             f"evaluation time: return running_mean and running_var unchanged", call)
    _check_cache(x_hat, gamma, inv_std, inp, rmean, rvar, 1e-5, call)
    passed("batchnorm_forward")


# ----------------------------------------------------------------- backward pass

_BFN = "batchnorm_backward"


def backward_inputs(seed=None):
    """The inputs of check_batchnorm_backward (x, gamma, dout, x_hat, inv_std, eps) and the
    Call that reproduces it; ``seed=None``: the public ones."""
    if seed is None:
        s, n, d, loc, scale = 1, 5, 3, 3.0, 2.0
        gamma = np.array([0.5, 1.5, 2.0])
    else:
        g = np.random.default_rng(seed)
        s = int(g.integers(10, 10_000))
        n, d = _batch_size_and_width(g, (4, 11), (2, 7))
        loc, scale = float(g.choice([-2.0, 0.5, 1.0, 3.0, 5.0])), float(g.choice([0.5, 1.5, 2.0, 3.0]))
        gamma = np.round(g.uniform(0.3, 2.5, d), 2)
    rng = np.random.default_rng(s)
    x = loc + scale * rng.standard_normal((n, d))
    dout = rng.standard_normal((n, d))
    eps = 1e-5
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    call = Call(f"{_BFN}(dout, (x_hat, gamma, inv_std))",
                f"rng = np.random.default_rng({s}); x = {loc:g} + {scale:g} * rng.standard_normal(({n}, {d})); "
                f"gamma = {fmt_array(gamma)}; dout = rng.standard_normal(({n}, {d})); "
                f"inv_std = 1 / np.sqrt(x.var(axis=0) + 1e-5); x_hat = (x - x.mean(axis=0)) * inv_std")
    return x, gamma, dout, x_hat, inv_std, eps, call


def _numerical_dx(x, gamma, dout, eps):
    """Centred differences of sum(BN(x) * dout): the check's reference, independent of the
    formula the student is asked to use."""
    x = x.copy()

    def f():
        return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)

    return numerical_gradient(f, x, dout)


@check()
def check_batchnorm_backward(batchnorm_backward, *, seed=None):
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` in training mode, with
    cache = (x_hat, gamma, inv_std) from the forward pass; dx is compared with a numerical
    gradient of the forward pass. With a ``seed``: another batch (N, D), gamma and dout.

    Diagnoses: dgamma or dbeta not summed over the batch (shape (N, D)), summed over the
    features, or averaged; dgamma built from something other than x_hat (e.g. with an extra
    gamma), dbeta multiplied by gamma; mu and var treated as constants
    (dx = dout * gamma * inv_std, the two mean terms missing); only one of the two mean terms
    present; a wrong factor N (the 1/N missing, N missing in front of dout, sums where means
    belong); gamma missing from dx; the inputs modified in place.
    """
    x, gamma, dout, x_hat, inv_std, eps, call = backward_inputs(seed)
    n, d = x.shape
    args = (dout.copy(), (x_hat.copy(), gamma.copy(), inv_std.copy()))
    result = batchnorm_backward(*args)
    dx, dgamma, dbeta = unpack(result, ("dx", "dgamma", "dbeta"), _BFN, call)
    if not (np.array_equal(args[0], dout) and all(np.array_equal(a, b) for a, b in
                                                   zip(args[1], (x_hat, gamma, inv_std)))):
        fail(f"{_BFN} changed dout or the cache in place; compute new arrays", call)
    dx = as_array(dx, f"{_BFN}'s dx", call)
    dgamma = as_array(dgamma, f"{_BFN}'s dgamma", call)
    dbeta = as_array(dbeta, f"{_BFN}'s dbeta", call)

    for name, value, ref, mean_ref in (("dbeta", dbeta, dout.sum(axis=0), dout.mean(axis=0)),
                                       ("dgamma", dgamma, (dout * x_hat).sum(axis=0),
                                        (dout * x_hat).mean(axis=0))):
        param = name[1:]
        if value.shape == (n, d):
            fail(f"The {name} that {_BFN} returned has one row per example. {param} is shared by "
                 f"the whole batch, so its gradient is SUMMED over the examples (axis=0), one "
                 f"entry per feature", call)
        if value.shape == (n,):
            fail(f"The {name} that {_BFN} returned has one entry per example: it was summed over "
                 f"the features (axis=1). Sum over the examples, axis=0", call)
        check_shape(value, (d,), f"{_BFN}'s {name}", call)
        if close(value, mean_ref):
            fail(f"{_BFN}'s {name} is averaged over the batch; it is the SUM over the examples (any "
                 f"1/N is already inside dout)", call)
        if not close(value, ref):
            if name == "dgamma":
                if close(value, (dout * x_hat * gamma).sum(axis=0)):
                    fail(f"{_BFN}'s dgamma has an extra factor gamma. out = gamma * x_hat + beta, "
                         f"so the local gradient of gamma is x_hat: dgamma = sum of dout * x_hat "
                         f"over the batch", call)
                fail(f"{_BFN}'s dgamma is not sum over the batch of dout * x_hat (gamma "
                     f"multiplies x_hat, so x_hat is its local gradient)", call)
            if close(value, (dout * gamma).sum(axis=0)):
                fail(f"{_BFN}'s dbeta has a factor gamma. beta is added after the scaling, so its "
                     f"local gradient is 1: dbeta = dout summed over the batch", call)
            fail(f"{_BFN}'s dbeta is not dout summed over the batch", call)

    check_shape(dx, (n, d), f"{_BFN}'s dx", call)
    g = dout * gamma                                       # gradient with respect to x_hat
    s1, s2 = g.sum(axis=0), (g * x_hat).sum(axis=0)
    candidates = [
        (g * inv_std,
         "computes dx = dout * gamma * inv_std, which treats mu and var as constants. In "
         "training mode they depend on every example of the batch, so dx has two more terms "
         "(the paths through mu and through var): the compact formula subtracts sum(g) and "
         "x_hat * sum(g * x_hat)"),
        (inv_std / n * (n * g - x_hat * s2),
         "leaves out the term from the path through the batch MEAN: subtract sum over the "
         "batch of g (per feature)"),
        (inv_std / n * (n * g - s1),
         "leaves out the term from the path through the batch VARIANCE: subtract "
         "x_hat * sum(g * x_hat)"),
        (inv_std * (n * g - s1 - x_hat * s2),
         "returns a dx N times too large: the compact formula has the factor inv_std / N in "
         "front"),
        (inv_std / n * (g - s1 - x_hat * s2),
         "leaves out N in front of g (the factor N is missing): inv_std / N * (N * g - sum(g) - "
         "x_hat * sum(g * x_hat))"),
        (inv_std * (g - s1 - x_hat * s2),
         "subtracts sums where the terms must be MEANS over the batch (or keep the sums and put "
         "the whole bracket over N, with N * g in front)"),
        (inv_std / n * (n * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0)),
         "leaves gamma out of dx (gamma is missing): the gradient reaching x_hat is "
         "g = dout * gamma"),
    ]
    for candidate, hint in candidates:
        if close(dx, candidate):
            fail(f"{_BFN} {hint}", call)
    err = rel_error(dx, _numerical_dx(x, gamma, dout, eps))
    if err > 1e-6:
        fail(f"{_BFN}'s dx does not match a numerical gradient of the forward pass (relative "
             f"error {err:.1e}). The compact formula: dx = inv_std / N * (N * g - sum(g) - "
             f"x_hat * sum(g * x_hat)) with g = dout * gamma and sums over the batch (axis=0)", call)
    passed("batchnorm_backward")


# --------------------------------------------------------- recovering the identity

_X_ID = np.array([[4.0, -1.0, 0.20], [1.0, -3.0, 0.21], [2.5, 0.5, 0.19], [6.0, -2.0, 0.20],
                  [0.5, -0.5, 0.22]])
_IFN = "identity_params"


def identity_inputs(seed=None):
    """The batches and eps values of check_bn_identity: a list of (x, eps)."""
    if seed is None:
        return [(_X_ID, 1e-5), (_X_ID, 0.5)]
    g = np.random.default_rng(seed)
    n, d = _batch_size_and_width(g, (4, 10), (2, 6))
    x = np.round(g.normal(g.uniform(-3, 3, d), g.uniform(0.5, 3.0, d), size=(n, d)), 2)
    x[:, -1] = np.round(g.uniform(0.1, 0.5) + 0.01 * g.integers(-2, 3, n), 2)   # nearly constant
    if np.ptp(x[:, -1]) == 0:
        x[0, -1] += 0.01
    return [(x, 1e-5), (x, float(g.choice([0.1, 0.5, 2.0])))]


@check()
def check_bn_identity(identity_params, *, seed=None):
    """Check ``identity_params(x, eps) -> (gamma, beta)``: the per-feature scale and shift with
    which BatchNorm in training mode returns its input x unchanged (gamma = sqrt(var + eps),
    beta = mean, both over the batch). With a ``seed``: another batch (N, D) and eps.

    Diagnoses: gamma without eps (the std); gamma = var + eps (no square root); gamma the
    inverse 1 / sqrt(var + eps); the unbiased variance; beta = 0 or gamma and beta swapped;
    statistics over the wrong axis or over all entries (shapes); x changed in place.
    """
    for x, eps in identity_inputs(seed):
        call = Call(f"{_IFN}({fmt_array(x)}, eps={eps:g})")
        x_in = x.copy()
        result = identity_params(x_in, eps)
        if not np.array_equal(x_in, x):
            fail(f"{_IFN} changed x in place (e.g. `x -= mu`); compute the statistics without "
                 f"modifying the caller's batch", call)
        gamma, beta = unpack(result, ("gamma", "beta"), _IFN, call)
        gamma, beta = as_array(gamma, f"{_IFN}'s gamma", call), as_array(beta, f"{_IFN}'s beta", call)
        d = x.shape[1]
        for name, value in (("gamma", gamma), ("beta", beta)):
            if value.shape == (x.shape[0],):
                fail(f"The {name} that {_IFN} returned has one value per example. BatchNorm has "
                     f"one gamma and one beta per FEATURE: use axis=0", call)
            if value.size == 1:
                fail(f"The {name} that {_IFN} returned is a single number; BatchNorm has one "
                     f"{name} per feature (statistics over the batch, axis=0)", call)
            check_shape(value, (d,), f"{_IFN}'s {name}", call)
        mu, var = x.mean(axis=0), x.var(axis=0)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
        if close(out, x, rtol=1e-9, atol=1e-12):
            continue
        if not close(beta, mu):
            if close(beta, np.zeros(d)):
                fail(f"{_IFN} returned beta = 0, with which the output has mean 0; to give back "
                     f"x, beta must put each feature's batch mean back", call)
            if close(beta, np.sqrt(var + eps)) and close(gamma, mu):
                fail(f"{_IFN} returned gamma and beta swapped: gamma SCALES x_hat (so it must "
                     f"undo the division), beta SHIFTS it (so it must undo the subtraction)", call)
            fail(f"{_IFN}'s beta should undo the subtraction of the batch mean", call)
        gamma_hints = [
            (np.sqrt(var), "is the std without eps; x_hat was divided by sqrt(var + eps), so "
                           "gamma must be sqrt(var + eps) to undo it exactly"),
            (var + eps, "must undo a division by the STANDARD DEVIATION sqrt(var + eps); you "
                        "used the variance"),
            (1.0 / np.sqrt(var + eps), "is the inverse of what it should be: x_hat was DIVIDED "
                                       "by sqrt(var + eps), so multiply by it"),
            (np.sqrt(x.var(axis=0, ddof=1) + eps),
             "uses the unbiased variance; the normalization divided by sqrt of the BIASED batch "
             "variance (np.var's default) plus eps"),
        ]
        for candidate, hint in gamma_hints:
            if close(gamma, candidate):
                fail(f"The gamma that {_IFN} returned {hint}", call)
        fail(f"With the gamma that {_IFN} returned, BatchNorm does not give back x: gamma must "
             f"undo the division by sqrt(var + eps)", call)
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


@check(hidden=False, why="a prediction about the one scenario the exercise states (the example 2 in "
                         "the batches [2, 0, 0, 0] and [2, 4, 4, 4], running mean 1 and variance 4): "
                         "the four numbers are the answer")
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
                fail(f"Your evaluation-mode predictions (eval_A, eval_B) use the statistics of "
                     f"batch {label}; evaluation mode normalizes with running_mean and running_var")
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
            fail("A training-mode prediction (train_A or train_B) uses the running statistics; "
                 "training mode normalizes with the statistics of the batch")
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
        fail("Your training-mode predictions (train_A, train_B) are not (x - mu_B) / "
             "sqrt(var_B + eps) with the mean and biased variance of each batch")
    passed("batch_dependence")


# ------------------------------------------------ the backward pass, node by node

_SFN = "batchnorm_backward_staged"
STAGED_KEYS = ("beta", "gamma", "x_hat", "inv", "std", "var", "xc", "mu", "x")   # backward order
_PER_FEATURE = ("beta", "gamma", "inv", "std", "var", "mu")
# what each node feeds in the forward pass: the fallback hint when no known mistake matches
_FEEDS = {
    "beta": "beta is added to every example in y = gamma * x_hat + beta",
    "gamma": "gamma multiplies x_hat in y = gamma * x_hat + beta, for every example",
    "x_hat": "x_hat is multiplied by gamma in y = gamma * x_hat + beta",
    "inv": "inv multiplies xc in x_hat = xc * inv, for every example",
    "std": "std feeds inv = 1 / std: multiply grads['inv'] by the derivative of 1 / std",
    "var": "var feeds std = sqrt(var + eps): multiply grads['std'] by the derivative of that "
           "square root",
    "xc": "xc feeds TWO nodes, x_hat = xc * inv and var = mean(xc ** 2); add the gradients of "
          "both paths",
    "mu": "mu is subtracted from every example in xc = x - mu",
    "x": "x feeds TWO nodes, xc = x - mu directly and mu = mean(x); add the gradients of both "
         "paths",
}


def _staged_nodes(x, gamma, beta, eps):
    """The forward nodes of the exercise's batchnorm_forward_staged, as its cache (the
    library's staged graph of notebook 04 computes exactly these)."""
    from ..widgets.batchnorm_graph import batchnorm_forward_staged
    return batchnorm_forward_staged(x, gamma, beta, eps)[1]


def _staged_grads(dout, c):
    """The check's own reference: the gradient of every node, backwards through the graph."""
    n = dout.shape[0]
    g = {"beta": dout.sum(axis=0), "gamma": (dout * c["x_hat"]).sum(axis=0), "x_hat": dout * c["gamma"]}
    g["inv"] = (g["x_hat"] * c["xc"]).sum(axis=0)
    g["std"] = -g["inv"] / c["std"] ** 2
    g["var"] = g["std"] / (2.0 * c["std"])
    g["xc"] = g["x_hat"] * c["inv"] + g["var"] * 2.0 * c["xc"] / n
    g["mu"] = -g["xc"].sum(axis=0)
    g["x"] = g["xc"] + g["mu"] / n
    return g


def staged_inputs(seed=None):
    """The inputs of check_batchnorm_backward_staged: ``dout``, ``cache`` (the forward nodes),
    the reference gradients ``grads`` and the Call that reproduces the check. ``seed=None``:
    the public inputs; an integer: a hidden test's (other N, D, statistics, gamma, beta)."""
    if seed is None:
        s, n, d, loc, scale = 2, 6, 4, 2.0, 1.5
        gamma, beta = np.array([0.5, 1.5, 2.0, 0.8]), np.array([0.1, -0.3, 0.0, 0.2])
    else:
        g = np.random.default_rng(seed)
        s = int(g.integers(10, 10_000))
        n, d = _batch_size_and_width(g, (4, 11), (2, 7))
        loc, scale = float(g.choice([-2.0, 0.5, 1.0, 3.0, 5.0])), float(g.choice([0.5, 1.5, 2.0, 3.0]))
        gamma, beta = np.round(g.uniform(0.3, 2.5, d), 2), np.round(g.normal(0.0, 0.5, d), 2)
    rng = np.random.default_rng(s)
    x = loc + scale * rng.standard_normal((n, d))
    dout = rng.standard_normal((n, d))
    cache = _staged_nodes(x, gamma, beta, 1e-5)
    call = Call(f"{_SFN}(dout, cache)",
                f"rng = np.random.default_rng({s}); x = {loc:g} + {scale:g} * rng.standard_normal(({n}, {d})); "
                f"dout = rng.standard_normal(({n}, {d})); gamma = {fmt_array(gamma)}; "
                f"beta = {fmt_array(beta)}; cache = batchnorm_forward_staged(x, gamma, beta)[1]")
    return SimpleNamespace(dout=dout, cache=cache, grads=_staged_grads(dout, cache), call=call)


def _staged_shape(key, value, n, d, call):
    """The node's gradient with the shape of the node ((D,) or (N, D)), or a hint on the axis."""
    what = f"{_SFN}'s grads['{key}']"
    if key in _PER_FEATURE:
        if value.shape == (1, d):
            return value.reshape(d)                        # keepdims=True is fine
        if value.shape == (n, d):
            fail(f"{what} has one row per example, but {key} is one number per feature: it is "
                 f"broadcast to every example in the forward pass, so its gradient is the SUM over "
                 f"the batch (axis=0) of what reaches it from each example", call)
        if value.shape in ((n,), (n, 1)):
            fail(f"{what} has one value per example: it was summed over the features (axis=1). "
                 f"{key} has one value per feature, so sum over the batch, axis=0", call)
        check_shape(value, (d,), what, call)
    else:
        if value.shape in ((d,), (1, d)):
            fail(f"{what} has one value per feature, but {key} has one value per example and per "
                 f"feature, the shape (N, D) of x: no sum over the batch belongs here", call)
        check_shape(value, (n, d), what, call)
    return value


def _staged_mistakes(key, inp):
    """(value, hint) pairs: the typical wrong gradients of node ``key``, each computed from the
    correct gradients of the nodes after it (the check stops at the first wrong node)."""
    c, g, dout = inp.cache, inp.grads, inp.dout
    n = dout.shape[0]
    xc, x_hat, inv, std, var, gamma = c["xc"], c["x_hat"], c["inv"], c["std"], c["var"], c["gamma"]
    averaged = ("is averaged over the batch. A value broadcast to every example gets the SUM of "
                "the gradients from all of them (any 1/N is already inside dout)")
    table = {
        "beta": [(dout.mean(axis=0), averaged),
                 ((dout * gamma).sum(axis=0), "has a factor gamma. beta is added after the scaling, "
                                              "so its local gradient is 1")],
        "gamma": [((dout * x_hat).mean(axis=0), averaged),
                  ((dout * x_hat * gamma).sum(axis=0), "has an extra factor gamma: the local gradient "
                                                       "of gamma in gamma * x_hat is x_hat"),
                  ((dout * xc).sum(axis=0), "uses xc; gamma multiplies x_hat, so its local gradient "
                                            "is x_hat"),
                  (dout.sum(axis=0), "misses the local gradient x_hat (gamma multiplies x_hat)")],
        "x_hat": [(dout, "misses the factor gamma (gamma is missing): y = gamma * x_hat + beta"),
                  (dout * x_hat, "is dout * x_hat, which belongs to gamma; x_hat's local gradient "
                                 "is gamma")],
        "inv": [((g["x_hat"] * x_hat).sum(axis=0), "multiplies by x_hat; in x_hat = xc * inv the "
                                                   "local gradient of inv is xc"),
                ((dout * xc).sum(axis=0), "starts from dout; the gradient arriving at x_hat is "
                                          "grads['x_hat'] = dout * gamma"),
                ((g["x_hat"] * xc).mean(axis=0), averaged)],
        "std": [(g["inv"] / std ** 2, "has the wrong sign: the derivative of 1 / std is negative"),
                (-g["inv"] / std, "divides by std once; the derivative of 1 / std is -1 / std**2"),
                (-g["inv"] * std ** 2, "multiplies by std**2; the derivative of 1 / std is -1 / std**2"),
                (-g["inv"], "misses the local derivative of 1 / std")],
        "var": [(g["std"] * std / 2.0, "multiplies by the square root; the derivative of "
                                       "sqrt(v) is 1 / (2 sqrt(v)), here 1 / (2 std)"),
                (g["std"] / std, "misses the factor 1/2 of the derivative of a square root"),
                (g["std"] / (2.0 * var), "divides by var; the derivative of sqrt(var + eps) is "
                                         "1 / (2 sqrt(var + eps)) = 1 / (2 std)"),
                (-g["std"] / (2.0 * std), "has the wrong sign: the square root is increasing")],
        "xc": [(g["x_hat"] * inv, "has only the path through x_hat; the path through the variance "
                                  "node is missing. xc also feeds var = mean(xc**2), and the "
                                  "gradients of the two paths add up"),
               (g["var"] * 2.0 * xc / n, "has only the path through var; add the path through "
                                         "x_hat = xc * inv"),
               (g["x_hat"] * inv + g["var"] * 2.0 * xc / (n - 1),
                "divides by N - 1 in the path through var. var is the BIASED variance, "
                "sum(xc**2) / N, so the local gradient is 2 xc / N"),
               (g["x_hat"] * inv + g["var"] * 2.0 / n,
                "misses the factor xc = x - mu in the path through var: the derivative of xc**2 "
                "is 2 xc"),
               (g["x_hat"] * inv + g["var"] * xc / n,
                "misses the factor 2 in the path through var: the derivative of xc**2 is 2 xc"),
               (g["x_hat"] * inv + g["var"] * 2.0 * xc,
                "misses the 1/N of the mean in the path through var (var = sum(xc**2) / N)"),
               (g["x_hat"] * inv + g["var"] * 2.0 * c["x"] / n,
                "uses x in the path through var; var is the mean of xc**2 with xc = x - mu, so the "
                "local gradient is 2 (x - mu) / N")],
        "mu": [(g["xc"].sum(axis=0), "has the wrong sign: xc = x - mu"),
               (-g["xc"].mean(axis=0), "is averaged over the batch (divided by N). mu is subtracted "
                                       "from every example, so its gradient is minus the SUM of "
                                       "grads['xc']; the 1/N of the mean belongs to the step from mu "
                                       "back to x")],
        "x": [(g["xc"], "forgets the gradient through mu. x also feeds mu = mean(x): add 1/N of "
                        "grads['mu'] to every example"),
              (g["xc"] + g["mu"], "adds all of grads['mu'] to every example; mu is a MEAN over the "
                                  "batch, so each example gets 1/N of it"),
              (g["xc"] - g["mu"] / n, "subtracts the path through mu; it adds, with the gradient "
                                      "grads['mu'] as it is"),
              (g["xc"] + g["mu"] / (n - 1), "divides grads['mu'] by N - 1; mu = sum(x) / N, so each "
                                            "example gets 1/N")],
    }
    return table[key]


@check()
def check_batchnorm_backward_staged(batchnorm_backward_staged, *, seed=None):
    """Check ``batchnorm_backward_staged(dout, cache) -> grads``, BatchNorm's training-mode
    backward pass node by node: ``cache`` holds the forward nodes of the exercise's
    ``batchnorm_forward_staged`` (x, mu, xc, var, std, inv, x_hat, gamma, beta, eps) and
    ``grads`` must map every node to the gradient of the loss with respect to it:
    beta, gamma, x_hat, inv, std, var, xc, mu, x. The nodes are checked in the order of the
    backward pass, and the first wrong one is named. With a ``seed``: another batch (N, D),
    gamma, beta and dout.

    Diagnoses, per node: a broadcast value (beta, gamma, inv, mu) not summed over the batch,
    summed over the features (axis mix-up) or averaged; a per-example gradient summed;
    dgamma/dbeta with an extra gamma or without x_hat; dx_hat without gamma; the sign or the
    power of std in d(1/std); the 1/2 or the square root in d sqrt(var + eps); the path through
    var missing from dxc, with N - 1 instead of N, without the factor xc (x - mu) or 2 or 1/N,
    or with x instead of xc; only the var path; the sign of dmu, or 1/N in it; the gradient
    through mu forgotten in dx, not divided by N, divided by N - 1 or subtracted; a missing
    key or a non-dict result; dout or the cache changed in place.
    """
    inp = staged_inputs(seed)
    call, n, d = inp.call, *inp.dout.shape
    dout = inp.dout.copy()
    cache = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inp.cache.items()}
    result = batchnorm_backward_staged(dout, cache)
    changed = [k for k, v in inp.cache.items() if isinstance(v, np.ndarray) and not np.array_equal(cache[k], v)]
    if not np.array_equal(dout, inp.dout) or changed:
        what = "dout" if not np.array_equal(dout, inp.dout) else f"cache['{changed[0]}']"
        fail(f"{_SFN} changed {what} in place (an operator such as `-=` or `*=` on it). Compute "
             f"new arrays and leave dout and the cache as they are", call)
    if not isinstance(result, dict):
        fail(f"{_SFN} should return a dict with one gradient per node ({', '.join(STAGED_KEYS)}), "
             f"got {type(result).__name__}", call)
    missing = [k for k in STAGED_KEYS if k not in result]
    if missing:
        fail(f"The dict that {_SFN} returned has no entry for {', '.join(repr(k) for k in missing)}. "
             f"It needs the gradient of every node: {', '.join(STAGED_KEYS)}", call)
    for key in STAGED_KEYS:
        value = _staged_shape(key, as_array(result[key], f"{_SFN}'s grads['{key}']", call), n, d, call)
        if close(value, inp.grads[key]):
            continue
        for candidate, hint in _staged_mistakes(key, inp):
            if close(value, candidate):
                fail(f"{_SFN}'s grads['{key}'] {hint}", call)
        later = [k for k in STAGED_KEYS[:STAGED_KEYS.index(key)]]
        fail(f"{_SFN}'s grads['{key}'] is not the gradient of the loss with respect to {key} "
             f"(the nodes before it in the backward pass, {', '.join(later) or 'none'}, are right). "
             f"{_FEEDS[key][0].upper() + _FEEDS[key][1:]}", call)
    passed(_SFN)
