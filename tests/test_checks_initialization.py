"""The checks of exercises/02_initialization.ipynb, proved both ways: each passes the reference
solution, and each typical mistake it claims to catch fails with its targeted hint — without
the hint revealing the expected numbers, and without swallowing the student's own errors."""
import math
import re

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import initialization
from course_lib.checks._common import hidden_mode
from _checkutil import assert_hides, hint, passes, raises_own_error
from _hardcoded import hard_coded

HIDDEN_SEEDS = [1, 11, 777, 2024, 31337]


# ------------------------------------------------------------------ initializers

def normal_with(std_of):
    """A normal initializer whose std is std_of(fan_in, fan_out)."""
    return lambda fi, fo, rng: std_of(fi, fo) * rng.standard_normal((fi, fo))


def uniform_with(bound_of):
    return lambda fi, fo, rng: rng.uniform(-bound_of(fi, fo), bound_of(fi, fo), size=(fi, fo))


xavier_normal_ok = normal_with(lambda fi, fo: math.sqrt(2 / (fi + fo)))
xavier_uniform_ok = uniform_with(lambda fi, fo: math.sqrt(6 / (fi + fo)))
he_normal_ok = normal_with(lambda fi, fo: math.sqrt(2 / fi))
INIT_EXPECTED = [math.sqrt(2 / 550), math.sqrt(6 / 550), math.sqrt(2 / 400),
                 math.sqrt(2 / 320), math.sqrt(6 / 320), math.sqrt(2 / 64)]


def test_xavier_passes_the_reference(capsys):
    passes(capsys, checks.check_xavier, xavier_normal_ok, xavier_uniform_ok, name="xavier")


def test_xavier_accepts_rng_normal(capsys):
    def xavier_normal(fan_in, fan_out, rng):
        return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
    passes(capsys, checks.check_xavier, xavier_normal, xavier_uniform_ok, name="xavier")


def test_he_passes_the_reference(capsys):
    passes(capsys, checks.check_he, he_normal_ok, name="he")


@pytest.mark.parametrize("wrong, match", [
    (lambda fi, fo, rng: xavier_normal_ok(fo, fi, rng), "PyTorch's layout"),
    (lambda fi, fo, rng: xavier_normal_ok(fi, fo, np.random.default_rng()), "two calls"),
    (lambda fi, fo, rng: np.full((fi, fo), 0.05), "constant matrix"),
    (lambda fi, fo, rng: 0.01 + xavier_normal_ok(fi, fo, rng), "mean"),
    (normal_with(lambda fi, fo: 2 / (fi + fo)), "VARIANCE"),
    (normal_with(lambda fi, fo: math.sqrt(6 / (fi + fo))), "BOUND of the uniform"),
    (normal_with(lambda fi, fo: math.sqrt(1 / (fi + fo))), "the 2 in"),
    (normal_with(lambda fi, fo: math.sqrt(2 / fi)), "He's rule"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fi)), "1 / fan_in"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fo)), "fan_out alone"),
    (normal_with(lambda fi, fo: math.sqrt(2 / fo)), "fan_out where"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / (fi + fo))), "not a normal distribution"),
    (normal_with(lambda fi, fo: 0.5), "does not match the formula"),
])
def test_xavier_normal_mistakes(wrong, match):
    message = hint(checks.check_xavier, wrong, xavier_uniform_ok, match=match)
    assert_hides(message, INIT_EXPECTED)


@pytest.mark.parametrize("wrong, match", [
    (uniform_with(lambda fi, fo: math.sqrt(2 / (fi + fo))), "sqrt\\(3\\) times larger"),
    (uniform_with(lambda fi, fo: 3 * math.sqrt(2 / (fi + fo))), "not 3 \\* std"),
    (uniform_with(lambda fi, fo: 6 / (fi + fo)), "its square root"),
    (uniform_with(lambda fi, fo: math.sqrt(3 / (fi + fo))), "the 2 is missing"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fi)), "fan_in alone"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fo)), "fan_out where"),
    (xavier_normal_ok, "spread like a normal distribution"),
    (lambda fi, fo, rng: rng.uniform(0, math.sqrt(6 / (fi + fo)), size=(fi, fo)), "not \\[0, r\\]"),
])
def test_xavier_uniform_mistakes(wrong, match):
    message = hint(checks.check_xavier, xavier_normal_ok, wrong, match=match)
    assert_hides(message, INIT_EXPECTED)


