"""Tests of jaxsoftmax.pairings: every closed-form Δ_k against jax.grad of its loss, for
q = 2 … 10 and three kinds of targets; the natural-pairing claims; the registry."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsoftmax as js
from jaxsoftmax.pairings import Pairing

PAIRINGS = js.list_pairings()
BATCH = 8


def make_logits(key, pairing, q):
    z = 2.0 * jax.random.normal(key, (BATCH, q))
    if pairing.activation == "linear" and pairing.penalty == "cross_entropy":
        return jnp.abs(z) + 0.5  # ρ_c needs positive outputs
    if pairing.activation == "l1":
        return jnp.sign(z) * (jnp.abs(z) + 0.2)  # |z| has a kink at 0
    return z


def make_targets(key, kind, q):
    if kind == "one-hot":
        return jax.nn.one_hot(jax.random.randint(key, (BATCH,), 0, q), q)
    if kind == "soft":
        return js.softmax(jax.random.normal(key, (BATCH, q)))
    # Soft targets that do not sum to one (the paper's ρ_c does not require it).
    return jax.random.uniform(key, (BATCH, q))


@pytest.mark.parametrize("pairing", PAIRINGS, ids=lambda p: p.name)
def test_closed_form_delta_matches_jax_grad(pairing):
    # One compiled program per q computes both routes; the target kinds share it.
    both = jax.jit(lambda z, t: (pairing.delta(z, t), js.autodiff_delta(pairing, z, t)))
    key = jax.random.key(0)
    for q in range(2, 11):
        key, kz = jax.random.split(key)
        z = make_logits(kz, pairing, q)
        for kind in ("one-hot", "soft", "unnormalised"):
            key, kt = jax.random.split(key)
            closed, auto = both(z, make_targets(kt, kind, q))
            assert closed.shape == z.shape
            scale = 1.0 + np.abs(np.asarray(auto)).max()
            np.testing.assert_allclose(
                closed,
                auto,
                rtol=2e-5,
                atol=2e-6 * scale,
                err_msg=f"{pairing.name}, q={q}, {kind} targets",
            )


@pytest.mark.parametrize("pairing", PAIRINGS, ids=lambda p: p.name)
def test_delta_on_every_backend(pairing, device):
    z = make_logits(jax.random.key(1), pairing, 4)
    t = make_targets(jax.random.key(2), "soft", 4)
    closed = pairing.delta(z, t)
    assert closed.devices() == {device}
    np.testing.assert_allclose(closed, js.autodiff_delta(pairing, z, t), rtol=2e-5, atol=2e-6)


def test_natural_pairings_give_output_minus_target():
    # Bishop's natural pairings (the paper's section 2): Δ_k = z*_k − t_k.
    z = jax.random.normal(jax.random.key(3), (BATCH, 5))
    t = js.softmax(jax.random.normal(jax.random.key(4), (BATCH, 5)))  # sums to one
    for name in (
        "linear/least_squares",
        "logistic/bernoulli_cross_entropy",
        "softmax/cross_entropy",
    ):
        p = js.get_pairing(name)
        np.testing.assert_allclose(p.delta(z, t), p.activate(z) - t, atol=1e-6, err_msg=name)
    # ... but softmax × ρ_c gives (Σt) z* − t when the targets do not sum to one.
    u = 2 * t
    p = js.get_pairing("softmax", "cross_entropy")
    np.testing.assert_allclose(p.delta(z, u), 2 * js.softmax(z) - u, atol=1e-6)
    assert not np.allclose(p.delta(z, u), js.softmax(z) - u, atol=1e-3)


def test_logistic_cross_entropy_is_not_the_printed_table_cell():
    # Table 1 prints z*_k − t_k for logistic × cross-entropy; the chain rule gives
    # −t_k(1 − z*_k). They agree where t_k = 1 and differ (by z*_k) where t_k = 0.
    p = js.get_pairing("logistic/cross_entropy")
    z = jax.random.normal(jax.random.key(5), (BATCH, 4))
    t = jax.nn.one_hot(jnp.arange(BATCH) % 4, 4)
    delta, s = p.delta(z, t), js.logistic(z)
    np.testing.assert_allclose(delta, -t * (1 - s), atol=1e-7)
    np.testing.assert_allclose(jnp.where(t == 1, delta, 0), jnp.where(t == 1, s - t, 0), atol=1e-6)
    np.testing.assert_array_equal(jnp.where(t == 0, delta, 0.0), 0.0)
    assert np.all(np.asarray(delta) <= 0)  # every output is pushed towards 1 (section 2)


def test_deltas_finite_at_extreme_logits():
    z = jnp.array([[1e4, -1e4, 0.0], [-1e4, 3.0, 1e4]])
    t = jnp.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    for p in PAIRINGS:
        if p.activation in ("logistic", "softmax"):
            assert np.isfinite(p.delta(z, t)).all(), p.name
            assert np.isfinite(js.autodiff_delta(p, z, t)).all(), p.name


def test_registry_lookup_and_errors():
    names = [p.name for p in PAIRINGS]
    assert {"logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy"} <= set(
        names
    )
    assert js.get_pairing("softmax/cross_entropy") is js.get_pairing("softmax", "cross_entropy")
    with pytest.raises(ValueError, match="unknown pairing softmax/hinge; known: linear/"):
        js.get_pairing("softmax", "hinge")
    with pytest.raises(ValueError, match="activation/penalty"):
        js.get_pairing("softmax")
    with pytest.raises(ValueError, match="registered already"):
        js.register_pairing(PAIRINGS[0])
    with pytest.raises(TypeError, match="takes a Pairing"):
        js.register_pairing("softmax/cross_entropy")


def test_user_can_register_a_pairing():
    # A tempered softmax with cross-entropy: Δ_k = β((Σt) σ(βz)_k − t_k).
    beta = 2.0
    p = Pairing(
        "softmax_beta2",
        "cross_entropy",
        activate=lambda z: js.softmax(z, beta=beta),
        loss=lambda z, t: js.softmax_cross_entropy_from_logits(beta * z, t),
        delta=lambda z, t: beta * (t.sum(-1, keepdims=True) * js.softmax(z, beta=beta) - t),
    )
    try:
        assert js.register_pairing(p) is p
        assert js.list_pairings()[-1] is p
        z = jax.random.normal(jax.random.key(6), (3, 4))
        t = jax.random.uniform(jax.random.key(7), (3, 4))
        np.testing.assert_allclose(p.delta(z, t), js.autodiff_delta(p, z, t), atol=1e-6)
    finally:
        from jaxsoftmax.pairings import _REGISTRY

        _REGISTRY.pop(p.name, None)


def test_delta_bad_input():
    p = js.get_pairing("softmax/cross_entropy")
    with pytest.raises(ValueError, match=r"logits\.shape=\(2, 3\) and targets\.shape=\(2, 4\)"):
        p.delta(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
    with pytest.raises(ValueError, match="class axis"):
        p.delta(jnp.float32(1.0), jnp.float32(1.0))
    with pytest.raises(TypeError, match="complex"):
        p.delta(jnp.zeros(3, jnp.complex64), jnp.zeros(3))


@pytest.mark.parametrize("pairing", PAIRINGS, ids=lambda p: p.name)
def test_builtins_pass_the_public_check(pairing):
    # The check every user pairing gets (Δ vs jax.grad, H vs jax.hessian), on the built-ins.
    report = js.check_pairing(pairing, qs=(3, 7), batch_shapes=((2,), ()), dtypes=("float64",))
    assert report.ok and len(report.rows) == 2 * 3 * 2


def test_get_pairing_none_is_a_clear_error():
    with pytest.raises(ValueError, match="known: linear/least_squares"):
        js.get_pairing(None)
