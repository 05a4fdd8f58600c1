"""Tests of relulearn.tensors on planted tensors (no networks involved)."""

from __future__ import annotations

import numpy as np
import pytest

from relulearn import (
    JennrichResult,
    jennrich,
    simultaneous_diagonalization,
    top_subspace,
    whitening,
)


def _match_error(B_hat, B):
    """Largest distance between unit columns of B_hat and B after best sign/permutation."""
    from scipy.optimize import linear_sum_assignment

    Bn = B / np.linalg.norm(B, axis=0)
    C = np.abs(B_hat.T @ Bn)
    r, c = linear_sum_assignment(-C)
    assert len(r) == B.shape[1]
    signs = np.sign(np.sum(B_hat[:, r] * Bn[:, c], axis=0))
    return float(np.max(np.linalg.norm(B_hat[:, r] * signs - Bn[:, c], axis=0)))


def _planted(p, k, dim, rng):
    B = rng.standard_normal((p, k))
    W = rng.standard_normal((dim, k))
    return B, W


@pytest.mark.parametrize("p,k", [(5, 5), (12, 4), (30, 10)])
def test_simultaneous_diagonalization_symmetric(p, k):
    rng = np.random.default_rng(p + k)
    B = rng.standard_normal((p, k))
    l1, l2 = rng.standard_normal(k), rng.standard_normal(k)
    M1, M2 = B @ np.diag(l1) @ B.T, B @ np.diag(l2) @ B.T
    B_hat, ratios, gap = simultaneous_diagonalization(M1, M2, k)
    assert B_hat.shape == (p, k)
    assert np.allclose(np.linalg.norm(B_hat, axis=0), 1.0)
    assert _match_error(B_hat, B) < 1e-8
    assert np.allclose(np.sort(ratios), np.sort(l1 / l2), rtol=1e-7)
    r = l1 / l2
    diffs = np.abs(r[:, None] - r[None, :])[~np.eye(k, dtype=bool)]
    assert gap == pytest.approx(diffs.min() / np.abs(r).max(), rel=1e-6)


def test_simultaneous_diagonalization_nonsymmetric_rectangular():
    rng = np.random.default_rng(1)
    p, q, k = 9, 7, 4
    B, C = rng.standard_normal((p, k)), rng.standard_normal((q, k))
    l1, l2 = rng.standard_normal(k), rng.standard_normal(k)
    B_hat, _, _ = simultaneous_diagonalization(
        B @ np.diag(l1) @ C.T, B @ np.diag(l2) @ C.T, k
    )
    assert _match_error(B_hat, B) < 1e-8


def test_simultaneous_diagonalization_equal_ratios_has_zero_gap():
    rng = np.random.default_rng(2)
    B = rng.standard_normal((6, 3))
    M = B @ B.T
    _, _, gap = simultaneous_diagonalization(M, 2 * M, 3)
    assert gap < 1e-8


def test_simultaneous_diagonalization_validation():
    with pytest.raises(ValueError, match="M1 and M2"):
        simultaneous_diagonalization(np.eye(3), np.eye(4), 2)
    with pytest.raises(ValueError, match="k=5"):
        simultaneous_diagonalization(np.eye(3), np.eye(3), 5)
    with pytest.raises(TypeError, match="k"):
        simultaneous_diagonalization(np.eye(3), np.eye(3), 1.5)
    with pytest.raises(ValueError, match="M1"):
        simultaneous_diagonalization(np.full((3, 3), np.nan), np.eye(3), 2)


@pytest.mark.parametrize("p,k,dim", [(10, 4, 4), (25, 8, 8), (20, 5, 12)])
def test_jennrich_planted_tensor(p, k, dim):
    rng = np.random.default_rng(10 * p + k)
    B, W = _planted(p, k, dim, rng)

    def contract(g):  # sum_r g_r T[r] with T = sum_i w_i (x) b_i (x) b_i
        return (B * (g @ W)) @ B.T

    res = jennrich(contract, dim, k, rng=0, n_draws=5)
    assert isinstance(res, JennrichResult)
    assert res.components.shape == (p, k) and res.n_draws == 5
    assert _match_error(res.components, B) < 1e-7
    assert "JennrichResult(p=" in repr(res) and "0x" not in repr(res)


