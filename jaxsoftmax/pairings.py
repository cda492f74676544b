r"""Activation × penalty pairings and their closed-form Δ_k = ∂ρ/∂z_k (Dunne & Campbell, Table 1).

A :class:`Pairing` bundles an output activation f_q (logits z → outputs z*), the stable loss
ρ(f_q(z), t) from logits, and the closed form of Δ_k = ∂ρ/∂z_k that back-propagation starts
from (the paper's section 2). Every Δ_k below is derived here by the chain rule
Δ_k = Σ_j (∂ρ/∂z*_j)(∂z*_j/∂z_k), not copied from the paper's Table 1 as printed; the tests
compare each with ``jax.grad`` and the ``derivations`` package compares them with the printed
table. Write z*_k for the output, t_k for the target and S_t = Σ_j t_j:

==========  ===============  ======================================================  ============
activation  penalty          Δ_k                                                     natural?
==========  ===============  ======================================================  ============
linear      least squares    z_k − t_k                                               yes
linear      cross-entropy    −t_k / z_k
logistic    least squares    (z*_k − t_k) z*_k (1 − z*_k)                            (Table 1)
logistic    cross-entropy    −t_k (1 − z*_k)                                         (≠ Table 1)
logistic    Bernoulli CE     z*_k − t_k                                              yes
softmax     least squares    z*_k [(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)]
softmax     cross-entropy    S_t z*_k − t_k   (= z*_k − t_k iff S_t = 1; eq. 1)      if S_t = 1
l1          least squares    (sgn z_k / A) [(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)]
l1          cross-entropy    sgn z_k (S_t / A − t_k / |z_k|)
==========  ===============  ======================================================  ============

where A = Σ_j |z_j| for the L1 ("abs") normalisation z*_k = |z_k| / A of the forum thread.
The paper prints z*_k − t_k for logistic × cross-entropy; the chain rule gives
−(t_k/z*_k)·z*_k(1 − z*_k) = −t_k(1 − z*_k), which agrees only where t_k = 1 (for t_k = 0 it is
0, not z*_k). This is also why the pairing "is not sensible" (section 2): Δ_k ≤ 0 always, so
every output is pushed towards 1.

All built-in functions take the class axis last and broadcast over leading batch axes; Δ has
the shape of the logits. Targets of 0 contribute nothing to Δ (0 log 0 = 0).

Users add pairings with :func:`register_pairing`; the experiment, the sweeps and the symbolic
module iterate over :func:`list_pairings`.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable

import jax
import jax.numpy as jnp

from . import penalties as _pen
from ._checks import as_float_array, same_shape
from .activations import l1_normalize, logistic, softmax

__all__ = [
    "Pairing",
    "autodiff_delta",
    "get_pairing",
    "list_pairings",
    "loss_along",
    "register_pairing",
]

ArrayFn = Callable[[jax.Array], jax.Array]
PairFn = Callable[[jax.Array, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Pairing:
    """An output activation paired with a penalty.

    Attributes:
      activation: the activation's name (e.g. ``"softmax"``).
      penalty: the penalty's name (e.g. ``"cross_entropy"``).
      activate: logits ``(..., q)`` → outputs z* ``(..., q)``.
      loss: ``(logits, targets, axis=-1)`` → ρ per observation ``(...)``, stable from logits,
        summed over the class axis ``axis`` (every built-in loss takes it; a user loss without
        an ``axis`` parameter is called with the class axis last).
      delta: ``(logits, targets)`` → Δ = ∂ρ/∂z ``(..., q)`` in closed form.
      formula: Δ_k in words/LaTeX, for documentation and reports.
      source: where the pairing comes from.
    """

    activation: str
    penalty: str
    activate: ArrayFn
    loss: PairFn
    delta: PairFn
    formula: str = ""
    source: str = ""

    @property
    def name(self) -> str:
        """``"activation/penalty"``, the key used by :func:`get_pairing` and in reports."""
        return f"{self.activation}/{self.penalty}"


_REGISTRY: dict[tuple[str, str], Pairing] = {}


def register_pairing(pairing: Pairing, *, replace: bool = False) -> Pairing:
    """Adds ``pairing`` to the registry under ``(pairing.activation, pairing.penalty)``.

    Raises ``ValueError`` if that key is taken, unless ``replace=True``. Returns the pairing,
    so it can be used as ``p = register_pairing(Pairing(...))``.
    """
    if not isinstance(pairing, Pairing):
        raise TypeError(f"register_pairing takes a Pairing, got {type(pairing).__name__}")
    for field in ("activate", "loss", "delta"):
        if not callable(getattr(pairing, field)):
            raise TypeError(f"Pairing.{field} must be callable for {pairing.name}")
    key = (pairing.activation, pairing.penalty)
    if key in _REGISTRY and not replace:
        raise ValueError(f"a pairing {pairing.name} is registered already; pass replace=True")
    _REGISTRY[key] = pairing
    return pairing


def get_pairing(activation: str, penalty: str | None = None) -> Pairing:
    """The registered pairing for ``(activation, penalty)``, or for ``"activation/penalty"``."""
    if penalty is None:
        activation, sep, penalty = activation.partition("/")
        if not sep:
            raise ValueError(
                f"a pairing is named 'activation/penalty', got {activation!r}; "
                f"known: {', '.join(p.name for p in list_pairings())}"
            )
    try:
        return _REGISTRY[(activation, penalty)]
    except KeyError:
        raise ValueError(
            f"unknown pairing {activation}/{penalty}; known: "
            f"{', '.join(p.name for p in list_pairings())}"
        ) from None


def list_pairings() -> tuple[Pairing, ...]:
    """Every registered pairing, in registration order (the built-ins first)."""
    return tuple(_REGISTRY.values())


def registry() -> types.MappingProxyType:
    """A read-only view of the registry, keyed by ``(activation, penalty)``."""
    return types.MappingProxyType(_REGISTRY)


def loss_along(pairing: Pairing, logits: jax.Array, targets: jax.Array, axis: int) -> jax.Array:
    """``pairing.loss`` with the class axis at ``axis``, whether or not the loss takes ``axis``."""
    try:
        accepts_axis = "axis" in inspect.signature(pairing.loss).parameters
    except (TypeError, ValueError):
        accepts_axis = False
    if accepts_axis:
        return pairing.loss(logits, targets, axis=axis)
    return pairing.loss(jnp.moveaxis(logits, axis, -1), jnp.moveaxis(targets, axis, -1))


def autodiff_delta(pairing: Pairing, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Δ = ∂ρ/∂z by ``jax.grad`` of the pairing's loss: the reference for its closed form."""
    return jax.grad(lambda z: jnp.sum(pairing.loss(z, targets)))(logits)


