r"""The Dunne & Campbell (1997, section 4.1) trial as one pure function, and its batched driver.

One *trial*: independent training, test (and validation) samples from K Gaussian classes; one
initial weight draw shared by every estimator; each estimator (an activation × penalty
pairing) trained on the same data from the same start (:func:`jaxsoftmax.train.train_steps`,
all estimators in one ``lax.scan``); then, on the test sample, the paper's eq. (4) against
the exact Bayes posterior (:func:`jaxsoftmax.gaussians.posterior_error`, as printed and
summed), the class-conditional rates of Tables 3–6 and the error rate, for each estimator
and for the Bayes rule itself.

Everything the reproduction, the training-length study, the sweeps and the tests compute
comes from :func:`setup`, :func:`advance` and :func:`evaluate` (:func:`trial` is the three in
one), batched by :func:`run_units`; nothing else in the project builds a trial.

**The problem** is the configuration's (``problem.family``, :mod:`jaxsoftmax.config`): by
default the paper's Gaussians, whose numbers are those of every earlier version bit for bit;
otherwise any family of :data:`jaxsoftmax.problems.FAMILIES` (sampled by
:func:`jaxsoftmax.problems.sample`, scored against :func:`jaxsoftmax.problems.posterior`), or
a real data set (:mod:`jaxsoftmax.datasets`: each trial's stratified split from its ``test``
key; no exact posterior, so eq. (4) and the Bayes rule are NaN, reported as unavailable).
Every problem also gets the scores that need no exact posterior (:data:`SCORE_METRICS`:
log-loss, Brier score, ECE) and the calibration bins of a reliability diagram.

**Static and array-valued settings.** :class:`Spec` holds what fixes the compiled program
(shapes, the optimiser, the number of steps, the estimators); :class:`Hyper` holds what may
differ between the units of one batch, as arrays: separation, covariance, learning rate and
weight decay (:data:`jaxsoftmax.config.ARRAY_KEYS`). So one program serves every cell of a
sweep that differs only in those.

**The key scheme** (one, for every caller)::

    trial_key = fold_in(key(seed, impl=prng), trial)
    train     = fold_in(fold_in(trial_key, 1·1024 + K), n_per_class)
    test      = fold_in(fold_in(trial_key, 2·1024 + K), n_test_per_class)
    val       = fold_in(fold_in(trial_key, 3·1024 + K), n_val_per_class)
    init      = fold_in(fold_in(trial_key, 4·1024 + K), hidden)

A trial's numbers depend on the seed, the trial index and the settings that change its data
(K and the sample sizes; the hidden size for the weights) — never on a cell's position in a
grid, a batch or a device. Separation and covariance transform the same standard normal
draws (x = separation·μ_y + L ε, L Lᵀ = Σ). So cells that differ in learning rate, weight
decay, optimiser, pairing, separation or covariance see common random numbers and are
compared pairwise, as the estimators are within a cell; inserting a grid value changes no
other cell; and adding trials computes only the new ones. The training and test samples
come from different keys (tag 1 and 2), so evaluation is out of sample.

With ``prng="threefry2x32"`` (the default) the draws do not depend on the batch size, so a
unit's numbers are the same in any chunk; ``rbg`` compiles faster but is only deterministic
for a fixed batch layout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import datasets, gaussians, metrics, mlp, problems, train
from .config import Config, class_means, covariance_matrix, problem_key, validate
from .pairings import get_pairing
from .problems import problem_from_key

__all__ = [
    "ESTIMATOR_METRICS",
    "SCORE_METRICS",
    "Hyper",
    "Spec",
    "advance",
    "evaluate",
    "hyper_of",
    "keys",
    "problem",
    "problem_summary",
    "run",
    "run_units",
    "setup",
    "spec_of",
    "start_units",
    "trial",
]

# Per-estimator metrics of evaluate(), each (E,) per unit, and the per-unit Bayes metrics.
ESTIMATOR_METRICS = (
    "eq4",
    "eq4_summed",
    "error_rate",
    "final_loss",
    "grad_norm",
    "best_step",
    "output_sum_min",
    "output_sum_max",
)
# Scores that need no exact posterior (jaxsoftmax.metrics), per estimator (E,) per unit, beside
# eq. (4); ``calibration`` (E, 3, M): per equal-width confidence bin (metrics.DEFAULT_BINS),
# the count, the summed top-label confidence and the number right, for pooled reliability
# diagrams. Kept apart from ESTIMATOR_METRICS: results stored before they existed lack them.
SCORE_METRICS = ("log_loss", "brier", "ece")


class Spec(NamedTuple):
    """What fixes the compiled program (hashable; built by :func:`spec_of`)."""

    n_classes: int
    n_per_class: int
    n_test_per_class: int
    n_val_per_class: int
    hidden: int  # the program's hidden size: the largest of its units' (padded, masked)
    masked: bool  # whether units may have fewer hidden units than ``hidden``
    init_scale: float
    optimizer: str
    decay: bool  # whether the program applies weight decay (any unit's decay > 0)
    steps: int
    early_stopping: bool
    record_at: tuple[int, ...]
    estimators: tuple[str, ...]
    prng: str
    # The problem (jaxsoftmax.config.problem_key): "" the paper's engine (K Gaussians in the
    # plane, separation and covariance from Hyper), else the canonical JSON of a family's
    # problem or a data set, built by problems.problem_from_key (its arrays are constants of
    # the program).
    problem: str = ""


class Hyper(NamedTuple):
    """Array-valued settings of one unit (leading unit axes under vmap)."""

    separation: Any  # ()
    covariance: Any  # (2, 2)
    learning_rate: Any  # ()
    weight_decay: Any  # ()
    hidden: Any  # () int32: the unit's hidden units (≤ Spec.hidden; the rest are masked)


def spec_of(config: Config, *, decay: bool | None = None) -> Spec:
    """The :class:`Spec` of a validated ``config`` (``decay`` forced on for a batch of cells
    whose decays differ)."""
    t = config.training
    return Spec(
        n_classes=config.problem.n_classes,
        n_per_class=config.problem.n_per_class,
        n_test_per_class=config.problem.n_test_per_class,
        n_val_per_class=config.problem.n_val_per_class,
        hidden=config.model.hidden,
        masked=False,
        init_scale=config.model.init_scale,
        optimizer=t.optimizer,
        decay=bool(t.weight_decay > 0) if decay is None else decay,
        steps=t.steps,
        early_stopping=t.early_stopping,
        record_at=tuple(t.record_at),
        estimators=tuple(config.estimators),
        prng=config.prng,
        problem=problem_key(config),
    )


def hyper_of(config: Config) -> Hyper:
    """The :class:`Hyper` of ``config`` as float32 NumPy arrays."""
    return Hyper(
        np.float32(config.problem.separation),
        np.asarray(covariance_matrix(config.problem.covariance), np.float32),
        np.float32(config.training.learning_rate),
        np.float32(config.training.weight_decay),
        np.int32(config.model.hidden),
    )


# --------------------------------------------------------------------------------------------
# One trial
# --------------------------------------------------------------------------------------------


def keys(spec: Spec, seed, trial, hidden=None) -> dict[str, jax.Array]:
    """The trial's keys, by the scheme of the module docstring (``hidden``: the unit's own
    hidden size, default ``spec.hidden``)."""
    trial_key = jax.random.fold_in(jax.random.key(seed, impl=spec.prng), trial)

    def sub(tag: int, size) -> jax.Array:
        # The tag and K (< 1024) share one 32-bit word: two fold_ins per key, not three.
        return jax.random.fold_in(jax.random.fold_in(trial_key, tag * 1024 + k), size)

    k = spec.n_classes
    return {
        "train": sub(1, spec.n_per_class),
        "test": sub(2, spec.n_test_per_class),
        "val": sub(3, spec.n_val_per_class),
        "init": sub(4, spec.hidden if hidden is None else hidden),
    }


def problem(spec: Spec, hyper: Hyper) -> problems.Problem | None:
    """The trial's classes, or None for a data set (no exact posterior).

    The paper's engine (``spec.problem == ""``): the config's means times the separation, the
    covariance, equal priors (checked once in :func:`jaxsoftmax.config.validate`), as a
    shared-covariance Gaussian :class:`~jaxsoftmax.problems.Problem`
    (:func:`jaxsoftmax.problems.from_gaussian_problem`). Otherwise the configured family's
    problem (:func:`jaxsoftmax.problems.problem_from_key`)."""
    if spec.problem:
        built = problem_from_key(spec.problem)
        return built if isinstance(built, problems.Problem) else None
    means = jnp.asarray(class_means(spec.n_classes), jnp.float32) * hyper.separation
    priors = jnp.full((spec.n_classes,), 1.0 / spec.n_classes, jnp.float32)
    cov = jnp.asarray(hyper.covariance, jnp.float32)
    return problems.from_gaussian_problem(gaussians.GaussianProblem(means, cov, priors))


def problem_summary(config: Config) -> dict:
    """What a report says about ``config``'s problem (JSON-ready): ``family``, ``name``,
    ``n_classes``, ``n_inputs``, ``exact_posterior`` (False for a data set: eq. (4)
    unavailable) and ``softmax_affine`` (:func:`jaxsoftmax.problems.is_softmax_affine`: whether
    the exact posterior is softmax(Wx + b); None without an exact posterior)."""
    spec, hyper = spec_of(config), hyper_of(config)
    prob = problem(spec, hyper)
    out = {
        "family": config.problem.family,
        "name": config.problem.dataset if prob is None else prob.name,
        "n_classes": spec.n_classes,
        "n_inputs": n_inputs(spec),
        "exact_posterior": prob is not None,
        "softmax_affine": None if prob is None else problems.is_softmax_affine(prob),
    }
    if prob is not None and not spec.problem:
        out["name"] = "the paper's engine (Gaussians, shared covariance)"
    return out


def n_inputs(spec: Spec) -> int:
    """p, the network's input size: 2 for the paper's engine, else the problem's."""
    return problem_from_key(spec.problem).n_inputs if spec.problem else 2


