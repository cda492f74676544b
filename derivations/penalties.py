r"""The penalty functions ρ(z*, t) of Dunne & Campbell (1997) as sympy sums over q classes.

Per observation (the paper's Σ_n is left out, as in ``jaxsoftmax.penalties``):

* least squares   ρ_l = Σ_j ½ (t_j − z*_j)²                              (section 1)
* cross-entropy   ρ_c = Σ_j t_j log(t_j / z*_j)                           (section 1)
* Bernoulli CE    ρ_b = Σ_j [t_j log(t_j/z*_j) + (1 − t_j) log((1 − t_j)/(1 − z*_j))]
                                                          (section 4: t_j modelled as Bernoulli)

and, beyond the paper,

* focal loss      ρ_f = −Σ_j t_j (1 − z*_j)^γ log z*_j, γ ≥ 0
                  (Lin, Goyal, Girshick, He & Dollár 2017, "Focal loss for dense object
                  detection", eq. 4, with the one-hot p_t generalised to soft targets t_j;
                  γ = 0 is ρ_c without its constant Σ t log t).

The targets need not sum to one: ρ_c is exactly the paper's definition, not a KL divergence.
:meth:`Penalty.grad` differentiates the general-q sum with sympy, so ∂ρ/∂z*_j is derived, not
stated.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence

import sympy as sp

from .algebra import class_sum, tidy
from .parameters import GAMMA, LAM, POLY, SMOOTHING, T1, Parameter
from .symbols import i, q, t, zs

__all__ = [
    "BERNOULLI_CROSS_ENTROPY",
    "BERNOULLI_FOCAL",
    "BI_TEMPERED",
    "CROSS_ENTROPY",
    "FOCAL",
    "GAMMA",
    "GCE",
    "LABEL_SMOOTHING",
    "LEAST_SQUARES",
    "PENALTIES",
    "POLY1",
    "Penalty",
    "define_penalty",
]


@dataclasses.dataclass(frozen=True)
class Penalty:
    """A penalty ρ = Σ_j term(z*_j, t_j) over a general number of classes.

    Attributes:
      name: the name used by ``jaxsoftmax.pairings``.
      term: (z*_j, t_j) ↦ the class-j term of ρ.
      latex: ρ in LaTeX.
      source: the paper's section that defines it.
      params: the parameters whose symbols appear in ``term`` (γ, ...).
    """

    name: str
    term: Callable[[sp.Expr, sp.Expr], sp.Expr]
    latex: str
    source: str
    params: tuple[Parameter, ...] = ()

    def rho(self) -> sp.Sum:
        """ρ = Σ_{i=1}^q term(z*_i, t_i), for general q."""
        return class_sum(self.term(zs[i], t[i]), i)

    def grad(self, m: sp.Expr) -> sp.Expr:
        """∂ρ/∂z*_m, by differentiating the general-q sum (the delta collapses Σ_i δ_im)."""
        return tidy(sp.diff(self.rho(), zs[m]))


LEAST_SQUARES = Penalty(
    name="least_squares",
    term=lambda o, y: sp.Rational(1, 2) * (y - o) ** 2,
    latex=r"\rho_l = \sum_j \tfrac12 (t_j - z^*_j)^2",
    source="Dunne & Campbell section 1",
)
"""ρ_l = Σ ½ (t − z*)², the paper's least-squares penalty (section 1)."""

CROSS_ENTROPY = Penalty(
    name="cross_entropy",
    term=lambda o, y: y * sp.log(y / o),
    latex=r"\rho_c = \sum_j t_j \log\frac{t_j}{z^*_j}",
    source="Dunne & Campbell section 1",
)
"""ρ_c = Σ t log(t / z*), the paper's cross-entropy penalty (section 1); Σ t need not be 1."""

BERNOULLI_CROSS_ENTROPY = Penalty(
    name="bernoulli_cross_entropy",
    term=lambda o, y: y * sp.log(y / o) + (1 - y) * sp.log((1 - y) / (1 - o)),
    latex=(
        r"\rho_b = \sum_j \Big[t_j \log\frac{t_j}{z^*_j}"
        r" + (1 - t_j)\log\frac{1 - t_j}{1 - z^*_j}\Big]"
    ),
    source="Dunne & Campbell section 4 (t_k modelled as a Bernoulli variable)",
)
"""ρ_b, the Bernoulli cross-entropy of the paper's section 4 (two-class CE per output unit)."""

PENALTIES: dict[str, Penalty] = {
    p.name: p for p in (LEAST_SQUARES, CROSS_ENTROPY, BERNOULLI_CROSS_ENTROPY)
}
"""The penalties of the paper."""

_G = GAMMA.symbol
FOCAL = Penalty(
    name="focal",
    term=lambda o, y: -y * (1 - o) ** _G * sp.log(o),
    latex=r"\rho_f = -\sum_j t_j (1 - z^*_j)^{\gamma} \log z^*_j",
    source=(
        "Lin, Goyal, Girshick, He & Dollár (2017), 'Focal loss for dense object detection', "
        "eq. (4), with soft targets t_j in place of the one-hot p_t"
    ),
    params=(GAMMA,),
)
"""ρ_f = −Σ t (1 − z*)^γ log z*, the focal loss of Lin et al. (2017, eq. 4), γ ≥ 0."""


