"""The gradient-training baseline."""

import numpy as np
import pytest

import relulearn as rl


@pytest.mark.parametrize("activation", ["relu", "squared_relu", "tanh"])
def test_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 30)), rng.standard_normal((2, 30))
    U, V = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    L, gU, gV = rl.loss_gradients(U, V, X, Y, activation)
    assert L == pytest.approx(rl.squared_loss(U, V, X, Y, activation))
    h = 1e-6
    for A, g in ((U, gU), (V, gV)):
        num = np.zeros_like(A)
        for idx in np.ndindex(A.shape):
            A[idx] += h
            lp = rl.squared_loss(U, V, X, Y, activation)
            A[idx] -= 2 * h
            lm = rl.squared_loss(U, V, X, Y, activation)
            A[idx] += h
            num[idx] = (lp - lm) / (2 * h)
        np.testing.assert_allclose(g, num, atol=1e-6)


@pytest.mark.parametrize("method", ["gd", "adam"])
def test_training_from_near_the_truth_recovers_it(method):
    net = rl.planted_network(6, 3, 2, rng=1)
    X, Y = rl.sample(net, 800, rng=2)
    rng = np.random.default_rng(3)
    init = (net.U + 0.05 * rng.standard_normal(net.U.shape), net.V + 0.05 * rng.standard_normal(net.V.shape))
    rec = rl.train(X, Y, 3, rng=4, method=method, init=init, max_iter=5000)
    assert rec.details["converged"]
    assert rec.residual < 1e-6
    assert rl.recovery_error(rec, net).max < 1e-4


def test_full_batch_gd_never_increases_the_loss():
    net = rl.planted_network(5, 3, 1, rng=5)
    X, Y = rl.sample(net, 300, rng=6)
    rec = rl.train(X, Y, 3, rng=7, method="gd", max_iter=300)
    assert np.all(np.diff(rec.history) <= 0)


def test_minibatch_adam_and_fixed_output_layer():
    net = rl.planted_network(5, 2, 1, rng=8)
    X, Y = rl.sample(net, 2000, rng=9)
    U0, V0 = net.U.copy(), 0.5 * net.V + 0.1
    rec = rl.train(X, Y, 2, rng=10, batch_size=100, max_iter=30, init=(U0, V0), train_U=False)
    np.testing.assert_array_equal(rec.network.U, U0)
    start = rl.squared_loss(U0, V0, X, Y)
    assert rec.history[-1] < 0.1 * start


def test_some_random_starts_recover_and_some_stall():
    # the claim of chapter 1: from random initialisations, training sometimes recovers a planted
    # network and sometimes stalls at a loss far from zero
    net = rl.planted_network(8, 6, 2, rng=1)
    X, Y = rl.sample(net, 1000, rng=2)
    errors = [rl.recovery_error(rl.train(X, Y, 6, rng=s, max_iter=3000), net).max for s in range(8)]
    assert min(errors) < 1e-4
    assert max(errors) > 0.1


def test_train_validates_its_input():
    X, Y = np.ones((3, 10)), np.ones((1, 10))
    with pytest.raises(ValueError, match="k=4 hidden units exceeds the input dimension d=3"):
        rl.train(X, Y, 4, rng=0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        rl.train(X, Y, 0, rng=0)
    with pytest.raises(TypeError, match="k must be an int"):
        rl.train(X, Y, 2.5, rng=0)
    with pytest.raises(ValueError, match="Y must have one column per sample of X"):
        rl.train(X, np.ones((1, 9)), 2, rng=0)
    Xnan = X.copy()
    Xnan[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        rl.train(Xnan, Y, 2, rng=0)
    with pytest.raises(ValueError, match="method must be"):
        rl.train(X, Y, 2, rng=0, method="lbfgs")
    with pytest.raises(ValueError, match="train_U=False needs"):
        rl.train(X, Y, 2, rng=0, train_U=False)
    with pytest.raises(ValueError, match="init must have U0 of shape"):
        rl.train(X, Y, 2, rng=0, init=(np.ones((2, 2)), np.ones((2, 3))))
    rec = rl.train(X, np.ones(10), 1, rng=0, max_iter=5)
    assert rec.network.U.shape == (1, 1)
