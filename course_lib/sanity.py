"""Two sanity checks from Karpathy's "A Recipe for Training Neural Networks" (2019).

``batch_independence``: the output for example i must not depend on the input of any other
example j, so the gradient of example i's output with respect to x_j must be exactly zero.
A nonzero value means something mixes the examples of a batch: a reshape or transpose that
crosses the batch axis, a mean taken over the wrong axis, or BatchNorm in training mode (which
mixes by design: it normalizes with the batch's own statistics). ``locate_batch_mixing`` runs
the test on every prefix ``model[:k]`` and names the first layer that mixes.
``input_independent_baseline``: train the same set-up twice, on the real inputs and on inputs
set to zero. The second run can only learn what the labels alone give (their frequencies);
the real run must beat it, or the network is not using its input.
Both are re-exported by ``cl.diagnostics``.
Introduced in notebooks/08_training_in_practice.ipynb.
"""
import copy

import numpy as np

from .losses import BCEWithLogits, MSELoss, SoftmaxCrossEntropy
from .module import Module, Sequential
from .rng import get_rng, make_rng, seeds
from .train import EarlyStopping, fit


# ---------------------------------------------------------------------------------------------
# batch independence
# ---------------------------------------------------------------------------------------------

class BatchIndependence:
    """What ``batch_independence`` found.

    ``independent``: the verdict (also ``bool(result)``): for every tested example i,
    max_{j != i} |dx_j| <= atol + rtol * max |dx_i|. ``max_abs``: the largest cross-example
    gradient |d(r . out_i)/d x_j| over the tested i and all j != i; ``max_rel``: the largest
    ratio of that to example i's own gradient max |dx_i| (inf when the own gradient is 0 but a
    cross one is not). ``pair``: (i, j) where ``max_abs`` occurs. ``examples``: the tested i;
    ``cross``, ``own``, ``rel``: per tested i. ``mode``: "training" or "eval".
    """

    def __init__(self, examples, cross, own, partner, mode, rtol, atol, model=None):
        self.examples = [int(i) for i in examples]
        self.cross, self.own = np.asarray(cross, float), np.asarray(own, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(self.cross == 0, 0.0, self.cross / self.own)
        self.rel = np.where(np.isnan(rel), np.inf, rel)
        self.mode, self.rtol, self.atol = mode, float(rtol), float(atol)
        self.independent = bool(np.all(self.cross <= self.atol + self.rtol * self.own))
        k = int(np.argmax(self.cross))
        self.max_abs = float(self.cross[k])
        self.max_rel = float(self.rel.max())
        self.pair = (self.examples[k], int(partner[k]))
        self.model = model

    def __bool__(self):
        return self.independent

    def __repr__(self):
        i, j = self.pair
        head = f"batch independence ({self.mode} mode, examples {self.examples}): "
        if self.independent:
            return (head + f"PASSED — no example's output depends on another example's input "
                    f"(largest cross-example gradient {self.max_abs:.1e})")
        return (head + f"FAILED — the output of example {i} depends on the input of example {j}: "
                f"max |d out_{i} / d x_{j}| = {self.max_abs:.3g}, {self.max_rel:.3g} times example "
                f"{i}'s own gradient (tolerance {self.atol:g} + {self.rtol:g} x own)")


def _batch(X, owner):
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: X must be a numeric array (a batch of inputs)") from None
    if X.ndim < 2 or X.shape[0] < 2:
        raise ValueError(f"{owner}: X must be a batch of at least 2 examples, shape (N, D) with "
                         f"N >= 2 (the test compares examples), got shape {X.shape}")
    return X


def _examples(examples, n, rng, owner):
    if isinstance(examples, (int, np.integer)) and not isinstance(examples, bool):
        if not 1 <= examples <= n:
            raise ValueError(f"{owner}: examples must be between 1 and N = {n} (how many examples "
                             f"to test), got {examples}")
        return sorted(int(i) for i in rng.choice(n, size=int(examples), replace=False))
    try:
        idx = [int(i) for i in examples]
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: examples must be a count or a list of example indices, got "
                        f"{examples!r}") from None
    if not idx or min(idx) < 0 or max(idx) >= n or len(set(idx)) != len(idx):
        raise ValueError(f"{owner}: examples must be distinct indices in [0, {n}), got {idx}")
    return idx


