"""What every learner returns: a :class:`Recovery`, possibly with a :class:`Certificate`.

A learner that can tell it failed either raises :class:`RecoveryFailed` with the reason or returns
a ``Recovery`` whose ``certificate.ok`` is False; each learner's docstring says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .network import TwoLayerNetwork

__all__ = ["Certificate", "Recovery", "RecoveryFailed"]


class RecoveryFailed(RuntimeError):
    """A learner detected that its assumptions fail on this data and refuses to answer."""


@dataclass(frozen=True, repr=False, eq=False)
class Certificate:
    """Evidence a learner gives for (or against) its own answer.

    Parameters
    ----------
    ok : bool
        Whether the check passed.
    smallest, next : ndarray
        Per hidden unit: the smallest and the next singular value of the certifying matrix (for
        exact recovery, ~1e-15 vs O(0.1) when the answer is right).
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
class Recovery:
    """The result of a learner.

    Parameters
    ----------
    network : TwoLayerNetwork
        The estimate.
    residual : float
        ``||Y - net(X)||_F / ||Y||_F`` on the data the learner saw.
    certificate : Certificate or None
        The learner's own check, where it has one.
    n_samples_used : int
        Number of samples the learner used.
    history : ndarray
        Loss per iteration for iterative learners (empty otherwise).
    details : mapping
        Intermediate estimates and diagnostics a chapter may want to show.
    """

    network: TwoLayerNetwork
    residual: float
    certificate: Certificate | None = None
    n_samples_used: int = 0
    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """``certificate.ok`` when there is a certificate, else True."""
        return True if self.certificate is None else bool(self.certificate.ok)

    def __repr__(self) -> str:
        parts = [repr(self.network), f"residual={self.residual:.2e}", f"n_samples_used={self.n_samples_used}"]
        if self.certificate is not None:
            parts.append(f"certificate={self.certificate!r}")
        if len(self.history):
            parts.append(f"iterations={len(self.history)}")
        return "Recovery(" + ", ".join(parts) + ")"
