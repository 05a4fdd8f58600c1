"""Tensor initialisation + gradient descent (chapter 5) against its peers on scalar-output instances.

Usage: ``python bench/tensor_gd.py [--quick] [--seeds S] [--target-only]``

Instances: the paper's (Zhong et al. 2017, §7): d = 10, k = 5, W* = Q1 diag(linspace(1,
2, k)) Q2^T (condition number 2), v uniform on {-1, +1}, x ~ N(0, I), no noise.  Success
is the paper's rule: a matching of the hidden units with max_j ||w*_j - w_pi(j)|| /
||w*_j|| <= 0.01 and the same signs of v (estimates of the peers are first put in the
same form, v in {-1, +1}, by moving |v_i|^(1/p) into w_i).

Tables (every row measured in this run, on the same seeded instances for every method):

1. the target: n = 20,000, 10 seeds, ReLU and squared ReLU: success count and median
   time of ``recover_tensor_gd``, of ``relulearn.train`` (Adam, both layers, random
   start, 3000 iterations) and, for ReLU, of the chapter-4 learner ``recover_low_rank``
   (target: >= 9/10 for recover_tensor_gd);
2. the recovery rate and median time against n for the same methods (ReLU and squared
   ReLU).

Not run by CI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, print_table, timed

import relulearn as rl


def instance(seed, activation, d, k, n):
    g = np.random.default_rng(seed)
    truth = rl.planted_network(d, k, 1, rng=g, condition=2.0, activation=activation)
    v = g.choice([-1.0, 1.0], size=k)
    truth = rl.TwoLayerNetwork(v[None, :], truth.V, activation)
    X = g.standard_normal((d, n))
    return truth, X, truth(X)[0]


def sign_form(net):
    """The same function with v in {-1, +1}: w_i <- |v_i|^(1/p) w_i (positively homogeneous activations)."""
    p = net.activation.degree
    v = np.asarray(net.U[0], dtype=float)
    scale = np.abs(v) ** (1.0 / p)
    return rl.TwoLayerNetwork(
        np.sign(v)[None, :], np.asarray(net.V) * scale[:, None], net.activation
    )


def methods(activation, k, quick):
    out = {
        "tensor+GD": lambda X, y, s: rl.recover_tensor_gd(
            X, y, k, activation=activation, rng=s
        ),
        "train (Adam)": lambda X, y, s: rl.train(
            X, y, k, activation=activation, rng=s, max_iter=600 if quick else 3000
        ),
    }
    if activation == "relu":
        out["recover_low_rank (ch. 4)"] = lambda X, y, s: rl.recover_low_rank(
            X, y, k, rng=s, on_failure="return"
        )
    return out


def run(activation, d, k, n, seeds, quick):
    rows = {}
    for name, fn in methods(activation, k, quick).items():
        ok, times = 0, []
        for s in range(seeds):
            truth, X, y = instance(s, activation, d, k, n)
            try:
                res, t = timed(fn, X, y, s)
                ok += rl.bottleneck_weight_error(
                    sign_form(res.network), truth
                ).succeeded(0.01)
            except rl.RecoveryFailed:
                t = float("nan")
            times.append(t)
        rows[name] = (
            ok,
            float(np.nanmedian(times)) if np.any(np.isfinite(times)) else float("nan"),
        )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="3 seeds, fewer n, shorter baseline training",
    )
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--target-only", action="store_true", help="only table 1")
    args = ap.parse_args(argv)
    seeds = args.seeds or (3 if args.quick else 10)
    d, k = 10, 5
    print(machine_line(), f"(os.cpu_count() = {os.cpu_count()})")

    rows = []
    for act in ("relu", "squared_relu"):
        res = run(act, d, k, 20_000, seeds, args.quick)
        base = res["tensor+GD"][1]
        for name, (ok, t) in res.items():
            rows.append(
                [
                    act,
                    name,
                    f"{ok}/{seeds}",
                    t,
                    t / base if np.isfinite(t) else float("nan"),
                ]
            )
    print_table(
        f"1. target: d={d}, k={k}, condition 2, n=20000, {seeds} seeds (target: tensor+GD >= 9/10)",
        ["activation", "method", "successes", "median s", "time / tensor+GD"],
        rows,
    )

    if args.target_only:
        return
    ns = [2000, 5000, 20000] if args.quick else [1000, 2000, 5000, 10000, 20000, 50000]
    rows = []
    for act in ("relu", "squared_relu"):
        for n in ns:
            res = run(act, d, k, n, seeds, args.quick)
            base = res["tensor+GD"][1]
            for name, (ok, t) in res.items():
                rows.append(
                    [
                        act,
                        n,
                        name,
                        ok / seeds,
                        t,
                        t / base if np.isfinite(t) else float("nan"),
                    ]
                )
    print_table(
        f"2. recovery rate against n (d={d}, k={k}, {seeds} seeds)",
        ["activation", "n", "method", "rate", "median s", "time / tensor+GD"],
        rows,
    )


if __name__ == "__main__":
    main()
