"""Every learner side by side: the harness behind chapter 8 and ``bench/compare.py``.

A :class:`Setting` is a family of seeded planted instances (input law, noise level, output shape);
:func:`learners_for` lists the learners whose assumptions the setting meets; :func:`accuracy_vs_n`,
:func:`error_vs_noise` and :func:`time_vs_size` run them on the *same* instances and return rows of
measurements (the bench prints them, the chapter plots them). This module stands on top of the
package: it imports the learners and nothing imports it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ._validation import check_int
from .descent import train
from .exact import recover_exact
from .inputs import Gaussian, InputLaw, sample
from .lowrank import recover_low_rank
from .metrics import recovery_error
from .network import TwoLayerNetwork, planted_network
from .noisy import recover_noisy
from .polynomial import fit_polynomial
from .recovery import RecoveryFailed
from .symmetric import recover_symmetric
from .tensor_init import recover_tensor_gd

__all__ = [
    "Learner",
    "Measurement",
    "Setting",
    "accuracy_vs_n",
    "error_vs_noise",
    "learners_for",
    "prediction_error_vs_degree",
    "run_learner",
    "time_vs_size",
]


@dataclass(frozen=True)
class Setting:
    """A family of planted instances.

    Parameters
    ----------
    name : str
    d, k, m : int
        Input dimension, hidden units, outputs.
    noise : float
        Noise standard deviation relative to the RMS of the clean labels.
    inputs : InputLaw
        Law of the inputs.
    scalar_pm1 : bool
        Scalar output with output weights in {-1, +1} and V of condition number 2 (the setting of
        Zhong et al. 2017); otherwise ``planted_network(d, k, m)``.
    """

    name: str
    d: int
    k: int
    m: int
    noise: float = 0.0
    inputs: InputLaw = field(default_factory=Gaussian)
    scalar_pm1: bool = False

    def instance(self, n: int, seed: int) -> tuple[TwoLayerNetwork, np.ndarray, np.ndarray]:
        """(truth, X, Y) for ``n`` samples, the same for every learner given the same seed. Cost O(n k (d + m))."""
        rng = np.random.default_rng(seed)
        if self.scalar_pm1:
            base = planted_network(self.d, self.k, 1, rng=rng, condition=2.0)
            net = TwoLayerNetwork(rng.choice([-1.0, 1.0], size=(1, self.k)), base.V)
        else:
            net = planted_network(self.d, self.k, self.m, rng=rng)
        clean = sample(net, n, rng=rng, inputs=self.inputs)
        sd = self.noise * float(np.sqrt(np.mean(clean.Y_clean**2)))
        Y = clean.Y_clean + sd * rng.standard_normal(clean.Y_clean.shape) if sd > 0 else clean.Y_clean
        return net, clean.X, Y


@dataclass(frozen=True)
class Learner:
    """A named learner ``fit(X, Y, k, seed)`` returning a Recovery or a TwoLayerNetwork.

    ``applies(setting)`` says whether the setting meets the learner's assumptions and
    ``min_samples(setting)`` is the smallest n it accepts (it raises ValueError below that).
    """

    name: str
    fit: Callable = field(repr=False)
    applies: Callable[[Setting], bool] = field(repr=False)
    min_samples: Callable[[Setting], int] = field(default=lambda st: 1, repr=False)


@dataclass(frozen=True)
class Measurement:
    """One learner on one batch of instances."""

    learner: str
    setting: str
    n: int
    d: int
    noise: float
    successes: int
    trials: int
    median_error: float
    median_seconds: float

    @property
    def rate(self) -> float:
        """Fraction of successes."""
        return self.successes / self.trials

    def __repr__(self) -> str:
        return (f"Measurement({self.learner!r}, n={self.n}, d={self.d}, noise={self.noise:g}, "
                f"success={self.successes}/{self.trials}, median_error={self.median_error:.1e})")


def _is_gaussian(st: Setting) -> bool:
    return isinstance(st.inputs, Gaussian)


def _registry() -> list[Learner]:
    out = [
        Learner("gradient training", lambda X, Y, k, s: train(X, Y, k, rng=s, max_iter=3000), lambda st: True),
        Learner("exact recovery", lambda X, Y, k, s: recover_exact(X, Y, k, rng=s),
                lambda st: st.noise == 0 and _is_gaussian(st) and st.m >= st.k),
        Learner("low-rank exact recovery", lambda X, Y, k, s: recover_low_rank(X, Y, k, rng=s),
                lambda st: st.noise == 0 and _is_gaussian(st) and st.m < st.k, lambda st: 2 * st.k * st.d),
        Learner("noisy recovery", lambda X, Y, k, s: recover_noisy(X, Y, k, rng=s), _is_gaussian,
                lambda st: 2 * st.k * st.d),
        Learner("tensor initialisation + descent", lambda X, Y, k, s: recover_tensor_gd(X, Y, k, rng=s),
                lambda st: _is_gaussian(st) and st.m == 1),
        Learner("symmetric method of moments", lambda X, Y, k, s: recover_symmetric(X, Y, k, rng=s),
                lambda st: st.inputs.is_symmetric and st.k <= st.m, lambda st: st.d * (st.d + 1)),
    ]
    return out


def learners_for(setting: Setting, names: list[str] | None = None, *, outside_assumptions: bool = False) -> list[Learner]:
    """The learners whose assumptions ``setting`` meets (optionally only those in ``names``).

    ``outside_assumptions=True`` also returns learners whose assumptions the setting violates (to show
    where a method breaks); ``names`` should then say which.
    """
    return [lr for lr in _registry()
            if (outside_assumptions or lr.applies(setting)) and (names is None or lr.name in names)]


def run_learner(learner: Learner, X, Y, k: int, seed: int):
    """Run one learner: ``(network or None, seconds)``; None when it refused or its certificate failed."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = learner.fit(X, Y, k, seed)
    except RecoveryFailed:
        return None, time.perf_counter() - t0
    sec = time.perf_counter() - t0
    ok = getattr(res, "ok", True)
    return (getattr(res, "network", res) if ok else None), sec


