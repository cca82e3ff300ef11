"""Headless tests of the learning-rate scanner and helpers (course_lib/widgets/practice.py,
notebook 08)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.search import LogUniform, Uniform, random_search  # noqa: E402
from course_lib.widgets import practice as pr  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs():
    return pr.precompute()        # the whole scan, as the notebook computes it (cached)


def test_grid_is_four_rates_per_decade():
    assert len(pr.LRS) == 21
    assert pr.LRS[0] == pytest.approx(1e-5) and pr.LRS[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(pr.LRS)), 0.25)
    assert pr.nearest_lr(0.1 * (1 + 1e-12)) == pr.nearest_lr(0.1)
    assert pr.nearest_lr(10 ** -2.49) == pytest.approx(10 ** -2.5)


def test_digits_are_centred_with_the_training_mean_and_read_only():
    X, y, Xv, _, _, _ = pr.digits()
    assert np.allclose(X.mean(axis=0), 0.0, atol=1e-12)
    assert not np.allclose(Xv.mean(axis=0), 0.0, atol=1e-3)      # the validation set is not refitted
    with pytest.raises(ValueError):
        X[0, 0] = 1.0


def test_make_mlp_starts_at_ln_k():
    X, y, *_ = pr.digits()
    loss, _ = cl.evaluate(pr.make_mlp(rng=0), cl.SoftmaxCrossEntropy(), X, y)
    assert abs(loss - np.log(10)) < 0.02
    model = pr.make_mlp(widths=(7, 5), rng=3, activation=cl.Tanh)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert model(np.zeros((2, 64))).shape == (2, 10)


def test_read_scan_on_known_curves():
    t = np.arange(100.0)
    curves = {
        1e-4: (2.3 - 0.001 * t, False),                 # barely falls: flat
        1e-3: (2.3 * np.exp(-t / 15), False),           # keeps falling: good, and the lowest
        1e-2: (np.r_[2.3, np.full(99, 0.4)], False),    # drops at once, then stalls high: plateau
        1e-1: (np.array([2.3, 9.0]), True),             # stopped by the explosion guard
    }
    assert pr.read_scan(curves) == {1e-4: "flat", 1e-3: "good", 1e-2: "plateau", 1e-1: "exploded"}
    # a rate BELOW the reference that ends higher is slow, not a plateau
    curves[1e-3], curves[1e-2] = curves[1e-2], curves[1e-3]
    assert pr.read_scan(curves)[1e-3] == "good"
    assert pr.final_level(np.r_[np.ones(6), np.zeros(2)]) == 0.0


def test_scan_is_deterministic():
    a = pr.scan_run(1e-3, epochs=1, seed=5)
    pr.scan_run.cache_clear()
    b = pr.scan_run(1e-3, epochs=1, seed=5)
    assert np.array_equal(a.loss, b.loss)
    assert a.val_acc == b.val_acc
    for name in a.ratios:
        assert np.array_equal(a.ratios[name], b.ratios[name])
    with pytest.raises(ValueError):
        a.loss[0] = 0.0                                   # cached arrays are read-only


def test_scan_reads_all_four_cases_in_order(runs):
    verdicts = [r.verdict for r in runs.values()]
    assert set(verdicts) == set(pr.GUIDE)
    rank = [list(pr.GUIDE).index(v) for v in verdicts]
    assert rank == sorted(rank)
    boom = runs[pr.nearest_lr(1.0)]
    assert boom.exploded and boom.status.startswith("exploded at step ")
    assert "exploded" in boom.message and boom.val_acc is None
    assert runs[pr.nearest_lr(1e-5)].status == "too slow"
    assert runs[pr.nearest_lr(10 ** -2.5)].status == "ok"
    assert "→ good" in runs[pr.nearest_lr(10 ** -2.5)].title


def test_update_ratios_follow_the_rate(runs):
    good, tiny = runs[pr.nearest_lr(10 ** -2.5)], runs[pr.nearest_lr(1e-5)]
    assert 1e-4 < good.median_ratio() < 1e-2
    assert tiny.median_ratio() < 1e-4
    # the ratio is ||dW|| / ||W|| of one step: recompute one by hand for the first recorded step
    model = pr.make_mlp(rng=0)
    X, y, *_ = pr.digits()
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.Adam(model.parameters(), lr=1e-3), X[:64], y[:64],
                  epochs=1, batch_size=64, shuffle=False, ratio_every=1, progress=False)
    W0, W1 = pr.make_mlp(rng=0)[0].W.data, model[0].W.data
    expected = np.linalg.norm(W1 - W0) / np.linalg.norm(W1)
    assert hist.update_ratios["0.W"][0] == pytest.approx(expected, rel=1e-9)
    assert expected < 1e-3 * np.sqrt(W0.size) / np.linalg.norm(W1) * (1 + 1e-6)   # Adam: |dw| <= lr


def test_smooth_starts_at_the_first_value_and_averages():
    steps, s = pr.smooth(np.array([2.0, 2.0, 2.0]))
    assert np.array_equal(steps, [0, 1, 2]) and np.allclose(s, 2.0)
    _, s = pr.smooth(np.r_[np.ones(200), np.zeros(200)])
    assert s[0] == 1.0 and s[-1] < 1e-8


def test_decade_fractions():
    values = np.array([2e-6, 3e-5, 4e-5, 0.05])
    assert np.allclose(pr.decade_fractions(values), [0.25, 0.5, 0.0, 0.0, 0.25])
    log_draws = cl.search.log_uniform(1e-6, 1e-1, size=20_000, rng=0)
    assert np.allclose(pr.decade_fractions(log_draws), 0.2, atol=0.02)


def test_random_beats_grid_on_the_toy_objective():
    grid = cl.search.grid_search(pr.toy_objective, pr.TOY_SPACE, 3, maximize=True)
    assert sorted(set(grid.values("x"))) == [0.0, 0.5, 1.0]
    best = [random_search(pr.toy_objective, pr.TOY_SPACE, 9, rng=s, maximize=True).best["score"]
            for s in range(200)]
    assert np.mean(best) > grid.best["score"] + 0.4
    assert pr.toy_objective(0.7, 0.35) == pytest.approx(1.05)


def test_narrow_spans_the_best_trials_and_stays_inside():
    space = {"lr": LogUniform(1e-6, 1.0), "p": Uniform(0.0, 1.0)}
    result = cl.search.SearchResult(
        [{"params": {"lr": lr, "p": p}, "score": s}
         for lr, p, s in [(1e-3, 0.2, 0.9), (1e-2, 0.4, 0.8), (1e-5, 0.9, 0.1), (0.5, 0.95, 0.2)]],
        maximize=True)
    new = pr.narrow(result, space, top=2, widen=2.0)
    assert new["lr"].low == pytest.approx(5e-4) and new["lr"].high == pytest.approx(2e-2)
    assert new["p"].low == pytest.approx(0.0) and new["p"].high == pytest.approx(0.6)


def test_draw_search_marks_distinct_values():
    fig, ax = plt.subplots()
    grid = cl.search.grid_search(pr.toy_objective, pr.TOY_SPACE, 3, maximize=True)
    pr.draw_search(grid, ax, "grid")
    titles = [a.get_title() for a in ax.child_axes]
    assert any("3 distinct x values" in t for t in titles)


def test_widget_first_control_is_the_lr_slider_and_moves_redraw_fast(runs):
    import ipywidgets as W

    w = pr.lr_scanner(runs=runs)
    assert "course-main-widget" in w._dom_classes
    first = w.children[0]
    assert isinstance(first, W.FloatLogSlider) and first.description == "learning rate"
    assert first.min == pytest.approx(-5) and first.max == pytest.approx(0) and first.step == pytest.approx(0.25)
    png, run = w.result
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and run.lr == pytest.approx(10 ** -2.5)

    for value in (1e-5, 0.1, 10 ** -0.75, 10 ** -3.25, 1e-2):
        first.value = value
        new_png, new_run = w.result
        assert new_run.lr == pytest.approx(value) and new_png != png
        png = new_png


def test_view_shows_the_verdict_and_the_ratios(runs):
    view = pr.ScannerView(runs)
    run = view.update(0.1)
    assert run.verdict == "plateau"
    assert "fast drop, then plateau → too high" in view.suptitle.get_text()
    line = view.ratio_lines["0.W"]
    assert np.allclose(line.get_ydata(), np.log10(run.ratios["0.W"]))
    run = view.update(1.0)
    assert "exploded at step" in view.suptitle.get_text()
    assert len(view.cross.get_xdata()) == 1
