"""Every learner side by side: the harness behind chapter 8 and ``bench/compare.py``.

A :class:`Setting` is a family of seeded planted instances (input law, noise level,
output shape); :func:`learners_for` lists the learners of the registry
(:data:`relulearn.LEARNERS`) whose assumptions the setting meets; :func:`accuracy_vs_n`,
:func:`error_vs_noise` and :func:`time_vs_size` run them on the *same* instances and
return rows of measurements (the bench prints them, the chapter plots them). This module
stands on top of the package: it imports the learners and nothing imports it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from ._validation import check_int
from .descent import train
from .inputs import Gaussian, InputLaw, sample
from .learners import LEARNERS, LearnerSpec
from .least_squares import local_least_squares
from .metrics import recovery_error
from .network import TwoLayerNetwork, planted_network
from .polynomial import fit_polynomial
from .recovery import Recovery, RelulearnWarning

__all__ = [
    "ORACLE",
    "Measurement",
    "Setting",
    "accuracy_vs_n",
    "error_vs_noise",
    "learner_rng",
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
        Input dimension d, number of hidden units k, number of outputs m.
    noise : float
        The noise standard deviation sigma relative to the RMS of the clean labels ``U*
        f(V* X)``.
    inputs : InputLaw
        Law of the inputs.
    scalar_pm1 : bool
        Scalar output (m = 1) with output weights u_i in {-1, +1} and V* of condition
        number 2 (the setting of the experiments of K. Zhong, Z. Song, P. Jain, P. L.
        Bartlett, I. S. Dhillon, "Recovery guarantees for one-hidden-layer neural
        networks", ICML 2017, section 7); otherwise ``planted_network(d, k, m)``.
    """

    name: str
    d: int
    k: int
    m: int
    noise: float = 0.0
    inputs: InputLaw = field(default_factory=Gaussian)
    scalar_pm1: bool = False

    def instance(
        self, n: int, seed: int
    ) -> tuple[TwoLayerNetwork, np.ndarray, np.ndarray]:
        """(truth, X, Y): the planted network (U*, V*), inputs X (d, n) and labels Y =
        U* f(V* X) + E (m, n).

        E has i.i.d. N(0, sigma^2) entries (none when ``noise`` is 0). The same for
        every learner given the same seed. Cost O(n k (d + m)).
        """
        rng = np.random.default_rng(seed)
        if self.scalar_pm1:
            base = planted_network(self.d, self.k, 1, rng=rng, condition=2.0)
            net = TwoLayerNetwork(rng.choice([-1.0, 1.0], size=(1, self.k)), base.V)
        else:
            net = planted_network(self.d, self.k, self.m, rng=rng)
        clean = sample(net, n, rng=rng, inputs=self.inputs)
        sd = self.noise * float(np.sqrt(np.mean(clean.Y_clean**2)))
        Y = (
            clean.Y_clean + sd * rng.standard_normal(clean.Y_clean.shape)
            if sd > 0
            else clean.Y_clean
        )
        return net, clean.X, Y


@dataclass(frozen=True)
class Measurement:
    """One learner on one batch of instances.

    Attributes
    ----------
    learner : str
        The learner's name in the registry (or :data:`ORACLE`, or the name of a fit of
        :func:`prediction_error_vs_degree`).
    setting : str
        The name of the :class:`Setting`.
    n, d : int
        Sample size and input dimension.
    noise : float
        The setting's relative noise level.
    successes, trials : int
        Instances whose error is below the threshold, and instances run (the seeds).
    median_error : float
        Median error over the instances (recovery error, or relative prediction error
        for :func:`prediction_error_vs_degree`); inf counts a failed result.
    median_seconds : float
        Median wall-clock time of one run.
    certified, unverified, failed : int
        How many results had each status (0 where statuses are not counted: the oracle
        and the fits of :func:`prediction_error_vs_degree`).
    """

    learner: str
    setting: str
    n: int
    d: int
    noise: float
    successes: int
    trials: int
    median_error: float
    median_seconds: float
    certified: int = 0
    unverified: int = 0
    failed: int = 0

    @property
    def rate(self) -> float:
        """Fraction of successes."""
        return self.successes / self.trials

    @property
    def statuses(self) -> str:
        """The statuses the learner reported, e.g. ``"3 certified, 2 unverified"`` (zero
        counts left out).
        """
        parts = [
            f"{c} {s}"
            for c, s in (
                (self.certified, "certified"),
                (self.unverified, "unverified"),
                (self.failed, "failed"),
            )
            if c
        ]
        return ", ".join(parts)

    def __repr__(self) -> str:
        return (
            f"Measurement({self.learner!r}, n={self.n}, d={self.d},"
            f" noise={self.noise:g}, "
            f"success={self.successes}/{self.trials},"
            f" median_error={self.median_error:.1e}, {self.statuses})"
        )


