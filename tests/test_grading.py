"""The grader's parts that need no sandbox: the build's locked cells, the templates, reading
submissions that are broken or hostile, the merge, the red-flag scan, the verdict rules, the
reports — and one small class graded end to end WITHOUT bubblewrap (the fallback). The
sandboxed class is in test_grading_class.py, the solutions in test_grading_solutions.py."""
import json
import os
import sys

import nbformat
import pytest

import _gradingclass as gc
from _gradingclass import BACKWARD, BACKWARD_WRONG, MSE, MSE_HARDCODED, by_id, honest, save, statuses

tool = gc.tool
sys.path.insert(0, str(gc.ROOT / "scripts"))
from grading import notebooks as nbs  # noqa: E402
from grading import reports, runner  # noqa: E402
from grading.kernel import CellResult  # noqa: E402
from grading.grader import hidden_seeds  # noqa: E402
from grading.sandbox import bwrap_path  # noqa: E402

ROOT = gc.ROOT
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
MODULES = nbs.check_modules(ROOT / "course_lib" / "checks")


def notebook(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return gc.build_release(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def template(release):
    return nbs.load_template(release / "00_demo.ipynb", MODULES)


# ------------------------------------------------------------------------- the build

def test_build_replaces_solutions_and_clears_outputs():
    src = notebook([nbformat.v4.new_code_cell("import numpy as np"),
                    nbformat.v4.new_code_cell("def mse(a, b):\n    ### BEGIN SOLUTION\n"
                                              "    return np.mean((a - b) ** 2)\n    ### END SOLUTION"),
                    nbformat.v4.new_code_cell("checks.check_mse(mse)")])
    src.cells.append(nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS"))
    src.cells.append(nbformat.v4.new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"))
    src.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓\n")]
    src.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    ex = tool.make_exercise(src)
    assert ex.cells[1].source == "def mse(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert ex.cells[3].source == "x = 1"
    assert "Because" not in ex.cells[4].source and "YOUR ANSWER HERE" in ex.cells[4].source
    assert all(not c.get("outputs") for c in ex.cells if c.cell_type == "code")
    assert "jupytext" not in ex.metadata
    assert src.cells[2].outputs, "make_exercise must not modify its input"


def test_build_rejects_unclosed_markers():
    bad = notebook([nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1")])
    with pytest.raises(ValueError, match="never closed"):
        tool.make_exercise(bad, "bad.ipynb")


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_release_locks_setup_and_check_cells(path):
    """JupyterLab makes a cell read-only when metadata.editable is false and refuses to delete
    it when metadata.deletable is false (its notebook and cell code read exactly these keys)."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = code[0]
    assert setup.metadata["nbgrader"]["grade_id"] == "setup" and setup.metadata["nbgrader"]["locked"]
    for cell in nb.cells:
        md = cell.metadata.get("nbgrader", {})
        if md.get("solution"):
            assert cell.metadata.get("deletable") is False and "editable" not in cell.metadata
        elif md.get("grade") or md.get("locked"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False
        else:
            assert "editable" not in cell.metadata


def test_jupyterlab_reads_these_keys():
    """The read-only keys are the ones the installed JupyterLab honours."""
    static = ROOT / ".venv" / "share" / "jupyter" / "lab" / "static"
    bundles = list(static.glob("*.js")) if static.is_dir() else []
    if not bundles:
        pytest.skip("JupyterLab's static files are not installed in .venv")
    text = "".join(p.read_text(errors="replace") for p in bundles if p.stat().st_size < 40 << 20)
    assert 'getMetadata("editable")' in text and 'getMetadata("deletable")' in text


# ------------------------------------------------------------------------- templates

@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_every_release_notebook_is_a_template(path):
    t = nbs.load_template(path, MODULES)
    checks = [c for c in nbformat.read(path, 4).cells if c.metadata.get("nbgrader", {}).get("grade")
              and c.cell_type == "code"]
    assert len(t.exercises) == len(checks) >= 3
    for ex in t.exercises:
        assert ex.solutions, f"{path.name}: {ex.name} depends on no solution cell"
        assert ex.module in {p.stem for p in (ROOT / "course_lib" / "checks").glob("*.py")}
    assert "setup" in t.locked


def test_template_maps_solution_cells_to_exercises(template):
    assert [e.name for e in template.exercises] == gc.EXERCISES
    assert [e.solutions for e in template.exercises] == [["mse"], ["dropout_backward"], ["dropout_mean_prediction"]]
    assert [e.args for e in template.exercises][2] == ["predicted_mean", "predicted_std_of_mean"]
    assert [w[0] for w in template.written] == ["why_square"]


def test_a_check_cell_must_be_one_call():
    with pytest.raises(ValueError, match="one call"):
        nbs.parse_check_call("x = 1\nchecks.check_mse(mse)", "t")
    with pytest.raises(ValueError, match="checks.check_"):
        nbs.parse_check_call("print(mse)", "t")
    assert nbs.parse_check_call("checks.check_elu(elu, elu_grad, alpha=2)", "t") == \
        ("check_elu", ["elu", "elu_grad"], {"alpha": "2"})


# ------------------------------------------------------------------------- reading submissions

@pytest.mark.parametrize("content, words", [
    (b"", "empty"), (b"   \n", "empty"), (b"{ not json", "not valid JSON"), (b"[1, 2]", "not a notebook"),
    (b'{"nbformat": 3, "worksheets": []}', "nbformat 3"), (b'{"nbformat": 4}', "no list of cells"),
    (bytes(range(256)), "not valid JSON"), (b"[" * 100000 + b"]" * 100000, "not valid JSON")])
def test_unreadable_files_are_refused_with_the_reason(tmp_path, content, words):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(nbs.Refused, match=words):
        nbs.read_submission(path)


def test_links_folders_fifos_and_huge_files_are_refused(tmp_path):
    real = tmp_path / "real.ipynb"
    nbformat.write(notebook([]), real)
    (tmp_path / "link.ipynb").symlink_to(real)
    (tmp_path / "dir.ipynb").mkdir()
    os.mkfifo(tmp_path / "fifo.ipynb")
    with pytest.raises(nbs.Refused, match="symbolic link"):
        nbs.read_submission(tmp_path / "link.ipynb")
    for name in ("dir.ipynb", "fifo.ipynb"):
        with pytest.raises(nbs.Refused, match="not a regular file"):
            nbs.read_submission(tmp_path / name)
    with pytest.raises(nbs.Refused, match="larger than"):
        nbs.read_submission(real, max_bytes=10)
    assert nbs.read_submission(real).cells == []


def test_cells_with_broken_fields_are_kept_apart(tmp_path):
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": 42, "metadata": {"nbgrader": {"grade_id": "a"}}},
        {"cell_type": "code", "source": ["x = 1\n", "y = 2"], "metadata": {"nbgrader": {"grade_id": "b"}}},
        "not a cell",
        {"cell_type": 7, "source": None, "metadata": "nope"},
        {"cell_type": "code", "source": ["x", 3], "metadata": {"nbgrader": {"grade_id": ["c"]}}}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(raw))
    cells = nbs.read_submission(path).cells
    assert cells[0].source is None and cells[0].problem == "its source is not text"
    assert cells[1].source == "x = 1\ny = 2" and cells[1].grade_id == "b"
    assert cells[2].source is None and cells[3].source is None
    assert cells[4].grade_id == "" and cells[4].source is None


# ------------------------------------------------------------------------- the merge

def sub_of(nb, tmp_path):
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    return nbs.read_submission(path)


def test_merge_takes_only_the_solution_cells(template, release, tmp_path):
    nb = honest(release)
    by_id(nb, "check_mse").source = "print('✓ mse: all checks passed.')"
    by_id(nb, "setup").source += "\nchecks.check_mse = print"
    nb.cells.insert(3, nbformat.v4.new_code_cell("print('an added cell')"))
    merged = nbs.merge(template, sub_of(nb, tmp_path))
    sources = [s.source for s in merged.steps]
    assert MSE in sources and BACKWARD in sources
    assert "checks.check_mse(mse)" in sources and gc.SETUP in sources
    assert not any("an added cell" in s or "✓" in s or "= print" in s for s in sources)
    assert ("locked cell edited", "check_mse") in merged.review and ("locked cell edited", "setup") in merged.review
    assert any("added 1 cell" in n for n in merged.notes)
    assert merged.missing == {}
    assert merged.answers["why_square"] == "So that errors of both signs count."


def test_merge_marks_missing_solution_cells(template, release, tmp_path):
    nb = honest(release)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "mse"]
    by_id(nb, "dropout_backward").cell_type = "markdown"
    by_id(nb, "dropout_backward").pop("outputs", None)
    by_id(nb, "dropout_backward").pop("execution_count", None)
    dup = nbformat.v4.new_code_cell("predicted_mean = 0",
                                    metadata={"nbgrader": {"grade_id": "dropout_mean_prediction"}})
    nb.cells.append(dup)
    merged = nbs.merge(template, sub_of(nb, tmp_path))
    assert set(merged.missing) == {"mse", "dropout_backward"}
    assert "markdown" in merged.missing["dropout_backward"]
    assert ("duplicate cell id", "dropout_mean_prediction") in merged.review
    step = next(s for s in merged.steps if s.grade_id == "dropout_mean_prediction")
    assert step.source == gc.PREDICTION, "the first of two cells with one id is graded"


def test_red_flags_are_silent_on_the_reference_solutions():
    """The detector has no false alarm on honest code: the course's own solutions."""
    hits = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                hits += [(path.stem, h) for h in nbs.red_flags(cell.source)]
    assert hits == []


@pytest.mark.parametrize("code, what", [
    ("import sys\nf = sys._getframe(1)", "frames"), ("import gc\ngc.get_objects()", "garbage collector"),
    ("sys.settrace(t)", "hook"), ("np.allclose = lambda *a: True", "numpy"),
    ("get_ipython().events.register('pre_run_cell', f)", "kernel"),
    ("checks.check_mse = print", "checks"), ("import subprocess", "processes"),
    ("open('/etc/passwd').read()", "files"), ("f.__globals__['x'] = 1", "internals"),
    ("import builtins\nbuiltins.print = None", "builtins")])
def test_red_flags_catch_planted_tampering(code, what):
    assert any(what in h[1] for h in nbs.red_flags(code)), nbs.red_flags(code)


def test_red_flags_ignore_method_calls_named_like_builtins():
    assert nbs.red_flags("model.eval()\nx = layer.compile()\ny = np.zeros(3)\nnp.random.default_rng(0)") == []


# ------------------------------------------------------------------------- verdicts and reports

def test_only_the_verdict_with_this_cells_nonce_counts():
    res = CellResult()
    ok = {"exercise": "mse", "status": "pass", "message": ""}
    res.verdicts = [{"nonce": "other", "result": ok}]
    assert runner._verdict(res, "n", "mse")[0] is None and runner._verdict(res, "n", "mse")[1] == 1
    res.verdicts = [{"nonce": "n", "result": ok}, {"nonce": "n", "result": dict(ok, status="fail")}]
    assert runner._verdict(res, "n", "mse")[2].startswith("conflicting")
    res.verdicts = [{"nonce": "n", "result": dict(ok, exercise="dropout_backward")}]
    assert "malformed" in runner._verdict(res, "n", "mse")[2]
    res.verdicts = [{"nonce": "n", "result": ok}, {"nonce": "x", "result": ok}]
    assert runner._verdict(res, "n", "mse") == (ok, 1, "")


def test_hidden_seeds_are_per_run_and_per_check():
    a = hidden_seeds("s1", ["check_mse", "check_elu"], 2)
    assert a == hidden_seeds("s1", ["check_mse", "check_elu"], 2)
    assert a["check_mse"] != a["check_elu"] and a != hidden_seeds("s2", ["check_mse", "check_elu"], 2)
    assert len(set(a["check_mse"])) == 2


def test_summary_counts_every_status_in_the_denominator():
    recs = [{"student": "a", "notebook": "n", "exercises": [
        {"exercise": e, "status": s, "message": ""} for e, s in
        [("x", "pass"), ("y", "fail"), ("z", "missing"), ("w", "not run"), ("v", "timeout"), ("u", "error")]]}]
    (row,) = reports.summary_rows(recs, ["a"])
    assert row["exercises"] == 6 and row["pass"] == 1 and row["missing"] == 1 and row["score_percent"] == 16.7
    assert reports.summary_rows([], ["b"])[0]["score_percent"] == 0.0


def test_grades_folder_must_not_overlap_the_submissions(tmp_path):
    (tmp_path / "subs").mkdir()
    with pytest.raises(SystemExit, match="must not"):
        tool.grade(tmp_path / "subs", tmp_path / "subs" / "grades.csv")
    with pytest.raises(SystemExit, match="must not"):
        tool.grade(tmp_path / "subs", tmp_path / "grades.csv")


# ------------------------------------------------------------------------- the fallback, end to end

@pytest.fixture(scope="module")
def fallback(release, tmp_path_factory):
    """A small class graded with sandbox="none" (the command line is tested in
    test_grading_class.py)."""
    root = tmp_path_factory.mktemp("fallback")
    subs = root / "subs"
    save(subs, "ada", honest(release))
    save(subs, "hardcode", honest(release, mse=MSE_HARDCODED))
    nb = honest(release, dropout_backward=BACKWARD_WRONG)
    by_id(nb, "check_dropout_backward").source = "print('✓ dropout_backward: all checks passed.')"
    save(subs, "printer", nb)
    save(subs, "sigint", honest(release, dropout_backward="import signal\nsignal.signal(signal.SIGINT, "
                                "signal.SIG_IGN)\nwhile True:\n    pass"))
    save(subs, "broken", b"{ not json")
    out = root / "grades" / "grades.csv"
    from contextlib import redirect_stdout
    from io import StringIO
    printed = StringIO()
    with redirect_stdout(printed):
        tool.grade(subs, out, timeout=10, jobs=2, release=release, sandbox="none", interrupt_grace=1.0)
    return printed.getvalue(), gc.read_csv_rows(out)


def test_fallback_grades_and_says_what_is_missing(fallback):
    printed, rows = fallback
    warning = [line for line in printed.splitlines() if line.startswith("grade: no sandbox")]
    assert len(warning) == 1 and "filesystem isolation" in warning[0] and "bubblewrap" in warning[0]
    assert statuses(rows, "ada") == dict.fromkeys(gc.EXERCISES, "pass")
    assert statuses(rows, "hardcode")["mse"] == "fail"
    assert statuses(rows, "printer")["dropout_backward"] == "fail"
    assert statuses(rows, "sigint") == {"mse": "pass", "dropout_backward": "timeout",
                                        "dropout_mean_prediction": "not run"}
    assert set(statuses(rows, "broken").values()) == {"error"}


def test_sandbox_tests_need_bubblewrap():
    if bwrap_path() is None:
        pytest.skip("the sandbox tests (test_grading_class.py) need bubblewrap: apt-get install bubblewrap")


def test_sandbox_binds_a_course_under_tmp_on_top_of_its_tmpfs(tmp_path):
    """bwrap applies its mounts in order: a venv or course_lib under /tmp must be bound after
    the private /tmp tmpfs, or the kernel cannot find its interpreter (a clone in /tmp)."""
    from grading.sandbox import Sandbox
    box = Sandbox(0, mode="auto", expose=[tmp_path])
    try:
        argv = box._bwrap_argv(["true"], 3)
    finally:
        import shutil
        shutil.rmtree(box.job_dir, ignore_errors=True)
    tmpfs = argv.index("--tmpfs")
    binds = [i for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1].startswith("/tmp/")]
    assert binds and all(i > tmpfs for i in binds), argv
