"""The continuous positive families: gamma with a shared shape, and the exponential."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import jax.random as jr
from jax.scipy.special import gammaln, xlogy

from ._base import ExponentialFamily, _batched, _build
from ._constraints import Constraint, _positive


@dataclasses.dataclass(frozen=True, eq=False)
class Gamma(ExponentialFamily):
    r"""Gamma variables with a shape α shared by all classes, parametrised by their means μ.

    The GLM dispersion form (McCullagh & Nelder, table 2.1), density
    Gamma(shape α, rate α/μ):

    .. math::
        T(x) = x,\quad \theta = -1/\mu,\quad b(\theta) = -\sum_i\log(-\theta_i),\quad
        a(\alpha) = 1/\alpha,\quad
        c(x, \alpha) = \sum_i\big[\alpha\log\alpha + (\alpha - 1)\log x_i - \log\Gamma(\alpha)\big].

    The shape is the common scale ψ of eq. 3: the logits are α(−x/μ_k − log μ_k) + log P(C_k).
    class_params: positive means, shape (q, *E); x > 0.
    """

    shape: jax.Array | float  # the exponential's is the static 1.0

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return -1 / params

    def mean_parameters(self, theta):
        return -1 / theta

    def log_partition(self, theta):
        return -jnp.sum(jnp.log(-theta))

    def dispersion(self) -> jax.Array | float:
        return 1 / self.shape

    def log_base_measure(self, x):
        al = self.shape
        return jnp.sum(xlogy(al, al) + xlogy(al - 1, x) - gammaln(al))

    def param_constraints(self, params):
        return (_positive(params),)

    def support_constraints(self, x):
        return (Constraint("non-negative", x >= 0, x),)

    def scale_constraints(self) -> Sequence[Constraint]:
        return (_positive(self.shape, name="shape"),)

    def sample(self, key, params, shape):
        # x = μ G / α with G ~ Gamma(α, 1): the same key's G gives draws proportional to μ.
        p = _batched(params, shape)
        g = jr.gamma(key, jnp.broadcast_to(self.shape, p.shape), p.shape, params.dtype)
        return g * p / self.shape


def gamma(shape: jax.typing.ArrayLike) -> Gamma:
    """Gamma(shape α, mean μ) variables with a shared shape α; class_params means (q, *E).

    T(x) = x, θ = −1/μ, b(θ) = −Σ log(−θ), a(α) = 1/α, c(x, α) = Σ[α log α + (α − 1) log x_i −
    log Γ(α)]: the logits are α Σ_i (−x_i/μ_{k,i} − log μ_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Gamma`.
    """
    return _build(Gamma, "gamma", shape=shape)


@dataclasses.dataclass(frozen=True, eq=False)
class Exponential(Gamma):
    r"""Exponential variables parametrised by their means μ = 1/rate (the gamma with α = 1).

    .. math::
        T(x) = x,\quad \theta = -1/\mu,\quad b(\theta) = -\sum_i\log(-\theta_i),\quad
        a = 1,\quad c = 0.

    class_params: positive means (``scale`` in scipy's ``expon``), shape (q, *E); x ≥ 0.
    """

    shape: jax.Array | float = dataclasses.field(default=1.0, metadata={"static": True})

    def dispersion(self) -> jax.Array | float:
        return 1.0

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def scale_constraints(self) -> Sequence[Constraint]:
        return ()

    def sample(self, key, params, shape):
        # x = μ E with E ~ Exp(1): the same key's E gives draws proportional to μ.
        p = _batched(params, shape)
        return jr.exponential(key, p.shape, params.dtype) * p


def exponential() -> Exponential:
    """Exponential variables with means μ (= 1/rate, scipy's ``scale``); class_params (q, *E).

    T(x) = x, θ = −1/μ, b(θ) = −Σ log(−θ), a = 1, c = 0 (``gamma(1.0)``).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Exponential`.
    """
    return Exponential()
