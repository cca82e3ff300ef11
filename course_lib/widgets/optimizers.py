"""Notebook 06's two widgets: the optimizer race on 2-D surfaces, and momentum's exact rate on
a quadratic.

**The race.** SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on one of four surfaces (a
ravine, the same ravine rotated by 45°, Rosenbrock's valley, a saddle), each run on one
``Parameter`` of shape (2,) whose ``.grad`` is filled with the surface's analytic gradient.
A learning-rate slider (log scale), two beta sliders and a surface dropdown redraw the paths.
``draw_surfaces`` draws the notebook's static figure of the same runs.

**The quadratic analysis** (distill's "Why Momentum Really Works", Goh 2017). On
f(w) = (lam_min w1**2 + lam_max w2**2) / 2, gradient descent multiplies each coordinate by
(1 - lr lam) per step; heavy-ball momentum in PyTorch's form (v = beta v + g, w = w - lr v)
acts on each coordinate's pair (w, v) through a 2x2 matrix whose eigenvalues solve
z**2 - (1 + beta - lr lam) z + beta = 0. The larger |z| over both coordinates is the rate at
which the error shrinks per step. ``momentum_rate`` computes it exactly, ``measured_rate``
reads it off a run of ``cl.SGD``, ``rate_map`` evaluates it over the (lr, beta) plane and
``momentum_explorer`` shows that plane live.
Used in notebooks/06_optimizers.ipynb.
"""
import math
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from ..module import Parameter
from ..optim import SGD, AdaGrad, Adam, RMSProp


# ---------------------------------------------------------------------------------------------
# the surfaces: f(x, y) vectorized for contour plots, grad(w) for one point w of shape (2,)

def ravine(x, y):
    """Ill-conditioned quadratic 0.1 x^2 + 10 y^2: curvatures 0.2 and 20 (condition number 100)."""
    return 0.1 * x ** 2 + 10.0 * y ** 2


def ravine_grad(w):
    """Analytic gradient of ravine. Shapes: w (2,) -> (2,)."""
    return np.array([0.2 * w[0], 20.0 * w[1]])


# The same ravine turned by 45 degrees: H = R diag(0.2, 20) R^T with R the rotation by 45
# degrees, i.e. f = (10.1 x^2 - 19.8 x y + 10.1 y^2) / 2. Same curvatures, but they are no
# longer along the coordinate axes: the valley floor is the diagonal x = y.
_ROT = np.array([[math.cos(math.pi / 4), -math.sin(math.pi / 4)],
                 [math.sin(math.pi / 4), math.cos(math.pi / 4)]])
ROTATED_HESSIAN = _ROT @ np.diag([0.2, 20.0]) @ _ROT.T


def rotated_ravine(x, y):
    """The ravine rotated by 45 degrees: 5.05 x^2 - 9.9 x y + 5.05 y^2 (curvatures 0.2, 20)."""
    (a, b), (_, d) = ROTATED_HESSIAN
    return 0.5 * (a * x ** 2 + 2.0 * b * x * y + d * y ** 2)


def rotated_ravine_grad(w):
    """Analytic gradient of rotated_ravine, H w. Shapes: w (2,) -> (2,)."""
    return ROTATED_HESSIAN @ np.asarray(w, dtype=np.float64)


ROSEN_SCALE = 0.02


