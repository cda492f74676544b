"""What every command shares: configuration flags from the schema, device and cache set-up,
plugins, logging, and turning errors into one clear line (never a raw traceback)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import config as C

log = logging.getLogger("jaxsoftmax")

DEFAULT_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jaxsoftmax" / "xla"
)


class UsageError(Exception):
    """A bad command line or input: printed as one ``error:`` line, exit status 2."""


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


def start(args: argparse.Namespace) -> None:
    """Logging and plugins: the first thing every command does (plugins before the
    configuration is validated, so their pairings are valid in it)."""
    for handler in [h for h in log.handlers if getattr(h, "_jaxsoftmax_cli", False)]:
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)  # the current stderr
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._jaxsoftmax_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "no TPU" noise
    for plugin in args.plugin:
        load_plugin(plugin)


def setup_runtime(args: argparse.Namespace) -> list:
    """The host-device count and the compilation cache, before any JAX computation. Returns
    the devices to use. Called by command entry points only: importing jaxsoftmax sets
    nothing."""
    import jax

    n = args.devices
    if n < 0:
        raise UsageError(f"--devices: expected a count >= 1, got {n}")
    try:  # one XLA host device per core, so the work can be split over the cores
        jax.config.update("jax_num_cpu_devices", n or os.cpu_count() or 1)
    except RuntimeError:  # the backend is already up (e.g. called from a running program)
        pass
    if not args.no_cache:
        cache = Path(args.cache_dir).expanduser()
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"--cache-dir {cache}: cannot create it ({err.strerror})") from None
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    devices = jax.local_devices()
    if n and devices[0].platform != "cpu":
        if n > len(devices):
            raise UsageError(f"--devices: {n} requested, {len(devices)} present")
        devices = devices[:n]
    return devices


def load_plugin(spec: str) -> ModuleType:
    """Imports ``spec``: a path to a ``.py`` file or a dotted module name. Its top level
    registers pairings (``jaxsoftmax.define_pairing``), families, ... which configs may then
    name. The one plugin loader of every command (``python -m jaxsoftmax.derivations`` uses it too).

    Raises :class:`UsageError` (one line, no traceback) when the file is missing, the module
    is not found or importing it fails (naming the line of the plugin that failed).
    """
    path = Path(spec)
    try:
        if spec.endswith(".py") or path.exists():
            if not path.is_file():
                raise UsageError(f"--plugin {spec}: plugin file not found")
            name = f"jaxsoftmax_plugin_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise UsageError(f"--plugin {spec}: cannot load it as a Python module")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except UsageError:
        raise
    except ModuleNotFoundError as err:
        if err.name and spec.startswith(err.name):
            raise UsageError(f"--plugin {spec}: plugin module not found") from None
        raise UsageError(_failure(spec, err)) from None
    except Exception as err:  # a broken plugin: syntax error, exception at import, ...
        raise UsageError(_failure(spec, err)) from None


def _failure(spec: str, err: BaseException) -> str:
    where = ""
    frames = traceback.extract_tb(err.__traceback__)
    if isinstance(err, SyntaxError):
        where = f" (line {err.lineno})"
    elif frames:
        where = f" (line {frames[-1].lineno} of {Path(frames[-1].filename).name})"
    msg = str(err).splitlines()[0] if str(err) else ""
    return f"--plugin {spec}: failed to import{where}: {type(err).__name__}: {msg}"
