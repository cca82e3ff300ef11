"""Headless tests of course_lib/widgets/regularization.py and regularization_experiments.py
(notebook 07_regularization), including the bench's stacked runs (``rw.train_stacked``, built on
_stacked.py, which tests/test_stacked.py tests on its own)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import regularization as rw  # noqa: E402
from course_lib.widgets import regularization_experiments as rx  # noqa: E402
from course_lib.widgets.regularization import train_stacked  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with rw.one_blas_thread():
        yield


# ---------------------------------------------------------------- 1. polynomials

def test_fit_poly_recovers_an_exact_polynomial():
    c_true = np.array([0.5, -1.0, 2.0, 0.25])
    x = np.linspace(-1, 1, 30)
    c = rw.fit_poly(x, rw.predict_poly(c_true, x), 3)
    assert np.allclose(c, c_true, atol=1e-12)
    # a higher degree on the same noise-free data finds the same polynomial (zero extra terms)
    assert np.allclose(rw.fit_poly(x, rw.predict_poly(c_true, x), 6)[4:], 0, atol=1e-10)


@pytest.mark.parametrize("penalize_intercept", [False, True])
def test_ridge_matches_the_normal_equations(penalize_intercept):
    x, y = rw.curve_data(25, rng=3)
    lam, d = 0.05, 7
    phi = rw.poly_features(x, d)
    D = np.eye(d + 1)
    if not penalize_intercept:
        D[0, 0] = 0.0
    # gradient of mean((phi c - y)^2) + lam/2 |D c|^2 is zero: (2/n) phi^T (phi c - y) + lam D c = 0
    c_ref = np.linalg.solve(2 / len(x) * phi.T @ phi + lam * D, 2 / len(x) * phi.T @ y)
    assert np.allclose(rw.fit_poly(x, y, d, lam, penalize_intercept), c_ref, atol=1e-10)


def test_capacity_sweep_and_bias_variance_are_deterministic_and_consistent():
    deg = np.arange(0, 12, 2)
    a, b = rw.capacity_sweep(deg, seed=4), rw.capacity_sweep(deg, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], rw.capacity_sweep(deg, seed=5)[1])     # another draw, other noise
    assert np.all(np.diff(a[0]) <= 1e-12)
    bv1 = rw.bias_variance(deg, n_sets=60, seed=2)
    bv2 = rw.bias_variance(deg, n_sets=60, seed=2)
    assert all(np.array_equal(bv1[k], bv2[k]) for k in bv1)
    total = bv1["bias2"] + bv1["variance"] + rw.CURVE_NOISE ** 2
    assert np.all(np.abs(bv1["error"] - total) < 0.06 * bv1["error"])


def test_bias_variance_batched_solve_equals_one_fit_per_set():
    # the batched least squares (all training sets as right-hand sides) against fit_poly one by one
    g = np.random.default_rng((3, 12))
    x = np.linspace(-1, 1, 20)
    Y = rw.true_function(x)[:, None] + rw.CURVE_NOISE * g.standard_normal((20, 5))
    xg = np.linspace(-1, 1, 101)
    preds = np.array([rw.predict_poly(rw.fit_poly(x, Y[:, s], 4), xg) for s in range(5)])
    bv = rw.bias_variance([4], n_sets=5, seed=3)
    assert np.isclose(bv["bias2"][0], np.mean((preds.mean(0) - rw.true_function(xg)) ** 2), rtol=1e-10)
    assert np.isclose(bv["variance"][0], np.mean((preds - preds.mean(0)) ** 2), rtol=1e-10)


def test_ridge_sweep_and_double_descent():
    lams = [1e-6, 1e-2, 1.0]
    tr, va = rw.ridge_sweep(lams, seed=1)
    assert tr.shape == va.shape == (3,) and np.all(np.diff(tr) >= -1e-12)
    degrees, dtr, dva = rx.double_descent([3, 19, 60], n_draws=2)
    assert dtr.shape == (2, 3) and np.all(dtr[:, 1:] < 1e-12)              # exact fits from degree 19 on
    assert np.all(dva[:, 1] > 10 * dva[:, 0]) and np.all(dva[:, 2] < dva[:, 1] / 10)   # peak, then descent


def test_seeds_follow_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    w0 = rw.make_mlp()[0].W.data.copy()
    x0 = rw.curve_train()[1]
    monkeypatch.setenv("COURSE_SEED", "3")
    assert not np.array_equal(rw.make_mlp()[0].W.data, w0)
    assert not np.array_equal(rw.curve_train()[1], x0)
    assert rw.grid_seeds() == [3000, 3001, 3002]
    assert np.array_equal(rw.make_mlp(seed=5)[0].W.data, rw.make_mlp(seed=5)[0].W.data)


# ---------------------------------------------------------------- 2. the bench

def test_spec_maps_the_strength_grid():
    s = rw.STRENGTHS
    assert len(s) == 7 and np.isclose(s[0], 1e-4) and np.isclose(s[-1], 0.1)
    assert [rw.snap(v) for v in s] == list(range(7)) and rw.snap(0.011) == 4 and rw.snap(1.0) == 6
    l2 = rw.spec("L2", 1e-2)
    assert np.isclose(l2.l2, 1e-2) and l2.l1 == 0 and np.isinf(l2.c) and l2.p == 0 and l2.k == 4
    assert np.isclose(rw.spec("L1", 1e-2).l1, 1e-2 / np.sqrt(10))
    en = rw.spec("elastic net", 1e-2)
    assert np.isclose(en.l1, 5e-4) and np.isclose(en.l2, 5e-3)
    assert [round(rw.spec("max-norm", v).c, 3) for v in (s[0], s[2], s[4], s[6])] == [4.0, 2.0, 1.0, 0.5]
    assert [rw.spec("dropout", v).p for v in s] == list(rw.DROPOUT_P)
    assert rw.spec("none", 0.1) == rw.spec("none", 1e-4)
    label, reg, c, p = rw.settings("elastic net", 1e-2)
    assert isinstance(reg, cl.ElasticNet) and np.isclose(reg.parts[0].lam, 5e-4) and c is None and p == 0
    assert rw.settings("max-norm", 1e-2)[2] == pytest.approx(1.0) and rw.settings("L2", 1e-2)[1].lam == 1e-2
    assert rw.smoothing_spec(0.1).alpha == 0.1 and rw.smoothing_spec(0.0) == rw.spec("none")
    assert rw.strength_labels("max-norm")[0] == "4" and rw.strength_labels("dropout")[-1] == "0.95"
    with pytest.raises(ValueError, match="method"):
        rw.spec("L3", 1e-2)


def test_bench_data_noise_rate_and_centred_sets():
    X, y = rw.bench_data()
    clean = rw.digits().y_train[:rw.N_TRAIN]
    changed = np.mean(y != clean)
    assert X.shape == (300, 64) and 0.12 < changed < 0.26     # 20% replaced, 1 in 10 by the same class
    assert X.min() >= 0                                          # raw pixels: the solutions notebook uses them
    Xc, yc, (Xv, yv), (Xt, yt) = rw.bench_sets()
    assert np.allclose(Xc.mean(axis=0), 0, atol=1e-12) and np.array_equal(yc, y)
    assert np.allclose(Xv, rw.digits().X_val - X.mean(axis=0))   # validation centred with the TRAINING mean


@pytest.mark.parametrize("pattern, expected", [
    ([5, 4, 3, 2, 1, 0.5, 0.4], (6, 7)),           # always improving: never stops
    ([1, 2, 3, 4, 5, 6, 7], (0, 6)),               # best first, stops after patience (5) bad epochs
    ([3, 1, 2, 1, 2, 2, 2, 2, 0], (1, 7)),         # an equal loss is no improvement (strict <)
])
def test_early_stop_epochs_matches_cl_early_stopping(pattern, expected):
    assert rw.early_stop_epochs(pattern) == expected
    stopper = cl.EarlyStopping(patience=5, restore_best=False)
    ran = len(pattern)
    for epoch, v in enumerate(pattern):
        if stopper.update(None, epoch, v):
            ran = epoch + 1
            break
    assert (stopper.best_epoch, ran) == expected


def _reference_and_stacked(sp, seed=5, epochs=6):
    label, reg, c, p = rw._fit_settings(sp)
    ref = rw.train_bench(p=p, regularizer=reg, max_norm=c, seed=seed, epochs=epochs, label=label,
                         label_smoothing=sp.alpha, lr=sp.lr)
    X, y, val, test = rw.bench_sets()
    res = train_stacked([rw.make_mlp(p=p, seed=seed)], X, y, epochs=epochs, batch_size=rw.BATCH_SIZE,
                        lr=sp.lr, momentum=rw.MOMENTUM, orders=[rw.run_rngs(seed)[2]], val=val, test=test,
                        l1=sp.l1, l2=sp.l2, max_norm=sp.c, label_smoothing=sp.alpha, patience=2)
    return ref, res


@pytest.mark.parametrize("sp", [rw.spec("none"), rw.spec("dropout", 1e-3), rw.spec("elastic net", 1e-2),
                                rw.spec("max-norm", 1e-2), rw.smoothing_spec(0.1),
                                rw.Spec("none", 0, "lr 0.1", lr=0.1)], ids=lambda s: s.label)
def test_stacked_float64_equals_cl_fit(sp):
    ref, res = _reference_and_stacked(sp)
    assert np.allclose(res.val_loss[0], ref.val_loss, rtol=0, atol=1e-10)
    assert np.allclose(res.train_loss[0], ref.train_loss, rtol=0, atol=1e-10)
    assert np.array_equal(res.val_acc[0], ref.val_acc) and np.array_equal(res.train_acc[0], ref.train_acc)
    assert np.allclose(res.weights[0][0], ref.W1, rtol=0, atol=1e-10)
    assert np.allclose(res.snapshots[0], ref.snapshots, atol=1e-6)     # Run keeps them in float32
    assert np.isclose(res.test["final_acc"][0], ref.test_acc) and np.isclose(res.test["final_loss"][0], ref.test_loss)
    assert np.isclose(res.max_col_norm[0, -1], ref.max_col_norm)


def test_stacked_runs_are_independent_of_their_neighbours_and_seeded():
    X, y, val, _ = rw.bench_sets()
    kw = dict(epochs=3, batch_size=32, lr=0.05, momentum=0.9, val=val, dtype=np.float32, train_curves=False)
    alone = train_stacked([rw.make_mlp(p=0.5, seed=1)], X, y, orders=[rw.run_rngs(1)[2]], **kw)
    nets = [rw.make_mlp(p=0.5, seed=s) for s in (0, 1, 2)]
    many = train_stacked(nets, X, y, orders=[rw.run_rngs(s)[2] for s in (0, 1, 2)], l2=[0.1, 0.0, 0.0],
                         max_norm=[1.0, None, np.inf], **kw)
    assert np.array_equal(many.weights[0][1], alone.weights[0][0])       # the same run, bit for bit
    assert not np.allclose(many.weights[0][0], many.weights[0][1])
    assert alone.train_loss is None and alone.test == {}
    assert np.all(np.linalg.norm(many.weights[0][0], axis=0) <= 1.0 + 1e-5)   # max-norm of model 0 only
    assert np.linalg.norm(many.weights[0][1], axis=0).max() > 1.0


def test_stacked_early_stopping_bookkeeping_restores_the_best_weights():
    X, y, val, _ = rw.bench_sets()
    res = train_stacked([rw.make_mlp(seed=2)], X, y, epochs=12, batch_size=32, lr=0.2, momentum=0.9,
                        orders=[rw.run_rngs(2)[2]], val=val, patience=2, train_curves=False)
    best, ran = rw.early_stop_epochs(res.val_loss[0], patience=2)
    assert (res.best_epoch[0], res.stop_epoch[0]) == (best, ran)
    # the restored weights give back the validation loss recorded at the best epoch
    model = rw.make_mlp(seed=2)
    for layer, W, b in zip([m for m in model.layers if isinstance(m, cl.Linear)], res.best_weights,
                           res.best_biases):
        layer.W.data[...], layer.b.data[...] = W[0], b[0]
    loss, _ = cl.evaluate(model, cl.SoftmaxCrossEntropy(), *val)
    assert np.isclose(loss, res.val_loss[0, best], rtol=1e-12)


def test_stacked_rejects_mixed_shapes_and_missing_generators():
    X, y, val, _ = rw.bench_sets()
    with pytest.raises(ValueError, match="same layer shapes"):
        train_stacked([rw.make_mlp((8,)), rw.make_mlp((16,))], X, y, epochs=1, batch_size=32, lr=0.1,
                      momentum=0.9, orders=[np.random.default_rng(0)] * 2, val=val)
    with pytest.raises(ValueError, match="one shuffling generator"):
        train_stacked([rw.make_mlp((8,))], X, y, epochs=1, batch_size=32, lr=0.1, momentum=0.9,
                      orders=[], val=val)
    with pytest.raises(TypeError, match="PReLU"):                # a layer without a stacked counterpart
        train_stacked([cl.Sequential(cl.Linear(64, 8), cl.PReLU(8), cl.Linear(8, 10))], X, y, epochs=1,
                      batch_size=32, lr=0.1, momentum=0.9, orders=[np.random.default_rng(0)], val=val)


def test_float32_bench_runs_agree_with_float64_reference():
    ref = rw.train_bench(seed=7, epochs=8)
    run = rw.bench_runs([rw.spec("none")], [7], epochs=8)[0][0]
    assert np.allclose(run.val_loss, ref.val_loss, atol=1e-4) and run.best_epoch == ref.best_epoch
    assert abs(run.es_test_acc - ref.es_test_acc) < 0.01
    with pytest.raises(ValueError):
        run.W1[0, 0] = 1.0                                # cached results are read-only


def test_bench_runs_cache_and_curves_flag():
    sp = rw.Spec("none", 0, "cache test", lr=0.07)
    a = rw.bench_runs([sp], [11], epochs=3, train_curves=False)[0][0]
    assert a.train_loss is None and a.final_train_acc > 0
    assert rw.bench_runs([sp], [11], epochs=3, train_curves=False)[0][0] is a      # cached
    b = rw.bench_runs([sp], [11], epochs=3)[0][0]                                 # now with curves
    assert b.train_loss.shape == (3,) and np.isclose(b.train_loss[-1], a.final_train_loss, atol=1e-6)
    assert np.allclose(b.val_loss, a.val_loss)


def test_l1_gives_sparser_first_layer_than_l2_on_a_short_run():
    l1 = rw.train_bench(regularizer=cl.L1(0.01), epochs=8)
    l2 = rw.train_bench(regularizer=cl.L2(0.01), epochs=8)
    assert np.mean(np.abs(l1.W1) < 1e-3) > 5 * np.mean(np.abs(l2.W1) < 1e-3)


def test_pixel_weight_norms():
    W = np.zeros((64, 3))
    W[10] = [3.0, 4.0, 0.0]
    img = rw.pixel_weight_norms(W)
    assert img.shape == (8, 8) and img[1, 2] == 5.0 and img.sum() == 5.0


# ---------------------------------------------------------------- 3. experiments

def test_shift_digits_known_case():
    X = np.arange(64, dtype=float).reshape(1, 64)
    right = rw.shift_digits(X, 1, 0).reshape(8, 8)
    assert np.array_equal(right[:, 1:], X.reshape(8, 8)[:, :-1]) and np.all(right[:, 0] == 0)
    down = rw.shift_digits(X, 0, 1).reshape(8, 8)
    assert np.array_equal(down[1:], X.reshape(8, 8)[:-1]) and np.all(down[0] == 0)
    assert np.array_equal(rw.shift_digits(X, 0, 0), X)


def test_augment_is_seeded_and_identity_without_changes():
    X = rw.digits().X_train[:20]
    assert np.array_equal(rw.augment(X, 0), X)
    a, b = rw.augment(X, 1, shift_prob=1.0, noise=0.1), rw.augment(X, 1, shift_prob=1.0, noise=0.1)
    assert np.array_equal(a, b) and not np.array_equal(a, rw.augment(X, 2, shift_prob=1.0, noise=0.1))
    moved = rw.augment(X, 3, shift_prob=1.0)
    assert not np.any(np.all(moved == X, axis=1))       # every image was moved
    i = rw.border_digit("right")
    assert rw.digits().X_train[i].reshape(8, 8)[:, 7].sum() > 0


def test_smoothing_floor_known_numbers():
    ent, gap = rw.smoothing_floor(0.1, 10)
    t = np.full(10, 0.01)
    t[0] = 0.91
    assert np.isclose(ent, -np.sum(t * np.log(t))) and np.isclose(gap, np.log(91.0))
    z = np.zeros((1, 10))
    z[0, 0] = gap
    assert np.isclose(cl.SoftmaxCrossEntropy(label_smoothing=0.1).forward(z, np.array([0])), ent)
    assert rw.smoothing_floor(0.0) == (0.0, np.inf)


def test_logit_growth_short_run():
    st, loss, norm, margin, acc = rw.logit_growth(0.0, steps=60)
    st2, loss2, norm2, *_ = rw._logit_growth.__wrapped__(cl.course_seed(), 0.0, 60, 0.05, 200)
    assert np.array_equal(norm, norm2) and st[0] == 1 and st[-1] == 60
    assert loss[-1] < loss[0] and np.isclose(loss[0], np.log(10))      # zero init: loss ln K
    smooth = rw.logit_growth(0.1, steps=60)
    assert smooth[1][-1] > loss[-1]


def test_max_norm_sweep_short():
    sw = rx.max_norm_sweep(lrs=(0.1, 8.0), c=1.5, n_seeds=1, epochs=2, wild_lr=None)
    assert sw.acc.shape == (2, 2, 1) and sw.col_norm.shape == (2, 2, 1, 2) and sw.wild == {}
    assert np.all(sw.col_norm[1] <= 1.5 + 1e-5)                    # the constrained runs stay in the ball
    assert sw.acc[0, 0, 0] > 0.8 and sw.dead[0, 1, 0] > sw.dead[0, 0, 0]   # lr 8 kills units, lr 0.1 learns


def test_average_variance_matches_theory():
    ns = [1, 4, 16]
    v = rw.average_variance(ns, sigma=2.0, rho=0.0, trials=20000, rng=1)
    assert np.allclose(v, 4.0 / np.array(ns), rtol=0.05)
    v = rw.average_variance(ns, sigma=1.0, rho=0.3, trials=20000, rng=1)
    assert np.allclose(v, 0.3 + 0.7 / np.array(ns), rtol=0.05)
    assert np.array_equal(v, rw.average_variance(ns, sigma=1.0, rho=0.3, trials=20000, rng=1))


def test_smoothing_study_uses_the_library_ece():
    sm = rx.smoothing_study(alphas=(0.0, 0.2), n_seeds=1)
    yv = rw.bench_sets()[2][1]
    assert sm.acc.shape == (2, 1)
    for i in range(2):
        assert np.isclose(sm.ece[i, 0], cl.diagnostics.expected_calibration_error(sm.probs[i][0], yv))
        assert np.isclose(sm.confidence[i, 0], sm.probs[i][0].max(axis=1).mean())
    assert sm.confidence[1, 0] < sm.confidence[0, 0]        # smoothing lowers the confidence


def test_ensemble_study_blocks_and_curve():
    study = rx.ensemble_study({"plain": rw.spec("none"), "es": "early-stopped"}, n_members=2, n_blocks=2,
                              subsets=5)
    assert study.single["plain"].shape == (2, 2) and study.ens_acc["es"].shape == (2,)
    runs = rw.bench_runs([rw.spec("none")], cl.seeds(4), train_curves=False)[0]
    yv = rw.bench_sets()[2][1]
    P = np.mean([np.asarray(r.val_probs, dtype=float) for r in runs[:2]], axis=0)
    assert np.isclose(study.ens_acc["plain"][0], np.mean(P.argmax(1) == yv))
    assert np.isclose(study.single["es"][1, 0], runs[2].es_val_acc)
    n, mean, lo, hi = study.curve["plain"]
    assert list(n) == [1, 2, 3, 4] and lo[-1] == hi[-1] and np.all(lo <= mean) and np.all(mean <= hi)
    assert np.allclose(study.gain_mean("plain"), study.ens_acc["plain"] - study.single["plain"].mean(axis=1))
    with pytest.raises(ValueError, match="early-stopped"):
        rx.ensemble_study({"x": "late"}, n_members=1, n_blocks=1)


def test_shrink_study_small_configs():
    out = rx.shrink_study(configs=(("tiny", (4,), 0.0), ("tiny, dropout", (4,), 0.3)), n_seeds=2)
    assert out["tiny"]["params"] == 64 * 4 + 4 + 4 * 10 + 10 and out["tiny"]["final"].shape == (2,)
    assert np.all(out["tiny"]["es"] >= 0) and np.all(out["tiny"]["train_loss"] > 0)


def test_lr_check_shares_the_bench_run():
    lrs, es_val, es_test = rx.lr_check(lrs=(0.05,), n_seeds=1)
    run = rw.bench_runs([rw.spec("none")], cl.seeds(1), train_curves=False)[0][0]
    assert es_val[0, 0] == run.es_val_acc and es_test[0, 0] == run.es_test_acc


# ---------------------------------------------------------------- the widget (trains one grid)

def test_draw_four_panels():
    fig = rw.draw(1e-2, "max-norm")
    axes = fig.get_axes()
    assert len(axes) == 4 and "max-norm, c = 1" in fig._suptitle.get_text()
    assert fig.get_figwidth() <= 8.4


def test_comparison_and_tuned_spec_on_one_seed():
    comp = rx.comparison(n_seeds=1, long_epochs=62)
    for m in rw.METHODS[1:]:
        k = comp.choice[m]
        rows = rw.method_runs(m, cl.seeds(1))
        assert k == int(np.argmax([row[0].val_acc[-1] for row in rows]))
        assert rx.tuned_spec(m, cl.seeds(1)) == rw.spec(m, rw.STRENGTHS[k])
        assert comp.test[m][0] == rows[k][0].test_acc and comp.long_test[m].shape == (1,)
    assert comp.ref["es_test"][0] == rw.train_run("none").es_test_acc


def test_widget_first_control_is_the_strength_slider_and_moves_recompute():
    import ipywidgets as W

    values = [10 ** -2.5, 1e-2, 10 ** -1.5, 1e-1, 10 ** -2]
    rw.precompute()
    w = rw.regularization_explorer(strength=1e-2, method="L1")
    assert "course-main-widget" in w._dom_classes
    first = w.children[0]
    assert isinstance(first, W.FloatLogSlider) and first.description == "strength"
    assert isinstance(w.children[1], W.Dropdown) and tuple(w.children[1].options) == rw.METHODS
    before = w.result
    for v in values:
        first.value = v
        assert w.result.label != before.label and not np.array_equal(w.result.counts, before.counts)
        before = w.result
    w.children[1].value = "none"
    assert w.result.label == "no regularization"
