"""Learning a ReLU network from symmetric inputs by the method of moments (chapter 6).

Model ``y = U relu(V x) + xi`` (the paper's ``A`` is ``U``, m x k, its ``W`` is ``V``, k
x d) with ``x`` symmetric (``x`` and ``-x`` have the same law) but otherwise arbitrary,
``k <= d``, ``k <= m``, and noise ``xi`` independent of ``x`` with mean zero and
covariance ``Sigma_xi``.  Writing ``relu(z) = z/2 + |z|/2`` splits the network into an
odd part ``l(x) = 1/2 U V x`` (linear) and an even part ``eta(x) = 1/2 U |V x|``.
Symmetry kills every moment that mixes the two, which gives

* the first moment ``E[y x^T] = 1/2 B Sigma`` with ``B = U V`` and ``Sigma = E[x x^T]``,
  and
* the linearised pure-neuron-detector operator, for symmetric m x m matrices ``S``:
  ``T(S) = E[(y^T S y) x x^T] - 1/2 E[(x^T B^T S B x) x x^T]
  = - sum_{i<j} (U^T S U)_{ij} N_ij + tr(S Sigma_xi) Sigma``,
  with ``N_ij = E[(v_i.x)(v_j.x) 1{(v_i.x)(v_j.x) <= 0} x x^T]``.

After projecting out ``Sigma`` (the noise term), the null space of ``T`` is ``{S : U^T S
U diagonal}`` when the augmented distinguishing matrix (columns ``svec N_ij`` and ``svec
Sigma``) has full column rank. Its simultaneous diagonalisation gives the pure neuron
detectors ``r_i`` (``r_i^T U = c_i e_i^T``), hence ``v_i`` from ``r_i^T B = c_i v_i^T``.
The derivation is the course's reconstruction (chapter 6).

References
----------
R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with symmetric
inputs", ICLR 2019 (arXiv 1810.06793).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._linalg import lstsq, output_layer, relative_residual, top_subspace
from ._progress import progress_bar
from ._validation import (
    as_matrix,
    check_int,
    check_learner_input,
    check_samples,
    rng_from,
)
from .certificates import cross_fit_certificate
from .network import TwoLayerNetwork
from .recovery import Certificate, Recovery, learner_contract
from .tensors import jennrich

__all__ = [
    "DetectorNullSpace",
    "LinearPart",
    "detector_null_space",
    "detector_operator",
    "even_odd_split",
    "linear_part",
    "pure_neuron_detectors",
    "recover_symmetric",
    "svec",
    "unsvec",
    "weights_from_detectors",
]

_SQRT2 = np.sqrt(2.0)


# --------------------------------------------------------------------------------------
# symmetric-matrix vectorisation (an isometry: <svec(A), svec(B)> = tr(A B))
# --------------------------------------------------------------------------------------
def svec(M) -> np.ndarray:
    """Isometric vectorisation of a symmetric p x p matrix: the upper triangle (row by
    row), with the off-diagonal entries multiplied by sqrt(2), so that
    ``<svec(A), svec(B)> = tr(A B)``.

    Parameters
    ----------
    M : array_like, shape (p, p)
        Symmetric matrix (only the upper triangle is read).

    Returns
    -------
    ndarray, shape (p (p + 1) / 2,)

    Raises
    ------
    ValueError, TypeError
        If M is not a finite square matrix.

    Notes
    -----
    Cost O(p^2).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    M = as_matrix("M", M)
    p = M.shape[0]
    if M.shape != (p, p):
        raise ValueError(f"M must be a square matrix, got shape {M.shape}")
    iu = np.triu_indices(p)
    w = np.where(iu[0] == iu[1], 1.0, _SQRT2)
    return M[iu] * w


