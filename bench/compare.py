"""Every learner of relulearn side by side on the same seeded planted instances.

Usage: ``python bench/compare.py [--quick] [--seeds S] [--torch]``

Uses ``relulearn.comparison`` (the code behind chapter 8's figures) and prints, per
setting: success rate and median error against n, median error against the noise level,
time against n and d with the fitted exponents, and peak memory, each with its ratio to
gradient training (``relulearn.train``) measured in the same run, and the machine's core
count. With ``--torch`` and PyTorch installed (``pip install -r
requirements-bench.txt``), the same gradient training in PyTorch (Adam, full batch and
minibatch) is added. Not run by CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, peak_memory, print_table

import relulearn as rl
from relulearn import comparison as cmp

BASE = "gradient training"


def _torch_learners():
    try:
        import _torch_baseline as tb
    except ImportError as exc:
        print(
            f"(PyTorch baseline skipped: {exc}; pip install -r requirements-bench.txt to add it)"
        )
        return []

    def as_learner(**options):
        def fit(X, Y, k, *, rng=0, on_failure="return", progress=False):
            net = tb.train_torch(X, np.atleast_2d(Y), k, seed=rng, **options)
            res = float(np.linalg.norm(np.atleast_2d(Y) - net(X)) / np.linalg.norm(Y))
            return rl.Recovery(
                net,
                res,
                status="unverified",
                reason="PyTorch baseline: no check",
                n_samples_used=X.shape[1],
            )

        return fit

    return [
        rl.LearnerSpec(
            "torch adam, full batch",
            as_learner(),
            noisy_labels=True,
            certifies_exact=False,
        ),
        rl.LearnerSpec(
            "torch adam, batch 256",
            as_learner(batch_size=256),
            noisy_labels=True,
            certifies_exact=False,
        ),
    ]


def _with_ratios(rows, value):
    base = {(r.n, r.d, r.noise): value(r) for r in rows if r.learner == BASE}
    return [
        (
            r,
            value(r) / base[(r.n, r.d, r.noise)]
            if base.get((r.n, r.d, r.noise))
            else np.nan,
        )
        for r in rows
    ]


def accuracy_table(setting, ns, seeds, threshold):
    rows = cmp.accuracy_vs_n(setting, ns, seeds, threshold)
    print_table(
        f"{setting.name}: success (error < {threshold:g}), median error and time against n",
        ["n", "learner", "success", "median error", "median s", "time / training"],
        [
            [
                r.n,
                r.learner,
                f"{r.successes}/{r.trials}",
                r.median_error,
                r.median_seconds,
                q,
            ]
            for r, q in _with_ratios(rows, lambda r: r.median_seconds)
        ],
    )
    return rows


def noise_table(setting, n, noises, seeds):
    rows = cmp.error_vs_noise(setting, n, noises, seeds)
    print_table(
        f"{setting.name}: median error against the noise level (sd / RMS of clean labels), n={n}",
        ["noise", "learner", "median error", "error / training"],
        [
            [r.noise, r.learner, r.median_error, q]
            for r, q in _with_ratios(rows, lambda r: r.median_error)
        ],
    )
    return rows


def scaling_table(setting, ns, ds, n_for_d):
    rows_n, rows_d = cmp.time_vs_size(setting, ns=ns, ds=ds, n_for_d=n_for_d)
    out = []
    for lr in cmp.learners_for(setting):
        by_n = [r for r in rows_n if r.learner == lr.name]
        by_d = [r for r in rows_d if r.learner == lr.name]
        _truth, X, Y = setting.instance(ns[-1], 0)
        _, mib = peak_memory(cmp.run_learner, lr, X, Y, setting.k, 0)
        out.append(
            [
                lr.name,
                rl.loglog_slope([r.n for r in by_n], [r.median_seconds for r in by_n]),
                rl.loglog_slope([r.d for r in by_d], [r.median_seconds for r in by_d]),
                by_n[-1].median_seconds,
                mib,
            ]
        )
    base = {r[0]: r for r in out}.get(BASE)
    print_table(
        f"{setting.name}: time ~ n^a d^b (n in {list(ns)}; d in {list(ds)} at n={n_for_d}); "
        f"peak memory at n={ns[-1]} (tracemalloc)",
        [
            "learner",
            "a (n)",
            "b (d)",
            f"s at n={ns[-1]}",
            "time / training",
            "peak MiB",
            "memory / training",
        ],
        [
            [
                r[0],
                r[1],
                r[2],
                r[3],
                r[3] / base[3] if base else np.nan,
                r[4],
                r[4] / base[4] if base else np.nan,
            ]
            for r in out
        ],
    )


def polynomial_table(setting, n, degrees, seeds):
    rows = cmp.prediction_error_vs_degree(setting, n, degrees, seeds)
    base = next(r for r in rows if r.learner == BASE)
    print_table(
        f"{setting.name}: relative prediction error on fresh inputs, n={n}",
        ["learner", "median error", "error / training", "median s", "time / training"],
        [
            [
                r.learner,
                r.median_error,
                r.median_error / base.median_error,
                r.median_seconds,
                r.median_seconds / base.median_seconds,
            ]
            for r in rows
        ],
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="small sizes (under 10 minutes on 2 cores)"
    )
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument(
        "--torch",
        action="store_true",
        help="add the PyTorch baseline if torch is installed",
    )
    a = p.parse_args(argv)
    seeds = a.seeds or (3 if a.quick else 10)
    print(machine_line())
    if a.torch:
        extra = _torch_learners()
        cmp.LEARNERS = cmp.LEARNERS + tuple(
            extra
        )  # the harness reads the registry from its module
    q = a.quick
    gauss = cmp.Setting("Gaussian, noiseless, (d,k,m)=(10,4,6)", 10, 4, 6)
    # "success" = every error below 1e-6: gradient training stops at a relative residual
    # of 1e-7 (errors ~1e-7), the exact learners reach round-off (~1e-15); the
    # median-error column shows the difference
    accuracy_table(
        gauss,
        [100, 1000, 10_000] if q else [60, 100, 1000, 10_000, 100_000],
        seeds,
        1e-6,
    )
    noisy = cmp.Setting(
        "Gaussian, noise 0.5 RMS, (d,k,m)=(10,4,6)", 10, 4, 6, noise=0.5
    )
    accuracy_table(
        noisy, [10_000, 40_000] if q else [20_000, 80_000, 320_000], seeds, 0.05
    )
    noise_table(noisy, 20_000 if q else 100_000, [0.0, 0.1, 0.5, 1.0], seeds)
    scalar = cmp.Setting(
        "scalar output, u in {-1,+1}, cond 2, (d,k)=(10,4)", 10, 4, 1, scalar_pm1=True
    )
    accuracy_table(
        scalar, [5_000, 20_000] if q else [2_000, 5_000, 20_000, 100_000], seeds, 0.01
    )
    cube = cmp.Setting(
        "uniform cube inputs, noise 0.1 RMS, (d,k,m)=(10,4,6)",
        10,
        4,
        6,
        noise=0.1,
        inputs=rl.UniformCube(),
    )
    accuracy_table(cube, [20_000, 100_000] if q else [20_000, 200_000], seeds, 0.05)
    sphere = cmp.Setting(
        "sphere inputs, scalar output, (d,k)=(6,3)", 6, 3, 1, inputs=rl.UniformSphere()
    )
    polynomial_table(
        sphere, 4000 if q else 20_000, [1, 2, 3, 4] if q else [1, 2, 3, 4, 5], seeds
    )
    scaling_table(
        gauss,
        [2_000, 8_000, 32_000] if q else [5_000, 20_000, 80_000, 320_000],
        [10, 20, 40],
        8_000 if q else 20_000,
    )


if __name__ == "__main__":
    main()
