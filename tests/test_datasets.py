"""Tests of jaxsoftmax.datasets: scikit-learn's bundled data sets, CSV/NumPy files with clear
errors, per-trial splits that are disjoint and cover the data, and standardisation fitted on the
training split only (against scikit-learn's StandardScaler)."""

from __future__ import annotations

import sys

import jax
import numpy as np
import pytest
import sklearn.datasets as skd
from sklearn.preprocessing import StandardScaler

from jaxsoftmax import datasets as D

SHAPES = {"iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2),
          "digits": (1797, 64, 10)}  # fmt: skip


@pytest.mark.parametrize("name", D.SKLEARN_DATASETS)
def test_the_bundled_data_sets_are_sklearns(name):
    data = D.load(name)
    n, p, k = SHAPES[name]
    assert data.x.shape == (n, p) and data.x.dtype == np.float32
    assert data.y.shape == (n,) and data.y.dtype == np.int32
    assert data.n_classes == k and data.n_inputs == p and len(data.feature_names) == p
    ref = getattr(skd, f"load_{name}")()
    np.testing.assert_array_equal(data.x, ref.data.astype(np.float32))
    np.testing.assert_array_equal(data.y, ref.target)
    assert data.class_names == tuple(str(c) for c in ref.target_names)


def test_a_clear_error_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'jaxsoftmax\[data\]'"):
        D.load("iris")
    with pytest.raises(ValueError, match=r"unknown data set 'mnist'; known: \['iris'"):
        D.load("mnist")


# --------------------------------------------------------------------------------------------
# Splits: disjoint, covering, per trial; standardisation from the training split only
# --------------------------------------------------------------------------------------------


def assert_disjoint_and_covering(split, n):
    train, test = np.asarray(split.train_index), np.asarray(split.test_index)
    assert len(np.unique(train)) == len(train) and len(np.unique(test)) == len(test)
    assert np.intersect1d(train, test).size == 0, "a point is in both the training and test split"
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
def test_trial_splits_are_disjoint_and_standardised_on_the_training_split(name):
    data = D.load(name)
    n = len(data.y)
    n_test = D.n_test_for(n, 0.3)
    keys = jax.random.split(jax.random.key(0), 4)
    splits = jax.vmap(lambda k: D.trial_split(k, data.x, data.y, n_test))(keys)
    for t in range(4):
        s = jax.tree.map(lambda a, t=t: a[t], splits)
        assert_disjoint_and_covering(s, n)
        assert s.x_test.shape == (n_test, data.n_inputs)
        train, test = np.asarray(s.train_index), np.asarray(s.test_index)
        np.testing.assert_array_equal(s.y_train, data.y[train])
        np.testing.assert_array_equal(s.y_test, data.y[test])
        scaler = StandardScaler().fit(data.x[train].astype(np.float64))
        np.testing.assert_allclose(s.x_train, scaler.transform(data.x[train]), atol=2e-5)
        np.testing.assert_allclose(s.x_test, scaler.transform(data.x[test]), atol=2e-5)
    # Trials differ: each key its own split.
    assert not np.array_equal(splits.test_index[0], splits.test_index[1])


@pytest.mark.parametrize(("name", "fraction"), [("iris", 0.3), ("digits", 0.25)])
def test_stratified_splits_give_each_class_its_share(name, fraction):
    data = D.load(name)
    n = len(data.y)
    n_test = D.n_test_for(n, fraction)
    keys = jax.random.split(jax.random.key(5), 3)
    splits = jax.vmap(lambda k: D.trial_split(k, data.x, data.y, n_test, stratify=True))(keys)
    counts = np.bincount(data.y)
    share = counts * n_test / n
    for t in range(3):
        s = jax.tree.map(lambda a, t=t: a[t], splits)
        assert_disjoint_and_covering(s, n)
        per_class = np.bincount(np.asarray(s.y_test), minlength=len(counts))
        assert per_class.sum() == n_test
        assert np.all(np.abs(per_class - share) < 1), (per_class, share)
        np.testing.assert_array_equal(s.y_test, data.y[np.asarray(s.test_index)])
    assert not np.array_equal(splits.test_index[0], splits.test_index[1])
    # Random order within the splits (not grouped by class).
    assert np.any(np.diff(np.asarray(splits.y_train[0])) < 0)
    with pytest.raises(ValueError, match="stratify=True needs concrete labels"):
        jax.jit(lambda y: D.trial_split(keys[0], data.x, y, n_test, stratify=True))(data.y)


def test_a_planted_overlap_fails_the_disjointness_check():
    data = D.load("iris")
    s = D.trial_split(jax.random.key(1), data.x, data.y, 45)
    overlapping = s._replace(train_index=np.concatenate([s.train_index, s.test_index[:1]]))
    with pytest.raises(AssertionError, match="in both the training and test split"):
        assert_disjoint_and_covering(overlapping, 150)


