"""The command line for a new user: ``--version``, a suggestion for a mistyped flag or
command, and a first line before JAX is imported (seconds)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jaxsoftmax import cli

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_projects(capsys):
    # Bug caught: a version typed twice drifting from pyproject's; --version taken for a
    # command name.
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    match = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match is not None
    version = match.group(1)
    assert out in (f"jaxsoftmax {version}", "jaxsoftmax unknown (not installed)")
    import jaxsoftmax

    assert jaxsoftmax.__version__ == version


def test_a_mistyped_flag_or_command_gets_a_suggestion(capsys):
    # Bug caught: argparse's bare "unrecognized arguments" (no hint), or a hint for the
    # wrong flag.
    assert cli.main(["reproduce", "--trails", "3", "--trainig.steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "--trails: did you mean --trials?" in err
    assert "--trainig.steps: did you mean --training.steps?" in err
    assert cli.main(["reproduc"]) == 2
    assert "did you mean 'reproduce'?" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["reproduce", "training-length", "sweep"])
def test_the_first_line_comes_before_jax_is_imported(tmp_path, command):
    # Bug caught: the first line printed after `import jax` (1.5-4 s of silence on a CPU). A
    # plugin, loaded just after the first line, reports whether JAX was imported by then.
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nprint('jax imported:', 'jax' in sys.modules, file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "jaxsoftmax", command, "--plugin", str(probe)]
    if command == "sweep":
        bad = tmp_path / "bad.json"
        bad.write_text('{"name": "s", "base": {"trials": 0}}')
        cmd += [str(bad), "--out", str(tmp_path / "out")]
        first, error = f"sweep {bad}: loading JAX", "trials"
    else:
        cmd += ["--trials", "0", "--out", str(tmp_path / "out")]
        first = f"{command} -> {tmp_path / 'out'}: loading JAX"
        error = "trials: expected an integer >= 1, got 0"
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    lines = res.stderr.splitlines()
    assert lines[0].startswith(first), res.stderr
    assert lines[1] == "jax imported: False", res.stderr
    assert res.returncode == 2 and error in res.stderr, res.stderr
