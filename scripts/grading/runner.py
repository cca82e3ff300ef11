"""Grade one submitted notebook: merge it into its template, run it in a fresh sandbox, and turn
the cells' results and the checks' verdicts into one record per exercise."""
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks as nbs
from .kernel import Caps, Kernel, KernelStartError
from .sandbox import Limits, Sandbox

GRADER_VERSION = 1
STATUSES = ("pass", "fail", "error", "timeout", "not run", "missing")
_BOOT_SOURCE = (Path(__file__).with_name("_inkernel.py")).read_text(encoding="utf-8")


@dataclass
class Settings:
    timeout: float = 60.0              # seconds per cell
    notebook_timeout: float = 600.0    # seconds per notebook, everything included
    startup_timeout: float = 60.0
    interrupt_grace: float = 5.0       # seconds a kernel gets to stop after SIGINT, then killed
    hidden: int = 2                    # hidden tests per check
    sandbox: str = "auto"              # auto | bwrap | none
    limits: Limits = field(default_factory=Limits)
    caps: Caps = field(default_factory=Caps)
    expose: tuple = ()                 # read-only folders the kernel needs (course_lib)
    seed_files: tuple = ()             # (host file, path under the kernel's HOME)
    tmp_root: str = None


def boot_cell(handle):
    """The first cell: the grader's in-kernel code, executed with a private builtins copy."""
    return ("exec(compile(%r, '<course grader>', 'exec'), {'__name__': 'course_grader', "
            "'__builtins__': dict(vars(__import__('builtins'))), '__PARAMS__': {'name': %r}})"
            % (_BOOT_SOURCE, handle))


def _record(ex, status, message="", **extra):
    out = {"exercise": ex.name, "status": status, "message": message.strip(), "points": ex.points,
           "hidden": "", "hidden_run": 0, "hidden_passed": 0}
    out.update(extra)
    return out


def all_exercises(template, status, message):
    return [_record(ex, status, message) for ex in template.exercises]


def written_records(template, answers):
    out = []
    for gid, points, stub in template.written:
        text = answers.get(gid) if answers is not None else None
        if text is None:
            status = "missing"
        elif text.strip() == stub.strip() or text.strip() == nbs.TEXT_STUB:
            status = "not answered"
        else:
            status = "answered"
        out.append({"id": gid, "points": points, "status": status, "answer": text or ""})
    return out


def _verdict(result, nonce, expected):
    """The one verdict with this cell's nonce, or (None, why)."""
    good = [v for v in result.verdicts if isinstance(v, dict) and v.get("nonce") == nonce]
    forged = len(result.verdicts) - len(good)
    if not good:
        return None, forged, "the check reported no verdict"
    first = good[0].get("result")
    if any(v.get("result") != first for v in good[1:]):
        return None, forged, "conflicting verdicts (the submission tampered with the grader)"
    if not isinstance(first, dict) or first.get("exercise") != expected or \
            first.get("status") not in ("pass", "fail", "error", "timeout"):
        return None, forged, "a malformed verdict (the submission tampered with the grader)"
    return first, forged, ""


