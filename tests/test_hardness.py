"""Tests of relulearn.hardness: the Set Splitting reduction, the witness, the exact fitter, and the
claims chapter 2 makes about gradient descent (what the stopping points are: tests/test_claims_02.py)."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest

import relulearn as rl
from relulearn.hardness import (
    GADGET_LABELS,
    exact_fit_search,
    find_exact_fit,
    is_splittable,
    set_splitting_instance,
    splitting_witness,
)


def cycle(N):
    return [(i, (i + 1) % N) for i in range(N)]


K4 = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
THREE_SETS = [(0, 1, 2), (2, 3, 4), (0, 3, 4), (1, 2, 4)]
# Fano plane: the classic 3-uniform set system with no splitting (it is not
# 2-colourable).
FANO = [(0, 1, 2), (0, 3, 4), (0, 5, 6), (1, 3, 5), (1, 4, 6), (2, 3, 6), (2, 4, 5)]
INSTANCES = {
    "triangle": (3, cycle(3)),
    "4-cycle": (4, cycle(4)),
    "5-cycle": (5, cycle(5)),
    "6-cycle": (6, cycle(6)),
    "K4": (4, K4),
    "path": (4, [(0, 1), (1, 2), (2, 3)]),
    "3-sets": (5, THREE_SETS),
    "Fano": (7, FANO),
    "9-cycle": (9, cycle(9)),
    "K(3,3)": (6, [(a, b) for a in range(3) for b in range(3, 6)]),
}


def bipartite(N, edges):
    """Independent check for graphs: BFS 2-colouring."""
    adj = [[] for _ in range(N)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    colour = [-1] * N
    for s in range(N):
        if colour[s] >= 0:
            continue
        colour[s] = 0
        q = deque([s])
        while q:
            u = q.popleft()
            for w in adj[u]:
                if colour[w] < 0:
                    colour[w] = 1 - colour[u]
                    q.append(w)
                elif colour[w] == colour[u]:
                    return False
    return True


# ---------------------------------------------------------------- Set Splitting


@pytest.mark.parametrize("name", list(INSTANCES))
def test_is_splittable_colouring_splits(name):
    N, sets = INSTANCES[name]
    c = is_splittable(N, sets)
    if c is not None:
        assert len(c) == N
        for C in sets:
            assert {c[e] for e in C} == {0, 1}


@pytest.mark.parametrize("N", range(3, 9))
def test_graph_splittable_iff_bipartite(N):
    rng = np.random.default_rng(N)
    graphs = [cycle(N)]
    for _ in range(4):
        pairs = [
            (a, b) for a in range(N) for b in range(a + 1, N) if rng.random() < 0.4
        ]
        graphs.append(pairs)
    for edges in graphs:
        assert (is_splittable(N, edges) is not None) == bipartite(N, edges)


def test_known_answers():
    assert is_splittable(3, cycle(3)) is None
    assert is_splittable(4, K4) is None
    assert is_splittable(7, FANO) is None
    assert is_splittable(4, cycle(4)) is not None
    assert is_splittable(5, THREE_SETS) is not None
    assert is_splittable(3, [(0,)]) is None  # a singleton can never be split


def test_instance_layout():
    N, sets = INSTANCES["3-sets"]
    X, Y = set_splitting_instance(N, sets)
    M = len(sets)
    assert X.shape == (N + 3, M + N + 7) and Y.shape == (1, M + N + 7)
    assert np.all(X[N] == 1.0)  # the bias coordinate
    assert np.all(Y[0, : M + 1] == 0.0) and np.all(Y[0, M + 1 : M + 1 + N] == 1.0)
    np.testing.assert_array_equal(Y[0, -6:], [0, 0, 0.5, 1.5, 3, 5])
    assert GADGET_LABELS == (0.0, 0.0, 0.5, 1.5, 3.0, 5.0)
    X0, Y0 = set_splitting_instance(N, sets, gadget=False)
    assert X0.shape == (N + 1, M + N + 1) and Y0.shape == (1, M + N + 1)


# ---------------------------------------------------------------- the (<=) direction:
# witness


@pytest.mark.parametrize(
    "name", [n for n in INSTANCES if is_splittable(*INSTANCES[n]) is not None]
)
def test_witness_fits_exactly(name):
    N, sets = INSTANCES[name]
    X, Y = set_splitting_instance(N, sets)
    net = splitting_witness(N, sets, is_splittable(N, sets))
    assert np.max(np.abs(net(X) - Y)) < 1e-12
    # U = [1, 1]: both output weights positive, as the gadget forces.
    np.testing.assert_array_equal(net.U, [[1.0, 1.0]])


def test_witness_rejects_bad_colouring():
    N, sets = INSTANCES["4-cycle"]
    with pytest.raises(ValueError, match="colouring"):
        splitting_witness(N, sets, (0, 0, 1, 1))  # edge (0, 1) monochromatic
    with pytest.raises(ValueError, match="colouring"):
        splitting_witness(N, sets, (0, 1, 0))
    with pytest.raises(ValueError, match="colouring"):
        splitting_witness(N, sets, (0, 2, 0, 1))


# ---------------------------------------------------------------- the reduction in both
# directions


@pytest.mark.parametrize("name", list(INSTANCES))
def test_fitter_agrees_with_splitting(name):
    N, sets = INSTANCES[name]
    X, Y = set_splitting_instance(N, sets)
    search = exact_fit_search(X, Y, 2, all_signs=True)
    splittable = is_splittable(N, sets) is not None
    assert search.realizable == splittable
    if splittable:
        assert np.max(np.abs(search.network(X) - Y)) <= 1e-9 * 5
        # the gadget forces both output weights positive: only the (+, +) sign vector is
        # feasible
        assert search.feasible_signs == ((1, 1),)
        # the (=>) direction of the proof: the fit's active sets give a splitting
        net = search.network
        pre = net.V @ X
        M = len(sets)
        elem = pre[:, M + 1 : M + 1 + N]
        S1 = elem[0] > 0
        colouring = np.where(S1, 0, 1)
        for C in sets:
            assert {int(colouring[e]) for e in C} == {0, 1}
    else:
        assert search.feasible_signs == ()


def test_triangle_without_gadget_is_fitted_with_mixed_signs():
    N, sets = INSTANCES["triangle"]
    X, Y = set_splitting_instance(N, sets, gadget=False)
    search = exact_fit_search(X, Y, 2, all_signs=True)
    assert is_splittable(N, sets) is None
    assert search.realizable
    assert search.feasible_signs == ((1, -1),)
    # the explicit counterexample of the chapter: relu(s) - relu(3 s - 4), s = x1 + x2 +
    # x3
    net = rl.TwoLayerNetwork([[1.0, -1.0]], [[1, 1, 1, 0], [3, 3, 3, -4]])
    assert np.max(np.abs(net(X) - Y)) < 1e-12


# ---------------------------------------------------------------- the exact fitter on
# planted data


@pytest.mark.parametrize(
    "d,n,seed", [(2, 12, 0), (3, 12, 1), (3, 16, 2), (4, 14, 3), (4, 16, 4), (5, 15, 5)]
)
def test_fitter_finds_planted_fit(d, n, seed):
    net = rl.planted_network(d, 2, 1, rng=seed)
    X, Y = rl.sample(net, n, rng=100 + seed)
    fit = find_exact_fit(X, Y, 2)
    assert fit is not None
    assert fit.n_hidden == 2
    assert np.max(np.abs(fit(X) - Y)) <= 1e-9 * max(1.0, np.max(np.abs(Y)))


def test_fitter_k1_and_k3():
    net = rl.planted_network(3, 1, 1, rng=4)
    X, Y = rl.sample(net, 10, rng=5)
    assert find_exact_fit(X, Y, 1) is not None
    net3 = rl.planted_network(3, 3, 1, rng=6)
    X3, Y3 = rl.sample(net3, 10, rng=7)
    fit = find_exact_fit(X3, Y3, 3)
    assert fit is not None and np.max(np.abs(fit(X3) - Y3)) <= 1e-9 * max(
        1.0, np.max(np.abs(Y3))
    )


def test_fitter_k1_rejects_mixed_signs():
    # one unit has one output sign: labels of both signs cannot be fitted
    X = np.array([[1.0, -1.0, 2.0], [0.5, 1.0, 1.0]])
    assert find_exact_fit(X, [1.0, -1.0, 0.0], 1) is None
    # a single ReLU is 0 on a half-space: labels 1 at x and at -x are impossible
    assert find_exact_fit(np.array([[1.0, -1.0]]), [1.0, 1.0], 1) is None


@pytest.mark.parametrize("d,n,seed", [(3, 14, 0), (3, 16, 1), (4, 16, 2), (4, 14, 3)])
def test_fitter_on_perturbed_labels(d, n, seed):
    net = rl.planted_network(d, 2, 1, rng=seed)
    X, Y = rl.sample(net, n, rng=200 + seed)
    Y = Y.copy()
    Y[0, seed % n] += 0.5
    fit = find_exact_fit(X, Y, 2)
    if fit is not None:
        assert np.max(np.abs(fit(X) - Y)) <= 1e-9 * max(1.0, np.max(np.abs(Y)))


def test_perturbed_labels_are_mostly_unrealizable():
    # with n = 4 d Gaussian samples (more than the k d = 2 d parameters of V), a
    # perturbed label generically breaks realizability: the chapter's timing curve uses
    # such instances.
    nones = 0
    for seed in range(3):
        d = 3
        net = rl.planted_network(d, 2, 1, rng=10 + seed)
        X, Y = rl.sample(net, 4 * d, rng=20 + seed)
        Y = Y.copy()
        Y[0, 0] += 0.5
        nones += find_exact_fit(X, Y, 2) is None
    assert nones >= 2


# ---------------------------------------------------------------- validation


def test_validation_names_the_argument():
    X, Y = set_splitting_instance(3, cycle(3))
    with pytest.raises(ValueError, match="Y"):
        find_exact_fit(X, np.vstack([Y, Y]), 2)
    with pytest.raises(ValueError, match="Y"):
        find_exact_fit(X, Y[:, :-1], 2)
    with pytest.raises(ValueError, match="k"):
        find_exact_fit(X, Y, 0)
    with pytest.raises(TypeError, match="k"):
        find_exact_fit(X, Y, 2.0)
    with pytest.raises(ValueError, match="X"):
        find_exact_fit(np.full((2, 3), np.nan), [0.0, 0.0, 0.0], 1)
    with pytest.raises(ValueError, match="sets"):
        set_splitting_instance(3, [(0, 3)])
    with pytest.raises(TypeError, match="sets"):
        is_splittable(3, "ab")
    with pytest.raises(TypeError, match="sets"):
        is_splittable(3, [("a", 1)])
    with pytest.raises(ValueError, match="n_elements"):
        is_splittable(0, [])


def test_fit_search_repr():
    X, Y = set_splitting_instance(4, cycle(4))
    r = repr(exact_fit_search(X, Y, 2))
    assert r.startswith("FitSearch(realizable=True") and "0x" not in r


# ---------------------------------------------------------------- gradient descent
# (chapter claims)


def descent_residuals(k, seeds, n=400, max_iter=5000):
    """The chapter's experiment: planted k = d network, Gaussian inputs, train from seed s."""
    out = []
    for s in seeds:
        net = rl.planted_network(k, k, 1, rng=1000 * k + s)
        X, Y = rl.sample(net, n, rng=np.random.default_rng([2, k, s]))
        r = rl.train(X, Y, k, rng=np.random.default_rng([3, k, s]), max_iter=max_iter)
        out.append(r.residual)
    return np.array(out)


