"""A whole class: find the submissions, grade them in parallel (one sandbox each), write each
result as it finishes, resume an interrupted run, then write the CSVs."""
import hashlib
import json
import os
import queue
import secrets
import signal
import stat
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import notebooks as nbs
from . import reports
from .runner import GRADER_VERSION, Settings, grade_notebook
from .sandbox import missing_protections

ROOT = Path(__file__).resolve().parents[2]


def default_jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def hidden_seeds(secret, check_names, n):
    """n seeds per check, derived from the run's secret (never shown to a student)."""
    out = {}
    for name in check_names:
        out[name] = [int.from_bytes(hashlib.sha256(f"{secret}:{name}:{k}".encode()).digest()[:4], "big")
                     for k in range(n)]
    return out


def _inside(a, b):
    a, b = Path(a).resolve(), Path(b).resolve()
    return a == b or b in a.parents


def _run_state(state_dir, fresh):
    """The run's secret for the hidden seeds, kept so that a resumed run uses the same ones."""
    path = state_dir / "run.json"
    if not fresh and path.exists():
        try:
            state = json.loads(path.read_text())
            if isinstance(state.get("secret"), str):
                return state
        except (OSError, ValueError):
            pass
    state = {"secret": secrets.token_hex(16), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    reports.write_atomic(path, json.dumps(state))
    os.chmod(path, 0o600)
    return state


def _job_key(template, path, settings, secret):
    """What a stored result must match to be reused by a resumed run."""
    digest = _file_digest(path)
    parts = [GRADER_VERSION, template.sha256, digest, settings.hidden, settings.timeout,
             settings.notebook_timeout, secret]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _file_digest(path):
    """sha256 of a regular file, read without following links or blocking (a FIFO); for
    anything else a description of what is there."""
    if path is None:
        return "not handed in"
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return f"not a regular file: mode {st.st_mode:o}"
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return "not a regular file"
            digest = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
            return digest.hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def discover(submissions, release_names, notebooks=None):
    """[(student, {notebook: path or None})] and the notebooks to grade."""
    students = []
    for entry in sorted(submissions.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            students.append((entry.name, None))        # refused below
        elif entry.is_dir():
            students.append((entry.name, entry))
    if notebooks is None:
        handed = set()
        for _, folder in students:
            if folder is not None:
                try:
                    handed.update(p.stem for p in folder.iterdir() if p.suffix == ".ipynb")
                except OSError:
                    pass
        notebooks = [n for n in release_names if n in handed]
    else:
        unknown = [n for n in notebooks if n not in release_names]
        if unknown:
            sys.exit(f"grade: no release notebook {', '.join(unknown)} (have: {', '.join(release_names)})")
    return students, notebooks


def grade(submissions, out_csv="grades.csv", timeout=60, jobs=None, release=None, notebooks=None,
          notebook_timeout=600, hidden=2, sandbox="auto", fresh=False, limits=None, quiet=False,
          interrupt_grace=5.0):
    """Grade ``submissions/<student>/<NN_topic>.ipynb`` against the release notebooks.

    Writes ``results/<student>/<notebook>.json`` and ``feedback/<student>/<notebook>.md`` beside
    ``out_csv`` as each notebook finishes, then ``out_csv`` (grades.csv), grades_summary.csv,
    written_answers.csv and review.csv. Returns (rows, summary) of the two CSVs.
    """
    submissions = Path(submissions)
    if not submissions.is_dir():
        sys.exit(f"grade: {submissions} is not a folder of <student>/<NN_topic>.ipynb")
    out_csv = Path(out_csv)
    grades_dir = out_csv.parent.resolve()
    if _inside(grades_dir, submissions) or _inside(submissions, grades_dir):
        sys.exit(f"grade: the grades folder {grades_dir} and the submissions {submissions} must not "
                 "contain one another (a submission could then reach the grades)")
    release = Path(release) if release else ROOT / "exercises"
    import importlib.util
    course_dir = Path(importlib.util.find_spec("course_lib").origin).resolve().parent
    modules = nbs.check_modules(course_dir / "checks")
    templates = {p.stem: nbs.load_template(p, modules) for p in sorted(release.glob("*.ipynb"))}
    if not templates:
        sys.exit(f"grade: no release notebooks in {release} (run `make exercises`)")
    students, names = discover(submissions, list(templates), notebooks)
    grades_dir.mkdir(parents=True, exist_ok=True)
    results_dir, feedback_dir, state_dir = grades_dir / "results", grades_dir / "feedback", grades_dir / ".grader"
    state_dir.mkdir(exist_ok=True)
    os.chmod(state_dir, 0o700)
    state = _run_state(state_dir, fresh)
    checks = sorted({e.check for n in names for e in templates[n].exercises})
    seeds = hidden_seeds(state["secret"], checks, hidden)
    if limits is None:
        from .sandbox import Limits
        limits = Limits(cpu_seconds=int(notebook_timeout) + 30)
    settings = Settings(timeout=timeout, notebook_timeout=notebook_timeout, hidden=hidden,
                        interrupt_grace=interrupt_grace,
                        sandbox=sandbox, limits=limits, expose=(str(course_dir),),
                        seed_files=_font_cache())
    jobs = jobs or default_jobs()
    from .sandbox import SLOTS
    if jobs > SLOTS:
        sys.exit(f"grade: --jobs {jobs} is more than {SLOTS}")
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    from .sandbox import bwrap_path, sweep_stale_job_dirs
    sweep_stale_job_dirs()
    mode = sandbox if sandbox != "auto" else ("bwrap" if bwrap_path() else "none")
    warning = missing_protections(mode)
    if warning:
        print(warning, flush=True)
    say(f"grade: {len(students)} students × {len(names)} notebooks ({', '.join(names) or 'none'}), "
        f"{jobs} at a time, sandbox: {mode}, {hidden} hidden tests per check")

    todo, records = [], {}
    for student, folder in students:
        for name in names:
            path = None
            if folder is None:
                path = submissions / student      # a symlinked student folder: refused
            else:
                candidate = folder / f"{name}.ipynb"
                if os.path.lexists(candidate):
                    path = candidate
            key = _job_key(templates[name], path, settings, state["secret"])
            stored = reports.read_record(results_dir / student / f"{name}.json")
            if stored is not None and stored.get("key") == key and not fresh:
                records[student, name] = stored
                continue
            todo.append((student, name, path, key))
    if records:
        say(f"grade: resuming: {len(records)} notebooks already graded, {len(todo)} to go")

    slots = queue.Queue()
    for s in range(jobs):
        slots.put(s)
    live, live_lock = set(), threading.Lock()
    stop = threading.Event()

    def work(student, name, path, key):
        if stop.is_set():
            return None
        slot = slots.get()
        boxes = []

        def on_start(box):
            boxes.append(box)
            with live_lock:
                live.add(box)
        try:
            if folder_refused(path):
                rec = _refused_folder(templates[name])
            else:
                rec = grade_notebook(templates[name], path, seeds, settings, slot, on_start)
        except Exception as exc:  # noqa: BLE001 (a grader bug must not stop the class)
            rec = {"grader_version": GRADER_VERSION, "notebook": name, "submission": "grader error",
                   "exercises": [{"exercise": e.name, "status": "error", "points": e.points,
                                  "message": f"grader error: {type(exc).__name__}: {exc}"}
                                 for e in templates[name].exercises],
                   "written": [], "review": [["grader problem", f"{type(exc).__name__}: {exc}"]],
                   "notes": [], "cells": [], "seconds": 0.0}
        finally:
            with live_lock:
                for box in boxes:
                    live.discard(box)
            slots.put(slot)
        rec["student"], rec["key"] = student, key
        return rec

    def folder_refused(path):
        return path is not None and path.parent == submissions and path.is_symlink()

    start = time.monotonic()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C or a TERM: end every sandbox at once (results written so far stay)
        def on_signal(signum, frame):
            stop.set()
            with live_lock:
                for box in list(live):
                    box.kill()
            raise KeyboardInterrupt
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    done = 0
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(work, *job): job for job in todo}
            try:
                for fut in as_completed(futures):
                    rec = fut.result()
                    if rec is None:
                        continue
                    reports.write_record(results_dir, rec)
                    reports.write_feedback(feedback_dir, rec)
                    records[rec["student"], rec["notebook"]] = rec
                    done += 1
                    counts = {}
                    for e in rec["exercises"]:
                        counts[e["status"]] = counts.get(e["status"], 0) + 1
                    say(f"{rec['student']}/{rec['notebook']}: "
                        + ", ".join(f"{k} {v}" for k, v in counts.items())
                        + f" ({rec.get('seconds', 0):.1f} s) [{done}/{len(todo)}]")
            except KeyboardInterrupt:
                stop.set()
                for fut in futures:
                    fut.cancel()
                with live_lock:
                    for box in list(live):
                        box.kill()
                raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    elapsed = time.monotonic() - start
    ordered = [records[s, n] for s, _ in students for n in names if (s, n) in records]
    rows, summary = reports.write_csvs(out_csv, ordered, [s for s, _ in students])
    if todo:
        import resource
        own = resource.getrusage(resource.RUSAGE_SELF)
        kernels = sum(r.get("kernel_cpu_seconds") or 0 for r in records.values())
        say(f"grade: {len(todo)} notebooks in {elapsed:.1f} s ({elapsed / len(todo):.2f} s each "
            f"with {jobs} at a time; CPU: kernels {kernels:.1f} s, grader {own.ru_utime + own.ru_stime:.1f} s)")
    say(f"wrote {out_csv} ({len(rows)} rows), {out_csv.with_name(out_csv.stem + '_summary.csv')} "
        f"({len(summary)} students), written_answers.csv, review.csv; feedback in {feedback_dir}")
    return rows, summary


def _font_cache():
    """matplotlib's font list of the grader's own cache, given to every kernel (building it
    costs each kernel ~0.4 s)."""
    try:
        import matplotlib
        import matplotlib.font_manager  # noqa: F401 (builds the cache if there is none)
        cache = Path(matplotlib.get_cachedir())
    except Exception:  # noqa: BLE001 (no matplotlib: nothing to share)
        return ()
    return tuple((str(p), f".config/matplotlib/{p.name}") for p in sorted(cache.glob("fontlist-*.json")))


def _refused_folder(template):
    from .runner import all_exercises, written_records
    return {"grader_version": GRADER_VERSION, "notebook": template.name, "submission": "refused",
            "release_sha256": template.sha256, "submission_sha256": None, "sandbox": None,
            "exercises": all_exercises(template, "error", "refused: the student's folder is a symbolic link"),
            "written": written_records(template, None),
            "review": [["refused", "the student's folder is a symbolic link"]], "notes": [],
            "cells": [], "seconds": 0.0}
