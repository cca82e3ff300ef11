"""The plumbing every exercise check shares (course_lib/checks/_common.py): how a failure is
shown to a student, the one-line message for an untouched stub, hidden-test mode, and the
declaration of every public check."""
import re

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import _common
from course_lib.checks._common import Call, CheckFailure, check, fail, hidden_mode

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@check()
def check_demo(fn, *, seed=None):
    x = np.arange(3.0) if seed is None else np.random.default_rng(seed).normal(size=4)
    got = fn(x)
    if not np.allclose(got, 2 * x):
        fail("Multiply by two, not by anything else", Call("fn(x)", f"x = {x.tolist()}"))
    _common.passed("demo")


def test_failure_shows_check_advice_then_call_and_no_checker_source():
    with pytest.raises(CheckFailure) as info:
        check_demo(lambda x: 3 * x)
    exc = info.value
    assert isinstance(exc, AssertionError)          # graders and pytest still see a failure
    lines = [ANSI.sub("", line) for line in exc._render_traceback_()]
    assert lines[0] == "✗ check_demo failed"
    text = "\n".join(lines)
    assert text.index("Multiply by two") < text.index("to reproduce: x = [0.0, 1.0, 2.0]; fn(x)")
    assert "course_lib" not in text and "Traceback" not in text and "def " not in text
    assert str(exc) == "Multiply by two, not by anything else\nto reproduce: x = [0.0, 1.0, 2.0]; fn(x)"


def test_long_advice_is_wrapped_for_the_notebook_width():
    exc = CheckFailure("word " * 60, "f(x)", check="check_x")
    assert all(len(ANSI.sub("", line)) <= 110 for line in exc._render_traceback_())


def test_an_untouched_stub_says_so_in_one_line():
    def stub(x):
        # YOUR CODE HERE
        raise NotImplementedError()
    with pytest.raises(NotImplementedError) as info:
        check_demo(stub)
    lines = info.value._render_traceback_()
    assert len(lines) == 1 and "`stub` is not implemented yet" in ANSI.sub("", lines[0])


def test_the_students_own_errors_keep_their_traceback():
    def buggy(x):
        raise NotImplementedError("my own message")      # not the stub: has a message
    with pytest.raises(NotImplementedError) as info:
        check_demo(buggy)
    assert not hasattr(info.value, "_render_traceback_")
    with pytest.raises(ZeroDivisionError) as info:
        check_demo(lambda x: 1 / 0)
    assert not hasattr(info.value, "_render_traceback_")


def test_hidden_mode_drops_the_reproducing_call():
    with hidden_mode():
        with pytest.raises(CheckFailure) as info:
            check_demo(lambda x: 3 * x, seed=7)
    assert info.value.call is None and info.value.hidden
    assert "to reproduce" not in str(info.value) and "Multiply by two" in str(info.value)
    with pytest.raises(CheckFailure) as info:          # outside the grader: shown as usual
        check_demo(lambda x: 3 * x, seed=7)
    assert "to reproduce" in str(info.value)


def test_a_check_without_hidden_inputs_must_say_why():
    with pytest.raises(ValueError, match="why"):
        check(hidden=False)


def test_the_welcome_check_has_a_hidden_variant(capsys):
    mse = lambda a, b: np.mean((a - b) ** 2)          # noqa: E731
    for seed in (1, 2, 3):
        checks.check_mse(mse, seed=seed)
    assert capsys.readouterr().out.count("✓") == 3
    with pytest.raises(AssertionError, match="summed"):
        checks.check_mse(lambda a, b: np.sum((a - b) ** 2), seed=4)


def test_a_wrong_shape_in_hidden_mode_does_not_reveal_the_inputs_shape():
    with pytest.raises(CheckFailure) as info:
        _common.check_shape(np.zeros((3, 4)), (37, 12), "f's result")
    assert "(37, 12)" in str(info.value)
    with hidden_mode(), pytest.raises(CheckFailure) as info:
        _common.check_shape(np.zeros((3, 4)), (37, 12), "f's result")
    assert "37" not in str(info.value) and "(3, 4)" in str(info.value)
