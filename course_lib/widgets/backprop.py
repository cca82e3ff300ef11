"""Widgets for notebooks/03_backpropagation.ipynb.

Two explorers, each a pure compute part (numbers in, numbers out) plus a drawing function and
an ipywidgets builder:

* ``graph_stepper()`` walks the backward pass of a five-node scalar graph,
  L = (a*b + a)**2, one node per step: forward values first, then gradients from the loss
  back to the inputs, showing "local gradient x upstream gradient" on each edge and the sum
  where ``a`` fans out.
* ``gradcheck_explorer()`` shows the relative error of a finite-difference gradient against
  the exact one as the step h varies (log scale), for a few layers, in float64 or float32,
  with centred or forward differences; the current h is highlighted and the title gives the
  verdict (good < 1e-7 <= suspicious < 1e-4 <= wrong). Curves are precomputed (cached),
  so moving the slider only redraws.

The notebook's other helpers live here too: ``plot_gradcheck_dots`` (every layer's
gradcheck error as a dot plot), ``entry_errors`` and ``sampled_gradcheck`` (CS231n's
gradient-checking habits: a penalty dilutes a data-loss bug; check a few coordinates of
EVERY parameter array), and the memory cost of backprop (``mlp``, ``memory_sweep``,
``inference_peak``, ``plot_memory``). Every random draw derives from COURSE_SEED: the
explorer's test points from ``make_rng(0)``, the networks from the seeds passed in.
"""
from functools import lru_cache

import numpy as np

from ..gradcheck import numerical_gradient, rel_error
from ..rng import course_seed, make_rng

# ---------------------------------------------------------------------------------------
# 1. A scalar computational graph, step by step
# ---------------------------------------------------------------------------------------

# node -> position in the drawing; edges run from an input to the node that uses it
GRAPH_POS = {"a": (0.0, 1.6), "b": (0.0, 0.0), "c": (1.6, 0.35), "d": (3.2, 1.0), "L": (4.8, 1.0)}
GRAPH_OPS = {"a": "input", "b": "input", "c": "c = a·b", "d": "d = c + a", "L": "L = d²"}
GRAPH_EDGES = [("a", "c"), ("b", "c"), ("c", "d"), ("a", "d"), ("d", "L")]


def graph_trace(a=2.0, b=-3.0):
    """Forward and backward pass of L = (a*b + a)**2 as a list of steps (pure, exact).

    Graph: c = a*b, d = c + a, L = d**2; ``a`` fans out to c and d, so its gradient is
    the SUM of the two paths: dL/da = b * dL/dc + 1 * dL/dd.
    Returns a list of dicts, one per step, each with "values" and "grads" (dicts node ->
    float, only what is known after that step), "partial" (nodes whose gradient is still
    missing a path), "edge_grads" ((src, dst) -> contribution
    local * upstream sent along that edge), "focus" (the node computed in this step) and
    "text" (one line explaining it). Step 0 shows only the inputs.
    Shapes: scalars only.
    """
    a, b = float(a), float(b)
    c = a * b
    d = c + a
    L = d * d
    dL = 1.0
    dd = 2 * d * dL
    dc = 1.0 * dd
    da_via_d = 1.0 * dd
    db = a * dc
    da_via_c = b * dc
    da = da_via_c + da_via_d
    steps = []
    values, grads, edge_grads = {}, {}, {}

    def add(focus, text, partial=()):
        steps.append({"values": dict(values), "grads": dict(grads), "partial": set(partial),
                      "edge_grads": dict(edge_grads), "focus": focus, "text": text})

    values.update(a=a, b=b)
    add(None, f"inputs: a = {a:g}, b = {b:g}")
    values["c"] = c
    add("c", f"forward: c = a·b = {a:g}·{b:g} = {c:g}")
    values["d"] = d
    add("d", f"forward: d = c + a = {c:g} + {a:g} = {d:g}")
    values["L"] = L
    add("L", f"forward: L = d² = {L:g}")
    grads["L"] = dL
    add("L", "backward starts: dL/dL = 1")
    grads["d"] = dd
    edge_grads[("d", "L")] = dd
    add("d", f"dL/dd = local 2d × upstream 1 = 2·{d:g}·1 = {dd:g}")
    grads["c"] = dc
    edge_grads[("c", "d")] = dc
    edge_grads[("a", "d")] = da_via_d
    grads["a"] = da_via_d
    add("c", f"d = c + a: local gradient 1 to both → dL/dc = {dc:g}, and a receives {da_via_d:g}",
        partial="a")
    grads["b"] = db
    edge_grads[("b", "c")] = db
    edge_grads[("a", "c")] = da_via_c
    add("b", f"c = a·b: dL/db = a × {dc:g} = {db:g}; a receives b × {dc:g} = {da_via_c:g}",
        partial="a")
    grads["a"] = da
    add("a", f"a fans out: gradients ADD, dL/da = {da_via_c:g} + {da_via_d:g} = {da:g}")
    return steps


