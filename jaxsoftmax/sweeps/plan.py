"""Planning a sweep: cells grouped by the program that computes them, units in fixed chunks.

A *unit* is one (cell, trial): one training of every estimator. Cells that differ only in
:data:`jaxsoftmax.config.ARRAY_KEYS` share one compiled program (a *group*). Within a group
the units are laid out **trial-major** (trial 0 of every cell, then trial 1, …) and cut into
chunks of exactly ``chunk_size`` units (the last one padded), so that

* a unit's chunk is fixed by the plan alone (``chunk_size`` and the description), never by
  what is already done: a resume or a repair recomputes exactly the original chunk, with the
  same program on the same batch, and the bits cannot change;
* adding trials appends units after the existing ones: finished chunks stay finished, only
  the last (partial) chunk is recomputed whole — its old units bitwise as before, since a
  unit's lanes of one program do not depend on the other lanes;
* nothing here is per unit in Python: a chunk's units are two NumPy ranges.

Every chunk is computed on ONE device; a machine with several devices computes several
chunks at once (one per device, in one sharded call), so the records do not depend on the
number of devices or workers either (``docs/cluster.md``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from .. import config as C
from .. import experiment

__all__ = ["Chunk", "Group", "Plan", "default_chunk_size", "make_plan"]

# Units per chunk when neither the folder nor the command line says: a chunk should hold about
# this many multiply-adds of training (measured with experiments/bench_sweep.py: on the 2-core
# CPU throughput is flat from ~2e8 up; tiny chunks pay a dispatch and a file each).
CHUNK_WORK = 4e8
CHUNK_MIN, CHUNK_MAX = {"cpu": (8, 4096)}, (64, 65536)


@dataclasses.dataclass(frozen=True)
class Group:
    """Cells computed by one program: ``spec`` and the cells' indices (ascending)."""

    index: int
    spec: experiment.Spec
    cells: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Chunk ``index`` of group ``group``: units ``start`` … ``stop − 1`` of the group's
    trial-major order, padded to ``size``."""

    group: Group
    index: int
    start: int
    stop: int
    size: int

    @property
    def name(self) -> str:
        """The chunk's file stem: group and chunk index (the layout is in the folder's
        identity, so the same name always means the same units)."""
        return f"g{self.group.index:03d}-c{self.index:07d}"

    def __len__(self) -> int:
        return self.stop - self.start

    def units(self) -> tuple[np.ndarray, np.ndarray]:
        """``(cells, trials)`` of the chunk's units, ``(len,)`` each, in order."""
        j = np.arange(self.start, self.stop, dtype=np.int64)
        cells = np.asarray(self.group.cells, np.int32)
        n = len(cells)
        return cells[j % n], (j // n).astype(np.int32)

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`units` padded to ``size`` by repeating the last unit."""
        cells, trials = self.units()
        pad = self.size - len(cells)
        return np.concatenate([cells, np.repeat(cells[-1:], pad)]), np.concatenate(
            [trials, np.repeat(trials[-1:], pad)]
        )


@dataclasses.dataclass(frozen=True)
class Plan:
    """Every chunk of a sweep with ``trials`` trials at ``chunk_size`` units per chunk."""

    groups: tuple[Group, ...]
    trials: int
    chunk_size: int

    def chunks(self) -> Iterator[Chunk]:
        b = self.chunk_size
        for g in self.groups:
            total = len(g.cells) * self.trials
            for k in range(-(-total // b)):
                yield Chunk(g, k, k * b, min((k + 1) * b, total), b)

    def __len__(self) -> int:
        b = self.chunk_size
        return sum(-(-len(g.cells) * self.trials // b) for g in self.groups)


def groups(sweep: C.SweepSpec) -> tuple[Group, ...]:
    """Cells by the program that computes them: cells that differ only in
    :data:`jaxsoftmax.config.ARRAY_KEYS` share one, its hidden size the largest of theirs
    (the others padded and masked, exactly equal to unpadded networks) and weight decay on
    if any cell decays. Groups in order of their first cell."""
    by: dict[experiment.Spec, list[int]] = defaultdict(list)
    for i, cell in enumerate(sweep.cells):
        by[experiment.spec_of(cell, decay=False)._replace(hidden=0)].append(i)
    out: list[Group] = []
    for spec, cells in by.items():
        decay = any(sweep.cells[i].training.weight_decay > 0 for i in cells)
        sizes = {sweep.cells[i].model.hidden for i in cells}
        spec = spec._replace(decay=decay, hidden=max(sizes), masked=len(sizes) > 1)
        out.append(Group(len(out), spec, tuple(cells)))
    return tuple(out)


def make_plan(sweep: C.SweepSpec, chunk_size: int) -> Plan:
    """The sweep's fixed plan at ``chunk_size`` units per chunk."""
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected a count >= 1, got {chunk_size!r}")
    return Plan(groups(sweep), sweep.trials, chunk_size)


def default_chunk_size(
    sweep: C.SweepSpec, platform: str, memory: int | None = None, n_devices: int = 1
) -> int:
    """Units per chunk for a new folder: a power of two giving each chunk about
    :data:`CHUNK_WORK` multiply-adds on a CPU (×64 on an accelerator, which wants wide
    batches), no more than keeps every device busy (≥ 4 chunks per device in the largest
    group: the last batch of a group is padded with copies), and capped so that a chunk's
    arrays stay well inside ``memory`` bytes when given (an accelerator's free memory).
    Recorded in the folder: a resume keeps it."""
    lo, hi = CHUNK_MIN.get(platform, CHUNK_MAX)
    gs = groups(sweep)
    work = max(experiment.training_work(g.spec) for g in gs)
    target = CHUNK_WORK * (1 if platform == "cpu" else 64) / max(work, 1.0)
    units = max(len(g.cells) for g in gs) * sweep.trials
    target = min(target, units / (4 * max(n_devices, 1)))
    if memory:
        spec = max((g.spec for g in gs), key=_unit_bytes)
        target = min(target, memory / (8 * _unit_bytes(spec)))
    size = 1 << max(0, int(np.floor(np.log2(max(target, 1.0)))))
    return int(min(max(size, lo), hi))


def _unit_bytes(spec: experiment.Spec) -> int:
    """Bytes one unit's program holds, roughly: data, activations of every estimator, the
    optimiser state and the recorded losses (float32)."""
    n = spec.n_classes * (spec.n_per_class + spec.n_test_per_class + spec.n_val_per_class)
    e = len(spec.estimators)
    weights = spec.hidden * 3 + spec.n_classes * (spec.hidden + 1)
    return 4 * (
        3 * n + e * n * (spec.hidden + 2 * spec.n_classes) + 6 * e * weights + 2 * e * spec.steps
    )
