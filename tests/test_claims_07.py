"""The claims chapter 7 (Hermite expansions, random deep networks) computes, each checked so that it can fail.

Closed forms and proved bounds are checked exactly (to rounding); the observations of
the chapter are re-run with the chapter's seeds and checked with a margin, so that a
change of the library that changes what the chapter says fails here.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import relulearn as rl


# ------------------------------------------------------------------ ch7-thm-tail and
# ch7-prop-relu-tail
def test_relu_coefficient_lower_bound_and_two_sided_tail_bound():
    # ch7-prop-relu-tail: a_{2j}^2 >= 1 / (16 pi j^(5/2)) for j >= 1, and for q >= 2
    # q^(-3/2) / (24 pi) <= eps_relu(q) <= 1 / (2 (q + 1)); both proved, so they must
    # hold to rounding
    a = rl.hermite_coefficients("relu", 4000)
    j = np.arange(1, 2001)
    assert np.all(a[2 * j] ** 2 >= 1 / (16 * math.pi * j**2.5))
    qs = list(range(2, 4001)) + [10**4, 10**6, 10**8]
    eps = np.append(rl.hermite_tail("relu", qs[:-1]), rl.hermite_tail("relu", qs[-1]))
    q = np.array(qs, dtype=float)
    assert np.all(q**-1.5 / (24 * math.pi) <= eps) and np.all(eps <= 0.5 / (q + 1))
    # the normalised ReLU: both bounds double (eps scales with the square of the factor
    # sqrt(2))
    nrelu = rl.normalize_activation("relu")
    assert abs(rl.hermite_tail(nrelu, 50) / rl.hermite_tail("relu", 50) - 2) < 1e-12
    # the lower bound is not vacuous: the tail is C q^(-3/2) asymptotically, 24 pi C =
    # 3.19 times the bound
    assert rl.hermite_tail("relu", 10**6) / (1e-9 / (24 * math.pi)) < 3.2


def test_sigmoid_derivative_bound_and_tail_bound():
    # ch7-thm-tail, item 3: |s^(k)| <= k! on the real line, and eps_s(q) <=
    # 2^(-floor(sqrt(q)/2)) for q >= 4. s^(k) = P_k(s) with P_0(s) = s and P_{k+1}(s) =
    # P_k'(s) s (1 - s): evaluate on a fine grid of s in (0, 1).
    s = np.linspace(1e-6, 1 - 1e-6, 20001)
    P = np.polynomial.Polynomial([0.0, 1.0])
    logistic = np.polynomial.Polynomial([0.0, 1.0, -1.0])  # s (1 - s)
    for k in range(1, 13):
        P = P.deriv() * logistic
        assert np.max(np.abs(P(s))) <= math.factorial(k), k
    qs = np.arange(4, 121)
    assert np.all(rl.hermite_tail("sigmoid", qs) <= 2.0 ** -np.floor(np.sqrt(qs) / 2))


def test_lipschitz_tail_bound_ratio_and_smooth_slopes_as_printed():
    # the chapter prints: smallest ratio (Lipschitz bound) / eps(q) over q in [2, 120]
    # for sqrt(2) ReLU = 11, and the fitted slopes of -ln eps against sqrt(q) on [20,
    # 80]: 3.1 (tanh), 6.1 (sigmoid)
    nrelu = rl.normalize_activation("relu")
    qs = np.arange(2, 121)
    eps = rl.hermite_tail(nrelu, qs)
    bound = np.array([rl.lipschitz_tail_bound(nrelu, int(q)) for q in qs])
    ratio = np.min(bound / eps)
    assert 10.5 < ratio < 11.5 and np.all(bound >= eps)
    q = np.arange(20, 81)
    for name, slope in [("tanh", 3.1), ("sigmoid", 6.1)]:
        e = rl.hermite_tail(rl.normalize_activation(name), q)
        fitted = -np.polyfit(np.sqrt(q), np.log(e), 1)[0]
        assert abs(fitted - slope) < 0.05, (name, fitted)


def test_dual_activation_is_lipschitz_with_constant_e_fprime_squared():
    # ch7-ex-dual: |hat f(rho) - hat f(rho')| <= E f'(z)^2 |rho - rho'|; E f'^2 = 1 for
    # sqrt(2) ReLU (attained at 1)
    rho = np.linspace(-1, 1, 4001)
    for act in [rl.normalize_activation("relu"), rl.normalize_activation("tanh")]:
        k = rl.dual_activation(act, rho)
        slopes = np.abs(np.diff(k)) / np.diff(rho)
        const = rl.lipschitz_tail_bound(act, 0)  # E f'(z)^2 / (0 + 1)
        assert np.max(slopes) <= const * (1 + 1e-9)
    nrelu = rl.normalize_activation("relu")
    assert abs(rl.lipschitz_tail_bound(nrelu, 0) - 1) < 1e-12
    top = rl.dual_activation(nrelu, np.array([1 - 1e-6, 1.0]))
    assert abs((top[1] - top[0]) / 1e-6 - 1) < 1e-2


# -------------------------------------------------------------------------------------
# exercise ch7-ex-degree
def _smallest_degree(act, delta, q_max=4096):
    if rl.hermite_tail(act, 0) <= delta:
        return 0
    lo, hi = 0, q_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if rl.hermite_tail(act, mid) <= delta else (mid, hi)
    return hi


def test_exercise_degree_table():
    relu, sigmoid = rl.normalize_activation("relu"), rl.normalize_activation("sigmoid")
    deltas = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    assert [_smallest_degree(relu, d) for d in deltas] == [4, 20, 90, 416, 1928]
    assert [_smallest_degree(sigmoid, d, 200) for d in deltas] == [1, 3, 5, 7, 9]
    for d, q in zip(deltas, [4, 20, 90, 416, 1928]):
        assert q >= (12 * math.pi * d) ** (
            -2 / 3
        )  # the proved lower bound of ch7-prop-relu-tail
        assert (
            abs(q - (2 * rl.RELU_TAIL_CONSTANT / d) ** (2 / 3)) < 1
        )  # "within one of (2C/delta)^(2/3)"


# ------------------------------------------------------------------------------------------
# ch7-obs-sgd
def test_sgd_students_against_polynomial_regression():
    # The chapter's SGD run (ch7-obs-sgd), one network (t = 0) and its starts: the
    # 6-unit student lands between linear and quadratic regression, the 12-unit student
    # (two stacked copies of x) near quadratic regression, and degree-4 regression beats
    # every run.  Margins: the chapter's numbers are 1.5e-2 to 4.5e-2 (k = 6), 9.3e-3 to
    # 1.1e-2 (k = 12, this network), regression 1.3e-1 (q = 1), ~1e-2 (q = 2), ~3e-3 (q
    # = 4).
    d0 = 6
    net = rl.random_deep_network(d0, 256, rng=20)
    X = rl.UniformSphere().sample(d0, 4000, rng=np.random.default_rng(100))
    Xt = rl.UniformSphere().sample(d0, 2000, rng=np.random.default_rng(200))
    y, yt = net(X), net(Xt)
    poly = {q: np.mean((rl.fit_polynomial(X, y, q)(Xt) - yt) ** 2) for q in (1, 2, 4)}
    errs = {}
    for k in (6, 12):
        r = -(-k // d0)
        Xr, Xtr = np.vstack([X] * r), np.vstack([Xt] * r)
        errs[k] = []
        for start in range(
            3 if k == 6 else 2
        ):  # (two of the three 12-unit starts, to keep the test short)
            g = np.random.default_rng(start)
            init = (
                g.standard_normal((1, k)) / math.sqrt(k),
                g.standard_normal((k, r * d0)) / math.sqrt(r * d0),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rl.ConvergenceWarning)
                fit = rl.train(
                    Xr,
                    y,
                    k,
                    method="gd",
                    batch_size=64,
                    lr=0.1,
                    max_iter=150,
                    init=init,
                    rng=start,
                )
            assert fit.status == "unverified"
            errs[k].append(np.mean((fit.network(Xtr)[0] - yt) ** 2))
    assert all(poly[2] < e < poly[1] / 2 for e in errs[6])
    assert all(0.7 * poly[2] < e < 1.3 * poly[2] for e in errs[12])
    assert poly[4] < 0.5 * min(errs[6] + errs[12])
