"""Headless tests of the activation explorer (notebooks/01_activations)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import activations as aw  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_curve_uses_derivative_or_backward():
    x = np.linspace(-3, 3, 61)
    f, df = aw.curve(cl.Tanh(), x)
    np.testing.assert_allclose(f, np.tanh(x))
    np.testing.assert_allclose(df, 1 - np.tanh(x) ** 2)
    # PReLU has no .derivative: slope from backward, alpha's gradient left at zero
    prelu = cl.PReLU(1, init=0.25)
    f, df = aw.curve(prelu, x)
    np.testing.assert_allclose(f, np.where(x > 0, x, 0.25 * x))
    np.testing.assert_allclose(df, np.where(x > 0, 1.0, 0.25))
    assert np.all(prelu.alpha.grad == 0)
    # a Maxout(1 -> 1) unit with pieces 0 and x is ReLU
    unit = cl.Maxout(1, 1, pieces=2)
    unit.W.data[:] = np.array([0.0, 1.0]).reshape(1, 1, 2)
    unit.b.data[:] = 0.0
    f, df = aw.curve(unit, x[x != 0])
    np.testing.assert_allclose(f, np.maximum(x[x != 0], 0))
    np.testing.assert_allclose(df, (x[x != 0] > 0).astype(float))
    with pytest.raises(ValueError, match="1-D"):
        aw.curve(cl.ReLU(), x.reshape(-1, 1))


def test_max_slope_known_values():
    assert aw.max_slope("sigmoid") == pytest.approx(0.25, abs=1e-12)
    assert aw.max_slope("tanh") == pytest.approx(1.0, abs=1e-12)
    assert aw.max_slope("ReLU") == 1.0
    assert 1.1 < aw.max_slope("GELU") < 1.15


def test_explore_is_deterministic_and_seeded():
    aw.explore.cache_clear()
    a = aw.explore("tanh", 2.0, n=2000, seed=0)
    aw.explore.cache_clear()
    b = aw.explore("tanh", 2.0, n=2000, seed=0)
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key])
            assert not a[key].flags.writeable
        else:
            assert a[key] == b[key]
    c = aw.explore("tanh", 2.0, n=2000, seed=1)
    assert a["mean_out"] != c["mean_out"]
    with pytest.raises(ValueError):
        aw.explore("softplus", 1.0)
    with pytest.raises(ValueError):
        aw.explore("tanh", 0.0)


def test_explore_known_cases():
    # ReLU: exactly half of symmetric inputs get zero gradient, at any scale; mean = s/sqrt(2 pi)
    for s in (0.1, 1.0, 10.0):
        r = aw.explore("ReLU", s)
        assert abs(r["zero"] - 0.5) < 0.02 and r["weak"] == r["zero"]
        assert abs(r["mean_out"] - s / np.sqrt(2 * np.pi)) < 0.02 * s
    # tanh saturates as the input std grows; it is zero-centred
    weak = [aw.explore("tanh", s)["weak"] for s in (0.1, 1.0, 3.0, 10.0, 30.0)]
    assert weak[0] == 0.0 and np.all(np.diff(weak) > 0) and weak[-1] > 0.9
    assert abs(aw.explore("tanh", 3.0)["mean_out"]) < 0.02
    # sigmoid: mean output 1/2, mean local gradient <= 1/4
    r = aw.explore("sigmoid", 1.0)
    assert abs(r["mean_out"] - 0.5) < 0.01 and r["mean_grad"] < 0.25
    # Leaky ReLU never has an exactly zero gradient
    assert aw.explore("Leaky ReLU (α=0.01)", 1.0)["zero"] == 0.0
    # histograms are shares of the inputs
    for name in aw.ACTIVATIONS:
        r = aw.explore(name, 1.0)
        assert r["act_hist"].sum() == pytest.approx(1.0) and r["grad_hist"].sum() == pytest.approx(1.0)


def test_slider_values_and_snap():
    v = aw.slider_values()
    assert v[0] == pytest.approx(0.1) and v[-1] == pytest.approx(10 ** 1.5) and len(v) == 51
    assert aw.snap(10 ** 0.05 + 1e-15) == aw.snap(10 ** 0.05)


def test_draw_and_plot_curve():
    fig = aw.draw(aw.explore("ELU (α=1)", 2.0))
    assert len(fig.axes) == 3 and "ELU" in fig._suptitle.get_text()
    assert aw.render_png(fig)[:4] == b"\x89PNG"
    ax = aw.plot_curve(cl.PReLU(1, init=0.25))
    assert len(ax.lines) >= 2


def test_builder_recomputes_fast():
    box = aw.activation_explorer()          # warms the default activation, as the notebook does
    slider, dropdown = box.children[0], box.children[1]
    assert type(slider).__name__ == "FloatLogSlider" and type(dropdown).__name__ == "Dropdown"
    assert "course-main-widget" in box._dom_classes
    before = box.result
    for value in (10 ** 0.5, 10 ** 1.0, 10 ** -0.5):
        slider.value = value
    assert box.result["scale"] == pytest.approx(10 ** -0.5, rel=1e-3)
    assert box.result["weak"] != before["weak"] or box.result["std_out"] != before["std_out"]
    dropdown.value = "ReLU"
    assert box.result["name"] == "ReLU" and abs(box.result["zero"] - 0.5) < 0.02
