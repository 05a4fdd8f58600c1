"""Why the general problem is hard: Set Splitting reduces to fitting a 2-unit ReLU
network exactly.

The chapter on hardness needs four things, one function each:

* :func:`set_splitting_instance` builds the data ``(X, Y)`` of the reduction (with the
  gadget that forces both output weights to be positive, or without it to show why it is
  needed);
* :func:`is_splittable` decides Set Splitting by brute force over 2-colourings;
* :func:`splitting_witness` is the (<=) direction of the proof: the explicit network
  that fits the data of a splittable set system;
* :func:`find_exact_fit` / :func:`exact_fit_search` decide exactly whether ``y = u^T
  relu(V X)`` with k hidden units fits the labels, by a branch-and-bound over activation
  patterns in which every node is a linear program.

References
----------
A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning Two Layer Rectified Neural Networks in
Polynomial Time", COLT 2019, PMLR 99:195-268 (its abstract states that the problem is
NP-hard already for k = 2; the reduction here is the course's own). A. L. Blum and R. L.
Rivest, "Training a 3-Node Neural Network is NP-Complete", Neural Networks 5(1), 1992 (a
Set Splitting reduction for threshold units).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from ._validation import check_int, check_samples
from .network import TwoLayerNetwork

__all__ = [
    "GADGET_LABELS",
    "GADGET_THRESHOLDS",
    "FitSearch",
    "exact_fit_search",
    "find_exact_fit",
    "is_splittable",
    "set_splitting_instance",
    "splitting_witness",
]

#: Kinks of the gadget's target g(t) = relu(t - 1.5) + relu(t - 3.5).
GADGET_THRESHOLDS = (1.5, 3.5)
#: The gadget's sample positions t = 0..5 and labels g(t) = 0, 0, .5, 1.5, 3, 5.
GADGET_T = np.arange(6.0)
GADGET_LABELS = tuple(float(max(t - 1.5, 0.0) + max(t - 3.5, 0.0)) for t in GADGET_T)

_FIT_TOL = 1e-9


def _check_set_system(n_elements, sets) -> tuple[int, list[tuple[int, ...]]]:
    n_elements = check_int("n_elements", n_elements, minimum=1)
    if isinstance(sets, (str, bytes)):
        raise TypeError(
            "sets must be a sequence of collections of element indices, got"
            f" {type(sets).__name__}"
        )
    try:
        raw = list(sets)
    except TypeError as exc:
        raise TypeError(
            "sets must be a sequence of collections of element indices, got"
            f" {type(sets).__name__}"
        ) from exc
    out = []
    for j, C in enumerate(raw):
        try:
            members = sorted({int(e) for e in C})
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"sets[{j}] must be a collection of int element indices, got {C!r}"
            ) from exc
        for e in members:
            if not 0 <= e < n_elements:
                raise ValueError(
                    f"sets[{j}] contains element {e}; elements must lie in"
                    f" 0..n_elements-1 = 0..{n_elements - 1}"
                )
        if not members:
            raise ValueError(
                f"sets[{j}] is empty; Set Splitting needs nonempty sets (an empty set"
                " is never split)"
            )
        out.append(tuple(members))
    return n_elements, out


def set_splitting_instance(
    n_elements: int, sets, *, gadget: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The data of the reduction Set Splitting -> exact realizability by
    ``u^T relu(V x)``, k = 2.

    Coordinates of a sample are ``(x in R^N, 1, z in R^2)``; the constant 1 plays the
    bias (the model itself has none). The samples (columns of ``X``) and labels are

    ========================  =====================================================
    sample                    label
    ========================  =====================================================
    ``P0 = (0, 1, 0, 0)``     0
    ``P_C = (1_C, 1, 0, 0)``  0, one per set C
    ``N_i = (e_i, 1, 0, 0)``  1, one per element i
    ``G_t = (0, 1, 1, t)``    ``g(t) = relu(t - 1.5) + relu(t - 3.5)``, t = 0, ..., 5
    ========================  =====================================================

    Parameters
    ----------
    n_elements : int
        Size N of the ground set {0, ..., N-1}.
    sets : sequence of collections of int
        The sets C_1, ..., C_M.
    gadget : bool, default True
        Include the gadget samples G_t and the two z coordinates. Without it the
        reduction is false (the triangle is a counterexample), which is why it exists.

    Returns
    -------
    X : ndarray, shape (N + 3, M + N + 7), or (N + 1, M + N + 1) without the gadget
        Samples as columns, in the order P0, P_C (sets in order), N_i, G_t.
    Y : ndarray, shape (1, n)
        Labels.

    Raises
    ------
    ValueError, TypeError
        ``n_elements`` not a positive int; an empty set; a set with an element outside
        0..N-1.

    Notes
    -----
    Cost O(N (M + N)). The instance is realizable by 2 ReLU units iff the set system can
    be split (every set gets both colours of a 2-colouring of the elements).

    References
    ----------
    A. L. Blum, R. L. Rivest, "Training a 3-Node Neural Network is NP-Complete", Neural
    Networks 5(1), 1992 (the Set Splitting points). A. Bakshi, R. Jayaram, D. P.
    Woodruff, COLT 2019 (NP-hard for k = 2).
    """
    N, sets = _check_set_system(n_elements, sets)
    cols = [np.zeros(N)]
    labels = [0.0]
    for C in sets:
        x = np.zeros(N)
        x[list(C)] = 1.0
        cols.append(x)
        labels.append(0.0)
    for i in range(N):
        x = np.zeros(N)
        x[i] = 1.0
        cols.append(x)
        labels.append(1.0)
    Xb = np.vstack([np.array(cols).T, np.ones((1, len(cols)))])
    if not gadget:
        return Xb, np.array(labels)[None, :]
    Xb = np.vstack([Xb, np.zeros((2, Xb.shape[1]))])
    G = np.zeros((N + 3, len(GADGET_T)))
    G[N] = 1.0
    G[N + 1] = 1.0
    G[N + 2] = GADGET_T
    X = np.hstack([Xb, G])
    Y = np.array(labels + list(GADGET_LABELS))[None, :]
    return X, Y