@pytest.mark.parametrize("wrong, match", [
    (normal_with(lambda fi, fo: math.sqrt(2 / fo)), "divides by fan_in"),
    (normal_with(lambda fi, fo: 2 / fi), "VARIANCE"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fi)), "the 2 is missing"),
    (normal_with(lambda fi, fo: math.sqrt(2 / (fi + fo))), "Xavier's"),
    (normal_with(lambda fi, fo: 2 * math.sqrt(1 / fi)), "instead of sqrt\\(2\\)"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fi)), "not a normal distribution"),
    (lambda fi, fo, rng: he_normal_ok(fo, fi, rng), "PyTorch's layout"),
])
def test_he_mistakes(wrong, match):
    message = hint(checks.check_he, wrong, match=match)
    assert_hides(message, INIT_EXPECTED)


def test_initializer_checks_let_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_xavier(raises_own_error, xavier_uniform_ok)
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_he(raises_own_error)


# ------------------------------------------------------------------ layer stds

def stds_variant(record="post", chained=True, apply=True, include_input=False, square=False):
    def layer_stds(x, weight_std, depth, activation, rng):
        a, out = x, [x.std()] if include_input else []
        for _ in range(depth):
            W = weight_std * rng.standard_normal((x.shape[1], x.shape[1]))
            z = (a if chained else x) @ W
            new = activation(z) if apply else z
            s = (z if record == "pre" else new).std()
            out.append(s ** 2 if square else s)
            a = new
        return np.array(out)
    return layer_stds


def test_layer_stds_passes_the_reference(capsys):
    passes(capsys, checks.check_layer_stds, stds_variant(), name="layer_stds")


def test_layer_stds_accepts_another_draw_order(capsys):
    def layer_stds(x, weight_std, depth, activation, rng):
        Ws = [rng.normal(0, weight_std, size=(x.shape[1], x.shape[1])) for _ in range(depth)][::-1]
        a, out = x, []
        for W in Ws:
            a = activation(a @ W)
            out.append(a.std())
        return out
    passes(capsys, checks.check_layer_stds, layer_stds, name="layer_stds")


def x_in_place(x, weight_std, depth, activation, rng):
    x *= 1.0 + 1e-3
    return stds_variant()(x, weight_std, depth, activation, rng)


@pytest.mark.parametrize("wrong, match", [
    (stds_variant(include_input=True), "without the input's"),
    (stds_variant(square=True), "VARIANCES"),
    (stds_variant(record="pre"), "pre-activations"),
    (stds_variant(chained=False), "original x"),
    (stds_variant(apply=False), "not applied"),
    (lambda *a: np.abs(stds_variant()(*a) - 0.5), "does not follow"),
    (lambda *a: -stds_variant()(*a), "not positive finite stds"),
    (x_in_place, "in place"),
])
def test_layer_stds_mistakes(wrong, match):
    hint(checks.check_layer_stds, wrong, match=match)


def test_layer_stds_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_layer_stds(raises_own_error)


# ------------------------------------------------------------------ collapse prediction

FACTOR = 0.01 * math.sqrt(256)


def test_collapse_prediction_passes_good_predictions(capsys):
    passes(capsys, checks.check_collapse_prediction, FACTOR, FACTOR ** 10, name="collapse_prediction")
    passes(capsys, checks.check_collapse_prediction, 0.15, 1e-8, name="collapse_prediction")


