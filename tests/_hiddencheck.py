"""Helpers for the tests of the checks' hidden variants (tests/test_checks_*.py): a planted
mistake caught in the grader's hidden mode, and the form of a hint's advice."""
import re

from course_lib.checks._common import hidden_mode

from _checkutil import hint

HIDDEN_SEEDS = (11, 2024, 777)


def hidden_hint(check, wrong, seed, match, *more):
    """``check(wrong, *more, seed=seed)`` fails, in hidden mode, with the intended hint; the
    message holds no reproducing call and no input literal. Returns the message."""
    with hidden_mode():
        message = hint(lambda *args: check(*args, seed=seed), wrong, *more, match=match)
    assert "to reproduce" not in message, message
    assert "np.array(" not in message, message
    return message


def advice(message):
    """The advice part of a check's message (without the reproducing call)."""
    return message.split("\nto reproduce:")[0]


def assert_advice_form(message, *names):
    """The advice is a sentence that starts with a capital letter or with the name of the
    student's function (an identifier such as adam_step), and names the student's function
    (one of ``names``)."""
    text = advice(message)
    assert text[0].isupper() or any(text.startswith(n) for n in names), text
    assert any(re.search(rf"\b{re.escape(n)}\b", text) for n in names), text
