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


# ------------------------------------------------------------------ the rotated ravine, AdaGrad

def test_rotated_ravine_has_the_ravines_curvatures_along_the_diagonal():
    h = race.ROTATED_HESSIAN
    values, vectors = np.linalg.eigh(h)
    assert np.allclose(values, [0.2, 20.0], rtol=1e-12)
    assert np.allclose(np.abs(vectors[:, 0]), [2 ** -0.5, 2 ** -0.5], rtol=1e-12)   # shallow along x = y
    w = np.array([0.3, -1.1])
    assert np.isclose(race.rotated_ravine(*w), 0.5 * w @ h @ w, rtol=1e-12)
    s = race.SURFACES["rotated"]
    rot = race._ROT
    assert np.allclose(s.start, rot @ np.array(race.SURFACES["ravine"].start), rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "momentum", "Nesterov"])
def test_rotation_invariant_optimizers_give_the_rotated_path(name):
    # a scalar rate commutes with the rotation: the rotated run is the original run, rotated
    a = race.race_paths("ravine", lr=0.05, steps=80)[name]
    b = race.race_paths("rotated", lr=0.05, steps=80)[name]
    assert np.allclose(b, a @ race._ROT.T, rtol=1e-9, atol=1e-12)


def test_per_coordinate_methods_lose_their_advantage_when_rotated():
    aligned = race.final_losses("ravine", race.race_paths("ravine", lr=0.05))
    rotated = race.final_losses("rotated", race.race_paths("rotated", lr=0.05))
    for name in ("RMSProp", "Adam"):
        assert aligned[name] < 1e-3 * aligned["SGD"]
        assert rotated[name] > 1e3 * rotated["momentum"]


def test_adagrad_is_in_the_race_and_matches_its_formula():
    paths = race.race_paths("ravine", lr=0.05, steps=3)
    assert "AdaGrad" in paths and race.STYLES["AdaGrad"]["color"]
    s = race.SURFACES["ravine"]
    w, acc = np.array(s.start), np.zeros(2)
    for t in range(3):
        g = s.grad(w)
        acc += g * g
        w = w - 0.05 * g / (np.sqrt(acc) + 1e-10)
        assert np.allclose(paths["AdaGrad"][t + 1], w, rtol=1e-12)


def test_adam_moments_give_the_step_length_in_units_of_lr():
    lr = 0.05
    moments = race.adam_moments("rosenbrock", lr=lr, beta=0.9, beta2=0.99, steps=40)
    path = race.race_paths("rosenbrock", lr=lr, beta=0.9, beta2=0.99, steps=40)["Adam"]
    steps = np.abs(np.diff(path, axis=0)) / lr
    assert moments["ratio"].shape == (40, 2)
    assert np.allclose(moments["ratio"], steps, rtol=1e-6)
    assert np.allclose(moments["ratio"][0], 1.0)              # bias-corrected first step: lr sign(g)
    assert np.allclose(moments["g"][0], np.abs(race.SURFACES["rosenbrock"].grad(np.array([-1.2, 1.0]))))


def test_step_lengths_and_losses_along_the_paths():
    paths = race.race_paths("saddle", lr=0.05, steps=20)
    lengths, losses = race.step_lengths(paths), race.losses_along("saddle", paths)
    for name, p in paths.items():
        assert lengths[name].shape == (len(p) - 1,) and losses[name].shape == (len(p),)
        assert np.isclose(losses[name][-1], race.final_losses("saddle", paths)[name])


def test_draw_surfaces_fits_the_notebook_width_with_one_legend():
    fig, runs = race.draw_surfaces(["ravine", "rotated"], steps=30)
    assert fig.get_figwidth() <= 8.4 and set(runs) == {"ravine", "rotated"}
    assert len(fig.axes) == 4 and all(ax.get_legend() is None for ax in fig.axes)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == list(race.OPTIMIZERS)
    assert all(t.get_fontsize() >= 9 for t in fig.legends[0].get_texts())


# ------------------------------------------------------------------ the quadratic analysis

def _matrix_radius(lr, beta, lam):
    m = np.array([[1 - lr * lam, -lr * beta], [lam, beta]])
    return np.abs(np.linalg.eigvals(m)).max()


