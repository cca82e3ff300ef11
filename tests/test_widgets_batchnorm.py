"""Headless tests of notebook 04's library code: the BatchNorm explorer
(course_lib/widgets/batchnorm.py), the stacked experiments (batchnorm_experiments.py) and the
staged backward pass (batchnorm_graph.py)."""

import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import batchnorm as bnw  # noqa: E402
from course_lib.widgets import batchnorm_experiments as bx  # noqa: E402
from course_lib.widgets import batchnorm_graph as bng  # noqa: E402

SMALL_LRS = (0.1, 0.2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data():
    X, y, Xv, yv, _, _ = bx.training_data("centred")
    return X, y, Xv, yv


# --------------------------------------------------------------------------- the bench

def test_make_net_layouts():
    kinds = [type(layer).__name__ for layer in bx.make_net("batch", placement="before", rng=0)]
    assert kinds[:3] == ["Linear", "BatchNorm1d", "ReLU"] and kinds[-1] == "Linear"
    assert kinds.count("BatchNorm1d") == bx.DEPTH - 1
    net = bx.make_net("batch", rng=0)
    # the bias in front of BN is redundant and left out; the output layer keeps its bias
    assert net[0].b is None and net[-1].b is not None
    assert [type(layer).__name__ for layer in bx.make_net("batch", placement="after", rng=0)][:3] == \
        ["Linear", "ReLU", "BatchNorm1d"]
    assert [type(layer).__name__ for layer in bx.make_net("layer", rng=0)][:3] == ["Linear", "LayerNorm", "ReLU"]
    ghost = bx.make_net("ghost", ghost_size=8, rng=0)
    assert isinstance(ghost[1], bx.GhostBatchNorm1d) and ghost[1].ghost_size == 8
    plain = bx.make_net("none", rng=0)
    assert not any(isinstance(layer, (cl.BatchNorm1d, cl.LayerNorm)) for layer in plain)
    assert plain[0].b is not None
    with pytest.raises(ValueError, match="placement"):
        bx.make_net("batch", placement="inside")
    with pytest.raises(ValueError, match="norm must be one of"):
        bx.make_net("group")
    with pytest.raises(ValueError, match="ghost_size"):
        bx.make_net("ghost")


def test_init_scale_only_rescales_the_logits_of_a_bn_net():
    # BN removes the scale of every hidden layer; only the output layer's factor remains
    X = _data()[0][:64]
    out1 = bx.make_net("batch", 1.0, rng=3).forward(X)
    out2 = bx.make_net("batch", 2.0, rng=3).forward(X)
    assert np.abs(out2 - 2.0 * out1).max() < 1e-3 * np.abs(out2).max()   # up to eps
    plain1 = bx.make_net("none", 1.0, rng=3).forward(X)
    plain2 = bx.make_net("none", 2.0, rng=3).forward(X)
    assert np.allclose(plain2, 2.0 ** bx.DEPTH * plain1)   # ReLU is positively homogeneous


def test_bn_makes_the_net_blind_to_a_constant_shift_of_its_inputs():
    # the notebook's "raw pixels" comparison: BN after the first Linear subtracts the batch
    # mean, so raw and centred inputs give the same training-mode output
    raw, centred = bx.training_data("raw")[0][:64], bx.training_data("centred")[0][:64]
    assert np.abs(raw.mean(axis=0)).max() > 0.1                   # the raw pixels are off-centre
    a = bx.make_net("batch", rng=4).forward(raw)
    b = bx.make_net("batch", rng=4).forward(centred)
    assert np.abs(a - b).max() < 1e-9
    p = bx.make_net("none", rng=4).forward(raw) - bx.make_net("none", rng=4).forward(centred)
    assert np.abs(p).max() > 0.1                                 # the plain net is not


def test_training_data_is_centred_on_the_training_set_and_read_only():
    X, _, Xv, _, _, _ = bx.training_data("centred")
    assert np.abs(X.mean(axis=0)).max() < 1e-12 and np.abs(Xv.mean(axis=0)).max() > 1e-3
    assert not X.flags.writeable
    with pytest.raises(ValueError, match="inputs"):
        bx.training_data("whitened")


def test_streams_are_seeded_and_independent():
    a_init, a_order = bx.streams(5)
    b_init, b_order = bx.streams(5)
    assert a_init.random() == b_init.random() and a_order.random() == b_order.random()
    i, o = bx.streams(5)
    assert i.random() != o.random()


def test_run_seeds_follow_course_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert bx.run_seeds() == (0, 1, 2)
    monkeypatch.setenv("COURSE_SEED", "1")
    assert bx.run_seeds() == (1000, 1001, 1002)


# -------------------------------------------------------------- the layer: ghost batches

def test_ghost_batchnorm_normalizes_each_ghost_batch_like_batchnorm():
    rng = np.random.default_rng(0)
    x = 2.0 + 3.0 * rng.standard_normal((12, 5))
    dout = rng.standard_normal((12, 5))
    ghost = bx.GhostBatchNorm1d(5, ghost_size=4)
    ghost.gamma.data[:] = rng.uniform(0.5, 1.5, 5)
    ref = cl.BatchNorm1d(5)
    ref.gamma.data[:] = ghost.gamma.data
    out = ghost.forward(x)
    dx = ghost.backward(dout)
    for k in range(3):
        part = slice(4 * k, 4 * k + 4)
        ref.zero_grad()
        assert np.allclose(out[part], ref.forward(x[part]), atol=1e-12)
        assert np.allclose(dx[part], ref.backward(dout[part]), atol=1e-12)
    # running statistics: one update per ghost batch, in order (ref saw the same three batches)
    assert np.allclose(ghost.running_mean, ref.running_mean) and np.allclose(ghost.running_var, ref.running_var)
    assert ghost.num_batches_tracked == 3
    # against centred differences (measured relative to the largest entry: an entry of dx
    # that is nearly 0 makes the elementwise relative error meaningless)
    fresh = bx.GhostBatchNorm1d(5, ghost_size=4)
    fresh.forward(x)
    analytic = fresh.backward(dout)
    numeric = cl.numerical_gradient(lambda: fresh.forward(x), x, dout)
    assert np.abs(analytic - numeric).max() < 1e-8 * np.abs(numeric).max()
    with pytest.raises(ValueError, match="multiple of ghost_size"):
        ghost.forward(x[:10])
    ghost.eval()
    assert np.allclose(ghost.forward(x[:3]), ghost.gamma.data * (x[:3] - ghost.running_mean)
                       / np.sqrt(ghost.running_var + ghost.eps) + ghost.beta.data)
    with pytest.raises(ValueError, match="ghost_size"):
        bx.GhostBatchNorm1d(5, ghost_size=1)


# ----------------------------------------------------------------- the stacked trainer

CASES = [  # norm, placement, lr, batch size, drop_last, ghost size, epochs
    ("batch", "before", 0.2, 64, False, None, 2),
    ("batch", "after", 0.5, 64, False, None, 2),
    ("none", "before", 0.2, 64, False, None, 2),
    ("layer", "before", 0.2, 64, False, None, 2),
    ("ghost", "before", 0.5, 64, True, 16, 2),
    ("batch", "before", 0.05, 8, True, None, 1),
    ("none", "before", 2.0, 64, False, None, 2),        # diverges on some seeds
]


@pytest.mark.parametrize("norm, placement, lr, batch_size, drop_last, ghost, epochs", CASES)
def test_train_stack_equals_the_course_modules_run_by_run(norm, placement, lr, batch_size,
                                                          drop_last, ghost, epochs):
    X, y, Xv, yv = _data()
    seeds = (0, 1, 2)
    nets = [bx.make_net(norm, placement=placement, ghost_size=ghost, rng=bx.streams(s)[0]) for s in seeds]
    before = [copy.deepcopy(n.state_dict()) for n in nets]
    res = bx.train_stack(nets, X, y, lr, [bx.streams(s)[1] for s in seeds], epochs=epochs,
                         batch_size=batch_size, drop_last=drop_last, val=(Xv, yv), keep_nets=True)
    for net, state in zip(nets, before):                           # the inputs stay untouched
        assert all(np.array_equal(a, state[k]) for k, a in net.state_dict().items())
    for m, s in enumerate(seeds):
        net = bx.make_net(norm, placement=placement, ghost_size=ghost, rng=bx.streams(s)[0])
        losses, stopped, acc, trained = bx.reference_run(net, X, y, lr, bx.streams(s)[1], epochs=epochs,
                                                         batch_size=batch_size, drop_last=drop_last,
                                                         val=(Xv, yv))
        assert bool(res.stopped[m]) == bool(stopped)
        mine = res.loss[m][np.isfinite(res.loss[m])]
        if losses is not None and np.isfinite(losses).all():
            assert len(mine) == len(losses)
            assert np.allclose(mine, losses, rtol=1e-9, atol=1e-12)
        if not stopped:
            assert res.val_acc[m] == pytest.approx(acc, abs=1e-12)
            for (k, a), (_, b) in zip(res.nets[m].state_dict().items(), trained.state_dict().items()):
                assert np.allclose(a, b, rtol=1e-8, atol=1e-10), k


def test_a_diverging_run_stops_where_cl_fit_stops():
    X, y, Xv, yv = _data()
    res = bx.train_stack([bx.make_net("none", 4.0, rng=0)], X, y, 1.0, [np.random.default_rng(1)],
                         epochs=1, val=(Xv, yv))
    losses, stopped, _, _ = bx.reference_run(bx.make_net("none", 4.0, rng=0), X, y, 1.0,
                                             np.random.default_rng(1), epochs=1, val=(Xv, yv))
    assert res.stopped[0] and stopped
    assert res.stop_step[0] == len(losses) - 1
    assert np.isnan(res.loss[0, res.stop_step[0] + 1:]).all()


def test_float32_stack_agrees_with_float64():
    X, y, Xv, yv = _data()
    nets = [bx.make_net(norm, rng=0) for norm in ("batch",)]
    r64 = bx.train_stack(nets, X, y, 0.2, [np.random.default_rng(1)], epochs=1, val=(Xv, yv))
    r32 = bx.train_stack(nets, X, y, 0.2, [np.random.default_rng(1)], epochs=1, val=(Xv, yv),
                         dtype=np.float32)
    assert np.allclose(r32.loss, r64.loss, rtol=1e-3)
    assert abs(r32.val_acc[0] - r64.val_acc[0]) <= 2 / len(yv)


def test_train_mode_accuracy_is_eval_accuracy_for_layernorm_only():
    X, y, Xv, yv = _data()
    res = {norm: bx.train_stack([bx.make_net(norm, rng=0)], X, y, 0.05, [np.random.default_rng(1)],
                                epochs=1, batch_size=8, drop_last=True, val=(Xv, yv),
                                train_mode_val_rng=np.random.default_rng(2))
           for norm in ("layer", "batch")}
    assert res["layer"].val_acc_train_mode[0] == res["layer"].val_acc[0]
    assert res["batch"].val_acc_train_mode[0] != res["batch"].val_acc[0]


def test_train_stack_rejects_mixed_networks():
    X, y, _, _ = _data()
    with pytest.raises(ValueError, match="same layers"):
        bx.train_stack([bx.make_net("batch", rng=0), bx.make_net("layer", rng=0)], X, y, 0.1,
                       [np.random.default_rng(0)] * 2)
    with pytest.raises(ValueError, match="one order generator"):
        bx.train_stack([bx.make_net("batch", rng=0)], X, y, 0.1, [])


def test_usable_lr():
    acc = np.array([[0.5, 0.91, 0.95, 0.6, 0.92, 0.1],
                    [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    assert bx.usable_lr(acc, (0.1, 0.2, 0.5, 1, 2, 5), 0.9).tolist() == [2.0, 0.0]


# ------------------------------------------------------------------- the studies, small

def test_studies_run_on_small_settings():
    grid = bx.lr_grid("batch", lrs=SMALL_LRS, scales=(1.0, 2.0), seeds=(0, 1), epochs=1)
    assert grid.val_acc.shape == (2, 2, 2) and grid.loss.shape == (2, 2, 2, 17)
    assert grid.at_scale(2.0)[0].shape == (2, 2) and grid.at_lr(0.2)[0].shape == (2, 2)
    assert bx.lr_grid("batch", lrs=SMALL_LRS, scales=(1.0, 2.0), seeds=(0, 1), epochs=1) is grid
    ghost = bx.ghost_study(ghost_sizes=(4, 16), batch_size=16, lr=0.2, epochs=1, seeds=(0,))
    assert set(ghost.val_acc) == {4, 16} and ghost.val_acc_epochs[4].shape == (1, 1)
    with pytest.raises(ValueError, match="does not divide"):
        bx.ghost_study(ghost_sizes=(5,), batch_size=16, epochs=1, seeds=(0,))
    small = bx.small_batch_study(batch_sizes=(8,), epochs=1, seeds=(0, 1))
    assert small.lr["batch", 8] in bx.SMALL_LRS[8]
    assert small.val_acc["layer", 8].shape == (2,) and len(small.nets["batch", 8]) == 2
    assert np.array_equal(small.gap("layer", 8), np.zeros(2))
    place = bx.placement_study(lr=0.2, seeds=(0,), epochs=1)
    assert set(place) == {"before", "after"}


def test_batch_dependence_is_zero_for_layernorm_and_restores_the_net():
    X, y, Xv, _ = _data()
    ln = bx.make_net("layer", rng=0)
    assert bx.batch_dependence(ln, Xv, examples=5, contexts=4, rng=0) == (0.0, 0.0)
    bn = bx.make_net("batch", rng=0)
    bn.eval()
    state = copy.deepcopy(bn.state_dict())
    changed, spread = bx.batch_dependence(bn, Xv, examples=5, contexts=4, rng=0)
    assert spread > 1e-3 and not bn.training
    assert all(np.array_equal(a, state[k]) for k, a in bn.state_dict().items())


# -------------------------------------------------------------------------- the widget

def test_explorer_slider_recomputes():
    w = bnw.bn_explorer(lr=0.1, init_scale=1.0, seeds=(0, 1), lrs=SMALL_LRS, scales=(1.0,))
    lr_slider = w.children[0]
    assert lr_slider.description.startswith("learning rate")
    assert bnw.precompute(seeds=(0, 1), lrs=SMALL_LRS, scales=(1.0,)) == 8
    fig0 = w.result
    title0 = fig0.axes[0].get_title()
    lines0 = [ln.get_ydata().copy() for ln in fig0.axes[0].lines]
    lr_slider.value = 0.2
    fig1 = w.result
    assert fig1.axes[0].get_title() != title0 and "0.2" in fig1.axes[0].get_title()
    lines1 = [ln.get_ydata() for ln in fig1.axes[0].lines]
    assert any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(lines0, lines1))
    # several moves back and forth: each recomputes (the update times are measured by make bench)
    for value in (0.1, 0.2, 0.1, 0.2, 0.1):
        lr_slider.value = value
        assert f"{value:g}" in w.result.axes[0].get_title()
        plt.close("all")
    # the net toggle redraws too: one net, one curve per seed
    w.children[2].value = "with BN"
    labelled = [ln for ln in w.result.axes[0].lines if ln.get_label().startswith("with")]
    assert len(labelled) == 1 and "val acc" in labelled[0].get_label()
    assert "course-main-widget" in w._dom_classes


def test_draw_marks_divergence():
    fig = bnw.draw(2.0, 4.0, seeds=(0,), lrs=(0.1, 2.0), scales=(4.0,))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("without BN: diverged on 1 of 1 seeds" in t for t in labels)
    assert fig.get_size_inches()[0] <= 8.4


# ------------------------------------------------------------ the staged backward pass

def _batch(seed=0, n=8, d=5):
    rng = np.random.default_rng(seed)
    x = 3.0 + 2.0 * rng.standard_normal((n, d))
    return x, rng.uniform(0.5, 1.5, d), rng.standard_normal(d), rng.standard_normal((n, d))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_staged_backward_equals_batchnorm1d(seed):
    x, gamma, beta, dout = _batch(seed)
    y, cache = bng.batchnorm_forward_staged(x, gamma, beta)
    assert set(cache) >= set(bng.NODES) - {"y"}
    bn = cl.BatchNorm1d(5)
    bn.gamma.data[:], bn.beta.data[:] = gamma, beta
    assert np.abs(bn.forward(x) - y).max() < 1e-12
    dx = bn.backward(dout)
    grads = bng.batchnorm_backward_staged(dout, cache)
    assert tuple(grads) == bng.GRAD_KEYS
    assert cl.rel_error(grads["x"], dx) < 1e-12
    assert cl.rel_error(grads["gamma"], bn.gamma.grad) < 1e-12
    assert cl.rel_error(grads["beta"], bn.beta.grad) < 1e-12
    compact = bng.batchnorm_backward_compact(dout, cache)
    assert all(cl.rel_error(a, b) < 1e-12 for a, b in zip(compact, (grads["x"], grads["gamma"], grads["beta"])))
    # every node's gradient against centred differences through the rest of the graph
    num = cl.numerical_gradient(lambda: bng.batchnorm_forward_staged(x, gamma, beta)[0], x, dout)
    assert cl.rel_error(grads["x"], num) < 1e-6


def test_staged_module_passes_gradcheck_and_matches_in_eval_mode():
    x, gamma, beta, _ = _batch(4)
    layer = bng.StagedBatchNorm1d(5)
    layer.gamma.data[:], layer.beta.data[:] = gamma, beta
    assert cl.gradcheck(layer, x).max_error < 1e-7
    layer.eval()
    assert cl.gradcheck(layer, x).max_error < 1e-7


def test_a_wrong_staged_backward_fails_gradcheck():
    # the detector: the graph's backward without the path through var must fail
    class Broken(bng.StagedBatchNorm1d):
        def backward(self, dout):
            c = self._staged
            g = bng.batchnorm_backward_staged(dout, c)
            dxc = g["x_hat"] * c["inv"]                       # the var path forgotten
            self.gamma.grad += g["gamma"]
            self.beta.grad += g["beta"]
            return dxc - dxc.mean(axis=0)
    x, *_ = _batch(4)
    assert cl.gradcheck(Broken(5), x).max_error > 1e-3


def test_time_backwards_reports_both_timings():
    t = bng.time_backwards(n=16, d=8, repeats=3, rounds=2, seed=0)
    assert t["staged"] > 0 and t["compact"] > 0 and t["ratio"] == pytest.approx(t["staged"] / t["compact"])
    assert t["max_abs_diff"] < 1e-12 and (t["n"], t["d"]) == (16, 8)


def test_draw_graph_shows_every_node():
    ax = bng.draw_graph()
    texts = " ".join(t.get_text() for t in ax.texts)
    for name in ("μ", "xc", "var", "std", "inv", "x̂", "γ, β"):
        assert name in texts
    assert ax.figure.get_size_inches()[0] <= 8.4
