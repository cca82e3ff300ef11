"""Optimizers, schedules, penalties and the training loop ``fit`` (without PyTorch)."""
import math
import re
import time

import numpy as np
import pytest

import course_lib as cl

# ---------------------------------------------------------------------------------------------
# optimizers reduce a convex loss
# ---------------------------------------------------------------------------------------------


class Quadratic:
    """f(w) = 0.5 * sum(c * (w - m)**2) on two parameters of different shapes."""

    def __init__(self, seed=0):
        r = np.random.default_rng(seed)
        self.params = [cl.Parameter(r.standard_normal((4, 3))), cl.Parameter(r.standard_normal(5))]
        self.curv = [r.uniform(0.2, 2.0, p.shape) for p in self.params]
        self.centre = [r.standard_normal(p.shape) for p in self.params]

    def value(self):
        return sum(0.5 * float(np.sum(c * (p.data - m) ** 2))
                   for p, c, m in zip(self.params, self.curv, self.centre))

    def backward(self):
        for p, c, m in zip(self.params, self.curv, self.centre):
            p.grad += c * (p.data - m)


OPTIMIZERS = {
    "SGD": lambda ps: cl.SGD(ps, lr=0.3),
    "SGD momentum": lambda ps: cl.SGD(ps, lr=0.05, momentum=0.9),
    "SGD nesterov": lambda ps: cl.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "AdaGrad": lambda ps: cl.AdaGrad(ps, lr=0.5),
    "RMSProp": lambda ps: cl.RMSProp(ps, lr=0.02),
    "RMSProp momentum": lambda ps: cl.RMSProp(ps, lr=0.005, momentum=0.9),
    "Adam": lambda ps: cl.Adam(ps, lr=0.05),
    "AdamW": lambda ps: cl.AdamW(ps, lr=0.05, weight_decay=0.0),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_minimizes_a_quadratic(name):
    problem = Quadratic()
    opt = OPTIMIZERS[name](problem.params)
    start = problem.value()
    for _ in range(300):
        opt.zero_grad()
        problem.backward()
        opt.step()
    assert opt.t == 300
    assert problem.value() < 1e-2 * start, f"{name}: loss {start:.3g} -> {problem.value():.3g}"


def test_sgd_step_is_lr_times_gradient():
    p = cl.Parameter([1.0, -2.0])
    p.grad[:] = [0.5, 4.0]
    cl.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.4], rtol=1e-15)


def test_adamw_decay_is_decoupled():
    # with zero gradients Adam's step is zero, so AdamW only shrinks: w * (1 - lr * wd)**t
    p, q = cl.Parameter(np.full(3, 2.0)), cl.Parameter(np.full(3, 2.0))
    adamw, adam = cl.AdamW([p], lr=0.1, weight_decay=0.5), cl.Adam([q], lr=0.1)
    for _ in range(10):
        adamw.step()
        adam.step()
    np.testing.assert_allclose(p.data, 2.0 * 0.95 ** 10, rtol=1e-12)
    np.testing.assert_array_equal(q.data, 2.0)
    assert cl.AdamW([p]).weight_decay == 0.01          # torch's default