def test_momentum_rate_is_the_spectral_radius_of_the_iteration():
    rng = np.random.default_rng(0)
    for _ in range(200):
        lam_min = float(rng.uniform(0.01, 1.0))
        lam_max = lam_min * float(rng.uniform(1.0, 300.0))
        lr, beta = float(rng.uniform(0.0, 4.5 / lam_max)), float(rng.uniform(0.0, 0.99))
        expected = max(_matrix_radius(lr, beta, lam_min), _matrix_radius(lr, beta, lam_max))
        assert np.isclose(race.momentum_rate(lr, beta, lam_min, lam_max), expected, rtol=1e-9)


def test_momentum_rate_without_momentum_is_gradient_descent():
    lrs = np.linspace(0.0, 0.12, 25)
    assert np.allclose(race.momentum_rate(lrs, 0.0, 0.2, 20.0), race.gd_rate(lrs, 0.2, 20.0), rtol=1e-12)


@pytest.mark.parametrize("lr, beta", [(0.09, 0.0), (0.05, 0.5), (0.09, 0.9), (0.15, 0.3), (0.12, 0.7),
                                      (0.11, 0.0), (0.2, 0.0)])
def test_predicted_rate_matches_the_decay_of_a_cl_sgd_run(lr, beta):
    predicted = float(race.momentum_rate(lr, beta, 0.2, 20.0))
    path = race.quadratic_path(lr, beta, 0.2, 20.0, steps=400)
    assert np.isclose(race.measured_rate(path), predicted, rtol=0.01)


def test_the_optimum_is_polyaks_and_nothing_on_a_fine_grid_beats_it():
    best = race.optimal_momentum(0.2, 20.0)
    assert np.isclose(best.lr, 4 / (np.sqrt(20) + np.sqrt(0.2)) ** 2, rtol=1e-14)
    assert np.isclose(best.beta, (9 / 11) ** 2, rtol=1e-14) and np.isclose(best.rate, 9 / 11, rtol=1e-14)
    assert np.isclose(race.momentum_rate(best.lr, best.beta, 0.2, 20.0), best.rate, rtol=1e-9)
    lrs, betas = np.linspace(0.001, 0.2, 400), np.linspace(0.0, 0.98, 400)
    grid = race.momentum_rate(lrs[None, :], betas[:, None], 0.2, 20.0)
    assert grid.min() >= best.rate - 1e-9
    assert grid.min() < best.rate + 0.01                   # and the grid gets close to it
    measured = race.measured_rate(race.quadratic_path(best.lr, best.beta, 0.2, 20.0, steps=400))
    assert np.isclose(measured, best.rate, rtol=0.01)      # critically damped: t * rate^t, still close


def test_gradient_descents_optimum():
    gd = race.optimal_gd(0.2, 20.0)
    assert np.isclose(gd.lr, 2 / 20.2) and np.isclose(gd.rate, 99 / 101) and gd.beta == 0.0
    lrs = np.linspace(0.0, 0.1, 2001)
    assert race.gd_rate(lrs, 0.2, 20.0).min() >= gd.rate - 1e-12


def test_rates_depend_on_the_condition_number_only():
    a = race.momentum_rate(0.3, 0.6, 0.1, 10.0)
    b = race.momentum_rate(0.3 / 50, 0.6, 5.0, 500.0)       # curvatures x 50, lr / 50
    assert np.isclose(a, b, rtol=1e-12)


def test_bad_curvatures_and_betas_raise():
    for lam_min, lam_max in ((0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)):
        with pytest.raises(ValueError, match="0 < lam_min <= lam_max"):
            race.optimal_momentum(lam_min, lam_max)
    with pytest.raises(ValueError, match="beta must be in"):
        race.momentum_rate(0.1, 1.0, 0.2, 20.0)
    with pytest.raises(ValueError, match="need more than"):
        race.measured_rate(np.ones((10, 2)))


