"""The checks of exercises/04_batch_normalization.ipynb, proved both ways: each passes the
reference solution, and each typical mistake it claims to catch fails with its targeted hint —
without the hint revealing the expected numbers, and without swallowing the student's own
errors."""

import numpy as np
import pytest

from course_lib import checks
from _checkutil import assert_hides as _assert_hides, hint, passes, raises_own_error


def assert_hides(message, values):
    return _assert_hides(message, values, min_abs=1e-3)


# ------------------------------------------------------------------ forward pass

def forward_variant(axis=0, ddof_norm=0, eps_mode="inside", ddof_run=1, convention="torch",
                    eval_batch=False, update_in_eval=False, fixed_eps=None, fixed_momentum=None,
                    in_place=False, cache_std=False, cache_out=False, no_update=False,
                    replace=False, scale="gamma-beta", train_running=False, run_std=False,
                    divide_var=False, run_axis=None):
    def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1,
                          eps=1e-5):
        eps = eps if fixed_eps is None else fixed_eps
        momentum = momentum if fixed_momentum is None else fixed_momentum
        if training and not train_running:
            mu = x.mean(axis=axis, keepdims=axis == 1)
            var = x.var(axis=axis, ddof=ddof_norm, keepdims=axis == 1)
        else:
            if eval_batch:
                mu, var = x.mean(axis=0), x.var(axis=0)
            else:
                mu, var = running_mean, running_var
        if eps_mode == "inside":
            std = np.sqrt(var + eps)
        elif eps_mode == "outside":
            std = np.sqrt(var) + eps
        else:
            std = np.sqrt(var)
        if divide_var:
            std = var + eps
        x_hat = (x - mu) / std
        out = {"gamma-beta": gamma * x_hat + beta, "none": x_hat,
               "swapped": beta * x_hat + gamma}[scale]
        new_mean, new_var = running_mean, running_var
        if (training and not no_update) or update_in_eval:
            ax = axis if run_axis is None else run_axis
            batch_mu = x.mean(axis=ax, keepdims=ax == 1)
            batch_var = x.var(axis=ax, ddof=ddof_run, keepdims=ax == 1)
            if run_std:
                batch_var = np.sqrt(batch_var)
            m = momentum if convention == "torch" else 1 - momentum
            if replace:
                new_mean, new_var = batch_mu, batch_var
            elif in_place:
                running_mean *= 1 - m
                running_mean += m * batch_mu
                running_var *= 1 - m
                running_var += m * batch_var
                new_mean, new_var = running_mean, running_var
            else:
                new_mean = (1 - m) * running_mean + m * batch_mu
                new_var = (1 - m) * running_var + m * batch_var
        inv_std = 1 / std
        cache = (out if cache_out else x_hat, gamma, std if cache_std else inv_std)
        return out, cache, new_mean, new_var
    return batchnorm_forward


def test_batchnorm_forward_passes_the_reference(capsys):
    passes(capsys, checks.check_batchnorm_forward, forward_variant(), name="batchnorm_forward")


FORWARD_MISTAKES = [
    (forward_variant(ddof_norm=1), "UNBIASED variance"),
    (forward_variant(ddof_run=0), "BIASED batch variance"),
    (forward_variant(convention="reversed"), "convention is reversed"),
    (forward_variant(eval_batch=True), "in evaluation mode, batchnorm_forward normalized with the statistics of the batch"),
    (forward_variant(eps_mode="outside"), "outside the square root"),
    (forward_variant(eps_mode="none"), "eps is missing"),
    (forward_variant(axis=1), "normalized each EXAMPLE"),
    (forward_variant(run_axis=1), "per EXAMPLE"),
    (forward_variant(update_in_eval=True), "changed the running statistics"),
    (forward_variant(fixed_eps=1e-5), "use the `eps` argument"),
    (forward_variant(fixed_momentum=0.1), "use the `momentum` argument"),
    (forward_variant(in_place=True), "in place"),
    (forward_variant(cache_std=True), "INVERSE"),
    (forward_variant(cache_out=True), "x_hat is the output"),
    (forward_variant(no_update=True), "running_mean was not updated"),
    (forward_variant(replace=True), "replaced by the batch mean"),
    (forward_variant(scale="none"), "apply the scale and shift"),
    (forward_variant(scale="swapped"), "swapped"),
    (forward_variant(train_running=True), "RUNNING statistics"),
    (forward_variant(run_std=True), "standard deviation"),
    (forward_variant(divide_var=True), "divided by the variance"),
    (lambda *args, **kw: forward_variant()(*args, **kw)[:2], "should return a tuple"),
    (lambda *args, **kw: forward_variant()(*args, **kw)[:1] + ((1, 2),) + forward_variant()(*args, **kw)[2:],
     "cache should be a tuple"),
]


