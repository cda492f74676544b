r"""Second order: the Hessian of ρ(f(z), t) in the logits, and whether ρ∘f is convex in z.

The paper's section 2 calls a pairing "natural" when Δ_k = z*_k − t_k; the reason it matters
for fitting is the second derivative. Differentiating Δ_k once more, by the same chain rule,

.. math::
    H_{kl} = \frac{\partial \Delta_k}{\partial z_l}
           = \sum_m \frac{\partial \Delta_k}{\partial z^*_m}\frac{\partial z^*_m}{\partial z_l}
             + \frac{\partial \Delta_k}{\partial z_l}\Big|_{z^*}
             + \sum_a \frac{\partial \Delta_k}{\partial a}\frac{\partial a}{\partial z_l}

(the last sum over the auxiliary atoms a such as A = Σ|z|; sgn z has derivative 0 away from
0), for general q, with the activation's checked Jacobian structure. The convexity verdict in
the logits is then, like :mod:`.verdicts`, a proof, a counterexample, or "not decided":

* **diagonal**: H = diag(d), d_k ≥ 0 proved by sympy from the atoms' signs (outputs in (0, 1)
  written z* = 1/(1 + u), u > 0, when the activation's outputs lie there): PSD.
* **variance**: H = s·(diag(z*) − z* z*ᵀ) with Σ_j z*_j = 1 and s ≥ 0 proved: for any v,
  vᵀ(diag(z*) − z*z*ᵀ)v = Σ_j z*_j v_j² − (Σ_j z*_j v_j)² ≥ 0 (the variance of v under z*;
  Cauchy–Schwarz), so PSD. Softmax × ρ_c: s = Σ_j t_j (the article's Jacobian, scaled).
* otherwise, a **counterexample**: a point (q, logits, targets, parameters; exact rationals)
  where the Hessian, obtained independently by sympy differentiating the explicit ρ(f(z), t)
  twice at that q, has a negative eigenvalue, computed with mpmath at 40 digits and
  confirmed at 60; the eigenvector is shown.
"""

from __future__ import annotations

import dataclasses
import random

import sympy as sp

from .algebra import canon, class_sum, tidy
from .points import Point, _logits, _targets, sample_value
from .symbols import k, l, m, q, z, zs
from .table1 import Derivation

__all__ = ["Convexity", "Hessian", "convexity", "explicit_hessian", "hessian"]


@dataclasses.dataclass(frozen=True)
class Hessian:
    """H_kl = ∂²ρ/∂z_k∂z_l for one pairing, general q (free indices k and l).

    Attributes:
      derivation: the pairing's first-order derivation.
      expr: H_kl in canonical form (sums over j, Kronecker deltas δ_kl).
      display: H_kl tidied for display.
    """

    derivation: Derivation
    expr: sp.Expr
    display: sp.Expr


def _aux_derivative(act, a: sp.Symbol) -> sp.Expr:
    """∂a/∂z_l of an auxiliary atom (A = Σ|z| gives sgn z_l), canonical."""
    d = sp.diff(act.auxiliary[a], z[l])
    return canon(d.replace(lambda x: isinstance(x, sp.DiracDelta), lambda x: sp.S.Zero))


def hessian(d: Derivation) -> Hessian:
    """Derives H_kl by differentiating Δ_k (general q) through the Jacobian structure."""
    act = d.activation
    delta = canon(d.chain, act.identities)
    # Through the outputs (with the stated structure, or the definition's derivative in z
    # when there is none: Δ_k may still hold z* through ∂ρ/∂z*_j).
    via_outputs = class_sum(sp.diff(delta, zs[m]) * act.jacobian_or_derived(m, l), m)
    direct = sp.diff(delta, z[l])
    via_aux = sum((sp.diff(delta, a) * _aux_derivative(act, a) for a in act.auxiliary), sp.S.Zero)
    h = via_outputs + direct + via_aux
    h = h.replace(lambda x: isinstance(x, sp.DiracDelta), lambda x: sp.S.Zero)
    expr = canon(h, act.identities)
    return Hessian(d, expr, tidy(expr, act.identities))