def _dataset(spec: Spec) -> tuple[datasets.Dataset, int] | None:
    """The data set of a ``data`` problem and its test split's size, or None."""
    if not spec.problem:
        return None
    built = problem_from_key(spec.problem)
    if not isinstance(built, datasets.Dataset):
        return None
    import json

    fraction = json.loads(spec.problem)["test_fraction"]
    return built, datasets.n_test_for(len(built.y), fraction)


def _optimizer(spec: Spec, hyper: Hyper):
    return train.make_optimizer(
        spec.optimizer, hyper.learning_rate, weight_decay=hyper.weight_decay if spec.decay else 0
    )


def _pairings(spec: Spec):
    return tuple(get_pairing(name) for name in spec.estimators)


def setup(spec: Spec, seed, trial, hyper: Hyper) -> tuple[train.TrainState, dict]:
    """The trial's data and the training state before the first step. Pure; vmap it.

    Simulated problems: training (and validation) samples by :func:`jaxsoftmax.problems.sample`
    from the ``train`` (``val``) key, the test sample from the ``test`` key. A data set: the
    trial's split by :func:`jaxsoftmax.datasets.trial_split` (stratified, standardised on the
    training split) from the ``test`` key, with the rows each split took (``train_index``,
    ``test_index``)."""
    k = keys(spec, seed, trial, hyper.hidden if spec.masked else None)
    q = spec.n_classes
    real = _dataset(spec)
    if real is not None:
        ds, n_test = real
        split = datasets.trial_split(k["test"], ds.x, ds.y, n_test, stratify=True)
        x, y, x_test, y_test = split.x_train, split.y_train, split.x_test, split.y_test
        extra = {"train_index": split.train_index, "test_index": split.test_index}
    else:
        prob = problem(spec, hyper)
        assert prob is not None
        x, y = problems.sample(k["train"], prob, spec.n_per_class)
        x_test, y_test = problems.sample(k["test"], prob, spec.n_test_per_class)
        extra = {}
    data = {"x": x, "y": y, "t": jax.nn.one_hot(y, q), "x_test": x_test, "y_test": y_test}
    data.update(extra)
    if spec.early_stopping:
        prob = problem(spec, hyper)
        assert prob is not None  # a data set with early stopping is refused by config.validate
        x_val, y_val = problems.sample(k["val"], prob, spec.n_val_per_class)
        data.update(x_val=x_val, t_val=jax.nn.one_hot(y_val, q))
    # Drawn at the program's hidden size: the first `hyper.hidden` units are exactly the
    # network of that size (mlp.init draws hidden-unit-first); the rest are masked.
    params = mlp.init(k["init"], n_inputs(spec), spec.hidden, q, scale=spec.init_scale)
    if spec.masked:
        data["mask"] = (jnp.arange(spec.hidden) < hyper.hidden).astype(jnp.float32)
    state = train.init_state(
        (params,) * len(spec.estimators),
        optimizer=_optimizer(spec, hyper),
        record_at=spec.record_at,
    )
    return state, data


