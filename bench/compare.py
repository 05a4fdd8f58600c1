"""Every learner of relulearn side by side on the same seeded planted instances.

Usage: ``python bench/compare.py [--quick] [--seeds S] [--torch]``

For each setting (Gaussian inputs with and without noise, scalar output, a symmetric non-Gaussian law) and
each learner that applies to it, the script measures, in the same run: the success rate and the median
recovery error against n, the median time against n, the fitted exponent of time in n and in d, and the peak
memory; it prints ratios to gradient training (``relulearn.train``). With ``--torch`` and PyTorch installed
(``requirements-bench.txt``), the same gradient training in PyTorch (Adam, full batch and minibatch) is added.
Not run by CI.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import relulearn as rl  # noqa: E402
from _common import loglog_slope, machine_line, peak_memory, print_table, timed  # noqa: E402


@dataclass(frozen=True)
class Setting:
    """A family of planted instances."""

    name: str
    d: int
    k: int
    m: int
    noise: float  # noise sd relative to the clean labels' RMS
    inputs: rl.InputLaw
    scalar_pm1: bool = False  # scalar output with u_i in {-1, +1} and condition number 2 (Zhong et al.)

    def instance(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        if self.scalar_pm1:
            base = rl.planted_network(self.d, self.k, 1, rng=rng, condition=2.0)
            net = rl.TwoLayerNetwork(rng.choice([-1.0, 1.0], size=(1, self.k)), base.V)
        else:
            net = rl.planted_network(self.d, self.k, self.m, rng=rng)
        clean = rl.sample(net, n, rng=rng, inputs=self.inputs)
        sd = self.noise * float(np.sqrt(np.mean(clean.Y_clean**2)))
        Y = clean.Y_clean + sd * rng.standard_normal(clean.Y_clean.shape)
        return net, clean.X, Y


@dataclass(frozen=True)
class Learner:
    name: str
    fit: Callable  # (X, Y, k, seed) -> TwoLayerNetwork or a Recovery
    applies: Callable[[Setting], bool]


def _learners(torch: bool) -> list[Learner]:
    out = [
        Learner("train (adam)", lambda X, Y, k, s: rl.train(X, Y, k, rng=s, max_iter=3000), lambda st: True),
    ]
    optional = [
        ("recover_exact", lambda st: st.noise == 0 and st.inputs == rl.Gaussian()),
        ("recover_noisy", lambda st: st.inputs == rl.Gaussian()),
        ("recover_low_rank", lambda st: st.m == 1 and st.noise == 0 and st.inputs == rl.Gaussian()),
        ("recover_tensor_gd", lambda st: st.m == 1 and st.inputs == rl.Gaussian()),
        ("recover_symmetric", lambda st: st.inputs.is_symmetric and st.k <= st.m),
    ]
    for name, applies in optional:
        fn = getattr(rl, name, None)
        if fn is None:
            print(f"(skipping {name}: not in this version of relulearn)")
            continue
        out.append(Learner(name, (lambda f: lambda X, Y, k, s: f(X, Y, k, rng=s))(fn), applies))
    if torch:
        try:
            import _torch_baseline as tb  # noqa: F401
        except ImportError as exc:
            print(f"(skipping the PyTorch baseline: {exc})")
        else:
            out += [
                Learner("torch adam (full)", lambda X, Y, k, s: tb.train_torch(X, Y, k, seed=s), lambda st: True),
                Learner("torch adam (batch 256)", lambda X, Y, k, s: tb.train_torch(X, Y, k, seed=s, batch_size=256),
                        lambda st: True),
            ]
    return out


def _run(learner: Learner, X, Y, k, seed):
    """(network or None, seconds, reason)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res, sec = timed(learner.fit, X, Y, k, seed)
    except rl.RecoveryFailed as exc:
        return None, np.nan, f"refused: {exc}"
    net = getattr(res, "network", res)
    ok = getattr(res, "ok", True)
    return (net if ok else None), sec, "" if ok else "certificate failed"


def accuracy_vs_n(setting: Setting, learners, ns, seeds, threshold):
    rows = []
    for n in ns:
        base = {}
        for lr in learners:
            if not lr.applies(setting):
                continue
            errs, secs = [], []
            for seed in range(seeds):
                net, X, Y = setting.instance(n, seed)
                est, sec, _ = _run(lr, X, Y, setting.k, seed)
                errs.append(np.inf if est is None else rl.recovery_error(est, net, inputs=setting.inputs).max)
                secs.append(sec)
            med_err, med_t = float(np.median(errs)), float(np.nanmedian(secs)) if np.any(np.isfinite(secs)) else np.nan
            succ = int(np.sum(np.asarray(errs) < threshold))
            if lr.name.startswith("train"):
                base = {"err": med_err, "t": med_t}
            rows.append([n, lr.name, f"{succ}/{seeds}", med_err, med_t,
                         med_t / base["t"] if base else np.nan])
    print_table(f"{setting.name}: success (error < {threshold:g}) and median error/time against n",
                ["n", "learner", "success", "median error", "median s", "time / train"], rows)
    return rows


