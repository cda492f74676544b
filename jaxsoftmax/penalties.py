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
  definition, not a KL divergence between distributions). Every product t·log(·) is taken as
  0 where t = 0 (an ``xlogy``-style product), also where the log is −∞, so a zero target
  next to a −∞ logit (or an output of exactly 0) contributes 0, not 0·∞ = NaN.
* The ``*_from_logits`` forms take the logits z of the paired activation and stay in log space
  (log_softmax, log_sigmoid): their values are the limits of the composition for any logits,
  ±∞ and ±3e38 included, and their gradients with respect to the logits are finite wherever
  the value is (closed-form custom JVPs: (Σt)·softmax(z) − t, −t·σ(−z), σ(z) − t).
* Gradients with respect to the targets (a separate 0·log 0 convention from :func:`xlogy`'s):
  ∂(t log t)/∂t = log t + 1 is taken as 0 at t = 0 (its one-sided limit is −∞), and the cross
  term −t log z* contributes −log z*, taken as 0 at t = z* = 0. So every gradient is finite
  wherever the loss is; with a zero output and a non-zero target the loss itself is +∞.
* NaN by design: NaN in the outputs, logits or targets propagates (a NaN output next to a zero
  target included); targets outside [0, 1] (negative: log of a negative number) give NaN or a
  meaningless number. ``check_targets=True`` refuses them (see below).
* ``check_targets`` (default ``False``, opt-in because it reads the values): when the targets
  are concrete it raises ``ValueError`` unless every target lies in [0, 1] (no NaN); under a
  trace it emits a ``jax.experimental.checkify`` check, reported when the caller wraps its
  function in ``checkify.checkify(f, errors=checkify.user_checks)`` (an unwrapped ``jit``
  refuses to stage it). Targets that do not sum to one are allowed.
* Every function is jitted with ``axis`` static; shape, dtype and axis checks run at trace
  time. float16 and bfloat16 are computed in float32 and returned in the input dtype.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._checks import Axis, as_float_array, check_unit_interval, compute_dtype, normalize_axis
from ._checks import same_shape as _same_shape
from .activations import _arr, _axis_arg, _log_norm, _shift, _softmax_z

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

_SymbolicZero = jax.custom_derivatives.SymbolicZero


# --------------------------------------------------------------------------------------------
# x log y
# --------------------------------------------------------------------------------------------


def _xlogy_value(x, y):
    # 0 where x = 0 unless y is NaN (as scipy.special.xlogy): NaN always propagates.
    zero = (x == 0) & ~jnp.isnan(y)
    return jnp.where(zero, jnp.zeros_like(x), x * jnp.log(jnp.where(zero, jnp.ones_like(y), y)))


@jax.custom_jvp
def _xlogy(x, y):
    return _xlogy_value(x, y)


@_xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    # Written so that it differentiates again: the primal through _xlogy itself (its where
    # would otherwise give ∂/∂x = 0 at x = 0 to a second derivative), and ∂/∂y = x / y with
    # y replaced by 1 only at the origin, so ∂²/∂x∂y = 1/y at x = 0 (jax's
    # ``testGradOfXlogyAtZero``, order 2); the value x / 1 = 0 there is the convention.
    x, y = primals
    x_dot, y_dot = tangents
    dy = x / jnp.where((x == 0) & (y == 0), jnp.ones_like(y), y)
    return _xlogy(x, y), x_dot * jnp.log(y) + y_dot * dy


@jax.jit
def _xlogy_jit(x, y):
    x = as_float_array(x, "x")
    y = as_float_array(y, "y")
    dtype = jnp.promote_types(x.dtype, y.dtype)
    return _xlogy(x.astype(dtype), y.astype(dtype))


def xlogy(x: jax.typing.ArrayLike, y: jax.typing.ArrayLike) -> jax.Array:
    r"""x · log y, with 0 · log y = 0 for every y that is not NaN (so 0 log 0 = 0).

    .. math::
        \mathrm{xlogy}(x, y) = \begin{cases} x\log y & x \ne 0 \text{ or } y = \mathrm{NaN}\\
                                            0 & x = 0\end{cases}

    The value is that of ``scipy.special.xlogy``: NaN propagates (``xlogy(0, nan)`` is NaN),
    so a NaN output next to a zero target makes a penalty NaN instead of hiding it.

    Derivatives: ∂/∂x = log y everywhere (finite where y > 0; −∞ at y = 0, NaN for y < 0),
    and ∂/∂y = x / y where x ≠ 0, **0 where x = 0** (the function is identically 0 along
    x = 0, so a zero target passes no gradient to an output, even an output of exactly 0).

    **Differs from** ``jax.scipy.special.xlogy`` in one place: its ∂/∂y is x / y everywhere,
    NaN at (0, 0) (0/0), where ours is 0; it also returns 0 for ``xlogy(0, nan)`` in some JAX
    versions. ∂/∂x = log y agrees.

    Args:
      x: array.
      y: array broadcastable with ``x``.

    Returns:
      x · log y, broadcast, in the promoted floating dtype.
    """
    return _xlogy_jit(_arr(x, "x"), _arr(y, "y"))


@jax.custom_jvp
def _tlogz(t, z):
    """The penalties' t·log z*: xlogy, except ∂/∂t = 0 at (t, z*) = (0, 0) (log 0 = −∞ there).

    So every gradient of a penalty is finite where its value is: at t = z* = 0 the value is 0
    (and +∞ for any t > 0), the one place where xlogy's ∂/∂x = log y is infinite but the loss
    is not.
    """
    return _xlogy_value(t, z)


@_tlogz.defjvp
def _tlogz_jvp(primals, tangents):
    t, z = primals
    t_dot, z_dot = tangents
    nz = t != 0
    dz = jnp.where(nz, t / jnp.where(nz, z, jnp.ones_like(z)), jnp.zeros_like(t))
    dt = jnp.where(nz | (z != 0), jnp.log(jnp.where(nz | (z != 0), z, 1)), 0)
    return _xlogy_value(t, z), t_dot * dt + z_dot * dz


@jax.custom_jvp
def _xlogx(t):
    """t log t with 0 log 0 = 0 (NaN propagates); d/dt = log t + 1, taken as 0 at t = 0."""
    return jnp.where(t == 0, jnp.zeros_like(t), t * jnp.log(jnp.where(t == 0, 1, t)))


@_xlogx.defjvp
def _xlogx_jvp(primals, tangents):
    (t,), (t_dot,) = primals, tangents
    safe = jnp.where(t == 0, 1, t)
    return _xlogx(t), jnp.where(t == 0, 0, jnp.log(safe) + 1) * t_dot


def _nan_or_zero(z):
    """0, or NaN where z is NaN: what a zero target's term is (NaN propagates)."""
    return jnp.where(jnp.isnan(z), z, jnp.zeros_like(z))


# --------------------------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------------------------


def _pair(z, t, axis, names):
    """Trace-time checks: (z, t in the compute dtype, axes, output dtype)."""
    z = as_float_array(z, names[0])
    t = as_float_array(t, names[1])
    _same_shape(z, t, names)
    axes = normalize_axis(axis, z.ndim)
    out_dtype = jnp.promote_types(z.dtype, t.dtype)
    cdtype = compute_dtype(out_dtype)
    return z.astype(cdtype), t.astype(cdtype), axes, out_dtype


def _args(fn, z, t, axis, check_targets, names):
    """The wrappers' eager part: conversions, and the opt-in target check."""
    z, t = _arr(z, names[0]), _arr(t, names[1])
    if check_targets:
        check_unit_interval(t, names[1], fn)
    return z, t, _axis_arg(axis)


def _public(core, names):
    """A jitted penalty ``core(z, t, axes) -> per-element terms or sums`` with static axis."""

    @functools.partial(jax.jit, static_argnames=("axis",))
    def jitted(z, t, axis):
        z, t, axes, dtype = _pair(z, t, axis, names)
        return core(z, t, axes).astype(dtype)

    return jitted


# --------------------------------------------------------------------------------------------
# Penalties on outputs z*
# --------------------------------------------------------------------------------------------

_OUT = ("outputs", "targets")
_LOG = ("logits", "targets")

_least_squares = _public(lambda z, t, axes: jnp.sum(0.5 * jnp.square(t - z), axes), _OUT)


def least_squares(
    outputs: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
    from_logits: bool = False,
) -> jax.Array:
    r"""The least-squares penalty ρ_l of Dunne & Campbell (section 1), per observation.

    .. math::
        \rho_l = \sum_k \tfrac12 (t_k - z^*_k)^2

    NaN by design: NaN inputs. Infinite inputs give +∞.

    Args:
      outputs: z*, shape ``(..., q)``.
      targets: t, same shape.
      axis: class axis or axes to sum over (static under ``jit``).
      check_targets: refuse targets outside [0, 1] (see the module docstring).
      from_logits: ``outputs`` are logits: ρ_l(softmax(z), t), computed by
        :func:`softmax_least_squares_from_logits`. Without it, outputs are taken as they are:
        passing logits gives a number, but not this one.

    Returns:
      ρ_l with the class axes removed, shape ``(...)``. Reduce over the batch yourself.
    """
    if from_logits:  # the stable composition with the activation the paper pairs it with
        return softmax_least_squares_from_logits(
            outputs, targets, axis, check_targets=check_targets
        )
    z, t, axis = _args("least_squares", outputs, targets, axis, check_targets, _OUT)
    return _least_squares(z, t, axis=axis)


_cross_entropy = _public(lambda z, t, axes: jnp.sum(_xlogx(t) - _tlogz(t, z), axes), _OUT)


def cross_entropy(
    outputs: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
    from_logits: bool = False,
) -> jax.Array:
    r"""The cross-entropy penalty ρ_c of Dunne & Campbell (section 1), per observation.

    .. math::
        \rho_c = \sum_k t_k \log\frac{t_k}{z^*_k}, \qquad 0\log 0 = 0

    Exactly the paper's definition: targets need not sum to one (then ρ_c can be negative; its
    minimum over z*, t ∈ [0, 1] is −1/e at (z*, t) = (1, 1/e), the paper's Figure 1).
    ∂ρ_c/∂z*_k = −t_k / z*_k (0 where t_k = 0), so outputs must be positive where targets are
    non-zero (+∞ otherwise); for a stable loss use the ``*_from_logits`` form of the
    activation you pair it with. NaN by design: NaN outputs or targets (a NaN output next to a
    zero target included: ``cross_entropy([nan, 1], [0, 1])`` is NaN); negative outputs where
    t ≠ 0; negative targets.

    Args:
      outputs: z* > 0 where t ≠ 0, shape ``(..., q)``.
      targets: t ≥ 0, same shape.
      axis: class axis or axes to sum over (static under ``jit``).
      check_targets: refuse targets outside [0, 1] (see the module docstring).
      from_logits: ``outputs`` are logits: ρ_c(softmax(z), t), computed in log space by
        :func:`softmax_cross_entropy_from_logits`. Without it, logits passed as outputs give
        a wrong number (e.g. negative, or NaN for negative entries), not an error.

    Returns:
      ρ_c with the class axes removed. Reduce over the batch yourself.
    """
    if from_logits:  # the stable composition with the activation the paper pairs it with
        return softmax_cross_entropy_from_logits(
            outputs, targets, axis, check_targets=check_targets
        )
    z, t, axis = _args("cross_entropy", outputs, targets, axis, check_targets, _OUT)
    return _cross_entropy(z, t, axis=axis)


def _bernoulli_core(z, t, axes):
    u = 1 - t
    per = _xlogx(t) - _tlogz(t, z) + _xlogx(u) - _tlogz(u, 1 - z)
    return jnp.sum(per, axes)


_bernoulli_cross_entropy = _public(_bernoulli_core, _OUT)


def bernoulli_cross_entropy(
    outputs: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
    from_logits: bool = False,
) -> jax.Array:
    r"""Bernoulli cross-entropy (t_k modelled as Bernoulli; Dunne & Campbell section 4).

    .. math::
        \rho_b = \sum_k \Big[t_k\log\frac{t_k}{z^*_k}
                 + (1-t_k)\log\frac{1-t_k}{1-z^*_k}\Big]

    Non-negative for t, z* ∈ [0, 1], zero iff z* = t. Paired with the logistic it gives the
    natural Δ_k = z*_k − t_k (see ``jaxsoftmax.pairings``). NaN by design: NaN inputs;
    outputs outside [0, 1] where the matching weight (t or 1 − t) is non-zero; targets
    outside [0, 1].

    Args:
      outputs: z* in (0, 1), shape ``(..., q)``.
      targets: t in [0, 1], same shape.
      axis: class axis or axes to sum over (static under ``jit``).
      check_targets: refuse targets outside [0, 1] (see the module docstring).
      from_logits: ``outputs`` are logits: the loss of logistic(z), computed in log space by
        :func:`logistic_bernoulli_cross_entropy_from_logits`.

    Returns:
      ρ_b with the class axes removed. Reduce over the batch yourself.
    """
    if from_logits:  # the stable composition with the activation the paper pairs it with
        return logistic_bernoulli_cross_entropy_from_logits(
            outputs, targets, axis, check_targets=check_targets
        )
    z, t, axis = _args("bernoulli_cross_entropy", outputs, targets, axis, check_targets, _OUT)
    return _bernoulli_cross_entropy(z, t, axis=axis)


# --------------------------------------------------------------------------------------------
# Stable forms from the logits of the paired activation
# --------------------------------------------------------------------------------------------


def _softmax_ls_core(z, t, axes):
    return jnp.sum(0.5 * jnp.square(t - _softmax_z(z, None, axes)), axes)


_softmax_least_squares = _public(_softmax_ls_core, _LOG)


def softmax_least_squares_from_logits(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
) -> jax.Array:
    r"""ρ_l(softmax(z), t) = Σ_k ½ (t_k − softmax(z)_k)².

    Softmax outputs are bounded, so the composition is already stable; it is computed with the
    library's max-shifted softmax (finite for any logits but +∞ and NaN, which make the
    row NaN as in :func:`jaxsoftmax.softmax`). Shapes as in :func:`least_squares`.
    """
    z, t, axis = _args("softmax_least_squares_from_logits", logits, targets, axis,
                       check_targets, _LOG)  # fmt: skip
    return _softmax_least_squares(z, t, axis=axis)


def _sce_parts(z, t, axes):
    """ρ_c from logits: Σ_k t_k (log t_k − x_k + L), one reduction after the max and L.

    x = z − max z (the maxima exactly 0) and L = log Σ e^x computed as log1p of the sum
    without the maximum's own 1 (so one-hot targets at the arg max get the exact, tiny loss).
    The entropy term Σ t log t, the paper's, and (Σ t)·L are summed in the same pass as
    Σ t x (one read of z and t after L: measured 1.8× faster than three separate sums on
    CPU at 2048 × 8192). ``where(t == 0, 0, ·)`` is the 0·log 0 = 0 convention, also
    against x = −∞. An empty row (every logit −∞) has L taken as 0: its loss is +∞ for a
    non-zero target, 0 otherwise; ``+ 0·L`` keeps a NaN row NaN whatever its targets.
    """
    x, m = _shift(z, axes, None, None)
    big_l = _log_norm(z, None, None, axes)
    big_l = jnp.where(big_l == -jnp.inf, 0, big_l)  # NaN stays NaN
    nz = t != 0
    # t·(log t − x + L) computed in halves as (2t)·((log t/2 − h) + L/2), h = z/2 − m/2:
    # x = z − m overflows to −∞ once z − m < −max_float (e.g. [3.4e38, −3.4e38]) where
    # t·(m − z) is representable (1.16e38 for t = 0.17); the halves cannot overflow, and
    # halving and doubling are exact, so every other value rounds exactly as the plain form.
    h = z * 0.5 - m * 0.5
    half_log_t = 0.5 * jnp.log(jnp.where(nz, t, 1))
    per = jnp.where(nz, (t + t) * ((half_log_t - h) + 0.5 * big_l), 0)
    value = jnp.sum(per, axes) + jnp.squeeze(0 * big_l, axes)
    return value, x, big_l


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _sce(z, t, axes):
    return _sce_parts(z, t, axes)[0]


def _sce_jvp(axes, primals, tangents):
    # ∂ρ_c/∂z_k = (Σ t) softmax(z)_k − t_k (the paper's eq. 1); ∂ρ_c/∂t_k = log t_k + 1 −
    # log softmax(z)_k, with the log t_k + 1 part taken as 0 at t_k = 0.
    z, t = primals
    z_dot, t_dot = tangents
    value, x, big_l = _sce_parts(z, t, axes)
    logp = x - big_l
    tangent = jnp.zeros_like(value)
    if not isinstance(z_dot, _SymbolicZero):
        s_t = jnp.sum(t, axes, keepdims=True)
        tangent = tangent + jnp.sum((s_t * jnp.exp(logp) - t) * z_dot, axes)
    if not isinstance(t_dot, _SymbolicZero):
        safe = jnp.where(t == 0, 1, t)
        g_t = jnp.where(t == 0, 0, jnp.log(safe) + 1) - logp
        tangent = tangent + jnp.sum(g_t * t_dot, axes)
    return value, tangent


_sce.defjvp(_sce_jvp, symbolic_zeros=True)
_softmax_cross_entropy = _public(_sce, _LOG)


def softmax_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
) -> jax.Array:
    r"""ρ_c(softmax(z), t), computed in log space in one fused pass.

    .. math::
        \rho_c = \sum_k t_k\log\frac{t_k}{\mathrm{softmax}(z)_k}
               = \sum_k t_k\,(\log t_k - x_k) + \Big(\sum_k t_k\Big)\,
                 \mathrm{log1p}\Big(\sum_{k \ne k^*} e^{x_k}\Big), \qquad x = z - \max z

    Its gradient is (Σ_j t_j) softmax(z)_k − t_k (the paper's eq. 1), given as a custom JVP.
    The value is the limit of ``cross_entropy(softmax(z), t)`` for any logits: a zero target
    next to a −∞ logit contributes 0 (``[0, -inf]`` with t = ``[1, 0]`` is 0, as are
    ``[3e38, -3e38]``), a non-zero one +∞; the gradient is finite wherever the value is. The
    value is finite wherever it is representable, also where z − max z overflows
    (``[3.4e38, -3.4e38]`` with t = ``[0, 0.17]`` is 1.156e38).
    NaN by design: a NaN or +∞ logit (as :func:`jaxsoftmax.softmax`), NaN or negative
    targets.

    **Differs from** ``optax.losses.softmax_cross_entropy``, which is −Σ_k t_k log softmax(z)_k:
    on soft targets the two differ by the constant Σ_k t_k log t_k (the entropy term, 0 for
    one-hot targets), which this paper's ρ_c includes; the gradients in z agree.

    Args:
      logits: z, shape ``(..., q)``.
      targets: t ≥ 0, same shape (need not sum to one).
      axis: class axis or axes to sum over (static under ``jit``).
      check_targets: refuse targets outside [0, 1] (see the module docstring).
      from_logits: ``outputs`` are logits: ρ_c(softmax(z), t), computed in log space by
        :func:`softmax_cross_entropy_from_logits`. Without it, logits passed as outputs give
        a wrong number (e.g. negative, or NaN for negative entries), not an error.

    Returns:
      ρ_c with the class axes removed. Reduce over the batch yourself.
    """
    z, t, axis = _args("softmax_cross_entropy_from_logits", logits, targets, axis,
                       check_targets, _LOG)  # fmt: skip
    return _softmax_cross_entropy(z, t, axis=axis)


