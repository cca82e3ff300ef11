"""course_lib against PyTorch (float64, torch autograd as the reference).

Every layer, loss, initializer statistic, optimizer, clipping function and schedule with a
PyTorch namesake must give the same numbers. Skipped, with an install hint, when torch is
missing. Remember the one deliberate difference: our ``W`` is torch's ``weight.T``.
"""
import math

import numpy as np
import pytest

import course_lib as cl

pytestmark = pytest.mark.torch

SHAPES = [(1, 1), (4, 3), (17, 9)]


def as_numpy(value):
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def assert_matches(ours, theirs, what, rtol=1e-10, atol=1e-12):
    """Fail with 'ours vs torch' and the largest absolute difference."""
    ours, theirs = np.asarray(ours, dtype=np.float64), as_numpy(theirs).astype(np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape ours {ours.shape} vs torch {theirs.shape}"
    diff = float(np.max(np.abs(ours - theirs), initial=0.0))
    assert np.allclose(ours, theirs, rtol=rtol, atol=atol), (
        f"{what}: ours vs torch differ, max abs difference {diff:.3e}")


def data_for(shape, seed, zeros=True):
    r = np.random.default_rng(seed)
    x = 2.0 * r.standard_normal(shape)
    if zeros and x.size > 2:
        x.flat[::5] = 0.0    # exact zeros pin down the convention at the kink
    return x, r.standard_normal(shape)


def torch_forward_backward(torch, module, x, dout):
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    out.backward(torch.tensor(dout))
    return out, xt.grad


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "ReLU": (lambda: cl.ReLU(), lambda nn: nn.ReLU()),
    "LeakyReLU(0.01)": (lambda: cl.LeakyReLU(), lambda nn: nn.LeakyReLU()),
    "LeakyReLU(0.2)": (lambda: cl.LeakyReLU(0.2), lambda nn: nn.LeakyReLU(negative_slope=0.2)),
    "ELU(1.0)": (lambda: cl.ELU(), lambda nn: nn.ELU()),
    "ELU(0.3)": (lambda: cl.ELU(0.3), lambda nn: nn.ELU(alpha=0.3)),
    "Sigmoid": (lambda: cl.Sigmoid(), lambda nn: nn.Sigmoid()),
    "Tanh": (lambda: cl.Tanh(), lambda nn: nn.Tanh()),
    "GELU": (lambda: cl.GELU(), lambda nn: nn.GELU(approximate="tanh")),
    "SiLU": (lambda: cl.SiLU(), lambda nn: nn.SiLU()),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation(torch, name, shape):
    ours_factory, torch_factory = ACTIVATIONS[name]
    x, dout = data_for(shape, seed=sum(shape))
    ours = ours_factory()
    out = ours.forward(x)
    dx = ours.backward(dout)
    out_t, dx_t = torch_forward_backward(torch, torch_factory(torch.nn), x, dout)
    assert_matches(out, out_t, f"{name} forward")
    assert_matches(dx, dx_t, f"{name} backward")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("per_feature", [False, True])
def test_prelu(torch, shape, per_feature):
    x, dout = data_for(shape, seed=3)
    n_alpha = shape[1] if per_feature else 1
    alpha = np.random.default_rng(4).uniform(0.0, 0.5, n_alpha)
    ours = cl.PReLU(n_alpha)
    ours.alpha.data[:] = alpha
    theirs = torch.nn.PReLU(num_parameters=n_alpha, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(alpha))
    out, dx = ours.forward(x), ours.backward(dout)
    out_t, dx_t = torch_forward_backward(torch, theirs, x, dout)
    assert_matches(out, out_t, "PReLU forward")
    assert_matches(dx, dx_t, "PReLU backward (input)")
    assert_matches(ours.alpha.grad, theirs.weight.grad, "PReLU backward (alpha)")


def test_prelu_default_init_matches(torch):
    assert_matches(cl.PReLU(3).alpha.data, torch.nn.PReLU(3, dtype=torch.float64).weight,
                   "PReLU initial slopes")


@pytest.mark.parametrize("n, d_in, d_out", [(1, 1, 1), (5, 3, 4), (32, 20, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(torch, n, d_in, d_out, bias):
    r = np.random.default_rng(n + d_in + d_out)
    ours = cl.Linear(d_in, d_out, bias=bias, rng=r)
    theirs = torch.nn.Linear(d_in, d_out, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.W.data.T))      # our W is torch's weight.T
        if bias:
            ours.b.data[:] = r.standard_normal(d_out)
            theirs.bias.copy_(torch.tensor(ours.b.data))
    x, dout = r.standard_normal((n, d_in)), r.standard_normal((n, d_out))
    out, dx = ours.forward(x), ours.backward(dout)
    out_t, dx_t = torch_forward_backward(torch, theirs, x, dout)
    assert_matches(out, out_t, "Linear forward")
    assert_matches(dx, dx_t, "Linear backward (input)")
    assert_matches(ours.W.grad, theirs.weight.grad.T, "Linear backward (W = weight.T)")
    if bias:
        assert_matches(ours.b.grad, theirs.bias.grad, "Linear backward (b)")


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("d", [1, 6])
def test_batchnorm(torch, momentum, d):
    r = np.random.default_rng(11)
    ours = cl.BatchNorm1d(d, eps=1e-5, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(d, eps=1e-5, momentum=momentum, dtype=torch.float64)
    gamma, beta = r.uniform(0.5, 2.0, d), r.standard_normal(d)
    ours.gamma.data[:], ours.beta.data[:] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    # several training steps with batches of different sizes and statistics; gradients
    # accumulate on both sides, so the parameter gradients are compared as running sums
    for step, n in enumerate([8, 2, 13, 5]):
        x = 3.0 + (1.0 + step) * r.standard_normal((n, d))
        dout = r.standard_normal((n, d))
        out, dx = ours.forward(x), ours.backward(dout)
        out_t, dx_t = torch_forward_backward(torch, theirs, x, dout)
        assert_matches(out, out_t, f"BatchNorm1d train forward, step {step}")
        assert_matches(dx, dx_t, f"BatchNorm1d train backward (input), step {step}", atol=1e-11)
        assert_matches(ours.gamma.grad, theirs.weight.grad, f"BatchNorm1d dgamma, step {step}")
        assert_matches(ours.beta.grad, theirs.bias.grad, f"BatchNorm1d dbeta, step {step}")
        assert_matches(ours.running_mean, theirs.running_mean, f"running_mean after step {step}")
        assert_matches(ours.running_var, theirs.running_var, f"running_var after step {step}")
        assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == step + 1

    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    x, dout = 3.0 + r.standard_normal((7, d)), r.standard_normal((7, d))
    out, dx = ours.forward(x), ours.backward(dout)
    out_t, dx_t = torch_forward_backward(torch, theirs, x, dout)
    assert_matches(out, out_t, "BatchNorm1d eval forward")
    assert_matches(dx, dx_t, "BatchNorm1d eval backward (input)")
    assert_matches(ours.gamma.grad, theirs.weight.grad, "BatchNorm1d eval dgamma")
    assert_matches(ours.beta.grad, theirs.bias.grad, "BatchNorm1d eval dbeta")
    # eval mode must not touch the running statistics
    assert_matches(ours.running_mean, theirs.running_mean, "running_mean after eval")
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == 4


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_semantics(torch, p):
    x = np.random.default_rng(5).uniform(1.0, 2.0, (300, 200))
    ours = cl.Dropout(p, rng=0)
    out = ours.forward(x)
    out_t = torch.nn.Dropout(p)(torch.tensor(x)).numpy()
    for label, o in (("ours", out), ("torch", out_t)):
        kept = o != 0
        # survivors are scaled by 1 / (1 - p): inverted dropout, p is the DROP probability
        np.testing.assert_allclose(o[kept], x[kept] / (1.0 - p), rtol=1e-12,
                                   err_msg=f"{label}: survivors not scaled by 1/(1 - p)")
        assert abs((~kept).mean() - p) < 0.01, f"{label}: dropped fraction {(~kept).mean():.3f} vs p={p}"
    assert abs((out == 0).mean() - (out_t == 0).mean()) < 0.015, "ours vs torch drop fraction"
    assert abs(out.mean() / x.mean() - 1.0) < 0.02
    # evaluation: both are the identity
    np.testing.assert_array_equal(ours.eval().forward(x), x)
    np.testing.assert_array_equal(torch.nn.Dropout(p).eval()(torch.tensor(x)).numpy(), x)


def test_mlp_forward_and_backward(torch):
    """A whole model: Sequential + loss against the same network in torch, all gradients."""
    r = np.random.default_rng(21)
    ours = cl.Sequential(cl.Linear(5, 8, rng=r), cl.BatchNorm1d(8), cl.GELU(),
                         cl.Linear(8, 6, rng=r), cl.PReLU(6), cl.Linear(6, 3, rng=r))
    nn = torch.nn
    theirs = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(approximate="tanh"),
                           nn.Linear(8, 6), nn.PReLU(6), nn.Linear(6, 3)).double()
    with torch.no_grad():
        for i in (0, 3, 5):
            theirs[i].weight.copy_(torch.tensor(ours[i].W.data.T))
            theirs[i].bias.copy_(torch.tensor(ours[i].b.data))
        theirs[4].weight.copy_(torch.tensor(ours[4].alpha.data))
    x, y = r.standard_normal((10, 5)), r.integers(0, 3, 10)
    loss = cl.SoftmaxCrossEntropy(label_smoothing=0.05)
    value = loss.forward(ours.forward(x), y)
    ours.backward(loss.backward())
    value_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y),
                                                label_smoothing=0.05)
    value_t.backward()
    assert_matches(value, value_t, "MLP loss")
    for i in (0, 3, 5):
        assert_matches(ours[i].W.grad, theirs[i].weight.grad.T, f"MLP layer {i} dW", atol=1e-11)
        assert_matches(ours[i].b.grad, theirs[i].bias.grad, f"MLP layer {i} db", atol=1e-11)
    assert_matches(ours[1].gamma.grad, theirs[1].weight.grad, "MLP dgamma", atol=1e-11)
    assert_matches(ours[4].alpha.grad, theirs[4].weight.grad, "MLP dalpha", atol=1e-11)


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def torch_loss_and_grad(torch, fn, z, target, **kwargs):
    zt = torch.tensor(z, requires_grad=True)
    value = fn(zt, torch.tensor(target), **kwargs)
    value.backward()
    return value, zt.grad


@pytest.mark.parametrize("n, k", [(1, 2), (6, 4), (33, 10)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.35])
@pytest.mark.parametrize("targets", ["labels", "probabilities"])
def test_cross_entropy(torch, n, k, label_smoothing, targets):
    r = np.random.default_rng(n * k)
    z = 3.0 * r.standard_normal((n, k))
    y = r.integers(0, k, n) if targets == "labels" else r.dirichlet(np.ones(k), size=n)
    loss = cl.SoftmaxCrossEntropy(label_smoothing=label_smoothing)
    value = loss.forward(z, y)
    value_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.cross_entropy, z, y,
                                          label_smoothing=label_smoothing)
    assert_matches(value, value_t, "cross_entropy value")
    assert_matches(loss.backward(), grad_t, "cross_entropy gradient")