def rosenbrock(x, y):
    """Rosenbrock's banana valley, scaled: 0.02 [(1 - x)^2 + 100 (y - x^2)^2]; minimum at (1, 1)."""
    return ROSEN_SCALE * ((1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2)


def rosenbrock_grad(w):
    """Analytic gradient of rosenbrock. Shapes: w (2,) -> (2,)."""
    x, y = w
    return ROSEN_SCALE * np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def saddle(x, y):
    """x^2 + (y^2 - 1)^2 / 4: a saddle point at (0, 0) between two minima at (0, +-1)."""
    return x ** 2 + 0.25 * (y ** 2 - 1.0) ** 2


def saddle_grad(w):
    """Analytic gradient of saddle. Shapes: w (2,) -> (2,)."""
    x, y = w
    return np.array([2.0 * x, y ** 3 - y])


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with its gradient, a start point, plot limits and its minimum."""

    name: str
    f: Callable
    grad: Callable
    start: tuple
    xlim: tuple
    ylim: tuple
    minima: tuple          # the minimum points, ((x, y), ...); f is 0 at every one of them
    log_levels: bool = False


SURFACES = {
    "ravine": Surface("ravine (axis-aligned)", ravine, ravine_grad, (-2.0, 0.9),
                      (-2.2, 2.2), (-1.2, 1.2), ((0.0, 0.0),), log_levels=True),
    "rotated": Surface("ravine rotated by 45°", rotated_ravine, rotated_ravine_grad,
                       tuple(float(v) for v in _ROT @ np.array([-2.0, 0.9])),
                       (-2.4, 1.6), (-1.8, 1.8), ((0.0, 0.0),), log_levels=True),
    "rosenbrock": Surface("Rosenbrock valley", rosenbrock, rosenbrock_grad, (-1.2, 1.0),
                          (-1.6, 1.4), (-0.6, 1.8), ((1.0, 1.0),), log_levels=True),
    "saddle": Surface("saddle between two minima", saddle, saddle_grad, (-1.5, 0.01),
                      (-2.0, 2.0), (-1.6, 1.6), ((0.0, 1.0), (0.0, -1.0))),
}

OPTIMIZERS = ("SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam")
STYLES = {   # fixed colours and line styles so each optimizer looks the same in every figure
    "SGD": dict(color="tab:blue", ls="-", marker="o"),
    "momentum": dict(color="tab:orange", ls="-", marker="o"),
    "Nesterov": dict(color="tab:green", ls="--", marker="^"),
    "AdaGrad": dict(color="tab:brown", ls="-.", marker="v"),
    "RMSProp": dict(color="tab:red", ls="-", marker="s"),
    "Adam": dict(color="tab:purple", ls="-", marker="D"),
}


def make_optimizer(name, params, lr, beta=0.9, beta2=0.99):
    """One of OPTIMIZERS on ``params``: beta is the momentum (and Adam's beta1), beta2 is
    RMSProp's alpha (its rho) and Adam's beta2. AdaGrad has neither."""
    if name == "SGD":
        return SGD(params, lr)
    if name == "momentum":
        return SGD(params, lr, momentum=beta)
    if name == "Nesterov":
        return SGD(params, lr, momentum=beta, nesterov=True)
    if name == "AdaGrad":
        return AdaGrad(params, lr)
    if name == "RMSProp":
        return RMSProp(params, lr, alpha=beta2)
    if name == "Adam":
        return Adam(params, lr, betas=(beta, beta2))
    raise ValueError(f"make_optimizer: unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def optimizer_path(grad, start, make, steps=150, bound=1e3):
    """Run the optimizer ``make([p])`` for ``steps`` steps from ``start``; return the visited points.

    Each step writes ``grad(p.data)`` into ``p.grad`` (the analytic gradient, no autograd) and
    calls ``opt.step()``. A run whose point leaves the box |w| <= bound (or turns non-finite)
    stops there: the path then has fewer than steps + 1 rows.
    Shapes: start (2,) -> path (T, 2) with T <= steps + 1.
    """
    p = Parameter(np.array(start, dtype=np.float64))
    opt = make([p])
    path = [p.data.copy()]
    for _ in range(steps):
        p.grad[...] = grad(p.data)
        opt.step()
        if not np.all(np.isfinite(p.data)) or np.abs(p.data).max() > bound:
            break
        path.append(p.data.copy())
    return np.array(path)


def diverged(path, steps):
    """True when a path from ``optimizer_path`` stopped before ``steps`` steps."""
    return len(path) < steps + 1


@lru_cache(maxsize=512)
def _race(surface, lr, beta, beta2, steps):
    s = SURFACES[surface]
    out = {}
    for name in OPTIMIZERS:
        path = optimizer_path(s.grad, s.start,
                              lambda ps, name=name: make_optimizer(name, ps, lr, beta, beta2), steps)
        path.setflags(write=False)        # cached: nobody may change it in place
        out[name] = path
    return out


def race_paths(surface="ravine", lr=0.05, beta=0.9, beta2=0.99, steps=150):
    """Paths of the six optimizers on one surface (deterministic: no randomness involved).

    Returns a dict name -> array (T, 2), read-only (results are cached).
    """
    if surface not in SURFACES:
        raise ValueError(f"race_paths: unknown surface {surface!r}; choose one of {tuple(SURFACES)}")
    return dict(_race(surface, float(lr), float(beta), float(beta2), int(steps)))


def final_losses(surface, paths):
    """f at the last recorded point of each path (for a diverged run: its last point inside the
    box). Returns dict name -> float."""
    s = SURFACES[surface]
    return {k: float(s.f(*p[-1])) for k, p in paths.items()}


def losses_along(surface, paths):
    """f at every point of each path. Returns dict name -> array (T,)."""
    s = SURFACES[surface]
    return {k: s.f(p[:, 0], p[:, 1]) for k, p in paths.items()}


def step_lengths(paths):
    """The length ||w_t - w_(t-1)|| of every step of each path. Returns dict name -> (T - 1,)."""
    return {k: np.linalg.norm(np.diff(p, axis=0), axis=1) for k, p in paths.items()}


def adam_moments(surface, lr=0.05, beta=0.9, beta2=0.99, steps=150):
    """What cl.Adam sees on a surface, step by step: the gradient ``g``, the bias-corrected
    first moment ``m_hat`` and ``sqrt_v_hat`` (read from the optimizer's state after each
    step), all as absolute values per coordinate. The step is lr * m_hat / (sqrt_v_hat + eps),
    so ``ratio`` = m_hat / sqrt_v_hat is the step length in units of lr.
    Shapes: returns dict name -> (steps, 2)."""
    s = SURFACES[surface]
    p = Parameter(np.array(s.start, dtype=np.float64))
    opt = Adam([p], lr=lr, betas=(beta, beta2))
    rows = {k: [] for k in ("g", "m_hat", "sqrt_v_hat")}
    for t in range(1, int(steps) + 1):
        g = s.grad(p.data)
        p.grad[...] = g
        opt.step()
        rows["g"].append(np.abs(g))
        rows["m_hat"].append(np.abs(opt.m[0]) / (1.0 - beta ** t))
        rows["sqrt_v_hat"].append(np.sqrt(opt.v[0] / (1.0 - beta2 ** t)))
    out = {k: np.array(v) for k, v in rows.items()}
    out["ratio"] = out["m_hat"] / out["sqrt_v_hat"]
    return out


def style_paths(ax, surface, paths, steps=None, legend_loc="lower right", fontsize=9):
    """Give each optimizer's line (found by its label) a fixed style, put the final loss (or
    "diverged") in its label, mark the start and the minima, and draw the legend
    (``legend_loc=None``: no legend)."""
    s = SURFACES[surface]
    for line in ax.get_lines():
        name = line.get_label()
        if name not in paths:
            continue
        path = paths[name]
        if steps is not None and diverged(path, steps):
            label = f"{name} (diverged at step {len(path)})"
        else:
            label = f"{name}: f = {s.f(*path[-1]):.1e}"
        line.set(label=label, lw=1.3, ms=2.5, markevery=max(1, len(path) // 30), alpha=0.9,
                 **STYLES.get(name, {}))
    ax.plot(*s.start, "k*", ms=11, label="start")
    mx, my = np.array(s.minima).T
    ax.plot(mx, my, "kx", ms=9, mew=2, ls="none", label="minimum")
    if legend_loc is not None:
        ax.legend(fontsize=fontsize, loc=legend_loc, framealpha=0.85)
    elif ax.get_legend() is not None:
        ax.get_legend().remove()
    return ax


def _darken_low_levels(ax):
    # cl.plots draws light lines at low loss; reversed greys keep the valley floor visible
    for contours in ax.collections:
        lo, hi = contours.get_clim()
        contours.set_cmap("Greys_r")
        contours.set_clim(lo, hi + 0.6 * (hi - lo))


def draw_paths(surface, paths, ax=None, steps=None, title=None, legend_loc="lower right"):
    """Contours (``cl.plots.plot_optimizer_paths``) with the paths on top; returns the axes.

    ``steps`` (optional) marks runs that stopped early as diverged in the legend.
    """
    from ..plots import plot_optimizer_paths

    s = SURFACES[surface]
    ax = plot_optimizer_paths(s.f, paths, ax=ax, xlim=s.xlim, ylim=s.ylim, levels=25,
                              log_levels=s.log_levels, title=title or s.name)
    _darken_low_levels(ax)
    return style_paths(ax, surface, paths, steps, legend_loc)


def draw_surfaces(surfaces, lr=0.05, beta=0.9, beta2=0.99, steps=150, floor=1e-14):
    """The static figure of notebook 06, section 9: one row per surface, the paths on the
    contours (left) and f along each path on a log scale (right), one legend for the figure.

    ``floor``: the lowest f drawn (RMSProp reaches 1e-34 on the axis-aligned ravine).
    Returns (fig, {surface: paths}).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(surfaces), 2, figsize=(8.4, 3.3 * len(surfaces) + 0.6),
                             gridspec_kw=dict(width_ratios=(1.15, 1)), squeeze=False)
    runs = {}
    for (ax_path, ax_f), surface in zip(axes, surfaces):
        paths = runs[surface] = race_paths(surface, lr, beta, beta2, steps)
        draw_paths(surface, paths, ax=ax_path, steps=steps, legend_loc=None)
        for name, f in losses_along(surface, paths).items():
            st = STYLES[name]
            ax_f.semilogy(np.maximum(f, floor), color=st["color"], ls=st["ls"], lw=1.4)
        lowest = min(float(np.min(f)) for f in losses_along(surface, paths).values())
        ax_f.set(xlabel="step", ylabel="f(w) (log)", ylim=(max(floor, 0.3 * lowest), None),
                 title="f along the path")
        ax_f.grid(alpha=0.3)
    handles = [plt.Line2D([], [], lw=1.6, ms=4, **STYLES[name]) for name in OPTIMIZERS]
    fig.legend(handles, OPTIMIZERS, loc="upper center", ncol=6, fontsize=9, frameon=False,
               handlelength=2.2, columnspacing=1.2)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig, runs


