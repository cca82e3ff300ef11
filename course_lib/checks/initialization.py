"""Checks for exercises/02_initialization.ipynb: Xavier and He initializers, per-layer
activation std through depth, the collapse of a deep tanh net at std 0.01, and a measure of
how different a layer's units are (symmetry)."""
import functools
import math

import numpy as np

from ._common import as_array, check_shape, close, fail, fmt_array, passed, read_predictions


# ------------------------------------------------------------------- initializers

_FAN_IN, _FAN_OUT = 400, 150        # different, so that fan_in and fan_out cannot be confused
_SECOND = (64, 256)                 # and the other way round


def _draw(init, name, fan_in, fan_out, seed=0):
    """Call init(fan_in, fan_out, rng) with a seeded rng; return (W, call text)."""
    call = f"{name}({fan_in}, {fan_out}, np.random.default_rng({seed}))"
    W = as_array(init(fan_in, fan_out, np.random.default_rng(seed)), call)
    if W.shape == (fan_out, fan_in):
        fail(f"{call} returned shape {W.shape}: that is (fan_out, fan_in), PyTorch's layout. In "
             f"this course W has shape (fan_in, fan_out), because a layer computes x @ W")
    check_shape(W, (fan_in, fan_out), call)
    if not np.all(np.isfinite(W)):
        fail(f"{call} contains nan or inf")
    again = np.asarray(init(fan_in, fan_out, np.random.default_rng(seed)), dtype=np.float64)
    if not np.array_equal(W, again):
        fail(f"{call} gives different numbers on two calls with the same seeded rng: draw from "
             f"the `rng` argument (rng.standard_normal, rng.normal, rng.uniform), never from "
             f"np.random's global state")
    if np.all(W == W.flat[0]):
        fail(f"{call} returned a constant matrix; the weights must be random")
    return W, call


def _check_mean(W, call):
    if abs(W.mean()) > 6 * W.std() / math.sqrt(W.size):
        fail(f"{call}: the weights have mean {W.mean():.3g}, far from 0. They must be centred "
             f"on 0 (a uniform init draws from [-r, r], not [0, r])")


def _matches(std, target, rtol=0.03):
    return abs(std / target - 1) < rtol


def _diagnose_std(std, call, fan_in, fan_out, correct, candidates):
    """Fail with the hint of the first candidate std that matches; generic hint otherwise."""
    if _matches(std, correct):
        return
    for target, hint in candidates:
        if _matches(std, target):
            fail(f"{call}: {hint}")
    fail(f"{call}: the weights have std {std:.3g}, which does not match the formula "
         f"(fan_in = {fan_in}, fan_out = {fan_out})")


def _xavier_candidates(fi, fo):
    """(std, hint) pairs for the usual mistakes of a normal Xavier init."""
    return [
        (2.0 / (fi + fo), "you used 2 / (fan_in + fan_out), which is the VARIANCE, as the std: "
                          "take its square root"),
        (math.sqrt(6.0 / (fi + fo)), "sqrt(6 / (fan_in + fan_out)) is the BOUND of the uniform "
                                     "version; the std of the normal one is "
                                     "sqrt(2 / (fan_in + fan_out))"),
        (math.sqrt(1.0 / (fi + fo)), "the 2 in 2 / (fan_in + fan_out) is missing (Glorot: the "
                                     "harmonic mean of 1/fan_in and 1/fan_out)"),
        (math.sqrt(2.0 / fi), "you used 2 / fan_in (He's rule); Xavier uses both fans: "
                              "2 / (fan_in + fan_out)"),
        (math.sqrt(1.0 / fi), "you used 1 / fan_in (forward preservation only); Xavier is the "
                              "compromise 2 / (fan_in + fan_out)"),
        (math.sqrt(1.0 / fo), "you used fan_out alone; Xavier uses both fans: "
                              "2 / (fan_in + fan_out)"),
        (math.sqrt(2.0 / fo), "you used fan_out where Xavier uses fan_in + fan_out"),
    ]


