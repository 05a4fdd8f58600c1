"""Gaussian moment estimators of a two-layer network, and their closed forms.

For x ~ N(0, I_d) and y = U f(V x) + e (e mean-zero, independent of x), Stein's identity gives

    E[y He_p(x)] = sum_i c_p(s_i) u_i (x) vbar_i^{(x) p},    c_p(s) = E_{z ~ N(0,1)}[f(s z) He_p(z)],

with s_i = ||V_i|| and vbar_i = V_i / s_i.  For ReLU: c_1 = s/2, c_2 = s phi0, c_3 = 0,
c_4 = -s phi0, phi0 = 1/sqrt(2 pi).  The estimators below never build a d x d x d (or d^4) array:
they either contract the label mode with a vector g (a d x d matrix), or first project x onto a
k-dimensional subspace.

References
----------
A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks in polynomial
time", COLT 2019 (PMLR 99:195-268).  M. Janzamin, H. Sedghi, A. Anandkumar, "Beating the perils of
non-convexity: guaranteed training of neural networks using tensor methods", arXiv 1506.08473, 2015.
Spec recovery_gaussian.md §2.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from scipy import integrate, special

from ._validation import as_matrix, check_int, check_samples
from .activations import Activation, get_activation
from .network import TwoLayerNetwork

__all__ = [
    "PHI0",
    "first_moment",
    "fourth_moment_contraction",
    "hermite_coefficient",
    "population_first_moment",
    "population_fourth_moment_contraction",
    "population_second_moment_contraction",
    "projected_second_moment",
    "second_moment_contraction",
]

PHI0 = 1.0 / math.sqrt(2.0 * math.pi)
"""phi0 = 1/sqrt(2 pi), the standard normal density at 0."""


def _hermite_e(p: int, z):
    """Probabilists' Hermite polynomial He_p(z)."""
    return special.eval_hermitenorm(p, z)


def hermite_coefficient(activation: str | Activation, order: int, scale: float = 1.0) -> float:
    """c_p(s) = E_{z~N(0,1)}[f(s z) He_p(z)], the coefficient of the order-p Gaussian moment.

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    order : int
        p >= 0.
    scale : float
        s > 0, the norm of the weight row.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        Bad order or scale, or an unknown activation.

    Notes
    -----
    Adaptive quadrature (``scipy.integrate.quad``) on each side of the kinks of f; O(1) in the
    data size.  Closed forms for ReLU: c_0 = s phi0, c_1 = s/2, c_2 = s phi0, c_3 = 0, c_4 = -s phi0.

    References
    ----------
    Spec recovery_gaussian.md §2.
    """
    act = get_activation(activation)
    order = check_int("order", order, minimum=0)
    s = float(scale)
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    if _is_builtin(act):  # a named activation: a pure function of (name, order, s), memoised
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
    def integrand(z):
        return float(act(np.asarray(s * z))) * float(_hermite_e(order, z)) * PHI0 * math.exp(-0.5 * z * z)

    points = sorted({0.0, *(float(t) / s for t in act.kinks)})
    edges = [-np.inf, *points, np.inf]
    total = 0.0
    for a, b in itertools.pairwise(edges):
        val, _ = integrate.quad(integrand, a, b, limit=200, epsabs=1e-13, epsrel=1e-12)
        total += val
    return float(total)


def first_moment(X, Y) -> np.ndarray:
    """Empirical M1 = (1/n) Y X^T, an estimate of E[y x^T] = sum_i c_1(s_i) u_i vbar_i^T.

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
    Spec recovery_gaussian.md §2 and §3 (Step 1).
    """
    X, Y = check_samples(X, Y)
    return (Y @ X.T) / X.shape[1]


def second_moment_contraction(X, Y, g) -> np.ndarray:
    """Empirical (1/n) sum_j (g . y_j) (x_j x_j^T - I): the label mode of T2 = E[y (x) He_2(x)]
    contracted with g.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)
    g : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (d, d)
        Estimates ``sum_i c_2(s_i) (g . u_i) vbar_i vbar_i^T``.

    Notes
    -----
    Cost O(n (m + d^2)); the m x d x d tensor T2 is never formed.

    References
    ----------
    Spec recovery_gaussian.md §2, §3 (Steps 1-2).
    """
    X, Y = check_samples(X, Y)
    g = as_matrix("g", g, ndim=1)
    if g.shape[0] != Y.shape[0]:
        raise ValueError(f"g must have length m={Y.shape[0]} (one entry per label row), got {g.shape[0]}")
    n = X.shape[1]
    w = g @ Y
    return (X * w) @ X.T / n - np.mean(w) * np.eye(X.shape[0])


