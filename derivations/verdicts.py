r"""Deciding whether a claimed formula equals a derived one: a proof, a counterexample, or neither.

:func:`compare` answers one of four verdicts, each with its evidence:

* ``"equal"``: a **proof**. ``claimed − derived`` in the canonical general-q form of
  :mod:`.algebra` cancels to 0, or (for logs and symbolic or fractional powers) an identity
  that sympy certifies: logs expanded over arguments *proved* positive and powers split
  (x^{a+n} = x^a x^n, n an integer), then cancelled; then ``sympy.simplify``; last, the same
  with the outputs written in the logits by the activation's definition (which proves
  log z*_k = z_k − log Σ_j e^{z_j} for the softmax). :attr:`Verdict.proof` lists the steps.
* ``"different"``: a **counterexample**. A concrete point (q, k, logits z, targets t, the
  parameters), exact rationals, at which the two formulas, evaluated from the exact expression
  to 40 significant digits, differ (:mod:`.points`), the difference confirmed exactly (values
  that are algebraic numbers) or at 100 digits (:func:`confirm`). The outputs are the
  activation's own z* = f(z), so the point is a real point of the pairing.
* ``"conditional"``: different in general (a counterexample with targets that satisfy none of
  the conditions), but equal under at least one target condition, proved as above for that
  condition; or equal under the positivity of arguments that the symbols' assumptions do not
  give (log(z_k²) = 2 log z_k needs z_k > 0: logits are real, β may be negative), the
  condition recorded, with or without a counterexample outside it. Each condition tried
  carries its own outcome: proved, refuted by a counterexample inside it, or not decided.
* ``"not decided"``: neither a proof nor a counterexample was found, or the algebra gave up
  (double sums, sums over other ranges, symbolic exponents); :attr:`Verdict.tried` says what
  was tried. This is never reported as "different".

The conditions tried (each decided as above, none assumed):

* ``Σ_j t_j = 1``: targets that sum to one (what the paper's eq. (1) needs, "as Σ t will in
  general sum to one");
* one-hot targets t_j = δ_jc, for every class k (k = c and k ≠ c both checked);
* ``t_k = 1``: the target of class k is 1 (the target class of a one-hot target);
* ``t_k = 0``: the target of class k is 0.

Nothing here is hard-coded per formula: the verdict is whatever sympy computes for the
expressions it is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import cast

import sympy as sp

from . import points as pts
from .algebra import canon, class_sum, is_zero, tidy
from .algebra import transcendental as _transcendental
from .symbols import A, B, C, c, i, j, k, l, m, q, t, zs

__all__ = [
    "CONDITIONS",
    "Condition",
    "ConditionOutcome",
    "Counterexample",
    "Verdict",
    "certify_if_positive",
    "certify_zero",
    "compare",
    "zero_set",
]


@dataclasses.dataclass(frozen=True)
class Condition:
    """A condition on the targets, as the expressions that must vanish under it."""

    label: str
    latex: str
    cases: Callable[[sp.Expr], tuple[sp.Expr, ...]]
    targets: str = "free"
    """The kind of targets of :func:`.points.sample_points` that satisfy the condition."""


def _one_hot_cases(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """expr with t_j = δ_jc, for k = c and for k ≠ c."""
    hot = expr.replace(
        lambda x: isinstance(x, sp.Indexed) and x.base == t,
        lambda x: sp.KroneckerDelta(x.indices[0], c),
    )
    hot = canon(hot)
    return hot.subs(c, k), hot.subs(sp.KroneckerDelta(c, k), 0)


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "Σ_j t_j = 1",
        r"\sum_j t_j = 1",
        lambda e: (canon(e).subs(class_sum(t[j]), 1),),
        "sum-to-one",
    ),
    Condition("one-hot targets", r"t_j = \delta_{jc}", _one_hot_cases, "one-hot"),
    Condition("t_k = 1", r"t_k = 1", lambda e: (e.subs(t[k], 1),), "t_k = 1"),
    Condition("t_k = 0", r"t_k = 0", lambda e: (e.subs(t[k], 0),), "t_k = 0"),
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


_INDEX_NAMES = {x.name for x in (c, i, j, k, l, m, q)}


def parameters_of(expr: sp.Expr) -> tuple[sp.Symbol, ...]:
    """The scalar parameters of ``expr`` (β, γ, ε, ...): free symbols that are not indices,
    q, or the auxiliary atoms A, B, C; sorted by name."""
    labels = {x.base.label for x in expr.atoms(sp.Indexed)}
    return tuple(
        sorted(
            (
                x
                for x in expr.free_symbols
                if isinstance(x, sp.Symbol)
                and x.name not in _INDEX_NAMES
                and x not in (A, B, C)
                and x not in labels
            ),
            key=lambda x: x.name,
        )
    )


@dataclasses.dataclass(frozen=True)
class Counterexample:
    """A concrete point where two formulas differ, with both values (40 digits, exact input).

    Attributes:
      point: the point (q, k, logits or outputs, targets, parameters).
      claimed, derived: the two values.
    """

    point: pts.Point
    claimed: sp.Expr
    derived: sp.Expr
    confirmed: str = ""
    """How the difference was confirmed: ``"exact"`` (the exact values at the point differ) or
    ``"at 40 and 100 digits"`` (the difference is the same to 6 digits at both precisions)."""

    def describe(self) -> str:
        """One line: the point and both values to 12 digits."""
        return (
            f"at {self.point.describe()}: claimed {sp.N(self.claimed, 12)}, "
            f"derived {sp.N(self.derived, 12)}"
            + (f" (confirmed {self.confirmed})" if self.confirmed else "")
        )


@dataclasses.dataclass(frozen=True)
class ConditionOutcome:
    """One target condition: ``"holds"`` (with its proof), ``"fails"`` (with a counterexample
    inside the condition) or ``"not decided"``."""

    label: str
    status: str
    proof: tuple[str, ...] = ()
    counterexample: Counterexample | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a claimed formula with a derived one.

    Attributes:
      kind: ``"equal"``, ``"conditional"``, ``"different"`` or ``"not decided"``.
      difference: claimed − derived, tidied (0 when equal).
      conditions: ``(label, proved)`` for every condition tried (empty when equal).
      zero_set: the non-positive factors of the difference: where claimed and derived agree.
      proof: the steps that prove equality (``"equal"``), else empty.
      counterexample: a point where they differ (``"different"``, ``"conditional"``).
      outcomes: every condition's :class:`ConditionOutcome`.
      tried: what was tried, in words (for ``"not decided"`` in particular).
    """

    kind: str
    difference: sp.Expr
    conditions: tuple[tuple[str, bool], ...] = ()
    zero_set: tuple[sp.Expr, ...] = ()
    proof: tuple[str, ...] = ()
    counterexample: Counterexample | None = None
    outcomes: tuple[ConditionOutcome, ...] = ()
    tried: tuple[str, ...] = ()

    @property
    def holding(self) -> tuple[str, ...]:
        """The labels of the conditions under which the two are proved to agree."""
        return tuple(label for label, ok in self.conditions if ok)

    @property
    def decided(self) -> bool:
        """Whether the verdict is backed by a proof or a counterexample."""
        return self.kind != "not decided"

    @property
    def summary(self) -> str:
        """One line: ``equal``, ``equal if …`` / ``equal only where …``, ``different`` or
        ``not decided``."""
        if self.kind == "equal":
            return "equal"
        if self.kind == "conditional":
            first, *rest = self.holding
            word = "only where" if first.startswith("t_k") else "if"
            more = f" (also: {', '.join(rest)})" if rest else ""
            return f"equal {word} {first}{more}"
        return self.kind

    @property
    def evidence(self) -> str:
        """The proof or the counterexample (or what was tried), in one line."""
        if self.kind == "equal":
            return "; ".join(self.proof)
        parts = []
        for o in self.outcomes:
            if o.status == "holds":
                parts.append(f"if {o.label}: {'; '.join(o.proof)}")
        if self.counterexample is not None:
            parts.append("differs " + self.counterexample.describe())
        if self.kind == "not decided":
            parts.append("tried: " + "; ".join(self.tried))
        return " | ".join(parts)