def is_splittable(n_elements: int, sets) -> tuple[int, ...] | None:
    """Decide Set Splitting by brute force: a 2-colouring leaving no set monochromatic,
    or None.

    Parameters
    ----------
    n_elements : int
        Size N of the ground set {0, ..., N-1}.
    sets : sequence of collections of int
        The sets.

    Returns
    -------
    tuple of int or None
        ``colour[i]`` in {0, 1} for each element (element 0 gets colour 0), such that
        every set contains both colours; None when no such colouring exists (for example
        when a set has fewer than 2 elements).

    Raises
    ------
    ValueError, TypeError
        As :func:`set_splitting_instance`.

    Notes
    -----
    Cost O(2^(N-1) * sum_C :math:`|C|`): exponential, as expected for an NP-complete
    problem. A system of 2-element sets is a graph, and it is splittable iff the graph
    is bipartite.

    References
    ----------
    M. R. Garey, D. S. Johnson, "Computers and Intractability", 1979 (Set Splitting,
    [SP4]). A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
    networks in polynomial time", COLT 2019 (NP-hardness of exact fitting for k = 2, by
    reduction from Set Splitting).
    """
    N, sets = _check_set_system(n_elements, sets)
    if any(len(C) < 2 for C in sets):
        return None
    masks = [sum(1 << e for e in C) for C in sets]
    full = (1 << N) - 1
    for code in range(1 << (N - 1)):
        one = code << 1  # element 0 always has colour 0
        if all((m & one) and (m & (full ^ one)) for m in masks):
            return tuple((one >> i) & 1 for i in range(N))
    return None


