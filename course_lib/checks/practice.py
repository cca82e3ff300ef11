"""Checks for exercises/08_training_in_practice.ipynb: the first-loss sanity check, overfitting
a tiny subset, log-uniform sampling of learning rates, a random search, reading a
learning-rate scan, and finding the layer that mixes the examples of a batch.

Every check has a hidden variant: with ``seed=<int>`` it draws other models, batches, class
counts, strengths and tolerances for the first loss; another tiny problem, subset size,
number of epochs and learning rate; other ranges and seeds for the samplers; another objective
for the search; another synthetic scan, listed in a random order, for the reader; other
models, batches, mixing layers and positions for the batch-independence test."""
import math

import numpy as np

from ..activations import ReLU
from ..dropout import Dropout
from ..layers import Linear
from ..losses import SoftmaxCrossEntropy
from ..module import Module, Sequential
from ..normalization import BatchNorm1d
from ..regularizers import L2
from ._common import Call, as_array, check, close, fail, passed


def _is_bool(v):
    return isinstance(v, (bool, np.bool_))


def _seed_arg(seed):
    return "" if seed is None else f"seed={seed}"


# ------------------------------------------------------------- sanity check: the first loss

def _mlp_factory(d, k, last_scale, seed=1):
    def make_model():
        g = np.random.default_rng(seed)
        model = Sequential(Linear(d, 32, rng=g), ReLU(), Linear(32, k, rng=g))
        model[2].W.data *= last_scale
        return model
    return make_model


def _zero_factory(d, k):
    return lambda: Sequential(Linear(d, k, init="zeros", rng=0))


def _diagonal_factory(k, loss):
    """A model whose loss on one-hot inputs is exactly ``loss``: W = c I with
    ln(1 + (K - 1) e^-c) = loss."""
    c = math.log((k - 1) / math.expm1(loss))

    def make_model():
        model = Sequential(Linear(k, k, init="zeros", rng=0))
        model[0].W.data[...] = c * np.eye(k)
        return model
    return make_model


def _first_loss_build(k, d, n_all, lam, tol, few, data_seed, near=None):
    g = np.random.default_rng(data_seed)
    X_all, y_all = g.standard_normal((n_all, d)), np.arange(n_all) % k
    y_few = np.tile(list(few), 10)
    X_few = g.standard_normal((len(y_few), d))
    u, top = len(few), max(few) + 1
    onehot_all, onehot_few = np.eye(k)[y_all], np.eye(k)[y_few]
    cases = (
        ("a fresh MLP with a small output layer, every class in the batch",
         _mlp_factory(d, k, 0.01), X_all, y_all),
        ("the same MLP with its output layer scaled up 30x", _mlp_factory(d, k, 30.0), X_all, y_all),
        ("a model whose loss on this batch is log10(K)", _diagonal_factory(k, math.log10(k)), onehot_all, y_all),
        ("a model with all-zero weights, a batch that holds only a few of the classes",
         _zero_factory(d, k), X_few, y_few),
        ("a model whose loss on that batch is ln(number of classes in the batch)",
         _diagonal_factory(k, math.log(u)), onehot_few, y_few),
        ("a model whose loss on that batch is ln(largest label in the batch + 1)",
         _diagonal_factory(k, math.log(top)), onehot_few, y_few),
    )
    if near is not None:                   # hidden only: a loss just inside or outside ln K +- tol
        cases += (("a model whose loss on this batch is close to ln K, near the tolerance",
                   _diagonal_factory(k, math.log(k) + near), onehot_all, y_all),)
    return cases, k, lam, tol


def first_loss_patterns(setting):
    """What ``ok`` is in the six cases under each reading of the rule: dict reading -> list."""
    cases, k, lam, tol = setting
    reg, loss_fn, out = L2(lam), SoftmaxCrossEntropy(), {}
    for _, make_model, X, y in cases:
        model = make_model()
        loss = loss_fn.forward(model.forward(X), y)
        for variant, value in _ok_variants(loss, reg.value(model.parameters()), y, tol, k).items():
            out.setdefault(variant, []).append(value)
    return out


