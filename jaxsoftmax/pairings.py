r"""Activation × penalty pairings and their Δ_k = ∂ρ/∂z_k, derived (Dunne & Campbell, Table 1).

A :class:`Pairing` bundles an output activation f_q (logits z → outputs z*), the stable loss
ρ(f_q(z), t) from logits, and Δ_k = ∂ρ/∂z_k, the quantity back-propagation starts from (the paper's
section 2). Every pairing here comes from one symbolic definition (:mod:`jaxsoftmax.definitions`):
its Δ_k is *derived* by the chain rule Δ_k = Σ_j (∂ρ/∂z*_j)(∂z*_j/∂z_k) for general q
(``jaxsoftmax.derivations.table1.derive``), never written by hand, and evaluated on the pairing's
own outputs z* = ``activate(z)`` (the library's max-shifted ``softmax``, not ``jax.nn.softmax``), so
Δ is as robust as the activation: e.g. softmax × least squares at z = (−∞, −∞, −∞) gives z* = 0 and
Δ = 0, as ``jax.grad`` does. The built-ins keep the library's stable, hand-written
``activate``/``loss`` functions (``jaxsoftmax.activations`` / ``penalties``), attached to their
definitions. Write z*_k for the output, t_k for the target and S_t = Σ_j t_j; the derived Δ_k
(``python -m jaxsoftmax.derivations`` prints them and ``derivations/TABLE1.md`` records them):

==========  ===============  ======================================================  ============
activation  penalty          Δ_k (derived)                                           natural?
==========  ===============  ======================================================  ============
linear      least squares    z_k − t_k                                               yes
linear      cross-entropy    −t_k / z_k
logistic    least squares    (z*_k − t_k) z*_k (1 − z*_k)                            (Table 1)
logistic    cross-entropy    −t_k (1 − z*_k)                                         (≠ Table 1)
logistic    Bernoulli CE     z*_k − t_k                                              yes
softmax     least squares    β z*_k [(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)]
softmax     cross-entropy    β (S_t z*_k − t_k)   (= z*_k − t_k iff S_t = 1, β = 1)  if S_t = 1
l1          least squares    (sgn z_k / A) [(z*_k − t_k) − Σ_j z*_j (z*_j − t_j)]
l1          cross-entropy    sgn z_k (S_t / A − t_k / |z_k|)
==========  ===============  ======================================================  ============

where A = Σ_j |z_j| for the L1 ("abs") normalisation z*_k = |z_k| / A of the forum thread and
β is the softmax's inverse temperature (default 1, the paper's f_q). Beyond the paper, defined
the same way: ``"softmax(beta=…)/focal(gamma=…)"`` (Lin et al. 2017), and
``"spherical(epsilon=…)/least_squares"``, ``"spherical(epsilon=…)/cross_entropy"``
(de Brébisson & Vincent 2016); ``"softmax(beta=2)/cross_entropy"`` is the tempered softmax.

All functions take the class axis last (``loss`` also takes ``axis``) and broadcast over
leading batch axes; Δ has the shape of the logits, :meth:`Pairing.hessian` one more class
axis. Targets of 0 contribute nothing to Δ (0 log 0 = 0).

Users add pairings with :func:`jaxsoftmax.define_pairing` (from symbolic definitions, checked
by :func:`jaxsoftmax.check_pairing`) or, with a hand-written Δ, :func:`register_pairing`; the
experiment, the sweeps and the symbolic module iterate over :func:`list_pairings`.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import types
from collections.abc import Callable, Mapping
from typing import cast

import jax
import jax.numpy as jnp

from jaxsoftmax.derivations.parameters import BETA, EPSILON, GAMMA, LAM, POLY, SMOOTHING

from . import penalties as _pen
from ._checks import as_float_array, same_shape
from .activations import l1_normalize, log_softmax, logistic, softmax
from .definitions import PairingDefinition, Params, canonical_name, parse_name

__all__ = [
    "Pairing",
    "autodiff_delta",
    "autodiff_hessian",
    "get_pairing",
    "list_definitions",
    "list_pairings",
    "loss_along",
    "register_definition",
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
      delta: ``(logits, targets)`` → Δ = ∂ρ/∂z ``(..., q)``, derived (or, for a pairing
        registered by hand, in the closed form given).
      formula: Δ_k in words/LaTeX, for a hand-made pairing (derived ones: :attr:`latex`).
      source: where the pairing comes from.
      params: parameter name → value (``{"beta": 2.0, "gamma": 0.5}``), hashable.
      canonical: the canonical name of a parameterised pairing (:attr:`name`).
      definition: the :class:`~jaxsoftmax.definitions.PairingDefinition` it comes from.
    """

    activation: str
    penalty: str
    activate: ArrayFn
    loss: PairFn
    delta: PairFn
    formula: str = ""
    source: str = ""
    params: Mapping[str, float] = dataclasses.field(default_factory=Params)
    canonical: str = dataclasses.field(default="", repr=False)
    definition: PairingDefinition | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self):
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    @property
    def name(self) -> str:
        """The key of :func:`get_pairing`: ``"activation/penalty"`` for the built-ins, the
        canonical ``"softmax(beta=2)/focal(gamma=0.5)"`` for parameterised pairings."""
        return self.canonical or f"{self.activation}/{self.penalty}"

    def _definition(self) -> PairingDefinition:
        if self.definition is None:
            raise TypeError(
                f"{self.name} was registered by hand, not from a definition: it has no "
                "derivation (use jaxsoftmax.define_pairing)"
            )
        return self.definition

    def hessian(self, logits: jax.typing.ArrayLike, targets: jax.typing.ArrayLike):
        """H = ∂²ρ/∂z∂zᵀ ``(..., q, q)``, derived symbolically
        (``jaxsoftmax.derivations.hessian``)."""
        return self._hessian(logits, targets)

    @property
    def _hessian(self):
        return _derived_fn(self, "hessian")

    def derivation(self):
        """The symbolic derivation of Δ_k for general q (``jaxsoftmax.derivations.Derivation``)."""
        return self._definition().derivation()

    def convexity(self):
        """Convexity of ρ∘f in the logits for *this instance*, its parameters at their values
        (``jaxsoftmax.derivations.hessian.Convexity``): ``softmax/focal(gamma=0)`` is convex
        (it is cross-entropy) though the focal family is not. The family's verdict:
        :meth:`family_convexity`."""
        return self._definition().convexity(dict(self.params) or None)

    def family_convexity(self):
        """Convexity of ρ∘f for every parameter value of the family (``definition.convexity()``)."""
        return self._definition().convexity()

    @property
    def latex(self) -> str:
        """Δ_k in LaTeX: derived (imports sympy), or the hand-written ``formula``."""
        if self.definition is None:
            return self.formula
        from jaxsoftmax.derivations.render import latex

        return latex(self.derivation().display)


