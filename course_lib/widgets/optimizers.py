"""The optimizer race: SGD, momentum, Nesterov, RMSProp and Adam on a 2-D loss surface, live.

A learning-rate slider (log scale), two beta sliders and a surface dropdown redraw the
paths of the five course_lib optimizers, each run on one ``Parameter`` of shape (2,) whose
``.grad`` is filled with the surface's analytic gradient. Used in notebooks/06_optimizers.ipynb,
which also draws its static path figures with ``optimizer_path`` and ``SURFACES``.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from ..module import Parameter
from ..optim import SGD, Adam, RMSProp


# ---------------------------------------------------------------------------------------------
# the surfaces: f(x, y) vectorized for contour plots, grad(w) for one point w of shape (2,)

def ravine(x, y):
    """Ill-conditioned quadratic 0.1 x^2 + 10 y^2: curvatures 0.2 and 20 (condition number 100)."""
    return 0.1 * x ** 2 + 10.0 * y ** 2


def ravine_grad(w):
    """Analytic gradient of ravine. Shapes: w (2,) -> (2,)."""
    return np.array([0.2 * w[0], 20.0 * w[1]])


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
    minima: tuple          # the minimum points, ((x, y), ...)
    log_levels: bool = False


SURFACES = {
    "ravine": Surface("ill-conditioned quadratic (ravine)", ravine, ravine_grad, (-2.0, 0.9),
                      (-2.2, 2.2), (-1.2, 1.2), ((0.0, 0.0),)),
    "rosenbrock": Surface("Rosenbrock valley", rosenbrock, rosenbrock_grad, (-1.2, 1.0),
                          (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), log_levels=True),
    "saddle": Surface("saddle between two minima", saddle, saddle_grad, (-1.5, 0.01),
                      (-2.0, 2.0), (-1.6, 1.6), ((0.0, 1.0), (0.0, -1.0))),
}

OPTIMIZERS = ("SGD", "momentum", "Nesterov", "RMSProp", "Adam")
STYLES = {   # fixed colours and line styles so each optimizer looks the same in every figure
    "SGD": dict(color="tab:blue", ls="-", marker="o"),
    "momentum": dict(color="tab:orange", ls="-", marker="o"),
    "Nesterov": dict(color="tab:green", ls="--", marker="^"),
    "RMSProp": dict(color="tab:red", ls="-", marker="s"),
    "Adam": dict(color="tab:purple", ls="-", marker="D"),
}


def make_optimizer(name, params, lr, beta=0.9, beta2=0.99):
    """One of OPTIMIZERS on ``params``: beta is the momentum (and Adam's beta1), beta2 is
    RMSProp's alpha (its rho) and Adam's beta2."""
    if name == "SGD":
        return SGD(params, lr)
    if name == "momentum":
        return SGD(params, lr, momentum=beta)
    if name == "Nesterov":
        return SGD(params, lr, momentum=beta, nesterov=True)
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
    """Paths of the five optimizers on one surface (deterministic: no randomness involved).

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


def style_paths(ax, surface, paths, steps=None, legend_loc="lower right"):
    """Give each optimizer's line (found by its label) a fixed style, put the final loss (or
    "diverged") in its label, mark the start and the minima, and draw the legend."""
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
    ax.legend(fontsize=7, loc=legend_loc, framealpha=0.85)
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
    fig, ax = plt.subplots(figsize=(7.5, 5))
    gx, gy, z = _contour_grid(surface)
    ax.contour(gx, gy, z, levels=20, cmap="Greys_r", linewidths=0.6,
               vmin=z.min(), vmax=z.max() + 0.6 * (z.max() - z.min()))
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], label=name)
    ax.set(xlim=s.xlim, ylim=s.ylim, xlabel="$w_1$", ylabel="$w_2$",
           title=f"{s.name}, {steps} steps\nlr = {lr:.3g}, β = {beta:.3g}, β2 = {beta2:.4g}")
    style_paths(ax, surface, paths, steps)
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
