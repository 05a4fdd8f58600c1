"""Statistical certificates for learners that fit noisy labels: tests on held-out
samples.

With noise nothing can be certified exactly, and a small residual proves nothing: pure
noise is fitted about as well by ``U = 0`` as by anything. Two tests on samples the fit
did not see (cross-fitting: fit on one half, test on the other, and the other way round)
give evidence either way.

* **Signal** (:func:`signal_pvalues`). For each hidden unit i, the gain of keeping the
  unit on held-out sample j is ``D_j`` = (squared error of the network without unit i,
  its output layer refitted on the fitting samples) - (squared error of the full
  network). The null hypothesis "the unit explains no more of the labels than zero does"
  is ``E[D] <= 0``; its one-sided t-test p-value is reported. (Dropping a unit without
  refitting would credit two units that cancel each other, as a fit to pure noise often
  has.) A certified answer needs every unit, in every fold, to reject it at the stated
  level; the answer is then wrong with probability at most the level if some unit
  carries no signal (the intersection of tests needs no multiplicity correction; the
  level of the t-test holds asymptotically, by the central limit theorem). The status is
  "failed: no signal" only with evidence the other way: a unit whose held-out gain is
  significantly *negative* (the predictions are better without it, as for a unit fitted
  to noise), at the level divided by the number of units times folds (Bonferroni: a
  right answer is failed with probability at most the level); a gain that cannot be told
  from zero leaves the answer unverified (too few held-out samples).
* **Specification** (:func:`specification_pvalue`). If the model is right, the held-out
  residual is the noise, independent of the inputs. The features the model cannot
  produce are taken as low-degree Hermite features of the inputs projected on the
  recovered unit rows ``z_i = v_i . x / ||v_i||`` (``He_3(z_i)``) and on their
  orthogonal complement (``(||P x||^2 - (d - k)) / sqrt(2 (d - k))``), after removing
  from them the model's tangent space at the estimate (``1``, ``f(v_i . x)``, ``f'(v_i .
  x) x``), which absorbs the first-order estimation error. Even features of ``z_i`` such
  as ``He_2(z_i)`` are left out on purpose: the second-order error of a ReLU estimate (a
  thin wedge at each unit's kink) correlates with them, and they rejected correct models
  far above the level. The partial F-test of the residual on these features, per output
  and fold with a Bonferroni correction, rejects a correct model with probability at
  most the level (exactly for Gaussian noise, up to the second-order estimation error);
  a rejection gives "failed: misspecified".

References
----------
V. Chernozhukov, D. Chetverikov, M. Demirer, E. Duflo, C. Hansen, W. Newey and J.
Robins, "Double/debiased machine learning for treatment and structural parameters", The
Econometrics Journal 21(1), 2018, section 3 (cross-fitting). The F-test of nested linear
models is classical (e.g. H. Scheffe, "The Analysis of Variance", Wiley 1959, chapter
2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from ._streaming import chunks
from ._validation import mark_checked
from .metrics import recovery_error
from .network import TwoLayerNetwork
from .recovery import StatisticalCertificate

__all__ = [
    "cross_fit_certificate",
    "exact_fit_status",
    "signal_pvalues",
    "specification_pvalue",
]


def signal_pvalues(
    network: TwoLayerNetwork,
    X: np.ndarray,
    Y: np.ndarray,
    X_fit: np.ndarray,
    Y_fit: np.ndarray,
) -> np.ndarray:
    """Per hidden unit, the one-sided p-value of "dropping the unit loses nothing on
    held-out samples".

    For unit i, the output layer of the other k - 1 units is refitted by least squares
    on the samples the network was fitted on, ``(X_fit, Y_fit)``; ``D_j`` is the
    held-out squared error of that smaller network minus the held-out squared error of
    the full one on sample j of ``(X, Y)``. A unit that carries signal has ``E[D] > 0``;
    a unit that fits noise, or that cancels another unit, does not.

    Parameters
    ----------
    network : TwoLayerNetwork
        The fit, with k units.
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
        Held-out samples (not used by the fit).
    X_fit : ndarray, shape (d, n_fit)
    Y_fit : ndarray, shape (m, n_fit)
        The samples the network was fitted on.

    Returns
    -------
    ndarray, shape (k,)
        Per unit, the one-sided p-value of the null hypothesis ``E[D] <= 0`` (small:
        the unit carries signal).

    Notes
    -----
    Cost O(n k^2 (d + m)).
    """
    H = network.hidden(X)
    R = Y - network.U @ H
    loss_full = np.sum(R**2, axis=0)
    Hf = network.hidden(X_fit)
    n = X.shape[1]
    k = network.n_hidden
    out = np.ones(k)
    for i in range(k):
        keep = np.arange(k) != i
        if keep.any():
            Ui = np.linalg.lstsq(Hf[keep].T, Y_fit.T, rcond=None)[0].T
            Ri = Y - Ui @ H[keep]
        else:
            Ri = Y
        D = np.sum(Ri**2, axis=0) - loss_full
        mean, sd = float(D.mean()), float(D.std(ddof=1))
        if sd > 0:
            out[i] = float(stats.t.sf(mean / (sd / np.sqrt(n)), df=n - 1))
        else:
            out[i] = 0.0 if mean > 0 else 1.0
    return out


def _features(network: TwoLayerNetwork, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tangent, probe): the model's tangent features and the probe features, one row
    per sample.
    """
    act = network.activation
    V = network.V
    d, n = X.shape
    k = V.shape[0]
    Z = V @ X
    tangent = [np.ones((n, 1)), act(Z).T]
    dZ = act.derivative(Z)
    tangent.append((dZ[:, None, :] * X[None, :, :]).reshape(k * d, n).T)
    norms = np.linalg.norm(V, axis=1)
    W = V / np.where(norms > 0, norms, 1.0)[:, None]
    Zn = W @ X
    probe = [(Zn**3 - 3 * Zn).T]
    if d > k:
        Q, _ = np.linalg.qr(W.T, mode="complete")
        perp = Q[:, k:].T @ X
        probe.append(
            ((np.sum(perp**2, axis=0) - (d - k)) / np.sqrt(2.0 * (d - k)))[:, None]
        )
    return np.hstack(tangent), np.hstack(probe)


