r"""The command line: ``python -m jaxsoftmax.derivations`` (its logic is :func:`main`, callable from
another CLI).

Without arguments it derives the paper's Table 1, the Hessians and convexity verdicts, the
pairings beyond the paper and the seeds' other claims, and prints the report; it writes
nothing unless asked:

* ``--out PATH`` writes the Markdown report to PATH (never into the installed package);
* ``--write-table1`` (developers, in a checkout) rewrites the checked-in
  ``derivations/TABLE1.md``; ``--check`` exits 1 when that file (or ``--out``) is stale.

For a user's own pairing, ``--plugin`` names a Python file or an importable module that
defines pairings with ``jaxsoftmax.define_pairing`` (or holds ``PairingDefinition`` objects),
and ``--pairing NAME`` names registered ones (``"softmax(beta=2)/focal(gamma=0.5)"``); each is
derived, compared with the natural Δ_k = z*_k − t_k, given its Hessian and convexity verdict,
and checked against JAX autodiff (``jaxsoftmax.check_pairing``; ``--no-jax-check`` skips it).
Exit status: 0 on success, 1 when a check fails (or TABLE1.md is stale), 2 on bad input (a
missing file, a module that fails to import, an unknown pairing name), reported on one line.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
import time

__all__ = ["UsageError", "load_plugin", "main"]


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    from . import TABLE1_PATH

    p = argparse.ArgumentParser(
        prog="python -m jaxsoftmax.derivations",
        description="Derive, check and report activation × penalty pairings (sympy + JAX).",
    )
    p.add_argument("--out", type=pathlib.Path, help="write the Markdown report to this path")
    p.add_argument(
        "--write-table1",
        action="store_true",
        help=f"developers: rewrite the checked-in {TABLE1_PATH.name} ({TABLE1_PATH})",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help=f"write nothing; exit 1 if the Markdown at --out (default {TABLE1_PATH.name}) "
        "is missing or stale",
    )
    p.add_argument("--latex", action="store_true", help="also print each Δ_k as LaTeX")
    p.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="Q",
        help="also check every Δ_k by explicit differentiation for q = 2..Q",
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="FILE_OR_MODULE",
        help="a .py file or module defining pairings (jaxsoftmax.define_pairing); repeatable",
    )
    p.add_argument(
        "--pairing",
        action="append",
        default=[],
        metavar="NAME",
        help="a registered pairing to report, e.g. 'softmax(beta=2)/focal(gamma=0.5)'",
    )
    p.add_argument(
        "--no-jax-check", action="store_true", help="skip the check against JAX autodiff"
    )
    p.add_argument("--quiet", action="store_true", help="print no report")
    return p


def load_plugin(spec: str):
    """Imports a plugin: a path to a ``.py`` file, or a dotted module name, with the one
    loader of every command (:func:`jaxsoftmax.cli.common.load_plugin`).

    Raises :class:`UsageError` (one line) when the file is missing or the module fails.
    """
    from jaxsoftmax.cli import common  # lazy: derivations imports no JAX at module level
    from jaxsoftmax.runtime import SetupError

    try:
        return common.load_plugin(spec)
    except (common.UsageError, SetupError) as err:
        raise UsageError(str(err)) from None


def _plugin_pairings(specs, names):
    """The pairings to report: definitions a plugin registered or holds, and named ones."""
    import jaxsoftmax as js
    from jaxsoftmax.definitions import PairingDefinition

    chosen = []
    for spec in specs:  # loaded first, so that --pairing can name what they register
        before = set(map(id, js.list_definitions()))
        module = load_plugin(spec)
        found = [d for d in js.list_definitions() if id(d) not in before]
        found += [
            v
            for v in vars(module).values()
            if isinstance(v, PairingDefinition) and all(v is not f for f in found)
        ]
        found += [v for v in vars(module).values() if isinstance(v, js.Pairing)]
        if not found:
            raise UsageError(
                f"plugin {spec} defines no pairing (call jaxsoftmax.define_pairing, or "
                "keep a PairingDefinition at module level)"
            )
        chosen += found
    if names:
        chosen = []  # the named pairings only
    for name in names:
        try:
            chosen.append(js.get_pairing(name))
        except ValueError as err:
            raise UsageError(str(err)) from None
    out = []
    for item in chosen:
        if isinstance(item, PairingDefinition):
            if any(p.default is None for p in item.params):
                out.append(item)  # a family without values: symbolic report, no JAX check
                continue
            item = item()
        out.append(item)
    return out


def _report_pairings(args) -> tuple[str, bool]:
    import jaxsoftmax as js

    from .render import pairing_report

    sections, ok = ["# Pairing report", ""], True
    for item in _plugin_pairings(args.plugin, args.pairing):
        if isinstance(item, js.Pairing) and item.definition is None:
            raise UsageError(f"{item.name} has no symbolic definition (registered by hand)")
        check = None
        if isinstance(item, js.Pairing) and not args.no_jax_check:
            check = js.check_pairing(item, raise_on_failure=False)
            ok = ok and check.ok
        sections.append(pairing_report(item, check=check))
    return "\n".join(sections), ok


def _run(args) -> int:
    from . import TABLE1_PATH

    start = time.perf_counter()
    if args.plugin or args.pairing:
        report, ok = _report_pairings(args)
        if args.out:
            _write(args.out, report)
            print(f"wrote {args.out} ({time.perf_counter() - start:.1f} s)")
        elif not args.quiet:
            print(report)
        return 0 if ok else 1

    from .render import markdown, text_report

    md = markdown() if (args.check or args.out or args.write_table1) else None
    if args.check:
        target = args.out or TABLE1_PATH
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != md:
            state = "missing" if current is None else "out of date"
            print(
                f"{target} is {state}; regenerate it with `python -m jaxsoftmax.derivations "
                + ("--write-table1`" if args.out is None else f"--out {target}`"),
                file=sys.stderr,
            )
            return 1
        print(f"{target} is up to date")
        return 0
    if not args.quiet:
        print(text_report(with_latex=args.latex))
    if args.verify:
        from .concrete import verify_at
        from .table1 import derive_all

        for d in derive_all():
            each = [
                verify_at(d.activation, d.penalty, d.delta, n) for n in range(2, args.verify + 1)
            ]
            print(
                f"{d.name:34s} explicit q = 2..{args.verify}: "
                + ("all equal" if all(each) else f"MISMATCH {each}")
            )
    for target in [args.out] * bool(args.out) + [TABLE1_PATH] * args.write_table1:
        assert md is not None  # computed above when there is a target
        _write(target, md)
        print(f"wrote {target} ({time.perf_counter() - start:.1f} s)")
    return 0


def _write(path: pathlib.Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def main(argv: list[str] | None = None) -> int:
    """Runs the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status (0 ok, 1 a check failed or TABLE1.md is stale, 2 bad input, reported on one line
    of stderr without a traceback)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse prints its own usage line
        return int(exit_.code or 0)
    try:
        with contextlib.ExitStack():
            return _run(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
