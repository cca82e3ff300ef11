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
from course_lib.widgets import practice_experiments as px  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs():
    return pr.precompute(seed=0)  # the whole scan, as the notebook computes it under COURSE_SEED=0 (cached)


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
    spiky = 2.3 * np.exp(-t / 5) + 0.005
    spiky[50::7] = 1.5                                  # low between jumps, high on average
    curves = {
        1e-4: (2.3 - 0.001 * t, False),                 # barely falls: flat
        1e-3: (2.3 * np.exp(-t / 15), False),           # keeps falling: good, and the lowest
        1e-2: (spiky, False),                           # fast drop, reaches low values, spikes
        3e-2: (np.r_[2.3, np.full(99, 0.4)], False),    # drops at once, then stalls high: plateau
        1e-1: (np.array([2.3, 9.0]), True),             # stopped by the explosion guard
    }
    assert pr.final_level(spiky) > 3 * pr.final_level(curves[1e-3][0])
    assert pr.read_scan(curves) == {1e-4: "flat", 1e-3: "good", 1e-2: "spikes", 3e-2: "plateau",
                                    1e-1: "exploded"}
    assert list(pr.GUIDE) == ["flat", "good", "spikes", "plateau", "exploded"]
    # the floor decides between the two: raise the spiky curve's floor and it reads as a plateau
    assert pr.read_scan(curves, floor_factor=1e-3)[1e-2] == "plateau"
    # a rate BELOW the reference that ends higher is slow, not a plateau
    curves[1e-3], curves[3e-2] = curves[3e-2], curves[1e-3]
    assert pr.read_scan(curves)[1e-3] == "good"
    assert pr.final_level(np.r_[np.ones(6), np.zeros(2)]) == 0.0
    assert pr.floor_level(np.r_[np.full(10, 5.0), np.arange(10.0)]) == pytest.approx(0.9)


def test_defaults_follow_course_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "2")
    assert pr.default_seed() == 2000 and pr.default_seed(7) == 7
    a, b = pr.make_mlp(), pr.make_mlp(rng=2000)
    assert np.array_equal(a[0].W.data, b[0].W.data)
    monkeypatch.setenv("COURSE_SEED", "0")
    assert not np.array_equal(pr.make_mlp()[0].W.data, a[0].W.data)


def test_scan_is_deterministic():
    a = pr.scan_run(1e-3, epochs=1, seed=5)
    pr._scan_run.cache_clear()
    b = pr.scan_run(1e-3, epochs=1, seed=5)
    assert np.array_equal(a.loss, b.loss)
    assert a.val_acc == b.val_acc
    for name in a.ratios:
        assert np.array_equal(a.ratios[name], b.ratios[name])
    with pytest.raises(ValueError):
        a.loss[0] = 0.0                                   # cached arrays are read-only


def test_scan_reads_every_case_in_order(runs):
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
    examples = pr.examples_of(runs)
    assert set(examples) == set(pr.GUIDE) and all(runs[lr].verdict == k for k, lr in examples.items())
    table = pr.scan_table({0: runs})
    assert len(table.splitlines()) == len(runs) + 1 and "spikes" in table


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
    centred = cl.search.grid_search(pr.toy_objective, pr.TOY_SPACE, 3, maximize=True, centered=True)
    assert np.allclose(sorted(set(centred.values("x"))), [1 / 6, 1 / 2, 5 / 6])
    best = [random_search(pr.toy_objective, pr.TOY_SPACE, 9, rng=s, maximize=True).best["score"]
            for s in range(200)]
    assert np.mean(best) > grid.best["score"] + 0.4
    assert pr.toy_objective(0.7, 0.35) == pytest.approx(1.05)


