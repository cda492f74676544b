"""The tempered softmax and the bi-tempered logistic loss (Amid, Warmuth, Anil & Koren 2019):
float64 references, the t1 = t2 = 1 reduction to softmax cross-entropy, and the symbolic Δ."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

import jaxsoftmax as js
from jaxsoftmax.derivations import atlas
from jaxsoftmax.derivations.activations import TEMPERED
from jaxsoftmax.derivations.algebra import class_sum
from jaxsoftmax.derivations.natural import gradient_field
from jaxsoftmax.derivations.penalties import BI_TEMPERED
from jaxsoftmax.derivations.proper import properness
from jaxsoftmax.derivations.symbols import j, k, t, zs
from jaxsoftmax.derivations.table1 import derive
from jaxsoftmax.derivations.verdicts import compare
from jaxsoftmax.tempered import bi_tempered_loss, tempered_softmax

LABELS = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.2, 0.8, 0.0]])
LOGITS = np.array([[-0.5, 0.1, 2.0], [0.1, 1.5, -5.0], [4.0, -3.0, -6.0]])


def _reference_tempered(a, t2):
    """Independent float64 tempered softmax: the normaliser by Brent's method on
    Σ_j exp_t(a_j − λ) = 1 (λ between 0 and −log_t(1/q) after shifting the max to 0)."""
    a0 = np.asarray(a, float) - np.max(a)

    def expt(x):
        return (1 + (1 - t2) * x) ** (1 / (1 - t2))

    hi = 1.0001 * (len(a0) ** (t2 - 1) - 1) / (t2 - 1) + 1e-9
    lam = brentq(lambda x: expt(a0 - x).sum() - 1, 0.0, hi, xtol=1e-15, rtol=1e-15)
    return expt(a0 - lam)


def test_published_values_of_the_reference_implementation():
    # Bug caught: a wrong sign or exponent in the loss (the −(t^{2−t1} − ŷ^{2−t1})/(2 − t1)
    # term), t1 and t2 swapped, or an unconverged normaliser. Values from the authors' JAX
    # tests (google/bi-tempered-loss, jax/loss_test.py: test_loss_value at atol 1e-4 and
    # test_dynamic_temperatures at 1e-5); ours agree to 1e-7.
    with jax.enable_x64(True):
        got = bi_tempered_loss(LOGITS, LABELS, t1=0.5, t2=1.5)
        np.testing.assert_allclose(got, [0.02301914, 0.18972909, 0.93874922], atol=1e-7)
        soft = np.array([[0.2, 0.5, 0.3]])
        got = [
            float(bi_tempered_loss(LOGITS[:1], soft, t1=a, t2=b)[0])
            for a, b in ((1.0, 1.0), (0.9, 1.1), (0.8, 1.2), (0.7, 1.3))
        ]
        np.testing.assert_allclose(got, [0.628705, 0.45677936, 0.34298314, 0.26295574], atol=1e-6)


def test_tempered_softmax_matches_an_independent_float64_root():
    # Bug caught: a fixed-point iteration stopped early (the reference code's 5 steps are off by
    # 2e-3 at t2 = 4), the normaliser's sign, or a shift that is not undone.
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for t2 in (1.01, 1.5, 2.0, 4.0, 10.0):
            for scale in (0.1, 3.0, 100.0):
                for q in (2, 7, 50):
                    a = rng.normal(0.0, scale, q)
                    got = np.asarray(tempered_softmax(a, t2=t2))
                    ref = _reference_tempered(a, t2)
                    assert np.max(np.abs(got - ref)) <= 1e-12 * np.max(ref), (t2, scale, q)
        np.testing.assert_allclose(tempered_softmax(LOGITS, t2=1.0), jax.nn.softmax(LOGITS))


def test_t1_t2_equal_one_is_softmax_cross_entropy():
    # Bug caught: the t = 1 branches (log, exp) wrong or the Bregman terms −t + ŷ left out of
    # the general form: at t1 = t2 = 1 the loss is ρ_c + 1 − Σ t, so exactly softmax
    # cross-entropy for targets that sum to one, with the same gradient for any targets.
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        z = rng.normal(0.0, 3.0, (5, 4))
        soft = rng.dirichlet(np.ones(4), 5)
        ce = js.softmax_cross_entropy_from_logits(z, soft)
        np.testing.assert_allclose(bi_tempered_loss(z, soft), ce, rtol=0, atol=1e-14)
        loose = rng.uniform(0.0, 1.0, (5, 4))
        ce = js.softmax_cross_entropy_from_logits(z, loose)
        np.testing.assert_allclose(
            bi_tempered_loss(z, loose), ce + 1 - loose.sum(-1), rtol=0, atol=1e-13
        )
        g = jax.grad(lambda x: bi_tempered_loss(x, loose).sum())(z)
        g_ce = jax.grad(lambda x: js.softmax_cross_entropy_from_logits(x, loose).sum())(z)
        np.testing.assert_allclose(g, g_ce, atol=1e-13)


def test_gradient_and_derived_delta_against_finite_differences():
    # Bug caught: a wrong custom JVP of the tempered softmax (y instead of y^t2, the escort
    # normalisation left out) or a wrong derived Δ: both compared with central differences of
    # the loss in float64, which use neither.
    p = js.get_pairing("tempered(t2=1.5)/bi_tempered(t1=0.5)")
    with jax.enable_x64(True):
        z = jnp.asarray(LOGITS)
        f = lambda x: float(bi_tempered_loss(x, LABELS, t1=0.5, t2=1.5).sum())
        h = 1e-6
        fd = np.zeros_like(LOGITS)
        for idx in np.ndindex(*LOGITS.shape):
            e = np.zeros_like(LOGITS)
            e[idx] = h
            fd[idx] = (f(LOGITS + e) - f(LOGITS - e)) / (2 * h)
        g = jax.grad(lambda x: bi_tempered_loss(x, LABELS, t1=0.5, t2=1.5).sum())(z)
        np.testing.assert_allclose(g, fd, atol=1e-8)
        np.testing.assert_allclose(p.delta(z, jnp.asarray(LABELS)), fd, atol=1e-8)


def test_the_pairing_passes_the_check():
    # Bug caught: the symbolic Δ or H lowered to JAX wrongly (a dropped Σ_j z*_j^t2), or the
    # registered loss not the one the derivation is of.
    p = js.get_pairing("tempered(t2=1.5)/bi_tempered(t1=0.5)")
    report = js.check_pairing(p, qs=(3,), batch_shapes=((2,),))
    assert report.ok and len(report.rows) == 12
    assert js.get_pairing("tempered(t2=1)/bi_tempered(t1=1)").name == "tempered/bi_tempered"


def test_symbolic_delta_natural_pair_and_properness():
    # Bugs caught: a Jacobian without the normaliser's term (then Δ ≠ z* − t even at t1 = t2),
    # t1 and t2 swapped in the penalty, a natural verdict that ignores Σ t = 1.
    d = derive(TEMPERED, BI_TEMPERED)
    t1, t2 = BI_TEMPERED.params[0].symbol, TEMPERED.params[0].symbol
    # Amid et al.'s gradient (their code's backward pass), written independently:
    # (z*_k − t_k) z*_k^{t2−t1} − (z*_k^{t2}/Σ z*^{t2}) Σ_j (z*_j − t_j) z*_j^{t2−t1}.
    theirs = (zs[k] - t[k]) * zs[k] ** (t2 - t1) - zs[k] ** t2 / class_sum(zs[j] ** t2) * class_sum(
        (zs[j] - t[j]) * zs[j] ** (t2 - t1)
    )
    assert compare(theirs, d.delta, TEMPERED.identities).kind == "equal"
    same = compare(zs[k] - t[k], d.delta.subs(t1, t2), TEMPERED.identities)
    assert same.kind == "conditional" and "Σ_j t_j = 1" in same.summary
    half = {t1: sp.Rational(1, 2), t2: sp.Rational(3, 2)}
    differ = compare(zs[k] - t[k], d.delta.subs(half), TEMPERED.identities)
    assert differ.kind == "different"
    assert gradient_field(TEMPERED).kind == "gradient"
    assert properness(TEMPERED, BI_TEMPERED, {t1: sp.Rational(1, 2)}).kind == "proper"
    v = atlas.verdicts(js.get_pairing("tempered(t2=1.5)/bi_tempered(t1=0.5)"))
    assert (v.delta, v.natural, v.gradient, v.proper) == (
        "not decided",
        "different",
        "gradient",
        "proper",
    )
    assert "no closed form" in v.delta_evidence


def test_a_planted_wrong_jacobian_breaks_the_natural_pair():
    # Bug caught: a tempered softmax given the ordinary softmax's Jacobian z*_j(δ_jk − z*_k)
    # (the temperature forgotten): then even t1 = t2 is no natural pair, and the derived Δ is
    # no longer Amid et al.'s gradient.
    import dataclasses

    t2 = TEMPERED.params[0].symbol
    wrong = dataclasses.replace(
        TEMPERED, jacobian=lambda a, d: zs[a] * (sp.KroneckerDelta(a, d) - zs[d])
    )
    dd = derive(wrong, BI_TEMPERED).delta.subs(BI_TEMPERED.params[0].symbol, t2)
    assert compare(zs[k] - t[k], dd, TEMPERED.identities).kind == "different"
    right = derive(TEMPERED, BI_TEMPERED).delta.subs(BI_TEMPERED.params[0].symbol, t2)
    assert compare(right, dd, TEMPERED.identities).kind == "different"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tempered_softmax(LOGITS, t2=0.5), r"t2=0\.5 is not allowed; t2 must be in \[1"),
        (lambda: bi_tempered_loss(LOGITS, LABELS, t1=1.5), r"t1=1\.5 .* t1 must be in \[0"),
        (lambda: bi_tempered_loss(LOGITS, LABELS, t2=float("nan")), r"t2=nan"),
        (lambda: bi_tempered_loss(LOGITS, LABELS[:, :2]), r"shape"),
        (lambda: js.get_pairing("tempered(t2=0.5)/bi_tempered"), r"t2 must be a finite number"),
    ],
)
def test_bad_input_names_the_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
