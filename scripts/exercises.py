"""Instructor tools: build the student notebooks from the solutions, and grade submissions.

    python scripts/exercises.py build solutions exercises
    python scripts/exercises.py grade SUBMISSIONS_DIR --out grades.csv [--timeout 60]

build: for every solutions/NN_topic.ipynb, write exercises/NN_topic.ipynb in which every
    ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block becomes a ``raise NotImplementedError``
    stub (in Markdown: "YOUR ANSWER HERE"), ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``
    blocks are removed, and all outputs are cleared — what nbgrader's ClearSolutions,
    ClearHiddenTests and ClearOutput preprocessors do, with the same markers.
grade: runs SUBMISSIONS_DIR/<student>/<NN_topic>.ipynb, each in its own kernel, cell by cell
    with a per-cell timeout, carrying on past failing cells. Every check cell
    (``checks.check_<name>(...)``) is recorded as pass / fail (with the hint) / error /
    timeout / not run. Writes one CSV row per student × exercise and a per-student summary.
"""
import argparse
import csv
import re
import sys
import time
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
CHECK_CALL = re.compile(r"\bcheck_(\w+)\s*\(")


def _replace_blocks(source, begin, end, stub, path, index):
    """Replace each begin…end block (marker lines included) by ``stub`` at the same indent."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            if inside:
                raise ValueError(f"{path} cell {index}: nested '{begin}'")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            if stub is not None:
                out.extend(indent + s for s in stub.splitlines())
        elif stripped.startswith(end):
            if not inside:
                raise ValueError(f"{path} cell {index}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{path} cell {index}: '{begin}' is never closed by '{end}'")
    return "\n".join(out)


def make_exercise(nb, path="notebook"):
    """Return a student copy of a solution notebook (a new object; the input is untouched)."""
    nb = nbformat.from_dict(nb)
    for i, cell in enumerate(nb.cells):
        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        cell.source = _replace_blocks(cell.source, BEGIN, END, stub, path, i)
        cell.source = _replace_blocks(cell.source, HIDDEN_BEGIN, HIDDEN_END, None, path, i)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    # the student copy is a single file: no jupytext pairing, no widget state
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("widgets", None)
    return nb


def build(src, dst):
    src, dst = Path(src), Path(dst)
    dst.mkdir(exist_ok=True)
    sources = sorted(src.glob("*.ipynb"))
    expected = {p.name for p in sources}
    for stale in dst.glob("*.ipynb"):
        if stale.name not in expected:
            stale.unlink()
            print(f"removed {stale} (no solution notebook)")
    for path in sources:
        nb = make_exercise(nbformat.read(path, as_version=4), path)
        out = dst / path.name
        text = nbformat.writes(nb) + "\n"
        if not out.exists() or out.read_text() != text:
            out.write_text(text)
            print(f"wrote {out}")
    return [dst / p.name for p in sources]


# ---------------------------------------------------------------- grading

def _cell_status(outputs):
    """pass / fail / error for an executed check cell, with the message."""
    for out in outputs:
        if out.get("output_type") == "error":
            if out.get("ename") in ("AssertionError", "CheckFailure"):
                return "fail", out.get("evalue", "")
            if out.get("ename") == "NotImplementedError":
                return "error", "not implemented (NotImplementedError)"
            return "error", f"{out.get('ename')}: {out.get('evalue', '')}"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    if "✓" in text:
        return "pass", ""
    return "error", "the check printed no success line"


def grade_notebook(path, timeout=60, startup_timeout=60, notebook_timeout=600):
    """Execute one submission; return {exercise: (status, message)} for its check cells."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # a corrupt file is a result for this student, not a crash
        return {"<notebook>": ("error", f"unreadable notebook: {exc}")}
    for cell in nb.cells:  # grade what runs now, never the outputs the student saved
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    checks = [(i, CHECK_CALL.findall(c.source)) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and CHECK_CALL.search(c.source)]
    results = {name: ("not run", "") for _, names in checks for name in names}
    client = NotebookClient(nb, timeout=timeout, startup_timeout=startup_timeout, kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(path.parent)}})
    status_of_cell, deadline = {}, time.monotonic() + notebook_timeout
    try:
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if time.monotonic() > deadline:
                    status_of_cell[i] = ("timeout", f"the notebook ran longer than {notebook_timeout:g} s")
                    continue
                start = time.monotonic()
                try:
                    client.execute_cell(cell, i)
                except (CellTimeoutError, TimeoutError):
                    status_of_cell[i] = ("timeout", f"cell {i} ran longer than {timeout:g} s")
                    continue
                except DeadKernelError:
                    status_of_cell[i] = ("error", f"the kernel died in cell {i}")
                    break
                # an interrupted cell (interrupt_on_timeout) ends in KeyboardInterrupt
                if time.monotonic() - start >= timeout and any(
                        o.get("ename") == "KeyboardInterrupt" for o in cell.outputs):
                    status_of_cell[i] = ("timeout", f"cell {i} ran longer than {timeout:g} s")
    except DeadKernelError:
        pass
    except Exception as exc:  # kernel would not start, etc.: this student's result, not a crash
        for name, (status, _) in results.items():
            if status == "not run":
                results[name] = ("error", f"could not run the notebook: {exc}")
        return results
    for i, names in checks:
        cell = nb.cells[i]
        if i in status_of_cell:
            status = status_of_cell[i]
        elif cell.get("execution_count") is None and not cell.outputs:
            continue
        else:
            status = _cell_status(cell.outputs)
        for name in names:
            results[name] = status
    return results


