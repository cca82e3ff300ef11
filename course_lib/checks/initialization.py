"""Checks for exercises/02_initialization.ipynb: Xavier and He initializers, per-layer
activation std through depth, the collapse of a deep tanh net at std 0.01, and a measure of
how different a layer's units are (symmetry)."""
import functools
import math

import numpy as np

from ._common import Call, as_array, check, check_shape, close, fail, fmt_array, passed, read_predictions


# ------------------------------------------------------------------- initializers

_FAN_IN, _FAN_OUT = 400, 150        # different, so that fan_in and fan_out cannot be confused
_SECOND = (64, 256)                 # and the other way round


def _init_inputs(seed):
    """Two (fan_in, fan_out, rng seed) triples: fan_in > fan_out, then fan_in < fan_out. With a
    seed, fans whose candidate stds (right and wrong) all stay well apart, as the public ones."""
    if seed is None:
        return [(_FAN_IN, _FAN_OUT, 0), (*_SECOND, 0)]
    g = np.random.default_rng(seed)
    for _ in range(100_000):
        fi = int(g.integers(200, 600))
        fo = int(round(fi / g.uniform(2.0, 3.5)))
        fo2 = int(g.integers(200, 400))
        fi2 = int(round(fo2 / g.uniform(2.5, 5.0)))
        triples = [(fi, fo, int(g.integers(1, 10_000))), (fi2, fo2, int(g.integers(1, 10_000)))]
        if all(a * b >= 16_000 and _separation(a, b) >= 0.09 for a, b, _ in triples):
            return triples
    raise RuntimeError(f"no fans found for seed {seed}")


def _separation(fi, fo):
    """The smallest |log ratio| between two stds one check tells apart, for these fans."""
    sets = [[math.sqrt(2.0 / (fi + fo))] + [c for c, _ in _xavier_candidates(fi, fo)],
            [math.sqrt(2.0 / (fi + fo))] + [c for c, _ in _xavier_uniform_candidates(fi, fo)],
            [math.sqrt(2.0 / fi)] + [c for c, _ in _he_candidates(fi, fo)]]
    gaps = []
    for values in sets:
        v = np.log(np.array(values))
        gaps.append(np.min(np.abs(v[:, None] - v[None, :]) + 9 * np.eye(len(v))))
    return float(min(gaps))


def _draw(init, name, fan_in, fan_out, seed=0):
    """Call init(fan_in, fan_out, rng) with a seeded rng; return (W, Call)."""
    call = Call(f"{name}({fan_in}, {fan_out}, np.random.default_rng({seed}))")
    W = as_array(init(fan_in, fan_out, np.random.default_rng(seed)), f"{name}'s result", call)
    if W.shape == (fan_out, fan_in) and fan_in != fan_out:
        fail(f"{name} returned the shape (fan_out, fan_in), PyTorch's layout. In this course W "
             f"has shape (fan_in, fan_out), because a layer computes x @ W", call)
    check_shape(W, (fan_in, fan_out), f"{name}'s result", call)
    if not np.all(np.isfinite(W)):
        fail(f"{name}'s result contains nan or inf", call)
    again = np.asarray(init(fan_in, fan_out, np.random.default_rng(seed)), dtype=np.float64)
    if not np.array_equal(W, again):
        fail(f"{name} gives different numbers on two calls with the same seeded rng: draw from "
             f"the `rng` argument (rng.standard_normal, rng.normal, rng.uniform), never from "
             f"np.random's global state", call)
    if np.all(W == W.flat[0]):
        fail(f"{name} returned a constant matrix; the weights must be random", call)
    return W, call


def _check_mean(W, name, call):
    if abs(W.mean()) > 6 * W.std() / math.sqrt(W.size):
        fail(f"The weights of your {name} have mean {W.mean():.3g}, far from 0. They must be "
             f"centred on 0 (a uniform init draws from [-r, r], not [0, r])", call)


def _matches(std, target, rtol=0.03):
    return abs(std / target - 1) < rtol


