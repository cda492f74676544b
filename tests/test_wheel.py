"""The built wheel is a complete product: installed into a fresh virtual environment (its
dependencies reached from this environment, the project itself only from the wheel), every
entry point runs on a tiny configuration from a folder outside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--trials",
    "2",
    "--problem.n_per_class",
    "10",
    "--problem.n_test_per_class",
    "20",
    "--model.hidden",
    "2",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    (path,) = out.glob("jaxsoftmax-*.whl")
    return path


@pytest.fixture(scope="module")
def env(wheel, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(root / "v")
    py = root / "v" / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    with zipfile.ZipFile(wheel) as z:  # install = unpack the wheel's files into site-packages
        z.extractall(site)
    # The dependencies (jax, optax, ...) from this environment, appended after the wheel's
    # own files; .pth files there (an editable install of this repository) are not processed.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    bindir = root / "v" / "bin"
    script = bindir / "jaxsoftmax"
    script.write_text(f"#!{py}\nfrom jaxsoftmax.cli import entry\nentry()\n")
    script.chmod(0o755)
    work = root / "work"
    work.mkdir()
    return {
        "py": str(py),
        "bin": str(bindir),
        "work": work,
        "site": site,
        "cache": str(root / "cache"),
    }


def run(env: dict, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environ["PATH"] = env["bin"] + os.pathsep + environ.get("PATH", "")
    return subprocess.run(
        list(argv), capture_output=True, text=True, cwd=env["work"], env=environ, timeout=timeout
    )


def test_the_wheel_ships_the_commands_and_the_package_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "jaxsoftmax/cli/__init__.py",
        "jaxsoftmax/cli/reproduce.py",
        "jaxsoftmax/cli/sweep.py",
        "jaxsoftmax/py.typed",
        "jaxsoftmax/config.py",
        "jaxsoftmax/experiment.py",
        "jaxsoftmax/sweeps/store.py",
        "jaxsoftmax/examples/sweeps/n_per_class.toml",
        "jaxsoftmax/examples/sweeps/protocols.toml",
        "jaxsoftmax/examples/sweeps/families.toml",
        "jaxsoftmax/derivations/TABLE1.md",
    ):
        assert needed in names, needed
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "jaxsoftmax = jaxsoftmax.cli:entry" in text
    assert any(n.endswith("LICENSE") for n in names)


def test_the_wheel_installs_one_top_level_package(wheel):
    # Issue 22.6: derivations/ used to install as a second top-level package, `derivations`.
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"jaxsoftmax"}, tops
    assert "jaxsoftmax/derivations/__init__.py" in names
    assert "jaxsoftmax/derivations/parameters.py" in names
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["jaxsoftmax"]


def test_a_users_derivations_module_does_not_break_jaxsoftmax(env):
    # A user's derivations.py beside their script used to shadow the package: jaxsoftmax's
    # `import derivations.parameters` then failed (ModuleNotFoundError).
    user = env["work"] / "user_project"
    user.mkdir(exist_ok=True)
    (user / "derivations.py").write_text("MINE = 'the user module'\n")
    (user / "script.py").write_text(
        "import jaxsoftmax\n"
        "import derivations\n"
        "p = jaxsoftmax.get_pairing('softmax(beta=2)/focal(gamma=0.5)')\n"
        "from jaxsoftmax.derivations.render import text\n"
        "print(derivations.MINE, '|', text(p.derivation().display)[:12])\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run(
        [env["py"], "script.py"],
        capture_output=True,
        text=True,
        cwd=user,
        env=environ,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("the user module |"), r.stdout
    r = run(env, env["py"], "-m", "jaxsoftmax.derivations", "--help")
    assert r.returncode == 0 and "jaxsoftmax.derivations" in r.stdout, r.stderr[-2000:]


def test_the_installed_package_is_the_wheels(env):
    r = run(env, env["py"], "-c", "import jaxsoftmax; print(jaxsoftmax.__file__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(env["site"]))


def test_every_entry_point_runs_from_the_wheel(env):
    work = env["work"]
    cache = ["--cache-dir", env["cache"]]
    r = run(
        env,
        "jaxsoftmax",
        "reproduce",
        *TINY,
        "--training.steps",
        "10",
        "--out",
        "rep",
        "--no-plots",
        "--quiet",
        *cache,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (work / "rep" / "report.md").exists() and (work / "rep" / "results.json").exists()
    r = run(
        env,
        env["py"],
        "-m",
        "jaxsoftmax",
        "training-length",
        *TINY,
        "--lengths",
        "5",
        "10",
        "--out",
        "tl",
        "--no-plots",
        "--quiet",
        *cache,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "| 10 |" in (work / "tl" / "report.md").read_text()
    desc = work / "sweep.json"
    desc.write_text(
        json.dumps(
            {
                "name": "w",
                "base": {
                    "trials": 2,
                    "training.steps": 10,
                    "problem.n_per_class": 10,
                    "problem.n_test_per_class": 20,
                },
                "grid": {"model.hidden": [2, 3]},
            }
        )
    )
    r = run(env, "jaxsoftmax", "sweep", str(desc), "--out", "sw", "--no-plots", "--quiet", *cache)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (work / "sw" / "summary.md").exists()
    r = run(env, "jaxsoftmax", "--help")
    assert r.returncode == 0 and "reproduce" in r.stdout
    r = run(env, "jaxsoftmax", "reproduce", "--trials", "-1")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "trials" in r.stderr
