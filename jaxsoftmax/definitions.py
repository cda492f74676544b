r"""Pairings defined once, symbolically, and used in both worlds: sympy and JAX.

A :class:`PairingDefinition` joins an activation and a penalty written as sympy expressions of
the class-indexed symbols (``jaxsoftmax.derivations.Activation`` /
``jaxsoftmax.derivations.Penalty``, with named parameters such as β, γ, ε). From it come,
lazily (sympy is imported on first use only, never by ``import jaxsoftmax``):

* the derived Δ_k = ∂ρ/∂z_k for general q (the paper's section 2 chain rule,
  ``jaxsoftmax.derivations.table1.derive``) and the Hessian H_kl with its convexity verdict
  (``jaxsoftmax.derivations.hessian``);
* a JAX :class:`Pairing` for each parameter value (``defn(beta=2)``): ``activate`` and
  ``loss`` (the library's stable functions where attached, e.g. ``softmax``/``log_softmax``
  and ``softmax_cross_entropy_from_logits`` for the built-ins, otherwise generated from the
  sympy definitions), and ``delta`` / ``hessian`` evaluated from the derivation on the
  pairing's own activation outputs z* = ``activate(z)``;
* :func:`jaxsoftmax.check_pairing`, the check of Δ and H against ``jax.grad`` /
  ``jax.hessian`` that the built-ins get, for any pairing.

Imports go one way (issue 23, item 8): :mod:`jaxsoftmax.pairings` (the registry, the
built-ins, :func:`~jaxsoftmax.pairings.define_pairing` and
:func:`~jaxsoftmax.pairings.check_pairing`) imports this module, never the reverse
(``tests/test_import_graph.py``).

Pairing names (``get_pairing``), canonical form::

    name   := side "/" side
    side   := IDENT [ "(" IDENT "=" NUMBER { "," IDENT "=" NUMBER } ")" ]
    NUMBER := a Python int or float literal, or a fraction "a/b"

Canonical: parameters sorted by name, those at their default left out, values written as the
shortest float that round-trips (``repr``), integers without ".0", so equal values give equal
strings: ``"softmax(beta=2)/focal(gamma=0.5)"``; ``"softmax(beta=1)/cross_entropy"`` is
``"softmax/cross_entropy"``.
"""

from __future__ import annotations

import dataclasses
import fractions
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

import jax
import jax.numpy as jnp

from jaxsoftmax.derivations.parameters import Parameter

from ._checks import as_float_array, same_shape

__all__ = [
    "Pairing",
    "PairingDefinition",
    "Params",
    "canonical_name",
    "format_value",
    "full_name",
    "parse_name",
]


class Params(Mapping):
    """A read-only, hashable mapping of parameter name → float (``Pairing.params``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, float] | Sequence[tuple[str, float]] = ()):
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = tuple(sorted((str(k), float(v)) for k, v in pairs))

    def __getitem__(self, key: str) -> float:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Params):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"Params({dict(self._items)!r})"


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def format_value(x: float) -> str:
    """A parameter value in canonical form: ``2`` for 2.0, ``0.5``, ``1e-07``."""
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


_SIDE = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*(?:\((.*)\))?\s*$", re.S)


def _number(text: str, where: str) -> float:
    s = text.strip()
    try:
        if "/" in s:
            return float(fractions.Fraction(s.replace(" ", "")))
        return float(s)
    except (ValueError, ZeroDivisionError):
        raise ValueError(
            f"{where}: {text.strip()!r} is not a number (write an int, a float or a/b)"
        ) from None


def _split_top(name: str) -> list[str]:
    """Splits ``name`` at the '/' outside parentheses."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in name:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "/" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_side(text: str, name: str) -> tuple[str, dict[str, float]]:
    match = _SIDE.match(text)
    if not match:
        raise ValueError(
            f"cannot read {text.strip()!r} in the pairing name {name!r}; write "
            "'activation/penalty' with optional parameters, e.g. "
            "'softmax(beta=2)/focal(gamma=0.5)'"
        )
    ident, inner = match.group(1), match.group(2)
    values: dict[str, float] = {}
    if inner is not None and inner.strip():
        for item in inner.split(","):
            key, eq, val = item.partition("=")
            key = key.strip()
            if not eq or not key.isidentifier():
                raise ValueError(
                    f"cannot read the parameter {item.strip()!r} of {ident} in {name!r}; "
                    "write name=value"
                )
            if key in values:
                raise ValueError(f"parameter {key} given twice in {name!r}")
            values[key] = _number(val, f"parameter {key} of {ident} in {name!r}")
    return ident, values