def splitting_witness(n_elements: int, sets, colouring) -> TwoLayerNetwork:
    """The (<=) direction of the reduction: the 2-unit network fitting the instance of a
    splitting.

    With ``S_1 = {i : colour_i = 0}``, ``S_2`` the rest, ``tau = (1.5, 3.5)`` and the
    coordinates of :func:`set_splitting_instance`, the network is ``U = [1, 1]`` and
    ``V_i = (2 * 1_{S_i} - 2N * 1_{S_(3-i)}, -1, 1 - tau_i, 1)``.

    Parameters
    ----------
    n_elements : int
        Size N of the ground set.
    sets : sequence of collections of int
        The sets (used to check that the colouring splits them).
    colouring : sequence of {0, 1}
        One colour per element.

    Returns
    -------
    TwoLayerNetwork
        U of shape (1, 2), V of shape (2, N + 3); it fits ``set_splitting_instance(N,
        sets)`` exactly.

    Raises
    ------
    ValueError
        ``colouring`` has the wrong length, values outside {0, 1}, or leaves some set
        monochromatic.

    Notes
    -----
    Cost O(N + sum_C :math:`|C|`). Pre-activations: -1 at P0; at most
    :math:`2|C| - 2N - 1 < 0` at P_C (C meets the other colour); 1 for the unit of N_e's
    colour and -2N - 1 for the other; t - tau_i at G_t.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019 (NP-hardness of exact fitting for k = 2, by reduction
    from Set Splitting); after A. Blum and R. L. Rivest, Neural Networks 5(1), 1992.
    """
    N, sets = _check_set_system(n_elements, sets)
    c = np.asarray(colouring)
    if c.shape != (N,) or not np.all((c == 0) | (c == 1)):
        raise ValueError(
            f"colouring must be {N} values in {{0, 1}}, got {list(np.ravel(c))!r}"
        )
    c = c.astype(int)
    for j, C in enumerate(sets):
        if len({int(c[e]) for e in C}) < 2:
            raise ValueError(
                f"colouring leaves sets[{j}] = {C} monochromatic; it must split every"
                " set"
            )
    V = np.zeros((2, N + 3))
    for i in range(2):
        mine = c == i
        V[i, :N] = np.where(mine, 2.0, -2.0 * N)
        V[i, N] = -1.0
        V[i, N + 1] = 1.0 - GADGET_THRESHOLDS[i]
        V[i, N + 2] = 1.0
    return TwoLayerNetwork(np.ones((1, 2)), V)


@dataclass(frozen=True, repr=False, eq=False)
class FitSearch:
    """The outcome of :func:`exact_fit_search`.

    Attributes
    ----------
    network : TwoLayerNetwork or None
        A network fitting the labels to 1e-9 (relative to ``max |y|``, at least 1), or
        None if none exists.
    signs : tuple of int or None
        The output signs (+1 / -1 per unit) of the fit.
    patterns : ndarray of bool, shape (k, n), or None
        The activation pattern of the fit (``V X > 0`` up to ties resolved by the LP).
    n_lps : int
        Linear programs solved.
    n_nodes : int
        Search nodes visited (partial activation patterns that passed the cheap label
        checks).
    feasible_signs : tuple of tuple of int
        The sign vectors for which a fit exists (all of them are tried when
        ``all_signs=True``, otherwise the search stops at the first).
    """

    network: TwoLayerNetwork | None
    signs: tuple[int, ...] | None
    patterns: np.ndarray | None
    n_lps: int
    n_nodes: int
    feasible_signs: tuple[tuple[int, ...], ...]

    @property
    def realizable(self) -> bool:
        """Whether a fit was found."""
        return self.network is not None

    def __repr__(self) -> str:
        return (
            f"FitSearch(realizable={self.realizable}, signs={self.signs},"
            f" n_lps={self.n_lps}, "
            f"n_nodes={self.n_nodes}, feasible_signs={self.feasible_signs})"
        )


