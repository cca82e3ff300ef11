"""Weight averaging (cl.AveragedModel, cl.update_bn) against hand computations and PyTorch's
torch.optim.swa_utils (live; the committed reference cases are in test_torch_references.py)."""
import copy

import numpy as np
import pytest

import course_lib as cl


class Recorder(cl.Callback):
    """The parameters after every optimizer step and at every epoch end."""

    def __init__(self):
        self.steps, self.epochs = [], []

    def on_step_end(self, step, model, loss):
        self.steps.append([p.data.copy() for p in model.parameters()])

    def on_epoch_end(self, epoch, model, history):
        self.epochs.append([p.data.copy() for p in model.parameters()])


def setup(bn=False, seed=0):
    r = np.random.default_rng(seed)
    X, y = r.standard_normal((48, 5)), r.integers(0, 3, 48)
    middle = [cl.BatchNorm1d(8)] if bn else []
    model = cl.Sequential(cl.Linear(5, 8, rng=1), *middle, cl.ReLU(), cl.Linear(8, 3, rng=2))
    return model, X, y


def train(model, X, y, callbacks, epochs=3, lr=0.2):
    return cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=lr, momentum=0.9),
                  X, y, epochs=epochs, batch_size=8, rng=0, callbacks=callbacks, progress=False)


def ema_by_hand(iterates, d):
    avg = [w.copy() for w in iterates[0]]
    for ws in iterates[1:]:
        avg = [d * a + (1 - d) * w for a, w in zip(avg, ws)]
    return avg


def assert_params(avg, expected, atol=1e-14):
    got = [p.data for p in avg.parameters()]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=atol)


@pytest.mark.parametrize("d", [0.5, 0.9, 0.99])
def test_ema_equals_the_hand_computation(d):
    model, X, y = setup()
    rec, avg = Recorder(), cl.AveragedModel(model, decay=d)
    train(model, X, y, [rec, avg])
    assert avg.n_averaged == len(rec.steps) == 18
    assert_params(avg, ema_by_hand(rec.steps, d))
    # the average is not the last iterate (so the test can fail)
    assert not np.allclose(avg.parameters()[0].data, model.parameters()[0].data)


def test_equal_weights_are_the_mean_of_the_iterates():
    model, X, y = setup()
    rec, avg = Recorder(), cl.AveragedModel(model)
    train(model, X, y, [rec, avg])
    assert_params(avg, [np.mean(ws, axis=0) for ws in zip(*rec.steps)], atol=1e-13)


def test_every_start_and_per_epoch():
    model, X, y = setup()
    rec = Recorder()
    every = cl.AveragedModel(model, every=4, start=2)
    ema = cl.AveragedModel(model, decay=0.8, every=3, start=5)
    epochs = cl.AveragedModel(model, per="epoch", start=1)
    train(model, X, y, [rec, every, ema, epochs], epochs=4)
    picked = rec.steps[2::4]                         # steps 2, 6, 10, ...
    assert every.n_averaged == len(picked) == 6
    assert_params(every, [np.mean(ws, axis=0) for ws in zip(*picked)], atol=1e-13)
    assert_params(ema, ema_by_hand(rec.steps[5::3], 0.8))
    assert epochs.n_averaged == 3                   # epochs 1, 2, 3 of 0..3
    assert_params(epochs, [np.mean(ws, axis=0) for ws in zip(*rec.epochs[1:])], atol=1e-13)


def test_first_update_copies_and_the_extreme_decays():
    model, X, y = setup()
    rec = Recorder()
    last, first = cl.AveragedModel(model, decay=0.0), cl.AveragedModel(model, decay=1.0)
    train(model, X, y, [rec, last, first])
    assert_params(last, rec.steps[-1], atol=0)       # decay 0: the last iterate
    assert_params(first, rec.steps[0], atol=0)       # decay 1: the first, copied


def test_its_own_copy_and_the_module_interface():
    model, X, y = setup(bn=True)
    before = model.state_dict()
    avg = cl.AveragedModel(model, decay=0.9)
    assert avg.n_averaged == 0 and isinstance(avg.module, cl.Sequential)
    assert all(a is not b for a, b in zip(avg.parameters(), model.parameters()))
    for k, v in avg.module.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    avg.update_parameters(model)
    avg.parameters()[0].data += 1.0                # editing the copy leaves the model alone
    np.testing.assert_array_equal(model.parameters()[0].data, before["0.W"])
    avg.eval()
    assert not avg.training and not avg.module.training and not avg.module[1].training
    assert model.training
    np.testing.assert_array_equal(avg(X), avg.module.forward(X))
    state = avg.state_dict()
    assert state["n_averaged"] == 1 and "module.0.W" in state and "module.1.running_mean" in state
    clone = cl.AveragedModel(model)
    clone.load_state_dict(state)
    assert clone.n_averaged == 1
    assert "EMA decay=0.9" in repr(avg) and "n_averaged=1" in repr(avg)
    assert isinstance(avg, cl.Callback) and isinstance(avg, cl.Module)


