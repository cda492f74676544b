"""Full-batch optax training of :mod:`jaxsoftmax.mlp`, the whole loop inside one ``jit``.

The paper (section 4.1) trains an MLP for each activation/penalty pairing but names neither the
optimiser nor the training length. Here both are explicit:

* **Optimiser.** Any ``optax.GradientTransformation``; by name through :func:`make_optimizer`.
  The default is Adam with learning rate 0.05: full-batch, 400 points, ~60 parameters, a
  problem where Adam's per-parameter step sizes make one learning rate work for all three
  pairings (whose gradients differ in scale by the z*(1 − z*) factors of Table 1), where plain
  gradient descent would need a learning rate tuned per pairing to be a fair comparison.
* **Protocol.** A fixed number of steps; optionally early stopping on an independent
  validation sample (the parameters with the lowest validation loss seen are returned: a
  fixed-length loop, so it stays vmappable); optionally decoupled weight decay, exactly as
  ``optax.adamw`` applies it (:func:`make_optimizer`).

The loss is the pairing's penalty averaged over the observations (the paper's Σ_n divided by
N, which rescales the gradient only). :func:`fit` trains one network; :func:`fit_many` trains
several estimators (pairings) on the same data inside one ``lax.scan``; both are pure and are
batched over trials by the caller with ``jax.vmap``, so 100 trials × 3 pairings is one compiled
computation. Convergence is reported, not assumed: every result carries the norm of the
training-loss gradient at the returned parameters, and :func:`check_convergence` warns when it
is large.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.core
import jax.numpy as jnp
import optax
from jax import lax

from . import mlp
from .pairings import Pairing, get_pairing, loss_along

__all__ = [
    "OPTIMIZERS",
    "FitResult",
    "TrainState",
    "check_convergence",
    "finish",
    "fit",
    "fit_many",
    "init_state",
    "make_optimizer",
    "mean_loss",
    "train_steps",
]

DEFAULT_OPTIMIZER = "adam"
DEFAULT_LEARNING_RATE = 0.05

# The direction of each optimiser: its optax chain without the learning rate. Every optimiser
# is chain(direction, [decoupled decay], scale_by_learning_rate), the shape of optax.adamw.
OPTIMIZERS = {
    "adam": lambda: optax.scale_by_adam(),
    "adamw": lambda: optax.scale_by_adam(),
    "sgd": lambda: optax.identity(),
    "momentum": lambda: optax.trace(decay=0.9),
    "nesterov": lambda: optax.trace(decay=0.9, nesterov=True),
    "rmsprop": lambda: optax.scale_by_rms(),
    "adagrad": lambda: optax.scale_by_rss(initial_accumulator_value=0.1, eps=1e-7),
    "lion": lambda: optax.scale_by_lion(),
}
"""Optimiser name → its direction (an optax transformation without the learning rate)."""


def _concrete(value) -> float | None:
    """A Python float for a concrete scalar, ``None`` for a traced one."""
    if isinstance(value, jax.core.Tracer):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def make_optimizer(
    name: str = DEFAULT_OPTIMIZER,
    learning_rate: float | jax.Array = DEFAULT_LEARNING_RATE,
    *,
    weight_decay: float | jax.Array = 0.0,
) -> optax.GradientTransformation:
    r"""An optax optimiser by name, with decoupled weight decay.

    Every optimiser is ``optax.chain(direction, add_decayed_weights(weight_decay),
    scale_by_learning_rate(learning_rate))``: the decay λθ is added to the optimiser's
    direction *after* its moment normalisation and scaled by the learning rate with it,

    .. math:: \theta \leftarrow \theta - \eta\,(d(g) + \lambda\,\theta),

    which is exactly what ``optax.adamw`` does (Loshchilov & Hutter, *Decoupled Weight Decay
    Regularization*, 2019), for every optimiser, not an L2 term coupled through Adam's
    moments. With ``weight_decay=0`` (a Python number) the decay step is left out, so the
    optimiser is bitwise ``optax.adam(learning_rate)`` etc. ``"adamw"`` is Adam with this decay
    (it has no hidden default decay of its own: ``optax.adamw``'s 1e-4 is *not* applied).

    Names: ``adam``, ``adamw``, ``sgd``, ``momentum`` (0.9), ``nesterov`` (0.9), ``rmsprop``,
    ``adagrad``, ``lion`` (:data:`OPTIMIZERS`); optax's default hyperparameters otherwise.

    Args:
      name: the optimiser.
      learning_rate: a positive finite number, or a traced scalar (a sweep's array value).
      weight_decay: a non-negative finite number, or a traced scalar.

    Raises:
      ValueError: an unknown name, or a concrete learning rate that is not a finite number
        > 0, or a concrete weight decay that is not a finite number >= 0 (NaN and inf are
        refused: they would train to NaN silently).
    """
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"optimizer: unknown name {name!r}; known: {', '.join(OPTIMIZERS)}")
    lr = _concrete(learning_rate)
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning_rate: expected a finite number > 0, got {learning_rate!r}")
    wd = _concrete(weight_decay)
    if wd is not None and not (math.isfinite(wd) and wd >= 0):
        raise ValueError(f"weight_decay: expected a finite number >= 0, got {weight_decay!r}")
    parts = [OPTIMIZERS[name]()]
    if wd is None or wd > 0:
        parts.append(optax.add_decayed_weights(weight_decay))
    parts.append(optax.scale_by_learning_rate(learning_rate))
    return optax.chain(*parts)


class FitResult(NamedTuple):
    """What training returns (each field gains leading axes under vmap / per estimator).

    Attributes:
      params: the trained parameters (the best on validation under early stopping).
      losses: training loss before each step, shape ``(steps,)``.
      val_losses: validation loss before each step, ``(steps,)``; NaN without validation data.
      best_step: the step whose parameters were returned (``steps`` for the final ones).
      grad_norm: ‖∇ training loss‖₂ at the returned parameters: the convergence check.
      snapshots: the parameters after each step of ``record_at``, stacked on a leading axis.
    """

    params: mlp.Params
    losses: jax.Array
    val_losses: jax.Array
    best_step: jax.Array
    grad_norm: jax.Array
    snapshots: mlp.Params


def mean_loss(
    pairing: Pairing, params: mlp.Params, x: jax.Array, t: jax.Array, mask: jax.Array | None = None
) -> jax.Array:
    """The pairing's penalty of the network's logits, averaged over the observations
    (``mask``: the hidden-unit mask of a padded network, :func:`jaxsoftmax.mlp.apply`)."""
    return jnp.mean(pairing.loss(mlp.apply(params, x, mask), t))


def _mean_loss_t(pairing: Pairing, params: mlp.Params, x_t, t_t, mask=None):
    # mean_loss with the samples along the last axis: inputs (p, N), logits and targets (q, N),
    # the loss summed over the class axis 0. No transposes inside the loop: measured ~35%
    # faster per step on CPU than transposing the logits back (experiments/bench_experiment.py).
    return jnp.mean(loss_along(pairing, mlp.apply_samples_last(params, x_t, mask), t_t, 0))


def _as_pairing(p: Pairing | str) -> Pairing:
    return get_pairing(p) if isinstance(p, str) else p


def tree_norm(tree) -> jax.Array:
    """‖tree‖₂ over all leaves (the global gradient norm)."""
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree.leaves(tree)))


def _select(pred, a, b):
    """The pytree ``a`` where the scalar ``pred`` holds, else ``b``."""
    return jax.tree.map(lambda u, v: jnp.where(pred, u, v), a, b)


def _check_data(x, t, name="x"):
    if x.ndim != 2 or t.ndim != 2 or x.shape[0] != t.shape[0]:
        raise ValueError(
            f"{name} must be (N, p) and its targets (N, q) with the same N, got "
            f"{name}.shape={x.shape} and targets.shape={t.shape} (batch trials with jax.vmap)"
        )


class TrainState(NamedTuple):
    """Everything a training run carries between steps, for E estimators trained together.

    Make one with :func:`init_state`, advance it with :func:`train_steps` (in as many chunks
    as you like: a progress display or a checkpoint between chunks), and turn it into results
    with :func:`finish`. All fields are arrays or pytrees of arrays, so a state can be vmapped,
    sharded and saved.

    Attributes:
      step: steps taken so far (int32 scalar).
      params: the current parameters, one pytree per estimator.
      opt_state: the optimiser state, one per estimator.
      best_params: the parameters with the lowest validation loss so far (early stopping).
      best_val: that loss, ``(E,)`` (+∞ before any validation).
      best_step: the step at which ``best_params`` were current, ``(E,)``.
      record_at: the step counts after which to snapshot the parameters, ``(R,)``.
      snapshots: the snapshots, one pytree per estimator with a leading ``(R,)`` axis.
    """

    step: jax.Array
    params: tuple
    opt_state: tuple
    best_params: tuple
    best_val: jax.Array
    best_step: jax.Array
    record_at: jax.Array
    snapshots: tuple


def init_state(
    params: Sequence[mlp.Params],
    *,
    optimizer: optax.GradientTransformation | None = None,
    record_at: Sequence[int] = (),
) -> TrainState:
    """The state before the first step, for one initial parameter pytree per estimator."""
    opt = make_optimizer() if optimizer is None else optimizer
    params = tuple(params)
    record = jnp.asarray(sorted(set(record_at)), jnp.int32).reshape(-1)
    leaf = jax.tree.leaves(params[0])[0]
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state=tuple(opt.init(p) for p in params),
        best_params=params,
        best_val=jnp.full((len(params),), jnp.inf, leaf.dtype),
        best_step=jnp.zeros((len(params),), jnp.int32),
        record_at=record,
        snapshots=tuple(
            jax.tree.map(lambda a: jnp.zeros((record.size, *a.shape), a.dtype), p) for p in params
        ),
    )


def _loss_fns(pairings, x, t, mask=None):
    # Inside the loop the samples run along the last axis (see mlp.apply_samples_last).
    x_t, t_t = x.T, t.T
    return [lambda p, pr=pr: _mean_loss_t(pr, p, x_t, t_t, mask) for pr in pairings]


def train_steps(
    state: TrainState,
    x: jax.Array,
    t: jax.Array,
    *,
    pairings: Sequence[Pairing | str],
    steps: int,
    optimizer: optax.GradientTransformation | None = None,
    x_val: jax.Array | None = None,
    t_val: jax.Array | None = None,
    mask: jax.Array | None = None,
) -> tuple[TrainState, jax.Array, jax.Array]:
    """Advances ``state`` by ``steps`` full-batch steps of every estimator, in one ``lax.scan``.

    Args:
      state: from :func:`init_state` or a previous call.
      x, t: training inputs ``(N, p)`` and targets ``(N, q)``.
      pairings: the estimators, in the order of ``state.params``.
      steps: how many steps to take now (static).
      optimizer: the same transformation as given to :func:`init_state`.
      x_val, t_val: an independent validation sample for early stopping (optional).
      mask: the hidden-unit mask ``(h,)`` of networks padded to a common size (optional).

    Returns:
      ``(state, losses, val_losses)``, the losses ``(E, steps)``: each estimator's training
      (and validation, NaN without it) loss before each step.
    """
    pairings = tuple(_as_pairing(p) for p in pairings)
    if len(state.params) != len(pairings):
        raise ValueError(
            f"the state holds {len(state.params)} estimators but {len(pairings)} pairings given"
        )
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    _check_data(x, t)
    validate = x_val is not None
    if validate:
        _check_data(x_val, t_val, "x_val")
    opt = make_optimizer() if optimizer is None else optimizer
    loss_fns = _loss_fns(pairings, x, t, mask)
    val_fns = _loss_fns(pairings, x_val, t_val, mask) if validate else None
    record = state.record_at

    def body(carry, _):
        step, params, opt_state, best, best_val, best_step, snaps = carry
        hit = record == step + 1  # snapshot the parameters after this step's update
        out = [[], [], [], [], [], []]
        losses, vals = [], []
        for i, p in enumerate(params):
            loss, grads = jax.value_and_grad(loss_fns[i])(p)
            b, bv, bs = best[i], best_val[i], best_step[i]
            if validate:
                assert val_fns is not None
                val = val_fns[i](p)
                better = val < bv
                b, bv, bs = (
                    _select(better, p, b),
                    jnp.where(better, val, bv),
                    jnp.where(better, step, bs),
                )
            else:
                val = jnp.full((), jnp.nan, loss.dtype)
            updates, o = opt.update(grads, opt_state[i], p)
            p = optax.apply_updates(p, updates)
            snap = jax.tree.map(
                lambda s, a: jnp.where(hit.reshape((-1,) + (1,) * a.ndim), a[None], s),
                snaps[i],
                p,
            )
            for lst, v in zip(out, (p, o, b, bv, bs, snap), strict=True):
                lst.append(v)
            losses.append(loss)
            vals.append(val)
        new = (
            step + 1,
            tuple(out[0]),
            tuple(out[1]),
            tuple(out[2]),
            jnp.stack(out[3]),
            jnp.stack(out[4]),
            tuple(out[5]),
        )
        return new, (jnp.stack(losses), jnp.stack(vals))

    carry = (
        state.step,
        state.params,
        state.opt_state,
        state.best_params,
        state.best_val,
        state.best_step,
        state.snapshots,
    )
    carry, (losses, vals) = lax.scan(body, carry, None, length=steps)
    step, params, opt_state, best, best_val, best_step, snaps = carry
    new_state = TrainState(step, params, opt_state, best, best_val, best_step, record, snaps)
    return new_state, losses.T, vals.T


def finish(
    state: TrainState,
    x: jax.Array,
    t: jax.Array,
    *,
    pairings: Sequence[Pairing | str],
    losses: jax.Array,
    val_losses: jax.Array,
    x_val: jax.Array | None = None,
    t_val: jax.Array | None = None,
    mask: jax.Array | None = None,
) -> tuple[FitResult, ...]:
    """The results of a run: with validation data, each estimator's best parameters (the final
    ones compete too); the gradient norm of the training loss at the returned parameters."""
    pairings = tuple(_as_pairing(p) for p in pairings)
    loss_fns = _loss_fns(pairings, x, t, mask)
    val_fns = _loss_fns(pairings, x_val, t_val, mask) if x_val is not None else None
    results = []
    for i, p in enumerate(state.params):
        best_step = state.step
        if val_fns is not None:
            last_val = val_fns[i](p)
            better = last_val < state.best_val[i]
            p = _select(better, p, state.best_params[i])
            best_step = jnp.where(better, state.step, state.best_step[i])
        gnorm = tree_norm(jax.grad(loss_fns[i])(p))
        results.append(FitResult(p, losses[i], val_losses[i], best_step, gnorm, state.snapshots[i]))
    return tuple(results)


def fit_many(
    params: Sequence[mlp.Params],
    x: jax.Array,
    t: jax.Array,
    *,
    pairings: Sequence[Pairing | str],
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 2000,
    x_val: jax.Array | None = None,
    t_val: jax.Array | None = None,
    record_at: Sequence[int] = (),
) -> tuple[FitResult, ...]:
    """Trains one network per pairing on the same data, all inside one ``lax.scan``.

    :func:`init_state`, :func:`train_steps` and :func:`finish` in one call. To show progress
    or checkpoint a long run, call those three yourself, in chunks of steps.

    Args:
      params: initial parameters, one pytree per pairing (e.g. the same one repeated, for a
        paired comparison from a common start).
      x: training inputs ``(N, p)``; t: training targets ``(N, q)``.
      pairings: the estimators, as :class:`Pairing` or ``"activation/penalty"`` names.
      optimizer: an optax transformation; default ``make_optimizer()`` (Adam, lr 0.05).
      steps: number of full-batch steps (static).
      x_val, t_val: an independent validation sample: when given, each estimator returns the
        parameters with the lowest validation loss seen (early stopping).
      record_at: step counts (1 … steps) after which to keep a copy of the parameters, returned
        stacked in ``FitResult.snapshots`` (e.g. to study the training length in one run).

    Returns:
      One :class:`FitResult` per pairing. Pure and jittable; vmap it over trials.
    """
    pairings = tuple(_as_pairing(p) for p in pairings)
    if len(params) != len(pairings):
        raise ValueError(f"got {len(params)} initial parameter sets for {len(pairings)} pairings")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if record_at and not all(1 <= int(r) <= steps for r in record_at):
        raise ValueError(f"record_at must lie in 1 … steps={steps}, got {tuple(record_at)}")
    state = init_state(params, optimizer=optimizer, record_at=record_at)
    state, losses, vals = train_steps(
        state,
        x,
        t,
        pairings=pairings,
        steps=steps,
        optimizer=optimizer,
        x_val=x_val,
        t_val=t_val,
    )
    return finish(
        state, x, t, pairings=pairings, losses=losses, val_losses=vals, x_val=x_val, t_val=t_val
    )


def fit(
    params: mlp.Params,
    x: jax.Array,
    t: jax.Array,
    *,
    pairing: Pairing | str,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 2000,
    x_val: jax.Array | None = None,
    t_val: jax.Array | None = None,
    **kwargs,
) -> FitResult:
    """Trains one network: :func:`fit_many` with a single pairing (``record_at`` passes
    through). Pure; vmap it over trials."""
    (result,) = fit_many(
        (params,),
        x,
        t,
        pairings=(pairing,),
        optimizer=optimizer,
        steps=steps,
        x_val=x_val,
        t_val=t_val,
        **kwargs,
    )
    return result


def check_convergence(
    grad_norm: jax.typing.ArrayLike, *, tol: float = 1e-2, label: str = "training"
) -> float:
    """Warns (``RuntimeWarning``) when any final gradient norm exceeds ``tol``.

    Returns the fraction of trainings above ``tol``. Call it on concrete results, outside
    ``jit``. Under early stopping a large gradient is expected (training stopped on purpose).
    """
    g = jnp.asarray(grad_norm)
    frac = float(jnp.mean(g > tol))
    if frac > 0:
        warnings.warn(
            f"{label}: {frac:.0%} of {g.size} trainings end with a gradient norm above {tol:g} "
            f"(median {float(jnp.median(g)):.2g}, max {float(jnp.max(g)):.2g}); "
            "they have not converged: train longer or check the learning rate",
            RuntimeWarning,
            stacklevel=2,
        )
    return frac
