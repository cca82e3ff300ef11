"""Tests of notebook 05's experiments and figures (course_lib/widgets/dropout_experiments.py and
course_lib/widgets/dropout.py): the stacked trainer against cl.fit, the metrics against a
rebuilt model, the cache, COURSE_SEED, the summaries, the figures and the explorer."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import dropout as dow  # noqa: E402
from course_lib.widgets import dropout_experiments as dex  # noqa: E402

FEW = 4          # epochs for the quick runs
SMALL = 16       # hidden width for the exactness tests


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- the bench


def test_make_mlp_has_no_dropout_on_the_output_layer():
    net = dow.make_mlp(0.5, rng=cl.make_rng(0))
    kinds = [type(layer).__name__ for layer in net]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert all(layer.p == 0.5 for layer in net if isinstance(layer, cl.Dropout))
    assert not any(isinstance(layer, cl.Dropout) for layer in dow.make_mlp(0.0, rng=cl.make_rng(0)))
    # the same weight generator gives the same weights whatever the drop rate
    assert np.array_equal(net[0].W.data, dow.make_mlp(0.0, rng=cl.make_rng(0))[0].W.data)
    assert net[0].W.shape == (64, dex.WIDTH)


def test_training_data_centred_noisy_and_seeded():
    X, y, y_true, X_val, y_val, X_test, y_test = dex.training_data(0.2, noise_seed=3)
    assert X.shape == (dex.N_TRAIN, 64) and y.shape == y_true.shape == (dex.N_TRAIN,)
    assert np.allclose(X.mean(axis=0), 0.0)                       # centred with its own mean
    assert not np.allclose(X_val.mean(axis=0), 0.0)               # ... not the validation mean
    wrong = np.mean(y != y_true)
    assert 0.1 < wrong < 0.26                                     # ~ 0.2 * 9/10 relabelled wrongly
    assert np.array_equal(y, dex.training_data(0.2, noise_seed=3)[1])
    assert not np.array_equal(y, dex.training_data(0.2, noise_seed=4)[1])
    _, y_clean, y_true2, *_ = dex.training_data(0.0, noise_seed=3)
    assert np.array_equal(y_clean, y_true2) and np.array_equal(y_true2, y_true)
    with pytest.raises(ValueError):
        X[0, 0] = 1.0                                             # cached arrays are read-only


def test_setting_validates_and_normalizes():
    assert dex.Setting(p=1 / 2) == dex.Setting(p=0.5)
    assert dex.Setting(p=0.5).but(width=256).width == 256
    with pytest.raises(ValueError, match="drop rate"):
        dex.Setting(p=1.0)
    with pytest.raises(ValueError, match="max_norm"):
        dex.Setting(max_norm=0.0)
    assert "max-norm c = 1.5" in dex.Setting(p=0.5, max_norm=1.5).describe()


def test_course_runs_follow_course_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert dex.course_runs(3) == [(0, 0), (1, 1), (2, 2)]
    assert dex.course_runs(3, 2) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    monkeypatch.setenv("COURSE_SEED", "1")
    assert dex.course_runs(2) == [(1000, 1000), (1001, 1001)]


def test_eval_epochs():
    marks = dex.eval_epochs(150)
    assert marks[0] == 1 and marks[-1] == 150 and 40 in marks
    assert np.all(np.diff(marks[marks <= 40])[1:] == 2) and np.all(np.diff(marks[marks >= 40]) == 5)
    assert list(dex.eval_epochs(4, budgets=(2,), every=1)) == [1, 2, 3, 4]


# ----------------------------------------------------------------------------- the stacked trainer


JOBS = [(dex.Setting(p=0.5, width=SMALL), 0, 0),
        (dex.Setting(p=0.0, width=SMALL), 1, 2),
        (dex.Setting(p=0.3, width=SMALL, label_noise=0.0, lr=0.1, momentum=0.95, max_norm=1.0), 0, 5)]


def test_stack_reproduces_cl_fit_run_by_run():
    """In float64 every net of the stack is exactly the run cl.fit + cl.SGD (+ max_norm) makes."""
    results = dex.train_stack(JOBS, epochs=FEW, budgets=(2,), dtype=np.float64, every=1)
    for (setting, noise_seed, init_seed), res in zip(JOBS, results):
        ref = dex.reference_run(setting, noise_seed, init_seed, FEW)
        for key in ("train_loss", "val_loss"):
            np.testing.assert_allclose(res[key], ref[key], rtol=1e-10, atol=1e-12)
        for key in ("train_acc", "val_acc"):
            np.testing.assert_array_equal(res[key], ref[key])
        for ours, theirs in zip(res["state"], ref["state"]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        assert res["exploded"] == 0


def test_stack_nets_do_not_interact_and_float32_agrees():
    alone = dex.train_stack(JOBS[:1], epochs=FEW, dtype=np.float64, every=1)[0]
    together = dex.train_stack(JOBS, epochs=FEW, dtype=np.float64, every=1)[0]
    np.testing.assert_allclose(alone["val_loss"], together["val_loss"], rtol=1e-12)
    single = dex.train_stack(JOBS, epochs=FEW, dtype=np.float32, every=1)
    double = dex.train_stack(JOBS, epochs=FEW, dtype=np.float64, every=1)
    for a, b in zip(single, double):
        np.testing.assert_allclose(a["train_loss"], b["train_loss"], rtol=1e-4)


def test_stack_with_max_norm_respects_the_bound():
    res = dex.train_stack(JOBS[2:], epochs=FEW)[0]
    for W in res["state"][0::2]:
        assert np.linalg.norm(W, axis=0).max() <= 1.0 + 1e-5
    free = dex.train_stack([(JOBS[2][0].but(max_norm=None), 0, 5)], epochs=FEW)[0]
    assert max(np.linalg.norm(W, axis=0).max() for W in free["state"][0::2]) > 1.0


def test_exploding_run_is_stopped_and_the_others_are_not():
    wild = (dex.Setting(p=0.5, width=SMALL, lr=50.0, momentum=0.99), 0, 0)
    res = dex.train_stack([wild, JOBS[0]], epochs=FEW, dtype=np.float64, every=1)
    assert res[0]["exploded"] >= 1 and np.isnan(res[0]["val_loss"][-1])
    assert np.isnan(res[0]["test_final"][FEW])
    calm = dex.train_stack(JOBS[:1], epochs=FEW, dtype=np.float64, every=1)[0]
    np.testing.assert_allclose(res[1]["val_loss"], calm["val_loss"], rtol=1e-12)


def test_metrics_match_the_rebuilt_model():
    """Memorization, accuracies and early stopping, recomputed from the stored weights."""
    setting = dex.Setting(p=0.5, width=SMALL)
    res = dex.train_stack([(setting, 7, 7)], epochs=6, budgets=(3,), every=1)[0]
    X, y, y_true, X_val, y_val, X_test, y_test = dex.training_data(0.2, 7)
    model = dex.model_from_state(0.5, res["state"])
    model.eval()
    pred = model.forward(X).argmax(axis=1)
    corrupt = y != y_true
    assert res["memorized"][-1] == pytest.approx(np.mean(pred[corrupt] == y[corrupt]), abs=1e-12)
    assert res["train_acc"][-1] == pytest.approx(np.mean(pred == y), abs=1e-12)
    assert res["true_acc"][-1] == pytest.approx(np.mean(pred == y_true), abs=1e-12)
    assert res["test_final"][6] == pytest.approx(
        np.mean(model.forward(X_test).argmax(axis=1) == y_test), abs=1e-12)
    for budget in (3, 6):
        losses = res["val_loss"][:budget]
        assert res["best_epoch"][budget] == np.argmin(losses) + 1     # lowest validation loss
        assert res["best_val_loss"][budget] == losses.min()
        assert res["best_val"][budget] == res["val_acc"][np.argmin(losses)]
    # without label noise there is nothing to memorize
    clean = dex.train_stack([(setting.but(label_noise=0.0), 0, 0)], epochs=2)[0]
    assert np.all(np.isnan(clean["memorized"]))


def test_train_stack_rejects_mixed_widths():
    with pytest.raises(ValueError, match="same width"):
        dex.train_stack([JOBS[0], (dex.Setting(width=SMALL * 2), 0, 0)], epochs=1)


# ----------------------------------------------------------------------------- cache and RunSet


def test_cache_runset_and_budgets():
    setting = dex.Setting(p=0.5, width=SMALL)
    runs = [(11, 11), (12, 12)]
    dex.prefetch([setting], runs, FEW)
    assert dex.prefetch([setting], runs, FEW) == 0                 # everything cached
    rs = dex.get_runs(setting, runs, FEW)
    again = dex.get_runs(setting, runs, FEW)
    assert np.array_equal(rs.curve("val_acc"), again.curve("val_acc"))
    assert len(rs) == 2 and rs.curve("val_acc").shape == (2, len(rs.epochs()))
    assert list(rs.epochs(2)) == [1, 2] and rs.final("val_acc", 2).shape == (2,)
    assert rs.test_best(FEW).shape == (2,)
    sr = rs.seed_runs()
    assert set(sr.keys()) >= {"test_best", "memorized", "gap"}
    np.testing.assert_allclose(sr["gap"], rs.final("train_acc") - rs.final("val_acc"))
    with pytest.raises(ValueError, match="budget"):
        rs.curve("val_acc", FEW + 1)
    with pytest.raises(ValueError, match="recorded"):
        rs.test_best(1)
    # clean labels ignore the noise seed: two runs that differ only in it are one entry
    clean = dex.Setting(p=0.0, width=SMALL, label_noise=0.0)
    a = dex.get_runs(clean, [(1, 5)], 2)
    b = dex.get_runs(clean, [(2, 5)], 2)
    assert a._res[0] is b._res[0]


def test_summaries_on_a_short_budget(monkeypatch):
    """guide_rows, sweep_table and the studies, on cheap runs (width 16, 4 epochs)."""
    small = [(k, n, s.but(width=SMALL * (2 if s.width > dex.WIDTH else 1))) for k, n, s in dex.GUIDE]
    monkeypatch.setattr(dex, "GUIDE", tuple(small))
    runs = [(21, 21), (22, 22)]
    rows = dex.guide_rows(runs, epochs=FEW)
    assert list(rows) == [k for k, _, _ in small]
    assert sum(r["baseline"] for r in rows.values()) == 1
    base = next(r for r in rows.values() if r["baseline"])
    assert base["vs_base"].mean == 0 and rows["dropout"]["vs_base"].n == 2
    text = dex.format_guide(rows, FEW)
    assert text.count("\n") == len(rows) + 2 and "baseline" in text
    table = dex.sweep_table("20% noisy", runs, rates=(0.0, 0.5), epochs=FEW)
    assert table["early_stopped"].shape == (2, 2) and np.all(table["memorized"] <= 1)
    fig = dow.draw_guide(rows, FEW)
    _assert_readable(fig)


def test_headline_uses_label_noise_draws_times_inits():
    base, drop = dex.headline([(31, 31), (31, 32)], epochs=2)
    assert base.setting.p == 0 and drop.setting.p == 0.5 and base.setting.label_noise == 0.2
    assert len(base) == 2 and base.runs == [(31, 31), (31, 32)]


# ----------------------------------------------------------------------------- sections 7 and 8


def _clean_state(p, width=SMALL, epochs=FEW, seed=0):
    return dex.train_stack([(dex.Setting(p=p, width=width, label_noise=0.0), 0, seed)], epochs=epochs)[0]["state"]


def test_mc_averaging_without_dropout_is_the_eval_pass():
    state = _clean_state(0.0)
    res = dex.mc_averaging(state, 0.0, cl.make_rng(0), T=5, counts=(1, 5))
    assert res["agree"] == 1.0 and res["prob_gap"] < 1e-12
    assert np.all(res["acc_mc"] == res["acc_eval"]) and res["acc_single"] == res["acc_eval"]
    noisy = dex.mc_averaging(_clean_state(0.5), 0.5, cl.make_rng(0), T=5, counts=(1, 5))
    assert noisy["prob_gap"] > 0


def test_removal_and_hidden_statistics():
    state = _clean_state(0.0)
    _, _, _, X_val, y_val, _, _ = dex.training_data(0.0)
    intact = (dex.model_from_state(0.0, state).forward(X_val).argmax(axis=1) == y_val).mean()
    rnd = dex.random_removal(state, (0.0, 0.5), cl.make_rng(1), trials=3)
    assert rnd[0] == pytest.approx(intact) and rnd[1] < intact
    top = dex.targeted_removal(state, (0, 4, SMALL))
    assert top[0] == pytest.approx(intact)
    # all units of the last layer removed: the output is the bias, one class for every digit
    assert top[-1] == pytest.approx(np.max(np.bincount(y_val)) / len(y_val)) or top[-1] < 0.2
    imp = dex.unit_importance(state)
    assert imp.shape == (SMALL,) and np.all(imp >= 0)
    stats = dex.hidden_statistics(state)
    assert 0 < stats["active"] < 1 and 0.1 <= stats["top_share"] <= 1 and 0 <= stats["mean_abs_corr"] <= 1


# ----------------------------------------------------------------------------- figures and the explorer


def _assert_readable(fig, width=8.4, min_font=8.5):
    """At most ``width`` inches wide and no visible text smaller than ``min_font`` points."""
    assert fig.get_size_inches()[0] <= width + 1e-9
    small = [t.get_text() for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_font]
    assert not small, f"text below {min_font} pt: {small[:5]}"


def test_figures_are_readable():
    runs = [(41, 41), (42, 42)]
    base, drop = dex.headline(runs, epochs=FEW)
    _assert_readable(dow.draw_memorization(base, drop, short=2))
    tables = {lab: dex.sweep_table(lab, runs, rates=(0.0, 0.5), epochs=FEW) for lab in dex.LABELS}
    _assert_readable(dow.draw_sweep(tables, rates=(0.0, 0.5)))
    h = np.abs(cl.make_rng(0).standard_normal(20))
    avg = {"inverted": h, "test-time": 0.5 * h}
    sd = {"inverted": h, "test-time": 0.5 * h}
    _assert_readable(dow.draw_unit_means(h, avg, sd, 0.5))
    counts = (1, 2, 5)
    _assert_readable(dow.draw_mc(counts, np.full((2, 3), 0.9), np.array([0.9, 0.91]), np.array([0.8, 0.85])))
    acc = {0.0: np.full((2, 4), 0.8), 0.5: np.full((2, 4), 0.85)}
    _assert_readable(dow.draw_removal(dex.REMOVE_FRACTIONS, acc, dex.REMOVE_COUNTS, acc))


def test_explorer_controls_recompute():
    runs = [(51, 51), (52, 52)]
    rates = (0.0, 0.3, 0.5)
    # the explorer draws the default width: give it runs of that width, briefly trained
    for noise in dex.LABELS.values():
        dex.prefetch([dex.Setting(p=r, label_noise=noise) for r in rates], runs, FEW)
    w = dow.dropout_explorer(p=0.3, labels="clean", epochs=2, rates=rates, runs=runs, trained=FEW,
                             budgets=(2, FEW))
    assert "course-main-widget" in w._dom_classes
    slider, labels, budget = w.children[:3]
    assert slider.description == "drop rate p"
    fig0 = w.result
    assert "p = 0.3" in fig0._suptitle.get_text() and "after 2 epochs" in fig0._suptitle.get_text()
    _assert_readable(fig0)
    slider.value = 0.5
    fig1 = w.result
    assert fig1 is not fig0 and "p = 0.5" in fig1._suptitle.get_text()
    assert not np.array_equal(fig1.axes[0].lines[-1].get_ydata(), fig0.axes[0].lines[-1].get_ydata())
    for value in (0.3, 0.5, 0.0, 0.5):
        slider.value = value
        assert f"p = {value:g}" in w.result._suptitle.get_text()
        plt.close("all")
    budget.value = FEW
    assert f"after {FEW} epochs" in w.result._suptitle.get_text()
    assert w.result.axes[0].get_xlim()[1] == FEW
    labels.value = "20% noisy"
    fig = w.result
    assert "20% noisy" in fig._suptitle.get_text() and "memorized" in fig._suptitle.get_text()


def test_readability_check_catches_small_text_and_wide_figures():
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot([0, 1], label="a curve")
    ax.legend(fontsize=7)
    with pytest.raises(AssertionError, match="below"):
        _assert_readable(fig)
    with pytest.raises(AssertionError):
        _assert_readable(plt.figure(figsize=(10, 3)))