def test_optimizers_accept_a_module():
    model = cl.Sequential(cl.Linear(2, 3), cl.ReLU(), cl.Linear(3, 1))
    assert cl.Adam(model).params == model.parameters()


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: cl.SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
    (lambda ps: cl.SGD([np.zeros(2)], lr=0.1), TypeError, "SGD expects Parameters (e.g. model.parameters()), got ndarray at position 0"),
    (lambda ps: cl.SGD(ps, lr=-1.0), ValueError, "SGD: lr must be >= 0, got -1.0"),
    (lambda ps: cl.SGD(ps, lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
    (lambda ps: cl.Adam(ps, betas=(0.9, 1.0)), ValueError, "Adam: beta2 must be in [0, 1), got 1.0"),
    (lambda ps: cl.RMSProp(ps, alpha=1.0), ValueError, "RMSProp: alpha must be in [0, 1), got 1.0"),
    (lambda ps: cl.AdaGrad(ps, eps=-1.0), ValueError, "AdaGrad: eps must be >= 0"),
])
def test_optimizer_validation(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make([cl.Parameter(np.zeros(2))])


# ---------------------------------------------------------------------------------------------
# learning-rate schedules
# ---------------------------------------------------------------------------------------------

def _opt(lr=1.0):
    return cl.SGD([cl.Parameter(np.zeros(1))], lr=lr)


def test_cosine_warmup_schedule():
    opt = _opt(1.0)
    sched = cl.CosineWarmupLR(opt, warmup=5, total=25, min_lr=0.01)
    assert opt.lr == pytest.approx(0.2)                 # construction applies lr_at(0)
    lrs = [sched.lr_at(t) for t in range(40)]
    # warm-up: linear from base/warmup up to base
    np.testing.assert_allclose(lrs[:5], [0.2, 0.4, 0.6, 0.8, 1.0], rtol=1e-12)
    assert lrs[5] == pytest.approx(1.0)
    # half-way through the cosine part the rate is half-way between base and min_lr
    assert lrs[15] == pytest.approx(0.01 + 0.99 * 0.5, rel=1e-12)
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:]))
    assert lrs[25] == pytest.approx(0.01, abs=1e-15) and lrs[39] == pytest.approx(0.01, abs=1e-15)
    assert all(lr >= 0.01 - 1e-15 for lr in lrs)
    for t in range(1, 30):
        assert sched.step() == opt.lr == pytest.approx(lrs[t]) and sched.t == t


def test_cosine_without_warmup_starts_at_base():
    sched = cl.CosineWarmupLR(_opt(0.5), warmup=0, total=10)
    assert sched.lr_at(0) == 0.5 and sched.lr_at(10) == pytest.approx(0.0, abs=1e-15)


def test_inverse_time_schedule():
    opt = _opt(0.6)
    sched = cl.InverseTimeLR(opt, decay=0.5)
    assert opt.lr == 0.6
    for t in range(1, 10):
        assert sched.step() == pytest.approx(0.6 / (1 + 0.5 * t), rel=1e-15)
    assert opt.lr == pytest.approx(0.6 / 5.5)


