r"""The output activations z* = f_q(z) as sympy expressions over a general number of classes q.

Each :class:`Activation` carries two descriptions of itself:

* ``definition(m)``: z*_m in terms of the logits z (the source's formula), and
* ``jacobian(j, k)``: ∂z*_j/∂z_k written in the outputs z* and a Kronecker delta, the
  "derivative structure" that the chain rule of the paper's section 2 uses.

The structure is stated (with its source) and then checked against the definition by
:func:`jacobian_check`, which differentiates the definition with sympy for general q; so the
derivations of Δ_k never rely on an unchecked Jacobian. A user activation may leave the
structure out (``jacobian=None``): the Jacobian is then the derivative of the definition in the
logits, and Δ_k is written in z rather than in z*.

Parameters (the softmax's β, the spherical softmax's ε) are :class:`~.parameters.Parameter`
objects whose sympy symbols appear in the expressions; :func:`define_activation` builds an
activation from callables that take the parameters by keyword, as a user writes them.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import overload

import sympy as sp

from .algebra import canon, class_sum, is_zero
from .parameters import BETA, EPSILON, T2, Parameter
from .symbols import A, B, C, i, j, k, z, zs

__all__ = [
    "ACTIVATIONS",
    "BETA",
    "EPSILON",
    "L1",
    "LINEAR",
    "LOGISTIC",
    "SOFTMAX",
    "SOFTMAX_BETA",
    "SPHERICAL",
    "TAYLOR",
    "TEMPERED",
    "Activation",
    "define_activation",
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
      params: the parameters whose symbols appear in the expressions (β, ε, ...).
      logit_domain: where the logits may be sampled: ``"real"``, ``"positive"`` (z > 0) or
        ``"nonzero"`` (away from the kinks of |z|).
      unit_outputs: whether every output lies in (0, 1) (used by the convexity proofs).
      implicit: whether ``definition`` holds only with an implicitly defined normaliser (the
        tempered softmax's λ, the root of Σ_j z*_j = 1): then it cannot be evaluated at given
        logits, Δ and H come from the stated Jacobian alone, and checks that need explicit
        outputs (``concrete``, counterexample searches in the logits) do not apply.
    """

    name: str
    definition: Callable[[sp.Expr], sp.Expr]
    jacobian: Callable[[sp.Expr, sp.Expr], sp.Expr] | None
    identities: Mapping[sp.Expr, sp.Expr]
    auxiliary: Mapping[sp.Symbol, sp.Expr]
    latex: str
    source: str
    params: tuple[Parameter, ...] = ()
    logit_domain: str = "real"
    unit_outputs: bool = False
    implicit: bool = False

    @property
    def in_outputs(self) -> bool:
        """Whether Δ_k is written in the outputs z* (a stated Jacobian structure) or in z."""
        return self.jacobian is not None

    def jacobian_or_derived(self, a: sp.Expr, d: sp.Expr) -> sp.Expr:
        """∂z*_a/∂z_d: the stated structure, or the definition differentiated (in z)."""
        if self.jacobian is not None:
            return self.jacobian(a, d)
        return canon(sp.diff(self.definition(a), z[d]))

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
        params=(BETA,) if b == BETA.symbol else (),
        unit_outputs=True,
    )


LINEAR = Activation(
    name="linear",
    definition=lambda m: z[m],
    jacobian=lambda a, d: sp.KroneckerDelta(a, d),
    identities={},
    auxiliary={},
    latex=r"z^*_k = z_k",
    source="Dunne & Campbell section 2 (Bishop's linear output units)",
    logit_domain="positive",
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
    unit_outputs=True,
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
    logit_domain="nonzero",
    unit_outputs=True,
)
"""The L1 ("abs") normalisation z*_k = |z_k| / A with A = Σ_j |z_j|.

∂z*_j/∂z_k = (sgn z_k / A)(δ_jk − z*_j), away from z_k = 0.
"""

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (LINEAR, LOGISTIC, SOFTMAX, L1)}
"""The activations of the paper's Table 1 and the forum thread, at their defaults (β = 1)."""

