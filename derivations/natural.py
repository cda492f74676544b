r"""Natural penalties: does an activation have one, and is a pairing natural?

An activation f has a *natural* penalty — one with Δ = z* − t (the paper's section 2) — exactly
when f is the gradient of a potential Φ (then ρ(z; t) = Φ(z) − ⟨z, t⟩ + c(t) has
∂ρ/∂z_k = f_k(z) − t_k: Kivinen & Warmuth's matching loss, Helmbold, Kivinen & Warmuth 1999;
the Fenchel–Young loss of Blondel, Martins & Niculae 2020, Definition 2 and Proposition 2).
On ℝ^q (simply connected) f is a gradient iff its Jacobian is symmetric, ∂f_j/∂z_k = ∂f_k/∂z_j
(the Poincaré lemma), and Φ is convex — ρ convex in z — iff that Jacobian is also positive
semi-definite.

* :func:`gradient_field`: a **proof** that J_jk − J_kj = 0 for general q (the activation's
  checked Jacobian structure, canonical form, its identities), or a **counterexample**: an
  exact rational point at q = 3 where ∂f_1/∂z_2 ≠ ∂f_2/∂z_1, both computed exactly by sympy
  differentiating the explicit definition (independently of the stated structure).
* :func:`is_natural`: whether a pairing's derived Δ_k equals z*_k − t_k
  (:func:`.verdicts.compare`; "conditional" when it needs Σ t = 1).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from .activations import Activation
from .algebra import canon, instantiate
from .symbols import j, k, z
from .verdicts import Verdict, compare

__all__ = ["GradientField", "gradient_field", "is_natural"]


@dataclasses.dataclass(frozen=True)
class GradientField:
    """Whether an activation is the gradient of a potential (has a natural penalty).

    Attributes:
      kind: ``"gradient"`` (a proof), ``"not a gradient"`` (an exact counterexample) or
        ``"not decided"``.
      proof: the steps of the proof.
      logits: the counterexample's logits (exact rationals, q = 3) and ``params`` its
        parameter values; ``j12``/``j21`` the exact ∂f_1/∂z_2 and ∂f_2/∂z_1 there.
    """

    kind: str
    proof: tuple[str, ...] = ()
    logits: tuple[sp.Rational, ...] = ()
    params: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    j12: sp.Expr | None = None
    j21: sp.Expr | None = None

    @property
    def evidence(self) -> str:
        """The proof or the counterexample, in one line."""
        if self.kind == "gradient":
            return "; ".join(self.proof)
        if self.kind == "not a gradient":
            zs_ = ", ".join(str(x) for x in self.logits)
            par = "".join(f", {s.name} = {v}" for s, v in self.params)
            return (
                f"at q = 3, z = ({zs_}){par}: ∂f_1/∂z_2 = {self.j12} ≠ ∂f_2/∂z_1 = {self.j21} "
                "(exact): the Jacobian is not symmetric, so f is no gradient and no penalty "
                "gives Δ = z* − t"
            )
        return "not decided"


_POINTS = (
    (sp.Rational(1, 2), sp.Rational(-3, 4), sp.Integer(2)),
    (sp.Rational(3, 2), sp.Rational(1, 3), sp.Rational(-5, 4)),
)
_VALUES = (sp.Rational(1, 2), sp.Rational(3, 2))


def gradient_field(act: Activation) -> GradientField:
    """Whether ``act`` is the gradient of a potential (see the module docstring)."""
    sym = canon(act.jacobian_or_derived(j, k) - act.jacobian_or_derived(k, j), act.identities)
    if sp.cancel(sp.together(sym)) == 0:
        return GradientField(
            "gradient",
            (
                "J_jk − J_kj cancels to 0 for general q (the checked Jacobian structure, "
                "canonical form): the Jacobian is symmetric",
                "so f = ∇Φ on ℝ^q (Poincaré lemma) and ρ = Φ(z) − ⟨z, t⟩ gives Δ = z* − t",
            ),
        )
    if act.implicit:  # no explicit outputs at given logits to differentiate
        return GradientField("not decided")
    params = [p.symbol for p in act.params]
    for point in _POINTS:
        logits = point if act.logit_domain == "real" else tuple(abs(x) + 1 for x in point)
        for value in _VALUES:
            vals = {s: value for s in params}
            explicit = [z[1], z[2], z[3]]
            outs = [instantiate(act.definition(k), 3, {k: m}, {z: explicit}) for m in (1, 2)]
            # ∂f_1/∂z_2 and ∂f_2/∂z_1 from the explicit definition at q = 3, then the point.
            sub = {**{z[m + 1]: logits[m] for m in range(3)}, **vals}
            j12 = sp.simplify(sp.diff(outs[0], z[2]).subs(sub))
            j21 = sp.simplify(sp.diff(outs[1], z[1]).subs(sub))
            if sp.simplify(j12 - j21) != 0:
                return GradientField(
                    "not a gradient",
                    logits=tuple(logits),
                    params=tuple(vals.items()),
                    j12=j12,
                    j21=j21,
                )
    return GradientField("not decided")


def is_natural(derivation) -> Verdict:
    """Whether the pairing's derived Δ_k equals the natural z*_k − t_k (a :class:`Verdict`)."""
    from .symbols import t, zs

    act = derivation.activation
    return compare(zs[k] - t[k], derivation.delta, act.identities, activation=act)
