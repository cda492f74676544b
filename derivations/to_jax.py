r"""Symbolic → JAX: each derived Δ_k as a vectorised JAX function of (logits, targets).

The translation is a small printer in the manner of sympy2jax: one explicit lookup table,
:data:`JNP_FUNCTIONS`, maps sympy functions to ``jax.numpy`` names, and the expression tree is
compiled into nested closures once per trace. How a general-q formula becomes an array
program, with the class axis last:

* an indexed symbol ``z[k]`` or ``z[j]`` is the whole array ``z`` of shape ``(..., q)``: the
  free index k of Δ_k runs along the class axis, so one evaluation gives Δ for every class;
* ``Sum(f(j), (j, 1, q))`` is ``jnp.sum(f(z), axis=-1, keepdims=True)``, which broadcasts back
  against the class axis. This is exact only when the summand involves no index but its own
  dummy, which the canonical form of :mod:`.algebra` guarantees (factors free of j are pulled
  out, Kronecker deltas collapsed); the printer refuses anything else;
* a sum nested in another (a softmax output z*_j = e^{z_j} / Σ_i e^{z_i} inside Σ_j) is fine
  as long as it involves only its own dummy: it evaluates to shape ``(..., 1)``;
* numbers become Python floats (weakly typed, so float32 stays float32 under strict dtype
  promotion), powers with integer exponents ``x ** n``.

The functions are the formulas as derived, not numerically hardened implementations: the
softmax is written exp(z_k)/Σ_j exp(z_j) without a max shift, ρ_c's Δ has t_k / z*_k, and the L1
Δ has poles at z_k = 0. They exist to be checked against ``jax.grad`` at moderate inputs.
JAX is imported inside :func:`to_jax` only, so importing ``derivations`` never imports JAX.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence

import sympy as sp

from .symbols import beta, q, t, z

__all__ = ["JNP_FUNCTIONS", "jax_delta", "to_jax"]

JNP_FUNCTIONS: Mapping[type, str] = {
    sp.exp: "exp",
    sp.log: "log",
    sp.Abs: "abs",
    sp.sign: "sign",
    sp.sqrt: "sqrt",
    sp.tanh: "tanh",
}
"""The one lookup table from sympy functions to ``jax.numpy`` function names."""


def _compile(expr: sp.Expr, jnp, positions: Mapping, names: Mapping, dummy=None) -> Callable:
    """Compiles ``expr`` into ``env ↦ array`` (``env``: the positional and keyword arrays)."""
    rec = functools.partial(_compile, jnp=jnp, positions=positions, names=names)
    if isinstance(expr, sp.Indexed):
        if expr.base not in positions:
            raise ValueError(f"no argument for {expr.base}; arguments are {list(positions)}")
        (index,) = expr.indices
        if dummy is not None and index != dummy:
            raise ValueError(
                f"{expr} inside a sum over {dummy}: a summand may only involve its own index "
                "(canonicalise the expression first)"
            )
        pos = positions[expr.base]
        return lambda env: env[0][pos]
    if isinstance(expr, sp.Symbol):
        if expr not in names:
            raise ValueError(f"no keyword argument for the symbol {expr}")
        name = names[expr]
        return lambda env: env[1][name]
    if expr.is_Number or expr.is_NumberSymbol:
        value = float(expr)
        return lambda env: value
    if isinstance(expr, sp.Sum):
        ((d, lo, hi),) = expr.limits
        if lo != 1 or hi != q:
            raise ValueError(f"only sums over the classes 1..q: {expr}")
        body = rec(expr.function, dummy=d)
        return lambda env: jnp.sum(body(env), axis=-1, keepdims=True)
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [rec(a, dummy=dummy) for a in expr.args]
        op = operator.add if isinstance(expr, sp.Add) else operator.mul
        return lambda env: functools.reduce(op, (p(env) for p in parts))
    if isinstance(expr, sp.Pow):
        base = rec(expr.base, dummy=dummy)
        if expr.exp.is_Integer:
            n = int(expr.exp)
            return lambda env: base(env) ** n
        exponent = rec(expr.exp, dummy=dummy)
        return lambda env: jnp.power(base(env), exponent(env))
    if type(expr) in JNP_FUNCTIONS:
        fn = getattr(jnp, JNP_FUNCTIONS[type(expr)])
        args = [rec(a, dummy=dummy) for a in expr.args]
        return lambda env: fn(*(a(env) for a in args))
    raise NotImplementedError(
        f"no JAX translation for {type(expr).__name__} in {expr}; "
        "add it to derivations.to_jax.JNP_FUNCTIONS"
    )


def to_jax(
    expr: sp.Expr,
    args: Sequence[sp.IndexedBase] = (z, t),
    kwargs: Mapping[sp.Symbol, str] | None = None,
) -> Callable:
    """A JAX function evaluating the general-q ``expr`` with the class axis last.

    Args:
      expr: an expression in indexed symbols (one free index, sums over classes 1..q).
      args: the indexed bases, in the order of the returned function's positional arguments;
        each argument is an array of shape ``(..., q)``, all of one shape and dtype.
      kwargs: symbols to pass by keyword (e.g. ``{beta: "beta"}``).

    Returns:
      ``f(*arrays, **scalars) -> Array`` of shape ``(..., q)``: ``expr`` for every value of the
      free index at once. Not jitted; wrap it in ``jax.jit`` as needed.
    """
    import jax.numpy as jnp  # lazy: importing derivations must not import JAX

    positions = {base: n for n, base in enumerate(args)}
    program = _compile(sp.sympify(expr), jnp, positions, dict(kwargs or {}))

    def fn(*arrays, **scalars):
        if len(arrays) != len(positions):
            raise TypeError(
                f"expected {len(positions)} arrays ({list(positions)}), got {len(arrays)}"
            )
        first = jnp.asarray(arrays[0])
        out = program((arrays, scalars))
        return jnp.broadcast_to(jnp.asarray(out, dtype=first.dtype), first.shape)

    fn.__doc__ = f"JAX translation of the sympy expression {expr}"
    fn.sympy_expr = expr
    return fn


def jax_delta(name: str) -> Callable:
    """Δ = ∂ρ/∂z of the pairing ``"activation/penalty"`` as a JAX function (logits, targets).

    The derived Δ_k (:func:`derivations.derivation`) with every output z*_j (and the L1
    normaliser A) written in the logits, translated by :func:`to_jax` and jitted. Shapes
    ``(..., q)`` in and out; the class axis is last.
    """
    import jax  # lazy, as in to_jax

    from .table1 import derivation

    d = derivation(name)
    fn = jax.jit(to_jax(d.in_logits, (z, t), {beta: "beta"} if d.in_logits.has(beta) else None))
    fn.sympy_expr = d.in_logits
    return fn
