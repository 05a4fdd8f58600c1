"""Recovery from noisy labels ``Y = U* relu(V* X) + E`` (E mean-zero, independent of X), Gaussian inputs.

Why the chapter-3 route needs changing, and what replaces it (spec ``recovery_gaussian.md`` §5):

* The moments ``M1 = E[y x^T]`` and ``T2 = E[y (x) (x x^T - I)]`` stay *unbiased*: ``E[e x^T] = 0`` and
  ``E[e (x) (x x^T - I)] = 0`` when e is mean-zero and independent of x. So the moment estimate (Jennrich,
  scales, signs) still works, with an error of order 1/sqrt(n).
* The exact step does not: the row span of ``Y`` is no longer that of ``relu(V* X)`` (E adds m - k noise
  directions and tilts the k signal ones), so no vector of the span vanishes exactly on a zero set.
* Instead, :func:`relulearn.lowrank.sign_pattern_regression` fits the blocks ``W_i = u_i v_i^T`` by least
  squares with the sign patterns fixed on the samples where every unit is confidently signed. The selection
  depends on X only, so the noise stays mean-zero on the selected samples and the fit is unbiased once the
  patterns are right: its error falls like 1/sqrt(n), as in any parametric regression.
* Then ``U = Y relu(V X)^+`` (least squares over all samples), and a few rounds of
  :func:`alternating_refinement` (V given U with the patterns frozen, then U) use the rank-one structure of
  the blocks.

Everything streams over chunks of samples: the memory beyond X and Y is chunk-sized scratch plus two floats
per sample. The moment step here is a streamed variant of :func:`relulearn.exact.moment_estimate` (it takes the
span from T2 rather than M1, so it also serves m < k, and scores several Jennrich draws by their fit).

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks in polynomial
   time", Proceedings of the 32nd Conference on Learning Theory (COLT), PMLR 99:195-268, 2019
   (spec ``recovery_gaussian.md`` §5).
"""

from __future__ import annotations

import numpy as np

from ._progress import progress_bar
from ._validation import check_int, check_learner_input, check_samples, precision_tol, rng_from
from .certificates import cross_fit_certificate, exact_fit_status
from .lowrank import (
    _check_tau,
    _chunks,
    _column_norms,
    _moment_estimate,
    _normal_equations,
    _regress,
    _scales_and_signs,
    _second_moments,
    _separate_duplicates,
    _solve_spd,
    _span_from_T2,
)
from .network import TwoLayerNetwork
from .recovery import Recovery, RecoveryFailed, learner_contract
from .tensors import jennrich

__all__ = ["alternating_refinement", "fit_output_layer", "recover_noisy"]


def _moment_step(X, Y, k, gen, n_draws):
    """The moment estimate (spec §3 steps 1-3), streamed: a list of (U~ (m, k), V (k, d)) candidates, best first.

    m >= k: the span P of the rows of V* from T2, then Jennrich (:func:`relulearn.tensors.jennrich`) on the
    projected ``P^T T2[r] P`` (k x k slices, contracted in the output mode), one candidate per random draw,
    ordered by how well its components fit; scales from T2 and signs from M1. m < k: the candidates of the
    low-rank route (:func:`relulearn.lowrank.low_rank_moment_estimate`). Unbiased under mean-zero noise
    independent of X. Cost O(n m d^2 + m d^3 + n_draws m k^3).
    """
    _, M1, T2 = _second_moments(X, Y)
    m, _d = M1.shape
    if m < k:
        est = _moment_estimate(X, Y, k, M1, T2, gen, 2 * n_draws)
        return [(est.U, est.V)] + [_scales_and_signs(V, M1, T2) for V in est.candidates[1:]]
    # project onto the k-dimensional span first (removes the noise outside it), then Jennrich there;
    # each random draw is scored by how well its components fit the projected T2
    P = _span_from_T2(T2, k)
    T2p = np.einsum("da,rde,eb->rab", P, T2, P)
    R = T2p.reshape(m, k * k).T
    draws = []
    for _ in range(n_draws):
        res = jennrich(lambda g: np.einsum("r,rab->ab", g, T2p), m, k, rng=gen, n_draws=1)
        B = _separate_duplicates(res.components.T, np.eye(k))
        A = np.einsum("ia,ib->abi", B, B).reshape(k * k, k)
        draws.append((float(np.linalg.norm(R - A @ np.linalg.lstsq(A, R, rcond=None)[0])), B))
    draws.sort(key=lambda t: t[0])
    out = []
    for _, B in draws:
        V = B @ P.T
        out.append(_scales_and_signs(V / np.linalg.norm(V, axis=1, keepdims=True), M1, T2))
    return out


