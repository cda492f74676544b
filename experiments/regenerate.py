"""Regenerates the stored runs and README's generated blocks, in one command:

    python3 experiments/regenerate.py              # every stored run, then README
    python3 experiments/regenerate.py --only small # the reduced run the default suite checks

Each run is the command itself (``jaxsoftmax reproduce`` / ``training-length``) with
``--devices 2`` (the test session's device count, so the default suite's comparison with the
reduced run can be bitwise on the same machine type) and ``--force`` (replace the stored
files). Run it after any change that moves numbers: ``tests/test_stored_runs.py`` fails until
then. The example sweeps (``experiments/sweeps/results_protocols``, ``results_n_per_class``,
``families``) are computed again from scratch in fresh folders (``jaxsoftmax sweep --example
NAME``); ``docs/families.md`` is generated from the ``families`` folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from jaxsoftmax.cli import finish, handle_signals, main, readme

ROOT = Path(__file__).resolve().parents[1]
EXP = ROOT / "experiments"

# The reduced run (seconds): the default suite reruns it and compares (tests/test_stored_runs.py).
SMALL = ["--trials", "4", "--seed", "0", "--training.steps", "200", "--no-plots"]

RUNS = {
    "small": ["reproduce", *SMALL, "--out", str(EXP / "reproduction_small")],
    "reproduction": ["reproduce", "--seeds", "5", "--out", str(EXP / "reproduction")],
    "training-length": ["training-length", "--out", str(EXP / "training_length")],
    "protocols": [
        "sweep",
        "--example",
        "protocols",
        "--out",
        str(EXP / "sweeps/results_protocols"),
    ],
    "n_per_class": [
        "sweep",
        "--example",
        "n_per_class",
        "--out",
        str(EXP / "sweeps/results_n_per_class"),
    ],
    # docs/families.md is generated from this folder (experiments/families.py) below.
    "families": ["sweep", "--example", "families", "--out", str(EXP / "sweeps/families")],
}
FORCE = {"reproduce": ["--force"], "training-length": [], "sweep": []}


def run(name: str) -> int:
    argv = RUNS[name]
    print(f"== {name}: jaxsoftmax {' '.join(argv)}", flush=True)
    if argv[0] == "sweep":  # from scratch: a regenerated folder holds this code's numbers only
        shutil.rmtree(argv[argv.index("--out") + 1], ignore_errors=True)
    return main([*argv, *FORCE[argv[0]], "--devices", "2"])


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(RUNS), help="these runs only")
    p.add_argument("--readme-only", action="store_true", help="no runs: README's blocks only")
    args = p.parse_args()
    handle_signals()  # Ctrl-C: the command's own handling
    if not args.readme_only:
        for name in args.only or list(RUNS):
            code = run(name)
            if code:
                finish(code)  # an interrupt: exit 130/143 without a shutdown under XLA
    import families  # experiments/families.py: the docs page of the families sweep

    print("docs/families.md " + ("written" if families.write() else "is up to date"))
    changed = readme.update(ROOT)
    print("README.md updated" if changed else "README.md is up to date")
