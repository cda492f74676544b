"""Benchmark: sweep throughput in trainings per second *including* compilation, first run
(empty compilation cache) and cached run (the same sweep again in a fresh folder, the
persistent cache warm), for 60, 10³ and (``--large``) 10⁵ tiny trainings, and each run's
peak resident memory. Every run is a separate ``jaxsoftmax sweep`` process, timed from
start to exit (imports included) and by the sweep's own count (compute only).

    python experiments/bench_sweep.py                  # 60 and 1000 trainings
    python experiments/bench_sweep.py --sizes 60 1000 100000
    python experiments/bench_sweep.py --quick          # a smoke test: 8 trainings

A tiny training: the paper's four classes, 25 observations per class, h = 4, 100 full-batch
Adam steps, 3 estimators; cells vary the learning rate and the hidden size (2 programs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def description(trainings: int, steps: int) -> dict:
    lrs = [0.01, 0.02, 0.05, 0.1, 0.2]
    hidden = [4, 6]
    cells = len(lrs) * len(hidden)
    trials = max(1, trainings // cells)
    return {
        "name": f"bench{trainings}",
        "base": {
            "trials": trials,
            "problem": {"n_per_class": 25, "n_test_per_class": 50},
            "training": {"steps": steps},
        },
        "grid": {"model.hidden": hidden, "training.learning_rate": lrs},
    }


def run_once(desc: Path, out: Path, cache: Path, chunk: int) -> dict:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run(
        [
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
        ]
        + (["--chunk-size", str(chunk)] if chunk else []),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if r.returncode:
        raise SystemExit(f"sweep failed:\n{r.stderr[-3000:]}")
    m = re.search(r"computed (\d+) trainings in ([\d.]+) s", r.stderr)
    n, compute = int(m.group(1)), float(m.group(2))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "trainings": n,
        "wall_s": wall,
        "compute_s": compute,
        "per_s_wall": n / wall,
        "per_s_compute": n / compute,
        "peak_rss_mb": max(rss, before) / 1024,
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[60, 1000])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--chunk-size", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="8 trainings of 10 steps")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)
    sizes, steps = ([10], 10) if a.quick else (a.sizes, a.steps)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in sizes:
            desc = tmp / f"sweep{size}.json"
            desc.write_text(json.dumps(description(size, steps)))
            cache = tmp / f"cache{size}"
            first = run_once(desc, tmp / f"first{size}", cache, a.chunk_size)
            cached = run_once(desc, tmp / f"cached{size}", cache, a.chunk_size)
            rows.append({"size": size, "first": first, "cached": cached})
    print(
        f"sweep throughput, trainings/s including compilation ({os.cpu_count()} cores, "
        f"{steps} steps, 3 estimators each)"
    )
    print(
        "| trainings | first run: wall (trainings/s) | cached run: wall (trainings/s) "
        "| cached ÷ first | compute only, cached | peak RSS |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        f, c = r["first"], r["cached"]
        print(
            f"| {f['trainings']} | {f['wall_s']:.1f} s ({f['per_s_wall']:.1f}) "
            f"| {c['wall_s']:.1f} s ({c['per_s_wall']:.1f}) "
            f"| {c['per_s_wall'] / f['per_s_wall']:.2f}x | {c['per_s_compute']:.1f}/s "
            f"| {c['peak_rss_mb']:.0f} MB |"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return {"rows": rows}


if __name__ == "__main__":
    main()