def _pinv_psd(A: np.ndarray, rtol: float) -> tuple[np.ndarray, int]:
    """Pseudo-inverse and rank of a symmetric positive semi-definite matrix (eigenvalues
    below ``rtol`` times the largest count as zero).
    """
    if A.shape[0] == 0:
        return A, 0
    lam, E = np.linalg.eigh(A)
    keep = (
        lam > rtol * max(float(lam[-1]), 0.0)
        if lam[-1] > 0
        else np.zeros(lam.shape, bool)
    )
    Ek = E[:, keep]
    return (Ek / lam[keep]) @ Ek.T, int(keep.sum())


def specification_pvalue(
    network: TwoLayerNetwork, X: np.ndarray, Y: np.ndarray
) -> tuple[float, int]:
    """Bonferroni-adjusted p-value (over outputs) of "the residual is uncorrelated with
    the probe features".

    The cross products of the tangent
    features T, the probe features P and the residual R are summed over chunks of
    samples (no n-by-features matrix is held); the partial regression of R on P after T
    is solved from them (ranks by eigenvalues, relative 1e-12).

    Parameters
    ----------
    network : TwoLayerNetwork
        The fit.
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
        Samples the network was not fitted on.

    Returns
    -------
    p : float
        The Bonferroni-adjusted p-value; NaN when ``dof < 10`` (too few samples to
        test).
    dof : int
        The residual degrees of freedom of the F-test.

    Notes
    -----
    Cost O(n (k d + k^2)^2), memory O((k d)^2) beyond the data plus chunk-sized scratch.
    """
    m, n = Y.shape
    d = X.shape[0]
    k = network.n_hidden
    pt = 1 + k + k * d
    pp = k + (1 if d > k else 0)
    GTT, GTP, GPP = np.zeros((pt, pt)), np.zeros((pt, pp)), np.zeros((pp, pp))
    GTR, GPR, rr = np.zeros((pt, m)), np.zeros((pp, m)), np.zeros(m)
    for sl in chunks(n, 2 * pt + 2 * pp + 2 * m + d):
        T, P = _features(network, X[:, sl])
        R = (Y[:, sl] - network(X[:, sl])).T
        GTT += T.T @ T
        GTP += T.T @ P
        GPP += P.T @ P
        GTR += T.T @ R
        GPR += P.T @ R
        rr += np.einsum("ij,ij->j", R, R)
    Tinv, rank_t = _pinv_psd(GTT, 1e-12)
    CPP = GPP - GTP.T @ Tinv @ GTP
    CPR = GPR - GTP.T @ Tinv @ GTR
    rr_t = rr - np.einsum("ir,ij,jr->r", GTR, Tinv, GTR)
    Pinv, rank_p = _pinv_psd((CPP + CPP.T) / 2, 1e-12)
    dof = n - rank_t - rank_p
    if dof < 10 or rank_p == 0:
        return float("nan"), int(dof)
    reg = np.einsum("ir,ij,jr->r", CPR, Pinv, CPR)
    res = rr_t - reg
    p = np.ones(m)
    for r in range(m):
        if res[r] > 0 and reg[r] > 0:
            F = (reg[r] / rank_p) / (res[r] / dof)
            p[r] = float(stats.f.sf(F, rank_p, dof))
    return float(min(1.0, m * p.min())), int(dof)


