"""Times the symbolic pipeline of ``derivations``: Table 1 for general q plus every verdict.

Stages, each timed from a cold start in this process (no on-disk cache; sympy's in-memory
cache and the package's ``functools.cache`` are cleared before every repeat):

  import      sympy and the derivations package
  jacobians   the four activations' Jacobian structures checked against their definitions
  derive      Δ_k for the 9 pairings, general q
  printed     the printed Table 1 cells, one verdict each
  natural     every pairing against the natural Δ_k = z*_k − t_k
  claims      the seeds' other claims (eq. 2–3, Figure 1, the article, the forum)
  hessians    H_kl and the convexity verdict of the nine built-in pairings (issue 11)
  beyond      the pairings beyond the paper: Δ_k, H_kl, convexity (focal, spherical, β)
  render      TABLE1.md regenerated in memory
  definitions with ``--definitions`` (issue 23): every ``jaxsoftmax.list_definitions()`` entry:
              Δ_k, H_kl, the family's convexity verdict and the activation's gradient-field
              (natural-penalty) verdict, from fresh symbolic objects

The target (issue 11): every built-in pairing's derivation plus Hessians, ``builtin`` =
import + jacobians + derive + printed + natural + hessians, under 10 s on a 2-core machine;
the total is printed too. ``--jax`` also times the jitted derived Δ of softmax × least
squares against the hand-written formula it replaced (q = 10, batch 4096, float32).
``--verify Q`` adds (outside the total) the explicit-differentiation check of every Δ_k for
q = 2..Q.

  python experiments/bench_derivations.py [--repeat N] [--verify Q] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))


def _timed(stages: dict, name: str, fn):
    start = time.perf_counter()
    out = fn()
    stages[name] = time.perf_counter() - start
    return out


def run_once(definitions: bool = False) -> dict[str, float]:
    """One cold pass through the pipeline; returns seconds per stage."""
    stages: dict[str, float] = {}
    _timed(stages, "import", lambda: __import__("jaxsoftmax.derivations.render"))
    import sympy

    import jaxsoftmax.derivations as dv
    from jaxsoftmax.derivations import claims, table1

    sympy.core.cache.clear_cache()
    from jaxsoftmax.derivations import render

    for cached in (
        table1.derive_all,
        table1.printed_verdicts,
        claims.natural_pairing,
        claims.all_claims,
        render._hessians,
        render.markdown,
    ):
        cached.cache_clear()
    _timed(stages, "jacobians", lambda: [dv.jacobian_check(a) for a in dv.ACTIVATIONS.values()])
    _timed(stages, "derive", dv.derive_all)
    _timed(stages, "printed", dv.printed_verdicts)
    _timed(stages, "natural", dv.natural_pairing)
    _timed(stages, "claims", dv.all_claims)
    from jaxsoftmax.derivations.beyond import BEYOND_PAPER
    from jaxsoftmax.derivations.hessian import convexity, hessian

    _timed(stages, "hessians", lambda: [convexity(hessian(d)) for d in dv.derive_all()])
    _timed(
        stages,
        "beyond",
        lambda: [convexity(hessian(dv.derive(b.activation, b.penalty))) for b in BEYOND_PAPER],
    )
    _timed(stages, "render", dv.markdown)
    if definitions:
        _timed(stages, "definitions", _all_definitions)
    stages["total"] = sum(stages.values())
    stages["builtin"] = sum(
        stages[k] for k in ("import", "jacobians", "derive", "printed", "natural", "hessians")
    )
    return stages


def _all_definitions() -> int:
    """Δ, H, family convexity and the gradient-field verdict of every registered definition."""
    import jaxsoftmax as js
    from jaxsoftmax.derivations import derive
    from jaxsoftmax.derivations.hessian import convexity, hessian
    from jaxsoftmax.derivations.natural import gradient_field

    n = 0
    for defn in js.list_definitions():
        act, pen = defn.symbolic()  # fresh: not the definition's cached objects
        convexity(hessian(derive(act, pen)))
        gradient_field(act)
        n += 1
    return n


def bench_jax() -> dict[str, float]:
    """Best-of-50 seconds of the jitted derived Δ vs the hand-written one it replaced."""
    import jax
    import jax.numpy as jnp

    import jaxsoftmax as js

    p = js.get_pairing("softmax/least_squares")
    z = jax.random.normal(jax.random.key(0), (4096, 10))
    t = jax.nn.one_hot(jnp.arange(4096) % 10, 10)

    @jax.jit
    def hand(z, t):  # the closed form jaxsoftmax.pairings had before issue 11
        s = jax.nn.softmax(z, axis=-1)
        r = s - t
        return s * (r - jnp.sum(s * r, axis=-1, keepdims=True))

    out = {}
    for name, f in (("derived_delta_s", p.delta), ("hand_written_delta_s", hand)):
        f(z, t).block_until_ready()
        best = float("inf")
        for _ in range(50):
            start = time.perf_counter()
            f(z, t).block_until_ready()
            best = min(best, time.perf_counter() - start)
        out[name] = best
    return out


def verify(q_max: int) -> float:
    """Seconds to check every Δ_k by explicit differentiation for q = 2..q_max (all k)."""
    import jaxsoftmax.derivations as dv

    start = time.perf_counter()
    for d in dv.derive_all():
        for n in range(2, q_max + 1):
            if not dv.verify_at(d.activation, d.penalty, d.delta, n):
                raise AssertionError(f"{d.name} differs from the explicit derivative at q={n}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=1, help="passes (the first includes import)")
    p.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="Q",
        help="also time the explicit check for q = 2..Q (not in the total)",
    )
    p.add_argument("--out", type=pathlib.Path, help="write bench_derivations.json here")
    p.add_argument("--jax", action="store_true", help="also time the jitted derived Δ")
    p.add_argument(
        "--definitions",
        action="store_true",
        help="also time every registered definition (Δ, H, convexity, gradient field)",
    )
    args = p.parse_args(argv)

    runs = [run_once(args.definitions) for _ in range(args.repeat)]
    names = list(runs[0])
    print(
        f"derivations bench: {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, {args.repeat} pass(es)"
    )
    for name in names:
        values = [r[name] for r in runs]
        extra = (
            f"   (median of {len(values)}: {statistics.median(values):.2f} s)"
            if len(values) > 1
            else ""
        )
        print(f"  {name:10s} {values[0]:6.2f} s{extra}")
    result = {
        "stages_s": runs,
        "target_builtin_s": 10.0,
        "within_target": runs[0]["builtin"] < 10.0,
    }
    if args.jax:
        result["jax"] = bench_jax()
        print(
            "  jitted Δ softmax/least_squares (4096 × 10, float32): derived "
            f"{result['jax']['derived_delta_s'] * 1e6:.0f} µs, hand-written "
            f"{result['jax']['hand_written_delta_s'] * 1e6:.0f} µs"
        )
    if args.verify:
        result["verify_q"] = args.verify
        result["verify_s"] = verify(args.verify)
        print(f"  verify q=2..{args.verify} (every pairing, every k): {result['verify_s']:.2f} s")
    print(
        f"built-in derivations + Hessians {runs[0]['builtin']:.2f} s: "
        f"{'under' if result['within_target'] else 'OVER'} the 10 s target "
        f"(everything, with the pairings beyond the paper and the report: "
        f"{runs[0]['total']:.2f} s)"
    )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_derivations.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
