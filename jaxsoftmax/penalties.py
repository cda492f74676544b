"""Penalty functions ρ(z*, t) of Dunne & Campbell (1997), and their stable from-logits forms.

Source: the paper's section 1 defines, per observation n,

* least squares   ρ_l = Σ_k ½ (t_k − z*_k)²
* cross-entropy   ρ_c = Σ_k t_k log(t_k / z*_k)

and its section 4 models t_k as Bernoulli, whose penalty is the Bernoulli cross-entropy
Σ_k [t_k log(t_k/z*_k) + (1 − t_k) log((1 − t_k)/(1 − z*_k))].

Conventions:

* Argument order as in optax: outputs (or logits) first, targets second; both must have the
  same shape. The sum runs over the class axis (``axis``, default last); the batch reduction
  (the paper's Σ_n, or a mean) is left to the caller.
* 0 · log 0 = 0, so zero targets are allowed; targets need not sum to one (ρ_c is the paper's
  definition, not a KL divergence between distributions).
* The ``*_from_logits`` forms take the logits z of the paired activation and stay in log space
  (log_softmax, log_sigmoid): their values and gradients are finite for any finite logits,
  ±1e4 in float32 included, where composing ``cross_entropy(softmax(z), t)`` would give
  log 0 = −∞.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._checks import Axis, as_float_array, compute_dtype, normalize_axis, same_shape
from .activations import _log_softmax, _softmax, logistic

__all__ = [
    "bernoulli_cross_entropy",
    "cross_entropy",
    "least_squares",
    "logistic_bernoulli_cross_entropy_from_logits",
    "logistic_cross_entropy_from_logits",
    "logistic_least_squares_from_logits",
    "softmax_cross_entropy_from_logits",
    "softmax_least_squares_from_logits",
    "xlogy",
]


# --------------------------------------------------------------------------------------------
# x log y with the convention 0 log 0 = 0
# --------------------------------------------------------------------------------------------


@jax.custom_jvp
def xlogy(x: jax.Array, y: jax.Array) -> jax.Array:
    r"""x · log y, with 0 · log y = 0 for every y ≥ 0 (so 0 log 0 = 0).

    .. math::
        \mathrm{xlogy}(x, y) = \begin{cases} x\log y & x \ne 0\\ 0 & x = 0\end{cases}

    Derivatives: ∂/∂x = log y and ∂/∂y = x / y where x ≠ 0; where x = 0 the ∂/∂y term is 0
    (the function is identically 0 along x = 0, so a zero target passes no gradient to an
    output, even an output of exactly 0). This is the convention that keeps the paper's ρ_c
    differentiable at zero targets; ``jax.scipy.special.xlogy`` gives NaN there instead.
    """
    safe_y = jnp.where(x == 0, jnp.ones_like(y), y)
    return jnp.where(x == 0, jnp.zeros_like(x), x * jnp.log(safe_y))


@xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    x, y = primals
    x_dot, y_dot = tangents
    nz = x != 0
    safe_y = jnp.where(nz, y, jnp.ones_like(y))
    out = jnp.where(nz, x * jnp.log(safe_y), jnp.zeros_like(x))
    dx = jnp.where(nz, x_dot * jnp.log(safe_y), jnp.zeros_like(x))
    dy = jnp.where(nz, y_dot * x / safe_y, jnp.zeros_like(x))
    return out, dx + dy


def _pair(z, t, axis, names):
    z = as_float_array(z, names[0])
    t = as_float_array(t, names[1])
    same_shape(z, t, names)
    axes = normalize_axis(axis, z.ndim)
    cdtype = compute_dtype(jnp.promote_types(z.dtype, t.dtype))
    out_dtype = jnp.promote_types(z.dtype, t.dtype)
    return z.astype(cdtype), t.astype(cdtype), axes, out_dtype


# --------------------------------------------------------------------------------------------
# Penalties on outputs z*
# --------------------------------------------------------------------------------------------


def least_squares(
    outputs: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""The least-squares penalty ρ_l of Dunne & Campbell (section 1), per observation.

    .. math::
        \rho_l = \sum_k \tfrac12 (t_k - z^*_k)^2

    Args:
      outputs: z*, shape ``(..., q)``.
      targets: t, same shape.
      axis: class axis or axes to sum over.

    Returns:
      ρ_l with the class axes removed, shape ``(...)``. Reduce over the batch yourself.
    """
    z, t, axes, dtype = _pair(outputs, targets, axis, ("outputs", "targets"))
    return jnp.sum(0.5 * jnp.square(t - z), axes).astype(dtype)


