"""What every learner returns, and the one contract all learners follow.

Every learner is called as ``learner(X, Y, k, *, rng=None, on_failure="raise",
progress=False, ...)`` and returns a :class:`Recovery` whose ``status`` is one of

* ``"certified"``: the learner has evidence that the answer is right (an exact
  certificate, or a statistical test whose level is stated in the certificate);
* ``"failed"``: it has evidence that the answer is wrong; ``reason`` says which;
* ``"unverified"``: it has neither (for example an iterative method that stopped without
  a check).

``Recovery.ok`` means certified. With ``on_failure="raise"`` (the default) a failed
result raises :class:`RecoveryFailed` carrying the same reason and the result; with
``on_failure="return"`` it is returned. Preconditions that the shapes decide (k > d, too
few samples) raise ``ValueError`` before any work. Non-convergence emits
:class:`ConvergenceWarning`; numerical trouble met inside a learner emits
:class:`NumericalWarning`: these and the other subclasses of :class:`RelulearnWarning`
are the only warnings a learner lets through (:func:`learner_contract` translates the
others).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import end_trust_scope, trust_scope
from .network import TwoLayerNetwork

__all__ = [
    "STATUSES",
    "Certificate",
    "ConvergenceWarning",
    "NumericalWarning",
    "Recovery",
    "RecoveryFailed",
    "RelulearnWarning",
    "StatisticalCertificate",
    "learner_contract",
]

#: The three values of ``Recovery.status``: certified (the learner has evidence that the
#: answer is right), failed (evidence that it is wrong) and unverified (neither).
STATUSES = ("certified", "failed", "unverified")
ON_FAILURE = ("raise", "return")


class RelulearnWarning(UserWarning):
    """Base class of every warning relulearn emits."""


class ConvergenceWarning(RelulearnWarning):
    """An iterative learner stopped before its convergence criterion held; the result is
    unverified.
    """


class NumericalWarning(RelulearnWarning):
    """Numerical trouble inside a learner (an ill-conditioned solve, an overflow); the
    text says what.
    """


class RecoveryFailed(RuntimeError):
    """A learner found evidence that its answer is wrong, or that its assumptions fail
    on this data.

    Attributes
    ----------
    reason : str
        Why.
    result : Recovery or None
        The failed result (what ``on_failure="return"`` would have returned), when there
        is one.
    """

    def __init__(
        self,
        reason: str,
        result: Recovery | None = None,
        network: TwoLayerNetwork | None = None,
    ):
        super().__init__(reason)
        self.reason = str(reason)
        self.result = result
        self.network = (
            network
            if network is not None
            else (None if result is None else result.network)
        )


@dataclass(frozen=True, repr=False, eq=False)
class Certificate:
    """Exact evidence a learner gives for (or against) its own answer.

    Parameters
    ----------
    ok : bool
        Whether the check passed.
    smallest, next : ndarray
        Per hidden unit: the smallest and the next singular value of the certifying
        matrix (for exact recovery, ~1e-15 vs O(0.1) when the answer is right); each
        learner's docstring says what they are for it.
    reason : str
        Why ``ok`` is False (empty when it is True).
    """

    ok: bool
    smallest: np.ndarray = field(default_factory=lambda: np.zeros(0))
    next: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reason: str = ""

    def __repr__(self) -> str:
        s = np.asarray(self.smallest)
        t = np.asarray(self.next)
        parts = [f"ok={self.ok}"]
        if s.size:
            parts.append(f"max smallest={s.max():.1e}")
        if t.size:
            parts.append(f"min next={t.min():.1e}")
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        return "Certificate(" + ", ".join(parts) + ")"


@dataclass(frozen=True, repr=False, eq=False)
class StatisticalCertificate:
    """Evidence from tests on held-out samples (cross-fitting), with their level stated.

    Parameters
    ----------
    ok : bool
        Both tests passed: every unit carries signal, and the residual shows no
        misspecification.
    level : float
        The level of each test: the probability that ``ok`` is True although a unit
        carries no signal is at most ``level``; the probability that a correctly
        specified model is declared misspecified is at most ``level`` (asymptotically,
        for noise independent of the inputs).
    signal_pvalues : ndarray, shape (folds, k)
        Per fold and unit, the one-sided p-value of "the unit explains no more of the
        held-out labels than zero does".
    specification_pvalue : float
        The smallest Bonferroni-adjusted p-value of "the held-out residual is
        uncorrelated with the features the model cannot produce" over folds and outputs.
    n_test : int
        Held-out samples per fold.
    reason : str
        Why ``ok`` is False when a test gave evidence against the fit (empty otherwise).
    disagreement, allowed_disagreement : float
        The stability check: the largest matched error between the fits on the two
        halves and on all samples, and the bound it had to meet (NaN when not run).
    """

    ok: bool
    level: float
    signal_pvalues: np.ndarray
    specification_pvalue: float
    n_test: int
    reason: str = ""
    disagreement: float = float("nan")
    allowed_disagreement: float = float("nan")

    def __repr__(self) -> str:
        p = np.asarray(self.signal_pvalues)
        parts = [f"ok={self.ok}", f"level={self.level:g}"]
        if p.size:
            parts.append(f"max signal p={p.max():.1e}")
        parts.append(f"specification p={self.specification_pvalue:.2f}")
        parts.append(f"n_test={self.n_test}")
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        return "StatisticalCertificate(" + ", ".join(parts) + ")"


@dataclass(frozen=True, repr=False, eq=False)
class Recovery:
    """The result of a learner.

    Parameters
    ----------
    network : TwoLayerNetwork or None
        The estimate (None only when the status is failed and the learner had no
        estimate).
    residual : float
        ``||Y - net(X)||_F / ||Y||_F`` on the data the learner saw (inf without a
        network).
    status : {"certified", "failed", "unverified"}
        See the module docstring.
    reason : str
        Why the status is failed or unverified (empty when certified).
    certificate : Certificate, StatisticalCertificate or None
        The evidence, where the learner has a check.
    n_samples_used : int
        Number of samples the learner used.
    history : ndarray
        Loss per iteration for iterative learners (empty otherwise).
    details : mapping
        Intermediate estimates and diagnostics a chapter may want to show. The same key
        means the same thing in every learner: ``iterations``, ``stop_reason``,
        ``converged``, ``starts_tried``, ``moment_estimate`` (the network of the moment
        step), ``noise_rms``.
    """

    network: TwoLayerNetwork | None
    residual: float
    status: str = "unverified"
    reason: str = ""
    certificate: Certificate | StatisticalCertificate | None = None
    n_samples_used: int = 0
    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.network is None and self.status != "failed":
            raise ValueError("a Recovery without a network must have status 'failed'")

    @property
    def ok(self) -> bool:
        """``status == "certified"``."""
        return self.status == "certified"

    def __repr__(self) -> str:
        parts = [
            repr(self.network),
            f"status={self.status!r}",
            f"residual={self.residual:.2e}",
            f"n_samples_used={self.n_samples_used}",
        ]
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        if self.certificate is not None:
            parts.append(f"certificate={self.certificate!r}")
        if len(self.history):
            parts.append(f"iterations={len(self.history)}")
        return "Recovery(" + ", ".join(parts) + ")"


def check_on_failure(on_failure) -> str:
    """Validate the ``on_failure`` argument every learner takes."""
    if on_failure not in ON_FAILURE:
        raise ValueError(f"on_failure must be 'raise' or 'return', got {on_failure!r}")
    return on_failure


_PASSED_THROUGH = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def learner_contract(func: Callable[..., Recovery]) -> Callable[..., Recovery]:
    """Make a learner follow the contract of this module.

    The wrapped learner validates its own arguments (raising
    ``ValueError``/``TypeError``) and returns a :class:`Recovery`; it may raise
    :class:`RecoveryFailed` from deep inside. The wrapper

    * turns such a :class:`RecoveryFailed` into a result with status failed (its
      ``network`` is the estimate the exception carries, or None);
    * raises :class:`RecoveryFailed` for a failed result when ``on_failure="raise"``;
    * lets the steps the learner calls trust the data its boundary check accepted (the
      input check runs once per call, see
      :func:`relulearn._validation.check_learner_input`);
    * silences numpy's floating-point warnings inside the learner (the learner checks
      its results for non-finite values itself) and re-emits any other foreign warning
      as :class:`NumericalWarning`, so only relulearn's warning classes reach the
      caller.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        on_failure = check_on_failure(kwargs.get("on_failure", "raise"))
        token = trust_scope()
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            try:
                res = func(*args, **kwargs)
            except RecoveryFailed as exc:
                res = exc.result
                if res is None:
                    res = Recovery(
                        exc.network, np.inf, status="failed", reason=exc.reason
                    )
            finally:
                end_trust_scope(token)
        for w in caught:
            if issubclass(w.category, (RelulearnWarning, *_PASSED_THROUGH)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            else:
                warnings.warn(
                    f"{func.__name__}: {w.category.__name__}: {w.message}",
                    NumericalWarning,
                    stacklevel=2,
                )
        if res.status == "failed" and on_failure == "raise":
            raise RecoveryFailed(res.reason, result=res)
        return res

    return wrapper
