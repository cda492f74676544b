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


def test_draws_from_another_classs_parameters_fail_the_goodness_of_fit():
    # The test above can fail: the right draws attributed to the wrong classes are rejected.
    case = GOF_CASES[0]
    problem = P.make_problem(case.family, case.params)
    x, y = P.sample(jax.random.key(2026), problem, N_GOF)
    shuffled = (np.asarray(y) + 1) % 3
    assert min(goodness_of_fit_pvalues(case, np.asarray(x), shuffled)) < 1e-100
