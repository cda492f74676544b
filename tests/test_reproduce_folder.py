"""``reproduce --out``: a new or empty folder is written; a folder holding a run of the same
configuration is recomputed and replaced; a folder holding a different run, or reproduction
files without a readable results.json, is refused (differences listed) unless ``--force``.
All checked before anything is computed."""

from __future__ import annotations

import json

import pytest

from jaxsoftmax import cli
from jaxsoftmax import config as C
from jaxsoftmax.cli import common, reproduce

FLAGS = ["--trials", "4", "--seed", "3", "--training.steps", "20"]
CONFIG = C.from_dict({"trials": 4, "seed": 3, "training.steps": 20})


class Computed(Exception):
    """Raised by the stand-in for the computation: the command got past its folder check."""


@pytest.fixture
def no_compute(monkeypatch):
    def compute(*args, **kwargs):
        raise Computed

    monkeypatch.setattr(reproduce, "compute", compute)
    monkeypatch.setattr(common, "setup_runtime", lambda args: [])


def _stored(folder, config: C.Config) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "results.json").write_text(json.dumps({"config": C.to_dict(config)}))
    (folder / "report.md").write_text("the old report")


def test_a_folder_holding_a_different_run_is_refused_with_every_difference(
    tmp_path, no_compute, capsys
):
    # Bug caught: a different run silently overwritten (the old behaviour); the check done
    # after the computation; differences not listed, or listed the wrong way round.
    _stored(tmp_path, C.override(CONFIG, seed=4, **{"training.learning_rate": 0.01}))
    assert cli.main(["reproduce", *FLAGS, "--out", str(tmp_path), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path} holds a different run; refusing to overwrite it" in err
    assert "  seed: 4 (before) -> 3" in err
    assert "  training.learning_rate: 0.01 (before) -> 0.05" in err
    assert "trials" not in err  # only what differs
    assert (tmp_path / "report.md").read_text() == "the old report"


def test_a_folder_holding_the_same_run_is_recomputed_and_force_replaces_a_different_one(
    tmp_path, no_compute, caplog
):
    # Bug caught: the same configuration refused (a rerun must be possible); --force ignored.
    _stored(tmp_path, CONFIG)
    assert reproduce.check_folder(tmp_path, CONFIG) == "same"
    with pytest.raises(Computed):
        reproduce.main([*FLAGS, "--out", str(tmp_path), "--no-cache"])
    assert "holds a run of this configuration: recomputing it" in caplog.text
    _stored(tmp_path, C.override(CONFIG, seed=5))
    with pytest.raises(Computed):
        reproduce.main([*FLAGS, "--out", str(tmp_path), "--no-cache", "--force"])


def test_new_and_empty_folders_are_written_and_foreign_reproduction_files_are_refused(
    tmp_path, no_compute
):
    # Bug caught: an unfinished run's files (or a damaged results.json) overwritten without a
    # word; a folder with unrelated files only refused.
    assert reproduce.check_folder(tmp_path / "absent", CONFIG) == "new"
    assert reproduce.check_folder(tmp_path, CONFIG) == "new"  # empty
    (tmp_path / "notes.txt").write_text("unrelated")
    assert reproduce.check_folder(tmp_path, CONFIG) == "new"
    (tmp_path / "eq4_boxplot.png").write_bytes(b"")
    with pytest.raises(common.UsageError, match=r"holds eq4_boxplot\.png but no results\.json"):
        reproduce.check_folder(tmp_path, CONFIG)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(common.UsageError, match="damaged or not a reproduction's results"):
        reproduce.check_folder(tmp_path, CONFIG)
    with pytest.raises(Computed):  # --force: replaces them
        reproduce.main([*FLAGS, "--out", str(tmp_path), "--no-cache", "--force"])
