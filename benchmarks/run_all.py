"""`make bench`: every performance budget of shared/DESIGN.md, measured and printed in one table.

    .venv/bin/python benchmarks/run_all.py                    # all sections (a few minutes)
    .venv/bin/python benchmarks/run_all.py --only widgets     # one section: training, widgets,
                                                              # notebooks or browser

Budgets (DESIGN.md, "Performance budgets"):
  training   one epoch of cl.fit on an MLP within 1.2x a hand-written NumPy loop and faster
             than PyTorch (benchmarks/bench_mlp.py: interleaved repeats, a pause against
             OpenBLAS's spinning threads, the same final weights checked first)
  widgets    each lecture notebook's main widget (CSS class course-main-widget): a move of its
             first control computes in < 250 ms in the kernel. The notebook runs first (its
             precompute is the warm-up), then benchmarks/widget_probe.py, appended as one more
             cell, finds the widget and times the moves (callback + PNG)
  notebooks  each lecture notebook executes headless in < 60 s (nbclient, a temporary copy,
             one BLAS thread, kernel on the IPC transport)
  browser    key press on the main slider -> new figure in JupyterLab < 300 ms (median per
             notebook): measured by benchmarks/bench_browser.py when it exists (see browser_rows)

It prints, it never fails on a miss: the exit status is 0 unless the benchmark itself crashes.
The numbers mean something only on a quiet machine: the load average is printed before and
after the table, and the training rows say how many CPUs other processes kept busy meanwhile.
"""
import argparse
import importlib.util
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_mlp  # noqa: E402  (benchmarks/ is not a package)

# run as a script, this module is __main__: bench_browser's `from run_all import Row` must get
# this very module (the same Row class), not a second copy
sys.modules.setdefault("run_all", sys.modules[__name__])

SECTIONS = ("training", "widgets", "notebooks", "browser")
WIDGET_MS, NOTEBOOK_S, BROWSER_MS = 250.0, 60.0, 300.0
TRAINING_N, TRAINING_REPEATS = 2048, 5     # bench_mlp.py --quick; run bench_mlp.py for N = 8192
# one BLAS thread in every kernel (the matrices are small; on 2 cores extra threads only wait)
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

@dataclass
class Row:
    """One line of the table. bench_browser.rows() returns these (or 5-tuples of strings)."""
    what: str
    measured: str
    budget: str
    verdict: str           # "ok", "over", or "-" when nothing was measured
    notes: str = ""


def verdict(value, budget, strict=False):
    """'ok' when value <= budget (< with strict), else 'over'."""
    return "ok" if (value < budget if strict else value <= budget) else "over"


# ---------------------------------------------------------------------------------------------
# training: benchmarks/bench_mlp.py's measurement
# ---------------------------------------------------------------------------------------------

def busy_note(busy):
    if busy is None:
        return ""
    return f"; other processes kept {busy:.2f} of {os.cpu_count()} CPUs busy" + (
        " (unreliable)" if busy > 0.2 else "")


def training_rows(n=TRAINING_N, repeats=TRAINING_REPEATS):
    m = bench_mlp.measure(n, repeats)
    med = m["median"]
    course = med["course_lib (cl.fit)"]
    setup = (f"MLP {'-'.join(map(str, bench_mlp.SIZES))}, N={n}, batch {bench_mlp.BATCH}; "
             f"median of {repeats} epochs: course_lib {course:.2f} s")
    ratio = course / med["NumPy loop"]
    rows = [Row("training epoch: course_lib / NumPy loop", f"{ratio:.2f}x",
                f"<= {bench_mlp.LOOP_TARGET}x", verdict(ratio, bench_mlp.LOOP_TARGET),
                f"{setup}, NumPy {med['NumPy loop']:.2f} s" + busy_note(m["busy"]))]
    if "PyTorch (CPU)" in med:
        ratio = course / med["PyTorch (CPU)"]
        rows.append(Row("training epoch: course_lib / PyTorch", f"{ratio:.2f}x",
                        f"< {bench_mlp.TORCH_TARGET}x", verdict(ratio, bench_mlp.TORCH_TARGET, strict=True),
                        f"PyTorch {bench_mlp.torch.__version__} {med['PyTorch (CPU)']:.2f} s, "
                        f"{bench_mlp.torch.get_num_threads()} threads"))
    else:
        rows.append(Row("training epoch: course_lib / PyTorch", "-", f"< {bench_mlp.TORCH_TARGET}x",
                        "-", "PyTorch not installed"))
    rows.append(batchnorm_backward_row())
    return rows