# --------------------------------------------------------------------------------------------
# Closed forms. Each core takes (z, t) with the class axis last, already validated.
# --------------------------------------------------------------------------------------------


def _checked(core: PairFn) -> PairFn:
    """Wraps a jitted (logits, targets) → Δ core with the library's input validation."""
    jitted = jax.jit(core)

    def delta(logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike) -> jax.Array:
        z = as_float_array(logits, "logits")
        t = as_float_array(targets, "targets")
        same_shape(z, t, ("logits", "targets"))
        if z.ndim == 0:
            raise ValueError("logits must have a class axis (rank ≥ 1), got a scalar")
        dtype = jnp.promote_types(z.dtype, t.dtype)
        return jitted(z.astype(dtype), t.astype(dtype))

    delta.__name__ = core.__name__.lstrip("_")
    delta.__doc__ = core.__doc__
    return delta


def _safe_div(t, d):
    """t / d, with 0 where t = 0 (a zero target passes nothing, even where d = 0)."""
    return jnp.where(t == 0, jnp.zeros_like(t), t / jnp.where(t == 0, jnp.ones_like(d), d))


def _delta_linear_least_squares(z, t):
    """Δ_k = z_k − t_k (identity activation, ρ_l)."""
    return z - t


def _delta_linear_cross_entropy(z, t):
    """Δ_k = −t_k / z_k (identity activation, ρ_c; needs z_k > 0 where t_k ≠ 0)."""
    return -_safe_div(t, z)


def _delta_logistic_least_squares(z, t):
    """Δ_k = (z*_k − t_k) z*_k (1 − z*_k), z* = σ(z) elementwise."""
    s = jax.nn.sigmoid(z)
    return (s - t) * s * jax.nn.sigmoid(-z)


def _delta_logistic_cross_entropy(z, t):
    """Δ_k = −t_k (1 − z*_k) = −t_k σ(−z_k): the chain rule, not the paper's printed z*_k − t_k."""
    return -t * jax.nn.sigmoid(-z)


def _delta_logistic_bernoulli_cross_entropy(z, t):
    """Δ_k = z*_k − t_k: the natural pairing for independent two-class outputs."""
    return jax.nn.sigmoid(z) - t


