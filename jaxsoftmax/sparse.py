r"""Sparse output activations: sparsemax, α-entmax, and their Fenchel–Young losses.

Sources:

* **sparsemax** — Martins & Astudillo (2016), "From Softmax to Sparsemax", ICML, eq. (2) (the
  Euclidean projection of z onto the simplex), Algorithm 1 / Proposition 1 (the threshold τ
  from the sorted logits) and Proposition 2 (the Jacobian diag(s) − s sᵀ/|S|, s the support).
* **α-entmax** — Peters, Niculae & Martins (2019), "Sparse Sequence-to-Sequence Models", ACL,
  eq. (9)–(10): entmax_α(z)_i = [(α − 1) z_i − τ]_+^{1/(α−1)} with τ such that the outputs sum
  to one (found here by bisection, their Algorithm 1), and Proposition 1 (the Jacobian
  diag(s) − s sᵀ/Σ s with s_i = p_i^{2−α} on the support). α = 2 is sparsemax; α → 1⁺ tends
  to softmax (α = 1 itself is refused: use :func:`jaxsoftmax.softmax`).
* **Fenchel–Young losses** — Blondel, Martins & Niculae (2020), "Learning with Fenchel–Young
  Losses", JMLR, Definition 2: L_Ω(z; t) = Ω*(z) + Ω(t) − ⟨z, t⟩, with the Tsallis
  regulariser Ω_α(p) = (Σ_j p_j^α − 1)/(α(α − 1)) (their eq. (10); α = 2 gives ½‖p‖² − ½).
  Its gradient in z is entmax_α(z) − t (their Proposition 2): the *natural* pairing of the
  paper's section 2, Δ = z* − t, for every α.

Conventions (as in :mod:`jaxsoftmax.activations`): ``axis`` is the class axis (one axis, the
last by default); ``where`` is a boolean mask broadcastable to ``z``: a ``False`` entry is left
out (output 0, tangent 0, whatever its value); a row with every entry left out is the empty
distribution (all zeros). Ties are fine: tied logits get equal outputs. Inputs are promoted to
float; float16/bfloat16 are computed in float32.

Differences from peers: ``optax.projections.projection_simplex`` equals :func:`sparsemax` (no
mask there); ``optax.losses.sparsemax_loss`` is the *binary* sparsemax loss of a sigmoid, and
``optax.losses.multiclass_sparsemax_loss`` takes integer labels: :func:`sparsemax_loss` takes
target vectors t (one-hot or any distribution) and equals the latter for one-hot targets.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ._checks import as_float_array, as_mask, compute_dtype, normalize_axis

__all__ = ["entmax", "entmax_loss", "sparsemax", "sparsemax_loss"]


def _prepare(z, where, axis, name="z"):
    """z (compute dtype) with the class axis last, the mask likewise (or None), the axis, the
    output dtype."""
    z = as_float_array(z, name)
    if not isinstance(axis, int):
        raise ValueError(f"axis must be one int (the class axis), got {axis!r}")
    (ax,) = normalize_axis(axis, z.ndim)
    mask = as_mask(where, z.shape)
    out_dtype = z.dtype
    if mask is not None:
        mask = jnp.moveaxis(jnp.broadcast_to(mask, z.shape), ax, -1)
    z = jnp.moveaxis(z.astype(compute_dtype(z.dtype)), ax, -1)
    return z, mask, ax, out_dtype


def _check_alpha(alpha, fn: str) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: alpha must be a number > 1, got {alpha!r}") from None
    if not math.isfinite(a) or a <= 1:
        raise ValueError(
            f"{fn}: alpha must be a finite number > 1 (α = 2 is sparsemax; α → 1 tends to "
            f"softmax, use jaxsoftmax.softmax for α = 1), got {alpha!r}"
        )
    return a


# --------------------------------------------------------------------------------------------
# sparsemax (Martins & Astudillo 2016)
# --------------------------------------------------------------------------------------------


def _sparsemax_core(z, mask):
    """Algorithm 1 of Martins & Astudillo (2016) along the last axis; masked entries are −∞."""
    x = z if mask is None else jnp.where(mask, z, -jnp.inf)
    srt = -jnp.sort(-x, axis=-1)  # descending; −∞ last
    finite = jnp.isfinite(srt)
    csum = jnp.cumsum(jnp.where(finite, srt, 0), axis=-1)
    ks = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype).reshape((1,) * (x.ndim - 1) + (-1,))
    support = finite & (1 + ks * srt > csum)  # Proposition 1: k(z) = max{k : 1 + k z_(k) > Σ}
    k = jnp.sum(support, axis=-1, keepdims=True)
    top = jnp.take_along_axis(csum, jnp.maximum(k - 1, 0).astype(jnp.int32), axis=-1)
    tau = (top - 1) / jnp.maximum(k, 1).astype(x.dtype)
    p = jnp.maximum(jnp.where(jnp.isfinite(x), x - tau, -jnp.inf), 0)
    return jnp.where(k > 0, p, 0)


@jax.custom_jvp
def _sparsemax(z, mask):
    return _sparsemax_core(z, mask)


@_sparsemax.defjvp
def _sparsemax_jvp(primals, tangents):
    z, mask = primals
    z_dot, _ = tangents
    p = _sparsemax(z, mask)
    # Proposition 2: J = diag(s) − s sᵀ/|S|, s the support indicator.
    s = (p > 0).astype(p.dtype)
    size = jnp.maximum(jnp.sum(s, axis=-1, keepdims=True), 1)
    z_dot = jnp.where(s > 0, z_dot, 0)
    return p, s * (z_dot - jnp.sum(z_dot, axis=-1, keepdims=True) / size)


@functools.partial(jax.jit, static_argnames=("axis",))
def _sparsemax_jit(z, where, axis):
    x, mask, ax, dtype = _prepare(z, where, axis)
    m = jnp.ones(x.shape, bool) if mask is None else mask
    return jnp.moveaxis(_sparsemax(x, m), -1, ax).astype(dtype)


def sparsemax(
    z: jax.typing.ArrayLike, axis: int = -1, where: jax.typing.ArrayLike | None = None
) -> jax.Array:
    r"""sparsemax(z) = argmin_{p ∈ Δ} ‖p − z‖², the Euclidean projection onto the simplex.

    Martins & Astudillo (2016), eq. (2); computed by their Algorithm 1 (sort, threshold
    τ = (Σ_{j ≤ k(z)} z_(j) − 1)/k(z), p = [z − τ]_+), jitted, with the Jacobian of their
    Proposition 2 as a custom JVP (exact, sparse). Equals
    ``optax.projections.projection_simplex`` (which has no ``axis``/``where``).

    Args:
      z: logits; the class axis is ``axis``.
      axis: the class axis (one int).
      where: optional boolean mask; ``False`` entries are left out (output 0).

    Returns:
      Outputs on the simplex, as many exact zeros as the projection has.
    """
    return _sparsemax_jit(z, where, axis)


# --------------------------------------------------------------------------------------------
# α-entmax (Peters, Niculae & Martins 2019)
# --------------------------------------------------------------------------------------------


_BISECTIONS = 80
"""Bisection steps for τ: the bracket has width ≤ 1, so 80 halvings reach below float64's
resolution of τ (2⁻⁸⁰ ≈ 8e-25); the outputs are then renormalised to sum to one."""


def _entmax_core(z, mask, alpha):
    am1 = alpha - 1
    x = jnp.where(mask, z * am1, -jnp.inf)
    n = jnp.sum(mask, axis=-1, keepdims=True).astype(z.dtype)
    top = jnp.max(x, axis=-1, keepdims=True)
    top = jnp.where(jnp.isfinite(top), top, 0)
    # Shifted so that the largest entry is 0: x − τ is then computed from numbers of order 1
    # (what float32 resolves of τ decides the small outputs). Σ_j [x_j − τ]_+^{1/(α−1)} is
    # decreasing in τ; it is ≥ 1 at τ = −1 (the top entry alone gives 1) and ≤ 1 at
    # τ = −n^{1−α} (every entry at most 1/n).
    x = x - top
    lo = jnp.full_like(top, -1.0)
    hi = -(jnp.maximum(n, 1) ** (-am1))

    def mass(tau):
        return jnp.sum(jnp.maximum(x - tau, 0) ** (1 / am1), axis=-1, keepdims=True)

    def step(_, bracket):
        lo, hi = bracket
        mid = (lo + hi) / 2
        big = mass(mid) >= 1
        return jnp.where(big, mid, lo), jnp.where(big, hi, mid)

    lo, hi = jax.lax.fori_loop(0, _BISECTIONS, step, (lo, hi))
    p = jnp.maximum(x - lo, 0) ** (1 / am1)
    total = jnp.sum(p, axis=-1, keepdims=True)
    p = p / jnp.where(total > 0, total, 1)
    return jnp.where(n > 0, p, 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _entmax(z, mask, alpha):
    return _entmax_core(z, mask, alpha)


@_entmax.defjvp
def _entmax_jvp(alpha, primals, tangents):
    z, mask = primals
    z_dot, _ = tangents
    p = _entmax(z, mask, alpha)
    # Peters et al. (2019), Proposition 1: J = diag(s) − s sᵀ/Σ s, s_i = p_i^{2−α} on the
    # support (0 off it).
    s = jnp.where(p > 0, p ** (2 - alpha), 0)
    total = jnp.sum(s, axis=-1, keepdims=True)
    z_dot = jnp.where(p > 0, z_dot, 0)
    g = s * z_dot
    return p, g - s * jnp.sum(g, axis=-1, keepdims=True) / jnp.where(total > 0, total, 1)


@functools.partial(jax.jit, static_argnames=("alpha", "axis"))
def _entmax_jit(z, alpha, where, axis):
    x, mask, ax, dtype = _prepare(z, where, axis)
    m = jnp.ones(x.shape, bool) if mask is None else mask
    if alpha == 2:
        p = _sparsemax(x, m)
    else:
        p = _entmax(x, m, alpha)
    return jnp.moveaxis(p, -1, ax).astype(dtype)


def entmax(
    z: jax.typing.ArrayLike,
    alpha: float = 1.5,
    axis: int = -1,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""α-entmax: p_i = [(α − 1) z_i − τ]_+^{1/(α−1)}, τ such that Σ_i p_i = 1.

    Peters, Niculae & Martins (2019), eq. (9)–(10); τ by bisection on the bracket
    [max − 1, max − n^{1−α}] (their Algorithm 1, 80 halvings, then renormalised), jitted, with
    the Jacobian of their Proposition 1 as a custom JVP. ``alpha`` is static (one compilation
    per value). α = 2 is :func:`sparsemax` (computed exactly, by sorting); α → 1⁺ tends to
    softmax; α = 1.5 is the paper's default.

    Args:
      z: logits; the class axis is ``axis``.
      alpha: α > 1, finite (``ValueError`` otherwise).
      axis: the class axis (one int).
      where: optional boolean mask; ``False`` entries are left out (output 0).
    """
    return _entmax_jit(z, _check_alpha(alpha, "entmax"), where, axis)