def test_draw_scan_colours_by_rate_and_shows_every_seed():
    runs = {0: pr.precompute(seed=0)}
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4))
    pr.draw_scan(runs, axes)
    styles = {line.get_linestyle() for line in axes[0].get_lines()}
    assert {"-", "--", "-.", ":"} <= styles                     # the verdicts as line styles
    assert len(fig.axes) == 3                                   # the two panels and a colour bar
    assert axes[0].get_ylim()[0] == pytest.approx(1e-4)


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
    assert any("3 distinct x" in t for t in titles)


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
    assert "fast drop, then flat and high → too high" in view.suptitle.get_text()
    line = view.ratio_lines["0.W"]
    assert np.allclose(line.get_ydata(), np.log10(run.ratios["0.W"]))
    run = view.update(1.0)
    assert "exploded at step" in view.suptitle.get_text()
    assert len(view.cross.get_xdata()) == 1


# ---------------------------------------------------------------------------------------------
# the experiments of the notebook (course_lib/widgets/practice_experiments.py), on small budgets

def test_peek_records_exactly_what_fit_feeds_the_network():
    X, y, *_ = pr.digits()
    xb, yb = px.first_batch(X, y, seed=3)
    rows = px.match_rows(xb, X)
    assert xb.shape == (64, 64) and np.all(rows >= 0) and np.array_equal(yb, y[rows])
    assert np.array_equal(rows, np.random.default_rng(3).permutation(len(X))[:64])   # fit's first batch
    assert px.match_rows(np.ones((1, 64)) * 7.0, X)[0] == -1
    xs, ys = px.first_batch(X, np.roll(y, 1), seed=3)                 # a planted misalignment shows
    assert not np.array_equal(ys, y[px.match_rows(xs, X)])
    peek = px.Peek(keep=2)
    peek.eval()
    peek.forward(np.zeros((2, 3)))
    assert peek.seen == []                                          # evaluation passes are not recorded


def test_check_2_catches_a_penalty_that_only_reaches_the_gradient():
    lams = (0.0, 1e-2)
    logged = px.first_logged_loss(lams, seed=0)
    planted = px.first_logged_loss(lams, seed=0, penalty=px.GradientOnlyL2)
    assert logged[1] > logged[0] + 1.0 and planted[0] == planted[1] == logged[0]
    W = [p for p in pr.make_mlp(rng=0).parameters() if p.is_weight]
    assert logged[1] - logged[0] == pytest.approx(cl.L2(1e-2).value(W), rel=1e-9)
    p = cl.Parameter(np.ones((2, 2)))
    px.GradientOnlyL2(0.5).add_grad([p])
    assert np.allclose(p.grad, 0.5)                                  # the gradient does get the penalty


def test_overfit_batch_and_the_input_independent_baseline():
    r = px.overfit_batch(5, n=20, epochs=100)
    assert r["train_acc"] == 1.0 and r["last"] < 0.01 and r["curve"].shape == (100,)
    b = px.baseline(5, epochs=1)
    assert b["beats"] and b["real"] < b["zero"] and abs(b["zero"] - b["labels"]) < 0.02
    broken = px.baseline(5, make_model=lambda s: pr.make_mlp(rng=s, init="zeros"), epochs=1)
    assert not broken["beats"] and broken["real"] == pytest.approx(broken["zero"])


def test_curve_shape_experiments_return_what_the_notebook_reads():
    cliff = px.init_cliff(1, epochs=1)
    assert set(cliff) == {"small", "He"} and cliff["small"][0].size == 17 and cliff["He"][1]
    assert cliff["small"][2] in (True, False)
    q1, q4 = px.quarters(np.r_[np.full(4, 2.0), np.full(4, 1.0)])
    assert (q1, q4) == (2.0, 1.0)
    reg = px.regimes(1, epochs=2)
    assert reg["over"].epochs == reg["under"].epochs == 2
    assert reg["under"].update_ratios == {}                          # no ratios recorded: cheaper


