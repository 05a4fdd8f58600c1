"""Noisy labels: relulearn.recover_noisy against gradient training and the statistical limit.

Usage: ``python bench/noise.py [--quick] [--seeds S] [--seeds-large S] [--big] [--tables
N ...]``

Every number is measured in this run, on one BLAS thread (set below, before numpy is
imported), on the same seeded planted instances for every method. The setting of issue
#16: (d, k, m) = (15, 5, 8), U* and V* with i.i.d. N(0, 1) entries, Gaussian inputs,
Gaussian noise of sd = half the RMS of the clean labels.

Tables:

1. the statistical limit, n = 2kd ... 64kd and 80,000: for ``recover_noisy`` (default
   settings, so with its certificate) and ``relulearn.train`` (Adam, default settings),
   the number of instances whose error max(eps_U, eps_V) is within 1.25x of the
   *oracle's* (``relulearn.local_least_squares`` started at the truth: the local
   least-squares estimate), the median error ratio to the oracle, the median times and
   the median of the per-instance time ratios (``recover_noisy`` / Adam), also for
   ``recover_noisy(certify=False)`` (the fit alone). Targets: >= 19/20 within 1.25x at
   4kd and 16kd and at least Adam's count; time ratio <= 1 there and <= 0.1 at 80,000;
2. what each part contributes at 4kd and 16kd: one moment start refined by
   Levenberg-Marquardt, the best of the starts, and (for comparison) the chapter-3
   sign-pattern regression from the same start;
3. the large-n rate: error against n up to 320,000 (target: <= 0.01 at 320,000, log-log
   slope in [-0.65, -0.35]);
4. error against the noise level at n = 40,000;
5. scalar output (d, k, m) = (10, 4, 1), noiseless, n = 200,000: ``recover_low_rank``
   (target: error < 1e-8,
   certified) against gradient training;
6. peak memory (tracemalloc, numpy allocations) of ``recover_noisy`` beyond X and Y at d
   = 50, k = m = 10 for growing n, without and with the certificate: the fit streams
   over chunks of samples (the Levenberg-Marquardt steps accumulate J^T J and J^T r
   chunk by chunk and never hold the n-by-parameters Jacobian), so its peak is a
   constant plus the k sign bits of each sample; the certificate copies the two halves
   of the samples. ``--big`` measures n = 10^7 itself (X alone is 4 GB; needs about 15
   GB of RAM and some minutes).

``--tables 1 3`` runs only some tables.

Not run by CI.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread, as the targets are stated

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import loglog_slope, machine_line, peak_memory, print_table, timed

import relulearn as rl

SETTING = (15, 5, 8)
LEVEL = 0.5
WITHIN = 1.25


def instance(d, k, m, n, seed, level=LEVEL):
    """U*, V* with i.i.d. N(0, 1) entries, Gaussian X, labels with i.i.d. Gaussian noise of sd = level * RMS."""
    g = np.random.default_rng([16, seed, n])
    net = rl.TwoLayerNetwork(g.standard_normal((m, k)), g.standard_normal((k, d)))
    X = g.standard_normal((d, n))
    Yc = net(X)
    sd = level * float(np.sqrt(np.mean(Yc**2)))
    return net, X, Yc + sd * g.standard_normal(Yc.shape)


def err(est, net):
    """max(eps_U, eps_V) after matching (parameters only)."""
    return rl.recovery_error(est, net, n_test=0).weights


def limit_row(n, seeds, with_cert_free=True):
    """One row of table 1: per instance the oracle's error, ours, Adam's, and the times."""
    d, k, m = SETTING
    rows = []
    for seed in range(seeds):
        net, X, Y = instance(d, k, m, n, seed)
        oracle = err(rl.local_least_squares(X, Y, net).network, net)
        rec, t_ours = timed(rl.recover_noisy, X, Y, k, rng=seed, on_failure="return")
        t_fit = (
            timed(
                rl.recover_noisy, X, Y, k, rng=seed, on_failure="return", certify=False
            )[1]
            if with_cert_free
            else np.nan
        )
        adam, t_adam = timed(rl.train, X, Y, k, rng=seed, on_failure="return")
        rows.append(
            (oracle, err(rec, net), err(adam, net), t_ours, t_fit, t_adam, rec.status)
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer sizes and instances (about a minute)",
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="instances per n up to 64kd (default 20, quick 5)",
    )
    ap.add_argument(
        "--seeds-large",
        type=int,
        default=None,
        help="instances at n = 80,000 (default 5, quick 1)",
    )
    ap.add_argument(
        "--big", action="store_true", help="also measure memory at n = 10^7, d = 50"
    )
    ap.add_argument(
        "--tables",
        type=int,
        nargs="*",
        default=None,
        help="run only these tables (1-6)",
    )
    args = ap.parse_args()
    tables = set(args.tables) if args.tables else {1, 2, 3, 4, 5, 6}
    seeds = args.seeds or (5 if args.quick else 20)
    seeds_large = args.seeds_large or (1 if args.quick else 5)
    print(machine_line() + "; one BLAS thread")
    d, k, m = SETTING
    kd = k * d

    # 1. the statistical limit
    if 1 in tables:
        sizes = (
            [(2 * kd, seeds), (4 * kd, seeds), (16 * kd, seeds), (80_000, seeds_large)]
            if args.quick
            else (
                [(c * kd, seeds) for c in (2, 4, 8, 16, 32, 64)]
                + [(80_000, seeds_large)]
            )
        )
        rows = []
        for n, s in sizes:
            raw = limit_row(n, s)
            r = np.array([row[:6] for row in raw], dtype=float)
            certified = sum(row[6] == "certified" for row in raw)
            oracle, ours, adam, t_ours, t_fit, t_adam = r.T
            rows.append(
                [
                    n,
                    f"{n / kd:g}",
                    len(r),
                    f"{int(np.sum(ours <= WITHIN * oracle))}/{len(r)}",
                    f"{int(np.sum(adam <= WITHIN * oracle))}/{len(r)}",
                    float(np.median(oracle)),
                    float(np.median(ours / oracle)),
                    float(np.median(adam / oracle)),
                    float(np.median(t_ours)),
                    float(np.median(t_fit)),
                    float(np.median(t_adam)),
                    float(np.median(t_ours / t_adam)),
                    float(np.median(t_fit / t_adam)),
                    f"{certified}/{len(r)}",
                ]
            )
        print_table(
            f"1. the statistical limit: (d, k, m) = {SETTING}, noise sd = {LEVEL} x RMS(clean); 'within' = max(eps_U,"
            f" eps_V) <= {WITHIN} x the oracle's (local least squares from the truth); medians over the instances",
            [
                "n",
                "n/kd",
                "inst",
                "ours within",
                "Adam within",
                "oracle err",
                "ours/oracle",
                "Adam/oracle",
                "ours s",
                "fit-only s",
                "Adam s",
                "time ours/Adam",
                "fit-only/Adam",
                "certified",
            ],
            rows,
        )

    # 2. what each part contributes
    if 2 in tables:
        rows = []
        for n in (4 * kd, 16 * kd):
            for name, kwargs in (
                ("1 moment start + LM", {"n_starts": 1}),
                ("best of 4 starts + LM (default)", {}),
            ):
                res = []
                for seed in range(seeds):
                    net, X, Y = instance(d, k, m, n, seed)
                    oracle = err(rl.local_least_squares(X, Y, net).network, net)
                    rec = rl.recover_noisy(
                        X, Y, k, rng=seed, on_failure="return", certify=False, **kwargs
                    )
                    res.append(
                        (
                            oracle,
                            err(rec.details["moment_estimate"], net),
                            err(rec, net),
                        )
                    )
                o, mom, e = np.array(res).T
                rows.append(
                    [
                        n,
                        name,
                        f"{int(np.sum(e <= WITHIN * o))}/{len(o)}",
                        float(np.median(mom / o)),
                        float(np.median(e / o)),
                    ]
                )
            res = []
            for seed in range(
                seeds
            ):  # the sign-pattern regression of chapter 3 from the best moment start, then LM
                net, X, Y = instance(d, k, m, n, seed)
                oracle = err(rl.local_least_squares(X, Y, net).network, net)
                start = rl.recover_noisy(
                    X, Y, k, rng=seed, on_failure="return", certify=False, n_starts=1
                )
                try:
                    reg = rl.sign_pattern_regression(
                        X,
                        Y,
                        start.details["moment_estimate"].V,
                        tau=(0.05, 0.05, 0.05, 0.0),
                        n_rounds=5,
                    )
                    e = err(rl.local_least_squares(X, Y, reg.network).network, net)
                except rl.RecoveryFailed:
                    e = np.inf
                res.append((oracle, e))
            o, e = np.array(res).T
            rows.append(
                [
                    n,
                    "1 moment start + sign-pattern regression + LM",
                    f"{int(np.sum(e <= WITHIN * o))}/{len(o)}",
                    np.nan,
                    float(np.median(e / o)),
                ]
            )
        print_table(
            "2. what each part contributes (fit only, certify=False): instances within 1.25x of the oracle; medians",
            ["n", "route", "within", "moment err/oracle", "final err/oracle"],
            rows,
        )

    # 3. the large-n rate
    if 3 in tables:
        ns = (
            [20_000, 80_000]
            if args.quick
            else [20_000, 40_000, 80_000, 160_000, 320_000]
        )
        rows, eo, eor = [], [], []
        for n in ns:
            res = []
            for seed in range(2 if not args.quick else 1):
                net, X, Y = instance(d, k, m, n, seed)
                rec, t = timed(rl.recover_noisy, X, Y, k, rng=seed, on_failure="return")
                e = rl.recovery_error(rec, net)
                res.append(
                    (e.U, e.V, err(rl.local_least_squares(X, Y, net).network, net), t)
                )
            ou, ov, o, t = np.median(np.array(res), axis=0)
            eo.append(max(ou, ov))
            eor.append(o)
            rows.append([n, ou, ov, o, t])
        print_table(
            f"3. the large-n rate, (d, k, m) = {SETTING}, noise {LEVEL}; median over instances",
            ["n", "eps_U", "eps_V", "oracle err", "seconds"],
            rows,
        )
        print(
            f"log-log slope of max(eps_U, eps_V) vs n: {loglog_slope(ns, eo):.3f} (the oracle's: {loglog_slope(ns, eor):.3f})"
        )

    # 4. error against the noise level
    if 4 in tables:
        n = 20_000 if args.quick else 40_000
        rows = []
        for lev in [0.0, 0.25, 0.5, 1.0, 2.0]:
            res = []
            for seed in range(1 if args.quick else 2):
                net, X, Y = instance(d, k, m, n, seed, lev)
                rec, t = timed(rl.recover_noisy, X, Y, k, rng=seed, on_failure="return")
                adam, ta = timed(rl.train, X, Y, k, rng=seed, on_failure="return")
                res.append(
                    (
                        err(rec, net),
                        err(rl.local_least_squares(X, Y, net).network, net),
                        err(adam, net),
                        t,
                        ta,
                    )
                )
            rows.append([lev, *np.median(np.array(res), axis=0)])
        print_table(
            f"4. error vs noise level, (d, k, m) = {SETTING}, n = {n}; median over instances",
            ["noise/RMS", "ours err", "oracle err", "Adam err", "ours s", "Adam s"],
            rows,
        )

    # 5. scalar output, noiseless: exact recovery with a rank-one output layer
    if 5 in tables:
        n = 50_000 if args.quick else 200_000
        train_iters = 500
        rows = []
        for seed in range(1 if args.quick else 2):
            net, X, Y = instance(10, 4, 1, n, seed, 0.0)
            rec, t = timed(rl.recover_low_rank, X, Y, 4, rng=seed, on_failure="return")
            e_lr = rl.recovery_error(rec, net).max
            tr, tt = timed(
                rl.train, X, Y, 4, rng=seed, max_iter=train_iters, on_failure="return"
            )
            rows.append(
                [
                    seed,
                    e_lr,
                    rec.ok,
                    rec.details["starts_tried"],
                    t,
                    rl.recovery_error(tr, net).max,
                    tt,
                    tt / t,
                ]
            )
        print_table(
            f"5. scalar output (d, k, m) = (10, 4, 1), noiseless, n = {n}; train: {train_iters} Adam iterations",
            [
                "seed",
                "low_rank err",
                "certified",
                "starts",
                "low_rank s",
                "train err",
                "train s",
                "time ratio",
            ],
            rows,
        )

    # 6. memory: peak numpy allocations of recover_noisy beyond X and Y
    if 6 not in tables:
        return
    d, k, m = 50, 10, 10
    ns = [100_000, 200_000] if args.quick else [250_000, 1_000_000]
    if args.big:
        ns.append(10_000_000)
    rows = []
    for n in ns:
        net = rl.planted_network(d, k, m, rng=0)
        g = np.random.default_rng(1)
        X = g.standard_normal((d, n))
        Y = net(X)
        Y += 0.5 * float(np.sqrt(np.mean(Y**2))) * g.standard_normal(Y.shape)
        xy_mib = (X.nbytes + Y.nbytes) / 2**20
        for certify in (False, True):
            (rec, t), peak = peak_memory(
                timed, rl.recover_noisy, X, Y, k, rng=0, certify=certify
            )
            e = rl.recovery_error(rec, net)
            rows.append([n, certify, xy_mib, peak, peak / xy_mib, t, e.U, e.V])
        del X, Y
    print_table(
        f"6. peak memory of recover_noisy beyond X and Y (tracemalloc), (d, k, m) = {(d, k, m)}, noise 0.5",
        [
            "n",
            "certify",
            "X+Y MiB",
            "peak MiB",
            "peak/(X+Y)",
            "seconds",
            "eps_U",
            "eps_V",
        ],
        rows,
    )
    big = 10_000_000
    for certify in (False, True):
        sel = [r for r in rows if r[1] == certify]
        per_sample, base = np.polyfit(
            np.array([r[0] for r in sel], float),
            np.array([r[3] for r in sel]) * 2**20,
            1,
        )
        print(
            f"certify={certify}: fitted peak {base / 2**20:.0f} MiB + {per_sample:.0f} bytes per sample -> about"
            f" {(base + per_sample * big) / 2**30:.2f} GiB at n = 10^7 (X itself is {8 * d * big / 2**30:.1f} GiB)"
        )
    print(
        "The fit streams (Levenberg-Marquardt sums J^T J and J^T r over chunks; it keeps the k sign bits of each"
        " sample); the certificate copies the two halves of X and Y ((d + m) 8 bytes per sample) and holds a"
        " few k- and m-row arrays over the held-out half."
    )


if __name__ == "__main__":
    main()
