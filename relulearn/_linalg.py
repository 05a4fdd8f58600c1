"""Linear-algebra steps shared by the learners (private module).

LAPACK returns singular and eigenvectors up to sign, and which sign comes out depends on the BLAS
kernel and the thread count. A learner that then draws random contractions in the coordinates of
such a basis would see a different draw on another machine. :func:`canonical_signs` fixes the sign
so that bases, and everything computed from them, are the same on every machine.
"""

from __future__ import annotations

import numpy as np


def canonical_signs(B: np.ndarray) -> np.ndarray:
    """``B`` with each column multiplied by +-1 so that its entry of largest magnitude is positive.

    The same convention as scikit-learn's ``svd_flip``. A column's sign is then decided by its
    largest entry, which rounding does not change unless two entries tie in magnitude with opposite
    signs. Cost O(p k) for B of shape (p, k).
    """
    B = np.asarray(B, dtype=float)
    if B.size == 0:
        return B
    idx = np.argmax(np.abs(B), axis=0)
    signs = np.sign(B[idx, np.arange(B.shape[1])])
    signs[signs == 0] = 1.0
    return B * signs
