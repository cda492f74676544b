"""Class-conditional rates of the Bayes rule by Monte Carlo (the paper's Table 3)."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..activations import hardmax
from ._base import ExponentialFamily
from ._posterior import _logits
from ._priors import LogPriors, PriorWeights, _log_prior
from ._validation import _prepare


class ConfusionEstimate(NamedTuple):
    """A Monte Carlo estimate of P(decide j | true class i).

    Attributes:
      rates: (q, q), row i = true class, column j = decided class; rows sum to one.
      stderr: (q, q), the standard error of each rate (sample s.d. / √n).
    """

    rates: jax.Array
    stderr: jax.Array


@functools.partial(jax.jit, static_argnames=("kind", "n"))
def _confusion_kernel(key, family, params, kind, prior_values, n):
    q = params.shape[0]
    xs = jax.vmap(lambda k, p: family.sample(k, p, (n,)))(jr.split(key, q), params)
    logits = _logits(family, params, _log_prior(kind, prior_values), xs)
    decided = hardmax(logits)  # (q, n, q); ties share the decision equally
    rates = jnp.mean(decided, axis=1)
    stderr = jnp.std(decided, axis=1, ddof=1) / math.sqrt(n)
    return ConfusionEstimate(rates, stderr)


def bayes_confusion_monte_carlo(
    key: jax.Array,
    family: ExponentialFamily,
    class_params: jax.typing.ArrayLike,
    priors: jax.typing.ArrayLike | LogPriors | PriorWeights | None,
    *,
    n_per_class: int = 100_000,
) -> ConfusionEstimate:
    r"""The Bayes rule's class-conditional rates P(decide j | true i), by Monte Carlo.

    .. math::
        R_{ij} = P\big(\arg\max_k P(C_k \mid x) = j \;\big|\; x \sim P(x \mid C_i)\big)
        \approx \frac1n\sum_{m=1}^n [\arg\max_k z_k(x_m) = j]

    The paper's Table 3 (for its four-Gaussian problem: Φ(1)² = 0.7079 on the diagonal,
    Φ(1)Φ(−1) = 0.1335 between neighbours, Φ(−1)² = 0.0252 between opposites). Draws
    ``n_per_class`` points from each class with ``family.sample`` and classifies them with
    :func:`posterior_logits`; ties (possible for discrete families) share the decision. The
    standard error is the sample standard deviation over √n (≈ √(R(1 − R)/n)). For Gaussians
    with per-class covariances, sample directly and classify with
    :func:`gaussian_bayes_posterior_logits`.

    Args:
      key: a PRNG key.
      family, class_params, priors: as for :func:`posterior_logits` (the family must define
        ``sample``).
      n_per_class: the number of draws per class (static; at least 2).

    Returns:
      A :class:`ConfusionEstimate` ``(rates, stderr)``, each (q, q).
    """
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 2:
        raise ValueError(
            f"bayes_confusion_monte_carlo: n_per_class must be an int >= 2, got {n_per_class!r}"
        )
    prep = _prepare(
        family, class_params, priors, None, fn="bayes_confusion_monte_carlo", validate=True
    )
    return _confusion_kernel(
        key, prep.family, prep.params, prep.kind, prep.prior_values, int(n_per_class)
    )