@pytest.mark.parametrize("p1, p10, match", [
    (0.01, FACTOR ** 10, r"not by std\(W\)"),
    (0.01 * 256, FACTOR ** 10, "not fan_in"),
    (FACTOR ** 2, FACTOR ** 10, "is the variance"),
    (1.0, FACTOR ** 10, "does not keep it"),
    (0.5, FACTOR ** 10, "not close to the measurement"),
    (FACTOR, FACTOR ** 20, "VARIANCE factors"),
    (FACTOR, 0.01 ** 10, r"not std\(W\)"),
    (FACTOR, FACTOR ** 9, "count the factors"),
    (FACTOR, FACTOR ** 11, "count the factors"),
    (FACTOR, (0.01 * 256) ** 10, "sqrt\\(fan_in\\), not fan_in"),
    (FACTOR, FACTOR, "ten such factors"),
    (FACTOR, 0.0, "positive"),
    (FACTOR, -0.3, "positive"),
    (FACTOR, 1e-3, "factor of 2"),
    (None, 1e-8, "assign your prediction"),
    (np.array([0.1, 0.2]), 1e-8, "one finite number"),
])
def test_collapse_prediction_mistakes(p1, p10, match):
    message = hint(checks.check_collapse_prediction, p1, p10, match=match)
    for p in (p1, p10):
        if np.ndim(p) == 0 and p is not None:
            message = message.replace(f"{float(p):g}", "<the prediction>")
    assert_hides(message, [FACTOR, FACTOR ** 10, 0.155, 1.06e-8])


# ------------------------------------------------------------------ symmetry

def spread_ok(W):
    return float(np.ptp(W, axis=1).max())


def test_max_unit_difference_passes_the_reference(capsys):
    passes(capsys, checks.check_max_unit_difference, spread_ok, name="max_unit_difference")


@pytest.mark.parametrize("wrong, match", [
    (lambda W: np.ptp(W, axis=0).max(), "compared the ROWS"),
    (lambda W: np.ptp(W), "ALL entries"),
    (lambda W: np.ptp(W, axis=1).mean(), "averaged over the inputs"),
    (lambda W: np.abs(W - W[:, :1]).max(), "distance from unit 0"),
    (lambda W: np.max(W - W[:, :1]), "signed difference"),
    (lambda W: np.ptp(W, axis=1), "one number"),
    (lambda W: 1.0, "not max over inputs"),
])
def test_max_unit_difference_mistakes(wrong, match):
    message = hint(checks.check_max_unit_difference, wrong, match=match)
    assert "1.9" not in message and "1.3" not in re.sub(r"np\.array\([^)]*\)", "", message)


def test_max_unit_difference_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_max_unit_difference(raises_own_error)


# ------------------------------------------------------------------ sharper diagnoses

def test_public_fans_keep_every_candidate_std_apart():
    for fi, fo, _ in initialization._init_inputs(None):
        assert initialization._separation(fi, fo) >= 0.09


@pytest.mark.parametrize("check, wrong, match", [
    (lambda f: checks.check_he(f), normal_with(lambda fi, fo: math.sqrt(2) / fi), "instead of its square root"),
    (lambda f: checks.check_xavier(f, xavier_uniform_ok), normal_with(lambda fi, fo: math.sqrt(2) / (fi + fo)),
     "instead of its square root"),
])
def test_initializers_catch_a_division_by_the_fan_itself(check, wrong, match):
    message = hint(check, wrong, match=match)
    assert_hides(message, INIT_EXPECTED)


def stds_off_by_one(kind):
    """layer_stds with one of the usual off-by-one mistakes of a per-layer loop."""
    def layer_stds(x, weight_std, depth, activation, rng):
        d = x.shape[1]
        a, out = x, []
        layers = depth + 1 if kind in ("late", "one too many") else depth - 1 if kind == "stop early" else depth
        for layer in range(layers):
            W = weight_std * rng.standard_normal((d, d))
            if kind == "record before":
                out.append(a.std())
            a = activation(a @ W)
            if kind == "record before" or (kind in ("skip first", "late") and layer == 0):
                continue
            out.append(a.std())
        return np.array(out)
    return layer_stds


