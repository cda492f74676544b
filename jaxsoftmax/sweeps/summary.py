"""A sweep's summary: per-cell intervals, paired tests with FDR, convergence, figures —
computed from the loaded results (:func:`jaxsoftmax.sweeps.load_arrays`), written through
:mod:`jaxsoftmax.io`.

The summary is written only when every training is present: it is never silently
incomplete.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .. import config as C
from .. import io, stats
from .dataset import load_arrays
from .store import SweepError

__all__ = [
    "METRIC_LABELS",
    "SUMMARY_METRICS",
    "figures",
    "markdown",
    "parameter_axes",
    "seed_rankings",
    "summarise",
    "write_summary",
]

SUMMARY_METRICS = ("eq4", "error_rate")
METRIC_LABELS = {"eq4": "eq. (4), test sample (lower is better)", "error_rate": "test error rate"}
# Scores that need no exact posterior (jaxsoftmax.experiment.SCORE_METRICS): summarised when
# the folder holds them (folders written before they existed do not).
SCORE_METRICS = ("log_loss", "brier", "ece")
SCORE_LABELS = {
    "log_loss": "log-loss",
    "brier": "Brier",
    "ece": "ECE (15 equal-width bins)",
}


def parameter_axes(estimators) -> list[dict]:
    """A pairing's parameter as an axis (issue 23, item 6): the estimators that are instances
    of one family (``softmax/focal(gamma=…)``) differing in exactly one parameter, at least
    two values of it, in increasing order.

    Returns a list of ``{"family", "parameter", "values", "estimators", "labels"}``:
    ``labels`` are the instances' :attr:`~jaxsoftmax.definitions.Pairing.full_name`, with every
    parameter written, so a value at its default is labelled too (``softmax(beta=1)/…``
    beside ``softmax(beta=2)/…``; the canonical name drops β = 1).
    """
    from ..pairings import get_pairing

    by_family: dict[str, list] = {}
    for name in estimators:
        p = get_pairing(name)
        if p.definition is not None and p.params:
            by_family.setdefault(p.definition.family, []).append(p)
    axes = []
    for family, members in by_family.items():
        for param in sorted(members[0].params):
            groups: dict[tuple, list] = {}
            for p in members:
                rest = tuple(sorted((k, v) for k, v in p.params.items() if k != param))
                groups.setdefault(rest, []).append(p)
            for group in groups.values():
                if len({p.params[param] for p in group}) < 2:
                    continue
                group = sorted(group, key=lambda p: p.params[param])
                axes.append(
                    {
                        "family": family,
                        "parameter": param,
                        "values": [p.params[param] for p in group],
                        "estimators": [p.name for p in group],
                        "labels": [p.full_name for p in group],
                    }
                )
    return axes


def summarise(sweep: C.SweepSpec, folder: Path) -> dict:
    """Per (cell, estimator): statistics of eq. (4), the error rate and, when the folder holds
    them, the log-loss, Brier score and ECE; per cell: paired comparisons of eq. (4) (where
    the cell has an exact posterior) and of the log-loss between estimators on the same
    trials (same data, same start), with Benjamini–Hochberg adjusted p-values across every
    comparison of the sweep (each metric's own).

    Refuses (:class:`SweepError`) when any record is missing: a summary is never silently
    incomplete."""
    data = load_arrays(folder)
    t = sweep.trials
    complete = data["complete"][:, :t]
    missing = int((~complete).sum()) + max(0, t - data["complete"].shape[1]) * len(sweep.cells)
    if missing:
        raise SweepError(
            f"{folder}: {missing} of {sweep.n_trainings} trainings have no complete records; "
            "run the sweep again to compute them before summarising"
        )
    names = {n: e for e, n in enumerate(sweep.estimators)}
    order = [data["estimators"].index(n) for n in sweep.estimators]
    # (cells, estimators, trials), float64 of the stored float32 values.
    scores = [m for m in SCORE_METRICS if m in data]
    arrays = {
        m: np.moveaxis(data[m][:, :t][:, :, order], 1, 2).astype(np.float64)
        for m in (*SUMMARY_METRICS, *scores, "grad_norm")
    }
    filled = np.ones(arrays["eq4"].shape, bool)
    bayes = data["bayes_error_rate"][:, :t].astype(np.float64)
    rows, paired, paired_ll = [], [], []
    for cell in range(len(sweep.cells)):
        cv = sweep.cell_values(cell)
        for e, name in enumerate(sweep.estimators):
            row = {"cell": cell, **cv, "estimator": name}
            for m in (*SUMMARY_METRICS, *scores):
                row[m] = stats.describe(list(arrays[m][cell, e]))
            row["bayes_error_rate"] = float(np.mean(bayes[cell]))
            rows.append(row)
        eq4 = {n: arrays["eq4"][cell, e].copy() for n, e in names.items()}
        if any(np.isfinite(v).any() for v in eq4.values()):  # no exact posterior: none
            for p in stats.paired_all(eq4):
                paired.append({"cell": cell, **cv, **p})
        if "log_loss" in arrays:
            ll = {n: arrays["log_loss"][cell, e].copy() for n, e in names.items()}
            for p in stats.paired_all(ll):
                paired_ll.append({"cell": cell, **cv, **p})
    grad = {n: arrays["grad_norm"][:, e][filled[:, e]] for n, e in names.items()}
    grad = {n: g[np.isfinite(g)] for n, g in grad.items()}
    for group in (paired, paired_ll):
        adjusted = stats.fdr([p["wilcoxon_p"] for p in group])
        for p, q in zip(group, adjusted):
            p["wilcoxon_p_fdr"] = q
    out_scores = {"paired_log_loss": paired_ll} if scores else {}
    return {
        "cells": rows,
        "paired": paired,
        **out_scores,
        "grad_norm": {
            n: {"median": float(np.median(g)), "max": float(np.max(g))}
            for n, g in grad.items()
            if g.size
        },
        "n_records": len(sweep.cells) * sweep.trials * len(sweep.estimators),
        "parameter_axes": parameter_axes(sweep.estimators),
    }


def _ci(s: dict, digits: int = 4) -> str:
    if not s["n"]:
        return "—"
    if s["n"] < 2:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def _chaos_lines(sweep: C.SweepSpec) -> list[str]:
    """A paragraph on the sweep's pairings measured chaotic
    (:data:`jaxsoftmax.determinism.CHAOTIC`), or nothing."""
    from ..determinism import CHAOTIC

    chaotic = [n for n in sweep.estimators if n in CHAOTIC]
    if not chaotic:
        return []
    return [
        "Chaotic pairings: "
        + ", ".join(f"{n} (median change {CHAOTIC[n]:.0e})" for n in chaotic)
        + ". Moving every initial weight by one ulp changes their eq. (4) after training by "
        "that much (relative, median over trials; docs/cluster.md), far above float32 "
        "rounding. Their per-trial records are reproducible bitwise with the folder's chunk "
        "size (on any number of devices or workers of one platform); another chunk size or "
        "platform gives different per-trial numbers: compare their distributions, not single "
        "trials.",
        "",
    ]


def _axes_lines(sweep: C.SweepSpec, summary: dict) -> list[str]:
    """Eq. (4) against each pairing parameter that varies across the estimators, every
    instance labelled with all its parameters."""
    from ..definitions import format_value

    axes = summary.get("parameter_axes", [])
    if not axes:
        return []
    varied = list(sweep.varied)
    lines = []
    for axis in axes:
        lines += [
            "",
            f"## Eq. (4) against {axis['parameter']} in `{axis['family']}`",
            "",
            "| "
            + " | ".join([*varied, axis["parameter"], "pairing", "eq. (4)", "error rate"])
            + " |",
            "|" + "---|" * (len(varied) + 4),
        ]
        for r in summary["cells"]:
            if r["estimator"] not in axis["estimators"]:
                continue
            i = axis["estimators"].index(r["estimator"])
            lines.append(
                "| "
                + " | ".join(
                    [
                        *(json.dumps(r[k]) for k in varied),
                        format_value(axis["values"][i]),
                        f"`{axis['labels'][i]}`",
                        _ci(r["eq4"]),
                        _ci(r["error_rate"]),
                    ]
                )
                + " |"
            )
    return lines


def markdown(sweep: C.SweepSpec, summary: dict, meta: dict, figures: list[str]) -> str:
    """The sweep's ``summary.md``: per-cell intervals, paired tests with FDR, convergence."""
    varied = list(sweep.varied)
    first = summary["cells"][0] if summary["cells"] else {}
    scores = [m for m in SCORE_METRICS if m in first]
    flat = C.to_flat(sweep.base)
    fixed = {k: flat[k] for k in C.KEYS if k not in varied}
    lines = [
        f"# Sweep `{sweep.name}`",
        "",
        f"{len(sweep.cells)} cells × {sweep.trials} trials × {len(sweep.estimators)} estimators "
        f"(hash `{sweep.hash}`); varied: {', '.join(varied) or 'nothing'}; fixed: "
        + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fixed.items())
        + ".",
        "",
        f"Records: {summary['n_records']}. " + meta.get("run_line", ""),
        "",
        "Trials are paired across estimators *and* across cells: a trial's data and initial "
        "weights depend on the seed, the trial index and the data-shaping settings only "
        "(common random numbers; `jaxsoftmax.experiment`).",
        "",
        *_chaos_lines(sweep),
        "## Per cell: mean [95% CI] over trials (non-finite results counted, not averaged)",
        "",
        "| "
        + " | ".join(
            [
                *varied,
                "estimator",
                "eq. (4)",
                "error rate",
                *(SCORE_LABELS[m] for m in scores),
                "Bayes",
                "non-finite",
            ]
        )
        + " |",
        "|" + "---|" * (len(varied) + 5 + len(scores)),
    ]
    for r in summary["cells"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    *(json.dumps(r[k]) for k in varied),
                    r["estimator"],
                    _ci(r["eq4"]) if r["eq4"]["n"] else "unavailable",
                    _ci(r["error_rate"]),
                    *(_ci(r[m]) for m in scores),
                    "—"
                    if not np.isfinite(r["bayes_error_rate"])
                    else f"{r['bayes_error_rate']:.4f}",
                    f"{r['eq4']['nonfinite']}/{sweep.trials}" if r["eq4"]["n"] else "—",
                ]
            )
            + " |"
        )
    if scores:
        lines += [
            "",
            "Eq. (4) is unavailable (no exact posterior) for a data set. ECE: the top label's "
            "expected calibration error over 15 equal-width confidence bins on [0, 1], "
            "right-closed (Guo et al. 2017, eq. 3).",
        ]
    lines += _paired_lines(varied, summary["paired"], "eq. (4)")
    if "paired_log_loss" in summary:
        lines += _paired_lines(varied, summary["paired_log_loss"], "the log-loss")
    lines += [
        "",
        "## Convergence (final gradient norm of the training loss)",
        "",
        "| estimator | median | max |",
        "|---|---|---|",
    ]
    for n, g in summary["grad_norm"].items():
        lines.append(f"| {n} | {g['median']:.2e} | {g['max']:.2e} |")
    lines += _axes_lines(sweep, summary)
    if figures:
        lines += ["", "## Figures", "", *(f"![{f}]({f})" for f in figures)]
    return "\n".join(lines) + "\n"