def _xavier_uniform_candidates(fi, fo):
    """(std, hint) pairs for the usual mistakes of a uniform Xavier init, U[-r, r]: the
    hints speak of the bound r, the comparison uses the std r / sqrt(3)."""
    bounds = [
        (math.sqrt(2.0 / (fi + fo)), "your bound r equals the std sqrt(2 / (fan_in + fan_out)). "
                                     "U[-r, r] has variance r**2 / 3, so for that std the bound "
                                     "must be sqrt(3) times larger: r = sqrt(6 / (fan_in + fan_out))"),
        (3.0 * math.sqrt(2.0 / (fi + fo)), "your bound is 3 * std; U[-r, r] has std r / sqrt(3), "
                                           "so r = sqrt(3) * std, not 3 * std"),
        (6.0 / (fi + fo), "you used 6 / (fan_in + fan_out) as the bound; the bound is its "
                          "square root"),
        (math.sqrt(3.0 / (fi + fo)), "the 2 is missing: r = sqrt(3 * 2 / (fan_in + fan_out))"),
        (math.sqrt(6.0 / fi), "you used fan_in alone (He's uniform bound sqrt(6 / fan_in)); "
                              "Xavier uses fan_in + fan_out"),
        (math.sqrt(3.0 / fi), "you used 1 / fan_in as the variance; Xavier's is "
                              "2 / (fan_in + fan_out)"),
        (math.sqrt(6.0 / fo), "you used fan_out where Xavier uses fan_in + fan_out"),
        (math.sqrt(3.0 / fo), "you used fan_out alone; Xavier uses both fans"),
    ]
    return [(r / math.sqrt(3.0), hint) for r, hint in bounds]


def _check_uniform_shape(W, call):
    """U[-r, r] has no value beyond sqrt(3) std; a normal sample of this size has many."""
    m = np.abs(W).max()
    if m > 1.2 * math.sqrt(3.0) * W.std():
        fail(f"{call}: the values spread like a normal distribution (the largest is "
             f"{m / W.std():.1f} std from 0). A uniform init draws from U[-r, r], e.g. "
             f"rng.uniform(-r, r, size=(fan_in, fan_out))")


def check_xavier(xavier_normal, xavier_uniform):
    """Check ``xavier_normal(fan_in, fan_out, rng)`` (std sqrt(2 / (fan_in + fan_out))) and
    ``xavier_uniform(fan_in, fan_out, rng)`` (U[-r, r], r = sqrt(6 / (fan_in + fan_out))).

    Diagnoses: the transposed shape (fan_out, fan_in); the global random state instead of
    rng; a constant or non-centred matrix; variance used as the std (square root missing);
    the 2 missing; 1/fan_in, 2/fan_in or fan_out alone instead of fan_in + fan_out; for the
    uniform: the bound set to the std (sqrt(3) missing) or to 3 std, the square root of the
    bound missing, a normal distribution instead of a uniform one.
    """
    for fi, fo in ((_FAN_IN, _FAN_OUT), _SECOND):
        W, call = _draw(xavier_normal, "xavier_normal", fi, fo)
        _check_mean(W, call)
        _diagnose_std(W.std(), call, fi, fo, math.sqrt(2.0 / (fi + fo)), _xavier_candidates(fi, fo))
        if np.abs(W).max() < 2.5 * W.std():
            fail(f"{call}: the std is right but no value lies beyond 2.5 std: this is not a "
                 f"normal distribution. Use rng.standard_normal or rng.normal")
    for fi, fo in ((_FAN_IN, _FAN_OUT), _SECOND):
        W, call = _draw(xavier_uniform, "xavier_uniform", fi, fo)
        _check_mean(W, call)
        _check_uniform_shape(W, call)
        _diagnose_std(W.std(), call, fi, fo, math.sqrt(2.0 / (fi + fo)),
                      _xavier_uniform_candidates(fi, fo))
        r = math.sqrt(6.0 / (fi + fo))
        if np.abs(W).max() > r * (1 + 1e-12):
            fail(f"{call}: some weights lie outside [-r, r] with r = sqrt(6 / (fan_in + fan_out))")
    passed("xavier")


