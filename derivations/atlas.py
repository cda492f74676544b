r"""The five verdicts of every built-in pairing definition, at one instance each.

For each registered family (``jaxsoftmax.list_definitions()``) one instance is chosen
(:data:`INSTANCES`: the common choice in its source; a family whose parameters all have
defaults runs at them) and given five verdicts, each a proof, a counterexample or "not
decided", with its evidence:

1. **Δ verified**: the general-q Δ_k of :func:`.table1.derive` (the paper's section 2 chain
   rule through the activation's checked Jacobian structure) against sympy's own derivative of
   the explicit composition ρ(f(z), t) at q = 2 and q = 3 (:func:`.concrete.verify_at`, exact,
   with the instance's values); where the difference does not cancel exactly (a symbolic or
   fractional power), at random rational points at 40 digits over the *family*'s parameters
   (:func:`.concrete.verify_at_random_points`, evidence, not a proof).
2. **convexity of the instance** and 3. **of the family** (:func:`.hessian.convexity`).
4. **properness** of the penalty over the activation's outputs (:func:`.proper.properness`;
   Gneiting & Raftery 2007).
5. **natural pair**: whether Δ_k = z*_k − t_k (Dunne & Campbell 1997, section 2;
   :func:`.verdicts.compare`) and whether the activation has a natural penalty at all (a
   gradient field: Kivinen & Warmuth's matching loss; Blondel, Martins & Niculae 2020,
   Proposition 2; :func:`.natural.gradient_field`).

``derivations/TABLE1.md`` and the atlas page (``experiments/atlas.py``) both print these.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

__all__ = ["INSTANCES", "Verdicts", "all_verdicts", "delta_verified", "instance_name", "verdicts"]

INSTANCES = {
    "softmax(beta=…)/focal(gamma=…)": "softmax/focal(gamma=2)",
    "spherical(epsilon=…)/least_squares": "spherical(epsilon=0.5)/least_squares",
    "spherical(epsilon=…)/cross_entropy": "spherical(epsilon=0.5)/cross_entropy",
    "softmax(beta=…)/label_smoothing(smoothing=…)": "softmax/label_smoothing(smoothing=0.1)",
    "softmax(beta=…)/gce(lam=…)": "softmax/gce(lam=0.7)",
    "softmax(beta=…)/poly1(poly=…)": "softmax/poly1(poly=1)",
    "taylor/focal(gamma=…)": "taylor/focal(gamma=2)",
    "taylor/label_smoothing(smoothing=…)": "taylor/label_smoothing(smoothing=0.1)",
    "taylor/gce(lam=…)": "taylor/gce(lam=0.7)",
    "taylor/poly1(poly=…)": "taylor/poly1(poly=1)",
    "logistic/bernoulli_focal(gamma=…)": "logistic/bernoulli_focal(gamma=2)",
    "spherical(epsilon=…)/focal(gamma=…)": "spherical(epsilon=0.5)/focal(gamma=2)",
    "spherical(epsilon=…)/gce(lam=…)": "spherical(epsilon=0.5)/gce(lam=0.7)",
    "tempered(t2=…)/bi_tempered(t1=…)": "tempered(t2=1.5)/bi_tempered(t1=0.5)",
}
"""The instance studied for each parameterised family: γ = 2 (Lin et al. 2017), ε = 0.5,
label smoothing 0.1 (Szegedy et al. 2016), λ = 0.7 (Zhang & Sabuncu 2018), ε = 1 for Poly-1
(Leng et al. 2022), t1 = 0.5, t2 = 1.5 (within Amid et al. 2019's ranges); β at its default 1."""


def instance_name(defn) -> str:
    """The pairing name studied for a ``PairingDefinition`` (:data:`INSTANCES`, else its
    family with defaults)."""
    return INSTANCES.get(defn.family, defn.family.replace("(beta=…)", ""))


@dataclasses.dataclass(frozen=True)
class Verdicts:
    """The five verdicts of one pairing instance; each ``*_evidence`` is its proof or
    counterexample in one line."""

    name: str
    delta: str
    delta_evidence: str
    convex: str
    convex_evidence: str
    convex_family: str
    convex_family_evidence: str
    proper: str
    proper_evidence: str
    natural: str
    natural_evidence: str
    gradient: str
    gradient_evidence: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def delta_verified(act, pen, delta: sp.Expr, values=None) -> tuple[str, str]:
    """``("verified", how)`` when the derived Δ_k agrees with the explicit derivative (exactly
    at q = 2 and 3 with ``values`` substituted, else at random points at 40 digits), else
    ``("different", where)``. See the module docstring."""
    from .concrete import explicit_delta, general_at, is_zero_rational, rationalize
    from .concrete import verify_at_random_points as at_points

    fixed = {s: sp.nsimplify(v) for s, v in dict(values or {}).items()}
    exact = True
    for n in (2, 3):
        for kk in range(1, n + 1):
            diff = (explicit_delta(act, pen, n, kk) - general_at(act, delta, n, kk)).subs(fixed)
            if not is_zero_rational(rationalize(diff, n)):
                exact = False
                break
        if not exact:
            break
    if exact:
        at = ", ".join(f"{s.name} = {v}" for s, v in fixed.items())
        return "verified", (
            "the derived general-q Δ_k minus sympy's derivative of the explicit ρ(f(z), t) "
            f"cancels to 0 exactly at q = 2 and q = 3, every k{f' ({at})' if at else ''}"
        )
    if at_points(act, pen, delta, 2) and at_points(act, pen, delta, 3):
        return "verified (numerically)", (
            "no exact cancellation (symbolic or fractional powers); the derived Δ_k and the "
            "explicit derivative agree to 1e-25 at 3 random rational points (parameters drawn "
            "in their domains) at q = 2 and q = 3, every k, at 40 digits: evidence, not a proof"
        )
    return "different", (
        "the derived Δ_k and sympy's derivative of the explicit composition differ at a "
        "random rational point (q = 2 or 3, 40 digits)"
    )


def verdicts(pairing) -> Verdicts:
    """The five verdicts of a ``jaxsoftmax`` pairing that comes from a definition."""
    from .natural import gradient_field
    from .proper import properness
    from .symbols import k, t, zs
    from .verdicts import compare

    defn = pairing.definition
    if defn is None:
        raise TypeError(f"{pairing.name} has no symbolic definition (registered by hand)")
    act, pen = defn.symbols()
    symbols = {p.name: p.symbol for p in (*defn.activation_params, *defn.penalty_params)}
    values = {symbols[n]: sp.Rational(repr(v)) for n, v in dict(pairing.params).items()}
    derived = pairing.derivation().delta
    if act.implicit:
        d_kind, d_evidence = (
            "not decided",
            (
                "the activation has no closed form in the logits (its normaliser is the implicit "
                "root of Σ_j z*_j = 1), so there is no explicit ρ(f(z), t) to differentiate; Δ_k "
                "comes from the Jacobian by implicit differentiation and is checked against "
                "jax.grad and finite differences in float64 (tests)"
            ),
        )
    else:
        d_kind, d_evidence = delta_verified(act, pen, derived, values)
    # An implicit activation is compared on free outputs on the simplex: every interior
    # point z* is its image (the tempered softmax of z = log_t2(z*), normaliser 0).
    nat = compare(
        zs[k] - t[k],
        derived.subs(values),
        act.identities,
        activation=None if act.implicit else act,
    )
    inst, fam = pairing.convexity(), pairing.family_convexity()
    prop = properness(act, pen, values)
    grad = gradient_field(act)
    return Verdicts(
        name=pairing.name,
        delta=d_kind,
        delta_evidence=d_evidence,
        convex=inst.kind,
        convex_evidence=inst.evidence,
        convex_family=fam.kind,
        convex_family_evidence=fam.evidence,
        proper=prop.kind,
        proper_evidence=prop.evidence,
        natural=nat.summary,
        natural_evidence=nat.evidence or nat.summary,
        gradient=grad.kind,
        gradient_evidence=grad.evidence,
    )


@functools.cache
def all_verdicts() -> tuple[Verdicts, ...]:
    """:func:`verdicts` of every built-in definition's instance, in registration order."""
    import jaxsoftmax as js
    from jaxsoftmax.pairings import builtin_definitions

    return tuple(verdicts(js.get_pairing(instance_name(d))) for d in builtin_definitions())