class _NoTrace:
    """Put back every parameter gradient and buffer (BatchNorm's running statistics) of a
    model after the probe: the test must not change what training does next."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.grads = [(p, p.grad.copy()) for p in self.model.parameters()]
        self.state = self.model.state_dict()
        return self

    def __exit__(self, *exc):
        for p, g in self.grads:
            p.grad[...] = g
        self.model.load_state_dict(self.state)
        return False


def batch_independence(model, X, examples=4, seed=None, rtol=1e-9, atol=1e-12):
    """Karpathy's test: does example i's output depend on any other example's input?

    One forward pass of the batch in the model's CURRENT mode, then for each tested example i
    a backward pass of the upstream gradient that is a random vector r (seeded) in row i and 0
    elsewhere, i.e. the gradient of the scalar r . out_i:
        dx = model.backward(dout),  cross_i = max_{j != i} max |dx_j|,  own_i = max |dx_i|.
    A model that treats examples separately gives cross_i = 0 exactly (the zero rows of dout
    stay zero through every row-wise layer); the verdict allows atol + rtol * own_i.
    BatchNorm in training mode fails by design (cross_i / own_i is of order 1/N); in eval
    mode it passes. No autograd: the model's own backward pass is the test.
    ``examples``: how many examples to test (chosen at random) or a list of indices. ``seed``:
    int or Generator for the choice and for r; None derives it from COURSE_SEED
    (``make_rng(0)``). Parameter gradients and buffers are put back afterwards; in training
    mode a Dropout layer does draw one mask (from its own generator).
    Shapes: X (N, D) with N >= 2; the model's output must keep one row per example.
    Returns a BatchIndependence. Introduced in notebooks/08_training_in_practice.ipynb.
    """
    owner = "batch_independence"
    if not isinstance(model, Module):
        raise TypeError(f"{owner}: model must be a course_lib Module (with forward and backward), "
                        f"got {type(model).__name__}")
    X = _batch(X, owner)
    n = X.shape[0]
    rng = make_rng(0) if seed is None else get_rng(seed)
    idx = _examples(examples, n, rng, owner)
    cross, own, partner = [], [], []
    with _NoTrace(model):
        out = np.asarray(model.forward(X))
        if out.ndim < 1 or out.shape[0] != n:
            raise ValueError(f"{owner}: {n} examples went in but the output has shape {out.shape}: "
                             f"the model does not keep one output row per example (a reshape or "
                             f"a reduction over the batch axis?) — that alone mixes examples")
        for i in idx:
            dout = np.zeros_like(out, dtype=np.float64)
            dout[i] = rng.standard_normal(out.shape[1:])
            dx = np.asarray(model.backward(dout))
            if dx.shape != X.shape:
                raise ValueError(f"{owner}: model.backward returned shape {dx.shape}, expected the "
                                 f"input's shape {X.shape}")
            size = np.abs(dx).reshape(n, -1).max(axis=1)
            own.append(size[i])
            size[i] = -np.inf
            j = int(np.argmax(size))
            cross.append(size[j])
            partner.append(j)
    mode = "training" if model.training else "eval"
    return BatchIndependence(idx, cross, own, partner, mode, rtol, atol, model)


class BatchMixing:
    """The test on every prefix of a Sequential: ``results[k - 1]`` is the test of
    ``model[:k]`` (the first k layers). ``first``: the index of the first layer whose prefix
    fails (the layer that mixes the examples), None if none does; ``layer``: that layer."""

    def __init__(self, model, results):
        self.model, self.results = model, results
        failing = [k for k, r in enumerate(results) if not r.independent]
        self.first = failing[0] if failing else None
        self.layer = model[self.first] if failing else None

    def __repr__(self):
        lines = [f"{'layer':<42}{'max cross-grad':>16}{'relative':>10}  verdict"]
        for k, r in enumerate(self.results):
            name = f"{k}: {self.model[k]!r}".splitlines()[0][:41]
            lines.append(f"{name:<42}{r.max_abs:16.2e}{r.max_rel:10.2e}  "
                         f"{'independent' if r.independent else 'MIXES'}")
        if self.first is None:
            lines.append("no layer mixes the examples of a batch")
        else:
            lines.append(f"the first layer that mixes examples is layer {self.first}: "
                         f"{self.layer!r}".splitlines()[0])
        return "\n".join(lines)


def locate_batch_mixing(model, X, examples=4, seed=None, rtol=1e-9, atol=1e-12):
    """Which layer mixes the examples? ``batch_independence`` on every prefix model[:k].

    The prefix model[:k] passes as long as layers 0..k-1 treat examples separately; the first
    failing prefix ends at the layer that mixes (later prefixes usually fail too). Every prefix
    is tested on the same examples with the same random vectors (one seed), in the model's
    current mode. Top-level layers only: a nested Sequential counts as one layer.
    Shapes: X (N, D) with N >= 2. Returns a BatchMixing.
    Introduced in notebooks/08_training_in_practice.ipynb (the exercise "find the layer that
    mixes examples").
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"locate_batch_mixing needs a Sequential (it tests the prefixes model[:k]), "
                        f"got {type(model).__name__}; use batch_independence for other models")
    if not len(model):
        raise ValueError("locate_batch_mixing: the Sequential has no layers")
    if seed is None:
        seed = seeds(1)[0]
    elif isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2 ** 32))
    results = []
    for k in range(1, len(model) + 1):
        prefix = model[:k]
        prefix.training = model.training
        results.append(batch_independence(prefix, X, examples, seed, rtol, atol))
    return BatchMixing(model, results)


