"""``jaxsoftmax training-length``: Table 2 and the paired tests after 50 … 10,000 steps.

The paper names neither its optimiser nor its training length. This trains the estimators
of the reproduction once, to the longest length, keeps a copy of every network after each
of ``--lengths`` (``training.record_at``), and evaluates every copy on the test samples: the
same engine, data and seed as ``jaxsoftmax reproduce``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import cast

import numpy as np

from .. import config as C
from .. import io, paper, stats
from ..progress import Progress
from . import common

__all__ = [
    "compute",
    "figure",
    "main",
    "parser",
    "report",
    "summarise",
]

log = logging.getLogger("jaxsoftmax")

DEFAULT_LENGTHS = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


def compute(config: C.Config, *, quiet: bool = False) -> dict:
    """Per estimator, ``{eq4, eq4_summed, error_rate}_by_length`` ``(trials, lengths)``."""
    from .. import experiment  # JAX: not for --help

    with Progress(config.training.steps, "training", unit="steps", quiet=quiet) as bar:
        raw = experiment.run(config, progress=bar.update_to)
    per = experiment.per_estimator(config, raw)
    return {"per_trial": per, "bayes_error_rate": float(np.mean(raw["bayes_error_rate"]))}


def summarise(config: C.Config, results: dict) -> dict:
    """Table 2 and the paired tests at each recorded length, from per-trial values."""
    lengths = list(config.training.record_at)
    per = results["per_trial"]
    rows, paired = [], []
    for r, length in enumerate(lengths):
        eq4 = {n: np.asarray(m["eq4_by_length"])[:, r] for n, m in per.items()}
        rows.append(
            {
                "steps": length,
                "eq4": {n: float(np.mean(v)) for n, v in eq4.items()},
                "eq4_summed": {
                    n: float(np.mean(np.asarray(m["eq4_summed_by_length"])[:, r]))
                    for n, m in per.items()
                },
                "error_rate": {
                    n: float(np.mean(np.asarray(m["error_rate_by_length"])[:, r]))
                    for n, m in per.items()
                },
                "ranking": stats.ranking(eq4),
            }
        )
        paired += [{"steps": length, **p} for p in stats.paired_all(eq4)]
    return {
        "lengths": lengths,
        "rows": rows,
        "paired": paired,
        "bayes_error_rate": results["bayes_error_rate"],
    }


def report(config: C.Config, summary: dict, meta: dict, figures: list[str]) -> str:
    """The Markdown report: Table 2, paired tests and error rates by training length."""
    from .report import protocol

    names = list(config.estimators)
    lab = paper.label
    lines = [
        "# Training length and the ranking of the estimators",
        "",
        protocol(config) + f" (snapshots at {', '.join(map(str, summary['lengths']))}); one "
        f"run on {meta['device']} in {meta['seconds']:.1f} s.",
        "",
        "## Table 2 by training length: mean eq. (4) (summed form in brackets: the paper's scale)",
        "",
        "| steps | "
        + " | ".join(lab(n) for n in names)
        + " | mean eq. (4), largest (worst) > ... > smallest (best) |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for row in summary["rows"]:
        paper_order = [n for n in row["ranking"] if n in paper.RANKING] == list(paper.RANKING)
        lines.append(
            f"| {row['steps']} | "
            + " | ".join(f"{row['eq4'][n]:.4f} ({row['eq4_summed'][n]:.2f})" for n in names)
            + " | "
            + " > ".join(lab(n) for n in row["ranking"])
            + (" (the paper's)" if paper_order else "")
            + " |"
        )
    lines += [
        "",
        "The paper (its scale): logistic + least squares 4.62 > softmax + least squares 4.00 > "
        "softmax + cross-entropy 3.94.",
        "",
        "## Paired comparisons by training length (A better in k of the trials)",
        "",
        "| steps | A | B | A better | mean A − B | sign test p | Wilcoxon p | paired t p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in summary["paired"]:
        lines.append(
            f"| {p['steps']} | {lab(p['a'])} | {lab(p['b'])} | {p['a_wins']}/{p['trials']} "
            f"| {p['mean_diff']:+.4f} | {p['sign_test_p']:.2g} | {p['wilcoxon_p']:.2g} "
            f"| {p['ttest_p']:.2g} |"
        )
    lines += [
        "",
        "## Test error rate by training length",
        "",
        "| steps | " + " | ".join(lab(n) for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for row in summary["rows"]:
        lines.append(
            f"| {row['steps']} | " + " | ".join(f"{row['error_rate'][n]:.4f}" for n in names) + " |"
        )
    lines += ["", f"Bayes rule on the same test samples: {summary['bayes_error_rate']:.4f}."]
    if figures:
        lines += ["", *(f"![{f}]({f})" for f in figures)]
    return "\n".join(lines) + "\n"


def figure(config: C.Config, results: dict, out: Path) -> str:
    """Mean eq. (4) and error rate against the training length, ± 2 standard errors."""
    from .figures import _plt, save

    plt = _plt()
    lengths = list(config.training.record_at)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, m in results["per_trial"].items():
        for ax, key in zip(axes, ("eq4_by_length", "error_rate_by_length")):
            v = np.asarray(m[key])
            mean, se = v.mean(0), v.std(0, ddof=1) / np.sqrt(v.shape[0])
            ax.plot(lengths, mean, marker="o", label=paper.label(name))
            ax.fill_between(lengths, mean - 2 * se, mean + 2 * se, alpha=0.2)
    axes[0].set_ylabel("mean eq. (4) (± 2 s.e.)")
    axes[1].set_ylabel("test error rate (± 2 s.e.)")
    axes[1].axhline(results["bayes_error_rate"], color="k", ls=":", label="Bayes rule")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("full-batch training steps")
        ax.legend(fontsize=7)
    return save(fig, out / "training_length.png")


def parser() -> argparse.ArgumentParser:
    """The command's flags (``training.steps`` and ``record_at`` come from ``--lengths``)."""
    p = common.ArgumentParser(
        prog="jaxsoftmax training-length", description=cast(str, __doc__).splitlines()[0]
    )
    p.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=list(DEFAULT_LENGTHS),
        help="step counts to evaluate (the longest is the training length)",
    )
    p.add_argument("--out", default="results/training_length", help="output folder")
    p.add_argument("--no-plots", action="store_true", help="skip the figure")
    common.add_common_flags(p)
    common.add_config_flags(p, C.Config(), skip=("training.steps", "training.record_at"))
    return p


