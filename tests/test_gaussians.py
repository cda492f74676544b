"""Tests of jaxsoftmax.gaussians: sampling, the exact posterior, eq. (4) by hand, the
class-conditional rates, and Table 3 to four decimals."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxsoftmax import gaussians


def test_sample_shapes_balance_and_moments():
    problem = gaussians.paper_problem()
    x, y = gaussians.sample(jax.random.key(0), problem, 2000)
    assert x.shape == (8000, 2) and y.shape == (8000,)
    np.testing.assert_array_equal(np.bincount(np.asarray(y)), [2000] * 4)
    for k in range(4):
        xk = np.asarray(x[y == k])
        np.testing.assert_allclose(xk.mean(0), gaussians.PAPER_MEANS[k], atol=0.07)
        np.testing.assert_allclose(np.cov(xk.T), np.eye(2), atol=0.08)


def test_sample_uses_the_covariance():
    cov = jnp.array([[2.0, 0.8], [0.8, 1.0]])
    problem = gaussians.make_problem(jnp.zeros((2, 2)), cov)
    x, _ = gaussians.sample(jax.random.key(1), problem, 20000)
    np.testing.assert_allclose(np.cov(np.asarray(x).T), cov, atol=0.05)


def test_bayes_posterior_is_bayes_rule():
    problem = gaussians.make_problem(
        jnp.array([[1.0, 1.0], [-1.0, 0.5], [0.0, -1.0]]),
        jnp.array([[1.0, 0.3], [0.3, 0.7]]),
        jnp.array([0.5, 0.3, 0.2]),
    )
    x = jax.random.normal(jax.random.key(2), (50, 2))
    dens = np.stack(
        [
            stats.multivariate_normal(np.asarray(m), np.asarray(problem.cov)).pdf(x)
            for m in problem.means
        ],
        -1,
    ) * np.asarray(problem.priors)
    np.testing.assert_allclose(
        gaussians.bayes_posterior(problem, x),
        dens / dens.sum(-1, keepdims=True),
        rtol=1e-4,
        atol=1e-6,
    )


def test_posterior_error_by_hand():
    estimate = jnp.array([[[0.5, 0.5], [1.0, 0.0]]])
    exact = jnp.array([[[1.0, 0.0], [1.0, 0.0]]])
    # Squared differences: point 1: 0.25 + 0.25 = 0.5, point 2: 0. Mean 0.25, sum 0.5.
    np.testing.assert_allclose(gaussians.posterior_error(estimate, exact), [0.5])
    np.testing.assert_allclose(
        gaussians.posterior_error(estimate, exact, summed=True), [np.sqrt(0.5)]
    )
    worst = gaussians.posterior_error(jnp.array([[[0.0, 1.0]]]), jnp.array([[[1.0, 0.0]]]))
    np.testing.assert_allclose(worst, [np.sqrt(2.0)])  # the largest eq. (4) can be
    with pytest.raises(ValueError, match=r"must both be \(\.\.\., N, K\)"):
        gaussians.posterior_error(jnp.ones((3, 2)), jnp.ones((3, 3)))


def test_confusion_rates_rows_are_true_classes():
    labels = jnp.array([0, 0, 0, 0, 1, 1])
    predicted = jnp.array([0, 0, 1, 2, 1, 1])
    rates = gaussians.confusion_rates(predicted, labels, 3)
    np.testing.assert_allclose(rates[0], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(rates[1], [0.0, 1.0, 0.0])
    assert np.isnan(rates[2]).all()  # class 2 never occurs


def test_table_3_to_four_decimals():
    paper = np.array(
        [
            [0.7079, 0.1335, 0.1335, 0.0252],
            [0.1335, 0.7079, 0.0252, 0.1335],
            [0.1335, 0.0252, 0.7079, 0.1335],
            [0.0252, 0.1335, 0.1335, 0.7079],
        ]
    )
    np.testing.assert_array_equal(np.round(gaussians.analytic_paper_rates(), 4), paper)
    # And from the model itself: the Bayes rule's empirical rates on a large sample.
    problem = gaussians.paper_problem()
    x, y = gaussians.sample(jax.random.key(3), problem, 100_000)
    predicted = jnp.argmax(gaussians.bayes_posterior(problem, x), -1)
    rates = np.asarray(gaussians.confusion_rates(predicted, y, 4))
    se = np.sqrt(paper * (1 - paper) / 100_000)
    assert np.all(np.abs(rates - paper) < 4 * se + 5e-5)


def test_make_problem_bad_input():
    with pytest.raises(ValueError, match=r"means must have shape \(K, p\)"):
        gaussians.make_problem(jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match="positive definite"):
        gaussians.make_problem(jnp.zeros((2, 2)), jnp.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="summing to one"):
        gaussians.make_problem(jnp.zeros((2, 2)), priors=jnp.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="n_per_class must be a positive int"):
        gaussians.sample(jax.random.key(0), gaussians.paper_problem(), 0)


def test_paper_problem_is_the_validated_problem():
    # paper_problem skips make_problem's eager checks (speed); it must be the same problem.
    checked = gaussians.make_problem(jnp.asarray(gaussians.PAPER_MEANS))
    for a, b in zip(gaussians.paper_problem(), checked):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_confusion_rates_argument_order_differs_from_scikit_learn():
    # Ours: (predicted, labels); scikit-learn: (y_true, y_pred). Same layout: rows = true.
    from sklearn.metrics import confusion_matrix

    labels = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    predicted = np.array([0, 1, 1, 1, 0, 2, 2, 2])
    ours = np.asarray(gaussians.confusion_rates(jnp.asarray(predicted), jnp.asarray(labels), 3))
    np.testing.assert_allclose(ours, confusion_matrix(labels, predicted, normalize="true"))
    assert not np.allclose(ours, confusion_matrix(predicted, labels, normalize="true"))
