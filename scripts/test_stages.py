"""`make test`: run every stage of the test suite, even after a failure, then say which failed.

    .venv/bin/python scripts/test_stages.py [--second-seed 1] [--only NAME ...]

Stages:
  suite     library, widgets, checks, exercises, grader, and every notebook in notebooks/ and
            solutions/ under nbval (COURSE_SEED=0, the committed outputs' seed)
  seed      every notebook in notebooks/ and solutions/ again under COURSE_SEED=<second seed>:
            their asserts must hold on other seeds too
  browser   JupyterLab started the way `make lab` starts it, driven in headless Chromium

The exit status is 1 if any stage failed. No stage asserts a wall-clock time (that is
`make bench`'s job), so a busy machine stays green.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
NBVAL = ["--nbval-lax", "--nbval-cell-timeout=120"]
# with -n, a notebook's cells must stay in one worker
XDIST = ["-n", "2", "--dist", "loadfile"]


def stages(second_seed):
    return [
        ("suite", "library, widgets, checks, exercises, grader + notebooks (COURSE_SEED=0)",
         PYTEST + XDIST + ["tests", "notebooks", "solutions", "--ignore=tests/test_browser.py"] + NBVAL,
         {"COURSE_SEED": "0"}),
        ("seed", f"notebooks and solutions again under COURSE_SEED={second_seed}",
         PYTEST + XDIST + ["notebooks", "solutions", "-q"] + NBVAL,
         {"COURSE_SEED": str(second_seed)}),
        # the browser stage starts `make lab` as a student would: no headless backend
        # two workers, each with its own `make lab` server and browser: the notebooks run two at
        # a time on the two cores
        ("browser", "browser: JupyterLab on the `make lab` path, headless Chromium",
         PYTEST + ["-n", "2", "--dist", "load", "tests/test_browser.py"], {"MPLBACKEND": None}),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--second-seed", default="1", help="COURSE_SEED of the second notebook run")
    parser.add_argument("--only", nargs="*", help="run only these stages (suite, seed, browser)")
    args = parser.parse_args(argv)
    results = []
    for name, title, cmd, env_changes in stages(args.second_seed):
        if args.only and name not in args.only:
            continue
        env = dict(os.environ)
        for key, value in env_changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        print(f"\n=== make test · {title}\n$ {' '.join(cmd[1:])}", flush=True)
        start = time.monotonic()
        code = subprocess.call(cmd, cwd=ROOT, env=env)
        results.append((title, code, time.monotonic() - start))
    print("\n=== make test · summary")
    width = max(len(t) for t, _, _ in results)
    for title, code, seconds in results:
        verdict = "passed" if code == 0 else f"FAILED (exit {code})"
        print(f"  {title:<{width}}  {verdict:<16} {seconds:6.0f} s")
    failed = [t for t, code, _ in results if code != 0]
    total = sum(s for _, _, s in results)
    if failed:
        print(f"make test: FAILED after {total:.0f} s — failed stage(s): " + "; ".join(failed))
        return 1
    print(f"make test: all {len(results)} stages passed in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
