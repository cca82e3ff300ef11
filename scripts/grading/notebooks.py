"""The instructor's copy is the truth: release templates, careful reading of submissions, and
the merge that takes from a submission only its solution cells.

A *template* is a release notebook (``exercises/NN_topic.ipynb``, built from ``solutions/``).
Its nbgrader cell metadata says what everything is:

* solution cells (``solution: true``): code the student writes, or (Markdown) a written
  answer graded by hand;
* check cells (``grade: true``, code, ``grade_id: check_<name>``): one autograded exercise
  each, a single call ``checks.check_<name>(arg, ...)``;
* locked cells (``locked: true``: the check cells and the ``setup`` cell): read-only in
  JupyterLab; an edit in a submission is reported (checksums) and ignored.

An exercise depends on the code solution cells between the previous check cell and its own.
If one of them is missing from the submission (deleted, renamed, its metadata removed, its
source not text, its type changed), the exercise is ``missing``. Everything that is not a
solution cell — setup, demonstrations, check cells — is run from the template; cells the
student added are not run.
"""
import ast
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 50 << 20
TEXT_STUB = "YOUR ANSWER HERE"


class Refused(Exception):
    """A submission that is not graded at all (its exercises get status ``error``)."""


def sha256_text(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cell_checksum(source):
    """What 'edited' means for a locked cell: any change but trailing whitespace."""
    return sha256_text("\n".join(line.rstrip() for line in source.strip().splitlines()))


# ---------------------------------------------------------------------- the checks' modules

def check_modules(checks_dir):
    """{check function name: module name} from the top-level ``def check_*`` of each file."""
    out = {}
    for path in sorted(Path(checks_dir).glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                out.setdefault(node.name, path.stem)
    return out


# ---------------------------------------------------------------------- templates

@dataclass
class Exercise:
    name: str                  # the CSV's exercise: the check's name without "check_"
    grade_id: str              # the check cell's grade_id
    check: str                 # check function name
    module: str                # course_lib.checks.<module>
    args: list                 # source of each positional argument
    kwargs: dict
    solutions: list            # grade_ids of the code solution cells it depends on
    points: float = 1.0


@dataclass
class Step:
    kind: str                  # setup | solution | check | other
    index: int                 # cell index in the template
    source: str
    grade_id: str = ""
    exercise: str = ""         # check steps: the exercise; solution steps: the exercise it feeds


@dataclass
class Template:
    name: str
    path: Path
    sha256: str
    steps: list
    exercises: list
    written: list              # [(grade_id, points, template source)]
    locked: dict               # grade_id -> checksum
    solution_types: dict       # grade_id -> cell type
    solution_stubs: dict       # grade_id -> template source
    plain_cells: int = 0       # cells without a grade_id (instructions, demonstrations)


def _nbgrader(cell):
    md = cell.get("metadata", {}).get("nbgrader", {})
    return md if isinstance(md, dict) else {}


def parse_check_call(source, where):
    """(check name, [arg sources], {kw: source}) of a template check cell."""
    tree = ast.parse(source)
    if (len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr)
            or not isinstance(tree.body[0].value, ast.Call)):
        raise ValueError(f"{where}: a check cell must be one call checks.check_<name>(...)")
    call = tree.body[0].value
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == "checks" and func.attr.startswith("check_")):
        raise ValueError(f"{where}: a check cell must call checks.check_<name>(...)")
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise ValueError(f"{where}: no *args/**kwargs in a check call")
    args = [ast.get_source_segment(source, a) for a in call.args]
    kwargs = {k.arg: ast.get_source_segment(source, k.value) for k in call.keywords}
    return func.attr, args, kwargs


