"""Where the main job's time goes: the default reproduction, phase by phase, in one process.

It calls what ``jaxsoftmax reproduce`` calls (``experiment.run``, ``reproduce.results_from``,
``summarise``, the figures and the report) and times each phase, splitting the time JAX spends
tracing, lowering and compiling (or loading from the persistent cache) from the rest, by
``jax.monitoring`` events. Training and evaluation are told apart by the engine's progress
callback (one call after each chunk of steps). With ``--trace`` it also runs a short training
under ``jax.profiler`` and prints the XLA kernels that take the time of one step.

    python experiments/profile_main_job.py                       # cold: a new, empty cache
    python experiments/profile_main_job.py --cache-dir /tmp/c    # run twice: cold, then warm
    python experiments/profile_main_job.py --trace /tmp/trace    # + the top kernels per step

Numbers are for this process on this machine; run on idle cores.
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import argparse  # noqa: E402
import collections  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: profile this checkout's jaxsoftmax
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402

from jaxsoftmax import config as C  # noqa: E402
from jaxsoftmax import experiment, io, runtime  # noqa: E402
from jaxsoftmax.cli import common, reproduce  # noqa: E402

_IMPORTED = time.perf_counter()

EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
}
_spent: collections.Counter = collections.Counter()


def _listen(event: str, duration: float, **_kw) -> None:
    if event in EVENTS:
        _spent[EVENTS[event]] += duration


class Phases:
    """Wall time of consecutive phases, each with the JAX compile-path time spent inside it."""

    def __init__(self):
        self.rows: list[tuple[str, float, dict]] = []
        self._t = time.perf_counter()
        self._c = dict(_spent)

    def mark(self, name: str) -> None:
        now, spent = time.perf_counter(), dict(_spent)
        jax_part = {k: spent.get(k, 0.0) - self._c.get(k, 0.0) for k in EVENTS.values()}
        self.rows.append((name, now - self._t, jax_part))
        self._t, self._c = now, spent


def run_phases(args) -> Phases:
    cli_args = reproduce.parser().parse_args(
        ["--no-cache"] if args.cache_dir is None else ["--cache-dir", args.cache_dir]
    )
    if args.cache_dir is None:  # cold: a fresh, empty cache folder, as on a new machine
        cli_args.no_cache = False
        cli_args.cache_dir = tempfile.mkdtemp(prefix="jaxsoftmax-xla-")
    phases = Phases()
    phases.rows.append(("imports (jax, jaxsoftmax)", _IMPORTED - _START, {}))
    devices = common.setup_runtime(cli_args)
    config = C.validate(C.Config())
    phases.mark(f"runtime set-up ({len(devices)} devices)")

    # As reproduce does: scipy.stats, matplotlib and Figures 1-2 in a background thread
    # while the devices train.
    ahead = runtime.ahead(reproduce._ahead, not args.no_plots)
    calls: list[float] = []
    raw = experiment.run(config, progress=lambda _: calls.append(time.perf_counter()), keep=True)
    end = time.perf_counter()
    spent_then = dict(_spent)
    if len(calls) == 1:  # one fused program: sampling, training and evaluation
        phases.rows.append(
            ("the trial: sampling + training + evaluation (ONE program)", end - phases._t, {})
        )
    else:
        # The first progress call comes after sampling and the first chunk of steps,
        # compilation of both included; the evaluation (and its compilation) after the last.
        phases.rows.append(
            (f"sampling + 1st training chunk ({len(calls)} chunks)", calls[0] - phases._t, {})
        )
        phases.rows.append(("training, remaining chunks", calls[-1] - calls[0], {}))
        phases.rows.append(("evaluation + results to host", end - calls[-1], {}))
    compute_jax = {k: spent_then.get(k, 0.0) - phases._c.get(k, 0.0) for k in EVENTS.values()}
    phases.rows.append(("  of which tracing/lowering/compiling", 0.0, compute_jax))
    phases._t, phases._c = time.perf_counter(), spent_then
    surfaces = ahead.result()
    phases.mark("waiting for the background thread (scipy.stats, matplotlib, Figures 1-2)")

    results = reproduce.results_from(config, raw)
    summary = reproduce.summarise(config, results)
    phases.mark("statistics (summarise)")
    out = pathlib.Path(tempfile.mkdtemp(prefix="jaxsoftmax-profile-"))
    figures: list[str] = []
    if not args.no_plots:
        from jaxsoftmax.cli import figures as fig

        figures = fig.reproduction_figures(config, results, summary, out, surfaces)
        phases.mark(f"figures ({len(figures)} PNG; Figures 1-2 drawn ahead)")
    meta = {**io.metadata(), "seconds": end - _IMPORTED, "devices_used": len(devices)}
    reproduce.write(out, config, results, summary, meta, figures)
    phases.mark("report.md + results.json")
    return phases


def print_phases(phases: Phases, cache: str) -> None:
    print(f"main job, default configuration; compilation cache: {cache}")
    print(f"machine: {io.metadata()['device']}, jax {jax.__version__}\n")
    print("| phase | wall (s) | tracing | lowering | XLA compile / cache load |")
    print("|---|---|---|---|---|")
    total = 0.0
    for name, wall, jax_part in phases.rows:
        parts = [f"{jax_part[k]:.2f}" if jax_part else "" for k in ("trace", "lower", "compile")]
        print(f"| {name} | {f'{wall:.2f}' if wall else ''} | " + " | ".join(parts) + " |")
        total += wall
    print(f"| **total (after interpreter start)** | {total:.2f} | | | |")


def top_kernels(trace_dir: str, steps: int, top: int) -> None:
    """A ``steps``-step run of the default configuration under ``jax.profiler`` (compiled
    beforehand), then the XLA kernel time of each program and the kernels of a training
    step, summed over devices."""
    config = C.override(C.validate(C.Config()), **{"training.steps": steps})
    experiment.run(config)  # compile outside the trace
    with jax.profiler.trace(trace_dir):
        experiment.run(config)
    files = sorted(pathlib.Path(trace_dir).rglob("*.trace.json.gz"))
    events = json.load(gzip.open(files[-1]))["traceEvents"]
    per: collections.Counter = collections.Counter()
    for e in events:
        module = e.get("args", {}).get("hlo_module")
        if e.get("ph") == "X" and module:
            per[module, e["args"].get("hlo_op", e["name"])] += e.get("dur", 0.0)
    modules: collections.Counter = collections.Counter()
    for (module, _), us in per.items():
        modules[module] += us
    print(f"\nXLA kernel time of a {steps}-step run by program (all devices):")
    print(", ".join(f"{m} {us / 1e3:.1f} ms" for m, us in modules.most_common()))
    loop = {op: us / steps for (module, op), us in per.items() if module == "jit_advance"}
    total = sum(loop.values())
    print(f"\nOne training step: {len(loop)} kernels, {total / 1e3:.2f} ms (all devices)\n")
    print("| kernel (jit_advance) | µs per step | share |")
    print("|---|---|---|")
    for op, us in sorted(loop.items(), key=lambda kv: -kv[1])[:top]:
        print(f"| {op} | {us:.1f} | {us / total:.0%} |")
    kinds: collections.Counter = collections.Counter()
    for op, us in loop.items():
        kinds[op.split(".")[0]] += us
    print("\nby kind: " + ", ".join(f"{k} {v / total:.0%}" for k, v in kinds.most_common(8)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="persistent compilation cache (default: a new one)")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--trace", help="also profile a short training into this folder")
    parser.add_argument("--trace-steps", type=int, default=50)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    jax.monitoring.register_event_duration_secs_listener(_listen)
    phases = run_phases(args)
    print_phases(phases, args.cache_dir or "new (cold)")
    if args.trace:
        top_kernels(args.trace, args.trace_steps, args.top)


if __name__ == "__main__":
    main()
