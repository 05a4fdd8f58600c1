"""Input laws (samples as columns) and labelled samples of a network.

Every law here is centred with identity covariance, so E x = 0 and E x x^T = I_d, which
makes the laws comparable; they differ in their higher moments.  ``is_symmetric`` says
whether x and -x have the same law (the assumption of Ge, Kuditipudi, Li and Wang 2019,
chapter 6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_int, rng_from
from .network import TwoLayerNetwork

__all__ = [
    "SYMMETRIC_LAWS",
    "CenteredExponential",
    "Gaussian",
    "GaussianMixture",
    "InputLaw",
    "Laplace",
    "Samples",
    "StudentT",
    "UniformBall",
    "UniformCube",
    "UniformSphere",
    "sample",
]


class InputLaw:
    """Base class: a law on R^d with zero mean and identity covariance.

    Subclasses implement ``_draw(d, n, rng)`` returning a (d, n) array and set
    ``is_symmetric``.
    """

    is_symmetric: bool = True

    def sample(self, d: int, n: int, rng=None) -> np.ndarray:
        """Draw ``n`` samples in ``R^d`` as the columns of a (d, n) array.

        Cost O(d n).
        """
        d = check_int("d", d)
        n = check_int("n", n)
        return self._draw(d, n, rng_from(rng))

    def fourth_moment(self, d: int) -> float:
        """E x_1^4 for one coordinate in dimension d (closed form; used by the
        tests).
        """
        raise NotImplementedError

    def _draw(
        self, d: int, n: int, rng: np.random.Generator
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Gaussian(InputLaw):
    """The standard Gaussian N(0, I_d)."""

    def _draw(self, d, n, rng):
        return rng.standard_normal((d, n))

    def fourth_moment(self, d):
        return 3.0


@dataclass(frozen=True)
class UniformCube(InputLaw):
    """Uniform on the cube [-sqrt(3), sqrt(3)]^d (independent coordinates, unit
    variance).
    """

    def _draw(self, d, n, rng):
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=(d, n))

    def fourth_moment(self, d):
        return 9.0 / 5.0


@dataclass(frozen=True)
class GaussianMixture(InputLaw):
    """A symmetric two-component Gaussian mixture in each coordinate, with unit
    variance.

    Each coordinate is independently ``±a + b z`` with a fair random sign, ``a =
    separation``, ``b = sqrt(1 - a^2)`` and ``z ~ N(0, 1)``: bimodal for a close to 1.

    Parameters
    ----------
    separation : float in [0, 1)
        Half the distance between the two modes of each coordinate.
    """

    separation: float = 0.9

    def __post_init__(self):
        if not 0.0 <= self.separation < 1.0:
            raise ValueError(
                "separation must be in [0, 1) so the covariance stays I, got"
                f" {self.separation}"
            )

    def _draw(self, d, n, rng):
        a = self.separation
        signs = rng.choice([-1.0, 1.0], size=(d, n))
        return a * signs + np.sqrt(1.0 - a * a) * rng.standard_normal((d, n))

    def fourth_moment(self, d):
        a2 = self.separation**2
        b2 = 1.0 - a2
        return a2 * a2 + 6.0 * a2 * b2 + 3.0 * b2 * b2


@dataclass(frozen=True)
class Laplace(InputLaw):
    """Independent Laplace coordinates with scale 1/sqrt(2) (unit variance)."""

    def _draw(self, d, n, rng):
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), size=(d, n))

    def fourth_moment(self, d):
        return 6.0


@dataclass(frozen=True)
class StudentT(InputLaw):
    """Independent Student-t coordinates with ``df`` degrees of freedom, scaled to unit
    variance.

    A coordinate has ``E|x_j|^p < inf`` exactly for ``p < df``.  With the default ``df =
    6`` the fourth moments are finite but the sixth and eighth are not, so an average of
    terms of size ``||x||^4`` (such as chapter 6's detector operator) has infinite
    variance and the central limit theorem does not apply to it.

    Parameters
    ----------
    df : float > 4
        Degrees of freedom (finite fourth moment needs df > 4).
    """

    df: float = 6.0

    def __post_init__(self):
        if not self.df > 4:
            raise ValueError(
                f"df must be > 4 so that the fourth moment is finite, got {self.df}"
            )

    def _draw(self, d, n, rng):
        return rng.standard_t(self.df, size=(d, n)) * np.sqrt((self.df - 2.0) / self.df)

    def fourth_moment(self, d):
        return 3.0 * (self.df - 2.0) / (self.df - 4.0)


@dataclass(frozen=True)
class UniformBall(InputLaw):
    """Uniform in the ball of radius sqrt(d + 2) (then E x x^T = I)."""

    def _draw(self, d, n, rng):
        g = rng.standard_normal((d, n))
        g /= np.linalg.norm(g, axis=0)
        r = rng.uniform(size=n) ** (1.0 / d)
        return g * (r * np.sqrt(d + 2.0))

    def fourth_moment(self, d):
        return 3.0 * (d + 2.0) / (d + 4.0)


@dataclass(frozen=True)
class UniformSphere(InputLaw):
    """Uniform on the sphere of radius sqrt(d) (the input law of Daniely et al.
    2023).
    """

    def _draw(self, d, n, rng):
        g = rng.standard_normal((d, n))
        return g * (np.sqrt(d) / np.linalg.norm(g, axis=0))

    def fourth_moment(self, d):
        return 3.0 * d / (d + 2.0)


@dataclass(frozen=True)
class CenteredExponential(InputLaw):
    """Independent coordinates ``e - 1`` with ``e ~ Exp(1)``: mean 0, variance 1, *not*
    symmetric.
    """

    is_symmetric = False

    def _draw(self, d, n, rng):
        return rng.exponential(1.0, size=(d, n)) - 1.0

    def fourth_moment(self, d):
        return 9.0


#: One instance of each symmetric non-Gaussian law, for experiments that loop over
#: laws: ``UniformCube()``, ``GaussianMixture()``, ``Laplace()``, ``StudentT()`` and
#: ``UniformBall()``, with their default parameters.
SYMMETRIC_LAWS: tuple[InputLaw, ...] = (
    UniformCube(),
    GaussianMixture(),
    Laplace(),
    StudentT(),
    UniformBall(),
)


@dataclass(frozen=True, repr=False, eq=False)
class Samples:
    """Labelled samples: ``X`` (d, n), ``Y = Y_clean + E`` (m, n) and the noiseless
    ``Y_clean``.

    Made by :func:`sample`; unpacks as ``X, Y = samples``.

    Attributes
    ----------
    X : ndarray, shape (d, n)
        The inputs, one sample per column.
    Y : ndarray, shape (m, n)
        The labels, noise included.
    Y_clean : ndarray, shape (m, n)
        The noiseless labels ``U f(V X)``.
    """

    X: np.ndarray
    Y: np.ndarray
    Y_clean: np.ndarray

    def __iter__(self):
        yield self.X
        yield self.Y

    def __repr__(self) -> str:
        d, n = self.X.shape
        return f"Samples(d={d}, n={n}, m={self.Y.shape[0]})"


def sample(
    network: TwoLayerNetwork,
    n: int,
    *,
    rng=None,
    noise: float = 0.0,
    inputs: InputLaw | None = None,
) -> Samples:
    """Draw ``n`` labelled samples ``Y = U f(V X) + E`` of a network.

    Parameters
    ----------
    network : TwoLayerNetwork
        The ground truth.
    n : int
        Number of samples.
    rng : int, Generator or None
        Randomness (inputs first, then noise).
    noise : float >= 0
        Standard deviation of the i.i.d. mean-zero Gaussian noise E.
    inputs : InputLaw, default Gaussian()
        The law of the columns of X.

    Returns
    -------
    Samples
        ``X`` (d, n), ``Y`` (m, n), ``Y_clean`` (m, n). Unpacks as ``X, Y =
        sample(...)``.

    Notes
    -----
    Cost O(n k (d + m)).
    """
    if not isinstance(network, TwoLayerNetwork):
        raise TypeError(
            f"network must be a TwoLayerNetwork, got {type(network).__name__}"
        )
    n = check_int("n", n)
    noise = float(noise)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite standard deviation >= 0, got {noise}")
    inputs = Gaussian() if inputs is None else inputs
    if not isinstance(inputs, InputLaw):
        raise TypeError(
            "inputs must be an InputLaw such as Gaussian(), got"
            f" {type(inputs).__name__}"
        )
    gen = rng_from(rng)
    X = inputs.sample(network.input_dim, n, gen)
    Y_clean = network(X)
    Y = (
        Y_clean + noise * gen.standard_normal(Y_clean.shape)
        if noise > 0
        else Y_clean.copy()
    )
    return Samples(X, Y, Y_clean)
