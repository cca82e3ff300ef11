"""The memory cost of backpropagation: the arrays the layers keep from the forward pass.

A layer must remember parts of its forward pass for its backward pass (there is no autograd
tape here: each layer keeps them as attributes). ``cache_memory`` finds them by looking at
the layers themselves and adds up their bytes, counting an array shared by two layers once.
Available as ``cl.diagnostics.cache_memory``. Introduced in notebooks/03_backpropagation.ipynb.
"""
import numpy as np

from .module import Module, Sequential

try:                                       # NumPy >= 2.0
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:                        # pragma: no cover - NumPy 1.x
    _byte_bounds = np.byte_bounds


def _named_modules(module, prefix=""):
    """(dotted name, module) for module and its descendants; Sequential names layers by index."""
    out = [(prefix or "model", module)]
    if isinstance(module, Sequential):
        children = [(str(i), layer) for i, layer in enumerate(module.layers)]
    else:
        children = [(key, v) for key, v in vars(module).items() if isinstance(v, Module)]
    for key, child in children:
        out.extend(_named_modules(child, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
    return out


def _cached_arrays(module):
    """The ndarray attributes of one module that are not buffers: what its forward cached.
    (Parameters are Parameter objects, not arrays, so they are not picked up.)"""
    return [(key, v) for key, v in vars(module).items()
            if isinstance(v, np.ndarray) and key not in module._buffers and v.size]


def _new_bytes(lo, hi, covered):
    """Bytes of [lo, hi) not already in the (disjoint, sorted) intervals ``covered``; the
    interval is then merged into ``covered``."""
    overlap = sum(max(0, min(hi, b) - max(lo, a)) for a, b in covered)
    merged = [(a, b) for a, b in covered if b < lo or a > hi]
    spanning = [(a, b) for a, b in covered if not (b < lo or a > hi)]
    new_lo = min([lo] + [a for a, _ in spanning])
    new_hi = max([hi] + [b for _, b in spanning])
    covered[:] = sorted(merged + [(new_lo, new_hi)])
    return (hi - lo) - overlap


class CacheMemory:
    """What ``cache_memory`` found. ``entries``: one dict per cached array (``layer``: dotted
    name, ``kind``: the layer's class, ``attr``, ``shape``, ``dtype``, ``nbytes``, ``new``: the
    bytes not already counted for an earlier layer, ``shared_with``: that layer's entry
    when the array is the same memory). ``total``: bytes held, each byte once;
    ``per_example``: total / batch size; ``parameter_bytes``: the parameters (their gradients
    take as much again). ``by_layer()``: {layer name: new bytes}."""

    def __init__(self, entries, total, batch_size, parameter_bytes):
        self.entries, self.total = entries, total
        self.batch_size, self.parameter_bytes = batch_size, parameter_bytes

    @property
    def per_example(self):
        return self.total / self.batch_size if self.batch_size else float("nan")

    def by_layer(self):
        out = {}
        for e in self.entries:
            out[e["layer"]] = out.get(e["layer"], 0) + e["new"]
        return out

    def __repr__(self):
        n = f", batch {self.batch_size}" if self.batch_size else ""
        lines = [f"forward caches: {self.total:,} bytes{n}"
                 + (f" ({self.per_example:,.0f} per example)" if self.batch_size else "")
                 + f"; parameters {self.parameter_bytes:,} bytes",
                 f"  {'layer':<8}{'kind':<13}{'array':<9}{'shape':<13}{'bytes':>10}  note"]
        for e in self.entries:
            note = f"= {e['shared_with']} (counted there)" if e["shared_with"] else ""
            lines.append(f"  {e['layer']:<8}{e['kind']:<13}{e['attr']:<9}{str(e['shape']):<13}"
                         f"{e['nbytes']:>10,}  {note}")
        return "\n".join(lines)


def cache_memory(model, X=None, training=True):
    """Bytes the layers of ``model`` hold from their last forward pass, measured on the arrays.

    With ``X``, first runs one forward pass on X (training mode unless ``training=False``;
    layer by layer with ``forward``, so no hook fires; the mode is restored). Then walks every
    module and adds up ``nbytes`` of each array attribute that is not a buffer — what course_lib's
    layers keep for backward: Linear x (its input); ReLU out (all its backward reads);
    the other activations x; BatchNorm1d and LayerNorm x_hat and inv_std; Dropout mask (float64,
    None in eval mode); Maxout x and argmax. When one layer's output is the next layer's cached
    input (ReLU.out is the following Linear's x) it is the same memory and is counted once:
    bytes are counted over the union of the arrays' memory ranges. Linear 0's x is the input
    batch itself. Shapes: X (N, D). Returns a CacheMemory.
    Introduced in notebooks/03_backpropagation.ipynb.
    """
    if not isinstance(model, Module):
        raise TypeError(f"cache_memory expects a Module, got {type(model).__name__}")
    batch_size = None
    if X is not None:
        X = np.asarray(X)
        batch_size = len(X)
        was = model.training
        model.train(training)
        try:
            if isinstance(model, Sequential):
                h = X
                for layer in model.layers:
                    h = layer.forward(h)
            else:
                model.forward(X)
        finally:
            model.train(was)
    entries, covered, owner = [], [], {}
    for name, module in _named_modules(model):
        for attr, arr in _cached_arrays(module):
            lo, hi = _byte_bounds(arr)
            # a strided view spans more memory than it has elements: count its own bytes
            new = min(_new_bytes(lo, hi, covered), arr.nbytes)
            shared = owner.get((lo, hi)) if new == 0 else None
            owner.setdefault((lo, hi), f"{name}.{attr}")
            entries.append({"layer": name, "kind": type(module).__name__, "attr": attr,
                            "shape": arr.shape, "dtype": str(arr.dtype), "nbytes": int(arr.nbytes),
                            "new": int(new), "shared_with": shared})
    total = sum(b - a for a, b in covered)
    parameter_bytes = sum(p.data.nbytes for p in model.parameters())
    return CacheMemory(entries, int(total), batch_size, int(parameter_bytes))
