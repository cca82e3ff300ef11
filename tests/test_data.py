"""cl.data: the digits, the synthetic 2-D sets, splits, and preprocessing fitted on train."""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import course_lib as cl
from course_lib.data import PCA, Center, Split, Standardize, Whiten, train_val_test_split

# ---------------------------------------------------------------------------------------------
# the digits
# ---------------------------------------------------------------------------------------------


def test_digits_split_sizes_and_types(digits):
    assert isinstance(digits, Split)
    X_train, y_train, X_val, y_val, X_test, y_test = digits       # unpacks like a tuple
    assert (len(X_train), len(X_val), len(X_test)) == (1079, 359, 359)   # 1,797 = 60/20/20
    for X, y in ((X_train, y_train), (X_val, y_val), (X_test, y_test)):
        assert X.shape == (len(y), 64) and X.dtype == np.float64
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert repr(digits) == "Split(train=(1079, 64), val=(359, 64), test=(359, 64), classes=10)"


def test_digits_are_scaled_into_unit_interval(digits):
    X = np.concatenate([digits.X_train, digits.X_val, digits.X_test])
    assert X.min() == 0.0 and X.max() == 1.0
    # pixels are 0..16 before scaling, so 16 * x is integral
    np.testing.assert_array_equal(16 * X, np.round(16 * X))
    raw = cl.data.load_digits(scale=False)
    assert raw.X_train.max() == 16.0
    np.testing.assert_array_equal(raw.X_train / 16.0, digits.X_train)


def test_digits_splits_partition_the_data(digits):
    from sklearn.datasets import load_digits

    full = load_digits()
    ours = np.concatenate([digits.X_train, digits.X_val, digits.X_test]) * 16.0
    labels = np.concatenate([digits.y_train, digits.y_val, digits.y_test])
    rows = np.c_[ours, labels]
    reference = np.c_[full.data, full.target]
    # the same multiset of (image, label) rows: nothing lost, nothing duplicated
    np.testing.assert_array_equal(rows[np.lexsort(rows.T)], reference[np.lexsort(reference.T)])


def test_digits_split_is_seeded(digits):
    again = cl.data.load_digits()
    np.testing.assert_array_equal(again.X_val, digits.X_val)
    np.testing.assert_array_equal(again.y_train, digits.y_train)
    other = cl.data.load_digits(rng=1)
    assert not np.array_equal(other.y_train, digits.y_train)
    resized = cl.data.load_digits(val=0.1, test=0.3)
    assert (len(resized.X_train), len(resized.X_val), len(resized.X_test)) == (1078, 180, 539)


@given(n=st.integers(5, 200), val=st.floats(0.0, 0.45), test=st.floats(0.0, 0.45),
       seed=st.integers(0, 10_000))
def test_split_partitions_any_dataset(n, val, test, seed):
    ids = np.arange(n)
    split = train_val_test_split(ids.reshape(-1, 1), ids, val=val, test=test, rng=seed)
    parts = [split.y_train, split.y_val, split.y_test]
    assert sum(len(p) for p in parts) == n
    assert len(split.y_test) == round(test * n) and len(split.y_val) == round(val * n)
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), ids)
    np.testing.assert_array_equal(split.X_train[:, 0], split.y_train)   # rows stay paired
    again = train_val_test_split(ids.reshape(-1, 1), ids, val=val, test=test, rng=seed)
    np.testing.assert_array_equal(again.y_train, split.y_train)


@pytest.mark.parametrize("kwargs, message", [
    (dict(val=0.6, test=0.5), "need val, test >= 0 and val + test < 1, got val=0.6, test=0.5"),
    (dict(val=-0.1), "need val, test >= 0"),
])
def test_split_validation(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9))


# ---------------------------------------------------------------------------------------------
# synthetic 2-D sets
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_per_class, n_classes", [(50, 3), (7, 5), (100, 2)])
def test_spirals(n_per_class, n_classes):
    X, y = cl.data.make_spirals(n_per_class, n_classes, rng=0)
    assert X.shape == (n_per_class * n_classes, 2) and y.shape == (n_per_class * n_classes,)
    np.testing.assert_array_equal(np.bincount(y), [n_per_class] * n_classes)
    # the radius grows linearly from 0 to 1 along each arm, whatever the angular noise
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]),
                               np.tile(np.linspace(0, 1, n_per_class), n_classes), atol=1e-12)


@pytest.mark.parametrize("n", [200, 201, 10])
def test_moons(n):
    X, y = cl.data.make_moons(n, noise=0.0, rng=0)
    assert X.shape == (n, 2) and set(np.unique(y)) == {0, 1}
    assert np.sum(y == 0) == n // 2 and np.sum(y == 1) == n - n // 2
    upper = X[y == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)   # unit half circle
    assert upper[:, 1].min() >= -1e-12
    lower = X[y == 1]
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    noisy, _ = cl.data.make_moons(n, noise=0.1, rng=0)
    assert 0.03 < np.std(noisy - X) < 0.2


@pytest.mark.parametrize("factor", [0.5, 0.3])
def test_circles(factor):
    X, y = cl.data.make_circles(100, noise=0.0, factor=factor, rng=0)
    assert X.shape == (100, 2)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], factor)


