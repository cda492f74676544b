r"""Table 1 of Dunne & Campbell (1997), derived for general q and checked against the print.

The derivation is the paper's section 2 chain rule, for every activation × penalty pairing of
``jaxsoftmax.pairings``:

.. math::
    \Delta_k = \frac{\partial\rho}{\partial z_k}
             = \sum_{j=1}^{q} \frac{\partial\rho}{\partial z^*_j}\,
               \frac{\partial z^*_j}{\partial z_k}

with ∂ρ/∂z*_j from differentiating the penalty's general-q sum (:mod:`.penalties`) and
∂z*_j/∂z_k the activation's Jacobian structure (:mod:`.activations`, itself checked against
the definition). The sum is collapsed and put into canonical form by :mod:`.algebra`; the result
is written in z*_k, t_k and sums over classes, as the paper writes its cells.

:data:`PRINTED_TABLE1` transcribes the cells of the paper's Table 1 as printed (the softmax /
least-squares cell both as extracted, a fraction, and as its most plausible intended layout);
:func:`check_printed` lets sympy decide each one (:mod:`.verdicts`).
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from .activations import ACTIVATIONS, Activation
from .algebra import canon, class_sum, tidy
from .penalties import PENALTIES, Penalty
from .symbols import j, k, q, t, z, zs
from .verdicts import Verdict, compare

__all__ = [
    "PAIRINGS",
    "PRINTED_TABLE1",
    "Derivation",
    "PrintedCell",
    "check_printed",
    "derivation",
    "derive",
    "derive_all",
    "printed_verdicts",
]

PAIRINGS: tuple[tuple[str, str], ...] = (
    ("linear", "least_squares"),
    ("linear", "cross_entropy"),
    ("logistic", "least_squares"),
    ("logistic", "cross_entropy"),
    ("logistic", "bernoulli_cross_entropy"),
    ("softmax", "least_squares"),
    ("softmax", "cross_entropy"),
    ("l1", "least_squares"),
    ("l1", "cross_entropy"),
)
"""The activation × penalty pairings of ``jaxsoftmax.pairings.list_pairings()``, in its order."""


@dataclasses.dataclass(frozen=True)
class Derivation:
    """Δ_k = ∂ρ/∂z_k for one pairing, for general q.

    Attributes:
      activation, penalty: the symbolic pair.
      dloss: ∂ρ/∂z*_j, derived from the penalty's sum.
      jacobian: ∂z*_j/∂z_k, the activation's (checked) structure.
      chain: Σ_j (∂ρ/∂z*_j)(∂z*_j/∂z_k), before any simplification.
      delta: Δ_k in its display form (canonical, factored, sums merged).
    """

    activation: Activation
    penalty: Penalty
    dloss: sp.Expr
    jacobian: sp.Expr
    chain: sp.Expr
    delta: sp.Expr

    @property
    def name(self) -> str:
        """``"activation/penalty"``, as ``jaxsoftmax.Pairing.name``."""
        return f"{self.activation.name}/{self.penalty.name}"

    @property
    def display(self) -> sp.Expr:
        """Δ_k for display: for the linear activation z* = z, so it is written in z."""
        if self.activation.name == "linear":
            return self.delta.subs(zs[k], z[k])
        return self.delta

    @property
    def in_logits(self) -> sp.Expr:
        """Δ_k with every output z*_j (and A) written in the logits z: a function of (z, t)."""
        return self.activation.to_logits(self.delta)


def derive(activation: str | Activation, penalty: str | Penalty) -> Derivation:
    """Derives Δ_k for one pairing by the chain rule of the paper's section 2 (general q)."""
    act = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    pen = PENALTIES[penalty] if isinstance(penalty, str) else penalty
    dloss = pen.grad(j)
    jac = act.jacobian_or_derived(j, k)
    chain = class_sum(dloss * jac)
    return Derivation(act, pen, dloss, jac, chain, tidy(chain, act.identities))


@functools.cache
def derive_all() -> tuple[Derivation, ...]:
    """Every pairing of :data:`PAIRINGS`, derived (cached: sympy objects are immutable)."""
    return tuple(derive(a, p) for a, p in PAIRINGS)


def derivation(name: str) -> Derivation:
    """The derivation of the pairing ``"activation/penalty"``."""
    for d in derive_all():
        if d.name == name:
            return d
    raise ValueError(f"unknown pairing {name!r}; known: {', '.join(d.name for d in derive_all())}")


# --------------------------------------------------------------------------------------------
# The paper's Table 1 as printed
# --------------------------------------------------------------------------------------------