@lru_cache(maxsize=None)
def _contour_grid(surface, n=120):
    # the contour background of the widget: computed once per surface
    s = SURFACES[surface]
    gx, gy = np.meshgrid(np.linspace(*s.xlim, n), np.linspace(*s.ylim, n))
    z = s.f(gx, gy)
    if s.log_levels:
        z = np.log10(z - z.min() + 1e-3)
    return gx, gy, z


def race_figure(lr=0.05, beta=0.9, beta2=0.99, surface="ravine", steps=150):
    """One race as a new figure (a coarser, cached contour grid than draw_paths, for speed).

    Returns (fig, paths).
    """
    import matplotlib.pyplot as plt

    s = SURFACES[surface]
    paths = race_paths(surface, lr, beta, beta2, steps)
    fig, ax = plt.subplots(figsize=(8.0, 5.2))
    gx, gy, z = _contour_grid(surface)
    ax.contour(gx, gy, z, levels=20, cmap="Greys_r", linewidths=0.6,
               vmin=z.min(), vmax=z.max() + 0.6 * (z.max() - z.min()))
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], label=name)
    ax.set(xlim=s.xlim, ylim=s.ylim, xlabel="$w_1$", ylabel="$w_2$",
           title=f"{s.name}, {steps} steps\nlr = {lr:.3g}, β = {beta:.3g}, β2 = {beta2:.4g}")
    style_paths(ax, surface, paths, steps, legend_loc="center left")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.9)
    fig.tight_layout()
    return fig, paths


