"""Headless tests of the init-scale explorer and the experiments of notebooks/02_initialization."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import initialization as iw  # noqa: E402
from course_lib.widgets import initialization_experiments as ie  # noqa: E402


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
    iw.clear_cache()
    a = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=0)
    iw.clear_cache()
    b = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=1)
    assert not np.array_equal(a["act_std"], c["act_std"])
    assert not a["act_std"].flags.writeable          # cached arrays are read-only
    assert iw.propagate(1.0, "tanh", 5, width=64, n=32, seed=0) is iw.propagate(
        1.0, "tanh", 5, width=64, n=32, seed=0)       # the cache answers


def test_default_seed_follows_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    assert iw.default_seed() == 0
    a = iw.propagate(1.0, "tanh", 3, width=32, n=16)
    monkeypatch.setenv("COURSE_SEED", "3")
    assert iw.default_seed() == 3000 and iw.default_seed(7) == 7
    b = iw.propagate(1.0, "tanh", 3, width=32, n=16)
    assert not np.array_equal(a["act_std"], b["act_std"])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu"])
def test_propagate_matches_trace(activation):
    """The batched loop gives what diagnostics.trace gives on the same model."""
    r = iw.propagate(1.3, activation, 4, width=48, n=40, seed=3)
    model, X, G = iw.deep_net(1.3, activation, 4, width=48, n=40, seed=3)
    outputs, grads = cl.diagnostics.trace(model, X, iw.ProbeLoss(), G)
    step = 1 if activation == "linear" else 2
    acts, dacts = outputs[step - 1::step], grads[step - 1::step]
    np.testing.assert_allclose(r["act_std"], [o.std() for o in acts], rtol=1e-10)
    np.testing.assert_allclose(r["grad_std"], [g.std() for g in dacts], rtol=1e-10)
    np.testing.assert_allclose(r["act_mean"], [o.mean() for o in acts], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r["act_sq"], [np.mean(o ** 2) for o in acts], rtol=1e-10)
    pre = outputs[0::2] if step == 2 else outputs
    np.testing.assert_allclose(r["pre_std"], [z.std() for z in pre], rtol=1e-10)
    assert abs(r["grad_std"][-1] - G.std()) < 1e-12          # the probe enters at the top
    # the histograms are np.histogram's of the clipped values, as densities
    lo, hi = iw.ACTIVATIONS[activation][1]
    for j, i in enumerate(r["shown"]):
        ref, _ = np.histogram(np.clip(acts[i], lo, hi), bins=50, range=(lo, hi), density=True)
        np.testing.assert_allclose(r["act_hist"][j], ref, atol=1e-9)


def test_propagate_many_equals_one_at_a_time():
    gains = [0.5, 1.0, 2.0]
    iw.clear_cache()
    many = iw.propagate_many(gains, "relu", 6, width=40, n=24, seed=2)
    iw.clear_cache()
    for g, r in zip(gains, many):
        one = iw.propagate(g, "relu", 6, width=40, n=24, seed=2)
        for key in ("act_std", "grad_std", "pre_std", "slope_sq", "act_hist", "grad_hist"):
            np.testing.assert_allclose(one[key], r[key], rtol=1e-12, atol=1e-15)


def test_slope_squared_is_the_backward_share():
    # ReLU on symmetric pre-activations: E[relu'(z)^2] is about 1/2; linear: exactly 1
    r = iw.propagate(np.sqrt(2), "relu", 5, width=256, n=128, seed=0)
    assert np.all(np.abs(r["slope_sq"] - 0.5) < 0.05)
    assert np.all(iw.propagate(1.0, "linear", 3, width=32, n=8, seed=0)["slope_sq"] == 1.0)


def test_histograms_put_huge_values_at_the_edges():
    v = np.array([[-1e300, -5.0, 0.0, 5.0, 1e300, np.inf]])
    h = iw._hists(v, -1.0, 1.0, 4)
    np.testing.assert_allclose(h[0] * (6 * 2 / 4), [2, 0, 1, 3])


def test_known_cases_variance_arithmetic():
    # linear layers with std = 1/sqrt(fan_in) keep the variance (within sampling error)
    lin = iw.propagate(1.0, "linear", 10, width=256, n=256, seed=0)
    assert np.all(np.abs(lin["act_std"] - 1) < 0.15) and np.all(np.abs(lin["grad_std"] - 1) < 0.15)
    # small tanh net: tanh ~ identity, each layer multiplies the std by the gain
    small = iw.propagate(0.1, "tanh", 4, width=256, n=256, seed=0)
    np.testing.assert_allclose(small["act_std"][1:] / small["act_std"][:-1], 0.1, rtol=0.05)
    # slope at 0: a sigmoid layer passes a quarter of what a tanh layer passes, per layer
    sig = iw.propagate(0.5, "sigmoid", 10, width=128, n=128, seed=0)
    tanh = iw.propagate(0.5, "tanh", 10, width=128, n=128, seed=0)
    per_layer = lambda r: (r["grad_std"][0] / r["grad_std"][-1]) ** (1 / 9)  # noqa: E731
    assert 0.2 < per_layer(sig) / per_layer(tanh) < 0.3
    # the sigmoid's mean 1/2: the next pre-activation variance is gain^2 E[a^2] on average
    sig4 = iw.propagate(4.0, "sigmoid", 10, width=256, n=128, seed=0)
    ratio = sig4["pre_std"][1:] ** 2 / (16 * sig4["act_sq"][:-1])
    assert abs(ratio.mean() - 1) < 0.08 and np.all(sig4["pre_std"][1:] ** 2 > 4)
    # He + ReLU keeps the scale; gain 1 + ReLU halves the variance per layer
    he = iw.propagate(np.sqrt(2), "relu", 20, seed=0)
    assert he["act_std"].max() / he["act_std"].min() < 2.5
    half = iw.propagate(1.0, "relu", 20, seed=0)
    assert 0.3 < (half["act_std"][-1] / half["act_std"][0]) / 2 ** -9.5 < 3
    # std = 1 on a tanh layer of width 256 (gain 16): saturated
    assert iw.propagate(16.0, "tanh", 5, seed=0)["saturated"].min() > 0.8


def test_helpers_and_errors():
    np.testing.assert_array_equal(iw.shown_layers(20), [0, 4, 8, 11, 15, 19])
    np.testing.assert_array_equal(iw.shown_layers(2), [0, 1])
    v = iw.slider_values()
    assert len(v) == 61 and v[0] == pytest.approx(10 ** -1.5) and v[-1] == pytest.approx(10 ** 1.5)
    # a browser-computed value that differs in the last bit maps to the same cache key
    assert iw.snap(10 ** 0.1) == iw.snap(np.nextafter(10 ** 0.1, 2)) == iw.snap(1.2589254117941673)
    with pytest.raises(ValueError, match="activation"):
        iw.deep_net(1.0, "swish", 3)
    with pytest.raises(ValueError, match="gain"):
        iw.propagate(-1.0, "tanh", 3)
    with pytest.raises(ValueError, match="depth"):
        iw.propagate_many([1.0], "tanh", 0)


def test_explorer_figure_fits_the_notebook():
    fig = iw.draw(iw.propagate(1.0, "tanh", 10, seed=0), "tanh", 1.0)
    width, height = fig.get_size_inches() * fig.dpi
    assert width <= 840 and height <= 400
    texts = [t for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    texts += fig.legends[0].get_texts()
    assert min(t.get_fontsize() for t in texts) >= 9


def test_explorer_slider_recomputes_and_redraws():
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
    assert len(w.result.legends) == 1              # the legend is replaced, not stacked
    # a dropdown change is not precomputed: it computes a new 20-layer pass, then draws
    depth.value = 20
    assert len(w.result.axes[2].lines[0].get_ydata()) == 20


# ------------------------------------------------------------------ the notebook's experiments

def test_tanh_stack_pass_matches_trace():
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    Gs = [rng.standard_normal((30, 30)) for _ in range(3)]
    res = ie._tanh_stack_pass(X, G, Gs, [0.1, 0.5])
    for j, std in enumerate([0.1, 0.5]):
        layers = []
        for W in Gs:
            layers += [cl.Linear(30, 30, init=lambda fi, fo, rng, W=W: std * W, bias=False),
                       cl.Tanh()]
        model = cl.Sequential(*layers)
        outs, grads = cl.diagnostics.trace(model, X, iw.ProbeLoss(), G)
        np.testing.assert_allclose(res["act_std"][j], [o.std() for o in outs[1::2]], rtol=1e-10)
        np.testing.assert_allclose(res["grad_std"][j], [g.std() for g in grads[1::2]], rtol=1e-10)
        inputs = [X] + outs[1::2][:-1]
        dW = [np.linalg.norm(x.T @ g) / np.linalg.norm(lin.W.data)
              for x, g, lin in zip(inputs, grads[0::2], model.layers[0::2])]
        np.testing.assert_allclose(res["dW_ratio"][j], dW, rtol=1e-10)
        np.testing.assert_allclose(res["hist"][j].sum(axis=1), 1.0)


def test_classic_runs_shapes_and_known_numbers():
    runs = ie.classic_runs([0, 1], n=32, width=100, depth=4)
    assert set(runs) == set(ie.CLASSIC_SCHEMES)
    small = runs["std = 0.01"]
    assert small["act_std"].shape == (2, 4) and small["hist"].shape == (2, 4, 60)
    # std 0.01 at width 100: each layer multiplies the std by about 0.01 * sqrt(100) = 0.1
    np.testing.assert_allclose(small["act_std"][:, 1:] / small["act_std"][:, :-1], 0.1, rtol=0.15)
    assert runs["std = 1"]["saturated"].min() > 0.6
    assert not np.array_equal(small["act_std"][0], small["act_std"][1])       # seeds differ


def test_symmetry_runs_are_exact_and_seeded():
    runs, nets = ie.symmetry_runs([0, 1], epochs=1)
    const = runs["constant 0.05"]
    assert np.all(const["in_spread"] < 1e-12) and np.all(const["out_spread"] < 1e-12)
    assert np.all(runs["all zeros"]["W_max"] == 0)
    assert np.all(runs["random, std 0.01"]["in_spread"] > 0)
    assert np.all(runs["constant 0.05 + dropout 0.2"]["in_spread"] > 1e-3)   # dropout breaks it
    assert set(nets) == set(ie.SYMMETRY_VARIANTS)


def test_funnel_matches_its_theory_on_average():
    widths = [256, 128, 64, 32]
    ratios = [ie.funnel(widths, lambda fi, fo: 1 / fi, n=400, rng=s) for s in range(6)]
    fwd = np.mean([r["forward"] / r["forward_theory"] for r in ratios])
    bwd = np.mean([r["backward"] / r["backward_theory"] for r in ratios])
    assert abs(fwd - 1) < 0.1 and abs(bwd - 1) < 0.1
    assert ratios[0]["backward_theory"] == pytest.approx(32 / 256)            # telescoped
    relu = ie.funnel(widths, lambda fi, fo: 2 / fi, activation="relu", rng=0)
    assert relu["forward_theory"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="activation"):
        ie.funnel(widths, lambda fi, fo: 1.0, activation="tanh")


def test_gain_profiles_and_ratios():
    prof = ie.gain_profiles([1.0, 2.0], "tanh", [0, 1], depth=5, width=64, n=32)
    assert prof[1.0]["act_std"].shape == (2, 5)
    f, b = ie.forward_ratio(prof[2.0]), ie.backward_ratio(prof[2.0])
    np.testing.assert_allclose(f, prof[2.0]["act_std"][:, -1] / prof[2.0]["act_std"][:, 0])
    assert np.all(b > ie.backward_ratio(prof[1.0]))        # a larger gain grows the gradient
    assert ie.per_layer(8.0, 4) == pytest.approx(2.0)


def test_relu_stack_inits():
    torch_net, _ = ie.relu_stack("torch_default", 0, depth=3, width=16)
    assert np.any(torch_net[0].b.data != 0)                  # PyTorch's random biases
    he_net, _ = ie.relu_stack("he_normal", 0, depth=3, width=16)
    assert np.all(he_net[0].b.data == 0)
    lsuv_net, result = ie.relu_stack("lsuv", 0, depth=3, width=16)
    assert result is not None and all(result.converged.values())
    tanh_net, _ = ie.relu_stack("normal_1", 0, depth=2, width=16, activation="tanh")
    assert isinstance(tanh_net[1], cl.Tanh) and 0.8 < tanh_net[2].W.data.std() < 1.2


def test_init_profile_torch_default_loses_the_input():
    prof = ie.init_profile([0], inits=("torch_default", "he_normal"), depth=12, width=32, n=64)
    assert prof["torch_default"]["signal"][0] < 1e-4 < prof["he_normal"]["signal"][0]
    assert prof["torch_default"]["dead"].shape == (1, 12)


def test_lr_scan_small():
    scan = ie.lr_scan([0, 1], inits=("torch_default", "he_normal"), lrs=(0.01, 0.03), epochs=2,
                      depth=4, width=16)
    assert scan.val_loss.shape == (2, 2, 2, 2) and scan.test_acc.shape == (2, 2, 2)
    assert scan.best_lr("he_normal") in (0.01, 0.03)
    assert scan.at_best("he_normal", "val_loss").shape == (2, 2)
    # a 4-layer stack trains from He at these rates: below chance level after 2 epochs
    assert scan.at_best("he_normal", "val_loss")[:, -1].max() < math.log(10)
    again = ie.lr_scan([0, 1], inits=("torch_default", "he_normal"), lrs=(0.01, 0.03),
                       epochs=2, depth=4, width=16)
    np.testing.assert_array_equal(scan.val_loss, again.val_loss)         # cached, seeded


def test_stats_run_records_and_counts_dead_units():
    stats, hist, before, after = ie.stats_run("he_normal", 0, depth=3, epochs=1, every=2)
    assert len(stats) > 0 and stats.layers == [1, 3, 5]
    assert set(before) == set(after) == {1, 3, 5}
    assert 0 <= ie.mean_dead(after) <= 1 and hist.epochs == 1
    tstats, _, tb, _ = ie.stats_run("normal_1", 0, activation="tanh", depth=3, epochs=1, every=2)
    assert tb is None and tstats.saturated[1][0] > 0.5                    # std 1: saturated


def test_draw_functions_fit_the_notebook():
    runs = ie.classic_runs([0, 1], n=32, width=100, depth=4)
    prof = ie.gain_profiles([1.0, 1.5], "tanh", [0, 1], depth=5, width=64, n=32)
    stats, *_ = ie.stats_run("he_normal", 0, depth=3, epochs=1, every=2)
    figs = [ie.draw_ridges(runs), ie.draw_classic_profiles(runs),
            ie.draw_tanh_sweep([1.0, 1.5], prof),
            ie.draw_sigmoid({("tanh", 1.0): prof[1.0]}, {("tanh", 1.0): ("C1", "-", "tanh")}),
            ie.draw_twenty({("He", "tanh"): prof[1.5]}, {("He", "tanh"): ("C2", "--", "He")}),
            ie.draw_colorful_pair([stats, stats], ["a", "b"], [1, 3], "title")]
    for fig in figs:
        assert fig.get_size_inches()[0] <= 8.4 + 1e-9
    assert ie._row_major(6, 3) == [0, 3, 1, 4, 2, 5]
