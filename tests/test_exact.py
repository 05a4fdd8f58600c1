"""Tests of relulearn.exact: each step, exact recovery near the sample floor, and honest failure."""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl
from relulearn.exact import (
    certify_zero_set,
    find_unit_rows,
    label_row_space,
    recover_exact,
    solve_input_weights,
)

EXACT = (
    1e-8  # "exact" = all three errors at round-off (spec §1: 1e-16 .. 1e-14 observed)
)


def _instance(d, k, m, n, seed, activation="relu"):
    net = rl.planted_network(d, k, m, rng=seed, activation=activation)
    X, Y = rl.sample(net, n, rng=1000 + seed)
    return net, X, Y


def test_row_space_of_labels_is_that_of_hidden_rows():
    net, X, Y = _instance(10, 4, 6, 200, 0)
    Q, s = label_row_space(Y, 4)
    H = net.hidden(X)
    assert np.allclose(Q @ (Q.T @ H.T), H.T, atol=1e-12)
    assert s[3] / s[0] > 1e-3 and s[4] / s[0] < 1e-12
    with pytest.raises(ValueError, match="k=7"):
        label_row_space(Y, 7)


def test_certificate_accepts_true_zero_set_and_rejects_corrupted_one():
    net, X, Y = _instance(20, 5, 10, 200, 1)
    Q, _ = label_row_space(Y, 5)
    H = net.hidden(X)
    off = np.flatnonzero(H[2] == 0)
    on = np.flatnonzero(H[2] > 0)
    good = certify_zero_set(Q, off[:12])
    assert good.ok and good.smallest < 1e-12 and good.next > 1e-3
    assert np.allclose(
        good.row / np.linalg.norm(good.row), H[2] / np.linalg.norm(H[2]), atol=1e-10
    )
    bad = certify_zero_set(
        Q, np.concatenate([off[:12], on[:5]])
    )  # 5 active columns added
    assert not bad.ok and bad.smallest > 1e-6
    assert "ZeroSetCertificate(ok=" in repr(good)
    with pytest.raises(ValueError, match="at least k=5"):
        certify_zero_set(Q, [0, 1])


def test_steps_5_and_6_are_exact_given_the_rows():
    net, X, Y = _instance(12, 4, 6, 100, 3)
    H = net.hidden(X)
    F = H * np.array([0.5, 2.0, 1.0, 3.0])[:, None]  # positive scales are allowed
    V, fit = solve_input_weights(X, F)
    assert np.all(fit < 1e-12)
    U = rl.fit_output_layer(X, Y, V)
    assert np.linalg.norm(U @ np.maximum(V @ X, 0) - Y) < 1e-10 * np.linalg.norm(Y)
    with pytest.raises(rl.RecoveryFailed, match="active on"):
        solve_input_weights(X[:, :20], F[:, :20])
    with pytest.raises(ValueError, match="rectified"):
        solve_input_weights(X, F, "tanh")


def test_moment_route_alone_is_exact_at_large_n():
    net, X, Y = _instance(8, 3, 5, 20_000, 4)
    r = recover_exact(X, Y, 3, rng=0, strategy="moments")
    assert r.ok and r.residual < EXACT
    assert rl.is_exact(rl.recovery_error(r, net), EXACT)
    assert set(r.details["rows"].sources) == {"moments"}


def test_sample_floor_small_k_target():
    """The issue's target (d, k, m) = (20, 5, 10) at n = 4d = 80: at least 19 of 20 exact."""
    exact = 0
    for seed in range(20):
        net, X, Y = _instance(20, 5, 10, 80, seed)
        try:
            r = recover_exact(X, Y, 5, rng=seed)
        except rl.RecoveryFailed:
            continue
        assert (
            r.ok and r.residual < EXACT
        )  # never a wrong network with a passing certificate
        exact += rl.is_exact(rl.recovery_error(r, net), EXACT)
    assert exact >= 19


def test_sample_floor_large_k_smaller_size():
    """Same property as the (60, 20, 30), n = 10d target at a smaller size: (30, 10, 15), n = 300."""
    exact = 0
    for seed in range(5):
        net, X, Y = _instance(30, 10, 15, 300, seed)
        r = recover_exact(X, Y, 10, rng=seed, on_failure="return")
        if r.ok:
            exact += rl.is_exact(rl.recovery_error(r, net), EXACT)
    assert exact >= 5


