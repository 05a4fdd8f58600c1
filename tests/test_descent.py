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
    init = (
        net.U + 0.05 * rng.standard_normal(net.U.shape),
        net.V + 0.05 * rng.standard_normal(net.V.shape),
    )
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
    rec = rl.train(
        X, Y, 2, rng=10, batch_size=100, max_iter=30, init=(U0, V0), train_U=False
    )
    np.testing.assert_array_equal(rec.network.U, U0)
    start = rl.squared_loss(U0, V0, X, Y)
    assert rec.history[-1] < 0.1 * start


def test_some_random_starts_recover_and_some_stall():
    # the claim of chapter 1: from random initialisations, training sometimes recovers a
    # planted network and sometimes stalls at a loss far from zero. The starts have
    # seeds of their own (100-107, as in the chapter): train(rng=1) would start at this
    # instance's truth, drawn from the same seed.
    net = rl.planted_network(8, 6, 2, rng=1)
    X, Y = rl.sample(net, 1000, rng=2)
    errors = [
        rl.recovery_error(rl.train(X, Y, 6, rng=s, max_iter=3000), net).max
        for s in range(100, 108)
    ]
    assert min(errors) < 1e-4
    assert max(errors) > 0.1


def test_train_validates_its_input():
    X, Y = np.ones((3, 10)), np.ones((1, 10))
    with pytest.raises(
        ValueError, match="k=4 hidden units exceeds the input dimension d=3"
    ):
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


# ---------------------------------------------------------------- the Hessian of L_n
# and the stationary-point report


@pytest.mark.parametrize(
    "activation",
    ["relu", "leaky_relu", "squared_relu", "tanh", "softplus", "sigmoid", "erf"],
)
def test_loss_hessian_matches_finite_differences_of_the_gradient(activation):
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((4, 50)), rng.standard_normal((2, 50))
    U, V = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    H = rl.loss_hessian(U, V, X, Y, activation)
    theta = np.concatenate([U.ravel(), V.ravel()])
    assert H.shape == (theta.size, theta.size)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    # central differences of the package's gradient; h = 1e-6 crosses no kink here (min
    # |v_i . x_j| is far larger than h max |x|), so for ReLU they are exact up to
    # rounding (~1e-16 / h relative)
    assert np.min(np.abs(V @ X)) > 1e-3
    h, num = 1e-6, np.zeros_like(H)
    for p in range(theta.size):
        grads = []
        for sign in (1, -1):
            t = theta.copy()
            t[p] += sign * h
            _, gU, gV = rl.loss_gradients(
                t[:6].reshape(2, 3), t[6:].reshape(3, 4), X, Y, activation
            )
            grads.append(np.concatenate([gU.ravel(), gV.ravel()]))
        num[:, p] = (grads[0] - grads[1]) / (2 * h)
    np.testing.assert_allclose(H, num, atol=1e-6 * max(1.0, np.max(np.abs(H))))


def test_loss_hessian_has_the_residual_term_in_the_u_v_block():
    # for ReLU f'' = 0, but the (u_i, v_i) block carries sum_j r_j D_ij x_j / n: zero at
    # an exact fit, so the Hessians at the same point with two label vectors differ
    # exactly by it
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 40))
    U, V = rng.standard_normal((1, 2)), rng.standard_normal((2, 3))
    Y0 = U @ np.maximum(V @ X, 0)
    E = rng.standard_normal((1, 40))
    D = (V @ X > 0).astype(float)
    diff = rl.loss_hessian(U, V, X, Y0 - E) - rl.loss_hessian(U, V, X, Y0)
    want = np.zeros_like(diff)
    for i in range(2):
        want[i, 2 + 3 * i : 2 + 3 * (i + 1)] = (
            (E * D[i]) @ X.T / 40
        )  # r = U h - (Y0 - E) = E
    want = want + want.T
    np.testing.assert_allclose(diff, want, atol=1e-12)


def test_stationary_point_report_at_the_truth_is_a_global_minimum():
    net = rl.planted_network(4, 3, 2, rng=3)
    X, Y = rl.sample(net, 300, rng=4)
    rep = rl.stationary_point_report(net, X, Y)
    assert rep.kind == "global minimum"
    assert rep.gradient_norm < 1e-12
    assert (
        rep.smallest_eigenvalue_unprojected >= -rep.eigenvalue_tolerance
    )  # positive semidefinite
    assert (
        rep.smallest_eigenvalue > rep.eigenvalue_tolerance
    )  # and definite off the rescaling directions
    assert rep.n_flat == 3  # one rescaling direction per unit
    assert rep.finite_difference_error < 1e-8
    assert "global minimum" in repr(rep) and "0x" not in repr(rep)
    # the rescaling direction (-u_i, v_i) of each unit is a null direction of the
    # Hessian at the truth
    H = rl.loss_hessian(net.U, net.V, X, Y)
    m, k = net.U.shape
    for i in range(k):
        e = np.zeros(H.shape[0])
        e[np.arange(m) * k + i] = -net.U[:, i]
        e[m * k + i * 4 : m * k + (i + 1) * 4] = net.V[i]
        assert np.linalg.norm(H @ e) < 1e-10 * np.linalg.norm(H)


