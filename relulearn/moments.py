"""Gaussian moments: c_p(f_s) = E[f(s z) He_p(z)], PHI0, the empirical Hermite moments
and their closed forms.

For x ~ N(0, I_d) and y = U f(V x) + e (e mean-zero, independent of x), Stein's identity
gives

    E[y He_p(x)] = sum_i c_p(||v_i||) u_i (x) vbar_i^{(x) p}, c_p(s) = E_{z ~
    N(0,1)}[f(s z) He_p(z)],

with v_i the i-th row of V, vbar_i = v_i / ||v_i||, u_i the i-th column of U and He_p
the probabilists' (unnormalised) Hermite polynomial (the Hermite tensor He_p(x) for a
vector x).  Here c_p(s) is short for the notation page's moment coefficient c_p(f_s) =
E[f_s(z) He_p(z)] of the activation at scale s, f_s(z) = f(s z); at s = 1 it is c_p(f).
For ReLU: c_1(s) = s/2, c_2(s) = s phi0, c_3(s) = 0, c_4(s) = -s phi0, phi0 = 1/sqrt(2
pi).  The estimators below never build a d x d x d (or d^4) array: they either contract
the label mode with a vector g (a d x d matrix), or first project x onto a k-dimensional
subspace.

This module is the one home of the package's one-dimensional Gaussian integrals:
:func:`gaussian_expectation` (adaptive quadrature of one integrand, split at the kinks)
and :func:`gaussian_rule` (a fixed piecewise Gauss-Legendre rule, for many integrands on
shared nodes). :func:`moment_coefficient`, :func:`relulearn.alpha` and
:func:`relulearn.hermite_coefficients` are built on them.

References
----------
A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks in
polynomial time", COLT 2019 (PMLR 99:195-268) (Gaussian inputs; the moments here are
those of the course's reconstruction of its algorithm, chapter 3).  M. Janzamin, H.
Sedghi, A. Anandkumar, "Beating the perils of non-convexity: guaranteed training of
neural networks using tensor methods", arXiv 1506.08473, 2015, §3 (Stein's identity and
score-function moments).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

import numpy as np
from scipy import integrate, special

from ._streaming import chunks
from ._validation import as_matrix, check_int, check_samples
from .activations import Activation, get_activation

__all__ = [
    "PHI0",
    "first_moment",
    "fourth_moment_contraction",
    "gaussian_expectation",
    "gaussian_rule",
    "low_order_residuals",
    "moment_coefficient",
    "population_first_moment",
    "population_fourth_moment_contraction",
    "population_second_moment_contraction",
    "projected_moment",
    "projected_second_moment",
    "second_moment_contraction",
    "second_order_moments",
]

PHI0 = 1.0 / math.sqrt(2.0 * math.pi)
"""phi(0) = 1 / sqrt(2 pi), the standard normal density at 0."""

_SQRT2PI = np.sqrt(2.0 * np.pi)


def gaussian_expectation(g, *, kinks=(), scale: float = 1.0) -> float:
    """E[g(z)] for z ~ N(0, 1) by adaptive quadrature, the real line split where g may
    bend.

    Parameters
    ----------
    g : callable
        A vectorised scalar function of z.
    kinks : sequence of float
        Points t where g(z) = h(scale z) has a kink in h (e.g. the activation's kinks);
        the line is split at t / scale.
    scale : float
        s > 0, the scale at which the kinks are met.

    Returns
    -------
    float

    Notes
    -----
    The line is split at 0, +-1, +-4, at the kinks divided by s and at +-1/s, +-4/s (so
    that narrow peaks of h(s z) at large s are not missed); each piece is integrated by
    adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``, absolute tolerance
    1e-15, relative 1e-13). Accurate to about 1e-12 relative for the named activations
    (:data:`relulearn.ACTIVATION_NAMES`). Cost O(1). The callers check their arguments;
    this routine trusts them.
    """
    s = float(scale)
    pts = {0.0, -1.0, 1.0, -4.0, 4.0}
    for kink in kinks:
        pts.add(kink / s)
    for c in (1.0, 4.0):
        pts.add(c / s)
        pts.add(-c / s)
    pts = sorted({float(b) for b in pts if np.isfinite(b)})
    edges = [-np.inf, *pts, np.inf]
    total = 0.0

    def integrand(z):
        # e.g. cosh(z)^2 overflowing to inf: 1/inf = 0
        with np.errstate(over="ignore", under="ignore"):
            return (
                float(g(np.asarray(z, dtype=float))) * np.exp(-0.5 * z * z) / _SQRT2PI
            )

    for a, b in itertools.pairwise(edges):
        if a == b:
            continue
        with warnings.catch_warnings():
            # quad warns of round-off when a piece integrates to ~0 (e.g. c_4 of squared
            # ReLU); the absolute error is still at the 1e-15 level
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            val, _ = integrate.quad(
                integrand, a, b, epsabs=1e-15, epsrel=1e-13, limit=400
            )
        total += val
    return total


def gaussian_rule(kinks=(), degree: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (the Gaussian density included) of a piecewise Gauss-Legendre
    rule for E[g(z)].

    Parameters
    ----------
    kinks : sequence of float
        Points where the integrands bend (the activation's kinks); the rule is split
        there.
    degree : int
        The largest Hermite degree n the rule must integrate against (integrands f(z)
        h_n(z)).

    Returns
    -------
    nodes, weights : ndarray
        ``E[g(z)] ~ weights @ g(nodes)``.

    Notes
    -----
    [-L, L] with L = 2 sqrt(degree + 1) + 14 (beyond it phi(z) h_n(z)^2 < 1e-40) is
    split at the kinks and into pieces of length <= 1, each with 40 Gauss-Legendre
    nodes: exact on each smooth piece to double precision for functions analytic in a
    strip of half-width >= 0.5. One set of nodes serves many integrands (all Hermite
    coefficients up to ``degree`` at once), where :func:`gaussian_expectation` adapts to
    one. Cost O(sqrt(degree) * 40) nodes.
    """
    L = 2.0 * math.sqrt(degree + 1.0) + 14.0
    cuts = {-L, L} | {float(k) for k in kinks if -L < k < L}
    grid = np.unique(np.concatenate([np.linspace(-L, L, int(2 * L) + 1), sorted(cuts)]))
    t, w = np.polynomial.legendre.leggauss(40)
    lo, hi = grid[:-1, None], grid[1:, None]
    nodes = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * w).ravel() * np.exp(-0.5 * nodes**2) * PHI0
    return nodes, weights


