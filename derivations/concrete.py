r"""Checks of the general-q results at concrete q, by explicit differentiation.

For q = n the logits and targets are n explicit symbols z_1, …, z_n and t_1, …, t_n; the
activation's definition is written out for each class, ρ(f(z), t) is formed as an explicit sum,
and ∂ρ/∂z_k is taken by sympy directly, with no Jacobian structure, no Kronecker delta and no
sum algebra. The general formula instantiated at q = n must then agree with it exactly: the
difference is made rational (e^{z_m} ↦ E_m > 0, |z_m| ↦ a_m > 0, sgn z_m ↦ s_m) and cancelled
to 0. This is the independent route that the general-q derivation of :mod:`.table1` meets.
"""

from __future__ import annotations

import fractions
import random

import sympy as sp

from .activations import Activation
from .algebra import instantiate
from .penalties import Penalty
from .symbols import A, k, q, t, z, zs

__all__ = [
    "explicit_delta",
    "explicit_symbols",
    "general_at",
    "is_zero_rational",
    "rationalize",
    "verify_at",
    "verify_at_random_points",
]


def explicit_symbols(n: int) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    """The logits z_1..z_n (real) and targets t_1..t_n (non-negative) for q = n."""
    zv = list(sp.symbols(f"z_1:{n + 1}", real=True))
    tv = list(sp.symbols(f"t_1:{n + 1}", nonnegative=True))
    return zv, tv


def explicit_outputs(act: Activation, zv: list[sp.Symbol]) -> list[sp.Expr]:
    """z*_1, …, z*_n: the activation's definition written out at q = n."""
    n = len(zv)
    return [instantiate(act.definition(k), n, {k: m + 1}, {z: zv}) for m in range(n)]


def explicit_delta(act: Activation, pen: Penalty, n: int, kk: int) -> sp.Expr:
    """∂ρ(f(z), t)/∂z_kk at q = n, by sympy differentiating the explicit composition."""
    zv, tv = explicit_symbols(n)
    outs = explicit_outputs(act, zv)
    rho = sp.Add(*(pen.term(o, y) for o, y in zip(outs, tv, strict=True))).subs(q, n)
    return sp.diff(rho, zv[kk - 1])


def general_at(act: Activation, expr: sp.Expr, n: int, kk: int) -> sp.Expr:
    """A general-q expression in z*, t, sgn z and the activation's auxiliary atoms (A, B, C) at
    q = n and k = kk, written in z_m and t_m."""
    zv, tv = explicit_symbols(n)
    outs = explicit_outputs(act, zv)
    scalars = {A: sp.Add(*map(sp.Abs, zv))}
    for atom, definition in act.auxiliary.items():  # B, C of the spherical and Taylor families
        scalars[atom] = instantiate(definition, n, {}, {z: zv})
    return instantiate(expr, n, {k: kk}, {zs: outs, t: tv, z: zv}, scalars=scalars)


def rationalize(expr: sp.Expr, n: int) -> sp.Expr:
    """``expr`` as a rational function: e^{z_m} ↦ E_m > 0; for |z_m| and sgn z_m, z_m ↦ s_m a_m.

    With a_m = |z_m| > 0 and s_m = sgn z_m, so that s_m² = 1 (see :func:`is_zero_rational`).
    """
    zv, _ = explicit_symbols(n)
    for m, zm in enumerate(zv, start=1):
        if expr.has(sp.Abs(zm)) or expr.has(sp.sign(zm)):
            s_m, a_m = sp.Symbol(f"s_{m}"), sp.Symbol(f"a_{m}", positive=True)
            expr = expr.subs(sp.sign(zm), s_m).subs(sp.Abs(zm), a_m).subs(zm, s_m * a_m)
        elif expr.has(sp.exp):
            expr = expr.subs(zm, sp.log(sp.Symbol(f"E_{m}", positive=True)))
    return expr


def is_zero_rational(expr: sp.Expr) -> bool:
    """Whether a rational function of E_m, a_m, s_m, t_m, z_m is 0, using s_m² = 1 (exact)."""
    num = sp.numer(sp.cancel(sp.together(expr)))
    signs = sorted((x for x in num.free_symbols if x.name.startswith("s_")), key=str)
    if num == 0 or not signs:
        return num == 0
    _, rem = sp.reduced(sp.expand(num), [s**2 - 1 for s in signs], *signs)
    return rem == 0


def verify_at(
    act: Activation, pen: Penalty, delta: sp.Expr, n: int, ks: tuple[int, ...] | None = None
) -> bool:
    """Whether the general Δ_k equals the explicit ∂ρ/∂z_k at q = n exactly, for each k in ``ks``.

    ``ks`` defaults to every class 1..n. Exact: the difference cancels to 0 symbolically.
    """
    for kk in ks or range(1, n + 1):
        diff = explicit_delta(act, pen, n, kk) - general_at(act, delta, n, kk)
        if not is_zero_rational(rationalize(diff, n)):
            return False
    return True


def _rational(rng: random.Random, lo: float, hi: float) -> sp.Rational:
    x = fractions.Fraction(rng.uniform(lo, hi)).limit_denominator(97)
    return sp.Rational(x.numerator, x.denominator)


def verify_at_random_points(
    act: Activation, pen: Penalty, delta: sp.Expr, n: int, *, points: int = 3, seed: int = 0
) -> bool:
    """The same comparison at random rational points, evaluated numerically, for every k.

    The explicit derivative and the general Δ_k (both rationalised, see :func:`rationalize`)
    are evaluated at E_m, a_m in [1/2, 2], s_m = ±1, t_m in [0, 1] (targets not normalised)
    and each parameter (β, γ, ε) in its domain, all exact rationals, by sympy's ``evalf`` at 40
    significant digits: never structurally, so logs and symbolic or fractional powers work.
    False when they differ by more than 1e-25 (relative) at some point. Agreement at random
    points is evidence, not a proof (see :func:`verify_at` and :mod:`.verdicts`).
    """
    from .points import DIGITS, differ, sample_value

    rng = random.Random(seed)
    pairs = [  # rationalised together, so both use the same E_m, a_m, s_m
        tuple(
            rationalize(sp.Tuple(explicit_delta(act, pen, n, kk), general_at(act, delta, n, kk)), n)
        )
        for kk in range(1, n + 1)
    ]
    names = sorted({x for pair in pairs for e in pair for x in e.free_symbols}, key=str)
    for _ in range(points):
        point = {}
        for x in names:
            if x.name.startswith("s_"):
                point[x] = rng.choice((-1, 1))
            elif x.name.startswith("t_"):
                point[x] = _rational(rng, 0.0, 1.0)
            elif x.name[:2] in ("E_", "a_") or x.name.startswith("z_"):
                point[x] = _rational(rng, 0.5, 2.0)
            else:  # a parameter
                point[x] = sample_value(rng, x)
        for explicit, general in pairs:
            a = sp.N(explicit.subs(point), DIGITS)
            b = sp.N(general.subs(point), DIGITS)
            if differ(a, b) or not (a.is_number and b.is_number):
                return False
    return True
