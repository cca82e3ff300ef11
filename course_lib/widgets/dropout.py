"""Figures and the drop-rate explorer of notebooks/05_dropout.ipynb.

The runs come from ``course_lib.widgets.dropout_experiments`` (the bench, the stacked
trainer and its cache): a 64 -> 128 -> 128 -> 10 ReLU MLP with Dropout(p) after each hidden
ReLU, trained on 200 centred digits, with clean labels or 20% random labels, for up to 150
epochs, on seeds derived from COURSE_SEED. ``precompute()`` trains every run the notebook
shows; afterwards a move of the explorer's controls only redraws.

Drawing functions (each returns its figure, at most 8.4 inches wide): ``draw`` (the
explorer's curves), ``draw_memorization``, ``draw_sweep``, ``draw_guide``,
``draw_unit_means``, ``draw_mc``, ``draw_removal``; the widget ``dropout_explorer``.
"""
import numpy as np

from .dropout_experiments import (  # noqa: F401  (re-exported for the notebook)
    BUDGETS, DROPOUT, GUIDE, LABELS, LONG, NOISY, RATES, SHORT, WIDTH, RunSet, Setting,
    course_runs, get_runs, make_mlp, precompute)

TRAIN, VAL, MEMO = "tab:blue", "tab:orange", "tab:green"


def rate_color(p, top=0.7):
    """Colour of a drop rate: dark (p = 0) to light green (p = top), viridis."""
    import matplotlib.pyplot as plt
    return plt.get_cmap("viridis")(0.85 * min(float(p), top) / top)


def _mean_band(ax, x, values, color, dashed=False, band=True, lw=2.0):
    v = np.asarray(values, dtype=float)
    ax.plot(x, np.nanmean(v, axis=0), color=color, lw=1.3 if dashed else lw,
            ls=(0, (4, 2)) if dashed else "-")
    if band and len(v) > 1:
        ax.fill_between(x, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=color, alpha=0.2, lw=0)


def draw(p, labels="clean", epochs=LONG, fig=None, runs=None, trained=LONG):
    """The explorer's figure: loss (left, log scale) and accuracy (right) per epoch, on the
    training subset (blue) and the validation set (orange), for drop rate ``p`` (solid: mean
    of the runs, band: their range) and for p = 0 (dashed, mean); with noisy labels the
    fraction of the corrupted training labels the net reproduces (green), all in eval mode,
    for the first ``epochs`` epochs of runs trained for ``trained`` epochs."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullLocator

    if fig is None:
        fig = plt.figure(figsize=(8.3, 3.7))
    # fixed margins instead of tight_layout, which would double the redraw time
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"left": 0.085, "right": 0.97, "bottom": 0.24,
                                               "top": 0.82, "wspace": 0.27})
    noise = LABELS[labels]
    runs = course_runs(3) if runs is None else runs
    base = get_runs(Setting(p=0.0, label_noise=noise), runs, trained)
    run = get_runs(Setting(p=float(p), label_noise=noise), runs, trained)
    ep = run.epochs(epochs)
    shown = [(run, False)] if p == 0 else [(base, True), (run, False)]
    for rs, dashed in shown:
        band = not dashed
        _mean_band(ax1, ep, rs.curve("train_loss", epochs), TRAIN, dashed, band)
        _mean_band(ax1, ep, rs.curve("val_loss", epochs), VAL, dashed, band)
        _mean_band(ax2, ep, rs.curve("train_acc", epochs), TRAIN, dashed, band)
        _mean_band(ax2, ep, rs.curve("val_acc", epochs), VAL, dashed, band)
        if noise > 0:
            _mean_band(ax2, ep, rs.curve("memorized", epochs), MEMO, dashed, band)
    ax1.set_yscale("log")
    lowest = min(np.nanmin(rs.curve("train_loss", epochs)) for rs, _ in shown)
    ax1.set_ylim(10 ** np.floor(np.log10(max(lowest, 1e-6))), 5)
    # plain tick labels: mathtext (10^k) labels are slow to lay out
    ax1.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_ylabel("cross-entropy (log scale)")
    ax2.set_ylim(0.0 if noise > 0 else 0.6, 1.02)
    ax2.set_ylabel("accuracy / fraction")
    for ax in (ax1, ax2):
        ax.set_xlabel("epoch")
        ax.set_xlim(0, epochs)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=TRAIN, lw=2, label="training subset"),
               Line2D([], [], color=VAL, lw=2, label="validation")]
    if noise > 0:
        handles.append(Line2D([], [], color=MEMO, lw=2, label="wrong labels memorized"))
    handles.append(Line2D([], [], color="k", lw=2, label=f"p = {p:g} (band: range)"))
    if p != 0:
        handles.append(Line2D([], [], color="k", lw=1.3, ls=(0, (4, 2)), label="p = 0"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9,
               frameon=False, handlelength=1.8, columnspacing=1.2)
    va, va0 = run.final("val_acc", epochs).mean(), base.final("val_acc", epochs).mean()
    gap = (run.final("train_acc", epochs) - run.final("val_acc", epochs)).mean()
    gap0 = (base.final("train_acc", epochs) - base.final("val_acc", epochs)).mean()
    line2 = f"after {epochs} epochs: validation acc. {va:.3f} (p = 0: {va0:.3f}), " \
            f"train − val {gap:+.3f} ({gap0:+.3f})"
    if noise > 0:
        line2 += f", memorized {run.final('memorized', epochs).mean():.2f} " \
                 f"({base.final('memorized', epochs).mean():.2f})"
    fig.suptitle(f"drop rate p = {p:g}, {labels} training labels, mean of {len(run)} runs\n"
                 + line2, fontsize=10)
    return fig


def dropout_explorer(p=0.3, labels="clean", epochs=SHORT, rates=RATES, runs=None, trained=LONG,
                     budgets=BUDGETS):
    """Build the widget: drop-rate slider, clean/noisy training labels, and the training
    budget shown (``budgets``: 40 or all 150 epochs of runs trained for ``trained``). The runs
    are cached (``precompute``); the callback returns the figure."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def update(p, labels, epochs):
        fig = draw(p, labels, epochs, runs=runs, trained=trained)
        plt.show()
        return fig

    box = W.interactive(
        update,
        p=W.SelectionSlider(options=[(f"{v:g}", float(v)) for v in rates], value=float(p),
                            description="drop rate p", style={"description_width": "initial"},
                            layout=W.Layout(width="400px")),
        labels=W.ToggleButtons(options=list(LABELS), value=labels, description="labels"),
        epochs=W.ToggleButtons(options=[(f"{b} epochs", b) for b in budgets], value=epochs,
                               description="budget"),
    )
    box.add_class("course-main-widget")   # the browser test moves this widget's first slider
    return box