@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (9, 4)])
def test_mse(torch, shape):
    r = np.random.default_rng(shape[0])
    pred, y = r.standard_normal(shape), r.standard_normal(shape)
    loss = cl.MSELoss()
    value = loss.forward(pred, y)
    value_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.mse_loss, pred, y)
    assert_matches(value, value_t, "mse_loss value")
    assert_matches(loss.backward(), grad_t, "mse_loss gradient")


@pytest.mark.parametrize("shape", [(1, 1), (8, 1), (9, 4)])
@pytest.mark.parametrize("soft", [False, True])
def test_bce_with_logits(torch, shape, soft):
    r = np.random.default_rng(shape[0] + soft)
    z = 4.0 * r.standard_normal(shape)
    y = r.uniform(0, 1, shape) if soft else r.integers(0, 2, shape).astype(np.float64)
    loss = cl.BCEWithLogits()
    value = loss.forward(z, y)
    value_t, grad_t = torch_loss_and_grad(
        torch, torch.nn.functional.binary_cross_entropy_with_logits, z, y)
    assert_matches(value, value_t, "binary_cross_entropy_with_logits value")
    assert_matches(loss.backward(), grad_t, "binary_cross_entropy_with_logits gradient")


def test_losses_at_extreme_logits(torch):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    y = np.array([1, 2])
    loss = cl.SoftmaxCrossEntropy(label_smoothing=0.1)
    value_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.cross_entropy, z, y,
                                          label_smoothing=0.1)
    assert_matches(loss.forward(z, y), value_t, "cross_entropy at +-1000")
    assert_matches(loss.backward(), grad_t, "cross_entropy gradient at +-1000")
    zb = z.reshape(-1, 1)
    yb = np.array([[1.0], [0.0], [0.5], [1.0], [0.0], [1.0]])
    bce = cl.BCEWithLogits()
    value_t, grad_t = torch_loss_and_grad(
        torch, torch.nn.functional.binary_cross_entropy_with_logits, zb, yb)
    assert_matches(bce.forward(zb, yb), value_t, "bce_with_logits at +-1000")
    assert_matches(bce.backward(), grad_t, "bce_with_logits gradient at +-1000")


