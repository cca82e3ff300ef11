"""What the grader writes: a JSON record per student and notebook (as each one finishes), the
CSVs the instructor's scripts read, and a Markdown feedback file per student and notebook."""
import csv
import json
import os
import tempfile
from pathlib import Path

GRADE_COLUMNS = ["student", "notebook", "exercise", "status", "message"]
SUMMARY_COLUMNS = ["student", "exercises", "pass", "fail", "error", "timeout", "not run", "missing",
                   "score_percent"]
SYMBOL = {"pass": "✓ passed", "fail": "✗ failed", "error": "✗ error", "timeout": "⏱ timed out",
          "not run": "– not run", "missing": "∅ missing"}


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader (or an
    interrupted run) sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def one_line(text, limit=500):
    return " ".join(str(text).split())[:limit]


def grade_rows(records):
    """grades.csv rows from the records, in order."""
    rows = []
    for rec in records:
        for ex in rec["exercises"]:
            rows.append({"student": rec["student"], "notebook": rec["notebook"],
                         "exercise": ex["exercise"], "status": ex["status"],
                         "message": one_line(ex["message"])})
    return rows


def summary_rows(records, students):
    by_student = {s: [] for s in students}
    for rec in records:
        by_student.setdefault(rec["student"], []).append(rec)
    out = []
    for student, recs in by_student.items():
        counts = {k: 0 for k in SUMMARY_COLUMNS[2:-1]}
        for rec in recs:
            for ex in rec["exercises"]:
                counts[ex["status"]] += 1
        total = sum(counts.values())
        out.append({"student": student, "exercises": total, **counts,
                    "score_percent": round(100 * counts["pass"] / total, 1) if total else 0.0})
    return out


def _csv_text(columns, rows):
    import io
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_csvs(out_csv, records, students):
    """grades.csv, grades_summary.csv, written_answers.csv and review.csv beside it."""
    out_csv = Path(out_csv)
    base = out_csv.with_name(out_csv.stem)
    rows = grade_rows(records)
    summary = summary_rows(records, students)
    write_atomic(out_csv, _csv_text(GRADE_COLUMNS, rows))
    write_atomic(f"{base}_summary.csv", _csv_text(SUMMARY_COLUMNS, summary))
    written = [{"student": r["student"], "notebook": r["notebook"], "answer_id": w["id"],
                "points": w["points"], "status": w["status"], "answer": w["answer"]}
               for r in records for w in r.get("written", [])]
    write_atomic(out_csv.with_name("written_answers.csv"),
                 _csv_text(["student", "notebook", "answer_id", "points", "status", "answer"], written))
    review = [{"student": r["student"], "notebook": r["notebook"], "kind": k, "detail": one_line(d, 800)}
              for r in records for k, d in r.get("review", [])]
    write_atomic(out_csv.with_name("review.csv"),
                 _csv_text(["student", "notebook", "kind", "detail"], review))
    return rows, summary


def write_record(results_dir, rec):
    write_atomic(Path(results_dir) / rec["student"] / f"{rec['notebook']}.json",
                 json.dumps(rec, indent=1, ensure_ascii=False) + "\n")


def read_record(path):
    try:
        rec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and "exercises" in rec else None


def _hidden_line(ex):
    if ex["status"] != "pass":
        return ""
    if ex.get("hidden") == "yes":
        return f" (the public test and {ex['hidden_passed']} hidden test(s) with other inputs)"
    if ex.get("hidden") == "none by design":
        return " (a question about one stated scenario: no hidden tests)"
    return " (the public test)"


def feedback_markdown(rec):
    """The student's feedback for one notebook: verdicts and hints, never hidden inputs."""
    ex = rec["exercises"]
    passed = sum(e["status"] == "pass" for e in ex)
    lines = [f"# {rec['notebook']} · feedback for {rec['student']}", ""]
    if rec.get("submission") == "not handed in":
        lines += ["This notebook was not handed in: its exercises count as missing.", ""]
    lines += [f"**Autograded: {passed} of {len(ex)} exercises passed.** Each exercise is run on the "
              "public inputs you saw and, where the check has them, on hidden inputs you did not "
              "see (other shapes and values); it passes when all of them pass.", "",
              "| exercise | result |", "|---|---|"]
    for e in ex:
        lines.append(f"| `{e['exercise']}` | {SYMBOL.get(e['status'], e['status'])} |")
    lines.append("")
    for e in ex:
        lines.append(f"## `{e['exercise']}`: {SYMBOL.get(e['status'], e['status'])}{_hidden_line(e)}")
        lines.append("")
        if e["status"] != "pass" and e["message"]:
            lines += ["```text", e["message"].strip(), "```", ""]
    if rec.get("written"):
        lines += ["## Written answers (graded by hand)", ""]
        for w in rec["written"]:
            lines.append(f"* `{w['id']}`: {w['status']}")
        lines.append("")
    if rec.get("notes"):
        lines += ["## Notes", ""] + [f"* {n}" for n in rec["notes"]] + [""]
    return "\n".join(lines)


def write_feedback(feedback_dir, rec):
    write_atomic(Path(feedback_dir) / rec["student"] / f"{rec['notebook']}.md", feedback_markdown(rec))