def moment_coefficient(
    activation: str | Activation, order: int, scale: float = 1.0
) -> float:
    """c_p(s) = c_p(f_s) = E_{z~N(0,1)}[f(s z) He_p(z)], the coefficient of the order-p
    Gaussian moment E[y He_p(x)].

    He_p is the probabilists' Hermite polynomial, not normalised (E He_p(z)^2 = p!), and
    the activation is taken at the scale s of a weight row; for the coefficients of f in
    the orthonormal basis h_n = He_n / sqrt(n!) at scale 1 see
    :func:`relulearn.hermite_coefficients` (a_n = c_n(1) / sqrt(n!)).  Zhong et al.
    (2017) write m_p(s) for the same number.

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    order : int
        p >= 0.
    scale : float
        s > 0, the norm ||v_i|| of the weight row.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        Bad order or scale, or an unknown activation.

    Notes
    -----
    :func:`gaussian_expectation` of f(s z) He_p(z); O(1) in the data size. Closed forms
    for ReLU: c_0 = s phi0, c_1 = s/2, c_2 = s phi0, c_3 = 0, c_4 = -s phi0; squared
    ReLU: s^2 (1/2, 2 phi0, 1, 2 phi0, 0) for p = 0..4.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019.  K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S.
    Dhillon, "Recovery guarantees for one-hidden-layer neural networks", ICML 2017, §5
    (m_j(sigma)).
    """
    act = get_activation(activation)
    order = check_int("order", order, minimum=0)
    s = float(scale)
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    # a named activation: a pure function of (name, order, s), memoised
    if _is_builtin(act):
        return _builtin_coefficient(act.name, order, s)
    return _quadrature_coefficient(act, order, s)


def _is_builtin(act: Activation) -> bool:
    try:
        return act is get_activation(act.name)
    except (ValueError, TypeError):
        return False


@functools.lru_cache(maxsize=256)
def _builtin_coefficient(name: str, order: int, s: float) -> float:
    return _quadrature_coefficient(get_activation(name), order, s)


def _quadrature_coefficient(act: Activation, order: int, s: float) -> float:
    return float(
        gaussian_expectation(
            lambda z: act(s * z) * special.eval_hermitenorm(order, z),
            kinks=act.kinks,
            scale=s,
        )
    )


