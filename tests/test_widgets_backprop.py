"""Headless tests of course_lib/widgets/backprop.py (notebook 03_backpropagation)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import backprop as bpw  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- the scalar graph

def test_graph_trace_known_numbers():
    steps = bpw.graph_trace(2.0, -3.0)
    last = steps[-1]
    assert last["values"] == {"a": 2.0, "b": -3.0, "c": -6.0, "d": -4.0, "L": 16.0}
    assert last["grads"] == {"L": 1.0, "d": -8.0, "c": -8.0, "b": -16.0, "a": 16.0}
    # the two paths out of a carry 24 and -8; their sum is the gradient
    assert last["edge_grads"][("a", "c")] == 24.0 and last["edge_grads"][("a", "d")] == -8.0
    assert steps[0]["grads"] == {} and set(steps[0]["values"]) == {"a", "b"}
    assert "a" in steps[-2]["partial"] and not last["partial"]


@pytest.mark.parametrize("a,b", [(1.5, 0.5), (-2.0, 2.5), (0.0, -1.0)])
def test_graph_trace_matches_closed_form(a, b):
    # L = a^2 (b + 1)^2
    g = bpw.graph_trace(a, b)[-1]["grads"]
    assert np.isclose(g["a"], 2 * a * (b + 1) ** 2) and np.isclose(g["b"], 2 * a * a * (b + 1))


def test_graph_trace_deterministic_and_grads_only_grow():
    t1, t2 = bpw.graph_trace(1.0, 2.0), bpw.graph_trace(1.0, 2.0)
    assert [s["grads"] for s in t1] == [s["grads"] for s in t2]
    known = [set(s["grads"]) for s in t1]
    assert all(a <= b for a, b in zip(known, known[1:]))


def test_draw_graph_every_step():
    trace = bpw.graph_trace()
    for step in range(len(trace)):
        ax = bpw.draw_graph(step, trace)
        assert ax.get_title().startswith(f"step {step}/")


# ---------------------------------------------------------------- gradient checking

def test_verdict_thresholds():
    assert [bpw.verdict(e) for e in (1e-9, 1e-7, 1e-5, 1e-4, 0.3)] == \
        ["good", "suspicious", "suspicious", "wrong", "wrong"]


def test_numeric_grad_on_known_function():
    x = np.array([0.3, -1.2, 2.0])

    def f(v):
        return np.sum(v ** 3)

    exact = 3 * x ** 2
    assert cl.rel_error(bpw.numeric_grad(f, x, 1e-5, "centred"), exact) < 1e-9
    fwd = bpw.numeric_grad(f, x, 1e-5, "forward")
    assert 1e-7 < cl.rel_error(fwd, exact) < 1e-4           # O(h) truncation error
    assert np.array_equal(x, [0.3, -1.2, 2.0])               # x is not modified
    with pytest.raises(ValueError, match="method"):
        bpw.numeric_grad(f, x, 1e-5, "backward")


@pytest.mark.parametrize("case", bpw.CASES)
def test_cases_have_correct_exact_gradients(case):
    f, x0, grad = bpw.make_case(case)
    x = x0.copy()
    num = cl.numerical_gradient(lambda: f(x), x)
    assert cl.rel_error(grad, num) < 1e-7
    f2, x2, grad2 = bpw.make_case(case)                      # same seed, same case
    assert np.array_equal(x0, x2) and np.array_equal(grad, grad2)


def test_unknown_case_raises():
    with pytest.raises(ValueError, match="unknown case"):
        bpw.make_case("softplus")


def test_error_curves_orders_and_float32():
    lh = bpw.LOG10_H
    case = "worked example: σ layer + squared loss"
    trunc = (lh >= -4) & (lh <= -2)
    for method, order in (("forward", 1), ("centred", 2)):
        e = bpw.error_curve(case, "float64", method)
        slope = np.polyfit(lh[trunc], np.log10(e[trunc]), 1)[0]
        assert abs(slope - order) < 0.2
    at5 = int(np.argmin(np.abs(lh + 5)))
    assert bpw.error_curve(case, "float64", "centred")[at5] < 1e-7
    for c in bpw.CASES:
        for m in bpw.METHODS:
            assert bpw.error_curve(c, "float32", m).min() > 1e-7   # float32 never passes
    # deterministic: recomputing from scratch gives the same numbers
    cached = bpw.error_curve(case, "float64", "centred").copy()
    bpw.error_curve.cache_clear()
    assert np.array_equal(cached, bpw.error_curve(case, "float64", "centred"))


def test_relu_kink_case():
    e = bpw.error_curve("ReLU (an input 3e-4 from the kink)", "float64", "centred")
    hs = 10.0 ** bpw.LOG10_H
    assert np.all(e[(hs > 1e-9) & (hs < 1e-4)] < 1e-7)      # kink outside [x - h, x + h]
    assert np.all(e[hs > 4e-4] > 1e-4)                       # kink inside: "wrong"


# ---------------------------------------------------------------- the builders

def _move_through(widget, values):
    """Move the first control through ``values``; each move must give a new result."""
    for v in values:
        before = widget.result
        widget.children[0].value = v
        assert widget.result is not before
        widget.result["fig"].canvas.draw()
        plt.close("all")


def test_gradcheck_explorer_slider_recomputes():
    bpw.precompute()                                         # as the notebook does
    w = bpw.gradcheck_explorer()
    slider = w.children[0]
    assert type(slider).__name__ == "FloatLogSlider" and "course-main-widget" in w._dom_classes
    before = dict(w.result)
    slider.value = 1e-10
    assert w.result["h"] != before["h"] and w.result["err"] != before["err"]
    assert w.result["verdict"] == "suspicious" and before["verdict"] == "good"
    w.children[1].value = "float32"                          # the dtype dropdown
    assert w.result["verdict"] == "wrong"
    _move_through(w, [1e-5, 10 ** -4.75, 1e-4, 10 ** -3.75, 1e-3])


def test_graph_stepper_slider_recomputes():
    w = bpw.graph_stepper()
    assert type(w.children[0]).__name__ == "IntSlider"
    before = w.result
    w.children[0].value = w.children[0].max
    assert w.result["grads"]["a"] == 16.0 and before["grads"] == {}
    w.children[2].value = -1.0                               # b = -1 makes d = 0
    assert w.result["grads"]["a"] == 0.0
    _move_through(w, [1, 2, 3, 4, 5])


# ---------------------------------------------------------------- COURSE_SEED

def test_cases_follow_course_seed_and_stay_away_from_tiny_entries(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "0")
    _, x_a, g_a = bpw.make_case("tanh")
    c0 = bpw.error_curve("tanh")
    monkeypatch.setenv("COURSE_SEED", "3")
    _, x_b, g_b = bpw.make_case("tanh")
    assert not np.array_equal(x_a, x_b)
    assert bpw.error_curve("tanh") is not c0                      # the cache is keyed by the seed
    np.testing.assert_array_equal(bpw.make_case("tanh", seed=5)[1], bpw.make_case("tanh", seed=5)[1])
    for case in bpw.CASES:                                         # no accidentally tiny gradient entry
        _, _, g = bpw.make_case(case)
        assert np.abs(g).min() > 1e-3 * np.abs(g).max() or case.startswith("ReLU")
    _, x_r, _ = bpw.make_case(bpw.CASES[2])
    assert x_r[0, 0] == 3e-4 and np.sort(np.abs(x_r).ravel())[1] >= 0.1


# ---------------------------------------------------------------- the dot plot

def test_gradcheck_dots_one_dot_per_result_and_zero_marked():
    results = {"Linear": cl.gradcheck(cl.Linear(3, 2, rng=0), np.ones((2, 3))),
               "Tanh": cl.gradcheck(cl.Tanh(), np.linspace(-1, 1, 6).reshape(2, 3))}
    results["exact"] = cl.GradcheckResult("exact", {"input": 0.0}, 1e-7)
    ax = bpw.plot_gradcheck_dots(results)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Linear", "Tanh", "exact"]
    dots = ax.lines[0]
    np.testing.assert_allclose(dots.get_xdata(), [results["Linear"].max_error, results["Tanh"].max_error])
    assert ax.get_legend() is not None and ax.lines[1].get_xdata()[0] == 1e-17   # the zero, at the floor
    assert ax.get_xscale() == "log"


# ---------------------------------------------------------------- CS231n's habits

class _MySigmoid(cl.Module):            # the planted bug: sigma instead of sigma (1 - sigma)
    def forward(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def backward(self, dout):
        return dout * self.s


def test_entry_errors_a_penalty_dilutes_a_data_bug():
    rng = np.random.default_rng(0)
    X, y = 0.3 * rng.standard_normal((10, 6)), rng.integers(0, 3, 10)
    model = cl.Sequential(cl.Linear(6, 8, rng=1), _MySigmoid(), cl.Linear(8, 3, rng=2))
    off = bpw.entry_errors(model, cl.SoftmaxCrossEntropy(), X, y, 0.0, names=("0.W",))
    strong = bpw.entry_errors(model, cl.SoftmaxCrossEntropy(), X, y, 100.0, names=("0.W",))
    assert off.shape == (48,) and np.median(off) > 0.1
    assert np.median(strong) < 1e-3 < np.median(off)
    good = cl.Sequential(cl.Linear(6, 8, rng=1), cl.Sigmoid(), cl.Linear(8, 3, rng=2))
    assert bpw.entry_errors(good, cl.SoftmaxCrossEntropy(), X, y, 10.0).max() < 1e-6   # lam*W is right
    with pytest.raises(ValueError, match="no weight matrix"):
        bpw.entry_errors(good, cl.SoftmaxCrossEntropy(), X, y, names=("9.W",))


class _MeanBias(cl.Linear):
    def backward_params(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.mean(axis=0)
        return dout


def test_sampled_gradcheck_per_array_finds_the_bias_bug():
    rng = np.random.default_rng(0)
    model = cl.Sequential(cl.Linear(20, 30, rng=1), cl.Tanh(), _MeanBias(30, 4, rng=2))
    X, y = rng.standard_normal((8, 20)), rng.integers(0, 4, 8)
    loss = cl.SoftmaxCrossEntropy()
    per = bpw.sampled_gradcheck(model, loss, X, y, 3, np.random.default_rng(1))
    assert set(per) == {"0.W", "0.b", "2.W", "2.b"}
    assert per["2.b"] > 1e-2 and max(v for k, v in per.items() if k != "2.b") < 1e-6
    pooled = bpw.sampled_gradcheck(model, loss, X, y, 5, np.random.default_rng(2), per_array=False)
    assert 1 <= len(pooled) <= 4 and set(pooled) <= set(per)
    # k = the whole bias: the same number as a full check of that array
    full = bpw.sampled_gradcheck(model, loss, X, y, 4, np.random.default_rng(3))
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    numeric = cl.numerical_gradient(lambda: loss.forward(model.forward(X), y), model[2].b.data)
    assert full["2.b"] == pytest.approx(cl.rel_error(model[2].b.grad, numeric), rel=1e-6)


# ---------------------------------------------------------------- memory

def test_memory_sweep_linear_laws_and_inference():
    sw = bpw.memory_sweep(batch_sizes=(1, 8, 32), depths=(1, 2, 3), width=16, depth=2, batch=8)
    assert sw["width"] == 16 and sw["batch"] == 8
    for n, r in zip(sw["batch_sizes"], sw["by_batch"]):
        assert r["caches"] == n * 8 * (64 + 2 * 16)          # input + one array per hidden layer
        assert r["per_example"] == 8 * (64 + 2 * 16)
        assert r["eval_caches"] == r["caches"]
        assert r["train_peak"] >= r["caches"] - n * 64 * 8
        assert r["infer_peak"] >= 2 * n * 16 * 8
    caches = [r["caches"] for r in sw["by_depth"]]
    assert np.all(np.diff(caches, 2) == 0) and caches[1] - caches[0] == 8 * 8 * 16
    params = [r["params"] for r in sw["by_depth"]]
    assert params[1] - params[0] == 8 * (16 * 16 + 16)
    axes = bpw.plot_memory(sw)
    assert len(axes) == 2 and "linear in depth" in axes[1].get_title()


def test_inference_peak_drops_the_caches_and_keeps_the_output():
    model = bpw.mlp(6, width=64, seed=0)
    X = np.random.default_rng(1).standard_normal((512, 64))
    ref = model.forward(X)
    out, peak = bpw.inference_peak(model, X)
    np.testing.assert_array_equal(out, ref)
    assert all(getattr(layer, "x", None) is None and getattr(layer, "out", None) is None for layer in model.layers)
    assert cl.diagnostics.cache_memory(model).total == 0     # nothing left behind
    _, train = bpw.training_peak(model, X)
    assert train > 2 * peak                                  # keeping the caches costs memory
