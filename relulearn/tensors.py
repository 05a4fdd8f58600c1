"""Generic tensor tools: simultaneous diagonalisation and Jennrich's algorithm.

Nothing here knows about neural networks.  A third-order tensor is only ever accessed
through a *contraction* ``g -> sum_r g_r T[r, :, :]`` (a p x p matrix), so no p x p x p
array is needed.

The central fact (Jennrich's algorithm, see Harshman 1970 and Leurgans, Ross and Abel
1993): if ``M_a = B diag(lam_a) C^T`` for a = 1, 2 with B, C of full column rank k, then

    M_1 M_2^+ = B diag(lam_1 / lam_2) B^+,

so the eigenvectors of ``M_1 M_2^+`` for its k nonzero eigenvalues are the columns of B,
up to sign, order and scale, provided the ratios ``lam_1 / lam_2`` are distinct.  For
random contractions of a tensor ``T = sum_i w_i (x) b_i (x) b_i`` they are distinct with
probability one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._linalg import canonical_signs
from ._linalg import top_subspace as _top_subspace
from ._validation import as_matrix, check_int, rng_from
from .multistart import choose_with_margin

__all__ = [
    "JennrichResult",
    "jennrich",
    "simultaneous_diagonalization",
    "top_subspace",
    "whitening",
]


def _relative_gap(ratios: np.ndarray) -> float:
    """min_{i != j} |r_i - r_j| / max_i |r_i| (inf for a single ratio, 0 for an all-zero
    vector).
    """
    r = np.asarray(ratios)
    if r.size < 2:
        return float("inf")
    scale = float(np.max(np.abs(r)))
    if scale == 0.0 or not np.isfinite(scale):
        return 0.0
    diff = np.abs(r[:, None] - r[None, :])
    diff[np.diag_indices(r.size)] = np.inf
    return float(np.min(diff) / scale)


def simultaneous_diagonalization(
    M1, M2, k: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Recover B from two matrices ``M_a = B diag(lam_a) C^T`` (a = 1, 2).

    Parameters
    ----------
    M1, M2 : array_like, shape (p, p)
        Matrices sharing the factors: ``M_a = B diag(lam_a) C^T`` with B, C (p x k) of
        rank k. The symmetric case is ``C = B``.  They may also be rectangular (p x q)
        in the non-symmetric case; only B (the column factor) is returned.
    k : int
        The rank, ``1 <= k <= min(p, q)``.

    Returns
    -------
    B_hat : ndarray, shape (p, k)
        Unit-norm columns equal to the columns of B up to sign and permutation.  Columns
        are sorted by decreasing ``|ratio|`` and their sign is fixed so the largest
        entry is positive.
    ratios : ndarray, shape (k,)
        ``lam_1 / lam_2`` for each returned column (real parts).
    gap : float
        The relative eigen-gap ``min_{i != j} |r_i - r_j| / max_i |r_i|``; a small gap
        means the columns are poorly determined (try another pair of contractions).

    Raises
    ------
    ValueError, TypeError
        If the matrices are not finite 2-d arrays of the same shape or k is out of
        range.

    Notes
    -----
    The k-dimensional column space of ``M2`` is found by a thin SVD, ``M2 = P S Q^T``
    (top k). Then ``A = P^T M1 Q S^{-1}`` is the k x k matrix ``(P^T B)
    diag(lam_1/lam_2) (P^T B)^{-1}``, whose eigenvectors lifted by P are the columns of
    B.  Noise makes the eigenvalues slightly complex; their real parts are used.  Cost
    O(p q min(p, q)) for the SVD plus O(k^3).

    References
    ----------
    R. A. Harshman, "Foundations of the PARAFAC procedure", UCLA Working Papers in
    Phonetics, 1970. S. E. Leurgans, R. T. Ross, R. B. Abel, "A decomposition for
    three-way arrays", SIAM J. Matrix Anal. Appl., 1993.
    """
    M1 = as_matrix("M1", M1)
    M2 = as_matrix("M2", M2)
    if M1.shape != M2.shape:
        raise ValueError(
            f"M1 and M2 must have the same shape, got {M1.shape} and {M2.shape}"
        )
    p, q = M1.shape
    k = check_int("k", k, minimum=1)
    if k > min(p, q):
        raise ValueError(
            f"k={k} exceeds the matrix size {M1.shape}; this needs k <= {min(p, q)}"
        )
    P, s, Qt = np.linalg.svd(M2, full_matrices=False)
    P, s, Qt = P[:, :k], s[:k], Qt[:k]
    if s[-1] <= 0.0 or not np.isfinite(s[-1]):
        B = P.copy()
        return B, np.zeros(k), 0.0
    A = (P.T @ M1 @ Qt.T) / s[None, :]
    evals, evecs = np.linalg.eig(A)
    ratios = evals.real
    W = P @ evecs.real
    norms = np.linalg.norm(W, axis=0)
    norms[norms == 0.0] = 1.0
    B = W / norms
    order = np.argsort(-np.abs(ratios), kind="stable")
    B, ratios = B[:, order], ratios[order]
    return canonical_signs(B), ratios, _relative_gap(ratios)


