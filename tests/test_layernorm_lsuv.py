"""LayerNorm, the orthogonal and PyTorch-default initializers, and LSUV.

The live PyTorch comparisons carry ``@pytest.mark.torch`` (skipped without torch).
"""
import math

import numpy as np
import pytest

import course_lib as cl

TOL = 1e-7


def affine_layernorm(d, r):
    ln = cl.LayerNorm(d)
    # gamma away from 1 and beta away from 0, so that no gradient is trivially simple
    ln.gamma.data[:] = r.uniform(0.5, 1.5, d) * r.choice([-1, 1], d)
    ln.beta.data[:] = r.standard_normal(d)
    return ln


# ---------------------------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1, 5), (4, 3), (7, 9)])
def test_layernorm_gradcheck(seed, shape):
    r = np.random.default_rng(seed)
    ln = affine_layernorm(shape[1], r)
    x = 3.0 * r.standard_normal(shape) + 2.0
    result = cl.gradcheck(ln, x, tol=TOL)
    assert result.ok, result
    assert set(result.errors) == {"input", "gamma", "beta"}


def test_layernorm_without_affine_gradcheck_and_no_parameters(rng):
    ln = cl.LayerNorm((6,), elementwise_affine=False)
    assert ln.parameters() == []
    result = cl.gradcheck(ln, rng.standard_normal((5, 6)), tol=TOL)
    assert result.ok and set(result.errors) == {"input"}, result


def test_layernorm_forward_formula(rng):
    ln = affine_layernorm(5, rng)
    x = rng.standard_normal((4, 5)) * 4 - 1
    out = ln.forward(x)
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)    # biased
    np.testing.assert_allclose(out, ln.gamma.data * (x - mu) / np.sqrt(var + 1e-5) + ln.beta.data,
                               rtol=1e-12, atol=1e-12)
    # without the affine part each row has mean 0 and (almost) variance 1
    plain = cl.LayerNorm(5, elementwise_affine=False).forward(x)
    np.testing.assert_allclose(plain.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(plain.var(axis=1), var[:, 0] / (var[:, 0] + 1e-5), rtol=1e-12)


def test_layernorm_same_in_train_and_eval_and_batch_independent(rng):
    ln = affine_layernorm(6, rng)
    x = rng.standard_normal((8, 6))
    dout = rng.standard_normal((8, 6))
    train_out = ln.train().forward(x)
    train_dx = ln.backward(dout)
    eval_out = ln.eval().forward(x)
    eval_dx = ln.backward(dout)
    np.testing.assert_array_equal(train_out, eval_out)
    np.testing.assert_array_equal(train_dx, eval_dx)
    # one example's output does not depend on the other examples (BatchNorm's does)
    alone = ln.forward(x[3:4])
    np.testing.assert_allclose(alone, train_out[3:4], rtol=1e-13, atol=1e-14)
    other = x.copy()
    other[[0, 1, 2, 4, 5, 6, 7]] *= 10.0
    np.testing.assert_allclose(ln.forward(other)[3], train_out[3], rtol=1e-13, atol=1e-14)


def test_layernorm_constant_row_is_finite():
    # a row with zero variance: eps keeps it finite (x_hat = 0)
    ln = cl.LayerNorm(4)
    out = ln.forward(np.full((2, 4), 3.0))
    np.testing.assert_array_equal(out, 0.0)
    assert np.all(np.isfinite(ln.backward(np.ones((2, 4)))))


@pytest.mark.parametrize("bad", [0, -3, (3, 4), (), 2.5, "a", None])
def test_layernorm_bad_normalized_shape(bad):
    with pytest.raises(ValueError, match=r"LayerNorm: normalized_shape must be the number of "
                                         r"features D"):
        cl.LayerNorm(bad)


def test_layernorm_bad_inputs(rng):
    ln = cl.LayerNorm(5)
    with pytest.raises(ValueError, match=r"LayerNorm\(5, eps=1e-05\) expects input of shape "
                                         r"\(N, 5\), got \(3, 4\)"):
        ln.forward(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match=r"x.reshape\(1, -1\)"):
        ln.forward(rng.standard_normal(5))
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        cl.LayerNorm(5).backward(np.ones((2, 5)))
    ln.forward(rng.standard_normal((3, 5)))
    with pytest.raises(ValueError, match=r"expects dout of shape \(3, 5\)"):
        ln.backward(np.ones((2, 5)))
    with pytest.raises(ValueError, match="eps must be > 0"):
        cl.LayerNorm(5, eps=0.0)


def test_layernorm_accumulates_and_trains_in_a_model(rng):
    ln = affine_layernorm(4, rng)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    ln.zero_grad()
    ln.forward(x)
    ln.backward(dout)
    once = ln.gamma.grad.copy()
    ln.forward(x)
    ln.backward(dout)
    np.testing.assert_allclose(ln.gamma.grad, 2 * once)
    model = cl.Sequential(cl.Linear(4, 8, rng=0), cl.LayerNorm(8), cl.ReLU(), cl.Linear(8, 3, rng=1))
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "1.gamma", "1.beta",
                                                       "3.W", "3.b"]
    assert cl.gradcheck(model, x, tol=TOL).ok
    assert "LayerNorm(8, eps=1e-05)" in repr(model)