def stds_reused_W(x, weight_std, depth, activation, rng):
    W = weight_std * rng.standard_normal((x.shape[1], x.shape[1]))
    a, out = x, []
    for _ in range(depth):
        a = activation(a @ W)
        out.append(a.std())
    return np.array(out)


def stds_variance_as_std(x, weight_std, depth, activation, rng):
    return stds_variant()(x, weight_std ** 2, depth, activation, rng)


OFF_BY_ONE = [
    (stds_off_by_one("record before"), "first value is the input's std"),
    (stds_off_by_one("skip first"), "skipped the first layer"),
    (stds_off_by_one("late"), "one layer late"),
    (stds_off_by_one("stop early"), "stops one layer early"),
    (stds_off_by_one("one too many"), "runs depth \\+ 1 layers"),
    (stds_variant(include_input=True), "without the input's"),
]


@pytest.mark.parametrize("wrong, match", OFF_BY_ONE + [
    (stds_reused_W, "reuses it for every layer"),
    (stds_variance_as_std, r"std weight_std\*\*2"),
])
def test_layer_stds_gives_each_off_by_one_its_own_diagnosis(wrong, match):
    # before, these got "does not follow the per-layer statistics" (or, for the reused W,
    # passed: its stds stay within 25 % of the reference in all three public cases)
    message = hint(checks.check_layer_stds, wrong, match=match)
    assert "does not follow" not in message


def test_a_reused_W_is_within_the_tolerance_so_only_the_exact_match_catches_it():
    x = np.random.default_rng(1).standard_normal((100, 128))
    for name, weight_std, depth in initialization._CASES:
        act = initialization._ACTIVATIONS[name]
        fresh = stds_variant()(x, weight_std, depth, act, np.random.default_rng(0))
        reused = stds_reused_W(x, weight_std, depth, act, np.random.default_rng(0))
        assert np.all(np.abs(np.log(reused / fresh)) < math.log(1.25))
        assert not np.allclose(reused, fresh, rtol=1e-3)


# ------------------------------------------------------------------ hidden tests

def layer_stds_ok(x, weight_std, depth, activation, rng):
    a, stds = x, []
    for _ in range(depth):
        W = weight_std * rng.standard_normal((x.shape[1], x.shape[1]))
        a = activation(a @ W)
        stds.append(a.std())
    return np.array(stds)


def layer_stds_reversed_draws(x, weight_std, depth, activation, rng):
    Ws = [rng.normal(0, weight_std, size=(x.shape[1], x.shape[1])) for _ in range(depth)][::-1]
    a, out = x, []
    for W in Ws:
        a = activation(a @ W)
        out.append(a.std())
    return out


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_xavier(xavier_normal_ok, xavier_uniform_ok, seed=seed)
    checks.check_he(he_normal_ok, seed=seed)
    checks.check_he(lambda fi, fo, rng: rng.standard_normal((fi, fo)) / np.sqrt(fi / 2.0), seed=seed)
    checks.check_layer_stds(layer_stds_ok, seed=seed)
    checks.check_layer_stds(layer_stds_reversed_draws, seed=seed)
    checks.check_max_unit_difference(spread_ok, seed=seed)
    assert capsys.readouterr().out.count("✓") == 6


