"""Benchmark: jaxsoftmax primitives against jax.nn / optax on large float32 arrays.

Prints, for softmax, log_softmax and the from-logits cross-entropy (value and gradient):
the time of ours and theirs (median of repeats, after compilation), the ratio ours / theirs,
and the achieved memory bandwidth as a fraction of a jitted elementwise scale ``x * s`` of the
same array (``s`` passed at run time, so XLA cannot fold it into a copy), all in one run.

    python experiments/bench_primitives.py                 # 4096 x 8192 float32
    python experiments/bench_primitives.py --rows 512 --cols 1024 --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import optax

import jaxsoftmax as js


def timeit(fn, *args, repeats: int) -> float:
    """Median wall time of ``fn(*args)`` in seconds, compilation excluded."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ce_value_and_grad(loss):
    return jax.jit(jax.value_and_grad(lambda z, t: jnp.sum(loss(z, t))))


def ce_grad(loss):
    return jax.jit(jax.grad(lambda z, t: jnp.sum(loss(z, t))))


def run(rows: int, cols: int, repeats: int) -> dict:
    kx, kt = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (rows, cols), jnp.float32) * 4
    t = jax.nn.softmax(jax.random.normal(kt, (rows, cols), jnp.float32))
    scale = jnp.float32(1.0001)
    nbytes = x.size * x.dtype.itemsize

    t_scale = timeit(jax.jit(lambda a, s: a * s), x, scale, repeats=repeats)
    ref_bw = 2 * nbytes / t_scale  # one read, one write

    cases = {
        # name: (ours, theirs, args, bytes moved at the minimum)
        "softmax": (jax.jit(js.softmax), jax.jit(jax.nn.softmax), (x,), 2 * nbytes),
        "log_softmax": (jax.jit(js.log_softmax), jax.jit(jax.nn.log_softmax), (x,), 2 * nbytes),
        # ρ_c value + ∂ρ_c/∂z: read z and t, write the gradient.
        "cross_entropy value+grad": (
            ce_value_and_grad(js.softmax_cross_entropy_from_logits),
            ce_value_and_grad(optax.losses.softmax_cross_entropy),
            (x, t),
            3 * nbytes,
        ),
        # The gradient alone: the paper's Σ t log t term (absent from optax) drops out here.
        "cross_entropy grad": (
            ce_grad(js.softmax_cross_entropy_from_logits),
            ce_grad(optax.losses.softmax_cross_entropy),
            (x, t),
            3 * nbytes,
        ),
    }
    results = {
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()}), "
        f"{jax.devices()[0].device_kind}",
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "shape": [rows, cols],
        "dtype": "float32",
        "scale_ms": t_scale * 1e3,
        "scale_GBps": ref_bw / 1e9,
        "cases": {},
    }
    for name, (ours, theirs, args, moved) in cases.items():
        t_ours = timeit(ours, *args, repeats=repeats)
        t_theirs = timeit(theirs, *args, repeats=repeats)
        results["cases"][name] = {
            "ours_ms": t_ours * 1e3,
            "theirs_ms": t_theirs * 1e3,
            "ratio": t_ours / t_theirs,
            "ours_bw_fraction": moved / t_ours / ref_bw,
            "theirs_bw_fraction": moved / t_theirs / ref_bw,
        }
    return results


def report(results: dict) -> str:
    lines = [
        f"jaxsoftmax primitives, {results['shape'][0]} x {results['shape'][1]} "
        f"{results['dtype']} on {results['backend']} ({results['machine']}), jax {results['jax']}",
        f"reference x * s: {results['scale_ms']:.2f} ms = {results['scale_GBps']:.1f} GB/s",
        "",
        "| primitive | ours (ms) | theirs (ms) | ratio ours/theirs | ours % of x*s bandwidth "
        "| theirs % |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in results["cases"].items():
        lines.append(
            f"| {name} | {c['ours_ms']:.2f} | {c['theirs_ms']:.2f} | {c['ratio']:.3f} | "
            f"{100 * c['ours_bw_fraction']:.0f}% | {100 * c['theirs_bw_fraction']:.0f}% |"
        )
    lines.append("")
    lines.append("theirs: jax.nn.softmax, jax.nn.log_softmax, optax.losses.softmax_cross_entropy")
    lines.append(
        "ours computes the paper's rho_c = sum t log(t/z*), which includes sum t log t (one more "
        "log per element); optax's value omits that term, so compare gradients for like with like."
    )
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--cols", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if min(args.rows, args.cols, args.repeats) < 1:
        parser.error("--rows, --cols and --repeats must be positive")
    results = run(args.rows, args.cols, args.repeats)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