# ---------------------------------------------------------------------------------------------
# input-independent baseline
# ---------------------------------------------------------------------------------------------

def _label_only(loss_fn, y, val_y, k=None):
    """The losses of the best input-independent predictor, fitted to the training labels."""
    y = np.asarray(y)
    out = {}
    if isinstance(loss_fn, SoftmaxCrossEntropy):
        def target(labels):
            labels = np.asarray(labels)
            t = np.eye(k)[labels.astype(int)] if labels.ndim == 1 else labels.astype(float)
            a = loss_fn.label_smoothing
            return ((1 - a) * t + a / k).mean(axis=0)
        q = target(y)
        logq = np.log(np.where(q > 0, q, 1.0))
        out["train_loss"] = float(-(q * logq).sum())
        majority = int(np.argmax(q))
        if val_y is not None:
            qv = target(val_y)
            out["val_loss"] = float(-(qv * logq).sum()) if np.all(q[qv > 0] > 0) else float("inf")
            gold = np.asarray(val_y) if np.asarray(val_y).ndim == 1 else np.asarray(val_y).argmax(axis=1)
            out["val_acc"] = float(np.mean(gold == majority))
    elif isinstance(loss_fn, MSELoss):
        c = y.astype(float).mean(axis=0)
        out["train_loss"] = float(np.mean((y - c) ** 2))
        if val_y is not None:
            out["val_loss"] = float(np.mean((np.asarray(val_y, float) - c) ** 2))
    elif isinstance(loss_fn, BCEWithLogits):
        p = y.astype(float).mean(axis=0)

        def bce(t):
            with np.errstate(divide="ignore", invalid="ignore"):
                lp, l1p = np.log(p), np.log1p(-p)
            return float(np.mean(-(np.where(t > 0, t * lp, 0.0) + np.where(t < 1, (1 - t) * l1p, 0.0))))
        out["train_loss"] = bce(y.astype(float))
        if val_y is not None:
            out["val_loss"] = bce(np.asarray(val_y, float))
    else:
        return None
    return out


class BaselineComparison:
    """The same training on real inputs (``real``) and on zeros (``zero``): two Histories.

    ``models``: the two trained models (real, zero). ``label_only``: the losses of the best
    constant prediction fitted to the training labels (for cross-entropy: the entropy of the
    label frequencies, -sum_k q_k log q_k; for MSE: the variance of y), what the zero-input
    run can reach at best; None for other losses. ``metric``: "val_loss" when a validation
    set was given, else "train_loss"; ``beats_baseline``: the real run's final ``metric`` is
    below the zero-input run's.
    """

    def __init__(self, real, zero, models, label_only, metric):
        self.real, self.zero, self.models = real, zero, models
        self.label_only, self.metric = label_only, metric

    def final(self, key=None):
        """(real, zero) final value of ``key`` (default ``metric``): e.g. "val_acc"."""
        key = key or self.metric
        a, b = getattr(self.real, key), getattr(self.zero, key)
        if not a or not b:
            raise ValueError(f"BaselineComparison: the runs recorded no {key!r}")
        return a[-1], b[-1]

    @property
    def beats_baseline(self):
        real, zero = self.final()
        return bool(real < zero)

    def __repr__(self):
        rows = [("train_loss", "train loss"), ("val_loss", "val loss"), ("val_acc", "val accuracy")]
        lines = [f"{'':<14}{'real inputs':>13}{'zero inputs':>13}{'labels alone':>14}"]
        for key, name in rows:
            a, b = getattr(self.real, key), getattr(self.zero, key)
            if not a or not b:
                continue
            best = (self.label_only or {}).get(key)
            lines.append(f"{name:<14}{a[-1]:13.4f}{b[-1]:13.4f}"
                         + (f"{best:14.4f}" if best is not None else f"{'—':>14}"))
        real, zero = self.final()
        verdict = ("the real inputs beat the labels alone" if self.beats_baseline else
                   "the real inputs do NOT beat the labels alone: is the network using its input?")
        lines.append(f"{verdict} ({self.metric} {real:.4g} vs {zero:.4g})")
        return "\n".join(lines)


