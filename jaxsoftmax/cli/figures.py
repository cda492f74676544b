"""Figures (matplotlib, PNG, written through :mod:`jaxsoftmax.io`). Needs the ``plot`` extra."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from .. import config as C
from .. import io, paper
from ..plotting import pyplot, render, save

__all__ = ["reproduction_figures", "save"]

log = logging.getLogger("jaxsoftmax")


_plt = pyplot  # the names this module's functions use


def penalty_surface_pngs() -> dict[str, bytes]:
    """The paper's Figures 1 and 2: t log(t/z) and ½(t − z)² over [0, 1]², computed with the
    library's penalties (the minimum −1/e at (z*, t) = (1, 1/e) is marked on Figure 1), as
    ``{file name: PNG bytes}``. They do not depend on a run: ``reproduce`` draws them while
    the devices train."""
    import jaxsoftmax as js

    plt = _plt()
    grid = np.linspace(0.001, 1.0, 80)
    z, t = np.meshgrid(grid, np.linspace(0.0, 1.0, 80), indexing="xy")
    surfaces = {
        "fig1_cross_entropy.png": (
            np.asarray(js.cross_entropy(z[..., None], t[..., None])),
            r"Figure 1: $\rho = t\log(t/z^*)$; minimum $-e^{-1}$ at $(1, e^{-1})$",
        ),
        "fig2_least_squares.png": (
            np.asarray(js.least_squares(z[..., None], t[..., None])),
            r"Figure 2: $\rho = \frac{1}{2}(t - z^*)^2$; minimum 0 on $z^* = t$",
        ),
    }
    pngs = {}
    for name, (rho, title) in surfaces.items():
        fig = plt.figure(figsize=(5.5, 4.5))
        ax = fig.add_subplot(projection="3d")
        ax.plot_surface(z, t, rho, cmap="viridis", linewidth=0, antialiased=True)
        if name.startswith("fig1"):
            # Axes3D.scatter is unannotated: pyright infers zs: int from its default 0.
            ax.scatter([1.0], [np.exp(-1)], [-np.exp(-1)], color="red", s=30)  # pyright: ignore[reportArgumentType]
        ax.set_xlabel("$z^*$")
        ax.set_ylabel("$t$")
        ax.set_zlabel(r"$\rho$")
        ax.set_title(title, fontsize=9)
        pngs[name] = render(fig)
    return pngs


def penalty_surfaces(out: Path, pngs: dict[str, bytes] | None = None) -> list[str]:
    """Writes Figures 1 and 2 (:func:`penalty_surface_pngs`, or ``pngs`` drawn before) into
    ``out``; returns their file names."""
    pngs = penalty_surface_pngs() if pngs is None else pngs
    for name, data in pngs.items():
        io.write_bytes(Path(out) / name, data)
    return list(pngs)


def eq4_figure(results: dict, out: Path) -> str:
    """Box plots of eq. (4), summed form (the paper's scale), with the paper's Table 2 means
    marked on the same axis."""
    plt = _plt()
    per = results["per_trial"]
    names = list(per)
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    ax.boxplot([np.asarray(per[n]["eq4_summed"]) for n in names], showmeans=True)
    ax.set_xticks(range(1, len(names) + 1), [paper.label(n) for n in names], fontsize=8)
    xs = [i + 1 for i, n in enumerate(names) if n in paper.TABLE2]
    ys = [paper.TABLE2[n][0] for n in names if n in paper.TABLE2]
    if xs:
        ax.scatter(
            xs, ys, marker="D", color="crimson", zorder=3, label="the paper's mean (Table 2)"
        )
        ax.legend(fontsize=8, loc="upper right")
    ax.set_ylabel("eq. (4), summed over the test points")
    trials = len(np.asarray(per[names[0]]["eq4"]))
    ax.set_title(f"Posterior error over {trials} trials (lower is better)", fontsize=9)
    return save(fig, out / "eq4_boxplot.png")


def confusion_heatmaps(summary: dict, out: Path, bayes: bool = True) -> str:
    plt = _plt()
    tables = {"Bayes rule (empirical)": summary["bayes_rates_empirical"]} if bayes else {}
    names = sorted(summary["rates"], key=lambda n: paper.TABLE_NUMBER.get(n, 99))
    tables.update({paper.label(n): summary["rates"][n] for n in names})
    fig, axes = plt.subplots(1, len(tables), figsize=(3.2 * len(tables), 3.2), squeeze=False)
    for ax, (title, rates) in zip(axes[0], tables.items()):
        rates = np.asarray(rates)
        ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
        for i in range(rates.shape[0]):
            for j in range(rates.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{rates[i, j]:.3f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black",
                )
        ticks = range(rates.shape[0])
        ax.set_xticks(ticks, [str(k + 1) for k in ticks])
        ax.set_yticks(ticks, [str(k + 1) for k in ticks])
        ax.set_xlabel("ascribed class")
        ax.set_ylabel("true class")
        ax.set_title(title, fontsize=8)
    return save(fig, out / "confusion_heatmaps.png")


def posterior_plane(config: C.Config, results: dict, out: Path) -> str:
    """P̂(C_1 | x) of each estimator on trial 0 over the input plane, the exact posterior's
    contours overlaid, and the training sample with a class legend."""
    import jax
    import jax.numpy as jnp

    import jaxsoftmax as js
    from jaxsoftmax import experiment, mlp

    plt = _plt()
    example = results["example"]
    spec, hyper = experiment.spec_of(config), experiment.hyper_of(config)
    grid = np.linspace(-3.5, 3.5, 141)
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx, gy], -1).reshape(-1, 2).astype(np.float32)
    names = tuple(example["params"])

    # One compiled program for every panel (eager calls would compile op by op, each time).
    @jax.jit
    def surfaces(points, params):
        prob = experiment.problem(spec, hyper)
        assert prob is not None  # drawn only for problems with an exact posterior
        out = [js.problems.posterior(prob, points)[:, 0]]
        for name, p in zip(names, params):
            out.append(js.get_pairing(name).activate(mlp.apply(p, points))[:, 0])
        return jnp.stack(out)

    values = np.asarray(surfaces(points, tuple(example["params"][n] for n in names)))
    exact = values[0].reshape(gx.shape)
    panels = {"Bayes posterior (exact)": exact}
    for name, v in zip(names, values[1:]):
        panels[paper.label(name)] = v.reshape(gx.shape)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(3.2 * len(panels) + 1, 4.3),
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    markers = "o^sDvP*X"
    im = None
    for ax, (title, surface) in zip(axes[0], panels.items()):
        im = ax.contourf(gx, gy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.contour(gx, gy, exact, levels=[0.1, 0.5, 0.9], colors="k", linewidths=0.7)
        x, y = np.asarray(example["x"]), np.asarray(example["y"])
        for k in range(config.problem.n_classes):
            ax.scatter(
                x[y == k, 0],
                x[y == k, 1],
                s=5,
                marker=markers[k % len(markers)],
                color=f"C{k}",
                label=f"class {k + 1}",
                edgecolors="none",
            )
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("$x_1$")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(grid[0], grid[-1])
        ax.set_aspect("equal")
    axes[0][0].set_ylabel("$x_2$")
    assert im is not None  # panels holds the exact posterior at least
    fig.legend(
        *axes[0][0].get_legend_handles_labels(),
        loc="outside lower center",
        ncols=config.problem.n_classes,
        fontsize=8,
        markerscale=2,
    )
    fig.colorbar(
        im, ax=axes[0], shrink=0.8, label=r"$\hat P(C_1 \mid x)$ (black: exact 0.1, 0.5, 0.9)"
    )
    return save(fig, out / "posterior_plane.png", tight=False)


def reliability_figure(summary: dict, out: Path) -> str:
    """The reliability diagram of each estimator, pooled over trials: accuracy against mean
    top-label confidence per equal-width bin (Guo et al. 2017, section 2), the diagonal
    (perfect calibration) dashed, the mean of the per-trial ECEs in each legend entry."""
    plt = _plt()
    cal = summary["calibration"]
    bins = cal["bins"]
    fig, ax = plt.subplots(figsize=(5.0, 4.6))
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8, label="perfect calibration")
    for name, c in cal["estimators"].items():
        conf = np.asarray(c["confidence"], float)
        acc = np.asarray(c["accuracy"], float)
        seen = np.isfinite(conf)
        ece = summary["scores"][name]["ece"]["mean"]
        ax.plot(
            conf[seen],
            acc[seen],
            "o-",
            markersize=3,
            label=f"{paper.label(name)} (mean ECE per trial {ece:.3f})",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean top-label confidence in the bin")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(
        f"Reliability diagram, test samples of every trial ({bins} equal-width bins)", fontsize=9
    )
    ax.legend(fontsize=7, loc="upper left")
    return save(fig, out / "reliability.png")


def reproduction_figures(
    config: C.Config,
    results: dict,
    summary: dict,
    out: Path,
    surfaces: dict[str, bytes] | None = None,
) -> list[str]:
    """Every figure of the reproduction, written into ``out``; one log line as each starts
    (importing matplotlib and drawing take seconds: never a silent wait). Eq. (4)'s box plot
    and the posterior plane need an exact posterior (the plane also two inputs); the
    reliability diagram needs results with the calibration bins. ``surfaces``: Figures 1
    and 2 drawn before (:func:`penalty_surface_pngs`), if they were."""
    out = Path(out)
    exact = summary.get("eq4_available", True)
    steps = []
    if exact:
        steps.append(("Table 2's eq. (4) per trial", lambda: [eq4_figure(results, out)]))
    steps.append(("Tables 3-6 as heat maps", lambda: [confusion_heatmaps(summary, out, exact)]))
    if "calibration" in summary:
        steps.append(("the reliability diagram", lambda: [reliability_figure(summary, out)]))
    if exact and config.problem.n_inputs == 2 and config.problem.family.startswith("gaussian"):
        steps.append(("the posterior plane", lambda: [posterior_plane(config, results, out)]))
    steps.append(("Figures 1 and 2", lambda: penalty_surfaces(out, surfaces)))
    names: list[str] = []
    start = time.perf_counter()
    for i, (what, draw) in enumerate(steps, 1):
        log.info("figures: %d/%d, %s …", i, len(steps), what)
        names += draw()
    log.info("figures: %d written in %.1f s", len(names), time.perf_counter() - start)
    return names
