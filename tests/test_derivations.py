"""Tests of the symbolic package ``derivations``: the general-q derivation of Table 1 against
explicit differentiation at q = 2..6, the verdicts on the printed cells (each confirmed again at
a concrete q), the other claims, the sum algebra, the CLI and the checked-in TABLE1.md."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys

import pytest
import sympy as sp

import jaxsoftmax.derivations as dv
from jaxsoftmax.derivations import algebra, concrete
from jaxsoftmax.derivations.activations import ACTIVATIONS, L1, SOFTMAX, jacobian_check, softmax
from jaxsoftmax.derivations.penalties import CROSS_ENTROPY, LEAST_SQUARES, PENALTIES
from jaxsoftmax.derivations.symbols import A, beta, c, j, k, q, t, z, zs
from jaxsoftmax.derivations.verdicts import compare

NAMES = [f"{a}/{p}" for a, p in dv.PAIRINGS]


# --------------------------------------------------------------------------------------------
# The package itself
# --------------------------------------------------------------------------------------------


def test_importing_derivations_does_not_import_jax():
    # Every module of the package, including the JAX printer and the CLI entry point.
    code = (
        "import sys, importlib\n"
        "for m in ('derivations', 'derivations.__main__', 'derivations.to_jax', "
        "'derivations.claims', 'derivations.render', 'derivations.concrete'):\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'jax' or m.startswith('jax.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_root())


def test_pairings_are_the_registry_of_jaxsoftmax():
    import jaxsoftmax as js

    assert [p.name for p in js.list_pairings()] == NAMES
    assert [d.name for d in dv.derive_all()] == NAMES


# --------------------------------------------------------------------------------------------
# The sum algebra
# --------------------------------------------------------------------------------------------


def test_canon_collapses_deltas_pulls_out_factors_and_renames_dummies():
    i2 = sp.Symbol("m", integer=True, positive=True)
    f = sp.Function("f")
    assert algebra.canon(sp.Sum(sp.KroneckerDelta(i2, k) * f(i2) * zs[k], (i2, 1, q))) == (
        f(k) * zs[k]
    )
    assert algebra.canon(sp.Sum(zs[k] * t[i2], (i2, 1, q))) == zs[k] * sp.Sum(t[j], (j, 1, q))
    assert algebra.canon(sp.Sum(3 * zs[k], (i2, 1, q))) == 3 * q * zs[k]
    # Outside a sum, δ_jk g(j) = δ_jk g(k).
    assert algebra.canon(sp.KroneckerDelta(j, k) * zs[j]) == sp.KroneckerDelta(j, k) * zs[k]
    # Σ (a + b) − Σ a − Σ b = 0 once distributed.
    s = sp.Sum(t[i2] * zs[i2] + zs[i2] ** 2, (i2, 1, q))
    assert algebra.is_zero(s - sp.Sum(zs[j] ** 2, (j, 1, q)) - sp.Sum(t[j] * zs[j], (j, 1, q)))
    assert not algebra.is_zero(s)


def test_instantiate_writes_out_sums():
    e = zs[k] * algebra.class_sum(t[j])
    got = algebra.instantiate(e, 3, {k: 2}, {zs: [1, 2, 3], t: [sp.Rational(1, 2), 0, 5]})
    assert got == 2 * (sp.Rational(1, 2) + 0 + 5)


# --------------------------------------------------------------------------------------------
# Building blocks: Jacobians and ∂ρ/∂z* (general q)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", [*ACTIVATIONS.values(), softmax(beta)], ids=lambda a: a.latex)
def test_jacobian_structure_matches_the_definition(act):
    _, _, ok = jacobian_check(act)
    assert ok


def test_a_wrong_jacobian_is_caught():
    wrong = softmax()
    wrong = type(wrong)(
        **{**wrong.__dict__, "jacobian": lambda a, d: zs[a] * sp.KroneckerDelta(a, d)}
    )
    assert not jacobian_check(wrong)[2]


def test_penalty_gradients():
    assert algebra.is_zero(LEAST_SQUARES.grad(j) - (zs[j] - t[j]))
    assert algebra.is_zero(CROSS_ENTROPY.grad(j) + t[j] / zs[j])
    bce = PENALTIES["bernoulli_cross_entropy"].grad(j)
    assert algebra.is_zero(bce - (zs[j] - t[j]) / (zs[j] * (1 - zs[j])))


# --------------------------------------------------------------------------------------------
# Δ_k for general q, met by explicit differentiation at q = 2..6
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_general_delta_equals_explicit_derivative_for_q_2_to_6(name):
    d = dv.derivation(name)
    for n in range(2, 7):
        assert concrete.verify_at(d.activation, d.penalty, d.delta, n), (name, n)
    # And at random rational points for a larger q (exact arithmetic, every k).
    assert concrete.verify_at_random_points(d.activation, d.penalty, d.delta, 7, points=1)


@pytest.mark.parametrize(
    "name", ["logistic/cross_entropy", "softmax/least_squares", "l1/cross_entropy"]
)
def test_explicit_check_rejects_a_wrong_formula(name):
    d = dv.derivation(name)
    wrong = d.delta + t[k] * zs[k] / 7
    assert not concrete.verify_at(d.activation, d.penalty, wrong, 3)
    assert not concrete.verify_at_random_points(d.activation, d.penalty, wrong, 3)


def test_derived_deltas_in_the_papers_terms():
    # Independent hand forms (the chain rule done on paper), compared for general q.
    s_t = algebra.class_sum(t[j])
    r = algebra.class_sum(zs[j] * (zs[j] - t[j]))
    hand = {
        "linear/least_squares": zs[k] - t[k],
        "linear/cross_entropy": -t[k] / zs[k],
        "logistic/least_squares": (zs[k] - t[k]) * zs[k] * (1 - zs[k]),
        "logistic/cross_entropy": -t[k] * (1 - zs[k]),
        "logistic/bernoulli_cross_entropy": zs[k] - t[k],
        "softmax/least_squares": zs[k] * (zs[k] - t[k] - r),
        "softmax/cross_entropy": s_t * zs[k] - t[k],
        "l1/least_squares": sp.sign(z[k]) / A * (zs[k] - t[k] - r),
        "l1/cross_entropy": sp.sign(z[k]) * (s_t / A - t[k] / (A * zs[k])),
    }
    for d in dv.derive_all():
        assert compare(hand[d.name], d.delta, d.activation.identities).kind == "equal", d.name


# --------------------------------------------------------------------------------------------
# The printed Table 1: verdicts as the mathematics gives them
# --------------------------------------------------------------------------------------------


def _verdict(name, reading):
    for cell, v in dv.printed_verdicts():
        if cell.name == name and cell.reading == reading:
            return cell, v
    raise KeyError((name, reading))


def test_printed_table_has_the_four_cells_and_the_readings():
    cells = {(c_.name, c_.reading) for c_ in dv.PRINTED_TABLE1}
    assert {n for n, _ in cells} == {
        "logistic/least_squares",
        "logistic/cross_entropy",
        "softmax/least_squares",
        "softmax/cross_entropy",
    }
    assert {r for n, r in cells if n == "softmax/least_squares"} == {
        "as extracted",
        "intended layout",
        "hypothesis",
    }


def test_verdict_logistic_least_squares_is_equal():
    assert _verdict("logistic/least_squares", "as printed")[1].kind == "equal"


def test_verdict_logistic_cross_entropy_only_where_target_is_one():
    cell, v = _verdict("logistic/cross_entropy", "as printed")
    assert v.kind == "conditional"
    assert v.holding == ("t_k = 1",)
    assert algebra.is_zero(v.difference - zs[k] * (1 - t[k]))
    # Confirmed at q = 3 by explicit differentiation: equal where t_1 = 1, not where t_1 = 0.
    d = dv.derivation("logistic/cross_entropy")
    explicit = concrete.explicit_delta(d.activation, d.penalty, 3, 1)
    printed = concrete.general_at(d.activation, cell.expr, 3, 1)
    t1 = sp.Symbol("t_1", nonnegative=True)
    assert concrete.is_zero_rational(concrete.rationalize((explicit - printed).subs(t1, 1), 3))
    assert not concrete.is_zero_rational(concrete.rationalize((explicit - printed).subs(t1, 0), 3))


def test_verdict_softmax_cross_entropy_needs_targets_summing_to_one():
    cell, v = _verdict("softmax/cross_entropy", "as printed")
    assert v.kind == "conditional"
    assert v.holding == ("Σ_j t_j = 1", "one-hot targets")
    assert algebra.is_zero(v.difference - zs[k] * (1 - algebra.class_sum(t[j])))
    # Confirmed at q = 3: with t_3 = 1 − t_1 − t_2 the printed cell is the derivative, for every
    # k; with free targets it is not; and for every one-hot target.
    d = dv.derivation("softmax/cross_entropy")
    t1, t2, t3 = sp.symbols("t_1:4", nonnegative=True)
    for kk in (1, 2, 3):
        diff = concrete.explicit_delta(d.activation, d.penalty, 3, kk) - concrete.general_at(
            d.activation, cell.expr, 3, kk
        )
        assert concrete.is_zero_rational(concrete.rationalize(diff.subs(t3, 1 - t1 - t2), 3))
        assert not concrete.is_zero_rational(concrete.rationalize(diff, 3))
        for hot in itertools.permutations((1, 0, 0)):
            assert concrete.is_zero_rational(
                concrete.rationalize(diff.subs(dict(zip((t1, t2, t3), hot, strict=True))), 3)
            )


def test_verdict_softmax_least_squares_readings():
    assert _verdict("softmax/least_squares", "as extracted")[1].kind == "different"
    cell, v = _verdict("softmax/least_squares", "intended layout")
    assert v.kind == "different"
    assert not any(ok for _, ok in v.conditions)
    # The only discrepancy is the sign of the sum: difference 2 z*_k Σ_j z*_j (z*_j − t_j) ...
    r = algebra.class_sum(zs[j] * (zs[j] - t[j]))
    assert algebra.is_zero(v.difference - 2 * zs[k] * r)
    # ... so the hypothesis with that sign flipped is equal.
    assert _verdict("softmax/least_squares", "hypothesis")[1].kind == "equal"
    # Confirmed at q = 3: the intended-layout cell is not the derivative, even for one-hot
    # targets.
    d = dv.derivation("softmax/least_squares")
    t1, t2, t3 = sp.symbols("t_1:4", nonnegative=True)
    diff = concrete.explicit_delta(d.activation, d.penalty, 3, 1) - concrete.general_at(
        d.activation, cell.expr, 3, 1
    )
    assert not concrete.is_zero_rational(concrete.rationalize(diff.subs({t1: 1, t2: 0, t3: 0}), 3))


def test_compare_on_synthetic_claims():
    s_t = algebra.class_sum(t[j])
    assert compare(zs[k], zs[k]).kind == "equal"
    v = compare(zs[k] * s_t, zs[k])
    assert v.kind == "conditional" and v.holding[0] == "Σ_j t_j = 1"
    assert compare(zs[k] + 1, zs[k]).kind == "different"
    # Σ_j z*_j = 1 is applied for normalised activations only.
    assert compare(algebra.class_sum(zs[j]), 1, SOFTMAX.identities).kind == "equal"
    assert compare(algebra.class_sum(zs[j]), 1).kind == "different"
    # One-hot: t_k(1 − t_k) vanishes for one-hot targets but not for Σ t = 1.
    v = compare(t[k] * (1 - t[k]), 0)
    assert dict(v.conditions) == {
        "Σ_j t_j = 1": False,
        "one-hot targets": True,
        "t_k = 1": True,
        "t_k = 0": True,
    }
    assert c not in v.difference.free_symbols


# --------------------------------------------------------------------------------------------
# The natural pairing and the other claims
# --------------------------------------------------------------------------------------------


def test_natural_pairing_verdicts():
    got = {name: v.summary for name, v in dv.natural_pairing()}
    assert got["linear/least_squares"] == "equal"
    assert got["logistic/bernoulli_cross_entropy"] == "equal"
    assert got["softmax/cross_entropy"].startswith("equal if Σ_j t_j = 1")
    assert got["logistic/cross_entropy"] == "equal only where t_k = 1"
    for name in (
        "linear/cross_entropy",
        "logistic/least_squares",
        "softmax/least_squares",
        "l1/least_squares",
        "l1/cross_entropy",
    ):
        assert got[name] == "different", name


EXPECTED_CLAIMS = {
    "natural-pairing": "holds if Σ_j t_j = 1",
    "logistic-multiclass-ce": "holds only where t_k = 1",
    "eq3-last-line": "holds only where a(ψ) = 1",
}


def test_claims_statuses():
    claims = {cl.key: cl for cl in dv.all_claims()}
    assert len(claims) == len(dv.all_claims())  # unique keys
    for key, cl in claims.items():
        assert cl.status == EXPECTED_CLAIMS.get(key, "holds"), (key, cl.status, cl.detail)
        assert cl.source and cl.statement and cl.detail


def test_figure1_minimum_numerically():
    # An independent route for Figure 1: a grid over [0, 1]^2 finds the same minimum.
    best = min(
        (tt * math.log(tt / zz) if tt else 0.0, zz, tt)
        for zz in (m / 200 for m in range(1, 201))
        for tt in (m / 1000 for m in range(0, 1001))
    )
    assert best[0] == pytest.approx(-math.exp(-1), abs=1e-5)
    assert best[1] == 1.0 and best[2] == pytest.approx(math.exp(-1), abs=1e-3)


def test_l1_activation_sums_to_one_and_is_scale_invariant_at_concrete_q():
    zv, _ = concrete.explicit_symbols(4)
    outs = concrete.explicit_outputs(L1, zv)
    assert sp.simplify(sp.Add(*outs) - 1) == 0
    lam = sp.Symbol("lambda", positive=True)
    assert all(
        sp.simplify(o.subs({v: lam * v for v in zv}, simultaneous=True) - o) == 0 for o in outs
    )


# --------------------------------------------------------------------------------------------
# Output: LaTeX, Markdown, the CLI
# --------------------------------------------------------------------------------------------


def _root():
    import pathlib

    return pathlib.Path(dv.__file__).resolve().parent.parent


def test_table1_md_is_up_to_date():
    # Regenerated in memory; fails when the checked-in file is stale.
    # Fix: python -m jaxsoftmax.derivations
    assert dv.TABLE1_PATH.read_text(encoding="utf-8") == dv.markdown()


def test_markdown_tables_are_well_formed():
    for line in dv.markdown().splitlines():
        if line.startswith("|"):
            assert "\\left|" not in line and "\\right|" not in line, line
    for block in re.split(r"\n\n", dv.markdown()):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            cols = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
            assert len(cols) == 1, block[:200]
    # No double superscripts such as z^*_{k}^{2}.
    assert not re.search(r"\^\*_\{[^}]*\}\^", dv.markdown())


def test_latex_of_each_delta():
    tex = {d.name: dv.latex(d.display) for d in dv.derive_all()}
    assert tex["logistic/bernoulli_cross_entropy"] == r"z^*_{k} - t_{k}"
    assert tex["softmax/cross_entropy"] == r"z^*_{k} \left(\sum_{j=1}^{q} t_{j}\right) - t_{k}"
    assert r"\operatorname{sgn} z_{k}" in tex["l1/cross_entropy"]


def test_cli_check_out_and_latex(tmp_path, capsys):
    from jaxsoftmax.derivations.__main__ import main

    assert main(["--check"]) == 0
    out = tmp_path / "sub" / "T.md"
    assert main(["--out", str(out), "--latex"]) == 0
    assert out.read_text(encoding="utf-8") == dv.markdown()
    printed = capsys.readouterr().out
    assert "equal only where t_k = 1" in printed
    assert r"z^*_{k} - t_{k}" in printed  # the --latex lines
    out.write_text("stale\n", encoding="utf-8")
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--check", "--out", str(tmp_path / "missing.md")]) == 1


@pytest.mark.slow  # 50 s: every definition and verdict in a new process
def test_python_dash_m_derivations(tmp_path):
    # The whole report through the module entry point (the CLI's options are tested by
    # test_cli_reports_a_plugin; the report's content by test_table1_md_is_up_to_date).
    out = tmp_path / "T.md"
    res = subprocess.run(
        [sys.executable, "-m", "derivations", "--out", str(out)],
        cwd=_root(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "The printed Table 1, checked" in res.stdout
    assert out.read_text(encoding="utf-8") == dv.markdown()


def test_bench_experiment_smoke(tmp_path, capsys):
    import importlib.util
    import json

    path = _root() / "experiments" / "bench_derivations.py"
    spec = importlib.util.spec_from_file_location("bench_derivations", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench_derivations.json").read_text())
    assert set(result["stages_s"][0]) >= {"derive", "printed", "claims", "total"}
    assert "total" in capsys.readouterr().out
