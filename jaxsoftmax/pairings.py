r"""Activation × penalty pairings and their Δ_k = ∂ρ/∂z_k, derived (Dunne & Campbell, Table 1).

A :class:`~jaxsoftmax.definitions.Pairing` bundles an output activation f_q (logits z → outputs
z*), the stable loss ρ(f_q(z), t) from logits, and Δ_k = ∂ρ/∂z_k, the quantity back-propagation
starts from (the paper's section 2). Every pairing here comes from one symbolic definition
(:mod:`jaxsoftmax.definitions`): its Δ_k is *derived* by the chain rule Δ_k = Σ_j
(∂ρ/∂z*_j)(∂z*_j/∂z_k) for general q (``jaxsoftmax.derivations.table1.derive``), never written by
hand, and evaluated on the pairing's own outputs z* = ``activate(z)`` (the library's max-shifted
``softmax``, not ``jax.nn.softmax``), so Δ is as robust as the activation: e.g. softmax × least
squares at z = (−∞, −∞, −∞) gives z* = 0 and Δ = 0, as ``jax.grad`` does. The built-ins keep the
library's stable, hand-written ``activate``/``loss`` functions (``jaxsoftmax.activations`` /
``penalties``), attached to their definitions. Write z*_k for the output, t_k for the target and
S_t = Σ_j t_j; the derived Δ_k (``python -m jaxsoftmax.derivations`` prints them and
``derivations/TABLE1.md`` records them):

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
import types
from collections.abc import Callable, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp

from jaxsoftmax.derivations.parameters import BETA, EPSILON, GAMMA, LAM, POLY, SMOOTHING, T1, T2

from . import penalties as _pen
from ._checks import as_float_array
from .activations import l1_normalize, log_softmax, logistic, softmax
from .definitions import (
    _INSTANCES,
    _LOCK,
    Factory,
    Pairing,
    PairingDefinition,
    _instantiate,
    canonical_name,
    parse_name,
)
from .tempered import bi_tempered_loss, tempered_softmax

__all__ = [
    "CheckRow",
    "PairingCheck",
    "PairingCheckError",
    "autodiff_delta",
    "autodiff_hessian",
    "builtin_definitions",
    "check_pairing",
    "define_pairing",
    "get_pairing",
    "list_definitions",
    "list_pairings",
    "loss_along",
    "register_definition",
    "register_pairing",
]

_REGISTRY: dict[str, Pairing] = {}
_DEFINITIONS: dict[tuple[str, str], PairingDefinition] = {}


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


def builtin_definitions() -> tuple[PairingDefinition, ...]:
    """The definitions this module registers (the paper's and the ones beyond it), whatever
    a user has registered or replaced since: what ``derivations/TABLE1.md`` and the atlas cover."""
    return _BUILTIN_DEFINITIONS


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
    (
        "tempered",
        "bi_tempered",
        ("TEMPERED", "BI_TEMPERED"),
        lambda values: lambda z, axis=-1: tempered_softmax(z, axis, t2=values["t2"]),
        None,
        lambda values: (
            lambda z, t, axis=-1: bi_tempered_loss(z, t, axis, t1=values["t1"], t2=values["t2"])
        ),
        "Amid, Warmuth, Anil & Koren (2019), eq. (8) and (11) (the bi-tempered logistic loss)",
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
    "tempered": (T2,),
    "bi_tempered": (T1,),
}


_BUILTIN_DEFINITIONS: tuple[PairingDefinition, ...] = ()


def _register_builtins() -> None:
    global _BUILTIN_DEFINITIONS
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
        _BUILTIN_DEFINITIONS += (_defn,)


_register_builtins()
del _register_builtins


# --------------------------------------------------------------------------------------------
# Defining a pairing
# --------------------------------------------------------------------------------------------


def _as_factory(fn: Callable | None) -> Factory | None:
    """A JAX function that takes the parameters by keyword, as a factory."""
    if fn is None:
        return None
    return lambda values: lambda *args, **kw: fn(*args, **kw, **values)


def define_pairing(
    activation,
    penalty,
    *,
    activate: Callable | None = None,
    log_activate: Callable | None = None,
    loss: Callable | None = None,
    source: str = "",
    register: bool = True,
    replace: bool = False,
) -> PairingDefinition:
    """Defines (and by default registers) a pairing from symbolic definitions.

    Args:
      activation: a ``jaxsoftmax.derivations.Activation`` (``define_activation`` there).
      penalty: a ``jaxsoftmax.derivations.Penalty`` (``define_penalty`` there).
      activate, log_activate, loss: optional stable JAX functions that take the parameters by
        keyword: ``activate(z, axis=-1, **params)``, ``log_activate(z, axis=-1, **params)``,
        ``loss(z, t, axis=-1, **params)``; generated from the sympy definitions when absent.
      source: where the pairing comes from.
      register: add it to the registry (:func:`jaxsoftmax.register_definition`), so
        ``get_pairing("name(p=v)/name(p=v)")`` finds it.
      replace: replace a registered definition of the same names.

    Returns:
      The :class:`PairingDefinition`; call it with parameter values for a ``Pairing``.
    """
    defn = PairingDefinition(
        activation=activation.name,
        penalty=penalty.name,
        activation_params=tuple(activation.params),
        penalty_params=tuple(penalty.params),
        symbolic=lambda: (activation, penalty),
        activate=_as_factory(activate),
        log_activate=_as_factory(log_activate),
        loss=_as_factory(loss),
        source=source or f"{activation.source}; {penalty.source}".strip("; "),
    )
    if register:
        register_definition(defn, replace=replace)
    return defn


# --------------------------------------------------------------------------------------------
# The check every pairing gets
# --------------------------------------------------------------------------------------------


class PairingCheckError(AssertionError):
    """A pairing's Δ (or H) disagrees with ``jax.grad`` (or ``jax.hessian``) of its loss."""


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One comparison: quantity, q, batch shape, dtype, targets, worst error, tolerance."""

    quantity: str
    q: int
    batch_shape: tuple[int, ...]
    dtype: str
    targets: str
    max_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_error <= self.tolerance

    def __str__(self) -> str:
        return (
            f"{self.quantity:7s} q={self.q} batch={self.batch_shape} {self.dtype} "
            f"{self.targets:12s} max|err| {self.max_error:.2e} (tol {self.tolerance:.1e}) "
            + ("ok" if self.ok else "FAIL")
        )


@dataclasses.dataclass(frozen=True)
class PairingCheck:
    """The report of :func:`check_pairing`."""

    name: str
    rows: tuple[CheckRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> tuple[CheckRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    def __str__(self) -> str:
        head = f"{self.name}: {'ok' if self.ok else 'FAILED'} ({len(self.rows)} comparisons)"
        return "\n".join([head, *(f"  {r}" for r in self.rows)])


def _logits(rng, shape, domain):
    import numpy as np

    x = rng.normal(0.0, 1.0, shape)
    if domain == "positive":
        return np.abs(x) + 0.5
    if domain == "nonzero":
        return np.sign(x + (x == 0)) * (np.abs(x) + 0.2)
    return x


def _targets(rng, shape, kind):
    import numpy as np

    q = shape[-1]
    if kind == "one-hot":
        return np.eye(q)[rng.integers(0, q, shape[:-1])]
    if kind == "soft":
        return rng.dirichlet(np.ones(q), shape[:-1])
    return rng.uniform(0.0, 1.0, shape)


def check_pairing(
    pairing,
    *,
    qs: Sequence[int] = (2, 3, 4, 5, 6, 7, 8, 9, 10),
    batch_shapes: Sequence[tuple[int, ...]] = ((), (4,), (2, 3)),
    dtypes: Sequence[str] = ("float32", "float64"),
    hessian: bool = True,
    logit_domain: str | None = None,
    seed: int = 0,
    raise_on_failure: bool = True,
) -> PairingCheck:
    """Checks ``pairing.delta`` against ``jax.grad`` of its loss (and the Hessian against
    ``jax.hessian``) across q, batch shapes, dtypes and one-hot, soft and unnormalised targets.

    The check the built-ins get, for any pairing. Batch shapes cycle with q (q = 2 with the
    first, q = 3 with the second, ...); the three kinds of targets share one compiled program.
    Logits are drawn in the activation's domain (positive for the linear activation, away from
    0 for |z|); ``logit_domain`` overrides it. The Hessian is checked for pairings that come
    from a :class:`PairingDefinition`.

    Tolerances. The reference is always autodiff in **float64**, at the very inputs checked
    (rounded to the dtype first). In float64 the derived Δ and H must agree with it to
    1e-10·(1 + max|ref|). In float32 the derived values must agree with it to
    2e-5·(1 + max|ref|) (Δ) or 2e-4·(1 + max|ref|) (H), *plus* four times the larger of two
    measured float32 conditioning errors at those inputs: the error of float32 autodiff itself
    (``jax.grad`` / ``jax.hessian`` in float32 against float64), and how far the derived
    formula's float32 value moves when its logits move by one ulp (factors such as
    (1 − z*)^{γ−3/2} near z* → 1 amplify rounding in any float32 evaluation; a true change
    over one ulp is far below it). A systematic error (a formula wrong by 1e-3 relative) does
    not move with the ulp, and fails the float64 comparison whatever the float32 conditioning.

    Returns:
      A :class:`PairingCheck`; raises :class:`PairingCheckError` (listing the failures)
      instead when ``raise_on_failure`` and any comparison fails.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    defn = getattr(pairing, "definition", None)
    if logit_domain is None:
        logit_domain = defn.symbols()[0].logit_domain if defn is not None else "real"
    with_h = hessian and defn is not None
    rng = np.random.default_rng(seed)
    kinds = ("one-hot", "soft", "unnormalised")
    rows = []

    def routes(z, t):
        out = [pairing.delta(z, t), autodiff_delta(pairing, z, t)]
        if with_h:
            flat_z, flat_t = z.reshape(-1, z.shape[-1]), t.reshape(-1, t.shape[-1])
            auto_h = jax.vmap(jax.hessian(lambda a, b: pairing.loss(a, b)))(flat_z, flat_t)
            out += [pairing.hessian(flat_z, flat_t), auto_h]
        return out

    compiled = {dtype: jax.jit(routes) for dtype in ("float32", "float64")}

    def run(dtype, z, t):
        with jax.enable_x64(dtype == "float64"):
            res = compiled[dtype](jnp.asarray(z, dtype), jnp.asarray(t, dtype))
            return [np.asarray(r, np.float64) for r in res]

    for n, q in enumerate(qs):
        batch = tuple(batch_shapes[n % len(batch_shapes)])
        shape = (len(kinds), *batch, q)
        z = _logits(rng, shape, logit_domain)
        t: Any = np.stack([_targets(rng, (*batch, q), kind) for kind in kinds])
        if "float32" in dtypes:  # one set of inputs, exactly representable in every dtype
            z, t = z.astype(np.float32), t.astype(np.float32)
        ref = run("float64", z, t)
        for dtype in dtypes:
            res = ref if dtype == "float64" else run(dtype, z, t)
            f32 = dtype == "float32"
            # The same program one ulp away: how much its float32 evaluation moves there.
            near = run(dtype, np.nextafter(z, np.inf), t) if f32 else res
            hs = (len(kinds), -1, q, q)
            pairs = [("delta", res[0], res[1], ref[1], near[0])]
            if with_h:
                h_got, h_auto, h_ref, h_near = (
                    x.reshape(hs) for x in (res[2], res[3], ref[3], near[2])
                )
                pairs.append(("hessian", h_got, h_auto, h_ref, h_near))
            for quantity, got, auto, exact, moved in pairs:
                for i, kind in enumerate(kinds):
                    scale = 1.0 + float(np.max(np.abs(exact[i]), initial=0.0))
                    err = float(np.max(np.abs(got[i] - exact[i]), initial=0.0))
                    if not np.all(np.isfinite(got[i]) == np.isfinite(exact[i])):
                        err = float("inf")
                    if f32:
                        own = float(np.nanmax(np.abs(auto[i] - exact[i]), initial=0.0))
                        inh = float(np.nanmax(np.abs(moved[i] - got[i]), initial=0.0))
                        base = 2e-5 if quantity == "delta" else 2e-4
                        tol = base * scale + 4.0 * max(own, inh)
                    else:
                        tol = 1e-10 * scale
                    rows.append(CheckRow(quantity, q, batch, dtype, kind, err, tol))
    report = PairingCheck(pairing.name, tuple(rows))
    if raise_on_failure and not report.ok:
        raise PairingCheckError(
            f"{pairing.name}: Δ or H disagrees with JAX autodiff:\n"
            + "\n".join(f"  {r}" for r in report.failures)
        )
    return report
