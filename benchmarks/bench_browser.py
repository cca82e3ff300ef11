"""Browser latency of every lecture's main widget on the student's path (part of `make bench`).

For the welcome page and each lecture notebook: `make lab` in a temporary copy of the course
(the harness of tests/test_browser.py, tests/browser_lab.py), open the notebook from work/,
Run All Cells, then press the arrow keys on the main widget's first slider and measure, in the
page, the time from the key press to the new figure. The median of MOVES presses is compared
with the 300 ms budget. Without Chromium one row says so.

    .venv/bin/python benchmarks/bench_browser.py        # alone
    make bench                                           # with every other budget
"""
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import browser_lab as bl  # noqa: E402

BUDGET_MS = 300
MOVES = 7      # key presses measured per notebook, back and forth between two positions


def _row(*fields):
    from run_all import Row
    return Row(*fields)


def measure(notebooks=None, moves=MOVES):
    """{notebook stem: [latency ms, ...]} — raises nothing: a notebook that fails gets an
    exception text instead of latencies."""
    notebooks = notebooks or ([ROOT / "notebooks" / "welcome.ipynb"]
                              + sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        tmp = Path(tmp)
        root = bl.course_copy(tmp / "course")
        with bl.lab_server(root, tmp / "state", tmp / "lab.log") as (base, token), bl.chromium() as browser:
            for nb in notebooks:
                lab = None
                try:
                    lab = bl.Lab(browser, base, token, f"work/notebooks/{nb.name}", root)
                    lab.run_all()
                    widget = lab.main_widget()
                    warm_up, *keys = lab.slider_keys(widget, 1 + moves)
                    lab.move_slider(widget, warm_up)               # not counted
                    results[nb.stem] = [lab.move_slider(widget, key) for key in keys]
                except Exception as exc:   # one notebook's failure is a row, not a crash
                    results[nb.stem] = f"{type(exc).__name__}: {str(exc)[:120]}"
                finally:
                    if lab is not None:
                        lab.close()
    return results


def rows():
    if bl.chromium_missing():
        return [_row("browser: key press -> new figure", "-", f"< {BUDGET_MS} ms", "-",
                     f"Chromium not found at {bl.CHROMIUM}: apt-get install chromium")]
    out = []
    for name, value in measure().items():
        if isinstance(value, str):
            out.append(_row(f"browser {name}", "error", f"< {BUDGET_MS} ms", "-", value))
            continue
        median = statistics.median(value)
        out.append(_row(f"browser {name}", f"{median:.0f} ms", f"< {BUDGET_MS} ms",
                        "ok" if median < BUDGET_MS else "over",
                        f"median of {len(value)} key presses (min {min(value):.0f}, max {max(value):.0f})"))
    return out


if __name__ == "__main__":
    for r in rows():
        print(f"{r.what:<36} {r.measured:>9}  {r.budget:<10} {r.verdict:<5} {r.notes}")
