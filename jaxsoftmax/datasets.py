"""Real classification data: the data sets scikit-learn ships, and a user's CSV or NumPy file.

- :func:`load` ``(name)``: ``"iris"``, ``"wine"``, ``"breast_cancer"`` or ``"digits"``, read from
  the files inside the scikit-learn package (nothing is downloaded). scikit-learn is an optional
  dependency: ``pip install 'jaxsoftmax[data]'``.
- :func:`load_file` ``(path, label_column=-1)``: a ``.csv`` file (a header row optional), a
  ``.npy`` array with the labels in one column, or a ``.npz`` archive with arrays ``x`` and ``y``.
- :func:`trial_split` ``(key, x, y, n_test)``: one trial's train/test split from a JAX key (a
  uniformly random permutation: the first ``n_test`` points are the test split, the rest the
  training split), standardised with the training split's mean and standard deviation only.
  Pure and jittable (``n_test`` static), so trials are ``jax.vmap`` over keys; with
  ``stratify=True`` each class gives the test split its proportional share.

A real data set has no exact posterior: the paper's eq. (4) is unavailable for it, and a report
gives the scores of :mod:`jaxsoftmax.metrics` instead.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .expfamily._constraints import _is_tracer

__all__ = [
    "SKLEARN_DATASETS",
    "Dataset",
    "Split",
    "load",
    "load_file",
    "n_test_for",
    "split_indices",
    "standardize",
    "stratified_split_indices",
    "trial_split",
]

SKLEARN_DATASETS = ("iris", "wine", "breast_cancer", "digits")
"""The names :func:`load` accepts: scikit-learn's bundled ``load_<name>`` data sets."""


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled data set held in memory.

    Attributes:
      name: where it came from (the data set's name or the file's path).
      x: inputs, (N, p) float32, finite.
      y: class indices, (N,) int32 in 0 … K−1, every class present.
      feature_names: p names (``x0``, ``x1``, … when the source has none).
      class_names: K names, class k's original label.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_inputs(self) -> int:
        return self.x.shape[1]


def _sklearn_datasets():
    try:
        import sklearn.datasets as skd
    except ImportError:
        raise ImportError(
            "jaxsoftmax.datasets.load needs scikit-learn, whose package holds these data sets; "
            "install the optional extra: pip install 'jaxsoftmax[data]'"
        ) from None
    return skd


def load(name: str) -> Dataset:
    """One of scikit-learn's bundled data sets: ``iris`` (150 × 4, 3 classes), ``wine``
    (178 × 13, 3), ``breast_cancer`` (569 × 30, 2) or ``digits`` (1797 × 64, 10).

    Read from the files in the installed scikit-learn package; nothing is downloaded.

    Raises:
      ValueError: an unknown name (the known ones are listed).
      ImportError: scikit-learn is not installed (install ``jaxsoftmax[data]``).
    """
    if name not in SKLEARN_DATASETS:
        raise ValueError(f"load: unknown data set {name!r}; known: {list(SKLEARN_DATASETS)}")
    bunch = getattr(_sklearn_datasets(), f"load_{name}")()
    x = np.asarray(bunch.data, np.float32)
    names = getattr(bunch, "feature_names", None)
    features = (
        tuple(str(f) for f in names)
        if names is not None and len(names) == x.shape[1]
        else tuple(f"x{i}" for i in range(x.shape[1]))
    )
    classes = tuple(str(c) for c in bunch.target_names)
    return Dataset(name, x, np.asarray(bunch.target, np.int32), features, classes)