def check_he(he_normal):
    """Check ``he_normal(fan_in, fan_out, rng)``: W ~ N(0, 2 / fan_in), for ReLU layers.

    Diagnoses: the transposed shape; the global random state instead of rng; a non-centred
    matrix; fan_out instead of fan_in; variance used as the std (square root missing); the 2
    missing (that is LeCun's 1 / fan_in); Xavier's 2 / (fan_in + fan_out); a uniform
    distribution instead of a normal one.
    """
    for fi, fo in ((_FAN_IN, _FAN_OUT), _SECOND):
        W, call = _draw(he_normal, "he_normal", fi, fo)
        _check_mean(W, call)
        candidates = [
            (math.sqrt(2.0 / fo), "you used fan_out; He initialization preserves the FORWARD "
                                  "variance, so it divides by fan_in: Var(W) = 2 / fan_in"),
            (2.0 / fi, "you used 2 / fan_in, which is the VARIANCE, as the std: take its square "
                       "root"),
            (math.sqrt(1.0 / fi), "the 2 is missing: ReLU zeroes half of its inputs and halves "
                                  "the second moment, so He uses Var(W) = 2 / fan_in, not 1 / fan_in"),
            (math.sqrt(2.0 / (fi + fo)), "that is Xavier's 2 / (fan_in + fan_out); He uses "
                                         "2 / fan_in"),
            (math.sqrt(1.0 / fo), "you used 1 / fan_out; He uses 2 / fan_in"),
            (2.0 * math.sqrt(1.0 / fi), "you multiplied by 2 instead of sqrt(2): the VARIANCE "
                                        "is 2 / fan_in, so the std is sqrt(2 / fan_in)"),
        ]
        _diagnose_std(W.std(), call, fi, fo, math.sqrt(2.0 / fi), candidates)
        if np.abs(W).max() < 2.5 * W.std():
            fail(f"{call}: the std is right but no value lies beyond 2.5 std: this is not a "
                 f"normal distribution. Use rng.standard_normal or rng.normal")
    passed("he")


# ----------------------------------------------------------- std through depth

def _reference_layer_stds(x, weight_std, depth, activation, rng, mode="post", chained=True):
    a, out = x, []
    d = x.shape[1]
    for _ in range(depth):
        W = weight_std * rng.standard_normal((d, d))
        z = (a if chained else x) @ W
        new = activation(z)
        out.append((z if mode == "pre" else new).std())
        a = new
    return np.array(out)


def _tanh(x):
    return np.tanh(x)


def _relu(x):
    return np.maximum(x, 0.0)


def _identity(x):
    return x


_CASES = [   # (activation, its name in the hint, weight std, depth); inputs (100, 128)
    (_tanh, "np.tanh", 0.01, 8),
    (_tanh, "np.tanh", 0.2, 6),
    (_relu, "lambda a: np.maximum(a, 0)", math.sqrt(2.0 / 128), 2),
]


def check_layer_stds(layer_stds):
    """Check ``layer_stds(x, weight_std, depth, activation, rng)``: push x (N, D) through
    ``depth`` layers a = activation(a_prev @ W), each W (D, D) ~ N(0, weight_std**2) freshly
    drawn from rng, and return the std of each layer's activations, shape (depth,). Compared
    with reference statistics within 25 % per layer (the draws may be ordered differently).

    Diagnoses: the input's std included (depth + 1 values); the variance instead of the std;
    the pre-activation's std instead of the activation's; every layer fed the original x
    instead of the previous layer's output; the activation not applied.
    """
    for activation, act_name, weight_std, depth in _CASES:
        x = np.random.default_rng(1).standard_normal((100, 128))
        call = (f"layer_stds(np.random.default_rng(1).standard_normal((100, 128)), "
                f"weight_std={weight_std:.4g}, depth={depth}, activation={act_name}, "
                f"rng=np.random.default_rng(0))")
        x_in = x.copy()
        got = as_array(layer_stds(x_in, weight_std, depth, activation, np.random.default_rng(0)), call)
        if not np.array_equal(x_in, x):
            fail(f"{call} changed x in place")
        got = got.ravel()
        if got.shape == (depth + 1,):
            fail(f"{call} returned {depth + 1} values for {depth} layers. Return one std per "
                 f"layer, without the input's")
        check_shape(got, (depth,), call)
        if np.any(got <= 0) or not np.all(np.isfinite(got)):
            fail(f"{call} returned values that are not positive finite stds: {got}")

        def like(ref):
            return bool(np.all(np.abs(np.log(got / ref)) < math.log(1.25)))

        ref = _reference_layer_stds(x, weight_std, depth, activation, np.random.default_rng(0))
        if like(ref):
            continue
        if like(ref ** 2):
            fail(f"{call}: your values are the VARIANCES of the activations (std squared); "
                 f"return .std()")
        if like(_reference_layer_stds(x, weight_std, depth, activation, np.random.default_rng(0),
                                      mode="pre")):
            fail(f"{call}: you recorded the std of the pre-activations a_prev @ W; record the "
                 f"std of the activations activation(a_prev @ W), the layer's output")
        if like(_reference_layer_stds(x, weight_std, depth, activation, np.random.default_rng(0),
                                      chained=False)):
            fail(f"{call}: every layer seems to get the original x as input. Each layer's input "
                 f"is the previous layer's output: a = activation(a @ W)")
        if like(_reference_layer_stds(x, weight_std, depth, _identity, np.random.default_rng(0))):
            fail(f"{call}: the activation function is not applied; a = activation(a @ W)")
        fail(f"{call} returned {np.array2string(got, precision=3)}, which does not follow the "
             f"per-layer statistics of this experiment")
    passed("layer_stds")


