"""The local least-squares estimate: Levenberg-Marquardt on ``||Y - U f(V X)||_F^2``
from a given start.

Under labels ``Y = U* f(V* X) + E`` with i.i.d. Gaussian noise, the global minimiser of
the squared loss is the maximum-likelihood estimate; started at (or near) the truth, a
local method is expected to end at the local minimiser in the truth's basin (observed on
planted instances; not proved for a loss with kinks). :func:`local_least_squares`
computes it. It is the last step of :func:`relulearn.recover_noisy` (started from the
moment estimates) and, started at the truth, the reference ("oracle") that the chapters
and ``bench/noise.py`` draw for every noisy learner: a reference, not a proven bound (an
estimate can land closer to the truth).

The model's Jacobian is cheap: with ``z = V x``, ``h = f(z)`` and ``D = f'(z)``, the
derivative of ``U f(V x)`` is ``h_i`` in ``U[j, i]`` and ``U[j, i] D_i x`` in row i of
V. The Gauss-Newton matrix ``J^T J`` therefore has three blocks, each a sum over samples
that is streamed over chunks:

* ``(U, U)``: ``I_m (x) sum h h^T``;
* ``(U, V)``: ``U[j, l] sum h_i D_l x``;
* ``(V, V)``: ``(U^T U)[l, l'] sum D_l D_l' x x^T``;

so no n-by-parameters Jacobian is ever held: the memory beyond X and Y is O(p^2) for the
p = k (d + m) parameters plus chunk-sized scratch, and for ReLU-like activations the k
signs of each sample (k bytes per sample, so that the V-V block is updated only where
signs changed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs, dtrtrs

from ._linalg import relative_residual
from ._streaming import CACHE_CHUNK_BYTES, chunks
from ._validation import as_matrix, check_int, check_samples
from .activations import Activation, get_activation
from .network import TwoLayerNetwork
from .sign_patterns import sign_pattern_gram

__all__ = ["LeastSquaresFit", "local_least_squares"]


@dataclass(frozen=True, repr=False, eq=False)
class LeastSquaresFit:
    """The result of :func:`local_least_squares`.

    Attributes
    ----------
    network : TwoLayerNetwork
        The local minimiser reached (canonical, with unit rows of V, for a positively
        homogeneous activation).
    residual : float
        ``||Y - net(X)||_F / ||Y||_F`` at ``network``.
    iterations : int
        Levenberg-Marquardt iterations (each one Gauss-Newton matrix and at least one
        trial step).
    converged : bool
        Whether a stopping rule other than ``max_iter`` ended the iteration.
    stop_reason : str
        "exact fit" (residual below ``tol``), "converged" (the loss stopped decreasing:
        relative decrease below ``ftol``), "stationary" (no step of any damping
        decreases the loss), or "max_iter".
    history : tuple of float
        The relative residual before the first iteration and after each accepted step
        (non-increasing).
    """

    network: TwoLayerNetwork
    residual: float
    iterations: int
    converged: bool
    stop_reason: str
    history: tuple[float, ...]

    def __repr__(self) -> str:
        return (
            f"LeastSquaresFit(residual={self.residual:.3e},"
            f" iterations={self.iterations},"
            f" stop_reason={self.stop_reason!r}, k={self.network.n_hidden})"
        )


def local_least_squares(
    X,
    Y,
    start,
    *,
    activation: str | Activation | None = None,
    max_iter: int = 200,
    ftol: float = 1e-12,
    tol: float = 1e-14,
) -> LeastSquaresFit:
    """Nonlinear least squares from a given start: Levenberg-Marquardt on
    ``||Y - U f(V X)||_F^2`` over (U, V).

    Each iteration forms the Gauss-Newton matrix ``J^T J`` and the gradient ``J^T r``
    (streamed over chunks of samples, never the n-by-p Jacobian), solves ``(J^T J + lam
    diag(J^T J)) delta = J^T r`` (Marquardt's scaling, so the step does not depend on
    the scale of the parameters; the damping also absorbs the k directions ``(c u_i, v_i
    / c)`` along which a positively homogeneous model does not change), and keeps the
    step if the loss decreases; the damping follows Nielsen's rule. Started near the
    truth it is expected to reach the local least-squares estimate in the truth's basin
    (observed, not proved: the loss has kinks); started at the truth it gives the
    reference error of ``bench/noise.py`` and of chapters 4 and 8.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    start : TwoLayerNetwork or tuple (U0, V0)
        Starting point: U0 (m, k), V0 (k, d).
    activation : str or Activation, optional
        The activation (it needs a derivative). Default: the start's if it is a network,
        else ReLU.
    max_iter : int
        Maximum iterations.
    ftol : float
        Stop when an accepted step decreases the loss by less than ``ftol`` times the
        loss.
    tol : float
        Stop when the relative residual ``||Y - net(X)||_F / ||Y||_F`` falls below
        ``tol`` (an exact fit).

    Returns
    -------
    LeastSquaresFit

    Raises
    ------
    ValueError, TypeError
        Bad shapes or dtypes, non-finite entries, a start whose sizes do not match the
        data, bad tolerances.

    See Also
    --------
    relulearn.train
        First-order descent (Adam or gradient descent) on the same loss; it needs no
        p x p solve and handles very many parameters, but converges linearly at best,
        where this converges quadratically to a non-degenerate minimiser with zero
        residual and fast (linearly with a small rate) with a small residual.

    Notes
    -----
    Cost per iteration O(n k^2 d^2 + n m k (k + d)) for the Gauss-Newton matrix, O(p^3)
    for the solve with p = k (d + m), and O(n k (d + m)) per trial step; memory O(p^2 +
    chunk k d) beyond X and Y, plus k bytes per sample for a degree-1 activation.

    References
    ----------
    K. Levenberg, "A method for the solution of certain non-linear problems in least
    squares", Quarterly of Applied Mathematics 2(2):164-168, 1944; D. W. Marquardt, "An
    algorithm for least-squares estimation of nonlinear parameters", Journal of the
    Society for Industrial and Applied Mathematics 11(2):431-441, 1963; H. B. Nielsen,
    "Damping parameter in Marquardt's method", Technical report IMM-REP-1999-05,
    Technical University of Denmark, 1999 (the damping update).
    """
    X, Y = check_samples(X, Y)
    if isinstance(start, TwoLayerNetwork):
        U0, V0 = np.array(start.U), np.array(start.V)
        act = start.activation if activation is None else get_activation(activation)
    elif isinstance(start, (tuple, list)) and len(start) == 2:
        U0, V0 = (
            as_matrix("start[0] (U0)", start[0]),
            as_matrix("start[1] (V0)", start[1]),
        )
        act = get_activation("relu" if activation is None else activation)
    else:
        raise TypeError(
            "start must be a TwoLayerNetwork or a tuple (U0, V0), got"
            f" {type(start).__name__}"
        )
    d, m = X.shape[0], Y.shape[0]
    if V0.shape[1] != d or U0.shape != (m, V0.shape[0]):
        raise ValueError(
            f"start has U0 {U0.shape} and V0 {V0.shape}; the data need U0 (m, k) ="
            f" ({m}, k) and V0 (k, d) = (k, {d})"
        )
    max_iter = check_int("max_iter", max_iter)
    for name, val in (("ftol", ftol), ("tol", tol)):
        if (
            isinstance(val, bool)
            or not isinstance(val, (int, float))
            or not (np.isfinite(val) and val >= 0)
        ):
            raise ValueError(f"{name} must be a non-negative number, got {val!r}")
    return levenberg_marquardt(X, Y, U0, V0, act, max_iter, float(ftol), float(tol))


# Marquardt's damping scales each parameter's step by 1/(1 + lam): beyond 1e16 a step
# cannot move any parameter by more than round-off, so a start that rejects every step
# up to there is stationary (and lam would otherwise grow to overflow).
_MAX_DAMPING = 1e16


def levenberg_marquardt(X, Y, U, V, act, max_iter, ftol, tol) -> LeastSquaresFit:
    """:func:`local_least_squares` on checked data (inner step of the learners).

    Same cost.
    """
    y2 = max(float(np.vdot(Y, Y)), np.finfo(float).tiny)
    U, V = np.array(U, dtype=float), np.array(V, dtype=float)
    loss = _loss(X, Y, U, V, act)
    history = [np.sqrt(loss / y2)]
    lam, nu = 1e-3, 2.0
    stop, it = "max_iter", 0
    model = None
    if history[-1] <= tol:
        stop = "exact fit"
    while stop == "max_iter" and it < max_iter:
        it += 1
        model = _QuadraticModel(X, Y, U, V, act, model)
        accepted = False
        for _trial in range(60):
            # the step is below round-off of every parameter: nothing left to gain
            if lam > _MAX_DAMPING:
                break
            step = model.damped_step(lam)
            if step is None:
                lam *= nu
                nu *= 2.0
                continue
            dU, dV = step
            Un, Vn = U + dU, V + dV
            new = _loss(X, Y, Un, Vn, act)
            predicted = model.decrease(dU, dV)
            if np.isfinite(new) and new < loss and predicted > 0:
                # the model is of half the squared error
                rho = 0.5 * (loss - new) / predicted
                lam *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
                nu = 2.0
                accepted = True
                break
            lam *= nu
            nu *= 2.0
        if not accepted:
            stop = "stationary"
            break
        decrease = (loss - new) / loss
        U, V, loss = Un, Vn, new
        # rebalance to unit rows of V (the loss does not change)
        if act.positively_homogeneous:
            norms = np.linalg.norm(V, axis=1)
            if np.all(norms > 0):
                V = V / norms[:, None]
                U = U * norms[None, :] ** act.degree
        history.append(np.sqrt(loss / y2))
        if history[-1] <= tol:
            stop = "exact fit"
        elif decrease < ftol:
            stop = "converged"
    net = TwoLayerNetwork(U, V, act)
    if act.positively_homogeneous and np.all(np.linalg.norm(V, axis=1) > 0):
        net = net.canonical()
    residual = relative_residual(X, Y, np.asarray(net.U), np.asarray(net.V), act)
    return LeastSquaresFit(
        net, residual, it, stop != "max_iter", stop, tuple(float(h) for h in history)
    )


def _loss(X, Y, U, V, act) -> float:
    """``||Y - U f(V X)||_F^2``, streamed."""
    n = X.shape[1]
    r2 = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for sl in chunks(n, 2 * (V.shape[0] + Y.shape[0]), CACHE_CHUNK_BYTES):
            R = Y[:, sl] - U @ act.value(V @ X[:, sl])
            r2 += float(np.vdot(R, R))
    return r2 if np.isfinite(r2) else np.inf


class _QuadraticModel:
    """The local quadratic model of ``L = ||Y - U f(V X)||_F^2 / 2`` at (U, V), and its
    damped minimiser.

    The curvature is the Gauss-Newton matrix ``J^T J``, plus for a piecewise-linear
    activation (degree 1: ReLU, leaky ReLU, for which f'' = 0 off the kinks) the
    residual term ``-sum r_j d^2 yhat_j``, whose only entries couple ``U[j, i]`` with
    row i of V: then it is the exact Hessian between kinks. Its blocks (one streamed
    pass):

    * ``(U_j, U_j)``: ``K = sum h h^T``, the same for every output j (no coupling
      between outputs);
    * ``(U_j, V)``: ``M_j[i, (l, a)] = U[j, l] sum h_i D_l x_a - [i = l] sum r_j D_i
      x_a``;
    * ``(V, V)``: ``(U^T U)[l, l'] sum D_l D_l' x_a x_a'``.

    The damped system is solved by eliminating U (its block is ``I_m (x) K``): a (k
    d)-dimensional solve. For a positively homogeneous activation, ``(p u_i, -v_i)``
    leaves the model unchanged; the step moves each v_i only along its sphere (radial
    moves get the mean diagonal curvature as penalty; the gradient has no component
    along the invariant direction, and U absorbs the scale).
    """

    def __init__(self, X, Y, U, V, act, previous=None):
        d, n = X.shape
        m, k = U.shape
        kd = k * d
        K = np.zeros((k, k))
        # rows i < k: S[i, (l, a)] = sum h_i D_l x_a; rows k + j: sum r_j D_l x_a
        B = np.zeros((k + m, kd))
        # G[(l, a), (l', a')] = sum D_l D_l' x_a x_a'. For degree 1 (f' = f'(1) on z >
        # 0, f'(-1) on z < 0) it depends only on the signs of V X: it is updated on the
        # samples whose signs changed since the previous model (few, near a minimum) and
        # kept with the signs in ``self.signs`` (k bytes per sample).
        by_sign = act.degree == 1.0
        if by_sign:
            slopes = act.derivative(np.array([-1.0, 1.0]))
        # the first G of a ReLU model with many weights per unit pair: summed per sign
        # pattern (one d x d Gram per pattern, O(n d^2 + 2^k (k d)^2) instead of O(n (k
        # d)^2); measured slower below k d of about 100)
        by_pattern = (
            act.name == "relu"
            and previous is None
            and kd * kd > 8 * (d * d + 2000)
            and 2**k <= n // 4
        )
        if by_sign and previous is not None:
            G, signs = previous.G.copy(), previous.signs
        elif by_pattern:
            G, signs = (
                sign_pattern_gram(X, Y, V, np.ones(n), -1.0)[0],
                np.empty((k, n), dtype=bool),
            )
        else:
            G, signs = (
                np.zeros((kd, kd)),
                (np.empty((k, n), dtype=bool) if by_sign else None),
            )
        for sl in chunks(n, 2 * kd + 3 * k + 3 * m + d, CACHE_CHUNK_BYTES):
            Xc = X[:, sl]
            Z = V @ Xc
            H = act.value(Z)
            HR = np.concatenate([H, Y[:, sl] - U @ H])
            Zx = (act.derivative(Z)[:, None, :] * Xc[None, :, :]).reshape(kd, -1)
            B += HR @ Zx.T
            K += H @ HR[:k].T
            if by_sign and previous is not None:
                pos = Z > 0
                changed = np.flatnonzero(np.any(pos != signs[:, sl], axis=0))
                # many changed: the full sum is cheaper
                if 4 * changed.size > Zx.shape[1]:
                    G -= previous.chunk_gram(X, sl, slopes)
                    G += Zx @ Zx.T
                elif changed.size:
                    old = (
                        np.where(signs[:, sl][:, changed], slopes[1], slopes[0])[
                            :, None, :
                        ]
                        * Xc[None, :, changed]
                    ).reshape(kd, -1)
                    new = Zx[:, changed]
                    G += new @ new.T - old @ old.T
                signs[:, sl] = pos
            else:
                if not by_pattern:
                    G += Zx @ Zx.T
                if by_sign:
                    signs[:, sl] = Z > 0
        self.G, self.signs = G, signs
        gUt = (
            (B[k:].reshape(m, k, d) * V[None, :, :]).sum(axis=2).T
            if act.degree == 1.0
            else None
        )
        S = B[:k].reshape(k, k, d)
        C = B[k:].reshape(m, k, d)
        # Mt[i, j, (l, a)] = (U_j, V) block, row i (rows of one output j are coupled
        # through K only)
        Mt = S[:, None, :, :] * U[None, :, :, None]
        if act.degree == 1.0:
            idx = np.arange(k)
            Mt[idx, :, idx, :] -= C.transpose(1, 0, 2)
        self.Mt = Mt.reshape(k, m, kd)
        self.HVV = ((U.T @ U)[:, None, :, None] * G.reshape(k, d, k, d)).reshape(kd, kd)
        self.shape = (m, k, d)
        self.K = K
        # minus the gradient: in U, sum r_j h_i (for degree 1, h_i = D_i v_i . x, so it
        # is C contracted with V)
        if gUt is None:
            gUt = np.zeros((k, m))
            for sl in chunks(n, 2 * k + 2 * m + d, CACHE_CHUNK_BYTES):
                H = act.value(V @ X[:, sl])
                gUt += H @ (Y[:, sl] - U @ H).T
        self.gUt = gUt  # (k, m)
        self.gV = np.einsum("ji,jia->ia", U, C).ravel()
        dK = np.diag(K)
        self.dK = np.maximum(dK, 1e-12 * max(float(dK.max()), np.finfo(float).tiny))
        dV = np.diag(self.HVV)
        self.dV = np.maximum(dV, 1e-12 * max(float(dV.max()), np.finfo(float).tiny))
        self.fixed = self.HVV
        if act.positively_homogeneous and act.degree > 0:
            Vh = V / np.maximum(
                np.linalg.norm(V, axis=1, keepdims=True), np.finfo(float).tiny
            )
            self.fixed = self.HVV.copy()
            idx = np.arange(k)
            self.fixed.reshape(k, d, k, d)[idx, :, idx, :] += float(
                np.mean(self.dV)
            ) * (Vh[:, :, None] * Vh[:, None, :])

    def chunk_gram(self, X, sl, slopes):
        """This model's G summed over the samples ``sl`` only (from its stored
        signs).
        """
        _m, k, d = self.shape
        Zx = (
            np.where(self.signs[:, sl], slopes[1], slopes[0])[:, None, :]
            * X[None, :, sl]
        ).reshape(k * d, -1)
        return Zx @ Zx.T

    def damped_step(self, lam):
        """The minimiser of the model plus ``lam/2 sum scale_p delta_p^2`` (Marquardt),
        as (dU, dV); None if the damped curvature is not positive definite.
        """
        m, k, d = self.shape
        A = self.K.copy()
        A.flat[:: k + 1] += lam * self.dK
        L, info = dpotrf(A, lower=1)
        if info != 0:
            return None
        W, _ = dtrtrs(L, self.Mt.reshape(k, m * k * d), lower=1)  # L^-1 M_j for every j
        w, _ = dtrtrs(L, self.gUt, lower=1)  # L^-1 g_j
        W = W.reshape(k * m, k * d)
        Sch = self.fixed - W.T @ W
        Sch.flat[:: k * d + 1] += lam * self.dV
        cS, info = dpotrf(Sch)
        if info != 0:
            return None
        dV, _ = dpotrs(cS, self.gV - W.T @ w.ravel())
        dUt, _ = dpotrs(L, self.gUt - self.Mt @ dV, lower=1)
        if not (np.all(np.isfinite(dUt)) and np.all(np.isfinite(dV))):
            return None
        return dUt.T, dV.reshape(k, d)

    def decrease(self, dU, dV):
        """The decrease of the (undamped) model for the step:
        ``delta . g - delta^T H delta / 2``.
        """
        dv = dV.ravel()
        dUt = dU.T
        quad = (
            float(np.vdot(self.K @ dUt, dUt))
            + 2.0 * float(np.vdot(dUt, self.Mt @ dv))
            + float(dv @ self.HVV @ dv)
        )
        return float(np.vdot(dUt, self.gUt) + dv @ self.gV) - 0.5 * quad
