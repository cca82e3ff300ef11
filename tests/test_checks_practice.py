"""The checks of exercises/08_training_in_practice.ipynb, proved both ways: each passes the
reference solution, and each typical mistake it claims to catch fails with its targeted hint —
without the hint revealing the expected numbers, and without swallowing the student's own
errors."""
import math
import re

import numpy as np
import pytest

import course_lib as cl
from course_lib import checks
from course_lib.checks import practice as pc
from _checkutil import assert_hides, hint, passes, raises_own_error


# ------------------------------------------------------------------ first loss

def first_loss(target=math.log, k_of=None, loss_has_penalty=False, ok_has_penalty=False,
               add_penalty=True, summed=False, one_sided=False, always=False, ok_kind=bool,
               tol_used=None):
    """A first_loss_check with one planted variation."""
    def fn(make_model, X, y, num_classes, regularizer, tol=0.05):
        model = make_model()
        loss = cl.SoftmaxCrossEntropy().forward(model.forward(X), y)
        penalty = regularizer.value(model.parameters())
        k = k_of(y) if k_of else num_classes
        data = loss * len(y) if summed else loss
        seen = data + penalty if (loss_has_penalty or ok_has_penalty) else data
        diff = seen - target(k)
        tol = tol if tol_used is None else tol_used
        ok = diff <= tol if one_sided else abs(diff) <= tol
        ok = True if always else ok
        returned = data + penalty if loss_has_penalty else data
        return returned, ok_kind(ok), returned + penalty * add_penalty if not loss_has_penalty else returned
    return fn


def reference_losses():
    out = []
    for _, make_model, X, y in pc._first_loss_cases():
        out.append(cl.SoftmaxCrossEntropy().forward(make_model().forward(X), y))
    return out


def test_first_loss_passes_the_reference(capsys):
    passes(capsys, checks.check_first_loss, first_loss(), name="first_loss")


def test_first_loss_variants_are_told_apart():
    reg = cl.L2(pc._FIRST_LOSS_LAM)
    vectors = {}
    for _, make_model, X, y in pc._first_loss_cases():
        model = make_model()
        loss = cl.SoftmaxCrossEntropy().forward(model.forward(X), y)
        for name, v in pc._ok_variants(loss, reg.value(model.parameters()), y, pc._FIRST_LOSS_TOL).items():
            vectors.setdefault(name, []).append(v)
    assert vectors["correct"] == [True, False, False, True, False, False]
    patterns = [tuple(v) for v in vectors.values()]
    assert len(set(patterns)) == len(patterns), vectors


FIRST_LOSS_MISTAKES = [
    (first_loss(loss_has_penalty=True), "includes the regularization penalty"),
    (first_loss(add_penalty=False), "equals the data loss"),
    (first_loss(summed=True), "SUMMED"),
    (first_loss(target=math.log10), "log10"),
    (first_loss(target=math.log2), "log2"),
    (first_loss(k_of=lambda y: len(np.unique(y))), "distinct labels"),
    (first_loss(k_of=lambda y: int(y.max()) + 1), "y.max\\(\\) \\+ 1"),
    (first_loss(ok_has_penalty=True), "computed with the regularization penalty added"),
    (first_loss(one_sided=True), "only rejects losses ABOVE"),
    (first_loss(always=True), "ok is True even"),
    (first_loss(ok_kind=lambda ok: 1.0 * ok), "ok should be True or False"),
    (first_loss(tol_used=0.5), "`ok` is wrong in case"),
    (lambda make_model, X, y, k, reg, tol=0.05: (2.3, True), "tuple \\(loss, ok, loss_with_penalty\\)"),
    (lambda make_model, X, y, k, reg, tol=0.05: (1.7, True, 2.4), "not the mean softmax cross-entropy"),
]


@pytest.mark.parametrize("wrong, match", FIRST_LOSS_MISTAKES)
def test_first_loss_mistakes(wrong, match):
    message = hint(checks.check_first_loss, wrong, match=match)
    assert_hides(message, reference_losses()[:2])


def test_first_loss_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_first_loss(raises_own_error)


# ------------------------------------------------------------------ overfit a tiny subset

