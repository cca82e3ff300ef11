"""Exercise integrity: exercises/ is exactly the build of solutions/, holds no solution text,
and each student notebook runs until its first unfinished exercise, stopping there with
NotImplementedError and nothing else. (The solutions themselves run under nbval.)"""
import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
spec = importlib.util.spec_from_file_location("exercises_tool", ROOT / "scripts" / "exercises.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)
sys.path.insert(0, str(ROOT / "scripts"))


def ids(paths):
    return [p.stem for p in paths]


def solution_lines(nb):
    """The non-trivial lines inside solution blocks."""
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if s.startswith(tool.BEGIN):
                inside = True
            elif s.startswith(tool.END):
                inside = False
            elif inside and len(s) > 12 and not s.startswith("#"):
                lines.append(s)
    return lines


def test_every_solution_has_an_exercise_and_back():
    exercises = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert exercises == {p.name for p in SOLUTIONS}, "run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_exercise_is_a_fresh_build(path):
    built = nbformat.writes(tool.make_exercise(nbformat.read(path, as_version=4), path)) + "\n"
    committed = ROOT / "exercises" / path.name
    assert committed.exists(), f"exercises/{path.name} is missing: run `make exercises`"
    assert committed.read_text() == built, f"exercises/{path.name} differs from a fresh build: run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_exercise_holds_no_solution(path):
    nb = nbformat.read(path, as_version=4)
    blocks = solution_lines(nb)
    assert blocks, f"{path.name} has no ### BEGIN SOLUTION blocks"
    ex = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    text = "\n".join(c.source for c in ex.cells)
    assert tool.BEGIN not in text and tool.END not in text
    leaked = [line for line in blocks if line in text]
    assert not leaked, f"exercises/{path.name} contains solution code: {leaked[:3]}"
    assert all(not c.get("outputs") for c in ex.cells if c.cell_type == "code"), "outputs must be cleared"
    checks = sum("checks.check_" in c.source for c in ex.cells if c.cell_type == "code")
    assert checks >= 3, f"{path.name}: expected at least 3 exercises with a check cell, found {checks}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_exercise_stops_only_at_the_first_stub(path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from kernels import ipc_kernel   # local sockets: no TCP port for two test workers to race for

    ex = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    with ipc_kernel() as km, pytest.raises(CellExecutionError) as info:
        NotebookClient(ex, km=km, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
    assert "NotImplementedError" in str(info.value).splitlines()[-1] or \
        "NotImplementedError" in str(info.value)[-400:], \
        f"exercises/{path.name} stopped with something other than NotImplementedError:\n{str(info.value)[-1500:]}"
    failed = [c for c in ex.cells if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1, "execution must stop at the first error"
    error = next(o for o in failed[0].outputs if o.get("output_type") == "error")
    assert error.ename == "NotImplementedError", \
        f"exercises/{path.name}: the first error must be the first stub's NotImplementedError, got {error.ename}"