def _logistic_ls_core(z, t, axes):
    return jnp.sum(0.5 * jnp.square(t - jax.nn.sigmoid(z)), axes)


_logistic_least_squares = _public(_logistic_ls_core, _LOG)


def logistic_least_squares_from_logits(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
) -> jax.Array:
    r"""ρ_l(logistic(z), t) = Σ_k ½ (t_k − σ(z_k))², σ applied to each output unit.

    Bounded outputs, so stable as it stands, ±∞ logits included. NaN by design: NaN inputs.
    Shapes as in :func:`least_squares`.
    """
    z, t, axis = _args("logistic_least_squares_from_logits", logits, targets, axis,
                       check_targets, _LOG)  # fmt: skip
    return _logistic_least_squares(z, t, axis=axis)


def _t_log_t_over_sigmoid(t, z):
    """t log(t / σ(z)) = t (log t + softplus(−z)), 0 where t = 0 (NaN if z is NaN)."""
    safe = jnp.where(t == 0, 1, t)
    return jnp.where(t == 0, _nan_or_zero(z), t * (jnp.log(safe) + jax.nn.softplus(-z)))


def _grad_t_log_t_over_sigmoid(t, z):
    """∂/∂t of the above: log t + 1 + softplus(−z), with log t + 1 taken as 0 at t = 0."""
    safe = jnp.where(t == 0, 1, t)
    return jnp.where(t == 0, 0, jnp.log(safe) + 1) + jax.nn.softplus(-z)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _lce(z, t, axes):
    return jnp.sum(_t_log_t_over_sigmoid(t, z), axes)


