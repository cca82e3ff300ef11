"""Checks for exercises/08_training_in_practice.ipynb: the first-loss sanity check, overfitting
a tiny subset, log-uniform sampling of learning rates, a random search, and reading a
learning-rate scan."""
import math

import numpy as np

from ..activations import ReLU
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Module, Sequential
from ..regularizers import L2
from ._common import as_array, close, fail, passed


def _is_bool(v):
    return isinstance(v, (bool, np.bool_))


# ------------------------------------------------------------- sanity check: the first loss

_LOG10_LOGIT = math.log(9.0 / (math.e - 1.0))   # W = c I on one-hot inputs: loss exactly 1.0


def _mlp_factory(last_scale):
    def make_model():
        g = np.random.default_rng(1)
        model = Sequential(Linear(8, 32, rng=g), ReLU(), Linear(32, 10, rng=g))
        model[2].W.data *= last_scale
        return model
    return make_model


def _zero_factory():
    return Sequential(Linear(8, 10, init="zeros", rng=0))


def _diagonal_factory(c):
    def make_model():
        model = Sequential(Linear(10, 10, init="zeros", rng=0))
        model[0].W.data[...] = c * np.eye(10)
        return model
    return make_model


def _first_loss_cases():
    """(description, make_model, X, y, num_classes): fixed, each model fresh on every call."""
    g = np.random.default_rng(0)
    X_all, y_all = g.standard_normal((40, 8)), np.arange(40) % 10
    y_few = np.tile([2, 5, 7], 10)
    X_few = g.standard_normal((30, 8))
    onehot_all, onehot_few = np.eye(10)[y_all], np.eye(10)[y_few]
    return (
        ("a fresh MLP with a small output layer, all 10 classes in the batch",
         _mlp_factory(0.01), X_all, y_all),
        ("the same MLP with its output layer scaled up 30x", _mlp_factory(30.0), X_all, y_all),
        ("a model whose loss on this batch is 1.0", _diagonal_factory(_LOG10_LOGIT), onehot_all, y_all),
        ("a model with all-zero weights, a batch that holds only the classes 2, 5 and 7",
         _zero_factory, X_few, y_few),
        ("a model whose loss on that batch is ln 3", _diagonal_factory(math.log(4.5)), onehot_few, y_few),
        ("a model whose loss on that batch is ln 8", _diagonal_factory(math.log(9.0 / 7.0)), onehot_few, y_few),
    )


_FIRST_LOSS_LAM, _FIRST_LOSS_TOL, _K = 0.01, 0.05, 10


def _ok_variants(loss, penalty, y, tol):
    """What ``ok`` would be under each reading of the rule, for one case."""
    k = _K
    return {
        "correct": abs(loss - math.log(k)) <= tol,
        "log10": abs(loss - math.log10(k)) <= tol,
        "log2": abs(loss - math.log2(k)) <= tol,
        "unique": abs(loss - math.log(len(np.unique(y)))) <= tol,
        "max": abs(loss - math.log(int(np.max(y)) + 1)) <= tol,
        "penalty": abs(loss + penalty - math.log(k)) <= tol,
        "one-sided": loss <= math.log(k) + tol,
        "always": True,
    }


_OK_HINTS = {
    "log10": "ok compares the loss with log10(K). Cross-entropy uses the natural log, so a "
             "model that knows nothing has loss -ln(1/K) = ln K: compare with np.log(num_classes)",
    "log2": "ok compares the loss with log2(K); cross-entropy here uses the natural log: "
            "np.log(num_classes)",
    "unique": "ok takes K from the batch (the number of distinct labels in y). A batch need not "
              "contain every class, and the softmax spreads its probability over ALL the "
              "model's classes: use num_classes",
    "max": "ok takes K from the batch (y.max() + 1). A batch need not contain the highest class: "
           "use num_classes",
    "penalty": "ok is computed with the regularization penalty added. Check 1 is made with "
               "regularization OFF: the penalty is positive, so it lifts the first loss above ln K "
               "for a perfectly healthy model",
    "one-sided": "ok only rejects losses ABOVE ln K. A fresh model far BELOW ln K is suspicious "
                 "too (a wrong log, a model that is not fresh): use the absolute difference",
    "always": "ok is True even for a model whose first loss is far from ln K",
}


