"""Grids of Dunne & Campbell experiments as library code: plan, run, store, load, summary.

::

    SweepSpec --make_plan--> fixed chunks (a unit's chunk never changes)
      --run_sweep--> one program per group, one device->host transfer per batch of chunks
      --store--> one Parquet file per chunk, written atomically by a background writer
      --load--> xarray.Dataset (varied settings x trial x estimator) -> .to_dataframe()
      --summary--> tables and figures computed from the loaded arrays

The command ``jaxsoftmax sweep`` (:mod:`jaxsoftmax.cli.sweep`) only parses its arguments and
prints; a Dask cluster (:mod:`jaxsoftmax.cluster`) is an executor :func:`run_sweep` calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> its module (imported on first use: `jaxsoftmax sweep --help` and the error
# types need no JAX).
_LAZY = {
    "Chunk": "plan",
    "Group": "plan",
    "Plan": "plan",
    "default_chunk_size": "plan",
    "make_plan": "plan",
    "compute": "run",
    "run_sweep": "run",
    "SweepError": "store",
    "identity": "store",
    "identity_diff": "store",
    "prepare_folder": "store",
    "scan": "store",
    "load": "dataset",
    "load_arrays": "dataset",
    "figures": "summary",
    "markdown": "summary",
    "summarise": "summary",
    "write_summary": "summary",
}

if TYPE_CHECKING:
    from .dataset import load, load_arrays
    from .plan import Chunk, Group, Plan, default_chunk_size, make_plan
    from .run import compute, run_sweep
    from .store import SweepError, identity, identity_diff, prepare_folder, scan
    from .summary import figures, markdown, summarise, write_summary

__all__ = [
    "Chunk",
    "Group",
    "Plan",
    "SweepError",
    "compute",
    "default_chunk_size",
    "figures",
    "identity",
    "identity_diff",
    "load",
    "load_arrays",
    "make_plan",
    "markdown",
    "prepare_folder",
    "run_sweep",
    "scan",
    "summarise",
    "write_summary",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'jaxsoftmax.sweeps' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
