"""Activation statistics DURING training, recorded with forward hooks (fast.ai's ActivationStats,
makemore's saturation maps), and the exact dead-unit count on a whole data set.

``ActivationStats`` is a ``cl.fit`` callback; ``cl.plots`` draws what it records
(``plot_activation_stats``, ``plot_colorful_dimension``, ``plot_dead_saturated``).
Both are available as ``cl.diagnostics.ActivationStats`` and ``cl.diagnostics.dead_units``.
Introduced in notebooks/01_activations.ipynb; used for the inits of 02.
"""
import numpy as np

from .activations import ReLU, Sigmoid, Tanh
from .diagnostics import NONLINEAR, _layers
from .module import Module
from .train import Callback

# histogram ranges by layer type: the bounded units their whole range; ReLU-like units on
# standardized inputs (He init) stay mostly below 6 — what falls outside is counted in ``outside``
_RANGES = {Tanh: (-1.0, 1.0), Sigmoid: (0.0, 1.0), ReLU: (0.0, 6.0)}
_OTHER_RANGE = (-6.0, 6.0)


def _choose_layers(model, layers):
    """Indices into model.layers: the non-linear layers by default (as layer_stats chooses)."""
    all_layers = _layers(model)
    if layers is None:
        return [i for i, layer in enumerate(all_layers) if isinstance(layer, NONLINEAR)]
    chosen = []
    for item in layers:
        if isinstance(item, Module):
            found = [i for i, layer in enumerate(all_layers) if layer is item]
            if not found:
                raise ValueError(f"ActivationStats: {item!r} is not one of the model's layers")
            item = found[0]
        if not isinstance(item, (int, np.integer)) or not 0 <= item < len(all_layers):
            raise ValueError(f"ActivationStats: layers must be indices into model.layers "
                             f"(0..{len(all_layers) - 1}) or layer objects, got {item!r}")
        chosen.append(int(item))
    objects = [id(all_layers[i]) for i in chosen]
    if len(set(objects)) != len(objects):
        raise ValueError(f"ActivationStats: each layer can be watched once, got {layers!r} "
                         f"(a layer object used twice in the model is one module with one hook)")
    return chosen