def _diagnose_std(std, name, call, correct, candidates):
    """Fail with the hint of the first candidate std that matches; generic hint otherwise."""
    if _matches(std, correct):
        return
    for target, hint in candidates:
        if _matches(std, target):
            fail(f"The weights of your {name} have the wrong std: {hint}", call)
    fail(f"The weights of your {name} have std {std:.3g}, which does not match the formula "
         f"for these fans", call)


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
        (math.sqrt(2.0) / (fi + fo), "you divided by fan_in + fan_out instead of its square "
                                     "root: std = sqrt(2 / (fan_in + fan_out))"),
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


def _he_candidates(fi, fo):
    """(std, hint) pairs for the usual mistakes of a normal He init."""
    return [
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
        (math.sqrt(2.0) / fi, "you divided by fan_in instead of its square root: the std is "
                              "sqrt(2 / fan_in) = sqrt(2) / sqrt(fan_in)"),
    ]


def _check_uniform_shape(W, name, call):
    """U[-r, r] has no value beyond sqrt(3) std; a normal sample of this size has many."""
    m = np.abs(W).max()
    if m > 1.2 * math.sqrt(3.0) * W.std():
        fail(f"The values of your {name} spread like a normal distribution (the largest is "
             f"{m / W.std():.1f} std from 0). A uniform init draws from U[-r, r], e.g. "
             f"rng.uniform(-r, r, size=(fan_in, fan_out))", call)


def _check_normal_shape(W, name, call):
    if np.abs(W).max() < 2.5 * W.std():
        fail(f"The std of your {name} is right but no value lies beyond 2.5 std: this is not a "
             f"normal distribution. Use rng.standard_normal or rng.normal", call)


@check()
def check_xavier(xavier_normal, xavier_uniform, *, seed=None):
    """Check ``xavier_normal(fan_in, fan_out, rng)`` (std sqrt(2 / (fan_in + fan_out))) and
    ``xavier_uniform(fan_in, fan_out, rng)`` (U[-r, r], r = sqrt(6 / (fan_in + fan_out))).

    Diagnoses: the transposed shape (fan_out, fan_in); the global random state instead of
    rng; a constant or non-centred matrix; variance used as the std (square root missing);
    the 2 missing; division by fan_in + fan_out instead of its square root; 1/fan_in,
    2/fan_in or fan_out alone instead of fan_in + fan_out; for the uniform: the bound set to
    the std (sqrt(3) missing) or to 3 std, the square root of the bound missing, a normal
    distribution instead of a uniform one.
    """
    triples = _init_inputs(seed)
    for fi, fo, s in triples:
        W, call = _draw(xavier_normal, "xavier_normal", fi, fo, s)
        _check_mean(W, "xavier_normal", call)
        _diagnose_std(W.std(), "xavier_normal", call, math.sqrt(2.0 / (fi + fo)),
                      _xavier_candidates(fi, fo))
        _check_normal_shape(W, "xavier_normal", call)
    for fi, fo, s in triples:
        W, call = _draw(xavier_uniform, "xavier_uniform", fi, fo, s)
        _check_mean(W, "xavier_uniform", call)
        _check_uniform_shape(W, "xavier_uniform", call)
        _diagnose_std(W.std(), "xavier_uniform", call, math.sqrt(2.0 / (fi + fo)),
                      _xavier_uniform_candidates(fi, fo))
        r = math.sqrt(6.0 / (fi + fo))
        if np.abs(W).max() > r * (1 + 1e-12):
            fail("Some weights of your xavier_uniform lie outside [-r, r] with "
                 "r = sqrt(6 / (fan_in + fan_out))", call)
    passed("xavier")


@check()
def check_he(he_normal, *, seed=None):
    """Check ``he_normal(fan_in, fan_out, rng)``: W ~ N(0, 2 / fan_in), for ReLU layers.

    Diagnoses: the transposed shape; the global random state instead of rng; a non-centred
    matrix; fan_out instead of fan_in; variance used as the std (square root missing); the 2
    missing (that is LeCun's 1 / fan_in); Xavier's 2 / (fan_in + fan_out); division by fan_in
    instead of its square root; a uniform distribution instead of a normal one.
    """
    for fi, fo, s in _init_inputs(seed):
        W, call = _draw(he_normal, "he_normal", fi, fo, s)
        _check_mean(W, "he_normal", call)
        _diagnose_std(W.std(), "he_normal", call, math.sqrt(2.0 / fi), _he_candidates(fi, fo))
        _check_normal_shape(W, "he_normal", call)
    passed("he")


