"""Tensor initialisation, then gradient descent on the input weights (Zhong et al.
2017).

For scalar outputs ``y = sum_i u_i f(v_i . x)`` (output weights ``u_i``, hidden units
``v_i``, the rows of ``V``), x ~ N(0, I_d), and a positively homogeneous activation f of
degree p (ReLU, leaky ReLU, squared ReLU), the Hermite moments

    M_j = E[y He_j(x)] = sum_i u_i c_j(f) ||v_i||^p vbar_i^{(x) j},
    c_j(f) = E[f(z) He_j(z)],

determine the directions ``vbar_i = v_i / ||v_i||``, the norms ``||v_i||`` and the signs
of the ``u_i`` (for homogeneous f the magnitudes of the u_i can be moved into the v_i,
so ``u in {-1, +1}^k``).  The steps, with ``B`` (d x k) an orthonormal basis of the span
of the v_i:

1. :func:`second_moment_subspace`: ``P_2 = M_2``, its top-k eigenvectors (by
   absolute eigenvalue) give B;
2. :func:`relulearn.projected_moment`: ``M_3(B, B, B)`` when c_3 != 0 (squared ReLU),
   ``M_4(B, B, B, B)`` when c_3 = 0 (ReLU), estimated in O(n k^4) from the projected
   samples ``z = B^T x`` (the paper's ``P_3 = M_4(I, I, I, a)`` is one contraction of
   the latter);
3. :func:`decompose_symmetric_tensor`: the non-orthogonal decomposition
   ``sum_i mu_i omega_i^{(x) j}`` by simultaneous diagonalisation (Jennrich),
   ``omega_i = +- B^T vbar_i``;
4. :func:`magnitudes_and_signs`: least squares of ``M_1`` and ``B^T M_2 B`` on the found
   directions give ``||v_i||`` and the signs ``u_i``;
5. :func:`recover_tensor_gd`: all of the above, then gradient descent on V with u fixed
   (:func:`relulearn.train` with ``train_U=False``).

The paper (Zhong et al. 2017) writes the output weights ``v_i``, the hidden weights
``w_i``, the activation ``phi`` and the moment constants ``m_j``; the names here are
those of the course's notation page.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._linalg import top_subspace
from ._progress import progress_bar
from ._validation import (
    check_int,
    check_k,
    check_learner_input,
    check_samples,
    precision_tol,
    rng_from,
)
from .activations import Activation, get_activation
from .certificates import exact_fit_status
from .descent import train
from .moments import (
    low_order_residuals,
    moment_coefficient,
    projected_moment,
    second_moment_contraction,
)
from .multistart import best_of_starts
from .network import TwoLayerNetwork
from .recovery import ConvergenceWarning, Recovery, learner_contract
from .tensors import jennrich

__all__ = [
    "TensorInit",
    "decompose_symmetric_tensor",
    "magnitudes_and_signs",
    "recover_tensor_gd",
    "second_moment_subspace",
    "tensor_initialization",
]

_ZERO = 1e-10


def _homogeneous(activation) -> Activation:
    act = get_activation(activation)
    if act.degree is None or act.degree <= 0:
        raise ValueError(
            "activation must be positively homogeneous of degree p > 0 (relu,"
            f" leaky_relu, squared_relu), got {act.name}"
        )
    return act


def _moment_constants(act: Activation) -> np.ndarray:
    """``(c_1, c_2, c_3, c_4)`` at unit norm: c_j(f) = E[f(z) He_j(z)], round-off zeros
    set to 0.

    :func:`relulearn.moment_coefficient` for j = 1..4 (Zhong et al. 2017, §5, write
    m_j(sigma)); values below 1e-13 in magnitude are quadrature round-off of a zero
    constant (c_3 of ReLU).
    """
    vals = [moment_coefficient(act, j, 1.0) for j in range(1, 5)]
    return np.array([0.0 if abs(x) < 1e-13 else x for x in vals])


@dataclass(frozen=True, repr=False, eq=False)
class TensorInit:
    """The tensor initialisation's output and intermediate estimates.

    Attributes
    ----------
    network : TwoLayerNetwork
        ``U`` = u^(0)^T (1 x k, entries +-1), ``V`` = V^(0) (k x d), the starting point.
    subspace : ndarray, shape (d, k)
        Orthonormal basis B from P_2.
    directions : ndarray, shape (k, k)
        Columns ``omega_i`` (unit), the decomposition of the projected moment in the
        subspace coordinates.
    z, r : ndarray, shape (k,)
        The least-squares coefficients of M_1 and of B^T M_2 B on the directions.
    gap : float
        Relative eigen-gap of the simultaneous diagonalisation that was kept.
    third_order : int
        The order j of the decomposed moment: 3 (``M_3``) or 4 (``M_4``, when c_3(f) =
        0).
    """

    network: TwoLayerNetwork
    subspace: np.ndarray
    directions: np.ndarray
    z: np.ndarray
    r: np.ndarray
    gap: float
    third_order: int

    def __repr__(self) -> str:
        k, d = self.network.V.shape
        return (
            f"TensorInit(d={d}, k={k}, third_order=M{self.third_order},"
            f" gap={self.gap:.2g})"
        )


def second_moment_subspace(X, y, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenvectors (by absolute eigenvalue) of ``P_2 = M_2 = E[y (x x^T - I)]``.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs as columns.
    y : array_like, shape (n,) or (1, n)
        Scalar labels.
    k : int
        Hidden units.

    Returns
    -------
    B : ndarray, shape (d, k)
        Orthonormal columns spanning (an estimate of) ``span{v_i}``.
    eigenvalues : ndarray, shape (d,)
        Eigenvalues of the estimate, sorted by decreasing absolute value.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or k.

    Notes
    -----
    ``P_2 = M_2`` holds when ``c_2(f) != 0`` (ReLU, leaky ReLU, squared ReLU).  The u_i
    may have mixed signs, so P_2 is indefinite and eigenvalues are ranked by absolute
    value.  Cost O(n d^2 + d^3).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, PMLR 70:4140-4149, Algorithm 1 and §5.
    """
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"y must be scalar labels of shape (n,) or (1, n), got shape {Y.shape}"
        )
    k = check_k(k, X.shape[0])
    P2 = second_moment_contraction(X, Y, np.ones(1))
    evals = np.linalg.eigvalsh(P2)
    order = np.argsort(-np.abs(evals), kind="stable")
    return top_subspace(P2, k), evals[order]


