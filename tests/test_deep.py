"""Tests for relulearn.deep: random deep networks and the gap to their polynomial shadows."""

from __future__ import annotations

import math

import numpy as np
import pytest

import relulearn as rl


def test_random_deep_network_structure():
    net = rl.random_deep_network(5, (7, 6), rng=0)
    assert net.depth == 3 and net.widths == (5, 7, 6, 1) and net.size == 18
    assert (
        repr(net)
        == "RandomDeepNetwork(depth=3, widths=(5, 7, 6, 1), activation='normalized(relu)')"
    )
    X = rl.UniformSphere().sample(5, 4, rng=1)
    assert net(X).shape == (4,)
    sh = net.shadow(3)
    assert sh.weights is net.weights and sh.activation.name == "normalized(relu)_q3"
    # the depth-2 shadow of sqrt(2) ReLU with q = 2 is a quadratic: restricted to a line
    # it is exactly fitted by a degree-2 polynomial in the line parameter
    n2 = rl.random_deep_network(4, 9, rng=2).shadow(2)
    t = np.linspace(-2, 2, 9)
    line = np.outer(np.ones(4), t) + np.outer(np.arange(4.0), 1 - t)
    res = np.polynomial.polynomial.polyfit(t, n2(line), 2, full=True)[1]
    assert res[0] < 1e-20


def test_depth2_shadow_identity_by_monte_carlo():
    # E_W (Psi - Psi^q)^2 = eps(q) at every x and every width (chapter 7,
    # ch7-prop-depth2).  Each draw is a fresh network evaluated at the same x; tolerance
    # 5 standard errors estimated from the N draws.
    x = rl.UniformSphere().sample(6, 1, rng=0)
    sigma = rl.normalize_activation("relu")
    for width, q in [(3, 2), (40, 4)]:
        rng = np.random.default_rng(width)
        gaps = np.empty(3000)
        for t in range(gaps.size):
            net = rl.random_deep_network(6, width, rng=rng)
            gaps[t] = (net(x)[0] - net.shadow(q)(x)[0]) ** 2
        eps = rl.hermite_tail(sigma, q)
        se = gaps.std() / math.sqrt(gaps.size)
        assert abs(gaps.mean() - eps) < 5 * se, (width, q, gaps.mean(), eps, se)
        assert abs(rl.shadow_gap_infinite_width(sigma, q, 2) - eps) < 1e-14


def test_shadow_gap_output_average_is_the_conditional_expectation():
    # E_{W^i}(W^i v)^2 = |v|^2 / d_{i-1}: average the plain gap over many fresh output
    # rows and compare with the analytic average (tolerance: 5 standard errors over the
    # output draws)
    net = rl.random_deep_network(8, (20, 30), rng=4)
    X = rl.UniformSphere().sample(8, 16, rng=5)
    analytic = rl.shadow_gap(net, 3, X)
    rng = np.random.default_rng(6)
    vals = []
    for _ in range(4000):
        w = rng.standard_normal((1, 30)) / math.sqrt(30)
        swapped = rl.RandomDeepNetwork(net.weights[:-1] + (w,), net.activation)
        vals.append(rl.shadow_gap(swapped, 3, X, average_output=False))
    vals = np.array(vals)
    assert abs(vals.mean() - analytic) < 5 * vals.std() / math.sqrt(vals.size)
    with pytest.raises(TypeError, match="net"):
        rl.shadow_gap("net", 3, X)


def test_infinite_width_recursion_matches_gaussian_monte_carlo():
    # depth 3: at infinite width the layer-2 preactivations (U, V) of the true and
    # shadow networks are jointly Gaussian with Var U = 1, Cov = c1, Var V = s1^2 from
    # layer 1.  Simulate that Gaussian pair.
    sigma = rl.normalize_activation("relu")
    q = 4
    a = rl.hermite_coefficients(sigma, q)
    c1 = s1 = float(np.sum(a**2))  # after layer 1: c = s^2 = sum_{n<=q} a_n^2
    g = np.random.default_rng(5).standard_normal((2, 400_000))
    U = g[0]
    V = c1 * g[0] + math.sqrt(s1 - c1**2) * g[1]
    fq = rl.truncated_activation(sigma, q)
    samples = (sigma(U) - fq(V)) ** 2
    se = samples.std() / math.sqrt(samples.size)
    assert abs(samples.mean() - rl.shadow_gap_infinite_width(sigma, q, 3)) < 5 * se
    # values of an independent prototype computation (depth-3 and depth-4 gaps):
    # 1.734e-2 and 3.610e-3
    assert abs(rl.shadow_gap_infinite_width(sigma, 4, 3) / 1.734e-2 - 1) < 1e-3
    assert abs(rl.shadow_gap_infinite_width(sigma, 16, 4) / 3.610e-3 - 1) < 1e-3


def test_depth3_gap_approaches_infinite_width_value():
    # wide (1024) depth-3 networks: mean gap (output layer averaged analytically) over 8
    # nets x 64 points within 5 standard errors (over networks) plus the O(1/width)
    # finite-width bias bound 10 / width of the infinite-width value
    sigma = rl.normalize_activation("relu")
    q = 4
    X = rl.UniformSphere().sample(16, 64, rng=0)
    per_net = []
    for s in range(8):
        net = rl.random_deep_network(16, (1024, 1024), rng=100 + s)
        per_net.append(rl.shadow_gap(net, q, X))
    per_net = np.array(per_net)
    inf = rl.shadow_gap_infinite_width(sigma, q, 3)
    assert (
        abs(per_net.mean() - inf) < 5 * per_net.std(ddof=1) / math.sqrt(8) + 10 / 1024
    )


def test_best_polynomial_error_matches_independent_prediction():
    nr = rl.normalize_activation("relu")

    def k(t):
        return rl.dual_activation(nr, t)

    # err*(D) for depth i = 2 and i = 3, d = 6, from an independent prototype (4 digits)
    np.testing.assert_allclose(
        [rl.best_polynomial_error(k, 6, D) for D in (1, 2, 4, 6)],
        [1.542e-1, 1.300e-2, 3.847e-3, 1.670e-3],
        rtol=1e-3,
    )
    np.testing.assert_allclose(
        rl.best_polynomial_error(lambda t: k(k(t)), 6, 4), 9.698e-3, rtol=1e-3
    )
    # odd degrees add nothing at depth 2 (odd part of sqrt(2) ReLU is linear)
    assert (
        abs(rl.best_polynomial_error(k, 6, 2) - rl.best_polynomial_error(k, 6, 3))
        < 1e-10
    )


def test_deep_input_validation_names_the_argument():
    with pytest.raises(ValueError, match="widths"):
        rl.random_deep_network(4, (), rng=0)
    with pytest.raises(ValueError, match=r"widths\[1\]"):
        rl.random_deep_network(4, (3, 0), rng=0)
    with pytest.raises(TypeError, match="rng"):
        rl.random_deep_network(4, 3, rng="seed")
    with pytest.raises(ValueError, match="depth"):
        rl.shadow_gap_infinite_width("relu", 2, 1)
    with pytest.raises(ValueError, match="X"):
        rl.random_deep_network(4, 3, rng=0)(np.ones((5, 2)))
