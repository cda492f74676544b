r"""Scores of estimated class probabilities that need no exact posterior: error rate, log-loss,
Brier score, expected calibration error (ECE) and the reliability diagram's data.

Every function takes estimated probabilities ``probs`` of shape (..., N, K) and integer labels
``labels`` of shape (..., N) in 0 … K−1, and returns one value per leading batch index (so a
stack of trials is scored at once); all are pure, jittable and vmappable. The rows of
``probs`` are used as given, *not renormalised*: the paper's logistic outputs need not sum to
one, and renormalising would score a different estimator. Where the exact posterior is known,
:func:`jaxsoftmax.gaussians.posterior_error` (the paper's eq. 4) is the complementary measure;
:func:`scores` gives all of them at once.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._checks import as_float_array

__all__ = [
    "DEFAULT_BINS",
    "Reliability",
    "brier_score",
    "error_rate",
    "expected_calibration_error",
    "log_loss",
    "reliability_diagram",
    "scores",
]

DEFAULT_BINS = 15
"""The number of equal-width confidence bins of :func:`expected_calibration_error` (as Guo et
al. 2017 and most calibration papers since)."""


def _check(probs, labels, fn: str) -> tuple[jax.Array, jax.Array]:
    probs = as_float_array(probs, "probs")
    labels = jnp.asarray(labels)
    if probs.ndim < 2 or labels.shape != probs.shape[:-1]:
        raise ValueError(
            f"{fn}: probs must have shape (..., N, K) and labels (..., N); got probs with shape "
            f"{probs.shape} and labels with shape {labels.shape}"
        )
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(
            f"{fn}: labels must be integer class indices in 0 … K−1, got dtype {labels.dtype}"
        )
    return probs, labels


def _true_class_prob(probs, labels):
    return jnp.take_along_axis(probs, labels[..., None], axis=-1)[..., 0]


def error_rate(probs: jax.typing.ArrayLike, labels: jax.typing.ArrayLike) -> jax.Array:
    """The fraction of points whose most probable class (first on ties) is not the label."""
    probs, labels = _check(probs, labels, "error_rate")
    return jnp.mean(jnp.argmax(probs, axis=-1) != labels, axis=-1)


def log_loss(probs: jax.typing.ArrayLike, labels: jax.typing.ArrayLike) -> jax.Array:
    r"""The mean negative log-probability of the true class (the cross-entropy, in nats).

    .. math::
        L = -\frac1N \sum_{n=1}^N \log \max\big(\hat P(C_{y_n} \mid x_n), \epsilon\big)

    with ε the machine epsilon of the dtype (so a zero probability costs about 36.04 nats in
    float32, not ∞). Like ``sklearn.metrics.log_loss`` (which clips to [ε, 1 − ε]) except that
    the rows are not renormalised to sum to one (sklearn renormalises them) and only the true
    class's probability enters. Source: the multiclass cross-entropy, Bishop (2006), *Pattern
    Recognition and Machine Learning*, eq. 4.108.
    """
    probs, labels = _check(probs, labels, "log_loss")
    eps = jnp.finfo(probs.dtype).eps
    return -jnp.mean(jnp.log(jnp.maximum(_true_class_prob(probs, labels), eps)), axis=-1)


def brier_score(probs: jax.typing.ArrayLike, labels: jax.typing.ArrayLike) -> jax.Array:
    r"""The multiclass Brier score: the mean squared distance to the one-hot label, summed
    over the K classes (Brier 1950, *Monthly Weather Review* 78(1), eq. 1).

    .. math::
        B = \frac1N \sum_{n=1}^N \sum_{k=1}^K \big(\hat P(C_k \mid x_n) - [y_n = k]\big)^2
        \in [0, 2]

    Differs from ``sklearn.metrics.brier_score_loss`` for two classes: sklearn scores only the
    positive class's probability, (p̂ − y)², half of this sum (its ``scale_by_half``); for more
    than two classes they agree.
    """
    probs, labels = _check(probs, labels, "brier_score")
    onehot = jax.nn.one_hot(labels, probs.shape[-1], dtype=probs.dtype)
    return jnp.mean(jnp.sum(jnp.square(probs - onehot), axis=-1), axis=-1)


class Reliability(NamedTuple):
    """The data of a reliability diagram (top-label confidence), per equal-width bin.

    Attributes:
      edges: (n_bins + 1,) bin edges 0, 1/M, …, 1; bin m is (edges[m], edges[m + 1]], the
        first bin also holding confidence 0.
      counts: (..., n_bins) points per bin.
      confidence: (..., n_bins) mean top-label confidence of the bin's points (NaN if empty).
      accuracy: (..., n_bins) fraction of the bin's points whose top label is right (NaN if
        empty).
    """

    edges: jax.Array
    counts: jax.Array
    confidence: jax.Array
    accuracy: jax.Array


def _binned(probs, labels, n_bins):
    conf = jnp.max(probs, axis=-1)
    right = (jnp.argmax(probs, axis=-1) == labels).astype(probs.dtype)
    # bin m holds (m/M, (m+1)/M]: ceil(c·M) − 1, confidence 0 in bin 0, above 1 in the last.
    idx = jnp.clip(jnp.ceil(conf * n_bins).astype(jnp.int32) - 1, 0, n_bins - 1)
    member = jax.nn.one_hot(idx, n_bins, dtype=probs.dtype)  # (..., N, M)
    counts = jnp.sum(member, axis=-2)
    conf_sum = jnp.einsum("...n,...nm->...m", conf, member)
    right_sum = jnp.einsum("...n,...nm->...m", right, member)
    return counts, conf_sum, right_sum


def _bins(n_bins, fn: str) -> int:
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"{fn}: n_bins must be an int >= 1, got {n_bins!r}")
    return n_bins


def reliability_diagram(
    probs: jax.typing.ArrayLike, labels: jax.typing.ArrayLike, n_bins: int = DEFAULT_BINS
) -> Reliability:
    """Per-bin counts, mean confidence and accuracy of the top label (Guo et al. 2017, "On
    calibration of modern neural networks", ICML, section 2: the reliability diagram).

    Binning: ``n_bins`` equal-width bins of the top-label confidence max_k P̂(C_k | x) on
    [0, 1], right-closed, (m/M, (m+1)/M]; see :class:`Reliability`.
    """
    probs, labels = _check(probs, labels, "reliability_diagram")
    n_bins = _bins(n_bins, "reliability_diagram")
    counts, conf_sum, right_sum = _binned(probs, labels, n_bins)
    safe = jnp.where(counts > 0, counts, 1)
    nan = jnp.asarray(jnp.nan, probs.dtype)
    return Reliability(
        jnp.linspace(0, 1, n_bins + 1, dtype=probs.dtype),
        counts,
        jnp.where(counts > 0, conf_sum / safe, nan),
        jnp.where(counts > 0, right_sum / safe, nan),
    )


def expected_calibration_error(
    probs: jax.typing.ArrayLike, labels: jax.typing.ArrayLike, n_bins: int = DEFAULT_BINS
) -> jax.Array:
    r"""The expected calibration error of the top label, with equal-width bins.

    .. math::
        \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}\,
        \big|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\big|

    (Guo et al. 2017, eq. 3; Naeini, Cooper & Hauskrecht 2015.) Binning: M = ``n_bins`` (15
    by default) equal-width bins of the top-label confidence max_k P̂(C_k | x) on [0, 1],
    right-closed, B_m = {n : conf_n ∈ ((m−1)/M, m/M]}; empty bins contribute nothing. The
    top label is the first argmax on ties. In [0, 1].
    """
    probs, labels = _check(probs, labels, "expected_calibration_error")
    n_bins = _bins(n_bins, "expected_calibration_error")
    _, conf_sum, right_sum = _binned(probs, labels, n_bins)
    return jnp.sum(jnp.abs(right_sum - conf_sum), axis=-1) / probs.shape[-2]


def scores(
    probs: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    exact: jax.typing.ArrayLike | None = None,
    *,
    n_bins: int = DEFAULT_BINS,
) -> dict[str, jax.Array]:
    """Every score at once, for a results file: ``error_rate``, ``log_loss``, ``brier``,
    ``ece`` (``n_bins`` equal-width bins) and, when the exact posterior ``exact`` (same shape as
    ``probs``) is given, ``eq4`` (:func:`jaxsoftmax.gaussians.posterior_error`, the paper's
    eq. 4). Without ``exact`` there is no ``eq4`` key: it is unavailable, not zero."""
    from .gaussians import posterior_error

    out = {
        "error_rate": error_rate(probs, labels),
        "log_loss": log_loss(probs, labels),
        "brier": brier_score(probs, labels),
        "ece": expected_calibration_error(probs, labels, n_bins),
    }
    if exact is not None:
        out["eq4"] = posterior_error(probs, exact)
    return out
