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