@dataclass(frozen=True, repr=False, eq=False)
class JennrichResult:
    """The output of :func:`jennrich`.

    Attributes
    ----------
    components : ndarray, shape (p, k)
        Unit-norm columns, the factors b_i up to sign and permutation.
    ratios : ndarray, shape (k,)
        Eigenvalue ratios of the kept draw.
    gap : float
        Relative eigen-gap of the kept draw (larger is better separated).
    n_draws : int
        How many random pairs of contractions were tried.
    """

    components: np.ndarray
    ratios: np.ndarray
    gap: float
    n_draws: int

    def __repr__(self) -> str:
        p, k = self.components.shape
        return (
            f"JennrichResult(p={p}, k={k}, gap={self.gap:.3g}, n_draws={self.n_draws})"
        )


def jennrich(
    contract: Callable[[np.ndarray], np.ndarray],
    dim: int,
    k: int,
    *,
    rng=None,
    n_draws: int = 8,
    score: Callable[[np.ndarray], float] | None = None,
) -> JennrichResult:
    """Jennrich's algorithm on a tensor given only through its contractions, best of
    several draws.

    Parameters
    ----------
    contract : callable
        ``contract(g)`` returns the p x p matrix ``sum_r g_r T[r, :, :]`` for ``g`` in
        R^dim, where ``T = sum_i w_i (x) b_i (x) b_i`` (w_i in R^dim, b_i in R^p).
        Needs the w_i linearly independent (or at least the random ratios distinct) and
        the b_i of rank k.
    dim : int
        Length of the contraction vector g.
    k : int
        Number of components.
    rng : int or numpy.random.Generator, optional
        Seed for the Gaussian contraction vectors.
    n_draws : int
        Number of independent pairs (g1, g2) ~ N(0, I_dim); the draw with the largest
        relative eigen-gap is kept, which makes the method robust to an unlucky draw.
        Draws within a margin of the best (:func:`relulearn.choose_with_margin`) count
        as tied, and the earliest is kept.
    score : callable, optional
        ``score(components) -> float``; when given, the draw with the largest score is
        kept instead of the largest gap (e.g. minus the residual of a least-squares fit
        of the tensor with these components, which also rejects draws returning a factor
        twice).

    Returns
    -------
    JennrichResult

    Raises
    ------
    ValueError, TypeError
        Bad arguments, or ``contract`` returning something that is not a finite square
        matrix.

    Notes
    -----
    Cost: ``2 * n_draws`` calls of ``contract`` plus ``n_draws`` simultaneous
    diagonalisations, O(n_draws p^3).

    References
    ----------
    S. E. Leurgans, R. T. Ross, R. B. Abel, "A decomposition for three-way arrays", SIAM
    J. Matrix Anal. Appl., 1993.  A. Moitra, "Algorithmic Aspects of Machine Learning",
    Cambridge University Press, 2018, ch. 3.
    """
    if not callable(contract):
        raise TypeError(f"contract must be callable, got {type(contract).__name__}")
    dim = check_int("dim", dim, minimum=1)
    k = check_int("k", k, minimum=1)
    n_draws = check_int("n_draws", n_draws, minimum=1)
    gen = rng_from(rng)
    draws, crits = [], []
    for _ in range(n_draws):
        g1 = gen.standard_normal(dim)
        g2 = gen.standard_normal(dim)
        M1 = as_matrix("contract(g)", contract(g1))
        M2 = as_matrix("contract(g)", contract(g2))
        if M1.shape[0] != M1.shape[1]:
            raise ValueError(
                f"contract(g) must return a square matrix, got shape {M1.shape}"
            )
        draws.append(simultaneous_diagonalization(M1, M2, k))
        crits.append(-(draws[-1][2] if score is None else float(score(draws[-1][0]))))
    # near-ties (e.g. several draws fitting an exact tensor to round-off) go to the
    # earliest draw, so that rounding does not decide which draw is kept
    best = choose_with_margin(crits)
    B, ratios, gap = draws[max(best, 0)]
    return JennrichResult(components=B, ratios=ratios, gap=float(gap), n_draws=n_draws)


