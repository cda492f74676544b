"""How the training length decides the paper's comparison: Table 2 and the paired tests after
50 … 10,000 full-batch steps, from one vmapped run (parameter snapshots at each length).

The paper names neither its optimiser nor its training length. This trains the three
estimators of ``dunne_campbell.py`` once, to the longest length, keeping a copy of every
network after each length in ``--lengths``, and evaluates every copy on the test samples.

    python experiments/training_length.py                        # 100 trials, up to 10,000 steps
    python experiments/training_length.py --trials 10 --lengths 20 50 100 --out results/tl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import dunne_campbell as dc
import numpy as np

from jaxsoftmax import train

DEFAULT_LENGTHS = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


def paired_by_length(results: dict, lengths) -> list[dict]:
    """The paired comparisons of ``dc.paired_comparisons`` at each length."""
    rows = []
    for r, length in enumerate(lengths):
        view = {
            "estimators": {
                n: {"eq4": e["eq4_by_length"][:, r]} for n, e in results["estimators"].items()
            }
        }
        for row in dc.paired_comparisons(view):
            rows.append({"steps": length, **row})
    return rows


def report(config: dc.Config, lengths, results: dict, paired: list[dict], meta: dict) -> str:
    est = results["estimators"]
    names = list(est)
    lines = [
        "# Training length and the ranking of the three estimators",
        "",
        f"{config.trials} trials, {config.n_per_class} per class, h = {config.hidden}, "
        f"{config.optimizer} (lr {config.learning_rate}), full batch, seed {config.seed}; one "
        f"run to {max(lengths)} steps with snapshots, on {meta['device']} in "
        f"{meta['seconds']:.1f} s.",
        "",
        "## Table 2 by training length: mean eq. (4) (summed form in brackets; the paper's scale)",
        "",
        "| steps | " + " | ".join(dc.LABELS[n] for n in names) + " | ranking, worst to best |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for r, length in enumerate(lengths):
        means = {n: float(np.mean(est[n]["eq4_by_length"][:, r])) for n in names}
        summed = {n: float(np.mean(est[n]["eq4_summed_by_length"][:, r])) for n in names}
        order = sorted(names, key=lambda n: -means[n])
        lines.append(
            f"| {length} | "
            + " | ".join(f"{means[n]:.4f} ({summed[n]:.2f})" for n in names)
            + " | "
            + " > ".join(dc.LABELS[n].replace(" + ", "+") for n in order)
            + " |"
        )
    lines += [
        "",
        "Paper (its scale): logistic+least squares 4.62 > softmax+least squares 4.00 > "
        "softmax+cross-entropy 3.94.",
        "",
        "## Paired comparisons by training length (A better in k of the trials; Wilcoxon p)",
        "",
        "| steps | A | B | A better | mean A − B | Wilcoxon p | sign test p |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in paired:
        lines.append(
            f"| {row['steps']} | {dc.LABELS[row['a']]} | {dc.LABELS[row['b']]} | "
            f"{row['a_wins']}/{row['trials']} | {row['mean_diff']:+.4f} | "
            f"{row['wilcoxon_p']:.2g} | {row['sign_test_p']:.2g} |"
        )
    lines += [
        "",
        "## Test error rate by training length",
        "",
        "| steps | " + " | ".join(dc.LABELS[n] for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for r, length in enumerate(lengths):
        lines.append(
            f"| {length} | "
            + " | ".join(f"{np.mean(est[n]['error_rate_by_length'][:, r]):.4f}" for n in names)
            + " |"
        )
    lines += [
        "",
        f"Bayes rule on the same test samples: {results['bayes_error_rate']:.4f}.",
        "",
        "Figure: `training_length.png`.",
        "",
    ]
    return "\n".join(lines)


def figure(lengths, results: dict, out: Path) -> str:
    import matplotlib.pyplot as plt
    import plots  # experiments/plots.py: sets the Agg backend

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, e in results["estimators"].items():
        for ax, key in zip(axes, ("eq4_by_length", "error_rate_by_length")):
            values = np.asarray(e[key])
            mean = values.mean(0)
            se = values.std(0, ddof=1) / np.sqrt(values.shape[0])
            ax.plot(lengths, mean, marker="o", label=dc.LABELS[name])
            ax.fill_between(lengths, mean - 2 * se, mean + 2 * se, alpha=0.2)
    axes[0].set_ylabel("mean eq. (4) (± 2 s.e.)")
    axes[1].set_ylabel("test error rate (± 2 s.e.)")
    axes[1].axhline(results["bayes_error_rate"], color="k", ls=":", label="Bayes rule")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("full-batch training steps")
        ax.legend(fontsize=7)
    return plots.save(fig, out / "training_length.png")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    d = dc.Config()
    p.add_argument("--lengths", type=int, nargs="+", default=list(DEFAULT_LENGTHS))
    p.add_argument("--trials", type=int, default=d.trials)
    p.add_argument("--n-per-class", type=int, default=d.n_per_class)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--optimizer", default=d.optimizer)
    p.add_argument("--learning-rate", type=float, default=d.learning_rate)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", default="results/training_length")
    p.add_argument("--no-plots", action="store_true")
    a = p.parse_args(argv)
    lengths = sorted(set(a.lengths))
    if lengths[0] < 1:
        p.error(f"--lengths must be positive step counts, got {a.lengths}")
    config = dc.Config(
        trials=a.trials,
        n_per_class=a.n_per_class,
        hidden=a.hidden,
        steps=lengths[-1],
        optimizer=a.optimizer,
        learning_rate=a.learning_rate,
        seed=a.seed,
    )
    try:
        config.validate()
    except ValueError as err:
        p.error(str(err))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    progress = dc.Progress(config.steps)
    results = dc.run(config, progress=progress, record_at=lengths)
    progress.done()
    meta = dc.metadata(time.perf_counter() - start)
    for name, r in results["estimators"].items():
        train.check_convergence(r["grad_norm"], label=f"{name} after {config.steps} steps")
    paired = paired_by_length(results, lengths)
    text = report(config, lengths, results, paired, meta)
    if not a.no_plots:
        figure(lengths, results, out)
    dc.write_atomic(out / "report.md", text)
    payload = {
        "config": dataclasses.asdict(config),
        "lengths": lengths,
        "meta": meta,
        "paired": paired,
        "results": dc.to_json(results),
    }
    dc.write_atomic(out / "results.json", json.dumps(payload, indent=1))
    print(text)
    print(f"wrote {out / 'report.md'} and {out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
