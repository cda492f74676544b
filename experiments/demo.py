"""A short tour of the jaxsoftmax API: softmax and its limits, and every pairing's Δ_k.

python experiments/demo.py [--q 4] [--seed 0]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import jaxsoftmax as js


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--q", type=int, default=4, help="number of classes (>= 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.q < 2:
        parser.error(f"--q must be at least 2, got {args.q}")
    np.set_printoptions(precision=6, suppress=True)

    z = jnp.array([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0])
    print("The article's example: softmax([1, 2, 3, 4, 1, 2, 3])")
    print("  ", np.asarray(js.softmax(z)))
    for beta in (0.0, 0.5, 10.0, -10.0):
        print(f"   beta = {beta:5}:", np.asarray(js.softmax(z, beta=beta)))
    print("   hardmax (beta -> +inf):", np.asarray(js.hardmax(z)))
    print("   l1_normalize (the forum's rival):", np.asarray(js.l1_normalize(z)))
    print("   logsumexp (smooth max):", float(js.logsumexp(z)), " max:", float(z.max()))

    kz, kt = jax.random.split(jax.random.key(args.seed))
    logits = jax.random.normal(kz, (args.q,))
    targets = jax.nn.one_hot(jax.random.randint(kt, (), 0, args.q), args.q)
    print(
        f"\nDelta_k = d rho / d z_k for every pairing at random logits, q = {args.q}, "
        f"one-hot target {np.asarray(targets)}"
    )
    worst = 0.0
    rows = {}
    for p in js.list_pairings():
        zz = jnp.abs(logits) + 0.5 if p.name == "linear/cross_entropy" else logits
        closed, auto = p.delta(zz, targets), js.autodiff_delta(p, zz, targets)
        err = float(jnp.max(jnp.abs(closed - auto)))
        worst = max(worst, err)
        rows[p.name] = np.asarray(closed) + 0.0  # + 0.0 prints -0 as 0
        print(f"  {p.name:34s} {rows[p.name]}  |closed - jax.grad| = {err:.1e}")
    print(f"\nlargest difference between the closed forms and jax.grad: {worst:.1e}")
    return rows


if __name__ == "__main__":
    main()
