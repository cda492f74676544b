"""Sweeps: the description and its validation (every message), grid expansion, chunk planning,
the traced-hyperparameter optimiser, results independent of chunk size and of sharding over 4
simulated devices, atomic chunk files, resume, a refused config change, SIGTERM then resume,
the summary statistics on a hand-made case, and a smoke test of experiments/sweep.py."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsoftmax import gaussians, get_pairing, mlp, sweep_run, train
from jaxsoftmax import sweep as sw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

import sweep as sweep_cli  # experiments/sweep.py
import sweep_report

ROOT = Path(__file__).resolve().parents[1]

# optax's update rules are not written for strict dtype promotion (see conftest.py).
STRICT_PROMOTION = False

TINY = {
    "name": "tiny",
    "trials": 6,
    "seed": 3,
    "pairings": ["softmax/cross_entropy", "l1/cross_entropy"],
    "n_test_per_class": 20,
    "grid": {
        "n_per_class": 4,
        "hidden": 3,
        "steps": 10,
        "learning_rate": [0.05, 0.2],
        "separation": [1.0, 2.0],
    },
}
N_UNITS = 4 * 6
METRICS = ("eq4", "eq4_summed", "error_rate", "final_loss", "grad_norm", "bayes_error_rate")


def with_(raw=None, **changes):
    out = json.loads(json.dumps(TINY if raw is None else raw))
    for key, value in changes.items():
        if key.startswith("grid_"):
            out["grid"][key[5:]] = value
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# The description
# --------------------------------------------------------------------------------------------

BAD = [
    (with_(trails=5), "top level: unknown key 'trails' (did you mean 'trials'?)"),
    (with_(grid_hiden=[3]), "grid: unknown key 'hiden' (did you mean 'hidden'?)"),
    (with_(grid_n_per_class="ten"), "grid.n_per_class: expected an integer >= 1, got 'ten'"),
    (with_(grid_n_per_class=[]), "grid.n_per_class: is empty; give at least one value"),
    (with_(grid_n_per_class=[10, 0]), "grid.n_per_class[1]: expected an integer >= 1, got 0"),
    (with_(grid_hidden=2.5), "grid.hidden: expected an integer >= 1, got 2.5"),
    (with_(grid_n_classes=1), "grid.n_classes: expected an integer >= 2, got 1"),
    (with_(grid_steps=0), "grid.steps: expected an integer >= 1, got 0"),
    (with_(grid_learning_rate=-0.1), "grid.learning_rate: expected a finite number > 0, got -0.1"),
    (with_(grid_weight_decay=-1), "grid.weight_decay: expected a finite number >= 0, got -1"),
    (with_(grid_separation="far"), "grid.separation: expected a finite number >= 0, got 'far'"),
    (with_(grid_covariance=0), "grid.covariance: a variance must be > 0, got 0"),
    (
        with_(grid_covariance=[[1, 2], [2, 1]]),
        "grid.covariance: the covariance matrix must be positive definite",
    ),
    (
        with_(grid_covariance=[[1, 0.5], [0, 1]]),
        "grid.covariance: the covariance matrix must be symmetric",
    ),
    (
        with_(grid_covariance="big"),
        "grid.covariance: expected a positive number or a 2 x 2 matrix [[a, b], [b, c]], got 'big'",
    ),
    (with_(grid_optimizer="adm"), "grid.optimizer: unknown optimizer 'adm'; known: adagrad"),
    (with_(grid_optimizer=3), "grid.optimizer: expected an optimizer name (a string), got 3"),
    (with_(grid_hidden=[3, 3]), "grid.hidden: contains duplicate values: [3, 3]"),
    (with_(pairings=["softmax/foo"]), "pairings[0]: unknown pairing softmax/foo; known: "),
    (with_(pairings=["softmax"]), "pairings[0]: a pairing is named 'activation/penalty'"),
    (with_(pairings=[]), "pairings: is empty; give at least one 'activation/penalty' name"),
    (with_(pairings="softmax/cross_entropy"), "pairings: expected a list of 'activation/penalty'"),
    (
        with_(pairings=["softmax/cross_entropy"] * 2),
        "pairings: contains duplicates: ['softmax/cross_entropy', 'softmax/cross_entropy']",
    ),
    (with_(trials=0), "trials: expected an integer >= 1, got 0"),
    (with_(trials=True), "trials: expected an integer >= 1, got True"),
    (with_(seed=-1), "seed: expected an integer in [0, 2**32), got -1"),
    (with_(n_test_per_class=1.5), "n_test_per_class: expected an integer >= 1, got 1.5"),
    (with_(init_scale=0), "init_scale: expected a finite number > 0, got 0"),
    (with_(name=""), "name: expected a non-empty string, got ''"),
    (with_(grid=[1, 2]), "grid: expected a table of key = [values], got [1, 2]"),
    (with_(cells=[{"hidden": 4}]), "grid and cells: give one of them"),
    (
        {"cells": [{"hidden": 0, "colour": 1}]},
        "cells[0]: unknown key 'colour'",
    ),
    ({"cells": [{"hidden": 0}]}, "cells[0].hidden: expected an integer >= 1, got 0"),
    ({"cells": []}, "cells: expected a non-empty list of tables, got []"),
]


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_invalid_descriptions_name_the_key_and_what_was_expected(raw, message):
    with pytest.raises(sw.SweepConfigError) as err:
        sw.parse_config(raw)
    assert message in str(err.value)


def test_every_problem_is_reported_at_once():
    raw = with_(trials=0, grid_hidden=0, pairings=["nope/none"])
    with pytest.raises(sw.SweepConfigError) as err:
        sw.parse_config(raw)
    text = str(err.value)
    assert text.startswith("invalid sweep description:")
    for key in ("trials:", "grid.hidden:", "pairings[0]:"):
        assert key in text
    with pytest.raises(sw.SweepConfigError, match="is a table"):
        sw.parse_config([1])


def test_load_toml_and_json_agree_and_overrides_apply(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text(
        'name = "tiny"\ntrials = 6\nseed = 3\n'
        'pairings = ["softmax/cross_entropy", "l1/cross_entropy"]\nn_test_per_class = 20\n'
        "[grid]\nn_per_class = 4\nhidden = 3\nsteps = 10\nlearning_rate = [0.05, 0.2]\n"
        "separation = [1.0, 2.0]\n"
    )
    js = tmp_path / "s.json"
    js.write_text(json.dumps(TINY))
    a, b = sw.parse_config(sw.load_config(toml)), sw.parse_config(sw.load_config(js))
    assert a.raw == b.raw and a.config_hash == b.config_hash
    with pytest.raises(sw.SweepConfigError, match=r"\.toml or \.json"):
        sw.load_config(tmp_path / "s.yaml")
    raw = sw.apply_overrides(TINY, ["trials=2", "hidden=[3, 5]", "grid.optimizer=sgd", "name=x"])
    c = sw.parse_config(raw)
    assert (c.trials, c.raw["grid"]["hidden"], c.raw["grid"]["optimizer"]) == (2, [3, 5], ["sgd"])
    assert c.name == "x" and TINY["trials"] == 6  # the original is not modified
    with pytest.raises(sw.SweepConfigError, match="expected key=value"):
        sw.apply_overrides(TINY, ["trials"])
    assert sw.parse_config(with_(seed=4)).config_hash != a.config_hash


def test_grid_expands_in_key_order_with_defaults():
    config = sw.parse_config(TINY)
    assert len(config.cells) == 4 and config.n_trainings == N_UNITS
    # GRID_KEYS order, the last varying fastest: separation before learning_rate.
    pairs = [(c.values["separation"], c.values["learning_rate"]) for c in config.cells]
    assert pairs == [(1.0, 0.05), (1.0, 0.2), (2.0, 0.05), (2.0, 0.2)]
    assert [c.index for c in config.cells] == [0, 1, 2, 3]
    for c in config.cells:
        assert c.values["optimizer"] == "adam" and c.values["covariance"] == 1.0
        assert c.values["n_classes"] == 4 and c.values["weight_decay"] == 0.0
    # One matrix, or a list of a number and a matrix.
    one = sw.parse_config(with_(grid_covariance=[[2, 0.5], [0.5, 1]]))
    assert one.raw["grid"]["covariance"] == [[[2.0, 0.5], [0.5, 1.0]]]
    two = sw.parse_config(with_(grid_covariance=[1, [[2, 0.5], [0.5, 1]]]))
    assert len(two.cells) == 8
    cells = sw.parse_config({"cells": [{"hidden": 4}, {"n_per_class": 7, "n_classes": 3}]}).cells
    assert [c.values["hidden"] for c in cells] == [4, 8]
    assert cells[1].values["n_classes"] == 3 and cells[1].values["steps"] == 2000


def test_class_means_generalise_the_papers_geometry():
    paper = {tuple(np.round(m, 12)) for m in sw.class_means(4)}
    assert paper == {(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)}
    np.testing.assert_allclose(sw.class_means(2, 3.0), [[3, 3], [-3, -3]], atol=1e-12)
    for k in (3, 5, 8):
        means = np.array(sw.class_means(k, 0.5))
        np.testing.assert_allclose(np.linalg.norm(means, axis=1), 0.5 * math.sqrt(2))
        np.testing.assert_allclose(means.mean(0), 0, atol=1e-12)


def test_plan_chunks_groups_pads_balances_and_skips_done_units():
    config = sw.parse_config(with_(grid_hidden=[3, 5], trials=7))
    all_units = {(c.index, t) for c in config.cells for t in range(7)}
    chunks = sw.plan_chunks(config, chunk_size=10, n_devices=4)
    seen = [u for ch in chunks for u in ch.units]
    assert sorted(seen) == sorted(all_units)  # every unit exactly once
    for ch in chunks:
        longest = max(len(c.units) for c in chunks if c.static == ch.static)
        assert ch.size % 4 == 0 and len(ch.units) <= ch.size <= longest + 3
        assert len(ch.padded_units()) == ch.size
        assert {config.cells[c].static() for c, _ in ch.units} == {ch.static}
    # Two groups (h = 3, 5) of 28 units: ceil(28/10) = 3 chunks of 10, 10, 8, padded to 12.
    assert sorted(len(ch.units) for ch in chunks) == [8, 8, 10, 10, 10, 10]
    assert {ch.size for ch in chunks} == {12}
    assert len({ch.name for ch in chunks}) == len(chunks)
    assert [c.name for c in sw.plan_chunks(config, chunk_size=10, n_devices=4)] == [
        c.name for c in chunks
    ]  # the same work, the same file names
    done = set(chunks[0].units)
    rest = sw.plan_chunks(config, chunk_size=10, n_devices=4, done=done)
    assert {u for ch in rest for u in ch.units} == all_units - done
    assert sw.plan_chunks(config, chunk_size=1000, n_devices=1, done=all_units) == []
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        sw.plan_chunks(config, chunk_size=0)


def test_sweep_optimizer_takes_the_steps_of_make_optimizer():
    """Guards sweep_run's learning rate by scaling and weight decay as arrays: one unit equals
    fit_many with make_optimizer(name, lr, weight_decay=wd) on the same data."""
    # TINY's cell 3 (separation 2, learning rate 0.2), trial 1, with weight decay: the same
    # compiled chunk as the `chunked` fixture's (weight decay is an array input, not static).
    config = sw.parse_config(with_(grid_weight_decay=0.01))
    assert config.cells[3].values["separation"] == 2.0
    assert config.cells[3].values["learning_rate"] == 0.2
    chunk = next(c for c in sw.plan_chunks(config, chunk_size=5) if (3, 1) in c.units)
    out = sweep_run.run_chunk(config, chunk, jax.local_devices()[:1])
    row = chunk.units.index((3, 1))
    key = jax.random.key(3, impl="threefry2x32")
    k_train, k_test, k_init = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, 3), 1), 3)
    problem = gaussians.make_problem(jnp.asarray(sw.class_means(4, 2.0), jnp.float32))
    x, y = gaussians.sample(k_train, problem, 4)
    x_test, _ = gaussians.sample(k_test, problem, 20)
    params = mlp.init(k_init, 2, 3, 4)
    opt = train.make_optimizer("adam", 0.2, weight_decay=0.01)
    fit_many = jax.jit(
        lambda p, x, t: train.fit_many(
            (p,) * 2, x, t, pairings=config.pairings, optimizer=opt, steps=10
        )
    )
    fits = fit_many(params, x, jax.nn.one_hot(y, 4))
    exact = gaussians.bayes_posterior(problem, x_test)
    for e, (name, fit) in enumerate(zip(config.pairings, fits)):
        estimate = get_pairing(name).activate(mlp.apply(fit.params, x_test))
        eq4 = float(gaussians.posterior_error(estimate, exact))
        np.testing.assert_allclose(out["eq4"][row, e], eq4, rtol=1e-5)
        np.testing.assert_allclose(out["grad_norm"][row, e], fit.grad_norm, rtol=1e-4)


# --------------------------------------------------------------------------------------------
# Running, resuming, interrupting
# --------------------------------------------------------------------------------------------


def records_by_key(folder: Path) -> dict:
    return {(r["cell"], r["trial"], r["pairing"]): r for r in sweep_report.read_records(folder)}


def assert_same_results(a: Path, b: Path):
    ra, rb = records_by_key(a), records_by_key(b)
    assert set(ra) == set(rb) and len(ra) == N_UNITS * 2
    for key, r in ra.items():
        for m in METRICS:
            if r[m] is None:
                assert rb[key][m] is None
            else:
                np.testing.assert_allclose(rb[key][m], r[m], rtol=1e-4, atol=1e-6, err_msg=m)


def env_with(devices: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["JAX_PLATFORMS"] = "cpu"
    return env


@pytest.fixture(scope="module")
def tiny_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_json) -> Path:
    """The tiny sweep run through experiments/sweep.py's main(), in one chunk, one device."""
    out = tmp_path_factory.mktemp("reference")
    argv = [str(tiny_json), "--out", str(out), "--chunk-size", "24", "--devices", "1"]
    assert sweep_cli.main(argv) == 0
    assert json.loads((out / "log.jsonl").read_text())["devices"] == 1
    return out