def check_first_loss(first_loss_check):
    """Check ``first_loss_check(make_model, X, y, num_classes, regularizer, tol) -> (loss, ok,
    loss_with_penalty)``: the mean softmax cross-entropy of a fresh ``make_model()`` on (X, y)
    with regularization OFF; whether it is within ``tol`` of ln(num_classes); and the same loss
    plus ``regularizer.value(model.parameters())``. Six fixed cases: a healthy MLP, an
    overconfident one, a model whose loss is log10(10) = 1, and three models on a batch that
    holds only 3 of the 10 classes (losses ln 10, ln 3 and ln 8).

    Diagnoses: the penalty left in the loss (regularization on) or in ``ok``; the penalty not
    added to loss_with_penalty; log10 or log2 instead of the natural log; K taken from the
    batch (distinct labels, or max + 1) instead of num_classes; a one-sided comparison; ok
    always True; a loss that is not the mean cross-entropy of the fresh model (e.g. summed);
    return values of the wrong kind.
    """
    reg = L2(_FIRST_LOSS_LAM)
    tol = _FIRST_LOSS_TOL
    got_ok, want = [], {}
    loss_fn = SoftmaxCrossEntropy()
    for i, (what, make_model, X, y) in enumerate(_first_loss_cases()):
        call = (f"first_loss_check(make_model, X, y, num_classes={_K}, "
                f"regularizer=cl.L2({_FIRST_LOSS_LAM:g}), tol={tol:g})  # case {i + 1}: {what}")
        result = first_loss_check(make_model, X.copy(), y.copy(), _K, reg, tol)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            fail(f"{call} should return a tuple (loss, ok, loss_with_penalty), got "
                 f"{type(result).__name__}")
        loss, ok, with_penalty = result
        loss = float(as_array(loss, f"{call}: loss"))
        with_penalty = float(as_array(with_penalty, f"{call}: loss_with_penalty"))
        if not _is_bool(ok):
            fail(f"{call}: ok should be True or False, got {ok!r}")
        model = make_model()
        ref = loss_fn.forward(model.forward(X), y)
        penalty = reg.value(model.parameters())
        if not close(loss, ref):
            if penalty > 0 and close(loss, ref + penalty):
                fail(f"{call}: the loss includes the regularization penalty. Check 1 is made with "
                     f"regularization OFF: the penalty lifts the first loss above ln K even for a "
                     f"healthy model. Return the data loss alone as `loss`")
            if close(loss, ref * len(y)):
                fail(f"{call}: the loss is SUMMED over the batch; cross-entropy is the mean over "
                     f"the examples")
            fail(f"{call} returned loss = {loss:g}, which is not the mean softmax cross-entropy of "
                 f"a fresh make_model() on (X, y)")
        if not close(with_penalty, ref + penalty):
            if close(with_penalty, ref):
                fail(f"{call}: loss_with_penalty equals the data loss; add the penalty "
                     f"regularizer.value(model.parameters()) (check 2: turning regularization "
                     f"on must raise the loss)")
            fail(f"{call}: loss_with_penalty = {with_penalty:g} is not the data loss plus "
                 f"regularizer.value(model.parameters())")
        got_ok.append(bool(ok))
        for name, value in _ok_variants(ref, penalty, y, tol).items():
            want.setdefault(name, []).append(value)
    if got_ok != want["correct"]:
        described = [what for what, *_ in _first_loss_cases()]
        cases = "; ".join(f"case {i + 1}, {described[i]}: ok = {a}"
                          for i, (a, b) in enumerate(zip(got_ok, want["correct"])) if a != b)
        call = (f"first_loss_check(make_model, X, y, num_classes={_K}, "
                f"regularizer=cl.L2({_FIRST_LOSS_LAM:g}), tol={tol:g}) on six fixed cases")
        for name, hint in _OK_HINTS.items():
            if got_ok == want[name]:
                fail(f"{call} (wrong in {cases}): {hint}")
        fail(f"{call}: `ok` is wrong in {cases}. ok means |loss - ln(num_classes)| <= tol, with "
             f"the data loss alone")
    passed("first_loss")


# ------------------------------------------------------------- overfit a tiny subset

class _Spy(Module):
    """An identity layer that records which inputs the model was TRAINED on (forward followed
    by backward), so the check can see the examples and batch sizes used."""

    def __init__(self):
        self.pending = None
        self.trained = []

    def forward(self, x):
        self.pending = np.array(x, dtype=np.float64, copy=True) if self.training else None
        return x

    def backward(self, dout):
        if self.pending is not None:
            self.trained.append(self.pending)
            self.pending = None
        return dout


