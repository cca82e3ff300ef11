"""Loss-surface / preprocessing explorer for notebooks/00_foundations.ipynb.

A two-weight linear regression, y ≈ w1 x1 + w2 x2 (no bias, so the whole loss surface is a
2-D picture), fitted by full-batch gradient descent on the mean squared error. The two raw
features are correlated, have non-zero means and very different scales (``scale`` multiplies
the second one, as a change of units would). The inputs are used raw, centred, standardized
or PCA-whitened (statistics from ``course_lib.data``, fitted on this training set); for every
version except "raw" the target is centred too, which is what a bias would absorb.

The MSE of a linear model is a quadratic in w:
    L(w) = w^T A w - 2 b^T w + c,  A = X^T X / N,  b = X^T y / N,  c = y^T y / N,
with Hessian 2A, so its contours are ellipses whose axis ratio is sqrt(cond(A)), and gradient
descent with learning rate lr is stable only for lr < 1 / lambda_max(A).

Pure, seeded compute functions (``make_data``, ``preprocess``, ``quadratic``, ``mse``,
``condition_number``, ``gd_path``, ``steps_to_converge``, ``explore``), drawing
(``plot_contours`` for static figures, ``LossSurfaceView`` for the widget's reused figure)
and the builder ``loss_surface_explorer``.
"""
from functools import lru_cache

import numpy as np

from ..data import Center, Standardize, Whiten

PREPROCESSING = ("raw", "centered", "standardized", "whitened")
COLORS = {"raw": "tab:red", "centered": "tab:orange", "standardized": "tab:blue", "whitened": "tab:green"}


def make_data(scale=1.0, n=200, rho=0.6, noise=0.5, rng=0):
    """The raw training set: x1 = 3 + u1, x2 = scale * (30 + 10 u2), y = x1 - 0.05 x2 / scale + noise.

    (u1, u2) are standard normal with correlation ``rho``. In "natural" units (scale = 1) the
    second feature is 10x larger than the first and both sit far from 0. The target has no
    intercept, so the bias-free model fits it exactly (up to noise) in every version.
    Shapes: X (n, 2), y (n,).
    """
    g = np.random.default_rng(rng)
    z = g.standard_normal((n, 3))
    u1 = z[:, 0]
    u2 = rho * z[:, 0] + np.sqrt(1.0 - rho ** 2) * z[:, 1]
    x1 = 3.0 + u1
    x2 = 30.0 + 10.0 * u2
    y = x1 - 0.05 * x2 + noise * z[:, 2]
    return np.c_[x1, scale * x2], y


def preprocess(X, y, how):
    """Apply one of PREPROCESSING, fitted on (X, y) itself (the training set).

    "raw": unchanged; "centered": X - mean; "standardized": (X - mean) / std;
    "whitened": PCA whitening (identity covariance). All but "raw" also centre y.
    Shapes: X (N, 2), y (N,) -> X' (N, 2), y' (N,).
    """
    if how == "raw":
        return X, y
    prep = {"centered": Center(), "standardized": Standardize(), "whitened": Whiten(eps=0.0)}
    if how not in prep:
        raise ValueError(f"preprocess: how must be one of {PREPROCESSING}, got {how!r}")
    return prep[how].fit_transform(X), y - y.mean()


def quadratic(X, y):
    """Coefficients of the MSE surface L(w) = w^T A w - 2 b^T w + c and its minimum.

    Returns (A, b, c, w_star, L_star). Shapes: X (N, D), y (N,) -> A (D, D), b (D,), w_star (D,).
    """
    n = len(X)
    A, b, c = X.T @ X / n, X.T @ y / n, float(y @ y / n)
    w_star = np.linalg.solve(A, b)
    return A, b, c, w_star, float(c - b @ w_star)


def mse(w, X, y):
    """L(w) = mean((X w - y)**2). Shapes: w (D,), X (N, D), y (N,) -> float."""
    return float(np.mean((X @ w - y) ** 2))


