r"""The seeds' other checkable claims, each decided by sympy when this module's functions run.

Sources: Dunne & Campbell (1997) sections 2–3, Figures 1–2 and eqs. (2)–(3); the *Softmax
function* article (Jacobian, LogSumExp, translation and scale, the logistic as the 2-class case,
the β → ±∞ limits, the worked example); the forum thread on the L1 ("abs") normalisation.

Every :class:`Claim` records what the source says and what sympy found; its ``status`` is one
of ``"holds"``, ``"holds if …"`` / ``"holds only where …"``, or ``"fails"``, computed from the
mathematics (nothing is hard-coded). General-q statements are decided for general q.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from .activations import L1, LOGISTIC, SOFTMAX, jacobian_check, softmax
from .algebra import canon, class_sum, instantiate, is_zero
from .symbols import beta, i, j, k, t, z, zs
from .table1 import derivation, derive_all
from .verdicts import Verdict, compare

__all__ = ["ARTICLE_IN", "ARTICLE_OUT", "Claim", "all_claims", "natural_pairing"]


@dataclasses.dataclass(frozen=True)
class Claim:
    """A claim of a seed, and what sympy found.

    Attributes:
      key: a short identifier.
      source: where the claim is made.
      statement: the claim, in words (Markdown, may contain LaTeX).
      status: ``"holds"``, ``"holds if …"``, ``"holds only where …"`` or ``"fails"``.
      detail: what was computed (Markdown, may contain LaTeX).
    """

    key: str
    source: str
    statement: str
    status: str
    detail: str


def _status(verdict: Verdict) -> str:
    if verdict.kind == "equal":
        return "holds"
    if verdict.kind == "conditional":
        return "holds " + verdict.summary.removeprefix("equal ")
    return "fails"


def _tex(expr: sp.Expr) -> str:
    from .printing import latex

    return f"${latex(expr)}$"


# --------------------------------------------------------------------------------------------
# The natural pairing (section 2)
# --------------------------------------------------------------------------------------------


@functools.cache
def natural_pairing() -> tuple[tuple[str, Verdict], ...]:
    """Each pairing's Δ_k compared with the "natural" z*_k − t_k (section 2), for general q."""
    return tuple(
        (d.name, compare(zs[k] - t[k], d.delta, d.activation.identities, activation=d.activation))
        for d in derive_all()
    )


def _natural_claims() -> list[Claim]:
    verdicts = dict(natural_pairing())
    bishop = ("linear/least_squares", "logistic/bernoulli_cross_entropy", "softmax/cross_entropy")
    kinds = [verdicts[name] for name in bishop]
    if all(v.kind == "equal" for v in kinds):
        status = "holds"
    elif all(v.kind != "different" for v in kinds):
        status = "holds if " + " and ".join(
            sorted({v.holding[0] for v in kinds if v.kind == "conditional"})
        )
    else:
        status = "fails"
    detail = "; ".join(f"{name}: {verdicts[name].summary}" for name in bishop)
    logistic_ce = verdicts["logistic/cross_entropy"]
    return [
        Claim(
            "natural-pairing",
            "Dunne & Campbell section 2 (after Bishop)",
            "linear/least squares, logistic/two-class cross-entropy and softmax/multi-class "
            "cross-entropy all give $\\Delta_k = z^*_k - t_k$",
            status,
            detail + " (two-class cross-entropy per output = the Bernoulli cross-entropy)",
        ),
        Claim(
            "logistic-multiclass-ce",
            "Dunne & Campbell section 2",
            "a logistic activation with the multi-class cross-entropy gives the same "
            "$\\Delta_k = z^*_k - t_k$",
            _status(logistic_ce),
            f"the chain rule gives {_tex(derivation('logistic/cross_entropy').delta)}; "
            f"printed − derived = {_tex(logistic_ce.difference)}, zero only where "
            + ", ".join(f"{_tex(f)} = 0" for f in logistic_ce.zero_set),
        ),
    ]


# --------------------------------------------------------------------------------------------
# Figures 1 and 2
# --------------------------------------------------------------------------------------------


