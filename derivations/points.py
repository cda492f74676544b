r"""Concrete points for general-q formulas: sampling, instantiation, high-precision evaluation.

A general-q formula in the outputs z*, targets t, logits z, auxiliary atoms (A = Σ|z|,
B = Σ(z² + ε)) and parameters (β, γ, ε) becomes a number once q, the free indices (k, and l
for a Hessian), the logits, the targets and the parameters are fixed. Every value is an exact
rational, the outputs are the activation's definition at those logits (so a point is a real
point of the pairing, not free atoms that might violate Σ z* = 1), computed by sympy's
``evalf`` to :data:`DIGITS` + 10 significant digits, and the formula is then evaluated by
``evalf`` at :data:`DIGITS` digits. Two formulas whose values differ at a point by more than
:data:`TOLERANCE` (relative, 15 orders of magnitude above the working precision) are
different there, which is what a counterexample of :mod:`.verdicts` and :mod:`.hessian`
states.
"""

from __future__ import annotations

import dataclasses
import fractions
import random
from collections.abc import Iterator, Mapping, Sequence

import sympy as sp

from .algebra import instantiate
from .symbols import k, l, t, z, zs

__all__ = [
    "CONFIRM_DIGITS",
    "CONFIRM_TOLERANCE",
    "DIGITS",
    "TOLERANCE",
    "Point",
    "evaluate",
    "exact_difference",
    "instantiate_at",
    "sample_points",
    "sample_value",
]

DIGITS = 40
"""Significant digits of every evaluation (sympy ``evalf``)."""

TOLERANCE = sp.Float("1e-25", DIGITS)
"""Relative difference beyond which two values computed to :data:`DIGITS` digits differ."""

CONFIRM_DIGITS = 100
"""The higher precision at which a difference found at :data:`DIGITS` digits is confirmed."""

CONFIRM_TOLERANCE = sp.Float("1e-80", CONFIRM_DIGITS)
""":data:`TOLERANCE`'s counterpart at :data:`CONFIRM_DIGITS` digits."""


def _rat(x: float) -> sp.Rational:
    f = fractions.Fraction(x).limit_denominator(12)
    return sp.Rational(f.numerator, f.denominator)


def sample_value(rng: random.Random, symbol: sp.Symbol) -> sp.Rational:
    """A rational value in the domain of a parameter symbol (its sympy assumptions)."""
    if symbol.is_positive:
        return _rat(rng.uniform(0.25, 2.5))
    if symbol.is_nonnegative:
        return rng.choice((sp.Rational(1, 2), sp.Integer(2), sp.Rational(3, 2), sp.Integer(0)))
    return rng.choice((-1, 1)) * _rat(rng.uniform(0.5, 2.0))


@dataclasses.dataclass(frozen=True)
class Point:
    """A concrete point: q, the free indices, logits, targets and parameter values (exact).

    ``outputs`` is set only when there is no activation (free outputs z*, e.g. for a synthetic
    comparison); otherwise the outputs are the activation's definition at ``logits``.
    """

    q: int
    k: int
    logits: tuple[sp.Rational, ...]
    targets: tuple[sp.Rational, ...]
    params: tuple[tuple[sp.Symbol, sp.Rational], ...] = ()
    l: int | None = None  # noqa: E741
    outputs: tuple[sp.Rational, ...] | None = None

    def describe(self) -> str:
        """One line, e.g. ``q = 3, k = 1, z = (1/2, -3/4, 2), t = (1/3, 0, 5/7), gamma = 1/2``."""

        def vec(xs):
            return "(" + ", ".join(str(x) for x in xs) + ")"

        parts = [f"q = {self.q}", f"k = {self.k}"]
        if self.l is not None:
            parts.append(f"l = {self.l}")
        parts.append(f"z = {vec(self.logits)}")
        if self.outputs is not None:
            parts.append(f"z* = {vec(self.outputs)}")
        parts.append(f"t = {vec(self.targets)}")
        parts += [f"{s.name} = {v}" for s, v in self.params]
        return ", ".join(parts)


def _logits(rng: random.Random, n: int, domain: str) -> tuple[sp.Rational, ...]:
    if domain == "positive":
        return tuple(_rat(rng.uniform(0.5, 2.0)) for _ in range(n))
    if domain == "nonzero":
        return tuple(rng.choice((-1, 1)) * _rat(rng.uniform(0.5, 2.0)) for _ in range(n))
    return tuple(_rat(rng.uniform(-2.0, 2.0)) for _ in range(n))


def _targets(rng: random.Random, n: int, kind: str, kk: int) -> Iterator[tuple[sp.Rational, ...]]:
    """Targets of one kind; ``free`` avoids Σ t = 1, one-hot targets, and t_k ∈ {0, 1}."""
    if kind == "one-hot":
        for c in range(n):
            yield tuple(sp.Integer(int(m == c)) for m in range(n))
        return
    raw = [sp.Rational(rng.randint(1, 9), 11) for _ in range(n)]
    if kind == "free":
        if sum(raw) == 1:
            raw[0] += sp.Rational(1, 11)
        yield tuple(raw)
    elif kind == "sum-to-one":
        total = sum(raw)
        yield tuple(x / total for x in raw)
    elif kind in ("t_k = 1", "t_k = 0"):
        raw[kk - 1] = sp.Integer(1 if kind == "t_k = 1" else 0)
        yield tuple(raw)
    else:
        raise ValueError(f"unknown kind of targets {kind!r}")


