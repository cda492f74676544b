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

from .load import load, load_arrays
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
