"""The sweep engine (jaxsoftmax.sweeps): every cell's numbers equal its own experiment run, the
loader and the summary agree, a folder grows by trials computing only the new ones, a changed
definition is refused, the JSON-lines format of 0.1 is converted (its faults named, never a raw
KeyError), the store is compact and the how-to's code runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jaxsoftmax import cli
from jaxsoftmax import config as C
from jaxsoftmax import experiment as X
from jaxsoftmax import sweeps as S
from jaxsoftmax.sweeps import store

STRICT_PROMOTION = False  # optax inside (see conftest.py)

ROOT = Path(__file__).resolve().parents[1]
# 3 cells (one varied in a data-shaping key: 2 programs) x 3 trials; chunks of 2 units.
SWEEP = {
    "name": "engine",
    "base": {
        "trials": 3,
        "seed": 7,
        "problem": {"n_per_class": 8, "n_test_per_class": 30},
        "model": {"hidden": 2},
        "training": {"steps": 12},
    },
    "cells": [
        {"training.learning_rate": 0.05},
        {"training.learning_rate": 0.2},
        {"problem.separation": 1.5, "problem.n_per_class": 6, "training.learning_rate": 0.1},
    ],
}


def run_sweep(tmp: Path, data: dict, out: Path, *extra: str) -> int:
    path = tmp / f"{data['name']}.json"
    path.write_text(json.dumps(data))
    return cli.main(["sweep", str(path), "--out", str(out), "--no-cache", "--no-plots", *extra])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("engine")
    out = tmp / "out"
    assert run_sweep(tmp, SWEEP, out, "--chunk-size", "2") == 0
    return out


def test_every_cell_equals_its_own_experiment_run(folder):
    # An independent computation of every cell: experiment.run on the cell's own config. A
    # metric column shifted by one unit, a cell's settings mislabelled, the wrong trial or
    # estimator order in the store: each makes a cell differ here.
    sweep = C.load_sweep(SWEEP)
    a = S.load_arrays(folder, tables=True)
    assert a["complete"].all()
    for c, cell in enumerate(sweep.cells):
        want = X.run(cell)
        for m in ("eq4", "error_rate", "grad_norm", "best_step", "rates"):
            np.testing.assert_allclose(a[m][c], want[m], rtol=2e-5, atol=1e-7, err_msg=(c, m))
        np.testing.assert_array_equal(a["bayes_error_rate"][c], want["bayes_error_rate"])
        np.testing.assert_array_equal(a["bayes_rates"][c], want["bayes_rates"])


def test_the_dataset_is_labelled_by_the_cells_settings(folder):
    ds = S.load(folder)
    # Explicit cells (not a grid): one `cell` dimension with the varied settings on it.
    assert dict(ds.sizes) == {"cell": 3, "trial": 3, "estimator": 3}
    assert list(ds["training.learning_rate"].values) == [0.05, 0.2, 0.1]
    assert list(ds["problem.separation"].values) == [1.0, 1.0, 1.5]
    assert list(ds.estimator.values) == list(C.load_sweep(SWEEP).estimators)
    df = ds.to_dataframe().reset_index()
    assert len(df) == 3 * 3 * 3 and {"eq4", "error_rate", "bayes_error_rate"} <= set(df)
    row = df[(df.cell == 2) & (df.trial == 1) & (df.estimator == "softmax/cross_entropy")]
    assert float(row["problem.separation"].iloc[0]) == 1.5
    assert float(row.eq4.iloc[0]) == float(ds.eq4.sel(cell=2, trial=1).values[2])


def test_a_grid_gets_one_dimension_per_varied_setting(tmp_path):
    grid = {
        "name": "grid",
        "base": {**SWEEP["base"], "trials": 2},
        "grid": {"training.learning_rate": [0.05, 0.1], "model.hidden": [2, 3]},
    }
    assert run_sweep(tmp_path, grid, tmp_path / "g") == 0
    ds = S.load(tmp_path / "g")
    assert dict(ds.sizes) == {
        "training.learning_rate": 2,
        "model.hidden": 2,
        "trial": 2,
        "estimator": 3,
    }
    want = X.run(C.load_sweep(grid).cells[3])  # lr 0.1, hidden 3 (last key fastest)
    got = ds.eq4.sel({"training.learning_rate": 0.1, "model.hidden": 3}).values
    np.testing.assert_allclose(got, want["eq4"], rtol=2e-5)


def test_the_loader_returns_the_numbers_the_summary_prints(folder):
    summary = json.loads((folder / "summary.json").read_text())
    ds = S.load(folder)
    for row in summary["cells"]:
        sel = ds.sel(cell=row["cell"], estimator=row["estimator"])
        for m in ("eq4", "error_rate"):
            values = sel[m].values.astype(np.float64)
            assert row[m]["mean"] == pytest.approx(values.mean(), rel=1e-12), (row, m)
        assert row["bayes_error_rate"] == pytest.approx(
            float(ds.bayes_error_rate.sel(cell=row["cell"]).values.astype(np.float64).mean())
        )


def test_more_trials_compute_only_the_new_ones_and_keep_the_old_bits(folder, tmp_path, caplog):
    import shutil

    out = tmp_path / "grown"
    shutil.copytree(folder, out)
    before = S.load_arrays(out)
    grown = {**SWEEP, "base": {**SWEEP["base"], "trials": 5}}
    caplog.set_level("INFO", logger="jaxsoftmax")
    assert run_sweep(tmp_path, grown, out) == 0  # the folder's chunk size (2) is kept
    # Group 0 (2 cells): 6 units done in 3 full chunks of 2; 4 new units in 2 chunks.
    # Group 1 (1 cell): units (0, 1) done, (2) in a partial chunk, now (2, 3): computed
    # again, whole; (4) new. 7 units in 4 chunks; 8 of 15 done.
    assert "8 done, computing 7 in 4 chunks" in caplog.text
    after = S.load_arrays(out)
    assert after["complete"].all() and after["eq4"].shape[1] == 5
    for m in ("eq4", "grad_norm", "final_loss"):
        np.testing.assert_array_equal(after[m][:, :3], before[m], err_msg=m)
    want = X.run(C.load_sweep(grown).cells[0])
    np.testing.assert_allclose(after["eq4"][0], want["eq4"], rtol=2e-5)


PLUGIN = """
import sympy as sp
import jaxsoftmax as js
try:
    from jaxsoftmax.derivations import class_sum, define_activation, define_penalty
    from jaxsoftmax.derivations.symbols import i, z
