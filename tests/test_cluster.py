"""Sweeps on a Dask cluster, for real: a local cluster of 2 worker processes on loopback,
started here and shared by the module. The records equal the single-process run's bitwise
(same chunk, same devices per worker), each unit once, the summary written once; a worker
SIGKILLed mid-sweep loses and duplicates nothing (the scheduler gives its chunk to another
worker); a driver interrupted mid-sweep resumes. The determinism contract of
docs/cluster.md: bitwise across workers and processes, to CROSS_LAYOUT_RTOL across chunk
sizes for a smooth pairing; a chaotic pairing flagged in the summary. Bad --cluster values
get one clear line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

try:
    import distributed
except ImportError:  # in the [test] extra: a missing engine is a failure, not a skip
    pytest.fail("Dask distributed is missing: python3 -m pip install -e '.[test]'", pytrace=False)

from jaxsoftmax import cli
from jaxsoftmax import cluster as K
from jaxsoftmax import config as C
from jaxsoftmax import determinism as D
from jaxsoftmax import sweeps as S
from jaxsoftmax.sweeps import store, summary

STRICT_PROMOTION = False  # optax inside (see conftest.py)

ROOT = Path(__file__).resolve().parents[1]
DEVICES = 2  # per worker, as the test process has (conftest.py)
# 2 cells x 12 trials, chunks of 2 units: 12 chunks, one compiled program.
SWEEP = {
    "name": "cluster",
    "base": {
        "trials": 12,
        "seed": 5,
        "problem": {"n_per_class": 10, "n_test_per_class": 50},
        "model": {"hidden": 2},
        "training": {"steps": 30},
    },
    "grid": {"training.learning_rate": [0.05, 0.1]},
}
N_RECORDS = 2 * 12 * 3
SWEEP_ESTIMATORS = C.load_sweep(SWEEP).estimators


class Results(dict):
    """Every number of a folder, ``{metric: array}`` (confusion tables included), compared
    bitwise (NaN equal to NaN) with ``==``; ``len`` counts the complete trainings'
    (cell, trial, estimator) rows."""

    def __eq__(self, other) -> bool:
        return self.keys() == other.keys() and all(
            np.array_equal(self[k], other[k], equal_nan=self[k].dtype.kind == "f") for k in self
        )

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return int(self["_complete"].sum()) * self["eq4"].shape[2]


def read_records(folder: Path) -> Results:
    a = S.load_arrays(folder, tables=True)
    out = Results({k: v for k, v in a.items() if isinstance(v, np.ndarray)})
    out["_complete"] = out.pop("complete")
    return out


def record_lines(folder: Path) -> list[tuple]:
    """Every (cell, trial, estimator) row of the folder's chunk files (duplicates kept)."""
    keys = []
    for path in (folder / "chunks").glob("g*-c*.parquet"):
        table, _, _ = store.read_chunk(path, columns=["cell", "trial", "estimator"])
        keys += list(zip(*(table.column(c).to_pylist() for c in ("cell", "trial", "estimator"))))
    return keys


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    desc = tmp / "sweep.json"
    desc.write_text(json.dumps(SWEEP))
    return tmp, desc, tmp / "xla-cache"


def sweep_args(desc: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [
        "sweep",
        str(desc),
        "--out",
        str(out),
        "--chunk-size",
        "2",
        "--devices",
        str(DEVICES),
        "--cache-dir",
        str(cache),
        "--no-plots",
        "--quiet",
        *extra,
    ]


@pytest.fixture(scope="module")
def reference(workspace):
    """The single-process run (this process, 2 devices, chunks of 2); it also fills the
    compilation cache the workers share."""
    tmp, desc, cache = workspace
    out = tmp / "single"
    assert cli.main(sweep_args(desc, out, cache)) == 0
    records = read_records(out)
    assert len(records) == N_RECORDS
    return records


@pytest.fixture(scope="module")
def local_cluster(workspace, reference):
    """2 worker processes on loopback, 1 thread and 2 XLA host devices each, the shared
    compilation cache; the scheduler's address is what --cluster gets."""
    _, _, cache = workspace
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=40,
        ) as lc,
        distributed.Client(lc) as client,
    ):
        client.register_plugin(K.RuntimePlugin(K.Runtime(DEVICES, str(cache))))
        yield client, lc.scheduler_address