def _figure1() -> list[Claim]:
    """The minimum of t log(t/z) over [0, 1]² (Figure 1), by calculus on the square."""
    zz, tt = sp.symbols("z t", positive=True)
    f = tt * sp.log(tt / zz)
    interior = [
        s
        for s in sp.solve([sp.diff(f, zz), sp.diff(f, tt)], [zz, tt], dict=True)
        if all(0 < v < 1 for v in s.values())
    ]
    candidates = []  # (value, z, t)
    edge = f.subs(zz, 1)  # z = 1: t log t
    for root in sp.solve(sp.diff(edge, tt), tt):
        if 0 < root < 1:
            candidates.append((edge.subs(tt, root), sp.S.One, root))
    # t = 0: 0·log 0 = 0; t = 1: −log z ≥ 0, least at z = 1; z → 0 with t > 0: +∞.
    candidates += [(sp.S.Zero, zz0, sp.S.Zero) for zz0 in (sp.S.Zero, sp.S.One)]
    candidates.append((sp.limit(f.subs(tt, 1), zz, 1), sp.S.One, sp.S.One))
    blow_up = sp.limit(f.subs(tt, sp.Rational(1, 2)), zz, 0, "+")
    value, z_min, t_min = min(candidates, key=lambda c: float(c[0]))
    claimed = (sp.S.One, sp.exp(-1), -sp.exp(-1))
    ok = not interior and (z_min, t_min, value) == claimed and blow_up == sp.oo
    decreasing = (sp.diff(f, zz)).is_negative
    return [
        Claim(
            "figure1-minimum",
            "Dunne & Campbell section 2 and Figure 1",
            "$\\rho = t\\log(t/z^*)$ on $[0,1]^2$ has its minimum $-e^{-1}$ at "
            "$(z^*, t) = (1, e^{-1})$",
            "holds" if ok else "fails",
            f"no interior critical point; on the edge z* = 1, d/dt (t log t) = 0 at t = "
            f"{_tex(t_min)}, value {_tex(value)}; the other edges give ≥ 0 (→ +∞ as z* → 0)",
        ),
        Claim(
            "figure1-argmin-z",
            "Dunne & Campbell section 2 and Figure 1",
            "for a given non-zero target t, $t\\log(t/z^*)$ is minimised at $z^* = 1$",
            "holds" if decreasing else "fails",
            f"$\\partial\\rho/\\partial z^* = {sp.latex(sp.diff(f, zz))} < 0$ for t, z* > 0: "
            "strictly decreasing on (0, 1], so least at z* = 1 (why logistic + ρ_c drives "
            "every output to 1)",
        ),
    ]


def _figure2() -> Claim:
    zz, tt = sp.symbols("z t", real=True)
    f = (tt - zz) ** 2 / 2
    zeros = sp.solve(f, zz)
    ok = f.is_nonnegative and zeros == [tt]
    return Claim(
        "figure2-minimum",
        "Dunne & Campbell section 2 and Figure 2",
        "$\\rho = \\tfrac12(t - z^*)^2$ has minimum 0 exactly where $z^* = t$",
        "holds" if ok else "fails",
        f"ρ ≥ 0 and ρ = 0 ⇔ z* ∈ {{{', '.join(map(str, zeros))}}}",
    )


# --------------------------------------------------------------------------------------------
# Section 3: the softmax as a Bayes posterior
# --------------------------------------------------------------------------------------------


