"""The family protocol: :class:`ExponentialFamily`, its pytree registration, shared helpers."""

from __future__ import annotations

import abc
import dataclasses
import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax

from .._checks import as_float_array
from ._constraints import Constraint, _is_tracer, _raise_violations, _stack_ok

_LOG_2PI = math.log(2 * math.pi)
_dot = functools.partial(jnp.matmul, precision=lax.Precision.HIGHEST)


def _lead(a: jax.Array, ndim: int) -> jax.Array:
    """``a`` with leading size-1 axes up to rank ``ndim`` (explicit rank promotion)."""
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _batched(params: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """One class's parameters broadcast to ``shape + params.shape`` (for ``sample``)."""
    return jnp.broadcast_to(params, (*shape, *params.shape))


def _flatten_family(obj):
    if not dataclasses.is_dataclass(obj):
        return (), ((), (), obj)
    leaves, static = [], []
    for f in dataclasses.fields(obj):
        (static if f.metadata.get("static") else leaves).append(f.name)
    children = tuple(getattr(obj, n) for n in leaves)
    aux = (tuple(leaves), tuple((n, getattr(obj, n)) for n in static), None)
    return children, aux


def _unflatten_family(cls, aux, children):
    names, static, whole = aux
    if whole is not None:
        return whole
    obj = object.__new__(cls)
    for n, v in (*zip(names, children, strict=True), *static):
        object.__setattr__(obj, n, v)
    return obj


class ExponentialFamily(abc.ABC):
    r"""One exponential family with a common scale ψ (the paper's section 3).

    .. math::
        \log P(x \mid \theta, \psi) = \frac{\theta^\top T(x) - b(\theta)}{a(\psi)} + c(x, \psi)

    Subclasses are frozen dataclasses whose fields hold ψ (and any other shared constants); they
    are registered as pytrees on definition, fields becoming leaves. Every method below takes
    *one* class's parameters or *one* observation; the module's functions vmap them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_node(
            cls, _flatten_family, functools.partial(_unflatten_family, cls)
        )

    @property
    def name(self) -> str:
        return type(self).__name__

    def event_shape(self, param_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape E of one observation, given one class's parameter shape (default: equal).

        Raises ``ValueError`` when ``param_shape`` does not fit the family.
        """
        return tuple(param_shape)

    @abc.abstractmethod
    def sufficient_statistic(self, x: jax.Array) -> jax.Array:
        """T(x) for one observation x of shape E."""

    @abc.abstractmethod
    def natural_parameters(self, params: jax.Array) -> jax.Array:
        """θ from one class's usual parameters (the shape of T(x))."""

    @abc.abstractmethod
    def mean_parameters(self, theta: jax.Array) -> jax.Array:
        """The usual parameters from θ: the inverse of :meth:`natural_parameters`."""

    @abc.abstractmethod
    def log_partition(self, theta: jax.Array) -> jax.Array:
        """b(θ) for one class, a scalar."""

    @abc.abstractmethod
    def log_base_measure(self, x: jax.Array) -> jax.Array:
        """c(x, ψ) for one observation, a scalar. It cancels from the posterior."""

    def dispersion(self) -> jax.Array | float:
        """a(ψ), a positive scalar shared by every class (default 1)."""
        return 1.0

    def param_constraints(self, params: jax.Array) -> Sequence[Constraint]:
        """Domain checks on the stacked parameters ``(q, *P)``, elementwise or per class."""
        return ()

    def support_constraints(self, x: jax.Array) -> Sequence[Constraint]:
        """Support checks on observations ``(..., *E)``, elementwise or per observation."""
        return ()

    def scale_constraints(self) -> Sequence[Constraint]:
        """Checks on the family's own fields (ψ); each Constraint names its field."""
        return ()

    def sample(self, key: jax.Array, params: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Draws observations of shape ``(*shape, *B, *E)`` from parameters of shape (*B, *P).

        ``params`` is one class's parameters (shape P, B empty), or a batch of them (B, *P),
        one per observation: :func:`jaxsoftmax.problems.sample` passes each observation's class
        parameters with ``shape=()``. Pure and keyed; where the family allows, the same key
        gives draws that move smoothly with the parameters (e.g. Gaussian x = μ + Lε).
        """
        raise NotImplementedError(f"{self.name} does not define sample()")

    def log_prob(self, params: jax.Array, x: jax.Array) -> jax.Array:
        """log P(x | params) for one class and one observation, from (T, θ, b, a, c)."""
        theta = self.natural_parameters(params)
        t = self.sufficient_statistic(x)
        a = self.dispersion()
        return (jnp.sum(theta * t) - self.log_partition(theta)) / a + self.log_base_measure(x)


def _scalar(value, name: str, family: str) -> jax.Array:
    v = as_float_array(value, name)
    if v.ndim != 0:
        raise ValueError(
            f"{family}: {name} must be a scalar shared by all classes, got shape {v.shape}"
        )
    return v


@jax.jit
def _scale_ok(fam):
    return _stack_ok(fam.scale_constraints())


def _check_scale(fam: ExponentialFamily, fn: str) -> None:
    if not _is_tracer(fam):
        with jax.ensure_compile_time_eval():
            if not bool(_scale_ok(fam)):
                _raise_violations(fam.scale_constraints(), "psi", fn)


def _build(cls, fn: str, **scalars):
    """``cls`` from scalar fields shared by all classes, its scale constraints checked.

    The body of the constructors ``binomial(n_trials)``, ``gamma(shape)``, ...; errors are
    prefixed with the constructor's name ``fn``.
    """
    fam = cls(**{name: _scalar(v, name, fn) for name, v in scalars.items()})
    _check_scale(fam, fn)
    return fam
