"""Headless tests of the init-scale explorer (notebooks/02_initialization)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import initialization as iw  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_probe_loss_gradient_is_the_probe():
    pred = np.arange(6.0).reshape(2, 3)
    G = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]])
    loss = iw.ProbeLoss()
    assert loss.forward(pred, G) == pytest.approx(np.sum(pred * G))
    np.testing.assert_array_equal(loss.backward(), G)
    with pytest.raises(ValueError, match="shape"):
        loss.forward(pred, G[:, :2])
    with pytest.raises(RuntimeError):
        iw.ProbeLoss().backward()


def test_propagate_is_deterministic_and_seeded():
    iw.propagate.cache_clear()
    a = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=0)
    iw.propagate.cache_clear()
    b = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=1)
    assert not np.array_equal(a["act_std"], c["act_std"])
    assert not a["act_std"].flags.writeable          # cached arrays are read-only


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_propagate_matches_trace(activation):
    """The fast loop gives exactly what diagnostics.trace gives on the same model."""
    r = iw.propagate(1.3, activation, 4, width=48, n=40, seed=3)
    model, X, G = iw.deep_net(1.3, activation, 4, width=48, n=40, seed=3)
    outputs, grads = cl.diagnostics.trace(model, X, iw.ProbeLoss(), G)
    step = 1 if activation == "linear" else 2
    np.testing.assert_allclose(r["act_std"], [o.std() for o in outputs[step - 1::step]], rtol=1e-12)
    np.testing.assert_allclose(r["grad_std"], [g.std() for g in grads[step - 1::step]], rtol=1e-12)
    assert abs(r["grad_std"][-1] - G.std()) < 1e-12          # the probe enters at the top


def test_known_cases_variance_arithmetic():
    # linear layers with std = 1/sqrt(fan_in) keep the variance (within sampling error)
    lin = iw.propagate(1.0, "linear", 10, width=256, n=256)
    assert np.all(np.abs(lin["act_std"] - 1) < 0.15) and np.all(np.abs(lin["grad_std"] - 1) < 0.15)
    # small tanh net: tanh ~ identity, each layer multiplies the std by the gain
    small = iw.propagate(0.1, "tanh", 4, width=256, n=256)
    np.testing.assert_allclose(small["act_std"][1:] / small["act_std"][:-1], 0.1, rtol=0.05)
    # slope at 0: a sigmoid layer passes a quarter of what a tanh layer passes, per layer
    sig = iw.propagate(0.5, "sigmoid", 10, width=128, n=128)
    tanh = iw.propagate(0.5, "tanh", 10, width=128, n=128)
    per_layer = lambda r: (r["grad_std"][0] / r["grad_std"][-1]) ** (1 / 9)  # noqa: E731
    assert 0.2 < per_layer(sig) / per_layer(tanh) < 0.3
    # He + ReLU keeps the scale; gain 1 + ReLU halves the variance per layer
    he = iw.propagate(np.sqrt(2), "relu", 20)
    assert he["act_std"].max() / he["act_std"].min() < 2
    half = iw.propagate(1.0, "relu", 20)
    assert 0.3 < (half["act_std"][-1] / half["act_std"][0]) / 2 ** -9.5 < 3
    # std = 1 on a tanh layer of width 256 (gain 16): saturated
    assert iw.propagate(16.0, "tanh", 5)["saturated"].min() > 0.8


def test_helpers():
    np.testing.assert_array_equal(iw.shown_layers(20), [0, 4, 8, 11, 15, 19])
    np.testing.assert_array_equal(iw.shown_layers(2), [0, 1])
    v = iw.slider_values()
    assert len(v) == 61 and v[0] == pytest.approx(10 ** -1.5) and v[-1] == pytest.approx(10 ** 1.5)
    # a browser-computed value that differs in the last bit maps to the same cache key
    assert iw.snap(10 ** 0.1) == iw.snap(np.nextafter(10 ** 0.1, 2)) == iw.snap(1.2589254117941673)
    with pytest.raises(ValueError, match="activation"):
        iw.deep_net(1.0, "swish", 3)


def test_explorer_slider_recomputes_and_redraws_fast():
    w = iw.init_explorer()                         # warms the cache like the notebook does
    slider, act, depth = w.children[:3]
    assert type(slider).__name__ == "FloatLogSlider"   # the main slider comes first
    assert "course-main-widget" in w._dom_classes
    fig0 = w.result
    assert fig0 is not None and len(fig0.axes) == 3
    before = fig0.axes[2].lines[0].get_ydata().copy()
    for value in (10 ** 0.5, 10 ** -0.8, 10 ** 1.2):
        slider.value = value                       # the callback computes, draws and renders a PNG
    after = w.result.axes[2].lines[0].get_ydata()
    assert not np.allclose(before, after)          # the same figure, redrawn with new data
    # a dropdown change is not precomputed: it computes a new 20-layer pass, then draws
    depth.value = 20
    assert len(w.result.axes[2].lines[0].get_ydata()) == 20
