r"""Algebra of sums over classes: the canonical form that makes general-q formulas comparable.

sympy leaves ``Sum(KroneckerDelta(j, k) * g(j), (j, 1, q))`` alone (or turns it into a
``Piecewise`` on 1 ≤ k ≤ q), does not pull factors free of the dummy out of a sum, and does not
distribute a sum over addition. :func:`canon` does those three things, bottom-up, under the
standing assumption that every index lies in 1, …, q:

* Σ_j (a + b) = Σ_j a + Σ_j b, and Σ_j c·g(j) = c Σ_j g(j) when c does not involve j;
* Σ_j δ_jk g(j) = g(k) (the Kronecker delta collapses the sum), and Σ_j c = q c;
* outside a sum, δ_jk g(j) = δ_jk g(k) (the delta is zero unless j = k);
* every remaining sum has the dummy j, so equal sums are equal objects and cancel.

What is left is a rational function of atoms: z*_k, t_k, sgn z_k, A, β, and sums
Σ_j m(j) of monomials m. Two general-q formulas are equal for every q when their difference
cancels to 0 over those atoms (:func:`is_zero`). Identities the atoms obey (Σ_j z*_j = 1 for a
normalised activation) are applied by substitution where they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sympy as sp

from .symbols import j, q

__all__ = [
    "canon",
    "class_sum",
    "instantiate",
    "is_zero",
    "merge_sums",
    "tidy",
    "transcendental",
]


def class_sum(expr: sp.Expr, index: sp.Symbol = j) -> sp.Sum:
    """Σ_{index = 1}^{q} expr, the sum over classes."""
    return sp.Sum(expr, (index, 1, q))


def _collapse_term(term: sp.Expr, dummy: sp.Symbol) -> sp.Expr:
    """Σ_dummy of one product ``term``: pull out factors, collapse a delta, rename the dummy."""
    outer, inner, delta = [], [], None
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.Pow) and isinstance(f.base, sp.KroneckerDelta) and f.exp.is_positive:
            f = f.base  # δ^n = δ
        if delta is None and isinstance(f, sp.KroneckerDelta) and dummy in f.free_symbols:
            delta = f
        elif dummy in f.free_symbols:
            inner.append(f)
        else:
            outer.append(f)
    body = sp.Mul(*inner)
    if delta is not None:
        a, b = delta.args
        other = b if a == dummy else a
        return sp.Mul(*outer) * body.subs(dummy, other)
    if not inner:
        return sp.Mul(*outer) * q
    if dummy != j:
        if j in body.free_symbols:
            raise NotImplementedError(f"a sum over {dummy} whose summand involves {j}: {body}")
        body = body.subs(dummy, j)
    return sp.Mul(*outer) * sp.Sum(body, (j, 1, q))


def _collapse_sum(s: sp.Sum) -> sp.Expr:
    """Σ over every limit of ``s``, innermost first (sympy merges nested sums into one
    ``Sum`` with several limits, so each limit is collapsed without rebuilding a ``Sum``)."""
    body = s.function
    for limit in s.limits:
        body = _collapse_one(body, limit)
    return body


def _collapse_one(body: sp.Expr, limit: tuple) -> sp.Expr:
    dummy, lo, hi = limit
    if lo != 1 or hi != q:
        raise NotImplementedError(f"only sums over the classes 1..q are canonicalised: {limit}")
    body = sp.expand(body)
    out = []
    for term in sp.Add.make_args(body):
        if dummy != j and any(
            dummy in s.free_symbols for s in term.atoms(sp.Sum) if isinstance(s, sp.Sum)
        ):
            # Σ_dummy of a sum over j that involves dummy: not separable; renaming the dummy
            # to j would capture it.
            raise NotImplementedError(f"a double sum that does not separate: Σ_{dummy} {term}")
        out.append(_collapse_term(term, dummy))
    return sp.Add(*out)


def _delta_outside(term: sp.Expr) -> sp.Expr:
    """δ_ab g(a) = δ_ab g(b) outside sums: substitute the alphabetically first index."""
    for f in sp.Mul.make_args(term):
        base = f.base if isinstance(f, sp.Pow) else f
        if isinstance(base, sp.KroneckerDelta):
            a, b = sorted(base.args, key=str)
            if isinstance(a, sp.Symbol):
                rest = sp.Mul(*(g for g in sp.Mul.make_args(term) if g is not f))
                return base * rest.subs(a, b)
    return term


def canon(expr: sp.Expr, identities: Mapping[sp.Expr, sp.Expr] | None = None) -> sp.Expr:
    """The canonical expanded form of a general-q expression (see the module docstring).

    Args:
      expr: a sympy expression with sums over classes and Kronecker deltas.
      identities: optional substitutions applied to the canonical atoms, e.g.
        ``{Σ_j z*_j: 1}`` for a normalised activation; applied until nothing changes.

    Returns:
      An expanded expression whose sums are all Σ_{j=1}^q of single monomials.
    """
    prev = None
    expr = sp.sympify(expr)
    for _ in range(8):
        if expr == prev:
            return expr
        prev = expr
        expr = expr.replace(lambda e: isinstance(e, sp.Sum), _collapse_sum)
        expr = sp.expand(expr)
        expr = sp.Add(*(_delta_outside(term) for term in sp.Add.make_args(expr)))
        if identities:
            expr = sp.expand(expr.subs(dict(identities)))
    raise RuntimeError(f"canon did not reach a fixed point: {expr}")


def is_zero(expr: sp.Expr, identities: Mapping[sp.Expr, sp.Expr] | None = None) -> bool:
    """Whether ``expr`` is identically 0 for every q, exactly (canonical form, then cancel)."""
    return sp.cancel(sp.together(canon(expr, identities))) == 0


def _wants_flip(factor: sp.Expr) -> bool:
    """Whether a sum reads better negated: targets with a minus sign (z* − t), else 1 − z*."""
    terms = sp.Add.make_args(factor)
    with_t = [
        term
        for term in terms
        if any(isinstance(x, sp.Indexed) and x.base.name == "t" for x in term.free_symbols)
        and not term.has(sp.Sum)
    ]
    if with_t:
        return all(term.as_coeff_Mul()[0] > 0 for term in with_t)
    const = [term for term in terms if term.is_number]
    return bool(const) and const[0] < 0


def _orient(expr: sp.Expr) -> sp.Expr:
    """Negates pairs of factors of every product so that each reads as the paper writes it."""
    if isinstance(expr, sp.Sum):
        return sp.Sum(_orient(expr.function), *expr.limits)
    if not expr.args or isinstance(expr, (sp.Indexed, sp.Symbol)):
        return expr
    expr = expr.func(*(_orient(a) for a in expr.args))
    if isinstance(expr, sp.Mul):
        sign, factors = 1, []
        for f in expr.args:
            base, e = f.as_base_exp()
            if isinstance(base, sp.Add) and e.is_Integer and _wants_flip(base):
                f = sp.Pow(-base, e)
                sign = -sign if e % 2 else sign
            factors.append(f)
        return sign * sp.Mul(*factors)
    return expr


def merge_sums(expr: sp.Expr) -> sp.Expr:
    """Merges the sums of every Add into one sum with a factored summand (for display).

    ``a Σ_j f(j) + b Σ_j g(j)`` with numbers a, b becomes ``± Σ_j factor(a f(j) + b g(j))``,
    the sign chosen so that the summand reads as the paper writes it.
    """
    if isinstance(expr, sp.Add):
        sums, rest = [], []
        for term in expr.args:
            coeff, body = term.as_coeff_Mul()
            if isinstance(body, sp.Sum):
                sums.append(coeff * body.function)
            else:
                rest.append(merge_sums(term))
        if sums:
            summand = _orient(sp.factor(sp.Add(*sums)))
            sign, summand = (-1, -summand) if summand.could_extract_minus_sign() else (1, summand)
            rest.append(sign * sp.Sum(summand, (j, 1, q)))
        return sp.Add(*rest)
    if expr.args and not isinstance(expr, (sp.Sum, sp.Indexed)):
        return expr.func(*(merge_sums(a) for a in expr.args))
    return expr


def transcendental(expr: sp.Expr) -> bool:
    """Whether ``expr`` has logs, exponentials or powers with non-integer exponents."""
    return expr.has(sp.log, sp.exp) or any(not p.exp.is_Integer for p in expr.atoms(sp.Pow))


def _tidy_grouped(expr: sp.Expr) -> sp.Expr:
    """Display form for logs and symbolic powers: the sums sharing an outer factor merged into
    one sum with a factored summand, the rest factored, powers of one base combined."""
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    rest = []
    for term in sp.Add.make_args(expr):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1:
            rest.append(term)
            continue
        coeff, outer = (term / sums[0]).as_coeff_Mul()
        groups.setdefault(outer, []).append(coeff * sums[0].function)
    parts = [sp.powsimp(sp.factor(sp.Add(*rest)))] if rest else []
    for outer, summands in groups.items():
        body = _orient(sp.powsimp(sp.factor(sp.Add(*summands))))
        sign = -1 if body.could_extract_minus_sign() else 1
        parts.append(sign * outer * sp.Sum(sign * body, (j, 1, q)))
    return _orient(sp.factor_terms(sp.Add(*parts)))


def tidy(expr: sp.Expr, identities: Mapping[sp.Expr, sp.Expr] | None = None) -> sp.Expr:
    """The display form: canonical, cancelled, factored, sums merged as the paper writes them.

    With logs or non-integer powers (the focal loss), the common-denominator form would hide
    the structure; the sums sharing an outer factor are merged instead (:func:`_tidy_grouped`).
    """
    c = canon(expr, identities)
    if transcendental(c):
        return _tidy_grouped(c)
    e = sp.factor(sp.cancel(sp.together(c)))
    return _orient(merge_sums(e))


def instantiate(
    expr: sp.Expr,
    n: int,
    index: Mapping[sp.Symbol, int],
    values: Mapping[sp.IndexedBase, Iterable[sp.Expr]],
    scalars: Mapping[sp.Symbol, sp.Expr] | None = None,
) -> sp.Expr:
    """A general-q expression at q = n, with explicit values for the indexed symbols.

    Every Σ_{j=1}^q becomes an explicit sum of n terms; the free indices take the integers in
    ``index``; each ``base[m]`` becomes ``values[base][m - 1]``.
    """
    e = expr.subs(q, n).subs(dict(index))
    e = e.replace(lambda s: isinstance(s, sp.Sum), lambda s: s.doit())
    table = {base: list(vals) for base, vals in values.items()}
    e = e.replace(
        lambda x: isinstance(x, sp.Indexed) and x.base in table,
        lambda x: table[x.base][int(x.indices[0]) - 1],
    )
    if scalars:
        e = e.subs(dict(scalars))
    return e