_LOCK = threading.RLock()
_REGISTRY: dict[str, Pairing] = {}
_DEFINITIONS: dict[tuple[str, str], PairingDefinition] = {}
_INSTANCES: dict[str, Pairing] = {}


def register_pairing(pairing: Pairing, *, replace: bool = False) -> Pairing:
    """Adds ``pairing`` to the registry under its name (``pairing.name``).

    Raises ``ValueError`` if that name is taken, unless ``replace=True``. Returns the pairing,
    so it can be used as ``p = register_pairing(Pairing(...))``.
    """
    if not isinstance(pairing, Pairing):
        raise TypeError(f"register_pairing takes a Pairing, got {type(pairing).__name__}")
    for field in ("activate", "loss", "delta"):
        if not callable(getattr(pairing, field)):
            raise TypeError(f"Pairing.{field} must be callable for {pairing.name}")
    with _LOCK:
        if pairing.name in _REGISTRY and not replace:
            raise ValueError(f"a pairing {pairing.name} is registered already; pass replace=True")
        _REGISTRY[pairing.name] = pairing
    return pairing


def register_definition(defn: PairingDefinition, *, replace: bool = False) -> PairingDefinition:
    """Registers a pairing family, so that :func:`get_pairing` resolves its names.

    ``get_pairing("act(p=v)/pen(p=v)")`` then instantiates it at those (validated) values.
    Raises ``ValueError`` if a definition with the same activation and penalty names exists,
    unless ``replace=True``.
    """
    if not isinstance(defn, PairingDefinition):
        raise TypeError(f"register_definition takes a PairingDefinition, got {type(defn).__name__}")
    key = (defn.activation, defn.penalty)
    with _LOCK:
        if key in _DEFINITIONS and not replace:
            raise ValueError(f"a definition {defn.family} is registered already; pass replace=True")
        _DEFINITIONS[key] = defn
        for name in [n for n, p in _INSTANCES.items() if p.definition is not None]:
            if (_INSTANCES[name].activation, _INSTANCES[name].penalty) == key:
                del _INSTANCES[name]
    return defn


