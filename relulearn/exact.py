"""Exact recovery of a noiseless two-layer rectified network (Gaussian inputs,
rank(U*) = k).

The course's reconstruction of the exact algorithm for Gaussian inputs of Bakshi,
Jayaram and Woodruff (COLT 2019), one public function per step, with a sample-efficient
certificate search (candidate zero sets verified one by one).  The paper's text is not
among the course's sources: the steps follow its outline as we recall it (Gaussian
moments, tensor decomposition, the row span of Y, linear solves); the estimators, the
candidate zero sets, the certificate and the thresholds are ours.  Notation: H = f(V* X)
with rows H_i = f(X^T v*_i), v*_i the i-th row of V*.

1. :func:`relulearn.moment_estimate` (in :mod:`relulearn.initialisation`): Gaussian
   moments (M1, projected T2) -> Jennrich -> approximate directions, output weights and
   signs.
2. :func:`label_row_space`: the top-k right singular vectors of Y; when rank(U*) = k,
   the row span of Y is exactly the row span of f(V* X).
3. :func:`certify_zero_set`: the null vector of Q[S, :] for a candidate zero set S, with
   the smallest and next singular values (the certificate).
4. :func:`candidate_zero_sets` / :func:`find_unit_rows`: candidate zero sets from the
   moment estimate (most confident negatives), random subsets, or the vertices of a
   small linear programme, each verified by :func:`certify_zero_set`; the result is F =
   B Pi f(V* X) exactly (B positive diagonal, Pi a permutation).
5. :func:`solve_input_weights`: V from the active samples of each row of F.
6. U = Y f(V X)^+ by least squares (:func:`relulearn.fit_output_layer`).
7. :func:`recover_exact`: everything, with a final residual check on all the data.

How failure is reported: :func:`recover_exact` raises :class:`~relulearn.RecoveryFailed`
when a step cannot be completed (labels of rank < k, no certified zero set for some
unit, too few active samples); with ``on_failure="return"`` it returns instead a result
with status "failed", the reason and the moment estimate as its network
(``certificate.ok == False``).  A network is returned with ``certificate.ok == True``
only when every unit's zero set is certified and the residual on all samples is below
``tol``.

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", Proceedings of the 32nd Conference on Learning Theory
   (COLT), PMLR 99:195-268, 2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lstsq as _lstsq
from scipy.optimize import linprog

from ._linalg import lstsq, output_layer, relative_residual, solve_normal_equations
from ._progress import progress_bar
from ._validation import (
    as_matrix,
    check_int,
    check_learner_input,
    precision_tol,
    rng_from,
)
from .activations import Activation, get_activation
from .initialisation import moment_estimate
from .lowrank import recover_low_rank
from .network import TwoLayerNetwork
from .recovery import Certificate, Recovery, RecoveryFailed, learner_contract

__all__ = [
    "UnitRows",
    "ZeroSetCertificate",
    "candidate_zero_sets",
    "certify_zero_set",
    "find_unit_rows",
    "label_row_space",
    "recover_exact",
    "solve_input_weights",
]

_REFS = "Bakshi, Jayaram, Woodruff, COLT 2019"


# --------------------------------------------------------------------------------------
# Steps 2-4 (module docstring): row span, certificates, zero sets
# --------------------------------------------------------------------------------------


def label_row_space(Y, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis Q (n x k) of the top-k right singular space of Y, and Y's
    singular values.

    When Y = U* f(V* X) with rank(U*) = k, the row span of Y equals that of f(V* X), so
    every row H_i = f(X^T v*_i) is Q c_i for some c_i in R^k.  The singular values show
    whether that holds: s_k > 0 and s_{k+1} = 0 (up to round-off).

    Parameters
    ----------
    Y : array_like, shape (m, n) or (n,)
    k : int

    Returns
    -------
    Q : ndarray, shape (n, k)
    singular_values : ndarray, shape (min(m, n),)

    Raises
    ------
    ValueError
        If k exceeds min(m, n) (rank(U*) = k needs m >= k).

    Notes
    -----
    A thin SVD (the Gram route would lose the small singular values to squaring): cost
    O(n m min(n, m)).  :func:`recover_exact` calls it on a working subset of the
    samples.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the row span of the labels in the
    exact algorithm).
    """
    Yarr = np.asarray(Y, dtype=float) if not isinstance(Y, (str, bytes)) else Y
    if isinstance(Yarr, np.ndarray) and Yarr.ndim == 1:
        Yarr = Yarr[None, :]
    Y = as_matrix("Y", Yarr)
    m, n = Y.shape
    k = check_int("k", k)
    if k > min(m, n):
        raise ValueError(
            f"k={k} exceeds min(m, n)={min(m, n)} for Y of shape {Y.shape}; the row"
            " span of Y has "
            "dimension k only when m >= k (rank(U*) = k)"
        )
    _, s, Vt = np.linalg.svd(Y, full_matrices=False)
    return Vt[:k].T.copy(), s


