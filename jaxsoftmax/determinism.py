"""The determinism contract of a sweep's numbers across layouts (docs/cluster.md).

Bitwise: the same chunk size on any number of devices or workers of one platform (the plan
fixes every unit's chunk, :mod:`jaxsoftmax.sweeps.plan`). Across chunk sizes or device
counts a smooth pairing agrees to :data:`CROSS_LAYOUT_RTOL`; a *chaotic* pairing (one whose
training amplifies a one-ulp change of the initial weights, :func:`ulp_spread`) does not,
and a sweep's summary names it (:data:`CHAOTIC`). Light to import: no Dask, no JAX until
:func:`ulp_spread` is called.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["CHAOTIC", "CROSS_LAYOUT_RTOL", "ulp_spread"]

# eq. (4) of smooth pairings across chunk sizes / device counts (measured: <= 2e-6 relative
# on CPU for the tests' sweeps; a factor of 10 margin).
CROSS_LAYOUT_RTOL = 2e-5
# Pairings whose training amplifies a one-ulp change of the initial weights far beyond
# float32 rounding: pairing -> the median relative change of eq. (4) after training, measured
# by `python experiments/bench_cluster.py --chaos` (the paper's set-up, 2000 Adam steps, 20
# trials; docs/cluster.md). Smooth pairings measured there: median <= 2e-6.
CHAOTIC: Mapping[str, float] = {"l1/cross_entropy": 2.2e-1, "l1/least_squares": 1.5e-2}


def ulp_spread(config, *, ulps: int = 1) -> dict[str, np.ndarray]:
    """Per estimator of ``config``: the relative change of eq. (4) after training, per
    trial, when every initial weight moves by ``ulps`` ulp (``nextafter`` towards +inf),
    everything else (data, steps, devices) the same: ``|e' - e| / |e|``. Float32 rounding
    alone gives ~1e-7 .. 1e-5 for a smooth pairing; a chaotic one gives O(1e-2 .. 1)."""
    import jax
    import jax.numpy as jnp

    from . import experiment as X
    from .config import validate

    config = validate(config)
    spec = X.spec_of(config)
    t = config.trials
    hyper = X.Hyper(*(np.broadcast_to(a, (t, *np.shape(a))) for a in X.hyper_of(config)))
    seeds = np.full(t, config.seed, np.uint32)
    trials = np.arange(t, dtype=np.int32)

    def one(seed, trial, hyper, shift):
        state, data = X.setup(spec, seed, trial, hyper)

        def nudge(p):
            q = p
            for _ in range(shift):
                q = jnp.nextafter(q, jnp.full_like(q, jnp.inf))
            return q

        params = jax.tree_util.tree_map(nudge, state.params)
        # The optimiser's moments start at zero: only the weights (and the early-stopping
        # copy of them) move.
        state = state._replace(params=params, best_params=params)
        state, losses, vals = X.advance(spec, state, data, hyper, spec.steps)
        return X.evaluate(spec, state, data, hyper, losses, vals)["eq4"]

    both = jax.jit(jax.vmap(lambda s, tr, h: (one(s, tr, h, 0), one(s, tr, h, ulps))))
    base, moved = (np.asarray(a, np.float64) for a in both(seeds, trials, hyper))
    rel = np.abs(moved - base) / np.maximum(np.abs(base), 1e-30)
    return {name: rel[:, e] for e, name in enumerate(config.estimators)}