def _val(data: dict) -> dict:
    """The optional arguments of training: validation sample, hidden-unit mask."""
    out = {"x_val": data["x_val"], "t_val": data["t_val"]} if "x_val" in data else {}
    if "mask" in data:
        out["mask"] = data["mask"]
    return out


def advance(spec: Spec, state, data: dict, hyper: Hyper, steps: int):
    """``steps`` more training steps of every estimator: ``(state, losses, val_losses)``,
    the losses ``(E, steps)``. Pure; vmap it."""
    return train.train_steps(
        state,
        data["x"],
        data["t"],
        pairings=_pairings(spec),
        steps=steps,
        optimizer=_optimizer(spec, hyper),
        **_val(data),
    )


def _scores(pairing, params, x_test, y_test, exact, mask=None) -> dict:
    # The estimated posteriors are the activation's outputs as they are: logistic outputs are
    # not renormalised (the paper scores them so), for eq. (4) and the scores of
    # jaxsoftmax.metrics alike. ``exact`` None (a data set): eq. (4) is NaN, and reported as
    # unavailable (jaxsoftmax.cli.report), never as a number.
    estimate = pairing.activate(mlp.apply(params, x_test, mask))
    sums = estimate.sum(-1)
    nan = jnp.asarray(jnp.nan, estimate.dtype)
    counts, conf_sum, right_sum = metrics._binned(estimate, y_test, metrics.DEFAULT_BINS)
    return {
        "eq4": nan if exact is None else gaussians.posterior_error(estimate, exact),
        "eq4_summed": (
            nan if exact is None else gaussians.posterior_error(estimate, exact, summed=True)
        ),
        "predicted": jnp.argmax(estimate, axis=-1),
        "output_sum_min": sums.min(),
        "output_sum_max": sums.max(),
        "log_loss": metrics.log_loss(estimate, y_test),
        "brier": metrics.brier_score(estimate, y_test),
        "ece": metrics.expected_calibration_error(estimate, y_test),
        "calibration": jnp.stack([counts, conf_sum, right_sum]),
    }


