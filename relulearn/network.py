"""The planted two-layer network ``Y = U f(V X)``.

Notation as on the course's notation page: ``V`` (k x d) is the hidden layer, its row
``v_i^T`` is hidden unit i; ``U`` (m x k) is the output layer, its column ``u_i`` is the
output weight of unit i; ``f`` is the activation, applied entrywise; samples are the
columns of ``X`` (d x n).

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", COLT 2019, PMLR 99:195-268.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_matrix, check_int, rng_from
from .activations import Activation, get_activation

__all__ = ["TwoLayerNetwork", "planted_network"]


@dataclass(frozen=True, repr=False, eq=False)
class TwoLayerNetwork:
    """A two-layer network x -> U f(V x) (no biases).

    The arrays are copied and made read-only, so a network cannot change after it is
    made. ``net(X)`` evaluates ``U f(V X)`` for samples as columns (``X`` of shape
    (d, n), or one sample of shape (d,)).

    Parameters
    ----------
    U : array_like, shape (m, k)
        Output layer; its column ``u_i`` is the output weight of hidden unit i.
    V : array_like, shape (k, d)
        Hidden layer; its row ``v_i^T`` is hidden unit i.
    activation : str or Activation, default "relu"
        The activation f, applied entrywise.
    """

    U: np.ndarray
    V: np.ndarray
    activation: Activation = "relu"  # type: ignore[assignment]

    def __post_init__(self):
        U = as_matrix("U", self.U).copy()
        V = as_matrix("V", self.V).copy()
        if U.shape[1] != V.shape[0]:
            raise ValueError(
                f"U has {U.shape[1]} columns but V has {V.shape[0]} rows; both must"
                " equal the number"
                " of hidden units k (U is (m, k), V is (k, d))"
            )
        U.setflags(write=False)
        V.setflags(write=False)
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "V", V)
        object.__setattr__(self, "activation", get_activation(self.activation))

    @property
    def n_hidden(self) -> int:
        """Number of hidden units k."""
        return self.V.shape[0]

    @property
    def input_dim(self) -> int:
        """Input dimension d."""
        return self.V.shape[1]

    @property
    def output_dim(self) -> int:
        """Output dimension m."""
        return self.U.shape[0]

    def _inputs(self, X) -> tuple[np.ndarray, bool]:
        arr = np.asarray(X, dtype=float)
        single = arr.ndim == 1
        X = as_matrix("X", arr[:, None] if single else arr)
        if X.shape[0] != self.input_dim:
            raise ValueError(
                f"X must have d={self.input_dim} rows (samples are columns), got shape"
                f" {X.shape}"
            )
        return X, single

    def hidden(self, X) -> np.ndarray:
        """The hidden layer f(V X), shape (k, n). Cost O(k d n)."""
        X, single = self._inputs(X)
        H = self.activation(self.V @ X)
        return H[:, 0] if single else H

    def __call__(self, X) -> np.ndarray:
        """The output U f(V X), shape (m, n) (or (m,) for one sample).

        Cost O(k n (d + m)).
        """
        X, single = self._inputs(X)
        Y = self.U @ self.activation(self.V @ X)
        return Y[:, 0] if single else Y

    def canonical(self) -> TwoLayerNetwork:
        """The canonical form: the same function with unit rows of V and the row norms
        moved into U.

        For an activation positively homogeneous of degree p, f(c z) = c^p f(z) for c >
        0, so ``U f(V x) = (U N^p) f(N^{-1} V x)`` with ``N = diag(||v_1||, ...,
        ||v_k||)``: the rows become ``v_i / ||v_i||`` and the output weights ``u_i
        ||v_i||^p``. It is the only rescaling ``(U D^{-p}, D V)`` (D positive diagonal)
        of the network with unit rows.

        Raises
        ------
        ValueError
            If the activation is not positively homogeneous (no rescaling symmetry), or
            a row of V is zero.
        """
        act = self.activation
        if not act.positively_homogeneous:
            raise ValueError(
                "canonical form needs a positively homogeneous activation;"
                f" {act.name!r} is not"
            )
        s = np.linalg.norm(self.V, axis=1)
        if np.any(s == 0):
            raise ValueError(
                f"V has zero rows {np.flatnonzero(s == 0).tolist()}; they have no"
                " canonical form"
            )
        return TwoLayerNetwork(self.U * s**act.degree, self.V / s[:, None], act)

    def __repr__(self) -> str:
        m, k = self.U.shape
        return (
            f"TwoLayerNetwork(d={self.input_dim}, k={k}, m={m},"
            f" activation={self.activation.name!r})"
        )


def _orthonormal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A Haar-random matrix with orthonormal columns (rows >= cols)."""
    Q, R = np.linalg.qr(rng.standard_normal((rows, cols)))
    return Q * np.sign(np.diag(R))


def planted_network(
    d: int,
    k: int,
    m: int,
    *,
    rng=None,
    condition: float | None = None,
    activation: str | Activation = "relu",
) -> TwoLayerNetwork:
    """A random ground-truth network for experiments.

    Parameters
    ----------
    d, k, m : int
        Input dimension, hidden units (k <= d), outputs.
    rng : int, Generator or None
        Randomness.
    condition : float or None
        ``None``: V has i.i.d. N(0, 1/d) entries (so E ||v_i||^2 = 1). A number kappa >=
        1: ``V = Q1 diag(linspace(1, kappa, k)) Q2^T`` with Haar-random Q1 (k x k) and
        Q2 (d x k), so V has condition number exactly kappa (the construction of the
        experiments of Zhong et al. 2017, §7, as we recall it).
    activation : str or Activation
        The network's activation.

    Returns
    -------
    TwoLayerNetwork
        ``U`` has i.i.d. N(0, 1) entries (drawn after V from the same generator).

    Notes
    -----
    With probability one V has rank k and no column of U is zero: the hypotheses under
    which a ReLU network is identified by its function up to permutation and positive
    rescaling of the hidden units (chapter 1 of the course). Cost O(d k^2 + m k).
    """
    d = check_int("d", d)
    k = check_int("k", k)
    m = check_int("m", m)
    if k > d:
        raise ValueError(
            f"k={k} hidden units exceeds the input dimension d={d}; this needs k <= d"
        )
    gen = rng_from(rng)
    if condition is None:
        V = gen.standard_normal((k, d)) / np.sqrt(d)
    else:
        condition = float(condition)
        if not condition >= 1:
            raise ValueError(
                f"condition must be a number >= 1 (or None), got {condition}"
            )
        V = (
            _orthonormal(gen, k, k)
            @ np.diag(np.linspace(1.0, condition, k))
            @ _orthonormal(gen, d, k).T
        )
    U = gen.standard_normal((m, k))
    return TwoLayerNetwork(U, V, activation)
