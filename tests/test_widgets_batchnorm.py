"""Headless tests of the BatchNorm explorer (course_lib/widgets/batchnorm.py, notebook 04)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import batchnorm as bnw  # noqa: E402

SMALL_LRS = (0.1, 0.2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_make_mlp_layouts():
    before = bnw.make_mlp(True, placement="before")
    kinds = [type(layer).__name__ for layer in before]
    assert kinds[:3] == ["Linear", "BatchNorm1d", "ReLU"] and kinds[-1] == "Linear"
    assert kinds.count("BatchNorm1d") == bnw.DEPTH - 1
    # the bias in front of BN is redundant and left out; the output layer keeps its bias
    assert before[0].b is None and before[-1].b is not None
    after = bnw.make_mlp(True, placement="after")
    assert [type(layer).__name__ for layer in after][:3] == ["Linear", "ReLU", "BatchNorm1d"]
    plain = bnw.make_mlp(False)
    assert not any(isinstance(layer, cl.BatchNorm1d) for layer in plain)
    with pytest.raises(ValueError, match="placement"):
        bnw.make_mlp(True, placement="inside")


def test_init_scale_only_rescales_the_logits_of_a_bn_net():
    # BN removes the scale of every hidden layer; only the output layer's factor remains
    X = bnw.digits().X_train[:64]
    out1 = bnw.make_mlp(True, init_scale=1.0, rng=3).forward(X)
    out2 = bnw.make_mlp(True, init_scale=2.0, rng=3).forward(X)
    assert np.abs(out2 - 2.0 * out1).max() < 1e-3 * np.abs(out2).max()   # up to eps
    plain1 = bnw.make_mlp(False, init_scale=1.0, rng=3).forward(X)
    plain2 = bnw.make_mlp(False, init_scale=2.0, rng=3).forward(X)
    assert np.allclose(plain2, 2.0 ** bnw.DEPTH * plain1)   # ReLU is positively homogeneous


def test_train_run_is_deterministic_and_learns():
    fresh = bnw.compute_run                         # the uncached computation
    a = fresh(True, 0.2, 1.0, epochs=1)
    b = fresh(True, 0.2, 1.0, epochs=1)
    assert np.array_equal(a.loss, b.loss) and a.val_acc == b.val_acc
    assert a.status == "completed" and len(a.loss) == 17            # ceil(1079 / 64) steps
    assert a.loss[-5:].mean() < 0.6 * a.loss[:3].mean()
    assert not a.loss.flags.writeable                               # results are read-only
    assert bnw.train_run(True, 0.2) is bnw.train_run(True, 0.2, 1.0, 4, "before", 0)


def test_divergence_is_reported_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = bnw.compute_run(False, 1.0, 4.0, epochs=1)
    assert run.diverged and run.diverged_at is not None and run.diverged_at < 5


def test_explorer_slider_recomputes_fast():
    w = bnw.bn_explorer(lr=0.1, init_scale=1.0, lrs=SMALL_LRS, scales=(1.0,))
    lr_slider = w.children[0]
    assert lr_slider.description.startswith("learning rate")
    bnw.precompute(SMALL_LRS, (1.0,))              # warm the cache as the notebook does
    fig0 = w.result
    title0 = fig0.axes[0].get_title()
    lines0 = [ln.get_ydata().copy() for ln in fig0.axes[0].lines]
    lr_slider.value = 0.2
    fig1 = w.result
    assert fig1.axes[0].get_title() != title0 and "0.2" in fig1.axes[0].get_title()
    lines1 = [ln.get_ydata() for ln in fig1.axes[0].lines]
    assert any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(lines0, lines1))
    # several moves back and forth: each recomputes (the update times are measured by make bench)
    for value in (0.1, 0.2, 0.1, 0.2, 0.1):
        lr_slider.value = value
        assert f"{value:g}" in w.result.axes[0].get_title()
        plt.close("all")
    # the net toggle redraws too
    w.children[2].value = "with BN"
    assert len([ln for ln in w.result.axes[0].lines if ln.get_label().startswith("with")]) == 1
