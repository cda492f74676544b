"""Output activations: softmax and its relatives.

Sources: the *Softmax function* article (seed ``001``) for softmax with inverse temperature β,
its arg max / arg min limits, LogSumExp as the smooth max whose gradient is softmax, the
Jacobian σ_i(δ_ij − σ_j) and the logistic as the 2-class case; Dunne & Campbell (1997, seed
``002``) section 1 for the logistic and softmax output activations f_q; the forum thread (seed
``000``) for the L1 ("abs") normalisation rival.

Conventions shared by every function here:

* ``axis`` names the class axis (or axes); the default is the last one. Leading axes are batch.
* ``beta`` is the inverse temperature (the article's base ``b = e^β``): a scalar, or an array
  that broadcasts to the input with size 1 along ``axis`` (one temperature per row).
* ``where`` is a boolean mask broadcastable to the input; ``False`` entries are left out.
  A masked entry gets probability 0 (log-probability −∞). A row whose entries are all masked
  (or all −∞) is the empty distribution: softmax gives all zeros, log_softmax all −∞, and
  logsumexp −∞ (the smooth max of nothing), and every gradient through it is 0, never NaN.
* Integer and boolean input is promoted to the default float dtype; complex input is refused.
  float16 and bfloat16 are computed in float32 and returned in the input dtype.
* ``+inf`` logits give NaN (∞/∞ is undefined), as in ``jax.nn.softmax``; NaN propagates.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ._checks import Axis, as_float_array, as_mask, compute_dtype, normalize_axis

__all__ = [
    "hardmax",
    "l1_normalize",
    "log_softmax",
    "logistic",
    "logsumexp",
    "softmax",
    "softmax_jacobian",
]


# --------------------------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------------------------


def _row_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _prepare(z, axis, beta, where, name="z"):
    """Validates the common arguments; returns (x = beta * z in compute dtype, axes, mask, beta)."""
    z = as_float_array(z, name)
    axes = normalize_axis(axis, z.ndim)
    mask = as_mask(where, z.shape)
    cdtype = compute_dtype(z.dtype)
    x = z.astype(cdtype)
    if isinstance(beta, (int, float)) and not isinstance(beta, bool) and beta == 1:
        return x, axes, mask, None, z.dtype
    b = as_float_array(beta, "beta").astype(cdtype)
    rows = _row_shape(z.shape, axes)
    try:
        ok = jnp.broadcast_shapes(b.shape, rows) == rows
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"beta with shape {b.shape} must broadcast to {rows}: a scalar, or one inverse "
            f"temperature per row of z (z.shape={z.shape}, axis={axis!r})"
        )
    return x * b, axes, mask, b, z.dtype


def _shifted(x, axes, mask):
    """x − max(x) over the kept entries, with masked entries set to −∞.

    The shift (a ``stop_gradient`` constant, so gradients are exact) makes every exponent ≤ 0,
    so the kept maximum contributes exp(0) = 1 and every non-empty row has Σ exp ≥ 1.
    Rows whose maximum is −∞ (all masked or all −∞) are shifted by the most negative finite
    float instead, so they give exp(−∞) = 0 rather than exp(−∞ − (−∞)) = NaN; a +∞ or NaN
    maximum makes the row NaN. (``maximum`` rather than ``where`` keeps XLA's single-fusion
    softmax pattern intact on CPU.)
    """
    m = jnp.max(x, axes, where=mask, initial=-jnp.inf, keepdims=True)
    m = lax.stop_gradient(jnp.maximum(m, jnp.finfo(x.dtype).min))
    shifted = x - m
    if mask is not None:
        shifted = jnp.where(mask, shifted, -jnp.inf)
    return shifted, m


def _nonzero(s):
    """s + tiny: exactly s for every non-empty row (s ≥ 1), tiny > 0 for an empty row (s = 0).

    So e / _nonzero(s) is 0, not 0/0, on empty rows, and log(_nonzero(s)) is finite.
    """
    return s + jnp.finfo(s.dtype).tiny


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp
# --------------------------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _softmax(x, axes, mask):
    e = jnp.exp(_shifted(x, axes, mask)[0])
    s = jnp.sum(e, axes, keepdims=True)
    return e / _nonzero(s)


@_softmax.defjvp
def _softmax_jvp(axes, primals, tangents):
    # d softmax = s ⊙ (dx − ⟨s, dx⟩): the article's Jacobian σ_i(δ_ij − σ_j) applied to dx.
    # Masked entries and empty rows have s = 0, so their tangents are exactly 0.
    x, mask = primals
    x_dot, _ = tangents
    s = _softmax(x, axes, mask)
    x_dot = x_dot if mask is None else jnp.where(mask, x_dot, jnp.zeros_like(x_dot))
    return s, s * (x_dot - jnp.sum(s * x_dot, axes, keepdims=True))


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

    The article's definition with base :math:`b = e^\beta`; Dunne & Campbell's f_q (section 1)
    is the case β = 1. As β → +∞ it tends to :func:`hardmax` (arg max, ties sharing the mass)
    and as β → −∞ to the arg min; it is invariant to adding a constant along ``axis`` but not
    to scaling. Its Jacobian is β σ_i(δ_ij − σ_j) (:func:`softmax_jacobian`).

    Args:
      z: logits, shape ``(..., q, ...)``; integer input is promoted to float.
      axis: class axis or axes.
      beta: inverse temperature (scalar or one per row).
      where: boolean mask; masked entries get probability 0, an all-masked row is all zeros.

    Returns:
      Probabilities with the shape and (floating) dtype of ``z``, summing to 1 along ``axis``.
    """
    x, axes, mask, _, dtype = _prepare(z, axis, beta, where)
    return _softmax(x, axes, mask).astype(dtype)


