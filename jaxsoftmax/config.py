r"""One configuration for the Dunne & Campbell (1997, section 4.1) experiment and its sweeps.

The experiment (:mod:`jaxsoftmax.experiment`) is described by one frozen :class:`Config`:

=============================  ============  ====================================================
key                            default       meaning
=============================  ============  ====================================================
``trials``                     100           independent trials (data sets and initial weights)
``seed``                       0             root of every key (:mod:`jaxsoftmax.experiment`)
``prng``                       threefry2x32  JAX PRNG implementation
``estimators``                 the paper's   pairings trained on the same data, same start
``problem.n_classes``          4             K Gaussian classes in the plane (p = 2)
``problem.separation``         1.0           distance scale of the class means
``problem.covariance``         1.0           shared covariance: a variance v (v·I) or [[a,b],[b,c]]
``problem.n_per_class``        100           training observations per class
``problem.n_test_per_class``   100           test observations per class (eq. 4, Tables 3–6)
``problem.n_val_per_class``    100           validation observations (early stopping only)
``model.hidden``               8             hidden units h of the p–h–q MLP
``model.init_scale``           1.0           initial weights uniform(−s, s) (the paper: s = 1)
``training.optimizer``         adam          see :func:`jaxsoftmax.train.make_optimizer`
``training.learning_rate``     0.05          the step size
``training.weight_decay``      0.0           decoupled (Loshchilov & Hutter), as optax.adamw
``training.steps``             2000          full-batch steps
``training.early_stopping``    false         keep the weights best on the validation sample
``training.record_at``         []            step counts at which to evaluate snapshots too
``problem.family``             gaussian      the classes' family (below), or ``data``
``problem.n_inputs``           2             p, the input dimension
``problem.recipe``             ""            a named recipe (:data:`jaxsoftmax.problems.RECIPES`)
``problem.params``             {}            the recipe's or the family's keyword arguments
``problem.class_params``       []            each class's parameters, (K, p); [] the default
``problem.priors``             []            P(C_k), (K,); [] equal priors
``problem.dataset``            ""            ``data``: a scikit-learn data set name or a file
``problem.test_fraction``      0.3           ``data``: the test split's share of each trial
=============================  ============  ====================================================

**The problem** (:mod:`jaxsoftmax.problems`). ``problem.family = "gaussian"`` with no recipe,
parameters, class parameters or priors is the paper's engine: K Gaussians in the plane with
the shared ``problem.covariance``, means below times ``problem.separation`` (its numbers are
those of every earlier version, bit for bit). Any other family of
:data:`jaxsoftmax.problems.FAMILIES` (``gaussian_heteroscedastic``, ``poisson``, ``bernoulli``,
``binomial``, ``multinomial``, ``categorical``, ``exponential``, ``gamma``, ``geometric``,
``negative_binomial``, ``gaussian_isotropic``, and a plugin's,
:func:`jaxsoftmax.problems.register_family`) is built by :func:`jaxsoftmax.problems.build`
from ``problem.n_classes``, ``problem.n_inputs``, ``problem.recipe``, ``problem.params``,
``problem.class_params`` and ``problem.priors``; ``problem.separation`` and
``problem.covariance`` belong to the paper's engine and are refused for them (give the
recipe's ``separation`` in ``problem.params``). ``problem.family = "data"`` is a real data set
(:mod:`jaxsoftmax.datasets`; ``problem.dataset``: ``iris``, ``wine``, ``breast_cancer``,
``digits`` or a ``.csv``/``.npy``/``.npz`` path), split per trial into ``test_fraction`` test
points (stratified) and the rest for training; K and p are the data set's (set by
:func:`validate`), the sample sizes ``n_*_per_class`` are not used, and there is no exact
posterior (eq. (4) is unavailable).

The same dotted keys are the command-line flags (``--training.steps 300``), the overrides
(``--set training.steps=300``) and the keys of a sweep file: a sweep is a product (``grid``),
a ``zip`` or an explicit list (``cells``) of overrides of one base configuration, in the
pattern of flax/scenic's ``get_config`` + sweep (:class:`SweepSpec`).

The class means for K = 4 are the paper's (±1, ±1) in the order of its Tables 3–6 (classes 1
and 4 opposite, as are 2 and 3); for other K they lie on the circle of radius √2 at angles
π/4 + 2πk/K (K = 2: ±(1, 1)). All are multiplied by ``problem.separation``.

Every value is checked once, by :func:`validate`, with an error that names the key, the value
and what is allowed; :class:`ConfigError` lists every problem at once. Pure Python: importing
this module imports no JAX.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

__all__ = [
    "ARRAY_KEYS",
    "KEYS",
    "PAPER_ESTIMATORS",
    "PAPER_MEANS",
    "PRNGS",
    "Config",
    "ConfigError",
    "Model",
    "Params",
    "Problem",
    "SweepSpec",
    "Training",
    "class_means",
    "config_diff",
    "config_hash",
    "covariance_matrix",
    "from_dict",
    "is_paper_engine",
    "load_file",
    "load_sweep",
    "override",
    "parse_assignment",
    "parse_value",
    "problem_key",
    "to_dict",
    "validate",
]

PAPER_ESTIMATORS = ("logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy")
# Classes 1–4 in the order of the paper's Tables 3–6: 1 and 4 are opposite (Bayes rate
# 0.0252), as are 2 and 3; every other pair are neighbours (0.1335).
PAPER_MEANS = ((1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0))
PRNGS = ("threefry2x32", "rbg", "unsafe_rbg")
INPUTS = 2  # p: the class means lie in the plane
# Keys whose values enter the compiled trial as arrays: cells differing only in these share a
# program and are batched together (jaxsoftmax.experiment.Hyper). Hidden sizes are padded to
# the largest of a batch, the extra units masked (exactly the unpadded networks).
ARRAY_KEYS = (
    "problem.separation",
    "problem.covariance",
    "training.learning_rate",
    "training.weight_decay",
    "model.hidden",
)


class ConfigError(ValueError):
    """A configuration or sweep description that cannot run; lists every problem by key."""

    def __init__(self, problems: Sequence[str] | str, what: str = "invalid configuration"):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(what + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


def _field(default, help: str, **kw):
    return dataclasses.field(default=default, metadata={"help": help, **kw})


class Params(dict):
    """``problem.params``: a table of keyword arguments, hashable (the configuration is)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(self, sort_keys=True))


