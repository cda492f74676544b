"""Tests of jaxsoftmax.problems: every family's sampler against its density (goodness of fit),
the paper's problem bitwise against jaxsoftmax.gaussians, the exact posteriors against Bayes'
rule from scipy densities, softmax-affine vs quadratic (QDA) posteriors, jit/vmap sharing one
compiled program, common random numbers, the recipes and bad input.

Goodness of fit: each family's test draws N_GOF points per class with a fixed key (so it is
deterministic) and tests every class's draws against *that class's* density: a
Kolmogorov–Smirnov test per coordinate (and per projection, for correlated Gaussians) for the
continuous families, a chi-square test per coordinate (the joint counts for the multinomial) for
the discrete ones, categories merged until every expected count is at least 5. The family's
level is α = 0.001, Bonferroni-split over its tests (each p-value must exceed α / n_tests).
Samples drawn from another class's parameters fail it by p-values below 1e-100.
"""

from __future__ import annotations

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as ss

from jaxsoftmax import expfamily as ef
from jaxsoftmax import gaussians
from jaxsoftmax import problems as P

F32 = np.float32
ALPHA = 1e-3
N_GOF = 20_000
COV2 = np.array([[1.0, 0.6], [0.6, 0.8]], F32)
UNIT = np.array([[0.2, 0.5], [0.7, 0.9], [0.4, 0.15]], F32)
POS = np.array([[1.0, 3.0], [6.0, 0.5], [2.5, 2.0]], F32)


@dataclasses.dataclass(frozen=True)
class GofCase:
    id: str
    family: object
    params: np.ndarray  # (K, p)
    kind: str  # "continuous" (marginal cdf) or "discrete" (marginal pmf) or "joint"
    marginal: object  # (one class's params (p,), coordinate i) -> scipy frozen distribution
    slow: bool = False


GOF_CASES = [
    GofCase(
        "gaussian_shared_covariance",
        ef.gaussian_shared_covariance(COV2),
        np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]], F32),
        "continuous",
        lambda m, i: ss.norm(m[i], np.sqrt(COV2[i, i])),
    ),
    GofCase(
        "gaussian_isotropic",
        ef.gaussian_isotropic(1.7),
        np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]], F32),
        "continuous",
        lambda m, i: ss.norm(m[i], np.sqrt(1.7)),
    ),
    GofCase("bernoulli", ef.bernoulli(), UNIT, "discrete", lambda p, i: ss.bernoulli(p[i])),
    GofCase(
        "binomial", ef.binomial(7.0), UNIT, "discrete", lambda p, i: ss.binom(7, p[i]), slow=True
    ),
    GofCase(
        "multinomial",
        ef.multinomial(6.0),
        np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.6, 0.2, 0.1, 0.1]], F32),
        "joint",
        lambda p, _: ss.multinomial(6, p / p.sum()),
        slow=True,
    ),
    GofCase(
        "categorical",
        ef.categorical(),
        np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]], F32),
        "joint",
        lambda p, _: ss.multinomial(1, p / p.sum()),
        slow=True,
    ),
    GofCase(
        "poisson",
        ef.poisson(),
        np.array([[1.0, 3.0], [6.0, 0.5], [12.0, 2.0]], F32),  # both of jax's algorithms
        "discrete",
        lambda lam, i: ss.poisson(lam[i]),
    ),
    GofCase("exponential", ef.exponential(), POS, "continuous", lambda m, i: ss.expon(scale=m[i])),
    GofCase(
        "gamma",
        ef.gamma(2.5),
        POS,
        "continuous",
        lambda m, i: ss.gamma(2.5, scale=m[i] / 2.5),
        slow=True,
    ),
    GofCase("geometric", ef.geometric(), UNIT, "discrete", lambda p, i: ss.geom(p[i])),
    GofCase(
        "negative_binomial",
        ef.negative_binomial(2.5),
        UNIT,
        "discrete",
        lambda p, i: ss.nbinom(2.5, p[i]),
    ),
]


