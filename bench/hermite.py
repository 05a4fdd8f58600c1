"""Hermite expansions and polynomial regression (relulearn.hermite, .deep, .polynomial) against the obvious peers.

Usage: ``python bench/hermite.py [--quick]``

Tables (every row measured in this run):

1. Hermite coefficients, degree <= 30: ``rl.hermite_coefficients`` (closed forms /
   piecewise Gauss-Legendre split at the kinks) against plain Gauss-Hermite quadrature
   with 300 and 2000 nodes (``scipy.special.roots_hermitenorm``) (numpy ``hermegauss``);
   max absolute error against adaptive ``scipy.integrate.quad`` (the oracle) and time
   per call. Target: 1e-12.
2. Tails eps(q): ``rl.hermite_tail`` (sum of the tail) against 1 - (partial sum) for
   normalised sigmoid and sqrt(2) ReLU: relative error against a reference tail (ReLU:
   30-digit mpmath 3F2; sigmoid: 40-digit sum of the squares of coefficients from a
   separate, wider quadrature). Target: relative accuracy kept for tails below 1e-12.
   For the sigmoid, ours is limited only by the ~1e-17 absolute accuracy of the
   coefficients (relative error ~ 1e-17 / |a_{q+1}|), while 1 - partial sum loses
   everything below 1e-16.
3. Learning a random depth-3 sqrt(2)-ReLU network (d = 6, width 256) from uniform inputs
   on the sphere: ``rl.fit_polynomial`` (monomial least squares) against kernel ridge
   regression with K = (1 + <x, x'>)^D (the equivalent kernel): test MSE, the
   infinite-width prediction err*(D), time and the time ratio.

Not run by CI.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np
from scipy import integrate, special

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, print_table, timed

import relulearn as rl


def oracle(act, n):
    def g(x):
        return (
            float(act(np.array(x)))
            * special.eval_hermitenorm(n, x)
            * math.exp(-x * x / 2)
            / math.sqrt(2 * math.pi * math.factorial(n))
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        opts = {"epsabs": 1e-15, "epsrel": 1e-13, "limit": 400}
        return (
            integrate.quad(g, -40, 0, **opts)[0] + integrate.quad(g, 0, 40, **opts)[0]
        )


def gauss_hermite(act, degree, nodes):
    z, w = special.roots_hermitenorm(
        nodes
    )  # numpy's hermegauss overflows beyond ~350 nodes
    w = w / w.sum()
    return rl.hermite_functions(z, degree) @ (w * act(z))


def table_coefficients(degree):
    rows = []
    for name in ["relu", "tanh", "sigmoid", "softplus", "squared_relu"]:
        act = rl.get_activation(name)
        ref = np.array([oracle(act, n) for n in range(degree + 1)])
        ours, t_ours = timed(rl.hermite_coefficients, act, degree)
        gh300, t300 = timed(gauss_hermite, act, degree, 300)
        gh2000, t2000 = timed(gauss_hermite, act, degree, 2000)
        rows.append(
            [
                name,
                float(np.max(np.abs(ours - ref))),
                t_ours,
                float(np.max(np.abs(gh300 - ref))),
                t300,
                float(np.max(np.abs(gh2000 - ref))),
                t2000,
            ]
        )
    print_table(
        f"1. Hermite coefficients up to degree {degree}: max |error| vs adaptive quadrature, seconds",
        [
            "activation",
            "ours err",
            "ours s",
            "GH300 err",
            "GH300 s",
            "GH2000 err",
            "GH2000 s",
        ],
        rows,
    )


def mp_relu_tail(q):
    """30-digit sum of the normalised-ReLU tail (2 x raw), by mpmath's 3F2 at 1 (independent of the float code)."""
    n0 = q + 1 if (q + 1) % 2 == 0 else q + 2
    j = n0 // 2
    with mpmath.workdps(30):
        first = mpmath.gamma(j - 0.5) / (
            8 * mpmath.pi**1.5 * mpmath.gamma(j + 1) * (j - 0.5)
        )
        return 2 * first * mpmath.hyp3f2(1, j - 0.5, j - 0.5, j + 0.5, j + 1, 1)


