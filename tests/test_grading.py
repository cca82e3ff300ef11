"""The instructor's grader: one synthetic class of submissions covering every outcome."""
import csv
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("exercises_tool", ROOT / "scripts" / "exercises.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

SETUP = "import numpy as np\nfrom course_lib import checks"
CHECK = "checks.check_mse(mse)"


def notebook(body, check=CHECK, extra=None):
    cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(body), nbformat.v4.new_code_cell(check)]
    if extra:
        cells.append(nbformat.v4.new_code_cell(extra))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    subs = {
        "ada": notebook("def mse(a, b):\n    return np.mean((a - b) ** 2)"),
        "bob": notebook("def mse(a, b):\n    return np.sum((a - b) ** 2)"),
        "cy": notebook("def mse(a, b):\n    raise NotImplementedError()"),
        "dee": notebook("import time\ntime.sleep(600)\ndef mse(a, b):\n    return np.mean((a - b) ** 2)"),
        "eve": notebook("import os\nos._exit(1)"),
        "fay": notebook("def mse(a, b):\n    return np.mean((a - b) ** 2)\nundefined_name"),
    }
    for student, nb in subs.items():
        (root / student).mkdir()
        nbformat.write(nb, root / student / "00_demo.ipynb")
    (root / "gus").mkdir()
    (root / "gus" / "00_demo.ipynb").write_text("{ not json")
    # a student who saved outputs claiming success must be re-run, not believed
    nb = subs["bob"]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ mse: all checks passed.\n")]
    (root / "hal").mkdir()
    nbformat.write(nb, root / "hal" / "00_demo.ipynb")
    out = root / "grades.csv"
    tool.grade(root, out, timeout=5)
    with out.open() as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    with out.with_name("grades_summary.csv").open() as f:
        summary = {r["student"]: r for r in csv.DictReader(f)}
    return rows, summary


def test_every_outcome_is_recorded(graded):
    rows, _ = graded
    assert rows["ada"]["status"] == "pass"
    assert rows["bob"]["status"] == "fail" and "sum" in rows["bob"]["message"]
    assert rows["cy"]["status"] == "error" and "NotImplementedError" in rows["cy"]["message"]
    assert rows["dee"]["status"] in ("error", "timeout")      # the hang times out; mse is then undefined
    assert rows["eve"]["status"] in ("error", "not run")
    assert rows["fay"]["status"] == "pass", "a failing cell must not stop the rest of the notebook"
    assert rows["gus"]["status"] == "error" and "unreadable" in rows["gus"]["message"]
    assert rows["hal"]["status"] == "fail", "saved outputs must not be trusted"


def test_summary_per_student(graded):
    _, summary = graded
    assert summary["ada"]["pass"] == "1" and summary["ada"]["score_percent"] == "100.0"
    assert summary["bob"]["fail"] == "1" and summary["bob"]["score_percent"] == "0.0"
    assert set(summary) == {"ada", "bob", "cy", "dee", "eve", "fay", "gus", "hal"}


def test_build_replaces_solutions_and_clears_outputs():
    src = notebook("def mse(a, b):\n    ### BEGIN SOLUTION\n    return np.mean((a - b) ** 2)\n    ### END SOLUTION")
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
    bad = notebook("### BEGIN SOLUTION\nx = 1")
    with pytest.raises(ValueError, match="never closed"):
        tool.make_exercise(bad, "bad.ipynb")