def test_buffers_copied_by_default_and_averaged_with_use_buffers():
    model, X, y = setup(bn=True)
    rec = []

    class Buffers(cl.Callback):
        def on_step_end(self, step, model, loss):
            bn = model[1]
            rec.append((bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked))

    plain, with_buffers = cl.AveragedModel(model, decay=0.7), cl.AveragedModel(model, decay=0.7, use_buffers=True)
    equal = cl.AveragedModel(model, use_buffers=True)
    train(model, X, y, [Buffers(), plain, with_buffers, equal])
    bn = model[1]
    np.testing.assert_array_equal(plain.module[1].running_mean, bn.running_mean)
    assert plain.module[1].num_batches_tracked == bn.num_batches_tracked == 18
    mean = ema_by_hand([[m] for m, _, _ in rec], 0.7)[0]
    np.testing.assert_allclose(with_buffers.module[1].running_mean, mean, rtol=0, atol=1e-14)
    np.testing.assert_allclose(equal.module[1].running_var, np.mean([v for _, v, _ in rec], axis=0),
                               rtol=0, atol=1e-13)
    # the integer counter: averaged in float64 and truncated (as torch): EMA 0.7 of 1, ..., 18
    n = 1
    for t in range(2, 19):
        n = int(0.7 * n + (1 - 0.7) * t)
    assert with_buffers.module[1].num_batches_tracked == n == 15
    assert isinstance(with_buffers.module[1].num_batches_tracked, int)
    # truncated at every update, the equal-weight average of 1, 2, 3, ... never leaves 1:
    # trunc(1 + (n - 1) / n) = 1 (torch does the same, see the live test)
    assert equal.module[1].num_batches_tracked == 1


def test_update_bn_recomputes_the_statistics():
    model, X, y = setup(bn=True)
    train(model, X, y, [])
    avg = cl.AveragedModel(model)
    avg.update_parameters(model)
    avg.eval()
    params = [p.data.copy() for p in avg.parameters()]
    h = X @ avg.module[0].W.data + avg.module[0].b.data          # what the BatchNorm sees
    cl.update_bn(X, avg)
    bn = avg.module[1]
    np.testing.assert_allclose(bn.running_mean, h.mean(axis=0), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(bn.running_var, h.var(axis=0, ddof=1), rtol=1e-13)
    assert bn.num_batches_tracked == 1 and bn.momentum == 0.1 and not avg.training
    # in batches: the cumulative average of the batch statistics
    cl.update_bn(X, avg, batch_size=20)                           # batches of 20, 20, 8
    parts = [h[:20], h[20:40], h[40:]]
    np.testing.assert_allclose(bn.running_mean, np.mean([p.mean(0) for p in parts], axis=0), rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, np.mean([p.var(0, ddof=1) for p in parts], axis=0), rtol=1e-13)
    assert bn.num_batches_tracked == 3
    # an iterable of (x, y) batches works the same
    cl.update_bn([(X[:20], y[:20]), (X[20:40], y[20:40]), (X[40:], y[40:])], avg)
    np.testing.assert_allclose(bn.running_mean, np.mean([p.mean(0) for p in parts], axis=0), rtol=1e-13)
    for p, q in zip(avg.parameters(), params):
        np.testing.assert_array_equal(p.data, q)
    # no BatchNorm: nothing to do
    plain = cl.Sequential(cl.Linear(5, 3, rng=0))
    assert cl.update_bn(X, plain) is plain


def test_update_bn_helps_the_averaged_batchnorm_model(digits):
    # the averaged weights with the LAST model's running statistics vs recomputed ones
    model = cl.Sequential(cl.Linear(64, 64, rng=cl.make_rng(1)), cl.BatchNorm1d(64), cl.ReLU(),
                          cl.Linear(64, 10, rng=cl.make_rng(2)))
    avg = cl.AveragedModel(model, start=60)
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.3, momentum=0.9),
           digits.X_train, digits.y_train, epochs=6, batch_size=32, rng=0, callbacks=[avg],
           progress=False)
    loss = cl.SoftmaxCrossEntropy()
    stale, _ = cl.evaluate(avg, loss, digits.X_val, digits.y_val)
    cl.update_bn(digits.X_train, avg)
    fresh, _ = cl.evaluate(avg, loss, digits.X_val, digits.y_val)
    assert fresh < stale, (fresh, stale)


