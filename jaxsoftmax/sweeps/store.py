"""A sweep's results folder: its identity, one Parquet file per chunk, resume and repair.

Layout::

    <folder>/sweep.json              the identity (what changes a number) and the description
    <folder>/chunks/g000-c0000000.parquet   one file per finished chunk, written once, atomically
    <folder>/chunks/damaged/         files that failed validation (named in the log, never deleted)
    <folder>/superseded/<hash>/      results of an earlier identity set aside by ``--force``

**Why Parquet** (pyarrow) rather than Zarr: a chunk is a small immutable table written
once; Parquet makes it ONE self-describing file (schema, compression, our metadata in the
footer) that the project's atomic writer (:func:`jaxsoftmax.io.write_bytes`: temporary file,
fsync, rename) can publish whole, and that pandas, polars, DuckDB and Arrow read directly.
Zarr stores an array as a folder of files, which cannot be published atomically and would
cost one file per variable per chunk.

**A row** is one (cell, trial, estimator): ``cell``, ``trial``, ``estimator`` (dictionary
encoded), the cell's varied settings, every metric of :func:`jaxsoftmax.experiment.evaluate`
(eq. (4) — NaN for a data set, which has no exact posterior —, the error rate, the log-loss,
Brier score and ECE, …; per-unit ones, ``bayes_*``, repeated on the unit's rows) with
array-valued ones (the confusion tables) as fixed-size lists whose shapes are in the footer,
and nothing else (not the reliability diagram's bins: :data:`NOT_STORED`).
Columns are built from NumPy arrays: no Python per unit.

**Identity** (:func:`identity`): every cell's configuration except ``trials`` (a folder
grows by trials), the chunk size (the layout: it changes bits), the platform, the versions
of the packages that compute the numbers, and the source of every definition and module
that computes them (a plugin's file included). A folder whose identity differs is refused
with the differences listed; ``force`` sets the old results aside and starts again.
"""

from __future__ import annotations

import io as _io
import json
import logging
import queue
import threading
import time
from collections.abc import Iterable, Mapping
from importlib import metadata as _metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import config as C
from .. import io, provenance

if TYPE_CHECKING:
    from .plan import Chunk, Plan

__all__ = [
    "SweepError",
    "Writer",
    "as_numpy",
    "chunk_path",
    "chunk_table",
    "identity",
    "identity_diff",
    "prepare_folder",
    "read_chunk",
    "scan",
]

log = logging.getLogger("jaxsoftmax")

FORMAT = 2  # 1: JSON lines (jaxsoftmax 0.1); 2: Parquet chunks
META_KEY = b"jaxsoftmax"
VERSIONED = ("jax", "jaxlib", "optax", "jaxsoftmax")


class SweepError(ValueError):
    """A results folder or sweep state that cannot be used (names the file and why)."""


def _pa():
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa, pq


# --------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------


def identity(sweep: C.SweepSpec, chunk_size: int, platform: str) -> dict:
    """Everything that changes the folder's numbers, ``trials`` excepted (JSON-ready)."""
    cells = []
    for c in sweep.cells:
        d = C.to_dict(c)
        d.pop("trials", None)
        cells.append(d)
    versions = {}
    for pkg in VERSIONED:
        try:
            versions[pkg] = _metadata.version(pkg)
        except _metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "format": FORMAT,
        "name": sweep.name,
        "cells": cells,
        "chunk_size": chunk_size,
        "platform": platform,
        "versions": versions,
        "engine": provenance.engine_sources(),
        "definitions": {n: provenance.definition_sources(n) for n in sweep.estimators},
    }


