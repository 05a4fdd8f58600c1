"""Symmetric inputs: relulearn.recover_symmetric against the chapter-3/4 learners and gradient training.

Usage: ``python bench/symmetric.py [--quick] [--seeds S] [--rate-seeds R] [--train-iter
T] [--rate-only]``

Tables (every row measured in this run, on the same seeded planted instances for every
method):

1. the issue's target: (d, k, m) = (10, 4, 6), noise sd 0.1, n = 200,000, for each
   symmetric input law of ``relulearn.inputs`` and the Gaussian: the median and worst
   relative error of W (unit rows, units matched; ``RecoveryError.V``) over the seeds,
   and the median time of ``recover_symmetric`` (target: W error < 0.05 for every law);
2. error and time against n for each law: ``recover_symmetric``, ``recover_noisy``
   (chapter 4; its own Gaussian-moment start, ``details["moment_estimate"]``, is
   reported too), ``recover_exact`` (chapter 3, noise-free labels only, since it needs
   exact labels) and ``relulearn.train`` (Adam from a random start), with the time ratio
   and the fitted log-log slope of the symmetric method's error against n (target: about
   -1/2);
3. the asymmetric centred exponential law: every method, and the certificate of
   ``recover_symmetric``;
4. the rate: ``recover_symmetric`` alone on ``--rate-seeds`` instances per law, each
   fitted on the first n columns of one draw of 5,120,000 samples (n = 20,000 to
   5,120,000, a factor 256), the median W error, its log-log slope against n (target:
   -1/2) and a bootstrap 90% interval of that slope over the instances.

The chapter-3/4 learners are imported guardedly: a missing one is skipped with a
message.  Not run by CI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import loglog_slope, machine_line, print_table, timed

import relulearn as rl

LAWS = [rl.Gaussian(), *rl.SYMMETRIC_LAWS]
recover_noisy = getattr(rl, "recover_noisy", None)
recover_exact = getattr(rl, "recover_exact", None)


def name(law) -> str:
    return type(law).__name__


def run(method, X, Y, k):
    """(network or None, seconds, note)."""
    try:
        res, t = timed(method, X, Y, k)
    # a learner that refuses (RecoveryFailed) or breaks on this law is reported, not fatal
    except Exception as exc:  # noqa: BLE001
        return None, float("nan"), type(exc).__name__
    return res, t, ""


def err(net_or_res, truth, law) -> float:
    if net_or_res is None:
        return float("nan")
    return rl.recovery_error(net_or_res, truth, inputs=law).V


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes, one seed (about a minute)"
    )
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--train-iter",
        type=int,
        default=2000,
        help="Adam iterations of relulearn.train",
    )
    ap.add_argument(
        "--rate-seeds", type=int, default=8, help="instances per law in the rate table"
    )
    ap.add_argument("--rate-only", action="store_true", help="only the rate table (4)")
    args = ap.parse_args()
    if args.rate_only:
        print(machine_line(), f"(os.cpu_count() = {os.cpu_count()})")
        rate_table(args.quick, args.rate_seeds)
        return
    d, k, m, noise = 10, 4, 6, 0.1
    seeds = range(1 if args.quick else args.seeds)
    ns = [20_000, 60_000] if args.quick else [20_000, 60_000, 200_000, 600_000]
    target_n = 60_000 if args.quick else 200_000
    train_iter = 200 if args.quick else args.train_iter
    print(machine_line(), f"(os.cpu_count() = {os.cpu_count()})")
    for fn, label in [
        (recover_noisy, "recover_noisy (chapter 4)"),
        (recover_exact, "recover_exact (chapter 3)"),
    ]:
        if fn is None:
            print(f"skipping {label}: not available in this relulearn")

    def sym(X, Y, k):
        return rl.recover_symmetric(X, Y, k, rng=0)

    def gd(X, Y, k):
        return rl.train(X, Y, k, rng=np.random.default_rng([0, 1]), max_iter=train_iter)

    # ---- 1. the target
    rows = []
    for law in LAWS:
        e, t = [], []
        for seed in seeds:
            net = rl.planted_network(d, k, m, rng=seed)
            X, Y = rl.sample(net, target_n, rng=seed + 100, noise=noise, inputs=law)
            res, ti, _ = run(sym, X, Y, k)
            e.append(err(res, net, law))
            t.append(ti)
        rows.append(
            [
                name(law),
                float(np.median(e)),
                float(np.max(e)),
                "yes" if max(e) < 0.05 else "NO",
                float(np.median(t)),
            ]
        )
    print_table(
        f"1. recover_symmetric at the target: d={d}, k={k}, m={m}, noise sd {noise}, n={target_n:,}, {len(seeds)} seed(s)",
        ["law", "median W err", "worst W err", "< 0.05", "time s"],
        rows,
    )

    # ---- 2. error and time against n, all methods
    for law in LAWS:
        rows, sym_med = [], []
        for n in ns:
            acc = {
                key: []
                for key in [
                    "sym",
                    "sym_t",
                    "noisy",
                    "noisy_t",
                    "mom",
                    "exact",
                    "exact_t",
                    "gd",
                    "gd_t",
                ]
            }
            for seed in seeds:
                net = rl.planted_network(d, k, m, rng=seed)
                smp = rl.sample(net, n, rng=seed + 100, noise=noise, inputs=law)
                res, t, _ = run(sym, smp.X, smp.Y, k)
                acc["sym"].append(err(res, net, law))
                acc["sym_t"].append(t)
                if recover_noisy is not None:
                    res, t, _ = run(
                        lambda X, Y, k: recover_noisy(X, Y, k, rng=0), smp.X, smp.Y, k
                    )
                    acc["noisy"].append(err(res, net, law))
                    acc["noisy_t"].append(t)
                    acc["mom"].append(
                        err(
                            None if res is None else res.details["moment_estimate"],
                            net,
                            law,
                        )
                    )
                if recover_exact is not None and n <= 60_000:
                    res, t, _ = run(
                        lambda X, Y, k: recover_exact(X, Y, k, rng=0),
                        smp.X,
                        smp.Y_clean,
                        k,
                    )
                    acc["exact"].append(err(res, net, law))
                    acc["exact_t"].append(t)
                if n <= 60_000:
                    res, t, _ = run(gd, smp.X, smp.Y, k)
                    acc["gd"].append(err(res, net, law))
                    acc["gd_t"].append(t)
            med = {
                key: float(np.nanmedian(v))
                if len(v) and not np.all(np.isnan(v))
                else float("nan")
                for key, v in acc.items()
            }
            sym_med.append(med["sym"])
            rows.append(
                [
                    n,
                    med["sym"],
                    med["sym_t"],
                    med["noisy"],
                    med["mom"],
                    med["noisy_t"],
                    med["exact"],
                    med["gd"],
                    med["gd_t"],
                    med["gd_t"] / med["sym_t"],
                ]
            )
        print_table(
            f"2. {name(law)}: median W error and time (s) against n; symmetric-method slope "
            f"{loglog_slope(ns, sym_med):.2f} (recover_exact on noise-free labels; exact and train only for n <= 60,000)",
            [
                "n",
                "sym err",
                "sym t",
                "noisy err",
                "noisy start err",
                "noisy t",
                "exact err",
                "train err",
                "train t",
                "train t / sym t",
            ],
            rows,
        )

    # ---- 3. an asymmetric law
    law = rl.CenteredExponential()
    rows = []
    for seed in seeds:
        net = rl.planted_network(d, k, m, rng=seed)
        smp = rl.sample(net, target_n, rng=seed + 100, noise=noise, inputs=law)
        res, t, _ = run(sym, smp.X, smp.Y, k)
        row = [seed, err(res, net, law), "ok" if res.ok else "flagged"]
        if recover_noisy is not None:
            r2, _, note = run(
                lambda X, Y, k: recover_noisy(X, Y, k, rng=0), smp.X, smp.Y, k
            )
            row.append(err(r2, net, law) if r2 is not None else note)
        else:
            row.append("n/a")
        r3, _, _ = run(gd, smp.X, smp.Y, k)
        row.append(err(r3, net, law))
        rows.append(row)
    print_table(
        f"3. asymmetric CenteredExponential, n={target_n:,}: W error",
        ["seed", "sym err", "sym certificate", "noisy err", "train err"],
        rows,
    )
    rate_table(args.quick, args.rate_seeds)


def rate_table(quick: bool, n_seeds: int) -> None:
    """Table 4: median W error of recover_symmetric against n on nested samples, and its log-log slope."""
    d, k, m, noise = 10, 4, 6, 0.1
    ns = (
        [20_000, 80_000, 320_000]
        if quick
        else [20_000, 80_000, 320_000, 1_280_000, 5_120_000]
    )
    seeds = range(2 if quick else n_seeds)
    boot = np.random.default_rng(0)
    rows = []
    for law in LAWS:
        E = np.zeros((len(seeds), len(ns)))
        for i, seed in enumerate(seeds):
            net = rl.planted_network(d, k, m, rng=seed)
            X, Y = rl.sample(net, ns[-1], rng=seed + 100, noise=noise, inputs=law)
            for j, n in enumerate(ns):
                E[i, j] = err(
                    rl.recover_symmetric(X[:, :n], Y[:, :n], k, rng=0), net, law
                )
        med = np.median(E, axis=0)
        slopes = [
            loglog_slope(
                ns, np.median(E[boot.integers(0, len(seeds), len(seeds))], axis=0)
            )
            for _ in range(500)
        ]
        lo, hi = np.quantile(slopes, [0.05, 0.95])
        rows.append([name(law), *med, loglog_slope(ns, med), f"[{lo:.2f}, {hi:.2f}]"])
    print_table(
        f"4. rate: median W error of recover_symmetric over {len(seeds)} instances (d={d}, k={k}, m={m}, noise sd "
        f"{noise}), each on the first n columns of one draw; slope of log(error) against log(n) (target -1/2)",
        ["law", *[f"n={n:,}" for n in ns], "slope", "bootstrap 90%"],
        rows,
    )


if __name__ == "__main__":
    main()