@pytest.fixture(scope="module")
def chunked(tmp_path_factory) -> Path:
    """The tiny sweep in chunks of 5 (24 units: 5 chunks, 5, 5, 5, 5, 4)."""
    out = tmp_path_factory.mktemp("chunked")
    run = sweep_cli.run_sweep(
        sw.parse_config(TINY), out, chunk_size=5, devices=jax.local_devices()[:1], log=print
    )
    assert run["computed"] == N_UNITS and run["complete"] and run["chunks"] == 5
    return out


def test_cli_smoke_writes_records_summary_and_figures(reference, tiny_json, capsys):
    meta = json.loads((reference / "sweep.json").read_text())
    assert meta["config_hash"] == sw.parse_config(TINY).config_hash
    lines = [json.loads(line) for f in (reference / "chunks").glob("*.jsonl") for line in f.open()]
    assert len(lines) == N_UNITS * 2
    assert set(lines[0]) >= {"cell", "trial", "pairing", "n_per_class", "learning_rate", *METRICS}
    assert all(0 < r["eq4"] <= math.sqrt(2) for r in lines if r["finite"])
    summary = (reference / "summary.md").read_text()
    for heading in ("# Sweep `tiny`", "Non-finite results", "Per cell", "Paired comparisons"):
        assert heading in summary
    for name in ("eq4_vs_learning_rate.png", "error_rate_vs_separation.png"):
        assert (reference / name).stat().st_size > 1000
    stats = json.loads((reference / "summary.json").read_text())
    assert len(stats["cells"]) == 4 * 2 and len(stats["paired"]) == 4
    assert not list((reference / "chunks").glob("*.tmp"))  # atomic writes leave no temporaries
    # A dry run validates and plans only; a bad description is an error naming the key.
    assert sweep_cli.main([str(reference / "sweep.json"), "--dry-run"]) == 2
    assert "unknown key 'config_hash'" in capsys.readouterr().err
    assert sweep_cli.main([str(tiny_json), "--dry-run"]) == 0
    assert "4 cells, 24 trainings" in capsys.readouterr().out


