"""``jaxsoftmax reproduce``: Dunne & Campbell (1997), section 4.1, reproduced.

CLI → configuration (:mod:`jaxsoftmax.config`) → the engine (:mod:`jaxsoftmax.experiment`) →
statistics (:mod:`jaxsoftmax.stats`) → writers (:mod:`jaxsoftmax.io`). Writes to ``--out``:
``results.json`` (the configuration, versions, device, and every per-trial, per-estimator
value of every metric, confusion tables per trial included, so every table can be recomputed
with :func:`summarise`), ``report.md`` (Tables 2–6 beside the paper's, paired tests, the
protocol) and PNG figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as C
from .. import io, paper, runtime, stats
from ..progress import Interrupted, Progress, acknowledge
from . import common, report

__all__ = [
    "FILES",
    "across_seeds",
    "check_folder",
    "compute",
    "load_results",
    "machine",
    "main",
    "parser",
    "results_from",
    "summarise",
    "write",
]

log = logging.getLogger("jaxsoftmax")

PAPER_TRIALS = 100  # Table 2's means and variances are over 100 trials (section 4.1)

# The files a reproduction writes (the figures: when not --no-plots).
FILES = (
    "report.md",
    "results.json",
    "eq4_boxplot.png",
    "reliability.png",
    "confusion_heatmaps.png",
    "posterior_plane.png",
    "fig1_cross_entropy.png",
    "fig2_least_squares.png",
)


def compute(config: C.Config, *, devices=None, quiet: bool = False) -> dict:
    """Runs every trial of ``config`` with a progress bar; returns :func:`results_from`."""
    from .. import experiment

    with Progress(config.training.steps, "training", unit="steps", quiet=quiet) as bar:
        raw = experiment.run(config, devices=devices, progress=bar.update_to, keep=True)
    return results_from(config, raw)


def results_from(config: C.Config, raw: dict) -> dict:
    """Per-trial values by estimator, the Bayes rule's, and one trial's data and networks."""
    from .. import experiment

    losses = raw["_losses"]  # (T, E, steps)
    tail = max(1, losses.shape[-1] // 10)
    start = losses[..., -tail]
    drop = (start - losses[..., -1]) / np.where(start == 0, 1, np.abs(start))
    per = experiment.per_estimator(config, raw)
    for e, name in enumerate(config.estimators):
        per[name]["loss_drop"] = drop[:, e]
    data, params = raw["_data"], raw["_params"]
    return {
        "per_trial": per,
        "bayes": {"error_rate": raw["bayes_error_rate"], "rates": raw["bayes_rates"]},
        "example": {
            "x": data["x"][0],
            "y": data["y"][0],
            "params": {name: _first(params[e]) for e, name in enumerate(config.estimators)},
        },
    }


def _first(tree):
    import jax

    return jax.tree.map(lambda a: np.asarray(a)[0], tree)


def across_seeds(config: C.Config, n_seeds: int, first: dict, *, quiet: bool = False) -> dict:
    """The ranking and the paired comparisons for seeds ``config.seed … + n_seeds − 1``
    (``first``: the per-trial eq. (4) of the first seed, already computed; the log-loss where
    eq. (4) is unavailable, a data set): how many seeds give each ranking, and for each pair
    how often each side is decisively better."""
    from .. import experiment

    metric = "log_loss" if config.problem.family == "data" else "eq4"

    per_seed = [first]
    for s in range(config.seed + 1, config.seed + n_seeds):
        with Progress(config.training.steps, f"seed {s}", unit="steps", quiet=quiet) as bar:
            raw = experiment.run(C.override(config, seed=s), progress=bar.update_to)
        per = experiment.per_estimator(config, raw)
        per_seed.append({n: m[metric] for n, m in per.items()})
    rankings: dict[str, int] = {}
    pairs: dict[tuple[str, str], list[int]] = {}
    for eq4 in per_seed:
        key = " > ".join(stats.ranking(eq4))
        rankings[key] = rankings.get(key, 0) + 1
        for row in stats.paired_all(eq4):
            pairs.setdefault((row["a"], row["b"]), []).append(stats.decisive(row))
    return {
        "metric": metric,
        "seeds": list(range(config.seed, config.seed + n_seeds)),
        "rankings": rankings,
        "paired": [
            {
                "a": a,
                "b": b,
                "a_better": v.count(1),
                "b_better": v.count(-1),
                "undecided": v.count(0),
            }
            for (a, b), v in pairs.items()
        ],
    }


def summarise(config: C.Config, results: dict) -> dict:
    """Every table of the report from the per-trial values alone (``results["per_trial"]``
    and ``results["bayes"]``, e.g. as read back from ``results.json``).

    Ours − the paper's Table 2 (summed form) is a two-sample comparison, Welch's
    (:func:`jaxsoftmax.stats.welch`): our trials against the paper's 100, with the variance
    each reports, since the paper's mean has its own sampling error."""
    per = {
        n: {k: np.asarray(v, float) for k, v in m.items()} for n, m in results["per_trial"].items()
    }
    table2: dict[str, dict[str, Any]] = {}
    for name, m in per.items():
        row: dict[str, Any] = {
            "eq4": stats.describe(m["eq4"]),
            "eq4_summed": stats.describe(m["eq4_summed"]),
        }
        s = row["eq4_summed"]
        if name in paper.TABLE2 and s["n"] >= 2 and C.is_paper_engine(config):
            pm, pv = paper.TABLE2[name]
            w = stats.welch(s["mean"], s["var"], s["n"], pm, pv, PAPER_TRIALS)
            row["paper_mean"] = pm
            row["diff"] = w["diff"]
            row["diff_ci"] = [w["ci_low"], w["ci_high"]]
            row["diff_p"], row["diff_df"] = w["p"], w["df"]
        table2[name] = row
    eq4 = {n: m["eq4"] for n, m in per.items()}
    available = any(np.isfinite(v).any() for v in eq4.values())
    out = {
        "table2": table2,
        "ranking": stats.ranking(eq4) if available else [],
        "paper_ranking": [n for n in paper.RANKING if n in per],
        "paired": stats.paired_all(eq4) if available else [],
        "rates": {n: np.nanmean(m["rates"], axis=0).tolist() for n, m in per.items()},
        "error_rate": {n: stats.describe(m["error_rate"]) for n, m in per.items()},
        "bayes_error_rate": float(np.mean(results["bayes"]["error_rate"])),
        "bayes_rates_empirical": _mean_rates(results["bayes"]["rates"]),
        "convergence": {
            n: {
                "grad_norm_median": float(np.median(m["grad_norm"])),
                "grad_norm_max": float(np.max(m["grad_norm"])),
                "final_loss_mean": float(np.mean(m["final_loss"])),
                "loss_drop_median": float(np.median(m["loss_drop"])),
                "output_sum_min": float(np.min(m["output_sum_min"])),
                "output_sum_max": float(np.max(m["output_sum_max"])),
            }
            for n, m in per.items()
        },
    }
    if all("log_loss" in m for m in per.values()):  # results stored before them lack them
        out.update(scores_summary(per))
    if not available:
        out["eq4_available"] = False
    return out


