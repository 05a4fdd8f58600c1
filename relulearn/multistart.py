"""Several starts, one answer: the best start chosen so that rounding cannot change the
choice.

A non-convex learner (a descent from a random or a moment start) can end on either side
of a basin boundary, and on such an instance one unit in the last place, a different
BLAS kernel or thread count, decides its fate. Running several starts and keeping the
best makes the outcome depend on whether *any* start succeeds, which is far more stable.
:func:`best_of_starts` does this for every learner: it runs the starts lazily, stops at
the first good-enough one, and breaks near-ties by a margin in favour of the earlier
start, so two scores that differ only by rounding never swap the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["StartsResult", "best_of_starts", "choose_with_margin"]


@dataclass(frozen=True, repr=False)
class StartsResult:
    """The outcome of :func:`best_of_starts`.

    Attributes
    ----------
    best : object or None
        The result of the chosen start (None when every start returned None).
    index : int
        Position of the chosen start among those run (-1 when none gave a result).
    scores : tuple of float
        Score of each start run, in order (``inf`` for a start that returned None).
    stopped_early : bool
        Whether a start reached ``good_enough`` before the starts ran out.
    """

    best: Any
    index: int
    scores: tuple[float, ...]
    stopped_early: bool

    @property
    def n_tried(self) -> int:
        """Number of starts run."""
        return len(self.scores)

    def __repr__(self) -> str:
        best = (
            "none"
            if self.index < 0
            else f"{self.index} (score {self.scores[self.index]:.2e})"
        )
        return (
            f"StartsResult(tried={self.n_tried}, best={best},"
            f" stopped_early={self.stopped_early})"
        )


def choose_with_margin(scores, *, rtol: float = 1e-6, atol: float = 1e-12) -> int:
    """Index of the first score within a margin of the smallest (lower is better).

    Parameters
    ----------
    scores : sequence of float
        One score per candidate; ``inf`` or NaN marks a candidate without a result.
    rtol, atol : float
        The margin ``max(rtol * |s_min|, atol)``: every score at most ``s_min`` plus the
        margin counts as a tie, and ties go to the earliest candidate.

    Returns
    -------
    int
        The chosen index, or -1 when no score is finite.

    Notes
    -----
    Scores that differ by rounding (relative 1e-12 or so) are ties, so the choice is the
    same on every machine; it could only flip if two scores differed by almost exactly
    the margin. Cost O(len).
    """
    s = np.asarray(scores, dtype=float)
    # +inf and NaN mark a candidate without a result
    present = ~np.isnan(s) & (s != np.inf)
    if not present.any():
        return -1
    low = float(s[present].min())
    # an infinitely good score (e.g. minus an infinite eigen-gap) wins outright
    if low == -np.inf:
        return int(np.flatnonzero(s == -np.inf)[0])
    margin = max(float(rtol) * abs(low), float(atol))
    return int(np.flatnonzero(present & (s <= low + margin))[0])


def best_of_starts(
    starts: Iterable[Callable[[], Any]],
    score: Callable[[Any], float],
    *,
    good_enough: float = -np.inf,
    max_starts: int | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-12,
) -> StartsResult:
    """Run starts one by one and keep the best (lowest score), with ties broken by a
    margin.

    Parameters
    ----------
    starts : iterable of callables
        Each ``start()`` runs one start and returns its result, or None when the start
        failed to produce one. Starts are run lazily, in order, so a generator can
        create them on demand.
    score : callable
        ``score(result) -> float``, lower is better (e.g. a training residual, or 0 for
        a certified answer).
    good_enough : float
        Stop as soon as a start scores at most this (default: never stop early).
    max_starts : int, optional
        Run at most this many starts.
    rtol, atol : float
        The tie margin of :func:`choose_with_margin`.

    Returns
    -------
    StartsResult

    Raises
    ------
    ValueError
        ``max_starts`` below 1.

    Notes
    -----
    Cost: the starts' own, at most ``max_starts`` of them. The early stop and the margin
    keep the choice stable under rounding: a start is kept early only when its score is
    clearly good (choose ``good_enough`` far from the scores a failed start reaches).
    """
    if max_starts is not None and int(max_starts) < 1:
        raise ValueError(f"max_starts must be >= 1, got {max_starts}")
    results: list[Any] = []
    scores: list[float] = []
    stopped = False
    pending = iter(starts)
    while max_starts is None or len(scores) < int(max_starts):
        start = next(pending, None)  # drawn only when it will run
        if start is None:
            break
        res = start()
        results.append(res)
        scores.append(np.inf if res is None else float(score(res)))
        if scores[-1] <= good_enough:
            stopped = True
            break
    idx = choose_with_margin(scores, rtol=rtol, atol=atol)
    return StartsResult(None if idx < 0 else results[idx], idx, tuple(scores), stopped)
