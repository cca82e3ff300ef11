"""Real-browser test of the student's own path: `make lab` in a temporary copy of the course,
driven in headless Chromium (Playwright).

For the welcome page and every lecture notebook — opened from the student copy in work/, as
the start page's links open them: Clear Outputs of All Cells, Run All Cells from the menus,
then no error output, no cell left unexecuted, at least as many rendered figures as the
committed notebook holds, the main widget's slider moved both ways with a new figure each
time, and after Ctrl+S the saved file still holds its figures. One exercise notebook: a
wrong answer's check shows the hint and no checker source; the right answer gives ✓. The
detectors are proven on planted failures. No time is asserted (make bench measures the
slider latencies). The working tree is never modified: everything happens in the copy.
Skipped — loudly — when Chromium is not installed (`apt-get install chromium`).
Set UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/ from the widgets.
"""
import os
import shutil
import statistics
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

import browser_lab as bl

ROOT = bl.ROOT
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = [ROOT / "notebooks" / "welcome.ipynb"] + LECTURES
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = pytest.mark.browser


def _tracked_digests(root):
    import hashlib
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest()
            for p in bl.committed_files() if (root / p).is_file()}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if bl.chromium_missing():
        pytest.skip(f"SKIPPED browser test: Chromium not found at {bl.CHROMIUM} "
                    "(install it with `apt-get install chromium`; .ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    root = bl.course_copy(tmp_path_factory.mktemp("course"))
    state = tmp_path_factory.mktemp("jupyter-state")
    log = tmp_path_factory.mktemp("lab-log") / "lab.log"
    before = _tracked_digests(ROOT)
    with bl.lab_server(root, state, log) as (base, token), bl.chromium() as browser:
        yield SimpleNamespace(root=root, base=base, token=token, browser=browser, log=log,
                              before=before)


def _artifact(lab, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lab.page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)


def _planted(course, name, sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, course.root / "work" / "notebooks" / name)
    return f"work/notebooks/{name}"


def test_make_lab_opens_the_students_own_copy(course):
    work = course.root / "work"
    for folder in ("notebooks", "exercises"):
        names = sorted(p.name for p in (course.root / folder).glob("*.ipynb"))
        assert names and sorted(p.name for p in (work / folder).glob("*.ipynb")) == names
    page = course.browser.new_page()
    try:
        page.goto(f"{course.base}/?token={course.token}")
        page.wait_for_url("**/lab/tree/work/notebooks/welcome.ipynb*", timeout=60000)
        page.locator(".jp-Notebook").first.wait_for(timeout=60000)
    finally:
        page.close()


def test_error_detector_fires_on_a_planted_failure(course):
    rel = _planted(course, "planted_failure.ipynb", [
        "import warnings, sys\nwarnings.warn('only a warning')\nprint('to stderr', file=sys.stderr)",
        "1 / 0",
        "print('never runs')",
    ])
    lab = bl.Lab(course.browser, course.base, course.token, rel, course.root)
    try:
        lab.run_all()
        errors = lab.error_outputs()
        assert len(errors) == 1 and "ZeroDivisionError" in errors[0], (errors, lab.prompts())
        assert lab.unexecuted_cells() == [2], lab.prompts()
    finally:
        lab.close()


def test_error_detector_ignores_warnings_and_sees_check_failures(course):
    rel = _planted(course, "planted_check.ipynb", [
        "import warnings\nwarnings.warn('only a warning')",
        "import numpy as np\nfrom course_lib import checks\n"
        "checks.check_mse(lambda a, b: np.sum((a - b) ** 2))",
    ])
    lab = bl.Lab(course.browser, course.base, course.token, rel, course.root)
    try:
        lab.run_all()
        errors = lab.error_outputs()
        assert len(errors) == 1 and errors[0].startswith("✗ check_mse failed"), (errors, lab.prompts())
    finally:
        lab.close()


def test_figure_counter_sees_figures_that_are_not_drawn(course):
    """The figure assertion can fail: a kernel on a non-drawing backend shows no figure."""
    rel = _planted(course, "planted_agg.ipynb", [
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.show()",
        "plt.switch_backend('agg')\nplt.plot([3, 2, 1]); plt.show()",
    ])
    lab = bl.Lab(course.browser, course.base, course.token, rel, course.root)
    try:
        lab.run_all()
        assert lab.rendered_figures() == 1     # the second figure was never drawn
    finally:
        lab.close()


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_on_the_students_path(course, source):
    rel = f"work/notebooks/{source.name}"
    path = course.root / rel
    committed = bl.count_committed_figures(source)
    lab = bl.Lab(course.browser, course.base, course.token, rel, course.root)
    try:
        lab.clear_all_outputs()
        seconds = lab.run_all()
        errors = lab.error_outputs()
        assert not errors, f"{source.name}: error output in the browser:\n" + "\n".join(errors)[:3000]
        assert not lab.unexecuted_cells(), f"{source.name}: cells left unexecuted after Run All"
        shown = lab.rendered_figures()
        assert shown >= committed, f"{source.name}: {shown} figures rendered, {committed} committed"
        widget = lab.main_widget()
        latencies = []
        for key in lab.slider_keys(widget, 3):
            before = lab.widget_image(widget)
            latencies.append(lab.move_slider(widget, key))
            assert lab.widget_image(widget) != before, f"{source.name}: the figure did not change"
        line = (f"{source.stem}: run all {seconds:.0f} s, {shown} figures shown "
                f"({committed} committed), slider → new figure "
                f"{statistics.median(latencies):.0f} ms median (not a test: see make bench)")
        print("\n" + line)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(ARTIFACTS / "notebooks.txt", "a") as log:
            log.write(line + "\n")
        widget.screenshot(path=str(ARTIFACTS / f"{source.stem}.png"))
        if os.environ.get("UPDATE_SCREENSHOTS"):
            shots = ROOT / "docs" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            shutil.copy(ARTIFACTS / f"{source.stem}.png", shots / f"{source.stem}.png")
        lab.save()
        saved = bl.count_committed_figures(path)
        assert saved >= committed, f"{source.name}: the saved file holds {saved} figures, {committed} committed"
        assert not bl.error_outputs_in_file(path)
    except BaseException:   # pytest.fail raises a BaseException
        _artifact(lab, source.stem)
        raise
    finally:
        lab.close()


def _code_cell_index(lab, marker):
    for i, text in enumerate(lab.cell_texts()):
        if marker in text:
            return i
    raise AssertionError(f"no cell contains {marker!r}")


WRONG_FORWARD = '''def dropout_forward(x, p, training, rng):
    if not training:
        return x, np.ones_like(x)
    mask = (rng.random(x.shape) < p) / (1 - p)
    return x * mask, mask'''
RIGHT_FORWARD = WRONG_FORWARD.replace("< p)", ">= p)")


def test_exercise_check_shows_the_hint_not_the_checker(course):
    rel = "work/exercises/05_dropout.ipynb"
    lab = bl.Lab(course.browser, course.base, course.token, rel, course.root)
    try:
        setup = _code_cell_index(lab, "from course_lib import checks")
        lab.run_cell(setup)
        solution = _code_cell_index(lab, "def dropout_forward")
        check = _code_cell_index(lab, "checks.check_dropout_forward(dropout_forward)")
        lab.set_cell_source(solution, WRONG_FORWARD)
        lab.run_cell(solution)
        shown = "\n".join(lab.run_cell(check))
        assert "✗ check_dropout_forward failed" in shown and "KEEP" in shown, shown
        assert "to reproduce:" in shown
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        lab.cell(check).screenshot(path=str(ARTIFACTS / "exercise-05-hint.png"))
        for checker_text in ("course_lib/checks", "Traceback", "def ", "fail("):
            assert checker_text not in shown, f"checker internals shown: {checker_text!r}\n{shown}"
        lab.set_cell_source(solution, RIGHT_FORWARD)
        lab.run_cell(solution)
        shown = "\n".join(lab.run_cell(check))
        assert "✓ dropout_forward: all checks passed." in shown, shown
    except BaseException:
        _artifact(lab, "exercise-05")
        raise
    finally:
        lab.close()


def test_the_students_path_writes_only_into_work(course):
    """Saving, running and editing happened in work/ of the copy: the copy's course files are
    unchanged, and nothing of the test reached this working tree."""
    copy_now = _tracked_digests(course.root)
    changed_in_copy = [p for p, d in course.before.items() if copy_now.get(p) != d]
    assert not changed_in_copy, f"the student's path modified course files: {changed_in_copy[:5]}"
    planted = [p for p in ROOT.rglob("planted_*.ipynb") if ".venv" not in p.parts]
    assert not planted, f"files of the test appeared in the working tree: {planted}"
