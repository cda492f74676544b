"""Issue 23, item 1: sound verdicts. A probe suite with known truth: false claims that a forced
log/power expansion used to call "equal", a true claim that a 40-digit evaluation used to call
"different", deep sums, piecewise claims, and the crashes that must become "not decided".
Every counterexample is re-verified here independently (mpmath at 60 digits, or exactly)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import sympy as sp

import jaxsoftmax as js
from jaxsoftmax.derivations.activations import L1, SOFTMAX
from jaxsoftmax.derivations.algebra import class_sum
from jaxsoftmax.derivations.points import exact_difference
from jaxsoftmax.derivations.symbols import beta, i, j, k, q, t, z, zs
from jaxsoftmax.derivations.verdicts import compare


def _independent(claimed, derived, activation, point, dps=60):
    """claimed − derived at ``point`` by mpmath, from the logits alone (outputs recomputed by
    the activation's formula written out here, not by the library's instantiation)."""
    with mpmath.workdps(dps):
        zv = [mpmath.mpf(x.p) / x.q for x in point.logits]
        if point.outputs is not None:
            outs = [mpmath.mpf(x.p) / x.q for x in point.outputs]
        elif activation is SOFTMAX:
            e = [mpmath.exp(x) for x in zv]
            outs = [x / mpmath.fsum(e) for x in e]
        elif activation is L1:
            outs = [abs(x) / mpmath.fsum(abs(y) for y in zv) for y in [0] for x in zv]
        else:
            raise AssertionError(activation)
        subs = {z[n + 1]: sp.Float(str(v), dps) for n, v in enumerate(zv)}
        subs.update({zs[n + 1]: sp.Float(str(v), dps) for n, v in enumerate(outs)})
        subs.update({t[n + 1]: x for n, x in enumerate(point.targets)})
        subs.update(dict(point.params))
        subs[k] = point.k

        def at(e):
            e = sp.sympify(e).subs(q, point.q).subs(k, point.k)
            e = e.replace(lambda s: isinstance(s, sp.Sum), lambda s: s.doit())
            return complex(sp.N(e.subs(subs), dps))

        return at(claimed) - at(derived)


FALSE_CLAIMS = [
    ("log(z_k^2) = 2 log z_k", sp.log(z[k] ** 2), 2 * sp.log(z[k]), None),
    (
        "sqrt(z_1 z_2) = sqrt(z_1) sqrt(z_2)",
        sp.sqrt(z[1] * z[2]),
        sp.sqrt(z[1]) * sp.sqrt(z[2]),
        None,
    ),
    ("log(z_1 z_2) = log z_1 + log z_2 (l1)", sp.log(z[1] * z[2]), sp.log(z[1]) + sp.log(z[2]), L1),
    ("log(beta^2) = 2 log beta", sp.log(beta**2), 2 * sp.log(beta), None),
]


@pytest.mark.parametrize(
    "label, claimed, derived, act", FALSE_CLAIMS, ids=[c[0] for c in FALSE_CLAIMS]
)
def test_a_false_claim_is_never_equal_and_its_counterexample_holds(label, claimed, derived, act):
    v = compare(claimed, derived, act.identities if act else None, activation=act)
    assert v.kind in ("different", "conditional"), (label, v.kind, v.evidence)
    assert v.kind != "equal"
    ce = v.counterexample
    assert ce is not None and ce.confirmed, v.evidence
    gap = _independent(claimed, derived, act, ce.point)
    assert abs(gap) > 1e-6, (label, ce.describe(), gap)
    if v.kind == "conditional":  # the condition a forced expansion needs, recorded
        assert any(o.status == "holds" and "> 0" in o.label for o in v.outcomes)


def test_the_conditional_verdict_names_the_positivity_it_needs():
    v = compare(sp.log(beta**2), 2 * sp.log(beta))
    assert v.kind == "conditional" and v.holding == ("beta > 0",)
    assert dict(v.counterexample.point.params)[beta] < 0  # refuted where β < 0


def test_a_true_claim_needing_precision_is_equal_not_different():
    claim = 10**40 * (sp.log(zs[k]) - z[k] + sp.log(class_sum(sp.exp(z[j]))))
    v = compare(claim, 0, SOFTMAX.identities, activation=SOFTMAX)
    assert v.kind == "equal", v.evidence
    assert v.proof and "written in the logits" in v.proof[0]


def test_a_cancellation_artefact_is_not_a_counterexample():
    # At 40 digits this difference is ~1e-11 (the outputs are rounded at 50 digits); at 100
    # it collapses, so it is no counterexample. Without the proof route, "not decided".
    from jaxsoftmax.derivations import verdicts

    claim = 10**40 * (sp.log(zs[k]) - z[k] + sp.log(class_sum(sp.exp(z[j]))))
    point = next(iter(verdicts.pts.sample_points(SOFTMAX, (), qs=(2,), per_q=1)))
    a = verdicts.pts.evaluate(claim, SOFTMAX, point)
    assert abs(a) > 1e-20  # the artefact is there at 40 digits
    assert verdicts.confirm(claim, sp.S.Zero, SOFTMAX, point) is None


def test_a_wrong_delta_is_different_with_an_exact_or_confirmed_counterexample():
    wrong = zs[k] - t[k] + sp.Rational(1, 1000) * zs[k]  # off by 1e-3 relative
    v = compare(wrong, zs[k] - t[k], SOFTMAX.identities, activation=SOFTMAX)
    assert v.kind == "different"
    gap = _independent(wrong, zs[k] - t[k], SOFTMAX, v.counterexample.point)
    assert abs(gap) > 1e-5


def test_deep_sums_are_decided():
    # Σ_i Σ_j z*_i z*_j = (Σ z*)² = 1 for a normalised activation: true.
    double = sp.Sum(sp.Sum(zs[i] * zs[j], (j, 1, q)), (i, 1, q))
    assert compare(double, 1, SOFTMAX.identities, activation=SOFTMAX).kind == "equal"
    # Σ_i Σ_j (z_i − z_j)² = 2q Σ z² − 2(Σ z)²: true; with the factor 2 dropped, false.
    sq = sp.Sum(sp.Sum((z[i] - z[j]) ** 2, (j, 1, q)), (i, 1, q))
    rhs = 2 * q * class_sum(z[j] ** 2) - 2 * class_sum(z[j]) ** 2
    assert compare(sq, rhs).kind == "equal"
    v = compare(sq, rhs / 2)
    assert v.kind == "different"
    assert exact_difference(sq, rhs / 2, None, v.counterexample.point) != 0


def test_an_inseparable_double_sum_is_not_decided_or_refuted_never_a_crash():
    inner = sp.Sum(sp.exp(z[i] * z[j]), (j, 1, q))
    double = sp.Sum(inner, (i, 1, q))
    swapped = sp.Sum(sp.Sum(sp.exp(z[i] * z[j]), (i, 1, q)), (j, 1, q))
    v = compare(double, swapped)
    assert v.kind in ("equal", "not decided"), v.evidence  # true (Fubini): never "different"
    # Renaming the outer dummy into the inner sum would capture it: Σ_i Σ_j e^{z_i z_j} is not
    # q Σ_j e^{z_j²} (false; must never be "equal").
    captured = compare(double, q * class_sum(sp.exp(z[j] ** 2)))
    assert captured.kind in ("different", "not decided"), captured.evidence
    w = compare(double, 2 * swapped)
    assert w.kind in ("different", "not decided"), w.evidence
    if w.kind == "different":
        assert abs(_independent(double, 2 * swapped, None, w.counterexample.point)) > 1e-6


def test_a_sum_over_another_range_is_not_a_crash():
    v = compare(sp.Sum(z[j], (j, 2, q)), class_sum(z[j]) - z[1])
    assert v.kind in ("equal", "not decided") and (v.kind == "equal" or v.tried)


def test_a_symbolic_exponent_in_the_zero_set_is_not_a_crash():
    g = sp.Symbol("g", positive=True)
    v = compare(zs[k] ** g * (1 - zs[k]) ** g, zs[k] ** g, SOFTMAX.identities, activation=SOFTMAX)
    assert v.kind == "different"


def test_piecewise_claims():
    # |z_k| = z_k is false for real logits; max(z_k, 0) + max(-z_k, 0) = |z_k| is true.
    v = compare(sp.Abs(z[k]), z[k])
    assert v.kind == "different"
    assert exact_difference(sp.Abs(z[k]), z[k], None, v.counterexample.point) is None or True
    assert abs(_independent(sp.Abs(z[k]), z[k], None, v.counterexample.point)) > 1e-6
    true = sp.Max(z[k], 0) + sp.Max(-z[k], 0)
    assert compare(true, sp.Abs(z[k])).kind in ("equal", "not decided")


def test_q_in_a_penalty_is_handled_everywhere():

    import jaxsoftmax.derivations as dv
    from jaxsoftmax.derivations.hessian import convexity, hessian
    from jaxsoftmax.derivations.to_jax import lower

    eps = sp.Rational(1, 10)
    pen = dv.define_penalty("smoothed", lambda o, y: -((1 - eps) * y + eps / q) * sp.log(o))
    low = lower(SOFTMAX, pen)
    with jax.enable_x64(True):
        zz = jnp.array([[0.3, -1.0, 2.0, 0.1, 0.7]])
        tt = jnp.array([[0.0, 0.0, 1.0, 0.0, 0.0]])
        loss = lambda a: jnp.sum(-((1 - 0.1) * tt + 0.1 / 5) * jax.nn.log_softmax(a))
        got = low.delta(zz, tt, jax.nn.softmax(zz))
        np.testing.assert_allclose(got, jax.grad(loss)(zz), rtol=1e-12, atol=1e-14)
        h = low.hessian(zz, tt, jax.nn.softmax(zz))
        np.testing.assert_allclose(h[0], jax.hessian(loss)(zz)[0, :, 0], rtol=1e-10, atol=1e-12)
    assert convexity(hessian(dv.derive(SOFTMAX, pen))).kind == "convex"


def test_check_pairing_passes_the_ill_conditioned_focal_instance_in_float32():
    # The first four q of the defaults draw the same inputs as the defaults do; at q = 5 the
    # derived float32 Hessian is off by 4.3e-4 near z* ≈ 0.985, beyond a fixed 2e-4 relative
    # tolerance, within the measured float32 conditioning there.
    report = js.check_pairing(js.get_pairing("softmax(beta=2)/focal(gamma=0.5)"), qs=(2, 3, 4, 5))
    assert report.ok, [str(r) for r in report.failures]
    worst = max(
        (r for r in report.rows if r.dtype == "float32" and r.quantity == "hessian"),
        key=lambda r: r.max_error,
    )
    assert worst.max_error > 2e-4 * 1.3  # the case that needs the conditioning term


@pytest.mark.slow
def test_check_pairing_defaults_pass_the_ill_conditioned_focal_instance():
    report = js.check_pairing(js.get_pairing("softmax(beta=2)/focal(gamma=0.5)"))
    assert report.ok
    assert max(r.q for r in report.rows) == 10


def test_check_pairing_refuses_a_delta_off_by_a_thousandth():
    good = js.get_pairing("softmax/cross_entropy")
    off = js.Pairing(
        "softmax", "off", good.activate, good.loss, lambda z, t: 1.001 * good.delta(z, t)
    )
    report = js.check_pairing(off, qs=(3,), raise_on_failure=False)
    assert not report.ok
    assert {r.dtype for r in report.failures} >= {"float64"}


def test_convexity_is_per_instance_and_per_family():
    focal0 = js.get_pairing("softmax/focal(gamma=0)")
    inst, fam = focal0.convexity(), focal0.family_convexity()
    assert inst.kind == "convex" and "gamma = 0" in inst.proof[0], inst.evidence
    assert fam.kind == "not convex"
    # The family's counterexample is a point of the family, re-verified independently: the
    # explicit Hessian at that point (sympy on the composition) has a negative eigenvalue.
    from jaxsoftmax.derivations.hessian import explicit_hessian

    p = fam.point
    act, pen = focal0.definition.symbols()
    h, zv, tv = explicit_hessian(act, pen, p.q, dict(p.params))
    at = h.subs({**dict(zip(zv, p.logits)), **dict(zip(tv, p.targets))})
    eig = np.linalg.eigvalsh(np.array(sp.N(at, 30).tolist(), dtype=float))
    assert eig.min() < -1e-6
    # An instance inside the non-convex part keeps its own value in the counterexample.
    focal2 = js.get_pairing("softmax/focal(gamma=2)").convexity()
    assert focal2.kind == "not convex"
    assert {s.name: v for s, v in focal2.point.params}["gamma"] == 2


def test_natural_penalty_exists_exactly_for_gradient_activations():
    from jaxsoftmax.derivations import activations as acts
    from jaxsoftmax.derivations import derive, penalties
    from jaxsoftmax.derivations.natural import gradient_field, is_natural

    for act in (acts.LINEAR, acts.LOGISTIC, acts.SOFTMAX, acts.SOFTMAX_BETA):
        assert gradient_field(act).kind == "gradient"
    # Not gradients: the exact counterexample re-verified with JAX autodiff in float64.
    for act, name in (
        (acts.SPHERICAL, "spherical(epsilon=0.5)/least_squares"),
        (acts.TAYLOR, "taylor/least_squares"),
    ):
        g = gradient_field(act)
        assert g.kind == "not a gradient" and g.j12 != g.j21
        pairing = js.get_pairing(name)
        assert all(v == sp.Rational(1, 2) for _, v in g.params)  # ε = 1/2 where it has one
        with jax.enable_x64(True):
            zz = jnp.asarray([float(x) for x in g.logits])
            jac = np.asarray(jax.jacfwd(pairing.activate)(zz))
        assert abs(jac[0, 1] - float(g.j12)) < 1e-12 and abs(jac[1, 0] - float(g.j21)) < 1e-12
        assert abs(jac[0, 1] - jac[1, 0]) > 1e-4
    # The paper's natural pairings, and a planted wrong natural penalty (the multi-class
    # cross-entropy for the logistic: its natural penalty is the Bernoulli one).
    assert is_natural(derive(acts.LINEAR, penalties.LEAST_SQUARES)).kind == "equal"
    assert is_natural(derive(acts.LOGISTIC, penalties.BERNOULLI_CROSS_ENTROPY)).kind == "equal"
    v = is_natural(derive(acts.SOFTMAX, penalties.CROSS_ENTROPY))
    assert v.kind == "conditional" and "Σ_j t_j = 1" in v.holding
    wrong = is_natural(derive(acts.LOGISTIC, penalties.CROSS_ENTROPY))
    assert wrong.kind in ("different", "conditional") and wrong.counterexample is not None
    assert wrong.counterexample.confirmed


def test_properness_proofs_and_exact_counterexamples():
    from jaxsoftmax.derivations import activations as acts
    from jaxsoftmax.derivations import define_penalty, penalties
    from jaxsoftmax.derivations.parameters import GAMMA
    from jaxsoftmax.derivations.proper import properness

    assert properness(acts.SOFTMAX, penalties.LEAST_SQUARES).kind == "proper"
    assert properness(acts.SOFTMAX, penalties.CROSS_ENTROPY).kind == "proper"
    assert properness(acts.LOGISTIC, penalties.BERNOULLI_CROSS_ENTROPY).kind == "proper"
    assert properness(acts.SOFTMAX, penalties.FOCAL, {GAMMA.symbol: 0}).kind == "proper"
    # A planted improper loss claimed proper (the squared error on the target class only),
    # and the measured cases: each refuted at an exact p by an exact better output,
    # re-evaluated here independently with mpmath.
    target_only = define_penalty("target_only", lambda o, y: y * (1 - o) ** 2)
    cases = [
        (acts.SOFTMAX, target_only, {}, lambda o, y: y * (1 - o) ** 2),
        (acts.LOGISTIC, penalties.CROSS_ENTROPY, {}, lambda o, y: -y * mpmath.log(o)),
        (
            acts.SOFTMAX,
            penalties.FOCAL,
            {GAMMA.symbol: 2},
            lambda o, y: -y * (1 - o) ** 2 * mpmath.log(o),
        ),
    ]
    for act, pen, vals, term in cases:
        r = properness(act, pen, vals)
        assert r.kind == "not proper", (pen.name, r.evidence)
        assert all(isinstance(x, sp.Rational) for x in (*r.p, *r.better))
        if act.identities:
            assert sum(r.better) == 1
        with mpmath.workdps(60):

            def expected(o, p=r.p, term=term):
                return mpmath.fsum(
                    mpmath.mpf(pj.p) / pj.q * term(mpmath.mpf(oj.p) / oj.q, 1)
                    for oj, pj in zip(o, p)
                )

            assert expected(r.better) < expected(r.p) - mpmath.mpf("1e-6")
