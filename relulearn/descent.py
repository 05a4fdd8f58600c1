"""The baseline every chapter compares against: gradient training of ``U f(V X)`` on the
squared loss.

The loss is the empirical loss ``L_n(U, V) = ||U f(V X) - Y||_F^2 / (2 n)`` with the
analytic gradients

* ``dL/dU = R f(V X)^T / n`` and
* ``dL/dV = ((U^T R) * f'(V X)) X^T / n``, where ``R = U f(V X) - Y``.

Two methods: ``"adam"`` (Kingma and Ba 2015) with a learning rate halved on plateaus,
and ``"gd"``, full-batch gradient descent with a backtracking (Armijo) step, or plain
SGD with a fixed step when ``batch_size`` is set.  Both stop when the relative residual
``||R||_F / ||Y||_F`` falls below ``tol``, when the step has shrunk 10^4-fold without
progress ("stalled"), or after ``max_iter`` iterations (epochs for minibatches).

Where a run stops says little by itself: :func:`loss_hessian` gives the Hessian of
``L_n`` over all parameters (residual terms included), and
:func:`stationary_point_report` measures the gradient, the loss and the smallest
eigenvalue of that Hessian (flat directions projected out, checked against finite
differences of :func:`loss_gradients`) and says what kind of point it is: a global
minimum, a saddle, a spurious local minimum, a dead unit, merged units, a kink, or a
plateau.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._progress import progress_bar
from ._streaming import chunks
from ._validation import (
    as_matrix,
    check_int,
    check_learner_input,
    check_samples,
    precision_tol,
    rng_from,
)
from .activations import Activation, get_activation
from .certificates import exact_fit_status
from .network import TwoLayerNetwork
from .recovery import ConvergenceWarning, Recovery, learner_contract

__all__ = [
    "StationaryPointReport",
    "loss_gradients",
    "loss_hessian",
    "squared_loss",
    "stationary_point_report",
    "train",
]


def squared_loss(
    U: np.ndarray, V: np.ndarray, X: np.ndarray, Y: np.ndarray, activation="relu"
) -> float:
    """The empirical squared loss ``||U f(V X) - Y||_F^2 / (2 n)``.

    Parameters
    ----------
    U : ndarray, shape (m, k)
    V : ndarray, shape (k, d)
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
    activation : str or Activation
        The activation f.

    Returns
    -------
    float

    Notes
    -----
    No input checks (arrays of matching shapes are trusted). Cost O(n k (d + m)).
    """
    f = get_activation(activation)
    R = U @ f(V @ X) - Y
    return float(np.vdot(R, R) / (2 * X.shape[1]))


def loss_gradients(U, V, X, Y, activation="relu"):
    """Loss and its gradients ``(L, dL/dU, dL/dV)`` for the squared loss.

    Parameters
    ----------
    U : ndarray, shape (m, k)
    V : ndarray, shape (k, d)
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
    activation : str or Activation
        The activation f; its ``derivative`` (the right derivative at kinks) is used.

    Returns
    -------
    L : float
        ``||U f(V X) - Y||_F^2 / (2 n)``, as :func:`squared_loss`.
    dL_dU : ndarray, shape (m, k)
        ``R f(V X)^T / n`` with the residual ``R = U f(V X) - Y``.
    dL_dV : ndarray, shape (k, d)
        ``((U^T R) * f'(V X)) X^T / n``.

    Notes
    -----
    No input checks (arrays of matching shapes are trusted). Cost O(n k (d + m)).
    """
    f = get_activation(activation)
    n = X.shape[1]
    Z = V @ X
    H = f(Z)
    R = U @ H - Y
    L = float(np.vdot(R, R) / (2 * n))
    gU = R @ H.T / n
    gV = ((U.T @ R) * f.derivative(Z)) @ X.T / n
    return L, gU, gV


def _init(X, Y, k, f, gen, init):
    d = X.shape[0]
    m = Y.shape[0]
    if init is not None:
        if isinstance(init, TwoLayerNetwork):
            U0, V0 = np.array(init.U), np.array(init.V)
        else:
            try:
                U0, V0 = init
            except (TypeError, ValueError):
                raise TypeError(
                    "init must be a TwoLayerNetwork or a pair (U0, V0)"
                ) from None
            U0 = as_matrix("init U0", U0).copy()
            V0 = as_matrix("init V0", V0).copy()
        if U0.shape != (m, k) or V0.shape != (k, d):
            raise ValueError(
                f"init must have U0 of shape {(m, k)} and V0 of shape {(k, d)}, got"
                f" {U0.shape} and {V0.shape}"
            )
        return U0, V0
    V0 = gen.standard_normal((k, d)) / np.sqrt(d)
    H = f(V0 @ X)
    # least-squares output layer for the random hidden layer (tiny ridge for stability)
    G = H @ H.T + 1e-8 * np.trace(H @ H.T) / k * np.eye(k) + 1e-300 * np.eye(k)
    U0 = np.linalg.solve(G, H @ Y.T).T
    return U0, V0


@learner_contract
def train(
    X,
    Y,
    k: int,
    *,
    rng=None,
    on_failure: str = "raise",
    progress: bool = False,
    method: str = "adam",
    activation: str | Activation = "relu",
    init=None,
    lr: float | None = None,
    max_iter: int = 5000,
    batch_size: int | None = None,
    tol: float = 1e-7,
    patience: int = 100,
    train_U: bool = True,
) -> Recovery:
    """Train ``U f(V X)`` on ``(X, Y)`` by gradient descent or Adam on the squared loss.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    k : int
        Hidden units, 1 <= k <= d.
    rng : int, Generator or None
        Randomness of the initialisation and of the minibatches. The default start draws
        V0 exactly as :func:`relulearn.planted_network` draws V*, so ``train(rng=s)`` on
        an instance planted with ``rng=s`` starts at the truth: give the learner a seed
        of its own.
    on_failure : {"raise", "return"}
        What a failed result (non-finite loss) does: raise
        :class:`~relulearn.RecoveryFailed`, or return it.
    progress : bool
        Show a tqdm progress bar.
    method : {"adam", "gd"}
        Adam, or gradient descent (backtracking full batch; fixed-step SGD with
        ``batch_size``).
    activation : str or Activation
        The network's activation.
    init : TwoLayerNetwork or (U0, V0), optional
        Starting point. Default: V0 with i.i.d. N(0, 1/d) entries and U0 the
        least-squares output layer for it. (To refine a given start to its local
        least-squares fit, :func:`relulearn.local_least_squares` is the second-order
        alternative: see below.)
    lr : float, optional
        Step size. Defaults: Adam 0.01; full-batch gd 1.0 (initial backtracking step);
        SGD 0.01.
    max_iter : int
        Maximum iterations (epochs when ``batch_size`` is set).
    batch_size : int, optional
        Minibatch size; ``None`` for full batch.
    tol : float
        Stop when the relative residual ``||U f(VX) - Y||_F / ||Y||_F < tol`` (for
        float32 data at least 100 times float32's machine epsilon).
    patience : int
        Iterations without a 0.1% improvement of the loss before the step is halved.
    train_U : bool
        If False, U stays at its initial value (it must then be given by ``init``).

    Returns
    -------
    Recovery
        ``network``; ``residual`` = ``||U f(VX) - Y||_F / ||Y||_F``; ``history`` = the
        loss ``||R||_F^2 / (2n)`` after each iteration; ``details`` with ``iterations``,
        ``stop_reason`` ("converged", "stalled", "max_iter" or "diverged") and
        ``converged``; ``status`` certified when it converged (residual below ``tol``)
        on more than 2 k (d + m) distinct samples (an exact fit is then the evidence),
        failed when the loss became non-finite, unverified otherwise (a
        :class:`~relulearn.ConvergenceWarning` is emitted when it stopped without
        converging).

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite data, k not an int in [1, d], unknown method.

    See Also
    --------
    relulearn.local_least_squares
        The package's local refiner, Levenberg-Marquardt on the same loss (without
        minibatches). From the same start both head for the same local minimiser; it
        takes a few dozen iterations of cost O(n k^2 d (d + m)) plus a (k (d + m))^2
        system where this takes hundreds to thousands of cheaper ones, and it stops at
        the minimiser instead of stalling near it; this scales to many parameters and
        minibatches, and reports the loss history of a first-order method.

    Notes
    -----
    Cost O(n k (d + m)) per iteration (per epoch with minibatches); memory O(n (k + m)).

    References
    ----------
    D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.
    """
    data = check_learner_input(X, Y, k, who="train", x_degree=2, y_degree=2)
    X, Y, k = data.X, data.Y, data.k
    _d, n = X.shape
    tol = precision_tol("tol", tol, data.eps)
    if method not in ("adam", "gd"):
        raise ValueError(f"method must be 'adam' or 'gd', got {method!r}")
    max_iter = check_int("max_iter", max_iter)
    patience = check_int("patience", patience)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
        if batch_size >= n:
            batch_size = None
    if lr is not None and not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr}")
    if not train_U and init is None:
        raise ValueError("train_U=False needs the fixed output layer in init=(U0, V0)")
    f = get_activation(activation)
    gen = rng_from(rng)
    U, V = _init(X, Y, k, f, gen, init)
    yy = float(np.vdot(Y, Y)) / (2 * n)
    yy = yy if yy > 0 else 1.0
    full_gd = method == "gd" and batch_size is None
    if lr is None:
        lr = 1.0 if full_gd else 0.01
    lr0 = lr
    mU, vU, mV, vV = (
        np.zeros_like(U),
        np.zeros_like(U),
        np.zeros_like(V),
        np.zeros_like(V),
    )
    b1, b2, eps = 0.9, 0.999, 1e-12
    t = 0
    history = []
    best = np.inf
    since_best = 0
    stop_reason = "max_iter"
    bar = None
    if progress:
        bar = progress_bar(max_iter, f"train ({method})", progress)
    tol2 = tol * tol

    L, gU, gV = loss_gradients(U, V, X, Y, f)
    for _ in range(max_iter):
        if full_gd:
            g2 = float(np.vdot(gV, gV) + (np.vdot(gU, gU) if train_U else 0.0))
            for _ls in range(60):
                U_new = U - lr * gU if train_U else U
                V_new = V - lr * gV
                L_new, gU_new, gV_new = loss_gradients(U_new, V_new, X, Y, f)
                if L_new <= L - 1e-4 * lr * g2:
                    break
                lr *= 0.5
            else:
                stop_reason = "stalled"
                break
            U, V, L, gU, gV = U_new, V_new, L_new, gU_new, gV_new
            lr *= 1.5
        else:
            batches = (
                [slice(None)]
                if batch_size is None
                else np.array_split(gen.permutation(n), max(n // batch_size, 1))
            )
            for idx in batches:
                if batch_size is None:
                    bgU, bgV = gU, gV
                else:
                    _, bgU, bgV = loss_gradients(U, V, X[:, idx], Y[:, idx], f)
                t += 1
                if method == "adam":
                    mV = b1 * mV + (1 - b1) * bgV
                    vV = b2 * vV + (1 - b2) * bgV * bgV
                    V = V - lr * (mV / (1 - b1**t)) / (np.sqrt(vV / (1 - b2**t)) + eps)
                    if train_U:
                        mU = b1 * mU + (1 - b1) * bgU
                        vU = b2 * vU + (1 - b2) * bgU * bgU
                        U = U - lr * (mU / (1 - b1**t)) / (
                            np.sqrt(vU / (1 - b2**t)) + eps
                        )
                else:
                    V = V - lr * bgV
                    if train_U:
                        U = U - lr * bgU
            L, gU, gV = loss_gradients(U, V, X, Y, f)
            if not (
                np.isfinite(L) and np.all(np.isfinite(U)) and np.all(np.isfinite(V))
            ):
                stop_reason = "diverged"
                break
        history.append(L)
        if bar is not None:
            bar.update(1)
        if L / yy < tol2:
            stop_reason = "converged"
            break
        if L < best * (1 - 1e-3):
            best = L
            since_best = 0
        else:
            since_best += 1
            if since_best >= patience and not full_gd:
                lr *= 0.5
                since_best = 0
                if lr < lr0 * 1e-4:
                    stop_reason = "stalled"
                    break
        if full_gd and lr < 1e-12:
            stop_reason = "stalled"
            break
    if bar is not None:
        bar.close()
    details = {
        "iterations": len(history),
        "stop_reason": stop_reason,
        "converged": stop_reason == "converged",
    }
    if stop_reason == "diverged":
        return Recovery(
            None,
            np.inf,
            status="failed",
            n_samples_used=n,
            history=np.asarray(history),
            reason=(
                f"the loss became non-finite after {len(history)} iterations"
                f" (lr={lr0:g} too large?)"
            ),
            details=details,
        )
    net = TwoLayerNetwork(U, V, f)
    residual = float(
        np.sqrt(2 * n * L / max(float(np.vdot(Y, Y)), np.finfo(float).tiny))
    )
    status, reason = exact_fit_status(X, net, residual, tol)
    if stop_reason != "converged":
        reason = (
            f"stopped ({stop_reason}) after {len(history)} iterations with residual"
            f" {residual:.1e} > tol {tol:.0e}"
        )
        warnings.warn(f"train: {reason}", ConvergenceWarning, stacklevel=3)
    return Recovery(
        network=net,
        residual=residual,
        status=status,
        reason=reason,
        n_samples_used=n,
        history=np.asarray(history),
        details=details,
    )


# ---------------------------------------------------------------- second-order
# information at a point

# f'' for the named activations (f'' = 0 off the kinks for the piecewise-linear ones and
# for the step)
_SECOND_DERIVATIVES = {
    "relu": lambda z: np.zeros_like(z),
    "linear": lambda z: np.zeros_like(z),
    "step": lambda z: np.zeros_like(z),
    "squared_relu": lambda z: 2.0 * (z > 0),
    "quadratic": lambda z: np.full_like(z, 2.0),
    "softplus": lambda z: special.expit(z) * special.expit(-z),
    "sigmoid": lambda z: (
        special.expit(z) * special.expit(-z) * (1.0 - 2.0 * special.expit(z))
    ),
    "tanh": lambda z: -2.0 * np.tanh(z) / np.cosh(z) ** 2,
    "erf": lambda z: -4.0 / np.sqrt(np.pi) * z * np.exp(-np.square(z)),
}


def _second_derivative(f: Activation):
    if f.name.startswith("leaky_relu"):
        return _SECOND_DERIVATIVES["relu"]
    if f.name not in _SECOND_DERIVATIVES:
        raise ValueError(
            f"activation {f.name!r} has no known second derivative; loss_hessian"
            " supports "
            f"{sorted(_SECOND_DERIVATIVES) + ['leaky_relu(slope)']}"
        )
    return _SECOND_DERIVATIVES[f.name]


def _check_point(U, V, X, Y):
    """The public boundary of :func:`loss_hessian` and
    :func:`stationary_point_report`.
    """
    X, Y = check_samples(X, Y)
    U, V = as_matrix("U", U), as_matrix("V", V)
    d, m = X.shape[0], Y.shape[0]
    if V.shape[1] != d:
        raise ValueError(
            f"V must have shape (k, d) = (k, {d}) for X with d={d} rows, got {V.shape}"
        )
    if U.shape != (m, V.shape[0]):
        raise ValueError(
            f"U must have shape (m, k) = ({m}, {V.shape[0]}) for Y with m={m} rows and"
            " V with "
            f"k={V.shape[0]} rows, got {U.shape}"
        )
    return U, V, X, Y


def _hessian(U, V, X, Y, f, f2) -> np.ndarray:
    """:func:`loss_hessian` on checked arrays."""
    d, n = X.shape
    m, k = U.shape
    mk, kd = m * k, k * d
    K = np.zeros((k, k))  # sum h h^T
    S = np.zeros((k, k, d))  # S[i, l, b] = sum h_i f'(z_l) x_b
    C = np.zeros((m, k, d))  # C[a, i, b] = sum r_a f'(z_i) x_b
    G = np.zeros((kd, kd))  # G[(l, b), (l', c)] = sum f'(z_l) f'(z_l') x_b x_c
    Q = np.zeros((k, d, d))  # Q[l] = sum (U^T r)_l f''(z_l) x x^T
    for sl in chunks(n, 2 * kd + 4 * k + 2 * m + d):
        Xc = X[:, sl]
        Z = V @ Xc
        H, D = f.value(Z), f.derivative(Z)
        R = U @ H - Y[:, sl]
        K += H @ H.T
        DX = (D[:, None, :] * Xc[None, :, :]).reshape(kd, -1)
        S += (H @ DX.T).reshape(k, k, d)
        C += (R @ DX.T).reshape(m, k, d)
        G += DX @ DX.T
        W = (U.T @ R) * f2(Z)
        if np.any(W):
            Q += np.einsum("lj,bj,cj->lbc", W, Xc, Xc)
    Hs = np.zeros((mk + kd, mk + kd))
    Hs[:mk, :mk] = np.kron(np.eye(m), K)
    # (U[a, i], V[l, b]): U[a, l] S[i, l, b] + [i = l] C[a, i, b]
    UV = U[:, None, :, None] * S[None, :, :, :]
    idx = np.arange(k)
    UV[:, idx, idx, :] += C
    Hs[:mk, mk:] = UV.reshape(mk, kd)
    Hs[mk:, :mk] = Hs[:mk, mk:].T
    VV = (U.T @ U)[:, None, :, None] * G.reshape(k, d, k, d)
    VV[idx, :, idx, :] += Q
    Hs[mk:, mk:] = VV.reshape(kd, kd)
    return Hs / n


def loss_hessian(U, V, X, Y, activation: str | Activation = "relu") -> np.ndarray:
    """The Hessian of the empirical loss ``L_n(U, V) = ||U f(V X) - Y||_F^2 / (2 n)``
    over all parameters.

    The parameters are ordered as ``theta = (U.ravel(), V.ravel())``: ``U[a, i]`` is
    entry ``a k + i`` and ``V[i, b]`` is entry ``m k + i d + b``. With ``z = V x``, ``h
    = f(z)``, ``r = U h - y`` and ``D = f'(z)``, the Hessian is the Gauss-Newton part
    ``sum_j J_j^T J_j / n`` plus the residual part ``sum_j sum_a r_aj d^2 (U f(V x_j))_a
    / n``; its blocks are

    * ``(U[a, i], U[a', i'])``: ``[a = a'] sum_j h_ij h_i'j / n`` (no residual term: the
      model is linear in U);
    * ``(U[a, i], V[l, b])``:
      ``sum_j (U[a, l] h_ij D_lj + [i = l] r_aj D_ij) x_bj / n``, the second term being
      the residual (second-order) term;
    * ``(V[l, b], V[l', c])``: ``sum_j ((U^T U)[l, l'] D_lj D_l'j + [l = l'] (U^T r_j)_l
      f''(z_lj)) x_bj x_cj / n``.

    For ReLU (and leaky ReLU, the step) ``f'' = 0`` off the kinks, so the V-V block has
    no residual term, but the U-V block does. The result is the exact Hessian wherever
    no ``v_i . x_j`` sits on a kink of f (for ReLU: almost everywhere, and on an open
    neighbourhood of any point with every ``v_i . x_j != 0``).

    Parameters
    ----------
    U : array_like, shape (m, k)
        Output layer; column ``u_i`` is the output weight of unit i.
    V : array_like, shape (k, d)
        Hidden layer; row ``v_i`` is hidden unit i.
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    activation : str or Activation
        The activation f. Its second derivative is taken from a table of the named
        activations (``relu``, ``leaky_relu``, ``step``, ``linear``, ``quadratic``,
        ``squared_relu``, ``softplus``, ``sigmoid``, ``tanh``, ``erf``).

    Returns
    -------
    ndarray, shape (p, p), p = k (d + m)
        The symmetric Hessian ``nabla^2 L_n``.

    Raises
    ------
    ValueError, TypeError
        Shapes that do not match (the message names ``U``, ``V``, ``X`` or ``Y``),
        non-finite entries, an activation without a known second derivative.

    See Also
    --------
    stationary_point_report
        The gradient, the projected smallest eigenvalue, a finite-difference check and a
        classification of the point.
    relulearn.population_hessian
        The population Hessian at the ground truth (a different object).

    Notes
    -----
    Cost O(n (k (d + m))^2) time (the V-V block, O(n k^2 d^2), dominates), memory O(p^2)
    plus a chunk of samples.
    """
    U, V, X, Y = _check_point(U, V, X, Y)
    f = get_activation(activation)
    return _hessian(U, V, X, Y, f, _second_derivative(f))


@dataclass(frozen=True, repr=False, eq=False)
class StationaryPointReport:
    """What the gradient and the Hessian of ``L_n`` say about a point (U, V): see
    :func:`stationary_point_report`.

    Attributes
    ----------
    kind : str
        One of "global minimum", "saddle", "dead unit", "merged units", "degenerate",
        "spurious local minimum", "local minimum", "kink", "plateau" (the rule is in
        :func:`stationary_point_report`).
    loss : float
        ``L_n(U, V)``.
    reference_loss : float
        The loss the point is compared with: ``L_n`` of the reference network (the
        truth), or 0.
    loss_scale : float
        ``||Y||_F^2 / (2 n)``, the loss of the zero network: the unit in which losses
        are read.
    gradient_norm : float
        ``||nabla L_n(U, V)||`` over all parameters (:func:`loss_gradients`).
    relative_gradient : float
        ``gradient_norm * ||theta|| / loss_scale`` (dimensionless; ``theta = (U, V)``).
    smallest_eigenvalue : float
        ``lambda_min`` of the Hessian restricted to the orthogonal complement of the
        flat directions (see :func:`stationary_point_report`).
    smallest_eigenvalue_unprojected : float
        ``lambda_min`` of the whole Hessian (the saddle test: a flat direction along
        which the loss is constant need not be a null direction of the Hessian away from
        a minimum, so negative curvature is looked for in all directions).
    largest_eigenvalue : float
        ``lambda_max`` of the same restricted Hessian (the scale against which
        ``smallest_eigenvalue`` is read).
    n_flat : int
        The number of flat directions projected out.
    eigenvalue_tolerance : float
        ``p * finite_difference_error + 100 eps lambda_max``: a bound on the spectral
        norm of the difference between the analytic and the finite-difference Hessian
        (``||E||_2 <= p max |E_ij|``); eigenvalues within it of 0 count as 0.
    finite_difference_error : float
        ``max |H - H_fd|`` over the entries, ``H_fd`` the central differences of
        :func:`loss_gradients`.
    dead_units : tuple of int
        Units with ``f(v_i . x_j) = 0`` and ``f'(v_i . x_j) = 0`` on every sample.
    merged_units : tuple of tuple of int
        For a piecewise-linear f (positively homogeneous of degree 1): groups of two or
        more live units with the same activation pattern (the same sign of ``v_i .
        x_j``) on every sample. On the data such a group acts as one linear map ``sum_g
        u_g v_g^T`` on each side of the pattern, so the loss is constant along the
        directions that keep that sum.
    kink_pairs : int
        The number of (live unit, sample) pairs on a kink of f: ``|cos(v_i, x_j)| <=
        kink_tol``.
    kink_margin : float
        ``min |cos(v_i, x_j)|`` over live units and samples, for an activation with a
        kink at 0 (``inf`` otherwise). When it is not tiny, ``L_n`` is smooth on a
        neighbourhood of the point.
    kink_slope : float or None
        For a point with ``kink_pairs > 0``: ``max_S dist(g_S, C_S^*) * ||theta|| /
        loss_scale`` over the ``2^kink_pairs`` sides S of the kinks, ``g_S`` the
        gradient of the smooth piece on side S and ``C_S^*`` the dual cone of that side
        (spanned by the normals of its constraints). It is 0 exactly when every
        one-sided directional derivative of ``L_n`` is >= 0. ``None`` when there is no
        kink pair, or more than 12 (not checked).
    descent_decrease : float or None
        For a "plateau": the largest decrease ``(L_n(theta) - L_n(theta + t delta)) /
        loss_scale`` found along the descent direction ``delta`` (minus the gradient, or
        at a kink minus the projection residual of the worst side) over steps ``t =
        ||theta|| 2^-i``; a positive value is a measured descent. ``None`` otherwise.
    n_parameters : int
        ``p = k (d + m)``.
    """

    kind: str
    loss: float
    reference_loss: float
    loss_scale: float
    gradient_norm: float
    relative_gradient: float
    smallest_eigenvalue: float
    smallest_eigenvalue_unprojected: float
    largest_eigenvalue: float
    n_flat: int
    eigenvalue_tolerance: float
    finite_difference_error: float
    dead_units: tuple[int, ...]
    merged_units: tuple[tuple[int, ...], ...]
    kink_pairs: int
    kink_margin: float
    kink_slope: float | None
    descent_decrease: float | None
    n_parameters: int

    def __repr__(self) -> str:
        extra = ""
        if self.kink_slope is not None:
            extra += f", kink_pairs={self.kink_pairs}, kink_slope={self.kink_slope:.0e}"
        if self.descent_decrease is not None:
            extra += f", descent_decrease={self.descent_decrease:.0e}"
        return (
            f"StationaryPointReport(kind={self.kind!r},"
            f" loss/loss_scale={self.loss / self.loss_scale:.2e}, "
            f"relative_gradient={self.relative_gradient:.0e},"
            f" smallest_eigenvalue={self.smallest_eigenvalue:.1e} "
            f"(all directions {self.smallest_eigenvalue_unprojected:.1e}, tolerance "
            f"{self.eigenvalue_tolerance:.0e}), dead_units={self.dead_units},"
            f" merged_units={self.merged_units}"
            f"{extra})"
        )


def _finite_difference_hessian(U, V, X, Y, f, h) -> np.ndarray:
    """Central differences of :func:`loss_gradients`, one parameter at a time.

    Cost O(n (k (d + m))^2).
    """
    theta = np.concatenate([U.ravel(), V.ravel()])
    mk = U.size
    out = np.empty((theta.size, theta.size))

    def grad(t):
        _, gU, gV = loss_gradients(
            t[:mk].reshape(U.shape), t[mk:].reshape(V.shape), X, Y, f
        )
        return np.concatenate([gU.ravel(), gV.ravel()])

    for p in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[p] += h
        tm[p] -= h
        out[:, p] = (grad(tp) - grad(tm)) / (2 * h)
    return out


def _kink_slope(U, V, X, Y, f, pairs) -> tuple[float, np.ndarray]:
    """``max_S dist(g_S, C_S^*)`` over the sides S of the kink pairs (f with a single
    kink at 0), and the projection residual of the worst side (minus a descent
    direction).
    """
    from scipy.optimize import nnls

    m, k = U.shape
    d, n = X.shape
    Z = V @ X
    # W[i, j]: the weight of x_j in dL/dv_i where f'(v_i . x_j) = 1
    W = U.T @ (U @ f.value(Z) - Y) / n
    left, right = f.derivative(np.array([-1.0, 1.0]))
    _, gU, gV = loss_gradients(U, V, X, Y, f)
    g0 = np.concatenate([gU.ravel(), gV.ravel()])
    A = np.zeros((g0.size, len(pairs)))
    w = np.empty(len(pairs))
    for c, (i, j) in enumerate(pairs):
        rows = slice(m * k + i * d, m * k + (i + 1) * d)
        # the side the computed gradient took
        g0[rows] -= W[i, j] * f.derivative(Z[i, j]) * X[:, j]
        A[rows, c] = X[:, j]
        w[c] = W[i, j]
    worst, residual = 0.0, np.zeros_like(g0)
    for sides in np.ndindex(*(2,) * len(pairs)):
        S = np.where(np.array(sides, dtype=bool), 1.0, -1.0)
        gS = g0 + A @ (np.where(S > 0, right, left) * w)
        AS = A * S[None, :]
        mu, dist = nnls(AS, gS)
        if dist > worst:
            worst, residual = float(dist), gS - AS @ mu
    return worst, residual


def _flat_directions(
    U, V, Z, f, dead
) -> tuple[list[np.ndarray], list[tuple[int, ...]]]:
    """Directions along which ``L_n`` is constant at (U, V), and the groups of merged
    units.
    """
    m, k = U.shape
    d = V.shape[1]
    p = m * k + k * d
    flat, merged = [], []

    def unit_coords(i):
        return np.concatenate([np.arange(m) * k + i, m * k + i * d + np.arange(d)])

    for i in dead:
        for c in unit_coords(i):
            e = np.zeros(p)
            e[c] = 1.0
            flat.append(e)
    live = [i for i in range(k) if i not in dead]
    if f.degree == 1.0:
        # piecewise linear: group the live units by activation pattern; a group enters
        # the loss only through M = sum_g u_g v_g^T, so the kernel of the Jacobian of
        # (u_g, v_g)_g -> M is flat
        groups: dict[bytes, list[int]] = {}
        for i in live:
            groups.setdefault(
                np.sign(Z[i]).astype(np.int8).tobytes() if f.kinks else b"", []
            ).append(i)
        for units in groups.values():
            if len(units) > 1:
                merged.append(tuple(units))
            coords = np.concatenate([unit_coords(i) for i in units])
            J = np.zeros((m * d, coords.size))  # d vec(M) / d (u_g, v_g)
            col = 0
            for i in units:
                for a in range(m):  # d M / d U[a, i] = e_a v_i^T
                    J[a * d : (a + 1) * d, col] = V[i]
                    col += 1
                for b in range(d):  # d M / d V[i, b] = u_i e_b^T
                    J[np.arange(m) * d + b, col] = U[:, i]
                    col += 1
            _, s, Wt = np.linalg.svd(J, full_matrices=True)
            rank = int(
                np.sum(
                    s
                    > 1e-10 * max(float(s[0]) if s.size else 0.0, np.finfo(float).tiny)
                )
            )
            for row in Wt[rank:]:
                e = np.zeros(p)
                e[coords] = row
                flat.append(e)
    elif f.positively_homogeneous and f.degree > 0:
        for i in live:  # the rescaling (c^-p u_i, c v_i)
            e = np.zeros(p)
            e[np.arange(m) * k + i] = -f.degree * U[:, i]
            e[m * k + i * d + np.arange(d)] = V[i]
            if np.any(e):
                flat.append(e / np.linalg.norm(e))
    return flat, merged


def _best_decrease(U, V, X, Y, f, direction, loss) -> float:
    """The largest ``loss - L_n(theta + t direction)`` over ``t = ||theta|| 2^-i``, i =
    0..50 (unit direction).
    """
    m, k = U.shape
    theta = np.concatenate([U.ravel(), V.ravel()])
    norm = float(np.linalg.norm(direction))
    if norm == 0:
        return 0.0
    direction = direction / norm
    best = 0.0
    t = max(float(np.linalg.norm(theta)), np.finfo(float).tiny)
    for _ in range(51):
        q = theta + t * direction
        best = max(
            best,
            loss
            - squared_loss(
                q[: m * k].reshape(m, k), q[m * k :].reshape(V.shape), X, Y, f
            ),
        )
        t *= 0.5
    return best


def stationary_point_report(
    network,
    X,
    Y,
    *,
    reference=None,
    activation: str | Activation | None = None,
    tol: float = 1e-7,
    gtol: float = 1e-7,
    kink_tol: float = 1e-6,
) -> StationaryPointReport:
    """Measure what kind of point of the empirical loss ``L_n`` a network is: gradient,
    loss, Hessian.

    Computes the loss, the gradient norm, the Hessian over all parameters
    (:func:`loss_hessian`, residual terms included), its smallest eigenvalue with the
    flat directions projected out, and the largest entrywise difference between that
    Hessian and central differences of :func:`loss_gradients` (the check that the
    analytic Hessian is the Hessian of the package's loss at this point).

    The flat directions, along which ``L_n`` is constant: all the ``m + d`` directions
    of a dead unit (``f(v_i . x_j) = f'(v_i . x_j) = 0`` on every sample); for f
    positively homogeneous of degree p > 0 the rescaling direction ``(delta u_i, delta
    v_i) = (-p u_i, v_i)`` of every live unit (``U f(V X)`` does not change along
    ``(c^-p u_i, c v_i)``); and for a piecewise-linear f (degree 1: ReLU, leaky ReLU,
    linear) more generally the directions that keep ``sum_g u_g v_g^T`` of each group of
    live units with one activation pattern (for a group of one unit: its rescaling
    direction, or all of ``v_i`` when ``u_i = 0``).

    The point is classified by the first rule that applies, with ``rel_res = sqrt(loss /
    loss_scale)`` and ``lambda_min = smallest_eigenvalue``, ``tau =
    eigenvalue_tolerance``:

    1. ``rel_res <= tol``: "global minimum" (``L_n >= 0`` and the point attains 0 to
       within ``tol``).

    If ``relative_gradient <= gtol`` (a stationary point), the second-order test:

    2. ``smallest_eigenvalue_unprojected < -tau``: "saddle" (a direction of negative
       curvature);
    3. a dead unit: "dead unit" (flat in the dead unit's directions;
       ``lambda_min > tau`` then shows a non-strict local minimum);
    4. a group of merged units: "merged units" (flat along the merged directions;
       ``lambda_min > tau`` shows a non-strict local minimum);
    5. ``lambda_min <= tau``: "degenerate" (the second-order test is inconclusive);
    6. ``loss > reference_loss``: "spurious local minimum" (a strict local minimum up to
       the flat directions, with a loss above the truth's);
    7. otherwise "local minimum".

    Otherwise (the gradient is not small):

    8. samples on a kink of a live unit (``kink_pairs > 0``) and ``kink_slope <= gtol``:
       "kink" (``L_n`` is not differentiable there and every one-sided directional
       derivative is >= 0: no first-order descent direction, and the smooth second-order
       test does not apply);
    9. otherwise "plateau": a first-order descent direction exists (minus the gradient,
       or at a kink minus the projection residual of the worst side);
       ``descent_decrease`` reports the decrease measured along it.

    Rules 2-7 describe a neighbourhood of the point when ``kink_margin > 0``: there
    ``L_n`` is smooth (a polynomial for ReLU) and the finite-difference error is at
    rounding level. The saddle test uses the whole Hessian (a flat direction need not be
    a null direction of the Hessian away from a minimum); the minimum tests use the
    projected one. They are sufficient (up to the tolerance) when, near the point, the
    loss depends on each group's parameters only through a map whose derivative is onto,
    as ``(u_g, v_g)_g -> sum_g u_g v_g`` is for ``m = 1`` and some ``u_g != 0``: the
    second-order test then applies to the loss as a function of that map's value. For
    ``m > 1`` the map of a single unit, ``(u_i, v_i) -> u_i v_i^T``, is not onto, and a
    positive ``lambda_min`` is the second-order condition only.

    Parameters
    ----------
    network : TwoLayerNetwork or tuple (U, V)
        The point: U (m, k), V (k, d).
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    reference : TwoLayerNetwork, optional
        The network to compare the loss with (the planted truth; with noisy labels its
        loss is the noise floor). Default: the reference loss is 0 (the truth's loss on
        noiseless labels).
    activation : str or Activation, optional
        Default: the network's, or ReLU for a tuple.
    tol : float
        Relative residual below which the point counts as a global minimum (``train``'s
        default tolerance).
    gtol : float
        Relative gradient (and kink slope) above which the point is not counted as
        stationary.
    kink_tol : float
        ``|cos(v_i, x_j)|`` below which sample j counts as sitting on the kink of unit
        i.

    Returns
    -------
    StationaryPointReport

    Raises
    ------
    ValueError, TypeError
        Shapes that do not match (the message names the argument), non-finite entries, a
        reference with other sizes, negative tolerances, an activation without a known
        second derivative.

    Notes
    -----
    Cost O(n (k (d + m))^2) time: the Hessian, and ``2 p`` gradient evaluations of cost
    O(n k (d + m)) each for the finite differences; plus O(p^3) for the eigenvalues,
    with p = k (d + m); at a kink ``2^s`` non-negative least-squares problems with s <=
    12 columns. Memory O(p^2 + k n).

    References
    ----------
    I. Safran, O. Shamir, "Spurious local minima are common in two-layer ReLU neural
    networks", ICML 2018 (they identify spurious local minima of the population loss by
    a second-order test of this kind); K. Fukumizu, S. Amari, "Local minima and plateaus
    in hierarchical structures of multilayer perceptrons", Neural Networks
    13(3):317-327, 2000 (the critical points made of merged units).
    """
    if isinstance(network, TwoLayerNetwork):
        U, V = np.array(network.U), np.array(network.V)
        f = network.activation if activation is None else get_activation(activation)
    elif isinstance(network, (tuple, list)) and len(network) == 2:
        U, V = network
        f = get_activation("relu" if activation is None else activation)
    else:
        raise TypeError(
            "network must be a TwoLayerNetwork or a tuple (U, V), got"
            f" {type(network).__name__}"
        )
    U, V, X, Y = _check_point(U, V, X, Y)
    for name, val in (("tol", tol), ("gtol", gtol), ("kink_tol", kink_tol)):
        if (
            isinstance(val, bool)
            or not isinstance(val, (int, float))
            or not (np.isfinite(val) and val >= 0)
        ):
            raise ValueError(f"{name} must be a non-negative number, got {val!r}")
    f2 = _second_derivative(f)
    d, n = X.shape
    m, k = U.shape
    reference_loss = 0.0
    if reference is not None:
        if not isinstance(reference, TwoLayerNetwork):
            raise TypeError(
                f"reference must be a TwoLayerNetwork, got {type(reference).__name__}"
            )
        if reference.V.shape[1] != d or reference.U.shape[0] != m:
            raise ValueError(
                f"reference must map R^{d} to R^{m} like the data, got U"
                f" {reference.U.shape} and V {reference.V.shape}"
            )
        reference_loss = squared_loss(
            np.asarray(reference.U), np.asarray(reference.V), X, Y, reference.activation
        )
    loss, gU, gV = loss_gradients(U, V, X, Y, f)
    loss_scale = max(float(np.vdot(Y, Y)) / (2 * n), np.finfo(float).tiny)
    gradient_norm = float(np.sqrt(np.vdot(gU, gU) + np.vdot(gV, gV)))
    to_relative = float(np.sqrt(np.vdot(U, U) + np.vdot(V, V))) / loss_scale
    relative_gradient = gradient_norm * to_relative
    H = _hessian(U, V, X, Y, f, f2)
    Z = V @ X
    dead = tuple(
        int(i)
        for i in range(k)
        if not np.any(f.value(Z[i])) and not np.any(f.derivative(Z[i]))
    )
    live = [i for i in range(k) if i not in dead]
    # kinks: only activations whose single kink is at 0 are examined (ReLU, leaky ReLU,
    # squared ReLU, step)
    kink_margin, pairs = np.inf, []
    if f.kinks == (0.0,) and live:
        tiny = np.finfo(float).tiny
        cos = np.abs(Z[live]) / (
            np.maximum(np.linalg.norm(V[live], axis=1), tiny)[:, None]
            * np.maximum(np.linalg.norm(X, axis=0), tiny)[None, :]
        )
        kink_margin = float(np.min(cos))
        pairs = [(live[a], int(j)) for a, j in zip(*np.nonzero(cos <= kink_tol))]
    # the finite-difference step: no sample may cross a kink (then, for ReLU, the loss
    # is a polynomial of degree 2 in each coordinate between -h and h and central
    # differences are exact up to rounding)
    h = 1e-6 * max(1.0, float(np.max(np.abs(U))), float(np.max(np.abs(V))))
    if f.kinks:
        zmargin = float(
            np.min(np.abs(Z[:, :, None] - np.array(f.kinks)[None, None, :]))
        )
        if zmargin > 0:
            h = min(
                h, 0.25 * zmargin / max(float(np.max(np.abs(X))), np.finfo(float).tiny)
            )
    fd_error = float(np.max(np.abs(H - _finite_difference_hessian(U, V, X, Y, f, h))))
    flat, merged = _flat_directions(U, V, Z, f, dead)
    p = H.shape[0]
    basis = np.eye(p)
    n_flat = 0
    if flat:
        Qf, s, _ = np.linalg.svd(np.array(flat).T, full_matrices=True)
        n_flat = int(np.sum(s > 1e-10))
        basis = Qf[:, n_flat:]
    lam_all = float(np.linalg.eigvalsh(H)[0])
    lam_min = lam_max = 0.0
    if basis.shape[1]:
        eig = np.linalg.eigvalsh(basis.T @ H @ basis)
        lam_min, lam_max = float(eig[0]), float(eig[-1])
    eig_tol = p * fd_error + 100 * np.finfo(float).eps * max(
        abs(lam_max), abs(lam_min), abs(lam_all)
    )
    kink_slope, descent = None, None
    direction = -np.concatenate([gU.ravel(), gV.ravel()])
    if pairs and len(pairs) <= 12:
        kink_slope, residual = _kink_slope(U, V, X, Y, f, pairs)
        kink_slope *= to_relative
        direction = -residual
    if np.sqrt(loss / loss_scale) <= tol:
        kind = "global minimum"
    elif relative_gradient <= gtol:
        if lam_all < -eig_tol:
            kind = "saddle"
        elif dead:
            kind = "dead unit"
        elif merged:
            kind = "merged units"
        elif lam_min <= eig_tol:
            kind = "degenerate"
        elif loss > reference_loss:
            kind = "spurious local minimum"
        else:
            kind = "local minimum"
    elif pairs and kink_slope is not None and kink_slope <= gtol:
        kind = "kink"
    else:
        kind = "plateau"
        descent = _best_decrease(U, V, X, Y, f, direction, loss) / loss_scale
    return StationaryPointReport(
        kind,
        float(loss),
        float(reference_loss),
        loss_scale,
        gradient_norm,
        relative_gradient,
        lam_min,
        lam_all,
        lam_max,
        n_flat,
        float(eig_tol),
        fd_error,
        dead,
        tuple(merged),
        len(pairs),
        kink_margin,
        kink_slope,
        descent,
        p,
    )