@dataclass(frozen=True, repr=False, eq=False)
class ZeroSetCertificate:
    """Result of :func:`certify_zero_set`.

    Attributes
    ----------
    row : ndarray, shape (n,)
        The null vector lifted to R^n, ``Q c``, with sum >= 0, unit max-norm.
    smallest, next : float
        Smallest and next singular value of Q[S, :], relative to the largest.
    nonnegative : bool
        Whether ``row >= -tol`` everywhere.
    n_zeros : int
        Entries of ``row`` at most min(tol, 1e-11) in absolute value (relative to the
        largest); for ``tol > 1e-9`` (data coarser than float64) at most ``tol / 100``.
    ok : bool
        smallest <= tol, next > sqrt(tol), nonnegative, and n_zeros >= k: S lies in the
        zero set of exactly one unit and ``row`` is that unit's row of f(V* X) up to a
        positive scale.
    """

    row: np.ndarray
    smallest: float
    next: float
    nonnegative: bool
    n_zeros: int
    ok: bool

    def __repr__(self) -> str:
        return (
            f"ZeroSetCertificate(ok={self.ok}, smallest={self.smallest:.1e},"
            f" next={self.next:.1e}, "
            f"nonnegative={self.nonnegative}, n_zeros={self.n_zeros})"
        )


def certify_zero_set(Q, S, *, tol: float = 1e-9) -> ZeroSetCertificate:
    """Check whether the samples S are a zero set of exactly one hidden unit.

    Parameters
    ----------
    Q : array_like, shape (n, k)
        Orthonormal basis of the row span of f(V* X) (from :func:`label_row_space`).
    S : array_like of int
        Candidate sample indices, at least k of them.
    tol : float
        Relative round-off tolerance.

    Returns
    -------
    ZeroSetCertificate

    Raises
    ------
    ValueError
        If S has fewer than k distinct indices or indices out of range.

    Notes
    -----
    If S is inside the zero set of unit i only and the other units can be assigned
    distinct samples of S on which they are active, the null space of Q[S, :] is exactly
    the line of H_i = f(X^T v*_i): the smallest singular value is at round-off and the
    next is O(1/sqrt(n)). If every unit can be so assigned, there is no null vector and
    the smallest singular value is O(1/sqrt(n)) (chapter 3's theorem, parts 2 and 3,
    hold with probability one for Gaussian inputs). Sets outside both cases (two units
    active on one single sample of S only) can have a null vector mixing two rows; it
    has negative entries, which the ``nonnegative`` check rejects. Cost O(:math:`|S|`
    k^2 + n k).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (zero sets in the row span; the
    singular-value certificate is ours).
    """
    Q = as_matrix("Q", Q)
    n, k = Q.shape
    S = np.unique(np.asarray(S, dtype=int).ravel())
    if S.size < k:
        raise ValueError(
            f"S must contain at least k={k} distinct sample indices, got {S.size}"
        )
    if S[0] < 0 or S[-1] >= n:
        raise ValueError(f"S has indices outside [0, {n}): min {S[0]}, max {S[-1]}")
    return _certify(Q, S, tol)


def _certify(Q: np.ndarray, S: np.ndarray, tol: float) -> ZeroSetCertificate:
    """:func:`certify_zero_set` without the input checks (S: distinct valid indices)."""
    k = Q.shape[1]
    _, sv, Vt = np.linalg.svd(Q[S], full_matrices=False)
    top = sv[0] if sv[0] > 0 else 1.0
    smallest = float(sv[-1] / top)
    nxt = float(sv[-2] / top) if k >= 2 else 1.0
    row = Q @ Vt[-1]
    if row.sum() < 0:
        row = -row
    scale = np.max(np.abs(row))
    row = row / scale if scale > 0 else row
    # zeros of a certified row are at round-off (~1e-15); 1e-11 keeps tiny positive
    # values such as f(z) = z^2 at z = 1e-5 on the active side
    zeros = np.abs(row) <= (min(tol, 1e-11) if tol <= 1e-9 else tol / 100)
    nonneg = bool(np.all(row >= -tol * 10))
    n_zeros = int(np.count_nonzero(zeros))
    ok = bool(smallest <= tol and nxt > np.sqrt(tol) and nonneg and n_zeros >= k)
    row = np.where(zeros, 0.0, row) if ok else row
    return ZeroSetCertificate(
        row=row, smallest=smallest, next=nxt, nonnegative=nonneg, n_zeros=n_zeros, ok=ok
    )