def overfit(rows=lambda X, n: slice(0, n), batch_size=None, epochs=None, optimizer="adam",
            measure=lambda X, y, n: (X[:n], y[:n]), scale=1.0, fresh_after=False):
    """An overfit_tiny with one planted variation (epochs: a number of epochs of its own
    instead of the argument)."""
    planted_epochs = epochs
    def fn(make_model, X, y, n=20, epochs=100, lr=3e-3):
        epochs_ = epochs if planted_epochs is None else planted_epochs
        model = make_model()
        idx = rows(X, n)
        opt = cl.Adam(model.parameters(), lr=lr) if optimizer == "adam" else cl.SGD(model.parameters(), lr=lr)
        Xt, yt = X[idx], y[idx]
        if epochs_:
            cl.fit(model, cl.SoftmaxCrossEntropy(), opt, Xt, yt, epochs=epochs_,
                   batch_size=batch_size or len(Xt), rng=0, progress=False)
        _, acc = cl.evaluate(model, cl.SoftmaxCrossEntropy(), *measure(X, y, n))
        return (make_model() if fresh_after else model), scale * acc
    return fn


def test_overfit_tiny_passes_the_reference(capsys):
    passes(capsys, checks.check_overfit_tiny, overfit(), name="overfit_tiny")


def test_overfit_tiny_accepts_mini_batches_of_the_whole_subset_in_another_order(capsys):
    def with_own_loop(make_model, X, y, n=20, epochs=100, lr=3e-3):
        model = make_model()
        opt, loss_fn = cl.Adam(model.parameters(), lr=lr), cl.SoftmaxCrossEntropy()
        order = np.random.default_rng(5).permutation(n)
        for _ in range(epochs):
            opt.zero_grad()
            loss_fn.forward(model.forward(X[order]), y[order])
            model.backward(loss_fn.backward())
            opt.step()
        model.eval()
        acc = float(np.mean(model.forward(X[:n]).argmax(axis=1) == y[:n]))
        model.train()
        return model, acc
    passes(capsys, checks.check_overfit_tiny, with_own_loop, name="overfit_tiny")


def other_model(make_model, X, y, n=20, epochs=100, lr=3e-3):
    model = cl.Sequential(cl.Linear(12, 10, rng=0))
    return model, 1.0


OVERFIT_MISTAKES = [
    (overfit(rows=lambda X, n: slice(None)), "on all the examples"),
    (overfit(rows=lambda X, n: np.random.default_rng(0).choice(len(X), n, replace=False)),
     "not among the first n"),
    (overfit(rows=lambda X, n: slice(0, n - 1)), "never used in training"),
    (overfit(batch_size=5), "full-batch steps"),
    (overfit(epochs=0), "never trained"),
    (overfit(fresh_after=True), "never trained"),
    (other_model, "not one built by make_model"),
    (lambda make_model, X, y, n=20, epochs=100, lr=3e-3: ("model", 1.0), "should be the trained model"),
    (overfit(epochs=3), "gets only"),
    (overfit(optimizer="sgd"), "gets only"),
    (overfit(scale=100.0), "percentage"),
    (overfit(measure=lambda X, y, n: (X, y)), "measured on other examples"),
    (overfit(measure=lambda X, y, n: (X[n:], y[n:])), "measured on other examples"),
    (overfit(scale=0.5), "not the returned model's accuracy"),
    (lambda make_model, X, y, n=20, epochs=100, lr=3e-3: make_model(), "tuple \\(model, train_acc\\)"),
]


@pytest.mark.parametrize("wrong, match", OVERFIT_MISTAKES)
def test_overfit_tiny_mistakes(wrong, match):
    hint(checks.check_overfit_tiny, wrong, match=match)


def test_overfit_tiny_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_overfit_tiny(raises_own_error)


# ------------------------------------------------------------------ log-uniform sampling

def log_uniform_ok(low, high, size, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)


def test_log_uniform_passes_the_reference(capsys):
    passes(capsys, checks.check_log_uniform, log_uniform_ok, name="log_uniform")


def test_log_uniform_accepts_natural_logs_on_both_sides_and_the_library(capsys):
    passes(capsys, checks.check_log_uniform,
           lambda low, high, size, rng: np.exp(rng.uniform(np.log(low), np.log(high), size)),
           name="log_uniform")
    passes(capsys, checks.check_log_uniform,
           lambda low, high, size, rng: cl.search.log_uniform(low, high, size, rng=rng),
           name="log_uniform")


