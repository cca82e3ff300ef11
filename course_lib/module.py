"""Parameters, the Module base class and Sequential: the skeleton every layer hangs on.

A layer has ``forward(x) -> out`` (caching what the backward pass needs) and
``backward(dout) -> dx`` (adding its parameter gradients into ``Parameter.grad``).
There is no autograd: each layer writes its own backward pass, as in CS231n.
``module(x)`` runs ``forward`` and then any forward hooks (``register_forward_hook``, as in
PyTorch; notebook 01 uses them to watch activations during training).
Introduced in notebooks/00_foundations.ipynb.
"""
import numpy as np


class Parameter:
    """A trainable array with its gradient.

    ``grad`` has the shape of ``data`` and gradients ACCUMULATE into it, as in PyTorch:
    call ``zero_grad()`` (on the model or the optimizer) before each backward pass.
    """

    def __init__(self, data, name=None):
        self.data = np.array(data, dtype=np.float64)
        self._grad = np.zeros_like(self.data)
        self._zero_pending = False
        self.name = name

    # zero_grad() is lazy, like PyTorch's zero_grad(set_to_none=True): it only marks the
    # gradient as zero, and the zeros are written when ``grad`` is next read. A layer that
    # computes its whole gradient at once (Linear) stores it straight into the array with
    # ``accumulate_matmul`` instead: no pass of zeros, no temporary, no extra addition.
    # Reading ``p.grad`` always gives the accumulated gradient.
    @property
    def grad(self):
        if self._zero_pending:
            self._grad.fill(0.0)
            self._zero_pending = False
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value
        self._zero_pending = False

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size

    @property
    def is_weight(self):
        """True for weight matrices: the parameters that penalties, max-norm and update ratios
        act on. Biases, BatchNorm's gamma/beta and PReLU's slopes are 1-D; Maxout's bias has
        2 axes (out, pieces), so biases are also recognised by their name "b"."""
        return self.data.ndim >= 2 and self.name != "b"

    def zero_grad(self):
        self._zero_pending = True

    def accumulate_matmul(self, a, b):
        """``grad += a @ b``; right after ``zero_grad()`` the product is written in place."""
        if self._zero_pending:
            np.matmul(a, b, out=self._grad)
            self._zero_pending = False
        else:
            self._grad += a @ b

    def __repr__(self):
        name = f" {self.name}" if self.name else ""
        return f"Parameter{name}(shape={self.data.shape})"


def as_input(x, owner, features=None):
    """Validate a 2-D batch ``x`` for ``owner``; return it as a float ndarray.

    Raises a ValueError naming the layer, the expected shape and the shape it got.
    """
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{owner!r} expects a numeric array, got {type(x).__name__}") from None
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{owner!r} expects a numeric array, got dtype {x.dtype}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    want = "(N, D)" if features is None else f"(N, {features})"
    if x.ndim != 2 or (features is not None and x.shape[1] != features):
        hint = ""
        if x.ndim == 1:
            hint = " — a single example needs a batch axis: x.reshape(1, -1)"
        raise ValueError(f"{owner!r} expects input of shape {want}, got {x.shape}{hint}")
    return x


def check_dout(dout, out_shape, owner):
    """The upstream gradient must have the shape of the forward output."""
    dout = np.asarray(dout)
    if dout.shape != tuple(out_shape):
        raise ValueError(f"{owner!r}.backward expects dout of shape {tuple(out_shape)} (the shape "
                         f"of its forward output), got {dout.shape}")
    return dout


class HookHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook.

    Removing twice, or in any order relative to other handles, is harmless.
    """

    _next_id = 0

    def __init__(self, hooks, fn):
        HookHandle._next_id += 1
        self.id = HookHandle._next_id
        self._hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        state = "active" if self.id in self._hooks else "removed"
        return f"HookHandle({self.id}, {state})"


class Module:
    """Base class: parameters, buffers, train/eval mode, zero_grad, a readable repr.

    Subclasses set attributes; any attribute that is a Parameter is a parameter, any
    attribute that is a Module is a child. Buffers (state that is saved but not trained,
    such as BatchNorm's running statistics) are listed by name in ``_buffers``.
    """

    training = True
    _buffers = ()

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def backward_params(self, dout):
        """Accumulate parameter gradients only; layers that can skip dx override this."""
        self.backward(dout)

    # Forward hooks, as in PyTorch: ``model(x)`` runs ``forward`` and then every hook
    # registered on the module; ``model.forward(x)`` runs forward alone (no hooks). The dict
    # is created on the first registration, so a module without hooks pays one attribute
    # lookup per call.
    _forward_hooks = None

    def __call__(self, x):
        out = self.forward(x)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, (x,), out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, fn):
        """Call ``fn(module, input, output)`` after every ``module(x)``; returns a handle whose
        ``.remove()`` unregisters it.

        As in PyTorch: ``input`` is the tuple of positional arguments, here ``(x,)``; if ``fn``
        returns something other than None, that value replaces the output (and is what the
        next hook and the caller see). Hooks run in the order they were registered; calling
        ``module.forward(x)`` directly skips them. Sequential calls each layer as
        ``layer(x)``, so hooks on the layers of a model fire during its forward pass.
        Introduced in notebooks/01_activations.ipynb (``diagnostics.ActivationStats``).
        """
        if not callable(fn):
            raise TypeError(f"{self!r}.register_forward_hook expects a callable "
                            f"fn(module, input, output), got {type(fn).__name__}")
        if self._forward_hooks is None:
            self._forward_hooks = {}
        return HookHandle(self._forward_hooks, fn)

    def children(self):
        return [v for v in vars(self).values() if isinstance(v, Module)]

    def modules(self):
        """This module and all its descendants, depth first."""
        out = [self]
        for child in self.children():
            out.extend(child.modules())
        return out

    def named_parameters(self, prefix=""):
        out = []
        for key, value in vars(self).items():
            if isinstance(value, Parameter):
                out.append((prefix + key, value))
            elif isinstance(value, Module):
                out.extend(value.named_parameters(prefix + key + "."))
        return out

    def parameters(self):
        seen, out = set(), []
        for _, p in self.named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
        return out

    def named_buffers(self, prefix=""):
        out = [(prefix + name, getattr(self, name)) for name in self._buffers]
        for key, value in vars(self).items():
            if isinstance(value, Module):
                out.extend(value.named_buffers(prefix + key + "."))
        return out

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode=True):
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        for name, value in self.named_buffers():
            state[name] = np.array(value, copy=True)
        return state

    def load_state_dict(self, state):
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        missing = (set(params) | set(buffers)) - set(state)
        if missing:
            raise KeyError(f"load_state_dict: missing entries {sorted(missing)}")
        for name, p in params.items():
            p.data[...] = state[name]
        for name in buffers:
            owner, attr = self._locate(name)
            current = getattr(owner, attr)
            if isinstance(current, np.ndarray):
                current[...] = state[name]
            else:
                setattr(owner, attr, type(current)(state[name]))

    def _locate(self, dotted):
        # each child resolves the rest of the name itself (Sequential names children by index)
        head, _, rest = dotted.partition(".")
        if not rest:
            return self, head
        return getattr(self, head)._locate(rest)

    def num_parameters(self):
        return sum(p.size for p in self.parameters())

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def _need_cache(self, *names):
        for name in names:
            if getattr(self, name, None) is None:
                raise RuntimeError(f"{self!r}.backward was called before forward: run forward(x) "
                                   f"first, the backward pass needs what it caches")


class Sequential(Module):
    """Layers applied in order: ``forward`` left to right, ``backward`` right to left.

    ``model.layers`` is the list of layers; ``model[i]`` indexes it.
    Introduced in notebooks/00_foundations.ipynb.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential expects Module objects, got {type(layer).__name__} "
                                f"at position {i}")
        self.layers = list(layers)

    def children(self):
        return list(self.layers)

    def named_parameters(self, prefix=""):
        out = []
        for i, layer in enumerate(self.layers):
            out.extend(layer.named_parameters(f"{prefix}{i}."))
        return out

    def named_buffers(self, prefix=""):
        out = []
        for i, layer in enumerate(self.layers):
            out.extend(layer.named_buffers(f"{prefix}{i}."))
        return out

    def _locate(self, dotted):
        index, rest = dotted.split(".", 1)
        return self.layers[int(index)]._locate(rest)

    def forward(self, x):
        # layer(x), not layer.forward(x): forward hooks on the layers fire (as in PyTorch)
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def backward_params(self, dout):
        """Backward pass that skips the gradient w.r.t. the network input (one matmul less)."""
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        if self.layers:
            self.layers[0].backward_params(dout)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        if not self.layers:
            return "Sequential()"
        # indent nested containers so each child's lines sit under their parent
        lines = [f"  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        n = self.num_parameters()
        return "Sequential(\n" + "\n".join(lines) + f"\n)  # {n:,} parameters"
