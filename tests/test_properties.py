"""Property-based suite (hypothesis) for the numerics of issue 15.

Over float32, float64 (under ``jax.enable_x64``), bfloat16 and float16 inputs, q = 1…8 classes
(a fixed (3, 8) array whose rows keep the first q entries, by ``where=`` or by −∞ padding, so
compilation stays bounded: one program per function and dtype), inverse temperatures
β ∈ {0, ±0.3, ±1, ±2.5, ±1e30}, −∞ and ±huge logits (±3e38; ±6e4 in float16) and zero,
one-hot and soft targets, it asserts:

* values and gradients are finite wherever the mathematical limit is;
* distributions sum to one within 8·q ulp of the compute dtype plus one ulp of the output
  dtype (float32 for the half types);
* agreement with a NumPy ``longdouble`` reference computed from the same (rounded) inputs,
  to a relative budget of 8 ulp of the compute dtype times the condition number of the
  exponentials (1 + |βz − max|), plus one ulp of the output dtype;
* eager == jit (within 2 ulp of the output dtype).

Run time: under 60 s on 2 CPU cores (``max_examples`` below; jitted functions are cached per
dtype).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jaxsoftmax as js

Q = 8
ROWS = 3
DTYPES = ["float32", "float64", "bfloat16", "float16"]
BETAS = [1.0, 0.0, 0.3, -0.3, -1.0, 2.5, -2.5, 1e30, -1e30]
LD = np.longdouble


def _np_dtype(name):
    return jnp.dtype(name)


def _cdtype(name):
    return np.float64 if name == "float64" else np.float32


def _eps(dtype):
    return float(jnp.finfo(dtype).eps)


def _huge(name):
    return 6e4 if name == "float16" else 3e38


def _ctx(name):
    return jax.enable_x64(name == "float64")


@st.composite
def logit_rows(draw, name, allow_neg_inf=True):
    """(3, 8) logits in dtype ``name`` and the number q of kept entries per row."""
    huge = _huge(name)
    specials = [huge, -huge, 0.0] + ([-np.inf] if allow_neg_inf else [])
    elem = st.one_of(
        st.floats(-30, 30, allow_nan=False, width=32),
        st.sampled_from(specials),
    )
    vals = draw(st.lists(elem, min_size=ROWS * Q, max_size=ROWS * Q))
    q = draw(st.lists(st.integers(1, Q), min_size=ROWS, max_size=ROWS))
    z = np.asarray(vals, np.float64).reshape(ROWS, Q)
    return np.asarray(jnp.asarray(z, _np_dtype(name))), np.asarray(q)


def _mask(q):
    return np.arange(Q)[None, :] < q[:, None]


# --------------------------------------------------------------------------------------------
# References in long double
# --------------------------------------------------------------------------------------------


def ref_softmax_family(z, beta, mask):
    """(softmax, log_softmax, LSE_β (β ≠ 0), x = β(z − m)) in long double; NaN where undefined."""
    z = np.asarray(z, np.float64).astype(LD)
    beta = LD(beta)
    out_p = np.zeros_like(z)
    out_l = np.full_like(z, -np.inf)
    lse = np.zeros(z.shape[0], LD)
    xs = np.full_like(z, -np.inf)
    for r in range(z.shape[0]):
        kz = z[r][mask[r]]
        m = kz.min() if beta < 0 else kz.max()
        with np.errstate(invalid="ignore", over="ignore"):
            d = kz - m
            x = np.where(np.isinf(d), -np.inf, beta * d)
            mx = x.max()
            e = np.exp(x - mx) if np.isfinite(mx) else np.zeros_like(x)
            s = e.sum()
            top = x == mx
            # log s as log1p(the rest): long double's own log(1 + tiny) would round too.
            log_s = np.log1p(e[~top].sum() + (top.sum() - 1)) if s > 0 else -np.inf
            p = e / s if s > 0 else np.zeros_like(x)
            lp = x - mx - log_s if s > 0 else np.full_like(x, -np.inf)
        out_p[r][mask[r]] = p
        out_l[r][mask[r]] = lp
        xs[r][mask[r]] = x
        if beta != 0:
            lse[r] = m + (mx + log_s) / beta if s > 0 else -np.inf * np.sign(beta)
    return out_p, out_l, lse, xs


def ref_softmax_grads(xs, beta, mask, w):
    """∂/∂z of Σ w·softmax and of Σ_kept w·log_softmax in long double, from x = β(z − m)
    (:func:`ref_softmax_family`): β·e_k(den·w_k − ⟨e, w⟩)/den² and β·(den·w_k − e_k·W)/den
    for x_k > −∞, W = Σ w over the kept entries above −∞ (the others' outputs are the
    constant −∞), with e = exp(x), den = Σe, so that ties (e = 1) cancel exactly."""
    e = np.exp(np.asarray(xs, LD))
    w = np.broadcast_to(np.asarray(w, LD), e.shape)
    den = e.sum(-1, keepdims=True)
    safe = np.where(den > 0, den, 1)
    alive = np.isfinite(np.asarray(xs, LD))
    wk = np.where(mask, w, 0)
    g_sm = LD(beta) * e * (safe * wk - (e * wk).sum(-1, keepdims=True)) / safe**2
    wa = np.where(alive, wk, 0)
    g_lsm = LD(beta) * (safe * wa - e * wa.sum(-1, keepdims=True)) / safe
    empty = den == 0
    return np.where(empty, 0, g_sm), np.where(empty | ~mask | ~alive, 0, g_lsm)


def _close_where_representable(got, ref, atol, eps_o, what):
    """Where the reference rounded to the output dtype is finite, ``got`` is finite and within
    ``atol + 2·eps_o·|ref|``; where it overflows, anything (±∞ is the rounded answer)."""
    dtype = np.asarray(got).dtype
    got = np.asarray(got, np.float64)
    with np.errstate(over="ignore"):
        fin = np.isfinite(np.asarray(np.asarray(ref, np.float64).astype(dtype), np.float64))
    ref = np.asarray(ref, np.float64)
    assert np.isfinite(got[fin]).all(), f"{what}: not finite where the reference is: {got}"
    err = np.abs(got[fin] - ref[fin])
    assert np.all(err <= atol + 2 * eps_o * np.abs(ref[fin])), f"{what}: {got} vs {ref}"


def _close(got, ref, rtol, atol, what):
    """|got − ref| ≤ atol + rtol·|ref|, same NaN pattern, and the infinities of the reference
    rounded to the output dtype (a finite value beyond its range rounds to ±∞)."""
    dtype = np.asarray(got).dtype
    got = np.asarray(got, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = np.asarray(np.asarray(ref, np.float64).astype(dtype), np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{what}: NaN pattern {got} vs {ref}"
    inf = np.isinf(ref)
    assert np.array_equal(got[inf], ref[inf]), f"{what}: infinities {got} vs {ref}"
    fin = ~inf & ~np.isnan(ref)
    err = np.abs(got[fin] - ref[fin])
    budget = (
        atol[fin] + rtol * np.abs(ref[fin]) if np.ndim(atol) else atol + rtol * np.abs(ref[fin])
    )
    assert np.all(err <= budget), f"{what}: error {err.max()} > budget, got {got} ref {ref}"


# --------------------------------------------------------------------------------------------
# Cached jitted functions: one program per dtype (and the eager calls: one per dtype too)
# --------------------------------------------------------------------------------------------


@functools.cache
def _act_jit(name):
    def f(z, b, mask, w):
        out = {
            "softmax": js.softmax(z, beta=b, where=mask),
            "log_softmax": js.log_softmax(z, beta=b, where=mask),
            "hardmax": js.hardmax(z, beta=b, where=mask),
            "l1": js.l1_normalize(z, where=mask),
        }
        grads = {
            "softmax": jax.grad(lambda x: jnp.sum(w * js.softmax(x, beta=b, where=mask)))(z),
            "log_softmax": jax.grad(
                lambda x: jnp.sum(jnp.where(mask, w * js.log_softmax(x, beta=b, where=mask), 0))
            )(z),
        }
        return out, grads

    return jax.jit(f)


@functools.cache
def _lse_jit(name):
    def f(z, b, mask):
        g = jax.grad(lambda x: jnp.sum(js.logsumexp(x, beta=b, where=mask)))(z)
        return js.logsumexp(z, beta=b, where=mask), g

    return jax.jit(f)


FROM_LOGITS = (
    "softmax_cross_entropy_from_logits",
    "softmax_least_squares_from_logits",
    "logistic_cross_entropy_from_logits",
    "logistic_bernoulli_cross_entropy_from_logits",
    "logistic_least_squares_from_logits",
)


@functools.cache
def _pen_jit(name):
    def f(z, t):
        vals, grads = {}, {}
        for fn in FROM_LOGITS:
            g = jax.grad(lambda x, fn=fn: jnp.sum(getattr(js, fn)(x, t)))(z)
            vals[fn] = getattr(js, fn)(z, t)
            grads[fn] = g
        return vals, grads

    return jax.jit(f)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, hardmax, l1_normalize (with β and masks)
# --------------------------------------------------------------------------------------------


@st.composite
def activation_cases(draw):
    name = draw(st.sampled_from(DTYPES))
    beta = draw(st.sampled_from(BETAS))
    z, q = draw(logit_rows(name, allow_neg_inf=beta >= 0))  # −∞·(β < 0) = +∞: NaN by design
    w = draw(st.lists(st.floats(-2, 2), min_size=Q, max_size=Q))
    return name, beta, z, q, np.asarray(w)


@settings(max_examples=40, deadline=None)
@given(activation_cases())
@example(("float32", 1e30, np.array([[-15.81, -3.38, 43.15] + [0.0] * 5] * 3, np.float32),
          np.array([3, 3, 3]), np.ones(Q)))  # fmt: skip
@example(("float32", 1.0, np.array([[0.0, -20.0] + [0.0] * 6] * 3, np.float32),
          np.array([2, 2, 2]), np.ones(Q)))  # fmt: skip
@example(("float16", 1e30, np.array([[3.0] * 3 + [2.0] * 5, [3.0] + [2.0] * 7,
                                     [-2.0] * 3 + [2.0] * 5], np.float16),
          np.array([8, 8, 8]), np.array([3.0] * 3 + [0.0] * 5)))  # fmt: skip
def test_softmax_family_properties(case):
    name, beta, z, q, w = case
    dtype = _np_dtype(name)
    mask = _mask(q)
    cd = _cdtype(name)
    eps_c, eps_o = _eps(cd), _eps(dtype)
    with _ctx(name):
        zj = jnp.asarray(z, dtype)
        b = jnp.asarray(beta, cd)
        out, grads = _act_jit(name)(
            zj, b, jnp.asarray(mask), jnp.asarray(np.broadcast_to(w, (ROWS, Q)), dtype)
        )
        p, lp, _, xs = ref_softmax_family(np.asarray(zj, np.float64), np.asarray(b), mask)
        cond = 1 + np.abs(np.where(np.isfinite(xs), xs, 0).astype(np.float64))
        tiny = float(jnp.finfo(dtype).tiny) * 2
        _close(out["softmax"], p, 8 * eps_c * cond.max() * Q + eps_o, tiny, "softmax")
        sums = np.asarray(out["softmax"], np.float64).sum(-1)
        nonempty = np.asarray(p, np.float64).sum(-1) > 0  # an empty row is all zeros
        np.testing.assert_allclose(sums[nonempty], 1.0, rtol=0, atol=8 * Q * eps_c + Q * eps_o)
        lp_f = np.where(np.isfinite(np.asarray(lp, np.float64)), np.asarray(lp, np.float64), 0)
        atol_l = 8 * eps_c * (np.abs(np.where(np.isfinite(xs), xs, 0)) + Q * np.abs(lp_f)) + (
            eps_o * np.abs(lp_f)
        )
        _close(out["log_softmax"], lp, 8 * eps_c, np.asarray(atol_l, np.float64), "log_softmax")
        # The gradients against their closed forms (the article's Jacobian), finite wherever
        # the reference rounded to the output dtype is: β·(...) overflows float16 at
        # β = ±1e30, but a gradient that is exactly 0 (tied extremes with equal weights)
        # must stay 0 there, not ±∞ (issue 22 item 7).
        w_o = np.asarray(jnp.asarray(w, dtype), np.float64)
        g_sm, g_lsm = ref_softmax_grads(xs, beta, mask, w_o)
        # exp's relative error eps·|x| is at most eps/e in absolute terms: no condition number.
        budget_g = abs(beta) * 16 * Q * eps_c * (np.abs(w_o).sum() + 1)
        for key, ref_g in (("softmax", g_sm), ("log_softmax", g_lsm)):
            _close_where_representable(grads[key], ref_g, budget_g, eps_o, f"grad {key}")
        # hardmax is softmax's β → ±∞ limit (β = 0: uniform); l1 is exact up to rounding.
        sgn = np.sign(beta)
        hz = np.where(mask, np.asarray(zj, np.float64) * (sgn if sgn else 0), -np.inf)
        if sgn == 0:
            hz = np.where(mask & (np.asarray(zj, np.float64) > -np.inf), 0.0, -np.inf)
        top = (hz == hz.max(-1, keepdims=True)) & (hz > -np.inf)
        ref_h = top / np.maximum(top.sum(-1, keepdims=True), 1)
        np.testing.assert_allclose(np.asarray(out["hardmax"], np.float64), ref_h, rtol=eps_o)
        a = np.where(mask, np.abs(np.asarray(zj, np.float64)), 0).astype(LD)
        with np.errstate(invalid="ignore"):
            big = a.max(-1, keepdims=True)
            ref_l1 = np.where(
                np.isinf(big), np.isinf(a) / np.maximum(np.isinf(a).sum(-1, keepdims=True), 1),
                np.where(big > 0, a / np.where(big > 0, a.sum(-1, keepdims=True), 1),
                         mask / mask.sum(-1, keepdims=True)),
            )  # fmt: skip
        _close(out["l1"], ref_l1, 4 * Q * eps_c + eps_o, tiny, "l1_normalize")
        # eager == jit
        eager = js.softmax(zj, beta=b, where=jnp.asarray(mask))
        np.testing.assert_allclose(
            np.asarray(eager, np.float64), np.asarray(out["softmax"], np.float64),
            rtol=2 * eps_o, atol=tiny,
        )  # fmt: skip


@st.composite
def lse_cases(draw):
    name = draw(st.sampled_from(DTYPES))
    beta = draw(st.sampled_from([b for b in BETAS if b != 0]))
    z, q = draw(logit_rows(name, allow_neg_inf=beta > 0))
    return name, beta, z, q


@settings(max_examples=30, deadline=None)
@given(lse_cases())
def test_logsumexp_properties(case):
    name, beta, z, q = case
    dtype = _np_dtype(name)
    mask = _mask(q)
    cd = _cdtype(name)
    eps_c, eps_o = _eps(cd), _eps(dtype)
    with _ctx(name):
        zj = jnp.asarray(z, dtype)
        b = jnp.asarray(beta, cd)
        lse, g = _lse_jit(name)(zj, b, jnp.asarray(mask))
        p, _, ref, _ = ref_softmax_family(np.asarray(zj, np.float64), np.asarray(b), mask)
        zf = np.where(mask & np.isfinite(np.asarray(zj, np.float64)), np.asarray(zj, np.float64), 0)
        scale = np.abs(zf).max(-1) + np.log(Q) / abs(beta)
        _close(lse, ref, eps_o, 8 * eps_c * scale, "logsumexp")
        # Its gradient is softmax (the article), finite wherever LSE is.
        finite = np.isfinite(np.asarray(lse, np.float64))
        assert np.isfinite(np.asarray(g, np.float64)[finite]).all()
        np.testing.assert_allclose(
            np.asarray(g, np.float64)[finite], np.asarray(p, np.float64)[finite],
            rtol=0, atol=64 * eps_c * np.max(1 + np.abs(beta * zf)) ** 0 + eps_o,
        )  # fmt: skip
        eager = js.logsumexp(zj, beta=b, where=jnp.asarray(mask))
        np.testing.assert_allclose(
            np.asarray(eager, np.float64), np.asarray(lse, np.float64), rtol=2 * eps_o
        )


# --------------------------------------------------------------------------------------------
# The from-logits penalties: q by −∞ padding with zero targets (the limit convention)
# --------------------------------------------------------------------------------------------


@st.composite
def penalty_cases(draw):
    name = draw(st.sampled_from(DTYPES))
    z, q = draw(logit_rows(name))
    kind = draw(st.sampled_from(["zero", "onehot", "soft"]))
    if kind == "zero":
        t = np.zeros((ROWS, Q))
    elif kind == "onehot":
        t = np.eye(Q)[draw(st.lists(st.integers(0, Q - 1), min_size=ROWS, max_size=ROWS))]
    else:
        t = np.asarray(
            draw(st.lists(st.floats(0, 1), min_size=ROWS * Q, max_size=ROWS * Q))
        ).reshape(ROWS, Q)
    mask = _mask(q)
    z = np.where(mask, z, -np.inf)  # q classes: the rest are −∞ logits with zero targets
    # XLA on CPU flushes subnormals to zero, so a subnormal target would be a zero target.
    t = np.where(mask & (t >= float(jnp.finfo(_np_dtype(name)).tiny)), t, 0.0)
    return name, z, t


def ref_penalties(z, t):
    z, t = z.astype(LD), t.astype(LD)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = z.max(-1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(-1, keepdims=True)
        logp = np.where(s > 0, z - m - np.log(s), -np.inf)
        p = np.exp(logp)
        tlt = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0)
        u = 1 - t
        ulu = np.where(u > 0, u * np.log(np.where(u > 0, u, 1)), 0)
        sp_neg = np.logaddexp(0, -z)  # −log σ(z)
        sp_pos = np.logaddexp(0, z)  # −log(1 − σ(z))
        sig = 1 / (1 + np.exp(-z))
        out = {
            "softmax_cross_entropy_from_logits": np.where(t > 0, tlt - t * logp, 0).sum(-1),
            "softmax_least_squares_from_logits": (0.5 * (t - p) ** 2).sum(-1),
            "logistic_cross_entropy_from_logits": np.where(t > 0, tlt + t * sp_neg, 0).sum(-1),
            "logistic_bernoulli_cross_entropy_from_logits": (
                np.where(t > 0, tlt + t * sp_neg, 0) + np.where(u > 0, ulu + u * sp_pos, 0)
            ).sum(-1),
            "logistic_least_squares_from_logits": (0.5 * (t - sig) ** 2).sum(-1),
        }
        scale = (np.abs(tlt) + t * np.abs(np.where(np.isfinite(logp), logp, 0)) + t).sum(-1)
        scale = scale + (np.abs(ulu) + u * np.minimum(np.abs(sp_pos), 1e300) + 1).sum(-1)
    return out, scale


@settings(max_examples=35, deadline=None)
@given(penalty_cases())
@example(("float32", np.array([[0.0, -np.inf] + [-np.inf] * 6] * 3),
          np.array([[1.0, 0.0] + [0.0] * 6] * 3)))  # fmt: skip
@example(("float32", np.array([[3e38, -3e38] + [-np.inf] * 6] * 3),
          np.array([[1.0, 0.0] + [0.0] * 6] * 3)))  # fmt: skip
@example(("float32", np.array([[3.4e38, -3.4e38] + [-np.inf] * 6] * 3),
          np.array([[0.0, 0.17] + [0.0] * 6] * 3)))  # fmt: skip
def test_from_logits_properties(case):
    name, z, t = case
    dtype = _np_dtype(name)
    cd = _cdtype(name)
    eps_c, eps_o = _eps(cd), _eps(dtype)
    with _ctx(name):
        zj, tj = jnp.asarray(z, dtype), jnp.asarray(t, dtype)
        vals, grads = _pen_jit(name)(zj, tj)
        ref, scale = ref_penalties(np.asarray(zj, np.float64), np.asarray(tj, np.float64))
        for fn in FROM_LOGITS:
            got = np.asarray(vals[fn], np.float64)
            _close(vals[fn], ref[fn], eps_o, 16 * Q * eps_c * np.asarray(scale, np.float64), fn)
            g = np.asarray(grads[fn], np.float64)
            fin = np.isfinite(got)
            assert np.isfinite(g[fin]).all(), f"{fn}: gradient not finite where the loss is"
            eager = getattr(js, fn)(zj, tj)
            np.testing.assert_allclose(
                np.asarray(eager, np.float64), got, rtol=2 * eps_o, atol=2 * eps_o
            )
        # The paper's penalties on outputs agree with the from-logits forms where finite.
        ce = np.asarray(js.cross_entropy(js.softmax(zj), tj), np.float64)
        sce = np.asarray(vals["softmax_cross_entropy_from_logits"], np.float64)
        both = np.isfinite(ce) & np.isfinite(sce) & (np.asarray(js.softmax(zj)) > 1e-30).all(-1)
        np.testing.assert_allclose(ce[both], sce[both], rtol=1e-2 if eps_o > 1e-6 else 1e-4,
                                   atol=1e-2 if eps_o > 1e-6 else 1e-4)  # fmt: skip


@pytest.mark.parametrize("name", DTYPES)
def test_outputs_keep_the_input_dtype(name):
    with _ctx(name):
        z = jnp.zeros((2, 3), _np_dtype(name))
        for fn in (js.softmax, js.log_softmax, js.logsumexp, js.hardmax, js.l1_normalize):
            assert fn(z).dtype == z.dtype
        assert js.softmax_cross_entropy_from_logits(z, z).dtype == z.dtype