def test_first_layer_filters_and_their_smoothness():
    rng = np.random.default_rng(0)
    assert abs(px.neighbour_correlation(rng.standard_normal((64, 50)))) < 0.1
    ramp = np.add.outer(np.arange(8.0), np.arange(8.0)).ravel()
    smooth = ramp[:, None] * rng.standard_normal(30)[None, :]
    assert px.neighbour_correlation(smooth) > 0.9
    X, *_ = pr.digits()
    assert set(px.constant_pixels(X)) >= {0}
    run = pr.scan_run(1e-3, epochs=1, seed=0)
    W0, W1 = px.first_layer(run, 0)
    assert W0.shape == W1.shape == (64, 100) and not np.array_equal(W0, W1)
    assert np.array_equal(W0[px.constant_pixels(X)], W1[px.constant_pixels(X)])   # zero inputs: no gradient
    fig = plt.figure()
    assert px.draw_filters(W0, W1, fig, units=4).shape == (3, 4)
    fig2 = plt.figure()
    xb, yb = X[:4], np.arange(4)
    axes = px.draw_batch(xb, yb, pr.training_mean(), fig2, n=4, cols=4)
    assert [ax.get_title() for ax in np.ravel(axes)] == [f"label {k}" for k in range(4)]


def test_sensitivity_interpolates_on_the_log_scale():
    values = np.array([1.0, 10.0, 100.0, 1000.0])
    scores = np.array([[0.5, 0.9, 0.7, 0.1], [0.5, 0.8, 0.7, 0.1]])
    best, down, up = px.sensitivity(values, scores, factor=10 ** 0.5)
    assert best == pytest.approx(10.0)
    assert np.allclose(down, [0.2, 0.15]) and np.allclose(up, [0.1, 0.05])
    best, down, up = px.sensitivity(values, [[0.1, 0.2, 0.5, 0.9]], factor=4)
    assert best == pytest.approx(1000.0) and up is None                # beyond the measured range
    assert down[0] == pytest.approx(0.9 - (0.5 + 0.4 * (1 - np.log10(4))))


def test_search_showdown_grids_and_quasi_random_points():
    assert np.allclose(np.unique(px.grid_points(3)), [0.0, 0.5, 1.0])
    assert np.allclose(np.unique(px.grid_points(3, centred=True)), [1 / 6, 0.5, 5 / 6])
    one = px.search_showdown(0, instances=200)
    both = px.search_showdown(0, instances=200, both=True)
    assert one["grid"] < one["centred grid"] < one["random"] < one["quasi-random"] <= 1.05
    assert abs(both["centred grid"] - both["random"]) < 0.08 and both["quasi-random"] <= 2.0
    assert 0 <= one["random > centred grid"] <= 1
    assert px.search_showdown(0, instances=200) == one                # the same draws: deterministic


def test_coarse_to_fine_stays_inside_the_coarse_space():
    r = px.coarse_to_fine(0, trials=3, top=2, epochs=1, confirm_epochs=1, confirm_seeds=1)
    assert len(r["coarse"].trials) == len(r["fine"].trials) == 3
    for name, dist in r["fine_space"].items():
        assert px.COARSE_SPACE[name].low <= dist.low < dist.high <= px.COARSE_SPACE[name].high
    assert len(r["confirm"]) == 2 and all(0 <= v <= 1 for v in r["confirm"])
    knobs = px.one_knob(0, 3e-3, 1e-6, lams=(1e-6, 1.0), lrs=(1e-5,), epochs=1)
    assert set(knobs["lr"]) == {1e-5, 3e-3} and knobs["lam"][1.0] < knobs["lam"][1e-6]


def test_recipe_net_mixes_examples_only_through_batchnorm_in_training_mode():
    X, y, *_ = pr.digits()
    net = px.recipe_net(0)
    assert abs(cl.evaluate(net, cl.SoftmaxCrossEntropy(), X, y)[0] - np.log(10)) < 0.02
    assert not cl.diagnostics.batch_independence(net, X[:16], seed=0)
    where = cl.diagnostics.locate_batch_mixing(net, X[:16], seed=0)
    assert where.first == 1 and isinstance(where.layer, cl.BatchNorm1d)
    net.eval()
    assert cl.diagnostics.batch_independence(net, X[:16], seed=0)
    plain = px.recipe_net(0, batchnorm=False, p=0.0)
    assert [type(m).__name__ for m in plain] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert cl.diagnostics.batch_independence(plain, X[:16], seed=0)


