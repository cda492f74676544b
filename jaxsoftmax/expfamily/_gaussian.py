"""The Gaussian families: a shared full covariance (LDA) and a shared scalar variance."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from .._checks import as_float_array
from ._base import _LOG_2PI, ExponentialFamily, _build, _check_scale, _dot
from ._constraints import Constraint, _finite, _is_tracer, _positive


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianSharedCovariance(ExponentialFamily):
    r"""Gaussians N(μ_k, Σ) with one covariance Σ shared by all classes (the LDA case).

    .. math::
        T(x) = x,\quad \theta = \Sigma^{-1}\mu,\quad b(\theta) = \tfrac12\theta^\top\Sigma\theta
        = \tfrac12\mu^\top\Sigma^{-1}\mu,\quad a = 1,\quad
        c(x, \Sigma) = -\tfrac12 x^\top\Sigma^{-1}x - \tfrac12\log\det(2\pi\Sigma).

    class_params: means, shape (q, p); x: shape (..., p). The logits are those of linear
    discriminant analysis (Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*,
    eq. 4.10). Build it with :func:`gaussian_shared_covariance`, which checks Σ.
    """

    cov: jax.Array

    def _chol(self):
        return jnp.linalg.cholesky(self.cov)

    def event_shape(self, param_shape):
        p = self.cov.shape[-1]
        if tuple(param_shape) != (p,):
            raise ValueError(
                f"GaussianSharedCovariance: class_params (the means) must have shape (q, {p}) to "
                f"match cov with shape {self.cov.shape}; got one class of shape {param_shape}"
            )
        return (p,)

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return cho_solve((self._chol(), True), params)

    def mean_parameters(self, theta):
        return _dot(self.cov, theta)

    def log_partition(self, theta):
        return 0.5 * jnp.sum(theta * _dot(self.cov, theta))

    def log_base_measure(self, x):
        chol = self._chol()
        z = solve_triangular(chol, x, lower=True)
        logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol)))
        return -0.5 * jnp.sum(z * z) - 0.5 * (logdet + x.shape[-1] * _LOG_2PI)

    def param_constraints(self, params):
        return (_finite(params),)

    def scale_constraints(self):
        return _spd_constraints(self.cov, "cov")

    def sample(self, key, params, shape):
        # x = μ + Lε with ΣL = LLᵀ: the same ε moves smoothly with μ and Σ (common random
        # numbers). One flat draw, reshaped (a multi-axis threefry draw compiles more slowly on
        # XLA:CPU, and gives the same numbers), and the same expression as
        # jaxsoftmax.gaussians.sample, so that the paper's problem draws the same points.
        out = (*shape, *params.shape)
        z = jr.normal(key, (math.prod(out),), params.dtype).reshape(out)
        return jnp.broadcast_to(params, out) + z @ self._chol().T


def _spd_constraints(cov: jax.Array, name: str) -> tuple[Constraint, ...]:
    scale = jnp.max(jnp.abs(cov))
    asym = jnp.abs(cov - jnp.swapaxes(cov, -1, -2))
    eig = jnp.linalg.eigvalsh(0.5 * (cov + jnp.swapaxes(cov, -1, -2)))
    eps = jnp.finfo(cov.dtype).eps
    return (
        _finite(cov, name),
        Constraint(
            "symmetric (|cov - cov.T| <= 1e-5 max|cov|)",
            asym <= 1e-5 * scale,
            asym,
            name,
            f"|{name} - {name}.T|",
        ),
        Constraint(
            "positive definite (every eigenvalue > p·eps·max|eigenvalue|)",
            eig > cov.shape[-1] * eps * jnp.max(jnp.abs(eig), axis=-1, keepdims=True),
            eig,
            name,
            f"eigvalsh({name})",
        ),
    )


def gaussian_shared_covariance(cov: jax.typing.ArrayLike) -> GaussianSharedCovariance:
    r"""The Gaussian family with a shared full covariance Σ: class_params are means (q, p).

    .. math::
        \log P(x \mid C_k) = \mu_k^\top\Sigma^{-1}x - \tfrac12\mu_k^\top\Sigma^{-1}\mu_k
        - \tfrac12 x^\top\Sigma^{-1}x - \tfrac12\log\det(2\pi\Sigma)

    (T(x) = x, θ = Σ⁻¹μ, b = ½θᵀΣθ, a = 1; Dunne & Campbell, eq. 3.) The paper's four-Gaussian
    problem is ``posterior(gaussian_shared_covariance(jnp.eye(2)), means, jnp.full(4, .25), x)``.

    Args:
      cov: the shared covariance, shape (p, p), symmetric positive definite (checked when
        concrete). A stack (q, p, p) is accepted only if its matrices are all equal.

    Raises:
      ValueError: ``cov`` is not square, not symmetric positive definite, or a stack of
        covariances that differ — then the common-scale assumption of eq. 3 fails, the
        log-posterior is quadratic in x, and :func:`gaussian_bayes_posterior_logits` is the
        model to use.
    """
    cov = as_float_array(cov, "cov")
    if cov.ndim == 3:
        if _is_tracer(cov):
            raise ValueError(
                f"gaussian_shared_covariance: got a stack of covariances {cov.shape} under a "
                "transformation, where their equality cannot be checked; pass the single "
                "shared (p, p) covariance"
            )
        c = np.asarray(cov)
        diff = np.max(np.abs(c - c[:1])) if c.shape[0] else 0.0
        if diff > 1e-6 * max(np.max(np.abs(c)), np.finfo(c.dtype).tiny):
            raise ValueError(
                f"gaussian_shared_covariance: the {c.shape[0]} per-class covariances given "
                f"(shape {c.shape}) differ (max |cov[k] - cov[0]| = {diff:.3g}). The softmax of "
                "an affine function needs one covariance shared by every class (the common "
                "scale ψ of Dunne & Campbell's eq. 3); with unequal covariances the Bayes "
                "log-posterior is quadratic in x (quadratic discriminant analysis), a different "
                "model: use gaussian_bayes_posterior_logits(means, covs, priors, x) for it"
            )
        cov = cov[0]
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(
            f"gaussian_shared_covariance: cov must be a square (p, p) matrix, got shape {cov.shape}"
        )
    fam = GaussianSharedCovariance(cov)
    _check_scale(fam, "gaussian_shared_covariance")
    return fam


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianIsotropic(ExponentialFamily):
    r"""Gaussians N(μ_k, σ² I) with one variance σ² shared by all classes and coordinates.

    .. math::
        T(x) = x,\quad \theta = \mu,\quad b(\theta) = \tfrac12\sum_i\theta_i^2,\quad
        a(\sigma^2) = \sigma^2,\quad
        c(x, \sigma^2) = -\frac{\sum_i x_i^2}{2\sigma^2} - \frac{n}{2}\log(2\pi\sigma^2)

    with n the number of coordinates. The dispersion form of eq. 3 (McCullagh & Nelder, table
    2.1). class_params: means (q, *E) (any E; (q, p) for p-vectors); x: (..., *E).
    """

    variance: jax.Array

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return params

    def mean_parameters(self, theta):
        return theta

    def log_partition(self, theta):
        return 0.5 * jnp.sum(theta * theta)

    def dispersion(self):
        return self.variance

    def log_base_measure(self, x):
        v = self.variance
        return -0.5 * jnp.sum(x * x) / v - 0.5 * x.size * (_LOG_2PI + jnp.log(v))

    def param_constraints(self, params):
        return (_finite(params),)

    def scale_constraints(self):
        return (_positive(self.variance, name="variance"),)

    def sample(self, key, params, shape):
        # x = μ + σ ε: the same key's ε gives draws that move smoothly with μ and σ.
        z = jr.normal(key, (*shape, *params.shape), params.dtype)
        return jnp.broadcast_to(params, z.shape) + jnp.sqrt(self.variance) * z


def gaussian_isotropic(variance: jax.typing.ArrayLike = 1.0) -> GaussianIsotropic:
    r"""The Gaussian family N(μ_k, σ² I) with a shared scalar variance σ² (``variance``).

    T(x) = x, θ = μ, b(θ) = ½|θ|², a(σ²) = σ², c(x, σ²) = −|x|²/(2σ²) − (n/2) log(2πσ²):
    the logits are (μ_kᵀx − ½|μ_k|²)/σ² + log P(C_k) (Dunne & Campbell, eq. 3, with a(ψ) kept;
    McCullagh & Nelder 1989, table 2.1). Formulas: :class:`GaussianIsotropic`.
    """
    return _build(GaussianIsotropic, "gaussian_isotropic", variance=variance)
