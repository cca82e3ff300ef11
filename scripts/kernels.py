"""Kernels for the course's own tools (notebook runner, tests, benchmarks): local IPC sockets
instead of TCP, so that no kernel warns "running over TCP without encryption".

    from kernels import ipc_kernel
    with ipc_kernel() as km:
        NotebookClient(nb, km=km, ...).execute()
"""
import contextlib
import tempfile
from pathlib import Path

from jupyter_client import KernelManager


@contextlib.contextmanager
def ipc_kernel(kernel_name="python3", **kwargs):
    """A KernelManager on the IPC transport whose socket files live in a private temporary
    folder (an absolute path, so the kernel finds them whatever its working directory);
    the kernel is shut down on exit if it is still running."""
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as tmp:
        km = KernelManager(kernel_name=kernel_name, transport="ipc",
                           ip=str(Path(tmp) / "kernel"), **kwargs)
        try:
            yield km
        finally:
            if km.has_kernel:
                with contextlib.suppress(Exception):
                    km.shutdown_kernel(now=True)
