"""Calibration (ECE, per-bin table, reliability diagram) and Karpathy's recipe checks (batch
independence, the layer that mixes examples, the input-independent baseline)."""
import math

import numpy as np
import pytest

import course_lib as cl
from course_lib.diagnostics import (batch_independence, calibration_bins,
                                    expected_calibration_error, input_independent_baseline,
                                    locate_batch_mixing)
from course_lib.module import Module, check_dout


# ---------------------------------------------------------------------------------------------
# expected calibration error
# ---------------------------------------------------------------------------------------------

def rows(conf, k):
    """Probability rows over k classes whose largest entry is ``conf`` (class 0)."""
    conf = np.asarray(conf, dtype=float)
    rest = (1 - conf)[:, None] / (k - 1) * np.ones((1, k - 1))
    return np.c_[conf, rest]


def labelled(conf, correct, k=10):
    """Rows with confidence ``conf`` predicting class 0; label 0 where ``correct`` else 1."""
    return rows(conf, k), np.where(np.asarray(correct, bool), 0, 1)


def reference_ece(conf, correct, bins):
    # an independent loop over Guo et al.'s intervals ((m - 1)/M, m/M]
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for m in range(bins):
        inside = (conf > edges[m]) & (conf <= edges[m + 1])
        if m == 0:
            inside |= conf == 0
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


def test_perfectly_calibrated_predictions_give_zero():
    # 10 predictions at 0.8 with 8 right, 5 at 0.6 with 3 right, 4 at 0.5 with 2 right
    conf = [0.8] * 10 + [0.6] * 5 + [0.5] * 4
    correct = [1] * 8 + [0] * 2 + [1] * 3 + [0] * 2 + [1] * 2 + [0] * 2
    p, y = labelled(conf, correct)
    assert expected_calibration_error(p, y) == pytest.approx(0.0, abs=1e-15)
    table = calibration_bins(p, y, bins=10)
    assert table.ece == pytest.approx(0.0, abs=1e-15) and table.mce == pytest.approx(0.0, abs=1e-15)


def test_known_miscalibration():
    # one bin: 10 predictions at 0.9, 6 right -> |0.6 - 0.9| = 0.3
    p, y = labelled([0.9] * 10, [1] * 6 + [0] * 4)
    assert expected_calibration_error(p, y) == pytest.approx(0.3, abs=1e-14)
    # two bins: 6 at 0.9 all right (gap 0.1), 4 at 0.6 with 1 right (gap 0.35):
    # ECE = 0.6 * 0.1 + 0.4 * 0.35 = 0.2; MCE = 0.35
    p, y = labelled([0.9] * 6 + [0.6] * 4, [1] * 6 + [1, 0, 0, 0])
    table = calibration_bins(p, y, bins=15)
    assert table.ece == pytest.approx(0.2, abs=1e-14)
    assert table.mce == pytest.approx(0.35, abs=1e-14)
    assert table.counts.sum() == 10 and (table.counts > 0).sum() == 2
    full = table.counts > 0
    np.testing.assert_allclose(table.accuracy[full], [0.25, 1.0])
    np.testing.assert_allclose(table.confidence[full], [0.6, 0.9])
    assert np.all(np.isnan(table.accuracy[~full])) and np.all(np.isnan(table.confidence[~full]))


def test_one_bin_is_the_gap_between_mean_confidence_and_accuracy():
    rng = np.random.default_rng(0)
    logits = 2 * rng.standard_normal((200, 4))
    p = cl.functional.softmax(logits)
    y = rng.integers(0, 4, 200)
    acc = np.mean(p.argmax(1) == y)
    assert expected_calibration_error(p, y, bins=1) == pytest.approx(abs(acc - p.max(1).mean()), abs=1e-14)
    # every prediction in one bin of many: the same number
    p1, y1 = labelled([0.72] * 7, [1, 1, 0, 1, 0, 0, 1])
    assert expected_calibration_error(p1, y1, bins=15) == pytest.approx(abs(4 / 7 - 0.72), abs=1e-14)
    assert expected_calibration_error(p1, y1, bins=1) == pytest.approx(abs(4 / 7 - 0.72), abs=1e-14)


