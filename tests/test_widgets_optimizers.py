"""Headless tests of the optimizer race (course_lib/widgets/optimizers.py, notebook 06)."""
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import optimizers as race  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", list(race.SURFACES))
def test_gradients_match_finite_differences(name):
    s = race.SURFACES[name]
    w = np.array([0.3, -0.7])
    h = 1e-6
    numeric = [(s.f(*(w + h * e)) - s.f(*(w - h * e))) / (2 * h) for e in np.eye(2)]
    assert np.allclose(s.grad(w), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(race.SURFACES))
def test_minima_are_stationary_points(name):
    s = race.SURFACES[name]
    for m in s.minima:
        assert np.allclose(s.grad(np.array(m)), 0.0, atol=1e-12)


def test_race_is_deterministic_and_fresh_runs_agree():
    a = race.race_paths("rosenbrock", lr=0.03, beta=0.8, beta2=0.99, steps=60)
    race._race.cache_clear()
    b = race.race_paths("rosenbrock", lr=0.03, beta=0.8, beta2=0.99, steps=60)
    assert list(a) == list(race.OPTIMIZERS)
    for name in a:
        assert a[name].shape == (61, 2)
        assert np.array_equal(a[name], b[name])


def test_paths_are_read_only():
    paths = race.race_paths("ravine", lr=0.05)
    with pytest.raises(ValueError):
        paths["SGD"][0, 0] = 1.0


def test_sgd_on_the_ravine_matches_the_closed_form():
    # plain GD on 0.1 x^2 + 10 y^2: each coordinate is multiplied by (1 - lr * curvature) per step
    lr, steps = 0.05, 40
    path = race.race_paths("ravine", lr=lr, steps=steps)["SGD"]
    x0, y0 = race.SURFACES["ravine"].start
    t = np.arange(steps + 1)
    expected = np.c_[x0 * (1 - lr * 0.2) ** t, y0 * (1 - lr * 20.0) ** t]
    assert np.allclose(path, expected, rtol=1e-12, atol=1e-15)


def test_optimizer_path_uses_course_lib_optimizers():
    s = race.SURFACES["saddle"]
    path = race.optimizer_path(s.grad, s.start, lambda ps: cl.Adam(ps, lr=0.1), steps=1)
    # Adam's first step is lr * sign(g) (bias-corrected m_hat / sqrt(v_hat) = g / |g|)
    g = s.grad(np.array(s.start))
    assert np.allclose(path[1], np.array(s.start) - 0.1 * np.sign(g), atol=1e-8)


def test_divergence_stops_the_path():
    paths = race.race_paths("ravine", lr=0.2, steps=150)   # 0.2 * 20 = 4 > 2: SGD diverges
    assert race.diverged(paths["SGD"], 150)
    assert np.all(np.isfinite(paths["SGD"]))
    assert not race.diverged(paths["Adam"], 150)


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="unknown surface"):
        race.race_paths("moon")
    with pytest.raises(ValueError, match="unknown optimizer"):
        race.make_optimizer("Lion", [cl.Parameter(np.zeros(2))], 0.1)


def test_draw_paths_labels_final_losses():
    paths = race.race_paths("saddle", lr=0.05)
    ax = race.draw_paths("saddle", paths, steps=150)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("Adam: f = ") for label in labels)
    assert "start" in labels and "minimum" in labels


def test_widget_first_control_is_the_lr_slider_and_moves_recompute_fast():
    import ipywidgets as W

    for surface in race.SURFACES:        # warm up as the notebook does (contour grids, imports)
        race.race_figure(surface=surface)
        plt.close("all")
    w = race.optimizer_race()
    first = w.children[0]
    assert isinstance(first, W.FloatLogSlider) and first.description == "learning rate"
    before = w.result
    assert set(before) == set(race.OPTIMIZERS)

    for value in (0.02, 0.0316, 0.08, 0.0126, 0.2):
        first.value = value
        assert not np.array_equal(w.result["Adam"], before["Adam"])
        before = w.result

    dropdown = [c for c in w.children if isinstance(c, W.Dropdown)][0]
    dropdown.value = "saddle"
    assert w.result["SGD"][0, 0] == race.SURFACES["saddle"].start[0]


def test_one_update_renders_a_png():
    race.race_figure(lr=0.05, surface="ravine")
    plt.close("all")
    fig, _ = race.race_figure(lr=0.0631, beta=0.8, surface="rosenbrock")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")                 # what the inline backend does
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