class ActivationStats(Callback):
    """Record, at every ``every``-th training step, statistics of chosen layers' outputs.

    For each chosen layer (default: every non-linear layer of a Sequential) and recorded step:
      mean, std       of all entries of the layer's output on the mini-batch
      saturated       share of outputs with |tanh| > 0.97 (or the same point of the sigmoid),
                      as ``diagnostics.saturated_fraction``; NaN for other layers
      dead            share of ReLU units that output 0 for every example of THIS mini-batch
                      (``diagnostics.dead_fraction``): a per-batch reading, so a unit that is
                      alive only on rare examples counts as dead on the batches without them.
                      ``dead_on(X)`` / ``dead_units`` give the exact count on a whole data set.
                      NaN for layers other than ReLU (LeakyReLU, ELU, PReLU keep a slope)
      hist            counts over FIXED bin edges ``edges[layer]`` (the same at every step, so
                      the rows stack into an image: fast.ai's "colorful dimension")
      outside         share of the outputs that fell outside the histogram's range
    Only forward passes in training mode count, between two training steps: fit's validation
    passes (eval mode) are not recorded. ``range``: None (tanh (-1, 1), sigmoid (0, 1), ReLU
    (0, 6), others (-6, 6)), one (lo, hi) for every layer, or a dict {layer index: (lo, hi)}.
    Results, keyed by the layer's index in ``model.layers``: ``stats.mean[i]``, ``std``,
    ``saturated``, ``dead``, ``outside`` (n_recorded,), ``stats.hist[i]`` (n_recorded, bins);
    ``stats.steps`` (n_recorded,) are the training steps, counted from 0 over every fit this
    object has watched. The hooks are registered at construction; ``remove()`` drops them
    (the records stay). In your own training loop call ``stats.step()`` after each step.
    Cost: recording a step takes a few passes over each watched output; on a 20-layer,
    64-unit MLP with batches of 64, every=1 made training ~1.5x slower, every=10 a few %.
    Shapes: watched outputs (N, D); mean[i] etc. (n_recorded,); hist[i] (n_recorded, bins);
    edges[i] (bins + 1,).
    Introduced in notebooks/01_activations.ipynb.
    """

    kinds = ("mean", "std", "saturated", "dead", "outside")

    def __init__(self, model, layers=None, every=1, bins=50, range=None):
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"ActivationStats: every must be a positive integer, got {every!r}")
        if not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"ActivationStats: bins must be a positive integer, got {bins!r}")
        self.model = model
        self.layers = _choose_layers(model, layers)
        if not self.layers:
            raise ValueError(f"ActivationStats: no layer to watch in {model!r}; pass layers=[...]")
        self.every, self.bins = int(every), int(bins)
        self.names, self.ranges, self.edges = {}, {}, {}
        for i in self.layers:
            layer = model.layers[i]
            self.names[i] = f"{i}: {layer!r}"
            lo, hi = self._range_for(i, layer, range)
            self.ranges[i] = (lo, hi)
            self.edges[i] = np.linspace(lo, hi, self.bins + 1)
        self._records = {kind: {i: [] for i in self.layers} for kind in self.kinds + ("hist",)}
        self._steps = []
        self._pending = {}
        self._next_step = 0          # the training step the next training-mode forward belongs to
        self._cache = None
        self._handles = [model.layers[i].register_forward_hook(self._hook_for(i))
                         for i in self.layers]

    @staticmethod
    def _range_for(i, layer, range):
        if isinstance(range, dict):
            r = range.get(i)
        else:
            r = range
        if r is None:
            r = next((v for cls, v in _RANGES.items() if type(layer) is cls), _OTHER_RANGE)
        try:
            lo, hi = float(r[0]), float(r[1])
        except (TypeError, IndexError, ValueError):
            raise ValueError(f"ActivationStats: range must be (lo, hi), a dict of them or None, "
                             f"got {r!r} for layer {i}") from None
        if not lo < hi:
            raise ValueError(f"ActivationStats: range needs lo < hi, got {r!r} for layer {i}")
        return lo, hi

    # --- recording -------------------------------------------------------------------------

    def _hook_for(self, i):
        def hook(module, inputs, out):
            if module.training and self._next_step % self.every == 0:
                self._pending[i] = self._measure(i, module, out)
        return hook

    def _measure(self, i, layer, out):
        # This runs inside every recorded forward pass, so it makes few passes over the data.
        flat = out.reshape(-1)
        n = flat.size
        # mean and variance from one sum and one dot product, of the values shifted by one of
        # them (var = E[d^2] - E[d]^2 with d = x - x0 stays accurate when |mean| >> std)
        d = flat - flat[0]
        m = float(np.add.reduce(d)) / n
        mean, var = m + float(flat[0]), max(float(d @ d) / n - m * m, 0.0)
        lo, hi = self.ranges[i]
        if np.isfinite(mean):            # a finite sum: every entry is finite
            hist, outside = self._histogram(flat, lo, hi)
        else:
            hist, outside = np.zeros(self.bins, dtype=np.int64), 1.0
        # the definitions of diagnostics.saturated_fraction and dead_fraction, in fewer calls
        saturated = dead = np.nan
        if isinstance(layer, Tanh):
            saturated = np.count_nonzero(np.abs(flat) > 0.97) / n
        elif isinstance(layer, Sigmoid):
            saturated = np.count_nonzero(np.abs(2.0 * flat - 1.0) > 0.97) / n
        elif isinstance(layer, ReLU):
            dead = np.count_nonzero(~(np.maximum.reduce(out, axis=0) > 0)) / out.shape[1]
        return {"mean": mean, "std": var ** 0.5 if np.isfinite(var) else np.nan,
                "saturated": saturated, "dead": dead, "outside": outside, "hist": hist}

    def _histogram(self, flat, lo, hi):
        """Counts in ``bins`` equal bins over [lo, hi] (the last one closed, as np.histogram)
        and the share of values outside, in a few passes: index k + 1 for a value in bin k,
        0 below the range, bins + 1 above it."""
        scale = self.bins / (hi - lo)
        v = flat * scale
        v += 1.0 - lo * scale
        np.maximum(v, 0.0, out=v)
        np.minimum(v, self.bins + 1, out=v)
        k = v.astype(np.intp)
        k[flat == hi] = self.bins
        counts = np.bincount(k, minlength=self.bins + 2)
        return counts[1:-1], (counts[0] + counts[-1]) / flat.size

    def on_train_begin(self, model):
        if model is not self.model:
            raise ValueError("ActivationStats: fit got another model than the one these stats "
                             "watch; build ActivationStats(model) on the model you train")
        self._pending.clear()        # forward passes made before training are not a step

    def on_step_end(self, step, model, loss):
        self.step()

    def step(self):
        """Close the current training step: keep what its forward pass recorded, if anything."""
        if self._pending:
            self._steps.append(self._next_step)
            for i in self.layers:
                got = self._pending.get(i)
                for kind in self.kinds:
                    self._records[kind][i].append(np.nan if got is None else got[kind])
                self._records["hist"][i].append(np.zeros(self.bins, dtype=np.int64)
                                                if got is None else got["hist"])
            self._pending.clear()
            self._cache = None
        self._next_step += 1

    def remove(self):
        """Drop the forward hooks; what was recorded stays readable."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    # --- results ---------------------------------------------------------------------------

    def _arrays(self):
        if self._cache is None:
            cache = {kind: {i: np.array(v, dtype=np.float64) for i, v in per.items()}
                     for kind, per in self._records.items() if kind != "hist"}
            cache["hist"] = {i: (np.array(v) if v else np.zeros((0, self.bins), dtype=np.int64))
                             for i, v in self._records["hist"].items()}
            cache["steps"] = np.array(self._steps, dtype=np.int64)
            self._cache = cache
        return self._cache

    @property
    def steps(self):
        return self._arrays()["steps"]

    @property
    def mean(self):
        return self._arrays()["mean"]

    @property
    def std(self):
        return self._arrays()["std"]

    @property
    def saturated(self):
        return self._arrays()["saturated"]

    @property
    def dead(self):
        return self._arrays()["dead"]

    @property
    def outside(self):
        return self._arrays()["outside"]

    @property
    def hist(self):
        return self._arrays()["hist"]

    def centers(self, i):
        """The middles of layer i's histogram bins (bins,)."""
        e = self.edges[i]
        return 0.5 * (e[:-1] + e[1:])

    def dead_on(self, X, batch_size=1024):
        """Exact share of dead units per watched ReLU layer on the whole of X (eval mode):
        {layer index: share}; see ``dead_units``."""
        masks = dead_units(self.model, X, layers=self.layers, batch_size=batch_size)
        return {i: float(m.mean()) for i, m in masks.items()}

    def __len__(self):
        return len(self._steps)

    def __repr__(self):
        head = (f"ActivationStats({len(self.layers)} layers, {len(self)} recorded steps, "
                f"every {self.every})")
        if not len(self):
            return head
        lines = [head, f"  at step {self._steps[-1]}:",
                 f"  {'layer':<24}{'mean':>9}{'std':>9}{'sat %':>8}{'dead %':>8}"]
        for i in self.layers:
            row = {kind: self._records[kind][i][-1] for kind in self.kinds}

            def pct(v):
                return f"{100 * v:8.1f}" if not np.isnan(v) else f"{'—':>8}"
            lines.append(f"  {self.names[i][:23]:<24}{row['mean']:9.3f}{row['std']:9.3f}"
                         f"{pct(row['saturated'])}{pct(row['dead'])}")
        return "\n".join(lines)


