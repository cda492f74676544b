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
from typing import Any, cast

import sympy as sp

from .symbols import beta, k, l, q, t, z, zs

__all__ = ["JNP_FUNCTIONS", "LOG_OUTPUTS", "Lowered", "jax_delta", "lower", "to_jax"]

JNP_FUNCTIONS: Mapping[type, str] = {
    sp.exp: "exp",
    sp.log: "log",
    sp.Abs: "abs",
    sp.sign: "sign",
    sp.sqrt: "sqrt",
    sp.tanh: "tanh",
}
"""The one lookup table from sympy functions to ``jax.numpy`` function names."""


def _compile(expr: sp.Expr, jnp, positions: Mapping, names: Mapping, dummy=None, matrix=False):
    """Compiles ``expr`` into ``env ↦ array`` (``env``: the positional and keyword arrays).

    Vector mode: the free index k runs along the last axis. Matrix mode (``matrix``): k runs
    along axis −2 and l along axis −1 (a Hessian H_kl), and δ_kl is the identity matrix.
    """
    rec = functools.partial(_compile, jnp=jnp, positions=positions, names=names, matrix=matrix)
    if isinstance(expr, sp.Indexed):
        if expr.base not in positions:
            raise ValueError(f"no argument for {expr.base}; arguments are {list(positions)}")
        (index,) = expr.indices
        pos = positions[expr.base]
        if dummy is not None and index != dummy:
            raise ValueError(
                f"{expr} inside a sum over {dummy}: a summand may only involve its own index "
                "(canonicalise the expression first)"
            )
        if matrix and (index == dummy or index == l):
            return lambda env: env[0][pos][..., None, :]
        if matrix:
            return lambda env: env[0][pos][..., :, None]
        return lambda env: env[0][pos]
    if isinstance(expr, sp.KroneckerDelta):
        if not matrix or set(expr.args) != {k, l}:
            raise ValueError(f"a Kronecker delta outside a Hessian δ_kl: {expr}")

        def eye(env):
            first = env[0][0]
            q_ = first.shape[-1]
            shape = (1,) * (first.ndim - 1) + (q_, q_)
            return jnp.eye(q_, dtype=first.dtype).reshape(shape)

        return eye
    if expr == q:
        # The number of classes: the static length of the class axis (ε/q in label
        # smoothing, Σ_j u = q·u after the canonical form).
        return lambda env: float(env[0][0].shape[-1])
    if isinstance(expr, sp.Symbol):
        if expr not in names:
            raise ValueError(f"no keyword argument for the symbol {expr}")
        name = names[expr]
        if matrix:  # an auxiliary array of shape (..., 1) broadcasts as (..., 1, 1)
            return lambda env: _expand(env[1][name])
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
        fn = lambda env: functools.reduce(op, (p(env) for p in parts))
        targets = [a for a in expr.args if isinstance(a, sp.Indexed) and a.base == t]
        if isinstance(expr, sp.Mul) and targets:
            # A zero target passes nothing: t·(log z*, 1/z*, ...) is 0 where t = 0, even where
            # the other factors are infinite (0·log 0 = 0, the convention of ρ_c).
            tview = rec(targets[0], dummy=dummy)
            return lambda env: _where_zero(jnp, tview(env), fn(env))
        return fn
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


def _expand(x):
    """A (..., 1) auxiliary array as (..., 1, 1), or a Python scalar as it is."""
    return x[..., None] if hasattr(x, "ndim") and x.ndim else x


def _where_zero(jnp, tv, value):
    return jnp.where(tv == 0, jnp.zeros_like(value), value)


def to_jax(
    expr: sp.Expr,
    args: Sequence[sp.IndexedBase] = (z, t),
    kwargs: Mapping[sp.Symbol, str] | None = None,
    *,
    matrix: bool = False,
) -> Callable:
    """A JAX function evaluating the general-q ``expr`` with the class axis last.

    Args:
      expr: an expression in indexed symbols (one free index, sums over classes 1..q).
      args: the indexed bases, in the order of the returned function's positional arguments;
        each argument is an array of shape ``(..., q)``, all of one shape and dtype.
      kwargs: symbols to pass by keyword (e.g. ``{beta: "beta"}``): parameters (Python or
        JAX scalars) and auxiliary atoms (arrays of shape ``(..., 1)``, such as A = Σ|z|).
      matrix: evaluate an expression with two free indices k, l (a Hessian H_kl) as a
        ``(..., q, q)`` array, k along axis −2 and l along axis −1, δ_kl the identity.

    Factors of a product that contains a target t_x give 0 wherever t_x = 0 (the convention
    0·log 0 = 0 of ρ_c, and a zero target passes nothing through 1/z*).

    Returns:
      ``f(*arrays, **scalars) -> Array`` of shape ``(..., q)`` (or ``(..., q, q)``): ``expr``
      for every value of the free indices at once. Not jitted; wrap it in ``jax.jit``.
    """
    import jax.numpy as jnp  # lazy: importing derivations must not import JAX

    positions = {base: n for n, base in enumerate(args)}
    program = _compile(sp.sympify(expr), jnp, positions, dict(kwargs or {}), matrix=matrix)

    def fn(*arrays, **scalars):
        if len(arrays) != len(positions):
            raise TypeError(
                f"expected {len(positions)} arrays ({list(positions)}), got {len(arrays)}"
            )
        first = jnp.asarray(arrays[0])
        shape = (*first.shape, first.shape[-1]) if matrix else first.shape
        out = program((arrays, scalars))
        return jnp.broadcast_to(jnp.asarray(out, dtype=first.dtype), shape)

    fn.__doc__ = f"JAX translation of the sympy expression {expr}"
    cast(Any, fn).sympy_expr = expr
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
    cast(Any, fn).sympy_expr = d.in_logits
    return fn


