r"""The two printers of formulas: LaTeX and one line of Unicode, in the paper's notation.

Both share one term order (positive terms first, sums last: z*_k − t_k, not −t_k + z*_k, as
Dunne & Campbell (1997) write the cells of their Table 1). The LaTeX one writes z*_k as
``z^*_{k}``, sgn as ``\operatorname{sgn}`` and |x| as ``\lvert x \rvert`` (no bare ``|``,
which would split a Markdown table cell).

A leaf of the import graph (sympy only): :mod:`.claims`, :mod:`.hessian` and :mod:`.render`
print through it, so none of them imports another to print (issue 23, item 8).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["latex", "text"]

_NAMES = {"z^*": "z*", "z": "z", "t": "t"}


class _PaperOrder:
    """Orders the terms of a sum: sums over classes last, positive before negative."""

    def _as_ordered_terms(self, expr, order=None):
        terms = list(super()._as_ordered_terms(expr, order="rev-lex"))

        def key(term):
            bare_sum = isinstance(term.as_coeff_Mul()[1], sp.Sum)
            return (bare_sum, term.could_extract_minus_sign())

        return sorted(terms, key=key)


class _Latex(_PaperOrder, LatexPrinter):
    def _needs_mul_brackets(self, expr, first=False, last=False):
        # z^*_k (Σ_j t_j) − t_k, not z^*_k Σ_j t_j − t_k (which reads as a sum over (t_j − t_k)).
        return isinstance(expr, sp.Sum) or super()._needs_mul_brackets(expr, first, last)

    def _print_Indexed(self, expr):
        return f"{expr.base.name}_{{{self._print(expr.indices[0])}}}"

    def _print_Pow(self, expr):
        # (z^*_k)^2 as the paper writes it; z^*_{k}^{2} would be a double superscript.
        if isinstance(expr.base, sp.Indexed) and "^" in expr.base.name and expr.exp.is_positive:
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_sign(self, expr, exp=None):
        tex = r"\operatorname{sgn} " + self._print(expr.args[0])
        return f"({tex})^{{{exp}}}" if exp else tex

    def _print_Abs(self, expr, exp=None):
        tex = r"\lvert " + self._print(expr.args[0]) + r" \rvert"
        return f"{tex}^{{{exp}}}" if exp else tex


class _Text(_PaperOrder, StrPrinter):
    printmethod = "_jaxsoftmax_text"  # not "_sympystr": Indexed would print itself as z[k]

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, sp.Sum):
            return f"({self._print(item)})"
        return super().parenthesize(item, level, strict)

    def _print_Indexed(self, expr):
        name = _NAMES.get(expr.base.name, expr.base.name).replace("*", "\0")
        return f"{name}_{self._print(expr.indices[0])}"

    def _print_Sum(self, expr):
        (dummy, _, _), body = expr.limits[0], expr.function
        inner = self._print(body)
        if isinstance(body, sp.Add):
            inner = f"({inner})"
        return f"Σ_{dummy} {inner}"

    def _print_sign(self, expr):
        return f"sgn({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr):
        return "δ_" + "".join(self._print(a) for a in expr.args)

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Symbol(self, expr):
        return {"beta": "β", "pi": "π", "gamma": "γ", "epsilon": "ε"}.get(expr.name, expr.name)


def latex(expr: sp.Expr) -> str:
    """``expr`` in LaTeX, in the paper's notation."""
    return _Latex().doprint(expr)


def text(expr: sp.Expr) -> str:
    """``expr`` on one line in Unicode (z*_k, Σ_j, ·, ^), for the terminal."""
    s = _Text().doprint(expr)
    return s.replace("**", "^").replace("*", "·").replace("\0", "*")
