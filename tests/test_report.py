"""The reproduction's report (jaxsoftmax.cli.report) from a known summary: asymmetric
confusion tables through every table, one estimator, the comments on the traces, what the
command prints. Each test names the planted bugs it kills."""

from __future__ import annotations

import numpy as np

from jaxsoftmax import cli, paper
from jaxsoftmax import config as C
from jaxsoftmax.cli import common, reproduce
from jaxsoftmax.cli import report as R

STRICT_PROMOTION = False  # optax inside (see conftest.py)

CONFIG = C.from_dict({"trials": 4, "seed": 3, "training.steps": 20})
META = {"device": "cpu", "seconds": 1.0, "jax": "x", "jaxsoftmax": "y"}
NAMES = ("logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy")


def _rates(trial: int, e: int) -> np.ndarray:
    """A distinct asymmetric 4 x 4 table per trial and estimator: rows (true classes) sum to
    1, cell (i, j) differs from (j, i)."""
    m = np.arange(16, dtype=float).reshape(4, 4) + 1 + 3 * trial + 5 * e
    m[np.diag_indices(4)] += 40
    return m / m.sum(axis=1, keepdims=True)


def results(names=NAMES, eq4=None, error_rate=None) -> dict:
    per = {}
    for e, n in enumerate(names):
        v = np.asarray(eq4[n] if eq4 else [0.2, 0.21, 0.19, 0.2 + 0.01 * e])
        rates = np.stack([_rates(t, e) for t in range(4)])
        per[n] = {
            "eq4": v,
            "eq4_summed": 20 * v,
            "error_rate": np.asarray(
                error_rate[n] if error_rate else 1 - np.trace(rates, axis1=1, axis2=2) / 4
            ),
            "rates": rates,
            "grad_norm": np.full(4, 1e-3),
            "final_loss": np.full(4, 0.1),
            "loss_drop": np.full(4, 1e-2),
            "output_sum_min": np.ones(4),
            "output_sum_max": np.ones(4),
        }
    bayes = np.stack([np.asarray(paper.TABLES["bayes"])] * 4)
    return {"per_trial": per, "bayes": {"error_rate": np.full(4, 0.2921), "rates": bayes}}


def _table_after(text: str, heading: str, label: str = "Ours (mean over trials):") -> np.ndarray:
    part = text[text.index(heading) :]
    part = part[part.index(label) :]
    rows = [
        line for line in part.splitlines()[1:] if line.startswith("| ") and "ascribed" not in line
    ]
    return np.array([[float(x) for x in line.strip("| ").split(" | ")[1:]] for line in rows[:4]])


def test_an_asymmetric_confusion_table_reaches_every_table_as_the_mean_rows_true_class():
    # Bugs: a table transposed (columns as true classes); the mean over the wrong axis (over
    # rows of one trial instead of over trials); one estimator's table under another's
    # heading; the trace or the README diagonal of the wrong matrix.
    res = results()
    summary = reproduce.summarise(CONFIG, res)
    text = R.reproduction(CONFIG, summary, META, [])
    for e, name in enumerate(NAMES):
        want = np.mean([_rates(t, e) for t in range(4)], axis=0)
        np.testing.assert_allclose(summary["rates"][name], want, rtol=1e-12)
        head = f"### Table {paper.TABLE_NUMBER[name]}: {paper.label(name)}"
        np.testing.assert_allclose(_table_after(text, head), want, atol=5e-5)
        assert f"Trace: ours {np.trace(want):.4f}, paper" in text[text.index(head) :]
        readme = R.readme_reproduction(CONFIG, summary)
        row = next(x for x in readme.splitlines() if x.startswith(f"| {paper.label(name)} ("))
        diag = " ".join(f"{v:.3f}".lstrip("0") for v in np.diag(want))
        assert f"| {diag} | {np.trace(want):.4f} |" in row


def test_one_estimator_gets_no_paired_table_no_decisive_line_and_no_ranking():
    # Bugs: an empty paired table followed by "Decisive: all three tests agree"; a one-name
    # "ranking" and "Our ranking differs from the paper's".
    config = C.override(CONFIG, estimators=["softmax/cross_entropy"])
    summary = reproduce.summarise(config, results(names=("softmax/cross_entropy",)))
    assert summary["paired"] == []
    for text in (R.reproduction(config, summary, META, []), R.readme_reproduction(config, summary)):
        assert "Paired" not in text and "Decisive" not in text and "decisive" not in text
        assert "Ranking" not in text and "ranking" not in text
    assert "Table 5: softmax + cross-entropy" in R.reproduction(config, summary, META, [])


