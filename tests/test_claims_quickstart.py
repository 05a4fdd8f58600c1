"""The claims of the quick-start page (chapters/quickstart.ipynb), on its own instance.

The page simulates "your data": a planted network (d = 8, k = 3, m = 4) on Gaussian
inputs x = A z that are not isotropic, with label noise sigma = 0.05, n = 20,000.
"""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl


@pytest.fixture(scope="module")
def page_data():
    truth = rl.planted_network(8, 3, 4, rng=10)
    gen = np.random.default_rng(11)
    A = np.eye(8) + 0.4 * gen.standard_normal((8, 8))
    X = A @ gen.standard_normal((8, 20_000))
    Y = truth(X) + 0.05 * gen.standard_normal((4, 20_000))
    return truth, X, Y


def test_only_the_covariance_is_rejected_and_whitening_removes_it(page_data):
    _, X, _ = page_data
    check = rl.check_input_law(X, rng=0)
    assert check.law == "gaussian"
    assert check.covariance_z > check.critical_z["covariance"]
    white = rl.whiten_inputs(X)
    assert rl.check_input_law(white.apply(X), rng=0).law == "isotropic gaussian"


def test_k_is_found_and_the_noisy_learner_certifies_the_truth(page_data):
    truth, X, Y = page_data
    white = rl.whiten_inputs(X)
    Xw = white.apply(X)
    est = rl.estimate_hidden_units(Xw, Y, rng=0)
    assert est.k == 3
    result = rl.recover_noisy(Xw, Y, est.k, rng=0, on_failure="return")
    assert result.status == "certified"
    net = white.network_for_inputs(result.network)
    # "the relative residual is the noise's share of the labels"
    share = np.linalg.norm(Y - truth(X)) / np.linalg.norm(Y)
    assert abs(result.residual - share) < 0.05 * share
    # "the weights are right to a few parts in a thousand"
    assert rl.recovery_error(net, truth).max < 1e-2


@pytest.mark.parametrize(("wrong_k", "word"), [(2, "misspecified"), (4, "no signal")])
def test_a_wrong_k_is_not_certified_and_says_why(page_data, wrong_k, word):
    _, X, Y = page_data
    Xw = rl.whiten_inputs(X).apply(X)
    res = rl.recover_noisy(Xw, Y, wrong_k, rng=0, on_failure="return")
    assert res.status == "failed" and word in res.reason