def unsvec(v, p: int) -> np.ndarray:
    """Inverse of :func:`svec`: the symmetric p x p matrix whose svec is ``v``.

    Parameters
    ----------
    v : array_like, shape (p (p + 1) / 2,)
    p : int

    Returns
    -------
    ndarray, shape (p, p)

    Raises
    ------
    ValueError, TypeError
        If v has the wrong length.

    Notes
    -----
    Cost O(p^2).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    p = check_int("p", p)
    v = as_matrix("v", v, ndim=1)
    if v.size != p * (p + 1) // 2:
        raise ValueError(
            f"v must have length p(p+1)/2 = {p * (p + 1) // 2} for p={p}, got {v.size}"
        )
    iu = np.triu_indices(p)
    w = np.where(iu[0] == iu[1], 1.0, 1.0 / _SQRT2)
    M = np.zeros((p, p))
    M[iu] = v * w
    return M + np.triu(M, 1).T


# --------------------------------------------------------------------------------------
# step 1: the odd part and the first moment
# --------------------------------------------------------------------------------------
def even_odd_split(z) -> tuple[np.ndarray, np.ndarray]:
    """ReLU as the sum of an odd (linear) and an even part: ``relu(z) = z/2 + |z|/2``.

    Parameters
    ----------
    z : array_like

    Returns
    -------
    odd, even : ndarray
        ``z / 2`` and ``|z| / 2``, same shape as z.

    Notes
    -----
    Cost O(size of z).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    z = np.asarray(z, dtype=float)
    return 0.5 * z, 0.5 * np.abs(z)


@dataclass(frozen=True, repr=False, eq=False)
class LinearPart:
    """The first-moment estimate of ``B = U V`` (step 1 of the algorithm).

    Parameters
    ----------
    B : ndarray, shape (m, d)
        ``2 E^[y x^T] Sigma^-1``.
    Sigma : ndarray, shape (d, d)
        ``E^[x x^T]``.
    """

    B: np.ndarray
    Sigma: np.ndarray

    def __repr__(self) -> str:
        m, d = self.B.shape
        return f"LinearPart(m={m}, d={d}, ||B||_F={np.linalg.norm(self.B):.3g})"


def linear_part(X, Y) -> LinearPart:
    """Estimate ``B = U V`` from the first moment: ``B = 2 E^[y x^T] Sigma^-1``,
    ``Sigma = E^[x x^T]``.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)

    Returns
    -------
    LinearPart

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite data, or a singular ``Sigma`` (fewer than d independent
        inputs).

    Notes
    -----
    For symmetric x the even part ``1/2 U |V x|`` times x is odd and has mean zero, so
    ``E[y x^T] = 1/2 U V Sigma``.  Cost O(n d (d + m) + d^3).

    References
    ----------
    Ge, Kuditipudi, Li, Wang, ICLR 2019 (identity 1 of the method of moments).
    """
    X, Y = check_samples(X, Y, min_samples=2)
    d, n = X.shape
    Sigma = (X @ X.T) / n
    if np.linalg.matrix_rank(Sigma) < d:
        raise ValueError(
            f"X must span R^d: the empirical second moment E[x x^T] (d={d}) is singular"
        )
    C = (Y @ X.T) / n
    B = 2.0 * np.linalg.solve(Sigma, C.T).T
    return LinearPart(B=B, Sigma=Sigma)


