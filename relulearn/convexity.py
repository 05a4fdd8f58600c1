"""Local strong convexity of the squared loss of a one-hidden-layer network near the
ground truth.

For scalar outputs ``y = sum_i u_i f(v_i . x)`` (output weights ``u_i``, hidden units
``v_i``, the rows of ``V``) with Gaussian inputs, Zhong, Song, Jain, Bartlett and
Dhillon (2017) show that the squared loss in ``V``, with the output weights held at
their true values, is strongly convex near the ground truth when the activation f has
three properties:

* **P1**: ``0 <= f'(z) <= L1 |z|^p`` (a non-negative derivative of at most polynomial
  growth);
* **P2**: ``rho(s) > 0`` for every scale ``s > 0``, where, with
  ``alpha_{i,j}(s) = E_{z ~ N(0,1)}[(f'(s z))^i z^j]``,
  ``rho(s) = min{alpha_{2,0} - alpha_{1,0}^2 - alpha_{1,1}^2,
  alpha_{2,2} - alpha_{1,1}^2 - alpha_{1,2}^2,
  alpha_{1,0} alpha_{1,2} - alpha_{1,1}^2}``;
* **P3**: ``|f''| <= L2`` (smooth), or ``f'' = 0`` except at finitely many points
  (piecewise linear).

(The paper writes the output weights ``v_i``, the hidden weights ``w_i``, the activation
``phi`` and the scale ``sigma``; the names here are those of the course's notation
page.)

This module computes ``alpha`` and ``rho`` by adaptive quadrature
(:func:`relulearn.gaussian_expectation`), checks P1-P3 numerically, and builds the
population Hessian of the squared loss at the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._validation import check_int
from .activations import Activation, get_activation
from .moments import gaussian_expectation
from .network import TwoLayerNetwork

__all__ = [
    "ActivationProperties",
    "activation_properties",
    "alpha",
    "population_hessian",
    "rho",
    "rho_terms",
    "smallest_hessian_eigenvalue",
]

_SQRT2PI = np.sqrt(2.0 * np.pi)


def _check_scale(scale) -> float:
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise TypeError(
            f"scale must be a positive number, got {type(scale).__name__}"
        ) from None
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return s


def alpha(activation: str | Activation, i: int, j: int, scale: float = 1.0) -> float:
    """``alpha_{i,j}(s) = E_{z ~ N(0,1)}[(f'(s z))^i z^j]``.

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    i, j : int
        Powers of f' and of z (``i >= 0``, ``j >= 0``).
    scale : float
        The scale ``s > 0`` (in the theorems, a singular value of the hidden layer
        ``V``).

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        Negative powers, non-positive scale, unknown activation.

    Notes
    -----
    Adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``) against the Gaussian
    density, the line split at the activation's kinks (divided by s), at 0, +-1, +-4 and
    +-1/s,
    +-4/s (so narrow peaks of f'(s z) at large s are not missed).  Accurate to
    about 1e-12 relative for the named activations (:data:`relulearn.ACTIVATION_NAMES`).
    Cost O(1).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §3 (property P2).
    """
    act = get_activation(activation)
    i = check_int("i", i, minimum=0)
    j = check_int("j", j, minimum=0)
    s = _check_scale(scale)
    return gaussian_expectation(
        lambda z: act.derivative(s * z) ** i * z**j, kinks=act.kinks, scale=s
    )


def rho_terms(
    activation: str | Activation, scale: float = 1.0
) -> tuple[float, float, float]:
    """The three terms whose minimum is ``rho(s)``.

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    scale : float
        The scale ``s > 0``.

    Returns
    -------
    (t1, t2, t3) : tuple of float
        ``t1 = alpha_{2,0} - alpha_{1,0}^2 - alpha_{1,1}^2``,
        ``t2 = alpha_{2,2} - alpha_{1,1}^2 - alpha_{1,2}^2``,
        ``t3 = alpha_{1,0} alpha_{1,2} - alpha_{1,1}^2``.

    Raises
    ------
    ValueError, TypeError
        As :func:`alpha`.

    Notes
    -----
    Five quadratures (see :func:`alpha`); O(1).

    References
    ----------
    Zhong et al., ICML 2017, §3 (property P2).
    """
    a10, a11, a12 = (alpha(activation, 1, j, scale) for j in (0, 1, 2))
    a20, a22 = alpha(activation, 2, 0, scale), alpha(activation, 2, 2, scale)
    return (a20 - a10**2 - a11**2, a22 - a11**2 - a12**2, a10 * a12 - a11**2)


def rho(activation: str | Activation, scale: float = 1.0) -> float:
    """``rho(s)``, the curvature constant of Property P2 (Zhong et al. 2017).

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    scale : float
        The scale ``s > 0``.

    Returns
    -------
    float
        ``min`` of :func:`rho_terms`.  Closed forms: ReLU ``1/4 - 1/(2 pi)`` for every
        s; squared ReLU ``(4/pi - 1) s^2``; linear 0.  The value is returned as
        computed, so it is negative for activations violating P1 such as ``z^2`` (``-4
        s^2``).

    Raises
    ------
    ValueError, TypeError
        As :func:`alpha`.

    Notes
    -----
    Five one-dimensional quadratures; O(1).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §3 (property P2 and the table of rho).
    """
    return float(min(rho_terms(activation, scale)))


@dataclass(frozen=True)
class ActivationProperties:
    """Numerical checks of the properties P1-P3 for one activation.

    Attributes
    ----------
    name : str
        The activation's name.
    p1 : bool
        ``0 <= f'(z) <= L1 |z|^p`` holds on the test grid with the reported
        ``p1_power``.
    p1_power : int or None
        The smallest integer ``p`` in 0..4 for which the bound holds (None if none
        does).
    p1_constant : float or None
        ``L1`` = the supremum of ``f'(z) / |z|^p`` on the grid.
    p2 : bool
        ``rho(s) > 0`` at every scale s of the grid.
    rho_min : float
        The smallest ``rho(s)`` on the grid of scales.
    p3 : bool
        Either piecewise linear or with bounded second derivative.
    p3_kind : str
        ``"piecewise linear"`` (P3(b)), ``"bounded second derivative"`` (P3(a)) or
        ``"neither"``.
    """

    name: str
    p1: bool
    p1_power: int | None
    p1_constant: float | None
    p2: bool
    rho_min: float
    p3: bool
    p3_kind: str

    def __repr__(self) -> str:
        p1 = f"P1={self.p1}" + (
            f" (p={self.p1_power}, L1={self.p1_constant:.3g})" if self.p1 else ""
        )
        # |rho| <= 1e-12 is round-off (the P2 threshold): its digits differ between
        # machines
        rho = (
            "0 (to round-off)" if abs(self.rho_min) <= 1e-12 else f"{self.rho_min:.3g}"
        )
        return (
            f"ActivationProperties({self.name}: {p1}, P2={self.p2} (min rho={rho}),"
            f" P3={self.p3} ({self.p3_kind}))"
        )


def _sup_ratio(dphi, z, p):
    return float(np.max(dphi(z) / np.abs(z) ** p))


def activation_properties(
    activation: str | Activation, *, scales=(0.1, 1.0, 10.0)
) -> ActivationProperties:
    """Check the properties P1, P2, P3 of Zhong et al. (2017) numerically.

    Parameters
    ----------
    activation : str or Activation
        The activation f.
    scales : sequence of float
        Scales s at which ``rho(s) > 0`` is checked for P2 (default: those of the
        paper's table; at much smaller s, rho of smooth activations falls to the
        quadrature's 1e-15 floor).

    Returns
    -------
    ActivationProperties

    Raises
    ------
    ValueError, TypeError
        Unknown activation, non-positive scales.

    Notes
    -----
    The checks are numerical, on grids, and so are evidence rather than proofs:

    * P1: ``f' >= -1e-12`` on 40,001 points of [-50, 50]; then, for p = 0, 1, ..., 4,
      ``L1(R)`` = the supremum of ``f'(z)/|z|^p`` over grid points with
      ``1e-3 <= |z| <= R``. P1 holds with the first p for which
      ``L1(50) <= 1.01 L1(25)`` (no growth at infinity) and the supremum over
      ``1e-6 <= |z| <= 1e-3`` is at most ``1.01 L1(50)`` (no blow-up at 0).
    * P2: ``rho(s) > 1e-12`` at every given scale (rho is continuous in s; a grid cannot
      certify all s).
    * P3: ``f''`` is estimated by central differences of ``f'`` (step 1e-5) at grid
      points at least 1e-4 away from the kinks.  Piecewise linear (P3(b)) if it vanishes
      there (below 1e-6); bounded (P3(a)) if ``f'`` is continuous at the kinks and
      ``sup |f''|`` over ``|z| <= 50`` is at most 1.01 times the one over ``|z| <= 25``.

    Cost O(len(scales)) quadratures plus O(10^5) evaluations of f'.

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §3 (properties P1-P3).
    """
    act = get_activation(activation)
    sig = [_check_scale(s) for s in np.atleast_1d(np.asarray(scales, dtype=float))]
    if not sig:
        raise ValueError("scales must contain at least one scale")
    z = np.linspace(-50.0, 50.0, 40001)

    def dphi(t):
        with np.errstate(over="ignore", under="ignore"):
            return act.derivative(t)

    p1, p1_power, p1_const = False, None, None
    if np.all(dphi(z) >= -1e-12):
        outer = z[np.abs(z) >= 1e-3]
        inner = np.concatenate(
            [-np.geomspace(1e-6, 1e-3, 200), np.geomspace(1e-6, 1e-3, 200)]
        )
        for p in range(5):
            l50 = _sup_ratio(dphi, outer, p)
            l25 = _sup_ratio(dphi, outer[np.abs(outer) <= 25.0], p)
            l0 = _sup_ratio(dphi, inner, p)
            if (
                np.isfinite(l50)
                and l50 <= 1.01 * max(l25, 0.0) + 1e-300
                and l0 <= 1.01 * l50 + 1e-12
            ):
                p1, p1_power, p1_const = True, p, l50
                break
    rhos = [rho(act, s) for s in sig]
    rho_min = float(min(rhos))
    # P3
    h = 1e-5
    keep = np.ones_like(z, dtype=bool)
    for kink in act.kinks:
        keep &= np.abs(z - kink) > 1e-4
    zz = z[keep]
    d2 = (dphi(zz + h) - dphi(zz - h)) / (2 * h)
    jumps = [
        abs(float(dphi(np.array(kk + 1e-9)) - dphi(np.array(kk - 1e-9))))
        for kk in act.kinks
    ]
    continuous = all(j < 1e-6 for j in jumps)
    if np.max(np.abs(d2)) < 1e-6:
        kind = "piecewise linear"
    elif (
        continuous
        and np.max(np.abs(d2)) <= 1.01 * np.max(np.abs(d2[np.abs(zz) <= 25.0])) + 1e-12
    ):
        kind = "bounded second derivative"
    else:
        kind = "neither"
    return ActivationProperties(
        name=act.name,
        p1=p1,
        p1_power=p1_power,
        p1_constant=p1_const,
        p2=bool(rho_min > 1e-12),
        rho_min=rho_min,
        p3=kind != "neither",
        p3_kind=kind,
    )


def _scalar_network(network) -> tuple[np.ndarray, np.ndarray, Activation]:
    if not isinstance(network, TwoLayerNetwork):
        raise TypeError(
            f"network must be a TwoLayerNetwork, got {type(network).__name__}"
        )
    if network.output_dim != 1:
        raise ValueError(
            "network must have a scalar output (U of shape (1, k)), got U of shape"
            f" {network.U.shape}"
        )
    return (
        np.asarray(network.U[0], dtype=float),
        np.asarray(network.V, dtype=float),
        network.activation,
    )


# Gauss-Legendre nodes for the angular integrals (exact to machine precision for the
# smooth pieces of homogeneous activations), Gauss-Hermite nodes for smooth
# non-homogeneous ones.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(120)
_GH_W = _GH_W / _SQRT2PI


def _pair_moments_homogeneous(act: Activation, a: np.ndarray, b: np.ndarray):
    """E[g(w)] and E[g(w) w w^T] for w ~ N(0, I_2), g(w) = f'(a.w) f'(b.w), f of degree
    p.

    In polar coordinates w = r e(theta), g(w) = r^{2(p-1)} g(e(theta)), and the radial
    factor is E[r^m] = 2^{m/2} Gamma(1 + m/2) for the chi distribution with 2 degrees of
    freedom.  The angular integral is split where a.e or b.e changes sign and done by
    64-point Gauss-Legendre per piece.
    """
    p = float(act.degree)
    cuts = [0.0, 2 * np.pi]
    for c in (a, b):
        if np.linalg.norm(c) > 0:
            t0 = np.arctan2(c[1], c[0]) + np.pi / 2
            for t in (t0, t0 + np.pi):
                cuts.append(t % (2 * np.pi))
    for kink in act.kinks:
        if kink != 0.0:
            raise ValueError(
                f"activation {act.name} has a kink away from 0; homogeneous quadrature"
                " needs kinks at 0"
            )
    cuts = np.unique(np.asarray(cuts))
    lo, hi = cuts[:-1], cuts[1:]
    theta = (0.5 * (hi - lo))[:, None] * _GL_X[None, :] + (0.5 * (hi + lo))[:, None]
    wts = (0.5 * (hi - lo))[:, None] * _GL_W[None, :]
    theta, wts = theta.ravel(), wts.ravel() / (2 * np.pi)
    e = np.stack([np.cos(theta), np.sin(theta)])
    g = act.derivative(a @ e) * act.derivative(b @ e)
    m0 = 2.0 * (p - 1.0)
    rad0 = 2.0 ** (m0 / 2) * special.gamma(1 + m0 / 2)
    rad2 = 2.0 ** ((m0 + 2) / 2) * special.gamma(1 + (m0 + 2) / 2)
    E0 = rad0 * float(np.sum(wts * g))
    E2 = rad2 * (e * (wts * g)) @ e.T
    return E0, E2


def _pair_moments_smooth(act: Activation, a: np.ndarray, b: np.ndarray):
    """The same moments by a 120 x 120 Gauss-Hermite tensor rule (smooth f')."""
    u1, u2 = np.meshgrid(_GH_X, _GH_X, indexing="ij")
    w = np.outer(_GH_W, _GH_W)
    with np.errstate(over="ignore", under="ignore"):
        g = (
            act.derivative(a[0] * u1 + a[1] * u2)
            * act.derivative(b[0] * u1 + b[1] * u2)
            * w
        )
    E0 = float(np.sum(g))
    E2 = np.array(
        [
            [np.sum(g * u1 * u1), np.sum(g * u1 * u2)],
            [np.sum(g * u1 * u2), np.sum(g * u2 * u2)],
        ]
    )
    return E0, E2


def _pair_block(act: Activation, vj: np.ndarray, vl: np.ndarray) -> np.ndarray:
    """E[f'(vj.x) f'(vl.x) x x^T] for x ~ N(0, I_d), through the 2-d span of vj, vl."""
    d = vj.size
    M = np.stack([vj, vl], axis=1)
    Q, R = np.linalg.qr(M)
    if abs(R[1, 1]) <= 1e-12 * max(np.linalg.norm(vj), np.linalg.norm(vl), 1e-300):
        # parallel: a 1-d span, completed by any orthogonal direction (f' does not
        # depend on it)
        Q = np.linalg.qr(np.stack([vj, vj + np.eye(d)[np.argmin(np.abs(vj))]], axis=1))[
            0
        ]
        R = Q.T @ M
    a, b = R[:, 0], R[:, 1]
    if act.degree is not None and act.degree >= 1:
        E0, E2 = _pair_moments_homogeneous(act, a, b)
    else:
        E0, E2 = _pair_moments_smooth(act, a, b)
    return Q @ E2 @ Q.T + E0 * (np.eye(d) - Q @ Q.T)


def population_hessian(network: TwoLayerNetwork) -> np.ndarray:
    """The population Hessian of ``L(V) = E[(sum_i u_i f(v_i^T x) - y)^2] / 2`` at the
    ground truth.

    Parameters
    ----------
    network : TwoLayerNetwork
        The ground truth, scalar output: ``U`` = u^T of shape (1, k), ``V`` of shape (k,
        d) with rows v_i.

    Returns
    -------
    ndarray, shape (k d, k d)
        Block (j, l) (rows ``j d .. (j+1) d``) is ``u_j u_l E[f'(v_j.x) f'(v_l.x) x
        x^T]``, the Hessian with respect to ``(v_1, ..., v_k)`` stacked (the rows of V,
        i.e. ``V.ravel()``), with the output weights held fixed.  At the ground truth
        the residual vanishes, so the f'' terms drop out; for twice differentiable f of
        polynomial growth this is exactly the Hessian of L there.  For kinked
        activations (ReLU) it is the same Gram matrix, the formula Zhong et al. use at
        the ground truth.  At any network that computes the target exactly (for example
        an over-parameterised one) the same argument applies to that network.

    Raises
    ------
    TypeError, ValueError
        Not a network, or not a scalar output.

    Notes
    -----
    Each block reduces to a 2-d Gaussian integral over the span of ``v_j, v_l``.
    Positively homogeneous activations (ReLU, leaky ReLU, squared ReLU, linear,
    quadratic): polar coordinates, the radial part in closed form and the angle by
    Gauss-Legendre on the pieces between the kinks (machine precision).  Others (tanh,
    sigmoid, erf, softplus): a 120 x 120 Gauss-Hermite rule, accurate to about 1e-6
    relative for weight norms up to about 2 (the complex poles of tanh' and sigmoid'
    limit its convergence; for much larger norms f' is sharply peaked and the rule loses
    accuracy; the tests check it against Monte Carlo).  Cost O(k^2 (d^2 + q)) with q the
    quadrature nodes per block.

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §3.
    """
    v, V, act = _scalar_network(network)
    k, d = V.shape
    H = np.zeros((k * d, k * d))
    for j in range(k):
        for l in range(j, k):
            B = v[j] * v[l] * _pair_block(act, V[j], V[l])
            H[j * d : (j + 1) * d, l * d : (l + 1) * d] = B
            H[l * d : (l + 1) * d, j * d : (j + 1) * d] = B.T
    return H


def smallest_hessian_eigenvalue(network: TwoLayerNetwork) -> float:
    """``lambda_min`` of :func:`population_hessian` at the ground truth ``network``.

    Parameters
    ----------
    network : TwoLayerNetwork
        Scalar-output ground truth.

    Returns
    -------
    float
        Its eigenvalues do not depend on the signs of the ``u_i``. For orthonormal
        ``v_i`` and ``u in {-1, +1}^k`` it equals ``rho(1)`` for ReLU and leaky ReLU and
        is at least ``rho(1)`` for the smooth activations, on the instances of the tests
        and of chapter 5 (Zhong et al. bound it below by
        ``Omega(u_min^2 rho(s_k) / (kappa^2 lambda))``, s_k the k-th singular value of V
        and ``u_min = min_i |u_i|``). It is 0 for the linear and quadratic activations
        when k >= 2.

    Raises
    ------
    TypeError, ValueError
        As :func:`population_hessian`.

    Notes
    -----
    Cost of :func:`population_hessian` plus O((k d)^3) for the symmetric eigenvalues.

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §3 (local strong convexity).
    """
    H = population_hessian(network)
    return float(np.linalg.eigvalsh(0.5 * (H + H.T))[0])