def identity_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The differences between two identities, one line each, in words."""
    out = []
    if old.get("name") != new.get("name"):
        out.append(f"name: {old.get('name')!r} (before) -> {new.get('name')!r}")
    oc, nc = old.get("cells", []), new.get("cells", [])
    if len(oc) != len(nc):
        out.append(f"cells: {len(oc)} in the folder, {len(nc)} now")
    for i, (a, b) in enumerate(zip(oc, nc)):
        out += [f"cell {i}: {line}" for line in C.config_diff(a, b)]
    for key in ("chunk_size", "platform"):
        if old.get(key) != new.get(key):
            out.append(f"{key}: {old.get(key)} (before) -> {new.get(key)}")
    for pkg in sorted(set(old.get("versions", {})) | set(new.get("versions", {}))):
        a, b = old.get("versions", {}).get(pkg), new.get("versions", {}).get(pkg)
        if a != b:
            out.append(f"version of {pkg}: {a} (before) -> {b}")
    for f in sorted(set(old.get("engine", {})) | set(new.get("engine", {}))):
        if old.get("engine", {}).get(f) != new.get("engine", {}).get(f):
            out.append(f"source of {f} changed")
    od, nd = old.get("definitions", {}), new.get("definitions", {})
    for name in sorted(set(od) | set(nd)):
        a, b = od.get(name, {}), nd.get(name, {})
        changed = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
        if changed:
            out.append(f"definition of {name} changed ({', '.join(changed)})")
    return out


def _hash(ident: Mapping[str, Any]) -> str:
    return C.config_hash(ident)


def read_description(folder: Path) -> dict:
    """The folder's ``sweep.json`` (refuses a damaged one, naming it)."""
    path = Path(folder) / "sweep.json"
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "hash" not in data or "cells" not in data:
            raise ValueError("no hash or cells")
    except FileNotFoundError:
        raise SweepError(f"{folder}: no sweep.json: not a sweep's results folder") from None
    except (ValueError, TypeError, OSError) as err:
        raise SweepError(
            f"{path}: damaged or not a sweep's description ({type(err).__name__}: {err}); "
            "move it away or use another --out folder"
        ) from None
    return data


def prepare_folder(
    sweep: C.SweepSpec, folder: Path, ident: Mapping[str, Any], *, force: bool = False
) -> dict:
    """Creates ``folder`` with its ``sweep.json``, or checks that it holds this sweep.

    Refuses (:class:`SweepError`, the differences listed) a folder whose identity differs;
    with ``force`` its results are moved to ``superseded/<old hash>/`` (never deleted) and
    the folder starts again. A folder of the JSON-lines format (jaxsoftmax 0.1) with the
    same cells is taken over: its records are converted by :func:`scan`. Returns the
    folder's description."""
    folder = io.out_folder(folder)
    path = folder / "sweep.json"
    new_hash = _hash(ident)
    if path.exists():
        old = read_description(folder)
        old_ident = old.get("identity")
        if old_ident is None:  # format 1: the cells (trials included) were the identity
            old_ident = {
                **ident,
                "cells": [{k: v for k, v in c.items() if k != "trials"} for c in old["cells"]],
                "name": old.get("name", ident["name"]),
            }
        diff = identity_diff(old_ident, ident)
        if diff and not force:
            raise SweepError(
                f"{folder} holds results of a different sweep or definition (hash "
                f"{old['hash']}, this one {new_hash}); refusing to mix results. Differences:\n"
                + "\n".join(f"  {line}" for line in diff[:20])
                + (f"\n  ... and {len(diff) - 20} more" if len(diff) > 20 else "")
                + "\nUse another --out folder, or --force to set these results aside "
                "(moved to superseded/, not deleted) and compute again."
            )
        if diff:
            target = folder / "superseded" / str(old["hash"])
            target.mkdir(parents=True, exist_ok=True)
            for p in (folder / "chunks", path, folder / "summary.json", folder / "summary.md"):
                if p.exists():
                    p.rename(target / p.name)
            log.warning("--force: the earlier results are set aside in %s", target)
    desc = {
        "hash": new_hash,
        "format": FORMAT,
        "name": sweep.name,
        "trials": sweep.trials,
        "estimators": list(sweep.estimators),
        "varied": list(sweep.varied),
        "description": sweep.description,
        "identity": dict(ident),
        "cells": [C.to_dict(c) for c in sweep.cells],
    }
    io.write_json(path, desc)
    # After the description: a folder with a chunks/ folder always says what it holds.
    (folder / "chunks").mkdir(exist_ok=True)
    return desc


# --------------------------------------------------------------------------------------------
# Chunk files
# --------------------------------------------------------------------------------------------


