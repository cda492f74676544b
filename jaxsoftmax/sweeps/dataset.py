"""A sweep's results as an ``xarray.Dataset``: :func:`load`.

::

    import jaxsoftmax.sweeps as sw
    ds = sw.load("results/sweeps/n_per_class")       # dims: varied settings, trial, estimator
    ds.eq4.mean("trial")                               # per cell and estimator
    df = ds.to_dataframe().reset_index()               # the long table, one row per training

Needs the ``sweeps`` extra (xarray, pandas, pyarrow), which ``jaxsoftmax`` installs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .store import SweepError, as_numpy, read_chunk, read_description

__all__ = ["load", "load_arrays"]


def load_arrays(folder: str | Path, *, tables: bool = False) -> dict[str, Any]:
    """The folder's numbers as NumPy arrays ``(cells, trials, estimators, …)`` (per-unit
    ``bayes_*`` ones ``(cells, trials, …)``), with ``description`` (``sweep.json``) and
    ``complete`` (a ``(cells, trials)`` bool array: every estimator's row present).

    Reads every chunk file whole; one that does not read is a :class:`SweepError` naming it.
    ``tables``: the confusion tables too (``rates``, ``bayes_rates``)."""
    folder = Path(folder)
    desc = read_description(folder)
    estimators = list(desc["estimators"])
    n_cells, n_trials, n_est = len(desc["cells"]), int(desc["trials"]), len(estimators)
    arrays: dict[str, np.ndarray] = {}
    filled = np.zeros((n_cells, n_trials, n_est), bool)
    for path in sorted((folder / "chunks").glob("g*-c*.parquet")):
        table, meta, _ = read_chunk(path)
        if meta.get("hash") != desc["hash"]:
            continue  # another identity's file (the scan sets such files aside)
        names = [str(x) for x in meta.get("estimators", [])]
        shapes = meta.get("shapes", {})
        cells = as_numpy(table.column("cell"))
        trials = as_numpy(table.column("trial"))
        est_codes = table.column("estimator").combine_chunks()
        remap = np.array([estimators.index(n) if n in estimators else -1 for n in names])
        est = remap[as_numpy(est_codes.indices)]
        keep = (est >= 0) & (trials < n_trials) & (cells < n_cells)
        cells, trials, est = cells[keep], trials[keep], est[keep]
        filled[cells, trials, est] = True
        for name, shape in shapes.items():
            if name.startswith("bayes_") or name == "rates":
                if not tables and name != "bayes_error_rate":
                    continue
            col = table.column(name).combine_chunks()
            if shape:
                values = as_numpy(col.flatten()).reshape(-1, *shape)
            else:
                values = as_numpy(col)
            values = values[keep]
            if name not in arrays:
                per_unit = name.startswith("bayes_")
                full = (n_cells, n_trials) if per_unit else (n_cells, n_trials, n_est)
                fill = np.nan if values.dtype.kind == "f" else -1
                arrays[name] = np.full((*full, *shape), fill, values.dtype)
            if name.startswith("bayes_"):
                arrays[name][cells, trials] = values
            else:
                arrays[name][cells, trials, est] = values
    return {
        "description": desc,
        "complete": filled.all(axis=-1),
        "estimators": estimators,
        **arrays,
    }


def load(folder: str | Path, *, tables: bool = False, allow_missing: bool = False):
    """The sweep in ``folder`` as an ``xarray.Dataset``.

    Dimensions: the sweep's varied settings (when its cells are the full product of their
    values — a grid; otherwise one ``cell`` dimension with the settings as coordinates),
    ``trial`` and ``estimator``. Variables: every metric of
    :func:`jaxsoftmax.experiment.evaluate` (``eq4``, ``error_rate``, ``grad_norm``, …) and
    ``bayes_error_rate`` (no ``estimator`` dimension); with ``tables``, also the confusion
    tables ``rates`` and ``bayes_rates`` (dimensions ``true_class``, ``assigned_class``).
    ``eq4`` is NaN for a data set (no exact posterior: unavailable).
    So ``ds.to_dataframe()`` is the long table (one row per training and estimator) when
    ``tables`` is off. Attributes: the sweep's name, hash and fixed settings.

    Refuses (:class:`~jaxsoftmax.sweeps.SweepError`) a folder with missing trainings unless
    ``allow_missing`` (then they are NaN)."""
    import xarray as xr

    a = load_arrays(folder, tables=tables)
    desc = a.pop("description")
    complete = a.pop("complete")
    estimators = a.pop("estimators")
    if not complete.all() and not allow_missing:
        raise SweepError(
            f"{folder}: {int((~complete).sum())} of {complete.size} trainings have no complete "
            "records; run the sweep again to compute them (or load(..., allow_missing=True))"
        )
    varied = list(desc["varied"])
    cell_values = [_flat(c) for c in desc["cells"]]
    coords: dict[str, Any] = {
        "cell": np.arange(len(desc["cells"])),
        "trial": np.arange(int(desc["trials"])),
        "estimator": estimators,
    }
    for k in varied:
        coords[k] = ("cell", _column([v[k] for v in cell_values]))
    data_vars = {}
    for name, arr in a.items():
        dims = ["cell", "trial"] if name.startswith("bayes_") else ["cell", "trial", "estimator"]
        dims += ["true_class", "assigned_class"][: arr.ndim - len(dims)]
        data_vars[name] = (dims, arr)
    flat0 = cell_values[0] if cell_values else {}
    attrs = {
        "sweep": desc.get("name", ""),
        "hash": desc["hash"],
        "fixed": json.dumps({k: v for k, v in flat0.items() if k not in varied}),
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    if varied and _is_grid([tuple(v[k] for k in varied) for v in cell_values]):
        if len(varied) == 1:
            ds = ds.swap_dims(cell=varied[0]).drop_vars("cell")
        else:
            ds = ds.set_index(cell=varied).unstack("cell")
        ds = ds.transpose(*varied, "trial", "estimator", ...)
    return ds


def _flat(cell: dict) -> dict:
    from .. import config as C

    return C.flatten(cell)


def _column(values: list) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values)
    if all(isinstance(v, bool) for v in values):
        return np.asarray(values, bool)
    return np.asarray([v if isinstance(v, str) else json.dumps(v) for v in values], object)


def _is_grid(rows: list[tuple]) -> bool:
    """Whether the cells are exactly the product of each varied key's values, once each:
    distinct rows, each in the product, as many as the product has."""
    keys = {json.dumps(list(r)) for r in rows}
    if not rows or len(keys) != len(rows):
        return False
    levels = [{json.dumps(r[i]) for r in rows} for i in range(len(rows[0]))]
    return len(rows) == int(np.prod([len(v) for v in levels]))