def evaluate(spec: Spec, state, data: dict, hyper: Hyper, losses, val_losses) -> dict:
    """The trial's metrics on its test sample. Pure; vmap it.

    Returns ``{metric: (E,)}`` for :data:`ESTIMATOR_METRICS` (``final_loss``: the mean
    training loss at the returned parameters; ``best_step``: the step whose parameters were
    returned), ``rates`` ``(E, K, K)`` (the class-conditional rates of Tables 4–6),
    ``bayes_error_rate`` ``()`` and ``bayes_rates`` ``(K, K)`` (Table 3) on the same test
    sample, and with ``record_at`` the ``*_by_length`` metrics ``(E, R)``. Beside eq. (4),
    :data:`SCORE_METRICS` ``(E,)`` (log-loss, Brier score, ECE with
    :data:`jaxsoftmax.metrics.DEFAULT_BINS` equal-width bins) and ``calibration``
    ``(E, 3, M)``. The exact posterior is :func:`jaxsoftmax.problems.posterior` of
    :func:`problem`; a data set has none: ``eq4``, ``eq4_summed`` and the Bayes rule's
    metrics are NaN there (unavailable).
    """
    pairings = _pairings(spec)
    q = spec.n_classes
    fits = train.finish(
        state,
        data["x"],
        data["t"],
        pairings=pairings,
        losses=losses,
        val_losses=val_losses,
        **_val(data),
    )
    x_test, y_test = data["x_test"], data["y_test"]
    mask = data.get("mask")
    prob = problem(spec, hyper)
    exact = None if prob is None else problems.posterior(prob, x_test)
    out: dict[str, list] = {}
    for pairing, fit in zip(pairings, fits):
        s = _scores(pairing, fit.params, x_test, y_test, exact, mask)
        row = {
            "eq4": s["eq4"],
            "eq4_summed": s["eq4_summed"],
            "error_rate": jnp.mean(s["predicted"] != y_test),
            "final_loss": train.mean_loss(pairing, fit.params, data["x"], data["t"], mask),
            "grad_norm": fit.grad_norm,
            "best_step": fit.best_step,
            "output_sum_min": s["output_sum_min"],
            "output_sum_max": s["output_sum_max"],
            "rates": gaussians.confusion_rates(s["predicted"], y_test, q),
            "log_loss": s["log_loss"],
            "brier": s["brier"],
            "ece": s["ece"],
            "calibration": s["calibration"],
        }
        if spec.record_at:
            snaps = jax.vmap(lambda p, pr=pairing: _scores(pr, p, x_test, y_test, exact, mask))(
                fit.snapshots
            )
            row["eq4_by_length"] = snaps["eq4"]
            row["eq4_summed_by_length"] = snaps["eq4_summed"]
            row["error_rate_by_length"] = jnp.mean(snaps["predicted"] != y_test, axis=-1)
        for name, value in row.items():
            out.setdefault(name, []).append(value)
    result = {name: jnp.stack(values) for name, values in out.items()}
    if exact is None:  # no Bayes rule without an exact posterior
        result["bayes_error_rate"] = jnp.asarray(jnp.nan, jnp.float32)
        result["bayes_rates"] = jnp.full((q, q), jnp.nan, jnp.float32)
    else:
        bayes = jnp.argmax(exact, axis=-1)
        result["bayes_error_rate"] = jnp.mean(bayes != y_test)
        result["bayes_rates"] = gaussians.confusion_rates(bayes, y_test, q)
    return result


