"""Sparsemax and 1.5-entmax, symbolically on each support region (issue 23, item 4): the
region-wise Δ_k and H_kl against ``jax.grad``/``jax.hessian`` of ``jaxsoftmax.sparse``, and
the piecewise verdicts."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import jaxsoftmax as js
from jaxsoftmax.derivations import sparse as dsp

TARGETS = [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.2, 0.5, 0.3), (0.3, 0.1, 0.9)]


def _jax_loss(activation: str, penalty: str):
    act = (lambda z: js.sparsemax(z)) if activation == "sparsemax" else (
        lambda z: js.entmax(z, alpha=1.5)
    )  # fmt: skip
    if penalty == "least_squares":
        return lambda z, t: js.least_squares(act(z), t)
    if penalty == "cross_entropy":
        return lambda z, t: js.cross_entropy(act(z), t)
    if activation == "sparsemax":
        return lambda z, t: js.sparsemax_loss(z, t)
    return lambda z, t: js.entmax_loss(z, t, alpha=1.5)


def _numeric(exprs, region, targets):
    point = {**dict(zip(dsp.Z, region.witness, strict=True)), **dict(zip(dsp.T, targets))}
    return np.array(sp.Matrix(exprs).subs(point).evalf(30).tolist(), dtype=float)


CASES = [
    (make, support, penalty)
    for make in (dsp.sparsemax_on, dsp.entmax15_on)
    for support in dsp.supports()
    for penalty in dsp.PENALTIES
    if penalty != "cross_entropy" or len(support) == 3
]


@pytest.mark.parametrize(("make", "support", "penalty"), CASES)
def test_region_delta_and_hessian_match_jax(make, support, penalty):
    # Bug caught: a wrong threshold τ_S (Σ_S z over q instead of |S|), the wrong root of
    # 1.5-entmax's quadratic, a Fenchel–Young loss without Ω(t) or with the wrong Tsallis
    # constant, a Hessian of another penalty: each region's symbolic Δ and H are evaluated
    # at its exact witness and compared with float64 autodiff of the library's functions.
    region = make(support)
    assert region.contains(region.witness)
    loss = _jax_loss(region.activation, penalty)
    with jax.enable_x64(True):
        z = jnp.asarray([float(x) for x in region.witness])
        act = js.sparsemax(z) if region.activation == "sparsemax" else js.entmax(z, alpha=1.5)
        assert tuple(np.flatnonzero(np.asarray(act) > 0)) == support  # the right region
        for targets in TARGETS:
            t = jnp.asarray(targets)
            got = _numeric(dsp.region_delta(region, penalty), region, targets).ravel()
            np.testing.assert_allclose(got, jax.grad(loss)(z, t), atol=1e-12)
            h = _numeric(dsp.region_hessian(region, penalty), region, targets)
            np.testing.assert_allclose(h, jax.hessian(loss)(z, t), atol=1e-10)


def test_a_planted_wrong_threshold_disagrees_with_jax():
    # The comparison above can fail: sparsemax's τ with q in place of |S| on S = {1, 2}.
    good = dsp.sparsemax_on((0, 1))
    tau = (dsp.Z[0] + dsp.Z[1] - 1) / 3
    bad = dataclasses.replace(
        good, outputs=(dsp.Z[0] - tau, dsp.Z[1] - tau, sp.Integer(0)), tau=tau
    )
    loss = _jax_loss("sparsemax", "least_squares")
    with jax.enable_x64(True):
        z = jnp.asarray([float(x) for x in good.witness])
        t = jnp.asarray(TARGETS[2])
        ref = np.asarray(jax.grad(loss)(z, t))
    got = _numeric(dsp.region_delta(bad, "least_squares"), bad, TARGETS[2]).ravel()
    assert np.max(np.abs(got - ref)) > 1e-3


def test_piecewise_verdicts():
    # Bugs caught: a natural verdict copied from the family (least squares is natural with
    # full-support sparsemax once Σ t = 1, on no other region), the Fenchel–Young losses not
    # natural somewhere, cross-entropy given a verdict where it is log 0.
    rows = {(v.activation, v.support, v.penalty): v for v in dsp.piecewise()}
    assert len(rows) == 2 * 7 * 3
    for activation in ("sparsemax", "entmax15"):
        for support in dsp.supports():
            fy = rows[(activation, support, "fenchel_young")]
            assert fy.natural == "equal", fy.evidence
            ce = rows[(activation, support, "cross_entropy")]
            assert (ce.natural == "undefined") == (len(support) < 3)
            ls = rows[(activation, support, "least_squares")]
            if activation == "sparsemax" and len(support) == 3:
                assert ls.natural == "equal if Σ_j t_j = 1", ls.evidence
            else:
                assert ls.natural == "different", ls.evidence
            if activation == "sparsemax" and ce.natural == "undefined":
                assert (fy.convex, ls.convex) == ("convex", "convex")
    # Every counterexample re-evaluated independently (float64 autodiff at its point).
    for v in dsp.piecewise():
        if v.natural != "different":
            continue
        region = (dsp.sparsemax_on if v.activation == "sparsemax" else dsp.entmax15_on)(v.support)
        loss = _jax_loss(v.activation, v.penalty)
        with jax.enable_x64(True):
            z = jnp.asarray([float(x) for x in region.witness])
            p = js.sparsemax(z) if v.activation == "sparsemax" else js.entmax(z, alpha=1.5)
            gaps = [
                float(jnp.max(jnp.abs(jax.grad(loss)(z, jnp.asarray(tt)) - (p - jnp.asarray(tt)))))
                for tt in [*(np.eye(3)), np.zeros(3)]
            ]
        assert max(gaps) > 1e-6, v.evidence
