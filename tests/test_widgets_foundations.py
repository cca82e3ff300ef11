"""Headless tests of the loss-surface / preprocessing explorer (notebooks/00_foundations)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.widgets import foundations as fw  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_make_data_is_seeded_and_scales_only_x2():
    X1, y1 = fw.make_data(scale=1.0, rng=0)
    X2, y2 = fw.make_data(scale=1.0, rng=0)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, y3 = fw.make_data(scale=10.0, rng=0)
    np.testing.assert_allclose(X3[:, 1], 10 * X1[:, 1])
    np.testing.assert_array_equal(X3[:, 0], X1[:, 0])
    np.testing.assert_array_equal(y3, y1)                  # a change of units, same target
    assert not np.array_equal(fw.make_data(rng=1)[0], X1)


def test_quadratic_matches_direct_mse_and_least_squares():
    X, y = fw.make_data()
    A, b, c, w_star, L_star = fw.quadratic(X, y)
    w = np.array([0.3, -0.2])
    assert abs((w @ A @ w - 2 * b @ w + c) - fw.mse(w, X, y)) < 1e-10
    np.testing.assert_allclose(w_star, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    assert abs(L_star - fw.mse(w_star, X, y)) < 1e-10


def test_condition_numbers_known_cases():
    X, y = fw.make_data()
    rho = np.corrcoef(X, rowvar=False)[0, 1]
    kappa = {how: fw.condition_number(fw.preprocess(X, y, how)[0]) for how in fw.PREPROCESSING}
    assert abs(kappa["standardized"] - (1 + rho) / (1 - rho)) < 1e-9
    assert abs(kappa["whitened"] - 1.0) < 1e-9
    assert kappa["raw"] > 100 * kappa["standardized"]
    # standardizing removes the units: the same condition number at every scale
    k = [fw.condition_number(fw.preprocess(*fw.make_data(scale=s), "standardized")[0]) for s in (0.01, 1, 100)]
    assert np.ptp(k) < 1e-9


def test_gd_path_matches_explicit_updates_and_detects_divergence():
    X, y = fw.make_data()
    path, losses = fw.gd_path(X, y, lr=5e-4, steps=3)
    w = np.zeros(2)
    for t in range(3):
        w = w - 5e-4 * 2 * X.T @ (X @ w - y) / len(X)
        np.testing.assert_allclose(path[t + 1], w, rtol=1e-10, atol=1e-14)
        assert abs(losses[t + 1] - fw.mse(w, X, y)) < 1e-9
    assert np.all(np.diff(losses) < 0)                      # stable lr: the loss decreases
    path, _ = fw.gd_path(X, y, lr=1e-2, steps=200)         # 10x above the raw stability limit
    assert len(path) < 201


def test_steps_to_converge_in_one_step_when_whitened():
    X, y = fw.preprocess(*fw.make_data(), "whitened")
    lam = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    assert fw.steps_to_converge(X, y, lr=0.5 / lam) == 1    # lr = 1/lambda(H): a Newton step
    Xr, yr = fw.make_data()
    assert fw.steps_to_converge(Xr, yr, lr=1e-2) is None    # diverges


def test_explore_is_deterministic_and_consistent():
    fw.explore.cache_clear()
    a = fw.explore(1.0, "standardized", 0.3, 50)
    fw.explore.cache_clear()
    b = fw.explore(1.0, "standardized", 0.3, 50)
    np.testing.assert_array_equal(a["path"], b["path"])
    np.testing.assert_array_equal(a["log_gap"], b["log_gap"])
    assert not a["diverged"]
    assert a["losses"][-1] - a["L_star"] < 1e-8
    assert set(a["gaps"]) == set(fw.PREPROCESSING)
    raw = fw.explore(1.0, "raw", 0.3, 50)
    assert raw["diverged"] and raw["lr_max"] < 0.01
    with pytest.raises(ValueError):
        fw.explore(1.0, "normalized", 0.3)


def test_view_draws_the_path_of_the_result():
    res = fw.explore(1.0, "standardized", 0.3, 100)
    view = fw.LossSurfaceView()
    fig = view.update(res)
    np.testing.assert_array_equal(np.c_[view.path.get_xdata(), view.path.get_ydata()], res["path"])
    assert len(fig.axes) == 2
    png = view.render(fw.explore(1.0, "raw", 0.3, 100))      # diverges: flagged in the legend
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "raw (diverged)" in [t.get_text() for t in view.legend2.get_texts()]


def test_builder_first_control_is_main_slider_and_redraws_fast():
    import ipywidgets

    widget = fw.loss_surface_explorer()
    controls = [c for c in widget.children if isinstance(c, ipywidgets.widgets.ValueWidget)]
    assert isinstance(controls[0], ipywidgets.FloatLogSlider)
    assert controls[0].description == "unit scale of x2"
    assert "course-main-widget" in widget._dom_classes
    png0, res0 = widget.result

    # warm the cache as the first display does, then time real slider moves (compute + PNG render)
    values = (10 ** 0.25, 10 ** -0.25, 10 ** 0.125, 10 ** -0.125, 10 ** 0.5)   # best of 5: shared CPUs
    for value in values:
        fw.explore(float(value), "raw", widget.kwargs["lr"], 100)
    for value in values:
        controls[0].value = value
        png, res = widget.result
    assert res["scale"] == pytest.approx(10 ** 0.5)
    assert png != png0 and res0["kappa"] != res["kappa"]   # new numbers and a new picture

    # an uncached setting computes and draws too
    controls[2].value = 10 ** -3.5
    assert widget.result[1]["lr"] == pytest.approx(10 ** -3.5)


def test_dropdown_changes_the_picture():
    widget = fw.loss_surface_explorer()
    png0, before = widget.result
    widget.children[1].value = "whitened"
    png1, after = widget.result
    assert after["preprocessing"] == "whitened" and before["preprocessing"] == "raw"
    assert after["kappa"] == pytest.approx(1.0) and before["kappa"] > 100
    assert png1 != png0


# ---------------------------------------------------------------------------------------------
# COURSE_SEED, the notebook's figures and its digits experiments
# ---------------------------------------------------------------------------------------------

def test_make_data_default_follows_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    np.testing.assert_array_equal(fw.make_data()[0], fw.make_data(rng=0)[0])
    a = fw.explore(1.0, "raw", 5e-4, 20)
    monkeypatch.setenv("COURSE_SEED", "1")
    np.testing.assert_array_equal(fw.make_data()[0], fw.make_data(rng=1000)[0])
    b = fw.explore(1.0, "raw", 5e-4, 20)             # the cache is keyed by the course seed too
    assert a["kappa"] != b["kappa"]


def test_scatter_versions_do_what_their_names_say():
    X, _ = fw.make_data(scale=0.3, rng=0)
    v = fw.scatter_versions(X)
    assert list(v) == list(fw.SCATTER_VERSIONS)
    cov = {k: np.cov(a, rowvar=False) for k, a in v.items()}
    assert np.abs(v["centred"].mean(axis=0)).max() < 1e-12
    np.testing.assert_allclose(v["standardized"].std(axis=0), 1.0)
    assert abs(cov["PCA (decorrelated)"][0, 1]) < 1e-9 and abs(cov["raw"][0, 1]) > 0.1
    np.testing.assert_allclose(cov["whitened"], np.eye(2), atol=1e-9)
    axes = fw.plot_scatter_versions(v)
    assert [ax.get_title().split("\n")[0] for ax in axes] == list(fw.SCATTER_VERSIONS)
    assert "ρ = 0.00" in axes[-1].get_title()


def test_static_figures_draw():
    axes = fw.plot_losses()
    assert len(axes) == 3 and axes[0].figure.get_size_inches()[0] <= 8.4
    versions = {how: fw.preprocess(*fw.make_data(rng=0), how) for how in fw.PREPROCESSING}
    lrs = {how: 0.5 / np.linalg.eigvalsh(X.T @ X / len(X))[-1] for how, (X, _) in versions.items()}
    ax = fw.plot_gaps(versions, lrs, {how: 1.0 for how in versions}, steps=20)
    assert len(ax.get_lines()) == 4
    # the floor: nothing is drawn below log10(1e-12)
    assert min(line.get_ydata().min() for line in ax.get_lines()) >= -12
    res = fw.explore(1.0, "raw", 5e-4, 50)
    ax = fw.plot_contours(res, inset=True, legend=None)
    assert ax.get_legend() is None and len(ax.child_axes) == 1
    assert "magnified" in ax.child_axes[0].get_xlabel()


def test_lr_selection_records_what_fit_does():
    runs = fw.lr_selection(lrs=(0.1, 0.01), seeds=(0, 1), epochs=2)
    assert runs is fw.lr_selection(lrs=(0.1, 0.01), seeds=(0, 1), epochs=2)     # cached
    assert runs.seeds == [0, 1]
    n_val = len(fw.centred_digits()[3])
    assert runs["val_acc"].shape == (2, 2) and runs["correct"].shape == (2, 2, n_val)
    assert runs["val_curve"].shape == (2, 2, 2)
    np.testing.assert_allclose(runs["correct"].mean(axis=2), runs["val_acc"])
    np.testing.assert_allclose(runs["val_curve"][:, :, -1], runs["val_acc"])   # the last epoch
    np.testing.assert_allclose(runs["first_loss"], np.log(10), atol=0.05)      # the ln K start
    assert np.all(runs["steps"] == 2 * int(np.ceil(len(fw.centred_digits()[1]) / 64)))
    # the same run through cl.fit by hand
    import course_lib as cl

    Xtr, ytr, Xva, yva = fw.centred_digits()[:4]
    model = fw.make_classifier(1)
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.01, momentum=0.9),
                  Xtr, ytr, epochs=2, batch_size=64, val=(Xva, yva), rng=np.random.default_rng([1, 2]),
                  progress=False)
    assert hist.val_acc[-1] == runs["val_acc"][1, 1]


def test_init_scale_runs_start_where_the_scale_says():
    runs = fw.init_scale_runs(scales=(0.01, 30.0), seeds=(0, 1), epochs=1)
    tl = runs["train_loss"]
    assert tl.shape[:2] == (2, 2) and runs["val_loss"].shape == (2, 2, 1)
    np.testing.assert_allclose(tl[:, 0, 0], np.log(10), atol=0.01)
    assert np.all(tl[:, 1, 0] > 5 * np.log(10))
    axes = fw.plot_init_scales(runs, scales=(0.01, 30.0), steps=10)
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["× 0.01 (loss ln K)", "× 30"]


def test_plot_lr_selection_shows_the_paired_differences():
    import course_lib as cl

    runs = fw.lr_selection(lrs=(0.1, 0.01), seeds=(0, 1), epochs=2)
    axes = fw.plot_lr_selection(runs, lrs=(0.1, 0.01), top=(0, 1))
    c = runs["correct"].astype(bool)
    expected = [100 * cl.experiments.mcnemar(c[i, 0], c[i, 1]).diff for i in range(2)]
    points = axes[1].lines[0].get_ydata()
    np.testing.assert_allclose(points, expected)
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["lr = 0.1", "lr = 0.01"]


def test_mcnemar_counts_only_the_discordant_examples():
    import math

    import course_lib as cl

    a = np.array([1] * 80 + [1] * 12 + [0] * 3 + [0] * 5, dtype=bool)
    b = np.array([1] * 80 + [0] * 12 + [1] * 3 + [0] * 5, dtype=bool)
    t = cl.experiments.mcnemar(a, b)
    assert (t.only_a, t.only_b, t.n) == (12, 3, 100)
    assert t.diff == pytest.approx(0.09)
    d = a.astype(float) - b
    assert t.se == pytest.approx(d.std(ddof=1) / 10)
    expected_p = 2 * sum(math.comb(15, k) for k in range(4)) / 2 ** 15      # P(X <= 3) twice
    assert t.p == pytest.approx(expected_p) and 0.03 < t.p < 0.04
    # symmetric, and the agreeing examples do not matter
    assert cl.experiments.mcnemar(b, a).p == t.p and cl.experiments.mcnemar(b, a).diff == -t.diff
    a2, b2 = np.r_[a, np.ones(500, bool)], np.r_[b, np.ones(500, bool)]
    assert cl.experiments.mcnemar(a2, b2).p == t.p
    assert cl.experiments.mcnemar(a, a).p == 1.0
    # a huge number of discordant pairs: no overflow
    big = cl.experiments.mcnemar(np.r_[np.ones(3000, bool), np.zeros(2000, bool)],
                                 np.r_[np.zeros(3000, bool), np.ones(2000, bool)])
    assert 0 <= big.p < 1e-40
    assert "McNemar p" in t.summary(("A", "B"))
    with pytest.raises(ValueError, match="same length"):
        cl.experiments.mcnemar(a, b[:-1])


def test_bootstrap_se_matches_the_binomial_formula():
    import course_lib as cl

    v = (np.random.default_rng(0).random(400) < 0.9).astype(float)
    se = cl.experiments.bootstrap_se(v, n_boot=4000, rng=np.random.default_rng(1))
    p = v.mean()
    assert se == pytest.approx(np.sqrt(p * (1 - p) / 400), rel=0.08)
    assert se == cl.experiments.bootstrap_se(v, n_boot=4000, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="1-D"):
        cl.experiments.bootstrap_se(np.zeros((3, 3)))