_CANON_PROOF = (
    "claimed − derived in canonical general-q form (sums distributed, factors pulled out, "
    "Kronecker deltas collapsed{idents}) cancels to 0"
)


def _positive(expr: sp.Expr) -> bool:
    """Whether ``expr`` is provably positive from the symbols' assumptions; a sum over classes
    is positive when its summand is (q ≥ 1: the range is never empty)."""
    if isinstance(expr, sp.Sum):
        return _positive(expr.function)
    if expr.is_positive:
        return True
    if isinstance(expr, (sp.Mul, sp.Add)):
        return all(_positive(a) for a in expr.args)
    if isinstance(expr, sp.Pow):
        return _positive(expr.base) and bool(expr.exp.is_real)
    return False


def _safe_expand(expr: sp.Expr) -> sp.Expr:
    """Logs expanded and powers split only where the rewrite is valid for every real value of
    the symbols: log(xy) = log x + log y and (xy)^a = x^a y^a need x, y > 0, which is proved
    (:func:`_positive`; sums over classes of positive summands stand in as positive symbols
    while sympy expands); log(e^x) = x for real x. Nothing is forced (no ``force=True``)."""
    sums = {s: sp.Dummy(f"S{n}", positive=True) for n, s in enumerate(expr.atoms(sp.Sum))}
    sums = {s: d for s, d in sums.items() if _positive(s)}
    e = expr.xreplace(sums)
    e = sp.expand_log(sp.expand_power_base(e, force=False), force=False)
    return e.xreplace({d: s for s, d in sums.items()})