@pytest.mark.parametrize("k", [2, 4])
def test_descent_gets_stuck_and_succeeds(k):
    res = descent_residuals(k, range(10))
    # some runs reach the zero-loss planted network (to 1e-3 relative), some stall well
    # above it
    assert np.sum(res < 1e-3) >= 1
    assert np.sum(res > 1e-2) >= 1


def test_exact_fitter_succeeds_where_descent_is_stuck():
    k, n = 2, 40
    for s in range(10):
        net = rl.planted_network(k, k, 1, rng=1000 * k + s)
        X, Y = rl.sample(net, n, rng=np.random.default_rng([2, k, s]))
        r = rl.train(X, Y, k, rng=np.random.default_rng([3, k, s]))
        if r.residual > 1e-2:
            break
    else:
        pytest.fail("no stuck run of gradient descent among 10 seeds")
    fit = find_exact_fit(X, Y, k)
    assert fit is not None
    assert np.max(np.abs(fit(X) - Y)) <= 1e-9 * max(1.0, np.max(np.abs(Y)))
    # and it is the planted network (up to the symmetries): prediction error on fresh
    # inputs
    assert rl.recovery_error(fit, net, n_test=2000, rng=0).prediction < 1e-6


def test_empty_and_singleton_sets():
    with pytest.raises(ValueError, match=r"sets\[1\]"):
        set_splitting_instance(3, [(0, 1), ()])
    # a singleton set is never split, and its point P_C coincides with N_e (labels 0 and
    # 1)
    X, Y = set_splitting_instance(3, [(0, 1), (2,)])
    assert is_splittable(3, [(0, 1), (2,)]) is None
    assert find_exact_fit(X, Y, 2) is None


def test_chapter_timing_instances_are_unrealizable_and_grow():
    # the chapter's curve: d = n / 3, planted 2-unit labels with one label perturbed by
    # 0.5
    lps = []
    for n in (6, 9, 12, 15):
        d = n // 3
        net = rl.planted_network(d, 2, 1, rng=1)
        X, Y = rl.sample(net, n, rng=2)
        Y = Y.copy()
        Y[0, 0] += 0.5
        search = exact_fit_search(X, Y, 2)
        assert not search.realizable
        lps.append(search.n_lps)
    assert all(a < b for a, b in itertools.pairwise(lps))
    # faster than linear in n: 15/6 = 2.5 samples ratio, far more linear programs
    assert lps[-1] > 5 * lps[0]