@pytest.mark.parametrize("wrong, match", FORWARD_MISTAKES)
def test_batchnorm_forward_mistakes(wrong, match):
    message = hint(checks.check_batchnorm_forward, wrong, match=match)
    x = np.random.default_rng(0).normal([2.0, -1.0, 0.5, 3.0], [3.0, 0.5, 1.5, 0.01], size=(6, 4))
    gamma, beta = np.array([1.5, 0.5, 1.0, 2.0]), np.array([0.1, -0.2, 0.0, 0.3])
    out, _, rm, rv = forward_variant()(x, gamma, beta, np.array([0.5, -0.5, 0.0, 1.0]),
                                       np.array([2.0, 0.5, 1.0, 0.1]), True)
    assert_hides(message, np.r_[out.ravel(), rm, rv])


def test_batchnorm_forward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_batchnorm_forward(raises_own_error)


# ----------------------------------------------------------------- backward pass

def backward_variant(kind="ok", sum_params=True, mean_params=False, dgamma_from=None,
                     params_axis=0):
    def batchnorm_backward(dout, cache):
        x_hat, gamma, inv_std = cache
        n = dout.shape[0]
        g = dout * gamma
        s1, s2 = g.sum(axis=0), (g * x_hat).sum(axis=0)
        dx = {"ok": inv_std / n * (n * g - s1 - x_hat * s2),
              "constant": g * inv_std,
              "no mean term": inv_std / n * (n * g - x_hat * s2),
              "no var term": inv_std / n * (n * g - s1),
              "no 1/N": inv_std * (n * g - s1 - x_hat * s2),
              "no N g": inv_std / n * (g - s1 - x_hat * s2),
              "sums": inv_std * (g - s1 - x_hat * s2),
              "no gamma": inv_std / n * (n * dout - dout.sum(axis=0)
                                         - x_hat * (dout * x_hat).sum(axis=0)),
              "random": dout * 0.37}[kind]
        local = x_hat if dgamma_from is None else dgamma_from(x_hat, inv_std)
        if not sum_params:
            return dx, dout * local, dout
        reduce = np.mean if mean_params else np.sum
        return dx, reduce(dout * local, axis=params_axis), reduce(dout, axis=params_axis)
    return batchnorm_backward


def test_batchnorm_backward_passes_the_reference(capsys):
    passes(capsys, checks.check_batchnorm_backward, backward_variant(), name="batchnorm_backward")


BACKWARD_MISTAKES = [
    (backward_variant(sum_params=False), "one row per example"),
    (backward_variant(mean_params=True), "averaged over the batch"),
    (backward_variant(params_axis=1), "summed over the features"),
    (backward_variant(dgamma_from=lambda xh, inv: xh / inv), "dgamma is not sum"),
    (backward_variant("constant"), "treats mu and var as constants"),
    (backward_variant("no mean term"), "path through the batch MEAN"),
    (backward_variant("no var term"), "path through the batch VARIANCE"),
    (backward_variant("no 1/N"), "N times too large"),
    (backward_variant("no N g"), "factor N is missing"),
    (backward_variant("sums"), "MEANS over the batch"),
    (backward_variant("no gamma"), "gamma is missing"),
    (backward_variant("random"), "numerical gradient"),
    (lambda dout, cache: backward_variant()(dout, cache)[:2], "should return a tuple"),
]


@pytest.mark.parametrize("wrong, match", BACKWARD_MISTAKES)
def test_batchnorm_backward_mistakes(wrong, match):
    message = hint(checks.check_batchnorm_backward, wrong, match=match)
    rng = np.random.default_rng(1)
    x = 3 + 2 * rng.standard_normal((5, 3))
    gamma, dout = np.array([0.5, 1.5, 2.0]), rng.standard_normal((5, 3))
    inv_std = 1 / np.sqrt(x.var(axis=0) + 1e-5)
    dx, dgamma, dbeta = backward_variant()(dout, ((x - x.mean(axis=0)) * inv_std, gamma, inv_std))
    assert_hides(message, np.r_[dx.ravel(), dgamma, dbeta])