def dead_units(model, X, layers=None, batch_size=1024):
    """Which ReLU units output 0 for EVERY example of X: {layer index: bool mask (units,)}.

    Exact over the whole set (the per-batch ``dead`` share of ActivationStats can only
    over-count). Runs in eval mode, batch by batch, and restores the model's mode; calls
    ``layer.forward`` so no hook fires. ``layers``: indices of the ReLU layers to report
    (default: all of them; non-ReLU layers in the list are skipped).
    Shapes: X (N, D). Introduced in notebooks/01_activations.ipynb.
    """
    all_layers = _layers(model)
    wanted = range(len(all_layers)) if layers is None else layers
    relu = [i for i in wanted if isinstance(all_layers[i], ReLU)]
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"dead_units: batch_size must be a positive integer, got {batch_size!r}")
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        raise ValueError("dead_units: X has no examples")
    alive = {i: None for i in relu}
    was = model.training
    model.eval()
    try:
        for start in range(0, len(X), batch_size):
            h = X[start:start + batch_size]
            for k, layer in enumerate(all_layers):
                h = layer.forward(h)
                if k in alive:
                    fires = (h > 0).any(axis=0)
                    alive[k] = fires if alive[k] is None else alive[k] | fires
    finally:
        model.train(was)
    return {i: ~a for i, a in alive.items()}
