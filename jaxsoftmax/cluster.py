"""Sweeps on many machines: chunks as tasks of a `Dask distributed <https://distributed.dask.org>`_
cluster (``jaxsoftmax sweep FILE --cluster local:N | tcp://HOST:PORT | SCHEDULER_FILE``).

**Who does what.** The *driver* (the ``jaxsoftmax sweep`` process) plans the missing chunks
from its results folder (:func:`jaxsoftmax.sweeps.scan`), scatters the sweep to the workers
once, submits batches of chunks as tasks of :func:`compute_batch` a few at a time, and, as
each finishes, hands the metrics to the same background writer as the single-process path;
the summary is written once, at the end, by the driver. A *worker* computes a batch exactly
as the single-process path does (:func:`jaxsoftmax.sweeps.compute`: one compiled, vmapped
program, one chunk per device) and returns the metrics (a few small arrays) to the driver:
no shared filesystem is needed. The scheduler assigns batches to free workers dynamically and
gives the batch of a worker that died to another one; a sweep that cannot progress (no
worker alive, none with the resources asked) stops with one line naming the cause.

**Workers' runtime.** :class:`RuntimePlugin` (a Dask ``WorkerPlugin``) sets each worker's
XLA host-device count, compilation cache and ``--plugin`` imports before its first JAX
computation (:func:`ensure_runtime`, the same logic as the command line's:
:func:`jaxsoftmax.runtime.setup`); :func:`compute_batch` calls it again, so a
worker that joined late or lost the plugin is set up all the same.

**Determinism contract** (``docs/cluster.md``; enforced by ``tests/test_cluster.py``): a
chunk is computed on one device, its units fixed by the plan (:mod:`jaxsoftmax.sweeps.plan`),
so the same folder (its chunk size) gives bitwise-identical results on any number of
workers, processes or devices per worker of one platform, resumed, repaired or not; across
chunk sizes, smooth pairings agree to a stated tolerance on eq. (4); chaotic pairings do
not, so for them only the bitwise guarantee holds (:mod:`jaxsoftmax.determinism`).

Importing this module needs no Dask; using a cluster does (``pip install
'jaxsoftmax[cluster]'``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from distributed.diagnostics.plugin import WorkerPlugin
else:
    try:  # the base class of the worker plugin; the module stays importable without Dask
        from distributed.diagnostics.plugin import WorkerPlugin
    except ImportError:  # pragma: no cover - exercised only without the [cluster] extra
        WorkerPlugin = object

__all__ = [
    "ClusterError",
    "Engine",
    "Runtime",
    "RuntimePlugin",
    "compute_batch",
    "connect",
    "ensure_runtime",
    "parse_cluster",
]

log = logging.getLogger("jaxsoftmax")

# Seconds to wait for a scheduler (and, for an existing cluster, its first worker).
CONNECT_TIMEOUT = 20.0
# Seconds without any chunk of ours running or finishing before the driver calls it a stall.
STALL_TIMEOUT = 60.0
RETRIES = 1


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
    from . import runtime as rt

    for plugin in runtime.plugins:
        if plugin not in _RUNTIME["plugins"]:
            rt.load_plugin(plugin)
            _RUNTIME["plugins"].add(plugin)
    devices = rt.setup(runtime.devices, runtime.cache_dir)
    _RUNTIME.update(runtime=runtime, devices=devices)
    return devices


class RuntimePlugin(WorkerPlugin):
    """Runs :func:`ensure_runtime` on every worker as it joins, before any task."""

    def __init__(self, runtime: Runtime, name: str = "jaxsoftmax-runtime"):
        # The name is the sweep's own (connect() derives it from the runtime): a second
        # sweep on a shared cluster registers its own set-up instead of replacing this one.
        self.runtime = runtime
        self.name = name

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


def compute_batch(sweep, batch: Sequence, n_devices: int, runtime: Runtime) -> dict:
    """One task: the metrics of ``batch`` (chunks of one group, one per device), computed by
    :func:`jaxsoftmax.sweeps.compute` on the worker's first ``n_devices`` devices — the
    same function, so the same numbers, as a local run. ``sweep`` arrives once per worker
    (scattered by the driver), not with every task."""
    from .sweeps import compute

    devices = ensure_runtime(runtime)
    if len(devices) < n_devices:
        raise ClusterError(
            f"worker {socket.gethostname()}:{os.getpid()} has {len(devices)} "
            f"{devices[0].platform} device(s), the chunks are planned for {n_devices}: start "
            "it before any JAX use, or pass --devices"
        )
    start = time.perf_counter()
    metrics = compute(sweep, batch, devices[:n_devices])
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
        path = Path(text).expanduser()
        try:
            info = json.loads(path.read_text())
            ok = isinstance(info, dict) and isinstance(info.get("address"), str)
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise ClusterError(
                f"--cluster {text}: not a Dask scheduler file (expected JSON with an "
                '"address", as written by `dask scheduler --scheduler-file FILE`)'
            )
        return "scheduler_file", str(path)
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
    retries: int = RETRIES
    stall_timeout: float = STALL_TIMEOUT
    tag: str = "sweep"

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def slots(self) -> int:
        """Tasks that can run at once (threads over all workers)."""
        return max(1, sum(self.client.nthreads().values()))

    def _stall(self) -> str | None:
        """Why no task of ours can run now, or None: no worker alive, or none offering the
        resources asked."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        if not workers:
            return "no worker is alive (did they all die? see their logs)"
        if self.resources:
            ok = [
                w
                for w in workers.values()
                if all(w.get("resources", {}).get(k, 0) >= v for k, v in self.resources.items())
            ]
            if not ok:
                asked = ",".join(f"{k}={v:g}" for k, v in self.resources.items())
                return (
                    f"no worker offers --resources {asked} (start workers with "
                    f"`dask worker ... --resources {asked}`)"
                )
        return None

    def run_chunks(self, sweep, batches: Sequence) -> Iterator:
        """Yields ``(chunk, metrics, info)`` as batches finish, in any order, and ``None``
        about once a second while waiting (so the driver can act on a signal).

        The sweep is scattered to the workers once; at most two tasks per worker thread are
        submitted at a time (the scheduler's queue and the driver's memory stay proportional
        to a batch); a batch whose worker dies is given by the scheduler to another worker
        (``retries`` times after an error). When nothing of ours runs or finishes for
        ``stall_timeout`` seconds and no worker can take it, a :class:`ClusterError` names the
        cause. Closing the generator early (an interrupted sweep) cancels what is in flight."""
        distributed = _distributed()
        shared = self.client.scatter(sweep, broadcast=True, hash=False)
        todo = deque(batches)
        owner: dict = {}
        tag = self.tag
        last_progress = time.monotonic()

        def submit():
            batch = todo.popleft()
            future = self.client.submit(
                compute_batch,
                shared,
                batch,
                self.n_devices,
                self.runtime,
                key=f"jaxsoftmax-{tag}-{batch[0].name}",
                pure=False,
                resources=self.resources,
                retries=self.retries,
            )
            owner[future] = batch

        try:
            for _ in range(min(len(todo), 2 * self.slots())):
                submit()
            while owner:
                try:
                    waited: Any = distributed.wait(
                        list(owner), timeout=1.0, return_when="FIRST_COMPLETED"
                    )
                    finished = waited.done
                except TimeoutError:  # distributed.wait raises when nothing finished in time
                    finished = set()
                if not finished:
                    running = any(self.client.processing().values())
                    if running:
                        last_progress = time.monotonic()
                    elif time.monotonic() - last_progress > self.stall_timeout:
                        why = self._stall() or (
                            f"no chunk has started for {self.stall_timeout:g} s"
                        )
                        raise ClusterError(f"the sweep is stalled: {why}")
                    yield None
                    continue
                last_progress = time.monotonic()
                for future in finished:
                    batch = owner.pop(future)
                    try:
                        result = future.result()
                    except distributed.KilledWorker as err:
                        raise ClusterError(
                            f"chunk {batch[0].name}: its workers died repeatedly ({err}); see "
                            "the workers' logs (memory limit? device failure?)"
                        ) from None
                    except ClusterError:
                        raise
                    except Exception as err:
                        raise ClusterError(
                            f"chunk {batch[0].name} failed on a worker: {type(err).__name__}: {err}"
                        ) from None
                    future.release()
                    info = {"seconds": result["seconds"] / len(batch), "worker": result["worker"]}
                    for chunk, metrics in zip(batch, result["metrics"]):
                        yield chunk, metrics, info
                    del result
                room = 2 * self.slots() - len(owner)
                for _ in range(min(len(todo), max(room, 0))):
                    submit()
                if todo and not owner:
                    submit()
        finally:
            if owner:
                self.client.cancel(list(owner))