k1 = sp.Symbol("k_1", integer=True, positive=True)
"""The paper's summation index k_1 in Table 1 (renamed to j by the canonical form)."""


def _sum_k1(expr: sp.Expr) -> sp.Sum:
    return sp.Sum(expr, (k1, 1, q))


@dataclasses.dataclass(frozen=True)
class PrintedCell:
    """One cell of the paper's Table 1, transcribed (data, not a verdict).

    Attributes:
      activation, penalty: the row and column (penalty names as in ``jaxsoftmax``).
      reading: how the printed text is read: ``"as printed"``, ``"as extracted"``,
        ``"intended layout"``, or ``"hypothesis"`` (a correction of ours, not printed).
      latex: the cell's text as printed (for the reading).
      expr: the same, as a sympy expression over general q.
      note: why this reading.
    """

    activation: str
    penalty: str
    reading: str
    latex: str
    expr: sp.Expr
    note: str = ""

    @property
    def name(self) -> str:
        """``"activation/penalty"``."""
        return f"{self.activation}/{self.penalty}"


_SOFTMAX_LS_SUM = _sum_k1(t[k1] * zs[k1] - zs[k1] ** 2)
_SOFTMAX_LS_NUM = zs[k] ** 2 - t[k] * zs[k] - zs[k] * _SOFTMAX_LS_SUM

PRINTED_TABLE1: tuple[PrintedCell, ...] = (
    PrintedCell(
        "logistic",
        "least_squares",
        "as printed",
        r"(z_k^* - t_k)(z_k^* - (z_k^*)^2)",
        (zs[k] - t[k]) * (zs[k] - zs[k] ** 2),
    ),
    PrintedCell(
        "logistic",
        "cross_entropy",
        "as printed",
        r"z_k^* - t_k",
        zs[k] - t[k],
        "also the paper's section 2 claim that logistic with the multi-class ρ_c gives the "
        "same Δ_k as softmax",
    ),
    PrintedCell(
        "softmax",
        "least_squares",
        "as extracted",
        r"\frac{(z_k^*)^2 - t_k z_k^* - z_k^*(\sum_{k_1} t_{k_1} z_{k_1}^* - (z_{k_1}^*)^2)}"
        r"{z_k^*(\sum_{k_1} t_{k_1} z_{k_1}^* - (z_{k_1}^*)^2)}",
        _SOFTMAX_LS_NUM / (zs[k] * _SOFTMAX_LS_SUM),
        "the extraction laid the cell out as a fraction whose denominator repeats the last "
        "term of its numerator",
    ),
    PrintedCell(
        "softmax",
        "least_squares",
        "intended layout",
        r"(z_k^*)^2 - t_k z_k^* - z_k^*\sum_{k_1} (t_{k_1} z_{k_1}^* - (z_{k_1}^*)^2)",
        _SOFTMAX_LS_NUM,
        "the numerator alone, read as one expression broken over two lines, the sum running "
        "over (t z* − z*²)",
    ),
    PrintedCell(
        "softmax",
        "least_squares",
        "hypothesis",
        r"(z_k^*)^2 - t_k z_k^* + z_k^*\sum_{k_1} (t_{k_1} z_{k_1}^* - (z_{k_1}^*)^2)",
        zs[k] ** 2 - t[k] * zs[k] + zs[k] * _SOFTMAX_LS_SUM,
        "not printed: the intended layout with the sign of the sum flipped, to test whether "
        "that sign is the only discrepancy",
    ),
    PrintedCell(
        "softmax",
        "cross_entropy",
        "as printed",
        r"z_k^* - t_k",
        zs[k] - t[k],
        "Bishop's form of the paper's eq. (1), which the paper derives as (Σ t) z*_k − t_k",
    ),
)
"""The cells of the paper's Table 1 (Δ_k for logistic/softmax × least squares/cross-entropy),
transcribed as printed, with the readings of the one cell that extraction garbled."""


def check_printed(cell: PrintedCell) -> Verdict:
    """Compares a printed cell with the derived Δ_k of its pairing (sympy decides)."""
    d = derive(cell.activation, cell.penalty)
    return compare(canon(cell.expr), d.delta, d.activation.identities, activation=d.activation)


@functools.cache
def printed_verdicts() -> tuple[tuple[PrintedCell, Verdict], ...]:
    """Every cell of :data:`PRINTED_TABLE1` with its verdict."""
    return tuple((cell, check_printed(cell)) for cell in PRINTED_TABLE1)
