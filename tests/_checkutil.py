"""Helpers shared by the tests of the exercise checks (tests/test_checks_*.py)."""
import pytest


def passes(capsys, check, *args, name):
    """The check accepts a correct answer and prints its one success line."""
    check(*args)
    assert f"✓ {name}: all checks passed." in capsys.readouterr().out


def hint(check, *args, match):
    """The check rejects a planted mistake with the intended hint; returns the hint."""
    with pytest.raises(AssertionError, match=match) as info:
        check(*args)
    return str(info.value)


def raises_own_error(*args, **kwargs):
    """A student function with a bug of its own: the check must let this error through."""
    raise ValueError("my own bug")