def fit_output_layer(X, Y, V) -> np.ndarray:
    """Least-squares output weights for fixed hidden weights: ``U = Y H^T (H H^T)^{-1}``, ``H = relu(V X)``.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    V : array_like, shape (k, d)
        Hidden weights.

    Returns
    -------
    ndarray, shape (m, k)

    Raises
    ------
    ValueError, TypeError
        Bad shapes or non-finite entries.
    RecoveryFailed
        If ``H H^T`` is singular (a unit never active, or two units identical).

    Notes
    -----
    Cost O(n k (d + m + k)), streamed over chunks (memory O(k^2 + m k) beyond X and Y).

    References
    ----------
    Bakshi, Jayaram and Woodruff, COLT 2019; spec ``recovery_gaussian.md`` §3 step 5 and §5 (the last step).
    """
    X, Y = check_samples(X, Y)
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or V.shape[1] != X.shape[0] or not np.all(np.isfinite(V)):
        raise ValueError(f"V must be a finite (k, d) array with d={X.shape[0]}, got shape {V.shape}")
    return _output_layer(X, Y, V)


def _output_layer(X, Y, V):
    d, n = X.shape
    k, m = V.shape[0], Y.shape[0]
    G = np.zeros((k, k))
    B = np.zeros((m, k))
    for sl in _chunks(n, 2 * k + d + m):
        H = np.maximum(V @ X[:, sl], 0.0)
        G += H @ H.T
        B += Y[:, sl] @ H.T
    ev = np.linalg.eigvalsh(G)
    if ev[0] <= 1e-12 * max(ev[-1], np.finfo(float).tiny):
        raise RecoveryFailed("output layer: relu(V X) has (numerically) dependent rows; a unit is dead or duplicated")
    return np.linalg.solve(G, B.T).T


def alternating_refinement(X, Y, network: TwoLayerNetwork, *, n_rounds: int = 3, tau: float = 0.0) -> TwoLayerNetwork:
    """Alternating least squares with frozen sign patterns: V given U, then U given V (ReLU).

    With ``D_ij = 1[V_i . x_j > 0]`` fixed, the labels ``y_j = sum_i u_i D_ij (v_i . x_j)`` are linear in V
    for fixed U: the normal equations have blocks ``(u_i . u_l) sum_j D_ij D_lj x_j x_j^T`` (the same Gram
    matrix as :func:`relulearn.lowrank.sign_pattern_regression`, reweighted). Solving for the k d entries of
    V (instead of the k m d entries of the blocks ``W_i = u_i v_i^T``) uses the rank-one structure, so the
    estimate is less noisy; then ``U = Y relu(V X)^+``. Each round is a Gauss-Newton step of the squared loss
    with the kinks frozen.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels.
    network : TwoLayerNetwork
        Starting point (ReLU, k hidden units, input dimension d, output dimension m).
    n_rounds : int
        Rounds of (V given U, U given V).
    tau : float in [0, 1)
        Use only samples with ``min_i |V_i . x| / ||x|| > tau`` for the V step (0: all samples).

    Returns
    -------
    TwoLayerNetwork
        Unit rows of V.

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, a network of the wrong size.
    RecoveryFailed
        If a least-squares system is singular.

    Notes
    -----
    Cost O(n_rounds n k^2 d^2), streamed over chunks of samples.

    References
    ----------
    Bakshi, Jayaram and Woodruff, COLT 2019; spec ``recovery_gaussian.md`` §5 (a refinement beyond the
    spec's estimator).
    """
    X, Y = check_samples(X, Y)
    if not isinstance(network, TwoLayerNetwork):
        raise TypeError(f"network must be a TwoLayerNetwork, got {type(network).__name__}")
    if network.input_dim != X.shape[0] or network.output_dim != Y.shape[0]:
        raise ValueError(
            f"network has (d, m) = {(network.input_dim, network.output_dim)} but the data have"
            f" (d, m) = {(X.shape[0], Y.shape[0])}"
        )
    n_rounds = check_int("n_rounds", n_rounds)
    (tau,) = _check_tau(tau)
    c = network.canonical()
    xnorm = _column_norms(X)
    U, V = _alternate(X, Y, np.array(c.U), np.array(c.V), xnorm, n_rounds, tau)
    return TwoLayerNetwork(U, V, "relu")


