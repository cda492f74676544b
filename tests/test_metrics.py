"""Tests of jaxsoftmax.metrics against scikit-learn and independent NumPy computations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss

from jaxsoftmax import gaussians, metrics
from jaxsoftmax import problems as P

F32 = np.float32


def _probs(seed, n=500, k=4, temperature=1.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) / temperature
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])  # draws from p: roughly calibrated
    return p.astype(F32), y.astype(np.int32)


def _numpy_ece(p, y, n_bins):
    """ECE with a plain loop over the bins (m/M, (m+1)/M] (confidence 0 in the first)."""
    conf, pred = p.max(-1).astype(np.float64), p.argmax(-1)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for m in range(n_bins):
        inside = (conf > edges[m]) & (conf <= edges[m + 1])
        if m == 0:
            inside |= conf == 0
        if inside.any():
            total += inside.mean() * abs((pred[inside] == y[inside]).mean() - conf[inside].mean())
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_loss_and_brier_match_sklearn(seed):
    p, y = _probs(seed)
    np.testing.assert_allclose(
        metrics.log_loss(p, y), sk_log_loss(y, p, labels=range(4)), rtol=1e-5
    )
    # Multiclass: sklearn's brier_score_loss is the same sum over classes.
    np.testing.assert_allclose(
        metrics.brier_score(p, y), brier_score_loss(y, p, labels=range(4)), rtol=1e-5
    )
    np.testing.assert_allclose(metrics.error_rate(p, y), np.mean(p.argmax(-1) != y), rtol=1e-6)


def test_binary_brier_is_twice_sklearns():
    p, y = _probs(3, k=2)
    ours = metrics.brier_score(p, y)
    np.testing.assert_allclose(ours, 2 * brier_score_loss(y, p[:, 1]), rtol=1e-5)


def test_log_loss_does_not_renormalise_and_clips_at_eps():
    # Unnormalised rows (a logistic estimator's outputs): -mean log p_y, not sklearn's.
    p = np.array([[0.5, 0.5], [0.2, 0.1], [0.0, 1.0]], F32)
    y = np.array([0, 1, 0], np.int32)
    eps = np.finfo(F32).eps
    expected = -np.mean(np.log([0.5, 0.1, eps]))
    np.testing.assert_allclose(metrics.log_loss(p, y), expected, rtol=1e-6)
    assert not np.isclose(expected, sk_log_loss(y, p / p.sum(-1, keepdims=True)))


@pytest.mark.parametrize(("seed", "n_bins", "temperature"), [(0, 15, 1.0), (1, 10, 0.3), (2, 7, 3)])
def test_ece_matches_a_numpy_loop(seed, n_bins, temperature):
    p, y = _probs(seed, temperature=temperature)
    np.testing.assert_allclose(
        metrics.expected_calibration_error(p, y, n_bins), _numpy_ece(p, y, n_bins), atol=1e-6
    )


def test_ece_by_hand():
    # Two bins of M = 10: confidences 0.95, 0.95 (one right) and 0.65 (right), N = 3.
    p = np.array([[0.95, 0.05], [0.05, 0.95], [0.35, 0.65]], F32)
    y = np.array([0, 0, 1], np.int32)
    # bin (0.9, 1]: acc 1/2, conf 0.95 -> 2/3 * 0.45;
    # bin (0.6, 0.7]: acc 1, conf 0.65 -> 1/3 * 0.35.
    expected = 2 / 3 * 0.45 + 1 / 3 * 0.35
    np.testing.assert_allclose(metrics.expected_calibration_error(p, y, 10), expected, rtol=1e-6)
    assert metrics.DEFAULT_BINS == 15


@pytest.mark.parametrize("seed", [0, 4])
def test_reliability_diagram_matches_sklearns_calibration_curve(seed):
    p, y = _probs(seed, n=2000, k=3)
    rel = metrics.reliability_diagram(p, y)
    conf = p.max(-1)
    right = (p.argmax(-1) == y).astype(int)
    frac_right, mean_conf = calibration_curve(right, conf, n_bins=15, strategy="uniform")
    filled = np.asarray(rel.counts) > 0
    np.testing.assert_allclose(np.asarray(rel.accuracy)[filled], frac_right, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(rel.confidence)[filled], mean_conf, rtol=1e-5)
    assert np.all(np.isnan(np.asarray(rel.accuracy)[~filled]))
    assert int(rel.counts.sum()) == 2000 and rel.edges.shape == (16,)
    # ECE from the diagram's data.
    w = np.asarray(rel.counts)[filled] / 2000
    np.testing.assert_allclose(
        metrics.expected_calibration_error(p, y),
        np.sum(w * np.abs(frac_right - mean_conf)),
        atol=1e-6,
    )


def test_exact_posteriors_are_calibrated_and_batched():
    # The exact posterior of a simulated problem is calibrated: small ECE on a large sample;
    # scores are batched over leading axes (trials) and jittable.
    problem = P.paper()
    keys = jax.random.split(jax.random.key(0), 3)
    x, y = jax.vmap(lambda k: P.sample(k, problem, 2500))(keys)
    exact = P.posterior(problem, x)
    s = jax.jit(metrics.scores)(exact, y, exact)
    assert set(s) == {"error_rate", "log_loss", "brier", "ece", "eq4"}
    assert s["ece"].shape == (3,) and np.all(np.asarray(s["ece"]) < 0.02)
    np.testing.assert_array_equal(s["eq4"], np.zeros(3, F32))
    # The paper's Bayes error: 1 - Φ(1)² ≈ 0.2921.
    np.testing.assert_allclose(
        s["error_rate"], 1 - gaussians.analytic_paper_rates()[0, 0], atol=0.02
    )
    for name, fn in [("log_loss", metrics.log_loss), ("brier", metrics.brier_score)]:
        np.testing.assert_allclose(s[name][1], fn(exact[1], y[1]), rtol=1e-6)
    assert "eq4" not in metrics.scores(exact, y)
    # A flattened (over-confident) version is worse calibrated.
    sharp = jax.nn.softmax(3 * jnp.log(exact))
    assert np.all(metrics.expected_calibration_error(sharp, y) > 5 * s["ece"])


def test_bad_input_is_refused():
    p, y = _probs(0, n=10)
    with pytest.raises(ValueError, match=r"probs must have shape \(..., N, K\) and labels"):
        metrics.log_loss(p, y[:5])
    with pytest.raises(TypeError, match="labels must be integer"):
        metrics.brier_score(p, y.astype(F32))
    with pytest.raises(ValueError, match="n_bins must be an int >= 1, got 0"):
        metrics.expected_calibration_error(p, y, 0)
    with pytest.raises(ValueError, match="n_bins must be an int >= 1"):
        metrics.reliability_diagram(p, y, 2.5)


def test_bins_are_right_closed():
    # Confidence exactly 0.5 (exact in float32) with M = 10 lies in (0.4, 0.5], bin 4; 1.0 in
    # the last bin.
    p = np.array([[0.5, 0.5], [1.0, 0.0], [0.55, 0.45]], F32)
    y = np.array([0, 0, 1], np.int32)
    counts = np.asarray(metrics.reliability_diagram(p, y, 10).counts)
    np.testing.assert_array_equal(np.nonzero(counts)[0], [4, 5, 9])