def test_step_and_exponential_schedules():
    assert [cl.StepLR(_opt(1.0), 3, gamma=0.5).lr_at(t) for t in range(7)] == [
        1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    np.testing.assert_allclose([cl.ExponentialLR(_opt(2.0), 0.9).lr_at(t) for t in range(4)],
                               [2.0, 1.8, 1.62, 1.458], rtol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda o: cl.CosineWarmupLR(o, warmup=10, total=10), "need 0 <= warmup < total"),
    (lambda o: cl.StepLR(o, step_size=0), "StepLR: step_size must be >= 1, got 0"),
    (lambda o: cl.ExponentialLR(o, gamma=0.0), "ExponentialLR: gamma must be in (0, 1], got 0.0"),
    (lambda o: cl.InverseTimeLR(o, decay=-1), "InverseTimeLR: decay must be >= 0, got -1"),
])
def test_schedule_validation(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make(_opt())


# ---------------------------------------------------------------------------------------------
# penalties
# ---------------------------------------------------------------------------------------------

def _penalty_model(rng):
    model = cl.Sequential(cl.Linear(4, 3, rng=rng), cl.BatchNorm1d(3), cl.PReLU(),
                          cl.Maxout(3, 2, rng=rng))
    for p in model.parameters():           # weights and "biases" both away from 0 (L1's kink)
        p.data[...] = np.where(rng.random(p.shape) < 0.5, -1, 1) * rng.uniform(0.1, 1.0, p.shape)
    return model


PENALTIES = {
    "L2": (lambda inc: cl.L2(0.3, include_biases=inc),
           lambda w: 0.5 * 0.3 * np.sum(w ** 2)),
    "L1": (lambda inc: cl.L1(0.2, include_biases=inc),
           lambda w: 0.2 * np.sum(np.abs(w))),
    "ElasticNet": (lambda inc: cl.ElasticNet(0.2, 0.3, include_biases=inc),
                   lambda w: 0.2 * np.sum(np.abs(w)) + 0.5 * 0.3 * np.sum(w ** 2)),
}


@pytest.mark.parametrize("include_biases", [False, True])
@pytest.mark.parametrize("name", list(PENALTIES))
def test_penalty_value_and_gradient(name, include_biases, rng):
    make, formula = PENALTIES[name]
    penalty = make(include_biases)
    model = _penalty_model(rng)
    params = model.parameters()
    # by default only the weight matrices; biases (Maxout's is 2-D), gamma, beta, alpha are not
    penalized = params if include_biases else [model[0].W, model[3].W]
    assert len(params) == 7
    expected = sum(formula(p.data) for p in penalized)
    assert penalty.value(model) == pytest.approx(expected, rel=1e-12)
    assert penalty(params) == pytest.approx(expected, rel=1e-12)

    model.zero_grad()
    penalty.add_grad(params)
    for p in params:
        numeric = cl.numerical_gradient(lambda: penalty.value(params), p.data)
        if any(p is q for q in penalized):
            assert cl.rel_error(p.grad, numeric) < 1e-7, f"{name}: gradient of {p!r}"
        else:
            assert not p.grad.any() and not numeric.any(), f"{name} touched {p!r}"


def test_penalties_are_added_to_existing_gradients():
    p = cl.Parameter(np.ones((2, 2)))
    p.grad[:] = 1.0
    cl.L2(0.5).add_grad([p])
    np.testing.assert_allclose(p.grad, 1.5)
    assert repr(cl.L2(0.5)) == "L2(lam=0.5)" and repr(cl.ElasticNet(0.1, 0.2)) == "ElasticNet(l1=0.1, l2=0.2)"
    with pytest.raises(ValueError, match="L1: lam must be >= 0"):
        cl.L1(-1.0)


def test_maxout_bias_is_a_bias_everywhere(rng):
    # Maxout's bias has shape (out, pieces): two axes, but still a bias, not a weight matrix
    model = cl.Sequential(cl.Linear(3, 4, rng=0), cl.Maxout(4, 2, pieces=3, rng=1))
    maxout = model[1]
    maxout.b.data[...] = 10.0
    assert cl.L2(1.0).value(model) == pytest.approx(
        0.5 * (np.sum(model[0].W.data ** 2) + np.sum(maxout.W.data ** 2)))
    cl.L1(1.0).add_grad(model)
    assert not maxout.b.grad.any() and maxout.W.grad.any()
    assert cl.max_norm(model, 0.1) == 4 + 2 * 3        # every weight column, no bias column
    np.testing.assert_array_equal(maxout.b.data, 10.0)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y,
                  epochs=1, batch_size=4, ratio_every=1, progress=False)
    assert set(hist.update_ratios) == {"0.W", "1.W"}


def test_l1_subgradient_is_zero_at_zero():
    p = cl.Parameter(np.array([[0.0, 2.0, -3.0]]))
    cl.L1(1.0).add_grad([p])
    np.testing.assert_array_equal(p.grad, [[0.0, 1.0, -1.0]])


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spirals():
    X, y = cl.data.make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=0)
    split = cl.data.train_val_test_split(X, y, val=0.2, test=0.0, rng=0)
    return split.X_train, split.y_train, split.X_val, split.y_val


def mlp(hidden=32, seed=0, d_in=2, d_out=3):
    return cl.Sequential(cl.Linear(d_in, hidden, rng=seed), cl.ReLU(),
                         cl.Linear(hidden, d_out, rng=seed + 1))