def test_a_feature_constant_on_the_training_split_is_centred_only():
    x = np.c_[np.arange(10.0), np.full(10, 3.0)].astype(np.float32)
    x[0, 1] = 7.0
    y = np.arange(10) % 2
    s = D.trial_split(jax.random.key(0), x, y, 3)
    if 0 in np.asarray(s.train_index):  # make the training split the constant part
        s = D.trial_split(jax.random.key(2), x, y, 3)
    assert 0 in np.asarray(s.test_index)
    # Not divided by a rounding-level standard deviation (float32's mean of 3s is not exact).
    np.testing.assert_allclose(s.x_train[:, 1], np.zeros(7, np.float32), atol=1e-6)
    np.testing.assert_allclose(s.x_test[np.asarray(s.test_index) == 0, 1], [4.0], rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(s.x_test)))


def test_bad_split_arguments():
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\), got 1.5"):
        D.n_test_for(100, 1.5)
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\), got nan"):
        D.n_test_for(100, float("nan"))
    assert D.n_test_for(150, 0.3) == 45 and D.n_test_for(3, 0.01) == 1
    with pytest.raises(ValueError, match="need 1 <= n_test < n, got n_test=10, n=10"):
        D.split_indices(jax.random.key(0), 10, 10)
    with pytest.raises(ValueError, match=r"x must be \(N, p\) and y \(N,\)"):
        D.trial_split(jax.random.key(0), np.ones((5, 2)), np.ones(4, int), 2)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_csv_with_a_header_and_text_labels(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,species,b\n1.0,cat,2\n3,dog,4.5\n5,cat,6\n")
    data = D.load_file(f, label_column="species")
    np.testing.assert_array_equal(data.x, np.array([[1, 2], [3, 4.5], [5, 6]], np.float32))
    np.testing.assert_array_equal(data.y, [0, 1, 0])
    assert data.class_names == ("cat", "dog") and data.feature_names == ("a", "b")
    # Without a header, text labels in the last column (the default).
    g = tmp_path / "e.csv"
    g.write_text("1,2,cat\n3,4,dog\n")
    data = D.load_file(g)
    assert data.feature_names == ("x0", "x1") and data.class_names == ("cat", "dog")
    np.testing.assert_array_equal(data.x, np.array([[1, 2], [3, 4]], np.float32))


def test_numpy_files(tmp_path):
    a = np.c_[np.random.default_rng(0).normal(size=(6, 3)), [2, 5, 2, 5, 9, 9]]
    np.save(tmp_path / "d.npy", a)
    data = D.load_file(tmp_path / "d.npy")
    np.testing.assert_array_equal(data.x, a[:, :3].astype(np.float32))
    np.testing.assert_array_equal(data.y, [0, 1, 0, 1, 2, 2])
    assert data.class_names == ("2", "5", "9")
    np.savez(tmp_path / "d.npz", x=a[:, :3], y=np.array(list("ababcc")))
    data = D.load_file(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.y, [0, 1, 0, 1, 2, 2])


@pytest.mark.parametrize(
    ("name", "text", "kwargs", "match"),
    [
        ("m.csv", None, {}, r"load_file\('.*m.csv'\): no such file"),
        ("e.csv", "", {}, "the file is empty"),
        ("h.csv", "a,b,y\n1,2,0\n3,x,1\n", {}, r"row 1, column 'b' has 'x'; features must be"),
        ("n.csv", "1,nan,0\n3,4,1\n", {}, r"row 0, column 'x1' has 'nan'"),
        ("r.csv", "1,2,0\n3,1\n", {}, "data row 1 has 2 fields, the first row has 3"),
        ("c.csv", "a,b,y\n1,2,0\n3,4,1\n", {"label_column": "z"}, r"no column named 'z'; the"),
        ("i.csv", "1,2,0\n3,4,1\n", {"label_column": 5}, r"label_column=5 is out of range"),
        ("s.csv", "1,2,0\n3,4,1\n", {"label_column": "y"}, "has no header row"),
        ("o.csv", "1,2,0\n3,4,0\n", {}, "at least 2 classes are needed, found 1"),
        ("f.csv", "1,2,0.5\n3,4,1\n", {}, r"labels must be class names or integers; row 0"),
        ("t.txt", "1,2,0\n", {}, r"unknown file kind '.txt'; allowed: .csv, .npy, .npz"),
    ],
)
def test_bad_files_are_refused_naming_file_and_column(tmp_path, name, text, kwargs, match):
    f = tmp_path / name
    if text is not None:
        f.write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        D.load_file(f, **kwargs)
    assert name in str(err.value)


def test_bad_numpy_files(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(4.0))
    with pytest.raises(ValueError, match=r"2-D numeric array .* shape \(4,\)"):
        D.load_file(tmp_path / "v.npy")
    np.savez(tmp_path / "z.npz", a=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"missing \['x', 'y'\], found \['a'\]"):
        D.load_file(tmp_path / "z.npz")
