"""The claims chapter 1 computes (The problem): the law of planted networks, the kinks of a ReLU network, the
failures of identifiability when the hypotheses of the theorem fail, the exercises, and
the training observation.

The symmetries themselves, the metric's invariance and its response to a perturbation
are tested in tests/test_metrics.py; the canonical form in tests/test_network.py.
"""

import warnings

import numpy as np
import pytest

import relulearn as rl


def _jacobian(net, x, h=1e-6):
    # forward differences; exact up to round-off ~1e-16 / h on a linear piece of the
    # network
    return (net(x[:, None] + h * np.eye(x.size)) - net(x)[:, None]) / h


def test_planted_network_draws_V_with_variance_1_over_d_then_U_standard_normal():
    # the chapter's description of the law, checked draw by draw against the same
    # generator
    d, k, m = 8, 4, 3
    net = rl.planted_network(d, k, m, rng=5)
    gen = np.random.default_rng(5)
    V = gen.standard_normal((k, d)) / np.sqrt(d)
    U = gen.standard_normal((m, k))
    np.testing.assert_array_equal(net.V, V)
    np.testing.assert_array_equal(net.U, U)


@pytest.mark.parametrize(("d", "k", "m", "seed"), [(8, 4, 3, 0), (8, 6, 2, 1)])
def test_chapter_instances_meet_the_hypotheses_of_the_theorem(d, k, m, seed):
    net = rl.planted_network(d, k, m, rng=seed)
    assert np.linalg.matrix_rank(net.V) == k
    assert np.linalg.norm(net.U, axis=0).min() > 0.1


def test_jump_of_the_jacobian_across_each_hyperplane_is_u_i_v_i():
    truth = rl.planted_network(8, 4, 3, rng=0)
    z = rl.Gaussian().sample(8, 1, rng=4)[:, 0]
    rows = truth.V / np.linalg.norm(truth.V, axis=1, keepdims=True)
    for i in range(4):
        v, u = truth.V[i], truth.U[:, i]
        x0 = z - (v @ z) / (v @ v) * v
        assert abs(v @ x0) < 1e-12
        assert (
            np.abs(np.delete(rows, i, axis=0) @ x0).min() > 0.1
        )  # no other hyperplane within the stencil
        jump = _jacobian(truth, x0 + 1e-3 * rows[i]) - _jacobian(
            truth, x0 - 1e-3 * rows[i]
        )
        np.testing.assert_allclose(
            jump, np.outer(u, v), atol=1e-6 * np.abs(np.outer(u, v)).max()
        )
    # a segment of the same length that crosses no hyperplane: no jump
    w = rl.Gaussian().sample(8, 1, rng=6)[:, 0]
    assert np.abs(rows @ w).min() > 0.01
    step = 1e-3 * w / np.linalg.norm(w)
    np.testing.assert_allclose(
        _jacobian(truth, w + step), _jacobian(truth, w - step), atol=1e-6
    )


def test_opposite_pair_has_no_kink():
    # units (u, v) and (-u, -v) share a hyperplane and their jumps cancel
    rng = np.random.default_rng(7)
    v, u = rng.standard_normal(5), rng.standard_normal((2, 1))
    pair = rl.TwoLayerNetwork(np.hstack([u, -u]), np.vstack([v, -v]))
    x0 = rng.standard_normal(5)
    x0 -= (v @ x0) / (v @ v) * v
    step = 1e-3 * v / np.linalg.norm(v)
    np.testing.assert_allclose(
        _jacobian(pair, x0 + step), _jacobian(pair, x0 - step), atol=1e-6
    )


def test_two_pairs_compute_x1_plus_x2_with_different_units():
    e = np.eye(8)
    signs = np.array([[1.0, -1.0, 1.0, -1.0]])
    a = rl.TwoLayerNetwork(signs, np.vstack([e[0], -e[0], e[1], -e[1]]))
    b = rl.TwoLayerNetwork(
        signs, np.vstack([2 * e[0], -2 * e[0], e[1] - e[0], e[0] - e[1]])
    )
    X = rl.Gaussian().sample(8, 200, rng=0)
    np.testing.assert_allclose(a(X), X[:1] + X[1:2], atol=1e-12)
    np.testing.assert_allclose(b(X), X[:1] + X[1:2], atol=1e-12)
    err = rl.recovery_error(b, a)
    closed_form = np.sqrt(
        2 - np.sqrt(2)
    )  # ||e2 - (e2 - e1)/sqrt(2)||, and the same for U
    assert err.prediction < 1e-12
    assert err.V == pytest.approx(closed_form, rel=1e-12)
    assert err.U == pytest.approx(closed_form, rel=1e-12)


