"""Polynomial regression: least squares on all monomials of degree <= q of the inputs.

The learner of Daniely, Srebro and Vardi (2023) in spirit: a random constant-depth
network is close to a polynomial of bounded degree (its shadow, :mod:`relulearn.deep`),
so fitting all monomials of that degree learns it. :func:`monomial_features` builds the
features, :func:`fit_polynomial` fits them, and :class:`PolynomialFit` evaluates the
fitted polynomial.

References
----------
.. [1] A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
   NeurIPS 2023, arXiv:2305.16508, §1.1 (Theorem 1.1, Corollary 1.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_matrix, check_int, check_samples

__all__ = ["PolynomialFit", "fit_polynomial", "monomial_features"]


def monomial_features(X, degree: int) -> np.ndarray:
    """All monomials of degree <= q of the coordinates of x / sqrt(d): shape (C(d + q,
    q), n).

    Parameters
    ----------
    X : array_like, (d, n)
    degree : int
        q >= 0.

    Returns
    -------
    ndarray, (C(d + q, q), n)

    Notes
    -----
    Built degree by degree (each monomial is a parent times one coordinate), O(C(d + q,
    q) n). The 1/sqrt(d) scaling puts inputs of norm sqrt(d) on the unit sphere, which
    keeps the least-squares problem well conditioned.
    """
    X = as_matrix("X", X)
    D = check_int("degree", degree, minimum=0)
    d, n = X.shape
    Z = X / math.sqrt(d)
    feats = [np.ones((1, n))]
    prev, prev_idx = np.ones((1, n)), [()]
    for _ in range(D):
        new, new_idx = [], []
        for row, idx in zip(prev, prev_idx):
            start = idx[-1] if idx else 0
            for j in range(start, d):
                new.append(row * Z[j])
                new_idx.append(idx + (j,))
        prev, prev_idx = np.array(new), new_idx
        feats.append(prev)
    return np.vstack(feats)


@dataclass(frozen=True, eq=False)
class PolynomialFit:
    """A fitted polynomial of degree <= q on the monomials of x / sqrt(d).

    Attributes
    ----------
    degree : int
    input_dim : int
    coef : ndarray (n_features,)
    ridge : float
        The ridge parameter used.
    train_mse : float
    """

    degree: int
    input_dim: int
    coef: np.ndarray = field(repr=False)
    ridge: float = 0.0
    train_mse: float = float("nan")

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[0])

    def __call__(self, X) -> np.ndarray:
        """Predictions, shape (n,)."""
        X = as_matrix("X", X)
        if X.shape[0] != self.input_dim:
            raise ValueError(
                f"X must have {self.input_dim} rows (input dimension), got shape"
                f" {X.shape}"
            )
        return self.coef @ monomial_features(X, self.degree)

    def __repr__(self) -> str:
        return (
            f"PolynomialFit(degree={self.degree}, input_dim={self.input_dim}, "
            f"n_features={self.n_features}, ridge={self.ridge:.3g},"
            f" train_mse={self.train_mse:.3e})"
        )


def fit_polynomial(X, y, degree: int, *, ridge: float = 0.0) -> PolynomialFit:
    """Least squares (ridge if ``ridge > 0``) on all monomials of degree <= q.

    Parameters
    ----------
    X : array_like, (d, n)
    y : array_like, (n,) or (1, n)
    degree : int
        q >= 0.
    ridge : float
        lambda >= 0; minimises ||y - c^T Phi||^2 / n + lambda ||c||^2.

    Returns
    -------
    PolynomialFit

    Raises
    ------
    ValueError, TypeError
        Bad shapes, negative ridge, or fewer samples than features when ``ridge == 0``.

    Notes
    -----
    p = C(d + q, q) features; cost O(n p^2 + p^3) via the normal equations (ridge) or a
    QR-based least squares (plain).  This is the paper's learner in spirit: a random
    network of constant depth L is close to a polynomial of bounded degree (its shadow
    has degree q^(L-1)), which regression on all monomials of that degree learns in time
    and samples polynomial in the network's size for each fixed accuracy (a PTAS).  How
    the exponent grows with the accuracy depends on the activation: for the ReLU the
    Hermite tail decays only like q^(-3/2), so this route needs a degree polynomial in
    1/eps (chapter 7 of the course). For large p use the kernel (1 + <x, x'> / d)^q
    instead, whose feature space is the same.

    References
    ----------
    A. Daniely, N. Srebro, G. Vardi, "Most Neural Networks Are Almost Learnable",
    NeurIPS 2023, §1.1 (Theorem 1.1 and Corollary 1.2).
    """
    X, Y = check_samples(X, y)
    if Y.shape[0] != 1:
        raise ValueError(
            f"y must be scalar labels, shape (n,) or (1, n), got shape {Y.shape}"
        )
    D = check_int("degree", degree, minimum=0)
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge}")
    Phi = monomial_features(X, D)
    p, n = Phi.shape
    if ridge == 0.0 and n < p:
        raise ValueError(
            f"X has n={n} samples but degree {D} needs at least {p} (the feature"
            " count) without ridge"
        )
    y1 = Y[0]
    if ridge > 0:
        coef = np.linalg.solve(Phi @ Phi.T / n + ridge * np.eye(p), Phi @ y1 / n)
    else:
        coef = np.linalg.lstsq(Phi.T, y1, rcond=None)[0]
    mse = float(np.mean((coef @ Phi - y1) ** 2))
    return PolynomialFit(D, X.shape[0], coef, ridge, mse)