class _PatternLP:
    """Feasibility LP of a partial activation pattern, for fixed output signs
    (private).
    """

    def __init__(self, X, y, signs):
        self.X = X
        self.y = y
        self.signs = np.asarray(signs, dtype=float)
        self.k = len(signs)
        self.d = X.shape[0]
        self.n_lps = 0

    def solve(self, assigned, patterns):
        """Feasible V (k, d) for the samples ``assigned`` with ``patterns`` (list of
        k-bool tuples), or None.
        """
        k, d = self.k, self.d
        A_ub, b_ub, A_eq, b_eq = [], [], [], []
        for j, z in zip(assigned, patterns):
            x = self.X[:, j]
            eq = np.zeros(k * d)
            for i in range(k):
                row = np.zeros(k * d)
                if z[i]:
                    row[i * d : (i + 1) * d] = -x  # v_i . x >= 0
                    eq[i * d : (i + 1) * d] = self.signs[i] * x
                else:
                    row[i * d : (i + 1) * d] = x  # v_i . x <= 0
                A_ub.append(row)
                b_ub.append(0.0)
            if np.any(eq):
                A_eq.append(eq)
                b_eq.append(self.y[j])
            elif self.y[j] != 0.0:
                return None
        # Valid for every sample when all signs agree: sigma * y_j >= relu(v_i . x_j) >=
        # v_i . x_j.
        if np.all(self.signs == self.signs[0]):
            s = self.signs[0]
            for j in range(self.X.shape[1]):
                for i in range(k):
                    row = np.zeros(k * d)
                    row[i * d : (i + 1) * d] = self.X[:, j]
                    A_ub.append(row)
                    b_ub.append(s * self.y[j])
        self.n_lps += 1
        res = linprog(
            np.zeros(k * d),
            A_ub=np.array(A_ub) if A_ub else None,
            b_ub=np.array(b_ub) if b_ub else None,
            A_eq=np.array(A_eq) if A_eq else None,
            b_eq=np.array(b_eq) if b_eq else None,
            bounds=[(None, None)] * (k * d),
            method="highs",
        )
        if res.status != 0:
            return None
        return res.x.reshape(k, d)


def _sample_order(y: np.ndarray) -> np.ndarray:
    """Rare label values first (they constrain most), larger |y| first among equals."""
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    freq = counts[inverse]
    return np.lexsort((np.arange(y.size), -np.abs(y), freq))


def _options(yj: float, signs, tied) -> list[tuple[bool, ...]]:
    """Activation patterns at one sample compatible with the sign of its label and the
    symmetry breaking.
    """
    k = len(signs)
    out = []
    for z in itertools.product((True, False), repeat=k):
        pos = any(z[i] and signs[i] > 0 for i in range(k))
        neg = any(z[i] and signs[i] < 0 for i in range(k))
        if yj > 0 and not pos:
            continue
        if yj < 0 and not neg:
            continue
        if yj == 0 and pos != neg:
            continue
        # Units i, i+1 with equal signs are interchangeable: keep their patterns
        # lexicographically ordered (unit i active before unit i+1) while they are still
        # identical.
        if any(tied[i] and (not z[i]) and z[i + 1] for i in range(k - 1)):
            continue
        out.append(z)
    return out


def _verify(X, y, signs, V) -> TwoLayerNetwork | None:
    net = TwoLayerNetwork(np.asarray(signs, dtype=float)[None, :], V)
    scale = max(1.0, float(np.max(np.abs(y))))
    if np.max(np.abs(net(X)[0] - y)) <= _FIT_TOL * scale:
        return net
    return None


