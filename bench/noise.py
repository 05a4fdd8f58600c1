"""Noisy labels and low-rank output layers: relulearn.recover_noisy / recover_low_rank against gradient training.

Usage: ``python bench/noise.py [--quick] [--seeds S] [--train-max-n N] [--big]``

Tables (every row measured in this run, on the same seeded planted instances for both methods):

1. error against n at (d, k, m) = (15, 5, 8) with Gaussian noise of sd = half the clean labels' RMS: the
   median relative errors of U and V (after canonical form and matching) and the median time of
   ``recover_noisy`` and of ``relulearn.train`` (Adam, default settings, 500 iterations, from a random start),
   the time ratio, and the fitted log-log slope of the error against n (target: errors <= 0.01 at n = 320,000,
   slope in [-0.65, -0.35]);
2. error against the noise level at n = 40,000;
3. scalar output (d, k, m) = (10, 4, 1), noiseless, n = 200,000: ``recover_low_rank`` (target: error < 1e-8,
   certified) against gradient training;
4. peak memory (tracemalloc, numpy allocations) of ``recover_noisy`` beyond X and Y at d = 50, k = m = 10 for
   growing n: every pass streams over chunks of samples, so the peak is a constant (chunk-sized scratch) plus a
   few bytes per sample; the fitted line is extrapolated to n = 10^7. ``--big`` measures n = 10^7 itself (X
   alone is 4 GB; needs about 6 GB of RAM and a few minutes).

Not run by CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import loglog_slope, machine_line, peak_memory, print_table, timed

import relulearn as rl


def instance(d, k, m, n, seed, level):
    """Planted network, inputs, and labels with i.i.d. Gaussian noise of sd = level * RMS(clean labels)."""
    net = rl.planted_network(d, k, m, rng=seed)
    g = np.random.default_rng(seed + 77)
    X = g.standard_normal((d, n))
    Yc = net(X)
    sd = level * float(np.sqrt(np.mean(Yc**2)))
    return net, X, Yc + sd * g.standard_normal(Yc.shape)


def run_both(d, k, m, n, seeds, level, train_iters, with_train):
    """Median (eps_U, eps_V, seconds) of recover_noisy and of train over the seeds."""
    ours, theirs = [], []
    for seed in range(seeds):
        net, X, Y = instance(d, k, m, n, seed, level)
        rec, t = timed(rl.recover_noisy, X, Y, k, rng=seed)
        e = rl.recovery_error(rec, net)
        ours.append((e.U, e.V, t))
        if with_train:
            rec, t = timed(rl.train, X, Y, k, rng=seed, max_iter=train_iters)
            e = rl.recovery_error(rec, net)
            theirs.append((e.U, e.V, t))
    med = lambda rows: tuple(np.median(np.array(rows), axis=0)) if rows else (np.nan,) * 3
    return med(ours), med(theirs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one seed (about 30 s)")
    ap.add_argument("--seeds", type=int, default=None, help="seeded instances per cell (default 2, quick 1)")
    ap.add_argument("--train-max-n", type=int, default=80_000, help="run gradient training up to this n")
    ap.add_argument("--big", action="store_true", help="also measure memory at n = 10^7, d = 50")
    args = ap.parse_args()
    seeds = args.seeds or (1 if args.quick else 2)
    train_iters = 500
    print(machine_line())
    print(f"seeds per cell: {seeds}; gradient training: relulearn.train (Adam), {train_iters} iterations")

    # 1. error against n
    d, k, m, level = 15, 5, 8, 0.5
    ns = [20_000, 80_000] if args.quick else [20_000, 40_000, 80_000, 160_000, 320_000]
    rows, eo, et = [], [], []
    for n in ns:
        with_train = n <= args.train_max_n
        (ou, ov, ot), (tu, tv, tt) = run_both(d, k, m, n, seeds, level, train_iters, with_train)
        eo.append(max(ou, ov))
        et.append(max(tu, tv))
        rows.append([n, ou, ov, ot, tu, tv, tt, tt / ot if with_train else np.nan])
    print_table(
        f"1. error vs n, (d, k, m) = {(d, k, m)}, noise sd = {level} x RMS(clean); median over seeds",
        ["n", "noisy eps_U", "noisy eps_V", "noisy s", "train eps_U", "train eps_V", "train s", "time ratio"],
        rows,
    )
    print(f"log-log slope of max(eps_U, eps_V) vs n: recover_noisy {loglog_slope(ns, eo):.3f}", end="")
    tn = [n for n, e in zip(ns, et) if np.isfinite(e)]
    if len(tn) >= 2:
        print(f", train {loglog_slope(tn, [e for e in et if np.isfinite(e)]):.3f} (n <= {max(tn)})")
    else:
        print()

    # 2. error against the noise level
    n = 20_000 if args.quick else 40_000
    rows = []
    for lev in [0.0, 0.25, 0.5, 1.0, 2.0]:
        (ou, ov, ot), (tu, tv, tt) = run_both(d, k, m, n, seeds, lev, train_iters, n <= args.train_max_n)
        rows.append([lev, ou, ov, ot, tu, tv, tt, tt / ot])
    print_table(
        f"2. error vs noise level, (d, k, m) = {(d, k, m)}, n = {n}; median over seeds",
        ["noise/RMS", "noisy eps_U", "noisy eps_V", "noisy s", "train eps_U", "train eps_V", "train s", "time ratio"],
        rows,
    )

    # 3. scalar output, noiseless: exact recovery with a rank-one output layer
    n = 50_000 if args.quick else 200_000
    rows = []
    for seed in range(seeds):
        net, X, Y = instance(10, 4, 1, n, seed, 0.0)
        rec, t = timed(rl.recover_low_rank, X, Y, 4, rng=seed, on_failure="return")
        err = rl.recovery_error(rec, net).max
        tr, tt = timed(rl.train, X, Y, 4, rng=seed, max_iter=train_iters)
        terr = rl.recovery_error(tr, net).max
        rows.append([seed, err, rec.ok, rec.details["starts_tried"], t, terr, tt, tt / t])
    print_table(
        f"3. scalar output (d, k, m) = (10, 4, 1), noiseless, n = {n}",
        ["seed", "low_rank err", "certified", "starts", "low_rank s", "train err", "train s", "time ratio"],
        rows,
    )

    # 4. memory: peak numpy allocations of recover_noisy beyond X and Y
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
        (rec, t), peak = peak_memory(timed, rl.recover_noisy, X, Y, k, rng=0)
        err = rl.recovery_error(rec, net)
        rows.append([n, xy_mib, peak, peak / xy_mib, t, err.U, err.V])
        del X, Y
    print_table(
        f"4. peak memory of recover_noisy beyond X and Y (tracemalloc), (d, k, m) = {(d, k, m)}, noise 0.5",
        ["n", "X+Y MiB", "peak MiB", "peak/(X+Y)", "seconds", "eps_U", "eps_V"],
        rows,
    )
    ns_fit = np.array([r[0] for r in rows], float)
    peaks = np.array([r[2] for r in rows], float)
    per_sample, base = np.polyfit(ns_fit, peaks * 2**20, 1)
    big = 10_000_000
    passes = base + per_sample * big  # the estimator's passes: chunk scratch + norms and confidences
    print(
        f"fitted: the passes peak at {base / 2**20:.0f} MiB of chunk-sized scratch + {per_sample:.0f} bytes per"
        " sample (the input check needs no n-sized mask: it uses min/max)."
    )
    print(
        f"-> at n = 10^7, d = 50 the peak beyond X and Y is about {passes / 2**30:.2f} GiB"
        f" (X itself is {8 * d * big / 2**30:.1f} GiB)"
    )


if __name__ == "__main__":
    main()
