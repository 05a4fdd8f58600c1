"""Hermite analysis of activations: coefficients, tails, dual activation, normalised and
truncated activations.

Notation (the course's notation page): h_p = He_p / sqrt(p!) are the normalised
probabilists' Hermite polynomials, orthonormal for z ~ N(0, 1).  An activation f expands
as f = sum_p a_p(f) h_p with a_p(f) = E[f(z) h_p(z)]; its tail eps_f(q) = sum_{p>q}
a_p(f)^2 = E[(f - f_q)(z)^2] is the squared L2 error of the degree-q truncation f_q; its
dual activation is hat f(rho) = sum_p a_p(f)^2 rho^p.  (The paper writes sigma for the
activation and eps_sigma(q) for the tail.)  The truncation f_q is the activation of the
*shadow network* of a random deep network (:mod:`relulearn.deep`).  The Gaussian
integrals themselves are computed in :mod:`relulearn.moments`.

References
----------
.. [1] A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
   NeurIPS 2023, arXiv:2305.16508, §2.2 (Hermite expansion, dual activation) and §2.7
   (bounds on eps_f(q)); the formulas of the text available to the course are lost, so
   the constants here are the course's own derivations.
.. [2] R. O'Donnell, "Analysis of Boolean Functions", Cambridge University Press, 2014,
   §11.2 (Hermite polynomials).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

from ._validation import check_int
from .activations import Activation, get_activation
from .moments import PHI0, gaussian_rule

__all__ = [
    "RELU_TAIL_CONSTANT",
    "NormalizedActivation",
    "absolute",
    "dual_activation",
    "hermite_coefficients",
    "hermite_functions",
    "hermite_tail",
    "lipschitz_tail_bound",
    "normalize_activation",
    "second_moment",
    "truncated_activation",
]

#: The limit of eps_relu(q) q^(3/2) as q grows, sqrt(2) / (6 pi^(3/2)) = 0.0423291, for
#: the raw ReLU: its Hermite tail decays like q^(-3/2) (from the closed-form
#: coefficients, a_{2j}^2 ~ 1 / (8 pi^(3/2) j^(5/2)) by Stirling's formula; derived in
#: chapter 7 of the course).
RELU_TAIL_CONSTANT: float = math.sqrt(2.0) / (6.0 * math.pi**1.5)

#: The absolute value f(z) = ``|z|``, already normalised (E f(z)^2 = 1 for
#: z ~ N(0, 1)); a closed-form activation of the Hermite chapter.
absolute = Activation("abs", np.abs, np.sign, False, 1.0, (0.0,))


# --------------------------------------------------------------------------------------
# Hermite polynomials
# --------------------------------------------------------------------------------------
def hermite_functions(x, degree: int) -> np.ndarray:
    r"""Values :math:`h_0(x), \dots, h_q(x)` (q = ``degree``) of the normalised Hermite
    polynomials :math:`h_p = \mathrm{He}_p / \sqrt{p!}`.

    Parameters
    ----------
    x : array_like
        Points, any shape.
    degree : int
        Largest degree, >= 0.

    Returns
    -------
    ndarray, shape ``(degree + 1, *x.shape)``

    Raises
    ------
    ValueError, TypeError
        ``degree`` not a non-negative int, or ``x`` not numeric.

    Notes
    -----
    The three-term recursion
    :math:`h_{p+1} = (x h_p - \sqrt{p}\, h_{p-1}) / \sqrt{p + 1}`: no factorials,
    stable, O(degree * size(x)).

    References
    ----------
    R. O'Donnell, "Analysis of Boolean Functions", Cambridge University Press, 2014,
    §11.2.
    """
    degree = check_int("degree", degree, minimum=0)
    try:
        x = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"x must be numeric, got {type(x).__name__}") from exc
    H = np.empty((degree + 1,) + x.shape)
    H[0] = 1.0
    if degree >= 1:
        H[1] = x
    for n in range(1, degree):
        H[n + 1] = (x * H[n] - math.sqrt(n) * H[n - 1]) / math.sqrt(n + 1)
    return H


def _hermite_series(coefs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n coefs[n] h_n(x) by the forward recursion, without storing all h_n."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, coefs[0], dtype=float)
    if len(coefs) == 1:
        return out
    h_prev, h = np.ones_like(x), x.copy()
    out += coefs[1] * h
    for n in range(1, len(coefs) - 1):
        h_prev, h = h, (x * h - math.sqrt(n) * h_prev) / math.sqrt(n + 1)
        if coefs[n + 1] != 0.0:
            out += coefs[n + 1] * h
    return out


# --------------------------------------------------------------------------------------
# Normalised activations
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class NormalizedActivation(Activation):
    r"""``scale * base`` with ``scale = 1 / sqrt(E base(z)^2)``, so that
    :math:`\mathbb{E} f(z)^2 = 1`.

    Built by :func:`normalize_activation`; keeps ``base`` and ``scale`` so that the
    closed-form Hermite coefficients of ``base`` carry over. The other fields are those
    of :class:`Activation`, for f = ``scale * base``.

    Attributes
    ----------
    base : Activation
        The activation before scaling.
    scale : float
        ``1 / sqrt(E base(z)^2)``.
    """

    base: Activation | None = None
    scale: float = 1.0

    def __repr__(self) -> str:
        return f"NormalizedActivation({self.base.name!r}, scale={self.scale:.6g})"


def second_moment(activation: str | Activation) -> float:
    r""":math:`\mathbb{E} f(z)^2` for :math:`z \sim \mathcal{N}(0, 1)`, in closed form
    where one is known (else quadrature).

    Parameters
    ----------
    activation : str or Activation

    Returns
    -------
    float

    Notes
    -----
    Closed forms: ReLU 1/2, :math:`|x|` 1, step 1/2, leaky ReLU :math:`(1 + s^2)/2`,
    erf :math:`(2/\pi) \arcsin(2/3)`, linear 1, quadratic 3; otherwise piecewise
    Gauss-Legendre quadrature, O(1).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.2.
    """
    act = get_activation(activation)
    if isinstance(act, NormalizedActivation):
        return act.scale**2 * second_moment(act.base)
    closed = {
        "relu": 0.5,
        "abs": 1.0,
        "step": 0.5,
        "linear": 1.0,
        "quadratic": 3.0,
        "erf": 2.0 / math.pi * math.asin(2.0 / 3.0),
    }
    if act.name in closed:
        return closed[act.name]
    slope = _leaky_slope(act)
    if slope is not None:
        return (1.0 + slope**2) / 2.0
    nodes, weights = gaussian_rule(act.kinks, 0)
    return float(np.dot(weights, act(nodes) ** 2))


def normalize_activation(activation: str | Activation) -> NormalizedActivation:
    r"""The activation scaled so that :math:`\mathbb{E} f(z)^2 = 1` (the paper's
    normalisation, e.g. :math:`\sqrt{2}` ReLU).

    Parameters
    ----------
    activation : str or Activation

    Returns
    -------
    NormalizedActivation

    Raises
    ------
    ValueError
        :math:`\mathbb{E} f(z)^2 = 0` (nothing to normalise).

    Notes
    -----
    O(1); an already normalised activation is returned unchanged.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §1.1 (the activation is normalised; the course reads the formula, lost
    in its copy of the text, as :math:`\mathbb{E} f(z)^2 = 1`).
    """
    act = get_activation(activation)
    if isinstance(act, NormalizedActivation):
        return act
    m2 = second_moment(act)
    if not m2 > 0:
        raise ValueError(
            f"activation {act.name!r} has E f(z)^2 = {m2}; it cannot be normalised"
        )
    s = 1.0 / math.sqrt(m2)
    base = act
    return NormalizedActivation(
        f"normalized({base.name})",
        lambda z: s * base.value(z),
        lambda z: s * base.derivative(z),
        base.rectified,
        base.degree,
        base.kinks,
        base=base,
        scale=s,
    )


def _leaky_slope(act: Activation) -> float | None:
    if act.name.startswith("leaky_relu(") and act.name.endswith(")"):
        try:
            return float(act.name[len("leaky_relu(") : -1])
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------------------
# Coefficients
# --------------------------------------------------------------------------------------
def _relu_coefficients(degree: int) -> np.ndarray:
    """a_n of max(0, x): a_0 = phi(0), a_1 = 1/2, a_n = (-1)^(n/2-1) (n-3)!! / sqrt(2 pi
    n!) for even n.
    """
    a = np.zeros(degree + 1)
    a[0] = PHI0
    if degree >= 1:
        a[1] = 0.5
    if degree >= 2:
        a[2] = 1.0 / (2.0 * math.sqrt(math.pi))
    for n in range(2, degree - 1, 2):  # a_{n+2} / a_n = -(n - 1) / sqrt((n + 1)(n + 2))
        a[n + 2] = -a[n] * (n - 1) / math.sqrt((n + 1) * (n + 2))
    return a


def _step_coefficients(degree: int) -> np.ndarray:
    """a_n of 1{x > 0}: a_0 = 1/2, odd n: phi(0) (-1)^((n-1)/2) (n-2)!! / sqrt(n!)."""
    a = np.zeros(degree + 1)
    a[0] = 0.5
    if degree >= 1:
        a[1] = PHI0
    for n in range(1, degree - 1, 2):  # a_{n+2} / a_n = -n / sqrt((n + 1)(n + 2))
        a[n + 2] = -a[n] * n / math.sqrt((n + 1) * (n + 2))
    return a


def _erf_coefficients(degree: int, alpha: float = 1.0) -> np.ndarray:
    """a_n of erf(alpha x): odd n: (2 alpha / sqrt(pi)) s (s^2 - 1)^((n-1)/2) (n-2)!! /
    sqrt(n!).
    """
    s2 = 1.0 / (1.0 + 2.0 * alpha**2)
    a = np.zeros(degree + 1)
    if degree >= 1:
        a[1] = 2.0 * alpha / math.sqrt(math.pi) * math.sqrt(s2)
    # a_{n+2} / a_n = (s^2 - 1) n / sqrt((n + 1)(n + 2))
    for n in range(1, degree - 1, 2):
        a[n + 2] = a[n] * (s2 - 1.0) * n / math.sqrt((n + 1) * (n + 2))
    return a


def _closed_form(act: Activation, degree: int) -> np.ndarray | None:
    name = act.name
    if name == "relu":
        return _relu_coefficients(degree)
    if name == "abs":
        a = 2.0 * _relu_coefficients(degree)
        a[0] = math.sqrt(2.0 / math.pi)
        if degree >= 1:
            a[1] = 0.0
        return a
    if name == "step":
        return _step_coefficients(degree)
    if name == "erf":
        return _erf_coefficients(degree)
    if name in ("linear", "quadratic"):
        a = np.zeros(degree + 1)
        if name == "linear" and degree >= 1:
            a[1] = 1.0
        if name == "quadratic":  # z^2 = 1 + sqrt(2) h_2
            a[0] = 1.0
            if degree >= 2:
                a[2] = math.sqrt(2.0)
        return a
    slope = _leaky_slope(act)
    if slope is not None:  # slope z + (1 - slope) relu(z)
        a = (1.0 - slope) * _relu_coefficients(degree)
        if degree >= 1:
            a[1] += slope
        return a
    return None


def hermite_coefficients(activation: str | Activation, degree: int) -> np.ndarray:
    r"""Hermite coefficients :math:`a_0(f), \dots, a_q(f)` (q = ``degree``) of an
    activation f, :math:`a_p(f) = \mathbb{E}[f(z)\, h_p(z)]`.

    The coefficients in the orthonormal basis :math:`h_p = \mathrm{He}_p / \sqrt{p!}`,
    at scale 1, so that :math:`f = \sum_p a_p(f)\, h_p`. For the moment coefficient
    :math:`c_p(s) = \mathbb{E}[f(s z)\, \mathrm{He}_p(z)]` (unnormalised
    :math:`\mathrm{He}_p`, any scale s) see :func:`relulearn.moment_coefficient`;
    :math:`a_p(f) = c_p(1) / \sqrt{p!}`.

    Parameters
    ----------
    activation : str or Activation
        Any named activation (:data:`ACTIVATION_NAMES`), an :class:`Activation`,
        :data:`absolute`, or a :class:`NormalizedActivation` of one.
    degree : int
        Largest index, >= 0.

    Returns
    -------
    ndarray, shape (degree + 1,)

    Raises
    ------
    ValueError, TypeError
        Bad ``degree`` or unknown activation.

    Notes
    -----
    Closed forms, evaluated by their ratio recursions so that nothing overflows: ReLU,
    leaky ReLU, :math:`|x|`, step, erf, linear, quadratic; O(degree). Otherwise (tanh,
    sigmoid, softplus, squared ReLU, custom) the piecewise Gauss-Legendre rule
    :func:`relulearn.gaussian_rule` against the Gaussian density, split at the kinks,
    O(degree * sqrt(degree) * 40) evaluations. The integrand :math:`|f h_p \varphi|`
    integrates to at most :math:`\sqrt{\mathbb{E} f^2}`, so there is no cancellation
    beyond the double-precision level: absolute accuracy about 1e-15 for degree <= 30
    (tested against independent adaptive quadrature). Plain Gauss-Hermite quadrature is
    *not* used: it converges slowly across a kink.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.2 and §2.7.
    """
    degree = check_int("degree", degree, minimum=0)
    act = get_activation(activation)
    if isinstance(act, NormalizedActivation):
        return act.scale * hermite_coefficients(act.base, degree)
    closed = _closed_form(act, degree)
    if closed is not None:
        return closed
    nodes, weights = gaussian_rule(act.kinks, degree)
    # recursion on sqrt(w) h_n(x) (bounded like the Hermite functions), so nothing
    # overflows
    sw = np.sqrt(weights)
    g = sw * act(nodes)
    a = np.empty(degree + 1)
    u_prev, u = np.zeros_like(sw), sw.copy()
    a[0] = g @ u
    for n in range(degree):
        u_prev, u = u, (nodes * u - math.sqrt(n) * u_prev) / math.sqrt(n + 1)
        a[n + 1] = g @ u
    return a


# --------------------------------------------------------------------------------------
# Tails eps(q)
# --------------------------------------------------------------------------------------
def _hyper_tail(first: float, p: float, r1: float, r2: float, z: float) -> float:
    """first * sum_{i>=0} prod_{l<i} z (p + l)^2 / ((r1 + l)(r2 + l)) = first * 3F2(1,
    p, p; r1, r2; z).
    """
    with mpmath.workdps(30):
        return float(mpmath.mpf(first) * mpmath.hyp3f2(1, p, p, r1, r2, z))


# a sequence of q up to this shares one closed-form tail (O(max q) coefficients in
# memory)
_SHARED_TOP = 10**6
# below this index, sum the terms explicitly (mpmath's 3F2 at z = 1 is slow for small
# parameters)
_DIRECT = 256


def _relu_even_tail(n0: int) -> float:
    """sum over even n >= n0 >= 2 of the squared ReLU coefficients (closed form via 3F2
    at 1).
    """
    if n0 < _DIRECT:
        a = _relu_coefficients(_DIRECT)
        return float(np.sum(a[n0:_DIRECT:2][::-1] ** 2)) + _relu_even_tail(_DIRECT)
    j = n0 // 2
    if j > 10**9:  # leading asymptote, relative error O(1/j) < 1e-8 here
        return RELU_TAIL_CONSTANT * (2.0 * j) ** -1.5
    with mpmath.workdps(30):
        first = mpmath.gamma(j - 0.5) / (
            8 * mpmath.pi**1.5 * mpmath.gamma(j + 1) * (j - 0.5)
        )
        return float(first * mpmath.hyp3f2(1, j - 0.5, j - 0.5, j + 0.5, j + 1, 1))


def _odd_tail(n0: int, c2: float, first_scale: float) -> float:
    """sum over odd n >= n0 of b_n^2 with b_{n+2}^2 / b_n^2 = c2 (m+1/2)^2 /
    ((m+1)(m+3/2)), n = 2m+1.

    b_1^2 = first_scale.  Step: c2 = 1, first_scale = 1/(2 pi); erf: c2 = c^2,
    first_scale = a_1^2.
    """
    if n0 < _DIRECT + 1:
        # b_1^2, b_3^2, ..., b_{_DIRECT - 1}^2, b_{_DIRECT + 1}^2
        b2 = np.empty((_DIRECT + 2) // 2)
        b2[0] = first_scale
        for i in range(1, b2.size):
            n = 2 * i - 1
            b2[i] = b2[i - 1] * c2 * n * n / ((n + 1) * (n + 2))
        return float(np.sum(b2[(n0 - 1) // 2 : -1][::-1])) + _odd_tail(
            _DIRECT + 1, c2, first_scale
        )
    m = (n0 - 1) // 2
    with mpmath.workdps(30):
        # b_{2m+1}^2 = first_scale * c2^m * (1/2)_m^2 / ((1)_m (3/2)_m)
        first = (
            mpmath.mpf(first_scale)
            * mpmath.mpf(c2) ** m
            * mpmath.rf(0.5, m) ** 2
            / (mpmath.rf(1, m) * mpmath.rf(1.5, m))
        )
        return float(first * mpmath.hyp3f2(1, m + 0.5, m + 0.5, m + 1, m + 1.5, c2))


def hermite_tail(activation: str | Activation, q: int) -> float:
    r"""The tail
    :math:`\epsilon_f(q) = \sum_{p>q} a_p(f)^2 = \mathbb{E}[(f - f_q)(z)^2]`, the
    squared :math:`L^2` error of the degree-q truncation.

    For the activation *as given*: normalise it first (:func:`normalize_activation`) for
    the paper's :math:`\epsilon_\sigma(q)`, which then equals
    :math:`1 - \sum_{p \le q} a_p(f)^2`.

    Parameters
    ----------
    activation : str or Activation
    q : int or sequence of int
        Truncation degree(s), >= 0.

    Returns
    -------
    float or ndarray
        A float for one q; an ndarray for a sequence of q (one quadrature, or one
        closed-form tail at the largest q up to 10^6, shared by all q).

    Raises
    ------
    ValueError, TypeError
        Bad ``q`` or unknown activation.

    Notes
    -----
    Computed as a sum of the tail, never as E f^2 minus the partial sum, so tails far
    below 1e-12 keep their relative accuracy. ReLU, leaky ReLU, :math:`|x|`: the even
    squares have the hypergeometric ratio :math:`(n - 1)^2 / ((n + 1)(n + 2))`, so the
    tail is :math:`a_{n_0}^2\, {}_3F_2(1, j - 1/2, j - 1/2; j + 1/2, j + 1; 1)` with
    :math:`n_0 = 2j` (30-digit mpmath, O(1)); for q > 2e9 the asymptote
    :math:`C q^{-3/2}`, C = :data:`RELU_TAIL_CONSTANT`. Step and erf: the same with odd
    indices. Linear and quadratic: exact. Other activations: the coefficients up to
    degree q + 300 by quadrature and their squares summed from q + 1 (accurate when the
    activation is smooth, its coefficients decaying like :math:`e^{-c\sqrt{n}}`; for a
    non-smooth activation without a closed form, e.g. squared ReLU, the truncated sum
    misses the part beyond q + 300, so use it for small q only).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.1 (eps_sigma) and §2.7 (Lemmas 2.15-2.16, how fast eps(q) decays).
    """
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool):
        if isinstance(q, (str, bytes)) or not hasattr(q, "__len__"):
            raise TypeError(
                f"q must be an int or a sequence of ints, got {type(q).__name__}"
            )
        qs = [check_int(f"q[{i}]", v, minimum=0) for i, v in enumerate(q)]
        act = get_activation(activation)
        base = act.base if isinstance(act, NormalizedActivation) else act
        if qs and _closed_form(base, 0) is None:  # one quadrature for all q
            a2 = hermite_coefficients(act, max(qs) + 300) ** 2
            tails = np.cumsum(a2[::-1])[
                ::-1
            ]  # tails[n] = sum_{m >= n} a_m^2, smallest terms first
            return np.array([tails[v + 1] for v in qs])
        top = max(qs) if qs else 0
        if 0 < top <= _SHARED_TOP and base.name not in ("linear", "quadratic"):
            # one closed-form tail at the largest q, plus the squares below it, added
            # smallest first
            a2 = hermite_coefficients(act, top) ** 2
            tails = np.cumsum(a2[::-1])[::-1]  # tails[n] = sum_{n <= m <= top} a_m^2
            tails = np.append(tails, 0.0) + hermite_tail(act, top)
            return np.array([tails[v + 1] for v in qs])
        return np.array([hermite_tail(act, v) for v in qs])
    q = check_int("q", q, minimum=0)
    act = get_activation(activation)
    if isinstance(act, NormalizedActivation):
        return act.scale**2 * hermite_tail(act.base, q)
    name = act.name
    slope = _leaky_slope(act)
    if name in ("relu", "abs") or slope is not None:
        if q == 0:
            first = hermite_coefficients(act, 1)[1] ** 2
            return first + hermite_tail(act, 1)
        factor = {"relu": 1.0, "abs": 4.0}.get(name, None)
        if factor is None:
            factor = (1.0 - slope) ** 2
        n0 = q + 1 if (q + 1) % 2 == 0 else q + 2
        return factor * _relu_even_tail(max(n0, 2))
    if name in ("step", "erf"):
        n0 = q + 1 if (q + 1) % 2 == 1 else q + 2
        if name == "step":
            return _odd_tail(n0, 1.0, 1.0 / (2.0 * math.pi))
        c = 2.0 / 3.0  # 2 alpha^2 / (1 + 2 alpha^2) with alpha = 1
        return _odd_tail(n0, c * c, 4.0 / (3.0 * math.pi))
    if name == "linear":
        return 1.0 if q == 0 else 0.0
    if name == "quadratic":
        return 3.0 if q == 0 else (2.0 if q == 1 else 0.0)
    top = q + 300
    a = hermite_coefficients(act, top)
    return float(np.sum(a[q + 1 :][::-1] ** 2))  # smallest terms first


def lipschitz_tail_bound(activation: str | Activation, q: int) -> float:
    r"""The general bound :math:`\epsilon_f(q) \le \mathbb{E} f'(z)^2 / (q + 1)`
    :math:`\le \mathrm{Lip}(f)^2 / (q + 1)` (one integration by parts).

    :math:`\mathrm{Lip}(f)` is the Lipschitz constant of f; the function returns the
    sharper middle term :math:`\mathbb{E} f'(z)^2 / (q + 1)`.

    Parameters
    ----------
    activation : str or Activation
    q : int
        >= 0.

    Returns
    -------
    float

    Notes
    -----
    :math:`a_p(f) = p^{-1/2} a_{p-1}(f')` gives
    :math:`\epsilon_f(q) = \sum_{p>q} a_{p-1}(f')^2 / p \le \mathbb{E} f'^2 / (q + 1)`.
    :math:`\mathbb{E} f'^2` by the piecewise quadrature, O(1).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.7 (Lemma 2.15).
    """
    q = check_int("q", q, minimum=0)
    act = get_activation(activation)
    nodes, weights = gaussian_rule(act.kinks, 0)
    return float(np.dot(weights, act.derivative(nodes) ** 2)) / (q + 1)


# --------------------------------------------------------------------------------------
# Dual activation
# --------------------------------------------------------------------------------------
def dual_activation(
    activation: str | Activation, rho, *, closed_form: bool = True
) -> np.ndarray:
    r"""The dual activation :math:`\hat f(\rho) = \mathbb{E} f(z) f(z')` for standard
    Gaussians z, z' with correlation :math:`\rho`.

    It equals :math:`\sum_p a_p(f)^2 \rho^p`.

    Parameters
    ----------
    activation : str or Activation
    rho : array_like
        Correlations in [-1, 1].
    closed_form : bool
        Use the closed form when one is known (ReLU: the arc-cosine kernel
        :math:`(\sqrt{1 - \rho^2} + (\pi - \arccos \rho) \rho) / (2 \pi)`;
        :math:`|x|`; step; erf: :math:`(2/\pi) \arcsin(2 \rho / 3)`); ``False`` sums the
        Hermite series (used by the tests to check the closed forms).

    Returns
    -------
    ndarray, the shape of ``rho``

    Raises
    ------
    ValueError
        ``rho`` outside [-1, 1].

    Notes
    -----
    Series: :math:`\sum_{p \le N} a_p(f)^2 \rho^p` (plus the exact tail at
    :math:`\rho = 1`), N = 4000 for closed-form coefficients, 600 otherwise,
    O(N size(rho)); at :math:`\rho = -1` the truncation error is at most
    :math:`\epsilon_f(N)`. The series converges fast for smooth activations and like
    :math:`N^{-3/2}` at :math:`|\rho| = 1` for ReLU.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.2 (dual activation); Y. Cho, L. K. Saul, "Kernel methods for deep
    learning", NeurIPS 2009, §2 (arc-cosine kernel).
    """
    act = get_activation(activation)
    try:
        r = np.asarray(rho, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rho must be numeric, got {type(rho).__name__}") from exc
    if r.size and (not np.all(np.isfinite(r)) or np.max(np.abs(r)) > 1.0):
        raise ValueError(
            f"rho must lie in [-1, 1], got values up to |rho| = {np.max(np.abs(r)):.3g}"
        )
    scale = 1.0
    base = act
    if isinstance(act, NormalizedActivation):
        scale, base = act.scale**2, act.base
    if closed_form:
        rc = np.clip(r, -1.0, 1.0)
        if base.name == "relu":
            return (
                scale
                * (np.sqrt(1.0 - rc**2) + (np.pi - np.arccos(rc)) * rc)
                / (2.0 * np.pi)
            )
        if base.name == "abs":
            return scale * 2.0 / np.pi * (np.sqrt(1.0 - rc**2) + rc * np.arcsin(rc))
        if base.name == "step":
            return scale * (0.25 + np.arcsin(rc) / (2.0 * np.pi))
        if base.name == "erf":
            return scale * 2.0 / np.pi * np.arcsin(2.0 * rc / 3.0)
    N = 4000 if _closed_form(base, 0) is not None else 600
    a2 = hermite_coefficients(act, N) ** 2
    powers = r[..., None] ** np.arange(N + 1)
    out = powers @ a2
    if np.any(r == 1.0):
        out = np.where(r == 1.0, out + hermite_tail(act, N), out)
    return out


# --------------------------------------------------------------------------------------
# Truncated activation and random deep networks
# --------------------------------------------------------------------------------------
def truncated_activation(activation: str | Activation, q: int) -> Activation:
    r"""The degree-q Hermite truncation :math:`f_q = \sum_{p \le q} a_p(f)\, h_p` as an
    :class:`Activation`.

    Parameters
    ----------
    activation : str or Activation
    q : int
        Degree, >= 0.

    Returns
    -------
    Activation
        Named ``"<name>_q<q>"``; its derivative uses :math:`h_p' = \sqrt{p}\, h_{p-1}`.

    Notes
    -----
    Evaluation by the three-term recursion, O(q) per point.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.4 (the shadow network).
    """
    q = check_int("q", q, minimum=0)
    act = get_activation(activation)
    a = hermite_coefficients(act, q)
    da = a[1:] * np.sqrt(np.arange(1, q + 1)) if q >= 1 else np.zeros(1)
    return Activation(
        f"{act.name}_q{q}",
        lambda z: _hermite_series(a, z),
        lambda z: _hermite_series(da, z),
        False,
        None,
        (),
    )
