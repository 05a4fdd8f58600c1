"""Input checks shared by the public functions (private module).

Every public function of :mod:`relulearn` validates its arguments at the boundary and
raises a ``ValueError`` or ``TypeError`` whose message names the argument, what it got,
and what it needs.
"""

from __future__ import annotations

import numbers
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np


def as_matrix(name: str, A, *, ndim: int = 2) -> np.ndarray:
    """Return ``A`` as a finite float64 array with ``ndim`` dimensions, or raise.

    Real numbers of any dtype (bool, int, float16/32/64, lists of them) are accepted and
    converted; complex, string and other non-numeric arrays raise a ``TypeError`` that
    names the argument (they are never silently cast).
    """
    return _as_real(name, A, ndim=ndim)[0]


# Arrays a learner's boundary check has accepted, for the duration of that learner's
# call (set by check_learner_input, scoped by recovery.learner_contract). The steps a
# learner calls are public functions that check their own arguments when a user calls
# them; inside a learner they trust views of these arrays instead of re-checking the
# same data (the input check runs once per learner call). None: not inside a learner.
_CHECKED: ContextVar[tuple | None] = ContextVar("relulearn_checked", default=None)


def _is_checked(A) -> bool:
    roots = _CHECKED.get()
    b = A
    while roots and isinstance(b, np.ndarray):
        if any(b is r for r in roots):
            return True
        b = b.base
    return False


def mark_checked(*arrays: np.ndarray) -> None:
    """Register arrays made from checked data (e.g. subsets of samples) as checked,
    inside a learner's scope.
    """
    if _CHECKED.get() is not None:  # outside a learner's scope nothing is remembered
        _CHECKED.set(
            _CHECKED.get() + tuple(a for a in arrays if isinstance(a, np.ndarray))
        )


def trust_scope():
    """Open a scope for :func:`check_learner_input`'s registrations; pass the token to
    ``_CHECKED.reset``.
    """
    return _CHECKED.set(_CHECKED.get() or ())


def end_trust_scope(token) -> None:
    """Close the scope opened by :func:`trust_scope`."""
    _CHECKED.reset(token)


def _as_real(name: str, A, *, ndim: int = 2) -> tuple[np.ndarray, float]:
    """``as_matrix`` that also returns the machine epsilon of the input's precision."""
    if (
        isinstance(A, np.ndarray)
        and A.dtype == np.float64
        and A.ndim == ndim
        and _is_checked(A)
    ):
        return A, float(np.finfo(float).eps)
    if isinstance(A, (str, bytes)) or A is None:
        raise TypeError(f"{name} must be a numeric array, got {type(A).__name__}")
    try:
        raw = np.asarray(A)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a numeric array, got {type(A).__name__}"
        ) from exc
    kind = raw.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name} must be real, got complex dtype {raw.dtype}; pass the real part"
            " explicitly if meant"
        )
    if kind in "USVMm":
        raise TypeError(f"{name} must be a numeric array, got dtype {raw.dtype}")
    eps = float(np.finfo(raw.dtype).eps) if kind == "f" else float(np.finfo(float).eps)
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a numeric array, got entries of type"
            f" {type(raw.flat[0]).__name__}"
        ) from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    # one pass and no n-sized boolean mask: a NaN or an infinity makes the sum
    # non-finite; only then are the entries counted (a sum that overflowed from finite
    # entries passes)
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum() if arr.size else 0.0
    if not np.isfinite(total):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(
                f"{name} contains {bad} NaN or infinite entries; all entries must be"
                " finite"
            )
    return arr, max(eps, float(np.finfo(float).eps))


