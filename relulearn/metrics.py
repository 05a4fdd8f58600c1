"""How recovery is measured: canonical form, matching of hidden units, relative errors,
rates.

The two-layer model ``U f(V x)`` (hidden units the rows ``v_i^T`` of V, output weights
the columns ``u_i`` of U) has symmetries: permuting the hidden units, and, for f
positively homogeneous of degree p, rescaling unit i by c > 0 (u_i -> u_i / c^p, v_i ->
c v_i).  :func:`recovery_error` measures the errors epsilon_U, epsilon_V and
epsilon_pred after removing both: put both networks in canonical form (unit rows of V),
then match units by the Hungarian algorithm.  :func:`bottleneck_weight_error` is the
success measure of Zhong et al. (2017) instead, as we recall it: the weights compared as
given (no rescaling), units matched to minimise the largest relative error, and the
signs of the output weights checked.  :func:`loglog_slope` fits the rate (the exponent)
of an error or a cost against a size.

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", COLT 2019, PMLR 99:195-268, §1 (the recovery problem).
   The canonical form, the matching and the three errors are this package's conventions,
   not the paper's.
.. [2] K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees
   for one-hidden-layer neural networks", ICML 2017, §7 (the success rule of its
   experiments, as we recall it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._validation import check_int
from .inputs import Gaussian, InputLaw
from .network import TwoLayerNetwork

__all__ = [
    "BottleneckWeightError",
    "RecoveryError",
    "bottleneck_weight_error",
    "canonical_form",
    "is_exact",
    "loglog_slope",
    "match_units",
    "matched",
    "recovery_error",
]


def canonical_form(network: TwoLayerNetwork) -> TwoLayerNetwork:
    """The network's canonical form if its activation is positively homogeneous, else
    itself.

    Parameters
    ----------
    network : TwoLayerNetwork

    Returns
    -------
    TwoLayerNetwork
        :meth:`TwoLayerNetwork.canonical` of the network (unit rows of V, the row norms
        moved into U), or the network itself when its activation has no rescaling
        symmetry.

    Raises
    ------
    TypeError
        ``network`` is not a :class:`TwoLayerNetwork`.
    ValueError
        A row of V is zero (it has no canonical form).
    """
    if not isinstance(network, TwoLayerNetwork):
        raise TypeError(
            f"network must be a TwoLayerNetwork, got {type(network).__name__}"
        )
    return network.canonical() if network.activation.positively_homogeneous else network


def match_units(estimate: TwoLayerNetwork, truth: TwoLayerNetwork) -> np.ndarray:
    """The permutation ``perm`` such that estimate unit ``perm[i]`` is matched to true
    unit ``i``.

    Both networks are put in canonical form, then rows of V are matched by minimising
    the total squared distance (``scipy.optimize.linear_sum_assignment``).

    Parameters
    ----------
    estimate, truth : TwoLayerNetwork
        Networks of the same shape (m, k, d).

    Returns
    -------
    ndarray of int, shape (k,)
        ``perm[i]`` is the estimate's unit matched to the truth's unit i.

    Raises
    ------
    TypeError, ValueError
        Not two networks, or networks of different shapes.

    Notes
    -----
    Cost O(k^2 d + k^3).
    """
    _check_pair(estimate, truth)
    Ve = canonical_form(estimate).V
    Vt = canonical_form(truth).V
    cost = ((Vt[:, None, :] - Ve[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


def matched(estimate: TwoLayerNetwork, truth: TwoLayerNetwork) -> TwoLayerNetwork:
    """The estimate in canonical form with its units re-ordered to match ``truth``.

    Parameters
    ----------
    estimate, truth : TwoLayerNetwork
        Networks of the same shape (m, k, d).

    Returns
    -------
    TwoLayerNetwork
        ``canonical_form(estimate)`` with its unit i the one :func:`match_units` pairs
        with the truth's unit i.
    """
    perm = match_units(estimate, truth)
    c = canonical_form(estimate)
    return TwoLayerNetwork(c.U[:, perm], c.V[perm], c.activation)


@dataclass(frozen=True)
class RecoveryError:
    """Relative recovery errors after canonical form and matching.

    Attributes
    ----------
    U : float
        epsilon_U = ``||U_hat - U*||_F / ||U*||_F``, both in canonical form, units
        matched.
    V : float
        epsilon_V = ``max_i ||v_hat_i - v*_i|| / ||v*_i||`` over matched rows (unit rows
        in canonical form).
    prediction : float
        epsilon_pred = ``||U_hat f(V_hat X') - U* f(V* X')||_F / ||U* f(V* X')||_F`` on
        n' fresh inputs X' (NaN when none were drawn).
    """

    U: float
    V: float
    prediction: float

    @property
    def max(self) -> float:
        """The largest of the three errors (of the two weight errors when ``prediction``
        is NaN).
        """
        return (
            max(self.U, self.V)
            if np.isnan(self.prediction)
            else max(self.U, self.V, self.prediction)
        )

    @property
    def weights(self) -> float:
        """``max(U, V)``: the error of the weights alone."""
        return max(self.U, self.V)

    def __repr__(self) -> str:
        return (
            f"RecoveryError(U={self.U:.2e}, V={self.V:.2e},"
            f" prediction={self.prediction:.2e})"
        )


def recovery_error(
    estimate: TwoLayerNetwork,
    truth: TwoLayerNetwork,
    *,
    n_test: int = 10_000,
    inputs: InputLaw | None = None,
    rng=0,
) -> RecoveryError:
    """Relative errors of an estimated network against the truth, up to the model's
    symmetries.

    Parameters
    ----------
    estimate, truth : TwoLayerNetwork
        Same d, k, m. (A :class:`~relulearn.recovery.Recovery` is accepted for
        ``estimate``.)
    n_test : int
        Number of fresh inputs for the prediction error (0: skip it, ``prediction`` is
        NaN).
    inputs : InputLaw, default Gaussian()
        Law of the fresh inputs.
    rng : int or Generator
        Randomness of the fresh inputs (fixed by default, so the metric is
        deterministic).

    Returns
    -------
    RecoveryError

    Notes
    -----
    For an activation that is not positively homogeneous the networks are compared as
    given (no canonical form). For a positively homogeneous activation, when the rows of
    both V are nonzero and the canonical rows of the truth are pairwise distinct, ``U``
    and ``V`` are both zero exactly when the estimate is the truth up to a permutation
    and a positive rescaling of the hidden units. Cost O(k^2 d + k^3 + n_test k (d +
    m)).

    References
    ----------
    A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural networks
    in polynomial time", COLT 2019, §1 (the recovery problem; the metric is this
    package's).
    """
    if hasattr(estimate, "network") and not isinstance(estimate, TwoLayerNetwork):
        estimate = estimate.network
    _check_pair(estimate, truth)
    n_test = check_int("n_test", n_test, minimum=0)
    est = matched(estimate, truth)
    tru = canonical_form(truth)
    eps_U = float(
        np.linalg.norm(est.U - tru.U) / max(np.linalg.norm(tru.U), np.finfo(float).tiny)
    )
    row_norms = np.maximum(np.linalg.norm(tru.V, axis=1), np.finfo(float).tiny)
    eps_V = float(np.max(np.linalg.norm(est.V - tru.V, axis=1) / row_norms))
    if n_test == 0:
        return RecoveryError(eps_U, eps_V, float("nan"))
    law = Gaussian() if inputs is None else inputs
    Xt = law.sample(truth.input_dim, n_test, rng)
    Yt = truth(Xt)
    pred = float(
        np.linalg.norm(estimate(Xt) - Yt)
        / max(np.linalg.norm(Yt), np.finfo(float).tiny)
    )
    return RecoveryError(eps_U, eps_V, pred)


def is_exact(err: RecoveryError, tol: float = 1e-8) -> bool:
    """True when all three errors are below ``tol`` (exact recovery up to round-off).

    Parameters
    ----------
    err : RecoveryError
        What :func:`recovery_error` returned.
    tol : float
        The threshold; the default 1e-8 is round-off for double precision.

    Returns
    -------
    bool
        ``err.max <= tol`` (the prediction error counts only when it was measured).

    Raises
    ------
    TypeError
        ``err`` is not a :class:`RecoveryError`.
    """
    if not isinstance(err, RecoveryError):
        raise TypeError(f"err must be a RecoveryError, got {type(err).__name__}")
    return err.max <= tol


def _check_pair(estimate, truth):
    for name, net in (("estimate", estimate), ("truth", truth)):
        if not isinstance(net, TwoLayerNetwork):
            raise TypeError(
                f"{name} must be a TwoLayerNetwork, got {type(net).__name__}"
            )
    if estimate.V.shape != truth.V.shape or estimate.U.shape != truth.U.shape:
        raise ValueError(
            "estimate has (m, k, d) ="
            f" {(estimate.output_dim, estimate.n_hidden, estimate.input_dim)} but"
            " truth has"
            f" {(truth.output_dim, truth.n_hidden, truth.input_dim)}; they must agree"
        )


@dataclass(frozen=True)
class BottleneckWeightError:
    """The success measure of Zhong et al. (2017) for scalar-output networks (see
    :func:`bottleneck_weight_error`).

    Attributes
    ----------
    max_relative : float
        ``min_pi max_j ||v*_j - v_hat_pi(j)|| / ||v*_j||`` over matchings pi of the
        hidden units.
    signs_match : bool
        ``u_hat_pi(j)`` has the sign of ``u*_j`` for every j under that matching.
    """

    max_relative: float
    signs_match: bool

    def succeeded(self, tol: float = 0.01) -> bool:
        """``max_relative <= tol`` and the signs match (the rule of Zhong et al. 2017,
        §7).
        """
        return bool(self.signs_match and self.max_relative <= tol)

    def __repr__(self) -> str:
        return (
            f"BottleneckWeightError(max_relative={self.max_relative:.2e},"
            f" signs_match={self.signs_match})"
        )


def bottleneck_weight_error(
    estimate: TwoLayerNetwork, truth: TwoLayerNetwork
) -> BottleneckWeightError:
    """Match hidden units and measure ``max_j ||v*_j - v_hat_pi(j)|| / ||v*_j||`` and
    the signs of u.

    Unlike :func:`recovery_error` (canonical form, then the matching of least total
    squared distance, and the errors of U, V and the predictions), the weights are
    compared as given and the matching minimises the *largest* relative error (a
    bottleneck assignment).

    Parameters
    ----------
    estimate, truth : TwoLayerNetwork
        Scalar-output networks with the same k and d; compared as given (no rescaling).
        Zhong et al. write the hidden units w_i and the output weights v_i in {-1, +1};
        here they are the rows v_i of V and the entries u_i of U.

    Returns
    -------
    BottleneckWeightError

    Raises
    ------
    TypeError, ValueError
        Not networks, or different shapes.

    Notes
    -----
    The matching is the one minimising the largest relative error (bottleneck
    assignment: the Hungarian method on thresholded costs over the k^2 candidate
    thresholds).  Cost O(k^5 + k^2 d).

    References
    ----------
    K. Zhong, Z. Song, P. Jain, P. L. Bartlett, I. S. Dhillon, "Recovery guarantees for
    one-hidden-layer neural networks", ICML 2017, §7 (the success rule, as we recall
    it).
    """
    _check_pair(estimate, truth)
    Vt, Ve = np.asarray(truth.V), np.asarray(estimate.V)
    C = (
        np.linalg.norm(Vt[:, None, :] - Ve[None, :, :], axis=2)
        / np.linalg.norm(Vt, axis=1)[:, None]
    )
    best = None
    for t in np.unique(C):
        rows, cols = linear_sum_assignment((C > t).astype(float))
        if np.all(C[rows, cols] <= t):
            best = (float(t), cols)
            break
    t, cols = best
    signs = bool(
        np.all(
            np.sign(np.asarray(estimate.U)[0, cols]) == np.sign(np.asarray(truth.U)[0])
        )
    )
    return BottleneckWeightError(max_relative=t, signs_match=signs)


def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x): the fitted exponent b of y ~ a x^b.

    Parameters
    ----------
    x, y : array_like
        Positive values of the same length (at least 2).

    Returns
    -------
    float

    Notes
    -----
    ``numpy.polyfit`` of degree 1 on the logarithms; O(len(x)).
    """
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])
