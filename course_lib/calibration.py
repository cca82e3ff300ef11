"""Calibration: when a classifier says "80% sure", is it right 80% of the time?

The confidence of a prediction is its largest class probability. Sort the predictions into
equal-width confidence bins and compare, in each bin, the share that is correct (accuracy)
with the mean confidence: a calibrated model has the two equal, and the expected calibration
error (ECE, Guo et al. 2017, "On Calibration of Modern Neural Networks") averages the gaps,
weighted by how many predictions fall into each bin. ``cl.plots.plot_reliability`` draws the
table as a reliability diagram. Re-exported as ``cl.diagnostics.expected_calibration_error``
and ``cl.diagnostics.calibration_bins``.
Introduced in notebooks/07_regularization.ipynb (label smoothing and calibration).
"""
import numpy as np

SUM_TOL = 1e-6      # how far a row of probabilities may sum from 1 (float32 softmax is ~1e-7)


def _read(probs, y, bins, owner):
    """Validate; return (confidence (N,), correct (N,) bool, bins)."""
    try:
        p = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: probs must be a numeric array of probabilities, got "
                        f"{type(probs).__name__}") from None
    if p.ndim == 1:                       # binary: P(class 1) per example
        p = np.stack([1.0 - p, p], axis=1)
        binary = True
    else:
        binary = False
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"{owner}: probs must have shape (N, K) with K >= 2 classes (or (N,) "
                         f"for P(class 1) of a binary classifier), got {np.shape(probs)}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{owner}: probs contains NaN or inf")
    if p.min() < 0 or p.max() > 1:
        hint = " — these look like logits: apply cl.functional.softmax first" if not binary else \
            " — these look like logits: apply cl.functional.sigmoid first"
        raise ValueError(f"{owner}: probabilities must lie in [0, 1], got values from "
                         f"{p.min():.3g} to {p.max():.3g}{hint}")
    sums = p.sum(axis=1)
    bad = np.abs(sums - 1.0) > SUM_TOL
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{owner}: each row of probs must sum to 1 (a distribution over the "
                         f"{p.shape[1]} classes); row {i} sums to {sums[i]:.6g} — logits or "
                         f"unnormalized scores? apply cl.functional.softmax first")
    try:
        labels = np.asarray(y)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: y must be an array of integer labels") from None
    if labels.shape != (p.shape[0],):
        hint = " — pass integer labels, not one-hot rows: y.argmax(axis=1)" \
            if labels.shape == p.shape else ""
        raise ValueError(f"{owner}: y must have shape ({p.shape[0]},), one label per row of "
                         f"probs, got {labels.shape}{hint}")
    if labels.dtype.kind not in "iub" and not (labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0)):
        raise TypeError(f"{owner}: y must hold integer class labels, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= p.shape[1]:
        raise ValueError(f"{owner}: labels must lie in [0, {p.shape[1]}) for {p.shape[1]} "
                         f"classes, got values from {labels.min()} to {labels.max()}")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"{owner}: bins must be a positive integer, got {bins!r}")
    # ties go to the lower class index (np.argmax), so a binary p = 0.5 predicts class 0
    pred = p.argmax(axis=1)
    return p.max(axis=1), pred == labels, int(bins)


class CalibrationBins:
    """The per-bin table behind the ECE and the reliability diagram.

    ``edges`` (bins + 1,) = np.linspace(0, 1, bins + 1); bin b holds the confidences in
    (edges[b], edges[b + 1]] (an exact edge belongs to the LOWER bin, as in Guo et al.'s
    I_m = ((m - 1)/M, m/M]). ``counts`` (bins,); ``accuracy`` and ``confidence`` (bins,) are the
    share correct and the mean confidence in each bin, NaN where the bin is empty.
    ``ece`` = sum_b (n_b / N) |acc_b - conf_b|; ``mce`` = max_b |acc_b - conf_b| over non-empty
    bins; ``n`` = N.
    """

    def __init__(self, edges, counts, accuracy, confidence):
        self.edges, self.counts = edges, counts
        self.accuracy, self.confidence = accuracy, confidence
        self.n = int(counts.sum())
        full = counts > 0
        gap = np.abs(accuracy[full] - confidence[full])
        self.ece = float(np.sum(counts[full] / self.n * gap))
        self.mce = float(gap.max())

    @property
    def centers(self):
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def __len__(self):
        return len(self.counts)

    def __repr__(self):
        lines = [f"CalibrationBins({len(self)} bins, N={self.n}, ECE={self.ece:.4f}, MCE={self.mce:.4f})",
                 f"{'bin':>15}{'count':>8}{'accuracy':>10}{'confidence':>12}"]
        for b in range(len(self)):
            if self.counts[b]:
                lines.append(f"  ({self.edges[b]:.3f}, {self.edges[b + 1]:.3f}]{self.counts[b]:8d}"
                             f"{self.accuracy[b]:10.3f}{self.confidence[b]:12.3f}")
        return "\n".join(lines)


def calibration_bins(probs, y, bins=15):
    """Bin the predictions by confidence (max probability) into ``bins`` equal-width bins.

    Per bin b: n_b, acc_b = (1/n_b) sum_{i in b} [argmax p_i == y_i], conf_b = (1/n_b)
    sum_{i in b} max_k p_ik. Returns a CalibrationBins (with ``.ece``).
    Shapes: probs (N, K) rows summing to 1 (or (N,) = P(class 1)); y (N,) integer labels.
    Introduced in notebooks/07_regularization.ipynb.
    """
    return _table(*_read(probs, y, bins, "calibration_bins"))


def _table(conf, correct, bins):
    edges = np.linspace(0.0, 1.0, bins + 1)
    # right-closed bins: searchsorted(side="left") puts conf == edges[b + 1] into bin b
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(idx, weights=correct.astype(float), minlength=bins) / counts
        confidence = np.bincount(idx, weights=conf, minlength=bins) / counts
    return CalibrationBins(edges, counts, accuracy, confidence)


def expected_calibration_error(probs, y, bins=15):
    """Expected calibration error: ECE = sum_b (n_b / N) |acc_b - conf_b| (Guo et al. 2017).

    Equal-width bins on the confidence max_k p_ik (15 by default, as in Guo et al.); an exact
    bin edge belongs to the lower bin. 0 for a calibrated model; at most 1. ECE depends on the
    number of bins, so compare models with the same ``bins``. The table is
    ``calibration_bins(probs, y, bins)``.
    Shapes: probs (N, K) rows summing to 1 (or (N,) = P(class 1)); y (N,) integer labels.
    Introduced in notebooks/07_regularization.ipynb.
    """
    return _table(*_read(probs, y, bins, "expected_calibration_error")).ece