def first_moment(X, Y) -> np.ndarray:
    """Empirical M1 = (1/n) Y X^T, an estimate of E[y x^T] = sum_i c_1(||v_i||) u_i
    vbar_i^T.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)

    Returns
    -------
    ndarray, shape (m, d)

    Notes
    -----
    Cost O(n m d).  For ReLU, E[y x^T] = U V / 2.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the first moment M1).
    """
    X, Y = check_samples(X, Y)
    return (Y @ X.T) / X.shape[1]


def second_moment_contraction(X, Y, g) -> np.ndarray:
    """Empirical ``(1/n) sum_j (g^T y_j) (x_j x_j^T - I)``: the label mode of
    ``T2 = E[y (x) He_2(x)]`` contracted with g.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)
    g : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (d, d)
        Estimates ``sum_i c_2(||v_i||) (g . u_i) vbar_i vbar_i^T``.

    Notes
    -----
    Cost O(n (m + d^2)); the m x d x d tensor T2 is never formed.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the second-order moment T2).
    """
    X, Y = check_samples(X, Y)
    g = as_matrix("g", g, ndim=1)
    if g.shape[0] != Y.shape[0]:
        raise ValueError(
            f"g must have length m={Y.shape[0]} (one entry per label row), got"
            f" {g.shape[0]}"
        )
    n = X.shape[1]
    w = g @ Y
    return (X * w) @ X.T / n - np.mean(w) * np.eye(X.shape[0])


def projected_second_moment(X, Y, P) -> np.ndarray:
    """Empirical T2 projected on a subspace: T[r] = (1/n) sum_j y_rj (z_j z_j^T - I),
    z_j = P^T x_j.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)
    P : array_like, shape (d, p)
        Orthonormal columns (e.g. the top-k right singular vectors of M1).

    Returns
    -------
    ndarray, shape (m, p, p)
        Estimates ``sum_i c_2(||v_i||) u_i (x) (P^T vbar_i) (x) (P^T vbar_i)``.

    Notes
    -----
    Cost O(n d p + n m p^2 / 2) (the upper triangle of z z^T only).  Projecting first
    makes the estimate far less noisy (its variance scales with p^2 instead of d^2).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (T2 projected on the span before
    decomposing).
    """
    X, Y = check_samples(X, Y)
    P = as_matrix("P", P)
    if P.shape[0] != X.shape[0]:
        raise ValueError(f"P must have d={X.shape[0]} rows, got shape {P.shape}")
    n = X.shape[1]
    m = Y.shape[0]
    Z = P.T @ X
    p = Z.shape[0]
    iu, ju = np.triu_indices(p)
    Tu = np.zeros((iu.size, m))
    # the upper triangle of z z^T only, in blocks of samples
    for j in range(0, n, 4096):
        Zb = Z[:, j : j + 4096]
        Tu += (Zb[iu] * Zb[ju]) @ Y[:, j : j + 4096].T
    T = np.zeros((m, p, p))
    T[:, iu, ju] = Tu.T / n
    T[:, ju, iu] = Tu.T / n
    T -= np.mean(Y, axis=1)[:, None, None] * np.eye(p)[None]
    return T


def fourth_moment_contraction(X, y, g, h) -> np.ndarray:
    """Empirical (1/n) sum_j y_j He_4(x_j)[g, h, :, :] for scalar labels.

    Parameters
    ----------
    X : array_like, shape (p, n)
        Inputs, usually already projected to a small dimension p (the variance of a
        d-dimensional estimate grows like d^4).
    y : array_like, shape (n,) or (1, n)
    g, h : array_like, shape (p,)

    Returns
    -------
    ndarray, shape (p, p)
        Estimates ``sum_i c_4(||v_i||) u_i (g . vbar_i)(h . vbar_i) vbar_i vbar_i^T``.

    Notes
    -----
    Uses He4(x)[g,h] = (g.x)(h.x)(xx^T - I) - (g.x)(x h^T + h x^T) - (h.x)(x g^T + g
    x^T)
    - (g.h)(xx^T - I) + g h^T + h g^T.  Cost O(n p^2).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the fourth-order Hermite moment).
    """
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(f"y must be scalar labels (n,) or (1, n), got shape {Y.shape}")
    p, n = X.shape
    g = as_matrix("g", g, ndim=1)
    h = as_matrix("h", h, ndim=1)
    for name, v in (("g", g), ("h", h)):
        if v.shape[0] != p:
            raise ValueError(
                f"{name} must have length {p} (the input dimension), got {v.shape[0]}"
            )
    yv = Y[0]
    gx, hx = g @ X, h @ X
    I = np.eye(p)
    w = yv * (gx * hx - g @ h)
    M = (X * w) @ X.T / n - np.mean(w) * I
    a = (X * (yv * gx)) @ np.ones(n) / n  # E[y (g.x) x]
    b = (X * (yv * hx)) @ np.ones(n) / n  # E[y (h.x) x]
    M -= np.outer(a, h) + np.outer(h, a) + np.outer(b, g) + np.outer(g, b)
    M += np.mean(yv) * (np.outer(g, h) + np.outer(h, g))
    return M


