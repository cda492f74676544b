"""The command-line programs: reproduce (report, results.json that recomputes every table),
sweep (records equal the engine's, resume that cannot be fooled, damaged files set aside,
SIGKILL at random points), training-length, and bad input of every kind -> one clear error.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jaxsoftmax import cli
from jaxsoftmax import config as C
from jaxsoftmax import experiment as X
from jaxsoftmax import sweeps as S
from jaxsoftmax.cli import report as R
from jaxsoftmax.cli import reproduce

STRICT_PROMOTION = False  # optax inside (see conftest.py)

ROOT = Path(__file__).resolve().parents[1]
# The same configuration as tests/test_experiment.py's TINY: one compilation per process.
TINY_FLAGS = [
    "--trials",
    "4",
    "--seed",
    "3",
    "--problem.n_per_class",
    "20",
    "--problem.n_test_per_class",
    "500",
    "--model.hidden",
    "3",
    "--training.steps",
    "20",
]
TINY = C.from_dict(
    {
        "trials": 4,
        "seed": 3,
        "problem.n_per_class": 20,
        "problem.n_test_per_class": 500,
        "model.hidden": 3,
        "training.steps": 20,
    }
)
TINY_SWEEP = {
    "name": "tiny",
    "base": {
        "trials": 4,
        "seed": 3,
        "problem": {"n_per_class": 20, "n_test_per_class": 500},
        "model": {"hidden": 3},
        "training": {"steps": 20},
    },
    "grid": {"training.learning_rate": [0.05, 0.1]},
}


def run_cli(*argv: str) -> int:
    return cli.main([*argv])


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    assert run_cli("reproduce", *TINY_FLAGS, "--out", str(out), "--no-cache", "--quiet") == 0
    return out


def test_reproduce_writes_a_world_readable_report_results_and_figures(reproduced):
    text = (reproduced / "report.md").read_text()
    headings = [
        "Table 2",
        "Paired comparisons",
        "Table 3",
        "Table 4",
        "Table 5",
        "Table 6",
        "Convergence",
        "## Figures",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)  # tables in the paper's order
    assert "![eq4_boxplot.png](eq4_boxplot.png)" in text
    assert "![reliability.png](reliability.png)" in text
    assert "The exact posterior **is softmax-affine** in x" in text  # the paper's problem
    assert "15 equal-width bins" in text  # the ECE's binning stated
    for name in (
        "report.md",
        "results.json",
        "eq4_boxplot.png",
        "reliability.png",
        "posterior_plane.png",
        "confusion_heatmaps.png",
        "fig1_cross_entropy.png",
    ):
        mode = stat.S_IMODE((reproduced / name).stat().st_mode)
        assert mode & 0o044 == 0o044, (name, oct(mode))
    assert not list(reproduced.glob("*.tmp"))


def test_results_json_reproduces_every_table_and_the_engines_numbers(reproduced):
    config, results = reproduce.load_results(reproduced / "results.json")
    assert config == TINY
    stored = json.loads((reproduced / "results.json").read_text())["summary"]
    again = json.loads(json.dumps(reproduce.summarise(config, results), allow_nan=True))
    for name in config.estimators:
        for form in ("eq4", "eq4_summed"):
            assert again["table2"][name][form]["mean"] == pytest.approx(
                stored["table2"][name][form]["mean"], rel=1e-12
            )
        np.testing.assert_allclose(again["rates"][name], stored["rates"][name], rtol=1e-12)
    assert again["ranking"] == stored["ranking"]
    for a, b in zip(again["paired"], stored["paired"]):
        assert a["wilcoxon_p"] == pytest.approx(b["wilcoxon_p"], rel=1e-9)
        assert (a["a_wins"], a["b_wins"]) == (b["a_wins"], b["b_wins"])
    engine = X.run(TINY)
    for e, name in enumerate(TINY.estimators):
        np.testing.assert_allclose(
            results["per_trial"][name]["eq4"], engine["eq4"][:, e], rtol=1e-6
        )
        assert results["per_trial"][name]["rates"].shape == (4, 4, 4)  # per trial


def _summary(values: dict[str, list[float]]) -> dict:
    per = {
        n: {
            "eq4": np.array(v),
            "eq4_summed": 20 * np.array(v),
            "error_rate": np.full(len(v), 0.3),
            "rates": np.full((len(v), 4, 4), 0.25),
            "grad_norm": np.full(len(v), 1e-3),
            "final_loss": np.full(len(v), 0.1),
            "loss_drop": np.full(len(v), 1e-2),
            "output_sum_min": np.ones(len(v)),
            "output_sum_max": np.ones(len(v)),
        }
        for n, v in values.items()
    }
    res = {
        "per_trial": per,
        "bayes": {"error_rate": np.full(4, 0.29), "rates": np.full((4, 4, 4), 0.25)},
    }
    return reproduce.summarise(TINY, res)


META = {"device": "cpu", "seconds": 1.0, "jax": "x", "jaxsoftmax": "y"}


def test_report_prints_table_2_means_and_the_ranking_worst_to_best():
    # Bugs: Table 2's mean printed as a sum; the ranking reversed.
    values = {
        "logistic/least_squares": [0.1, 0.2, 0.3, 0.4],
        "softmax/least_squares": [0.5, 0.6, 0.7, 0.8],
        "softmax/cross_entropy": [0.01, 0.02, 0.03, 0.04],
    }
    text = R.reproduction(TINY, _summary(values), META, [])
    row = next(line for line in text.splitlines() if line.startswith("| softmax + least squares"))
    assert row.split("|")[2].strip() == "0.6500"  # the mean (a sum would print 2.6000)
    assert row.split("|")[3].strip() == "0.01667"  # variance, ddof 1
    assert (
        "by mean eq. (4), largest (worst) first: softmax + least squares (0.6500) > logistic "
        "+ least squares (0.2500) > softmax + cross-entropy (0.0250)."
    ) in text
    assert "Our ranking differs from the paper's" in text and "training-length" in text


def test_report_says_when_the_ranking_is_the_papers():
    values = {
        "logistic/least_squares": [0.5, 0.6, 0.7, 0.8],
        "softmax/least_squares": [0.3, 0.4, 0.3, 0.4],
        "softmax/cross_entropy": [0.1, 0.2, 0.1, 0.2],
    }
    text = R.reproduction(TINY, _summary(values), META, [])
    assert "Our ranking is the paper's under this protocol." in text


def test_report_difference_to_the_paper_is_a_welch_interval_with_the_papers_variance():
    # Bugs: the interval of our mean only (the paper's sampling error ignored); pooled
    # variances; the difference's sign reversed. Independent: scipy's Welch test on a sample
    # of 100 with exactly the paper's mean and variance.
    from scipy import stats as sps

    values = {n: [0.2, 0.21, 0.19, 0.2] for n in TINY.estimators}
    s = _summary(values)
    row = s["table2"]["softmax/cross_entropy"]
    assert row["diff"] == pytest.approx(20 * 0.2 - 3.936804, rel=1e-9)
    z = np.random.default_rng(0).normal(size=100)
    theirs = 3.936804 + np.sqrt(0.1958714) * (z - z.mean()) / z.std(ddof=1)
    ours = 20 * np.array(values["softmax/cross_entropy"])
    want = sps.ttest_ind(ours, theirs, equal_var=False)
    ci = want.confidence_interval(0.95)
    np.testing.assert_allclose(row["diff_ci"], [ci.low, ci.high], rtol=1e-9)
    assert row["diff_p"] == pytest.approx(want.pvalue, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def write_sweep(tmp_path: Path, data: dict = TINY_SWEEP) -> Path:
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data))
    return path


def read_records(folder: Path) -> dict:
    """``{(cell, trial, estimator): {metric: value}}`` of the folder's complete trainings."""
    a = S.load_arrays(folder)
    out = {}
    for c, t in zip(*np.nonzero(a["complete"])):
        for e, name in enumerate(a["estimators"]):
            out[(int(c), int(t), name)] = {m: a[m][c, t, e] for m in X.ESTIMATOR_METRICS} | {
                "bayes_error_rate": a["bayes_error_rate"][c, t]
            }
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    out = tmp / "out"
    desc = write_sweep(tmp)
    assert (
        run_cli(
            "sweep",
            str(desc),
            "--out",
            str(out),
            "--chunk-size",
            "4",
            "--no-cache",
            "--quiet",
            "--no-plots",
        )
        == 0
    )
    return desc, out


