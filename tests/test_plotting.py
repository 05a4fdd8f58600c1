"""series_text prints the numbers behind a figure with the digits asked for."""

import numpy as np

import relulearn as rl


def test_series_text_digits_and_floor():
    line = rl.series_text(
        "error", [1000, 4000, 16000], [0.01234, 3.26e-5, 1e-16], digits=2, floor=1e-13
    )
    assert line == "error: 1000: 0.012, 4000: 3.3e-05, 16000: < 1e-13"
    assert (
        rl.series_text("s", ["a", "b"], [2.5e4, np.inf], digits=1)
        == "s: a: 2e+04, b: inf"
    )
    assert rl.series_text("s", [1], [0.0]) == "s: 1: 0"