# --------------------------------------------------------------------------------------
# Streamed estimators: (E[y], E[y x^T], E[y He2(x)]) in d dimensions, E[y He3], E[y He4]
# in k dimensions
# --------------------------------------------------------------------------------------


def second_order_moments(X, Y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The empirical moments up to order two, in one streamed pass: ``E[y]``,
    ``M1 = E[y x^T]`` and ``T2 = E[y (x) (x x^T - I)]`` (every slice of the label mode).

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)

    Returns
    -------
    ybar : ndarray, shape (m,)
    M1 : ndarray, shape (m, d)
    T2 : ndarray, shape (m, d, d)
        Estimates ``sum_i c_2(||v_i||) u_i (x) vbar_i (x) vbar_i``.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite entries.

    Notes
    -----
    Cost O(n m d^2) time, O(m d^2 + chunk (m + d)) memory: streamed over chunks of
    samples, so that the memory beyond X and Y does not grow with n. Use
    :func:`second_moment_contraction` when one contraction of the label mode is enough
    (O(n d^2)).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the moments M1 and T2 of the
    Gaussian-input algorithm).
    """
    X, Y = check_samples(X, Y)
    d, n = X.shape
    m = Y.shape[0]
    ybar = np.zeros(m)
    M1 = np.zeros((m, d))
    T2 = np.zeros((m, d, d))
    for sl in chunks(n, d * (m + 2)):
        Xc, Yc = X[:, sl], Y[:, sl]
        ybar += Yc.sum(axis=1)
        M1 += Yc @ Xc.T
        for r in range(m):
            T2[r] += (Xc * Yc[r]) @ Xc.T
    ybar /= n
    M1 /= n
    T2 /= n
    T2 -= ybar[:, None, None] * np.eye(d)[None]
    return ybar, M1, T2


def projected_moment(X, y, V, order: int, *, w=None) -> np.ndarray:
    """The Hermite moment ``E[y He_j(z)]`` of the projected inputs ``z = V^T x`` (j =
    order, a k^j tensor).

    ``He_3(z) = z^{(x)3} - z (x)~ I_k`` and ``He_4(z) = z^{(x)4} - (z (x) z) (x)~ I_k +
    I_k (x)~ I_k``, where ``v (x)~ I`` is the sum over the 3 placements of v among 3
    modes, ``(z (x) z) (x)~ I`` over the 6 placements of the pair among 4 modes and ``I
    (x)~ I`` over the 3 pairings. The moment is only ever formed in the projected
    dimension k, never in d (the variance of a d-dimensional He4 estimate grows like
    d^4).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs as columns (pass ``z`` itself with ``V = I_k`` if already
        projected).
    y : array_like, shape (n,) or (1, n), or (m, n) with ``w``
        Scalar labels (or residual labels, e.g. from
        :func:`relulearn.low_order_residuals`).
    V : array_like, shape (d, k)
        Orthonormal basis of the subspace.
    order : {3, 4}
    w : array_like, shape (m,), optional
        Contract the m outputs of ``y`` with w first (labels ``w . y``), chunk by chunk.

    Returns
    -------
    ndarray, shape (k,) * order
        Symmetric; in expectation ``sum_i c_j(||v_i||) (w . u_i) b_i^{(x) j}`` with
        ``b_i = V^T vbar_i`` when the rows of V* lie in span(V) (for ReLU and j = 4:
        ``-phi0 sum_i (w . u~_i) b_i^{(x)4}``).

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, order not 3 or 4.

    Notes
    -----
    Cost O(n k^j + n d k). Order 4 streams over chunks of samples (O(k^4) memory beyond
    a chunk; no k x n array is formed); order 3 forms z (k x n).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, PMLR 99:195-268 (the fourth-order Hermite moment in
    the projected dimension). K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon,
    "Recovery guarantees for one-hidden-layer neural networks", ICML 2017, PMLR
    70:4140-4149 (the moments M_3, M_4 and P_3 of its tensor initialisation).
    """
    X, Y = check_samples(X, y)
    d, n = X.shape
    if w is None:
        if Y.shape[0] != 1:
            raise ValueError(
                f"y must be scalar labels of shape (n,) or (1, n), got shape {Y.shape}"
            )
    else:
        w = as_matrix("w", w, ndim=1)
        if w.shape[0] != Y.shape[0]:
            raise ValueError(
                f"w must have length m={Y.shape[0]} (one entry per label row), got"
                f" {w.shape[0]}"
            )
    V = as_matrix("V", V)
    if V.shape[0] != d:
        raise ValueError(f"V must have shape (d, k) with d={d}, got {V.shape}")
    if order not in (3, 4):
        raise ValueError(f"order must be 3 or 4, got {order!r}")
    k = V.shape[1]
    if order == 4:
        return _hermite4(X, Y if w is not None else Y[0], V, w)
    yv = Y[0] if w is None else w @ Y
    Z = V.T @ X  # (k, n)
    eye = np.eye(k)
    T = np.einsum("n,an,bn,cn->abc", yv, Z, Z, Z, optimize=True) / n
    m = Z @ yv / n
    T -= (
        np.einsum("a,bc->abc", m, eye)
        + np.einsum("b,ac->abc", m, eye)
        + np.einsum("c,ab->abc", m, eye)
    )
    return T


def low_order_residuals(X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels with their degree-0, 1 and 2 Hermite components removed (control
    variates).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs.
    y : array_like, shape (n,) or (1, n)
        Scalar labels.

    Returns
    -------
    y1 : ndarray, shape (n,)
        ``y - mean(y) - M1 . x``, with ``M1 = E_n[(y - mean y) x]``.
    y2 : ndarray, shape (n,)
        ``y1 - (x^T M2 x - tr M2) / 2``, with ``M2 = E_n[y1 (x x^T - I)]``.
    M1 : ndarray, shape (d,)
    M2 : ndarray, shape (d, d)

    Notes
    -----
    Under N(0, I) the Hermite tensor ``He_j(x)`` is orthogonal to every polynomial of
    degree below j, so ``E[y He_j(x)] = E[(y - q(x)) He_j(x)]`` for any q of degree < j:
    the moment estimators keep their mean (up to an O(1/n) bias from estimating q on the
    same samples) while their variance drops to that of the label's high-degree part.
    For ReLU the degree <= 2 part carries about 98% of ``E[y^2]``, which shrinks the
    standard error of the M_4 estimate about seven-fold.  Cost O(n d^2).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, PMLR 70:4140-4149, §5 (the moments
    M_j).
    """
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"y must be scalar labels of shape (n,) or (1, n), got shape {Y.shape}"
        )
    n = X.shape[1]
    y0 = Y[0] - np.mean(Y[0])
    M1 = X @ y0 / n
    y1 = y0 - M1 @ X
    M2 = second_moment_contraction(X, y1, np.ones(1))
    quad = 0.5 * (np.einsum("an,ab,bn->n", X, M2, X, optimize=True) - np.trace(M2))
    return y1, y1 - quad, M1, M2