def chunk_path(folder: Path, chunk: Chunk) -> Path:
    return Path(folder) / "chunks" / f"{chunk.name}.parquet"


class CellColumns:
    """The varied settings of every cell as column arrays (built once per sweep)."""

    def __init__(self, sweep: C.SweepSpec):
        self.names = list(sweep.varied)
        values = [sweep.cell_values(i) for i in range(len(sweep.cells))]
        self.columns: dict[str, np.ndarray] = {}
        for k in self.names:
            col = [v[k] for v in values]
            if all(isinstance(x, bool) for x in col):
                self.columns[k] = np.array(col, bool)
            elif all(isinstance(x, int) and not isinstance(x, bool) for x in col):
                self.columns[k] = np.array(col, np.int64)
            elif all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in col):
                self.columns[k] = np.array(col, np.float64)
            else:  # strings, covariance matrices: their JSON text
                self.columns[k] = np.array(
                    [x if isinstance(x, str) else json.dumps(x) for x in col], object
                )


NOT_STORED = frozenset({"calibration"})
"""Engine outputs a sweep does not keep: the reliability diagram's bins (45 numbers per
training and estimator, 78 of the 165 bytes a row took; the ECE, log-loss and Brier score are
kept). ``jaxsoftmax reproduce`` keeps them in ``results.json`` and draws the diagram."""


def chunk_table(
    chunk: Chunk,
    metrics: Mapping[str, np.ndarray],
    estimators: tuple[str, ...],
    cells: CellColumns,
    meta: Mapping[str, Any],
):
    """The chunk's rows as an Arrow table (see the module docstring), ``meta`` in its
    footer; ``metrics`` ``{name: (units, …)}`` as :func:`jaxsoftmax.experiment.run_units`
    returns them, padding dropped."""
    pa, _ = _pa()
    unit_cells, unit_trials = chunk.units()
    u, e = len(unit_cells), len(estimators)
    cols: dict[str, Any] = {
        "cell": _arrow(np.repeat(unit_cells, e)),
        "trial": _arrow(np.repeat(unit_trials, e)),
        "estimator": pa.DictionaryArray.from_arrays(
            _arrow(np.tile(np.arange(e, dtype=np.int8), u)),
            _arrow(np.array(estimators, object)),
        ),
    }
    for k in cells.names:
        cols[k] = _arrow(np.repeat(cells.columns[k][unit_cells], e))
    shapes = {}
    for name in sorted(metrics):
        if name in NOT_STORED:
            continue
        a = np.asarray(metrics[name])[:u]
        if name.startswith("bayes_"):  # per unit: repeated on the unit's estimator rows
            a = np.repeat(a, e, axis=0)
        else:
            if a.shape[1:2] != (e,):
                raise ValueError(f"metric {name}: shape {a.shape}, expected ({u}, {e}, ...)")
            a = a.reshape(u * e, *a.shape[2:])
        shapes[name] = list(a.shape[1:])
        if a.ndim == 1:
            cols[name] = _arrow(a)
        else:
            width = int(np.prod(a.shape[1:]))
            cols[name] = pa.FixedSizeListArray.from_arrays(_arrow(a.reshape(-1)), width)
    table = pa.table(cols)
    info = {**meta, "shapes": shapes, "rows": u * e, "units": u}
    return table.replace_schema_metadata({META_KEY: json.dumps(info).encode()})


def _arrow(a: np.ndarray):
    """A 1-D NumPy array (numbers, booleans or strings) as an Arrow array, built from its
    buffers: ``pyarrow.array`` imports pandas (~0.3 s of the first chunk) to ask whether the
    input is a pandas object, and this writer never gives it one."""
    pa, _ = _pa()
    a = np.ascontiguousarray(a)
    if a.dtype == object or a.dtype.kind in "US":
        data = [str(x).encode() for x in a.tolist()]
        offsets = np.zeros(len(data) + 1, np.int32)
        np.cumsum([len(d) for d in data], out=offsets[1:])
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
        return pa.Array.from_buffers(pa.string(), len(data), buffers)
    if a.dtype == bool:
        bits = np.packbits(a, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)])