LOG_UNIFORM_MISTAKES = [
    (lambda low, high, size, rng: rng.uniform(low, high, size), "LINEAR scale"),
    (lambda low, high, size, rng: 10.0 ** rng.uniform(-3, 6, size), "misprinted recipe"),
    (lambda low, high, size, rng: 10.0 ** rng.uniform(np.log(low), np.log(high), size), "natural log and log10"),
    (lambda low, high, size, rng: np.exp(rng.uniform(np.log10(low), np.log10(high), size)), "natural log and log10"),
    (lambda low, high, size, rng: 10.0 ** rng.uniform(low, high, size), "used low and high as the exponents"),
    (lambda low, high, size, rng: rng.uniform(np.log10(low), np.log10(high), size), "EXPONENTS"),
    (lambda low, high, size, rng: 10.0 ** np.random.default_rng().uniform(np.log10(low), np.log10(high), size),
     "global state"),
    (lambda low, high, size, rng: log_uniform_ok(low, high, (size, 1), rng), "shape"),
    (lambda low, high, size, rng: rng.uniform(-high, high, size), "<= 0"),
    (lambda low, high, size, rng: log_uniform_ok(low, high * 10, size, rng), "outside \\[low, high\\]"),
    (lambda low, high, size, rng: 10.0 ** (np.log10(low) + (np.log10(high) - np.log10(low))
                                           * rng.beta(2, 2, size)), "not uniformly distributed"),
]


@pytest.mark.parametrize("wrong, match", LOG_UNIFORM_MISTAKES)
def test_log_uniform_mistakes(wrong, match):
    hint(checks.check_log_uniform, wrong, match=match)


def test_log_uniform_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_log_uniform(raises_own_error)


# ------------------------------------------------------------------ random search

def search(lr_draw=None, p_draw=None, pick=max, grid=False, n_offset=0, record=None, rng_of=None,
           as_tuple=False):
    """A random_search with one planted variation."""
    def fn(objective, n_trials, lr_range, p_range, rng):
        rng = rng_of(rng) if rng_of else rng
        trials = []
        if grid:
            k = int(round(math.sqrt(n_trials)))
            settings = [(lr, p) for lr in np.geomspace(*lr_range, k) for p in np.linspace(*p_range, k)]
            settings = (settings * 2)[:n_trials]
        else:
            settings = [((lr_draw or (lambda r, lo, hi: 10 ** r.uniform(np.log10(lo), np.log10(hi))))(rng, *lr_range),
                         (p_draw or (lambda r, lo, hi: r.uniform(lo, hi)))(rng, *p_range))
                        for _ in range(n_trials + n_offset)]
        for lr, p in settings:
            score = objective(float(lr), float(p))
            trials.append({"lr": float(lr), "p": float(p), "score": score} if record is None
                          else record(lr, p, score))
        best = pick(trials)
        return (best["lr"], best["p"]) if as_tuple else best, trials
    return fn


def by_score(fn):
    return lambda trials: fn(trials, key=lambda t: t["score"])


def test_random_search_passes_the_reference(capsys):
    passes(capsys, checks.check_random_search, search(pick=by_score(max)), name="random_search")


def best_expected():
    _, calls = pc._run_search(search(pick=by_score(max)), pc._SEARCH["seed"])
    scores = [pc._score(*c) for c in calls]
    return calls[int(np.argmax(scores))]


SEARCH_MISTAKES = [
    (search(grid=True, pick=by_score(max)), "that is a grid"),
    (search(lr_draw=lambda r, lo, hi: r.uniform(lo, hi), pick=by_score(max)), "LINEAR scale"),
    (search(p_draw=lambda r, lo, hi: 10 ** r.uniform(np.log10(lo), np.log10(hi)), pick=by_score(max)),
     "p was sampled on a log scale"),
    (search(p_draw=lambda r, lo, hi: r.uniform(0.0, 1.0), pick=by_score(max)), "outside p_range"),
    (search(lr_draw=lambda r, lo, hi: 10 ** r.uniform(-6, -1), pick=by_score(max)), "outside lr_range"),
    (search(p_draw=lambda r, lo, hi: lo + (hi - lo) * r.choice([0.1, 0.9]), pick=by_score(max)),
     "p is not uniformly distributed"),
    (search(lr_draw=lambda r, lo, hi: 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * r.random() ** 0.5),
            pick=by_score(max)), "learning rates is not uniformly distributed"),
    (search(rng_of=lambda rng: np.random.default_rng(), pick=by_score(max)), "global state"),
    (search(n_offset=-1, pick=by_score(max)), "exactly n_trials"),
    (search(record=lambda lr, p, s: {"lr": np.log10(lr), "p": p, "score": s}, pick=by_score(max)),
     "does not match call"),
    (search(record=lambda lr, p, s: (lr, p, s), pick=lambda t: t[0]), "should be a dict"),
    (search(pick=by_score(min)), "LOWEST score"),
    (search(pick=lambda trials: trials[-1]), "LAST trial"),
    (search(pick=lambda trials: trials[0]), "FIRST trial"),
    (search(pick=lambda trials: sorted(trials, key=lambda t: t["score"])[-2]), "not the trial with the highest"),
    (search(as_tuple=True, pick=by_score(max)), "best should be one of the trials"),
    (lambda objective, n_trials, lr_range, p_range, rng: None, "tuple \\(best, trials\\)"),
]


