"""The shared input checks: non-finite data is named and counted, huge finite data passes."""

import numpy as np
import pytest

from relulearn._validation import as_matrix, check_samples


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_entries_are_rejected_and_counted(bad):
    X = np.ones((3, 5))
    X[1, 2] = bad
    X[2, 4] = bad
    with pytest.raises(ValueError, match=r"X contains 2 NaN or infinite entries"):
        as_matrix("X", X)


def test_opposite_infinities_are_rejected():
    # inf + (-inf) is NaN: the one-pass sum still flags it
    Y = np.array([[np.inf, -np.inf, 1.0]])
    with pytest.raises(ValueError, match=r"Y contains 2 NaN"):
        check_samples(np.ones((2, 3)), Y)


def test_finite_entries_whose_sum_overflows_pass():
    X = np.full((2, 4), 1e308)
    with np.errstate(all="raise"):  # and no floating-point warning escapes
        out = as_matrix("X", X)
    assert out is X or np.shares_memory(out, X)


def test_wrong_dimension_and_type_are_named():
    with pytest.raises(ValueError, match="X must be a 2-d array"):
        as_matrix("X", np.ones(3))
    with pytest.raises(TypeError, match="X must be a numeric array"):
        as_matrix("X", "abc")
