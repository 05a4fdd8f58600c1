"""The statistical certificates: signal and specification tests on held-out samples.

Each test is checked where its answer is known: a planted network (both pass), pure
noise (no signal), a tanh network fitted by ReLU units (misspecified), and the level of
the specification test on the true network itself, where its p-value is uniform.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import relulearn as rl


def _noisy(d, k, m, n, noise, seed, activation="relu"):
    rng = np.random.default_rng(seed)
    net = rl.planted_network(d, k, m, rng=rng)
    X = rng.standard_normal((d, n))
    Y = rl.TwoLayerNetwork(net.U, net.V, activation)(X)
    sd = noise * np.sqrt(np.mean(Y**2))
    return net, X, Y + sd * rng.standard_normal(Y.shape)


def test_specification_test_has_its_level_at_the_true_network():
    # at the true network the held-out residual is the Gaussian noise, independent of X:
    # the F-test's p-value is exactly uniform, so over 200 independent instances the
    # count below 0.05 is Binomial(200, 0.05) (mean 10, sd 3.1); 22 or more has
    # probability < 1e-3
    low = 0
    for seed in range(200):
        net, X, Y = _noisy(6, 2, 2, 400, 0.5, seed)
        p, dof = rl.specification_pvalue(net, X, Y)
        # tangent space: 1 and relu'(z_i) x (relu(z_i) = relu'(z_i) z_i lies in it):
        # rank 1 + 2 * 6; probes: He3(z_i) for 2 units and the complement's quadratic
        assert dof == 400 - (1 + 2 * 6) - (2 + 1)
        low += p < 0.05
    assert 2 <= low <= 21


def test_signal_test_finds_the_planted_units_and_no_signal_in_noise():
    net, X, Y = _noisy(8, 3, 4, 4000, 0.3, 0)
    p = rl.signal_pvalues(net, X[:, 2000:], Y[:, 2000:], X[:, :2000], Y[:, :2000])
    assert p.shape == (3,) and np.all(p < 1e-10)
    # a network fitted to pure noise: two units that cancel each other explain nothing
    # once refitted without the other (the case: pure noise was certified when
    # units were dropped without refitting)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 4000))
    noise = rng.standard_normal((3, 4000))
    fit = rl.recover_noisy(
        X[:, :2000], noise[:, :2000], 2, rng=0, certify=False, on_failure="return"
    )
    if fit.network is not None:
        p = rl.signal_pvalues(
            fit.network, X[:, 2000:], noise[:, 2000:], X[:, :2000], noise[:, :2000]
        )
        assert np.max(p) > 0.01


@pytest.mark.parametrize("seed", range(5))
def test_recover_noisy_certifies_planted_and_fails_tanh_and_noise(seed):
    _, X, Y = _noisy(8, 3, 4, 20_000, 0.1, seed)
    assert rl.recover_noisy(X, Y, 3, rng=seed).status == "certified"
    _, X, Y = _noisy(8, 3, 4, 20_000, 0.1, seed, activation="tanh")
    res = rl.recover_noisy(X, Y, 3, rng=seed, on_failure="return")
    # never certified: failed as misspecified when the half fits agree, unverified when
    # they disagree
    assert (res.status, res.reason[:12]) in (
        ("failed", "misspecified"),
        ("unverified", "not certifie"),
    )
    if res.status == "failed":
        with pytest.raises(rl.RecoveryFailed, match="misspecified"):
            rl.recover_noisy(X, Y, 3, rng=seed)
    noise = np.random.default_rng(100 + seed).standard_normal(Y.shape)
    assert (
        rl.recover_noisy(X, noise, 3, rng=seed, on_failure="return").status
        != "certified"
    )


def test_cross_fit_certificate_reports_why_it_is_missing():
    _, X, Y = _noisy(6, 2, 2, 200, 0.3, 0)

    def broken(Xh, Yh):
        raise np.linalg.LinAlgError("singular")

    cert, note = rl.cross_fit_certificate(broken, X, Y, rng=np.random.default_rng(0))
    assert cert is None and "LinAlgError" in note
    # too few held-out samples for the F-test: only the signal test runs, and the note
    # says so
    net, X, Y = _noisy(10, 2, 1, 60, 0.001, 1)
    cert, note = rl.cross_fit_certificate(
        lambda Xh, Yh: net, X, Y, rng=np.random.default_rng(0)
    )
    # 30 held-out samples, 21 tangent features and 3 probes leave 6 < 10 degrees of
    # freedom
    assert np.isnan(cert.specification_pvalue) and not cert.ok
    assert (
        cert.reason.startswith("no signal")
        or "more held-out samples" in note
        or "cannot tell" in note
    )


def test_exact_fit_status_counts_distinct_samples():
    net = rl.planted_network(6, 2, 1, rng=0)
    X = np.random.default_rng(1).standard_normal((6, 20))
    Xdup = np.repeat(X, 50, axis=1)  # 1000 samples, 20 distinct < 2 k (d + m) = 28
    assert rl.exact_fit_status(Xdup, net, 0.0, 1e-9)[0] == "unverified"
    X = np.random.default_rng(1).standard_normal((6, 1000))
    assert rl.exact_fit_status(X, net, 0.0, 1e-9) == ("certified", "")
    assert rl.exact_fit_status(X, net, 1e-3, 1e-9)[0] == "unverified"


def test_tensor_gd_on_duplicated_samples_is_not_certified():
    # the case: an exact fit to 20 distinct samples repeated 100 times was
    # reported ok
    net = rl.planted_network(6, 2, 1, rng=0)
    X = np.repeat(np.random.default_rng(3).standard_normal((6, 20)), 100, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        res = rl.recover_tensor_gd(X, net(X)[0], 2, rng=0, on_failure="return")
    assert res.status != "certified" and res.reason


def test_train_stopped_early_is_unverified_with_a_package_warning():
    net = rl.planted_network(5, 2, 2, rng=0)
    X, Y = rl.sample(net, 500, rng=1)
    with pytest.warns(rl.ConvergenceWarning, match="max_iter"):
        res = rl.train(
            X, Y, 2, rng=100, max_iter=3
        )  # a seed of its own: rng=0 would start at the truth
    assert res.status == "unverified" and not res.ok and "3 iterations" in res.reason


def test_train_with_a_diverging_step_fails_with_the_reason():
    net = rl.planted_network(5, 2, 2, rng=0)
    X, Y = rl.sample(net, 500, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning may escape
        res = rl.train(
            X,
            Y,
            2,
            rng=100,
            method="gd",
            batch_size=50,
            lr=1e6,
            max_iter=50,
            on_failure="return",
        )
    assert res.status == "failed" and "non-finite" in res.reason and res.network is None
    with pytest.raises(rl.RecoveryFailed, match="non-finite"):
        rl.train(X, Y, 2, rng=100, method="gd", batch_size=50, lr=1e6, max_iter=50)


def test_foreign_warnings_become_the_package_warning():
    @rl.recovery.learner_contract
    def noisy_learner(X, Y, k, *, rng=None, on_failure="raise", progress=False):
        warnings.warn("ill-conditioned", RuntimeWarning)
        np.log(np.zeros(1))  # a numpy floating-point warning: silenced inside a learner
        return rl.Recovery(None, np.inf, status="failed", reason="because")

    with pytest.warns(rl.NumericalWarning, match="RuntimeWarning: ill-conditioned"):
        res = noisy_learner(1, 2, 3, on_failure="return")
    assert res.status == "failed"
    with pytest.raises(ValueError, match="on_failure"):
        noisy_learner(1, 2, 3, on_failure="certificate")


def test_recovery_rejects_bad_status():
    with pytest.raises(ValueError, match="status"):
        rl.Recovery(None, 0.0, status="ok")
    with pytest.raises(ValueError, match="without a network"):
        rl.Recovery(None, 0.0, status="certified")


def test_a_fit_at_a_wrong_fixed_point_is_not_certified():
    # a wrong fixed point has a residual that both tests can take for noise; the
    # stability check (the fits on the two halves and the answer on all samples must
    # agree) leaves it unverified. Here the halves are fitted right (the truth) and the
    # answer is a network 20% off in every weight.
    net, X, Y = _noisy(8, 3, 4, 4_000, 0.3, 0)
    g = np.random.default_rng(1)
    wrong = rl.TwoLayerNetwork(
        np.array(net.U) * (1 + 0.2 * g.standard_normal(net.U.shape)),
        np.array(net.V) + 0.2 * g.standard_normal(net.V.shape),
    )
    cert, note = rl.cross_fit_certificate(
        lambda Xh, Yh: net, X, Y, rng=np.random.default_rng(0), network=wrong
    )
    assert not cert.ok and not cert.reason and "disagree" in note
    assert cert.disagreement > cert.allowed_disagreement
    cert, note = rl.cross_fit_certificate(
        lambda Xh, Yh: net, X, Y, rng=np.random.default_rng(0), network=net
    )
    assert cert.ok and not note
    # chapter 8's scalar setting at n = 500, noiseless: every certified answer is right
    from relulearn import comparison as cmp

    scalar = cmp.Setting("scalar", d=10, k=4, m=1, scalar_pm1=True)
    for seed in range(5):
        truth, X, Y = scalar.instance(500, seed)
        res = rl.recover_noisy(X, Y, 4, rng=seed, on_failure="return")
        if res.status == "certified":
            assert rl.recovery_error(res.network, truth).max < 1e-6, seed
