"""Chunked passes over the samples (private module): bounded memory for large n.

Every learner that streams over the columns of ``X`` (d, n) and ``Y`` (m, n) walks them
in slices from :func:`chunks`, sized so that the scratch arrays of one chunk stay below
:data:`CHUNK_BYTES`: the memory beyond X and Y then does not grow with n.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["CHUNK_BYTES", "chunks", "column_norms"]

# Bytes of scratch per chunk of samples: the streaming loops work on chunks this large,
# so the memory beyond X and Y does not grow with n.
CHUNK_BYTES = 32 * 2**20
# A smaller budget for loops that run many times over the same data (the
# Levenberg-Marquardt passes): their temporaries then stay in cache and are reused by
# the allocator (measured at n = 40,000, (d, k, m) = (15, 5, 8): one pass of the
# Gauss-Newton matrix 46 ms with 32 MiB chunks, 23 ms with 2 MiB).
CACHE_CHUNK_BYTES = 2 * 2**20


def chunks(n: int, row_floats: int, budget: int | None = None) -> Iterator[slice]:
    """Slices of ``range(n)`` so that a (row_floats x chunk) float64 array stays below
    ``budget`` bytes (default ``CHUNK_BYTES``).

    Chunks hold at least 1024 samples. Cost O(n / chunk).
    """
    size = max(
        1024, (CHUNK_BYTES if budget is None else budget) // (8 * max(1, row_floats))
    )
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def column_norms(X: np.ndarray) -> np.ndarray:
    """||x_j|| for every column (zeros replaced by 1), streamed so that no d x n
    temporary is made.

    Cost O(n d) time, O(n) memory.
    """
    n = X.shape[1]
    out = np.empty(n)
    for sl in chunks(n, 2 * X.shape[0]):
        out[sl] = np.sqrt(np.einsum("ij,ij->j", X[:, sl], X[:, sl]))
    out[out == 0] = 1.0
    return out