@pytest.mark.parametrize("wrong, match", SEARCH_MISTAKES)
def test_random_search_mistakes(wrong, match):
    message = hint(checks.check_random_search, wrong, match=match)
    if "highest" in match or "LOWEST" in match or "LAST" in match or "FIRST" in match:
        assert_hides(message, best_expected())


def test_random_search_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_random_search(raises_own_error)


# ------------------------------------------------------------------ reading a scan

def reader(explode="3x", flat=0.5, plateau=3.0, both_sides=False, by_position=False, labels=None,
           drop=False, in_place=False, as_list=False):
    """A read_scan with one planted variation."""
    names = labels or {"low": "too low", "good": "good", "high": "too high"}

    def fn(curves):
        out, level = {}, {}
        for lr, loss in curves.items():
            loss = np.asarray(loss, dtype=float)
            exploded = (not np.all(np.isfinite(loss))) if explode == "nonfinite" else loss.max() > 3 * loss[0]
            if exploded:
                out[lr] = names["high"]
                continue
            final = loss[-max(1, len(loss) // 4):].mean()
            if final > flat * loss[0]:
                out[lr] = names["low"]
            else:
                level[lr] = final
        if level:
            ref = min(level, key=level.get)
            keys = list(curves)
            for lr, final in level.items():
                higher = keys.index(lr) > keys.index(ref) if by_position else lr > ref
                if (both_sides or higher) and final > plateau * level[ref]:
                    out[lr] = names["high"]
                else:
                    out[lr] = names["good"]
        if in_place:
            for loss in curves.values():
                loss *= 1.0 + 1e-9
        result = {lr: out[lr] for lr in curves}
        if drop:
            result.pop(next(iter(result)))
        return list(result.values()) if as_list else result
    return fn


def test_read_scan_passes_the_reference(capsys):
    passes(capsys, checks.check_read_scan, reader(), name="read_scan")


def test_the_example_scans_hold_every_kind_and_are_copies():
    kinds = [k for _, ks in pc._scans() for k in ks.values()]
    assert set(kinds) == {"flat", "good", "plateau", "exploded", "flat dip", "spike"}
    scans = pc.example_scans()
    scans[0][1e-5][:] = 0.0
    assert pc.example_scans()[0][1e-5][0] == 2.3


READER_MISTAKES = [
    (reader(explode="nonfinite"), "explosion guard stopped"),
    (reader(flat=2.0), "has not even halved"),
    (reader(plateau=1e9), "dropped fast, then stalled"),
    (reader(both_sides=True), "LOWER rate than the one that ends lowest"),
    (reader(plateau=1.5), "ends within 3x"),
    (reader(flat=0.05), "fell below half"),
    (reader(by_position=True), "HIGHER rate|LOWER rate"),
    (reader(labels={"low": "flat", "good": "good", "high": "too high"}), "labels must be one of"),
    (reader(drop=True), "exactly the learning rates"),
    (reader(in_place=True), "changed the curves in place"),
    (reader(as_list=True), "should return a dict"),
]


@pytest.mark.parametrize("wrong, match", READER_MISTAKES)
def test_read_scan_mistakes(wrong, match):
    message = hint(checks.check_read_scan, wrong, match=match)
    assert len(re.findall(r"lr = ", message)) <= 2      # one curve per hint, not the whole answer


def test_read_scan_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_read_scan(raises_own_error)


# ------------------------------------------------------------ sharper diagnoses

def scan_reader(explode="max", level="tail"):
    """The reference reader, with the explosion judged on the largest loss ("max"), the last
    loss ("last") or the final level ("tail"), and the level taken as the mean of the last
    quarter ("tail") or the last value ("last")."""
    def fn(curves):
        out, levels = {}, {}
        for lr, loss in curves.items():
            loss = np.asarray(loss, dtype=float)
            tail = loss[-max(1, len(loss) // 4):].mean()
            if {"max": loss.max(), "last": loss[-1], "tail": tail}[explode] > 3 * loss[0]:
                out[lr] = "too high"
                continue
            final = tail if level == "tail" else loss[-1]
            if final > 0.5 * loss[0]:
                out[lr] = "too low"
            else:
                levels[lr] = final
        ref = min(levels, key=levels.get)
        for lr, final in levels.items():
            out[lr] = "too high" if lr > ref and final > 3 * levels[ref] else "good"
        return {lr: out[lr] for lr in curves}
    return fn


def test_read_scan_catches_an_explosion_judged_on_the_last_loss():
    message = hint(checks.check_read_scan, scan_reader(explode="last"), match="came back down")
    assert "loss.max()" in message and "example_scans()[2]" in message


def test_read_scan_catches_an_explosion_judged_on_the_final_level():
    hint(checks.check_read_scan, scan_reader(explode="tail"), match="not by its final level")


def test_read_scan_catches_the_level_judged_on_the_last_value():
    message = hint(checks.check_read_scan, scan_reader(level="last"), match="not by the last value")
    assert "mean of its last quarter" in message


def test_the_public_scans_follow_the_rule_and_the_old_two_are_unchanged():
    for curves, kinds in pc._scans():
        labels = pc._rule_labels(curves)
        assert all(labels[lr] == pc._EXPECTED[k] for lr, k in kinds.items())
    one, two, _ = pc.example_scans()
    assert len(one) == 10 and len(two) == 8 and one[1e-5][0] == 2.3 and two[0.3][-1] == 7.2


def test_read_scan_hints_name_no_rate_but_the_call_does():
    message = hint(checks.check_read_scan, reader(plateau=1e9), match="dropped fast")
    advice_part = advice(message)
    assert "lr = " not in advice_part and "e-0" not in advice_part
    code = message.split("to reproduce: ", 1)[1]
    namespace = {"checks": checks, "read_scan": reader(plateau=1e9)}
    exec(compile("label = " + code.split("; ", 1)[1], "<hint>", "exec"),
         {**namespace, "scan": eval(code.split("; ", 1)[0].split(" = ", 1)[1], namespace)}, namespace)
    assert namespace["label"] == "good"                 # the misread curve, shown by the call


def test_first_loss_and_overfit_tiny_catch_changes_to_X_in_place():
    def standardizes(make_model, X, y, num_classes, regularizer, tol=0.05):
        X -= X.mean(axis=0)
        return first_loss()(make_model, X, y, num_classes, regularizer, tol)
    hint(checks.check_first_loss, standardizes, match="changed X or y in place")

    def shuffles(make_model, X, y, n=20, epochs=100, lr=3e-3):
        model, acc = overfit()(make_model, X, y, n, epochs, lr)
        np.random.default_rng(0).shuffle(y)
        return model, acc
    hint(checks.check_overfit_tiny, shuffles, match="changed X or y in place")


def test_overfit_tiny_catches_ignored_epochs_and_lr():
    def own_epochs(make_model, X, y, n=20, epochs=100, lr=3e-3):
        return overfit()(make_model, X, y, n, 300, lr)
    hint(checks.check_overfit_tiny, own_epochs, match="pass the `epochs` argument")

    def own_lr(make_model, X, y, n=20, epochs=100, lr=3e-3):
        return overfit()(make_model, X, y, n, epochs, 0.01)
    hint(checks.check_overfit_tiny, own_lr, match="with the `lr` argument")


def test_hint_calls_of_first_loss_and_overfit_reproduce_the_inputs():
    make_model, X, y = pc.first_loss_case(3)
    _, want_make, want_X, want_y = pc._first_loss_cases()[2]
    assert np.array_equal(X, want_X) and np.allclose(make_model()[0].W.data, want_make()[0].W.data)
    make_model, X, y = pc.tiny_problem()
    g = np.random.default_rng(3)
    assert np.array_equal(X, g.standard_normal((80, 12))) and np.array_equal(y, g.integers(0, 10, 80))
    assert make_model().forward(X).shape == (80, 10)


# ------------------------------------------------------------------ hidden tests

from course_lib.checks._common import hidden_mode                  # noqa: E402
from _hiddencheck import HIDDEN_SEEDS, advice, assert_advice_form, hidden_hint   # noqa: E402


def hidden_only(mistakes, skip=(), replace=None):
    """The public mistakes, without those whose planted constant only fits the public inputs."""
    replace = replace or {}
    return [(w, replace.get(m, m)) for w, m in mistakes if m not in skip]


FIRST_LOSS_HIDDEN = hidden_only(FIRST_LOSS_MISTAKES, skip=("`ok` is wrong in case",)) + [
    (first_loss(tol_used=0.05), "does not follow the `tol` argument")]
SEARCH_HIDDEN = hidden_only(SEARCH_MISTAKES, skip=("outside lr_range", "not the trial with the highest")) + [
    (search(lr_draw=lambda r, lo, hi: 10 ** r.uniform(np.log10(lo) - 1, np.log10(hi)), pick=by_score(max)),
     "outside lr_range")]
READER_HIDDEN = hidden_only(READER_MISTAKES, replace={"explosion guard stopped": "above 3x its first value"}) + [
    (scan_reader(explode="last"), "came back down"),
    (scan_reader(explode="tail"), "above 3x its first value"),
    (scan_reader(level="last"), "not by the last value")]


def hidden_kwargs(seed):
    return pc._TinyProblem(seed).kwargs()


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3))
def test_hidden_variants_pass_the_references(capsys, seed):
    checks.check_first_loss(first_loss(), seed=seed)
    checks.check_overfit_tiny(overfit(), seed=seed)
    checks.check_log_uniform(log_uniform_ok, seed=seed)
    checks.check_random_search(search(pick=by_score(max)), seed=seed)
    checks.check_read_scan(reader(), seed=seed)
    assert capsys.readouterr().out.count("✓") == 5


def test_hidden_inputs_stay_in_the_regime():
    for seed in range(20):
        setting = pc.first_loss_setting(seed)
        patterns = [tuple(v) for v in pc.first_loss_patterns(setting).values()]
        assert len(set(patterns)) == len(patterns) and setting[3] != pc._FIRST_LOSS_TOL
        for low, high, _ in pc.sampler_cases(seed):
            assert high <= 0.5 and np.log10(high / low) >= 2.9
        s = pc.search_setting(seed)
        assert np.log10(s["lr_range"][1] / s["lr_range"][0]) >= 3 and s["p_range"][0] > 0
        curves, kinds = pc.hidden_scan(seed)
        assert pc._scan_is_sound(curves, kinds) and list(curves) != sorted(curves)
        problem = pc._TinyProblem(seed)
        assert problem.epochs * problem.lr >= 0.3 and problem.n < problem.N


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", FIRST_LOSS_HIDDEN)
def test_hidden_first_loss_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_first_loss, wrong, seed, match)
    assert_advice_form(message, "first_loss_check")
    cases = pc.first_loss_setting(seed)[0]
    assert_hides(message, [cl.SoftmaxCrossEntropy().forward(m().forward(X), y) for _, m, X, y in cases[:2]])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", OVERFIT_MISTAKES)
def test_hidden_overfit_tiny_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_overfit_tiny, wrong, seed, match)
    assert_advice_form(message, "overfit_tiny")


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_hidden_overfit_tiny_catches_the_public_defaults(seed):
    """A routine that trains with the defaults (100 epochs, lr 3e-3) whatever it is passed."""
    def defaults(make_model, X, y, n=20, epochs=100, lr=3e-3):
        return overfit()(make_model, X, y, n)
    kwargs = hidden_kwargs(seed)
    match = "`epochs` argument" if kwargs["epochs"] != 100 else "`lr` argument"
    hidden_hint(checks.check_overfit_tiny, defaults, seed, match)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", LOG_UNIFORM_MISTAKES)