@contextmanager
def connect(
    text: str,
    *,
    devices: int = 0,
    cache_dir: str | None = None,
    plugins: Sequence[str] = (),
    resources: Mapping[str, float] | None = None,
    timeout: float | None = None,
    stall_timeout: float | None = None,
    retries: int | None = None,
) -> Iterator[Engine]:
    """Starts (``local:N``) or joins (an address, a scheduler file) a Dask cluster, sets up
    its workers (:class:`RuntimePlugin`) and yields an :class:`Engine`; a local cluster is
    closed on exit, a joined one is left running.

    ``devices``: per worker (a local cluster's default: the cores shared out, at least 1;
    a joined cluster's: what its workers have, the smallest count if they differ);
    ``timeout``: seconds to wait for the scheduler and its first worker (default
    :data:`CONNECT_TIMEOUT`); ``stall_timeout``, ``retries``: see :meth:`Engine.run_chunks`."""
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
        tag = hashlib.sha256(repr(runtime).encode() + os.urandom(8)).hexdigest()[:10]
        client.register_plugin(RuntimePlugin(runtime, name=f"jaxsoftmax-runtime-{tag}"))
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
            RETRIES if retries is None else int(retries),
            STALL_TIMEOUT if stall_timeout is None else float(stall_timeout),
            tag,
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