def _merged_chisquare(observed: np.ndarray, expected: np.ndarray) -> float:
    """Chi-square p-value after merging the categories (in order of decreasing expected count
    into the last kept one) until every expected count is at least 5."""
    order = np.argsort(-expected)
    obs, exp = observed[order].astype(float), expected[order].astype(float)
    big = int(np.sum(exp >= 5))
    if exp[big:].sum() < 5:  # the small cells together are still small: into the last big one
        big -= 1
    obs = np.append(obs[:big], obs[big:].sum())
    exp = np.append(exp[:big], exp[big:].sum())
    exp *= obs.sum() / exp.sum()  # the mass beyond the enumerated support (< 1e-12)
    return float(ss.chisquare(obs, exp).pvalue)


def _discrete_pvalue(draws: np.ndarray, dist) -> float:
    top = int(max(draws.max(), dist.ppf(1 - 1e-12)))
    support = np.arange(top + 1)
    observed = np.bincount(draws.astype(int), minlength=top + 1)[: top + 1]
    return _merged_chisquare(observed, len(draws) * dist.pmf(support))


def _joint_pvalue(draws: np.ndarray, dist, n_trials: int) -> float:
    m = draws.shape[1]
    outcomes = [c for c in itertools.product(range(n_trials + 1), repeat=m) if sum(c) == n_trials]
    index = {c: j for j, c in enumerate(outcomes)}
    observed = np.bincount(
        [index[tuple(int(v) for v in row)] for row in draws], minlength=len(outcomes)
    )
    return _merged_chisquare(observed, len(draws) * dist.pmf(np.array(outcomes)))


def goodness_of_fit_pvalues(case: GofCase, x: np.ndarray, y: np.ndarray) -> list[float]:
    """Every p-value of the family's tests: class k's draws against class k's density."""
    pvalues = []
    for k, params in enumerate(case.params.astype(np.float64)):
        xk = x[y == k].astype(np.float64)
        if case.kind == "joint":
            pvalues.append(_joint_pvalue(xk, case.marginal(params, None), int(xk[0].sum())))
            continue
        for i in range(xk.shape[1]):
            dist = case.marginal(params, i)
            if case.kind == "continuous":
                pvalues.append(float(ss.kstest(xk[:, i], dist.cdf).pvalue))
            else:
                pvalues.append(_discrete_pvalue(xk[:, i], dist))
        if isinstance(case.family, ef.GaussianSharedCovariance):
            # The correlation: x1 - x2 ~ N(m1 - m2, S11 + S22 - 2 S12).
            cov = COV2.astype(np.float64)
            sd = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
            pvalues.append(
                float(ss.kstest(xk[:, 0] - xk[:, 1], ss.norm(params[0] - params[1], sd).cdf).pvalue)
            )
    return pvalues


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.slow) if c.slow else c for c in GOF_CASES],
    ids=[c.id for c in GOF_CASES],
)
def test_each_familys_sampler_matches_its_density(case):
    problem = P.make_problem(case.family, case.params)
    x, y = jax.jit(P.sample, static_argnums=2)(jax.random.key(2026), problem, N_GOF)
    assert x.shape == (3 * N_GOF, case.params.shape[1]) and x.dtype == jnp.float32
    np.testing.assert_array_equal(y, np.repeat(np.arange(3), N_GOF))
    pvalues = goodness_of_fit_pvalues(case, np.asarray(x), np.asarray(y))
    assert min(pvalues) > ALPHA / len(pvalues), (case.id, pvalues)


QDA_COVS = np.stack([COV2, np.diag([0.3, 2.0]), np.array([[2.0, -0.9], [-0.9, 1.0]])]).astype(F32)


def _qda_pvalues(x, y, means, covs):
    """KS p-values of each class's draws: both marginals and the difference x1 − x2."""
    pvalues = []
    for k in range(len(means)):
        xk, m, c = x[y == k].astype(np.float64), means[k], covs[k].astype(np.float64)
        for i in range(2):
            pvalues.append(ss.kstest(xk[:, i], ss.norm(m[i], np.sqrt(c[i, i])).cdf).pvalue)
        sd = np.sqrt(c[0, 0] + c[1, 1] - 2 * c[0, 1])
        pvalues.append(ss.kstest(xk[:, 0] - xk[:, 1], ss.norm(m[0] - m[1], sd).cdf).pvalue)
    return pvalues


