"""Output activations: softmax and its relatives.

Sources: the *Softmax function* article (seed ``001``) for softmax with inverse temperature β,
its arg max / arg min limits, LogSumExp as the smooth max whose gradient is softmax, the
Jacobian σ_i(δ_ij − σ_j) and the logistic as the 2-class case; Dunne & Campbell (1997, seed
``002``) section 1 for the logistic and softmax output activations f_q; the forum thread (seed
``000``) for the L1 ("abs") normalisation rival.

Conventions shared by every function here:

* ``axis`` names the class axis (or axes); the default is the last one. Leading axes are batch.
* ``beta`` is the inverse temperature (the article's base ``b = e^β``): a scalar, or an array
  that broadcasts to the input with size 1 along ``axis`` (one temperature per row). It is
  applied *after* the shift: βz − max(βz) is computed as β·(z − max z) for β ≥ 0 and
  β·(z − min z) for β < 0, so the extreme entry's exponent is exactly 0 at every β (±1e30
  included) and nothing overflows unless the true result does. β = 0 is the uniform
  distribution over the kept entries (the limit β → 0; −∞ logits stay left out, as for any
  β > 0). A NaN (or ±∞) ``beta`` is refused with ``ValueError`` when it is concrete (a Python
  number, a NumPy array or a JAX array outside a trace: the latter costs one host read); under
  a trace it is not checked and gives NaN output.
* ``where`` is a boolean mask broadcastable to the input; ``False`` entries are left out.
  A masked entry gets probability 0 (log-probability −∞), whatever its value (NaN included).
  A row whose entries are all masked (or all −∞ after scaling by β) is the empty
  distribution: softmax gives all zeros, log_softmax all −∞, and logsumexp −∞ (the smooth max
  of nothing, as ``scipy.special.logsumexp([-inf])``), at every row length (one entry
  included), and every gradient through a masked entry is 0, never NaN. **Differs from**
  ``jax.nn.softmax`` / ``jax.nn.log_softmax``, which give NaN for a row of −∞ logits: the
  empty distribution (zeros) is the limit of masking entries out one by one, and keeps the
  convention "NaN only by design" below.
* Gradients at an explicit β are computed with β applied once, after the cancellation in
  the Jacobian, so a gradient that is exactly 0 (tied extremes with equal cotangents) is 0
  at any β, not β × rounding (±∞ in float16 at β = 1e30).
* Integer and boolean input is promoted to the default float dtype; complex input is refused.
  float16 and bfloat16 are computed in float32 and returned in the input dtype.
* NaN by design: a ``+inf`` logit (after scaling by β: ``-inf`` with β < 0) makes its row NaN
  (∞/∞ is undefined), as in ``jax.nn.softmax``; two +inf logits are no exception. A NaN logit
  (kept) makes its row NaN. Nothing else gives NaN.
* Every public function is jitted the way ``jax.nn`` does it (``axis`` and flags static; shape,
  dtype and axis checks run at trace time, once per compilation); a thin Python wrapper in
  front does only the concrete value checks on ``beta``, which are free for Python numbers.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._checks import Axis, as_float_array, as_mask, check_beta, compute_dtype, normalize_axis

__all__ = [
    "hardmax",
    "l1_normalize",
    "log_softmax",
    "logistic",
    "logsumexp",
    "softmax",
    "softmax_jacobian",
]

_SymbolicZero = jax.custom_derivatives.SymbolicZero


# --------------------------------------------------------------------------------------------
# Argument handling. The wrappers' helpers (_arr, _axis_arg, _mask_arg, _beta_arg) run eagerly
# on every call and only look at Python types; _setup and _row_beta run at trace time.
# --------------------------------------------------------------------------------------------


def _arr(x, name):
    """JAX arrays (and tracers) pass as they are; anything else is converted and checked now."""
    return x if isinstance(x, jax.Array) else as_float_array(x, name)


def _axis_arg(axis):
    """A hashable form of ``axis`` for the jitted core (checked there, at trace time)."""
    if isinstance(axis, int):
        return axis
    try:
        return tuple(axis)
    except TypeError:
        return axis


def _mask_arg(where):
    if where is None or isinstance(where, (jax.Array, np.ndarray)):
        return where
    return np.asarray(where)


def _beta_arg(beta, fn, *, allow_zero=True, allow_inf=False):
    """``None`` for the default β = 1 (the jitted core then skips the scaling), else β."""
    if type(beta) is float or type(beta) is int:
        if beta == 1:
            return None
        if not math.isfinite(beta) or beta == 0:
            check_beta(beta, fn, allow_zero=allow_zero, allow_inf=allow_inf)
        return beta
    check_beta(beta, fn, allow_zero=allow_zero, allow_inf=allow_inf)
    return _arr(beta, "beta")


def _row_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _setup(z, where, axis, name="z"):
    """Trace-time checks: returns (z in its compute dtype, axes, mask or None, output dtype)."""
    z = as_float_array(z, name)
    axes = normalize_axis(axis, z.ndim)
    mask = as_mask(where, z.shape)
    return z.astype(compute_dtype(z.dtype)), axes, mask, z.dtype


def _row_beta(beta, shape, axes, dtype, axis):
    """β as an array of the row shape (size 1 along ``axes``), or ``ValueError``."""
    b = as_float_array(beta, "beta").astype(dtype)
    rows = _row_shape(shape, axes)
    try:
        ok = jnp.broadcast_shapes(b.shape, rows) == rows
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"beta with shape {b.shape} must broadcast to {rows}: a scalar, or one inverse "
            f"temperature per row of z (z.shape={shape}, axis={axis!r})"
        )
    return jnp.broadcast_to(b, rows)


def _shift(z, axes, mask, b):
    """x = β·(z − m) ≤ 0, the max-shifted scaled logits, and the shift m (a constant).

    m is max z over the kept entries for β ≥ 0 (or β = None, meaning 1) and min z for β < 0,
    so β·(z − m) ≤ 0 with the extreme entries exactly 0: shifting *before* scaling keeps the
    extreme entry's exponent exactly 0 for any β, where β·z − max(β·z) leaves the rounding
    error of β·z (or ∞ − ∞) once β·z is large. The shift is a ``stop_gradient`` constant
    (softmax is shift invariant, so gradients are exact). Masked entries are −∞. A row with
    no kept entry is shifted by the extreme finite float instead of ±∞, so its entries give
    exp(−∞) = 0 rather than NaN. An infinite z − m (a −∞ logit, or an overflow far from the
    extreme) is −∞ after scaling at every β, 0 included. (The bound is the reduction's
    initial value, see :func:`_extreme`, which keeps XLA's single-fusion softmax pattern
    intact on CPU.)
    """
    info = jnp.finfo(z.dtype)
    hi = _extreme(z, axes, mask, lax.max, info.min)
    if b is None:
        m = lax.stop_gradient(hi)
    else:
        lo = _extreme(z, axes, mask, lax.min, info.max)
        m = lax.stop_gradient(jnp.where(b < 0, lo, hi))
    return _x_of(z, m, b, mask), m


def _extreme(z, axes, mask, op, init):
    """max (``op=lax.max``, ``init`` the lowest finite float) or min over ``axes`` of the
    kept entries, keepdims; a row with no kept entry above −∞ (below +∞) gives ``init``.

    Written as one ``lax.reduce`` whose initial value is the finite bound, not as
    ``jnp.max(..., initial=)`` (a reduction from −∞ followed by a ``maximum``): XLA's CPU
    backend fuses the reduction, the subtraction and the exponential of a softmax into one
    vectorised kernel only when the shift is a bare reduction (measured: ~1.3× faster
    softmax value + gradient at 2048 × 8192, ``experiments/bench_primitives.py``).
    """
    # The shift is a constant (stop_gradient), taken before the reduction: differentiating
    # a generic lax.reduce would build a tree of slices even though its tangent is dropped.
    z = lax.stop_gradient(z)
    bound = jnp.asarray(init, z.dtype)
    if mask is not None:
        z = jnp.where(mask, z, bound)
    if math.prod(z.shape[a] for a in axes) == 1:
        # A row of one entry: XLA turns a reduction over size-1 axes into a reshape that
        # drops the initial value (so [−∞] would be shifted by −∞ and give NaN); apply it.
        return op(z, bound)
    out = lax.reduce(z, np.array(init, z.dtype), op, axes)
    return lax.expand_dims(out, axes)


def _x_of(z, m, b, mask):
    """β·(z − m), −∞ where z − m is infinite or the entry is masked (see :func:`_shift`)."""
    if b is None:
        x = z - m
    else:
        # (z − m)/2 cannot overflow, and 2β·(z − m)/2 rounds exactly as β·(z − m) (halving is
        # exact), so β·(z − m) is finite whenever it is representable, |β| < 1 included. An
        # infinite half-difference is a −∞ logit (β ≥ 0) or a +∞ one (β < 0): −∞ after
        # scaling, except that every finite z is 0 at β = 0.
        h = z * 0.5 - m * 0.5
        inf_x = jnp.where((b == 0) & jnp.isfinite(z), 0, -jnp.inf)
        scaled = jnp.where(jnp.abs(b) <= 1, (2 * b) * h, b * (z - m))
        x = jnp.where(jnp.isinf(h), inf_x, scaled)
    if mask is not None:
        x = jnp.where(mask, x, -jnp.inf)
    return x


def _nonzero(s):
    """s + tiny: exactly s for every non-empty row (s ≥ 1), tiny > 0 for an empty row (s = 0).

    So e / _nonzero(s) is 0, not 0/0, on empty rows.
    """
    return s + jnp.finfo(s.dtype).tiny


# --------------------------------------------------------------------------------------------
# The cores on shifted logits x (x ≤ 0, the row's extreme entries exactly 0)
# --------------------------------------------------------------------------------------------


def _normalised(e, axes):
    return e / _nonzero(jnp.sum(e, axes, keepdims=True))


def _softmax_tangent(s, x_dot, mask, axes):
    # d softmax = s ⊙ (dx − ⟨s, dx⟩): the article's Jacobian σ_i(δ_ij − σ_j) applied to dx.
    # Masked entries and empty rows have s = 0, so their tangents are exactly 0.
    x_dot = x_dot if mask is None else jnp.where(mask, x_dot, jnp.zeros_like(x_dot))
    return s * (x_dot - jnp.sum(s * x_dot, axes, keepdims=True))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _softmax(x, axes, mask):
    return _normalised(jnp.exp(x), axes)


@_softmax.defjvp
def _softmax_jvp(axes, primals, tangents):
    # The Jacobian of _softmax_tangent, s ⊙ dx − s⟨s, dx⟩, written as
    # den·(a) − e ⟨1, a⟩ with a = (s / den) ⊙ dx (e = exp(x), den = Σe), so that its
    # transpose, the gradient, is (s / den) ⊙ (den·g − ⟨e, g⟩): tied extreme entries
    # (e = 1, den = n) with equal cotangents c cancel exactly (n·c − n·c = 0) before the
    # result is scaled (by β, outside). With s ⊙ (g − ⟨s, g⟩) (or a division by den, which
    # XLA turns into a product with 1/den) the rounding of 1/n leaves ~1e-7·β: ±∞ in
    # float16 at β = 1e30, where 0 is right. This is the β ≠ 1 core (x = β(z − m));
    # β = 1 keeps _softmax_z (no β to amplify the rounding).
    x, mask = primals
    x_dot = tangents[0]
    x_dot = x_dot if mask is None else jnp.where(mask, x_dot, jnp.zeros_like(x_dot))
    e = jnp.exp(x)
    den = _nonzero(jnp.sum(e, axes, keepdims=True))
    s = e / den
    a = (s / den) * x_dot  # an empty row: s = 0, so a = 0 (den² would underflow to 0)
    return s, den * a - e * jnp.sum(a, axes, keepdims=True)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _softmax_z(z, mask, axes):
    """softmax(z) at β = 1 from the raw logits: the max-shift (:func:`_shift`) inside the
    custom-JVP function, as ``jax.nn.softmax`` has it, so that under differentiation XLA
    still sees (and fuses into one kernel) reduce-max → subtract → exp; with the shift
    outside, the tangent of ``z − m`` splits that fusion (measured 1.3–1.6× slower value +
    gradient at 2048 × 8192 on CPU). Same values and tangents as :func:`_softmax`."""
    x, _ = _shift(z, axes, mask, None)
    return _normalised(jnp.exp(x), axes)


@_softmax_z.defjvp
def _softmax_z_jvp(axes, primals, tangents):
    z, mask = primals
    s = _softmax_z(z, mask, axes)
    return s, _softmax_tangent(s, tangents[0], mask, axes)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _log_norm(z, b, mask, axes):
    """L = log Σ_j exp(x_j) for x = β(z − m) of :func:`_shift` (x ≤ 0, maxima exactly 0).

    L = log s with s = Σ e^x where s ≥ 2, and L = log1p(Σ_{x_j < 0} e^{x_j}) where 0 < s < 2:
    there the row has a single maximum (two tied maxima give s ≥ 2), whose own term 1 is left
    out of the sum and added through log1p, so [0, −40] gives L = e^−40 rather than
    log(1 + e^−40) = log 1 = 0. On long rows that second pass runs (``lax.cond``) only when
    some row needs it, so rows that are not dominated by one entry cost one pass as in
    ``jax.nn``; it recomputes x from the inputs (a cond operand would otherwise be
    materialised), and its weight [x < 0] is :func:`_below`. Short rows (≤ ``_SMALL_ROW``
    entries) use log1p(Σ_{x_j < 0} e^{x_j} + n₀ − 1), n₀ the number of maxima, without a
    branch. L is −∞ for an empty row and NaN for a row with NaN (or ∞ − ∞) entries.
    Its derivative is softmax: dL = ⟨softmax(x), dx⟩ (a custom JVP).
    """
    x, m = _shift(z, axes, mask, b)
    if math.prod(z.shape[a] for a in axes) <= _SMALL_ROW:
        # Short rows: L = log1p(Σ_{x_j < 0} e^{x_j} + (n₀ − 1)) with n₀ the number of maxima
        # (x_j = 0), exact for ties and empty rows (n₀ = 0: log1p(−1) = −∞), in one fusion.
        r0 = jnp.sum(jnp.exp(x) * _below(x), axes, keepdims=True)
        n0 = jnp.sum((x == 0).astype(x.dtype), axes, keepdims=True)
        return jnp.log1p(r0 + (n0 - 1))
    s = jnp.sum(jnp.exp(x), axes, keepdims=True)
    near_one = (s > 0) & (s < 2)

    def accurate(ops):
        x = _x_of(*ops)
        r0 = jnp.sum(jnp.exp(x) * _below(x), axes, keepdims=True)
        return jnp.where(near_one, jnp.log1p(r0), jnp.log(s))

    return lax.cond(jnp.any(near_one), accurate, lambda _: jnp.log(s), (z, m, b, mask))


def _below(x):
    """[x < 0] for x ≤ 0 as min(−x·max_float, 1), which XLA's CPU reduction fusions take
    (a select there is not vectorised); NaN stays NaN."""
    return jnp.minimum(-x * jnp.finfo(x.dtype).max, 1)


# Rows of up to this many entries take the branch-free form of ``_log_norm`` (two short sums
# in one fusion); longer rows the max-shifted sum, plus the log1p pass under ``lax.cond`` only
# when some row is dominated by one entry. Measured on CPU (experiments/bench_primitives.py):
# at 128 × 10 the branch-free form is within a few percent of jax.nn.log_softmax, the branch
# 15–30% slower; at 2048 × 8192 the two sums in one fusion are not vectorised (~5× slower).
_SMALL_ROW = 256


def _log_norm_jvp(axes, primals, tangents):
    # dL = ⟨p, dx⟩ with p = softmax(x), dx = β dz + (z − m) dβ.
    z, b, mask = primals
    z_dot, b_dot, _ = tangents
    big_l = _log_norm(z, b, mask, axes)
    x, m = _shift(z, axes, mask, b)
    p = jnp.exp(x - jnp.where(big_l == -jnp.inf, 0, big_l))  # empty row: exp(−∞) = 0
    tangent = jnp.zeros_like(big_l)
    if not isinstance(z_dot, _SymbolicZero):
        z_dot = z_dot if b is None else b * z_dot
        z_dot = z_dot if mask is None else jnp.where(mask, z_dot, 0)
        tangent = tangent + jnp.sum(p * z_dot, axes, keepdims=True)
    if b is not None and not isinstance(b_dot, _SymbolicZero):
        pd = jnp.where(p == 0, 0, p * (z - m))
        tangent = tangent + b_dot * jnp.sum(pd, axes, keepdims=True)
    return big_l, tangent


_log_norm.defjvp(_log_norm_jvp, symbolic_zeros=True)


def _log_softmax(z, b, mask, axes):
    x, _ = _shift(z, axes, mask, b)
    big_l = _log_norm(z, b, mask, axes)
    # An empty row (L = −∞) keeps its −∞ entries, with zero gradient through L.
    return x - jnp.where(big_l == -jnp.inf, 0, big_l)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _log_softmax_beta(z, b, mask, axes):
    """log_softmax at an explicit β: :func:`_log_softmax`, with a tangent in which β is
    applied once, before the cancellation (see :func:`_log_softmax_beta_jvp`)."""
    return _log_softmax(z, b, mask, axes)


def _log_softmax_beta_jvp(axes, primals, tangents):
    # d log σ = dx − ⟨e, dx⟩ / Σe with dx = β dz + (z − m) dβ (0 where x = −∞: masked
    # entries, −∞ logits, overflow), e = exp(x). Autodiff of x − L would scale the two
    # terms by β separately and XLA:CPU fuses b·g + b·(−⟨p, g⟩) into an FMA, whose exact
    # product leaves β × (rounding of b·g) (1.5e23 at β = 1e30 for one maximum and g = 3,
    # ±∞ in float16, where the gradient is exactly 0). Here the tangent is
    # den·a − ⟨e, a⟩ with a = dx / den (den = Σe), whose transpose, the gradient, is
    # β·(den·g − e Σg) / den: one product by β, after tied maxima (e = 1, den = n) have
    # cancelled exactly (n·g − n·g = 0 for equal cotangents g; a division of Σg by den
    # would not: XLA turns it into a product with 1/den, and 1/n rounds).
    z, b, mask = primals
    z_dot, b_dot, _ = tangents
    out = _log_softmax_beta(z, b, mask, axes)
    x, m = _shift(z, axes, mask, b)
    # x is a constant (−∞) at masked entries and ±∞ logits; an entry whose z − m merely
    # overflows keeps its derivative β (its value −∞ is the rounding of a finite number).
    dead = ~jnp.isfinite(z) if mask is None else ~(mask & jnp.isfinite(z))
    x_dot = jnp.zeros_like(x)
    if not isinstance(z_dot, _SymbolicZero):
        x_dot = x_dot + b * z_dot
    if not isinstance(b_dot, _SymbolicZero):
        x_dot = x_dot + b_dot * (z - m)
    x_dot = jnp.where(dead, 0, x_dot)
    e = jnp.exp(x)
    den = _nonzero(jnp.sum(e, axes, keepdims=True))  # an empty row: e = 0, tangent 0
    a = x_dot / den
    # e = 0 where (z − m)·dβ may overflow: 0, not 0·∞. A masked entry or ±∞ logit has the
    # constant output −∞ (NaN): tangent 0.
    tangent = den * a - jnp.sum(jnp.where(e == 0, 0, e * a), axes, keepdims=True)
    return out, jnp.where(dead, 0, tangent)


_log_softmax_beta.defjvp(_log_softmax_beta_jvp, symbolic_zeros=True)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp
# --------------------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("axis",))
def _softmax_jit(z, beta, where, axis):
    z, axes, mask, dtype = _setup(z, where, axis)
    if beta is None:
        return _softmax_z(z, mask, axes).astype(dtype)
    b = _row_beta(beta, z.shape, axes, z.dtype, axis)
    x, _ = _shift(z, axes, mask, b)
    return _softmax(x, axes, mask).astype(dtype)


def softmax(
    z: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""Softmax (softargmax, normalised exponential) with inverse temperature β.

    .. math::
        \sigma(z)_i = \frac{e^{\beta z_i}}{\sum_j e^{\beta z_j}}
                    = \frac{e^{\beta (z_i - m)}}{\sum_j e^{\beta (z_j - m)}}

    The article's definition with base :math:`b = e^\beta`; Dunne & Campbell's f_q (section 1)
    is the case β = 1. It is computed in the second form, with m = max z (β ≥ 0) or min z
    (β < 0), so every exponent is ≤ 0 at any β. As β → +∞ it tends to :func:`hardmax` (arg max,
    ties sharing the mass) and as β → −∞ to the arg min; β = 0 gives the uniform distribution
    over the kept entries. It is invariant to adding a constant along ``axis`` but not to
    scaling. Its Jacobian is β σ_i(δ_ij − σ_j) (:func:`softmax_jacobian`).

    NaN by design: a row with a kept NaN, or a kept +∞ logit (−∞ for β < 0; two +∞ logits
    included: ∞/∞); every row under a traced NaN β. Concrete NaN or ±∞ β raises ``ValueError``.
    **Differs from** ``jax.nn.softmax``: a row of −∞ logits (any length, one entry included)
    is all zeros here, the empty distribution of an all-masked row; ``jax.nn`` gives NaN.

    Args:
      z: logits, shape ``(..., q, ...)``; integer input is promoted to float.
      axis: class axis or axes (static under ``jit``).
      beta: inverse temperature (scalar or one per row), finite.
      where: boolean mask; masked entries get probability 0, an all-masked row is all zeros.

    Returns:
      Probabilities with the shape and (floating) dtype of ``z``, summing to 1 along ``axis``.
    """
    return _softmax_jit(
        _arr(z, "z"), _beta_arg(beta, "softmax"), _mask_arg(where), axis=_axis_arg(axis)
    )