def cross_entropy(
    outputs: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""The cross-entropy penalty ρ_c of Dunne & Campbell (section 1), per observation.

    .. math::
        \rho_c = \sum_k t_k \log\frac{t_k}{z^*_k}, \qquad 0\log 0 = 0

    Exactly the paper's definition: targets need not sum to one (then ρ_c can be negative; its
    minimum over z*, t ∈ [0, 1] is −1/e at (z*, t) = (1, 1/e), the paper's Figure 1).
    ∂ρ_c/∂z*_k = −t_k / z*_k, so outputs must be positive where targets are non-zero; for a
    stable loss use the ``*_from_logits`` form of the activation you pair it with.

    Args:
      outputs: z* > 0 where t ≠ 0, shape ``(..., q)``.
      targets: t ≥ 0, same shape.
      axis: class axis or axes to sum over.

    Returns:
      ρ_c with the class axes removed. Reduce over the batch yourself.
    """
    z, t, axes, dtype = _pair(outputs, targets, axis, ("outputs", "targets"))
    return jnp.sum(xlogy(t, t) - xlogy(t, z), axes).astype(dtype)


def bernoulli_cross_entropy(
    outputs: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""Bernoulli cross-entropy (t_k modelled as Bernoulli; Dunne & Campbell section 4).

    .. math::
        \rho_b = \sum_k \Big[t_k\log\frac{t_k}{z^*_k}
                 + (1-t_k)\log\frac{1-t_k}{1-z^*_k}\Big]

    Non-negative for t, z* ∈ [0, 1], zero iff z* = t. Paired with the logistic it gives the
    natural Δ_k = z*_k − t_k (see ``jaxsoftmax.pairings``).

    Args:
      outputs: z* in (0, 1), shape ``(..., q)``.
      targets: t in [0, 1], same shape.
      axis: class axis or axes to sum over.

    Returns:
      ρ_b with the class axes removed. Reduce over the batch yourself.
    """
    z, t, axes, dtype = _pair(outputs, targets, axis, ("outputs", "targets"))
    u = 1 - t
    per = xlogy(t, t) - xlogy(t, z) + xlogy(u, u) - xlogy(u, 1 - z)
    return jnp.sum(per, axes).astype(dtype)


# --------------------------------------------------------------------------------------------
# Stable forms from the logits of the paired activation
# --------------------------------------------------------------------------------------------


def softmax_least_squares_from_logits(
    logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""ρ_l(softmax(z), t) = Σ_k ½ (t_k − softmax(z)_k)².

    Softmax outputs are bounded, so the composition is already stable; it is computed with the
    library's masked, max-shifted softmax. Shapes as in :func:`least_squares`.
    """
    z, t, axes, dtype = _pair(logits, targets, axis, ("logits", "targets"))
    return jnp.sum(0.5 * jnp.square(t - _softmax(z, axes, None)), axes).astype(dtype)


def softmax_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""ρ_c(softmax(z), t), computed in log space.

    .. math::
        \rho_c = \sum_k t_k\log t_k - \sum_k t_k \log\mathrm{softmax}(z)_k

    Its gradient is (Σ_j t_j) softmax(z)_k − t_k (the paper's eq. 1). Finite for any finite
    logits because log_softmax is (max-shifted); zero targets contribute 0. Note that
    ``optax.losses.softmax_cross_entropy`` omits the Σ t log t term (constant in z); this is the
    paper's ρ_c, which includes it. Shapes as in :func:`cross_entropy`.
    """
    z, t, axes, dtype = _pair(logits, targets, axis, ("logits", "targets"))
    logp = _log_softmax(z, axes, None)
    return jnp.sum(xlogy(t, t) - t * logp, axes).astype(dtype)


def logistic_least_squares_from_logits(
    logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""ρ_l(logistic(z), t) = Σ_k ½ (t_k − σ(z_k))², σ applied to each output unit.

    Bounded outputs, so stable as it stands. Shapes as in :func:`least_squares`.
    """
    z, t, axes, dtype = _pair(logits, targets, axis, ("logits", "targets"))
    return jnp.sum(0.5 * jnp.square(t - logistic(z)), axes).astype(dtype)


def logistic_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""ρ_c(logistic(z), t), with log σ(z) = −softplus(−z) computed stably.

    .. math::
        \rho_c = \sum_k t_k\log t_k - t_k\log\sigma(z_k)

    The paper's "not sensible" pairing (section 2): for any non-zero target it is minimised by
    z_k → ∞. Shapes as in :func:`cross_entropy`.
    """
    z, t, axes, dtype = _pair(logits, targets, axis, ("logits", "targets"))
    return jnp.sum(xlogy(t, t) - t * jax.nn.log_sigmoid(z), axes).astype(dtype)


def logistic_bernoulli_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike, axis: Axis = -1
) -> jax.Array:
    r"""ρ_b(logistic(z), t), computed in log space.

    .. math::
        \rho_b = \sum_k t_k\log t_k + (1-t_k)\log(1-t_k)
                 - t_k\log\sigma(z_k) - (1-t_k)\log\sigma(-z_k)

    using log(1 − σ(z)) = log σ(−z). Shapes as in :func:`bernoulli_cross_entropy`.
    """
    z, t, axes, dtype = _pair(logits, targets, axis, ("logits", "targets"))
    u = 1 - t
    per = xlogy(t, t) + xlogy(u, u) - t * jax.nn.log_sigmoid(z) - u * jax.nn.log_sigmoid(-z)
    return jnp.sum(per, axes).astype(dtype)