def test_batchnorm_backward_catches_in_place_changes():
    def in_place(dout, cache):
        result = backward_variant()(dout, cache)
        dout *= 2
        return result
    hint(checks.check_batchnorm_backward, in_place, match="in place")


def test_batchnorm_backward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_batchnorm_backward(raises_own_error)


# --------------------------------------------------------- recovering the identity

def identity_variant(gamma_of=None, beta_of=None, axis=0):
    def identity_params(x, eps):
        mu, var = x.mean(axis=axis), x.var(axis=axis)
        gamma = np.sqrt(var + eps) if gamma_of is None else gamma_of(x, var, eps)
        beta = mu if beta_of is None else beta_of(x, mu, var, eps)
        return gamma, beta
    return identity_params


def test_bn_identity_passes_the_reference(capsys):
    passes(capsys, checks.check_bn_identity, identity_variant(), name="bn_identity")


IDENTITY_MISTAKES = [
    (identity_variant(gamma_of=lambda x, var, eps: np.sqrt(var)), "without eps"),
    (identity_variant(gamma_of=lambda x, var, eps: var + eps), "you used the variance"),
    (identity_variant(gamma_of=lambda x, var, eps: 1 / np.sqrt(var + eps)), "inverse"),
    (identity_variant(gamma_of=lambda x, var, eps: np.sqrt(x.var(axis=0, ddof=1) + eps)), "unbiased"),
    (identity_variant(beta_of=lambda x, mu, var, eps: np.zeros_like(mu)), "beta = 0"),
    (identity_variant(gamma_of=lambda x, var, eps: x.mean(axis=0),
                      beta_of=lambda x, mu, var, eps: np.sqrt(var + eps)), "swapped"),
    (identity_variant(axis=1), "one value per example"),
    (identity_variant(axis=None), "single number"),
    (lambda x, eps: np.sqrt(x.var(axis=0) + eps), "should return a tuple"),
]


@pytest.mark.parametrize("wrong, match", IDENTITY_MISTAKES)
def test_bn_identity_mistakes(wrong, match):
    message = hint(checks.check_bn_identity, wrong, match=match)
    x = np.array([[4.0, -1.0, 0.20], [1.0, -3.0, 0.21], [2.5, 0.5, 0.19], [6.0, -2.0, 0.20],
                  [0.5, -0.5, 0.22]])
    assert_hides(message, np.r_[np.sqrt(x.var(axis=0) + 1e-5), np.sqrt(x.var(axis=0) + 0.5),
                                x.mean(axis=0)])


def test_bn_identity_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_bn_identity(raises_own_error)


# ---------------------------------------------------- the batch a prediction sees

RIGHT = dict(train_A=np.sqrt(3.0), train_B=-np.sqrt(3.0), eval_A=0.5, eval_B=0.5)


def test_batch_dependence_passes_the_reference(capsys):
    passes(capsys, checks.check_batch_dependence, *RIGHT.values(), name="batch_dependence")
    # exact values with eps also pass
    eps = 1e-5
    passes(capsys, checks.check_batch_dependence, 1.5 / np.sqrt(0.75 + eps), -1.5 / np.sqrt(0.75 + eps),
           1 / np.sqrt(4 + eps), 1 / np.sqrt(4 + eps), name="batch_dependence")


@pytest.mark.parametrize("changes, match", [
    (dict(eval_A=np.sqrt(3.0), eval_B=-np.sqrt(3.0)), "do not enter at all"),
    (dict(eval_A=np.sqrt(3.0), eval_B=np.sqrt(3.0)), "statistics of batch A"),
    (dict(eval_A=0.25, eval_B=0.25), "running VARIANCE"),
    (dict(eval_A=1.0, eval_B=1.0), "AND divide"),
    (dict(train_B=np.sqrt(3.0)), "are equal"),
    (dict(train_A=0.5, train_B=0.5), "are equal"),
    (dict(train_A=0.5), "uses the running statistics"),
    (dict(train_A=1.5, train_B=-1.5), "unbiased variance"),
    (dict(train_A=2.0), "divided by the batch variance"),
    (dict(train_A=1.5), "unbiased variance"),
    (dict(train_B=-1.5), "unbiased variance"),
    (dict(train_A=-np.sqrt(3.0), train_B=np.sqrt(3.0)), "wrong sign"),
    (dict(train_A=0.9), "not \\(x - mu_B\\)"),
    (dict(train_A=None), "is None"),
    (dict(eval_B=np.array([0.5, 0.5])), "one finite number"),
])
def test_batch_dependence_mistakes(changes, match):
    args = {**RIGHT, **changes}
    message = hint(checks.check_batch_dependence, *args.values(), match=match)
    given = [np.ravel(v) for v in changes.values() if v is not None]
    hidden = [v for k, v in RIGHT.items()
              if k not in changes and not any(np.isclose(v, g).any() for g in given)]
    assert_hides(message, hidden)


