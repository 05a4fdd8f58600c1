"""Activation functions with their derivatives and the flags the algorithms need.

An :class:`Activation` is a small frozen object: ``act(z)`` evaluates it entrywise,
``act.derivative(z)`` its derivative (the right derivative at kinks).  The flags say
what the theory needs to know:

* ``rectified``: f(z) = 0 for z <= 0 and f(z) > 0 for z > 0 (Bakshi, Jayaram and
  Woodruff's class);
* ``degree``: the degree p of positive homogeneity, f(cz) = c^p f(z) for c > 0, or
  ``None``;
* ``kinks``: points where f or f' is not smooth (quadrature splits there).

References
----------
.. [1] A. Bakshi, R. Jayaram, D. P. Woodruff, "Learning two layer rectified neural
   networks in polynomial time", COLT 2019, PMLR 99:195-268.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "erf",
    "get_activation",
    "leaky_relu",
    "linear",
    "quadratic",
    "relu",
    "sigmoid",
    "softplus",
    "squared_relu",
    "step",
    "tanh",
]


@dataclass(frozen=True, eq=False)
class Activation:
    """An entrywise activation function f with its derivative and flags.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"relu"`` or ``"leaky_relu(0.01)"``.
    value : callable
        Vectorised f.
    derivative : callable
        Vectorised f' (right derivative at kinks).
    rectified : bool
        f(z) = 0 for z <= 0 and f(z) > 0 for z > 0.
    degree : float or None
        Degree of positive homogeneity (f(cz) = c^degree f(z) for c > 0), or ``None``.
    kinks : tuple of float
        Points where f or f' is not smooth.
    """

    name: str
    value: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    derivative: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    rectified: bool = False
    degree: float | None = None
    kinks: tuple[float, ...] = ()

    @property
    def positively_homogeneous(self) -> bool:
        """True when f(cz) = c^p f(z) for every c > 0."""
        return self.degree is not None

    def __call__(self, z):
        return self.value(np.asarray(z, dtype=float))

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Activation) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def _relu(z):
    return np.maximum(z, 0.0)


#: The ReLU f(z) = max(z, 0): rectified, positively homogeneous of degree 1, with one
#: kink at 0.
relu = Activation(
    "relu", _relu, lambda z: (np.asarray(z) > 0).astype(float), True, 1.0, (0.0,)
)


def leaky_relu(slope: float = 0.01) -> Activation:
    """Leaky ReLU f(z) = z for z > 0 and ``slope * z`` otherwise (not rectified unless
    slope = 0).

    Parameters
    ----------
    slope : float
        The slope for z <= 0.

    Returns
    -------
    Activation
        Named ``"leaky_relu(<slope>)"``, positively homogeneous of degree 1, one kink at
        0.

    Raises
    ------
    ValueError
        ``slope`` is not finite.
    """
    slope = float(slope)
    if not np.isfinite(slope):
        raise ValueError(f"slope must be finite, got {slope}")
    return Activation(
        f"leaky_relu({slope:g})",
        lambda z: np.where(z > 0, z, slope * z),
        lambda z: np.where(np.asarray(z) > 0, 1.0, slope),
        slope == 0.0,
        1.0,
        (0.0,),
    )


#: The squared ReLU f(z) = max(z, 0)^2: rectified, positively homogeneous of degree 2.
squared_relu = Activation(
    "squared_relu",
    lambda z: np.maximum(z, 0.0) ** 2,
    lambda z: 2.0 * np.maximum(z, 0.0),
    True,
    2.0,
    (0.0,),
)
#: The step f(z) = 1 for z > 0, else 0: rectified, positively homogeneous of degree 0
#: (its derivative is taken as 0).
step = Activation(
    "step",
    lambda z: (z > 0).astype(float),
    lambda z: np.zeros_like(z, dtype=float),
    True,
    0.0,
    (0.0,),
)
#: The softplus f(z) = log(1 + e^z): smooth, neither rectified nor homogeneous.
softplus = Activation(
    "softplus", lambda z: np.logaddexp(0.0, z), lambda z: special.expit(z)
)
#: The logistic sigmoid f(z) = 1 / (1 + e^(-z)).
sigmoid = Activation(
    "sigmoid", special.expit, lambda z: special.expit(z) * special.expit(-z)
)
#: The hyperbolic tangent f(z) = tanh(z).
tanh = Activation("tanh", np.tanh, lambda z: 1.0 / np.cosh(z) ** 2)
#: The error function f(z) = erf(z).
erf = Activation(
    "erf", special.erf, lambda z: 2.0 / np.sqrt(np.pi) * np.exp(-np.square(z))
)
#: The identity f(z) = z (positively homogeneous of degree 1, not rectified): the
#: network is then the linear map ``x -> U V x``.
linear = Activation(
    "linear",
    lambda z: np.array(z, dtype=float),
    lambda z: np.ones_like(z, dtype=float),
    False,
    1.0,
)
#: The square f(z) = z^2 (positively homogeneous of degree 2, not rectified).
quadratic = Activation(
    "quadratic", np.square, lambda z: 2.0 * np.asarray(z, dtype=float), False, 2.0
)

_REGISTRY = {
    a.name: a
    for a in (relu, squared_relu, step, softplus, sigmoid, tanh, erf, linear, quadratic)
}
_REGISTRY["leaky_relu"] = leaky_relu()

#: The names :func:`get_activation` accepts (a sorted tuple of str): ``'erf'``,
#: ``'leaky_relu'``, ``'linear'``, ``'quadratic'``, ``'relu'``, ``'sigmoid'``,
#: ``'softplus'``, ``'squared_relu'``, ``'step'`` and ``'tanh'``.
ACTIVATION_NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))


def get_activation(activation: str | Activation) -> Activation:
    """Return the :class:`Activation` for a name or pass an :class:`Activation` through.

    Parameters
    ----------
    activation : str or Activation
        One of :data:`ACTIVATION_NAMES` (``"leaky_relu"`` has slope 0.01; call
        :func:`leaky_relu` for another slope), or an :class:`Activation`.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        Unknown name.
    TypeError
        Neither a string nor an :class:`Activation`.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        try:
            return _REGISTRY[activation]
        except KeyError:
            raise ValueError(
                f"activation {activation!r} is unknown; expected one of"
                f" {', '.join(ACTIVATION_NAMES)}"
                " or an Activation"
            ) from None
    raise TypeError(
        "activation must be a name (str) or an Activation, got"
        f" {type(activation).__name__}"
    )
