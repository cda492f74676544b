"""jaxsoftmax.stats: paired comparisons against scipy, the decisive rule, ranking, FDR."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from jaxsoftmax import stats


def test_paired_matches_scipy_and_decisive_needs_all_three_tests():
    rng = np.random.default_rng(0)
    b = rng.normal(size=40)
    a = b - 0.5 + 0.1 * rng.normal(size=40)  # A clearly lower (better)
    row = stats.paired(a, b)
    d = a - b
    assert row["wilcoxon_p"] == pytest.approx(sps.wilcoxon(d).pvalue)
    assert row["ttest_p"] == pytest.approx(sps.ttest_1samp(d, 0.0).pvalue)
    assert row["a_wins"] == int(np.sum(d < 0))
    assert stats.decisive(row) == 1
    assert stats.decisive(stats.paired(b, a)) == -1  # the sign follows the direction
    assert stats.decisive({**row, "sign_test_p": 0.2}) == 0  # one test not significant


def test_ranking_is_worst_to_best_and_fdr_adjusts_upwards():
    assert stats.ranking({"x": [1.0, 2.0], "y": [3.0, 4.0], "z": [0.0, 0.5]}) == ["y", "x", "z"]
    p = [0.01, 0.02, 0.03, 0.5]
    adjusted = stats.fdr(p)
    assert all(q >= v for q, v in zip(adjusted, p))
    np.testing.assert_allclose(adjusted, sps.false_discovery_control(p))


# Independent computations (scipy) for every public function; each test names the planted
# bugs it kills.


def test_fdr_equals_scipys_false_discovery_control_in_the_input_order():
    # Bugs: adjusted values returned in sorted order; the running minimum taken the wrong
    # way; the m/i factor missing.
    p = np.random.default_rng(1).uniform(size=30) ** 3
    p[[3, 7]] = p[5]  # ties
    np.testing.assert_allclose(stats.fdr(list(p)), sps.false_discovery_control(p), rtol=1e-12)
    assert stats.fdr([]) == []


def test_describe_is_the_student_t_interval_of_the_finite_values():
    # Bugs: variance with ddof 0; the normal quantile 1.96 or t_{0.95} instead of t_{0.975};
    # non-finite values kept in (or not counted); n counting them.
    v = [0.3, 0.1, 0.45, np.nan, 0.2, np.inf, 0.05, None]
    d = stats.describe(v)
    f = np.array([0.3, 0.1, 0.45, 0.2, 0.05])
    assert (d["n"], d["nonfinite"]) == (5, 3)
    assert d["mean"] == pytest.approx(f.mean(), rel=1e-12)
    assert d["var"] == pytest.approx(f.var(ddof=1), rel=1e-12)
    lo, hi = sps.t.interval(0.95, f.size - 1, loc=f.mean(), scale=sps.sem(f))
    assert (d["ci_low"], d["ci_high"]) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi))
    one = stats.describe([2.0])
    assert one["mean"] == 2.0 and np.isnan(one["var"]) and np.isnan(one["ci_low"])


def test_paired_counts_wins_and_intervals_as_scipy_and_leaves_out_nonfinite_trials():
    # Bugs: wins counted the wrong way (A − B > 0 as A better: lower is better); ties counted
    # as wins; the interval of A's mean instead of A − B's; NaN trials kept or not counted.
    rng = np.random.default_rng(2)
    b = rng.normal(size=25)
    a = b + rng.normal(0.2, 0.5, size=25)
    a[4] = b[4]  # a tie: neither wins
    a[7] = np.nan
    row = stats.paired(a, b)
    ok = np.isfinite(a)
    d = a[ok] - b[ok]
    assert (row["trials"], row["left_out"]) == (24, 1)
    assert (row["a_wins"], row["b_wins"]) == (int(np.sum(d < 0)), int(np.sum(d > 0)))
    assert row["a_wins"] + row["b_wins"] == 23
    assert row["sign_test_p"] == pytest.approx(
        sps.binomtest(row["a_wins"], row["a_wins"] + row["b_wins"]).pvalue, rel=1e-12
    )
    ci = sps.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert [row["diff_ci_low"], row["diff_ci_high"]] == [
        pytest.approx(ci.low, rel=1e-12),
        pytest.approx(ci.high, rel=1e-12),
    ]
    assert row["mean_diff"] == pytest.approx(d.mean()) and row["median_diff"] == np.median(d)


def test_decisive_needs_every_test_below_the_level_and_follows_the_mean():
    # Bugs: min instead of max of the p-values; <= at the level; the sign of mean_diff flipped.
    row = {"sign_test_p": 0.01, "wilcoxon_p": 0.02, "ttest_p": 0.049, "mean_diff": -1.0}
    assert stats.decisive(row) == 1
    assert stats.decisive({**row, "mean_diff": 1.0}) == -1
    assert stats.decisive({**row, "ttest_p": 0.05}) == 0
    assert stats.decisive({**row, "wilcoxon_p": 0.2}) == 0
    assert stats.decisive({**row, "ttest_p": 0.04}, level=0.03) == 0


def test_paired_all_compares_every_pair_once_in_the_given_order():
    # Bugs: permutations (each pair twice) or A and B swapped in a row.
    rng = np.random.default_rng(3)
    values = {n: rng.normal(size=10) + i for i, n in enumerate("xyz")}
    rows = stats.paired_all(values)
    assert [(r["a"], r["b"]) for r in rows] == [("x", "y"), ("x", "z"), ("y", "z")]
    for r in rows:
        assert r["mean_diff"] == pytest.approx(np.mean(values[r["a"]] - values[r["b"]]))


def test_ranking_is_by_mean_worst_first_ignoring_nonfinite_trials():
    # Bugs: best first; the median instead of the mean; a NaN trial making a mean NaN.
    values = {"a": [0.0, 0.0, 3.0], "b": [0.9, 0.9, 0.9], "c": [0.5, np.nan, 0.5]}
    assert stats.ranking(values) == ["a", "b", "c"]  # means 1.0, 0.9, 0.5 (a's median: 0)


def test_welch_equals_scipys_two_sample_test_from_summary_statistics():
    # Bugs: pooled variance (Student's); the paper's variance left out; df = n_a + n_b − 2;
    # the sign of the difference reversed.
    m_a, v_a, n_a, m_b, v_b, n_b = 4.2, 0.9, 12, 3.937, 0.196, 100
    w = stats.welch(m_a, v_a, n_a, m_b, v_b, n_b)
    want = sps.ttest_ind_from_stats(m_a, np.sqrt(v_a), n_a, m_b, np.sqrt(v_b), n_b, equal_var=False)
    assert w["diff"] == pytest.approx(m_a - m_b)
    assert w["p"] == pytest.approx(want.pvalue, rel=1e-10)
    assert w["diff"] / w["se"] == pytest.approx(want.statistic, rel=1e-12)
    qa, qb = v_a / n_a, v_b / n_b
    df = (qa + qb) ** 2 / (qa**2 / (n_a - 1) + qb**2 / (n_b - 1))
    assert w["df"] == pytest.approx(df, rel=1e-12)
    half = sps.t.ppf(0.975, df) * np.sqrt(qa + qb)
    assert (w["ci_low"], w["ci_high"]) == (
        pytest.approx(w["diff"] - half),
        pytest.approx(w["diff"] + half),
    )
    with pytest.raises(ValueError, match=r"welch: var_b must be a finite variance >= 0, got nan"):
        stats.welch(1.0, 1.0, 5, 0.0, float("nan"), 100)
    with pytest.raises(ValueError, match=r"welch: n_a must be a sample size >= 2, got 1"):
        stats.welch(1.0, 1.0, 1, 0.0, 1.0, 100)