def test_rate_map_and_steps_per_decade():
    x, b, rate = race.rate_map(100.0, n=41)
    assert rate.shape == (41, 41) and x.max() == race.LR_SCALED_MAX and b.min() == 0.0
    assert not rate.flags.writeable
    assert np.isclose(race.steps_per_decade(0.1), 1.0) and np.isinf(race.steps_per_decade(1.0))
    assert np.all(rate[:, -1] > 1)                          # lr * lam_max = 4.2 > 2(1 + beta): diverges


def test_momentum_explorer_moves_and_reports_both_rates():
    import ipywidgets as W

    w = race.momentum_explorer()
    sliders = [c for c in w.children if isinstance(c, (W.FloatSlider, W.FloatLogSlider))]
    assert [s.description for s in sliders] == ["κ = λmax/λmin", "η · λmax", "β"]
    before = w.result["predicted"]
    sliders[2].value = 0.8
    assert w.result["predicted"] != before
    assert np.isclose(w.result["measured"], w.result["predicted"], rtol=0.02)
    assert "course-main-widget" not in w._dom_classes       # the race is the notebook's main widget
    fig, info = race.rate_figure(kappa=1000.0, lr_scaled=3.0, beta=0.9)
    assert fig.get_figwidth() <= 8.4 and info["optimum"].rate < info["gd"].rate


# ------------------------------------------------------------------ the real-data experiments

from course_lib.widgets import optimizers_experiments as ox  # noqa: E402


def test_digits_are_centred_read_only_and_follow_the_course_seed(monkeypatch):
    Xtr, ytr, Xval, yval = ox.digits()
    assert np.abs(Xtr.mean(axis=0)).max() < 1e-12 and np.abs(Xval.mean(axis=0)).max() > 1e-4
    assert not Xtr.flags.writeable
    monkeypatch.setenv("COURSE_SEED", "1")
    assert not np.array_equal(ox.digits()[1], ytr)


def test_mlp_is_seeded_and_shaped():
    a, b, c = ox.mlp(3), ox.mlp(3), ox.mlp(4)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)
    deep = ox.mlp(0, depth=4, scale=2.0)
    assert len([p for p in deep.parameters() if p.data.ndim == 2]) == 4
    assert np.isclose(deep.parameters()[0].data.std() / ox.mlp(0, depth=4).parameters()[0].data.std(), 2.0)


def test_sgd_run_is_deterministic_and_marks_a_divergence():
    a = ox.sgd_run(32, 0.5, 20, seed=1, record=[5, 20])
    b = ox.sgd_run(32, 0.5, 20, seed=1, record=[5, 20])
    assert np.array_equal(a, b) and a[1] < a[0] < np.log(10) * 1.2
    assert np.all(np.isinf(ox.sgd_run(32, 1e4, 20, seed=1, record=[5, 20])))


def test_batch_size_study_structure_and_best_rate():
    study = ox.batch_size_study([0], epochs_small=1, steps_large=12)
    n = study.n
    assert set(study.loss) == {1, 32, n} and study.budget == {1: n, 32: 12, n: 12}
    for B in study.loss:
        assert set(study.loss[B]) == set(ox.BATCH_GRIDS["full" if B == n else B])
        assert all(v.shape == (1, len(study.steps[B])) for v in study.loss[B].values())
    assert study.best_lr(1) in (0.03, 0.1) and np.isinf(study.at(1, 0.3, n)).all()
    assert np.array_equal(study.examples(32), study.steps[32] * 32)


def test_start_losses_detect_a_jump():
    calm = ox.start_losses(lambda ps: cl.Adam(ps, lr=0.001), seeds=[0], steps=5)
    wild = ox.start_losses(lambda ps: cl.SGD(ps, lr=50.0), seeds=[0], steps=5)
    assert calm["loss"].shape == (1, 5) and calm["jump"][0] < 1.1
    assert wild["jump"][0] > 3.0 and wild["exploded"][0] == 1.0


def test_warmup_study_structure():
    study = ox.warmup_study([0], warmups=(0, 5), lr=0.01, depth=2, epochs=1, watch=10)
    assert set(study) == {0, 5}
    for runs in study.values():
        assert runs["loss"].shape == (1, 10) and runs["exploded"][0] == 0.0 and runs["val_acc"][0] > 0.5


