"""Matplotlib helpers. Each takes ``ax=None`` (a new figure if None) and returns the axes.

Introduced in notebooks/00_foundations.ipynb; the update-ratio plot in 08.
"""
import numpy as np


def _ax(ax, figsize=(6, 4)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_loss(history, ax=None, label=None, smooth=0, log=False, **kw):
    """Per-step training loss; ``smooth`` > 0 overlays a moving average over that many steps."""
    ax = _ax(ax)
    loss = np.asarray(history.loss)
    line, = ax.plot(loss, alpha=0.35 if smooth else 1.0, label=None if smooth else label, **kw)
    if smooth and loss.size >= smooth:
        avg = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(smooth - 1, loss.size), avg, color=line.get_color(), label=label)
    ax.set_xlabel("step (mini-batch)")
    ax.set_ylabel("training loss")
    if log:
        ax.set_yscale("log")
    if label:
        ax.legend()
    return ax


def plot_curves(history, axes=None, title=None):
    """Per-epoch train/validation loss (left) and accuracy (right). Returns the two axes."""
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax = axes[0]
    ax.plot(epochs, history.train_loss, "o-", ms=3, label="train")
    if history.val_loss:
        ax.plot(epochs[: len(history.val_loss)], history.val_loss, "o-", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax = axes[1]
    if history.train_acc:
        ax.plot(epochs, history.train_acc, "o-", ms=3, label="train")
    if history.val_acc:
        ax.plot(epochs[: len(history.val_acc)], history.val_acc, "o-", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    if history.train_acc or history.val_acc:
        ax.legend()
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_decision_boundary(model, X, y, ax=None, resolution=200, padding=0.5, title=None):
    """Colour the plane by the model's predicted class and scatter the 2-D points on top.

    Shapes: X (N, 2), y (N,). The model runs in eval mode.
    """
    ax = _ax(ax, (5, 5))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points, X of shape (N, 2); got {X.shape}")
    x0, x1 = X[:, 0].min() - padding, X[:, 0].max() + padding
    y0, y1 = X[:, 1].min() - padding, X[:, 1].max() + padding
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    was = model.training
    model.eval()
    out = model.forward(np.c_[gx.ravel(), gy.ravel()])
    model.train(was)
    pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0).astype(int)
    from matplotlib.colors import ListedColormap
    import matplotlib.pyplot as plt

    k = int(max(pred.max(), np.max(y))) + 1
    colors = plt.get_cmap("tab10").colors[:k]      # class i has the same colour in regions and points
    cmap = ListedColormap(colors)
    ax.contourf(gx, gy, pred.reshape(gx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y), cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=14,
               edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_layer_histograms(values, ax=None, labels=None, bins=60, range=None, title=None, xlabel="value"):
    """Overlaid histograms, one per layer (Karpathy's makemore-3 style), legend with mean/std.

    ``values``: list of arrays, e.g. the outputs recorded by ``diagnostics.trace``.
    """
    ax = _ax(ax, (7, 3.5))
    labels = labels or [f"layer {i}" for i in np.arange(len(values))]
    for v, lab in zip(values, labels):
        v = np.asarray(v).ravel()
        counts, edges = np.histogram(v, bins=bins, range=range, density=True)
        ax.plot(0.5 * (edges[1:] + edges[:-1]), counts, label=f"{lab}: mean {v.mean():+.2f}, std {v.std():.2g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def plot_update_ratios(history, ax=None, title="update-to-weight ratio per layer"):
    """log10(||dW|| / ||W||) per weight matrix against the step, with a reference line at -3."""
    ax = _ax(ax, (7, 3.5))
    steps = np.asarray(history.ratio_steps)
    for name, ratios in history.update_ratios.items():
        r = np.asarray(ratios)
        ax.plot(steps[: r.size], np.log10(np.maximum(r, 1e-30)), label=name)
    ax.axhline(-3, color="k", ls="--", lw=1, label="≈ 1e-3 (healthy)")
    ax.set_xlabel("step")
    ax.set_ylabel("log10(update / weight)")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return ax


def plot_optimizer_paths(f, paths, ax=None, xlim=(-2, 2), ylim=(-2, 2), levels=30, log_levels=False, title=None):
    """Contours of a 2-D function ``f(x, y)`` (vectorized) with optimizer paths on top.

    ``paths``: dict name -> array (T, 2) of visited points.
    """
    ax = _ax(ax, (6, 5))
    gx, gy = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    z = f(gx, gy)
    if log_levels:
        zmin = z.min()
        ax.contour(gx, gy, np.log10(z - zmin + 1e-3), levels=levels, cmap="Greys", linewidths=0.6)
    else:
        ax.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6)
    for name, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2, lw=1.2, label=name)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_activation(act, ax=None, x=None, title=None):
    """An activation layer's curve f(x) and its derivative f'(x)."""
    ax = _ax(ax, (4, 3))
    x = np.linspace(-5, 5, 401) if x is None else x
    ax.plot(x, act.forward(x), label="f(x)")
    ax.plot(x, act.derivative(x), "--", label="f'(x)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(title or repr(act))
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    return ax


def plot_seeds(x, values, ax=None, label=None, color=None, marker="o", band=True, logx=False):
    """One experiment on several seeds against a swept variable: every seed as a faint point
    or line, the mean as a bold line, and (``band``) the min…max range shaded.

    ``values``: array (n_seeds, len(x)), e.g. ``SeedRuns[key]`` of a sweep, or a list of such
    rows. Returns the axes.
    """
    ax = _ax(ax)
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[None, :]
    x = np.asarray(x)
    if v.shape[1] != len(x):
        raise ValueError(f"plot_seeds: values have {v.shape[1]} columns but x has {len(x)} points")
    mean = v.mean(axis=0)
    line, = ax.plot(x, mean, marker=marker, ms=4, lw=2, color=color,
                    label=None if label is None else f"{label} (mean of {len(v)} seeds)")
    color = line.get_color()
    for row in v:
        ax.plot(x, row, marker=marker, ms=2.5, lw=0.8, alpha=0.35, color=color)
    if band and len(v) > 1:
        ax.fill_between(x, v.min(axis=0), v.max(axis=0), color=color, alpha=0.12, lw=0)
    if logx:
        ax.set_xscale("log")
    if label is not None:
        ax.legend(fontsize=9)
    return ax


def plot_seed_points(groups, ax=None, ylabel=None, title=None, colors=None):
    """A strip plot: one column per group (method, setting), a dot per seed and a bar at the
    mean, so the spread is visible next to the difference. ``groups``: dict name -> values."""
    ax = _ax(ax, (6, 3.6))
    names = list(groups)
    for i, name in enumerate(names):
        v = np.asarray(groups[name], dtype=float).ravel()
        offsets = np.linspace(-0.12, 0.12, v.size) if v.size > 1 else np.zeros(1)
        c = None if colors is None else colors[i]
        pts = ax.scatter(i + offsets, v, s=22, alpha=0.8, color=c, zorder=3)
        ax.hlines(v.mean(), i - 0.25, i + 0.25, color=pts.get_facecolor()[0], lw=2.5, zorder=4)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_xlim(-0.6, len(names) - 0.4)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_reliability(probs, y, bins=15, ax=None, label=None, color=None, title=None):
    """Reliability diagram: accuracy against confidence per bin, with the bin counts below.

    For each non-empty equal-width confidence bin, a point at (mean confidence, accuracy)
    joined by a line, a shaded bar for the gap |acc_b - conf_b|, the diagonal y = x (perfect
    calibration) and, in a strip below, the number of predictions per bin (log scale: most
    predictions of a good classifier sit in the last bin). Points below the diagonal mean
    over-confidence. The legend gives ECE = sum_b (n_b / N) |acc_b - conf_b|. Call it again on
    the same ``ax`` to overlay another model (one colour each; the strip is shared).
    Shapes: probs (N, K) rows summing to 1 (or (N,) = P(class 1)); y (N,) labels.
    Returns the reliability axes; the count strip is ``ax.counts_ax``.
    Introduced in notebooks/07_regularization.ipynb.
    """
    from .calibration import calibration_bins

    table = calibration_bins(probs, y, bins)
    ax = _ax(ax, (5.6, 5.4))
    counts_ax = getattr(ax, "counts_ax", None)
    if counts_ax is None:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        counts_ax = make_axes_locatable(ax).append_axes("bottom", size="30%", pad=0.12, sharex=ax)
        ax.counts_ax = counts_ax
        ax.plot([0, 1], [0, 1], ls="--", color="0.45", lw=1.2, label="perfect calibration")
    full = table.counts > 0
    conf, acc = table.confidence[full], table.accuracy[full]
    name = f"{label}: " if label else ""
    line, = ax.plot(conf, acc, "o-", ms=5, lw=1.8, color=color, label=f"{name}ECE {table.ece:.3f}")
    color = line.get_color()
    ax.vlines(conf, conf, acc, color=color, alpha=0.3, lw=5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy in the bin", fontsize=10)
    ax.tick_params(labelbottom=False, labelsize=9)
    ax.grid(alpha=0.25)
    ax.legend(loc="best", fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    counts_ax.stairs(np.maximum(table.counts, 0.5), table.edges, color=color, lw=1.6, baseline=0.5,
                     fill=len(counts_ax.patches) == 0, alpha=0.35 if len(counts_ax.patches) == 0 else 1.0)
    counts_ax.set_yscale("log")
    counts_ax.set_ylim(bottom=0.7)
    counts_ax.set_xlabel("confidence (largest predicted probability)", fontsize=10)
    counts_ax.set_ylabel("count", fontsize=10)
    counts_ax.tick_params(labelsize=9)
    return ax


# --- activation statistics during training (diagnostics.ActivationStats, notebooks 01-02) ----

def _stats_layers(stats, layers):
    layers = stats.layers if layers is None else list(layers)
    unknown = [i for i in layers if i not in stats.layers]
    if unknown:
        raise ValueError(f"these layers were not recorded: {unknown}; recorded: {stats.layers}")
    if not len(stats):
        raise ValueError("the ActivationStats has no recorded step yet: train with "
                         "fit(..., callbacks=[stats]) first")
    return layers


def _depth_colors(n):
    import matplotlib.pyplot as plt
    # viridis without its pale yellow end, which is hard to see on white
    return plt.cm.viridis(np.linspace(0.0, 0.85, max(n, 1)))


def _depth_key(ax, stats, layers, colors):
    """A legend for a few layers; a colour bar of the layer index for many."""
    if len(layers) <= 6:
        ax.legend(fontsize=9, title="layer", title_fontsize=9)
        return
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    cmap = mpl.colors.ListedColormap(colors)
    norm = mpl.colors.BoundaryNorm(np.arange(len(layers) + 1) - 0.5, len(layers))
    bar = plt.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02)
    step = max(1, len(layers) // 6)
    bar.set_ticks(np.arange(0, len(layers), step))
    bar.set_ticklabels([str(layers[k]) for k in range(0, len(layers), step)])
    bar.set_label("layer index (depth)", fontsize=9)
    bar.ax.tick_params(labelsize=9)


def _plain_log_formatter(**kw):
    from matplotlib.ticker import LogFormatter

    class PlainLogFormatter(LogFormatter):
        # LogFormatter decides which ticks get a label; the label itself is printed with %g
        def _num_to_string(self, x, vmin, vmax):
            return f"{x:g}"
    return PlainLogFormatter(**kw)


def plot_activation_stats(stats, axes=None, layers=None, log_std=True, title=None):
    """Per-layer mean (left) and std (right) of the activations over the training steps.

    One line per layer, coloured by depth (dark = near the input). ``log_std``: log scale for
    the std, where a collapse to 1e-6 or an explosion shows. Returns the two axes.
    Introduced in notebooks/01_activations.ipynb.
    """
    layers = _stats_layers(stats, layers)
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), constrained_layout=True)
    colors = _depth_colors(len(layers))
    for kind, ax in zip(("mean", "std"), axes):
        values = getattr(stats, kind)
        for i, c in zip(layers, colors):
            ax.plot(stats.steps, values[i], color=c, lw=1.3, label=str(i))
        ax.set_xlabel("training step")
        ax.set_ylabel(f"activation {kind}")
    if log_std:
        axes[1].set_yscale("log")
        # plain numbers (0.3, 2) instead of 3x10^-1, also on the minor ticks of a short range
        axes[1].yaxis.set_major_formatter(_plain_log_formatter())
        axes[1].yaxis.set_minor_formatter(_plain_log_formatter(minor_thresholds=(2, 0.5)))
    axes[0].axhline(0.0, color="0.6", lw=0.8, zorder=0)
    _depth_key(axes[1], stats, layers, colors)
    if title:
        axes[0].figure.suptitle(title, fontsize=11)
    return axes


def plot_colorful_dimension(stats, axes=None, layers=None, ncols=4, cmap="viridis", title=None):
    """fast.ai's "colorful dimension": for each layer an image of its activation histogram
    over training, x = step, y = activation value, colour = log(1 + count) in that bin.

    The bin edges are fixed per layer (``stats.edges``), so each column is one step's
    histogram. Bright rows at the edges of a tanh layer are saturation; a thin bright line at
    0 is a collapsed (or, for ReLU, a dead) layer. The colour scale is shared by the layers.
    A panel says how much of the activations fell outside its range when that exceeds 1%.
    Returns the axes (one per layer).
    Introduced in notebooks/01_activations.ipynb.
    """
    layers = _stats_layers(stats, layers)
    import matplotlib.pyplot as plt
    if axes is None:
        ncols = max(1, min(ncols, len(layers)))
        nrows = -(-len(layers) // ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(8.4, 0.4 + 2.0 * nrows), squeeze=False,
                                 sharex=True, constrained_layout=True)
        axes = list(grid.ravel())
        for ax in axes[len(layers):]:
            ax.set_visible(False)
        axes = axes[: len(layers)]
    else:
        axes = list(np.ravel(axes))
        if len(axes) < len(layers):
            raise ValueError(f"plot_colorful_dimension: {len(layers)} layers need as many axes, "
                             f"got {len(axes)}")
    images = {i: np.log1p(stats.hist[i].T.astype(np.float64)) for i in layers}
    vmax = max(float(img.max()) for img in images.values()) or 1.0
    steps = stats.steps
    x0, x1 = (steps[0] - 0.5, steps[-1] + 0.5) if len(steps) > 1 else (steps[0] - 0.5, steps[0] + 0.5)
    im = None
    for ax, i in zip(axes, layers):
        lo, hi = stats.ranges[i]
        im = ax.imshow(images[i], origin="lower", aspect="auto", cmap=cmap, vmin=0.0, vmax=vmax,
                       extent=(x0, x1, lo, hi), interpolation="nearest")
        ax.set_title(stats.names[i][:24], fontsize=9)
        ax.tick_params(labelsize=9)
        worst = float(np.nanmax(stats.outside[i]))
        if worst > 0.01:
            ax.text(0.02, 0.96, f"up to {100 * worst:.0f}% outside", transform=ax.transAxes,
                    fontsize=9, va="top", color="white")
    for ax in axes:
        if ax.get_subplotspec() is not None and ax.get_subplotspec().is_last_row():
            ax.set_xlabel("training step", fontsize=9)
        if ax.get_subplotspec() is not None and ax.get_subplotspec().is_first_col():
            ax.set_ylabel("activation", fontsize=9)
    bar = plt.colorbar(im, ax=axes, shrink=0.9, pad=0.02)
    bar.set_label("log(1 + count)", fontsize=9)
    bar.ax.tick_params(labelsize=9)
    if title:
        axes[0].figure.suptitle(title, fontsize=11)
    return axes


def plot_dead_saturated(stats, ax=None, layers=None, which="auto", title=None):
    """Share of dead units (ReLU layers) and/or saturated outputs (tanh, sigmoid) per layer
    over the training steps, in %.

    ``which``: "dead", "saturated" or "auto" (each layer's own kind: dead for ReLU,
    saturated for tanh/sigmoid; layers with neither are left out). Dead is the per-batch
    reading of ActivationStats (a unit silent on that mini-batch). When both kinds are drawn,
    solid lines are dead and dashed ones saturated. Returns the axes.
    Introduced in notebooks/01_activations.ipynb.
    """
    layers = _stats_layers(stats, layers)
    if which not in ("auto", "dead", "saturated"):
        raise ValueError(f"plot_dead_saturated: which must be 'auto', 'dead' or 'saturated', "
                         f"got {which!r}")
    kinds = ("dead", "saturated") if which == "auto" else (which,)
    curves = [(i, kind) for i in layers for kind in kinds
              if not np.all(np.isnan(getattr(stats, kind)[i]))]
    if not curves:
        raise ValueError(f"plot_dead_saturated: none of the layers {layers} has a {which} "
                         f"reading (dead: ReLU layers; saturated: tanh and sigmoid)")
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(8.4, 3.2), constrained_layout=True)
    both = len({kind for _, kind in curves}) == 2
    colors = _depth_colors(len(layers))
    for i, kind in curves:
        style = "--" if both and kind == "saturated" else "-"
        ax.plot(stats.steps, 100 * getattr(stats, kind)[i], style, lw=1.3,
                color=colors[layers.index(i)], label=f"{i} {kind}" if both else str(i))
    drawn = [i for i, _ in curves]
    ax.set_xlabel("training step")
    ax.set_ylabel("dead (—) / saturated (- -), %" if both else
                  ("dead units (%)" if curves[0][1] == "dead" else "saturated outputs (%)"))
    ax.set_ylim(-2, 102)
    shown = sorted(set(drawn))
    if len(shown) <= 6:
        ax.legend(fontsize=9, ncol=2 if len(drawn) > 3 else 1, title=None if both else "layer",
                  title_fontsize=9)
    else:
        _depth_key(ax, stats, shown, colors[[layers.index(i) for i in shown]])
    if title:
        ax.set_title(title, fontsize=11)
    return ax