def test_results_do_not_depend_on_the_chunk_size(reference, chunked):
    assert len(list((chunked / "chunks").glob("chunk-*.jsonl"))) == 5
    assert_same_results(reference, chunked)


def test_four_simulated_devices_give_the_single_device_results(reference, tiny_json, tmp_path):
    out = tmp_path / "sharded"
    script = str(ROOT / "experiments" / "sweep.py")
    proc = subprocess.run(
        [
            sys.executable,
            script,
            str(tiny_json),
            "--out",
            str(out),
            "--chunk-size",
            "8",
            "--no-plots",
        ],
        env=env_with(4),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "on 4 cpu device(s)" in proc.stdout
    # 24 units in chunks of 8, each padded to a multiple of 4 devices (8): 3 chunks.
    assert len(list((out / "chunks").glob("chunk-*.jsonl"))) == 3
    assert_same_results(reference, out)


def test_rerun_computes_only_the_missing_chunks(chunked, tmp_path):
    folder = tmp_path / "resume"
    shutil.copytree(chunked, folder)
    files = sorted((folder / "chunks").glob("chunk-*.jsonl"))
    removed = files[1:3]
    lost = sum(len(f.read_text().splitlines()) for f in removed) // 2
    for f in removed:
        f.unlink()
    kept = {f: f.stat().st_mtime_ns for f in files if f not in removed}
    (folder / "chunks" / "junk.jsonl.tmp").write_text('{"partial')  # a killed write: ignored
    log = []
    one = jax.local_devices()[:1]
    run = sweep_cli.run_sweep(
        sw.parse_config(TINY), folder, chunk_size=5, devices=one, log=log.append
    )
    assert run["computed"] == lost == 10 and run["complete"]
    assert f"{N_UNITS - lost} done, computing {lost} in 2 chunks" in log[0]
    assert {f: f.stat().st_mtime_ns for f in kept} == kept  # finished chunks untouched
    assert_same_results(chunked, folder)
    again = sweep_cli.run_sweep(sw.parse_config(TINY), folder, chunk_size=5, log=log.append)
    assert again["computed"] == 0 and again["chunks"] == 0


def test_a_changed_description_is_refused_with_the_differences(reference, tiny_json, capsys):
    changed = sw.parse_config(with_(trials=7, grid_hidden=[3, 4]))
    with pytest.raises(sweep_cli.FolderMismatch) as err:
        sweep_cli.prepare_folder(changed, reference)
    text = str(err.value)
    assert "refusing to mix results" in text
    assert "trials: 6 (in the folder) -> 7 (now)" in text
    assert "grid.hidden: [3] (in the folder) -> [3, 4] (now)" in text
    argv = [str(tiny_json), "--out", str(reference), "--set", "seed=4"]
    assert sweep_cli.main(argv) == 2
    assert "seed: 3 (in the folder) -> 4 (now)" in capsys.readouterr().err


def test_sigterm_stops_between_chunks_and_a_rerun_completes(reference, tiny_json, tmp_path):
    out = tmp_path / "interrupted"
    cmd = [sys.executable, str(ROOT / "experiments" / "sweep.py"), str(tiny_json)]
    cmd += ["--out", str(out), "--chunk-size", "2", "--pause", "0.5", "--no-plots"]
    proc = subprocess.Popen(
        cmd, env=env_with(2), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 90
    while not list(out.glob("chunks/chunk-*.jsonl")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "SIGTERM: stopping after the current chunk" in stderr
    assert "rerun the same command to resume" in stderr
    files = list(out.glob("chunks/chunk-*.jsonl"))
    assert 1 <= len(files) < 12 and not list(out.glob("chunks/*.tmp"))
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    done = len(sweep_cli.done_units(out))
    assert done == 2 * len(files)
    log = []
    run = sweep_cli.run_sweep(sw.parse_config(TINY), out, chunk_size=24, log=log.append)
    assert run["computed"] == N_UNITS - done and run["complete"]
    assert f"{done} done, computing {N_UNITS - done}" in log[0]
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes
    assert_same_results(reference, out)


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def test_describe_is_the_student_t_interval_over_finite_values():
    s = sweep_report.describe([1.0, 2.0, 3.0, 4.0, None, float("nan"), float("inf")])
    assert s["n"] == 4 and s["mean"] == 2.5
    assert s["var"] == pytest.approx(5 / 3)
    half = 3.182446305284263 * math.sqrt(5 / 3 / 4)  # t_{0.975, 3}
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    one = sweep_report.describe([7.0])
    assert one["mean"] == 7.0 and math.isnan(one["var"]) and math.isnan(one["ci_low"])
    assert sweep_report.describe([])["n"] == 0


def test_summary_of_a_hand_made_case_counts_wins_and_nonfinite_trials():
    config = sw.parse_config(with_(grid_learning_rate=0.05, grid_separation=1.0, trials=5))
    a, b = config.pairings
    eq4 = {a: [0.1, 0.2, 0.3, 0.4, 0.5], b: [0.2, 0.1, 0.4, 0.5, None]}
    records = [
        {"cell": 0, "trial": t, "pairing": p, "eq4": eq4[p][t], "error_rate": 0.25}
        | {"bayes_error_rate": 0.2}
        for p in (a, b)
        for t in range(5)
    ]
    summary = sweep_report.summarise(config, records)
    rows = {r["pairing"]: r for r in summary["cells"]}
    assert rows[a]["nonfinite"] == 0 and rows[b]["nonfinite"] == 1
    assert rows[a]["eq4"]["mean"] == pytest.approx(0.3) and rows[b]["eq4"]["n"] == 4
    assert rows[b]["eq4"]["mean"] == pytest.approx(0.3)
    assert rows[a]["error_rate"]["var"] == 0 and rows[a]["bayes_error_rate"] == 0.2
    (pair,) = summary["paired"]
    # Trials 0–3 (trial 4 is not finite for b): a wins on 0, 2, 3.
    assert (pair["trials"], pair["a_wins"], pair["b_wins"]) == (4, 3, 1)
    assert pair["a_win_fraction"] == 0.75 and 0 < pair["wilcoxon_p"] <= 1
    assert pair["mean_diff"] == pytest.approx(-0.05)  # (-0.1 + 0.1 - 0.1 - 0.1) / 4
    text = sweep_report.markdown(config, summary, {}, [])
    assert f"| {b} | 1 | 5 |" in text  # the non-finite count, by pairing
