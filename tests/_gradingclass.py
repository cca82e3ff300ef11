"""A synthetic class for the grader's tests: a small release (two notebooks built like the
course's, with the course's real checks) and submissions made from it — honest students,
cheats, faulty and hostile submissions. Each submission states its *honest part*: the
exercises its own code really solves, the most it may score."""
import importlib.util
import json
import os
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("exercises_tool", ROOT / "scripts" / "exercises.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

SETUP = "import numpy as np\nimport course_lib as cl\nfrom course_lib import checks"
MD = {"grade": False, "locked": False, "schema_version": 3, "solution": True}

MSE = "def mse(y_hat, y):\n    return float(np.mean((y_hat - y) ** 2))"
MSE_SUM = "def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))"
MSE_HARDCODED = "def mse(y_hat, y):\n    return 5 / 3     # the public inputs' answer"
BACKWARD = "def dropout_backward(dout, mask):\n    return dout * mask"
BACKWARD_WRONG = "def dropout_backward(dout, mask):\n    return dout"
PREDICTION = "predicted_mean = 2.0\npredicted_std_of_mean = float(np.sqrt(2.0 ** 2 * 0.3 / 0.7 / 100_000))"
PREDICTION_WRONG = "predicted_mean = 1.4\npredicted_std_of_mean = 0.5"
CLIP = ("def clip_grad_norm(grads, max_norm):\n"
        "    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
        "    factor = max_norm / total if total > max_norm else 1.0\n"
        "    return [g * factor for g in grads], total")

EXERCISES = ["mse", "dropout_backward", "dropout_mean_prediction"]


def _solution_notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source, md in cells:
        cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
        if md:
            cell.metadata["nbgrader"] = md
        nb.cells.append(cell)
    return nb


def _sol(gid):
    return dict(MD, grade_id=gid)


def _chk(gid):
    return {"grade": True, "grade_id": gid, "locked": True, "points": 1, "schema_version": 3,
            "solution": False}


def _wrap(code):
    """Solution markers as in solutions/: inside a function (its signature stays in the
    exercise), around a whole cell otherwise."""
    if code.startswith("def "):
        head, body = code.split("\n", 1)
        return f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"
    return f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"


def build_release(folder):
    """solutions/ and exercises/ of the synthetic course: 00_demo (three autograded exercises,
    one written answer) and 01_more (one exercise). Returns the release folder."""
    folder = Path(folder)
    sol, rel = folder / "solutions", folder / "release"
    sol.mkdir(parents=True)
    demo = _solution_notebook([
        ("markdown", "# Demo\nThe grader's synthetic exercise notebook.", None),
        ("code", SETUP, None),
        ("code", _wrap(MSE), _sol("mse")),
        ("code", "checks.check_mse(mse)", _chk("check_mse")),
        ("markdown", "Dropout's backward pass.", None),
        ("code", _wrap(BACKWARD), _sol("dropout_backward")),
        ("code", "checks.check_dropout_backward(dropout_backward)", _chk("check_dropout_backward")),
        ("code", "print('demo: mse of zeros and ones =', mse(np.zeros(2), np.ones(2)))", None),
        ("code", _wrap(PREDICTION), _sol("dropout_mean_prediction")),
        ("code", "checks.check_dropout_mean_prediction(predicted_mean, predicted_std_of_mean)",
         _chk("check_dropout_mean_prediction")),
        ("markdown", "**Question.** Why square the differences?", None),
        ("markdown", _wrap("So that errors of both signs count."),
         {"grade": True, "grade_id": "why_square", "locked": False, "points": 1,
          "schema_version": 3, "solution": True}),
    ])
    more = _solution_notebook([
        ("code", SETUP, None),
        ("code", _wrap(CLIP), _sol("clip_grad_norm")),
        ("code", "checks.check_clip_grad_norm(clip_grad_norm)", _chk("check_clip_grad_norm")),
    ])
    nbformat.write(demo, sol / "00_demo.ipynb")
    nbformat.write(more, sol / "01_more.ipynb")
    tool.build(sol, rel)
    return rel


def release_notebook(release, name="00_demo"):
    return nbformat.read(Path(release) / f"{name}.ipynb", as_version=4)


def by_id(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def submission(release, name="00_demo", answer="So that errors of both signs count.", **sources):
    """The release notebook with the given solution sources (grade_id=source) filled in."""
    nb = release_notebook(release, name)
    for gid, source in sources.items():
        by_id(nb, gid).source = source
    if name == "00_demo" and answer is not None:
        by_id(nb, "why_square").source = answer
    return nb


def honest(release, **overrides):
    sources = {"mse": MSE, "dropout_backward": BACKWARD, "dropout_mean_prediction": PREDICTION}
    sources.update(overrides)
    return submission(release, **sources)


def save(root, student, nb, name="00_demo"):
    folder = Path(root) / student
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode())
    else:
        nbformat.write(nb, path)
    return path


def add_cell(nb, source, index=None, kind="code"):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
    nb.cells.insert(len(nb.cells) if index is None else index, cell)
    return nb


def raw_json(nb):
    return json.loads(nbformat.writes(nb))


def read_csv_rows(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def statuses(rows, student, notebook="00_demo"):
    return {r["exercise"]: r["status"] for r in rows if r["student"] == student and r["notebook"] == notebook}


def messages(rows, student, notebook="00_demo"):
    return {r["exercise"]: r["message"] for r in rows if r["student"] == student and r["notebook"] == notebook}


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
