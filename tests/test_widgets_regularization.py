"""Headless tests of course_lib/widgets/regularization.py (notebook 07_regularization)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import regularization as rw  # noqa: E402


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
    a, b = rw.capacity_sweep(deg), rw.capacity_sweep(deg)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.all(np.diff(a[0]) <= 1e-12)
    bv1 = rw.bias_variance(deg, n_sets=60)
    bv2 = rw.bias_variance(deg, n_sets=60)
    assert all(np.array_equal(bv1[k], bv2[k]) for k in bv1)
    total = bv1["bias2"] + bv1["variance"] + rw.CURVE_NOISE ** 2
    assert np.all(np.abs(bv1["error"] - total) < 0.06 * bv1["error"])


# ---------------------------------------------------------------- 2. the bench

def test_settings_map_the_strength_grid():
    s = rw.STRENGTHS
    assert len(s) == 7 and np.isclose(s[0], 1e-4) and np.isclose(s[-1], 0.1)
    assert [rw.snap(v) for v in s] == list(range(7)) and rw.snap(0.011) == 4 and rw.snap(1.0) == 6
    label, reg, c, p = rw.settings("L2", 1e-2)
    assert isinstance(reg, cl.L2) and np.isclose(reg.lam, 1e-2) and c is None and p == 0
    assert np.isclose(rw.settings("L1", 1e-2)[1].lam, 1e-3)
    en = rw.settings("elastic net", 1e-2)[1]
    assert isinstance(en, cl.ElasticNet) and np.isclose(en.parts[0].lam, 5e-4) and np.isclose(en.parts[1].lam, 5e-3)
    assert [round(rw.settings("max-norm", v)[2], 3) for v in (s[0], s[2], s[4], s[6])] == [4.0, 2.0, 1.0, 0.5]
    assert [rw.settings("dropout", v)[3] for v in s] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert rw.settings("none", 0.1)[1:] == (None, None, 0.0)
    with pytest.raises(ValueError, match="method"):
        rw.settings("L3", 1e-2)


def test_bench_data_noise_rate():
    X, y = rw.bench_data()
    clean = rw.digits().y_train[:rw.N_TRAIN]
    changed = np.mean(y != clean)
    assert X.shape == (300, 64) and 0.12 < changed < 0.24     # 20% replaced, 1 in 10 by the same class


def test_train_bench_is_deterministic_and_respects_max_norm():
    r1 = rw.train_bench(max_norm=1.0, epochs=3, seed=5)
    r2 = rw.train_bench(max_norm=1.0, epochs=3, seed=5)
    assert np.array_equal(r1.val_loss, r2.val_loss) and np.array_equal(r1.W1, r2.W1)
    assert r1.max_col_norm <= 1.0 + 1e-9
    assert np.all(np.linalg.norm(r1.W1, axis=0) <= 1.0 + 1e-9)
    assert r1.counts.sum() == r1.W1.size and r1.snapshots.shape == (3, len(rw.digits().y_val), 10)
    assert np.allclose(r1.val_probs.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        r1.W1[0, 0] = 1.0                                # cached results are read-only
    r3 = rw.train_bench(max_norm=1.0, epochs=3, seed=6)
    assert not np.array_equal(r1.W1, r3.W1)


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
    st2, loss2, norm2, *_ = rw.logit_growth.__wrapped__(0.0, steps=60)
    assert np.array_equal(norm, norm2) and st[0] == 1 and st[-1] == 60
    assert loss[-1] < loss[0] and np.isclose(loss[0], np.log(10))      # zero init: loss ln K
    smooth = rw.logit_growth(0.1, steps=60)
    assert smooth[1][-1] > loss[-1]


def test_max_norm_run_short():
    r = rw.max_norm_run(1.5, lr=0.1, seed=0, epochs=2)
    assert r.max_col_norm.max() <= 1.5 + 1e-9 and np.all(r.col_norms <= 1.5 + 1e-9)
    assert r.val_acc.shape == (2,) and r.val_acc[-1] > 0.5 and 0.0 <= r.dead < 1.0


def test_average_variance_matches_theory():
    ns = [1, 4, 16]
    v = rw.average_variance(ns, sigma=2.0, rho=0.0, trials=20000, rng=1)
    assert np.allclose(v, 4.0 / np.array(ns), rtol=0.05)
    v = rw.average_variance(ns, sigma=1.0, rho=0.3, trials=20000, rng=1)
    assert np.allclose(v, 0.3 + 0.7 / np.array(ns), rtol=0.05)
    assert np.array_equal(v, rw.average_variance(ns, sigma=1.0, rho=0.3, trials=20000, rng=1))


# ---------------------------------------------------------------- the widget

def test_draw_three_panels():
    fig = rw.draw(1e-2, "max-norm")
    axes = fig.get_axes()
    assert len(axes) == 3 and "max-norm, c = 1" in fig._suptitle.get_text()


def test_widget_first_control_is_the_strength_slider_and_moves_are_fast():
    import ipywidgets as W

    values = [10 ** -2.5, 1e-2, 10 ** -1.5, 1e-1, 10 ** -2]
    rw.train_run("none")
    for v in values:                      # warm the runs the moves visit, as precompute() does
        rw.train_run("L1", v)
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