def test_jennrich_keeps_best_draw_and_is_robust_to_noise():
    """With small additive noise the kept draw has the largest gap; error scales with the noise."""
    rng = np.random.default_rng(5)
    p, k, dim, eps = 15, 6, 6, 1e-6
    B, W = _planted(p, k, dim, rng)
    E = rng.standard_normal((dim, p, p))

    def contract(g):
        return (B * (g @ W)) @ B.T + eps * np.tensordot(g, E, axes=1)

    res1 = jennrich(contract, dim, k, rng=3, n_draws=1)
    res8 = jennrich(contract, dim, k, rng=3, n_draws=8)
    assert res8.gap >= res1.gap  # the first draw of rng=3 is among the 8
    # perturbation theory: error ~ eps * cond / gap; 1e-3 leaves a wide margin at eps =
    # 1e-6
    assert _match_error(res8.components, B) < 1e-3


def test_jennrich_deterministic_given_seed():
    rng = np.random.default_rng(6)
    B, W = _planted(8, 3, 3, rng)

    def contract(g):
        return (B * (g @ W)) @ B.T

    a = jennrich(contract, 3, 3, rng=11)
    b = jennrich(contract, 3, 3, rng=11)
    assert np.array_equal(a.components, b.components)


def test_jennrich_validation():
    with pytest.raises(TypeError, match="contract"):
        jennrich(np.eye(3), 3, 2)
    with pytest.raises(ValueError, match="n_draws"):
        jennrich(lambda g: np.eye(3), 3, 2, n_draws=0)
    with pytest.raises(ValueError, match="square"):
        jennrich(lambda g: np.ones((3, 4)), 3, 2)


def test_whitening_and_top_subspace():
    rng = np.random.default_rng(7)
    B = rng.standard_normal((10, 4))
    w = rng.uniform(0.5, 2.0, 4)
    M = B @ np.diag(w) @ B.T
    Wm = whitening(M, 4)
    assert np.allclose(Wm @ M @ Wm.T, np.eye(4), atol=1e-10)
    Z = Wm @ B * np.sqrt(w)
    assert np.allclose(Z.T @ Z, np.eye(4), atol=1e-10)
    P = top_subspace(M, 4)
    assert np.allclose(P @ (P.T @ B), B, atol=1e-10)
    with pytest.raises(ValueError, match="positive eigenvalues"):
        whitening(M, 5)
    with pytest.raises(ValueError, match="square"):
        whitening(np.ones((2, 3)), 1)


def test_jennrich_score_selects_the_draw():
    rng = np.random.default_rng(8)
    B, W = _planted(10, 3, 3, rng)

    def contract(g):
        return (B * (g @ W)) @ B.T

    calls = []

    def score(C):
        calls.append(C)
        return -len(calls)  # prefers the first draw

    res = jennrich(contract, 3, 3, rng=2, n_draws=4, score=score)
    assert len(calls) == 4
    assert np.array_equal(res.components, calls[0])


def test_jennrich_keeps_the_earliest_of_tied_draws():
    # every draw of an exact tensor fits to round-off: scores that differ by round-off
    # tie, and the first draw is kept (not whichever rounding favoured), so the answer
    # is the one-draw answer
    g = np.random.default_rng(3)
    W, Bt = g.standard_normal((6, 3)), g.standard_normal((5, 3))

    def contract(v):
        return (Bt * (v @ W)) @ Bt.T

    calls = []

    def round_off_score(B):  # later draws score higher by round-off only
        calls.append(1)
        return 1.0 + 1e-15 * len(calls)

    tied = jennrich(contract, 6, 3, rng=7, n_draws=8, score=round_off_score)
    first = jennrich(contract, 6, 3, rng=7, n_draws=1)
    np.testing.assert_array_equal(tied.components, first.components)
    # a clearly better draw still wins
    best = jennrich(contract, 6, 3, rng=7, n_draws=8)
    assert best.gap >= first.gap