def _polish(X, y, signs, V, patterns) -> np.ndarray:
    """Least-squares correction of V so the equalities of the pattern hold to
    round-off.
    """
    k, d = V.shape
    rows, rhs = [], []
    for j in range(X.shape[1]):
        eq = np.zeros(k * d)
        for i in range(k):
            if patterns[i, j]:
                eq[i * d : (i + 1) * d] = signs[i] * X[:, j]
        rows.append(eq)
        rhs.append(y[j])
    A = np.array(rows)
    r = np.array(rhs) - A @ V.ravel()
    dv, *_ = np.linalg.lstsq(A, r, rcond=None)
    return V + dv.reshape(k, d)


def _search_signs(X, y, signs, order):
    lp = _PatternLP(X, y, signs)
    k = len(signs)
    n_nodes = 0
    # Samples whose label admits one pattern only are fixed at the root.
    tied0 = tuple(signs[i] == signs[i + 1] for i in range(k - 1))
    fixed, fixed_z, rest = [], [], []
    for j in order:
        opts = _options(y[j], signs, (False,) * (k - 1))
        if len(opts) == 1:
            fixed.append(j)
            fixed_z.append(opts[0])
        elif not opts:
            return None, lp.n_lps, n_nodes
        else:
            rest.append(j)

    def tied_after(tied, z):
        return tuple(tied[i] and z[i] == z[i + 1] for i in range(k - 1))

    tied = tied0
    for z in fixed_z:
        tied = tied_after(tied, z)

    assigned = list(fixed)
    pats = list(fixed_z)
    V0 = lp.solve(assigned, pats)
    if V0 is None:
        return None, lp.n_lps, n_nodes

    def dfs(t, tied, V):
        nonlocal n_nodes
        if t == len(rest):
            return V
        j = rest[t]
        for z in _options(y[j], signs, tied):
            n_nodes += 1
            assigned.append(j)
            pats.append(z)
            # The parent's solution may already satisfy this sample's constraints: skip
            # the LP.
            h = V @ X[:, j]
            ok = all((h[i] >= -1e-12) if z[i] else (h[i] <= 1e-12) for i in range(k))
            if ok and abs(
                sum(signs[i] * h[i] for i in range(k) if z[i]) - y[j]
            ) <= 1e-12 * max(1.0, abs(y[j])):
                Vn = V
            else:
                Vn = lp.solve(assigned, pats)
            if Vn is not None:
                out = dfs(t + 1, tied_after(tied, z), Vn)
                if out is not None:
                    return out
            assigned.pop()
            pats.pop()
        return None

    V = dfs(0, tied, V0)
    if V is None:
        return None, lp.n_lps, n_nodes
    P = np.zeros((k, X.shape[1]), dtype=bool)
    for j, z in zip(assigned, pats):
        P[:, j] = z
    return (V, P), lp.n_lps, n_nodes


