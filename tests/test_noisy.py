"""Tests of relulearn.noisy: recovery under mean-zero noise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import relulearn as rl


def _noisy_instance(d, k, m, n, seed, level=0.5):
    """Planted net and labels with i.i.d. Gaussian noise of sd = level * RMS of the clean labels."""
    net = rl.planted_network(d, k, m, rng=seed)
    g = np.random.default_rng(seed + 77)
    X = g.standard_normal((d, n))
    Yc = net(X)
    sd = level * float(np.sqrt(np.mean(Yc**2)))
    return net, X, Yc + sd * g.standard_normal(Yc.shape), sd


def test_moments_stay_unbiased_under_noise():
    # M1 = E[y x^T] = U V / 2 and T2 = E[y (x) (xx^T - I)] = phi0 sum_i u~_i v_i v_i^T,
    # noise or not (spec §5): every entry of the noisy estimates lies within 5 standard
    # errors (estimated from the per-sample values).
    net, X, Y, _ = _noisy_instance(6, 3, 2, 100_000, seed=1, level=1.0)
    c = net.canonical()
    n = X.shape[1]
    per1 = np.einsum("rn,an->nra", Y, X)
    M1_pop = 0.5 * net.U @ net.V
    assert np.all(
        np.abs(per1.mean(axis=0) - M1_pop) <= 5 * per1.std(axis=0) / np.sqrt(n)
    )
    per2 = np.einsum("rn,an,bn->nrab", Y, X, X) - Y.T[:, :, None, None] * np.eye(6)
    T2_pop = rl.PHI0 * np.einsum("ri,ia,ib->rab", c.U, c.V, c.V)
    assert np.all(
        np.abs(per2.mean(axis=0) - T2_pop) <= 5 * per2.std(axis=0) / np.sqrt(n)
    )


def test_recover_noisy_target():
    # the target: (d, k, m) = (15, 5, 8), noise sd = half the clean RMS, n =
    # 320,000: both errors <= 0.01
    for seed in (0, 1):
        net, X, Y, _ = _noisy_instance(15, 5, 8, 320_000, seed)
        rec = rl.recover_noisy(X, Y, 5, rng=seed)
        err = rl.recovery_error(rec, net)
        assert err.U <= 0.01 and err.V <= 0.01, err
        assert rec.status == "certified" and isinstance(
            rec.certificate, rl.StatisticalCertificate
        )
        assert rec.certificate.level == 0.01 and rec.certificate.n_test == 160_000


def test_recover_noisy_error_falls_like_one_over_sqrt_n():
    # median error over 3 seeds at n = 20k, 80k, 320k: log-log slope in [-0.65, -0.35]
    # (the range), and the refined estimate beats the moment estimate it starts
    # from
    ns = [20_000, 80_000, 320_000]
    med = []
    for n in ns:
        errs = []
        for seed in range(3):
            net, X, Y, _ = _noisy_instance(15, 5, 8, n, seed)
            rec = rl.recover_noisy(X, Y, 5, rng=seed)
            e = rl.recovery_error(rec, net)
            e0 = rl.recovery_error(rec.details["moment_estimate"], net)
            assert max(e.U, e.V) < max(e0.U, e0.V)
            errs.append(max(e.U, e.V))
        med.append(np.median(errs))
    slope = np.polyfit(np.log(ns), np.log(med), 1)[0]
    assert -0.65 <= slope <= -0.35, slope


def test_chapter4_certificate_demo():
    # chapter 4's demo: (15, 5, 8), n = 20,000, noise 0.5 RMS: the planted network
    # certified, a tanh network with noise 0.1 failed as misspecified, pure noise failed
    # with no signal
    net = rl.planted_network(
        15, 5, 8, rng=0
    )  # the chapter's truth and noisy_labels(truth, 20_000, 0.5, seed=5)
    data = rl.sample(net, 20_000, rng=5)
    sd = 0.5 * np.sqrt(np.mean(data.Y_clean**2))
    X, Y = (
        data.X,
        data.Y_clean
        + sd * np.random.default_rng(1005).standard_normal(data.Y_clean.shape),
    )
    assert rl.recover_noisy(X, Y, 5, rng=0).status == "certified"
    tanh_net = rl.TwoLayerNetwork(net.U, net.V, "tanh")
    T = tanh_net(X)
    T = T + 0.1 * np.sqrt(np.mean(T**2)) * np.random.default_rng(7).standard_normal(
        T.shape
    )
    r = rl.recover_noisy(X, T, 5, rng=0, on_failure="return")
    assert (
        r.status == "unverified" and "disagree" in r.reason
    )  # the half fits disagree: the chapter's outcome
    r = rl.recover_noisy(
        X,
        np.random.default_rng(8).standard_normal(Y.shape),
        5,
        rng=0,
        on_failure="return",
    )
    assert r.status == "failed" and r.reason.startswith("no signal")


def test_noise_level_estimate():
    # the residual RMS estimates the noise sd: relative standard error 1/sqrt(2 n m) for
    # the RMS of n m Gaussian entries; the fit removes p = k (d + m) degrees of freedom
    # (relative bias p / (2 n m)), and the estimation error of the network adds about
    # its prediction error times the signal (checked below to be small).
    net, X, Y, sd = _noisy_instance(10, 3, 4, 80_000, seed=2)
    rec = rl.recover_noisy(
        X, Y, 3, rng=0, certify=False
    )  # the estimate of the noise level, not the certificate
    assert rec.status == "unverified" and "certify=False" in rec.reason
    n, m = X.shape[1], Y.shape[0]
    p = 3 * (10 + 4)
    err = rl.recovery_error(rec, net)
    signal_rms = 2 * sd  # sd = 0.5 * RMS(clean)
    model_term = (err.prediction * signal_rms) ** 2 / (2 * sd**2)
    assert (
        abs(rec.details["noise_rms"] / sd - 1)
        <= 5 / np.sqrt(2 * n * m) + p / (2 * n * m) + model_term
    )


def test_recover_noisy_scalar_output_uses_low_rank_route():
    # m = 1 < k: the moment estimate comes from the fourth-order moment in k dimensions
    # (lowrank route); the refined error is below the moment estimate's and falls with n
    errs = []
    for n in (50_000, 200_000):
        net, X, Y, _ = _noisy_instance(8, 3, 1, n, seed=3, level=0.25)
        rec = rl.recover_noisy(X, Y, 3, rng=0)
        e = rl.recovery_error(rec, net)
        assert e.max < rl.recovery_error(rec.details["moment_estimate"], net).max
        errs.append(e.max)
    assert errs[1] < errs[0]


def test_noiseless_limit_is_exact():
    # without noise the estimator's least squares are exact once the patterns are right
    net = rl.planted_network(10, 3, 4, rng=4)
    X, Y = rl.sample(net, 40_000, rng=5)
    rec = rl.recover_noisy(X, Y, 3, rng=0)
    assert rl.recovery_error(rec, net).max < 1e-9


def test_validation():
    net = rl.planted_network(6, 2, 3, rng=0)
    X, Y = rl.sample(net, 1_000, rng=0)
    with pytest.raises(ValueError, match="at least 2 k d") as info:
        rl.recover_noisy(X[:, :20], Y[:, :20], 2)
    assert "relulearn.train" in str(info.value) and "collect more" in str(
        info.value
    )  # what works instead
    with pytest.raises(ValueError, match="n_starts"):
        rl.recover_noisy(X, Y, 2, n_starts=0)
    with pytest.raises(ValueError, match="rank_samples"):
        rl.recover_noisy(X, Y, 2, rank_samples=5)
    with pytest.raises(TypeError, match="n_starts"):
        rl.recover_noisy(X, Y, 2, n_starts=2.5)
    with pytest.raises(ValueError, match="k=7"):
        rl.recover_noisy(X, Y, 7)


def test_exact_step_breaks_under_noise():
    # chapter 3's certificate: the smallest singular value of Q_k[S, :] for a true zero
    # set S is at round-off without noise and grows with it; recover_exact then refuses
    # (raises or returns certificate.ok False)
    net = rl.planted_network(15, 5, 8, rng=0)
    X, Yc = rl.sample(net, 2_000, rng=2)
    xi = np.random.default_rng(3).standard_normal(Yc.shape)
    S = np.argsort(net.V[0] @ X)[:500]
    smallest = []
    for sd in (0.0, 1e-6, 1e-2):
        Qk = np.linalg.svd(Yc + sd * xi, full_matrices=False)[2][:5].T
        sv = np.linalg.svd(Qk[S], compute_uv=False)
        smallest.append(sv[-1] / sv[0])
    assert smallest[0] < 1e-12 < smallest[1] < smallest[2]
    X, Y, _ = _noisy_instance(15, 5, 8, 20_000, seed=3)[1:]
    try:
        rec = rl.recover_exact(X, Y, 5, rng=0)
    except rl.RecoveryFailed:
        return
    assert not rec.ok


def test_error_proportional_to_noise_level():
    # the same noise draw scaled by 1/8, 1/4, 1/2 and 1: the least-squares estimate's
    # error is linear in the noise to first order, so the log-log slope of the error
    # against the level is 1; second-order terms and the max over units and rows make
    # the pairwise ratios 1.8-2.2 (measured 1.82, 2.06, 2.21), and the fitted slope over
    # the four levels 1.02: checked within 0.1 of 1. At every level the answer is the
    # least-squares fit from the truth up to its tolerance (measured: errors within 0.7%
    # of the oracle's; checked within 2%).
    net = rl.planted_network(10, 3, 4, rng=5)
    X, Yc = rl.sample(net, 40_000, rng=6)
    xi = np.random.default_rng(7).standard_normal(Yc.shape) * np.sqrt(np.mean(Yc**2))
    levels = [0.125, 0.25, 0.5, 1.0]
    errs = []
    for level in levels:
        Y = Yc + level * xi
        e = rl.recovery_error(rl.recover_noisy(X, Y, 3, rng=0, certify=False), net).max
        oracle = rl.recovery_error(rl.local_least_squares(X, Y, net).network, net).max
        assert e <= 1.02 * oracle, (level, e, oracle)
        errs.append(e)
    assert abs(rl.loglog_slope(levels, errs) - 1) <= 0.1, errs


def test_answer_is_a_stationary_point_and_gradient_training_agrees():
    # the answer is the local least-squares fit, so the loss gradient there is tiny
    # compared with the gradient at the moment estimate; Adam from a random start
    # reaches the same error
    net, X, Y, _ = _noisy_instance(6, 2, 3, 5_000, seed=8)
    rec = rl.recover_noisy(X, Y, 2, rng=0)
    _, dU, dV = rl.loss_gradients(rec.network.U, rec.network.V, X, Y)
    m0 = rec.details["moment_estimate"]
    _, dU0, dV0 = rl.loss_gradients(m0.U, m0.V, X, Y)
    assert np.linalg.norm(dV) < 1e-3 * np.linalg.norm(dV0)
    assert np.linalg.norm(dU) < 1e-3 * np.linalg.norm(dU0)
    gd = rl.train(X, Y, 2, rng=0, max_iter=1500)
    e_est, e_gd = rl.recovery_error(rec, net), rl.recovery_error(gd, net)
    assert abs(e_gd.prediction - e_est.prediction) <= 0.1 * e_est.prediction


def test_scalar_output_moment_estimate_is_worse_than_vector_output():
    # same V*, same inputs: Jennrich on T2 (m = 4) against the fourth-order route (m =
    # 1), median of 4 instances
    ratios = []
    for seed in (8, 9, 10, 11):
        base = rl.planted_network(10, 4, 4, rng=seed)
        X = rl.Gaussian().sample(10, 100_000, rng=seed + 50)
        e = {}
        for m in (1, 4):
            net = rl.TwoLayerNetwork(base.U[:m], base.V)
            e[m] = rl.recovery_error(
                rl.recover_noisy(X, net(X), 4, rng=0).details["moment_estimate"], net
            ).V
        ratios.append(e[1] / e[4])
    assert np.median(ratios) > 2


def _iid_instance(d, k, m, n, seed, level=0.5):
    """The setting of issue 16: U*, V* with i.i.d. N(0, 1) entries, Gaussian X, noise sd = level * RMS(clean)."""
    g = np.random.default_rng([16, seed, n])
    net = rl.TwoLayerNetwork(g.standard_normal((m, k)), g.standard_normal((k, d)))
    X = g.standard_normal((d, n))
    Yc = net(X)
    return (
        net,
        X,
        Yc + level * float(np.sqrt(np.mean(Yc**2))) * g.standard_normal(Yc.shape),
    )


def test_near_the_statistical_limit_at_4kd():
    # (d, k, m) = (8, 3, 4), n = 4 k d = 96, 20 instances. The reference is the oracle:
    # local least squares started at the truth; the error is max(eps_U, eps_V). Measured
    # on these instances: recover_noisy within 1.25x of the oracle's error on 16 of 20,
    # Adam (train's defaults, random start) on 11. Of the 4 misses one has a smaller
    # residual than the oracle's fit (the least-squares fit lies in another basin) and 3
    # a residual 0.03-4% larger (8 or 16 starts instead of 4 find no better basin). At
    # this size (8,3,4) has 10.7 label entries per weight against 21 for the (15,5,8) of
    # bench/noise.py, where 4kd gives 19-20 of 20. Checked: at least 15 within (one
    # below the measured 16) and at least Adam's count.
    d, k, m = 8, 3, 4
    n = 4 * k * d
    ours = adam = 0
    for seed in range(20):
        net, X, Y = _iid_instance(d, k, m, n, seed)
        e_or = rl.recovery_error(
            rl.local_least_squares(X, Y, net).network, net, n_test=0
        ).weights
        rec = rl.recover_noisy(X, Y, k, rng=seed, on_failure="return", certify=False)
        ours += rl.recovery_error(rec, net, n_test=0).weights <= 1.25 * e_or
        with (
            warnings.catch_warnings()
        ):  # on noisy labels Adam never reaches its exact-fit tolerance: it says so
            warnings.simplefilter("ignore", rl.ConvergenceWarning)
            tr = rl.train(X, Y, k, rng=seed, on_failure="return")
        assert tr.status == "unverified"
        adam += rl.recovery_error(tr, net, n_test=0).weights <= 1.25 * e_or
    assert ours >= 15 and ours >= adam, (ours, adam)


def test_statuses_at_4kd_are_never_false_failures():
    # right model, n = 4kd: the certificate cannot show signal in every unit from 48
    # held-out samples, so most answers stay unverified; none may be failed (failed
    # needs evidence against the fit)
    d, k, m = 8, 3, 4
    statuses = []
    for seed in range(10):
        _net, X, Y = _iid_instance(d, k, m, 4 * k * d, seed, level=0.3)
        statuses.append(rl.recover_noisy(X, Y, k, rng=seed, on_failure="return").status)
    assert "failed" not in statuses, statuses