def draw_graph(step, trace, ax=None):
    """Draw the graph after ``step`` of ``trace`` (from graph_trace): values in black,
    gradients in red, each backward edge labelled with the gradient it carries. Returns ax."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.4, 3.4))
    s = trace[int(np.clip(step, 0, len(trace) - 1))]
    for src, dst in GRAPH_EDGES:
        (x0, y0), (x1, y1) = GRAPH_POS[src], GRAPH_POS[dst]
        known = (src, dst) in s["edge_grads"]
        # forward edges point to the consumer; once its gradient is known the edge turns red
        # and points back, the way the gradient travels
        u = np.array([x1 - x0, y1 - y0]) / np.hypot(x1 - x0, y1 - y0)
        tail, head = np.array([x0, y0]) + 0.36 * u, np.array([x1, y1]) - 0.36 * u
        if known:
            tail, head = head, tail
        ax.annotate("", xy=head, xytext=tail,
                    arrowprops=dict(arrowstyle="-|>", color="tab:red" if known else "0.55",
                                    lw=2.2 if known else 1.3, shrinkA=0, shrinkB=0))
        if known:
            xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
            ax.text(xm, ym + 0.17, f"{s['edge_grads'][(src, dst)]:g}", color="tab:red",
                    ha="center", va="bottom", fontsize=10,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for node, (x, y) in GRAPH_POS.items():
        focus = node == s["focus"]
        ax.add_patch(plt.Circle((x, y), 0.32, fc="#fff3c4" if focus else "#e8eef7",
                                ec="tab:orange" if focus else "0.3", lw=2.5 if focus else 1.2))
        ax.text(x, y + 0.07, node, ha="center", va="center", fontsize=14, weight="bold")
        ax.text(x, y - 0.45, GRAPH_OPS[node], ha="center", va="top", fontsize=9, color="0.35")
        if node in s["values"]:
            ax.text(x, y - 0.14, f"{s['values'][node]:g}", ha="center", va="center", fontsize=9)
        if node in s["grads"]:
            more = " so far" if node in s["partial"] else ""
            ax.text(x, y + 0.38, f"∂L/∂{node} = {s['grads'][node]:g}{more}", ha="center", va="bottom",
                    fontsize=10, color="tab:red", weight="bold")
    ax.set_xlim(-0.6, 5.4)
    ax.set_ylim(-0.95, 2.35)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"step {step}/{len(trace) - 1}: {s['text']}", fontsize=10)
    return ax


def graph_stepper(a=2.0, b=-3.0):
    """Builder: step slider (first) and sliders for the inputs a, b -> the graph after that step."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    n_steps = len(graph_trace(a, b)) - 1

    def show(step, a, b):
        trace = _cached_trace(round(a, 6), round(b, 6))
        fig, ax = plt.subplots(figsize=(8.4, 3.4))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.92)
        draw_graph(step, trace, ax)
        s = trace[step]
        return {"step": step, "values": s["values"], "grads": s["grads"], "fig": fig}

    return W.interactive(
        show,
        step=W.IntSlider(value=0, min=0, max=n_steps, step=1, description="step"),
        a=W.FloatSlider(value=a, min=-3.0, max=3.0, step=0.5, description="a",
                        continuous_update=False),
        b=W.FloatSlider(value=b, min=-3.0, max=3.0, step=0.5, description="b",
                        continuous_update=False),
    )


