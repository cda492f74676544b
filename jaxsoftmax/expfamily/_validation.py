"""Argument handling shared by the public functions: the static checks and the cast to one
float dtype (:func:`_prepare`), and the eager value checks (:func:`_validate`)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import as_float_array, compute_dtype
from ._base import ExponentialFamily
from ._constraints import _is_tracer, _raise_violations, _stack_ok
from ._priors import _parse_priors, _prior_constraints


def _all_constraints(family, params, kind, prior_values, x, params_name="class_params"):
    groups = [
        (params_name, family.param_constraints(params)),
        ("psi", family.scale_constraints()),
        ("priors", _prior_constraints(kind, prior_values)),
    ]
    if x is not None and x.size:
        groups.append(("x", family.support_constraints(x)))
    return groups


class _Prepared(NamedTuple):
    family: Any
    params: jax.Array
    kind: str
    prior_values: jax.Array
    x: jax.Array | None


def _prepare(family, class_params, priors, x, *, fn: str, validate: bool = False) -> _Prepared:
    """Static checks (types, shapes) and the cast to one float dtype; with ``validate``, also
    the eager value checks of :func:`_validate`."""
    if not isinstance(family, ExponentialFamily):
        raise TypeError(
            f"{fn}: family must be an ExponentialFamily (e.g. "
            f"gaussian_shared_covariance(cov), poisson()), got "
            f"{type(family).__name__}"
        )
    if isinstance(class_params, (list, tuple)):
        shapes = [np.shape(c) for c in class_params]
        for k, s in enumerate(shapes):
            if s != shapes[0]:
                raise ValueError(
                    f"{fn}: every class's parameters must have the same shape; "
                    f"class_params[{k}] has shape {s} but class_params[0] has "
                    f"shape {shapes[0]}"
                )
    params = as_float_array(class_params, "class_params")
    if params.ndim == 0 or params.shape[0] == 0:
        raise ValueError(
            f"{fn}: class_params must stack q >= 1 classes on a leading axis, got "
            f"shape {params.shape}"
        )
    q = params.shape[0]
    event = tuple(family.event_shape(params.shape[1:]))
    kind, pv = _parse_priors(priors, q, params, fn)
    arrays = [params, pv]
    if x is not None:
        x = as_float_array(x, "x")
        e = len(event)
        if x.ndim < e or x.shape[x.ndim - e :] != event:
            raise ValueError(
                f"{fn}: x must have shape (..., {', '.join(map(str, event))}) "
                f"ending with one observation's shape {event} (from class_params "
                f"with shape {params.shape}); got x with shape {x.shape}"
            )
        arrays.append(x)
    leaves = [jnp.asarray(lf) for lf in jax.tree.leaves(family)]
    dtypes = [a.dtype for a in arrays] + [
        lf.dtype for lf in leaves if jnp.issubdtype(lf.dtype, jnp.floating)
    ]
    dtype = compute_dtype(np.result_type(*dtypes))  # half precision is computed in float32
    family = jax.tree.map(
        lambda lf: (
            jnp.asarray(lf).astype(dtype)
            if jnp.issubdtype(jnp.asarray(lf).dtype, jnp.number)
            else lf
        ),
        family,
    )
    prep = _Prepared(
        family, params.astype(dtype), kind, pv.astype(dtype), None if x is None else x.astype(dtype)
    )
    if validate:
        _validate(prep, fn)
    return prep


@functools.partial(jax.jit, static_argnames=("kind",))
def _all_ok(family, params, kind, prior_values, x):
    """Every value check at once: one compiled computation and one transfer on the fast path."""
    groups = _all_constraints(family, params, kind, prior_values, x)
    return _stack_ok([c for _, cons in groups for c in cons])


def _validate(prep: _Prepared, fn: str, *, where=None, params_name="class_params") -> None:
    """Eager value checks of every group of arguments whose values are concrete.

    Under ``jit``/``vmap``/``grad`` traced arguments cannot be checked and are skipped (the
    checkify path covers them); concrete ones (e.g. priors closed over by a jitted function)
    are still checked.
    """
    family, params, pv, x = prep.family, prep.params, prep.prior_values, prep.x
    with jax.ensure_compile_time_eval():
        if not _is_tracer(family, params, pv, x):
            if bool(_all_ok(family, params, prep.kind, pv, x)):
                return  # the fast path: one compiled check
        concrete = {
            params_name: not _is_tracer(family, params),
            "psi": not _is_tracer(family),
            "priors": not _is_tracer(pv),
            "x": not _is_tracer(family, x),
        }
        for default, cons in _all_constraints(family, params, prep.kind, pv, x, params_name):
            if concrete[default]:
                _raise_violations(cons, default, where or f"{fn}(family={family.name})")
