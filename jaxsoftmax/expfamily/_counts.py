"""The unbounded count families: Poisson, geometric and negative binomial."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
from jax.scipy.special import gammaln

from ._base import ExponentialFamily, _batched, _build
from ._constraints import _counts, _open_unit, _positive


@dataclasses.dataclass(frozen=True, eq=False)
class Poisson(ExponentialFamily):
    r"""Independent Poisson counts with rates λ (the means).

    .. math::
        T(x) = x,\quad \theta = \log\lambda,\quad b(\theta) = \sum_i e^{\theta_i},\quad
        a = 1,\quad c(x) = -\sum_i\log x_i!.

    class_params: positive rates, shape (q,) for scalar counts or (q, p) for p independent ones.
    """

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log(params)

    def mean_parameters(self, theta):
        return jnp.exp(theta)

    def log_partition(self, theta):
        return jnp.sum(jnp.exp(theta))

    def log_base_measure(self, x):
        return -jnp.sum(gammaln(x + 1))

    def param_constraints(self, params):
        return (_positive(params),)

    def support_constraints(self, x):
        return (_counts(x),)

    def sample(self, key, params, shape):
        # JAX's Poisson sampler (Knuth's for λ < 10, rejection above): reproducible per key,
        # not monotone in λ across parameter values.
        p = _batched(params, shape)
        return jr.poisson(key, p, p.shape).astype(params.dtype)


def poisson() -> Poisson:
    """Independent Poisson counts; class_params rates λ, shape (q,) or (q, p).

    T(x) = x, θ = log λ, b(θ) = Σ e^θ, a = 1, c(x) = −Σ log x_i!: the logits are
    Σ_i (x_i log λ_{k,i} − λ_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Poisson`.
    """
    return Poisson()


class _LogFailure:
    """Success probabilities p in (0, 1) with θ = log(1 − p) (the geometric and the negative
    binomial)."""

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log1p(-params)

    def mean_parameters(self, theta):
        return -jnp.expm1(theta)

    def param_constraints(self, params):
        return (_open_unit(params),)


@dataclasses.dataclass(frozen=True, eq=False)
class Geometric(_LogFailure, ExponentialFamily):
    r"""Geometric counts: the number of trials up to and including the first success (x ≥ 1).

    .. math::
        T(x) = x,\quad \theta = \log(1 - p),\quad
        b(\theta) = \sum_i\big[\theta_i - \log(1 - e^{\theta_i})\big] = \sum_i\log\frac{1-p_i}{p_i},
        \quad a = 1,\quad c = 0.

    (P(x) = (1 − p)^{x−1} p, as ``scipy.stats.geom``.) class_params: success probabilities in
    (0, 1), shape (q, *E). ``negative_binomial(1)`` is the same law shifted to failures (x ≥ 0).
    """

    def log_partition(self, theta):
        return jnp.sum(theta - jnp.log(-jnp.expm1(theta)))

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def support_constraints(self, x):
        return (_counts(x, 1, "positive integers (trials up to the first success)"),)

    def sample(self, key, params, shape):
        # Inversion, x = ⌊log U / log(1 − p)⌋ + 1: the same key's U gives draws monotone in p.
        p = _batched(params, shape)
        return jr.geometric(key, p, p.shape).astype(params.dtype)


def geometric() -> Geometric:
    """Geometric numbers of trials up to the first success (x ≥ 1); class_params probabilities.

    T(x) = x, θ = log(1 − p), b(θ) = Σ[θ − log(1 − e^θ)], a = 1, c = 0.
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Geometric`.
    """
    return Geometric()


@dataclasses.dataclass(frozen=True, eq=False)
class NegativeBinomial(_LogFailure, ExponentialFamily):
    r"""Negative binomial counts of failures before the r-th success, r shared by all classes.

    .. math::
        T(x) = x,\quad \theta = \log(1 - p),\quad b(\theta) = -r\sum_i\log(1 - e^{\theta_i}),
        \quad a = 1,\quad c(x, r) = \sum_i\log\frac{\Gamma(x_i + r)}{\Gamma(r)\,x_i!}.

    (P(x) = C(x + r − 1, x) p^r (1 − p)^x, as ``scipy.stats.nbinom(r, p)``; r > 0 may be real.)
    class_params: success probabilities in (0, 1), shape (q, *E).
    """

    r: jax.Array

    def log_partition(self, theta):
        return -self.r * jnp.sum(jnp.log(-jnp.expm1(theta)))

    def log_base_measure(self, x):
        return jnp.sum(gammaln(x + self.r) - gammaln(self.r) - gammaln(x + 1))

    def support_constraints(self, x):
        return (_counts(x),)

    def scale_constraints(self):
        return (_positive(self.r, name="r"),)

    def sample(self, key, params, shape):
        # The Poisson–gamma mixture: λ ~ Gamma(r, scale (1 − p)/p), x | λ ~ Poisson(λ).
        k1, k2 = jr.split(key)
        p = _batched(params, shape)
        lam = jr.gamma(k1, jnp.broadcast_to(self.r, p.shape), p.shape, params.dtype) * (1 - p) / p
        return jr.poisson(k2, lam, p.shape).astype(params.dtype)


def negative_binomial(r: jax.typing.ArrayLike) -> NegativeBinomial:
    """Negative binomial failures before the r-th success, r shared; class_params probabilities.

    T(x) = x, θ = log(1 − p), b(θ) = −r Σ log(1 − e^θ), a = 1,
    c(x, r) = Σ log[Γ(x_i + r)/(Γ(r) x_i!)].
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`NegativeBinomial`.
    """
    return _build(NegativeBinomial, "negative_binomial", r=r)
