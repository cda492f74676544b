"""Figures for the experiments (matplotlib, written as PNG). Imported by the scripts beside it."""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import jaxsoftmax as js
from jaxsoftmax import gaussians, mlp


def save(fig, path: Path, *, tight: bool = True) -> str:
    """Writes ``fig`` to ``path`` atomically (a temporary file, then a rename); closes it."""
    if tight:
        fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path.name


def penalty_surfaces(out: Path) -> list[str]:
    """The paper's Figures 1 and 2: t log(t/z) and ½(t − z)² over [0, 1]², computed with the
    library's penalties (the minimum −1/e at (z*, t) = (1, 1/e) is marked on Figure 1)."""
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
    names = []
    for name, (rho, title) in surfaces.items():
        fig = plt.figure(figsize=(5.5, 4.5))
        ax = fig.add_subplot(projection="3d")
        ax.plot_surface(z, t, rho, cmap="viridis", linewidth=0, antialiased=True)
        if name.startswith("fig1"):
            ax.scatter([1.0], [np.exp(-1)], [-np.exp(-1)], color="red", s=30)
        ax.set_xlabel("$z^*$")
        ax.set_ylabel("$t$")
        ax.set_zlabel(r"$\rho$")
        ax.set_title(title, fontsize=9)
        names.append(save(fig, out / name))
    return names


def eq4_boxplot(results: dict, out: Path, labels: dict) -> str:
    est = results["estimators"]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.boxplot([est[n]["eq4"] for n in est], showmeans=True)
    ax.set_xticks(range(1, len(est) + 1), [labels.get(n, n) for n in est], fontsize=8)
    ax.set_ylabel("eq. (4) on the test sample")
    ax.set_title(
        f"Accuracy of the posterior estimates over {len(next(iter(est.values()))['eq4'])}"
        " trials (lower is better)",
        fontsize=9,
    )
    return save(fig, out / "eq4_boxplot.png")


def confusion_heatmaps(results: dict, out: Path, labels: dict) -> str:
    tables = {"Bayes rule (analytic)": results["bayes_rates_analytic"]}
    tables.update({labels.get(n, n): r["rates"] for n, r in results["estimators"].items()})
    fig, axes = plt.subplots(1, len(tables), figsize=(3.2 * len(tables), 3.2))
    for ax, (title, rates) in zip(axes, tables.items()):
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


def posterior_plane(results: dict, out: Path, labels: dict) -> str:
    """P̂(C_1 | x) of each estimator on one trial over the input plane, with the exact
    posterior's contours overlaid, and the training sample."""
    example = results["example"]
    problem = gaussians.paper_problem()
    grid = np.linspace(-3.5, 3.5, 141)
    gx, gy = np.meshgrid(grid, grid)
    points = jnp.asarray(np.stack([gx, gy], -1).reshape(-1, 2), jnp.float32)
    exact = np.asarray(gaussians.bayes_posterior(problem, points))[:, 0].reshape(gx.shape)
    panels = {"Bayes posterior (exact)": exact}
    for name, params in example["params"].items():
        estimate = js.get_pairing(name).activate(mlp.apply(params, points))
        panels[labels.get(name, name)] = np.asarray(estimate)[:, 0].reshape(gx.shape)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.2 * len(panels) + 1, 3.9), sharey=True, layout="constrained"
    )
    for ax, (title, surface) in zip(axes, panels.items()):
        im = ax.contourf(gx, gy, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.contour(gx, gy, exact, levels=[0.1, 0.5, 0.9], colors="k", linewidths=0.7)
        ax.scatter(
            example["x"][:, 0],
            example["x"][:, 1],
            c=example["y"],
            s=3,
            cmap="tab10",
            vmin=0,
            vmax=9,
        )
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("$x_1$")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(grid[0], grid[-1])
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_2$")
    fig.colorbar(
        im, ax=axes, shrink=0.8, label=r"$\hat P(C_1 \mid x)$ (black: exact 0.1, 0.5, 0.9)"
    )
    return save(fig, out / "posterior_plane.png", tight=False)  # constrained layout


def dunne_campbell_figures(results: dict, out: Path, *, labels: dict) -> list[str]:
    out = Path(out)
    return [
        *penalty_surfaces(out),
        eq4_boxplot(results, out, labels),
        confusion_heatmaps(results, out, labels),
        posterior_plane(results, out, labels),
    ]