def table_tails(qs):
    rows = []
    nrelu = rl.normalize_activation("relu")
    sig = rl.normalize_activation("sigmoid")
    a_sig = rl.hermite_coefficients(sig, max(qs) + 300)
    a_relu = rl.hermite_coefficients(nrelu, max(qs))
    for q in qs:
        ref = float(mp_relu_tail(q))
        ours = rl.hermite_tail(nrelu, q)
        naive = 1.0 - float(np.sum(a_relu[: q + 1] ** 2))
        rows.append(["sqrt2 ReLU", q, ref, abs(ours / ref - 1), abs(naive / ref - 1)])
    for q in qs:
        with mpmath.workdps(
            40
        ):  # 40-digit sum of the float coefficients' squares: the reference tail
            ref = float(mpmath.fsum(mpmath.mpf(float(v)) ** 2 for v in a_sig[q + 1 :]))
        ours = rl.hermite_tail(sig, q)
        naive = 1.0 - float(np.sum(a_sig[: q + 1] ** 2))
        rows.append(
            ["sigmoid (norm.)", q, ref, abs(ours / ref - 1), abs(naive / ref - 1)]
        )
    print_table(
        "2. tails eps(q): relative error of our tail sum and of 1 - partial sum",
        ["activation", "q", "eps(q)", "ours rel.err", "1-partial rel.err"],
        rows,
    )


def kernel_ridge(X, y, Xt, D, lam):
    d = X.shape[0]
    K = (1.0 + X.T @ X / d) ** D
    alpha = np.linalg.solve(K + lam * X.shape[1] * np.eye(X.shape[1]), y)
    return ((1.0 + Xt.T @ X / d) ** D) @ alpha


def table_regression(n, n_test, degrees, n_nets):
    nrelu = rl.normalize_activation("relu")
    rows = []
    for D in degrees:
        mse_p, mse_k, t_p, t_k = [], [], 0.0, 0.0
        for s in range(n_nets):
            net = rl.random_deep_network(6, (256, 256), rng=s)
            X = rl.UniformSphere().sample(6, n, rng=100 + s)
            Xt = rl.UniformSphere().sample(6, n_test, rng=200 + s)
            y, yt = net(X), net(Xt)
            fit, t1 = timed(rl.fit_polynomial, X, y, D)
            pk, t2 = timed(kernel_ridge, X, y, Xt, D, 1e-8)
            t_p += t1
            t_k += t2
            mse_p.append(np.mean((fit(Xt) - yt) ** 2))
            mse_k.append(np.mean((pk - yt) ** 2))
        pred = rl.best_polynomial_error(
            lambda t: rl.dual_activation(nrelu, rl.dual_activation(nrelu, t)), 6, D
        )
        rows.append(
            [
                D,
                math.comb(6 + D, D),
                float(np.mean(mse_p)),
                float(np.mean(mse_k)),
                pred,
                t_p / n_nets,
                t_k / n_nets,
                t_k / t_p,
            ]
        )
    print_table(
        f"3. depth-3 random network, d=6, width 256, n={n}: polynomial least squares vs kernel ridge",
        [
            "D",
            "features",
            "poly MSE",
            "kernel MSE",
            "err*(D)",
            "poly s",
            "kernel s",
            "time ratio",
        ],
        rows,
    )


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="small sizes (about half a minute)"
    )
    args = ap.parse_args()
    print(machine_line(), f"(os.cpu_count() = {__import__('os').cpu_count()})")
    if args.quick:
        table_coefficients(12)
        table_tails([10, 40, 80])
        table_regression(1500, 1000, [2, 4], 1)
    else:
        table_coefficients(30)
        table_tails([10, 40, 80, 120])
        table_regression(4000, 2000, [1, 2, 3, 4, 5], 3)


if __name__ == "__main__":
    main()
