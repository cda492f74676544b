"""Markdown reports: pure functions of a configuration and its summary (no I/O)."""

from __future__ import annotations

import numpy as np

from .. import config as C
from .. import paper
from ..gaussians import analytic_paper_rates

__all__ = ["protocol", "rates_table", "reproduction"]

# A fixed-length protocol stops where it was told to: a gradient still this large there is
# the protocol's stopping point, not a failure (see the training-length study).
MOVING = 1e-3  # relative fall of the training loss over the last 10% of steps


def protocol(config: C.Config) -> str:
    """One sentence: the set-up and the training protocol."""
    t, p = config.training, config.problem
    text = (
        f"{config.trials} trials (seed {config.seed}), {p.n_per_class} training and "
        f"{p.n_test_per_class} independent test observations per class, "
        f"h = {config.model.hidden} hidden units, {t.optimizer} (learning rate "
        f"{t.learning_rate:g}"
        + (f", decoupled weight decay {t.weight_decay:g}" if t.weight_decay else "")
        + f"), {t.steps} full-batch steps"
    )
    if t.early_stopping:
        text += f", early stopping on {p.n_val_per_class} validation observations per class"
    return text


def rates_table(rates) -> list[str]:
    rates = np.asarray(rates, float)
    k = rates.shape[0]
    lines = ["| true \\ ascribed | " + " | ".join(str(i + 1) for i in range(k)) + " |",
             "|---" * (k + 1) + "|"]
    for i, row in enumerate(rates):
        lines.append(f"| {i + 1} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
    return lines


def _fmt(x: float, digits: int = 4) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def reproduction(config: C.Config, summary: dict, meta: dict, figures: list[str]) -> str:
    """The reproduction's report: Tables 2–6 in the paper's order beside the paper's values,
    the differences with 95% intervals, the paired tests, the ranking explained, convergence,
    and the figures embedded."""
    label = paper.label
    t2 = summary["table2"]
    names = list(t2)
    paper_setup = config.problem.n_classes == 4 and config.problem.separation == 1.0
    lines = [
        "# Dunne & Campbell (1997), section 4.1, reproduced with jaxsoftmax",
        "",
        protocol(config) + ". "
        f"Run on {meta['device']} in {meta['seconds']:.1f} s (jax {meta['jax']}, "
        f"jaxsoftmax {meta['jaxsoftmax']}). Every number below is from this one run "
        f"(one seed, {config.trials} trials); `results.json` holds every per-trial value.",
        "",
        "## Table 2: eq. (4), mean and variance over trials",
        "",
        "Eq. (4) as printed averages over the N test points, so it cannot exceed √2; the "
        "paper's values (~4) are on the scale of the *summed* form (no 1/N, √N times larger). "
        "Both are reported; the difference to the paper is of the summed mean, with the 95% "
        "t-interval of our mean.",
        "",
        "| estimator | eq. (4) mean | variance | summed mean | summed variance "
        "| paper mean (variance) | ours − paper [95% CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        r = t2[name]
        e, s = r["eq4"], r["eq4_summed"]
        pm, pv = paper.TABLE2.get(name, (np.nan, np.nan))
        diff = (
            f"{r['diff']:+.3f} [{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}]"
            if "diff" in r
            else "—"
        )
        lines.append(
            f"| {label(name)} | {_fmt(e['mean'])} | {_fmt(e['var'], 5)} | {_fmt(s['mean'], 3)} "
            f"| {_fmt(s['var'], 3)} | {_fmt(pm, 3)} ({_fmt(pv, 3)}) | {diff} |"
        )
    ours, theirs = summary["ranking"], summary["paper_ranking"]
    same = [n for n in ours if n in theirs] == theirs
    lines += [
        "",
        "**Ranking**, worst to best by mean eq. (4): " + " > ".join(label(n) for n in ours) + ".",
        "The paper's: " + " > ".join(label(n) for n in theirs) + ".",
        "",
    ]
    if same:
        lines.append("Our ranking is the paper's under this protocol.")
    else:
        lines.append(
            "**Our ranking differs from the paper's, and this is expected under this "
            "protocol.** The paper names neither its optimiser nor its training length, and "
            "the ranking depends on them: a 2–h–4 network trained to a fixed, long length on "
            "400 points over-fits, least squares with softmax most. The paper's ranking holds "
            "when training stops early (about 100–200 full-batch Adam steps, or "
            "`--training.early_stopping true`) — run `jaxsoftmax training-length` to see Table "
            "2 and the paired tests at every length from the same data. Softmax + "
            "cross-entropy, the paper's recommendation, is "
            + ("the best" if ours[-1] == "softmax/cross_entropy" else "not the best")
            + " here."
        )
    lines += [
        "",
        "## Paired comparisons across trials (eq. 4; each trial: same data, same start)",
        "",
        "| A | B | A better in | B better in | mean A − B [95% CI] | sign test p "
        "| Wilcoxon p | paired t p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["paired"]:
        lines.append(
            f"| {label(row['a'])} | {label(row['b'])} | {row['a_wins']}/{row['trials']} "
            f"| {row['b_wins']}/{row['trials']} | {row['mean_diff']:+.4f} "
            f"[{row['diff_ci_low']:+.4f}, {row['diff_ci_high']:+.4f}] "
            f"| {row['sign_test_p']:.2g} | {row['wilcoxon_p']:.2g} | {row['ttest_p']:.2g} |"
        )
    lines += [
        "",
        "A difference is called decisive here only where all three tests agree (p < 0.05).",
        "",
        "## Tables 3–6: class-conditional classification rates (rows: true class)",
        "",
        f"### Table {paper.TABLE_NUMBER['bayes']}: the Bayes rule",
        "",
    ]
    if paper_setup:
        lines += ["Analytic (Φ(1)², Φ(1)Φ(−1), Φ(−1)²):", "", *rates_table(analytic_paper_rates())]
    lines += ["", "Empirical, the Bayes rule on our test samples:", "",
              *rates_table(summary["bayes_rates_empirical"])]
    if paper_setup:
        lines += ["", "The paper's:", "", *rates_table(paper.TABLES["bayes"])]
    order = sorted(names, key=lambda n: paper.TABLE_NUMBER.get(n, 99))
    for name in order:
        num = paper.TABLE_NUMBER.get(name)
        head = f"Table {num}: {label(name)}" if num else label(name)
        ours_rates = summary["rates"][name]
        lines += ["", f"### {head}", "", "Ours (mean over trials):", "", *rates_table(ours_rates)]
        trace = f"Trace: ours {np.trace(np.asarray(ours_rates)):.4f}"
        if paper_setup and name in paper.TABLES:
            lines += ["", "The paper's:", "", *rates_table(paper.TABLES[name])]
            trace += f", paper {np.trace(np.asarray(paper.TABLES[name])):.4f}"
        er = summary["error_rate"][name]
        lines += ["", f"{trace}; test error rate {er['mean']:.4f} [{er['ci_low']:.4f}, "
                  f"{er['ci_high']:.4f}] (Bayes rule: {summary['bayes_error_rate']:.4f})."]
    lines += [
        "",
        "## Convergence",
        "",
        "The protocol trains for a fixed number of steps. Where the training loss still falls "
        f"by more than {MOVING:.0e} (relative) over the last 10% of steps, the networks are "
        "*still moving* at the protocol's intended stopping point: that is the protocol, not a "
        "failure (training longer over-fits: see `jaxsoftmax training-length`).",
        "",
        "| estimator | median ‖∇ loss‖ | max ‖∇ loss‖ | mean final loss | loss fall, last 10% "
        "| state | outputs sum to |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        c = summary["convergence"][name]
        moving = c["loss_drop_median"] > MOVING
        state = "still moving at the intended stopping point" if moving else "settled"
        if config.training.early_stopping:
            state = "early-stopped (best on validation)"
        lines.append(
            f"| {label(name)} | {c['grad_norm_median']:.2e} | {c['grad_norm_max']:.2e} "
            f"| {c['final_loss_mean']:.4f} | {c['loss_drop_median']:.2e} | {state} "
            f"| [{c['output_sum_min']:.3f}, {c['output_sum_max']:.3f}] |"
        )
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"
