"""Shared plumbing for the exercise checks.

Conventions every check follows: fixed inputs (printed in the hint, so the student can
reproduce the call); the student's function is called plainly, so its own exceptions reach
the student untouched; one success line on success; AssertionError with a targeted hint on
failure; the expected values are never printed.
"""
import numpy as np


def passed(name):
    """Print the one success line of a check."""
    print(f"✓ {name}: all checks passed.")


def fail(hint):
    raise AssertionError(hint)


def as_array(value, what):
    """The student's return value as a float array, or a hint that says what came back."""
    if value is None:
        fail(f"{what} returned None — did you forget the `return` statement?")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} should return a numeric array, got {type(value).__name__}")


def check_shape(value, shape, what):
    if value.shape != tuple(shape):
        fail(f"{what} returned shape {value.shape}, expected {tuple(shape)}")


def close(a, b, rtol=1e-6, atol=1e-9):
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def fmt_array(a):
    """An array as the literal a student can paste into a cell to reproduce the call."""
    return f"np.array({np.asarray(a).tolist()!r})"


def unpack(result, names, what):
    """The student's tuple return value as a list, or a hint naming what was expected."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = type(result).__name__
        if isinstance(result, (tuple, list)):
            got += f" of length {len(result)}"
        fail(f"{what} should return a tuple ({', '.join(names)}), got {got}")
    return list(result)


def read_predictions(**values):
    """The student's predicted numbers, by name, as floats (in the order given); a hint for a
    prediction that is still None or is not one finite number."""
    out = {}
    for name, value in values.items():
        if value is None:
            fail(f"{name} is None: assign your prediction, a number, to it")
        v = as_array(value, name)
        if v.size != 1 or not np.isfinite(v).all():
            fail(f"{name} should be one finite number, got {value!r}")
        out[name] = float(v)
    return out
