"""The recovery metric removes exactly the model's symmetries."""

import numpy as np
import pytest

import relulearn as rl


@pytest.fixture
def truth():
    return rl.planted_network(8, 4, 3, rng=0)


def test_metric_is_invariant_under_permutation_and_positive_rescaling(truth):
    rng = np.random.default_rng(1)
    perm = rng.permutation(4)
    c = rng.uniform(0.2, 5.0, size=4)
    other = rl.TwoLayerNetwork(
        truth.U[:, perm] / c[perm], c[perm, None] * truth.V[perm]
    )
    err = rl.recovery_error(other, truth)
    assert err.max < 1e-12 and rl.is_exact(err)
    np.testing.assert_array_equal(rl.match_units(other, truth), np.argsort(perm))


def test_negative_rescaling_is_not_a_symmetry(truth):
    V = truth.V.copy()
    V[0] *= -1
    U = truth.U.copy()
    U[:, 0] *= -1
    err = rl.recovery_error(rl.TwoLayerNetwork(U, V), truth)
    assert err.prediction > 0.1 and not rl.is_exact(err)


def test_error_scales_with_the_perturbation(truth):
    rng = np.random.default_rng(2)
    for eps in (1e-3, 1e-6):
        est = rl.TwoLayerNetwork(
            truth.U + eps * rng.standard_normal(truth.U.shape), truth.V
        )
        err = rl.recovery_error(est, truth)
        expected = eps * np.sqrt(truth.U.size) / np.linalg.norm(truth.canonical().U)
        assert 0.2 * expected < err.U < 5 * expected


def test_opposite_pair_is_linear_and_not_identifiable():
    # u relu(v.x) - u relu(-v.x) = u (v.x): two different networks, the same function
    rng = np.random.default_rng(3)
    v, u = rng.standard_normal(5), rng.standard_normal((2, 1))
    pair = rl.TwoLayerNetwork(np.hstack([u, -u]), np.vstack([v, -v]))
    X = rng.standard_normal((5, 100))
    np.testing.assert_allclose(pair(X), u @ (v @ X)[None, :], atol=1e-12)
    other = rl.TwoLayerNetwork(np.hstack([2 * u, -2 * u]), np.vstack([v / 2, -v / 2]))
    np.testing.assert_allclose(other(X), pair(X), atol=1e-12)


def test_metric_accepts_a_recovery_and_validates(truth):
    rec = rl.Recovery(network=truth, residual=0.0)
    assert rl.recovery_error(rec, truth).max == 0.0
    with pytest.raises(ValueError, match="they must agree"):
        rl.recovery_error(rl.planted_network(8, 3, 3, rng=0), truth)
    with pytest.raises(TypeError, match="truth must be a TwoLayerNetwork"):
        rl.recovery_error(truth, "truth")
    assert (
        repr(rl.recovery_error(truth, truth))
        == "RecoveryError(U=0.00e+00, V=0.00e+00, prediction=0.00e+00)"
    )


def test_bottleneck_weight_error_permutation_and_signs():
    truth = rl.TwoLayerNetwork(np.array([[1.0, -1.0, 1.0]]), np.eye(3, 4), "relu")
    perm = [2, 0, 1]
    est = rl.TwoLayerNetwork(truth.U[:, perm], truth.V[perm] * 1.001, "relu")
    e = rl.bottleneck_weight_error(est, truth)
    assert e.signs_match and e.max_relative == pytest.approx(0.001)
    assert e.succeeded(0.01) and not e.succeeded(1e-4)
    flipped = rl.TwoLayerNetwork(-truth.U, truth.V, "relu")
    assert not rl.bottleneck_weight_error(flipped, truth).succeeded()
    with pytest.raises(TypeError, match="estimate"):
        rl.bottleneck_weight_error("x", truth)


def test_loglog_slope_is_the_fitted_exponent():
    assert rl.loglog_slope([1, 10, 100], [3, 30, 300]) == pytest.approx(1.0)
    assert rl.loglog_slope([1, 4, 16], [1, 0.5, 0.25]) == pytest.approx(-0.5)