def _bayes() -> list[Claim]:
    r"""Eq. (3): exponential-family class conditionals with a common scale give a softmax."""
    u = sp.IndexedBase("u", real=True)  # u_k = θ_k^T X
    b = sp.IndexedBase("b", real=True)  # b(θ_k)
    prior = sp.IndexedBase("pi", positive=True)  # P(C_k)
    a = sp.Symbol("a", positive=True)  # a(ψ)
    cfun = sp.Function("c")(sp.Symbol("X"), sp.Symbol("psi"))  # c(X, ψ)

    def density(m):  # P(X | θ_m, ψ) P(C_m), the paper's third line of (3)
        return sp.exp((u[m] - b[m]) / a + cfun) * prior[m]

    posterior = density(k) / class_sum(density(i), i)
    eta = lambda m: (u[m] - b[m]) / a + sp.log(prior[m])
    as_softmax = sp.exp(eta(k)) / class_sum(sp.exp(eta(i)), i)
    printed = lambda m: u[m] - b[m] + sp.log(prior[m])
    printed_last = sp.exp(printed(k)) / class_sum(sp.exp(printed(i)), i)

    c_cancels = is_zero(posterior - posterior.subs(cfun, 0))
    is_softmax = is_zero(posterior - as_softmax)
    last_equal = is_zero(posterior - printed_last)
    last_if_a1 = is_zero((posterior - printed_last).subs(a, 1))
    # "only if": two classes, log-odds of the two last lines, solved for a(ψ).
    odds = lambda e: sp.expand_log(
        sp.log(instantiate(e, 2, {k: 1}, {}) / instantiate(e, 2, {k: 2}, {})), force=True
    )
    a_roots = sp.solve(sp.simplify(odds(posterior) - odds(printed_last)), a)

    if last_equal:
        last_status = "holds"
    elif last_if_a1:
        last_status = "holds only where a(ψ) = 1"
    else:
        last_status = "fails"
    return [
        Claim(
            "eq3-c-cancels",
            "Dunne & Campbell section 3, eq. (3)",
            "with a common scale ψ, the term $c(X, \\psi)$ cancels from the posterior",
            "holds" if c_cancels else "fails",
            "posterior(c) − posterior(c = 0) = 0 identically, for general q",
        ),
        Claim(
            "eq3-softmax",
            "Dunne & Campbell section 3, eq. (3)",
            "the posterior $P(C_k\\mid X)$ is a softmax of terms affine in X",
            "holds" if is_softmax else "fails",
            "$P(C_k\\mid X)$ = softmax(η)_k with "
            "$\\eta_k = (\\theta_k^T X - b(\\theta_k))/a(\\psi) + \\log P(C_k)$, for general q",
        ),
        Claim(
            "eq3-last-line",
            "Dunne & Campbell section 3, eq. (3), last line as printed",
            "$P(C_k\\mid X) = \\exp\\{\\theta_k^T X - b(\\theta_k) + \\log P(C_k)\\} / "
            "\\sum_j \\exp\\{\\theta_j^T X - b(\\theta_j) + \\log P(C_j)\\}$",
            last_status,
            "the printed last line drops the 1/a(ψ) of the line before; for q = 2 the "
            f"log-odds agree for all θ only at a(ψ) ∈ {{{', '.join(map(str, a_roots))}}}. "
            "The conclusion (a softmax of an affine function of X) is unaffected: "
            "divide θ_k and b(θ_k) by a(ψ)",
        ),
    ]


def _two_class() -> list[Claim]:
    """Eq. (2) and the logistic as the two-class softmax (paper section 3; the article)."""
    p1, p2, pi1, pi2 = sp.symbols("p_1 p_2 pi_1 pi_2", positive=True)
    bayes = p1 * pi1 / (p1 * pi1 + p2 * pi2)
    eq2 = 1 / (1 + sp.exp(-sp.log(p1 / p2) - sp.log(pi1 / pi2)))
    eq2_ok = sp.simplify(bayes - eq2) == 0
    minus_log_lr = -sp.log(bayes / (1 - bayes))
    printed_l = -sp.log(p1 / p2) - sp.log(pi1 / pi2)
    l_ok = sp.simplify(sp.expand_log(minus_log_lr - printed_l, force=True)) == 0

    x, e1, e2 = sp.symbols("x eta_1 eta_2", real=True)
    soft = [instantiate(SOFTMAX.definition(k), 2, {k: m}, {z: [x, 0]}) for m in (1, 2)]
    logistic_x = LOGISTIC.definition(k).subs(z[k], x)
    special = (
        sp.simplify(soft[0] - logistic_x) == 0 and sp.simplify(soft[1] - (1 - logistic_x)) == 0
    )
    pair = instantiate(SOFTMAX.definition(k), 2, {k: 1}, {z: [e1, e2]})
    shifted = sp.simplify(pair - LOGISTIC.definition(k).subs(z[k], e1 - e2)) == 0
    return [
        Claim(
            "eq2",
            "Dunne & Campbell section 3, eq. (2)",
            "$P(C_1\\mid x) = 1/(1 + \\exp\\{-\\log[P(x\\mid C_1)/P(x\\mid C_2)] "
            "- \\log[P(C_1)/P(C_2)]\\})$",
            "holds" if eq2_ok else "fails",
            "Bayes' rule for two classes minus eq. (2) simplifies to 0",
        ),
        Claim(
            "minus-log-lr",
            "Dunne & Campbell section 3",
            "$\\mathcal{L} = -\\log \\mathrm{LR} = -\\log[P(x\\mid C_1)/P(x\\mid C_2)] "
            "- \\log[P(C_1)/P(C_2)]$ with LR = $P(C_1\\mid x)/P(C_2\\mid x)$",
            "holds" if l_ok else "fails",
            "holds with LR the posterior odds, as defined there (it is not the likelihood "
            "ratio $P(x\\mid C_1)/P(x\\mid C_2)$ its name suggests)",
        ),
        Claim(
            "logistic-is-2-class-softmax",
            "the article (Properties); Dunne & Campbell section 3",
            "the logistic is the two-class softmax: softmax([x, 0]) = (σ(x), 1 − σ(x)), and "
            "softmax([η_1, η_2])_1 = σ(η_1 − η_2)",
            "holds" if special and shifted else "fails",
            "both differences simplify to 0",
        ),
    ]