def time_scaling(setting: Setting, learners, ns, ds):
    rows = []
    for lr in learners:
        if not lr.applies(setting):
            continue
        tn = []
        for n in ns:
            _, X, Y = setting.instance(n, 0)
            tn.append(_run(lr, X, Y, setting.k, 0)[1])
        td = []
        for d in ds:
            st = Setting(setting.name, d, setting.k, setting.m, setting.noise, setting.inputs, setting.scalar_pm1)
            _, X, Y = st.instance(ns[-1], 0)
            td.append(_run(lr, X, Y, setting.k, 0)[1])
        _, X, Y = setting.instance(ns[-1], 0)
        _, mib = peak_memory(_run, lr, X, Y, setting.k, 0)
        ok_n = np.isfinite(tn)
        ok_d = np.isfinite(td)
        rows.append([lr.name,
                     loglog_slope(np.asarray(ns)[ok_n], np.asarray(tn)[ok_n]) if ok_n.sum() > 1 else np.nan,
                     loglog_slope(np.asarray(ds)[ok_d], np.asarray(td)[ok_d]) if ok_d.sum() > 1 else np.nan,
                     tn[-1], mib])
    print_table(f"{setting.name}: time ~ n^a d^b (n in {list(ns)}, d in {list(ds)}), peak memory at n={ns[-1]}",
                ["learner", "a (n)", "b (d)", f"s at n={ns[-1]}", "peak MiB"], rows)
    return rows


def error_vs_noise(setting: Setting, learners, n, noises, seeds):
    rows = []
    for noise in noises:
        st = Setting(setting.name, setting.d, setting.k, setting.m, noise, setting.inputs, setting.scalar_pm1)
        base = None
        for lr in learners:
            if not lr.applies(st):
                continue
            errs = []
            for seed in range(seeds):
                net, X, Y = st.instance(n, seed)
                est, _, _ = _run(lr, X, Y, st.k, seed)
                errs.append(np.inf if est is None else rl.recovery_error(est, net).max)
            med = float(np.median(errs))
            if lr.name.startswith("train"):
                base = med
            rows.append([noise, lr.name, med, med / base if base else np.nan])
    print_table(f"{setting.name}: median error against the noise level (sd / RMS of clean labels), n={n}",
                ["noise", "learner", "median error", "error / train"], rows)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (under 10 minutes on 2 cores)")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--torch", action="store_true", help="add the PyTorch baseline if torch is installed")
    a = p.parse_args(argv)
    seeds = a.seeds or (3 if a.quick else 10)
    print(machine_line())
    learners = _learners(a.torch)
    gauss = Setting("Gaussian, noiseless, (d,k,m)=(10,4,6)", 10, 4, 6, 0.0, rl.Gaussian())
    ns = [100, 1000, 10_000] if a.quick else [100, 1000, 10_000, 100_000]
    # "recovered" = every error below 1e-6: gradient training stops at a relative loss of 1e-14 (errors ~1e-7),
    # the exact learners reach round-off (~1e-15); the median-error column shows the difference
    accuracy_vs_n(gauss, learners, ns, seeds, threshold=1e-6)
    noisy = Setting("Gaussian, noise 0.5 RMS, (d,k,m)=(10,4,6)", 10, 4, 6, 0.5, rl.Gaussian())
    accuracy_vs_n(noisy, learners, [10_000, 40_000] if a.quick else [20_000, 80_000, 320_000], seeds, threshold=0.05)
    error_vs_noise(noisy, learners, 20_000 if a.quick else 100_000, [0.0, 0.1, 0.5, 1.0], seeds)
    scalar = Setting("scalar output, v in {-1,+1}, cond 2, (d,k)=(10,4)", 10, 4, 1, 0.0, rl.Gaussian(), scalar_pm1=True)
    accuracy_vs_n(scalar, learners, [5_000, 20_000] if a.quick else [5_000, 20_000, 100_000], seeds, threshold=0.01)
    cube = Setting("uniform cube inputs, noise 0.1 RMS, (d,k,m)=(10,4,6)", 10, 4, 6, 0.1, rl.UniformCube())
    accuracy_vs_n(cube, learners, [20_000, 100_000] if a.quick else [20_000, 200_000], seeds, threshold=0.05)
    time_scaling(gauss, learners, [2_000, 8_000, 32_000] if a.quick else [5_000, 20_000, 80_000, 320_000],
                 [10, 20, 40])


if __name__ == "__main__":
    main()