def main(argv: list[str] | None = None) -> int:
    """``jaxsoftmax training-length``: one run with snapshots, the report and files."""
    args = parser().parse_args(argv)
    common.start(
        args, f"training-length -> {args.out}: loading JAX and checking the configuration …"
    )
    lengths = sorted(set(args.lengths))
    if lengths[0] < 1:
        raise common.UsageError(f"--lengths: expected step counts >= 1, got {args.lengths}")
    base = C.override(C.Config(), **{"training.steps": lengths[-1], "training.record_at": lengths})
    config = common.config_from_args(args, base)
    if config.problem.family == "data":
        raise common.UsageError(
            "--problem.family data: training-length ranks the estimators by eq. (4), which a "
            "data set does not have (no exact posterior); use jaxsoftmax reproduce or a sweep "
            "over training.steps instead"
        )
    out = io.out_folder(args.out)
    common.setup_runtime(args)
    start = time.perf_counter()
    results = compute(config, quiet=args.quiet)
    meta = {**io.metadata(), "seconds": time.perf_counter() - start}
    summary = summarise(config, results)
    figures = [] if args.no_plots else [figure(config, results, out)]
    text = report(config, summary, meta, figures)
    io.write_text(out / "report.md", text)
    io.write_json(
        out / "results.json",
        {
            "config": C.to_dict(config),
            "meta": meta,
            "per_trial": results["per_trial"],
            "summary": summary,
        },
    )
    if not args.quiet:
        print(text)
    log.info("wrote %s and %s", out / "report.md", out / "results.json")
    return 0
