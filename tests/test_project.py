"""Project-level promises: README's example runs, README's commands are what CI runs, the
experiments run on tiny configs, and the code is lint-clean."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# README's examples are user code, run as users run it: standard promotion (optax inside).
STRICT_PROMOTION = False

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def command_after(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", README)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match.group(1).strip()


def test_readme_has_the_two_commands():
    main, tests = command_after("main-command"), command_after("test-command")
    assert "pip install" in main and "experiments/" in main
    assert "pip install" in tests and "pytest" in tests


def test_ci_runs_readmes_test_command():
    # .ci/run extracts the command after the marker; check its extraction gives the same line.
    script = (ROOT / ".ci" / "run").read_text()
    awk = re.search(r"cmd=\$\(awk '(.+?)' README.md\)", script).group(1)
    out = subprocess.run(
        ["awk", awk, str(ROOT / "README.md")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == command_after("test-command")


def test_readme_numbers_are_generated_from_the_stored_runs():
    # README's tables are never typed: each generated block equals what the stored run gives.
    from jaxsoftmax.cli import readme

    generated = readme.blocks(ROOT)
    assert {"reproduction", "training-length", "protocols"} <= set(generated)
    assert readme.render(README, generated) == README, (
        "README.md is stale: run python3 experiments/update_readme.py"
    )
    for name in generated:
        body = re.search(rf"<!-- generated: {name} -->\n(.*?)\n<!-- /generated -->", README, re.S)
        assert body and body.group(1).strip(), name


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.+?)\n```", README, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize(
    "script,args",
    [
        ("demo.py", ["--q", "3"]),
        ("bench_primitives.py", ["--quick", "--scales", "1", "--only", "softmax", "logsumexp"]),
        (
            "bench_experiment.py",
            [
                "--trials",
                "2",
                "--steps",
                "5",
                "--hidden",
                "3",
                "--n-per-class",
                "5",
                "--torch-trials",
                "1",
            ],
        ),
        ("bench_sweep.py", ["--quick", "--no-baseline"]),
    ],
)
def test_experiment_smoke(script, args):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (it is in the [test] extra)",
)
def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "."], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