def load_template(path, modules):
    """Read a release notebook into a Template; ``modules`` maps check names to modules."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    steps, exercises, written, locked, types, stubs = [], [], [], {}, {}, {}
    feeding, plain = [], 0
    for i, cell in enumerate(nb.cells):
        md = _nbgrader(cell)
        gid = md.get("grade_id", "")
        plain += not gid
        if md.get("solution"):
            types[gid] = cell.cell_type
            stubs[gid] = cell.source
            if cell.cell_type == "code":
                feeding.append(gid)
                steps.append(Step("solution", i, cell.source, gid))
            else:
                written.append((gid, float(md.get("points", 0) or 0), cell.source))
            continue
        if md.get("locked") and gid:
            locked[gid] = cell_checksum(cell.source)
        if cell.cell_type != "code":
            continue
        if md.get("grade") and gid:
            check, args, kwargs = parse_check_call(cell.source, f"{path.name} cell {i}")
            if check not in modules:
                raise ValueError(f"{path.name} cell {i}: no {check} in course_lib/checks")
            name = check[len("check_"):]
            exercises.append(Exercise(name, gid, check, modules[check], args, kwargs, list(feeding),
                                      float(md.get("points", 1) or 1)))
            for step in steps:
                if step.kind == "solution" and step.grade_id in feeding:
                    step.exercise = name
            feeding = []
            steps.append(Step("check", i, cell.source, gid, name))
        else:
            steps.append(Step("setup" if gid == "setup" else "other", i, cell.source, gid))
    names = [e.name for e in exercises]
    if len(set(names)) != len(names):
        raise ValueError(f"{path.name}: two check cells call the same check")
    return Template(path.stem, path, sha256_text(text), steps, exercises, written, locked, types,
                    stubs, plain)


# ---------------------------------------------------------------------- submissions

@dataclass
class SubCell:
    index: int
    cell_type: str
    grade_id: str
    source: object             # str, or None when it was not text
    problem: str = ""


@dataclass
class Submission:
    sha256: str
    cells: list


def _text(source):
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


def read_submission(path, max_bytes=MAX_NOTEBOOK_BYTES):
    """Parse a submitted notebook without trusting it. Raises Refused with the reason."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise Refused("refused: the submission is a symbolic link, not a notebook file")
    if not stat.S_ISREG(st.st_mode):
        raise Refused("refused: the submission is not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise Refused("refused: the submission is not a regular file")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"refused: larger than {max_bytes >> 20} MB")
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise Refused("unreadable notebook: the file is empty")
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused(f"unreadable notebook: not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(nb, dict):
        raise Refused("unreadable notebook: the file is JSON but not a notebook")
    major = nb.get("nbformat")
    if major != 4:
        raise Refused(f"unreadable notebook: nbformat {major!r}, expected 4 (save it with "
                      "JupyterLab or Jupyter Notebook 5+)")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise Refused("unreadable notebook: it has no list of cells")
    out = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            out.append(SubCell(i, "", "", None, "a cell that is not a JSON object"))
            continue
        md = cell.get("metadata")
        nbg = md.get("nbgrader") if isinstance(md, dict) else None
        gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
        gid = gid if isinstance(gid, str) else ""
        ctype = cell.get("cell_type")
        ctype = ctype if isinstance(ctype, str) else ""
        source = _text(cell.get("source", ""))
        out.append(SubCell(i, ctype, gid, source, "" if source is not None else "its source is not text"))
    return Submission(digest, out)


# ---------------------------------------------------------------------- the merge

# Code in a solution cell that reaches into the interpreter (other frames, the grader's
# objects, hooks) or out of the notebook. None of it is needed by any exercise; each hit is
# listed for the instructor to look at (review.csv), it does not change a verdict.
RED_FLAGS = [
    (re.compile(r"_getframe\b|\bf_(locals|globals|back)\b|\binspect\b"), "inspects the interpreter's frames"),
    (re.compile(r"\bget_(objects|referrers|referents)\b|\bimport\s+gc\b"), "walks the garbage collector's objects"),
    (re.compile(r"\bsettrace\b|\bsetprofile\b|\baddaudithook\b"), "installs a trace/profile/audit hook"),
    (re.compile(r"\bctypes\b|\bcffi\b"), "uses ctypes"),
    (re.compile(r"\bget_ipython\b|\bIPython\b|\bipykernel\b|\bzmq\b|\bjupyter_client\b"),
     "reaches into the kernel (get_ipython / IPython / ipykernel)"),
    (re.compile(r"\bglobals\s*\(\s*\)|\b__builtins__\b|\bimport\s+builtins\b|\bbuiltins\s*\."),
     "changes globals or builtins"),
    (re.compile(r"\bsys\s*\.\s*modules\b|\bimportlib\b|\b__import__\b"), "manipulates imports"),
    (re.compile(r"__(code|globals|closure|subclasses|dict)__"), "touches code or class internals"),
    (re.compile(r"\b(np|numpy)\s*\.\s*[\w.]+\s*=[^=]"), "assigns to a numpy attribute"),
    (re.compile(r"\bchecks\b|course_lib\s*\.\s*checks|\b_common\b|\bCheckFailure\b|hidden_mode"),
     "refers to the checks"),
    (re.compile(r"\bthreading\b|\bThread\s*\(|\bmultiprocessing\b"), "starts threads or processes"),
    (re.compile(r"\bsubprocess\b|\bos\s*\.\s*(system|fork|popen|exec\w*|spawn\w*|kill|setsid)\b|\bsignal\s*\."),
     "runs, signals or forks processes"),
    (re.compile(r"(?<![\w.])(exec|eval|compile)\s*\("), "executes generated code"),
    (re.compile(r"(?<![\w.])open\s*\(|\bos\s*\.\s*(listdir|scandir|walk|remove|unlink|rename)"
                r"|\bshutil\b|\bpathlib\b|\bPath\s*\("),
     "reads or writes files"),
    (re.compile(r"\bsocket\b|\burllib\b|\brequests\b|\bhttp\b"), "uses the network"),
    (re.compile(r"course[-_]grader|vnd\.course"), "names the grader's channel"),
]


def red_flags(source):
    hits = []
    for number, line in enumerate(source.splitlines(), 1):
        for pattern, what in RED_FLAGS:
            if pattern.search(line):
                hits.append((number, what, line.strip()[:160]))
    return hits


@dataclass
class Merged:
    steps: list                          # Steps with the student's sources in solution cells
    missing: dict                        # solution grade_id -> why it is missing
    answers: dict                        # written grade_id -> text (or None)
    review: list = field(default_factory=list)      # [(kind, detail)] for the instructor
    notes: list = field(default_factory=list)       # for the student's feedback


def merge(template, submission):
    """The template's steps with the submission's solution cells copied in."""
    first, dupes = {}, set()
    for cell in submission.cells:
        if not cell.grade_id:
            continue
        if cell.grade_id in first:
            dupes.add(cell.grade_id)
        else:
            first[cell.grade_id] = cell
    missing, answers, review, notes = {}, {}, [], []
    for gid, ctype in template.solution_types.items():
        cell = first.get(gid)
        if cell is None:
            missing[gid] = "the solution cell is missing (deleted, or its cell metadata removed)"
        elif cell.source is None:
            missing[gid] = "the solution cell's source is not text"
        elif cell.cell_type != ctype:
            missing[gid] = f"the solution cell was turned into a {cell.cell_type or 'broken'} cell"
        if gid in missing and ctype == "markdown":
            answers[gid] = None
        elif ctype == "markdown":
            answers[gid] = cell.source
    for gid in sorted(dupes):
        notes.append(f"Two cells carry the id {gid!r}: the first one was graded.")
        review.append(("duplicate cell id", gid))
    for gid, checksum in template.locked.items():
        cell = first.get(gid)
        if cell is None:
            review.append(("locked cell deleted", gid))
            notes.append(f"The read-only cell {gid!r} was deleted; the original was run.")
        elif cell.source is None or cell_checksum(cell.source) != checksum:
            review.append(("locked cell edited", gid))
            notes.append(f"The read-only cell {gid!r} was edited; the original was run.")
    known = set(template.solution_types) | set(template.locked)
    added = sum(1 for c in submission.cells if not c.grade_id or c.grade_id not in known)
    if added > template.plain_cells:
        notes.append(f"You added {added - template.plain_cells} cell(s): only the solution cells "
                     "are graded; the course's own version of every other cell was run, and "
                     "cells you added were not.")
    steps = []
    for step in template.steps:
        if step.kind == "solution" and step.grade_id not in missing:
            src = first[step.grade_id].source
            for number, what, line in red_flags(src):
                review.append(("suspicious code", f"{step.grade_id} line {number}: {what}: {line}"))
            steps.append(Step("solution", step.index, src, step.grade_id, step.exercise))
        else:
            steps.append(step)
    return Merged(steps, missing, answers, review, notes)
