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


def test_boundary_check_rejects_complex_and_strings_and_names_the_argument():
    from relulearn._validation import check_learner_input

    X = np.random.default_rng(0).standard_normal((3, 50))
    Y = np.ones(50)
    with pytest.raises(TypeError, match="X must be real"):
        check_learner_input(X.astype(complex), Y, 2, who="t")
    with pytest.raises(TypeError, match="Y must be real"):
        check_learner_input(X, Y.astype(complex), 2, who="t")
    with pytest.raises(TypeError, match="Y must be a numeric"):
        check_learner_input(X, Y.astype(str), 2, who="t")
    with pytest.raises(ValueError, match="rescale"):
        check_learner_input(X * 1e100, Y, 2, who="t")
    with pytest.raises(ValueError, match="needs at least 2 k d = 12 samples"):
        check_learner_input(
            X[:, :10],
            Y[:10],
            2,
            who="t",
            min_samples=lambda d, k, m: 2 * k * d,
            min_samples_text="2 k d",
        )


def test_boundary_check_keeps_the_input_precision_and_computes_in_float64():
    from relulearn._validation import check_learner_input, precision_tol

    X = np.random.default_rng(0).standard_normal((3, 50))
    data = check_learner_input(
        np.asfortranarray(X.astype(np.float32)), [1.0] * 50, 2, who="t"
    )
    assert (
        data.X.dtype == np.float64
        and data.X.flags.c_contiguous
        and data.Y.shape == (1, 50)
    )
    assert data.eps == np.finfo(np.float32).eps
    assert precision_tol("tol", 1e-9, data.eps) == pytest.approx(
        100 * np.finfo(np.float32).eps
    )
    assert precision_tol("tol", 1e-9, np.finfo(float).eps) == 1e-9
    with pytest.raises(ValueError, match="tol must be a positive"):
        precision_tol("tol", -1.0, data.eps)