# ---------------------------------------------------------------------------------------------
# initializers
# ---------------------------------------------------------------------------------------------

FAN_IN, FAN_OUT = 600, 250          # non-square: a fan_in / fan_out mix-up changes the scale

INITS = {
    "normal(std=0.02)": (lambda r: cl.init.normal(FAN_IN, FAN_OUT, r, std=0.02),
                         lambda init, t, g: init.normal_(t, std=0.02, generator=g)),
    "uniform(a=0.3)": (lambda r: cl.init.uniform(FAN_IN, FAN_OUT, r, a=0.3),
                       lambda init, t, g: init.uniform_(t, -0.3, 0.3, generator=g)),
    "xavier_normal": (lambda r: cl.init.xavier_normal(FAN_IN, FAN_OUT, r),
                      lambda init, t, g: init.xavier_normal_(t, generator=g)),
    "xavier_normal(tanh)": (lambda r: cl.init.xavier_normal(FAN_IN, FAN_OUT, r, gain=cl.init.gain("tanh")),
                            lambda init, t, g: init.xavier_normal_(t, gain=init.calculate_gain("tanh"), generator=g)),
    "xavier_uniform": (lambda r: cl.init.xavier_uniform(FAN_IN, FAN_OUT, r),
                       lambda init, t, g: init.xavier_uniform_(t, generator=g)),
    "he_normal": (lambda r: cl.init.he_normal(FAN_IN, FAN_OUT, r),
                  lambda init, t, g: init.kaiming_normal_(t, nonlinearity="relu", generator=g)),
    "he_normal(fan_out)": (lambda r: cl.init.he_normal(FAN_IN, FAN_OUT, r, mode="fan_out"),
                           lambda init, t, g: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g)),
    "he_uniform": (lambda r: cl.init.he_uniform(FAN_IN, FAN_OUT, r),
                   lambda init, t, g: init.kaiming_uniform_(t, nonlinearity="relu", generator=g)),
    "he_uniform(leaky 0.2)": (lambda r: cl.init.he_uniform(FAN_IN, FAN_OUT, r, gain=cl.init.gain("leaky_relu", 0.2)),
                              lambda init, t, g: init.kaiming_uniform_(t, a=0.2, generator=g)),
    "lecun_normal": (lambda r: cl.init.lecun_normal(FAN_IN, FAN_OUT, r),
                     lambda init, t, g: init.kaiming_normal_(t, nonlinearity="linear", generator=g)),
}