@lru_cache(maxsize=256)
def _cached_trace(a, b):
    return graph_trace(a, b)


# ---------------------------------------------------------------------------------------
# 2. Gradient checking: relative error against the step h
# ---------------------------------------------------------------------------------------

GOOD, WRONG = 1e-7, 1e-4
LOG10_H = np.round(np.arange(-12.0, -0.99, 0.25), 2)     # the grid the explorer can show
CASES = ("sigmoid", "tanh", "ReLU (an input 3e-4 from the kink)", "linear (affine: no curvature)",
         "softmax + cross-entropy", "worked example: σ layer + squared loss")
DTYPES = ("float64", "float32")
METHODS = ("centred", "forward")


def verdict(err, good=GOOD, wrong=WRONG):
    """Rule of thumb for float64: 'good' below 1e-7, 'wrong' from 1e-4, 'suspicious' between.

    Shapes: err a scalar (a max relative error); returns a str.
    """
    return "good" if err < good else ("suspicious" if err < wrong else "wrong")


def numeric_grad(f, x, h, method="centred"):
    """Finite-difference gradient of the scalar f at x, computed in x's dtype.

    centred: (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h**2);
    forward: (f(x + h e_i) - f(x)) / h, error O(h).
    ``f(x)`` takes the array and returns a scalar of the same dtype; x is not modified.
    Unlike cl.numerical_gradient this accepts float32, so we can watch it fail.
    Shapes: x any; returns float64 array shaped like x.
    """
    if method not in METHODS:
        raise ValueError(f"numeric_grad: method must be one of {METHODS}, got {method!r}")
    x = np.array(x, copy=True)
    grad = np.zeros(x.shape)
    f0 = f(x) if method == "forward" else None
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f(x)
        if method == "centred":
            flat[i] = old - h
            grad.flat[i] = (float(plus) - float(f(x))) / (2 * h)
        else:
            grad.flat[i] = (float(plus) - float(f0)) / h
        flat[i] = old
    return grad


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def make_case(name, seed=None):
    """A test function for the explorer: returns (f, x0, grad) with f(x) a scalar computed
    entirely in x's dtype, x0 the float64 point, grad the exact gradient at x0 (float64).

    Every case is a layer (or loss) contracted with a fixed random upstream gradient, f(x) =
    sum(layer(x) * dout), as cl.gradcheck does. ``seed``: the draws; None takes them from
    ``make_rng(0)`` (COURSE_SEED). The upstream gradients (and the worked example's x and V)
    are at least 0.3 in size, and the worked example's residual is 1, so that no gradient
    entry is accidentally tiny (a tiny entry's
    RELATIVE error is rounding noise, whatever the formula); in the ReLU case every input
    except the planted one (3e-4) is at least 0.1 from the kink. Shapes: x0 (3, 4) for the layers, (3, 5) for
    softmax + cross-entropy, (3, 4) W for the worked example.
    """
    rng = make_rng(0) if seed is None else np.random.default_rng(seed)

    def away(shape, lo=0.3):            # normal draws pushed at least lo away from 0
        z = rng.standard_normal(shape)
        return np.sign(z) * (lo + np.abs(z))
    if name == "sigmoid":
        x0, dout = rng.standard_normal((3, 4)), away((3, 4))
        s = _sigmoid(x0)
        return (lambda x: np.sum(_sigmoid(x) * dout.astype(x.dtype))), x0, dout * s * (1 - s)
    if name == "tanh":
        x0, dout = rng.standard_normal((3, 4)), away((3, 4))
        return (lambda x: np.sum(np.tanh(x) * dout.astype(x.dtype))), x0, dout * (1 - np.tanh(x0) ** 2)
    if name.startswith("ReLU"):
        x0, dout = rng.standard_normal((3, 4)), away((3, 4))
        x0 = np.sign(x0) * (0.1 + np.abs(x0))        # every other input away from the kink
        x0[0, 0] = 3e-4
        return (lambda x: np.sum(np.maximum(x, 0) * dout.astype(x.dtype))), x0, dout * (x0 > 0)
    if name.startswith("linear"):
        x0, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
        b, dout = rng.standard_normal(5), away((3, 5))
        return ((lambda x: np.sum((x @ W.astype(x.dtype) + b.astype(x.dtype)) * dout.astype(x.dtype))),
                x0, dout @ W.T)
    if name.startswith("softmax"):
        z0, y = rng.standard_normal((3, 5)), rng.integers(0, 5, size=3)

        def ce(z):
            zs = z - z.max(axis=1, keepdims=True)
            logp = zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))
            return -np.mean(logp[np.arange(3), y])

        p = np.exp(z0 - z0.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(3), y] -= 1
        return ce, z0, p / 3
    if name.startswith("worked"):
        x, W0, V = away(3), rng.standard_normal((3, 4)), away(4)
        s = _sigmoid(x @ W0)
        # the target one unit below the prediction at W0: every gradient entry is proportional
        # to the residual, and a residual that happens to be near 0 makes them all tiny
        y = float(s @ V) - 1.0

        def loss(W):
            return (_sigmoid(x.astype(W.dtype) @ W) @ V.astype(W.dtype) - W.dtype.type(y)) ** 2

        return loss, W0, 2 * (s @ V - y) * np.outer(x, V * s * (1 - s))
    raise ValueError(f"make_case: unknown case {name!r}; choose one of {CASES}")


