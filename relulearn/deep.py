"""Random deep networks and their polynomial shadows (Daniely, Srebro, Vardi 2023).

A random Xavier network of depth L (weight matrices W^(1), ..., W^(L) with i.i.d. N(0,
1/fan-in) entries, normalised activation E f(z)^2 = 1, inputs on the sphere ||x|| =
sqrt(d)) is, for large hidden widths w, close to its *shadow network* Psi_W^(q): the
same weights with the activation replaced by its degree-q Hermite truncation f_q
(:func:`relulearn.truncated_activation`), a polynomial of degree q^(L-1) in x.  (The
paper writes i for the depth and sigma for the activation.)  This module holds the
networks (:class:`RandomDeepNetwork`, :func:`random_deep_network`), the measured gap to
the shadow (:func:`shadow_gap`), its infinite-width limit
(:func:`shadow_gap_infinite_width`), and the best polynomial error of the infinite-width
limit (:func:`best_polynomial_error`).  The Hermite analysis of a single activation
lives in :mod:`relulearn.hermite`; the polynomial learner in
:mod:`relulearn.polynomial`.

References
----------
.. [1] A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
   NeurIPS 2023, arXiv:2305.16508, §1.1 (Theorem 1.1) and §2.4-2.6 (shadow networks,
   Theorem 2.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ._validation import as_matrix, check_int, rng_from
from .activations import Activation, get_activation
from .hermite import (
    hermite_coefficients,
    hermite_functions,
    normalize_activation,
    second_moment,
    truncated_activation,
)

__all__ = [
    "RandomDeepNetwork",
    "best_polynomial_error",
    "random_deep_network",
    "shadow_gap",
    "shadow_gap_infinite_width",
]


@dataclass(frozen=True, eq=False)
class RandomDeepNetwork:
    """A random deep network with no biases and a linear scalar output (Daniely et al.
    2023).

    ``Psi_W(x) = W^(L) f(W^(L-1) ... f(W^(1) x))``.

    Attributes
    ----------
    weights : tuple of ndarray
        W^(1) (d_1, d_0), ..., W^(L) (1, d_{L-1}), with d_0 = d the input dimension and
        d_1, ..., d_{L-1} the hidden widths (all equal to w in the course's chapter 7).
    activation : Activation
        The (normalised) activation, or its truncation for a shadow network.
    """

    weights: tuple = field(repr=False)
    activation: Activation = field(repr=False)

    @property
    def depth(self) -> int:
        """L, the number of weight matrices."""
        return len(self.weights)

    @property
    def widths(self) -> tuple[int, ...]:
        """(d_0, d_1, ..., d_L) with d_L = 1."""
        return (self.weights[0].shape[1],) + tuple(W.shape[0] for W in self.weights)

    @property
    def input_dim(self) -> int:
        return self.weights[0].shape[1]

    @property
    def size(self) -> int:
        """d-bar = d_0 + ... + d_{L-1}, the size including the input components."""
        return int(sum(self.widths[:-1]))

    def hidden(self, X) -> list[np.ndarray]:
        """Post-activations of hidden layers 1, ..., L - 1 on X, each of shape (d_j,
        n).
        """
        X = as_matrix("X", X)
        if X.shape[0] != self.input_dim:
            raise ValueError(
                f"X must have {self.input_dim} rows (input dimension), got shape"
                f" {X.shape}"
            )
        out, H = [], X
        for W in self.weights[:-1]:
            H = self.activation(W @ H)
            out.append(H)
        return out

    def __call__(self, X) -> np.ndarray:
        """Outputs Psi_W(X), shape (n,); cost O(n * sum_j d_j d_{j-1})."""
        X = as_matrix("X", X)
        if X.shape[0] != self.input_dim:
            raise ValueError(
                f"X must have {self.input_dim} rows (input dimension), got shape"
                f" {X.shape}"
            )
        H = X
        for W in self.weights[:-1]:
            H = self.activation(W @ H)
        return (self.weights[-1] @ H)[0]

    def shadow(self, q: int) -> RandomDeepNetwork:
        """The shadow network Psi_W^(q): the same weights with the truncation f_q
        (degree q^(L-1) in x).
        """
        return RandomDeepNetwork(self.weights, truncated_activation(self.activation, q))

    def __repr__(self) -> str:
        return (
            f"RandomDeepNetwork(depth={self.depth}, widths={self.widths},"
            f" activation={self.activation.name!r})"
        )


def random_deep_network(
    input_dim: int,
    widths,
    *,
    rng=None,
    activation: str | Activation = "relu",
    normalize: bool = True,
) -> RandomDeepNetwork:
    """A random Xavier network: W^j with independent N(0, 1/d_{j-1}) entries (variance
    1/fan-in).

    Parameters
    ----------
    input_dim : int
        d_0.
    widths : int or sequence of int
        Hidden widths d_1, ..., d_{L-1} (depth L = len(widths) + 1); the output width is
        1.
    rng : int, Generator or None
    activation : str or Activation
        Normalised (E f(z)^2 = 1) unless ``normalize=False``; ReLU becomes sqrt(2)
        max(0, x).
    normalize : bool

    Returns
    -------
    RandomDeepNetwork

    Raises
    ------
    ValueError, TypeError
        Bad dimensions, rng or activation.

    Notes
    -----
    O(sum_j d_j d_{j-1}) random numbers.  With ||x|| = sqrt(d_0) each first-layer
    preactivation is exactly N(0, 1), and every neuron has second moment 1.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.1-2.2 (Xavier matrices and the normalised network).
    """
    d0 = check_int("input_dim", input_dim, minimum=1)
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        widths = (widths,)
    if isinstance(widths, (str, bytes)):
        raise TypeError(
            f"widths must be an int or a sequence of ints, got {type(widths).__name__}"
        )
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(
            f"widths must be an int or a sequence of ints, got {type(widths).__name__}"
        ) from None
    if not widths:
        raise ValueError(
            "widths must name at least one hidden layer (depth >= 2), got an empty"
            " sequence"
        )
    widths = tuple(
        check_int(f"widths[{j}]", w, minimum=1) for j, w in enumerate(widths)
    )
    act = get_activation(activation)
    if normalize:
        act = normalize_activation(act)
    gen = rng_from(rng)
    dims = (d0,) + widths + (1,)
    Ws = tuple(
        gen.standard_normal((dims[j + 1], dims[j])) / math.sqrt(dims[j])
        for j in range(len(dims) - 1)
    )
    return RandomDeepNetwork(Ws, act)


def shadow_gap(
    net: RandomDeepNetwork, q: int, X, *, average_output: bool = True
) -> float:
    """Mean over the columns of X of the squared gap between a network and its degree-q
    shadow.

    Parameters
    ----------
    net : RandomDeepNetwork
    q : int
        Truncation degree, >= 0.
    X : array_like, (d_0, n)
        Inputs (on the sphere of radius sqrt(d_0) for the theory).
    average_output : bool
        ``True`` averages analytically over the Xavier output row W^(L), which the gap
        depends on only through ``E (W^(L) v)^2 = ||v||^2 / d_{L-1}``: returns
        ``mean_x ||h(x) - h_q(x)||^2 / d_{L-1}``, with h and h_q the last hidden layers
        of the network and of its shadow (same expectation over W, much smaller
        variance).  ``False``: ``mean_x (Psi(x) - Psi^q(x))^2`` with the network's own
        output row.

    Returns
    -------
    float

    Notes
    -----
    Two forward passes, O(n sum_j d_j d_{j-1} + n q sum_j d_j).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.4 (the shadow network, Theorem 2.3).
    """
    if not isinstance(net, RandomDeepNetwork):
        raise TypeError(f"net must be a RandomDeepNetwork, got {type(net).__name__}")
    sh = net.shadow(q)
    if not average_output:
        return float(np.mean((net(X) - sh(X)) ** 2))
    H1, H2 = net.hidden(X)[-1], sh.hidden(X)[-1]
    return float(np.mean((H1 - H2) ** 2))


def shadow_gap_infinite_width(
    activation: str | Activation, q: int, depth: int
) -> float:
    """The infinite-width limit of E_W (Psi_W(x) - Psi_W^(q)(x))^2 at any x with ||x|| =
    sqrt(d).

    Parameters
    ----------
    activation : str or Activation
        The network's activation (should be normalised, E f^2 = 1, so that Var U stays
        1).
    q : int
        Truncation degree, >= 0.
    depth : int
        L >= 2.

    Returns
    -------
    float
        gap_inf = E f(z)^2 + s^2 - 2c after L - 1 hidden layers (1 + s^2 - 2c for a
        normalised f).

    Notes
    -----
    Track c = Cov(U, V) and s^2 = Var V of the true and shadow preactivations (start c =
    s^2 = 1). At each hidden layer, with g_n the Hermite coefficients of z -> f_q(s z)
    (exact by (q + 1)-point Gauss-Hermite quadrature since f_q is a polynomial): c <-
    sum_{n<=q} a_n g_n (c/s)^n, s^2 <- sum_n g_n^2.  For depth 2 this is eps_f(q). Cost
    O(depth q^2).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §2.5-2.6 (Theorem 2.3, whose proof controls the true and shadow hidden
    layers layer by layer at finite width).  The recursion here is the course's
    infinite-width heuristic: it assumes that the true and shadow preactivations of a
    layer are jointly Gaussian.
    """
    q = check_int("q", q, minimum=0)
    depth = check_int("depth", depth, minimum=2)
    act = get_activation(activation)
    a = hermite_coefficients(act, q)
    # z -> sum_{n<=q} a_n h_n(z), the same coefficients a
    fq = truncated_activation(act, q)
    m2 = second_moment(act)
    z, w = np.polynomial.hermite_e.hermegauss(q + 1)
    w = w / w.sum()
    H = hermite_functions(z, q)
    c, s2 = 1.0, 1.0
    for _ in range(depth - 1):
        s = math.sqrt(s2)
        g = H @ (w * fq(s * z))
        rho = c / s
        c = float(np.sum(a * g * rho ** np.arange(q + 1)))
        s2 = float(np.sum(g**2))
    return m2 + s2 - 2.0 * c


def best_polynomial_error(
    kernel, input_dim: int, degree: int, *, n_nodes: int = 4000
) -> float:
    """Best degree-q L2 error for a Gaussian process on the sphere with a dot-product
    kernel.

    For Psi with covariance kappa(<x, x'> / d) on the sphere ||x|| = sqrt(d) (uniform
    inputs, infinite width and samples), err*(q) = sum_{l > q} m_l with m_l = N(d, l)
    E_t[kappa(t) P_l(t)], where t has density prop. to (1 - t^2)^((d-3)/2) and P_l is
    the normalised Gegenbauer polynomial.

    Parameters
    ----------
    kernel : callable
        kappa on [-1, 1] (e.g. ``lambda t: dual_activation(f, dual_activation(f, t))``
        for depth 3).
    input_dim : int
        d >= 3.
    degree : int
        q >= 0.
    n_nodes : int
        Gauss-Jacobi nodes.

    Returns
    -------
    float

    Notes
    -----
    kappa(1) - sum_{l<=q} m_l by Gauss-Jacobi quadrature, O(n_nodes q).  Accurate to
    ~1e-7 for the arc-cosine kernels (their (1 - t^2)^(1/2) endpoint behaviour limits
    the quadrature).

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §1.1 (Theorem 1.1; this infinite-width computation is the course's,
    not the paper's); the dot-product kernel of the network is that of A. Daniely, R.
    Frostig, Y. Singer, "Toward deeper understanding of neural networks: the power of
    initialization and a dual view on expressivity", NeurIPS 2016, §4.
    """
    d = check_int("input_dim", input_dim, minimum=3)
    D = check_int("degree", degree, minimum=0)
    lam = (d - 2) / 2.0
    t, w = special.roots_jacobi(
        check_int("n_nodes", n_nodes, minimum=10), (d - 3) / 2.0, (d - 3) / 2.0
    )
    w = w / w.sum()
    kt = np.asarray(kernel(t), dtype=float)
    k1 = float(np.asarray(kernel(np.array(1.0))))
    total = 0.0
    for ell in range(D + 1):
        P = special.eval_gegenbauer(ell, lam, t) / special.eval_gegenbauer(
            ell, lam, 1.0
        )
        N = (
            1.0
            if ell == 0
            else (2 * ell + d - 2) / ell * special.comb(ell + d - 3, ell - 1)
        )
        total += N * float(np.dot(w, kt * P))
    return k1 - total