def batchnorm_backward_row():
    """Notebook 04 derives BatchNorm's backward node by node and shows it equal to the compact
    formula that cl.BatchNorm1d uses: how much time does the compact form save?"""
    from course_lib.widgets.batchnorm_graph import time_backwards

    t = time_backwards()
    return Row("BatchNorm backward: staged / compact", f"{t['ratio']:.2f}x", "(no budget)", "-",
               f"N={t['n']}, D={t['d']}: staged {1e6 * t['staged']:.0f} µs, compact "
               f"{1e6 * t['compact']:.0f} µs, max |difference| {t['max_abs_diff']:.1e}")


# ---------------------------------------------------------------------------------------------
# notebooks and widgets: executed in Jupyter kernels
# ---------------------------------------------------------------------------------------------

def lecture_notebooks():
    folder = ROOT / "notebooks"
    return [folder / "welcome.ipynb"] + sorted(folder.glob("0*.ipynb"))


def probe_source():
    """The cell appended to a notebook: find its main widget (the one with the CSS class
    course-main-widget, as the browser test does) among the kernel's live widgets, then time
    moves of its first control. The notebook has run, so its precompute is done."""
    return (HERE / "widget_probe.py").read_text() + "\nprobe_main_widget()\n"


def probe_result(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            for line in out["text"].splitlines():
                if line.startswith("{"):
                    return json.loads(line)
    raise RuntimeError("the widget probe printed no result")


def run_in_kernel(nb, workdir, marks, timeout):
    """Execute nb's cells in a fresh python3 kernel on the IPC transport (no TCP ports, its
    files in ``workdir``, which is also its working directory). ``marks`` receives the clock
    at the first cell's start ("start") and at the end of each code cell (its index)."""
    import nbclient
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(workdir / "kernel-ipc")
    config.KernelManager.connection_file = str(workdir / "kernel.json")

    def started(cell, cell_index, **_):
        marks.setdefault("start", time.perf_counter())

    def executed(cell, cell_index, **_):          # code cells only
        marks[cell_index] = time.perf_counter()

    client = nbclient.NotebookClient(nb, config=config, kernel_name="python3", timeout=timeout,
                                     resources={"metadata": {"path": str(workdir)}},
                                     on_cell_start=started, on_cell_executed=executed)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}   # the kernel's inline backend
    # the kernel's own stderr (shutdown chatter) goes to a log file, not into the table
    with open(workdir / "kernel.log", "wb") as log:
        client.execute(env=env | KERNEL_ENV, stdout=log, stderr=log)


def slowest_cell(nb, code, marks):
    """'slowest: cell 12 (bnw.precompute()) 8.1 s' — where a notebook's time goes."""
    ends = [marks["start"]] + [marks[i] for i in code]
    durations = [b - a for a, b in zip(ends, ends[1:])]
    k = max(range(len(code)), key=durations.__getitem__)
    first_line = next((ln for ln in nb.cells[code[k]].source.splitlines()
                       if ln.strip() and not ln.lstrip().startswith("#")), "")
    return f"slowest: cell {code[k]} ({first_line.split('#')[0].strip()[:40]}) {durations[k]:.1f} s"


