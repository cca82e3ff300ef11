"""The reference solutions as the solution notebooks write them: the cells of
solutions/<name>.py (the py:percent source of the notebook) with the given nbgrader grade_ids,
executed in a fresh namespace. Tests of the checks' hidden variants run these, so that what
the tests call "the reference" cannot drift away from what the notebooks teach."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRELUDE = "import numpy as np\nimport course_lib as cl\nfrom course_lib.functional import sigmoid\n"


def solution_namespace(name, grade_ids):
    """The namespace after running the solution cells ``grade_ids`` of solutions/<name>.py
    in notebook order (so that one solution may use an earlier one, as sigmoid_grad uses
    sigmoid)."""
    path = ROOT / "solutions" / f"{name}.py"
    ns = {}
    exec(PRELUDE, ns)
    found = set()
    for cell in re.split(r"^# %%", path.read_text(), flags=re.M)[1:]:
        header, _, body = cell.partition("\n")
        match = re.search(r'"grade_id": "([^"]+)"', header)
        if "[markdown]" in header or not match or match.group(1) not in grade_ids:
            continue
        exec(compile(body, str(path), "exec"), ns)
        found.add(match.group(1))
    missing = set(grade_ids) - found
    assert not missing, f"{path.name} has no solution cells {sorted(missing)}"
    return ns
