"""Tests of jaxsoftmax.expfamily: the posterior of every family against Bayes' rule computed
independently from jax.scipy.stats densities, the logistic (eq. 2) and affine (eq. 3) forms, the
cancellation of c(x, ψ), scikit-learn's LDA/QDA, bad input, jit/vmap/grad/checkify, and the
paper's Table 3."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import jax.scipy.stats as jss
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.test_util import check_grads
from scipy.special import ndtr
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)

from jaxsoftmax import expfamily as ef
from jaxsoftmax.activations import logistic

F32 = np.float32
PAPER_MEANS = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]], F32)


# --------------------------------------------------------------------------------------------
# One case per family: the family, random parameters, random points in the support, and the
# reference log-density log P(x | params) from jax.scipy.stats (or written out directly).
# Shapes are fixed (q classes, n points) so each family compiles once.
# --------------------------------------------------------------------------------------------

N_POINTS = 6


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    family: object
    params: object  # rng, q -> (q, *E) float32
    points: object  # rng -> (N_POINTS, *E) float32
    logpdf: object  # (one class's params, x (N, *E)) -> (N,)
    mean: object  # one class's params -> E[x]


def _spd(rng, p):
    a = rng.normal(size=(p, p))
    return (a @ a.T / p + 0.5 * np.eye(p)).astype(F32)


COV3 = _spd(np.random.default_rng(0), 3)
N_BIN, N_MULT, ALPHA, R_NB, VAR = 7.0, 6.0, 2.5, 2.5, 1.7


def _unit(rng, shape):
    return rng.uniform(0.05, 0.95, shape).astype(F32)


CASES = [
    Case(
        "gaussian_shared_covariance",
        ef.gaussian_shared_covariance(COV3),
        lambda rng, q: rng.normal(size=(q, 3)).astype(F32),
        lambda rng: (2 * rng.normal(size=(N_POINTS, 3))).astype(F32),
        lambda m, x: jax.vmap(lambda xi, mi: jss.multivariate_normal.logpdf(xi, mi, COV3))(x, m),
        lambda m: m,
    ),
    Case(
        "gaussian_isotropic",
        ef.gaussian_isotropic(VAR),
        lambda rng, q: rng.normal(size=(q, 2)).astype(F32),
        lambda rng: (2 * rng.normal(size=(N_POINTS, 2))).astype(F32),
        lambda m, x: jnp.sum(jss.norm.logpdf(x, m, np.sqrt(VAR).astype(F32)), -1),
        lambda m: m,
    ),
    Case(
        "bernoulli",
        ef.bernoulli(),
        lambda rng, q: _unit(rng, (q, 4)),
        lambda rng: rng.integers(0, 2, (N_POINTS, 4)).astype(F32),
        lambda p, x: jnp.sum(jss.bernoulli.logpmf(x, p), -1),
        lambda p: p,
    ),
    Case(
        "binomial",
        ef.binomial(N_BIN),
        lambda rng, q: _unit(rng, (q, 2)),
        lambda rng: rng.integers(0, N_BIN + 1, (N_POINTS, 2)).astype(F32),
        lambda p, x: jnp.sum(jss.binom.logpmf(x, N_BIN, p), -1),
        lambda p: N_BIN * p,
    ),
    Case(
        "multinomial",
        ef.multinomial(N_MULT),
        lambda rng, q: rng.dirichlet(np.full(4, 2.0), q).astype(F32),
        lambda rng: rng.multinomial(int(N_MULT), np.full(4, 0.25), N_POINTS).astype(F32),
        # jax.scipy.stats.multinomial.logpmf gives -inf on stacked rows: vmap it.
        lambda p, x: jax.vmap(lambda xi, pi: jss.multinomial.logpmf(xi, jnp.int32(N_MULT), pi))(
            jnp.int32(x), p
        ),
        lambda p: N_MULT * p,
    ),
    Case(
        "categorical",
        ef.categorical(),
        lambda rng, q: rng.dirichlet(np.full(3, 2.0), q).astype(F32),
        lambda rng: np.eye(3, dtype=F32)[rng.integers(0, 3, N_POINTS)],
        lambda p, x: jnp.sum(x * jnp.log(p), -1),  # log π_label, written directly
        lambda p: p,
    ),
    Case(
        "poisson",
        ef.poisson(),
        lambda rng, q: rng.uniform(0.5, 8.0, (q, 3)).astype(F32),
        lambda rng: rng.poisson(3.0, (N_POINTS, 3)).astype(F32),
        lambda lam, x: jnp.sum(jss.poisson.logpmf(x, lam), -1),
        lambda lam: lam,
    ),
    Case(
        "poisson_scalar_event",
        ef.poisson(),
        lambda rng, q: rng.uniform(0.5, 8.0, (q,)).astype(F32),
        lambda rng: rng.poisson(3.0, (N_POINTS,)).astype(F32),
        lambda lam, x: jss.poisson.logpmf(x, lam),
        lambda lam: lam,
    ),
    Case(
        "exponential",
        ef.exponential(),
        lambda rng, q: rng.uniform(0.3, 4.0, (q, 2)).astype(F32),
        lambda rng: rng.exponential(2.0, (N_POINTS, 2)).astype(F32),
        lambda mu, x: jnp.sum(jss.expon.logpdf(x, scale=mu), -1),
        lambda mu: mu,
    ),
    Case(
        "gamma",
        ef.gamma(ALPHA),
        lambda rng, q: rng.uniform(0.3, 4.0, (q, 2)).astype(F32),
        lambda rng: rng.gamma(2.0, 1.0, (N_POINTS, 2)).astype(F32),
        lambda mu, x: jnp.sum(jss.gamma.logpdf(x, ALPHA, scale=mu / ALPHA), -1),
        lambda mu: mu,
    ),
    Case(
        "geometric",
        ef.geometric(),
        lambda rng, q: _unit(rng, (q, 2)),
        lambda rng: rng.geometric(0.3, (N_POINTS, 2)).astype(F32),
        lambda p, x: jnp.sum(jss.geom.logpmf(x, p), -1),
        lambda p: 1 / p,
    ),
    Case(
        "negative_binomial",
        ef.negative_binomial(R_NB),
        lambda rng, q: _unit(rng, (q, 2)),
        lambda rng: rng.negative_binomial(R_NB, 0.4, (N_POINTS, 2)).astype(F32),
        lambda p, x: jnp.sum(jss.nbinom.logpmf(x, R_NB, p), -1),
        lambda p: R_NB * (1 - p) / p,
    ),
]
case_ids = [c.id for c in CASES]
seeds = st.integers(0, 2**32 - 1)


_JITTED = {}


def _jitted(fn):
    """``jax.jit(fn)``, cached: one compiled program per reference instead of one per op."""
    return _JITTED.setdefault(fn, jax.jit(fn))


def reference_log_joint(case, params, priors, x):
    """log P(x | C_k) + log P(C_k) from the reference densities, float64, shape (N, q)."""
    logpdf = _jitted(case.logpdf)
    dens = np.stack(
        [
            np.asarray(logpdf(np.broadcast_to(params[k], x.shape), x), np.float64)
            for k in range(len(params))
        ]
    )
    return dens.T + np.log(np.asarray(priors, np.float64))


def np_softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def draw(case, seed, q=3):
    rng = np.random.default_rng(seed)
    return case.params(rng, q), rng.dirichlet(np.ones(q)).astype(F32), case.points(rng)


# --------------------------------------------------------------------------------------------
# Every family: the posterior is Bayes' rule on the family's density
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_ids)
@settings(max_examples=8)
@given(seed=seeds)
def test_family_density_matches_reference(case, seed):
    params, _, x = draw(case, seed)
    ours = ef.class_log_densities(case.family, params, x)
    ref = reference_log_joint(case, params, np.ones(3), x)
    np.testing.assert_allclose(ours, ref, rtol=2e-5, atol=2e-4)


@pytest.mark.parametrize("case", CASES, ids=case_ids)
@settings(max_examples=8)
@given(seed=seeds)
def test_posterior_is_bayes_rule_with_unequal_priors(case, seed):
    params, priors, x = draw(case, seed)
    ref = np_softmax(reference_log_joint(case, params, priors, x))
    out = ef.posterior(case.family, params, priors, x)
    assert out.shape == (N_POINTS, 3) and out.dtype == jnp.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("case", CASES, ids=case_ids)
def test_two_classes_is_the_logistic_of_the_log_odds(case):
    # Eq. 2: P(C_1 | x) = 1 / (1 + exp{-log[P(x|C_1)/P(x|C_2)] - log[P(C_1)/P(C_2)]}).
    params, priors, x = draw(case, 11, q=2)
    log_odds = np.diff(reference_log_joint(case, params, priors, x)[:, ::-1], axis=-1)[:, 0]
    post = ef.posterior(case.family, params, priors, x)
    np.testing.assert_allclose(post[:, 0], logistic(log_odds.astype(F32)), rtol=1e-4, atol=2e-5)
    # ... and the log-odds are affine in T(x) = x: (W_1 - W_2)·x + b_1 - b_2.
    w, b = ef.affine_logits(case.family, params, priors)
    t = x.reshape(N_POINTS, -1)
    np.testing.assert_allclose(
        logistic(jnp.asarray(t @ np.asarray(w[0] - w[1]) + np.asarray(b[0] - b[1]))),
        post[:, 0],
        rtol=1e-4,
        atol=2e-5,
    )


@pytest.mark.parametrize("case", CASES, ids=case_ids)
def test_logits_are_affine_in_the_statistic(case):
    params, priors, x = draw(case, 3)
    w, b = ef.affine_logits(case.family, params, priors)
    d = int(np.prod(x.shape[1:]))
    assert w.shape == (3, d) and b.shape == (3,)
    z = ef.posterior_logits(case.family, params, priors, x)
    np.testing.assert_allclose(
        z, x.reshape(N_POINTS, d) @ np.asarray(w).T + np.asarray(b), rtol=1e-5, atol=1e-4
    )


@pytest.mark.parametrize("case", CASES, ids=case_ids)
def test_base_measure_cancels(case):
    params, priors, x = draw(case, 5)
    fam = case.family
    logits = ef.posterior_logits(fam, params, priors, x)
    dens = ef.class_log_densities(fam, params, x)
    c = jax.jit(jax.vmap(fam.log_base_measure))(x)
    # The logits are log P(x, C_k) − c(x, ψ): c is the same for every class ...
    np.testing.assert_allclose(
        logits, np.asarray(dens - c[:, None]) + np.log(priors), rtol=1e-5, atol=1e-4
    )
    # ... so replacing c by anything at all (here 7 sin Σx) leaves the posterior unchanged.
    perturbed_cls = type(
        "Perturbed", (type(fam),), {"log_base_measure": lambda s, v: 7 * jnp.sin(jnp.sum(v))}
    )
    perturbed = perturbed_cls(**{f.name: getattr(fam, f.name) for f in dataclasses.fields(fam)})
    assert not np.allclose(jax.jit(jax.vmap(perturbed.log_base_measure))(x), c)
    np.testing.assert_array_equal(ef.posterior_logits(perturbed, params, priors, x), logits)


@pytest.mark.parametrize("case", CASES, ids=case_ids)
def test_natural_and_mean_parameters_are_inverse(case):
    params, _, _ = draw(case, 7)
    fam = case.family
    roundtrip = jax.jit(
        lambda p: jax.vmap(fam.mean_parameters)(jax.vmap(fam.natural_parameters)(p))
    )
    np.testing.assert_allclose(roundtrip(params), params, rtol=2e-5, atol=1e-6)


# Samplers serve bayes_confusion_monte_carlo and jaxsoftmax.problems.sample; the discrete ones
# are slow to compile.
FAST_SAMPLERS = ("gaussian_shared_covariance", "gaussian_isotropic", "bernoulli", "poisson")


@pytest.mark.parametrize(
    "case",
    [c if c.id in FAST_SAMPLERS else pytest.param(c, marks=pytest.mark.slow) for c in CASES],
    ids=case_ids,
)
def test_sampler_mean_and_support(case):
    params, _, _ = draw(case, 9, q=1)
    n = 20_000
    xs = jax.jit(case.family.sample, static_argnums=2)(jax.random.key(0), params[0], (n,))
    assert xs.shape == (n, *params.shape[1:]) and xs.dtype == jnp.float32
    xs = np.asarray(xs, np.float64)
    se = xs.std(0) / np.sqrt(n)
    assert np.all(np.abs(xs.mean(0) - case.mean(params[0].astype(np.float64))) < 5 * se + 1e-9)
    for c in case.family.support_constraints(jnp.asarray(xs, jnp.float32)):
        assert np.all(c.ok), c.expected


@pytest.mark.parametrize(
    "case",
    [c if c.id in FAST_SAMPLERS else pytest.param(c, marks=pytest.mark.slow) for c in CASES],
    ids=case_ids,
)
def test_sampler_takes_one_parameter_row_per_observation(case):
    # jaxsoftmax.problems.sample passes each observation's class parameters, (B, *P), shape ().
    params, _, _ = draw(case, 9, q=3)
    n = 4000
    rows = np.repeat(params, n, axis=0)  # (3n, *P): class 0's n rows, then class 1's, ...
    xs = jax.jit(case.family.sample, static_argnums=2)(jax.random.key(1), rows, ())
    assert xs.shape == rows.shape and xs.dtype == jnp.float32
    xs = np.asarray(xs, np.float64).reshape(3, n, *params.shape[1:])
    for k in range(3):  # each block has its own class's mean, not another's
        se = xs[k].std(0) / np.sqrt(n)
        err = np.abs(xs[k].mean(0) - case.mean(params[k].astype(np.float64)))
        assert np.all(err < 5 * se + 1e-9), (k, err, se)
    more = case.family.sample(jax.random.key(1), rows[:4], (2,))
    assert more.shape == (2, *rows[:4].shape)


def test_family_specialisations_agree():
    rng = np.random.default_rng(4)
    x = rng.exponential(1.0, (5, 2)).astype(F32)
    mu = rng.uniform(0.5, 3, (3, 2)).astype(F32)
    np.testing.assert_allclose(
        ef.posterior(ef.gamma(1.0), mu, None, x),
        ef.posterior(ef.exponential(), mu, None, x),
        rtol=1e-6,
    )
    p = rng.uniform(0.1, 0.9, (3, 2)).astype(F32)
    bits = rng.integers(0, 2, (5, 2)).astype(F32)
    np.testing.assert_allclose(
        ef.posterior(ef.bernoulli(), p, None, bits),
        ef.posterior(ef.binomial(1), p, None, bits),
        rtol=1e-6,
    )
    # Categorical on one-hot x over 2 categories = Bernoulli on the second coordinate.
    two = np.stack([1 - p[:, 0], p[:, 0]], -1)
    onehot = np.eye(2, dtype=F32)[bits[:, 0].astype(int)]
    np.testing.assert_allclose(
        ef.posterior(ef.categorical(), two, None, onehot),
        ef.posterior(ef.bernoulli(), p[:, :1], None, bits[:, :1]),
        rtol=1e-5,
    )


def test_priors_can_be_logs_weights_or_none():
    fam, x = ef.poisson(), np.array([[0.0, 2.0], [5.0, 1.0]], F32)
    lam = np.array([[1.0, 2.0], [3.0, 0.5], [2.0, 2.0]], F32)
    pri = np.array([0.2, 0.5, 0.3], F32)
    ref = ef.posterior(fam, lam, pri, x)
    np.testing.assert_allclose(jnp.exp(ef.log_posterior(fam, lam, pri, x)), ref, rtol=1e-5)
    np.testing.assert_allclose(
        ef.posterior(fam, lam, ef.LogPriors(np.log(pri) + 3.0), x), ref, rtol=1e-6
    )
    np.testing.assert_allclose(ef.posterior(fam, lam, ef.PriorWeights(40 * pri), x), ref, rtol=1e-6)
    np.testing.assert_allclose(
        ef.posterior(fam, lam, None, x),
        ef.posterior(fam, lam, np.full(3, 1 / 3, F32), x),
        rtol=1e-6,
    )
    # A zero prior removes the class; weights and log-priors are normalised, so the logits
    # (log P(x, C_k) − c(x)) are the same whichever form the priors take.
    out = ef.posterior(fam, lam, np.array([0.0, 0.5, 0.5], F32), x)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_allclose(
        ef.posterior_logits(fam, lam, ef.PriorWeights(40 * pri), x),
        ef.posterior_logits(fam, lam, ef.LogPriors(np.log(pri) - 5.0), x),
        rtol=1e-5,
    )


def test_integer_counts_and_empty_batches():
    lam = np.array([1.0, 4.0], F32)
    z = ef.posterior_logits(ef.poisson(), lam, None, jnp.array([0, 3, 9]))
    assert z.shape == (3, 2) and z.dtype == jnp.float32
    assert ef.posterior(ef.poisson(), lam, None, jnp.zeros((0,), F32)).shape == (0, 2)
    fam = ef.gaussian_shared_covariance(np.eye(2, dtype=F32))
    assert ef.posterior(fam, PAPER_MEANS, None, jnp.zeros((2, 0, 2), F32)).shape == (2, 0, 4)
    assert ef.posterior(fam, PAPER_MEANS, None, jnp.ones(2, F32)).shape == (4,)


def test_far_apart_classes_stay_finite():
    fam = ef.gaussian_shared_covariance(np.eye(2, dtype=F32))
    means = 1e3 * PAPER_MEANS
    out = ef.posterior(fam, means, None, means)
    np.testing.assert_allclose(out, np.eye(4), atol=1e-6)
    assert np.all(np.isfinite(ef.posterior_logits(fam, means, None, means)))


def test_a_user_defined_family_needs_nothing_else():
    # Log-normal with a shared σ²: T(x) = log x (not linear in x, linear in T), θ = μ,
    # b = θ²/2, a = σ², c = −(log x)²/(2σ²) − ½ log(2πσ²) − log x.
    @dataclasses.dataclass(frozen=True, eq=False)
    class LogNormal(ef.ExponentialFamily):
        variance: jax.Array

        def sufficient_statistic(self, x):
            return jnp.log(x)

        def natural_parameters(self, params):
            return params

        def mean_parameters(self, theta):
            return theta

        def log_partition(self, theta):
            return 0.5 * jnp.sum(theta**2)

        def dispersion(self):
            return self.variance

        def log_base_measure(self, x):
            lx = jnp.log(x)
            return jnp.sum(
                -0.5 * lx**2 / self.variance - 0.5 * jnp.log(2 * jnp.pi * self.variance) - lx
            )

    fam = LogNormal(jnp.asarray(0.8, jnp.float32))
    mu = np.array([-0.5, 0.0, 1.0], F32)
    x = np.array([0.3, 1.0, 2.5, 7.0], F32)
    pri = np.array([0.5, 0.3, 0.2], F32)
    ref = np.stack([jss.norm.logpdf(np.log(x), m, np.sqrt(F32(0.8))) - np.log(x) for m in mu], -1)
    np.testing.assert_allclose(ef.class_log_densities(fam, mu, x), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ef.posterior(fam, mu, pri, x), np_softmax(ref + np.log(pri)), rtol=1e-5
    )
    np.testing.assert_allclose(
        jax.jit(ef.posterior)(fam, mu, pri, x), ef.posterior(fam, mu, pri, x), rtol=1e-6
    )


# --------------------------------------------------------------------------------------------
# Gaussians: scikit-learn's LDA and QDA; unequal covariances are refused
# --------------------------------------------------------------------------------------------


def _three_gaussians(seed, q=3, p=3, n=60):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(q, p)) * 1.5
    chol = np.linalg.cholesky(_spd(rng, p).astype(np.float64))
    y = np.repeat(np.arange(q), [n, n // 2, 2 * n][:q])
    return rng.normal(size=(len(y), p)) @ chol.T + means[y], y


@pytest.mark.parametrize("solver", ["lsqr", "svd"])
def test_shared_covariance_logits_are_sklearn_lda(solver):
    x, y = _three_gaussians(0)
    lda = LinearDiscriminantAnalysis(solver=solver, store_covariance=True).fit(x, y)
    fam = ef.gaussian_shared_covariance(lda.covariance_.astype(F32))
    xs = x.astype(F32)
    z = ef.posterior_logits(fam, lda.means_.astype(F32), lda.priors_.astype(F32), xs)
    ref = lda.decision_function(x)  # equal to our logits up to a per-row constant
    centred = lambda v: np.asarray(v, np.float64) - np.mean(v, -1, keepdims=True)
    np.testing.assert_allclose(centred(z), centred(ref), atol=2e-3 * np.abs(ref).max())
    np.testing.assert_allclose(
        ef.posterior(fam, lda.means_.astype(F32), lda.priors_.astype(F32), xs),
        lda.predict_proba(x),
        atol=1e-4,
    )


def test_two_class_lda_decision_is_our_log_odds():
    x, y = _three_gaussians(1, q=2)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(x, y)
    fam = ef.gaussian_shared_covariance(lda.covariance_.astype(F32))
    z = ef.posterior_logits(fam, lda.means_.astype(F32), lda.priors_.astype(F32), x.astype(F32))
    ref = lda.decision_function(x)
    np.testing.assert_allclose(z[:, 1] - z[:, 0], ref, atol=2e-3 * np.abs(ref).max())
    w, b = ef.affine_logits(fam, lda.means_.astype(F32), lda.priors_.astype(F32))
    np.testing.assert_allclose(w[1] - w[0], lda.coef_[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(b[1] - b[0], lda.intercept_[0], rtol=1e-4, atol=1e-4)


def test_unequal_covariances_are_refused_with_the_reason():
    covs = np.stack([np.eye(2), 2 * np.eye(2), np.eye(2), np.eye(2)]).astype(F32)
    with pytest.raises(
        ValueError,
        match=r"common[\s\S]*eq\. 3[\s\S]*quadratic[\s\S]*gaussian_bayes_posterior_logits",
    ):
        ef.gaussian_shared_covariance(covs)
    # Equal per-class covariances are the shared one.
    same = ef.gaussian_shared_covariance(np.stack([COV3] * 3))
    np.testing.assert_array_equal(same.cov, COV3)


def test_quadratic_bayes_posterior_matches_densities_and_sklearn_qda():
    x, y = _three_gaussians(2)
    qda = QuadraticDiscriminantAnalysis(store_covariance=True).fit(x, y)
    means, covs = qda.means_.astype(F32), np.stack(qda.covariance_).astype(F32)
    pri, xs = qda.priors_.astype(F32), x.astype(F32)
    z = ef.gaussian_bayes_posterior_logits(means, covs, pri, xs)
    mvn = jax.vmap(jss.multivariate_normal.logpdf, (0, None, None))
    ref = np.stack([mvn(xs, means[k], covs[k]) for k in range(3)], -1)
    np.testing.assert_allclose(z, ref + np.log(pri), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        ef.gaussian_bayes_posterior(means, covs, pri, xs), qda.predict_proba(x), atol=2e-4
    )
    # With one covariance it is the shared-covariance posterior.
    fam = ef.gaussian_shared_covariance(COV3)
    np.testing.assert_allclose(
        ef.gaussian_bayes_posterior(means, COV3, pri, xs),
        ef.posterior(fam, means, pri, xs),
        atol=1e-5,
    )


# --------------------------------------------------------------------------------------------
# Bad input: each names the argument, the shape or value, and what was expected
# --------------------------------------------------------------------------------------------

EYE2 = np.eye(2, dtype=F32)
X2 = np.zeros((5, 2), F32)


@pytest.mark.parametrize(
    ("priors", "match"),
    [
        (np.array([0.5, 0.5, 0.1, -0.1], F32), r"priors must be non-negative.*priors\[3\] = -0\.1"),
        (
            np.full(4, 0.3, F32),
            r"priors must be probabilities summing to one.*sum\(priors\) = 1\.2",
        ),
        (np.full(3, 1 / 3, F32), r"priors must have shape \(4,\).*got shape \(3,\)"),
        (np.array([0.25, 0.25, np.nan, 0.5], F32), r"priors must be non-negative and finite.*nan"),
        (ef.PriorWeights(np.zeros(4, F32)), r"priors must be weights of positive sum"),
        (ef.LogPriors(np.array([0, np.nan, 0, 0], F32)), r"priors must be < \+inf and not NaN"),
    ],
)
def test_bad_priors(priors, match):
    fam = ef.gaussian_shared_covariance(EYE2)
    with pytest.raises(ValueError, match=match):
        ef.posterior(fam, PAPER_MEANS, priors, X2)


def test_bad_shapes():
    fam = ef.gaussian_shared_covariance(EYE2)
    with pytest.raises(
        ValueError, match=r"x must have shape \(\.\.\., 2\).*got x with shape \(5, 3\)"
    ):
        ef.posterior(fam, PAPER_MEANS, None, np.zeros((5, 3), F32))
    with pytest.raises(ValueError, match=r"must have shape \(q, 2\) to match cov.*shape \(3,\)"):
        ef.posterior(fam, np.zeros((4, 3), F32), None, X2)
    with pytest.raises(
        ValueError,
        match=r"class_params\[1\] has shape \(3,\) but class_params\[0\] has shape \(2,\)",
    ):
        ef.posterior(fam, [[1.0, 1.0], [1.0, 1.0, 1.0]], None, X2)
    with pytest.raises(ValueError, match=r"class_params must stack q >= 1 classes.*shape \(\)"):
        ef.posterior(ef.poisson(), 3.0, None, X2)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\).*\(5, 2\)"):
        ef.posterior(ef.poisson(), np.ones((2, 3), F32), None, X2)
    with pytest.raises(ValueError, match=r"probabilities of shape \(q, m\)"):
        ef.posterior(ef.categorical(), np.full((2, 2, 2), 0.5, F32), None, X2)
    with pytest.raises(ValueError, match=r"means must have shape \(q, p\) and covs"):
        ef.gaussian_bayes_posterior_logits(PAPER_MEANS, np.stack([EYE2] * 3), None, X2)
    with pytest.raises(ValueError, match=r"variance must be a scalar.*shape \(2,\)"):
        ef.gaussian_isotropic(np.ones(2, F32))


def test_bad_types():
    with pytest.raises(TypeError, match=r"family must be an ExponentialFamily.*got str"):
        ef.posterior("gaussian", PAPER_MEANS, None, X2)
    with pytest.raises(TypeError, match=r"x must be real floating, got complex"):
        ef.posterior(ef.gaussian_shared_covariance(EYE2), PAPER_MEANS, None, X2 + 1j)


@pytest.mark.parametrize(
    ("cov", "match"),
    [
        ([[1.0, 0.5], [0.0, 1.0]], r"cov must be symmetric.*\|cov - cov\.T\|\[0, 1\] = 0\.5"),
        ([[1.0, 2.0], [2.0, 1.0]], r"cov must be positive definite.*eigvalsh\(cov\)\[0\] = -1"),
        ([[1.0, 0.0], [0.0, 0.0]], r"cov must be positive definite"),
        ([[1.0, np.nan], [np.nan, 1.0]], r"cov must be finite"),
        (np.ones((2, 3)), r"cov must be a square \(p, p\) matrix, got shape \(2, 3\)"),
    ],
)
def test_bad_covariance(cov, match):
    with pytest.raises(ValueError, match=match):
        ef.gaussian_shared_covariance(np.asarray(cov, F32))


def test_bad_covariances_for_the_quadratic_path():
    covs = np.stack([EYE2, -EYE2, EYE2, EYE2])
    with pytest.raises(
        ValueError, match=r"covs must be positive definite.*eigvalsh\(covs\)\[1, 0\] = -1"
    ):
        ef.gaussian_bayes_posterior_logits(PAPER_MEANS, covs, None, X2)


@pytest.mark.parametrize(
    ("family", "params", "x", "match"),
    [
        (
            ef.poisson(),
            [1.0, -2.0],
            [1.0],
            r"class_params must be positive and finite.*class_params\[1\] = -2",
        ),
        (ef.poisson(), [1.0, 2.0], [1.5], r"x must be non-negative integers.*x\[0\] = 1\.5"),
        (
            ef.bernoulli(),
            [[0.5], [1.5]],
            [[1.0]],
            r"open interval \(0, 1\).*class_params\[1, 0\] = 1\.5",
        ),
        (ef.bernoulli(), [[0.5], [0.0]], [[1.0]], r"open interval \(0, 1\).*= 0"),
        (ef.bernoulli(), [[0.5], [0.2]], [[2.0]], r"x must be 0 or 1.*x\[0, 0\] = 2"),
        (ef.binomial(4), [0.5, 0.2], [5.0], r"x must be integers in \[0, n_trials\].*= 5"),
        (
            ef.categorical(),
            [[0.5, 0.6], [0.5, 0.5]],
            [[1.0, 0.0]],
            r"summing to one.*sum\(class_params, -1\)\[0\] = 1\.1",
        ),
        (ef.categorical(), [[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0]], r"positive \(an open simplex"),
        (
            ef.multinomial(3),
            [[0.5, 0.5], [0.2, 0.8]],
            [[1.0, 1.0]],
            r"x must be counts summing to n_trials.*sum\(x, -1\)\[0\] = 2",
        ),
        (ef.exponential(), [1.0, -1.0], [1.0], r"class_params must be positive"),
        (ef.exponential(), [1.0, 2.0], [-1.0], r"x must be non-negative.*x\[0\] = -1"),
        (ef.gamma(2.0), [1.0, np.inf], [1.0], r"positive and finite.*= inf"),
        (ef.geometric(), [0.5, 1.0], [1.0], r"open interval"),
        (ef.geometric(), [0.5, 0.3], [0.0], r"x must be positive integers"),
        (ef.negative_binomial(2.0), [0.5, 0.3], [-1.0], r"x must be non-negative integers"),
        (ef.gaussian_isotropic(1.0), [[0.0], [np.inf]], [[1.0]], r"class_params must be finite"),
    ],
)
def test_parameters_and_points_outside_the_domain(family, params, x, match):
    with pytest.raises(ValueError, match=match):
        ef.posterior(family, np.asarray(params, F32), None, np.asarray(x, F32))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ef.gaussian_isotropic(-1.0), r"gaussian_isotropic: variance must be positive.*-1"),
        (lambda: ef.gamma(0.0), r"gamma: shape must be positive"),
        (lambda: ef.negative_binomial(-1.0), r"negative_binomial: r must be positive"),
        (lambda: ef.binomial(2.5), r"binomial: n_trials must be a positive integer.*2\.5"),
        (lambda: ef.multinomial(0), r"multinomial: n_trials must be a positive integer"),
    ],
)
def test_bad_shared_scale(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_monte_carlo_arguments_are_checked():
    fam = ef.gaussian_shared_covariance(EYE2)
    with pytest.raises(ValueError, match=r"n_per_class must be an int >= 2, got 1"):
        ef.bayes_confusion_monte_carlo(jax.random.key(0), fam, PAPER_MEANS, None, n_per_class=1)


# --------------------------------------------------------------------------------------------
# Transformations: jit, vmap, grad, checkify
# --------------------------------------------------------------------------------------------


def test_jit_and_vmap_over_parameter_sets():
    fam = ef.gaussian_shared_covariance(COV3)
    rng = np.random.default_rng(0)
    means = rng.normal(size=(5, 4, 3)).astype(F32)
    x = rng.normal(size=(7, 3)).astype(F32)
    pri = np.full(4, 0.25, F32)
    loop = np.stack([ef.posterior(fam, m, pri, x) for m in means])
    np.testing.assert_allclose(
        jax.vmap(ef.posterior, (None, 0, None, None))(fam, means, pri, x), loop, rtol=1e-5
    )
    np.testing.assert_allclose(jax.jit(ef.posterior)(fam, means[0], pri, x), loop[0], rtol=1e-5)
    # The family is a pytree: vmap over covariances, building the family inside.
    covs = np.stack([COV3, 2 * COV3, np.eye(3, dtype=F32)])
    vm = jax.jit(
        jax.vmap(lambda c: ef.posterior(ef.gaussian_shared_covariance(c), means[0], pri, x))
    )(covs)
    for c, out in zip(covs, vm, strict=True):
        np.testing.assert_allclose(
            out,
            ef.posterior(ef.gaussian_shared_covariance(c), means[0], pri, x),
            rtol=1e-5,
            atol=1e-6,
        )
    # ... or over a stacked family directly.
    stacked = jax.tree.map(
        lambda *v: jnp.stack(v), *[ef.gaussian_shared_covariance(c) for c in covs]
    )
    np.testing.assert_allclose(
        jax.vmap(ef.posterior, (0, None, None, None))(stacked, means[0], pri, x), vm, rtol=1e-5
    )


def test_gradients():
    fam = ef.gaussian_shared_covariance(COV3)
    rng = np.random.default_rng(1)
    means = jnp.asarray(rng.normal(size=(3, 3)), jnp.float32)
    x = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)
    pri = jnp.asarray([0.2, 0.3, 0.5], jnp.float32)
    check_grads(
        lambda m, v: ef.posterior(fam, m, pri, v),
        (means, x),
        order=1,
        modes=["rev"],
        atol=1e-2,
        rtol=1e-2,
    )
    # d/dx of the log-odds is W_j − W_k = Σ⁻¹(μ_j − μ_k): the Jacobian of a linear map.
    g = jax.grad(lambda v: (lambda z: z[0] - z[1])(ef.posterior_logits(fam, means, pri, v)))(x[0])
    np.testing.assert_allclose(g, np.linalg.solve(COV3, means[0] - means[1]), rtol=1e-4, atol=1e-5)


def test_values_are_not_checked_under_jit_but_checkify_reports_them():
    fam = ef.gaussian_shared_covariance(EYE2)
    bad = np.array([0.5, 0.5, 0.5, -0.5], F32)
    jax.jit(ef.posterior_logits)(fam, PAPER_MEANS, bad, X2)  # documented: no raise under jit
    err, _ = jax.jit(ef.checked_posterior_logits)(fam, PAPER_MEANS, bad, X2)
    assert "priors must be non-negative" in err.get()
    with pytest.raises(Exception, match="priors must be non-negative"):
        err.throw()
    err, z = jax.jit(ef.checked_posterior_logits)(fam, PAPER_MEANS, np.full(4, 0.25, F32), X2)
    assert err.get() is None
    np.testing.assert_allclose(
        z, ef.posterior_logits(fam, PAPER_MEANS, np.full(4, 0.25, F32), X2), rtol=1e-6
    )


@pytest.mark.parametrize(
    ("family", "params", "x", "match"),
    [
        (ef.poisson(), [1.0, -2.0], [1.0], r"class_params must be positive and finite"),
        (ef.poisson(), [1.0, 2.0], [1.5], r"x must be non-negative integers.*1\.5"),
        (
            ef.GaussianSharedCovariance(jnp.asarray([[1.0, 2.0], [2.0, 1.0]])),
            [[0.0, 0.0], [1.0, 1.0]],
            [[0.0, 0.0]],
            r"cov must be positive definite",
        ),
        (
            ef.categorical(),
            [[0.5, 0.6], [0.5, 0.5]],
            [[1.0, 0.0]],
            r"summing to one over the categories",
        ),
    ],
)
def test_checkify_entry_point_reports_bad_values(family, params, x, match):
    err, _ = jax.jit(ef.checked_posterior_logits)(
        family, np.asarray(params, F32), None, np.asarray(x, F32)
    )
    assert err.get() is not None
    with pytest.raises(Exception, match=match):
        err.throw()


# --------------------------------------------------------------------------------------------
# The paper's four-Gaussian problem and its Table 3
# --------------------------------------------------------------------------------------------

TABLE_3 = np.array(
    [
        [0.7079, 0.1335, 0.1335, 0.0252],
        [0.1335, 0.7079, 0.0252, 0.1335],
        [0.1335, 0.0252, 0.7079, 0.1335],
        [0.0252, 0.1335, 0.1335, 0.7079],
    ]
)


def quadrant_rates(means):
    """P(decide j | i) when the Bayes regions are the quadrants.

    x_d ~ N(μ_{i,d}, 1) independently and j is decided iff sign(x) = sign(μ_j), so
    R_ij = Π_d Φ(sign(μ_{j,d}) μ_{i,d}).
    """
    s = np.sign(means)
    return np.prod(ndtr(s[None, :, :] * means[:, None, :]), -1)


def test_paper_problem_in_two_lines(device):
    fam = ef.gaussian_shared_covariance(jnp.eye(2))
    out = ef.posterior(fam, PAPER_MEANS, jnp.full(4, 0.25), jnp.array([[0.3, 0.1], [-2.0, -0.5]]))
    assert out.devices() == {device}
    # Independent route: the posterior factorises into logistic(2 x_1) and logistic(2 x_2) terms.
    x = np.array([[0.3, 0.1], [-2.0, -0.5]])
    s = 1 / (1 + np.exp(-2 * x))  # P(sign +1 | x_d) per coordinate
    ref = np.stack(
        [
            s[:, 0] * s[:, 1],
            (1 - s[:, 0]) * s[:, 1],
            s[:, 0] * (1 - s[:, 1]),
            (1 - s[:, 0]) * (1 - s[:, 1]),
        ],
        -1,
    )
    np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_poisson_counts_on_each_device(device):
    lam = jnp.array([[1.0, 5.0], [4.0, 1.0]])
    out = ef.posterior(
        ef.poisson(), lam, jnp.array([0.3, 0.7]), jnp.array([[0.0, 6.0], [5.0, 0.0]])
    )
    assert out.devices() == {device}
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-6)
    assert out[0, 0] > 0.99 and out[1, 1] > 0.99


def test_table_3_to_four_decimals():
    # Φ(1)² = 0.7079, Φ(1)Φ(−1) = 0.1335, Φ(−1)² = 0.0252 (the paper's Table 3).
    np.testing.assert_array_equal(
        np.round(quadrant_rates(PAPER_MEANS.astype(np.float64)), 4), TABLE_3
    )
    # The library's Bayes rule decides by quadrant, so the formula applies to it.
    fam = ef.gaussian_shared_covariance(jnp.eye(2))
    x = np.random.default_rng(0).normal(size=(2000, 2)).astype(F32) * 2
    decided = np.argmax(ef.posterior_logits(fam, PAPER_MEANS, jnp.full(4, 0.25), x), -1)
    quadrant = np.argmax((np.sign(x)[:, None, :] == np.sign(PAPER_MEANS)[None]).all(-1), -1)
    np.testing.assert_array_equal(decided, quadrant)


def test_table_3_by_monte_carlo_within_four_standard_errors():
    fam = ef.gaussian_shared_covariance(jnp.eye(2))
    est = ef.bayes_confusion_monte_carlo(
        jax.random.key(1997), fam, PAPER_MEANS, jnp.full(4, 0.25), n_per_class=200_000
    )
    exact = quadrant_rates(PAPER_MEANS.astype(np.float64))
    np.testing.assert_allclose(est.rates.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.asarray(est.stderr) < 1.2e-3)
    assert np.all(np.abs(np.asarray(est.rates) - exact) < 4 * np.asarray(est.stderr))


def test_monte_carlo_rates_for_a_discrete_family_with_ties():
    # Two Bernoulli classes that differ in the first bit only (the second bit contributes the
    # same to both logits): with equal priors class 0 (p = 0.2) is decided iff x_1 = 0, so
    # R = [[0.8, 0.2], [0.3, 0.7]].
    p = np.array([[0.2, 0.5], [0.7, 0.5]], F32)
    est = ef.bayes_confusion_monte_carlo(
        jax.random.key(0), ef.bernoulli(), p, None, n_per_class=50_000
    )
    exact = np.array([[0.8, 0.2], [0.3, 0.7]])
    assert np.all(np.abs(np.asarray(est.rates) - exact) < 4 * np.asarray(est.stderr) + 1e-6)
    # Identical classes tie everywhere: the decision is shared equally.
    est = ef.bayes_confusion_monte_carlo(
        jax.random.key(0), ef.bernoulli(), p[:1].repeat(2, 0), None, n_per_class=50_000
    )
    np.testing.assert_allclose(est.rates, 0.5)


def test_an_incomplete_family_is_refused_at_construction():
    # ExponentialFamily is abstract: a subclass that misses part of (T, θ, θ⁻¹, b, c) cannot be
    # made, so the error comes when the family is defined and used, not deep inside a jit.
    @dataclasses.dataclass(frozen=True, eq=False)
    class OnlyT(ef.ExponentialFamily):
        def sufficient_statistic(self, x):
            return x

    with pytest.raises(TypeError, match="abstract methods log_base_measure, log_partition"):
        OnlyT()