@pytest.mark.parametrize("strategy", ["random", "lp"])
def test_each_search_strategy_alone(strategy):
    net, X, Y = _instance(15, 4, 8, 90, 7)
    r = recover_exact(X, Y, 4, rng=0, strategy=strategy)
    assert rl.is_exact(rl.recovery_error(r, net), EXACT)
    assert set(r.details["rows"].sources) == {strategy}


def test_squared_relu_and_a_non_homogeneous_rectified_activation():
    net, X, Y = _instance(15, 4, 8, 200, 8, activation="squared_relu")
    r = recover_exact(X, Y, 4, activation="squared_relu", rng=0)
    assert rl.is_exact(rl.recovery_error(r, net), EXACT)

    def val(z):
        return np.log1p(np.maximum(z, 0.0))

    def der(z):
        return (np.asarray(z) > 0) / (1.0 + np.maximum(z, 0.0))

    act = rl.Activation(
        "log1p_relu", val, der, rectified=True, degree=None, kinks=(0.0,)
    )
    net = rl.TwoLayerNetwork(net.U, net.V * 2.0, act)
    X, Y = rl.sample(net, 200, rng=9)
    r = recover_exact(X, Y, 4, activation=act, rng=0, tol=1e-8)
    assert r.ok and r.residual < 1e-8
    Vb = r.network.V / np.linalg.norm(r.network.V, axis=1, keepdims=True)
    Vt = net.V / np.linalg.norm(net.V, axis=1, keepdims=True)
    assert np.allclose(np.sort(np.max(Vb @ Vt.T, axis=1)), 1.0, atol=1e-8)
    with pytest.raises(rl.RecoveryFailed, match="degree 0"):
        recover_exact(
            *rl.sample(
                rl.planted_network(6, 2, 3, rng=0, activation="step"), 100, rng=0
            ),
            2,
            activation="step",
            rng=0,
        )


def test_invariant_to_permuting_and_rescaling_the_truth():
    net, X, Y = _instance(12, 3, 6, 80, 10)
    perm, scale = [2, 0, 1], np.array([0.5, 3.0, 1.5])
    other = rl.TwoLayerNetwork(net.U[:, perm] / scale, net.V[perm] * scale[:, None])
    Y2 = other(X)
    assert np.allclose(Y, Y2, atol=1e-12)
    a = recover_exact(X, Y, 3, rng=0)
    b = recover_exact(X, Y2, 3, rng=0)
    assert rl.is_exact(rl.recovery_error(a, net), EXACT) and rl.is_exact(
        rl.recovery_error(b, other), EXACT
    )


# --- honesty: wrong assumptions never give a passing certificate
# --------------------------------


def _rank_deficient(n):
    net = rl.planted_network(10, 4, 6, rng=11)
    U = net.U.copy()
    U[:, 3] = U[:, 0] + U[:, 1]  # rank(U*) = 3 < k
    net = rl.TwoLayerNetwork(U, net.V)
    return net, rl.sample(net, n, rng=12)


def test_rank_deficient_U_is_recovered_exactly_by_the_low_rank_route():
    # rank(U*) < k: the row-span step cannot work, and recover_exact hands over to the
    # route of spec §4 (relulearn.lowrank), which certifies its answer by the residual
    truth, (X, Y) = _rank_deficient(2000)
    r = recover_exact(X, Y, 4, rng=0)
    assert r.ok and r.details["route"] == "low_rank"
    assert rl.is_exact(rl.recovery_error(r, truth))


def test_rank_deficient_U_with_too_few_samples_raises_or_returns_failed_certificate():
    # n = 60 < 2 k d = 80: too few samples for the low-rank route, so it must refuse,
    # not guess
    _, (X, Y) = _rank_deficient(60)
    with pytest.raises(rl.RecoveryFailed, match="rank"):
        recover_exact(X, Y, 4, rng=0)
    r = recover_exact(X, Y, 4, rng=0, on_failure="return")
    assert not r.ok and "rank" in r.certificate.reason


