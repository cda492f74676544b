r"""The p–h–q multi-layer perceptron of Dunne & Campbell (1997), section 1.

.. math::
    \mathrm{mlp}(x) = f_q\big(\Upsilon\,[1, f_h(\Omega\,[1, x])]\big)

with logistic-sigmoid hidden units f_h, biases (the paper's augmented 1s), and an output
activation f_q chosen by the pairing. Here the parameters are a pytree of two layers,
``{"hidden": {"w": (p, h), "b": (h,)}, "out": {"w": (h, q), "b": (q,)}}`` (Ω and Υ transposed,
their bias columns split off), and :func:`apply` returns the logits z = Υ y*; the activation is
applied by the caller (``pairing.activate``), so the stable from-logits losses can be used.

Pure functions: a leading "trials" axis is added by ``jax.vmap`` over :func:`init`'s key and
:func:`apply`'s params, not written in here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._checks import as_float_array

__all__ = ["apply", "apply_samples_last", "hidden", "init", "n_params"]

Params = dict


def init(
    key: jax.Array, p: int, h: int, q: int, *, scale: float = 1.0, dtype=jnp.float32
) -> Params:
    """Draws every weight and bias uniform(−scale, scale), as the paper does with scale 1.

    Args:
      key: a PRNG key (split once here, for the two layers).
      p: inputs; h: hidden units; q: outputs (positive ints).
      scale: half-width of the uniform initial interval (the paper: "often (−1, 1)").
      dtype: floating dtype of the parameters.

    Returns:
      ``{"hidden": {"w": (p, h), "b": (h,)}, "out": {"w": (h, q), "b": (q,)}}``.
    """
    for name, value in (("p", p), ("h", h), ("q", q)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"{name} (the number of {_UNITS[name]}) must be a positive int, got {value!r}"
            )
    if not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    k_units, k_bias = jax.random.split(key)
    # One draw per hidden unit (a row: its p input weights, its bias, its q output weights),
    # the hidden-unit axis first, so (with JAX's partitionable threefry) the first h units of
    # a network with more hidden units are these same numbers: a sweep can pad hidden sizes
    # to one compiled program and mask the extra units (``mask``). Two flat draws in all:
    # each random-number call site costs compile time, a 2-D one about twice a flat one.
    width = p + 1 + q
    rows = jax.random.uniform(k_units, (h * width,), dtype, -scale, scale).reshape(h, width)
    return {
        "hidden": {"w": rows[:, :p].T, "b": rows[:, p]},
        "out": {"w": rows[:, p + 1 :], "b": jax.random.uniform(k_bias, (q,), dtype, -scale, scale)},
    }


_UNITS = {"p": "inputs", "h": "hidden units", "q": "outputs"}


def _affine(x: jax.Array, layer: dict) -> jax.Array:
    y = x @ layer["w"]
    return y + jnp.broadcast_to(layer["b"], y.shape)


def hidden(params: Params, x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """y* = f_h(Ω [1, x]): the logistic hidden-unit activations, shape ``(..., h)``; units
    where ``mask`` (``(h,)``, 0 or 1) is 0 output exactly 0."""
    y = jax.nn.sigmoid(_affine(x, params["hidden"]))
    return y if mask is None else y * mask


def apply(params: Params, x: jax.typing.ArrayLike, mask: jax.Array | None = None) -> jax.Array:
    """The logits z = Υ [1, f_h(Ω [1, x])] for inputs ``x`` of shape ``(..., p)``.

    ``mask`` ``(h,)`` (1 for a unit, 0 for padding) makes a network padded to h hidden units
    compute exactly the network of its unmasked units: masked units output 0, so they add
    nothing to the logits and get zero gradient.

    Returns:
      Logits of shape ``(..., q)``; the output activation f_q is applied by the caller.
    """
    x = as_float_array(x, "x")
    p = params["hidden"]["w"].shape[-2]
    if x.ndim == 0 or x.shape[-1] != p:
        raise ValueError(
            f"x must have shape (..., {p}) for a network with p={p} inputs, got x.shape={x.shape}"
        )
    x = x.astype(params["hidden"]["w"].dtype)
    return _affine(hidden(params, x, mask), params["out"])


def apply_samples_last(params: Params, x_t: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """:func:`apply` with the sample axis last: ``x_t`` is ``(p, N)``, the logits ``(q, N)``.

    The same network (``apply_samples_last(params, x.T) == apply(params, x).T``), laid out for
    speed: with N last, the elementwise work and the reductions over the q classes run along
    long contiguous rows. :mod:`jaxsoftmax.train` uses it inside its loop.
    """
    y = jax.nn.sigmoid(params["hidden"]["w"].T @ x_t + params["hidden"]["b"][:, None])
    if mask is not None:
        y = y * mask[:, None]
    return params["out"]["w"].T @ y + params["out"]["b"][:, None]


def n_params(p: int, h: int, q: int) -> int:
    """The number of adjustable parameters, h(p + 1) + q(h + 1)."""
    return h * (p + 1) + q * (h + 1)