# --------------------------------------------------------------------------------------
# step 3: the linearised pure-neuron-detector operator
# --------------------------------------------------------------------------------------
def detector_operator(X, Yt, Bt, *, batch: int = 50_000) -> np.ndarray:
    """The matrix of the linearised operator ``S -> T(S)`` on symmetric k x k matrices
    ``S``.

    ``T(S) = E^[(eta^T S eta - l^T S l) x x^T]`` with ``l = 1/2 Bt x`` (odd part) and
    ``eta = y - l`` (the empirical even part, noise included).  It has the same mean as
    ``E[(y^T S y) x x^T] - 1/2 E[(x^T Bt^T S Bt x) x x^T]`` when ``Bt`` is exact, and
    for ``S`` in the null space (``U~^T S U~`` diagonal), noiseless labels and the exact
    ``Bt`` its summand is zero sample by sample (chapter 6, exercise ch6-ex-cancel).

    Parameters
    ----------
    X : array_like, shape (d, n)
    Yt : array_like, shape (k, n)
        Labels (usually projected on the top-k left singular space of B).
    Bt : array_like, shape (k, d)
        The linear part of those labels.
    batch : int
        Samples processed at a time (memory O(batch (d + k^2))).

    Returns
    -------
    ndarray, shape (d (d + 1) / 2, k (k + 1) / 2)
        Column ``svec(S)`` -> ``svec(T(S))`` in the isometric coordinates of
        :func:`svec`.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite data.

    Notes
    -----
    Cost O(n d^2 k^2); never forms a tensor of order three or more.

    References
    ----------
    Ge, Kuditipudi, Li, Wang, ICLR 2019 (the pure neuron detector and its
    linearisation). R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural
    networks with symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    X, Yt = check_samples(X, Yt)
    Bt = as_matrix("Bt", Bt)
    d, n = X.shape
    k = Yt.shape[0]
    if Bt.shape != (k, d):
        raise ValueError(
            f"Bt must have shape (k, d) = {(k, d)} to match Yt and X, got {Bt.shape}"
        )
    batch = check_int("batch", batch)
    pi, qi = np.triu_indices(k)
    wcol = np.where(pi == qi, 1.0, _SQRT2)
    iu = np.triu_indices(d)
    wrow = np.where(iu[0] == iu[1], 1.0, _SQRT2)
    out = np.zeros((iu[0].size, pi.size))
    for s in range(0, n, batch):
        Xb = X[:, s : s + batch]
        L = 0.5 * (Bt @ Xb)
        E = Yt[:, s : s + batch] - L
        G = (E[pi] * E[qi] - L[pi] * L[qi]) * wcol[:, None]  # (k(k+1)/2, b)
        Q = Xb[iu[0]] * Xb[iu[1]]  # (d(d+1)/2, b), svec(x x^T) without the weights
        out += Q @ G.T
    return out * wrow[:, None] / n


@dataclass(frozen=True, repr=False, eq=False)
class DetectorNullSpace:
    """Null space of the projected detector operator (steps 4-5).

    Parameters
    ----------
    basis : ndarray, shape (k, k, k)
        ``basis[l]`` is the symmetric matrix ``Z_l``; in the population they span
        ``{S : U~^T S U~ diagonal}``, ``U~ = P^T U`` the projected output layer.
    singular_values : ndarray
        All singular values of the projected operator, decreasing, divided by the
        largest.
    smallest : ndarray, shape (k,)
        The k smallest (relative) singular values (zero in the population).
    next : float
        The (k+1)-th smallest one; in the population it is positive exactly when the
        augmented distinguishing matrix has full column rank (and U has rank k).
    """

    basis: np.ndarray
    singular_values: np.ndarray
    smallest: np.ndarray
    next: float

    @property
    def gap(self) -> float:
        """``next / max(smallest)``: large when the null space is well determined."""
        top = float(np.max(self.smallest)) if self.smallest.size else 0.0
        return float("inf") if top == 0.0 else float(self.next / top)

    def __repr__(self) -> str:
        k = self.basis.shape[0]
        return (
            f"DetectorNullSpace(k={k}, max smallest={np.max(self.smallest):.1e}, "
            f"next={self.next:.1e}, gap={self.gap:.3g})"
        )


def detector_null_space(T, Sigma, k: int) -> DetectorNullSpace:
    """Project ``svec(Sigma)`` out of the operator (removing the noise term
    ``tr(S Sigma_xi) Sigma``) and return the k-dimensional null space as symmetric k x k
    matrices.

    Parameters
    ----------
    T : array_like, shape (d (d + 1) / 2, k (k + 1) / 2)
        From :func:`detector_operator`.
    Sigma : array_like, shape (d, d)
        ``E^[x x^T]``.
    k : int

    Returns
    -------
    DetectorNullSpace

    Raises
    ------
    ValueError, TypeError
        Inconsistent shapes.

    Notes
    -----
    One SVD of a d^2/2 x k^2/2 matrix: O(d^2 k^4).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    T = as_matrix("T", T)
    Sigma = as_matrix("Sigma", Sigma)
    k = check_int("k", k)
    d = Sigma.shape[0]
    if Sigma.shape != (d, d):
        raise ValueError(f"Sigma must be square, got shape {Sigma.shape}")
    if T.shape != (d * (d + 1) // 2, k * (k + 1) // 2):
        raise ValueError(
            "T must have shape (d(d+1)/2, k(k+1)/2) ="
            f" {(d * (d + 1) // 2, k * (k + 1) // 2)}, got {T.shape}"
        )
    s = svec(Sigma)
    s = s / np.linalg.norm(s)
    Tp = T - np.outer(s, s @ T)
    _, sv, Vt = np.linalg.svd(Tp, full_matrices=True)
    q = k * (k + 1) // 2
    full = np.zeros(q)
    full[: sv.size] = sv
    scale = full[0] if full[0] > 0 else 1.0
    rel = full / scale
    basis = np.stack([unsvec(Vt[q - 1 - l], k) for l in range(k)])
    smallest = rel[q - k :][::-1].copy()
    nxt = float(rel[q - k - 1]) if q > k else 1.0
    return DetectorNullSpace(
        basis=basis, singular_values=rel, smallest=smallest, next=nxt
    )


# --------------------------------------------------------------------------------------
# step 6: simultaneous diagonalisation -> the pure neuron detectors
# --------------------------------------------------------------------------------------
def _off_diagonality(R: np.ndarray, basis: np.ndarray) -> float:
    """sum_l ||offdiag(R^-1 Z_l R^-T)||^2 / ||R^-1 Z_l R^-T||^2 (zero for the right
    R).
    """
    try:
        Rinv = np.linalg.inv(R)
    except np.linalg.LinAlgError:
        return float("inf")
    total = 0.0
    for Z in basis:
        D = Rinv @ Z @ Rinv.T
        nrm = np.sum(D * D)
        if not np.isfinite(nrm) or nrm == 0.0:
            return float("inf")
        total += (nrm - np.sum(np.diag(D) ** 2)) / nrm
    return float(total)


def pure_neuron_detectors(
    null_space: DetectorNullSpace, *, rng=None, n_draws: int = 8
) -> tuple[np.ndarray, float]:
    """Simultaneously diagonalise the null space ``Z_l = R D_l R^T`` to get ``R``
    (columns = detectors).

    Parameters
    ----------
    null_space : DetectorNullSpace
    rng : int or numpy.random.Generator, optional
        Randomness of the Jennrich contractions.
    n_draws : int
        Number of random pairs tried; the pair for which ``R^-1 Z_l R^-T`` are the most
        diagonal is kept (not ``R^T Z_l R``, which is not diagonal).

    Returns
    -------
    R : ndarray, shape (k, k)
        Unit columns ``r_i`` with ``r_i^T U~ = c_i e_i^T`` (up to order and sign),
        ``U~`` the projected output layer.
    off_diagonality : float
        The selection score of the kept draw (zero in the population).

    Raises
    ------
    TypeError
        If null_space is not a :class:`DetectorNullSpace`.

    Notes
    -----
    O(n_draws k^3).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    if not isinstance(null_space, DetectorNullSpace):
        raise TypeError(
            f"null_space must be a DetectorNullSpace, got {type(null_space).__name__}"
        )
    basis = null_space.basis
    k = basis.shape[0]
    if k == 1:
        return np.ones((1, 1)), 0.0

    def contract(g):
        return np.tensordot(g, basis, axes=1)

    res = jennrich(
        contract,
        k,
        k,
        rng=rng_from(rng),
        n_draws=check_int("n_draws", n_draws),
        score=lambda R: -_off_diagonality(R, basis),
    )
    R = res.components
    return R, _off_diagonality(R, basis)


# --------------------------------------------------------------------------------------
# step 7: V from the detectors
# --------------------------------------------------------------------------------------
def weights_from_detectors(R, Yt, Bt) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``c_i v_i = (R^T Bt)_i``; the sign of ``c_i`` is the sign of ``E^[r_i^T y]``
    (the even part ``c_i/2 E|v_i.x|`` is the only part with a non-zero mean).

    Parameters
    ----------
    R : array_like, shape (k, k)
        Detectors as columns.
    Yt : array_like, shape (k, n)
        Projected labels.
    Bt : array_like, shape (k, d)
        Their linear part.

    Returns
    -------
    V : ndarray, shape (k, d)
        Unit rows ``v_i``.
    c : ndarray, shape (k,)
        Signed scales (``r_i^T U~ = c_i e_i^T``).

    Raises
    ------
    ValueError, TypeError
        Inconsistent shapes.

    Notes
    -----
    O(n k^2 + k^2 d).

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv:1810.06793).
    """
    R = as_matrix("R", R)
    Yt = as_matrix("Yt", Yt)
    Bt = as_matrix("Bt", Bt)
    k = R.shape[0]
    if R.shape != (k, k) or Yt.shape[0] != k or Bt.shape[0] != k:
        raise ValueError(
            f"R must be (k, k) and Yt, Bt must have k rows; got {R.shape}, {Yt.shape},"
            f" {Bt.shape}"
        )
    CW = R.T @ Bt
    norms = np.linalg.norm(CW, axis=1)
    signs = np.sign(R.T @ Yt.mean(axis=1))
    signs[signs == 0] = 1.0
    W = CW * (signs / np.where(norms > 0, norms, 1.0))[:, None]
    return W, signs * norms


def _output_layer(X, Y, W):
    """Least-squares output layer U for the recovered rows W (pivoted QR if relu(W X)
    has dependent rows).
    """
    A = output_layer(X, Y, W)
    return lstsq(np.maximum(W @ X, 0.0).T, Y.T).T if A is None else A


def _fit_symmetric(X, Y, k, gen, n_draws):
    """Steps 1-8 on validated data:
    ``(network, (lin, P, null_space, R, off, W, scales))``.
    """
    lin = linear_part(X, Y)
    P = top_subspace(lin.B, k)
    Yt = P.T @ Y
    Bt = P.T @ lin.B
    T = detector_operator(X, Yt, Bt)
    ns = detector_null_space(T, lin.Sigma, k)
    R, off = pure_neuron_detectors(ns, rng=gen, n_draws=n_draws)
    W, c = weights_from_detectors(R, Yt, Bt)
    A = _output_layer(X, Y, W)
    return TwoLayerNetwork(A, W), (lin, P, ns, R, off, W, c)


# --------------------------------------------------------------------------------------
# the whole algorithm
# --------------------------------------------------------------------------------------
@learner_contract
def recover_symmetric(
    X,
    Y,
    k: int,
    *,
    rng=None,
    on_failure: str = "raise",
    progress: bool = False,
    n_draws: int = 8,
    gap_threshold: float = 1.5,
    symmetry_z: float = 5.0,
    certify: bool = True,
    level: float = 0.01,
) -> Recovery:
    """Recover ``y = U relu(V x) + xi`` from samples with symmetric inputs (Ge et al.'s
    method of moments).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns, drawn from a symmetric law with ``E[x x^T]`` invertible.
    Y : array_like, shape (m, n) or (n,)
        Labels, with mean-zero noise independent of x.
    k : int
        Number of hidden units, ``k <= d`` and ``k <= m``.
    rng : int or numpy.random.Generator, optional
        Randomness of the simultaneous diagonalisation.
    on_failure : {"raise", "return"}
        What a failed result does: raise :class:`~relulearn.RecoveryFailed`, or return
        it.
    progress : bool
        Show a progress bar over the steps.
    n_draws : int
        Random pairs tried in the simultaneous diagonalisation.
    gap_threshold : float
        The certificate needs the null space's singular-value gap ``next /
        max(smallest)`` to be at least this.
    symmetry_z : float
        The certificate also needs the inputs to look symmetric along the recovered
        rows: every ``|E^[(v_i.x)^3]|`` within ``symmetry_z`` standard errors of zero
        (its population value for a symmetric law).
    certify : bool
        Also test the fit on held-out samples (:func:`relulearn.cross_fit_certificate`:
        the estimator refitted on each half of the samples, tested on the other half);
        it roughly doubles the cost.
    level : float in (0, 1)
        Level of those tests.

    Returns
    -------
    Recovery
        ``network`` has unit rows ``V`` and ``U`` from least squares of y on ``relu(V
        x)``.  ``certificate`` reports the null-space gap: ``smallest`` are the k
        smallest relative singular values of the projected operator, ``next`` the
        (k+1)-th.  A failure (a small gap: a degenerate instance or too few samples; or
        skewed inputs: an asymmetric law) gives ``certificate.ok == False`` and status
        failed with the reason.  When the null space is determined, the held-out tests
        decide: certified when every unit carries signal and the residual shows no
        misspecification, failed (with the reason) when a unit carries no signal,
        unverified when the residual has structure the model cannot produce (the model
        is misspecified, or the moment estimate, which is not refined, is not yet at its
        least-squares fit: the test cannot tell these apart) or when the tests could not
        run (``certify=False``, or fewer than ``d (d + 1)`` samples).  ``details`` holds
        ``statistical_certificate``, ``B``, ``Sigma``, ``P``, ``null_space``, ``R``,
        ``off_diagonality``, ``scales``, ``A_linear`` (``B V^+``, the output layer
        implied by the first moment) and ``skew_z`` (the third-moment z-scores along the
        rows of V).

    Raises
    ------
    ValueError, TypeError
        Bad arguments: shapes, non-finite data, ``k > d``, ``k > m``, fewer than ``d (d
        + 1) / 2`` samples (the dimension of the symmetric matrices the detector acts
        on), singular ``E[x x^T]``.
    RecoveryFailed
        With ``on_failure="raise"``, when the status is failed.

    Notes
    -----
    Steps: (1) ``B = 2 E^[y x^T] Sigma^-1``; (2) P = top-k left singular vectors of B,
    ``y~ = P^T y``, ``B~ = P^T B``; (3) the detector operator; (4) project out
    ``svec(Sigma)``; (5) null space; (6) simultaneous diagonalisation; (7) ``V`` from
    ``R^T B~`` and the signs from the label means; (8) ``U`` by least squares.  Cost
    O(n d^2 k^2 + n d m) time, O(d^2 k^2 + n (d + m)) memory.

    References
    ----------
    R. Ge, R. Kuditipudi, Z. Li, X. Wang, "Learning two-layer neural networks with
    symmetric inputs", ICLR 2019 (arXiv 1810.06793); the steps are the course's
    reconstruction of its method (chapter 6).
    """
    data = check_learner_input(
        X,
        Y,
        k,
        who="recover_symmetric",
        min_samples=lambda d, k, m: max(2, d * (d + 1) // 2),
        min_samples_text="d (d + 1) / 2",
    )
    X, Y, k = data.X, data.Y, data.k
    d, n = X.shape
    m = Y.shape[0]
    if k > m:
        raise ValueError(
            f"k={k} hidden units exceeds the label dimension m={m}; this needs k <= m"
        )
    n_draws = check_int("n_draws", n_draws)
    gap_threshold = float(gap_threshold)
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    gen = rng_from(rng)
    bar = progress_bar(2, "recover_symmetric", progress)
    net, parts = _fit_symmetric(X, Y, k, gen, n_draws)
    lin, P, ns, R, off, W, c = parts
    bar.update(1)
    residual = relative_residual(X, Y, net.U, net.V)
    Z3 = (W @ X) ** 3
    skew_z = Z3.mean(axis=1) / np.maximum(
        Z3.std(axis=1) / np.sqrt(n), np.finfo(float).tiny
    )
    reasons = []
    if not ns.gap >= gap_threshold:
        reasons.append(
            f"null-space gap {ns.gap:.3g} < {gap_threshold:g}: the detector null space"
            " is not determined "
            "(degenerate network or too few samples)"
        )
    if np.max(np.abs(skew_z)) > symmetry_z:
        reasons.append(
            "inputs look asymmetric: a third moment along a recovered row is"
            f" {np.max(np.abs(skew_z)):.3g} "
            f"standard errors from 0 (> {symmetry_z:g})"
        )
    ok = not reasons
    reason = "; ".join(reasons)
    cert = Certificate(
        ok=ok, smallest=ns.smallest, next=np.array([ns.next]), reason=reason
    )
    status = "certified" if ok else "failed"
    stat_cert = None
    if ok and not certify:
        status, reason = (
            "unverified",
            "the null space is determined, but the fit was not tested (certify=False)",
        )
    elif ok and n < 2 * max(2, d * (d + 1) // 2):
        status, reason = (
            "unverified",
            (
                "the null space is determined, but testing the fit on held-out halves"
                " needs"
                f" n >= d (d + 1) = {2 * max(2, d * (d + 1) // 2)} samples; n={n}"
            ),
        )
    elif ok:
        stat_cert, note = cross_fit_certificate(
            lambda Xh, Yh: _fit_symmetric(Xh, Yh, k, gen, n_draws)[0],
            X,
            Y,
            rng=gen,
            level=level,
            misfit_is_failure=False,
        )
        if stat_cert is None:
            status, reason = "unverified", f"the null space is determined, but {note}"
        elif stat_cert.reason:
            status, reason = "failed", stat_cert.reason
        elif note:
            status, reason = "unverified", f"the null space is determined, but {note}"
        else:
            status, reason = "certified", ""
    details = {
        "statistical_certificate": stat_cert,
        "B": lin.B,
        "Sigma": lin.Sigma,
        "P": P,
        "null_space": ns,
        "R": R,
        "off_diagonality": off,
        "scales": c,
        "A_linear": lin.B @ np.linalg.pinv(W),
        "skew_z": skew_z,
    }
    bar.update(1)
    bar.close()
    return Recovery(
        network=net,
        residual=residual,
        status=status,
        reason=reason,
        certificate=cert,
        n_samples_used=n,
        details=details,
    )
