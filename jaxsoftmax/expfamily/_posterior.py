"""The construction, logits = T(x) Wᵀ + b, and the public posterior functions."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import checkify

from ..activations import log_softmax, softmax
from ._base import ExponentialFamily, _lead
from ._constraints import _check_traced
from ._priors import LogPriors, PriorWeights, _log_prior
from ._validation import _all_constraints, _prepare


def _affine(family, params, log_prior):
    q = params.shape[0]
    theta = jax.vmap(family.natural_parameters)(params)
    a = jnp.asarray(family.dispersion(), theta.dtype)
    w = theta.reshape(q, -1) / a
    return w, log_prior - jax.vmap(family.log_partition)(theta) / a


def _flat_events(x, event_ndim):
    batch = x.shape[: x.ndim - event_ndim]
    return batch, x.reshape((math.prod(batch), *x.shape[x.ndim - event_ndim :]))


def _logits(family, params, log_prior, x):
    w, bias = _affine(family, params, log_prior)
    batch, flat = _flat_events(x, params.ndim - 1)
    t = jax.vmap(family.sufficient_statistic)(flat).reshape((*batch, w.shape[1]))
    z = jnp.tensordot(t, w, axes=[[-1], [1]], precision=lax.Precision.HIGHEST)
    return z + _lead(bias, z.ndim)


@functools.partial(jax.jit, static_argnames=("kind",))
def _affine_kernel(family, params, kind, prior_values):
    return _affine(family, params, _log_prior(kind, prior_values))


_OUTPUTS = {"logits": lambda z: z, "probabilities": softmax, "log_probabilities": log_softmax}


@functools.partial(jax.jit, static_argnames=("kind", "output"))
def _logits_kernel(family, params, kind, prior_values, x, output="logits"):
    return _OUTPUTS[output](_logits(family, params, _log_prior(kind, prior_values), x))


def _posterior_call(fn, output, family, class_params, priors, x, validate):
    prep = _prepare(family, class_params, priors, x, fn=fn, validate=validate)
    return _logits_kernel(prep.family, prep.params, prep.kind, prep.prior_values, prep.x, output)


def affine_logits(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    *,
    validate: bool = True,
) -> tuple[jax.Array, jax.Array]:
    r"""The posterior logits as an explicit affine map of T(x): (W, b).

    .. math::
        z = T(x)\,W^\top + b,\qquad W_k = \frac{\theta_k}{a(\psi)},\qquad
        b_k = -\frac{b(\theta_k)}{a(\psi)} + \log P(C_k)

    Dunne & Campbell's eq. 3: "a linear combination of the variables with an offset or bias
    term". Every shipped family has T(x) = x (flattened), so the logits are affine in x; for
    two classes, P(C_1 | x) = logistic(T(x)·(W_1 − W_2) + b_1 − b_2) (eq. 2).

    Args:
      family: an :class:`ExponentialFamily`.
      class_params: usual parameters of each class stacked on axis 0, shape (q, *P).
      priors: probabilities (q,), ``None`` (equal), :class:`LogPriors` or :class:`PriorWeights`.
      validate: check concrete values eagerly (see the module docstring).

    Returns:
      ``W`` of shape (q, d) with d the size of T(x), and ``b`` of shape (q,).
    """
    prep = _prepare(family, class_params, priors, None, fn="affine_logits", validate=validate)
    return _affine_kernel(prep.family, prep.params, prep.kind, prep.prior_values)


def posterior_logits(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    r"""Logits whose softmax is the Bayes posterior P(C_k | x) (the paper's eq. 3).

    .. math::
        z_k = \frac{\theta_k^\top T(x) - b(\theta_k)}{a(\psi)} + \log P(C_k)
            = \log P(x, C_k) - c(x, \psi)

    The base measure c(x, ψ) is the same for every class and is left out. Batched over the
    leading axes of x; jittable (``family`` is a pytree) and vmappable over parameter sets.

    Args:
      family: an :class:`ExponentialFamily`, e.g. ``gaussian_shared_covariance(cov)``.
      class_params: usual parameters of each class stacked on axis 0, shape (q, *E) (see the
        family; e.g. means (q, p), Poisson rates (q,) or (q, p)).
      priors: probabilities (q,), ``None`` (equal), :class:`LogPriors` or :class:`PriorWeights`.
      x: observations, shape (..., *E).
      validate: check concrete values eagerly (priors, parameter domain, ψ, support of x).

    Returns:
      Logits of shape (..., q), in the common float dtype of the inputs.
    """
    return _posterior_call("posterior_logits", "logits", family, class_params, priors, x, validate)


def posterior(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    r"""The Bayes posterior P(C_k | x) = softmax(:func:`posterior_logits`), shape (..., q).

    .. math::
        P(C_k \mid x) = \frac{\exp\{\theta_k^\top T(x) - b(\theta_k)\}/a(\psi)\,P(C_k)}
        {\sum_j \exp\{\theta_j^\top T(x) - b(\theta_j)\}/a(\psi)\,P(C_j)}

    (Dunne & Campbell, eq. 3.) Arguments as for :func:`posterior_logits`.
    """
    return _posterior_call("posterior", "probabilities", family, class_params, priors, x, validate)


def log_posterior(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    """log P(C_k | x) = log_softmax(:func:`posterior_logits`), computed stably; shape (..., q)."""
    return _posterior_call(
        "log_posterior", "log_probabilities", family, class_params, priors, x, validate
    )


@jax.jit
def _densities_kernel(family, params, x):
    z = _logits(family, params, jnp.zeros(params.shape[:1], params.dtype), x)
    batch, flat = _flat_events(x, params.ndim - 1)
    c = jax.vmap(family.log_base_measure)(flat).reshape(batch)
    return z + c[..., None]


def class_log_densities(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    r"""The class-conditional log-densities log P(x | C_k), shape (..., q).

    .. math::
        \log P(x \mid C_k) = \frac{\theta_k^\top T(x) - b(\theta_k)}{a(\psi)} + c(x, \psi)

    The family's density assembled from its (T, θ, b, a, c); :func:`posterior_logits` is this
    minus c(x, ψ) plus log P(C_k).
    """
    prep = _prepare(family, class_params, None, x, fn="class_log_densities", validate=validate)
    return _densities_kernel(prep.family, prep.params, prep.x)


def _checked_impl(family, params, prior_values, x, *, kind):
    for default, cons in _all_constraints(family, params, kind, prior_values, x):
        _check_traced(cons, default, f"checked_posterior_logits(family={family.name})")
    return _logits(family, params, _log_prior(kind, prior_values), x)


@functools.partial(jax.jit, static_argnames=("kind",))
def _checked_kernel(family, params, kind, prior_values, x):
    checked = checkify.checkify(
        functools.partial(_checked_impl, kind=kind), errors=checkify.user_checks
    )
    return checked(family, params, prior_values, x)


def checked_posterior_logits(
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
) -> tuple[checkify.Error, jax.Array]:
    """:func:`posterior_logits` with its value checks as ``checkify`` checks, for traced input.

    Usable inside ``jit`` and ``vmap``: the same checks as the eager path (priors, parameter
    domain, ψ, support of x) are staged into the computation and reported in the returned
    error instead of raising. Shapes are still checked at trace time.

    Returns:
      ``(err, logits)``: call ``err.throw()`` (outside ``jit``) to raise a
      ``checkify.JaxRuntimeError`` naming the first failed check, or ``err.get()`` for its
      message (``None`` when every check passed).
    """
    prep = _prepare(family, class_params, priors, x, fn="checked_posterior_logits")
    return _checked_kernel(prep.family, prep.params, prep.kind, prep.prior_values, prep.x)
