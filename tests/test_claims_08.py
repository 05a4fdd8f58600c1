"""Claims of chapter 8 ("Every learner side by side") that the chapter computes, each on planted instances.

Each test plants its ground truth and can fail: if the claim were false, the measured
quantity would leave the stated tolerance, whose derivation is given beside it.
"""

from __future__ import annotations

import numpy as np
import pytest

import relulearn as rl
from relulearn import comparison as cmp

CUBE = cmp.Setting(
    "uniform cube, noise 0.1 RMS", d=10, k=4, m=6, noise=0.1, inputs=rl.UniformCube()
)
SPHERE = cmp.Setting("sphere inputs", d=6, k=3, m=1, inputs=rl.UniformSphere())


def test_oracle_error_is_proportional_to_the_noise():
    """Exercise ch8-ex-oracle: to first order the least-squares error is linear in the noise.

    Same inputs and the same noise draw xi, scaled by s and 2 s: the first-order term of
    the local least-squares estimate is a linear map of the noise, so the error ratio is
    exactly 2 to first order. The remainder is second order, relative size O(s) times a
    constant that the ReLU's kinks make large: on seeds 0-2 the ratio measured
    1.998-2.069 at these levels. A tolerance of 0.2 (10%) leaves three times that room,
    and still fails for an estimate whose error does not scale with the noise (a bias
    would keep the ratio near 1).
    """
    for seed in range(3):
        truth = rl.planted_network(10, 4, 6, rng=seed)
        data = rl.sample(truth, 5000, rng=seed)
        xi = np.random.default_rng(100 + seed).standard_normal(data.Y_clean.shape)
        rms = float(np.sqrt(np.mean(data.Y_clean**2)))
        errs = []
        for s in (0.01, 0.02):
            fit = rl.local_least_squares(data.X, data.Y_clean + s * rms * xi, truth)
            errs.append(rl.recovery_error(fit.network, truth).max)
        assert errs[1] / errs[0] == pytest.approx(2.0, abs=0.2)


def test_recovery_threshold_is_far_from_every_error():
    """Observations ch8-obs-noiseless and ch8-obs-scalar count an instance as recovered when its error is below
    1e-3. Gradient training stops at a relative residual of 1e-7, which leaves errors
    near 1e-6 when it found the truth (up to 1.1e-5 after a slow run that hit the
    iteration cap), and a wrong answer has errors of order one: on the chapter's
    instances where its count changes (the small n of the noiseless sweep, n = 500 of
    the scalar one) every error must be at least ten times below the threshold or a
    hundred times above it (wrong answers measured 0.4 and more), so no count sits on
    the edge of the threshold (the brief's rule for
    BLAS-independent outputs)."""
    settings = [
        (cmp.Setting("Gaussian, noiseless", d=10, k=4, m=6), (30, 40, 60, 100)),
        (cmp.Setting("scalar output", d=10, k=4, m=1, scalar_pm1=True), (500,)),
    ]
    gt = rl.get_learner("gradient training")
    for st, ns in settings:
        for n in ns:
            for seed in range(5):
                truth, X, Y = st.instance(n, seed)
                res, _ = cmp.run_learner(gt, X, Y, st.k, seed)
                err = rl.recovery_error(res.network, truth).max
                assert err < 1e-4 or err > 1e-1, (st.name, n, seed, err)


def test_exact_recovery_floor_is_set_by_active_samples_not_by_k():
    """Exercise ch8-ex-floor: at d = 20 the exact learner succeeds on all five seeds at n = 60 = 3d for k = 2, 4, 6
    (kd = 40, 80, 120), and each failure at n = 40 = 2d is a unit active on fewer than d
    samples.

    At n = 60 a unit has fewer than d = 20 active samples with probability P(Bin(60,
    1/2) <= 19) = 0.003; the five seeds are fixed, and the claim is about these.
    """
    for k in (2, 4, 6):
        st = cmp.Setting(f"k={k}", d=20, k=k, m=6)
        rows = cmp.accuracy_vs_n(st, [60], 5, 1e-6, names=["exact recovery"])
        assert rows[0].successes == 5 and rows[0].certified == 5
        for seed in range(5):
            _, X, Y = st.instance(40, seed)
            res = rl.recover_exact(
                X, Y, k, rng=cmp.learner_rng(seed), on_failure="return"
            )
            if res.status == "failed":
                assert "active on" in res.reason and "< d=20" in res.reason, res.reason