def test_hidden_inputs_differ_from_the_public_ones():
    for seed in HIDDEN_SEEDS:
        assert initialization._init_inputs(seed) != initialization._init_inputs(None)
        assert all(initialization._separation(fi, fo) >= 0.09
                   for fi, fo, _ in initialization._init_inputs(seed))
        assert initialization._layer_stds_inputs(seed) != initialization._layer_stds_inputs(None)
        W = initialization._unit_difference_inputs(seed)[0]
        assert W.shape != (3, 4) or not np.array_equal(W, initialization._W_MIXED)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (lambda fi, fo, rng: xavier_normal_ok(fo, fi, rng), "PyTorch's layout"),
    (lambda fi, fo, rng: xavier_normal_ok(fi, fo, np.random.default_rng()), "two calls"),
    (lambda fi, fo, rng: 0.01 + xavier_normal_ok(fi, fo, rng), "mean"),
    (normal_with(lambda fi, fo: 2 / (fi + fo)), "VARIANCE"),
    (normal_with(lambda fi, fo: math.sqrt(6 / (fi + fo))), "BOUND of the uniform"),
    (normal_with(lambda fi, fo: math.sqrt(1 / (fi + fo))), "the 2 in"),
    (normal_with(lambda fi, fo: math.sqrt(2) / (fi + fo)), "instead of its square root"),
    (normal_with(lambda fi, fo: math.sqrt(2 / fi)), "He's rule"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fi)), "1 / fan_in"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fo)), "fan_out alone"),
    (normal_with(lambda fi, fo: math.sqrt(2 / fo)), "fan_out where"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / (fi + fo))), "not a normal distribution"),
])
def test_hidden_xavier_normal_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_xavier(f, xavier_uniform_ok, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (uniform_with(lambda fi, fo: math.sqrt(2 / (fi + fo))), "sqrt\\(3\\) times larger"),
    (uniform_with(lambda fi, fo: 3 * math.sqrt(2 / (fi + fo))), "not 3 \\* std"),
    (uniform_with(lambda fi, fo: 6 / (fi + fo)), "its square root"),
    (uniform_with(lambda fi, fo: math.sqrt(3 / (fi + fo))), "the 2 is missing"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fi)), "fan_in alone"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fo)), "fan_out where"),
    (xavier_normal_ok, "spread like a normal distribution"),
    (lambda fi, fo, rng: rng.uniform(0, math.sqrt(6 / (fi + fo)), size=(fi, fo)), "not \\[0, r\\]"),
])
def test_hidden_xavier_uniform_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_xavier(xavier_normal_ok, f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (normal_with(lambda fi, fo: math.sqrt(2 / fo)), "divides by fan_in"),
    (normal_with(lambda fi, fo: 2 / fi), "VARIANCE"),
    (normal_with(lambda fi, fo: math.sqrt(1 / fi)), "the 2 is missing"),
    (normal_with(lambda fi, fo: math.sqrt(2 / (fi + fo))), "Xavier's"),
    (normal_with(lambda fi, fo: 2 * math.sqrt(1 / fi)), "instead of sqrt\\(2\\)"),
    (normal_with(lambda fi, fo: math.sqrt(2) / fi), "instead of its square root"),
    (uniform_with(lambda fi, fo: math.sqrt(6 / fi)), "not a normal distribution"),
    (lambda fi, fo, rng: he_normal_ok(fo, fi, rng), "PyTorch's layout"),
])
def test_hidden_he_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_he(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", OFF_BY_ONE + [
    (stds_reused_W, "reuses it for every layer"),
    (stds_variance_as_std, r"std weight_std\*\*2"),
    (stds_variant(square=True), "VARIANCES"),
    (stds_variant(record="pre"), "pre-activations"),
    (stds_variant(chained=False), "original x"),
    (stds_variant(apply=False), "not applied"),
    (lambda *a: -stds_variant()(*a), "not positive finite stds"),
    (x_in_place, "in place"),
])
def test_hidden_layer_stds_catches_the_same_mistakes(seed, wrong, match):
    hint(lambda f: checks.check_layer_stds(f, seed=seed), wrong, match=match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", [
    (lambda W: np.ptp(W, axis=0).max(), "compared the ROWS"),
    (lambda W: np.ptp(W), "ALL entries"),
    (lambda W: np.ptp(W, axis=1).mean(), "averaged over the inputs"),
    (lambda W: np.abs(W - W[:, :1]).max(), "distance from unit 0"),
    (lambda W: np.max(W - W[:, :1]), "signed difference"),
    (lambda W: np.ptp(W, axis=1), "one number"),
])
def test_hidden_max_unit_difference_catches_the_same_mistakes(seed, wrong, match):
    message = hint(lambda f: checks.check_max_unit_difference(f, seed=seed), wrong, match=match)
    W = initialization._unit_difference_inputs(seed)[0]
    assert_hides(message, [spread_ok(W)])


