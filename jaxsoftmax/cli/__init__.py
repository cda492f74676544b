"""The ``jaxsoftmax`` command: ``reproduce``, ``sweep``, ``training-length``, ``derive``.

Each subcommand is CLI → configuration → library → writer; bad input of any kind ends in one
``error:`` line and exit status 2, never a raw traceback. Also ``python -m jaxsoftmax``.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

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

'jaxsoftmax COMMAND --help' for each command's options."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(HELP)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(
            f"error: unknown command {name!r}; expected one of {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    import importlib

    from .. import config as C
    from .. import io
    from .common import UsageError
    from .sweep import SweepError

    try:
        module = importlib.import_module(COMMANDS[name])
        return int(module.main(rest) or 0)
    except (C.ConfigError, io.OutputError, UsageError, SweepError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as err:  # bad input met deeper in the library
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: what was finished is kept; rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
        return int(exc.code or 0) if isinstance(exc.code, int) else 2


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
