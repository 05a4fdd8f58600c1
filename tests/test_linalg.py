"""Tests of relulearn._linalg: the one implementation of each shared linear-algebra step."""

from __future__ import annotations

import numpy as np

import relulearn as rl
from relulearn import _linalg


def test_top_subspace_is_the_public_one_and_spans_the_top_singular_vectors():
    M = np.random.default_rng(0).standard_normal((6, 9))
    P = _linalg.top_subspace(M, 3)
    np.testing.assert_array_equal(P, rl.top_subspace(M, 3))
    U = np.linalg.svd(M)[0][:, :3]
    np.testing.assert_allclose(P @ P.T, U @ U.T, atol=1e-12)
    assert np.all(
        P[np.argmax(np.abs(P), axis=0), np.arange(3)] > 0
    )  # largest entry of each column positive


def test_solve_normal_equations_and_lstsq():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((50, 4))
    t = rng.standard_normal((50, 2))
    ref = np.linalg.lstsq(A, t, rcond=None)[0]
    np.testing.assert_allclose(
        _linalg.solve_normal_equations(A.T @ A, A.T @ t), ref, atol=1e-12
    )
    np.testing.assert_allclose(_linalg.lstsq(A, t), ref, atol=1e-12)
    np.testing.assert_allclose(_linalg.lstsq(A, t[:, 0]), ref[:, 0], atol=1e-12)
    # a consistent system is solved to round-off
    x = rng.standard_normal(4)
    np.testing.assert_allclose(_linalg.lstsq(A, A @ x), x, atol=1e-13)
    # singular Gram matrices are reported, and lstsq falls back to pivoted QR
    A2 = np.hstack([A, A[:, :1]])
    assert _linalg.solve_normal_equations(A2.T @ A2, A2.T @ t) is None
    assert np.linalg.norm(A2 @ _linalg.lstsq(A2, A @ x) - A @ x) < 1e-12


def test_output_layer_and_relative_residual():
    net = rl.planted_network(8, 3, 4, rng=2)
    X, Y = rl.sample(net, 3000, rng=3)
    c = net.canonical()
    U = _linalg.output_layer(X, Y, np.asarray(c.V))
    np.testing.assert_allclose(U, c.U, atol=1e-12)
    assert _linalg.relative_residual(X, Y, U, np.asarray(c.V)) < 1e-14
    Z = np.zeros_like(Y)
    V = np.asarray(c.V)
    assert _linalg.relative_residual(X, Y, Z[:, :3], V) == 1.0
    direct = np.linalg.norm(Y - 0.5 * c.U @ np.maximum(V @ X, 0)) / np.linalg.norm(Y)
    np.testing.assert_allclose(
        _linalg.relative_residual(X, Y, 0.5 * np.asarray(c.U), V), direct, rtol=1e-12
    )
    # a duplicated unit: singular without `exact`, pivoted QR with it
    V2 = np.vstack([V, V[:1]])
    assert _linalg.output_layer(X, Y, V2) is None
    U2 = _linalg.output_layer(X, Y, V2, exact=True)
    assert _linalg.relative_residual(X, Y, U2, V2) < 1e-12


def test_output_layer_nearly_parallel_units_stays_exact():
    # two units 1e-6 apart: the Gram matrix squares a condition number of ~1e6; the
    # exact path keeps round-off
    rng = np.random.default_rng(4)
    V = rng.standard_normal((3, 6))
    V[1] = V[0] + 1e-6 * rng.standard_normal(6)
    U = rng.standard_normal((5, 3))
    X = rng.standard_normal((6, 4000))
    Y = U @ np.maximum(V @ X, 0)
    Ue = _linalg.output_layer(X, Y, V, exact=True)
    assert _linalg.relative_residual(X, Y, Ue, V) < 1e-12
