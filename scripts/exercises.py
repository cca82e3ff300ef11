"""Instructor tools: build the student notebooks from the solutions, and grade submissions.

    python scripts/exercises.py build solutions exercises
    python scripts/exercises.py grade SUBMISSIONS_DIR --out grades/grades.csv [--timeout 60] [--jobs N]

build: for every solutions/NN_topic.ipynb, write exercises/NN_topic.ipynb in which every
    ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block becomes a ``raise NotImplementedError``
    stub (in Markdown: "YOUR ANSWER HERE"), ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``
    blocks are removed, and all outputs are cleared — what nbgrader's ClearSolutions,
    ClearHiddenTests and ClearOutput preprocessors do, with the same markers. Like nbgrader's
    LockCells, the check cells and the setup cell (the first code cell, given the nbgrader id
    ``setup``) become read-only and undeletable in JupyterLab (``editable: false``,
    ``deletable: false``), and solution cells undeletable.
grade: the instructor's copy is the truth. Each submission's solution cells (by nbgrader
    ``grade_id``) are put into the release notebook from exercises/, which runs with its own
    setup and check cells plus hidden tests, in a sandbox per submission (bubblewrap), several
    at a time. Writes grades.csv (student, notebook, exercise, status, message), its
    grades_summary.csv, written_answers.csv, review.csv, and per student results/ (JSON) and
    feedback/ (Markdown). See docs/grading.md.
"""
import argparse
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
SETUP_ID = "setup"


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


def _lock(cell, editable):
    """JupyterLab's own cell keys (its notebook honours them, as nbgrader's LockCells uses them):
    ``editable: false`` makes the editor read-only, ``deletable: false`` refuses deletion."""
    cell.metadata["deletable"] = False
    if not editable:
        cell.metadata["editable"] = False


def make_exercise(nb, path="notebook"):
    """Return a student copy of a solution notebook (a new object; the input is untouched)."""
    nb = nbformat.from_dict(nb)
    setup_done = False
    for i, cell in enumerate(nb.cells):
        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        cell.source = _replace_blocks(cell.source, BEGIN, END, stub, path, i)
        cell.source = _replace_blocks(cell.source, HIDDEN_BEGIN, HIDDEN_END, None, path, i)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution"):
            _lock(cell, editable=True)
        elif grading.get("grade") or grading.get("locked"):
            _lock(cell, editable=False)
        elif cell.cell_type == "code" and not setup_done and not grading:
            # the first code cell (imports, data): the setup every check relies on
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": SETUP_ID, "locked": True,
                                         "schema_version": 3, "solution": False}
            _lock(cell, editable=False)
        if cell.cell_type == "code":
            setup_done = True
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


# ---------------------------------------------------------------- grading (scripts/grading/)

def grade(submissions, out_csv="grades.csv", timeout=60, jobs=None, **options):
    """Grade a folder of submissions; see scripts/grading/ and docs/grading.md."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from grading import grade as grade_class
    return grade_class(submissions, out_csv, timeout=timeout, jobs=jobs, **options)


def _positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="regenerate exercises/ from solutions/")
    b.add_argument("src", nargs="?", default="solutions")
    b.add_argument("dst", nargs="?", default="exercises")
    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions", help="folder of <student>/<NN_topic>.ipynb")
    g.add_argument("--out", default="grades/grades.csv",
                   help="grades.csv to write; everything else goes beside it (default grades/grades.csv)")
    g.add_argument("--timeout", type=_positive(float), default=60, help="seconds per cell (default 60)")
    g.add_argument("--notebook-timeout", type=_positive(float), default=600,
                   help="seconds per notebook, all cells included (default 600)")
    g.add_argument("--jobs", type=_positive(int), default=None,
                   help="notebooks graded at a time (default: the number of cores)")
    g.add_argument("--hidden", type=int, default=2, help="hidden tests per check (default 2)")
    g.add_argument("--release", default=None, help="folder of release notebooks (default exercises/)")
    g.add_argument("--notebooks", default=None,
                   help="comma-separated notebooks to grade (default: every release notebook "
                        "that at least one student handed in)")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it runs here, else the fallback (default)")
    g.add_argument("--fresh", action="store_true",
                   help="grade everything again with new hidden seeds instead of resuming")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.src, args.dst)
        return
    grade(args.submissions, args.out, timeout=args.timeout, jobs=args.jobs,
          notebook_timeout=args.notebook_timeout, hidden=args.hidden, release=args.release,
          notebooks=args.notebooks.split(",") if args.notebooks else None,
          sandbox=args.sandbox, fresh=args.fresh)


if __name__ == "__main__":
    main()
