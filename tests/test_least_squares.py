"""Tests of relulearn.least_squares: the local least-squares estimate (Levenberg-Marquardt)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import relulearn as rl


def _iid_instance(d, k, m, n, seed, level=0.5, activation="relu"):
    """U*, V* with i.i.d. N(0, 1) entries (the setting of issue 16), Gaussian X, Gaussian label noise."""
    g = np.random.default_rng([16, seed, n])
    net = rl.TwoLayerNetwork(
        g.standard_normal((m, k)), g.standard_normal((k, d)), activation
    )
    X = g.standard_normal((d, n))
    Yc = net(X)
    sd = level * float(np.sqrt(np.mean(Yc**2)))
    return net, X, Yc + sd * g.standard_normal(Yc.shape)


def _loss(net, X, Y):
    return float(np.sum((Y - net(X)) ** 2))


def test_noiseless_start_near_truth_converges_to_exact_fit():
    # zero residual at the truth: from a start 5% off, Levenberg-Marquardt reaches
    # round-off and says so
    net, X, Y = _iid_instance(8, 3, 4, 4_000, seed=1, level=0.0)
    g = np.random.default_rng(2)
    start = (
        np.array(net.U) * (1 + 0.05 * g.standard_normal(net.U.shape)),
        np.array(net.V) + 0.05 * g.standard_normal(net.V.shape),
    )
    fit = rl.local_least_squares(X, Y, start)
    assert fit.stop_reason == "exact fit" and fit.converged and fit.residual <= 1e-14
    assert rl.recovery_error(fit.network, net).max < 1e-10
    # the history is the relative residual after each accepted step: it never increases
    assert np.all(np.diff(fit.history) <= 0) and fit.history[-1] == pytest.approx(
        fit.residual, rel=1e-6, abs=1e-15
    )


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "softplus"])
def test_other_activations_noiseless_exact(activation):
    # any activation with a derivative: Gauss-Newton (tanh, softplus) or the exact
    # Hessian between kinks (leaky ReLU)
    net, X, Y = _iid_instance(6, 2, 3, 3_000, seed=3, level=0.0, activation=activation)
    g = np.random.default_rng(4)
    start = rl.TwoLayerNetwork(
        np.array(net.U) + 0.03 * g.standard_normal(net.U.shape),
        np.array(net.V) + 0.03 * g.standard_normal(net.V.shape),
        activation,
    )
    fit = rl.local_least_squares(X, Y, start)
    assert fit.network.activation == net.activation
    assert fit.residual <= 1e-10, fit


def test_noisy_fit_is_a_local_minimum_below_the_truth():
    # with noise the local least-squares fit from the truth has a residual below the
    # truth's (it is a descent method), and no small perturbation of it decreases the
    # loss (a local minimum up to its tolerance)
    net, X, Y = _iid_instance(8, 3, 4, 2_000, seed=5)
    fit = rl.local_least_squares(X, Y, net)
    assert fit.converged
    assert _loss(fit.network, X, Y) < _loss(net, X, Y)
    best = _loss(fit.network, X, Y)
    g = np.random.default_rng(6)
    U, V = np.array(fit.network.U), np.array(fit.network.V)
    for _ in range(20):
        pert = rl.TwoLayerNetwork(
            U + 1e-3 * g.standard_normal(U.shape), V + 1e-3 * g.standard_normal(V.shape)
        )
        assert _loss(pert, X, Y) >= best * (1 - 1e-9)


def test_oracle_error_falls_like_one_over_sqrt_n():
    # the local least-squares estimate is a parametric M-estimate: its error falls like
    # n^-1/2. Median over 5 instances at n = 2,000, 8,000, 32,000: each factor 4 in n
    # halves the error, up to the spread of a median of 5 (the slope is checked in
    # [-0.65, -0.35], the band of the learners' rate tests)
    ns = [2_000, 8_000, 32_000]
    med = []
    for n in ns:
        errs = []
        for seed in range(5):
            net, X, Y = _iid_instance(8, 3, 4, n, seed)
            errs.append(
                rl.recovery_error(
                    rl.local_least_squares(X, Y, net).network, net, n_test=0
                ).weights
            )
        med.append(np.median(errs))
    assert -0.65 <= rl.loglog_slope(ns, med) <= -0.35, med


def test_streams_over_chunks():
    # the result does not depend on how the samples are chunked beyond round-off (the
    # Gauss-Newton matrix is a sum over chunks; here n spans several chunks of the
    # cache-sized budget)
    net, X, Y = _iid_instance(8, 3, 4, 40_000, seed=7)
    fit = rl.local_least_squares(X, Y, net)
    rev = rl.local_least_squares(X[:, ::-1], Y[:, ::-1], net)
    assert rl.recovery_error(fit.network, rev.network, n_test=0).weights < 1e-5


def test_validation():
    net, X, Y = _iid_instance(6, 2, 3, 200, seed=0)
    with pytest.raises(TypeError, match="start must be"):
        rl.local_least_squares(X, Y, np.ones((3, 2)))
    with pytest.raises(ValueError, match="start has U0"):
        rl.local_least_squares(X, Y, (np.ones((3, 2)), np.ones((2, 5))))
    with pytest.raises(ValueError, match="start has U0"):
        rl.local_least_squares(X, Y[:2], net)
    with pytest.raises(ValueError, match="ftol"):
        rl.local_least_squares(X, Y, net, ftol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        rl.local_least_squares(X, Y, net, max_iter=0)
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        rl.local_least_squares(Xn, Y, net)
    with pytest.raises(TypeError, match="complex"):
        rl.local_least_squares(X.astype(complex), Y, net)
    assert "LeastSquaresFit(residual=" in repr(
        rl.local_least_squares(X, Y, net, max_iter=2)
    )


def test_quadratic_model_matches_finite_differences_and_a_dense_solve():
    # the model's gradient and Hessian (exact between kinks for ReLU) against the loss
    # itself: for a step small enough that few samples cross a kink the decrease is
    # predicted to 1%; and the damped step, solved by eliminating U, equals the dense
    # solve of the whole (m k + k d) system
    from relulearn import least_squares as lsq

    net, X, Y = _iid_instance(8, 3, 4, 3_000, seed=9)
    act = rl.get_activation("relu")
    U, V = np.array(net.U) * 1.05, np.array(net.V) + 0.02
    model = lsq._QuadraticModel(X, Y, U, V, act)
    g = np.random.default_rng(10)
    dU, dV = 1e-5 * g.standard_normal(U.shape), 1e-5 * g.standard_normal(V.shape)
    actual = (lsq._loss(X, Y, U, V, act) - lsq._loss(X, Y, U + dU, V + dV, act)) / 2
    assert model.decrease(dU, dV) == pytest.approx(actual, rel=1e-2)
    m, k, d = model.shape
    pu, kd, lam = m * k, k * d, 1e-2
    H = np.zeros((pu + kd, pu + kd))
    for j in range(m):
        H[j * k : (j + 1) * k, j * k : (j + 1) * k] = model.K + lam * np.diag(model.dK)
    Mf = model.Mt.transpose(1, 0, 2).reshape(pu, kd)
    H[:pu, pu:], H[pu:, :pu] = Mf, Mf.T
    H[pu:, pu:] = model.fixed + lam * np.diag(model.dV)
    dense = np.linalg.solve(H, np.concatenate([model.gUt.T.ravel(), model.gV]))
    sU, sV = model.damped_step(lam)
    np.testing.assert_allclose(
        np.concatenate([sU.ravel(), sV.ravel()]),
        dense,
        atol=1e-12 * np.abs(dense).max(),
    )


def test_gauss_newton_matrix_by_sign_pattern_and_by_update_equal_the_direct_sum():
    # two shortcuts for G = sum D_l D_l' x x^T (ReLU): summed per sign pattern when k d
    # is large (here k d = 500), and updated only on the samples whose signs changed
    # since the previous model
    from relulearn import least_squares as lsq

    net = rl.planted_network(50, 10, 10, rng=0)
    X = np.random.default_rng(1).standard_normal((50, 12_000))
    Y = net(X)
    act = rl.get_activation("relu")
    U, V = np.array(net.U), np.array(net.V)

    def direct(V):
        Zx = ((V @ X > 0)[:, None, :] * X[None, :, :]).reshape(500, -1)
        return Zx @ Zx.T

    first = lsq._QuadraticModel(X, Y, U, V, act)
    G = direct(V)
    assert np.abs(first.G - G).max() <= 1e-12 * np.abs(G).max()
    V2 = V + 0.01 * np.random.default_rng(2).standard_normal(V.shape)
    second = lsq._QuadraticModel(X, Y, U, V2, act, first)
    G2 = direct(V2)
    assert (
        0 < np.abs(G2 - G).max()
        and np.abs(second.G - G2).max() <= 1e-12 * np.abs(G2).max()
    )


def test_a_start_where_every_step_is_rejected_stops_without_overflow():
    # From the truth with small noise, Marquardt's damping grows on every rejected step;
    # without a cap it overflowed (a RuntimeWarning from the library) on one of these
    # instances. It must stop cleanly instead.
    for seed in range(3):
        truth = rl.planted_network(10, 4, 6, rng=seed)
        data = rl.sample(truth, 5000, rng=seed)
        xi = np.random.default_rng(100 + seed).standard_normal(data.Y_clean.shape)
        rms = float(np.sqrt(np.mean(data.Y_clean**2)))
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            fit = rl.local_least_squares(data.X, data.Y_clean + 0.02 * rms * xi, truth)
        assert fit.converged and fit.stop_reason in ("converged", "stationary")
        assert rl.recovery_error(fit.network, truth).max < 0.01