@functools.partial(jax.jit, static_argnames=("axis",))
def _log_softmax_jit(z, beta, where, axis):
    z, axes, mask, dtype = _setup(z, where, axis)
    if beta is None:
        return _log_softmax(z, None, mask, axes).astype(dtype)
    b = _row_beta(beta, z.shape, axes, z.dtype, axis)
    return _log_softmax_beta(z, b, mask, axes).astype(dtype)


def log_softmax(
    z: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""Logarithm of :func:`softmax`, computed stably and accurately.

    .. math::
        \log\sigma(z)_i = \beta (z_i - m) - \log\Big(1 + \sum_{j \ne j^*} e^{\beta (z_j - m)}\Big)

    with m the max (β ≥ 0) or min (β < 0) of z and j* one entry attaining it, the log of the
    sum taken by ``log1p`` so that tiny probabilities of the *other* entries are not rounded
    away: float32 ``log_softmax([0, -20])`` is ``[-2.06e-9, -20]``, not ``[0, -20]``. Finite
    for any finite ``z`` and β (e.g. ±3e38 in float32). Masked entries are −∞ (log 0); an
    all-masked row, or a row of −∞ logits of any length, is all −∞ with zero gradient
    (``jax.nn.log_softmax`` gives NaN for the latter). NaN by design exactly where :func:`softmax`
    is NaN. ``jax.nn.log_softmax`` rounds those small terms away; keeping them costs a second
    pass on rows of more than 256 entries dominated by one (see :func:`logsumexp`).

    Args:
      z: logits, shape ``(..., q, ...)``.
      axis: class axis or axes (static under ``jit``).
      beta: inverse temperature (scalar or one per row), finite.
      where: boolean mask.

    Returns:
      Log-probabilities with the shape and dtype of ``z``.
    """
    return _log_softmax_jit(
        _arr(z, "z"), _beta_arg(beta, "log_softmax"), _mask_arg(where), axis=_axis_arg(axis)
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _lse_beta(z, b, mask, axes):
    """LSE_β = m + L/β with L = log Σ exp(β(z − m)); L/β is taken as 0 where L = 0."""
    _, m = _shift(z, axes, mask, b)
    big_l = _log_norm(z, b, mask, axes)
    lse = m + jnp.where(big_l == 0, 0, big_l / b)
    return jnp.where(jnp.isinf(m), m, lse)  # an infinite extreme entry is the smooth max


def _lse_beta_jvp(axes, primals, tangents):
    # ∂LSE_β/∂z = softmax(z, β) (the article); ∂LSE_β/∂β = (⟨σ, z⟩ − LSE_β)/β.
    z, b, mask = primals
    z_dot, b_dot, _ = tangents
    out = _lse_beta(z, b, mask, axes)
    x, m = _shift(z, axes, mask, b)
    p = _softmax(x, axes, mask)
    tangent = jnp.zeros_like(out)
    if not isinstance(z_dot, _SymbolicZero):
        z_dot = z_dot if mask is None else jnp.where(mask, z_dot, 0)
        tangent = tangent + jnp.sum(p * z_dot, axes, keepdims=True)
    if not isinstance(b_dot, _SymbolicZero):
        pd = jnp.sum(jnp.where(p == 0, 0, p * (z - m)), axes, keepdims=True)
        tangent = tangent + b_dot * (pd - (out - m)) / b
    return out, tangent


_lse_beta.defjvp(_lse_beta_jvp, symbolic_zeros=True)


@functools.partial(jax.jit, static_argnames=("axis", "keepdims"))
def _logsumexp_jit(z, beta, where, axis, keepdims):
    z, axes, mask, dtype = _setup(z, where, axis)
    if beta is None:
        _, m = _shift(z, axes, mask, None)
        lse = jnp.where(m == jnp.inf, m, m + _log_norm(z, None, mask, axes))
    else:
        lse = _lse_beta(z, _row_beta(beta, z.shape, axes, z.dtype, axis), mask, axes)
    if not keepdims:
        lse = jnp.squeeze(lse, axes)
    return lse.astype(dtype)


def logsumexp(
    z: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
    keepdims: bool = False,
) -> jax.Array:
    r"""LogSumExp, the smooth maximum, at inverse temperature β.

    .. math::
        \mathrm{LSE}_\beta(z) = \frac{1}{\beta}\log\sum_i e^{\beta z_i}
          = m + \frac{1}{\beta}\,\mathrm{log1p}\Big(\sum_{i \ne i^*} e^{\beta (z_i - m)}\Big)

    The article's LogSumExp is the case β = 1. Scaling by 1/β makes it a smooth maximum at
    every temperature: max(z) ≤ LSE_β(z) ≤ max(z) + log(q)/β for β > 0, so it tends to max as
    β → +∞ and to min as β → −∞, and its gradient is exactly ``softmax(z, beta=β)`` (the
    article: "the softmax function is also the gradient of the LogSumExp function"). It is
    computed in the second form (m the max for β > 0, the min for β < 0, i* one entry
    attaining it), which neither overflows where the result is finite (β = ±1e30 included)
    nor rounds 1 + e^−40 to 1: ``logsumexp([0., -40.])`` is 4.25e-18 in float64. The
    *unscaled* log Σ e^{βz} = β·LSE_β (not computed here) is ±∞ where β·max z overflows.
    An all-masked row gives −∞ for β > 0 (+∞ for β < 0).

    **β = 0.** With this (documented, smooth-max) normalisation there is no finite limit at
    β = 0 for two or more kept entries: LSE_β = log(count)/β + mean(z) + O(β) → ±∞ as β → 0±
    (it is β·LSE_β that tends to log(count)). A concrete β = 0 is therefore refused with
    ``ValueError``; a traced β = ±0 gives the one-sided limit ±∞ (the single entry itself for
    one kept entry), with gradient ``softmax(z, beta=0)``, the uniform distribution.

    **Differs from** ``jax.nn.logsumexp`` / ``jax.scipy.special.logsumexp``: their default
    ``axis=None`` reduces over *all* axes, ours (``-1``) over the class axis only; and their
    ``b`` is a multiplicative weight inside the sum, not an inverse temperature. They round
    1 + e^−40 to 1. **Cost**: as theirs, except on rows of more than 256 entries where one
    entry dominates (Σ e^{β(z_j − m)} < 2): keeping the small terms takes a second pass over
    the input when any row of the call is such (measured up to 2.2× ``jax.nn.logsumexp``'s
    time on CPU, ``experiments/bench_primitives.py``).

    A kept +∞ entry (−∞ for β < 0) gives +∞ (−∞), the smooth max of a row with an infinite
    maximum (its gradient is then not meaningful). NaN by design: a row with a kept NaN;
    every row under a traced NaN β.

    Args:
      z: input, shape ``(..., q, ...)``.
      axis: axis or axes to reduce (static under ``jit``).
      beta: inverse temperature (scalar or one per row), finite and non-zero.
      where: boolean mask of the entries to include.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The reduction, with the dtype of ``z``.
    """
    return _logsumexp_jit(
        _arr(z, "z"),
        _beta_arg(beta, "logsumexp", allow_zero=False),
        _mask_arg(where),
        axis=_axis_arg(axis),
        keepdims=bool(keepdims),
    )


# --------------------------------------------------------------------------------------------
# The limits and the rivals
# --------------------------------------------------------------------------------------------


@jax.jit
def _logistic_jit(x):
    x = as_float_array(x, "x")
    return jax.nn.sigmoid(x.astype(compute_dtype(x.dtype))).astype(x.dtype)


def logistic(x: jax.typing.ArrayLike) -> jax.Array:
    r"""The logistic sigmoid, the 2-class softmax.

    .. math::
        f(x) = \frac{1}{1 + e^{-x}} = \mathrm{softmax}([x, 0])_0

    Dunne & Campbell's squashing function f_1 (section 1) and the article's "standard logistic
    function is the special case for a 1-dimensional axis in 2-dimensional space". Applied
    elementwise (each output unit on its own, so outputs need not sum to one). Stable for all
    x: f(−∞) = 0, f(+∞) = 1; NaN only for NaN input.

    Args:
      x: logits of any shape.

    Returns:
      Values in [0, 1], same shape and dtype as ``x``.
    """
    return _logistic_jit(_arr(x, "x"))


@functools.partial(jax.jit, static_argnames=("axis",))
def _hardmax_jit(z, beta, where, axis):
    z, axes, mask, dtype = _setup(lax.stop_gradient(z), where, axis)
    sign = jnp.sign(_row_beta(beta, z.shape, axes, z.dtype, axis))
    # β = 0: every entry above −∞ ties (z·0 keeps NaN and makes +∞ NaN, as softmax at β = 0).
    x = jnp.where(sign == 0, jnp.where(z == -jnp.inf, -jnp.inf, z * 0), sign * z)
    m = jnp.max(x, axes, where=mask, initial=-jnp.inf, keepdims=True)
    ties = (x == m) & (x > -jnp.inf)
    if mask is not None:
        ties = ties & mask
    count = jnp.sum(ties, axes, keepdims=True, dtype=x.dtype)
    out = ties.astype(x.dtype) / jnp.where(count > 0, count, jnp.ones_like(count))
    out = jnp.where(jnp.isnan(m), jnp.nan, out)
    return out.astype(dtype)


def hardmax(
    z: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""The limit of :func:`softmax` as the inverse temperature goes to ±∞.

    .. math::
        \mathrm{hardmax}(z)_i = \lim_{c\to\infty}\mathrm{softmax}(z, \beta=c\,\beta)_i
          = \frac{[z_i = \max_j z_j]}{\#\{j : z_j = \max_k z_k\}}\quad(\beta > 0)

    One-hot arg max, with tied maxima sharing the mass equally (the article's "dividing the 1
    between all max args"). A negative ``beta`` gives the arg min (the article's β → −∞), and
    ``beta = 0`` the uniform distribution over the kept entries above −∞ (softmax at β = 0).
    Only the sign of ``beta`` matters, so β = ±∞ is allowed. Entries at −∞ (after the sign)
    are treated like masked ones, as in :func:`softmax`; a +∞ entry is the arg max. The
    function is piecewise constant, so its gradient is 0. NaN by design: a row with a kept
    NaN; at β = 0 also a row with a kept +∞; every row under a traced NaN β (a concrete NaN
    β raises ``ValueError``).

    Args:
      z: scores, shape ``(..., q, ...)``.
      axis: class axis or axes (static under ``jit``).
      beta: its sign chooses arg max (> 0), arg min (< 0) or uniform (0); scalar or per row.
      where: boolean mask; masked entries get 0, an all-masked row is all zeros.

    Returns:
      A distribution along ``axis`` with the shape and dtype of ``z``.
    """
    if not (type(beta) is float and beta == 1):
        check_beta(beta, "hardmax", allow_inf=True)
        beta = _arr(beta, "beta")
    return _hardmax_jit(_arr(z, "z"), beta, _mask_arg(where), axis=_axis_arg(axis))


@functools.partial(jax.jit, static_argnames=("axis",))
def _l1_jit(x, where, axis):
    x, axes, mask, dtype = _setup(x, where, axis, name="x")
    a = jnp.abs(x)
    if mask is not None:
        a = jnp.where(mask, a, 0)
        keep = mask.astype(a.dtype)
    else:
        keep = jnp.ones_like(a)
    # Rescale by the row's max |x| (a constant: the map is scale invariant, so gradients are
    # exact) before summing, so Σ|x| neither overflows (±3e38) nor underflows in the gradient
    # (x ~ 1e-30, where (Σ|x|)² would).
    # The scale is 2^−e (e the exponent of max |x|), applied as two exact power-of-two factors:
    # XLA turns a division by a row constant into a product with its reciprocal, and 1/3e38 is
    # subnormal (flushed to zero on CPU); each half factor stays a normal float.
    big = lax.stop_gradient(jnp.max(a, axes, keepdims=True, initial=0))
    zero = big == 0
    e = jnp.frexp(big)[1]
    half = e // 2
    one = jnp.ones_like(big)
    a = a * jnp.ldexp(one, -half) * jnp.ldexp(one, half - e)
    # An infinite |x| takes the limit: the infinite entries share the mass.
    a = jnp.where(big == jnp.inf, (a == jnp.inf).astype(a.dtype), a)
    s = jnp.sum(a, axes, keepdims=True)
    n = jnp.sum(keep, axes, keepdims=True)
    uniform = keep / jnp.where(n > 0, n, 1)
    out = jnp.where(zero, uniform, a / jnp.where(zero, 1, s))
    return out.astype(dtype)


def l1_normalize(
    x: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""The "abs" normalisation from the forum thread: |x_i| / Σ_j |x_j|.

    .. math::
        n(x)_i = \frac{|x_i|}{\sum_j |x_j|} = \frac{|x_i| / M}{\sum_j |x_j| / M},
        \qquad M = \max_j |x_j|

    It sums to one like :func:`softmax` but is not a softmax of a linear function: it is not
    invariant to translation, is invariant to scaling, ignores the sign of x, and its penalty
    gradients have poles at x_k = 0 (see ``jaxsoftmax.pairings``). Computed in the second form,
    so it is exact for any finite x (``[3e38, -3e38]`` gives ``[0.5, 0.5]``) and its gradient
    is finite for tiny x (``[1e-30, 2e-30]``: entries of order 1e29, the true value). An
    all-zero row, where the map is undefined, is given the uniform distribution over its kept
    entries; an all-masked row is all zeros. Infinite entries take the limit (they share the
    mass, the finite ones get 0). NaN by design: a row with a kept NaN. On CPU, XLA flushes
    subnormal inputs to zero, so a row of subnormals is treated as all-zero.

    Args:
      x: scores, shape ``(..., q, ...)``.
      axis: class axis or axes (static under ``jit``).
      where: boolean mask; masked entries get 0.

    Returns:
      A distribution along ``axis`` with the shape and dtype of ``x``.
    """
    return _l1_jit(_arr(x, "x"), _mask_arg(where), axis=_axis_arg(axis))


def softmax_jacobian(
    z: jax.typing.ArrayLike,
    axis: int = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""Jacobian of :func:`softmax` with respect to ``z``, batched.

    .. math::
        \frac{\partial\sigma_i}{\partial z_j} = \beta\,\sigma_i(\delta_{ij} - \sigma_j),
        \qquad J = \beta\,(\mathrm{diag}(\sigma) - \sigma\sigma^\top)

    The article's "Neural networks" section ("if the function is scaled with the parameter β,
    then these expressions must be multiplied by β").

    Args:
      z: logits, shape ``(..., q)`` with the class axis at ``axis`` (a single axis).
      axis: the class axis.
      beta: inverse temperature (scalar or one per row).
      where: boolean mask; rows and columns of masked entries are 0.

    Returns:
      Shape ``batch + (q, q)``: the batch axes of ``z`` in order (``axis`` removed), then
      J[i, j] = ∂σ_i/∂z_j.
    """
    z = as_float_array(z, "z")
    (ax,) = normalize_axis(axis, z.ndim)
    s = jnp.moveaxis(softmax(z, ax, beta=beta, where=where), ax, -1)
    q = s.shape[-1]
    eye = jnp.eye(q, dtype=s.dtype).reshape((1,) * (s.ndim - 1) + (q, q))
    jac = s[..., :, None] * (eye - s[..., None, :])
    if not (isinstance(beta, (int, float)) and beta == 1):
        b = jnp.broadcast_to(jnp.asarray(beta, s.dtype), _row_shape(z.shape, (ax,)))
        jac = jac * jnp.moveaxis(b, ax, -1)[..., None]
    return jac