# --------------------------------------------------------------------------------------------
# The article
# --------------------------------------------------------------------------------------------

ARTICLE_IN = (1, 2, 3, 4, 1, 2, 3)
ARTICLE_OUT = (
    "0.0236405",
    "0.0642617",
    "0.174681",
    "0.474833",
    "0.0236405",
    "0.0642617",
    "0.174681",
)


def _article() -> list[Claim]:
    sm_beta = softmax(beta)
    _, _, jac_ok = jacobian_check(sm_beta)
    lse = sp.log(class_sum(sp.exp(z[i]), i))
    grad_lse = is_zero(sp.diff(lse, z[k]) - SOFTMAX.definition(k))

    cc, lam = sp.symbols("c lambda", real=True)
    shifted = sm_beta.definition(k).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: e + cc
    )
    translation = is_zero(shifted - sm_beta.definition(k))
    scaled = SOFTMAX.definition(k).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: lam * e
    )
    rate = canon(sp.diff(scaled, lam).subs(lam, 1))
    claimed_rate = SOFTMAX.to_logits(zs[k] * (z[k] - class_sum(zs[j] * z[j])))
    rate_ok = is_zero(rate - claimed_rate)
    scale_invariant = is_zero(rate)

    xs = [sp.Integer(v) for v in ARTICLE_IN]
    exact = [sp.exp(v) / sum(sp.exp(w) for w in xs) for v in xs]
    digits = tuple(f"{float(sp.N(v, 30)):.6g}" for v in exact)
    tenth = [sp.exp(v / 10) / sum(sp.exp(w / 10) for w in xs) for v in xs]
    example_differs = any(sp.N(a - b_) != 0 for a, b_ in zip(exact, tenth, strict=True))

    ties = (1, 2, 2)
    lim_hi = [
        sp.limit(sp.exp(beta * v) / sum(sp.exp(beta * w) for w in ties), beta, sp.oo) for v in ties
    ]
    lim_lo = [
        sp.limit(sp.exp(beta * v) / sum(sp.exp(beta * w) for w in ties), beta, -sp.oo) for v in ties
    ]
    limits_ok = lim_hi == [0, sp.Rational(1, 2), sp.Rational(1, 2)] and lim_lo == [1, 0, 0]
    return [
        Claim(
            "article-jacobian",
            "the article (Neural networks)",
            "$\\partial\\sigma_i/\\partial z_j = \\beta\\,\\sigma_i(\\delta_{ij} - \\sigma_j)$ "
            "(multiplied by β when scaled)",
            "holds" if jac_ok else "fails",
            "sympy's derivative of the general-q definition minus the stated Jacobian is 0",
        ),
        Claim(
            "article-grad-lse",
            "the article (Properties)",
            "the softmax is the gradient of LogSumExp: "
            "$\\partial/\\partial z_k \\log\\sum_j e^{z_j} = \\sigma_k$",
            "holds" if grad_lse else "fails",
            "for general q (the Kronecker delta collapses the sum)",
        ),
        Claim(
            "article-translation",
            "the article (Properties)",
            "softmax is invariant under translation: $\\sigma(z + c\\mathbf{1}) = \\sigma(z)$",
            "holds" if translation else "fails",
            "for general q and β: e^{βc} factors out of the sum and cancels",
        ),
        Claim(
            "article-no-scale-invariance",
            "the article (Properties, Example)",
            "softmax is not invariant under scaling: $\\sigma(\\lambda z) \\ne \\sigma(z)$",
            "holds" if (not scale_invariant and rate_ok and example_differs) else "fails",
            "$\\partial\\sigma_k(\\lambda z)/\\partial\\lambda|_{\\lambda=1} = "
            "\\sigma_k(z_k - \\sum_j \\sigma_j z_j)$, not identically 0 (for general q); "
            "the article's example differs from its /10 version",
        ),
        Claim(
            "article-example",
            "the article (Example)",
            "softmax([1, 2, 3, 4, 1, 2, 3]) = [" + ", ".join(ARTICLE_OUT) + "]",
            "holds" if digits == ARTICLE_OUT else "fails",
            "exact values rounded to 6 significant digits: [" + ", ".join(digits) + "]",
        ),
        Claim(
            "article-limits",
            "the article (Smooth arg max)",
            "as β → +∞ softmax tends to the arg max (ties share the 1), as β → −∞ to the arg min",
            "holds" if limits_ok else "fails",
            f"for z = {list(ties)}: β → +∞ gives {lim_hi}, β → −∞ gives {lim_lo}",
        ),
    ]