def _delta_softmax_least_squares(z, t):
    """Δ_k = z*_k [(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)], z* = softmax(z)."""
    s = jax.nn.softmax(z, axis=-1)
    r = s - t
    return s * (r - jnp.sum(s * r, axis=-1, keepdims=True))


def _delta_softmax_cross_entropy(z, t):
    """Δ_k = (Σ_j t_j) z*_k − t_k (the paper's eq. 1); z*_k − t_k when the targets sum to 1."""
    return jnp.sum(t, axis=-1, keepdims=True) * jax.nn.softmax(z, axis=-1) - t


def _delta_l1_least_squares(z, t):
    """Δ_k = (sgn z_k / A)[(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)], z* = |z| / A, A = Σ_j |z_j|."""
    a = jnp.sum(jnp.abs(z), axis=-1, keepdims=True)
    n = jnp.abs(z) / a
    r = n - t
    return jnp.sign(z) / a * (r - jnp.sum(n * r, axis=-1, keepdims=True))


def _delta_l1_cross_entropy(z, t):
    """Δ_k = sgn z_k (S_t / A − t_k / |z_k|), A = Σ_j |z_j|: a pole wherever z_k = 0 < t_k."""
    a = jnp.sum(jnp.abs(z), axis=-1, keepdims=True)
    s_t = jnp.sum(t, axis=-1, keepdims=True)
    return jnp.sign(z) * (s_t / a - _safe_div(t, jnp.abs(z)))


def _identity(z: jax.typing.ArrayLike) -> jax.Array:
    """The linear (identity) output activation z* = z."""
    return as_float_array(z, "logits")


def _l1_least_squares(z, t, axis=-1):
    return _pen.least_squares(l1_normalize(z, axis), t, axis)


def _l1_cross_entropy(z, t, axis=-1):
    return _pen.cross_entropy(l1_normalize(z, axis), t, axis)


_PAPER = "Dunne & Campbell (1997), section 2 and Table 1"
# fmt: off
_BUILTINS = (
    ("linear", "least_squares", _identity, _pen.least_squares,
     _delta_linear_least_squares, r"z_k - t_k", _PAPER),
    ("linear", "cross_entropy", _identity, _pen.cross_entropy,
     _delta_linear_cross_entropy, r"-t_k / z_k", _PAPER),
    ("logistic", "least_squares", logistic, _pen.logistic_least_squares_from_logits,
     _delta_logistic_least_squares, r"(z^*_k - t_k)\,z^*_k(1 - z^*_k)", _PAPER),
    ("logistic", "cross_entropy", logistic, _pen.logistic_cross_entropy_from_logits,
     _delta_logistic_cross_entropy, r"-t_k(1 - z^*_k)", _PAPER),
    ("logistic", "bernoulli_cross_entropy", logistic,
     _pen.logistic_bernoulli_cross_entropy_from_logits,
     _delta_logistic_bernoulli_cross_entropy, r"z^*_k - t_k",
     "Dunne & Campbell (1997), section 4 (t_k modelled as Bernoulli)"),
    ("softmax", "least_squares", softmax, _pen.softmax_least_squares_from_logits,
     _delta_softmax_least_squares,
     r"z^*_k\big[(z^*_k - t_k) - \sum_j z^*_j (z^*_j - t_j)\big]", _PAPER),
    ("softmax", "cross_entropy", softmax, _pen.softmax_cross_entropy_from_logits,
     _delta_softmax_cross_entropy, r"\big(\sum_j t_j\big) z^*_k - t_k", _PAPER + ", eq. (1)"),
    ("l1", "least_squares", l1_normalize, _l1_least_squares, _delta_l1_least_squares,
     r"\frac{\operatorname{sgn} z_k}{A}\big[(z^*_k - t_k) - \sum_j z^*_j (z^*_j - t_j)\big]",
     "forum thread (seed 000): |z_k| / Σ|z| as a rival to softmax"),
    ("l1", "cross_entropy", l1_normalize, _l1_cross_entropy, _delta_l1_cross_entropy,
     r"\operatorname{sgn} z_k\big(\sum_j t_j / A - t_k / |z_k|\big)",
     "forum thread (seed 000): |z_k| / Σ|z| as a rival to softmax"),
)
# fmt: on

for _act, _pen_name, _f, _loss, _core, _formula, _src in _BUILTINS:
    register_pairing(
        Pairing(_act, _pen_name, _f, _loss, _checked(_core), formula=_formula, source=_src)
    )
del _act, _pen_name, _f, _loss, _core, _formula, _src