def test_a_sweep_cell_with_the_papers_settings_equals_the_reproduction(swept):
    # One engine: cell 0 is TINY exactly; its chunks hold other units and run on one device
    # each, the reproduction's batch is split over 2 devices: equal to float32 rounding.
    _, out = swept
    recs = read_records(out)
    engine = X.run(TINY)
    for e, name in enumerate(TINY.estimators):
        got = [recs[(0, t, name)]["eq4"] for t in range(4)]
        np.testing.assert_allclose(np.float32(got), engine["eq4"][:, e], rtol=2e-5)
    assert len(recs) == 2 * 4 * 3
    assert (out / "summary.md").exists()


def test_summary_uses_paired_tests_with_fdr(swept):
    _, out = swept
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["paired"]) == 2 * 3
    for p in summary["paired"]:
        assert p["wilcoxon_p_fdr"] >= p["wilcoxon_p"] - 1e-12


def copy_folder(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def assert_same_bits(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k, r in a.items():
        for m, v in r.items():
            assert np.array_equal(v, b[k][m], equal_nan=True), (k, m, v, b[k][m])


def test_a_chunk_missing_one_row_is_set_aside_and_recomputed_bit_for_bit(swept, tmp_path, caplog):
    # A repair recomputes exactly the plan's chunk (same units, same program): the bits
    # cannot change, and the summary is the same.
    import pyarrow.parquet as pq

    desc, out = swept
    folder = copy_folder(out, tmp_path / "f")
    before = read_records(folder)
    summary = (folder / "summary.json").read_text()
    chunk = sorted((folder / "chunks").glob("g*-c*.parquet"))[-1]
    table = pq.read_table(chunk)
    pq.write_table(table.slice(0, table.num_rows - 1), chunk)  # the last row gone
    caplog.set_level("INFO", logger="jaxsoftmax")
    with pytest.raises(S.SweepError, match="1 of 8 trainings have no complete records"):
        S.summarise(C.load_sweep(desc), folder)
    assert run_cli("sweep", str(desc), "--out", str(folder), "--no-cache", "--no-plots") == 0
    assert f"{chunk}: damaged" in caplog.text and "4 done, computing 4 in 1 chunks" in caplog.text
    assert (folder / "chunks" / "damaged" / chunk.name).exists()  # kept, not deleted
    assert_same_bits(read_records(folder), before)
    assert (folder / "summary.json").read_text() == summary


def test_a_damaged_chunk_file_is_named_set_aside_and_recomputed(swept, tmp_path, caplog):
    desc, out = swept
    folder = copy_folder(out, tmp_path / "f")
    before = read_records(folder)
    chunks = sorted((folder / "chunks").glob("g*-c*.parquet"))
    data = chunks[0].read_bytes()
    chunks[0].write_bytes(data[: len(data) // 2])  # cut mid-file
    chunks[1].write_bytes(b"")  # zero bytes
    caplog.set_level("INFO", logger="jaxsoftmax")
    assert run_cli("sweep", str(desc), "--out", str(folder), "--no-cache", "--no-plots") == 0
    for path, kept in ((chunks[0], data[: len(data) // 2]), (chunks[1], b"")):
        assert f"{path}: damaged" in caplog.text
        assert (folder / "chunks" / "damaged" / path.name).read_bytes() == kept
    assert_same_bits(read_records(folder), before)


def test_a_different_sweep_in_the_same_folder_is_refused(swept, tmp_path, capsys):
    _, out = swept
    folder = copy_folder(out, tmp_path / "f")
    other = json.loads(json.dumps(TINY_SWEEP))
    other["base"]["training"]["steps"] = 30
    path = write_sweep(tmp_path, other)
    assert run_cli("sweep", str(path), "--out", str(folder), "--no-cache") == 2
    err = capsys.readouterr().err
    assert "holds results of a different sweep" in err
    assert "cell 0: training.steps: 20 (before) -> 30" in err
    assert "cell 1: training.steps: 20 (before) -> 30" in err
    other = json.loads(json.dumps(TINY_SWEEP))
    path = write_sweep(tmp_path, other)
    assert run_cli("sweep", str(path), "--out", str(folder), "--chunk-size", "2") == 2
    assert "chunk_size: 4 (before) -> 2" in capsys.readouterr().err


def test_sweep_plan_groups_cells_by_program_in_fixed_trial_major_chunks():
    spec = C.load_sweep(
        {
            "base": {"trials": 3},
            "grid": {"model.hidden": [4, 8], "training.learning_rate": [0.01, 0.1]},
        }
    )
    plan = S.make_plan(spec, 5)
    chunks = list(plan.chunks())
    assert len(plan.groups) == 1  # hidden sizes padded to one program
    assert plan.groups[0].spec.hidden == 8 and plan.groups[0].spec.masked
    other = C.load_sweep({"base": {"trials": 3}, "grid": {"problem.n_per_class": [10, 20]}})
    assert len(S.make_plan(other, 4).groups) == 2  # shapes
    assert all(c.size == 5 and len(c) <= 5 for c in chunks) and len(chunks) == len(plan) == 3
    units = [u for c in chunks for u in zip(*map(list, c.units()))]
    # trial-major: every cell's trial 0, then trial 1, ...
    assert units == [(c, t) for t in range(3) for c in range(4)]
    cells, trials = chunks[-1].padded()
    assert list(zip(cells, trials)) == [(2, 2), (3, 2)] + [(3, 2)] * 3
    # more trials append units: the finished chunks keep their units
    grown = S.make_plan(C.load_sweep({**spec.description, "base": {"trials": 5}}), 5)
    for old, new in zip(chunks[:-1], grown.chunks()):
        assert old.name == new.name and np.array_equal(old.units(), new.units())


SWEEP_KILL = {
    "name": "kill",
    "base": {
        "trials": 6,
        "seed": 1,
        "problem": {"n_per_class": 10, "n_test_per_class": 50},
        "model": {"hidden": 2},
        "training": {"steps": 10},
    },
    "grid": {"training.learning_rate": [0.05, 0.1]},
}


def _sweep_process(desc: Path, out: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jaxsoftmax",
            "sweep",
            str(desc),
            "--out",
            str(out),
            "--chunk-size",
            "2",
            "--devices",
            "2",
            "--cache-dir",
            str(cache),
            "--no-plots",
            "--pause",
            "0.3",
            "--quiet",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def test_sigkill_at_random_points_then_resume_loses_and_duplicates_nothing(tmp_path):
    desc = write_sweep(tmp_path, SWEEP_KILL)
    cache = tmp_path / "cache"
    reference = tmp_path / "reference"
    p = _sweep_process(desc, reference, cache)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()[-2000:]
    expected = read_records(reference)
    assert len(expected) == 2 * 6 * 3
    rng = random.Random(0)
    out = tmp_path / "killed"
    partial = []
    for _ in range(3):  # killed at random points, several times, then resumed to the end
        before = len(read_records(out)) if (out / "chunks").exists() else 0
        p = _sweep_process(desc, out, cache)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and p.poll() is None:  # wait for new progress,
            if (out / "chunks").exists() and len(read_records(out)) > before:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))  # then kill at a random point of the next chunk(s)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        partial.append(len(read_records(out)))
    assert any(0 < n < len(expected) for n in partial), partial  # killed mid-sweep
    p = _sweep_process(desc, out, cache)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()[-2000:]
    got = read_records(out)
    assert got.keys() == expected.keys()
    assert_same_bits(got, expected)
    assert (out / "summary.md").exists()


# --------------------------------------------------------------------------------------------
# Bad input: one clear line, exit status 2, no traceback
# --------------------------------------------------------------------------------------------


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    a_file = tmp / "a_file"
    a_file.write_text("x")
    listed = tmp / "list.json"
    listed.write_text("[1, 2]")
    broken = tmp / "broken.toml"
    broken.write_text("name = [")
    good = write_sweep(tmp)
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    (corrupt / "sweep.json").write_text("{not json")
    hashless = tmp / "hashless"
    hashless.mkdir()
    (hashless / "sweep.json").write_text(json.dumps({"cells": []}))
    unknown = tmp / "unknown.json"
    unknown.write_text(json.dumps({"base": {"trails": 3}}))
    empty = tmp / "empty.json"
    empty.write_text(json.dumps({"grid": {"model.hidden": []}}))
    return [
        (
            ["reproduce", "--training.learning_rate", "inf"],
            "training.learning_rate: expected a finite number > 0, got inf",
        ),
        (
            ["reproduce", "--training.weight_decay", "NaN"],
            "training.weight_decay: expected a finite number >= 0, got nan",
        ),
        (["reproduce", "--seed", str(2**64)], "seed: expected an integer in [0, 2**32)"),
        (["reproduce", "--trials", "0"], "trials: expected an integer >= 1, got 0"),
        (["reproduce", "--estimators", '["softmax/hinge"]'], "estimators[0]"),
        (["reproduce", "--training.optimizer", "adamm"], "did you mean 'adam'"),
        (["reproduce", "--problem.covariance", "[[1, 2], [3, 4]]"], "must be symmetric"),
        (
            ["reproduce", "--set", "training.stepz=3"],
            "unknown key 'training.stepz' (did you mean 'training.steps'?)",
        ),
        (["reproduce", "--out", str(a_file)], "is a file, not a folder"),
        (["reproduce", "--plugin", str(tmp / "missing.py")], "--plugin"),
        (["training-length", "--lengths", "0", "5"], "--lengths: expected step counts >= 1"),
        (["sweep", str(listed)], "the top level must be a table, got list"),
        (["sweep", str(broken)], "not valid TOML"),
        (["sweep", str(tmp / "nope.toml")], "cannot read it"),
        (["sweep", str(unknown)], "unknown key 'trails' (did you mean 'trials'?)"),
        (["sweep", str(empty)], "model.hidden: is empty"),
        (["sweep", str(good), "--out", str(a_file)], "is a file, not a folder"),
        (
            ["sweep", str(good), "--out", str(corrupt), "--no-cache"],
            "damaged or not a sweep's description",
        ),
        (
            ["sweep", str(good), "--out", str(hashless), "--no-cache"],
            "damaged or not a sweep's description",
        ),
        (
            ["sweep", str(good), "--set", "training.learning_rate=-1"],
            "expected a finite number > 0, got -1",
        ),
        (
            ["sweep", "--example", "nope"],
            "no such example sweep; expected one of families, n_per_class",
        ),
        (["sweep"], "give a sweep description file or --example NAME"),
        (["nonsense"], "unknown command 'nonsense'"),
    ]


def test_every_bad_input_gets_one_clear_error_and_no_traceback(tmp_path, capsys):
    for argv, message in _bad_inputs(tmp_path):
        code = cli.main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "Traceback" not in err, (argv, err)
        assert message in err, (argv, err)
        assert "error:" in err, (argv, err)


def test_cli_subprocess_bad_input_has_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "jaxsoftmax", "reproduce", "--training.learning_rate", "inf"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "training.learning_rate" in r.stderr


def test_training_length_runs_on_the_engine(tmp_path):
    out = tmp_path / "tl"
    assert (
        run_cli(
            "training-length",
            *TINY_FLAGS[:-2],
            "--lengths",
            "5",
            "10",
            "--out",
            str(out),
            "--no-cache",
            "--quiet",
            "--no-plots",
        )
        == 0
    )
    text = (out / "report.md").read_text()
    assert "| 5 |" in text and "| 10 |" in text
