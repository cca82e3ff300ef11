"""Plumbing shared by the widgets: fast PNG rendering and single-threaded BLAS for short runs."""
import contextlib
import io


def render_png(fig, dpi=None):
    """PNG bytes of a figure at its own size (light compression: a slider wants speed, not bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread.

    The widgets' matrices are small: extra BLAS threads only add overhead, and on a busy
    machine (several notebooks or test workers on 2 cores) threads waiting for each other can
    slow a run down tenfold. Results are unchanged. threadpoolctl comes with scikit-learn.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                                # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def relu_mlp(widths, p=0.0, init_rng=None, mask_rng=None, d_in=64, d_out=10):
    """ReLU MLP d_in -> widths... -> d_out with Dropout(p) after every hidden ReLU (none for
    p = 0, none on the output layer): He-normal weights drawn from ``init_rng`` layer by layer,
    dropout masks from ``mask_rng``. Shapes: input (N, d_in) -> logits (N, d_out)."""
    from ..activations import ReLU
    from ..dropout import Dropout
    from ..layers import Linear
    from ..module import Sequential

    layers, fan_in = [], d_in
    for w in widths:
        layers += [Linear(fan_in, w, rng=init_rng), ReLU()]
        if p > 0:
            layers.append(Dropout(p, rng=mask_rng))
        fan_in = w
    layers.append(Linear(fan_in, d_out, rng=init_rng))
    return Sequential(*layers)