# ----------------------------------------------------------- std through depth

def _reference_layer_stds(x, weight_std, depth, activation, rng, mode="post", chained=True,
                          reuse=False):
    a, out = x, []
    d = x.shape[1]
    W = None
    for _ in range(depth):
        if W is None or not reuse:
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


_ACTIVATIONS = {"np.tanh": _tanh, "lambda a: np.maximum(a, 0)": _relu}
_CASES = [   # (activation's name in the hint, weight std, depth); inputs (100, 128)
    ("np.tanh", 0.01, 8),
    ("np.tanh", 0.2, 6),
    ("lambda a: np.maximum(a, 0)", math.sqrt(2.0 / 128), 2),
]


def _layer_stds_inputs(seed):
    """(x seed, x shape, cases) with cases (activation name, weight std, depth, rng seed): a
    tanh net whose std collapses, a saturating tanh net, a two-layer He ReLU net.

    With a seed the regime stays the public one: at least as many examples and units, the
    same depths. The 25 % tolerance is there for solutions that draw the layers' W in another
    order; such a draw changes the stds by up to 0.19 in log (max over 60 orders, public
    cases), and deeper ReLU nets or fewer units spread further (0.27 for 3 ReLU layers)."""
    if seed is None:
        return 1, (100, 128), [case + (0,) for case in _CASES]
    g = np.random.default_rng(seed)
    n, d = int(g.integers(100, 161)), int(g.integers(128, 193))

    def four_digits(v):          # the hint prints weight_std exactly as it is used
        return float(f"{v:.4g}")

    cases = [("np.tanh", four_digits(g.uniform(0.1, 0.2) / math.sqrt(d)), int(g.integers(6, 9))),
             ("np.tanh", four_digits(g.uniform(1.8, 3.0) / math.sqrt(d)), int(g.integers(4, 7))),
             ("lambda a: np.maximum(a, 0)", four_digits(math.sqrt(2.0 / d)), 2)]
    return int(g.integers(2, 10_000)), (n, d), [c + (int(g.integers(1, 10_000)),) for c in cases]