@pytest.mark.parametrize("make", [
    lambda rng: cl.data.make_spirals(30, 3, rng=rng),
    lambda rng: cl.data.make_moons(60, rng=rng),
    lambda rng: cl.data.make_circles(60, rng=rng),
], ids=["spirals", "moons", "circles"])
def test_synthetic_sets_are_deterministic(make):
    X1, y1 = make(7)
    X2, y2 = make(7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(8)
    assert not np.array_equal(X1, X3)
    X4, _ = make(np.random.default_rng(7))
    np.testing.assert_array_equal(X1, X4)          # an int seed is a fresh Generator
    cl.set_seed(11)
    X5, _ = make(None)
    cl.set_seed(11)
    X6, _ = make(None)
    np.testing.assert_array_equal(X5, X6)          # the default generator after set_seed


# ---------------------------------------------------------------------------------------------
# preprocessing, fitted on the training set only
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def correlated(rng):
    """Full-rank, correlated, shifted Gaussian data: train and a differently drawn val set."""
    A = rng.standard_normal((5, 5)) + 2 * np.eye(5)
    shift = rng.uniform(-3, 3, 5)
    train = rng.standard_normal((400, 5)) @ A + shift
    val = rng.standard_normal((100, 5)) @ A + shift + 0.5
    return train, val


@pytest.mark.parametrize("cls", [Center, Standardize, PCA, Whiten])
def test_transform_before_fit_raises(cls):
    pre = cls()
    assert repr(pre) == f"{cls.__name__}(not fitted)"
    with pytest.raises(RuntimeError, match=f"{cls.__name__}.transform called before fit"):
        pre.transform(np.zeros((3, 2)))
    pre.fit(np.random.default_rng(0).standard_normal((10, 2)))
    assert repr(pre) == f"{cls.__name__}(fitted)"
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__} was fitted on 2 features, got X of shape (3, 4)")):
        pre.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=re.escape("fit expects X of shape (N, D), got (5,)")):
        cls().fit(np.zeros(5))


def test_center_and_standardize_use_training_statistics(correlated):
    train, val = correlated
    c = Center().fit(train)
    np.testing.assert_allclose(c.transform(train).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(c.transform(val), val - train.mean(axis=0))

    s = Standardize()
    z = s.fit_transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0)
    zv = s.transform(val)
    np.testing.assert_allclose(zv, (val - train.mean(axis=0)) / train.std(axis=0))
    # val was NOT used: its own statistics are not those of a standardized set
    assert np.abs(zv.mean(axis=0)).max() > 0.1


def test_standardize_constant_feature_is_safe():
    X = np.c_[np.arange(5.0), np.full(5, 3.0)]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        z = Standardize().fit_transform(X)
    np.testing.assert_array_equal(z[:, 1], 0.0)
    assert np.all(np.isfinite(z))


@pytest.mark.parametrize("k", [None, 3])
def test_pca(correlated, k):
    train, val = correlated
    pca = PCA(n_components=k).fit(train)
    k_eff = k or 5
    ratio = pca.explained_variance_ratio
    assert ratio.shape == (k_eff,)
    assert np.all(ratio > 0) and np.all(np.diff(ratio) <= 0)       # sorted, largest first
    assert ratio.sum() <= 1.0 + 1e-12
    if k is None:
        assert ratio.sum() == pytest.approx(1.0)
    else:
        assert ratio.sum() < 1.0
    C = pca.components
    assert C.shape == (5, k_eff)
    np.testing.assert_allclose(C.T @ C, np.eye(k_eff), atol=1e-12)  # orthonormal directions
    z = pca.transform(train)
    cov = np.cov(z, rowvar=False)
    np.testing.assert_allclose(np.diag(cov), pca.eigvals[:k_eff], rtol=1e-10)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0.0, atol=1e-10)   # decorrelated
    np.testing.assert_allclose(pca.transform(val), (val - train.mean(axis=0)) @ C)
    # deterministic sign convention: the largest entry of each direction is positive
    assert np.all(C[np.abs(C).argmax(axis=0), range(k_eff)] > 0)


def test_pca_on_digits_explains_most_variance_in_few_components(digits):
    pca = PCA(n_components=10).fit(digits.X_train)
    ratio = pca.explained_variance_ratio
    assert 0.6 < ratio.sum() < 1.0 and np.all(np.diff(ratio) <= 0)
    assert pca.transform(digits.X_val).shape == (len(digits.X_val), 10)


def test_whitened_training_covariance_is_identity(correlated):
    train, val = correlated
    w = Whiten().fit(train)
    z = w.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    cov = np.cov(z, rowvar=False)
    np.testing.assert_allclose(cov, np.eye(5), atol=1e-3)
    # exactly: each direction's variance is lambda / (lambda + eps), a hair below 1
    np.testing.assert_allclose(cov, np.diag(w.eigvals / (w.eigvals + w.eps)), atol=1e-12)
    # validation data is transformed with the training statistics, so it is not exactly white
    zv = w.transform(val)
    expected = (val - train.mean(axis=0)) @ w.components / np.sqrt(w.eigvals + w.eps)
    np.testing.assert_allclose(zv, expected)
    assert np.abs(np.cov(zv, rowvar=False) - np.eye(5)).max() > 1e-3 or np.abs(zv.mean()) > 0.05


def test_whiten_with_fewer_components(correlated):
    train, _ = correlated
    z = Whiten(n_components=2).fit_transform(train)
    assert z.shape == (400, 2)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(2), atol=1e-3)


def test_whiten_does_not_blow_up_null_directions():
    # a feature that is an exact copy of another leaves a zero-variance direction
    X = np.random.default_rng(0).standard_normal((50, 2))
    X = np.c_[X, X[:, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Whiten(eps=1e-5).fit_transform(X)
    assert np.all(np.isfinite(z)) and np.abs(z).max() < 10