def test_cluster_records_equal_the_single_process_run_bitwise(
    workspace, reference, local_cluster, monkeypatch
):
    tmp, desc, cache = workspace
    _, address = local_cluster
    calls = {"chunks": [], "summary": 0}
    write_chunk, write_summary = store.Writer._write, S.write_summary

    def counting_chunk(self, chunk, metrics, info):
        calls["chunks"].append(chunk.name)
        return write_chunk(self, chunk, metrics, info)

    def counting_summary(*a, **k):
        calls["summary"] += 1
        return write_summary(*a, **k)

    monkeypatch.setattr(store.Writer, "_write", counting_chunk)
    monkeypatch.setattr(S, "write_summary", counting_summary)
    out = tmp / "on-cluster"
    assert cli.main(sweep_args(desc, out, cache, "--cluster", address)) == 0
    got = read_records(out)
    assert got == reference  # every metric and confusion table, every float bit
    lines = record_lines(out)
    assert len(lines) == len(set(lines)) == N_RECORDS  # each unit exactly once
    assert len(calls["chunks"]) == len(set(calls["chunks"])) == 12
    assert calls["summary"] == 1
    single = json.loads((tmp / "single" / "summary.json").read_text())
    assert json.loads((out / "summary.json").read_text()) == single
    assert "Dask cluster" in (out / "summary.md").read_text()


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    workspace, reference, local_cluster
):
    tmp, desc, cache = workspace
    client, address = local_cluster
    out = tmp / "killed-worker"
    pids = client.run(os.getpid)  # worker address -> its process id
    assert len(pids) == 2
    killed: dict = {}

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            written = len(list((out / "chunks").glob("g*-c*.parquet"))) if out.exists() else 0
            if written >= 1:
                busy = {w: t for w, t in client.processing().items() if t}
                held = {w: k for w, k in client.has_what().items() if k}
                victim = next(iter(busy or held), None)
                if victim is not None and victim in pids:
                    killed.update(
                        worker=victim,
                        tasks=list(busy.get(victim, ())) + list(held.get(victim, ())),
                        written=written,
                    )
                    os.kill(pids[victim], signal.SIGKILL)
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    # The driver pauses after each chunk so that the kill lands mid-sweep.
    assert cli.main(sweep_args(desc, out, cache, "--cluster", address, "--pause", "0.4")) == 0
    thread.join(timeout=5)
    assert killed, "no worker was killed"
    assert killed["tasks"] and killed["written"] < 12, killed  # it held unfinished work
    assert read_records(out) == reference
    lines = record_lines(out)
    assert len(lines) == len(set(lines)) == N_RECORDS
    assert (out / "summary.json").exists()
    # The nanny replaced the worker; the cluster is whole again for the next test.
    client.wait_for_workers(2, timeout=60)
    assert pids[killed["worker"]] not in client.run(os.getpid).values()