def test_the_heteroscedastic_sampler_matches_each_classs_density():
    means = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]], F32)
    problem = P.make_problem(P.GaussianClassCovariances(jnp.asarray(QDA_COVS)), means)
    x, y = jax.jit(P.sample, static_argnums=2)(jax.random.key(2026), problem, N_GOF)
    x, y = np.asarray(x), np.asarray(y)
    pvalues = _qda_pvalues(x, y, means, QDA_COVS)
    assert min(pvalues) > ALPHA / len(pvalues), pvalues
    # Attributing the draws to the wrong class's covariance is rejected.
    assert min(_qda_pvalues(x, y, means, QDA_COVS[[1, 2, 0]])) < 1e-100


def test_draws_from_another_classs_parameters_fail_the_goodness_of_fit():
    # The test above can fail: the right draws attributed to the wrong classes are rejected.
    case = GOF_CASES[0]
    problem = P.make_problem(case.family, case.params)
    x, y = P.sample(jax.random.key(2026), problem, N_GOF)
    shuffled = (np.asarray(y) + 1) % 3
    assert min(goodness_of_fit_pvalues(case, np.asarray(x), shuffled)) < 1e-100


# --------------------------------------------------------------------------------------------
# The paper's problem: bitwise today's jaxsoftmax.gaussians
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7])
def test_the_paper_problem_draws_and_posteriors_are_bitwise_gaussians(seed):
    key = jax.random.key(seed)
    x, y = P.sample(key, P.paper(), 100)
    x0, y0 = gaussians.sample(key, gaussians.paper_problem(), 100)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    assert x.dtype == x0.dtype and y.dtype == y0.dtype
    np.testing.assert_array_equal(
        P.posterior(P.paper(), x), gaussians.bayes_posterior(gaussians.paper_problem(), x0)
    )


def test_the_paper_constant_equals_the_checked_construction():
    checked = P.make_problem(
        ef.gaussian_shared_covariance(np.eye(2, dtype=F32)),
        np.asarray(gaussians.PAPER_MEANS, F32),
        np.full(4, 0.25, F32),
        name="paper",
    )
    assert checked == P.paper() and hash(checked) == hash(P.paper())
    assert P.recipe("paper") == P.paper()
    # The circle recipe at the paper's separation has the paper's four means (circular order).
    circle = np.asarray(P.gaussian_circle(4, 2.0).class_params)
    rows = {tuple(np.round(r, 5)) for r in circle}
    assert rows == {tuple(r) for r in gaussians.PAPER_MEANS}


def test_problems_compare_and_hash_by_value():
    a, b = P.poisson_grid(), P.poisson_grid()
    assert a is not b and a == b and len({a, b}) == 1
    assert a != P.poisson_grid(high=9.0) and a != P.bernoulli_features()
    renamed = dataclasses.replace(a, name="other")
    assert renamed != a


# --------------------------------------------------------------------------------------------
# Exact posteriors: Bayes' rule from independent (scipy) densities
# --------------------------------------------------------------------------------------------


def _np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _scipy_log_density(problem, x):
    """log P(x | C_k), (n, K), from scipy.stats (float64), for the recipe families."""
    params = np.asarray(problem.class_params, np.float64)
    fam = problem.family
    cols = []
    for k, pk in enumerate(params):
        if isinstance(fam, P.GaussianClassCovariances):
            cov = np.asarray(fam.covs, np.float64)[k]
            cols.append(ss.multivariate_normal(pk, cov).logpdf(x))
        elif isinstance(fam, ef.GaussianSharedCovariance):
            cols.append(ss.multivariate_normal(pk, np.asarray(fam.cov, np.float64)).logpdf(x))
        elif isinstance(fam, ef.Poisson):
            cols.append(ss.poisson(pk).logpmf(x).sum(-1))
        elif isinstance(fam, ef.Bernoulli):
            cols.append(ss.bernoulli(pk).logpmf(x).sum(-1))
        else:
            raise AssertionError(type(fam))
    return np.stack(cols, -1)