def _known() -> str:
    names = [p.name for p in list_pairings()]
    names += [d.family for d in _DEFINITIONS.values() if d.params and d.family not in names]
    return ", ".join(names)


def get_pairing(activation: str, penalty: str | None = None) -> Pairing:
    """The pairing named ``activation`` (``"softmax/cross_entropy"``,
    ``"softmax(beta=2)/focal(gamma=0.5)"``), or ``(activation, penalty)`` given apart.

    Parameters are validated (finite, in their domain); an unknown or malformed name, or a bad
    value, raises ``ValueError`` saying what is allowed and listing the known pairings. Equal
    parameter values give the same (cached, hashable) pairing object.
    """
    if not isinstance(activation, str) or not (penalty is None or isinstance(penalty, str)):
        raise ValueError(
            f"a pairing is named by a string 'activation/penalty', got "
            f"{activation!r}{'' if penalty is None else f', {penalty!r}'}; known: {_known()}"
        )
    name = activation if penalty is None else f"{activation}/{penalty}"
    try:
        act, act_values, pen, pen_values = parse_name(name)
    except ValueError as err:
        raise ValueError(f"{err}; known: {_known()}") from None
    with _LOCK:
        hit = _REGISTRY.get(name) or _INSTANCES.get(name)
        if hit is not None:
            return hit
        defn = _DEFINITIONS.get((act, pen))
        if defn is None:
            raise ValueError(f"unknown pairing {act}/{pen}; known: {_known()}")
        where = f"pairing {name!r}:"
        label = f"pairing {name!r}"
        for side, side_params, values in (
            (act, defn.activation_params, act_values),
            (pen, defn.penalty_params, pen_values),
        ):
            allowed = {p.name for p in side_params}
            extra = sorted(set(values) - allowed)
            if extra:
                raise ValueError(
                    f"{where} {side} has no parameter {', '.join(extra)}; its parameters: "
                    f"{', '.join(sorted(allowed)) or 'none'}"
                )
        values = defn.validate({**act_values, **pen_values}, label)
        canonical = canonical_name(defn, values)
        hit = _REGISTRY.get(canonical)
        return hit if hit is not None else _instantiate(defn, values)


def list_pairings() -> tuple[Pairing, ...]:
    """Every registered pairing, in registration order (the built-ins first)."""
    return tuple(_REGISTRY.values())


def list_definitions() -> tuple[PairingDefinition, ...]:
    """Every registered pairing definition (family), in registration order."""
    return tuple(_DEFINITIONS.values())


def registry() -> types.MappingProxyType:
    """A read-only view of the registry, keyed by name."""
    return types.MappingProxyType(_REGISTRY)


def loss_along(pairing: Pairing, logits: jax.Array, targets: jax.Array, axis: int) -> jax.Array:
    """``pairing.loss`` with the class axis at ``axis``, whether or not the loss takes ``axis``."""
    try:
        accepts_axis = "axis" in inspect.signature(pairing.loss).parameters
    except (TypeError, ValueError):
        accepts_axis = False
    if accepts_axis:
        # PairFn leaves ``axis`` out; this loss was checked above to take it.
        return cast(Callable[..., jax.Array], pairing.loss)(logits, targets, axis=axis)
    return pairing.loss(jnp.moveaxis(logits, axis, -1), jnp.moveaxis(targets, axis, -1))


