"""Execute py:percent notebooks and write their paired .ipynb with outputs (for maintainers).

    .venv/bin/python scripts/run_notebooks.py notebooks/01_activations.py [more.py ...]

The .py file is the source; the .ipynb gets fresh outputs (committed so notebooks render
with their figures when browsed). Volatile execution timestamps are stripped so re-running
an unchanged notebook gives a small diff. Prints each notebook's execution time.
"""
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernels import ipc_kernel  # noqa: E402


# small matrices: one BLAS thread is faster, and keeps parallel runs from oversubscribing
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def run(py_path, timeout=120):
    py_path = Path(py_path)
    if py_path.suffix == ".ipynb":
        py_path = py_path.with_suffix(".py")
    nb = jupytext.read(py_path)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"})
    start = time.perf_counter()
    with ipc_kernel() as km:      # local sockets: no "kernel is running over TCP" warning
        NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(py_path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    out = py_path.with_suffix(".ipynb")
    if out.exists():  # keep the cell ids of unchanged cells, so re-runs give small diffs
        old = nbformat.read(out, as_version=4)
        for new_cell, old_cell in zip(nb.cells, old.cells):
            if new_cell.source == old_cell.source and "id" in old_cell:
                new_cell["id"] = old_cell["id"]
    nbformat.write(nb, out)
    jupytext.write(jupytext.read(out), py_path, fmt="py:percent")   # keep the pair byte-identical in source
    print(f"{out}: executed in {elapsed:.1f} s")
    return elapsed


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        run(path)
