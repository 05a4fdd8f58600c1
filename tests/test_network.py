"""TwoLayerNetwork and planted_network."""

import dataclasses

import numpy as np
import pytest

import relulearn as rl


def test_call_is_U_f_VX_and_accepts_one_sample():
    rng = np.random.default_rng(0)
    U, V, X = (
        rng.standard_normal((3, 2)),
        rng.standard_normal((2, 4)),
        rng.standard_normal((4, 7)),
    )
    net = rl.TwoLayerNetwork(U, V)
    np.testing.assert_allclose(net(X), U @ np.maximum(V @ X, 0))
    np.testing.assert_allclose(net(X[:, 0]), net(X)[:, 0])
    np.testing.assert_allclose(net.hidden(X), np.maximum(V @ X, 0))
    assert (net.n_hidden, net.input_dim, net.output_dim) == (2, 4, 3)


def test_network_is_frozen_and_copies_its_arrays():
    U = np.ones((2, 2))
    net = rl.TwoLayerNetwork(U, np.eye(2))
    U[0, 0] = 5.0
    assert net.U[0, 0] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.U = U
    with pytest.raises(ValueError):
        net.V[0, 0] = 3.0


def test_repr_shows_shapes_not_arrays():
    net = rl.planted_network(5, 3, 2, rng=0)
    assert repr(net) == "TwoLayerNetwork(d=5, k=3, m=2, activation='relu')"


@pytest.mark.parametrize(
    "activation", ["relu", "squared_relu", "leaky_relu", "step", "linear"]
)
def test_canonical_form_is_the_same_function_with_unit_rows(activation):
    net = rl.planted_network(6, 3, 2, rng=1, activation=activation)
    can = net.canonical()
    np.testing.assert_allclose(np.linalg.norm(can.V, axis=1), 1.0)
    X = np.random.default_rng(2).standard_normal((6, 50))
    np.testing.assert_allclose(can(X), net(X), rtol=1e-12, atol=1e-12)


def test_canonical_form_needs_homogeneity():
    with pytest.raises(ValueError, match="positively homogeneous"):
        rl.planted_network(4, 2, 1, rng=0, activation="tanh").canonical()


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="U has 3 columns but V has 2 rows"):
        rl.TwoLayerNetwork(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="V contains 1 NaN"):
        rl.TwoLayerNetwork(np.ones((2, 2)), np.array([[1.0, np.nan], [0, 1]]))
    with pytest.raises(ValueError, match="X must have d=4 rows"):
        rl.planted_network(4, 2, 1, rng=0)(np.ones((3, 5)))
    with pytest.raises(TypeError, match="U must be a numeric array"):
        rl.TwoLayerNetwork("a", np.ones((2, 2)))


def test_planted_network_condition_number_is_exact():
    net = rl.planted_network(10, 5, 1, rng=3, condition=2.0)
    s = np.linalg.svd(net.V, compute_uv=False)
    np.testing.assert_allclose(s.max() / s.min(), 2.0, rtol=1e-12)
    np.testing.assert_allclose(np.sort(s), np.linspace(1, 2, 5), rtol=1e-12)


def test_planted_network_is_reproducible_and_validates():
    a, b = (
        rl.planted_network(8, 3, 2, rng=7),
        rl.planted_network(8, 3, 2, rng=np.random.default_rng(7)),
    )
    np.testing.assert_array_equal(a.V, b.V)
    with pytest.raises(
        ValueError, match="k=5 hidden units exceeds the input dimension d=3"
    ):
        rl.planted_network(3, 5, 1, rng=0)
    with pytest.raises(TypeError, match="k must be an int"):
        rl.planted_network(3, 2.0, 1, rng=0)
    with pytest.raises(ValueError, match="condition must be a number >= 1"):
        rl.planted_network(3, 2, 1, rng=0, condition=0.5)
    with pytest.raises(TypeError, match="rng must be"):
        rl.planted_network(3, 2, 1, rng="seed")