def _tiny_data():
    g = np.random.default_rng(3)
    return g.standard_normal((80, 12)), g.integers(0, 10, 80)


def check_overfit_tiny(overfit_tiny):
    """Check ``overfit_tiny(make_model, X, y, n=20, epochs=100, lr=3e-3) -> (model,
    train_acc)``: train a fresh ``make_model()`` with Adam(lr), full-batch, for ``epochs`` on the
    first n examples; return the trained model and its accuracy on those n examples (a
    fraction). Fixed data: 80 random inputs with random labels (nothing to generalize, only
    to memorize); the model records which examples it is trained on.

    Diagnoses: examples beyond the first n used for training (e.g. all of X), a different
    subset, some of the first n never used; mini-batches instead of full-batch steps; a model
    that was never trained or is not the one returned; 100 % not reached (too few steps, too
    small a rate, plain SGD); the accuracy measured on other examples, or as a percentage;
    return values of the wrong kind.
    """
    X, y = _tiny_data()
    spies = []

    def make_model():
        g = np.random.default_rng(4)
        spy = _Spy()
        spies.append(spy)
        model = Sequential(spy, Linear(12, 64, rng=g), ReLU(), Linear(64, 64, rng=g), ReLU(),
                           Linear(64, 10, rng=g))
        model[5].W.data *= 0.1
        return model

    n = 20
    call = (f"g = np.random.default_rng(3); X, y = g.standard_normal((80, 12)), g.integers(0, 10, "
            f"80); overfit_tiny(make_model, X, y, n={n})  # make_model: a fresh 12-64-64-10 "
            f"ReLU MLP")
    result = overfit_tiny(make_model, X.copy(), y.copy(), n=n)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return a tuple (model, train_acc), got {type(result).__name__}")
    model, acc = result
    if not hasattr(model, "forward"):
        fail(f"{call}: the first value returned should be the trained model, got "
             f"{type(model).__name__}")
    acc = float(as_array(acc, f"{call}: train_acc"))
    spy = next((s for s in spies if s is getattr(model, "layers", [None])[0]), None)
    if spy is None:
        fail(f"{call}: the model returned is not one built by make_model(); return the model "
             f"you trained")
    if not spy.trained:
        fail(f"{call}: the returned model was never trained (no backward pass reached it)")
    seen = np.concatenate(spy.trained)
    rows = {tuple(r) for r in seen}
    first = {tuple(r) for r in X[:n]}
    if not rows <= first:
        extra = len(rows - first)
        if rows >= {tuple(r) for r in X}:
            fail(f"{call}: the model was trained on all {len(X)} examples. The check is about a "
                 f"TINY subset: train on X[:n], y[:n] only")
        fail(f"{call}: the model was trained on {extra} examples that are not among the first "
             f"n; use X[:n], y[:n]")
    if rows != first:
        fail(f"{call}: {len(first - rows)} of the first n examples were never used in training")
    sizes = {len(b) for b in spy.trained}
    if sizes != {n}:
        fail(f"{call}: the training batches had sizes {sorted(sizes)}; take full-batch steps "
             f"(batch_size=n), so every step sees all n examples")
    _, own = _accuracy(model, X[:n], y[:n])
    if own < 1.0:
        fail(f"{call}: the trained model gets only {100 * own:.0f} % of the n training examples "
             f"right. A healthy set-up memorises 20 examples: use Adam with the given lr for the "
             f"given number of epochs, with no regularization")
    if close(acc, 100 * own):
        fail(f"{call}: train_acc is a percentage; return a fraction between 0 and 1")
    if not close(acc, own):
        if close(acc, _accuracy(model, X, y)[1]) or close(acc, _accuracy(model, X[n:], y[n:])[1]):
            fail(f"{call}: train_acc = {acc:g} was measured on other examples; measure it on the "
                 f"n examples the model was trained on")
        fail(f"{call}: train_acc = {acc:g} is not the returned model's accuracy on X[:n]")
    passed("overfit_tiny")


def _accuracy(model, X, y):
    was = model.training
    model.eval()
    pred = model.forward(X).argmax(axis=1)
    model.train(was)
    return pred, float(np.mean(pred == y))