@pytest.mark.parametrize("name", list(INITS))
def test_initializer_statistics(torch, name):
    ours_fn, torch_fn = INITS[name]
    ours = ours_fn(np.random.default_rng(0))
    assert ours.shape == (FAN_IN, FAN_OUT) and ours.dtype == np.float64
    t = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)   # torch stores (out, in)
    torch_fn(torch.nn.init, t, torch.Generator().manual_seed(0))
    theirs = t.numpy()
    n = ours.size
    # the sample std of n draws has relative spread <= 1/sqrt(2n); allow ~6 sigma
    tol = 6.0 / math.sqrt(n)
    s_ours, s_torch = ours.std(), theirs.std()
    assert abs(s_ours / s_torch - 1.0) < tol, (
        f"{name}: std ours {s_ours:.5f} vs torch {s_torch:.5f}, max abs difference "
        f"{abs(s_ours - s_torch):.2e} (allowed relative {tol:.3f})")
    assert abs(ours.mean()) < 6 * s_ours / math.sqrt(n)
    if "uniform" in name:
        # same support: the largest |w| of 150k uniform draws sits right at the bound
        assert abs(np.abs(ours).max() / np.abs(theirs).max() - 1.0) < 1e-3, (
            f"{name}: bound ours {np.abs(ours).max():.5f} vs torch {np.abs(theirs).max():.5f}")


