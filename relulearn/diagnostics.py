"""Checks to run on a user's data before choosing a learner.

Every learner of the course assumes something about the inputs: the Gaussian learners
(:func:`recover_exact`, :func:`recover_noisy`, :func:`recover_low_rank`,
:func:`recover_tensor_gd`) assume ``x ~ N(0, I_d)``, :func:`recover_symmetric` a law
symmetric about the origin. This module tests those assumptions on the samples
(:func:`check_input_law`), maps inputs with another covariance to isotropic ones and the
learned weights back (:func:`whiten_inputs`), and reads the number k of hidden units off
the spectrum of the second-order moment (:func:`estimate_hidden_units`).

A test that does not reject is not a proof: it says the samples are consistent with the
assumption at the stated level, against the alternatives the statistic can see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ._validation import as_matrix, check_int, check_samples, rng_from
from .moments import second_order_moments
from .network import TwoLayerNetwork
from .tensors import whitening

__all__ = [
    "HiddenUnitEstimate",
    "InputLawCheck",
    "InputWhitening",
    "check_input_law",
    "estimate_hidden_units",
    "whiten_inputs",
]

_LAWS = ("isotropic gaussian", "gaussian", "symmetric", "asymmetric")


@dataclass(frozen=True)
class InputLawCheck:
    """What :func:`check_input_law` found.

    Each ``*_z`` is the largest absolute z-score of one family of tests (an estimate
    divided by its standard error estimated from the same n samples); the family is
    rejected when it exceeds ``critical_z``, the two-sided Bonferroni-corrected normal
    quantile at ``level`` over the family's tests.

    Attributes
    ----------
    n, d : int
        Number of samples and input dimension.
    level : float
        Level of each family of tests.
    mean_z : float
        Means of the d coordinates against 0.
    covariance_z : float
        Entries of ``X X^T / n`` against those of ``I_d`` (d(d+1)/2 tests).
    skewness_z : float
        Third moments ``E[(w^T x)^3]`` against 0, over the test directions w.
    kurtosis_z : float
        Fourth cumulants ``E[(w^T x)^4] - 3 E[(w^T x)^2]^2`` against 0 (their value
        for every Gaussian law), over the test directions w.
    critical_z : dict
        The threshold of each family, keyed ``"mean"``, ``"covariance"``,
        ``"skewness"``, ``"kurtosis"``.
    law : str
        The narrowest assumption not rejected: ``"isotropic gaussian"`` (no family
        rejected: the Gaussian learners apply), ``"gaussian"`` (only the covariance
        is rejected: whiten first, see :func:`whiten_inputs`), ``"symmetric"`` (the
        mean and third moments are consistent with a law symmetric about 0, the
        fourth cumulants are not Gaussian: :func:`recover_symmetric`) or
        ``"asymmetric"`` (the mean or a third moment is not 0: no learner of the
        course has a guarantee).
    """

    n: int
    d: int
    level: float
    mean_z: float
    covariance_z: float
    skewness_z: float
    kurtosis_z: float
    critical_z: dict
    law: str

    @property
    def isotropic(self) -> bool:
        """Mean 0 and covariance ``I_d`` are not rejected."""
        return (
            self.mean_z <= self.critical_z["mean"]
            and self.covariance_z <= self.critical_z["covariance"]
        )

    def __repr__(self) -> str:
        z = ", ".join(
            f"{name}_z={getattr(self, name + '_z'):.1f}/{self.critical_z[name]:.1f}"
            for name in ("mean", "covariance", "skewness", "kurtosis")
        )
        return (
            f"InputLawCheck(law={self.law!r}, n={self.n}, d={self.d}, "
            f"level={self.level:g}, {z})"
        )


def _critical_z(level: float, count: int) -> float:
    """Two-sided normal quantile at level / count (Bonferroni)."""
    return float(ndtri(1.0 - level / (2.0 * count)))


def _max_z(estimates: np.ndarray, influence: np.ndarray) -> float:
    """Largest |estimate| / standard error, the standard error of a mean of n values
    estimated from their influence values (one row per test, one column per sample).
    A test whose influence values are all equal (a constant) has z = 0 if its
    estimate is 0 and inf otherwise."""
    n = influence.shape[1]
    se = influence.std(axis=1, ddof=1) / np.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            se > 0, np.abs(estimates) / se, np.where(estimates == 0, 0.0, np.inf)
        )
    return float(np.max(z))


def check_input_law(
    X, *, level: float = 0.01, n_directions: int | None = None, rng=None
):
    """Test whether the inputs are consistent with the laws the learners assume.

    Four families of tests, each at ``level`` with a Bonferroni correction over its
    tests: the coordinate means against 0; the entries of the second moment
    ``X X^T / n`` against ``I_d``; along test directions w (the d coordinate axes and
    ``n_directions`` random unit vectors), the third moment ``E[(w^T x)^3]`` against 0
    and the fourth cumulant ``E[(w^T x)^4] - 3 E[(w^T x)^2]^2`` against 0. The third
    moments vanish for every law symmetric about 0, the fourth cumulants for every
    Gaussian law (whatever its covariance). Standard errors are those of a mean of n
    independent values (for the cumulant, by the delta method), estimated from the
    samples, so each z-score is asymptotically standard normal when the tested
    moments are finite and the hypothesis holds.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns, n >= 20.
    level : float, default 0.01
        Level of each family, in (0, 1).
    n_directions : int, optional
        Number of random test directions besides the d axes (default d).
    rng : int or numpy.random.Generator, optional
        Draws the random directions.

    Returns
    -------
    InputLawCheck
        The z-scores, the thresholds and the narrowest law not rejected.

    Raises
    ------
    ValueError, TypeError
        X not a finite real (d, n) array with n >= 20, level not in (0, 1), or
        n_directions negative.

    Notes
    -----
    Cost O(n d^2 + n d n_directions). A law with infinite fourth or sixth moments
    (e.g. Student's t with few degrees of freedom) makes the standard errors
    unreliable; so does a small n. Observed for standard Gaussian inputs in d = 3
    (300 draws each, level 0.01): the fourth-cumulant family rejected 3.7% of the draws
    at n = 1,000, 2.3% at n = 3,000 and 1.3% at n = 10,000; the other families stayed
    within 2% (tests/test_diagnostics.py checks n = 10,000).

    References
    ----------
    The assumptions tested are those of A. Bakshi, R. Jayaram, D. P. Woodruff,
    "Learning two layer rectified neural networks in polynomial time", COLT 2019,
    PMLR 99:195-268, Section 1 (Gaussian inputs), and R. Ge, R. Kuditipudi, Z. Li,
    X. Wang, "Learning two-layer neural networks with symmetric inputs", ICLR 2019,
    Section 2 (symmetric inputs).
    """
    X, _ = check_samples(X, min_samples=20)
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d, n = X.shape
    n_dir = (
        d
        if n_directions is None
        else check_int("n_directions", n_directions, minimum=0)
    )
    gen = rng_from(rng)
    W = gen.standard_normal((n_dir, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    directions = np.vstack([np.eye(d), W])

    mean_z = _max_z(X.mean(axis=1), X)
    iu = np.triu_indices(d)
    products = X[iu[0]] * X[iu[1]]  # (d(d+1)/2, n)
    covariance_z = _max_z(products.mean(axis=1) - np.eye(d)[iu], products)
    P = directions @ X
    p2, p3, p4 = P**2, P**3, P**4
    skewness_z = _max_z(p3.mean(axis=1), p3)
    m2 = p2.mean(axis=1, keepdims=True)
    kurtosis_z = _max_z(p4.mean(axis=1) - 3 * m2[:, 0] ** 2, p4 - 6 * m2 * p2)

    t = directions.shape[0]
    crit = {
        "mean": _critical_z(level, d),
        "covariance": _critical_z(level, iu[0].size),
        "skewness": _critical_z(level, t),
        "kurtosis": _critical_z(level, t),
    }
    centred = mean_z <= crit["mean"] and skewness_z <= crit["skewness"]
    if not centred:
        law = "asymmetric"
    elif kurtosis_z > crit["kurtosis"]:
        law = "symmetric"
    elif covariance_z > crit["covariance"]:
        law = "gaussian"
    else:
        law = "isotropic gaussian"
    return InputLawCheck(
        n=n,
        d=d,
        level=level,
        mean_z=mean_z,
        covariance_z=covariance_z,
        skewness_z=skewness_z,
        kurtosis_z=kurtosis_z,
        critical_z=crit,
        law=law,
    )


@dataclass(frozen=True, repr=False)
class InputWhitening:
    """A linear map ``z = W x`` with ``W S W^T = I_d`` for the inputs' second moment
    ``S = X X^T / n``, made by :func:`whiten_inputs`.

    A network ``U f(V_z z)`` learned on the whitened inputs is the network
    ``U f(V_z W x)`` of the original inputs: :meth:`network_for_inputs` returns it.

    Attributes
    ----------
    transform : ndarray, shape (d, d)
        W.
    inverse : ndarray, shape (d, d)
        ``W^{-1} = S W^T``.
    """

    transform: np.ndarray
    inverse: np.ndarray

    def apply(self, X) -> np.ndarray:
        """The whitened inputs ``W X`` (d, n)."""
        X = as_matrix("X", X)
        if X.shape[0] != self.transform.shape[1]:
            raise ValueError(
                f"X must have d={self.transform.shape[1]} rows, got shape {X.shape}"
            )
        return self.transform @ X

    def network_for_inputs(self, network: TwoLayerNetwork) -> TwoLayerNetwork:
        """The network of the original inputs: V = V_z W, same U and activation."""
        if not isinstance(network, TwoLayerNetwork):
            raise TypeError(
                f"network must be a TwoLayerNetwork, got {type(network).__name__}"
            )
        return TwoLayerNetwork(
            network.U, network.V @ self.transform, network.activation
        )

    def __repr__(self) -> str:
        s = np.linalg.svd(self.transform, compute_uv=False)
        return (
            f"InputWhitening(d={self.transform.shape[0]}, condition={s[0] / s[-1]:.3g})"
        )


def whiten_inputs(X) -> InputWhitening:
    """The whitening of the inputs by their second moment ``S = X X^T / n``.

    The model has no biases, so the inputs are not centred: ``W`` is built from the
    uncentred second moment, and ``U f(V x) = U f(V W^{-1} z)`` holds exactly for
    ``z = W x``. If x is Gaussian with mean 0 and covariance Sigma, z is close to
    ``N(0, I_d)`` (exactly so only with the population Sigma; the error in ``S`` is of
    order ``sqrt(d / n)``).

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns, n >= d.

    Returns
    -------
    InputWhitening
        ``transform`` W with ``W S W^T = I_d``, its inverse, ``apply`` and
        ``network_for_inputs``.

    Raises
    ------
    ValueError, TypeError
        X not a finite real (d, n) array with n >= d, or S numerically singular
        (its smallest eigenvalue below 1e-12 times its largest).

    Notes
    -----
    Cost O(n d^2 + d^3).

    References
    ----------
    The whitening step of A. Anandkumar, R. Ge, D. Hsu, S. Kakade, M. Telgarsky,
    "Tensor decompositions for learning latent variable models", JMLR 15 (2014),
    Section 4.3, applied to the inputs.
    """
    X, _ = check_samples(X, min_samples=1)
    d, n = X.shape
    if n < d:
        raise ValueError(
            f"X has n={n} samples; whitening needs at least d={d} to estimate the"
            " d x d second moment"
        )
    S = X @ X.T / n
    try:
        W = whitening(S, d)
    except ValueError as exc:
        raise ValueError(
            f"the second moment X X^T / n of X is numerically singular ({exc});"
            " the inputs lie in a subspace: project them onto it first"
        ) from None
    return InputWhitening(transform=W, inverse=S @ W.T)


@dataclass(frozen=True, repr=False)
class HiddenUnitEstimate:
    """What :func:`estimate_hidden_units` found.

    Attributes
    ----------
    k : int
        The suggested number of hidden units: how many singular values of the
        second-order moment exceed ``factor * moment_noise``.
    moment_singular_values : ndarray, shape (d,)
        Singular values of the d x (m d) matrix ``[T2[1], ..., T2[m]]``, largest
        first, where ``T2[r] = (1/n) sum_j y_rj (x_j x_j^T - I)``.
    moment_noise : float
        Estimated size of the sampling error of that matrix (spectral norm): the
        largest spectral norm over ``n_flips`` sign-flipped copies.
    factor : float
        The safety factor of the threshold.
    label_singular_values : ndarray, shape (min(m, n),)
        Singular values of ``Y / sqrt(n)``, largest first. With noise-free labels
        and m >= k, exactly k of them are nonzero (up to rounding).
    """

    k: int
    moment_singular_values: np.ndarray
    moment_noise: float
    factor: float
    label_singular_values: np.ndarray

    def __repr__(self) -> str:
        s = ", ".join(f"{v:.2g}" for v in self.moment_singular_values[: self.k + 2])
        return (
            f"HiddenUnitEstimate(k={self.k}, moment_singular_values=[{s}, ...], "
            f"moment_noise={self.moment_noise:.2g}, factor={self.factor:g})"
        )


def estimate_hidden_units(X, Y, *, factor: float = 1.0, n_flips: int = 20, rng=None):
    """Estimate the number k of hidden units from the spectrum of the second-order
    moment.

    For ``x ~ N(0, I_d)`` and ``y = U f(V x) + e`` (e mean-zero, independent of x),
    ``T2[r] = E[y_r (x x^T - I)] = sum_i c_2(||v_i||) U_ri vbar_i vbar_i^T`` with
    ``vbar_i = v_i / ||v_i||``: the stacked matrix ``[T2[1], ..., T2[m]]`` has rank k
    when the vbar_i are linearly independent, no column of U is zero and
    ``c_2(s) = E[f(s z) He_2(z)] / sqrt(2) != 0`` (for the ReLU, ``c_2(s) = s /
    (2 sqrt(pi))``). Its empirical version has k singular values of the size of the
    signal and d - k of the size of the sampling error. The sampling error is
    estimated by sign flips: with independent random signs eps_j, the matrix made
    from ``eps_j y_j`` has mean 0 and about the spread of the empirical T2 around its
    mean (a multiplier bootstrap). The suggested k counts the singular values above
    ``factor`` times the largest spectral norm over ``n_flips`` flips.

    Parameters
    ----------
    X : array_like, shape (d, n)
        Inputs as columns, assumed ``N(0, I_d)`` (see :func:`check_input_law`).
    Y : array_like, shape (m, n) or (n,)
        Labels.
    factor : float, default 1.0
        Safety factor (> 0) of the threshold. By Weyl's inequality a singular value
        of the empirical matrix exceeds the sampling error's spectral norm only if
        the population's is nonzero, so 1 counts only units the data support; a
        larger factor asks for a margin.
    n_flips : int, default 20
        Number of sign-flipped copies.
    rng : int or numpy.random.Generator, optional
        Draws the signs.

    Returns
    -------
    HiddenUnitEstimate
        The suggested k, the two spectra and the noise level.

    Raises
    ------
    ValueError, TypeError
        Bad shapes, non-finite entries, fewer than 2 samples, factor <= 0 or
        n_flips < 1.

    Notes
    -----
    Cost O((n_flips + 1) (n m d^2 + m d^3)). The moment spectrum needs Gaussian
    inputs (for other laws ``E[f(v^T x) (x x^T - I)]`` is not of rank one) and
    ``c_2 != 0`` (not for odd activations such as tanh); a weak unit, small ``|U_ri|
    c_2(||v_i||)``, hides below the noise until n is large.

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
    networks in polynomial time", COLT 2019, PMLR 99:195-268 (the second-order
    moment T2). The sign-flip estimate of a sum's fluctuation is the Rademacher
    multiplier bootstrap, e.g. V. Chernozhukov, D. Chetverikov, K. Kato, "Gaussian
    approximations and multiplier bootstrap for maxima of sums of high-dimensional
    random vectors", Annals of Statistics 41(6), 2013.
    """
    X, Y = check_samples(X, Y, min_samples=2)
    factor = float(factor)
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor}")
    n_flips = check_int("n_flips", n_flips, minimum=1)
    gen = rng_from(rng)
    d, n = X.shape
    m = Y.shape[0]

    def stacked_norms(labels, full):
        _, _, T2 = second_order_moments(X, labels)
        stacked = np.transpose(T2, (1, 0, 2)).reshape(d, m * d)
        if full:
            return np.linalg.svd(stacked, compute_uv=False)
        return np.linalg.norm(stacked, 2)

    s = stacked_norms(Y, True)
    noise = max(
        stacked_norms(Y * gen.choice([-1.0, 1.0], size=n), False)
        for _ in range(n_flips)
    )
    k = int(np.sum(s > factor * noise))
    labels = np.linalg.svd(Y / np.sqrt(n), compute_uv=False)
    return HiddenUnitEstimate(
        k=k,
        moment_singular_values=s,
        moment_noise=float(noise),
        factor=factor,
        label_singular_values=labels,
    )
