"""``python -m derivations``: the derived Table 1 beside the printed one, and TABLE1.md.

Prints the derived Δ_k of every pairing, the paper's printed cells with sympy's verdicts, and
the other claims; writes the same as Markdown with LaTeX to ``derivations/TABLE1.md`` (or
``--out PATH``). ``--check`` writes nothing and exits 1 when the file is out of date.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from . import TABLE1_PATH
from .concrete import verify_at
from .render import markdown, text_report
from .table1 import derive_all


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m derivations", description=__doc__.splitlines()[0])
    p.add_argument(
        "--out",
        type=pathlib.Path,
        default=TABLE1_PATH,
        help=f"where to write the Markdown (default: {TABLE1_PATH})",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the Markdown at --out is missing or stale",
    )
    p.add_argument("--latex", action="store_true", help="also print each Δ_k as LaTeX")
    p.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="Q",
        help="also check every Δ_k by explicit differentiation for q = 2..Q",
    )
    p.add_argument("--quiet", action="store_true", help="print no report")
    return p


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    md = markdown()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != md:
            state = "missing" if current is None else "out of date"
            print(
                f"{args.out} is {state}; regenerate it with `python -m derivations`",
                file=sys.stderr,
            )
            return 1
        print(f"{args.out} is up to date")
        return 0
    if not args.quiet:
        print(text_report(with_latex=args.latex))
    if args.verify:
        for d in derive_all():
            ok = [verify_at(d.activation, d.penalty, d.delta, n) for n in range(2, args.verify + 1)]
            print(
                f"{d.name:34s} explicit q = 2..{args.verify}: "
                + ("all equal" if all(ok) else f"MISMATCH {ok}")
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md, encoding="utf-8")
    print(f"wrote {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
