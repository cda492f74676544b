"""Issue 23, items 4-5: the definitions beyond the paper's nine (label smoothing, generalized
cross-entropy, Poly-1, the Taylor softmax, the per-unit focal loss, spherical × focal/GCE):
each derived for general q, and its Δ and Hessian checked against JAX autodiff."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsoftmax as js

NEW = [
    "softmax/label_smoothing(smoothing=0.1)",
    "softmax(beta=2)/gce(lam=0.7)",
    "softmax/poly1(poly=1)",
    "taylor/least_squares",
    "taylor/cross_entropy",
    "taylor/focal(gamma=2)",
    "taylor/label_smoothing(smoothing=0.1)",
    "taylor/gce(lam=0.7)",
    "taylor/poly1(poly=1)",
    "logistic/bernoulli_focal(gamma=2)",
    "spherical(epsilon=0.5)/focal(gamma=2)",
    "spherical(epsilon=0.5)/gce(lam=0.7)",
]


def test_at_least_24_definitions_and_the_paper_pairings_unchanged():
    assert len(js.list_definitions()) >= 24
    assert len({d.family for d in js.list_definitions()}) == len(js.list_definitions())
    assert len(js.list_pairings()) == 9


@pytest.mark.parametrize("name", NEW)
def test_a_new_definition_passes_the_check(name):
    report = js.check_pairing(js.get_pairing(name), qs=(3,), batch_shapes=((2,),))
    assert report.ok and len(report.rows) == 2 * 3 * 2  # dtype × targets × Δ/H


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_a_new_definition_passes_the_default_check(name):
    assert js.check_pairing(js.get_pairing(name)).ok  # q = 2..10, float32 and float64


def test_label_smoothing_is_cross_entropy_against_smoothed_targets():
    # An independent statement of Szegedy et al.'s loss: CE with (1 − ε)t + ε/q, through the
    # library's own softmax cross-entropy (the Σ t log t constant differs, not the gradient).
    p = js.get_pairing("softmax/label_smoothing(smoothing=0.1)")
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        z = jnp.asarray(rng.normal(size=(4, 7)))
        t = jnp.asarray(np.eye(7)[rng.integers(0, 7, 4)])
        smooth = 0.9 * t + 0.1 / 7
        ref = jax.grad(lambda a: jnp.sum(js.softmax_cross_entropy_from_logits(a, smooth)))(z)
        np.testing.assert_allclose(p.delta(z, t), ref, atol=1e-12)
        np.testing.assert_allclose(p.delta(z, t), js.softmax(z) - smooth, atol=1e-12)


def test_gce_tends_to_cross_entropy_and_poly1_adds_its_term():
    with jax.enable_x64(True):
        z = jnp.asarray([[0.3, -1.2, 2.0, 0.4]])
        t = jnp.asarray([[0.0, 0.0, 1.0, 0.0]])
        ce = js.get_pairing("softmax/cross_entropy").delta(z, t)
        small = js.get_pairing("softmax/gce(lam=0.0001)").delta(z, t)
        np.testing.assert_allclose(small, ce, atol=1e-3)
        p = js.softmax(z)
        # Poly-1: Δ = (z* − t) + ε₁ z*_c (z* − t) for one-hot t (Leng et al. 2022, eq. (3)).
        poly = js.get_pairing("softmax/poly1(poly=2)").delta(z, t)
        np.testing.assert_allclose(poly, (p - t) + 2 * p[:, 2:3] * (p - t), atol=1e-12)


def test_a_planted_wrong_delta_in_a_new_definition_is_caught():
    good = js.get_pairing("taylor/gce(lam=0.7)")
    bad = js.Pairing(
        "taylor", "gce_bad", good.activate, good.loss, lambda z, t: good.delta(z, t) * 1.001
    )
    report = js.check_pairing(bad, qs=(3,), batch_shapes=((2,),), raise_on_failure=False)
    assert not report.ok and "float64" in {r.dtype for r in report.failures}