# ------------------------------------------------------------ predict the collapse

_COLLAPSE = dict(width=256, depth=10, weight_std=0.01, n=200)


@functools.lru_cache(maxsize=1)
def _measure_collapse():
    c = _COLLAPSE
    x = np.random.default_rng(1).standard_normal((c["n"], c["width"]))
    return _reference_layer_stds(x, c["weight_std"], c["depth"], _tanh, np.random.default_rng(0))


def check_collapse_prediction(predicted_std_layer1, predicted_std_layer10):
    """Check predictions of the activation std after layer 1 and after layer 10 of a tanh
    net (width 256, W ~ N(0, 0.01**2), unit-Gaussian input) against a measurement. Layer 1
    must be within 10 %, layer 10 within a factor of 2.

    Diagnoses: the std not multiplied by sqrt(fan_in) (0.01 per layer); fan_in instead of
    sqrt(fan_in); the variance (product of variance factors) instead of the std; the
    exponent off by one (9 or 11 factors); "no change" (std 1); a std of 0 or below
    (a linear decrease instead of a product); a layer-10 value that does not shrink.
    """
    c = _COLLAPSE
    measured = _measure_collapse().copy()
    per_layer = c["weight_std"] * math.sqrt(c["width"])
    preds = read_predictions(predicted_std_layer1=predicted_std_layer1, predicted_std_layer10=predicted_std_layer10)
    p1, p10 = preds["predicted_std_layer1"], preds["predicted_std_layer10"]
    for name, p in (("predicted_std_layer1", p1), ("predicted_std_layer10", p10)):
        if p <= 0:
            fail(f"{name} = {p:g}: a standard deviation is positive. It shrinks by a FACTOR "
                 f"per layer, so it never reaches 0")

    def near(p, target, factor):
        return p > 0 and abs(math.log(p / target)) < math.log(factor)

    if not near(p1, measured[0], 1.1):
        if near(p1, c["weight_std"], 1.1):
            fail(f"predicted_std_layer1 = {p1:g}: each unit sums fan_in = {c['width']} products "
                 f"x_i w_i, so the variances add up: Var(z) = fan_in Var(W) Var(x). The std is "
                 f"multiplied by std(W) * sqrt(fan_in), not by std(W)")
        if near(p1, c["weight_std"] * c["width"], 1.1):
            fail(f"predicted_std_layer1 = {p1:g}: the VARIANCE is multiplied by fan_in, so the "
                 f"std grows with sqrt(fan_in), not fan_in")
        if near(p1, per_layer ** 2, 1.1):
            fail(f"predicted_std_layer1 = {p1:g} is the variance fan_in Var(W) Var(x); the std is "
                 f"its square root")
        if near(p1, 1.0, 1.3):
            fail(f"predicted_std_layer1 = {p1:g}: the input has std 1, but a layer with weights "
                 f"of std 0.01 does not keep it: Var(z) = fan_in Var(W) Var(x)")
        fail(f"predicted_std_layer1 = {p1:g} is not close to the measurement. Use "
             f"Var(z) = fan_in Var(W) Var(x), and tanh(z) is about z for small z")
    if not near(p10, measured[-1], 2.0):
        if near(p10, per_layer ** (2 * c["depth"]), 2.0):
            fail(f"predicted_std_layer10 = {p10:g}: you multiplied the VARIANCE factors; the std "
                 f"is the square root, std(W) sqrt(fan_in) per layer")
        if near(p10, c["weight_std"] ** c["depth"], 2.0):
            fail(f"predicted_std_layer10 = {p10:g}: the factor per layer is std(W) sqrt(fan_in), "
                 f"not std(W)")
        for k in (c["depth"] - 1, c["depth"] + 1):
            if near(p10, per_layer ** k, 2.0):
                fail(f"predicted_std_layer10 = {p10:g}: count the factors: the input passes "
                     f"through {c['depth']} layers, each multiplying the std by the same factor")
        if near(p10, (c["weight_std"] * c["width"]) ** c["depth"], 2.0):
            fail(f"predicted_std_layer10 = {p10:g}: the per-layer factor grows with "
                 f"sqrt(fan_in), not fan_in")
        if p10 > 0.05:
            fail(f"predicted_std_layer10 = {p10:g}: every layer multiplies the std by the same "
                 f"factor as layer 1 did. What do ten such factors make?")
        fail(f"predicted_std_layer10 = {p10:g} is not within a factor of 2 of the measurement: "
             f"the std is multiplied by the same factor at each of the {c['depth']} layers")
    passed("collapse_prediction")