def parse_name(name: str) -> tuple[str, dict[str, float], str, dict[str, float]]:
    """``"act(p=v)/pen(p=v)"`` → (activation, its values, penalty, its values).

    Raises ``ValueError`` when the text does not follow the grammar of the module docstring.
    """
    if not isinstance(name, str):
        raise ValueError(f"a pairing name is a string, got {name!r}")
    parts = _split_top(name)
    if len(parts) != 2:
        raise ValueError(
            f"a pairing is named 'activation/penalty', got {name!r}"
            + ("" if len(parts) == 1 else " (more than one '/' outside parentheses)")
        )
    act, act_values = _parse_side(parts[0], name)
    pen, pen_values = _parse_side(parts[1], name)
    return act, act_values, pen, pen_values


def _side(
    ident: str, params: Sequence[Parameter], values: Mapping[str, float], every: bool = False
) -> str:
    shown = [
        f"{p.name}={format_value(values[p.name])}"
        for p in sorted(params, key=lambda p: p.name)
        if every or p.default is None or values[p.name] != p.default
    ]
    return f"{ident}({', '.join(shown)})" if shown else ident


def canonical_name(defn: PairingDefinition, values: Mapping[str, float]) -> str:
    """The canonical name of ``defn`` at validated ``values`` (module docstring)."""
    return (
        f"{_side(defn.activation, defn.activation_params, values)}/"
        f"{_side(defn.penalty, defn.penalty_params, values)}"
    )


def full_name(defn: PairingDefinition, values: Mapping[str, float]) -> str:
    """``defn`` at ``values`` with *every* parameter written, those at their default too:
    ``"softmax(beta=1)/focal(gamma=2)"`` where the canonical name is
    ``"softmax/focal(gamma=2)"``. A label for plots and tables where a parameter is an axis
    (a value at its default must not vanish from it); :func:`get_pairing` accepts it."""
    return (
        f"{_side(defn.activation, defn.activation_params, values, every=True)}/"
        f"{_side(defn.penalty, defn.penalty_params, values, every=True)}"
    )


# --------------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------------

Factory = Callable[[Mapping[str, float]], Callable]
"""params → a JAX function: how a hand-written, stable JAX form is attached to a definition."""


