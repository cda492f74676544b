r"""Sparsemax and 1.5-entmax, symbolically, one support region at a time (piecewise verdicts).

Sparsemax (Martins & Astudillo 2016, eq. (2) and Proposition 1) and α-entmax (Peters, Niculae
& Martins 2019, eq. (9)–(10)) are piecewise smooth: on each *support region* — the logits
whose outputs are non-zero exactly on a set S of classes — they have a closed form, and Δ_k
and the Hessian are derived there by sympy from the explicit composition ρ(f(z), t):

* sparsemax on S: z*_i = z_i − τ_S for i ∈ S (0 off S), τ_S = (Σ_{j∈S} z_j − 1)/|S|
  (Martins & Astudillo, Proposition 1). The region: z_i > τ_S on S, z_i ≤ τ_S off S.
* 1.5-entmax on S: z*_i = (z_i/2 − τ_S)² on S, τ_S the root of Σ_{j∈S} (z_j/2 − τ)² = 1
  below every z_j/2 (a quadratic: the closed form of Peters et al.'s exact algorithm for
  α = 1.5, their section 3.2), τ_S = (Σ x − √((Σ x)² − |S|(Σ x² − 1)))/|S| with x = z/2.

For every region of q = 3 (the 7 non-empty supports) :func:`piecewise` gives, per penalty
(least squares, the Fenchel–Young loss of the regulariser, cross-entropy where defined), the
region-wise Δ_k and H_kl with two verdicts, each with its evidence: Δ = z* − t (a proof: the
difference cancels exactly on the region — for 1.5-entmax after writing its one square root
as r with r² = D — possibly once Σ t = 1; or a counterexample at the region's exact witness
point, evaluated at 50 and confirmed at 100 digits) and convexity on the region (a proof where
H is constant, as for sparsemax with least squares or its Fenchel–Young loss; a negative
eigenvalue at the witness, mpmath at 40 digits; else not decided). The witness of each region
is checked to lie in it. The Fenchel–Young losses (Blondel, Martins & Niculae 2020, Definition 2 and
Proposition 2) are the natural penalties: Δ = z* − t on every region; least squares is not.
Cross-entropy is defined only where every target class is in S (log 0 otherwise): the verdict
there is "undefined" for the other regions.

The tests check each region's Δ_k and H_kl against ``jax.grad``/``jax.hessian`` of
:mod:`jaxsoftmax.sparse` at the region's witness point (float64).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import sympy as sp

__all__ = [
    "Region",
    "RegionVerdict",
    "entmax15_on",
    "piecewise",
    "region_delta",
    "region_hessian",
    "sparsemax_on",
    "supports",
]

Q = 3
Z = sp.symbols("z_1:4", real=True)
T = sp.symbols("t_1:4", nonnegative=True)


def supports(q: int = Q) -> list[tuple[int, ...]]:
    """The non-empty supports S ⊆ {0, …, q−1}, largest first."""
    out = [s for r in range(q, 0, -1) for s in itertools.combinations(range(q), r)]
    return out


@dataclasses.dataclass(frozen=True)
class Region:
    """One support region of an activation at q = 3.

    Attributes:
      activation: ``"sparsemax"`` or ``"entmax15"``.
      support: the classes with non-zero output (0-based).
      outputs: z*_1..z*_3 as expressions of the logits ``Z`` on this region.
      conditions: the inequalities (each ``expr > 0`` or ``expr ≥ 0``) that define it.
      witness: an exact point (logits) inside the region.
      tau: the threshold τ_S on the region.
    """

    activation: str
    support: tuple[int, ...]
    outputs: tuple[sp.Expr, ...]
    conditions: tuple[sp.Rel, ...]
    witness: tuple[sp.Rational, ...]
    tau: sp.Expr

    def contains(self, point) -> bool:
        sub = dict(zip(Z, point, strict=True))
        return all(bool(c.subs(sub)) for c in self.conditions)


def _witness(support: tuple[int, ...]) -> tuple[sp.Rational, ...]:
    """Logits whose sparsemax and 1.5-entmax supports are both ``support``: distinct values
    (no ties, away from the region's boundary) high on S and far below off S."""
    base = (sp.Rational(7, 10), sp.Rational(3, 10), sp.Rational(-1, 10))
    out = []
    n = 0
    for i in range(Q):
        if i in support:
            out.append(base[n] / (len(support) ** 2))
            n += 1
        else:
            out.append(sp.Integer(-5) - i)
    return tuple(out)


@functools.cache
def sparsemax_on(support: tuple[int, ...]) -> Region:
    """Sparsemax on the region with support ``support`` (Martins & Astudillo 2016, Prop. 1)."""
    tau = (sp.Add(*(Z[i] for i in support)) - 1) / len(support)
    outs = tuple(Z[i] - tau if i in support else sp.Integer(0) for i in range(Q))
    conds = tuple((Z[i] - tau > 0) if i in support else (tau - Z[i] >= 0) for i in range(Q))
    return Region("sparsemax", support, outs, conds, _witness(support), tau)


@functools.cache
def entmax15_on(support: tuple[int, ...]) -> Region:
    """1.5-entmax on the region with support ``support`` (Peters et al. 2019, eq. (9)–(10);
    τ the smaller root of Σ_{j∈S}(z_j/2 − τ)² = 1)."""
    x = [Z[i] / 2 for i in support]
    n = len(support)
    sx, sxx = sp.Add(*x), sp.Add(*(v**2 for v in x))
    tau = (sx - sp.sqrt(sx**2 - n * (sxx - 1))) / n
    outs = tuple((Z[i] / 2 - tau) ** 2 if i in support else sp.Integer(0) for i in range(Q))
    conds = tuple((Z[i] / 2 - tau > 0) if i in support else (tau - Z[i] / 2 >= 0) for i in range(Q))
    # The root is real on the region: (Σx)² − n(Σx² − 1) ≥ 0.
    conds += (sx**2 - n * (sxx - 1) >= 0,)
    return Region("entmax15", support, outs, conds, _witness(support), tau)


def _tsallis(p, alpha):
    """Ω_α(p) = (Σ p^α − 1)/(α(α − 1)) (Blondel et al. 2020, eq. (10)); ½‖p‖² − ½ at α = 2."""
    return (sp.Add(*(pi**alpha for pi in p)) - 1) / (alpha * (alpha - 1))


def _penalty(name: str, region: Region) -> sp.Expr | None:
    """ρ(f(z), t) on the region, or None where it is undefined (log 0)."""
    p = region.outputs
    if name == "least_squares":
        return sp.Add(*((pi - ti) ** 2 / 2 for pi, ti in zip(p, T, strict=True)))
    if name == "fenchel_young":
        alpha = 2 if region.activation == "sparsemax" else sp.Rational(3, 2)
        # L = Ω*(z) + Ω(t) − ⟨z, t⟩ with Ω*(z) = ⟨z, p⟩ − Ω(p) (Blondel et al., Definition 2).
        inner = sp.Add(*(zi * (pi - ti) for zi, pi, ti in zip(Z, p, T, strict=True)))
        if alpha == 2:
            return inner + _tsallis(T, alpha) - _tsallis(p, alpha)
        # p_i^{3/2} = (z_i/2 − τ)³ on the region (z_i/2 − τ > 0 there): no |·|.
        cubes = sp.Add(*((Z[i] / 2 - region.tau) ** 3 for i in region.support))
        return inner + _tsallis(T, alpha) - (cubes - 1) / (alpha * (alpha - 1))
    if name == "cross_entropy":
        if len(region.support) < Q:
            return None  # log 0 at a class the targets may put mass on
        return sp.Add(*(ti * sp.log(ti / pi) for pi, ti in zip(p, T, strict=True)))
    raise ValueError(
        f"unknown penalty {name!r}; known: least_squares, fenchel_young, cross_entropy"
    )


PENALTIES = ("least_squares", "fenchel_young", "cross_entropy")


def region_delta(region: Region, penalty: str) -> tuple[sp.Expr, ...] | None:
    """Δ_k = ∂ρ/∂z_k on the region, k = 1..3 (None where ρ is undefined there)."""
    rho = _penalty(penalty, region)
    if rho is None:
        return None
    return tuple(sp.diff(rho, zk) for zk in Z)


def region_hessian(region: Region, penalty: str) -> sp.Matrix | None:
    """H_kl = ∂²ρ/∂z_k∂z_l on the region (None where ρ is undefined there)."""
    rho = _penalty(penalty, region)
    if rho is None:
        return None
    return sp.hessian(rho, Z)


@dataclasses.dataclass(frozen=True)
class RegionVerdict:
    """The verdicts of one (activation, support, penalty).

    ``natural``: ``"equal"`` (Δ − (z* − t) simplifies to 0 on the region), ``"different"``
    (nonzero at the witness with one-hot targets, exact) or ``"undefined"``;
    ``convex``: ``"convex"`` (every eigenvalue of the exact H is ≥ 0 for all t, a proof since
    H does not depend on t or is PSD at every t by sympy), ``"not convex"`` (a negative
    eigenvalue at the witness, exact) or ``"not decided"``; ``evidence`` in words.
    """

    activation: str
    support: tuple[int, ...]
    penalty: str
    natural: str
    convex: str
    evidence: str


def _psd(h: sp.Matrix) -> bool | None:
    """Whether a *constant* ``h`` (no logits or targets in it: sparsemax with least squares or
    its Fenchel–Young loss, where the outputs are affine on the region) is positive
    semi-definite, exactly; None when ``h`` varies over the region (no proof attempted)."""
    if h.free_symbols:
        return None
    return all(sp.nsimplify(e) >= 0 for e in h.eigenvals(multiple=True))


def _lowest_eigenvalue(h: sp.Matrix) -> sp.Float:
    """The least eigenvalue of an exact symmetric matrix, by mpmath at 40 digits."""
    import mpmath

    with mpmath.workdps(40):
        m = mpmath.matrix([[mpmath.mpf(str(sp.N(x, 45))) for x in row] for row in h.tolist()])
        return sp.Float(str(min(mpmath.eigsy(m)[0])), 40)


def _is_zero(expr: sp.Expr, region: Region) -> bool:
    """A proof that ``expr`` vanishes on the region: exact cancellation of a rational function
    (sparsemax: outputs affine in z). No proof is attempted with 1.5-entmax's square roots."""
    if expr == 0:
        return True
    if region.activation == "sparsemax":
        return sp.cancel(sp.together(expr)) == 0
    # 1.5-entmax: τ has one square root √D; write it r with r² = D and reduce the numerator
    # modulo r² − D (exact: a polynomial identity in z, t, r).
    roots = {a for a in expr.atoms(sp.Pow) if a.exp == sp.Rational(1, 2)}
    if len(roots) != 1:
        return sp.cancel(sp.together(expr)) == 0
    (root,) = roots
    r = sp.Symbol("r", positive=True)
    num = sp.numer(sp.together(sp.expand(expr.subs(root, r))))
    return sp.rem(sp.Poly(sp.expand(num), r), sp.Poly(r**2 - root.base, r)).is_zero


def _value(expr: sp.Expr, point: dict) -> sp.Float | None:
    """``expr`` at an exact point, if it is nonzero at 50 digits and confirmed at 100."""
    lo, hi = sp.N(expr.subs(point), 50), sp.N(expr.subs(point), 100)
    if abs(lo) > sp.Float("1e-30") and abs(hi - lo) < sp.Float("1e-40") * (1 + abs(hi)):
        return lo
    return None


_TARGETS = tuple(tuple(int(m == c) for m in range(Q)) for c in range(Q))


def _region_verdict(region: Region, penalty: str) -> RegionVerdict:
    delta = region_delta(region, penalty)
    s = tuple(i + 1 for i in region.support)
    if delta is None:
        return RegionVerdict(
            region.activation, region.support, penalty, "undefined", "undefined",
            f"S = {s}: ρ has log 0 at a class outside S",
        )  # fmt: skip
    at = dict(zip(Z, region.witness, strict=True))
    diff = [d - (p - t) for d, p, t in zip(delta, region.outputs, T, strict=True)]
    normalised = {T[2]: 1 - T[0] - T[1]}
    natural, why = "not decided", "no proof; zero at the witness for every target tried"
    if all(_is_zero(d, region) for d in diff):
        natural, why = "equal", "Δ − (z* − t) cancels to 0 on the region (exact)"
    elif all(_is_zero(d.subs(normalised), region) for d in diff):
        natural, why = "equal if Σ_j t_j = 1", "Δ − (z* − t) cancels to 0 once Σ_j t_j = 1"
    else:
        for targets in (*_TARGETS, (0, 0, 0)):
            tt = dict(zip(T, targets, strict=True))
            vals = [_value(d, {**at, **tt}) for d in diff]
            bad = [(m + 1, v) for m, v in enumerate(vals) if v is not None]
            if bad:
                m, v = bad[0]
                natural = "different"
                why = (
                    f"at z = {region.witness}, t = {targets}: (Δ − (z* − t))_{m} = "
                    f"{sp.N(v, 12)} (exact point; 50 and 100 digits)"
                )
                break
    h = region_hessian(region, penalty)
    assert h is not None
    psd = _psd(h)
    if psd is True:
        convex, cwhy = "convex", "H is constant on the region with eigenvalues ≥ 0 (exact)"
    elif psd is False:
        convex, cwhy = "not convex", "H is constant on the region with a negative eigenvalue"
    else:
        convex, cwhy = "not decided", "H varies on the region; PSD at the witness, no proof"
        for targets in _TARGETS:
            tt = dict(zip(T, targets, strict=True))
            low = _lowest_eigenvalue(h.subs(at).subs(tt))
            if low < -sp.Float("1e-20"):
                convex = "not convex"
                cwhy = f"at z = {region.witness}, t = {targets}: eigenvalue {sp.N(low, 8)} < 0"
                break
    return RegionVerdict(
        region.activation, region.support, penalty, natural, convex,
        f"S = {s}: Δ: {why}; H: {cwhy}",
    )  # fmt: skip


@functools.cache
def piecewise() -> tuple[RegionVerdict, ...]:
    """The verdicts of sparsemax and 1.5-entmax with each penalty on every support region of
    q = 3 (see the module docstring)."""
    out = []
    for make in (sparsemax_on, entmax15_on):
        for support in supports():
            region = make(support)
            if not region.contains(region.witness):
                raise AssertionError(f"{region.activation} {support}: witness outside")
            for penalty in PENALTIES:
                out.append(_region_verdict(region, penalty))
    return tuple(out)
