"""Time moves of a widget's main control, inside the Jupyter kernel that shows it.

benchmarks/run_all.py sends this file's source to a kernel, builds the notebook's main widget
there (after its precompute, as the notebook does) and calls ``probe(box)``, which prints one
JSON line. Run inside a kernel, a move is what a student's slider move costs the kernel: the
callback, and for widgets drawn with pyplot the inline backend's PNG rendering, which
``interactive`` triggers before it returns (widgets that render their own PNG do it in the
callback). Only the browser's part (sending, decoding, painting) is missing.
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


def probe(box, k=8):
    """Move the first control of ``box`` to k positions: the first move warms up (not timed),
    the next ones visit new positions, then every position is visited again (cached)."""
    assert "course-main-widget" in box._dom_classes, "not the notebook's main widget"
    control = box.children[0]
    moves = zigzag(positions(control), control.value, k)
    errors = []
    callback = box.f

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
    print(json.dumps({"control": f"{type(control).__name__} {control.description!r}",
                      "first_ms": [1e3 * s for s in first], "again_ms": [1e3 * s for s in again],
                      "median_first_ms": 1e3 * statistics.median(first),
                      "median_again_ms": 1e3 * statistics.median(again), "errors": errors[:3]}))
