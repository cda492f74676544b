"""Class priors P(C_k): probabilities, :class:`LogPriors`, :class:`PriorWeights` or ``None``."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from .._checks import as_float_array
from ..activations import log_softmax
from ._constraints import _SUM_TOL, Constraint


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class LogPriors:
    """Log prior probabilities log P(C_k), shape (q,); any common additive constant is allowed
    (they are normalised with log_softmax). Entries may be −∞ (a class with prior 0)."""

    values: Any


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, eq=False)
class PriorWeights:
    """Unnormalised prior weights (e.g. class counts), shape (q,), non-negative with a positive
    sum; P(C_k) = w_k / Σ_j w_j."""

    values: Any


def _parse_priors(priors, q: int, params: jax.Array, fn: str) -> tuple[str, jax.Array]:
    """``(kind, values)``: which of the four forms ``priors`` is, and its values of shape (q,).

    ``kind`` is ``"uniform"`` (``None``; the values are zeros), ``"log"``, ``"weights"`` or
    ``"probabilities"``; the shape is checked here, the values by :func:`_prior_constraints`.
    """
    if priors is None:
        return "uniform", jnp.zeros((q,), params.dtype)
    kind, raw = (
        ("log", priors.values)
        if isinstance(priors, LogPriors)
        else ("weights", priors.values)
        if isinstance(priors, PriorWeights)
        else ("probabilities", priors)
    )
    pv = as_float_array(raw, "priors")
    if pv.shape != (q,):
        raise ValueError(
            f"{fn}: priors must have shape ({q},), one per class of "
            f"class_params with shape {params.shape}; got shape {pv.shape}"
        )
    return kind, pv


def _nonnegative(v: jax.Array) -> Constraint:
    return Constraint("non-negative and finite", (v >= 0) & jnp.isfinite(v), v)


def _prior_constraints(kind: str, v: jax.Array) -> tuple[Constraint, ...]:
    if kind == "probabilities":
        s = jnp.sum(v)
        return (
            _nonnegative(v),
            Constraint(
                f"probabilities summing to one (within {_SUM_TOL:g}); pass PriorWeights(w) for "
                "unnormalised weights or LogPriors(log_p) for log-probabilities",
                jnp.abs(s - 1) <= _SUM_TOL,
                s,
                None,
                "sum(priors)",
            ),
        )
    if kind == "weights":
        return (
            _nonnegative(v),
            Constraint("weights of positive sum", jnp.sum(v) > 0, jnp.sum(v), None, "sum(priors)"),
        )
    if kind == "log":
        return (
            Constraint("< +inf and not NaN", v < jnp.inf, v),
            Constraint("not all -inf", jnp.max(v) > -jnp.inf, jnp.max(v), None, "max(priors)"),
        )
    return ()


def _log_prior(kind: str, v: jax.Array) -> jax.Array:
    """log P(C_k), shape (q,), in the dtype of ``v`` (the values from :func:`_parse_priors`)."""
    if kind == "uniform":
        return jnp.full(v.shape, -math.log(v.shape[0]), v.dtype)
    if kind == "log":
        return log_softmax(v)
    return jnp.log(v) - jnp.log(jnp.sum(v))  # probabilities (renormalised) or weights