def candidate_zero_sets(
    X,
    k: int,
    directions,
    *,
    size: int | None = None,
    rng=None,
    n_random: int = 0,
    pool: int | None = None,
):
    """Candidate zero sets for each unit from approximate directions: the most confident
    negatives.

    Parameters
    ----------
    X : array_like, shape (d, n)
    k : int
    directions : array_like, shape (k', d)
        Approximate unit directions (e.g. the ``directions`` of a
        :class:`~relulearn.MomentEstimate`).
    size : int, optional
        Size of each candidate set, default k + 1.
    rng : int or Generator
        For the random subsets.
    n_random : int
        Additional random ``size``-subsets per unit drawn from the ``pool`` most
        negative samples.
    pool : int, optional
        Default ``3 * size``.

    Yields
    ------
    (unit, S) : tuple of int and ndarray
        The first candidate of each unit is its ``size`` most negative cosines.

    Notes
    -----
    Ranking by cosine (v.x_j / ||x_j||) rather than thresholding (robust to the scale of
    the moment estimate).  Cost O(n d k) once.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (zero sets from approximate
    directions).
    """
    X = as_matrix("X", X)
    D = as_matrix("directions", directions)
    n = X.shape[1]
    size = k + 1 if size is None else check_int("size", size)
    size = min(size, n)
    pool = min(n, 3 * size if pool is None else check_int("pool", pool))
    gen = rng_from(rng)
    cos = (D @ X) / np.maximum(np.linalg.norm(X, axis=0), np.finfo(float).tiny)
    order = np.argsort(cos, axis=1, kind="stable")
    for i in range(D.shape[0]):
        yield i, order[i, :size]
    for _ in range(n_random):
        for i in range(D.shape[0]):
            yield i, gen.choice(order[i, :pool], size=size, replace=False)


@dataclass(frozen=True, repr=False, eq=False)
class UnitRows:
    """Result of :func:`find_unit_rows`.

    Attributes
    ----------
    F : ndarray, shape (k_found, n)
        Certified rows, each a positive multiple of a row H_i = f(X^T v*_i), in the
        order found.
    smallest, next : ndarray, shape (k_found,)
        Their certificates (relative singular values of Q[S_i, :]).
    zero_sets : tuple of ndarray
        The certified zero set of each row (all its zeros).
    n_candidates : int
        Candidate sets checked.
    sources : tuple of str
        Which strategy found each row ("moments", "random" or "lp").
    """

    F: np.ndarray
    smallest: np.ndarray
    next: np.ndarray
    zero_sets: tuple
    n_candidates: int
    sources: tuple

    @property
    def n_found(self) -> int:
        return int(self.F.shape[0])

    def __repr__(self) -> str:
        return (
            f"UnitRows(found={self.n_found}, n={self.F.shape[1]},"
            f" n_candidates={self.n_candidates})"
        )


class _Collector:
    """Keeps distinct certified rows."""

    def __init__(self, Q, k, tol, X=None, degree=None):
        self.Q, self.k, self.tol = Q, k, tol
        self.X, self.degree = X, degree
        self.rows, self.small, self.nxt, self.zsets, self.src = [], [], [], [], []
        self.checked = 0

    def done(self):
        return len(self.rows) >= self.k

    def offer(self, S, source):
        """Certify S; returns "new" (a row was added), "duplicate" (a row already found)
        or "no".
        """
        self.checked += 1
        cert = _certify(self.Q, np.unique(S), self.tol)
        if not cert.ok:
            return "no"
        u = cert.row / np.linalg.norm(cert.row)
        for r in self.rows:
            if abs(u @ r) / np.linalg.norm(r) > 1 - 1e-8:
                return "duplicate"
        # re-certify on the full zero set (a stronger, final check)
        Z = np.flatnonzero(cert.row == 0.0)
        full = _certify(self.Q, Z, self.tol)
        if not full.ok:
            return "no"
        if not self._consistent(full.row):
            return "no"
        self.rows.append(full.row)
        self.small.append(full.smallest)
        self.nxt.append(full.next)
        self.zsets.append(Z)
        self.src.append(source)
        return "new"

    def _consistent(self, row):
        """For f homogeneous of degree p > 0: row^(1/p) must be linear in x on the
        active set and that linear function must be <= 0 on the zero set (rejects the
        rare nonnegative mixtures of several units' rows that have more than k - 1
        zeros). Rows with fewer than d active samples are left to Step 5, which reports
        them.
        """
        if self.X is None or not self.degree:
            return True
        d = self.X.shape[0]
        P = np.flatnonzero(row > 0)
        if P.size < d + 1:
            return True
        # fit on (at most) 4d active samples, then check the fit on all samples: an
        # exact row is fitted exactly by any d samples in general position
        P = P[: 4 * d]
        A, t = self.X[:, P].T, row[P] ** (1.0 / self.degree)
        # no refinement: the tolerance below is sqrt(tol)
        v = solve_normal_equations(A.T @ A, A.T @ t)
        if v is None:
            v = lstsq(A, t)
        # the fitted pre-activation on every sample (one pass, no gathers)
        z = v @ self.X
        t = np.maximum(row, 0.0) ** (1.0 / self.degree)
        active = row > 0
        scale = max(float(np.max(t)), np.finfo(float).tiny)
        if np.max(np.abs(z[active] - t[active])) > np.sqrt(self.tol) * scale:
            return False
        return bool(active.all() or np.max(z[~active]) <= np.sqrt(self.tol) * scale)

    def result(self, n):
        F = np.array(self.rows) if self.rows else np.zeros((0, n))
        return UnitRows(
            F,
            np.array(self.small),
            np.array(self.nxt),
            tuple(self.zsets),
            self.checked,
            tuple(self.src),
        )


