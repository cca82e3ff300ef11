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

The notebook's other figures and its digits experiments live here too: ``plot_losses`` (the
three loss/slope pairs), ``scatter_versions``/``plot_scatter_versions`` (CS231n's picture of
raw, centred, standardized, PCA-rotated and whitened 2-D data), ``plot_gaps`` (L - L* against
the step), ``init_scale_runs``/``plot_init_scales`` (the loss curve of a confidently wrong
init against one at ln K, several seeds) and ``lr_selection``/``plot_lr_selection`` (choosing
the learning rate on the validation set, several seeds, paired comparisons). Every random
draw derives from COURSE_SEED: ``make_data``'s default generator is ``make_rng(0)``, the
training runs use the seeds ``cl.seeds(n)`` with one stream per ingredient,
``np.random.default_rng([seed, k])``.
"""
from functools import lru_cache

import numpy as np

from ..data import PCA, Center, Standardize, Whiten, load_digits
from ..experiments import over_seeds
from ..rng import course_seed, make_rng
from ..rng import seeds as course_seeds

PREPROCESSING = ("raw", "centered", "standardized", "whitened")
COLORS = {"raw": "tab:red", "centered": "tab:orange", "standardized": "tab:blue", "whitened": "tab:green"}


def make_data(scale=1.0, n=200, rho=0.6, noise=0.5, rng=None):
    """The raw training set: x1 = 3 + u1, x2 = scale * (30 + 10 u2), y = x1 - 0.05 x2 / scale + noise.

    (u1, u2) are standard normal with correlation ``rho``. In "natural" units (scale = 1) the
    second feature is 10x larger than the first and both sit far from 0. The target has no
    intercept, so the bias-free model fits it exactly (up to noise) in every version.
    ``rng``: an int seed or Generator; None draws from ``make_rng(0)`` (COURSE_SEED), afresh at
    every call, so every scale sees the same points.
    Shapes: X (n, 2), y (n,).
    """
    g = make_rng(0) if rng is None else np.random.default_rng(rng)
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
    return _explore(course_seed(), float(scale), preprocessing, float(lr), int(steps), int(grid))


@lru_cache(maxsize=512)
def _explore(seed, scale, preprocessing, lr, steps, grid):
    """``explore`` for the course seed ``seed`` (part of the cache key: the data depend on it)."""
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


explore.cache_clear = _explore.cache_clear


def _levels(res):
    """Contour levels of log10(L - L*): half decades from 1e-4 to 10 times the start's excess loss."""
    start_gap = np.log10(max(res["losses"][0] - res["L_star"], 1e-300))
    return start_gap + np.arange(-4.0, 1.01, 0.5)


