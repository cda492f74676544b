"""jaxsoftmax: the softmax activation and its pairing with penalty functions, in JAX.

Importing the package imports nothing heavy: each public name (``jaxsoftmax.softmax``,
``jaxsoftmax.experiment``, ...) imports its module, and JAX, when first used (PEP 562
module ``__getattr__``). So ``import jaxsoftmax`` and the command line's first line are
quick, and a command imports only what it needs (no scipy.stats, matplotlib, sympy or dask
until used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module of the package, attribute; None: the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "config": ("config", None),
    "experiment": ("experiment", None),
    "expfamily": ("expfamily", None),
    "gaussians": ("gaussians", None),
    "mlp": ("mlp", None),
    "stats": ("stats", None),
    "train": ("train", None),
    "hardmax": ("activations", "hardmax"),
    "l1_normalize": ("activations", "l1_normalize"),
    "log_softmax": ("activations", "log_softmax"),
    "logistic": ("activations", "logistic"),
    "logsumexp": ("activations", "logsumexp"),
    "softmax": ("activations", "softmax"),
    "softmax_jacobian": ("activations", "softmax_jacobian"),
    "PairingCheck": ("pairings", "PairingCheck"),
    "PairingCheckError": ("pairings", "PairingCheckError"),
    "PairingDefinition": ("definitions", "PairingDefinition"),
    "check_pairing": ("pairings", "check_pairing"),
    "define_pairing": ("pairings", "define_pairing"),
    "entmax": ("sparse", "entmax"),
    "entmax_loss": ("sparse", "entmax_loss"),
    "sparsemax": ("sparse", "sparsemax"),
    "sparsemax_loss": ("sparse", "sparsemax_loss"),
    "ExponentialFamily": ("expfamily", "ExponentialFamily"),
    "LogPriors": ("expfamily", "LogPriors"),
    "PriorWeights": ("expfamily", "PriorWeights"),
    "affine_logits": ("expfamily", "affine_logits"),
    "bayes_confusion_monte_carlo": ("expfamily", "bayes_confusion_monte_carlo"),
    "checked_posterior_logits": ("expfamily", "checked_posterior_logits"),
    "class_log_densities": ("expfamily", "class_log_densities"),
    "gaussian_bayes_posterior": ("expfamily", "gaussian_bayes_posterior"),
    "gaussian_bayes_posterior_logits": ("expfamily", "gaussian_bayes_posterior_logits"),
    "gaussian_shared_covariance": ("expfamily", "gaussian_shared_covariance"),
    "log_posterior": ("expfamily", "log_posterior"),
    "posterior": ("expfamily", "posterior"),
    "posterior_logits": ("expfamily", "posterior_logits"),
    "Pairing": ("definitions", "Pairing"),
    "autodiff_delta": ("pairings", "autodiff_delta"),
    "autodiff_hessian": ("pairings", "autodiff_hessian"),
    "get_pairing": ("pairings", "get_pairing"),
    "list_definitions": ("pairings", "list_definitions"),
    "list_pairings": ("pairings", "list_pairings"),
    "register_definition": ("pairings", "register_definition"),
    "register_pairing": ("pairings", "register_pairing"),
    "bernoulli_cross_entropy": ("penalties", "bernoulli_cross_entropy"),
    "cross_entropy": ("penalties", "cross_entropy"),
    "least_squares": ("penalties", "least_squares"),
    "logistic_bernoulli_cross_entropy_from_logits": (
        "penalties",
        "logistic_bernoulli_cross_entropy_from_logits",
    ),
    "logistic_cross_entropy_from_logits": ("penalties", "logistic_cross_entropy_from_logits"),
    "logistic_least_squares_from_logits": ("penalties", "logistic_least_squares_from_logits"),
    "softmax_cross_entropy_from_logits": ("penalties", "softmax_cross_entropy_from_logits"),
    "softmax_least_squares_from_logits": ("penalties", "softmax_least_squares_from_logits"),
    "xlogy": ("penalties", "xlogy"),
}

__all__ = [
    "ExponentialFamily",
    "LogPriors",
    "Pairing",
    "PairingCheck",
    "PairingCheckError",
    "PairingDefinition",
    "PriorWeights",
    "__version__",
    "affine_logits",
    "autodiff_delta",
    "autodiff_hessian",
    "bayes_confusion_monte_carlo",
    "bernoulli_cross_entropy",
    "check_pairing",
    "checked_posterior_logits",
    "class_log_densities",
    "config",
    "cross_entropy",
    "define_pairing",
    "entmax",
    "entmax_loss",
    "experiment",
    "expfamily",
    "gaussian_bayes_posterior",
    "gaussian_bayes_posterior_logits",
    "gaussian_shared_covariance",
    "gaussians",
    "get_pairing",
    "hardmax",
    "l1_normalize",
    "least_squares",
    "list_definitions",
    "list_pairings",
    "log_posterior",
    "log_softmax",
    "logistic",
    "logistic_bernoulli_cross_entropy_from_logits",
    "logistic_cross_entropy_from_logits",
    "logistic_least_squares_from_logits",
    "logsumexp",
    "mlp",
    "posterior",
    "posterior_logits",
    "register_definition",
    "register_pairing",
    "softmax",
    "softmax_cross_entropy_from_logits",
    "softmax_jacobian",
    "softmax_least_squares_from_logits",
    "sparsemax",
    "sparsemax_loss",
    "stats",
    "train",
    "xlogy",
]  # every lazy name (tests/test_imports.py)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'jaxsoftmax' has no attribute {name!r}") from None
    mod = importlib.import_module(f"{__name__}.{module}")
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:
    from . import config as config
    from . import experiment as experiment
    from . import expfamily as expfamily
    from . import gaussians as gaussians
    from . import mlp as mlp
    from . import stats as stats
    from . import train as train
    from .activations import hardmax as hardmax
    from .activations import l1_normalize as l1_normalize
    from .activations import log_softmax as log_softmax
    from .activations import logistic as logistic
    from .activations import logsumexp as logsumexp
    from .activations import softmax as softmax
    from .activations import softmax_jacobian as softmax_jacobian
    from .definitions import Pairing as Pairing
    from .definitions import PairingDefinition as PairingDefinition
    from .expfamily import ExponentialFamily as ExponentialFamily
    from .expfamily import LogPriors as LogPriors
    from .expfamily import PriorWeights as PriorWeights
    from .expfamily import affine_logits as affine_logits
    from .expfamily import bayes_confusion_monte_carlo as bayes_confusion_monte_carlo
    from .expfamily import checked_posterior_logits as checked_posterior_logits
    from .expfamily import class_log_densities as class_log_densities
    from .expfamily import gaussian_bayes_posterior as gaussian_bayes_posterior
    from .expfamily import gaussian_bayes_posterior_logits as gaussian_bayes_posterior_logits
    from .expfamily import gaussian_shared_covariance as gaussian_shared_covariance
    from .expfamily import log_posterior as log_posterior
    from .expfamily import posterior as posterior
    from .expfamily import posterior_logits as posterior_logits
    from .pairings import PairingCheck as PairingCheck
    from .pairings import PairingCheckError as PairingCheckError
    from .pairings import autodiff_delta as autodiff_delta
    from .pairings import autodiff_hessian as autodiff_hessian
    from .pairings import check_pairing as check_pairing
    from .pairings import define_pairing as define_pairing
    from .pairings import get_pairing as get_pairing
    from .pairings import list_definitions as list_definitions
    from .pairings import list_pairings as list_pairings
    from .pairings import register_definition as register_definition
    from .pairings import register_pairing as register_pairing
    from .penalties import bernoulli_cross_entropy as bernoulli_cross_entropy
    from .penalties import cross_entropy as cross_entropy
    from .penalties import least_squares as least_squares
    from .penalties import (
        logistic_bernoulli_cross_entropy_from_logits as logistic_bernoulli_cross_entropy_from_logits,  # noqa: E501
    )
    from .penalties import logistic_cross_entropy_from_logits as logistic_cross_entropy_from_logits
    from .penalties import logistic_least_squares_from_logits as logistic_least_squares_from_logits
    from .penalties import softmax_cross_entropy_from_logits as softmax_cross_entropy_from_logits
    from .penalties import softmax_least_squares_from_logits as softmax_least_squares_from_logits
    from .penalties import xlogy as xlogy
    from .sparse import entmax as entmax
    from .sparse import entmax_loss as entmax_loss
    from .sparse import sparsemax as sparsemax
    from .sparse import sparsemax_loss as sparsemax_loss