def find_unit_rows(
    Q,
    X=None,
    directions=None,
    *,
    strategy: str = "auto",
    rng=None,
    max_candidates: int | None = None,
    tol: float = 1e-9,
    activation: str | Activation | None = None,
) -> UnitRows:
    """Find the k rows of f(V* X) in the row span Q by certified candidate zero sets.

    Parameters
    ----------
    Q : array_like, shape (n, k)
        Orthonormal basis of the row span of Y (from :func:`label_row_space`).
    X : array_like, shape (d, n), optional
        Needed with ``directions``.
    directions : array_like, shape (k, d), optional
        Approximate directions (moment estimate); their most negative samples are the
        first candidates.  Both signs are tried.
    strategy : {"auto", "moments", "random", "lp"}
        * "moments": the moment-only route: for each direction (both signs) its n/4 most
          negative samples (the fraction 1/4 is our choice).
        * "random": uniformly random subsets of size k + 1 (good when k is small: each
          draw is a zero set of some unit with probability about k 2^-(k+1)).
        * "lp": vertices of the cone {c : Q c >= 0}, from linear programmes
          min w^T Q c s.t. Q c >= 0, b^T c = 1 with random positive weights w (biased by
          ``directions`` when given) on a random subsample of max(200, 20 k)
          constraints; a unit's row is a vertex with about n/2 zeros, other vertices
          have only k - 1.  b is the coefficient vector of 1^T Q, or, once rows are
          found, a random vector orthogonal to their coefficient vectors, which makes
          the rows already found infeasible.
        * "auto": the k + 1 most negative samples of each direction and then three
          random (k + 1)-subsets of its 3(k + 1) most negative ones (if directions are
          given), with the sign of the moment estimate first and the opposite sign only
          for the directions still unmatched; a direction is dropped once a candidate of
          it certifies a row.  Then "random" when k <= 8, then "lp", whose first
          objectives are tilted towards the directions still unmatched.
    rng : int or Generator
    max_candidates : int, optional
        Budget of candidate sets per strategy, default 100 k + 200 (and a tenth of it,
        at least 10, linear programmes).
    tol : float
        Round-off tolerance of the certificates.
    activation : str or Activation, optional
        If given, positively homogeneous of degree p > 0, and X is given: each certified
        row F must also satisfy the model, F^(1/p) linear in x on its active samples (at
        least d + 1 of them) and that linear function <= 0 on its zeros.  This rejects
        the rare nonnegative vectors of the span that are mixtures of several rows yet
        have more than k - 1 zeros.

    Returns
    -------
    UnitRows
        Possibly fewer than k rows if the budget ran out (the caller decides what to
        do).

    Raises
    ------
    ValueError
        Invalid strategy or missing X/directions.

    Notes
    -----
    Every accepted row is certified (:func:`certify_zero_set`) on its full zero set, so
    a wrong candidate is never accepted.  Cost per candidate O(k^3 + n k); per LP, one
    HiGHS solve with k variables and n constraints.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the zero-set step; the random and
    LP candidates go beyond the paper).
    """
    Q = as_matrix("Q", Q)
    n, k = Q.shape
    if strategy not in ("auto", "moments", "random", "lp"):
        raise ValueError(
            f"strategy must be 'auto', 'moments', 'random' or 'lp', got {strategy!r}"
        )
    if strategy == "moments" and directions is None:
        raise ValueError("strategy='moments' needs directions (and X)")
    if directions is not None:
        if X is None:
            raise ValueError("directions need X to rank the samples")
        X = as_matrix("X", X)
        if X.shape[1] != n:
            raise ValueError(f"X must have n={n} columns like Q, got shape {X.shape}")
        directions = as_matrix("directions", directions)
    gen = rng_from(rng)
    budget = (
        100 * k + 200
        if max_candidates is None
        else check_int("max_candidates", max_candidates)
    )
    lp_budget = max(10, budget // 10)
    degree = None
    if activation is not None:
        act = get_activation(activation)
        degree = act.degree if (act.degree is not None and act.degree > 0) else None
    if X is not None:
        X = as_matrix("X", X)
        if X.shape[1] != n:
            raise ValueError(f"X must have n={n} columns like Q, got shape {X.shape}")
    col = _Collector(Q, k, tol, X=X, degree=degree)
    if n < k + 1:
        return col.result(n)

    if directions is not None and strategy == "moments":
        # the moment-only route: for each direction (both signs), its n/4 most negative
        # samples
        D = np.vstack([directions, -directions])
        for _, S in candidate_zero_sets(X, k, D, size=max(k + 1, n // 4)):
            if col.done():
                break
            col.offer(S, "moments")
        return col.result(n)
    pending = directions
    if directions is not None and strategy == "auto":
        pending = _moment_candidates(X, directions, col, gen, budget)
    if (
        strategy in ("auto", "random")
        and not col.done()
        and (strategy == "random" or k <= 8)
    ):
        for _ in range(budget):
            if col.done():
                break
            col.offer(gen.choice(n, size=k + 1, replace=False), "random")
    if strategy in ("auto", "lp") and not col.done():
        _lp_search(Q, X, pending, col, gen, budget=lp_budget)
    return col.result(n)


def _moment_candidates(X, directions, col, gen, budget, n_random=3):
    """The "auto" strategy's first stage: for each approximate direction, its k + 1 most
    negative samples, then ``n_random`` random (k + 1)-subsets of its 3(k + 1) most
    negative ones; the sign given by the moment estimate first, the opposite sign only
    for directions still unmatched. A direction is dropped as soon as one of its
    candidates certifies a row (new or already found). Returns the directions still
    unmatched (they bias the linear programmes).
    """
    k = col.k
    size = min(k + 1, X.shape[1])
    pool = min(X.shape[1], 3 * size)
    norms = np.maximum(np.linalg.norm(X, axis=0), np.finfo(float).tiny)
    left = list(range(directions.shape[0]))
    for sign in (1.0, -1.0):
        if not left or col.done():
            break
        order = np.argsort(
            sign * (directions[left] @ X) / norms, axis=1, kind="stable"
        )[:, :pool]
        ranked = dict(zip(left, order))
        for attempt in range(1 + n_random):
            for i in list(left):
                if col.done() or col.checked >= budget:
                    return directions[left]
                S = (
                    ranked[i][:size]
                    if attempt == 0
                    else gen.choice(ranked[i], size=size, replace=False)
                )
                if col.offer(S, "moments") != "no":
                    left.remove(i)
    return directions[left]


def _lp_search(Q, X, directions, col, gen, budget):
    """Vertices of the cone {c : Q c >= 0} from random linear objectives (beyond the
    paper).

    Every row H_i = f(X^T v*_i) = Q c_i is an extreme ray of the cone (its ~n/2 zeros
    pin it down); the other extreme rays have only k - 1 zeros.  Minimising a random
    positive weighting of Q c over the slice 1^T Q c = 1 lands on a unit's row most of
    the time.  The first 2k objectives are tilted towards the inactive samples of the
    guessed directions (both signs), when given.
    """
    n_all, k = Q.shape
    # a subsample of the constraints suffices (every unit keeps ~half of it as zeros);
    # the zero set found is then certified on all the working samples
    n_sub = min(n_all, max(200, 20 * k))
    D = (
        None
        if directions is None or len(directions) == 0
        else np.vstack([directions, -directions])
    )
    for t in range(budget):
        if col.done():
            return
        if t % 10 == 0:  # a fresh subsample of constraints every 10 programmes
            sub = np.sort(gen.choice(n_all, size=n_sub, replace=False))
            Qs = Q[sub]
            n = sub.size
            A_eq = Qs.sum(axis=0)[None, :]
            if D is not None:
                Xs = X[:, sub]
                cos = (
                    D
                    @ Xs
                    / np.maximum(np.linalg.norm(Xs, axis=0), np.finfo(float).tiny)
                    * np.sqrt(X.shape[0])
                )
        w = gen.exponential(size=n)
        if D is not None and t < len(D):
            w = w * np.exp(-cos[t])
        b_eq = A_eq
        if col.rows:
            # exclude the rows already found: normalise by a vector b orthogonal to
            # their coefficient vectors, so those rays are infeasible (b^T c = 0)
            Cf = np.array([Q.T @ r for r in col.rows])  # (found, k) coefficient vectors
            N = np.linalg.svd(Cf)[2][
                len(col.rows) :
            ].T  # (k, k - found) orthogonal complement
            b_eq = N @ (
                N.T @ A_eq[0]
                + gen.standard_normal(N.shape[1]) * np.linalg.norm(A_eq) / np.sqrt(k)
            )
            b_eq = (b_eq * gen.choice([-1.0, 1.0]))[None, :]
        res = linprog(
            Qs.T @ w,
            A_ub=-Qs,
            b_ub=np.zeros(n),
            A_eq=b_eq,
            b_eq=[1.0],
            bounds=[(None, None)] * k,
            method="highs-ds",
            options={"presolve": False},  # small dense LPs: presolve only costs time
        )
        if res.status != 0:
            continue
        F = Qs @ res.x
        scale = np.max(np.abs(F))
        Z = sub[np.abs(F) <= col.tol * 10 * scale]
        if Z.size >= k:
            col.offer(Z, "lp")


# --------------------------------------------------------------------------------------
# Steps 5-6
# --------------------------------------------------------------------------------------


def solve_input_weights(
    X, F, activation: str | Activation = "relu"
) -> tuple[np.ndarray, np.ndarray]:
    """Step 5: V from the active samples of each certified row (F_i = beta_i f(X^T
    v*_pi(i)), beta_i > 0).

    Parameters
    ----------
    X : array_like, shape (d, n)
    F : array_like, shape (k, n)
        Rows of f(V* X) up to positive scales, exact zeros on the inactive samples.
    activation : str or Activation
        A rectified activation (f = 0 on z <= 0, f > 0 on z > 0).  Positively
        homogeneous of degree p > 0 (relu, squared_relu): regress F_i^(1/p) on x over
        the active set, exact. Otherwise (rectified, increasing on z > 0, not
        homogeneous): a one-dimensional search over the scale lambda_i of f^{-1}(F_i /
        lambda_i), exact at the true scale.

    Returns
    -------
    V : ndarray, shape (k, d)
    fit : ndarray, shape (k,)
        Relative residual of each regression (round-off when exact).

    Raises
    ------
    RecoveryFailed
        A row has fewer than d active samples (v_i is not determined), or f has degree 0
        (e.g. step: only the sign pattern of v_i^T X is identifiable, not v_i).
    ValueError
        If the activation is not rectified.

    Notes
    -----
    Cost O(d^3) per row: least squares on (at most) the first 4d active samples.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the input weights from the active
    samples).
    """
    X = as_matrix("X", X)
    F = as_matrix("F", F)
    act = get_activation(activation)
    if not act.rectified:
        raise ValueError(
            "activation must be rectified (f = 0 for z <= 0, f > 0 otherwise), got"
            f" {act.name!r}"
        )
    if act.degree is not None and act.degree == 0:
        raise RecoveryFailed(
            f"activation {act.name!r} has degree 0: only the sign pattern of V X is"
            " identifiable"
        )
    d = X.shape[0]
    V = np.zeros((F.shape[0], d))
    fit = np.zeros(F.shape[0])
    for i, row in enumerate(F):
        P = np.flatnonzero(row > 0)
        if P.size < d:
            raise RecoveryFailed(
                f"unit {i} is active on {P.size} < d={d} samples; its row of V is not"
                " determined"
            )
        P = P[
            : 4 * d
        ]  # any d active samples in general position determine v_i; 4d for conditioning
        Xa = X[:, P].T
        if act.degree is not None:
            t = row[P] ** (1.0 / act.degree)
            v = lstsq(Xa, t)
            fit[i] = np.linalg.norm(Xa @ v - t) / np.linalg.norm(t)
        else:
            v, fit[i] = _scale_search(Xa, row[P], act)
        V[i] = v
    return V, fit


def _inverse(act: Activation, y: np.ndarray) -> np.ndarray:
    """f^{-1}(y) on z > 0 by vectorised bisection (f increasing on (0, inf))."""
    lo = np.zeros_like(y)
    hi = np.ones_like(y)
    for _ in range(200):
        grow = act(hi) < y
        if not np.any(grow):
            break
        hi = np.where(grow, 2 * hi, hi)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        below = act(mid) < y
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _scale_search(Xa, f_vals, act):
    from scipy.optimize import minimize_scalar

    def resid(log_lam):
        t = _inverse(act, f_vals / np.exp(log_lam))
        v = _lstsq(Xa, t, lapack_driver="gelsy", check_finite=False)[0]
        return np.linalg.norm(Xa @ v - t) / np.linalg.norm(t), v

    res = minimize_scalar(
        lambda a: resid(a)[0],
        bounds=(-20.0, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    r, v = resid(res.x)
    return v, r


# --------------------------------------------------------------------------------------
# Everything
# --------------------------------------------------------------------------------------


@learner_contract
def recover_exact(
    X,
    Y,
    k: int,
    *,
    rng=None,
    on_failure: str = "raise",
    progress: bool = False,
    activation: str | Activation = "relu",
    strategy: str = "auto",
    max_work_samples: int | None = None,
    max_moment_samples: int = 20_000,
    max_candidates: int | None = None,
    tol: float = 1e-9,
) -> Recovery:
    """Exact recovery of ``Y = U* f(V* X)`` (no noise, rank(U*) = k, rectified f).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs (Gaussian for the moment step; the certified steps need only general
        position).
    Y : array_like, shape (m, n) or (n,)
        Noiseless labels.
    k : int
        Number of hidden units (k <= d, k <= m).
    activation : str or Activation
        Rectified activation of the network (relu, squared_relu, or any rectified f
        increasing on z > 0).
    rng : int or Generator
        Randomness of Jennrich and of the candidate search.
    on_failure : {"raise", "return"}
        What a failed result does: raise :class:`~relulearn.RecoveryFailed` (default),
        or return it (with the moment estimate as its network when there is one, else
        None) and the reason.
    progress : bool
        Show a progress bar over the steps.
    strategy : {"auto", "moments", "random", "lp"}
        Candidate zero sets, see :func:`find_unit_rows`.  "moments" is the moment-only
        route (the moment estimate's most negative samples only).
    max_work_samples : int, optional
        The exact steps use the first ``max_work_samples`` samples (default max(20 d,
        2000)); the residual is then verified on all samples.
    max_moment_samples : int
        Samples used for the moment estimate (it is only an initialisation).
    max_candidates : int, optional
        Candidate budget, see :func:`find_unit_rows`.
    tol : float
        Round-off tolerance of the certificates and of the final residual ``||Y -
        net(X)||_F / ||Y||_F`` (for float32 data at least 100 times float32's machine
        epsilon).

    Returns
    -------
    Recovery
        ``network`` (canonical units, in the order found), ``residual`` = ||Y -
        net(X)||_F/||Y||_F on all samples, ``certificate`` (per unit: smallest and next
        relative singular values of Q[S_i, :]; ``ok`` iff every unit is certified and
        the residual is below ``tol``), ``status`` certified when ``certificate.ok``,
        otherwise failed with the reason, and ``details`` (``moment_estimate``: its
        network or None, ``moments``: the MomentEstimate, ``rows``: UnitRows,
        ``singular_values`` of the working labels, ``fit`` of Step 5, ``n_work``).

    Raises
    ------
    RecoveryFailed
        (with ``on_failure="raise"``) when the labels do not have rank k, noise is
        detected (s_{k+1} not at round-off), a unit's zero set cannot be certified
        within the budget, a unit has fewer than d active samples, or the final residual
        exceeds ``tol``.
    ValueError, TypeError
        Invalid arguments, fewer than 2 samples, k > d, or k > m with an activation
        other than ReLU or fewer than ``2 k d`` samples (k > m needs the low-rank route
        of :func:`recover_low_rank`).

    Notes
    -----
    Cost: moments O(n0 m d + n0 m k^2) on n0 = min(n, max_moment_samples) samples; the
    exact steps O(n1 (m^2 + d k) + candidates (k^3 + n1 k)) on n1 = min(n,
    max_work_samples) samples; the final residual O(n k (d + m)) on all samples.  Never
    forms a d x d x d tensor.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the exact algorithm; the
    certificate search is ours).
    """
    data = check_learner_input(X, Y, k, who="recover_exact", min_samples=2)
    X, Y, k = data.X, data.Y, data.k
    d, n = X.shape
    m = Y.shape[0]
    tol = precision_tol("tol", tol, data.eps)
    act = get_activation(activation)
    if not act.rectified:
        raise ValueError(
            "activation must be rectified (f = 0 for z <= 0, f > 0 otherwise), got"
            f" {act.name!r}"
        )
    if k > m and act.name != "relu":
        raise ValueError(
            f"k={k} > m={m} outputs: recover_exact needs k <= m unless the activation"
            " is ReLU"
            f" (then it takes the low-rank route), got activation {act.name!r}"
        )
    if k > m and n < 2 * k * d:
        raise ValueError(
            f"k={k} > m={m} outputs: recover_exact takes the low-rank route, which"
            " needs at least"
            f" 2 k d = {2 * k * d} samples; X has n={n}"
        )
    if strategy not in ("auto", "moments", "random", "lp"):
        raise ValueError(
            "strategy must be one of 'auto', 'moments', 'random', 'lp', got"
            f" {strategy!r}"
        )
    gen = rng_from(rng)
    n_work = min(
        n,
        max(20 * d, 2000)
        if max_work_samples is None
        else check_int("max_work_samples", max_work_samples, minimum=2),
    )
    n_mom = min(n, check_int("max_moment_samples", max_moment_samples, minimum=2))
    bar = progress_bar(3, "recover_exact", progress)

    mom = None
    if strategy in ("auto", "moments", "lp") and m >= 1:
        try:
            mom = moment_estimate(
                X[:, :n_mom], Y[:, :n_mom], k, activation=act, rng=gen
            )
        except np.linalg.LinAlgError:
            mom = None

    def fail(reason, sv=None, rows=None):
        bar.close()
        net = None if mom is None else TwoLayerNetwork(mom.U, mom.directions, act)
        res = (
            np.inf
            if net is None
            else relative_residual(X, Y, np.asarray(net.U), np.asarray(net.V), act)
        )
        cert = Certificate(
            False,
            np.asarray(rows.smallest if rows else []),
            np.asarray(rows.next if rows else []),
            reason,
        )
        return Recovery(
            net,
            res,
            status="failed",
            reason=reason,
            certificate=cert,
            n_samples_used=n,
            details={
                "moment_estimate": net,
                "moments": mom,
                "rows": rows,
                "singular_values": sv,
                "n_work": n_work,
            },
        )

    def low_rank(reason, sv=None):
        # rank(U*) < k: the row-span step cannot work; for ReLU try the low-rank route
        # (relulearn.lowrank), which certifies its own answer by the residual
        if act.name == "relu" and n >= 2 * k * d:
            rec = recover_low_rank(X, Y, k, rng=gen, tol=tol, on_failure="return")
            if rec.ok:
                bar.close()
                details = {
                    **rec.details,
                    "route": "low_rank",
                    "moments": mom,
                    "singular_values": sv,
                }
                return Recovery(
                    rec.network,
                    rec.residual,
                    status="certified",
                    certificate=rec.certificate,
                    n_samples_used=n,
                    details=details,
                )
            reason = (
                f"{reason}; the low-rank route did not certify either: {rec.reason}"
            )
        return fail(reason, sv)

    if k > m:
        return low_rank(
            f"k={k} > m={m}: the row span of Y has dimension at most m < k (rank(U*) ="
            " k fails)"
        )
    bar.update(1)
    Xw, Yw = X[:, :n_work], Y[:, :n_work]
    if n_work < k + 1:
        return fail(f"only n={n_work} samples; need more than k={k}")
    Q, sv = label_row_space(Yw, k)
    top = sv[0] if sv[0] > 0 else 1.0
    if sv[k - 1] <= tol * top:
        return low_rank(
            f"Y has numerical rank < k={k} (s_k/s_1 = {sv[k - 1] / top:.1e}): rank(U*)"
            " < k or k too large",
            sv,
        )
    if len(sv) > k and sv[k] > tol * top:
        return fail(
            f"Y has rank > k={k} (s_(k+1)/s_1 = {sv[k] / top:.1e}): noisy labels or k"
            " too small",
            sv,
        )
    rows = find_unit_rows(
        Q,
        Xw,
        None if mom is None else mom.directions,
        strategy=strategy,
        rng=gen,
        max_candidates=max_candidates,
        tol=tol,
        activation=act,
    )
    bar.update(1)
    if rows.n_found < k:
        return fail(
            f"certified {rows.n_found} of k={k} units after {rows.n_candidates}"
            " candidate zero sets",
            sv,
            rows,
        )
    try:
        V, fit = solve_input_weights(Xw, rows.F, act)
    except RecoveryFailed as exc:
        return fail(str(exc), sv, rows)
    U = output_layer(Xw, Yw, V, act, exact=True)
    if U is None:
        return fail(
            "the output layer is singular: f(V X) has dependent rows on the working"
            " samples",
            sv,
            rows,
        )
    net = TwoLayerNetwork(U, V, act)
    if act.positively_homogeneous:
        net = net.canonical()
    residual = relative_residual(
        X, Y, np.asarray(net.U), np.asarray(net.V), net.activation
    )
    details = {
        "moment_estimate": None
        if mom is None
        else TwoLayerNetwork(mom.U, mom.directions, act),
        "moments": mom,
        "rows": rows,
        "singular_values": sv,
        "fit": fit,
        "n_work": n_work,
    }
    bar.update(1)
    bar.close()
    if not residual <= tol:
        reason = f"residual {residual:.1e} on all n={n} samples exceeds tol={tol:.0e}"
        return Recovery(
            net,
            residual,
            status="failed",
            reason=reason,
            certificate=Certificate(False, rows.smallest, rows.next, reason),
            n_samples_used=n,
            details=details,
        )
    return Recovery(
        net,
        residual,
        status="certified",
        certificate=Certificate(True, rows.smallest, rows.next, ""),
        n_samples_used=n,
        details=details,
    )
