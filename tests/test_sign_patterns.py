"""Tests of relulearn.sign_patterns: sign-pattern regression, alternating refinement, the output layer."""

from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_low_rank

import relulearn as rl

D, K, M = 10, 4, 1


_planted = planted_low_rank


def test_sign_pattern_regression_exact_from_a_rough_start():
    # noiseless, patterns fixed on confident samples: labels are linear in W_i = u_i
    # v_i^T; a few rounds correct the wrong patterns of a start 0.3 away from the truth,
    # and the answer is exact (any rank of U, here m = 1).
    for m in (1, 3):
        net = _planted(D, K, m, seed=6)
        c = net.canonical()
        X, Y = rl.sample(net, 20_000, rng=7)
        E = np.random.default_rng(8).standard_normal(c.V.shape)
        V0 = c.V + 0.3 * E / np.linalg.norm(E, axis=1, keepdims=True)
        reg = rl.sign_pattern_regression(
            X, Y, V0, tau=0.1, n_rounds=10, stop_change=1e-12
        )
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


def test_fit_output_layer_exact_without_noise():
    net = rl.planted_network(8, 3, 5, rng=6)
    c = net.canonical()
    X, Y = rl.sample(net, 20_000, rng=7)
    np.testing.assert_allclose(rl.fit_output_layer(X, Y, c.V), c.U, atol=1e-10)


def test_fit_output_layer_validation():
    net = rl.planted_network(6, 2, 3, rng=0)
    X, Y = rl.sample(net, 1_000, rng=0)
    with pytest.raises(ValueError, match="V must be"):
        rl.fit_output_layer(X, Y, np.ones((2, 5)))
    with pytest.raises(rl.RecoveryFailed, match="dependent rows"):
        rl.fit_output_layer(X, Y, np.vstack([net.V[0], net.V[0]]))


def test_fit_output_layer_other_activation_and_exact_labels():
    # the one output-layer least squares serves every learner: exact to round-off for
    # any activation
    net = rl.planted_network(12, 4, 6, rng=3, activation="squared_relu")
    X, Y = rl.sample(net, 100, rng=1003)
    U = rl.fit_output_layer(X, Y, net.V, "squared_relu")
    np.testing.assert_allclose(U, net.U, atol=1e-10)
