"""README's generated blocks: every number README shows comes from a stored run.

A block sits between ``<!-- generated: NAME -->`` and ``<!-- /generated -->``; :func:`blocks`
computes each from the committed results (``experiments/reproduction/results.json``,
``experiments/training_length/results.json``, ``experiments/sweeps/results_protocols/``) and
:func:`update` rewrites README.md. ``tests/test_project.py`` fails when README is stale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import config as C
from . import reproduce
from .report import readme_protocols, readme_reproduction, readme_training_length

PATTERN = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>(?:(?!<!-- /?generated).)*?)"
    r"\n?<!-- /generated -->",
    re.S,
)


def blocks(root: Path) -> dict[str, str]:
    root = Path(root)
    out = {}
    rep = root / "experiments" / "reproduction" / "results.json"
    if rep.exists():
        # The tables from the per-trial values with today's statistics (a stored summary
        # could predate a change to them); the other seeds' counts are only in the summary.
        config, results = reproduce.load_results(rep)
        summary = reproduce.summarise(config, results)
        stored = json.loads(rep.read_text())["summary"]
        if "across_seeds" in stored:
            summary["across_seeds"] = stored["across_seeds"]
        out["reproduction"] = readme_reproduction(config, summary)
    tl = root / "experiments" / "training_length" / "results.json"
    if tl.exists():
        data = json.loads(tl.read_text())
        out["training-length"] = readme_training_length(
            C.from_dict(data["config"]), data["summary"]
        )
    prot = root / "experiments" / "sweeps" / "results_protocols"
    if (prot / "summary.json").exists():
        summary = json.loads((prot / "summary.json").read_text())
        desc = json.loads((prot / "sweep.json").read_text())
        trials = desc["cells"][0]["trials"]
        out["protocols"] = readme_protocols(desc["cells"], summary, trials)
    return out


def render(readme: str, generated: dict[str, str]) -> str:
    def sub(m):
        body = generated.get(m.group("name"), m.group("body"))
        return m.group(1) + body + "\n<!-- /generated -->"

    return PATTERN.sub(sub, readme)


def update(root: Path) -> bool:
    """Rewrites README.md's generated blocks; returns whether anything changed."""
    path = Path(root) / "README.md"
    text = path.read_text()
    new = render(text, blocks(root))
    if new != text:
        path.write_text(new)
    return new != text