def trial(spec: Spec, seed, trial, hyper: Hyper) -> dict:
    """One whole trial, :func:`setup` → :func:`advance` (``spec.steps``) → :func:`evaluate`:
    per-estimator metrics. Pure and jittable; vmap it over trials and cells."""
    state, data = setup(spec, seed, trial, hyper)
    state, losses, vals = advance(spec, state, data, hyper, spec.steps)
    return evaluate(spec, state, data, hyper, losses, vals)


# --------------------------------------------------------------------------------------------
# Batches of units
# --------------------------------------------------------------------------------------------


def n_calls(steps: int, most: int = 10) -> int:
    """How many equal calls (≤ ``most``) to run ``steps`` in: progress between calls, one
    compiled program for all of them."""
    return max(n for n in range(1, most + 1) if steps % n == 0)


def unit_sharding(
    # jax.Device is an untyped alias (Device = _xc.Device) in jax/__init__.py.
    devices: Sequence[jax.Device],  # pyright: ignore[reportInvalidTypeForm]
) -> NamedSharding:
    """Splits a leading (units) axis across ``devices``."""
    return NamedSharding(Mesh(np.array(list(devices)), ("units",)), PartitionSpec("units"))


def _fused(spec: Spec, keep: bool):
    """One unit, start to finish: :func:`setup`, ``spec.steps`` training steps,
    :func:`evaluate` (with ``keep``, also the data, parameters and losses)."""

    def one(seed, trial, hyper):
        state, data = setup(spec, seed, trial, hyper)
        state, losses, vals = advance(spec, state, data, hyper, spec.steps)
        out = evaluate(spec, state, data, hyper, losses, vals)
        if keep:
            out = {**out, "_data": data, "_params": state.params, "_losses": losses}
        return out

    return one


def pack(out: Mapping[str, jax.Array]) -> tuple[jax.Array, tuple]:
    """The per-unit outputs ``{name: (U, …)}`` as one ``(U, F)`` uint32 array (each field's
    bits, so one device→host transfer carries them all) and the layout to :func:`unpack` it."""
    fields, layout = [], []
    for name in sorted(out):
        a = out[name]
        if a.dtype == jnp.bool_:
            a = a.astype(jnp.int32)
        width = a.dtype.itemsize
        if width != 4:
            raise TypeError(f"pack: {name} has dtype {a.dtype}; 4-byte types only")
        flat = a.reshape(a.shape[0], -1)
        fields.append(jax.lax.bitcast_convert_type(flat, jnp.uint32))
        layout.append((name, a.shape[1:], np.dtype(a.dtype).str))
    return jnp.concatenate(fields, axis=1), tuple(layout)


