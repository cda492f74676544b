"""Files: the one place the project writes them (atomic, world-readable) and turns arrays into
JSON. Used by the command-line programs (:mod:`jaxsoftmax.cli`); the library proper writes
nothing.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OutputError", "metadata", "out_folder", "to_jsonable", "write_json", "write_text"]

FILE_MODE = 0o644


class OutputError(ValueError):
    """An output path that cannot be used (names the path and why)."""


def out_folder(path: str | Path) -> Path:
    """Creates the output folder ``path`` (and its parents); refuses a path that is a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {path}: is a file, not a folder; give a folder path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"--out {path}: cannot create it ({err.strerror or err})") from None
    return path


def _atomic(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Writes ``text`` to ``path`` through a temporary file and a rename: never a partial
    file, mode 0644."""
    _atomic(Path(path), lambda f: f.write(text.encode()))
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """:func:`write_text` for bytes (figures)."""
    _atomic(Path(path), lambda f: f.write(data))
    return Path(path)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data from nested dicts, lists, NumPy/JAX arrays and scalars; non-finite
    floats become ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return [to_jsonable(v) for v in arr]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(path: str | Path, obj: Any, *, indent: int | None = 1) -> Path:
    """:func:`to_jsonable` then :func:`write_text`."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n")


def metadata() -> dict:
    """Versions and the machine: what a result needs to be traced back."""
    import jax

    from . import __version__

    dev = jax.devices()[0]
    return {
        "jax": jax.__version__,
        "jaxsoftmax": __version__,
        "python": platform.python_version(),
        "device": f"{dev.platform} ({dev.device_kind}) x {jax.device_count()}, "
        f"{platform.machine()}, {os.cpu_count()} cores",
    }
