"""Quasi-random search: the scrambled Halton sequence, its discrepancy, and the mapping onto a
search space (cl.search.halton, centered_discrepancy, quasi_random_search, grid centred)."""
import math

import numpy as np
import pytest

import course_lib as cl
from course_lib.search import (Choice, LogUniform, Uniform, centered_discrepancy, first_primes,
                               halton, quasi_random_search)


def test_first_primes():
    assert first_primes(1) == [2]
    assert first_primes(8) == [2, 3, 5, 7, 11, 13, 17, 19]


def test_plain_sequence_is_the_radical_inverse():
    x = halton(9, 2, scramble=False)
    np.testing.assert_array_equal(x[:, 0], [0, 1 / 2, 1 / 4, 3 / 4, 1 / 8, 5 / 8, 3 / 8, 7 / 8, 1 / 16])
    np.testing.assert_allclose(x[:, 1], [0, 1 / 3, 2 / 3, 1 / 9, 4 / 9, 7 / 9, 2 / 9, 5 / 9, 8 / 9],
                               rtol=0, atol=1e-15)


def test_shape_range_and_determinism():
    a = halton(200, 5, np.random.default_rng(3))
    assert a.shape == (200, 5) and a.dtype == np.float64
    assert a.min() >= 0.0 and a.max() < 1.0
    np.testing.assert_array_equal(a, halton(200, 5, np.random.default_rng(3)))
    assert not np.allclose(a, halton(200, 5, np.random.default_rng(4)))
    # the first n points do not depend on n (it is one sequence), for the same scrambling
    np.testing.assert_array_equal(halton(50, 5, np.random.default_rng(3)), a[:50])
    # the scrambled sequence no longer starts at the origin
    assert np.all(a[0] > 0)


def test_the_largest_digits_stay_below_one():
    # every digit permuted to b - 1 would give 1 - b**-D: still below 1 in float64
    for b in first_primes(12):
        from course_lib.search import _digits
        D = _digits(b)
        assert (b ** D - 1) / float(b ** D) < 1.0 and b ** D <= 2 ** 52


@pytest.mark.parametrize("n", [64, 100, 243, 256])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_1d_projection_is_stratified(n, seed):
    """n consecutive points put floor(n / b**m) or ceil(n / b**m) points into each of the
    b**m equal intervals of dimension j (base b), for every b**m <= n."""
    d = 4
    x = halton(n, d, np.random.default_rng(seed))
    for j, b in enumerate(first_primes(d)):
        m = 1
        while b ** m <= n:
            counts = np.bincount(np.floor(x[:, j] * b ** m).astype(int), minlength=b ** m)
            lo, hi = n // b ** m, -(-n // b ** m)
            assert counts.min() >= lo and counts.max() <= hi, (j, b, m, counts)
            m += 1


def test_random_points_are_not_stratified():
    # the stratification test above can fail: independent uniform draws fail it
    x = np.random.default_rng(0).random((64, 1))
    counts = np.bincount(np.floor(x[:, 0] * 64).astype(int), minlength=64)
    assert counts.max() > 1


@pytest.mark.parametrize("n,d", [(64, 2), (128, 3), (256, 4)])
def test_low_discrepancy_against_uniform_random_points(n, d):
    quasi = [centered_discrepancy(halton(n, d, np.random.default_rng(s))) for s in range(5)]
    rand = [centered_discrepancy(np.random.default_rng(100 + s).random((n, d))) for s in range(30)]
    # every scrambled Halton set beats the best of 30 random sets ...
    assert max(quasi) < min(rand), (max(quasi), min(rand))
    # ... and on average it is more than 6 times lower (measured: 15-23 times)
    assert np.mean(quasi) < np.mean(rand) / 6, (np.mean(quasi), np.mean(rand))


def test_planted_failure_one_base_for_every_dimension():
    # the discrepancy catches a broken generator: the same base in both dimensions puts
    # every point on the diagonal: worse than random points on average, and 20 times worse
    # than the real sequence (measured: 0.0113 against 0.0059 and 2-5e-4)
    x = halton(64, 1, scramble=False)
    diagonal = centered_discrepancy(np.c_[x, x])
    rand = np.mean([centered_discrepancy(np.random.default_rng(s).random((64, 2))) for s in range(30)])
    assert diagonal > rand
    assert diagonal > 20 * centered_discrepancy(halton(64, 2, np.random.default_rng(0)))


def test_discrepancy_matches_scipy_and_hand_values():
    qmc = pytest.importorskip("scipy.stats.qmc")
    for seed, (n, d) in enumerate([(1, 1), (7, 2), (64, 3), (100, 5)]):
        x = np.random.default_rng(seed).random((n, d))
        assert math.isclose(centered_discrepancy(x), qmc.discrepancy(x, method="CD"),
                            rel_tol=1e-12, abs_tol=1e-15)
    # one point at the centre of [0, 1]: 13/12 - 2 + 1 = 1/12
    assert math.isclose(centered_discrepancy([[0.5]]), 1 / 12, rel_tol=1e-14)


