"""Shared plumbing for the exercise checks.

Conventions every check follows:

* It is declared with ``@check(...)``, takes the student's function (or values) positionally
  and a keyword-only ``seed=None``. With ``seed=None`` it uses the fixed public inputs that
  the exercise notebook's hints print; with an integer seed it draws other inputs (shapes,
  values, rates) from ``np.random.default_rng(seed)`` — the grader's hidden tests, which a
  hard-coded answer cannot pass. Checks of a prediction about one stated scenario have no
  hidden variant (``@check(hidden=False, why=...)``).
* The student's function is called plainly, so its own exceptions reach the student with
  their own traceback. The one exception: the untouched stub's bare ``NotImplementedError``,
  which is shown as one line saying that the exercise is not done yet.
* Success prints one line, ``✓ name: all checks passed.``; a wrong answer raises
  ``CheckFailure`` (an ``AssertionError``) built by ``fail(advice, call)``: the advice first,
  then the exact call that shows the problem. Jupyter displays it as one block — which check,
  the advice, "to reproduce: ..." — with no traceback through course_lib/checks.
* The expected values are never printed.
"""
import contextlib
import contextvars
import functools
import textwrap
import traceback
from dataclasses import dataclass

import numpy as np

# Set by the grader while it runs a hidden test: failures then carry no reproducing call,
# since that call would show the hidden inputs.
_HIDDEN = contextvars.ContextVar("course_checks_hidden", default=False)

_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"
_WIDTH = 96


@dataclass(frozen=True)
class Call:
    """The exact call a check made: ``setup`` (statements that build the inputs, may be empty)
    and ``code`` (the call itself). ``str(call)`` is what a student pastes into a cell."""

    code: str
    setup: str = ""

    def __str__(self):
        return f"{self.setup}; {self.code}" if self.setup else self.code


class CheckFailure(AssertionError):
    """A check's verdict on a wrong answer: the advice, then the call that shows it.

    ``str(exc)`` holds both (for pytest and the grader); in Jupyter ``_render_traceback_``
    replaces the traceback by one readable block.
    """

    def __init__(self, advice, call=None, check=None, hidden=False):
        self.advice = str(advice)
        self.call = None if hidden or call is None else str(call)
        self.check = check
        self.hidden = hidden
        super().__init__(self._text())

    def _text(self):
        text = self.advice
        if self.call:
            text += f"\nto reproduce: {self.call}"
        return text

    def with_check(self, name):
        """The same failure, labelled with the check that raised it."""
        if self.check is None:
            self.check = name
        return self

    def _render_traceback_(self):
        # IPython shows these lines instead of the traceback (ipykernel sends them as the
        # error's "traceback"); the exception stays an AssertionError for graders and pytest.
        name = self.check or "check"
        lines = [f"{_RED}{_BOLD}✗ {name} failed{_RESET}"]
        for para in self.advice.split("\n"):
            lines.extend(textwrap.wrap(para, _WIDTH) or [""])
        if self.call:
            lines.append("")
            lines.append(f"{_BOLD}to reproduce:{_RESET} {self.call}")
        return lines


def fail(advice, call=None):
    """Stop the check with ``advice`` (what is wrong and what to do) and the ``call`` that shows
    it (a Call or a string, or None when there is no single call to show)."""
    raise CheckFailure(advice, call, hidden=_HIDDEN.get())


def _stub_name(exc):
    """The function whose body raised a bare NotImplementedError, or None."""
    if exc.args:
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else None


def _not_implemented_line(check_name, exc):
    where = _stub_name(exc)
    what = f"`{where}`" if where and where != "<module>" else "this exercise"

    def render():
        return [f"{_RED}✗ {check_name}: {what} is not implemented yet — replace "
                f"`raise NotImplementedError()` with your code, run that cell, then this one.{_RESET}"]
    return render


def check(hidden=True, why=None):
    """Declare an exercise check.

    ``hidden=True``: the check accepts ``seed=<int>`` and then draws its inputs from it (the
    grader's hidden tests). ``hidden=False`` needs ``why``, the reason there is nothing to
    vary. The decorated check labels its failures with its name, and turns the untouched
    stub's bare ``NotImplementedError`` into one line (it stays a NotImplementedError).
    """
    if not hidden and not why:
        raise ValueError("check(hidden=False) needs why=: say why this check has no hidden inputs")

    def wrap(fn):
        name = fn.__name__

        @functools.wraps(fn)
        def run(*args, **kwargs):
            __tracebackhide__ = True      # IPython and pytest skip this frame of plumbing
            try:
                return fn(*args, **kwargs)
            except CheckFailure as exc:
                raise exc.with_check(name) from None
            except NotImplementedError as exc:
                if _stub_name(exc) is not None:
                    exc._render_traceback_ = _not_implemented_line(name, exc)
                raise

        run.hidden = bool(hidden)
        run.hidden_why = why
        run.check_name = name
        return run
    return wrap


@contextlib.contextmanager
def hidden_mode():
    """While active, failures carry no reproducing call (used by the grader's hidden tests)."""
    token = _HIDDEN.set(True)
    try:
        yield
    finally:
        _HIDDEN.reset(token)


def passed(name):
    """Print the one success line of a check."""
    print(f"✓ {name}: all checks passed.")


def input_rng(seed, public_seed):
    """The generator a check draws its inputs from: the public one when ``seed`` is None, else
    the hidden test's."""
    return np.random.default_rng(public_seed if seed is None else seed)


def as_array(value, what, call=None):
    """The student's return value as a float array, or a hint that says what came back.
    ``what`` names the value in the advice ("dropout_forward's out")."""
    if value is None:
        fail(f"{what} is None — did you forget the `return` statement?", call)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} should be a numeric array, got {type(value).__name__}", call)


def check_shape(value, shape, what, call=None):
    if value.shape != tuple(shape):
        if _HIDDEN.get():          # the expected shape would give the hidden input's away
            fail(f"{what} has shape {value.shape}, which is not the shape these inputs call for",
                 call)
        fail(f"{what} has shape {value.shape}, expected {tuple(shape)}", call)


def close(a, b, rtol=1e-6, atol=1e-9):
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def fmt_array(a):
    """An array as the literal a student can paste into a cell to reproduce the call."""
    return f"np.array({np.asarray(a).tolist()!r})"


def unpack(result, names, what, call=None):
    """The student's tuple return value as a list, or a hint naming what was expected."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = type(result).__name__
        if isinstance(result, (tuple, list)):
            got += f" of length {len(result)}"
        fail(f"{what} should return a tuple ({', '.join(names)}), got {got}", call)
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
