r"""Named scalar parameters of activations and penalties (β, γ, ε): domain, default, validation.

Pure Python, importing neither sympy nor JAX, so ``jaxsoftmax`` can parse and validate pairing
names (``"softmax(beta=2)/focal(gamma=0.5)"``) without paying for the symbolic machinery. The
sympy symbol of a parameter (:attr:`Parameter.symbol`) carries its domain as sympy assumptions,
so a derivation for a symbolic γ ≥ 0 uses exactly what the JAX side validates.

Domains (each value must also be finite):

* ``"real"``         any real number;
* ``"positive"``     > 0 (e.g. the ε of the spherical softmax, de Brébisson & Vincent 2016);
* ``"nonnegative"``  ≥ 0 (e.g. the focusing parameter γ of the focal loss, Lin et al. 2017);
* ``"nonzero"``      ≠ 0 (e.g. the inverse temperature β of the softmax, the *Softmax function*
  article: β → ±∞ gives arg max / arg min, β = 0 a constant output).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

__all__ = [
    "BETA",
    "DOMAINS",
    "EPSILON",
    "GAMMA",
    "LAM",
    "POLY",
    "SMOOTHING",
    "T1",
    "T2",
    "Parameter",
]

DOMAINS: dict[str, str] = {
    "real": "a finite real number",
    "positive": "a finite number > 0",
    "nonnegative": "a finite number ≥ 0",
    "nonzero": "a finite number ≠ 0",
    "unit": "a finite number in [0, 1]",
    "at_least_one": "a finite number in [1, 10]",
}
"""Each parameter domain and how an error message describes it."""

_ASSUMPTIONS = {
    "real": {"real": True},
    "positive": {"positive": True},
    "nonnegative": {"nonnegative": True},
    "nonzero": {"real": True, "nonzero": True},
    "unit": {"nonnegative": True},  # sympy has no upper bound: the symbolic side sees t ≥ 0
    "at_least_one": {"positive": True},
}


def _inside(domain: str, x: float) -> bool:
    return {
        "real": True,
        "positive": x > 0,
        "nonnegative": x >= 0,
        "nonzero": x != 0,
        "unit": 0 <= x <= 1,
        "at_least_one": 1 <= x <= 10,
    }[domain]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A named real parameter of an activation or a penalty.

    Attributes:
      name: a Python identifier (``"beta"``, ``"gamma"``, ``"epsilon"``); the keyword in
        pairing names and in the JAX functions.
      domain: one of :data:`DOMAINS`.
      default: the value used when a pairing name omits the parameter; ``None`` makes it
        required. A canonical pairing name omits parameters at their default.
      doc: what the parameter means, with its source.
    """

    name: str
    domain: str = "real"
    default: float | None = None
    doc: str = ""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"a parameter name must be an identifier, got {self.name!r}")
        if self.domain not in DOMAINS:
            raise ValueError(
                f"parameter {self.name}: unknown domain {self.domain!r}; "
                f"known: {', '.join(DOMAINS)}"
            )
        if self.default is not None:
            object.__setattr__(self, "default", self.validate(self.default, "default of"))

    def validate(self, value: object, where: str = "") -> float:
        """``value`` as a float, or a ``ValueError`` naming the parameter, the value and the
        domain (``where`` prefixes the message, e.g. the pairing's name)."""
        prefix = f"{where} " if where else ""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            try:  # numpy / JAX scalars
                value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(
                    f"{prefix}parameter {self.name}={value!r} is not a number; "
                    f"{self.name} must be {DOMAINS[self.domain]}"
                ) from None
        x = float(value)
        if not math.isfinite(x) or not _inside(self.domain, x):
            raise ValueError(
                f"{prefix}parameter {self.name}={value!r} is not allowed; "
                f"{self.name} must be {DOMAINS[self.domain]}"
            )
        return 0.0 if x == 0 else x  # −0.0 and 0.0 are one value

    @property
    def symbol(self):
        """The sympy symbol of the parameter, with its domain as assumptions (imports sympy)."""
        import sympy as sp

        return sp.Symbol(self.name, **_ASSUMPTIONS[self.domain])


# The parameters of the built-in definitions (sympy-free, so jaxsoftmax can validate names).

BETA = Parameter(
    "beta",
    "nonzero",
    default=1.0,
    doc="inverse temperature β of the softmax (the article's base e^β; β = 1 is the paper's f_q)",
)
"""The softmax's inverse temperature β ≠ 0, default 1 (the *Softmax function* article)."""

EPSILON = Parameter(
    "epsilon",
    "positive",
    doc="the ε > 0 of the spherical softmax (de Brébisson & Vincent 2016, section 2.2)",
)
"""The spherical softmax's ε > 0, required (de Brébisson & Vincent 2016)."""

GAMMA = Parameter(
    "gamma",
    "nonnegative",
    doc="the focusing parameter γ ≥ 0 of the focal loss (Lin et al. 2017, eq. 4)",
)
"""The focal loss's γ ≥ 0, required (Lin et al. 2017)."""

SMOOTHING = Parameter(
    "smoothing",
    "nonnegative",
    doc="the label-smoothing weight ε ≥ 0 (Szegedy et al. 2016, section 7): t ↦ (1 − ε)t + ε/q",
)
"""Label smoothing's ε ≥ 0, required (Szegedy, Vanhoucke, Ioffe, Shlens & Wojna 2016, §7)."""

LAM = Parameter(
    "lam",
    "positive",
    doc="the λ > 0 of the generalized cross-entropy (Zhang & Sabuncu 2018, eq. 6; they use 0.7)",
)
"""The generalized cross-entropy's λ > 0 (their q), required (Zhang & Sabuncu 2018)."""

POLY = Parameter(
    "poly",
    "real",
    doc="the ε₁ of the Poly-1 loss (Leng et al. 2022, eq. 3)",
)
"""The Poly-1 loss's ε₁ (Leng et al. 2022), required."""

T1 = Parameter(
    "t1",
    "unit",
    default=1.0,
    doc=(
        "the temperature t1 ∈ [0, 1] of the tempered logarithm in the bi-tempered loss "
        "(Amid et al. 2019, eq. 11; < 1 bounds the loss)"
    ),
)
T2 = Parameter(
    "t2",
    "at_least_one",
    default=1.0,
    doc=(
        "the temperature t2 ∈ [1, 10] of the tempered softmax (Amid et al. 2019, eq. 8; > 1 "
        "gives heavy tails; 1 is the softmax)"
    ),
)
