r"""The symbols every derivation shares, for a general number of classes q.

Notation follows Dunne & Campbell (1997), section 1: z are the logits (the inputs of the output
activation f_q), z* = f_q(z) the outputs, t the targets, k the class whose Δ_k is wanted. Sums
run over the classes j = 1, …, q with q a positive integer symbol, so every formula holds for
every q, not for one fixed size. Indices are assumed to lie in 1, …, q (so that
Σ_j δ_jk g(j) = g(k)).

* ``z[j]``   logits, real.
* ``zs[j]``  outputs z*_j, positive (softmax, logistic, and L1 away from z_j = 0; for the linear
  activation z* = z, and positivity is what ρ_c needs anyway).
* ``t[j]``   targets, non-negative; they need not sum to one (the paper's ρ_c allows it).
* ``A``      Σ_j |z_j|, the normaliser of the L1 ("abs") activation of the forum thread.
* ``B``      Σ_j (z_j² + ε), the normaliser of the spherical softmax (de Brébisson & Vincent
  2016).
* ``C``      Σ_j (1 + z_j + z_j²/2), the normaliser of the Taylor softmax (de Brébisson &
  Vincent 2016).
* ``beta``   the inverse temperature β of the article's softmax.
* ``c``      the target class of a one-hot target t_j = δ_jc.
* ``l``, ``m`` the second index of a Hessian H_kl and a spare summation index.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["A", "B", "C", "beta", "c", "i", "j", "k", "l", "m", "q", "t", "z", "zs"]

q = sp.Symbol("q", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
c = sp.Symbol("c", integer=True, positive=True)
l = sp.Symbol("l", integer=True, positive=True)  # noqa: E741 (the Hessian's second index)
m = sp.Symbol("m", integer=True, positive=True)

z = sp.IndexedBase("z", real=True)
zs = sp.IndexedBase("z^*", positive=True)
t = sp.IndexedBase("t", nonnegative=True)

A = sp.Symbol("A", positive=True)
B = sp.Symbol("B", positive=True)
C = sp.Symbol("C", positive=True)
beta = sp.Symbol("beta", real=True, nonzero=True)