def test_fit_history(spirals):
    X, y, Xv, yv = spirals
    assert len(X) == 240
    model = mlp()
    loss = cl.SoftmaxCrossEntropy()
    hist = cl.fit(model, loss, cl.Adam(model.parameters(), 1e-2), X, y, epochs=5, batch_size=32,
                  val=(Xv, yv), rng=0, progress=False)
    steps = 5 * math.ceil(240 / 32)
    assert isinstance(hist, cl.History)
    assert hist.status == "completed" and hist.epochs == 5 and hist.steps == steps == 40
    assert len(hist.loss) == len(hist.lr) == steps and hist.lr == [1e-2] * steps
    for series in (hist.train_loss, hist.val_loss, hist.train_acc, hist.val_acc):
        assert len(series) == 5
    assert all(0.0 <= a <= 1.0 for a in hist.train_acc + hist.val_acc)
    assert hist.train_loss[-1] < hist.train_loss[0] and hist.val_loss[-1] < hist.val_loss[0]
    # per-epoch train loss is the example-weighted mean of that epoch's step losses
    sizes = [32] * 7 + [16]
    assert hist.train_loss[0] == pytest.approx(np.dot(hist.loss[:8], sizes) / 240, rel=1e-12)
    # the last validation numbers are a full eval-mode pass of the final model
    val_loss, val_acc = cl.evaluate(model, loss, Xv, yv)
    assert hist.val_loss[-1] == pytest.approx(val_loss) and hist.val_acc[-1] == pytest.approx(val_acc)
    # update-to-weight ratios of the weight matrices (not biases), every 10 steps
    assert set(hist.update_ratios) == {"0.W", "2.W"}
    assert hist.ratio_steps == [0, 10, 20, 30]
    for ratios in hist.update_ratios.values():
        assert len(ratios) == 4 and all(0.0 < r < 1.0 for r in ratios)
    assert model.training                       # fit leaves the model in training mode
    assert "completed" in repr(hist) and "5 epochs" in repr(hist)


def test_fit_update_ratio_is_step_over_weight(rng):
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    W0 = mlp(4, d_in=3, d_out=2)[0].W.data.copy()
    model = mlp(4, d_in=3, d_out=2)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.5), X, y,
                  epochs=1, batch_size=16, ratio_every=1, progress=False)
    W1 = model[0].W.data
    expected = np.linalg.norm(W1 - W0) / np.linalg.norm(W1)
    assert hist.update_ratios["0.W"] == [pytest.approx(expected, rel=1e-9)]


def test_fit_loss_includes_regularizer(rng):
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 3, 20)
    model = mlp(5, d_in=3)
    penalty = cl.L2(0.1)
    expected = cl.SoftmaxCrossEntropy().forward(model.forward(X), y) + penalty.value(model)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.0), X, y,
                  epochs=1, batch_size=20, shuffle=False, regularizer=penalty, progress=False)
    assert hist.loss[0] == pytest.approx(expected, rel=1e-12)


def test_fit_with_schedule_records_lr(spirals):
    X, y, _, _ = spirals
    model = mlp()
    opt = cl.SGD(model.parameters(), 0.1, momentum=0.9)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), opt, X, y, epochs=3, batch_size=80,
                  scheduler=cl.StepLR(opt, step_size=1, gamma=0.5), progress=False)
    np.testing.assert_allclose(hist.lr, [0.1] * 3 + [0.05] * 3 + [0.025] * 3)
    opt = cl.SGD(model.parameters(), 0.1)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), opt, X, y, epochs=1, batch_size=80,
                  scheduler=cl.InverseTimeLR(opt, decay=1.0), schedule_every="step", progress=False)
    np.testing.assert_allclose(hist.lr, [0.1, 0.05, 0.1 / 3])