def test_hidden_log_uniform_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_log_uniform, wrong, seed, match)
    assert_advice_form(message, "sample_log_uniform")
    for low, high, _ in pc.sampler_cases(seed):
        assert f"{low:g}" not in advice(message) and f"{high:g}" not in advice(message)


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", SEARCH_HIDDEN)
def test_hidden_random_search_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_random_search, wrong, seed, match)
    assert_advice_form(message, "random_search")


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", READER_HIDDEN)
def test_hidden_read_scan_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_read_scan, wrong, seed, match)
    assert_advice_form(message, "read_scan")
    for lr in pc.hidden_scan(seed)[0]:
        assert f"{lr:g}" not in message                   # no rate of the hidden scan


def test_public_messages_name_the_function_and_start_a_sentence():
    for check, mistakes, name in ((checks.check_first_loss, FIRST_LOSS_MISTAKES, "first_loss_check"),
                                  (checks.check_overfit_tiny, OVERFIT_MISTAKES, "overfit_tiny"),
                                  (checks.check_log_uniform, LOG_UNIFORM_MISTAKES, "sample_log_uniform"),
                                  (checks.check_random_search, SEARCH_MISTAKES, "random_search"),
                                  (checks.check_read_scan, READER_MISTAKES, "read_scan")):
        for wrong, match in mistakes:
            assert_advice_form(hint(check, wrong, match=match), name)