def draw_race(lr=0.05, beta=0.9, beta2=0.99, surface="ravine", steps=150):
    """Compute and show one race; returns the paths (kept as ``.result`` by ``interactive``).

    Shapes: returns dict name -> (T, 2).
    """
    import matplotlib.pyplot as plt

    fig, paths = race_figure(lr, beta, beta2, surface, steps)
    plt.show()
    plt.close(fig)
    return paths


def optimizer_race(lr=0.05, beta=0.9, beta2=0.99, surface="ravine", steps=150):
    """The race widget: learning rate (log slider, first), beta, beta2 and a surface dropdown.

    beta is the momentum of momentum/Nesterov and Adam's beta1; beta2 is RMSProp's alpha and
    Adam's beta2. Returns an ``ipywidgets.interactive``; its ``.result`` holds the last paths.
    """
    import ipywidgets as W

    style = {"description_width": "initial"}
    controls = dict(
        lr=W.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.05, description="learning rate",
                            readout_format=".3g", continuous_update=False, style=style),
        beta=W.FloatSlider(value=beta, min=0.0, max=0.99, step=0.01, description="β (momentum, Adam β1)",
                           continuous_update=False, style=style),
        beta2=W.SelectionSlider(options=[0.9, 0.95, 0.99, 0.995, 0.999], value=beta2,
                                description="β2 (RMSProp α, Adam β2)", continuous_update=False, style=style),
        surface=W.Dropdown(options=[(s.name, k) for k, s in SURFACES.items()], value=surface,
                           description="surface", style=style),
        steps=W.fixed(steps),
    )
    box = W.interactive(draw_race, **controls)
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