# --------------------------------------------------------------------------------------------
# Convexity
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Convexity:
    """Whether ρ(f(z), t) is convex in the logits z, for every target t ≥ 0.

    Attributes:
      kind: ``"convex"`` (a proof), ``"not convex"`` (a counterexample) or ``"not decided"``.
      proof: the steps of the proof.
      point: the counterexample's point.
      eigenvalue: the negative eigenvalue there (40 digits), and ``eigenvector`` its vector.
      hessian_at_point: the Hessian matrix there (rows, 12 digits), for the report.
      tried: what was tried when not decided.
    """

    kind: str
    proof: tuple[str, ...] = ()
    point: Point | None = None
    eigenvalue: sp.Expr | None = None
    eigenvector: tuple[sp.Expr, ...] = ()
    hessian_at_point: tuple[tuple[str, ...], ...] = ()
    tried: tuple[str, ...] = ()

    @property
    def evidence(self) -> str:
        """The proof, the counterexample, or what was tried, in one line."""
        if self.kind == "convex":
            return "; ".join(self.proof)
        if self.kind == "not convex":
            assert self.point is not None  # a counterexample has its point
            vec = ", ".join(f"{float(v):.4g}" for v in self.eigenvector)
            return (
                f"at {self.point.describe()}: eigenvalue {sp.N(self.eigenvalue, 8)} < 0, "
                f"eigenvector ({vec})"
            )
        return "tried: " + "; ".join(self.tried)


def _positive_outputs(act, expr: sp.Expr) -> sp.Expr:
    """Outputs in (0, 1) written z*_x = 1/(1 + u_x), u_x > 0, so sympy sees 1 − z* > 0."""
    if not act.unit_outputs:
        return expr
    return expr.replace(
        lambda x: isinstance(x, sp.Indexed) and x.base == zs,
        lambda x: 1 / (1 + sp.Indexed(sp.IndexedBase("u", positive=True), *x.indices)),
    )


def _nonnegative(act, expr: sp.Expr) -> bool:
    """Whether sympy proves ``expr`` ≥ 0 from the atoms' assumptions."""
    e = sp.factor(_positive_outputs(act, expr))
    if e.is_nonnegative:
        return True
    factors = sp.Mul.make_args(e)
    return all(
        f.is_nonnegative or (isinstance(f, sp.Pow) and f.exp.is_even) for f in factors
    ) and all(f.is_nonnegative is not False for f in factors)


