"""Markdown reports: pure functions of a configuration and its summary (no I/O)."""

from __future__ import annotations

import numpy as np

from .. import config as C
from .. import paper, stats

__all__ = [
    "across_seeds",
    "brief",
    "protocol",
    "rates_table",
    "readme_reproduction",
    "reproduction",
]

# A fixed-length protocol stops where it was told to: a gradient still this large there is
# the protocol's stopping point, not a failure (see the training-length study).
MOVING = 1e-3  # relative fall of the training loss over the last 10% of steps


def protocol(config: C.Config) -> str:
    """One sentence: the set-up and the training protocol."""
    t, p = config.training, config.problem
    if p.family == "data":
        sizes = (
            f"the data set {p.dataset!r} ({p.n_classes} classes, {p.n_inputs} inputs) split "
            f"anew in each trial, {p.test_fraction:g} of it (stratified) for testing and the "
            "rest for training, standardised on the training split, "
        )
    else:
        sizes = (
            f"{p.n_per_class} training and {p.n_test_per_class} independent test observations "
            "per class, "
        )
    text = (
        f"{config.trials} trials (seed {config.seed}), {sizes}"
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
    lines = [
        "| true \\ ascribed | " + " | ".join(str(i + 1) for i in range(k)) + " |",
        "|---" * (k + 1) + "|",
    ]
    for i, row in enumerate(rates):
        lines.append(f"| {i + 1} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
    return lines


def across_seeds(a: dict) -> list[str]:
    """The seed-robustness table: how many of the seeds give each ranking and each decisive
    paired difference."""
    n = len(a["seeds"])
    seeds = f"seeds {a['seeds'][0]}–{a['seeds'][-1]}"
    label = paper.label
    metric = "log-loss" if a.get("metric") == "log_loss" else "eq. (4)"
    lines = [
        f"### Across {n} seeds ({seeds}, this protocol, {n} × the trials above)",
        "",
        f"| mean {metric}, largest (worst) > ... > smallest (best) | seeds |",
        "|---|---|",
    ]
    for key, count in sorted(a["rankings"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {' > '.join(label(x) for x in key.split(' > '))} | {count} of {n} |")
    lines += [
        "",
        "| A | B | A decisively better | B decisively better | undecided |",
        "|---|---|---|---|---|",
    ]
    for p in a["paired"]:
        lines.append(
            f"| {label(p['a'])} | {label(p['b'])} | {p['a_better']} of {n} "
            f"| {p['b_better']} of {n} | {p['undecided']} of {n} |"
        )
    return lines


def problem_section(problem: dict) -> list[str]:
    """The problem in words, and whether its exact posterior is softmax-affine in x
    (:func:`jaxsoftmax.experiment.problem_summary`)."""
    lines = [
        "## The problem",
        "",
        f"Family `{problem['family']}` ({problem['name']}): {problem['n_classes']} classes, "
        f"{problem['n_inputs']} inputs.",
        "",
    ]
    if not problem["exact_posterior"]:
        lines.append(
            "**No exact posterior** (real data): eq. (4), which scores the estimates against "
            "the exact Bayes posterior, is **unavailable**, and so are the Bayes rule's rates. "
            "Reported instead: the test error rate, the log-loss, the Brier score and the "
            "expected calibration error, which need none."
        )
    elif problem["softmax_affine"]:
        lines.append(
            "The exact posterior **is softmax-affine** in x: P(C_k | x) = softmax(Wx + b)_k "
            "(Dunne & Campbell, eq. 3: a shared-dispersion exponential family with T(x) = x), "
            "the form the softmax output unit can represent exactly."
        )
    else:
        lines.append(
            "The exact posterior is **not softmax-affine** in x: its logits are not affine in "
            "x (for heteroscedastic Gaussians, QDA, they are quadratic: Hastie, Tibshirani & "
            "Friedman, eq. 4.12), so no softmax of an affine map of x reproduces it; the "
            "hidden layer must supply the curvature."
        )
    return lines


def scores_section(summary: dict) -> list[str]:
    """The scores that need no exact posterior: log-loss, Brier score, ECE (its binning
    stated), the error rate, the ranking and paired comparisons by log-loss."""
    label = paper.label
    bins = summary["calibration"]["bins"]
    lines = [
        "",
        "## Scores that need no exact posterior",
        "",
        "Mean over trials [95% interval]. Log-loss: mean −log P̂(true class | x) on the test "
        "sample (Bishop 2006, eq. 4.108; outputs not renormalised, clipped below at the "
        "float32 ε). Brier: Σ_k (P̂_k − 1{y = k})² averaged (Brier 1950). ECE: the expected "
        f"calibration error of the top label over **{bins} equal-width bins** of the "
        "top-label confidence on [0, 1], right-closed ((m−1)/M, m/M], empty bins left out "
        "(Guo et al. 2017, eq. 3).",
        "",
        "| estimator | log-loss | Brier | ECE | error rate |",
        "|---|---|---|---|---|",
    ]

    def ci(d, digits=4):
        return (
            f"{_fmt(d['mean'], digits)} [{_fmt(d['ci_low'], digits)}, {_fmt(d['ci_high'], digits)}]"
        )

    for name, sc in summary["scores"].items():
        er = summary["error_rate"][name]
        lines.append(
            f"| {label(name)} | {ci(sc['log_loss'])} | {ci(sc['brier'])} | {ci(sc['ece'])} "
            f"| {ci(er)} |"
        )
    rank = summary["ranking_log_loss"]
    if len(rank) > 1:
        means = {n: summary["scores"][n]["log_loss"]["mean"] for n in rank}
        lines += [
            "",
            "**Ranking** by mean log-loss, largest (worst) first: "
            + ranking_text(rank, means)
            + ".",
        ]
    if summary["paired_log_loss"]:
        lines += _paired_section(summary["paired_log_loss"], "log-loss")
    return lines


def _fmt(x: float, digits: int = 4) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def reproduction(
    config: C.Config,
    summary: dict,
    meta: dict,
    figures: list[str],
    problem: dict | None = None,
) -> str:
    """The reproduction's report: the problem (whether its exact posterior is softmax-affine),
    Tables 2–6 in the paper's order beside the paper's values, the differences with 95%
    intervals, the paired tests, the ranking explained, the scores that need no exact
    posterior (log-loss, Brier, ECE), convergence, and the figures embedded. ``problem``:
    :func:`jaxsoftmax.experiment.problem_summary` (computed when not given)."""
    from ..gaussians import analytic_paper_rates  # imports JAX: only when reporting

    if problem is None:
        from ..experiment import problem_summary

        problem = problem_summary(config)
    label = paper.label
    t2 = summary["table2"]
    names = list(t2)
    paper_setup = (
        C.is_paper_engine(config)
        and config.problem.n_classes == 4
        and config.problem.separation == 1.0
    )
    head = [
        "# Dunne & Campbell (1997), section 4.1, reproduced with jaxsoftmax",
        "",
        protocol(config) + ". "
        f"Run on {meta['device']} in {meta['seconds']:.1f} s (jax {meta['jax']}, "
        f"jaxsoftmax {meta['jaxsoftmax']}). Every number below is from this one run "
        f"(one seed, {config.trials} trials); `results.json` holds every per-trial value.",
        "",
        *problem_section(problem),
        "",
    ]
    if summary.get("eq4_available", True):
        lines = head + _table2(config, summary, paper_setup)
    else:
        lines = [
            *head,
            "## Table 2: eq. (4) — unavailable",
            "",
            "Eq. (4) needs the exact posterior, which a real data set does not have; the "
            "estimators are compared by the scores below instead.",
        ]
    if "scores" in summary:
        lines += scores_section(summary)
    if "across_seeds" in summary and (summary["paired"] or summary.get("paired_log_loss")):
        lines += ["", *across_seeds(summary["across_seeds"])]
    lines += [
        "",
        "## Tables 3–6: class-conditional classification rates (rows: true class)",
        "",
    ]
    exact = problem["exact_posterior"]
    if exact:
        lines += [f"### Table {paper.TABLE_NUMBER['bayes']}: the Bayes rule", ""]
        bayes_trace = float(np.trace(np.asarray(summary["bayes_rates_empirical"])))
        if paper_setup:
            lines += [
                "Analytic (Φ(1)², Φ(1)Φ(−1), Φ(−1)²):",
                "",
                *rates_table(analytic_paper_rates()),
            ]
        lines += [
            "",
            "Empirical, the Bayes rule on our test samples:",
            "",
            *rates_table(summary["bayes_rates_empirical"]),
            "",
            f"Trace: {bayes_trace:.4f} on our test samples"
            + (f", {float(np.trace(analytic_paper_rates())):.4f} analytic" if paper_setup else "")
            + ".",
        ]
        if paper_setup:
            lines += ["", "The paper's:", "", *rates_table(paper.TABLES["bayes"])]
    else:
        lines.append("No Bayes rule without an exact posterior: the estimators' rates only.")
    order = sorted(names, key=lambda n: paper.TABLE_NUMBER.get(n, 99))
    for name in order:
        num = paper.TABLE_NUMBER.get(name)
        head_ = f"Table {num}: {label(name)}" if num else label(name)
        ours_rates = summary["rates"][name]
        lines += ["", f"### {head_}", "", "Ours (mean over trials):", "", *rates_table(ours_rates)]
        trace = f"Trace: ours {np.trace(np.asarray(ours_rates)):.4f}"
        theirs_rates = None
        if paper_setup and name in paper.TABLES:
            theirs_rates = paper.TABLES[name]
            lines += ["", "The paper's:", "", *rates_table(theirs_rates)]
            trace += f", paper {np.trace(np.asarray(theirs_rates)):.4f}"
        er = summary["error_rate"][name]
        if exact:
            lines += [
                "",
                f"{trace}; test error rate {er['mean']:.4f} [{er['ci_low']:.4f}, "
                f"{er['ci_high']:.4f}] (Bayes rule: {summary['bayes_error_rate']:.4f}).",
                "",
                trace_comment(ours_rates, er, summary["bayes_rates_empirical"], theirs_rates),
            ]
        else:
            lines += [
                "",
                f"{trace}; test error rate {er['mean']:.4f} [{er['ci_low']:.4f}, "
                f"{er['ci_high']:.4f}].",
            ]
    return _tail(config, summary, names, figures, lines)


def _table2(config: C.Config, summary: dict, paper_setup: bool) -> list[str]:
    """Table 2 (eq. (4)), the ranking and the paired tests by eq. (4)."""
    label = paper.label
    t2 = summary["table2"]
    names = list(t2)
    engine = C.is_paper_engine(config)  # the paper's values compare with its problem only
    lines = [
        "## Table 2: eq. (4), mean and variance over trials",
        "",
        "Eq. (4) as printed averages over the N test points, so it cannot exceed √2; the "
        "paper's values (~4) are on the scale of the *summed* form (no 1/N, √N times larger). "
        "Both are reported. Ours − paper is of the summed mean, with the 95% interval of a "
        f"two-sample (Welch) comparison of our {config.trials} trials with the paper's "
        "100, each with its own variance: the paper's mean has sampling error too.",
        "",
        "| estimator | eq. (4) mean | variance | summed mean | summed variance "
        "| paper mean (variance) | ours − paper [95% CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        r = t2[name]
        e, s = r["eq4"], r["eq4_summed"]
        pm, pv = paper.TABLE2.get(name, (np.nan, np.nan)) if engine else (np.nan, np.nan)
        diff = (
            f"{r['diff']:+.3f} [{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}]"
            if "diff" in r
            else "—"
        )
        lines.append(
            f"| {label(name)} | {_fmt(e['mean'])} | {_fmt(e['var'], 5)} | {_fmt(s['mean'], 3)} "
            f"| {_fmt(s['var'], 3)} | {_fmt(pm, 3)} ({_fmt(pv, 3)}) | {diff} |"
        )
    ours, theirs = summary["ranking"], summary["paper_ranking"] if engine else []
    same = [n for n in ours if n in theirs] == theirs
    if len(names) > 1:
        lines += [
            "",
            "**Ranking** by mean eq. (4), largest (worst) first: "
            + ranking_text(ours, {n: t2[n]["eq4"]["mean"] for n in ours})
            + ".",
        ]
        if len(theirs) > 1:
            lines.append(
                "The paper's (Table 2, summed form): "
                + ranking_text(theirs, {n: paper.TABLE2[n][0] for n in theirs}, 3)
                + "."
            )
        lines.append("")
    if len(names) < 2 or len(theirs) < 2:
        pass
    elif same:
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
    if summary["paired"]:
        lines += _paired_section(summary["paired"])
    return lines


def ranking_text(names, means: dict, digits: int = 4) -> str:
    """``A (0.26) > B (0.24) > C (0.22)``: names in the given order, each with its mean, so
    that ">" reads as "larger mean eq. (4) than" (worse: lower is better)."""
    return " > ".join(f"{paper.label(n)} ({means[n]:.{digits}f})" for n in names)


def trace_comment(ours, error_rate: dict, bayes_empirical, theirs=None) -> str:
    """What a trace below the Bayes rule's or the paper's means (Tables 4–6).

    With four equally likely classes the test error rate is 1 − trace/4, so the trace is
    judged through the error rate's 95% interval (Student's t over trials): against the
    Bayes rule on the same test samples (the least error rate, so in expectation every
    estimator's trace is below the Bayes trace: the gap is the cost of estimating the
    posteriors from the training sample) and against the error rate the paper's table implies.
    """
    k = np.asarray(ours).shape[0]
    t_ours = float(np.trace(np.asarray(ours)))
    t_bayes = float(np.trace(np.asarray(bayes_empirical)))
    lo, hi = error_rate["ci_low"], error_rate["ci_high"]
    gap = t_bayes - t_ours
    if gap > 0:
        text = (
            f"Below the Bayes rule's trace on the same test samples by {gap:.4f} (an error "
            f"rate higher by {gap / k:.4f}): expected, the Bayes rule having the least error "
            "rate; this is what estimating the posteriors from the training sample costs "
            "under this protocol."
        )
    else:
        text = (
            f"At or above the Bayes rule's trace on the same test samples ({-gap:+.4f}): "
            "only sampling noise can do that, since the Bayes rule has the least expected "
            "error rate."
        )
    if theirs is not None:
        t_paper = float(np.trace(np.asarray(theirs)))
        implied = 1 - t_paper / k
        if t_ours < t_paper:
            verdict = (
                "the paper's implied error rate {:.4f} is below our 95% interval: a real "
                "difference, not our sampling noise (the paper names neither its optimiser nor "
                "its training length: `jaxsoftmax training-length` shows how the error rate "
                "depends on the length)"
                if implied < lo
                else "the paper's implied error rate {:.4f} is inside our 95% interval: "
                "within our sampling noise"
            ).format(implied)
            text += f" Below the paper's trace by {t_paper - t_ours:.4f}; {verdict}."
        else:
            verdict = "above our 95% interval" if implied > hi else "inside our 95% interval"
            text += (
                f" At or above the paper's trace (+{t_ours - t_paper:.4f}); the paper's implied "
                f"error rate {implied:.4f} is {verdict}."
            )
    return text


def _paired_section(paired_rows: list[dict], metric: str = "eq. 4") -> list[str]:
    label = paper.label
    lines = [
        "",
        f"## Paired comparisons across trials ({metric}; each trial: same data, same start)",
        "",
        "| A | B | A better in | B better in | mean A − B [95% CI] | sign test p "
        "| Wilcoxon p | paired t p | decisive |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in paired_rows:
        decisive = stats.decisive(row) != 0
        lines.append(
            f"| {label(row['a'])} | {label(row['b'])} | {row['a_wins']}/{row['trials']} "
            f"| {row['b_wins']}/{row['trials']} | {row['mean_diff']:+.4f} "
            f"[{row['diff_ci_low']:+.4f}, {row['diff_ci_high']:+.4f}] "
            f"| {row['sign_test_p']:.2g} | {row['wilcoxon_p']:.2g} | {row['ttest_p']:.2g} "
            f"| {'yes' if decisive else 'no'} |"
        )
    lines += [
        "",
        "Decisive: the sign test, the Wilcoxon signed-rank test and the paired t-test all at "
        "p < 0.05.",
    ]
    return lines


def _tail(config: C.Config, summary: dict, names: list[str], figures, lines) -> str:
    label = paper.label
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


def brief(config: C.Config, summary: dict, out) -> str:
    """What the command prints when it has finished: where the report is, and a few lines
    (Table 2's summed means beside the paper's, the ranking) instead of the whole report."""
    label = paper.label
    t2 = summary["table2"]
    width = max(len(label(n)) for n in t2)
    if not summary.get("eq4_available", True):
        lines = [
            f"eq. (4) unavailable (no exact posterior); mean log-loss over {config.trials} "
            f"trials (seed {config.seed}):"
        ]
        for name in t2:
            lines.append(
                f"  {label(name):<{width}}  {_fmt(summary['scores'][name]['log_loss']['mean'])}"
            )
        lines.append(f"Report (scores, rates, convergence): {out}/report.md")
        return "\n".join(lines)
    lines = [
        f"Table 2, eq. (4) summed (the paper's scale), mean over {config.trials} trials "
        f"(seed {config.seed}):"
    ]
    engine = C.is_paper_engine(config)
    for name, r in t2.items():
        pm = paper.TABLE2.get(name, (None, None))[0] if engine else None
        theirs = f"   the paper's {pm:.3f}" if pm is not None else ""
        lines.append(f"  {label(name):<{width}}  {_fmt(r['eq4_summed']['mean'], 3)}{theirs}")
    if len(t2) > 1:
        ours = summary["ranking"]
        theirs_rank = summary["paper_ranking"] if engine else []
        same = [n for n in ours if n in theirs_rank] == theirs_rank and len(theirs_rank) > 1
        lines.append(
            "Mean eq. (4), largest (worst) first: "
            + ranking_text(ours, {n: t2[n]["eq4"]["mean"] for n in ours})
            + (" (the paper's ranking)" if same else "")
        )
    lines.append(f"Report (Tables 2-6, paired tests, convergence): {out}/report.md")
    return "\n".join(lines)


def readme_reproduction(config: C.Config, summary: dict) -> str:
    """README's reproduction tables, generated from a run's summary (``results.json``): the
    numbers in README are never typed by hand (a test compares them with the stored run)."""
    label = paper.label
    t2 = summary["table2"]
    lines = [
        f"**Table 2** — eq. (4), mean (variance) over {config.trials} trials, seed "
        f"{config.seed}; the last column is ours − the paper's summed mean with the 95% "
        f"interval of a two-sample (Welch) comparison of our {config.trials} trials with the "
        "paper's 100, each with its own variance.",
        "",
        "| estimator | eq. (4) | eq. (4) summed | the paper's | ours − paper [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for name, r in t2.items():
        pm, pv = paper.TABLE2.get(name, (np.nan, np.nan))
        diff = (
            f"{r['diff']:+.3f} [{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}]"
            if "diff" in r
            else "—"
        )
        lines.append(
            f"| {label(name)} | {r['eq4']['mean']:.4f} ({r['eq4']['var']:.5f}) "
            f"| {r['eq4_summed']['mean']:.3f} ({r['eq4_summed']['var']:.3f}) "
            f"| {pm:.3f} ({pv:.3f}) | {diff} |"
        )
    if summary["paired"]:
        lines += [
            "",
            f"Paired over the {config.trials} trials of seed {config.seed} (same data, same "
            "initial weights; decisive = sign test, Wilcoxon and paired t all at p < 0.05):",
            "",
            "| A | B | A better in | mean A − B | sign p | Wilcoxon p | t p | decisive |",
            "|---|---|---|---|---|---|---|---|",
        ]
    for row in summary["paired"]:
        decisive = stats.decisive(row) != 0
        lines.append(
            f"| {label(row['a'])} | {label(row['b'])} | {row['a_wins']}/{row['trials']} "
            f"| {row['mean_diff']:+.4f} | {row['sign_test_p']:.2g} | {row['wilcoxon_p']:.2g} "
            f"| {row['ttest_p']:.2g} | {'yes' if decisive else 'no'} |"
        )
    if "across_seeds" in summary:
        lines += ["", *across_seeds(summary["across_seeds"])]
    lines += [
        "",
        "**Tables 3–6**, diagonals (trace) beside the paper's:",
        "",
        "| estimator (paper's table) | ours: diagonal | trace | paper: diagonal | trace |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(t2, key=lambda n: paper.TABLE_NUMBER.get(n, 99)):
        ours = np.asarray(summary["rates"][name])
        theirs = np.asarray(paper.TABLES[name]) if name in paper.TABLES else None
        diag = " ".join(f"{v:.3f}".lstrip("0") for v in np.diag(ours))
        pd = (
            " ".join(f"{v:.3f}".lstrip("0") for v in np.diag(theirs)) if theirs is not None else "—"
        )
        pt = f"{np.trace(theirs):.4f}" if theirs is not None else "—"
        lines.append(
            f"| {label(name)} ({paper.TABLE_NUMBER.get(name, '—')}) | {diag} "
            f"| {np.trace(ours):.4f} | {pd} | {pt} |"
        )
    return "\n".join(lines)


def readme_training_length(config: C.Config, summary: dict) -> str:
    """README's training-length table, generated from ``jaxsoftmax training-length``'s
    ``results.json``."""
    names = list(config.estimators)
    short = {
        n: paper.label(n).replace("least squares", "LS").replace("cross-entropy", "CE")
        for n in names
    }
    lines = [
        f"Mean eq. (4), summed form (the paper's scale), {config.trials} trials of seed "
        f"{config.seed}, one run to {config.training.steps} steps with snapshots; the last "
        "column: test error rate, mean over the estimators.",
        "",
        "| steps | "
        + " | ".join(short[n] for n in names)
        + " | mean eq. (4), largest (worst) > ... > smallest (best) | error rate |",
        "|---|" + "---|" * len(names) + "---|---|",
    ]
    for row in summary["rows"]:
        mine = [n for n in row["ranking"] if n in paper.RANKING] == list(paper.RANKING)
        err = float(np.mean([row["error_rate"][n] for n in names]))
        lines.append(
            f"| {row['steps']} | "
            + " | ".join(f"{row['eq4_summed'][n]:.2f}" for n in names)
            + " | "
            + " > ".join(short[n] for n in row["ranking"])
            + (" (the paper's)" if mine else "")
            + f" | {err:.3f} |"
        )
    return "\n".join(lines)


def readme_protocols(cells: list[dict], summary: dict, trials: int) -> str:
    """README's protocol table from the ``protocols`` sweep (``summary.json``): per protocol,
    mean eq. (4) over the seeds and, per pair, in how many seeds each side is decisively
    better (sign, Wilcoxon and paired t tests all at p < 0.05)."""

    def protocol(row) -> str:
        if row["training.early_stopping"]:
            return "early stopping (best on 100 validation points per class)"
        if row["training.weight_decay"]:
            return f"decoupled weight decay {row['training.weight_decay']:g}"
        return "fixed 2000 steps (the reproduction)"

    seeds = sorted({r["seed"] for r in summary["cells"]})
    names = list(dict.fromkeys(r["estimator"] for r in summary["cells"]))
    short = {
        n: paper.label(n).replace("least squares", "LS").replace("cross-entropy", "CE")
        for n in names
    }
    protocols = list(dict.fromkeys(protocol(r) for r in summary["cells"]))
    lines = [
        f"Mean eq. (4) summed (×√N, the paper's scale) over {len(seeds)} seeds × {trials} "
        "trials; then, for each pair, the seeds (of "
        f"{len(seeds)}) in which A / B is decisively better (sign, Wilcoxon and paired t "
        "tests all at p < 0.05):",
        "",
        "| protocol | "
        + " | ".join(short[n] for n in names)
        + " | "
        + " | ".join(
            f"{short[a]} vs {short[b]}" for i, a in enumerate(names) for b in names[i + 1 :]
        )
        + " |",
        "|---|" + "---|" * (len(names) + len(names) * (len(names) - 1) // 2),
    ]
    scale = None
    for proto in protocols:
        rows = [r for r in summary["cells"] if protocol(r) == proto]
        if scale is None:
            scale = float(np.sqrt(4 * 100))  # N test points of the default problem
        means = [
            np.mean([r["eq4"]["mean"] for r in rows if r["estimator"] == n]) * scale for n in names
        ]
        pairs = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                ps = [
                    p
                    for p in summary["paired"]
                    if protocol(p) == proto and p["a"] == a and p["b"] == b
                ]
                dec = [stats.decisive(p) for p in ps]
                pairs.append(f"{dec.count(1)} / {dec.count(-1)}")
        lines.append(
            f"| {proto} | "
            + " | ".join(f"{m:.2f}" for m in means)
            + " | "
            + " | ".join(pairs)
            + " |"
        )
    return "\n".join(lines)