# --------------------------------------------------------------------------------------------
# The forum's rival, the L1 ("abs") normalisation
# --------------------------------------------------------------------------------------------


def _forum() -> list[Claim]:
    m = sp.Symbol("m", integer=True, positive=True)
    sums_to_one = is_zero(class_sum(L1.definition(j)) - 1)
    lam, cc = sp.symbols("lambda c", positive=True)
    scaled = L1.definition(k).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: lam * e
    )
    l1_scale = is_zero(scaled - L1.definition(k))
    shifted = L1.definition(k).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == z, lambda e: e + cc
    )
    l1_translation = is_zero(shifted - L1.definition(k))

    def log_odds(act):
        return sp.expand_log(sp.log(act.definition(k) / act.definition(m)), force=True)

    def linear_in_z(expr):
        return all(sp.diff(expr, a, b_) == 0 for a in (z[k], z[m]) for b_ in (z[k], z[m]))

    soft_linear, l1_linear = linear_in_z(log_odds(SOFTMAX)), linear_in_z(log_odds(L1))
    natural = dict(natural_pairing())
    return [
        Claim(
            "forum-sums-to-one",
            "the forum thread",
            "$\\lvert z_k \\rvert / \\sum_j \\lvert z_j \\rvert$ sums to one over the classes",
            "holds" if sums_to_one else "fails",
            "for general q; it is also scale invariant "
            f"({'yes' if l1_scale else 'no'}) and translation invariant "
            f"({'yes' if l1_translation else 'no'}), the reverse of the softmax",
        ),
        Claim(
            "forum-log-odds-linear",
            "the forum thread (the logit model: log-probabilities linear in z)",
            "softmax log-odds $\\log(z^*_k/z^*_m)$ are linear in z; those of the L1 "
            "normalisation are not",
            "holds" if soft_linear and not l1_linear else "fails",
            f"softmax: {_tex(log_odds(SOFTMAX))}; L1: {_tex(log_odds(L1))}",
        ),
        Claim(
            "forum-cross-entropy",
            "the forum thread (maximum likelihood / cross-entropy)",
            "cross-entropy pairs naturally with the softmax ($\\Delta_k = z^*_k - t_k$), "
            "not with the L1 normalisation",
            "holds"
            if natural["softmax/cross_entropy"].kind != "different"
            and natural["l1/cross_entropy"].kind == "different"
            else "fails",
            f"softmax/cross_entropy: {natural['softmax/cross_entropy'].summary}; "
            f"l1/cross_entropy: {natural['l1/cross_entropy'].summary}, "
            f"Δ_k = {_tex(derivation('l1/cross_entropy').delta)}",
        ),
    ]


@functools.cache
def all_claims() -> tuple[Claim, ...]:
    """Every claim, checked (cached)."""
    return (
        *_natural_claims(),
        *_figure1(),
        _figure2(),
        *_bayes(),
        *_two_class(),
        *_article(),
        *_forum(),
    )
