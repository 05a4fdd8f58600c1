"""Tests of relulearn._streaming: chunked passes over the samples."""

from __future__ import annotations

import itertools

import numpy as np

from relulearn import _streaming


def test_chunks_cover_the_samples_in_order_and_bound_the_memory():
    n = 100_001
    for row_floats in (1, 50, 10_000):
        sls = list(_streaming.chunks(n, row_floats))
        assert sls[0].start == 0 and sls[-1].stop == n
        assert all(a.stop == b.start for a, b in itertools.pairwise(sls))
        size = sls[0].stop - sls[0].start
        assert size >= 1024 and (
            size == 1024 or 8 * row_floats * size <= _streaming.CHUNK_BYTES
        )


def test_column_norms():
    X = np.random.default_rng(0).standard_normal((4, 3000))
    X[:, 7] = 0.0
    out = _streaming.column_norms(X)
    ref = np.linalg.norm(X, axis=0)
    ref[7] = 1.0
    np.testing.assert_allclose(out, ref, rtol=1e-14)