def _mean_rates(rates) -> list:
    """The mean confusion table over trials (NaN where no trial has one: a data set has no
    Bayes rule), without NumPy's warning about all-NaN slices."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.asarray(rates, float), axis=0).tolist()


def scores_summary(per: dict[str, dict[str, np.ndarray]]) -> dict:
    """The scores that need no exact posterior (:mod:`jaxsoftmax.metrics`), from the
    per-trial values: each estimator's log-loss, Brier score and ECE (mean and 95% interval),
    the ranking and paired comparisons by log-loss, and the reliability diagram pooled over
    trials (per equal-width confidence bin: points, mean confidence, accuracy)."""
    from ..metrics import DEFAULT_BINS

    log_loss = {n: m["log_loss"] for n, m in per.items()}
    calibration = {}
    for n, m in per.items():
        counts, conf, right = np.nansum(np.asarray(m["calibration"], float), axis=0)
        safe = np.where(counts > 0, counts, 1)
        calibration[n] = {
            "counts": counts.tolist(),
            "confidence": np.where(counts > 0, conf / safe, np.nan).tolist(),
            "accuracy": np.where(counts > 0, right / safe, np.nan).tolist(),
        }
    return {
        "scores": {
            n: {k: stats.describe(m[k]) for k in ("log_loss", "brier", "ece")}
            for n, m in per.items()
        },
        "ranking_log_loss": stats.ranking(log_loss),
        "paired_log_loss": stats.paired_all(log_loss),
        "calibration": {"bins": DEFAULT_BINS, "estimators": calibration},
    }


def parser() -> argparse.ArgumentParser:
    """The command's flags: output options, common flags, one flag per configuration key."""
    p = common.ArgumentParser(
        prog="jaxsoftmax reproduce",
        description="Reproduce Dunne & Campbell (1997), section 4.1: three estimators on four "
        "Gaussian classes; Tables 2-6 beside the paper's.",
    )
    p.add_argument(
        "--out",
        default="results/dunne_campbell",
        help="output folder: new, empty, or holding a run of the same configuration (which is "
        "recomputed and replaced); a folder holding a different run is refused",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the reproduction's files in --out even if they hold a different run",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="also run the next N-1 seeds and report in how many each ranking and "
        "each decisive paired difference holds (default 1: this seed only)",
    )
    common.add_common_flags(p)
    common.add_config_flags(p, C.Config())
    return p


