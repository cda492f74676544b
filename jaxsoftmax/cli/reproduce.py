"""``jaxsoftmax reproduce``: Dunne & Campbell (1997), section 4.1, reproduced.

CLI → configuration (:mod:`jaxsoftmax.config`) → the engine (:mod:`jaxsoftmax.experiment`) →
statistics (:mod:`jaxsoftmax.stats`) → writers (:mod:`jaxsoftmax.io`). Writes to ``--out``:
``results.json`` (the configuration, versions, device, and every per-trial, per-estimator
value of every metric, confusion tables per trial included, so every table can be recomputed
with :func:`summarise`), ``report.md`` (Tables 2–6 beside the paper's, paired tests, the
protocol) and PNG figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as C
from .. import experiment, io, paper, stats
from ..progress import Progress
from . import common, report

__all__ = [
    "across_seeds",
    "compute",
    "load_results",
    "main",
    "parser",
    "results_from",
    "summarise",
    "write",
]

log = logging.getLogger("jaxsoftmax")

PER_TRIAL = (*experiment.ESTIMATOR_METRICS, "rates", "loss_drop")


def compute(config: C.Config, *, devices=None, quiet: bool = False) -> dict:
    """Runs every trial of ``config`` with a progress bar; returns :func:`results_from`."""
    with Progress(config.training.steps, "training", unit="steps", quiet=quiet) as bar:
        raw = experiment.run(config, devices=devices, progress=bar.update_to, keep=True)
    return results_from(config, raw)


def results_from(config: C.Config, raw: dict) -> dict:
    """Per-trial values by estimator, the Bayes rule's, and one trial's data and networks."""
    losses = raw["_losses"]  # (T, E, steps)
    tail = max(1, losses.shape[-1] // 10)
    start = losses[..., -tail]
    drop = (start - losses[..., -1]) / np.where(start == 0, 1, np.abs(start))
    per = experiment.per_estimator(config, raw)
    for e, name in enumerate(config.estimators):
        per[name]["loss_drop"] = drop[:, e]
    data, params = raw["_data"], raw["_params"]
    return {
        "per_trial": per,
        "bayes": {"error_rate": raw["bayes_error_rate"], "rates": raw["bayes_rates"]},
        "example": {
            "x": data["x"][0],
            "y": data["y"][0],
            "params": {name: _first(params[e]) for e, name in enumerate(config.estimators)},
        },
    }


def _first(tree):
    import jax

    return jax.tree.map(lambda a: np.asarray(a)[0], tree)


def across_seeds(config: C.Config, n_seeds: int, first: dict, *, quiet: bool = False) -> dict:
    """The ranking and the paired comparisons for seeds ``config.seed … + n_seeds − 1``
    (``first``: the per-trial eq. (4) of the first seed, already computed): how many seeds
    give each ranking, and for each pair how often each side is decisively better."""
    per_seed = [first]
    for s in range(config.seed + 1, config.seed + n_seeds):
        with Progress(config.training.steps, f"seed {s}", unit="steps", quiet=quiet) as bar:
            raw = experiment.run(C.override(config, seed=s), progress=bar.update_to)
        per_seed.append({n: m["eq4"] for n, m in experiment.per_estimator(config, raw).items()})
    rankings: dict[str, int] = {}
    pairs: dict[tuple[str, str], list[int]] = {}
    for eq4 in per_seed:
        key = " > ".join(stats.ranking(eq4))
        rankings[key] = rankings.get(key, 0) + 1
        for row in stats.paired_all(eq4):
            pairs.setdefault((row["a"], row["b"]), []).append(stats.decisive(row))
    return {
        "seeds": list(range(config.seed, config.seed + n_seeds)),
        "rankings": rankings,
        "paired": [
            {
                "a": a,
                "b": b,
                "a_better": v.count(1),
                "b_better": v.count(-1),
                "undecided": v.count(0),
            }
            for (a, b), v in pairs.items()
        ],
    }


def summarise(config: C.Config, results: dict) -> dict:
    """Every table of the report from the per-trial values alone (``results["per_trial"]``
    and ``results["bayes"]``, e.g. as read back from ``results.json``)."""
    per = {
        n: {k: np.asarray(v, float) for k, v in m.items()} for n, m in results["per_trial"].items()
    }
    table2: dict[str, dict[str, Any]] = {}
    for name, m in per.items():
        row: dict[str, Any] = {
            "eq4": stats.describe(m["eq4"]),
            "eq4_summed": stats.describe(m["eq4_summed"]),
        }
        if name in paper.TABLE2:
            pm, _ = paper.TABLE2[name]
            s = row["eq4_summed"]
            row["paper_mean"] = pm
            row["diff"] = s["mean"] - pm
            row["diff_ci"] = [s["ci_low"] - pm, s["ci_high"] - pm]
        table2[name] = row
    eq4 = {n: m["eq4"] for n, m in per.items()}
    ranking = stats.ranking(eq4)
    return {
        "table2": table2,
        "ranking": ranking,
        "paper_ranking": [n for n in paper.RANKING if n in per],
        "paired": stats.paired_all(eq4),
        "rates": {n: np.nanmean(m["rates"], axis=0).tolist() for n, m in per.items()},
        "error_rate": {n: stats.describe(m["error_rate"]) for n, m in per.items()},
        "bayes_error_rate": float(np.mean(results["bayes"]["error_rate"])),
        "bayes_rates_empirical": np.nanmean(
            np.asarray(results["bayes"]["rates"], float), axis=0
        ).tolist(),
        "convergence": {
            n: {
                "grad_norm_median": float(np.median(m["grad_norm"])),
                "grad_norm_max": float(np.max(m["grad_norm"])),
                "final_loss_mean": float(np.mean(m["final_loss"])),
                "loss_drop_median": float(np.median(m["loss_drop"])),
                "output_sum_min": float(np.min(m["output_sum_min"])),
                "output_sum_max": float(np.max(m["output_sum_max"])),
            }
            for n, m in per.items()
        },
    }


def parser() -> argparse.ArgumentParser:
    """The command's flags: output options, common flags, one flag per configuration key."""
    p = argparse.ArgumentParser(
        prog="jaxsoftmax reproduce",
        description="Reproduce Dunne & Campbell (1997), section 4.1: three estimators on four "
        "Gaussian classes; Tables 2-6 beside the paper's.",
    )
    p.add_argument("--out", default="results/dunne_campbell", help="output folder")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="also run the next N-1 seeds and report in how many each ranking and "
        "each decisive paired difference holds (default 1: this seed only)",
    )
    common.add_common_flags(p)
    common.add_config_flags(p, C.Config())
    return p


