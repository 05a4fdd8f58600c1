"""The baseline every chapter compares against: gradient training of ``U f(V X)`` on the squared loss.

The loss is ``L(U, V) = ||U f(V X) - Y||_F^2 / (2 n)`` with the analytic gradients

* ``dL/dU = R f(V X)^T / n`` and
* ``dL/dV = ((U^T R) * f'(V X)) X^T / n``, where ``R = U f(V X) - Y``.

Two methods: ``"adam"`` (Kingma and Ba 2015) with a learning rate halved on plateaus, and
``"gd"``, full-batch gradient descent with a backtracking (Armijo) step, or plain SGD with a fixed
step when ``batch_size`` is set.  Both stop when the relative residual ``||R||_F / ||Y||_F`` falls
below ``tol``, when the step has shrunk 10^4-fold without progress ("stalled"), or after
``max_iter`` iterations (epochs for minibatches).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._progress import progress_bar
from ._validation import as_matrix, check_int, check_learner_input, precision_tol, rng_from
from .activations import Activation, get_activation
from .certificates import exact_fit_status
from .network import TwoLayerNetwork
from .recovery import ConvergenceWarning, Recovery, learner_contract

__all__ = ["loss_gradients", "squared_loss", "train"]


def squared_loss(U: np.ndarray, V: np.ndarray, X: np.ndarray, Y: np.ndarray, activation="relu") -> float:
    """``||U f(V X) - Y||_F^2 / (2 n)``. Cost O(n k (d + m))."""
    f = get_activation(activation)
    R = U @ f(V @ X) - Y
    return float(np.vdot(R, R) / (2 * X.shape[1]))


def loss_gradients(U, V, X, Y, activation="relu"):
    """Loss and its gradients ``(L, dL/dU, dL/dV)`` for the squared loss. Cost O(n k (d + m))."""
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
                raise TypeError("init must be a TwoLayerNetwork or a pair (U0, V0)") from None
            U0 = as_matrix("init U0", U0).copy()
            V0 = as_matrix("init V0", V0).copy()
        if U0.shape != (m, k) or V0.shape != (k, d):
            raise ValueError(f"init must have U0 of shape {(m, k)} and V0 of shape {(k, d)}, got {U0.shape} and {V0.shape}")
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
        Randomness of the initialisation and of the minibatches.
    on_failure : {"raise", "return"}
        What a failed result (non-finite loss) does: raise :class:`~relulearn.RecoveryFailed`, or return it.
    progress : bool
        Show a tqdm progress bar.
    method : {"adam", "gd"}
        Adam, or gradient descent (backtracking full batch; fixed-step SGD with ``batch_size``).
    activation : str or Activation
        The network's activation.
    init : TwoLayerNetwork or (U0, V0), optional
        Starting point. Default: V0 with i.i.d. N(0, 1/d) entries and U0 the least-squares
        output layer for it. (To refine a given start to its local least-squares fit,
        :func:`relulearn.local_least_squares` is the second-order alternative: see below.)
    lr : float, optional
        Step size. Defaults: Adam 0.01; full-batch gd 1.0 (initial backtracking step); SGD 0.01.
    max_iter : int
        Maximum iterations (epochs when ``batch_size`` is set).
    batch_size : int, optional
        Minibatch size; ``None`` for full batch.
    tol : float
        Stop when the relative residual ``||U f(VX) - Y||_F / ||Y||_F < tol`` (for float32 data at least
        100 times float32's machine epsilon).
    patience : int
        Iterations without a 0.1% improvement of the loss before the step is halved.
    train_U : bool
        If False, U stays at its initial value (it must then be given by ``init``).

    Returns
    -------
    Recovery
        ``network``; ``residual`` = ``||U f(VX) - Y||_F / ||Y||_F``; ``history`` = the loss
        ``||R||_F^2 / (2n)`` after each iteration; ``details`` with ``iterations``,
        ``stop_reason`` ("converged", "stalled", "max_iter" or "diverged") and ``converged``;
        ``status`` certified when it converged (residual below ``tol``) on more than 2 k (d + m) distinct
        samples (an exact fit is then the evidence), failed when the loss became non-finite, unverified
        otherwise (a :class:`~relulearn.ConvergenceWarning` is emitted when it stopped without
        converging).

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite data, k not an int in [1, d], unknown method.

    See Also
    --------
    relulearn.local_least_squares : the package's local refiner, Levenberg-Marquardt on the same loss (without
        minibatches). From the same start both head for the same local minimiser; it takes a few dozen
        iterations of cost O(n k^2 d (d + m)) plus a (k (d + m))^2 system where this takes hundreds to thousands
        of cheaper ones, and it stops at the minimiser instead of stalling near it; this scales to many
        parameters and minibatches, and reports the loss history of a first-order method.

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
    mU, vU, mV, vV = (np.zeros_like(U), np.zeros_like(U), np.zeros_like(V), np.zeros_like(V))
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
            batches = [slice(None)] if batch_size is None else np.array_split(gen.permutation(n), max(n // batch_size, 1))
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
                        U = U - lr * (mU / (1 - b1**t)) / (np.sqrt(vU / (1 - b2**t)) + eps)
                else:
                    V = V - lr * bgV
                    if train_U:
                        U = U - lr * bgU
            L, gU, gV = loss_gradients(U, V, X, Y, f)
            if not (np.isfinite(L) and np.all(np.isfinite(U)) and np.all(np.isfinite(V))):
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
    details = {"iterations": len(history), "stop_reason": stop_reason, "converged": stop_reason == "converged"}
    if stop_reason == "diverged":
        return Recovery(None, np.inf, status="failed", n_samples_used=n, history=np.asarray(history),
                        reason=f"the loss became non-finite after {len(history)} iterations (lr={lr0:g} too large?)",
                        details=details)
    net = TwoLayerNetwork(U, V, f)
    residual = float(np.sqrt(2 * n * L / max(float(np.vdot(Y, Y)), np.finfo(float).tiny)))
    status, reason = exact_fit_status(X, net, residual, tol)
    if stop_reason != "converged":
        reason = f"stopped ({stop_reason}) after {len(history)} iterations with residual {residual:.1e} > tol {tol:.0e}"
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