def _applies(spec: LearnerSpec, st: Setting) -> bool:
    """Whether the setting meets the learner's assumptions (input law, noise, output
    shape).
    """
    law = {
        "gaussian": isinstance(st.inputs, Gaussian),
        "symmetric": st.inputs.is_symmetric,
        "any": True,
    }[spec.inputs]
    return (
        law and (spec.noisy_labels or st.noise == 0) and spec.fits_outputs(st.k, st.m)
    )


def learners_for(
    setting: Setting,
    names: list[str] | None = None,
    *,
    outside_assumptions: bool = False,
) -> list[LearnerSpec]:
    """The learners of :data:`relulearn.LEARNERS` whose assumptions ``setting`` meets
    (optionally only ``names``).

    Parameters
    ----------
    setting : Setting
    names : list of str, optional
        Keep only the learners with these registry names.
    outside_assumptions : bool
        Also return learners whose assumptions the setting violates (to show where a
        method breaks); ``names`` should then say which.

    Returns
    -------
    list of LearnerSpec
        In the order of :data:`relulearn.LEARNERS`.
    """
    return [
        lr
        for lr in LEARNERS
        if (outside_assumptions or _applies(lr, setting))
        and (names is None or lr.name in names)
    ]


def learner_rng(seed: int) -> np.random.Generator:
    """The random stream a learner gets for the instance ``seed``: independent of the
    instance's own.

    Passing the instance's seed itself would be wrong: :meth:`Setting.instance` draws
    the planted ``V*`` first from ``default_rng(seed)``, and :func:`relulearn.train`
    draws its random start the same way, so ``train(rng=seed)`` would start at the
    truth.

    Parameters
    ----------
    seed : int
        The seed of the instance (as given to :meth:`Setting.instance`).

    Returns
    -------
    numpy.random.Generator
        ``default_rng([seed, 1])``.
    """
    return np.random.default_rng([int(seed), 1])


def run_learner(
    learner: LearnerSpec, X, Y, k: int, seed: int
) -> tuple[Recovery, float]:
    """Run one learner with ``on_failure="return"``: ``(result, seconds)``.

    The package's warnings (non-convergence) are silenced here: the result's status
    records them. The learner's randomness comes from :func:`learner_rng` ``(seed)``, a
    stream independent of the instance's (drawn from ``default_rng(seed)``).

    Parameters
    ----------
    learner : LearnerSpec
        A registry entry; it runs with the registry's options.
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
    k : int
        Number of hidden units.
    seed : int
        The seed of the instance.

    Returns
    -------
    result : Recovery
    seconds : float
        Wall-clock time of the call.
    """
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RelulearnWarning)
        res = learner(X, Y, k, rng=learner_rng(seed), on_failure="return")
    return res, time.perf_counter() - t0


#: The name of the oracle's rows in the measurements of :func:`accuracy_vs_n` and
#: :func:`error_vs_noise`: :func:`relulearn.local_least_squares` started at the truth,
#: the reference error of a noisy instance.
ORACLE = "oracle (least squares from the truth)"