def _one_unit_point():
    X = np.random.default_rng(0).standard_normal((2, 40))
    return X, X[0] > 0


def test_constructed_saddle_and_spurious_minimum_are_classified():
    # u = 0, v = e_1: stationary when the labels of the active samples are orthogonal to
    # x_1 there; the residual term of the (u, v) block then makes a saddle unless those
    # labels vanish (chapter 2, exercise ch2-ex-classify)
    X, active = _one_unit_point()
    y = np.ones(40)
    y[active] = 1 + X[1, active]
    y[active] -= (
        (y[active] @ X[0, active]) / (X[0, active] @ X[0, active]) * X[0, active]
    )
    rep = rl.stationary_point_report(([[0.0]], [[1.0, 0.0]]), X, y)
    assert rep.kind == "saddle"
    a = np.mean(np.maximum(X[0], 0) ** 2)
    c = np.sum(y[active] * X[1, active]) / 40
    assert rep.smallest_eigenvalue_unprojected == pytest.approx(
        (a - np.sqrt(a * a + 4 * c * c)) / 2, rel=1e-9
    )
    rep = rl.stationary_point_report(([[0.0]], [[1.0, 0.0]]), X, np.maximum(-X[0], 0.0))
    assert rep.kind == "spurious local minimum"
    assert rep.smallest_eigenvalue == pytest.approx(a, rel=1e-9)
    # with the truth as reference and labels not fitted by it, the loss is compared with
    # the truth's
    truth = rl.TwoLayerNetwork([[1.0]], [[-1.0, 0.0]])
    rep = rl.stationary_point_report(
        ([[0.0]], [[1.0, 0.0]]), X, np.maximum(-X[0], 0.0) + 1.0, reference=truth
    )
    assert rep.reference_loss == pytest.approx(0.5)


def test_dead_unit_and_merged_units_are_classified():
    rng = np.random.default_rng(5)
    X = np.vstack(
        [1 + rng.random((1, 60)), rng.standard_normal((2, 60))]
    )  # first coordinate > 0
    truth = rl.TwoLayerNetwork([[1.0, -1.0]], [[0.5, 1.0, 0.0], [0.2, 0.0, 1.0]])
    Y = truth(X)
    # unit 2 is dead (v_2 . x < 0 on every sample); Levenberg-Marquardt fits unit 1,
    # unit 2 stays dead
    fit = rl.local_least_squares(
        X, Y, ([[1.0, 1.0]], [[0.5, 1.0, 0.1], [-1.0, 0.0, 0.0]])
    )
    rep = rl.stationary_point_report(fit.network, X, Y)
    assert rep.kind == "dead unit" and rep.dead_units == (1,)
    assert rep.smallest_eigenvalue > rep.eigenvalue_tolerance
    # two copies of one unit with the same pattern: merged units, flat along the split
    # of u_1 v_1 + u_2 v_2
    v = np.array([0.3, 1.0, -0.5])
    Y1 = 2.0 * np.maximum(v @ X, 0)[None, :] + rng.standard_normal((1, 60))
    one = rl.local_least_squares(X, Y1, ([[2.0]], [v]))
    u1, v1 = float(one.network.U[0, 0]), np.asarray(one.network.V[0])
    rep = rl.stationary_point_report(([[0.4 * u1, 0.6 * u1]], [v1, v1]), X, Y1)
    assert rep.merged_units == ((0, 1),)
    assert rep.kind == "merged units"
    # (u_1, v_1, u_2, v_2) has 2 (1 + 3) = 8 coordinates and the map to u_1 v_1 + u_2
    # v_2 in R^3 has rank 3
    assert rep.n_flat == 5


def test_hessian_and_report_validate_their_input():
    X, Y = np.ones((3, 10)), np.ones((1, 10))
    U, V = np.ones((1, 2)), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"V must have shape \(k, d\) = \(k, 3\)"):
        rl.loss_hessian(U, np.ones((2, 4)), X, Y)
    with pytest.raises(ValueError, match=r"U must have shape \(m, k\) = \(1, 2\)"):
        rl.loss_hessian(np.ones((2, 2)), V, X, Y)
    with pytest.raises(ValueError, match="Y must have one column per sample of X"):
        rl.loss_hessian(U, V, X, np.ones((1, 9)))
    Vnan = V.copy()
    Vnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="V contains 1 NaN"):
        rl.loss_hessian(U, Vnan, X, Y)
    with pytest.raises(
        ValueError, match="activation 'step_like' has no known second derivative"
    ):
        rl.loss_hessian(U, V, X, Y, rl.Activation("step_like", np.sign, np.zeros_like))
    with pytest.raises(TypeError, match="network must be a TwoLayerNetwork or a tuple"):
        rl.stationary_point_report(np.ones(3), X, Y)
    with pytest.raises(ValueError, match="gtol must be a non-negative number"):
        rl.stationary_point_report((U, V), X, Y, gtol=-1.0)
    with pytest.raises(TypeError, match="reference must be a TwoLayerNetwork"):
        rl.stationary_point_report((U, V), X, Y, reference=(U, V))
    with pytest.raises(ValueError, match="reference must map R\\^3 to R\\^1"):
        rl.stationary_point_report(
            (U, V), X, Y, reference=rl.TwoLayerNetwork(U, np.ones((2, 4)))
        )
