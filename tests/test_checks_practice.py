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


@pytest.mark.parametrize("wrong, match", [
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
])
def test_first_loss_mistakes(wrong, match):
    message = hint(checks.check_first_loss, wrong, match=match)
    assert_hides(message, reference_losses()[:2])


def test_first_loss_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_first_loss(raises_own_error)


# ------------------------------------------------------------------ overfit a tiny subset

def overfit(rows=lambda X, n: slice(0, n), batch_size=None, epochs=100, optimizer="adam",
            measure=lambda X, y, n: (X[:n], y[:n]), scale=1.0, fresh_after=False):
    """An overfit_tiny with one planted variation."""
    def fn(make_model, X, y, n=20, epochs_=epochs, lr=3e-3):
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


@pytest.mark.parametrize("wrong, match", [
    (overfit(rows=lambda X, n: slice(None)), "trained on all 80 examples"),
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
])
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


@pytest.mark.parametrize("wrong, match", [
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
])
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


@pytest.mark.parametrize("wrong, match", [
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
])
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
    assert set(kinds) == {"flat", "good", "plateau", "exploded"}
    scans = pc.example_scans()
    scans[0][1e-5][:] = 0.0
    assert pc.example_scans()[0][1e-5][0] == 2.3


@pytest.mark.parametrize("wrong, match", [
    (reader(explode="nonfinite"), "explosion guard stopped"),
    (reader(flat=2.0), "has not even halved"),
    (reader(plateau=1e9), "dropped fast, then stalled"),
    (reader(both_sides=True), "LOWER rate than the one that ends lowest"),
    (reader(plateau=1.5), "ends within 3x"),
    (reader(flat=0.05), "fell below half"),
    (reader(by_position=True), "lr = "),
    (reader(labels={"low": "flat", "good": "good", "high": "too high"}), "labels must be one of"),
    (reader(drop=True), "exactly the learning rates"),
    (reader(in_place=True), "changed the curves in place"),
    (reader(as_list=True), "should return a dict"),
])
def test_read_scan_mistakes(wrong, match):
    message = hint(checks.check_read_scan, wrong, match=match)
    assert len(re.findall(r"lr = ", message)) <= 2      # one curve per hint, not the whole answer


def test_read_scan_lets_the_students_error_through():
    with pytest.raises(ValueError, match="my own bug"):
        checks.check_read_scan(raises_own_error)