def test_method_of_moments_refined_by_least_squares_reaches_the_oracle():
    """Observation ch8-obs-symmetric: on the cube the method of moments' answer, used as the start of the local
    least-squares fit, ends at the oracle's fit (the local least-squares fit from the
    truth), while the moment answer alone is several times less accurate.

    Both fits converge to the same local minimum of the loss, so their errors agree up
    to where each fit stops (a relative decrease of the loss per step below its
    tolerance): they measured within 1.2e-4 of each other (relative). The tolerance of
    1% is what the chapter's three printed digits need; a fit ending at another local
    minimum would be off by far more (the moment answer's error is 8-10 times the
    oracle's in the chapter, and the test asks for at least 3 times).
    """
    for seed in range(3):
        truth, X, Y = CUBE.instance(5_000, seed)
        start, _ = cmp.run_learner(
            rl.get_learner("symmetric method of moments"), X, Y, CUBE.k, seed
        )
        assert start.status == "certified"
        fit = rl.local_least_squares(X, Y, start.network)
        oracle = rl.local_least_squares(X, Y, truth)
        e_start = rl.recovery_error(start.network, truth, inputs=CUBE.inputs).max
        e_fit = rl.recovery_error(fit.network, truth, inputs=CUBE.inputs).max
        e_oracle = rl.recovery_error(oracle.network, truth, inputs=CUBE.inputs).max
        assert e_fit == pytest.approx(e_oracle, rel=1e-2)
        assert e_start > 3 * e_oracle


def test_certified_is_not_accurate():
    """Exercise ch8-ex-certified: at n = 5,000 on the cube, seed 1, the method of moments certifies an answer
    whose error exceeds 0.05 (it measured 0.08; the margin is far above any rounding effect)."""
    truth, X, Y = CUBE.instance(5_000, 1)
    res = rl.recover_symmetric(
        X, Y, CUBE.k, rng=cmp.learner_rng(1), on_failure="return"
    )
    assert res.status == "certified"
    assert rl.recovery_error(res.network, truth, inputs=CUBE.inputs).max > 0.05
    assert res.details["statistical_certificate"].ok


def test_degree_three_adds_nothing_to_degree_two_on_the_sphere():
    """Observation ch8-obs-polynomial: for a law symmetric under x -> -x the best polynomial of degree 3 equals
    the best of degree 2 (a ReLU network is linear plus even; odd monomials are
    uncorrelated with even functions).

    The fitted polynomials differ only by estimation error: least squares with p
    features has excess risk about (residual variance) p / n, so the squared relative
    errors satisfy e_3^2 / e_2^2 ~ (1 + 84/n) / (1 + 28/n), a ratio e_3 / e_2 ~ 1.007 at
    n = 4000 (measured 1.006-1.012 on seeds 0-4). The window [0.98, 1.05] holds that
    with room; degree 4 does gain (measured e_4 / e_2 ~ 0.55-0.59), so a gain at degree
    3 of that size would fail.
    """
    for seed in range(3):
        truth, X, Y = SPHERE.instance(4000, seed)
        Xt = SPHERE.inputs.sample(SPHERE.d, 5000, rng=10_000 + seed)
        yt = truth(Xt).ravel()
        err = {
            q: np.linalg.norm(np.ravel(rl.fit_polynomial(X, Y[0], q)(Xt)) - yt)
            / np.linalg.norm(yt)
            for q in (2, 3, 4)
        }
        assert 0.98 <= err[3] / err[2] <= 1.05
        assert err[4] / err[2] < 0.7