def _split_delta(h: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """H = δ_kl·a + b, with b free of δ_kl."""
    dkl = sp.KroneckerDelta(k, l)
    a, b = sp.S.Zero, sp.S.Zero
    for term in sp.Add.make_args(sp.expand(h)):
        if term.has(dkl):
            a += term.subs(dkl, 1)
        else:
            b += term
    return sp.expand(a), sp.expand(b)


def _proof(hs: Hessian) -> tuple[str, ...] | None:
    act = hs.derivation.activation
    a, b = _split_delta(hs.expr)
    if b == 0:
        d = a.subs(k, l)
        if _nonnegative(act, d):
            return (
                "H = diag(d) with d_k = " + _text(d.subs(l, k)),
                "d_k ≥ 0 (sympy, from the atoms' signs"
                + (", z* ∈ (0, 1)" if act.unit_outputs else "")
                + "): positive semi-definite",
            )
        return None
    if not act.identities:
        return None
    s = sp.cancel(a / zs[l])
    if s.has(k) or s.has(l) or canon(b + s * zs[k] * zs[l], act.identities) != 0:
        return None
    if not _nonnegative(act, s):
        return None
    return (
        f"H = s·(diag(z*) − z* z*ᵀ) with s = {_text(s)}",
        "Σ_j z*_j = 1, so vᵀ(diag(z*) − z*z*ᵀ)v = Σ_j z*_j v_j² − (Σ_j z*_j v_j)² ≥ 0 "
        "(the variance of v under z*)",
        "s ≥ 0 (sympy): positive semi-definite",
    )


def _merge_summands(expr: sp.Expr) -> sp.Expr:
    """Sums with the same outer factor (up to a number) merged into one sum whose summand is
    cancelled, and the terms outside sums cancelled: Σ_j t_j/(1 − z*_j) − Σ_j t_j z*_j/(1 − z*_j)
    becomes Σ_j t_j. An instance's Hessian (focal at γ = 0) needs it: the family's summands
    cancel only once the parameter has its value. Each step is an identity (sound)."""
    groups: dict[tuple, list[sp.Expr]] = {}
    rest = []
    for term in sp.Add.make_args(sp.expand(expr)):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1:
            rest.append(term)
            continue
        coeff, outer = (term / sums[0]).as_coeff_Mul()
        groups.setdefault((outer, sums[0].limits), []).append(coeff * sums[0].function)
    out = sp.cancel(sp.together(sp.Add(*rest)))
    for (outer, limits), summands in groups.items():
        out += outer * sp.Sum(sp.cancel(sp.together(sp.Add(*summands))), *limits)
    return sp.expand(out)


def _text(expr: sp.Expr) -> str:
    from .printing import text

    return text(expr)


def explicit_hessian(act, pen, n: int, values=None) -> tuple[sp.Matrix, list, list]:
    """∂²ρ/∂z_k∂z_l at q = n by sympy on the explicit composition (no structure, no sums),
    with the parameters set to ``values`` first (a mapping symbol → number) if given."""
    from .concrete import explicit_outputs, explicit_symbols

    zv, tv = explicit_symbols(n)
    outs = explicit_outputs(act, zv)
    rho = sp.Add(*(pen.term(o, y) for o, y in zip(outs, tv, strict=True))).subs(q, n)
    if values:
        rho = rho.subs(dict(values))
    return sp.hessian(rho, zv), zv, tv


def _min_eig(matrix, digits: int):
    import mpmath

    with mpmath.workdps(digits):
        mat = mpmath.matrix([[mpmath.mpf(sp.N(x, digits + 10)) for x in row] for row in matrix])
        mat = (mat + mat.T) / 2
        vals, vecs = mpmath.eigsy(mat)
        i = min(range(len(vals)), key=lambda n: vals[n])
        return vals[i], [vecs[r, i] for r in range(mat.rows)]


def _counterexample(
    hs: Hessian, seed: int, qs=(2, 3), tries: int = 6, fixed=None
) -> Convexity | None:
    import mpmath

    d = hs.derivation
    act, pen = d.activation, d.penalty
    params = [p.symbol for p in (*act.params, *pen.params)]
    fixed = dict(fixed or {})
    rng = random.Random(seed)
    for n in qs:
        values = tuple((s, fixed.get(s, sample_value(rng, s))) for s in params)
        hmat, zv, tv = explicit_hessian(act, pen, n, values)
        for attempt in range(tries):
            logits = tuple(3 * x for x in _logits(rng, n, act.logit_domain))
            kind = "one-hot" if attempt % 2 == 0 else "free"
            targets = next(_targets(rng, n, kind, 1))
            sub = {**dict(zip(zv, logits)), **dict(zip(tv, targets))}
            at = [[x.subs(sub) for x in hmat.row(r)] for r in range(n)]
            lam, vec = _min_eig(at, 40)
            if lam < -1e-20:
                lam60, _ = _min_eig(at, 60)
                if lam60 < -1e-20 and abs(lam60 - lam) < 1e-30:
                    return Convexity(
                        "not convex",
                        point=Point(n, 1, logits, targets, values),
                        eigenvalue=sp.Float(mpmath.nstr(lam, 40), 40),
                        eigenvector=tuple(sp.Float(mpmath.nstr(v, 20), 20) for v in vec),
                        hessian_at_point=tuple(
                            tuple(f"{float(sp.N(x, 20)):.6g}" for x in row) for row in at
                        ),
                    )
    return None


def convexity(hs: Hessian, *, seed: int = 0, values=None) -> Convexity:
    """The convexity verdict of ρ(f(z), t) in z (see the module docstring).

    Args:
      hs: the Hessian, for general q and symbolic parameters.
      seed: the seed of the counterexample search.
      values: ``{symbol: number}`` for an *instance* (``softmax/focal(gamma=0)``): the proof
        is attempted on H with those values (exact rationals) and a counterexample keeps them;
        without it the verdict is the *family's* (every parameter value in its domain, a
        counterexample free to choose them).
    """
    fixed = {
        s: sp.Rational(str(v)) if isinstance(v, float) else sp.sympify(v)
        for s, v in dict(values or {}).items()
    }
    if fixed:
        idents = hs.derivation.activation.identities
        expr = canon(_merge_summands(canon(hs.expr.subs(fixed), idents)), idents)
        hs = Hessian(hs.derivation, expr, hs.display.subs(fixed))
    proof = _proof(hs)
    if proof is not None:
        if fixed:
            at = ", ".join(f"{s.name} = {v}" for s, v in fixed.items())
            proof = (f"the instance {at}", *proof)
        return Convexity("convex", proof)
    if hs.derivation.activation.implicit:
        return Convexity(
            "not decided",
            tried=(
                "H is neither diag(d ≥ 0) nor s·(diag(z*) − z*z*ᵀ) with s ≥ 0 provably",
                "no counterexample search: the activation's outputs have no closed form in "
                "the logits (an implicit normaliser), so H cannot be recomputed independently "
                "at exact logits",
            ),
        )
    found = _counterexample(hs, seed, fixed=fixed)
    if found is not None:
        return found
    return Convexity(
        "not decided",
        tried=(
            "H is neither diag(d ≥ 0) nor s·(diag(z*) − z*z*ᵀ) with s ≥ 0 provably",
            "no negative eigenvalue at 8 exact points (q = 2, 3; one-hot and free targets; "
            "mpmath at 40 digits)",
        ),
    )