def plot_contours(res, ax=None, title=None, inset=False, legend="upper right"):
    """Contours of log10(L - L*) with the GD path from w = 0 and the optimum w* marked.

    ``res`` is a dict from ``explore``. Equal axis scales, so ellipses look as elongated as they are.
    ``inset``: also draw the path magnified in an inset at the lower right (for a path too
    small to see in the window, such as raw inputs' zig-zag near the start). ``legend``: its
    location, or None for no legend. Returns ax.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    if inset:
        _path_inset(res, ax)
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
    if legend:
        ax.legend(fontsize=9, loc=legend)
    ax.set_title(title or f"{res['preprocessing']}: cond(H) = {res['kappa']:,.0f}, lr = {res['lr']:.2g}",
                 fontsize=10)
    return ax


def _path_inset(res, ax):
    """The GD path magnified (x30 or so) in an inset at the lower left of ``ax``."""
    path = res["path"]
    lo, hi = path.min(axis=0), path.max(axis=0)
    half = 0.6 * max(float(np.max(hi - lo)), 1e-12)
    mid = 0.5 * (lo + hi)
    sub = ax.inset_axes([0.52, 0.1, 0.44, 0.34])
    sub.plot(path[:, 0], path[:, 1], "o-", color=COLORS[res["preprocessing"]], ms=2.5, lw=0.8)
    sub.plot(*path[0], "ks", ms=5)
    sub.set_xlim(mid[0] - half, mid[0] + half)
    sub.set_ylim(mid[1] - half, mid[1] + half)
    sub.set_aspect("equal")
    sub.set_xticks([])
    sub.set_yticks([])
    zoom = (res["xlim"][1] - res["xlim"][0]) / (2 * half)
    sub.set_xlabel(f"the path, magnified {zoom:.0f}×", fontsize=9, labelpad=2)
    for side in sub.spines.values():
        side.set_edgecolor("0.3")
    return sub


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


# ---------------------------------------------------------------------------------------------
# static figures of the notebook
# ---------------------------------------------------------------------------------------------

def plot_losses(axes=None):
    """Each loss and its slope against its input: identity + MSE (target 1), sigmoid + binary
    cross-entropy (targets 0 and 1), softmax + cross-entropy of the gold class among ten
    (the nine other logits at 0). Returns the three axes."""
    import matplotlib.pyplot as plt

    from ..functional import sigmoid

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(8.4, 3.3))
    t = np.linspace(-3, 5, 200)
    axes[0].plot(t, (t - 1) ** 2, label="loss")
    axes[0].plot(t, 2 * (t - 1), "--", label="slope $2(\\hat y - 1)$")
    axes[0].set(title="identity + MSE, y = 1", xlabel="prediction $\\hat y$", ylim=(-9, 17))
    z = np.linspace(-8, 8, 200)
    for g, c in [(1, "tab:blue"), (0, "tab:orange")]:
        axes[1].plot(z, np.logaddexp(0, -z) if g else np.logaddexp(0, z), color=c, label=f"loss, g = {g}")
        axes[1].plot(z, sigmoid(z) - g, "--", color=c, label=f"slope σ(z) − {g}")
    axes[1].set(title="sigmoid + binary CE", xlabel="logit z")
    others = 9
    axes[2].plot(z, -z + np.log(np.exp(z) + others), label="loss")
    axes[2].plot(z, np.exp(z) / (np.exp(z) + others) - 1, "--", label="slope $o_{gold} - 1$")
    axes[2].set(title="softmax + CE, K = 10", xlabel="logit of the gold class")
    for ax in axes:
        ax.axhline(0, color="grey", lw=0.5)
        ax.legend(fontsize=9, loc="upper center", framealpha=0.9)
    axes[0].set_ylabel("loss (solid), slope (dashed)")
    axes[0].figure.tight_layout()
    return axes


SCATTER_VERSIONS = ("raw", "centred", "standardized", "PCA (decorrelated)", "whitened")


def scatter_versions(X):
    """CS231n's sequence of preprocessing steps on 2-D data, each fitted on X itself:
    raw, centred, standardized, PCA-rotated (decorrelated, variances kept) and whitened.
    Shapes: X (N, 2) -> dict name -> (N, 2)."""
    return {"raw": X,
            "centred": Center().fit_transform(X),
            "standardized": Standardize().fit_transform(X),
            "PCA (decorrelated)": PCA(2).fit_transform(X),
            "whitened": Whiten(2, eps=0.0).fit_transform(X)}


def plot_scatter_versions(versions, axes=None):
    """One scatter per version with the origin marked and equal axis scales; each title gives
    the per-axis standard deviations and the correlation. Returns the axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(versions), figsize=(8.4, 2.5))
    for ax, (name, V) in zip(axes, versions.items()):
        ax.scatter(V[:, 0], V[:, 1], s=4, alpha=0.5, color="tab:blue", lw=0)
        ax.axhline(0, color="0.5", lw=0.7)
        ax.axvline(0, color="0.5", lw=0.7)
        if name == "raw":              # the origin must be in the picture: that is the point
            hi = np.abs(V).max() * 1.1
            ax.set_xlim(-0.15 * hi, hi)
            ax.set_ylim(-0.15 * hi, hi)
        else:
            lim = np.abs(V).max() * 1.1
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        sd = V.std(axis=0)
        rho = np.corrcoef(V, rowvar=False)[0, 1]
        ax.set_title(f"{name}\nstd {sd[0]:.2g}, {sd[1]:.2g}; ρ = {rho:+.2f}".replace("+0.00", "0.00")
                     .replace("-0.00", "0.00"), fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].figure.tight_layout()
    return axes


