"""Issue 11, point 1: three-valued, sound verdicts. Equal comes with a proof, different with a
counterexample evaluated at 40 digits at an exact point, otherwise "not decided"; logs,
fractional and symbolic powers, β and γ as symbols (the focal-loss case)."""

from __future__ import annotations

import pytest
import sympy as sp

import jaxsoftmax.derivations as dv
from jaxsoftmax.derivations import concrete
from jaxsoftmax.derivations.activations import SOFTMAX, SOFTMAX_BETA
from jaxsoftmax.derivations.algebra import class_sum
from jaxsoftmax.derivations.parameters import GAMMA
from jaxsoftmax.derivations.penalties import FOCAL
from jaxsoftmax.derivations.points import differ, evaluate
from jaxsoftmax.derivations.symbols import j, k, t, zs
from jaxsoftmax.derivations.verdicts import compare

G = GAMMA.symbol


def _g(m, gamma):
    """Lin et al.'s focal gradient factor, written by hand in another form than derived:
    g_m = (1 − z*_m)^{γ−1} (1 − z*_m − γ z*_m log z*_m)."""
    return (1 - zs[m]) ** (gamma - 1) * (1 - zs[m] - gamma * zs[m] * sp.log(zs[m]))


def _hand(gamma, sign=1, factor=True):
    """Δ_k = z*_k Σ_j t_j g_j − t_k g_k, with the sign of the sum or the factor z*_k broken."""
    outer = zs[k] if factor else 1
    return -t[k] * _g(k, gamma) + sign * outer * class_sum(t[j] * _g(j, gamma))


@pytest.fixture(scope="module")
def focal():
    return dv.derive(SOFTMAX, FOCAL)


@pytest.mark.parametrize("gamma", [2, sp.Rational(1, 2), G], ids=["2", "1/2", "symbolic"])
def test_focal_delta_is_equal_with_a_proof(focal, gamma):
    v = compare(
        _hand(gamma),
        focal.delta.subs(G, gamma),
        focal.activation.identities,
        activation=focal.activation,
    )
    assert v.kind == "equal", v.evidence
    assert v.proof and ("cancels to 0" in v.proof[-1] or "gives 0" in v.proof[-1])
    assert v.counterexample is None


@pytest.mark.parametrize("gamma", [2, sp.Rational(1, 2), G], ids=["2", "1/2", "symbolic"])
@pytest.mark.parametrize("broken", ["sign", "factor"])
def test_a_wrong_focal_delta_is_different_with_a_counterexample(focal, gamma, broken):
    wrong = _hand(gamma, sign=-1) if broken == "sign" else _hand(gamma, factor=False)
    derived = focal.delta.subs(G, gamma)
    v = compare(wrong, derived, focal.activation.identities, activation=focal.activation)
    assert v.kind == "different", v.summary
    ce = v.counterexample
    assert ce is not None and differ(ce.claimed, ce.derived)
    # The counterexample is a real point: re-evaluated independently, the values differ.
    point = ce.point
    assert all(isinstance(x, sp.Rational) for x in (*point.logits, *point.targets))
    assert differ(
        evaluate(wrong, focal.activation, point), evaluate(derived, focal.activation, point)
    )
    if gamma is G:
        assert dict(point.params).get(G) is not None  # γ got a value in its domain
        assert dict(point.params)[G] >= 0
    assert "claimed" in ce.describe() and "q = " in ce.describe()


def test_random_points_evaluate_logs_numerically(focal):
    # The old check compared `expr.subs(point) != 0` structurally and said False for any log.
    for gamma in (2, sp.Rational(1, 2)):
        pen = dv.Penalty("focal", lambda o, y, g=gamma: FOCAL.term(o, y).subs(G, g), "", "")
        delta = focal.delta.subs(G, gamma)
        assert concrete.verify_at_random_points(SOFTMAX, pen, delta, 3, points=2)
        assert not concrete.verify_at_random_points(
            SOFTMAX, pen, delta + t[k] * zs[k] / 7, 3, points=2
        )


def test_conditional_verdicts_carry_proof_and_counterexample():
    cells = {(c.name, c.reading): v for c, v in dv.printed_verdicts()}
    v = cells[("softmax/cross_entropy", "as printed")]
    assert v.kind == "conditional" and v.holding == ("Σ_j t_j = 1", "one-hot targets")
    proved = {o.label: o for o in v.outcomes}
    assert proved["Σ_j t_j = 1"].status == "holds" and proved["Σ_j t_j = 1"].proof
    # Outside the conditions: a counterexample whose targets do not sum to one.
    assert sum(v.counterexample.point.targets) != 1
    # Inside a failing condition, a counterexample there too.
    assert proved["t_k = 1"].status == "fails" and proved["t_k = 1"].counterexample
    v = cells[("logistic/cross_entropy", "as printed")]
    assert v.kind == "conditional" and v.holding == ("t_k = 1",)
    assert v.counterexample.point.targets[v.counterexample.point.k - 1] != 1


def test_not_decided_is_not_different():
    # An identity no method here certifies and no point refutes: |x| = sqrt(x²) written with
    # an auxiliary atom and no activation (no points can be evaluated) stays undecided.
    v = compare(dv.derive("l1", "least_squares").delta, sp.S.Zero)
    assert v.kind in ("not decided", "different")
    a = sp.Symbol("A", positive=True)
    v = compare(zs[k] * a, zs[k] * a + (a - a))  # trivially equal: a proof
    assert v.kind == "equal"
    v = compare(zs[k] * a, zs[k])  # A without its activation: cannot be evaluated
    assert v.kind == "not decided" and v.tried and not v.decided
    assert v.summary == "not decided"


def test_symbolic_beta_softmax_cross_entropy():
    d = dv.derive(SOFTMAX_BETA, "cross_entropy")
    beta = SOFTMAX_BETA.params[0].symbol
    v = compare(beta * (class_sum(t[j]) * zs[k] - t[k]), d.delta, d.activation.identities)
    assert v.kind == "equal"
    v = compare(zs[k] - t[k], d.delta, d.activation.identities, activation=d.activation)
    assert v.kind == "different"  # β ≠ 1 breaks even Σ t = 1: no condition on t suffices


def test_table1_verdict_kinds_unchanged():
    kinds = {(c.name, c.reading): v.kind for c, v in dv.printed_verdicts()}
    assert kinds == {
        ("logistic/least_squares", "as printed"): "equal",
        ("logistic/cross_entropy", "as printed"): "conditional",
        ("softmax/least_squares", "as extracted"): "different",
        ("softmax/least_squares", "intended layout"): "different",
        ("softmax/least_squares", "hypothesis"): "equal",
        ("softmax/cross_entropy", "as printed"): "conditional",
    }