def grade_notebook(template, path, seeds, settings, slot=0, on_start=None):
    """Grade ``path`` (None: not handed in) against ``template``; returns the result record."""
    start = time.monotonic()
    rec = {"grader_version": GRADER_VERSION, "notebook": template.name, "started_at": time.time(),
           "release_sha256": template.sha256, "submission_sha256": None, "sandbox": None,
           "exercises": [], "written": [], "review": [], "notes": [], "cells": [], "seconds": 0.0}
    if path is None:
        rec["submission"] = "not handed in"
        rec["exercises"] = all_exercises(template, "missing", "notebook not handed in")
        rec["written"] = written_records(template, None)
        return rec
    try:
        sub = nbs.read_submission(path)
    except nbs.Refused as exc:
        rec["submission"] = "refused"
        rec["exercises"] = all_exercises(template, "error", str(exc))
        rec["written"] = written_records(template, None)
        rec["review"].append(["refused", str(exc)])
        return rec
    rec["submission"] = "graded"
    rec["submission_sha256"] = sub.sha256
    merged = nbs.merge(template, sub)
    rec["review"] += [list(r) for r in merged.review]
    rec["notes"] += merged.notes
    rec["written"] = written_records(template, merged.answers)

    verdicts = {}                 # exercise -> record from the channel
    cell_trouble = {}             # exercise -> (status, message) from its solution cells
    stubs = {}                    # exercise -> message: a solution cell left as the stub
    ended = None                  # why the kernel stopped early
    handle = "_course_grader_" + secrets.token_hex(6)
    box = Sandbox(slot, settings.limits, settings.sandbox, settings.tmp_root, settings.expose,
                  settings.seed_files)
    rec["sandbox"] = box.mode
    kernel = Kernel(box, settings.startup_timeout, settings.caps, settings.interrupt_grace)
    if on_start:
        on_start(box)
    deadline = start + settings.notebook_timeout
    try:
        try:
            kernel.start()
        except KernelStartError as exc:
            rec["exercises"] = all_exercises(template, "error", f"the grader could not start a kernel: {exc}")
            rec["review"].append(["grader problem", str(exc)])
            return rec
        boot = kernel.run(boot_cell(handle), settings.startup_timeout, store_history=False)
        if boot.status != "ok":
            msg = f"the grader's set-up cell failed: {boot.ename} {boot.evalue}".strip()
            rec["exercises"] = all_exercises(template, "error", msg)
            rec["review"].append(["grader problem", msg + " " + boot.text[-500:]])
            return rec
        for step in merged.steps:
            left = deadline - time.monotonic()
            where = _where(step)
            if left <= 0:
                ended = ("timeout", f"the notebook's time budget ({settings.notebook_timeout:g} s) "
                                    f"was used up before {where}")
                break
            if step.kind == "check":
                ex = next(e for e in template.exercises if e.name == step.exercise)
                guard = kernel.run(f"{handle}.guard()", min(30, left), store_history=False)
                if guard.status in ("dead", "timeout"):
                    ended = _ended(guard, where, settings, kernel)
                    verdicts[ex.name] = _record(ex, "timeout" if guard.status == "timeout" else "error",
                                                ended[1])
                    break
                nonce = secrets.token_hex(16)
                spec = {"exercise": ex.name, "check": ex.check, "module": ex.module,
                        "args": ex.args, "kwargs": ex.kwargs,
                        "seeds": seeds.get(ex.check, [])}
                budget = settings.timeout * (1 + len(spec["seeds"]))
                res = kernel.run(f"{handle}.check({nonce!r}, {spec!r})", min(budget, left),
                                 store_history=False)
                rec["cells"].append(_cell_log(where, res))
                verdict, forged, why = _verdict(res, nonce, ex.name)
                if forged:
                    rec["review"].append(["forged verdict", f"{ex.name}: {forged} verdict message(s) "
                                                            "without this check's nonce"])
                if res.status == "timeout":
                    limit = min(budget, left)
                    verdicts[ex.name] = _record(ex, "timeout", f"the check ran longer than {limit:g} s")
                    if kernel.dead:
                        ended = _ended(res, where, settings, kernel)
                        break
                    continue
                if res.status == "dead":
                    verdicts[ex.name] = _record(ex, "error", "the kernel died during the check "
                                                             "(the memory or process limit, or os._exit?)")
                    ended = _ended(res, where, settings, kernel)
                    break
                if verdict is None:
                    verdicts[ex.name] = _record(ex, "error", why)
                    rec["review"].append(["no verdict", f"{ex.name}: {why}"])
                    continue
                if verdict.get("grader_error"):
                    rec["review"].append(["grader problem", f"{ex.name}: {verdict.get('message')}"])
                restored = [str(r) for r in verdict.get("restored", [])][:50]
                if restored:
                    rec["review"].append(["environment restored before the check",
                                          f"{ex.name}: " + ", ".join(restored)])
                verdicts[ex.name] = _record(
                    ex, verdict["status"], str(verdict.get("message", ""))[:4000],
                    hidden=str(verdict.get("hidden", "")), hidden_run=int(verdict.get("hidden_run", 0)),
                    hidden_passed=int(verdict.get("hidden_passed", 0)))
                continue
            res = kernel.run(step.source, min(settings.timeout, left),
                             store_history=step.kind != "setup")
            rec["cells"].append(_cell_log(where, res))
            if res.ename == "NotImplementedError" and step.kind == "solution" and step.exercise:
                stubs.setdefault(step.exercise, f"not implemented yet: the solution cell "
                                                f"{step.grade_id!r} still raises NotImplementedError")
            if res.status == "timeout" and step.kind == "solution" and step.exercise:
                cell_trouble[step.exercise] = ("timeout", f"your solution cell {step.grade_id!r} ran "
                                                          f"longer than {min(settings.timeout, left):g} s")
            if res.status in ("dead", "timeout") and kernel.dead:
                ended = _ended(res, where, settings, kernel)
                if step.kind == "solution" and step.exercise and step.exercise not in cell_trouble:
                    cell_trouble[step.exercise] = ("error", ended[1])
                break
    finally:
        rec["kernel_cpu_seconds"] = box.cpu_seconds()
        kernel.close()
        box.cleanup()
        rec["seconds"] = round(time.monotonic() - start, 2)
        rec["finished_at"] = time.time()

    for ex in template.exercises:
        gone = [g for g in ex.solutions if g in merged.missing]
        if gone:
            rec["exercises"].append(_record(ex, "missing", "; ".join(
                f"{g}: {merged.missing[g]}" for g in gone)))
        elif ex.name in cell_trouble and (ex.name not in verdicts or verdicts[ex.name]["status"] != "pass"):
            rec["exercises"].append(_record(ex, *cell_trouble[ex.name]))
        elif ex.name in verdicts:
            if ex.name in stubs and verdicts[ex.name]["status"] == "error":
                verdicts[ex.name]["message"] = stubs[ex.name]
            rec["exercises"].append(verdicts[ex.name])
        else:
            status, why = ended if ended else ("not run", "")
            rec["exercises"].append(_record(ex, "not run", why or "the check did not run"))
    return rec


def _where(step):
    if step.kind == "check":
        return f"the check {step.grade_id}"
    if step.kind == "solution":
        return f"the solution cell {step.grade_id}"
    return f"{step.kind} cell {step.index}"


def _ended(res, where, settings, kernel):
    if res.status == "timeout":
        return ("timeout", f"{where} ran past its time limit and did not stop when interrupted, "
                           "so the kernel was ended; later cells did not run")
    return ("error", f"the kernel died in {where} (the memory or process limit, a crash, or "
                     "os._exit); later cells did not run")


def _cell_log(where, res):
    return {"where": where, "status": res.status, "seconds": round(res.seconds, 2),
            "error": f"{res.ename}: {res.evalue}"[:500] if res.ename else "",
            "output": res.text[-2000:], "truncated": res.truncated}
