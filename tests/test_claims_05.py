"""Chapter 5's claims: degenerate directions of linear and quadratic activations, parallel units, the Hessian's
sign invariance and upper bound, and the rho values the text quotes.

Each test plants an instance and checks a closed form or a proposition proved in the
chapter; a wrong population Hessian (block order, sign, scaling) makes them fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import relulearn as rl

D, K = 5, 3
U_MIXED = np.array([1.0, -1.0, 2.0])


def _hidden(seed=5, d=D, k=K):
    return rl.planted_network(d, k, 1, rng=seed, condition=2.0).V


def _hessian(u, V, activation):
    return rl.population_hessian(
        rl.TwoLayerNetwork(np.asarray(u, dtype=float)[None, :], V, activation)
    )


def _null_dim(H):
    ev = np.linalg.eigvalsh(H)
    return int(np.sum(ev < 1e-9 * ev[-1])), ev


def test_linear_hessian_is_kronecker_and_null_space():
    V = _hidden()
    H = _hessian(U_MIXED, V, "linear")
    assert np.allclose(H, np.kron(np.outer(U_MIXED, U_MIXED), np.eye(D)), atol=1e-12)
    null, ev = _null_dim(H)
    assert null == (K - 1) * D
    assert ev[null] == pytest.approx(
        U_MIXED @ U_MIXED, rel=1e-10
    )  # the non-zero eigenvalue is ||u||^2
    # sum_j u_j Delta_j = 0 is null
    g = np.random.default_rng(0)
    Delta = g.standard_normal((K, D))
    Delta[0] = -(U_MIXED[1:] @ Delta[1:]) / U_MIXED[0]
    assert np.linalg.norm(H @ Delta.ravel()) < 1e-12 * np.linalg.norm(
        H, 2
    ) * np.linalg.norm(Delta)


@pytest.mark.parametrize("u", [U_MIXED, np.ones(K), np.array([1.0, 1.0, -1.0, 0.5])])
def test_quadratic_null_space_is_the_group_tangent(u):
    k = u.size
    V = _hidden(seed=7, d=6, k=k)
    H = _hessian(u, V, "quadratic")
    null, ev = _null_dim(H)
    assert null == k * (k - 1) // 2
    assert (
        ev[null] > 1e-3 * ev[-1]
    )  # a clear gap: the count does not depend on the threshold
    dirs = []
    for a in range(k):
        for b in range(a + 1, k):
            C = np.zeros((k, k))
            C[a, b], C[b, a] = 1.0, -1.0
            dirs.append((np.diag(1 / u) @ C @ V).ravel())
    Dm = np.array(dirs).T
    assert np.linalg.matrix_rank(Dm) == null
    rel = np.linalg.norm(H @ Dm, axis=0) / (
        np.linalg.norm(H, 2) * np.linalg.norm(Dm, axis=0)
    )
    assert rel.max() < 1e-12
    # a random direction is not null
    x = np.random.default_rng(1).standard_normal(H.shape[0])
    assert x @ H @ x > 1e-6 * ev[-1] * (x @ x)


def test_quadratic_invariance_under_the_group():
    g = np.random.default_rng(2)
    V = g.standard_normal((2, 4))
    X = g.standard_normal((4, 500))
    t = 0.7
    hyper = np.array([[np.cosh(t), np.sinh(t)], [np.sinh(t), np.cosh(t)]])
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    for u, Q in [(np.array([[1.0, -1.0]]), hyper), (np.array([[1.0, 1.0]]), rot)]:
        a = rl.TwoLayerNetwork(u, V, "quadratic")(X)
        b = rl.TwoLayerNetwork(u, Q @ V, "quadratic")(X)
        assert np.max(np.abs(a - b)) < 1e-12 * np.max(np.abs(a))
    # the hyperbolic rotation does not preserve the network when u has equal signs
    a = rl.TwoLayerNetwork(np.array([[1.0, 1.0]]), V, "quadratic")(X)
    b = rl.TwoLayerNetwork(np.array([[1.0, 1.0]]), hyper @ V, "quadratic")(X)
    assert np.max(np.abs(a - b)) > 1e-2 * np.max(np.abs(a))


def test_single_unit_closed_forms():
    # exercise ch5-ex-k1: for k = 1 both degenerate activations give a positive definite
    # Hessian
    v = np.random.default_rng(3).standard_normal(D)
    Hq = _hessian([2.0], v[None, :], "quadratic")
    expect = 16 * (v @ v * np.eye(D) + 2 * np.outer(v, v))
    assert np.allclose(Hq, expect, rtol=1e-12, atol=1e-12 * np.abs(expect).max())
    Hl = _hessian([2.0], v[None, :], "linear")
    assert np.allclose(Hl, 4 * np.eye(D), atol=1e-12)
    assert np.linalg.eigvalsh(Hq)[0] == pytest.approx(16 * (v @ v), rel=1e-10)


@pytest.mark.parametrize("name", ["relu", "tanh", "squared_relu"])
def test_spectrum_does_not_depend_on_output_signs(name):
    V = _hidden(seed=11, d=4, k=3)
    ev = [
        np.linalg.eigvalsh(_hessian(s, V, name))
        for s in ([1, 1, 1], [1, -1, 1], [-1, -1, 1])
    ]
    for e in ev[1:]:
        assert np.allclose(e, ev[0], rtol=1e-10, atol=1e-12 * ev[0][-1])


@pytest.mark.parametrize(
    ("name", "halves"), [("relu", 0.5), ("squared_relu", 1 / np.sqrt(2))]
)
def test_parallel_units_make_the_hessian_singular(name, halves):
    # split unit 1 of the truth into two parallel copies that add up to it (f
    # homogeneous of degree p: f(c z) + f(c z) = f(z) for c = 2^{-1/p})
    d = 4
    truth = rl.TwoLayerNetwork(np.array([[1.0, 1.0]]), np.eye(2, d), name)
    Vs = np.zeros((3, d))
    Vs[0, 0] = Vs[1, 0] = halves
    Vs[2, 1] = 1.0
    student = rl.TwoLayerNetwork(np.ones((1, 3)), Vs, name)
    X = np.random.default_rng(0).standard_normal((d, 1000))
    assert np.max(np.abs(student(X) - truth(X))) < 1e-12 * np.max(np.abs(truth(X)))
    null, _ = _null_dim(rl.population_hessian(student))
    assert null == d
    null_truth, ev = _null_dim(rl.population_hessian(truth))
    assert null_truth == 0
    if name == "relu":
        assert ev[0] == pytest.approx(rl.rho("relu", 1.0), rel=1e-8)


@pytest.mark.parametrize(
    ("name", "L1", "ell"),
    [("relu", 1.0, 0), ("squared_relu", 2.0, 1), ("tanh", 1.0, 0)],
)
def test_hessian_upper_bound(name, L1, ell):
    # the proof sketch's bound, with ell the exponent of P1: H <= k u_max^2 L1^2
    # sqrt(E|z|^{4 ell} E z^4) s_1^{2 ell} I
    k = 4
    V = rl.planted_network(8, k, 1, rng=4, condition=3.0).V
    u = np.array([1.0, -2.0, 0.5, 1.0])
    lam_max = np.linalg.eigvalsh(_hessian(u, V, name))[-1]
    moment = (
        2 ** (2 * ell) * math.gamma(2 * ell + 0.5) / math.sqrt(math.pi)
    )  # E|z|^{4 ell}
    bound = (
        k
        * np.max(np.abs(u)) ** 2
        * L1**2
        * math.sqrt(3 * moment)
        * np.linalg.norm(V, 2) ** (2 * ell)
    )
    assert lam_max <= bound
    assert lam_max > 0.01 * bound  # not vacuous: the bound is within a factor 100 here


def test_rho_values_quoted_in_the_text():
    # quadratic: first term 0, third -4 s^2; linear: first term 0
    for s in (0.5, 2.0):
        t1, _, t3 = rl.rho_terms("quadratic", s)
        assert abs(t1) < 1e-12 * s**2
        assert t3 == pytest.approx(-4 * s**2, rel=1e-10)
        assert abs(rl.rho_terms("linear", s)[0]) < 1e-12
    # leaky ReLU with the slides' slope 0.1 has a smaller rho than with slope 0.01
    r01, r001 = rl.rho(rl.leaky_relu(0.1)), rl.rho(rl.leaky_relu(0.01))
    assert r01 == pytest.approx(0.505 - 1.1**2 / 4 - 0.9**2 / (2 * np.pi), rel=1e-8)
    assert round(r01, 3) == 0.074 and r01 < r001
    # one ReLU unit: share of E[f(z)^2] = 1/2 in the Hermite degrees <= 2 is (1/(2 pi) +
    # 1/4 + 1/(4 pi)) / (1/2)
    a = [
        rl.moment_coefficient("relu", q) / math.sqrt(math.factorial(q))
        for q in range(3)
    ]
    share = sum(x * x for x in a) / 0.5
    assert share == pytest.approx(
        (1 / (2 * np.pi) + 0.25 + 1 / (4 * np.pi)) / 0.5, rel=1e-10
    )
    assert round(share, 3) == 0.977


def test_scale_argument_is_validated():
    with pytest.raises(ValueError, match="scale"):
        rl.alpha("relu", 1, 0, scale=-1.0)
    assert rl.rho("squared_relu", scale=2.0) == pytest.approx(
        (4 / np.pi - 1) * 4, rel=1e-8
    )
    assert rl.activation_properties("relu", scales=(0.5, 2.0)).p2
