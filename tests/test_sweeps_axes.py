"""A pairing's parameter as a sweep axis (issue 23, item 6): the estimators of one family at
several values of a parameter give a table and a figure of eq. (4) against it, every value
labelled (a value at its default too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jaxsoftmax as js
from jaxsoftmax import cli
from jaxsoftmax.sweeps.summary import parameter_axes

STRICT_PROMOTION = False  # optax inside (see conftest.py)


def test_full_name_writes_every_parameter():
    # Bug caught: a label built from the canonical name, where a parameter at its default
    # vanishes (softmax(beta=1)/… prints as softmax/…).
    assert js.get_pairing("softmax/focal(gamma=2)").full_name == "softmax(beta=1)/focal(gamma=2)"
    assert js.get_pairing("softmax/gce(lam=0.7)").full_name == "softmax(beta=1)/gce(lam=0.7)"
    assert js.get_pairing("linear/least_squares").full_name == "linear/least_squares"
    p = js.get_pairing("softmax(beta=2)/focal(gamma=0.5)")
    assert js.get_pairing(p.full_name) is p


def test_parameter_axes_group_one_family_by_one_parameter():
    # Bugs caught: an axis mixing instances that differ in another parameter too (β = 2 with
    # γ = 0 beside β = 1 with γ = 2), values out of order, the default β = 1 unlabelled, a
    # single value called an axis, another family merged in.
    axes = parameter_axes(
        [
            "softmax/focal(gamma=2)",
            "softmax/focal(gamma=0)",
            "softmax(beta=2)/focal(gamma=2)",
            "softmax/cross_entropy",
            "softmax/gce(lam=0.7)",
        ]
    )
    by = {(a["family"], a["parameter"]): a for a in axes}
    assert set(by) == {
        ("softmax(beta=…)/focal(gamma=…)", "gamma"),
        ("softmax(beta=…)/focal(gamma=…)", "beta"),
    }
    gamma = by[("softmax(beta=…)/focal(gamma=…)", "gamma")]
    assert gamma["values"] == [0.0, 2.0]
    assert gamma["labels"] == ["softmax(beta=1)/focal(gamma=0)", "softmax(beta=1)/focal(gamma=2)"]
    beta = by[("softmax(beta=…)/focal(gamma=…)", "beta")]
    assert beta["values"] == [1.0, 2.0]
    assert beta["labels"] == ["softmax(beta=1)/focal(gamma=2)", "softmax(beta=2)/focal(gamma=2)"]
    assert beta["estimators"] == ["softmax/focal(gamma=2)", "softmax(beta=2)/focal(gamma=2)"]


@pytest.mark.parametrize("plots", [False, True])
def test_a_sweep_over_lambda_gives_a_table_and_figure_against_it(tmp_path: Path, plots):
    # Bug caught: the axis left out of the summary, a value printed without its label, the
    # figure not written. λ = 0.3, 0.7, 1 of the GCE, trained alike in every cell.
    data = {
        "name": "gce_lambda",
        "base": {
            "trials": 2,
            "seed": 3,
            "estimators": [
                "softmax/gce(lam=0.3)",
                "softmax/gce(lam=0.7)",
                "softmax/gce(lam=1)",
                "softmax/cross_entropy",
            ],
            "problem": {"n_per_class": 6, "n_test_per_class": 20},
            "model": {"hidden": 2},
            "training": {"steps": 6},
        },
        "grid": {"training.learning_rate": [0.05, 0.1]},
    }
    path = tmp_path / "gce.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    extra = [] if plots else ["--no-plots"]
    assert cli.main(["sweep", str(path), "--out", str(out), "--no-cache", *extra]) == 0
    text = (out / "summary.md").read_text()
    assert "## Eq. (4) against lam in `softmax(beta=…)/gce(lam=…)`" in text
    for lam in ("0.3", "0.7", "1"):
        assert f"| `softmax(beta=1)/gce(lam={lam})` |" in text
    summary = json.loads((out / "summary.json").read_text())
    (axis,) = summary["parameter_axes"]
    assert axis["values"] == [0.3, 0.7, 1.0]
    if plots:
        assert (out / "eq4_vs_lam_softmax_gce.png").exists(), sorted(
            p.name for p in out.glob("*.png")
        )
