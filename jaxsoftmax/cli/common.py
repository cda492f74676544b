"""What every command shares: configuration flags from the schema, device and cache set-up,
plugins, logging, and turning errors into one clear line (never a raw traceback)."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
from typing import Any

from .. import config as C
from .. import runtime
from ..runtime import DEFAULT_CACHE

log = logging.getLogger("jaxsoftmax")


class UsageError(Exception):
    """A bad command line or input: printed as one ``error:`` line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose "unrecognized arguments" error suggests the
    nearest flag (``--trails`` → did you mean ``--trials``?), by :mod:`difflib` on every
    Python (argparse's own ``suggest_on_error``, 3.14, covers choices only, not flags)."""

    def error(self, message: str):  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            flags = [f for f in self._option_string_actions if f.startswith("--")]
            hints = []
            for arg in message.split(":", 1)[1].split():
                flag = arg.split("=", 1)[0]
                if not flag.startswith("-"):
                    continue
                close = difflib.get_close_matches(flag, flags, n=1, cutoff=0.6)
                if close:
                    hints.append(f"{flag}: did you mean {close[0]}?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        super().error(message)


def add_config_flags(p: argparse.ArgumentParser, base: C.Config, skip: tuple[str, ...] = ()):
    """One flag per configuration key, named by its dotted key (``--training.steps 300``);
    values are read as JSON (``--estimators '["softmax/cross_entropy"]'``) or kept as text.
    ``--set key=value`` does the same for any key."""
    g = p.add_argument_group("configuration (dotted keys; defaults: the paper's set-up)")
    for key, field in C.KEYS.items():
        if key in skip:
            continue
        default = base.get(key)
        g.add_argument(
            f"--{key}",
            dest=f"cfg:{key}",
            metavar="VALUE",
            default=argparse.SUPPRESS,
            help=f"{field.metadata.get('help', '')} "
            f"(default: {json.dumps(C.to_jsonable(default))})",
        )
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any key, e.g. --set training.learning_rate=0.01",
    )


def config_from_args(args: argparse.Namespace, base: C.Config) -> C.Config:
    """The validated configuration: ``base`` overridden by the flags, then ``--set``."""
    values: dict[str, Any] = {}
    for name, raw in vars(args).items():
        if name.startswith("cfg:"):
            values[name[4:]] = _parse(raw)
    for item in getattr(args, "set", []) or []:
        key, value = C.parse_assignment(item)
        values[key] = value
    return C.from_dict(values, base=base)


def _parse(raw: str) -> Any:
    return C.parse_value(raw)


def add_common_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress or messages, only errors")
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import a module or .py file first (its pairings, families ...)",
    )
    p.add_argument(
        "--devices",
        type=int,
        default=0,
        help="on a CPU, the XLA host devices to split the work over "
        "(default: one per core); elsewhere, use the first N devices",
    )
    p.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE),
        help=f"persistent XLA compilation cache (default {DEFAULT_CACHE})",
    )
    p.add_argument("--no-cache", action="store_true", help="no persistent compilation cache")


def start(args: argparse.Namespace, first_line: str = "") -> None:
    """Logging and plugins: the first thing every command does (plugins before the
    configuration is validated, so their pairings are valid in it). ``first_line`` is logged
    before anything imports JAX (seconds): the user sees at once that the command started."""
    for handler in [h for h in log.handlers if getattr(h, "_jaxsoftmax_cli", False)]:
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)  # the current stderr
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._jaxsoftmax_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "no TPU" noise
    if first_line:
        log.info("%s", first_line)
    for plugin in args.plugin:
        load_plugin(plugin)


def setup_runtime(args: argparse.Namespace) -> list:
    """The host-device count and the compilation cache, before any JAX computation
    (:func:`jaxsoftmax.runtime.setup`). Returns the devices to use."""
    return runtime.setup(args.devices, None if args.no_cache else args.cache_dir)


load_plugin = runtime.load_plugin