# --------------------------------------------------------------------------------------------
# Fenchel–Young losses (Blondel, Martins & Niculae 2020)
# --------------------------------------------------------------------------------------------


def _tsallis(p, alpha):
    """Ω_α(p) = (Σ_j p_j^α − 1)/(α(α − 1)) (Blondel et al. 2020, eq. (10)); ½‖p‖² − ½ at α = 2."""
    if alpha == 2:
        return (jnp.sum(p * p, axis=-1) - 1) / 2
    return (jnp.sum(jnp.where(p > 0, p, 0) ** alpha, axis=-1) - 1) / (alpha * (alpha - 1))


@functools.partial(jax.jit, static_argnames=("alpha", "axis"))
def _entmax_loss_jit(z, t, alpha, where, axis):
    x, mask, _, dtype = _prepare(z, where, axis)
    y, _, _, _ = _prepare(t, None, axis, "t")
    if y.shape != x.shape:
        raise ValueError(f"t with shape {jnp.shape(t)} must match z with shape {jnp.shape(z)}")
    m = jnp.ones(x.shape, bool) if mask is None else mask
    p = _sparsemax(x, m) if alpha == 2 else _entmax(x, m, alpha)
    xm = jnp.where(m, x, 0)
    y = jnp.where(m, y, 0)
    # L = Ω*(z) + Ω(t) − ⟨z, t⟩ with Ω*(z) = ⟨z, p⟩ − Ω(p), p = entmax_α(z).
    loss = jnp.sum(xm * (p - y), axis=-1) + _tsallis(y, alpha) - _tsallis(p, alpha)
    return loss.astype(dtype)


