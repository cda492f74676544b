"""Cross-checks of the symbolic route against the numeric one: every derived Δ_k, translated to
JAX by ``derivations.to_jax``, against ``jax.grad`` of the library's penalty∘activation
(``jaxsoftmax.autodiff_delta``) and against the library's closed forms (``Pairing.delta``),
for q = 2..10, in float32 and float64, on every JAX backend present (the ``device`` fixture)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxsoftmax as js
import jaxsoftmax.derivations as dv
from jaxsoftmax.derivations.symbols import j, k, q, t, z
from jaxsoftmax.derivations.to_jax import to_jax

NAMES = [f"{a}/{p}" for a, p in dv.PAIRINGS]
TOL = {np.float32: dict(rtol=5e-5, atol=5e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
ROWS = 4  # rows per kind of target


def _inputs(name: str, n: int, dtype, rng: np.random.Generator):
    """Logits in the pairing's domain and three kinds of targets, stacked: (3 * ROWS, n).

    Targets: one-hot; soft, summing to one (Dirichlet); soft, not summing to one (uniform).
    Linear/cross-entropy needs z > 0 and the L1 normalisation needs z away from 0.
    """
    activation = name.split("/")[0]
    if activation == "linear":
        logits = rng.uniform(0.5, 2.0, (3 * ROWS, n))
    elif activation == "l1":
        logits = rng.choice([-1.0, 1.0], (3 * ROWS, n)) * rng.uniform(0.5, 2.0, (3 * ROWS, n))
    else:
        logits = rng.normal(0.0, 2.0, (3 * ROWS, n))
    one_hot = np.eye(n)[rng.integers(0, n, ROWS)]
    soft = rng.dirichlet(np.ones(n), ROWS)
    free = rng.uniform(0.0, 1.0, (ROWS, n))
    targets = np.concatenate([one_hot, soft, free])
    return jnp.asarray(logits.astype(dtype)), jnp.asarray(targets.astype(dtype))


def _check(name: str, dtype, device, seed: int):
    rng = np.random.default_rng(seed)
    pairing = js.get_pairing(name)
    ours = dv.jax_delta(name)
    # The three routes in one program: one compilation per (q, dtype), not one per route.
    routes = jax.jit(
        lambda z_, t_: (ours(z_, t_), js.autodiff_delta(pairing, z_, t_), pairing.delta(z_, t_))
    )
    for n in range(2, 11):
        logits, targets = _inputs(name, n, dtype, rng)
        got, ref, closed = routes(logits, targets)
        assert got.dtype == dtype and got.shape == logits.shape
        assert got.devices() == {device}
        np.testing.assert_allclose(got, ref, **TOL[dtype], err_msg=f"{name} q={n} vs jax.grad")
        np.testing.assert_allclose(got, closed, **TOL[dtype], err_msg=f"{name} q={n} vs delta")
    # And the symbolic function on its own, outside any enclosing jit.
    alone = ours(logits, targets)
    assert alone.devices() == {device}
    np.testing.assert_allclose(alone, got, **TOL[dtype])


@pytest.mark.parametrize("name", NAMES)
def test_symbolic_delta_matches_autodiff_and_closed_form_float32(name, device):
    _check(name, np.float32, device, seed=NAMES.index(name))


@pytest.mark.parametrize("name", NAMES)
def test_symbolic_delta_matches_autodiff_and_closed_form_float64(name, device):
    with jax.enable_x64(True):
        _check(name, np.float64, device, seed=100 + NAMES.index(name))


@given(
    hnp.arrays(np.float32, (3, 5), elements=st.floats(-8, 8, width=32)),
    hnp.arrays(np.float32, (3, 5), elements=st.floats(0, 1, width=32)),
)
def test_softmax_cross_entropy_property(logits, targets):
    # Any logits and any targets in [0, 1] (not normalised): (Σ t) z* − t, as jax.grad says.
    ours = dv.jax_delta("softmax/cross_entropy")(logits, targets)
    ref = js.autodiff_delta(
        js.get_pairing("softmax/cross_entropy"), jnp.asarray(logits), jnp.asarray(targets)
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=2e-5)


def test_to_jax_maps_sums_to_the_last_axis():
    f = to_jax(z[k] * sp.Sum(t[j] ** 2, (j, 1, q)) + sp.exp(z[k]))
    x = jnp.asarray([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]], jnp.float32)
    y = jnp.asarray([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], jnp.float32)
    want = x * jnp.sum(y**2, axis=-1, keepdims=True) + jnp.exp(x)
    np.testing.assert_allclose(f(x, y), want, rtol=1e-6)


def test_to_jax_refuses_what_it_cannot_vectorise():
    with pytest.raises(ValueError, match="only involve its own index"):
        to_jax(sp.Sum(z[k] * t[j], (j, 1, q)))
    with pytest.raises(NotImplementedError, match="JNP_FUNCTIONS"):
        to_jax(sp.gamma(z[k]))