def cross_fit_certificate(
    fit: Callable[[np.ndarray, np.ndarray], TwoLayerNetwork],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    rng: np.random.Generator,
    level: float = 0.01,
    misfit_is_failure: bool = True,
    network: TwoLayerNetwork | None = None,
    agreement: float = 5.0,
) -> tuple[StatisticalCertificate | None, str]:
    """Run the signal and specification tests with two-fold cross-fitting.

    ``fit(X_train, Y_train)`` returns a network or raises (any exception makes the
    certificate unavailable). Returns ``(certificate, note)``: the certificate is None
    when it could not be computed (``note`` says why); ``certificate.ok`` is False with
    ``reason`` starting "no signal" or "misspecified" when a test gives evidence against
    the fit. ``note`` is non-empty also when only the signal test could run. With
    ``misfit_is_failure=False`` (for an estimator that is not refined to its
    least-squares fit, whose estimation error the specification test also detects), a
    rejection of the specification test gives ``ok`` False with an empty reason and the
    finding in ``note``.

    With ``network`` (the answer fitted on all samples), a stability check also runs:
    the two half fits and ``network`` must agree after matching units, their largest
    matched weight error (max(eps_U, eps_V) of :func:`relulearn.recovery_error`) at most
    ``agreement * (sigma / rms(Y)) * sqrt(k (d + m) / (n / 2))`` with ``sigma`` the
    residual RMS of ``network`` (the statistical error of a least-squares fit on n/2
    samples is of that order). A disagreement leaves ``ok`` False with an empty reason
    and the finding in ``note``: at least one of the fits is wrong, and nothing says
    which. This check has no proven level; ``agreement = 5`` was set from the spread
    measured on planted instances (``bench/certificates.py``). It catches a fit that
    landed at a wrong fixed point, whose systematic residual the two tests cannot tell
    from noise.

    Parameters
    ----------
    fit : callable
        ``fit(X_train, Y_train)`` returns a :class:`~relulearn.TwoLayerNetwork`.
    X : ndarray, shape (d, n)
    Y : ndarray, shape (m, n)
        The samples, checked by the caller; they are split into two random halves.
    rng : numpy.random.Generator
        For the split.
    level : float
        The level of the tests: a right answer is failed with probability at most
        ``level`` (Bonferroni over units and folds for the signal test).
    misfit_is_failure : bool
        Whether a rejection of the specification test fails the certificate (with a
        reason) or only notes it.
    network : TwoLayerNetwork, optional
        The answer fitted on all samples, for the stability check.
    agreement : float
        The factor of the stability check.

    Returns
    -------
    certificate : StatisticalCertificate or None
        None when it could not be computed.
    note : str
        What the tests could not settle, or why there is no certificate (empty when the
        certificate is ok).

    Notes
    -----
    Cost: two fits on n/2 samples plus O(n (k d + k^2)^2).
    """
    d, n = X.shape
    m = Y.shape[0]
    perm = rng.permutation(n)
    halves = [np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])]
    sig, spec, dofs, nets = [], [], [], []
    for f in range(2):
        train_idx, test_idx = halves[1 - f], halves[f]
        Xf, Yf = X[:, train_idx], Y[:, train_idx]
        mark_checked(Xf, Yf)  # subsets of data the caller checked
        try:
            net = fit(Xf, Yf)
        except Exception as exc:  # noqa: BLE001
            # any failure of the fold fit makes the certificate unavailable
            return (
                None,
                f"the fit on half of the samples failed ({type(exc).__name__}: {exc})",
            )
        nets.append(net)
        Xt, Yt = X[:, test_idx], Y[:, test_idx]
        sig.append(signal_pvalues(net, Xt, Yt, Xf, Yf))
        p, dof = specification_pvalue(net, Xt, Yt)
        spec.append(p)
        dofs.append(dof)
    sig = np.vstack(sig)
    spec_p = (
        float(min(1.0, 2 * np.nanmin(spec)))
        if not np.all(np.isnan(spec))
        else float("nan")
    )
    n_test = n // 2
    reason, note = "", ""
    disagreement, allowed = float("nan"), float("nan")
    if network is not None:
        rms_y = float(np.sqrt(np.mean(Y**2)))
        sigma = float(np.sqrt(np.mean((Y - network(X)) ** 2)))
        k = network.n_hidden
        allowed = (
            agreement
            * sigma
            / max(rms_y, np.finfo(float).tiny)
            * np.sqrt(k * (d + m) / n_test)
        )
        disagreement = max(
            recovery_error(nets[0], nets[1], n_test=0).weights,
            recovery_error(nets[0], network, n_test=0).weights,
            recovery_error(nets[1], network, n_test=0).weights,
        )
    # the order matters: a unit without signal is evidence against any fit; when the
    # fits disagree, what the specification test finds about the half fits says nothing
    # about the returned one (and at small n which half fit lands where can depend on
    # rounding), so it is consulted only when they agree
    #
    # Bonferroni over units and folds: a right answer is failed with probability
    # <= level
    worse = level / sig.size
    # evidence that a unit makes the held-out predictions worse
    if np.any(1 - sig < worse):
        f, i = np.unravel_index(int(np.argmax(sig)), sig.shape)
        reason = (
            "no signal: on held-out samples the predictions are better without unit"
            f" {int(i)} (one-sided"
            f" p = {1 - sig[f, i]:.1e} < {worse:.1e}, the level {level:g} over"
            f" {sig.size} tests, for a negative"
            f" gain)"
        )
    elif np.any(sig >= level):  # no evidence either way
        f, i = np.unravel_index(int(np.argmax(sig)), sig.shape)
        note = (
            f"the held-out samples cannot tell the gain of unit {int(i)} from zero (p"
            f" = {sig[f, i]:.2f} >="
            f" level {level:g}): too few samples to show that every unit carries signal"
        )
    elif not disagreement <= allowed and network is not None:
        note = (
            "the fits on the two halves and on all samples disagree (largest matched"
            " error"
            f" {disagreement:.2g} > {allowed:.2g}, the statistical error the noise"
            " level allows):"
            f" at least one of them is not the least-squares fit"
        )
    elif np.isfinite(spec_p) and spec_p < level and misfit_is_failure:
        reason = (
            "misspecified: the held-out residual correlates with features the model"
            " cannot produce"
            f" (p = {spec_p:.1e} < level {level:g})"
        )
    elif np.isfinite(spec_p) and spec_p < level:
        note = (
            "the held-out residual correlates with features the model cannot produce"
            f" (p = {spec_p:.1e} <"
            f" level {level:g}): the model is misspecified or the estimate is not at"
            " its least-squares fit"
        )
    elif not np.isfinite(spec_p):
        note = (
            f"the specification test needs more held-out samples than {n_test} for {m}"
            " output(s)"
            f" (residual degrees of freedom {min(dofs)} < 10)"
        )
    cert = StatisticalCertificate(
        ok=not reason and not note,
        level=level,
        signal_pvalues=sig,
        specification_pvalue=spec_p,
        n_test=n_test,
        reason=reason,
        disagreement=disagreement,
        allowed_disagreement=allowed,
    )
    return cert, note


