"""jaxsoftmax: the softmax activation and its pairing with penalty functions, in JAX."""

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
from .definitions import PairingCheck as PairingCheck
from .definitions import PairingCheckError as PairingCheckError
from .definitions import PairingDefinition as PairingDefinition
from .definitions import check_pairing as check_pairing
from .definitions import define_pairing as define_pairing
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
from .pairings import Pairing as Pairing
from .pairings import autodiff_delta as autodiff_delta
from .pairings import autodiff_hessian as autodiff_hessian
from .pairings import get_pairing as get_pairing
from .pairings import list_definitions as list_definitions
from .pairings import list_pairings as list_pairings
from .pairings import register_definition as register_definition
from .pairings import register_pairing as register_pairing
from .penalties import bernoulli_cross_entropy as bernoulli_cross_entropy
from .penalties import cross_entropy as cross_entropy
from .penalties import least_squares as least_squares
from .penalties import (
    logistic_bernoulli_cross_entropy_from_logits as logistic_bernoulli_cross_entropy_from_logits,
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

__version__ = "0.1.0"
