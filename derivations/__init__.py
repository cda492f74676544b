"""jaxsoftmax.derivations: the symbolic side of jaxsoftmax (sympy only; JAX imported lazily).

Installed as ``jaxsoftmax.derivations`` (the repository folder is ``derivations/``; a
checkout reaches it through the link ``jaxsoftmax/derivations``). Up to 0.1.0 it was the
top-level package ``derivations``: ``import jaxsoftmax.derivations as derivations`` replaces
``import derivations``, and ``python -m jaxsoftmax.derivations`` (or ``jaxsoftmax derive``)
replaces ``python -m derivations``.

Softmax, logistic, linear, L1 and spherical activations and the paper's penalties (and the
focal loss) as sympy expressions over a general number of classes q, with named parameters;
Δ_k = ∂ρ/∂z_k for every pairing (Dunne & Campbell 1997, Table 1), derived and compared with
the printed table by three-valued verdicts (a proof, a counterexample, or not decided); the
Hessian in the logits and a convexity verdict; the seeds' other claims checked; the
Markdown/LaTeX report; and the translation of each formula into JAX.

The public names below are loaded on first access (PEP 562), so importing the package (and
its ``parameters``, which ``jaxsoftmax`` uses to validate pairing names) costs no sympy
import; ``from jaxsoftmax.derivations import X`` loads X's submodule on first use.
"""

import importlib
import pathlib
import sys
import types

TABLE1_PATH = pathlib.Path(__file__).with_name("TABLE1.md")
"""The checked-in Markdown report; written only by
``python -m jaxsoftmax.derivations --write-table1``."""

_EXPORTS = {
    "ACTIVATIONS": "activations",
    "Activation": "activations",
    "define_activation": "activations",
    "jacobian_check": "activations",
    "softmax": "activations",
    "Claim": "claims",
    "all_claims": "claims",
    "natural_pairing": "claims",
    "verify_at": "concrete",
    "verify_at_random_points": "concrete",
    "Convexity": "hessian",
    "Hessian": "hessian",
    "convexity": "hessian",
    "hessian": "hessian",
    "class_sum": "algebra",
    "Parameter": "parameters",
    "PENALTIES": "penalties",
    "Penalty": "penalties",
    "define_penalty": "penalties",
    "latex": "printing",
    "markdown": "render",
    "text": "printing",
    "text_report": "render",
    "pairing_report": "render",
    "PAIRINGS": "table1",
    "PRINTED_TABLE1": "table1",
    "Derivation": "table1",
    "PrintedCell": "table1",
    "check_printed": "table1",
    "derivation": "table1",
    "derive": "table1",
    "derive_all": "table1",
    "printed_verdicts": "table1",
    "BEYOND_PAPER": "beyond",
    "GradientField": "natural",
    "gradient_field": "natural",
    "is_natural": "natural",
    "Properness": "proper",
    "properness": "proper",
    "jax_delta": "to_jax",
    "lower": "to_jax",
    "to_jax": "to_jax",
    "Counterexample": "verdicts",
    "Verdict": "verdicts",
    "compare": "verdicts",
}

__all__ = ["TABLE1_PATH", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


def _function(module: str, name: str) -> property:
    """A name that is both a submodule and a function of it (``to_jax``, ``hessian``): the
    package attribute is the function, whatever the import system sets it to."""

    def get(self):
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)

    return property(get, lambda self, value: None)


class _Package(types.ModuleType):
    to_jax = _function("to_jax", "to_jax")
    hessian = _function("hessian", "hessian")


sys.modules[__name__].__class__ = _Package