def plot_gaps(versions, lrs, kappas, steps=300, floor=1e-12, ax=None):
    """log10(L - L*) against the gradient-descent step for each version at its own lr.

    Values below ``floor`` are drawn at the floor (marked as a grey band): there the difference
    of two float64 losses is rounding noise, and the whitened run reaches it in one step.
    ``versions``: name -> (X, y); ``lrs``, ``kappas``: name -> float. Returns ax.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for how, (X, y) in versions.items():
        _, losses = gd_path(X, y, lrs[how], steps)
        gap = np.log10(np.maximum(losses - quadratic(X, y)[-1], floor))
        ax.plot(np.arange(len(gap)), gap, "o-" if how == "whitened" else "-", ms=4, markevery=[0, 1],
                color=COLORS[how], label=f"{how} (κ = {kappas[how]:,.0f})")
    ax.axhspan(np.log10(floor) - 0.6, np.log10(floor), color="0.85", lw=0)
    ax.text(steps * 0.98, np.log10(floor) + 0.25, f"floor {floor:.0e}: below it, rounding noise",
            ha="right", va="bottom", fontsize=9, color="0.25")
    ax.set(xlabel="gradient-descent step", ylabel="log10( L − L* )", ylim=(np.log10(floor) - 0.6, 1),
           title="gradient descent, each at its best learning rate")
    ax.legend(fontsize=9, loc="center right")
    return ax


# ---------------------------------------------------------------------------------------------
# the digits experiments: the ln K start, and choosing the learning rate on validation
# ---------------------------------------------------------------------------------------------

LRS = (0.001, 0.01, 0.1, 1.0)
INIT_SCALES = (0.01, 1.0, 10.0, 30.0)


@lru_cache(maxsize=4)
def _digits(seed):
    """The digits split of COURSE_SEED ``seed``, centred with the training mean (as §4 teaches)."""
    split = load_digits()
    center = Center().fit(split.X_train)
    return (center.transform(split.X_train), split.y_train, center.transform(split.X_val),
            split.y_val, center.transform(split.X_test), split.y_test)


def centred_digits():
    """(X_train, y_train, X_val, y_val, X_test, y_test) of this COURSE_SEED's split, inputs
    centred with the training mean. Cached: do not modify the arrays."""
    return _digits(course_seed())


def make_classifier(seed, last_scale=0.01, hidden=100):
    """64 -> hidden (ReLU) -> 10 with He init; the last layer's weights times ``last_scale``
    (0.01: logits near 0, initial loss ln 10). Weights from default_rng([seed, 0]) and
    default_rng([seed, 1])."""
    from ..activations import ReLU
    from ..layers import Linear
    from ..module import Sequential

    model = Sequential(Linear(64, hidden, rng=np.random.default_rng([int(seed), 0])), ReLU(),
                       Linear(hidden, 10, rng=np.random.default_rng([int(seed), 1])))
    model[2].W.data *= last_scale
    return model


def _train(seed, lr, last_scale, epochs, batch_size, data):
    """One cl.fit run (SGD, momentum 0.9) of make_classifier(seed, last_scale); the mini-batch
    order from default_rng([seed, 2]). Returns (model, history)."""
    from ..losses import SoftmaxCrossEntropy
    from ..optim import SGD
    from ..train import fit

    Xtr, ytr, Xva, yva = data[:4]
    model = make_classifier(seed, last_scale)
    with np.errstate(over="ignore", invalid="ignore"):       # lr 1.0 may blow up on some seed
        hist = fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr, momentum=0.9),
                   Xtr, ytr, epochs=epochs, batch_size=batch_size, val=(Xva, yva),
                   rng=np.random.default_rng([int(seed), 2]), progress=False)
    return model, hist


@lru_cache(maxsize=8)
def _lr_selection(course, seeds, lrs, epochs, batch_size):
    data = _digits(course)

    def run(seed):
        out = {"val_acc": [], "val_curve": [], "correct": [], "test_acc": [], "first_loss": [],
               "steps": []}
        for lr in lrs:
            model, hist = _train(seed, lr, 0.01, epochs, batch_size, data)
            out["correct"].append(model.forward(data[2]).argmax(axis=1) == data[3])
            out["val_acc"].append(out["correct"][-1].mean())
            curve = np.full(epochs, np.nan)
            curve[:len(hist.val_acc)] = hist.val_acc
            out["val_curve"].append(curve)
            out["test_acc"].append(np.mean(model.forward(data[4]).argmax(axis=1) == data[5]))
            out["first_loss"].append(hist.loss[0])
            out["steps"].append(len(hist.loss))
        return out

    return over_seeds(run, seeds=list(seeds))


def lr_selection(lrs=LRS, seeds=None, epochs=15, batch_size=64):
    """The digits classifier trained at each learning rate on each seed (cached).

    Per seed (``seeds`` default ``cl.seeds(5)``) and lr: make_classifier(seed) (initial loss
    ln 10), centred inputs, SGD with momentum 0.9, ``epochs`` epochs of mini-batches of
    ``batch_size``. Returns a SeedRuns whose arrays have the seeds on axis 0 and the lrs on
    axis 1: "val_acc" (S, L) final validation accuracy, "val_curve" (S, L, epochs),
    "correct" (S, L, N_val) 1.0 where the final model classifies that validation digit
    correctly (the input of paired tests), "test_acc" (S, L), "first_loss" (S, L) the loss of
    the first mini-batch, "steps" (S, L) mini-batch steps taken.
    """
    seeds = tuple(course_seeds(5) if seeds is None else (int(s) for s in seeds))
    return _lr_selection(course_seed(), seeds, tuple(float(v) for v in lrs), int(epochs), int(batch_size))


@lru_cache(maxsize=8)
def _init_scale_runs(course, seeds, scales, lr, epochs, batch_size):
    data = _digits(course)

    def run(seed):
        out = {"train_loss": [], "val_loss": [], "val_acc": []}
        for scale in scales:
            _, hist = _train(seed, lr, scale, epochs, batch_size, data)
            out["train_loss"].append(hist.loss)
            out["val_loss"].append(hist.val_loss)
            out["val_acc"].append(hist.val_acc)
        return out

    return over_seeds(run, seeds=list(seeds))


def init_scale_runs(scales=INIT_SCALES, seeds=None, lr=0.1, epochs=15, batch_size=64):
    """The same classifier with its last layer's initial weights scaled by each of ``scales``
    (0.01: logits near 0, loss ln K; 1: He's default; 10, 30: confidently wrong), on each
    seed (default ``cl.seeds(3)``), trained as in ``lr_selection`` at one lr (cached).

    Returns a SeedRuns with seeds on axis 0, scales on axis 1: "train_loss" (S, M, steps) the
    loss of every mini-batch, "val_loss" and "val_acc" (S, M, epochs) after every epoch.
    """
    seeds = tuple(course_seeds(3) if seeds is None else (int(s) for s in seeds))
    return _init_scale_runs(course_seed(), seeds, tuple(float(v) for v in scales), float(lr),
                            int(epochs), int(batch_size))


def _scale_colors(n):
    import matplotlib

    return [matplotlib.colormaps["plasma"](v) for v in np.linspace(0.0, 0.8, n)]


def plot_init_scales(runs, scales=INIT_SCALES, steps=40, axes=None):
    """Left: the training loss of the first ``steps`` mini-batches (log scale) per initial
    scale, every seed faint, the mean bold, ln 10 dashed. Right: the validation loss after
    every epoch. Colour by scale. Returns the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..plots import plot_seeds

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
    colors = _scale_colors(len(scales))
    tl, vl = runs["train_loss"], runs["val_loss"]
    for m, (scale, c) in enumerate(zip(scales, colors)):
        label = f"× {scale:g}" + (" (loss ln K)" if scale < 0.1 else " (He default)" if scale == 1 else "")
        plot_seeds(np.arange(steps), tl[:, m, :steps], ax=axes[0], color=c, marker=None)
        axes[0].lines[-len(tl) - 1].set_label(label)
        plot_seeds(np.arange(1, vl.shape[2] + 1), vl[:, m], ax=axes[1], color=c, marker="o")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for ax in axes:
        ax.set_yscale("log")
        ax.axhline(np.log(10), color="k", ls="--", lw=1)
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    axes[0].set_ylim(0.08, 40)
    axes[0].set_yticks([0.1, 0.3, 1, 2.3, 10, 30])
    axes[0].text(steps - 1, np.log(10) * 1.12, "ln 10", ha="right", fontsize=9)
    axes[0].set(xlabel="mini-batch step", ylabel="training loss (log scale)",
                title="the first steps: the hockey stick")
    axes[1].set_yticks([0.1, 0.2, 0.5, 1, 2.3])
    axes[1].set(xlabel="epoch", ylabel="validation loss (log scale)", title="after each epoch")
    axes[1].legend(axes[0].get_legend_handles_labels()[0], axes[0].get_legend_handles_labels()[1],
                   title="last layer's init", fontsize=9, title_fontsize=9, loc="center right",
                   bbox_to_anchor=(1.0, 0.43))
    axes[0].figure.tight_layout()
    return axes


def plot_lr_selection(runs, lrs=LRS, top=(0, 1), axes=None):
    """Left: validation accuracy per epoch for each lr (every seed faint, mean bold), colour by
    lr. Right: per seed, the accuracy difference of the two lrs of ``top`` (indices into lrs)
    on the same validation digits, with its paired 2-standard-error bar (McNemar's view).
    Returns the axes."""
    import matplotlib.pyplot as plt

    from ..experiments import mcnemar
    from ..plots import plot_seeds

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.6), gridspec_kw={"width_ratios": [1.5, 1]})
    curves = runs["val_curve"]
    colors = [plt.get_cmap("viridis")(v) for v in np.linspace(0.0, 0.85, len(lrs))]
    for j, (lr, c) in enumerate(zip(lrs, colors)):
        plot_seeds(np.arange(1, curves.shape[2] + 1), curves[:, j], ax=axes[0], color=c, marker=None)
        axes[0].lines[-len(curves) - 1].set_label(f"lr = {lr:g}")
    axes[0].set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.3, 1.0),
                title=f"{len(curves)} seeds per learning rate")
    axes[0].legend(fontsize=9, loc="lower right")
    a, b = top
    correct = runs["correct"].astype(bool)
    tests = [mcnemar(correct[i, a], correct[i, b]) for i in range(len(correct))]
    d = np.array([t.diff for t in tests]) * 100
    se = np.array([t.se for t in tests]) * 100
    x = np.arange(len(d))
    axes[1].errorbar(x, d, yerr=2 * se, fmt="o", color="k", capsize=3, ms=5)
    axes[1].axhline(0, color="0.5", lw=0.8)
    axes[1].set_xticks(x, [str(s) for s in runs.seeds], fontsize=9)
    axes[1].set(xlabel="training seed", ylabel="accuracy points",
                title=f"lr {lrs[a]:g} − lr {lrs[b]:g}, same digits\n(± 2 paired s.e.)")
    axes[1].title.set_fontsize(10)
    axes[0].figure.tight_layout()
    return axes