def test_errors():
    model, X, y = setup()
    for bad in (1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="decay must be None"):
            cl.AveragedModel(model, decay=bad)
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        cl.AveragedModel(model, every=0)
    with pytest.raises(ValueError, match="start must be an integer >= 0"):
        cl.AveragedModel(model, start=-1)
    with pytest.raises(ValueError, match="per must be"):
        cl.AveragedModel(model, per="batch")
    with pytest.raises(TypeError, match="course_lib Module"):
        cl.AveragedModel(lambda x: x)
    avg = cl.AveragedModel(model)
    other = cl.Sequential(cl.Linear(5, 4, rng=0), cl.ReLU(), cl.Linear(4, 3, rng=0))
    with pytest.raises(ValueError, match="do not match"):
        avg.update_parameters(other)
    with pytest.raises(ValueError, match="do not match"):     # at the start of fit already
        train(other, X, y, [avg], epochs=1)
    with pytest.raises(TypeError, match="array X"):
        cl.update_bn(3, setup(bn=True)[0])
    with pytest.raises(ValueError, match="batch_size"):
        cl.update_bn(X, setup(bn=True)[0], batch_size=1)


# ---------------------------------------------------------------------------------------------
# live PyTorch comparison
# ---------------------------------------------------------------------------------------------

def torch_twin(torch, model, bn):
    nn = torch.nn
    layers = [nn.Linear(5, 8)] + ([nn.BatchNorm1d(8)] if bn else []) + [nn.ReLU(), nn.Linear(8, 3)]
    net = nn.Sequential(*layers).double()
    ours = [layer for layer in model.layers if layer.parameters()]
    theirs = [layer for layer in net if list(layer.parameters())]
    with torch.no_grad():
        for a, b in zip(ours, theirs):
            if isinstance(a, cl.Linear):
                b.weight.copy_(torch.tensor(a.W.data.T))
                b.bias.copy_(torch.tensor(a.b.data))
            else:
                b.weight.copy_(torch.tensor(a.gamma.data))
                b.bias.copy_(torch.tensor(a.beta.data))
    return net


def torch_params(avg_module):
    out = []
    for name, p in avg_module.named_parameters():
        v = p.detach().numpy()
        out.append(v.T if name.endswith("weight") and v.ndim == 2 else v)
    return out


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["ema multi", "ema single", "equal", "ema buffers", "equal buffers"])
def test_matches_torch_averaged_model(torch, kind):
    from torch.optim import swa_utils
    # float64 everywhere, as in every parity test: torch averages integer buffers in its
    # default dtype, and course_lib in float64
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_with_torch(torch, swa_utils, kind)
    finally:
        torch.set_default_dtype(default)


def _compare_with_torch(torch, swa_utils, kind):
    bn = "buffers" in kind
    model, X, y = setup(bn=bn, seed=3)
    net = torch_twin(torch, model, bn)
    d = 0.85
    if kind.startswith("ema"):
        fn = swa_utils.get_ema_avg_fn(d) if kind == "ema single" else None
        multi = swa_utils.get_ema_multi_avg_fn(d) if kind != "ema single" else None
        theirs = swa_utils.AveragedModel(net, avg_fn=fn, multi_avg_fn=multi, use_buffers=bn)
        ours = cl.AveragedModel(model, decay=d, use_buffers=bn, start=1)
    else:
        theirs = swa_utils.AveragedModel(net, use_buffers=bn)
        ours = cl.AveragedModel(model, use_buffers=bn, start=1)
    # the same batches in the same order on both sides (no shuffling), SGD with momentum
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.2, momentum=0.9),
           X, y, epochs=2, batch_size=8, shuffle=False, callbacks=[ours], progress=False)
    opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)
    step = 0
    for _ in range(2):
        for i in range(0, 48, 8):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.tensor(X[i:i + 8])), torch.tensor(y[i:i + 8]))
            loss.backward()
            opt.step()
            if step >= 1:
                theirs.update_parameters(net)
            step += 1
    assert ours.n_averaged == int(theirs.n_averaged) == 11
    for a, b in zip([p.data for p in ours.parameters()], torch_params(theirs.module)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    if bn:
        tb, ob = theirs.module[1], ours.module[1]
        np.testing.assert_allclose(ob.running_mean, tb.running_mean.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(ob.running_var, tb.running_var.numpy(), rtol=0, atol=1e-12)
        assert ob.num_batches_tracked == int(tb.num_batches_tracked)
        # and update_bn afterwards, over the same batches
        swa_utils.update_bn([torch.tensor(X[i:i + 8]) for i in range(0, 48, 8)], theirs)
        cl.update_bn(X, ours, batch_size=8)
        np.testing.assert_allclose(ob.running_mean, tb.running_mean.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(ob.running_var, tb.running_var.numpy(), rtol=0, atol=1e-12)
        assert ob.num_batches_tracked == int(tb.num_batches_tracked) == 6
        assert ob.momentum == tb.momentum == 0.1
