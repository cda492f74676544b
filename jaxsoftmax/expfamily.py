r"""Exponential-family class conditionals give a softmax posterior (Dunne & Campbell, section 3).

If every class-conditional density is from one exponential family with a common scale ψ,

.. math::
    P(x \mid C_k) = \exp\Big\{\frac{\theta_k^\top T(x) - b(\theta_k)}{a(\psi)} + c(x, \psi)\Big\},

then Bayes' rule :math:`P(C_k \mid x) = P(x \mid C_k) P(C_k) / \sum_j P(x \mid C_j) P(C_j)` is
exactly a softmax (the paper's eq. 3): the term c(x, ψ) is common to every class and cancels,
leaving

.. math::
    P(C_k \mid x) = \mathrm{softmax}_k(z), \qquad
    z_k = \frac{\theta_k^\top T(x) - b(\theta_k)}{a(\psi)} + \log P(C_k),

an affine function of T(x) with weights θ_k / a(ψ) and bias −b(θ_k)/a(ψ) + log P(C_k)
(:func:`affine_logits`). With two classes it is the logistic of the log-odds (the paper's eq. 2):
:math:`P(C_1 \mid x) = 1 / (1 + \exp\{-\log[P(x|C_1)/P(x|C_2)] - \log[P(C_1)/P(C_2)]\})`. The
last line of the paper's eq. 3 drops a(ψ) (as if a = 1); here it is kept. The same
construction is Bishop (2006), *Pattern Recognition and Machine Learning*, section 4.2.4.

Families shipped (class_params holds each class's usual parameter, stacked on a leading axis
of length q; x has shape ``(..., *E)`` where ``E = class_params.shape[1:]`` is one observation;
"coordinatewise" families accept any E, e.g. rates of shape (q,) for scalar counts or (q, p)
for p independent counts, and sum b and c over the coordinates):

========================================  ==============  ===========  =============================
constructor                               class_params    θ            b(θ); a(ψ)
========================================  ==============  ===========  =============================
:func:`gaussian_shared_covariance` (cov)  means (q, p)    Σ⁻¹μ         ½θᵀΣθ; 1
:func:`gaussian_isotropic` (variance)     means           μ            ½Σθ²; σ²
:func:`bernoulli`                         probabilities   logit p      Σ log(1 + e^θ); 1
:func:`binomial` (n_trials)               probabilities   logit p      n Σ log(1 + e^θ); 1
:func:`multinomial` (n_trials)            probs (q, m)    log π        n log Σ e^θ; 1
:func:`categorical` (= multinomial(1))    probs (q, m)    log π        log Σ e^θ; 1
:func:`poisson`                           rates = means   log λ        Σ e^θ; 1
:func:`exponential`                       means (1/rate)  −1/μ         −Σ log(−θ); 1
:func:`gamma` (shape α)                   means           −1/μ         −Σ log(−θ); 1/α
:func:`geometric`                         probabilities   log(1 − p)   Σ[θ − log(1 − e^θ)]; 1
:func:`negative_binomial` (r)             probabilities   log(1 − p)   −r Σ log(1 − e^θ); 1
========================================  ==============  ===========  =============================

T(x) = x for all of them (for the multinomial, the vector of counts; for the categorical, the
one-hot vector), so the posterior logits are affine in x itself. The c(x, ψ) of each family is in
its docstring. Standard references for the forms: McCullagh & Nelder (1989), *Generalized Linear
Models*, table 2.1 (the (θ, b, a, c) form used here); the Wikipedia table of exponential families.

**The uniform is not in this list**, though the paper's footnote 2 names it. U(0, β_k) has density
β_k⁻¹ 1{0 ≤ x ≤ β_k}: its support depends on the parameter, while an exponential family's support
{x : e^{c(x, ψ)} > 0} is the same for every θ. The indicator cannot be written as
exp{θᵀT(x) − b(θ)} with a statistic T fixed in advance and a base measure c free of θ, so it is
not an exponential family, regular or otherwise (it is the standard example outside the
Pitman–Koopman–Darmois theorem, whose hypothesis is a fixed support). Its posterior is
softmax_k(log P(C_k) − log β_k + log 1{x ≤ β_k}): a step function of x with exact zeros, whose
"logits" contain an indicator of θ_k rather than θ_kᵀT(x). Faking it with a smooth surrogate
would make the module's central claim false, so it is left out.

**Adding a family.** Subclass :class:`ExponentialFamily` as a frozen dataclass and write, for
*one* class and *one* observation: ``sufficient_statistic`` (T), ``natural_parameters`` (θ from
the usual parameters), ``mean_parameters`` (back), ``log_partition`` (b), ``log_base_measure``
(c) and optionally ``dispersion`` (a, default 1), ``event_shape``, the domain checks
``param_constraints``/``support_constraints``/``scale_constraints`` and ``sample``. The
dataclass fields (e.g. a shared covariance) become pytree leaves automatically, so a family can
be passed to or closed over by ``jit`` and ``vmap`` (fields with ``metadata={"static": True}``
are static instead). Nothing else in the library changes.

**Priors** are probabilities of length q (non-negative, summing to one within 1e-4), ``None``
for equal priors, :class:`LogPriors` (log-probabilities, or any unnormalised log-weights) or
:class:`PriorWeights` (non-negative unnormalised weights such as class counts).

**What is checked when.** Shapes and dtypes are checked at trace time, always, and raise
``ValueError``/``TypeError`` naming the argument. Values (priors summing to one, parameters in
the family's domain, a covariance that is symmetric positive definite, x in the support) can
only be checked when they are concrete: the public functions check them eagerly on concrete
input (``validate=False`` skips this) and cannot raise on traced values under ``jit``/``vmap``/
``grad``. For traced input use :func:`checked_posterior_logits`, which runs the same checks
with ``jax.experimental.checkify`` and returns ``(error, logits)``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax
from jax.experimental import checkify
from jax.scipy.linalg import cho_solve, solve_triangular
from jax.scipy.special import gammaln, xlogy

from ._checks import as_float_array, compute_dtype
from .activations import hardmax, log_softmax, logsumexp, softmax

__all__ = [
    "Bernoulli",
    "Binomial",
    "ConfusionEstimate",
    "Constraint",
    "Exponential",
    "ExponentialFamily",
    "Gamma",
    "GaussianIsotropic",
    "GaussianSharedCovariance",
    "Geometric",
    "LogPriors",
    "Multinomial",
    "NegativeBinomial",
    "Poisson",
    "PriorWeights",
    "affine_logits",
    "bayes_confusion_monte_carlo",
    "bernoulli",
    "binomial",
    "categorical",
    "checked_posterior_logits",
    "class_log_densities",
    "exponential",
    "gamma",
    "gaussian_bayes_posterior",
    "gaussian_bayes_posterior_logits",
    "gaussian_isotropic",
    "gaussian_shared_covariance",
    "geometric",
    "log_posterior",
    "multinomial",
    "negative_binomial",
    "poisson",
    "posterior",
    "posterior_logits",
]

_SUM_TOL = 1e-4  # |Σ probabilities − 1| allowed for priors and categorical parameters
_LOG_2PI = math.log(2 * math.pi)
_dot = functools.partial(jnp.matmul, precision=lax.Precision.HIGHEST)


def _lead(a: jax.Array, ndim: int) -> jax.Array:
    """``a`` with leading size-1 axes up to rank ``ndim`` (explicit rank promotion)."""
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _is_int(v: jax.Array) -> jax.Array:
    return v == jnp.round(v)


# --------------------------------------------------------------------------------------------
# The family protocol
# --------------------------------------------------------------------------------------------


class Constraint(NamedTuple):
    """A value check: ``ok`` is True where ``value`` is as ``expected``.

    Attributes:
      expected: what was expected, in words (completes "<name> must be ...").
      ok: boolean array, True where the check passes.
      value: the values tested, broadcastable to ``ok`` (shown in the error message).
      name: the argument's name; the caller's default (``class_params``, ``x``) when None.
      label: what ``value`` is, when it is not the argument itself (e.g. ``"sum(priors)"``).
    """

    expected: str
    ok: Any
    value: Any
    name: str | None = None
    label: str | None = None


def _flatten_family(obj):
    if not dataclasses.is_dataclass(obj):
        return (), ((), (), obj)
    leaves, static = [], []
    for f in dataclasses.fields(obj):
        (static if f.metadata.get("static") else leaves).append(f.name)
    children = tuple(getattr(obj, n) for n in leaves)
    aux = (tuple(leaves), tuple((n, getattr(obj, n)) for n in static), None)
    return children, aux


def _unflatten_family(cls, aux, children):
    names, static, whole = aux
    if whole is not None:
        return whole
    obj = object.__new__(cls)
    for n, v in (*zip(names, children, strict=True), *static):
        object.__setattr__(obj, n, v)
    return obj


class ExponentialFamily:
    r"""One exponential family with a common scale ψ (the paper's section 3).

    .. math::
        \log P(x \mid \theta, \psi) = \frac{\theta^\top T(x) - b(\theta)}{a(\psi)} + c(x, \psi)

    Subclasses are frozen dataclasses whose fields hold ψ (and any other shared constants); they
    are registered as pytrees on definition, fields becoming leaves. Every method below takes
    *one* class's parameters or *one* observation; the module's functions vmap them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_node(
            cls, _flatten_family, functools.partial(_unflatten_family, cls)
        )

    @property
    def name(self) -> str:
        return type(self).__name__

    def event_shape(self, param_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape E of one observation, given one class's parameter shape (default: equal).

        Raises ``ValueError`` when ``param_shape`` does not fit the family.
        """
        return tuple(param_shape)

    def sufficient_statistic(self, x: jax.Array) -> jax.Array:
        """T(x) for one observation x of shape E."""
        raise NotImplementedError

    def natural_parameters(self, params: jax.Array) -> jax.Array:
        """θ from one class's usual parameters (the shape of T(x))."""
        raise NotImplementedError

    def mean_parameters(self, theta: jax.Array) -> jax.Array:
        """The usual parameters from θ: the inverse of :meth:`natural_parameters`."""
        raise NotImplementedError

    def log_partition(self, theta: jax.Array) -> jax.Array:
        """b(θ) for one class, a scalar."""
        raise NotImplementedError

    def log_base_measure(self, x: jax.Array) -> jax.Array:
        """c(x, ψ) for one observation, a scalar. It cancels from the posterior."""
        raise NotImplementedError

    def dispersion(self) -> jax.Array | float:
        """a(ψ), a positive scalar shared by every class (default 1)."""
        return 1.0

    def param_constraints(self, params: jax.Array) -> Sequence[Constraint]:
        """Domain checks on the stacked parameters ``(q, *P)``, elementwise or per class."""
        return ()

    def support_constraints(self, x: jax.Array) -> Sequence[Constraint]:
        """Support checks on observations ``(..., *E)``, elementwise or per observation."""
        return ()

    def scale_constraints(self) -> Sequence[Constraint]:
        """Checks on the family's own fields (ψ); each Constraint names its field."""
        return ()

    def sample(self, key: jax.Array, params: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Draws ``shape + E`` observations from one class (for the Monte Carlo helpers)."""
        raise NotImplementedError(f"{self.name} does not define sample()")

    def log_prob(self, params: jax.Array, x: jax.Array) -> jax.Array:
        """log P(x | params) for one class and one observation, from (T, θ, b, a, c)."""
        theta = self.natural_parameters(params)
        t = self.sufficient_statistic(x)
        a = self.dispersion()
        return (jnp.sum(theta * t) - self.log_partition(theta)) / a + self.log_base_measure(x)


def _positive(v, what="positive and finite"):
    return Constraint(what, (v > 0) & jnp.isfinite(v), v)


def _scalar(value, name: str, family: str) -> jax.Array:
    v = as_float_array(value, name)
    if v.ndim != 0:
        raise ValueError(
            f"{family}: {name} must be a scalar shared by all classes, got shape {v.shape}"
        )
    return v


# --------------------------------------------------------------------------------------------
# Gaussians
# --------------------------------------------------------------------------------------------


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
        return (Constraint("finite", jnp.isfinite(params), params),)

    def scale_constraints(self):
        return _spd_constraints(self.cov, "cov")

    def sample(self, key, params, shape):
        z = jr.normal(key, (*shape, params.shape[-1]), params.dtype)
        return jnp.broadcast_to(params, z.shape) + _dot(z, self._chol().T)


def _spd_constraints(cov: jax.Array, name: str) -> tuple[Constraint, ...]:
    scale = jnp.max(jnp.abs(cov))
    asym = jnp.abs(cov - jnp.swapaxes(cov, -1, -2))
    eig = jnp.linalg.eigvalsh(0.5 * (cov + jnp.swapaxes(cov, -1, -2)))
    eps = jnp.finfo(cov.dtype).eps
    return (
        Constraint("finite", jnp.isfinite(cov), cov, name),
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
        return (Constraint("finite", jnp.isfinite(params), params),)

    def scale_constraints(self):
        return (
            Constraint(
                "positive and finite",
                (self.variance > 0) & jnp.isfinite(self.variance),
                self.variance,
                "variance",
            ),
        )

    def sample(self, key, params, shape):
        z = jr.normal(key, (*shape, *params.shape), params.dtype)
        return jnp.broadcast_to(params, z.shape) + jnp.sqrt(self.variance) * z


def gaussian_isotropic(variance: jax.typing.ArrayLike = 1.0) -> GaussianIsotropic:
    r"""The Gaussian family N(μ_k, σ² I) with a shared scalar variance σ² (``variance``).

    T(x) = x, θ = μ, b(θ) = ½|θ|², a(σ²) = σ², c(x, σ²) = −|x|²/(2σ²) − (n/2) log(2πσ²):
    the logits are (μ_kᵀx − ½|μ_k|²)/σ² + log P(C_k) (Dunne & Campbell, eq. 3, with a(ψ) kept;
    McCullagh & Nelder 1989, table 2.1). Formulas: :class:`GaussianIsotropic`.
    """
    fam = GaussianIsotropic(_scalar(variance, "variance", "gaussian_isotropic"))
    _check_scale(fam, "gaussian_isotropic")
    return fam


# --------------------------------------------------------------------------------------------
# Discrete families
# --------------------------------------------------------------------------------------------


def _logit(p):
    return jnp.log(p) - jnp.log1p(-p)


def _open_unit(p):
    return Constraint("in the open interval (0, 1)", (p > 0) & (p < 1), p)


def _counts(x, low=0, what="non-negative integers"):
    return Constraint(what, _is_int(x) & (x >= low) & jnp.isfinite(x), x)


@dataclasses.dataclass(frozen=True, eq=False)
class Bernoulli(ExponentialFamily):
    r"""Independent bits: x ∈ {0, 1}^E with P(x_i = 1 | C_k) = p_{k,i}.

    .. math::
        T(x) = x,\quad \theta = \log\frac{p}{1-p},\quad
        b(\theta) = \sum_i \log(1 + e^{\theta_i}),\quad a = 1,\quad c = 0.

    class_params: probabilities in (0, 1), shape (q, *E). (Bishop 2006, section 4.2.3.)
    """

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return _logit(params)

    def mean_parameters(self, theta):
        return jax.nn.sigmoid(theta)

    def log_partition(self, theta):
        return jnp.sum(jax.nn.softplus(theta))

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def param_constraints(self, params):
        return (_open_unit(params),)

    def support_constraints(self, x):
        return (Constraint("0 or 1", (x == 0) | (x == 1), x),)

    def sample(self, key, params, shape):
        s = (*shape, *params.shape)
        return jr.bernoulli(key, jnp.broadcast_to(params, s), s).astype(params.dtype)


def bernoulli() -> Bernoulli:
    """Independent Bernoulli bits (the multivariate Bernoulli), class_params probabilities (q, *E).

    T(x) = x, θ = logit p, b(θ) = Σ log(1 + e^θ), a = 1, c = 0: the logits are
    Σ_i x_i logit p_{k,i} + Σ_i log(1 − p_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Bernoulli`.
    """
    return Bernoulli()


@dataclasses.dataclass(frozen=True, eq=False)
class Binomial(ExponentialFamily):
    r"""Binomial counts with a known number of trials n shared by all classes.

    .. math::
        T(x) = x,\quad \theta = \log\frac{p}{1-p},\quad
        b(\theta) = n\sum_i\log(1 + e^{\theta_i}),\quad a = 1,\quad
        c(x, n) = \sum_i \log\binom{n}{x_i}.

    class_params: success probabilities in (0, 1), shape (q, *E); x: counts in {0, ..., n}.
    """

    n_trials: jax.Array

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return _logit(params)

    def mean_parameters(self, theta):
        return jax.nn.sigmoid(theta)

    def log_partition(self, theta):
        return self.n_trials * jnp.sum(jax.nn.softplus(theta))

    def log_base_measure(self, x):
        n = self.n_trials
        return jnp.sum(gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1))

    def param_constraints(self, params):
        return (_open_unit(params),)

    def support_constraints(self, x):
        return (
            Constraint(
                "integers in [0, n_trials]", _is_int(x) & (x >= 0) & (x <= self.n_trials), x
            ),
        )

    def scale_constraints(self):
        n = self.n_trials
        return (
            Constraint(
                "a positive integer", _is_int(n) & (n >= 1) & jnp.isfinite(n), n, "n_trials"
            ),
        )

    def sample(self, key, params, shape):
        s = (*shape, *params.shape)
        return jr.binomial(key, self.n_trials, jnp.broadcast_to(params, s), s, params.dtype)


def binomial(n_trials: jax.typing.ArrayLike) -> Binomial:
    """Binomial(n_trials, p) counts with a known, shared n; class_params probabilities (q, *E).

    T(x) = x, θ = logit p, b(θ) = n Σ log(1 + e^θ), a = 1, c(x, n) = Σ log C(n, x_i).
    Posterior by Dunne & Campbell's eq. 3; the (θ, b, a, c) form as in McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Binomial`.
    """
    fam = Binomial(_scalar(n_trials, "n_trials", "binomial"))
    _check_scale(fam, "binomial")
    return fam


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
        n = self.n_trials
        return (
            Constraint(
                "a positive integer", _is_int(n) & (n >= 1) & jnp.isfinite(n), n, "n_trials"
            ),
        )

    def sample(self, key, params, shape):
        s = (*shape, params.shape[-1])
        return jr.multinomial(
            key, self.n_trials, jnp.broadcast_to(params, s), shape=s, dtype=params.dtype
        )


def multinomial(n_trials: jax.typing.ArrayLike) -> Multinomial:
    """Multinomial(n_trials, π) counts over m categories; class_params probabilities (q, m).

    T(x) = x (counts), θ = log π, b(θ) = n log Σ_j e^θ_j, a = 1, c(x, n) = log n! − Σ log x_j!.
    Posterior by Dunne & Campbell's eq. 3; the (θ, b, a, c) form as in McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Multinomial`.
    """
    fam = Multinomial(_scalar(n_trials, "n_trials", "multinomial"))
    _check_scale(fam, "multinomial")
    return fam


def categorical() -> Multinomial:
    """Categorical(π) on one-hot vectors x (``jax.nn.one_hot(labels, m)``): multinomial(1).

    T(x) = x, θ = log π, b(θ) = log Σ_j e^θ_j, a = 1, c = 0: the logits are log π_{k,label} +
    log P(C_k). class_params: probabilities (q, m).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Multinomial`.
    """
    return multinomial(1.0)


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
        s = (*shape, *params.shape)
        return jr.poisson(key, jnp.broadcast_to(params, s), s).astype(params.dtype)


def poisson() -> Poisson:
    """Independent Poisson counts; class_params rates λ, shape (q,) or (q, p).

    T(x) = x, θ = log λ, b(θ) = Σ e^θ, a = 1, c(x) = −Σ log x_i!: the logits are
    Σ_i (x_i log λ_{k,i} − λ_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Poisson`.
    """
    return Poisson()


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

    shape: jax.Array

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return -1 / params

    def mean_parameters(self, theta):
        return -1 / theta

    def log_partition(self, theta):
        return -jnp.sum(jnp.log(-theta))

    def dispersion(self):
        return 1 / self.shape

    def log_base_measure(self, x):
        al = self.shape
        return jnp.sum(xlogy(al, al) + xlogy(al - 1, x) - gammaln(al))

    def param_constraints(self, params):
        return (_positive(params),)

    def support_constraints(self, x):
        return (Constraint("non-negative", x >= 0, x),)

    def scale_constraints(self):
        return (
            Constraint(
                "positive and finite",
                (self.shape > 0) & jnp.isfinite(self.shape),
                self.shape,
                "shape",
            ),
        )

    def sample(self, key, params, shape):
        s = (*shape, *params.shape)
        g = jr.gamma(key, jnp.broadcast_to(self.shape, s), s, params.dtype)
        return g * jnp.broadcast_to(params, s) / self.shape


def gamma(shape: jax.typing.ArrayLike) -> Gamma:
    """Gamma(shape α, mean μ) variables with a shared shape α; class_params means (q, *E).

    T(x) = x, θ = −1/μ, b(θ) = −Σ log(−θ), a(α) = 1/α, c(x, α) = Σ[α log α + (α − 1) log x_i −
    log Γ(α)]: the logits are α Σ_i (−x_i/μ_{k,i} − log μ_{k,i}) + log P(C_k).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Gamma`.
    """
    fam = Gamma(_scalar(shape, "shape", "gamma"))
    _check_scale(fam, "gamma")
    return fam


@dataclasses.dataclass(frozen=True, eq=False)
class Exponential(Gamma):
    r"""Exponential variables parametrised by their means μ = 1/rate (the gamma with α = 1).

    .. math::
        T(x) = x,\quad \theta = -1/\mu,\quad b(\theta) = -\sum_i\log(-\theta_i),\quad
        a = 1,\quad c = 0.

    class_params: positive means (``scale`` in scipy's ``expon``), shape (q, *E); x ≥ 0.
    """

    shape: jax.Array = dataclasses.field(default=1.0, metadata={"static": True})

    def dispersion(self):
        return 1.0

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def scale_constraints(self):
        return ()

    def sample(self, key, params, shape):
        s = (*shape, *params.shape)
        return jr.exponential(key, s, params.dtype) * jnp.broadcast_to(params, s)


def exponential() -> Exponential:
    """Exponential variables with means μ (= 1/rate, scipy's ``scale``); class_params (q, *E).

    T(x) = x, θ = −1/μ, b(θ) = −Σ log(−θ), a = 1, c = 0 (``gamma(1.0)``).
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Exponential`.
    """
    return Exponential()


@dataclasses.dataclass(frozen=True, eq=False)
class Geometric(ExponentialFamily):
    r"""Geometric counts: the number of trials up to and including the first success (x ≥ 1).

    .. math::
        T(x) = x,\quad \theta = \log(1 - p),\quad
        b(\theta) = \sum_i\big[\theta_i - \log(1 - e^{\theta_i})\big] = \sum_i\log\frac{1-p_i}{p_i},
        \quad a = 1,\quad c = 0.

    (P(x) = (1 − p)^{x−1} p, as ``scipy.stats.geom``.) class_params: success probabilities in
    (0, 1), shape (q, *E). ``negative_binomial(1)`` is the same law shifted to failures (x ≥ 0).
    """

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log1p(-params)

    def mean_parameters(self, theta):
        return -jnp.expm1(theta)

    def log_partition(self, theta):
        return jnp.sum(theta - jnp.log(-jnp.expm1(theta)))

    def log_base_measure(self, x):
        return jnp.zeros((), x.dtype)

    def param_constraints(self, params):
        return (_open_unit(params),)

    def support_constraints(self, x):
        return (_counts(x, 1, "positive integers (trials up to the first success)"),)

    def sample(self, key, params, shape):
        s = (*shape, *params.shape)
        return jr.geometric(key, jnp.broadcast_to(params, s), s).astype(params.dtype)


def geometric() -> Geometric:
    """Geometric numbers of trials up to the first success (x ≥ 1); class_params probabilities.

    T(x) = x, θ = log(1 − p), b(θ) = Σ[θ − log(1 − e^θ)], a = 1, c = 0.
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`Geometric`.
    """
    return Geometric()


@dataclasses.dataclass(frozen=True, eq=False)
class NegativeBinomial(ExponentialFamily):
    r"""Negative binomial counts of failures before the r-th success, r shared by all classes.

    .. math::
        T(x) = x,\quad \theta = \log(1 - p),\quad b(\theta) = -r\sum_i\log(1 - e^{\theta_i}),
        \quad a = 1,\quad c(x, r) = \sum_i\log\frac{\Gamma(x_i + r)}{\Gamma(r)\,x_i!}.

    (P(x) = C(x + r − 1, x) p^r (1 − p)^x, as ``scipy.stats.nbinom(r, p)``; r > 0 may be real.)
    class_params: success probabilities in (0, 1), shape (q, *E).
    """

    r: jax.Array

    def sufficient_statistic(self, x):
        return x

    def natural_parameters(self, params):
        return jnp.log1p(-params)

    def mean_parameters(self, theta):
        return -jnp.expm1(theta)

    def log_partition(self, theta):
        return -self.r * jnp.sum(jnp.log(-jnp.expm1(theta)))

    def log_base_measure(self, x):
        return jnp.sum(gammaln(x + self.r) - gammaln(self.r) - gammaln(x + 1))

    def param_constraints(self, params):
        return (_open_unit(params),)

    def support_constraints(self, x):
        return (_counts(x),)

    def scale_constraints(self):
        return (
            Constraint("positive and finite", (self.r > 0) & jnp.isfinite(self.r), self.r, "r"),
        )

    def sample(self, key, params, shape):
        # The Poisson–gamma mixture: λ ~ Gamma(r, scale (1 − p)/p), x | λ ~ Poisson(λ).
        s = (*shape, *params.shape)
        k1, k2 = jr.split(key)
        p = jnp.broadcast_to(params, s)
        lam = jr.gamma(k1, jnp.broadcast_to(self.r, s), s, params.dtype) * (1 - p) / p
        return jr.poisson(k2, lam, s).astype(params.dtype)


def negative_binomial(r: jax.typing.ArrayLike) -> NegativeBinomial:
    """Negative binomial failures before the r-th success, r shared; class_params probabilities.

    T(x) = x, θ = log(1 − p), b(θ) = −r Σ log(1 − e^θ), a = 1,
    c(x, r) = Σ log[Γ(x_i + r)/(Γ(r) x_i!)].
    Posterior: Dunne & Campbell's eq. 3; the (θ, b, a, c) form: McCullagh & Nelder (1989),
    table 2.1. Formulas: :class:`NegativeBinomial`.
    """
    fam = NegativeBinomial(_scalar(r, "r", "negative_binomial"))
    _check_scale(fam, "negative_binomial")
    return fam


# --------------------------------------------------------------------------------------------
# Priors and validation
# --------------------------------------------------------------------------------------------


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class LogPriors:
    """Log prior probabilities log P(C_k), shape (q,); any common additive constant is allowed
    (they are normalised with log_softmax). Entries may be −∞ (a class with prior 0)."""

    values: Any


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class PriorWeights:
    """Unnormalised prior weights (e.g. class counts), shape (q,), non-negative with a positive
    sum; P(C_k) = w_k / Σ_j w_j."""

    values: Any


def _is_tracer(*trees) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(trees))


def _prior_constraints(kind: str, v: jax.Array) -> tuple[Constraint, ...]:
    if kind == "probabilities":
        s = jnp.sum(v)
        return (
            Constraint("non-negative and finite", (v >= 0) & jnp.isfinite(v), v),
            Constraint(
                f"probabilities summing to one (within {_SUM_TOL:g}); pass PriorWeights(w) for "
                "unnormalised weights or LogPriors(log_p) for log-probabilities",
                jnp.abs(s - 1) <= _SUM_TOL,
                s,
                None,
                "sum(priors)",
            ),
        )
    if kind == "weights":
        return (
            Constraint("non-negative and finite", (v >= 0) & jnp.isfinite(v), v),
            Constraint("weights of positive sum", jnp.sum(v) > 0, jnp.sum(v), None, "sum(priors)"),
        )
    if kind == "log":
        return (
            Constraint("< +inf and not NaN", v < jnp.inf, v),
            Constraint("not all -inf", jnp.max(v) > -jnp.inf, jnp.max(v), None, "max(priors)"),
        )
    return ()


def _log_prior(kind: str, v: jax.Array, q: int, dtype) -> jax.Array:
    if kind == "uniform":
        return jnp.full((q,), -math.log(q), dtype)
    if kind == "log":
        return log_softmax(v)
    return jnp.log(v) - jnp.log(jnp.sum(v))  # probabilities (renormalised) or weights


def _fmt(v) -> str:
    v = np.asarray(v)
    return f"{v.item():.6g}" if v.dtype.kind == "f" else str(v.item())


def _raise_violations(constraints, default: str, where: str) -> None:
    for c in constraints:
        ok = np.asarray(c.ok)
        if ok.all():
            continue
        name = c.name or default
        value = np.broadcast_to(np.asarray(c.value), ok.shape)
        bad = np.argwhere(~ok)
        idx = tuple(int(i) for i in bad[0])
        at = f"[{', '.join(map(str, idx))}]" if idx else ""
        label = c.label or name
        raise ValueError(
            f"{where}: {name} must be {c.expected}; got {label}{at} = {_fmt(value[idx])} "
            f"({len(bad)} of {ok.size} entries violate this; {label} has shape {ok.shape})"
        )


def _check_traced(constraints, default: str, where: str) -> None:
    for c in constraints:
        ok = jnp.asarray(c.ok)
        if ok.size == 0:
            continue
        value = jnp.broadcast_to(jnp.asarray(c.value), ok.shape).ravel()
        i = jnp.argmin(ok.ravel())
        expected = c.expected.replace("{", "{{").replace("}", "}}")
        label = c.label or c.name or default
        checkify.check(
            jnp.all(ok),
            f"{where}: {c.name or default} must be {expected}; got {label} (shape "
            f"{ok.shape}) = {{value}} at flat index {{index}}",
            value=value[i],
            index=i,
        )


def _stack_ok(constraints) -> jax.Array:
    oks = [jnp.all(c.ok) for c in constraints]
    return jnp.all(jnp.stack(oks)) if oks else jnp.asarray(True)


@jax.jit
def _scale_ok(fam):
    return _stack_ok(fam.scale_constraints())


def _check_scale(fam: ExponentialFamily, fn: str) -> None:
    if not _is_tracer(fam):
        with jax.ensure_compile_time_eval():
            if not bool(_scale_ok(fam)):
                _raise_violations(fam.scale_constraints(), "psi", fn)


def _all_constraints(family, params, kind, prior_values, x, params_name="class_params"):
    groups = [
        (params_name, family.param_constraints(params)),
        ("psi", family.scale_constraints()),
        ("priors", _prior_constraints(kind, prior_values)),
    ]
    if x is not None and x.size:
        groups.append(("x", family.support_constraints(x)))
    return groups


class _Prepared(NamedTuple):
    family: Any
    params: jax.Array
    kind: str
    prior_values: jax.Array
    x: jax.Array | None


def _prepare(family, class_params, priors, x, *, fn: str) -> _Prepared:
    """Static checks (types, shapes) and the cast to one float dtype."""
    if not isinstance(family, ExponentialFamily):
        raise TypeError(
            f"{fn}: family must be an ExponentialFamily (e.g. "
            f"gaussian_shared_covariance(cov), poisson()), got "
            f"{type(family).__name__}"
        )
    if isinstance(class_params, (list, tuple)):
        shapes = [np.shape(c) for c in class_params]
        for k, s in enumerate(shapes):
            if s != shapes[0]:
                raise ValueError(
                    f"{fn}: every class's parameters must have the same shape; "
                    f"class_params[{k}] has shape {s} but class_params[0] has "
                    f"shape {shapes[0]}"
                )
    params = as_float_array(class_params, "class_params")
    if params.ndim == 0 or params.shape[0] == 0:
        raise ValueError(
            f"{fn}: class_params must stack q >= 1 classes on a leading axis, got "
            f"shape {params.shape}"
        )
    q = params.shape[0]
    event = tuple(family.event_shape(params.shape[1:]))
    if priors is None:
        kind, pv = "uniform", jnp.zeros((q,), params.dtype)
    else:
        kind, raw = (
            ("log", priors.values)
            if isinstance(priors, LogPriors)
            else ("weights", priors.values)
            if isinstance(priors, PriorWeights)
            else ("probabilities", priors)
        )
        pv = as_float_array(raw, "priors")
        if pv.shape != (q,):
            raise ValueError(
                f"{fn}: priors must have shape ({q},), one per class of "
                f"class_params with shape {params.shape}; got shape {pv.shape}"
            )
    arrays = [params, pv]
    if x is not None:
        x = as_float_array(x, "x")
        e = len(event)
        if x.ndim < e or x.shape[x.ndim - e :] != event:
            raise ValueError(
                f"{fn}: x must have shape (..., {', '.join(map(str, event))}) "
                f"ending with one observation's shape {event} (from class_params "
                f"with shape {params.shape}); got x with shape {x.shape}"
            )
        arrays.append(x)
    leaves = [jnp.asarray(lf) for lf in jax.tree.leaves(family)]
    dtypes = [a.dtype for a in arrays] + [
        lf.dtype for lf in leaves if jnp.issubdtype(lf.dtype, jnp.floating)
    ]
    dtype = compute_dtype(np.result_type(*dtypes))  # half precision is computed in float32
    family = jax.tree.map(
        lambda lf: (
            jnp.asarray(lf).astype(dtype)
            if jnp.issubdtype(jnp.asarray(lf).dtype, jnp.number)
            else lf
        ),
        family,
    )
    return _Prepared(
        family, params.astype(dtype), kind, pv.astype(dtype), None if x is None else x.astype(dtype)
    )


@functools.partial(jax.jit, static_argnames=("kind",))
def _all_ok(family, params, kind, prior_values, x):
    """Every value check at once: one compiled computation and one transfer on the fast path."""
    groups = _all_constraints(family, params, kind, prior_values, x)
    return _stack_ok([c for _, cons in groups for c in cons])


def _validate(prep: _Prepared, fn: str, *, where=None, params_name="class_params") -> None:
    """Eager value checks of every group of arguments whose values are concrete.

    Under ``jit``/``vmap``/``grad`` traced arguments cannot be checked and are skipped (the
    checkify path covers them); concrete ones (e.g. priors closed over by a jitted function)
    are still checked.
    """
    family, params, pv, x = prep.family, prep.params, prep.prior_values, prep.x
    with jax.ensure_compile_time_eval():
        if not _is_tracer(family, params, pv, x):
            if bool(_all_ok(family, params, prep.kind, pv, x)):
                return  # the fast path: one compiled check
        concrete = {
            params_name: not _is_tracer(family, params),
            "psi": not _is_tracer(family),
            "priors": not _is_tracer(pv),
            "x": not _is_tracer(family, x),
        }
        for default, cons in _all_constraints(family, params, prep.kind, pv, x, params_name):
            if concrete[default]:
                _raise_violations(cons, default, where or f"{fn}(family={family.name})")


# --------------------------------------------------------------------------------------------
# The construction: logits = T(x) W^T + b
# --------------------------------------------------------------------------------------------


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
    return _affine(family, params, _log_prior(kind, prior_values, params.shape[0], params.dtype))


_OUTPUTS = {"logits": lambda z: z, "probabilities": softmax, "log_probabilities": log_softmax}


@functools.partial(jax.jit, static_argnames=("kind", "output"))
def _logits_kernel(family, params, kind, prior_values, x, output="logits"):
    log_prior = _log_prior(kind, prior_values, params.shape[0], params.dtype)
    return _OUTPUTS[output](_logits(family, params, log_prior, x))


def _posterior_call(fn, output, family, class_params, priors, x, validate):
    prep = _prepare(family, class_params, priors, x, fn=fn)
    if validate:
        _validate(prep, fn)
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
    prep = _prepare(family, class_params, priors, None, fn="affine_logits")
    if validate:
        _validate(prep, "affine_logits")
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
    prep = _prepare(family, class_params, None, x, fn="class_log_densities")
    if validate:
        _validate(prep, "class_log_densities")
    return _densities_kernel(prep.family, prep.params, prep.x)


def _checked_impl(family, params, prior_values, x, *, kind):
    for default, cons in _all_constraints(family, params, kind, prior_values, x):
        _check_traced(cons, default, f"checked_posterior_logits(family={family.name})")
    return _logits(family, params, _log_prior(kind, prior_values, params.shape[0], params.dtype), x)


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


# --------------------------------------------------------------------------------------------
# Gaussians with unequal covariances: the quadratic (not softmax-of-affine) Bayes rule
# --------------------------------------------------------------------------------------------


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
    log_prior = _log_prior(prep.kind, prep.prior_values, q, prep.params.dtype)
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


# --------------------------------------------------------------------------------------------
# Class-conditional rates of the Bayes rule (the paper's Table 3)
# --------------------------------------------------------------------------------------------


class ConfusionEstimate(NamedTuple):
    """A Monte Carlo estimate of P(decide j | true class i).

    Attributes:
      rates: (q, q), row i = true class, column j = decided class; rows sum to one.
      stderr: (q, q), the standard error of each rate (sample s.d. / √n).
    """

    rates: jax.Array
    stderr: jax.Array


@functools.partial(jax.jit, static_argnames=("kind", "n"))
def _confusion_kernel(key, family, params, kind, prior_values, n):
    q = params.shape[0]
    xs = jax.vmap(lambda k, p: family.sample(k, p, (n,)))(jr.split(key, q), params)
    logits = _logits(family, params, _log_prior(kind, prior_values, q, params.dtype), xs)
    decided = hardmax(logits)  # (q, n, q); ties share the decision equally
    rates = jnp.mean(decided, axis=1)
    stderr = jnp.std(decided, axis=1, ddof=1) / math.sqrt(n)
    return ConfusionEstimate(rates, stderr)


def bayes_confusion_monte_carlo(
    key: jax.Array,
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    *,
    n_per_class: int = 100_000,
) -> ConfusionEstimate:
    r"""The Bayes rule's class-conditional rates P(decide j | true i), by Monte Carlo.

    .. math::
        R_{ij} = P\big(\arg\max_k P(C_k \mid x) = j \;\big|\; x \sim P(x \mid C_i)\big)
        \approx \frac1n\sum_{m=1}^n [\arg\max_k z_k(x_m) = j]

    The paper's Table 3 (for its four-Gaussian problem: Φ(1)² = 0.7079 on the diagonal,
    Φ(1)Φ(−1) = 0.1335 between neighbours, Φ(−1)² = 0.0252 between opposites). Draws
    ``n_per_class`` points from each class with ``family.sample`` and classifies them with
    :func:`posterior_logits`; ties (possible for discrete families) share the decision. The
    standard error is the sample standard deviation over √n (≈ √(R(1 − R)/n)). For Gaussians
    with per-class covariances, sample directly and classify with
    :func:`gaussian_bayes_posterior_logits`.

    Args:
      key: a PRNG key.
      family, class_params, priors: as for :func:`posterior_logits` (the family must define
        ``sample``).
      n_per_class: the number of draws per class (static; at least 2).

    Returns:
      A :class:`ConfusionEstimate` ``(rates, stderr)``, each (q, q).
    """
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 2:
        raise ValueError(
            f"bayes_confusion_monte_carlo: n_per_class must be an int >= 2, got {n_per_class!r}"
        )
    prep = _prepare(family, class_params, priors, None, fn="bayes_confusion_monte_carlo")
    _validate(prep, "bayes_confusion_monte_carlo")
    return _confusion_kernel(
        key, prep.family, prep.params, prep.kind, prep.prior_values, int(n_per_class)
    )
