"""Tests of relulearn.tensor_init: moment identities (Monte Carlo), decomposition, recovery."""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl

S2PI = np.sqrt(2 * np.pi)


def _planted(seed, activation, d, k, n, condition=2.0):
    g = np.random.default_rng(seed)
    net = rl.planted_network(d, k, 1, rng=g, condition=condition, activation=activation)
    v = g.choice([-1.0, 1.0], size=k)
    net = rl.TwoLayerNetwork(v[None, :], net.V, activation)
    X = g.standard_normal((d, n))
    return net, X, net(X)[0]


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_moment_constants_closed_forms(sigma):
    # the m_j(sigma) of Zhong et al. are the moment coefficients c_j(sigma), j = 1..4
    def m(act):
        return np.array([rl.moment_coefficient(act, j, sigma) for j in range(1, 5)])

    assert np.allclose(
        m("relu"), sigma * np.array([0.5, 1 / S2PI, 0, -1 / S2PI]), atol=1e-12
    )
    c = 0.1
    expect = sigma * np.array([(1 + c) / 2, (1 - c) / S2PI, 0, -(1 - c) / S2PI])
    assert np.allclose(m(rl.leaky_relu(c)), expect, atol=1e-12)
    expect = sigma**2 * np.array([2 / S2PI, 1, 2 / S2PI, 0])
    assert np.allclose(m("squared_relu"), expect, atol=1e-12)


def _hermite_samples(Z, order):
    """Per-sample projected Hermite tensors He_order(z), shape (k,)*order + (n,), written out directly."""
    k = Z.shape[0]
    eye = np.eye(k)
    if order == 3:
        T = np.einsum("an,bn,cn->abcn", Z, Z, Z)
        T -= (
            np.einsum("an,bc->abcn", Z, eye)
            + np.einsum("bn,ac->abcn", Z, eye)
            + np.einsum("cn,ab->abcn", Z, eye)
        )
        return T
    T = np.einsum("an,bn,cn,dn->abcdn", Z, Z, Z, Z)
    for (p, q), (r, s) in (
        (("a", "b"), ("c", "d")),
        (("a", "c"), ("b", "d")),
        (("a", "d"), ("b", "c")),
        (("b", "c"), ("a", "d")),
        (("b", "d"), ("a", "c")),
        (("c", "d"), ("a", "b")),
    ):
        T -= np.einsum(f"{p}n,{q}n,{r}{s}->abcdn", Z, Z, eye)
    T += (
        np.einsum("ab,cd->abcd", eye, eye)
        + np.einsum("ac,bd->abcd", eye, eye)
        + np.einsum("ad,bc->abcd", eye, eye)
    )[..., None]
    return T


@pytest.mark.parametrize("name,order", [("squared_relu", 3), ("relu", 4), ("relu", 3)])
def test_claim_5_2_projected_moments(name, order):
    # Claim 5.2: M_j(V,..,V) = sum_i v_i m_j(|w_i|) u_i^(x)j, u_i = V^T wbar_i, for w_i
    # in span(V). The Monte Carlo estimate is the mean of per-sample tensors y He_j(z);
    # each entry must lie within 5 standard errors (estimated from the same samples) of
    # the closed form, plus 1e-12.
    d, k, n = 5, 3, 100_000
    g = np.random.default_rng(7)
    V = np.linalg.qr(g.standard_normal((d, k)))[0]
    C = g.standard_normal((k, k)) * 0.5 + np.eye(k)
    W = (V @ C).T  # rows in span(V)
    v = np.array([1.0, -1.0, 1.0])
    net = rl.TwoLayerNetwork(v[None, :], W, name)
    X = g.standard_normal((d, n))
    y = net(X)[0]
    norms = np.linalg.norm(W, axis=1)
    U = V.T @ (W / norms[:, None]).T
    coef = v * np.array([rl.moment_coefficient(name, order, s) for s in norms])
    sub = "abcd"[:order]
    expect = np.einsum(
        ",".join(f"{c}i" for c in sub) + ",i->" + sub, *([U] * order), coef
    )
    per = _hermite_samples(V.T @ X, order) * y
    mean = per.mean(axis=-1)
    se = per.std(axis=-1) / np.sqrt(n)
    assert np.all(np.abs(mean - expect) <= 5 * se + 1e-12)
    # the library's estimator is exactly that mean
    assert np.allclose(rl.projected_moment(X, y, V, order), mean, atol=1e-10)