def _hermite4(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, w: np.ndarray | None
) -> np.ndarray:
    """E[y He4(z)], z = P^T x, from X (d, n) and y (n,) (or Y (m, n) contracted with w),
    chunk by chunk.
    """
    n = X.shape[1]
    k = P.shape[1]
    S4 = np.zeros((k * k, k * k))
    S2 = np.zeros((k, k))
    ysum = 0.0
    for sl in chunks(n, k * k + k + X.shape[0]):
        Zc = P.T @ X[:, sl]
        yc = y[sl] if w is None else w @ y[:, sl]
        ysum += float(yc.sum())
        Z2 = (Zc[:, None, :] * Zc[None, :, :]).reshape(k * k, -1)
        S4 += (Z2 * yc) @ Z2.T
        S2 += (Zc * yc) @ Zc.T
    S4 = S4.reshape(k, k, k, k) / n
    S2 /= n
    s0 = ysum / n
    eye = np.eye(k)
    # sum over the 6 ways to pick the pair (a, b) carrying S2 and the pair carrying
    # delta
    corr2 = (
        np.einsum("ab,cd->abcd", S2, eye)
        + np.einsum("ac,bd->abcd", S2, eye)
        + np.einsum("ad,bc->abcd", S2, eye)
        + np.einsum("bc,ad->abcd", S2, eye)
        + np.einsum("bd,ac->abcd", S2, eye)
        + np.einsum("cd,ab->abcd", S2, eye)
    )
    corr0 = (
        np.einsum("ab,cd->abcd", eye, eye)
        + np.einsum("ac,bd->abcd", eye, eye)
        + np.einsum("ad,bc->abcd", eye, eye)
    )
    return S4 - corr2 + s0 * corr0


