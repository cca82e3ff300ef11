"""Helpers shared by the tests of the exercise checks (tests/test_checks_*.py)."""
import re

import pytest


def passes(capsys, check, *args, name):
    """The check accepts a correct answer and prints its one success line."""
    check(*args)
    assert f"✓ {name}: all checks passed." in capsys.readouterr().out


def hint(check, *args, match):
    """The check rejects a planted mistake with the intended hint (``match``, a regular
    expression searched case-insensitively in the advice and the call); returns the message."""
    with pytest.raises(AssertionError, match=re.compile(match, re.IGNORECASE)) as info:
        check(*args)
    return str(info.value)


def raises_own_error(*args, **kwargs):
    """A student function with a bug of its own: the check must let this error through."""
    raise ValueError("my own bug")


def assert_hides(message, values, min_abs=0.0):
    """No expected value appears in a hint, in any usual number format. Inputs shown as
    np.array(...) literals are ignored; integers (0, 1, 10), values below ``min_abs`` and
    renderings with fewer than 3 significant digits (0.9 is also beta1's value) are too
    common to mean anything."""
    import re

    import numpy as np

    message = re.sub(r"np\.array\([^)]*\)", "<array>", message)
    for v in np.ravel(values):
        v = float(v)
        if v == round(v) or abs(v) < min_abs:
            continue
        for text in {f"{v:.3f}", f"{v:.4f}", f"{v:.3g}", f"{v:.4g}", f"{v:.6g}", f"{v:.2e}"}:
            if len(text.split("e")[0].lstrip("-0.").replace(".", "")) < 3:
                continue
            assert text not in message, f"the hint reveals {text}: {message}"