def decompose_symmetric_tensor(
    T, k: int, *, rng=None, n_draws: int = 20
) -> tuple[np.ndarray, float]:
    """Non-orthogonal decomposition ``T ~ sum_i mu_i omega_i^{(x) j}`` (j = 3 or 4) by
    simultaneous diagonalisation.

    Parameters
    ----------
    T : array_like, shape (k, k, k) or (k, k, k, k)
        Symmetric tensor.
    k : int
        Number of components.
    rng : int or Generator, optional
        Randomness of the contractions.
    n_draws : int
        Random pairs of contractions tried (:func:`relulearn.jennrich`); the draw whose
        components fit T best by least squares is kept.

    Returns
    -------
    Omega : ndarray, shape (k, k)
        Unit columns, the omega_i up to sign and order.
    gap : float
        The relative eigen-gap of the kept draw.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or k.

    Notes
    -----
    Order 3: ``T(g) = sum_i mu_i (omega_i . g) omega_i omega_i^T``; order 4: ``T(g, g) =
    sum_i mu_i (omega_i . g)^2 omega_i omega_i^T`` (the paper's random alpha and the
    Jennrich vector are the same g here).  Two such matrices share the factors omega_i,
    which their simultaneous diagonalisation returns.  The paper uses the
    Kuleshov-Chaganty-Liang decomposition, which builds on the same step with many
    random projections.  Cost O(n_draws k^(j+2)).

    References
    ----------
    V. Kuleshov, A. Chaganty, P. Liang, "Tensor factorization via matrix factorization",
    AISTATS 2015. K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery
    guarantees for one-hidden-layer neural networks", ICML 2017, PMLR 70:4140-4149,
    Algorithm 1.
    """
    T = np.asarray(T, dtype=float)
    k = check_int("k", k)
    if T.shape not in ((k,) * 3, (k,) * 4):
        raise ValueError(f"T must have shape {(k,) * 3} or {(k,) * 4}, got {T.shape}")
    j = T.ndim
    flat = T.reshape(-1)

    def score(B):
        A = B
        for _ in range(j - 1):
            A = np.einsum("ai,bi->abi", A.reshape(-1, k), B)
        A = A.reshape(-1, k)
        coef = np.linalg.lstsq(A, flat, rcond=None)[0]
        return -float(np.linalg.norm(A @ coef - flat))

    if j == 3:

        def contract(g):
            return np.einsum("abc,c->ab", T, g)
    else:

        def contract(g):
            return np.einsum("abcd,c,d->ab", T, g, g)

    res = jennrich(contract, k, k, rng=rng, n_draws=n_draws, score=score)
    return res.components, res.gap


