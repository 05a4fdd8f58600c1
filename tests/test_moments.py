"""Tests of relulearn.moments: closed forms against quadrature and Monte Carlo."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import relulearn as rl
from relulearn.moments import (
    PHI0,
    first_moment,
    fourth_moment_contraction,
    gaussian_expectation,
    gaussian_rule,
    moment_coefficient,
    population_first_moment,
    population_fourth_moment_contraction,
    population_second_moment_contraction,
    projected_second_moment,
    second_moment_contraction,
)


@pytest.mark.parametrize("s", [0.3, 1.0, 1.7])
def test_relu_moment_coefficients_closed_forms(s):
    # E relu(sz) = s phi0, E relu(sz) z = s/2, E relu(sz) He2 = s phi0, He3: 0, He4: -s
    # phi0, He6: 3 s phi0 ((2j-3)!! with j = 3; Bakshi et al. 2019, §2).  Quadrature is
    # accurate to ~1e-12.
    expected = {
        0: s * PHI0,
        1: s / 2,
        2: s * PHI0,
        3: 0.0,
        4: -s * PHI0,
        6: 3 * s * PHI0,
    }
    for p, val in expected.items():
        assert moment_coefficient("relu", p, s) == pytest.approx(val, abs=1e-10)


def test_other_rectified_coefficients():
    s = 1.3
    assert moment_coefficient("squared_relu", 1, s) == pytest.approx(
        2 * s**2 * PHI0, abs=1e-10
    )
    assert moment_coefficient("squared_relu", 2, s) == pytest.approx(s**2, abs=1e-10)
    # step: c_2 = 0 and c_3 = -phi0 (spec §2: use the lowest nonzero order >= 2)
    assert moment_coefficient("step", 2) == pytest.approx(0.0, abs=1e-10)
    assert moment_coefficient("step", 3) == pytest.approx(-PHI0, abs=1e-10)


def test_moment_coefficient_matches_monte_carlo():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(1_000_000)
    for name, p in [("softplus", 2), ("tanh", 3), ("squared_relu", 4)]:
        vals = rl.get_activation(name)(0.8 * z) * np.polynomial.hermite_e.hermeval(
            z, [0] * p + [1]
        )
        se = vals.std() / math.sqrt(z.size)  # 5 standard errors of the Monte Carlo mean
        assert abs(vals.mean() - moment_coefficient(name, p, 0.8)) < 5 * se


def test_moment_coefficient_validation():
    with pytest.raises(ValueError, match="scale"):
        moment_coefficient("relu", 2, -1.0)
    with pytest.raises(ValueError, match="order"):
        moment_coefficient("relu", -1)
    with pytest.raises(TypeError, match="order"):
        moment_coefficient("relu", 1.5)


@pytest.fixture(scope="module")
def mc_data():
    net = rl.planted_network(5, 3, 2, rng=3)
    X, Y = rl.sample(net, 400_000, rng=4)
    return net, X, Y


def test_first_moment_matches_closed_form(mc_data):
    net, X, Y = mc_data
    n = X.shape[1]
    est = first_moment(X, Y)
    # for ReLU the closed form is U V / 2
    assert np.allclose(population_first_moment(net), net.U @ net.V / 2, atol=1e-12)
    # per entry: 5 standard errors of the mean of y_r x_a, estimated from the samples
    se = np.sqrt(((Y**2) @ (X**2).T / n - est**2) / n)
    assert np.all(np.abs(est - population_first_moment(net)) < 5 * se)


def test_second_moment_contraction_matches_closed_form(mc_data):
    net, X, Y = mc_data
    n = X.shape[1]
    g = np.array([0.6, -1.1])
    est = second_moment_contraction(X, Y, g)
    truth = population_second_moment_contraction(net, g)
    # 5 standard errors of the mean, from the spread of 40 batch estimates
    batches = [
        second_moment_contraction(X[:, j::40], Y[:, j::40], g) for j in range(40)
    ]
    se = np.std(batches, axis=0, ddof=1) / math.sqrt(40)
    assert n == 400_000
    assert np.all(np.abs(est - truth) < 5 * se)
    # for ReLU: phi0 sum_i (g.u_i) s_i vbar_i vbar_i^T (spec §2)
    s = np.linalg.norm(net.V, axis=1)
    Vb = net.V / s[:, None]
    assert np.allclose(truth, PHI0 * (Vb.T * (s * (g @ net.U))) @ Vb, atol=1e-12)


def test_projected_second_moment_is_the_projected_contraction(mc_data):
    _, X, Y = mc_data
    Xs, Ys = X[:, :2000], Y[:, :2000]
    P = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 3)))[0]
    T = projected_second_moment(Xs, Ys, P)
    assert T.shape == (2, 3, 3)
    g = np.array([0.3, 2.0])
    assert np.allclose(
        np.tensordot(g, T, axes=1),
        P.T @ second_moment_contraction(Xs, Ys, g) @ P,
        atol=1e-12,
    )


def _he4_full(x):
    p = x.size
    I = np.eye(p)
    T = np.einsum("a,b,c,d->abcd", x, x, x, x)
    for a, b, c, d in itertools.product(range(p), repeat=4):
        pairs = [
            (a, b, c, d),
            (a, c, b, d),
            (a, d, b, c),
            (b, c, a, d),
            (b, d, a, c),
            (c, d, a, b),
        ]
        T[a, b, c, d] -= sum(x[i] * x[j] * I[k, l] for i, j, k, l in pairs)
        T[a, b, c, d] += I[a, b] * I[c, d] + I[a, c] * I[b, d] + I[a, d] * I[b, c]
    return T


def test_fourth_moment_contraction_matches_full_tensor():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 4))
    y = rng.standard_normal(4)
    g, h = rng.standard_normal(3), rng.standard_normal(3)
    full = sum(y[j] * _he4_full(X[:, j]) for j in range(4)) / 4
    assert np.allclose(
        fourth_moment_contraction(X, y, g, h),
        np.einsum("abcd,a,b->cd", full, g, h),
        atol=1e-12,
    )


def test_fourth_moment_contraction_matches_closed_form():
    net = rl.planted_network(3, 2, 1, rng=5)
    X, Y = rl.sample(net, 400_000, rng=6)
    g, h = np.array([1.0, 0.5, -0.3]), np.array([0.2, -1.0, 0.7])
    est = fourth_moment_contraction(X, Y, g, h)
    truth = population_fourth_moment_contraction(net, g, h)
    # standard errors from per-sample contributions, computed on chunks to keep memory
    # small
    n = X.shape[1]
    chunks = [
        fourth_moment_contraction(X[:, j::40], Y[:, j::40], g, h) for j in range(40)
    ]
    se = np.std(chunks, axis=0, ddof=1) / math.sqrt(
        40
    )  # 5 SE of the mean over 40 batches
    assert n == 400_000
    assert np.all(np.abs(est - truth) < 5 * se + 1e-12)
    # for ReLU, c_4 = -s phi0
    s = np.linalg.norm(net.V, axis=1)
    Vb = net.V / s[:, None]
    w = -PHI0 * s * net.U[0] * (Vb @ g) * (Vb @ h)
    assert np.allclose(truth, (Vb.T * w) @ Vb, atol=1e-12)


def test_moment_validation():
    X = np.zeros((3, 5))
    with pytest.raises(ValueError, match="Y"):
        first_moment(X, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="g"):
        second_moment_contraction(X, np.zeros((2, 5)), np.zeros(3))
    with pytest.raises(ValueError, match="P"):
        projected_second_moment(X, np.zeros((2, 5)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="y"):
        fourth_moment_contraction(X, np.zeros((2, 5)), np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match="net"):
        population_first_moment("net")


def test_population_moments_take_any_object_with_U_V_activation():
    # moments needs no network type: a duck with U, V and activation gives the same closed forms
    from types import SimpleNamespace

    net = rl.planted_network(6, 3, 1, rng=3)
    duck = SimpleNamespace(U=net.U, V=net.V, activation=net.activation)
    g, h = np.ones(6), np.arange(6.0)
    assert np.array_equal(population_first_moment(duck), population_first_moment(net))
    assert np.array_equal(
        population_second_moment_contraction(duck, [1.0]),
        population_second_moment_contraction(net, [1.0]),
    )
    assert np.array_equal(
        population_fourth_moment_contraction(duck, g, h),
        population_fourth_moment_contraction(net, g, h),
    )


def test_the_two_gaussian_rules_agree_with_each_other_and_with_hermite_coefficients():
    # gaussian_expectation (adaptive) and gaussian_rule (fixed Gauss-Legendre) are
    # independent quadratures of the same integrals: E[z^4] = 3, E|z| = 2 phi0, and a_n
    # = c_n(1) / sqrt(n!)
    assert gaussian_expectation(lambda z: z**4) == pytest.approx(3.0, abs=1e-13)
    assert gaussian_expectation(np.abs, kinks=(0.0,)) == pytest.approx(
        2 * PHI0, abs=1e-14
    )
    nodes, weights = gaussian_rule((0.0,), 10)
    assert weights @ np.abs(nodes) == pytest.approx(2 * PHI0, abs=1e-14)
    for name in ("tanh", "relu", "softplus"):
        a = rl.hermite_coefficients(name, 6)
        c = np.array(
            [
                moment_coefficient(name, n, 1.0) / math.sqrt(math.factorial(n))
                for n in range(7)
            ]
        )
        assert np.max(np.abs(a - c)) < 1e-12, name


def _planted_low_rank(d, k, m, seed, rank=None):
    net = rl.planted_network(d, k, m, rng=seed)
    if rank is not None:  # an output layer of the given rank
        g = np.random.default_rng(seed + 1000)
        net = rl.TwoLayerNetwork(
            g.standard_normal((m, rank)) @ g.standard_normal((rank, k)), net.V
        )
    return net


def _he4_per_sample(Z):
    """He4(z) for each column of Z (k, n), as an (n, k, k, k, k) array (small k only; test reference)."""
    k = Z.shape[0]
    eye = np.eye(k)
    z = Z.T
    z4 = np.einsum("na,nb,nc,nd->nabcd", z, z, z, z)
    zz = np.einsum("na,nb->nab", z, z)
    two = sum(
        np.einsum(spec, zz, eye)
        for spec in (
            "nab,cd->nabcd",
            "nac,bd->nabcd",
            "nad,bc->nabcd",
            "nbc,ad->nabcd",
            "nbd,ac->nabcd",
            "ncd,ab->nabcd",
        )
    )
    zero = (
        np.einsum("ab,cd->abcd", eye, eye)
        + np.einsum("ac,bd->abcd", eye, eye)
        + np.einsum("ad,bc->abcd", eye, eye)
    )
    return z4 - two + zero[None]


def test_projected_moment_order_4_matches_closed_form():
    # E[y He4(z)] = -phi0 sum_i u~_i b_i^(x)4 for z = P^T x, P an orthonormal basis of
    # the span of V*.
    net = _planted_low_rank(6, 2, 1, seed=1)
    c = net.canonical()
    P = np.linalg.qr(c.V.T)[0]
    X, Y = rl.sample(net, 200_000, rng=2)
    Z = P.T @ X
    est = rl.projected_moment(Z, Y[0], np.eye(2), 4)
    # the same moment from the unprojected inputs, streamed, is the same estimate
    np.testing.assert_allclose(rl.projected_moment(X, Y, P, 4), est, atol=1e-12)
    B = P.T @ c.V.T
    pop = -rl.PHI0 * np.einsum("i,ai,bi,ci,di->abcd", c.U[0], B, B, B, B)
    # tolerance: 5 standard errors of the mean, per entry, estimated from the per-sample
    # values y_j He4(z_j)
    per = Y[0][:, None, None, None, None] * _he4_per_sample(Z)
    se = per.std(axis=0) / np.sqrt(Z.shape[1])
    assert np.all(np.abs(est - pop) <= 5 * se)
    # and the estimator is the mean of the per-sample values to round-off
    np.testing.assert_allclose(est, per.mean(axis=0), atol=1e-12)


def test_projected_moment_validation():
    X = np.random.default_rng(0).standard_normal((3, 50))
    Y = np.ones((2, 50))
    with pytest.raises(ValueError, match="y must be scalar"):
        rl.projected_moment(X, Y, np.eye(3, 2), 4)
    with pytest.raises(ValueError, match="w must have length"):
        rl.projected_moment(X, Y, np.eye(3, 2), 4, w=np.ones(3))


def test_second_order_moments_match_the_contractions():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((5, 3000)), rng.standard_normal((2, 3000))
    ybar, M1, T2 = rl.second_order_moments(X, Y)
    np.testing.assert_allclose(ybar, Y.mean(axis=1), atol=1e-14)
    np.testing.assert_allclose(M1, rl.first_moment(X, Y), atol=1e-13)
    g = np.array([0.3, -1.2])
    np.testing.assert_allclose(
        np.einsum("r,rab->ab", g, T2), rl.second_moment_contraction(X, Y, g), atol=1e-12
    )