@pytest.mark.parametrize("check, references", [
    (checks.check_xavier, (xavier_normal_ok, xavier_uniform_ok)),
    (checks.check_he, (he_normal_ok,)),
    (checks.check_layer_stds, (layer_stds_ok,)),
    (checks.check_max_unit_difference, (spread_ok,)),
])
def test_a_hard_coded_answer_fails_the_hidden_test(capsys, check, references):
    if len(references) == 2:
        make_n = hard_coded(lambda f: check(f, references[1]), references[0])
        make_u = hard_coded(lambda f: check(references[0], f), references[1])
        args = lambda: (make_n(), make_u())          # noqa: E731
    else:
        make = hard_coded(check, references[0])
        args = lambda: (make(),)                     # noqa: E731
    check(*args())                                   # fools the public check …
    with pytest.raises(AssertionError):
        check(*args(), seed=5)                       # … not the hidden one


@pytest.mark.parametrize("check, args", [
    (checks.check_xavier, (normal_with(lambda fi, fo: math.sqrt(2 / fi)), xavier_uniform_ok)),
    (checks.check_he, (lambda fi, fo, rng: he_normal_ok(fo, fi, rng),)),
    (checks.check_layer_stds, (stds_off_by_one("record before"),)),
    (checks.check_layer_stds, (stds_off_by_one("skip first"),)),
    (checks.check_max_unit_difference, (lambda W: np.ptp(W),)),
])
def test_hidden_mode_messages_hold_no_inputs(check, args):
    with hidden_mode():
        with pytest.raises(AssertionError) as info:
            check(*args, seed=7)
    message = str(info.value)
    assert "to reproduce" not in message and "np.array(" not in message and "default_rng(" not in message


def test_hidden_variants_let_the_students_errors_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_xavier(xavier_normal_ok, raises_own_error, seed=3)
    for check in (checks.check_he, checks.check_layer_stds, checks.check_max_unit_difference):
        with pytest.raises(ValueError, match="my own bug"):
            check(raises_own_error, seed=3)


def test_collapse_prediction_declares_why_it_has_no_hidden_variant():
    assert checks.check_collapse_prediction.hidden is False
    assert "prediction" in checks.check_collapse_prediction.hidden_why
    for check in (checks.check_xavier, checks.check_he, checks.check_layer_stds,
                  checks.check_max_unit_difference):
        assert check.hidden is True


def test_the_notebook_solutions_pass_the_public_and_hidden_tests(capsys):
    from _notebook_solutions import solution_namespace
    ns = solution_namespace("02_initialization", ["xavier", "he", "layer_stds", "collapse_prediction",
                                                  "max_unit_difference"])
    checks.check_collapse_prediction(ns["predicted_std_layer1"], ns["predicted_std_layer10"])
    for seed in [None] + HIDDEN_SEEDS + list(range(20)):
        checks.check_xavier(ns["xavier_normal"], ns["xavier_uniform"], seed=seed)
        checks.check_he(ns["he_normal"], seed=seed)
        checks.check_layer_stds(ns["layer_stds"], seed=seed)
        checks.check_max_unit_difference(ns["max_unit_difference"], seed=seed)
    assert capsys.readouterr().out.count("✓") == 1 + 4 * (1 + len(HIDDEN_SEEDS) + 20)


@pytest.mark.parametrize("wrong", [lambda *a: stds_variant()(*a)[:-1].tolist() + [1.0, 2.0],
                                   lambda *a: stds_variant()(*a)[2:]])
def test_hidden_mode_does_not_reveal_the_depth(wrong):
    _, _, cases = initialization._layer_stds_inputs(7)
    with hidden_mode():
        with pytest.raises(AssertionError) as info:
            checks.check_layer_stds(wrong, seed=7)
    assert f"{cases[0][2]} layers" not in str(info.value) and f"({cases[0][2]},)" not in str(info.value)