def first_loss_setting(seed=None):
    """The setting of check_first_loss: (cases, num_classes, lam, tol), each case a tuple
    (description, make_model, X, y). Public: 10 classes, cl.L2(0.01), tol 0.05; six cases: a
    healthy MLP, an overconfident one, a model whose loss is log10(10) = 1, and three models on
    a batch that holds only the classes 2, 5 and 7 (losses ln 10, ln 3 and ln 8). Hidden: the
    same six kinds of case for another K, other models and batches, lam and tol, drawn until
    every wrong reading of the rule gives a different pattern of ``ok``."""
    if seed is None:
        return _first_loss_build(10, 8, 40, 0.01, 0.05, (2, 5, 7), 0)
    g = np.random.default_rng(seed)
    while True:
        k = int(g.choice([6, 8, 10, 12, 15]))
        d, n_all = int(g.integers(5, 13)), k * int(g.integers(3, 6))
        lam, tol = float(g.choice([0.005, 0.01, 0.02])), float(g.choice([0.03, 0.08, 0.1]))
        # a loss that a tolerance fixed at the public 0.05 judges otherwise than tol does
        near = float(g.choice([-1, 1])) * tol * (0.8 if tol > _FIRST_LOSS_TOL else 1.4)
        few = tuple(sorted(int(c) for c in g.choice(np.arange(k // 2 + 1), int(g.integers(2, 4)), replace=False)))
        if max(few) + 1 == len(few):
            continue
        setting = _first_loss_build(k, d, n_all, lam, tol, few, int(g.integers(10, 10_000)), near)
        patterns = [tuple(v) for v in first_loss_patterns(setting).values()]
        if len(set(patterns)) == len(patterns):
            return setting


def first_loss_case(i, seed=None):
    """(make_model, X, y) of case i (from 1) of check_first_loss: what its hint's call uses."""
    _, make_model, X, y = first_loss_setting(seed)[0][i - 1]
    return make_model, X.copy(), y.copy()


def _first_loss_cases():
    """The public cases, as (description, make_model, X, y)."""
    return first_loss_setting()[0]


_FIRST_LOSS_LAM, _FIRST_LOSS_TOL, _K = 0.01, 0.05, 10


def _ok_variants(loss, penalty, y, tol, k=_K):
    """What ``ok`` would be under each reading of the rule, for one case (with a tolerance
    other than the public one, also: the public tolerance in place of ``tol``)."""
    fixed = {} if tol == _FIRST_LOSS_TOL else {"fixed tol": abs(loss - math.log(k)) <= _FIRST_LOSS_TOL}
    return {**fixed,
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
    "fixed tol": "ok does not follow the `tol` argument: it judges as with the default tolerance "
                 "0.05. Compare |loss - ln K| with the tol you are given",
}


@check()
def check_first_loss(first_loss_check, *, seed=None):
    """Check ``first_loss_check(make_model, X, y, num_classes, regularizer, tol) -> (loss, ok,
    loss_with_penalty)``: the mean softmax cross-entropy of a fresh ``make_model()`` on (X, y)
    with regularization OFF; whether it is within ``tol`` of ln(num_classes); and the same loss
    plus ``regularizer.value(model.parameters())``. Six fixed cases: a healthy MLP, an
    overconfident one, a model whose loss is log10(10) = 1, and three models on a batch that
    holds only 3 of the 10 classes (losses ln 10, ln 3 and ln 8). With a ``seed``: another
    number of classes, other models, batches, strength and tolerance, and a seventh case whose
    loss lies near the tolerance (a fixed tolerance judges it otherwise).

    Diagnoses: the penalty left in the loss (regularization on) or in ``ok``; the penalty not
    added to loss_with_penalty; log10 or log2 instead of the natural log; K taken from the
    batch (distinct labels, or max + 1) instead of num_classes; a one-sided comparison; ok
    always True; the tol argument ignored (hidden tests); a loss that is not the mean cross-entropy of the fresh model (e.g. summed);
    X or y changed in place; return values of the wrong kind.
    """
    name = "first_loss_check"
    cases, k, lam, tol = first_loss_setting(seed)
    reg = L2(lam)
    args = f"num_classes={k}, regularizer=cl.L2({lam:g}), tol={tol:g}"
    got_ok, want = [], {}
    loss_fn = SoftmaxCrossEntropy()
    for i, (what, make_model, X, y) in enumerate(cases):
        call = Call(f"{name}(make_model, X, y, {args})",
                    f"make_model, X, y = checks.practice.first_loss_case({i + 1}{', ' + _seed_arg(seed) if seed is not None else ''})")
        X_in, y_in = X.copy(), y.copy()
        result = first_loss_check(make_model, X_in, y_in, k, reg, tol)
        if not (np.array_equal(X_in, X) and np.array_equal(y_in, y)):
            fail(f"{name} changed X or y in place; a sanity check only reads the batch", call)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            fail(f"{name} should return a tuple (loss, ok, loss_with_penalty), got "
                 f"{type(result).__name__}", call)
        loss, ok, with_penalty = result
        loss = float(as_array(loss, f"{name}'s loss", call))
        with_penalty = float(as_array(with_penalty, f"{name}'s loss_with_penalty", call))
        if not _is_bool(ok):
            fail(f"The ok that {name} returned should be True or False, got {ok!r} (ok should be "
                 f"True or False)", call)
        model = make_model()
        ref = loss_fn.forward(model.forward(X), y)
        penalty = reg.value(model.parameters())
        if not close(loss, ref):
            if penalty > 0 and close(loss, ref + penalty):
                fail(f"The loss that {name} returned includes the regularization penalty. Check 1 "
                     f"is made with regularization OFF: the penalty lifts the first loss above "
                     f"ln K even for a healthy model. Return the data loss alone as `loss`", call)
            if close(loss, ref * len(y)):
                fail(f"The loss that {name} returned is SUMMED over the batch; cross-entropy is "
                     f"the mean over the examples", call)
            fail(f"{name} returned loss = {loss:g}, which is not the mean softmax cross-entropy "
                 f"of a fresh make_model() on (X, y)", call)
        if not close(with_penalty, ref + penalty):
            if close(with_penalty, ref):
                fail(f"The loss_with_penalty that {name} returned equals the data loss; add the "
                     f"penalty regularizer.value(model.parameters()) (check 2: turning "
                     f"regularization on must raise the loss)", call)
            fail(f"{name} returned loss_with_penalty = {with_penalty:g}, which is not the data "
                 f"loss plus regularizer.value(model.parameters())", call)
        got_ok.append(bool(ok))
        for variant, value in _ok_variants(ref, penalty, y, tol, k).items():
            want.setdefault(variant, []).append(value)
    if got_ok != want["correct"]:
        wrong = "; ".join(f"case {i + 1}, {cases[i][0]}: ok = {a}"
                          for i, (a, b) in enumerate(zip(got_ok, want["correct"])) if a != b)
        call = Call(f"[{name}(*checks.practice.first_loss_case(i{', ' + _seed_arg(seed) if seed is not None else ''}), "
                    f"{args})[1] for i in range(1, {len(cases) + 1})]")
        for variant, hint in _OK_HINTS.items():
            if got_ok == want.get(variant):
                fail(f"{name}'s {hint} (ok is wrong in {wrong})", call)
        fail(f"{name}'s `ok` is wrong in {wrong}. ok means |loss - "
             f"ln(num_classes)| <= tol, with the data loss alone", call)
    passed("first_loss")


# ------------------------------------------------------------- overfit a tiny subset

class _Spy(Module):
    """An identity layer that records which inputs the model was TRAINED on (forward followed
    by backward), and the weights of the next layer at the first training steps, so the check
    can see the examples, batch sizes, number of steps and step size used."""

    def __init__(self):
        self.pending = None
        self.trained = []
        self.weights = []
        self.watch = None

    def forward(self, x):
        if self.training:
            w = self.watch.W.data.copy() if self.watch is not None and len(self.trained) < 2 else None
            self.pending = (np.array(x, dtype=np.float64, copy=True), w)
        else:
            self.pending = None
        return x

    def backward(self, dout):
        if self.pending is not None:
            x, w = self.pending
            self.trained.append(x)
            if w is not None:
                self.weights.append(w)
            self.pending = None
        return dout


class _TinyProblem:
    """Random inputs with random labels (nothing to generalize, only to memorize), and a
    factory of fresh ReLU MLPs d-64-64-K whose first layer is a spy."""

    def __init__(self, seed=None):
        if seed is None:
            self.data_seed, self.model_seed, self.N, self.d, self.k = 3, 4, 80, 12, 10
            self.n, self.epochs, self.lr = 20, None, None
        else:
            g = np.random.default_rng(seed)
            self.data_seed, self.model_seed = int(g.integers(10, 10_000)), int(g.integers(10, 10_000))
            self.N, self.d, self.k = int(g.integers(50, 91)), int(g.integers(8, 17)), int(g.integers(5, 11))
            self.n = int(g.choice([12, 16, 20, 24]))
            self.epochs, self.lr = [(80, 5e-3), (100, 3e-3), (120, 3e-3), (150, 2e-3), (100, 5e-3)][
                int(g.integers(5))]
        g = np.random.default_rng(self.data_seed)
        self.X, self.y = g.standard_normal((self.N, self.d)), g.integers(0, self.k, self.N)
        self.spies = []

    def make_model(self):
        g = np.random.default_rng(self.model_seed)
        spy = _Spy()
        self.spies.append(spy)
        model = Sequential(spy, Linear(self.d, 64, rng=g), ReLU(), Linear(64, 64, rng=g), ReLU(),
                           Linear(64, self.k, rng=g))
        model[5].W.data *= 0.1
        spy.watch = model[1]
        return model

    def kwargs(self):
        extra = {} if self.epochs is None else {"epochs": self.epochs, "lr": self.lr}
        return {"n": self.n, **extra}


def tiny_problem(seed=None):
    """(make_model, X, y) of check_overfit_tiny: what its hint's call uses. make_model builds a
    fresh ReLU MLP (first layer: an identity that records what the model is trained on)."""
    problem = _TinyProblem(seed)
    return problem.make_model, problem.X.copy(), problem.y.copy()


def _accuracy(model, X, y):
    was = model.training
    model.eval()
    pred = model.forward(X).argmax(axis=1)
    model.train(was)
    return pred, float(np.mean(pred == y))


@check()
def check_overfit_tiny(overfit_tiny, *, seed=None):
    """Check ``overfit_tiny(make_model, X, y, n=20, epochs=100, lr=3e-3) -> (model,
    train_acc)``: train a fresh ``make_model()`` with Adam(lr), full-batch, for ``epochs`` on the
    first n examples; return the trained model and its accuracy on those n examples (a
    fraction). Fixed data: 80 random inputs with random labels (nothing to generalize, only
    to memorize); the model records which examples it is trained on, how many steps it takes
    and how far its first step moves the weights. With a ``seed``: another problem (inputs,
    classes), another n, and other epochs and lr passed explicitly.

    Diagnoses: examples beyond the first n used for training (e.g. all of X), a different
    subset, some of the first n never used; mini-batches instead of full-batch steps; a model
    that was never trained or is not the one returned; 100 % not reached (too few steps, too
    small a rate, plain SGD); the `epochs` or `lr` argument ignored (another number of
    steps, a first Adam step that is not lr long); the accuracy measured on other examples,
    or as a percentage; X or y changed in place; return values of the wrong kind.
    """
    name = "overfit_tiny"
    problem = _TinyProblem(seed)
    X, y, n = problem.X, problem.y, problem.n
    kwargs = problem.kwargs()
    epochs, lr = kwargs.get("epochs", 100), kwargs.get("lr", 3e-3)
    call = Call(f"{name}(make_model, X, y, " + ", ".join(f"{a}={v:g}" for a, v in kwargs.items()) + ")",
                f"make_model, X, y = checks.practice.tiny_problem({_seed_arg(seed)})")
    X_in, y_in = X.copy(), y.copy()
    result = overfit_tiny(problem.make_model, X_in, y_in, **kwargs)
    if not (np.array_equal(X_in, X) and np.array_equal(y_in, y)):
        fail(f"{name} changed X or y in place; take the subset with X[:n], y[:n] and leave the "
             f"caller's arrays alone", call)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{name} should return a tuple (model, train_acc), got {type(result).__name__}", call)
    model, acc = result
    if not hasattr(model, "forward"):
        fail(f"The first value that {name} returned should be the trained model, got "
             f"{type(model).__name__}", call)
    acc = float(as_array(acc, f"{name}'s train_acc", call))
    spy = next((s for s in problem.spies if s is getattr(model, "layers", [None])[0]), None)
    if spy is None:
        fail(f"The model that {name} returned is not one built by make_model(); return the model "
             f"you trained", call)
    if not spy.trained:
        fail(f"The model that {name} returned was never trained (no backward pass reached it)", call)
    seen = np.concatenate(spy.trained)
    rows = {tuple(r) for r in seen}
    first = {tuple(r) for r in X[:n]}
    if not rows <= first:
        extra = len(rows - first)
        if rows >= {tuple(r) for r in X}:
            fail(f"{name} trained the model on all the examples. The check is about a TINY "
                 f"subset: train on X[:n], y[:n] only", call)
        fail(f"{name} trained the model on {extra} examples that are not among the first n; use "
             f"X[:n], y[:n]", call)
    if rows != first:
        fail(f"In {name}, {len(first - rows)} of the first n examples were never used in training", call)
    sizes = {len(b) for b in spy.trained}
    if sizes != {n}:
        fail(f"{name} trained with batches of sizes {sorted(sizes)}; take full-batch steps "
             f"(batch_size=n), so every step sees all n examples", call)
    _, own = _accuracy(model, X[:n], y[:n])
    if own < 1.0:
        fail(f"The model that {name} trained gets only {100 * own:.0f} % of the n training "
             f"examples right. A healthy set-up memorises so few examples: use Adam with the "
             f"given lr for the given number of epochs, with no regularization", call)
    if len(spy.trained) != epochs:
        fail(f"{name} took {len(spy.trained)} training steps for `epochs` full-batch epochs, one "
             f"step each: pass the `epochs` argument on to the training (not a number of your "
             f"own)", call)
    if len(spy.weights) == 2:
        moved = float(np.abs(spy.weights[1] - spy.weights[0]).max())
        if not 0.9 <= moved / lr <= 1.1:
            fail(f"{name}'s first training step moved the weights by up to {moved / lr:.2g} times "
                 f"lr. Adam's first step moves every weight by about lr, whatever its gradient: "
                 f"use cl.Adam(model.parameters(), lr=lr) with the `lr` argument", call)
    if close(acc, 100 * own):
        fail(f"The train_acc that {name} returned is a percentage; return a fraction between 0 "
             f"and 1", call)
    if not close(acc, own):
        if close(acc, _accuracy(model, X, y)[1]) or close(acc, _accuracy(model, X[n:], y[n:])[1]):
            fail(f"{name} returned train_acc = {acc:g}, measured on other examples; measure it on "
                 f"the n examples the model was trained on", call)
        fail(f"{name} returned train_acc = {acc:g}, which is not the returned model's accuracy "
             f"on X[:n]", call)
    passed("overfit_tiny")


# ------------------------------------------------------------- log-uniform sampling

_SAMPLER_CASES = ((1e-6, 1e-1, 0), (3e-5, 3e-2, 1))
_SAMPLES = 20_000


def sampler_cases(seed=None):
    """(low, high, rng seed) of check_log_uniform: two ranges of at least three decades."""
    if seed is None:
        return _SAMPLER_CASES
    g = np.random.default_rng(seed)
    cases = []
    for _ in range(2):
        low = float(f"{10 ** g.uniform(-7.0, -4.0):.1g}")
        decades = g.uniform(3.0, min(5.5, math.log10(0.5 / low)))
        cases.append((low, float(f"{low * 10 ** decades:.1g}"), int(g.integers(10, 10_000))))
    return tuple(cases)


def _ks_uniform(u):
    """Kolmogorov-Smirnov distance of the values u from U(0, 1)."""
    u = np.sort(u)
    n = len(u)
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


@check()
def check_log_uniform(sample_log_uniform, *, seed=None):
    """Check ``sample_log_uniform(low, high, size, rng)``: ``size`` values whose log10 is
    uniform on [log10 low, log10 high], drawn from ``rng``. Statistical, on 20,000 draws with
    fixed seeds, for (1e-6, 1e-1) and (3e-5, 3e-2): every value in [low, high], and the
    distribution of log10(values) within a Kolmogorov-Smirnov distance of 0.02 of uniform.
    With a ``seed``: other ranges (three decades or more) and generator seeds.

    Diagnoses: uniform sampling on the linear scale (most draws in the top decade); the
    misprinted exponent range 10 ** uniform(-3, 6); natural log and log10 mixed (10 **
    uniform(ln low, ln high) or exp(uniform(log10 low, log10 high))); low and high used as the
    exponents themselves; the exponents returned without 10 **; the global random state
    instead of rng, or no randomness at all (an evenly spaced np.logspace); a wrong shape;
    values outside [low, high].
    """
    name = "sample_log_uniform"
    for low, high, s in sampler_cases(seed):
        call = Call(f"{name}({low:g}, {high:g}, size={_SAMPLES}, rng=np.random.default_rng({s}))")
        v = as_array(sample_log_uniform(low, high, _SAMPLES, np.random.default_rng(s)),
                     f"{name}'s result", call)
        if v.shape != (_SAMPLES,):
            fail(f"{name} returned an array of shape {v.shape}, expected (size,)", call)
        again = np.asarray(sample_log_uniform(low, high, _SAMPLES, np.random.default_rng(s)),
                           dtype=np.float64)
        if not np.array_equal(v, again):
            fail(f"{name} gives different values on two calls with the same seeded rng: draw "
                 f"from the `rng` argument (rng.uniform), never from np.random's global state", call)
        other = np.asarray(sample_log_uniform(low, high, _SAMPLES, np.random.default_rng(s + 1)),
                           dtype=np.float64)
        if other.shape == v.shape and np.array_equal(np.sort(other), np.sort(v)):
            fail(f"{name} returned the same values for two generators with different seeds: it "
                 f"does not draw from `rng`. An evenly spaced sweep (np.logspace, np.geomspace) is "
                 f"a grid, not a random sample: use rng.uniform for the exponent", call)
        if not np.all(np.isfinite(v)):
            fail(f"{name} returned nan or inf values", call)
        if np.all(v < 0) and v.min() >= math.log10(low) - 1e-9 and v.max() <= math.log10(high) + 1e-9:
            fail(f"{name} returned the EXPONENTS (between log10 low and log10 high); return "
                 f"10 ** exponent", call)
        if np.any(v <= 0):
            fail(f"{name} returned values <= 0; a learning rate is positive", call)
        lv = np.log10(v)
        if lv.max() > 3 and abs(lv.min() + 3) < 0.1 and abs(lv.max() - 6) < 0.1:
            fail(f"{name} returned values from 1e-3 to 1e6: that is the misprinted recipe "
                 f"10 ** uniform(-3, 6). The exponents of useful learning rates are negative; "
                 f"sample the exponent between log10(low) and log10(high)", call)
        if v.min() >= 1.0 and v.max() <= 10 ** high + 1e-9:
            fail(f"{name} returned values between 10**low and 10**high: it used low and high as "
                 f"the exponents. The exponents are log10(low) and log10(high)", call)
        if v.min() >= low * (1 - 1e-9) and v.max() <= high * (1 + 1e-9):
            pass
        elif (lv.min() >= math.log(low) - 1e-9 and lv.max() <= math.log(high) + 1e-9) or (
                v.min() >= math.exp(math.log10(low)) * (1 - 1e-9)
                and v.max() <= math.exp(math.log10(high)) * (1 + 1e-9)):
            fail(f"{name} returned values outside [low, high] because natural log and log10 are "
                 f"mixed: 10 ** x undoes np.log10, np.exp undoes np.log. Use one base for both "
                 f"steps", call)
        else:
            fail(f"{name} returned values outside [low, high]", call)
        u = (lv - math.log10(low)) / (math.log10(high) - math.log10(low))
        if _ks_uniform(u) > 0.02:
            top = np.mean(v >= high / 10)
            if top > 0.5:
                fail(f"In {name}'s output, {100 * top:.0f} % of the values lie in the top decade "
                     f"[high / 10, high]: that is uniform sampling on the LINEAR scale. Sample the exponent "
                     f"uniformly and raise 10 to it, so every decade gets the same share", call)
            fail(f"In {name}, log10 of your values is not uniformly distributed between "
                 f"log10(low) and log10(high)", call)
    passed("log_uniform")


# ------------------------------------------------------------- random search

_SEARCH = dict(n_trials=400, lr_range=(1e-5, 1e-1), p_range=(0.1, 0.6), seed=0, best_lr=-2.5, best_p=0.3)


def search_setting(seed=None):
    """The setting of check_random_search: n_trials, lr_range, p_range, the generator's seed,
    and where the objective peaks (best_lr: its log10, best_p)."""
    if seed is None:
        return dict(_SEARCH)
    g = np.random.default_rng(seed)
    lo = int(g.integers(-7, -3))
    return dict(n_trials=int(g.choice([300, 400, 500])),
                lr_range=(10.0 ** lo, 10.0 ** (lo + int(g.integers(3, 6)))),
                p_range=(float(g.choice([0.05, 0.1])), float(g.choice([0.5, 0.6, 0.7]))),
                seed=int(g.integers(10, 10_000)),
                best_lr=round(float(lo + g.uniform(1.0, 3.0)), 2), best_p=round(float(g.uniform(0.2, 0.45)), 2))


def search_objective(seed=None):
    """The objective of check_random_search: a smooth score to maximize over (lr, p)."""
    s = search_setting(seed)
    return lambda lr, p: _score(lr, p, s["best_lr"], s["best_p"])


def _score(lr, p, best_lr=-2.5, best_p=0.3):
    """A smooth objective to maximize, best near lr = 10**best_lr, p = best_p."""
    return -((math.log10(lr) - best_lr) ** 2) - 4.0 * (p - best_p) ** 2


def _run_search(random_search, seed, setting=None):
    """Run random_search with a recording objective; ``seed`` is the generator's seed."""
    s = search_setting() if setting is None else setting
    calls = []

    def objective(lr, p):
        calls.append((float(lr), float(p)))
        return _score(float(lr), float(p), s["best_lr"], s["best_p"])

    result = random_search(objective, s["n_trials"], s["lr_range"], s["p_range"],
                           np.random.default_rng(seed))
    return result, calls


@check()
def check_random_search(random_search, *, seed=None):
    """Check ``random_search(objective, n_trials, lr_range, p_range, rng) -> (best, trials)``:
    ``n_trials`` calls objective(lr, p) with lr log-uniform in lr_range and p uniform in
    p_range, drawn from rng; ``trials`` lists {"lr", "p", "score"} in the order run, ``best``
    is the trial with the highest score. Driven with a recording objective (400 trials, lr in
    (1e-5, 1e-1), p in (0.1, 0.6), a fixed seed). With a ``seed``: another number of trials,
    other ranges, generator seed and objective.

    Diagnoses: a grid instead of random draws (few distinct values); lr sampled on the linear
    scale; p sampled on a log scale; either not distributed as it should be (a
    Kolmogorov-Smirnov distance above 0.12); values out of range; the global random state
    instead of rng; learning rates that do not depend on rng (an evenly spaced sweep); the wrong number of calls; trials that do not match the calls; the worst,
    the last or the first trial returned instead of the best; return values of the wrong kind.
    """
    name = "random_search"
    s = search_setting(seed)
    call = Call(f"{name}(objective, {s['n_trials']}, {s['lr_range']}, {s['p_range']}, "
                f"np.random.default_rng({s['seed']}))",
                f"objective = checks.practice.search_objective({_seed_arg(seed)})")
    result, calls = _run_search(random_search, s["seed"], s)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{name} should return a tuple (best, trials), got {type(result).__name__}", call)
    best, trials = result
    if len(calls) != s["n_trials"]:
        fail(f"{name} called the objective {len(calls)} times; it should run exactly n_trials "
             f"trials", call)
    if not isinstance(trials, (list, tuple)) or len(trials) != len(calls):
        fail(f"The trials that {name} returned should be a list of dicts, one per call of the "
             f"objective, in the order they were run", call)
    for i, (t, (lr, p)) in enumerate(zip(trials, calls)):
        if not isinstance(t, dict) or not {"lr", "p", "score"} <= set(t):
            fail(f"The trials[{i}] that {name} returned should be a dict with the keys 'lr', 'p' "
                 f"and 'score', got {t!r}", call)
        score = _score(lr, p, s["best_lr"], s["best_p"])
        if not (close(t["lr"], lr) and close(t["p"], p) and close(t["score"], score)):
            fail(f"The trials[{i}] = {t!r} that {name} returned does not match call {i} of the "
                 f"objective (lr={lr:g}, p={p:g}) and the score it returned", call)
    lrs = np.array([c[0] for c in calls])
    ps = np.array([c[1] for c in calls])
    (lo, hi), (plo, phi) = s["lr_range"], s["p_range"]
    if len(np.unique(lrs)) < len(lrs) / 2:
        fail(f"{name} tried only {len(np.unique(lrs))} distinct learning rates in {len(lrs)} "
             f"trials: that is a grid. Random search draws every trial's values afresh, so n "
             f"trials try n different learning rates", call)
    if lrs.min() < lo * (1 - 1e-9) or lrs.max() > hi * (1 + 1e-9):
        fail(f"{name} tried learning rates outside lr_range", call)
    if ps.min() < plo - 1e-9 or ps.max() > phi + 1e-9:
        fail(f"{name} tried values of p outside p_range", call)
    again = _run_search(random_search, s["seed"], s)[1]
    if again != calls:
        fail(f"Two runs of {name} with the same seeded rng tried different values: draw from the "
             f"`rng` argument, never from np.random's global state", call)
    other = _run_search(random_search, s["seed"] + 1, s)[1]
    if len(other) == len(calls) and sorted(c[0] for c in other) == sorted(lrs.tolist()):
        fail(f"{name} tried the same learning rates with a generator of another seed: they do not "
             f"come from `rng`. An evenly spaced sweep (np.geomspace) is a grid in disguise: draw "
             f"each trial's lr from rng, log-uniformly", call)
    top = float(np.mean(lrs >= hi / 10))
    if top > 0.6:
        fail(f"Of the learning rates that {name} tried, {100 * top:.0f} % lie in the top decade of "
             f"the range: they were sampled on the LINEAR scale. Sample lr log-uniformly: 10 ** "
             f"rng.uniform(log10(low), log10(high))", call)
    if _ks_uniform((np.log10(lrs) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) > 0.12:
        fail(f"In {name}, log10 of the learning rates is not uniformly distributed over the "
             f"range", call)
    low_half = float(np.mean(ps < (plo + phi) / 2))
    log_share = math.log((plo + phi) / 2 / plo) / math.log(phi / plo)    # that share if p ~ log-uniform
    if low_half > 0.5 + 0.65 * (log_share - 0.5):
        fail(f"Of the values of p that {name} tried, {100 * low_half:.0f} % lie in the lower half "
             f"of p_range: p was sampled on a log scale. A dropout rate is not a scale factor: "
             f"sample it uniformly, rng.uniform(low, high)", call)
    if _ks_uniform((ps - plo) / (phi - plo)) > 0.12:
        fail(f"The values of p that {name} tried are not uniformly distributed over p_range "
             f"(p is not uniformly distributed)", call)
    if not isinstance(best, dict) or not {"lr", "p", "score"} <= set(best):
        fail(f"The best that {name} returned should be one of the trials (best should be one of "
             f"the trials), a dict with 'lr', 'p' and 'score'; got {best!r}", call)
    scores = [_score(lr, p, s["best_lr"], s["best_p"]) for lr, p in calls]
    i_best = int(np.argmax(scores))
    if not (close(best["lr"], calls[i_best][0]) and close(best["p"], calls[i_best][1])):
        i_worst = int(np.argmin(scores))
        if close(best["lr"], calls[i_worst][0]) and close(best["p"], calls[i_worst][1]):
            fail(f"The best that {name} returned is the trial with the LOWEST score; the score is "
                 f"to be maximized (validation accuracy): return the highest", call)
        if close(best["lr"], calls[-1][0]) and close(best["p"], calls[-1][1]):
            fail(f"The best that {name} returned is the LAST trial run; keep the one with the "
                 f"highest score", call)
        if close(best["lr"], calls[0][0]) and close(best["p"], calls[0][1]):
            fail(f"The best that {name} returned is the FIRST trial; update it whenever a trial "
                 f"scores higher", call)
        fail(f"The best that {name} returned is not the trial with the highest score", call)
    passed("random_search")


# ------------------------------------------------------------- reading a learning-rate scan

LABELS = ("too low", "good", "too high")
_EXPECTED = {"flat": "too low", "flat dip": "too low", "good": "good", "plateau": "too high",
             "exploded": "too high", "spike": "too high"}


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


def _spike(first, at, peak, final, steps, seed):
    """A run that fell, jumped above 3x its first loss at step ``at``, and came back down."""
    head = _decay(first, 0.5 * first, 4.0, at, 0.03, seed)
    tail = _decay(peak, final, 6.0, steps - at, 0.1, seed + 1)
    return np.append(head, tail)


def _flat_dip(first, final, dip, steps, seed):
    """A flat curve (its last quarter's mean above half its first loss) whose very last value
    dips below half of the first loss."""
    curve = _decay(first, final, 40.0, steps, 0.02, seed)
    curve[-1] = dip
    return curve


def _scan(kind_rows, steps=136):
    """dict lr -> curve, and dict lr -> kind, from rows (lr, kind, recipe)."""
    curves, kinds = {}, {}
    for i, (lr, kind, recipe) in enumerate(kind_rows):
        if kind == "exploded":
            curves[lr] = _explode(2.3, *recipe, seed=i)
        elif kind == "spike":
            curves[lr] = _spike(2.3, *recipe, steps=steps, seed=200 + i)
        elif kind == "flat dip":
            curves[lr] = _flat_dip(2.3, *recipe, steps=steps, seed=300 + i)
        else:
            final, tau, noise = recipe
            curves[lr] = _decay(2.3, final, tau, steps, noise, seed=100 + i)
        kinds[lr] = kind
    return curves, kinds


def _scans():
    """The public synthetic scans (the second listed from the highest rate down, the third in
    no order), with the kind of each curve: flat, good, plateau, exploded, and in the third a
    flat curve whose last value dips (flat dip) and a run that spiked and came back (spike)."""
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
    three = _scan([
        (0.003, "good", (0.02, 12.0, 0.1)),       # ends lowest
        (1e-4, "flat dip", (1.45, 0.9)),          # level above half, last value below
        (0.1, "spike", (9, 8.5, 0.03)),           # jumped to 8.5 at step 9, then came back
        (0.001, "good", (0.05, 25.0, 0.08)),
        (0.03, "plateau", (0.3, 2.0, 0.3)),
        (1e-5, "flat", (2.1, 3000.0, 0.02)),
        (0.3, "exploded", (60, 7.4)),
    ])
    return one, two, three


def example_scans(seed=None):
    """The synthetic learning-rate scans that check_read_scan reads, as dicts lr -> loss
    curve (T,) (copies: change them freely). ``seed=None``: the three public scans; an integer:
    the scan of that hidden test (a tuple of one)."""
    scans = _scans() if seed is None else (hidden_scan(seed),)
    return tuple({lr: c.copy() for lr, c in curves.items()} for curves, _ in scans)


def _level(curve):
    return float(np.mean(curve[-max(1, len(curve) // 4):]))


def _rule_labels(curves):
    """The reading rule of the exercise, as the reference: dict lr -> label."""
    labels, level = {}, {}
    for lr, loss in curves.items():
        if loss.max() > 3 * loss[0]:
            labels[lr] = "too high"
        elif _level(loss) > 0.5 * loss[0]:
            labels[lr] = "too low"
        else:
            level[lr] = _level(loss)
    if level:
        ref = min(level, key=level.get)
        for lr, final in level.items():
            labels[lr] = "too high" if lr > ref and final > 3 * level[ref] else "good"
    return labels


def _reference_rate(curves, kinds):
    levels = {lr: _level(c) for lr, c in curves.items() if kinds[lr] in ("good", "plateau")}
    return min(levels, key=levels.get), levels


def hidden_scan(seed):
    """(curves, kinds) of a hidden test: a scan of 11 rates on a log grid, listed in a
    random order, with every kind of curve (flat, flat with a last-value dip, good ones below
    and above the rate that ends lowest, a plateau, a spike that came back, explosions)."""
    g = np.random.default_rng(seed)
    while True:
        first = round(float(g.uniform(1.8, 2.6)), 2)
        steps = int(g.integers(100, 161))
        start, per_decade = float(g.uniform(-6.0, -4.5)), int(g.choice([2, 3]))
        rates = [float(f"{10 ** (start + i / per_decade):.3g}") for i in range(12)]
        ref_level = first * float(g.uniform(0.004, 0.01))
        kinds = ["flat", "flat dip", "good", "good", "good", "good", "good", "plateau", "spike",
                 "exploded", "exploded"]
        rows = []
        for i, (lr, kind) in enumerate(zip(rates, kinds)):
            s = int(g.integers(10_000))
            if kind == "flat":
                curve = _decay(first, first * g.uniform(0.65, 0.9), g.uniform(300, 3000), steps, 0.02, s)
            elif kind == "flat dip":
                curve = _flat_dip(first, first * g.uniform(0.6, 0.7), first * g.uniform(0.3, 0.45), steps, s)
            elif kind == "good":
                factor = {2: g.uniform(6.0, 20.0), 3: g.uniform(1.2, 2.5), 4: g.uniform(1.2, 2.5),
                          5: 1.0, 6: g.uniform(1.7, 2.5)}[i]    # 2: slow; 5: ends lowest; 6: above it
                curve = _decay(first, ref_level * factor, 40.0 / (i - 1), steps, 0.05 + 0.02 * i, s)
            elif kind == "plateau":
                curve = _decay(first, ref_level * g.uniform(8.0, 30.0), 2.0, steps, 0.3, s)
            elif kind == "spike":
                curve = _spike(first, int(g.integers(5, 15)), first * g.uniform(3.5, 5.0),
                               ref_level * g.uniform(1.2, 2.0), steps, s)
            elif i == len(kinds) - 2:                # stopped after many steps
                curve = _explode(first, int(g.integers(30, steps // 2)), first * g.uniform(3.1, 4.0), s,
                                 level=first * 0.4)
            else:                                    # stopped at once
                curve = _explode(first, 1, first * g.uniform(5.0, 20.0), s)
            rows.append((lr, kind, curve))
        order = g.permutation(len(rows))
        curves = {rows[j][0]: rows[j][2] for j in order}
        kinds_of = {rows[j][0]: rows[j][1] for j in order}
        if _scan_is_sound(curves, kinds_of):
            return curves, kinds_of


def _scan_is_sound(curves, kinds):
    """Every curve is what its kind says, so that each misreading shows: the rule gives the
    kind's label, the dip and the spike deceive a reader of the last value only, and a long run
    stopped by the guard deceives a reader of the final level."""
    labels = _rule_labels(curves)
    if any(labels[lr] != _EXPECTED[k] for lr, k in kinds.items()):
        return False
    ref, levels = _reference_rate(curves, kinds)
    for lr, kind in kinds.items():
        c = curves[lr]
        if kind == "flat dip" and not (c[-1] < 0.5 * c[0] < _level(c)):
            return False
        if kind == "spike" and not (c[-1] < 3 * c[0] and _level(c) < 0.5 * c[0] and c[:-5].max() > 3 * c[0]):
            return False
    if not any(k == "exploded" and len(curves[lr]) > 8 and _level(curves[lr]) < 3 * curves[lr][0]
               for lr, k in kinds.items()):
        return False
    goods = [lr for lr, k in kinds.items() if k == "good"]
    position = {lr: i for i, lr in enumerate(curves)}
    if not any((position[lr] > position[ref]) != (lr > ref) and levels[lr] > 3 * levels[ref]
               for lr in levels):
        return False                 # the listed order must matter: a rate above it listed before
    return (any(lr < ref and levels[lr] > 3 * levels[ref] for lr in goods)
            and any(lr > ref and 1.5 * levels[ref] < levels[lr] <= 3 * levels[ref] for lr in goods))


_WRONG = {
    "exploded": "its loss went above 3x its first value, so the explosion guard stopped the run: "
                "a run that explodes says the rate is 'too high'. Judge explosion by the largest "
                "loss of the curve, not by its final level (the mean of its last quarter) or its "
                "last value",
    "spike": "its loss went above 3x its first value at some step and then came back down: it "
             "exploded, which says 'too high', even though it ends low. Judge explosion by the "
             "largest loss of the WHOLE curve (loss.max()), not by its last value or final level",
    "flat": "its loss has not even halved (the mean of its last quarter is above half of its "
            "first loss): flat or barely falling says the rate is 'too low'",
    "flat dip": "its final level, the mean of its last quarter, is still above half of its first "
                "loss: it has not even halved, which says 'too low'. Only its very last value "
                "dips below half; judge the final level by the mean of the last quarter "
                "(loss[-max(1, len(loss) // 4):].mean()), not by the last value of a noisy curve",
    "plateau": "it is a HIGHER rate than the one whose curve ends lowest, and its final level "
               "(last quarter) is more than 3x that one's: it dropped fast, then stalled, which "
               "says 'too high'",
}


def _good_hint(lr, label, ref):
    if label == "too low":
        return ("its loss fell below half of its first value, so it is not flat: 'too low' is "
                "for curves that have not even halved")
    if lr < ref:
        return ("it is a LOWER rate than the one that ends lowest; ending higher than a larger "
                "rate means slower, not a plateau. The plateau rule only applies to rates above "
                "that one")
    return ("it ends within 3x of the final level of the rate that ends lowest; only a rate that "
            "ends MORE than 3x higher has stalled on a plateau")


@check()
def check_read_scan(read_scan, *, seed=None):
    """Check ``read_scan(curves) -> dict lr -> "too low" | "good" | "too high"`` on three fixed
    synthetic scans (``example_scans()``), the second listed from the highest rate down, the
    third in no order. The reading rule: a curve whose loss exceeds 3x its first value
    exploded ("too high"); else a curve whose last quarter is still above half its first loss
    is flat ("too low"); of the rest, the rate whose last quarter is lowest is the reference,
    and a HIGHER rate that ends more than 3x above it stalled on a plateau ("too high"); all
    others are "good". With a ``seed``: another scan with every kind of curve, listed in a
    random order (``example_scans(seed)``).

    Diagnoses, per curve read wrongly: an explosion missed (e.g. only inf/nan looked for, or
    explosion judged on the final level); a run that spiked above 3x and came back, missed by
    a reader of the last value; a flat curve not read as too low, and in particular one whose
    last value dips below half while its final level (the mean of its last quarter) does not
    (the level judged on the last value); a plateau missed; a slow rate below the best one
    read as a plateau; a rate above the best one that ends within 3x read as too high; a curve
    that halved read as too low. Also: labels outside the three words, missing or extra
    rates, a result of the wrong kind, the curves changed in place.
    """
    name = "read_scan"
    if seed is None:
        scans = [(curves, kinds, f"scan = checks.practice.example_scans()[{i}]")
                 for i, (curves, kinds) in enumerate(_scans())]
    else:
        curves, kinds = hidden_scan(seed)
        scans = [(curves, kinds, f"scan = checks.practice.example_scans(seed={seed})[0]")]
    for curves, kinds, setup in scans:
        call = Call(f"{name}(scan)", setup)
        given = {lr: c.copy() for lr, c in curves.items()}
        got = read_scan(given)
        if any(not np.array_equal(given[lr], curves[lr]) for lr in curves):
            fail(f"{name} changed the curves in place", call)
        if not isinstance(got, dict):
            fail(f"{name} should return a dict lr -> label, got {type(got).__name__}", call)
        if set(got) != set(curves):
            fail(f"The result of {name} should have exactly the learning rates of `curves` as "
                 f"keys ({len(set(curves) - set(got))} missing, {len(set(got) - set(curves))} "
                 f"extra)", call)
        bad = sorted({str(v) for v in got.values() if v not in LABELS})
        if bad:
            fail(f"{name} returned other labels than the three words: labels must be one of "
                 f"{LABELS}; got {bad}", call)
        ref, _ = _reference_rate(curves, kinds)
        for kind in ("spike", "flat dip", "exploded", "flat", "plateau", "good"):
            for lr in sorted(curves):
                if kinds[lr] != kind:
                    continue
                label = got[lr]
                one = Call(f"{name}(scan)[{lr!r}]", setup)
                if kind == "good" and label != "good":
                    fail(f"{name} read a curve as '{label}', but {_good_hint(lr, label, ref)}", one)
                if kind == "plateau" and label == "too low":
                    fail(f"{name} read a curve as 'too low', but its loss fell below half of its "
                         f"first value, so it is not flat; {_WRONG[kind]}", one)
                if kind != "good" and label != _EXPECTED[kind]:
                    fail(f"{name} read a curve as '{label}', but {_WRONG[kind]}", one)
    passed("read_scan")


# ------------------------------------------------------------- which layer mixes the examples?

class BatchCentre(Module):
    """A planted bug: subtracts the mean over the BATCH (axis 0) instead of over the features,
    so every output row depends on every input row. out = x - mean_over_batch(x);
    dx = dout - mean_over_batch(dout). Shapes: (N, D) -> (N, D)."""

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x - x.mean(axis=0, keepdims=True)

    def backward(self, dout):
        return dout - dout.mean(axis=0, keepdims=True)

    def __repr__(self):
        return "BatchCentre()"


class BatchRoll(Module):
    """A planted bug: a reshape gone wrong that shifts the rows by one, out_i = x_(i-1): each
    output row depends on ANOTHER example's input only. Shapes: (N, D) -> (N, D)."""

    def forward(self, x):
        return np.roll(np.asarray(x, dtype=np.float64), 1, axis=0)

    def backward(self, dout):
        return np.roll(dout, -1, axis=0)

    def __repr__(self):
        return "BatchRoll()"


def _mixer(kind, width):
    return {"batchnorm": lambda: BatchNorm1d(width), "centre": BatchCentre, "roll": BatchRoll}[kind]()


def _mixing_model(d, widths, mixer=None, at=None, dropout=None, seed=0, k=5):
    """Linear/ReLU blocks d -> widths... -> k, with the layer ``mixer`` inserted so that it gets
    index ``at`` (counted over the final list of layers), and optional dropout after the first
    ReLU. Returns a factory of fresh models."""
    def make():
        g = np.random.default_rng(seed)
        layers, fan_in = [], d
        for i, w in enumerate(widths):
            layers += [Linear(fan_in, w, rng=g), ReLU()]
            if i == 0 and dropout:
                layers.append(Dropout(dropout, rng=np.random.default_rng(seed + 1)))
            fan_in = w
        layers.append(Linear(fan_in, k, rng=g))
        if mixer is not None:          # the mixer gets the width of the last Linear before it
            layers.insert(at, _mixer(mixer, _width_at(layers, at - 1, d)))
        return Sequential(*layers)
    return make


def _width_at(layers, i, d):
    """The width of the activation after layers[:i + 1] (d, the input's, if no Linear)."""
    for layer in reversed(layers[: i + 1]):
        if isinstance(layer, Linear):
            return layer.out_features
    return d


class _MixingCase:
    def __init__(self, what, make_model, X, mode):
        self.what, self.make_model, self.X, self.mode = what, make_model, X, mode

    def model(self):
        model = self.make_model()
        model.train(self.mode == "training")
        return model

    def answer(self, mode=None):
        """The index of the first layer that mixes, testing in ``mode`` (default: the case's)."""
        from ..sanity import locate_batch_mixing
        model = self.make_model()
        model.train((mode or self.mode) == "training")
        return locate_batch_mixing(model, self.X, examples=3, seed=0).first


def _mixing_variants(cases):
    """What find_mixing_layer returns under each reading of the task, case by case."""
    out = {"correct": [], "eval": [], "train": [], "own": [], "plus one": [], "minus one": [],
           "output": [], "last": [], "dropout": []}
    for c in cases:
        right, model = c.answer(), c.make_model()
        n = len(model)
        drops = [k for k, layer in enumerate(model) if isinstance(layer, Dropout)]
        # two forward passes compared: a training-mode dropout draws a new mask and looks like mixing
        if c.mode == "training" and drops and (right is None or drops[0] < right):
            out["dropout"].append(drops[0])
        else:
            out["dropout"].append(right)
        out["correct"].append(right)
        out["eval"].append(c.answer("eval"))
        out["train"].append(c.answer("training"))
        out["own"].append(0)
        out["plus one"].append(None if right is None else right + 1)
        out["minus one"].append(None if right is None else right - 1)
        out["output"].append(None)
        out["last"].append(None if right is None else n - 1)
    return out


def mixing_setting(seed=None):
    """The cases of check_find_mixing_layer: a list of _MixingCase. Public (16 examples of 8
    features): an MLP with BatchNorm at index 1 in training mode; an MLP with a layer that
    centres across the batch at index 3; an MLP with dropout that mixes nothing; a model whose
    first layer (index 0) shifts the batch by one row; the BatchNorm MLP in eval mode. Hidden:
    the same five kinds with other sizes, batch, mixing layers (BatchNorm, batch centring, a
    row shift) and positions, drawn until every wrong reading gives its own answers."""
    if seed is None:
        g = np.random.default_rng(5)
        X = g.standard_normal((16, 8))
        cases = [
            _MixingCase("an MLP with BatchNorm, in training mode", _mixing_model(8, (12,), "batchnorm", 1, seed=1),
                        X, "training"),
            _MixingCase("an MLP with a layer that centres each feature over the batch",
                        _mixing_model(8, (12, 12), "centre", 3, seed=2), X, "training"),
            _MixingCase("an MLP with dropout", _mixing_model(8, (12,), dropout=0.3, seed=3), X, "training"),
            _MixingCase("a model whose first layer shifts the batch by one row",
                        _mixing_model(8, (12,), "roll", 0, seed=4), X, "training"),
            _MixingCase("the BatchNorm MLP in eval mode", _mixing_model(8, (12,), "batchnorm", 1, seed=1),
                        X, "eval"),
        ]
        return cases
    g = np.random.default_rng(seed)
    while True:
        d, n = int(g.integers(5, 13)), int(g.integers(8, 41))
        X = g.standard_normal((n, d))
        w = lambda: int(g.integers(6, 17))                             # noqa: E731
        s = [int(v) for v in g.integers(10, 10_000, 4)]
        depth = int(g.integers(1, 3))
        bn_at = int(g.choice([1, 3])) if depth == 2 else 1
        widths_bn = tuple(w() for _ in range(depth))
        other = str(g.choice(["centre", "roll"]))
        widths_mix = tuple(w() for _ in range(int(g.integers(2, 4))))
        mix_at = int(g.integers(1, 2 * len(widths_mix) + 1))
        first_kind = str(g.choice(["centre", "roll", "batchnorm"]))
        cases = [
            _MixingCase("an MLP with BatchNorm, in training mode",
                        _mixing_model(d, widths_bn, "batchnorm", bn_at, seed=s[0]), X, "training"),
            _MixingCase("an MLP with a layer that mixes the batch", _mixing_model(d, widths_mix, other, mix_at, seed=s[1]),
                        X, "training"),
            _MixingCase("an MLP with dropout", _mixing_model(d, (w(), w()), dropout=float(g.uniform(0.2, 0.5)), seed=s[2]),
                        X, "training"),
            _MixingCase("a model whose first layer mixes the batch", _mixing_model(d, (w(),), first_kind, 0, seed=s[3]),
                        X, "training"),
            _MixingCase("the BatchNorm MLP in eval mode",
                        _mixing_model(d, widths_bn, "batchnorm", bn_at, seed=s[0]), X, "eval"),
        ]
        patterns = [tuple(v) for v in _mixing_variants(cases).values()]
        if len(set(patterns)) == len(patterns):
            return cases


def mixing_case(i, seed=None):
    """(model, X) of case i (from 1) of check_find_mixing_layer, the model in the case's mode:
    what its hint's call uses."""
    case = mixing_setting(seed)[i - 1]
    return case.model(), case.X.copy()


_MIXING_HINTS = {
    "eval": "found no mixing layer (or a later one) in a model with BatchNorm in TRAINING mode. In "
            "training mode BatchNorm normalizes with the mean and variance of the batch itself, so "
            "each output depends on every input. Did you switch to eval mode (model.eval(), or a "
            "helper that evaluates)? Test the model in the mode it is given",
    "train": "reports a mixing layer in a model that was given in EVAL mode, where BatchNorm uses "
             "its running statistics and treats each example on its own. Do not call model.train(): "
             "test the model in the mode it is in",
    "own": "reports the very first layer, in every model, also in one that treats examples "
           "separately. The row of example i itself is of course nonzero in the input gradient: "
           "look only at the rows j != i",
    "plus one": "returns an index one too high. Layers are counted from 0: model[k] is the layer at "
                "index k, and the prefix model[:k + 1] is the first one that contains it",
    "minus one": "returns an index one too low. Layers are counted from 0, and the mixing layer is "
                 "the LAST layer of the first prefix model[:k + 1] that fails: return that k",
    "output": "never finds a mixing layer. The output (and the upstream gradient dout you build) is "
              "zero outside row i by construction; the dependency shows in the gradient with "
              "respect to the INPUT, the array that prefix.backward(dout) returns",
    "last": "returns the index of the LAST layer whenever a model mixes. Test every prefix "
            "model[:k + 1], k = 0, 1, ..., and return the first k that fails",
    "dropout": "reports a Dropout layer as mixing the examples. In training mode every forward pass "
               "draws a new mask, so two forward passes differ even though no example depends on "
               "another. Make ONE forward pass and backpropagate from one row of the output",
}


def _flags(model):
    return [m.training for m in model.modules()]


@check()
def check_find_mixing_layer(find_mixing_layer, *, seed=None):
    """Check ``find_mixing_layer(model, X) -> index or None``: the index (from 0) of the first
    layer of the Sequential ``model`` whose output for some example depends on another
    example's input, tested in the model's current mode, or None if no layer mixes. Five fixed
    cases (``mixing_case(i)``): BatchNorm at index 1 in training mode, a layer that centres
    over the batch at index 3, a dropout MLP (no mixing), a row shift at index 0, and the
    BatchNorm MLP in eval mode (no mixing). With a ``seed``: other sizes, batches, mixing
    layers and positions.

    Diagnoses: the test made in eval mode (BatchNorm in training mode missed) or in forced
    training mode (BatchNorm in eval mode reported); example i's own row counted (every model
    "mixes" at layer 0); an index one too high or one too low; never a mixing layer (the
    output or the upstream gradient inspected instead of the input gradient); the last layer
    returned (only the whole model tested); a training-mode Dropout reported (two forward
    passes compared, each with its own mask); the model's mode changed; X changed in place;
    return values that are not an int or None.
    """
    name = "find_mixing_layer"
    cases = mixing_setting(seed)
    arg = "" if seed is None else f", seed={seed}"
    got = []
    for i, case in enumerate(cases):
        call = Call(f"{name}(model, X)", f"model, X = checks.practice.mixing_case({i + 1}{arg})")
        model, X = case.model(), case.X.copy()
        before = _flags(model)
        result = find_mixing_layer(model, X)
        if not np.array_equal(X, case.X):
            fail(f"{name} changed X in place; the test only reads the batch", call)
        if _flags(model) != before:
            fail(f"{name} changed the model's mode (training/eval). The answer depends on the mode "
                 f"(BatchNorm mixes only in training mode): test the model as it is given, and "
                 f"leave it that way", call)
        if result is not None and (isinstance(result, (bool, np.bool_))
                                   or not isinstance(result, (int, np.integer))):
            fail(f"{name} should return the index of a layer (an int) or None, got "
                 f"{type(result).__name__} {result!r}", call)
        got.append(None if result is None else int(result))
    variants = _mixing_variants(cases)
    want = variants.pop("correct")
    if got != want:
        wrong = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
        call = Call(f"[{name}(*checks.practice.mixing_case(i{arg})) for i in range(1, {len(cases) + 1})]")
        for variant, hint in _MIXING_HINTS.items():
            if got == variants[variant]:
                fail(f"{name} {hint}", call)
        i = wrong[0]
        one = Call(f"{name}(model, X)", f"model, X = checks.practice.mixing_case({i + 1}{arg})")
        if want[i] is None:
            fail(f"{name} returned {got[i]} for {cases[i].what}, where no layer mixes the examples: "
                 f"every row j != i of the input gradient is exactly 0 there", one)
        fail(f"{name} returned {got[i]} for {cases[i].what}: that is not the first layer whose "
             f"prefix makes one example's output depend on another example's input", one)
    passed("find_mixing_layer")