def _alternate(X, Y, U, V, xnorm, n_rounds, tau):
    d = X.shape[0]
    k = V.shape[0]
    for r in range(n_rounds):
        G, B, _used = _normal_equations(X, Y, V, xnorm, tau)
        GV = np.kron(U.T @ U, np.ones((d, d))) * G
        rhs = np.concatenate([U[:, i] @ B[:, i * d : (i + 1) * d] for i in range(k)])
        sol = _solve_spd(GV, rhs[None, :])
        if sol is None:
            raise RecoveryFailed(f"alternating refinement: the system for V is singular in round {r + 1}")
        Vn = sol[0].reshape(k, d)
        norms = np.linalg.norm(Vn, axis=1)
        if np.any(norms == 0):
            raise RecoveryFailed(f"alternating refinement: a hidden unit vanished in round {r + 1}")
        V = Vn / norms[:, None]
        U = _output_layer(X, Y, V)
    return U, V


def _residual(X, Y, U, V) -> tuple[float, float]:
    """(||Y - U relu(V X)||_F / ||Y||_F, RMS of the residual's entries), streamed."""
    n = X.shape[1]
    r2 = y2 = 0.0
    for sl in _chunks(n, 2 * (V.shape[0] + Y.shape[0])):
        R = Y[:, sl] - U @ np.maximum(V @ X[:, sl], 0.0)
        r2 += float((R * R).sum())
        y2 += float((Y[:, sl] ** 2).sum())
    return float(np.sqrt(r2 / max(y2, np.finfo(float).tiny))), float(np.sqrt(r2 / Y.size))


@learner_contract
def recover_noisy(
    X,
    Y,
    k: int,
    *,
    rng=None,
    on_failure: str = "raise",
    progress: bool = False,
    n_rounds: int = 5,
    tau: float | tuple = (0.05, 0.05, 0.05, 0.0),
    n_refine: int = 3,
    max_starts: int = 4,
    certify: bool = True,
    level: float = 0.01,
) -> Recovery:
    """Approximate recovery of a ReLU network from labels with mean-zero noise independent of X.

    1. the moment estimate of spec §3 steps 1-3 (Jennrich on the second-order moment ``T2``, projected on
       its k-dimensional span; for m < k the route of :func:`relulearn.lowrank.low_rank_moment_estimate`),
       unbiased under the noise;
    2. ``n_rounds`` rounds of :func:`relulearn.lowrank.sign_pattern_regression`, on the samples where every
       unit is confidently signed (cosine above ``tau``) while the estimate is rough, then on all samples;
    3. ``U`` by least squares on all samples (:func:`fit_output_layer`);
    4. ``n_refine`` rounds of :func:`alternating_refinement` (V given U with the patterns frozen, then U).

    The error after matching falls like 1/sqrt(n).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Standard Gaussian inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels ``U* relu(V* X) + E``, E mean-zero and independent of X (e.g. i.i.d. Gaussian).
    k : int
        Number of hidden units, 1 <= k <= d.
    rng : int, Generator or None
        Randomness of the tensor decomposition and of the cross-fitting split.
    on_failure : {"raise", "return"}
        What a failed result does: raise :class:`~relulearn.RecoveryFailed`, or return it.
    progress : bool
        Show a progress bar over the steps (main fit and the two cross-fitting fits).
    n_rounds : int
        Rounds of sign-pattern regression.
    tau : float or tuple of floats in [0, 1)
        Confidence threshold(s) on the cosine ``|v_i . x| / ||x||`` (one per round, the last repeats).
    n_refine : int
        Rounds of alternating refinement (0 to stop after step 3, the spec's estimator).
    max_starts : int
        Moment-estimate candidates (random draws, best fit first) to start step 2 from, if a start fails
        (two units merging make the least squares singular).

    Returns
    -------
    Recovery
        ``network`` (ReLU, unit rows of V); ``residual`` = ``||Y - net(X)||_F / ||Y||_F`` (about the noise
        level when the fit is right); ``status`` certified when the labels are fitted to round-off (residual
        at most 1e-9, or 100 float32 epsilons for float32 data) on more than 2 k (d + m) distinct samples, or
        when the statistical certificate
        (:class:`~relulearn.StatisticalCertificate`, in ``certificate``) passes, failed when it finds no signal
        in a unit or a misspecified model, or when a least-squares step is singular from every start (a unit
        never active, two units merging: k is wrong or the data far too few), unverified when the certificate
        was not run or could not be computed (fewer than ``4 k d`` samples, or too few for the specification
        test: ``reason`` says which); ``details`` with ``moment_estimate`` (the network after step 1),
        ``regression`` (the :class:`~relulearn.RegressionResult` of step 2), ``failed_starts``,
        ``before_refinement`` (the network after step 3) and ``noise_rms`` (the RMS of the residual, an
        estimate of the noise level).

    Raises
    ------
    ValueError, TypeError
        Bad shapes or dtypes, non-finite entries, k not an int in [1, d], fewer than ``2 k d`` samples, bad
        tau or level.
    RecoveryFailed
        With ``on_failure="raise"``, when the status is failed.

    Notes
    -----
    Cost O(n m d^2) for the moments, O(n d^2 + 2^k k^2 d^2 + k^3 d^3) per round of regression or refinement
    (O(n k^2 d^2) when 2^k is large), O(n k (d + m)) for the output layer; memory O(m d^2 + k^2 d^2 +
    2^k d (d + m)) beyond X and Y plus two floats per sample, streamed over chunks of samples (measured in
    ``bench/noise.py``).

    References
    ----------
    Bakshi, Jayaram and Woodruff, "Learning two layer rectified neural networks in polynomial time", COLT
    2019, PMLR 99:195-268 (polynomial-time recovery under mean-zero sub-Gaussian noise); spec
    ``recovery_gaussian.md`` §5 (this estimator), §10.
    """
    data = check_learner_input(X, Y, k, who="recover_noisy", min_samples=lambda d, k, m: 2 * k * d,
                               min_samples_text="2 k d")
    X, Y, k = data.X, data.Y, data.k
    d, n = X.shape
    n_rounds = check_int("n_rounds", n_rounds)
    n_refine = check_int("n_refine", n_refine, minimum=0)
    max_starts = check_int("max_starts", max_starts)
    taus = _check_tau(tau)
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    gen = rng_from(rng)
    bar = progress_bar(3 if certify else 1, "recover_noisy", progress)
    net, details = _fit_noisy(X, Y, k, gen, taus, n_rounds, n_refine, max_starts)
    bar.update(1)
    residual, noise_rms = _residual(X, Y, net.U, net.V)
    details["noise_rms"] = noise_rms
    status, reason, cert = "unverified", "the statistical certificate was not run (certify=False)", None
    exact_tol = precision_tol("tol", 1e-9, data.eps)
    if residual <= exact_tol:  # noiseless labels fitted to round-off: the exact fit is the evidence
        status, reason = exact_fit_status(X, net, residual, exact_tol)
    elif certify and n < 4 * k * d:
        reason = f"the cross-fitted certificate needs n >= 4 k d = {4 * k * d} samples (2 k d per half); n={n}"
    elif certify:

        def fit_half(Xh, Yh):
            out = _fit_noisy(Xh, Yh, k, gen, taus, n_rounds, n_refine, max_starts)[0]
            bar.update(1)
            return out

        cert, note = cross_fit_certificate(fit_half, X, Y, rng=gen, level=level)
        if cert is None:
            reason = f"no certificate: {note}"
        elif cert.ok:
            status, reason = "certified", ""
        elif cert.reason:
            status, reason = "failed", cert.reason
        else:
            reason = f"signal certified, but {note}"
    bar.close()
    return Recovery(network=net, residual=residual, status=status, reason=reason, certificate=cert,
                    n_samples_used=n, details=details)


