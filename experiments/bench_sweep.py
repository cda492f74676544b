"""Benchmark of sweep chunks (jaxsoftmax.sweep_run): where the device saturates, how the cost
of a training grows with n and h, and how it scales over (simulated) devices.

1. **Chunk size**: trainings per second as the chunk grows (n = 100 per class, h = 8, the
   paper's three pairings), on every local device.
2. **n × h**: seconds per training step for a grid of n (per class) and h, with a least-squares
   fit of cost = a + b·(n·h) (slope and R² printed; the forward and backward passes are
   O(n·h·K) per step, so the fit should be good away from the overhead-dominated small sizes).
3. **Devices**: the same chunk on 1, 2, 4 XLA host devices (subprocesses with
   ``XLA_FLAGS=--xla_force_host_platform_device_count=D``); on a CPU the devices share its
   cores, so the speed-up stops at the core count.

Compilation is timed apart (the first call) and excluded from the rates. The defaults run in
under ~3 minutes on a 2-core CPU; ask for more with the flags:

    python experiments/bench_sweep.py
    python experiments/bench_sweep.py --chunk-sizes 8 64 512 4096 --ns 100 1000 --hs 8 64
"""

from __future__ import annotations

import os
import sys

if "--worker" not in sys.argv and "--xla_force_host_platform_device_count" not in os.environ.get(
    "XLA_FLAGS", ""
):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_force_host_platform_device_count={os.cpu_count() or 1}"
    ).strip()

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import jax
import numpy as np

from jaxsoftmax import sweep as sw
from jaxsoftmax import sweep_run

PAPER = ["logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy"]


def time_chunk(units: int, n: int, h: int, steps: int, pairings, devices=None) -> dict:
    """Compiles and times one chunk of ``units`` trainings (rounded up to the device count)."""
    devices = jax.local_devices() if devices is None else devices
    config = sw.parse_config(
        {
            "trials": units,
            "pairings": list(pairings),
            "n_test_per_class": 100,
            "grid": {"n_per_class": n, "hidden": h, "steps": steps},
        }
    )
    (chunk,) = sw.plan_chunks(config, chunk_size=units, n_devices=len(devices))
    t0 = time.perf_counter()
    sweep_run.run_chunk(config, chunk, devices)
    first = time.perf_counter() - t0
    best, reps, t_all = float("inf"), 0, time.perf_counter()
    while reps < 2 or (time.perf_counter() - t_all < 1.0 and reps < 10):
        t0 = time.perf_counter()
        sweep_run.run_chunk(config, chunk, devices)
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return {
        "units": len(chunk.units),
        "padded": chunk.size,
        "seconds": best,
        "compile_s": first - best,
        "trainings_per_s": len(chunk.units) / best,
        "networks_per_s": len(chunk.units) * len(pairings) / best,
    }


def chunk_sizes(args) -> list[dict]:
    print(f"\n1. Chunk size (n = 100 per class, h = 8, {args.steps} steps, {len(PAPER)} pairings)")
    print(f"{'chunk':>7} {'s/chunk':>9} {'compile s':>10} {'trainings/s':>12} {'networks/s':>11}")
    rows = []
    for size in args.chunk_sizes:
        r = time_chunk(size, 100, 8, args.steps, PAPER)
        rows.append(r)
        print(
            f"{r['units']:>7} {r['seconds']:>9.3f} {r['compile_s']:>10.1f} "
            f"{r['trainings_per_s']:>12.1f} {r['networks_per_s']:>11.1f}"
        )
    top = max(r["trainings_per_s"] for r in rows)
    sat = next(r["units"] for r in rows if r["trainings_per_s"] >= 0.9 * top)
    print(f"saturates (>= 90% of the best, {top:.1f} trainings/s) from a chunk of {sat}")
    return rows


def n_by_h(args) -> dict:
    print(
        f"\n2. Cost per training step vs n·h (chunk {args.nh_chunk}, {args.steps} steps, 1 pairing)"
    )
    rows = []
    for n in args.ns:
        for h in args.hs:
            r = time_chunk(args.nh_chunk, n, h, args.steps, ["softmax/cross_entropy"])
            us = r["seconds"] / (r["units"] * args.steps) * 1e6
            rows.append({"n": n, "h": h, "us_per_training_step": us, **r})
            print(f"  n = {n:>5}, h = {h:>3}: {us:8.3f} µs per training step")
    x = np.array([r["n"] * r["h"] for r in rows], float)
    y = np.array([r["us_per_training_step"] for r in rows])
    slope, intercept = np.polyfit(x, y, 1)
    r2 = 1 - np.sum((y - (slope * x + intercept)) ** 2) / np.sum((y - y.mean()) ** 2)
    print(
        f"fit: µs per training step = {intercept:.3f} + {slope * 1e3:.4f}e-3 · n·h "
        f"(R² = {r2:.3f}; n per class, K = 4 classes, so N = 4n observations)"
    )
    return {"rows": rows, "slope_us": float(slope), "intercept_us": float(intercept), "r2": r2}


def worker(args) -> None:
    r = time_chunk(args.dev_chunk, 100, 8, args.steps, PAPER)
    r["devices"] = jax.local_device_count()
    print(json.dumps(r))


def device_scaling(args) -> list[dict]:
    print(f"\n3. Devices (chunk {args.dev_chunk}, n = 100, h = 8, {args.steps} steps, 3 pairings)")
    rows = []
    for d in args.device_counts:
        env = dict(os.environ)
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={d}"
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).strip(os.pathsep)
        cmd = [sys.executable, __file__, "--worker", "--steps", str(args.steps)]
        cmd += ["--dev-chunk", str(args.dev_chunk)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(r)
    base = rows[0]["trainings_per_s"]
    for r in rows:
        print(
            f"  {r['devices']} device(s): {r['trainings_per_s']:8.1f} trainings/s "
            f"(x{r['trainings_per_s'] / base:.2f})"
        )
    return rows


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100, help="training steps per chunk")
    p.add_argument("--chunk-sizes", type=int, nargs="+", default=[2, 8, 32, 128, 512])
    p.add_argument("--ns", type=int, nargs="+", default=[25, 50, 100, 200])
    p.add_argument("--hs", type=int, nargs="+", default=[4, 8, 16])
    p.add_argument("--nh-chunk", type=int, default=64, help="chunk size of part 2")
    p.add_argument("--dev-chunk", type=int, default=64, help="chunk size of part 3")
    p.add_argument("--device-counts", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--skip", nargs="*", default=[], choices=["chunks", "nh", "devices"])
    p.add_argument("--out", help="also write the figures as JSON here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    dev = jax.local_devices()[0]
    print(
        f"bench_sweep: {jax.local_device_count()} x {dev.platform} ({dev.device_kind}), "
        f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__}"
    )
    start = time.perf_counter()
    out = {}
    if "chunks" not in args.skip:
        out["chunk_sizes"] = chunk_sizes(args)
    if "nh" not in args.skip:
        out["n_by_h"] = n_by_h(args)
    if "devices" not in args.skip:
        out["devices"] = device_scaling(args)
    print(f"\nbenchmark time {time.perf_counter() - start:.0f} s")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