# ------------------------------------------------------------ sharper diagnoses

def test_batchnorm_backward_names_an_extra_gamma_in_dgamma_or_dbeta():
    def extra_gamma(dout, cache):
        dx, dgamma, dbeta = backward_variant()(dout, cache)
        return dx, dgamma * cache[1], dbeta
    hint(checks.check_batchnorm_backward, extra_gamma, match="dgamma has an extra factor gamma")

    def dbeta_gamma(dout, cache):
        dx, dgamma, dbeta = backward_variant()(dout, cache)
        return dx, dgamma, dbeta * cache[1]
    hint(checks.check_batchnorm_backward, dbeta_gamma, match="dbeta has a factor gamma")


def test_bn_identity_catches_changes_to_x_in_place():
    def centers_in_place(x, eps):
        gamma, beta = identity_variant()(x, eps)
        x -= beta
        return gamma, beta
    hint(checks.check_bn_identity, centers_in_place, match="changed x in place")


# ------------------------------------------------------------------ hidden tests

from course_lib.checks import batchnorm as bnc                     # noqa: E402
from course_lib.checks._common import hidden_mode                  # noqa: E402
from _hiddencheck import HIDDEN_SEEDS, assert_advice_form, hidden_hint   # noqa: E402


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3))
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_batchnorm_forward(forward_variant(), seed=seed)
    checks.check_batchnorm_backward(backward_variant(), seed=seed)
    checks.check_bn_identity(identity_variant(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 3


def test_hidden_inputs_differ_from_the_public_ones_and_stay_in_the_regime():
    public = bnc.forward_inputs()
    for seed in range(40):
        inp = bnc.forward_inputs(seed)
        n, d = inp.x.shape
        assert n != d and inp.momentum2 not in (0.1, 0.5) and inp.eps2 > 1e-3
        assert inp.x[:, -1].std() < 0.05                    # a nearly constant feature
        assert inp.x.shape != public.x.shape or not np.allclose(inp.x, public.x)
        x, *_ = bnc.backward_inputs(seed)
        assert x.shape[0] != x.shape[1]


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", FORWARD_MISTAKES)
def test_hidden_forward_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_batchnorm_forward, wrong, seed, match)
    assert_advice_form(message, "batchnorm_forward")
    inp = bnc.forward_inputs(seed)
    out, _, rm, rv = forward_variant()(inp.x, inp.gamma, inp.beta, inp.rmean, inp.rvar, True,
                                       momentum=inp.momentum2, eps=inp.eps2)
    assert_hides(message, np.r_[out.ravel(), rm, rv])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", BACKWARD_MISTAKES)
def test_hidden_backward_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_batchnorm_backward, wrong, seed, match)
    assert_advice_form(message, "batchnorm_backward")
    x, gamma, dout, x_hat, inv_std, _, _ = bnc.backward_inputs(seed)
    dx, dgamma, dbeta = backward_variant()(dout, (x_hat, gamma, inv_std))
    assert_hides(message, np.r_[dx.ravel(), dgamma, dbeta])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", IDENTITY_MISTAKES)
def test_hidden_identity_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_bn_identity, wrong, seed, match)
    assert_advice_form(message, "identity_params")
    values = [np.r_[np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)] for x, eps in bnc.identity_inputs(seed)]
    assert_hides(message, np.concatenate(values))


def test_public_messages_name_the_function_and_start_a_sentence():
    for check, mistakes, name in ((checks.check_batchnorm_forward, FORWARD_MISTAKES, "batchnorm_forward"),
                                  (checks.check_batchnorm_backward, BACKWARD_MISTAKES, "batchnorm_backward"),
                                  (checks.check_bn_identity, IDENTITY_MISTAKES, "identity_params")):
        for wrong, match in mistakes:
            assert_advice_form(hint(check, wrong, match=match), name)


