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
