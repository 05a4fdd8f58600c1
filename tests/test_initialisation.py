"""Tests of relulearn.initialisation: the moment initialisation (span, Jennrich, scales and signs)."""

from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_low_rank

import relulearn as rl

D, K, M = 10, 4, 1


_planted = planted_low_rank


def test_hidden_span_obeys_davis_kahan():
    # T2 = E[y (xx^T - I)] = phi0 sum_i u~_i v_i v_i^T has rank k even for m = 1; its
    # top-k eigenspace is the span.
    net = _planted(D, K, M, seed=3)
    c = net.canonical()
    X, Y = rl.sample(net, 100_000, rng=4)
    n = X.shape[1]
    T2_hat = (X * Y[0]) @ X.T / n - Y.mean() * np.eye(D)
    T2 = rl.PHI0 * (c.V.T * c.U[0]) @ c.V
    # every entry within 5 standard errors, estimated from the per-sample values y_j
    # (x_j x_j^T - I)
    per = np.einsum("an,bn,n->nab", X, X, Y[0]) - Y[0][:, None, None] * np.eye(D)
    np.testing.assert_allclose(per.mean(axis=0), T2_hat, atol=1e-12)
    assert np.all(np.abs(T2_hat - T2) <= 5 * per.std(axis=0) / np.sqrt(n))
    P = rl.hidden_span(X, Y, K)
    np.testing.assert_allclose(P.T @ P, np.eye(K), atol=1e-12)
    # Davis-Kahan: sin(angle) of the span <= ||T2_hat - T2||_2 / (sigma_k(T2) - ||T2_hat
    # - T2||_2)
    err = np.linalg.norm(T2_hat - T2, 2)
    sk = np.sort(np.abs(np.linalg.eigvalsh(T2)))[::-1][K - 1]
    sin = np.linalg.norm(c.V.T - P @ (P.T @ c.V.T), 2)
    assert sin <= err / (sk - err)


def test_decompose_moment_pair_exact_on_population_tensors():
    rng = np.random.default_rng(5)
    k = 4
    B = rng.standard_normal((k, k))
    B /= np.linalg.norm(B, axis=0)
    a = rng.standard_normal(k)
    T4 = np.einsum("i,ai,bi,ci,di->abcd", a, B, B, B, B)
    T2 = (B * (-a)) @ B.T
    comps, fits, _gaps = rl.decompose_moment_pair(T4, T2, k, rng=0, n_draws=4)
    assert comps.shape == (4, k, k) and np.all(np.diff(fits) >= 0)
    assert fits[0] < 1e-10
    C = np.abs(comps[0].T @ B)
    assert np.allclose(np.sort(C.max(axis=0)), 1.0, atol=1e-10)


def test_decompose_moment_pair_validation():
    with pytest.raises(ValueError, match="T4 must be a 4-d array"):
        rl.decompose_moment_pair(np.zeros((2, 2, 2)), np.eye(2), 2)


def _instance(d, k, m, n, seed, activation="relu"):
    net = rl.planted_network(d, k, m, rng=seed, activation=activation)
    X, Y = rl.sample(net, n, rng=1000 + seed)
    return net, X, Y


def test_moment_estimate_approximates_directions_at_large_n():
    net, X, Y = _instance(8, 3, 5, 100_000, 2)
    est = rl.moment_estimate(X, Y, 3, rng=0)
    Vb = net.V / np.linalg.norm(net.V, axis=1, keepdims=True)
    C = est.directions @ Vb.T
    # each estimated direction is close (with its sign) to a distinct true one; the
    # estimation error is O(sqrt(d/n)) ~ 0.01 here, 0.1 leaves room for Jennrich's
    # conditioning
    assert np.all(np.max(C, axis=1) > 0.9)
    assert len(set(np.argmax(C, axis=1))) == 3
    assert "MomentEstimate(d=8" in repr(est)
