"""The claims of chapter 3 (exact recovery) that the chapter computes: its theorem on planted instances, the
Jennrich lemma, the step function's non-identifiability, the exercise on random zero
sets, and the Adam
comparisons (random starts with their own seeds; one output against ten)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import relulearn as rl
from relulearn import exact, moments


def _instance(d, k, m, n, seed, activation="relu"):
    net = rl.planted_network(d, k, m, rng=seed, activation=activation)
    X, Y = rl.sample(net, n, rng=1000 + seed)
    return net, X, Y


def _matched(active: np.ndarray) -> bool:
    """Whether every unit (row) can be assigned a distinct sample (column) on which it is active."""
    if active.shape[0] == 0:
        return True
    rows, cols = linear_sum_assignment(-active.astype(float))
    return bool(active[rows, cols].all()) and rows.size == active.shape[0]


def _relative_singular_values(Q, S):
    s = np.linalg.svd(Q[S], compute_uv=False)
    return s / s[0]


def test_theorem_parts_2_and_3_certify_zero_sets_and_reject_matched_sets():
    """Part 2: a zero set of unit i with the others matched has a one-dimensional null space whose lift is
    H_i; part 3: a set on which all units are matched has none."""
    net, X, Y = _instance(20, 5, 10, 80, 0)
    k = 5
    Q, _ = exact.label_row_space(Y, k)
    H = net.hidden(X)
    rng = np.random.default_rng(0)
    n_part2 = n_part3 = 0
    for _ in range(200):
        S = rng.choice(80, size=k + 1, replace=False)
        active = H[:, S] > 0
        s = _relative_singular_values(Q, S)
        if _matched(active):  # part 3
            assert s[-1] > 1e-8
            n_part3 += 1
        zero_units = np.flatnonzero(~active.any(axis=1))
        if zero_units.size == 1:
            i = zero_units[0]
            if _matched(np.delete(active, i, axis=0)):  # part 2
                assert s[-1] < 1e-12 and s[-2] > 1e-6
                c = np.linalg.svd(Q[S])[2][-1]
                row = Q @ c
                cos = abs(row @ H[i]) / (np.linalg.norm(row) * np.linalg.norm(H[i]))
                assert cos > 1 - 1e-12
                n_part2 += 1
    assert n_part3 > 100 and n_part2 > 5  # both cases were exercised


def test_theorem_part_4_gives_the_rescaled_permuted_truth_for_squared_relu():
    """F_i = beta_i H_pi(i): V = D Pi V* with D = (beta_i f(1))^(1/p), and U = Y f(V X)^+ = U* Pi^T D^-p."""
    net, X, Y = _instance(12, 4, 6, 200, 1, activation="squared_relu")
    p = 2
    perm = np.array([2, 0, 3, 1])
    beta = np.array([0.5, 2.0, 3.0, 0.1])
    F = beta[:, None] * net.hidden(X)[perm]
    V, _fit = exact.solve_input_weights(X, F, "squared_relu")
    f1 = float(rl.get_activation("squared_relu")(np.array(1.0)))
    D = (beta * f1) ** (1.0 / p)
    assert np.allclose(V, D[:, None] * net.V[perm], rtol=1e-10, atol=1e-12)
    U = Y @ np.linalg.pinv(rl.get_activation("squared_relu")(V @ X))
    assert np.allclose(U, net.U[:, perm] / D**p, rtol=1e-8, atol=1e-10)


def test_jennrich_lemma_on_an_exact_tensor():
    """T[g1] T[g2]^+ = B diag(mu) B^+ with mu_i = (g1.w_i)/(g2.w_i); the population T2 gives the directions."""
    rng = np.random.default_rng(2)
    B = rng.standard_normal((7, 3))
    W = rng.standard_normal((4, 3))
    g1, g2 = rng.standard_normal(4), rng.standard_normal(4)
    T1, T2 = (B * (g1 @ W)) @ B.T, (B * (g2 @ W)) @ B.T
    mu = (g1 @ W) / (g2 @ W)
    assert np.allclose(
        T1 @ np.linalg.pinv(T2), B @ np.diag(mu) @ np.linalg.pinv(B), atol=1e-10
    )
    net = rl.planted_network(20, 5, 10, rng=0)
    res = rl.jennrich(
        lambda g: moments.population_second_moment_contraction(net, g), 10, 5, rng=0
    )
    Vb = net.V / np.linalg.norm(net.V, axis=1, keepdims=True)
    cos = np.abs(res.components.T @ Vb.T).max(axis=0)
    assert np.all(np.sqrt(np.clip(1 - cos**2, 0, None)) < 1e-7)


def test_step_function_is_not_identifiable_and_recover_exact_refuses():
    net, X, Y = _instance(20, 5, 10, 120, 5, activation="step")
    z = net.V[0] @ X
    w = np.random.default_rng(3).standard_normal(20)
    w -= (w @ net.V[0]) / (net.V[0] @ net.V[0]) * net.V[0]  # not parallel to v_1
    # a step small enough to keep every sign of v_1 . x_j: |eps w . x_j| < |v_1 . x_j|
    eps = 0.5 * np.min(np.abs(z) / np.maximum(np.abs(w @ X), 1e-300))
    V2 = net.V.copy()
    V2[0] = net.V[0] + eps * w
    other = rl.TwoLayerNetwork(net.U, V2, "step")
    assert np.array_equal(other(X), net(X))
    with pytest.raises(rl.RecoveryFailed, match="degree 0"):
        exact.recover_exact(X, Y, 5, activation="step", rng=0)


def test_random_subsets_are_zero_sets_about_k_2_to_the_minus_k_plus_1():
    """The exercise ch3-ex-random at k = 3. Tolerance: 5 binomial standard errors of the frequency over
    `trials` draws, sqrt(p (1 - p) / trials) ~ 0.012 at p ~ 0.19, plus 0.02 for the
    union bound's overcount and
    the finite-sample fraction of inactive samples (both of the size printed in the exercise's solution)."""
    k, trials = 3, 1000
    net = rl.planted_network(20, k, 2 * k, rng=k)
    X, Y = rl.sample(net, 200, rng=100 + k)
    Q, _ = exact.label_row_space(Y, k)
    H = net.hidden(X)
    rng = np.random.default_rng(0)
    hits = zero = 0
    for _ in range(trials):
        S = rng.choice(200, size=k + 1, replace=False)
        hits += exact.certify_zero_set(Q, S).ok
        zero += bool(np.any(H[:, S].max(axis=1) == 0))
    p, target = hits / trials, k * 2.0 ** -(k + 1)
    assert hits <= zero
    assert abs(p - target) < 5 * np.sqrt(target * (1 - target) / trials) + 0.02


def test_train_seeded_like_the_planted_network_would_start_at_the_truth():
    """The chapter's comment: rl.train(rng=s) draws the same k x d Gaussian matrix as planted_network(rng=s)."""
    net, X, Y = _instance(20, 5, 10, 120, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        r = rl.train(X, Y, 5, rng=4, method="adam", lr=1e-12, max_iter=1)
    assert np.max(np.abs(np.asarray(r.network.V) - net.V)) < 1e-11


def test_adam_from_its_own_random_start():
    """The phase-transition cell: with seeds of its own, Adam finds the planted (20, 5, 10) network at n = 120
    and not at n = 40 (errors below 1e-4 or above 1e-2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        for seed in range(2):
            for n, near in ((120, True), (40, False)):
                net, X, Y = _instance(20, 5, 10, n, seed)
                r = rl.train(
                    X,
                    Y,
                    5,
                    rng=2000 + seed,
                    method="adam",
                    lr=0.01,
                    max_iter=3000,
                    tol=1e-13,
                )
                err = rl.recovery_error(r, net).max
                assert (err < 1e-4) if near else (err > 1e-2)


def test_adam_fits_ten_outputs_more_often_than_one():
    """The observation ch3-obs-adam on its first five instances: m = 10 fits all five, m = 1 at most three."""
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.ConvergenceWarning)
        for m in (10, 1):
            fits[m] = 0
            for seed in range(5):
                _net, X, Y = _instance(20, 5, m, 400, seed)
                r = rl.train(
                    X,
                    Y,
                    5,
                    rng=2000 + seed,
                    method="adam",
                    lr=0.01,
                    max_iter=3000,
                    tol=1e-13,
                )
                fits[m] += r.residual < 1e-3
    assert fits[10] == 5 and fits[1] <= 3