def test_traces_below_the_bayes_rule_and_the_paper_are_explained_by_the_error_rates_interval():
    # Bugs: no comment; "below" said of a trace above; the paper's implied error rate
    # (1 − trace/4) judged against the wrong interval or with the sign reversed.
    bayes = np.asarray(paper.TABLES["bayes"])  # trace 2.8316
    er = {"ci_low": 0.30, "ci_high": 0.32}
    theirs = paper.TABLES["softmax/cross_entropy"]  # trace 2.8107: implied error 0.2973
    ours = np.full((4, 4), 0.31 / 3)
    np.fill_diagonal(ours, 0.69)  # trace 2.76: error rate 0.31
    text = R.trace_comment(ours, er, bayes, theirs)
    assert "Below the Bayes rule's trace on the same test samples by 0.0716" in text
    assert "an error rate higher by 0.0179" in text
    assert "Below the paper's trace by 0.0507" in text
    assert "implied error rate 0.2973 is below our 95% interval: a real difference" in text
    inside = R.trace_comment(ours, {"ci_low": 0.29, "ci_high": 0.33}, bayes, theirs)
    assert "0.2973 is inside our 95% interval: within our sampling noise" in inside
    better = np.full((4, 4), 0.27 / 3)
    np.fill_diagonal(better, 0.73)  # trace 2.92: above both
    text = R.trace_comment(better, {"ci_low": 0.26, "ci_high": 0.28}, bayes, theirs)
    assert "At or above the Bayes rule's trace on the same test samples (+0.0884)" in text
    assert "only sampling noise can do that" in text
    assert "At or above the paper's trace (+0.1093)" in text
    assert "0.2973 is above our 95% interval" in text


def test_reproduce_prints_a_short_summary_and_where_the_report_is(tmp_path, monkeypatch, capsys):
    # Bugs: the whole report printed on every run; the summary's means or path wrong.
    res = results()
    monkeypatch.setattr(reproduce, "compute", lambda config, **kw: res)
    monkeypatch.setattr(common, "setup_runtime", lambda args: [])
    flags = ["--trials", "4", "--seed", "3", "--training.steps", "20"]
    assert cli.main(["reproduce", *flags, "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "## Convergence" not in out and "| true \\ ascribed" not in out
    assert f"Report (Tables 2-6, paired tests, convergence): {tmp_path}/report.md" in out
    mean = float(np.mean(20 * np.array([0.2, 0.21, 0.19, 0.22])))
    assert f"softmax + cross-entropy   {mean:.3f}   the paper's 3.937" in out
    assert len(out.splitlines()) <= 8
    assert "## Convergence" in (tmp_path / "report.md").read_text()


def test_quiet_prints_nothing_on_stdout(tmp_path, monkeypatch, capsys):
    # Bug: --quiet still printing the summary.
    monkeypatch.setattr(reproduce, "compute", lambda config, **kw: results())
    monkeypatch.setattr(common, "setup_runtime", lambda args: [])
    flags = ["--trials", "4", "--seed", "3", "--training.steps", "20", "--no-plots", "--quiet"]
    assert cli.main(["reproduce", *flags, "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_figures_log_a_line_as_each_starts(tmp_path, monkeypatch, caplog):
    # Bug caught: 17 silent seconds while the figures are drawn (no line before each).
    import logging

    from jaxsoftmax.cli import figures

    drawn = []
    for name in ("eq4_figure", "confusion_heatmaps", "posterior_plane"):
        monkeypatch.setattr(figures, name, lambda *a, _n=name: drawn.append(_n) or f"{_n}.png")
    monkeypatch.setattr(figures, "penalty_surfaces", lambda out, pngs=None: ["f1.png", "f2.png"])
    with caplog.at_level(logging.INFO, logger="jaxsoftmax"):
        names = figures.reproduction_figures(CONFIG, {}, {}, tmp_path)
    want = ["eq4_figure", "confusion_heatmaps", "posterior_plane", "f1", "f2"]
    assert names == [f"{n}.png" for n in want]
    lines = [r.getMessage() for r in caplog.records]
    assert [x.split(",")[0] for x in lines[:4]] == [f"figures: {i}/4" for i in range(1, 5)]
    assert lines[4].startswith("figures: 5 written in ")