def accuracy_vs_n(
    setting: Setting,
    ns,
    seeds: int,
    threshold: float,
    names=None,
    *,
    outside_assumptions: bool = False,
    oracle: bool = False,
) -> list[Measurement]:
    """Success counts (recovery error below ``threshold``), median error and median time
    against n.

    Every learner sees the same instances (seed s gives the same truth and data). A
    result with status failed is a refusal and counts as a failure with error inf; every
    other result (certified or unverified) is scored by its error against the truth, and
    the statuses are counted. ``outside_assumptions`` as in :func:`learners_for`. With
    ``oracle``, each n also gets a row named :data:`ORACLE`:
    :func:`relulearn.local_least_squares` started at the truth, the reference error of a
    noisy instance (its statuses are not counted).

    Parameters
    ----------
    setting : Setting
    ns : sequence of int
        Sample sizes; a learner is skipped at an n below its ``min_samples``.
    seeds : int
        Instances per n: seeds 0, ..., seeds - 1.
    threshold : float
        A result succeeds when its recovery error (the largest of the three errors of
        :func:`relulearn.recovery_error`) is below this.
    names : list of str, optional
        Only these learners (see :func:`learners_for`).
    outside_assumptions : bool
        As in :func:`learners_for`.
    oracle : bool
        Add the oracle's row at each n.

    Returns
    -------
    list of Measurement
        One row per n and learner (the oracle first).

    Notes
    -----
    Cost: the learners' own, times ``len(ns) * seeds``.
    """
    seeds = check_int("seeds", seeds)
    rows = []
    for n in ns:
        if oracle:
            errs, secs = [], []
            for seed in range(seeds):
                truth, X, Y = setting.instance(int(n), seed)
                t0 = time.perf_counter()
                fit = local_least_squares(X, Y, truth)
                secs.append(time.perf_counter() - t0)
                errs.append(
                    recovery_error(fit.network, truth, inputs=setting.inputs).max
                )
            rows.append(
                Measurement(
                    ORACLE,
                    setting.name,
                    int(n),
                    setting.d,
                    setting.noise,
                    int(np.sum(np.asarray(errs) < threshold)),
                    seeds,
                    float(np.median(errs)),
                    float(np.median(secs)),
                )
            )
        for lr in learners_for(setting, names, outside_assumptions=outside_assumptions):
            if n < lr.min_samples(setting.d, setting.k, setting.m):
                continue
            errs, secs, statuses = [], [], []
            for seed in range(seeds):
                truth, X, Y = setting.instance(int(n), seed)
                res, sec = run_learner(lr, X, Y, setting.k, seed)
                failed = res.status == "failed"
                errs.append(
                    np.inf
                    if failed
                    else recovery_error(res.network, truth, inputs=setting.inputs).max
                )
                secs.append(sec)
                statuses.append(res.status)
            rows.append(
                Measurement(
                    lr.name,
                    setting.name,
                    int(n),
                    setting.d,
                    setting.noise,
                    int(np.sum(np.asarray(errs) < threshold)),
                    seeds,
                    float(np.median(errs)),
                    float(np.median(secs)),
                    statuses.count("certified"),
                    statuses.count("unverified"),
                    statuses.count("failed"),
                )
            )
    return rows


def error_vs_noise(
    setting: Setting, n: int, noises, seeds: int, names=None, *, oracle: bool = False
) -> list[Measurement]:
    """Median recovery error against the relative noise level, on the same instances for
    every learner (with ``oracle``, also the oracle's, as in :func:`accuracy_vs_n`).

    Parameters
    ----------
    setting : Setting
        Its ``noise`` is replaced by each level in turn.
    n : int
        Sample size.
    noises : sequence of float
        Relative noise levels (the ``noise`` of a :class:`Setting`).
    seeds : int
        Instances per level.
    names : list of str, optional
        Only these learners (see :func:`learners_for`).
    oracle : bool
        Add the oracle's row at each level.

    Returns
    -------
    list of Measurement
        One row per noise level and learner, as :func:`accuracy_vs_n` returns them with
        an infinite threshold (so ``successes`` counts the results that did not fail).
    """
    rows = []
    for noise in noises:
        st = replace(setting, noise=float(noise))
        rows += accuracy_vs_n(
            st, [n], seeds, threshold=np.inf, names=names, oracle=oracle
        )
    return rows


