"""Data: real handwritten digits, synthetic 2-D sets, splits, and preprocessing fitted on train.

Nothing is downloaded: the digits ship inside scikit-learn, the rest is generated.
Introduced in notebooks/00_foundations.ipynb.
"""
from dataclasses import dataclass

import numpy as np

from .rng import get_rng, make_rng


@dataclass
class Split:
    """A train/validation/test split. Unpacks as (X_train, y_train, X_val, y_val, X_test, y_test)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __iter__(self):
        return iter((self.X_train, self.y_train, self.X_val, self.y_val, self.X_test, self.y_test))

    def __repr__(self):
        return (f"Split(train={self.X_train.shape}, val={self.X_val.shape}, "
                f"test={self.X_test.shape}, classes={len(np.unique(self.y_train))})")


def train_val_test_split(X, y, val=0.2, test=0.2, rng=None):
    """Shuffle once with ``rng`` and cut into train / validation / test by the given fractions."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_test_split: X has {len(X)} rows but y has {len(y)}")
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"train_val_test_split: need val, test >= 0 and val + test < 1, "
                         f"got val={val}, test={test}")
    n = len(X)
    order = get_rng(rng).permutation(n)
    n_test, n_val = int(round(test * n)), int(round(val * n))
    te, va, tr = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return Split(X[tr], y[tr], X[va], y[va], X[te], y[te])


def load_digits(val=0.2, test=0.2, rng=None, scale=True):
    """The 1,797 8x8 handwritten digits (UCI, shipped with scikit-learn), 10 classes.

    Pixels are 0..16; with ``scale`` they are divided by 16 into [0, 1]. The split is seeded:
    by default from COURSE_SEED (``make_rng(0)``, the seed 0 under COURSE_SEED=0), so every
    notebook of one run sees the same examples and another COURSE_SEED gives another split.
    Shapes: X (N, 64), y (N,).
    """
    from sklearn.datasets import load_digits as _sk_digits

    d = _sk_digits()
    X = d.data.astype(np.float64)
    if scale:
        X /= 16.0
    return train_val_test_split(X, d.target.astype(np.int64), val, test,
                                make_rng(0) if rng is None else rng)


def corrupt_labels(y, fraction, num_classes=10, rng=None):
    """A copy of ``y`` in which each label, with probability ``fraction``, is replaced by a
    uniformly random class (sometimes the right one by chance): label noise, for experiments
    on overfitting. Shapes: y (N,) -> (N,).
    Introduced in notebooks/05_dropout.ipynb.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"corrupt_labels: fraction must be in [0, 1], got {fraction!r}")
    y = np.array(y, copy=True)
    g = get_rng(rng)
    replace = g.random(len(y)) < fraction
    y[replace] = g.integers(0, num_classes, replace.sum())
    return y


def make_spirals(n_per_class=100, n_classes=3, noise=0.2, rng=None):
    """Interleaved spiral arms, one per class: not linearly separable (CS231n's classic toy set).

    Shapes: X (n_per_class * n_classes, 2), y integers in [0, n_classes).
    """
    rng = get_rng(rng)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * rng.standard_normal(n_per_class)
        X.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


def make_moons(n=200, noise=0.1, rng=None):
    """Two interleaving half circles. Shapes: X (n, 2), y in {0, 1}."""
    rng = get_rng(rng)
    n0 = n // 2
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n - n0)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]]
    X += noise * rng.standard_normal(X.shape)
    y = np.r_[np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)]
    return X, y


def make_circles(n=200, noise=0.05, factor=0.5, rng=None):
    """A small circle inside a large one (radius ``factor`` vs 1). Shapes: X (n, 2), y in {0, 1}."""
    rng = get_rng(rng)
    n0 = n // 2
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n - n0, endpoint=False)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]]
    X += noise * rng.standard_normal(X.shape)
    y = np.r_[np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)]
    return X, y


class Preprocessor:
    """fit on the TRAINING set only, then transform train, validation and test alike."""

    fitted = False

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"{type(self).__name__}.fit expects X of shape (N, D), got {X.shape}")
        self._fit(X)
        self.fitted = True
        self.n_features = X.shape[1]
        return self

    def transform(self, X):
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__}.transform called before fit: fit it on the "
                               f"training set first")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"{type(self).__name__} was fitted on {self.n_features} features, "
                             f"got X of shape {X.shape}")
        return self._transform(X)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def __repr__(self):
        return f"{type(self).__name__}({'fitted' if self.fitted else 'not fitted'})"


class Center(Preprocessor):
    """Subtract the training mean of each feature (for images: the mean image)."""

    def _fit(self, X):
        self.mean = X.mean(axis=0)

    def _transform(self, X):
        return X - self.mean


class Standardize(Preprocessor):
    """(x - mean) / std per feature, with training statistics; constant features keep std 1."""

    def __init__(self, eps=1e-8):
        self.eps = eps

    def _fit(self, X):
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > self.eps, std, 1.0)

    def _transform(self, X):
        return (X - self.mean) / self.std


class PCA(Preprocessor):
    """Project centred data on the top ``n_components`` eigenvectors of the training covariance.

    ``explained_variance_ratio`` holds each component's share of the total variance.
    """

    def __init__(self, n_components=None):
        self.n_components = n_components

    def _fit(self, X):
        self.mean = X.mean(axis=0)
        cov = np.cov(X - self.mean, rowvar=False)
        eigvals, eigvecs = np.linalg.eigh(cov)
        order = np.argsort(eigvals)[::-1]
        k = self.n_components or X.shape[1]
        self.eigvals = np.maximum(eigvals[order], 0.0)
        self.components = eigvecs[:, order[:k]]
        # fix each eigenvector's sign so results do not depend on the LAPACK build
        signs = np.sign(self.components[np.abs(self.components).argmax(axis=0), range(k)])
        self.components *= signs
        self.explained_variance_ratio = self.eigvals[:k] / self.eigvals.sum()

    def _transform(self, X):
        return (X - self.mean) @ self.components


class Whiten(PCA):
    """PCA whitening: rotate onto the eigenbasis and divide by sqrt(eigenvalue + eps).

    The whitened training data has (nearly) identity covariance; eps keeps near-zero
    directions (noise) from being blown up.
    """

    def __init__(self, n_components=None, eps=1e-5):
        super().__init__(n_components)
        self.eps = eps

    def _transform(self, X):
        k = self.components.shape[1]
        return super()._transform(X) / np.sqrt(self.eigvals[:k] + self.eps)