@dataclasses.dataclass(frozen=True)
class Problem:
    """The K classes (the paper's Gaussians by default) and the sample sizes."""

    n_classes: int = _field(4, "K Gaussian classes (the paper: 4)")
    separation: float = _field(1.0, "distance scale of the class means (the paper: 1)")
    covariance: float | tuple = _field(
        1.0, "shared covariance: a variance v (meaning v*I) or a 2x2 matrix [[a,b],[b,c]]"
    )
    n_per_class: int = _field(100, "training observations per class (the paper: 100)")
    n_test_per_class: int = _field(100, "independent test observations per class")
    n_val_per_class: int = _field(100, "validation observations per class (early stopping)")
    family: str = _field(
        "gaussian", "the classes' family (jaxsoftmax.problems.FAMILIES) or 'data' (a data set)"
    )
    n_inputs: int = _field(2, "p, the input dimension (the paper: 2)")
    recipe: str = _field("", "a named problem recipe (jaxsoftmax.problems.RECIPES); '' none")
    params: Any = dataclasses.field(  # None: an empty table (a mutable default is refused)
        default=None,
        metadata={"help": "keyword arguments of the recipe or the family, e.g. {separation = 3}"},
    )
    class_params: tuple = _field((), "each class's parameters, K rows of p; [] the default")
    priors: tuple = _field((), "class priors P(C_k), K values summing to 1; [] equal priors")
    dataset: str = _field(
        "", "family 'data': iris, wine, breast_cancer, digits or a .csv/.npy/.npz file"
    )
    test_fraction: float = _field(0.3, "family 'data': the test split's share per trial")

    def __post_init__(self):
        if self.params is None:
            object.__setattr__(self, "params", Params())
        elif isinstance(self.params, Mapping) and not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))


@dataclasses.dataclass(frozen=True)
class Model:
    """The p–h–q MLP."""

    hidden: int = _field(8, "hidden units h (the paper does not give h)")
    init_scale: float = _field(1.0, "initial weights uniform(-s, s) (the paper: s = 1)")


