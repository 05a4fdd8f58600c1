"""Sign-pattern regression for ReLU networks, and the least-squares output layer (shared
by the learners).

With the sign patterns ``D_ij = 1[v_i . x_j > 0]`` (v_i the i-th row of V) fixed, the
labels of a ReLU network are *linear* in the blocks ``W_i = u_i v_i^T``:
``y_j = sum_i D_ij W_i x_j``. :func:`sign_pattern_regression` solves that least squares
on the samples where every unit is confidently signed and takes the rank-one factors of
the blocks; a few rounds correct the remaining wrong signs (noiseless and with correct
patterns it is exact to round-off). :func:`fit_output_layer` (least-squares output
weights for given hidden weights) is the one public output-layer fit of the package.
(The local refinement of a whole network is :func:`relulearn.local_least_squares`.)

The learner :func:`relulearn.recover_low_rank` calls the trusted inner step
:func:`regress_sign_patterns` (no input checks) after checking its own inputs; it,
:func:`sign_pattern_gram` and :func:`check_tau` are not re-exported by the package.
Every pass streams over chunks of samples.

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", Proceedings of the 32nd Conference on Learning Theory
   (COLT), PMLR 99:195-268, 2019 (Gaussian inputs; as we recall the paper, its
   algorithms also solve a linear regression with the sign patterns fixed, but its text
   is not among the course's sources, so this step is the course's reconstruction, here
   used as a refinement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._linalg import output_layer, solve_normal_equations
from ._streaming import chunks, column_norms
from ._validation import as_matrix, check_samples
from .activations import Activation, get_activation
from .network import TwoLayerNetwork
from .recovery import RecoveryFailed

__all__ = ["RegressionResult", "fit_output_layer", "sign_pattern_regression"]


@dataclass(frozen=True, repr=False, eq=False)
class RegressionResult:
    """The result of :func:`sign_pattern_regression`.

    Attributes
    ----------
    U : ndarray (m, k)
        Output weights (canonical: the rows of V have unit norm).
    V : ndarray (k, d)
        Unit hidden directions.
    n_confident : ndarray of int (rounds,)
        Number of confidently signed samples used in each round.
    changes : ndarray (rounds,)
        ``max_i ||v_i(new) - v_i(old)||`` in each round (0 at a fixed point).
    rank_one_defect : ndarray (k,)
        ``s_2(W_i) / s_1(W_i)`` (singular values) of the last round's blocks (0 for m =
        1; round-off when the signs were right and there is no noise).
    """

    U: np.ndarray
    V: np.ndarray
    n_confident: np.ndarray
    changes: np.ndarray
    rank_one_defect: np.ndarray

    @property
    def network(self) -> TwoLayerNetwork:
        """The estimate as a ReLU network."""
        return TwoLayerNetwork(self.U, self.V, "relu")

    def __repr__(self) -> str:
        (m, k), d = self.U.shape, self.V.shape[1]
        last = f", last change={self.changes[-1]:.1e}" if len(self.changes) else ""
        return (
            f"RegressionResult(d={d}, k={k}, m={m}, rounds={len(self.changes)}{last})"
        )


def sign_pattern_regression(
    X,
    Y,
    V_est,
    *,
    tau: float | tuple = 0.1,
    n_rounds: int = 3,
    min_confident: int | None = None,
    stop_change: float = 0.0,
) -> RegressionResult:
    """Refine hidden directions by least squares with the sign patterns held fixed
    (ReLU).

    With ``D_ij = 1[v_i . x_j > 0]`` taken from the current estimate, keep the
    *confident* samples ``J = {j : min_i |v_i . x_j| / ||x_j|| > tau}``. J is chosen
    from X and ``V_est``; when ``V_est`` was estimated from the labels (e.g. from their
    moments), J and the patterns depend on the noise, so the noise need not have mean
    zero on J, and least squares over J is unbiased only if the patterns on J are right
    and ``V_est`` does not depend on the noise of the samples in J. If the patterns on J
    are right, the labels are linear in the blocks ``W_i = u_i v_i^T``: ``y_j = sum_i
    D_ij W_i x_j``, with k m d unknowns. Least squares gives the W_i; the top singular
    pair ``W_i ~ s a b^T`` gives ``v_i = +-b`` (sign with ``b . v_i(old) > 0``) and
    ``u_i = W_i v_i``. Repeat ``n_rounds`` times with the new V: wrong patterns near the
    boundaries are corrected. Any rank of U works, including m = 1. Noiseless and with
    correct patterns on J, the answer is exact.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    V_est : array_like, shape (k, d)
        Current hidden directions, with their signs (scale does not matter).
    tau : float in [0, 1) or tuple of floats
        Confidence threshold on the cosine, or one per round (the last one repeats).
    n_rounds : int
        Number of rounds.
    min_confident : int, optional
        If fewer samples than this pass ``tau`` in a round, tau is lowered to the
        largest value that keeps ``min_confident`` samples. Default ``4 k d``.
    stop_change : float
        Stop early when no row of V moves by more than this in a round (0: run all
        rounds).

    Returns
    -------
    RegressionResult

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, tau outside [0, 1), V_est with a zero row.
    RecoveryFailed
        If the least-squares system is singular even with all samples (a unit never
        active, or two units identical), or two units merge into one direction.

    Notes
    -----
    Per round O(n d^2 + 2^k k^2 d^2) time when the 2^k sign patterns are few enough to
    sum one d x d Gram matrix per pattern (O(n k^2 d^2) otherwise), plus O(k^3 d^3) for
    the solve; memory O(k^2 d^2 + 2^k d (d + m)) beyond X and Y (plus two floats per
    sample), streamed over chunks of samples.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (Gaussian inputs; the
    fixed-sign-pattern regression as the course reconstructs it).
    """
    X, Y = check_samples(X, Y)
    V = as_matrix("V_est", V_est)
    d, _n = X.shape
    if V.shape[1] != d:
        raise ValueError(
            f"V_est must have d={d} columns (one per input coordinate), got shape"
            f" {V.shape}"
        )
    norms = np.linalg.norm(V, axis=1)
    if np.any(norms == 0):
        raise ValueError(
            f"V_est has zero rows {np.flatnonzero(norms == 0).tolist()}; every unit"
            " needs a direction"
        )
    taus = check_tau(tau)
    if (
        isinstance(n_rounds, bool)
        or not isinstance(n_rounds, (int, np.integer))
        or n_rounds < 1
    ):
        raise ValueError(f"n_rounds must be an int >= 1, got {n_rounds!r}")
    k = V.shape[0]
    if min_confident is None:
        min_confident = 4 * k * d
    xnorm = column_norms(X)
    return regress_sign_patterns(
        X,
        Y,
        V / norms[:, None],
        xnorm,
        taus,
        int(n_rounds),
        int(min_confident),
        float(stop_change),
    )


def _confidence(X, V, xnorm):
    """min_i |v_i . x_j| / ||x_j|| for every sample (streamed)."""
    n = X.shape[1]
    out = np.empty(n)
    for sl in chunks(n, V.shape[0] + X.shape[0]):
        out[sl] = np.abs(V @ X[:, sl]).min(axis=0) / xnorm[sl]
    return out


# Group samples by sign pattern when the 2^k per-pattern Gram matrices fit in this many
# bytes.
_PATTERN_BYTES = 256 * 2**20


def sign_pattern_gram(X, Y, V, xnorm, tau):
    """Gram matrix and right-hand side of the sign-pattern least squares on the
    confident samples.

    Block (i, l) of the Gram matrix is ``sum_j D_ij D_lj x_j x_j^T``: it depends on a
    sample only through its sign pattern. When 2^k is small, the samples are grouped by
    pattern and one d x d Gram matrix is summed per pattern (cost O(n d^2 + 2^k k^2 d^2)
    instead of O(n k^2 d^2)).
    """
    d, n = X.shape
    m, k = Y.shape[0], V.shape[0]
    if (
        k <= 20
        and (2**k) * (d * d + m * d) * 8 <= _PATTERN_BYTES
        and 2**k <= max(n // 4, 1)
    ):
        return _sign_pattern_gram_by_pattern(X, Y, V, xnorm, tau)
    kd = k * d
    G = np.zeros((kd, kd))
    B = np.zeros((m, kd))
    used = 0
    for sl in chunks(n, kd + d + k + m):
        Xc = X[:, sl]
        C = V @ Xc
        keep = np.abs(C).min(axis=0) / xnorm[sl] > tau
        if not keep.any():
            continue
        Xs = Xc[:, keep]
        D = (C[:, keep] > 0).astype(float)
        Phi = (D[:, None, :] * Xs[None, :, :]).reshape(kd, -1)
        G += Phi @ Phi.T
        B += Y[:, sl][:, keep] @ Phi.T
        used += Xs.shape[1]
    return G, B, used


def _sign_pattern_gram_by_pattern(X, Y, V, xnorm, tau):
    d, n = X.shape
    m, k = Y.shape[0], V.shape[0]
    n_pat = 2**k
    S = np.zeros((n_pat, d, d))
    R = np.zeros((n_pat, m, d))
    used = 0
    powers = 2 ** np.arange(k)
    for sl in chunks(n, 2 * d + k + m):
        Xc = X[:, sl]
        C = V @ Xc
        keep = np.abs(C).min(axis=0) / xnorm[sl] > tau
        if not keep.any():
            continue
        Xs, Ys = Xc[:, keep], Y[:, sl][:, keep]
        code = powers @ (C[:, keep] > 0)
        order = np.argsort(code, kind="stable")
        code, Xs, Ys = code[order], Xs[:, order], Ys[:, order]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ends = np.r_[starts[1:], len(code)]
        for a, b in zip(starts, ends):
            Xg = Xs[:, a:b]
            S[code[a]] += Xg @ Xg.T
            R[code[a]] += Ys[:, a:b] @ Xg.T
        used += Xs.shape[1]
    # (2^k, k)
    member = ((np.arange(n_pat)[:, None] >> np.arange(k)[None, :]) & 1).astype(float)
    pairs = (member[:, :, None] * member[:, None, :]).reshape(n_pat, k * k)
    G = (
        (pairs.T @ S.reshape(n_pat, d * d))
        .reshape(k, k, d, d)
        .transpose(0, 2, 1, 3)
        .reshape(k * d, k * d)
    )
    B = (
        (member.T @ R.reshape(n_pat, m * d))
        .reshape(k, m, d)
        .transpose(1, 0, 2)
        .reshape(m, k * d)
    )
    return G, B, used


def regress_sign_patterns(
    X, Y, V, xnorm, taus, n_rounds, min_confident, stop_change
) -> RegressionResult:
    """:func:`sign_pattern_regression` without the input checks: V has unit rows,
    ``xnorm`` is :func:`relulearn._streaming.column_norms` of X, ``taus`` from
    :func:`check_tau`. Same cost.
    """
    d, n = X.shape
    m = Y.shape[0]
    k = V.shape[0]
    kd = k * d
    counts, changes = [], []
    defect = np.zeros(k)
    U = np.zeros((m, k))
    for r in range(n_rounds):
        tau = taus[min(r, len(taus) - 1)]
        conf = _confidence(X, V, xnorm)
        n_ok = int(np.count_nonzero(conf > tau))
        if n_ok < min_confident and n > min_confident:
            tau = float(np.partition(conf, n - min_confident)[n - min_confident]) * (
                1 - 1e-12
            )
        W = None
        while W is None:
            G, B, used = sign_pattern_gram(X, Y, V, xnorm, tau)
            W = solve_normal_equations(G, B.T)
            W = None if W is None else W.T
            if W is None:
                if tau <= 0.0:
                    raise RecoveryFailed(
                        "sign-pattern regression: the least-squares system is"
                        f" singular in round {r + 1} "
                        f"({used} samples for {kd} unknowns per output; a unit may"
                        " never be active)"
                    )
                # too few sign patterns occur among the confident samples to separate
                # the units: relax tau
                tau = tau / 2 if tau > 1e-3 else 0.0
        counts.append(used)
        V_new = np.empty_like(V)
        for i in range(k):
            Wi = W[:, i * d : (i + 1) * d]
            _a, s, bt = np.linalg.svd(Wi, full_matrices=False)
            b = bt[0]
            if b @ V[i] < 0:
                b = -b
            V_new[i] = b
            U[:, i] = Wi @ b
            defect[i] = s[1] / s[0] if len(s) > 1 and s[0] > 0 else 0.0
        change = float(np.max(np.linalg.norm(V_new - V, axis=1)))
        changes.append(change)
        V = V_new
        if k > 1 and np.max(np.abs(V @ V.T) - np.eye(k)) > 1 - 1e-8:
            raise RecoveryFailed(
                "sign-pattern regression: two units merged into one direction in"
                f" round {r + 1}"
            )
        if change <= stop_change:
            break
    return RegressionResult(
        U.copy(), V, np.asarray(counts), np.asarray(changes), defect
    )


OUTPUT_LAYER_SINGULAR = (
    "output layer: f(V X) has (numerically) dependent rows; a unit is dead or"
    " duplicated"
)


def fit_output_layer(X, Y, V, activation: str | Activation = "relu") -> np.ndarray:
    """Least-squares output weights for fixed hidden weights:
    ``U = Y H^T (H H^T)^{-1}``, ``H = f(V X)``.

    The last step of every learner that finds V first.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    V : array_like, shape (k, d)
        Hidden weights.
    activation : str or Activation
        The activation f (default ReLU).

    Returns
    -------
    ndarray, shape (m, k)

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite entries.
    RecoveryFailed
        If ``H H^T`` is numerically singular (a unit never active, or two units
        identical).

    Notes
    -----
    The normal equations, summed over chunks of samples, with one step of iterative
    refinement (exact to round-off on noiseless labels with well-separated units). Cost
    O(n k (d + m + k)); memory O(k^2 + m k) beyond X and Y.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the output layer by least squares
    once V is known).
    """
    X, Y = check_samples(X, Y)
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or V.shape[1] != X.shape[0] or not np.all(np.isfinite(V)):
        raise ValueError(
            f"V must be a finite (k, d) array with d={X.shape[0]}, got shape {V.shape}"
        )
    U = output_layer(X, Y, V, get_activation(activation))
    if U is None:
        raise RecoveryFailed(OUTPUT_LAYER_SINGULAR)
    return U


def check_tau(tau) -> tuple:
    """``tau`` as a tuple of floats in [0, 1) (one per round; the last repeats), else
    ValueError. O(len(tau)).
    """
    taus = tuple(np.atleast_1d(np.asarray(tau, dtype=float)).tolist())
    if not taus or any(not (0.0 <= t < 1.0) for t in taus):
        raise ValueError(f"tau must be a number (or numbers) in [0, 1), got {tau!r}")
    return taus
