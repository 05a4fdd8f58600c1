"""Tests of relulearn.lowrank: output layers of rank below k (spec recovery_gaussian.md §2, §4)."""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl

D, K, M = 10, 4, 1


def _planted(d, k, m, seed, rank=None):
    net = rl.planted_network(d, k, m, rng=seed)
    if rank is not None:  # an output layer of the given rank
        g = np.random.default_rng(seed + 1000)
        net = rl.TwoLayerNetwork(g.standard_normal((m, rank)) @ g.standard_normal((rank, k)), net.V)
    return net


def _he4_per_sample(Z):
    """He4(z) for each column of Z (k, n), as an (n, k, k, k, k) array (small k only; test reference)."""
    k = Z.shape[0]
    eye = np.eye(k)
    z = Z.T
    z4 = np.einsum("na,nb,nc,nd->nabcd", z, z, z, z)
    zz = np.einsum("na,nb->nab", z, z)
    two = sum(
        np.einsum(spec, zz, eye)
        for spec in (
            "nab,cd->nabcd",
            "nac,bd->nabcd",
            "nad,bc->nabcd",
            "nbc,ad->nabcd",
            "nbd,ac->nabcd",
            "ncd,ab->nabcd",
        )
    )
    zero = np.einsum("ab,cd->abcd", eye, eye) + np.einsum("ac,bd->abcd", eye, eye) + np.einsum("ad,bc->abcd", eye, eye)
    return z4 - two + zero[None]


def test_projected_hermite4_matches_closed_form():
    # E[y He4(z)] = -phi0 sum_i u~_i b_i^(x)4 for z = P^T x, P an orthonormal basis of the span of V* (spec §2).
    net = _planted(6, 2, 1, seed=1)
    c = net.canonical()
    P = np.linalg.qr(c.V.T)[0]
    X, Y = rl.sample(net, 200_000, rng=2)
    Z = P.T @ X
    est = rl.projected_hermite4(Z, Y[0])
    B = P.T @ c.V.T
    pop = -rl.PHI0 * np.einsum("i,ai,bi,ci,di->abcd", c.U[0], B, B, B, B)
    # tolerance: 5 standard errors of the mean, per entry, estimated from the per-sample values y_j He4(z_j)
    per = Y[0][:, None, None, None, None] * _he4_per_sample(Z)
    se = per.std(axis=0) / np.sqrt(Z.shape[1])
    assert np.all(np.abs(est - pop) <= 5 * se)
    # and the estimator is the mean of the per-sample values to round-off
    np.testing.assert_allclose(est, per.mean(axis=0), atol=1e-12)


def test_hidden_span_obeys_davis_kahan():
    # T2 = E[y (xx^T - I)] = phi0 sum_i u~_i v_i v_i^T has rank k even for m = 1; its top-k eigenspace is the span.
    net = _planted(D, K, M, seed=3)
    c = net.canonical()
    X, Y = rl.sample(net, 100_000, rng=4)
    n = X.shape[1]
    T2_hat = (X * Y[0]) @ X.T / n - Y.mean() * np.eye(D)
    T2 = rl.PHI0 * (c.V.T * c.U[0]) @ c.V
    # every entry within 5 standard errors, estimated from the per-sample values y_j (x_j x_j^T - I)
    per = np.einsum("an,bn,n->nab", X, X, Y[0]) - Y[0][:, None, None] * np.eye(D)
    np.testing.assert_allclose(per.mean(axis=0), T2_hat, atol=1e-12)
    assert np.all(np.abs(T2_hat - T2) <= 5 * per.std(axis=0) / np.sqrt(n))
    P = rl.hidden_span(X, Y, K)
    np.testing.assert_allclose(P.T @ P, np.eye(K), atol=1e-12)
    # Davis-Kahan: sin(angle) of the span <= ||T2_hat - T2||_2 / (sigma_k(T2) - ||T2_hat - T2||_2)
    err = np.linalg.norm(T2_hat - T2, 2)
    sk = np.sort(np.abs(np.linalg.eigvalsh(T2)))[::-1][K - 1]
    sin = np.linalg.norm(c.V.T - P @ (P.T @ c.V.T), 2)
    assert sin <= err / (sk - err)


