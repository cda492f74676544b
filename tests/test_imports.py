"""Import less (issue 20, item 2): ``import jaxsoftmax`` and the command line's start import
only what is needed; every public name is still there, imported on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jaxsoftmax

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("jax", "optax", "scipy.stats", "matplotlib", "sympy", "dask", "derivations")


def _modules_after(code: str, names: tuple[str, ...] = HEAVY) -> list[str]:
    """The modules of ``names`` imported by ``code``, run in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    probe = (
        f"import sys, json\n{code}\nprint(json.dumps([m for m in {names!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_import_jaxsoftmax_imports_no_jax_scipy_stats_matplotlib_sympy_or_dask():
    # Bug caught: an eager import back in jaxsoftmax/__init__.py (2.5 s of JAX, optax and
    # sympy before the first line a user sees).
    assert _modules_after("import jaxsoftmax") == []


def test_the_command_lines_help_imports_no_jax():
    # Bug caught: a command module importing the engine (JAX) or the report's figures at the
    # top: `jaxsoftmax reproduce --help` took 4 s.
    for command in ("reproduce", "training-length", "sweep"):
        code = (
            "from jaxsoftmax.cli import main\n"
            f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass"
        )
        assert _modules_after(code) == [], command


def test_every_public_name_resolves_on_first_use():
    # Bug caught: a lazy name pointing at the wrong module or attribute (AttributeError only
    # when a user first touches it); a misspelt name answering None instead of raising.
    assert set(jaxsoftmax.__all__) == {"__version__", *jaxsoftmax._LAZY}
    for name in jaxsoftmax.__all__:
        assert getattr(jaxsoftmax, name) is not None, name
    assert jaxsoftmax.softmax is __import__("jaxsoftmax.activations").activations.softmax
    assert set(jaxsoftmax.__all__) <= set(dir(jaxsoftmax))
    with pytest.raises(AttributeError, match="has no attribute 'sofmax'"):
        jaxsoftmax.sofmax  # noqa: B018


def test_a_local_sweep_and_its_summary_import_no_dask():
    # Bug caught: the summary importing its chaos table from jaxsoftmax.cluster pulled in Dask
    # distributed (0.4 s) for every local sweep.
    code = (
        "import jaxsoftmax.config as C, jaxsoftmax.sweeps.summary as s, jaxsoftmax.sweeps.run\n"
        "s._chaos_lines(C.load_sweep({'base': {'trials': 2}}))"
    )
    assert "dask" not in _modules_after(code)


def test_reading_a_chunk_imports_no_pandas(tmp_path):
    # Bug caught: the store reading its chunks with pyarrow.parquet.read_table (through
    # pyarrow.dataset) or converting a column with to_numpy: each imports pandas, 0.3 s of
    # every sweep's summary and resume scan.
    path = tmp_path / "g000-c0000000.parquet"
    code = (
        "import json, numpy as np, pyarrow as pa\n"
        "from jaxsoftmax.sweeps import store\n"
        "t = pa.table({'cell': store._arrow(np.arange(3)), 'eq4': store._arrow(np.ones(3))})\n"
        "t = t.replace_schema_metadata({store.META_KEY: json.dumps({'chunk': 'x'})})\n"
        f"open({str(path)!r}, 'wb').write(store.encode(t))\n"
        f"table, meta, _ = store.read_chunk({str(path)!r}, ['eq4'])\n"
        "assert table.column_names == ['eq4'] and meta == {'chunk': 'x'}\n"
        "assert store.as_numpy(table.column('eq4')).tolist() == [1.0, 1.0, 1.0]"
    )
    assert _modules_after(code, ("pandas", "pyarrow.dataset")) == []


def test_work_started_ahead_returns_its_value_or_raises_its_error():
    # Bug caught: a background preparation (matplotlib, scipy.stats) whose failure is
    # swallowed, so a run ends without its figures and without a word.
    from jaxsoftmax import runtime

    assert runtime.ahead(lambda a, b: a + b, 2, 3).result(timeout=10) == 5
    with pytest.raises(ZeroDivisionError):
        runtime.ahead(lambda: 1 / 0).result(timeout=10)
