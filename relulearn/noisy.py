"""Recovery from noisy labels ``Y = U* relu(V* X) + E`` (E mean-zero, independent of X),
Gaussian inputs.

Why the chapter-3 route needs changing, and what replaces it:

* The moments ``M1 = E[y x^T]`` and ``T2 = E[y (x) (x x^T - I)]`` stay *unbiased*:
  ``E[xi x^T] = 0`` and ``E[xi (x) (x x^T - I)] = 0`` when the noise xi of a sample (a
  column of E) has mean zero and is independent of x; the noise only adds variance. The
  moment estimate (Jennrich, scales, signs) is a nonlinear function of the moments, not
  itself unbiased, and rough (measured; no error bound is proved), but it is a usable
  start.
* The exact step does not: the row span of ``Y`` is no longer that of ``relu(V* X)`` (E
  adds m - k noise directions and tilts the k signal ones), so no vector of the span
  vanishes exactly on a zero set.
* Instead, the moment estimate is a *start*: :func:`relulearn.local_least_squares`
  (Levenberg-Marquardt on the squared loss) takes it to a local least-squares fit (the
  maximum-likelihood estimate under i.i.d. Gaussian noise is the global least-squares
  fit); measured, its error falls like 1/sqrt(n), as for a regular parametric estimate,
  but nothing about its accuracy is proved here (the loss is non-convex and has kinks).
  Several random draws of the tensor decomposition give several starts; the fit with the
  smallest residual is kept.

The fit streams over chunks of samples: its memory beyond X and Y is O(k^2 (d + m)^2)
plus chunk-sized scratch and k bytes per sample (no n-by-parameters Jacobian is ever
held). The certificate copies the two halves of the samples.

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", Proceedings of the 32nd Conference on Learning Theory
   (COLT), PMLR 99:195-268, 2019 (polynomial-time approximate recovery under mean-zero
   noise, by their own algorithm; the estimator here is the course's and has no proven
   guarantee).
"""

from __future__ import annotations

import numpy as np