@pytest.mark.parametrize("bins", [1, 2, 4, 5, 10, 15])
def test_an_exact_edge_belongs_to_the_lower_bin(bins):
    edges = np.linspace(0, 1, bins + 1)
    for b in range(1, bins + 1):
        if edges[b] < 0.05:
            continue
        p = rows([edges[b]], 20)
        table = calibration_bins(p, [0], bins=bins)
        assert table.counts[b - 1] == 1, (bins, b, table.counts)
        above = np.nextafter(edges[b], 2.0)
        if above <= 1 and b < bins:
            table = calibration_bins(rows([above], 20), [0], bins=bins)
            assert table.counts[b] == 1
    # confidence 1 falls into the last bin
    assert calibration_bins(np.eye(3), [0, 1, 2], bins=bins).counts[-1] == 3


def test_against_an_independent_loop():
    rng = np.random.default_rng(3)
    for bins in (1, 7, 15, 30):
        p = cl.functional.softmax(3 * rng.standard_normal((500, 5)))
        y = rng.integers(0, 5, 500)
        conf, correct = p.max(1), (p.argmax(1) == y).astype(float)
        assert expected_calibration_error(p, y, bins) == pytest.approx(reference_ece(conf, correct, bins), abs=1e-14)


def test_binary_probabilities():
    p1 = np.array([0.9, 0.2, 0.65, 0.5, 0.99])
    y = np.array([1, 0, 0, 1, 1])
    two = np.c_[1 - p1, p1]
    assert expected_calibration_error(p1, y) == expected_calibration_error(two, y)
    table = calibration_bins(p1, y, bins=10)
    # p = 0.5 predicts class 0 (ties go to the lower index) with confidence 0.5 -> wrong here
    assert table.counts[4] == 1 and table.accuracy[4] == 0.0