@dataclasses.dataclass(frozen=True, eq=False)
class PairingDefinition:
    """An activation × penalty defined symbolically, with named parameters (a family).

    Attributes:
      activation, penalty: the names used in pairing names.
      activation_params, penalty_params: their
        :class:`~jaxsoftmax.derivations.parameters.Parameter` s.
      symbolic: ``() -> (derivations.Activation, derivations.Penalty)``; called on first use.
      activate: optional factory ``params -> f(z, axis=-1)``: the library's own activation
        (stable); without it the activation is generated from the sympy definition.
      log_activate: optional factory ``params -> log f(z, axis=-1)`` (log_softmax): logs of
        the outputs in Δ and in a generated loss are taken from it (stable in log space).
      loss: optional factory ``params -> loss(z, t, axis=-1)``: a stable loss from logits;
        without it the loss is the penalty's sum over the activation's outputs.
      source: where the pairing comes from.
    """

    activation: str
    penalty: str
    activation_params: tuple[Parameter, ...]
    penalty_params: tuple[Parameter, ...]
    symbolic: Callable[[], tuple]
    activate: Factory | None = None
    log_activate: Factory | None = None
    loss: Factory | None = None
    source: str = ""
    _cache: dict = dataclasses.field(default_factory=dict, repr=False)
    _lock: threading.RLock = dataclasses.field(default_factory=threading.RLock, repr=False)

    def __post_init__(self):
        names = [p.name for p in self.params]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(
                f"{self.activation}/{self.penalty}: the activation and the penalty both have "
                f"a parameter named {', '.join(sorted(dup))}; rename one"
            )

    @property
    def params(self) -> tuple[Parameter, ...]:
        """Every parameter, the activation's first."""
        return (*self.activation_params, *self.penalty_params)

    @property
    def family(self) -> str:
        """The family's name for listings, e.g. ``softmax(beta=…)/focal(gamma=…)``."""

        def side(ident, params):
            inner = ", ".join(f"{p.name}=…" for p in sorted(params, key=lambda p: p.name))
            return f"{ident}({inner})" if inner else ident

        return (
            f"{side(self.activation, self.activation_params)}/"
            f"{side(self.penalty, self.penalty_params)}"
        )

    def validate(self, values: Mapping[str, object], where: str = "") -> dict[str, float]:
        """Every parameter's value (defaults filled in), validated; ``ValueError`` otherwise."""
        where = where or self.family
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ValueError(
                f"{where}: unknown parameter {', '.join(unknown)}; its parameters: {allowed}"
            )
        out = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = p.validate(values[p.name], where)
            elif p.default is not None:
                out[p.name] = p.default
            else:
                raise ValueError(
                    f"{where}: parameter {p.name} is required ({p.doc or p.domain}); "
                    f"e.g. {self.family.replace(f'{p.name}=…', f'{p.name}=1')}"
                )
        return out

    def __call__(self, **values: float):
        """The JAX :class:`~jaxsoftmax.pairings.Pairing` at these parameter values (cached)."""
        return _instantiate(self, self.validate(values))

    # ---- the symbolic side, derived once ----------------------------------------------------

    def _once(self, key: str, make: Callable):
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def symbols(self) -> tuple:
        """``(derivations.Activation, derivations.Penalty)`` (imports sympy)."""
        return self._once("symbolic", self.symbolic)

    def lowered(self):
        """``jaxsoftmax.derivations.to_jax.Lowered``: the JAX functions of the derivation."""
        from jaxsoftmax.derivations.to_jax import lower

        return self._once("lowered", lambda: lower(*self.symbols()))

    def derivation(self):
        """The derived Δ_k for general q (``jaxsoftmax.derivations.Derivation``)."""
        return self.lowered().derivation

    def hessian(self):
        """The derived H_kl for general q (``jaxsoftmax.derivations.hessian.Hessian``)."""
        return self.lowered().hessian_derivation

    def convexity(self, values: Mapping[str, float] | None = None):
        """Convexity of ρ∘f in the logits: proof, counterexample or not decided.

        Without ``values``, the *family's* verdict (convex for every parameter value in its
        domain; a counterexample may pick any). With ``values`` (``{"gamma": 0}``), the
        *instance's*: ``softmax/focal`` is not convex as a family (γ = 3/2 gives a negative
        eigenvalue) while its instance γ = 0, cross-entropy, is.
        """
        from jaxsoftmax.derivations.hessian import convexity

        if not values:
            return self._once("convexity", lambda: convexity(self.hessian()))
        symbols = {p.name: p.symbol for p in (*self.activation_params, *self.penalty_params)}
        unknown = sorted(set(values) - set(symbols))
        if unknown:
            raise ValueError(
                f"convexity: no parameter {unknown[0]!r} in {self.family}; "
                f"parameters are {sorted(symbols)}"
            )
        fixed = {symbols[name]: float(v) for name, v in sorted(values.items())}
        key = "convexity" + repr(sorted(values.items()))
        return self._once(key, lambda: convexity(self.hessian(), values=fixed))


# --------------------------------------------------------------------------------------------
# A definition's instance: the JAX Pairing
# --------------------------------------------------------------------------------------------

_LOCK = threading.RLock()  # guards _INSTANCES here and the registry in jaxsoftmax.pairings
_INSTANCES: dict[str, Pairing] = {}

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

    @property
    def full_name(self) -> str:
        """:attr:`name` with every parameter written, defaults too
        (``"softmax(beta=1)/focal(gamma=2)"``; :func:`full_name`); :attr:`name` for a pairing
        registered by hand."""
        if self.definition is None:
            return self.name
        return full_name(self.definition, self.params)

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
        from jaxsoftmax.derivations.printing import latex

        return latex(self.derivation().display)


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
