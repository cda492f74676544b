"""Issue 23, item 4: sparsemax, α-entmax and their Fenchel–Young losses (jaxsoftmax.sparse),
against peers (optax's simplex projection and multiclass sparsemax loss) and an independent
float64 reference for entmax (τ by scipy's brentq)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.optimize import brentq

from jaxsoftmax import sparse


def _entmax_ref(z, alpha):
    """entmax_α of one row by brentq on τ (Peters et al. 2019, eq. (9)), float64."""
    x = (alpha - 1) * np.asarray(z, np.float64)

    def mass(tau):
        return np.sum(np.maximum(x - tau, 0) ** (1 / (alpha - 1))) - 1

    tau = brentq(mass, x.max() - 1, x.max(), xtol=1e-15, rtol=1e-15, maxiter=500)
    return np.maximum(x - tau, 0) ** (1 / (alpha - 1))


def _rows(seed=0, n=40, q=6, scale=2.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, scale, (n, q))
    z[0] = [1.0, 1.0, 1.0, -3.0, 0.5, 1.0]  # ties in the support
    z[1] = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]  # all tied
    z[2] = [40.0, -3.0, 0.0, 1.0, 39.5, 2.0]  # large logits
    return z


def test_sparsemax_equals_optax_projection_simplex():
    with jax.enable_x64(True):
        z = _rows()
        got = np.asarray(sparse.sparsemax(jnp.asarray(z)))
        with jax.numpy_dtype_promotion("standard"):  # optax mixes int and float inside
            ref = np.asarray(jax.vmap(optax.projections.projection_simplex)(jnp.asarray(z)))
        np.testing.assert_allclose(got, ref, atol=1e-13)
        assert (got == 0).any() and np.allclose(got.sum(-1), 1, atol=1e-13)
        np.testing.assert_allclose(got[1], np.full(6, 1 / 6), atol=1e-15)
        assert got[0][0] == got[0][1] == got[0][2] == got[0][5]


def test_sparsemax_along_another_axis_and_in_float32():
    z = _rows(1).astype(np.float32)
    got = sparse.sparsemax(jnp.asarray(z.T), axis=0)
    assert got.dtype == jnp.float32
    with jax.numpy_dtype_promotion("standard"):
        ref = jax.vmap(optax.projections.projection_simplex)(jnp.asarray(z, jnp.float32))
    np.testing.assert_allclose(np.asarray(got).T, np.asarray(ref), atol=2e-6)


def test_masks_leave_entries_out_and_empty_rows_are_zero():
    z = np.array([[0.3, np.nan, 1.2, 0.9], [1.0, 2.0, 3.0, 4.0]])
    where = np.array([[True, False, True, True], [False, False, False, False]])
    for fn in (sparse.sparsemax, lambda a, where: sparse.entmax(a, 1.5, where=where)):
        got = np.asarray(fn(jnp.asarray(z), where=jnp.asarray(where)))
        kept = np.asarray(fn(jnp.asarray(z[0, [0, 2, 3]]), where=None))
        np.testing.assert_allclose(got[0, [0, 2, 3]], kept, atol=1e-6)
        assert got[0, 1] == 0 and (got[1] == 0).all()
        g = jax.grad(
            lambda a, f=fn: jnp.sum(f(a, where=jnp.asarray(where)) * jnp.arange(4.0)[None])
        )(jnp.asarray(z))
        assert np.isfinite(np.asarray(g)).all() and g[0, 1] == 0


@pytest.mark.parametrize("alpha", [1.25, 1.5, 2.5, 4.0])
def test_entmax_matches_a_float64_bisection_reference(alpha):
    with jax.enable_x64(True):
        z = _rows(2, n=25)
        got = np.asarray(sparse.entmax(jnp.asarray(z), alpha))
        ref = np.stack([_entmax_ref(r, alpha) for r in z])
        np.testing.assert_allclose(got, ref, atol=1e-12)
    # float32: against the reference at the float32-rounded logits, within the conditioning of
    # the threshold: (α − 1)z, z − max z and the power round by a few ε|z|, which the
    # Jacobian carries to the outputs (p = u^{1/(α−1)} is steep where u is small).
    z32 = z.astype(np.float32)
    got32 = np.asarray(sparse.entmax(jnp.asarray(z32), alpha))
    with jax.enable_x64(True):
        ref32 = np.stack([_entmax_ref(r, alpha) for r in z32.astype(np.float64)])
        jac = np.asarray(
            jax.vmap(jax.jacfwd(lambda a: sparse.entmax(a, alpha)))(z32.astype(np.float64))
        )
    eps = np.finfo(np.float32).eps
    spread = np.abs(z32) + np.abs(z32).max(-1, keepdims=True)
    tol = 1e-6 + 16 * eps * np.einsum("rij,rj->ri", np.abs(jac), spread)
    assert (np.abs(got32 - ref32) <= tol).all(), np.max(np.abs(got32 - ref32) - tol)
    assert np.abs(got32 - ref32).max() < 1e-4


def test_entmax_limits_sparsemax_and_softmax():
    with jax.enable_x64(True):
        z = jnp.asarray(_rows(3, n=10))
        np.testing.assert_allclose(sparse.entmax(z, 2.0), sparse.sparsemax(z), atol=1e-15)
        np.testing.assert_allclose(sparse.entmax(z, 2.0 + 1e-9), sparse.sparsemax(z), atol=1e-7)
        gap = [
            float(jnp.max(jnp.abs(sparse.entmax(z, 1 + e) - jax.nn.softmax(z))))
            for e in (1e-2, 1e-3)
        ]
        assert gap[1] < gap[0] / 5 and gap[1] < 2e-3, gap  # → softmax as α → 1⁺


@pytest.mark.parametrize("alpha", [1.5, 2.0, 3.0])
def test_custom_jvp_is_the_jacobian(alpha):
    with jax.enable_x64(True):
        z = jnp.asarray([0.7, -0.2, 0.45, 1.3, -2.0])
        f = lambda a: sparse.entmax(a, alpha)
        jac = np.asarray(jax.jacfwd(f)(z))
        np.testing.assert_allclose(jac, np.asarray(jax.jacrev(f)(z)), atol=1e-12)
        h = 1e-6
        fd = np.stack(
            [(np.asarray(f(z + h * e)) - np.asarray(f(z - h * e))) / (2 * h) for e in np.eye(5)],
            axis=1,
        )
        np.testing.assert_allclose(jac, fd, atol=1e-6)


@pytest.mark.parametrize("alpha", [1.5, 2.0])
def test_fenchel_young_loss_gradient_is_output_minus_target(alpha):
    with jax.enable_x64(True):
        rng = np.random.default_rng(4)
        z = jnp.asarray(rng.normal(0, 2, (8, 5)))
        t = jnp.asarray(rng.dirichlet(np.ones(5), 8))
        loss = lambda a: jnp.sum(sparse.entmax_loss(a, t, alpha))
        np.testing.assert_allclose(jax.grad(loss)(z), sparse.entmax(z, alpha) - t, atol=1e-10)
        values = sparse.entmax_loss(z, t, alpha)
        assert (np.asarray(values) >= -1e-12).all()
        p = sparse.entmax(z, alpha)
        np.testing.assert_allclose(sparse.entmax_loss(z, p, alpha), 0, atol=1e-10)
        # Definition 2 written out independently: Ω*(z) + Ω(t) − ⟨z, t⟩ with the reference.
        om = lambda v: (np.sum(np.where(v > 0, v, 0) ** alpha) - 1) / (alpha * (alpha - 1))
        for r in range(8):
            pr = _entmax_ref(np.asarray(z[r]), alpha)
            zr, tr = np.asarray(z[r]), np.asarray(t[r])
            want = zr @ pr - om(pr) + om(tr) - zr @ tr
            assert abs(float(values[r]) - want) < 1e-10


def test_sparsemax_loss_equals_optax_multiclass_for_one_hot_targets():
    with jax.enable_x64(True):
        z = jnp.asarray(_rows(5, n=12))
        labels = jnp.arange(12) % 6
        t = jax.nn.one_hot(labels, 6, dtype=z.dtype)
        with jax.numpy_dtype_promotion("standard"):
            ref = optax.losses.multiclass_sparsemax_loss(z, labels)
        np.testing.assert_allclose(sparse.sparsemax_loss(z, t), ref, atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.5, float("nan"), float("inf"), "x"])
def test_bad_alpha_is_refused_by_name(alpha):
    with pytest.raises(ValueError, match="alpha"):
        sparse.entmax(jnp.zeros(3), alpha)
