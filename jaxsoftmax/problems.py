r"""Classification problems with an exact Bayes posterior, from any family of expfamily.

A :class:`Problem` is K classes with class-conditional densities P(x | C_k) from one family, each
class's parameters, the priors P(C_k) and the input dimension p (observations are vectors
x ∈ ℝᵖ). Two pure functions are all an experiment needs:

- :func:`sample` ``(key, problem, n_per_class) -> (x, labels)``: ``n_per_class`` draws from
  each class, grouped by class (the paper's design, section 4.1: equal numbers per class);
- :func:`posterior` ``(problem, x) -> (n, K)``: the exact Bayes posterior P(C_k | x).

Both work under ``jax.jit`` and ``jax.vmap``: a :class:`Problem` is a pytree whose array leaves
(class parameters, priors, the family's shared scale) are traced, so problems differing only in
these values share one compiled program (``jax.vmap(sample, in_axes=(None, 0, None))`` over a
stacked batch of problems). It is also hashable and comparable by value when its leaves are
concrete, so it can key a cache or sit in a frozen configuration.

**Families.** With a family of :mod:`jaxsoftmax.expfamily` (a shared dispersion ψ) the
posterior is a softmax of logits affine in T(x) (Dunne & Campbell 1997, eq. 3), computed by
:func:`jaxsoftmax.expfamily.posterior`. With :class:`GaussianClassCovariances` (Gaussians with
per-class covariances, quadratic discriminant analysis) it is a softmax of logits *quadratic*
in x (:func:`jaxsoftmax.expfamily.gaussian_bayes_posterior`); :func:`is_softmax_affine` says
which case a problem is.

**Named recipes** (:data:`RECIPES`, :func:`recipe`) build problems from a few numbers: the
paper's problem (:func:`paper`), Gaussian means on a circle at a given separation, Gaussians
with class-specific variances, Poisson rates on a grid, Bernoulli features.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import datasets, expfamily
from ._checks import as_float_array
from .expfamily._constraints import _is_tracer
from .gaussians import PAPER_MEANS, GaussianProblem

__all__ = [
    "FAMILIES",
    "RECIPES",
    "FamilyEntry",
    "GaussianClassCovariances",
    "Problem",
    "affine_form",
    "bernoulli_features",
    "build",
    "from_gaussian_problem",
    "gaussian_circle",
    "gaussian_heteroscedastic",
    "is_softmax_affine",
    "load_dataset",
    "make_problem",
    "paper",
    "poisson_grid",
    "posterior",
    "posterior_logits",
    "problem_from_key",
    "recipe",
    "register_family",
    "sample",
]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class GaussianClassCovariances:
    r"""Gaussians N(μ_k, Σ_k) with a covariance per class: the heteroscedastic (QDA) case.

    Not an exponential family with a shared dispersion, so not Dunne & Campbell's eq. 3: the
    Bayes logits are quadratic in x,

    .. math::
        z_k = -\tfrac12(x - \mu_k)^\top\Sigma_k^{-1}(x - \mu_k) - \tfrac12\log\det(2\pi\Sigma_k)
        + \log P(C_k)

    (Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*, eq. 4.12). The class
    parameters of a :class:`Problem` with this family are the means (K, p). ``covs``: (K, p, p),
    each symmetric positive definite (checked by :func:`make_problem`).
    """

    covs: jax.Array

    @property
    def name(self) -> str:
        return type(self).__name__


Family = expfamily.ExponentialFamily | GaussianClassCovariances


def _fingerprint(tree: Any) -> tuple:
    leaves, treedef = jax.tree.flatten(tree)
    out: list[Any] = [str(treedef)]
    for leaf in leaves:
        if _is_tracer(leaf):
            raise TypeError(
                "a Problem holding traced values (inside jit/vmap) cannot be hashed or compared "
                "by value; hash it outside the transformation"
            )
        a = np.asarray(leaf)
        out.append((a.shape, str(a.dtype), a.tobytes()))
    return tuple(out)


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """K classes: a family, each class's parameters (K, p), the priors (K,) and a name.

    A pytree (``family``, ``class_params`` and ``priors`` are traced under ``jit``/``vmap``;
    ``name`` is static). Equality and hashing compare the name, the family's type and every
    array's shape, dtype and bytes: two problems built from the same numbers are equal.
    Build it with :func:`make_problem` (which checks the values) or a recipe.

    Attributes:
      family: an :class:`~jaxsoftmax.expfamily.ExponentialFamily` (e.g. ``poisson()``) or
        :class:`GaussianClassCovariances`.
      class_params: each class's parameters in the family's usual parametrisation, (K, p)
        (means, rates, probabilities, ...).
      priors: P(C_k), (K,), summing to one.
      name: a label for reports. It is static (part of the compiled program's signature), so
        the recipes name a problem by the recipe alone, not its numbers: problems of one recipe
        and shape share one compiled program.
    """

    family: Family
    class_params: jax.Array
    priors: jax.Array
    name: str = "problem"

    @property
    def n_classes(self) -> int:
        """K, the number of classes."""
        return self.class_params.shape[0]

    @property
    def n_inputs(self) -> int:
        """p, the input dimension."""
        return self.class_params.shape[1]

    def _key(self) -> tuple:
        return (self.name, type(self.family).__name__, _fingerprint(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


jax.tree_util.register_dataclass(
    Problem, data_fields=["family", "class_params", "priors"], meta_fields=["name"]
)


def make_problem(
    family: Family,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | None = None,
    *,
    name: str = "problem",
) -> Problem:
    """A validated :class:`Problem`; ``priors`` defaults to equal priors.

    Args:
      family: an exponential family (``expfamily.poisson()``, ...) or
        :class:`GaussianClassCovariances`.
      class_params: (K, p) with K >= 2 classes and p >= 1 inputs, in the family's domain.
      priors: probabilities (K,) summing to one, or ``None`` for 1/K each.
      name: a label for reports.

    Raises:
      ValueError: class_params not (K, p) with K >= 2; values outside the family's domain
        (each message names the argument, the offending value and what is allowed); priors of
        the wrong shape or not a distribution; covariances not (K, p, p) symmetric positive
        definite.
      TypeError: ``family`` is neither kind.
    """
    params = as_float_array(class_params, "class_params")
    if params.ndim != 2 or params.shape[0] < 2 or params.shape[1] < 1:
        raise ValueError(
            f"make_problem: class_params must have shape (K, p) with K >= 2 classes and p >= 1 "
            f"inputs, one row per class; got shape {params.shape}"
        )
    k, p = params.shape
    if priors is None:
        pri = jnp.full((k,), 1.0 / k, params.dtype)
    else:
        pri = as_float_array(priors, "priors")
    probe = params[:1]  # only to carry the shapes: x is not value-checked below
    if isinstance(family, GaussianClassCovariances):
        covs = as_float_array(family.covs, "covs")
        if covs.shape != (k, p, p):
            raise ValueError(
                f"make_problem: GaussianClassCovariances.covs must have shape ({k}, {p}, {p}), "
                f"one covariance per class of class_params with shape {params.shape}; "
                f"got {covs.shape}"
            )
        # Shapes, means, priors and each covariance (symmetric positive definite).
        expfamily.gaussian_bayes_posterior_logits(params, covs, pri, probe)
        family = GaussianClassCovariances(covs.astype(params.dtype))
    elif isinstance(family, expfamily.ExponentialFamily):
        expfamily.affine_logits(family, params, pri)  # shapes, domain, ψ and priors
    else:
        raise TypeError(
            f"make_problem: family must be an expfamily.ExponentialFamily (e.g. "
            f"expfamily.poisson()) or GaussianClassCovariances, got {type(family).__name__}"
        )
    return Problem(family, params, pri.astype(params.dtype), name)


def _labels(k: int, n_per_class: int) -> jax.Array:
    return jnp.repeat(jnp.arange(k), n_per_class)


def sample(key: jax.Array, problem: Problem, n_per_class: int) -> tuple[jax.Array, jax.Array]:
    """Draws ``n_per_class`` observations from each class of ``problem``.

    Observation i has label ``labels[i]`` and is drawn from that class's parameters with one
    key for the whole sample: ``family.sample(key, class_params[labels], ())``. The same key
    therefore gives the same underlying random numbers for every problem of the same shape
    (common random numbers across cells); how the draws move with the parameters is the
    family's (smoothly for the Gaussians, x = μ + Lε, the exponential and the gamma's mean,
    x = μ·G; see each family's ``sample``). For the paper's problem (:func:`paper`) the draws are
    bitwise those of :func:`jaxsoftmax.gaussians.sample`.

    Args:
      key: a PRNG key.
      problem: the classes.
      n_per_class: observations per class (a static Python int >= 1). The class frequencies
        in the sample are equal whatever the priors (the paper's design); the priors enter
        :func:`posterior` only.

    Returns:
      ``(x, labels)``: inputs (K·n, p) in the parameters' dtype and integer labels (K·n,) in
      0 … K−1, grouped by class. Pure: vmap over keys for independent trials.
    """
    if not isinstance(n_per_class, (int, np.integer)) or isinstance(n_per_class, bool):
        raise ValueError(f"sample: n_per_class must be a positive int, got {n_per_class!r}")
    if n_per_class < 1:
        raise ValueError(f"sample: n_per_class must be a positive int, got {n_per_class!r}")
    k, p = problem.class_params.shape
    labels = _labels(k, int(n_per_class))
    params = problem.class_params[labels]
    fam = problem.family
    if isinstance(fam, GaussianClassCovariances):
        # x = μ_y + L_y ε, Σ_y = L_y L_yᵀ; ε as in GaussianSharedCovariance.sample.
        eps = jax.random.normal(key, (labels.shape[0] * p,), params.dtype).reshape(-1, p)
        chol = jnp.linalg.cholesky(fam.covs)[labels]
        return params + jnp.einsum("nij,nj->ni", chol, eps), labels
    x = fam.sample(key, params, ())
    if x.shape != params.shape:
        raise ValueError(
            f"sample: {fam.name}.sample(key, params, ()) with per-observation params of shape "
            f"{params.shape} returned shape {x.shape}; a family's sample must accept a batch "
            "of parameters (see ExponentialFamily.sample)"
        )
    return x.astype(params.dtype), labels


def posterior_logits(problem: Problem, x: jax.typing.ArrayLike) -> jax.Array:
    """Logits whose softmax is the exact posterior, (..., K): log P(x, C_k) up to a term in x.

    Affine in x for a shared-dispersion family (Dunne & Campbell, eq. 3, via
    :func:`jaxsoftmax.expfamily.posterior_logits`); quadratic for
    :class:`GaussianClassCovariances` (Hastie et al., eq. 4.12, via
    :func:`jaxsoftmax.expfamily.gaussian_bayes_posterior_logits`). The problem's values were
    checked by :func:`make_problem` and are not checked again (jittable, vmappable).
    """
    fam = problem.family
    if isinstance(fam, GaussianClassCovariances):
        return expfamily.gaussian_bayes_posterior_logits(
            problem.class_params, fam.covs, problem.priors, x, validate=False
        )
    return expfamily.posterior_logits(fam, problem.class_params, problem.priors, x, validate=False)


def posterior(problem: Problem, x: jax.typing.ArrayLike) -> jax.Array:
    r"""The exact Bayes posterior P(C_k | x) = softmax(:func:`posterior_logits`), (..., K).

    .. math::
        P(C_k \mid x) = \frac{P(x \mid C_k)\,P(C_k)}{\sum_j P(x \mid C_j)\,P(C_j)}

    (Dunne & Campbell, section 3.) For the paper's problem it is bitwise
    :func:`jaxsoftmax.gaussians.bayes_posterior`.
    """
    fam = problem.family
    if isinstance(fam, GaussianClassCovariances):
        return expfamily.gaussian_bayes_posterior(
            problem.class_params, fam.covs, problem.priors, x, validate=False
        )
    return expfamily.posterior(fam, problem.class_params, problem.priors, x, validate=False)


def _statistic_is_affine(problem: Problem) -> bool:
    fam = problem.family
    assert isinstance(fam, expfamily.ExponentialFamily)
    x = problem.class_params  # evaluation points (T need not be evaluated in the support)

    def t(v):
        return fam.sufficient_statistic(v).reshape(-1)

    if not jax.make_jaxpr(fam.sufficient_statistic)(x[0]).eqns:
        return True  # T(x) = x (every shipped family): no derivative to evaluate (or compile)
    try:
        hess = jax.vmap(jax.jacfwd(jax.jacfwd(t)))(x)
    except TypeError:  # a statistic that is not differentiable (e.g. integer-valued)
        return False
    return bool(jnp.all(hess == 0))


def is_softmax_affine(problem: Problem) -> bool:
    r"""Whether the exact posterior is softmax(Wx + b) for some (W, b), x the raw input.

    - A shared-dispersion exponential family (every family of :mod:`jaxsoftmax.expfamily`):
      the logits are affine in T(x) (eq. 3), hence in x when T is affine. Every shipped family
      has T(x) = x; for a user's family the statistic's second derivative is evaluated at the
      class parameters (a zero Hessian there is taken as affine: e.g. T(x) = log x is not).
    - :class:`GaussianClassCovariances`: affine exactly when every Σ_k is the same matrix
      (then the quadratic terms −½xᵀΣ⁻¹x cancel from the posterior); otherwise the log-odds
      log P(C_k|x)/P(C_j|x) contain −½xᵀ(Σ_k⁻¹ − Σ_j⁻¹)x, which no affine map reproduces.

    Needs concrete values (it inspects the covariances).
    """
    fam = problem.family
    if isinstance(fam, GaussianClassCovariances):
        c = np.asarray(fam.covs)
        return bool(np.all(c == c[:1]))
    return _statistic_is_affine(problem)


def affine_form(problem: Problem) -> tuple[jax.Array, jax.Array]:
    """(W, b), (K, p) and (K,), with posterior = softmax(x Wᵀ + b) (Dunne & Campbell, eq. 3).

    From :func:`jaxsoftmax.expfamily.affine_logits` (W_k = θ_k/a(ψ), b_k = −b(θ_k)/a(ψ) +
    log P(C_k)); for :class:`GaussianClassCovariances` with equal covariances, the shared one.

    Raises:
      ValueError: the posterior is not softmax-affine in x (:func:`is_softmax_affine`).
    """
    if not is_softmax_affine(problem):
        raise ValueError(
            f"affine_form: the exact posterior of problem {problem.name!r} "
            f"({problem.family.name}) is not a softmax of an affine function of x"
        )
    fam = problem.family
    if isinstance(fam, GaussianClassCovariances):
        fam = expfamily.GaussianSharedCovariance(fam.covs[0])
    return expfamily.affine_logits(fam, problem.class_params, problem.priors, validate=False)


# ---------------------------------------------------------------------------------------------
# Named recipes
# ---------------------------------------------------------------------------------------------


def _positive_finite(value: float, name: str, fn: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{fn}: {name} must be a positive finite number, got {value!r}")
    return v


def _count(value: int, name: str, fn: str, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{fn}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def paper(dtype: Any = jnp.float32) -> Problem:
    """The paper's problem (Dunne & Campbell, section 4.1): four Gaussians N(μ_k, I), μ_k =
    (±1, ±1) in the order of its Tables 3–6, equal priors.

    :func:`sample` and :func:`posterior` on it are bitwise :func:`jaxsoftmax.gaussians.sample`
    and :func:`jaxsoftmax.gaussians.bayes_posterior` on :func:`jaxsoftmax.gaussians.paper_problem`.
    A constant, built without :func:`make_problem`'s checks (a test checks it equals it).
    """
    return from_gaussian_problem(
        GaussianProblem(
            jnp.asarray(np.asarray(PAPER_MEANS, dtype)),
            jnp.eye(2, dtype=dtype),
            jnp.full((4,), 0.25, dtype),
        ),
        name="paper",
    )


def from_gaussian_problem(problem: GaussianProblem, *, name: str = "gaussian") -> Problem:
    """The :class:`Problem` of a :class:`jaxsoftmax.gaussians.GaussianProblem` (shared
    covariance), with the same arrays (unchecked: a ``GaussianProblem`` was checked when made)."""
    return Problem(
        expfamily.GaussianSharedCovariance(problem.cov), problem.means, problem.priors, name
    )


def _circle(n_classes: int, separation: float, n_inputs: int) -> np.ndarray:
    """K points on a circle in the first two coordinates, neighbours ``separation`` apart,
    starting at angle π/4 (so K = 4, separation 2 gives (±1, ±1))."""
    radius = separation / (2 * math.sin(math.pi / n_classes))
    angle = math.pi / 4 + 2 * math.pi * np.arange(n_classes) / n_classes
    means = np.zeros((n_classes, n_inputs))
    means[:, 0] = radius * np.cos(angle)
    means[:, 1] = radius * np.sin(angle)
    return means


def gaussian_circle(
    n_classes: int = 4, separation: float = 2.0, n_inputs: int = 2, variance: float = 1.0
) -> Problem:
    """Gaussians N(μ_k, σ² I) with means on a circle, neighbouring means ``separation`` apart.

    The means lie in the first two of ``n_inputs`` coordinates (the rest are noise), at angles
    π/4 + 2πk/K on a circle of radius separation / (2 sin(π/K)) (the chord between neighbours).
    K = 4, separation 2, variance 1 is the paper's problem with its classes in circular order.
    Shared covariance σ² I: softmax-affine (eq. 3).
    """
    fn = "gaussian_circle"
    k = _count(n_classes, "n_classes", fn, 2)
    p = _count(n_inputs, "n_inputs", fn, 2)
    sep = _positive_finite(separation, "separation", fn)
    var = _positive_finite(variance, "variance", fn)
    cov = var * np.eye(p, dtype=np.float32)
    return make_problem(
        expfamily.gaussian_shared_covariance(cov),
        _circle(k, sep, p).astype(np.float32),
        name="gaussian_circle",
    )


def gaussian_heteroscedastic(
    n_classes: int = 4,
    separation: float = 2.0,
    n_inputs: int = 2,
    min_variance: float = 0.5,
    max_variance: float = 2.0,
) -> Problem:
    """Gaussians N(μ_k, σ_k² I) on :func:`gaussian_circle`'s means, each class its own variance.

    σ_k² runs geometrically from ``min_variance`` (class 0) to ``max_variance`` (class K−1).
    With unequal variances the exact posterior is a softmax of quadratic logits (QDA), not of
    affine ones: :func:`is_softmax_affine` is False.
    """
    fn = "gaussian_heteroscedastic"
    k = _count(n_classes, "n_classes", fn, 2)
    p = _count(n_inputs, "n_inputs", fn, 2)
    sep = _positive_finite(separation, "separation", fn)
    lo = _positive_finite(min_variance, "min_variance", fn)
    hi = _positive_finite(max_variance, "max_variance", fn)
    variances = np.geomspace(lo, hi, k)
    covs = (variances[:, None, None] * np.eye(p)).astype(np.float32)
    return make_problem(
        GaussianClassCovariances(jnp.asarray(covs)),
        _circle(k, sep, p).astype(np.float32),
        name="gaussian_heteroscedastic",
    )


def poisson_grid(
    n_classes: int = 4, n_inputs: int = 2, low: float = 2.0, high: float = 8.0
) -> Problem:
    """Independent Poisson counts whose class rate vectors lie on a grid in rate space.

    Each of the p coordinates takes g = ⌈K^(1/p)⌉ levels spaced geometrically from ``low`` to
    ``high``; class k has the k-th point of the grid in lexicographic order (K = 4, p = 2: the
    corners {low, high}²). Softmax-affine (eq. 3: θ = log λ).
    """
    fn = "poisson_grid"
    k = _count(n_classes, "n_classes", fn, 2)
    p = _count(n_inputs, "n_inputs", fn, 1)
    lo = _positive_finite(low, "low", fn)
    hi = _positive_finite(high, "high", fn)
    if hi <= lo:
        raise ValueError(f"{fn}: high must exceed low, got low={low!r}, high={high!r}")
    g = 2
    while g**p < k:
        g += 1
    levels = np.geomspace(lo, hi, g)
    grid = np.stack(np.meshgrid(*([levels] * p), indexing="ij"), -1).reshape(-1, p)[:k]
    return make_problem(
        expfamily.poisson(),
        grid.astype(np.float32),
        name="poisson_grid",
    )


def bernoulli_features(n_classes: int = 4, n_inputs: int = 4, contrast: float = 0.6) -> Problem:
    """Independent binary features: P(x_i = 1 | C_k) = ½ ± contrast/2 by the bits of k.

    Feature i of class k has probability ½ + contrast/2 if bit (i mod b) of k is set, else
    ½ − contrast/2, with b = ⌈log₂ K⌉ bits; features beyond the first b repeat the code (more
    evidence) so that p >= b is needed. Softmax-affine (eq. 3: θ = logit p).
    """
    fn = "bernoulli_features"
    k = _count(n_classes, "n_classes", fn, 2)
    bits = max(1, math.ceil(math.log2(k)))
    p = _count(n_inputs, "n_inputs", fn, bits)
    c = float(contrast)
    if not math.isfinite(c) or not 0 < c < 1:
        raise ValueError(f"{fn}: contrast must be in (0, 1), got {contrast!r}")
    code = (np.arange(k)[:, None] >> (np.arange(p) % bits)[None, :]) & 1
    probs = 0.5 + c * (code - 0.5)
    return make_problem(
        expfamily.bernoulli(),
        probs.astype(np.float32),
        name="bernoulli_features",
    )


RECIPES: dict[str, Callable[..., Problem]] = {
    "paper": paper,
    "gaussian_circle": gaussian_circle,
    "gaussian_heteroscedastic": gaussian_heteroscedastic,
    "poisson_grid": poisson_grid,
    "bernoulli_features": bernoulli_features,
}
"""The named recipes, by the name a configuration gives (``problem.recipe``)."""


def recipe(name: str, **kwargs: Any) -> Problem:
    """The problem of the named recipe (:data:`RECIPES`) with its keyword arguments.

    Raises:
      ValueError: an unknown name (the known ones are listed) or an argument the recipe does
        not take (its arguments are listed), or a bad value (named by the recipe).
    """
    if name not in RECIPES:
        raise ValueError(f"recipe: unknown problem recipe {name!r}; known: {sorted(RECIPES)}")
    fn = RECIPES[name]
    import inspect

    allowed: Sequence[str] = list(inspect.signature(fn).parameters)
    bad = sorted(set(kwargs) - set(allowed))
    if bad:
        raise ValueError(f"recipe: {name} takes no argument(s) {bad}; its arguments: {allowed}")
    return fn(**kwargs)


# ---------------------------------------------------------------------------------------------
# Families by name: what a configuration's ``problem.family`` names
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FamilyEntry:
    """A family a configuration may name (``problem.family``).

    Attributes:
      make: the family's constructor, called with the configuration's ``problem.params``
        as keyword arguments (e.g. ``expfamily.binomial`` with ``n_trials``).
      class_params: ``(n_classes, n_inputs) -> (K, p)`` default class parameters, used when
        the configuration gives none (``problem.class_params``).
      recipe: instead of ``make`` and ``class_params``: the name of a recipe of
        :data:`RECIPES` that builds the whole problem (called with ``n_classes``,
        ``n_inputs`` and ``problem.params``).
      defaults: keyword arguments of ``make`` when the configuration gives none.
    """

    make: Callable[..., Family] | None = None
    class_params: Callable[[int, int], np.ndarray] | None = None
    recipe: str | None = None
    defaults: dict = dataclasses.field(default_factory=dict)


def _grid_levels(k: int, p: int, low: float, high: float) -> np.ndarray:
    g = 2
    while g**p < k:
        g += 1
    levels = np.geomspace(low, high, g)
    return np.stack(np.meshgrid(*([levels] * p), indexing="ij"), -1).reshape(-1, p)[:k]


def _positive_means(k: int, p: int) -> np.ndarray:
    """Means (rates) on :func:`poisson_grid`'s grid, 1 … 4 (positive families)."""
    return _grid_levels(k, p, 1.0, 4.0).astype(np.float32)


def _probability_code(k: int, p: int) -> np.ndarray:
    """:func:`bernoulli_features`' probabilities, ½ ± 0.3 by the bits of k (p >= ⌈log₂ K⌉)."""
    bits = max(1, math.ceil(math.log2(k)))
    if p < bits:
        raise ValueError(
            f"problem.n_inputs: {k} classes need at least {bits} inputs for this family's "
            f"default class parameters (one bit of the class index each), got {p}"
        )
    code = (np.arange(k)[:, None] >> (np.arange(p) % bits)[None, :]) & 1
    return (0.5 + 0.6 * (code - 0.5)).astype(np.float32)


def _simplex_rows(k: int, p: int) -> np.ndarray:
    """Category probabilities (K, p), row k ∝ exp(t_k · j), t_k evenly spaced in [−1, 1]
    (distinct classes for any K with p >= 2 categories)."""
    if p < 2:
        raise ValueError(f"problem.n_inputs: a multinomial needs at least 2 categories, got {p}")
    t = np.linspace(-1.0, 1.0, k)[:, None] * np.arange(p)[None, :]
    w = np.exp(t - t.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)


def _circle_means(k: int, p: int) -> np.ndarray:
    if p < 2:
        raise ValueError(f"problem.n_inputs: Gaussian means on a circle need p >= 2, got {p}")
    return _circle(k, 2.0, p).astype(np.float32)


FAMILIES: dict[str, FamilyEntry] = {
    # "gaussian": the paper's engine path (problem.separation, problem.covariance); see build().
    "gaussian": FamilyEntry(recipe="gaussian_circle"),
    "gaussian_heteroscedastic": FamilyEntry(recipe="gaussian_heteroscedastic"),
    "gaussian_isotropic": FamilyEntry(
        expfamily.gaussian_isotropic, _circle_means, defaults={"variance": 1.0}
    ),
    "poisson": FamilyEntry(recipe="poisson_grid"),
    "bernoulli": FamilyEntry(recipe="bernoulli_features"),
    "binomial": FamilyEntry(expfamily.binomial, _probability_code, defaults={"n_trials": 10}),
    "multinomial": FamilyEntry(expfamily.multinomial, _simplex_rows, defaults={"n_trials": 10}),
    "categorical": FamilyEntry(expfamily.categorical, _simplex_rows),
    "exponential": FamilyEntry(expfamily.exponential, _positive_means),
    "gamma": FamilyEntry(expfamily.gamma, _positive_means, defaults={"shape": 2.0}),
    "geometric": FamilyEntry(expfamily.geometric, _probability_code),
    "negative_binomial": FamilyEntry(
        expfamily.negative_binomial, _probability_code, defaults={"r": 5.0}
    ),
}
"""The families a configuration's ``problem.family`` may name: every family of
:mod:`jaxsoftmax.expfamily` (``gaussian`` is the shared-covariance Gaussian), the
heteroscedastic Gaussian (QDA), and whatever a plugin adds with :func:`register_family`.
``data`` (a real data set, :mod:`jaxsoftmax.datasets`) is the configuration's other kind."""


def register_family(
    name: str,
    make: Callable[..., Family],
    class_params: Callable[[int, int], Any],
    *,
    defaults: dict | None = None,
    replace: bool = False,
) -> None:
    """Makes a user's family available to configurations as ``problem.family = name``
    (call it at the top level of a ``--plugin`` file).

    Args:
      name: the name configurations give.
      make: builds the family from the configuration's ``problem.params`` (keyword
        arguments; ``defaults`` when it gives none), e.g. a dataclass subclassing
        :class:`jaxsoftmax.expfamily.ExponentialFamily`.
      class_params: ``(n_classes, n_inputs) -> (K, p)`` default class parameters (a
        configuration may give its own, ``problem.class_params``).
      replace: allow redefining an existing name (refused otherwise).
    """
    if not isinstance(name, str) or not name or name == "data":
        raise ValueError(
            f"register_family: name must be a non-empty string other than 'data', got {name!r}"
        )
    if name in FAMILIES and not replace:
        raise ValueError(
            f"register_family: family {name!r} is already registered; pass replace=True to "
            "redefine it"
        )
    if not callable(make) or not callable(class_params):
        raise TypeError("register_family: make and class_params must be callables")
    FAMILIES[name] = FamilyEntry(make, class_params, None, dict(defaults or {}))


def _recipe_family(family: str, n_inputs: int, **kwargs: Any) -> Family:
    """The family object of a recipe family given explicit class parameters: ``gaussian``
    (``cov``, default I), ``gaussian_heteroscedastic`` (``covs``, K × p × p), ``poisson``,
    ``bernoulli``."""
    if family == "gaussian":
        cov = kwargs.pop("cov", None)
        fam: Family = expfamily.gaussian_shared_covariance(
            np.eye(n_inputs, dtype=np.float32) if cov is None else np.asarray(cov, np.float32)
        )
    elif family == "gaussian_heteroscedastic":
        if "covs" not in kwargs:
            raise TypeError("explicit class_params need the class covariances, params covs")
        fam = GaussianClassCovariances(jnp.asarray(kwargs.pop("covs"), jnp.float32))
    elif family == "poisson":
        fam = expfamily.poisson()
    else:
        fam = expfamily.bernoulli()
    if kwargs:
        raise TypeError(f"unexpected arguments {sorted(kwargs)}")
    return fam


def build(
    family: str,
    n_classes: int,
    n_inputs: int,
    *,
    recipe_name: str = "",
    params: dict | None = None,
    class_params: Any = None,
    priors: Any = None,
) -> Problem:
    """The :class:`Problem` a configuration describes (``problem.family``, ``.recipe``,
    ``.params``, ``.class_params``, ``.priors``, ``.n_classes``, ``.n_inputs``).

    With ``recipe_name`` (or a family whose entry is a recipe, and no ``class_params``): the
    recipe with ``n_classes``, ``n_inputs`` (where it takes them) and ``params``. Otherwise
    the family's constructor with ``params`` (its defaults where absent), the given
    ``class_params`` or the family's default ones, and ``priors`` (equal when None).

    Raises:
      ValueError: an unknown family or recipe (the known ones listed), a recipe of another
        family, shapes that do not match ``n_classes``/``n_inputs``, values outside the
        family's domain (named by :func:`make_problem`).
    """
    import inspect

    if family not in FAMILIES:
        raise ValueError(
            f"problem.family: unknown family {family!r}; known: {', '.join(FAMILIES)}, data"
        )
    entry = FAMILIES[family]
    params = dict(params or {})
    rname = recipe_name or (entry.recipe if class_params is None else None)
    if rname:
        if rname not in RECIPES:
            raise ValueError(f"problem.recipe: unknown recipe {rname!r}; known: {sorted(RECIPES)}")
        if recipe_name and entry.recipe is None and rname != family:
            raise ValueError(f"problem.recipe: recipe {rname!r} does not build family {family!r}")
        fn = RECIPES[rname]
        takes = inspect.signature(fn).parameters
        kwargs = {k: v for k, v in (("n_classes", n_classes), ("n_inputs", n_inputs)) if k in takes}
        prob = recipe(rname, **kwargs, **params)
        if (prob.n_classes, prob.n_inputs) != (n_classes, n_inputs):
            raise ValueError(
                f"problem.recipe: {rname} gives {prob.n_classes} classes and {prob.n_inputs} "
                f"inputs; set problem.n_classes = {prob.n_classes} and problem.n_inputs = "
                f"{prob.n_inputs}"
            )
        fam_of = {
            "paper": "gaussian",
            "gaussian_circle": "gaussian",
            "gaussian_heteroscedastic": "gaussian_heteroscedastic",
            "poisson_grid": "poisson",
            "bernoulli_features": "bernoulli",
        }.get(rname)
        if fam_of is not None and fam_of != family:
            raise ValueError(
                f"problem.recipe: recipe {rname!r} builds family {fam_of!r}, not {family!r}"
            )
        if priors is not None:
            prob = make_problem(prob.family, prob.class_params, priors, name=prob.name)
        return prob
    make: Callable[..., Family]
    if entry.make is None:  # a recipe family given explicit class parameters
        make = functools.partial(_recipe_family, family, n_inputs)
    else:
        make = entry.make
    kwargs = {**entry.defaults, **params}
    try:
        fam = make(**kwargs)
    except TypeError as err:
        raise ValueError(f"problem.params: family {family!r} cannot take {kwargs}: {err}") from None
    if class_params is None:
        assert entry.class_params is not None
        class_params = entry.class_params(n_classes, n_inputs)
    cp = np.asarray(class_params, np.float32)
    if cp.shape != (n_classes, n_inputs):
        raise ValueError(
            f"problem.class_params: expected shape (n_classes, n_inputs) = ({n_classes}, "
            f"{n_inputs}), got {cp.shape}"
        )
    pri = None if priors is None else np.asarray(priors, np.float32)
    return make_problem(fam, cp, pri, name=family)


@functools.lru_cache(maxsize=16)
def load_dataset(name: str) -> datasets.Dataset:
    """A real data set by ``problem.dataset``: one of :data:`jaxsoftmax.datasets.SKLEARN_DATASETS`
    (:func:`jaxsoftmax.datasets.load`) or a ``.csv``/``.npy``/``.npz`` file, labels in its last
    column (:func:`jaxsoftmax.datasets.load_file`). Read once per process."""
    if name in datasets.SKLEARN_DATASETS:
        return datasets.load(name)
    if not Path(name).is_file():
        raise ValueError(
            f"{name!r} is neither a data set of scikit-learn "
            f"({', '.join(datasets.SKLEARN_DATASETS)}) nor a file"
        )
    return datasets.load_file(name)


@functools.lru_cache(maxsize=64)
def problem_from_key(key: str) -> Problem | datasets.Dataset:
    """The problem of a :func:`jaxsoftmax.config.problem_key` (not the paper's engine, ``""``):
    a :class:`jaxsoftmax.problems.Problem` built by :func:`jaxsoftmax.problems.build`, or the
    :class:`jaxsoftmax.datasets.Dataset` of ``family = "data"``. Built once per process."""
    import json

    d = json.loads(key)
    if d["family"] == "data":
        return load_dataset(d["dataset"])
    return build(
        d["family"],
        d["n_classes"],
        d["n_inputs"],
        recipe_name=d["recipe"],
        params=d["params"],
        class_params=d["class_params"] or None,
        priors=d["priors"] or None,
    )