def test_hard_coded_answers_fail_the_hidden_tests():
    def fingerprint(make_model, X):
        return round(float(np.sum(make_model().forward(X))), 6)

    public_answers = {fingerprint(*pc.first_loss_case(i)[:2]): first_loss()(*pc.first_loss_case(i), 10, cl.L2(0.01), 0.05)
                      for i in range(1, 7)}

    def memorized_first_loss(make_model, X, y, num_classes, regularizer, tol=0.05):
        return public_answers.get(fingerprint(make_model, X), (2.3, True, 2.4))

    draws = {(low, high): log_uniform_ok(low, high, pc._SAMPLES, np.random.default_rng(s))
             for low, high, s in pc.sampler_cases()}
    scans = {tuple(sorted(c)): reader()(c) for c in pc.example_scans()}
    replayed = lambda low, high, size, rng: draws.get((low, high), draws[(1e-6, 1e-1)])    # noqa: E731
    hint(checks.check_log_uniform, replayed, match="does not draw from `rng`")   # even the public check
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_log_uniform(replayed, seed=seed)
    fakes = [(checks.check_first_loss, memorized_first_loss),
             (checks.check_read_scan, lambda curves: scans.get(tuple(sorted(curves)), {lr: "good" for lr in curves}))]
    for check, fake in fakes:
        check(fake)                                              # fools the public check …
        for seed in HIDDEN_SEEDS:
            with pytest.raises(AssertionError):
                check(fake, seed=seed)                           # … not a hidden one


