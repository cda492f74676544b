"""Shared test set-up: strict numerics, hypothesis profile, and one fixture per JAX backend."""

from __future__ import annotations

import jax
import pytest
from hypothesis import settings

TEST_DEVICES = 2


def pytest_configure(config):
    """Two XLA host devices for every test session, whichever files are collected, so the
    sharded paths run (and the device count never depends on an import's side effects)."""
    jax.config.update("jax_num_cpu_devices", TEST_DEVICES)


@pytest.fixture(autouse=True)
def strict_promotion(request):
    """Catch sloppy promotion in library code: mixing float32 with float64, or relying on
    implicit rank promotion, raises instead of silently widening.

    On for every test module unless it sets ``STRICT_PROMOTION = False`` (with its reason):
    optax's own update rules (e.g. Adam's bias correction, ``decay ** count``) are not written
    for strict dtype promotion.
    """
    if not getattr(request.module, "STRICT_PROMOTION", True):
        yield
        return
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


settings.register_profile("default", max_examples=25, deadline=None, print_blob=True)
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("ci" if __import__("os").environ.get("CI") else "default")

PLATFORMS = ("cpu", "gpu", "tpu")


def platform_devices(platform: str) -> list:
    """The devices JAX sees for ``platform`` (an empty list when the backend is absent)."""
    try:
        return jax.devices(platform)
    except RuntimeError:
        return []


@pytest.fixture(params=PLATFORMS)
def device(request):
    """Runs the test body with ``request.param``'s first device as JAX's default device.

    CPU always runs; GPU and TPU run for real when JAX sees them and are skipped, with the
    reason, when it does not.
    """
    devices = platform_devices(request.param)
    if not devices:
        pytest.skip(f"no {request.param.upper()} visible to JAX {jax.__version__} on this machine")
    with jax.default_device(devices[0]):
        yield devices[0]