def _paired_lines(varied: list[str], rows: list[dict], what: str) -> list[str]:
    lines = [
        "",
        f"## Paired comparisons of {what} (A wins: lower); p adjusted for the false discovery "
        f"rate over all {len(rows)} comparisons (Benjamini–Hochberg)",
        "",
        "| "
        + " | ".join(
            [*varied, "A", "B", "trials", "A wins", "mean A − B", "Wilcoxon p", "FDR-adjusted p"]
        )
        + " |",
        "|" + "---|" * (len(varied) + 7),
    ]
    for p in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    *(json.dumps(p[k]) for k in varied),
                    p["a"],
                    p["b"],
                    str(p["trials"]),
                    f"{p['a_wins']}/{p['trials']}",
                    f"{p['mean_diff']:+.4f}",
                    f"{p['wilcoxon_p']:.2g}",
                    f"{p['wilcoxon_p_fdr']:.2g}",
                ]
            )
            + " |"
        )
    return lines


def figures(sweep: C.SweepSpec, summary: dict, out: Path) -> list[str]:
    """For each varied numeric key and metric: the mean against the key, one line per
    estimator with its 95% band; one panel per combination of the other varied keys, panels
    in numeric order on shared axes, one legend."""
    from ..plotting import pyplot, save

    plt = pyplot()
    varied = list(sweep.varied)
    names = []
    for key in varied:
        if not all(isinstance(r[key], (int, float)) for r in summary["cells"]):
            continue
        others = [k for k in varied if k != key]
        panels = sorted(
            {tuple(r[k] for k in others) for r in summary["cells"]},
            key=lambda t: [json.dumps(x) if not isinstance(x, (int, float)) else x for x in t],
        )
        if len(panels) > 12:
            continue
        for metric in SUMMARY_METRICS:
            fig, axes = plt.subplots(
                1,
                len(panels),
                figsize=(4.6 * len(panels) + 0.8, 3.8),
                squeeze=False,
                sharex=True,
                sharey=True,
            )
            for ax, panel in zip(axes[0], panels):
                rows = [r for r in summary["cells"] if tuple(r[k] for k in others) == panel]
                for name in sweep.estimators:
                    pr = sorted((r for r in rows if r["estimator"] == name), key=lambda r: r[key])
                    x = np.array([r[key] for r in pr], float)
                    _mean_with_band(ax, x, pr, metric, label=name, ms=3)
                if metric == "error_rate":
                    b = sorted({(r[key], r["bayes_error_rate"]) for r in rows})
                    ax.plot(*zip(*b), "k--", lw=1, label="Bayes rule")
                xs = sorted({r[key] for r in rows})
                if len(xs) > 1 and xs[0] > 0 and xs[-1] / xs[0] >= 20:
                    ax.set_xscale("log")
                ax.set_xlabel(key)
                ax.set_title(
                    ", ".join(f"{k} = {v}" for k, v in zip(others, panel))
                    or f"{sweep.trials} trials per point, 95% CI bands",
                    fontsize=8,
                )
                ax.grid(alpha=0.3)
            axes[0][0].set_ylabel(METRIC_LABELS[metric])
            handles, labels = axes[0][0].get_legend_handles_labels()
            ncols = min(len(labels), 3 * len(panels))
            legend_rows = -(-len(labels) // ncols)
            fig.legend(handles, labels, loc="lower center", ncols=ncols, fontsize=7)
            fig.tight_layout(rect=(0, 0.06 * legend_rows + 0.02, 1, 1))
            names.append(save(fig, out / f"{metric}_vs_{key.replace('.', '_')}.png", tight=False))
    names += _axis_figures(sweep, summary, out, plt, save)
    return names


def _mean_with_band(ax, x, rows: list[dict], metric: str, *, label, ms: float) -> np.ndarray:
    """One line of a summary figure: the metric's mean over ``rows`` against ``x``, with its
    95% confidence band in the line's colour. Returns the means."""
    m = np.array([r[metric]["mean"] for r in rows])
    (line,) = ax.plot(x, m, marker="o", ms=ms, label=label)
    ax.fill_between(
        x,
        [r[metric]["ci_low"] for r in rows],
        [r[metric]["ci_high"] for r in rows],
        color=line.get_color(),
        alpha=0.2,
        lw=0,
    )
    return m


def _axis_figures(sweep: C.SweepSpec, summary: dict, out: Path, plt, save) -> list[str]:
    """For each pairing parameter varied across the estimators (:func:`parameter_axes`) and
    metric: the mean against the parameter, one line per cell with its 95% band, every point
    labelled with the instance's full name (defaults written)."""
    from ..definitions import format_value

    names = []
    for axis in summary.get("parameter_axes", []):
        x = np.array(axis["values"], float)
        for metric in SUMMARY_METRICS:
            fig, ax = plt.subplots(figsize=(6.4, 4.2))
            for cell in range(len(sweep.cells)):
                rows = {
                    r["estimator"]: r
                    for r in summary["cells"]
                    if r["cell"] == cell and r["estimator"] in axis["estimators"]
                }
                pr = [rows[n] for n in axis["estimators"]]
                label = ", ".join(f"{k} = {v}" for k, v in sweep.cell_values(cell).items())
                m = _mean_with_band(ax, x, pr, metric, label=label or None, ms=4)
                if cell == 0:
                    for xi, mi, text in zip(x, m, axis["labels"]):
                        ax.annotate(text, (xi, mi), fontsize=6, rotation=20,
                                    xytext=(3, 4), textcoords="offset points")  # fmt: skip
            ax.set_xticks(x, [format_value(v) for v in axis["values"]])
            ax.set_xlabel(f"{axis['parameter']} of {axis['family']}")
            ax.set_ylabel(METRIC_LABELS[metric])
            ax.set_title(f"{sweep.trials} trials per point, 95% CI bands", fontsize=8)
            ax.grid(alpha=0.3)
            if len(sweep.cells) > 1:
                ax.legend(fontsize=7)
            fig.tight_layout()
            family = re.sub(r"\(.*?\)", "", axis["family"])  # softmax(beta=…)/gce → softmax/gce
            stem = f"{metric}_vs_{axis['parameter']}_{family}".replace("/", "_")
            names.append(save(fig, out / f"{stem}.png", tight=False))
    return names


def prepare(plot: bool = True) -> None:
    """Imports what :func:`write_summary` needs (scipy.stats; with ``plot``, matplotlib):
    about a second on a CPU, which the sweep command spends while the devices compute
    (:func:`jaxsoftmax.runtime.ahead`)."""
    import scipy.stats  # noqa: F401

    if plot:
        from ..plotting import pyplot

        pyplot()


def write_summary(sweep: C.SweepSpec, folder: Path, meta: dict, *, plot: bool = True) -> str:
    """Writes ``summary.json``, ``summary.md`` and the figures (refuses over missing records)."""
    folder = Path(folder)
    summary = summarise(sweep, folder)
    names = figures(sweep, summary, folder) if plot else []
    text = markdown(sweep, summary, meta, names)
    io.write_json(folder / "summary.json", summary)
    io.write_text(folder / "summary.md", text)
    return text


def seed_rankings(
    folder: str | Path, by: str = "problem.family", metrics: tuple[str, ...] = ("eq4", "log_loss")
) -> dict:
    """How robust each ranking of the estimators is across seeds, per value of ``by``.

    For a sweep whose cells are ``by`` × ``seed`` (e.g. the ``families`` example): for each
    value of ``by`` and each metric (lower is better), the mean over trials per seed and
    estimator; in how many seeds each full ranking holds; and for each pair (A, B) in how
    many seeds A's mean is lower (``a_lower``), B's is (``b_lower``), and A or B is
    *decisively* better (the sign, Wilcoxon and paired t tests all at p < 0.05 over that
    seed's trials, same data and start: :func:`jaxsoftmax.stats.decisive`). A metric with no
    finite value for a group (eq. (4) of a data set: no exact posterior) is ``None``:
    unavailable. Refuses (:class:`SweepError`) a folder with missing records."""
    from collections import Counter
    from itertools import combinations

    data = load_arrays(folder)
    if not data["complete"].all():
        raise SweepError(f"{folder}: records are missing; run the sweep to the end first")
    cells = [C.flatten(c) for c in data["description"]["cells"]]
    names = list(data["estimators"])
    out: dict = {}
    for group in dict.fromkeys(json.dumps(c[by]) for c in cells):
        idx = [i for i, c in enumerate(cells) if json.dumps(c[by]) == group]
        entry: dict = {"seeds": [cells[i]["seed"] for i in idx], "metrics": {}}
        for m in metrics:
            if m not in data:
                continue
            vals = np.asarray(data[m][idx], np.float64)  # (seeds, trials, estimators)
            if not np.isfinite(vals).any():
                entry["metrics"][m] = None
                continue
            means = np.nanmean(vals, axis=1)
            rankings = Counter(
                " < ".join(names[j] for j in np.argsort(row, kind="stable")) for row in means
            )
            pairs = []
            for a, b in combinations(range(len(names)), 2):
                dec = [stats.decisive(stats.paired(v[:, a], v[:, b])) for v in vals]
                pairs.append(
                    {
                        "a": names[a],
                        "b": names[b],
                        "a_lower": int(np.sum(means[:, a] < means[:, b])),
                        "b_lower": int(np.sum(means[:, b] < means[:, a])),
                        "a_decisive": dec.count(1),
                        "b_decisive": dec.count(-1),
                    }
                )
            entry["metrics"][m] = {
                "mean": {n: float(np.mean(means[:, j])) for j, n in enumerate(names)},
                "rankings": dict(rankings.most_common()),
                "pairs": pairs,
            }
        out[json.loads(group)] = entry
    return out
