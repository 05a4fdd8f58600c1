"""Recovery from noisy labels ``Y = U* relu(V* X) + E`` (E mean-zero, independent of X), Gaussian inputs.

Why the chapter-3 route needs changing, and what replaces it:

* The moments ``M1 = E[y x^T]`` and ``T2 = E[y (x) (x x^T - I)]`` stay *unbiased*: ``E[e x^T] = 0`` and
  ``E[e (x) (x x^T - I)] = 0`` when e is mean-zero and independent of x. So the moment estimate (Jennrich,
  scales, signs) still works, with an error of order 1/sqrt(n).
* The exact step does not: the row span of ``Y`` is no longer that of ``relu(V* X)`` (E adds m - k noise
  directions and tilts the k signal ones), so no vector of the span vanishes exactly on a zero set.
* Instead, :func:`relulearn.sign_pattern_regression` fits the blocks ``W_i = u_i v_i^T`` by least
  squares with the sign patterns fixed on the samples where every unit is confidently signed. The selection
  depends on X only, so the noise stays mean-zero on the selected samples and the fit is unbiased once the
  patterns are right: its error falls like 1/sqrt(n), as in any parametric regression.
* Then ``U = Y relu(V X)^+`` (least squares over all samples), and a few rounds of
  :func:`relulearn.alternating_refinement` (V given U with the patterns frozen, then U) use the rank-one
  structure of the blocks.

Everything streams over chunks of samples: the memory beyond X and Y is chunk-sized scratch plus two floats
per sample. The moment step is the initialisation of :mod:`relulearn.initialisation` with every Jennrich draw
kept (the span from T2 rather than M1, so it also serves m < k; the draws ranked by their fit).

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks in polynomial
   time", Proceedings of the 32nd Conference on Learning Theory (COLT), PMLR 99:195-268, 2019
   (recovery under mean-zero noise).
"""

from __future__ import annotations

import numpy as np

from ._linalg import output_layer, relative_residual
from ._progress import progress_bar
from ._streaming import column_norms
from ._validation import check_int, check_learner_input, precision_tol, rng_from
from .certificates import cross_fit_certificate, exact_fit_status
from .initialisation import moment_candidates
from .network import TwoLayerNetwork
from .recovery import Recovery, RecoveryFailed, learner_contract
from .sign_patterns import OUTPUT_LAYER_SINGULAR, refine_alternating, regress_sign_patterns
from .sign_patterns import check_tau as _check_tau

__all__ = ["recover_noisy"]


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

    1. the moment estimate (Jennrich on the second-order moment ``T2``, projected on its k-dimensional
       span; for m < k the route of :func:`relulearn.low_rank_moment_estimate`),
       unbiased under the noise;
    2. ``n_rounds`` rounds of :func:`relulearn.sign_pattern_regression`, on the samples where every
       unit is confidently signed (cosine above ``tau``) while the estimate is rough, then on all samples;
    3. ``U`` by least squares on all samples (:func:`relulearn.fit_output_layer`);
    4. ``n_refine`` rounds of :func:`relulearn.alternating_refinement` (V given U with the patterns frozen, then U).

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
        Rounds of alternating refinement (0 to stop after step 3, the paper's estimator).
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
    2019, PMLR 99:195-268 (polynomial-time recovery under mean-zero sub-Gaussian noise; the sign-pattern
    regression and the refinement are ours).
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
    try:
        net, details = _fit_noisy(X, Y, k, gen, taus, n_rounds, n_refine, max_starts)
    except RecoveryFailed as exc:  # a singular step from every start: report the moment estimate, if any
        bar.close()
        est = exc.network
        res = np.inf if est is None else relative_residual(X, Y, est.U, est.V)
        return Recovery(est, res, status="failed", reason=exc.reason, n_samples_used=n,
                        details={"moment_estimate": est})
    bar.update(1)
    residual = relative_residual(X, Y, net.U, net.V)
    details["noise_rms"] = residual * float(np.linalg.norm(Y)) / np.sqrt(Y.size)
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

        cert, note = cross_fit_certificate(fit_half, X, Y, rng=gen, level=level, network=net)
        if cert is None:
            reason = f"no certificate: {note}"
        elif cert.ok:
            status, reason = "certified", ""
        elif cert.reason:
            status, reason = "failed", cert.reason
        else:
            reason = f"every unit carries signal, but {note}"
    bar.close()
    return Recovery(network=net, residual=residual, status=status, reason=reason, certificate=cert,
                    n_samples_used=n, details=details)


def _fit_noisy(X, Y, k, gen, taus, n_rounds, n_refine, max_starts):
    """Steps 1-4 of :func:`recover_noisy` on validated data: ``(network, details)``; raises RecoveryFailed."""
    d, _n = X.shape
    candidates = moment_candidates(X, Y, k, gen, 8)
    U0, V0 = candidates[0]
    xnorm = column_norms(X)
    reg, failures = None, []
    for _, V_start in candidates[:max_starts]:
        try:  # a start whose units merge during the regression makes it singular: take the next draw
            reg = regress_sign_patterns(X, Y, V_start, xnorm, taus, n_rounds, 4 * k * d, 0.0)
            break
        except RecoveryFailed as exc:
            failures.append(str(exc))
    if reg is None:
        raise RecoveryFailed(
            f"sign-pattern regression failed from {len(failures)} starting points; last: {failures[-1]}",
            network=TwoLayerNetwork(U0, V0, "relu"),
        )
    U = output_layer(X, Y, reg.V)
    if U is None:
        raise RecoveryFailed(OUTPUT_LAYER_SINGULAR)
    before = TwoLayerNetwork(U, reg.V, "relu")
    U, V = refine_alternating(X, Y, U, reg.V, xnorm, n_refine, 0.0) if n_refine else (U, reg.V)
    return TwoLayerNetwork(U, V, "relu"), {
        "moment_estimate": TwoLayerNetwork(U0, V0, "relu"),
        "regression": reg,
        "failed_starts": len(failures),
        "before_refinement": before,
    }
