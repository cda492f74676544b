"""Benchmark: the paper's experiment (trials × 3 estimators × steps, full batch) trained three
ways on the same data, in one run, with the ratios printed.

* **vmapped**: ``jit(vmap(train.fit_many))`` over trials, the trials sharded over the local
  devices (one host device per core on a CPU): one compiled computation. Timed including
  compilation.
* **(a) loop**: a Python loop over trials calling the same ``train.fit_many`` jitted for one
  trial (compiled once, compilation included).
* **(b) PyTorch**: the obvious loop: for each trial and estimator, an ``nn.Sequential`` MLP
  and ``torch.optim.Adam``, stepped ``steps`` times (needs ``pip install torch==2.13.0``, the
  project's ``[bench]`` extra). ``--torch-trials N`` times the first N trials only and scales
  the time to all trials (said so in the output).

    python experiments/bench_experiment.py                       # 100 trials, 2000 steps
    python experiments/bench_experiment.py --trials 8 --steps 200 --torch-trials 2
"""

from __future__ import annotations

import argparse
import json
import operator
import time

import jax
import numpy as np

from jaxsoftmax import config as C
from jaxsoftmax import experiment, io, train

ESTIMATORS = C.PAPER_ESTIMATORS


def make_config(trials: int, steps: int, n_per_class: int, hidden: int, seed: int) -> C.Config:
    return C.from_dict(
        {
            "trials": trials,
            "seed": seed,
            "training.steps": steps,
            "problem.n_per_class": n_per_class,
            "model.hidden": hidden,
        }
    )


def make_data(config: C.Config):
    """The engine's data and initial weights of every trial (the same the main job trains)."""
    spec, hyper = experiment.spec_of(config), experiment.hyper_of(config)
    t = np.arange(config.trials, dtype=np.int32)
    state, data = jax.jit(jax.vmap(lambda i: experiment.setup(spec, config.seed, i, hyper)))(t)
    params = state.params[0]
    return jax.device_get((params, data["x"], data["t"]))


def time_vmapped(config: C.Config) -> float:
    """The main job's computation: sampling, training and evaluation of every trial, as one
    sharded program (``jaxsoftmax.experiment.run``), compilation included."""
    start = time.perf_counter()
    experiment.run(config)
    return time.perf_counter() - start


def time_loop(params, x, t, steps: int) -> float:
    fit = jax.jit(lambda p, x, t: train.fit_many((p,) * 3, x, t, pairings=ESTIMATORS, steps=steps))
    start = time.perf_counter()
    for i in range(x.shape[0]):
        trial = jax.tree.map(operator.itemgetter(i), params)
        jax.block_until_ready(fit(trial, x[i], t[i]))
    return time.perf_counter() - start


def time_torch(params, x, t, steps: int, trials: int) -> float:
    import torch

    def loss_fn(name, z, target):
        if name == "logistic/least_squares":
            return (0.5 * (target - torch.sigmoid(z)) ** 2).sum(-1).mean()
        if name == "softmax/least_squares":
            return (0.5 * (target - torch.softmax(z, -1)) ** 2).sum(-1).mean()
        return -(target * torch.log_softmax(z, -1)).sum(-1).mean()  # one-hot: ρ_c

    start = time.perf_counter()
    for i in range(trials):
        xi = torch.tensor(np.asarray(x[i]))
        ti = torch.tensor(np.asarray(t[i]))
        for name in ESTIMATORS:
            net = torch.nn.Sequential(
                torch.nn.Linear(x.shape[-1], params["hidden"]["w"].shape[-1]),
                torch.nn.Sigmoid(),
                torch.nn.Linear(params["out"]["w"].shape[-2], t.shape[-1]),
            )
            with torch.no_grad():  # the same initial weights as the JAX runs
                net[0].weight.copy_(torch.tensor(np.asarray(params["hidden"]["w"][i]).T))
                net[0].bias.copy_(torch.tensor(np.asarray(params["hidden"]["b"][i])))
                net[2].weight.copy_(torch.tensor(np.asarray(params["out"]["w"][i]).T))
                net[2].bias.copy_(torch.tensor(np.asarray(params["out"]["b"][i])))
            opt = torch.optim.Adam(net.parameters(), lr=train.DEFAULT_LEARNING_RATE)
            for _ in range(steps):
                opt.zero_grad()
                loss = loss_fn(name, net(xi), ti)
                loss.backward()
                opt.step()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--n-per-class", type=int, default=100)
    p.add_argument("--hidden", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--torch-trials",
        type=int,
        default=None,
        help="time PyTorch on this many trials and scale to --trials (default: all)",
    )
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--skip-loop", action="store_true")
    p.add_argument("--json", help="also write the results to this JSON file")
    a = p.parse_args(argv)
    if min(a.trials, a.steps, a.n_per_class, a.hidden) < 1:
        p.error("--trials, --steps, --n-per-class and --hidden must be positive")
    jax.config.update("jax_num_cpu_devices", __import__("os").cpu_count() or 1)
    config = make_config(a.trials, a.steps, a.n_per_class, a.hidden, a.seed)
    meta = io.metadata()
    res = {
        "device": meta["device"],
        "jax": meta["jax"],
        "trials": a.trials,
        "steps": a.steps,
        "estimators": 3,
        "trainings": 3 * a.trials,
    }
    res["vmapped_s"] = time_vmapped(config)
    # Again in the same process: the programs compiled (what every further seed, or sweep
    # chunk of the same shapes, pays; a new process with the persistent cache warm pays
    # this plus tracing and cache loading, ~1.5 s here).
    res["vmapped_compiled_s"] = time_vmapped(config)
    params, x, t = make_data(config)
    lines = [
        f"{a.trials} trials x 3 estimators x {a.steps} full-batch steps "
        f"({a.n_per_class * 4} points, h = {a.hidden}) on {meta['device']}, jax {meta['jax']}",
        f"jaxsoftmax.experiment.run (sampling, training, evaluation; one sharded program "
        f"over {jax.local_device_count()} devices), incl. compilation: {res['vmapped_s']:.2f} s; "
        f"compiled (second call): {res['vmapped_compiled_s']:.2f} s",
    ]
    if not a.skip_loop:
        res["loop_s"] = time_loop(params, x, t, a.steps)
        res["loop_ratio"] = res["loop_s"] / res["vmapped_s"]
        lines.append(
            f"(a) Python loop over trials of the jitted single-trial trainer: "
            f"{res['loop_s']:.2f} s  -> vmapped is {res['loop_ratio']:.1f}x faster"
        )
    if not a.skip_torch:
        try:
            import torch
        except ImportError:
            lines.append("(b) PyTorch: not installed (pip install torch==2.13.0); skipped")
        else:
            n = min(a.torch_trials or a.trials, a.trials)
            measured = time_torch(params, x, t, a.steps, n)
            res["torch_trials_timed"] = n
            res["torch_s"] = measured * a.trials / n
            res["torch_ratio"] = res["torch_s"] / res["vmapped_s"]
            res["torch_ratio_compiled"] = res["torch_s"] / res["vmapped_compiled_s"]
            scaled = "" if n == a.trials else f" (timed {n} trials: {measured:.2f} s, scaled)"
            lines.append(
                f"(b) PyTorch loop (torch {torch.__version__}): {res['torch_s']:.2f} s"
                f"{scaled}  -> vmapped is {res['torch_ratio']:.1f}x faster incl. compilation, "
                f"{res['torch_ratio_compiled']:.1f}x compiled"
            )
    print("\n".join(lines))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == "__main__":
    main()