except ImportError:
    from derivations import class_sum, define_activation, define_penalty
    from derivations.symbols import i, z

act = define_activation(
    "plugsoftmax", lambda m: sp.exp(z[m]) / class_sum(sp.exp(z[i]), i), source="test"
)
pen = define_penalty("plugsquare", lambda o, y: (o - y) ** POWER, source="test")
js.define_pairing(act, pen, replace=True)
"""


def test_a_changed_definition_is_refused_then_forced(tmp_path, capsys):
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN.replace("POWER", "2"))
    data = {
        "name": "plugged",
        "base": {**SWEEP["base"], "trials": 2, "estimators": ["plugsoftmax/plugsquare"]},
    }
    out = tmp_path / "out"
    assert run_sweep(tmp_path, data, out, "--plugin", str(plugin)) == 0
    first = S.load_arrays(out)["eq4"]
    plugin.write_text(PLUGIN.replace("POWER", "4"))  # same names, another formula
    capsys.readouterr()
    assert run_sweep(tmp_path, data, out, "--plugin", str(plugin)) == 2
    err = capsys.readouterr().err
    assert "refusing to mix results" in err, err
    assert "definition of plugsoftmax/plugsquare changed" in err and "plugin.py" in err, err
    assert run_sweep(tmp_path, data, out, "--plugin", str(plugin), "--force") == 0
    (old,) = (out / "superseded").iterdir()
    assert (old / "chunks").is_dir() and (old / "sweep.json").exists()  # set aside, kept
    assert not np.array_equal(S.load_arrays(out)["eq4"], first)


def test_identity_covers_versions_layout_and_engine_source():
    sweep = C.load_sweep(SWEEP)
    a = store.identity(sweep, 4, "cpu")
    assert "trials" not in json.dumps(a["cells"])
    changed = json.loads(json.dumps(a))
    changed["versions"]["jax"] = "0.0.1"
    changed["engine"][next(iter(changed["engine"]))] = "0" * 16
    changed["chunk_size"] = 8
    diff = store.identity_diff(a, changed)
    assert any(line.startswith("version of jax:") for line in diff)
    assert any(line.startswith("source of ") and "changed" in line for line in diff)
    assert "chunk_size: 4 (before) -> 8" in diff
    assert store.identity_diff(a, a) == []
    assert any("train.py" in f for f in a["engine"])


# --------------------------------------------------------------------------------------------
# The JSON-lines format of 0.1
# --------------------------------------------------------------------------------------------


def legacy_folder(tmp: Path, folder: Path, name: str) -> Path:
    """A folder in the 0.1 format holding the same numbers as ``folder``'s Parquet chunks:
    sweep.json of 0.1 and JSON-lines records, split over two files."""
    sweep = C.load_sweep(SWEEP)
    a = S.load_arrays(folder)
    out = tmp / name
    (out / "chunks").mkdir(parents=True)
    cells = [C.to_dict(c) for c in sweep.cells]
    (out / "sweep.json").write_text(json.dumps({"hash": "0123456789abcdef", "cells": cells}))
    lines = []
    for c in range(3):
        for t in range(3):
            for e, est in enumerate(sweep.estimators):
                r = {"cell": c, "trial": t, "estimator": est}
                r.update({m: float(a[m][c, t, e]) for m in X.ESTIMATOR_METRICS})
                r["bayes_error_rate"] = float(a["bayes_error_rate"][c, t])
                lines.append(json.dumps(r) + "\n")
    (out / "chunks" / "chunk-a.jsonl").write_text("".join(lines[:15]))
    (out / "chunks" / "chunk-b.jsonl").write_text("".join(lines[15:]))
    return out


def test_a_json_lines_folder_is_converted_with_its_numbers(folder, tmp_path, caplog):
    out = legacy_folder(tmp_path, folder, "legacy")
    caplog.set_level("INFO", logger="jaxsoftmax")
    assert run_sweep(tmp_path, SWEEP, out, "--chunk-size", "2") == 0
    assert "converted the JSON-lines records of" in caplog.text
    assert sorted(p.name for p in (out / "chunks" / "legacy").iterdir()) == [
        "chunk-a.jsonl",
        "chunk-b.jsonl",
    ]
    got, want = S.load_arrays(out), S.load_arrays(folder)
    for m in X.ESTIMATOR_METRICS:
        np.testing.assert_array_equal(got[m], want[m], err_msg=m)
    assert "computing 0 in 0 chunks" in caplog.text  # nothing recomputed


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda r: r.pop("grad_norm"), "no grad_norm"),
        (lambda r: r.update(eq4="0.3"), "eq4 is '0.3', expected a number or null"),
        (lambda r: r.update(trial="x"), "trial is 'x', expected an integer"),
    ],
)
def test_a_bad_json_lines_record_names_its_file_and_is_set_aside(
    folder, tmp_path, caplog, edit, why
):
    out = legacy_folder(tmp_path, folder, "bad")
    path = out / "chunks" / "chunk-b.jsonl"
    lines = path.read_text().splitlines()
    r = json.loads(lines[3])
    edit(r)
    lines[3] = json.dumps(r)
    path.write_text("\n".join(lines) + "\n")
    caplog.set_level("INFO", logger="jaxsoftmax")
    assert run_sweep(tmp_path, SWEEP, out, "--chunk-size", "2") == 0
    assert f"{path}: damaged (line 4: {why})" in caplog.text, caplog.text
    assert (out / "chunks" / "damaged" / "chunk-b.jsonl").exists()
    np.testing.assert_allclose(S.load_arrays(out)["eq4"], S.load_arrays(folder)["eq4"], rtol=2e-5)


def test_conflicting_json_lines_records_are_refused_naming_both_files(folder, tmp_path, capsys):
    out = legacy_folder(tmp_path, folder, "conflict")
    first = (out / "chunks" / "chunk-a.jsonl").read_text().splitlines()[0]
    r = json.loads(first)
    r["eq4"] += 0.125
    with (out / "chunks" / "chunk-b.jsonl").open("a") as f:
        f.write(json.dumps(r) + "\n")
    assert run_sweep(tmp_path, SWEEP, out, "--chunk-size", "2") == 2
    err = capsys.readouterr().err
    assert "two different records of cell 0, trial 0" in err
    assert "chunk-a.jsonl" in err and "chunk-b.jsonl" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


def test_chunk_files_are_compact_and_self_describing(folder):
    files = sorted((folder / "chunks").glob("g*-c*.parquet"))
    assert [p.stem for p in files] == [
        "g000-c0000000",
        "g000-c0000001",
        "g000-c0000002",
        "g001-c0000000",
        "g001-c0000001",
    ]
    _, meta, schema = store.read_chunk(files[0])
    assert meta["chunk"] == "g000-c0000000" and meta["units"] == 2 and meta["rows"] == 6
    assert meta["shapes"]["rates"] == [4, 4]
    assert set(store.expected_columns(C.load_sweep(SWEEP))) <= set(schema.names)


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, -1, 7], np.int64),
        np.array([0.5, -2.0, np.inf], np.float32),
        np.array([2, 0, 1], np.int8),
        np.array([True, False, True, True, False, False, False, False, True]),
        np.array(["gaussian", "", "poisson", "é"], object),
    ],
)
def test_columns_built_from_buffers_equal_pyarrows_own(values):
    # The writer builds Arrow columns from NumPy buffers (pyarrow.array would import pandas);
    # a wrong bit order, offset or dtype gives other values than pyarrow's own conversion.
    import pyarrow as pa

    assert store._arrow(values).equals(pa.array(values))


def test_columns_read_from_buffers_equal_pyarrows_own():
    # The loader reads columns from their Arrow buffers (to_numpy would import pandas); a
    # wrong dtype, a slice's offset ignored, the bit order of booleans reversed, or chunks
    # not joined gives other values than pyarrow's own conversion.
    import pyarrow as pa

    columns = [
        pa.array(np.array([3, -1, 7, 5], np.int64)),
        pa.array(np.array([0.5, -2.0, np.inf, np.nan], np.float32)),
        pa.array(np.array([1.0, 2.5, -3.25], np.float16)),
        pa.array(np.array([2, 0, 250], np.uint8)),
        pa.array(np.arange(10, dtype=np.int32))[3:8],
        pa.array([True, False, True, True, False, False, False, False, True, True])[3:],
        pa.chunked_array([pa.array([1.5, 2.5]), pa.array([3.5])]),
        pa.array(["a", "b", "a"]).dictionary_encode().indices,
        pa.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], pa.list_(pa.float64(), 2))[1:].flatten(),
        pa.array([1.0, None, 3.0]),  # nulls: converted by pyarrow
        pa.array(np.zeros(0, np.float64)),
    ]
    for col in columns:
        got = store.as_numpy(col)
        want = col.to_numpy(zero_copy_only=False)
        assert got.dtype == want.dtype and got.shape == want.shape, col
        np.testing.assert_array_equal(got, want)


def test_a_store_with_a_shifted_column_is_caught_by_the_independent_check(folder, tmp_path):
    # The planted bug the engine check above catches: a metric column shifted by one unit.
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "shifted"
    shutil.copytree(folder, out)
    path = sorted((out / "chunks").glob("g000-*.parquet"))[0]
    table = pq.read_table(path)
    eq4 = table.column("eq4").to_numpy()
    table = table.set_column(table.schema.get_field_index("eq4"), "eq4", pa.array(np.roll(eq4, 3)))
    pq.write_table(table, path)
    with pytest.raises(AssertionError):
        test_every_cell_equals_its_own_experiment_run(out)


def test_the_summary_statistics_equal_an_independent_computation(folder):
    # Per cell and estimator: mean and 95% t-interval of eq. (4) over trials; per cell and
    # pair: wins and the Wilcoxon p on the same trials; over the whole sweep: Benjamini-
    # Hochberg. Each recomputed here with scipy from the loaded arrays (a planted bug in the
    # summary's statistics, intervals, pairing of trials or cell labels fails it).
    from scipy import stats as ss

    sweep = C.load_sweep(SWEEP)
    summary = json.loads((folder / "summary.json").read_text())
    a = S.load_arrays(folder)
    names = list(sweep.estimators)
    for row in summary["cells"]:
        c, e = row["cell"], names.index(row["estimator"])
        assert row["training.learning_rate"] == sweep.cells[c].training.learning_rate
        x = a["eq4"][c, :, e].astype(np.float64)
        half = ss.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        assert row["eq4"]["mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert row["eq4"]["ci_low"] == pytest.approx(x.mean() - half, rel=1e-9)
        assert row["eq4"]["ci_high"] == pytest.approx(x.mean() + half, rel=1e-9)
    ps = []
    for p in summary["paired"]:
        c, i, j = p["cell"], names.index(p["a"]), names.index(p["b"])
        d = a["eq4"][c, :, i].astype(np.float64) - a["eq4"][c, :, j].astype(np.float64)
        assert p["a_wins"] == int((d < 0).sum()) and p["mean_diff"] == pytest.approx(d.mean())
        want = ss.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
        assert p["wilcoxon_p"] == pytest.approx(want, rel=1e-9)
        ps.append(p["wilcoxon_p"])
    adjusted = ss.false_discovery_control(np.array(ps))
    np.testing.assert_allclose([p["wilcoxon_p_fdr"] for p in summary["paired"]], adjusted)


def test_a_source_file_edited_in_the_same_process_gets_a_new_digest(tmp_path):
    # Digests are kept per (path, mtime, size) so a sweep does not re-read every engine file
    # at every chunk; an edit (even one of the same size) must still change the digest.
    import os

    from jaxsoftmax import provenance

    f = tmp_path / "plugin.py"
    f.write_text("X = 1\n")
    first = provenance._file_digest(str(f))
    assert provenance._file_digest(str(f)) == first
    f.write_text("X = 2\n")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert provenance._file_digest(str(f)) != first