LOG_OUTPUTS = sp.IndexedBase("log_z^*", real=True)
"""log z*_x, supplied by the activation's log-space function where it has one (log_softmax)."""


class Lowered:
    """The JAX functions of one activation × penalty, from its symbolic definition.

    Each takes arrays with the class axis last and the parameters by keyword
    (``beta=2.0, gamma=0.5``): real arguments, not names.

    * ``activate(z, **params)``: z* from the activation's definition (sympy → JAX).
    * ``terms(outputs, t, log_outputs=None, **params)``: the penalty's class-j terms.
    * ``delta(z, t, outputs, log_outputs=None, **params)``: the derived Δ_k (display form)
      evaluated on the given outputs z* (the library's own activation, not a re-derivation),
      the auxiliary atoms computed from z.
    * ``hessian(z, t, outputs, log_outputs=None, **params)``: the derived H_kl, (..., q, q).
    """

    def __init__(self, activation, penalty):
        from .hessian import hessian
        from .table1 import derive

        self.derivation = derive(activation, penalty)
        self._hessian_of = hessian
        self._hessian = None
        self.activation, self.penalty = activation, penalty
        self.param_names = {p.symbol: p.name for p in (*activation.params, *penalty.params)}
        self._aux = {a: to_jax(d, (z,), self.param_names) for a, d in activation.auxiliary.items()}
        self._names = {**self.param_names, **{a: a.name for a in activation.auxiliary}}
        if activation.implicit:  # no closed form: the definition needs its own JAX activate
            self.activate = _no_closed_form(activation.name)
        else:
            self.activate = to_jax(activation.definition(k), (z,), self.param_names)
        self._delta = self._program(self.derivation.delta, matrix=False)
        self._terms_plain = to_jax(penalty.term(zs[k], t[k]), (zs, t), self.param_names)
        self._terms_log = to_jax(
            _with_log_outputs(penalty.term(zs[k], t[k])), (zs, t, LOG_OUTPUTS), self.param_names
        )

    def _program(self, expr, matrix):
        return (
            to_jax(expr, (zs, t, z), self._names, matrix=matrix),
            to_jax(_with_log_outputs(expr), (zs, t, z, LOG_OUTPUTS), self._names, matrix=matrix),
        )

    def _run(self, programs, z_, t_, outputs, log_outputs, params):
        aux = {a.name: f(z_, **params)[..., :1] for a, f in self._aux.items()}
        if log_outputs is None:
            return programs[0](outputs, t_, z_, **params, **aux)
        return programs[1](outputs, t_, z_, log_outputs, **params, **aux)

    def terms(self, outputs, t_, log_outputs=None, **params):
        if log_outputs is None:
            return self._terms_plain(outputs, t_, **params)
        return self._terms_log(outputs, t_, log_outputs, **params)

    def delta(self, z_, t_, outputs, log_outputs=None, **params):
        return self._run(self._delta, z_, t_, outputs, log_outputs, params)

    @property
    def hessian_derivation(self):
        if self._hessian is None:
            h = self._hessian_of(self.derivation)
            self._hessian = (h, self._program(h.display, matrix=True))
        return self._hessian[0]

    def hessian(self, z_, t_, outputs, log_outputs=None, **params):
        self.hessian_derivation  # noqa: B018 (derive on first use)
        return self._run(self._hessian[1], z_, t_, outputs, log_outputs, params)


def _no_closed_form(name: str) -> Callable:
    def activate(*args, **kwargs):
        raise ValueError(
            f"activation {name!r} has no closed form in the logits (an implicit normaliser): "
            "pass its JAX function as define_pairing(..., activate=...)"
        )

    return activate


def _with_log_outputs(expr: sp.Expr) -> sp.Expr:
    return expr.replace(
        lambda x: (
            isinstance(x, sp.log) and isinstance(x.args[0], sp.Indexed) and x.args[0].base == zs
        ),
        lambda x: LOG_OUTPUTS[x.args[0].indices[0]],
    )


_LOWERED: dict = {}


def lower(activation, penalty) -> Lowered:
    """The :class:`Lowered` functions of one pairing, derived once and cached."""
    key = (id(activation), id(penalty))
    hit = _LOWERED.get(key)
    if hit is None or hit.activation is not activation or hit.penalty is not penalty:
        hit = _LOWERED[key] = Lowered(activation, penalty)
    return hit