def _fit_noisy(X, Y, k, gen, taus, n_rounds, n_refine, max_starts):
    """Steps 1-4 of :func:`recover_noisy` on validated data: ``(network, details)``; raises RecoveryFailed."""
    d, _n = X.shape
    candidates = _moment_step(X, Y, k, gen, 8)
    U0, V0 = candidates[0]
    xnorm = _column_norms(X)
    reg, failures = None, []
    for _, V_start in candidates[:max_starts]:
        try:  # a start whose units merge during the regression makes it singular: take the next draw
            reg = _regress(X, Y, V_start, xnorm, taus, n_rounds, 4 * k * d, 0.0)
            break
        except RecoveryFailed as exc:
            failures.append(str(exc))
    if reg is None:
        raise RecoveryFailed(
            f"sign-pattern regression failed from {len(failures)} starting points; last: {failures[-1]}",
            network=TwoLayerNetwork(U0, V0, "relu"),
        )
    U = _output_layer(X, Y, reg.V)
    before = TwoLayerNetwork(U, reg.V, "relu")
    U, V = _alternate(X, Y, U, reg.V, xnorm, n_refine, 0.0) if n_refine else (U, reg.V)
    return TwoLayerNetwork(U, V, "relu"), {
        "moment_estimate": TwoLayerNetwork(U0, V0, "relu"),
        "regression": reg,
        "failed_starts": len(failures),
        "before_refinement": before,
    }