def check_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= minimum, or raise (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_samples(X, Y=None, *, min_samples: int = 1):
    """Validate samples-as-columns data.

    Returns ``(X, Y)`` with ``X`` of shape (d, n) and ``Y`` of shape (m, n) (a 1-d ``Y``
    of length n becomes (1, n)).  ``Y=None`` returns ``(X, None)``.
    """
    X, Y, _ = _check_samples(X, Y, min_samples=min_samples)
    return X, Y


def _check_samples(X, Y=None, *, min_samples: int = 1):
    X, eps = _as_real("X", X)
    d, n = X.shape
    if d < 1:
        raise ValueError(
            f"X must have at least one row (dimension d), got shape {X.shape}"
        )
    if n < min_samples:
        raise ValueError(
            f"X has n={n} samples (columns); this needs at least {min_samples}"
        )
    if Y is None:
        return X, None, eps
    try:
        Yarr = np.asarray(Y) if not isinstance(Y, (str, bytes)) else Y
    except (TypeError, ValueError):
        Yarr = Y
    if isinstance(Yarr, np.ndarray) and Yarr.ndim == 1:
        Y, eps_y = _as_real("Y", Yarr, ndim=1)
        Y = Y[None, :]
    else:
        Y, eps_y = _as_real("Y", Y)
    if Y.shape[1] != n:
        raise ValueError(
            f"Y must have one column per sample of X: X has n={n} columns, Y has shape"
            f" {Y.shape}"
            " (labels are columns: Y is (m, n), or (n,) for scalar labels)"
        )
    return X, Y, max(eps, eps_y)


def check_k(k, d: int) -> int:
    """Validate the number of hidden units against the input dimension."""
    k = check_int("k", k, minimum=1)
    if k > d:
        raise ValueError(
            f"k={k} hidden units exceeds the input dimension d={d}; this needs k <= d"
        )
    return k


def rng_from(rng) -> np.random.Generator:
    """``numpy.random.default_rng`` with a clear error for anything else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise TypeError(
        "rng must be an int seed, None or a numpy.random.Generator, got"
        f" {type(rng).__name__}"
    )


# The largest magnitude whose products the learners form stays below this (float64 max
# is 1.8e308).
_OVERFLOW = 1e300


@dataclass(frozen=True)
class LearnerData:
    """What the boundary check of a learner returns: float64 data and the input's
    precision.
    """

    X: np.ndarray
    Y: np.ndarray
    k: int
    # machine epsilon of the coarsest input dtype (2.2e-16 for float64, 1.2e-7 for
    # float32)
    eps: float

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(d, n, m, k)``."""
        return self.X.shape[0], self.X.shape[1], self.Y.shape[0], self.k


def check_learner_input(
    X,
    Y,
    k,
    *,
    who: str,
    min_samples=1,
    min_samples_text: str = "",
    min_samples_hint: str = "",
    x_degree: int = 4,
    y_degree: int = 2,
) -> LearnerData:
    """The one boundary check of every learner.

    Converts ``X`` (d, n) and ``Y`` (m, n) or (n,) to C-ordered float64 (accepting
    lists, any real dtype and Fortran order), rejects complex and string arrays
    (``TypeError`` naming the argument), non-finite entries, ``k`` not an int in [1, d],
    fewer than ``min_samples`` samples (the message names ``who`` and
    ``min_samples_text``, e.g. "2 k d", then ``min_samples_hint``, e.g. what works with
    fewer; ``min_samples`` may be a function of ``(d, k, m)``), and magnitudes large
    enough that the learner's own products overflow: it forms sums over n samples of
    products of up to ``x_degree`` input entries and ``y_degree`` labels, so ``n
    max|X|^x_degree max|Y|^y_degree`` must stay below 1e300. Cost O(n (d + m)).
    """
    if Y is None:
        raise TypeError(
            "Y must be a numeric array of labels, shape (m, n) or (n,), got None"
        )
    # full checks, except of data an enclosing learner already checked
    X, Y, eps = _check_samples(X, Y)
    d, n = X.shape
    k = check_k(k, d)
    if callable(min_samples):
        min_samples = int(min_samples(d, k, Y.shape[0]))
    if n < min_samples:
        what = (
            f"{min_samples_text} = {min_samples}"
            if min_samples_text
            else f"{min_samples}"
        )
        hint = f"; {min_samples_hint}" if min_samples_hint else ""
        raise ValueError(
            f"X has n={n} samples; {who} needs at least {what} samples (d={d},"
            f" k={k}){hint}"
        )
    with np.errstate(all="ignore"):
        # max |entry| from the extremes: np.abs(X) would be a temporary as large as X
        xmax = max(abs(float(X.max())), abs(float(X.min()))) if X.size else 0.0
        ymax = max(abs(float(Y.max())), abs(float(Y.min()))) if Y.size else 0.0
    log_size = (
        np.log10(max(n, 1))
        + x_degree * np.log10(max(xmax, 1e-300))
        + y_degree * np.log10(max(ymax, 1e-300))
    )
    if xmax > 0 and ymax > 0 and log_size > np.log10(_OVERFLOW):
        raise ValueError(
            f"X and Y are too large for {who}: max|X| = {xmax:.1e}, max|Y| ="
            f" {ymax:.1e}, and it sums products of"
            f" up to {x_degree} input entries and {y_degree} labels over n={n}"
            " samples, which overflow float64;"
            " rescale X and Y (for a positively homogeneous activation, U f(V X)"
            " scales exactly with them)"
        )
    X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
    mark_checked(X, Y)
    return LearnerData(X, Y, k, eps)


def precision_tol(name: str, tol, eps: float, *, factor: float = 100.0) -> float:
    """Validate a positive tolerance and raise it to ``factor * eps`` for inputs coarser
    than float64.

    The raise stops at 1e-4 (float32 gives 1.2e-5): coarser data, such as float16,
    cannot be certified to a tolerance that would still mean an exact fit, so it is not
    loosened further.
    """
    if (
        isinstance(tol, bool)
        or not isinstance(tol, numbers.Real)
        or not (np.isfinite(tol) and tol > 0)
    ):
        raise ValueError(f"{name} must be a positive number, got {tol!r}")
    tol = float(tol)
    if eps > float(np.finfo(float).eps):
        tol = max(tol, min(factor * eps, 1e-4))
    return tol