def _network_parts(net) -> tuple[np.ndarray, np.ndarray, Activation]:
    """(U, V, activation) of any object with those attributes (a TwoLayerNetwork, or a
    duck).
    """
    try:
        U, V, act = net.U, net.V, net.activation
    except AttributeError:
        raise TypeError(
            "net must be a network with attributes U, V and activation (e.g. a"
            " TwoLayerNetwork), "
            f"got {type(net).__name__}"
        ) from None
    return np.asarray(U, dtype=float), np.asarray(V, dtype=float), act


def _coefficients(
    V: np.ndarray, activation, order: int
) -> tuple[np.ndarray, np.ndarray]:
    s = np.linalg.norm(V, axis=1)
    if np.any(s == 0):
        raise ValueError("net has a zero row in V; its direction is undefined")
    c = np.array([moment_coefficient(activation, order, si) for si in s])
    return c, V / s[:, None]


def population_first_moment(net) -> np.ndarray:
    """Closed form of E[y x^T] = sum_i c_1(||v_i||) u_i vbar_i^T (= U V / 2 for ReLU),
    shape (m, d).

    Parameters
    ----------
    net : TwoLayerNetwork
        Or any object with attributes ``U`` (m, k), ``V`` (k, d) and ``activation``.

    Returns
    -------
    ndarray, shape (m, d)

    Notes
    -----
    Cost O(m k d) plus k quadratures (:func:`moment_coefficient`).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019.
    """
    U, V, act = _network_parts(net)
    c, Vb = _coefficients(V, act, 1)
    return (U * c) @ Vb


def population_second_moment_contraction(net, g) -> np.ndarray:
    """Closed form of ``E[(g^T y)(x x^T - I)] = sum_i c_2(||v_i||) (g^T u_i) vbar_i
    vbar_i^T``, shape (d, d).

    Parameters
    ----------
    net : TwoLayerNetwork
        Or any object with attributes ``U`` (m, k), ``V`` (k, d) and ``activation``.
    g : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (d, d)

    Notes
    -----
    Cost O(k d^2 + m k) plus k quadratures (:func:`moment_coefficient`).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019.
    """
    U, V, act = _network_parts(net)
    c, Vb = _coefficients(V, act, 2)
    g = as_matrix("g", g, ndim=1)
    if g.shape[0] != U.shape[0]:
        raise ValueError(f"g must have length m={U.shape[0]}, got {g.shape[0]}")
    w = c * (g @ U)
    return (Vb.T * w) @ Vb


def population_fourth_moment_contraction(net, g, h) -> np.ndarray:
    """Closed form of E[y He_4(x)[g, h, :, :]] for a scalar-output network, shape (d,
    d).

    Equals ``sum_i c_4(||v_i||) u_i (g . vbar_i)(h . vbar_i) vbar_i vbar_i^T`` (c_4(s) =
    -s phi0 for ReLU).

    Parameters
    ----------
    net : TwoLayerNetwork
        Scalar output (m = 1); or any object with attributes ``U`` (1, k), ``V`` (k, d)
        and ``activation``.
    g, h : array_like, shape (d,)

    Returns
    -------
    ndarray, shape (d, d)

    Notes
    -----
    Cost O(k d^2) plus k quadratures (:func:`moment_coefficient`).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019.
    """
    U, V, act = _network_parts(net)
    if U.shape[0] != 1:
        raise ValueError(f"net must have scalar output (m=1), got m={U.shape[0]}")
    c, Vb = _coefficients(V, act, 4)
    g = as_matrix("g", g, ndim=1)
    h = as_matrix("h", h, ndim=1)
    w = c * U[0] * (Vb @ g) * (Vb @ h)
    return (Vb.T * w) @ Vb
