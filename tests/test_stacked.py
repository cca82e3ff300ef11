"""Tests of course_lib/widgets/_stacked.py, the stacked trainer of notebooks 01, 02, 04, 05, 07.

In float64 every stacked run must equal the same run through the course's own modules and
``cl.fit`` up to rounding (~1e-12 relative): layer by layer (forward, backward, parameter
gradients) and option by option (per-run lr and momentum, L1/L2/elastic net, max-norm, label
smoothing, dropout masks, BatchNorm's running statistics and ghost batches, drop_last, the
explosion rule, runs that stop, early-stopping bookkeeping). float32 runs agree
statistically. Bad input fails with an error that names the layer.
"""
import copy

import numpy as np
import pytest

import course_lib as cl
from course_lib.widgets import _stacked as st
from course_lib.widgets.batchnorm_experiments import GhostBatchNorm1d

TOL = 1e-12


def assert_close(ours, theirs, tol=TOL, what=""):
    """max |ours - theirs| <= tol * max |theirs|: relative to the array's scale."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, what
    scale = max(np.abs(theirs).max(), 1e-300) if theirs.size else 1.0
    err = np.abs(ours - theirs).max() / scale if theirs.size else 0.0
    assert err <= tol, f"{what}: relative error {err:.2e} > {tol:g}"


def assert_same_models(ours, theirs, tol=TOL):
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert_close(a[key], b[key], tol, key)


def data(n=90, d=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


# ------------------------------------------------------------------ the models of the tests

def _lin(i, o, r, **kw):
    return cl.Linear(i, o, rng=r, **kw)


BUILDERS = {   # name -> (seed -> cl.Sequential); input 6 features, 4 classes
    "linear + ReLU": lambda s, r: cl.Sequential(_lin(6, 8, r), cl.ReLU(), _lin(8, 8, r), cl.ReLU(), _lin(8, 4, r)),
    "no bias": lambda s, r: cl.Sequential(_lin(6, 8, r, bias=False), cl.ReLU(), _lin(8, 4, r, bias=False)),
    "tanh, sigmoid": lambda s, r: cl.Sequential(_lin(6, 8, r), cl.Tanh(), _lin(8, 8, r), cl.Sigmoid(), _lin(8, 4, r)),
    "GELU, SiLU": lambda s, r: cl.Sequential(_lin(6, 8, r), cl.GELU(), _lin(8, 8, r), cl.SiLU(), _lin(8, 4, r)),
    "LeakyReLU, ELU (alpha per run)": lambda s, r: cl.Sequential(
        _lin(6, 8, r), cl.LeakyReLU(0.05 + 0.2 * s), _lin(8, 8, r), cl.ELU(0.5 + s), _lin(8, 4, r)),
    "Maxout k=2, k=3": lambda s, r: cl.Sequential(cl.Maxout(6, 8, pieces=2, rng=r), cl.Maxout(8, 5, pieces=3, rng=r),
                                                  _lin(5, 4, r)),
    "dropout (p per run, one run without)": lambda s, r: cl.Sequential(*(
        [_lin(6, 8, r), cl.ReLU()] + ([cl.Dropout(0.2 + 0.3 * s, rng=np.random.default_rng(50 + s))] if s < 2 else [])
        + [_lin(8, 8, r), cl.Tanh(), cl.Dropout(0.3, rng=np.random.default_rng(60 + s)), _lin(8, 4, r)])),
    "input dropout, p = 1": lambda s, r: cl.Sequential(
        cl.Dropout(0.1, rng=np.random.default_rng(70 + s)), _lin(6, 8, r), cl.ReLU(),
        cl.Dropout(1.0 if s == 1 else 0.5, rng=np.random.default_rng(80 + s)), _lin(8, 4, r)),
    "BatchNorm1d": lambda s, r: cl.Sequential(_lin(6, 8, r, bias=False), cl.BatchNorm1d(8), cl.ReLU(),
                                              _lin(8, 8, r), cl.ReLU(), cl.BatchNorm1d(8, momentum=0.3), _lin(8, 4, r)),
    "ghost batches": lambda s, r: cl.Sequential(_lin(6, 8, r, bias=False), GhostBatchNorm1d(8, 5), cl.ReLU(),
                                                _lin(8, 4, r)),
    "LayerNorm": lambda s, r: cl.Sequential(_lin(6, 8, r), cl.LayerNorm(8), cl.ReLU(), _lin(8, 8, r),
                                            cl.LayerNorm(8, elementwise_affine=False), cl.GELU(), _lin(8, 4, r)),
}
SEEDS = (0, 1, 2)


def build(name, s):
    return BUILDERS[name](s, np.random.default_rng(s))


def reference(model, X, y, *, lr, momentum=0.0, epochs=3, batch_size=10, seed=0, label_smoothing=0.0,
              l1=0.0, l2=0.0, max_norm=None, explode_factor=np.inf):
    """One run through cl.fit (float64): its History; ``model`` is trained in place."""
    reg = cl.ElasticNet(l1, l2) if l1 and l2 else cl.L1(l1) if l1 else cl.L2(l2) if l2 else None
    return cl.fit(model, cl.SoftmaxCrossEntropy(label_smoothing=label_smoothing),
                  cl.SGD(model.parameters(), lr=lr, momentum=momentum), X, y, epochs=epochs,
                  batch_size=batch_size, rng=np.random.default_rng(seed), regularizer=reg,
                  max_norm=max_norm, explode_factor=explode_factor, progress=False, ratio_every=0)


def stacked_fit(name, X, y, epochs=3, batch_size=10, dtype=np.float64, **kw):
    model = st.stack([build(name, s) for s in SEEDS], dtype)
    hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=epochs,
                          batch_size=batch_size, explode_factor=None, **kw)
    return model, hist


# ------------------------------------------------------------------ layer by layer

@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_stacked_layer_equals_the_course_layer_run_by_run(name):
    """Forward (training mode), backward (d loss / d x and the parameter gradients) and the
    updated buffers of each stacked layer = the course layer's on each run's slice. The stack
    is built from copies, whose dropout generators start where the originals do."""
    models = [build(name, s) for s in SEEDS]
    stacked = st.stack([copy.deepcopy(model) for model in models]).train()
    X, _ = data(10)
    dout = np.random.default_rng(9).standard_normal((len(SEEDS), 10, 4))
    h = np.stack([X] * len(SEEDS))
    for layer in stacked.layers:
        h = layer.forward(h)
    d = dout.copy()
    for layer in reversed(stacked.layers):
        d = layer.backward(d)
    for m, model in enumerate(models):
        model.zero_grad()
        assert_close(h[m], model.forward(X), what=f"{name}: output of run {m}")
        assert_close(d[m], model.backward(dout[m]), what=f"{name}: d loss / d x of run {m}")
        for i, (p, q) in enumerate(zip(stacked.parameters(), model.parameters())):
            assert_close(p.grad[m].reshape(q.shape), q.grad, what=f"{name}: gradient {i} of run {m}")
    for ours, theirs in zip(stacked.to_models([build(name, s) for s in SEEDS]), models):
        assert_same_models(ours, theirs)                  # running statistics updated alike


def test_evaluation_mode_equals_the_course_layers():
    X, _ = data(10)
    for name in BUILDERS:
        models = [build(name, s) for s in SEEDS]
        for model in models:                               # move the running statistics first
            model.forward(X + 1.0)
        stacked = st.stack(models).eval()
        z = stacked.forward(X)                             # one input for every run: (N, D)
        for m, model in enumerate(models):
            model.eval()
            assert_close(z[m], model.forward(X), what=name)


# ------------------------------------------------------------------ whole runs against cl.fit

@pytest.mark.parametrize("name", list(BUILDERS))
def test_float64_stacked_runs_equal_cl_fit(name):
    X, y = data()
    lrs, moms = (0.05, 0.1, 0.02), (0.9, 0.0, 0.5)
    model, hist = stacked_fit(name, X, y, lr=lrs, momentum=moms)
    trained = model.to_models([build(name, s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build(name, s)
        h = reference(ref, X, y, lr=lrs[m], momentum=moms[m], seed=s)
        assert_same_models(trained[m], ref)
        assert_close(hist.loss[m], h.loss, what="losses")
    assert list(hist.status) == ["completed"] * 3 and hist.steps_per_epoch == 9


OPTIONS = {   # option -> (fit_stacked keywords, per-run reference keywords)
    "L2": (dict(l2=(1e-2, 0.0, 0.1)), [dict(l2=1e-2), {}, dict(l2=0.1)]),
    "L1": (dict(l1=(0.0, 1e-3, 1e-2)), [{}, dict(l1=1e-3), dict(l1=1e-2)]),
    "elastic net": (dict(l1=1e-3, l2=(0.0, 1e-2, 0.05)), [dict(l1=1e-3), dict(l1=1e-3, l2=1e-2),
                                                          dict(l1=1e-3, l2=0.05)]),
    "max-norm": (dict(max_norm=(0.5, None, 1.0)), [dict(max_norm=0.5), {}, dict(max_norm=1.0)]),
    "label smoothing": (dict(label_smoothing=(0.0, 0.1, 0.3)), [{}, dict(label_smoothing=0.1),
                                                                dict(label_smoothing=0.3)]),
    "all together": (dict(l1=(1e-3, 0.0, 0.0), l2=(0.0, 1e-2, 0.0), max_norm=(None, 1.0, 0.7),
                          label_smoothing=(0.2, 0.0, 0.1)),
                     [dict(l1=1e-3, label_smoothing=0.2), dict(l2=1e-2, max_norm=1.0),
                      dict(max_norm=0.7, label_smoothing=0.1)]),
}


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("name", ["dropout (p per run, one run without)", "Maxout k=2, k=3", "BatchNorm1d"])
def test_every_option_equals_cl_fit(option, name):
    X, y = data()
    kw, refs = OPTIONS[option]
    model, hist = stacked_fit(name, X, y, lr=0.1, momentum=0.9, **kw)
    trained = model.to_models([build(name, s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build(name, s)
        h = reference(ref, X, y, lr=0.1, momentum=0.9, seed=s, **refs[m])
        assert_same_models(trained[m], ref)
        assert_close(hist.loss[m], h.loss, what="loss with the penalty")


def test_max_norm_binds_only_where_asked():
    X, y = data()
    model, _ = stacked_fit("linear + ReLU", X, y, lr=0.5, momentum=0.9, max_norm=(0.3, None, np.inf))
    W = [p.data for p in model.parameters() if p.is_weight]
    assert all(np.sqrt((w[0] ** 2).sum(axis=0)).max() <= 0.3 + 1e-6 for w in W)
    assert max(np.sqrt((w[m] ** 2).sum(axis=0)).max() for w in W for m in (1, 2)) > 0.3


def test_labels_per_run():
    """y of shape (M, N): each run trains on its own labels (notebook 05's label-noise draws)."""
    X, y = data()
    ys = np.stack([y, np.roll(y, 1), (y + 1) % 4])
    model, hist = stacked_fit("linear + ReLU", X, ys, lr=0.1, momentum=0.9)
    trained = model.to_models([build("linear + ReLU", s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build("linear + ReLU", s)
        reference(ref, X, ys[m], lr=0.1, momentum=0.9, seed=s)
        assert_same_models(trained[m], ref)


def test_drop_last_skips_the_short_batch():
    X, y = data(95)
    model, hist = stacked_fit("BatchNorm1d", X, y, lr=0.1, batch_size=10, drop_last=True)
    assert hist.steps_per_epoch == 9 and hist.loss.shape == (3, 27)
    trained = model.to_models([build("BatchNorm1d", s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref, order = build("BatchNorm1d", s), np.random.default_rng(s)
        opt, loss_fn, losses = cl.SGD(ref.parameters(), lr=0.1), cl.SoftmaxCrossEntropy(), []
        for _ in range(3):                       # cl.fit's loop without the last, short batch
            perm = order.permutation(len(X))
            for start in range(0, 90, 10):
                idx = perm[start:start + 10]
                losses.append(loss_fn.forward(ref(X[idx]), y[idx]))
                opt.zero_grad()
                ref.backward_params(loss_fn.backward())
                opt.step()
        assert_same_models(trained[m], ref)
        assert_close(hist.loss[m], losses)


def test_a_run_that_explodes_stops_where_cl_fit_stops_and_the_others_go_on():
    X, y = data()
    lrs = (0.1, 40.0, 0.05)
    model = st.stack([build("linear + ReLU", s) for s in SEEDS])
    hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=4,
                          batch_size=10, lr=lrs, momentum=0.9, explode_factor=3.0)
    assert list(hist.status) == ["completed", "exploded", "completed"]
    trained = model.to_models([build("linear + ReLU", s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build("linear + ReLU", s)
        h = reference(ref, X, y, lr=lrs[m], momentum=0.9, seed=s, epochs=4, explode_factor=3.0)
        assert h.status == hist.status[m]
        assert_same_models(trained[m], ref)               # the exploded run: its state before that update
        ran = np.isfinite(hist.loss[m])
        assert_close(hist.loss[m][ran], h.loss)
    assert hist.stop_step[1] == len(reference(build("linear + ReLU", 1), X, y, lr=40.0, momentum=0.9, seed=1,
                                              epochs=4, explode_factor=3.0).loss) - 1
    assert hist.stop_epoch[1] >= 1 and np.isnan(hist.loss[1, hist.stop_step[1] + 1:]).all()
    assert list(hist.stop_step[[0, 2]]) == [-1, -1] and list(hist.stop_epoch[[0, 2]]) == [0, 0]


def test_when_every_run_explodes_the_models_keep_their_states_before_it():
    X, y = data()
    model = st.stack([build("BatchNorm1d", s) for s in SEEDS])
    hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=3,
                          batch_size=10, lr=1e4, explode_factor=3.0)
    assert list(hist.status) == ["exploded"] * 3
    for m, (ours, s) in enumerate(zip(model.to_models([build("BatchNorm1d", s) for s in SEEDS]), SEEDS)):
        ref = build("BatchNorm1d", s)
        with np.errstate(all="ignore"):
            h = reference(ref, X, y, lr=1e4, seed=s, explode_factor=3.0)
        assert h.exploded and hist.stop_step[m] == len(h.loss) - 1
        assert_same_models(ours, ref)


def test_a_non_finite_loss_stops_the_run_too():
    X, y = data()
    model = st.stack([build("linear + ReLU", s) for s in SEEDS])
    model.layers[0].W.data[1] = np.nan
    hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=1,
                          batch_size=10, lr=0.1, explode_factor=3.0)
    assert list(hist.status) == ["completed", "exploded", "completed"] and hist.stop_step[1] == 0


def test_evaluation_hook_sees_the_live_runs_in_eval_mode_and_can_stop_them():
    """The hook runs after the chosen epochs on the runs still training; the runs it stops keep
    the parameters of that epoch (= cl.fit for that many epochs) and leave the stack."""
    X, y = data()
    model = st.stack([build("dropout (p per run, one run without)", s) for s in SEEDS])
    seen = []

    def hook(epoch, live, runs):
        seen.append((epoch, tuple(runs), live.training, len(live)))
        assert not any(layer.training for layer in live.layers)
        return runs == 1 if epoch == 2 else None           # run 1 is done after epoch 2

    hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=5,
                          batch_size=10, lr=0.1, momentum=0.9, explode_factor=None, evaluate=hook,
                          evaluate_at=[1, 2, 4])
    assert seen == [(1, (0, 1, 2), False, 3), (2, (0, 1, 2), False, 3), (4, (0, 2), False, 2)]
    assert list(hist.status) == ["completed", "stopped", "completed"] and hist.stop_epoch[1] == 2
    trained = model.to_models([build("dropout (p per run, one run without)", s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build("dropout (p per run, one run without)", s)
        reference(ref, X, y, lr=0.1, momentum=0.9, seed=s, epochs=2 if m == 1 else 5)
        assert_same_models(trained[m], ref)
    every_second = []
    st.fit_stacked(st.stack([build("linear + ReLU", 0)]), X, y, orders=[np.random.default_rng(0)], epochs=5,
                   batch_size=10, lr=0.1, explode_factor=None, record_loss=False,
                   evaluate=lambda e, live, runs: every_second.append(e), evaluate_at=2)
    assert every_second == [2, 4]


def test_the_hook_can_measure_like_cl_evaluate():
    X, y = data()
    Xv, yv = data(40, seed=5)
    model = st.stack([build("BatchNorm1d", s) for s in SEEDS])
    val = np.full((3, 3, 2), np.nan)

    def hook(epoch, live, runs):
        z = live.forward(Xv)                             # one input shared by every run
        val[runs, epoch - 1] = np.stack([st.nll(z, yv), st.accuracy(z, yv)], axis=1)

    st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=3, batch_size=10,
                   lr=0.1, explode_factor=None, evaluate=hook)
    for m, s in enumerate(SEEDS):
        ref = build("BatchNorm1d", s)
        h = cl.fit(ref, cl.SoftmaxCrossEntropy(), cl.SGD(ref.parameters(), lr=0.1), X, y, epochs=3,
                   batch_size=10, val=(Xv, yv), rng=np.random.default_rng(s), progress=False, ratio_every=0)
        assert_close(val[m, :, 0], h.val_loss)
        assert np.array_equal(val[m, :, 1], h.val_acc)


def test_best_epochs_is_what_cl_early_stopping_decides():
    X, y = data()
    Xv, yv = data(40, seed=5)
    patience = 2
    model = st.stack([build("linear + ReLU", s) for s in SEEDS])
    best = st.BestEpochs(model, patience)
    val_loss = np.full((3, 12), np.nan)

    def hook(epoch, live, runs):
        val_loss[runs, epoch - 1] = st.nll(live.forward(Xv), yv)
        best.update(epoch, val_loss[runs, epoch - 1], live, runs)

    st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=12, batch_size=10,
                   lr=(0.3, 0.5, 0.8), momentum=0.9, explode_factor=None, evaluate=hook)
    restored = best.best.to_models([build("linear + ReLU", s) for s in SEEDS])
    for m, s in enumerate(SEEDS):
        ref = build("linear + ReLU", s)
        stopper = cl.EarlyStopping(patience=patience)
        h = cl.fit(ref, cl.SoftmaxCrossEntropy(), cl.SGD(ref.parameters(), lr=(0.3, 0.5, 0.8)[m], momentum=0.9),
                   X, y, epochs=12, batch_size=10, val=(Xv, yv), rng=np.random.default_rng(s),
                   early_stopping=stopper, progress=False, ratio_every=0, explode_factor=np.inf)
        assert best.best_epoch[m] == h.best_epoch + 1                  # BestEpochs counts from 1
        assert best.stop_epoch[m] == (h.epochs if h.status == "early_stopped" else 0)
        assert_same_models(restored[m], ref)                           # cl.fit restored the best
        assert_close(best.best_loss[m], min(h.val_loss))
    assert (best.stop_epoch > 0).any()                                 # the test saw a stop
    # NaN never improves, a tie is no improvement (as in cl.EarlyStopping); without patience no stop
    losses = np.array([[1.0, np.nan, 2.0], [0.5, 1.0, 3.0], [0.5, 1.0, 2.0005], [0.5004, 0.9, 4.0]])
    no_patience = st.BestEpochs(model)
    for epoch, row in enumerate(losses, start=1):
        no_patience.update(epoch, row, model, np.arange(3))
    expected = []
    for run in range(3):
        stopper = cl.EarlyStopping(patience=100, restore_best=False)
        for epoch, v in enumerate(losses[:, run], start=1):
            stopper.update(None, epoch, v)
        expected.append(stopper.best_epoch)
    assert list(no_patience.best_epoch) == expected == [2, 4, 1] and list(no_patience.stop_epoch) == [0, 0, 0]


def test_dropout_generators_are_consumed_as_cl_fit_consumes_them():
    X, y = data()
    models = [build("dropout (p per run, one run without)", s) for s in SEEDS]
    stacked_fit_models = st.stack(models)
    st.fit_stacked(stacked_fit_models, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=2,
                   batch_size=10, lr=0.1, explode_factor=None)
    after = [[d.rng.random() for d in m.layers if isinstance(d, cl.Dropout)] for m in models]
    for m, s in enumerate(SEEDS):
        ref = build("dropout (p per run, one run without)", s)
        reference(ref, X, y, lr=0.1, seed=s, epochs=2)
        assert after[m] == [d.rng.random() for d in ref.layers if isinstance(d, cl.Dropout)]


def test_the_models_given_to_stack_are_not_changed():
    X, y = data()
    models = [build("BatchNorm1d", s) for s in SEEDS]
    before = [m.state_dict() for m in models]
    model = st.stack(models)
    st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in SEEDS], epochs=1, batch_size=10,
                   lr=0.1, explode_factor=None)
    for m, state in zip(models, before):
        assert all(np.array_equal(a, state[k]) for k, a in m.state_dict().items())
    assert not np.allclose(model.layers[0].W.data[0], models[0].layers[0].W.data)


def test_take_put_copy_and_the_flat_parameters():
    models = [build("BatchNorm1d", s) for s in SEEDS]
    model = st.stack(models)
    assert all(np.shares_memory(p.data, model.flat.data) for p in model.parameters())
    assert model.flat.data.shape == (3, sum(p.size for p in models[0].parameters()))
    two = model.take([2, 0])
    assert len(two) == 2 and np.array_equal(two.layers[0].W.data[0], model.layers[0].W.data[2])
    two.layers[0].W.data[...] = 7.0
    two.layers[1].running_mean[...] = 3.0
    assert not (model.layers[0].W.data == 7.0).any()                  # take copies
    model.put([1], two, [0])
    assert (model.layers[0].W.data[1] == 7.0).all() and (model.layers[1].running_mean[1] == 3.0).all()
    assert (model.layers[0].W.data[0] != 7.0).all()
    assert model.to_models(models)[1].state_dict()["1.running_mean"].tolist() == [3.0] * 8
    assert "StackedBatchNorm1d(8, eps=1e-05, momentum=0.1)" in repr(model) and "3 runs" in repr(model)


# ------------------------------------------------------------------ float32

def test_float32_agrees_statistically_with_float64():
    X, y = cl.data.make_spirals(60, 3, noise=0.1, rng=np.random.default_rng(0))
    nets = lambda: [cl.Sequential(_lin(2, 16, r), cl.ReLU(), cl.Dropout(0.2, rng=np.random.default_rng(10 + s)),  # noqa: E731
                                  _lin(16, 16, r), cl.BatchNorm1d(16), cl.Tanh(), _lin(16, 3, r))
                    for s, r in ((s, np.random.default_rng(s)) for s in range(4))]
    runs = {}
    for dtype in (np.float64, np.float32):
        model = st.stack(nets(), dtype)
        hist = st.fit_stacked(model, X, y, orders=[np.random.default_rng(s) for s in range(4)], epochs=6,
                              batch_size=20, lr=0.05, momentum=0.9, l2=1e-3, label_smoothing=0.1)
        runs[dtype] = (model, hist)
    m32, h32 = runs[np.float32]
    m64, h64 = runs[np.float64]
    assert m32.flat.data.dtype == np.float32 and m32.eval().forward(X).dtype == np.float32
    np.testing.assert_allclose(h32.loss, h64.loss, rtol=1e-4)
    np.testing.assert_allclose(m32.flat.data, m64.flat.data, rtol=1e-3, atol=1e-4)
    acc32, acc64 = st.accuracy(m32.eval().forward(X), y), st.accuracy(m64.eval().forward(X), y)
    assert np.all(np.abs(acc32 - acc64) <= 2 / len(y))
    assert not np.array_equal(h32.loss, h64.loss)                     # other rounding, really


# ------------------------------------------------------------------ bad input

def test_models_of_different_structure_are_refused_with_the_layer_named():
    relu = cl.Sequential(cl.Linear(6, 8), cl.ReLU(), cl.Linear(8, 4))
    with pytest.raises(ValueError, match=r"layer 1 of model 0 is ReLU\(\), layer 1 of model 1 is Tanh\(\)"):
        st.stack([relu, cl.Sequential(cl.Linear(6, 8), cl.Tanh(), cl.Linear(8, 4))])
    with pytest.raises(ValueError, match=r"Linear\(6→8\).*Linear\(6→16\).*same layer shapes"):
        st.stack([relu, cl.Sequential(cl.Linear(6, 16), cl.ReLU(), cl.Linear(16, 4))])
    with pytest.raises(ValueError, match="same layers"):
        st.stack([relu, cl.Sequential(cl.Linear(6, 8), cl.ReLU(), cl.Linear(8, 8), cl.ReLU(), cl.Linear(8, 4))])
    with pytest.raises(ValueError, match="momentum"):
        st.stack([cl.Sequential(cl.Linear(6, 8), cl.BatchNorm1d(8)), cl.Sequential(cl.Linear(6, 8),
                                                                                   cl.BatchNorm1d(8, momentum=0.2))])


def test_unsupported_layers_are_refused_with_the_layer_named():
    with pytest.raises(TypeError, match=r"layer 1 of model 0 is PReLU\(num_features=8\).*no stacked counterpart"):
        st.stack([cl.Sequential(cl.Linear(6, 8), cl.PReLU(8), cl.Linear(8, 4))])
    with pytest.raises(TypeError, match="cl.Sequential"):
        st.stack([cl.Linear(6, 8)])
    with pytest.raises(ValueError, match="two Dropout layers in a row"):
        st.stack([cl.Sequential(cl.Linear(6, 8), cl.Dropout(0.5, rng=0), cl.Dropout(0.5, rng=1))])
    with pytest.raises(ValueError, match="no models"):
        st.stack([])
    with pytest.raises(ValueError, match="float32 or float64"):
        st.stack([cl.Sequential(cl.Linear(6, 8))], dtype=np.float16)


def test_shared_dropout_generators_are_refused():
    with pytest.raises(ValueError, match="default generator"):
        st.stack([cl.Sequential(cl.Linear(6, 8), cl.Dropout(0.5))])
    g = np.random.default_rng(0)
    with pytest.raises(ValueError, match="models 0 and 1 draw their dropout masks from the same generator"):
        st.stack([cl.Sequential(cl.Linear(6, 8), cl.Dropout(0.5, rng=g)) for _ in range(2)])


def test_bad_training_arguments_are_refused():
    X, y = data()
    model = st.stack([build("linear + ReLU", s) for s in SEEDS])
    orders = [np.random.default_rng(s) for s in SEEDS]
    kw = dict(epochs=1, batch_size=10, explode_factor=None)
    with pytest.raises(ValueError, match="one shuffling generator per run"):
        st.fit_stacked(model, X, y, orders=orders[:2], lr=0.1, **kw)
    with pytest.raises(ValueError, match=r"lr: expected one number or one per run \(3 runs\)"):
        st.fit_stacked(model, X, y, orders=orders, lr=(0.1, 0.2), **kw)
    with pytest.raises(ValueError, match="lr must lie in"):
        st.fit_stacked(model, X, y, orders=orders, lr=-0.1, **kw)
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        st.fit_stacked(model, X, y, orders=orders, lr=0.1, label_smoothing=1.5, **kw)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        st.fit_stacked(model, X, y, orders=orders, lr=0.1, max_norm=0.0, **kw)
    with pytest.raises(ValueError, match="y must have shape"):
        st.fit_stacked(model, X, y[:-1], orders=orders, lr=0.1, **kw)
    with pytest.raises(ValueError, match="record_loss"):
        st.fit_stacked(model, X, y, orders=orders, lr=0.1, epochs=1, batch_size=10, record_loss=False)
    with pytest.raises(ValueError, match="no batch"):
        st.fit_stacked(model, X, y, orders=orders, lr=0.1, epochs=1, batch_size=100, drop_last=True,
                       explode_factor=None)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, D\)"):
        model.forward(np.zeros((2, 5, 6)))
    ghost = st.stack([build("ghost batches", 0)])
    with pytest.raises(ValueError, match="groups of 5"):
        st.fit_stacked(ghost, X, y, orders=orders[:1], lr=0.1, epochs=1, batch_size=12, explode_factor=None)
