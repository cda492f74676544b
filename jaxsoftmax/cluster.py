"""Sweeps on many machines: chunks as tasks of a `Dask distributed <https://distributed.dask.org>`_
cluster (``jaxsoftmax sweep FILE --cluster local:N | tcp://HOST:PORT | SCHEDULER_FILE``).

**Who does what.** The *driver* (the ``jaxsoftmax sweep`` process) plans the missing chunks
from its results folder (:func:`jaxsoftmax.cli.sweep.scan`), submits them as tasks of
:func:`compute_chunk` a few at a time, and, as each finishes (``as_completed``), writes its
records through the same atomic writer as the single-process path; the summary is written
once, at the end, by the driver. A *worker* runs one chunk per task exactly as the
single-process path does (:func:`jaxsoftmax.cli.sweep.run_chunk`: one compiled, vmapped
program sharded over the worker's local devices) and returns the chunk's metrics (a few
small arrays) to the driver: no shared filesystem is needed. The scheduler assigns chunks to
free workers dynamically and gives the chunk of a worker that died to another one.

**Workers' runtime.** :class:`RuntimePlugin` (a Dask ``WorkerPlugin``) sets each worker's
XLA host-device count, compilation cache and ``--plugin`` imports before its first JAX
computation (:func:`ensure_runtime`, the same logic as the command line's
:func:`jaxsoftmax.cli.common.setup_runtime`); :func:`compute_chunk` calls it again, so a
worker that joined late or lost the plugin is set up all the same.

**Determinism contract** (``docs/cluster.md``; enforced by ``tests/test_cluster.py``): the
same description, the same chunk size and the same number of devices per worker give
bitwise-identical records on any number of workers or processes, resumed or not, as the
single-process run on that many devices; across chunk sizes or device counts, smooth
pairings agree to :data:`CROSS_LAYOUT_RTOL` on eq. (4). Pairings in :data:`CHAOTIC` amplify
a one-ulp change of the initial weights to visibly different results
(:func:`ulp_spread`), so for them only the bitwise guarantee holds.

Importing this module needs no Dask; using a cluster does (``pip install
'jaxsoftmax[cluster]'``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import os
import pickle
import re
import socket
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from distributed.diagnostics.plugin import WorkerPlugin
else:
    try:  # the base class of the worker plugin; the module stays importable without Dask
        from distributed.diagnostics.plugin import WorkerPlugin
    except ImportError:  # pragma: no cover - exercised only without the [cluster] extra
        WorkerPlugin = object

__all__ = [
    "CHAOTIC",
    "CROSS_LAYOUT_RTOL",
    "ClusterError",
    "Engine",
    "Runtime",
    "RuntimePlugin",
    "compute_chunk",
    "connect",
    "ensure_runtime",
    "parse_cluster",
    "ulp_spread",
]

log = logging.getLogger("jaxsoftmax")

# Seconds to wait for a scheduler (and, for an existing cluster, its first worker).
CONNECT_TIMEOUT = 20.0
# eq. (4) of smooth pairings across chunk sizes / device counts (measured: <= 2e-6 relative
# on CPU for the tests' sweeps; a factor of 10 margin).
CROSS_LAYOUT_RTOL = 2e-5
# Pairings whose training amplifies a one-ulp change of the initial weights far beyond
# float32 rounding: pairing -> the median relative change of eq. (4) after training, measured
# by `python experiments/bench_cluster.py --chaos` (the paper's set-up, 2000 Adam steps, 20
# trials; docs/cluster.md). Smooth pairings measured there: median <= 2e-6.
CHAOTIC: Mapping[str, float] = {"l1/cross_entropy": 2.2e-1, "l1/least_squares": 1.5e-2}


class ClusterError(ValueError):
    """A ``--cluster`` value, scheduler or worker that cannot be used (one line, why)."""


# --------------------------------------------------------------------------------------------
# The workers' runtime
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Runtime:
    """What a worker sets before its first JAX computation (small; sent with every task).

    ``devices``: XLA host devices on a CPU, the first N devices elsewhere (0: one per core /
    all of them); ``cache_dir``: the persistent compilation cache (None: off); ``plugins``:
    modules or ``.py`` files to import (their pairings), as ``--plugin``."""

    devices: int = 0
    cache_dir: str | None = None
    plugins: tuple[str, ...] = ()


_RUNTIME: dict = {"runtime": None, "devices": None, "plugins": set()}


def ensure_runtime(runtime: Runtime) -> list:
    """Sets up this process for ``runtime`` once (host-device count, compilation cache,
    plugins) and returns its devices. The device count only takes effect before the first
    JAX computation of the process: the caller checks the count it gets."""
    if _RUNTIME["runtime"] == runtime:
        return _RUNTIME["devices"]
    from .cli import common

    for plugin in runtime.plugins:
        if plugin not in _RUNTIME["plugins"]:
            common.load_plugin(plugin)
            _RUNTIME["plugins"].add(plugin)
    args = argparse.Namespace(
        devices=runtime.devices,
        cache_dir=runtime.cache_dir or "",
        no_cache=runtime.cache_dir is None,
    )
    devices = common.setup_runtime(args)
    _RUNTIME.update(runtime=runtime, devices=devices)
    return devices


class RuntimePlugin(WorkerPlugin):
    """Runs :func:`ensure_runtime` on every worker as it joins, before any task."""

    name = "jaxsoftmax-runtime"

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def setup(self, worker=None):
        ensure_runtime(self.runtime)


def describe_worker(runtime: Runtime | None = None) -> dict:
    """This process's devices (after :func:`ensure_runtime` when ``runtime`` is given)."""
    import jax

    devices = ensure_runtime(runtime) if runtime is not None else jax.local_devices()
    return {
        "platform": devices[0].platform,
        "devices": len(devices),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


# --------------------------------------------------------------------------------------------
# The task
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _sweep(payload: bytes):
    return pickle.loads(payload)


def compute_chunk(payload: bytes, chunk, n_devices: int, runtime: Runtime) -> dict:
    """One task: the chunk's metrics (``{metric: (units, …)}`` for the records, padding
    dropped), computed by :func:`jaxsoftmax.cli.sweep.run_chunk` on the worker's first
    ``n_devices`` devices; ``payload`` is the pickled sweep (unpickled once per worker)."""
    from .cli.sweep import RECORD_METRICS, run_chunk

    devices = ensure_runtime(runtime)
    if len(devices) < n_devices:
        raise ClusterError(
            f"worker {socket.gethostname()}:{os.getpid()} has {len(devices)} "
            f"{devices[0].platform} device(s), the chunks are planned for {n_devices}: start "
            "it before any JAX use, or pass --devices"
        )
    start = time.perf_counter()
    out = run_chunk(_sweep(payload), chunk, devices[:n_devices])
    metrics = {m: np.asarray(out[m]) for m in (*RECORD_METRICS, "bayes_error_rate")}
    return {
        "metrics": metrics,
        "seconds": time.perf_counter() - start,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


# --------------------------------------------------------------------------------------------
# The driver: where the cluster is, connecting, submitting chunks
# --------------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://(.*)$", re.I)
_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def parse_cluster(text: str) -> tuple[str, int | str]:
    """``local:N`` -> ``("local", N)``; ``tcp://HOST:PORT`` (or another Dask protocol) ->
    ``("address", text)``; an existing file -> ``("scheduler_file", path)``. Anything else
    is a :class:`ClusterError` naming the accepted forms."""
    forms = (
        "expected local:N (N >= 1 worker processes on this machine), tcp://HOST:PORT (a "
        "running Dask scheduler) or the path of a scheduler file (dask scheduler "
        "--scheduler-file)"
    )
    text = str(text).strip()
    if text.lower().startswith("local"):
        m = re.fullmatch(r"local:(\d+)", text, re.I)
        if not m or int(m.group(1)) < 1:
            raise ClusterError(f"--cluster {text}: {forms}")
        return "local", int(m.group(1))
    m = _SCHEME.match(text)
    if m:
        scheme, rest = m.group(1).lower(), m.group(2)
        if scheme not in _SCHEMES or not rest:
            raise ClusterError(f"--cluster {text}: unknown or empty address; {forms}")
        return "address", text
    if text and Path(text).expanduser().is_file():
        return "scheduler_file", str(Path(text).expanduser())
    raise ClusterError(f"--cluster {text}: no such scheduler file; {forms}")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "--cluster needs Dask distributed: python3 -m pip install 'jaxsoftmax[cluster]'"
        ) from None
    return distributed


@dataclasses.dataclass
class Engine:
    """A connected cluster, ready for :meth:`run_chunks`: the client, the workers' runtime,
    the devices per task (``n_devices``, their ``platform``) and the worker resources each
    task requires (``{"GPU": 1}``)."""

    client: Any  # a distributed.Client
    runtime: Runtime
    n_devices: int
    platform: str
    resources: dict | None = None
    where: str = ""
    retries: int = 0

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def slots(self) -> int:
        """Tasks that can run at once (threads over all workers)."""
        return max(1, sum(self.client.nthreads().values()))

    def run_chunks(self, sweep, chunks: Sequence) -> Iterator[tuple[object, dict]]:
        """Yields ``(chunk, result of compute_chunk)`` as chunks finish, in any order.

        At most two tasks per worker thread are submitted at a time (the scheduler's queue
        and the driver's memory stay proportional to a chunk, not to the sweep); a chunk
        whose worker dies is given by the scheduler to another worker. Closing the generator
        early (an interrupted sweep) cancels the chunks in flight."""
        distributed = _distributed()
        payload = pickle.dumps(sweep, protocol=pickle.HIGHEST_PROTOCOL)
        todo = deque(chunks)
        owner: dict = {}
        done = distributed.as_completed()
        tag = sweep.hash[:8]

        def submit():
            chunk = todo.popleft()
            future = self.client.submit(
                compute_chunk,
                payload,
                chunk,
                self.n_devices,
                self.runtime,
                key=f"jaxsoftmax-{tag}-{chunk.name}",
                pure=False,
                resources=self.resources,
                retries=self.retries,
            )
            owner[future] = chunk
            done.add(future)

        try:
            for _ in range(min(len(todo), 2 * self.slots())):
                submit()
            for future in done:
                chunk = owner.pop(future)
                try:
                    result = future.result()
                except distributed.KilledWorker as err:
                    raise ClusterError(
                        f"chunk {chunk.name}: its workers died repeatedly ({err}); see the "
                        "workers' logs (memory limit? device failure?)"
                    ) from None
                except ClusterError:
                    raise
                except Exception as err:
                    raise ClusterError(
                        f"chunk {chunk.name} failed on a worker: {type(err).__name__}: {err}"
                    ) from None
                future.release()
                yield chunk, result
                del result
                if todo:
                    room = 2 * self.slots() - len(owner)
                    for _ in range(min(len(todo), max(room, 1 if not owner else 0))):
                        submit()
        finally:
            if owner:
                self.client.cancel(list(owner))
            done.clear()


@contextmanager
def connect(
    text: str,
    *,
    devices: int = 0,
    cache_dir: str | None = None,
    plugins: Sequence[str] = (),
    resources: Mapping[str, float] | None = None,
    timeout: float | None = None,
) -> Iterator[Engine]:
    """Starts (``local:N``) or joins (an address, a scheduler file) a Dask cluster, sets up
    its workers (:class:`RuntimePlugin`) and yields an :class:`Engine`; a local cluster is
    closed on exit, a joined one is left running.

    ``devices``: per worker (a local cluster's default: the cores shared out, at least 1;
    a joined cluster's: what its workers have, the smallest count if they differ)."""
    kind, value = parse_cluster(text)
    distributed = _distributed()
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    cluster = None
    if kind == "local":
        per = devices or max(1, (os.cpu_count() or 1) // int(value))
        runtime = Runtime(per, cache_dir, tuple(plugins))
        extra: dict[str, Any] = {"resources": dict(resources)} if resources else {}
        cluster = distributed.LocalCluster(
            n_workers=int(value),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # its HTTP routes: loopback, a free port
            silence_logs=logging.ERROR,
            **extra,
        )
        client = distributed.Client(cluster, timeout=f"{timeout}s")
    else:
        runtime = Runtime(devices, cache_dir, tuple(plugins))
        target: dict[str, Any] = (
            {"address": value} if kind == "address" else {"scheduler_file": value}
        )
        try:
            client = distributed.Client(**target, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ClusterError(
                f"--cluster {text}: cannot reach the Dask scheduler within {timeout:g} s "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
            ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(
                f"--cluster {text}: the scheduler has no workers after {timeout:g} s; start "
                "some (dask worker ADDRESS)"
            ) from None
        client.register_plugin(RuntimePlugin(runtime))
        # A synchronous client returns the results (typed as a coroutine or the results).
        info = cast("dict[str, dict[str, Any]]", client.run(describe_worker, runtime))
        platforms = {i["platform"] for i in info.values()}
        counts = sorted(i["devices"] for i in info.values())
        n = devices or counts[0]
        if counts[0] < n:
            raise ClusterError(
                f"--devices {n}: a worker has only {counts[0]} device(s) (workers: "
                + ", ".join(f"{i['host']}:{i['pid']} {i['devices']}" for i in info.values())
                + ")"
            )
        if len(set(counts)) > 1 or len(platforms) > 1:
            log.warning(
                "workers differ (%s): every chunk runs on %d device(s) of one worker",
                ", ".join(sorted({f"{i['devices']} {i['platform']}" for i in info.values()})),
                n,
            )
        where = "a local Dask cluster" if kind == "local" else f"the Dask cluster {text}"
        yield Engine(
            client,
            runtime,
            n,
            sorted(platforms)[0],
            dict(resources) if resources else None,
            f"{where} ({len(info)} workers x {n} {sorted(platforms)[0]} device(s))",
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def parse_resources(text: str | None) -> dict | None:
    """``GPU=1,MEM=2`` -> ``{"GPU": 1.0, "MEM": 2.0}`` (Dask worker resources a task needs)."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not name.strip() or not amount > 0:
            raise ClusterError(
                f"--resources {text}: expected NAME=AMOUNT[,NAME=AMOUNT], e.g. GPU=1"
            )
        out[name.strip()] = amount
    return out


# --------------------------------------------------------------------------------------------
# Chaos: how far a one-ulp change of the initial weights carries
# --------------------------------------------------------------------------------------------


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
