"""Activations: values, derivatives, and the flags the algorithms rely on."""

import numpy as np
import pytest

import relulearn as rl
from relulearn.activations import ACTIVATION_NAMES

Z = np.linspace(-3, 3, 601)
Z_SMOOTH = Z[np.abs(Z) > 1e-3]  # away from the kink at 0


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_central_differences(name):
    f = rl.get_activation(name)
    h = 1e-6
    numeric = (f(Z_SMOOTH + h) - f(Z_SMOOTH - h)) / (2 * h)
    # central differences have O(h^2 f''') truncation and O(eps/h) round-off error: 1e-8
    # is ample
    np.testing.assert_allclose(f.derivative(Z_SMOOTH), numeric, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_rectified_flag_is_true_exactly_for_rectified_functions(name):
    f = rl.get_activation(name)
    is_rectified = bool(np.all(f(Z[Z <= 0]) == 0) and np.all(f(Z[Z > 0]) > 0))
    assert f.rectified == is_rectified


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_degree_flag_is_the_degree_of_positive_homogeneity(name):
    f = rl.get_activation(name)
    homogeneous = {}
    for c in (0.3, 2.5):
        for p in (0.0, 1.0, 2.0):
            homogeneous.setdefault(p, True)
            homogeneous[p] &= np.allclose(f(c * Z), c**p * f(Z), rtol=1e-12, atol=1e-12)
    degrees = [p for p, ok in homogeneous.items() if ok]
    if f.degree is None:
        assert degrees == [] and not f.positively_homogeneous
    else:
        assert degrees == [f.degree] and f.positively_homogeneous


def test_leaky_relu_slope_and_default():
    assert rl.get_activation("leaky_relu") == rl.leaky_relu(0.01)
    f = rl.leaky_relu(0.2)
    np.testing.assert_allclose(f(np.array([-2.0, 3.0])), [-0.4, 3.0])
    assert not f.rectified and rl.leaky_relu(0.0).rectified


def test_get_activation_passes_objects_and_rejects_bad_input():
    assert rl.get_activation(rl.relu) is rl.relu
    with pytest.raises(ValueError, match="activation 'rellu' is unknown"):
        rl.get_activation("rellu")
    with pytest.raises(TypeError, match="activation must be"):
        rl.get_activation(3)


def test_repr_is_readable():
    assert repr(rl.relu) == "Activation('relu')"