def test_train_clipped_reports_norms_before_clipping_and_the_clipped_steps():
    plain = ox.train_clipped(ox.mlp(0), 0.05, epochs=1, seed=0)
    clipped = ox.train_clipped(ox.mlp(0), 0.05, epochs=1, clip=0.5, seed=0)
    assert np.isclose(plain["norm"][0], clipped["norm"][0], rtol=1e-12)   # same weights, same first batch
    assert np.array_equal(clipped["clipped"], clipped["norm"] > 0.5)
    assert not plain["clipped"].any()
    spiky = ox.train_clipped(ox.mlp(0), 0.05, epochs=1, seed=0, spikes=[3, 7])
    assert np.flatnonzero(spiky["spike"]).tolist() == [3, 7]
    assert spiky["norm"][3] > 5 * np.median(plain["norm"])                 # an outlier batch is a spike


def test_clip_every_step_and_spike_study_structure():
    every = ox.clip_every_step([0], epochs=1, small_lrs=(0.03,))
    assert 0.9 < every["clipped_share"][0] <= 1.0 and set(every.keys()) >= {"val_clipped", "val_lr0.03"}
    study = ox.spike_study([0], epochs=2, n_spikes=2)
    assert len(study.spike_steps[0]) == 2 and study.clipped_share(True)[0] == 1.0
    assert np.isclose(study.clip[0], 2 * np.median(study.runs["clean"][0]["norm"]))
    assert set(study.runs) == {"clean", "spiky", "clipped", "low_lr"}


def test_scan_bookkeeping_on_a_hand_made_result():
    nan = np.nan
    final = {"SGD": np.array([[1.0, 0.1, 0.2, nan], [1.0, 0.2, 0.1, 0.3]])}
    scan = ox.Scan(np.array([0.01, 0.1, 1.0, 10.0]), [0, 1], 3, final,
                   curves={"SGD": np.ones((2, 4, 3))}, val_acc={"SGD": np.ones((2, 4))})
    assert np.isnan(scan.mean_final("SGD")[3])              # a rate counts only if no seed exploded
    assert scan.best("SGD") in (1, 2) and scan.first_exploding("SGD") == 3
    assert scan.best_per_seed("SGD").tolist() == [1, 2]
    assert scan.width("SGD") == 2


def test_optimizer_scan_small():
    scan = ox.optimizer_scan([0], grid=np.array([0.1, 1e3]), epochs=1, names=("SGD", "Adam"))
    assert scan.final["SGD"].shape == (1, 2) and np.isfinite(scan.final["SGD"][0, 0])
    assert np.isnan(scan.final["Adam"][0, 1]) and scan.first_exploding("Adam") == 1


def test_averaging_study_structure():
    study = ox.averaging_study([0], lrs=(0.3,), epochs=2)
    runs = study[0.3]
    for key in ("val_loss_last", "val_loss_ema", "val_loss_swa", "val_loss_best_epoch", "val_acc_ema"):
        assert np.isfinite(runs[key]).all()
    assert runs["val_loss_best_epoch"][0] <= runs["val_loss_last"][0] + 1e-12


def test_the_draw_functions_fit_the_notebook_width():
    import matplotlib.pyplot as plt

    scan = ox.optimizer_scan([0, 1], grid=np.array([0.03, 0.3, 1e3]), epochs=2, names=("SGD", "momentum"))
    figures = [ox.draw_scan(scan)[0].figure,
               ox.draw_batch_sizes(ox.batch_size_study([0], epochs_small=1, steps_large=10))[0].figure,
               ox.draw_warmup(ox.warmup_study([0, 1], warmups=(0, 5), lr=0.01, depth=2, epochs=1, watch=8))[0].figure,
               ox.draw_spikes(ox.spike_study([0, 1], epochs=2, n_spikes=1))[0].figure,
               ox.draw_averaging(ox.averaging_study([0, 1], lrs=(0.3, 1.0), epochs=2))[0].figure]
    for fig in figures:
        assert fig.get_figwidth() <= 8.4
        fig.canvas.draw()
        for text in fig.findobj(plt.Text):
            if text.get_text().strip() and text.get_visible():
                assert text.get_fontsize() >= 9, text.get_text()
