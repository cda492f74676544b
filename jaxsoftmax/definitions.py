r"""Pairings defined once, symbolically, and used in both worlds: sympy and JAX.

A :class:`PairingDefinition` joins an activation and a penalty written as sympy expressions of
the class-indexed symbols (``jaxsoftmax.derivations.Activation`` /
``jaxsoftmax.derivations.Penalty``, with named parameters such as β, γ, ε). From it come,
lazily (sympy is imported on first use only, never by ``import jaxsoftmax``):

* the derived Δ_k = ∂ρ/∂z_k for general q (the paper's section 2 chain rule,
  ``jaxsoftmax.derivations.table1.derive``) and the Hessian H_kl with its convexity verdict
  (``jaxsoftmax.derivations.hessian``);
* a JAX :class:`~jaxsoftmax.pairings.Pairing` for each parameter value: ``activate`` and
  ``loss`` (the library's stable functions where attached, e.g. ``softmax``/``log_softmax``
  and ``softmax_cross_entropy_from_logits`` for the built-ins, otherwise generated from the
  sympy definitions), and ``delta`` / ``hessian`` evaluated from the derivation on the
  pairing's own activation outputs z* = ``activate(z)``;
* :func:`check_pairing`, the check of Δ and H against ``jax.grad`` / ``jax.hessian`` that the
  built-ins get, for any pairing.

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
from typing import Any

from jaxsoftmax.derivations.parameters import Parameter

__all__ = [
    "CheckRow",
    "PairingCheck",
    "PairingCheckError",
    "PairingDefinition",
    "Params",
    "canonical_name",
    "check_pairing",
    "define_pairing",
    "format_value",
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


def _side(ident: str, params: Sequence[Parameter], values: Mapping[str, float]) -> str:
    shown = [
        f"{p.name}={format_value(values[p.name])}"
        for p in sorted(params, key=lambda p: p.name)
        if p.default is None or values[p.name] != p.default
    ]
    return f"{ident}({', '.join(shown)})" if shown else ident


def canonical_name(defn: PairingDefinition, values: Mapping[str, float]) -> str:
    """The canonical name of ``defn`` at validated ``values`` (module docstring)."""
    return (
        f"{_side(defn.activation, defn.activation_params, values)}/"
        f"{_side(defn.penalty, defn.penalty_params, values)}"
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
        from .pairings import _instantiate

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
        from .pairings import register_definition

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

    from .pairings import autodiff_delta

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
