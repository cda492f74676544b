r"""Sweeps: a grid of Dunne & Campbell (1997, section 4.1) experiments, described and planned.

A *sweep* asks how the pairings behave as the problem or the training changes. It is described
by a plain mapping (from TOML or JSON, see :func:`load_config`), validated up front by
:func:`parse_config`, and planned here; :mod:`jaxsoftmax.sweep_run` computes it. Everything in
this module is pure Python (no JAX), except :func:`load_config`, which reads a file.

The description::

    name = "n_per_class"          # a label for reports
    seed = 0                      # trial keys are fold_in(fold_in(key(seed), cell), trial)
    trials = 30                   # independent trials per cell
    pairings = ["softmax/cross_entropy", "softmax/least_squares"]   # any registered
    n_test_per_class = 500        # test observations per class for eq. (4) and error rates
    init_scale = 1.0              # initial weights uniform(-init_scale, init_scale)

    [grid]                        # every combination is a cell; a single value may omit []
    n_per_class = [10, 100, 1000] # training observations per class
    hidden = [8]                  # hidden units h
    n_classes = [4]               # K
    separation = [1.0]            # distance scale of the class means (below)
    covariance = [1.0]            # isotropic variance, or a 2 x 2 matrix [[a, b], [b, c]]
    optimizer = ["adam"]          # any name train.make_optimizer knows
    learning_rate = [0.05]
    weight_decay = [0.0]
    steps = [2000]                # full-batch steps

Instead of ``[grid]``, ``[[cells]]`` lists cells explicitly (each a table of grid keys with one
value; missing keys take the defaults above).

**Geometry.** The inputs are two-dimensional (p = 2). Class k of K has its mean on the circle
of radius separation·√2 at angle π/4 + 2πk/K, so K = 4 gives the paper's means separation·(±1,
±1) (separation 1: the paper's problem) and K = 2 gives ±separation·(1, 1). All classes share the
covariance and have equal priors, so the exact posterior is a softmax of affine logits (the
paper's eq. 3).

A *cell* is one combination of the grid values; all pairings of a cell train together, on the
same data from the same initial weights, so they can be compared trial by trial. Cells whose
arrays have the same shapes (:data:`STATIC_KEYS`) form a *group* and are batched together.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_GRID",
    "GRID_KEYS",
    "STATIC_KEYS",
    "Cell",
    "Chunk",
    "SweepConfig",
    "SweepConfigError",
    "apply_overrides",
    "class_means",
    "config_diff",
    "expand_cells",
    "load_config",
    "parse_config",
    "plan_chunks",
]

PAPER_PAIRINGS = ("logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy")
DEFAULT_GRID: dict[str, Any] = {
    "n_per_class": 100,
    "hidden": 8,
    "n_classes": 4,
    "separation": 1.0,
    "covariance": 1.0,
    "optimizer": "adam",
    "learning_rate": 0.05,
    "weight_decay": 0.0,
    "steps": 2000,
}
GRID_KEYS = tuple(DEFAULT_GRID)
# The keys that fix array shapes or the compiled program: cells agreeing on them batch together.
STATIC_KEYS = ("n_per_class", "hidden", "n_classes", "steps", "optimizer")
DEFAULT_TOP: dict[str, Any] = {
    "name": "sweep",
    "seed": 0,
    "trials": 20,
    "pairings": list(PAPER_PAIRINGS),
    "n_test_per_class": 500,
    "init_scale": 1.0,
}
_INPUTS = 2  # p: the class means lie in the plane


class SweepConfigError(ValueError):
    """A sweep description that cannot run; the message lists every problem, by key."""


@dataclasses.dataclass(frozen=True)
class Cell:
    """One combination of grid values: ``index`` in the expansion order, ``values`` by key."""

    index: int
    values: Mapping[str, Any]

    def static(self) -> tuple:
        """The values of :data:`STATIC_KEYS`: cells with equal ones share a compiled chunk."""
        return tuple(self.values[k] for k in STATIC_KEYS)


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: ``raw`` is the normalised mapping (every key present, lists sorted as
    given, numbers as float/int), ``cells`` its expansion."""

    raw: Mapping[str, Any]
    cells: tuple[Cell, ...]

    def __getattr__(self, name):  # config.trials, config.seed, ... read from raw
        raw = object.__getattribute__(self, "raw")
        if name in raw:
            return raw[name]
        raise AttributeError(name)

    @property
    def config_hash(self) -> str:
        """sha256 of the canonical JSON of :attr:`raw` (16 hex digits): the folder's identity."""
        text = json.dumps(self.raw, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def n_trainings(self) -> int:
        """(cell, trial) units; each trains every pairing."""
        return len(self.cells) * self.raw["trials"]


# --------------------------------------------------------------------------------------------
# Loading, overriding, validating
# --------------------------------------------------------------------------------------------


def load_config(path: str | Path) -> dict:
    """Reads a sweep description from a ``.toml`` or ``.json`` file (unvalidated).

    TOML needs Python ≥ 3.11 (``tomllib``) or the ``tomli`` package on 3.10.
    """
    path = Path(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    if path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            try:
                import tomli as tomllib
            except ModuleNotFoundError:
                raise SweepConfigError(
                    f"{path}: reading TOML needs Python >= 3.11 or `pip install tomli`; "
                    "or write the sweep as JSON"
                ) from None
        return tomllib.loads(path.read_text())
    raise SweepConfigError(f"{path}: a sweep description is a .toml or .json file")


def apply_overrides(raw: Mapping[str, Any], overrides: Sequence[str]) -> dict:
    """Applies ``key=value`` overrides (command line ``--set``) to a description.

    Keys are dotted (``grid.n_per_class=[10,20]``, ``trials=5``); a bare grid key such as
    ``hidden=16`` means ``grid.hidden``. Values are parsed as JSON, else kept as strings.
    """
    out = json.loads(json.dumps(dict(raw)))  # a deep copy of plain data
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SweepConfigError(f"override {item!r}: expected key=value")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        path = key.split(".")
        if len(path) == 1 and path[0] in GRID_KEYS:
            path = ["grid", path[0]]
        target = out
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise SweepConfigError(f"override {item!r}: {part} is not a table")
        target[path[-1]] = value
    return out


def _unknown(keys, known, where) -> list[str]:
    errors = []
    for k in keys:
        if k not in known:
            near = difflib.get_close_matches(str(k), known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            errors.append(f"{where}: unknown key {k!r}{hint}; expected one of: {', '.join(known)}")
    return errors


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _check_covariance(v, where) -> tuple[Any, str | None]:
    """A positive number (isotropic variance) or a symmetric positive definite 2×2 matrix."""
    if _is_num(v):
        return (float(v), None) if v > 0 else (None, f"{where}: a variance must be > 0, got {v}")
    rows_ok = isinstance(v, list) and len(v) == _INPUTS
    if rows_ok and all(isinstance(r, list) and len(r) == _INPUTS for r in v):
        if all(_is_num(x) for r in v for x in r):
            (a, b), (c, d) = ((float(x) for x in r) for r in v)
            if b != c:
                return None, f"{where}: the covariance matrix must be symmetric, got {v}"
            if not (a > 0 and a * d - b * c > 0):
                return None, f"{where}: the covariance matrix must be positive definite, got {v}"
            return [[a, b], [c, d]], None
    expected = "a positive number or a 2 x 2 matrix [[a, b], [b, c]]"
    return None, f"{where}: expected {expected}, got {v!r}"


def _check_value(key, v, where):
    """(normalised value, error or None) for one grid value."""
    if key == "covariance":
        return _check_covariance(v, where)
    if key == "optimizer":
        if not isinstance(v, str):
            return None, f"{where}: expected an optimizer name (a string), got {v!r}"
        from .train import make_optimizer  # lazy: keeps this module free of JAX at import

        try:
            make_optimizer(v, 1.0)
        except ValueError as err:
            return None, f"{where}: {err}"
        return v, None
    ints = {"n_per_class": 1, "hidden": 1, "n_classes": 2, "steps": 1}
    if key in ints:
        if not _is_int(v) or v < ints[key]:
            return None, f"{where}: expected an integer >= {ints[key]}, got {v!r}"
        return v, None
    # separation >= 0, learning_rate > 0, weight_decay >= 0
    strict = key == "learning_rate"
    if not _is_num(v) or (v <= 0 if strict else v < 0):
        bound = "> 0" if strict else ">= 0"
        return None, f"{where}: expected a finite number {bound}, got {v!r}"
    return float(v), None


def _check_top(raw, errors) -> dict:
    top = {}
    for key, default in DEFAULT_TOP.items():
        v = raw.get(key, default)
        where = key
        if key == "name":
            ok = isinstance(v, str) and v.strip() != ""
            msg = f"{where}: expected a non-empty string, got {v!r}"
        elif key == "seed":
            ok = _is_int(v) and 0 <= v < 2**32
            msg = f"{where}: expected an integer in [0, 2**32), got {v!r}"
        elif key in ("trials", "n_test_per_class"):
            ok = _is_int(v) and v >= 1
            msg = f"{where}: expected an integer >= 1, got {v!r}"
        elif key == "init_scale":
            ok = _is_num(v) and v > 0
            msg = f"{where}: expected a finite number > 0, got {v!r}"
            v = float(v) if ok else v
        else:  # pairings
            ok = _check_pairings(v, errors)
            msg = None
        if not ok:
            if msg:
                errors.append(msg)
        top[key] = v
    return top


def _check_pairings(v, errors) -> bool:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        errors.append(f"pairings: expected a list of 'activation/penalty' names, got {v!r}")
        return False
    if not v:
        errors.append("pairings: is empty; give at least one 'activation/penalty' name")
        return False
    from .pairings import get_pairing  # lazy: see _check_value

    ok = True
    for i, name in enumerate(v):
        try:
            get_pairing(name)
        except ValueError as err:
            errors.append(f"pairings[{i}]: {err}")
            ok = False
    if len(set(v)) != len(v):
        errors.append(f"pairings: contains duplicates: {v}")
        ok = False
    return ok


def _check_list(key, values, where, errors) -> list:
    if not isinstance(values, list) or (key == "covariance" and _is_matrix(values)):
        values = [values]
    if not values:
        errors.append(f"{where}: is empty; give at least one value")
        return []
    out = []
    for i, v in enumerate(values):
        norm, err = _check_value(key, v, f"{where}[{i}]" if len(values) > 1 else where)
        if err:
            errors.append(err)
        else:
            out.append(norm)
    if len({json.dumps(v) for v in out}) != len(out):
        errors.append(f"{where}: contains duplicate values: {values}")
    return out


def _is_matrix(v) -> bool:
    return (
        isinstance(v, list)
        and len(v) > 0
        and all(isinstance(r, list) for r in v)
        and (all(_is_num(x) for r in v for x in r))
    )


def parse_config(raw: Mapping[str, Any]) -> SweepConfig:
    """Validates a description and expands it; raises :class:`SweepConfigError` naming every
    problem (unknown keys, wrong types, empty grids, values out of range, unknown pairings or
    optimizers) before anything runs."""
    if not isinstance(raw, Mapping):
        raise SweepConfigError(f"a sweep description is a table, got {type(raw).__name__}")
    errors: list[str] = []
    known_top = [*DEFAULT_TOP, "grid", "cells"]
    errors += _unknown(raw, known_top, "top level")
    top = _check_top(raw, errors)
    if "grid" in raw and "cells" in raw:
        errors.append("grid and cells: give one of them (a product grid, or an explicit list)")
    norm: dict[str, Any] = dict(top)
    if "cells" in raw:
        cells_raw = raw["cells"]
        if not isinstance(cells_raw, list) or not cells_raw:
            errors.append(f"cells: expected a non-empty list of tables, got {cells_raw!r}")
            cells_raw = []
        cells = []
        for i, c in enumerate(cells_raw):
            if not isinstance(c, Mapping):
                errors.append(f"cells[{i}]: expected a table of grid keys, got {c!r}")
                continue
            errors += _unknown(c, list(GRID_KEYS), f"cells[{i}]")
            values = {}
            for key in GRID_KEYS:
                v, err = _check_value(key, c.get(key, DEFAULT_GRID[key]), f"cells[{i}].{key}")
                errors += [err] if err else []
                values[key] = v
            cells.append(values)
        norm["cells"] = cells
    else:
        grid = raw.get("grid", {})
        if not isinstance(grid, Mapping):
            errors.append(f"grid: expected a table of key = [values], got {grid!r}")
            grid = {}
        errors += _unknown(grid, list(GRID_KEYS), "grid")
        norm["grid"] = {
            key: _check_list(key, grid.get(key, DEFAULT_GRID[key]), f"grid.{key}", errors)
            for key in GRID_KEYS
        }
    if errors:
        raise SweepConfigError(
            "invalid sweep description:\n" + "\n".join(f"  - {e}" for e in errors)
        )
    return SweepConfig(norm, expand_cells(norm))


def expand_cells(norm: Mapping[str, Any]) -> tuple[Cell, ...]:
    """The cells of a normalised description: the product of the grid in key order (the last
    key varying fastest), or the explicit ``cells`` list in its order."""
    if "cells" in norm:
        combos = [dict(c) for c in norm["cells"]]
    else:
        grid = norm["grid"]
        combos = [
            dict(zip(GRID_KEYS, vals, strict=True))
            for vals in itertools.product(*(grid[k] for k in GRID_KEYS))
        ]
    return tuple(Cell(i, c) for i, c in enumerate(combos))


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two normalised descriptions, one line per key."""
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            lines += config_diff(a, b, f"{prefix}{key}.")
        elif a != b:
            lines.append(f"{prefix}{key}: {json.dumps(a)} (in the folder) -> {json.dumps(b)} (now)")
    return lines


# --------------------------------------------------------------------------------------------
# Geometry and planning
# --------------------------------------------------------------------------------------------


def class_means(n_classes: int, separation: float = 1.0) -> list[list[float]]:
    """K means on the circle of radius separation·√2 at angles π/4 + 2πk/K (the module
    docstring); K = 4 gives the paper's (±1, ±1)·separation (Dunne & Campbell 1997, 4.1), in
    the order (1, 1), (−1, 1), (−1, −1), (1, −1)."""
    r = separation * math.sqrt(2.0)
    angles = [math.pi / 4 + 2 * math.pi * k / n_classes for k in range(n_classes)]
    return [[r * math.cos(a), r * math.sin(a)] for a in angles]


def covariance_matrix(value) -> list[list[float]]:
    """A grid ``covariance`` value as a 2×2 matrix (a number v means v·I)."""
    if isinstance(value, list):
        return value
    return [[float(value), 0.0], [0.0, float(value)]]


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A batch of (cell, trial) units sharing static values, padded to ``size`` (a multiple of
    the device count) by repeating the last unit; the padding's results are dropped."""

    static: tuple
    units: tuple[tuple[int, int], ...]
    size: int

    @property
    def name(self) -> str:
        """A name from the units alone: the same work gets the same file name."""
        text = json.dumps([list(self.static), [list(u) for u in self.units]])
        return (
            f"chunk-{self.units[0][0]:05d}-{self.units[0][1]:05d}-"
            + hashlib.sha1(text.encode()).hexdigest()[:10]
        )

    def padded_units(self) -> list[tuple[int, int]]:
        return list(self.units) + [self.units[-1]] * (self.size - len(self.units))


def plan_chunks(
    config: SweepConfig,
    *,
    chunk_size: int,
    n_devices: int = 1,
    done: frozenset[tuple[int, int]] | set = frozenset(),
) -> list[Chunk]:
    """Splits the (cell, trial) units not in ``done`` into chunks of at most ``chunk_size``.

    Units are grouped by their cells' static values; within a group, the units are split into
    as few chunks as ``chunk_size`` allows, of equal size (rounded up to a multiple of
    ``n_devices``), so each group compiles once. Units are in (cell, trial) order.
    """
    if not _is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if not _is_int(n_devices) or n_devices < 1:
        raise ValueError(f"n_devices must be a positive int, got {n_devices!r}")
    groups: dict[tuple, list[tuple[int, int]]] = {}
    for cell in config.cells:
        for trial in range(config.raw["trials"]):
            if (cell.index, trial) not in done:
                groups.setdefault(cell.static(), []).append((cell.index, trial))
    chunks = []
    for static, units in groups.items():
        count = -(-len(units) // chunk_size)
        per = -(-len(units) // count)
        size = -(-per // n_devices) * n_devices
        for i in range(count):
            part = tuple(units[i * per : (i + 1) * per])
            if part:
                chunks.append(Chunk(static, part, size))
    return chunks