def _lce_jvp(axes, primals, tangents):
    # ∂/∂z_k = −t_k σ(−z_k) (bounded for any z); ∂/∂t_k as in _grad_t_log_t_over_sigmoid.
    z, t = primals
    z_dot, t_dot = tangents
    value = _lce(z, t, axes)
    tangent = jnp.zeros_like(value)
    if not isinstance(z_dot, _SymbolicZero):
        tangent = tangent + jnp.sum(-t * jax.nn.sigmoid(-z) * z_dot, axes)
    if not isinstance(t_dot, _SymbolicZero):
        tangent = tangent + jnp.sum(_grad_t_log_t_over_sigmoid(t, z) * t_dot, axes)
    return value, tangent


_lce.defjvp(_lce_jvp, symbolic_zeros=True)
_logistic_cross_entropy = _public(_lce, _LOG)


def logistic_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
) -> jax.Array:
    r"""ρ_c(logistic(z), t), with −log σ(z) = softplus(−z) computed stably.

    .. math::
        \rho_c = \sum_k t_k\log t_k - t_k\log\sigma(z_k)
               = \sum_k t_k\,\big(\log t_k + \mathrm{softplus}(-z_k)\big)

    The paper's "not sensible" pairing (section 2): for any non-zero target it is minimised by
    z_k → ∞. The value is the composition's limit at ±∞ logits (a zero target at z = −∞
    contributes 0, a non-zero one +∞); ∂ρ/∂z_k = −t_k σ(−z_k) is finite for every z. NaN by
    design: NaN logits (also next to a zero target) or targets; negative targets. Shapes as in
    :func:`cross_entropy`.
    """
    z, t, axis = _args("logistic_cross_entropy_from_logits", logits, targets, axis,
                       check_targets, _LOG)  # fmt: skip
    return _logistic_cross_entropy(z, t, axis=axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _lbce(z, t, axes):
    u = 1 - t
    return jnp.sum(_t_log_t_over_sigmoid(t, z) + _t_log_t_over_sigmoid(u, -z), axes)


def _lbce_jvp(axes, primals, tangents):
    # ∂/∂z_k = σ(z_k) − t_k (the natural pairing); ∂/∂t_k = the t part minus the 1 − t part.
    z, t = primals
    z_dot, t_dot = tangents
    value = _lbce(z, t, axes)
    tangent = jnp.zeros_like(value)
    if not isinstance(z_dot, _SymbolicZero):
        tangent = tangent + jnp.sum((jax.nn.sigmoid(z) - t) * z_dot, axes)
    if not isinstance(t_dot, _SymbolicZero):
        u = 1 - t
        g_t = _grad_t_log_t_over_sigmoid(t, z) - _grad_t_log_t_over_sigmoid(u, -z)
        tangent = tangent + jnp.sum(g_t * t_dot, axes)
    return value, tangent


_lbce.defjvp(_lbce_jvp, symbolic_zeros=True)
_logistic_bernoulli_cross_entropy = _public(_lbce, _LOG)


def logistic_bernoulli_cross_entropy_from_logits(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: Axis = -1,
    *,
    check_targets: bool = False,
) -> jax.Array:
    r"""ρ_b(logistic(z), t), computed in log space.

    .. math::
        \rho_b = \sum_k t_k\log t_k + (1-t_k)\log(1-t_k)
                 + t_k\,\mathrm{softplus}(-z_k) + (1-t_k)\,\mathrm{softplus}(z_k)

    using −log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z). The value is the
    composition's limit at ±∞ logits (z = +∞ with t = 1 gives 0, not 0·∞ = NaN);
    ∂ρ/∂z_k = σ(z_k) − t_k is finite for every z. NaN by design: NaN logits or targets;
    targets outside [0, 1]. Shapes as in :func:`bernoulli_cross_entropy`.
    """
    z, t, axis = _args("logistic_bernoulli_cross_entropy_from_logits", logits, targets, axis,
                       check_targets, _LOG)  # fmt: skip
    return _logistic_bernoulli_cross_entropy(z, t, axis=axis)