def magnitudes_and_signs(
    X, y, basis, directions, activation
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Norms ``||v_i||`` and signs ``u_i`` from M_1 and M_2 (RecMagSign).

    Parameters
    ----------
    X, y : array_like
        Samples (d, n) and scalar labels.
    basis : array_like, shape (d, k)
        Subspace basis B.
    directions : array_like, shape (k, k)
        Unit columns ``omega_i = +- B^T vbar_i``.
    activation : str or Activation
        Homogeneous activation f with ``c_1(f) != 0`` and ``c_2(f) != 0``.

    Returns
    -------
    V0 : ndarray, shape (k, d)
        Rows ``v_i^(0)``.
    u0 : ndarray, shape (k,)
        Signs in {-1, +1}.
    z, r : ndarray, shape (k,)
        ``z = argmin ||M_1 - sum z_i B omega_i||`` and ``r = argmin ||B^T M_2 B - sum
        r_i omega_i omega_i^T||_F``.

    Raises
    ------
    ValueError, TypeError
        Non-homogeneous activation or one with c_1(f) = 0 or c_2(f) = 0.

    Notes
    -----
    ``z_i = e_i u_i c_1(f) ||v_i||^p`` (e_i the sign of omega_i) and ``r_i = u_i c_2(f)
    ||v_i||^p``, so ``u_i = sign(r_i / c_2(f))``, ``||v_i|| = (|z_i| / |c_1(f)|)^{1/p}``
    and ``v_i = sign(z_i) u_i sign(c_1(f)) ||v_i|| B omega_i``.  Cost O(n d k + d k^2 +
    k^6).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, PMLR 70:4140-4149, Algorithm 1
    (RecMagSign).
    """
    act = _homogeneous(activation)
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"y must be scalar labels of shape (n,) or (1, n), got shape {Y.shape}"
        )
    yv = Y[0]
    n = X.shape[1]
    p = float(act.degree)
    m1, m2 = _moment_constants(act)[:2]
    if abs(m1) < _ZERO or abs(m2) < _ZERO:
        raise ValueError(
            f"activation {act.name} has c_1 = {m1:.3g}, c_2 = {m2:.3g}; both must be"
            " nonzero"
        )
    B = np.asarray(basis, dtype=float)
    Om = np.asarray(directions, dtype=float)
    D = B @ Om  # (d, k) directions in R^d
    M1 = X @ yv / n
    z = np.linalg.lstsq(D, M1, rcond=None)[0]
    Zp = B.T @ X
    Q2 = (Zp * yv) @ Zp.T / n - np.mean(yv) * np.eye(B.shape[1])
    A = np.einsum("ai,bi->abi", Om, Om).reshape(-1, Om.shape[1])
    r = np.linalg.lstsq(A, Q2.reshape(-1), rcond=None)[0]
    u0 = np.sign(r / m2)
    u0[u0 == 0] = 1.0
    norms = (np.abs(z) / abs(m1)) ** (1.0 / p)
    sz = np.sign(z)
    sz[sz == 0] = 1.0
    V0 = (D * (sz * u0 * np.sign(m1) * norms)).T
    return V0, u0, z, r


def tensor_initialization(
    X, y, k: int, *, activation: str | Activation = "relu", rng=None
) -> TensorInit:
    """The tensor initialisation (Algorithm 1 of Zhong et al. 2017) for a homogeneous
    activation.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs, N(0, I_d).
    y : array_like, shape (n,) or (1, n)
        Labels ``sum_i u_i f(v_i . x)``.
    k : int
        Hidden units, ``k <= d``.
    activation : str or Activation
        ReLU, leaky ReLU or squared ReLU (positively homogeneous with c_1, c_2 != 0 and
        c_3 or c_4 != 0).
    rng : int or Generator, optional
        Randomness of the direction a (for M_4) and of the contractions.

    Returns
    -------
    TensorInit

    Raises
    ------
    ValueError, TypeError
        Bad data or an unsupported activation.

    Notes
    -----
    All moments use all samples (no sample splitting, as in the paper's experiments).
    M_2 and the third-order moment are estimated from
    :func:`relulearn.low_order_residuals` (control variates that keep their means and
    cut their variance). Cost O(n d^2 + n k^3 + d^3).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, Algorithm 1.
    """
    act = _homogeneous(activation)
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"y must be scalar labels of shape (n,) or (1, n), got shape {Y.shape}"
        )
    d = X.shape[0]
    k = check_k(k, d)
    gen = rng_from(rng)
    m = _moment_constants(act)
    if abs(m[2]) > _ZERO:
        order = 3
    elif abs(m[3]) > _ZERO:
        order = 4
    else:
        raise ValueError(
            f"activation {act.name} has c_3 = c_4 = 0; the initialisation needs one of"
            " them"
        )
    y1, y2, _, _ = low_order_residuals(X, Y)
    B, _ = second_moment_subspace(X, y1, k)
    T = projected_moment(X, y2, B, order)
    Om, gap = decompose_symmetric_tensor(T, k, rng=gen)
    V0, u0, z, r = magnitudes_and_signs(X, Y, B, Om, act)
    net = TwoLayerNetwork(u0[None, :], V0, act)
    return TensorInit(
        network=net, subspace=B, directions=Om, z=z, r=r, gap=gap, third_order=order
    )


@learner_contract
def recover_tensor_gd(
    X,
    y,
    k: int,
    *,
    rng=None,
    on_failure: str = "raise",
    progress: bool = False,
    activation: str | Activation = "relu",
    method: str = "gd",
    max_iter: int = 2000,
    tol: float = 1e-10,
    n_starts: int = 4,
) -> Recovery:
    """Tensor initialisation, then gradient descent on V with the output weights fixed,
    best of several starts.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Gaussian inputs.
    y : array_like, shape (n,) or (1, n)
        Noiseless labels ``sum_i u_i f(v_i . x)``.
    k : int
        Hidden units.
    activation : str or Activation
        ReLU, leaky ReLU or squared ReLU.
    rng : int or Generator, optional
        Randomness of the initialisation.
    on_failure : {"raise", "return"}
        What a failed result does: raise :class:`~relulearn.RecoveryFailed`, or return
        it.
    progress : bool
        Show a progress bar over the starts.
    method : {"gd", "adam"}
        The local descent (:func:`relulearn.train` with ``train_U=False``); "gd" is
        full-batch gradient descent with a backtracking step.
    max_iter : int
        Iterations of the local descent.
    tol : float
        Stop when the relative residual ``||y - net(X)|| / ||y||`` falls below ``tol``
        (for float32 data at least 100 times float32's machine epsilon).
    n_starts : int
        Independent tensor initialisations (each with its own random contractions), each
        followed by the descent; the first run that converges is kept (the starts stop
        there), else the run with the least training residual
        (:func:`relulearn.best_of_starts`). ``n_starts=1`` is the paper's algorithm.  At
        small n one start can end on either side of a basin boundary, and rounding (the
        BLAS kernel) then decides its fate; the best of several does not hinge on one.

    Returns
    -------
    Recovery
        ``network`` with ``U`` of shape (1, k) (entries +-1) and ``V`` the k x d input
        weights; ``history`` the loss per iteration of the kept descent; ``details``
        with ``init`` (the :class:`TensorInit` of the kept start), ``starts`` (the
        :class:`relulearn.StartsResult`), ``iterations``, ``stop_reason``, ``converged``
        and ``starts_tried``. ``status`` certified when the kept descent fits to ``tol``
        on more than 2 k (d + 1) distinct samples (an exact fit is the evidence), failed
        when every start diverged, unverified otherwise (with a
        :class:`~relulearn.ConvergenceWarning` when no start converged).

    Raises
    ------
    ValueError, TypeError
        Bad data (labels must be scalar: m = 1), k, method, or an unsupported
        activation.
    RecoveryFailed
        With ``on_failure="raise"``, when the status is failed.

    Notes
    -----
    Cost O(n d^2 + n k^3 + d^3) for the initialisation plus O(n k d) per descent
    iteration.  The descent reuses all n samples at every step: the paper's convergence
    guarantee draws fresh samples at each iteration (resampling) and assumes a smooth
    activation, so for this variant (and for ReLU) convergence is observed, not
    guaranteed.

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, Algorithms 1-2 and §7.
    """
    data = check_learner_input(X, y, k, who="recover_tensor_gd")
    X, Y, k = data.X, data.Y, data.k
    if Y.shape[0] != 1:
        raise ValueError(
            "y must hold scalar labels, shape (n,) or (1, n), for recover_tensor_gd;"
            f" got shape {Y.shape}"
        )
    tol = precision_tol("tol", tol, data.eps)
    n_starts = check_int("n_starts", n_starts)
    gen = rng_from(rng)
    bar = progress_bar(n_starts, "recover_tensor_gd", progress)

    def one_start(child):
        init = tensor_initialization(X, Y, k, activation=activation, rng=child)
        with warnings.catch_warnings():
            # reported once below, for the kept start
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = train(
                X,
                Y,
                k,
                method=method,
                activation=init.network.activation,
                init=(init.network.U, init.network.V),
                train_U=False,
                max_iter=max_iter,
                tol=tol,
                rng=0,
                on_failure="return",
            )
        bar.update(1)
        return init, res

    starts = best_of_starts(
        (lambda c=child: one_start(c) for child in gen.spawn(n_starts)),
        score=lambda out: 0.0 if out[1].details["converged"] else out[1].residual,
        good_enough=0.0,
    )
    bar.close()
    if starts.best is None:
        return Recovery(
            None,
            np.inf,
            status="failed",
            n_samples_used=X.shape[1],
            reason=(
                f"the descent diverged (non-finite loss) from all {starts.n_tried}"
                " starts"
            ),
            details={"starts": starts, "starts_tried": starts.n_tried},
        )
    init, res = starts.best
    details = dict(res.details)
    details["init"] = init
    details["starts"] = starts
    details["starts_tried"] = starts.n_tried
    status, reason = exact_fit_status(X, res.network, res.residual, tol)
    if not details["converged"]:
        reason = (
            f"no start converged ({starts.n_tried} tried): the kept descent stopped"
            f" ({details['stop_reason']})"
            f" with residual {res.residual:.1e} > tol {tol:.0e}"
        )
        warnings.warn(f"recover_tensor_gd: {reason}", ConvergenceWarning, stacklevel=3)
    return Recovery(
        network=res.network,
        residual=res.residual,
        status=status,
        reason=reason,
        n_samples_used=X.shape[1],
        history=res.history,
        details=details,
    )
