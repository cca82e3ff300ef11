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


# --------------------------------------------------------------------------------------------
# the experiments of the notebook (course_lib/widgets/activations_experiments.py)
# --------------------------------------------------------------------------------------------

from course_lib.widgets import activations_experiments as axp  # noqa: E402


def _weights(net):
    return [p.data.reshape(p.data.shape[0], -1) if p.data.ndim == 3 else p.data
            for name, p in net.named_parameters() if name.endswith("W")]


@pytest.mark.parametrize("act", ["ReLU", "tanh", "GELU", "Leaky ReLU", "sigmoid", "maxout"])
def test_train_many_equals_cl_fit(act):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 3, 50)
    seeds, lrs = (0, 1, 2), (0.05, 0.1, 0.2)
    nets = [axp.make_mlp(act, (3, 6, 5, 3), s) for s in seeds]
    runs = axp.train_many(nets, X, y, lr=lrs, epochs=3, batch_size=16, momentum=0.9,
                          orders=[np.random.default_rng(s) for s in seeds])
    for m, (s, lr) in enumerate(zip(seeds, lrs)):
        net = axp.make_mlp(act, (3, 6, 5, 3), s)
        hist = cl.fit(net, cl.SoftmaxCrossEntropy(), cl.SGD(net.parameters(), lr=lr, momentum=0.9), X, y,
                      epochs=3, batch_size=16, rng=np.random.default_rng(s), progress=False, ratio_every=0)
        for w, w_many in zip(_weights(net), runs.weights):
            np.testing.assert_allclose(w_many[m], w, rtol=1e-10, atol=1e-12)
        assert runs.acc["train"][m, -1] == pytest.approx(cl.evaluate(net, cl.SoftmaxCrossEntropy(), X, y)[1])
        assert hist.loss                                        # the reference really trained
    # the nets given to train_many are not changed
    for w, w0 in zip(_weights(nets[0]), _weights(axp.make_mlp(act, (3, 6, 5, 3), 0))):
        np.testing.assert_array_equal(w, w0)


def test_train_many_float32_agrees_and_until_stops_the_finished():
    X, y = cl.data.make_spirals(40, 3, noise=0.1, rng=np.random.default_rng(0))
    nets = [axp.make_mlp("ReLU", (2, 16, 3), s) for s in range(4)]
    orders = lambda: [np.random.default_rng(s) for s in range(4)]          # noqa: E731
    r64 = axp.train_many(nets, X, y, lr=0.05, epochs=8, batch_size=20, momentum=0.9, orders=orders())
    r32 = axp.train_many(nets, X, y, lr=0.05, epochs=8, batch_size=20, momentum=0.9, orders=orders(),
                         dtype=np.float32)
    assert r32.weights[0].dtype == np.float32
    np.testing.assert_allclose(r32.weights[0], r64.weights[0], rtol=1e-3, atol=1e-4)
    target = float(np.median(r64.acc["train"][:, 3]))
    stop = axp.train_many(nets, X, y, lr=0.05, epochs=8, batch_size=20, momentum=0.9, orders=orders(),
                          until=("train", target))
    for m in range(4):
        reached = np.flatnonzero(r64.acc["train"][m] >= target)
        if reached.size:     # stopped right after: NaN afterwards, the same weights as then
            k = reached[0]
            assert np.all(np.isnan(stop.acc["train"][m, k + 1:]))
            np.testing.assert_allclose(stop.acc["train"][m, :k + 1], r64.acc["train"][m, :k + 1])
    assert np.isnan(stop.acc["train"]).any()
    with pytest.raises(ValueError, match="until"):
        axp.train_many(nets, X, y, lr=0.05, epochs=1, batch_size=20, momentum=0.9, orders=orders(),
                       until=("val", 0.9))
    with pytest.raises(ValueError, match="generator"):
        axp.train_many(nets, X, y, lr=0.05, epochs=1, batch_size=20, momentum=0.9, orders=orders()[:2])
    # networks of different structure cannot share a stack, nor can a layer without a stacked form
    relu_net = cl.Sequential(cl.Linear(2, 4), cl.ReLU(), cl.Linear(4, 3))
    tanh_net = cl.Sequential(cl.Linear(2, 4), cl.Tanh(), cl.Linear(4, 3))
    with pytest.raises(ValueError, match="same layers"):
        axp.train_many([relu_net, tanh_net], X, y, lr=0.05, epochs=1, batch_size=20, momentum=0.9,
                       orders=orders()[:2])
    with pytest.raises(TypeError, match="PReLU"):
        axp.train_many([cl.Sequential(cl.Linear(2, 4), cl.PReLU(4), cl.Linear(4, 3))], X, y, lr=0.05,
                       epochs=1, batch_size=20, momentum=0.9, orders=[np.random.default_rng(0)])


