"""Where a number comes from: digests of the source files that compute it.

Used by a sweep folder's identity (:func:`jaxsoftmax.sweeps.identity`) and by the cache of
traced programs (:mod:`jaxsoftmax.experiment`): a changed definition, plugin or engine module
gives a different digest, so neither a folder nor a cached program is reused for it.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "ENGINE_MODULES",
    "definition_sources",
    "engine_sources",
    "family_sources",
    "sources_digest",
]

# The modules whose source computes a sweep's numbers (definitions' own files are added per
# pairing: a plugin's file, the symbolic definitions).
ENGINE_MODULES = (
    "jaxsoftmax.activations",
    "jaxsoftmax.penalties",
    "jaxsoftmax.pairings",
    "jaxsoftmax.definitions",
    "jaxsoftmax.mlp",
    "jaxsoftmax.train",
    "jaxsoftmax.gaussians",
    "jaxsoftmax.experiment",
    "jaxsoftmax.config",
    "jaxsoftmax.problems",
    "jaxsoftmax.metrics",
    "jaxsoftmax.datasets",
    "jaxsoftmax.expfamily._base",
    "jaxsoftmax.expfamily._constraints",
    "jaxsoftmax.expfamily._continuous",
    "jaxsoftmax.expfamily._counts",
    "jaxsoftmax.expfamily._discrete",
    "jaxsoftmax.expfamily._gaussian",
    "jaxsoftmax.expfamily._posterior",
    "jaxsoftmax.expfamily._priors",
    "jaxsoftmax.expfamily._quadratic",
)


_DIGESTS: dict[tuple, str] = {}


def _file_digest(path: str | None) -> str:
    """The file's content digest, kept per (path, modification time, size): a sweep asks for
    the same files' digests at every chunk, and a file edited meanwhile is read again."""
    if not path:
        return "unknown"
    try:
        st = Path(path).stat()
        key = (path, st.st_mtime_ns, st.st_size)
        if key not in _DIGESTS:
            _DIGESTS[key] = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
        return _DIGESTS[key]
    except OSError:
        return "unreadable"


def _module_file(name: str) -> str | None:
    """The source file of module ``name`` (``derivations.x`` also found as
    ``jaxsoftmax.derivations.x``); None when it is not importable."""
    import importlib

    names = (f"jaxsoftmax.{name}", name) if name.startswith("derivations") else (name,)
    for candidate in names:
        try:
            return getattr(importlib.import_module(candidate), "__file__", None)
        except ImportError:
            continue
    return None


_LIBRARY_PATHS = tuple(
    str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if p
)


def _sources(roots: Iterable[Any]) -> set[str]:
    """The source files of ``roots``' functions and of everything they close over (a user's
    lambda inside a symbolic definition, a factory's closure, a dataclass's callables), down
    to a few levels; third-party and standard-library files are left to the versions."""
    import dataclasses
    import inspect

    files: set[str] = set()
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if obj is None or depth > 8 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, functools.partial):
            walk(obj.func, depth + 1)
            for x in (*obj.args, *obj.keywords.values()):
                walk(x, depth + 1)
        elif inspect.isfunction(obj) or inspect.ismethod(obj):
            fn = getattr(obj, "__func__", obj)
            try:
                f = inspect.getsourcefile(fn)
            except TypeError:
                f = None
            if f:
                path = str(Path(f).resolve())
                own = "jaxsoftmax" in path or "derivations" in path
                if own or not path.startswith(_LIBRARY_PATHS):
                    files.add(f)
            for cell in fn.__closure__ or ():
                try:
                    walk(cell.cell_contents, depth + 1)
                except ValueError:  # an empty cell
                    pass
            walk(getattr(fn, "__wrapped__", None), depth + 1)
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for field in dataclasses.fields(obj):
                walk(getattr(obj, field.name, None), depth + 1)
        elif isinstance(obj, (tuple, list)):
            for x in obj:
                walk(x, depth + 1)

    for root in roots:
        walk(root, 0)
    return files


def _short(path: str) -> str:
    """``path`` relative to the first ``sys.path`` entry that holds it (the same name on every
    machine that imports the file from its own installation)."""
    return _short_in(path, tuple(sys.path))


@functools.lru_cache(maxsize=4096)
def _short_in(path: str, search: tuple[str, ...]) -> str:
    p = Path(path).resolve()
    for root in map(Path, search):
        try:
            return str(p.relative_to(root.resolve()))
        except (ValueError, OSError):
            continue
    return str(p)


def definition_sources(name: str) -> dict[str, str]:
    """``{file: digest}`` of the files that define pairing ``name`` (its activation, loss,
    symbolic definition and their factories: a plugin's own file for a user's pairing)."""
    from .pairings import get_pairing

    p = get_pairing(name)
    d = p.definition
    roots: list[Any] = [p.activate, p.loss, d]
    if d is not None and (d.activate is None or d.loss is None):
        # Generated from the symbolic definition (training uses activate and loss only):
        # the user's sympy expressions are part of the numbers.
        roots.append(d.symbolic())
    files = _sources(roots)
    if d is not None and (d.activate is None or d.loss is None):
        files.add(str(_module_file("derivations.to_jax")))  # sympy -> JAX
    return {_short(f): _file_digest(f) for f in sorted(files)}


def family_sources() -> set[str]:
    """The source files of the families a plugin registered
    (:func:`jaxsoftmax.problems.register_family`): their constructors and default class
    parameters, whose code computes a problem's numbers as the engine's does."""
    import inspect

    from .problems import FAMILIES

    files: set[str] = set()
    for entry in FAMILIES.values():
        for obj in (entry.make, entry.class_params):
            if obj is None or getattr(obj, "__module__", "").startswith("jaxsoftmax."):
                continue
            try:
                f = inspect.getsourcefile(obj)
            except TypeError:
                f = None
            files |= {f} if f else _sources([obj])
    return files


def engine_sources() -> dict[str, str]:
    """``{file: digest}`` of :data:`ENGINE_MODULES` and of the families plugins registered
    (:func:`family_sources`)."""
    files = [f for f in map(_module_file, ENGINE_MODULES) if f]
    files += sorted(family_sources() - set(files))
    return {_short(f): _file_digest(f) for f in files}


def sources_digest(estimators: Iterable[str]) -> str:
    """One digest of the engine's and ``estimators``' definitions' sources."""
    import json

    data = {
        "engine": engine_sources(),
        "definitions": {n: definition_sources(n) for n in estimators},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