def input_independent_baseline(model, loss_fn, make_optimizer, X, y, val=None, seed=None,
                               make_scheduler=None, **fit_kwargs):
    """Train the same set-up on the real inputs and on all-zero inputs; return both runs.

    Karpathy's "input-independent baseline": with x = 0 the network can only learn a constant
    output, the best of which is fixed by the labels alone (``label_only``: for cross-entropy
    the entropy -sum_k q_k log q_k of the label frequencies q). A run on the real inputs that
    does not beat it is not using its input. Both runs start from the SAME weights (``model``
    is a Module or a zero-argument factory; it is built once and deep-copied twice, the
    original stays untouched), see the same batches in the same order (``seed``: int; None
    derives it from COURSE_SEED), and get the same optimizer (``make_optimizer(params)``,
    e.g. ``lambda p: cl.Adam(p, lr=1e-3)``) and optional ``make_scheduler(optimizer)``. The
    zero-input run is validated on zeroed validation inputs too. ``fit_kwargs`` go to
    ``cl.fit`` unchanged (epochs, batch_size, early_stopping, ...; ``progress`` defaults to
    False).
    Shapes: X (N, D); y (N,) labels or (N, K) targets; val = (X_val, y_val).
    Returns a BaselineComparison. Introduced in notebooks/08_training_in_practice.ipynb.
    """
    owner = "input_independent_baseline"
    for key, hint in (("rng", "pass seed= instead (both runs get the same shuffling)"),
                      ("scheduler", "pass make_scheduler=lambda opt: ... (each run needs its own)"),
                      ("callbacks", "callbacks hold state from one run; run cl.fit yourself for them"),
                      ("val", "pass val= to input_independent_baseline itself")):
        if key in fit_kwargs:
            raise TypeError(f"{owner}: do not pass {key}= through to fit: {hint}")
    if isinstance(model, Module):
        template = model
    elif callable(model):
        template = model()
        if not isinstance(template, Module):
            raise TypeError(f"{owner}: the model factory must return a course_lib Module, got "
                            f"{type(template).__name__}")
    else:
        raise TypeError(f"{owner}: model must be a Module or a function that builds one, got "
                        f"{type(model).__name__}")
    if not callable(make_optimizer):
        raise TypeError(f"{owner}: make_optimizer must be a function params -> optimizer, e.g. "
                        f"lambda p: cl.SGD(p, lr=0.1), got {type(make_optimizer).__name__}")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if val is not None:
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise TypeError(f"{owner}: val must be a pair (X_val, y_val)")
        val = (np.asarray(val[0], dtype=np.float64), np.asarray(val[1]))
    if seed is None:
        seed = seeds(1)[0]
    elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"{owner}: seed must be an int (both runs shuffle with it) or None, got "
                        f"{type(seed).__name__}")
    fit_kwargs.setdefault("progress", False)
    early = fit_kwargs.get("early_stopping")

    def run(inputs, val_inputs):
        net = copy.deepcopy(template)
        opt = make_optimizer(net.parameters())
        kwargs = dict(fit_kwargs)
        if isinstance(early, EarlyStopping):
            kwargs["early_stopping"] = copy.deepcopy(early)
        if make_scheduler is not None:
            kwargs["scheduler"] = make_scheduler(opt)
        v = None if val is None else (val_inputs, val[1])
        hist = fit(net, loss_fn, opt, inputs, y, val=v, rng=np.random.default_rng(int(seed)), **kwargs)
        return net, hist

    real_net, real = run(X, None if val is None else val[0])
    zero_net, zero = run(np.zeros_like(X), None if val is None else np.zeros_like(val[0]))
    k = _num_classes(real_net, X) if isinstance(loss_fn, SoftmaxCrossEntropy) else None
    label_only = _label_only(loss_fn, y, None if val is None else val[1], k)
    metric = "val_loss" if val is not None else "train_loss"
    return BaselineComparison(real, zero, (real_net, zero_net), label_only, metric)


def _num_classes(net, X):
    # the width of the network's output (which may exceed the largest label in y)
    was = net.training
    net.eval()
    try:
        return int(np.asarray(net.forward(X[:1])).shape[1])
    finally:
        net.train(was)
