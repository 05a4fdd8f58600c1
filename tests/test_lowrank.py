"""Tests of relulearn.lowrank: the learner for output layers of rank below k."""

from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_low_rank

import relulearn as rl

D, K, M = 10, 4, 1


_planted = planted_low_rank


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recover_low_rank_scalar_output_target(seed):
    # the target: (d, k, m) = (10, 4, 1), noiseless, n = 200,000: error below
    # 1e-8, certified
    net = _planted(D, K, M, seed)
    X, Y = rl.sample(net, 200_000, rng=100 + seed)
    rec = rl.recover_low_rank(X, Y, K, rng=seed)
    assert rec.certificate.ok and rec.certificate.reason == ""
    assert rec.residual < 1e-9
    assert rl.recovery_error(rec, net).max < 1e-8
    assert rec.details["rank_Y"] == 1
    assert np.max(rec.certificate.smallest) < 1e-9 < np.min(rec.certificate.next)


def test_recover_low_rank_rank_two_output_and_symmetries():
    net = _planted(12, 4, 5, seed=9, rank=2)
    X, Y = rl.sample(net, 50_000, rng=10)
    rec = rl.recover_low_rank(X, Y, 4, rng=0)
    assert rec.ok and rl.recovery_error(rec, net).max < 1e-8
    assert rec.details["rank_Y"] == 2
    # the same function written with permuted and positively rescaled units gives the
    # same answer
    perm = np.array([2, 0, 3, 1])
    s = np.array([0.5, 2.0, 1.5, 3.0])
    twin = rl.TwoLayerNetwork(net.U[:, perm] / s, net.V[perm] * s[:, None])
    np.testing.assert_allclose(twin(X[:, :100]), Y[:, :100], atol=1e-12)
    rec2 = rl.recover_low_rank(X, twin(X), 4, rng=0)
    assert rec2.ok and rl.recovery_error(rec2, net).max < 1e-8


def test_recover_low_rank_reports_failure_honestly():
    net = _planted(8, 3, 1, seed=11)
    X, Y = rl.sample(net, 30_000, rng=12)
    noisy = Y + 0.01 * np.random.default_rng(13).standard_normal(Y.shape)
    for labels, k, what in [
        (noisy, 3, "residual"),
        (Y, 2, "residual"),
        (Y, 4, "is k too large"),
    ]:
        rec = rl.recover_low_rank(X, labels, k, rng=0, on_failure="return")
        assert rec.status == "failed", (k, what)
        assert what in rec.certificate.reason and rec.reason == rec.certificate.reason
        with pytest.raises(rl.RecoveryFailed, match=what):
            rl.recover_low_rank(X, labels, k, rng=0)
    sq = rl.TwoLayerNetwork(net.U, net.V, "squared_relu")
    rec = rl.recover_low_rank(X, sq(X), 3, rng=0, on_failure="return")
    assert rec.status == "failed" and "residual" in rec.reason


def test_recover_low_rank_validation():
    X, Y = rl.sample(_planted(D, K, M, 0), 2_000, rng=0)
    with pytest.raises(ValueError, match="k=11"):
        rl.recover_low_rank(X, Y, 11)
    with pytest.raises(ValueError, match="at least 2 k d"):
        rl.recover_low_rank(X[:, :50], Y[:, :50], K)
    with pytest.raises(ValueError, match="tol"):
        rl.recover_low_rank(X, Y, K, tol=0.0)
    with pytest.raises(TypeError, match="k must be an int"):
        rl.recover_low_rank(X, Y, 2.0)


def test_recover_low_rank_small_samples():
    # far below the moment route's needs, the certified restarts still find the exact
    # network
    for seed in range(3):
        net = _planted(10, 4, 1, seed=100 + seed)
        X, Y = rl.sample(net, 2_000, rng=200 + seed)
        rec = rl.recover_low_rank(X, Y, 4, rng=seed)
        assert rec.ok and rl.recovery_error(rec, net).max < 1e-8


def test_reprs_are_short():
    net = _planted(D, K, M, seed=0)
    X, Y = rl.sample(net, 5_000, rng=0)
    rec = rl.recover_low_rank(X, Y, K, rng=0)
    for obj in (rec, rec.details["low_rank_estimate"], rec.details["regression"]):
        text = repr(obj)
        assert "0x" not in text and "array" not in text and len(text) < 300
    empty = rl.RegressionResult(
        net.U, net.V, np.zeros(0, int), np.zeros(0), np.zeros(K)
    )
    assert repr(empty) == "RegressionResult(d=10, k=4, m=1, rounds=0)"