def exact_fit_status(
    X: np.ndarray, network: TwoLayerNetwork, residual: float, tol: float
) -> tuple[str, str]:
    """``(status, reason)`` from an exact fit: certified when ``residual <= tol`` on
    enough distinct samples.

    A network with k units has ``p = k (d + m)`` weights; fitting ``n > 2 p`` distinct
    generic samples to relative residual ``tol`` is the evidence (with fewer, an exact
    fit need not be the planted network). Otherwise unverified, with the reason.

    Parameters
    ----------
    X : ndarray, shape (d, n)
        The samples the network was fitted on.
    network : TwoLayerNetwork
        The fit.
    residual : float
        Its relative residual on ``X``.
    tol : float
        The tolerance of an exact fit.

    Returns
    -------
    status : {"certified", "unverified"}
    reason : str
        Why it is unverified (empty when certified).

    Notes
    -----
    Cost O(n d log n) for counting distinct samples.
    """
    d, n = X.shape
    p = network.n_hidden * (d + network.output_dim)
    if not residual <= tol:
        return (
            "unverified",
            (
                f"residual {residual:.1e} > tol {tol:.0e}: no exact fit, and no other"
                " check"
            ),
        )
    distinct = n if n <= 2 * p else int(np.unique(X.T, axis=0).shape[0])
    if distinct <= 2 * p:
        return "unverified", (
            f"the fit is exact (residual {residual:.1e}) but on only {distinct}"
            " distinct samples;"
            f" certifying it needs more than 2 k (d + m) = {2 * p}"
        )
    return "certified", ""