def as_numpy(column) -> np.ndarray:
    """An Arrow column (an ``Array`` or a ``ChunkedArray``) of numbers or booleans without
    nulls as a NumPy array, read from its buffers (read-only where no copy was needed):
    pyarrow's ``to_numpy`` imports pandas (~0.3 s of a summary or a resume scan) to convert,
    and the store's columns need no pandas. The reverse of :func:`_arrow`. A column
    with nulls or of another type is converted by pyarrow."""
    pa, _ = _pa()
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    t, n, start = arr.type, len(arr), arr.offset
    if arr.null_count == 0 and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        dtype = np.dtype(t.to_pandas_dtype())
        data = arr.buffers()[1]
        if data is None:  # an empty array may have no data buffer
            return np.zeros(0, dtype)
        return np.frombuffer(data, dtype, count=n, offset=start * dtype.itemsize)
    if arr.null_count == 0 and pa.types.is_boolean(t):
        if n == 0:
            return np.zeros(0, bool)
        bits = np.frombuffer(arr.buffers()[1], np.uint8)
        return np.unpackbits(bits, count=start + n, bitorder="little")[start:].astype(bool)
    return arr.to_numpy(zero_copy_only=False)


def encode(table) -> bytes:
    """The table as Parquet bytes (zstd, dictionary encoding, statistics off)."""
    _, pq = _pa()
    buf = _io.BytesIO()
    pq.write_table(table, buf, compression="zstd", compression_level=9, write_statistics=False)
    return buf.getvalue()


def read_chunk(path: Path, columns: Iterable[str] | None = None):
    """A chunk file's table and its footer metadata; :class:`SweepError` naming the file
    when it is not a readable chunk. One open of the file, through ``ParquetFile``:
    ``pyarrow.parquet.read_table`` goes through ``pyarrow.dataset``, which imports pandas
    (~0.3 s, a third of a small sweep's summary)."""
    pa, pq = _pa()
    try:
        with pq.ParquetFile(path) as f:
            schema = f.schema_arrow
            table = f.read(columns=list(columns) if columns is not None else None)
        meta = json.loads((schema.metadata or {})[META_KEY])
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as err:
        raise SweepError(f"{path}: not a readable chunk ({type(err).__name__}: {err})") from None
    return table, meta, schema


def _set_aside(folder: Path, path: Path, why: str) -> Path:
    where = Path(folder) / "chunks" / "damaged"
    where.mkdir(exist_ok=True)
    target, n = where / path.name, 1
    while target.exists():
        target, n = where / f"{path.stem}.{n}{path.suffix}", n + 1
    path.rename(target)
    log.warning(
        "%s: damaged (%s); moved to %s, its chunk will be computed again", path, why, target
    )
    return target


def expected_columns(sweep: C.SweepSpec) -> list[str]:
    """Columns every chunk file of ``sweep`` must have (the metrics the engine returns)."""
    from ..experiment import ESTIMATOR_METRICS, SCORE_METRICS

    return [
        "cell",
        "trial",
        "estimator",
        *sweep.varied,
        *ESTIMATOR_METRICS,
        *SCORE_METRICS,
        "bayes_error_rate",
    ]


def validate_chunk(sweep: C.SweepSpec, folder_hash: str, chunk: Chunk, path: Path) -> str | None:
    """Why ``path`` is not ``chunk`` complete for this folder, or None when it is. Reads the
    footer and the unit columns only."""
    table, meta, schema = read_chunk(path, columns=["cell", "trial"])
    missing = [c for c in expected_columns(sweep) if c not in schema.names]
    if missing:
        return f"no column {', '.join(missing)}"
    if meta.get("hash") != folder_hash:
        return f"written for another identity (hash {meta.get('hash')})"
    if meta.get("chunk") != chunk.name or meta.get("start") != chunk.start:
        return f"holds chunk {meta.get('chunk')}, not {chunk.name}"
    cells, trials = chunk.units()
    e = len(sweep.estimators)
    got_cells = as_numpy(table.column("cell"))
    got_trials = as_numpy(table.column("trial"))
    if len(got_cells) < len(cells) * e and meta.get("stop", 0) < chunk.stop:
        return "partial"  # the last chunk before trials were added: computed again, whole
    if len(got_cells) != len(cells) * e or meta.get("stop") != chunk.stop:
        return f"{len(got_cells)} rows, {len(cells) * e} expected"
    if not (
        np.array_equal(got_cells, np.repeat(cells, e))
        and np.array_equal(got_trials, np.repeat(trials, e))
    ):
        return "its units are not the plan's"
    return None