def test_decompose_projected_moments_exact_on_population_tensors():
    rng = np.random.default_rng(5)
    k = 4
    B = rng.standard_normal((k, k))
    B /= np.linalg.norm(B, axis=0)
    a = rng.standard_normal(k)
    T4 = np.einsum("i,ai,bi,ci,di->abcd", a, B, B, B, B)
    T2 = (B * (-a)) @ B.T
    comps, fits, _gaps = rl.decompose_projected_moments(T4, T2, k, rng=0, n_draws=4)
    assert comps.shape == (4, k, k) and np.all(np.diff(fits) >= 0)
    assert fits[0] < 1e-10
    C = np.abs(comps[0].T @ B)
    assert np.allclose(np.sort(C.max(axis=0)), 1.0, atol=1e-10)


def test_sign_pattern_regression_exact_from_a_rough_start():
    # noiseless, patterns fixed on confident samples: labels are linear in W_i = u_i v_i^T; a few rounds correct
    # the wrong patterns of a start 0.3 away from the truth, and the answer is exact (any rank of U, here m = 1).
    for m in (1, 3):
        net = _planted(D, K, m, seed=6)
        c = net.canonical()
        X, Y = rl.sample(net, 20_000, rng=7)
        E = np.random.default_rng(8).standard_normal(c.V.shape)
        V0 = c.V + 0.3 * E / np.linalg.norm(E, axis=1, keepdims=True)
        reg = rl.sign_pattern_regression(X, Y, V0, tau=0.1, n_rounds=10, stop_change=1e-12)
        assert rl.recovery_error(reg.network, net).max < 1e-9
        assert reg.changes[0] > 0.1 and reg.changes[-1] <= 1e-12
        assert np.all(reg.n_confident >= 4 * K * D)


def test_sign_pattern_regression_validation():
    X, Y = rl.sample(_planted(D, K, M, 0), 500, rng=0)
    with pytest.raises(ValueError, match="V_est"):
        rl.sign_pattern_regression(X, Y, np.ones((K, D + 1)))
    with pytest.raises(ValueError, match="V_est has zero rows"):
        rl.sign_pattern_regression(X, Y, np.zeros((K, D)))
    with pytest.raises(ValueError, match="tau"):
        rl.sign_pattern_regression(X, Y, np.ones((K, D)), tau=1.5)
    with pytest.raises(ValueError, match="n_rounds"):
        rl.sign_pattern_regression(X, Y, np.ones((K, D)), n_rounds=0)
    with pytest.raises(ValueError, match="Y must have one column per sample"):
        rl.sign_pattern_regression(X, Y[:, :10], np.ones((K, D)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recover_low_rank_scalar_output_target(seed):
    # the target: (d, k, m) = (10, 4, 1), noiseless, n = 200,000: error below 1e-8, certified
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
    # the same function written with permuted and positively rescaled units gives the same answer
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
    for labels, k, what in [(noisy, 3, "residual"), (Y, 2, "residual"), (Y, 4, "is k too large")]:
        rec = rl.recover_low_rank(X, labels, k, rng=0)
        assert not rec.ok, (k, what)
        assert what in rec.certificate.reason
    sq = rl.TwoLayerNetwork(net.U, net.V, "squared_relu")
    rec = rl.recover_low_rank(X, sq(X), 3, rng=0)
    assert not rec.ok and "residual" in rec.certificate.reason


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
    with pytest.raises(ValueError, match="y must be scalar"):
        rl.projected_hermite4(X[:2], np.vstack([Y, Y]))
    with pytest.raises(ValueError, match="T4 must be a 4-d array"):
        rl.decompose_projected_moments(np.zeros((2, 2, 2)), np.eye(2), 2)


def test_recover_low_rank_small_samples():
    # far below the moment route's needs, the certified restarts still find the exact network
    for seed in range(3):
        net = _planted(10, 4, 1, seed=100 + seed)
        X, Y = rl.sample(net, 2_000, rng=200 + seed)
        rec = rl.recover_low_rank(X, Y, 4, rng=seed)
        assert rec.ok and rl.recovery_error(rec, net).max < 1e-8


def test_reprs_are_short():
    net = _planted(D, K, M, seed=0)
    X, Y = rl.sample(net, 5_000, rng=0)
    rec = rl.recover_low_rank(X, Y, K, rng=0)
    for obj in (rec, rec.details["moment_estimate"], rec.details["regression"]):
        text = repr(obj)
        assert "0x" not in text and "array" not in text and len(text) < 300
    empty = rl.RegressionResult(net.U, net.V, np.zeros(0, int), np.zeros(0), np.zeros(K))
    assert repr(empty) == "RegressionResult(d=10, k=4, m=1, rounds=0)"
