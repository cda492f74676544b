"""Benchmark: the main job (``jaxsoftmax reproduce`` on its defaults) against the one-program
prototype of the paper's experiment, whole processes, side by side in one run.

Three commands, timed from start to exit in alternation (A B C A B C …), medians printed:

* **prototype**: ``jax_vmap.py --repeats 1`` of ``../shared/baselines`` (100 trials × 3
  estimators × 2000 Adam steps as one jitted ``lax.scan``), on a CPU as its README tunes it
  (``XLA_FLAGS=--xla_force_host_platform_device_count=2 … --layout feature --shard``),
  plain on an accelerator; it compiles from scratch every time;
* **main job, cold**: ``python -m jaxsoftmax reproduce`` with a new, empty compilation cache;
* **main job, warm**: the same with the cache of an earlier run.

The targets of the compile issue: cold ≤ 1.0× and warm ≤ 0.6× the prototype on the 2-core
CPU; ≤ 4 s cold and ≤ 2 s warm on one H200.

    python experiments/bench_main_job.py                  # 3 rounds
    python experiments/bench_main_job.py --rounds 5 --no-plots
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTOTYPE = ROOT.parent / "shared" / "baselines" / "jax_vmap.py"


def timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr.read().decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--prototype", default=str(PROTOTYPE), help="path of jax_vmap.py")
    p.add_argument("--no-plots", action="store_true", help="the main job without figures")
    a = p.parse_args(argv)
    import jax

    platform = jax.default_backend()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proto_env = dict(env)
    proto_args = []
    if platform == "cpu":
        proto_env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        proto_args = ["--layout", "feature", "--shard"]
    times: dict[str, list[tuple[float, float]]] = {"prototype": [], "cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        warm_cache = tmp / "warm-cache"
        job = [sys.executable, "-m", "jaxsoftmax", "reproduce", "--quiet"]
        job += ["--no-plots"] if a.no_plots else []
        # Fill the warm cache once (not timed).
        timed([*job, "--out", str(tmp / "fill"), "--cache-dir", str(warm_cache)], env, ROOT)
        for r in range(a.rounds):
            proto_out = tmp / f"proto{r}"
            proto = [sys.executable, a.prototype, *proto_args, "--repeats", "1"]
            proto += ["--outdir", str(proto_out)]
            times["prototype"].append(timed(proto, proto_env, Path(a.prototype).parent))
            cold = [*job, "--out", str(tmp / f"cold{r}"), "--cache-dir", str(tmp / f"c{r}")]
            times["cold"].append(timed(cold, env, ROOT))
            warm = [*job, "--out", str(tmp / f"warm{r}"), "--cache-dir", str(warm_cache)]
            times["warm"].append(timed(warm, env, ROOT))
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    base = med["prototype"]
    print(
        f"main job vs the one-program prototype, whole processes, median of {a.rounds} "
        f"alternating rounds ({platform}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; figures {'off' if a.no_plots else 'on'})"
    )
    print()
    print("| process | wall s (median) | CPU s | ÷ prototype | target |")
    print("|---|---|---|---|---|")
    targets = {"prototype": "", "cold": "≤ 1.0", "warm": "≤ 0.6"}
    names = {
        "prototype": "prototype (compile + run)",
        "cold": "main job, cold cache",
        "warm": "main job, warm cache",
    }
    for k in ("prototype", "cold", "warm"):
        print(f"| {names[k]} | {med[k]:.2f} | {cpu[k]:.1f} | {med[k] / base:.2f} | {targets[k]} |")
    return {"median": med, "cpu": cpu, "all": times}


if __name__ == "__main__":
    main()
