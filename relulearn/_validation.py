"""Input checks shared by the public functions (private module).

Every public function of :mod:`relulearn` validates its arguments at the boundary and raises a
``ValueError`` or ``TypeError`` whose message names the argument, what it got, and what it needs.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_matrix(name: str, A, *, ndim: int = 2) -> np.ndarray:
    """Return ``A`` as a finite float64 array with ``ndim`` dimensions, or raise."""
    if isinstance(A, (str, bytes)) or A is None:
        raise TypeError(f"{name} must be a numeric array, got {type(A).__name__}")
    try:
        arr = np.asarray(A, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(A).__name__}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    # one pass and no n-sized boolean mask: a NaN or an infinity makes the sum non-finite; only
    # then are the entries counted (a sum that overflowed from finite entries passes)
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum() if arr.size else 0.0
    if not np.isfinite(total):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite entries; all entries must be finite")
    return arr


def check_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= minimum, or raise (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_samples(X, Y=None, *, min_samples: int = 1):
    """Validate samples-as-columns data.

    Returns ``(X, Y)`` with ``X`` of shape (d, n) and ``Y`` of shape (m, n) (a 1-d ``Y`` of
    length n becomes (1, n)).  ``Y=None`` returns ``(X, None)``.
    """
    X = as_matrix("X", X)
    d, n = X.shape
    if d < 1:
        raise ValueError(f"X must have at least one row (dimension d), got shape {X.shape}")
    if n < min_samples:
        raise ValueError(f"X has n={n} samples (columns); this needs at least {min_samples}")
    if Y is None:
        return X, None
    Yarr = np.asarray(Y) if not isinstance(Y, (str, bytes)) else Y
    if isinstance(Yarr, np.ndarray) and Yarr.ndim == 1:
        Y = as_matrix("Y", Yarr, ndim=1)[None, :]
    else:
        Y = as_matrix("Y", Y)
    if Y.shape[1] != n:
        raise ValueError(
            f"Y must have one column per sample of X: X has n={n} columns, Y has shape {Y.shape}"
            " (labels are columns: Y is (m, n), or (n,) for scalar labels)"
        )
    return X, Y


def check_k(k, d: int) -> int:
    """Validate the number of hidden units against the input dimension."""
    k = check_int("k", k, minimum=1)
    if k > d:
        raise ValueError(f"k={k} hidden units exceeds the input dimension d={d}; this needs k <= d")
    return k


def check_min_samples(n: int, k: int, d: int, who: str) -> None:
    """Raise unless n >= 2 k d, the sample count the moment-based learners need (``who`` names the learner)."""
    if n < 2 * k * d:
        raise ValueError(f"X has n={n} samples; {who} needs at least 2 k d = {2 * k * d}")


def rng_from(rng) -> np.random.Generator:
    """``numpy.random.default_rng`` with a clear error for anything else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, None or a numpy.random.Generator, got {type(rng).__name__}")
