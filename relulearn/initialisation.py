"""The moment initialisation of the Gaussian-input learners: span, Jennrich, scales and
signs.

For x ~ N(0, I_d) and ``y = U* relu(V* x) + e`` (e mean-zero, independent of x) the
Hermite moments (:mod:`relulearn.moments`) are ``M1 = E[y x^T] = 1/2 U* V*``, ``T2 = E[y
(x) (x x^T - I)] = phi0 sum_i u~_i (x) vbar_i (x) vbar_i`` (``vbar_i = v*_i / ||v*_i||``
the direction of row i of V*, ``u~_i = ||v*_i|| u*_i``) and, in k dimensions, ``E[y
He4(z)] = -phi0 sum_i u~_i b_i^{(x)4}``. Every moment-based learner starts the same way:

1. span: an orthonormal basis P of the span of the rows of V*: from M1
   (:func:`moment_estimate`, needs rank(U*) = k) or from T2 (:func:`hidden_span`, any
   rank of U*);
2. Jennrich: the unit directions ``b_i`` in the k-dimensional coordinates of P, by
   simultaneous diagonalisation (:mod:`relulearn.tensors`) of contractions of the
   projected T2 over the label mode (m >= k), or of the pair (projected He4, projected
   T2) (:func:`decompose_moment_pair`, any m), several random draws ranked by how well
   their components fit the moment;
3. scales and signs: the output weights by least squares on T2, the signs by least
   squares on M1.

:func:`moment_estimate` (the route of :func:`relulearn.recover_exact`; any rectified
activation, rank(U*) = k) and :func:`low_rank_moment_estimate` (the route of
:func:`relulearn.recover_low_rank`, any rank) run the steps for one answer;
:func:`moment_candidates` returns every draw, best first, for
:func:`relulearn.recover_noisy` (it picks the T2 route or the He4 route by m). The three
share the steps below; they differ only where the moments they can trust differ.

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", Proceedings of the 32nd Conference on Learning Theory
   (COLT), PMLR 99:195-268, 2019.
.. [2] R. A. Harshman, "Foundations of the PARAFAC procedure", UCLA Working Papers in
   Phonetics 16, 1970; S. E. Leurgans, R. T. Ross, R. B. Abel, "A decomposition for
   three-way arrays", SIAM J. Matrix Anal. Appl. 14(4), 1993 (Jennrich's algorithm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._linalg import canonical_signs, top_subspace
from ._validation import as_matrix, check_int, check_k, check_samples, rng_from
from .activations import Activation, get_activation
from .moments import (
    PHI0,
    first_moment,
    moment_coefficient,
    projected_moment,
    projected_second_moment,
    second_order_moments,
)
from .network import TwoLayerNetwork
from .tensors import jennrich, simultaneous_diagonalization

__all__ = [
    "LowRankEstimate",
    "MomentEstimate",
    "decompose_moment_pair",
    "hidden_span",
    "low_rank_moment_estimate",
    "moment_estimate",
]


# --------------------------------------------------------------------------------------
# The route for rank(U*) = k: span from M1, Jennrich over the label mode of the
# projected T2
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class MomentEstimate:
    """Approximate network from the moment route of :func:`moment_estimate` (span from
    M1, Jennrich, scales, signs).

    Attributes
    ----------
    directions : ndarray, shape (k, d)
        Unit rows, estimates of vbar_i = v*_i / ||v*_i|| (signs from M1).
    U : ndarray, shape (m, k)
        Estimated canonical output weights c_2-scaled back (exact in the population for
        ReLU).
    subspace : ndarray, shape (d, k)
        Orthonormal basis of the estimated span of the rows of V* (top-k of M1).
    gap : float
        Eigen-gap of Jennrich's kept draw.
    """

    directions: np.ndarray
    U: np.ndarray
    subspace: np.ndarray
    gap: float

    @property
    def network(self) -> TwoLayerNetwork:
        """The approximate network (U, directions) with a ReLU activation."""
        return TwoLayerNetwork(self.U, self.directions, "relu")

    def __repr__(self) -> str:
        k, d = self.directions.shape
        return f"MomentEstimate(d={d}, k={k}, m={self.U.shape[0]}, gap={self.gap:.2e})"


def moment_estimate(
    X, Y, k: int, *, activation: str | Activation = "relu", rng=None, n_draws: int = 8
) -> MomentEstimate:
    """Approximate directions and output weights from Gaussian moments, when rank(U*) =
    k.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs N(0, I_d).
    Y : array_like, shape (m, n) or (n,)
        Labels ``U* f(V* X) (+ mean-zero noise)``.
    k : int
        Number of hidden units, ``k <= d``.
    activation : str or Activation
        Used only for the moment coefficients c_1(1), c_2(1) (signs and scale of U).
    rng : int or Generator
        Randomness of Jennrich's contractions.
    n_draws : int
        Jennrich draws, the best separated one is kept.

    Returns
    -------
    MomentEstimate

    Raises
    ------
    ValueError, TypeError
        Invalid inputs.

    Notes
    -----
    M1 = Y X^T / n gives the span P (d x k) of the rows of V* (needs rank(U*) = k; with
    m < k the span of M1 has dimension m only: use :func:`low_rank_moment_estimate`).
    When m > k the labels are first projected on their top-k left singular space E (m x
    k).  T2 projected on P (k x k x k) is decomposed by Jennrich over the label mode,
    keeping the draw whose components fit T2 best (least squares); U follows by least
    squares on the unfolding of T2 and the signs by least squares on M1 P.  Cost O(n m d
    + n m^2 + n d k + n k^3) for the moments plus O(n_draws k^5) for the small
    least-squares fits.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (Gaussian inputs; these moment steps
    are the course's reconstruction, the paper's text not being among its sources, and
    projecting T2 on the span before Jennrich is ours).
    """
    X, Y = check_samples(X, Y, min_samples=2)
    d = X.shape[0]
    m = Y.shape[0]
    k = check_k(k, d)
    act = get_activation(activation)
    gen = rng_from(rng)
    M1 = first_moment(X, Y)
    E = None
    # the labels live in a k-dimensional space (rank(U*) = k): work with E^T Y
    if m > k:
        E = top_subspace(Y @ Y.T, k)  # (m, k), cost O(n m^2)
        Y, M1, m = E.T @ Y, E.T @ M1, k
    r = min(k, m)
    P = top_subspace(M1.T, r)  # d x r, span of the rows of V* when m >= k
    # fill up with random directions (best effort; low_rank_moment_estimate is the route
    # for m < k)
    if r < k:
        P = np.linalg.qr(np.hstack([P, gen.standard_normal((d, k - r))]))[0]
    T = projected_second_moment(X, Y, P)  # m x k x k
    if m >= 2 or k == 1:
        T1 = T.reshape(m, k * k)

        # minus the relative residual of T ~ sum_i w_i (x) b_i (x) b_i, W by least
        # squares
        def fit(B):
            B2 = np.stack(
                [np.outer(B[:, i], B[:, i]).ravel() for i in range(k)], axis=1
            )
            W = np.linalg.lstsq(B2, T1.T, rcond=None)[0]
            return -float(
                np.linalg.norm(B2 @ W - T1.T)
                / max(np.linalg.norm(T1), np.finfo(float).tiny)
            )

        res = jennrich(
            lambda g: np.tensordot(g, T, axes=1),
            m,
            k,
            rng=gen,
            n_draws=n_draws,
            score=fit,
        )
        B, gap = res.components, res.gap
    else:
        # scalar labels: eigenvectors of the single k x k slice (needs a simple
        # spectrum)
        _, evecs = np.linalg.eigh((T[0] + T[0].T) / 2)
        B, gap = canonical_signs(evecs), 0.0
    # output weights: T_(1) (m x k^2) ~ W (m x k) [vec(b_i b_i^T)]^T
    B2 = np.stack([np.outer(B[:, i], B[:, i]).ravel() for i in range(k)], axis=1)
    W = T.reshape(m, k * k) @ np.linalg.pinv(B2.T)
    c1, c2 = moment_coefficient(act, 1), moment_coefficient(act, 2)
    # signs: M1 P (m x k) ~ sum_i alpha_i W_i b_i^T, alpha_i = sigma_i c1 / c2
    A = np.stack([np.outer(W[:, i], B[:, i]).ravel() for i in range(k)], axis=1)
    alpha = np.linalg.lstsq(A, (M1 @ P).ravel(), rcond=None)[0]
    ratio = c1 / c2 if c2 != 0 else 1.0
    sigma = np.sign(alpha * np.sign(ratio))
    sigma[sigma == 0] = 1.0
    directions = (P @ B * sigma).T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    U = W / c2 if c2 != 0 else W
    if E is not None:
        U = E @ U
    return MomentEstimate(directions=directions, U=U, subspace=P, gap=float(gap))


# --------------------------------------------------------------------------------------
# The route for any rank of U*: span from T2, Jennrich on (projected He4, projected T2)
# --------------------------------------------------------------------------------------


def hidden_span(X, Y, k: int) -> np.ndarray:
    """An orthonormal basis of the span of the hidden directions (rows of V*), from
    second moments.

    For Gaussian x and ``y = U* relu(V* x) + e`` (e mean-zero, independent of x),
    ``T2[r] = E[y_r (x x^T - I)] = phi0 sum_i U~_ri vbar_i vbar_i^T`` (vbar_i = v*_i /
    ||v*_i||). Each slice lies in the span of the vbar_i, and together they span it
    whenever no column of U* is zero, whatever rank(U*) is (for m = 1, T2 is one d x d
    matrix of rank k). The basis is the top-k left singular vectors of the d x (m d)
    matrix ``[T2[1], ..., T2[m]]``.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    k : int
        Number of hidden units, 1 <= k <= d.

    Returns
    -------
    ndarray, shape (d, k)
        Orthonormal columns.

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, or k not an int in [1, d].

    Notes
    -----
    Cost O(n m d^2 + m d^3), streamed over chunks of samples.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the second-order moment T2; its use
    for the span when rank(U*) < k is the course's reconstruction).
    """
    X, Y = check_samples(X, Y, min_samples=2)
    k = check_k(k, X.shape[0])
    _, _, T2 = second_order_moments(X, Y)
    return span_from_second_moment(T2, k)


def span_from_second_moment(T2: np.ndarray, k: int) -> np.ndarray:
    """Step 1 of :func:`hidden_span` from a computed T2 (m, d, d): the top-k left
    singular subspace of ``[T2[1], ..., T2[m]]`` (d, m d). Inner step: the caller
    guarantees 1 <= k <= d. Cost O(m d^3).
    """
    m, d, _ = T2.shape
    stacked = np.transpose(T2, (1, 0, 2)).reshape(d, m * d)
    return top_subspace(stacked, k)


@dataclass(frozen=True, repr=False, eq=False)
class LowRankEstimate:
    """The moment estimate of :func:`low_rank_moment_estimate`.

    Attributes
    ----------
    U : ndarray (m, k)
        Output weights in canonical form (``u~_i = ||v_i|| u_i``), of the best
        candidate.
    V : ndarray (k, d)
        Unit hidden directions with their signs, of the best candidate.
    span : ndarray (d, k)
        Orthonormal basis of the estimated span of the rows of V*.
    gap : float
        Relative eigen-gap of the best candidate's simultaneous diagonalisation.
    fit : float
        Relative residual ``||T4 - sum_i c_i b_i^(x)4|| / ||T4||`` of the best candidate
        (least-squares c).
    candidates : ndarray (c, k, d)
        The hidden directions (with signs) of every random draw, best fit first; ``V``
        is ``candidates[0]``.
    """

    U: np.ndarray
    V: np.ndarray
    span: np.ndarray
    gap: float
    fit: float
    candidates: np.ndarray

    @property
    def network(self) -> TwoLayerNetwork:
        """The estimate as a ReLU network."""
        return TwoLayerNetwork(self.U, self.V, "relu")

    def __repr__(self) -> str:
        (m, k), d = self.U.shape, self.V.shape[1]
        return (
            f"LowRankEstimate(d={d}, k={k}, m={m}, fit={self.fit:.2e},"
            f" gap={self.gap:.2e}, "
            f"candidates={len(self.candidates)})"
        )


def low_rank_moment_estimate(
    X, Y, k: int, *, rng=None, n_draws: int = 16
) -> LowRankEstimate:
    """Approximate (U*, V*) from moments when rank(U*) may be below k (span from T2, He4
    in k dimensions).

    1. ``P`` = :func:`hidden_span` (d x k); project ``z = P^T x`` (standard Gaussian in
       R^k).
    2. Contract the outputs with a random ``w`` (for m = 1, ``w = 1``) and form ``T4 =
       E[(w . y) He4(z)]`` (:func:`relulearn.projected_moment` of order 4) and ``T2 =
       E[(w . y)(z z^T - I)]``. With ``b_i = P^T vbar_i``, ``T4[S] := sum_cd T4[:, :, c,
       d] S_cd = -phi0 sum_i (w . u~_i)(b_i^T S b_i) b_i b_i^T`` and ``T2 = phi0 sum_i
       (w . u~_i) b_i b_i^T`` share the factors ``b_i``: Jennrich's simultaneous
       diagonalisation (:func:`decompose_moment_pair`) of the pair, for random symmetric
       S, returns them up to sign. Pairing with T2, which is estimated far more
       accurately than any slice of T4, makes this much more stable than two slices of
       T4. Each draw is scored by how well its components fit T4 (least squares);
       ``vbar_i = P b_i``.
    3. Scales: least squares of the d-dimensional ``T2[r] = E[y_r (x x^T - I)]`` on
       ``phi0 vbar_i vbar_i^T``; signs: least squares of ``M1 = E[y x^T] = 1/2 sum_i t_i
       u~_i vbar_i^T`` over scalars ``t_i``, ``vbar_i <- sign(t_i) vbar_i``.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels of a ReLU network (noise allowed if mean-zero and independent of X).
    k : int
        Number of hidden units, 1 <= k <= d.
    rng : int, Generator or None
        Randomness of the contractions.
    n_draws : int
        Random symmetric contractions S tried (all are kept as candidates, best fit
        first).

    Returns
    -------
    LowRankEstimate

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, or k not an int in [1, d].

    Notes
    -----
    Cost O(n (m d^2 + k^4) + m d^3 + n_draws k^5); the moments' error falls like
    1/sqrt(n), but the He4 estimate is noisy (about 25% relative error at (d, k, m, n) =
    (10, 4, 1, 2e5)), so this is only a starting point for
    :func:`relulearn.sign_pattern_regression`.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the moments for Gaussian inputs;
    the rank-deficient route is the course's reconstruction). R. A. Harshman,
    "Foundations of the PARAFAC procedure", UCLA Working Papers in Phonetics 16, 1970
    (Jennrich's algorithm).
    """
    X, Y = check_samples(X, Y, min_samples=2)
    k = check_k(k, X.shape[0])
    n_draws = check_int("n_draws", n_draws)
    gen = rng_from(rng)
    _, M1, T2 = second_order_moments(X, Y)
    return low_rank_estimate_from_moments(X, Y, k, M1, T2, gen, n_draws)


def low_rank_estimate_from_moments(X, Y, k, M1, T2, gen, n_draws) -> LowRankEstimate:
    """:func:`low_rank_moment_estimate` from computed M1 and T2
    (:func:`relulearn.second_order_moments`) and a Generator; inner step, no input
    checks. Cost O(n k^4 + m d^3 + n_draws k^5).
    """
    m, _d = M1.shape
    P = span_from_second_moment(T2, k)
    w = np.ones(1) if m == 1 else gen.standard_normal(m)
    T4 = projected_moment(X, Y, P, 4, w=w)
    T2p = P.T @ np.einsum("r,rab->ab", w, T2) @ P
    Bs, fits, gaps = _decompose_pair(T4, T2p, k, gen, n_draws)
    cands = []
    for B in Bs:
        V = (P @ B).T
        V = _separate_duplicates(V / np.linalg.norm(V, axis=1, keepdims=True), P)
        cands.append(scales_and_signs(V, M1, T2))
    U0, V0 = cands[0]
    return LowRankEstimate(
        U0, V0, P, float(gaps[0]), float(fits[0]), np.stack([c[1] for c in cands])
    )


def decompose_moment_pair(T4, T2, k: int, *, rng=None, n_draws: int = 16):
    """Components ``b_i`` of ``T4 = sum_i a_i b_i^(x)4`` and
    ``T2 = sum_i c_i b_i b_i^T`` (k x k, any signs).

    For a random symmetric S, ``T4[S] = sum_cd T4[:, :, c, d] S_cd = B diag(a_i b_i^T S
    b_i) B^T`` and ``T2 = B diag(c_i) B^T``: Jennrich's simultaneous diagonalisation of
    the pair (:func:`relulearn.simultaneous_diagonalization`) gives the columns
    of B up to sign and order. Each of ``n_draws`` random S gives a candidate, scored by
    the relative residual of the least-squares fit ``T4 ~ sum_i a_i b_i^(x)4``.

    Parameters
    ----------
    T4 : array_like, shape (k, k, k, k)
        E.g. :func:`relulearn.projected_moment` of order 4 (with ``a_i = -phi0 u~_i``).
    T2 : array_like, shape (k, k)
        E.g. ``P^T E[y (x x^T - I)] P`` (with ``c_i = phi0 u~_i``); must be invertible.
    k : int
        Number of components.
    rng : int, Generator or None
        Randomness of the contractions S.
    n_draws : int
        Number of random contractions.

    Returns
    -------
    components : ndarray, shape (n_draws, k, k)
        Unit columns b_i of each draw, best fit first.
    fits : ndarray, shape (n_draws,)
        Relative residual of each draw's fit (sorted increasing; 0 for exact population
        tensors).
    gaps : ndarray, shape (n_draws,)
        Relative eigen-gap of each draw.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite entries.

    Notes
    -----
    Cost O(n_draws k^5).

    References
    ----------
    R. A. Harshman, "Foundations of the PARAFAC procedure", UCLA Working Papers in
    Phonetics 16, 1970; S. E. Leurgans, R. T. Ross, R. B. Abel, "A decomposition for
    three-way arrays", SIAM J. Matrix Anal. Appl. 14(4), 1993 (Jennrich's algorithm).
    """
    k = check_int("k", k)
    T4 = as_matrix("T4", T4, ndim=4)
    if T4.shape != (k, k, k, k):
        raise ValueError(f"T4 must have shape {(k, k, k, k)}, got {T4.shape}")
    T2 = as_matrix("T2", T2)
    if T2.shape != (k, k):
        raise ValueError(f"T2 must have shape {(k, k)}, got {T2.shape}")
    n_draws = check_int("n_draws", n_draws)
    Bs, fits, gaps = _decompose_pair(T4, T2, k, rng_from(rng), n_draws)
    return np.stack(Bs), np.asarray(fits), np.asarray(gaps)


def _decompose_pair(T4, T2p, k, gen, n_draws):
    if k == 1:
        return [np.ones((1, 1))], [0.0], [np.inf]
    draws = []
    scale = max(np.linalg.norm(T4), np.finfo(float).tiny)
    for _ in range(n_draws):
        S = gen.standard_normal((k, k))
        B, _, gap = simultaneous_diagonalization(
            np.einsum("abcd,cd->ab", T4, S + S.T), T2p, k
        )
        A4 = np.einsum("ai,bi,ci,di->abcdi", B, B, B, B).reshape(k**4, k)
        coef = np.linalg.lstsq(A4, T4.ravel(), rcond=None)[0]
        draws.append(
            (float(np.linalg.norm(A4 @ coef - T4.ravel()) / scale), float(gap), B)
        )
    draws.sort(key=lambda t: t[0])
    return [t[2] for t in draws], [t[0] for t in draws], [t[1] for t in draws]


def _separate_duplicates(V, P, cos_max=0.99):
    """Replace rows that (nearly) repeat an earlier row by the unit direction of span(P)
    orthogonal to the others.

    When noise makes two eigenvalues of the simultaneous diagonalisation a
    complex-conjugate pair, the real parts of their eigenvectors coincide; the lost
    direction is the part of the span the other rows miss.
    """
    V = V.copy()
    k = V.shape[0]
    for j in range(1, k):
        if np.max(np.abs(V[:j] @ V[j])) > cos_max:
            others = np.delete(V, j, axis=0) @ P  # (k-1, k) coordinates in the span
            null = np.linalg.svd(others, full_matrices=True)[2][-1]
            V[j] = P @ null
    return V


def scales_and_signs(V, M1, T2):
    """Step 3 for ReLU: (U~, sign-corrected V) from T2 = phi0 sum_i u~_i (x) vbar_i (x)
    vbar_i and M1 = 1/2 sum_i t_i u~_i vbar_i^T, both by least squares; V has unit rows.
    Inner step. Cost O(m d^2 k^2).
    """
    m, d = M1.shape
    k = V.shape[0]
    B2 = np.einsum("id,ie->ide", V, V).reshape(k, d * d)
    Ut = np.linalg.lstsq(PHI0 * B2.T, T2.reshape(m, d * d).T, rcond=None)[0].T
    A = 0.5 * np.einsum("ri,id->rdi", Ut, V).reshape(m * d, k)
    s = np.linalg.lstsq(A, M1.reshape(m * d), rcond=None)[0]
    sign = np.where(s < 0, -1.0, 1.0)
    return Ut, V * sign[:, None]


# --------------------------------------------------------------------------------------
# The candidates of the noisy learner: every draw, best first
# --------------------------------------------------------------------------------------


def moment_candidates(X, Y, k, gen, n_draws) -> list[tuple[np.ndarray, np.ndarray]]:
    """The moment initialisation with every random draw kept: a list of (U~ (m, k), V
    (k, d)), best first.

    m >= k: the span P of the rows of V* from T2 (:func:`span_from_second_moment`), then
    Jennrich (:func:`relulearn.jennrich`) on the projected ``P^T T2[r] P`` (k x k
    slices, contracted in the output mode), one candidate per random draw, ordered by
    how well its components fit; scales from T2 and signs from M1
    (:func:`scales_and_signs`). m < k: the candidates of
    :func:`low_rank_moment_estimate` (``2 n_draws`` draws). Unbiased under mean-zero
    noise independent of X. Inner step of :func:`relulearn.recover_noisy` (checked X, Y;
    ``gen`` a Generator). Cost O(n m d^2 + m d^3 + n_draws m k^3) (plus O(n k^4) when m
    < k).
    """
    _, M1, T2 = second_order_moments(X, Y)
    m, _d = M1.shape
    if m < k:
        est = low_rank_estimate_from_moments(X, Y, k, M1, T2, gen, 2 * n_draws)
        return [(est.U, est.V)] + [
            scales_and_signs(V, M1, T2) for V in est.candidates[1:]
        ]
    # project onto the k-dimensional span first (removes the noise outside it), then
    # Jennrich there; each random draw is scored by how well its components fit the
    # projected T2
    P = span_from_second_moment(T2, k)
    T2p = np.einsum("da,rde,eb->rab", P, T2, P)
    R = T2p.reshape(m, k * k).T
    draws = []
    for _ in range(n_draws):
        res = jennrich(
            lambda g: np.einsum("r,rab->ab", g, T2p), m, k, rng=gen, n_draws=1
        )
        B = _separate_duplicates(res.components.T, np.eye(k))
        A = np.einsum("ia,ib->abi", B, B).reshape(k * k, k)
        draws.append(
            (float(np.linalg.norm(R - A @ np.linalg.lstsq(A, R, rcond=None)[0])), B)
        )
    draws.sort(key=lambda t: t[0])
    out = []
    for _, B in draws:
        V = B @ P.T
        out.append(
            scales_and_signs(V / np.linalg.norm(V, axis=1, keepdims=True), M1, T2)
        )
    return out
