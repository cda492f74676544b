r"""Deciding whether a claimed formula equals a derived one: always, under a condition, or never.

:func:`compare` forms ``claimed − derived`` in the canonical general-q form of :mod:`.algebra`
and asks sympy, in this order:

1. is it identically 0 (for every q, all targets)?  → ``"equal"``;
2. does it vanish under one of the target conditions below?  → ``"conditional"``;
3. otherwise  → ``"different"``, with the simplified difference and its zero set.

The conditions tried (each decided exactly, none assumed):

* ``Σ_j t_j = 1``: targets that sum to one (what the paper's eq. (1) needs, "as Σ t will in
  general sum to one");
* one-hot targets t_j = δ_jc, for every class k (k = c and k ≠ c both checked);
* ``t_k = 1``: the target of class k is 1 (the target class of a one-hot target);
* ``t_k = 0``: the target of class k is 0.

Every condition is recorded with its outcome, so a report can say "equal if Σ_j t_j = 1, hence
for one-hot targets" or "equal only where t_k = 1". Nothing here is hard-coded per formula: the
verdict is whatever sympy computes for the expressions it is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import sympy as sp

from .algebra import canon, class_sum, is_zero, tidy
from .symbols import c, j, k, t

__all__ = ["CONDITIONS", "Condition", "Verdict", "compare", "zero_set"]


@dataclasses.dataclass(frozen=True)
class Condition:
    """A condition on the targets, as the expressions that must vanish under it."""

    label: str
    latex: str
    cases: Callable[[sp.Expr], tuple[sp.Expr, ...]]


def _one_hot_cases(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """expr with t_j = δ_jc, for k = c and for k ≠ c."""
    hot = expr.replace(
        lambda x: isinstance(x, sp.Indexed) and x.base == t,
        lambda x: sp.KroneckerDelta(x.indices[0], c),
    )
    hot = canon(hot)
    return hot.subs(c, k), hot.subs(sp.KroneckerDelta(c, k), 0)


CONDITIONS: tuple[Condition, ...] = (
    Condition("Σ_j t_j = 1", r"\sum_j t_j = 1", lambda e: (canon(e).subs(class_sum(t[j]), 1),)),
    Condition("one-hot targets", r"t_j = \delta_{jc}", _one_hot_cases),
    Condition("t_k = 1", r"t_k = 1", lambda e: (e.subs(t[k], 1),)),
    Condition("t_k = 0", r"t_k = 0", lambda e: (e.subs(t[k], 0),)),
)


def zero_set(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The factors of ``expr``'s numerator that can vanish (positive factors dropped), tidied."""
    num = sp.numer(sp.together(expr))
    _, factors = sp.factor_list(num)
    out = []
    for f, _mult in factors:
        if f.is_positive or f.is_number:
            continue
        f = tidy(f)
        out.append(-f if f.could_extract_minus_sign() else f)
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a claimed formula with a derived one.

    Attributes:
      kind: ``"equal"``, ``"conditional"`` or ``"different"``.
      difference: claimed − derived, tidied (0 when equal).
      conditions: ``(label, agrees)`` for every condition tried (empty when equal).
      zero_set: the non-positive factors of the difference: where claimed and derived agree.
    """

    kind: str
    difference: sp.Expr
    conditions: tuple[tuple[str, bool], ...] = ()
    zero_set: tuple[sp.Expr, ...] = ()

    @property
    def holding(self) -> tuple[str, ...]:
        """The labels of the conditions under which the two agree."""
        return tuple(label for label, ok in self.conditions if ok)

    @property
    def summary(self) -> str:
        """One line: ``equal``, ``equal if …`` / ``equal only where …``, or ``different``."""
        if self.kind == "equal":
            return "equal"
        if self.kind == "conditional":
            first, *rest = self.holding
            word = "only where" if first.startswith("t_k") else "if"
            more = f" (also: {', '.join(rest)})" if rest else ""
            return f"equal {word} {first}{more}"
        return "different"


def compare(
    claimed: sp.Expr,
    derived: sp.Expr,
    identities: Mapping[sp.Expr, sp.Expr] | None = None,
    conditions: tuple[Condition, ...] = CONDITIONS,
) -> Verdict:
    """Compares ``claimed`` with ``derived`` for general q (see the module docstring).

    Args:
      claimed: the formula claimed by a source (a printed cell, the natural Δ_k = z*_k − t_k).
      derived: the formula derived here.
      identities: what the atoms always obey (Σ_j z*_j = 1 for a normalised activation).
      conditions: the target conditions to try, in order.

    Returns:
      The :class:`Verdict`, decided by sympy.
    """
    diff = canon(claimed - derived, identities)
    if is_zero(diff, identities):
        return Verdict("equal", sp.S.Zero)
    outcomes = tuple(
        (cond.label, all(is_zero(case, identities) for case in cond.cases(diff)))
        for cond in conditions
    )
    kind = "conditional" if any(ok for _, ok in outcomes) else "different"
    return Verdict(kind, tidy(diff, identities), outcomes, zero_set(tidy(diff, identities)))