SOFTMAX_BETA = softmax(BETA.symbol)
"""The softmax with a symbolic inverse temperature β (the tempered softmax of the article)."""

_EPS = EPSILON.symbol
SPHERICAL = Activation(
    name="spherical",
    definition=lambda m: (z[m] ** 2 + _EPS) / class_sum(z[i] ** 2 + _EPS, i),
    jacobian=lambda a, d: 2 * z[d] / B * (sp.KroneckerDelta(a, d) - zs[a]),
    identities={class_sum(zs[j]): 1},
    auxiliary={B: class_sum(z[i] ** 2 + _EPS, i)},
    latex=r"z^*_k = \frac{z_k^2 + \varepsilon}{B},\ B = \sum_j (z_j^2 + \varepsilon)",
    source=(
        "de Brébisson & Vincent (2016), 'An exploration of softmax alternatives belonging to "
        "the spherical loss family', ICLR, section 2.2 (spherical softmax); Jacobian derived here"
    ),
    params=(EPSILON,),
    unit_outputs=True,
)
"""The spherical softmax z*_k = (z_k² + ε) / Σ_j (z_j² + ε), ε > 0 (de Brébisson & Vincent 2016).

∂z*_j/∂z_k = (2 z_k / B)(δ_jk − z*_j) with B = Σ_i (z_i² + ε).
"""


TAYLOR = Activation(
    name="taylor",
    definition=lambda m: (1 + z[m] + z[m] ** 2 / 2) / class_sum(1 + z[i] + z[i] ** 2 / 2, i),
    jacobian=lambda a, d: (1 + z[d]) / C * (sp.KroneckerDelta(a, d) - zs[a]),
    identities={class_sum(zs[j]): 1},
    auxiliary={C: class_sum(1 + z[i] + z[i] ** 2 / 2, i)},
    latex=r"z^*_k = \frac{1 + z_k + z_k^2/2}{C},\ C = \sum_j (1 + z_j + z_j^2/2)",
    source=(
        "de Brébisson & Vincent (2016), 'An exploration of softmax alternatives belonging to "
        "the spherical loss family', ICLR, section 2.3 (Taylor softmax, second order); "
        "Jacobian derived here"
    ),
    unit_outputs=True,
)
"""The second-order Taylor softmax z*_k = (1 + z_k + z_k²/2) / Σ_j (1 + z_j + z_j²/2).

1 + z + z²/2 = ((1 + z)² + 1)/2 > 0, so the outputs are positive for every real z;
∂z*_j/∂z_k = ((1 + z_k)/C)(δ_jk − z*_j) with C = Σ_i (1 + z_i + z_i²/2).
"""


_T2 = T2.symbol
NORMALISER = sp.Symbol("lambda_t2", real=True)
"""The tempered softmax's normaliser λ_{t2}(z): the root of Σ_j exp_{t2}(z_j − λ) = 1, with no
closed form for t2 ≠ 1 (Amid et al. 2019, section 3)."""

TEMPERED = Activation(
    name="tempered",
    definition=lambda m: (1 + (1 - _T2) * (z[m] - NORMALISER)) ** (1 / (1 - _T2)),
    # Implicit differentiation of Σ_j z*_j = 1 with ∂exp_t(x)/∂x = exp_t(x)^t:
    # ∂z*_j/∂z_k = z*_j^t (δ_jk − ∂λ/∂z_k) and ∂λ/∂z_k = z*_k^t / Σ_i z*_i^t.
    jacobian=lambda a, d: (
        zs[a] ** _T2 * (sp.KroneckerDelta(a, d) - zs[d] ** _T2 / class_sum(zs[i] ** _T2, i))
    ),
    identities={class_sum(zs[j]): 1},
    auxiliary={},
    latex=(
        r"z^*_k = \exp_{t_2}(z_k - \lambda_{t_2}(z)),\ \sum_j z^*_j = 1,\ "
        r"\exp_t x = [1 + (1 - t)x]_+^{1/(1-t)}"
    ),
    source=(
        "Amid, Warmuth, Anil & Koren (2019), 'Robust bi-tempered logistic loss based on Bregman "
        "divergences', NeurIPS, eq. (8) (tempered softmax); Jacobian by implicit "
        "differentiation of the normalisation, as in their code's gradient"
    ),
    params=(T2,),
    unit_outputs=True,
    implicit=True,
)
"""The tempered softmax z*_k = exp_{t2}(z_k − λ_{t2}(z)) (Amid et al. 2019, eq. 8), t2 ≥ 1.

∂z*_j/∂z_k = z*_j^{t2}(δ_jk − z*_k^{t2}/Σ_i z*_i^{t2}) (symmetric: a gradient field). The
definition holds only with λ the implicit root of Σ_j z*_j = 1 (``implicit``): no closed
form, so the Jacobian cannot be checked by differentiating it symbolically; it is checked
against ``jax.jacobian`` of the fixed-point iteration in ``tests/test_tempered.py``.
"""


