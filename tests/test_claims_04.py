"""The claims chapter 4 (noise, and output layers of low rank) computes: the variance the noise adds to the
moments (ch4-prop-unbiased, part 2), and least squares on fixed sign patterns
(ch4-thm-sign-patterns): exact without noise for any rank of U*, unbiased given right
patterns chosen without the noise, biased otherwise.

Monte Carlo tolerances: a mean of R i.i.d. draws is compared with its expectation within
4.5 standard errors (the standard error estimated from the same draws). For a single
Gaussian-like statistic that fails a correct implementation with probability about 7e-6;
over the at most 40 entries compared at once, about 3e-4. Every draw is seeded, so the
tests are deterministic; the bound says how unlikely the chosen seeds were to be lucky.
"""

from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_low_rank

import relulearn as rl

TAU = 0.1
Z_MAX = 4.5


def _unit_rows(V):
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def _rows_at_distance(V_bar, delta, seed):
    """Unit rows at Euclidean distance ``delta`` from the unit rows ``V_bar`` (as in the chapter)."""
    Z = np.random.default_rng(seed).standard_normal(V_bar.shape)
    Z -= np.sum(Z * V_bar, axis=1, keepdims=True) * V_bar
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    c = 1 - delta**2 / 2
    return c * V_bar + np.sqrt(1 - c**2) * Z


def _wrong_on_J(X, V_hat, V_bar, tau=TAU):
    """(number of samples in J, number of them with a wrong sign pattern)."""
    in_J = np.abs(V_hat @ X).min(axis=0) > tau * np.linalg.norm(X, axis=0)
    wrong = np.any((V_hat @ X > 0) != (V_bar @ X > 0), axis=0) & in_J
    return int(in_J.sum()), int(wrong.sum())


def _blocks(reg):
    """The blocks W_i = U_i V_i^T of a scalar-output regression result, one row per unit (exact for m = 1)."""
    return reg.U[0][:, None] * reg.V


# ---------------------------------------------------------------------------------------------------------------
# ch4-prop-unbiased
# ---------------------------------------------------------------------------------------------------------------


def _noisy_fits(data, V_hat, sigma, R, *, seed):
    """The blocks of R sign-pattern fits to the clean labels plus independent noise draws of sd sigma."""
    return np.array(
        [
            _blocks(
                rl.sign_pattern_regression(
                    data.X,
                    data.Y_clean
                    + sigma
                    * np.random.default_rng(seed + r).standard_normal(
                        data.Y_clean.shape
                    ),
                    V_hat,
                    tau=TAU,
                    n_rounds=1,
                )
            )
            for r in range(R)
        ]
    )


def test_noise_leaves_M1_unbiased_and_adds_m_sigma2_d_over_n():
    # R independent replications of M1_hat = Y X^T / n with n samples each, noise sd
    # sigma per entry
    d, k, m, n, R, sigma = 4, 2, 2, 100, 4000, 1.0
    net = rl.planted_network(d, k, m, rng=0)
    M1 = 0.5 * net.U @ net.V
    X = rl.Gaussian().sample(d, n * R, rng=1)
    G = net(X)
    Y = G + sigma * np.random.default_rng(2).standard_normal(G.shape)
    Xr = X.reshape(d, R, n)
    M1_hats = np.einsum("mrn,drn->rmd", Y.reshape(m, R, n), Xr) / n
    # part 1: every entry of the mean of the R estimates within Z_MAX standard errors of
    # M1
    dev = M1_hats - M1
    z = np.abs(dev.mean(axis=0)) / (dev.std(axis=0, ddof=1) / np.sqrt(R))
    assert z.max() < Z_MAX
    # part 2: E||M1_hat - M1||^2 = (E||g||^2 ||x||^2 - ||M1||^2 + m sigma^2 d) / n, with
    # E||g||^2 ||x||^2 from an independent clean sample (its standard error enters the
    # tolerance)
    Xc = rl.Gaussian().sample(d, 400_000, rng=3)
    prod = np.sum(net(Xc) ** 2, axis=0) * np.sum(Xc**2, axis=0)
    pred = (prod.mean() - np.sum(M1**2) + m * sigma**2 * d) / n
    pred_se = prod.std(ddof=1) / np.sqrt(prod.size) / n
    sq = np.sum(dev**2, axis=(1, 2))
    tol = Z_MAX * np.hypot(sq.std(ddof=1) / np.sqrt(R), pred_se)
    assert abs(sq.mean() - pred) < tol
    # the test can fail: the same formula without the noise term is rejected
    assert abs(sq.mean() - (pred - m * sigma**2 * d / n)) > tol


def test_expected_squared_norm_of_the_second_hermite_feature_is_d2_plus_d():
    # exercise ch4-ex-variance: E||x x^T - I||_F^2 = d^2 + d
    d, N = 5, 200_000
    X = rl.Gaussian().sample(d, N, rng=4)
    x2 = np.sum(X**2, axis=0)
    vals = x2**2 - 2 * x2 + d  # ||x x^T - I||_F^2 = ||x||^4 - 2 ||x||^2 + d
    assert abs(vals.mean() - (d * d + d)) < Z_MAX * vals.std(ddof=1) / np.sqrt(N)


