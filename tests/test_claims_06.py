"""Claims of chapter 6 (symmetric inputs by the method of moments), checked on planted instances.

The exact checks use *exactly symmetric empirical laws*: the columns of [X, -X] form a
symmetric law, and the pairs (x, xi) of a symmetrised X and a symmetrised noise set,
taken in every combination, form a law in which x is symmetric and xi is independent of
x with mean zero. The chapter's theorems apply to those laws with the sample average as
the expectation, so their conclusions hold to round-off, at any n.
"""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl
from relulearn.symmetric import detector_null_space, detector_operator, svec


def _projected(net):
    """P (top-k left singular vectors of B = U V), U~ = P^T U and R = U~^{-T} (columns: the pure detectors)."""
    k = net.V.shape[0]
    P = np.linalg.svd(net.U @ net.V, full_matrices=False)[0][:, :k]
    Ut = P.T @ net.U
    return P, Ut, np.linalg.inv(Ut).T


@pytest.mark.parametrize(
    "law",
    [rl.StudentT(), rl.UniformCube(), rl.Laplace()],
    ids=lambda l: type(l).__name__,
)
def test_symmetrised_sample_is_recovered_to_round_off(law):
    # Theorem ch6-thm-identification applied to the empirical law of [X, -X] (noiseless
    # labels): the output is (U* Pi^T, Pi V*) exactly, so the errors are at round-off
    # (seen ~1e-15; tolerance 1e-9).  The raw sample of the same size is not symmetric
    # and gives an error of order 1e-2 (seen 0.02-0.06): > 1e-4.
    net = rl.planted_network(10, 4, 6, rng=0)
    X = law.sample(10, 2_000, rng=1)
    Xs = np.hstack([X, -X])
    res = rl.recover_symmetric(
        Xs, net(Xs), 4, rng=0, certify=False, on_failure="return"
    )
    err = rl.recovery_error(res, net, inputs=law)
    assert (
        res.status == "unverified"
    )  # determined null space, symmetric along the rows, fit not tested
    assert err.V < 1e-9 and err.U < 1e-9
    Xr = law.sample(10, 4_000, rng=2)
    raw = rl.recover_symmetric(
        Xr, net(Xr), 4, rng=0, certify=False, on_failure="return"
    )
    assert rl.recovery_error(raw, net, inputs=law).V > 1e-4


def test_identities_hold_exactly_on_a_symmetric_product_law():
    # x uniform on the columns of [X, -X], xi uniform on the columns of [Xi, -Xi], all
    # pairs: x symmetric, xi independent of x with mean zero.  Theorem
    # ch6-thm-identities, items 1 and 2, to round-off.
    d, k = 5, 3
    net = rl.planted_network(d, k, k, rng=3).canonical()
    U, V = net.U, net.V
    X0 = rl.Laplace().sample(d, 300, rng=4)
    Xs = np.hstack([X0, -X0])
    Xi0 = 0.3 * np.random.default_rng(5).standard_normal((k, 7))
    Xis = np.hstack([Xi0, -Xi0])
    X = np.repeat(Xs, Xis.shape[1], axis=1)
    Xi = np.tile(Xis, Xs.shape[1])
    Y = net(X) + Xi
    n = X.shape[1]
    Sigma = X @ X.T / n
    Sigma_xi = Xi @ Xi.T / n
    B = U @ V
    # item 1: E[y x^T] = 1/2 B Sigma
    assert np.allclose(Y @ X.T / n, 0.5 * B @ Sigma, atol=1e-12)
    # item 2: T(S) = -sum_{i<j} (U^T S U)_ij N_ij + tr(S Sigma_xi) Sigma, for a random
    # symmetric S
    G = np.random.default_rng(6).standard_normal((k, k))
    S = G + G.T
    T_def = ((Y * (S @ Y)).sum(axis=0) * X) @ X.T / n - 0.5 * (
        ((B @ X) * (S @ B @ X)).sum(axis=0) * X
    ) @ X.T / n
    Z = V @ X
    M = U.T @ S @ U
    rhs = np.trace(S @ Sigma_xi) * Sigma
    for i in range(k):
        for j in range(i + 1, k):
            g = Z[i] * Z[j] * (Z[i] * Z[j] <= 0)
            rhs -= M[i, j] * (X * g) @ X.T / n
    assert np.allclose(T_def, rhs, atol=1e-10 * np.abs(rhs).max())
    # the package's operator has the same mean (step 3 of the algorithm)
    assert np.allclose(
        detector_operator(X, Y, B) @ svec(S),
        svec(T_def),
        atol=1e-10 * np.abs(rhs).max(),
    )


