"""``problem.family`` through the engine: every family's samples come from their own class's
parameters and the engine's exact posterior is the constructor's (jaxsoftmax.problems), the
report says whether the posterior is softmax-affine (and that QDA's is not), a real data set's
test split is disjoint from its training split, eq. (4) is reported unavailable for it, a
plugin's family runs, and bad problem settings are refused with a clear error.

Tiny configurations (a few steps, two hidden units): each family costs one compilation.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsoftmax import cli, datasets, gaussians, mlp, problems
from jaxsoftmax import config as C
from jaxsoftmax import experiment as X
from jaxsoftmax.cli import report as R
from jaxsoftmax.pairings import get_pairing

STRICT_PROMOTION = False  # optax inside (see conftest.py)

# The families of the example sweep (default suite); the rest run in the slow suite.
SWEPT = {
    "gaussian_heteroscedastic": 2,
    "poisson": 2,
    "bernoulli": 4,
}
OTHERS = [f for f in problems.FAMILIES if f not in SWEPT and f != "gaussian"]
TRIALS = 3
BASE = {
    "trials": TRIALS,
    "seed": 5,
    "problem.n_per_class": 150,
    "problem.n_test_per_class": 60,
    "model.hidden": 2,
    "training.steps": 2,
    "estimators": ["softmax/cross_entropy"],
}


def _config(family: str, n_inputs: int = 2, **more) -> C.Config:
    return C.from_dict({**BASE, "problem.family": family, "problem.n_inputs": n_inputs, **more})


def _run(config: C.Config) -> dict:
    return X.run(config, keep=True)


# An independent construction of each family's default problem, from the public recipes and
# constructors (not through the configuration or problems.build).
def _by_hand(family: str, n_inputs: int) -> problems.Problem:
    return {
        "gaussian_heteroscedastic": lambda: problems.gaussian_heteroscedastic(4, 2.0, 2),
        "poisson": lambda: problems.poisson_grid(4, 2, 2.0, 8.0),
        "bernoulli": lambda: problems.bernoulli_features(4, n_inputs, 0.6),
    }[family]()


def _class_means(prob: problems.Problem) -> np.ndarray:
    """E[x | C_k]: the class parameters are the means for every family here."""
    return np.asarray(prob.class_params, float)


@pytest.fixture(scope="module", params=list(SWEPT))
def family_run(request):
    family = request.param
    config = _config(family, SWEPT[family])
    return family, config, _run(config)


def test_engine_samples_every_class_from_its_own_parameters(family_run):
    # Bug caught: the engine's samples labelled with another class's index (labels shifted,
    # regrouped, or drawn from the wrong class's parameters) — not only in problems.sample
    # but in experiment.setup's use of it. Pooled over trials, each class's sample mean (and,
    # for QDA, variance) must match its own parameters within 5 standard errors; a neighbour's
    # are 10+ standard errors away.
    family, config, raw = family_run
    prob = _by_hand(family, config.problem.n_inputs)
    means = _class_means(prob)
    data = raw["_data"]
    samples = ((data["x"], data["y"], True), (data["x_test"], data["y_test"], False))
    for xs, ys, training in samples:
        xs, ys = np.asarray(xs, float), np.asarray(ys)
        for k in range(prob.n_classes):
            xk = xs[ys == k]
            assert len(xk) == TRIALS * len(ys[0]) // prob.n_classes
            se = xk.std(axis=0, ddof=1) / np.sqrt(len(xk)) + 1e-12
            z = np.abs(xk.mean(axis=0) - means[k]) / se
            assert np.all(z < 5), (family, k, xk.mean(axis=0), means[k], z)
            if training and isinstance(prob.family, problems.GaussianClassCovariances):
                # Variances on the (larger) training sample: 0.25 is 3.7 standard errors,
                # a neighbour's variance is 37-58% off.
                var = np.asarray(prob.family.covs)[k].diagonal()
                ratio = xk.var(axis=0, ddof=1) / var
                assert np.all(np.abs(ratio - 1) < 0.25), (family, k, ratio)


def test_engine_exact_posterior_is_the_constructors(family_run):
    # Bug caught: the engine scoring against another posterior than the configured problem's
    # (e.g. the paper's Gaussian posterior for every family, or a problem built with other
    # parameters): eq. (4) and the Bayes rule's error must be those of the constructor's
    # posterior at the engine's own test points.
    family, config, raw = family_run
    prob = _by_hand(family, config.problem.n_inputs)
    spec, hyper = X.spec_of(config), X.hyper_of(config)
    engine = X.problem(spec, hyper)
    assert engine == prob
    x_test = jnp.asarray(raw["_data"]["x_test"])
    y_test = np.asarray(raw["_data"]["y_test"])
    exact = jax.vmap(lambda x: problems.posterior(prob, x))(x_test)
    bayes = np.mean(np.argmax(np.asarray(exact), -1) != y_test, axis=-1)
    np.testing.assert_allclose(raw["bayes_error_rate"], bayes, rtol=0, atol=1e-7)
    pairing = get_pairing(config.estimators[0])
    params = raw["_params"][0]  # estimator 0, leaves (trials, …)
    est = jax.vmap(lambda p, x: pairing.activate(mlp.apply(p, x)))(params, x_test)
    eq4 = jax.vmap(gaussians.posterior_error)(est, exact)
    np.testing.assert_allclose(raw["eq4"][:, 0], np.asarray(eq4), rtol=2e-6)
    assert np.all(np.isfinite(raw["log_loss"])) and np.all(raw["ece"] >= 0)


@pytest.fixture(scope="module")
def iris_run():
    config = C.from_dict({**BASE, "problem.family": "data", "problem.dataset": "iris"})
    return config, _run(config)


def test_real_data_test_split_is_disjoint_from_training_through_the_engine(iris_run):
    # Bug caught: the engine's test split overlapping its training split on a real data set
    # (same permutation slice for both, or test points taken from the training rows): the
    # splits' rows must be disjoint and cover the data once, and the engine's x/x_test must
    # be exactly those rows, standardised on the training rows.
    config, raw = iris_run
    ds = datasets.load("iris")
    assert (config.problem.n_classes, config.problem.n_inputs) == (3, 4)
    data = raw["_data"]
    n_test = datasets.n_test_for(len(ds.y), config.problem.test_fraction)
    for t in range(TRIALS):
        train, test = np.asarray(data["train_index"][t]), np.asarray(data["test_index"][t])
        assert len(test) == n_test and not set(train) & set(test)
        assert sorted([*train, *test]) == list(range(len(ds.y)))
        want_train, want_test = datasets.standardize(ds.x[train], ds.x[test])
        np.testing.assert_allclose(data["x"][t], want_train, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(data["x_test"][t], want_test, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(data["y_test"][t], ds.y[test])
    trains = [frozenset(np.asarray(data["test_index"][t]).tolist()) for t in range(TRIALS)]
    assert len(set(trains)) == TRIALS  # a split per trial, from the trial's key
    # No exact posterior: eq. (4) and the Bayes rule are unavailable (NaN, reported so).
    assert np.all(np.isnan(raw["eq4"])) and np.all(np.isnan(raw["bayes_error_rate"]))
    assert np.all(np.isfinite(raw["log_loss"]) & np.isfinite(raw["brier"]))


def _reproduce(tmp_path: Path, *flags: str) -> tuple[str, dict]:
    """``jaxsoftmax reproduce`` with BASE's settings (the engine fixtures' compiled programs
    are reused: the same spec and batch)."""
    out = tmp_path / "run"
    argv = ["reproduce"]
    for key, value in BASE.items():
        argv += [f"--{key}", json.dumps(value) if isinstance(value, list) else str(value)]
    code = cli.main([*argv, *flags, "--out", str(out), "--no-cache", "--quiet", "--no-plots"])
    assert code == 0
    return (out / "report.md").read_text(), json.loads((out / "results.json").read_text())


def test_a_qda_run_reports_its_posterior_is_not_softmax_affine(tmp_path):
    # Bug caught: the report (or results.json) calling QDA's quadratic-logit posterior
    # softmax-affine, e.g. is_softmax_affine asked of the wrong problem or the verdict inverted.
    text, results = _reproduce(tmp_path, "--problem.family", "gaussian_heteroscedastic")
    assert "is **not softmax-affine** in x" in text and "**is softmax-affine**" not in text
    assert results["problem"]["softmax_affine"] is False
    assert "log_loss" in results["per_trial"]["softmax/cross_entropy"]
    assert "15 equal-width bins" in text


def test_a_poisson_problem_is_reported_softmax_affine():
    # Bug caught: the inverse of the QDA test (every problem called not affine).
    facts = X.problem_summary(_config("poisson"))
    assert facts == {
        "family": "poisson",
        "name": "poisson_grid",
        "n_classes": 4,
        "n_inputs": 2,
        "exact_posterior": True,
        "softmax_affine": True,
    }
    assert "The exact posterior **is softmax-affine** in x" in "\n".join(R.problem_section(facts))


def test_a_real_data_run_reports_eq4_unavailable_and_the_other_scores(tmp_path):
    # Bug caught: a data run printing NaN (or 0) as eq. (4), or dropping the scores.
    text, results = _reproduce(
        tmp_path, "--problem.family", "data", "--problem.dataset", "wine", "--seeds", "2"
    )
    assert "## Table 2: eq. (4) — unavailable" in text
    assert "nan" not in text.lower()
    assert "| softmax + cross-entropy | " in text and "Brier" in text and "ECE" in text
    assert "**Ranking** by mean log-loss" not in text  # one estimator: no ranking
    assert results["summary"]["eq4_available"] is False
    assert results["summary"]["across_seeds"]["metric"] == "log_loss"
    assert results["problem"]["exact_posterior"] is False


RAYLEIGH = textwrap.dedent(
    '''
    """A user's family: independent Rayleigh variables with a shared form, T(x) = x²."""
    import dataclasses

    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    from jaxsoftmax import expfamily, problems


    @dataclasses.dataclass(frozen=True, eq=False)
    class Rayleigh(expfamily.ExponentialFamily):
        def sufficient_statistic(self, x):
            return x**2

        def natural_parameters(self, params):  # params: σ² per coordinate
            return -0.5 / params

        def mean_parameters(self, theta):
            return -0.5 / theta

        def log_partition(self, theta):
            return -jnp.sum(jnp.log(-2 * theta))

        def log_base_measure(self, x):
            return jnp.sum(jnp.log(x))

        def sample(self, key, params, shape):
            p = jnp.broadcast_to(params, (*shape, *params.shape))
            return jr.rayleigh(key, jnp.sqrt(p), p.shape, params.dtype)


    problems.register_family(
        "user_rayleigh",
        Rayleigh,
        lambda k, p: np.geomspace(0.5, 4.0, k)[:, None] * np.ones((1, p)),
    )
    '''
)


@pytest.fixture
def rayleigh_plugin(tmp_path):
    path = tmp_path / "rayleigh.py"
    path.write_text(RAYLEIGH)
    yield path
    problems.FAMILIES.pop("user_rayleigh", None)


def test_a_plugins_family_runs_through_the_cli(rayleigh_plugin, tmp_path):
    # Bug caught: --plugin families not reaching the configuration (unknown family), or the
    # engine ignoring them; T(x) = x² is not affine in x, and the report must say so.
    text, results = _reproduce(
        tmp_path, "--plugin", str(rayleigh_plugin), "--problem.family", "user_rayleigh"
    )
    assert "is **not softmax-affine** in x" in text
    assert results["problem"]["family"] == "user_rayleigh"
    assert results["problem"]["softmax_affine"] is False
    assert np.isfinite(results["per_trial"]["softmax/cross_entropy"]["eq4"]).all()
    from jaxsoftmax import provenance

    assert any("rayleigh" in f for f in provenance.engine_sources())  # in every identity


@pytest.mark.parametrize(
    "values, words",
    [
        ({"problem.family": "poison"}, ["problem.family", "'poison'", "poisson", "data"]),
        ({"problem.family": "poisson", "problem.separation": 2.0}, ["problem.separation"]),
        ({"problem.family": "data"}, ["problem.dataset", "iris"]),
        ({"problem.family": "data", "problem.dataset": "nope"}, ["problem.dataset", "'nope'"]),
        ({"problem.params": {"low": float("nan")}}, ["problem.params", "nan"]),
        ({"problem.family": "poisson", "problem.params": {"low": 9.0}}, ["high must exceed"]),
        ({"problem.family": "poisson", "problem.recipe": "bernoulli_features"}, ["recipe"]),
        ({"problem.test_fraction": 1.5}, ["problem.test_fraction", "1.5", "(0, 1)"]),
        ({"problem.family": "binomial", "problem.class_params": [[0.5, 2.0]]}, ["class_params"]),
        ({"problem.priors": [0.5, 0.6]}, ["problem.priors", "sum to 1"]),
    ],
)
def test_bad_problem_settings_are_refused_naming_the_key(values, words):
    # Bug caught: an unknown family or a non-finite/out-of-range problem setting passing
    # validation (to fail later inside the engine, or silently give NaN).
    with pytest.raises(C.ConfigError) as err:
        C.from_dict(values)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_the_papers_configuration_is_the_engine_unchanged():
    # Bug caught: the default configuration routed off the paper's engine (its numbers would
    # move: tests/test_stored_runs.py pins them); and a non-default problem given the empty key.
    assert X.spec_of(C.Config()).problem == ""
    assert C.is_paper_engine(C.from_dict({"problem.separation": 2.0}))
    assert X.spec_of(_config("poisson")).problem != ""


@pytest.mark.slow
@pytest.mark.parametrize("family", OTHERS + list(SWEPT))
def test_every_named_family_runs_end_to_end_through_the_cli(family, tmp_path):
    n_inputs = "4" if family == "bernoulli" else "3"
    text, results = _reproduce(tmp_path, "--problem.family", family, "--problem.n_inputs", n_inputs)
    assert "## The problem" in text
    assert results["problem"]["softmax_affine"] is (family != "gaussian_heteroscedastic")
    assert np.isfinite(results["per_trial"]["softmax/cross_entropy"]["eq4"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", datasets.SKLEARN_DATASETS)
def test_every_bundled_data_set_runs_through_the_cli(name, tmp_path):
    text, _ = _reproduce(tmp_path, "--problem.family", "data", "--problem.dataset", name)
    assert "eq. (4) — unavailable" in text


def test_the_families_page_is_generated_from_the_stored_sweep():
    # Bug caught: docs/families.md edited by hand or left stale after the stored sweep (or the
    # counting in sweeps.summary.seed_rankings) changed: the page must be exactly what
    # experiments/families.py generates from experiments/sweeps/families/.
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("families_page", root / "experiments/families.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    want = module.page(root / "experiments" / "sweeps" / "families")
    assert (root / "docs" / "families.md").read_text() == want, (
        "docs/families.md is stale: run python3 experiments/families.py"
    )
    assert want.count(" of 5 |") > 40  # the seed counts are there, per family and pair


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["training-length", "--problem.family", "data", "--problem.dataset", "iris"],
            "training-length ranks the estimators by eq. (4)",
        ),
        (["reproduce", "--problem.family", "poisson", "--problem.covariance", "2"], "covariance"),
        (["reproduce", "--problem.family", "nope"], "problem.family: expected one of gaussian"),
    ],
)
def test_bad_problem_flags_get_one_clear_error_line(argv, words, tmp_path, capsys):
    # Bug caught: a data set sent to a command that needs eq. (4) (NaN rankings), or a bad
    # problem flag ending in a traceback instead of one line naming it.
    assert cli.main([*argv, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


RECIPE_FAMILY = {
    "paper": ("gaussian", 2),
    "gaussian_circle": ("gaussian", 3),
    "gaussian_heteroscedastic": ("gaussian_heteroscedastic", 2),
    "poisson_grid": ("poisson", 3),
    "bernoulli_features": ("bernoulli", 4),
}


@pytest.mark.parametrize("recipe", sorted(problems.RECIPES))
def test_every_named_recipe_configures_the_recipes_problem(recipe):
    # Bug caught: a recipe named in the configuration building another problem than the
    # recipe's own (wrong arguments passed through, K or p ignored), or refused.
    family, p = RECIPE_FAMILY[recipe]
    config = _config(family, p, **{"problem.recipe": recipe})
    kwargs = {} if recipe == "paper" else {"n_classes": 4, "n_inputs": p}
    if recipe == "poisson_grid":
        kwargs["low"] = 3.0
        config = _config(family, p, **{"problem.recipe": recipe, "problem.params": {"low": 3.0}})
    assert X.problem(X.spec_of(config), X.hyper_of(config)) == problems.recipe(recipe, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(problems.RECIPES))
def test_every_named_recipe_runs_end_to_end_through_the_cli(recipe, tmp_path):
    family, p = RECIPE_FAMILY[recipe]
    flags = ["--problem.family", family, "--problem.recipe", recipe, "--problem.n_inputs", str(p)]
    _, results = _reproduce(tmp_path, *flags)
    assert np.isfinite(results["per_trial"]["softmax/cross_entropy"]["eq4"]).all()