# ---------------------------------------------------------------------------------------------
# the quadratic analysis: exact rates of gradient descent and heavy-ball momentum

Tuning = namedtuple("Tuning", "lr beta rate")


def _curvatures(lam_min, lam_max, where):
    lam_min, lam_max = float(lam_min), float(lam_max)
    if not (lam_min > 0 and lam_max >= lam_min and math.isfinite(lam_max)):
        raise ValueError(f"{where}: need curvatures 0 < lam_min <= lam_max, got lam_min={lam_min!r}, "
                         f"lam_max={lam_max!r} (the eigenvalues of the quadratic's Hessian)")
    return lam_min, lam_max


def gd_rate(lr, lam_min, lam_max):
    """Rate of gradient descent on a quadratic with curvatures lam_min..lam_max: the factor by
    which the error shrinks per step, max(|1 - lr lam_min|, |1 - lr lam_max|); >= 1 diverges.
    Shapes: lr any -> same shape."""
    lam_min, lam_max = _curvatures(lam_min, lam_max, "gd_rate")
    lr = np.asarray(lr, dtype=np.float64)
    return np.maximum(np.abs(1.0 - lr * lam_min), np.abs(1.0 - lr * lam_max))


def _heavy_ball_radius(lr, beta, lam):
    # eigenvalues of [[1 - lr lam, -lr beta], [lam, beta]] (the step on (w, v)) solve
    # z^2 - (1 + beta - lr lam) z + beta = 0; complex pairs have |z| = sqrt(beta)
    trace = 1.0 + beta - lr * lam
    disc = trace * trace - 4.0 * beta
    real = 0.5 * (np.abs(trace) + np.sqrt(np.maximum(disc, 0.0)))
    return np.where(disc < 0.0, np.sqrt(np.maximum(beta, 0.0)), real)


def momentum_rate(lr, beta, lam_min, lam_max):
    """Exact rate of heavy-ball momentum (PyTorch's form: v = beta v + g, w = w - lr v) on a
    quadratic with curvatures lam_min and lam_max: the larger spectral radius of the two 2x2
    iterations on (w, v), i.e. the largest |z| with z**2 - (1 + beta - lr lam) z + beta = 0.
    beta = 0 gives gd_rate. >= 1 diverges.
    Shapes: lr and beta broadcast together -> their broadcast shape.
    """
    lam_min, lam_max = _curvatures(lam_min, lam_max, "momentum_rate")
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64))
    if np.any(beta < 0) or np.any(beta >= 1):
        raise ValueError("momentum_rate: beta must be in [0, 1)")
    return np.maximum(_heavy_ball_radius(lr, beta, lam_min), _heavy_ball_radius(lr, beta, lam_max))


def optimal_gd(lam_min, lam_max):
    """Gradient descent's best constant rate: lr = 2 / (lam_min + lam_max), where both
    coordinates shrink by (kappa - 1) / (kappa + 1), kappa = lam_max / lam_min. Returns
    Tuning(lr, beta=0, rate)."""
    lam_min, lam_max = _curvatures(lam_min, lam_max, "optimal_gd")
    kappa = lam_max / lam_min
    return Tuning(2.0 / (lam_min + lam_max), 0.0, (kappa - 1.0) / (kappa + 1.0))


def optimal_momentum(lam_min, lam_max):
    """Heavy-ball momentum's best (lr, beta) on a quadratic (Polyak 1964; distill's "Why
    Momentum Really Works"): lr = 4 / (sqrt(lam_max) + sqrt(lam_min))**2,
    beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2, rate = sqrt(beta) =
    (sqrt(kappa) - 1) / (sqrt(kappa) + 1). Returns Tuning(lr, beta, rate)."""
    lam_min, lam_max = _curvatures(lam_min, lam_max, "optimal_momentum")
    root = math.sqrt(lam_max / lam_min)
    rate = (root - 1.0) / (root + 1.0)
    return Tuning(4.0 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2, rate * rate, rate)