@pytest.mark.torch
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape,eps", [((1, 5), 1e-5), ((6, 4), 1e-5), ((9, 7), 0.1)])
def test_layernorm_matches_torch(torch, shape, eps, affine):
    r = np.random.default_rng(3)
    x = 2.0 * r.standard_normal(shape) + 0.5
    dout = r.standard_normal(shape)
    ours = cl.LayerNorm(shape[1], eps=eps, elementwise_affine=affine)
    theirs = torch.nn.LayerNorm(shape[1], eps=eps, elementwise_affine=affine, dtype=torch.float64)
    if affine:
        gamma, beta = r.uniform(0.5, 1.5, shape[1]), r.standard_normal(shape[1])
        ours.gamma.data[:], ours.beta.data[:] = gamma, beta
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(gamma))   # torch's weight is our gamma,
            theirs.bias.copy_(torch.tensor(beta))      # its bias our beta
    xt = torch.tensor(x, requires_grad=True)
    out_t = theirs(xt)
    out_t.backward(torch.tensor(dout))
    ours.zero_grad()
    out = ours.forward(x)
    dx = ours.backward(dout)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    if affine:
        np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    # torch's LayerNorm is the same in eval mode too
    theirs.eval()
    ours.eval()
    np.testing.assert_allclose(ours.forward(x), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fan_in,fan_out", [(1, 1), (5, 3), (3, 5), (64, 64), (100, 10)])
def test_orthogonal_is_orthonormal(fan_in, fan_out):
    W = cl.init.orthogonal(fan_in, fan_out, rng=0, gain=1.0)
    assert W.shape == (fan_in, fan_out)
    if fan_in >= fan_out:
        np.testing.assert_allclose(W.T @ W, np.eye(fan_out), atol=1e-12)   # orthonormal columns
    else:
        np.testing.assert_allclose(W @ W.T, np.eye(fan_in), atol=1e-12)    # orthonormal rows
    G = cl.init.orthogonal(fan_in, fan_out, rng=0, gain=1.7)
    np.testing.assert_allclose(G, 1.7 * W, rtol=1e-14)


def test_orthogonal_keeps_lengths_and_is_seeded(rng):
    W = cl.init.orthogonal(20, 30, rng=5)
    x = rng.standard_normal((4, 20))
    np.testing.assert_allclose(np.linalg.norm(x @ W, axis=1), np.linalg.norm(x, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(W, cl.init.orthogonal(20, 30, rng=5))
    assert not np.allclose(W, cl.init.orthogonal(20, 30, rng=6))
    lin = cl.Linear(20, 30, init="orthogonal", rng=5)
    np.testing.assert_array_equal(lin.W.data, W)
    np.testing.assert_array_equal(lin.b.data, 0.0)


def test_orthogonal_sign_correction_makes_it_haar():
    # without the sign correction, LAPACK's QR gives R a negative diagonal in most draws,
    # so the first entry of Q's column has a biased sign; with it the law is rotation-invariant:
    # the entries of W are symmetric around 0 (check the diagonal, where the bias would show)
    diag = np.array([cl.init.orthogonal(3, 3, rng=s)[0, 0] for s in range(2000)])
    # sd of the mean of 2000 values of variance 1/3 is 0.013: a bias of 0.1 would be 8 sd
    assert abs(diag.mean()) < 0.05


@pytest.mark.torch
@pytest.mark.parametrize("rows,cols", [(3, 5), (5, 3), (4, 4), (1, 6)])
def test_orthogonal_matches_torch_semantics(torch, rows, cols):
    # torch draws a (rows, cols) normal matrix and orthonormalizes it; reseeding replays the draw,
    # so the two can be compared on the SAME normal matrix (torch layout: weight is (out, in))
    torch.manual_seed(11)
    A = torch.empty(rows, cols, dtype=torch.float64).normal_(0, 1)
    torch.manual_seed(11)
    weight = torch.nn.init.orthogonal_(torch.empty(rows, cols, dtype=torch.float64), gain=1.5)
    ours = 1.5 * cl.init._orthonormalize(A.numpy())
    np.testing.assert_allclose(ours, weight.numpy(), rtol=1e-10, atol=1e-12)
    # and orthogonal(fan_in, fan_out) draws in torch's (out, in) layout and returns weight.T
    draw = np.random.default_rng(2).standard_normal((rows, cols))
    np.testing.assert_allclose(cl.init.orthogonal(cols, rows, rng=2),
                               cl.init._orthonormalize(draw).T, rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# torch_default (PyTorch's nn.Linear default)
# ---------------------------------------------------------------------------------------------

def test_torch_default_bounds_and_bias():
    fan_in, fan_out = 50, 400
    layer = cl.Linear(fan_in, fan_out, init="torch_default", rng=0)
    bound = 1.0 / math.sqrt(fan_in)
    W, b = layer.W.data, layer.b.data
    assert np.abs(W).max() <= bound and np.abs(b).max() <= bound
    # the draws fill the interval: with 20,000 uniforms the extremes are within 1e-3 of it
    assert W.max() > 0.999 * bound and W.min() < -0.999 * bound
    # std 1/sqrt(3 fan_in) = bound/sqrt(3); se of a sample std of uniforms is ~ 0.45 std/sqrt(n)
    assert abs(W.std() / (bound / math.sqrt(3)) - 1) < 0.02
    assert abs(W.mean()) < 5 * bound / math.sqrt(3) / math.sqrt(W.size)
    # the bias is drawn too (the one initializer that does), from its own part of the stream
    assert np.all(b != 0) and abs(b.std() / (bound / math.sqrt(3)) - 1) < 0.15
    assert not np.allclose(b, W[0, :fan_out])


def test_only_torch_default_draws_the_bias():
    for name in cl.init.INITIALIZERS:
        layer = cl.Linear(6, 4, init=name, rng=0)
        if name == "torch_default":
            assert np.all(layer.b.data != 0)
        else:
            np.testing.assert_array_equal(layer.b.data, 0.0)
    assert cl.Linear(6, 4, init="torch_default", bias=False, rng=0).b is None


def test_torch_default_is_seeded_and_int_seed_gives_w_and_b_separate_streams():
    a = cl.Linear(8, 8, init="torch_default", rng=3)
    b = cl.Linear(8, 8, init="torch_default", rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.W.data, b.W.data)
    np.testing.assert_array_equal(a.b.data, b.b.data)
    # the bias continues the weight's stream instead of restarting it
    fresh = np.random.default_rng(3).uniform(-1 / math.sqrt(8), 1 / math.sqrt(8), 8)
    assert not np.allclose(a.b.data, fresh)
    # a user initializer may declare a bias rule the same way
    def init(fan_in, fan_out, rng):
        return np.ones((fan_in, fan_out))
    init.bias = lambda fan_in, fan_out, rng: np.full(fan_out, 0.5)
    layer = cl.Linear(3, 2, init=init)
    np.testing.assert_array_equal(layer.b.data, 0.5)
    init.bias = lambda fan_in, fan_out, rng: np.zeros(fan_out + 1)
    with pytest.raises(ValueError, match=r"bias function returned shape \(3,\), expected \(2,\)"):
        cl.Linear(3, 2, init=init)


def test_torch_default_std_is_he_over_sqrt6():
    # the factor the notebooks quote: He std sqrt(2/fan_in) over 1/sqrt(3 fan_in) = sqrt(6)
    W_he = cl.init.he_normal(200, 2000, rng=0)
    W_pt = cl.init.torch_default(200, 2000, rng=0)
    assert abs(W_he.std() / W_pt.std() / math.sqrt(6) - 1) < 0.01


@pytest.mark.torch
@pytest.mark.parametrize("fan_in", [3, 64, 300])
def test_torch_default_matches_torch_linear_distribution(torch, fan_in):
    from scipy import stats
    fan_out = 60_000 // fan_in + 1
    torch.manual_seed(0)
    theirs = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    tw, tb = theirs.weight.detach().numpy().ravel(), theirs.bias.detach().numpy()
    ours = cl.Linear(fan_in, fan_out, init="torch_default", rng=0)
    ow, ob = ours.W.data.ravel(), ours.b.data
    bound = 1 / math.sqrt(fan_in)
    # the same support: both bounded by 1/sqrt(fan_in) and filling it
    for w in (ow, tw):
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.998 * bound
    for b in (ob, tb):
        assert np.abs(b).max() <= bound
    # the same moments (60,000 draws: se of the std ~0.3%) and the same shape of distribution:
    # two-sample KS distance; both samples are seeded, so these numbers never change
    assert abs(ow.std() / tw.std() - 1) < 0.015
    assert abs(ow.mean() - tw.mean()) < 5 * bound / math.sqrt(3) * math.sqrt(2 / ow.size)
    assert stats.ks_2samp(ow, tw).statistic < 0.015
    # the biases are few (fan_out of them): compare with a looser KS bound
    assert stats.ks_2samp(ob, tb).statistic < 2.0 * math.sqrt(2 / fan_out) + 0.01


# ---------------------------------------------------------------------------------------------
# LSUV
# ---------------------------------------------------------------------------------------------

def deep_net(act, depth=8, width=40, r=0, init="he_normal"):
    r = np.random.default_rng(r)
    layers = [cl.Linear(64, width, init=init, rng=r)]
    for _ in range(depth - 1):
        layers += [act(), cl.Linear(width, width, init=init, rng=r)]
    layers += [act(), cl.Linear(width, 10, init=init, rng=r)]
    return cl.Sequential(*layers)


@pytest.fixture(scope="module")
def batch():
    return cl.data.load_digits().X_train[:200]


def linear_outputs(model, X):
    outputs, _ = cl.diagnostics.trace(model, X)
    return {i: out for i, (layer, out) in enumerate(zip(model.layers, outputs))
            if isinstance(layer, cl.Linear)}


@pytest.mark.parametrize("act", [cl.ReLU, cl.Tanh, cl.ELU])
@pytest.mark.parametrize("tol", [0.1, 0.01])
def test_lsuv_gives_unit_variance_at_every_linear_output(batch, act, tol):
    model = deep_net(act, init="normal")       # std 1: far too large, activations explode
    before = linear_outputs(model, batch)
    assert max(v.var() for v in before.values()) > 30      # the planted bad start
    result = cl.init.lsuv(model, batch, tol=tol, rng=0)
    after = linear_outputs(model, batch)
    assert set(result.scales) == set(after) == set(range(0, len(model.layers), 2))
    for i, out in after.items():
        assert abs(out.var() - 1.0) < tol, (i, out.var())
        assert result.converged[i] and result.iterations[i] >= 1
        assert result.variances[i] == pytest.approx(out.var(), rel=1e-12)
        np.testing.assert_array_equal(model[i].b.data, 0.0)
    assert "LSUV (tol" in repr(result)


def test_lsuv_starts_orthonormal_and_scales_are_what_it_multiplied(batch):
    model = deep_net(cl.ReLU)
    result = cl.init.lsuv(model, batch, rng=4)
    for i, s in result.scales.items():
        W = model[i].W.data / s            # undo the rescaling: an orthonormal matrix
        k = min(W.shape)
        gram = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T
        np.testing.assert_allclose(gram, np.eye(k), atol=1e-10)
    # and without the orthonormal start the existing weights are only rescaled
    model = deep_net(cl.ReLU)
    W0 = model[2].W.data.copy()
    result = cl.init.lsuv(model, batch, orthogonal_start=False)
    np.testing.assert_allclose(model[2].W.data, result.scales[2] * W0, rtol=1e-12)


def test_lsuv_is_deterministic_and_depends_on_rng(batch):
    a, b, c = deep_net(cl.Tanh, r=1), deep_net(cl.Tanh, r=2), deep_net(cl.Tanh, r=1)
    ra = cl.init.lsuv(a, batch, rng=7)
    rb = cl.init.lsuv(b, batch, rng=7)       # different starting weights, same rng
    rc = cl.init.lsuv(c, batch, rng=8)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert ra.scales == rb.scales
    assert not np.allclose(a[0].W.data, c[0].W.data)
    assert ra.scales != rc.scales


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_lsuv_keeps_the_mode_and_does_not_touch_batchnorm_statistics(batch, mode):
    model = cl.Sequential(cl.Linear(64, 30, rng=0), cl.BatchNorm1d(30), cl.ReLU(),
                          cl.Dropout(0.5, rng=0), cl.Linear(30, 10, rng=0))
    getattr(model, mode)()
    cl.init.lsuv(model, batch, rng=0)
    assert all(m.training == (mode == "train") for m in model.modules())
    assert model[1].num_batches_tracked == 0
    np.testing.assert_array_equal(model[1].running_mean, 0.0)


def test_lsuv_measure_activation(batch):
    # after ReLU: the activation outputs get variance 1 instead of the Linear outputs
    model = deep_net(cl.ReLU)
    result = cl.init.lsuv(model, batch, tol=0.02, measure="activation", rng=0)
    outputs, _ = cl.diagnostics.trace(model, batch)
    for i in result.scales:
        measured = outputs[i + 1] if i + 1 < len(model.layers) else outputs[i]
        assert abs(measured.var() - 1) < 0.02 and result.converged[i]
    # a tanh output cannot reach variance 1: the loop stops at max_iter and says so
    model = deep_net(cl.Tanh)
    result = cl.init.lsuv(model, batch, tol=0.01, max_iter=5, measure="activation", rng=0)
    hidden = [i for i in result.scales if i + 1 < len(model.layers)]
    assert all(not result.converged[i] and result.iterations[i] == 5 for i in hidden)
    assert "not converged" in repr(result)


def test_lsuv_bad_arguments(batch):
    model = deep_net(cl.ReLU)
    with pytest.raises(TypeError, match="lsuv expects a Sequential"):
        cl.init.lsuv(model[0], batch)
    with pytest.raises(ValueError, match="no Linear layer"):
        cl.init.lsuv(cl.Sequential(cl.ReLU()), batch)
    with pytest.raises(ValueError, match="measure must be"):
        cl.init.lsuv(model, batch, measure="post")
    with pytest.raises(ValueError, match="tol must be > 0"):
        cl.init.lsuv(model, batch, tol=0)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        cl.init.lsuv(model, batch, max_iter=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 64\)"):
        cl.init.lsuv(model, batch[:, :10])
    # constant inputs: nothing to rescale
    with pytest.raises(ValueError, match="has variance 0.0 on the batch"):
        cl.init.lsuv(model, np.zeros((20, 64)))


# ---------------------------------------------------------------------------------------------
# the committed torch references (tests/references/torch_<X.Y>.npz): no torch needed
# ---------------------------------------------------------------------------------------------

def _reference_cases(family):
    import _torch_counterparts as tc
    files = sorted(tc.refs.REFERENCE_DIR.glob("torch_*.npz"))
    assert files, "no tests/references/torch_<X.Y>.npz: run scripts/make_torch_references.py"
    meta, cases = tc.refs.load(files[-1])
    return tc, meta, [case for case in cases.values() if case.family == family]


@pytest.mark.parametrize("family,count", [("layernorm", 6), ("linear_default", 2)])
def test_matches_the_committed_torch_reference(family, count):
    tc, meta, cases = _reference_cases(family)
    assert len(cases) == count, f"{family}: {len(cases)} cases in the reference file, expected {count}"
    for case in cases:
        tc.compare(case, tc.run(case), tc.reference_label(meta))


def test_reference_check_catches_he_init_posing_as_torch_default():
    # the linear_default comparison must be able to fail: He's weights are sqrt(6) too wide
    tc, meta, cases = _reference_cases("linear_default")
    case = cases[0]
    c = case.config
    he = cl.Linear(c["fan_in"], c["fan_out"], rng=c["seed"]).W.data
    ours = tc.run(case) | {"W_std": he.std()}
    with pytest.raises(AssertionError, match="W_std"):
        tc.compare(case, ours, "torch reference")


@pytest.mark.torch
def test_layernorm_live_on_random_shapes_through_the_reference_code(torch):
    # the reference script's torch code and the counterpart, on shapes the file does not hold
    import json

    import _torch_counterparts as tc
    r = np.random.default_rng(99)
    for _ in range(20):
        n, d = int(r.integers(1, 30)), int(r.integers(1, 30))
        affine = bool(r.integers(0, 2))
        config = {"eps": float(10.0 ** r.uniform(-6, -1)), "elementwise_affine": affine}
        inputs = {"x": 5.0 * r.standard_normal((n, d)) - 2.0, "dout": r.standard_normal((n, d))}
        if affine:
            inputs |= {"gamma": r.uniform(-2, 2, d), "beta": r.standard_normal(d)}
        case = tc.refs.Case(f"layernorm/{n}x{d}", json.loads(json.dumps(config)), inputs)
        tc.refs.run_torch(torch, tc.refs.FAMILY["layernorm"], case)
        tc.compare(case, tc.run(case), f"torch {torch.__version__} (live)")