def _log_softmax(x, axes, mask):
    shifted, _ = _shifted(x, axes, mask)
    s = jnp.sum(jnp.exp(shifted), axes, keepdims=True)
    # An empty row has s = 0 and entries already −∞: they stay −∞, with zero gradient.
    return shifted - jnp.log(_nonzero(s))


def log_softmax(
    z: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    beta: jax.typing.ArrayLike = 1.0,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""Logarithm of :func:`softmax`, computed stably.

    .. math::
        \log\sigma(z)_i = \beta z_i - \log\sum_j e^{\beta z_j}
                        = \beta\,(z_i - \mathrm{LSE}_\beta(z))

    Finite for any finite ``z`` (e.g. ±1e4 in float32): the maximum is subtracted before
    exponentiating. Masked entries are −∞ (log 0); an all-masked row is all −∞ with zero
    gradient.

    Args:
      z: logits, shape ``(..., q, ...)``.
      axis: class axis or axes.
      beta: inverse temperature (scalar or one per row).
      where: boolean mask.

    Returns:
      Log-probabilities with the shape and dtype of ``z``.
    """
    x, axes, mask, _, dtype = _prepare(z, axis, beta, where)
    return _log_softmax(x, axes, mask).astype(dtype)


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

    The article's LogSumExp is the case β = 1. Scaling by 1/β makes it a smooth maximum at
    every temperature: max(z) ≤ LSE_β(z) ≤ max(z) + log(q)/β for β > 0, so it tends to max as
    β → +∞ and to min as β → −∞, and its gradient is exactly ``softmax(z, beta=β)`` (the
    article: "the softmax function is also the gradient of the LogSumExp function").
    β must be non-zero. An all-masked row gives −∞ for β > 0 (+∞ for β < 0).

    Args:
      z: input, shape ``(..., q, ...)``.
      axis: axis or axes to reduce.
      beta: inverse temperature (scalar or one per row), non-zero.
      where: boolean mask of the entries to include.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The reduction, with the dtype of ``z``.
    """
    if isinstance(beta, (int, float)) and beta == 0:
        raise ValueError("logsumexp needs a non-zero beta: LSE_β = (1/β) log Σ exp(β z)")
    x, axes, mask, b, dtype = _prepare(z, axis, beta, where)
    shifted, m = _shifted(x, axes, mask)
    s = jnp.sum(jnp.exp(shifted), axes, keepdims=True)
    lse = jnp.where(s == 0, -jnp.inf, jnp.log(_nonzero(s)) + m)
    if b is not None:
        lse = lse / b
    if not keepdims:
        lse = jnp.squeeze(lse, axes)
    return lse.astype(dtype)


# --------------------------------------------------------------------------------------------
# The limits and the rivals
# --------------------------------------------------------------------------------------------


def logistic(x: jax.typing.ArrayLike) -> jax.Array:
    r"""The logistic sigmoid, the 2-class softmax.

    .. math::
        f(x) = \frac{1}{1 + e^{-x}} = \mathrm{softmax}([x, 0])_0

    Dunne & Campbell's squashing function f_1 (section 1) and the article's "standard logistic
    function is the special case for a 1-dimensional axis in 2-dimensional space". Applied
    elementwise (each output unit on its own, so outputs need not sum to one). Stable for all
    finite x.

    Args:
      x: logits of any shape.

    Returns:
      Values in [0, 1], same shape and dtype as ``x``.
    """
    x = as_float_array(x, "x")
    return jax.nn.sigmoid(x.astype(compute_dtype(x.dtype))).astype(x.dtype)


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
    ``beta = 0`` the uniform distribution (softmax at β = 0). Only the sign of ``beta`` matters.
    Entries at −∞ (after the sign) are treated like masked ones, as in :func:`softmax`. The
    function is piecewise constant, so its gradient is 0.

    Args:
      z: scores, shape ``(..., q, ...)``.
      axis: class axis or axes.
      beta: its sign chooses arg max (> 0), arg min (< 0) or uniform (0); scalar or per row.
      where: boolean mask; masked entries get 0, an all-masked row is all zeros.

    Returns:
      A distribution along ``axis`` with the shape and dtype of ``z``.
    """
    z = lax.stop_gradient(as_float_array(z, "z"))
    sign = jnp.sign(as_float_array(beta, "beta")).astype(z.dtype)
    x, axes, mask, _, dtype = _prepare(z, axis, sign, where)
    m = jnp.max(x, axes, where=mask, initial=-jnp.inf, keepdims=True)
    ties = (x == m) & (x > -jnp.inf)
    if mask is not None:
        ties = ties & mask
    count = jnp.sum(ties, axes, keepdims=True).astype(x.dtype)
    out = ties.astype(x.dtype) / jnp.where(count > 0, count, jnp.ones_like(count))
    out = jnp.where(jnp.isnan(m), jnp.nan, out)
    return out.astype(dtype)


def l1_normalize(
    x: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""The "abs" normalisation from the forum thread: |x_i| / Σ_j |x_j|.

    .. math::
        n(x)_i = \frac{|x_i|}{\sum_j |x_j|}

    It sums to one like :func:`softmax` but is not a softmax of a linear function: it is not
    invariant to translation, is invariant to scaling, ignores the sign of x, and its penalty
    gradients have poles at x_k = 0 (see ``jaxsoftmax.pairings``). An all-zero row, where the
    map is undefined, is given the uniform distribution over its kept entries; an all-masked row
    is all zeros.

    Args:
      x: scores, shape ``(..., q, ...)``.
      axis: class axis or axes.
      where: boolean mask; masked entries get 0.

    Returns:
      A distribution along ``axis`` with the shape and dtype of ``x``.
    """
    x, axes, mask, _, dtype = _prepare(x, axis, 1.0, where, name="x")
    a = jnp.abs(x)
    keep = jnp.ones_like(a) if mask is None else mask.astype(a.dtype)
    a = a * keep
    s = jnp.sum(a, axes, keepdims=True)
    n = jnp.sum(keep, axes, keepdims=True)
    uniform = keep / jnp.where(n > 0, n, jnp.ones_like(n))
    out = jnp.where(s > 0, a / jnp.where(s > 0, s, jnp.ones_like(s)), uniform)
    return out.astype(dtype)


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