def quadratic_path(lr, beta, lam_min, lam_max, steps=300, start=(1.0, 1.0), nesterov=False):
    """Run ``cl.SGD(lr, momentum=beta)`` on f(w) = (lam_min w1**2 + lam_max w2**2) / 2 from
    ``start`` (the gradient (lam_min w1, lam_max w2) written into ``.grad``); stops early when
    |w| exceeds 1e100. Shapes: returns (T, 2), T <= steps + 1."""
    lam = np.array(_curvatures(lam_min, lam_max, "quadratic_path"))
    p = Parameter(np.array(start, dtype=np.float64))
    opt = SGD([p], lr=float(lr), momentum=float(beta), nesterov=nesterov)
    path = [p.data.copy()]
    for _ in range(int(steps)):
        p.grad[...] = lam * p.data
        opt.step()
        if not np.all(np.isfinite(p.data)) or np.abs(p.data).max() > 1e100:
            break
        path.append(p.data.copy())
    return np.array(path)


def measured_rate(path, window=20, tiny=1e-250):
    """The rate a run shows: (E(t1) / E(t0)) ** (1 / (t1 - t0)), with E(t) the largest ||w||
    over the ``window`` steps up to t (an envelope, so that oscillating runs are read at their
    crests), t1 the last step with ||w|| > ``tiny`` and t0 = t1 / 2 (the start, where the
    slower direction has not yet taken over, is left out).
    Shapes: path (T, 2) with T > 2 window -> float.
    """
    norms = np.linalg.norm(np.asarray(path, dtype=np.float64), axis=1)
    alive = np.flatnonzero(norms > tiny)
    t1 = int(alive[-1]) if alive.size else 0
    if t1 < 2 * window:
        raise ValueError(f"measured_rate: need more than {2 * window} steps with ||w|| > {tiny:g}, "
                         f"got {t1} (run longer, or use a smaller window)")
    t0 = t1 // 2
    env = lambda t: norms[t - window + 1:t + 1].max()    # noqa: E731
    return float((env(t1) / env(t0)) ** (1.0 / (t1 - t0)))


LR_SCALED_MAX = 4.2      # the x axis of the (lr, beta) plane: lr * lam_max in (0, 4.2]


@lru_cache(maxsize=64)
def rate_map(kappa, n=161):
    """Momentum's exact rate over the (lr, beta) plane for curvatures 1/kappa and 1:
    returns (x, beta, rate) with x = lr * lam_max (n points in (0, 4.2]), beta (n points in
    [0, 0.995]) and rate of shape (n, n), rows along beta. Cached, read-only."""
    x = np.linspace(LR_SCALED_MAX / n, LR_SCALED_MAX, n)
    beta = np.linspace(0.0, 0.995, n)
    rate = momentum_rate(x[None, :], beta[:, None], 1.0 / float(kappa), 1.0)
    for a in (x, beta, rate):
        a.setflags(write=False)
    return x, beta, rate