def test_a_hard_coded_forward_fails_the_hidden_test():
    inp = bnc.forward_inputs()
    base = (inp.x, inp.gamma, inp.beta, inp.rmean, inp.rvar)
    table = {(True, 0.1, 1e-5): forward_variant()(*base, True),
             (True, 0.3, 0.5): forward_variant()(*base, True, momentum=0.3, eps=0.5),
             (False, 0.1, 1e-5): forward_variant()(*base, False)}

    def hard_coded(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        return table[training, momentum, eps]
    checks.check_batchnorm_forward(hard_coded)                       # fools the public check …
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_batchnorm_forward(hard_coded, seed=seed)    # … not a hidden one


def test_a_hard_coded_backward_and_identity_fail_the_hidden_test():
    x, gamma, dout, x_hat, inv_std, _, _ = bnc.backward_inputs()
    answer = backward_variant()(dout, (x_hat, gamma, inv_std))
    checks.check_batchnorm_backward(lambda dout, cache: answer)
    answers = {eps: identity_variant()(x, eps) for x, eps in bnc.identity_inputs()}
    checks.check_bn_identity(lambda x, eps: answers[eps])
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_batchnorm_backward(lambda dout, cache: answer, seed=seed)
        with pytest.raises(AssertionError):
            checks.check_bn_identity(lambda x, eps: answers.get(eps, answers[0.5]), seed=seed)


@pytest.mark.parametrize("check", [checks.check_batchnorm_forward, checks.check_batchnorm_backward,
                                   checks.check_bn_identity])
def test_hidden_variants_let_the_students_error_through(check):
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        check(raises_own_error, seed=HIDDEN_SEEDS[0])


def test_the_prediction_declares_why_it_has_no_hidden_variant():
    for check in (checks.check_batchnorm_forward, checks.check_batchnorm_backward, checks.check_bn_identity):
        assert check.hidden is True
    assert checks.check_batch_dependence.hidden is False
    assert "scenario" in checks.check_batch_dependence.hidden_why


# ------------------------------------------------ the backward pass, node by node

def staged_variant(node=None, wrong=None):
    """The staged backward pass written out node by node; with ``node``, that node's gradient
    is replaced by ``wrong(g, cache, dout, n)`` and the nodes after it are computed from the
    wrong value, as a student's would be (where the wrong shape still broadcasts)."""
    steps = [("beta", lambda g, c, d, n: d.sum(axis=0)),
             ("gamma", lambda g, c, d, n: (d * c["x_hat"]).sum(axis=0)),
             ("x_hat", lambda g, c, d, n: d * c["gamma"]),
             ("inv", lambda g, c, d, n: (g["x_hat"] * c["xc"]).sum(axis=0)),
             ("std", lambda g, c, d, n: -g["inv"] / c["std"] ** 2),
             ("var", lambda g, c, d, n: g["std"] / (2 * c["std"])),
             ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * 2 * c["xc"] / n),
             ("mu", lambda g, c, d, n: -g["xc"].sum(axis=0)),
             ("x", lambda g, c, d, n: g["xc"] + g["mu"] / n)]

    def batchnorm_backward_staged(dout, cache):
        n, right, g = dout.shape[0], {}, {}
        for key, rule in steps:
            right[key] = rule(right, cache, dout, n)
            try:
                g[key] = wrong(g, cache, dout, n) if key == node else rule(g, cache, dout, n)
            except ValueError:                    # a wrong shape upstream that does not broadcast
                g[key] = right[key]
        return g
    return batchnorm_backward_staged


def test_staged_backward_passes_the_reference(capsys):
    passes(capsys, checks.check_batchnorm_backward_staged, staged_variant(), name="batchnorm_backward_staged")
    # keepdims=True on the per-feature nodes is fine
    keep = staged_variant("mu", lambda g, c, d, n: -g["xc"].sum(axis=0, keepdims=True))
    passes(capsys, checks.check_batchnorm_backward_staged, keep, name="batchnorm_backward_staged")


def test_the_library_staged_backward_passes_the_check(capsys):
    from course_lib.widgets import batchnorm_graph as bng
    for seed in (None, 11, 2024):
        checks.check_batchnorm_backward_staged(bng.batchnorm_backward_staged, seed=seed)
    assert capsys.readouterr().out.count("✓") == 3