from ._linalg import output_layer, relative_residual
from ._progress import progress_bar
from ._validation import (
    check_int,
    check_learner_input,
    mark_checked,
    precision_tol,
    rng_from,
)
from .activations import get_activation
from .certificates import cross_fit_certificate, exact_fit_status
from .initialisation import moment_candidates
from .least_squares import levenberg_marquardt
from .multistart import best_of_starts
from .network import TwoLayerNetwork
from .recovery import Recovery, RecoveryFailed, learner_contract
from .sign_patterns import OUTPUT_LAYER_SINGULAR

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
    n_starts: int = 4,
    rank_samples: int | None = None,
    certify: bool = True,
    level: float = 0.01,
) -> Recovery:
    """Approximate recovery of a ReLU network from labels with mean-zero noise
    independent of X.

    1. *Moments*: the moment estimate (Jennrich on the second-order moment ``T2``
       projected on its k-dimensional span; for m < k the route of
       :func:`relulearn.low_rank_moment_estimate`), computed from moments that are
       unbiased under the noise, with every random draw of the decomposition kept,
       best-fitting first;
    2. *Starts*: from each of the first ``n_starts`` draws (output layer by least
       squares), :func:`relulearn.local_least_squares` to a loose tolerance (relative
       loss decrease 1e-3 of p / (n m), the relative loss change of a statistical
       fluctuation, p = k (d + m); at least 1e-6), on a random subset of
       ``rank_samples`` samples when n is larger;
    3. *Choice*: the start with the smallest residual (the maximum-likelihood choice;
       near-ties go to the earlier draw, :func:`relulearn.choose_with_margin`);
    4. *Polish*: :func:`relulearn.local_least_squares` on all samples from the chosen
       fit (relative loss decrease 1e-6 of p / (n m), at least 1e-9).

    No accuracy guarantee is proved for this estimator. Measured (chapter 4 and
    ``bench/noise.py``, planted instances): the error after matching falls like
    1/sqrt(n) and is close to that of the local least-squares fit started at the truth.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Standard Gaussian inputs as columns.
    Y : array_like, shape (m, n) or (n,)
        Labels ``U* relu(V* X) + E``, the noise E mean-zero and independent of X (e.g.
        i.i.d. Gaussian entries of standard deviation sigma).
    k : int
        Number of hidden units, 1 <= k <= d.
    rng : int, Generator or None
        Randomness of the tensor decomposition, of the ranking subset and of the
        cross-fitting split.
    on_failure : {"raise", "return"}
        What a failed result does: raise :class:`~relulearn.RecoveryFailed`, or return
        it.
    progress : bool
        Show a progress bar over the fits (main fit and the two cross-fitting fits).
    n_starts : int
        Moment-estimate draws to start from (step 2).
    rank_samples : int, optional
        Samples on which the starts are run and ranked (default ``64 k d``; all samples
        when n is smaller).
    certify : bool
        Run the statistical certificate (two more fits, on the halves of the samples).
    level : float in (0, 1)
        Level of the certificate's tests.

    Returns
    -------
    Recovery
        ``network`` (ReLU, unit rows of V); ``residual`` = ``||Y - net(X)||_F /
        ||Y||_F`` (about the noise level when the fit is right); ``status`` certified
        when the labels are fitted to round-off (residual at most 1e-9, or 100 float32
        epsilons for float32 data) on more than 2 k (d + m) distinct samples, or when
        the statistical certificate (:class:`~relulearn.StatisticalCertificate`, in
        ``certificate``) passes, failed when it finds no signal in a unit or a
        misspecified model, or when no start gives a usable output layer (a unit never
        active, two units identical), unverified when the certificate was not run or
        could not be computed (fewer than ``4 k d`` samples, or too few for the
        specification test: ``reason`` says which); ``details`` with ``moment_estimate``
        (the network of the best-fitting draw), ``starts`` (the
        :class:`~relulearn.StartsResult` of steps 2-3: one score per start, the relative
        residual on the ranking samples), ``rank_samples``, ``least_squares`` (the
        :class:`~relulearn.LeastSquaresFit` of step 4) and ``noise_rms`` (the RMS of the
        residual, an estimate of the noise level).

    Raises
    ------
    ValueError, TypeError
        Bad shapes or dtypes, non-finite entries, k not an int in [1, d], fewer than ``2
        k d`` samples (the message names what works with fewer: more samples, or
        :func:`relulearn.train`), bad n_starts, rank_samples or level.
    RecoveryFailed
        With ``on_failure="raise"``, when the status is failed.

    See Also
    --------
    relulearn.local_least_squares
        The local refiner of steps 2 and 4; started at the truth it gives the reference
        error of a noisy instance.
    relulearn.train
        First-order training from a random start; it runs at any n.

    Notes
    -----
    Cost O(n m d^2) for the moments; per Levenberg-Marquardt iteration O(n' k d (k d +
    m)) with n' the samples it runs on (the k d x k d block only on samples whose signs
    changed, after the first iteration), plus O(k^3 d^3 + m k^3 d) for the solve; memory
    O(m d^2 + k^2 (d + m)^2) beyond X and Y plus chunk-sized scratch and k bytes per
    sample (measured in ``bench/noise.py``). With ``certify`` the fit is repeated on
    each half of the samples, which are copied ((d + m) 8 bytes per sample).

    References
    ----------
    Bakshi, Jayaram and Woodruff, "Learning two layer rectified neural networks in
    polynomial time", COLT 2019, PMLR 99:195-268 (polynomial-time approximate recovery
    under mean-zero noise, by a different algorithm; the moment start refined by
    Levenberg-Marquardt, and the certificate, are ours, without a proven guarantee). K.
    Levenberg, Quarterly of Applied Mathematics 2(2), 1944 and D. W. Marquardt, SIAM
    Journal 11(2), 1963 (the local refiner).
    """
    data = check_learner_input(
        X,
        Y,
        k,
        who="recover_noisy",
        min_samples=lambda d, k, m: 2 * k * d,
        min_samples_text="2 k d",
        min_samples_hint=(
            "its moment step needs them; with fewer, collect more samples or use"
            " relulearn.train"
            " (gradient training runs at any n)"
        ),
    )
    X, Y, k = data.X, data.Y, data.k
    d, n = X.shape
    n_starts = check_int("n_starts", n_starts)
    rank_samples = (
        64 * k * d
        if rank_samples is None
        else check_int("rank_samples", rank_samples, minimum=2 * k * d)
    )
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    gen = rng_from(rng)
    bar = progress_bar(3 if certify else 1, "recover_noisy", progress)
    try:
        net, details = _fit_noisy(X, Y, k, gen, n_starts, rank_samples)
    except (
        RecoveryFailed
    ) as exc:  # no start gave a usable output layer: report the moment estimate, if any
        bar.close()
        est = exc.network
        res = np.inf if est is None else relative_residual(X, Y, est.U, est.V)
        return Recovery(
            est,
            res,
            status="failed",
            reason=exc.reason,
            n_samples_used=n,
            details={"moment_estimate": est},
        )
    bar.update(1)
    residual = relative_residual(X, Y, net.U, net.V)
    details["noise_rms"] = residual * float(np.linalg.norm(Y)) / np.sqrt(Y.size)
    status, reason, cert = (
        "unverified",
        "the statistical certificate was not run (certify=False)",
        None,
    )
    exact_tol = precision_tol("tol", 1e-9, data.eps)
    # noiseless labels fitted to round-off: the exact fit is the evidence
    if residual <= exact_tol:
        status, reason = exact_fit_status(X, net, residual, exact_tol)
    elif certify and n < 4 * k * d:
        reason = (
            f"the cross-fitted certificate needs n >= 4 k d = {4 * k * d} samples (2 k"
            f" d per half); n={n}"
        )
    elif certify:

        def fit_half(Xh, Yh):
            # the certificate's tests need an independent fit on the half, not a
            # polished one: fewer starts, and the ranking tolerance (a few % of the
            # fit's statistical error) as the last step
            out = _fit_noisy(
                Xh, Yh, k, gen, max(1, n_starts // 2), rank_samples, polish=False
            )[0]
            bar.update(1)
            return out

        cert, note = cross_fit_certificate(
            fit_half, X, Y, rng=gen, level=level, network=net
        )
        if cert is None:
            reason = f"no certificate: {note}"
        elif cert.ok:
            status, reason = "certified", ""
        elif cert.reason:
            status, reason = "failed", cert.reason
        else:
            reason = f"not certified: {note}"
    bar.close()
    return Recovery(
        network=net,
        residual=residual,
        status=status,
        reason=reason,
        certificate=cert,
        n_samples_used=n,
        details=details,
    )


# Loose tolerance for ranking the starts, tight one for the answer (relative decrease of
# the loss per step). The answer's: 1e-6 of the loss change a statistical fluctuation of
# the estimate makes (p / (n m) of the loss, p = k (d + m) weights), at most 1e-9. Below
# that the ReLU kinks of the finitely many samples make the loss rough: the quadratic
# model stops predicting the decrease, and further steps only creep (measured: at n =
# 300 the relative decrease fell below 1e-7 after about 10 steps and then needed 45 more
# to reach 1e-12).
_RANK_FTOL = 1e-6
_RANK_FTOL_STAT = 1e-3
_FINAL_FTOL = 1e-9
_FINAL_FTOL_STAT = 1e-6


def _fit_noisy(X, Y, k, gen, n_starts, rank_samples, polish=True):
    """Steps 1-4 of :func:`recover_noisy` on validated data: ``(network, details)``;
    raises RecoveryFailed.

    ``polish=False`` ends step 4 at the ranking tolerance (and skips it when the starts
    ran on all samples).
    """
    d, n = X.shape
    candidates = moment_candidates(X, Y, k, gen, max(8, n_starts))
    U0, V0 = candidates[0]
    moment_net = TwoLayerNetwork(U0, V0, "relu")
    if n > rank_samples:
        idx = np.sort(gen.choice(n, rank_samples, replace=False))
        Xr, Yr = np.ascontiguousarray(X[:, idx]), np.ascontiguousarray(Y[:, idx])
        mark_checked(Xr, Yr)
    else:
        Xr, Yr = X, Y
    relu = get_activation("relu")
    m, n_r = Y.shape[0], Xr.shape[1]
    rank_ftol = max(_RANK_FTOL, _RANK_FTOL_STAT * k * (d + m) / (n_r * m))

    def start(V_start):
        def run():
            U = output_layer(Xr, Yr, V_start)
            if U is None:  # a unit never active, or two identical: no output layer
                return None
            return levenberg_marquardt(
                Xr, Yr, U, V_start, relu, _MAX_ITER, rank_ftol, 0.0
            )

        return run

    starts = best_of_starts(
        (start(V) for _, V in candidates[:n_starts]), lambda fit: fit.residual
    )
    if starts.best is None:
        raise RecoveryFailed(
            f"no usable start: from each of {starts.n_tried} moment draws"
            f" {OUTPUT_LAYER_SINGULAR}",
            network=moment_net,
        )
    best = starts.best.network
    if not polish and Xr is X:
        final = starts.best
    else:
        ftol = (
            max(_FINAL_FTOL, _FINAL_FTOL_STAT * k * (d + m) / (n * m))
            if polish
            else max(_RANK_FTOL, _RANK_FTOL_STAT * k * (d + m) / (n * m))
        )
        final = levenberg_marquardt(
            X, Y, np.array(best.U), np.array(best.V), relu, _MAX_ITER, ftol, 0.0
        )
    return final.network, {
        "moment_estimate": moment_net,
        "starts": starts,
        "rank_samples": Xr.shape[1],
        "least_squares": final,
    }


_MAX_ITER = 500
