"""Gaussians with unequal covariances: the quadratic (not softmax-of-affine) Bayes rule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from .._checks import as_float_array
from ..activations import softmax
from ._base import _LOG_2PI, _lead
from ._constraints import _is_tracer, _raise_violations
from ._gaussian import _spd_constraints, gaussian_isotropic
from ._priors import LogPriors, PriorWeights, _log_prior
from ._validation import _prepare, _validate


@jax.jit
def _gaussian_qda_kernel(means, covs, log_prior, x):
    chol = jnp.linalg.cholesky(covs)  # (q, p, p)
    d = x[..., None, :] - _lead(means, x.ndim + 1)  # (..., q, p)
    batch = d.shape[:-2]
    flat = jnp.moveaxis(d.reshape((-1, *d.shape[-2:])), 0, -1)  # (q, p, N)
    z = jax.vmap(lambda c, v: solve_triangular(c, v, lower=True))(chol, flat)
    maha = jnp.moveaxis(jnp.sum(z * z, axis=-2), -1, 0).reshape((*batch, means.shape[0]))
    logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
    const = log_prior - 0.5 * (logdet + means.shape[-1] * _LOG_2PI)
    return -0.5 * maha + _lead(const, maha.ndim)


def gaussian_bayes_posterior_logits(
    means: jax.typing.ArrayLike,
    covs: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    r"""Bayes logits for Gaussians with per-class covariances: quadratic discriminants.

    .. math::
        z_k = \log P(x \mid C_k) + \log P(C_k) = -\tfrac12(x - \mu_k)^\top\Sigma_k^{-1}(x - \mu_k)
        - \tfrac12\log\det(2\pi\Sigma_k) + \log P(C_k)

    The general sampling-paradigm posterior (the paper's section 3, before the common-scale
    assumption): still P(C_k | x) = softmax(z), but z is *quadratic* in x unless all Σ_k are
    equal, so it is not the paper's eq. 3. Ask for it explicitly; with one shared covariance use
    :func:`gaussian_shared_covariance`.

    Args:
      means: (q, p).
      covs: (q, p, p) per-class covariances, or (p, p) shared; symmetric positive definite.
      priors: as for :func:`posterior_logits`.
      x: (..., p).
      validate: check concrete values eagerly.

    Returns:
      The log joint densities log P(x, C_k), shape (..., q).
    """
    means = as_float_array(means, "means")
    covs = as_float_array(covs, "covs")
    if covs.ndim == 2:
        covs = covs[None]
    if (
        means.ndim != 2
        or covs.ndim != 3
        or covs.shape[1:] != (means.shape[1],) * 2
        or covs.shape[0] not in (1, means.shape[0])
    ):
        raise ValueError(
            f"gaussian_bayes_posterior_logits: means must have shape (q, p) and "
            f"covs (q, p, p) or (p, p); got means with shape {means.shape} and "
            f"covs with shape {covs.shape}"
        )
    q, p = means.shape
    prep = _prepare(gaussian_isotropic(), means, priors, x, fn="gaussian_bayes_posterior_logits")
    covs = jnp.broadcast_to(covs.astype(prep.params.dtype), (q, p, p))
    if validate:
        _validate(prep, "", where="gaussian_bayes_posterior_logits", params_name="means")
        if not _is_tracer(covs):
            with jax.ensure_compile_time_eval():
                _raise_violations(
                    _spd_constraints(covs, "covs"), "covs", "gaussian_bayes_posterior_logits"
                )
    log_prior = _log_prior(prep.kind, prep.prior_values)
    return _gaussian_qda_kernel(prep.params, covs, log_prior, prep.x)


def gaussian_bayes_posterior(
    means: jax.typing.ArrayLike,
    covs: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    x: jax.typing.ArrayLike,
    *,
    validate: bool = True,
) -> jax.Array:
    """softmax(:func:`gaussian_bayes_posterior_logits`): P(C_k | x) with per-class covariances."""
    return softmax(gaussian_bayes_posterior_logits(means, covs, priors, x, validate=validate))
