"""Bench of chapter 3: exact recovery with Gaussian inputs and no noise (issue 4).

Prints, side by side and measured in the same run:

* success counts vs n for the moment route alone (the paper's Step 4 with frac = 1/4),
  the
  certificate search (``recover_exact``, default strategy) and gradient training
  (``relulearn.train``, Adam, best of a few learning rates);
* the time of ``recover_exact`` against one ``Y @ X.T`` on n = 200,000, d = 100, k = 20,
  m = 40.

"Exact" means every error of ``relulearn.recovery_error`` (after matching) is below
1e-8. Not run by CI.  ``--quick`` runs a reduced version in about a minute.

Usage: python bench/exact_recovery.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine_line, print_table

import relulearn as rl
from relulearn.exact import recover_exact

TOL = 1e-8


def _instance(d, k, m, n, seed):
    net = rl.planted_network(d, k, m, rng=seed)
    X, Y = rl.sample(net, n, rng=1000 + seed)
    return net, X, Y


def exact_count(d, k, m, n, seeds, route):
    """Number of seeds recovered exactly; a RecoveryFailed counts as a failure."""
    wins = 0
    wrong_certified = 0
    for seed in range(seeds):
        net, X, Y = _instance(d, k, m, n, seed)
        kwargs = (
            {"strategy": "moments", "max_moment_samples": n}
            if route == "moments"
            else {}
        )
        try:
            r = recover_exact(X, Y, k, rng=seed, **kwargs)
        except rl.RecoveryFailed:
            continue
        ok = rl.is_exact(rl.recovery_error(r, net), TOL)
        wins += ok
        wrong_certified += r.ok and not ok
    if wrong_certified:
        print(
            f"!! {wrong_certified} certified but wrong answers at d={d}, k={k}, n={n}"
        )
    return wins


def train_count(d, k, m, n, seeds, lrs, max_iter):
    """Seeds where Adam (best of the learning rates) reaches an exact network."""
    wins = 0
    for seed in range(seeds):
        net, X, Y = _instance(d, k, m, n, seed)
        best = np.inf
        for lr in lrs:
            # tol 1e-13 on ||R||_F/||Y||_F: the default 1e-7 would stop near error 1e-7
            r = rl.train(
                X,
                Y,
                k,
                rng=np.random.default_rng([seed, 1]),
                method="adam",
                lr=lr,
                max_iter=max_iter,
                tol=1e-13,
            )
            best = min(best, rl.recovery_error(r, net).max)
            if best <= TOL:
                break
        wins += best <= TOL
    return wins


def speed(n, d, k, m, repeats, seed=0):
    """Best-of-``repeats`` times of one ``Y @ X.T`` and of ``recover_exact`` on the same arrays; the
    two are alternated so that a load spike on the machine hits both."""
    net = rl.planted_network(d, k, m, rng=seed)
    X, Y = rl.sample(net, n, rng=1 + seed)
    t_mm, t_rec, holder = [], [], {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        Y @ X.T
        t_mm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        holder["r"] = recover_exact(X, Y, k, rng=seed)
        t_rec.append(time.perf_counter() - t0)
    err = rl.recovery_error(holder["r"], net).max
    return min(t_mm), min(t_rec), err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="fewer seeds and sizes (about a minute)"
    )
    ap.add_argument("--speed-only", action="store_true", help="only the timing table")
    args = ap.parse_args(argv)
    q = args.quick
    if args.speed_only:
        _speed_table(q)
        return
    print(machine_line())
    print(f"os.cpu_count() = {os.cpu_count()}")

    configs = [
        # (d, k, m), seeds, ns for the certificate search, ns for the moment route, ns
        # for training
        (
            (20, 5, 10),
            5 if q else 20,
            [40, 60, 80] if q else [30, 40, 50, 60, 80, 120],
            [5000, 20000] if q else [2000, 5000, 10000, 20000, 30000, 50000, 100000],
            [80] if q else [40, 50, 60, 80, 120],
        ),
        (
            (60, 20, 30),
            3 if q else 10,
            [600] if q else [300, 450, 600, 900],
            [20000] if q else [6000, 20000, 60000, 200000],
            [] if q else [600],
        ),
    ]
    # gradient training is slow: fewer seeds
    train_seeds = {(20, 5, 10): 10, (60, 20, 30): 3}
    lrs = [1e-2, 3e-2] if q else [3e-3, 1e-2, 3e-2]
    max_iter = 2000 if q else 3000
    for (d, k, m), seeds, ns_cert, ns_mom, ns_train in configs:
        rows = []
        for n in sorted(set(ns_cert) | set(ns_mom) | set(ns_train)):
            t0 = time.perf_counter()
            c = exact_count(d, k, m, n, seeds, "auto") if n in ns_cert else None
            t1 = time.perf_counter()
            mo = exact_count(d, k, m, n, seeds, "moments") if n in ns_mom else None
            ts = train_seeds.get((d, k, m), seeds)
            tr = train_count(d, k, m, n, ts, lrs, max_iter) if n in ns_train else None
            fmt = lambda v, t=seeds: "-" if v is None else f"{v}/{t}"
            rows.append(
                [
                    n,
                    f"{n / d:.1f}",
                    fmt(mo),
                    fmt(c),
                    fmt(tr, ts),
                    (t1 - t0) / seeds if c is not None else "-",
                ]
            )
        print_table(
            f"exact recoveries (error < {TOL:.0e}) for (d, k, m) = {(d, k, m)}, {seeds} seeded instances",
            [
                "n",
                "n/d",
                "moment route",
                "certificate search",
                f"Adam (best of {lrs})",
                "s per search",
            ],
            rows,
        )

    _speed_table(q)
    # the same timing with single-threaded BLAS for both (small LAPACK calls suffer from
    # thread start-up and contention on a shared 2-core machine), in a fresh process
    env = dict(
        os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    cmd = [sys.executable, __file__, "--speed-only"] + (["--quick"] if q else [])
    print("\nsingle-threaded BLAS:")
    sys.stdout.flush()
    subprocess.run(cmd, env=env, check=True)


def _speed_table(q):
    n, d, k, m = (200_000, 100, 20, 40)
    reps = 2 if q else 5
    seeds = range(2 if q else 5)
    rows = []
    for seed in seeds:
        t_mm, t_rec, err = speed(n, d, k, m, reps, seed)
        rows.append([seed, t_mm, t_rec, t_rec / t_mm, err, os.cpu_count()])
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print_table(
        f"time, n={n}, d={d}, k={k}, m={m}, {len(rows)} planted instances (best of {reps}; BLAS threads: "
        f"{threads}; target ratio <= 5); worst ratio {max(r[3] for r in rows):.2f}",
        [
            "instance",
            "Y @ X.T (s)",
            "recover_exact (s)",
            "ratio",
            "recovery error",
            "cores",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
