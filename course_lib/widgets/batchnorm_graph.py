"""BatchNorm's backward pass derived on its computational graph, for
notebooks/04_batch_normalization.ipynb.

The training-mode forward pass written as a chain of named nodes, each one elementary
operation (per feature, over a batch x of shape (N, D)):

    mu    = mean(x, axis 0)            (D,)    a mean over the batch
    xc    = x - mu                     (N, D)  mu broadcast to every example
    var   = mean(xc ** 2, axis 0)      (D,)    the biased batch variance
    std   = sqrt(var + eps)            (D,)
    inv   = 1 / std                    (D,)
    x_hat = xc * inv                   (N, D)  inv broadcast to every example
    y     = gamma * x_hat + beta       (N, D)  gamma, beta broadcast to every example

``batchnorm_backward_staged`` walks this graph backwards and returns the gradient of the loss
with respect to every node: the upstream gradient times the node's local derivative, summed
over the paths where a node feeds two others (xc feeds x_hat and var; x feeds xc and mu).
Two rules of thumb carry the whole derivation: a value broadcast over the batch in the
forward pass (mu, inv, gamma, beta) gets its gradient SUMMED over the batch; a mean over the
batch in the forward pass (mu, var) hands 1/N of its gradient to every example.
``batchnorm_backward_compact`` is the same gradient simplified into one line, the formula of
``cl.BatchNorm1d.backward``; ``StagedBatchNorm1d`` is a BatchNorm1d whose training-mode
backward goes through the graph (so ``cl.gradcheck`` can check it); ``time_backwards`` times
both for ``make bench``; ``draw_graph`` draws the graph.
"""
import time

import numpy as np

from ..normalization import BatchNorm1d
from ..rng import make_rng

NODES = ("mu", "xc", "var", "std", "inv", "x_hat", "y")
GRAD_KEYS = ("beta", "gamma", "x_hat", "inv", "std", "var", "xc", "mu", "x")   # backward order


