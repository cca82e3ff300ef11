"""Call a student's function while recording NumPy's floating-point warnings.

Checks of numerically stable code (softmax, sigmoid, ELU) must notice an overflow even when
the returned values happen to be right (``1 / (1 + exp(1000))`` is 0.0, after a warning).
The warnings are recorded, not raised, so the student's own exceptions still pass through
unchanged; warnings of other kinds are shown as usual.
"""
import warnings

import numpy as np

FP_WORDS = ("overflow", "invalid value", "divide by zero")


def call_recording_fp_warnings(fn, *args, **kwargs):
    """Return ``(fn(*args, **kwargs), messages)`` where ``messages`` lists the floating-point
    RuntimeWarnings (overflow, invalid value, divide by zero) raised during the call."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    messages = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, RuntimeWarning) and any(word in text for word in FP_WORDS):
            messages.append(text)
        else:  # not ours to judge: show it as Python would have
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, messages
