"""Run a sweep of Dunne & Campbell (1997) experiments from one TOML/JSON description.

    python experiments/sweep.py experiments/sweeps/n_per_class.toml
    python experiments/sweep.py my.toml --out results/my --set trials=50 --set hidden=[4,8,16]

The description (``jaxsoftmax.sweep``) is validated before anything runs. Cells are batched
into chunks of at most ``--chunk-size`` (cell, trial) trainings (each training every
pairing), sharded over every local device (on a CPU, one XLA host device per core). Each
finished chunk is written at once and atomically to ``<out>/chunks/`` as JSON Lines (one
record per cell, trial and pairing); ``<out>/sweep.json`` holds the normalised description and
its hash. Rerunning the same command resumes: only the missing trainings are computed. A
different description in the same folder is refused, with the differences shown. SIGTERM or
Ctrl-C stops after the current chunk (a second one stops at once); the folder stays resumable.

When the sweep is complete, writes ``summary.md``, ``summary.json`` and figures (PNG).
Multi-host: ``--distributed`` calls ``jax.distributed.initialize()`` and each process computes
every process_count-th chunk on its own devices, into a shared folder.
"""

from __future__ import annotations

import os

# One XLA host device per core, so chunks can be split over the cores (must precede jax).
if "--xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_force_host_platform_device_count={os.cpu_count() or 1}"
    ).strip()

import argparse
import json
import math
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dunne_campbell as dc
import jax
import sweep_report

from jaxsoftmax import sweep as sw
from jaxsoftmax import sweep_run

# Default (cell, trial) units per chunk and device. On a CPU, throughput peaks at small chunks
# and falls for large ones (the batched arrays leave the caches; experiments/bench_sweep.py,
# 2-core CPU: 754 trainings/s at 32 per chunk, 482 at 512); an accelerator needs large ones.
DEFAULT_CHUNK_PER_DEVICE = {"cpu": 16}
DEFAULT_CHUNK_ACCELERATOR = 1024
MEMORY_BUDGET = 2 * 2**30  # bytes per device, estimated, for the default chunk size