def draw_memorization(base, drop, short=SHORT):
    """Headline figure: the fraction of corrupted training labels the net reproduces (left)
    and the validation accuracy (right) per epoch, for two RunSets (p = 0 and p = 0.5):
    every run faint, the mean bold, the range shaded; the short budget marked."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
    for rs in (base, drop):
        color = rate_color(rs.setting.p)
        for ax, name in zip(axes, ("memorized", "val_acc")):
            plot_seeds(rs.epochs(), rs.curve(name), ax=ax, color=color, marker=None,
                       label=f"p = {rs.setting.p:g}")
    for ax in axes:
        ax.axvline(short, color="0.4", lw=1, ls=":")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.set_xlim(0, base.n_epochs)
    axes[0].text(short + 2, 0.04, f"{short}-epoch budget", fontsize=9, color="0.3")
    axes[0].set_ylim(0, 1.03)
    axes[0].set_ylabel("corrupted labels memorized")
    axes[0].set_title("memorization of the wrong labels", fontsize=10)
    axes[0].legend(fontsize=9, loc="center right")
    axes[1].set_ylabel("validation accuracy")
    axes[1].set_title("validation accuracy (clean labels)", fontsize=10)
    axes[1].legend(fontsize=9, loc="lower right")
    fig.suptitle(f"20% noisy labels, {len(base)} runs each ({len({r[0] for r in base.runs})} "
                 f"label-noise draws × {len({r[1] for r in base.runs})} initialisations)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def draw_sweep(tables, rates=RATES):
    """Test accuracy against the drop rate for each label set (``tables``: labels ->
    ``sweep_table`` dict): the final weights after SHORT and after LONG epochs, and the
    early-stopped weights; per-seed points faint, mean bold, range shaded."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from ..plots import plot_seeds

    series = (("final_short", f"final weights, {SHORT} epochs", "tab:orange"),
              ("final_long", f"final weights, {LONG} epochs", "tab:red"),
              ("early_stopped", f"early-stopped (best val. epoch ≤ {LONG})", "tab:blue"))
    fig, axes = plt.subplots(1, len(tables), figsize=(8.4, 3.7))
    axes = np.atleast_1d(axes)
    for ax, (labels, table) in zip(axes, tables.items()):
        for key, _, color in series:
            plot_seeds(rates, table[key], ax=ax, color=color)
        ax.set_xlabel("drop rate p")
        ax.set_xticks(rates)
        ax.set_title(f"{labels} training labels", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    handles = [Line2D([], [], color=c, marker="o", ms=4, lw=2, label=t) for _, t, c in series]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9, frameon=False)
    n = len(next(iter(tables.values()))["final_short"])
    fig.suptitle(f"budget dependence of the best rate (mean, range and points of {n} runs)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def draw_guide(rows, budget=LONG):
    """The measured practical guide: per row (``guide_rows``) the early-stopped test accuracy
    (left) and the fraction of wrong labels memorized after ``budget`` epochs (right), a dot
    per run and a bar at the mean; the baseline's mean as a dotted line."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 0.42 * len(rows) + 1.3), sharey=True,
                             gridspec_kw={"width_ratios": (1.25, 1)})
    rows = list(rows.values()) if isinstance(rows, dict) else list(rows)
    y = np.arange(len(rows))[::-1]
    base = next(r for r in rows if r["baseline"])
    for yi, r in zip(y, rows):
        color = rate_color(r["setting"].p)
        for ax, vals in zip(axes, (r["test_best"], r["memorized"])):
            v = np.asarray(vals, dtype=float)
            ok = np.isfinite(v)
            ax.scatter(v[ok], np.full(ok.sum(), yi) + np.linspace(-0.12, 0.12, ok.sum()),
                       s=18, color=color, alpha=0.85, zorder=3)
            if ok.any():
                ax.vlines(v[ok].mean(), yi - 0.3, yi + 0.3, color=color, lw=2.5, zorder=4)
        bad = r["exploded"] + int(np.sum(r["test_final"] < 0.7))
        if bad:
            axes[1].text(0.36, yi, f"unstable: {bad} of {len(r['test_best'])} runs exploded\n"
                         f"or ended below 0.7 test acc.", fontsize=9, va="center", color="tab:red")
    axes[0].axvline(base["test_best"].mean(), color="0.4", ls=":", lw=1)
    axes[0].set_yticks(y, [r["name"] for r in rows], fontsize=9)
    axes[0].set_xlabel("early-stopped test accuracy")
    axes[1].set_xlabel(f"memorized after {budget} epochs")
    axes[1].set_xlim(0, 1.03)
    for ax in axes:
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Srivastava et al.'s guide on 20% noisy labels ({len(base['test_best'])} runs "
                 f"per row; dotted: the baseline)", fontsize=10)
    fig.tight_layout()
    return fig


def draw_unit_means(h, avg, sd, p):
    """Section 2: per-unit mean of the training output over many masks against the test
    output, for both conventions, with ±1 s.d. of a single training output (measured: error
    bars; formula: band). ``avg``/``sd``: dicts with keys "inverted" and "test-time"."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5), sharey=True)
    order = np.argsort(h)
    panels = (("inverted", h, np.sqrt(p / (1 - p)) * h, "tab:blue",
               "inverted: train $h m/(1-p)$, test $h$", "test-time output $h_j$"),
              ("test-time", (1 - p) * h, np.sqrt(p * (1 - p)) * h, "tab:green",
               "test-time scaling: train $h m$, test $(1-p)h$", "test-time output $(1-p)\\,h_j$"))
    for ax, (key, x, sd_formula, color, title, xlabel) in zip(axes, panels):
        xs = x[order]
        ax.fill_between(xs, xs - sd_formula[order], xs + sd_formula[order], color=color,
                        alpha=0.15, lw=0, label="±1 s.d. of one training output (formula)")
        ax.plot(xs, xs, "k--", lw=1, label="y = x")
        ax.errorbar(x, avg[key], yerr=sd[key], fmt="o", ms=3.5, color=color, elinewidth=0.8,
                    capsize=0, label="mean over masks (bars: measured s.d.)")
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training-time output")
    axes[0].legend(fontsize=9, loc="upper left")
    fig.suptitle(f"p = {p:g}: the mean of the training output is the test output; "
                 f"its spread is not small", fontsize=10)
    fig.tight_layout()
    return fig


def draw_mc(counts, acc_mc, acc_eval, acc_single):
    """Section 7: validation accuracy of the average of T thinned networks (per run faint,
    mean bold, range shaded) against the evaluation-mode network (dashed, mean of the runs)
    and the mean accuracy of a single thinned network (x)."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    plot_seeds(counts, acc_mc, ax=ax, color="tab:purple", logx=True,
               label="average of T thinned networks")
    ax.axhline(np.mean(acc_eval), color="k", ls="--", lw=1.2,
               label=f"eval mode, one pass (mean of {len(acc_eval)} runs)")
    ax.plot(np.ones(len(acc_single)), acc_single, "x", color="tab:red", ms=7, mew=1.5,
            label="one thinned network, mean of 100 masks")
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.minorticks_off()
    ax.set_xlabel("number of sampled masks T (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.set_title("the weight-scaled network ≈ the average of the thinned networks", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def draw_removal(fractions, random_acc, counts, targeted_acc, width=WIDTH):
    """Section 8: validation accuracy with units removed, for nets trained with several drop
    rates (``random_acc``/``targeted_acc``: p -> (n_runs, len(x)) arrays): a random fraction
    of the units of both hidden layers, rescaled (left), and the k most important units of
    the last hidden layer, not rescaled (right)."""
    import matplotlib.pyplot as plt
    from ..plots import plot_seeds

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5), sharey=True)
    for p in random_acc:
        color = rate_color(p)
        plot_seeds(fractions, random_acc[p], ax=axes[0], color=color, label=f"trained with p = {p:g}")
        plot_seeds(np.asarray(counts) / width, targeted_acc[p], ax=axes[1], color=color)
    axes[0].set_xlabel("random fraction of units removed (both layers)")
    axes[0].set_title("random removal, rest scaled by 1/(1 − q)", fontsize=10)
    axes[1].set_xlabel("fraction of the most important units removed (last layer)")
    axes[1].set_title("targeted removal, no rescaling", fontsize=10)
    axes[0].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=9, loc="lower left")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
