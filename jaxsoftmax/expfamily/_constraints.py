"""Value checks: :class:`Constraint`, the common ones, and how a failed one is reported.

A family states its domain as a sequence of :class:`Constraint`; they are raised eagerly as
``ValueError`` on concrete values (:func:`_raise_violations`) or staged as ``checkify`` checks
on traced ones (:func:`_check_traced`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

_SUM_TOL = 1e-4  # |Σ probabilities − 1| allowed for priors and categorical parameters


class Constraint(NamedTuple):
    """A value check: ``ok`` is True where ``value`` is as ``expected``.

    Attributes:
      expected: what was expected, in words (completes "<name> must be ...").
      ok: boolean array, True where the check passes.
      value: the values tested, broadcastable to ``ok`` (shown in the error message).
      name: the argument's name; the caller's default (``class_params``, ``x``) when None.
      label: what ``value`` is, when it is not the argument itself (e.g. ``"sum(priors)"``).
    """

    expected: str
    ok: Any
    value: Any
    name: str | None = None
    label: str | None = None


def _is_int(v: jax.Array) -> jax.Array:
    return v == jnp.round(v)


def _finite(v, name=None):
    return Constraint("finite", jnp.isfinite(v), v, name)


def _positive(v, what="positive and finite", name=None):
    return Constraint(what, (v > 0) & jnp.isfinite(v), v, name)


def _positive_integer(n, name):
    return Constraint("a positive integer", _is_int(n) & (n >= 1) & jnp.isfinite(n), n, name)


def _open_unit(p):
    return Constraint("in the open interval (0, 1)", (p > 0) & (p < 1), p)


def _counts(x, low=0, what="non-negative integers"):
    return Constraint(what, _is_int(x) & (x >= low) & jnp.isfinite(x), x)


def _is_tracer(*trees) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(trees))


def _stack_ok(constraints) -> jax.Array:
    oks = [jnp.all(c.ok) for c in constraints]
    return jnp.all(jnp.stack(oks)) if oks else jnp.asarray(True)


def _fmt(v) -> str:
    v = np.asarray(v)
    return f"{v.item():.6g}" if v.dtype.kind == "f" else str(v.item())


def _raise_violations(constraints, default: str, where: str) -> None:
    """Raises ``ValueError`` for the first failed constraint (concrete values only)."""
    for c in constraints:
        ok = np.asarray(c.ok)
        if ok.all():
            continue
        name = c.name or default
        value = np.broadcast_to(np.asarray(c.value), ok.shape)
        bad = np.argwhere(~ok)
        idx = tuple(int(i) for i in bad[0])
        at = f"[{', '.join(map(str, idx))}]" if idx else ""
        label = c.label or name
        raise ValueError(
            f"{where}: {name} must be {c.expected}; got {label}{at} = {_fmt(value[idx])} "
            f"({len(bad)} of {ok.size} entries violate this; {label} has shape {ok.shape})"
        )


def _check_traced(constraints, default: str, where: str) -> None:
    """Stages every constraint as a ``checkify`` check (traced values)."""
    for c in constraints:
        ok = jnp.asarray(c.ok)
        if ok.size == 0:
            continue
        value = jnp.broadcast_to(jnp.asarray(c.value), ok.shape).ravel()
        i = jnp.argmin(ok.ravel())
        expected = c.expected.replace("{", "{{").replace("}", "}}")
        label = c.label or c.name or default
        checkify.check(
            jnp.all(ok),
            f"{where}: {c.name or default} must be {expected}; got {label} (shape "
            f"{ok.shape}) = {{value}} at flat index {{index}}",
            value=value[i],
            index=i,
        )
