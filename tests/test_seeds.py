"""COURSE_SEED and the experiment helpers (course_lib/rng.py, course_lib/experiments.py)."""
import numpy as np
import pytest

import course_lib as cl


def test_default_course_seed_gives_the_plain_seeds(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert cl.course_seed() == 0 and cl.seeds(3) == [0, 1, 2] and cl.seeds(2, start=5) == [5, 6]
    assert cl.make_rng(5).random() == np.random.default_rng(5).random()


def test_another_course_seed_moves_every_derived_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "3")
    assert cl.seeds(3) == [3000, 3001, 3002]
    assert cl.make_rng(0).random() == np.random.default_rng(3000).random()
    a = cl.set_seed().random()
    assert a == np.random.default_rng(3000).random()
    assert cl.set_seed(5).random() == np.random.default_rng(5).random()    # explicit wins
    X0 = cl.data.load_digits().X_train
    monkeypatch.setenv("COURSE_SEED", "0")
    assert not np.array_equal(X0, cl.data.load_digits().X_train)           # another split


@pytest.mark.parametrize("bad", ["x", "-1", "1.5"])
def test_a_bad_course_seed_is_refused_clearly(monkeypatch, bad):
    monkeypatch.setenv("COURSE_SEED", bad)
    with pytest.raises(ValueError, match="COURSE_SEED must be a non-negative integer"):
        cl.course_seed()


def test_seed_offsets_stay_in_their_band():
    with pytest.raises(ValueError, match=r"\[0, 1000\)"):
        cl.make_rng(1000)
    with pytest.raises(ValueError, match="positive integer"):
        cl.seeds(0)


def test_over_seeds_keeps_every_result():
    runs = cl.over_seeds(lambda s: {"acc": 0.5 + s / 10, "curve": np.full(4, s)}, seeds=[1, 2, 4])
    assert runs.seeds == [1, 2, 4] and len(runs) == 3
    np.testing.assert_allclose(runs["acc"], [0.6, 0.7, 0.9])
    assert runs["curve"].shape == (3, 4)
    assert runs.mean("acc") == pytest.approx(0.7333333) and runs.spread("acc") == pytest.approx(0.3)
    assert runs.std("acc") == pytest.approx(np.std([0.6, 0.7, 0.9], ddof=1))
    assert runs.summary("acc") == "0.733 ± 0.153 (0.600 … 0.900, 3 seeds)"
    with pytest.raises(ValueError, match="name the one"):
        runs.mean()
    plain = cl.over_seeds(lambda s: float(s), n=2)
    assert plain.mean() == 0.5


def test_over_seeds_refuses_inconsistent_runs():
    with pytest.raises(ValueError, match="returned keys"):
        cl.over_seeds(lambda s: {"a": 1} if s == 0 else {"b": 2}, seeds=[0, 1])


def test_paired_comparison():
    d = cl.paired([0.9, 0.8, 0.95], [0.85, 0.82, 0.9], names=("new", "old"))
    np.testing.assert_allclose(d.diff, [0.05, -0.02, 0.05])
    assert d.wins == 2 and d.n == 3
    assert d.se == pytest.approx(np.std(d.diff, ddof=1) / np.sqrt(3))
    assert "new − old" in d.summary() and "2/3 seeds" in d.summary()
    with pytest.raises(ValueError, match="same length"):
        cl.paired([1, 2], [1, 2, 3])
