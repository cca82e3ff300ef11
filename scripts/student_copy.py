"""Your own copy of the course notebooks, in work/ (git-ignored), so that your saved work never
conflicts with an update of the course (`git pull`) and never makes `make test` fail.

    python scripts/student_copy.py sync            # what `make lab` runs first
    python scripts/student_copy.py refresh NAME    # `make refresh NB=NAME`
    python scripts/student_copy.py status

sync     copies every lecture notebook (notebooks/) and exercise notebook (exercises/) that is
         not yet in work/notebooks/ or work/exercises/. Your existing copies are never touched;
         for each one whose course version changed since you copied it, one line says so.
refresh  replaces your copy of one notebook (05_dropout, 05_dropout.ipynb, or
         exercises/05_dropout) by the course's current version; your old copy is kept beside
         it as NAME.<date-time>.ipynb. Without a folder, a lecture notebook is meant.
status   lists your copies: unchanged, edited by you, or with a newer course version.

The links between notebooks are relative (../exercises/NN_topic.ipynb), so they work inside
work/ exactly as in the course folders.
"""
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "work"
FOLDERS = ("notebooks", "exercises")
MANIFEST = WORK / ".course-versions.json"


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load_manifest():
    try:
        return json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return {}


def _save_manifest(manifest):
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _sources():
    for folder in FOLDERS:
        for src in sorted((ROOT / folder).glob("*.ipynb")):
            yield folder, src


def sync(quiet=False):
    """Copy what is missing; report copies whose course version changed. Returns the notices."""
    manifest = _load_manifest()
    copied, notices = [], []
    for folder, src in _sources():
        key = f"{folder}/{src.name}"
        dst = WORK / folder / src.name
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            manifest[key] = {"course": _digest(src), "copy": _digest(dst)}
            copied.append(key)
        elif key in manifest and manifest[key]["course"] != _digest(src):
            notices.append(f"  {key}: the course has a newer version than your copy — "
                           f"`make refresh NB={folder}/{src.stem}` takes it (your copy is kept)")
    WORK.mkdir(exist_ok=True)
    _save_manifest(manifest)
    if not quiet:
        if copied:
            print(f"Copied {len(copied)} notebook(s) into work/, your own copies: edit and save "
                  f"them freely (`git pull` never touches work/).")
        for line in notices:
            print(line)
    return notices


def _resolve(name):
    name = name.strip().removesuffix(".ipynb").removeprefix("work/")
    folder = "notebooks"
    if "/" in name:
        folder, name = name.split("/", 1)
    if folder not in FOLDERS:
        sys.exit(f"refresh: the folder must be one of {', '.join(FOLDERS)}, got {folder!r}")
    src = ROOT / folder / f"{name}.ipynb"
    if not src.exists():
        choices = ", ".join(p.stem for p in sorted((ROOT / folder).glob("*.ipynb")))
        sys.exit(f"refresh: no course notebook {folder}/{name}.ipynb; choose one of: {choices}")
    return folder, src


def refresh(name):
    if not name:
        sys.exit("refresh: say which notebook, e.g. `make refresh NB=05_dropout` "
                 "(or NB=exercises/05_dropout)")
    folder, src = _resolve(name)
    dst = WORK / folder / src.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        backup = dst.with_name(f"{src.stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
        dst.rename(backup)
        print(f"your previous copy is now {backup.relative_to(ROOT)}")
    shutil.copyfile(src, dst)
    manifest = _load_manifest()
    manifest[f"{folder}/{src.name}"] = {"course": _digest(src), "copy": _digest(dst)}
    _save_manifest(manifest)
    print(f"work/{folder}/{src.name} is now the course's current version")


def status():
    manifest = _load_manifest()
    for folder, src in _sources():
        key = f"{folder}/{src.name}"
        dst = WORK / folder / src.name
        if not dst.exists():
            state = "not copied yet (make lab copies it)"
        else:
            edited = key not in manifest or manifest[key]["copy"] != _digest(dst)
            newer = key in manifest and manifest[key]["course"] != _digest(src)
            state = ", ".join(s for s, on in (("edited by you", edited),
                                               ("newer course version", newer)) if on) or "unchanged"
        print(f"  work/{key}: {state}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "sync"
    if command == "sync":
        sync()
    elif command == "refresh":
        refresh(argv[1] if len(argv) > 1 else "")
    elif command == "status":
        status()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