# ----------------------------------------------------------------- symmetry

_W_SAME_UNITS = np.array([[0.3, 0.3, 0.3, 0.3], [-1.2, -1.2, -1.2, -1.2], [0.5, 0.5, 0.5, 0.5]])
_W_SAME_INPUTS = np.array([[0.1, -0.4, 0.9, 0.2], [0.1, -0.4, 0.9, 0.2], [0.1, -0.4, 0.9, 0.2]])
# every wrong reduction gives a different number on this one
_W_MIXED = np.array([[0.5, 0.2, -1.3, 0.1], [1.0, 1.1, 0.7, 1.2], [-2.0, -0.5, -2.4, -1.1]])


def check_max_unit_difference(max_unit_difference):
    """Check ``max_unit_difference(W)`` = max over inputs i of (max_j W[i, j] - min_j W[i, j]):
    how far apart the units (columns) of a (fan_in, fan_out) weight matrix are; 0 exactly
    when all units have identical incoming weights.

    Diagnoses: comparing rows (inputs) instead of columns (units); the spread of all entries;
    the mean instead of the max over inputs; the distance from unit 0 instead of the spread;
    a signed difference.
    """
    cases = (("a general matrix", _W_MIXED),
             ("a matrix whose 3 rows are identical (the units differ)", _W_SAME_INPUTS),
             ("a matrix whose 4 units (columns) are identical", _W_SAME_UNITS))
    for what, W in cases:
        call = f"max_unit_difference({fmt_array(W)})  # {what}"
        W_in = W.copy()
        value = as_array(max_unit_difference(W_in), call)
        if not np.array_equal(W_in, W):
            fail(f"{call} changed W in place")
        if value.size != 1:
            fail(f"{call} should return one number, got an array of shape {value.shape}; take "
                 f"the max over the inputs too")
        got = float(value)
        ref = np.ptp(W, axis=1).max()
        if close(got, ref):
            continue
        if close(got, np.ptp(W, axis=0).max()):
            fail(f"{call}: you compared the ROWS. Unit j's incoming weights are the COLUMN "
                 f"W[:, j] (W has shape (fan_in, fan_out)), so compare across axis=1")
        if close(got, np.ptp(W)):
            fail(f"{call}: you took the spread of ALL entries; identical units can still have "
                 f"different weights for different inputs. Compare the units input by input "
                 f"(across axis=1), then take the max")
        if close(got, np.ptp(W, axis=1).mean()):
            fail(f"{call}: you averaged over the inputs; take the max, so that one differing "
                 f"weight is enough to tell two units apart")
        if close(got, np.abs(W - W[:, :1]).max()):
            fail(f"{call}: you measured each unit's distance from unit 0. The exercise asks for "
                 f"the spread across ALL units, max - min for each input (np.ptp(..., axis=1)), "
                 f"then the max over the inputs")
        if close(got, np.max(W[:, 1:] - W[:, :1])) or close(got, np.max(W[:, :1] - W[:, 1:])):
            fail(f"{call}: a signed difference misses units on the other side of unit 0; use "
                 f"max - min across the units (np.ptp)")
        fail(f"{call} returned {got:g}, which is not max over inputs of (max - min across units)")
    passed("max_unit_difference")
