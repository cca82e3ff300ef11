"""Time moves of a notebook's main widget, inside the Jupyter kernel that shows it.

benchmarks/run_all.py appends this file's source as one more cell to a lecture notebook, runs
the notebook, and calls ``probe_main_widget()``: it finds the widget carrying the CSS class
``course-main-widget`` among the kernel's live widgets and prints one JSON line of timings.
Inside a kernel, a move costs what a student's slider move costs the kernel: the callback,
and for widgets drawn with pyplot the inline backend's PNG rendering, which ``interactive``
triggers before it returns (widgets that render their own PNG do it in the callback). Only
the browser's part (sending, decoding, painting) is missing.
"""
import json
import statistics
import time

import numpy as np


def positions(control):
    """Every value the control can take, in order (what the browser can send)."""
    kind = type(control).__name__
    if kind == "SelectionSlider":
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    n = int(round((control.max - control.min) / control.step)) + 1
    grid = control.min + control.step * np.arange(n)
    if kind == "FloatLogSlider":
        return [float(control.base ** e) for e in grid]
    if kind == "IntSlider":
        return [int(v) for v in grid]
    return [float(v) for v in grid]


def zigzag(values, current, k=8):
    """k positions spread over the range, ordered so that every move jumps, skipping the
    current value (a move to it would not call the callback)."""
    idx = sorted(set(np.linspace(0, len(values) - 1, k + 1).round().astype(int)))
    spread = [values[i] for i in idx if values[i] != current]
    order = []
    while spread:
        order.append(spread.pop(0))
        if spread:
            order.append(spread.pop())
    return order


def probe_main_widget(k=8):
    """Probe the (last created) live widget with the CSS class course-main-widget."""
    from ipywidgets.widgets.widget import _instances       # every widget not yet closed

    mains = [w for w in list(_instances.values()) if "course-main-widget" in getattr(w, "_dom_classes", ())]
    if not mains:
        raise RuntimeError("the notebook shows no widget with the CSS class course-main-widget")
    probe(mains[-1], k, found=len(mains))


def probe(box, k=8, found=1):
    """Move the first control of ``box`` to k positions: the first move warms up (not timed),
    the next ones visit new positions, then every position is visited again (cached)."""
    assert "course-main-widget" in box._dom_classes, "not the notebook's main widget"
    control = box.children[0]
    moves = zigzag(positions(control), control.value, k)
    errors = []
    callback = box.f              # an ipywidgets.interactive: the function its controls call

    def counted(**kwargs):
        # interactive swallows a callback's exception (it only shows the traceback): count them
        try:
            return callback(**kwargs)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
            raise

    box.f = counted

    def move(value):
        start = time.perf_counter()
        control.value = value
        return time.perf_counter() - start

    move(moves[0])
    first = [move(v) for v in moves[1:]]
    again = [move(v) for v in moves]
    print(json.dumps({"found": found, "control": f"{type(control).__name__} {control.description!r}",
                      "first_ms": [1e3 * s for s in first], "again_ms": [1e3 * s for s in again],
                      "median_first_ms": 1e3 * statistics.median(first),
                      "median_again_ms": 1e3 * statistics.median(again), "errors": errors[:3]}))