def _encode_labels(raw: np.ndarray, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels → indices 0 … K−1 in sorted order of the distinct labels; K >= 2 required.
    Numeric labels must be integers (e.g. 0/1 or 3.0, not 0.5)."""
    try:
        numeric = raw.astype(np.float64)
    except ValueError:
        numeric = None
    if numeric is not None:
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{where}: labels must be class names or integers; row {i} has label {raw[i]!r}"
            )
        values, y = np.unique(numeric.astype(np.int64), return_inverse=True)
        names = tuple(str(v) for v in values)
    else:
        values, y = np.unique(raw.astype(str), return_inverse=True)
        names = tuple(str(v) for v in values)
    if len(names) < 2:
        raise ValueError(
            f"{where}: at least 2 classes are needed, found {len(names)} ({list(names)})"
        )
    return y.astype(np.int32), names


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _column_index(label_column: int | str, header: list[str] | None, n_cols: int, where: str):
    if isinstance(label_column, str):
        if header is None:
            raise ValueError(
                f"{where}: label_column={label_column!r} names a column but the file has no "
                f"header row; give the column's index (0 … {n_cols - 1}, or -1 for the last)"
            )
        if label_column not in header:
            raise ValueError(f"{where}: no column named {label_column!r}; the columns are {header}")
        return header.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)):
        raise TypeError(
            f"{where}: label_column must be a column index or name, got {label_column!r}"
        )
    if not -n_cols <= label_column < n_cols:
        raise ValueError(
            f"{where}: label_column={label_column} is out of range for {n_cols} columns "
            f"(allowed: {-n_cols} … {n_cols - 1})"
        )
    return int(label_column) % n_cols


def _from_table(rows, header, label_column, where: str) -> Dataset:
    n_cols = len(header) if header is not None else len(rows[0])
    if n_cols < 2:
        raise ValueError(f"{where}: need at least 2 columns (features and labels), got {n_cols}")
    col = _column_index(label_column, header, n_cols, where)
    feats = [j for j in range(n_cols) if j != col]
    names = tuple(header[j] for j in feats) if header else tuple(f"x{i}" for i in range(len(feats)))
    x = np.empty((len(rows), len(feats)), np.float64)
    for i, row in enumerate(rows):
        for out, j in enumerate(feats):
            v = row[j]
            f = _float(v) if isinstance(v, str) else float(v)
            if f is None or not math.isfinite(f):
                raise ValueError(
                    f"{where}: row {i}, column {names[out]!r} has {v!r}; features must be "
                    "finite numbers"
                )
            x[i, out] = f
    labels = np.asarray([row[col] for row in rows])
    label_name = header[col] if header else f"column {col}"
    y, classes = _encode_labels(labels, f"{where}, label column {label_name!r}")
    return Dataset(where, x.astype(np.float32), y, names, classes)


def _read_csv(path: Path, label_column, where: str) -> Dataset:
    with path.open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{where}: the file is empty")
    rows = [[c.strip() for c in r] for r in rows]
    # The first row is a header when it has text where the second row has a number (labels
    # may be text in every row).
    header = (
        rows[0]
        if len(rows) > 1
        and any(_float(a) is None and _float(b) is not None for a, b in zip(rows[0], rows[1]))
        else None
    )
    body = rows[1:] if header else rows
    if not body:
        raise ValueError(f"{where}: no data rows after the header")
    width = len(rows[0])
    for i, r in enumerate(body):
        if len(r) != width:
            raise ValueError(
                f"{where}: data row {i} has {len(r)} fields, the first row has {width}"
            )
    # A header must name every column, even the label (its own column name).
    if header is not None and len(set(header)) != len(header):
        raise ValueError(f"{where}: the header has repeated column names: {header}")
    return _from_table(body, header, label_column, where)


def load_file(path: str | Path, *, label_column: int | str = -1) -> Dataset:
    """A data set from a ``.csv``, ``.npy`` or ``.npz`` file.

    - ``.csv``: comma-separated, one point per row; the first row is a header (column names)
      when it has text in a column whose second row holds a number. ``label_column`` (an
      index, negative from the end, or a header name) holds the class labels (names or
      integers); every other column is a feature and must hold finite numbers.
    - ``.npy``: a 2-D numeric array, one point per row, ``label_column`` an index.
    - ``.npz``: arrays ``x`` (N, p) and ``y`` (N,) (``label_column`` is not used).

    Labels are mapped to 0 … K−1 in sorted order of their distinct values (K >= 2).

    Raises:
      ValueError: the file is missing or of another kind, a column is unknown, a feature value
        is not a finite number, a row is ragged, fewer than 2 classes; each message names the
        file, and the row and column where one is at fault.
    """
    p = Path(path)
    where = f"load_file({str(p)!r})"
    if not p.is_file():
        raise ValueError(f"{where}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p, label_column, where)
    if suffix == ".npy":
        try:
            a = np.load(p, allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{where}: not a numeric .npy array ({err})") from None
        if a.ndim != 2 or not np.issubdtype(a.dtype, np.number):
            raise ValueError(
                f"{where}: a .npy file must hold a 2-D numeric array (points × columns), got "
                f"shape {a.shape} and dtype {a.dtype}"
            )
        return _from_table(list(a), None, label_column, where)
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise ValueError(
                    f"{where}: a .npz file must hold arrays 'x' (N, p) and 'y' (N,); missing "
                    f"{missing}, found {z.files}"
                )
            x, labels = np.asarray(z["x"]), np.asarray(z["y"])
        if x.ndim != 2 or labels.shape != (x.shape[0],):
            raise ValueError(
                f"{where}: x must be (N, p) and y (N,), got {x.shape} and {labels.shape}"
            )
        if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
            raise ValueError(f"{where}: x must hold finite numbers")
        y, classes = _encode_labels(labels, f"{where}, array 'y'")
        names = tuple(f"x{i}" for i in range(x.shape[1]))
        return Dataset(where, x.astype(np.float32), y, names, classes)
    raise ValueError(f"{where}: unknown file kind {suffix!r}; allowed: .csv, .npy, .npz")


class Split(NamedTuple):
    """One trial's data: standardised inputs and labels of each split, and the row indices
    into the data set that each split took (disjoint; together every row once)."""

    x_train: jax.Array
    y_train: jax.Array
    x_test: jax.Array
    y_test: jax.Array
    train_index: jax.Array
    test_index: jax.Array


def n_test_for(n: int, test_fraction: float) -> int:
    """The test split's size for ``n`` points: round(n · test_fraction), at least 1 and at
    most n − 1; ``test_fraction`` must be in (0, 1)."""
    f = float(test_fraction)
    if not math.isfinite(f) or not 0 < f < 1:
        raise ValueError(f"n_test_for: test_fraction must be in (0, 1), got {test_fraction!r}")
    if n < 2:
        raise ValueError(f"n_test_for: need at least 2 points to split, got n={n}")
    return min(max(round(n * f), 1), n - 1)


def split_indices(key: jax.Array, n: int, n_test: int) -> tuple[jax.Array, jax.Array]:
    """``(train_index, test_index)``: a uniformly random permutation of 0 … n−1 from ``key``,
    its first ``n_test`` entries the test split and the other n − n_test the training split.
    ``n`` and ``n_test`` are static ints with 1 <= n_test < n."""
    if not (isinstance(n_test, (int, np.integer)) and isinstance(n, (int, np.integer))):
        raise TypeError(f"split_indices: n and n_test must be ints, got {n!r} and {n_test!r}")
    if not 1 <= n_test < n:
        raise ValueError(f"split_indices: need 1 <= n_test < n, got n_test={n_test}, n={n}")
    perm = jax.random.permutation(key, n)
    return perm[n_test:], perm[:n_test]


def _stratified_counts(labels: np.ndarray, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class: its size c_k and its test count t_k, proportional to c_k with the largest
    remainders rounded up (Hamilton's method), summing to n_test."""
    counts = np.bincount(labels)
    share = counts * n_test / counts.sum()
    test = np.floor(share).astype(int)
    for k in np.argsort(-(share - test), kind="stable")[: n_test - test.sum()]:
        test[k] += 1
    return counts, test


def stratified_split_indices(
    key: jax.Array, labels: np.ndarray, n_test: int
) -> tuple[jax.Array, jax.Array]:
    """Like :func:`split_indices`, but each class gives the test split its share of
    ``n_test`` (proportional to the class's size, largest remainders), so small classes are
    not left out of a split by chance. ``labels`` must be concrete (the per-class counts fix
    the shapes); the key may be traced (vmap over keys). Within each split the order is random.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if not isinstance(n_test, (int, np.integer)) or not 1 <= n_test < n:
        raise ValueError(
            f"stratified_split_indices: need an int 1 <= n_test < n, got n_test={n_test!r}, n={n}"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(
            "stratified_split_indices: labels must be concrete non-negative integers (N,), got "
            f"shape {labels.shape} and dtype {labels.dtype}"
        )
    counts, test = _stratified_counts(labels, int(n_test))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    is_test = np.zeros(n, bool)
    for s0, t in zip(starts, test):
        is_test[s0 : s0 + t] = True
    k_order, k_train, k_test = jax.random.split(key, 3)
    # Random order within each class: sort by (label, uniform); then the first t_k of class k.
    u = jax.random.uniform(k_order, (n,))
    order = jnp.lexsort((u, jnp.asarray(labels)))
    test_idx = order[np.flatnonzero(is_test)]
    train_idx = order[np.flatnonzero(~is_test)]
    return jax.random.permutation(k_train, train_idx), jax.random.permutation(k_test, test_idx)


def standardize(x_train: jax.Array, x_test: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""Both splits centred and scaled by the *training* split's mean and standard deviation.

    .. math::
        z = (x - \bar x_{\mathrm{train}}) / s_{\mathrm{train}}, \qquad
        s_{\mathrm{train}} = \sqrt{\tfrac1n\textstyle\sum (x - \bar x_{\mathrm{train}})^2}

    (the z-score; as ``sklearn.preprocessing.StandardScaler`` fitted on the training split:
    ddof 0, and a feature constant on the training split is only centred, its scale set to 1).
    Fitting on the training split only keeps the test split unseen.
    """
    mean = jnp.mean(x_train, axis=0)
    std = jnp.std(x_train, axis=0)
    constant = jnp.max(x_train, axis=0) == jnp.min(x_train, axis=0)  # not std == 0: rounding
    scale = jnp.where(constant, 1, std)
    return (x_train - mean[None]) / scale[None], (x_test - mean[None]) / scale[None]


def trial_split(
    key: jax.Array,
    x: jax.typing.ArrayLike,
    y: jax.typing.ArrayLike,
    n_test: int,
    *,
    stratify: bool = False,
) -> Split:
    """One trial's :class:`Split` of ``(x, y)`` from ``key``: :func:`split_indices` (or, with
    ``stratify``, :func:`stratified_split_indices`, which needs ``y`` concrete), then
    :func:`standardize` fitted on the training split. Pure; ``jax.vmap`` over keys gives
    independent trials (each with its own split and its own standardisation)."""
    labels = y  # as given: a NumPy array stays concrete inside jit (jnp.asarray's would not)
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"trial_split: x must be (N, p) and y (N,), got {x.shape} and {y.shape}")
    if stratify:
        if _is_tracer(labels):
            raise ValueError(
                "trial_split: stratify=True needs concrete labels y (they fix the per-class "
                "shapes); close over y instead of passing it through jit/vmap"
            )
        train, test = stratified_split_indices(key, np.asarray(labels), n_test)
    else:
        train, test = split_indices(key, x.shape[0], n_test)
    x_train, x_test = standardize(x[train], x[test])
    return Split(x_train, y[train], x_test, y[test], train, test)