def test_fit_regression_has_no_accuracy(rng):
    X = rng.standard_normal((50, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    model = cl.Sequential(cl.Linear(3, 1, rng=0))
    hist = cl.fit(model, cl.MSELoss(), cl.SGD(model.parameters(), 0.1), X, y, epochs=20,
                  batch_size=10, val=(X, y), progress=False)
    assert hist.train_acc == [] and hist.val_acc == []
    assert hist.val_loss[-1] < 1e-3 * hist.val_loss[0]
    assert cl.evaluate(model, cl.MSELoss(), X, y)[1] is None


def test_fit_binary_classifier(rng):
    X, y = cl.data.make_moons(300, noise=0.1, rng=0)
    y = y.reshape(-1, 1).astype(np.float64)
    model = mlp(32, d_out=1)
    hist = cl.fit(model, cl.BCEWithLogits(), cl.Adam(model.parameters(), 1e-2), X, y, epochs=30,
                  batch_size=32, val=(X, y), rng=0, progress=False)
    assert hist.val_acc[-1] > 0.95


def _overfitting_setup():
    r = np.random.default_rng(3)
    X, Xv = r.standard_normal((30, 5)), r.standard_normal((200, 5))
    w = r.standard_normal(5)
    y = ((X @ w + 1.5 * r.standard_normal(30)) > 0).astype(int)     # noisy labels: overfits
    yv = ((Xv @ w) > 0).astype(int)
    return X, y, Xv, yv


def _overfit_run(epochs, early_stopping=None):
    X, y, Xv, yv = _overfitting_setup()
    model = cl.Sequential(cl.Linear(5, 64, rng=0), cl.BatchNorm1d(64), cl.ReLU(),
                          cl.Linear(64, 2, rng=1))
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.Adam(model.parameters(), 3e-3), X, y,
                  epochs=epochs, batch_size=10, val=(Xv, yv), rng=0,
                  early_stopping=early_stopping, progress=False)
    return hist, model


def test_early_stopping_restores_the_best_weights():
    hist, model = _overfit_run(60, early_stopping=3)
    assert hist.status == "early_stopped", hist.message
    best = int(np.argmin(hist.val_loss))
    assert hist.best_epoch == best > 0
    assert hist.epochs == len(hist.val_loss) == best + 1 + 3 < 60
    assert f"best epoch {best + 1} (epochs counted from 1)" in hist.message
    # the restored weights are exactly those at the end of the best epoch: rerun to it
    _, reference = _overfit_run(best + 1)
    restored, expected = model.state_dict(), reference.state_dict()
    assert set(restored) == set(expected)
    for key in expected:                       # parameters AND BatchNorm buffers
        np.testing.assert_array_equal(restored[key], expected[key], err_msg=key)
    X, y, Xv, yv = _overfitting_setup()
    assert cl.evaluate(model, cl.SoftmaxCrossEntropy(), Xv, yv)[0] == pytest.approx(min(hist.val_loss))


def test_early_stopping_without_restore_keeps_the_last_weights():
    hist, model = _overfit_run(60, early_stopping=cl.EarlyStopping(patience=3, restore_best=False))
    assert hist.status == "early_stopped"
    X, y, Xv, yv = _overfitting_setup()
    assert cl.evaluate(model, cl.SoftmaxCrossEntropy(), Xv, yv)[0] == pytest.approx(hist.val_loss[-1])
    assert hist.val_loss[-1] > min(hist.val_loss)


def test_early_stopping_needs_validation_data(rng):
    model = mlp(4, d_in=3)
    with pytest.raises(ValueError, match=re.escape("pass val=(X_val, y_val)")):
        cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1),
               rng.standard_normal((10, 3)), rng.integers(0, 3, 10), early_stopping=2,
               progress=False)
    with pytest.raises(ValueError, match="patience must be >= 1"):
        cl.EarlyStopping(patience=0)


def test_too_high_learning_rate_explodes(digits):
    X, y = digits.X_train, digits.y_train
    model = cl.Sequential(cl.Linear(64, 128, rng=0), cl.ReLU(), cl.Linear(128, 10, rng=1))
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=5.0), X, y,
                  epochs=5, batch_size=32, rng=0, progress=False)
    assert hist.status == "exploded" and hist.exploded
    assert hist.steps < 5 * math.ceil(len(X) / 32)      # stopped early
    assert hist.loss[-1] > 3.0 * hist.loss[0]
    assert re.search(r"loss exploded at step \d+: .* learning rate too high\?", hist.message)
    assert f"step {hist.steps - 1}" in hist.message


def test_nan_loss_raises_and_names_the_step(rng):
    X, y = rng.standard_normal((100, 3)), rng.integers(0, 3, 100)
    X[70, 1] = np.nan                      # batch 2 with batch_size 32 and no shuffling
    model = mlp(4, d_in=3)
    with pytest.raises(FloatingPointError, match=r"the loss became nan at step 2 \(epoch 0\).*learning rate"):
        cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y,
               epochs=2, batch_size=32, shuffle=False, progress=False)
    assert model.training


def test_fit_progress_false_prints_nothing(capfd, rng):
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    model = mlp(4, d_in=3)
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y, epochs=3,
           batch_size=8, val=(X, y), progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    # the check above means something: with the bar on, something is written
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y, epochs=3,
           batch_size=8, progress=True)
    out, err = capfd.readouterr()
    assert "epochs" in out + err


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size must be >= 1, got 0"),
    (dict(schedule_every="batch"), "schedule_every must be 'epoch' or 'step', got 'batch'"),
])
def test_fit_validation(kwargs, message, rng):
    model = mlp(4, d_in=3)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    with pytest.raises(ValueError, match=re.escape(message)):
        cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y,
               progress=False, **kwargs)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y[:9],
               progress=False)