@pytest.mark.parametrize("check", [checks.check_first_loss, checks.check_overfit_tiny, checks.check_log_uniform,
                                   checks.check_random_search, checks.check_read_scan])
def test_hidden_variants_let_the_students_error_through(check):
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        check(raises_own_error, seed=HIDDEN_SEEDS[0])


def test_every_check_has_a_hidden_variant():
    for check in (checks.check_first_loss, checks.check_overfit_tiny, checks.check_log_uniform,
                  checks.check_random_search, checks.check_read_scan):
        assert check.hidden is True


def test_an_evenly_spaced_sweep_is_not_a_random_sample():
    sweep = lambda low, high, size, rng: np.geomspace(low, high, size)          # noqa: E731
    hint(checks.check_log_uniform, sweep, match="does not draw from `rng`")
    hidden_hint(checks.check_log_uniform, sweep, HIDDEN_SEEDS[0], "np.logspace")

    def sweeping_search(objective, n_trials, lr_range, p_range, rng):
        lrs = np.geomspace(*lr_range, n_trials)
        trials = [{"lr": float(lr), "p": float(rng.uniform(*p_range))} for lr in lrs]
        for t in trials:
            t["score"] = objective(t["lr"], t["p"])
        return max(trials, key=lambda t: t["score"]), trials
    hint(checks.check_random_search, sweeping_search, match="grid in disguise")
    hidden_hint(checks.check_random_search, sweeping_search, HIDDEN_SEEDS[1], "do not come from `rng`")


# ------------------------------------------------------------------ which layer mixes the examples?

from _notebook_solutions import solution_namespace   # noqa: E402

REFERENCE_MIXING = solution_namespace("08_training_in_practice", ["find_mixing_layer"])["find_mixing_layer"]


def mixing_finder(mode=None, restore=True, own=False, offset=0, look="input", whole=False,
                  two_passes=False, in_place=False, returns=None):
    """A find_mixing_layer with one planted variation: the mode switched ("eval"/"training",
    put back unless restore=False), the example's own row counted, an index off by ``offset``,
    the output or the upstream gradient inspected instead of the input gradient, only the whole
    model tested, two forward passes compared, X changed in place, or a fixed return value."""
    def fn(model, X):
        flags = [m.training for m in model.modules()]
        if mode is not None:
            model.train(mode == "training")
        if in_place:
            X[0, 0] += 1.0
        found = None
        ks = [len(model) - 1] if whole else range(len(model))
        for k in ks:
            prefix = model[:k + 1]
            if two_passes:
                a = prefix.forward(X)
                shifted = X.copy()
                shifted[1:] += 1.0
                b = prefix.forward(shifted)
                if np.abs(a[0] - b[0]).max() > 1e-12:
                    found = k
                    break
                continue
            out = prefix.forward(X)
            dout = np.zeros_like(out)
            dout[0] = 1.0
            dx = prefix.backward(dout)
            seen = {"input": dx, "output": out * (dout != 0), "dout": dout}[look]
            rows = seen if own else seen[1:]
            if np.abs(rows).max() > max(1e-10 * np.abs(seen[0]).max(), 1e-12):
                found = k
                break
        if restore:
            for m, f in zip(model.modules(), flags):
                m.training = f
        if returns is not None:
            return returns
        return found if found is None else found + offset
    return fn


def test_find_mixing_layer_passes_the_reference(capsys):
    passes(capsys, checks.check_find_mixing_layer, REFERENCE_MIXING, name="find_mixing_layer")