# ------------------------------------------------------------- log-uniform sampling

_SAMPLER_CASES = ((1e-6, 1e-1, 0), (3e-5, 3e-2, 1))
_SAMPLES = 20_000


def _ks_uniform(u):
    """Kolmogorov-Smirnov distance of the values u from U(0, 1)."""
    u = np.sort(u)
    n = len(u)
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def check_log_uniform(sample_log_uniform):
    """Check ``sample_log_uniform(low, high, size, rng)``: ``size`` values whose log10 is
    uniform on [log10 low, log10 high], drawn from ``rng``. Statistical, on 20,000 draws with
    fixed seeds, for (1e-6, 1e-1) and (3e-5, 3e-2): every value in [low, high], and the
    distribution of log10(values) within a Kolmogorov-Smirnov distance of 0.02 of uniform.

    Diagnoses: uniform sampling on the linear scale (most draws in the top decade); the
    misprinted exponent range 10 ** uniform(-3, 6); natural log and log10 mixed (10 **
    uniform(ln low, ln high) or exp(uniform(log10 low, log10 high))); low and high used as the
    exponents themselves; the exponents returned without 10 **; the global random state
    instead of rng; a wrong shape; values outside [low, high].
    """
    for low, high, seed in _SAMPLER_CASES:
        call = f"sample_log_uniform({low:g}, {high:g}, size={_SAMPLES}, rng=np.random.default_rng({seed}))"
        v = as_array(sample_log_uniform(low, high, _SAMPLES, np.random.default_rng(seed)), call)
        if v.shape != (_SAMPLES,):
            fail(f"{call} returned shape {v.shape}, expected ({_SAMPLES},)")
        again = np.asarray(sample_log_uniform(low, high, _SAMPLES, np.random.default_rng(seed)),
                           dtype=np.float64)
        if not np.array_equal(v, again):
            fail(f"{call} gives different values on two calls with the same seeded rng: draw "
                 f"from the `rng` argument (rng.uniform), never from np.random's global state")
        if not np.all(np.isfinite(v)):
            fail(f"{call} returned nan or inf values")
        if np.all(v < 0) and v.min() >= math.log10(low) - 1e-9 and v.max() <= math.log10(high) + 1e-9:
            fail(f"{call}: the values are the EXPONENTS (between log10 low and log10 high); "
                 f"return 10 ** exponent")
        if np.any(v <= 0):
            fail(f"{call} returned values <= 0; a learning rate is positive")
        lv = np.log10(v)
        if lv.max() > 3 and abs(lv.min() + 3) < 0.1 and abs(lv.max() - 6) < 0.1:
            fail(f"{call}: your values run from 1e-3 to 1e6: that is the misprinted recipe "
                 f"10 ** uniform(-3, 6). The exponents of useful learning rates are negative; "
                 f"sample the exponent between log10(low) and log10(high)")
        if v.min() >= 1.0 and v.max() <= 10 ** high + 1e-9:
            fail(f"{call}: your values lie between 10**low and 10**high: you used low and high as "
                 f"the exponents. The exponents are log10(low) and log10(high)")
        if v.min() >= low * (1 - 1e-9) and v.max() <= high * (1 + 1e-9):
            pass
        elif (lv.min() >= math.log(low) - 1e-9 and lv.max() <= math.log(high) + 1e-9) or (
                v.min() >= math.exp(math.log10(low)) * (1 - 1e-9)
                and v.max() <= math.exp(math.log10(high)) * (1 + 1e-9)):
            fail(f"{call}: your values are outside [low, high] because natural log and log10 are "
                 f"mixed: 10 ** x undoes np.log10, np.exp undoes np.log. Use one base for both "
                 f"steps")
        else:
            fail(f"{call} returned values outside [low, high]")
        u = (lv - math.log10(low)) / (math.log10(high) - math.log10(low))
        if _ks_uniform(u) > 0.02:
            top = np.mean(v >= high / 10)
            if top > 0.5:
                fail(f"{call}: {100 * top:.0f} % of your values lie in the top decade [high / 10, "
                     f"high]: that is uniform sampling on the LINEAR scale. Sample the exponent "
                     f"uniformly and raise 10 to it, so every decade gets the same share")
            fail(f"{call}: log10 of your values is not uniformly distributed between log10(low) "
                 f"and log10(high)")
    passed("log_uniform")


# ------------------------------------------------------------- random search

