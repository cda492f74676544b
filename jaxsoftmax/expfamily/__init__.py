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

from ._base import ExponentialFamily as ExponentialFamily
from ._confusion import ConfusionEstimate as ConfusionEstimate
from ._confusion import bayes_confusion_monte_carlo as bayes_confusion_monte_carlo
from ._constraints import Constraint as Constraint
from ._continuous import Exponential as Exponential
from ._continuous import Gamma as Gamma
from ._continuous import exponential as exponential
from ._continuous import gamma as gamma
from ._counts import Geometric as Geometric
from ._counts import NegativeBinomial as NegativeBinomial
from ._counts import Poisson as Poisson
from ._counts import geometric as geometric
from ._counts import negative_binomial as negative_binomial
from ._counts import poisson as poisson
from ._discrete import Bernoulli as Bernoulli
from ._discrete import Binomial as Binomial
from ._discrete import Multinomial as Multinomial
from ._discrete import bernoulli as bernoulli
from ._discrete import binomial as binomial
from ._discrete import categorical as categorical
from ._discrete import multinomial as multinomial
from ._gaussian import GaussianIsotropic as GaussianIsotropic
from ._gaussian import GaussianSharedCovariance as GaussianSharedCovariance
from ._gaussian import gaussian_isotropic as gaussian_isotropic
from ._gaussian import gaussian_shared_covariance as gaussian_shared_covariance
from ._posterior import affine_logits as affine_logits
from ._posterior import checked_posterior_logits as checked_posterior_logits
from ._posterior import class_log_densities as class_log_densities
from ._posterior import log_posterior as log_posterior
from ._posterior import posterior as posterior
from ._posterior import posterior_logits as posterior_logits
from ._priors import LogPriors as LogPriors
from ._priors import PriorWeights as PriorWeights
from ._quadratic import gaussian_bayes_posterior as gaussian_bayes_posterior
from ._quadratic import gaussian_bayes_posterior_logits as gaussian_bayes_posterior_logits

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
