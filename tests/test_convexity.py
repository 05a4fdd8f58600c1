"""Tests of relulearn.convexity: alpha, rho against closed forms, P1-P3, the population Hessian."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import relulearn as rl
from relulearn.activations import Activation

# the paper's erf, scaled so that phi'(z) = exp(-z^2)
ERF_PAPER = Activation(
    "erf_paper",
    lambda z: np.sqrt(np.pi) / 2 * special.erf(z),
    lambda z: np.exp(-np.square(z)),
)


def _erf_rho(s):
    return min(
        (1 + 4 * s**2) ** -0.5 - (1 + 2 * s**2) ** -1.0,
        (1 + 4 * s**2) ** -1.5 - (1 + 2 * s**2) ** -3.0,
        (1 + 2 * s**2) ** -2.0,
    )


def _leaky_rho(c):
    return (1 + c**2) / 2 - (1 + c) ** 2 / 4 - (1 - c) ** 2 / (2 * np.pi)


@pytest.mark.parametrize("sigma", [0.1, 1.0, 10.0])
def test_rho_closed_forms(sigma):
    assert rl.rho("relu", sigma) == pytest.approx(0.25 - 0.5 / np.pi, rel=1e-8)
    assert rl.rho(rl.leaky_relu(0.01), sigma) == pytest.approx(
        _leaky_rho(0.01), rel=1e-8
    )
    assert rl.rho(rl.leaky_relu(0.1), sigma) == pytest.approx(_leaky_rho(0.1), rel=1e-8)
    assert rl.rho("squared_relu", sigma) == pytest.approx(
        (4 / np.pi - 1) * sigma**2, rel=1e-8
    )
    assert rl.rho(ERF_PAPER, sigma) == pytest.approx(_erf_rho(sigma), rel=1e-8)
    # the library's erf has phi' = (2/sqrt(pi)) exp(-z^2): rho scales by 4/pi
    assert rl.rho("erf", sigma) == pytest.approx(4 / np.pi * _erf_rho(sigma), rel=1e-8)
    assert abs(rl.rho("linear", sigma)) < 1e-12
    assert rl.rho("quadratic", sigma) == pytest.approx(-4 * sigma**2, rel=1e-8)


def test_relu_terms_are_equal():
    t = rl.rho_terms("relu", 1.0)
    assert np.allclose(t, 0.25 - 0.5 / np.pi, rtol=1e-8, atol=0)


def test_alpha_against_mpmath():
    # independent check for a smooth activation: 30-digit tanh-sinh quadrature (mpmath)
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    for i in (1, 2):
        for j in (0, 1, 2):
            for s in (0.5, 2.0):
                ref = mp.quad(
                    lambda z, i=i, j=j, s=s: (
                        (1 / mp.cosh(s * z) ** 2) ** i
                        * z**j
                        * mp.exp(-z * z / 2)
                        / mp.sqrt(2 * mp.pi)
                    ),
                    [-mp.inf, -4, -1, 0, 1, 4, mp.inf],
                )
                assert rl.alpha("tanh", i, j, s) == pytest.approx(
                    float(ref), rel=1e-8, abs=1e-14
                )


def test_alpha_relu_closed_forms():
    assert rl.alpha("relu", 1, 0, 3.0) == pytest.approx(0.5, rel=1e-10)
    assert rl.alpha("relu", 1, 1, 3.0) == pytest.approx(
        1 / np.sqrt(2 * np.pi), rel=1e-10
    )
    assert rl.alpha("relu", 2, 2, 3.0) == pytest.approx(0.5, rel=1e-10)
    assert rl.alpha("squared_relu", 1, 1, 2.0) == pytest.approx(
        2 * 2.0 * 0.5, rel=1e-10
    )


def _agrees_with_printed(x, printed):
    # the table prints 2 significant digits, rounded or truncated: allow one unit of the
    # 2nd digit
    return abs(x - printed) <= 10.0 ** (np.floor(np.log10(abs(printed))) - 1)


def test_paper_table_values():
    # the table printed on the slides of Zhong et al. (ICML 2017 talk)
    paper = {
        "relu": (0.091, 0.091, 0.091),
        "leaky_relu": (0.089, 0.089, 0.089),
        "tanh": (1.8e-4, 4.9e-2, 5.1e-5),
    }
    for name, vals in paper.items():
        for s, v in zip((0.1, 1.0, 10.0), vals):
            assert _agrees_with_printed(rl.rho(name, s), v)
    for s, v in zip((0.1, 1.0, 10.0), (1.9e-4, 5.2e-2, 2.5e-5)):
        assert _agrees_with_printed(rl.rho(ERF_PAPER, s), v)
    for s in (0.1, 1.0, 10.0):  # printed as 0.27 sigma^2
        assert _agrees_with_printed(rl.rho("squared_relu", s) / s**2, 0.27)
    # the standard erf does not reproduce the table (it is 4/pi times larger)
    assert not _agrees_with_printed(rl.rho("erf", 1.0), 5.2e-2)


def test_properties():
    p = rl.activation_properties("relu")
    assert (
        p.p1 and p.p1_power == 0 and p.p2 and p.p3 and p.p3_kind == "piecewise linear"
    )
    p = rl.activation_properties("squared_relu")
    assert (
        p.p1
        and p.p1_power == 1
        and p.p1_constant == pytest.approx(2.0)
        and p.p3_kind == "bounded second derivative"
    )
    p = rl.activation_properties("tanh")
    assert p.p1 and p.p2 and p.p3
    assert not rl.activation_properties("quadratic").p1  # phi'(z) = 2z < 0 for z < 0
    assert not rl.activation_properties("linear").p2  # rho = 0
    neg = Activation(
        "neg_relu",
        lambda z: np.maximum(-z, 0.0),
        lambda z: -(np.asarray(z) < 0).astype(float),
        kinks=(0.0,),
    )
    assert not rl.activation_properties(neg).p1
    assert "P1=True" in repr(rl.activation_properties("relu"))
    # rho(linear) is 0; what quadrature returns is round-off, whose digits differ
    # between machines
    assert "min rho=0 (to round-off)" in repr(rl.activation_properties("linear"))
    assert "min rho=0.0908" in repr(rl.activation_properties("relu"))


def test_validation():
    with pytest.raises(ValueError, match="scale"):
        rl.rho("relu", 0.0)
    with pytest.raises(TypeError, match="scale"):
        rl.rho("relu", "big")
    with pytest.raises(ValueError, match="i must be"):
        rl.alpha("relu", -1, 0)
    with pytest.raises(ValueError, match="activation"):
        rl.rho("nope")
    with pytest.raises(TypeError, match="network"):
        rl.population_hessian(np.eye(3))
    net = rl.planted_network(4, 2, 2, rng=0)
    with pytest.raises(ValueError, match="scalar output"):
        rl.population_hessian(net)


def _orthonormal_net(activation, d, k, signs):
    return rl.TwoLayerNetwork(
        np.asarray(signs, dtype=float)[None, :], np.eye(k, d), activation
    )


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_hessian_min_equals_rho_for_relu(name):
    for signs in ([1, 1, 1], [1, -1, 1], [-1, -1, 1]):
        lam = rl.smallest_hessian_eigenvalue(_orthonormal_net(name, 5, 3, signs))
        assert lam == pytest.approx(rl.rho(name, 1.0), rel=1e-8)


@pytest.mark.parametrize("name", ["squared_relu", "tanh", "erf"])
def test_hessian_min_above_rho_for_smooth(name):
    for signs in ([1, 1, 1], [1, -1, 1]):
        lam = rl.smallest_hessian_eigenvalue(_orthonormal_net(name, 5, 3, signs))
        assert lam >= rl.rho(name, 1.0) * (1 - 1e-8)


@pytest.mark.parametrize("name", ["relu", "squared_relu", "tanh"])
def test_hessian_against_monte_carlo(name):
    # planted non-orthogonal ground truth; H = E[g(x)] with per-sample matrices g(x) =
    # (v_j phi'(w_j.x) x)(v_l phi'(w_l.x) x)^T; each entry's Monte Carlo standard error
    # is estimated from the samples, and every entry must lie within 5 of them (a false
    # alarm has probability < 1e-6 per entry, < 1e-4 over the 36 x 36 entries), plus
    # 1e-12 for round-off.
    d, k, n = 6, 3, 200_000
    g = np.random.default_rng(1)
    truth = rl.planted_network(d, k, 1, rng=g, condition=2.0, activation=name)
    truth = rl.TwoLayerNetwork(np.array([[1.0, -1.0, 1.0]]), truth.V, name)
    H = rl.population_hessian(truth)
    X = g.standard_normal((d, n))
    D = truth.U[0][:, None] * truth.activation.derivative(truth.V @ X)  # (k, n)
    G = (D[:, None, :] * X[None, :, :]).reshape(k * d, n)  # gradient features, (k d, n)
    mean = G @ G.T / n
    sq = (G * G) @ (G * G).T / n
    se = np.sqrt(np.maximum(sq - mean**2, 0.0) / n)
    assert np.all(np.abs(H - mean) <= 5 * se + 1e-12)
    assert np.allclose(H, H.T, atol=1e-12)


def test_hessian_against_conditioning():
    # chapter 5's figure: lambda_min / rho(1) falls with kappa for ReLU and tanh, rises
    # for squared ReLU (its Hessian scales with the squared weight norms, which grow
    # with kappa when sigma_k = 1)
    def ratio(name, kappa):
        g = np.random.default_rng(0)
        truth = rl.planted_network(8, 4, 1, rng=g, condition=kappa, activation=name)
        v = g.choice([-1.0, 1.0], size=4)
        truth = rl.TwoLayerNetwork(v[None, :], truth.V, name)
        return rl.smallest_hessian_eigenvalue(truth) / rl.rho(name, 1.0)

    for name in ("relu", "tanh"):
        r = [ratio(name, kappa) for kappa in (1.0, 2.0, 4.0)]
        assert r[0] > r[1] > r[2] > 0
    r = [ratio("squared_relu", kappa) for kappa in (1.0, 2.0, 4.0)]
    assert r[0] < r[1] < r[2]
