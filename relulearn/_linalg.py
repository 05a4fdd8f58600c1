"""Linear-algebra steps shared by the learners (private module), one implementation
each.

:func:`top_subspace` (top-k singular subspace, signs fixed),
:func:`solve_normal_equations` (the one normal-equation solve), :func:`lstsq` (least
squares through it, with refinement and a QR fallback), :func:`output_layer`
(least-squares output weights ``U = Y f(V X)^+``, streamed) and
:func:`relative_residual` (``||Y - U f(V X)||_F / ||Y||_F``, streamed). Inner functions:
the callers have checked their inputs.

LAPACK returns singular and eigenvectors up to sign, and which sign comes out depends on
the BLAS kernel and the thread count. A learner that then draws random contractions in
the coordinates of such a basis would see a different draw on another machine.
:func:`canonical_signs` fixes the sign so that bases, and everything computed from them,
are the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import lstsq as _scipy_lstsq

from ._streaming import chunks


def _relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0.0)


def canonical_signs(B: np.ndarray) -> np.ndarray:
    """``B`` with each column multiplied by +-1 so that its entry of largest magnitude
    is positive.

    The same convention as scikit-learn's ``svd_flip``. A column's sign is then decided
    by its largest entry, which rounding does not change unless two entries tie in
    magnitude with opposite signs. Cost O(p k) for B of shape (p, k).
    """
    B = np.asarray(B, dtype=float)
    if B.size == 0:
        return B
    idx = np.argmax(np.abs(B), axis=0)
    signs = np.sign(B[idx, np.arange(B.shape[1])])
    signs[signs == 0] = 1.0
    return B * signs


def top_subspace(M: np.ndarray, k: int) -> np.ndarray:
    """Orthonormal basis (p, k) of the top-k left singular subspace of M (p, q), with
    :func:`canonical_signs`.

    For a symmetric M this is the span of the k eigenvectors of largest |eigenvalue|.
    Inner function: the caller guarantees 1 <= k <= min(p, q). Cost O(p q min(p, q)).
    """
    P = np.linalg.svd(M, full_matrices=False)[0]
    return canonical_signs(P[:, :k])


def solve_normal_equations(G: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """x with ``G x = b`` for a symmetric positive definite Gram matrix G, or None when
    G is numerically singular.

    G is scaled to unit diagonal and factored by Cholesky; a pivot (Schur complement) at
    1e-10 or below, a zero diagonal entry, or a failed factorisation means singular.
    ``b`` is (p,) or (p, r). Cost O(p^3 + p^2 r).
    """
    scale = np.sqrt(np.diag(G))
    if np.any(scale == 0):
        return None
    Gs = G / scale[:, None] / scale[None, :]  # unit diagonal
    try:
        L = np.linalg.cholesky(Gs)
    except np.linalg.LinAlgError:
        return None
    # a pivot (Schur complement) at round-off: numerically singular
    if np.min(np.diag(L)) ** 2 <= 1e-10:
        return None
    s = scale if b.ndim == 1 else scale[:, None]
    return np.linalg.solve(L.T, np.linalg.solve(L, b / s)) / s


def lstsq(A: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Least-squares x with ``A x ~ t`` (t a vector or a matrix of right-hand sides).

    By the normal equations (:func:`solve_normal_equations`) with one step of iterative
    refinement, which brings an exactly consistent, reasonably conditioned system back
    to round-off and is several times faster than a pivoted QR; pivoted QR (LAPACK
    gelsy) when the Gram matrix is numerically singular or the refined fit of a
    consistent system is not at round-off (e.g. nearly parallel columns, whose Gram
    matrix squares a large condition number). Cost O(p q^2) for A of shape (p, q).
    """
    G = A.T @ A
    x = solve_normal_equations(G, A.T @ t)
    if x is not None:
        x += solve_normal_equations(G, A.T @ (t - A @ x))
        scale = max(float(np.linalg.norm(t)), np.finfo(float).tiny)
        if np.linalg.norm(A @ x - t) <= 1e-12 * scale:
            return x
        # not consistent to round-off: either noise (the normal equations are then the
        # answer, if G is well conditioned) or lost accuracy; the pivoted QR decides
        # both
    return _scipy_lstsq(A, t, lapack_driver="gelsy", check_finite=False)[0]


def output_layer(
    X: np.ndarray,
    Y: np.ndarray,
    V: np.ndarray,
    f: Callable = _relu,
    *,
    exact: bool = False,
) -> np.ndarray | None:
    """Least-squares output weights for fixed hidden weights:
    ``U = Y H^T (H H^T)^{-1}``, ``H = f(V X)``.

    The Gram matrix ``H H^T`` and ``Y H^T`` are summed over chunks of samples and solved
    by :func:`solve_normal_equations`, then one streamed step of iterative refinement.
    With ``exact`` (noiseless labels that the model fits), a refined fit that is not at
    round-off (``1e-12
    ||Y||``) is redone by pivoted QR on the materialised H (e.g. nearly parallel units),
    as is a numerically singular ``H H^T``; without ``exact`` a singular ``H H^T`` (a
    unit never active, or two units identical) returns None.

    Cost O(n k (d + m + k)) time; memory O(k^2 + m k) beyond X and Y (O(n k) in the QR
    fallback).
    """
    d, n = X.shape
    k, m = V.shape[0], Y.shape[0]
    G = np.zeros((k, k))
    B = np.zeros((m, k))
    for sl in chunks(n, 2 * k + d + m):
        H = f(V @ X[:, sl])
        G += H @ H.T
        B += Y[:, sl] @ H.T
    Ut = solve_normal_equations(G, B.T)
    if Ut is None:
        if exact:
            return _scipy_lstsq(
                f(V @ X).T, Y.T, lapack_driver="gelsy", check_finite=False
            )[0].T
        return None
    U = Ut.T
    C = np.zeros((m, k))
    r2 = 0.0
    # refinement: U += (R H^T) (H H^T)^{-1}, R = Y - U H
    for sl in chunks(n, 2 * k + d + 2 * m):
        H = f(V @ X[:, sl])
        R = Y[:, sl] - U @ H
        C += R @ H.T
        r2 += float(np.vdot(R, R))
    U = U + solve_normal_equations(G, C.T).T
    if exact and not np.sqrt(r2) <= 1e-12 * max(
        float(np.linalg.norm(Y)), np.finfo(float).tiny
    ):
        res = relative_residual(X, Y, U, V, f)
        if not res <= 1e-12:
            U = _scipy_lstsq(
                f(V @ X).T, Y.T, lapack_driver="gelsy", check_finite=False
            )[0].T
    return U


def relative_residual(
    X: np.ndarray, Y: np.ndarray, U: np.ndarray, V: np.ndarray, f: Callable = _relu
) -> float:
    """``||Y - U f(V X)||_F / ||Y||_F``, streamed over chunks of samples (0/0 counts as
    0).

    Cost O(n k (d + m)) time, O(chunk (k + m)) memory.
    """
    n = X.shape[1]
    r2 = y2 = 0.0
    for sl in chunks(n, 2 * (V.shape[0] + Y.shape[0])):
        R = U @ f(V @ X[:, sl])
        R -= Y[:, sl]
        r2 += float(np.vdot(R, R))
        y2 += float(np.vdot(Y[:, sl], Y[:, sl]))
    return float(np.sqrt(r2 / max(y2, np.finfo(float).tiny)))