def test_exercise_flip_changes_the_output_by_minus_u_abs_v_x():
    truth = rl.planted_network(8, 4, 3, rng=0)
    X = rl.Gaussian().sample(8, 2000, rng=3)
    flipped = rl.TwoLayerNetwork(
        truth.U * np.array([-1, 1, 1, 1]), truth.V * np.array([[-1], [1], [1], [1]])
    )
    expected = -np.outer(truth.U[:, 0], np.abs(truth.V[0] @ X))
    np.testing.assert_allclose(flipped(X) - truth(X), expected, atol=1e-12)
    err = rl.recovery_error(flipped, truth)
    assert err.V == pytest.approx(2.0, rel=1e-12) and err.prediction > 0.1


def test_exercise_squared_relu_canonical_form_moves_the_squared_norms_into_U():
    net = rl.planted_network(6, 3, 2, rng=0, activation="squared_relu")
    can = net.canonical()
    norms = np.linalg.norm(net.V, axis=1)
    np.testing.assert_allclose(np.linalg.norm(can.V, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(can.U, net.U * norms**2, rtol=1e-14)
    # (U D^-2, D V) is a symmetry, and its canonical form is the same
    D = np.array([0.3, 2.0, 5.0])
    other = rl.TwoLayerNetwork(net.U / D**2, D[:, None] * net.V, "squared_relu")
    X = rl.Gaussian().sample(6, 500, rng=0)
    np.testing.assert_allclose(other(X), net(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(other.canonical().V, can.V, atol=1e-14)
    np.testing.assert_allclose(other.canonical().U, can.U, rtol=1e-12)


def test_exercise_triple_flip_same_function_not_a_symmetry():
    # rows e1, e2, -(e1 + e2): pairwise non-parallel, rank 2 < k = 3, and sum of u_i
    # v_i^T = 0
    V3 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    U = np.ones((1, 3))
    assert np.allclose(U @ V3, 0.0) and np.linalg.matrix_rank(V3) == 2
    net, flipped = rl.TwoLayerNetwork(U, V3), rl.TwoLayerNetwork(U, -V3)
    X = rl.Gaussian().sample(2, 500, rng=0)
    np.testing.assert_allclose(flipped(X), net(X), atol=1e-12)
    err = rl.recovery_error(flipped, net)
    assert err.prediction < 1e-12 and err.V > 1.0 and err.U > 0.1


def test_exercise_linear_activation_is_not_identifiable():
    lin = rl.planted_network(5, 3, 2, rng=0, activation="linear")
    A = np.eye(3)
    A[0, 1] = 1.0
    other = rl.TwoLayerNetwork(lin.U @ np.linalg.inv(A), A @ lin.V, "linear")
    err = rl.recovery_error(other, lin)
    assert err.prediction < 1e-12 and err.weights > 0.1


def test_training_with_the_instance_seed_starts_at_the_truth():
    # the chapter's pitfall: train draws V0 as planted_network draws V*, and U0 is the
    # least-squares fit for V0
    truth = rl.planted_network(d=8, k=6, m=2, rng=1)
    X, Y = rl.sample(truth, n=1000, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        # one Adam step of size 1e-12 moves each weight by at most about 1e-12: the
        # result is the start
        same = rl.train(X, Y, k=6, rng=1, max_iter=1, lr=1e-12)
        other = rl.train(X, Y, k=6, rng=100, max_iter=1, lr=1e-12)
    err = rl.recovery_error(same, truth)
    # V0 = V*; U0 is the least-squares fit with a ridge of relative size 1e-8, so U* up
    # to about 1e-8
    assert err.V < 1e-10 and err.U < 1e-6
    assert rl.recovery_error(other, truth).V > 0.5
    # and a seed list is padded with zeros: [1, 0] is the seed 1
    np.testing.assert_array_equal(
        np.random.default_rng([1, 0]).standard_normal(5),
        np.random.default_rng(1).standard_normal(5),
    )


def test_training_observation_converged_stalled_and_capped_starts():
    # the chapter's instance and three of its eight starts (seeds 100-107, about 4 s):
    # seed 103 converges, seed 105 stalls, seed 104 reaches the iteration cap; the last
    # two end near the same non-zero loss
    truth = rl.planted_network(d=8, k=6, m=2, rng=1)
    X, Y = rl.sample(truth, n=1000, rng=2)
    scale = np.sum(Y**2) / (2 * Y.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        good = rl.train(X, Y, k=6, rng=103, max_iter=3000)
        stalled = rl.train(X, Y, k=6, rng=105, max_iter=3000)
        capped = rl.train(X, Y, k=6, rng=104, max_iter=3000)
    assert good.status == "certified" and good.details["stop_reason"] == "converged"
    assert good.history[-1] / scale < 1e-13
    assert rl.recovery_error(good, truth).max < 1e-5
    assert (
        stalled.details["stop_reason"] == "stalled"
        and capped.details["stop_reason"] == "max_iter"
    )
    for bad in (stalled, capped):
        assert bad.status == "unverified"
        assert 1e-3 < bad.history[-1] / scale < 4e-3
        err = rl.recovery_error(bad, truth)
        assert 1.0 < err.V < 2.0 and 0.02 < err.prediction < 0.08