STAGED_MISTAKES = [
    ("beta", lambda g, c, d, n: d, "one row per example"),
    ("beta", lambda g, c, d, n: d.sum(axis=1), "summed over the features"),
    ("beta", lambda g, c, d, n: d.mean(axis=0), "averaged over the batch"),
    ("beta", lambda g, c, d, n: (d * c["gamma"]).sum(axis=0), "has a factor gamma"),
    ("gamma", lambda g, c, d, n: d * c["x_hat"], "one row per example"),
    ("gamma", lambda g, c, d, n: (d * c["x_hat"] * c["gamma"]).sum(axis=0), "extra factor gamma"),
    ("gamma", lambda g, c, d, n: (d * c["xc"]).sum(axis=0), "uses xc"),
    ("gamma", lambda g, c, d, n: d.sum(axis=0), "misses the local gradient x_hat"),
    ("x_hat", lambda g, c, d, n: d, "gamma is missing"),
    ("x_hat", lambda g, c, d, n: (d * c["gamma"]).sum(axis=0), "no sum over the batch belongs here"),
    ("inv", lambda g, c, d, n: (g["x_hat"] * c["x_hat"]).sum(axis=0), "multiplies by x_hat"),
    ("inv", lambda g, c, d, n: (d * c["xc"]).sum(axis=0), "starts from dout"),
    ("inv", lambda g, c, d, n: g["x_hat"] * c["xc"], "one row per example"),
    ("inv", lambda g, c, d, n: (g["x_hat"] * c["xc"]).sum(axis=1), "summed over the features"),
    ("std", lambda g, c, d, n: g["inv"] / c["std"] ** 2, "wrong sign"),
    ("std", lambda g, c, d, n: -g["inv"] / c["std"], "divides by std once"),
    ("std", lambda g, c, d, n: -g["inv"] * c["std"] ** 2, "multiplies by std"),
    ("std", lambda g, c, d, n: -g["inv"], "misses the local derivative"),
    ("var", lambda g, c, d, n: g["std"] * c["std"] / 2, "multiplies by the square root"),
    ("var", lambda g, c, d, n: g["std"] / c["std"], "factor 1/2"),
    ("var", lambda g, c, d, n: g["std"] / (2 * c["var"]), "divides by var"),
    ("var", lambda g, c, d, n: -g["std"] / (2 * c["std"]), "wrong sign"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"], "path through the variance node is missing"),
    ("xc", lambda g, c, d, n: g["var"] * 2 * c["xc"] / n, "only the path through var"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * 2 * c["xc"] / (n - 1), "N - 1"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * 2 / n, "factor xc = x - mu"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * c["xc"] / n, "factor 2"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * 2 * c["xc"], "1/N of the mean"),
    ("xc", lambda g, c, d, n: g["x_hat"] * c["inv"] + g["var"] * 2 * c["x"] / n, "uses x in the path"),
    ("mu", lambda g, c, d, n: g["xc"].sum(axis=0), "wrong sign"),
    ("mu", lambda g, c, d, n: -g["xc"].mean(axis=0), "averaged over the batch"),
    ("mu", lambda g, c, d, n: -g["xc"], "one row per example"),
    ("mu", lambda g, c, d, n: -g["xc"].sum(axis=1, keepdims=True), "summed over the features"),
    ("x", lambda g, c, d, n: g["xc"], "forgets the gradient through mu"),
    ("x", lambda g, c, d, n: g["xc"] + g["mu"], "all of grads\\['mu'\\]"),
    ("x", lambda g, c, d, n: g["xc"] - g["mu"] / n, "subtracts the path through mu"),
    ("x", lambda g, c, d, n: g["xc"] + g["mu"] / (n - 1), "N - 1"),
    ("x", lambda g, c, d, n: (g["xc"] + g["mu"] / n).mean(axis=0), "no sum over the batch belongs here"),
    ("x", lambda g, c, d, n: 0.37 * d, "not the gradient of the loss with respect to x"),
    ("var", lambda g, c, d, n: g["std"] * 0.3, "not the gradient of the loss with respect to var"),
]
STAGED_CASES = [(staged_variant(node, wrong), f"grads\\['{node}'\\].*{match}") for node, wrong, match in STAGED_MISTAKES]
STAGED_CASES += [
    (lambda dout, cache: tuple(staged_variant()(dout, cache).values()), "should return a dict"),
    (lambda dout, cache: {k: v for k, v in staged_variant()(dout, cache).items() if k != "mu"},
     "no entry for 'mu'"),
]


@pytest.mark.parametrize("wrong, match", STAGED_CASES)
def test_staged_backward_mistakes(wrong, match):
    message = hint(checks.check_batchnorm_backward_staged, wrong, match=match)
    assert_advice_form(message, "batchnorm_backward_staged")
    inp = bnc.staged_inputs()
    assert_hides(message, np.concatenate([np.ravel(v) for v in inp.grads.values()]))


def test_staged_backward_names_the_first_wrong_node_only():
    # a wrong xc makes mu and x wrong too; the hint is about xc
    wrong = staged_variant("xc", lambda g, c, d, n: g["x_hat"] * c["inv"])
    message = hint(checks.check_batchnorm_backward_staged, wrong, match="grads\\['xc'\\]")
    assert "grads['x']" not in message and "grads['mu'] " not in message


def test_staged_backward_catches_in_place_changes():
    def dout_in_place(dout, cache):
        g = staged_variant()(dout, cache)
        dout *= 2
        return g

    def cache_in_place(dout, cache):
        g = staged_variant()(dout, cache)
        cache["xc"] -= 1.0
        return g
    hint(checks.check_batchnorm_backward_staged, dout_in_place, match="changed dout in place")
    hint(checks.check_batchnorm_backward_staged, cache_in_place, match="changed cache\\['xc'\\] in place")


def test_staged_backward_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_batchnorm_backward_staged(raises_own_error)
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        checks.check_batchnorm_backward_staged(raises_own_error, seed=HIDDEN_SEEDS[0])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3))
def test_staged_backward_hidden_variants_pass_the_reference(capsys, seed):
    checks.check_batchnorm_backward_staged(staged_variant(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 1


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", STAGED_CASES)
def test_hidden_staged_backward_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_batchnorm_backward_staged, wrong, seed, match)
    assert_advice_form(message, "batchnorm_backward_staged")
    inp = bnc.staged_inputs(seed)
    assert_hides(message, np.concatenate([np.ravel(v) for v in inp.grads.values()]))


def test_staged_hidden_inputs_differ_and_keep_n_and_d_apart():
    public = bnc.staged_inputs()
    for seed in range(40):
        inp = bnc.staged_inputs(seed)
        n, d = inp.dout.shape
        assert n != d and n >= 4
        assert inp.dout.shape != public.dout.shape or not np.allclose(inp.dout, public.dout)


def test_a_hard_coded_staged_backward_fails_the_hidden_test():
    answer = bnc.staged_inputs().grads
    checks.check_batchnorm_backward_staged(lambda dout, cache: dict(answer))   # fools the public check
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_batchnorm_backward_staged(lambda dout, cache: dict(answer), seed=seed)


def test_the_staged_reference_equals_a_numerical_gradient():
    # the check's own reference is right: dx against centred differences of the forward pass
    from course_lib.gradcheck import numerical_gradient, rel_error
    for seed in (None, 11, 2024):
        inp = bnc.staged_inputs(seed)
        x, gamma, beta = inp.cache["x"].copy(), inp.cache["gamma"], inp.cache["beta"]

        def f():
            return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5) + beta
        assert rel_error(inp.grads["x"], numerical_gradient(f, x, inp.dout)) < 1e-6


def test_the_staged_check_has_hidden_tests():
    assert checks.check_batchnorm_backward_staged.hidden is True


def test_the_notebook_solutions_pass_the_public_and_hidden_tests(capsys):
    from _notebook_solutions import solution_namespace
    ns = solution_namespace("04_batch_normalization", ["batchnorm_forward", "batchnorm_backward",
                                                       "batchnorm_backward_staged", "bn_identity"])
    seeds = [None] + list(HIDDEN_SEEDS) + list(range(20))
    for seed in seeds:
        checks.check_batchnorm_forward(ns["batchnorm_forward"], seed=seed)
        checks.check_batchnorm_backward(ns["batchnorm_backward"], seed=seed)
        checks.check_batchnorm_backward_staged(ns["batchnorm_backward_staged"], seed=seed)
        checks.check_bn_identity(ns["identity_params"], seed=seed)
    assert capsys.readouterr().out.count("✓") == 4 * len(seeds)