def grade(submissions, out_csv="grades.csv", timeout=60):
    submissions = Path(submissions)
    if not submissions.is_dir():
        sys.exit(f"grade: {submissions} is not a folder of <student>/<NN_topic>.ipynb")
    rows, summary = [], []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        counts = {"pass": 0, "fail": 0, "error": 0, "timeout": 0, "not run": 0}
        for nb_path in sorted(student_dir.glob("*.ipynb")):
            start = time.perf_counter()
            results = grade_notebook(nb_path, timeout=timeout)
            for exercise, (status, message) in results.items():
                counts[status] = counts.get(status, 0) + 1
                rows.append({"student": student_dir.name, "notebook": nb_path.stem,
                             "exercise": exercise, "status": status,
                             "message": " ".join(message.split())[:500]})
            print(f"{student_dir.name}/{nb_path.name}: "
                  + ", ".join(f"{k} {v}" for k, v in _count(results).items())
                  + f" ({time.perf_counter() - start:.1f} s)")
        total = sum(counts.values())
        summary.append({"student": student_dir.name, "exercises": total, **counts,
                        "score_percent": round(100 * counts["pass"] / total, 1) if total else 0.0})
    out_csv = Path(out_csv)
    with out_csv.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["student", "notebook", "exercise", "status", "message"])
        w.writeheader()
        w.writerows(rows)
    summary_csv = out_csv.with_name(out_csv.stem + "_summary.csv")
    with summary_csv.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["student", "exercises", "pass", "fail", "error", "timeout",
                                          "not run", "score_percent"])
        w.writeheader()
        w.writerows(summary)
    print(f"wrote {out_csv} ({len(rows)} rows) and {summary_csv} ({len(summary)} students)")
    return rows, summary


def _count(results):
    out = {}
    for status, _ in results.values():
        out[status] = out.get(status, 0) + 1
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="regenerate exercises/ from solutions/")
    b.add_argument("src", nargs="?", default="solutions")
    b.add_argument("dst", nargs="?", default="exercises")
    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions")
    g.add_argument("--out", default="grades.csv")
    g.add_argument("--timeout", type=float, default=60, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.src, args.dst)
    else:
        grade(args.submissions, args.out, args.timeout)


if __name__ == "__main__":
    main()
