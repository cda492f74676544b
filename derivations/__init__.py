"""derivations: the symbolic side of jaxsoftmax (sympy only; JAX is imported lazily).

Softmax, logistic, linear and L1 activations and the paper's penalties as sympy expressions
over a general number of classes q; Δ_k = ∂ρ/∂z_k for every pairing (Dunne & Campbell 1997,
Table 1), derived and compared with the printed table; the seeds' other claims checked; the
Markdown/LaTeX report; and the translation of each Δ_k into a JAX function for cross-checks.
"""

import pathlib

from .activations import ACTIVATIONS as ACTIVATIONS
from .activations import Activation as Activation
from .activations import jacobian_check as jacobian_check
from .activations import softmax as softmax
from .claims import Claim as Claim
from .claims import all_claims as all_claims
from .claims import natural_pairing as natural_pairing
from .concrete import verify_at as verify_at
from .concrete import verify_at_random_points as verify_at_random_points
from .penalties import PENALTIES as PENALTIES
from .penalties import Penalty as Penalty
from .render import latex as latex
from .render import markdown as markdown
from .render import text_report as text_report
from .table1 import PAIRINGS as PAIRINGS
from .table1 import PRINTED_TABLE1 as PRINTED_TABLE1
from .table1 import Derivation as Derivation
from .table1 import PrintedCell as PrintedCell
from .table1 import check_printed as check_printed
from .table1 import derivation as derivation
from .table1 import derive as derive
from .table1 import derive_all as derive_all
from .table1 import printed_verdicts as printed_verdicts
from .to_jax import jax_delta as jax_delta
from .to_jax import to_jax as to_jax
from .verdicts import Verdict as Verdict
from .verdicts import compare as compare

TABLE1_PATH = pathlib.Path(__file__).with_name("TABLE1.md")
"""Where ``python -m derivations`` writes the Markdown table by default (checked in)."""
