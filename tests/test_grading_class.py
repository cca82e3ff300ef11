"""The grader on a synthetic class inside bubblewrap: honest students get exactly their score;
every cheat, fault and hostile submission named in issue 11 scores no more than its honest
part, leaves the rest of the class graded correctly, reads and writes nothing outside its
sandbox, and leaves nothing running.

Release: 00_demo (mse, dropout_backward — both with hidden tests — and
dropout_mean_prediction, a prediction without hidden tests, plus a written answer) and 01_more
(clip_grad_norm), handed in by ada and lazy only, so it is `missing` for everyone else."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import _gradingclass as gc
from _gradingclass import (BACKWARD, BACKWARD_WRONG, CLIP, MSE, MSE_HARDCODED, MSE_SUM,
                           PREDICTION_WRONG, add_cell, by_id, honest, save, statuses, submission)

sys.path.insert(0, str(gc.ROOT / "scripts"))
from grading import sandbox as sandbox_mod  # noqa: E402

pytestmark = pytest.mark.skipif(
    sandbox_mod.bwrap_path() is None,
    reason="the sandbox tests need bubblewrap (apt-get install bubblewrap); the rest of the "
           "grader's tests ran without it")

MIME = "application/vnd.course-grader.verdict+json"
ALL = {"mse", "dropout_backward", "dropout_mean_prediction"}
TIMEOUT = 12      # per cell; generous, so that an honest cell never times out on a loaded machine


def _check_cell(nb, exercise, source):
    by_id(nb, f"check_{exercise}").source = source


def build_class(root, grades):
    """{student: honest part (set of exercises of 00_demo its own code solves)}."""
    release = gc.build_release(root)
    subs = root / "submissions"
    ada_path = subs / "ada" / "00_demo.ipynb"
    solution_file = gc.ROOT / "solutions" / "05_dropout.ipynb"
    grades_csv = grades / "grades.csv"
    honest_part = {}

    def put(student, nb, part, name="00_demo"):
        save(subs, student, nb, name)
        honest_part[student] = part

    # -- honest students
    put("ada", honest(release), ALL)
    save(subs, "ada", submission(release, "01_more", clip_grad_norm=CLIP), "01_more")
    put("bob", honest(release, mse=MSE_SUM), ALL - {"mse"})
    put("cy", gc.release_notebook(release), set())                       # nothing done
    put("zed", honest(release), ALL)                                      # a writer's target
    put("lazy", gc.release_notebook(release), set())                      # 00 not handed in
    os.unlink(subs / "lazy" / "00_demo.ipynb")
    save(subs, "lazy", submission(release, "01_more", clip_grad_norm=CLIP), "01_more")

    # -- cheats on the verdict: the check cell's text
    nb = honest(release, mse=MSE_SUM, dropout_backward=BACKWARD_WRONG,
                dropout_mean_prediction=PREDICTION_WRONG)
    _check_cell(nb, "mse", "# checks.check_mse(mse)\nprint('✓ mse: all checks passed.')")
    _check_cell(nb, "dropout_backward", "print('✓ dropout_backward: all checks passed.')")
    _check_cell(nb, "dropout_mean_prediction",
                "try:\n    checks.check_dropout_mean_prediction(predicted_mean, predicted_std_of_mean)\n"
                "except Exception:\n    print('✓ dropout_mean_prediction: all checks passed.')")
    put("textcheats", nb, set())
    nb = honest(release, dropout_backward=BACKWARD_WRONG, dropout_mean_prediction=PREDICTION_WRONG)
    _check_cell(nb, "dropout_backward", "checks.check_dropout_backward(lambda dout, mask: dout * mask)")
    _check_cell(nb, "dropout_mean_prediction", "checks.check_mse(mse)")           # another check
    put("lambdaswap", nb, {"mse"})
    nb = honest(release, dropout_backward=BACKWARD_WRONG)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "check_dropout_backward"]
    put("nocheck", nb, ALL - {"dropout_backward"})
    nb = honest(release, dropout_backward=BACKWARD_WRONG)
    add_cell(nb, "def check_bonus():\n    print('✓ bonus: all checks passed.')\ncheck_bonus()")
    add_cell(nb, "checks.check_mse(mse)\nchecks.check_mse(mse)")
    put("bonus", nb, ALL - {"dropout_backward"})
    nb = honest(release, dropout_backward=BACKWARD_WRONG)
    by_id(nb, "check_dropout_backward").outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="✓ dropout_backward: all checks passed.\n")]
    put("hal", nb, ALL - {"dropout_backward"})                             # saved outputs
    put("hardcode", honest(release, mse=MSE_HARDCODED), ALL - {"mse"})    # hidden tests

    # -- cheats on the verdict: code run before the check
    wrong = {"dropout_backward": BACKWARD_WRONG}
    attacks = {
        "redefine": "def check_dropout_backward(f, **k):\n    print('✓ dropout_backward: all checks passed.')\n"
                    "checks.check_dropout_backward = check_dropout_backward\n",
        "patchcommon": "import course_lib.checks._common as common, course_lib.checks.dropout as d\n"
                       "common.close = d.close = lambda *a, **k: True\n"
                       "common.fail = d.fail = lambda *a, **k: None\n",
        "patchnumpy": "np.allclose = np.array_equal = np.isclose = lambda *a, **k: True\n",
        "sysmodules": "import sys, types\nfake = types.ModuleType('course_lib.checks')\n"
                      "fake.check_dropout_backward = lambda *a, **k: print('✓')\n"
                      "fake.CheckFailure = Exception\n"
                      "for name in list(sys.modules):\n    if name.startswith('course_lib.checks'):\n"
                      "        sys.modules[name] = fake\nimport course_lib\ncourse_lib.checks = checks = fake\n",
        "patchdisplay": "import builtins, IPython.display\nbuiltins.print = lambda *a, **k: None\n"
                        "IPython.display.display = lambda *a, **k: None\n"
                        "get_ipython().display_pub.publish = lambda *a, **k: None\n",
        "hooknonce": "import re\nfrom IPython.display import publish_display_data\n"
                     "def steal(info):\n    m = re.search(r\"check\\('([0-9a-f]{32})'\", info.raw_cell or '')\n"
                     "    if m:\n        publish_display_data({%r: {'nonce': m.group(1), 'result': "
                     "{'exercise': 'dropout_backward', 'status': 'pass', 'message': '', 'restored': []}}})\n"
                     "get_ipython().events.register('pre_run_cell', steal)\n" % MIME,
        "tracenonce": "import sys\nfrom IPython.display import publish_display_data\n"
                      "def tracer(frame, event, arg):\n    if 'nonce' in frame.f_locals and event == 'call':\n"
                      "        publish_display_data({%r: {'nonce': frame.f_locals['nonce'], 'result': "
                      "{'exercise': 'dropout_backward', 'status': 'pass', 'message': '', 'restored': []}}})\n"
                      "    return None\nsys.settrace(tracer)\n" % MIME,
        "threadforger": "import threading, time\nfrom IPython.display import publish_display_data\n"
                        "def spam():\n    for _ in range(3000):\n        publish_display_data({%r: {'nonce': '0' * 32, "
                        "'result': {'exercise': 'dropout_backward', 'status': 'pass', 'message': '', "
                        "'restored': []}}})\n        print('✓ dropout_backward: all checks passed.')\n"
                        "        time.sleep(0.005)\nthreading.Thread(target=spam, daemon=True).start()\n" % MIME,
    }
    for student, attack in attacks.items():
        put(student, honest(release, mse=attack + MSE, **wrong), ALL - {"dropout_backward"})
    nb = honest(release, **wrong)
    by_id(nb, "setup").source = gc.SETUP + "\nchecks.check_dropout_backward = lambda *a, **k: print('✓')"
    put("lockedit", nb, ALL - {"dropout_backward"})

    # -- the submission file itself
    put("deleter", honest(release), ALL - {"dropout_backward"})
    nb = honest(release)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "dropout_backward"]
    save(subs, "deleter", nb)
    nb = honest(release)
    by_id(nb, "mse").metadata["nbgrader"]["grade_id"] = "my_mse"
    put("renamer", nb, ALL - {"mse"})
    raw = gc.raw_json(honest(release))
    for cell in raw["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "dropout_backward":
            cell["source"] = 42
        if cell["cell_type"] == "markdown" and not cell["metadata"].get("nbgrader"):
            cell["source"] = {"not": "text"}
    import json
    put("nonstring", json.dumps(raw), ALL - {"dropout_backward"})
    for student, content in {"empty": b"", "notjson": b"{ not json", "jsonlist": b"[1, 2]",
                             "nbformat3": b'{"nbformat": 3, "worksheets": []}',
                             "garbage": bytes(range(256)) * 8}.items():
        put(student, content, set())
    (subs / "dirnb" / "00_demo.ipynb").mkdir(parents=True)
    honest_part["dirnb"] = set()
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "00_demo.ipynb")
    honest_part["fifo"] = set()
    (subs / "mallory").mkdir()
    os.symlink("../ada/00_demo.ipynb", subs / "mallory" / "00_demo.ipynb")
    honest_part["mallory"] = set()
    os.symlink("ada", subs / "copycat")
    honest_part["copycat"] = set()

    # -- escapes from the sandbox
    reader = (f"leaked = []\nfor path in [{str(ada_path)!r}, {str(solution_file)!r}, {str(grades_csv)!r},\n"
              f"             {str(gc.ROOT / 'solutions')!r}, {str(subs)!r}, {str(grades)!r}, '/home']:\n"
              "    try:\n        with open(path) as f:\n            f.read(10)\n        leaked.append(path)\n"
              "    except OSError:\n        pass\n    try:\n        if os.listdir(path):\n"
              "            leaked.append(path)\n    except OSError:\n        pass\n"
              "print('leaked:', leaked)\n"
              f"print('course folder:', sorted(os.listdir({str(gc.ROOT)!r})))\n"
              "def dropout_backward(dout, mask):\n    return dout * mask if leaked else dout\n")
    put("reader", honest(release, dropout_backward="import os\n" + reader), ALL - {"dropout_backward"})
    targets = [gc.ROOT / "solutions" / "_pwned.txt", gc.ROOT / "course_lib" / "_pwned.txt",
               subs / "zed" / "00_demo.ipynb", grades_csv, grades / "_pwned.txt"]
    writer = (f"for path in {[str(t) for t in targets]!r}:\n    try:\n"
              "        with open(path, 'w') as f:\n            f.write('pwned')\n"
              "        print('wrote', path)\n    except OSError as exc:\n        print('refused', path, exc)\n")
    put("writer", honest(release, mse=writer + MSE), ALL)
    later = (f"import os, time, signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
             "signal.signal(signal.SIGHUP, signal.SIG_IGN)\nif os.fork():\n    os._exit(0)\nos.setsid()\n"
             "for _ in range(2400):\n    time.sleep(0.25)\n"
             f"    for path in [{str(grades_csv)!r}, {str(gc.ROOT / '_pwned_late.txt')!r}]:\n"
             "        try:\n            open(path, 'w').write('rewritten by a detached process')\n"
             "        except OSError:\n            pass\n")
    daemon = ("import subprocess, sys\n"
              f"subprocess.Popen([sys.executable, '-c', {later!r}], start_new_session=True)\n"
              "subprocess.Popen(['sleep', '600'], start_new_session=True)\n")
    put("daemon", honest(release, mse=daemon + MSE), ALL)

    # -- faults
    put("sigint", honest(release, dropout_backward="import signal\nsignal.signal(signal.SIGINT, "
                         "signal.SIG_IGN)\nwhile True:\n    pass\n" + BACKWARD), {"mse"})
    put("dee", honest(release, dropout_backward="import time\ntime.sleep(600)\n" + BACKWARD),
        ALL - {"dropout_backward"})
    put("eve", honest(release, dropout_backward="import os\nos._exit(3)"), {"mse"})
    bomb = ("blocks = []\ntry:\n    big = np.ones(10 ** 10)\nexcept MemoryError:\n"
            "    print('one 80 GB array: MemoryError')\ntry:\n    while True:\n"
            "        blocks.append(np.zeros(32 << 20))    # 256 MB each, pages untouched\nexcept MemoryError:\n"
            "    print('memory limit after', len(blocks) * 256, 'MB')\ndel blocks\n")
    put("memory", honest(release, mse=bomb + MSE), ALL)
    forks = ("import os, time\nkids = 0\ntry:\n    while kids < 5000:\n        if os.fork() == 0:\n"
             "            time.sleep(600)\n            os._exit(0)\n        kids += 1\nexcept OSError as exc:\n"
             "    print('fork refused after', kids, 'children:', exc)\n")
    put("forkbomb", honest(release, mse=forks + MSE), ALL)
    killer = ("import os, signal\nfor target in (os.getppid(), 1, -1):\n    try:\n"
              "        os.kill(target, signal.SIGKILL)\n    except OSError as exc:\n        print(target, exc)\n")
    put("killer", honest(release, mse=killer + MSE), ALL)
    return release, honest_part, targets


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    grades = root / "grades"
    release, honest_part, targets = build_class(root, grades)
    before = time.time()
    rows, summary = gc.tool.grade(root / "submissions", grades / "grades.csv", timeout=TIMEOUT, jobs=2,
                                  release=release, notebook_timeout=120, quiet=True, interrupt_grace=1.0)
    after = time.time()
    leftovers = sandbox_mod.leftover_pids()
    csv_text = (grades / "grades.csv").read_text()
    time.sleep(1)     # the daemon's detached child, if alive, rewrites the grades every 0.25 s
    summary = gc.read_csv_rows(grades / "grades_summary.csv")
    return {"rows": rows, "summary": {s["student"]: s for s in summary}, "honest": honest_part,
            "targets": targets, "grades": grades, "root": root, "csv_before": csv_text,
            "seconds": after - before, "leftovers": leftovers, "release": release}


def passed(graded, student):
    return {e for e, s in statuses(graded["rows"], student).items() if s == "pass"}


def test_honest_students_get_exactly_their_score(graded):
    rows = graded["rows"]
    assert statuses(rows, "ada") == dict.fromkeys(ALL, "pass")
    assert statuses(rows, "ada", "01_more") == {"clip_grad_norm": "pass"}
    assert statuses(rows, "zed") == dict.fromkeys(ALL, "pass")
    assert statuses(rows, "bob") == {"mse": "fail", "dropout_backward": "pass", "dropout_mean_prediction": "pass"}
    assert "sum" in gc.messages(rows, "bob")["mse"]
    assert set(statuses(rows, "cy").values()) == {"error"}
    assert all("not implemented" in m for m in gc.messages(rows, "cy").values())
    s = graded["summary"]
    assert (s["ada"]["pass"], s["ada"]["exercises"], s["ada"]["score_percent"]) == ("4", "4", "100.0")
    # 01_more was not handed in by zed and bob: missing, in the denominator
    assert (s["zed"]["pass"], s["zed"]["missing"], s["zed"]["score_percent"]) == ("3", "1", "75.0")
    assert (s["bob"]["pass"], s["bob"]["fail"], s["bob"]["score_percent"]) == ("2", "1", "50.0")


def test_every_cheat_scores_no_more_than_its_honest_part(graded):
    over = {st: passed(graded, st) - part for st, part in graded["honest"].items()
            if passed(graded, st) - part}
    assert not over, f"cheats scored more than their honest part: {over}"
    # and the honest part of the cheats is still credited (the grader did not just fail them)
    for student in ("lambdaswap", "nocheck", "bonus", "hal", "redefine", "patchcommon", "patchnumpy",
                    "sysmodules", "patchdisplay", "hooknonce", "tracenonce", "threadforger", "lockedit"):
        assert passed(graded, student) == graded["honest"][student], student


def test_exercise_list_and_points_come_from_the_template(graded):
    for student in graded["honest"]:
        got = statuses(graded["rows"], student)
        assert set(got) == ALL, f"{student}: {got}"
    assert all(s["exercises"] == "4" for s in graded["summary"].values())
    assert statuses(graded["rows"], "nocheck")["dropout_backward"] == "fail"
    assert "bonus" not in {r["exercise"] for r in graded["rows"]}


def test_hidden_tests_catch_hard_coded_answers_without_showing_their_inputs(graded):
    msg = gc.messages(graded["rows"], "hardcode")["mse"]
    assert statuses(graded["rows"], "hardcode")["mse"] == "fail"
    assert "hidden test" in msg and "to reproduce" not in msg and "np.array(" not in msg
    feedback = (graded["grades"] / "feedback" / "hardcode" / "00_demo.md").read_text()
    assert "hidden test" in feedback and "to reproduce" not in feedback
    # the run's hidden seeds appear in no file a student could be given
    import json
    secret = json.loads((graded["grades"] / ".grader" / "run.json").read_text())["secret"]
    from grading.grader import hidden_seeds
    seeds = [str(s) for v in hidden_seeds(secret, ["check_mse", "check_dropout_backward"], 2).values() for s in v]
    for path in list((graded["grades"] / "feedback").rglob("*")) + list((graded["grades"] / "results").rglob("*")):
        if path.is_file():
            text = path.read_text()
            assert not any(s in text for s in seeds) and secret not in text, path


def test_missing_solution_cells_and_notebooks_are_missing_not_dropped(graded):
    rows = graded["rows"]
    assert statuses(rows, "deleter")["dropout_backward"] == "missing"
    assert statuses(rows, "renamer")["mse"] == "missing"
    assert statuses(rows, "nonstring")["dropout_backward"] == "missing"
    assert "not text" in gc.messages(rows, "nonstring")["dropout_backward"]
    assert statuses(rows, "nonstring")["mse"] == "pass"
    assert set(statuses(rows, "lazy").values()) == {"missing"}
    assert statuses(rows, "lazy", "01_more") == {"clip_grad_norm": "pass"}
    assert statuses(rows, "bob", "01_more") == {"clip_grad_norm": "missing"}
    assert "not handed in" in gc.messages(rows, "bob", "01_more")["clip_grad_norm"]


def test_unreadable_and_refused_files_are_errors_for_that_student_only(graded):
    rows = graded["rows"]
    for student, words in {"empty": "empty", "notjson": "not valid JSON", "jsonlist": "not a notebook",
                           "nbformat3": "nbformat 3", "garbage": "not valid JSON",
                           "dirnb": "not a regular file", "fifo": "not a regular file",
                           "mallory": "symbolic link", "copycat": "symbolic link"}.items():
        got = statuses(rows, student)
        assert set(got.values()) == {"error"}, (student, got)
        assert all(words in m for m in gc.messages(rows, student).values()), (student, gc.messages(rows, student))


def test_locked_cell_edits_are_reported_and_ignored(graded):
    review = gc.read_csv_rows(graded["grades"] / "review.csv")
    kinds = {(r["student"], r["kind"], r["detail"]) for r in review}
    assert ("lockedit", "locked cell edited", "setup") in kinds
    assert ("nocheck", "locked cell deleted", "check_dropout_backward") in kinds
    assert ("textcheats", "locked cell edited", "check_dropout_backward") in kinds
    honest_reviews = [r for r in review if r["student"] in ("ada", "zed", "bob")]
    assert not honest_reviews, honest_reviews


def test_tampering_is_restored_and_flagged_for_review(graded):
    review = gc.read_csv_rows(graded["grades"] / "review.csv")
    by = {}
    for r in review:
        by.setdefault(r["student"], []).append((r["kind"], r["detail"]))
    restored = {s: " ".join(d for k, d in v if k.startswith("environment restored")) for s, v in by.items()}
    assert "numpy.allclose" in restored["patchnumpy"]
    assert "course_lib.checks._common.close" in restored["patchcommon"]
    assert "sys.modules['course_lib.checks']" in restored["sysmodules"]
    assert "builtins.print" in restored["patchdisplay"]
    assert "IPython event hook pre_run_cell" in restored["hooknonce"]
    assert "sys.settrace hook" in restored["tracenonce"]
    for student in ("redefine", "patchcommon", "patchnumpy", "sysmodules", "hooknonce", "tracenonce"):
        assert any(k == "suspicious code" for k, _ in by[student]), student


def test_no_submission_reads_or_writes_outside_its_sandbox(graded):
    rows = graded["rows"]
    assert statuses(rows, "reader")["dropout_backward"] == "fail"
    import json
    cells = json.loads((graded["grades"] / "results" / "reader" / "00_demo.json").read_text())["cells"]
    assert any("leaked: []" in c["output"] for c in cells)
    # of the course folder only the read-only mount points of the venv and course_lib exist
    assert any("course folder: ['.venv', 'course_lib']" in c["output"] for c in cells), cells
    for target in graded["targets"]:
        assert not (target.exists() and "pwned" in target.read_text(errors="replace")), target
    assert statuses(rows, "zed") == dict.fromkeys(ALL, "pass")
    sub = gc.release_notebook(graded["release"])  # zed's file is unchanged on disk
    assert by_id(nbformat.read(graded["root"] / "submissions" / "zed" / "00_demo.ipynb", 4), "mse").source == MSE
    assert sub is not None


def test_nothing_outlives_its_notebook(graded):
    assert graded["leftovers"] == [], "sandbox processes still running after grading"
    assert sandbox_mod.leftover_pids() == []
    assert (graded["grades"] / "grades.csv").read_text() == graded["csv_before"], \
        "a detached process rewrote the grades after the grader finished"
    assert not (gc.ROOT / "_pwned_late.txt").exists()
    assert statuses(graded["rows"], "daemon") == dict.fromkeys(ALL, "pass")
    assert statuses(graded["rows"], "forkbomb") == dict.fromkeys(ALL, "pass")


def test_faults_stop_only_their_own_notebook(graded):
    rows = graded["rows"]
    sig = statuses(rows, "sigint")
    assert sig == {"mse": "pass", "dropout_backward": "timeout", "dropout_mean_prediction": "not run"}, sig
    dee = statuses(rows, "dee")
    assert dee["dropout_backward"] == "timeout" and dee["dropout_mean_prediction"] == "pass", dee
    eve = statuses(rows, "eve")
    assert eve == {"mse": "pass", "dropout_backward": "error", "dropout_mean_prediction": "not run"}, eve
    assert "died" in gc.messages(rows, "eve")["dropout_backward"]
    assert statuses(rows, "memory") == dict.fromkeys(ALL, "pass")
    assert statuses(rows, "killer") == dict.fromkeys(ALL, "pass")


def test_written_answers_are_collected_for_manual_grading(graded):
    answers = {(r["student"], r["answer_id"]): r for r in gc.read_csv_rows(graded["grades"] / "written_answers.csv")}
    assert answers["ada", "why_square"]["status"] == "answered"
    assert "both signs" in answers["ada", "why_square"]["answer"]
    assert answers["cy", "why_square"]["status"] == "not answered"
    assert answers["lazy", "why_square"]["status"] == "missing"


def test_feedback_is_readable_and_holds_no_solution(graded):
    text = (graded["grades"] / "feedback" / "bob" / "00_demo.md").read_text()
    assert "# 00_demo · feedback for bob" in text
    assert "`mse`: ✗ failed" in text and "sum" in text
    assert "`dropout_backward`: ✓ passed (the public test and 2 hidden test(s)" in text
    assert "no hidden tests" in text                       # the prediction
    solution = gc.release_notebook(graded["release"])
    for path in (graded["grades"] / "feedback").rglob("*.md"):
        body = path.read_text()
        assert "np.mean((y_hat - y) ** 2)" not in body or path.parent.name in ("ada", "zed"), path
        assert "BEGIN SOLUTION" not in body
    assert solution is not None


def test_csv_interface_is_kept(graded):
    rows = gc.read_csv_rows(graded["grades"] / "grades.csv")
    assert list(rows[0]) == ["student", "notebook", "exercise", "status", "message"]
    summary = gc.read_csv_rows(graded["grades"] / "grades_summary.csv")
    assert list(summary[0]) == ["student", "exercises", "pass", "fail", "error", "timeout", "not run",
                                "missing", "score_percent"]
    assert {r["status"] for r in rows} <= {"pass", "fail", "error", "timeout", "missing", "not run"}
    assert {r["student"] for r in summary} == set(graded["honest"])


def test_a_gc_walking_cheat_is_flagged_for_review(tmp_path):
    """The residual risk, stated by a test: code that walks the garbage collector can reach the
    grader's own objects inside the kernel and rewrite them. The grader cannot prevent that from
    within the same process; it flags the code for the instructor (review.csv)."""
    release = gc.build_release(tmp_path)
    attack = ("import gc as _gc\nfor _f in _gc.get_objects():\n"
              "    if getattr(_f, '__name__', '') == 'run_check' and \\\n"
              "            getattr(_f, '__module__', '') == 'course_grader':\n"
              "        _cell = _f.__closure__[_f.__code__.co_freevars.index('run_one')]\n"
              "        _cell.cell_contents = lambda *a: ('pass', '', None)\n")
    save(tmp_path / "subs", "gcwalker", honest(release, mse=attack + MSE, dropout_backward=BACKWARD_WRONG))
    gc.tool.grade(tmp_path / "subs", tmp_path / "grades" / "grades.csv", timeout=TIMEOUT, jobs=1,
                  release=release, quiet=True)
    review = gc.read_csv_rows(tmp_path / "grades" / "review.csv")
    details = " ".join(r["detail"] for r in review if r["kind"] == "suspicious code")
    assert "garbage collector" in details and "code or class internals" in details


def test_the_notebook_budget_is_a_hard_limit(tmp_path):
    release = gc.build_release(tmp_path)
    slow = "import time\ntime.sleep(3)\n"
    save(tmp_path / "subs", "slowpoke", honest(release, mse=slow + MSE, dropout_backward=slow + BACKWARD))
    rows, _ = gc.tool.grade(tmp_path / "subs", tmp_path / "grades" / "grades.csv", timeout=TIMEOUT,
                            jobs=1, release=release, notebook_timeout=4, quiet=True)
    got = statuses(rows, "slowpoke")
    assert "pass" not in (got["dropout_backward"], got["dropout_mean_prediction"]), got
    assert any("time budget" in m or "time limit" in m or "longer than" in m
               for m in gc.messages(rows, "slowpoke").values())
    assert sandbox_mod.leftover_pids() == []


def _uids_of(pid):
    base = 200_000 + (pid % 20_000) * sandbox_mod.SLOTS
    return range(base, base + sandbox_mod.SLOTS)


def test_killing_the_grader_leaves_nothing_running_and_the_run_resumes(tmp_path):
    release = gc.build_release(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "grades" / "grades.csv"
    for i in range(2):
        save(subs, f"s{i}", honest(release, dropout_backward="import time\ntime.sleep(1.5)\n" + BACKWARD))
    cmd = [sys.executable, str(gc.ROOT / "scripts" / "exercises.py"), "grade", str(subs), "--out", str(out),
           "--timeout", "20", "--jobs", "1", "--release", str(release)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    results = tmp_path / "grades" / "results"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(results.rglob("*.json")):
        time.sleep(0.2)
    first = sorted(results.rglob("*.json"))
    assert first, "no result was written"
    stamps = {p: p.stat().st_mtime_ns for p in first}
    os.kill(proc.pid, signal.SIGKILL)       # no clean-up code of the grader runs
    proc.wait()
    uids = set(_uids_of(proc.pid))
    time.sleep(1)
    left = [pid for uid in uids for pid in sandbox_mod._uid_pids(uid)]
    assert left == [], "sandboxes outlived the killed grader"
    assert not out.exists()          # the CSVs come at the end
    stale = list(Path("/tmp").glob(f"cg-{proc.pid}-*"))
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert stale and not any(p.exists() for p in stale), "the next run removes a killed grader's folders"
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming" in again.stdout
    for path, stamp in stamps.items():
        assert path.stat().st_mtime_ns == stamp, f"{path} was graded again"
    rows = gc.read_csv_rows(out)
    assert {r["student"] for r in rows} == {f"s{i}" for i in range(2)}
    assert all(r["status"] == "pass" for r in rows if r["notebook"] == "00_demo")
