"""best_of_starts: lazy starts, early stop, ties broken by a margin; and the learners that use it."""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl
from relulearn import comparison as cmp


def test_choose_with_margin_prefers_the_earlier_of_near_ties():
    # 1e-15 apart (rounding) is a tie: the first wins, whichever is smaller
    assert rl.choose_with_margin([0.3 + 1e-15, 0.3, 0.5]) == 0
    assert rl.choose_with_margin([0.3, 0.3 + 1e-15, 0.5]) == 0
    # a real difference is not a tie
    assert rl.choose_with_margin([0.31, 0.30, 0.5]) == 1
    # the absolute margin covers scores at round-off level
    assert rl.choose_with_margin([2e-15, 1e-15]) == 0
    assert rl.choose_with_margin([np.inf, np.nan, 2.0, 1.0]) == 3
    assert rl.choose_with_margin([np.inf, np.inf]) == -1
    assert (
        rl.choose_with_margin([1.0, -np.inf, -np.inf]) == 1
    )  # -inf is the best score, not a missing one


def test_best_of_starts_is_lazy_and_stops_at_good_enough():
    calls = []

    def start(i, value):
        def run():
            calls.append(i)
            return value

        return run

    values = [5.0, 3.0, 0.5, 0.1, 4.0]
    res = rl.best_of_starts(
        (start(i, v) for i, v in enumerate(values)), score=lambda v: v, good_enough=1.0
    )
    assert calls == [0, 1, 2]  # the start after the first good-enough one never runs
    assert res.best == 0.5 and res.index == 2 and res.stopped_early and res.n_tried == 3
    calls.clear()
    res = rl.best_of_starts(
        (start(i, v) for i, v in enumerate(values)), score=lambda v: v, max_starts=4
    )
    assert calls == [0, 1, 2, 3] and res.best == 0.1 and not res.stopped_early


def test_best_of_starts_skips_failed_starts_and_reports_none():
    res = rl.best_of_starts(
        [lambda: None, lambda: 2.0, lambda: None], score=lambda v: v
    )
    assert res.best == 2.0 and res.index == 1 and res.scores == (np.inf, 2.0, np.inf)
    none = rl.best_of_starts([lambda: None], score=lambda v: v)
    assert none.best is None and none.index == -1
    assert "tried=1" in repr(none)
    with pytest.raises(ValueError, match="max_starts"):
        rl.best_of_starts([lambda: 1.0], score=float, max_starts=0)


def test_bases_have_canonical_signs():
    # LAPACK's sign of a singular or eigenvector depends on the BLAS kernel; the package
    # fixes it (largest entry positive), so random contractions drawn in these
    # coordinates agree everywhere
    g = np.random.default_rng(0)
    M = g.standard_normal((8, 5))
    for B in (
        rl.top_subspace(M, 3),
        rl.top_subspace(-M, 3),
        rl.whitening(M @ M.T, 4).T,
    ):
        idx = np.argmax(np.abs(B), axis=0)
        assert np.all(B[idx, np.arange(B.shape[1])] > 0)
    np.testing.assert_allclose(
        rl.top_subspace(M, 3), rl.top_subspace(-M, 3), atol=1e-12
    )
    truth = rl.planted_network(8, 3, 1, rng=1)
    X, Y = rl.sample(truth, 2_000, rng=2)
    V, _ = rl.second_moment_subspace(X, Y, 3)
    V_neg, _ = rl.second_moment_subspace(
        X, -Y, 3
    )  # eigenvalues negated, eigenvectors up to sign
    idx = np.argmax(np.abs(V), axis=0)
    assert np.all(V[idx, np.arange(3)] > 0)
    np.testing.assert_allclose(V, V_neg, atol=1e-10)


def test_tensor_gd_with_several_starts_recovers_where_one_start_does_not():
    # (d, k) = (10, 4), n = 500: single starts of the paper's algorithm fail on some of
    # these instances (their moments are poor); the best of 4 recovers every one of them
    scalar = cmp.Setting("scalar output", d=10, k=4, m=1, scalar_pm1=True)
    single, multi = 0, 0
    for seed in range(5):
        truth, X, Y = scalar.instance(500, seed)
        one = rl.recover_tensor_gd(X, Y, 4, rng=seed, n_starts=1)
        best = rl.recover_tensor_gd(X, Y, 4, rng=seed)
        single += rl.recovery_error(one, truth).max < 1e-6
        multi += rl.recovery_error(best, truth).max < 1e-6
        starts = best.details["starts"]
        assert starts.n_tried <= 4 and best.details["converged"] == (
            starts.scores[starts.index] == 0.0
        )
    assert single < 5
    assert multi == 5
