"""The process's JAX runtime (device count, persistent compilation cache) and plugins: set up
by a command's entry point or a cluster worker before its first JAX computation, never on
import."""

from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["DEFAULT_CACHE", "SetupError", "ahead", "load_plugin", "setup"]

DEFAULT_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jaxsoftmax" / "xla"
)


class SetupError(ValueError):
    """A device count, cache folder or plugin that cannot be used (one line, why)."""


def setup(devices: int = 0, cache_dir: str | None = None) -> list:
    """The host-device count (``devices``; 0: one per core) and the compilation cache
    (``cache_dir``; None: off), before any JAX computation. Returns the devices to use.
    Called by command entry points and cluster workers only: importing jaxsoftmax sets
    nothing."""
    import jax

    n = devices
    if n < 0:
        raise SetupError(f"--devices: expected a count >= 1, got {n}")
    try:  # one XLA host device per core, so the work can be split over the cores
        jax.config.update("jax_num_cpu_devices", n or os.cpu_count() or 1)
    except RuntimeError:  # the backend is already up (e.g. called from a running program)
        pass
    if cache_dir is not None:
        cache = Path(cache_dir).expanduser()
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SetupError(f"--cache-dir {cache}: cannot create it ({err.strerror})") from None
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    found = jax.local_devices()
    if n and found[0].platform != "cpu":
        if n > len(found):
            raise SetupError(f"--devices: {n} requested, {len(found)} present")
        found = found[:n]
    return found


def load_plugin(spec: str) -> ModuleType:
    """Imports ``spec``: a path to a ``.py`` file or a dotted module name. Its top level
    registers pairings (``jaxsoftmax.define_pairing``), families, ... which configs may then
    name. The one plugin loader of every command (``python -m jaxsoftmax.derivations`` uses it too).

    Raises :class:`SetupError` (one line, no traceback) when the file is missing, the module
    is not found or importing it fails (naming the line of the plugin that failed).
    """
    path = Path(spec)
    try:
        if spec.endswith(".py") or path.exists():
            if not path.is_file():
                raise SetupError(f"--plugin {spec}: plugin file not found")
            name = f"jaxsoftmax_plugin_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise SetupError(f"--plugin {spec}: cannot load it as a Python module")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except SetupError:
        raise
    except ModuleNotFoundError as err:
        if err.name and spec.startswith(err.name):
            raise SetupError(f"--plugin {spec}: plugin module not found") from None
        raise SetupError(_failure(spec, err)) from None
    except Exception as err:  # a broken plugin: syntax error, exception at import, ...
        raise SetupError(_failure(spec, err)) from None


def _failure(spec: str, err: BaseException) -> str:
    where = ""
    frames = traceback.extract_tb(err.__traceback__)
    if isinstance(err, SyntaxError):
        where = f" (line {err.lineno})"
    elif frames:
        where = f" (line {frames[-1].lineno} of {Path(frames[-1].filename).name})"
    msg = str(err).splitlines()[0] if str(err) else ""
    return f"--plugin {spec}: failed to import{where}: {type(err).__name__}: {msg}"


def ahead(fn: Callable[..., Any], /, *args: Any) -> concurrent.futures.Future:
    """Starts ``fn(*args)`` in a background (daemon) thread and returns its future at once.

    For the work after a computation that does not depend on it (importing scipy.stats or
    matplotlib, drawing a figure that needs no results), done while the devices compute:
    XLA releases the GIL while it runs, so on an accelerator this time is free, and on a
    CPU it fills the gaps between the device's threads. ``future.result()`` returns the
    value or raises what ``fn`` raised. A daemon thread: an interrupted command does not
    wait for it."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # handed to whoever asks for the result
            future.set_exception(err)

    name = getattr(fn, "__name__", "work")
    threading.Thread(target=work, name=f"jaxsoftmax-ahead-{name}", daemon=True).start()
    return future