def test_fit_clip_norm_and_max_norm(spirals):
    X, y, _, _ = spirals
    model = mlp()
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.5), X, y, epochs=3,
           batch_size=32, clip_norm=0.1, max_norm=0.5, progress=False)
    for p in (model[0].W, model[2].W):
        assert np.linalg.norm(p.data, axis=0).max() <= 0.5 + 1e-9
    total = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    assert total <= 0.1 + 1e-9               # the last gradients were clipped


# ---------------------------------------------------------------------------------------------
# end to end: the digits
# ---------------------------------------------------------------------------------------------

def test_mlp_learns_digits(digits):
    X, y, Xv, yv = digits.X_train, digits.y_train, digits.X_val, digits.y_val
    model = cl.Sequential(cl.Linear(64, 128, rng=0), cl.ReLU(), cl.Linear(128, 10, rng=1))
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.Adam(model.parameters(), 3e-3), X, y,
                  epochs=20, batch_size=32, val=(Xv, yv), rng=0, progress=False)
    assert hist.status == "completed"
    assert hist.loss[0] == pytest.approx(np.log(10), rel=0.3)     # starts near ln K
    assert hist.val_acc[-1] >= 0.95, f"validation accuracy {hist.val_acc[-1]:.3f}"


def test_fit_calls_every_callback_hook_in_order(digits):
    events = []

    class Recorder(cl.Callback):
        def on_train_begin(self, model):
            events.append("begin")

        def on_step_end(self, step, model, loss):
            events.append(("step", step))
            assert np.isfinite(loss)

        def on_epoch_end(self, epoch, model, history):
            events.append(("epoch", epoch, len(history.val_loss)))

        def on_train_end(self, model, history):
            events.append(("end", history.status))

    X, y = digits.X_train[:128], digits.y_train[:128]
    model = cl.Sequential(cl.Linear(64, 16, rng=0), cl.ReLU(), cl.Linear(16, 10, rng=1))
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.1), X, y, epochs=2,
           batch_size=64, val=(digits.X_val, digits.y_val), progress=False, callbacks=[Recorder()])
    assert events == ["begin", ("step", 0), ("step", 1), ("epoch", 0, 1), ("step", 2), ("step", 3),
                      ("epoch", 1, 2), ("end", "completed")]


def test_fit_refuses_a_callback_that_is_not_one():
    model = cl.Sequential(cl.Linear(2, 2, rng=0))
    with pytest.raises(TypeError, match="callbacks must be Callback objects"):
        cl.fit(model, cl.MSELoss(), cl.SGD(model.parameters(), lr=0.1), np.zeros((4, 2)),
               np.zeros((4, 2)), callbacks=[print], progress=False)


def test_early_stopping_message_counts_epochs_from_one(digits):
    model = cl.Sequential(cl.Linear(64, 10, rng=0))
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=3.0),
                  digits.X_train, digits.y_train, epochs=40, val=(digits.X_val, digits.y_val),
                  early_stopping=2, progress=False, explode_factor=1e9)
    assert hist.status == "early_stopped"
    assert f"after epoch {hist.epochs}:" in hist.message
    assert f"best epoch {hist.best_epoch + 1} (epochs counted from 1)" in hist.message


def test_hooks_on_the_model_itself_fire_inside_fit_and_evaluate(digits):
    model = cl.Sequential(cl.Linear(64, 8, rng=0), cl.ReLU(), cl.Linear(8, 10, rng=1))
    seen = []
    handle = model.register_forward_hook(lambda module, inputs, output: seen.append(
        (module.training, output.shape)))
    X, y = digits.X_train[:96], digits.y_train[:96]
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.1), X, y, epochs=1,
           batch_size=32, val=(digits.X_val[:50], digits.y_val[:50]), progress=False)
    assert seen == [(True, (32, 10))] * 3 + [(False, (50, 10))]
    handle.remove()
    cl.evaluate(model, cl.SoftmaxCrossEntropy(), X, y)
    assert len(seen) == 4