@check()
def check_layer_stds(layer_stds, *, seed=None):
    """Check ``layer_stds(x, weight_std, depth, activation, rng)``: push x (N, D) through
    ``depth`` layers a = activation(a_prev @ W), each W (D, D) ~ N(0, weight_std**2) freshly
    drawn from rng, and return the std of each layer's activations, shape (depth,). Compared
    with reference statistics within 25 % per layer (the draws may be ordered differently).

    Diagnoses: the off-by-ones — the input's std included (depth + 1 values), the input's std
    first and the last layer missing (recorded before each layer instead of after), the first
    layer skipped (depth - 1 values, or one layer late), the last layer missing, one layer too
    many; the variance instead of the std; the pre-activation's std instead of the
    activation's; every layer fed the original x instead of the previous layer's output; the
    activation not applied; one W drawn once and reused for every layer; weight_std**2 used
    as the weights' std.
    """
    x_seed, shape, cases = _layer_stds_inputs(seed)
    x = np.random.default_rng(x_seed).standard_normal(shape)
    setup = f"x = np.random.default_rng({x_seed}).standard_normal({shape})"
    for act_name, weight_std, depth, rng_seed in cases:
        activation = _ACTIVATIONS[act_name]
        call = Call(f"layer_stds(x, weight_std={weight_std!r}, depth={depth}, "
                    f"activation={act_name}, rng=np.random.default_rng({rng_seed}))", setup)
        x_in = x.copy()
        got = as_array(layer_stds(x_in, weight_std, depth, activation,
                                  np.random.default_rng(rng_seed)), "layer_stds's result", call)
        if not np.array_equal(x_in, x):
            fail("layer_stds modifies x in place; compute each layer's output into a new array",
                 call)
        got = got.ravel()
        if np.any(got <= 0) or not np.all(np.isfinite(got)):
            fail(f"layer_stds returned values that are not positive finite stds: {got}", call)

        def ref(depth=depth, **kwargs):
            return _reference_layer_stds(x, weight_std, depth, activation,
                                         np.random.default_rng(rng_seed), **kwargs)

        def like(target):
            return got.shape == target.shape and \
                bool(np.all(np.abs(np.log(got / target)) < math.log(1.25)))

        right, longer = ref(), ref(depth + 1)
        if got.shape == (depth + 1,):
            if like(np.r_[x.std(), right]):
                fail("layer_stds returned one value more than there are layers: the first is "
                     "the input's std. Return one std per layer (a_1 ... a_depth), without the "
                     "input's", call)
            if like(longer):
                fail("layer_stds returned one value more than there are layers: your loop runs "
                     "depth + 1 layers. Run exactly depth layers, one std each", call)
        if got.shape == (depth - 1,):
            if like(right[1:]):
                fail("layer_stds skipped the first layer: its values start at the std after "
                     "layer 2. Record every layer's output, from a_1 on: depth values", call)
            if like(right[:-1]):
                fail("layer_stds stops one layer early: the last layer's std is missing. Loop "
                     "over range(depth), one std per layer", call)
        if got.shape in ((depth + 1,), (depth - 1,)):
            fail(f"layer_stds returned {len(got)} values, one more or one fewer than there are "
                 f"layers: return one std per layer, without the input's", call)
        check_shape(got, (depth,), "layer_stds's result", call)

        if like(right):
            if close(got, ref(reuse=True)):
                fail("layer_stds draws one W and reuses it for every layer. Each layer gets its "
                     "own, freshly drawn W_l (draw it inside the loop): a reused matrix "
                     "multiplies the same directions again and again, which is not the "
                     "experiment", call)
            continue
        if like(np.r_[x.std(), right[:-1]]):
            fail("layer_stds is off by one layer: its first value is the input's std and the "
                 "last layer's is missing. Record a.std() AFTER computing each layer's output, "
                 "a = activation(a @ W)", call)
        if like(longer[1:]):
            fail("layer_stds is one layer late: its first value is the std after layer 2, and "
                 "it runs one layer too many. Record the std of a_1, a_2, ..., a_depth", call)
        if like(right ** 2):
            fail("layer_stds returns the VARIANCES of the activations (std squared); return "
                 ".std()", call)
        if like(ref(mode="pre")):
            fail("layer_stds records the std of the pre-activations a_prev @ W; record the std "
                 "of the activations activation(a_prev @ W), the layer's output", call)
        if like(ref(chained=False)):
            fail("In your layer_stds every layer seems to get the original x as input. Each "
                 "layer's input is the previous layer's output: a = activation(a @ W)", call)
        if like(_reference_layer_stds(x, weight_std, depth, _identity,
                                      np.random.default_rng(rng_seed))):
            fail("In your layer_stds the activation function is not applied; "
                 "a = activation(a @ W)", call)
        if like(_reference_layer_stds(x, weight_std ** 2, depth, activation,
                                      np.random.default_rng(rng_seed))):
            fail("The weights in your layer_stds have std weight_std**2: weight_std is the std "
                 "itself, W = weight_std * rng.standard_normal((D, D)) (rng.normal takes the "
                 "std, not the variance)", call)
        fail(f"layer_stds returned {np.array2string(got, precision=3)}, which does not follow "
             f"the per-layer statistics of this experiment", call)
    passed("layer_stds")


# ------------------------------------------------------------ predict the collapse

_COLLAPSE = dict(width=256, depth=10, weight_std=0.01, n=200)


@functools.lru_cache(maxsize=1)
def _measure_collapse():
    c = _COLLAPSE
    x = np.random.default_rng(1).standard_normal((c["n"], c["width"]))
    return _reference_layer_stds(x, c["weight_std"], c["depth"], _tanh, np.random.default_rng(0))


@check(hidden=False, why="a prediction about the one network the exercise states (width 256, "
                         "10 tanh layers, W ~ N(0, 0.01**2)): the two numbers are the answer")
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


def _unit_difference_answers(W):
    """The right value and what each diagnosed mistake returns."""
    return [np.ptp(W, axis=1).max(), np.ptp(W, axis=0).max(), np.ptp(W), np.ptp(W, axis=1).mean(),
            np.abs(W - W[:, :1]).max(), np.max(W[:, 1:] - W[:, :1]), np.max(W[:, :1] - W[:, 1:])]