def top_subspace(M, k: int) -> np.ndarray:
    """Orthonormal basis (p x k) of the top-k left singular subspace of M (p x q).

    Columns have the sign convention of scikit-learn's ``svd_flip`` (largest entry
    positive), so the basis does not depend on the BLAS kernel. For a symmetric M it
    spans the k eigenvectors of largest absolute eigenvalue.

    Parameters
    ----------
    M : array_like, shape (p, q)
    k : int
        Dimension of the subspace, 1 <= k <= min(p, q).

    Returns
    -------
    ndarray, shape (p, k)
        Orthonormal columns.

    Raises
    ------
    ValueError, TypeError
        M not a finite matrix, or k not an int in [1, min(p, q)].

    Notes
    -----
    Cost O(p q min(p, q)).
    """
    M = as_matrix("M", M)
    k = check_int("k", k, minimum=1)
    if k > min(M.shape):
        raise ValueError(
            f"k={k} exceeds the matrix size {M.shape}; this needs k <= {min(M.shape)}"
        )
    return _top_subspace(M, k)


def whitening(M, k: int) -> np.ndarray:
    """Whitening map W (k x p) for a symmetric PSD matrix M of rank k:
    ``W M W^T = I_k``.

    If ``M = B diag(w) B^T`` with w > 0, then the columns ``W b_i sqrt(w_i)`` are
    orthonormal, which turns a non-orthogonal tensor decomposition into an orthogonal
    one.

    Parameters
    ----------
    M : array_like, shape (p, p)
        Symmetric positive semi-definite, of rank k.
    k : int
        The rank.

    Returns
    -------
    ndarray, shape (k, p)
        W with ``W M W^T = I_k``.

    Raises
    ------
    ValueError
        If M is not square or its k-th eigenvalue is not positive (relative to the
        largest, at the 1e-12 level).

    Notes
    -----
    Cost O(p^3) (one symmetric eigendecomposition).

    References
    ----------
    A. Anandkumar, R. Ge, D. Hsu, S. Kakade, M. Telgarsky, "Tensor decompositions for
    learning latent variable models", JMLR 2014.
    """
    M = as_matrix("M", M)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got shape {M.shape}")
    k = check_int("k", k, minimum=1)
    if k > M.shape[0]:
        raise ValueError(f"k={k} exceeds the matrix size {M.shape}")
    evals, evecs = np.linalg.eigh((M + M.T) / 2)
    evals, evecs = evals[::-1][:k], evecs[:, ::-1][:, :k]
    if evals[-1] <= 1e-12 * max(evals[0], 0.0) or evals[-1] <= 0:
        raise ValueError(
            f"M must have k={k} positive eigenvalues, its k-th is {evals[-1]:.3g}"
        )
    return (canonical_signs(evecs) / np.sqrt(evals)).T