def steps_per_decade(rate):
    """Steps needed to shrink the error 10x at a given rate: ln 10 / -ln(rate); inf for rate >= 1."""
    rate = np.asarray(rate, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(rate < 1.0, math.log(10.0) / -np.log(np.clip(rate, 1e-300, None)), np.inf)


def _plain_log_ticks(axis):
    """Log-axis tick labels as plain text (1e-4) instead of mathtext: a slider move re-draws
    them, and parsing mathtext costs more than the rest of the figure."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"1e{round(math.log10(v))}" if v > 0 else ""))


def rate_figure(kappa=100.0, lr_scaled=1.0, beta=0.5, steps=400):
    """The (lr, beta) plane for condition number kappa, coloured by the steps per 10x error
    reduction, with the optimum (star), GD's optimum (circle) and the chosen point (cross);
    on the right a run of cl.SGD at the chosen point against the predicted decay.
    Returns (fig, info) with info the predicted and measured rates of the chosen point."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lam_min, lam_max = 1.0 / float(kappa), 1.0
    x, b, rate = rate_map(float(kappa))
    fig, (ax, ax_run) = plt.subplots(1, 2, figsize=(8.4, 4.3), gridspec_kw=dict(width_ratios=(1.25, 1)))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.25, top=0.92, wspace=0.45)
    best, gd = optimal_momentum(lam_min, lam_max), optimal_gd(lam_min, lam_max)
    fastest = float(steps_per_decade(best.rate))
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="0.85")
    shown = np.where(rate < 1.0, steps_per_decade(rate), np.nan)
    dx, db = x[1] - x[0], b[1] - b[0]
    im = ax.imshow(shown, cmap=cmap, norm=LogNorm(0.8 * fastest, 300 * fastest), origin="lower",
                   aspect="auto", interpolation="nearest",
                   extent=(x[0] - dx / 2, x[-1] + dx / 2, b[0] - db / 2, b[-1] + db / 2))
    # the stability edge: the steep end diverges once lr * lam_max > 2 (1 + beta)
    ax.plot([2.0, 2.0 * (1.0 + b[-1])], [0.0, b[-1]], color="k", lw=1.0)
    cb = fig.colorbar(im, ax=ax, pad=0.02)
    cb.set_label("steps per 10× smaller error (log)", fontsize=9)
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))   # plain text: fast to draw
    cb.ax.yaxis.set_minor_formatter(NullFormatter())
    ax.plot(best.lr * lam_max, best.beta, "w*", ms=15, mec="k", ls="none",
            label=f"optimum η*, β*: rate {best.rate:.4f}")
    ax.plot(gd.lr * lam_max, 0.0, "o", color="w", mec="k", ms=8, clip_on=False, ls="none",
            label=f"GD's best (β = 0): rate {gd.rate:.4f}")
    lr = float(lr_scaled) / lam_max
    predicted = float(momentum_rate(lr, beta, lam_min, lam_max))
    ax.plot(lr_scaled, beta, "X", color="tab:red", mec="w", ms=11, ls="none",
            label=f"your (η, β): rate {predicted:.4f}")
    ax.set(xlabel="η · λmax", ylabel="β (momentum)", xlim=(0, LR_SCALED_MAX), ylim=(0, 1),
           title=f"κ = {kappa:.4g}; grey: diverges (rate ≥ 1)")

    path = quadratic_path(lr, beta, lam_min, lam_max, steps=steps)
    norms = np.linalg.norm(path, axis=1)
    t = np.arange(len(path))
    try:
        measured = measured_rate(path)
    except ValueError:
        measured = float("nan")
    mid = len(path) // 2
    ax_run.semilogy(t, np.maximum(norms, 1e-300), color="tab:red", lw=1.2, label="‖w‖ of the cl.SGD run")
    ax_run.semilogy(t, max(norms[mid], 1e-300) * predicted ** (t - mid), "k--", lw=1.0,
                    label=f"slope of rate^t ({predicted:.3f})")
    ax_run.set(xlabel="step", ylabel="‖w‖ (log)", ylim=(1e-12, 1e4),
               title=f"measured rate {measured:.4f}")
    _plain_log_ticks(ax_run.yaxis)
    ax_run.legend(fontsize=9, loc="lower left")
    ax_run.grid(alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9, frameon=False)
    return fig, dict(predicted=predicted, measured=measured, optimum=best, gd=gd)


def draw_rates(kappa=100.0, lr_scaled=1.0, beta=0.5, steps=400):
    """Compute and show one rate_figure; returns its info dict (``.result`` of the widget)."""
    import matplotlib.pyplot as plt

    fig, info = rate_figure(kappa, lr_scaled, beta, steps)
    plt.show()
    plt.close(fig)
    return info


def momentum_explorer(kappa=100.0, lr_scaled=1.0, beta=0.5, steps=400):
    """The (lr, beta) widget: condition number (log slider), lr * lam_max and beta.

    Returns an ``ipywidgets.interactive``; ``.result`` holds the predicted and measured rates.
    """
    import ipywidgets as W

    style = {"description_width": "initial"}
    controls = dict(
        kappa=W.FloatLogSlider(value=kappa, base=10, min=0.5, max=4, step=0.25, description="κ = λmax/λmin",
                               readout_format=".3g", continuous_update=False, style=style),
        lr_scaled=W.FloatSlider(value=lr_scaled, min=0.02, max=LR_SCALED_MAX, step=0.02,
                                description="η · λmax", continuous_update=False, style=style),
        beta=W.FloatSlider(value=beta, min=0.0, max=0.99, step=0.01, description="β",
                           continuous_update=False, style=style),
        steps=W.fixed(steps),
    )
    return W.interactive(draw_rates, **controls)