def test_the_public_mixing_cases_are_what_the_exercise_says():
    cases = pc.mixing_setting()
    assert pc._mixing_variants(cases)["correct"] == [1, 3, None, 0, None]
    kinds = [[type(layer).__name__ for layer in c.make_model()] for c in cases]
    assert kinds[0][1] == "BatchNorm1d" and kinds[1][3] == "BatchCentre" and kinds[3][0] == "BatchRoll"
    assert "Dropout" in kinds[2] and cases[4].mode == "eval"
    model, X = pc.mixing_case(5)
    assert not model.training and X.shape == (16, 8)
    patterns = [tuple(v) for v in pc._mixing_variants(cases).values()]
    assert len(set(patterns)) == len(patterns)


def test_planted_mixing_layers_mix_and_their_backward_is_right():
    X = np.random.default_rng(0).standard_normal((6, 4))
    for layer in (pc.BatchCentre(), pc.BatchRoll()):
        assert not cl.diagnostics.batch_independence(layer, X, seed=0)
        assert cl.gradcheck(layer, X, rng=0).max_error < 1e-7          # their backward passes are right
    assert np.allclose(pc.BatchCentre().forward(X).mean(axis=0), 0.0)
    assert np.array_equal(pc.BatchRoll().forward(X)[1], X[0])


MIXING_MISTAKES = [
    (mixing_finder(mode="eval"), "Did you switch to eval mode"),
    (mixing_finder(mode="training"), "Do not call model.train"),
    (mixing_finder(own=True), "look only at the rows j != i"),
    (mixing_finder(offset=1), "one too high"),
    (mixing_finder(offset=-1), "one too low"),
    (mixing_finder(look="output"), "gradient with respect to the INPUT"),
    (mixing_finder(look="dout"), "gradient with respect to the INPUT"),
    (mixing_finder(whole=True), "LAST layer"),
    (mixing_finder(two_passes=True), "new mask"),
    (mixing_finder(mode="eval", restore=False), "changed the model's mode"),
    (mixing_finder(in_place=True), "changed X in place"),
    (mixing_finder(returns=True), "an int\\) or None"),
    (mixing_finder(returns=1.0), "an int\\) or None"),
    (mixing_finder(returns=2), "returned 2 for"),
]


@pytest.mark.parametrize("wrong, match", MIXING_MISTAKES)
def test_find_mixing_layer_mistakes(wrong, match):
    message = hint(checks.check_find_mixing_layer, wrong, match=match)
    assert_advice_form(message, "find_mixing_layer")


def test_find_mixing_layer_hint_calls_reproduce_the_case():
    message = hint(checks.check_find_mixing_layer, mixing_finder(returns=2), match="returned 2")
    setup, code = message.split("to reproduce: ", 1)[1].split("; ", 1)
    namespace = {"checks": checks, "find_mixing_layer": mixing_finder(returns=2)}
    exec(setup, namespace)
    assert namespace["X"].shape == (16, 8) and eval(code, namespace) == 2


def test_find_mixing_layer_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_find_mixing_layer(raises_own_error)
    with hidden_mode(), pytest.raises(ValueError, match="my own bug"):
        checks.check_find_mixing_layer(raises_own_error, seed=HIDDEN_SEEDS[0])


@pytest.mark.parametrize("seed", HIDDEN_SEEDS + (1, 2, 3))
def test_hidden_find_mixing_layer_passes_the_reference(capsys, seed):
    checks.check_find_mixing_layer(REFERENCE_MIXING, seed=seed)
    assert "✓ find_mixing_layer" in capsys.readouterr().out


def test_hidden_mixing_cases_vary_and_stay_sound():
    answers = set()
    for seed in range(12):
        cases = pc.mixing_setting(seed)
        variants = pc._mixing_variants(cases)
        patterns = [tuple(v) for v in variants.values()]
        assert len(set(patterns)) == len(patterns)
        assert variants["correct"][2] is None and variants["correct"][4] is None
        assert variants["correct"][3] == 0 and variants["correct"][0] in (1, 3)
        answers.add(tuple(variants["correct"]))
    assert len(answers) >= 3                                           # other positions, not one answer


@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
@pytest.mark.parametrize("wrong, match", MIXING_MISTAKES)
def test_hidden_find_mixing_layer_catches_the_same_mistakes(seed, wrong, match):
    message = hidden_hint(checks.check_find_mixing_layer, wrong, seed, match)
    assert_advice_form(message, "find_mixing_layer")
    assert "mixing_case" not in message                                # no call that rebuilds the case


def test_a_hard_coded_find_mixing_layer_fails_the_hidden_tests():
    def memorised():
        answers = iter([1, 3, None, 0, None] * 100)
        return lambda model, X: next(answers)
    checks.check_find_mixing_layer(memorised())                        # fools the public check ...
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            checks.check_find_mixing_layer(memorised(), seed=seed)     # ... not a hidden one
    assert checks.check_find_mixing_layer.hidden is True