def sample_points(
    activation,
    params: Sequence[sp.Symbol],
    *,
    targets: str = "free",
    qs: Sequence[int] = (2, 3),
    per_q: int = 2,
    seed: int = 0,
    free_outputs: bool = False,
    normalised: bool = False,
    hessian: bool = False,
) -> Iterator[Point]:
    """Deterministic points for a search, q in ``qs``, every k (and l), ``per_q`` draws each.

    Args:
      activation: the activation (for the logits' domain), or ``None`` with ``free_outputs``.
      params: the parameter symbols to give values.
      targets: ``"free"``, ``"sum-to-one"``, ``"one-hot"``, ``"t_k = 1"`` or ``"t_k = 0"``.
      free_outputs: sample the outputs z* directly (positive; summing to one if
        ``normalised``) beside real logits (a formula may hold both).
      hessian: also vary the second index l.
    """
    rng = random.Random(seed)
    domain = "real" if activation is None else activation.logit_domain
    for n in qs:
        for draw in range(per_q):
            logits = _logits(rng, n, domain)
            if draw == 1 and domain == "real":
                # Every sign pattern matters to a claim about real logits (log z², √(z_1 z_2)):
                # the second draw has them all negative.
                logits = tuple(-abs(x) - sp.Rational(1, 4) for x in logits)
            outs = None
            if free_outputs:
                raw = _logits(rng, n, "positive")
                outs = tuple(x / sum(raw) for x in raw) if normalised else raw
            values = tuple((s, sample_value(rng, s)) for s in params)
            for kk in range(1, n + 1):
                for tv in _targets(rng, n, targets, kk):
                    for ll in range(1, n + 1) if hessian else (None,):
                        yield Point(n, kk, logits, tv, values, ll, outs)


_OUTPUTS: dict = {}


def _outputs(activation, point: Point, digits: int):
    """The outputs z* and auxiliary atoms at ``point``, computed once to ``digits`` + 10 digits."""
    key = (id(activation), point, digits)
    hit = _OUTPUTS.get(key)
    if hit is not None and hit[0] is activation:
        return hit[1]
    if len(_OUTPUTS) > 512:
        _OUTPUTS.clear()
    value = _compute_outputs(activation, point, digits)
    _OUTPUTS[key] = (activation, value)
    return value


def _compute_outputs(activation, point: Point, digits: int):
    n, par = point.q, dict(point.params)
    zv = list(point.logits)
    if point.outputs is not None:
        return list(point.outputs), {}
    outs = [
        sp.N(instantiate(activation.definition(k), n, {k: m + 1}, {z: zv}, par), digits + 10)
        for m in range(n)
    ]
    aux = {
        a: sp.N(instantiate(d, n, {}, {z: zv}, par), digits + 10)
        for a, d in activation.auxiliary.items()
    }
    return outs, aux


def instantiate_at(expr: sp.Expr, activation, point: Point, digits: int = DIGITS) -> sp.Expr:
    """``expr`` at ``point``: sums written out, indices, logits, targets and parameters exact,
    outputs z* and auxiliary atoms as numbers to ``digits`` + 10 digits."""
    outs, aux = _outputs(activation, point, digits)
    index = {k: point.k} if point.l is None else {k: point.k, l: point.l}
    values = {zs: outs, t: list(point.targets), z: list(point.logits)}
    return instantiate(expr, point.q, index, values, {**aux, **dict(point.params)})


def evaluate(expr: sp.Expr, activation, point: Point, digits: int = DIGITS) -> sp.Expr:
    """``expr`` at ``point`` to ``digits`` significant digits (sympy ``evalf``)."""
    return sp.N(instantiate_at(expr, activation, point, digits), digits)


def exact_difference(claimed: sp.Expr, derived: sp.Expr, activation, point: Point):
    """claimed − derived at ``point`` exactly, when both are algebraic numbers there (no log,
    exp or symbolic power after instantiation; outputs exact): a sympy number, 0 included;
    ``None`` where exactness is out of reach (transcendental values, or sympy undecided)."""
    if activation is not None and point.outputs is None:
        n, par = point.q, dict(point.params)
        outs = [
            instantiate(activation.definition(k), n, {k: m + 1}, {z: list(point.logits)}, par)
            for m in range(n)
        ]
        aux = {
            a: instantiate(d, n, {}, {z: list(point.logits)}, par)
            for a, d in activation.auxiliary.items()
        }
    else:
        outs, aux = list(point.outputs or point.logits), {}
    index = {k: point.k} if point.l is None else {k: point.k, l: point.l}
    values = {zs: outs, t: list(point.targets), z: list(point.logits)}
    try:
        d = sp.sympify(
            instantiate(claimed - derived, point.q, index, values, {**aux, **dict(point.params)})
        )
    except (ZeroDivisionError, TypeError, ValueError):
        return None
    if d.free_symbols or d.has(sp.log, sp.exp, sp.Sum, sp.Abs, sp.sign):
        return None
    if any(not (p.exp.is_Rational) for p in d.atoms(sp.Pow)):
        return None
    if d.is_Rational:
        return d
    zero = d.equals(0)
    if zero is None:
        return None
    return sp.S.Zero if zero else d


def differ(a: sp.Expr, b: sp.Expr, tolerance: sp.Expr = TOLERANCE) -> bool:
    """Whether two values computed to :data:`DIGITS` digits differ beyond ``tolerance``
    (relative; :data:`TOLERANCE` by default)."""
    if not (a.is_number and b.is_number) or a.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return False
    if b.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return False
    scale = max(sp.Integer(1), abs(a), abs(b))
    return bool(abs(a - b) > tolerance * scale)


def point_values(params: Mapping[sp.Symbol, sp.Expr]) -> tuple[tuple[sp.Symbol, sp.Expr], ...]:
    """``params`` as the sorted tuple a :class:`Point` stores."""
    return tuple(sorted(params.items(), key=lambda kv: kv[0].name))
