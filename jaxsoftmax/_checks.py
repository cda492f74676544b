"""Input validation shared by the public functions.

Everything here runs on *static* information only (shapes, dtypes, Python ints), so it works
identically under ``jit``, ``vmap`` and ``grad``: errors are raised at trace time and name the
offending argument, its shape or dtype, and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.core
import jax.numpy as jnp
import numpy as np

Axis = int | Sequence[int]


def as_float_array(x: jax.typing.ArrayLike | Sequence[Any], name: str) -> jax.Array:
    """Returns ``x`` as a real floating JAX array.

    Integer and boolean input is promoted to JAX's default float dtype (float32, or float64
    when ``jax_enable_x64`` is on); complex and non-numeric input raises ``TypeError``.
    """
    if isinstance(x, jax.Array):
        arr = x
    else:
        try:
            arr = jnp.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be a real numeric array, got {type(x).__name__} ({err})"
            ) from None
    dtype = arr.dtype
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(
            f"{name} must be real floating, got complex dtype {dtype} with shape {arr.shape}; "
            "take the real part or the modulus explicitly"
        )
    if jnp.issubdtype(dtype, jnp.floating):
        return arr
    if jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_:
        return arr.astype(jnp.result_type(float))
    raise TypeError(f"{name} must be a real numeric array, got dtype {dtype}")


def as_mask(where: jax.typing.ArrayLike | None, shape: tuple[int, ...], name: str = "where"):
    """Returns ``where`` as a boolean array broadcast to ``shape`` (``None`` passes through)."""
    if where is None:
        return None
    arr = where if isinstance(where, jax.Array) else jnp.asarray(where)
    if arr.dtype != jnp.bool_:
        raise TypeError(f"{name} must be a boolean mask, got dtype {arr.dtype}")
    try:
        np.broadcast_shapes(arr.shape, shape)
    except ValueError:
        raise ValueError(
            f"{name} with shape {arr.shape} does not broadcast to the input's shape {shape}"
        ) from None
    if np.broadcast_shapes(arr.shape, shape) != tuple(shape):
        raise ValueError(
            f"{name} with shape {arr.shape} would enlarge the input's shape {shape}; "
            "it must broadcast to the input, not beyond it"
        )
    return jnp.broadcast_to(arr, shape)


def normalize_axis(axis: Axis, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """Returns ``axis`` as a sorted tuple of non-negative ints, or raises ``ValueError``."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}={axis!r} is out of range for an array of rank {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}={axis!r} repeats an axis")
    if not out:
        raise ValueError(f"{name} must name at least one axis, got {axis!r}")
    return tuple(sorted(out))


def same_shape(a: jax.Array, b: jax.Array, names: tuple[str, str]) -> None:
    """Raises ``ValueError`` unless ``a`` and ``b`` have identical shapes."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {names[0]}.shape="
            f"{a.shape} and {names[1]}.shape={b.shape}"
        )


def compute_dtype(dtype) -> np.dtype:
    """The dtype to compute in: half-precision inputs are computed in float32."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


# --------------------------------------------------------------------------------------------
# Value checks: only where the values are concrete (never inside a trace)
# --------------------------------------------------------------------------------------------


def concrete_value(x) -> np.ndarray | None:
    """``x`` as a NumPy array when its value is known now, else ``None``.

    Python numbers, NumPy arrays and JAX arrays outside a trace are concrete (reading a JAX
    array copies it to the host, a synchronisation); tracers under ``jit``/``grad``/``vmap``
    are not, and are left alone.
    """
    if isinstance(x, jax.core.Tracer):
        return None
    if isinstance(x, (bool, int, float, np.ndarray, np.generic, jax.Array)):
        return np.asarray(x)
    return None


def check_beta(beta, fn: str, *, allow_zero: bool = True, allow_inf: bool = False) -> None:
    """Refuses a concrete NaN, infinite (unless allowed) or zero (unless allowed) ``beta``.

    Raises ``ValueError`` naming ``beta``, the offending value and what is allowed. Traced
    ``beta`` is not checked (a NaN then gives NaN output, as documented at each function).
    """
    value = concrete_value(beta)
    if value is None or not (
        jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)
    ):
        return
    value = value.astype(np.float64)
    bad = np.isnan(value) if allow_inf else ~np.isfinite(value)
    if not allow_zero:
        bad = bad | (value == 0)
    if np.any(bad):
        first = value.reshape(-1)[np.argmax(bad.reshape(-1))]
        allowed = "a real number, not NaN" if allow_inf else "a finite real number"
        if not allow_zero:
            allowed = allowed.replace("a ", "a non-zero, ", 1)
        hint = " (use hardmax for β = ±∞)" if np.isinf(first) else ""
        if first == 0:
            hint = f" ({fn} needs a non-zero beta: (1/β) log Σ exp(βz) has no limit at β = 0)"
        raise ValueError(
            f"{fn}: beta must be {allowed} (or an array of them), got beta={float(first)}"
            f"{' among ' + str(value.size) + ' values' if value.size > 1 else ''}{hint}"
        )


def check_unit_interval(x, name: str, fn: str) -> None:
    """Opt-in domain check of targets: every value must lie in [0, 1] (NaN refused).

    Concrete ``x`` raises ``ValueError`` naming the argument, how many values are out of range
    and the first one with its index. Traced ``x`` gets a ``jax.experimental.checkify`` check,
    which reports the same condition when the caller wraps its function in
    ``checkify.checkify(f, errors=checkify.user_checks)`` (and otherwise makes ``jit`` refuse
    to stage the unfunctionalised check). Sums other than 1 are allowed.
    """
    value = concrete_value(x)
    if value is None:
        from jax.experimental import checkify

        ok = jnp.all((x >= 0) & (x <= 1))
        checkify.check(ok, f"{fn}: {name} must lie in [0, 1] (no NaN); some do not")
        return
    if not (jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)):
        return  # the dtype check of the function itself reports it
    value = value.astype(np.float64)
    bad = ~((value >= 0) & (value <= 1))
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), value.shape) if value.ndim else ()
        raise ValueError(
            f"{fn}: {name} must lie in [0, 1] (no NaN): {int(bad.sum())} of {value.size} "
            f"values do not, the first {name}[{', '.join(map(str, idx))}] = {float(value[idx])}. "
            "Targets need not sum to one (the paper's ρ_c allows that)."
        )