def define_penalty(
    name: str,
    term: Callable[..., sp.Expr],
    *,
    params: Sequence[Parameter] = (),
    latex: str = "",
    source: str = "",
) -> Penalty:
    r"""A :class:`Penalty` ρ = Σ_j term(z*_j, t_j) from ``term(o, y, **params)``.

    ``term`` receives the class-j output and target (sympy expressions) and the symbols of the
    parameters it names in its signature, e.g. ``lambda o, y, gamma: -y*(1 - o)**gamma*log(o)``.
    """
    if not name.isidentifier():
        raise ValueError(f"a penalty name must be an identifier, got {name!r}")
    params = tuple(params)
    names = list(inspect.signature(term).parameters)[2:]
    symbols = {p.name: p.symbol for p in params if p.name in names}
    bound = (lambda o, y: term(o, y, **symbols)) if params else term
    return Penalty(
        name=name,
        term=bound,
        latex=latex or r"\rho = \sum_j " + sp.latex(bound(zs[i], t[i])),
        source=source,
        params=params,
    )


_EPS_LS = SMOOTHING.symbol
LABEL_SMOOTHING = Penalty(
    name="label_smoothing",
    term=lambda o, y: -((1 - _EPS_LS) * y + _EPS_LS / q) * sp.log(o),
    latex=r"\rho_s = -\sum_j \big((1 - \varepsilon) t_j + \tfrac{\varepsilon}{q}\big) \log z^*_j",
    source=(
        "Szegedy, Vanhoucke, Ioffe, Shlens & Wojna (2016), 'Rethinking the Inception "
        "architecture', section 7 (label-smoothing regularization), with soft targets t_j"
    ),
    params=(SMOOTHING,),
)
"""Cross-entropy against smoothed targets (1 − ε)t + ε/q (Szegedy et al. 2016, §7); the
constant Σ t log t of ρ_c is left out, so ρ_s ≥ 0 is not claimed."""

_LAM = LAM.symbol
GCE = Penalty(
    name="gce",
    term=lambda o, y: y * (1 - o**_LAM) / _LAM,
    latex=r"\rho_g = \sum_j t_j \frac{1 - (z^*_j)^{\lambda}}{\lambda}",
    source=(
        "Zhang & Sabuncu (2018), 'Generalized cross entropy loss for training deep neural "
        "networks with noisy labels', NeurIPS, eq. (6) (their q is λ here), soft targets"
    ),
    params=(LAM,),
)
"""The generalized cross-entropy Σ t (1 − z*^λ)/λ (Zhang & Sabuncu 2018, eq. 6): λ → 0 is
cross-entropy, λ = 1 the mean absolute error on the target class."""

_POLY = POLY.symbol
POLY1 = Penalty(
    name="poly1",
    term=lambda o, y: -y * sp.log(o) + _POLY * y * (1 - o),
    latex=r"\rho_p = \sum_j t_j\big(-\log z^*_j + \epsilon_1 (1 - z^*_j)\big)",
    source=(
        "Leng, Tan, Liu, Cubuk, Shi, Cheng, Anguelov & Tan (2022), 'PolyLoss', ICLR, eq. (3) "
        "(Poly-1), soft targets"
    ),
    params=(POLY,),
)
"""Poly-1: cross-entropy plus ε₁ Σ t (1 − z*) (Leng et al. 2022, eq. 3)."""

BERNOULLI_FOCAL = Penalty(
    name="bernoulli_focal",
    term=lambda o, y: -y * (1 - o) ** _G * sp.log(o) - (1 - y) * o**_G * sp.log(1 - o),
    latex=(
        r"\rho_{bf} = -\sum_j \big[t_j (1 - z^*_j)^{\gamma} \log z^*_j"
        r" + (1 - t_j) (z^*_j)^{\gamma} \log (1 - z^*_j)\big]"
    ),
    source=(
        "Lin, Goyal, Girshick, He & Dollár (2017), eq. (4)-(5): the sigmoid (per-unit) focal "
        "loss of RetinaNet, α-balancing left out, soft targets"
    ),
    params=(GAMMA,),
)
"""The per-unit (Bernoulli) focal loss of RetinaNet (Lin et al. 2017), for logistic outputs."""

_T1 = T1.symbol


def _log_t(x, t_):
    return (x ** (1 - t_) - 1) / (1 - t_)


BI_TEMPERED = Penalty(
    name="bi_tempered",
    term=lambda o, y: (
        y * _log_t(y, _T1) - y * _log_t(o, _T1) - (y ** (2 - _T1) - o ** (2 - _T1)) / (2 - _T1)
    ),
    latex=(
        r"\rho_{bt} = \sum_j \Big[t_j \log_{t_1} t_j - t_j \log_{t_1} z^*_j - "
        r"\frac{t_j^{2-t_1} - (z^*_j)^{2-t_1}}{2 - t_1}\Big],\ "
        r"\log_t x = \frac{x^{1-t} - 1}{1 - t}"
    ),
    source=(
        "Amid, Warmuth, Anil & Koren (2019), 'Robust bi-tempered logistic loss based on Bregman "
        "divergences', NeurIPS, eq. (11) (the Bregman divergence of the tempered logarithm), "
        "soft targets"
    ),
    params=(T1,),
)
"""The bi-tempered logistic loss's penalty (Amid et al. 2019, eq. 11), t1 ∈ [0, 1):
∂ρ/∂z*_j = (z*_j)^{−t1}(z*_j − t_j). At t1 = 1 (a limit: the expression is 0/0 there) it is
Σ [t log(t/z*) − t + z*]."""
