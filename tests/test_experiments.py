"""Smoke tests of the experiments on tiny configs, seed determinism, bad configuration, and
(marked slow) the full reproduction on its defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

import dunne_campbell as dc
import training_length as tl

# optax's update rules are not written for strict dtype promotion (see conftest.py).
STRICT_PROMOTION = False

TINY = ["--trials", "4", "--n-per-class", "10", "--hidden", "3", "--steps", "20"]


def test_dunne_campbell_writes_report_json_and_figures(tmp_path, capsys):
    dc.main([*TINY, "--out", str(tmp_path)])
    report = (tmp_path / "report.md").read_text()
    for heading in (
        "Table 2",
        "Paired comparisons",
        "Table 3",
        "Table 4",
        "Table 5",
        "Table 6",
        "Convergence",
    ):
        assert heading in report
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["config"]["trials"] == 4
    assert {"jax", "jaxsoftmax", "device", "seconds"} <= set(payload["meta"])
    eq4 = payload["results"]["estimators"]["softmax/cross_entropy"]["eq4"]
    assert len(eq4) == 4 and all(0 < v <= 2**0.5 for v in eq4)
    for name in (
        "fig1_cross_entropy.png",
        "fig2_least_squares.png",
        "eq4_boxplot.png",
        "confusion_heatmaps.png",
        "posterior_plane.png",
    ):
        assert (tmp_path / name).stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out


def test_same_seed_same_numbers_and_different_seed_different_numbers():
    config = dc.Config(trials=3, n_per_class=10, hidden=3, steps=15, seed=7)
    a, b = dc.run(config), dc.run(config)
    c = dc.run(dc.Config(trials=3, n_per_class=10, hidden=3, steps=15, seed=8))
    for name in dc.ESTIMATORS:
        np.testing.assert_array_equal(a["estimators"][name]["eq4"], b["estimators"][name]["eq4"])
        assert not np.array_equal(a["estimators"][name]["eq4"], c["estimators"][name]["eq4"])


def test_early_stopping_and_weight_decay_protocols_run():
    config = dc.Config(
        trials=2, n_per_class=10, hidden=3, steps=20, early_stopping=True, weight_decay=0.01
    )
    out = dc.run(config)
    for r in out["estimators"].values():
        assert np.all((r["best_step"] >= 0) & (r["best_step"] <= 20))


def test_paired_comparisons_count_wins():
    results = {
        "estimators": {
            "a": {"eq4": np.array([1.0, 2.0, 3.0, 4.0])},
            "b": {"eq4": np.array([2.0, 3.0, 4.0, 1.0])},
        }
    }
    (row,) = dc.paired_comparisons(results)
    assert (row["a_wins"], row["b_wins"], row["trials"]) == (3, 1, 4)
    assert 0 < row["sign_test_p"] <= 1 and 0 < row["wilcoxon_p"] <= 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--trials", "-1"], "trials must be a positive int"),
        (["--hidden", "0"], "hidden must be a positive int"),
        (["--optimizer", "adamm"], "unknown optimizer 'adamm'"),
        (["--learning-rate", "0"], "learning_rate must be a positive number"),
    ],
)
def test_bad_configuration_gets_a_clear_error(args, message, capsys):
    with pytest.raises(SystemExit):
        dc.parse_args(args)
    assert message in capsys.readouterr().err


def test_unknown_pairing_is_refused():
    with pytest.raises(ValueError, match="unknown pairing softmax/hinge"):
        dc.run(dc.Config(trials=1, steps=1, n_per_class=2, hidden=2), estimators=("softmax/hinge",))


def test_training_length_smoke(tmp_path):
    results = tl.main(
        [
            "--trials",
            "2",
            "--n-per-class",
            "10",
            "--hidden",
            "3",
            "--lengths",
            "5",
            "10",
            "--out",
            str(tmp_path),
        ]
    )
    assert results["estimators"]["softmax/cross_entropy"]["eq4_by_length"].shape == (2, 2)
    assert "Table 2 by training length" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "training_length.png").exists()


@pytest.mark.slow
def test_full_reproduction_on_defaults(tmp_path):
    results = dc.main(["--out", str(tmp_path), "--no-plots"])
    est = results["estimators"]
    for name, (_paper_mean, _) in dc.PAPER_TABLE2.items():
        # The summed form is on the paper's scale (its Table 2 is ~4).
        assert 2.5 < np.mean(est[name]["eq4_summed"]) < 6.5, name
    np.testing.assert_allclose(
        results["bayes_rates_empirical"], dc.PAPER_TABLES["bayes"], atol=0.02
    )
