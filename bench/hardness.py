"""Benchmark of chapter 2: the exact fitter against its peers, measured in the same run.

Table 1: on Set Splitting instances and on Gaussian data (realizable, and with one label
perturbed), the exact branch-and-bound fitter (`relulearn.find_exact_fit`) against
gradient training (`relulearn.train`, Adam, a few random restarts): time, and whether
each reaches an exact fit.

Table 2: the number of linear programs the branch-and-bound solves against the number of
candidate activation patterns a plain enumeration would try (D(n, d)^k per sign vector,
D = number of homogeneous dichotomies).

Usage: python bench/hardness.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from math import comb

import numpy as np

import relulearn as rl


def cycle(N):
    return [(i, (i + 1) % N) for i in range(N)]


def dichotomies(n, d):
    """Cover's count of dichotomies of n points in general position by hyperplanes through the origin."""
    return 2 * sum(comb(n - 1, i) for i in range(min(d, n)))


def gaussian_instance(n, d, seed, perturb):
    net = rl.planted_network(d, 2, 1, rng=seed)
    X, Y = rl.sample(net, n, rng=seed + 1)
    Y = Y.copy()
    if perturb:
        Y[0, 0] += 0.5
    return X, Y


def descent(X, Y, k, restarts, max_iter, seed):
    t0 = time.perf_counter()
    best = np.inf
    for s in range(restarts):
        best = min(
            best,
            rl.train(
                X, Y, k, rng=np.random.default_rng([seed, s, 1]), max_iter=max_iter
            ).residual,
        )
    return time.perf_counter() - t0, best


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="small instances only (a few seconds)"
    )
    args = ap.parse_args()
    restarts, max_iter = (2, 1000) if args.quick else (5, 5000)

    cases = [
        ("4-cycle", *rl.set_splitting_instance(4, cycle(4))),
        ("triangle", *rl.set_splitting_instance(3, cycle(3))),
        ("9-cycle", *rl.set_splitting_instance(9, cycle(9))),
        (
            "Fano",
            *rl.set_splitting_instance(
                7,
                [
                    (0, 1, 2),
                    (0, 3, 4),
                    (0, 5, 6),
                    (1, 3, 5),
                    (1, 4, 6),
                    (2, 3, 6),
                    (2, 4, 5),
                ],
            ),
        ),
    ]
    sizes = [9, 12, 15] if args.quick else [9, 12, 15, 18, 21]
    for n in sizes:
        cases.append(
            (f"gauss n={n} d={n // 3}", *gaussian_instance(n, n // 3, 1, False))
        )
        cases.append(
            (f"gauss n={n} d={n // 3} +0.5", *gaussian_instance(n, n // 3, 1, True))
        )

    print(
        f"os.cpu_count() = {os.cpu_count()}; train: Adam, {restarts} restarts x {max_iter} steps\n"
    )
    print(
        "Table 1: exact fitter (verified to 1e-9) vs gradient training (reached 0 = relative residual < 1e-6; its tol is 1e-7)"
    )
    head = f"{'instance':24s} {'n':>3s} {'d':>3s} | {'fitter s':>9s} {'fit?':>5s} | {'train s':>8s} {'best resid':>10s} {'zero?':>6s} | {'time ratio':>10s}"
    print(head)
    print("-" * len(head))
    rows2 = []
    for case, (name, X, Y) in enumerate(cases):
        t0 = time.perf_counter()
        search = rl.exact_fit_search(X, Y, 2)
        tf = time.perf_counter() - t0
        td, best = descent(X, Y, 2, restarts, max_iter, seed=case)
        print(
            f"{name:24s} {X.shape[1]:3d} {X.shape[0]:3d} | {tf:9.3f} {search.realizable!s:>5s} | "
            f"{td:8.3f} {best:10.1e} {best < 1e-6!s:>6s} | {td / tf:10.2f}"
        )
        rows2.append((name, X.shape[1], X.shape[0], search.n_lps))

    print(
        "\nTable 2: linear programs solved by branch-and-bound vs patterns of plain enumeration (k = 2)"
    )
    head = f"{'instance':24s} {'n':>3s} {'d':>3s} | {'B&B LPs':>8s} | {'3 D(n,d)^2':>12s} | {'ratio':>10s}"
    print(head)
    print("-" * len(head))
    for name, n, d, lps in rows2:
        enum = 3 * dichotomies(n, d) ** 2
        print(
            f"{name:24s} {n:3d} {d:3d} | {lps:8d} | {enum:12.3e} | {enum / max(lps, 1):10.2e}"
        )


if __name__ == "__main__":
    main()
