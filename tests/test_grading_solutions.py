"""The reference solutions, handed in as one student's submissions, score 100 % — public AND
hidden tests — on every exercise of every release notebook. This is also the proof that every
check's hidden variant accepts the reference solution (a hidden variant that rejected it would
fail honest students). Graded two at a time, in the sandbox where bubblewrap runs."""
import shutil

import pytest

import _gradingclass as gc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("solutions")
    (root / "subs" / "reference").mkdir(parents=True)
    for path in sorted((gc.ROOT / "solutions").glob("*.ipynb")):
        shutil.copy(path, root / "subs" / "reference" / path.name)
    out = root / "grades" / "grades.csv"
    gc.tool.grade(root / "subs", out, timeout=60, jobs=2, quiet=True)
    import json
    records = [json.loads(p.read_text()) for p in sorted((root / "grades" / "results" / "reference").glob("*.json"))]
    return gc.read_csv_rows(out), gc.read_csv_rows(out.with_name("grades_summary.csv")), records


def test_every_exercise_passes_public_and_hidden_tests(graded):
    rows, summary, records = graded
    notebooks = sorted(p.stem for p in (gc.ROOT / "exercises").glob("*.ipynb"))
    assert sorted({r["notebook"] for r in rows}) == notebooks
    failed = [(r["notebook"], r["exercise"], r["status"], r["message"][:200]) for r in rows if r["status"] != "pass"]
    assert not failed, f"the reference solutions do not pass: {failed}"
    assert summary[0]["score_percent"] == "100.0"


def test_every_check_has_hidden_tests_or_says_why_not(graded):
    _, _, records = graded
    kinds = {(r["notebook"], e["exercise"]): e["hidden"] for r in records for e in r["exercises"]}
    not_converted = sorted(k for k, v in kinds.items() if v == "not converted")
    assert not not_converted, f"checks without the hidden-test convention (no .hidden): {not_converted}"
    with_hidden = [k for k, v in kinds.items() if v == "yes"]
    ran = {(r["notebook"], e["exercise"]): e["hidden_passed"] for r in records for e in r["exercises"]}
    assert all(ran[k] == 2 for k in with_hidden), "every hidden-test check ran its 2 hidden tests"
    assert len(with_hidden) >= 35
    print(f"\n{len(with_hidden)} checks ran public + 2 hidden tests; "
          f"{sum(v == 'none by design' for v in kinds.values())} are predictions without hidden tests")


def test_two_notebooks_were_graded_at_the_same_time(graded):
    """--jobs 2 really runs two sandboxes concurrently (no wall-clock budget is asserted)."""
    _, _, records = graded
    spans = sorted((r["started_at"], r["finished_at"]) for r in records)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), spans


def test_the_reference_is_not_flagged(graded):
    _, _, records = graded
    flagged = [(r["notebook"], k, d) for r in records for k, d in r["review"]
               if not (k == "locked cell deleted" and d == "setup")]   # solutions/ has no setup id
    assert not flagged, flagged