def autodiff_delta(pairing: Pairing, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Δ = ∂ρ/∂z by ``jax.grad`` of the pairing's loss: the reference for its closed form."""
    return jax.grad(lambda z: jnp.sum(pairing.loss(z, targets)))(logits)


def autodiff_hessian(pairing: Pairing, logits: jax.Array, targets: jax.Array) -> jax.Array:
    """H = ∂²ρ/∂z∂zᵀ per observation by ``jax.hessian``, ``(..., q, q)``."""
    z, t = jnp.asarray(logits), jnp.asarray(targets)
    flat = jax.vmap(jax.hessian(lambda a, b: pairing.loss(a, b)))(
        z.reshape(-1, z.shape[-1]), t.reshape(-1, t.shape[-1])
    )
    return flat.reshape(*z.shape, z.shape[-1])


# --------------------------------------------------------------------------------------------
# From a definition to a Pairing
# --------------------------------------------------------------------------------------------


def _validated(logits, targets):
    z = as_float_array(logits, "logits")
    t = as_float_array(targets, "targets")
    same_shape(z, t, ("logits", "targets"))
    if z.ndim == 0:
        raise ValueError("logits must have a class axis (rank ≥ 1), got a scalar")
    dtype = jnp.promote_types(z.dtype, t.dtype)
    return z.astype(dtype), t.astype(dtype)


def _last(fn, z, axis):
    """``fn`` (class axis last) applied with the class axis at ``axis``."""
    if axis in (-1, z.ndim - 1):
        return fn(z)
    return jnp.moveaxis(fn(jnp.moveaxis(z, axis, -1)), -1, axis)


def _functions(defn: PairingDefinition, values: dict[str, float]):
    """activate(z, axis), log_activate(z) or None, loss(z, t, axis) of an instance."""
    if defn.activate is not None:
        activate = defn.activate(values)
    else:

        def activate(z, axis=-1):
            z = as_float_array(z, "logits")
            return _last(lambda x: defn.lowered().activate(x, **values), z, axis)

    log_activate = defn.log_activate(values) if defn.log_activate is not None else None
    if defn.loss is not None:
        loss = defn.loss(values)
    else:

        def loss(logits, targets, axis=-1):
            z, t = _validated(logits, targets)
            z, t = jnp.moveaxis(z, axis, -1), jnp.moveaxis(t, axis, -1)
            logs = log_activate(z) if log_activate is not None else None
            terms = defn.lowered().terms(activate(z), t, logs, **values)
            return jnp.sum(terms, axis=-1)

    return activate, log_activate, loss


def _derived_fn(pairing: Pairing, which: str):
    """The jitted, validated Δ or H of a definition's instance (built once per pairing)."""
    defn = pairing._definition()
    key = ("fn", which, pairing.name)
    with defn._lock:
        cached = defn._cache.get(key)
    if cached is not None:
        return cached
    values = dict(pairing.params)
    activate, log_activate, _ = _functions(defn, values)

    def core(z, t):
        lowered = defn.lowered()  # sympy runs here, once, at the first trace
        logs = log_activate(z) if log_activate is not None else None
        return getattr(lowered, which)(z, t, activate(z), logs, **values)

    jitted = jax.jit(core)

    def fn(logits, targets):
        return jitted(*_validated(logits, targets))

    fn.__name__ = f"{which}_{pairing.activation}_{pairing.penalty}"
    fn.__doc__ = f"{which} of {pairing.name}, derived symbolically for general q."
    with defn._lock:
        defn._cache.setdefault(key, fn)
        return defn._cache[key]


class _Delta:
    """Δ = ∂ρ/∂z (..., q) of a definition's instance, derived symbolically for general q:
    sympy runs on the first call, which builds a jitted function; later calls reuse it."""

    __slots__ = ("_box",)

    def __init__(self, box: list):
        self._box = box

    def __call__(self, logits, targets):
        return _derived_fn(self._box[0], "delta")(logits, targets)


def _instantiate(defn: PairingDefinition, values: dict[str, float]) -> Pairing:
    """The cached :class:`Pairing` of ``defn`` at validated ``values``."""
    canonical = canonical_name(defn, values)
    with _LOCK:
        hit = _INSTANCES.get(canonical)
        if hit is not None and hit.definition is defn:
            return hit
        activate, _, loss = _functions(defn, values)
        box: list = []
        pairing = Pairing(
            defn.activation,
            defn.penalty,
            activate,
            loss,
            _Delta(box),
            source=defn.source,
            params=Params(values),
            canonical=canonical if canonical != f"{defn.activation}/{defn.penalty}" else "",
            definition=defn,
        )
        box.append(pairing)
        _INSTANCES[canonical] = pairing
        return pairing


# --------------------------------------------------------------------------------------------
# The built-ins: the sympy definitions live in ``derivations``; the stable JAX forms here.
# --------------------------------------------------------------------------------------------


def _identity(z: jax.typing.ArrayLike, axis=-1) -> jax.Array:
    """The linear (identity) output activation z* = z."""
    return as_float_array(z, "logits")


def _logistic(z, axis=-1):
    return logistic(z)


def _l1_least_squares(z, t, axis=-1):
    return _pen.least_squares(l1_normalize(z, axis), t, axis)


def _l1_cross_entropy(z, t, axis=-1):
    return _pen.cross_entropy(l1_normalize(z, axis), t, axis)


def _symbolic(activation: str, penalty: str):
    """A loader of two objects of ``derivations`` by their module-level names (imports sympy)."""

    def load():
        from jaxsoftmax.derivations import activations, penalties

        return getattr(activations, activation), getattr(penalties, penalty)

    return load


def _fixed(fn):
    return lambda values: fn


def _beta(fn):
    """A factory for a softmax-family function of β, 1 being the paper's f_q."""
    return lambda values: fn(values["beta"])


def _softmax_act(b):
    return lambda z, axis=-1: softmax(z, axis, beta=b)


def _softmax_log(b):
    return lambda z, axis=-1: log_softmax(z, axis, beta=b)


def _scaled(loss_from_logits, b):
    """ρ(softmax(z, β), t) = ρ(softmax(β z), t): the stable from-logits loss at β z."""
    if b == 1.0:
        return loss_from_logits
    return lambda z, t, axis=-1: loss_from_logits(b * as_float_array(z, "logits"), t, axis)


_PAPER = "Dunne & Campbell (1997), section 2 and Table 1"
_FORUM = "forum thread (seed 000): |z_k| / Σ|z| as a rival to softmax"
_BUILTINS = (  # (activation, penalty, sympy names, activate, log_activate, loss, source)
    (
        "linear",
        "least_squares",
        ("LINEAR", "LEAST_SQUARES"),
        _fixed(_identity),
        None,
        _fixed(_pen.least_squares),
        _PAPER,
    ),
    (
        "linear",
        "cross_entropy",
        ("LINEAR", "CROSS_ENTROPY"),
        _fixed(_identity),
        None,
        _fixed(_pen.cross_entropy),
        _PAPER,
    ),
    (
        "logistic",
        "least_squares",
        ("LOGISTIC", "LEAST_SQUARES"),
        _fixed(_logistic),
        None,
        _fixed(_pen.logistic_least_squares_from_logits),
        _PAPER,
    ),
    (
        "logistic",
        "cross_entropy",
        ("LOGISTIC", "CROSS_ENTROPY"),
        _fixed(_logistic),
        None,
        _fixed(_pen.logistic_cross_entropy_from_logits),
        _PAPER,
    ),
    (
        "logistic",
        "bernoulli_cross_entropy",
        ("LOGISTIC", "BERNOULLI_CROSS_ENTROPY"),
        _fixed(_logistic),
        None,
        _fixed(_pen.logistic_bernoulli_cross_entropy_from_logits),
        "Dunne & Campbell (1997), section 4 (t_k modelled as Bernoulli)",
    ),
    (
        "softmax",
        "least_squares",
        ("SOFTMAX_BETA", "LEAST_SQUARES"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        _beta(lambda b: _scaled(_pen.softmax_least_squares_from_logits, b)),
        _PAPER,
    ),
    (
        "softmax",
        "cross_entropy",
        ("SOFTMAX_BETA", "CROSS_ENTROPY"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        _beta(lambda b: _scaled(_pen.softmax_cross_entropy_from_logits, b)),
        _PAPER + ", eq. (1); β ≠ 1: the tempered softmax of the Softmax function article",
    ),
    (
        "l1",
        "least_squares",
        ("L1", "LEAST_SQUARES"),
        _fixed(l1_normalize),
        None,
        _fixed(_l1_least_squares),
        _FORUM,
    ),
    (
        "l1",
        "cross_entropy",
        ("L1", "CROSS_ENTROPY"),
        _fixed(l1_normalize),
        None,
        _fixed(_l1_cross_entropy),
        _FORUM,
    ),
    # Beyond the paper (derivations.beyond): losses generated from the sympy definitions.
    (
        "softmax",
        "focal",
        ("SOFTMAX_BETA", "FOCAL"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        None,
        "Lin, Goyal, Girshick, He & Dollár (2017), eq. (4), soft targets; softmax(β)",
    ),
    (
        "spherical",
        "least_squares",
        ("SPHERICAL", "LEAST_SQUARES"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.2 (spherical softmax)",
    ),
    (
        "spherical",
        "cross_entropy",
        ("SPHERICAL", "CROSS_ENTROPY"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.2 (spherical softmax)",
    ),
)

# Definitions only (no pairing registered at defaults: get_pairing("taylor/gce(lam=0.7)")
# instantiates one): losses generated from the sympy definitions.
_MORE: tuple[tuple, ...] = (
    (
        "softmax",
        "label_smoothing",
        ("SOFTMAX_BETA", "LABEL_SMOOTHING"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        None,
        "Szegedy et al. (2016), section 7 (label smoothing); softmax(β)",
    ),
    (
        "softmax",
        "gce",
        ("SOFTMAX_BETA", "GCE"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        None,
        "Zhang & Sabuncu (2018), eq. (6) (generalized cross-entropy); softmax(β)",
    ),
    (
        "softmax",
        "poly1",
        ("SOFTMAX_BETA", "POLY1"),
        _beta(_softmax_act),
        _beta(_softmax_log),
        None,
        "Leng et al. (2022), eq. (3) (Poly-1); softmax(β)",
    ),
    (
        "taylor",
        "least_squares",
        ("TAYLOR", "LEAST_SQUARES"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax)",
    ),
    (
        "taylor",
        "cross_entropy",
        ("TAYLOR", "CROSS_ENTROPY"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax)",
    ),
    (
        "taylor",
        "focal",
        ("TAYLOR", "FOCAL"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax); Lin et al. (2017), eq. (4)",
    ),
    (
        "taylor",
        "label_smoothing",
        ("TAYLOR", "LABEL_SMOOTHING"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax); Szegedy et al. (2016), §7",
    ),
    (
        "taylor",
        "gce",
        ("TAYLOR", "GCE"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax); Zhang & Sabuncu (2018), (6)",
    ),
    (
        "taylor",
        "poly1",
        ("TAYLOR", "POLY1"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.3 (Taylor softmax); Leng et al. (2022), eq. (3)",
    ),
    (
        "logistic",
        "bernoulli_focal",
        ("LOGISTIC", "BERNOULLI_FOCAL"),
        _fixed(_logistic),
        None,
        None,
        "Lin et al. (2017), eq. (4)-(5): the per-unit (sigmoid) focal loss of RetinaNet",
    ),
    (
        "spherical",
        "focal",
        ("SPHERICAL", "FOCAL"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.2; Lin et al. (2017), eq. (4)",
    ),
    (
        "spherical",
        "gce",
        ("SPHERICAL", "GCE"),
        None,
        None,
        None,
        "de Brébisson & Vincent (2016), section 2.2; Zhang & Sabuncu (2018), eq. (6)",
    ),
)


_PARAMS = {
    "softmax": (BETA,),
    "spherical": (EPSILON,),
    "focal": (GAMMA,),
    "bernoulli_focal": (GAMMA,),
    "label_smoothing": (SMOOTHING,),
    "gce": (LAM,),
    "poly1": (POLY,),
}


def _register_builtins() -> None:
    for _n, (_act, _pen_name, _names, _a, _la, _loss, _src) in enumerate(_BUILTINS + _MORE):
        _defn = register_definition(
            PairingDefinition(
                _act,
                _pen_name,
                _PARAMS.get(_act, ()),
                _PARAMS.get(_pen_name, ()),
                _symbolic(*_names),
                activate=_a,
                log_activate=_la,
                loss=_loss,
                source=_src,
            )
        )
        paper = _n < len(_BUILTINS)
        if paper and all(p.default is not None for p in _defn.params):  # the paper's nine
            register_pairing(_defn())


_register_builtins()
del _register_builtins