def test_discrepancy_errors():
    with pytest.raises(ValueError, match="unit cube"):
        centered_discrepancy([[0.2, 1.5]])
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        centered_discrepancy([0.1, 0.2])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_halton_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive integer"):
        halton(bad, 2)
    with pytest.raises(ValueError, match="positive integer"):
        halton(4, bad)


SPACE = {"lr": LogUniform(1e-4, 1e-1), "p": Uniform(0.0, 0.5), "width": Choice([16, 32, 64])}


def test_mapping_of_each_distribution():
    seen = []
    res = quasi_random_search(lambda lr, p, width: seen.append((lr, p, width)) or lr, SPACE, 25,
                              seed=7)
    u = halton(25, 3, np.random.default_rng(7))
    assert len(seen) == 25 and len(res.trials) == 25
    for (lr, p, width), (u0, u1, u2) in zip(seen, u):
        assert math.isclose(lr, 10 ** (-4 + 3 * u0), rel_tol=1e-12)
        assert math.isclose(p, 0.5 * u1, rel_tol=1e-12, abs_tol=1e-15)
        assert width == [16, 32, 64][int(u2 * 3)]
    # log scale: 8 points (base 2) fall one into each of the 8 equal log10-bins of the range
    res8 = quasi_random_search(lambda lr, p, width: 0.0, SPACE, 8, seed=7)
    bins = np.floor((np.log10(res8.values("lr")) + 4) / 3 * 8).astype(int)
    assert sorted(bins) == list(range(8))
    # the Choice is binned evenly: 25 points (base 5) give 8 or 9 of each option
    counts = [sum(w == o for w in (s[2] for s in seen)) for o in (16, 32, 64)]
    assert min(counts) >= 8 and max(counts) <= 9, counts


def test_search_result_and_best():
    res = quasi_random_search(lambda lr, p, width: (math.log10(lr) + 2.5) ** 2 + p, SPACE, 32, seed=0)
    assert res.best["score"] == min(res.scores())
    assert abs(math.log10(res.best["params"]["lr"]) + 2.5) < 0.2
    top = quasi_random_search(lambda lr, p, width: p, SPACE, 32, seed=0, maximize=True)
    assert top.best["params"]["p"] == max(top.values("p"))


def test_seed_none_follows_course_seed(monkeypatch):
    f = lambda lr, p, width: lr  # noqa: E731
    monkeypatch.delenv("COURSE_SEED", raising=False)
    a = quasi_random_search(f, SPACE, 10)
    assert a.values("lr") == quasi_random_search(f, SPACE, 10, seed=0).values("lr")
    monkeypatch.setenv("COURSE_SEED", "1")
    b = quasi_random_search(f, SPACE, 10)
    assert b.values("lr") == quasi_random_search(f, SPACE, 10, seed=1000).values("lr")
    assert a.values("lr") != b.values("lr")
    # a Generator works too, and the search never touches the default generator
    before = cl.get_rng().random()
    cl.set_seed(0)
    quasi_random_search(f, SPACE, 10, seed=np.random.default_rng(5))
    assert cl.get_rng().random() == before


def test_quasi_random_search_errors():
    f = lambda lr: lr  # noqa: E731
    with pytest.raises(ValueError, match="positive integer"):
        quasi_random_search(f, {"lr": LogUniform(1e-3, 1)}, 0)
    with pytest.raises(TypeError, match="LogUniform, Uniform or Choice"):
        quasi_random_search(f, {"lr": (1e-3, 1)}, 4)
    with pytest.raises(ValueError, match="non-empty dict"):
        quasi_random_search(f, {}, 4)
    with pytest.raises(TypeError, match="rng must be"):
        quasi_random_search(f, {"lr": LogUniform(1e-3, 1)}, 4, seed="zero")


def test_centered_grid():
    res = cl.search.grid_search(lambda lr, p: 0.0, {"lr": LogUniform(1e-4, 1e-1), "p": Uniform(0, 1)},
                                3, centered=True)
    assert sorted(set(res.values("p"))) == pytest.approx([1 / 6, 1 / 2, 5 / 6])
    assert sorted(set(res.values("lr"))) == pytest.approx([10 ** -3.5, 10 ** -2.5, 10 ** -1.5])
    edges = cl.search.grid_search(lambda lr, p: 0.0, {"lr": LogUniform(1e-4, 1e-1), "p": Uniform(0, 1)}, 3)
    assert sorted(set(edges.values("p"))) == pytest.approx([0, 0.5, 1])
    with pytest.raises(ValueError, match="points_per_axis"):
        cl.search.grid_search(lambda lr: 0.0, {"lr": LogUniform(1e-4, 1e-1)}, 0)