def test_stacked_leaky_relu_equals_separate_leaky_nets():
    """One stack of Leaky ReLU nets with a different slope each = each net trained alone."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 2)), rng.integers(0, 2, 40)
    alphas = (0.01, 0.3, 0.9)
    nets = [axp.make_mlp(lambda a=a: cl.LeakyReLU(a), (2, 8, 2), 5) for a in alphas]
    stacked = axp.train_many(nets, X, y, lr=0.1, epochs=2, batch_size=8, momentum=0.9,
                             orders=[np.random.default_rng(5) for _ in alphas])
    for m, a in enumerate(alphas):
        one = axp.train_many([axp.make_mlp(lambda: cl.LeakyReLU(a), (2, 8, 2), 5)], X, y, lr=0.1, epochs=2,
                             batch_size=8, momentum=0.9, orders=[np.random.default_rng(5)])
        np.testing.assert_allclose(stacked.weights[0][m], one.weights[0][0], rtol=1e-12)
    loss, acc = stacked.evaluate(X, y)
    assert loss.shape == acc.shape == (3,) and np.all((0 <= acc) & (acc <= 1))


def test_first_dead_layer_and_silent_units():
    class Rec:
        layers = [1, 3, 5]
        steps = np.array([0, 5, 10, 15])
        dead = {1: np.array([0.0, 0.2, 0.5, 0.9]), 3: np.array([0.0, 0.5, 0.6, 0.6]),
                5: np.array([np.nan] * 4)}
    assert axp.first_dead_layer(Rec, 0.5) == (3, 5)
    assert axp.first_dead_layer(Rec, 0.55) == (3, 10)
    assert axp.first_dead_layer(Rec, 0.9) == (1, 15)
    assert axp.first_dead_layer(Rec, 0.95) is None
    Rec.dead[1] = np.array([0.0, 0.5, 0.5, 0.9])         # a tie: the layer nearer the input
    assert axp.first_dead_layer(Rec, 0.5) == (1, 5)
    # silent units: ReLU's are the dead units; a Leaky ReLU unit on its negative side counts too
    rng = np.random.default_rng(0)
    model = cl.Sequential(cl.Linear(3, 6, rng=rng), cl.ReLU(), cl.Linear(6, 4, rng=rng), cl.LeakyReLU(),
                          cl.Linear(4, 2, rng=rng))
    model.layers[0].b.data[:2] = -50.0
    model.layers[2].b.data[0] = -50.0
    X = rng.standard_normal((30, 3))
    silent = axp.silent_units(model, X)
    assert set(silent) == {1, 3}
    np.testing.assert_array_equal(silent[1], cl.diagnostics.dead_units(model, X)[1])
    assert silent[1][:2].all() and silent[3][0]


def test_dead_run_records_every_step_and_the_recovery_phase():
    healthy = axp._dead_run("ReLU, lr 0.05", 0)
    assert healthy.status == "completed" and len(healthy.stats) == 5 * 17 and healthy.switch is None
    assert healthy.share() < 0.05 and healthy.val_acc > 0.9
    assert axp.first_dead_layer(healthy.stats, 0.5) is None
    spike = axp._dead_run(axp.BURST, 0)
    if spike.status == "completed":          # one epoch at lr 1.0, then 5 at 0.05, in one record
        assert spike.switch == 17 and len(spike.stats) == 6 * 17
        assert spike.stats.steps[-1] == 6 * 17 - 1
    assert spike.share() > 0.1 and axp._dead_run(axp.BURST, 0) is spike     # cached
    with pytest.raises(ValueError, match="unknown configuration"):
        axp.dead_runs("ReLU, lr 3")


def test_zigzag_and_grad_profile():
    inputs = axp.zigzag_inputs(0, n=200)
    assert np.all(inputs["positive"] > 0) and abs(inputs["centred"].mean()) < 0.05
    out = axp.zigzag(0, inputs)
    assert out["positive steps"] > out["centred steps"] and out["positive detour"] > 1
    path = axp.sgd_path(inputs["centred"], 0)
    assert np.linalg.norm(path[-1] - axp.W_STAR) < 0.1
    g = axp.grad_profile(0, acts=("sigmoid", "ReLU"))
    assert g["sigmoid"][-1] == 1.0 and g["sigmoid"][0] < 0.05 and 0.5 < g["ReLU"][0] < 2


def test_make_mlp_same_weights_for_every_activation():
    a, b = axp.make_mlp("ReLU", (4, 5, 3), 7), axp.make_mlp("tanh", (4, 5, 3), 7)
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert isinstance(axp.make_mlp("maxout", (4, 5, 3), 0).layers[0], cl.Maxout)
    with pytest.raises(ValueError, match="unknown activation"):
        axp.make_mlp("softplus", (4, 5, 3), 0)


def test_explore_default_seed_follows_course_seed(monkeypatch):
    a = aw.explore("tanh", 2.0, n=500)
    monkeypatch.setenv("COURSE_SEED", "1")
    b = aw.explore("tanh", 2.0, n=500)
    assert a["mean_out"] != b["mean_out"]
    assert b["mean_out"] == aw.explore("tanh", 2.0, n=500, seed=1000)["mean_out"]


def test_the_notebook_figures_draw():
    from course_lib.checks.activations import example_record
    zoo = {"ReLU": cl.ReLU(), "PReLU": cl.PReLU(1), "tanh": cl.Tanh(), "ELU": cl.ELU()}
    assert len(aw.draw_zoo(zoo).axes) == 6
    inputs = axp.zigzag_inputs(0, n=100)
    paths = {k: axp.sgd_path(X, 0) for k, X in inputs.items()}
    assert len(aw.draw_zigzag(inputs, paths, axp.W0, axp.W_STAR).axes) == 3
    curves = np.full((2, 3, 10), np.nan)
    curves[:, :, :5] = np.linspace(0.5, 1.0, 5)
    race = {"epochs": np.array([[5.0, np.inf, 4.0], [3.0, 6.0, np.inf]]), "curves": curves}
    fig = aw.draw_race({"ReLU": race, "tanh": race, "sigmoid": race}, 0.01, (0.01, 0.03), 0.99, 10)
    assert len(fig.axes) == 2
    fig = aw.draw_firing({"a": np.array([0.0, 0.0, 0.3, 0.9]), "b": np.zeros(4)})
    assert "50% dead" in fig.axes[0].get_title() and "100% dead" in fig.axes[1].get_title()
    record, _, _ = example_record()
    fig = aw.draw_dead_steps({"x": [record, record]}, switch={"x": 20})
    assert len(fig.axes[0].lines) >= 2 * len(record.layers)
    run = axp._dead_run("ReLU, lr 0.05", 0)
    fig = aw.draw_std_steps({"healthy": [run.stats]}, layer=5, last_step=40)
    assert fig.axes[0].get_yscale() == "log"
    table = {a: {"lr": 0.1, "epochs": np.array([2.0, 3.0, np.inf])} for a in (0.01, 0.5)}
    assert aw.draw_alpha(table, 0.99, 60).axes[0].get_yscale() == "log"
    alphas = np.full((3, 8), 0.25)
    assert len(aw.draw_prelu([alphas, alphas]).axes) == 2
    contest = {"ReLU": {"lr": 0.1, "test": np.array([0.97, 0.98])},
               "sigmoid": {"lr": 0.3, "test": np.array([0.94, 0.95])}}
    fig = aw.draw_contest(contest)
    assert [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()] == ["ReLU", "sigmoid"]


def test_scrub_reads_the_records_of_the_dead_runs():
    first = axp.dead_runs("ReLU, lr 1.0")[0]
    r = aw.scrub("ReLU, lr 1.0", 0)
    assert r["step"] == 0 and r["layers"] == [1, 3, 5] and r["last"] == int(first.stats.steps[-1])
    assert r["dead"][3] == first.stats.dead[3][0]
    late = aw.scrub("ReLU, lr 1.0", 10 ** 6)                  # beyond the end: the last record
    assert late["step"] == r["last"] and max(late["dead"].values()) > 0.5
    leaky = aw.scrub("Leaky ReLU, lr 1.0", 5)
    assert np.isnan(leaky["dead"][1]) and leaky["std"][1] > 0
    with pytest.raises(ValueError, match="unknown run"):
        aw.scrub("sigmoid, lr 9", 0)


def test_scrubber_view_and_builder():
    view = aw.ScrubberView()
    fig = view.update(aw.scrub(aw.SCRUB_CONFIGS[2], 40))
    assert "lr 0.05 now" in fig._suptitle.get_text() or "explosion" in fig._suptitle.get_text()
    assert fig.get_size_inches()[0] <= 8.4
    fig = view.update(aw.scrub("ReLU, lr 0.05", 3))
    assert "dead" in fig.axes[0].get_title() and view.cursors[0].get_xdata()[0] == 3
    assert aw.render_png(fig)[:4] == b"\x89PNG"
    box = aw.stats_scrubber()
    slider, dropdown = box.children[0], box.children[1]
    assert type(slider).__name__ == "IntSlider" and "course-main-widget" not in box._dom_classes
    slider.value = 20
    assert box.result["step"] <= 20 and box.result["label"] == "ReLU, lr 1.0"
    dropdown.value = "ELU, lr 1.0"
    assert box.result["label"] == "ELU, lr 1.0" and box.result["step"] <= 20