def batchnorm_forward_staged(x, gamma, beta, eps=1e-5):
    """Training-mode BatchNorm as named nodes; returns (y, cache).

    ``cache`` is a dict holding the input ``x``, every node (mu, xc, var, std, inv, x_hat),
    ``gamma``, ``beta`` and ``eps``. Same numbers as ``cl.BatchNorm1d`` in training mode.
    Shapes: x (N, D); gamma, beta (D,) -> y (N, D).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    xc = x - mu
    var = (xc ** 2).sum(axis=0) / n
    std = np.sqrt(var + eps)
    inv = 1.0 / std
    x_hat = xc * inv
    y = gamma * x_hat + beta
    cache = {"x": x, "mu": mu, "xc": xc, "var": var, "std": std, "inv": inv, "x_hat": x_hat,
             "gamma": gamma, "beta": beta, "eps": eps}
    return y, cache


def batchnorm_backward_staged(dout, cache):
    """The gradient of the loss with respect to every node of the graph, node by node.

    ``dout`` = dL/dy (N, D); ``cache`` from ``batchnorm_forward_staged``. Returns a dict
    with one entry per node, in the order the backward pass computes them:
    beta, gamma (D,), x_hat (N, D), inv, std, var (D,), xc (N, D), mu (D,), x (N, D).
    """
    xc, std, inv, x_hat, gamma = (cache[k] for k in ("xc", "std", "inv", "x_hat", "gamma"))
    n = xc.shape[0]
    g = {}
    # y = gamma * x_hat + beta: gamma and beta are broadcast over the batch -> sum over axis 0
    g["beta"] = dout.sum(axis=0)
    g["gamma"] = (dout * x_hat).sum(axis=0)
    g["x_hat"] = dout * gamma
    # x_hat = xc * inv: local gradient xc for inv, broadcast over the batch -> sum
    g["inv"] = (g["x_hat"] * xc).sum(axis=0)
    # inv = 1 / std: d inv / d std = -1 / std**2
    g["std"] = -g["inv"] / std ** 2
    # std = sqrt(var + eps): d std / d var = 1 / (2 std)
    g["var"] = g["std"] / (2.0 * std)
    # xc feeds two nodes, and the two paths add up: x_hat (local gradient inv) and
    # var = mean(xc ** 2) (local gradient 2 xc / N)
    g["xc"] = g["x_hat"] * inv + g["var"] * 2.0 * xc / n
    # xc = x - mu: mu is broadcast over the batch with the sign -1 -> minus the sum
    g["mu"] = -g["xc"].sum(axis=0)
    # x feeds xc (local gradient 1) and mu = mean(x) (each example gets 1/N of the gradient)
    g["x"] = g["xc"] + g["mu"] / n
    return g


def batchnorm_backward_compact(dout, cache):
    """The same gradient in one line (the formula of ``cl.BatchNorm1d.backward``):
    g = dout * gamma;  dx = inv / N * (N g - sum(g) - x_hat * sum(g * x_hat)), sums over the
    batch. Returns (dx (N, D), dgamma (D,), dbeta (D,))."""
    x_hat, inv, gamma = cache["x_hat"], cache["inv"], cache["gamma"]
    n = x_hat.shape[0]
    g = dout * gamma
    dx = (inv / n) * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


class StagedBatchNorm1d(BatchNorm1d):
    """``cl.BatchNorm1d`` whose training-mode backward pass walks the staged graph
    (``batchnorm_backward_staged``) instead of the compact formula; evaluation mode and the
    running statistics are BatchNorm1d's. For checking the staged gradients with
    ``cl.gradcheck``. Shapes: as BatchNorm1d."""

    def forward(self, x):
        out = super().forward(x)
        if self.training:
            _, self._staged = batchnorm_forward_staged(x, self.gamma.data, self.beta.data, self.eps)
        return out

    def backward(self, dout):
        if not self._cache_training:
            return super().backward(dout)
        grads = batchnorm_backward_staged(np.asarray(dout, dtype=np.float64), self._staged)
        self.gamma.grad += grads["gamma"]
        self.beta.grad += grads["beta"]
        return grads["x"]


def time_backwards(n=64, d=256, repeats=200, rounds=5, seed=None):
    """Seconds per call of the staged and of the compact backward pass on one batch (N, D),
    best of ``rounds`` rounds of ``repeats`` calls each (for ``make bench``; no budget).

    Returns a dict: ``staged``, ``compact`` (seconds per call), ``ratio`` (staged / compact),
    ``n``, ``d``, and ``max_abs_diff`` between the two dx. ``seed``: the inputs' generator
    (None: derived from COURSE_SEED).
    """
    rng = make_rng(0) if seed is None else np.random.default_rng(seed)
    x = 2.0 + 3.0 * rng.standard_normal((n, d))
    gamma, beta = rng.uniform(0.5, 1.5, d), rng.standard_normal(d)
    dout = rng.standard_normal((n, d))
    _, cache = batchnorm_forward_staged(x, gamma, beta)

    def best(fn):
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(repeats):
                fn(dout, cache)
            times.append((time.perf_counter() - t0) / repeats)
        return min(times)

    staged, compact = best(batchnorm_backward_staged), best(batchnorm_backward_compact)
    diff = np.abs(batchnorm_backward_staged(dout, cache)["x"]
                  - batchnorm_backward_compact(dout, cache)[0]).max()
    return {"staged": staged, "compact": compact, "ratio": staged / compact, "n": n, "d": d,
            "max_abs_diff": float(diff)}


# ----------------------------------------------------------------------------- the figure

_POS = {"x": (0.0, 0.0), "mu": (1.45, 1.0), "xc": (2.9, 0.0), "var": (4.35, 1.0),
        "std": (5.8, 1.0), "inv": (7.25, 1.0), "x_hat": (7.25, 0.0), "y": (8.7, 0.0),
        "gamma, beta": (8.7, 1.0)}
_LABELS = {"x": "x\ninput", "mu": "μ\nmean x", "xc": "xc\nx − μ", "var": "var\nmean xc²",
           "std": "std\n√(var + ε)", "inv": "inv\n1 / std", "x_hat": "x̂\nxc · inv",
           "y": "y\nγ x̂ + β", "gamma, beta": "γ, β\nparameters"}
_MEAN, _BROADCAST, _PLAIN = "tab:orange", "tab:blue", "0.35"
_EDGES = [("x", "mu", _MEAN), ("x", "xc", _PLAIN), ("mu", "xc", _BROADCAST), ("xc", "var", _MEAN),
          ("var", "std", _PLAIN), ("std", "inv", _PLAIN), ("xc", "x_hat", _PLAIN),
          ("inv", "x_hat", _BROADCAST), ("x_hat", "y", _PLAIN), ("gamma, beta", "y", _BROADCAST)]
_W, _H = 1.2, 0.56


def _edge(a, b):
    """The segment between the borders of the boxes of nodes a and b."""
    (x0, y0), (x1, y1) = _POS[a], _POS[b]
    dx, dy = x1 - x0, y1 - y0
    t = min(_W / 2 / abs(dx) if dx else np.inf, _H / 2 / abs(dy) if dy else np.inf)
    return (x0 + t * dx, y0 + t * dy), (x1 - t * dx, y1 - t * dy)


def draw_graph(ax=None):
    """The staged forward graph: (N, D) nodes on the lower row, (D,) nodes on the upper row;
    orange edges are means over the batch, blue edges broadcast a (D,) value to every
    example. Returns the axes (8.4 x 3.2 in when it makes its own figure)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        fig = plt.figure(figsize=(8.4, 3.4))
        ax = fig.add_axes((0.0, 0.17, 1.0, 0.74))
    for a, b, color in _EDGES:
        start, end = _edge(a, b)
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=2.0, shrinkA=0, shrinkB=0,
                                    mutation_scale=15))
    for name, (x0, y0) in _POS.items():
        param = name == "gamma, beta"
        ax.add_patch(plt.Rectangle((x0 - _W / 2, y0 - _H / 2), _W, _H, zorder=3, lw=1.2,
                                   facecolor="0.92" if param else "white", edgecolor="0.2"))
        ax.text(x0, y0, _LABELS[name], ha="center", va="center", fontsize=10, zorder=4)
    ax.text(-0.7, 1.0, "(D,)\nper feature", ha="right", va="center", fontsize=9.5, color="0.3")
    ax.text(-0.7, 0.0, "(N, D)\nper example", ha="right", va="center", fontsize=9.5, color="0.3")
    handles = [Line2D([], [], color=_MEAN, lw=2,
                      label="mean over the batch  →  backward: 1/N of the gradient to every example"),
               Line2D([], [], color=_BROADCAST, lw=2,
                      label="broadcast to every example  →  backward: sum over the batch (axis 0)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=9.5,
              frameon=False)
    ax.set_xlim(-1.95, 9.4)
    ax.set_ylim(-0.32, 1.32)
    ax.axis("off")
    ax.set_title("BatchNorm in training mode as a graph of elementary nodes", fontsize=11)
    return ax
