r"""Pairings beyond the paper, defined once here and registered in ``jaxsoftmax`` from these
definitions (no hand-written Δ anywhere).

* tempered softmax × cross-entropy: softmax(β) (the *Softmax function* article's inverse
  temperature) with the paper's ρ_c; Δ_k = β((Σ_j t_j) z*_k − t_k).
* softmax(β) × focal loss (γ ≥ 0): Lin, Goyal, Girshick, He & Dollár (2017), eq. (4), with
  soft targets.
* spherical softmax (ε > 0) × least squares and × cross-entropy: de Brébisson & Vincent
  (2016), section 2.2.
"""

from __future__ import annotations

import dataclasses

from .activations import SOFTMAX_BETA, SPHERICAL, Activation
from .penalties import CROSS_ENTROPY, FOCAL, LEAST_SQUARES, Penalty

__all__ = ["BEYOND_PAPER", "SymbolicPairing"]


@dataclasses.dataclass(frozen=True)
class SymbolicPairing:
    """An activation × penalty with a title and its source, for the report."""

    title: str
    activation: Activation
    penalty: Penalty
    source: str

    @property
    def label(self) -> str:
        """``softmax(beta)/focal(gamma)``: the name with its symbolic parameters."""

        def side(name, params):
            return f"{name}({', '.join(p.name for p in params)})" if params else name

        return (
            f"{side(self.activation.name, self.activation.params)}/"
            f"{side(self.penalty.name, self.penalty.params)}"
        )


BEYOND_PAPER: tuple[SymbolicPairing, ...] = (
    SymbolicPairing(
        "tempered softmax × cross-entropy",
        SOFTMAX_BETA,
        CROSS_ENTROPY,
        "the Softmax function article (inverse temperature β); Dunne & Campbell section 1 (ρ_c)",
    ),
    SymbolicPairing("softmax × focal loss", SOFTMAX_BETA, FOCAL, FOCAL.source),
    SymbolicPairing(
        "spherical softmax × least squares", SPHERICAL, LEAST_SQUARES, SPHERICAL.source
    ),
    SymbolicPairing(
        "spherical softmax × cross-entropy", SPHERICAL, CROSS_ENTROPY, SPHERICAL.source
    ),
)
"""The pairings beyond the paper, each with symbolic parameters."""