_SEARCH = dict(n_trials=400, lr_range=(1e-5, 1e-1), p_range=(0.1, 0.6), seed=0)


def _score(lr, p):
    """A smooth objective to maximize, best near lr = 10**-2.5, p = 0.3."""
    return -((math.log10(lr) + 2.5) ** 2) - 4.0 * (p - 0.3) ** 2


def _run_search(random_search, seed):
    calls = []

    def objective(lr, p):
        calls.append((float(lr), float(p)))
        return _score(float(lr), float(p))

    s = _SEARCH
    result = random_search(objective, s["n_trials"], s["lr_range"], s["p_range"],
                           np.random.default_rng(seed))
    return result, calls


def check_random_search(random_search):
    """Check ``random_search(objective, n_trials, lr_range, p_range, rng) -> (best, trials)``:
    ``n_trials`` calls objective(lr, p) with lr log-uniform in lr_range and p uniform in
    p_range, drawn from rng; ``trials`` lists {"lr", "p", "score"} in the order run, ``best``
    is the trial with the highest score. Driven with a recording objective (400 trials, lr in
    (1e-5, 1e-1), p in (0.1, 0.6), a fixed seed).

    Diagnoses: a grid instead of random draws (few distinct values); lr sampled on the linear
    scale; p sampled on a log scale; either not distributed as it should be (a
    Kolmogorov-Smirnov distance above 0.12); values out of range; the global random state
    instead of rng; the wrong number of calls; trials that do not match the calls; the worst, the last or
    the first trial returned instead of the best; return values of the wrong kind.
    """
    s = _SEARCH
    call = (f"random_search(objective, n_trials={s['n_trials']}, lr_range={s['lr_range']}, "
            f"p_range={s['p_range']}, rng=np.random.default_rng({s['seed']}))  # objective(lr, p) "
            f"returns a score to maximize")
    result, calls = _run_search(random_search, s["seed"])
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return a tuple (best, trials), got {type(result).__name__}")
    best, trials = result
    if len(calls) != s["n_trials"]:
        fail(f"{call} called the objective {len(calls)} times; it should run exactly n_trials "
             f"trials")
    if not isinstance(trials, (list, tuple)) or len(trials) != len(calls):
        fail(f"{call}: trials should be a list of {len(calls)} dicts, one per call, in the order "
             f"they were run")
    for i, (t, (lr, p)) in enumerate(zip(trials, calls)):
        if not isinstance(t, dict) or not {"lr", "p", "score"} <= set(t):
            fail(f"{call}: trials[{i}] should be a dict with the keys 'lr', 'p' and 'score', got "
                 f"{t!r}")
        if not (close(t["lr"], lr) and close(t["p"], p) and close(t["score"], _score(lr, p))):
            fail(f"{call}: trials[{i}] = {t!r} does not match call {i} of the objective "
                 f"(lr={lr:g}, p={p:g}) and the score it returned")
    lrs = np.array([c[0] for c in calls])
    ps = np.array([c[1] for c in calls])
    (lo, hi), (plo, phi) = s["lr_range"], s["p_range"]
    if len(np.unique(lrs)) < len(lrs) / 2:
        fail(f"{call}: only {len(np.unique(lrs))} distinct learning rates in {len(lrs)} trials: "
             f"that is a grid. Random search draws every trial's values afresh, so n trials try "
             f"n different learning rates")
    if lrs.min() < lo * (1 - 1e-9) or lrs.max() > hi * (1 + 1e-9):
        fail(f"{call}: some learning rates lie outside lr_range")
    if ps.min() < plo - 1e-9 or ps.max() > phi + 1e-9:
        fail(f"{call}: some values of p lie outside p_range")
    again = _run_search(random_search, s["seed"])[1]
    if again != calls:
        fail(f"{call}: two runs with the same seeded rng tried different values: draw from the "
             f"`rng` argument, never from np.random's global state")
    top = float(np.mean(lrs >= hi / 10))
    if top > 0.6:
        fail(f"{call}: {100 * top:.0f} % of the learning rates lie in the top decade of the range: "
             f"they were sampled on the LINEAR scale. Sample lr log-uniformly: 10 ** "
             f"rng.uniform(log10(low), log10(high))")
    if _ks_uniform((np.log10(lrs) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) > 0.12:
        fail(f"{call}: log10 of the learning rates is not uniformly distributed over the range")
    low_half = float(np.mean(ps < (plo + phi) / 2))
    if low_half > 0.63:
        fail(f"{call}: {100 * low_half:.0f} % of the values of p lie in the lower half of p_range: "
             f"p was sampled on a log scale. A dropout rate is not a scale factor: sample it "
             f"uniformly, rng.uniform(low, high)")
    if _ks_uniform((ps - plo) / (phi - plo)) > 0.12:
        fail(f"{call}: p is not uniformly distributed over p_range")
    if not isinstance(best, dict) or not {"lr", "p", "score"} <= set(best):
        fail(f"{call}: best should be one of the trials, a dict with 'lr', 'p' and 'score'; got "
             f"{best!r}")
    scores = [_score(lr, p) for lr, p in calls]
    i_best = int(np.argmax(scores))
    if not (close(best["lr"], calls[i_best][0]) and close(best["p"], calls[i_best][1])):
        i_worst = int(np.argmin(scores))
        if close(best["lr"], calls[i_worst][0]) and close(best["p"], calls[i_worst][1]):
            fail(f"{call}: best is the trial with the LOWEST score; the score is to be maximized "
                 f"(validation accuracy): return the highest")
        if close(best["lr"], calls[-1][0]) and close(best["p"], calls[-1][1]):
            fail(f"{call}: best is the LAST trial run; keep the one with the highest score")
        if close(best["lr"], calls[0][0]) and close(best["p"], calls[0][1]):
            fail(f"{call}: best is the FIRST trial; update it whenever a trial scores higher")
        fail(f"{call}: best is not the trial with the highest score")
    passed("random_search")


# ------------------------------------------------------------- reading a learning-rate scan

LABELS = ("too low", "good", "too high")


def _decay(first, final, tau, steps, noise, seed):
    """A noisy loss curve that falls from ``first`` towards ``final`` with time constant tau."""
    t = np.arange(steps)
    clean = final + (first - final) * np.exp(-t / tau)
    jitter = np.exp(noise * np.random.default_rng(seed).standard_normal(steps))
    jitter[0] = 1.0
    return clean * jitter


def _explode(first, at, peak, seed, level=1.0):
    """A run stopped by the explosion guard at step ``at``: it fell, then jumped to ``peak``."""
    if at == 1:
        return np.array([first, peak])
    head = _decay(first, level, 8.0, at, 0.05, seed)
    return np.append(head, peak)


def _scan(kind_rows, steps=136):
    """dict lr -> curve, and dict lr -> kind, from rows (lr, kind, recipe)."""
    curves, kinds = {}, {}
    for i, (lr, kind, recipe) in enumerate(kind_rows):
        if kind == "exploded":
            curves[lr] = _explode(2.3, *recipe, seed=i)
        else:
            final, tau, noise = recipe
            curves[lr] = _decay(2.3, final, tau, steps, noise, seed=100 + i)
        kinds[lr] = kind
    return curves, kinds


def _scans():
    """Two synthetic scans (the second listed from the highest rate down), with the kind of
    each curve: flat, good, plateau or exploded."""
    one = _scan([
        (1e-5, "flat", (2.0, 3000.0, 0.02)),
        (3e-5, "flat", (1.6, 600.0, 0.02)),
        (1e-4, "flat", (1.2, 250.0, 0.03)),
        (3e-4, "good", (0.45, 45.0, 0.05)),       # below the best rate: slow, but it halved
        (1e-3, "good", (0.1, 25.0, 0.08)),
        (3e-3, "good", (0.02, 15.0, 0.1)),
        (1e-2, "good", (0.01, 8.0, 0.15)),        # ends lowest
        (3e-2, "good", (0.02, 3.0, 0.3)),         # above it, but ends within 3x
        (1e-1, "plateau", (0.2, 2.0, 0.35)),
        (3e-1, "exploded", (1, 7.5)),
    ])
    two = _scan([
        (1.0, "exploded", (1, 40.0)),
        (0.3, "exploded", (40, 7.2)),             # finite, stopped at 3x the first loss
        (0.1, "plateau", (0.5, 2.0, 0.3)),
        (0.03, "plateau", (0.08, 3.0, 0.3)),
        (0.01, "good", (0.03, 6.0, 0.2)),
        (0.003, "good", (0.015, 12.0, 0.12)),     # ends lowest
        (0.001, "good", (0.3, 30.0, 0.08)),
        (1e-4, "flat", (1.8, 400.0, 0.02)),
    ])
    return one, two


def example_scans():
    """The two synthetic learning-rate scans the check reads, as dicts lr -> loss curve (T,)
    (copies: change them freely)."""
    return tuple({lr: c.copy() for lr, c in curves.items()} for curves, _ in _scans())


_WRONG = {
    "exploded": "its loss went above 3x its first value, so the explosion guard stopped the run: "
                "a run that explodes says the rate is 'too high'",
    "flat": "its loss has not even halved (the mean of its last quarter is above half of its "
            "first loss): flat or barely falling says the rate is 'too low'",
    "plateau": "it is a HIGHER rate than the one whose curve ends lowest, and its final level "
               "(last quarter) is more than 3x that one's: it dropped fast, then stalled, which "
               "says 'too high'",
}


def _good_hint(lr, label, ref):
    if label == "too low":
        return ("its loss fell below half of its first value, so it is not flat: 'too low' is "
                "for curves that have not even halved")
    if lr < ref:
        return (f"it is a LOWER rate than the one that ends lowest (lr = {ref:g}); ending higher "
                f"than a larger rate means slower, not a plateau. The plateau rule only applies "
                f"to rates above that one")
    return (f"it ends within 3x of the final level of lr = {ref:g}, the rate that ends lowest; "
            f"only a rate that ends MORE than 3x higher has stalled on a plateau")


def check_read_scan(read_scan):
    """Check ``read_scan(curves) -> dict lr -> "too low" | "good" | "too high"`` on two fixed
    synthetic scans (``example_scans()``), the second listed from the highest rate down. The
    reading rule: a curve whose loss exceeds 3x its first value exploded ("too high"); else a
    curve whose last quarter is still above half its first loss is flat ("too low"); of the
    rest, the rate whose last quarter is lowest is the reference, and a HIGHER rate that ends
    more than 3x above it stalled on a plateau ("too high"); all others are "good".

    Diagnoses, per curve read wrongly: an explosion missed (e.g. only inf/nan looked for);
    a flat curve not read as too low; a plateau missed; a slow rate below the best one read as
    a plateau; a rate above the best one that ends within 3x read as too high; a curve that
    halved read as too low. Also: labels outside the three words, missing or extra rates, a
    result of the wrong kind, the curves changed in place.
    """
    for number, ((curves, kinds), order) in enumerate(zip(_scans(), ("lowest", "highest")), 1):
        direction = "up" if order == "lowest" else "down"
        call = (f"read_scan(checks.practice.example_scans()[{number - 1}])  # scan {number}: "
                f"{len(curves)} rates, listed from the {order} {direction}")
        given = {lr: c.copy() for lr, c in curves.items()}
        got = read_scan(given)
        if any(not np.array_equal(given[lr], curves[lr]) for lr in curves):
            fail(f"{call} changed the curves in place")
        if not isinstance(got, dict):
            fail(f"{call} should return a dict lr -> label, got {type(got).__name__}")
        if set(got) != set(curves):
            fail(f"{call}: the result should have exactly the learning rates of `curves` as keys "
                 f"(missing {sorted(set(curves) - set(got))}, extra {sorted(set(got) - set(curves))})")
        bad = {lr: v for lr, v in got.items() if v not in LABELS}
        if bad:
            fail(f"{call}: labels must be one of {LABELS}; got {bad}")
        levels = {lr: float(np.mean(c[-max(1, len(c) // 4):])) for lr, c in curves.items()
                  if kinds[lr] in ("good", "plateau")}
        ref = min(levels, key=levels.get)
        for kind in ("exploded", "flat", "plateau", "good"):
            for lr in sorted(curves):
                if kinds[lr] != kind:
                    continue
                label = got[lr]
                if kind == "good" and label != "good":
                    fail(f"{call}: lr = {lr:g} was read as '{label}', but {_good_hint(lr, label, ref)}")
                if kind == "plateau" and label == "too low":
                    fail(f"{call}: lr = {lr:g} was read as 'too low', but its loss fell below half "
                         f"of its first value, so it is not flat; {_WRONG[kind]}")
                if kind != "good" and label != ("too low" if kind == "flat" else "too high"):
                    fail(f"{call}: lr = {lr:g} was read as '{label}', but {_WRONG[kind]}")
    passed("read_scan")