def time_vs_size(
    setting: Setting, ns=(), ds=(), n_for_d: int = 10_000, names=None
) -> tuple[list[Measurement], list[Measurement]]:
    """Seconds of one run (seed 0): ``(by_n, by_d)``, against n at the setting's d and
    against d at ``n_for_d``.

    Parameters
    ----------
    setting : Setting
    ns : sequence of int
        Sample sizes, at the setting's d.
    ds : sequence of int
        Input dimensions, at ``n_for_d`` samples.
    n_for_d : int
        Sample size of the runs against d.
    names : list of str, optional
        Only these learners (see :func:`learners_for`).

    Returns
    -------
    by_n, by_d : list of Measurement
        One run per size and learner; ``median_seconds`` is that run's time.
    """
    by_n = [
        row
        for n in ns
        for row in accuracy_vs_n(setting, [n], 1, threshold=np.inf, names=names)
    ]
    by_d = [
        row
        for d in ds
        for row in accuracy_vs_n(
            replace(setting, d=int(d)), [n_for_d], 1, threshold=np.inf, names=names
        )
    ]
    return by_n, by_d


def prediction_error_vs_degree(
    setting: Setting,
    n: int,
    degrees,
    seeds: int,
    *,
    n_test: int = 5_000,
    threshold: float = 0.05,
) -> list[Measurement]:
    """Polynomial regression of each degree beside gradient training: relative
    prediction error.

    Polynomial regression (chapter 7) predicts but does not recover weights, so both are
    scored by the relative prediction error ``||y_hat(X') - y*(X')|| / ||y*(X')||`` on
    ``n_test`` fresh inputs X' of the setting's law, with y* the planted network and
    y_hat the fitted predictor; a success is an error below ``threshold``. ``degrees``
    are the polynomial degrees q. Scalar output only (``setting.m == 1``).

    Parameters
    ----------
    setting : Setting
        With ``m == 1``.
    n : int
        Sample size.
    degrees : sequence of int
        The polynomial degrees q.
    seeds : int
        Instances per fit.
    n_test : int
        Fresh inputs on which the prediction error is measured.
    threshold : float
        A fit succeeds when its relative prediction error is below this.

    Returns
    -------
    list of Measurement
        One row per degree ("polynomial regression, degree q"), then one for
        "gradient training" (:func:`relulearn.train` with the setting's k);
        ``median_error`` is the relative prediction error.

    Raises
    ------
    ValueError
        ``setting.m != 1``.

    Notes
    -----
    Cost per fit O(n p^2 + p^3) with p = C(d + q, q) features, and the training runs'
    own.
    """
    if setting.m != 1:
        raise ValueError(
            "setting.m must be 1 (scalar output) for polynomial regression, got"
            f" {setting.m}"
        )
    seeds = check_int("seeds", seeds)
    fits = [
        (
            f"polynomial regression, degree {int(D)}",
            lambda X, y, s, D=int(D): fit_polynomial(X, y, D),
        )
        for D in degrees
    ]
    fits.append(
        ("gradient training", lambda X, y, s: _train_quietly(X, y, setting.k, s))
    )
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
            errs.append(
                float(np.linalg.norm(np.ravel(model(Xt)) - yt) / np.linalg.norm(yt))
            )
        rows.append(
            Measurement(
                name,
                setting.name,
                int(n),
                setting.d,
                setting.noise,
                int(np.sum(np.asarray(errs) < threshold)),
                seeds,
                float(np.median(errs)),
                float(np.median(secs)),
            )
        )
    return rows


def _train_quietly(X, y, k, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RelulearnWarning)
        return train(
            X, y, k, rng=learner_rng(seed), max_iter=3000, on_failure="return"
        ).network