def projected_second_moment(X, Y, P) -> np.ndarray:
    """Empirical T2 projected on a subspace: T[r] = (1/n) sum_j y_rj (z_j z_j^T - I), z_j = P^T x_j.

    Parameters
    ----------
    X : array_like, shape (d, n)
    Y : array_like, shape (m, n) or (n,)
    P : array_like, shape (d, p)
        Orthonormal columns (e.g. the top-k right singular vectors of M1).

    Returns
    -------
    ndarray, shape (m, p, p)
        Estimates ``sum_i c_2(s_i) u_i (x) (P^T vbar_i) (x) (P^T vbar_i)``.

    Notes
    -----
    Cost O(n d p + n m p^2 / 2) (the upper triangle of z z^T only).  Projecting first makes the
    estimate far less noisy (its variance scales with p^2 instead of d^2).

    References
    ----------
    Spec recovery_gaussian.md §2, §10, §11.
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
    for j in range(0, n, 4096):  # the upper triangle of z z^T only, in blocks of samples
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
        Inputs, usually already projected to a small dimension p (spec §4, §10).
    y : array_like, shape (n,) or (1, n)
    g, h : array_like, shape (p,)

    Returns
    -------
    ndarray, shape (p, p)
        Estimates ``sum_i c_4(s_i) u_i (g . vbar_i)(h . vbar_i) vbar_i vbar_i^T``.

    Notes
    -----
    Uses He4(x)[g,h] = (g.x)(h.x)(xx^T - I) - (g.x)(x h^T + h x^T) - (h.x)(x g^T + g x^T)
    - (g.h)(xx^T - I) + g h^T + h g^T.  Cost O(n p^2).

    References
    ----------
    Spec recovery_gaussian.md §2.
    """
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(f"y must be scalar labels (n,) or (1, n), got shape {Y.shape}")
    p, n = X.shape
    g = as_matrix("g", g, ndim=1)
    h = as_matrix("h", h, ndim=1)
    for name, v in (("g", g), ("h", h)):
        if v.shape[0] != p:
            raise ValueError(f"{name} must have length {p} (the input dimension), got {v.shape[0]}")
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


def _coefficients(net: TwoLayerNetwork, order: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(net, TwoLayerNetwork):
        raise TypeError(f"net must be a TwoLayerNetwork, got {type(net).__name__}")
    s = np.linalg.norm(net.V, axis=1)
    if np.any(s == 0):
        raise ValueError("net has a zero row in V; its direction is undefined")
    c = np.array([hermite_coefficient(net.activation, order, si) for si in s])
    return c, net.V / s[:, None]


def population_first_moment(net: TwoLayerNetwork) -> np.ndarray:
    """Closed form of E[y x^T] = sum_i c_1(s_i) u_i vbar_i^T (= U V / 2 for ReLU), shape (m, d).

    Notes
    -----
    Cost O(m k d) plus k quadratures.

    References
    ----------
    Spec recovery_gaussian.md §2.
    """
    c, Vb = _coefficients(net, 1)
    return (net.U * c) @ Vb


def population_second_moment_contraction(net: TwoLayerNetwork, g) -> np.ndarray:
    """Closed form of E[(g . y)(x x^T - I)] = sum_i c_2(s_i) (g . u_i) vbar_i vbar_i^T, shape (d, d).

    Notes
    -----
    Cost O(k d^2 + m k) plus k quadratures.

    References
    ----------
    Spec recovery_gaussian.md §2.
    """
    c, Vb = _coefficients(net, 2)
    g = as_matrix("g", g, ndim=1)
    if g.shape[0] != net.output_dim:
        raise ValueError(f"g must have length m={net.output_dim}, got {g.shape[0]}")
    w = c * (g @ net.U)
    return (Vb.T * w) @ Vb


def population_fourth_moment_contraction(net: TwoLayerNetwork, g, h) -> np.ndarray:
    """Closed form of E[y He_4(x)[g, h, :, :]] for a scalar-output network, shape (d, d).

    Equals ``sum_i c_4(s_i) u_i (g . vbar_i)(h . vbar_i) vbar_i vbar_i^T`` (c_4 = -s phi0 for ReLU).

    Notes
    -----
    Cost O(k d^2) plus k quadratures.

    References
    ----------
    Spec recovery_gaussian.md §2.
    """
    if isinstance(net, TwoLayerNetwork) and net.output_dim != 1:
        raise ValueError(f"net must have scalar output (m=1), got m={net.output_dim}")
    c, Vb = _coefficients(net, 4)
    g = as_matrix("g", g, ndim=1)
    h = as_matrix("h", h, ndim=1)
    w = c * net.U[0] * (Vb @ g) * (Vb @ h)
    return (Vb.T * w) @ Vb