def scan(sweep: C.SweepSpec, folder: Path, plan: Plan, folder_hash: str) -> tuple[set, list]:
    """The names of the plan's chunks whose files are complete, and the damaged files (moved
    to ``chunks/damaged/``, named in the log, never deleted). Files of chunks outside the
    plan are left alone."""
    folder = Path(folder)
    convert_legacy(sweep, folder, plan)
    files = {p.stem: p for p in (folder / "chunks").glob("g*-c*.parquet")}
    done, damaged = set(), []
    for chunk in plan.chunks():
        path = files.get(chunk.name)
        if path is None:
            continue
        try:
            why = validate_chunk(sweep, folder_hash, chunk, path)
        except SweepError as err:
            why = str(err).split(": ", 1)[-1]
        if why is None:
            done.add(chunk.name)
        elif why != "partial":
            damaged.append(_set_aside(folder, path, why))
    return done, damaged


# --------------------------------------------------------------------------------------------
# The background writer
# --------------------------------------------------------------------------------------------


class Writer:
    """Writes chunk files in a background thread, so that the devices never wait for the
    disk: :meth:`submit` queues a chunk's metrics (at most ``depth`` waiting; a full queue
    makes the caller wait, so memory stays flat), the thread builds the table and writes it
    atomically. An error in the thread is raised by the next :meth:`submit` or by
    :meth:`close`, which writes everything queued before it returns."""

    def __init__(self, sweep: C.SweepSpec, folder: Path, meta: Mapping[str, Any], depth=8):
        self.sweep, self.folder, self.meta = sweep, Path(folder), dict(meta)
        self.cells = CellColumns(sweep)
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.written = 0
        self.thread = threading.Thread(target=self._loop, name="jaxsoftmax-writer", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    self._write(*item)
            except BaseException as err:  # kept for the main thread
                self.error = err
            finally:
                self.queue.task_done()

    def _write(self, chunk: Chunk, metrics: Mapping[str, np.ndarray], info: Mapping) -> None:
        meta = {
            **self.meta,
            **info,
            "chunk": chunk.name,
            "group": chunk.group.index,
            "index": chunk.index,
            "start": chunk.start,
            "stop": chunk.stop,
            "estimators": list(self.sweep.estimators),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        table = chunk_table(chunk, metrics, self.sweep.estimators, self.cells, meta)
        io.write_bytes(chunk_path(self.folder, chunk), encode(table))
        self.written += 1

    def _raise(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise SweepError(f"writing a chunk file failed: {type(err).__name__}: {err}") from err

    def submit(self, chunk: Chunk, metrics: Mapping[str, np.ndarray], info: Mapping) -> None:
        self._raise()
        self.queue.put((chunk, metrics, info))

    def close(self) -> None:
        """Writes what is queued, stops the thread, raises a write error if there was one."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self._raise()


# --------------------------------------------------------------------------------------------
# The JSON-lines format of jaxsoftmax 0.1
# --------------------------------------------------------------------------------------------


def convert_legacy(sweep: C.SweepSpec, folder: Path, plan: Plan) -> None:
    """Takes over a folder of JSON-lines chunk files (``chunks/*.jsonl``, jaxsoftmax 0.1).

    Every record is checked (a line that does not parse, lacks a metric or has a mistyped
    value makes its file damaged: named and set aside; two different records of one
    (cell, trial, estimator) are refused, both named). The plan's chunks whose every unit
    has its records are written as Parquet chunks (the confusion tables, which that format
    did not keep, and the log-loss, Brier score and ECE, are NaN;
    ``converted`` in the footer says so); the other units are
    computed. The JSON-lines files are moved to ``chunks/legacy/`` (never deleted)."""
    from ..experiment import ESTIMATOR_METRICS, SCORE_METRICS

    folder = Path(folder)
    paths = sorted((folder / "chunks").glob("*.jsonl"))
    if not paths:
        return
    names = {n: e for e, n in enumerate(sweep.estimators)}
    shape = (len(sweep.cells), sweep.trials, len(names))
    values = {m: np.full(shape, np.nan, np.float64) for m in ESTIMATOR_METRICS}
    bayes = np.full(shape[:2], np.nan)
    seen = np.zeros(shape, bool)
    origin: dict[tuple, str] = {}
    ok_files = []
    for path in paths:
        try:
            rows = []
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if line.strip():
                    rows.append(_legacy_record(line, n))
        except (ValueError, KeyError, TypeError) as err:
            _set_aside(folder, path, str(err))
            continue
        ok_files.append(path)
        for r in rows:
            c, t, e = r["cell"], r["trial"], names.get(r["estimator"])
            if e is None or not (0 <= c < shape[0] and 0 <= t < shape[1]):
                continue
            got = [r[m] for m in ESTIMATOR_METRICS]
            if seen[c, t, e]:
                before = [values[m][c, t, e] for m in ESTIMATOR_METRICS]
                if not np.array_equal(np.array(got, float), np.array(before), equal_nan=True):
                    raise SweepError(
                        f"{folder}: two different records of cell {c}, trial {t}, "
                        f"{r['estimator']} in {origin[(c, t, e)]} and {path.name}; move the "
                        "wrong one away (or use another --out folder)"
                    )
                continue
            seen[c, t, e] = True
            origin[(c, t, e)] = path.name
            for m, v in zip(ESTIMATOR_METRICS, got):
                values[m][c, t, e] = v
            bayes[c, t] = r["bayes_error_rate"]
    meta = {"hash": _hash(read_description(folder)["identity"]), "converted": "jsonl"}
    writer = Writer(sweep, folder, meta)
    k = q = sweep.base.problem.n_classes
    converted = 0
    try:
        for chunk in plan.chunks():
            cells, trials = chunk.units()
            if not seen[cells, trials].all():
                continue
            metrics: dict[str, np.ndarray] = {
                m: values[m][cells, trials].astype(np.float32) for m in ESTIMATOR_METRICS
            }
            for m in ("best_step",):
                metrics[m] = metrics[m].astype(np.int32)
            metrics["bayes_error_rate"] = bayes[cells, trials].astype(np.float32)
            metrics["rates"] = np.full((len(cells), len(names), k, q), np.nan, np.float32)
            metrics["bayes_rates"] = np.full((len(cells), k, q), np.nan, np.float32)
            for m in SCORE_METRICS:  # not recorded by that format either: NaN
                metrics[m] = np.full((len(cells), len(names)), np.nan, np.float32)
            writer.submit(chunk, metrics, {"seconds": 0.0})
            converted += len(cells)
    finally:
        writer.close()
    legacy = folder / "chunks" / "legacy"
    legacy.mkdir(exist_ok=True)
    for path in ok_files:
        path.rename(legacy / path.name)
    log.warning(
        "%s: converted the JSON-lines records of %d trainings (jaxsoftmax 0.1 format) into "
        "Parquet chunks (their confusion tables and scores were not recorded: NaN); the "
        "JSON-lines files are kept in %s; %d trainings not in whole chunks will be computed",
        folder,
        converted,
        legacy,
        sweep.n_trainings - converted,
    )


def _legacy_record(line: str, n: int) -> dict:
    from ..experiment import ESTIMATOR_METRICS

    r = json.loads(line)
    if not isinstance(r, dict):
        raise ValueError(f"line {n} is not a record")
    for key in ("cell", "trial"):
        if not isinstance(r.get(key), int) or isinstance(r.get(key), bool):
            raise ValueError(f"line {n}: {key} is {r.get(key)!r}, expected an integer")
    if not isinstance(r.get("estimator"), str):
        raise ValueError(f"line {n}: estimator is {r.get('estimator')!r}, expected a name")
    for m in (*ESTIMATOR_METRICS, "bayes_error_rate"):
        if m not in r:
            raise ValueError(f"line {n}: no {m}")
        v = r[m]
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ValueError(f"line {n}: {m} is {v!r}, expected a number or null")
        if v is None:
            r[m] = float("nan")
    return r
