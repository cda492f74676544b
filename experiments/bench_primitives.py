"""Benchmark: jaxsoftmax primitives against jax.nn / optax, eager and jitted, side by side.

For each primitive it times ours and the peer (``jax.nn`` or ``optax.losses``, or their
obvious composition where neither has the function) on float32 input of each size, eager
(the function called as it stands, op-by-op dispatch and per-call Python checks included)
and jitted (inside ``jax.jit``), value and value + gradient. Ours and the peer are timed in
the same run, interleaved (ours, peer, ours, peer, ...), and the ratio is median(ours) /
median(peer); small calls are timed in batches of several calls per sample.

    python experiments/bench_primitives.py              # 128 x 10 and 2048 x 8192
    python experiments/bench_primitives.py --quick      # smoke test: small sizes, 3 repeats
    python experiments/bench_primitives.py --sizes 512x1024 --repeats 9 --json out.json

Inputs: logits z = s·N(0, 1) for each ``--scales`` s (default 1 and 4) and soft targets
softmax(N(0, 1)). The scale matters to the log-space functions only: at s = 4 and 8192
classes about a fifth of the rows are dominated by one logit (Σ_j e^{z_j − max z} < 2), where
``logsumexp``, ``log_softmax`` and the cross-entropy take their log1p pass to keep the small
terms (``jaxsoftmax.activations._log_norm``); at s = 1 no row is. "value+grad" is
``jax.value_and_grad`` of Σ w·f(z) for activations (w a fixed N(0, 1) array: the gradient of
Σ softmax(z) is identically 0, which XLA may simplify differently for the two) and of
Σ ρ(z, t) for penalties.

The value of ``softmax_cross_entropy_from_logits`` is the paper's ρ_c = Σ t log(t / z*), which
includes Σ t log t (one more log per element than optax's −Σ t log z*); it is fused into the
same pass, so the comparison is of the functions as shipped.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib
import platform
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: time this checkout's jaxsoftmax
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import jaxsoftmax as js  # noqa: E402


def _sum_loss(loss):
    return lambda z, t: jnp.sum(loss(z, t))


def _peer_logistic_ce(z, t):
    # −Σ t log σ(z) + Σ t log t: the paper's ρ_c(σ(z), t), composed from jax.nn / jax.scipy.
    return jnp.sum(jax.scipy.special.xlogy(t, t) - t * jax.nn.log_sigmoid(z), -1)


def _peer_bernoulli(z, t):
    # optax's sigmoid BCE is −t log σ − (1 − t) log(1 − σ); add the target entropy for ρ_b.
    ent = jax.scipy.special.xlogy(t, t) + jax.scipy.special.xlogy(1 - t, 1 - t)
    return jnp.sum(optax.losses.sigmoid_binary_cross_entropy(z, t) + ent, -1)


# name: (ours, peer, takes targets)
CASES = {
    "softmax": (js.softmax, jax.nn.softmax, False),
    "log_softmax": (js.log_softmax, jax.nn.log_softmax, False),
    "logsumexp": (js.logsumexp, lambda z: jax.nn.logsumexp(z, axis=-1), False),
    "logistic": (js.logistic, jax.nn.sigmoid, False),
    "softmax_cross_entropy_from_logits": (
        js.softmax_cross_entropy_from_logits,
        optax.losses.softmax_cross_entropy,
        True,
    ),
    "softmax_least_squares_from_logits": (
        js.softmax_least_squares_from_logits,
        lambda z, t: 0.5 * jnp.sum(jnp.square(t - jax.nn.softmax(z)), -1),
        True,
    ),
    "logistic_cross_entropy_from_logits": (
        js.logistic_cross_entropy_from_logits,
        _peer_logistic_ce,
        True,
    ),
    "logistic_bernoulli_cross_entropy_from_logits": (
        js.logistic_bernoulli_cross_entropy_from_logits,
        _peer_bernoulli,
        True,
    ),
    "logistic_least_squares_from_logits": (
        js.logistic_least_squares_from_logits,
        lambda z, t: 0.5 * jnp.sum(jnp.square(t - jax.nn.sigmoid(z)), -1),
        True,
    ),
}
PEERS = {
    "softmax": "jax.nn.softmax",
    "log_softmax": "jax.nn.log_softmax",
    "logsumexp": "jax.nn.logsumexp(axis=-1)",
    "logistic": "jax.nn.sigmoid",
    "softmax_cross_entropy_from_logits": "optax.losses.softmax_cross_entropy",
    "softmax_least_squares_from_logits": "½Σ(t − jax.nn.softmax(z))²",
    "logistic_cross_entropy_from_logits": "Σ xlogy(t, t) − t·jax.nn.log_sigmoid(z)",
    "logistic_bernoulli_cross_entropy_from_logits": "optax sigmoid_binary_cross_entropy + H(t)",
    "logistic_least_squares_from_logits": "½Σ(t − jax.nn.sigmoid(z))²",
}


def variants(fn, takes_targets: bool, mode: str, what: str):
    """The callable to time: (args) -> output, for mode eager/jit and what value/value+grad.
    Activations take (z, w) for value+grad (w: the cotangent weights), (z,) for value."""
    if what == "value":
        f = fn
    elif takes_targets:
        f = jax.value_and_grad(_sum_loss(fn))
    else:
        f = jax.value_and_grad(lambda z, w: jnp.sum(fn(z) * w))
    return jax.jit(f) if mode == "jit" else f


def _sample(fn, args, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / number


def compare(ours, peer, args, repeats: int) -> tuple[float, float]:
    """Interleaved medians (seconds per call) of ours and the peer."""
    jax.block_until_ready(ours(*args))  # compile / warm caches
    jax.block_until_ready(peer(*args))
    once = max(_sample(ours, args, 1), _sample(peer, args, 1))
    number = max(1, min(200, int(2e-3 / max(once, 1e-7))))  # ≥ ~2 ms per sample
    t_ours, t_peer = [], []
    for i in range(repeats):
        pair = [(ours, t_ours), (peer, t_peer)]
        for fn, acc in pair if i % 2 == 0 else pair[::-1]:
            acc.append(_sample(fn, args, number))
    return statistics.median(t_ours), statistics.median(t_peer)


def run(sizes, repeats: int, names=None, scales=(1.0, 4.0)) -> dict:
    results = {
        "jaxsoftmax": js.__file__,
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()}), "
        f"{jax.devices()[0].device_kind}, {jax.device_count()} device(s)",
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "optax": optax.__version__,
        "dtype": "float32",
        "repeats": repeats,
        "rows": [],
    }
    for (rows, cols), scale in itertools.product(sizes, scales):
        kx, kt, kw = jax.random.split(jax.random.key(0), 3)
        x = jax.random.normal(kx, (rows, cols), jnp.float32) * scale
        t = jax.nn.softmax(jax.random.normal(kt, (rows, cols), jnp.float32))
        w = jax.random.normal(kw, (rows, cols), jnp.float32)
        dominated = float(jnp.mean(jnp.sum(jnp.exp(x - x.max(-1, keepdims=True)), -1) < 2))
        for name, (ours_fn, peer_fn, takes_targets) in CASES.items():
            if names and name not in names:
                continue
            for what in ("value", "value+grad"):
                if takes_targets:
                    args = (x, t)
                elif what == "value":
                    args = (x,)
                else:  # cotangent weights of the output's shape (logsumexp: one per row)
                    args = (x, w if jax.eval_shape(ours_fn, x).shape == w.shape else w[:, 0])
                for mode in ("eager", "jit"):
                    ours = variants(ours_fn, takes_targets, mode, what)
                    peer = variants(peer_fn, takes_targets, mode, what)
                    t_o, t_p = compare(ours, peer, args, repeats)
                    results["rows"].append(
                        {
                            "name": name,
                            "shape": [rows, cols],
                            "scale": scale,
                            "dominated_rows": dominated,
                            "mode": mode,
                            "what": what,
                            "ours_ms": t_o * 1e3,
                            "peer_ms": t_p * 1e3,
                            "ratio": t_o / t_p,
                        }
                    )
    return results


def report(results: dict) -> str:
    lines = [
        f"jaxsoftmax primitives vs jax.nn / optax, {results['dtype']}, "
        f"{results['backend']} ({results['machine']}), jax {results['jax']}, "
        f"optax {results['optax']}; interleaved medians of {results['repeats']} samples",
        f"jaxsoftmax from {results['jaxsoftmax']}",
        "",
        "| primitive | shape | z scale (dominated rows) | mode | value / +grad | ours (ms) | "
        "peer (ms) | ours ÷ peer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['name']} | {r['shape'][0]}×{r['shape'][1]} | {r['scale']:g} "
            f"({r['dominated_rows']:.0%}) | {r['mode']} | {r['what']} | "
            f"{r['ours_ms']:.4f} | {r['peer_ms']:.4f} | {r['ratio']:.2f} |"
        )
    lines.append("")
    lines.append("peers: " + "; ".join(f"{k}: {v}" for k, v in PEERS.items()))
    return "\n".join(lines)


def _size(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is ROWSxCOLS, got {text!r}") from None
    if rows < 1 or cols < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return rows, cols


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_size, nargs="+", default=[(128, 10), (2048, 8192)])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--scales", type=float, nargs="+", default=[1.0, 4.0], help="logits are scale·N(0, 1)"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="primitives to time")
    parser.add_argument("--quick", action="store_true", help="smoke test: small sizes, 3 repeats")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be positive")
    sizes, repeats = args.sizes, args.repeats
    if args.quick:
        sizes, repeats = [(16, 10), (64, 256)], 3
    results = run(sizes, repeats, args.only, tuple(args.scales))
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
