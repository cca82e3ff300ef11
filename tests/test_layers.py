"""Layers and losses: gradient checks, wrong backward passes that must fail them, bad input,
numerical stability, gradient accumulation, modes, state dicts, parameters, repr, determinism.
"""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import course_lib as cl

TOL = 1e-7  # relative error of a correct backward pass in float64 (DESIGN.md)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def away_from_zero(x, margin=0.1):
    """Move inputs off the kink at 0 so finite differences never straddle it."""
    return np.where(x >= 0, x + margin, x - margin)


def trained_batchnorm(rng, d=4, steps=3):
    """A BatchNorm1d with non-trivial gamma, beta and running statistics."""
    bn = cl.BatchNorm1d(d)
    bn.gamma.data[:] = rng.uniform(0.5, 2.0, d)
    bn.beta.data[:] = rng.standard_normal(d)
    for _ in range(steps):
        bn.forward(3.0 + 2.0 * rng.standard_normal((16, d)))
    return bn


def assert_gradcheck_passes(layer, x, expected_keys=None):
    result = cl.gradcheck(layer, x, tol=TOL)
    assert result.ok, repr(result)
    assert isinstance(result, cl.GradcheckResult) and bool(result)
    if expected_keys is not None:
        assert set(result.errors) == set(expected_keys), (
            f"gradcheck checked {sorted(result.errors)}, expected {sorted(expected_keys)}")
    return result