@dataclasses.dataclass(frozen=True)
class Training:
    """Full-batch optax training (:mod:`jaxsoftmax.train`)."""

    optimizer: str = _field("adam", "optimizer name (adam, adamw, sgd, momentum, ...)")
    learning_rate: float = _field(0.05, "learning rate")
    weight_decay: float = _field(0.0, "decoupled weight decay (as optax.adamw)")
    steps: int = _field(2000, "full-batch training steps")
    early_stopping: bool = _field(False, "return the weights best on a validation sample")
    record_at: tuple = _field((), "step counts at which snapshots are evaluated too")


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole experiment; the defaults are the paper's set-up plus our protocol.

    Build one with :func:`from_dict` or :func:`override` (both validate), or directly and then
    :func:`validate` it.
    """

    trials: int = _field(100, "independent trials")
    seed: int = _field(0, "root seed of every PRNG key")
    prng: str = _field("threefry2x32", "JAX PRNG implementation: " + ", ".join(PRNGS))
    estimators: tuple = _field(PAPER_ESTIMATORS, "pairings 'activation/penalty', trained alike")
    problem: Problem = dataclasses.field(default_factory=Problem)
    model: Model = dataclasses.field(default_factory=Model)
    training: Training = dataclasses.field(default_factory=Training)

    def get(self, key: str) -> Any:
        """The value of a dotted key, e.g. ``config.get("training.steps")``."""
        obj: Any = self
        for part in key.split("."):
            obj = getattr(obj, part)
        return obj

    @property
    def n_estimators(self) -> int:
        return len(self.estimators)


_SECTIONS = {"problem": Problem, "model": Model, "training": Training}


def _keys() -> dict[str, dataclasses.Field]:
    out = {}
    for f in dataclasses.fields(Config):
        if f.name in _SECTIONS:
            for g in dataclasses.fields(_SECTIONS[f.name]):
                out[f"{f.name}.{g.name}"] = g
        else:
            out[f.name] = f
    return out


KEYS: dict[str, dataclasses.Field] = _keys()
"""Every dotted key of :class:`Config`, in order, with its field (``metadata["help"]``)."""


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (_is_int(v) or isinstance(v, float)) and not isinstance(v, bool)


def _finite_num(v) -> bool:
    return _is_num(v) and math.isfinite(v)


def covariance_matrix(value) -> tuple[tuple[float, float], tuple[float, float]]:
    """A ``problem.covariance`` value as a 2×2 matrix (a number v means v·I)."""
    if _is_num(value):
        return ((float(value), 0.0), (0.0, float(value)))
    (a, b), (c, d) = value
    return ((float(a), float(b)), (float(c), float(d)))


def class_means(n_classes: int, separation: float = 1.0) -> tuple[tuple[float, float], ...]:
    """The K class means (the module docstring): K = 4 the paper's (±1, ±1) in the order of
    its Tables 3–6 (Dunne & Campbell 1997, section 4.1), otherwise on the circle of radius √2
    at angles π/4 + 2πk/K; times ``separation``."""
    base: tuple[tuple[float, float], ...]
    if n_classes == 4:
        base = PAPER_MEANS
    else:
        angles = [math.pi / 4 + 2 * math.pi * k / n_classes for k in range(n_classes)]
        base = tuple((math.sqrt(2) * math.cos(a), math.sqrt(2) * math.sin(a)) for a in angles)
    return tuple((separation * x, separation * y) for x, y in base)


def _normalise(key: str, v: Any) -> tuple[Any, str | None]:
    """(normalised value, problem or None) for one key's value."""
    got = f"got {v!r}"

    def positive_int(lo=1):
        if _is_int(v) and v >= lo:
            return v, None
        return None, f"{key}: expected an integer >= {lo}, {got}"

    def finite(strict: bool):
        if _finite_num(v) and (v > 0 if strict else v >= 0):
            return float(v), None
        return None, f"{key}: expected a finite number {'> 0' if strict else '>= 0'}, {got}"

    if key in ("trials", "problem.n_per_class", "problem.n_test_per_class", "model.hidden"):
        return positive_int()
    if key in ("problem.n_val_per_class", "training.steps"):
        return positive_int()
    if key == "problem.n_classes":
        if _is_int(v) and 2 <= v < 1024:  # the key scheme packs K into 10 bits
            return v, None
        return None, f"problem.n_classes: expected an integer in [2, 1024), {got}"
    if key == "seed":
        if _is_int(v) and 0 <= v < 2**32:
            return v, None
        return None, f"seed: expected an integer in [0, 2**32), {got}"
    if key == "prng":
        if v in PRNGS:
            return v, None
        return None, f"prng: expected one of {', '.join(PRNGS)}, {got}"
    if key in ("problem.separation", "training.weight_decay"):
        return finite(strict=False)
    if key in ("training.learning_rate", "model.init_scale"):
        return finite(strict=True)
    if key == "problem.covariance":
        return _covariance(v)
    if key == "training.early_stopping":
        if isinstance(v, bool):
            return v, None
        return None, f"training.early_stopping: expected true or false, {got}"
    if key == "training.optimizer":
        from .train import OPTIMIZERS  # a dict; train imports JAX, so only when validating

        if isinstance(v, str) and v in OPTIMIZERS:
            return v, None
        near = difflib.get_close_matches(str(v), list(OPTIMIZERS), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return None, f"training.optimizer: expected one of {', '.join(OPTIMIZERS)}, {got}{hint}"
    if key == "training.record_at":
        if isinstance(v, (list, tuple)) and all(_is_int(x) and x >= 1 for x in v):
            return tuple(sorted(set(v))), None
        return None, f"training.record_at: expected a list of step counts >= 1, {got}"
    if key == "estimators":
        return _estimators(v)
    if key == "problem.n_inputs":
        if _is_int(v) and 1 <= v <= 100_000:
            return v, None
        return None, f"problem.n_inputs: expected an integer in [1, 100000], {got}"
    if key == "problem.family":
        from .problems import FAMILIES  # imports JAX: only when validating

        if isinstance(v, str) and (v in FAMILIES or v == "data"):
            return v, None
        known = [*FAMILIES, "data"]
        near = difflib.get_close_matches(str(v), known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return None, f"problem.family: expected one of {', '.join(known)}, {got}{hint}"
    if key == "problem.recipe":
        from .problems import RECIPES

        if v == "" or (isinstance(v, str) and v in RECIPES):
            return v, None
        return None, f"problem.recipe: expected '' (none) or one of {', '.join(RECIPES)}, {got}"
    if key == "problem.params":
        return _params(v)
    if key == "problem.class_params":
        if isinstance(v, (list, tuple)) and all(
            isinstance(r, (list, tuple)) and r and all(_finite_num(x) for x in r) for r in v
        ):
            return tuple(tuple(float(x) for x in r) for r in v), None
        return None, (
            f"problem.class_params: expected [] or a list of K rows of p finite numbers, {got}"
        )
    if key == "problem.priors":
        if isinstance(v, (list, tuple)) and all(_finite_num(x) and x >= 0 for x in v):
            if v and abs(sum(v) - 1) > 1e-4:
                return None, f"problem.priors: must sum to 1, {got} (sum {sum(v)!r})"
            return tuple(float(x) for x in v), None
        return None, f"problem.priors: expected [] or K finite probabilities >= 0, {got}"
    if key == "problem.dataset":
        if isinstance(v, str):
            return v, None
        return None, f"problem.dataset: expected a data set name or a file path, {got}"
    if key == "problem.test_fraction":
        if _finite_num(v) and 0 < v < 1:
            return float(v), None
        return None, f"problem.test_fraction: expected a finite number in (0, 1), {got}"
    raise KeyError(key)


def _params(v):
    """``problem.params``: a table of names to finite numbers, strings or (nested) lists."""
    if v is None:
        return Params(), None
    if not isinstance(v, Mapping):
        return None, f"problem.params: expected a table of keyword arguments, got {v!r}"

    def ok(x) -> bool:
        if isinstance(x, (list, tuple)):
            return all(ok(y) for y in x)
        return isinstance(x, str) or isinstance(x, bool) or _finite_num(x)

    bad = [k for k, x in v.items() if not isinstance(k, str) or not ok(x)]
    if bad:
        return None, (
            f"problem.params: {', '.join(map(str, bad))}: expected finite numbers, strings or "
            f"lists of them, got {dict(v)!r}"
        )
    return Params(json.loads(json.dumps(dict(v)))), None


def is_paper_engine(config: Config) -> bool:
    """Whether ``config``'s problem is the paper's engine (family ``gaussian`` with nothing
    but ``problem.separation`` and ``problem.covariance``): the numbers of every earlier
    version."""
    p = config.problem
    return (
        p.family == "gaussian"
        and not p.recipe
        and not p.params
        and not p.class_params
        and not p.priors
        and p.n_inputs == INPUTS
    )


def problem_key(config: Config) -> str:
    """The problem's description as canonical JSON: ``""`` for the paper's engine
    (:func:`is_paper_engine`), else what :func:`jaxsoftmax.experiment.problem_of` builds the
    problem from (a data file's content digest included, so a changed file is another key)."""
    p = config.problem
    if is_paper_engine(config):
        return ""
    if p.family == "data":
        data: dict[str, Any] = {
            "family": "data",
            "dataset": p.dataset,
            "test_fraction": p.test_fraction,
        }
        path = Path(p.dataset)
        if path.is_file():
            data["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    else:
        data = {
            "family": p.family,
            "n_classes": p.n_classes,
            "n_inputs": p.n_inputs,
            "recipe": p.recipe,
            "params": dict(p.params),
            "class_params": [list(r) for r in p.class_params],
            "priors": list(p.priors),
        }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _problem_checks(out: Config) -> tuple[Config, list[str]]:
    """Cross-key checks of the problem; for ``data``, K and p set from the data set."""
    p = out.problem
    problems: list[str] = []
    default = Problem()
    if p.family == "data":
        for key in ("recipe", "params", "class_params", "priors"):
            if getattr(p, key):
                problems.append(
                    f"problem.{key}: not used with problem.family 'data', got "
                    f"{to_jsonable(getattr(p, key))!r}"
                )
        if not p.dataset:
            problems.append(
                "problem.dataset: problem.family 'data' needs a data set: iris, wine, "
                "breast_cancer, digits or a .csv/.npy/.npz file"
            )
        if out.training.early_stopping:
            problems.append(
                "training.early_stopping: not available with problem.family 'data' (no "
                "validation split)"
            )
        if problems:
            return out, problems
        try:
            from .problems import load_dataset

            ds = load_dataset(p.dataset)
        except (ValueError, OSError, ImportError) as err:
            return out, [f"problem.dataset: {err}"]
        if ds.n_classes >= 1024:
            return out, [f"problem.dataset: {ds.n_classes} classes; at most 1023"]
        problem = dataclasses.replace(p, n_classes=ds.n_classes, n_inputs=ds.n_inputs)
        return dataclasses.replace(out, problem=problem), []
    if p.dataset:
        problems.append(
            f"problem.dataset: only used with problem.family 'data', got {p.dataset!r} with "
            f"family {p.family!r}"
        )
    if is_paper_engine(out):
        return out, problems
    for key in ("separation", "covariance"):
        if getattr(p, key) != getattr(default, key):
            problems.append(
                f"problem.{key}: applies to the paper's engine only (family 'gaussian' without "
                f"recipe, params, class_params or priors, 2 inputs), got {getattr(p, key)!r} "
                f"with family {p.family!r}; give the recipe's own arguments in problem.params"
            )
    if problems:
        return out, problems
    try:
        from .problems import problem_from_key

        problem_from_key(problem_key(out))
    except (ValueError, TypeError) as err:
        return out, [f"problem: {str(err).splitlines()[0]}"]
    return out, []


def _covariance(v):
    if _finite_num(v):
        if v > 0:
            return float(v), None
        return None, f"problem.covariance: a variance must be > 0, got {v!r}"
    rows = isinstance(v, (list, tuple)) and len(v) == INPUTS
    if rows and all(isinstance(r, (list, tuple)) and len(r) == INPUTS for r in v):
        if all(_finite_num(x) for r in v for x in r):
            (a, b), (c, d) = ((float(x) for x in r) for r in v)
            if b != c:
                return None, f"problem.covariance: the matrix must be symmetric, got {v!r}"
            if not (a > 0 and a * d - b * c > 0):
                return None, f"problem.covariance: the matrix must be positive definite, got {v!r}"
            return ((a, b), (c, d)), None
    return None, (
        "problem.covariance: expected a finite positive variance or a 2 x 2 symmetric "
        f"positive definite matrix [[a, b], [b, c]], got {v!r}"
    )


def _estimators(v):
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v) or not v:
        return (
            None,
            f"estimators: expected a non-empty list of 'activation/penalty' names, got {v!r}",
        )
    from .pairings import get_pairing

    names, problems = [], []
    for i, name in enumerate(v):
        try:
            names.append(get_pairing(name).name)
        except (ValueError, KeyError, TypeError) as err:
            problems.append(f"estimators[{i}]: {err}")
    if len(set(names)) != len(names):
        problems.append(f"estimators: contains duplicates: {list(v)}")
    if problems:
        return None, "; ".join(problems)
    return tuple(names), None


# --------------------------------------------------------------------------------------------
# Building, validating, overriding
# --------------------------------------------------------------------------------------------


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables → dotted keys (``{"training": {"steps": 3}}`` → ``{"training.steps": 3}``);
    a mapping value of a key that is itself a configuration key (none are) stays whole."""
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and key not in KEYS:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _unknown(keys: Iterable[str], where: str) -> list[str]:
    problems = []
    for k in keys:
        if k not in KEYS:
            near = difflib.get_close_matches(k, list(KEYS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(f"{where}unknown key {k!r}{hint}; known keys: {', '.join(KEYS)}")
    return problems


def _build(values: Mapping[str, Any]) -> Config:
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    top = {}
    for key, v in values.items():
        head, _, tail = key.partition(".")
        if tail:
            sections[head][tail] = v
        else:
            top[key] = v
    return Config(**top, **{name: _SECTIONS[name](**kw) for name, kw in sections.items()})


def validate(config: Config) -> Config:
    """Checks every value of ``config``; returns it normalised (floats as floats, names as the
    registry's canonical names) or raises :class:`ConfigError` listing every problem."""
    if not isinstance(config, Config):
        raise ConfigError(f"expected a jaxsoftmax.config.Config, got {type(config).__name__}")
    values, problems = {}, []
    for key in KEYS:
        norm, problem = _normalise(key, config.get(key))
        if problem:
            problems.append(problem)
        values[key] = norm
    if problems:
        raise ConfigError(problems)
    out = _build(values)
    cross = []
    if out.training.record_at and max(out.training.record_at) > out.training.steps:
        cross.append(
            f"training.record_at: step counts must lie in 1 … training.steps = "
            f"{out.training.steps}, got {list(out.training.record_at)}"
        )
    out, more = _problem_checks(out)
    cross += more
    if cross:
        raise ConfigError(cross)
    return out


def from_dict(mapping: Mapping[str, Any], base: Config | None = None) -> Config:
    """A validated :class:`Config` from nested tables and/or dotted keys, over ``base``
    (default: the paper's set-up). Unknown keys are errors (with the nearest known key)."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"a configuration is a table of keys, got {type(mapping).__name__}")
    flat = flatten(mapping)
    problems = _unknown(flat, "")
    if problems:
        raise ConfigError(problems)
    base = Config() if base is None else base
    values = {key: base.get(key) for key in KEYS}
    values.update(flat)
    return validate(_build(values))


def override(config: Config, **dotted: Any) -> Config:
    """``config`` with some keys replaced, validated: ``override(c, **{"training.steps": 5})``."""
    return from_dict(dotted, base=config)


def to_dict(config: Config) -> dict[str, Any]:
    """Plain nested data (JSON/TOML-ready; tuples as lists): the inverse of :func:`from_dict`."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def to_jsonable(value: Any) -> Any:
    """A configuration value as plain JSON data (tuples as lists)."""
    return json.loads(json.dumps(value))


def to_flat(config: Config) -> dict[str, Any]:
    """Dotted key → JSON-ready value."""
    return flatten(to_dict(config))


def config_hash(data: Any) -> str:
    """sha256 (16 hex digits) of the canonical JSON of ``data`` (a Config or plain data)."""
    if isinstance(data, Config):
        data = to_dict(data)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"key=value"`` → (key, value); the value is read as JSON (``[4, 8]``, ``true``, ``0.1``)
    or else kept as a string (``training.optimizer=sgd``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{text!r}: expected key=value, e.g. training.steps=300")
    return key, parse_value(raw)


def parse_value(raw: str) -> Any:
    """A command-line value: JSON (``[4, 8]``, ``true``, ``0.1``), else a float where Python
    reads one (``inf``, ``nan``: refused later by validation, with their names), else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw.strip()


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two plain descriptions, one line per dotted key."""
    a, b = flatten(old), flatten(new)
    return [
        f"{k}: {json.dumps(a.get(k, '<absent>'))} (before) -> {json.dumps(b.get(k, '<absent>'))}"
        for k in sorted(set(a) | set(b))
        if a.get(k, "<absent>") != b.get(k, "<absent>")
    ]


# --------------------------------------------------------------------------------------------
# Files and sweeps
# --------------------------------------------------------------------------------------------


def load_file(path: str | Path) -> dict:
    """Reads a ``.toml`` or ``.json`` file into plain data; errors name the file."""
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: expected a .toml or .json file")
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read it ({err.strerror or err})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # Python 3.10
                import tomli as tomllib  # pyright: ignore[reportMissingImports]  # 3.10 only
            data = tomllib.loads(text)
    except ValueError as err:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table, got {type(data).__name__}")
    return data


_SWEEP_KEYS = ("name", "base", "grid", "zip", "cells")


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep: ``cells``, each a full validated :class:`Config`, from one description.

    The description (TOML or JSON; every key of :data:`KEYS` may be written dotted or as
    nested tables)::

        name = "n_per_class"
        [base]                          # overrides of the default Config, for every cell
        trials = 40
        estimators = ["softmax/cross_entropy", "softmax/least_squares"]
        problem.n_test_per_class = 500
        [grid]                          # the product of these lists (last key fastest)
        problem.n_per_class = [10, 100, 1000]
        training.learning_rate = [0.01, 0.05]
        [zip]                           # lists of equal length, varied together
        ...

    or ``[[cells]]``: an explicit list of override tables. ``grid`` and ``zip`` combine (the
    product of the grid with the zipped rows); ``cells`` stands alone.
    """

    name: str
    base: Config
    cells: tuple[Config, ...]
    varied: tuple[str, ...]
    description: Mapping[str, Any]

    @property
    def hash(self) -> str:
        """The identity of the sweep's results folder: hash of every cell's full config."""
        return config_hash({"name": self.name, "cells": [to_dict(c) for c in self.cells]})

    @property
    def trials(self) -> int:
        return self.base.trials

    @property
    def estimators(self) -> tuple[str, ...]:
        return self.base.estimators

    @property
    def n_trainings(self) -> int:
        return len(self.cells) * self.base.trials

    def cell_values(self, index: int) -> dict[str, Any]:
        """The varied keys' values of cell ``index`` (JSON-ready)."""
        flat = to_flat(self.cells[index])
        return {k: flat[k] for k in self.varied}


def _as_list(key: str, v: Any) -> list:
    # A covariance matrix [[a, b], [b, c]] is one value, not a list of two.
    if key == "problem.covariance" and isinstance(v, list) and v and isinstance(v[0], list):
        if v and all(isinstance(r, list) and r and isinstance(r[0], list) for r in v):
            return v
        return [v]
    return v if isinstance(v, list) else [v]


def load_sweep(data: Mapping[str, Any] | str | Path, overrides: Sequence[str] = ()) -> SweepSpec:
    """Validates a sweep description (a mapping, or a .toml/.json path) and expands its cells.

    ``overrides`` are ``key=value`` strings applied to ``base`` (``trials=5``) or, with a
    ``grid.``/``zip.`` prefix, to the varied lists (``grid.model.hidden=[4,8]``). Raises
    :class:`ConfigError` naming every problem before anything runs.
    """
    if isinstance(data, (str, Path)):
        data = load_file(data)
    if not isinstance(data, Mapping):
        raise ConfigError(f"a sweep description is a table, got {type(data).__name__}")
    data = cast("dict[str, Any]", json.loads(json.dumps(data)))  # a deep copy of plain data
    for item in overrides:
        key, value = parse_assignment(item)
        section = "base"
        for s in ("grid", "zip", "base"):
            if key.startswith(s + "."):
                section, key = s, key[len(s) + 1 :]
        if section == "base" and key == "name":
            data["name"] = value
            continue
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: expected a table, got {table!r}")
        table[key] = value
    problems = []
    for k in data:
        if k not in _SWEEP_KEYS:
            near = difflib.get_close_matches(k, [*_SWEEP_KEYS, *KEYS], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(f"unknown top-level key {k!r}{hint}; expected {', '.join(_SWEEP_KEYS)}")
    name = data.get("name", "sweep")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        problems.append(f"name: expected a non-empty string without '/', got {name!r}")
    tables = {}
    for section in ("base", "grid", "zip"):
        t = data.get(section, {})
        if not isinstance(t, Mapping):
            problems.append(f"{section}: expected a table of keys, got {t!r}")
            t = {}
        flat = flatten(t)
        problems += _unknown(flat, f"{section}: ")
        tables[section] = flat
    if "cells" in data and (tables["grid"] or tables["zip"]):
        problems.append("cells: give either an explicit list of cells or grid/zip, not both")
    base = None
    if not problems:
        try:
            base = from_dict(tables["base"])
        except ConfigError as err:
            problems += [f"base: {p}" for p in err.problems]
    combos: list[dict[str, Any]] = []
    if "cells" in data:
        cells = data["cells"]
        if not isinstance(cells, list) or not cells:
            problems.append(f"cells: expected a non-empty list of tables, got {cells!r}")
        else:
            for i, c in enumerate(cells):
                if not isinstance(c, Mapping):
                    problems.append(f"cells[{i}]: expected a table of keys, got {c!r}")
                    continue
                flat = flatten(c)
                problems += _unknown(flat, f"cells[{i}]: ")
                combos.append(flat)
    else:
        grid = {k: _as_list(k, v) for k, v in tables["grid"].items()}
        zipped = {k: _as_list(k, v) for k, v in tables["zip"].items()}
        for k, v in {**grid, **zipped}.items():
            if not v:
                problems.append(f"{k}: is empty; give at least one value")
        both = set(grid) & set(zipped)
        if both:
            problems.append(f"grid and zip both set {', '.join(sorted(both))}")
        lengths = {len(v) for v in zipped.values()}
        if len(lengths) > 1:
            sizes = ", ".join(f"{k}: {len(v)}" for k, v in zipped.items())
            problems.append(f"zip: the lists must have equal lengths, got {sizes}")
        rows = [dict(zip(zipped, vals)) for vals in zip(*zipped.values())] if zipped else [{}]
        for vals in itertools.product(*grid.values()):
            for row in rows:
                combos.append({**dict(zip(grid, vals)), **row})
    if problems or base is None:
        raise ConfigError(problems, "invalid sweep description")
    cells = []
    seen: dict[str, int] = {}
    for i, combo in enumerate(combos):
        try:
            cell = from_dict(combo, base=base)
        except ConfigError as err:
            problems += [f"cell {i} ({json.dumps(combo)}): {p}" for p in err.problems]
            continue
        if cell.trials != base.trials or cell.estimators != base.estimators:
            problems.append(
                f"cell {i}: trials and estimators are sweep-wide (set them in base), got "
                f"{json.dumps(combo)}"
            )
        ident = config_hash(cell)
        if ident in seen:
            problems.append(f"cell {i} repeats cell {seen[ident]}: {json.dumps(combo)}")
        seen[ident] = i
        cells.append(cell)
    if problems:
        raise ConfigError(problems, "invalid sweep description")
    flats = [to_flat(c) for c in cells]
    varied = tuple(k for k in KEYS if len({json.dumps(f[k]) for f in flats}) > 1)
    return SweepSpec(name.strip(), base, tuple(cells), varied, data)
