"""``jaxsoftmax sweep FILE``: a grid of Dunne & Campbell experiments, chunked and resumable.

Argument parsing and messages only: the engine is :mod:`jaxsoftmax.sweeps` (plan, run, store,
load, summary). The description (:class:`jaxsoftmax.config.SweepSpec`) is validated before
anything runs. Each finished chunk is written once, atomically, as
``<out>/chunks/<chunk>.parquet``; a rerun computes only what is missing, a damaged file is
named and set aside (``chunks/damaged/``); ``<out>/sweep.json`` holds the folder's identity
(every setting, definition, version and the chunk size that changes a number — not
``trials``: a folder grows by trials), and a different identity is refused with the
differences listed (``--force`` sets the old results aside). SIGTERM or Ctrl-C stops after
the chunks in flight. The summary is written only when every training is present.
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from typing import cast

from .. import config as C
from .. import io, runtime
from .. import sweeps as S
from . import common

__all__ = ["example_path", "examples", "main", "parser"]

log = logging.getLogger("jaxsoftmax")


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The command's flags."""
    p = common.ArgumentParser(
        prog="jaxsoftmax sweep", description=cast(str, __doc__).splitlines()[0]
    )
    p.add_argument("config", nargs="?", help="the sweep description (.toml or .json)")
    p.add_argument(
        "--example",
        metavar="NAME",
        help="run an example sweep shipped with the package instead of a file: "
        + ", ".join(examples()),
    )
    p.add_argument("--out", help="results folder (default results/sweeps/<name>)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override: trials=5, training.steps=100, grid.model.hidden=[4,8]",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        default=0,
        help="(cell, trial) units per chunk file, for a new folder (default: sized to the "
        "work of a unit and the device; an existing folder keeps its own)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="when the folder holds results of another identity (a changed definition, "
        "setting or version): set them aside (superseded/) and compute again",
    )
    p.add_argument(
        "--cluster",
        metavar="WHERE",
        help="run the chunks as tasks of a Dask cluster: local:N (N worker processes on this "
        "machine, loopback), tcp://HOST:PORT (a running scheduler) or a scheduler file; "
        "results come back to this process, which writes them (docs/cluster.md)",
    )
    p.add_argument(
        "--resources",
        metavar="NAME=AMOUNT",
        help="with --cluster: worker resources each chunk needs, e.g. GPU=1 (workers started "
        "with --resources GPU=N run at most N chunks at once)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --cluster: how long to wait for the scheduler and its first worker "
        "(default 20; raise it while batch jobs are queued)",
    )
    p.add_argument(
        "--stall-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --cluster: stop when no chunk can start for this long (no worker alive, "
        "or none with the --resources asked; default 60)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=None,
        help="with --cluster: times a chunk is retried after a worker error (default 1)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--pause", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--dry-run", action="store_true", help="validate and show the plan only")
    p.add_argument("--summary-only", action="store_true", help="rewrite the summary only")
    common.add_common_flags(p)
    return p


def examples() -> list[str]:
    """The names of the example sweeps shipped with the package."""
    from importlib import resources

    folder = resources.files("jaxsoftmax") / "examples" / "sweeps"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def example_path(name: str) -> Path:
    """The file of example sweep ``name`` (a clear error naming the examples otherwise)."""
    from importlib import resources

    if name not in examples():
        raise common.UsageError(
            f"--example {name}: no such example sweep; expected one of {', '.join(examples())}"
        )
    return Path(str(resources.files("jaxsoftmax") / "examples" / "sweeps" / f"{name}.toml"))


def main(argv: list[str] | None = None) -> int:
    """``jaxsoftmax sweep FILE``: validate, compute what is missing, write the summary."""
    args = parser().parse_args(argv)
    source = args.config or f"--example {args.example}"
    common.start(args, f"sweep {source}: loading JAX and checking the description …")
    if (args.config is None) == (args.example is None):
        raise common.UsageError(
            "give a sweep description file or --example NAME (one of: "
            + ", ".join(examples())
            + ")"
        )
    sweep = C.load_sweep(args.config or example_path(args.example), args.set)
    if args.chunk_size < 0:
        raise common.UsageError(f"--chunk-size: expected a count >= 1, got {args.chunk_size}")
    folder = Path(args.out or f"results/sweeps/{sweep.name}")
    if folder.exists() and not folder.is_dir():
        raise io.OutputError(f"--out {folder}: is a file, not a folder; give a folder path")
    if args.cluster is not None:
        return _main_cluster(args, sweep, folder)
    for flag in ("connect_timeout", "stall_timeout", "retries"):
        if getattr(args, flag) is not None:
            raise common.UsageError(f"--{flag.replace('_', '-')}: only with --cluster")
    devices = common.setup_runtime(args)
    if args.dry_run:
        _dry_run(sweep, folder, devices[0].platform, args.chunk_size, len(devices))
        return 0
    meta: dict = {}
    if not args.summary_only:
        from ..sweeps.summary import prepare

        prepared = runtime.ahead(prepare, not args.no_plots)
        run = S.run_sweep(
            sweep,
            folder,
            devices=devices,
            chunk_size=args.chunk_size or None,
            force=args.force,
            pause=args.pause,
            quiet=args.quiet,
        )
        code = _after_run(run, folder, meta)
        if code:
            return code
        prepared.result()
    S.write_summary(sweep, folder, meta, plot=not args.no_plots)
    log.info("wrote %s", folder / "summary.md")
    return 0


def _dry_run(sweep: C.SweepSpec, folder: Path, platform: str, size: int, n_devices: int) -> None:
    from ..sweeps.run import plan_for

    plan = plan_for(sweep, folder if folder.exists() else None, platform, size or None, n_devices)
    print(
        f"{len(sweep.cells)} cells, {sweep.n_trainings} trainings, {len(plan)} chunks of "
        f"{plan.chunk_size} units, {len(plan.groups)} programs, {n_devices} {platform} "
        f"device(s); varied: {', '.join(sweep.varied) or 'nothing'}"
    )


def _after_run(run: dict, folder: Path, meta: dict) -> int:
    """Logs the run; 128 + signal when it was interrupted, else 0 (and the summary's line)."""
    rate = run["computed"] / run["seconds"] if run["seconds"] > 0 else float("nan")
    log.info(
        "computed %d trainings in %.1f s (%.2f trainings/s, compilation included)",
        run["computed"],
        run["seconds"],
        rate,
    )
    if run["interrupted"] is not None:
        log.warning(
            "stopped by %s; the %d trainings computed are kept in %s: rerun the same command "
            "to resume",
            signal.Signals(run["interrupted"]).name,
            run["computed"],
            folder,
        )
        return 128 + run["interrupted"]
    where = (
        f"{run['devices']} {run['platform']} device(s)" if run["where"] == "here" else run["where"]
    )
    meta["run_line"] = (
        f"Last run: {run['computed']} trainings in {run['seconds']:.1f} s "
        f"({rate:.2f} trainings/s incl. compilation) on {where}, chunks of "
        f"{run['chunk_size']}."
    )
    return 0


def _main_cluster(args: argparse.Namespace, sweep: C.SweepSpec, folder: Path) -> int:
    """``--cluster``: the same run, its chunks computed by a Dask cluster's workers; this
    process (the driver) plans, writes every chunk file and the summary."""
    from .. import cluster

    try:
        cluster.parse_cluster(args.cluster)
        resources = cluster.parse_resources(args.resources)
    except cluster.ClusterError as err:
        raise common.UsageError(str(err)) from None
    if args.devices < 0:
        raise common.UsageError(f"--devices: expected a count >= 1, got {args.devices}")
    for flag, lo in (("connect_timeout", 0.0), ("stall_timeout", 0.0), ("retries", -1)):
        v = getattr(args, flag)
        if v is not None and not (v > lo and v < float("inf")):
            raise common.UsageError(
                f"--{flag.replace('_', '-')}: expected a finite number > {lo:g}, got {v}"
            )
    cache = None
    if not args.no_cache:
        cache = str(Path(args.cache_dir).expanduser())
        if args.cluster.startswith("local"):
            try:
                Path(cache).mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise common.UsageError(
                    f"--cache-dir {cache}: cannot create it ({err.strerror})"
                ) from None
    meta: dict = {}
    if not args.summary_only:
        try:
            with cluster.connect(
                args.cluster,
                devices=args.devices,
                cache_dir=cache,
                plugins=args.plugin,
                resources=resources,
                timeout=args.connect_timeout,
                stall_timeout=args.stall_timeout,
                retries=args.retries,
            ) as engine:
                if args.dry_run:
                    _dry_run(sweep, folder, engine.platform, args.chunk_size, engine.n_devices)
                    return 0
                run = S.run_sweep(
                    sweep,
                    folder,
                    engine=engine,
                    chunk_size=args.chunk_size or None,
                    force=args.force,
                    pause=args.pause,
                    quiet=args.quiet,
                )
        except cluster.ClusterError as err:
            raise common.UsageError(str(err)) from None
        code = _after_run(run, folder, meta)
        if code:
            return code
    S.write_summary(sweep, folder, meta, plot=not args.no_plots)
    log.info("wrote %s", folder / "summary.md")
    return 0
