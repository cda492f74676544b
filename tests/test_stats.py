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
