r"""The tempered softmax and the bi-tempered logistic loss (Amid, Warmuth, Anil & Koren 2019).

Source: E. Amid, M. K. Warmuth, R. Anil, T. Koren (2019), "Robust Bi-Tempered Logistic Loss
Based on Bregman Divergences", NeurIPS. With the tempered logarithm and exponential (their
section 2)

.. math::
   \log_t x = \frac{x^{1-t} - 1}{1 - t}, \qquad
   \exp_t x = [1 + (1 - t)x]_+^{1/(1-t)} \qquad (\log_1 = \log,\ \exp_1 = \exp),

the **tempered softmax** (their eq. (8)) is :math:`\hat y_i = \exp_{t_2}(z_i - \lambda_{t_2}(z))`
with the normaliser :math:`\lambda_{t_2}(z)` the solution of
:math:`\sum_j \exp_{t_2}(z_j - \lambda) = 1`; for :math:`t_2 > 1` (heavy tails) it has no
closed form and is found by their fixed-point iteration (Algorithm 1), here followed by a few
Newton steps on :math:`\lambda` so that float64 reaches machine precision. The **bi-tempered
logistic loss** (their eq. (11), the Bregman divergence of the tempered log) is

.. math::
   L_{t_1}(t, \hat y) = \sum_i \Big[t_i \log_{t_1} t_i - t_i \log_{t_1} \hat y_i
       - \frac{t_i^{2-t_1} - \hat y_i^{2-t_1}}{2 - t_1}\Big].

At :math:`t_1 = t_2 = 1` it is :math:`\sum_i [t_i \log(t_i/\hat y_i) - t_i + \hat y_i]`:
softmax cross-entropy ρ_c (:func:`jaxsoftmax.softmax_cross_entropy_from_logits`) plus
:math:`1 - \sum_i t_i`, so exactly the cross-entropy for targets that sum to one, and the same
Δ for any targets.

The Jacobian of the tempered softmax (implicit differentiation of the normalisation, as in
their code's gradient) is :math:`\partial\hat y_i/\partial z_k = \hat y_i^{t_2}(\delta_{ik} -
\hat y_k^{t_2}/\sum_j \hat y_j^{t_2})`: symmetric, so the tempered softmax is a gradient and
has a natural penalty (``jaxsoftmax.derivations.natural``); :func:`tempered_softmax` uses it as
its custom JVP, so gradients never differentiate through the iteration.

Differences from the reference implementation (``google/bi-tempered-loss``): ``t2 < 1``
(finite support, found there by bisection) is refused here: for it use
:func:`jaxsoftmax.entmax` (α-entmax is the tempered softmax with t = 2 − α, up to the scale
of the logits); the iteration runs to convergence rather than a fixed 5 steps, so values agree
with theirs to about 1e-4 (their tests' tolerance); no label smoothing argument (use the
``label_smoothing`` pairings).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ._checks import as_float_array, compute_dtype, normalize_axis, same_shape
from .penalties import xlogy

__all__ = ["bi_tempered_loss", "exp_t", "log_t", "tempered_softmax"]

_FIXED_POINT_STEPS = 10
_NEWTON_STEPS = 4


def _check_t(t, name: str, fn: str, lo: float, hi: float) -> float:
    try:
        x = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {name}={t!r} is not a number; {name} must be in "
                         f"[{lo}, {hi}]") from None  # fmt: skip
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ValueError(f"{fn}: {name}={t!r} is not allowed; {name} must be in [{lo}, {hi}]")
    return x


def log_t(x: jax.typing.ArrayLike, t: float) -> jax.Array:
    r"""The tempered logarithm :math:`\log_t x = (x^{1-t} - 1)/(1 - t)`, :math:`\log_1 = \log`
    (Amid et al. 2019, section 2; Naudts 2002)."""
    x = as_float_array(x, "x")
    t = _check_t(t, "t", "log_t", -math.inf, math.inf)
    return jnp.log(x) if t == 1 else (x ** (1 - t) - 1) / (1 - t)


def exp_t(x: jax.typing.ArrayLike, t: float) -> jax.Array:
    r"""The tempered exponential :math:`\exp_t x = [1 + (1 - t)x]_+^{1/(1-t)}`,
    :math:`\exp_1 = \exp` (Amid et al. 2019, section 2), the inverse of :func:`log_t`."""
    x = as_float_array(x, "x")
    t = _check_t(t, "t", "exp_t", -math.inf, math.inf)
    return jnp.exp(x) if t == 1 else jnp.maximum(1 + (1 - t) * x, 0) ** (1 / (1 - t))


def _normaliser(a0, t):
    """λ' ≥ 0 with Σ_j exp_t(a0_j − λ') = 1, for max_j a0_j = 0 and t > 1."""

    def expt(x):
        return (1 + (1 - t) * x) ** (1 / (1 - t))  # base ≥ 1 for x ≤ 0, t > 1

    def fixed_point(_, a):  # Amid et al. (2019), Algorithm 1
        return a0 * jnp.sum(expt(a), axis=-1, keepdims=True) ** (1 - t)

    a = jax.lax.fori_loop(0, _FIXED_POINT_STEPS, fixed_point, a0)
    z = jnp.sum(expt(a), axis=-1, keepdims=True)
    lam = jnp.maximum(-(z ** (t - 1) - 1) / (1 - t), 0)  # −log_t(1/Z)

    def newton(_, lam):  # f(λ) = Σ exp_t(a0 − λ) − 1 is convex and decreasing
        y = expt(a0 - lam)
        f = jnp.sum(y, axis=-1, keepdims=True) - 1
        return jnp.maximum(lam + f / jnp.sum(y**t, axis=-1, keepdims=True), 0)

    return jax.lax.fori_loop(0, _NEWTON_STEPS, newton, lam)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _tempered(z, t):
    a0 = z - jnp.max(z, axis=-1, keepdims=True)
    y = (1 + (1 - t) * (a0 - _normaliser(a0, t))) ** (1 / (1 - t))
    return y / jnp.sum(y, axis=-1, keepdims=True)  # removes the last rounding of Σ y = 1


@_tempered.defjvp
def _tempered_jvp(t, primals, tangents):
    (z,), (dz,) = primals, tangents
    y = _tempered(z, t)
    # ∂y_i/∂z_k = y_i^t (δ_ik − y_k^t / Σ_j y_j^t): implicit differentiation of Σ y = 1.
    s = y**t
    g = s * dz
    return y, g - s * jnp.sum(g, axis=-1, keepdims=True) / jnp.sum(s, axis=-1, keepdims=True)


@functools.partial(jax.jit, static_argnames=("t", "axis"))
def _tempered_jit(z, t, axis):
    (ax,) = normalize_axis(axis, z.ndim)
    x = jnp.moveaxis(z.astype(compute_dtype(z.dtype)), ax, -1)
    y = jax.nn.softmax(x, axis=-1) if t == 1 else _tempered(x, t)
    return jnp.moveaxis(y, -1, ax).astype(z.dtype)


def tempered_softmax(z: jax.typing.ArrayLike, axis: int = -1, *, t2: float = 1.0) -> jax.Array:
    r"""The tempered softmax :math:`\exp_{t_2}(z - \lambda_{t_2}(z))` along ``axis`` (Amid et al.
    2019, eq. (8) and Algorithm 1; see the module docstring), for :math:`t_2 \ge 1`.

    ``t2 = 1`` is the softmax; ``t2 > 1`` gives heavier tails (outputs decay polynomially in
    z). Shift-invariant like the softmax. Differs from the reference code in refusing
    ``t2 < 1`` (use :func:`jaxsoftmax.entmax`) and in iterating to convergence.

    Raises:
      ValueError: ``t2`` not a finite number ≥ 1 (at most 10), or ``axis`` not one int.
    """
    t = _check_t(t2, "t2", "tempered_softmax", 1.0, 10.0)
    z = as_float_array(z, "z")
    if not isinstance(axis, int):
        raise ValueError(f"tempered_softmax: axis must be one int (the class axis), got {axis!r}")
    return _tempered_jit(z, t, axis)


@functools.partial(jax.jit, static_argnames=("t1", "t2", "axis"))
def _loss_jit(z, y, t1, t2, axis):
    (ax,) = normalize_axis(axis, z.ndim)
    dtype = compute_dtype(jnp.promote_types(z.dtype, y.dtype))
    x = jnp.moveaxis(z.astype(dtype), ax, -1)
    y = jnp.moveaxis(y.astype(dtype), ax, -1)
    if t2 == 1:
        log_o = jax.nn.log_softmax(x, axis=-1)
        o = jnp.exp(log_o)
    else:
        o = _tempered(x, t2)
        log_o = jnp.log(o)
    if t1 == 1:
        terms = xlogy(y, y) - y * log_o - y + o
    else:
        e = 1 - t1
        terms = y * (y**e - 1) / e - y * (o**e - 1) / e - (y ** (2 - t1) - o ** (2 - t1)) / (2 - t1)
    return jnp.sum(terms, axis=-1).astype(jnp.promote_types(z.dtype, y.dtype))


def bi_tempered_loss(
    logits: jax.typing.ArrayLike,
    targets: jax.typing.ArrayLike,
    axis: int = -1,
    *,
    t1: float = 1.0,
    t2: float = 1.0,
) -> jax.Array:
    r"""The bi-tempered logistic loss :math:`L_{t_1}(t, \hat y)`, :math:`\hat y` the tempered
    softmax of ``logits`` at :math:`t_2` (Amid et al. 2019, eq. (11); the module docstring),
    summed over the class axis ``axis``: shape ``logits.shape`` without ``axis``.

    :math:`t_1 \in [0, 1]` (< 1 bounds the loss: robustness to outliers), :math:`t_2 \in [1,
    10]` (> 1 heavy tails: robustness to label noise). At ``t1 = t2 = 1`` it equals
    :func:`jaxsoftmax.softmax_cross_entropy_from_logits` plus :math:`1 - \sum_i t_i` (so exactly
    the cross-entropy for targets that sum to one). Targets need not be one-hot.

    Raises:
      ValueError: ``t1`` or ``t2`` out of range or not finite; shapes that differ.
    """
    t1_ = _check_t(t1, "t1", "bi_tempered_loss", 0.0, 1.0)
    t2_ = _check_t(t2, "t2", "bi_tempered_loss", 1.0, 10.0)
    z = as_float_array(logits, "logits")
    y = as_float_array(targets, "targets")
    same_shape(z, y, ("logits", "targets"))
    if not isinstance(axis, int):
        raise ValueError(f"bi_tempered_loss: axis must be one int (the class axis), got {axis!r}")
    return _loss_jit(z, y, t1_, t2_, axis)