def test_low_order_residuals_keep_moment_and_cut_variance():
    net, X, y = _planted(3, "relu", 6, 3, 50_000)
    _, y2, M1, _ = rl.low_order_residuals(X, y)
    # the degree <= 2 part carries ~98% of E[y^2] for ReLU, so var(y2) is a few % of
    # var(y)
    assert np.var(y2) < 0.1 * np.var(y)
    # M1 matches its closed form sum_i v_i m_1(|w_i|) wbar_i = sum_i v_i w_i / 2 within
    # 5 standard errors
    expect = 0.5 * net.V.T @ net.U[0]
    se = np.std(X * (y - y.mean()), axis=1) / np.sqrt(X.shape[1])
    assert np.all(np.abs(M1 - expect) <= 5 * se)


@pytest.mark.parametrize("order", [3, 4])
def test_decomposition_exact(order):
    g = np.random.default_rng(order)
    k = 4
    U = g.standard_normal((k, k))
    U /= np.linalg.norm(U, axis=0)
    c = np.array([1.0, -0.7, 0.5, -1.3])
    sub = "abcd"[:order]
    T = np.einsum(",".join(f"{s}i" for s in sub) + ",i->" + sub, *([U] * order), c)
    B, gap = rl.decompose_symmetric_tensor(T, k, rng=0)
    M = np.abs(B.T @ U)
    assert gap > 0
    assert np.allclose(np.sort(M.max(axis=0)), 1.0, atol=1e-8)


@pytest.mark.parametrize("name", ["relu", "squared_relu"])
def test_recovery_small(name):
    # a smaller version of the target (bench/tensor_gd.py runs d=10, k=5, n=20000, 10
    # seeds)
    for seed in range(3):
        truth, X, y = _planted(seed, name, 8, 3, 10_000)
        res = rl.recover_tensor_gd(X, y, 3, activation=name, rng=seed)
        err = rl.bottleneck_weight_error(res.network, truth)
        assert err.succeeded(0.01), (seed, err)
        assert res.network.U.shape == (1, 3)
        assert len(res.history) == res.details["iterations"]
        init_err = rl.bottleneck_weight_error(res.details["init"].network, truth)
        assert init_err.signs_match and init_err.max_relative < 0.5


def test_validation():
    _, X, y = _planted(0, "relu", 5, 2, 200)
    with pytest.raises(ValueError, match="activation"):
        rl.tensor_initialization(X, y, 2, activation="tanh")
    with pytest.raises(ValueError, match="k="):
        rl.recover_tensor_gd(X, y, 6)
    with pytest.raises(ValueError, match="y must be scalar"):
        rl.tensor_initialization(X, np.vstack([y, y]), 2)
    with pytest.raises(ValueError, match="order"):
        rl.projected_moment(X, y, np.eye(5, 2), 5)
    with pytest.raises(ValueError, match="T must have shape"):
        rl.decompose_symmetric_tensor(np.zeros((2, 3, 2)), 2)
    with pytest.raises(ValueError, match="scale"):
        rl.moment_coefficient("relu", 1, -1.0)


def test_descent_converges_linearly():
    # chapter 5's Figure 1(c), run (I): after the initialisation the objective falls
    # geometrically. Fit log(loss) against the iteration on the part between 1e-6 and
    # 1e-16 of the start: a straight line (R^2 > 0.98) with a negative slope, and the
    # run ends below 1e-16 of the starting objective.
    truth, X, y = _planted(5, "squared_relu", 10, 5, 10_000)
    res = rl.recover_tensor_gd(X, y, 5, activation="squared_relu", rng=5, max_iter=600)
    h = res.history
    assert h[-1] < 1e-16 * h[0]
    sel = (h < 1e-6 * h[0]) & (h > 1e-16 * h[0])
    t = np.nonzero(sel)[0]
    assert t.size > 20
    slope, intercept = np.polyfit(t, np.log(h[sel]), 1)
    resid = np.log(h[sel]) - (slope * t + intercept)
    r2 = 1 - resid.var() / np.log(h[sel]).var()
    assert slope < 0 and r2 > 0.98
    assert rl.bottleneck_weight_error(res.network, truth).succeeded(0.01)