@overload
def _bind(fn: Callable, params: Sequence[Parameter], fixed: int) -> Callable: ...
@overload
def _bind(fn: None, params: Sequence[Parameter], fixed: int) -> None: ...
def _bind(fn: Callable | None, params: Sequence[Parameter], fixed: int) -> Callable | None:
    """``fn`` with each parameter's symbol passed by keyword (after ``fixed`` positionals)."""
    if fn is None or not params:
        return fn
    names = list(inspect.signature(fn).parameters)[fixed:]
    symbols = {p.name: p.symbol for p in params if p.name in names}
    return lambda *args: fn(*args, **symbols)


def define_activation(
    name: str,
    definition: Callable[..., sp.Expr],
    *,
    params: Sequence[Parameter] = (),
    jacobian: Callable[..., sp.Expr] | None = None,
    identities: Mapping[sp.Expr, sp.Expr] | None = None,
    auxiliary: Mapping[sp.Symbol, sp.Expr] | None = None,
    latex: str = "",
    source: str = "",
    logit_domain: str = "real",
    unit_outputs: bool = False,
) -> Activation:
    r"""An :class:`Activation` from callables that take the parameters by keyword.

    Args:
      name: the activation's name in pairing names (an identifier).
      definition: ``(m, **params) -> z*_m``, a sympy expression in the logits ``z[·]``
        (``derivations.symbols.z``) and sums over classes (``derivations.class_sum``).
      params: the parameters, in any order; each callable receives the symbols of those it
        names in its signature.
      jacobian: optional ``(a, d, **params) -> ∂z*_a/∂z_d`` written in the outputs ``zs[·]``;
        checked against the definition (:func:`jacobian_check`). Without it, Δ_k is derived
        and evaluated in the logits.
      identities, auxiliary, latex, source, logit_domain, unit_outputs: as in
        :class:`Activation`. Σ_j z*_j = 1 is added to ``identities`` when the definition is
        normalised (checked by sympy).
    """
    if not name.isidentifier():
        raise ValueError(f"an activation name must be an identifier, got {name!r}")
    params = tuple(params)
    defn = _bind(definition, params, 1)
    idents = dict(identities or {})
    if class_sum(zs[j]) not in idents and is_zero(class_sum(defn(j)) - 1):
        idents[class_sum(zs[j])] = 1
    return Activation(
        name=name,
        definition=defn,
        jacobian=_bind(jacobian, params, 2),
        identities=idents,
        auxiliary=dict(auxiliary or {}),
        latex=latex or f"z^*_k = {sp.latex(defn(k))}",
        source=source,
        params=params,
        logit_domain=logit_domain,
        unit_outputs=unit_outputs,
    )


def jacobian_check(act: Activation) -> tuple[sp.Expr, sp.Expr, bool]:
    """Differentiates ``act.definition(j)`` by z_k for general q and compares with the structure.

    Returns:
      ``(derived, stated, equal)``: the canonical ∂z*_j/∂z_k from the definition, the stated
      Jacobian written in z, and whether they agree identically (exact, for every q).
    """
    derived = canon(sp.diff(act.definition(j), z[k]))
    if act.jacobian is None:
        return derived, derived, True
    stated = canon(act.to_logits(act.jacobian(j, k)))
    return derived, stated, is_zero(derived - stated)
