"""Input validation shared by the public functions.

Everything here runs on *static* information only (shapes, dtypes, Python ints), so it works
identically under ``jit``, ``vmap`` and ``grad``: errors are raised at trace time and name the
offending argument, its shape or dtype, and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

Axis = int | Sequence[int]


def as_float_array(x: jax.typing.ArrayLike, name: str) -> jax.Array:
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
