"""``jaxsoftmax sweep FILE``: a grid of Dunne & Campbell experiments, chunked and resumable.

The description (:class:`jaxsoftmax.config.SweepSpec`) is validated before anything runs.
Each (cell, trial) *unit* trains every estimator (:func:`jaxsoftmax.experiment.trial`).
Units whose cells share a compiled program (:func:`jaxsoftmax.experiment.spec_of`) are
batched into chunks of at most ``--chunk-size``, each sharded over the local devices.

**Nothing is lost, nothing is trusted blindly.** Each finished chunk is written at once and
atomically to ``<out>/chunks/<name>.jsonl``, one record per (cell, trial, estimator). On
resume a unit counts as done only when every record it owes is present and parses; a chunk
file that does not parse is named, moved to ``<out>/chunks/damaged/`` (never deleted) and its
units are computed again. ``<out>/sweep.json`` holds the description and its hash: a
different description in the same folder is refused, with the differences listed. SIGTERM
or Ctrl-C stops after the current chunk. The summary is written only when every record is
present, and refuses otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import math
import signal
import time
from collections import defaultdict
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import config as C
from .. import experiment, io, stats
from ..progress import Progress
from . import common

__all__ = [
    "Chunk",
    "SweepError",
    "UnitIndex",
    "chunk_inputs",
    "default_chunk_size",
    "figures",
    "groups",
    "iter_records",
    "main",
    "markdown",
    "parser",
    "plan",
    "prepare_folder",
    "records",
    "run_chunk",
    "run_sweep",
    "scan",
    "stop_between_chunks",
    "summarise",
    "write_chunk",
    "write_summary",
]

log = logging.getLogger("jaxsoftmax")

RECORD_METRICS = experiment.ESTIMATOR_METRICS
SUMMARY_METRICS = ("eq4", "error_rate")
METRIC_LABELS = {"eq4": "eq. (4), test sample (lower is better)", "error_rate": "test error rate"}
# Units per chunk and device by default: on a CPU throughput peaks at small chunks
# (experiments/bench_sweep.py); an accelerator wants large ones.
DEFAULT_CHUNK_PER_DEVICE = {"cpu": 16}
DEFAULT_CHUNK_ACCELERATOR = 1024


class SweepError(ValueError):
    """A results folder or sweep state that cannot be used (names the file and why)."""


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Units ``(cell, trial)`` sharing one compiled program, padded to ``size``."""

    spec: experiment.Spec
    units: tuple[tuple[int, int], ...]
    size: int

    @property
    def name(self) -> str:
        """From the units alone: the same work gets the same file name."""
        text = json.dumps([list(u) for u in self.units])
        c, t = self.units[0]
        return f"chunk-{c:05d}-{t:06d}-" + hashlib.sha1(text.encode()).hexdigest()[:10]

    def padded(self) -> list[tuple[int, int]]:
        return list(self.units) + [self.units[-1]] * (self.size - len(self.units))


def groups(sweep: C.SweepSpec) -> dict[experiment.Spec, list[int]]:
    """Cells by the program that computes them: cells that differ only in
    :data:`jaxsoftmax.config.ARRAY_KEYS` share one, its hidden size the largest of theirs
    (the others padded and masked, exactly equal to unpadded networks) and weight decay on
    if any cell decays."""
    by: dict[experiment.Spec, list[int]] = defaultdict(list)
    for i, cell in enumerate(sweep.cells):
        by[experiment.spec_of(cell, decay=False)._replace(hidden=0)].append(i)
    out = {}
    for spec, cells in by.items():
        decay = any(sweep.cells[i].training.weight_decay > 0 for i in cells)
        sizes = {sweep.cells[i].model.hidden for i in cells}
        out[spec._replace(decay=decay, hidden=max(sizes), masked=len(sizes) > 1)] = cells
    return out


