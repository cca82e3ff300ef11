"""Headless tests of the dropout-rate explorer (course_lib/widgets/dropout.py, notebook 05)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets import dropout as dow  # noqa: E402

FEW_EPOCHS = 3


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_make_mlp_has_no_dropout_on_the_output_layer():
    net = dow.make_mlp(0.5)
    kinds = [type(layer).__name__ for layer in net]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert all(layer.p == 0.5 for layer in net if isinstance(layer, cl.Dropout))
    assert not any(isinstance(layer, cl.Dropout) for layer in dow.make_mlp(0.0))
    # the same seed gives the same weights whatever the drop rate
    assert np.array_equal(net[0].W.data, dow.make_mlp(0.0)[0].W.data)


def test_training_subset_label_noise():
    X, y = dow.training_subset()
    assert X.shape == (dow.N_TRAIN, 64) and np.array_equal(y, dow.digits().y_train[:dow.N_TRAIN])
    _, y_noisy = dow.training_subset(label_noise=0.2)
    _, y_again = dow.training_subset(label_noise=0.2)
    assert np.array_equal(y_noisy, y_again)                       # seeded
    wrong = np.mean(y_noisy != y)
    assert 0.1 < wrong < 0.26                                     # ~ 0.2 * 9/10 relabelled wrongly


def test_compute_curves_deterministic_and_in_eval_mode():
    a = dow.compute_curves(0.5, 0.0, seed=0, epochs=FEW_EPOCHS)
    b = dow.compute_curves(0.5, 0.0, seed=0, epochs=FEW_EPOCHS)
    for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).shape == (FEW_EPOCHS,)
    assert a.train_loss[-1] < a.train_loss[0]
    # the recorded metrics are eval-mode: rebuilding the model from the state reproduces them
    net = dow.make_mlp(0.5)
    net.load_state_dict(a.state)
    X, y = dow.training_subset()
    loss, acc = cl.evaluate(net, cl.SoftmaxCrossEntropy(), X, y)
    assert loss == pytest.approx(a.train_loss[-1], rel=1e-12) and acc == a.train_acc[-1]
    assert dow.train_curves(0.5, 0.0, 0, FEW_EPOCHS) is dow.train_curves(0.5, epochs=FEW_EPOCHS)


def test_gaps_known_case():
    c = dow.Curves(0.0, 0.0, train_loss=np.array([1.0, 0.1, 0.2]), train_acc=np.array([0.5, 1.0, 0.9]),
                   val_loss=np.array([1.0, 0.5, 0.4]), val_acc=np.array([0.5, 0.8, 0.8]), state={})
    assert dow.gaps(c, last=2) == pytest.approx((0.3, 0.15))


def test_explorer_slider_recomputes_fast():
    rates = (0.0, 0.3, 0.5)
    dow.precompute(rates, (0.0,), epochs=FEW_EPOCHS)               # warm the cache
    w = dow.dropout_explorer(p=0.3, rates=rates, epochs=FEW_EPOCHS)
    slider = w.children[0]
    assert slider.description == "drop rate p"
    fig0 = w.result
    assert "p = 0.3" in fig0._suptitle.get_text()
    slider.value = 0.5
    fig1 = w.result
    assert fig1 is not fig0 and "p = 0.5" in fig1._suptitle.get_text()
    assert not np.array_equal(fig1.axes[0].lines[-1].get_ydata(), fig0.axes[0].lines[-1].get_ydata())
    # several moves: each redraws for its own rate (the update times are measured by make bench)
    for value in (0.3, 0.5, 0.0, 0.5, 0.3):
        slider.value = value
        assert f"p = {value:g}" in w.result._suptitle.get_text()
        plt.close("all")
    # the label toggle redraws too
    w.children[1].value = "20% noisy"
    assert "20% noisy" in w.result._suptitle.get_text()
