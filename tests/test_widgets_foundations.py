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