def plan(
    sweep: C.SweepSpec,
    *,
    chunk_size: int,
    n_devices: int,
    done: Container[tuple[int, int]] = frozenset(),
) -> list[Chunk]:
    """The units not in ``done`` in chunks of at most ``chunk_size`` (equal sizes within a
    group, a multiple of ``n_devices``), in (cell, trial) order."""
    chunks = []
    for spec, cells in groups(sweep).items():
        units = [(c, t) for c in cells for t in range(sweep.trials) if (c, t) not in done]
        if not units:
            continue
        count = -(-len(units) // chunk_size)
        per = -(-len(units) // count)
        size = -(-per // n_devices) * n_devices
        for i in range(count):
            part = tuple(units[i * per : (i + 1) * per])
            if part:
                chunks.append(Chunk(spec, part, size))
    return chunks


def default_chunk_size(devices) -> int:
    """Units per chunk by default: 16 per CPU device, 1024 per accelerator."""
    return _default_size(devices[0].platform, len(devices))


def _default_size(platform: str, n_devices: int) -> int:
    return DEFAULT_CHUNK_PER_DEVICE.get(platform, DEFAULT_CHUNK_ACCELERATOR) * n_devices


# --------------------------------------------------------------------------------------------
# Computing a chunk and its records
# --------------------------------------------------------------------------------------------


def chunk_inputs(sweep: C.SweepSpec, chunk: Chunk):
    """A chunk's per-unit seeds, trial indices and Hyper arrays (padded)."""
    units = chunk.padded()
    hypers = [experiment.hyper_of(sweep.cells[c]) for c, _ in units]
    hyper = experiment.Hyper(*(np.stack(v) for v in zip(*hypers)))
    seeds = np.array([sweep.cells[c].seed for c, _ in units], np.uint32)
    trials = np.array([t for _, t in units], np.int32)
    return seeds, trials, hyper


def run_chunk(sweep: C.SweepSpec, chunk: Chunk, devices) -> dict[str, np.ndarray]:
    """The chunk's metrics, ``{metric: (units, …)}``, padding dropped."""
    seeds, trials, hyper = chunk_inputs(sweep, chunk)
    out = experiment.run_units(chunk.spec, seeds, trials, hyper, devices=devices)
    return {k: v[: len(chunk.units)] for k, v in out.items()}


def records(sweep: C.SweepSpec, chunk: Chunk, out: dict) -> list[dict]:
    """One record per (cell, trial, estimator): the cell's varied values, the metrics (null
    where not finite, with ``finite`` false) and the Bayes rule's error rate."""
    rows = []
    for u, (cell, trial) in enumerate(chunk.units):
        values = sweep.cell_values(cell)
        for e, name in enumerate(sweep.estimators):
            r = {"cell": cell, "trial": trial, "estimator": name, **values}
            finite = True
            for m in RECORD_METRICS:
                x = float(out[m][u, e])
                finite &= math.isfinite(x)
                r[m] = x if math.isfinite(x) else None
            r["bayes_error_rate"] = float(out["bayes_error_rate"][u])
            r["finite"] = finite
            rows.append(r)
    return rows


# --------------------------------------------------------------------------------------------
# The folder: identity, records, resume
# --------------------------------------------------------------------------------------------


def prepare_folder(sweep: C.SweepSpec, folder: Path) -> None:
    """Creates ``folder`` with its ``sweep.json``, or checks that it holds this sweep."""
    folder = io.out_folder(folder)
    (folder / "chunks").mkdir(exist_ok=True)
    path = folder / "sweep.json"
    cells = [C.to_dict(c) for c in sweep.cells]
    if path.exists():
        try:
            old = json.loads(path.read_text())
            old_hash, old_cells = old["hash"], old["cells"]
        except (ValueError, KeyError, TypeError) as err:
            raise SweepError(
                f"{path}: damaged or not a sweep's description ({type(err).__name__}: {err}); "
                "move it away or use another --out folder"
            ) from None
        if old_hash != sweep.hash:
            diff = [
                f"cell {i}: {line}"
                for i, (a, b) in enumerate(zip(old_cells, cells))
                for line in C.config_diff(a, b)
            ]
            if len(old_cells) != len(cells):
                diff.append(f"cells: {len(old_cells)} in the folder, {len(cells)} now")
            raise SweepError(
                f"{folder} holds a different sweep (hash {old_hash}, this one {sweep.hash}); "
                "refusing to mix results. Differences:\n"
                + "\n".join(f"  {line}" for line in (diff[:20] or ["name or order of cells"]))
                + "\nUse another --out folder, or the folder's own description."
            )
        return
    io.write_json(
        path,
        {
            "hash": sweep.hash,
            "name": sweep.name,
            "description": sweep.description,
            "varied": list(sweep.varied),
            "cells": cells,
        },
    )


class UnitIndex:
    """The finished units of a sweep, ``(cell, trial)``: one byte per training (a boolean
    array), whatever the number of records; behaves as a set for ``in``, ``len``, ``add``
    and iteration (in (cell, trial) order)."""

    def __init__(self, cells: int, trials: int):
        # A (cells, trials) bool array; Any: numpy's stubs type mask[c, t] and all() as unions.
        self.mask: Any = np.zeros((cells, trials), bool)

    def __contains__(self, unit) -> bool:
        c, t = unit
        return 0 <= c < self.mask.shape[0] and 0 <= t < self.mask.shape[1] and self.mask[c, t]

    def add(self, unit) -> None:
        self.mask[unit] = True

    def __len__(self) -> int:
        return int(self.mask.sum())

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((int(c), int(t)) for c, t in zip(*np.nonzero(self.mask)))

    def __eq__(self, other) -> bool:
        return set(self) == set(other)

    __hash__ = None  # type: ignore[assignment]


def scan(sweep: C.SweepSpec, folder: Path) -> tuple[UnitIndex, list[Path]]:
    """The units done (every estimator's record present and parsing), as a compact
    :class:`UnitIndex`, and the damaged chunk files, which are moved to ``chunks/damaged/``
    (named in the log, never deleted). Streams the files one at a time: memory is one chunk
    file plus one bit per (training, estimator)."""
    names = {n: e for e, n in enumerate(sweep.estimators)}
    shape = (len(sweep.cells), sweep.trials)
    seen = np.zeros((*shape, len(names)), bool)
    damaged = []
    for path in sorted((Path(folder) / "chunks").glob("chunk-*.jsonl")):
        try:
            rows = [_key(line) for line in path.read_text().splitlines() if line.strip()]
        except (ValueError, KeyError, TypeError) as err:
            damaged.append(path)
            where = folder / "chunks" / "damaged"
            where.mkdir(exist_ok=True)
            target = where / path.name
            n = 1
            while target.exists():
                target, n = where / f"{path.stem}.{n}{path.suffix}", n + 1
            path.rename(target)
            log.warning(
                "%s: damaged (%s); moved to %s, its units will be computed again", path, err, target
            )
            continue
        for cell, trial, name in rows:
            e = names.get(name)
            if e is not None and 0 <= cell < shape[0] and 0 <= trial < shape[1]:
                seen[cell, trial, e] = True
    done = UnitIndex(*shape)
    done.mask = seen.all(axis=-1)
    return done, damaged


def _key(line: str) -> tuple[int, int, str]:
    r = _record(line)
    return int(r["cell"]), int(r["trial"]), r["estimator"]


def _record(line: str) -> dict:
    r = json.loads(line)
    if not isinstance(r, dict):
        raise ValueError("a line is not a record")
    for key in ("cell", "trial", "estimator", *SUMMARY_METRICS):
        r[key]
    return r


def iter_records(folder: Path) -> Iterator[dict]:
    """Every record of the folder's chunk files, streamed file by file (first copy kept)."""
    seen = set()
    for path in sorted((Path(folder) / "chunks").glob("chunk-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                r = _record(line)
                key = (r["cell"], r["trial"], r["estimator"])
                if key not in seen:
                    seen.add(key)
                    yield r


@contextmanager
def stop_between_chunks():
    """SIGTERM / SIGINT ask to stop after the current chunk; a second one stops at once."""
    flag: dict = {"signal": None}

    def handler(signum, frame):
        if flag["signal"] is not None:
            raise KeyboardInterrupt
        flag["signal"] = signum
        log.warning(
            "%s: stopping after the current chunk (send it again to stop now)",
            signal.Signals(signum).name,
        )

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_sweep(
    sweep: C.SweepSpec,
    folder: Path,
    *,
    devices: Sequence = (),
    chunk_size: int | None = None,
    pause: float = 0.0,
    quiet: bool = False,
    engine=None,
) -> dict:
    """Computes the units missing from ``folder``, writing each chunk as it finishes.

    Without ``engine``, here, on ``devices``; with a :class:`jaxsoftmax.cluster.Engine`, as
    tasks of its cluster (each on ``engine.n_devices`` devices of one worker), the records
    returned here and written by this process as chunks complete. Either way ``scan()``
    decides what is missing and each chunk file is written once, atomically."""
    folder = Path(folder)
    prepare_folder(sweep, folder)
    if engine is None:
        n_devices, platform, where = len(devices), devices[0].platform, "here"
    else:
        n_devices, platform, where = engine.n_devices, engine.platform, engine.where
    size = chunk_size or _default_size(platform, n_devices)
    done, damaged = scan(sweep, folder)
    chunks = plan(sweep, chunk_size=size, n_devices=n_devices, done=done)
    programs = len({(c.spec, c.size) for c in chunks})
    units = sum(len(c.units) for c in chunks)
    n_done = len(done)
    del done  # the plan holds what is left; the index is not needed any more
    log.info(
        "sweep %r: %d cells x %d trials = %d trainings x %d estimators; %d done, computing %d "
        "in %d chunks of <= %d on %d %s device(s); %d program(s) to compile",
        sweep.name,
        len(sweep.cells),
        sweep.trials,
        sweep.n_trainings,
        len(sweep.estimators),
        n_done,
        units,
        len(chunks),
        size,
        n_devices,
        platform,
        programs,
    )
    if engine is not None:
        log.info("running on %s", where)
    start = time.perf_counter()
    computed, interrupted, written = 0, None, set()
    if engine is None:
        results = ((c, {"metrics": run_chunk(sweep, c, devices)}) for c in chunks)
    else:
        results = engine.run_chunks(sweep, chunks)
    del chunks
    with (
        stop_between_chunks() as flag,
        Progress(units, "sweep", unit="trainings", quiet=quiet) as bar,
    ):
        try:
            for chunk, result in results:
                if chunk.name in written:  # never twice, whatever the engine delivers
                    log.warning("%s: delivered twice; the second copy is ignored", chunk.name)
                    continue
                write_chunk(sweep, folder, chunk, result["metrics"])
                written.add(chunk.name)
                computed += len(chunk.units)
                bar.update_to(computed)
                if pause and flag["signal"] is None:
                    time.sleep(pause)
                if flag["signal"] is not None:
                    interrupted = flag["signal"]
                    break
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # cancels the chunks still in flight on a cluster
    seconds = time.perf_counter() - start
    return {
        "computed": computed,
        "seconds": seconds,
        "interrupted": interrupted,
        "damaged": [str(p) for p in damaged],
        "programs": programs,
        "devices": n_devices,
        "platform": platform,
        "where": where,
    }


def write_chunk(sweep: C.SweepSpec, folder: Path, chunk: Chunk, metrics: dict) -> Path:
    """The chunk's records, one JSON line each, written atomically to
    ``<folder>/chunks/<chunk.name>.jsonl``."""
    text = "".join(json.dumps(r) + "\n" for r in records(sweep, chunk, metrics))
    return io.write_text(Path(folder) / "chunks" / f"{chunk.name}.jsonl", text)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def summarise(sweep: C.SweepSpec, folder: Path) -> dict:
    """Per (cell, estimator): statistics of eq. (4) and the error rate; per cell: paired
    comparisons of eq. (4) between estimators on the same trials (same data, same start),
    with Benjamini–Hochberg adjusted p-values across every comparison of the sweep.

    Refuses (:class:`SweepError`) when any record is missing: a summary is never silently
    incomplete."""
    done, damaged = scan(sweep, folder)
    missing = sweep.n_trainings - len(done)
    if missing or damaged:
        raise SweepError(
            f"{folder}: {missing} of {sweep.n_trainings} trainings have no complete records"
            + (f" ({len(damaged)} damaged chunk files set aside)" if damaged else "")
            + "; run the sweep again to compute them before summarising"
        )
    # Streamed into arrays (cells, estimators, trials): 8 bytes per number, the first copy of
    # each record kept; no record dict outlives its line.
    names = {n: e for e, n in enumerate(sweep.estimators)}
    shape = (len(sweep.cells), len(names), sweep.trials)
    arrays = {m: np.full(shape, np.nan) for m in (*SUMMARY_METRICS, "grad_norm")}
    filled = np.zeros(shape, bool)
    bayes = np.full((len(sweep.cells), sweep.trials), np.nan)
    for path in sorted((Path(folder) / "chunks").glob("chunk-*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            r = _record(line)
            e = names.get(r["estimator"])
            c, t = int(r["cell"]), int(r["trial"])
            if e is None or not (0 <= c < shape[0] and 0 <= t < shape[2]) or filled[c, e, t]:
                continue
            filled[c, e, t] = True
            for m, a in arrays.items():
                a[c, e, t] = np.nan if r[m] is None else r[m]
            if e == 0:
                bayes[c, t] = r["bayes_error_rate"]
    rows, paired = [], []
    for cell in range(len(sweep.cells)):
        cv = sweep.cell_values(cell)
        for e, name in enumerate(sweep.estimators):
            row = {"cell": cell, **cv, "estimator": name}
            for m in SUMMARY_METRICS:
                row[m] = stats.describe(list(arrays[m][cell, e]))
            row["bayes_error_rate"] = float(np.mean(bayes[cell]))
            rows.append(row)
        eq4 = {n: arrays["eq4"][cell, e].copy() for n, e in names.items()}
        for p in stats.paired_all(eq4):
            paired.append({"cell": cell, **cv, **p})
    grad = {n: arrays["grad_norm"][:, e][filled[:, e]] for n, e in names.items()}
    grad = {n: g[np.isfinite(g)] for n, g in grad.items()}
    adjusted = stats.fdr([p["wilcoxon_p"] for p in paired])
    for p, q in zip(paired, adjusted):
        p["wilcoxon_p_fdr"] = q
    return {
        "cells": rows,
        "paired": paired,
        "grad_norm": {
            n: {"median": float(np.median(g)), "max": float(np.max(g))}
            for n, g in grad.items()
            if g.size
        },
        "n_records": len(sweep.cells) * sweep.trials * len(sweep.estimators),
    }


def _ci(s: dict, digits: int = 4) -> str:
    if not s["n"]:
        return "—"
    if s["n"] < 2:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def _chaos_lines(sweep: C.SweepSpec) -> list[str]:
    """A paragraph on the sweep's pairings measured chaotic (:data:`jaxsoftmax.cluster.CHAOTIC`),
    or nothing."""
    from ..cluster import CHAOTIC

    chaotic = [n for n in sweep.estimators if n in CHAOTIC]
    if not chaotic:
        return []
    return [
        "Chaotic pairings: "
        + ", ".join(f"{n} (median change {CHAOTIC[n]:.0e})" for n in chaotic)
        + ". Moving every initial weight by one ulp changes their eq. (4) after training by "
        "that much (relative, median over trials; docs/cluster.md), far above float32 "
        "rounding. Their per-trial records are reproducible bitwise only with the same chunk "
        "size and devices per worker; other layouts give different per-trial numbers: "
        "compare their distributions, not single trials.",
        "",
    ]


def markdown(sweep: C.SweepSpec, summary: dict, meta: dict, figures: list[str]) -> str:
    """The sweep's ``summary.md``: per-cell intervals, paired tests with FDR, convergence."""
    varied = list(sweep.varied)
    flat = C.to_flat(sweep.base)
    fixed = {k: flat[k] for k in C.KEYS if k not in varied}
    lines = [
        f"# Sweep `{sweep.name}`",
        "",
        f"{len(sweep.cells)} cells × {sweep.trials} trials × {len(sweep.estimators)} estimators "
        f"(hash `{sweep.hash}`); varied: {', '.join(varied) or 'nothing'}; fixed: "
        + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fixed.items())
        + ".",
        "",
        f"Records: {summary['n_records']}. " + meta.get("run_line", ""),
        "",
        "Trials are paired across estimators *and* across cells: a trial's data and initial "
        "weights depend on the seed, the trial index and the data-shaping settings only "
        "(common random numbers; `jaxsoftmax.experiment`).",
        "",
        *_chaos_lines(sweep),
        "## Per cell: mean [95% CI] over trials (non-finite results counted, not averaged)",
        "",
        "| "
        + " | ".join([*varied, "estimator", "eq. (4)", "error rate", "Bayes", "non-finite"])
        + " |",
        "|" + "---|" * (len(varied) + 5),
    ]
    for r in summary["cells"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    *(json.dumps(r[k]) for k in varied),
                    r["estimator"],
                    _ci(r["eq4"]),
                    _ci(r["error_rate"]),
                    f"{r['bayes_error_rate']:.4f}",
                    f"{r['eq4']['nonfinite']}/{sweep.trials}",
                ]
            )
            + " |"
        )
    lines += [
        "",
        "## Paired comparisons of eq. (4) (A wins: lower); p adjusted for the false discovery "
        f"rate over all {len(summary['paired'])} comparisons (Benjamini–Hochberg)",
        "",
        "| "
        + " | ".join(
            [*varied, "A", "B", "trials", "A wins", "mean A − B", "Wilcoxon p", "FDR-adjusted p"]
        )
        + " |",
        "|" + "---|" * (len(varied) + 7),
    ]
    for p in summary["paired"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    *(json.dumps(p[k]) for k in varied),
                    p["a"],
                    p["b"],
                    str(p["trials"]),
                    f"{p['a_wins']}/{p['trials']}",
                    f"{p['mean_diff']:+.4f}",
                    f"{p['wilcoxon_p']:.2g}",
                    f"{p['wilcoxon_p_fdr']:.2g}",
                ]
            )
            + " |"
        )
    lines += [
        "",
        "## Convergence (final gradient norm of the training loss)",
        "",
        "| estimator | median | max |",
        "|---|---|---|",
    ]
    for n, g in summary["grad_norm"].items():
        lines.append(f"| {n} | {g['median']:.2e} | {g['max']:.2e} |")
    if figures:
        lines += ["", "## Figures", "", *(f"![{f}]({f})" for f in figures)]
    return "\n".join(lines) + "\n"


def figures(sweep: C.SweepSpec, summary: dict, out: Path) -> list[str]:
    """For each varied numeric key and metric: the mean against the key, one line per
    estimator with its 95% band; one panel per combination of the other varied keys, panels
    in numeric order on shared axes, one legend."""
    from .figures import _plt, save

    plt = _plt()
    varied = list(sweep.varied)
    names = []
    for key in varied:
        if not all(isinstance(r[key], (int, float)) for r in summary["cells"]):
            continue
        others = [k for k in varied if k != key]
        panels = sorted(
            {tuple(r[k] for k in others) for r in summary["cells"]},
            key=lambda t: [json.dumps(x) if not isinstance(x, (int, float)) else x for x in t],
        )
        if len(panels) > 12:
            continue
        for metric in SUMMARY_METRICS:
            fig, axes = plt.subplots(
                1,
                len(panels),
                figsize=(4.6 * len(panels) + 0.8, 3.8),
                squeeze=False,
                sharex=True,
                sharey=True,
            )
            for ax, panel in zip(axes[0], panels):
                rows = [r for r in summary["cells"] if tuple(r[k] for k in others) == panel]
                for name in sweep.estimators:
                    pr = sorted((r for r in rows if r["estimator"] == name), key=lambda r: r[key])
                    x = np.array([r[key] for r in pr], float)
                    m = np.array([r[metric]["mean"] for r in pr])
                    (line,) = ax.plot(x, m, marker="o", ms=3, label=name)
                    ax.fill_between(
                        x,
                        [r[metric]["ci_low"] for r in pr],
                        [r[metric]["ci_high"] for r in pr],
                        color=line.get_color(),
                        alpha=0.2,
                        lw=0,
                    )
                if metric == "error_rate":
                    b = sorted({(r[key], r["bayes_error_rate"]) for r in rows})
                    ax.plot(*zip(*b), "k--", lw=1, label="Bayes rule")
                xs = sorted({r[key] for r in rows})
                if len(xs) > 1 and xs[0] > 0 and xs[-1] / xs[0] >= 20:
                    ax.set_xscale("log")
                ax.set_xlabel(key)
                ax.set_title(
                    ", ".join(f"{k} = {v}" for k, v in zip(others, panel))
                    or f"{sweep.trials} trials per point, 95% CI bands",
                    fontsize=8,
                )
                ax.grid(alpha=0.3)
            axes[0][0].set_ylabel(METRIC_LABELS[metric])
            handles, labels = axes[0][0].get_legend_handles_labels()
            ncols = min(len(labels), 3 * len(panels))
            legend_rows = -(-len(labels) // ncols)
            fig.legend(handles, labels, loc="lower center", ncols=ncols, fontsize=7)
            fig.tight_layout(rect=(0, 0.06 * legend_rows + 0.02, 1, 1))
            names.append(save(fig, out / f"{metric}_vs_{key.replace('.', '_')}.png", tight=False))
    return names


def write_summary(sweep: C.SweepSpec, folder: Path, meta: dict, *, plot: bool = True) -> str:
    """Writes ``summary.json``, ``summary.md`` and the figures (refuses over missing records)."""
    folder = Path(folder)
    summary = summarise(sweep, folder)
    names = figures(sweep, summary, folder) if plot else []
    text = markdown(sweep, summary, meta, names)
    io.write_json(folder / "summary.json", summary)
    io.write_text(folder / "summary.md", text)
    return text


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The command's flags."""
    p = argparse.ArgumentParser(
        prog="jaxsoftmax sweep", description=cast(str, __doc__).splitlines()[0]
    )
    p.add_argument("config", help="the sweep description (.toml or .json)")
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
        help="(cell, trial) units per chunk (default per device: 16 on a CPU, 1024 "
        "on an accelerator)",
    )
    p.add_argument(
        "--cluster",
        metavar="WHERE",
        help="run the chunks as tasks of a Dask cluster: local:N (N worker processes on this "
        "machine, loopback), tcp://HOST:PORT (a running scheduler) or a scheduler file; "
        "records come back to this process, which writes them (docs/cluster.md)",
    )
    p.add_argument(
        "--resources",
        metavar="NAME=AMOUNT",
        help="with --cluster: worker resources each chunk needs, e.g. GPU=1 (workers started "
        "with --resources GPU=N run at most N chunks at once)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--pause", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--dry-run", action="store_true", help="validate and show the plan only")
    p.add_argument("--summary-only", action="store_true", help="rewrite the summary only")
    common.add_common_flags(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """``jaxsoftmax sweep FILE``: validate, compute what is missing, write the summary."""
    args = parser().parse_args(argv)
    common.start(args)
    sweep = C.load_sweep(args.config, args.set)
    if args.chunk_size < 0:
        raise common.UsageError(f"--chunk-size: expected a count >= 1, got {args.chunk_size}")
    folder = Path(args.out or f"results/sweeps/{sweep.name}")
    if folder.exists() and not folder.is_dir():
        raise io.OutputError(f"--out {folder}: is a file, not a folder; give a folder path")
    if args.cluster is not None:
        return _main_cluster(args, sweep, folder)
    devices = common.setup_runtime(args)
    if args.dry_run:
        _dry_run(sweep, args.chunk_size or default_chunk_size(devices), len(devices))
        return 0
    meta: dict = {}
    if not args.summary_only:
        run = run_sweep(
            sweep,
            folder,
            devices=devices,
            chunk_size=args.chunk_size or None,
            pause=args.pause,
            quiet=args.quiet,
        )
        code = _after_run(run, folder, meta)
        if code:
            return code
    write_summary(sweep, folder, meta, plot=not args.no_plots)
    log.info("wrote %s", folder / "summary.md")
    return 0


def _dry_run(sweep: C.SweepSpec, size: int, n_devices: int) -> None:
    chunks = plan(sweep, chunk_size=size, n_devices=n_devices)
    print(
        f"{len(sweep.cells)} cells, {sweep.n_trainings} trainings, {len(chunks)} chunks, "
        f"{len({(c.spec, c.size) for c in chunks})} programs; varied: "
        f"{', '.join(sweep.varied) or 'nothing'}"
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
            "stopped by %s; finished chunks are kept in %s: rerun the same command to resume",
            signal.Signals(run["interrupted"]).name,
            folder,
        )
        return 128 + run["interrupted"]
    where = (
        f"{run['devices']} {run['platform']} device(s)" if run["where"] == "here" else run["where"]
    )
    meta["run_line"] = (
        f"Last run: {run['computed']} trainings in {run['seconds']:.1f} s "
        f"({rate:.2f} trainings/s incl. compilation) on {where}."
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
            ) as engine:
                if args.dry_run:
                    size = args.chunk_size or _default_size(engine.platform, engine.n_devices)
                    _dry_run(sweep, size, engine.n_devices)
                    return 0
                run = run_sweep(
                    sweep,
                    folder,
                    engine=engine,
                    chunk_size=args.chunk_size or None,
                    pause=args.pause,
                    quiet=args.quiet,
                )
        except cluster.ClusterError as err:
            raise common.UsageError(str(err)) from None
        code = _after_run(run, folder, meta)
        if code:
            return code
    write_summary(sweep, folder, meta, plot=not args.no_plots)
    log.info("wrote %s", folder / "summary.md")
    return 0
