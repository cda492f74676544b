"""Long runs (``python3 -m pytest -m slow``): the full reproduction on its defaults, checked
against the stored run that README's numbers come from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jaxsoftmax import cli
from jaxsoftmax.cli import reproduce

STRICT_PROMOTION = False  # optax inside (see conftest.py)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_full_reproduction_matches_the_stored_run(tmp_path):
    # 100 trials x 3 estimators x 2000 steps, the main job's defaults (seed 0), against
    # experiments/reproduction/results.json (same machine type: per-trial values to float32
    # rounding amplified by 2000 steps; the tables to their printed digits). When it fails
    # after a change that moves numbers: python3 experiments/regenerate.py (all stored runs
    # and README), as tests/test_stored_runs.py asks for the reduced run.
    assert cli.main(["reproduce", "--out", str(tmp_path), "--no-plots", "--quiet"]) == 0
    _, ours = reproduce.load_results(tmp_path / "results.json")
    _, stored = reproduce.load_results(ROOT / "experiments" / "reproduction" / "results.json")
    for name, metrics in stored["per_trial"].items():
        np.testing.assert_allclose(ours["per_trial"][name]["eq4"], metrics["eq4"], rtol=1e-3)
    got = json.loads((tmp_path / "results.json").read_text())["summary"]["table2"]
    want = json.loads((ROOT / "experiments/reproduction/results.json").read_text())["summary"]
    for name, row in want["table2"].items():
        assert got[name]["eq4_summed"]["mean"] == pytest.approx(row["eq4_summed"]["mean"], abs=5e-3)
