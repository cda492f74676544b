"""Running a sweep: the plan's missing chunks computed on local devices or by an executor (a
Dask cluster), each finished chunk handed to the background writer.

On one machine, a *batch* is one chunk per device (the same group: one program), computed
by ONE sharded call of :func:`jaxsoftmax.experiment.run_units` — setup, training and
evaluation in one compiled program, one device→host transfer — and the next batch is
dispatched before the previous one is fetched, so the devices never wait for the host. A
chunk's numbers depend on its units and ``chunk_size`` only (``jaxsoftmax.sweeps.plan``).
"""

from __future__ import annotations

import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as C
from .. import experiment
from ..progress import Progress
from . import store
from .plan import Chunk, Plan, default_chunk_size, make_plan

__all__ = ["CellInputs", "batches", "compute", "dispatch", "run_sweep", "stop_between_chunks"]

log = logging.getLogger("jaxsoftmax")


class CellInputs:
    """Per-cell seeds and :class:`~jaxsoftmax.experiment.Hyper` arrays, built once; a
    chunk's inputs are NumPy takes from them (no Python per unit)."""

    def __init__(self, sweep: C.SweepSpec):
        hypers = [experiment.hyper_of(c) for c in sweep.cells]
        self.hyper = experiment.Hyper(*(np.stack(v) for v in zip(*hypers)))
        self.seeds = np.array([c.seed for c in sweep.cells], np.uint32)

    def of(self, chunks: Sequence[Chunk]):
        cells, trials = (np.concatenate(a) for a in zip(*(c.padded() for c in chunks)))
        hyper = experiment.Hyper(*(a[cells] for a in self.hyper))
        return self.seeds[cells], trials, hyper


def batches(chunks: Sequence[Chunk], n_devices: int) -> Iterator[list[Chunk]]:
    """Consecutive chunks of one group, ``n_devices`` at a time (the last of a group may
    be shorter: :func:`dispatch` pads it with copies)."""
    batch: list[Chunk] = []
    for c in chunks:
        if batch and (len(batch) == n_devices or c.group.index != batch[0].group.index):
            yield batch
            batch = []
        batch.append(c)
    if batch:
        yield batch


def dispatch(
    inputs: CellInputs, batch: Sequence[Chunk], devices: Sequence
) -> Callable[[], list[dict[str, np.ndarray]]]:
    """Starts the batch on ``devices`` (chunk i on device i) and returns at once a function
    that waits and returns each chunk's metrics ``{name: (units, …)}``, padding dropped."""
    n = len(devices)
    full = list(batch) + [batch[-1]] * (n - len(batch))  # copies keep one program
    seeds, trials, hyper = inputs.of(full)
    wait = experiment.start_units(
        batch[0].group.spec, seeds, trials, hyper, devices=devices, calls=1
    )
    size = batch[0].size

    def result() -> list[dict[str, np.ndarray]]:
        out = wait()
        return [
            {k: v[i * size : i * size + len(c)] for k, v in out.items()}
            for i, c in enumerate(batch)
        ]

    return result


def compute(
    sweep: C.SweepSpec, batch: Sequence[Chunk], devices: Sequence
) -> list[dict[str, np.ndarray]]:
    """The batch's metrics, synchronously (what a cluster worker runs)."""
    return dispatch(CellInputs(sweep), batch, devices)()


@contextmanager
def stop_between_chunks():
    """SIGTERM / SIGINT ask to stop after the chunks in flight; a second one stops at once
    (what was written is kept)."""
    flag: dict = {"signal": None}

    def handler(signum, frame):
        if flag["signal"] is not None:
            raise KeyboardInterrupt
        flag["signal"] = signum
        log.warning(
            "%s: stopping after the chunks in flight (send it again to stop now)",
            signal.Signals(signum).name,
        )

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _local(sweep: C.SweepSpec, todo: Sequence[Chunk], devices: Sequence):
    """Yields ``(chunk, metrics, info)`` as batches finish, one batch dispatched ahead."""
    inputs = CellInputs(sweep)
    pending: deque = deque()
    it = batches(todo, len(devices))
    t0 = time.perf_counter()
    for batch in it:
        pending.append((batch, dispatch(inputs, batch, devices)))
        if len(pending) < 2:
            continue
        batch_done, wait = pending.popleft()
        yield from _finish(batch_done, wait, t0)
        t0 = time.perf_counter()
    while pending:
        batch_done, wait = pending.popleft()
        yield from _finish(batch_done, wait, t0)
        t0 = time.perf_counter()


def _finish(batch: Sequence[Chunk], wait: Callable[[], list], t0: float) -> Iterator[tuple]:
    results = wait()
    seconds = time.perf_counter() - t0
    for chunk, metrics in zip(batch, results):
        yield chunk, metrics, {"seconds": seconds / len(batch), "worker": "local"}


