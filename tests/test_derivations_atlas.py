"""The five verdicts of every built-in pairing (issue 23, item 2): what TABLE1.md and the atlas
print, with planted errors in the generator's input (a wrong Δ, an improper loss, a wrong
natural penalty) that must show in the verdicts."""

from __future__ import annotations

import sympy as sp

import jaxsoftmax as js
import jaxsoftmax.derivations as dv
from jaxsoftmax.derivations import activations as acts
from jaxsoftmax.derivations import atlas
from jaxsoftmax.derivations import penalties as pens
from jaxsoftmax.derivations.symbols import k, t, zs
from jaxsoftmax.pairings import builtin_definitions


def _by_name():
    return {v.name: v for v in atlas.all_verdicts()}


def test_every_builtin_definition_has_its_five_verdicts_in_table1():
    # Bug caught: a definition left out of the generated table (a new family never given
    # verdicts), or the table printing another pairing's verdicts.
    names = [atlas.instance_name(d) for d in builtin_definitions()]
    assert len(names) >= 24 and len(set(names)) == len(names)
    rows = _by_name()
    assert list(rows) == [js.get_pairing(n).name for n in names]
    text = dv.markdown()
    for v in rows.values():
        exists = {"gradient": "yes", "not a gradient": "no"}[v.gradient]
        row = (
            f"| `{v.name}` | {v.delta} | {v.convex} | {v.convex_family} | {v.proper} | "
            f"{v.natural} | {exists} |"
        )
        assert row in text, row


def test_the_verdicts_of_known_pairings():
    # Bugs caught: instance and family convexity swapped (label smoothing is convex as an
    # instance, not decided as a family; Poly-1 the reverse); properness of the wrong penalty;
    # the natural-penalty column of the wrong activation; a Δ not actually verified.
    rows = _by_name()
    implicit = {"tempered(t2=1.5)/bi_tempered(t1=0.5)"}  # no closed form: not decided
    assert all(v.delta.startswith("verified") for n, v in rows.items() if n not in implicit)
    assert all(rows[n].delta == "not decided" for n in implicit)
    expect = {  # (convex, convex_family, proper, natural, gradient)
        "softmax/cross_entropy": ("convex", "convex", "proper", "conditional", "gradient"),
        "linear/least_squares": ("convex", "convex", "proper", "equal", "gradient"),
        "logistic/cross_entropy": ("convex", "convex", "not proper", "conditional", "gradient"),
        "softmax/focal(gamma=2)": (
            "not convex",
            "not convex",
            "not proper",
            "different",
            "gradient",
        ),
        "softmax/label_smoothing(smoothing=0.1)": (
            "convex",
            "not decided",
            "not proper",
            "different",
            "gradient",
        ),
        "softmax/poly1(poly=1)": (
            "not decided",
            "not convex",
            "not proper",
            "different",
            "gradient",
        ),
        "l1/least_squares": ("not convex", "not convex", "proper", "different", "not a gradient"),
    }
    kinds = {"equal": "equal", "different": "different"}
    for name, (convex, family, proper, natural, gradient) in expect.items():
        v = rows[name]
        got_natural = kinds.get(v.natural, "conditional")
        assert (v.convex, v.convex_family, v.proper, got_natural, v.gradient) == (
            convex,
            family,
            proper,
            natural,
            gradient,
        ), name


def test_a_planted_wrong_delta_is_not_verified():
    # Bug caught: a "Δ verified" that compares the derivation with itself (or with nothing):
    # a Δ off by one term, or by a factor 1.001, must come out "different", exactly and on the
    # numerical route (the Taylor softmax with the GCE's fractional power).
    d = dv.derive(acts.LOGISTIC, pens.LEAST_SQUARES)
    assert atlas.delta_verified(d.activation, d.penalty, d.delta)[0] == "verified"
    wrong = d.delta + zs[k] * t[k] / 100
    assert atlas.delta_verified(d.activation, d.penalty, wrong)[0] == "different"
    p = js.get_pairing("taylor/gce(lam=0.7)")
    act, pen = p.definition.symbols()
    delta = p.derivation().delta
    lam = {s.symbol: sp.Rational(7, 10) for s in p.definition.penalty_params}
    kind, how = atlas.delta_verified(act, pen, delta, lam)
    assert kind.startswith("verified"), how
    assert atlas.delta_verified(act, pen, delta * sp.Rational(1001, 1000), lam)[0] == "different"


def test_a_planted_improper_loss_and_wrong_natural_penalty_show_in_the_verdicts():
    # Bug caught: a generator that copies verdicts from a list instead of deciding them: a
    # user pairing of softmax with the squared error on the target class only (improper, and
    # not softmax's natural penalty) must come out "not proper" with Δ ≠ z* − t, while its
    # Δ is still verified.
    target_only = dv.define_penalty(
        "target_only",
        lambda o, y: y * (1 - o) ** 2,
        latex=r"\sum_j t_j (1 - z^*_j)^2",
        source="planted in tests/test_derivations_atlas.py",
    )
    defn = js.define_pairing(acts.SOFTMAX, target_only, register=False)
    v = atlas.verdicts(defn())
    assert v.proper == "not proper", v.proper_evidence
    assert v.natural == "different", v.natural_evidence
    assert v.gradient == "gradient" and v.delta == "verified", v.delta_evidence


def test_the_table_prints_what_the_verdicts_say(monkeypatch):
    # Bug caught: the renderer printing a fixed word (or another column) instead of the
    # verdict it is given.
    planted = atlas.Verdicts(
        "act/pen", "different", "Δ planted", "not decided", "e1", "convex", "e2", "not proper",
        "e3", "equal", "e4", "not a gradient", "e5",
    )  # fmt: skip
    monkeypatch.setattr(atlas, "all_verdicts", lambda: (planted,))
    from jaxsoftmax.derivations import render

    lines = render._five_verdicts_section()
    assert "| `act/pen` | different | not decided | convex | not proper | equal | no |" in lines
    assert any("Δ planted" in line and "e5" in line for line in lines)
