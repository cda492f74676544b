"""jaxsoftmax: the softmax activation and its pairing with penalty functions, in JAX."""

from .activations import hardmax as hardmax
from .activations import l1_normalize as l1_normalize
from .activations import log_softmax as log_softmax
from .activations import logistic as logistic
from .activations import logsumexp as logsumexp
from .activations import softmax as softmax
from .activations import softmax_jacobian as softmax_jacobian
from .pairings import Pairing as Pairing
from .pairings import autodiff_delta as autodiff_delta
from .pairings import get_pairing as get_pairing
from .pairings import list_pairings as list_pairings
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

__version__ = "0.1.0"
