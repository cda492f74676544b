"""Benchmark: sweep throughput, compile time, memory and bytes on disk, against the targets of
the sweep-scale issue and against a baseline version of this code measured in the same run.

Two scenarios, each a separate ``jaxsoftmax sweep`` process per measurement, timed from start
to exit (imports included) and by the sweep's own count (from "compiling and starting" to
the last chunk: tracing, compilation or cache loading, and computing):

* **overhead**: 10⁴ units of 1 training step, 5 points per class, h = 2 — the engine's
  bookkeeping, not arithmetic;
* **tiny**: 10⁵ tiny trainings (25 points per class, h = 4/6, 100 Adam steps, 3 estimators;
  cells vary the learning rate and the hidden size: one program).

Each is run twice: a *first* run with an empty compilation cache on a reduced number of trials
(the same program: its time is compilation plus a little work) and a *warm* run of the whole
sweep with the cache filled. With ``--baseline REF`` (default: the commit before the sweep
engine moved into the library) the same two scenarios run with the code of that git revision
(a temporary ``git worktree``), and the ratios are printed.

    python experiments/bench_sweep.py                       # both scenarios, with the baseline
    python experiments/bench_sweep.py --no-baseline --tiny 10000
    python experiments/bench_sweep.py --quick               # a smoke test (seconds)
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
BASELINE = "357dd15"
TARGETS = {
    "overhead_per_s": 20_000,
    "overhead_compile_s": 5.0,
    "tiny_per_s": 2 * 297,
    "bytes_per_training_estimator": 100,
}


def overhead(units: int) -> dict:
    lrs = [round(0.01 * (i + 1), 2) for i in range(10)]
    return {
        "name": "overhead",
        "base": {
            "trials": max(1, units // len(lrs)),
            "problem": {"n_per_class": 5, "n_test_per_class": 5, "n_val_per_class": 5},
            "model": {"hidden": 2},
            "training": {"steps": 1},
        },
        "grid": {"training.learning_rate": lrs},
    }


def tiny(trainings: int, steps: int = 100) -> dict:
    lrs = [0.01, 0.02, 0.05, 0.1, 0.2]
    hidden = [4, 6]
    return {
        "name": "tiny",
        "base": {
            "trials": max(1, trainings // (len(lrs) * len(hidden))),
            "problem": {"n_per_class": 25, "n_test_per_class": 50},
            "training": {"steps": steps},
        },
        "grid": {"model.hidden": hidden, "training.learning_rate": lrs},
    }


def run_once(code: Path, desc: Path, out: Path, cache: Path, chunk: int) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(
            [sys.executable, "-m", "jaxsoftmax", "sweep", str(desc), "--out", str(out)]
            + ["--cache-dir", str(cache), "--no-plots"]
            + (["--chunk-size", str(chunk)] if chunk else []),
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=code,
            env={**os.environ, "PYTHONPATH": str(code)},
        )
        _, status, usage = os.wait4(p.pid, 0)  # this child's own peak RSS
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    if p.returncode:
        raise SystemExit(f"sweep failed:\n{stderr[-3000:]}")
    m = re.search(r"computed (\d+) trainings in ([\d.]+) s", stderr)
    first = re.search(r"first \d+ trainings \(with compilation\) in ([\d.]+) s", stderr)
    n, compute = int(m.group(1)), float(m.group(2))
    files = [p for p in (out / "chunks").rglob("*") if p.is_file()]
    return {
        "trainings": n,
        "wall_s": wall,
        "compute_s": compute,
        "first_batch_s": float(first.group(1)) if first else float("nan"),
        "per_s_wall": n / wall,
        "per_s_compute": n / compute if compute > 0 else float("nan"),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "disk_bytes": sum(p.stat().st_size for p in files),
    }


def scenario(code: Path, tmp: Path, name: str, full: dict, small: dict, chunk: int) -> dict:
    """A first run (empty cache, reduced trials, same program) and a warm full run."""
    d = tmp / name
    d.mkdir(parents=True)
    cache = d / "cache"
    (d / "small.json").write_text(json.dumps(small))
    (d / "full.json").write_text(json.dumps(full))
    first = run_once(code, d / "small.json", d / "first", cache, chunk)
    warm = run_once(code, d / "full.json", d / "warm", cache, chunk)
    return {"first": first, "warm": warm}


def chunk_for(desc: dict) -> int:
    """The chunk size a new folder of ``desc`` gets on this machine (so that the reduced
    first run compiles the very program of the full run)."""
    sys.path.insert(0, str(ROOT))
    from jaxsoftmax import config as C
    from jaxsoftmax.sweeps import default_chunk_size

    return default_chunk_size(C.load_sweep(desc), "cpu", None, os.cpu_count() or 1)


def measure(code: Path, tmp: Path, sizes: dict, chunks: dict) -> dict:
    out = {}
    for name, make in (("overhead", overhead), ("tiny", tiny)):
        n = sizes[name]
        if not n:
            continue
        small = make(max(10, min(n, 20 * (chunks.get(name) or 16))))
        out[name] = scenario(code, tmp / code.name, name, make(n), small, chunks.get(name, 0))
    return out


def baseline_tree(ref: str, tmp: Path) -> Path | None:
    where = tmp / f"baseline-{ref}"
    r = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref],
        capture_output=True,
        text=True,
    )
    if r.returncode:
        print(f"(no baseline: git worktree add {ref} failed: {r.stderr.strip()})")
        return None
    return where


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--overhead", type=int, default=10_000, help="units of the overhead sweep")
    p.add_argument("--tiny", type=int, default=100_000, help="tiny trainings (0: skip)")
    p.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--quick", action="store_true", help="a smoke test: 200 and 200 units")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args(argv)
    sizes = {"overhead": a.overhead, "tiny": a.tiny}
    if a.quick:
        sizes = {"overhead": 200, "tiny": 200}
    chunks = {"overhead": chunk_for(overhead(sizes["overhead"])), "tiny": 0}
    if sizes["tiny"]:
        chunks["tiny"] = chunk_for(tiny(sizes["tiny"]))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = {"now": measure(ROOT, tmp, sizes, chunks)}
        base = None if a.no_baseline else baseline_tree(a.baseline, tmp)
        if base is not None:
            try:
                results["baseline"] = measure(base, tmp, sizes, {})
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                    capture_output=True,
                )
    report(results, sizes, chunks, a.baseline if "baseline" in results else None)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return results


def report(results: dict, sizes: dict, chunks: dict, ref: str | None) -> None:
    now, base = results["now"], results.get("baseline", {})
    cores = os.cpu_count()
    print(f"sweep benchmark on {cores} CPU cores (load {os.getloadavg()[0]:.1f} at the end)")
    print()
    print(
        "| figure | target | now | baseline "
        + (f"({ref})" if ref else "(not run)")
        + " | now ÷ baseline |"
    )
    print("|---|---|---|---|---|")

    def row(label, target, get, fmt, better="higher"):
        v = get(now)
        b = get(base) if base else None
        ratio = f"{v / b:.2f}x" if b else "—"
        print(f"| {label} | {target} | {fmt(v)} | {fmt(b) if b else '—'} | {ratio} |")

    if "overhead" in now:
        n = sizes["overhead"]
        row(
            f"overhead sweep, {n} units, warm: units/s (compute)",
            f"≥ {TARGETS['overhead_per_s']:,}",
            lambda r: r["overhead"]["warm"]["per_s_compute"] if r else None,
            lambda v: f"{v:,.0f}",
        )
        row(
            f"overhead sweep, {n} units, warm: units/s (whole process)",
            "",
            lambda r: r["overhead"]["warm"]["per_s_wall"] if r else None,
            lambda v: f"{v:,.0f}",
        )
        row(
            "overhead sweep: first batch, empty cache (≈ compile of its one program), s",
            f"≤ {TARGETS['overhead_compile_s']:g}",
            lambda r: r["overhead"]["first"]["first_batch_s"] if r else None,
            lambda v: f"{v:.1f}",
        )
    if "tiny" in now:
        n = sizes["tiny"]
        row(
            f"{n} tiny trainings, warm: trainings/s (compute)",
            f"≥ {TARGETS['tiny_per_s']}",
            lambda r: r["tiny"]["warm"]["per_s_compute"] if r else None,
            lambda v: f"{v:,.0f}",
        )
        row(
            f"{n} tiny trainings, warm: trainings/s (whole process)",
            "",
            lambda r: r["tiny"]["warm"]["per_s_wall"] if r else None,
            lambda v: f"{v:,.0f}",
        )
        row(
            f"{n} tiny trainings: peak RSS, MB",
            "flat",
            lambda r: r["tiny"]["warm"]["peak_rss_mb"] if r else None,
            lambda v: f"{v:,.0f}",
        )
        row(
            f"{n} tiny trainings: bytes on disk per training-estimator",
            f"≤ {TARGETS['bytes_per_training_estimator']}",
            lambda r: (
                r["tiny"]["warm"]["disk_bytes"] / (3 * r["tiny"]["warm"]["trainings"])
                if r
                else None
            ),
            lambda v: f"{v:,.0f}",
        )
    print()
    print(f"chunk sizes (units): {chunks}; GPU targets (10⁶ trainings ≤ 60 s on one H200): ")
    print("not measured by this script (run it on a GPU machine: the same commands).")


if __name__ == "__main__":
    main()