def test_linear_default_init_is_kaiming_normal_for_relu(torch):
    W = cl.Linear(FAN_IN, FAN_OUT, rng=0).W.data
    t = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(t, nonlinearity="relu", generator=torch.Generator().manual_seed(0))
    assert abs(W.std() / t.numpy().std() - 1.0) < 6.0 / math.sqrt(W.size), (
        f"Linear init std ours {W.std():.5f} vs torch kaiming_normal_ {t.numpy().std():.5f}")


GAIN_NAMES = ["identity", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("name", GAIN_NAMES)
def test_gain(torch, name):
    # torch spells the identity "linear" (its calculate_gain rejects "identity")
    torch_name = "linear" if name == "identity" else name
    ours, theirs = cl.init.gain(name), torch.nn.init.calculate_gain(torch_name)
    assert ours == pytest.approx(theirs, rel=1e-15), f"gain({name!r}): ours {ours} vs torch {theirs}"


@pytest.mark.parametrize("slope", [None, 0.0, 0.01, 0.2, 1, 3.5])
def test_gain_leaky_relu_param(torch, slope):
    ours = cl.init.gain("leaky_relu", slope)
    theirs = torch.nn.init.calculate_gain("leaky_relu", slope)
    assert ours == pytest.approx(theirs, rel=1e-15), f"leaky_relu({slope}): ours {ours} vs torch {theirs}"


# ---------------------------------------------------------------------------------------------
# optimizers: whole trajectories
# ---------------------------------------------------------------------------------------------

PARAM_SHAPES = [(4, 3), (3,), (2, 3, 2)]
STEPS = 25


def _problem(seed):
    """Start points, a diagonal quadratic (curvature, centre) and noise for every step."""
    r = np.random.default_rng(seed)
    start = [r.standard_normal(s) for s in PARAM_SHAPES]
    curvature = [r.uniform(0.1, 3.0, s) for s in PARAM_SHAPES]
    centre = [r.standard_normal(s) for s in PARAM_SHAPES]
    noise = [[0.3 * r.standard_normal(s) for s in PARAM_SHAPES] for _ in range(STEPS)]
    return start, curvature, centre, noise


def _gradient(t, values, problem):
    _, curvature, centre, noise = problem
    return [c * (v - m) + e for v, c, m, e in zip(values, curvature, centre, noise[t])]


def _ours_trajectory(make, problem):
    params = [cl.Parameter(s.copy()) for s in problem[0]]
    opt = make(params)
    path = []
    for t in range(STEPS):
        if t == STEPS // 2:
            opt.lr *= 0.5        # as a schedule would: momentum must keep lr outside the buffer
        opt.zero_grad()
        for p, g in zip(params, _gradient(t, [p.data for p in params], problem)):
            p.grad += g
        opt.step()
        path.append([p.data.copy() for p in params])
    return path


def _torch_trajectory(torch, make, problem):
    params = [torch.tensor(s.copy(), requires_grad=True) for s in problem[0]]
    opt = make(params)
    path = []
    for t in range(STEPS):
        if t == STEPS // 2:
            for group in opt.param_groups:
                group["lr"] *= 0.5
        opt.zero_grad()
        for p, g in zip(params, _gradient(t, [p.detach().numpy() for p in params], problem)):
            p.grad = torch.tensor(g)
        opt.step()
        path.append([p.detach().numpy().copy() for p in params])
    return path


OPTIMIZERS = {
    "SGD": (lambda ps: cl.SGD(ps, lr=0.1), lambda o, ps: o.SGD(ps, lr=0.1)),
    "SGD momentum": (lambda ps: cl.SGD(ps, lr=0.05, momentum=0.9),
                     lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.9)),
    "SGD nesterov": (lambda ps: cl.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                     lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    "SGD weight_decay": (lambda ps: cl.SGD(ps, lr=0.1, weight_decay=0.05),
                         lambda o, ps: o.SGD(ps, lr=0.1, weight_decay=0.05)),
    "SGD momentum weight_decay": (lambda ps: cl.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.1),
                                  lambda o, ps: o.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.1)),
    "AdaGrad defaults": (lambda ps: cl.AdaGrad(ps), lambda o, ps: o.Adagrad(ps)),
    "AdaGrad": (lambda ps: cl.AdaGrad(ps, lr=0.3, weight_decay=0.05),
                lambda o, ps: o.Adagrad(ps, lr=0.3, weight_decay=0.05)),
    "RMSProp defaults": (lambda ps: cl.RMSProp(ps), lambda o, ps: o.RMSprop(ps)),
    "RMSProp alpha": (lambda ps: cl.RMSProp(ps, lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.01),
                      lambda o, ps: o.RMSprop(ps, lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.01)),
    "RMSProp momentum": (lambda ps: cl.RMSProp(ps, lr=0.01, momentum=0.9),
                         lambda o, ps: o.RMSprop(ps, lr=0.01, momentum=0.9)),
    "Adam defaults": (lambda ps: cl.Adam(ps), lambda o, ps: o.Adam(ps)),
    "Adam": (lambda ps: cl.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
             lambda o, ps: o.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    "Adam weight_decay": (lambda ps: cl.Adam(ps, lr=0.05, weight_decay=0.1),
                          lambda o, ps: o.Adam(ps, lr=0.05, weight_decay=0.1)),
    "AdamW defaults": (lambda ps: cl.AdamW(ps), lambda o, ps: o.AdamW(ps)),
    "AdamW": (lambda ps: cl.AdamW(ps, lr=0.05, weight_decay=0.1),
              lambda o, ps: o.AdamW(ps, lr=0.05, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_trajectory(torch, name):
    make_ours, make_torch = OPTIMIZERS[name]
    problem = _problem(seed=len(name))
    ours = _ours_trajectory(make_ours, problem)
    theirs = _torch_trajectory(torch, lambda ps: make_torch(torch.optim, ps), problem)
    moved = max(np.abs(ours[-1][i] - problem[0][i]).max() for i in range(len(PARAM_SHAPES)))
    assert moved > 1e-3, f"{name}: the parameters barely moved, the comparison would be empty"
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for i, (pa, pb) in enumerate(zip(a, b)):
            assert_matches(pa, pb, f"{name}: parameter {i} after step {t + 1}", rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# clipping and max-norm
# ---------------------------------------------------------------------------------------------

def _params_with_grads(seed, scale=1.0):
    r = np.random.default_rng(seed)
    params = [cl.Parameter(r.standard_normal(s)) for s in [(5, 4), (4,), (3, 2, 2)]]
    for p in params:
        p.grad[...] = scale * r.standard_normal(p.shape)
    return params


@pytest.mark.parametrize("max_norm", [0.5, 2.0, 1e3])
def test_clip_grad_norm(torch, max_norm):
    ours = _params_with_grads(0)
    theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
    for p, q in zip(ours, theirs):
        q.grad = torch.tensor(p.grad)
    total = cl.clip_grad_norm(ours, max_norm)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert_matches(total, total_t, "clip_grad_norm returned norm")
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert_matches(p.grad, q.grad, f"clip_grad_norm gradient {i}")
    after = math.sqrt(sum(float((p.grad ** 2).sum()) for p in ours))
    assert after <= max_norm * (1 + 1e-12) and (total > max_norm) == (after < total)


@pytest.mark.parametrize("clip_value", [0.1, 0.7, 10.0])
def test_clip_grad_value(torch, clip_value):
    ours = _params_with_grads(1)
    theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
    for p, q in zip(ours, theirs):
        q.grad = torch.tensor(p.grad)
    cl.clip_grad_value(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert_matches(p.grad, q.grad, f"clip_grad_value gradient {i}", rtol=0, atol=0)


@pytest.mark.parametrize("c", [0.5, 1.5, 100.0])
def test_max_norm_matches_renorm(torch, c):
    r = np.random.default_rng(2)
    W = r.standard_normal((6, 9))
    expected = torch.renorm(torch.tensor(W), p=2, dim=1, maxnorm=c).numpy()   # per column
    n_over = int((np.linalg.norm(W, axis=0) > c).sum())
    assert cl.max_norm(W, c) == n_over
    assert_matches(W, expected, f"max_norm(c={c}) vs torch.renorm")

    # a Module: each weight matrix projected by column, biases untouched; Maxout per piece
    model = cl.Sequential(cl.Linear(6, 5, rng=0), cl.ReLU(), cl.Maxout(5, 3, pieces=2, rng=1))
    model[0].W.data *= 5.0
    model[0].b.data[:] = 10.0
    weights = [model[0].W.data.copy(), model[2].W.data.reshape(5, -1).copy()]
    cl.max_norm(model, c)
    assert_matches(model[0].W.data, torch.renorm(torch.tensor(weights[0]), 2, 1, c), "max_norm Linear.W")
    assert_matches(model[2].W.data.reshape(5, -1), torch.renorm(torch.tensor(weights[1]), 2, 1, c),
                   "max_norm Maxout.W")
    np.testing.assert_array_equal(model[0].b.data, 10.0)


# ---------------------------------------------------------------------------------------------
# learning-rate schedules
# ---------------------------------------------------------------------------------------------

SCHEDULES = {
    "StepLR": (lambda opt: cl.StepLR(opt, step_size=3, gamma=0.5),
               lambda sched, opt: sched.StepLR(opt, step_size=3, gamma=0.5)),
    "StepLR gamma 0.1": (lambda opt: cl.StepLR(opt, step_size=1),
                         lambda sched, opt: sched.StepLR(opt, step_size=1)),
    "ExponentialLR": (lambda opt: cl.ExponentialLR(opt, gamma=0.9),
                      lambda sched, opt: sched.ExponentialLR(opt, gamma=0.9)),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule(torch, name):
    make_ours, make_torch = SCHEDULES[name]
    ours_opt = cl.SGD([cl.Parameter(np.zeros(2))], lr=0.3)
    ours = make_ours(ours_opt)
    torch_opt = torch.optim.SGD([torch.zeros(2, dtype=torch.float64, requires_grad=True)], lr=0.3)
    theirs = make_torch(torch.optim.lr_scheduler, torch_opt)
    assert ours_opt.lr == pytest.approx(torch_opt.param_groups[0]["lr"], rel=1e-12)
    for epoch in range(1, 16):
        torch_opt.step()         # torch wants optimizer.step() before scheduler.step()
        ours_opt.step()
        returned = ours.step()
        theirs.step()
        lr_torch = torch_opt.param_groups[0]["lr"]
        assert returned == ours_opt.lr
        assert ours_opt.lr == pytest.approx(lr_torch, rel=1e-12, abs=1e-300), (
            f"{name} epoch {epoch}: lr ours {ours_opt.lr!r} vs torch {lr_torch!r}, max abs "
            f"difference {abs(ours_opt.lr - lr_torch):.3e}")