def test_calibration_errors():
    p, y = labelled([0.8, 0.7], [1, 0], k=3)
    with pytest.raises(ValueError, match="sum to 1"):
        expected_calibration_error(p * 0.9, y)
    with pytest.raises(ValueError, match="logits"):
        expected_calibration_error(np.array([[2.0, -1.0, 0.5]]), [0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        expected_calibration_error(p, [0, 1, 1])
    with pytest.raises(ValueError, match="one-hot"):
        expected_calibration_error(p, np.eye(3)[[0, 1]])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        expected_calibration_error(p, [0, 3])
    with pytest.raises(TypeError, match="integer class labels"):
        expected_calibration_error(p, [0.5, 1.0])
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        expected_calibration_error(p, y, bins=0)
    with pytest.raises(ValueError, match="NaN"):
        expected_calibration_error(np.array([[np.nan, 1.0]]), [0])
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        expected_calibration_error(np.ones((2, 1)), [0, 0])
    with pytest.raises(ValueError, match="calibration_bins"):
        calibration_bins(p * 2, y)


def test_table_repr_lists_the_non_empty_bins():
    p, y = labelled([0.9] * 6 + [0.6] * 4, [1] * 6 + [1, 0, 0, 0])
    text = repr(calibration_bins(p, y, bins=10))
    assert "ECE=0.2000" in text and "(0.500, 0.600]" in text and "(0.800, 0.900]" in text
    assert text.count("\n") == 3


def test_plot_reliability(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(0)
    p = cl.functional.softmax(3 * rng.standard_normal((300, 10)))
    y = rng.integers(0, 10, 300)
    ax = cl.plots.plot_reliability(p, y, label="model A")
    cl.plots.plot_reliability(cl.functional.softmax(rng.standard_normal((300, 10))), y, ax=ax, label="B")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "perfect calibration" and len(labels) == 3
    assert labels[1] == f"model A: ECE {expected_calibration_error(p, y):.3f}"
    assert ax.counts_ax.get_yscale() == "log" and ax.get_xlim() == (0, 1)
    assert min(t.get_size() for t in ax.get_yticklabels() + ax.counts_ax.get_xticklabels()) >= 9
    ax.figure.savefig(tmp_path / "reliability.png")
    plt.close(ax.figure)


# ---------------------------------------------------------------------------------------------
# batch independence
# ---------------------------------------------------------------------------------------------

class CenterOverBatch(Module):
    """A planted bug: subtracts the batch mean (a mean over the wrong axis), exact backward."""

    def forward(self, x):
        self.n = len(x)
        return x - x.mean(axis=0)

    def backward(self, dout):
        return dout - dout.mean(axis=0)


class TransposeReshape(Module):
    """A planted bug: x.T.reshape(N, D), the classic view/transpose mix-up."""

    def forward(self, x):
        self.shape = x.shape
        return x.T.reshape(x.shape)

    def backward(self, dout):
        dout = check_dout(dout, self.shape, self)
        n, d = self.shape
        return dout.reshape(d, n).T


class SumOverBatch(Module):
    def forward(self, x):
        return x.sum(axis=0, keepdims=True)

    def backward(self, dout):
        raise AssertionError("never reached")


def mlp(*middle, d=6, h=8, k=3):
    return cl.Sequential(cl.Linear(d, h, rng=1), *middle, cl.ReLU(), cl.Linear(h, k, rng=2))


@pytest.fixture
def X():
    return np.random.default_rng(0).standard_normal((16, 6))


def test_a_plain_mlp_is_independent_exactly(X):
    res = batch_independence(mlp(), X, examples=5)
    assert res.independent and bool(res)
    assert res.max_abs == 0.0 and res.max_rel == 0.0
    assert len(res.examples) == 5 and np.all(res.own > 0)
    assert res.mode == "training" and "PASSED" in repr(res)


def test_batchnorm_fails_in_training_mode_and_passes_in_eval(X):
    model = mlp(cl.BatchNorm1d(8))
    res = batch_independence(model, X)
    assert not res.independent and "FAILED" in repr(res)
    i, j = res.pair
    assert i in res.examples and j != i
    assert 1e-3 < res.max_rel < 1.0          # the cross gradient is a fraction of the own one
    model.eval()
    res = batch_independence(model, X)
    assert res.independent and res.max_abs == 0.0 and res.mode == "eval"


def test_batchnorm_mixing_shrinks_with_the_batch():
    # each other example contributes to the batch mean with weight 1/N
    big = np.random.default_rng(1).standard_normal((256, 6))
    rel = [batch_independence(mlp(cl.BatchNorm1d(8)), big[:n], examples=8, seed=0).max_rel
           for n in (8, 256)]
    assert rel[1] < rel[0] / 4, rel


def test_dropout_and_other_row_wise_layers_pass_in_training_mode(X):
    model = cl.Sequential(cl.Linear(6, 8, rng=1), cl.Tanh(), cl.Dropout(0.5, rng=3),
                          cl.Maxout(8, 5, rng=4), cl.GELU(), cl.Linear(5, 3, rng=2))
    assert batch_independence(model, X, examples=16).independent
    if hasattr(cl, "LayerNorm"):          # normalizes each example over its own features
        assert batch_independence(mlp(cl.LayerNorm(8)), X).independent


@pytest.mark.parametrize("bug", [CenterOverBatch, TransposeReshape])
def test_planted_mixing_layers_are_caught_and_located(X, bug):
    model = mlp(bug())
    assert not batch_independence(model, X).independent
    found = locate_batch_mixing(model, X)
    assert found.first == 1 and isinstance(found.layer, bug)
    assert [r.independent for r in found.results] == [True, False, False, False]
    assert "the first layer that mixes examples is layer 1" in repr(found)


def test_locate_names_batchnorm_only_in_training_mode(X):
    model = cl.Sequential(cl.Linear(6, 8, rng=1), cl.ReLU(), cl.Linear(8, 8, rng=5),
                          cl.BatchNorm1d(8), cl.ReLU(), cl.Linear(8, 3, rng=2))
    found = locate_batch_mixing(model, X)
    assert found.first == 3 and isinstance(found.layer, cl.BatchNorm1d)
    model.eval()
    found = locate_batch_mixing(model, X)
    assert found.first is None and found.layer is None
    assert "no layer mixes" in repr(found) and model.training is False


def test_no_trace_is_left(X):
    model = mlp(cl.BatchNorm1d(8))
    loss = cl.SoftmaxCrossEntropy()
    y = np.arange(16) % 3
    model.forward(X)
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())            # some accumulated gradients
    before = {n: p.grad.copy() for n, p in model.named_parameters()}
    state = model.state_dict()
    batch_independence(model, X)
    locate_batch_mixing(model, X)
    for n, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, before[n], err_msg=n)
    after = model.state_dict()
    for k in state:
        np.testing.assert_array_equal(after[k], state[k], err_msg=k)
    assert model[1].num_batches_tracked == state["1.num_batches_tracked"]
    assert model.training


def test_determinism_and_explicit_examples(X):
    model = mlp(cl.BatchNorm1d(8))
    a, b = batch_independence(model, X, seed=4), batch_independence(model, X, seed=4)
    assert a.examples == b.examples and a.max_abs == b.max_abs and a.pair == b.pair
    c = batch_independence(model, X, examples=[0, 15])
    assert c.examples == [0, 15]
    assert batch_independence(model, X).examples == batch_independence(model, X, seed=0).examples


def test_batch_independence_errors(X):
    with pytest.raises(TypeError, match="course_lib Module"):
        batch_independence(lambda x: x, X)
    with pytest.raises(ValueError, match="at least 2 examples"):
        batch_independence(mlp(), X[:1])
    with pytest.raises(ValueError, match="between 1 and N = 16"):
        batch_independence(mlp(), X, examples=17)
    with pytest.raises(ValueError, match="distinct indices"):
        batch_independence(mlp(), X, examples=[3, 3])
    with pytest.raises(ValueError, match="one output row per example"):
        batch_independence(cl.Sequential(cl.Linear(6, 4, rng=0), SumOverBatch()), X)
    with pytest.raises(TypeError, match="needs a Sequential"):
        locate_batch_mixing(cl.Linear(6, 3), X)


# ---------------------------------------------------------------------------------------------
# input-independent baseline
# ---------------------------------------------------------------------------------------------

def digits_net():
    return cl.Sequential(cl.Linear(64, 32, rng=cl.make_rng(1)), cl.ReLU(),
                         cl.Linear(32, 10, rng=cl.make_rng(2)))


def test_the_real_inputs_beat_the_labels_alone(digits):
    loss = cl.SoftmaxCrossEntropy()
    res = input_independent_baseline(digits_net, loss, lambda p: cl.Adam(p, lr=1e-2),
                                     digits.X_train, digits.y_train,
                                     val=(digits.X_val, digits.y_val), epochs=8, batch_size=64)
    assert res.beats_baseline and res.metric == "val_loss"
    real, zero = res.final("val_acc")
    assert real > 0.85 and zero < 0.2
    # the labels alone: the entropy of the label frequencies, and the zero-input run gets there
    q = np.bincount(digits.y_train, minlength=10) / len(digits.y_train)
    assert res.label_only["train_loss"] == pytest.approx(-(q * np.log(q)).sum(), rel=1e-12)
    zero_net = res.models[1]
    reached, _ = cl.evaluate(zero_net, loss, np.zeros_like(digits.X_train), digits.y_train)
    assert reached == pytest.approx(res.label_only["train_loss"], abs=5e-3)
    assert res.label_only["val_acc"] == pytest.approx(np.mean(digits.y_val == np.argmax(q)))
    # with zero inputs the first layer's weights get no gradient and never move
    np.testing.assert_array_equal(zero_net[0].W.data, digits_net()[0].W.data)
    text = repr(res)
    assert "real inputs beat the labels alone" in text and "labels alone" in text


def test_a_network_that_ignores_its_input_does_not_beat_it(digits):
    # planted failure: a bug that multiplies the inputs by 0 makes both runs the same
    class Blind(Module):
        def forward(self, x):
            return 0.0 * x

        def backward(self, dout):
            return 0.0 * dout

    def blind_net():
        return cl.Sequential(Blind(), *digits_net().layers)

    res = input_independent_baseline(blind_net, cl.SoftmaxCrossEntropy(),
                                     lambda p: cl.SGD(p, lr=0.5), digits.X_train, digits.y_train,
                                     val=(digits.X_val, digits.y_val), epochs=2)
    real, zero = res.final()
    assert real == zero and not res.beats_baseline
    assert "do NOT beat" in repr(res)


def test_both_runs_start_from_the_same_weights_and_the_model_is_untouched(rng):
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    model = cl.Sequential(cl.Linear(5, 4), cl.ReLU(), cl.Linear(4, 3))
    state = model.state_dict()
    res = input_independent_baseline(model, cl.SoftmaxCrossEntropy(), lambda p: cl.SGD(p, lr=0.1),
                                     X, y, epochs=0)
    for net in res.models:
        assert net is not model
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(v, state[k])
    res = input_independent_baseline(model, cl.SoftmaxCrossEntropy(), lambda p: cl.SGD(p, lr=0.1),
                                     X, y, epochs=3, batch_size=8, seed=5)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    again = input_independent_baseline(model, cl.SoftmaxCrossEntropy(), lambda p: cl.SGD(p, lr=0.1),
                                       X, y, epochs=3, batch_size=8, seed=5)
    assert again.real.loss == res.real.loss and again.zero.loss == res.zero.loss
    assert res.metric == "train_loss"


def test_regression_and_schedulers(rng):
    X = rng.standard_normal((64, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 3.0)[:, None]
    res = input_independent_baseline(lambda: cl.Sequential(cl.Linear(3, 1, rng=0)), cl.MSELoss(),
                                     lambda p: cl.SGD(p, lr=0.05), X, y, epochs=40, batch_size=16,
                                     make_scheduler=lambda opt: cl.StepLR(opt, step_size=20, gamma=0.5))
    assert res.label_only["train_loss"] == pytest.approx(float(np.var(y)), rel=1e-12)
    assert res.zero.lr[-1] == pytest.approx(0.025) and res.real.lr[-1] == pytest.approx(0.025)
    assert res.beats_baseline
    assert res.final()[1] == pytest.approx(np.var(y), rel=0.05)    # zero inputs: predicts the mean


def test_baseline_errors(rng):
    X, y = rng.standard_normal((10, 2)), rng.integers(0, 2, 10)
    net, loss, opt = (lambda: cl.Sequential(cl.Linear(2, 2))), cl.SoftmaxCrossEntropy(), \
        (lambda p: cl.SGD(p, lr=0.1))
    with pytest.raises(TypeError, match="seed="):
        input_independent_baseline(net, loss, opt, X, y, rng=0)
    with pytest.raises(TypeError, match="make_scheduler"):
        input_independent_baseline(net, loss, opt, X, y, scheduler=object())
    with pytest.raises(TypeError, match="Module or a function"):
        input_independent_baseline(3, loss, opt, X, y)
    with pytest.raises(TypeError, match="must return a course_lib Module"):
        input_independent_baseline(lambda: 3, loss, opt, X, y)
    with pytest.raises(TypeError, match="make_optimizer"):
        input_independent_baseline(net, loss, "sgd", X, y)
    with pytest.raises(TypeError, match=r"pair \(X_val, y_val\)"):
        input_independent_baseline(net, loss, opt, X, y, val=X)
