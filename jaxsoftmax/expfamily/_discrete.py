"""The discrete families of a fixed number of trials: Bernoulli, binomial, multinomial and
categorical."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
from jax.scipy.special import gammaln

from ..activations import logsumexp, softmax
from ._base import ExponentialFamily, _batched, _build
from ._constraints import (
    _SUM_TOL,
    Constraint,
    _counts,
    _is_int,
    _open_unit,
    _positive,
    _positive_integer,
)


class _LogOdds:
    """Success probabilities p in (0, 1) with θ = logit p (the Bernoulli and the binomial)."""

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log(params) - jnp.log1p(-params)

    def mean_parameters(self, theta):
        return jax.nn.sigmoid(theta)

    def param_constraints(self, params):
        return (_open_unit(params),)


@dataclasses.dataclass(frozen=True, eq=False)
class Bernoulli(_LogOdds, ExponentialFamily):
    r"""Independent bits: x ∈ {0, 1}^E with P(x_i = 1 | C_k) = p_{k,i}.

    .. math::
        T(x) = x,\quad \theta = \log\frac{p}{1-p},\quad
        b(\theta) = \sum_i \log(1 + e^{\theta_i}),\quad a = 1,\quad c = 0.

    class_params: probabilities in (0, 1), shape (q, *E). (Bishop 2006, section 4.2.3.)
    """

    def log_partition(self, theta):
        return jnp.sum(jax.nn.softplus(theta))

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def support_constraints(self, x):
        return (Constraint("0 or 1", (x == 0) | (x == 1), x),)

    def sample(self, key, params, shape):
        # x = 1{U < p}: the same key's U gives draws monotone in p (common random numbers).
        p = _batched(params, shape)
        return jr.bernoulli(key, p, p.shape).astype(params.dtype)


def bernoulli() -> Bernoulli:
    """Independent Bernoulli bits (the multivariate Bernoulli), class_params probabilities (q, *E).

    T(x) = x, θ = logit p, b(θ) = Σ log(1 + e^θ), a = 1, c = 0: the logits are
    Σ_i x_i logit p_{k,i} + Σ_i log(1 − p_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Bernoulli`.
    """
    return Bernoulli()


@dataclasses.dataclass(frozen=True, eq=False)
class Binomial(_LogOdds, ExponentialFamily):
    r"""Binomial counts with a known number of trials n shared by all classes.

    .. math::
        T(x) = x,\quad \theta = \log\frac{p}{1-p},\quad
        b(\theta) = n\sum_i\log(1 + e^{\theta_i}),\quad a = 1,\quad
        c(x, n) = \sum_i \log\binom{n}{x_i}.

    class_params: success probabilities in (0, 1), shape (q, *E); x: counts in {0, ..., n}.
    """

    n_trials: jax.Array

    def log_partition(self, theta):
        return self.n_trials * jnp.sum(jax.nn.softplus(theta))

    def log_base_measure(self, x):
        n = self.n_trials
        return jnp.sum(gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1))

    def support_constraints(self, x):
        return (
            Constraint(
                "integers in [0, n_trials]", _is_int(x) & (x >= 0) & (x <= self.n_trials), x
            ),
        )

    def scale_constraints(self):
        return (_positive_integer(self.n_trials, "n_trials"),)

    def sample(self, key, params, shape):
        # JAX's binomial sampler (inversion / rejection): reproducible per key, not monotone
        # in p across parameter values.
        p = _batched(params, shape)
        return jr.binomial(key, self.n_trials, p, p.shape, params.dtype)


def binomial(n_trials: jax.typing.ArrayLike) -> Binomial:
    """Binomial(n_trials, p) counts with a known, shared n; class_params probabilities (q, *E).

    T(x) = x, θ = logit p, b(θ) = n Σ log(1 + e^θ), a = 1, c(x, n) = Σ log C(n, x_i).
    Posterior by Dunne & Campbell's eq. 3; the (θ, b, a, c) form as in McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Binomial`.
    """
    return _build(Binomial, "binomial", n_trials=n_trials)


@dataclasses.dataclass(frozen=True, eq=False)
class Multinomial(ExponentialFamily):
    r"""Multinomial counts over m categories with a known number of trials n (n = 1: categorical).

    .. math::
        T(x) = x,\quad \theta = \log\pi,\quad b(\theta) = n\log\sum_j e^{\theta_j},\quad
        a = 1,\quad c(x, n) = \log n! - \sum_j \log x_j!.

    The overcomplete parametrisation (θ has m entries; b(θ) = 0 on the simplex, kept as
    n·logsumexp so that θ ↦ b is the true log-partition). class_params: probabilities in
    (0, 1) summing to one, shape (q, m); x: counts (..., m) summing to n (one-hot for n = 1).
    """

    n_trials: jax.Array

    def event_shape(self, param_shape):
        if len(param_shape) != 1 or param_shape[0] == 0:
            raise ValueError(
                f"{self.name}: class_params must be probabilities of shape (q, m) "
                f"with m >= 1 categories; got one class of shape {param_shape}"
            )
        return tuple(param_shape)

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log(params)

    def mean_parameters(self, theta):
        return softmax(theta)

    def log_partition(self, theta):
        return self.n_trials * logsumexp(theta)

    def log_base_measure(self, x):
        return gammaln(self.n_trials + 1) - jnp.sum(gammaln(x + 1))

    def param_constraints(self, params):
        s = jnp.sum(params, -1)
        return (
            _positive(params, "positive (an open simplex: zero probabilities are not allowed)"),
            Constraint(
                f"probabilities summing to one over the categories (within {_SUM_TOL:g})",
                jnp.abs(s - 1) <= _SUM_TOL,
                s,
                None,
                "sum(class_params, -1)",
            ),
        )

    def support_constraints(self, x):
        s = jnp.sum(x, -1)
        return (
            _counts(x),
            Constraint("counts summing to n_trials", s == self.n_trials, s, None, "sum(x, -1)"),
        )

    def scale_constraints(self):
        return (_positive_integer(self.n_trials, "n_trials"),)

    def sample(self, key, params, shape):
        # JAX's multinomial (sequential binomials): reproducible per key, not smooth in π.
        s = (*shape, *params.shape)
        return jr.multinomial(
            key, self.n_trials, jnp.broadcast_to(params, s), shape=s, dtype=params.dtype
        )


def multinomial(n_trials: jax.typing.ArrayLike) -> Multinomial:
    """Multinomial(n_trials, π) counts over m categories; class_params probabilities (q, m).

    T(x) = x (counts), θ = log π, b(θ) = n log Σ_j e^θ_j, a = 1, c(x, n) = log n! − Σ log x_j!.
    Posterior by Dunne & Campbell's eq. 3; the (θ, b, a, c) form as in McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Multinomial`.
    """
    return _build(Multinomial, "multinomial", n_trials=n_trials)


def categorical() -> Multinomial:
    """Categorical(π) on one-hot vectors x (``jax.nn.one_hot(labels, m)``): multinomial(1).

    T(x) = x, θ = log π, b(θ) = log Σ_j e^θ_j, a = 1, c = 0: the logits are log π_{k,label} +
    log P(C_k). class_params: probabilities (q, m).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Multinomial`.
    """
    return multinomial(1.0)