def entmax_loss(
    z: jax.typing.ArrayLike,
    t: jax.typing.ArrayLike,
    alpha: float = 1.5,
    axis: int = -1,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""The α-entmax Fenchel–Young loss L(z; t) = Ω*_α(z) + Ω_α(t) − ⟨z, t⟩ per row.

    Blondel, Martins & Niculae (2020), Definition 2 with the Tsallis regulariser
    Ω_α(p) = (Σ p^α − 1)/(α(α − 1)) (eq. (10)); ∇_z L = entmax_α(z) − t (Proposition 2), the
    natural Δ = z* − t, and L ≥ 0 with equality iff entmax_α(z) = t (t on the simplex).

    Args:
      z: logits; t: targets of the same shape (on the simplex for L ≥ 0; any non-negative
        vector is accepted, as for the paper's ρ_c).
      alpha: α > 1 (α = 2: :func:`sparsemax_loss`).
      axis: the class axis; where: optional mask (left-out entries count in neither term).

    Returns:
      One loss per row (``axis`` reduced).
    """
    return _entmax_loss_jit(z, t, _check_alpha(alpha, "entmax_loss"), where, axis)


def sparsemax_loss(
    z: jax.typing.ArrayLike,
    t: jax.typing.ArrayLike,
    axis: int = -1,
    where: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    r"""The sparsemax loss L(z; t) = ⟨z, p − t⟩ + ½‖t‖² − ½‖p‖², p = sparsemax(z), per row.

    Martins & Astudillo (2016), eq. (17) (there for one-hot t: ½‖t − z‖² − ½‖p − z‖² up to
    the same value); Blondel et al. (2020), the Fenchel–Young loss of Ω = ½‖·‖². Gradient
    sparsemax(z) − t. For one-hot t it equals ``optax.losses.multiclass_sparsemax_loss`` with
    the integer labels; unlike ``optax.losses.sparsemax_loss`` (binary, a sigmoid's) it is the
    multiclass loss.
    """
    return _entmax_loss_jit(z, t, 2.0, where, axis)
