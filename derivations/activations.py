r"""The output activations z* = f_q(z) as sympy expressions over a general number of classes q.

Each :class:`Activation` carries two descriptions of itself:

* ``definition(m)``: z*_m in terms of the logits z (the source's formula), and
* ``jacobian(j, k)``: ∂z*_j/∂z_k written in the outputs z* and a Kronecker delta, the
  "derivative structure" that the chain rule of the paper's section 2 uses.

The structure is stated (with its source) and then checked against the definition by
:func:`jacobian_check`, which differentiates the definition with sympy for general q; so the
derivations of Δ_k never rely on an unchecked Jacobian.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import sympy as sp

from .algebra import canon, class_sum, is_zero
from .symbols import A, i, j, k, z, zs

__all__ = [
    "ACTIVATIONS",
    "L1",
    "LINEAR",
    "LOGISTIC",
    "SOFTMAX",
    "Activation",
    "jacobian_check",
    "softmax",
]


@dataclasses.dataclass(frozen=True)
class Activation:
    """An output activation f_q for general q.

    Attributes:
      name: the name used by ``jaxsoftmax.pairings`` (``"softmax"``, ...).
      definition: index m ↦ z*_m as an expression in the logits ``z``.
      jacobian: (j, k) ↦ ∂z*_j/∂z_k in terms of ``zs``, δ_jk and (for L1) sgn z_k and A.
      identities: substitutions the outputs always obey (Σ_j z*_j = 1 when normalised).
      auxiliary: the non-output atoms of the Jacobian and their definitions in z (A = Σ|z|).
      latex: the definition in LaTeX.
      source: where the definition and the Jacobian come from.
    """

    name: str
    definition: Callable[[sp.Expr], sp.Expr]
    jacobian: Callable[[sp.Expr, sp.Expr], sp.Expr]
    identities: Mapping[sp.Expr, sp.Expr]
    auxiliary: Mapping[sp.Symbol, sp.Expr]
    latex: str
    source: str

    def to_logits(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every output z*_m (and auxiliary atom such as A) written in z."""
        expr = expr.replace(
            lambda x: isinstance(x, sp.Indexed) and x.base == zs,
            lambda x: self.definition(x.indices[0]),
        )
        return expr.subs(dict(self.auxiliary))


def softmax(b: sp.Expr = 1) -> Activation:
    r"""The softmax with inverse temperature β: z*_m = e^{β z_m} / Σ_i e^{β z_i}.

    Source: the article's definition with base e^β (Dunne & Campbell's f_q is β = 1). Jacobian
    ∂z*_j/∂z_k = β z*_j(δ_jk − z*_k): the article's σ_i(δ_ij − σ_j) ("multiplied by β" when
    scaled), and the factor z*_{k1}δ_{k,k1} − z*_k z*_{k1} of the paper's eq. (1).
    """
    return Activation(
        name="softmax",
        definition=lambda m: sp.exp(b * z[m]) / class_sum(sp.exp(b * z[i]), i),
        jacobian=lambda a, d: b * zs[a] * (sp.KroneckerDelta(a, d) - zs[d]),
        identities={class_sum(zs[j]): 1},
        auxiliary={},
        latex=(
            r"z^*_k = \frac{e^{\beta z_k}}{\sum_j e^{\beta z_j}}"
            if b != 1
            else r"z^*_k = \frac{e^{z_k}}{\sum_j e^{z_j}}"
        ),
        source="the article (definition, Jacobian); Dunne & Campbell section 1 and eq. (1)",
    )


LINEAR = Activation(
    name="linear",
    definition=lambda m: z[m],
    jacobian=lambda a, d: sp.KroneckerDelta(a, d),
    identities={},
    auxiliary={},
    latex=r"z^*_k = z_k",
    source="Dunne & Campbell section 2 (Bishop's linear output units)",
)
"""The identity output activation z*_k = z_k; ∂z*_j/∂z_k = δ_jk."""

LOGISTIC = Activation(
    name="logistic",
    definition=lambda m: 1 / (1 + sp.exp(-z[m])),
    jacobian=lambda a, d: sp.KroneckerDelta(a, d) * zs[a] * (1 - zs[a]),
    identities={},
    auxiliary={},
    latex=r"z^*_k = \frac{1}{1 + e^{-z_k}}",
    source=(
        "Dunne & Campbell section 1 (f_1 on each output) and section 2 "
        "(∂z*_{k1}/∂z_k = 0 for k1 ≠ k, ∂z*_k/∂z_k = z*_k − (z*_k)^2)"
    ),
)
"""The logistic applied to each output unit; ∂z*_j/∂z_k = δ_jk z*_j (1 − z*_j)."""

SOFTMAX = softmax()
"""The softmax at β = 1, the paper's f_q."""

L1 = Activation(
    name="l1",
    definition=lambda m: sp.Abs(z[m]) / class_sum(sp.Abs(z[i]), i),
    jacobian=lambda a, d: sp.sign(z[d]) / A * (sp.KroneckerDelta(a, d) - zs[a]),
    identities={class_sum(zs[j]): 1},
    auxiliary={A: class_sum(sp.Abs(z[i]), i)},
    latex=r"z^*_k = \frac{|z_k|}{A},\ A = \sum_j |z_j|",
    source="the forum thread (seed 000): abs(x_i) / Σ abs(x); Jacobian derived here",
)
"""The L1 ("abs") normalisation z*_k = |z_k| / A with A = Σ_j |z_j|.

∂z*_j/∂z_k = (sgn z_k / A)(δ_jk − z*_j), away from z_k = 0.
"""

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (LINEAR, LOGISTIC, SOFTMAX, L1)}


def jacobian_check(act: Activation) -> tuple[sp.Expr, sp.Expr, bool]:
    """Differentiates ``act.definition(j)`` by z_k for general q and compares with the structure.

    Returns:
      ``(derived, stated, equal)``: the canonical ∂z*_j/∂z_k from the definition, the stated
      Jacobian written in z, and whether they agree identically (exact, for every q).
    """
    derived = canon(sp.diff(act.definition(j), z[k]))
    stated = canon(act.to_logits(act.jacobian(j, k)))
    return derived, stated, is_zero(derived - stated)
