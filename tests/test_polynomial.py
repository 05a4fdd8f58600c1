"""Tests for relulearn.polynomial: least squares on monomial features."""

from __future__ import annotations

import math

import numpy as np
import pytest

import relulearn as rl


def test_polynomial_regression_recovers_planted_polynomial():
    rng = np.random.default_rng(0)
    X = rl.UniformSphere().sample(4, 300, rng=rng)
    Z = X / 2.0
    y = 1.0 + 2 * Z[0] * Z[1] - Z[2] ** 3 + 0.5 * Z[3]
    fit = rl.fit_polynomial(X, y, 3)
    assert fit.n_features == math.comb(7, 3)
    Xt = rl.UniformSphere().sample(4, 50, rng=1)
    Zt = Xt / 2.0
    yt = 1.0 + 2 * Zt[0] * Zt[1] - Zt[2] ** 3 + 0.5 * Zt[3]
    assert np.max(np.abs(fit(Xt) - yt)) < 1e-10
    assert fit.train_mse < 1e-20
    ridge = rl.fit_polynomial(X, y[None, :], 3, ridge=1e-3)
    assert 0 < ridge.train_mse < 1e-2
    assert "0x" not in repr(fit) and "degree=3" in repr(fit)


def test_polynomial_regression_on_random_network_reaches_prediction():
    # depth 2, width 256, d = 6, D = 2: test MSE within 5 standard errors (over test
    # points) plus a 5 / width finite-width allowance of err*(2), averaged over 3
    # networks
    nr = rl.normalize_activation("relu")
    pred = rl.best_polynomial_error(lambda t: rl.dual_activation(nr, t), 6, 2)
    mses = []
    for s in range(3):
        net = rl.random_deep_network(6, 256, rng=s)
        X = rl.UniformSphere().sample(6, 3000, rng=10 + s)
        Xt = rl.UniformSphere().sample(6, 2000, rng=20 + s)
        fit = rl.fit_polynomial(X, net(X), 2)
        mses.append(np.mean((fit(Xt) - net(Xt)) ** 2))
    # across-network spread dominates; 5 standard errors of the mean over networks,
    # floor 20 %
    mses = np.array(mses)
    assert abs(mses.mean() - pred) < max(
        5 * mses.std(ddof=1) / math.sqrt(3), 0.2 * pred
    )


def test_polynomial_input_validation_names_the_argument():
    with pytest.raises(ValueError, match="ridge"):
        rl.fit_polynomial(np.ones((2, 10)), np.ones(10), 1, ridge=-1.0)
    with pytest.raises(ValueError, match="samples"):
        rl.fit_polynomial(np.ones((3, 5)), np.ones(5), 3)
