r"""Computing a sweep (:mod:`jaxsoftmax.sweep`): chunks of (cell, trial) units, vmapped, jitted
once per group of cells, and sharded over every local device.

One *unit* is one trial of one cell: independent training and test samples from the cell's
Gaussian classes, one initial weight draw shared by every pairing, each pairing trained with
:func:`jaxsoftmax.train.fit_many` (all pairings in one ``lax.scan``), then, on the test
sample, the paper's eq. (4) (:func:`jaxsoftmax.gaussians.posterior_error`, as defined and
summed), the error rate, the final training loss and gradient norm.

**Keys.** A unit's key is ``fold_in(fold_in(key(seed), cell), trial)`` (threefry), made inside
the computation from the integer (cell, trial): the numbers of a unit do not depend on which
chunk, batch position or device computes it (up to float reassociation in batched kernels).

**Hyperparameters as arrays.** Separation, covariance, learning rate and weight decay may
differ between the units of a chunk. The learning rate enters by scaling: every optimiser
``make_optimizer`` knows ends in ``scale(-lr)``, so ``make_optimizer(name, 1)`` followed by
``scale(lr)`` takes exactly the same steps; the weight decay is added to the gradient first,
as ``make_optimizer(..., weight_decay=)`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import gaussians, mlp, train
from .pairings import get_pairing
from .sweep import Chunk, SweepConfig, class_means, covariance_matrix

__all__ = [
    "METRICS",
    "ChunkSpec",
    "chunk_function",
    "chunk_inputs",
    "chunk_spec",
    "run_chunk",
    "unit_metrics",
]

METRICS = ("eq4", "eq4_summed", "error_rate", "final_loss", "grad_norm")


class ChunkSpec(NamedTuple):
    """The static values of a compiled chunk (hashable: one compilation per spec)."""

    n_per_class: int
    hidden: int
    n_classes: int
    steps: int
    optimizer: str
    pairings: tuple[str, ...]
    n_test_per_class: int
    init_scale: float
    seed: int


def chunk_spec(config: SweepConfig, chunk: Chunk) -> ChunkSpec:
    """The :class:`ChunkSpec` of ``chunk`` (its static values plus the sweep-wide ones)."""
    n, h, k, steps, opt = chunk.static
    return ChunkSpec(
        n,
        h,
        k,
        steps,
        opt,
        tuple(config.pairings),
        config.n_test_per_class,
        config.init_scale,
        config.seed,
    )


def unit_metrics(spec: ChunkSpec, cell, trial, separation, cov, lr, wd) -> dict:
    """One unit's results, ``{metric: (E,)}`` per pairing plus ``bayes_error_rate`` ``()``.

    Pure and jittable; vmap it over units. ``cell``, ``trial``: int32 scalars; ``separation``,
    ``lr``, ``wd``: float scalars; ``cov``: ``(2, 2)``.
    """
    key = jax.random.key(spec.seed, impl="threefry2x32")
    key = jax.random.fold_in(jax.random.fold_in(key, cell), trial)
    k_train, k_test, k_init = jax.random.split(key, 3)
    means = jnp.asarray(class_means(spec.n_classes), jnp.float32) * separation
    priors = jnp.full((spec.n_classes,), 1.0 / spec.n_classes, jnp.float32)
    problem = gaussians.GaussianProblem(means, cov, priors)  # checked up front (sweep.py)
    x, y = gaussians.sample(k_train, problem, spec.n_per_class)
    x_test, y_test = gaussians.sample(k_test, problem, spec.n_test_per_class)
    params = mlp.init(k_init, 2, spec.hidden, spec.n_classes, scale=spec.init_scale)
    optimizer = optax.chain(
        optax.add_decayed_weights(wd),
        train.make_optimizer(spec.optimizer, 1.0),
        optax.scale(lr),
    )
    pairings = tuple(get_pairing(name) for name in spec.pairings)
    t = jax.nn.one_hot(y, spec.n_classes)
    fits = train.fit_many(
        (params,) * len(pairings), x, t, pairings=pairings, optimizer=optimizer, steps=spec.steps
    )
    exact = gaussians.bayes_posterior(problem, x_test)
    out = {m: [] for m in METRICS}
    for pairing, fit in zip(pairings, fits):
        estimate = pairing.activate(mlp.apply(fit.params, x_test))
        out["eq4"].append(gaussians.posterior_error(estimate, exact))
        out["eq4_summed"].append(gaussians.posterior_error(estimate, exact, summed=True))
        out["error_rate"].append(jnp.mean(jnp.argmax(estimate, -1) != y_test))
        out["final_loss"].append(train.mean_loss(pairing, fit.params, x, t))
        out["grad_norm"].append(fit.grad_norm)
    out = {m: jnp.stack(v) for m, v in out.items()}
    out["bayes_error_rate"] = jnp.mean(jnp.argmax(exact, -1) != y_test)
    return out


def batch_sharding(devices: Sequence[jax.Device] | None = None) -> NamedSharding:
    """Splits a leading (units) axis across ``devices`` (default: every local device)."""
    devices = jax.local_devices() if devices is None else list(devices)
    return NamedSharding(Mesh(np.array(devices), ("units",)), PartitionSpec("units"))


@functools.lru_cache(maxsize=64)
def chunk_function(spec: ChunkSpec, sharding: NamedSharding):
    """``jit(vmap(unit_metrics))`` for ``spec``, inputs and outputs pinned to ``sharding``
    (so it compiles once per spec and chunk size)."""
    fn = jax.vmap(functools.partial(unit_metrics, spec))
    return jax.jit(fn, in_shardings=sharding, out_shardings=sharding)


def chunk_inputs(config: SweepConfig, chunk: Chunk) -> tuple[np.ndarray, ...]:
    """Host arrays ``(cell, trial, separation, cov, lr, wd)`` for the padded units of ``chunk``."""
    units = chunk.padded_units()
    cells = [config.cells[c].values for c, _ in units]
    return (
        np.array([c for c, _ in units], np.int32),
        np.array([t for _, t in units], np.int32),
        np.array([v["separation"] for v in cells], np.float32),
        np.array([covariance_matrix(v["covariance"]) for v in cells], np.float32),
        np.array([v["learning_rate"] for v in cells], np.float32),
        np.array([v["weight_decay"] for v in cells], np.float32),
    )


def run_chunk(
    config: SweepConfig, chunk: Chunk, devices: Sequence[jax.Device] | None = None
) -> dict[str, np.ndarray]:
    """Computes ``chunk`` sharded over ``devices`` (default all local devices; ``chunk.size``
    must be a multiple of their number) and returns host arrays without the padding:
    ``{metric: (units, E)}`` and ``bayes_error_rate`` ``(units,)``."""
    sharding = batch_sharding(devices)
    if chunk.size % sharding.mesh.size:
        raise ValueError(
            f"chunk size {chunk.size} is not a multiple of the {sharding.mesh.size} devices"
        )
    fn = chunk_function(chunk_spec(config, chunk), sharding)
    inputs = jax.device_put(chunk_inputs(config, chunk), sharding)
    out = jax.device_get(fn(*inputs))
    return {k: np.asarray(v)[: len(chunk.units)] for k, v in out.items()}
