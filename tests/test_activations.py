"""Tests of jaxsoftmax.activations against independent routes: NumPy references, the article's
worked example and identities, jax.jacobian / jax.grad, and edge cases."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jax.test_util import check_grads

import jaxsoftmax as js

ARTICLE_IN = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0]
ARTICLE_OUT = [0.0236405, 0.0642617, 0.174681, 0.474833, 0.0236405, 0.0642617, 0.174681]

# Fixed shapes keep compilation to a handful of programs; hypothesis varies the values.
logits = hnp.arrays(
    np.float32,
    st.sampled_from([(7,), (3, 5), (2, 3, 4)]),
    elements=st.floats(-30, 30, width=32),
)


def np_softmax(x, axis=-1, beta=1.0):
    x = np.asarray(x, np.float64) * beta
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------
# The article's claims
# --------------------------------------------------------------------------------------------


def test_article_worked_example_to_six_significant_digits(device):
    out = js.softmax(jnp.asarray(ARTICLE_IN))
    assert out.devices() == {device}
    np.testing.assert_allclose(out, ARTICLE_OUT, rtol=5e-6)


@given(logits)
def test_sums_to_one_and_matches_numpy(z):
    out = js.softmax(z)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out, np_softmax(z), rtol=2e-5, atol=1e-7)


@given(logits, st.floats(-50, 50))
def test_translation_invariance(z, c):
    np.testing.assert_allclose(js.softmax(z), js.softmax(z + np.float32(c)), rtol=2e-4, atol=1e-6)


def test_not_scale_invariant():
    # The article: softmax([1, 2, 3, 4, 1, 2, 3]) differs from softmax([.1, .2, .3, .4, ...]).
    a = js.softmax(jnp.asarray(ARTICLE_IN))
    b = js.softmax(jnp.asarray(ARTICLE_IN) / 10)
    assert not np.allclose(a, b, atol=1e-3)
    np.testing.assert_allclose(b, np_softmax(np.array(ARTICLE_IN) / 10), rtol=1e-6)


@given(logits, st.floats(0.1, 5.0))
def test_beta_is_inverse_temperature(z, beta):
    np.testing.assert_allclose(
        js.softmax(z, beta=beta), np_softmax(z, beta=np.float32(beta)), rtol=2e-4, atol=1e-6
    )


@given(hnp.arrays(np.float32, (6,), elements=st.integers(-8, 8).map(float)))
def test_beta_to_plus_infinity_is_hardmax_and_minus_infinity_arg_min(z):
    # Integer-valued scores: any two distinct ones differ by >= 1, so beta = 200 is "infinity"
    # (the error is at most q * exp(-200)); ties keep exactly equal shares at every beta.
    np.testing.assert_allclose(js.softmax(z, beta=200.0), js.hardmax(z), atol=1e-6)
    np.testing.assert_allclose(js.softmax(z, beta=-200.0), js.hardmax(z, beta=-1.0), atol=1e-6)
    np.testing.assert_allclose(js.softmax(z, beta=0.0), js.hardmax(z, beta=0.0), atol=1e-6)


def test_hardmax_ties_share_the_mass():
    # The article: arg max of (1, 5, 5) is (0, 1/2, 1/2); all equal gives the uniform.
    np.testing.assert_allclose(js.hardmax(jnp.array([1.0, 5.0, 5.0])), [0, 0.5, 0.5])
    np.testing.assert_allclose(js.hardmax(jnp.full((4,), 2.0)), [0.25] * 4)
    np.testing.assert_allclose(js.hardmax(jnp.array([1.0, 3.0, 1.0]), beta=-2.0), [0.5, 0, 0.5])


def test_hardmax_masks_nan_and_gradient():
    z = jnp.array([[1.0, 9.0, 3.0], [jnp.nan, 0.0, 1.0]])
    out = js.hardmax(z, where=jnp.array([True, False, True]))
    np.testing.assert_allclose(out[0], [0, 0, 1])
    assert np.isnan(out[1]).all()
    np.testing.assert_array_equal(jax.grad(lambda x: js.hardmax(x)[2])(jnp.ones(3)), 0.0)


@given(logits, st.sampled_from([1.0, 0.5, 3.0, -2.0]))
def test_gradient_of_logsumexp_is_softmax(z, beta):
    g = jax.grad(lambda x: js.logsumexp(x, beta=beta).sum())(z)
    np.testing.assert_allclose(g, js.softmax(z, beta=beta), rtol=1e-5, atol=1e-6)


@given(logits)
def test_logsumexp_is_a_smooth_max(z):
    q = z.shape[-1]
    for beta in (1.0, 10.0):
        lse = js.logsumexp(z, beta=beta)
        assert np.all(lse >= z.max(-1) - 1e-4)
        assert np.all(lse <= z.max(-1) + np.log(q) / beta + 1e-4)
    np.testing.assert_allclose(js.logsumexp(z, beta=1e4), z.max(-1), atol=1e-3)
    np.testing.assert_allclose(js.logsumexp(z, beta=-1e4), z.min(-1), atol=1e-3)


@given(logits)
def test_log_softmax_is_log_of_softmax(z):
    np.testing.assert_allclose(js.log_softmax(z), np.log(np_softmax(z)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        js.log_softmax(z, beta=2.0), 2.0 * (z - js.logsumexp(z, beta=2.0)[..., None]), atol=1e-4
    )


@given(hnp.arrays(np.float32, (5,), elements=st.floats(-20, 20, width=32)))
def test_logistic_is_two_class_softmax(x):
    pair = jnp.stack([x, jnp.zeros_like(x)], axis=-1)
    np.testing.assert_allclose(js.logistic(x), js.softmax(pair)[..., 0], rtol=1e-6, atol=1e-7)


@given(logits, st.sampled_from([1.0, 2.5]))
def test_jacobian_matches_autodiff(z, beta):
    flat = z.reshape(-1, z.shape[-1])
    jac = js.softmax_jacobian(flat, beta=beta)
    auto = jax.vmap(jax.jacobian(lambda r: js.softmax(r, beta=beta)))(jnp.asarray(flat))
    np.testing.assert_allclose(jac, auto, rtol=1e-5, atol=1e-7)
    s = js.softmax(flat, beta=beta)
    expected = beta * (jax.vmap(jnp.diag)(s) - s[:, :, None] * s[:, None, :])
    np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-7)


def test_jacobian_other_axis_and_mask():
    z = jax.random.normal(jax.random.key(0), (4, 3))
    np.testing.assert_allclose(js.softmax_jacobian(z, axis=0), js.softmax_jacobian(z.T), atol=1e-7)
    mask = jnp.array([True, False, True])
    jac = js.softmax_jacobian(z, where=mask)
    np.testing.assert_array_equal(jac[:, 1, :], 0.0)
    np.testing.assert_array_equal(jac[:, :, 1], 0.0)


# --------------------------------------------------------------------------------------------
# Gradients, transformations, axes, dtypes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda z: js.softmax(z),
        lambda z: js.softmax(z, beta=1.7),
        lambda z: js.log_softmax(z),
        lambda z: js.log_softmax(z, beta=-2.3, where=jnp.array([True, False, True, True])),
        lambda z: js.logsumexp(z, beta=0.6),
        lambda z: js.softmax(z, where=jnp.array([True, False, True, True])),
        lambda z: js.l1_normalize(z),
        lambda z: js.logistic(z),
    ],
    ids=[
        "softmax",
        "softmax-beta",
        "log_softmax",
        "log_softmax-beta-where",
        "logsumexp",
        "softmax-where",
        "l1",
        "logistic",
    ],
)
def test_check_grads(fn):
    with jax.enable_x64(True):
        z = jnp.array([[0.3, -1.2, 2.0, 0.7], [1.5, 0.4, -0.8, -2.0]], dtype=jnp.float64)
        check_grads(fn, (z,), order=2, modes=["fwd", "rev"])


def test_gradient_with_respect_to_beta():
    z = jnp.array([0.3, -1.2, 2.0])
    g = jax.grad(lambda b: js.softmax(z, beta=b)[2])(1.5)
    s = js.softmax(z, beta=1.5)
    np.testing.assert_allclose(g, s[2] * (z[2] - jnp.dot(s, z)), rtol=1e-5)
    # ∂ log σ_i / ∂β = z_i − ⟨σ, z⟩, forward and reverse.
    for diff in (jax.grad, jax.jacfwd):
        g = diff(lambda b: js.log_softmax(z, beta=b)[0])(1.5)
        np.testing.assert_allclose(g, z[0] - jnp.dot(s, z), rtol=1e-5)


def test_jit_and_vmap_agree_with_eager(device):
    z = jax.random.normal(jax.random.key(1), (8, 5))
    eager = js.softmax(z, beta=2.0)
    np.testing.assert_allclose(jax.jit(lambda x: js.softmax(x, beta=2.0))(z), eager, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(lambda x: js.softmax(x, beta=2.0))(z), eager, rtol=1e-6)
    per_row = jnp.linspace(0.5, 2, 8)[:, None]
    np.testing.assert_allclose(
        js.softmax(z, beta=per_row),
        jax.vmap(lambda x, b: js.softmax(x, beta=b))(z, per_row[:, 0]),
        rtol=1e-6,
    )


def test_any_axis_and_tuple_axes():
    z = jax.random.normal(jax.random.key(2), (3, 4, 5))
    np.testing.assert_allclose(
        js.softmax(z, axis=1),
        np.moveaxis(np_softmax(np.moveaxis(np.asarray(z), 1, -1)), -1, 1),
        rtol=1e-5,
    )
    both = js.softmax(z, axis=(1, 2))
    np.testing.assert_allclose(both.sum((1, 2)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        both.reshape(3, 20), np_softmax(np.asarray(z).reshape(3, 20)), rtol=1e-5
    )


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_half_precision_is_computed_stably(dtype):
    # exp(±3e4) overflows any half type; the difference 6e4 still fits float16 (max 65504).
    z = jnp.array([[1.0, 2.0, 3.0, 4.0], [-3e4, 3e4, 0.0, 1.0]], dtype=dtype)
    for fn in (js.softmax, js.log_softmax, js.logsumexp):
        out = fn(z)
        assert out.dtype == dtype
        assert np.isfinite(np.asarray(out, np.float32)).all()
        ref = fn(z.astype(jnp.float32))
        np.testing.assert_allclose(np.asarray(out, np.float32), ref, rtol=1e-2, atol=1e-2)
    big = jnp.ones((1, 4096), dtype)
    np.testing.assert_allclose(np.asarray(js.softmax(big), np.float32).sum(), 1.0, rtol=1e-2)


def test_integer_input_is_promoted_to_float():
    out = js.softmax(jnp.array([1, 2, 3]))
    assert jnp.issubdtype(out.dtype, jnp.floating)
    np.testing.assert_allclose(out, np_softmax([1.0, 2.0, 3.0]), rtol=1e-6)


def test_float64_is_kept():
    with jax.enable_x64(True):
        out = js.softmax(jnp.array(ARTICLE_IN, jnp.float64))
        assert out.dtype == jnp.float64
        np.testing.assert_allclose(out, np_softmax(ARTICLE_IN), rtol=1e-14)


# --------------------------------------------------------------------------------------------
# Edge cases: extremes, infinities, NaN, empty, masks
# --------------------------------------------------------------------------------------------


def test_large_logits_stay_finite():
    z = jnp.array([1e4, -1e4, 0.0, 1e4 - 1.0], jnp.float32)
    for fn in (js.softmax, js.log_softmax, js.logsumexp):
        assert np.isfinite(fn(z)).all()
        assert np.isfinite(jax.grad(lambda x, f=fn: f(x).sum())(z)).all()
    np.testing.assert_allclose(js.logsumexp(z), 1e4 + np.log1p(np.exp(-1.0)), rtol=1e-6)


def test_infinities_and_nan():
    np.testing.assert_allclose(js.softmax(jnp.array([-jnp.inf, 0.0, 0.0])), [0, 0.5, 0.5])
    # A row of -inf logits is the empty distribution, like an all-masked row.
    np.testing.assert_array_equal(js.softmax(jnp.full((3,), -jnp.inf)), 0.0)
    assert np.isnan(js.softmax(jnp.array([jnp.inf, 0.0]))).all()  # inf / inf, as jax.nn
    assert np.isnan(js.softmax(jnp.array([jnp.nan, 0.0]))).all()
    assert np.isnan(js.logsumexp(jnp.array([jnp.nan, 0.0])))


@pytest.mark.parametrize("q", [1, 2, 5])
@pytest.mark.parametrize("masked", [False, True])
def test_rows_of_minus_infinity_are_the_empty_distribution(q, masked):
    # Issue 22 item 7: a row whose only entry is −∞ gave NaN (XLA drops a reduction's initial
    # value over a length-1 axis, so the shift was −∞ and −∞ − (−∞) = NaN). Every length,
    # unmasked and with the row masked out too, is the empty distribution; logsumexp is
    # scipy's (logsumexp([-inf]) = −inf), softmax is zeros (jax.nn.softmax gives NaN).
    z = jnp.full((2, q), -jnp.inf).at[1].set(jnp.arange(q, dtype=jnp.float32))
    mask = jnp.array([[True] * q, [not masked] * q])
    ref_lse = scipy.special.logsumexp(np.asarray(z[0], np.float64))
    assert ref_lse == -np.inf
    for kw in ({}, {"where": mask}, {"beta": 2.5}, {"beta": 2.5, "where": mask}):
        lse = js.logsumexp(z, **kw)
        assert lse[0] == ref_lse
        np.testing.assert_array_equal(js.softmax(z, **kw)[0], 0.0)
        np.testing.assert_array_equal(js.log_softmax(z, **kw)[0], -np.inf)
        if masked and "where" in kw:
            assert lse[1] == -np.inf
            np.testing.assert_array_equal(js.softmax(z, **kw)[1], 0.0)
        else:
            np.testing.assert_allclose(
                lse[1],
                scipy.special.logsumexp(np.arange(q) * kw.get("beta", 1)) / kw.get("beta", 1),
                rtol=1e-6,
            )
        for fn in (
            lambda x, kw=kw: jnp.sum(jnp.arange(q, dtype=x.dtype)[None] * js.softmax(x, **kw)),
            lambda x, kw=kw: jnp.sum(jnp.where(jnp.isfinite(y := js.logsumexp(x, **kw)), y, 0)),
            lambda x, kw=kw: jnp.sum(jnp.where(jnp.isfinite(y := js.log_softmax(x, **kw)), y, 0)),
        ):
            g = jax.grad(fn)(z)
            assert np.isfinite(g).all()
            np.testing.assert_array_equal(g[0], 0.0)
    t = jnp.zeros((2, q)).at[:, 0].set(1.0)
    # The losses: the row's limit (+∞ for a non-zero target, 0 for zero targets), not NaN.
    assert js.softmax_cross_entropy_from_logits(z[:1], t[:1])[0] == np.inf
    assert js.softmax_cross_entropy_from_logits(z[:1], 0 * t[:1])[0] == 0.0
    assert js.softmax_least_squares_from_logits(z[:1], t[:1])[0] == 0.5
    g = jax.grad(lambda x: js.softmax_least_squares_from_logits(x, t).sum())(z)
    assert np.isfinite(g).all()
    assert np.asarray(jax.nn.softmax(z[:1])).size == q and np.isnan(jax.nn.softmax(z[:1])).all()


def test_empty_arrays():
    assert js.softmax(jnp.zeros((0,))).shape == (0,)
    assert js.softmax(jnp.zeros((3, 0))).shape == (3, 0)
    assert js.log_softmax(jnp.zeros((0, 4))).shape == (0, 4)
    np.testing.assert_array_equal(js.logsumexp(jnp.zeros((2, 0))), -np.inf)


def test_where_masks_entries_out():
    z = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = jnp.array([[True, False, True], [False, False, False]])
    out = js.softmax(z, where=mask)
    np.testing.assert_allclose(
        out[0], [np_softmax([1.0, 3.0])[0], 0, np_softmax([1.0, 3.0])[1]], rtol=1e-6
    )
    np.testing.assert_array_equal(out[1], 0.0)  # documented: the all-masked row is all zeros
    logp = js.log_softmax(z, where=mask)
    np.testing.assert_array_equal(logp[1], -np.inf)
    assert logp[0, 1] == -np.inf
    lse = js.logsumexp(z, where=mask)
    np.testing.assert_allclose(lse[0], np.log(np.exp(1.0) + np.exp(3.0)), rtol=1e-6)
    assert lse[1] == -np.inf


def test_where_gradients_are_finite_and_zero_where_masked():
    # Regression guard for the double-where NaN trap: a masked entry, and a row with every
    # entry masked, must pass exactly zero (not NaN) gradient.
    z = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = jnp.array([[True, False, True], [False, False, False]])
    w = jnp.arange(6.0).reshape(2, 3)
    for fn in (
        lambda x: jnp.sum(w * js.softmax(x, where=mask)),
        lambda x: jnp.sum(jnp.where(mask, w * js.log_softmax(x, where=mask), 0.0)),
        lambda x: jnp.sum(
            jnp.where(jnp.isfinite(js.logsumexp(x, where=mask)), js.logsumexp(x, where=mask), 0.0)
        ),
    ):
        for g in (jax.grad(fn)(z), jax.jacfwd(fn)(z)):
            assert np.isfinite(g).all()
            np.testing.assert_array_equal(g[1], 0.0)
            assert g[0, 1] == 0.0


def test_where_broadcasts():
    z = jax.random.normal(jax.random.key(3), (4, 3))
    mask = jnp.array([True, True, False])
    np.testing.assert_allclose(js.softmax(z, where=mask)[:, :2], js.softmax(z[:, :2]), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# The L1 rival from the forum thread
# --------------------------------------------------------------------------------------------


@given(logits)
def test_l1_normalize_properties(x):
    x = x + np.float32(0.5) * np.sign(x) + (x == 0)  # keep rows away from all-zero
    n = js.l1_normalize(x)
    np.testing.assert_allclose(n.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(n, np.abs(x) / np.abs(x).sum(-1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(js.l1_normalize(3.0 * x), n, rtol=1e-5)  # scale invariant
    np.testing.assert_allclose(js.l1_normalize(-x), n, rtol=1e-6)  # blind to sign


def test_l1_normalize_is_not_translation_invariant_and_handles_zero_rows():
    x = jnp.array([1.0, 2.0, 3.0])
    assert not np.allclose(js.l1_normalize(x), js.l1_normalize(x + 5.0))
    np.testing.assert_allclose(js.l1_normalize(jnp.zeros(4)), [0.25] * 4)
    np.testing.assert_allclose(
        js.l1_normalize(jnp.zeros(3), where=jnp.array([True, False, True])), [0.5, 0, 0.5]
    )
    assert np.isfinite(jax.grad(lambda v: js.l1_normalize(v)[0])(jnp.zeros(3))).all()


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [js.softmax, js.log_softmax, js.logsumexp, js.hardmax, js.l1_normalize, js.softmax_jacobian],
)
def test_bad_input_gets_a_clear_error(fn):
    with pytest.raises(TypeError, match="complex"):
        fn(jnp.array([1 + 2j, 3.0]))
    with pytest.raises(TypeError, match="numeric"):
        fn(np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"axis=2 is out of range for an array of rank 2"):
        fn(jnp.zeros((2, 3)), axis=2)


def test_bad_mask_and_beta_get_clear_errors():
    z = jnp.zeros((2, 3))
    with pytest.raises(TypeError, match="boolean mask"):
        js.softmax(z, where=jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"where with shape \(4,\) does not broadcast .*\(2, 3\)"):
        js.softmax(z, where=jnp.ones((4,), bool))
    with pytest.raises(ValueError, match=r"beta with shape \(3,\) must broadcast to \(2, 1\)"):
        js.softmax(z, beta=jnp.ones(3))
    with pytest.raises(ValueError, match="non-zero beta"):
        js.logsumexp(z, beta=0.0)


# --------------------------------------------------------------------------------------------
# Issue 15 regressions: one test per defect
# --------------------------------------------------------------------------------------------

SPREAD = jnp.array([-15.81, -3.38, 43.15])


def test_beta_is_applied_after_the_max_shift():
    # Under jit XLA contracted β·z − max(β·z) into an FMA whose result at the arg max was the
    # rounding error of β·z (≈ 1e24): softmax gave [0, 0, nan] and logsumexp inf.
    jitted = jax.jit(lambda z, b: (js.softmax(z, beta=b), js.log_softmax(z, beta=b)))
    for b in (1e30, -1e30):
        p, logp = jitted(SPREAD, b)
        expected = [0.0, 0.0, 1.0] if b > 0 else [1.0, 0.0, 0.0]
        np.testing.assert_array_equal(p, expected)
        np.testing.assert_array_equal(logp[np.argmax(expected)], 0.0)
        assert np.isfinite(logp).all()
    lse = jax.jit(lambda z: js.logsumexp(z, beta=1e30))(SPREAD)
    np.testing.assert_allclose(lse, 43.15, rtol=1e-7)
    np.testing.assert_allclose(js.logsumexp(SPREAD, beta=-1e30), -15.81, rtol=1e-7)
    # Eager failed once β·z itself overflowed float32.
    z = jnp.array([1e4, 0.0])
    np.testing.assert_array_equal(js.softmax(z, beta=1e35), [1.0, 0.0])
    np.testing.assert_array_equal(js.log_softmax(z, beta=1e35), [0.0, -np.inf])
    np.testing.assert_allclose(js.logsumexp(z, beta=1e35), 1e4)
    g = jax.grad(lambda x: js.logsumexp(x, beta=1e30))(SPREAD)
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_beta_zero_is_the_uniform_limit():
    z = jnp.array([[3.0, -1e4, 7.0, -jnp.inf], [1.0, 2.0, 3.0, 4.0]])
    mask = jnp.array([[True, True, True, True], [True, False, True, True]])
    # −∞ logits stay left out at β = 0 (the limit β → 0⁺), like masked entries.
    third = np.float32(1 / 3)
    np.testing.assert_array_equal(js.softmax(z, beta=0.0, where=mask)[0], [third] * 3 + [0])
    np.testing.assert_array_equal(js.softmax(z, beta=0.0, where=mask)[1], [third, 0, third, third])
    np.testing.assert_allclose(
        js.log_softmax(z, beta=jnp.array(0.0), where=mask)[:, 0], -np.log(3.0), rtol=1e-7
    )
    np.testing.assert_array_equal(
        js.hardmax(z, beta=0.0, where=mask), js.softmax(z, beta=0.0, where=mask)
    )
    # logsumexp's documented β is the smooth max (1/β) log Σ e^{βz}: it has no limit at β = 0
    # for two or more entries, so a concrete 0 is refused and a traced ±0 gives the one-sided
    # limit ±∞, whose β·LSE_β → log(count) and whose gradient is the uniform distribution.
    with pytest.raises(ValueError, match="non-zero beta"):
        js.logsumexp(z, beta=jnp.array(0.0))
    lse0 = jax.jit(lambda x, b: js.logsumexp(x, beta=b, where=mask))
    np.testing.assert_array_equal(lse0(z, 0.0), [np.inf, np.inf])
    np.testing.assert_array_equal(lse0(z, -0.0), [-np.inf, -np.inf])
    one = jnp.array([[True, False, False, False]] * 2)
    np.testing.assert_array_equal(
        jax.jit(lambda x, b: js.logsumexp(x, beta=b, where=one))(z, 0.0), [3.0, 1.0]
    )
    g = jax.grad(lambda x: jnp.sum(lse0(x, 0.0)))(z)
    np.testing.assert_allclose(g, js.softmax(z, beta=0.0, where=mask), rtol=1e-7)
    small = jnp.array([1e-6])
    np.testing.assert_allclose(
        small * js.logsumexp(z[1], beta=small), np.log(4.0) + 1e-6 * 2.5, rtol=1e-5
    )


@pytest.mark.parametrize("fn", [js.softmax, js.log_softmax, js.logsumexp, js.hardmax])
def test_nan_beta_is_refused_when_concrete_and_nan_under_trace(fn):
    z = jnp.array([1.0, 2.0, 3.0])
    for bad in (float("nan"), np.array([np.nan]), jnp.array(jnp.nan)):
        with pytest.raises(ValueError, match=r"beta must be .*, got beta=nan"):
            fn(z, beta=bad)
    assert np.isnan(jax.jit(lambda b: fn(z, beta=b))(jnp.nan)).all()
    if fn is not js.hardmax:  # hardmax only uses the sign: β = ±∞ is allowed there
        with pytest.raises(ValueError, match="hardmax for β = ±∞"):
            fn(z, beta=float("inf"))


def test_l1_normalize_is_rescaled_by_the_largest_entry():
    np.testing.assert_array_equal(js.l1_normalize(jnp.array([3e38, -3e38])), [0.5, 0.5])
    np.testing.assert_allclose(js.l1_normalize(jnp.array([3e38, -1e38, 0.0])), [0.75, 0.25, 0])
    x = jnp.array([1e-30, 2e-30])
    g = jax.jacobian(js.l1_normalize)(x)
    # ∂n_i/∂x_j = (δ_ij A − |x_i|) / A² for positive x, A = Σ x: about ±1e29 here.
    a = 3e-30
    expected = np.array([[2e-30, -1e-30], [-2e-30, 1e-30]]) / a**2
    np.testing.assert_allclose(g, expected, rtol=1e-5)
    np.testing.assert_array_equal(
        js.l1_normalize(jnp.array([jnp.inf, 1.0, -jnp.inf])), [0.5, 0, 0.5]
    )


def test_logsumexp_and_log_softmax_keep_the_small_terms():
    with jax.enable_x64(True):
        z = jnp.array([0.0, -40.0])
        np.testing.assert_allclose(js.logsumexp(z), np.log1p(np.exp(-40.0)), rtol=1e-15)
        np.testing.assert_allclose(js.log_softmax(z)[0], -np.log1p(np.exp(-40.0)), rtol=1e-15)
        # Ties count exactly; masked maxima are left out.
        tied = jnp.array([0.0, 0.0, -40.0])
        np.testing.assert_allclose(js.logsumexp(tied), np.log(2 + np.exp(-40.0)), rtol=1e-15)
        masked = jnp.array([0.0, -40.0, 5.0])
        np.testing.assert_allclose(
            js.logsumexp(masked, where=jnp.array([True, True, False])),
            np.log1p(np.exp(-40.0)),
            rtol=1e-15,
        )
        np.testing.assert_allclose(
            js.logsumexp(z, beta=2.0), np.log1p(np.exp(-80.0)) / 2, rtol=1e-15
        )
    logp = js.log_softmax(jnp.array([0.0, -20.0], jnp.float32))
    np.testing.assert_allclose(logp[0], -np.exp(-20.0), rtol=1e-6)
    assert logp[0] != 0.0


@pytest.mark.parametrize("pad", [0, 300])
def test_short_and_long_rows_take_the_same_log_sum(pad):
    # _log_norm has a branch-free form for rows of ≤ _SMALL_ROW entries and a max-shifted sum
    # plus a conditional log1p pass for longer ones; −∞ padding to 300 + entries takes the
    # other form and must not change a value: small terms kept, ties counted, empty and NaN
    # rows, masks, β ≠ 1, and the gradient.
    from jaxsoftmax.activations import _SMALL_ROW

    assert 3 + pad > _SMALL_ROW or pad == 0
    rows = np.array(
        [
            [0.0, -40.0, -50.0],  # dominated: log1p of the small terms
            [0.0, 0.0, -40.0],  # tied maxima
            [1.0, 2.0, 3.0],  # spread
            [-np.inf, -np.inf, -np.inf],  # empty
            [np.nan, 0.0, 1.0],  # NaN row
            [5.0, 5.0, 5.0],  # all tied
        ]
    )
    e = np.exp
    want = np.array(
        [
            np.log1p(e(-40.0) + e(-50.0)),
            np.log(2 + e(-40.0)),
            3 + np.log1p(e(-1.0) + e(-2.0)),
            -np.inf,
            np.nan,
            5 + np.log(3),
        ]
    )
    logp = rows - want[:, None]
    logp[3] = -np.inf  # the empty row keeps its −∞ entries
    with jax.enable_x64(True):
        z = jnp.asarray(np.pad(rows, ((0, 0), (0, pad)), constant_values=-np.inf))
        np.testing.assert_allclose(js.logsumexp(z), want, rtol=1e-15)
        np.testing.assert_allclose(js.log_softmax(z)[:, :3], logp, rtol=1e-15)
        beta2 = js.logsumexp(z[:1], beta=2.0)
        np.testing.assert_allclose(beta2, [np.log1p(e(-80.0) + e(-100.0)) / 2], rtol=1e-15)
        where = jnp.ones(z.shape, bool).at[2, 2].set(False)
        masked = js.logsumexp(z, where=where)[2]
        np.testing.assert_allclose(masked, 2 + np.log1p(e(-1.0)), rtol=1e-15)
        grad = jax.grad(lambda a: jnp.sum(js.logsumexp(a)))(z[:3])
        np.testing.assert_allclose(grad, js.softmax(z[:3]), rtol=1e-14)
        assert np.all(grad[:, 3:] == 0)


def test_nan_by_design():
    # As documented: a kept +∞ (two included) or NaN makes the row NaN; masked ones do not.
    for z in ([jnp.inf, jnp.inf, 0.0], [jnp.nan, 1.0, 2.0]):
        z = jnp.array(z)
        assert np.isnan(js.softmax(z)).all()
        assert np.isnan(js.log_softmax(z)).all()
    assert js.logsumexp(jnp.array([jnp.inf, 0.0, -jnp.inf])) == np.inf
    assert np.isnan(js.logsumexp(jnp.array([jnp.nan, 0.0])))
    assert np.isnan(js.softmax(jnp.array([-jnp.inf, 0.0]), beta=-1.0)).all()  # −∞·β = +∞
    keep = jnp.array([False, True, True])
    for bad in (jnp.nan, jnp.inf):
        z = jnp.array([bad, 1.0, 1.0])
        np.testing.assert_array_equal(js.softmax(z, where=keep), [0, 0.5, 0.5])
        np.testing.assert_allclose(js.logsumexp(z, where=keep), 1 + np.log(2.0), rtol=1e-7)
        np.testing.assert_array_equal(js.l1_normalize(z, where=keep), [0, 0.5, 0.5])
    assert np.isnan(js.l1_normalize(jnp.array([jnp.nan, 1.0]))).all()
    assert np.isnan(js.hardmax(jnp.array([jnp.nan, 1.0]))).all()
    assert np.isnan(js.logistic(jnp.array([jnp.nan]))).all()
    np.testing.assert_array_equal(js.logistic(jnp.array([-jnp.inf, jnp.inf])), [0.0, 1.0])


def test_logsumexp_default_axis_differs_from_jax_nn():
    z = jnp.array([[0.0, 1.0], [2.0, 3.0]])
    ours = js.logsumexp(z)  # the class axis (-1) only
    theirs = jax.nn.logsumexp(z)  # axis=None: every axis
    np.testing.assert_allclose(ours, [np.log1p(np.e), 2 + np.log1p(np.e)], rtol=1e-6)
    np.testing.assert_allclose(theirs, np.log(np.exp([0, 1, 2, 3]).sum()), rtol=1e-6)
    np.testing.assert_allclose(jax.nn.logsumexp(z, axis=-1), ours, rtol=1e-6)