def unpack(packed: np.ndarray, layout: tuple) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack` on the host: ``{name: (U, …)}`` NumPy arrays (views)."""
    out, col = {}, 0
    packed = np.ascontiguousarray(packed)
    for name, shape, dtype in layout:
        size = int(np.prod(shape, dtype=np.int64))
        out[name] = packed[:, col : col + size].view(np.dtype(dtype)).reshape(-1, *shape)
        col += size
    return out


def _split_packed(keep: bool, layout: dict, fn):
    """``fn``'s metrics packed into one array (:func:`pack`), the ``_``-keys kept apart."""

    def program(*args):
        out = dict(fn(*args))
        extra = {k: out.pop(k) for k in ("_data", "_params", "_losses") if k in out}
        packed, layout["layout"] = pack(out)
        return packed, extra

    return program


@functools.lru_cache(maxsize=64)
def _program(
    stage: str,
    spec: Spec,
    sharding: NamedSharding,
    steps: int = 0,
    keep: bool = False,
    pairings: tuple = (),
):
    """One jitted, vmapped program pinned to ``sharding``, compiled once per (stage, spec,
    devices, batch size, steps per call): ``"trial"`` (setup → train → evaluate in ONE
    program, metrics packed for one transfer) or the stages ``"setup"``, ``"advance"``,
    ``"evaluate"`` of a run with progress between calls. Returns the jitted function and
    the packed layout (filled when it is first traced). No host callbacks: every program
    can be kept in the persistent compilation cache (JAX does not cache programs with host
    callbacks). ``pairings`` (the estimators' objects) only keys the cache: a pairing
    redefined under the same name (``replace=True``) gets a program of its own."""
    layout: dict = {}
    if stage == "trial":
        fn = _split_packed(keep, layout, jax.vmap(_fused(spec, keep)))
        return jax.jit(fn, in_shardings=sharding, out_shardings=sharding), layout
    if stage == "setup":
        fn = jax.vmap(functools.partial(setup, spec))
        return jax.jit(fn, in_shardings=sharding, out_shardings=sharding), layout
    if stage == "advance":
        fn = jax.vmap(functools.partial(advance, spec, steps=steps))
        return (
            jax.jit(fn, donate_argnums=0, in_shardings=sharding, out_shardings=sharding),
            layout,
        )
    fn = _split_packed(False, layout, jax.vmap(functools.partial(evaluate, spec)))
    return jax.jit(fn, in_shardings=sharding, out_shardings=sharding), layout


_TRACED: dict[str, tuple] = {}


def _traced(
    stage: str,
    spec: Spec,
    sharding: NamedSharding,
    keep: bool,
    pairings,
    args,
    steps: int = 0,
):
    """:func:`_program`, its traced form kept in the persistent compilation cache's folder.

    JAX's persistent cache keeps the *compiled* program, but every process still traces the
    Python code (for the whole trial: ~1 s on a 2-core CPU, more than running a small
    batch). So the traced program is exported (:mod:`jax.export`) to
    ``<cache>/jaxsoftmax-traced/<key>``, keyed by the JAX versions, the stage, the spec, the
    steps per call, the devices, the argument shapes and the digest of every source file that
    computes the numbers (:func:`jaxsoftmax.provenance.sources_digest`): a later process
    deserialises it and compiles (from the persistent cache) without tracing. Every stage is
    kept: the fused ``"trial"`` and the staged ``"setup"``, ``"advance"``, ``"evaluate"``
    (whose arguments and results carry the training state: its NamedTuple types, the
    optimiser's included, are registered for serialisation by name). Without a cache folder,
    or when the export cannot be written (a pytree type that is not a NamedTuple), it is
    traced as usual. The numbers are the same: the exported module is the traced one (a test
    checks it bit for bit)."""
    import hashlib
    import json

    from . import io, provenance

    cache = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
    if not cache:
        return _program(stage, spec, sharding, steps, keep=keep, pairings=pairings)
    avals = [(a.shape, str(a.dtype)) for a in jax.tree.leaves(args)]
    devices = np.asarray(sharding.mesh.devices).ravel()
    text = json.dumps(
        [
            jax.__version__,
            jax.lib.__version__,  # type: ignore[attr-defined]
            stage,
            steps,
            repr(spec),
            keep,
            [(d.platform, d.device_kind) for d in devices],
            avals,
            provenance.sources_digest(spec.estimators),
        ]
    )
    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    if key in _TRACED:
        return _TRACED[key]
    folder = Path(cache).expanduser() / "jaxsoftmax-traced"
    blob, meta = folder / f"{key}.bin", folder / f"{key}.json"
    exported = None
    layout: dict = {}
    _register_serialization()
    if blob.exists() and meta.exists():
        try:
            info = json.loads(meta.read_text())
            _register_named(info["types"])
            exported = jax.export.deserialize(bytearray(blob.read_bytes()))
            if info["layout"] is not None:
                layout = {"layout": _layout_from_json(info["layout"])}
        except Exception:  # a damaged, foreign or old entry: trace again (and overwrite it)
            exported, layout = None, {}
    if exported is None:
        program, layout = _program(stage, spec, sharding, steps, keep=keep, pairings=pairings)
        try:
            exported = jax.export.export(program)(*args)
            types = _named_types(exported.in_tree) | _named_types(exported.out_tree)
            names = _register_named(sorted(types))
            data = exported.serialize()
            folder.mkdir(parents=True, exist_ok=True)
            io.write_bytes(blob, bytes(data))
            info = {
                "layout": _layout_to_json(layout["layout"]) if "layout" in layout else None,
                "types": names,
            }
            io.write_text(meta, json.dumps(info))
        except Exception:  # not exportable here (or the folder not writable): trace as usual
            return program, layout
    donate = (0,) if stage == "advance" else ()
    fn = jax.jit(exported.call, out_shardings=sharding, donate_argnums=donate)
    _TRACED[key] = (fn, layout)
    return fn, layout


def _named_types(tree) -> set[str]:
    """``module:qualname`` of every non-builtin pytree node type in ``tree`` (a PyTreeDef);
    :class:`TypeError` for one that is not a NamedTuple (it cannot be serialised by name)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        t = stack.pop()
        node = t.node_data()
        if node is not None and node[0] not in (tuple, list, dict, type(None)):
            typ = node[0]
            if not (issubclass(typ, tuple) and hasattr(typ, "_fields")):
                raise TypeError(f"{typ!r} is not a NamedTuple")
            found.add(f"{typ.__module__}:{typ.__qualname__}")
        stack.extend(t.children())
    return found


def _register_named(names) -> list[str]:
    """Registers the NamedTuple types ``module:qualname`` for :mod:`jax.export`'s serialisation
    (each under its own name; a type registered before is left as it is)."""
    import importlib

    for name in names:
        module, _, qualname = name.partition(":")
        typ: Any = importlib.import_module(module)
        for part in qualname.split("."):
            typ = getattr(typ, part)
        if typ is Hyper:
            continue
        try:
            jax.export.register_namedtuple_serialization(typ, serialized_name=name)
        except ValueError:  # already registered
            pass
    return list(names)


def _register_serialization() -> None:
    try:
        jax.export.register_namedtuple_serialization(Hyper, serialized_name="jaxsoftmax.Hyper")
    except ValueError:  # already registered
        pass


def _layout_to_json(layout) -> list:
    return [[name, list(shape), dtype] for name, shape, dtype in layout]


def _layout_from_json(data) -> tuple:
    return tuple((name, tuple(shape), dtype) for name, shape, dtype in data)


FUSED_WORK = 1e11
"""Training work (multiply–adds, :func:`training_work`) up to which a CPU run is ONE program
by default: about twice the paper's reproduction (4.3e10), whose training takes ~4 s on a
2-core CPU, so a run without progress between calls stays under ~10 s there."""


def training_work(spec: Spec, units: int = 1) -> float:
    """Multiply–adds of training ``units`` units, roughly: steps × estimators × training
    points × (forward + backward ≈ 3 ×) the network's weights. A size to choose the form
    of a program and a sweep's chunk size (:func:`jaxsoftmax.sweeps.plan.default_chunk_size`),
    not a benchmark."""
    n = spec.n_per_class * spec.n_classes
    weights = spec.hidden * (n_inputs(spec) + 1) + spec.n_classes * (spec.hidden + 1)
    return 3.0 * units * spec.steps * len(spec.estimators) * n * weights


def default_calls(spec: Spec, devices: Sequence, units: int = 1) -> int:
    """Training calls by default: ONE (the whole trial as one program: one compilation, and
    the fastest form; measured on a 2-core CPU, the paper's reproduction trains in ~15% less
    CPU time fused than in 10 calls, and compiles in less time) on an accelerator, and on a
    CPU for a run up to :data:`FUSED_WORK`; a longer CPU run trains in :func:`n_calls`
    calls, with progress between them."""
    if devices[0].platform != "cpu" or training_work(spec, units) <= FUSED_WORK:
        return 1
    return n_calls(spec.steps)


def run_units(
    spec: Spec,
    seeds: np.ndarray,
    trials: np.ndarray,
    hyper: Hyper,
    *,
    # jax.Device is an untyped alias (Device = _xc.Device) in jax/__init__.py.
    devices: Sequence[jax.Device] | None = None,  # pyright: ignore[reportInvalidTypeForm]
    calls: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep: bool = False,
) -> dict:
    """Computes a batch of units (``seeds``, ``trials`` ``(U,)``; ``hyper`` leaves ``(U, …)``):
    :func:`trial` vmapped, jitted once per (spec, devices, batch size), sharded over
    ``devices`` (default: the largest number of local devices that divides U).

    With ``calls=1`` the whole trial is ONE compiled program; with ``calls > 1`` training
    runs in that many equal calls of one program between a setup and an evaluation program,
    with ``progress(steps_done)`` after each (default :func:`default_calls`). The numbers
    are the same either way (a test checks it bit for bit). Returns host NumPy arrays,
    ``{metric: (U, …)}`` as :func:`evaluate` gives them, fetched in ONE device→host
    transfer; with ``keep``, also ``"_data"``, ``"_params"`` and ``"_losses"`` (the data,
    trained parameters and losses of every unit, for figures). :func:`start_units` is the
    same, asynchronous.
    """
    return start_units(
        spec, seeds, trials, hyper, devices=devices, calls=calls, progress=progress, keep=keep
    )()


def start_units(
    spec: Spec,
    seeds: np.ndarray,
    trials: np.ndarray,
    hyper: Hyper,
    *,
    # jax.Device is an untyped alias (Device = _xc.Device) in jax/__init__.py.
    devices: Sequence[jax.Device] | None = None,  # pyright: ignore[reportInvalidTypeForm]
    calls: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep: bool = False,
) -> Callable[[], dict]:
    """:func:`run_units`, returning at once (with ``calls=1``) a function that waits for the
    result and returns it: the program runs asynchronously meanwhile, so the caller can
    dispatch the next batch first (the sweeps do)."""
    u = len(trials)
    if devices is None:
        local = jax.local_devices()
        devices = local[: max(d for d in range(1, len(local) + 1) if u % d == 0)]
    devices = list(devices)
    if u % len(devices):
        raise ValueError(f"{u} units cannot be split evenly over {len(devices)} devices")
    calls = calls or default_calls(spec, devices, u)
    if spec.steps % calls:
        raise ValueError(f"calls={calls} must divide the {spec.steps} steps")
    sharding = unit_sharding(devices)
    args = jax.device_put(
        (np.asarray(seeds, np.uint32), np.asarray(trials, np.int32), Hyper(*hyper)), sharding
    )
    if calls == 1:
        program, layout = _traced("trial", spec, sharding, keep, _pairings(spec), args)
        packed, extra = program(*args)
    else:
        packed, extra, layout = _staged(spec, sharding, calls, args, progress, keep)

    def result() -> dict:
        host, extra_host = jax.device_get((packed, extra))
        out = unpack(np.asarray(host), layout["layout"])
        out.update(extra_host)
        if progress is not None and calls == 1:
            progress(spec.steps)
        return out

    return result


def _staged(spec: Spec, sharding, calls: int, args, progress, keep: bool):
    pairings = _pairings(spec)
    steps = spec.steps // calls
    setup_fn, _ = _traced("setup", spec, sharding, False, pairings, args)
    hyper_d = args[2]
    state, data = setup_fn(*args)
    train_args = (state, data, hyper_d)
    advance_fn, _ = _traced("advance", spec, sharding, False, pairings, train_args, steps)
    loss_chunks, val_chunks = [], []
    for i in range(calls):
        state, chunk_losses, chunk_vals = advance_fn(state, data, hyper_d)
        loss_chunks.append(chunk_losses)
        val_chunks.append(chunk_vals)
        if progress is not None:
            jax.block_until_ready(state.step)
            progress((i + 1) * (spec.steps // calls))
    # Joined on the host: an eager jnp.concatenate would compile a program of its own.
    losses = np.concatenate(jax.device_get(loss_chunks), axis=-1)
    vals = np.concatenate(jax.device_get(val_chunks), axis=-1)
    eval_args = (state, data, hyper_d, losses, vals)
    evaluate_fn, layout = _traced("evaluate", spec, sharding, False, pairings, eval_args)
    packed, _ = evaluate_fn(*eval_args)
    extra = {}
    if keep:
        extra = {"_data": data, "_params": state.params, "_losses": losses}
    return packed, extra, layout


def run(
    config: Config,
    *,
    # jax.Device is an untyped alias (Device = _xc.Device) in jax/__init__.py.
    devices: Sequence[jax.Device] | None = None,  # pyright: ignore[reportInvalidTypeForm]
    progress: Callable[[int], None] | None = None,
    keep: bool = False,
) -> dict:
    """Every trial of ``config`` (validated here): :func:`run_units` over trials 0 … T−1."""
    config = validate(config)
    t = config.trials
    hyper = Hyper(*(np.broadcast_to(a, (t, *np.shape(a))) for a in hyper_of(config)))
    return run_units(
        spec_of(config),
        np.full(t, config.seed, np.uint32),
        np.arange(t, dtype=np.int32),
        hyper,
        devices=devices,
        progress=progress,
        keep=keep,
    )


def per_estimator(config: Config, results: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """``results`` of :func:`run` regrouped by estimator name: ``{name: {metric: (T, …)}}``."""
    out: dict[str, dict] = {}
    for e, name in enumerate(config.estimators):
        out[name] = {k: v[:, e] for k, v in results.items() if not k.startswith(("_", "bayes"))}
    return out
