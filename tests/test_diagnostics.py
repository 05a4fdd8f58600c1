"""The data checks of relulearn.diagnostics: input-law tests, whitening, the choice of k."""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl
from relulearn.moments import second_order_moments

FAMILIES = ("mean", "covariance", "skewness", "kurtosis")


def _rejected(check, family):
    return getattr(check, family + "_z") > check.critical_z[family]


@pytest.mark.parametrize(
    ("law", "expected"),
    [
        (rl.Gaussian(), "isotropic gaussian"),
        (rl.Laplace(), "symmetric"),
        (rl.UniformCube(), "symmetric"),
        (rl.UniformSphere(), "symmetric"),
        (rl.CenteredExponential(), "asymmetric"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_each_law_is_named_by_its_narrowest_assumption(law, expected):
    net = rl.planted_network(6, 2, 1, rng=0)
    X, _ = rl.sample(net, 20_000, inputs=law, rng=1)
    check = rl.check_input_law(X, rng=2)
    assert check.law == expected, check


def test_a_gaussian_with_another_covariance_is_gaussian_and_whitening_makes_it_isotropic():
    gen = np.random.default_rng(3)
    A = gen.standard_normal((5, 5))
    X = A @ gen.standard_normal((5, 20_000))
    check = rl.check_input_law(X, rng=0)
    assert check.law == "gaussian" and not check.isotropic
    white = rl.whiten_inputs(X)
    Z = white.apply(X)
    # W S W^T = I for the sample second moment S: a closed form, to rounding
    np.testing.assert_allclose(Z @ Z.T / Z.shape[1], np.eye(5), atol=1e-10)
    np.testing.assert_allclose(white.inverse @ white.transform, np.eye(5), atol=1e-10)
    assert rl.check_input_law(Z, rng=0).law == "isotropic gaussian"


def test_the_level_of_each_family_holds_for_gaussian_inputs():
    # 200 draws of n = 10,000 standard Gaussian samples in d = 3. Each family rejects
    # with probability <= level = 0.01 asymptotically (Bonferroni is conservative),
    # so the count of rejections is at most Binomial(200, 0.01): mean 2, sd 1.4; more
    # than 2 + 3 * 1.4 = 6.2 rejections means the level is wrong. (At n = 1,000 the
    # fourth-cumulant family rejected 3.7% of 300 draws: its normal approximation
    # needs large n, which the docstring says.)
    count = dict.fromkeys(FAMILIES, 0)
    for seed in range(200):
        X = np.random.default_rng(seed).standard_normal((3, 10_000))
        check = rl.check_input_law(X, rng=seed)
        for family in FAMILIES:
            count[family] += _rejected(check, family)
    assert max(count.values()) <= 6, count


def test_the_network_learned_on_whitened_inputs_maps_back_to_the_truth():
    gen = np.random.default_rng(5)
    d, k = 6, 3
    truth = rl.planted_network(d, k, 4, rng=6)
    A = np.eye(d) + 0.3 * gen.standard_normal((d, d))
    X = A @ gen.standard_normal((d, 4000))
    Y = truth(X)
    white = rl.whiten_inputs(X)
    res = rl.recover_exact(white.apply(X), Y, k, rng=7)
    assert res.ok, res.reason
    net = white.network_for_inputs(res.network)
    np.testing.assert_allclose(net(X), Y, atol=1e-8 * np.abs(Y).max())
    assert rl.recovery_error(net, truth).weights < 1e-8


def test_the_moment_noise_level_covers_the_sampling_error():
    # The sign-flip level is the largest of 20 flipped copies: about a 95% quantile of
    # the error's spectral norm. Over 60 draws it must cover the true error (the
    # population T2 in closed form) in at least 80% of them (the count of misses,
    # Binomial(60, 0.05), exceeds 12 with probability < 1e-4).
    net = rl.planted_network(6, 2, 1, rng=0)
    T2 = rl.population_second_moment_contraction(net, np.ones(1))
    covered = 0
    for seed in range(60):
        X, Y = rl.sample(net, 2000, rng=seed)
        est = rl.estimate_hidden_units(X, Y, rng=seed)
        err = np.linalg.norm(second_order_moments(X, Y)[2][0] - T2, 2)
        covered += err <= est.moment_noise
        assert est.moment_noise < 4 * err + 0.05  # not vacuous: same order as the error
    assert covered >= 48


@pytest.mark.parametrize(("m", "noise"), [(1, 0.0), (4, 0.0), (4, 0.3)])
def test_the_number_of_hidden_units_is_found(m, noise):
    # units of equal norm and output weights of size 1: every unit's moment signal is
    # c_2 / ... of order 0.2, far above the sampling error at n = 40,000 in d = 8
    d, k = 8, 3
    gen = np.random.default_rng(11)
    V = gen.standard_normal((k, d))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    U = gen.choice([-1.0, 1.0], size=(m, k)) * (1 + gen.random((m, k)))
    net = rl.TwoLayerNetwork(U, V)
    X, Y = rl.sample(net, 40_000, rng=12, noise=noise)
    est = rl.estimate_hidden_units(X, Y, rng=13)
    assert est.k == k, est
    if m > k and noise == 0:
        s = est.label_singular_values
        assert s[k - 1] > 1e-3 * s[0] and np.all(s[k:] < 1e-10 * s[0])


def test_bad_input_is_refused_with_the_argument_named():
    X = np.random.default_rng(0).standard_normal((3, 100))
    with pytest.raises(ValueError, match="level"):
        rl.check_input_law(X, level=1.5)
    with pytest.raises(ValueError, match="n=10"):
        rl.check_input_law(X[:, :10])
    with pytest.raises(ValueError, match="n_directions"):
        rl.check_input_law(X, n_directions=-1)
    with pytest.raises(ValueError, match="X"):
        rl.check_input_law(X[0])
    with pytest.raises(ValueError, match="at least d=3"):
        rl.whiten_inputs(X[:, :2])
    with pytest.raises(ValueError, match="singular"):
        rl.whiten_inputs(np.vstack([X[:2], X[:1] + X[1:2]]))
    with pytest.raises(ValueError, match="factor"):
        rl.estimate_hidden_units(X, X[0], factor=0)
    with pytest.raises(ValueError, match="n_flips"):
        rl.estimate_hidden_units(X, X[0], n_flips=0)
    with pytest.raises(ValueError, match="Y"):
        rl.estimate_hidden_units(X, X[0, :50])
    with pytest.raises(TypeError, match="network"):
        rl.whiten_inputs(X).network_for_inputs("net")