def condition_number(X):
    """cond of the MSE Hessian 2 X^T X / N: largest over smallest eigenvalue. Shapes: X (N, D)."""
    lam = np.linalg.eigvalsh(X.T @ X / len(X))
    return float(lam[-1] / lam[0])


def gd_path(X, y, lr, steps, w0=None, blowup=1e6):
    """Full-batch gradient descent on the MSE: w <- w - lr * 2 X^T (X w - y) / N.

    Stops early (path shorter than steps + 1) once |w| exceeds ``blowup``: diverged.
    Shapes: X (N, D), y (N,) -> path (T, D) of visited weights (T <= steps + 1), losses (T,).
    """
    A, b, c, _, _ = quadratic(X, y)
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    path, losses = [w.copy()], [float(w @ A @ w - 2 * b @ w + c)]
    for _ in range(steps):
        w = w - lr * 2.0 * (A @ w - b)      # the gradient of the quadratic, same as from X, y
        if not np.all(np.abs(w) < blowup):
            break
        path.append(w.copy())
        losses.append(float(w @ A @ w - 2 * b @ w + c))
    return np.array(path), np.array(losses)


def steps_to_converge(X, y, lr, tol=1e-6, max_steps=100_000, w0=None):
    """Number of GD steps until L - L* <= tol * (L(w0) - L*); None if not within max_steps.

    Shapes: X (N, D), y (N,) -> int or None.
    """
    A, b, c, w_star, L_star = quadratic(X, y)
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    # on a quadratic, L - L* = (w - w*)^T A (w - w*): iterate on the error e = w - w*
    e = w - w_star
    gap0 = float(e @ A @ e)
    M = np.eye(len(e)) - 2.0 * lr * A
    for t in range(1, max_steps + 1):
        e = M @ e
        gap = float(e @ A @ e)
        if gap <= tol * gap0:
            return t
        if not np.isfinite(gap) or gap > 1e12 * gap0:
            return None
    return None


@lru_cache(maxsize=512)
def explore(scale=1.0, preprocessing="raw", lr=5e-4, steps=100, grid=121):
    """Everything the explorer shows for one setting (cached: do not modify the result).

    Returns a dict: "preprocessing", "scale", "lr", "kappa" (Hessian condition number),
    "lr_max" (stability limit 1 / lambda_max(A)), "w_star", "L_star", "path" (T, 2),
    "losses" (T,), "diverged", the contour grid "gx", "gy" (grid, grid) and "log_gap"
    (log10(L - L*) on it), the square window "xlim", "ylim", and "gaps": for each
    preprocessing the GD curve L - L* (T,) at the same scale and lr (the comparison panel).
    """
    if preprocessing not in PREPROCESSING:
        raise ValueError(f"explore: preprocessing must be one of {PREPROCESSING}, got {preprocessing!r}")
    X_raw, y_raw = make_data(scale)
    gaps = {}
    for how in PREPROCESSING:
        X, y = preprocess(X_raw, y_raw, how)
        A, b, c, w_star, L_star = quadratic(X, y)
        path, losses = gd_path(X, y, lr, steps)
        gaps[how] = np.maximum(losses - L_star, 1e-300)
        if how == preprocessing:
            chosen = dict(A=A, w_star=w_star, L_star=L_star, path=path, losses=losses,
                          kappa=condition_number(X), lr_max=1.0 / np.linalg.eigvalsh(A)[-1],
                          diverged=len(path) < steps + 1 or losses[-1] > losses[0])
    A, w_star, path = chosen["A"], chosen["w_star"], chosen["path"]
    # a square window (equal aspect: ellipses look as elongated as they are) around start and optimum
    center = 0.5 * (path[0] + w_star)
    half = max(0.7 * float(np.max(np.abs(w_star - path[0]))), 1e-3)
    t = np.linspace(-half, half, grid)
    gx, gy = np.meshgrid(center[0] + t, center[1] + t)
    d = np.stack([gx - w_star[0], gy - w_star[1]], axis=-1)
    gap = np.einsum("...i,ij,...j->...", d, A, d)            # L(w) - L* on the grid
    chosen.update(preprocessing=preprocessing, scale=scale, lr=lr, gx=gx, gy=gy,
                  log_gap=np.log10(np.maximum(gap, 1e-300)), gaps=gaps,
                  xlim=(center[0] - half, center[0] + half), ylim=(center[1] - half, center[1] + half))
    return chosen


