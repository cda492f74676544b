r"""Properness: is the expected penalty under y ~ p minimised at the output o = p?

A penalty ρ(o, t) = Σ_j term(o_j, t_j) scored against a one-hot y drawn from class
probabilities p has expected value (Gneiting & Raftery 2007, "Strictly proper scoring rules",
JASA, section 2; Buja, Stuetzle & Shen 2005 for the per-class form)

.. math::
   E(o; p) = \sum_c p_c \rho(o, e_c)
           = \sum_j \big[p_j\,term(o_j, 1) + (1 - p_j)\,term(o_j, 0)\big].

The outputs o range over what the activation produces: the simplex for a normalised activation
(softmax, spherical, Taylor, L1), the cube (0, 1)^q for the logistic. Writing
g(x) = x·∂_o term(x, 1) + (1 − x)·∂_o term(x, 0), the gradient of E at o = p is (g(p_j))_j:

* on the simplex, o = p is stationary for every p iff g is constant (a Lagrange multiplier);
* on the cube, iff g = 0.

:func:`properness` answers ``"proper"`` when sympy proves that (g' = 0, resp. g = 0, for
every x in (0, 1); the first-order condition, proved) and finds no better output at sampled
points (the second-order side, checked numerically), or ``"not proper"`` with a
counterexample: an exact p and an exact output o (a step from p along the projected
−gradient) with E(o; p) < E(p; p), both evaluated at 40 and confirmed at 100 digits.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

__all__ = ["Properness", "properness"]


@dataclasses.dataclass(frozen=True)
class Properness:
    """The properness verdict of a penalty over an activation's outputs.

    Attributes:
      kind: ``"proper"``, ``"not proper"`` or ``"not decided"``.
      proof: the steps (first-order condition proved; points checked).
      p, better: the counterexample's class probabilities and the better output (exact).
      at_p, at_better: E(p; p) and E(better; p) (40 digits).
    """

    kind: str
    proof: tuple[str, ...] = ()
    p: tuple[sp.Rational, ...] = ()
    better: tuple[sp.Rational, ...] = ()
    at_p: sp.Expr | None = None
    at_better: sp.Expr | None = None

    @property
    def evidence(self) -> str:
        """The proof or the counterexample in one line."""
        if self.kind == "not proper":
            return (
                f"p = {self.p}: E(o; p) = {sp.N(self.at_better, 12)} at o = {self.better} < "
                f"E(p; p) = {sp.N(self.at_p, 12)} (40 and 100 digits)"
            )
        return "; ".join(self.proof)


_PS = (
    (sp.Rational(7, 10), sp.Rational(1, 5), sp.Rational(1, 10)),
    (sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)),
    (sp.Rational(9, 10), sp.Rational(1, 20), sp.Rational(1, 20)),
)


_X = sp.Symbol("x", positive=True)
_Y = sp.Symbol("y", nonnegative=True)


def _terms(pen, values):
    """term(x, 1) and term(x, 0) as expressions in x; y log y at y = 0 taken as its limit 0."""
    from .symbols import q

    out = []
    for y in (1, 0):
        v = pen.term(_X, sp.Integer(y))
        if v.has(sp.nan, sp.zoo, sp.oo):
            v = sp.limit(pen.term(_X, _Y), _Y, y)
        out.append(sp.sympify(v).subs(values).subs(q, 3))
    return out


def _expected(terms, o, p):
    t1, t0 = terms
    return sp.Add(*(pi * t1.subs(_X, oi) + (1 - pi) * t0.subs(_X, oi) for oi, pi in zip(o, p)))


def _value(expr, digits):
    return sp.N(expr, digits)


def properness(act, pen, values=None) -> Properness:
    """Whether ``pen`` is proper over ``act``'s outputs (see the module docstring).

    Args:
      act, pen: a ``jaxsoftmax.derivations`` Activation and Penalty.
      values: ``{symbol: number}`` for their parameters (an instance); required where the
        penalty has parameters (properness is decided per instance).
    """
    values = {s: sp.nsimplify(v) for s, v in dict(values or {}).items()}
    x = _X
    simplex = bool(act.identities)
    terms = _terms(pen, values)
    g = sp.simplify(x * sp.diff(terms[0], x) + (1 - x) * sp.diff(terms[1], x))
    first = sp.simplify(sp.diff(g, x)) if simplex else g
    stationary = first == 0
    best = None
    for p in _PS:
        e_p = _expected(terms, p, p)
        grad = [sp.N(g.subs(x, pm), 30) for pm in p]  # ∂E/∂o_m at o = p is g(p_m)
        if simplex:
            mean = sum(grad) / 3
            grad = [gi - mean for gi in grad]
        for step in (sp.Rational(1, 20), sp.Rational(1, 100), sp.Rational(1, 1000)):
            o = tuple(pi - step * sp.Rational(repr(round(float(gi), 6))) for pi, gi in zip(p, grad))
            if simplex:
                o = (*o[:2], 1 - o[0] - o[1])
            if not all(0 < oi < 1 for oi in o) or o == p:
                continue
            e_o = _expected(terms, o, p)
            lo, hi = _value(e_p - e_o, 40), _value(e_p - e_o, 100)
            if lo > sp.Float("1e-30") and abs(hi - lo) < sp.Float("1e-25"):
                best = Properness(
                    "not proper", p=p, better=o, at_p=_value(e_p, 40), at_better=_value(e_o, 40)
                )
                break
        if best is not None:
            break
    if best is not None:
        return best
    if stationary:
        where = (
            "on the simplex: g(x) = x ∂term(x,1) + (1−x) ∂term(x,0) is constant"
            if simplex
            else "on (0,1)^q: g(x) = 0"
        )
        return Properness(
            "proper",
            (
                f"first order proved {where} (g = {g}), so o = p is stationary for every p",
                "no better output found near p at 3 exact p, 3 step sizes (40/100 digits)",
            ),
        )
    return Properness("not decided", ("g is not provably constant and no better output was found",))