def test_ablation_tunes_the_rate_per_step_and_widens_at_an_edge():
    abl = px.ablation([0, 1], lrs=(1e-3, 3e-3), steps=px.RECIPE_STEPS[:2], epochs=2)
    for step in abl.steps:
        rates, losses = abl.tuning[step]
        assert abl.widened[step]                                     # two rates: the best was at an edge
        assert set(abl.widened[step]) <= set(rates) and abl.chosen[step] == rates[np.argmin(losses)]
        assert rates[0] < abl.chosen[step] < rates[-1]                # ... and is inside now
        assert abl.best_loss[step].shape == abl.best_acc[step].shape == abl.shared_loss[step].shape == (2,)
        h, _ = abl.run(step, 1)
        assert abl.best_loss[step][1] == h.val_loss[h.best_epoch]
        assert losses.min() == abl.best_loss[step][0]                 # the tuning seed's own run
    assert abl.at_edge == []
    assert np.array_equal(abl.shared_loss[abl.steps[0]], abl.best_loss[abl.steps[0]])
    assert "plain" in abl.table() and "best epochs" in abl.table()
    fig, axes = plt.subplots(1, 2)
    px.draw_isolation(abl, axes)
    assert len(axes[1].collections) >= 2 * len(abl.steps)
    h, _ = px.recipe_run(px.RECIPE_STEPS[3], 1e-2, 0, epochs=2)
    assert len(h.lr) == h.steps and h.lr[0] < h.lr[20]               # warm-up: the rate starts low
    h, _ = px.recipe_run(px.RECIPE_STEPS[0], 30.0, 0, epochs=2)      # an exploding run scores inf
    assert h.exploded and px._best_val_loss(h) == float("inf")


def test_the_notebook_figures_draw_from_small_runs(runs):
    X, y, *_ = pr.digits()
    fig, ax = plt.subplots()
    px.draw_cliff({1: px.init_cliff(1, epochs=1)}, ax)
    assert len(ax.get_lines()) == 3                                     # two inits and the ln 10 line
    fig, axes = plt.subplots(1, 2)
    px.draw_regimes({1: px.regimes(1, epochs=2)}, axes)
    assert "no gap" in axes[1].get_title()
    stats = {(name, 0): cl.diagnostics.layer_stats(px.tanh_net(name, 0, depth=2), X,
                                                   cl.SoftmaxCrossEntropy(), y) for name in px.TANH_INITS}
    fig, axes = plt.subplots(1, 3)
    px.draw_saturation(stats, X, axes)
    assert list(axes[1].get_xticks()) == [1, 2]
    fig, axes = plt.subplots(1, 2)
    px.draw_ratios({0: runs}, axes)
    assert any(line.get_marker() == "*" for line in axes[1].get_lines())
    fig, axes = plt.subplots(1, 2)
    px.draw_coarse_fine(px.coarse_to_fine(0, trials=3, top=2, epochs=1, confirm_epochs=1, confirm_seeds=1),
                        fig, axes, seed=0)
    assert len(fig.axes) == 4                                           # two panels, two colour bars
    h, _ = px.recipe_run(px.RECIPE_STEPS[1], 3e-3, 0, epochs=2)
    fig, axes = plt.subplots(1, 3)
    px.draw_final(h, axes, title="t")
    assert axes[0].get_yscale() == "log"


def test_mixing_report_on_the_recipe_network():
    X, *_ = pr.digits()
    m = px.mixing_report(0, X)
    assert m["mlp"] and not m["train"] and m["eval"] and m["where"].first == 1
    assert m["rel"][0] > m["rel"][1] > m["rel"][2]