def run_sweep(
    sweep: C.SweepSpec,
    folder: Path,
    *,
    devices: Sequence = (),
    chunk_size: int | None = None,
    engine: Any = None,
    force: bool = False,
    pause: float = 0.0,
    quiet: bool = False,
) -> dict:
    """Computes the chunks missing from ``folder`` and writes each as it finishes.

    Without ``engine``, here, on ``devices``; with a :class:`jaxsoftmax.cluster.Engine`,
    as tasks of its cluster (batches of ``engine.n_devices`` chunks per task), the metrics
    coming back to this process, which writes them. ``chunk_size``: units per chunk for a
    new folder (default :func:`~jaxsoftmax.sweeps.plan.default_chunk_size`); an existing
    folder keeps its own, and a different one is refused (it would change the bits)."""
    folder = Path(folder)
    if engine is None:
        n_devices, platform, where = len(devices), devices[0].platform, "here"
        memory = _free_memory(devices[0])
    else:
        n_devices, platform, where = engine.n_devices, engine.platform, engine.where
        memory = None
    size = (
        chunk_size
        or _folder_chunk_size(folder)
        or default_chunk_size(sweep, platform, memory, n_devices)
    )
    ident = store.identity(sweep, size, platform)
    desc = store.prepare_folder(sweep, folder, ident, force=force)
    plan = make_plan(sweep, size)
    done, damaged = store.scan(sweep, folder, plan, desc["hash"])
    todo = [c for c in plan.chunks() if c.name not in done]
    units = sum(len(c) for c in todo)
    n_done = sweep.n_trainings - units
    programs = len({c.group.index for c in todo})
    log.info(
        "sweep %r: %d cells x %d trials = %d trainings x %d estimators; %d done, computing %d "
        "in %d chunks of %d on %d %s device(s); %d program(s) to compile",
        sweep.name,
        len(sweep.cells),
        sweep.trials,
        sweep.n_trainings,
        len(sweep.estimators),
        n_done,
        units,
        len(todo),
        size,
        n_devices,
        platform,
        programs,
    )
    if engine is not None:
        log.info("running on %s", where)
    start = time.perf_counter()
    computed, interrupted = 0, None
    writer = store.Writer(sweep, folder, {"hash": desc["hash"], "platform": platform})
    results = (
        _local(sweep, todo, devices)
        if engine is None
        else engine.run_chunks(sweep, list(batches(todo, n_devices)))
    )
    written: set[str] = set()
    try:
        with (
            stop_between_chunks() as flag,
            Progress(units, "sweep", unit="trainings", quiet=quiet) as bar,
        ):
            for item in results:
                if item is None:  # an executor's heartbeat: nothing finished yet
                    if flag["signal"] is not None:
                        interrupted = flag["signal"]
                        break
                    continue
                chunk, metrics, info = item
                if chunk.name in written:  # never twice, whatever the engine delivers
                    log.warning("%s: delivered twice; the second copy is ignored", chunk.name)
                    continue
                writer.submit(chunk, metrics, info)
                written.add(chunk.name)
                computed += len(chunk)
                bar.update_to(computed)
                if pause and flag["signal"] is None:
                    time.sleep(pause)
                if flag["signal"] is not None:
                    interrupted = flag["signal"]
                    break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # cancels what is in flight on a cluster
        writer.close()
    return {
        "computed": computed,
        "seconds": time.perf_counter() - start,
        "interrupted": interrupted,
        "damaged": [str(p) for p in damaged],
        "programs": programs,
        "devices": n_devices,
        "platform": platform,
        "where": where,
        "chunk_size": size,
        "hash": desc["hash"],
    }


def _folder_chunk_size(folder: Path) -> int | None:
    try:
        return int(store.read_description(folder)["identity"]["chunk_size"])
    except (store.SweepError, KeyError, TypeError, ValueError):
        return None


def _free_memory(device) -> int | None:
    """An accelerator's free memory in bytes (None on a CPU or when unknown)."""
    if device.platform == "cpu":
        return None
    try:
        stats = device.memory_stats() or {}
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    except (AttributeError, KeyError, TypeError, RuntimeError):
        return None


def plan_for(
    sweep: C.SweepSpec, folder: Path | None, platform: str, chunk_size: int | None, n_devices: int
) -> Plan:
    """The plan a run would use (``--dry-run``)."""
    size = (
        chunk_size
        or (folder and _folder_chunk_size(folder))
        or default_chunk_size(sweep, platform, None, n_devices)
    )
    return make_plan(sweep, int(size))
