"""The pairing atlas (issue 23, item 7): every registered pairing definition, at one instance
each, through the paper's experiment (``jaxsoftmax.experiment.run``: all estimators trained on
the same data from the same start, the engine's common random numbers), beside its verdicts
(Δ natural?, convexity of the instance and of the family, properness, gradient activation).

  python experiments/atlas.py [--trials N] [--seeds S]   # run, store, write the page
  python experiments/atlas.py --page                      # the page from the stored run

Writes ``experiments/atlas/atlas.json`` (the run and the verdicts, through ``jaxsoftmax.io``),
then ``docs/atlas.md`` and its figure ``docs/atlas/atlas.png`` from that file alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

INSTANCES = {
    "softmax(beta=…)/focal(gamma=…)": "softmax/focal(gamma=2)",
    "spherical(epsilon=…)/least_squares": "spherical(epsilon=0.5)/least_squares",
    "spherical(epsilon=…)/cross_entropy": "spherical(epsilon=0.5)/cross_entropy",
    "softmax(beta=…)/label_smoothing(smoothing=…)": "softmax/label_smoothing(smoothing=0.1)",
    "softmax(beta=…)/gce(lam=…)": "softmax/gce(lam=0.7)",
    "softmax(beta=…)/poly1(poly=…)": "softmax/poly1(poly=1)",
    "taylor/focal(gamma=…)": "taylor/focal(gamma=2)",
    "taylor/label_smoothing(smoothing=…)": "taylor/label_smoothing(smoothing=0.1)",
    "taylor/gce(lam=…)": "taylor/gce(lam=0.7)",
    "taylor/poly1(poly=…)": "taylor/poly1(poly=1)",
    "logistic/bernoulli_focal(gamma=…)": "logistic/bernoulli_focal(gamma=2)",
    "spherical(epsilon=…)/focal(gamma=…)": "spherical(epsilon=0.5)/focal(gamma=2)",
    "spherical(epsilon=…)/gce(lam=…)": "spherical(epsilon=0.5)/gce(lam=0.7)",
}
"""The instance run for each parameterised family (the common choice in its source)."""


def instances() -> list[str]:
    import jaxsoftmax as js

    out = []
    for d in js.list_definitions():
        name = INSTANCES.get(d.family, d.family.replace("(beta=…)", ""))
        out.append(name)
    return out


def run(trials: int, seeds: int) -> dict:
    import numpy as np

    from jaxsoftmax import config as cfg
    from jaxsoftmax import experiment

    names = instances()
    results: dict[str, dict[str, list[float]]] = {n: {"eq4": [], "error": []} for n in names}
    start = time.perf_counter()
    for seed in range(seeds):
        config = cfg.override(cfg.Config(), trials=trials, seed=seed, estimators=tuple(names))
        out = experiment.per_estimator(config, experiment.run(config))
        for n in names:
            for key, metric in (("eq4", "eq4"), ("error", "error_rate")):
                results[n][key] += np.asarray(out[n][metric], float).ravel().tolist()
    return {
        "seconds": time.perf_counter() - start,
        "trials": trials,
        "seeds": seeds,
        "results": results,
    }


def verdicts(name: str) -> dict:
    """The symbolic verdicts of one pairing instance, each a short word and its evidence."""
    import sympy as sp

    import jaxsoftmax as js
    from jaxsoftmax.derivations.natural import gradient_field
    from jaxsoftmax.derivations.proper import properness
    from jaxsoftmax.derivations.symbols import k, t, zs
    from jaxsoftmax.derivations.verdicts import compare

    p = js.get_pairing(name)
    defn = p.definition
    act, pen = defn.symbols()
    symbols = {q.name: q.symbol for q in (*defn.activation_params, *defn.penalty_params)}
    values = {symbols[n]: sp.Rational(repr(v)) for n, v in dict(p.params).items()}
    delta = p.derivation().delta.subs(values)
    nat = compare(zs[k] - t[k], delta, act.identities, activation=act)
    inst, fam = p.convexity(), p.family_convexity()
    prop = properness(act, pen, values)
    grad = gradient_field(act)
    return {
        "natural": nat.summary,
        "natural_evidence": nat.evidence,
        "convex": inst.kind,
        "convex_family": fam.kind,
        "convex_evidence": inst.evidence,
        "proper": prop.kind,
        "proper_evidence": prop.evidence,
        "gradient": grad.kind,
        "gradient_evidence": grad.evidence,
    }


def store(r: dict, path: pathlib.Path) -> None:
    from jaxsoftmax import io

    io.write_json(path, r)


def page(stored: pathlib.Path, out: pathlib.Path) -> None:
    """docs/atlas.md and its figure, from the stored run alone."""
    import io as _io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxsoftmax import io

    r = json.loads(stored.read_text())
    ver = r["verdicts"]
    # A non-finite value is stored as null: counted and left out of the means, never hidden.
    res = {
        n: {k: np.array([np.nan if x is None else x for x in v], float) for k, v in m.items()}
        for n, m in r["results"].items()
    }
    bad = {n: int(np.sum(~np.isfinite(m["eq4"]))) for n, m in res.items()}
    names = sorted(res, key=lambda n: np.nanmean(res[n]["eq4"]))
    mean = [np.nanmean(res[n]["eq4"]) for n in names]
    half = [
        1.96 * np.nanstd(res[n]["eq4"], ddof=1) / np.sqrt(np.sum(np.isfinite(res[n]["eq4"])))
        for n in names
    ]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1))
    ax.errorbar(mean, range(len(names)), xerr=half, fmt="o", ms=3)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("eq. (4): posterior error (mean, 95% CI over trials)")
    fig.tight_layout()
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    io.write_bytes(io.out_folder(out / "atlas") / "atlas.png", buf.getvalue())
    n_trials = len(res[names[0]]["eq4"])
    lines = [
        "# The pairing atlas",
        "",
        "<!-- Generated by `python experiments/atlas.py --page` from "
        "experiments/atlas/atlas.json; do not edit by hand. -->",
        "",
        f"Every registered pairing definition ({len(names)}), at one instance each, through the "
        f"paper's experiment (`jaxsoftmax.experiment.run`, all pairings trained on the same "
        f"data from the same start): {r['seeds']} seed(s) × {r['trials']} trials = {n_trials} "
        f"trials each ({r['seconds']:.0f} s on {r.get('machine', 'the 2-core CPU')}). "
        "Beside it, the symbolic verdicts: Δ against the natural z* − t; convexity of the "
        "instance and of the family; properness of the penalty over the activation's outputs; "
        "whether the activation is a gradient (has a natural penalty at all).",
        "",
        "![eq. (4) by pairing](atlas/atlas.png)",
        "",
        "| pairing | eq. (4) | error rate | Δ = z* − t? | convex (instance / family) | "
        "proper | gradient activation |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in names:
        v = ver[n]
        lines.append(
            f"| `{n}` | {np.nanmean(res[n]['eq4']):.4f}"
            + (f" ({bad[n]} non-finite trial(s) left out)" if bad[n] else "")
            + f" | {np.nanmean(res[n]['error']):.4f} | "
            f"{v['natural']} | {v['convex']} / {v['convex_family']} | {v['proper']} | "
            f"{v['gradient']} |"
        )
    lines += ["", "## Evidence", ""]
    for n in names:
        v = ver[n]
        lines += [
            f"### `{n}`",
            "",
            f"- natural: {v['natural_evidence'] or v['natural']}",
            f"- convexity: {v['convex_evidence']}",
            f"- properness: {v['proper_evidence']}",
            f"- gradient: {v['gradient_evidence']}",
            "",
        ]
    io.write_text(out / "atlas.md", "\n".join(lines))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--page", action="store_true", help="only regenerate the page")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log = logging.getLogger("atlas")
    stored = ROOT / "experiments" / "atlas" / "atlas.json"
    if not args.page:
        r = run(args.trials, args.seeds)
        log.info("experiment: %.1f s", r["seconds"])
        start = time.perf_counter()
        r["verdicts"] = {n: verdicts(n) for n in r["results"]}
        r["verdict_seconds"] = time.perf_counter() - start
        log.info("verdicts: %.1f s", r["verdict_seconds"])
        store(r, stored)
    page(stored, ROOT / "docs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