def error_curve(case, dtype="float64", method="centred"):
    """Relative error (max over elements, as cl.rel_error) of the finite-difference gradient
    for every h = 10**LOG10_H. Cached: the explorer computes each curve once (per COURSE_SEED).

    Exact agreement is reported as 1e-17 so that it can be drawn on a log axis.
    Shapes: returns a read-only float64 array of shape LOG10_H.shape, i.e. (45,).
    """
    return _error_curve(course_seed(), case, dtype, method)


@lru_cache(maxsize=64)
def _error_curve(seed, case, dtype, method):
    f, x0, grad = make_case(case)
    x = x0.astype(dtype)
    errs = np.array([rel_error(numeric_grad(f, x, 10.0 ** e, method), grad) for e in LOG10_H])
    errs = np.maximum(errs, 1e-17)
    errs.setflags(write=False)
    return errs


error_curve.cache_clear = _error_curve.cache_clear


def precompute(cases=CASES, dtypes=DTYPES, methods=METHODS):
    """Fill error_curve's cache for every combination (about a second)."""
    for c in cases:
        for d in dtypes:
            for m in methods:
                error_curve(c, d, m)


def draw_check(log10_h, case, dtype, method, ax=None):
    """Plot both methods' error curves for (case, dtype) against h on log-log axes, with the
    verdict bands and the point at h = 10**log10_h on the chosen method's curve.

    The axes hold log10 values with "1e-k" tick labels (plain text renders much faster than
    a log axis's mathtext, which keeps a slider move well under 250 ms). Returns (ax, err).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.4, 4))
    i = int(np.argmin(np.abs(LOG10_H - log10_h)))
    lo, hi = -17.0, 0.5
    # few text objects: rendering text is most of the cost of a redraw
    for (y0, y1), colour, alpha, name in (((lo, np.log10(GOOD)), "tab:green", 0.10, "good"),
                                          ((np.log10(GOOD), np.log10(WRONG)), "gold", 0.18,
                                           "suspicious"),
                                          ((np.log10(WRONG), hi), "tab:red", 0.08, "wrong")):
        ax.axhspan(y0, y1, color=colour, alpha=alpha, lw=0)
        ax.text(LOG10_H[-1] + 0.35, (y0 + y1) / 2, name, rotation=90, va="center", fontsize=9)
    for m, style in zip(METHODS, ("-", "--")):
        errs = np.log10(error_curve(case, dtype, m))
        ax.plot(LOG10_H, errs, style, color="tab:blue" if m == "centred" else "tab:purple",
                lw=2.2 if m == method else 1.2, alpha=1 if m == method else 0.6,
                label=f"{m} difference")
    err = float(error_curve(case, dtype, method)[i])
    ax.plot([LOG10_H[i]], [np.log10(err)], "o", ms=12, mfc="none", mec="k", mew=2)
    ax.set_xlim(LOG10_H[0] - 0.2, LOG10_H[-1] + 0.2)
    ax.set_ylim(lo, hi)
    ax.set_xticks(np.arange(-12, 0, 2), [f"1e{k}" for k in range(-12, 0, 2)])
    ax.set_yticks(np.arange(-16, 1, 4), [f"1e{k}" if k else "1" for k in range(-16, 1, 4)])
    ax.set_xlabel("step h (log scale)")
    ax.set_ylabel("relative error (log scale)")
    ax.legend(loc="lower left", fontsize=9)
    ax.set_title(f"{case}, {dtype}, {method}: h = {10.0 ** LOG10_H[i]:.1e} → rel. error "
                 f"{err:.1e} → {verdict(err)}", fontsize=10)
    return ax, err


def gradcheck_explorer(case=CASES[0], dtype="float64", method="centred"):
    """Builder: log-scale slider for h (first), dropdowns for dtype, layer and method.

    The notebook's main widget (call ``precompute()`` first so no move computes a curve).
    The interactive's ``result`` is a dict with h, the error and the verdict after each move.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def show(h, dtype, case, method):
        fig, ax = plt.subplots(figsize=(8.4, 4))
        fig.subplots_adjust(left=0.1, right=0.96, bottom=0.13, top=0.91)
        _, err = draw_check(np.log10(h), case, dtype, method, ax)
        return {"h": h, "err": err, "verdict": verdict(err), "fig": fig}

    box = W.interactive(
        show,
        h=W.FloatLogSlider(value=1e-5, base=10, min=float(LOG10_H[0]), max=float(LOG10_H[-1]),
                           step=0.25, description="step h", readout_format=".1e"),
        dtype=W.Dropdown(options=DTYPES, value=dtype, description="dtype"),
        case=W.Dropdown(options=CASES, value=case, description="layer",
                        layout=W.Layout(width="420px")),
        method=W.Dropdown(options=METHODS, value=method, description="difference"),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


# ---------------------------------------------------------------------------------------
# 3. Every layer's gradient check as one picture
# ---------------------------------------------------------------------------------------

def plot_gradcheck_dots(results, ax=None, floor=1e-17):
    """A dot plot of ``{name: GradcheckResult}``: one dot per object at its largest relative
    error, on a log axis with the verdict bands (good < 1e-7 <= suspicious < 1e-4 <= wrong).
    An error of exactly 0 (it happens for linear maps) is drawn as an open circle at
    ``floor``. Returns ax."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8.4, 4.6))
    names = list(results)
    errs = np.array([results[n].max_error for n in names])
    y = np.arange(len(names))
    lo, hi = np.log10(floor) - 0.5, 0.5
    for (a, b), colour, alpha, label in (((lo, np.log10(GOOD)), "tab:green", 0.10, "good"),
                                         ((np.log10(GOOD), np.log10(WRONG)), "gold", 0.20, "suspicious"),
                                         ((np.log10(WRONG), hi), "tab:red", 0.10, "wrong")):
        ax.axvspan(10.0 ** a, 10.0 ** b, color=colour, alpha=alpha, lw=0)
        ax.text(10.0 ** ((a + b) / 2), len(names) + 0.05, label, ha="center", va="center", fontsize=9)
    ax.hlines(y, 10.0 ** lo, np.maximum(errs, floor), color="0.85", lw=0.8, zorder=1)
    zero = errs <= 0
    ax.plot(errs[~zero], y[~zero], "o", color="tab:blue", ms=6, zorder=3)
    if zero.any():
        ax.plot(np.full(zero.sum(), floor), y[zero], "o", mfc="none", mec="tab:blue", ms=6,
                zorder=3, label="exactly 0")
        ax.legend(fontsize=9, loc="lower right")
    ax.set_xscale("log")
    ax.set_xlim(10.0 ** lo, 10.0 ** hi)
    ax.set_ylim(len(names) + 0.45, -0.6)          # a free row at the bottom for the band names
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xticks([10.0 ** k for k in range(-16, 1, 2)], [f"1e{k}" if k else "1" for k in range(-16, 1, 2)])
    ax.set_xlabel("max relative error, analytic vs centred difference (log scale)")
    return ax


# ---------------------------------------------------------------------------------------
# 4. CS231n's habits: each term on its own, and a few coordinates of every array
# ---------------------------------------------------------------------------------------

def _penalized_loss(model, loss_fn, X, y, lam):
    weights = [p for p in model.parameters() if p.is_weight]

    def total():
        return loss_fn.forward(model.forward(X), y) + 0.5 * lam * sum(np.sum(p.data ** 2) for p in weights)
    return total, weights


def entry_errors(model, loss_fn, X, y, lam=0.0, names=None):
    """Relative error of every ENTRY of every weight matrix's gradient of
    loss_fn(model(X), y) + lam/2 * sum ||W||^2 (an L2 penalty on the weights, gradient lam*W),
    analytic (model.backward plus lam*W) against centred differences. ``names``: only these
    weight matrices (names as in ``model.named_parameters()``), default all.
    Returns a 1-D array, the chosen weight entries concatenated."""
    total, weights = _penalized_loss(model, loss_fn, X, y, lam)
    model.zero_grad()
    total()
    model.backward(loss_fn.backward())
    chosen = [p for name, p in model.named_parameters() if p.is_weight and (names is None or name in names)]
    if not chosen:
        raise ValueError(f"entry_errors: no weight matrix named {names}; the model has "
                         f"{[n for n, p in model.named_parameters() if p.is_weight]}")
    out = []
    for p in chosen:
        analytic = p.grad + lam * p.data
        numeric = numerical_gradient(total, p.data)
        out.append((np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)).ravel())
    return np.concatenate(out)


def sampled_gradcheck(model, loss_fn, X, y, k, rng, per_array=True, h=1e-5):
    """Check only ``k`` coordinates of the gradient, as one must in a big network.

    ``per_array``: k coordinates drawn from EACH parameter array (CS231n's advice); otherwise
    k coordinates drawn from all parameters pooled into one vector, so a small array (a bias)
    is rarely visited. Each coordinate costs two forward passes.
    Returns {parameter name: max relative error over its sampled coordinates} (arrays that
    got no sample are left out).
    """
    named = list(model.named_parameters())
    model.zero_grad()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    if per_array:
        picks = [(i, j) for i, (_, p) in enumerate(named)
                 for j in rng.choice(p.size, size=min(k, p.size), replace=False)]
    else:
        sizes = np.array([p.size for _, p in named])
        flat = rng.choice(sizes.sum(), size=k, replace=False)
        owner = np.searchsorted(np.cumsum(sizes), flat, side="right")
        picks = [(int(i), int(f - (sizes[:i].sum()))) for i, f in zip(owner, flat)]
    errors = {}
    for i, j in picks:
        name, p = named[i]
        flat_data = p.data.reshape(-1)
        old = flat_data[j]
        flat_data[j] = old + h
        plus = loss_fn.forward(model.forward(X), y)
        flat_data[j] = old - h
        minus = loss_fn.forward(model.forward(X), y)
        flat_data[j] = old
        num = (plus - minus) / (2 * h)
        err = rel_error(p.grad.reshape(-1)[j], num)
        errors[name] = max(errors.get(name, 0.0), err)
    return errors


# ---------------------------------------------------------------------------------------
# 5. The memory cost of backprop: what the forward pass leaves for the backward pass
# ---------------------------------------------------------------------------------------

def mlp(depth, width=256, d_in=64, d_out=10, seed=0):
    """Linear(d_in, width), ReLU, then (depth - 1) x [Linear(width, width), ReLU], then
    Linear(width, d_out); He init from default_rng(seed). depth = number of hidden layers."""
    from ..activations import ReLU
    from ..layers import Linear
    from ..module import Sequential

    rng = np.random.default_rng(seed)
    layers, fan_in = [], d_in
    for _ in range(depth):
        layers += [Linear(fan_in, width, rng=rng), ReLU()]
        fan_in = width
    return Sequential(*layers, Linear(fan_in, d_out, rng=rng))


def inference_peak(model, X):
    """Peak bytes NumPy allocates during a forward pass that keeps nothing for a backward pass
    (each layer's caches are dropped as soon as the next layer has run: what PyTorch's
    ``torch.no_grad()`` does by never recording them), measured with tracemalloc.
    The input batch itself is not counted (it exists before the pass). Returns (out, bytes)."""
    return _forward_peak(model, X, keep_caches=False)


def training_peak(model, X):
    """Peak bytes NumPy allocates during a training-mode forward pass that keeps every cache
    (as backward needs), measured with tracemalloc; the input batch is not counted."""
    return _forward_peak(model, X, keep_caches=True)


def _forward_peak(model, X, keep_caches):
    import tracemalloc

    from ..memory import _cached_arrays

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        h = X
        for layer in model.layers:
            h = layer.forward(h)
            if not keep_caches:
                for attr in [name for name, _ in _cached_arrays(layer)]:   # no loop variable keeps one alive
                    setattr(layer, attr, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return h, peak


def memory_sweep(batch_sizes=(1, 4, 16, 64, 256, 1024), depths=(1, 2, 4, 8), width=256, depth=3,
                 batch=64, seed=0):
    """The memory held by the forward caches (``cl.diagnostics.cache_memory``) of ``mlp``:
    against the batch size at ``depth`` hidden layers, and against the depth at batch size
    ``batch``; with the parameter bytes and the tracemalloc peaks of a training forward (caches
    kept) and an inference forward (caches dropped). Inputs from default_rng(seed + 1).

    Returns a dict: "batch_sizes", "depths", "width", "batch", "by_batch" and "by_depth" (lists of dicts with
    "caches" (bytes), "per_example", "params", "train_peak", "infer_peak", "eval_caches"
    (cache bytes of a forward in eval mode)).
    """
    from ..memory import cache_memory

    rng = np.random.default_rng(seed + 1)

    def measure(d, n):
        model = mlp(d, width, seed=seed)
        X = rng.standard_normal((n, 64))
        mem = cache_memory(model, X)
        eval_mem = cache_memory(model, X, training=False)
        _, train_peak = training_peak(model, X)
        _, infer_peak = inference_peak(model, X)
        return {"caches": mem.total, "per_example": mem.per_example, "params": mem.parameter_bytes,
                "train_peak": train_peak, "infer_peak": infer_peak, "eval_caches": eval_mem.total}

    return {"batch_sizes": list(batch_sizes), "depths": list(depths), "width": width, "batch": batch,
            "by_batch": [measure(depth, n) for n in batch_sizes],
            "by_depth": [measure(d, batch) for d in depths]}


def plot_memory(sweep, axes=None):
    """Left: cache bytes per example against the batch size (log x), with the training and
    inference peaks per example. Right: cache bytes against the depth at a fixed batch, with
    the parameters (and their gradients) and the inference peak. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
    n = np.array(sweep["batch_sizes"])
    b = sweep["by_batch"]
    kb = 1e3
    axes[0].plot(n, [r["per_example"] / kb for r in b], "o-", label="forward caches")
    axes[0].plot(n, [r["infer_peak"] / r_n / kb for r, r_n in zip(b, n)], "s--",
                 label="inference peak (no caches)")
    axes[0].plot(n, [r["params"] / r_n / kb for r, r_n in zip(b, n)], ":", color="0.4",
                 label="parameters ÷ batch size")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set(xlabel="batch size N", ylabel="kB per example (log scale)",
                title="per example: constant in N")
    axes[0].legend(fontsize=9, loc="upper right")
    d = np.array(sweep["depths"])
    r = sweep["by_depth"]
    mb = 1e6
    axes[1].plot(d, [x["caches"] / mb for x in r], "o-", label="forward caches")
    axes[1].plot(d, [2 * x["params"] / mb for x in r], "^-", color="tab:green",
                 label="parameters + gradients")
    axes[1].plot(d, [x["infer_peak"] / mb for x in r], "s--", color="tab:orange",
                 label="inference peak")
    axes[1].set(xlabel="hidden layers (width %d)" % sweep["width"], ylabel="MB",
                title=f"batch of {sweep['batch']}: linear in depth")
    axes[1].set_xticks(d)
    axes[1].legend(fontsize=9, loc="upper left")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].figure.tight_layout()
    return axes