def no_warnings_or_fp_errors():
    """Overflow, division by zero and invalid operations raise; underflow to 0 is the right
    answer for exp(-1000), so it is allowed. Warnings of any kind become errors."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


# ---------------------------------------------------------------------------------------------
# gradient checks of every layer
# ---------------------------------------------------------------------------------------------

def _prelu_per_feature():
    layer = cl.PReLU(4)
    layer.alpha.data[:] = [0.05, 0.2, 0.3, 0.6]
    return layer


LAYER_CASES = {
    # name: (factory(rng) -> layer, input shape, move off the kink?, checked arrays)
    "Linear": (lambda r: cl.Linear(5, 3, rng=r), (6, 5), False, {"input", "W", "b"}),
    "Linear-no-bias": (lambda r: cl.Linear(5, 3, bias=False, rng=r), (6, 5), False, {"input", "W"}),
    "ReLU": (lambda r: cl.ReLU(), (6, 4), True, {"input"}),
    "LeakyReLU": (lambda r: cl.LeakyReLU(0.1), (6, 4), True, {"input"}),
    "PReLU-shared": (lambda r: cl.PReLU(), (6, 4), True, {"input", "alpha"}),
    "PReLU-per-feature": (lambda r: _prelu_per_feature(), (6, 4), True, {"input", "alpha"}),
    "ELU": (lambda r: cl.ELU(), (6, 4), True, {"input"}),
    "ELU-alpha": (lambda r: cl.ELU(alpha=0.7), (6, 4), True, {"input"}),
    "Sigmoid": (lambda r: cl.Sigmoid(), (6, 4), False, {"input"}),
    "Tanh": (lambda r: cl.Tanh(), (6, 4), False, {"input"}),
    "GELU": (lambda r: cl.GELU(), (6, 4), False, {"input"}),
    "SiLU": (lambda r: cl.SiLU(), (6, 4), False, {"input"}),
    "Maxout": (lambda r: cl.Maxout(5, 3, pieces=3, rng=r), (6, 5), False, {"input", "W", "b"}),
    "BatchNorm1d-train": (lambda r: trained_batchnorm(r).train(), (8, 4), False,
                          {"input", "gamma", "beta"}),
    "BatchNorm1d-eval": (lambda r: trained_batchnorm(r).eval(), (8, 4), False,
                         {"input", "gamma", "beta"}),
    "Dropout-train": (lambda r: cl.Dropout(0.3, rng=r), (6, 4), False, {"input"}),
    "Dropout-train-default-rng": (lambda r: cl.Dropout(0.5), (6, 4), False, {"input"}),
    "Dropout-eval": (lambda r: cl.Dropout(0.3, rng=r).eval(), (6, 4), False, {"input"}),
}


@pytest.mark.parametrize("name", list(LAYER_CASES))
def test_gradcheck_layer(name, rng):
    factory, shape, off_kink, keys = LAYER_CASES[name]
    layer = factory(np.random.default_rng(7))
    x = rng.standard_normal(shape)
    if off_kink:
        x = away_from_zero(x)
    assert_gradcheck_passes(layer, x, keys)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradcheck_sequential(seed):
    # a whole MLP in training mode: BatchNorm couples the examples, dropout masks them
    r = np.random.default_rng(seed)
    model = cl.Sequential(cl.Linear(6, 8, rng=r), cl.BatchNorm1d(8), cl.ReLU(),
                          cl.Dropout(0.25, rng=r), cl.Linear(8, 3, rng=r))
    # non-zero biases and BatchNorm parameters, so that no gradient is trivially zero
    for _, p in model.named_parameters():
        if p.data.ndim == 1:
            p.data[...] = r.uniform(0.5, 1.5, p.shape) * r.choice([-1, 1], p.shape)
    x = r.standard_normal((8, 6))
    result = assert_gradcheck_passes(model, x)
    # every parameter of every layer was checked, not just the input
    expected = {"input"} | {name for name, _ in model.named_parameters()}
    assert set(result.errors) == expected == {"input", "0.W", "0.b", "1.gamma", "1.beta",
                                              "4.W", "4.b"}


def test_gradcheck_dropout_really_drops(rng):
    # the dropout gradcheck above is only meaningful if the mask is not all ones
    layer = cl.Dropout(0.3, rng=0)
    out = layer.forward(np.ones((6, 4)))
    assert 0 < np.count_nonzero(out == 0) < out.size


@given(n=st.integers(1, 6), d_in=st.integers(1, 5), d_out=st.integers(1, 5),
       seed=st.integers(0, 10_000))
def test_gradcheck_linear_random_shapes(n, d_in, d_out, seed):
    r = np.random.default_rng(seed)
    layer = cl.Linear(d_in, d_out, rng=r)
    layer.b.data[:] = r.standard_normal(d_out)
    x = r.standard_normal((n, d_in))
    out = layer.forward(x)
    assert out.shape == (n, d_out)
    np.testing.assert_allclose(out, x @ layer.W.data + layer.b.data, rtol=1e-12, atol=1e-12)
    assert cl.gradcheck(layer, x, tol=TOL).ok


# ---------------------------------------------------------------------------------------------
# gradient checks of every loss
# ---------------------------------------------------------------------------------------------

def _prob_targets(rng, n, k):
    return rng.dirichlet(np.ones(k), size=n)


LOSS_CASES = {
    "CE-labels": (lambda: cl.SoftmaxCrossEntropy(), lambda r: r.integers(0, 5, 7), (7, 5)),
    "CE-labels-smoothing": (lambda: cl.SoftmaxCrossEntropy(label_smoothing=0.1),
                            lambda r: r.integers(0, 5, 7), (7, 5)),
    "CE-probabilities": (lambda: cl.SoftmaxCrossEntropy(), lambda r: _prob_targets(r, 7, 5), (7, 5)),
    "CE-probabilities-smoothing": (lambda: cl.SoftmaxCrossEntropy(label_smoothing=0.2),
                                   lambda r: _prob_targets(r, 7, 5), (7, 5)),
    "MSE": (lambda: cl.MSELoss(), lambda r: r.standard_normal((7, 3)), (7, 3)),
    "MSE-column": (lambda: cl.MSELoss(), lambda r: r.standard_normal((7, 1)), (7, 1)),
    "BCEWithLogits-hard": (lambda: cl.BCEWithLogits(),
                           lambda r: r.integers(0, 2, (7, 1)).astype(float), (7, 1)),
    "BCEWithLogits-soft": (lambda: cl.BCEWithLogits(), lambda r: r.uniform(0, 1, (7, 3)), (7, 3)),
}


@pytest.mark.parametrize("name", list(LOSS_CASES))
def test_gradcheck_loss(name, rng):
    make_loss, make_target, shape = LOSS_CASES[name]
    loss = make_loss()
    target = make_target(rng)
    z = rng.standard_normal(shape)
    result = cl.gradcheck(loss, z, target=target, tol=TOL)
    assert result.ok, repr(result)
    value = loss.forward(z, target)
    assert isinstance(value, float) and np.isfinite(value)
    assert loss.backward().shape == z.shape


def test_cross_entropy_at_uniform_logits_is_log_k():
    # the number notebook 00 checks: an untrained classifier starts at ln K
    loss = cl.SoftmaxCrossEntropy()
    assert loss.forward(np.zeros((4, 10)), np.array([0, 3, 9, 5])) == pytest.approx(np.log(10))


def test_gradcheck_loss_needs_target():
    with pytest.raises(ValueError, match="target="):
        cl.gradcheck(cl.MSELoss(), np.zeros((2, 1)))


def test_gradcheck_rejects_other_objects():
    with pytest.raises(TypeError, match="gradcheck expects a Module or a Loss"):
        cl.gradcheck(np.tanh, np.zeros((2, 2)))


def test_rel_error_and_numerical_gradient(rng):
    assert cl.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert cl.rel_error([1.0], [3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shapes differ"):
        cl.rel_error(np.zeros(2), np.zeros(3))
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = cl.numerical_gradient(lambda: np.sum(np.sin(x)), x)
    np.testing.assert_allclose(grad, np.cos(x), rtol=1e-8)
    np.testing.assert_array_equal(x, before)  # perturbed in place, then restored exactly
    with pytest.raises(TypeError, match="float64"):
        cl.numerical_gradient(lambda: 0.0, x.astype(np.float32))


# ---------------------------------------------------------------------------------------------
# negative tests: a wrong backward pass must FAIL the gradient check
# ---------------------------------------------------------------------------------------------

class LinearForgotTranspose(cl.Linear):
    def backward(self, dout):
        dout = self.backward_params(dout)
        return dout @ self.W.data            # should be W.T


class LinearHalfWeightGrad(cl.Linear):
    def backward_params(self, dout):
        self.W.grad += 0.5 * self.x.T @ dout  # a stray factor 1/2
        self.b.grad += dout.sum(axis=0)
        return dout


class LinearBiasGradNotSummed(cl.Linear):
    def backward_params(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.mean(axis=0)     # mean instead of sum over the batch
        return dout


class TanhWrongSign(cl.Tanh):
    def derivative(self, x):
        return np.tanh(x) ** 2 - 1.0         # sign flipped


class SigmoidMissingFactor(cl.Sigmoid):
    def derivative(self, x):
        return cl.functional.sigmoid(x)      # forgot the (1 - sigma) factor


class BatchNormIgnoresBatchStats(cl.BatchNorm1d):
    def backward(self, dout):
        # the classic mistake: treat mu and var as constants in training mode
        self.gamma.grad += (dout * self.x_hat).sum(axis=0)
        self.beta.grad += dout.sum(axis=0)
        return dout * self.gamma.data * self.inv_std


class DropoutForgotScale(cl.Dropout):
    def backward(self, dout):
        return dout * (self.mask > 0)        # the mask without the 1/(1 - p)


class ELUWrongNegativeSlope(cl.ELU):
    def derivative(self, x):
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))  # alpha forgotten


NEGATIVE_CASES = {
    "Linear forgot transpose": (lambda: LinearForgotTranspose(4, 4, rng=0), (5, 4), "input"),
    "Linear missing factor in dW": (lambda: LinearHalfWeightGrad(4, 3, rng=0), (5, 4), "W"),
    "Linear bias mean not sum": (lambda: LinearBiasGradNotSummed(4, 3, rng=0), (5, 4), "b"),
    "Tanh wrong sign": (lambda: TanhWrongSign(), (5, 4), "input"),
    "Sigmoid missing factor": (lambda: SigmoidMissingFactor(), (5, 4), "input"),
    "BatchNorm ignores batch stats": (lambda: BatchNormIgnoresBatchStats(4), (8, 4), "input"),
    "Dropout forgot scale": (lambda: DropoutForgotScale(0.5, rng=0), (5, 4), "input"),
    "ELU forgot alpha": (lambda: ELUWrongNegativeSlope(alpha=0.5), (5, 4), "input"),
}


@pytest.mark.parametrize("name", list(NEGATIVE_CASES))
def test_wrong_backward_fails_gradcheck(name, rng):
    factory, shape, culprit = NEGATIVE_CASES[name]
    x = away_from_zero(rng.standard_normal(shape))
    result = cl.gradcheck(factory(), x, tol=TOL)
    assert not result.ok, f"{name}: a wrong backward pass passed the gradient check"
    assert not bool(result)
    # clearly wrong, not a borderline 1e-6: the check must not be a coin toss
    assert result.errors[culprit] > 1e-3, repr(result)
    assert "FAILED" in repr(result)


def test_wrong_backward_in_one_parameter_is_pinned_to_it(rng):
    result = cl.gradcheck(LinearBiasGradNotSummed(4, 3, rng=0), rng.standard_normal((5, 4)))
    assert result.errors["input"] < TOL and result.errors["W"] < TOL
    assert result.errors["b"] > 1e-3


def test_wrong_loss_backward_fails_gradcheck(rng):
    class CrossEntropyNotAveraged(cl.SoftmaxCrossEntropy):
        def backward(self):
            return super().backward() * len(self._grad)   # forgot the 1/N

    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    assert cl.gradcheck(cl.SoftmaxCrossEntropy(), z, target=y).ok
    result = cl.gradcheck(CrossEntropyNotAveraged(), z, target=y)
    assert not result.ok and result.errors["input"] > 1e-3


# ---------------------------------------------------------------------------------------------
# bad input: documented messages
# ---------------------------------------------------------------------------------------------

def test_linear_wrong_shape_message():
    layer = cl.Linear(64, 128)
    with pytest.raises(ValueError,
                       match=re.escape("Linear(64→128) expects input of shape (N, 64), got (32, 63)")):
        layer.forward(np.zeros((32, 63)))


def test_single_example_gets_a_reshape_hint():
    with pytest.raises(ValueError, match=re.escape("got (3,) — a single example needs a batch "
                                                   "axis: x.reshape(1, -1)")):
        cl.Linear(3, 2).forward(np.zeros(3))


@pytest.mark.parametrize("layer, bad_shape, message", [
    (cl.Maxout(5, 3), (4, 6), "Maxout(5→3, pieces=2) expects input of shape (N, 5), got (4, 6)"),
    (cl.BatchNorm1d(4), (8, 5), "BatchNorm1d(4, eps=1e-05, momentum=0.1) expects input of "
                                "shape (N, 4), got (8, 5)"),
    (cl.PReLU(4), (8, 3), "PReLU(num_features=4) expects input of shape (N, 4), got (8, 3)"),
    (cl.Linear(3, 2, bias=False), (2, 3, 1), "Linear(3→2, bias=False) expects input of shape "
                                             "(N, 3), got (2, 3, 1)"),
])
def test_other_layers_wrong_shape_message(layer, bad_shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.forward(np.zeros(bad_shape))


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="expects a numeric array"):
        cl.Linear(2, 2).forward(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="expects a numeric array"):
        cl.ReLU().forward("not an array")


def test_integer_input_is_accepted_as_float():
    out = cl.Linear(2, 3, rng=0).forward(np.array([[1, 2]]))
    assert out.dtype == np.float64 and out.shape == (1, 3)


def test_wrong_dout_shape_message(rng):
    layer = cl.Linear(3, 2)
    layer.forward(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "Linear(3→2).backward expects dout of shape (4, 2) (the shape of its forward "
            "output), got (4, 3)")):
        layer.backward(np.zeros((4, 3)))
    relu = cl.ReLU()
    relu.forward(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=re.escape("expects dout of shape (4, 3)")):
        relu.backward(np.zeros((3, 4)))


@pytest.mark.parametrize("layer", [
    cl.Linear(3, 2), cl.Maxout(3, 2), cl.ReLU(), cl.LeakyReLU(), cl.PReLU(), cl.ELU(),
    cl.Sigmoid(), cl.Tanh(), cl.GELU(), cl.SiLU(), cl.BatchNorm1d(2), cl.Dropout(0.5),
], ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_is_a_runtime_error(layer):
    with pytest.raises(RuntimeError, match=r"backward was called before forward"):
        layer.backward(np.zeros((4, 2)))


@pytest.mark.parametrize("loss", [cl.SoftmaxCrossEntropy(), cl.MSELoss(), cl.BCEWithLogits()],
                         ids=lambda loss: type(loss).__name__)
def test_loss_backward_before_forward_is_a_runtime_error(loss):
    with pytest.raises(RuntimeError, match=r"backward was called before forward.*loss\.forward"):
        loss.backward()


@pytest.mark.parametrize("make, error, message", [
    (lambda: cl.Dropout(p=1.5), ValueError, "p is the drop probability and must be in [0, 1], got 1.5"),
    (lambda: cl.Dropout(p=-0.1), ValueError, "must be in [0, 1], got -0.1"),
    (lambda: cl.Dropout(p="0.5"), ValueError, "got '0.5'"),
    (lambda: cl.LeakyReLU(alpha=1), ValueError, "alpha must be in [0, 1), got 1"),
    (lambda: cl.LeakyReLU(alpha=-0.1), ValueError, "alpha must be in [0, 1)"),
    (lambda: cl.Linear(0, 3), ValueError, "Linear: in_features must be a positive integer, got 0"),
    (lambda: cl.Linear(3, 2.5), ValueError, "out_features must be a positive integer, got 2.5"),
    (lambda: cl.Maxout(3, 2, pieces=0), ValueError, "pieces must be a positive integer"),
    (lambda: cl.PReLU(0), ValueError, "num_features must be a positive integer"),
    (lambda: cl.BatchNorm1d(4, momentum=2.0), ValueError, "momentum must be in [0, 1] or None"),
    (lambda: cl.BatchNorm1d(0), ValueError, "num_features must be a positive integer"),
    (lambda: cl.SoftmaxCrossEntropy(label_smoothing=1.5), ValueError, "label_smoothing must be in [0, 1]"),
    (lambda: cl.Linear(3, 2, init="glorot"), ValueError, "unknown init 'glorot'; expected one of"),
    (lambda: cl.Linear(3, 2, init=lambda i, o, r: np.zeros((o, i))), ValueError,
     "init callable returned shape (2, 3), expected (3, 2)"),
    (lambda: cl.Sequential(cl.Linear(2, 2), np.tanh), TypeError,
     "Sequential expects Module objects, got ufunc at position 1"),
    (lambda: cl.get_rng("seed"), TypeError, "rng must be None, an int seed or a numpy.random.Generator"),
])
def test_bad_hyperparameters(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_label_out_of_range():
    loss = cl.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match=re.escape("labels must lie in [0, 3) for 3 classes, got "
                                                   "values from 0 to 3")):
        loss.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=re.escape("got values from -1 to 1")):
        loss.forward(np.zeros((2, 3)), np.array([-1, 1]))


def test_cross_entropy_target_problems():
    loss = cl.SoftmaxCrossEntropy()
    with pytest.raises(TypeError, match="expects integer class labels.*for probabilities pass"):
        loss.forward(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="got 2 rows of logits but 3 labels"):
        loss.forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=re.escape("expects logits of shape (N, K), got (3,)")):
        loss.forward(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=re.escape("expects targets of shape (2,) (labels) or (2, 3)")):
        loss.forward(np.zeros((2, 3)), np.zeros((2, 2)))
    # labels given as whole floats are fine
    assert loss.forward(np.zeros((2, 3)), np.array([0.0, 2.0])) == pytest.approx(np.log(3))


def test_mse_refuses_silent_broadcasting():
    with pytest.raises(ValueError, match=re.escape(
            "expects targets of the prediction's shape (4, 1), got (4,) — use y.reshape(-1, 1)")):
        cl.MSELoss().forward(np.zeros((4, 1)), np.zeros(4))


def test_bce_target_problems():
    loss = cl.BCEWithLogits()
    with pytest.raises(ValueError, match=re.escape("got (4,) — use y.reshape(-1, 1)")):
        loss.forward(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=re.escape("targets must be probabilities in [0, 1], got "
                                                   "values from 0.0 to 2.0")):
        loss.forward(np.zeros((2, 1)), np.array([[0.0], [2.0]]))
    with pytest.raises(TypeError, match="numeric array"):
        loss.forward(np.zeros((1, 1)), np.array([["yes"]]))


def test_batchnorm_single_example_in_training():
    bn = cl.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 example per batch.*\.eval\(\)"):
        bn.forward(np.zeros((1, 3)))
    assert bn.eval().forward(np.ones((1, 3))).shape == (1, 3)   # fine with running statistics


# ---------------------------------------------------------------------------------------------
# numerical stability: logits of +-1000
# ---------------------------------------------------------------------------------------------

BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])


def test_cross_entropy_stable_for_huge_logits():
    loss = cl.SoftmaxCrossEntropy()
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        value = loss.forward(BIG, np.array([1, 1]))
        grad = loss.backward()
        smooth = cl.SoftmaxCrossEntropy(label_smoothing=0.1).forward(BIG, np.array([0, 2]))
    # row 0: label 1 has logit -1000 against a max of 1000 -> 2000; row 1: log(1 + e^-1) ~ 0.3133
    assert value == pytest.approx((2000.0 + np.log1p(np.exp(-1.0))) / 2, rel=1e-12)
    assert np.all(np.isfinite(grad)) and np.isfinite(smooth)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


def test_bce_with_logits_stable_for_huge_logits():
    loss = cl.BCEWithLogits()
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        value = loss.forward(z, y)
        grad = loss.backward()
    assert value == pytest.approx(500.0, rel=1e-12)       # two perfect, two off by 1000
    np.testing.assert_allclose(grad.ravel(), [0.0, 0.0, 0.25, -0.25], atol=1e-15)


@pytest.mark.parametrize("layer, expected", [
    (cl.Sigmoid(), [1.0, 0.0]),
    (cl.ELU(alpha=1.5), [1000.0, -1.5]),
    (cl.SiLU(), [1000.0, 0.0]),
    (cl.Tanh(), [1.0, -1.0]),
    (cl.GELU(), [1000.0, 0.0]),
], ids=lambda v: type(v).__name__ if isinstance(v, cl.Module) else "")
def test_activations_stable_for_huge_inputs(layer, expected):
    x = np.array([[1000.0, -1000.0]])
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(out.ravel(), expected, atol=1e-12)
    assert np.all(np.isfinite(dx))


def test_functional_softmax_is_stable():
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        p = cl.functional.softmax(BIG)
        logp = cl.functional.log_softmax(BIG)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(np.exp(logp), p, atol=1e-15)


@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 1000))
def test_cross_entropy_finite_at_any_scale(scale, seed):
    r = np.random.default_rng(seed)
    z = scale * r.standard_normal((5, 4))
    loss = cl.SoftmaxCrossEntropy()
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        value = loss.forward(z, r.integers(0, 4, 5))
    assert np.isfinite(value) and value >= 0.0
    np.testing.assert_allclose(loss.backward().sum(axis=1), 0.0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# gradients accumulate; zero_grad resets
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("factory", [
    lambda: cl.Linear(4, 3, rng=0), lambda: cl.Maxout(4, 3, rng=0), lambda: cl.PReLU(4),
    lambda: cl.BatchNorm1d(4),
    lambda: cl.Sequential(cl.Linear(4, 5, rng=0), cl.BatchNorm1d(5), cl.PReLU(), cl.Linear(5, 2, rng=1)),
], ids=["Linear", "Maxout", "PReLU", "BatchNorm1d", "Sequential"])
def test_gradients_accumulate_and_zero_grad_resets(factory, rng):
    layer = factory()
    x = away_from_zero(rng.standard_normal((6, 4)))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    first = [p.grad.copy() for p in layer.parameters()]
    assert any(np.abs(g).max() > 0 for g in first)
    layer.backward(dout)
    for p, g in zip(layer.parameters(), first):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12, atol=1e-15)
    layer.zero_grad()
    for p in layer.parameters():
        assert p.grad.shape == p.data.shape
        assert not p.grad.any()


def test_optimizer_zero_grad_resets_the_models_gradients(rng):
    model = cl.Sequential(cl.Linear(3, 4, rng=0), cl.ReLU(), cl.Linear(4, 2, rng=1))
    model.forward(rng.standard_normal((5, 3)))
    model.backward(rng.standard_normal((5, 2)))
    opt = cl.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    assert all(not p.grad.any() for p in model.parameters())


def test_backward_params_matches_backward(rng):
    x = rng.standard_normal((5, 3))
    dout = rng.standard_normal((5, 2))
    a = cl.Sequential(cl.Linear(3, 4, rng=0), cl.Tanh(), cl.Linear(4, 2, rng=1))
    b = cl.Sequential(cl.Linear(3, 4, rng=0), cl.Tanh(), cl.Linear(4, 2, rng=1))
    a.forward(x)
    a.backward(dout)
    b.forward(x)
    b.backward_params(dout)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


# ---------------------------------------------------------------------------------------------
# train / eval, state_dict, parameters and buffers, repr
# ---------------------------------------------------------------------------------------------

class TwoBranch(cl.Module):
    """A user-defined module holding a layer, a Sequential and a loose BatchNorm as attributes."""

    def __init__(self):
        self.stem = cl.Linear(3, 4, rng=0)
        self.body = cl.Sequential(cl.BatchNorm1d(4), cl.Dropout(0.5, rng=0), cl.Linear(4, 2, rng=1))
        self.norm = cl.BatchNorm1d(2)

    def forward(self, x):
        return self.norm.forward(self.body.forward(self.stem.forward(x)))

    def backward(self, dout):
        return self.stem.backward(self.body.backward(self.norm.backward(dout)))


def test_train_eval_propagate_to_children():
    inner = cl.Sequential(cl.Dropout(0.5), cl.BatchNorm1d(4))
    model = cl.Sequential(cl.Linear(3, 4), inner, TwoBranch())
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert len(model.modules()) == 12
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not inner[0].training and not model[2].body[1].training


def test_eval_mode_changes_dropout_and_batchnorm(rng):
    x = 5.0 + rng.standard_normal((16, 4))
    model = cl.Sequential(cl.BatchNorm1d(4), cl.Dropout(0.5, rng=0))
    train_out = model.forward(x)
    assert np.count_nonzero(train_out == 0) > 0
    model.eval()
    out1, out2 = model.forward(x), model.forward(x)
    np.testing.assert_array_equal(out1, out2)           # deterministic in eval
    bn = model[0]
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(out1, expected, rtol=1e-12)


def _first_batches(model, rng, steps=3):
    for _ in range(steps):
        model.forward(rng.standard_normal((8, 3)))


def test_state_dict_round_trip_with_batchnorm_buffers(rng):
    def build(seed):
        return cl.Sequential(cl.Linear(3, 4, rng=seed), cl.BatchNorm1d(4), cl.ReLU(),
                             cl.Linear(4, 2, rng=seed + 1))

    source, target = build(0), build(10)
    _first_batches(source, rng)
    source[1].gamma.data[:] = [1.0, 2.0, 3.0, 4.0]
    state = source.state_dict()
    assert set(state) == {"0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b",
                          "1.running_mean", "1.running_var", "1.num_batches_tracked"}
    assert state["1.num_batches_tracked"] == 3
    assert not np.allclose(state["1.running_var"], 1.0)

    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    assert target[1].num_batches_tracked == 3 and isinstance(target[1].num_batches_tracked, int)
    x = rng.standard_normal((5, 3))
    np.testing.assert_array_equal(source.eval().forward(x), target.eval().forward(x))


def test_state_dict_holds_copies(rng):
    model = cl.Sequential(cl.Linear(3, 4, rng=0), cl.BatchNorm1d(4))
    state = model.state_dict()
    saved = {k: np.array(v, copy=True) for k, v in state.items()}
    model[0].W.data += 1.0
    _first_batches(model, rng)
    for key in saved:
        np.testing.assert_array_equal(state[key], saved[key], err_msg=key)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].W.data, saved["0.W"])
    np.testing.assert_array_equal(model[1].running_mean, saved["1.running_mean"])


def test_state_dict_round_trip_in_a_user_module(rng):
    source, target = TwoBranch(), TwoBranch()
    for _ in range(3):
        source.forward(rng.standard_normal((8, 3)))
    target.stem.W.data[:] = 0.0
    state = source.state_dict()
    assert "body.0.running_mean" in state and "norm.running_var" in state
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


def test_load_state_dict_reports_missing_entries():
    model = cl.Sequential(cl.Linear(2, 2), cl.BatchNorm1d(2))
    state = model.state_dict()
    del state["1.running_var"]
    with pytest.raises(KeyError, match=re.escape("missing entries ['1.running_var']")):
        model.load_state_dict(state)


def test_parameters_are_listed_and_buffers_are_not():
    lin1, bn, act, lin2 = cl.Linear(3, 4), cl.BatchNorm1d(4), cl.PReLU(), cl.Linear(4, 2, bias=False)
    model = cl.Sequential(lin1, bn, act, lin2, cl.ReLU(), cl.Dropout(0.1))
    params = model.parameters()
    assert [id(p) for p in params] == [id(lin1.W), id(lin1.b), id(bn.gamma), id(bn.beta),
                                       id(act.alpha), id(lin2.W)]
    assert all(isinstance(p, cl.Parameter) for p in params)
    assert [name for name, _ in model.named_parameters()] == [
        "0.W", "0.b", "1.gamma", "1.beta", "2.alpha", "3.W"]
    assert model.num_parameters() == 12 + 4 + 4 + 4 + 1 + 8
    # buffers are saved state, never trained
    buffers = dict(model.named_buffers())
    assert set(buffers) == {"1.running_mean", "1.running_var", "1.num_batches_tracked"}
    param_arrays = {id(p.data) for p in params}
    assert id(bn.running_mean) not in param_arrays and id(bn.running_var) not in param_arrays
    assert not isinstance(bn.running_mean, cl.Parameter)
    assert cl.ReLU().parameters() == [] and cl.Dropout().parameters() == []


def test_shared_layer_parameters_are_listed_once():
    shared = cl.Linear(3, 3)
    model = cl.Sequential(shared, cl.Tanh(), shared)
    assert len(model.parameters()) == 2
    assert len(model.named_parameters()) == 4


def test_parameter_basics():
    p = cl.Parameter([[1, 2], [3, 4]], name="W")
    assert p.data.dtype == np.float64 and p.grad.shape == (2, 2) and not p.grad.any()
    assert p.shape == (2, 2) and p.size == 4
    assert repr(p) == "Parameter W(shape=(2, 2))"
    source = np.ones(3)
    q = cl.Parameter(source)
    q.data[0] = 5.0
    assert source[0] == 1.0          # the Parameter owns a copy


def test_reprs_are_informative():
    model = cl.Sequential(cl.Linear(64, 128), cl.BatchNorm1d(128), cl.LeakyReLU(0.2),
                          cl.Dropout(0.3), cl.Linear(128, 10, bias=False))
    text = repr(model)
    assert text.startswith("Sequential(\n")
    assert "  (0): Linear(64→128)" in text
    assert "  (1): BatchNorm1d(128, eps=1e-05, momentum=0.1)" in text
    assert "  (2): LeakyReLU(alpha=0.2)" in text
    assert "  (3): Dropout(p=0.3)" in text
    assert "  (4): Linear(128→10, bias=False)" in text
    assert text.endswith(f"# {64 * 128 + 128 + 2 * 128 + 1280:,} parameters")
    assert repr(cl.Sequential()) == "Sequential()"
    nested = repr(cl.Sequential(cl.Linear(2, 3), cl.Sequential(cl.ReLU(), cl.Dropout(0.5))))
    assert nested.splitlines() == [
        "Sequential(", "  (0): Linear(2→3)", "  (1): Sequential(", "    (0): ReLU()",
        "    (1): Dropout(p=0.5)", "  )  # 0 parameters", ")  # 9 parameters"]
    assert repr(cl.Maxout(4, 3, pieces=5)) == "Maxout(4→3, pieces=5)"
    assert repr(cl.PReLU(7)) == "PReLU(num_features=7)"
    assert repr(cl.ELU(0.5)) == "ELU(alpha=0.5)"
    assert repr(cl.ReLU()) == "ReLU()"
    assert repr(cl.SoftmaxCrossEntropy(0.1)) == "SoftmaxCrossEntropy(label_smoothing=0.1)"
    assert repr(cl.MSELoss()) == "MSELoss()"
    assert repr(cl.SGD(model.parameters(), lr=0.01)) == "SGD(lr=0.01, 5 parameters)"


def test_sequential_container_protocol():
    layers = [cl.Linear(2, 3), cl.ReLU(), cl.Linear(3, 1)]
    model = cl.Sequential(layers)            # a list works as well as separate arguments
    assert len(model) == 3 and model[1] is layers[1] and list(model) == layers
    head = model[:2]
    assert isinstance(head, cl.Sequential) and head.layers == layers[:2]


# ---------------------------------------------------------------------------------------------
# dropout semantics
# ---------------------------------------------------------------------------------------------

def test_dropout_preserves_the_mean_and_drops_a_fraction_p():
    layer = cl.Dropout(0.3, rng=0)
    x = np.ones((400, 250))
    out = layer.forward(x)
    assert abs((out == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(out), [0.0, 1.0 / 0.7])
    assert abs(out.mean() - 1.0) < 0.01
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)       # backward applies the same mask


def test_dropout_edge_rates(rng):
    x = rng.standard_normal((5, 4))
    np.testing.assert_array_equal(cl.Dropout(0.0).forward(x), x)
    with warnings.catch_warnings(), no_warnings_or_fp_errors():
        warnings.simplefilter("error")
        everything = cl.Dropout(1.0)
        out = everything.forward(x)
        dx = everything.backward(np.ones_like(x))
    assert not out.any() and not dx.any()
    evaluation = cl.Dropout(0.9).eval()
    np.testing.assert_array_equal(evaluation.forward(x), x)
    np.testing.assert_array_equal(evaluation.backward(x), x)


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------

def test_same_seed_same_weights():
    a, b = cl.Linear(10, 5, rng=42), cl.Linear(10, 5, rng=42)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, cl.Linear(10, 5, rng=43).W.data)
    cl.set_seed(3)
    c = cl.Maxout(10, 5)
    cl.set_seed(3)
    d = cl.Maxout(10, 5)
    np.testing.assert_array_equal(c.W.data, d.W.data)
    gen1, gen2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(cl.Linear(4, 4, rng=gen1).W.data, cl.Linear(4, 4, rng=gen2).W.data)


def test_same_seed_same_dropout_masks():
    x = np.ones((20, 10))
    a, b = cl.Dropout(0.5, rng=1), cl.Dropout(0.5, rng=1)
    first_a, first_b = a.forward(x), b.forward(x)
    np.testing.assert_array_equal(first_a, first_b)
    second_a = a.forward(x)
    np.testing.assert_array_equal(second_a, b.forward(x))
    assert not np.array_equal(first_a, second_a)     # successive masks differ
    cl.set_seed(5)
    c = cl.Dropout(0.5).forward(x)
    cl.set_seed(5)
    np.testing.assert_array_equal(c, cl.Dropout(0.5).forward(x))


def test_set_seed_never_touches_global_numpy_state(rng):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    cl.set_seed(1)
    model = cl.Sequential(cl.Linear(4, 8), cl.ReLU(), cl.Dropout(0.5), cl.Linear(8, 3))
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), 0.1), X, y, epochs=2,
           batch_size=8, progress=False)
    cl.data.make_spirals(10)
    cl.init.he_uniform(5, 5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_same_seed_same_fit(rng):
    X, y = rng.standard_normal((60, 5)), rng.integers(0, 3, 60)

    def run():
        model = cl.Sequential(cl.Linear(5, 16, rng=0), cl.ReLU(), cl.Dropout(0.2, rng=1),
                              cl.Linear(16, 3, rng=2))
        hist = cl.fit(model, cl.SoftmaxCrossEntropy(), cl.Adam(model.parameters(), 1e-2), X, y,
                      epochs=3, batch_size=16, rng=3, progress=False)
        return hist, model

    (h1, m1), (h2, m2) = run(), run()
    assert h1.loss == h2.loss and h1.train_acc == h2.train_acc
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ---------------------------------------------------------------------------------------------
# initializers (the comparison with torch.nn.init is in test_torch_parity.py)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected_std", [
    ("xavier_normal", np.sqrt(2.0 / (300 + 200))),
    ("xavier_uniform", np.sqrt(2.0 / (300 + 200))),
    ("he_normal", np.sqrt(2.0 / 300)),
    ("he_uniform", np.sqrt(2.0 / 300)),
    ("lecun_normal", np.sqrt(1.0 / 300)),
])
def test_initializer_std_follows_its_formula(name, expected_std):
    W = cl.init.INITIALIZERS[name](300, 200, rng=0)
    assert W.shape == (300, 200)                    # (fan_in, fan_out): x @ W
    assert abs(W.std() / expected_std - 1.0) < 0.02
    np.testing.assert_array_equal(W, cl.init.INITIALIZERS[name](300, 200, rng=0))


def test_gain_names_are_the_documented_ones():
    with pytest.raises(ValueError) as info:
        cl.init.gain("softplus")
    for name in ["identity", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        assert repr(name) in str(info.value)
    with pytest.raises(ValueError, match="param is only used for 'leaky_relu'"):
        cl.init.gain("tanh", 0.1)
    with pytest.raises(ValueError, match="fan_in must be a positive integer"):
        cl.init.he_normal(0, 3)
