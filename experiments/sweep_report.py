"""Statistics, figures and the Markdown summary of a sweep's results folder (see sweep.py).

Reads the JSON Lines records (one per cell, trial and pairing) and writes ``summary.json``,
``summary.md`` and ``<metric>_vs_<key>.png``. Statistics are over the trials of a cell with
finite values; records with a non-finite metric are counted, not dropped silently.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from pathlib import Path

import dunne_campbell as dc
import numpy as np

from jaxsoftmax import sweep as sw

SUMMARY_METRICS = ("eq4", "error_rate")
METRIC_LABELS = {
    "eq4": "eq. (4), test sample (lower is better)",
    "error_rate": "test error rate",
    "eq4_summed": "eq. (4) summed over the test points",
}


def read_records(folder: Path) -> list[dict]:
    """Every record of the folder's chunk files (``chunks/chunk-*.jsonl``), in file order.

    A (cell, trial, pairing) that appears twice (two processes of a multi-host run racing for
    one chunk) is kept once.
    """
    seen, records = set(), []
    for path in sorted((Path(folder) / "chunks").glob("chunk-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                key = (r["cell"], r["trial"], r["pairing"])
                if key not in seen:
                    seen.add(key)
                    records.append(r)
    return records


def describe(values) -> dict:
    """n, mean, variance (ddof 1) and the 95% confidence interval of the mean (Student's t:
    mean ± t_{0.975, n−1}·s/√n) of the finite ``values``."""
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], float)
    n = v.size
    out = {"n": int(n), "mean": float("nan"), "var": float("nan")}
    out.update(ci_low=float("nan"), ci_high=float("nan"))
    if n:
        out["mean"] = float(v.mean())
    if n >= 2:
        out["var"] = float(v.var(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(out["var"] / n)
        out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out


def _finite(r: dict) -> bool:
    return all(r.get(m) is not None and math.isfinite(r[m]) for m in ("eq4", "error_rate"))


def summarise(config: sw.SweepConfig, records: list[dict]) -> dict:
    """Per (cell, pairing): statistics of eq. (4) and the error rate, and the count of trials
    with a non-finite result; per cell: paired comparisons of eq. (4) between pairings on the
    trials where both are finite (win fraction, sign test and Wilcoxon signed-rank p, via
    :func:`dunne_campbell.paired_comparisons`)."""
    by_cell: dict[int, dict[str, dict[int, dict]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        by_cell[r["cell"]][r["pairing"]][r["trial"]] = r
    rows, paired = [], []
    for cell in config.cells:
        per = by_cell.get(cell.index, {})
        for name in config.pairings:
            recs = list(per.get(name, {}).values())
            row = {"cell": cell.index, **cell.values, "pairing": name, "trials": len(recs)}
            row["nonfinite"] = sum(not _finite(r) for r in recs)
            for m in SUMMARY_METRICS:
                row[m] = describe(r[m] for r in recs if _finite(r))
            row["bayes_error_rate"] = describe(r["bayes_error_rate"] for r in recs)["mean"]
            rows.append(row)
        for a, b in itertools.combinations(config.pairings, 2):
            ra, rb = per.get(a, {}), per.get(b, {})
            both = sorted(t for t in ra if t in rb and _finite(ra[t]) and _finite(rb[t]))
            if not both:
                continue
            view = {
                "estimators": {
                    a: {"eq4": np.array([ra[t]["eq4"] for t in both])},
                    b: {"eq4": np.array([rb[t]["eq4"] for t in both])},
                }
            }
            (row,) = dc.paired_comparisons(view)
            row["a_win_fraction"] = row["a_wins"] / row["trials"]
            paired.append({"cell": cell.index, **row})
    grad = {}
    for name in config.pairings:
        g = [r["grad_norm"] for r in records if r["pairing"] == name and r.get("grad_norm")]
        g = [x for x in g if math.isfinite(x)]
        if g:
            grad[name] = {"median": float(np.median(g)), "max": float(np.max(g))}
    return {"cells": rows, "paired": paired, "grad_norm": grad, "n_records": len(records)}


def varied_keys(config: sw.SweepConfig) -> list[str]:
    """The grid keys that take more than one value across the cells."""
    return [k for k in sw.GRID_KEYS if len({json.dumps(c.values[k]) for c in config.cells}) > 1]


def _fmt_ci(s: dict, digits: int = 4) -> str:
    if not s["n"]:
        return "—"
    if s["n"] < 2:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def markdown(config: sw.SweepConfig, summary: dict, meta: dict, figures: list[str]) -> str:
    varied = varied_keys(config)
    fixed = {k: config.cells[0].values[k] for k in sw.GRID_KEYS if k not in varied}
    lines = [
        f"# Sweep `{config.name}`",
        "",
        f"{len(config.cells)} cells × {config.trials} trials × {len(config.pairings)} pairings "
        f"(config hash `{config.config_hash}`, seed {config.seed}); test samples of "
        f"{config.n_test_per_class} per class; varied: {', '.join(varied) or 'nothing'}; "
        "fixed: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fixed.items()) + ".",
        "",
        f"Records: {summary['n_records']} of {config.n_trainings * len(config.pairings)}. "
        + meta.get("run_line", ""),
        "",
        "## Non-finite results (NaN/inf eq. (4) or error rate) and convergence, by pairing",
        "",
        "| pairing | non-finite trials | of | median ‖∇ loss‖ at the end | max |",
        "|---|---|---|---|---|",
    ]
    for name in config.pairings:
        rows = [r for r in summary["cells"] if r["pairing"] == name]
        bad = sum(r["nonfinite"] for r in rows)
        g = summary["grad_norm"].get(name, {})
        lines.append(
            f"| {name} | {bad} | {sum(r['trials'] for r in rows)} "
            f"| {g.get('median', float('nan')):.2e} | {g.get('max', float('nan')):.2e} |"
        )
    lines += [
        "",
        "## Per cell: mean [95% CI] and variance over trials (finite results only)",
        "",
        "| "
        + " | ".join([*varied, "pairing", "eq. (4)", "var", "error rate", "var", "Bayes", "NaN"])
        + " |",
        "|" + "---|" * (len(varied) + 7),
    ]
    for r in summary["cells"]:
        cells = [json.dumps(r[k]) for k in varied]
        e, er = r["eq4"], r["error_rate"]
        lines.append(
            "| "
            + " | ".join(
                [
                    *cells,
                    r["pairing"],
                    _fmt_ci(e),
                    f"{e['var']:.2e}",
                    _fmt_ci(er),
                    f"{er['var']:.2e}",
                    f"{r['bayes_error_rate']:.4f}",
                    f"{r['nonfinite']}/{r['trials']}",
                ]
            )
            + " |"
        )
    lines += [
        "",
        "## Paired comparisons of eq. (4) on the same data (A wins: lower eq. (4))",
        "",
        "| "
        + " | ".join([*varied, "A", "B", "trials", "A wins", "mean A − B", "Wilcoxon p"])
        + " |",
        "|" + "---|" * (len(varied) + 6),
    ]
    for p in summary["paired"]:
        values = config.cells[p["cell"]].values
        lines.append(
            "| "
            + " | ".join(
                [
                    *(json.dumps(values[k]) for k in varied),
                    p["a"],
                    p["b"],
                    str(p["trials"]),
                    f"{p['a_win_fraction']:.2f}",
                    f"{p['mean_diff']:+.4f}",
                    f"{p['wilcoxon_p']:.2g}",
                ]
            )
            + " |"
        )
    if figures:
        lines += ["", "## Figures", "", *(f"![{f}]({f})" for f in figures)]
    return "\n".join(lines) + "\n"


def figures(config: sw.SweepConfig, summary: dict, out: Path) -> list[str]:
    """For each varied numeric key and each metric: the metric's mean against the key, one
    line per pairing, with its 95% confidence band; one panel per combination of the other
    varied keys (at most 12 panels, else the figure is skipped)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plots  # experiments/plots.py

    varied = varied_keys(config)
    names = []
    for key in varied:
        if not all(isinstance(c.values[key], (int, float)) for c in config.cells):
            continue
        others = [k for k in varied if k != key]
        panels = sorted({tuple(json.dumps(c.values[k]) for k in others) for c in config.cells})
        if len(panels) > 12:
            continue
        for metric in SUMMARY_METRICS:
            fig, axes = plt.subplots(
                1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False
            )
            for ax, panel in zip(axes[0], panels):
                rows = [
                    r for r in summary["cells"] if tuple(json.dumps(r[k]) for k in others) == panel
                ]
                for name in config.pairings:
                    pr = sorted((r for r in rows if r["pairing"] == name), key=lambda r: r[key])
                    x = np.array([r[key] for r in pr], float)
                    m = np.array([r[metric]["mean"] for r in pr])
                    lo = np.array([r[metric]["ci_low"] for r in pr])
                    hi = np.array([r[metric]["ci_high"] for r in pr])
                    (line,) = ax.plot(x, m, marker="o", ms=3, label=name)
                    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
                if metric == "error_rate":
                    first = config.pairings[0]
                    bayes = sorted(
                        (r[key], r["bayes_error_rate"]) for r in rows if r["pairing"] == first
                    )
                    ax.plot(*zip(*bayes), "k--", lw=1, label="Bayes rule")
                xs = sorted({r[key] for r in rows})
                if len(xs) > 1 and xs[0] > 0 and xs[-1] / xs[0] >= 20:
                    ax.set_xscale("log")
                ax.set_xlabel(key)
                ax.set_ylabel(METRIC_LABELS.get(metric, metric))
                title = ", ".join(f"{k} = {v}" for k, v in zip(others, panel))
                ax.set_title(title or f"{config.trials} trials per point, 95% CI bands", fontsize=8)
                ax.grid(alpha=0.3)
            axes[0][0].legend(fontsize=7)
            names.append(plots.save(fig, out / f"{metric}_vs_{key}.png"))
    return names


def write_summary(config: sw.SweepConfig, folder: Path, meta: dict, *, plot: bool = True) -> str:
    """Reads the records, writes ``summary.json``, ``summary.md`` and the figures; returns the
    Markdown."""
    folder = Path(folder)
    summary = summarise(config, read_records(folder))
    names = figures(config, summary, folder) if plot else []
    text = markdown(config, summary, meta, names)
    dc.write_atomic(folder / "summary.json", json.dumps(summary, indent=1, default=float))
    dc.write_atomic(folder / "summary.md", text)
    return text