# ---------------------------------------------------------------------------------------------------------------
# ch4-thm-sign-patterns
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "rank", "seed"), [(1, None, 0), (1, None, 1), (3, 1, 2), (5, 2, 3)]
)
def test_right_patterns_within_tau_and_exact_least_squares_for_any_rank(m, rank, seed):
    # parts 1 and 2: rows within tau of the planted unit rows give right patterns on J,
    # and one least-squares round on noiseless labels is exact whatever rank(U*) is
    net = planted_low_rank(10, 4, m, seed, rank=rank)
    V_bar = _unit_rows(net.V)
    X, Y = rl.sample(net, 3_000, rng=10 + seed)
    for delta in (0.02, TAU):
        V_hat = _rows_at_distance(V_bar, delta, seed + 20)
        n_J, n_wrong = _wrong_on_J(X, V_hat, V_bar)
        assert n_J > 4 * 4 * 10 and n_wrong == 0
        reg = rl.sign_pattern_regression(X, Y, V_hat, tau=TAU, n_rounds=1)
        assert rl.recovery_error(reg.network, net, n_test=0).max < 1e-9
        np.testing.assert_allclose(
            reg.V, V_bar, atol=1e-9
        )  # b with b . v_hat > 0 is the planted unit row


def test_least_squares_unbiased_with_the_covariance_of_the_theorem():
    # part 3: V_hat fixed (independent of the noise), patterns right on J: over R noise
    # draws the mean of W_hat is W*, and each entry's variance is sigma^2 [(Psi_J
    # Psi_J^T)^{-1}]_aa (Psi_J: the features on J)
    net = rl.planted_network(10, 4, 1, rng=3)
    V_bar = _unit_rows(net.V)
    W_star = _blocks(
        rl.sign_pattern_regression(
            *rl.sample(net, 2_000, rng=4), V_bar, tau=TAU, n_rounds=1
        )
    )
    np.testing.assert_allclose(W_star, net.U[0][:, None] * net.V, atol=1e-12)
    data = rl.sample(net, 2_000, rng=4)
    V_hat = _rows_at_distance(V_bar, 0.05, 5)
    assert _wrong_on_J(data.X, V_hat, V_bar)[1] == 0
    sigma = 0.2 * np.sqrt(np.mean(data.Y_clean**2))
    R = 300
    W = _noisy_fits(data, V_hat, sigma, R, seed=100)
    z = np.abs(W.mean(axis=0) - W_star) / (W.std(axis=0, ddof=1) / np.sqrt(R))
    assert z.max() < Z_MAX
    # covariance: the empirical variance of R draws has relative standard error sqrt(2 /
    # (R - 1)) = 0.08
    X = data.X
    in_J = np.abs(V_hat @ X).min(axis=0) > TAU * np.linalg.norm(X, axis=0)
    XJ = X[:, in_J]
    Phi = ((V_hat @ XJ > 0)[:, None, :] * XJ[None, :, :]).reshape(4 * 10, -1)
    var_pred = sigma**2 * np.diag(np.linalg.inv(Phi @ Phi.T)).reshape(4, 10)
    ratio = W.var(axis=0, ddof=1) / var_pred
    assert np.all(np.abs(ratio - 1) < Z_MAX * np.sqrt(2 / (R - 1)))


def test_wrong_patterns_bias_does_not_average_out():
    # part 4: with rows at distance 0.3 > tau some patterns on J are wrong; the mean of
    # the noisy fits is the fit to the clean labels, which is off W* by an amount that
    # does not shrink with n
    net = rl.planted_network(10, 4, 1, rng=3)
    V_bar = _unit_rows(net.V)
    W_star = net.U[0][:, None] * net.V
    V_hat = _rows_at_distance(V_bar, 0.3, 5)
    biases = []
    for n in (4_000, 64_000):
        X, Y = rl.sample(net, n, rng=4)
        assert _wrong_on_J(X, V_hat, V_bar)[1] > 0
        W_clean = _blocks(rl.sign_pattern_regression(X, Y, V_hat, tau=TAU, n_rounds=1))
        biases.append(np.linalg.norm(W_clean - W_star) / np.linalg.norm(W_star))
    assert (
        min(biases) > 0.01
    )  # the chapter prints about 0.028 at n = 4,000, 16,000 and 64,000
    data = rl.sample(net, 2_000, rng=4)
    W_clean = _blocks(
        rl.sign_pattern_regression(data.X, data.Y_clean, V_hat, tau=TAU, n_rounds=1)
    )
    sigma = 0.2 * np.sqrt(np.mean(data.Y_clean**2))
    R = 300
    W = _noisy_fits(data, V_hat, sigma, R, seed=400)
    se = W.std(axis=0, ddof=1) / np.sqrt(R)
    assert (
        np.abs(W.mean(axis=0) - W_clean) / se
    ).max() < Z_MAX  # the mean is the clean-label fit ...
    assert (np.abs(W.mean(axis=0) - W_star) / se).max() > 3 * Z_MAX  # ... not W*


def test_exercise_sign_patterns_counts():
    # exercise ch4-ex-sign-patterns: no wrong pattern for delta <= tau, some beyond; six
    # rounds end exact
    net = rl.planted_network(10, 4, 1, rng=3)
    V_bar = _unit_rows(net.V)
    W_star = net.U[0][:, None] * net.V
    X, Y = rl.sample(net, 4_000, rng=4)
    for delta, wrong_expected in ((0.05, 0), (0.1, 0), (0.2, 33), (0.4, 288)):
        V_hat = _rows_at_distance(V_bar, delta, 5)
        assert _wrong_on_J(X, V_hat, V_bar)[1] == wrong_expected
        W = _blocks(rl.sign_pattern_regression(X, Y, V_hat, tau=TAU, n_rounds=1))
        err = np.linalg.norm(W - W_star) / np.linalg.norm(W_star)
        assert (err < 1e-12) == (wrong_expected == 0)
        six = rl.sign_pattern_regression(X, Y, V_hat, tau=TAU, n_rounds=6)
        assert rl.recovery_error(six.network, net, n_test=0).max < 1e-9