def _unit_difference_inputs(seed):
    """A general matrix on which every diagnosed mistake gives its own number, one whose rows
    (inputs) are identical, one whose columns (units) are identical."""
    if seed is None:
        return _W_MIXED, _W_SAME_INPUTS, _W_SAME_UNITS
    g = np.random.default_rng(seed)
    for _ in range(100_000):
        W = np.round(g.normal(0.0, 1.0, (int(g.integers(3, 6)), int(g.integers(3, 6)))), 1)
        # the largest |W - W[:, :1]| is always one of the two signed differences: keep the
        # other one apart from it (and positive), as on the public matrix
        v = np.array(_unit_difference_answers(W)[:6])
        if np.min(np.abs(v[:, None] - v[None, :]) + 9 * np.eye(len(v))) > 0.05 and v[5] > 0:
            break
    else:
        raise RuntimeError(f"no general matrix found for seed {seed}")
    while True:
        row = np.round(g.normal(0.0, 1.0, int(g.integers(3, 6))), 1)
        if np.ptp(row) > 0.2:
            break
    same_inputs = np.tile(row, (int(g.integers(2, 5)), 1))
    column = np.round(g.normal(0.0, 1.0, (int(g.integers(2, 5)), 1)), 1)
    same_units = np.tile(column, (1, int(g.integers(3, 6))))
    return W, same_inputs, same_units


@check()
def check_max_unit_difference(max_unit_difference, *, seed=None):
    """Check ``max_unit_difference(W)`` = max over inputs i of (max_j W[i, j] - min_j W[i, j]):
    how far apart the units (columns) of a (fan_in, fan_out) weight matrix are; 0 exactly
    when all units have identical incoming weights.

    Diagnoses: comparing rows (inputs) instead of columns (units); the spread of all entries;
    the mean instead of the max over inputs; the distance from unit 0 instead of the spread;
    a signed difference; W modified in place.
    """
    mixed, same_inputs, same_units = _unit_difference_inputs(seed)
    cases = (("a general matrix", mixed),
             ("a matrix whose rows are identical (the units differ)", same_inputs),
             ("a matrix whose units (columns) are identical", same_units))
    for what, W in cases:
        call = Call(f"max_unit_difference({fmt_array(W)})  # {what}")
        W_in = W.copy()
        value = as_array(max_unit_difference(W_in), "max_unit_difference's result", call)
        if not np.array_equal(W_in, W):
            fail("max_unit_difference modifies W in place; compute the spread without changing "
                 "W", call)
        if value.size != 1:
            fail(f"max_unit_difference should return one number, got an array of shape "
                 f"{value.shape}; take the max over the inputs too", call)
        got = float(value)
        ref = np.ptp(W, axis=1).max()
        if close(got, ref):
            continue
        if close(got, np.ptp(W, axis=0).max()):
            fail("Your max_unit_difference compared the ROWS. Unit j's incoming weights are the "
                 "COLUMN W[:, j] (W has shape (fan_in, fan_out)), so compare across axis=1", call)
        if close(got, np.ptp(W)):
            fail("Your max_unit_difference took the spread of ALL entries; identical units can "
                 "still have different weights for different inputs. Compare the units input "
                 "by input (across axis=1), then take the max", call)
        if close(got, np.ptp(W, axis=1).mean()):
            fail("Your max_unit_difference averaged over the inputs; take the max, so that one "
                 "differing weight is enough to tell two units apart", call)
        if close(got, np.abs(W - W[:, :1]).max()):
            fail("Your max_unit_difference measured each unit's distance from unit 0. The "
                 "exercise asks for the spread across ALL units, max - min for each input "
                 "(np.ptp(..., axis=1)), then the max over the inputs", call)
        if close(got, np.max(W[:, 1:] - W[:, :1])) or close(got, np.max(W[:, :1] - W[:, 1:])):
            fail("Your max_unit_difference uses a signed difference, which misses units on the "
                 "other side of unit 0; use max - min across the units (np.ptp)", call)
        fail(f"max_unit_difference returned {got:g}, which is not max over inputs of "
             f"(max - min across units)", call)
    passed("max_unit_difference")