def accuracy_vs_n(setting: Setting, ns, seeds: int, threshold: float, names=None, *,
                  outside_assumptions: bool = False) -> list[Measurement]:
    """Success counts (recovery error below ``threshold``), median error and median time against n.

    Every learner sees the same instances (seed s gives the same truth and data). A refusal counts
    as a failure with error inf. ``outside_assumptions`` as in :func:`learners_for`. Cost: the
    learners' own, times ``len(ns) * seeds``.
    """
    seeds = check_int("seeds", seeds)
    rows = []
    for n in ns:
        for lr in learners_for(setting, names, outside_assumptions=outside_assumptions):
            if n < lr.min_samples(setting):
                continue
            errs, secs = [], []
            for seed in range(seeds):
                truth, X, Y = setting.instance(int(n), seed)
                est, sec = run_learner(lr, X, Y, setting.k, seed)
                errs.append(np.inf if est is None else recovery_error(est, truth, inputs=setting.inputs).max)
                secs.append(sec)
            rows.append(Measurement(lr.name, setting.name, int(n), setting.d, setting.noise,
                                    int(np.sum(np.asarray(errs) < threshold)), seeds,
                                    float(np.median(errs)), float(np.median(secs))))
    return rows


def error_vs_noise(setting: Setting, n: int, noises, seeds: int, names=None) -> list[Measurement]:
    """Median recovery error against the relative noise level, on the same instances for every learner."""
    rows = []
    for noise in noises:
        st = replace(setting, noise=float(noise))
        rows += accuracy_vs_n(st, [n], seeds, threshold=np.inf, names=names)
    return rows


def time_vs_size(setting: Setting, ns=(), ds=(), n_for_d: int = 10_000, names=None
                 ) -> tuple[list[Measurement], list[Measurement]]:
    """Seconds of one run (seed 0): ``(by_n, by_d)``, against n at the setting's d and against d at ``n_for_d``."""
    by_n = [row for n in ns for row in accuracy_vs_n(setting, [n], 1, threshold=np.inf, names=names)]
    by_d = [row for d in ds
            for row in accuracy_vs_n(replace(setting, d=int(d)), [n_for_d], 1, threshold=np.inf, names=names)]
    return by_n, by_d


def prediction_error_vs_degree(setting: Setting, n: int, degrees, seeds: int, *, n_test: int = 5_000,
                               threshold: float = 0.05) -> list[Measurement]:
    """Polynomial regression of each degree beside gradient training: relative prediction error.

    Polynomial regression (chapter 7) predicts but does not recover weights, so both are scored by
    ``||f_hat(X') - f*(X')|| / ||f*(X')||`` on ``n_test`` fresh inputs of the setting's law; a success
    is an error below ``threshold``. Scalar output only (``setting.m == 1``). Cost per fit
    O(n p^2 + p^3) with p = C(d + D, D) features, and the training runs' own.
    """
    if setting.m != 1:
        raise ValueError(f"setting.m must be 1 (scalar output) for polynomial regression, got {setting.m}")
    seeds = check_int("seeds", seeds)
    fits = [(f"polynomial regression, degree {int(D)}", lambda X, y, s, D=int(D): fit_polynomial(X, y, D))
            for D in degrees]
    fits.append(("gradient training", lambda X, y, s: train(X, y, setting.k, rng=s, max_iter=3000).network))
    rows = []
    for name, fit in fits:
        errs, secs = [], []
        for seed in range(seeds):
            truth, X, Y = setting.instance(int(n), seed)
            t0 = time.perf_counter()
            model = fit(X, Y[0], seed)
            secs.append(time.perf_counter() - t0)
            Xt = setting.inputs.sample(setting.d, n_test, rng=10_000 + seed)
            yt = truth(Xt).ravel()
            errs.append(float(np.linalg.norm(np.ravel(model(Xt)) - yt) / np.linalg.norm(yt)))
        rows.append(Measurement(name, setting.name, int(n), setting.d, setting.noise,
                                int(np.sum(np.asarray(errs) < threshold)), seeds,
                                float(np.median(errs)), float(np.median(secs))))
    return rows
