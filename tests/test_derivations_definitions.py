"""Issue 11, points 2 and 4: one definition for both worlds (names, parameters, Δ from the
derivation on the library's own outputs, check_pairing, user definitions) and the command
``python -m jaxsoftmax.derivations`` for a user's pairings."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsoftmax as js
from jaxsoftmax.derivations.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# Names and parameters
# --------------------------------------------------------------------------------------------


def test_builtin_names_and_params():
    p = js.get_pairing("softmax/cross_entropy")
    assert p is js.get_pairing("softmax", "cross_entropy")
    assert p is js.get_pairing("softmax(beta=1)/cross_entropy")
    assert p.name == "softmax/cross_entropy" and dict(p.params) == {"beta": 1.0}
    assert dict(js.get_pairing("l1/least_squares").params) == {}


@pytest.mark.parametrize(
    "spelling",
    [
        "softmax(beta=2)/focal(gamma=0.5)",
        "softmax(beta=2.0)/focal(gamma=1/2)",
        " softmax( beta = 2 ) / focal( gamma = 5e-1 ) ",
    ],
)
def test_canonical_names(spelling):
    p = js.get_pairing(spelling)
    assert p.name == "softmax(beta=2)/focal(gamma=0.5)"
    assert p is js.get_pairing("softmax(beta=2)/focal(gamma=0.5)")
    assert dict(p.params) == {"beta": 2.0, "gamma": 0.5}
    assert hash(p) == hash(js.get_pairing(p.name))
    assert (
        js.get_pairing("spherical(epsilon=0.25)/least_squares").name
        == "spherical(epsilon=0.25)/least_squares"
    )


@pytest.mark.parametrize(
    ("name", "match"),
    [
        (None, "known: linear/least_squares"),
        ("softmax/hinge", "unknown pairing softmax/hinge; known: linear/"),
        ("softmax/focal", "parameter gamma is required"),
        (
            "softmax/focal(gamma=-1)",
            r"gamma=-1.0 is not allowed; gamma must be a finite number ≥ 0",
        ),
        ("softmax/focal(gamma=inf)", "gamma must be a finite number ≥ 0"),
        ("softmax(beta=0)/cross_entropy", "beta must be a finite number ≠ 0"),
        ("spherical(epsilon=0)/least_squares", "epsilon must be a finite number > 0"),
        ("softmax(temp=2)/cross_entropy", "softmax has no parameter temp; its parameters: beta"),
        ("softmax(beta=two)/cross_entropy", "'two' is not a number"),
        ("softmax(beta=2/cross_entropy", "activation/penalty"),
    ],
)
def test_bad_names_and_values(name, match):
    with pytest.raises(ValueError, match=match):
        js.get_pairing(name)


def test_pairing_is_a_static_jit_argument():
    p = js.get_pairing("softmax(beta=2)/focal(gamma=2)")

    f = jax.jit(lambda z, t, pairing: pairing.loss(z, t, axis=0), static_argnums=2)
    z, t = jnp.ones((3, 2)), jnp.full((3, 2), 1 / 3)
    np.testing.assert_allclose(f(z, t, p), p.loss(z.T, t.T), rtol=1e-6)
    np.testing.assert_allclose(js.pairings.loss_along(p, z, t, 0), p.loss(z.T, t.T), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Δ from the derivation, on the library's own outputs
# --------------------------------------------------------------------------------------------


def test_softmax_least_squares_at_minus_infinity():
    # jax.nn.softmax gives NaN here; the library's softmax gives 0, and so do Δ and jax.grad.
    p = js.get_pairing("softmax/least_squares")
    z, t = jnp.full(3, -jnp.inf), jnp.array([0.0, 1, 0])
    np.testing.assert_array_equal(p.delta(z, t), js.autodiff_delta(p, z, t))
    np.testing.assert_array_equal(p.delta(z, t), 0.0)


def test_builtin_delta_comes_from_the_derivation():
    import sympy as sp

    p = js.get_pairing("softmax/cross_entropy")
    assert p.definition is not None
    assert isinstance(p.derivation().delta, sp.Expr)
    assert "z^*_{k}" in p.latex


@pytest.mark.parametrize(
    "name",
    [
        "softmax(beta=2)/cross_entropy",
        "softmax(beta=0.5)/focal(gamma=2)",
        "spherical(epsilon=0.5)/least_squares",
    ],
)
def test_pairings_beyond_the_paper_pass_the_check(name):
    report = js.check_pairing(js.get_pairing(name), qs=(2, 5), batch_shapes=((), (2, 3)))
    assert report.ok and len(report.rows) == 2 * 2 * 3 * 2  # q × dtype × targets × Δ/H


def test_check_pairing_catches_a_wrong_delta():
    good = js.get_pairing("softmax/cross_entropy")
    bad = js.Pairing("softmax", "bad", good.activate, good.loss, lambda z, t: js.softmax(z) - t)
    with pytest.raises(js.PairingCheckError, match="unnormalised"):
        js.check_pairing(bad, qs=(3,), dtypes=("float32",))
    report = js.check_pairing(bad, qs=(3,), dtypes=("float32",), raise_on_failure=False)
    assert not report.ok and {r.targets for r in report.failures} == {"unnormalised"}


def test_jitted_delta_is_as_fast_as_a_hand_written_one():
    import time

    p = js.get_pairing("softmax/least_squares")
    z = jax.random.normal(jax.random.key(0), (4096, 10))
    t = jax.nn.one_hot(jnp.arange(4096) % 10, 10)

    @jax.jit
    def hand(z, t):
        s = js.softmax(z)
        r = s - t
        return s * (r - jnp.sum(s * r, axis=-1, keepdims=True))

    np.testing.assert_allclose(p.delta(z, t), hand(z, t), atol=1e-6)

    def best(f):
        f(z, t).block_until_ready()
        times = []
        for _ in range(30):
            start = time.perf_counter()
            f(z, t).block_until_ready()
            times.append(time.perf_counter() - start)
        return min(times)

    assert best(p.delta) < 3 * best(hand) + 2e-4  # noisy shared cores: a generous bound


# --------------------------------------------------------------------------------------------
# A user's definition, and the command line
# --------------------------------------------------------------------------------------------

PLUGIN = textwrap.dedent(
    '''
    """A user's pairing: a softmax with a margin-free temperature and a power penalty."""
    import sympy as sp
    import jaxsoftmax as js
    from jaxsoftmax.derivations import Parameter, class_sum, define_activation, define_penalty
    from jaxsoftmax.derivations.symbols import i, z

    TAU = Parameter("tau", "positive", default=1.0, doc="temperature")
    P = Parameter("p", "positive", doc="the power of the penalty")
    act = define_activation(
        "usersoftmax",
        lambda m, tau: sp.exp(z[m] / tau) / class_sum(sp.exp(z[i] / tau), i),
        params=(TAU,),
        source="a user's softmax with temperature τ",
    )
    pen = define_penalty(
        "power",
        lambda o, y, p: y * (1 - o) ** (p + 1) / (p + 1),
        params=(P,),
        source="a user's penalty",
    )
    DEFN = js.define_pairing(act, pen, replace=True)
    '''
)


@pytest.fixture
def plugin(tmp_path):
    path = tmp_path / "my_pairings.py"
    path.write_text(PLUGIN, encoding="utf-8")
    yield path
    js.pairings._DEFINITIONS.pop(("usersoftmax", "power"), None)


def test_user_definition_registers_and_checks(plugin):
    from jaxsoftmax.derivations.cli import load_plugin

    load_plugin(str(plugin))
    p = js.get_pairing("usersoftmax(tau=2)/power(p=1.5)")
    assert p.name == "usersoftmax(tau=2)/power(p=1.5)"
    assert js.check_pairing(p, qs=(2, 4), batch_shapes=((3,),)).ok
    with pytest.raises(ValueError, match="parameter p is required"):
        js.get_pairing("usersoftmax/power")


def test_cli_reports_a_plugin(plugin, tmp_path, capsys):
    out = tmp_path / "report.md"
    code = main(["--plugin", str(plugin), "--pairing", "usersoftmax/power(p=2)", "--out", str(out)])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "## usersoftmax/power(p=2)" in text
    assert "convexity in the logits" in text and "JAX check" in text and "**ok**" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--plugin", "no/such/file.py"], "plugin file not found"),
        (["--plugin", "no_such_module_xyz"], "plugin module not found"),
        (["--pairing", "softmax/hinge"], "unknown pairing softmax/hinge"),
        (["--pairing", "softmax/focal(gamma=-2)"], "gamma must be"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_broken_plugin_subprocess(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import jaxsoftmax\nraise RuntimeError('boom')\n", encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "derivations", "--plugin", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: --plugin {broken}: failed to import (line 2 of broken.py): RuntimeError: boom"
    ]


def test_cli_default_writes_nothing(tmp_path, monkeypatch):
    import jaxsoftmax.derivations as derivations

    before = derivations.TABLE1_PATH.stat().st_mtime_ns
    assert main(["--quiet"]) == 0
    assert derivations.TABLE1_PATH.stat().st_mtime_ns == before


def test_import_jaxsoftmax_does_not_import_sympy():
    code = "import sys, jaxsoftmax; assert 'sympy' not in sys.modules, 'sympy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