def exact_fit_search(X, Y, k: int, *, all_signs: bool = False) -> FitSearch:
    """Decide exactly whether some ``u^T relu(V X)`` with k hidden units fits scalar
    labels Y.

    By positive homogeneity every unit's output weight can be taken in {+1, -1} (a unit
    with weight 0 is a unit with V_i = 0), and units of equal sign are interchangeable,
    so only the k + 1 sign vectors with p plus signs followed by k - p minus signs are
    tried. For each, a depth-first branch-and-bound assigns an activation pattern ``z_j
    in {0, 1}^k`` to one sample at a time; given the patterns of the assigned samples,
    the conditions on V are linear:

    * ``v_i . x_j >= 0`` if ``z_ij = 1`` and ``v_i . x_j <= 0`` otherwise;
    * ``sum_i sigma_i z_ij v_i . x_j = y_j``.

    A node whose LP is infeasible is pruned; this is exact because the LP of a partial
    pattern is a relaxation of every completion. It suffices to search the strict
    patterns ``z_ij = 1[v_i . x_j > 0]`` of the fits: so at a sample with ``y_j > 0``
    some plus unit is active, with ``y_j < 0`` some minus unit, and with ``y_j = 0``
    either both kinds or none. Patterns incompatible with the sign of y_j are never
    generated; when all signs agree, ``v_i . x_j <= sigma y_j`` is added for all samples
    (valid for every completion). Samples are taken in order of rarest label value
    first.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Samples as columns (any real data; no biases in the model, so put a constant
        coordinate in X if you want one).
    Y : array_like, shape (n,) or (1, n)
        Scalar labels.
    k : int
        Number of hidden units (>= 1; k <= d is not required).
    all_signs : bool, default False
        Try every sign vector (to report which are feasible) instead of stopping at the
        first fit.

    Returns
    -------
    FitSearch
        The network (verified: ``max_j |net(x_j) - y_j| <= 1e-9 max(1, max |y|)``) or
        None, and the search statistics.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite data; Y with more than one row; k not a positive int.

    Notes
    -----
    Worst-case cost: the tree has depth n and branching at most 2^k, so the search
    solves at most ``(k + 1) sum_{t <= n} 2^(k t)`` LPs with k d variables and at most
    (k + 1) n constraints, each polynomial (HiGHS): exponential in n. (The strict
    patterns ``1[v_i . x_j > 0]`` of a unit are the faces of the arrangement of the n
    hyperplanes ``x_j^perp`` in R^d, of which there are O(n^d), so for fixed d and k the
    problem is polynomial; the LPs here allow ties ``v_i . x_j = 0`` and the search is
    not analysed to that bound.) The fit is found by an LP solver with feasibility
    tolerance about 1e-7, then polished by least squares on the pattern's equalities and
    verified to 1e-9.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning Two Layer Rectified Neural Networks
    in Polynomial Time", COLT 2019 (the problem this decides; its abstract states
    NP-hardness for k = 2).
    """
    X, Y = check_samples(X, Y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"Y must hold scalar labels, shape (n,) or (1, n), got shape {Y.shape}"
        )
    k = check_int("k", k, minimum=1)
    y = Y[0]
    order = _sample_order(y)
    total_lps = total_nodes = 0
    found = None
    feasible = []
    for p in range(k, -1, -1):
        signs = (1,) * p + (-1,) * (k - p)
        if p == 0 and np.any(y > 0) or p == k and np.any(y < 0):
            continue
        res, n_lps, n_nodes = _search_signs(X, y, signs, order)
        total_lps += n_lps
        total_nodes += n_nodes
        if res is None:
            continue
        V, P = res
        net = _verify(X, y, signs, V)
        if net is None:
            net = _verify(X, y, signs, _polish(X, y, signs, V, P))
        # LP tolerance trouble; never seen on the chapter's instances
        if net is None:  # pragma: no cover
            continue
        feasible.append(signs)
        if found is None:
            found = (net, signs, P)
        if not all_signs:
            break
    if found is None:
        return FitSearch(None, None, None, total_lps, total_nodes, tuple(feasible))
    net, signs, P = found
    P = P.copy()
    P.setflags(write=False)
    return FitSearch(net, signs, P, total_lps, total_nodes, tuple(feasible))


def find_exact_fit(X, Y, k: int) -> TwoLayerNetwork | None:
    """A k-unit network ``U relu(V X)`` that fits scalar labels Y exactly, or None if
    there is none.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Samples as columns.
    Y : array_like, shape (n,) or (1, n)
        Scalar labels.
    k : int
        Number of hidden units.

    Returns
    -------
    TwoLayerNetwork or None
        A network with ``max_j |net(x_j) - y_j| <= 1e-9 max(1, max |y|)``; None exactly
        when no k-unit network fits (never None for a realizable instance).

    Raises
    ------
    ValueError, TypeError
        As :func:`exact_fit_search`.

    Notes
    -----
    Cost: see :func:`exact_fit_search`; exponential in n in the worst case (the problem
    is NP-complete when d grows with n, chapter 2 of the course).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, COLT 2019.
    """
    return exact_fit_search(X, Y, k).network