def error_text(e):
    """One line for the table: the exception raised in the kernel and, for a bare assert,
    the line that failed (ANSI colours removed)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    name, value = getattr(e, "ename", type(e).__name__), getattr(e, "evalue", "")
    value = value.strip().splitlines()[0] if value.strip() else ""
    if not value:
        # the traceback's "---> 14 assert ..." line, without its line number
        arrows = [re.sub(r"^\d+\s+", "", ln.split("--->", 1)[1].strip())
                  for ln in plain.splitlines() if "--->" in ln]
        value = f"at {arrows[-1]}" if arrows else (plain.strip().splitlines() or [""])[0]
    return f"{name}: {value}"[:160]


def notebook_and_widget_rows(sections, names=None, timeout=600):
    """One row per notebook (run time) and/or per main widget (median move in the kernel)."""
    import nbformat

    logging.getLogger("tornado.general").setLevel(logging.ERROR)  # "events for closed stream"
    rows = {"notebooks": [], "widgets": []}
    for path in lecture_notebooks():
        name = path.stem
        if names and name not in names:
            continue
        nb = nbformat.read(path, as_version=4)
        n_cells = len(nb.cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        if "widgets" in sections:
            nb.cells.append(nbformat.v4.new_code_cell(probe_source()))
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        error, marks, wall = None, {}, time.perf_counter()
        try:
            shutil.copy(path, workdir / path.name)            # run from a temporary copy
            run_in_kernel(nb, workdir, marks, timeout)
        except Exception as e:       # nbclient's CellExecutionError, a timeout, a dead kernel
            error = error_text(e)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        # the notebook's time: from its first cell's start to the end of its last code cell
        code = [i for i, c in enumerate(nb.cells[:n_cells]) if c.cell_type == "code"]
        finished = bool(code) and code[-1] in marks
        seconds = marks[code[-1]] - marks["start"] if finished else None

        if "notebooks" in sections:
            if not finished:
                rows["notebooks"].append(Row(f"notebook {name}", "error", f"< {NOTEBOOK_S:g} s", "-",
                                             error or "did not finish"))
            else:
                rows["notebooks"].append(Row(f"notebook {name}", f"{seconds:.1f} s", f"< {NOTEBOOK_S:g} s",
                                             verdict(seconds, NOTEBOOK_S, strict=True),
                                             f"{len(code)} code cells; " + slowest_cell(nb, code, marks)))
        if "widgets" in sections:
            if error:
                rows["widgets"].append(Row(f"widget {name}", "error", f"< {WIDGET_MS:g} ms", "-",
                                           f"not measured, the kernel raised {error}"))
            else:
                rows["widgets"].append(widget_row(name, probe_result(nb.cells[-1])))
        done = [rows[s][-1] for s in ("notebooks", "widgets") if s in sections and rows[s]]
        print(f"  {name}: " + ", ".join(f"{r.what.split()[0]} {r.measured}" for r in done)
              + f" (kernel start to shutdown {time.perf_counter() - wall:.0f} s)", flush=True)
    return rows


def widget_row(name, result):
    ms = result["median_first_ms"]
    notes = (f"{result['control']}: median of {len(result['first_ms'])} moves to new positions "
             f"(max {max(result['first_ms']):.0f}), revisits {result['median_again_ms']:.0f} ms")
    if result["found"] != 1:
        notes += f"; {result['found']} widgets carry course-main-widget, the last one was moved"
    if result["errors"]:
        notes += f"; the callback raised: {result['errors'][0]}"
    return Row(f"widget {name}", f"{ms:.0f} ms", f"< {WIDGET_MS:g} ms",
               "-" if result["errors"] else verdict(ms, WIDGET_MS, strict=True), notes)


# ---------------------------------------------------------------------------------------------
# browser: the hook for benchmarks/bench_browser.py
# ---------------------------------------------------------------------------------------------

def browser_rows():
    """The browser latencies come from benchmarks/bench_browser.py when it exists.

    Hook: that module defines ``rows()``, which drives JupyterLab in headless Chromium and
    returns one row per notebook, each a ``Row`` (``from run_all import Row, verdict``) or a
    5-tuple of strings (what, measured, budget, verdict, notes), e.g.
    Row("browser 04_batch_normalization", "124 ms", "< 300 ms", "ok", "median of 5 key presses").
    It decides itself what to report when Chromium is missing.
    """
    path = HERE / "bench_browser.py"
    if not path.exists():
        return [Row("browser: key press -> new figure", "-", f"< {BROWSER_MS:g} ms", "-",
                    "measured by benchmarks/bench_browser.py (missing)")]
    spec = importlib.util.spec_from_file_location("bench_browser", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [r if isinstance(r, Row) else Row(*r) for r in module.rows()]


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------

def machine_line():
    load = " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)"


def print_table(rows):
    head = Row("what", "measured", "budget", "verdict", "notes")
    widths = [max(len(getattr(r, f)) for r in [head, *rows]) for f in ("what", "measured", "budget", "verdict")]
    for r in [head, None, *rows]:
        if r is None:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 5)
            continue
        cells = [r.what.ljust(widths[0]), r.measured.rjust(widths[1]), r.budget.ljust(widths[2]),
                 r.verdict.ljust(widths[3]), r.notes]
        print("  ".join(cells).rstrip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=SECTIONS, help="run one section")
    parser.add_argument("--notebook", action="append", metavar="NAME",
                        help="only this lecture notebook (e.g. 04_batch_normalization); repeatable")
    args = parser.parse_args(argv)
    sections = [args.only] if args.only else list(SECTIONS)

    print(machine_line())
    print(f"sections: {', '.join(sections)}")
    sys.stdout.flush()
    start = time.perf_counter()
    rows = []
    if "training" in sections:
        print("training: timing one epoch per contestant, interleaved ...", flush=True)
        rows += training_rows()
    kernel_sections = [s for s in ("widgets", "notebooks") if s in sections]
    if kernel_sections:
        print(f"{' and '.join(kernel_sections)}: running the {len(lecture_notebooks())} lecture notebooks ...", flush=True)
        found = notebook_and_widget_rows(kernel_sections, args.notebook)
        rows += found["widgets"] + found["notebooks"]
    if "browser" in sections:
        rows += browser_rows()
    wall = time.perf_counter() - start

    print()
    print_table(rows)
    print()
    print(machine_line().replace("machine:", "after the run:"))
    over = [r.what for r in rows if r.verdict == "over"]
    print(f"make bench: {len(rows)} rows in {wall:.0f} s; "
          + (f"{len(over)} over budget: {'; '.join(over)}" if over else "every measured budget met")
          + " (a miss is reported, never a failure)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
