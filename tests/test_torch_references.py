"""course_lib against PyTorch's numbers, with or without PyTorch installed.

tests/references/torch_<X.Y>.npz (made by scripts/make_torch_references.py) holds fixed inputs
and torch's outputs for every layer, loss, initializer statistic, optimizer trajectory,
clipping function and schedule course_lib shares with PyTorch. Each case runs course_lib's
counterpart (tests/_torch_counterparts.py) on the stored inputs and compares it with torch's
stored outputs, at the tolerances of the live comparison. This runs everywhere, torch or not.

Where torch is installed, the tests marked ``torch`` rebuild every case in memory with the
script's code and check that the committed file still says what torch says now.
"""
import numpy as np
import pytest

import _torch_counterparts as tc

refs = tc.refs
REFERENCE_FILES = sorted(refs.REFERENCE_DIR.glob("torch_*.npz"))
META, CASES = refs.load(REFERENCE_FILES[-1]) if REFERENCE_FILES else ({}, {})
SOURCE = tc.reference_label(META) if META else "torch reference"
REGENERATE = f"regenerate it: {refs.COMMAND}"


def test_one_reference_file_with_its_provenance():
    names = [p.name for p in REFERENCE_FILES]
    assert len(names) == 1, f"expected one tests/references/torch_<X.Y>.npz, found {names}; {REGENERATE}"
    path = REFERENCE_FILES[0]
    assert path == refs.reference_path(META["torch_version"]), (
        f"{path.name} was made with torch {META['torch_version']}")
    assert META["command"] == refs.COMMAND and META["numpy_version"] and META["date"]
    assert path.stat().st_size < 150_000, f"{path.name} is {path.stat().st_size} bytes: keep it small"


def test_every_family_in_the_file_has_a_course_lib_counterpart():
    families = {case.family for case in CASES.values()}
    missing = sorted(families - set(tc.COUNTERPARTS))
    assert not missing, f"no course_lib counterpart in tests/_torch_counterparts.py for {missing}"
    assert families == {f.name for f in refs.FAMILIES}, (
        f"the file's families {sorted(families)} differ from the script's; {REGENERATE}")


@pytest.mark.parametrize("name", list(CASES))
def test_course_lib_matches_torch_reference(name):
    case = CASES[name]
    tc.compare(case, tc.run(case), SOURCE)


# ---------------------------------------------------------------------------------------------
# where torch is installed: is the committed file still what torch computes?
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_cases(torch):
    return {case.name: case for case in refs.build(torch)}


@pytest.mark.torch
def test_reference_file_has_every_case_of_the_script(live_cases):
    added, removed = sorted(set(live_cases) - set(CASES)), sorted(set(CASES) - set(live_cases))
    assert not added and not removed, (
        f"the script has cases the file lacks {added} and the file cases the script lacks "
        f"{removed}; {REGENERATE}")


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
def test_reference_file_matches_torch_now(torch, live_cases, name):
    stored = CASES[name]
    if name not in live_cases:
        pytest.fail(f"{name} is in the file but no longer in the script; {REGENERATE}")
    live = live_cases[name]
    assert live.config == stored.config, f"{name}: config changed: {stored.config} -> {live.config}; {REGENERATE}"
    for role in ("inputs", "outputs"):
        mine, theirs = getattr(stored, role), getattr(live, role)
        assert set(mine) == set(theirs), f"{name}: {role} {sorted(mine)} -> {sorted(theirs)}; {REGENERATE}"
        for key in mine:
            a, b = mine[key], theirs[key]
            assert a.shape == b.shape, f"{name} {key}: shape {a.shape} in the file, {b.shape} now"
            diff = float(np.max(np.abs(a.astype(float) - b.astype(float)), initial=0.0))
            if role == "inputs":      # NumPy's seeded generators: bit for bit
                assert np.array_equal(a, b), f"{name} input {key} changed (max abs diff {diff:.3e}); {REGENERATE}"
            else:
                assert np.allclose(a, b, rtol=1e-12, atol=1e-15), (
                    f"{SOURCE} vs torch {torch.__version__} now: {name} {key}, max abs diff "
                    f"{diff:.3e}; {REGENERATE}")
