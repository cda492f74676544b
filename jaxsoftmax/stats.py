"""Statistics of per-trial results: Table 2's summaries and paired comparisons across trials.

Each trial is a pair (or tuple): every estimator saw the same data and started from the same
weights (:mod:`jaxsoftmax.experiment`), so estimators are compared trial by trial: the win
count, the sign test, the Wilcoxon signed-rank test and the paired t-test, each two-sided.
Across many comparisons (a sweep), p-values are adjusted for the false discovery rate
(Benjamini & Hochberg 1995, via ``scipy.stats.false_discovery_control``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["decisive", "describe", "fdr", "paired", "paired_all", "ranking", "welch"]


def describe(values: Sequence[float] | np.ndarray) -> dict:
    """n, mean, variance (ddof 1) and the 95% confidence interval of the mean (Student's t:
    mean ± t_{0.975, n−1}·s/√n) of the finite values; counts the non-finite ones."""
    from scipy import stats

    arr = np.asarray([np.nan if v is None else v for v in values], float).reshape(-1)
    v = arr[np.isfinite(arr)]
    n = int(v.size)
    out = {
        "n": n,
        "nonfinite": int(arr.size - n),
        "mean": math.nan,
        "var": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
    }
    if n:
        out["mean"] = float(v.mean())
    if n >= 2:
        out["var"] = float(v.var(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(out["var"] / n)
        out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    return out


def welch(mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int) -> dict:
    """A − B for two independent samples given by their means, variances (ddof 1) and sizes:
    the difference, its standard error √(s²_A/n_A + s²_B/n_B), the Welch–Satterthwaite
    degrees of freedom, the 95% interval (difference ± t_{0.975, df}·se) and the two-sided
    p-value (Welch 1947; Satterthwaite 1946; as ``scipy.stats.ttest_ind_from_stats(...,
    equal_var=False)``). Used for ours − the paper's Table 2, whose variances over its 100
    trials are printed: the paper's own sampling error counts as well as ours."""
    from scipy import stats

    for name, v in (("var_a", var_a), ("var_b", var_b)):
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"welch: {name} must be a finite variance >= 0, got {v!r}")
    for name, n in (("n_a", n_a), ("n_b", n_b)):
        if int(n) != n or n < 2:
            raise ValueError(f"welch: {name} must be a sample size >= 2, got {n!r}")
    qa, qb = var_a / n_a, var_b / n_b
    se = math.sqrt(qa + qb)
    diff = float(mean_a - mean_b)
    out = {"diff": diff, "se": se, "df": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    out["p"] = math.nan
    if se > 0:
        df = (qa + qb) ** 2 / (qa**2 / (n_a - 1) + qb**2 / (n_b - 1))
        half = float(stats.t.ppf(0.975, df)) * se
        out.update(
            df=df,
            ci_low=diff - half,
            ci_high=diff + half,
            p=float(2 * stats.t.sf(abs(diff) / se, df)),
        )
    return out


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """A against B over the same trials (lower is better): wins each way, mean and median of
    A − B with the 95% t-interval of the mean, and two-sided p-values of the sign test, the
    Wilcoxon signed-rank test and the paired t-test. Trials where either is not finite are
    left out (and counted)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    wins, losses = int(np.sum(d < 0)), int(np.sum(d > 0))
    n = int(d.size)
    row = {
        "trials": n,
        "left_out": int(ok.size - n),
        "a_wins": wins,
        "b_wins": losses,
        "mean_diff": float(d.mean()) if n else math.nan,
        "median_diff": float(np.median(d)) if n else math.nan,
        "sign_test_p": float(stats.binomtest(wins, wins + losses).pvalue) if wins + losses else 1.0,
        # scipy's result classes are built at runtime; pyright cannot see .pvalue.
        "wilcoxon_p": float(stats.wilcoxon(d).pvalue)  # pyright: ignore[reportAttributeAccessIssue]
        if wins + losses
        else 1.0,
        "ttest_p": 1.0,
        "diff_ci_low": math.nan,
        "diff_ci_high": math.nan,
    }
    if n >= 2 and np.std(d) > 0:
        row["ttest_p"] = float(stats.ttest_1samp(d, 0.0).pvalue)  # pyright: ignore[reportAttributeAccessIssue]
        half = float(stats.t.ppf(0.975, n - 1)) * float(np.std(d, ddof=1)) / math.sqrt(n)
        row["diff_ci_low"], row["diff_ci_high"] = row["mean_diff"] - half, row["mean_diff"] + half
    return row


def decisive(row: dict, level: float = 0.05) -> int:
    """+1 where A is decisively better than B in a :func:`paired` row (the sign, Wilcoxon and
    paired t tests all at p < ``level``, A's mean lower), −1 where B is, 0 otherwise."""
    if max(row["sign_test_p"], row["wilcoxon_p"], row["ttest_p"]) >= level:
        return 0
    return 1 if row["mean_diff"] < 0 else -1


def paired_all(values: Mapping[str, np.ndarray]) -> list[dict]:
    """:func:`paired` for every pair of estimators (in the given order): ``values`` maps an
    estimator name to its per-trial metric."""
    rows = []
    for a, b in itertools.combinations(values, 2):
        rows.append({"a": a, "b": b, **paired(values[a], values[b])})
    return rows


def ranking(values: Mapping[str, np.ndarray]) -> list[str]:
    """Estimators from worst (largest mean) to best, as the paper lists them (non-finite
    trials left out of each mean)."""
    return sorted(values, key=lambda n: -float(np.nanmean(np.asarray(values[n], float))))


def fdr(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (``scipy.stats.false_discovery_control``)."""
    from scipy import stats

    if len(p_values) == 0:
        return []
    return [float(x) for x in stats.false_discovery_control(np.asarray(p_values, float))]