RECIPE_CASES = {
    "paper": {},
    "gaussian_circle": {"n_classes": 5, "separation": 1.5, "n_inputs": 3, "variance": 0.8},
    "gaussian_heteroscedastic": {"n_classes": 3, "n_inputs": 3},
    "poisson_grid": {"n_classes": 5, "n_inputs": 2},
    "bernoulli_features": {"n_classes": 3, "n_inputs": 5, "contrast": 0.5},
}


@pytest.mark.parametrize("name", sorted(RECIPE_CASES))
def test_recipe_posteriors_are_bayes_rule_with_unequal_priors(name):
    base = P.recipe(name, **RECIPE_CASES[name])
    k = base.n_classes
    priors = np.random.default_rng(1).dirichlet(np.ones(k)).astype(F32)
    problem = P.make_problem(base.family, base.class_params, priors, name=base.name)
    x, y = P.sample(jax.random.key(3), problem, 40)
    assert x.shape == (40 * k, base.n_inputs) and y.shape == (40 * k,)
    ref = _np_softmax(_scipy_log_density(problem, np.asarray(x, np.float64)) + np.log(priors))
    post = P.posterior(problem, x)
    assert post.shape == (40 * k, k)
    np.testing.assert_allclose(post, ref, rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(
        jax.nn.softmax(P.posterior_logits(problem, x)), ref, rtol=2e-4, atol=2e-6
    )


# --------------------------------------------------------------------------------------------
# Softmax-affine (shared dispersion) or not (QDA)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper", "gaussian_circle", "poisson_grid", "bernoulli_features"])
def test_shared_dispersion_posteriors_are_softmax_affine(name):
    problem = P.recipe(name, **RECIPE_CASES[name])
    assert P.is_softmax_affine(problem)
    w, b = P.affine_form(problem)
    assert w.shape == (problem.n_classes, problem.n_inputs) and b.shape == (problem.n_classes,)
    x, _ = P.sample(jax.random.key(4), problem, 30)
    np.testing.assert_allclose(
        jax.nn.softmax(x @ w.T + b[None]), P.posterior(problem, x), rtol=1e-4, atol=1e-6
    )


def _second_difference_of_log_odds(problem, x, h):
    """log P(C_0|x)/P(C_1|x) at x - h, x, x + h: the second difference, zero for any
    softmax(Wx + b) posterior (its log-odds (W_0 - W_1)·x + b_0 - b_1 are affine)."""
    lp = jnp.log(P.posterior(problem, jnp.stack([x - h, x, x + h])))
    odds = lp[:, 0] - lp[:, 1]
    return float(odds[0] - 2 * odds[1] + odds[2])


def test_qda_posterior_is_not_softmax_affine_a_counterexample():
    problem = P.gaussian_heteroscedastic(n_classes=3, n_inputs=2)
    assert not P.is_softmax_affine(problem)
    with pytest.raises(ValueError, match="not a softmax of an affine function"):
        P.affine_form(problem)
    # Counterexample: along a line the log-odds of classes 0 and 1 curve, which no (W, b) can do:
    # for N(μ_k, σ_k² I) the second difference is -(1/σ_0² - 1/σ_1²)|h|².
    x, h = jnp.zeros(2), jnp.array([1.0, 0.5])
    v = np.asarray(problem.family.covs)[:, 0, 0].astype(np.float64)
    expected = -(1 / v[0] - 1 / v[1]) * float(h @ h)
    assert abs(expected) > 1
    np.testing.assert_allclose(_second_difference_of_log_odds(problem, x, h), expected, rtol=1e-4)
    # The shared-covariance problem on the same means has none.
    shared = P.make_problem(
        ef.gaussian_shared_covariance(np.eye(2, dtype=F32)), problem.class_params
    )
    assert abs(_second_difference_of_log_odds(shared, x, h)) < 1e-4
    # And the best affine fit of the QDA log-posteriors leaves a residual: no (W, b) fits.
    pts, _ = P.sample(jax.random.key(5), problem, 200)
    logp = np.asarray(jnp.log(P.posterior(problem, pts)), np.float64)
    target = logp - logp[:, :1]  # log-odds against class 0 (softmax is shift-invariant)
    design = np.c_[np.asarray(pts, np.float64), np.ones(len(pts))]
    resid = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
    assert np.abs(resid).max() > 1.0


def test_qda_with_equal_covariances_is_affine_and_matches_the_shared_family():
    means = np.asarray(gaussians.PAPER_MEANS, F32)
    covs = np.broadcast_to(COV2, (4, 2, 2)).copy()
    qda = P.make_problem(P.GaussianClassCovariances(jnp.asarray(covs)), means)
    lda = P.make_problem(ef.gaussian_shared_covariance(COV2), means)
    assert P.is_softmax_affine(qda)
    x, _ = P.sample(jax.random.key(6), qda, 25)
    np.testing.assert_allclose(P.posterior(qda, x), P.posterior(lda, x), rtol=1e-4, atol=1e-6)
    w, b = P.affine_form(qda)
    np.testing.assert_allclose(jax.nn.softmax(x @ w.T + b[None]), P.posterior(lda, x), atol=1e-5)


@dataclasses.dataclass(frozen=True, eq=False)
class _LogNormal(ef.ExponentialFamily):
    """log x ~ N(μ, 1): T(x) = log x, so the posterior is affine in log x, not in x."""

    def sufficient_statistic(self, x):
        return jnp.log(x)

    def natural_parameters(self, params):
        return params

    def mean_parameters(self, theta):
        return theta

    def log_partition(self, theta):
        return 0.5 * jnp.sum(theta**2)

    def log_base_measure(self, x):
        return jnp.sum(-0.5 * jnp.log(x) ** 2 - jnp.log(x)) - 0.5 * x.size * np.log(2 * np.pi)

    def sample(self, key, params, shape):
        z = jax.random.normal(key, (*shape, *params.shape), params.dtype)
        return jnp.exp(params + z)


def test_a_user_family_with_a_nonlinear_statistic_is_not_affine_in_x():
    problem = P.make_problem(_LogNormal(), np.array([[0.1, 0.5], [1.0, 0.2]], F32))
    assert not P.is_softmax_affine(problem)
    x, _ = P.sample(jax.random.key(0), problem, 10)
    assert x.shape == (20, 2) and bool(jnp.all(x > 0))


# --------------------------------------------------------------------------------------------
# jit / vmap: one compiled program for problems differing only in values; common random numbers
# --------------------------------------------------------------------------------------------


def test_problems_differing_in_values_share_one_compiled_program():
    traces = []

    def trial(key, problem):
        traces.append(1)
        x, _ = P.sample(key, problem, 50)
        return P.posterior(problem, x)

    run = jax.jit(trial)
    a = P.gaussian_circle(4, 2.0)
    b = P.gaussian_circle(4, 3.0)
    run(jax.random.key(0), a)
    run(jax.random.key(0), b)
    assert len(traces) == 1
    # vmap over a stack of problems equals the problems one by one.
    stacked = jax.tree.map(lambda u, v: jnp.stack([u, v]), a, b)
    both = jax.vmap(trial, in_axes=(None, 0))(jax.random.key(0), stacked)
    np.testing.assert_allclose(both[0], trial(jax.random.key(0), a), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(both[1], trial(jax.random.key(0), b), rtol=1e-6, atol=1e-7)


def test_common_random_numbers_move_smoothly_with_the_parameters():
    key = jax.random.key(11)
    a = P.gaussian_circle(4, 2.0)
    shift = np.array([0.3, -0.2], F32)
    moved = P.make_problem(a.family, np.asarray(a.class_params) + shift)
    xa, _ = P.sample(key, a, 30)
    xm, _ = P.sample(key, moved, 30)
    np.testing.assert_allclose(xm - xa, np.broadcast_to(shift, xa.shape), atol=1e-5)
    # Exponential means: the draws scale with them.
    e = P.make_problem(ef.exponential(), POS)
    e2 = P.make_problem(ef.exponential(), 2 * POS)
    np.testing.assert_allclose(P.sample(key, e2, 30)[0], 2 * P.sample(key, e, 30)[0], rtol=1e-6)
    # Different keys give different draws.
    assert not np.allclose(P.sample(jax.random.key(12), a, 30)[0], xa)
    # Inversion samplers: the same key's draws are monotone in the probabilities.
    lo, hi = np.array([[0.2, 0.4], [0.5, 0.1]], F32), np.array([[0.3, 0.45], [0.9, 0.2]], F32)
    for fam, sign in [(ef.bernoulli(), 1), (ef.geometric(), -1)]:
        x_lo, _ = P.sample(key, P.make_problem(fam, lo), 500)
        x_hi, _ = P.sample(key, P.make_problem(fam, hi), 500)
        diff = sign * (np.asarray(x_hi) - np.asarray(x_lo))
        assert np.all(diff >= 0) and np.any(diff > 0), fam.name


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_problems_are_refused_naming_the_input():
    with pytest.raises(ValueError, match=r"class_params must have shape \(K, p\)"):
        P.make_problem(ef.poisson(), np.ones(3, F32))
    with pytest.raises(ValueError, match="K >= 2"):
        P.make_problem(ef.poisson(), np.ones((1, 2), F32))
    with pytest.raises(ValueError, match="class_params"):
        P.make_problem(ef.poisson(), np.array([[1.0, -2.0], [1.0, 1.0]], F32))
    with pytest.raises(ValueError, match="priors"):
        P.make_problem(ef.poisson(), np.ones((2, 2), F32), np.array([0.5, 0.6], F32))
    with pytest.raises(ValueError, match="priors must have shape"):
        P.make_problem(ef.poisson(), np.ones((2, 2), F32), np.array([1.0], F32))
    with pytest.raises(TypeError, match="family must be"):
        P.make_problem("poisson", np.ones((2, 2), F32))
    with pytest.raises(ValueError, match=r"covs must have shape \(2, 2, 2\)"):
        P.make_problem(P.GaussianClassCovariances(jnp.eye(2)), np.ones((2, 2), F32))
    bad = np.stack([np.eye(2), -np.eye(2)]).astype(F32)
    with pytest.raises(ValueError, match="positive definite"):
        P.make_problem(P.GaussianClassCovariances(jnp.asarray(bad)), np.ones((2, 2), F32))
    with pytest.raises(ValueError, match="n_per_class must be a positive int"):
        P.sample(jax.random.key(0), P.paper(), 0)
    with pytest.raises(ValueError, match="n_per_class must be a positive int"):
        P.sample(jax.random.key(0), P.paper(), 2.5)


def test_bad_recipes_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match=r"unknown problem recipe 'gauss'; known: \["):
        P.recipe("gauss")
    with pytest.raises(ValueError, match=r"takes no argument\(s\) \['rate'\]"):
        P.recipe("poisson_grid", rate=3)
    with pytest.raises(ValueError, match="separation must be a positive finite number, got nan"):
        P.gaussian_circle(separation=float("nan"))
    with pytest.raises(ValueError, match="n_classes must be an int >= 2, got 1"):
        P.poisson_grid(n_classes=1)
    with pytest.raises(ValueError, match="high must exceed low"):
        P.poisson_grid(low=5.0, high=2.0)
    with pytest.raises(ValueError, match=r"n_inputs must be an int >= 3, got 2"):
        P.bernoulli_features(n_classes=5, n_inputs=2)
    with pytest.raises(ValueError, match=r"contrast must be in \(0, 1\), got inf"):
        P.bernoulli_features(contrast=float("inf"))
    with pytest.raises(ValueError, match="min_variance must be a positive finite number"):
        P.gaussian_heteroscedastic(min_variance=-1.0)


def test_a_traced_problem_cannot_be_hashed():
    with pytest.raises(TypeError, match="cannot be hashed or compared by value"):
        jax.jit(lambda pr: hash(pr) + 0 * pr.priors)(P.paper())