def machine() -> dict:
    """What decides whether a rerun is bitwise equal to a stored run, beyond
    :func:`jaxsoftmax.io.metadata`: the jaxlib version and the CPU model (XLA's CPU code
    depends on the instruction set)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        jaxlib = version("jaxlib")
    except PackageNotFoundError:
        jaxlib = "unknown"
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux
        import platform

        cpu = platform.processor()
    return {"jaxlib": jaxlib, "cpu": cpu}


def check_folder(out: str | Path, config: C.Config) -> str:
    """What ``out`` holds, checked before anything is computed.

    Returns ``"new"`` (absent, or none of :data:`FILES` in it: nothing is overwritten) or
    ``"same"`` (its ``results.json`` holds this very configuration: the run is recomputed and
    its files replaced, not reused, since the code may have changed since it was written;
    the same code and seed give the same numbers bitwise). Raises
    :class:`~jaxsoftmax.cli.common.UsageError` when it holds a different run (every
    difference listed, as a sweep's folder does) or reproduction files without a readable
    ``results.json``.
    """
    out = Path(out)
    if not out.is_dir():  # absent; a file is refused by io.out_folder
        return "new"
    path = out / "results.json"
    if not path.exists():
        ours = [n for n in FILES if (out / n).exists()]
        if ours:
            raise common.UsageError(
                f"--out {out}: holds {', '.join(ours)} but no results.json (an unfinished or "
                "foreign run); refusing to overwrite. Use another --out folder, or --force to "
                "replace them."
            )
        return "new"
    try:
        old = json.loads(path.read_text())["config"]
        if not isinstance(old, dict):
            raise TypeError(f"'config' is a {type(old).__name__}, not a table")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise common.UsageError(
            f"{path}: damaged or not a reproduction's results ({type(err).__name__}: {err}); "
            "use another --out folder, or --force to replace it"
        ) from None
    try:  # keys added since the folder was written read as their defaults
        old = C.to_dict(C.from_dict(old))
    except C.ConfigError:
        pass  # refused below, every difference listed
    diff = C.config_diff(old, C.to_dict(config))
    if diff:
        raise common.UsageError(
            f"--out {out} holds a different run; refusing to overwrite it. Differences (the "
            "folder's -> this command's):\n"
            + "\n".join(f"  {line}" for line in diff[:20])
            + (f"\n  ... and {len(diff) - 20} more" if len(diff) > 20 else "")
            + "\nUse another --out folder, or --force to replace it."
        )
    return "same"


def main(argv: list[str] | None = None) -> int:
    """``jaxsoftmax reproduce``: configuration from the flags, the engine, the report and files.

    Nothing is written before the run has finished: an interrupted run leaves no files (a
    folder it created is removed) and says so."""
    args = parser().parse_args(argv)
    common.start(args, f"reproduce -> {args.out}: loading JAX and checking the configuration …")
    config = common.config_from_args(args, C.Config())
    if args.seeds < 1:
        raise common.UsageError(f"--seeds: expected a count >= 1, got {args.seeds}")
    path = Path(args.out)
    state = "new" if args.force else check_folder(path, config)
    created = [p for p in (path, *path.parents) if not p.exists()]  # removed on an interrupt
    out = io.out_folder(path)
    if state == "same":
        log.info(
            "%s holds a run of this configuration: recomputing it and replacing its files "
            "(not reused: the code may have changed since it was written)",
            out,
        )
    started = time.time()
    try:
        return _run(args, config, out)
    except KeyboardInterrupt as exc:
        signum = acknowledge(getattr(exc, "signum", signal.SIGINT)) or signal.SIGINT
        kept = _after_interrupt(out, created, started)
        raise Interrupted(signum, kept=kept) from None


def _after_interrupt(out: Path, created: list[Path], started: float) -> str:
    """Cleans up after an interrupt (``created``: the folders this run created, ``out``
    first); returns the line saying what is left."""
    if created:  # our folder: remove what this run wrote, then the folders
        for name in FILES:
            (out / name).unlink(missing_ok=True)
        for tmp in out.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        try:
            for folder in created:
                folder.rmdir()
        except OSError:  # something else was put there meanwhile: left in place
            if out.exists():
                left = ", ".join(sorted(p.name for p in out.iterdir()))
                return (
                    "nothing of this run was kept (it writes its files when it has finished); "
                    f"{out} was created by it but now also holds {left}, so it was left in place"
                )
        return (
            "nothing was kept: reproduce writes its files only when it has finished, and the "
            f"folder it had created ({out}) was removed; rerun the same command to start again"
        )
    changed = sorted(
        p.name for p in out.iterdir() if p.name in FILES and p.stat().st_mtime >= started
    )
    if changed:
        return (
            f"the run did not finish; in {out}, {', '.join(changed)} were already rewritten by "
            "it (the rest is as before); rerun the same command to finish"
        )
    return (
        "nothing was kept: reproduce writes its files only when it has finished; "
        f"{out} is as it was; rerun the same command to start again"
    )


def _ahead(plots: bool) -> dict[str, bytes]:
    """The work after training that does not depend on it, done while the devices train:
    importing scipy.stats (the report's tests, ~1 s) and, with plots, matplotlib and
    Figures 1–2 drawn to PNG bytes (written with the other files at the end)."""
    import scipy.stats  # noqa: F401

    if not plots:
        return {}
    from . import figures as fig

    return fig.penalty_surface_pngs()


def _run(args: argparse.Namespace, config: C.Config, out: Path) -> int:
    devices = common.setup_runtime(args)
    start = time.perf_counter()
    ahead = runtime.ahead(_ahead, not args.no_plots)
    results = compute(config, devices=None, quiet=args.quiet)
    seconds = time.perf_counter() - start
    surfaces = ahead.result()
    log.info("statistics …")
    summary = summarise(config, results)
    if args.seeds > 1:
        metric = "log_loss" if config.problem.family == "data" else "eq4"
        first = {n: np.asarray(m[metric]) for n, m in results["per_trial"].items()}
        summary["across_seeds"] = across_seeds(config, args.seeds, first, quiet=args.quiet)
    meta = {**io.metadata(), **machine(), "seconds": seconds, "devices_used": len(devices)}
    figures: list[str] = []
    if not args.no_plots:
        from . import figures as fig

        figures = fig.reproduction_figures(config, results, summary, out, surfaces)
    write(out, config, results, summary, meta, figures)
    if not args.quiet:
        print(report.brief(config, summary, out))
    log.info(
        "wrote %s, %s and %d figures in %.1f s (training and evaluation: %.1f s)",
        out / "report.md",
        out / "results.json",
        len(figures),
        time.perf_counter() - start,
        seconds,
    )
    return 0


def write(
    out: Path, config: C.Config, results: dict, summary: dict, meta: dict, figures: list[str]
) -> str:
    """Writes ``report.md`` and ``results.json`` (read back by :func:`load_results`) into
    ``out``; returns the report's text."""
    from ..experiment import problem_summary

    problem = problem_summary(config)
    text = report.reproduction(config, summary, meta, figures, problem)
    io.write_text(out / "report.md", text)
    io.write_json(
        out / "results.json",
        {
            "config": C.to_dict(config),
            "meta": meta,
            "problem": problem,
            "per_trial": results["per_trial"],
            "bayes": results["bayes"],
            "summary": summary,
            "paper": {"table2": paper.TABLE2, "tables": paper.TABLES},
        },
    )
    return text


def load_results(path: str | Path) -> tuple[C.Config, dict]:
    """Reads a ``results.json`` back: its configuration and its results (per-trial values as
    NumPy arrays), ready for :func:`summarise`."""
    data = json.loads(Path(path).read_text())
    config = C.from_dict(data["config"])

    def arr(v):
        return np.asarray(
            [np.nan if x is None else x for x in np.ravel(np.asarray(v, object))], float
        ).reshape(np.shape(v))

    per = {n: {k: arr(v) for k, v in m.items()} for n, m in data["per_trial"].items()}
    bayes = {k: arr(v) for k, v in data["bayes"].items()}
    return config, {"per_trial": per, "bayes": bayes}