def main(argv: list[str] | None = None) -> int:
    """``jaxsoftmax reproduce``: configuration from the flags, the engine, the report and files."""
    args = parser().parse_args(argv)
    common.start(args)
    config = common.config_from_args(args, C.Config())
    out = io.out_folder(args.out)
    devices = common.setup_runtime(args)
    start = time.perf_counter()
    results = compute(config, devices=None, quiet=args.quiet)
    seconds = time.perf_counter() - start
    summary = summarise(config, results)
    if args.seeds < 1:
        raise common.UsageError(f"--seeds: expected a count >= 1, got {args.seeds}")
    if args.seeds > 1:
        first = {n: np.asarray(m["eq4"]) for n, m in results["per_trial"].items()}
        summary["across_seeds"] = across_seeds(config, args.seeds, first, quiet=args.quiet)
    meta = {**io.metadata(), "seconds": seconds, "devices_used": len(devices)}
    figures: list[str] = []
    if not args.no_plots:
        from . import figures as fig

        figures = fig.reproduction_figures(config, results, summary, out)
    text = write(out, config, results, summary, meta, figures)
    if not args.quiet:
        print(text)
    log.info(
        "wrote %s, %s and %d figures in %.1f s (training and evaluation: %.1f s)",
        out / "report.md",
        out / "results.json",
        len(figures),
        time.perf_counter() - start,
        seconds,
    )
    return 0


def write(
    out: Path, config: C.Config, results: dict, summary: dict, meta: dict, figures: list[str]
) -> str:
    """Writes ``report.md`` and ``results.json`` (read back by :func:`load_results`) into
    ``out``; returns the report's text."""
    text = report.reproduction(config, summary, meta, figures)
    io.write_text(out / "report.md", text)
    io.write_json(
        out / "results.json",
        {
            "config": C.to_dict(config),
            "meta": meta,
            "per_trial": results["per_trial"],
            "bayes": results["bayes"],
            "summary": summary,
            "paper": {"table2": paper.TABLE2, "tables": paper.TABLES},
        },
    )
    return text


def load_results(path: str | Path) -> tuple[C.Config, dict]:
    """Reads a ``results.json`` back: its configuration and its results (per-trial values as
    NumPy arrays), ready for :func:`summarise`."""
    data = json.loads(Path(path).read_text())
    config = C.from_dict(data["config"])

    def arr(v):
        return np.asarray(
            [np.nan if x is None else x for x in np.ravel(np.asarray(v, object))], float
        ).reshape(np.shape(v))

    per = {n: {k: arr(v) for k, v in m.items()} for n, m in data["per_trial"].items()}
    bayes = {k: arr(v) for k, v in data["bayes"].items()}
    return config, {"per_trial": per, "bayes": bayes}