def test_an_interrupted_driver_resumes_with_nothing_lost_or_duplicated(
    workspace, reference, local_cluster
):
    tmp, desc, cache = workspace
    _, address = local_cluster
    out = tmp / "interrupted"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = sweep_args(desc, out, cache, "--cluster", address, "--pause", "0.5")
    p = subprocess.Popen(
        [sys.executable, "-m", "jaxsoftmax", *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if out.exists() and list((out / "chunks").glob("g*-c*.parquet")):
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    code = p.wait(timeout=120)
    err = p.stderr.read().decode()
    assert code == 128 + signal.SIGINT, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    partial = len(read_records(out))
    assert 0 < partial < N_RECORDS
    assert not (out / "summary.json").exists()
    assert cli.main(argv[:-2]) == 0  # the same command, resumed
    assert read_records(out) == reference
    lines = record_lines(out)
    assert len(lines) == len(set(lines)) == N_RECORDS


def test_cluster_local_starts_and_stops_its_own_workers(workspace, reference):
    # --cluster local:N: the command starts N worker processes on loopback and closes them.
    import psutil

    tmp, desc, cache = workspace
    out = tmp / "local1"
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    assert cli.main(sweep_args(desc, out, cache, "--cluster", "local:1")) == 0
    assert read_records(out) == reference
    time.sleep(0.5)
    left = {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}
    assert left <= before, "the local cluster's processes outlived the command"


def test_chunk_sizes_agree_to_the_stated_tolerance_for_a_smooth_pairing(workspace, reference):
    # The contract across layouts: chunks of 2 and 4 on 2 devices (1 and 2 units per device).
    tmp, desc, cache = workspace
    out = tmp / "chunk4"
    args = sweep_args(desc, out, cache)
    args[args.index("--chunk-size") + 1] = "4"
    assert cli.main(args) == 0
    got = read_records(out)
    assert np.array_equal(got["_complete"], reference["_complete"])
    e = list(SWEEP_ESTIMATORS).index("softmax/cross_entropy")
    a, b = reference["eq4"][:, :, e], got["eq4"][:, :, e]
    np.testing.assert_allclose(b, a, rtol=D.CROSS_LAYOUT_RTOL, atol=0)


def test_one_device_per_worker_gives_the_same_bits_as_two_devices(workspace, reference):
    # A chunk runs on one device whatever the machine has: the reference used 2 devices in
    # one process; a local cluster of 2 workers with 1 device each gives the same bits.
    tmp, desc, cache = workspace
    out = tmp / "local2x1"
    args = sweep_args(desc, out, cache, "--cluster", "local:2")
    args[args.index("--devices") + 1] = "1"
    assert cli.main(args) == 0
    assert read_records(out) == reference


def test_a_sweep_no_worker_can_run_stops_with_the_cause(workspace, local_cluster, capsys):
    # --resources that no worker offers: one line naming the cause, not a silent wait.
    tmp, desc, cache = workspace
    _, address = local_cluster
    args = sweep_args(desc, tmp / "stalled", cache, "--cluster", address)
    args += ["--resources", "GPU=1", "--stall-timeout", "3"]
    start = time.monotonic()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "stalled" in err and "no worker offers --resources GPU=1" in err, err
    assert "Traceback" not in err and time.monotonic() - start < 60


def test_two_sweeps_on_one_cluster_keep_their_own_worker_set_up(local_cluster):
    client, address = local_cluster
    tags = []
    for _ in range(2):
        with K.connect(address, timeout=10) as engine:
            tags.append(engine.tag)
    plugins = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    assert tags[0] != tags[1]
    assert all(f"jaxsoftmax-runtime-{t}" in plugins for t in tags), plugins


def test_chaotic_pairings_are_measured_and_named_in_the_summary():
    config = C.from_dict(
        {
            "trials": 4,
            "seed": 1,
            "estimators": ["softmax/cross_entropy", "l1/cross_entropy"],
            "problem.n_per_class": 10,
            "problem.n_test_per_class": 50,
            "model.hidden": 2,
            "training.steps": 200,
        }
    )
    spread = D.ulp_spread(config)
    # A smooth pairing carries one ulp of the initial weights to rounding-size changes.
    assert np.median(spread["softmax/cross_entropy"]) < D.CROSS_LAYOUT_RTOL
    assert "l1/cross_entropy" in D.CHAOTIC and "softmax/cross_entropy" not in D.CHAOTIC
    chaotic = C.load_sweep({"base": {"trials": 2, "estimators": ["l1/cross_entropy"]}})
    smooth = C.load_sweep({"base": {"trials": 2}})
    assert "Chaotic pairings: l1/cross_entropy" in "\n".join(summary._chaos_lines(chaotic))
    assert summary._chaos_lines(smooth) == []


def test_bad_cluster_values_get_one_clear_line(workspace, capsys, monkeypatch):
    tmp, desc, _ = workspace
    monkeypatch.setattr(K, "CONNECT_TIMEOUT", 2.0)
    garbage, empty, braces = tmp / "garbage.json", tmp / "empty.json", tmp / "braces.json"
    garbage.write_text("\x00\x01 not json")
    empty.write_text("")
    braces.write_text("{}")
    for value, message in [
        ("local:0", "expected local:N"),
        ("local:x", "expected local:N"),
        ("local", "expected local:N"),
        ("foo://", "unknown or empty address"),
        ("tcp://", "unknown or empty address"),
        ("no-such-file.json", "no such scheduler file"),
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"),  # loopback, nothing there
        (str(garbage), "not a Dask scheduler file"),
        (str(empty), "not a Dask scheduler file"),
        (str(braces), "not a Dask scheduler file"),
    ]:
        code = cli.main(["sweep", str(desc), "--cluster", value, "--no-cache", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2, (value, err)
        assert "Traceback" not in err and err.count("\n") == 1, (value, err)
        assert err.startswith("error: ") and message in err, (value, err)
    code = cli.main(["sweep", str(desc), "--cluster", "local:1", "--resources", "GPU"])
    assert code == 2 and "--resources GPU: expected NAME=AMOUNT" in capsys.readouterr().err


class _Spy:
    """A Dask client that records what is scattered and submitted, and passes it on."""

    def __init__(self, client):
        self._client, self.scattered, self.submitted = client, [], []

    def scatter(self, data, **kw):
        self.scattered.append(data)
        return self._client.scatter(data, **kw)

    def submit(self, fn, *args, **kw):
        self.submitted.append((args, kw))
        return self._client.submit(fn, *args, **kw)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_the_sweep_is_scattered_once_and_every_task_gets_the_retries_asked(
    workspace, reference, local_cluster, tmp_path
):
    # Bugs caught: the whole pickled sweep sent with every task (~235 KB per task at 1000
    # cells), and retries fixed at 0 whatever the user asks.
    client, _ = local_cluster
    _, _, cache = workspace
    spy = _Spy(client)
    engine = K.Engine(spy, K.Runtime(DEVICES, str(cache)), DEVICES, "cpu", retries=3, tag="spy")
    sweep = C.load_sweep(SWEEP)
    out = S.run_sweep(sweep, tmp_path / "spied", chunk_size=2, engine=engine, quiet=True)
    assert out["computed"] == sweep.n_trainings
    assert len(spy.scattered) == 1 and spy.scattered[0] is sweep
    assert len(spy.submitted) == 12 // DEVICES  # a task per batch of DEVICES chunks
    for args, kw in spy.submitted:
        assert isinstance(args[0], distributed.Future), type(args[0])  # a reference, not data
        assert kw["retries"] == 3
    assert read_records(tmp_path / "spied") == reference


def test_connect_waits_for_the_first_worker_as_long_as_asked():
    # Bug caught: a fixed 20 s wait for the first worker, so a cluster whose workers are
    # still queued (dask-jobqueue on SLURM) fails; now --connect-timeout sets it.
    with distributed.LocalCluster(
        n_workers=0,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=40,
    ) as lc:
        start = time.monotonic()
        with pytest.raises(K.ClusterError, match="no workers after 2 s"):
            with K.connect(lc.scheduler_address, timeout=2):
                pass
        assert 2 <= time.monotonic() - start < 15
        # a worker that arrives late (here after 3 s) is waited for when the timeout allows
        threading.Timer(3.0, lambda: lc.scale(1)).start()
        start = time.monotonic()
        with K.connect(lc.scheduler_address, timeout=120, devices=1) as engine:
            assert engine.workers() == 1
        assert time.monotonic() - start >= 3


def test_sigterm_stops_a_stalled_sweep_at_once(workspace, local_cluster, tmp_path):
    # Bug caught: a sweep waiting for a worker that never comes ignored one SIGTERM. The
    # driver wakes every second, so a SIGTERM stops it long before the stall timeout.
    _, desc, cache = workspace
    _, address = local_cluster
    args = sweep_args(desc, tmp_path / "term", cache, "--cluster", address)
    args = [sys.executable, "-m", "jaxsoftmax", *args]
    args += ["--resources", "GPU=1", "--stall-timeout", "600"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "term").exists() and time.monotonic() < deadline:
            time.sleep(0.5)  # the folder is made once the cluster is joined
        time.sleep(3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 30, "one SIGTERM did not stop the waiting sweep"
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert "SIGTERM" in err, err