def _positivity_conditions(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """The arguments of logs and the bases of non-integer powers not proved positive: what a
    forced expansion (log(xy) = log x + log y, (xy)^a = x^a y^a) assumes."""
    needed = []
    for f in expr.atoms(sp.log):
        needed += [a for a in sp.Mul.make_args(f.args[0]) if not _positive(a)]
    for p in expr.atoms(sp.Pow):
        if not p.exp.is_Integer and not p.base.is_number:
            needed += [a for a in sp.Mul.make_args(p.base) if not _positive(a)]
    out = []
    for a in needed:
        base = a.base if isinstance(a, sp.Pow) and a.exp.is_Integer else a
        if not base.is_number and base not in out:
            out.append(base)
    return tuple(sorted(out, key=sp.default_sort_key))


def certify_zero(
    expr: sp.Expr,
    identities: Mapping[sp.Expr, sp.Expr] | None = None,
    *,
    thorough: bool = True,
) -> tuple[str, ...] | None:
    """A proof that ``expr`` is identically 0 for every q, or ``None`` if none was found.

    Tried in order: the canonical form cancels (:func:`.algebra.is_zero`); logs expanded and
    powers split where that is valid under the symbols' assumptions (:func:`_safe_expand`:
    the arguments proved positive, never forced — z is real, β may be negative, a target may
    be 0), powers written over generators x^{e+n} = x^e x^n (n an integer, valid for x ≠ 0),
    then the canonical form cancels; ``sympy.simplify`` of the canonical form gives 0 (slow;
    skipped unless ``thorough``). A proof that needs an argument's positivity that is not
    proved is :func:`certify_if_positive`'s, a conditional one.
    """
    idents = ", Σ_j z*_j = 1 applied" if identities else ""
    if is_zero(expr, identities):
        return (_CANON_PROOF.format(idents=idents),)
    if not _transcendental(expr):
        # A rational function of the atoms: the canonical form decides it, nothing to add.
        return None
    expanded = _generators(_safe_expand(canon(expr, identities)))
    if is_zero(expanded, identities):
        return (
            "logs expanded over arguments proved positive (log(xy) = log x + log y, "
            "log e^x = x for real x) and every power with a non-integer exponent written "
            "b^{e + n} = P_e(b)·b^n (n an integer, P_e(b) a generator)",
            _CANON_PROOF.format(idents=idents) + " as a rational function of those generators",
        )
    if not thorough:
        return None
    try:
        simplified = sp.simplify(canon(expanded, identities))
    except (NotImplementedError, RecursionError):  # pragma: no cover - sympy's limits
        return None
    if simplified == 0 or is_zero(simplified, identities):
        return (
            "logs expanded over arguments proved positive and powers written over generators",
            "sympy.simplify of the canonical form gives 0",
        )
    return None


def certify_if_positive(
    expr: sp.Expr, identities: Mapping[sp.Expr, sp.Expr] | None = None
) -> tuple[tuple[sp.Expr, ...], tuple[str, ...]] | None:
    """A proof that ``expr`` is 0 *if* the arguments of its logs and the bases of its powers
    that are not proved positive are positive: ``(conditions, proof)``, or ``None``.

    The forced expansion (``force=True``) is valid exactly under those conditions, so the
    result is a conditional verdict, never "equal".
    """
    conds = _positivity_conditions(canon(expr, identities))
    if not conds:
        return None
    pos = {a: sp.Dummy(f"p{n}", positive=True) for n, a in enumerate(conds)}
    e = canon(expr, identities).xreplace(pos)
    proof = certify_zero(e, identities, thorough=False)
    if proof is None:
        return None
    words = ", ".join(f"{sp.sstr(a)} > 0" for a in conds)
    return conds, (f"assuming {words}: " + proof[0], *proof[1:])


def _generators(expr: sp.Expr) -> sp.Expr:
    """Every b^e with a non-integer exponent as P_{e0}(b)·b^n, e = e0 + n, n an integer.

    P_{e0} is an undefined function (declared positive only for a base proved positive), so
    ``cancel`` treats P_{e0}(b) as a generator; b^{γ−1} and b^γ/b, or b^{1/2} and b^{-1/2}·b,
    become the same rational expression. x^{e+n} = x^e x^n holds for x ≠ 0 and integer n, so
    a zero found this way holds for the true values too (sound).
    """

    def split(p: sp.Pow) -> sp.Expr:
        const, _ = p.exp.as_coeff_Add()
        n = sp.floor(const) if const.is_Rational else sp.S.Zero
        e0 = p.exp - n
        name = f"P[{sp.sstr(e0)}]"
        # P_e(b) = b^e is positive only for a base proved positive; nothing assumed otherwise.
        fn = sp.Function(name, positive=True) if _positive(p.base) else sp.Function(name)
        gen = fn(p.base)
        return gen * p.base**n

    return expr.replace(
        lambda x: isinstance(x, sp.Pow) and not x.exp.is_Integer and not x.base.is_number,
        split,
    )


def confirm(
    claimed: sp.Expr, derived: sp.Expr, activation, point: pts.Point
) -> Counterexample | None:
    """The counterexample at ``point`` if the two values differ there beyond doubt, else None.

    A difference found at :data:`.points.DIGITS` digits is re-evaluated at
    :data:`.points.CONFIRM_DIGITS` digits (outputs recomputed at that precision): it stands only
    if it differs there too and both differences agree to 6 significant digits — a
    cancellation artefact shrinks with the precision, a true difference does not. Where the
    values at the point are exact numbers (rational or algebraic, no outputs computed
    numerically), their exact difference decides instead.
    """
    try:
        a = pts.evaluate(claimed, activation, point)
        b = pts.evaluate(derived, activation, point)
    except (ZeroDivisionError, TypeError, ValueError):
        return None
    if not (a.is_number and b.is_number):
        raise ValueError(
            f"a point left symbols unvalued ({sorted(map(str, (a - b).free_symbols))}): "
            f"{point.describe()}"
        )
    if not pts.differ(a, b):
        return None
    exact = pts.exact_difference(claimed, derived, activation, point)
    if exact is not None:
        return Counterexample(point, a, b, "exact") if exact != 0 else None
    hi = pts.CONFIRM_DIGITS
    a2 = pts.evaluate(claimed, activation, point, hi)
    b2 = pts.evaluate(derived, activation, point, hi)
    if not pts.differ(a2, b2, pts.CONFIRM_TOLERANCE):
        return None
    d1, d2 = sp.N(a - b, pts.DIGITS), sp.N(a2 - b2, hi)
    if abs(d1 - d2) > sp.Float("1e-6", hi) * abs(d2):
        return None
    return Counterexample(point, a, b, f"at {pts.DIGITS} and {hi} digits")


def _search(
    claimed: sp.Expr,
    derived: sp.Expr,
    activation,
    params: tuple[sp.Symbol, ...],
    normalised: bool,
    targets: str,
    seed: int,
    qs: tuple[int, ...] = (2, 3),
    per_q: int = 3,
) -> Counterexample | None:
    """The first sampled point (targets of the given kind) where the two values differ,
    confirmed (:func:`confirm`)."""
    for point in pts.sample_points(
        activation,
        params,
        targets=targets,
        qs=qs,
        per_q=per_q,
        seed=seed,
        free_outputs=activation is None,
        normalised=normalised,
    ):
        found = confirm(claimed, derived, activation, point)
        if found is not None:
            return found
    return None


def _params(expr: sp.Expr, activation) -> tuple[sp.Symbol, ...]:
    """The parameters a point needs: those of ``expr`` and those of the activation (the
    spherical ε lives in the auxiliary atom B, not in the formula)."""
    found = set(parameters_of(expr))
    if activation is not None:
        found |= {p.symbol for p in activation.params}
    return tuple(sorted(found, key=lambda x: x.name))


def _searchable(expr: sp.Expr, activation) -> bool:
    """Whether ``expr`` can be evaluated at sampled points (auxiliary atoms need their
    activation's definitions)."""
    aux = {A, B, C} & expr.free_symbols
    return activation is not None or not aux


def compare(
    claimed: sp.Expr,
    derived: sp.Expr,
    identities: Mapping[sp.Expr, sp.Expr] | None = None,
    conditions: tuple[Condition, ...] = CONDITIONS,
    *,
    activation=None,
    seed: int = 0,
) -> Verdict:
    """Compares ``claimed`` with ``derived`` for general q (see the module docstring).

    Args:
      claimed: the formula claimed by a source (a printed cell, the natural Δ_k = z*_k − t_k,
        a user's hand-written Δ_k).
      derived: the formula derived here.
      identities: what the atoms always obey (Σ_j z*_j = 1 for a normalised activation).
      conditions: the target conditions to try, in order.
      activation: the pairing's activation, so that counterexamples are real points
        (z* = f(z), A = Σ|z|, ...). Without it the outputs z* are sampled freely (positive,
        summing to one when ``identities`` says so).
      seed: the seed of the deterministic point search.

    Returns:
      The :class:`Verdict`: equal with a proof, different or conditional with a
      counterexample, or not decided.
    """
    claimed, derived = sp.sympify(claimed), sp.sympify(derived)
    try:
        return _compare(claimed, derived, identities, conditions, activation, seed)
    except _ALGEBRA_LIMITS as exc:
        # The canonical form (double sums, sums over other ranges) or sympy gave up: no proof
        # is possible here, but a confirmed counterexample still decides "different".
        what = f"{type(exc).__name__}: {str(exc)[:200]}"
        tried = [f"canonical form / proof: not available ({what})"]
        ce = None
        if _searchable(claimed - derived, activation):
            normalised = bool(identities) and class_sum(zs[j]) in dict(identities or {})
            params = _params(claimed - derived, activation)
            try:
                ce = _search(claimed, derived, activation, params, normalised, "free", seed)
            except _ALGEBRA_LIMITS as exc2:
                tried.append(f"point search failed ({type(exc2).__name__}: {str(exc2)[:200]})")
            else:
                tried.append(_SEARCHED)
        return Verdict(
            "different" if ce else "not decided",
            claimed - derived,
            counterexample=ce,
            tried=() if ce else tuple(tried),
        )


_ALGEBRA_LIMITS = (RecursionError, TypeError, NotImplementedError, sp.PolynomialError)
"""What sympy or the canonical form raise at the edge of what they handle: "not decided"."""

_SEARCHED = (
    "40-digit evaluation at exact rational points (q = 2, 3, every k; real logits with a "
    "draw of all-negative ones; targets satisfying none of the conditions), each difference "
    "confirmed at 100 digits or exactly: no difference found"
)


def _compare(claimed, derived, identities, conditions, activation, seed) -> Verdict:
    diff = canon(claimed - derived, identities)
    proof = certify_zero(diff, identities, thorough=False)
    if proof is not None:
        return Verdict("equal", sp.S.Zero, proof=proof)
    params = _params(claimed - derived, activation)
    normalised = bool(identities) and class_sum(zs[j]) in dict(identities or {})
    searchable = _searchable(claimed - derived, activation)
    tried = [
        "canonical form, then logs expanded over positive arguments and powers written over "
        "generators, then sympy.simplify: no proof of equality"
        if _transcendental(diff)
        else "canonical form: the difference, a rational function of the atoms, does not cancel"
    ]
    ce = None
    if searchable:
        ce = _search(claimed, derived, activation, params, normalised, "free", seed)
        tried.append(_SEARCHED)
    else:
        tried.append("no point search: auxiliary atoms (A, B, C) without their activation")
    if ce is None:
        proof = certify_zero(diff, identities)
        if proof is None and activation is not None and activation.definition is not None:
            in_logits = canon(activation.to_logits(diff))
            proof = certify_zero(in_logits, identities)
            if proof is not None:
                proof = ("outputs and auxiliary atoms written in the logits (the definition)",)
                proof += cast("tuple[str, ...]", certify_zero(in_logits, identities))
        if proof is not None:
            return Verdict("equal", sp.S.Zero, proof=proof)
    outcomes = []
    forced = certify_if_positive(diff, identities)
    if forced is not None:
        outcomes.append(
            ConditionOutcome(
                " and ".join(f"{sp.sstr(a)} > 0" for a in forced[0]), "holds", forced[1]
            )
        )
    for cond in conditions:
        cases = cond.cases(diff)
        case_proofs = [certify_zero(case, identities, thorough=False) for case in cases]
        if all(pr is not None for pr in case_proofs):
            outcomes.append(
                ConditionOutcome(
                    cond.label,
                    "holds",
                    (f"with {cond.label}: " + cast("tuple[str, ...]", case_proofs[0])[-1],),
                )
            )
            continue
        inside = None
        if searchable:
            inside = _search(
                claimed, derived, activation, params, normalised, cond.targets, seed, (3,), 1
            )
        outcomes.append(
            ConditionOutcome(cond.label, "fails" if inside else "not decided", (), inside)
        )
    conds = tuple((o.label, o.status == "holds") for o in outcomes)
    holds = any(ok for _, ok in conds)
    if ce is None:
        # Proved equal where the positivity a forced expansion needs holds: conditional.
        kind = "conditional" if forced is not None else "not decided"
    else:
        kind = "conditional" if holds else "different"
    tidied = tidy(diff, identities)
    try:
        zeros = zero_set(tidied)
    except _ALGEBRA_LIMITS:  # a symbolic exponent, say: no factor list
        zeros = ()
    return Verdict(
        kind,
        tidied,
        conds,
        zeros,
        counterexample=ce,
        outcomes=tuple(outcomes),
        tried=tuple(tried) if kind == "not decided" else (),
    )