def _levels(res):
    """Contour levels of log10(L - L*): half decades from 1e-4 to 10 times the start's excess loss."""
    start_gap = np.log10(max(res["losses"][0] - res["L_star"], 1e-300))
    return start_gap + np.arange(-4.0, 1.01, 0.5)


def plot_contours(res, ax=None, title=None):
    """Contours of log10(L - L*) with the GD path from w = 0 and the optimum w* marked.

    ``res`` is a dict from ``explore``. Equal axis scales, so ellipses look as elongated as they are.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.contour(res["gx"], res["gy"], res["log_gap"], levels=_levels(res), colors="0.45",
               linewidths=0.7, linestyles="solid")
    path = res["path"]
    ax.plot(path[:, 0], path[:, 1], "o-", color=COLORS[res["preprocessing"]], ms=2.5, lw=1.0,
            label=f"GD, {len(path) - 1} steps")
    ax.plot(*res["w_star"], "k*", ms=12, label="minimum w*")
    ax.plot(*path[0], "ks", ms=5, label="start w = 0")
    ax.set_xlim(*res["xlim"])
    ax.set_ylim(*res["ylim"])
    ax.set_aspect("equal")
    ax.set_xlabel("weight w1")
    ax.set_ylabel("weight w2")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title or f"{res['preprocessing']}: cond(H) = {res['kappa']:,.0f}, lr = {res['lr']:.2g}",
                 fontsize=10)
    return ax


class LossSurfaceView:
    """The explorer's figure, built once; ``render(res)`` only swaps data, limits and texts.

    Left: contours + GD path (as ``plot_contours``). Right: log10(L - L*) against the step for
    every preprocessing at the same scale and lr. Reusing the artists (instead of a new figure
    per slider move) keeps a redraw well under a quarter of a second.
    """

    def __init__(self, figsize=(10, 4.2)):
        from matplotlib.figure import Figure     # not pyplot: the notebook's inline backend won't show it twice
        from matplotlib.ticker import MaxNLocator

        self.fig = Figure(figsize=figsize)
        self.ax1, self.ax2 = self.fig.subplots(1, 2, gridspec_kw={
            "width_ratios": [1, 1.15], "left": 0.07, "right": 0.98, "bottom": 0.12, "top": 0.86, "wspace": 0.25})
        ax1, ax2 = self.ax1, self.ax2
        for ax in (ax1, ax2):          # few tick labels: text rendering is most of a redraw's cost
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(5))
        self.contours = None
        self.path, = ax1.plot([], [], "o-", ms=2.5, lw=1.0, label="gradient descent")
        self.star, = ax1.plot([], [], "k*", ms=12, label="minimum w*")
        self.start, = ax1.plot([], [], "ks", ms=5, label="start w = 0")
        ax1.set_aspect("equal")
        ax1.set_xlabel("weight w1")
        ax1.set_ylabel("weight w2")
        self.legend1 = ax1.legend(fontsize=8, loc="upper right")
        # log10 on a linear axis: a log-scale axis (minor ticks, mathtext labels) redraws slower
        self.curves = {how: ax2.plot([], [], color=COLORS[how], label=how)[0] for how in PREPROCESSING}
        ax2.set_xlabel("gradient-descent step")
        ax2.set_ylabel("log10( L(w) − L(w*) )")
        self.legend2 = ax2.legend(fontsize=8, loc="center right")
        self.title1 = ax1.set_title("", fontsize=10)
        self.title2 = ax2.set_title("", fontsize=10)
        self.suptitle = self.fig.suptitle("", fontsize=10)

    def update(self, res):
        """Show the result of ``explore``; returns the Figure."""
        ax1, ax2 = self.ax1, self.ax2
        if self.contours is not None:
            self.contours.remove()
        self.contours = ax1.contour(res["gx"], res["gy"], res["log_gap"], levels=_levels(res),
                                    colors="0.45", linewidths=0.7, linestyles="solid")
        path = res["path"]
        self.path.set_data(path[:, 0], path[:, 1])
        self.path.set_color(COLORS[res["preprocessing"]])
        self.legend1.legend_handles[0].set_color(COLORS[res["preprocessing"]])
        self.star.set_data([res["w_star"][0]], [res["w_star"][1]])
        self.start.set_data([path[0, 0]], [path[0, 1]])
        ax1.set_xlim(*res["xlim"])
        ax1.set_ylim(*res["ylim"])
        self.title1.set_text(f"{res['preprocessing']}: cond(H) = {res['kappa']:,.0f}, {len(path) - 1} steps")

        n = len(res["gaps"]["whitened"])          # never diverges: the full number of points
        for (how, line), text in zip(self.curves.items(), self.legend2.get_texts()):
            gap = res["gaps"][how]
            chosen = how == res["preprocessing"]
            line.set_data(np.arange(len(gap)), np.log10(gap))
            line.set_linewidth(2.4 if chosen else 1.0)
            line.set_alpha(1.0 if chosen else 0.6)
            text.set_text(how + (" (diverged)" if len(gap) < n or gap[-1] > gap[0] else ""))
        top = max(np.log10(g[0]) for g in res["gaps"].values()) + 1.0
        ax2.set_xlim(0, n - 1)
        ax2.set_ylim(-8.5, top)
        self.title2.set_text(f"every version at the same lr = {res['lr']:.2g}")
        final = max(res["losses"][-1] - res["L_star"], 0.0)
        status = ("DIVERGED" if res["diverged"] else
                  "converged: L − L* < 1e-12" if final < 1e-12 else f"final L − L* = {final:.2g}")
        self.suptitle.set_text(f"x2 in units scaled by {res['scale']:.3g}; {res['preprocessing']} inputs: "
                               f"stable only for lr < {res['lr_max']:.2g}; {status}")
        return self.fig

    def render(self, res, dpi=80):
        """Update and return the figure as PNG bytes (one draw, no tight-bbox second pass)."""
        import io

        self.update(res)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()


def loss_surface_explorer(scale=1.0, preprocessing="raw", lr=10 ** -3.125, steps=100):
    """Build the widget: feature-scale slider (log, first), preprocessing dropdown, learning-rate slider (log).

    Each change recomputes ``explore`` (cached) and redraws one reused figure; the callback
    returns ``(png_bytes, res)`` so tests can read ``widget.result``.
    """
    import ipywidgets as w
    from IPython.display import Image, display

    view = LossSurfaceView()

    def show(scale, preprocessing, lr):
        res = explore(float(scale), preprocessing, float(lr), steps)
        png = view.render(res)
        display(Image(data=png, format="png"))
        return png, res

    style = {"description_width": "initial"}
    layout = w.Layout(width="420px")
    box = w.interactive(
        show,
        scale=w.FloatLogSlider(value=scale, base=10, min=-2, max=2, step=0.125, readout_format=".3g",
                               description="unit scale of x2", continuous_update=False,
                               style=style, layout=layout),
        preprocessing=w.Dropdown(options=PREPROCESSING, value=preprocessing, description="inputs",
                                 style=style),
        lr=w.FloatLogSlider(value=lr, base=10, min=-5, max=0, step=0.125, readout_format=".2g",
                            description="learning rate", continuous_update=False,
                            style=style, layout=layout),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box
