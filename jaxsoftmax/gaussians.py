r"""The K-Gaussian classification problem of Dunne & Campbell (1997), section 4.1.

Classes C_1 … C_K with Gaussian class conditionals N(μ_k, Σ) sharing one covariance, and
priors π_k. The paper's problem: four classes with means at (±1, ±1), unit variances, 100
observations per class, independent training and test samples. Because the covariance is
shared, the exact posterior P(C_k | x) is a softmax of affine logits (the paper's eq. 3); it is
computed here through :mod:`jaxsoftmax.expfamily`.

Also here: the paper's accuracy measure eq. (4) and the class-conditional classification rates
of its Tables 3–6 (rows: the true class; columns: the class ascribed).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import expfamily
from ._checks import as_float_array

__all__ = [
    "GaussianProblem",
    "bayes_posterior",
    "confusion_rates",
    "paper_problem",
    "posterior_error",
    "sample",
]

# Classes 1–4 in the order of the paper's Tables 3–6: 1 and 4 are opposite (rate 0.0252), as
# are 2 and 3; every other pair are neighbours (0.1335).
PAPER_MEANS = ((1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0))


class GaussianProblem(NamedTuple):
    """K Gaussian classes sharing a covariance.

    means ``(K, p)``, cov ``(p, p)``, priors ``(K,)``.
    """

    means: jax.Array
    cov: jax.Array
    priors: jax.Array

    @property
    def n_classes(self) -> int:
        return self.means.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.means.shape[1]


def make_problem(means, cov=None, priors=None) -> GaussianProblem:
    """A validated :class:`GaussianProblem`; ``cov`` defaults to the identity, priors to equal.

    Raises ``ValueError`` for means that are not ``(K, p)`` with K ≥ 2, a covariance of the
    wrong shape or not symmetric positive definite, or priors that are not a distribution.
    """
    means = as_float_array(means, "means")
    if means.ndim != 2 or means.shape[0] < 2:
        raise ValueError(f"means must have shape (K, p) with K >= 2 classes, got {means.shape}")
    k, p = means.shape
    cov = jnp.eye(p, dtype=means.dtype) if cov is None else as_float_array(cov, "cov")
    priors = (
        jnp.full((k,), 1.0 / k, means.dtype) if priors is None else as_float_array(priors, "priors")
    )
    # expfamily checks symmetry, positive definiteness and the priors on concrete values.
    expfamily.gaussian_shared_covariance(cov)
    expfamily.posterior_logits(expfamily.gaussian_shared_covariance(cov), means, priors, means[:1])
    return GaussianProblem(means, cov.astype(means.dtype), priors.astype(means.dtype))


def paper_problem(dtype=jnp.float32) -> GaussianProblem:
    """The paper's four classes: means (±1, ±1), identity covariance, equal priors.

    A constant problem, built without :func:`make_problem`'s value checks (they compile small
    XLA programs: ~0.8 s of the main job); a test checks it equals ``make_problem`` of the same.
    """
    means = np.asarray(PAPER_MEANS, dtype)
    return GaussianProblem(jnp.asarray(means), jnp.eye(2, dtype=dtype), jnp.full((4,), 0.25, dtype))


def sample(key: jax.Array, problem: GaussianProblem, n_per_class: int):
    """Draws ``n_per_class`` observations from each class (the paper: 100 of each of four).

    Args:
      key: a PRNG key.
      problem: the classes.
      n_per_class: observations per class (static).

    Returns:
      ``(x, labels)``: inputs ``(K·n, p)`` and integer class labels ``(K·n,)`` in 0 … K−1,
      grouped by class. Pure: vmap over keys for independent trials.
    """
    if not isinstance(n_per_class, int) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
    k, p = problem.means.shape
    labels = jnp.repeat(jnp.arange(k), n_per_class)
    chol = jnp.linalg.cholesky(problem.cov)
    # One flat draw, reshaped: a 2-D threefry draw compiles about twice as slowly on XLA:CPU.
    noise = jax.random.normal(key, (k * n_per_class * p,), problem.means.dtype).reshape(-1, p)
    return problem.means[labels] + noise @ chol.T, labels


def bayes_posterior(problem: GaussianProblem, x: jax.typing.ArrayLike) -> jax.Array:
    """The exact P(C_k | x), ``(..., K)``: a softmax of affine logits (the paper's eq. 3).

    The problem's values were checked once by :func:`make_problem`, so they are not checked
    again here (each eager check compiles a small XLA program: ~0.7 s of the main job).
    """
    family = expfamily.GaussianSharedCovariance(problem.cov)  # the class: no checks
    return expfamily.posterior(family, problem.means, problem.priors, x, validate=False)


def posterior_error(
    estimate: jax.typing.ArrayLike, exact: jax.typing.ArrayLike, *, summed: bool = False
) -> jax.Array:
    r"""The paper's eq. (4) as approximated on a test sample of N points.

    .. math::
        \sqrt{\sum_{i=1}^{K} \frac{1}{N}\sum_{n=1}^{N}
              \big(\hat P(C_i \mid x_n) - P(C_i \mid x_n)\big)^2}

    With ``summed=True`` the 1/N is dropped (√N times larger): the scale of the paper's
    Table 2, whose values (~4) exceed what eq. (4) as printed can reach (at most √2, since
    Σ_i (p̂_i − p_i)² ≤ 2 for two distributions).

    Args:
      estimate: estimated posteriors ``(..., N, K)`` (logistic outputs are used as they are,
        without renormalising, as in the paper).
      exact: the exact posteriors, same shape.
      summed: sum over the N points instead of averaging.

    Returns:
      The error per leading batch index, shape ``(...)``.
    """
    estimate = as_float_array(estimate, "estimate")
    exact = as_float_array(exact, "exact")
    if estimate.shape != exact.shape or estimate.ndim < 2:
        raise ValueError(
            f"estimate and exact must both be (..., N, K), got {estimate.shape} and {exact.shape}"
        )
    sq = jnp.sum(jnp.square(estimate - exact), axis=-1)
    total = jnp.sum(sq, axis=-1) if summed else jnp.mean(sq, axis=-1)
    return jnp.sqrt(total)


def confusion_rates(predicted: jax.Array, labels: jax.Array, n_classes: int) -> jax.Array:
    """Class-conditional classification rates: row i, column j is P(ascribed j | true i).

    The layout of the paper's Tables 3–6 (true class down the side). Rows of classes absent
    from ``labels`` are NaN.

    Argument order differs from scikit-learn: here ``(predicted, labels)``, there
    ``confusion_matrix(y_true, y_pred)``; the layout is the same (rows: true class), so
    ``confusion_rates(p, y, K)`` equals ``confusion_matrix(y, p, normalize="true")``.

    Args:
      predicted: ascribed classes ``(..., N)`` (integers).
      labels: true classes ``(..., N)``.
      n_classes: K (static).

    Returns:
      ``(..., K, K)`` rates whose rows sum to one.
    """
    if predicted.shape != labels.shape:
        raise ValueError(
            f"predicted and labels must have the same shape, got "
            f"{predicted.shape} and {labels.shape}"
        )
    true = jax.nn.one_hot(labels, n_classes)
    pred = jax.nn.one_hot(predicted, n_classes)
    counts = jnp.einsum("...ni,...nj->...ij", true, pred)
    return counts / jnp.sum(counts, axis=-1, keepdims=True)


def analytic_paper_rates() -> np.ndarray:
    """Table 3 in closed form for the paper's problem: the Bayes rule splits the plane into
    quadrants, so P(ascribed j | true i) is a product of two normal tail probabilities:
    Φ(1)² on the diagonal, Φ(1)Φ(−1) between neighbours, Φ(−1)² between opposites."""
    from math import erf, sqrt

    phi = 0.5 * (1 + erf(1 / sqrt(2)))  # Φ(1)
    means = np.asarray(PAPER_MEANS)
    same = means[:, None, :] == means[None, :, :]  # per coordinate: same side?
    return np.prod(np.where(same, phi, 1 - phi), axis=-1)
