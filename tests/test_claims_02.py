"""The claims chapter 2 computes: what the points where Adam stops are, measured by the gradient and the Hessian
of the empirical loss (relulearn.stationary_point_report), and the moment identity
behind the "why the hardness
results do not contradict the algorithms" argument."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import relulearn as rl


def chapter_run(k, s, n=400, max_iter=5000):
    """The chapter's experiment: planted k = d network, m = 1, Gaussian inputs, Adam from seed s."""
    planted = rl.planted_network(k, k, 1, rng=1000 * k + s)
    X, Y = rl.sample(planted, n, rng=np.random.default_rng([2, k, s]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        run = rl.train(X, Y, k, rng=np.random.default_rng([3, k, s]), max_iter=max_iter)
    return planted, X, Y, run


def polish(X, Y, run):
    return rl.local_least_squares(X, Y, run.network, max_iter=1000)


@pytest.mark.parametrize("seed", [2, 9])
def test_k2_stuck_runs_end_at_spurious_local_minima(seed):
    _, X, Y, run = chapter_run(2, seed)
    assert run.residual > 1e-2
    at_adam = rl.stationary_point_report(run.network, X, Y)
    assert (
        at_adam.kind == "plateau" and at_adam.descent_decrease > 0
    )  # Adam had not reached the minimum
    rep = rl.stationary_point_report(polish(X, Y, run).network, X, Y)
    assert rep.kind == "spurious local minimum"
    assert rep.relative_gradient < 1e-9
    assert (
        rep.smallest_eigenvalue > 100 * rep.eigenvalue_tolerance
    )  # well beyond the finite-difference error
    assert rep.smallest_eigenvalue_unprojected >= -rep.eigenvalue_tolerance
    assert rep.loss / rep.loss_scale > 1e-4  # the truth's loss is 0
    assert rep.kink_margin > 1e-4  # the loss is smooth (a polynomial) around the point


def test_k2_seed0_adam_stops_on_a_plateau_that_leads_to_zero_loss():
    _, X, Y, run = chapter_run(2, 0)
    assert run.residual > 1e-2
    assert rl.stationary_point_report(run.network, X, Y).kind == "plateau"
    fit = polish(X, Y, run)
    assert fit.residual < 1e-7
    assert rl.stationary_point_report(fit.network, X, Y).kind == "global minimum"


def test_k2_seed3_is_merged_units_and_a_non_strict_local_minimum():
    _, X, Y, run = chapter_run(2, 3)
    rep = rl.stationary_point_report(run.network, X, Y)
    assert rep.kind == "merged units" and rep.merged_units == ((0, 1),)
    assert rep.relative_gradient < 1e-9
    assert rep.smallest_eigenvalue > 100 * rep.eigenvalue_tolerance
    assert rep.smallest_eigenvalue_unprojected >= -rep.eigenvalue_tolerance


def test_k4_seed0_lm_stops_next_to_a_kink_with_a_descent_direction_left():
    _, X, Y, run = chapter_run(4, 0)
    rep = rl.stationary_point_report(polish(X, Y, run).network, X, Y)
    assert rep.kind == "plateau"
    assert rep.kink_pairs >= 1 and rep.kink_margin < 1e-6
    assert (
        rep.kink_slope > 1e-6
    )  # a one-sided descent direction (not a non-smooth stationary point)
    assert 0 < rep.descent_decrease < 1e-5


def test_degree_two_moment_sees_every_unit():
    # E[y (x x^T - I)] = c_2 V^T diag(u) V with c_2 = 1/sqrt(2 pi) for unit rows v_i
    # (exercise ch2-ex-moments). Monte Carlo with n = 200,000: each entry averages y
    # (x_a x_b - delta_ab), whose variance is at most E[y^4]^(1/2) E[(x_a x_b -
    # delta_ab)^4]^(1/2) < 0.8 * 60^(1/2) < 7 here (E[y^4]^(1/2) is about 0.75, and
    # E[(z^2 - 1)^4] = 60 is the largest fourth moment of an entry), so its standard
    # error is below 0.006; the tolerance 0.06 is 10 of them.
    rng = np.random.default_rng(0)
    V = rng.standard_normal((3, 4))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    u = np.array([1.0, -0.7, 0.5])
    net = rl.TwoLayerNetwork(u[None, :], V)
    X, Y = rl.sample(net, 200_000, rng=1)
    M = (X * Y[0]) @ X.T / X.shape[1] - np.mean(Y) * np.eye(4)
    want = V.T @ np.diag(u) @ V / np.sqrt(2 * np.pi)
    assert np.max(np.abs(M - want)) < 0.06
    assert np.linalg.matrix_rank(want, tol=1e-10) == 3
    # and the cancelling example of the exercise: k = 4 > d = 2 units whose degree-2
    # moment vanishes
    s = 1 / np.sqrt(2)
    V4 = np.array([[1.0, 0.0], [0.0, 1.0], [s, s], [s, -s]])
    u4 = np.array([1.0, 1.0, -1.0, -1.0])
    np.testing.assert_allclose(V4.T @ np.diag(u4) @ V4, 0.0, atol=1e-15)
    assert rl.TwoLayerNetwork(u4[None, :], V4)(np.array([[1.0], [0.0]]))[
        0, 0
    ] == pytest.approx(1 - 2 * s)
