"""The ``jaxsoftmax`` command: ``reproduce``, ``sweep``, ``training-length``, ``derive``.

Each subcommand is CLI → configuration → library → writer; bad input of any kind ends in one
``error:`` line and exit status 2, never a raw traceback. Also ``python -m jaxsoftmax``.

Interrupts: SIGINT (Ctrl-C) and SIGTERM end the command with exit status 130 and 143 (128 +
the signal) and one line saying what was kept. The process then ends with ``os._exit`` after
flushing its streams: a normal interpreter shutdown while XLA's compiler threads are still
running (an interrupt during compilation) ended in a segmentation fault (exit 139). Signals
after the first are ignored while the command stops.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn

__all__ = ["entry", "finish", "handle_signals", "main"]

COMMANDS = {
    "reproduce": "jaxsoftmax.cli.reproduce",
    "sweep": "jaxsoftmax.cli.sweep",
    "training-length": "jaxsoftmax.cli.training_length",
    "derive": "jaxsoftmax.derivations.cli",
}
HELP = """usage: jaxsoftmax {reproduce,sweep,training-length,derive} [options]

  reproduce        the paper's experiment (section 4.1): Tables 2-6 beside the paper's
  sweep            a grid of such experiments from a TOML/JSON file; resumable
  training-length  Table 2 and the paired tests after 50 ... 10,000 steps
  derive           Table 1 derived with sympy; a user's pairing derived and checked

  --version        the version of jaxsoftmax

'jaxsoftmax COMMAND --help' for each command's options."""

# What an interrupted command leaves behind, where the command does not say it itself.
KEPT = {
    "reproduce": "nothing was written: it stopped before the run started",
    "sweep": "every chunk finished before the interrupt is kept in the output folder; rerun "
    "the same command to resume",
    "training-length": "nothing was written: training-length writes its files when it has finished",
    "derive": "stopped before it finished; files it writes are written whole or not at all",
}


def handle_signals() -> None:
    """SIGINT and SIGTERM raise :class:`~jaxsoftmax.progress.Interrupted` (see
    :func:`jaxsoftmax.progress.handle_signals`). Installed by :func:`entry` (the console script
    and ``python -m jaxsoftmax``), not on import nor by :func:`main`."""
    from ..progress import handle_signals as handle

    handle()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxsoftmax")
    except PackageNotFoundError:  # a checkout on PYTHONPATH, not installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(HELP)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"jaxsoftmax {_version()}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, [*COMMANDS, "--version", "--help"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(
            f"error: unknown command {name!r}; expected one of {', '.join(COMMANDS)}{hint}",
            file=sys.stderr,
        )
        return 2
    try:
        import importlib

        from .. import config as C
        from ..progress import reset_stop

        reset_stop()
        from .. import io
        from ..runtime import SetupError
        from ..sweeps.store import SweepError
        from .common import UsageError

        errors: tuple[type[Exception], ...] = (
            C.ConfigError,
            io.OutputError,
            UsageError,
            SweepError,
            SetupError,
        )
        module = importlib.import_module(COMMANDS[name])
        try:
            return int(module.main(rest) or 0)
        except errors as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except (ValueError, TypeError, OSError) as err:  # bad input met deeper in the library
            print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
            return 2
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except KeyboardInterrupt as exc:
        from ..progress import acknowledge

        signum = acknowledge(getattr(exc, "signum", signal.SIGINT)) or signal.SIGINT
        kept = getattr(exc, "kept", "") or KEPT.get(name, "nothing was kept")
        print(f"interrupted ({signal.Signals(signum).name}): {kept}", file=sys.stderr, flush=True)
        return 128 + int(signum)


def entry(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point (and the scripts' under ``experiments/``): :func:`main`
    with SIGINT/SIGTERM handled; an interrupted command ends with ``os._exit`` (no
    interpreter shutdown under running XLA threads). Never returns."""
    handle_signals()
    try:
        code = main(argv)
    except KeyboardInterrupt as exc:  # a signal outside main's own handler
        code = 128 + int(getattr(exc, "signum", signal.SIGINT))
    finish(code)


def finish(code: int) -> NoReturn:
    """Ends the process with ``code``: after an interrupt (``code`` >= 128), with
    ``os._exit`` once the streams are flushed, since an interpreter shutdown while XLA's
    threads still compile can end in a segmentation fault; otherwise ``sys.exit``."""
    if code >= 128:
        import logging

        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)