def auto_chunk_size(config: sw.SweepConfig, devices, budget: int = MEMORY_BUDGET) -> int:
    """The default chunk size: per device, 16 units on a CPU and 1024 on an accelerator, fewer
    where the largest cell's estimated working set (per pairing: the data, and ~8 float32
    copies of the h × N hidden activations for the forward and backward pass) would exceed
    ``budget`` per device."""
    worst = 0
    for cell in config.cells:
        v = cell.values
        n_train = v["n_per_class"] * v["n_classes"]
        n_test = config.n_test_per_class * v["n_classes"]
        per = 4 * len(config.pairings) * (n_train * (8 * v["hidden"] + 4) + n_test * 8)
        worst = max(worst, per)
    per_device = DEFAULT_CHUNK_PER_DEVICE.get(devices[0].platform, DEFAULT_CHUNK_ACCELERATOR)
    per_device = max(1, min(per_device, budget // max(worst, 1)))
    return per_device * len(devices)


def to_records(config: sw.SweepConfig, chunk: sw.Chunk, out: dict) -> list[dict]:
    """One record per (cell, trial, pairing): the cell's values, the metrics (null where not
    finite, with ``finite`` false) and the Bayes rule's error rate on the same test sample."""
    records = []
    for u, (cell, trial) in enumerate(chunk.units):
        values = config.cells[cell].values
        for e, name in enumerate(config.pairings):
            r = {"cell": cell, "trial": trial, "pairing": name, **values}
            finite = True
            for m in sweep_run.METRICS:
                x = float(out[m][u, e])
                finite &= math.isfinite(x)
                r[m] = x if math.isfinite(x) else None
            r["bayes_error_rate"] = float(out["bayes_error_rate"][u])
            r["finite"] = finite
            records.append(r)
    return records


def done_units(folder: Path) -> set[tuple[int, int]]:
    """The (cell, trial) units whose records are in the folder's chunk files."""
    return {(r["cell"], r["trial"]) for r in sweep_report.read_records(folder)}


class FolderMismatch(RuntimeError):
    """The results folder holds a different sweep."""


def prepare_folder(config: sw.SweepConfig, folder: Path) -> None:
    """Creates the folder and its ``sweep.json``, or checks that it holds this sweep."""
    (folder / "chunks").mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old["config_hash"] != config.config_hash:
            diff = sw.config_diff(old["config"], config.raw)
            raise FolderMismatch(
                f"{folder} holds a different sweep (config hash {old['config_hash']}, this one "
                f"{config.config_hash}); refusing to mix results. Differences:\n"
                + "\n".join(f"  {line}" for line in diff)
                + "\nUse another --out folder, or the folder's own description."
            )
        return
    meta = {"config_hash": config.config_hash, "config": config.raw, "jax": jax.__version__}
    dc.write_atomic(path, json.dumps(meta, indent=1))


class ChunkProgress:
    """A one-line progress bar over chunks, with trainings/s and an ETA, on stderr."""

    def __init__(self, chunks: int, units: int):
        self.chunks, self.units = chunks, units
        self.done_chunks = self.done_units = 0
        self.start = time.perf_counter()

    def __call__(self, units: int) -> None:
        self.done_chunks += 1
        self.done_units += units
        elapsed = time.perf_counter() - self.start
        rate = self.done_units / elapsed if elapsed > 0 else float("nan")
        eta = (self.units - self.done_units) / rate if rate > 0 else float("nan")
        bar = "#" * int(30 * self.done_chunks / max(self.chunks, 1))
        sys.stderr.write(
            f"\rsweep: [{bar:<30}] {self.done_chunks}/{self.chunks} chunks, "
            f"{self.done_units}/{self.units} trainings, {elapsed:6.1f} s, "
            f"{rate:5.1f}/s, eta {eta:5.0f} s "
        )
        sys.stderr.flush()


@contextmanager
def stop_between_chunks():
    """SIGTERM / SIGINT ask to stop after the current chunk (yields a dict whose ``signal``
    is then set); a second signal raises ``KeyboardInterrupt`` at once."""
    flag = {"signal": None}

    def handler(signum, frame):
        if flag["signal"] is not None:
            raise KeyboardInterrupt
        flag["signal"] = signum
        sys.stderr.write(
            f"\n{signal.Signals(signum).name}: stopping after the current chunk "
            "(send it again to stop now)\n"
        )

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_sweep(
    config: sw.SweepConfig,
    folder: Path,
    *,
    chunk_size: int | None = None,
    process: tuple[int, int] = (0, 1),
    pause: float = 0.0,
    devices=None,
    log=print,
) -> dict:
    """Computes the chunks missing from ``folder`` (this process's share of them), writing
    each at once, sharded over ``devices`` (default: every local device). Returns
    ``{"computed", "chunks", "seconds", "interrupted", "complete", "devices"}``."""
    folder = Path(folder)
    prepare_folder(config, folder)
    devices = jax.local_devices() if devices is None else list(devices)
    n_dev = len(devices)
    size = chunk_size or auto_chunk_size(config, devices)
    done = done_units(folder)
    chunks = sw.plan_chunks(config, chunk_size=size, n_devices=n_dev, done=done)
    mine = chunks[process[0] :: process[1]]
    units = sum(len(c.units) for c in mine)
    dev = devices[0]
    log(
        f"sweep {config.name!r}: {len(config.cells)} cells x {config.trials} trials = "
        f"{config.n_trainings} trainings x {len(config.pairings)} pairings; "
        f"{len(done)} done, computing {units} in {len(mine)} chunks of <= {size} "
        f"on {n_dev} {dev.platform} device(s)"
    )
    progress = ChunkProgress(len(mine), units)
    start = time.perf_counter()
    computed, interrupted = 0, None
    with stop_between_chunks() as flag:
        for chunk in mine:
            t0 = time.perf_counter()
            out = sweep_run.run_chunk(config, chunk, devices)
            text = "".join(json.dumps(r) + "\n" for r in to_records(config, chunk, out))
            dc.write_atomic(folder / "chunks" / f"{chunk.name}.jsonl", text)
            entry = {
                "chunk": chunk.name,
                "units": len(chunk.units),
                "padded_to": chunk.size,
                "seconds": time.perf_counter() - t0,
                "devices": n_dev,
                "process": process[0],
                "time": time.time(),
            }
            with open(folder / "log.jsonl", "a") as f:
                f.write(json.dumps(entry) + "\n")
            computed += len(chunk.units)
            progress(len(chunk.units))
            if pause and flag["signal"] is None:
                time.sleep(pause)  # a signal arriving now is acted on when it ends
            if flag["signal"] is not None:
                interrupted = flag["signal"]
                break
    if mine:
        sys.stderr.write("\n")
    seconds = time.perf_counter() - start
    complete = len(done_units(folder)) == config.n_trainings
    return {
        "computed": computed,
        "chunks": len(mine),
        "seconds": seconds,
        "interrupted": interrupted,
        "complete": complete,
        "devices": f"{n_dev} x {dev.platform} ({dev.device_kind})",
    }


def load(args) -> sw.SweepConfig:
    raw = sw.load_config(args.config)
    return sw.parse_config(sw.apply_overrides(raw, args.set or []))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", help="the sweep description (.toml or .json)")
    p.add_argument("--out", help="results folder (default results/sweeps/<name>)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a key (JSON value), e.g. trials=5, grid.hidden=[4,8], or hidden=[4,8]",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        default=0,
        help="(cell, trial) trainings per chunk (default per device: 16 on a CPU, 1024 on an "
        "accelerator, less where memory-bound)",
    )
    p.add_argument(
        "--devices", type=int, default=0, help="use the first N local devices (default: all)"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="sleep this many seconds after each chunk (to try out interrupting and resuming)",
    )
    p.add_argument("--dry-run", action="store_true", help="validate and show the plan only")
    p.add_argument(
        "--summary-only", action="store_true", help="re-write the summary from the records"
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="jax.distributed.initialize() (coordinator from the environment); each process "
        "computes its share of the chunks",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = load(args)
    except (sw.SweepConfigError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.chunk_size < 0:
        print("error: --chunk-size must be positive", file=sys.stderr)
        return 2
    devices = jax.local_devices()
    if not 0 <= args.devices <= len(devices):
        print(f"error: --devices must lie in 1 … {len(devices)}", file=sys.stderr)
        return 2
    devices = devices[: args.devices or None]
    folder = Path(args.out or f"results/sweeps/{config.name}")
    if args.dry_run:
        chunks = sw.plan_chunks(
            config,
            chunk_size=args.chunk_size or auto_chunk_size(config, devices),
            n_devices=len(devices),
        )
        print(json.dumps(config.raw, indent=1))
        print(f"{len(config.cells)} cells, {config.n_trainings} trainings, {len(chunks)} chunks")
        return 0
    process = (0, 1)
    if args.distributed:
        jax.distributed.initialize()
        process = (jax.process_index(), jax.process_count())
    if not args.summary_only:
        try:
            run = run_sweep(
                config,
                folder,
                chunk_size=args.chunk_size or None,
                process=process,
                pause=args.pause,
                devices=devices,
            )
        except FolderMismatch as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted; finished chunks are kept: rerun to resume", file=sys.stderr)
            return 130
        rate = run["computed"] / run["seconds"] if run["seconds"] > 0 else float("nan")
        print(
            f"computed {run['computed']} trainings ({run['computed'] * len(config.pairings)} "
            f"networks) in {run['chunks']} chunks, {run['seconds']:.1f} s "
            f"({rate:.2f} trainings/s) on {run['devices']}"
        )
        if run["interrupted"] is not None:
            print(
                f"stopped by {signal.Signals(run['interrupted']).name}; finished chunks are "
                f"kept in {folder}: rerun the same command to resume",
                file=sys.stderr,
            )
            return 128 + run["interrupted"]
        if not run["complete"]:
            print("this process's share is done; other processes are still running")
            return 0
        meta = {
            "run_line": f"Last run: {run['computed']} trainings in {run['seconds']:.1f} s "
            f"({rate:.2f} trainings/s, {rate * len(config.pairings):.1f} networks/s) on "
            f"{run['devices']}, jax {jax.__version__}."
        }
    else:
        meta = {}
    if process[0] == 0:
        sweep_report.write_summary(config, folder, meta, plot=not args.no_plots)
        print(f"wrote {folder / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
