"""Benchmark: a sweep in one process against the same sweep on a local Dask cluster of 2
worker processes (``--cluster local:2``): trainings/s and the peak resident memory of the
driver and of each worker, at 10³ and 10⁴ tiny trainings (10⁵ with ``--large``). The
compilation cache is warmed first (a small run of the same programs), so the numbers are
steady-state throughput; each run is a separate ``jaxsoftmax sweep`` process, its memory
sampled (with its child processes) every 0.1 s.

    python experiments/bench_cluster.py                 # 10^3 and 10^4 trainings
    python experiments/bench_cluster.py --large         # and 10^5
    python experiments/bench_cluster.py --quick         # smoke test: 20 short trainings, cold
    python experiments/bench_cluster.py --chaos         # eq. (4) after a one-ulp nudge

A tiny training: the paper's four classes, 25 observations per class, h = 4, 100 full-batch
Adam steps, 3 estimators; 10 cells vary the learning rate (one program). Both modes use the
same 16 units per device: one process with 2 devices and chunks of 32, or 2 workers with 1
device each and chunks of 16.

``--chaos`` measures :func:`jaxsoftmax.determinism.ulp_spread` on the paper's set-up: how far
eq. (4) after training moves when every initial weight moves by one ulp, per pairing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAOS_PAIRINGS = [
    "softmax/cross_entropy",
    "softmax/least_squares",
    "logistic/least_squares",
    "logistic/cross_entropy",
    "l1/least_squares",
    "l1/cross_entropy",
]


def description(trainings: int, steps: int) -> dict:
    lrs = [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5]
    return {
        "name": f"bench{trainings}",
        "base": {
            "trials": max(1, trainings // len(lrs)),
            "problem": {"n_per_class": 25, "n_test_per_class": 50},
            "model": {"hidden": 4},
            "training": {"steps": steps},
        },
        "grid": {"training.learning_rate": lrs},
    }


def run_once(desc: Path, out: Path, cache: Path, mode: str) -> dict:
    """One ``jaxsoftmax sweep`` process; its trainings/s and peak RSS (driver, workers)."""
    import psutil

    if mode == "single":
        extra = ["--devices", "2", "--chunk-size", "32"]
    else:
        extra = ["--cluster", mode, "--devices", "1", "--chunk-size", "16"]
    cmd = [
        sys.executable,
        "-m",
        "jaxsoftmax",
        "sweep",
        str(desc),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--no-plots",
        *extra,
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    driver = psutil.Process(p.pid)
    peak_driver, peak_worker = 0, {}
    while p.poll() is None:
        try:
            peak_driver = max(peak_driver, driver.memory_info().rss)
            for child in driver.children(recursive=True):
                try:
                    cmdline = " ".join(child.cmdline())
                    if "multiprocessing" in cmdline or "spawn" in cmdline:
                        rss = child.memory_info().rss
                        peak_worker[child.pid] = max(peak_worker.get(child.pid, 0), rss)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    _, err = p.communicate()
    if p.returncode:
        raise SystemExit(f"sweep failed ({' '.join(cmd)}):\n{err[-3000:]}")
    m = re.search(r"computed (\d+) trainings in ([\d.]+) s", err)
    n, compute = int(m.group(1)), float(m.group(2))
    # The largest spawned processes are the workers (the nannies and the resource tracker
    # are small); report the largest worker.
    workers = sorted(peak_worker.values(), reverse=True)[:2]
    return {
        "mode": mode,
        "trainings": n,
        "wall_s": wall,
        "sweep_s": compute,
        "per_s": n / compute,
        "per_s_wall": n / wall,
        "driver_mb": peak_driver / 2**20,
        "worker_mb": max(workers) / 2**20 if workers else None,
    }


def chaos(trials: int, steps: int) -> list[dict]:
    import jax

    jax.config.update("jax_num_cpu_devices", 1)
    import numpy as np

    from jaxsoftmax import config as C
    from jaxsoftmax import determinism

    config = C.from_dict({"trials": trials, "estimators": CHAOS_PAIRINGS, "training.steps": steps})
    spread = determinism.ulp_spread(config)
    print(
        f"eq. (4) after {steps} steps, every initial weight moved by one ulp: relative change "
        f"over {trials} trials (paper's set-up otherwise)"
    )
    print("| pairing | median | 90th percentile | max | trials changed > 1e-3 |")
    print("|---|---|---|---|---|")
    rows = []
    for name, v in spread.items():
        row = {
            "pairing": name,
            "median": float(np.median(v)),
            "p90": float(np.quantile(v, 0.9)),
            "max": float(v.max()),
            "over_1e-3": float(np.mean(v > 1e-3)),
        }
        rows.append(row)
        print(
            f"| {name} | {row['median']:.1e} | {row['p90']:.1e} | {row['max']:.1e} "
            f"| {row['over_1e-3']:.0%} |"
        )
    return rows


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--large", action="store_true", help="also 10^5 trainings")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--quick", action="store_true", help="20 trainings of 10 steps")
    p.add_argument("--chaos", action="store_true", help="the one-ulp measurement only")
    p.add_argument("--chaos-trials", type=int, default=20)
    p.add_argument("--chaos-steps", type=int, default=2000)
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)
    if a.chaos:
        rows = chaos(a.chaos_trials, a.chaos_steps)
        if a.json:
            Path(a.json).write_text(json.dumps(rows, indent=1))
        return {"chaos": rows}
    sizes = [20] if a.quick else a.sizes + ([100_000] if a.large else [])
    steps = 10 if a.quick else a.steps
    modes = ["single", "local:2"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        warm = tmp / "warm.json"
        # 10 cells x 32 trials: full chunks of 32 (one process) and 16 (a worker), the
        # padded sizes of every run below (--quick: no warm-up, compilation included).
        warm.write_text(json.dumps(description(320, steps)))
        for mode in [] if a.quick else modes:  # compile once: the runs below load them
            run_once(warm, tmp / f"warm-{mode.replace(':', '')}", cache, mode)
        for size in sizes:
            desc = tmp / f"sweep{size}.json"
            desc.write_text(json.dumps(description(size, steps)))
            for mode in modes:
                r = run_once(desc, tmp / f"out{size}-{mode.replace(':', '')}", cache, mode)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    print(
        f"sweep throughput and peak RSS ({os.cpu_count()} cores, {steps} steps, 3 estimators "
        "per training, compilation cache warm)"
    )
    print(
        "| trainings | mode | trainings/s (sweep) | trainings/s (wall, with start-up) "
        "| driver peak RSS | worker peak RSS |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        worker = f"{r['worker_mb']:.0f} MB" if r["worker_mb"] else "—"
        mode = "one process" if r["mode"] == "single" else f"--cluster {r['mode']}"
        print(
            f"| {r['trainings']} | {mode} | {r['per_s']:.0f} | {r['per_s_wall']:.0f} "
            f"| {r['driver_mb']:.0f} MB | {worker} |"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return {"rows": rows}


if __name__ == "__main__":
    main()
