"""Tests of jaxsoftmax.penalties: independent references (scipy.special.rel_entr, NumPy),
identities (grad == (Σt)·softmax − t), the paper's Figure 1 claim, and stability at extremes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jax.test_util import check_grads
from scipy.special import expit, rel_entr

import jaxsoftmax as js

probs = hnp.arrays(np.float32, (4, 5), elements=st.floats(0.0, 1.0, width=32))
logits = hnp.arrays(np.float32, (4, 5), elements=st.floats(-20, 20, width=32))


def np_softmax(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@given(probs, probs)
def test_least_squares_matches_numpy(z, t):
    np.testing.assert_allclose(
        js.least_squares(z, t), 0.5 * ((t - z) ** 2).sum(-1), rtol=1e-5, atol=1e-7
    )


@given(probs.map(lambda a: a * 0.98 + 0.01), probs)
def test_cross_entropy_is_the_papers_rho_c(z, t):
    # scipy's rel_entr(t, z) = t log(t/z), with 0 log(0/z) = 0: an independent route.
    ref = rel_entr(t.astype(np.float64), z.astype(np.float64)).sum(-1)
    np.testing.assert_allclose(js.cross_entropy(z, t), ref, rtol=1e-5, atol=1e-6)


@given(probs.map(lambda a: a * 0.98 + 0.01), probs)
def test_bernoulli_cross_entropy_matches_reference(z, t):
    z64, t64 = z.astype(np.float64), t.astype(np.float64)
    ref = (rel_entr(t64, z64) + rel_entr(1 - t64, 1 - z64)).sum(-1)
    np.testing.assert_allclose(js.bernoulli_cross_entropy(z, t), ref, rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(js.bernoulli_cross_entropy(z, t)) >= -1e-6)


def test_cross_entropy_zero_targets_and_unnormalised_targets():
    z = jnp.array([0.0, 0.5, 0.5])
    np.testing.assert_allclose(js.cross_entropy(z, jnp.array([0.0, 1.0, 0.0])), np.log(2.0))
    # Targets need not sum to one: ρ_c = Σ t log(t/z) exactly as printed, so it can be < 0.
    t = jnp.array([0.0, 0.3, 0.3])
    np.testing.assert_allclose(js.cross_entropy(z, t), 2 * 0.3 * np.log(0.6), rtol=1e-6)
    g = jax.grad(js.cross_entropy)(z, jnp.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(g, [0.0, -2.0, 0.0])  # −t/z*, and 0 (not NaN) at t = z* = 0


def test_figure_1_minimum_of_t_log_t_over_z():
    # The paper's Figure 1: over [0, 1]², t log(t/z) has its minimum −1/e at (z*, t) = (1, 1/e).
    grid = jnp.linspace(0.0, 1.0, 1001)
    zz, tt = jnp.meshgrid(grid[1:], grid, indexing="ij")
    rho = js.cross_entropy(zz[..., None], tt[..., None])
    i, j = np.unravel_index(int(jnp.argmin(rho)), rho.shape)
    assert float(zz[i, j]) == 1.0
    assert abs(float(tt[i, j]) - np.exp(-1)) < 1e-3
    np.testing.assert_allclose(rho.min(), -np.exp(-1), rtol=1e-6)


def test_xlogy_convention_and_derivatives():
    assert js.xlogy(0.0, 0.0) == 0.0
    np.testing.assert_allclose(js.xlogy(2.0, 3.0), 2 * np.log(3.0))
    # ∂/∂x = log y everywhere (−∞ at y = 0); ∂/∂y = 0 along x = 0 (the documented convention).
    gx, gy = jax.grad(js.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert gx == -np.inf and gy == 0.0
    gx, gy = jax.grad(js.xlogy, argnums=(0, 1))(2.0, 3.0)
    np.testing.assert_allclose([gx, gy], [np.log(3.0), 2 / 3], rtol=1e-6)
    with jax.enable_x64(True):
        check_grads(js.xlogy, (jnp.array([0.5, 2.0]), jnp.array([0.3, 1.5])), order=2)


# --------------------------------------------------------------------------------------------
# From-logits forms
# --------------------------------------------------------------------------------------------

FROM_LOGITS = [
    (js.softmax_least_squares_from_logits, lambda z: np_softmax(z), "ls"),
    (js.softmax_cross_entropy_from_logits, lambda z: np_softmax(z), "ce"),
    (js.logistic_least_squares_from_logits, lambda z: expit(np.float64(z)), "ls"),
    (js.logistic_cross_entropy_from_logits, lambda z: expit(np.float64(z)), "ce"),
    (js.logistic_bernoulli_cross_entropy_from_logits, lambda z: expit(np.float64(z)), "bce"),
]


@pytest.mark.parametrize("fn,act,kind", FROM_LOGITS, ids=lambda v: getattr(v, "__name__", ""))
@given(z=logits.map(lambda a: a / 4), t=probs)
def test_from_logits_equals_composition(fn, act, kind, z, t):
    out = np.asarray(act(z))
    t64 = t.astype(np.float64)
    if kind == "ls":
        ref = 0.5 * ((t64 - out) ** 2).sum(-1)
    elif kind == "ce":
        ref = rel_entr(t64, out).sum(-1)
    else:
        ref = (rel_entr(t64, out) + rel_entr(1 - t64, 1 - out)).sum(-1)
    np.testing.assert_allclose(fn(z, t), ref, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("fn", [f for f, _, _ in FROM_LOGITS], ids=lambda f: f.__name__)
def test_from_logits_finite_at_extreme_logits_and_zero_targets(fn, device):
    z = jnp.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, 1e4, 1e4]], jnp.float32)
    t = jnp.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.3, 0.0, 0.7]], jnp.float32)
    value, grad = jax.value_and_grad(lambda x: fn(x, t).sum())(z)
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert grad.devices() == {device}


def test_softmax_cross_entropy_gradient_identity():
    # The paper's eq. (1): ∂ρ_c/∂z_k = (Σ t) z*_k − t_k, for targets not summing to one too.
    z = jax.random.normal(jax.random.key(0), (6, 5)) * 3
    t = jax.random.uniform(jax.random.key(1), (6, 5))
    g = jax.grad(lambda x: js.softmax_cross_entropy_from_logits(x, t).sum())(z)
    np.testing.assert_allclose(g, t.sum(-1, keepdims=True) * js.softmax(z) - t, atol=1e-6)


def test_softmax_cross_entropy_differs_from_optax_by_target_entropy():
    z = jax.random.normal(jax.random.key(2), (6, 5))
    t = js.softmax(jax.random.normal(jax.random.key(3), (6, 5)))
    entropy_term = jnp.sum(t * jnp.log(t), -1)
    np.testing.assert_allclose(
        js.softmax_cross_entropy_from_logits(z, t),
        optax.losses.softmax_cross_entropy(z, t) + entropy_term,
        rtol=1e-5,
        atol=1e-6,
    )


def test_check_grads_from_logits():
    with jax.enable_x64(True):
        z = jnp.array([[0.3, -1.2, 2.0], [1.5, 0.4, -0.8]])
        t = jnp.array([[0.0, 1.0, 0.0], [0.2, 0.5, 0.1]])
        for fn, _, _ in FROM_LOGITS:
            check_grads(lambda x, f=fn: f(x, t), (z,), order=2, modes=["fwd", "rev"])


def test_penalties_reduce_over_the_requested_axis_only():
    z = jax.random.uniform(jax.random.key(4), (3, 5), minval=0.1, maxval=0.9)
    t = jax.random.uniform(jax.random.key(5), (3, 5))
    assert js.cross_entropy(z, t).shape == (3,)
    np.testing.assert_allclose(
        js.least_squares(z, t, axis=0), js.least_squares(z.T, t.T), rtol=1e-6
    )
    assert js.least_squares(z, t, axis=(0, 1)).shape == ()


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"outputs\.shape=\(3,\) and targets\.shape=\(2, 3\)"):
        js.cross_entropy(jnp.ones(3), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"logits\.shape=\(4,\)"):
        js.softmax_cross_entropy_from_logits(jnp.ones(4), jnp.ones(3))
    with pytest.raises(TypeError, match="complex"):
        js.least_squares(jnp.ones(3, jnp.complex64), jnp.ones(3))
    with pytest.raises(ValueError, match="out of range"):
        js.least_squares(jnp.ones(3), jnp.ones(3), axis=1)


# --------------------------------------------------------------------------------------------
# Issue 15 regressions: one test per defect
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "z", [[0.0, -np.inf], [3e38, -3e38], [np.inf, -np.inf]], ids=["-inf", "3e38", "inf"]
)
def test_from_logits_zero_targets_contribute_zero_at_infinite_logits(z):
    z = jnp.array(z, jnp.float32)
    t = jnp.array([1.0, 0.0])
    value_grad = lambda f: jax.value_and_grad(lambda x: f(x, t))(z)
    if np.isfinite(z[0]):  # softmax of a +∞ logit is NaN by design (∞/∞)
        v, g = value_grad(js.softmax_cross_entropy_from_logits)
        assert v == 0.0 and js.cross_entropy(js.softmax(z), t) == 0.0
        np.testing.assert_array_equal(g, [0.0, 0.0])
    sig = js.logistic(z)
    for f, composed in (
        (js.logistic_cross_entropy_from_logits, js.cross_entropy(sig, t)),
        (js.logistic_bernoulli_cross_entropy_from_logits, js.bernoulli_cross_entropy(sig, t)),
    ):
        v, g = value_grad(f)
        assert np.isfinite(v) and np.isfinite(g).all()
        np.testing.assert_allclose(v, composed, rtol=1e-6)
    # A non-zero target where the output is 0 costs +∞ (the limit), with a finite gradient.
    v, g = jax.value_and_grad(js.softmax_cross_entropy_from_logits)(
        jnp.array([0.0, -jnp.inf]), t[::-1]
    )
    assert v == np.inf and np.isfinite(g).all()


def test_xlogy_derivative_in_x_is_log_y_and_nan_propagates():
    np.testing.assert_allclose(jax.grad(js.xlogy, 0)(0.0, 3.0), np.log(3.0), rtol=1e-6)
    assert np.isnan(js.xlogy(0.0, jnp.nan))
    assert np.isnan(js.cross_entropy(jnp.array([jnp.nan, 1.0]), jnp.array([0.0, 1.0])))
    assert np.isnan(js.bernoulli_cross_entropy(jnp.array([jnp.nan, 0.5]), jnp.array([0.0, 1.0])))
    assert np.isnan(js.logistic_cross_entropy_from_logits(jnp.array([jnp.nan]), jnp.array([0.0])))
    # The penalties keep finite gradients where their value is finite, at t = z* = 0 too.
    z, t = jnp.array([0.0, 1.0]), jnp.array([0.0, 1.0])
    gz, gt = jax.grad(js.cross_entropy, argnums=(0, 1))(z, t)
    assert np.isfinite(gz).all() and np.isfinite(gt).all()
    np.testing.assert_allclose(gt, [0.0, 1.0])  # log t + 1 − log z*: 0 by convention at 0


def test_xlogy_passes_jax_own_grad_at_zero_test():
    # jax's tests/lax_scipy_test.py::testGradOfXlogyAtZero (jax issue 15598), on ours: the
    # first derivatives at (0, 3) and check_grads to order 2 (∂²/∂x∂y = 1/y at x = 0).
    x0, y0 = 0.0, 3.0
    np.testing.assert_allclose(jax.grad(js.xlogy, argnums=0)(x0, y0), np.log(y0), rtol=1e-6)
    assert jax.grad(js.xlogy, argnums=1)(x0, y0) == 0.0
    check_grads(js.xlogy, (x0, y0), order=2)
    hxy = jax.jacfwd(jax.grad(js.xlogy, argnums=0), argnums=1)(x0, y0)
    np.testing.assert_allclose(hxy, 1 / y0, rtol=1e-6)


def test_xlogy_gradient_differs_from_jax_scipy_at_the_origin():
    ours = jax.grad(js.xlogy, argnums=(0, 1))(0.0, 0.0)
    theirs = jax.grad(jax.scipy.special.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert ours[0] == -np.inf and theirs[0] == -np.inf  # ∂/∂x = log y agrees
    assert ours[1] == 0.0  # ∂/∂y: 0 along x = 0 (documented) ...
    assert np.isnan(theirs[1])  # ... where jax.scipy gives 0/0


def test_softmax_cross_entropy_differs_from_optax_on_soft_targets():
    z, t = jnp.array([0.0, 0.0]), jnp.array([0.5, 0.5])
    np.testing.assert_allclose(js.softmax_cross_entropy_from_logits(z, t), 0.0, atol=1e-7)
    np.testing.assert_allclose(optax.losses.softmax_cross_entropy(z, t), np.log(2.0), rtol=1e-6)
    onehot = jnp.array([1.0, 0.0])  # Σ t log t = 0: they agree
    np.testing.assert_allclose(
        js.softmax_cross_entropy_from_logits(z, onehot),
        optax.losses.softmax_cross_entropy(z, onehot),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "fn",
    [
        js.least_squares,
        js.cross_entropy,
        js.bernoulli_cross_entropy,
        *[f for f, _, _ in FROM_LOGITS],
    ],
    ids=lambda f: f.__name__,
)
def test_check_targets_refuses_out_of_domain_targets(fn):
    z = jnp.array([0.3, 0.7])
    for bad, shown in (([-0.1, 1.0], "-0.1"), ([0.5, 1.5], "1.5"), ([np.nan, 1.0], "nan")):
        with pytest.raises(ValueError, match=rf"targets must lie in \[0, 1\].*= {shown}"):
            fn(z, jnp.array(bad), check_targets=True)
        fn(z, jnp.array(bad))  # unchecked by default: no error
    fn(z, jnp.array([0.9, 0.9]), check_targets=True)  # sums other than one are fine
    # Traced: a checkify check, reported by the caller's checkify.checkify.
    from jax.experimental import checkify

    checked = checkify.checkify(
        jax.jit(lambda x, t: fn(x, t, check_targets=True)), errors=checkify.user_checks
    )
    err, _ = checked(z, jnp.array([-0.1, 1.0]))
    with pytest.raises(checkify.JaxRuntimeError, match=r"must lie in \[0, 1\]"):
        err.throw()
    err, _ = checked(z, jnp.array([0.2, 1.0]))
    assert err.get() is None


def test_logsumexp_accuracy_carries_into_the_cross_entropy():
    with jax.enable_x64(True):
        z, t = jnp.array([0.0, -40.0]), jnp.array([1.0, 0.0])
        np.testing.assert_allclose(
            js.softmax_cross_entropy_from_logits(z, t), np.log1p(np.exp(-40.0)), rtol=1e-15
        )


def test_from_logits_switch_gives_the_composition_and_logits_without_it_do_not():
    # Passing logits where probabilities are expected is a documented switch, not a silent
    # wrong answer when asked for: from_logits=True is the stable composition.
    z = jnp.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    t = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    pairs = (
        (js.cross_entropy, js.softmax, js.softmax_cross_entropy_from_logits),
        (js.least_squares, js.softmax, js.softmax_least_squares_from_logits),
        (js.bernoulli_cross_entropy, js.logistic, js.logistic_bernoulli_cross_entropy_from_logits),
    )
    for loss, activation, from_logits in pairs:
        got = loss(z, t, from_logits=True)
        np.testing.assert_allclose(got, from_logits(z, t), rtol=1e-6)
        np.testing.assert_allclose(got, loss(activation(z), t), rtol=1e-5, atol=1e-6)
        assert not np.allclose(loss(z, t), got)  # logits as outputs: a different number
