"""False-failure rates of the statistical certificates, beside their stated level.

For each setting, planted networks with Gaussian inputs and Gaussian label noise are
given to ``recover_noisy`` (whose model they satisfy); every status other than certified
is counted, split by reason. The certificate's level bounds the probability of
certifying a wrong answer; the false-failure rate printed here is the probability of
*not* certifying a right one, which the level does not bound. Also counted: pure noise
and a tanh network (never to be certified).

Run: ``python bench/certificates.py [instances]`` (default 100 per setting).
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

import relulearn as rl


def planted(d, k, m, n, noise, seed, activation="relu"):
    rng = np.random.default_rng(seed)
    net = rl.planted_network(d, k, m, rng=rng)
    X = rng.standard_normal((d, n))
    Y = rl.TwoLayerNetwork(net.U, net.V, activation)(X)
    Y = Y + noise * np.sqrt(np.mean(Y**2)) * rng.standard_normal(Y.shape)
    return net, X, Y


def count(d, k, m, n, noise, trials, activation="relu", pure_noise=False):
    out = {}
    errs = []
    for seed in range(trials):
        net, X, Y = planted(d, k, m, n, noise, seed, activation)
        if pure_noise:
            Y = np.random.default_rng(10_000 + seed).standard_normal(Y.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rl.RelulearnWarning)
            res = rl.recover_noisy(X, Y, k, rng=seed, on_failure="return")
        why = res.reason.removeprefix("not certified: ")
        key = (
            "certified"
            if res.ok
            else f"{res.status}: {why.split(' (')[0].split(':')[0][:48]}"
        )
        out[key] = out.get(key, 0) + 1
        if res.network is not None and not pure_noise and activation == "relu":
            errs.append(rl.recovery_error(res.network, net).max)
    return out, (float(np.median(errs)) if errs else float("nan"))


def main(trials: int = 100):
    print(
        f"cores: {os.cpu_count()}; level 0.01 for each test; {trials} instances per row"
    )
    rows = [
        ("(8,3,4) n=16kd noise 0.3", (8, 3, 4, 16 * 24, 0.3), {}),
        ("(8,3,4) n=4kd noise 0.3", (8, 3, 4, 4 * 24, 0.3), {}),
        ("(8,3,4) n=20000 noise 0.1", (8, 3, 4, 20_000, 0.1), {}),
        ("(10,4,6) n=20000 noise 0.5", (10, 4, 6, 20_000, 0.5), {}),
        ("(8,3,1) n=2000 noise 0.05 (scalar output)", (8, 3, 1, 2000, 0.05), {}),
        ("(15,5,8) n=1200 noise 0.5", (15, 5, 8, 1200, 0.5), {}),
        ("(8,3,4) n=16kd pure noise", (8, 3, 4, 16 * 24, 0.3), {"pure_noise": True}),
        (
            "(8,3,4) n=16kd tanh network, noise 0.1",
            (8, 3, 4, 16 * 24, 0.1),
            {"activation": "tanh"},
        ),
    ]
    for label, args, kw in rows:
        t0 = time.perf_counter()
        counts, med = count(*args, trials, **kw)
        cert = counts.get("certified", 0)
        print(
            f"{label:>40}: certified {cert}/{trials}; not certified: "
            + "; ".join(
                f"{v} {k}" for k, v in sorted(counts.items()) if k != "certified"
            )
            + (f"; median error {med:.3f}" if np.isfinite(med) else "")
            + f"  [timing: {time.perf_counter() - t0:.0f} s]"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