def test_scalar_output_is_recovered_or_refused_never_wrong():
    net = rl.planted_network(10, 3, 1, rng=13)
    X, Y = rl.sample(
        net, 50, rng=14
    )  # n < 2 k d = 60: the shapes rule it out before any work
    with pytest.raises(ValueError, match="k=3 > m=1"):
        recover_exact(X, Y, 3, rng=0)
    X, Y = rl.sample(net, 5000, rng=14)
    r = recover_exact(X, Y, 3, rng=0)
    assert r.ok and rl.is_exact(rl.recovery_error(r, net))


def test_noisy_labels_raise_or_return_failed_certificate():
    net = rl.planted_network(12, 3, 6, rng=15)
    X, Y = rl.sample(net, 500, rng=16, noise=1e-3)
    with pytest.raises(rl.RecoveryFailed, match="noisy"):
        recover_exact(X, Y, 3, rng=0)
    r = recover_exact(X, Y, 3, rng=0, on_failure="return")
    assert not r.ok and r.certificate.reason
    assert r.residual > 1e-6  # the returned (moment) estimate is visibly not exact


@pytest.mark.parametrize("k_wrong", [2, 4])
def test_wrong_k_fails_honestly(k_wrong):
    net = rl.planted_network(12, 3, 6, rng=17)
    X, Y = rl.sample(net, 300, rng=18)
    with pytest.raises(rl.RecoveryFailed):
        recover_exact(X, Y, k_wrong, rng=0)
    r = recover_exact(X, Y, k_wrong, rng=0, on_failure="return")
    assert not r.ok


def test_no_certified_zero_set_means_failure_not_a_wrong_answer():
    _, X, Y = _instance(20, 5, 10, 80, 0)
    r = recover_exact(
        X, Y, 5, rng=0, strategy="random", max_candidates=1, on_failure="return"
    )
    assert not r.ok and "certified" in r.certificate.reason
    rows = find_unit_rows(
        label_row_space(Y, 5)[0], strategy="random", rng=0, max_candidates=1
    )
    assert rows.n_found <= 1


def test_validation():
    X, Y = np.zeros((4, 10)), np.zeros((2, 10))
    with pytest.raises(ValueError, match="k=5"):
        recover_exact(X, Y, 5)
    with pytest.raises(ValueError, match="activation"):
        recover_exact(X, Y, 2, activation="tanh")
    with pytest.raises(ValueError, match="on_failure"):
        recover_exact(X, Y, 2, on_failure="maybe")
    with pytest.raises(ValueError, match="strategy"):
        find_unit_rows(np.eye(10, 2), strategy="magic")
    with pytest.raises(ValueError, match="Y"):
        recover_exact(X, np.zeros((2, 9)), 2)


def test_every_corrupted_zero_set_is_rejected():
    """The chapter's certificate figure: one active sample in S and S is rejected, every time."""
    net, X, Y = _instance(20, 5, 10, 80, 3)
    Q, _ = label_row_space(Y, 5)
    H = net.hidden(X)
    rng = np.random.default_rng(0)
    for i in range(5):
        off, on = np.flatnonzero(H[i] == 0), np.flatnonzero(H[i] > 0)
        for _ in range(20):
            S = rng.choice(off, size=10, replace=False)
            assert certify_zero_set(Q, S).ok
            S[0] = rng.choice(on)
            if np.all(H[:, S].max(axis=1) > 0):  # a zero set of no unit
                assert not certify_zero_set(Q, S).ok


def test_moment_route_needs_many_more_samples_than_the_certified_search():
    wins_small, wins_large = 0, 0
    for seed in range(5):
        net, X, Y = _instance(20, 5, 10, 100_000, seed)
        for n in (1000, 100_000):
            try:
                r = recover_exact(
                    X[:, :n],
                    Y[:, :n],
                    5,
                    rng=seed,
                    strategy="moments",
                    max_moment_samples=n,
                )
            except rl.RecoveryFailed:
                continue
            ok = rl.is_exact(rl.recovery_error(r, net), EXACT)
            wins_small += ok and n == 1000
            wins_large += ok and n == 100_000
    assert wins_small == 0 and wins_large >= 4