def test_projecting_out_sigma_is_what_makes_noise_harmless():
    # Exercise ch6-ex-noise, on the exact product law above (m = k): with noise, the
    # unprojected operator has k - 1 singular values at round-off and the k-th clearly
    # not; after projecting out svec(Sigma) there are k, spanning {R D R^T : D
    # diagonal}.
    d, k = 5, 3
    net = rl.planted_network(d, k, k, rng=3).canonical()
    X0 = rl.Laplace().sample(d, 300, rng=4)
    Xs = np.hstack([X0, -X0])
    Xi0 = 0.3 * np.random.default_rng(5).standard_normal((k, 7))
    Xis = np.hstack([Xi0, -Xi0])
    X = np.repeat(Xs, Xis.shape[1], axis=1)
    Y = net(X) + np.tile(Xis, Xs.shape[1])
    T = detector_operator(X, Y, net.U @ net.V)
    sv = np.linalg.svd(T, compute_uv=False) / np.linalg.norm(T, 2)
    assert np.all(sv[-(k - 1) :] < 1e-10) and sv[-k] > 1e-4
    ns = detector_null_space(T, X @ X.T / X.shape[1], k)
    assert np.all(ns.smallest < 1e-10) and ns.next > 1e-4
    R = np.linalg.inv(net.U).T
    for Zl in ns.basis:
        D = np.linalg.solve(R, np.linalg.solve(R, Zl).T)  # R^-1 Z R^-T
        assert np.abs(D - np.diag(np.diag(D))).max() < 1e-8 * np.abs(D).max()


def test_step_3_summand_vanishes_sample_by_sample_on_the_null_space():
    # Exercise ch6-ex-cancel (and its numerical version): noiseless labels and the exact
    # B~, S = R D R^T. The step-3 summand eta^T S eta - l^T S l is zero for every sample
    # (algebra: round-off only), even on heavy-tailed Student-t inputs; the summand of
    # the definition of T, 2 l^T S eta, is not; and for a random S the operator is of
    # order one.
    net = rl.planted_network(10, 4, 6, rng=0).canonical()
    P, _, R = _projected(net)
    X = rl.StudentT().sample(10, 20_000, rng=2)
    Yt = P.T @ net(X)
    Bt = P.T @ net.U @ net.V
    S_null = R @ np.diag([1.0, 2.0, -1.0, 0.5]) @ R.T
    ell = 0.5 * Bt @ X
    eta = Yt - ell
    step3 = (eta * (S_null @ eta)).sum(axis=0) - (ell * (S_null @ ell)).sum(axis=0)
    definition = 2 * (ell * (S_null @ eta)).sum(axis=0)
    scale = (ell * (S_null @ ell)).sum(axis=0)
    assert np.abs(step3).max() < 1e-10 * np.abs(scale).max()
    assert np.abs(definition).max() > 0.1 * np.abs(scale).max()
    T = detector_operator(X, Yt, Bt)
    G = np.random.default_rng(0).standard_normal((4, 4))
    S_rand = G + G.T

    def rel(S):
        return np.linalg.norm(T @ svec(S)) / (
            np.linalg.norm(T, 2) * np.linalg.norm(svec(S))
        )

    assert rel(S_null) < 1e-12
    assert rel(S_rand) > 0.1
    # with noise the cancellation is only in the mean: the null-space value is no longer
    # at round-off
    Yn = Yt + 0.1 * np.random.default_rng(3).standard_normal(Yt.shape)
    Tn = detector_operator(X, Yn, Bt)
    assert np.linalg.norm(Tn @ svec(S_null)) > 1e-6 * np.linalg.norm(
        Tn, 2
    ) * np.linalg.norm(svec(S_null))


def test_null_space_perturbation_bound():
    # The bound of remark ch6-rem-studentt: for a unit z in the null space of T', the
    # part of z orthogonal to the k smallest right singular vectors of T^ has norm <=
    # ||T^ z|| / s, s the (k+1)-th smallest singular value of T^ (a deterministic
    # inequality: checked on random perturbations of a matrix with a planted null
    # space).
    rng = np.random.default_rng(0)
    p, q, k = 15, 10, 4
    for trial in range(20):
        Q = np.linalg.qr(rng.standard_normal((q, q)))[0]
        Z = Q[:, :k]  # planted null space
        T = rng.standard_normal((p, q - k)) @ Q[:, k:].T
        Th = T + 10.0 ** rng.uniform(-4, -1) * rng.standard_normal((p, q))
        _, s, Vt = np.linalg.svd(Th)
        Zh = Vt[q - k :].T  # estimated null space
        s_next = s[q - k - 1]
        z = Z @ rng.standard_normal(k)
        z /= np.linalg.norm(z)
        off = z - Zh @ (Zh.T @ z)
        assert np.linalg.norm(off) <= np.linalg.norm(Th @ z) / s_next * (1 + 1e-12)
