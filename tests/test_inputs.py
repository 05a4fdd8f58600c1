"""Input laws: zero mean, identity covariance, the stated fourth moment, and (a)symmetry.

Tolerances are derived from n: a sample mean of i.i.d. terms with standard deviation s
has standard error s / sqrt(n); we allow 5 standard errors, with s estimated from the
same samples, so a correct law fails with probability below 1e-6 per check while a wrong
constant is caught.
"""

import numpy as np
import pytest
from scipy import stats

import relulearn as rl

N = 400_000
D = 3
LAWS = [
    rl.Gaussian(),
    *rl.SYMMETRIC_LAWS,
    rl.StudentT(df=10),
    rl.UniformSphere(),
    rl.CenteredExponential(),
]


def _assert_mean(samples, expected, name):
    mean = samples.mean(axis=-1)
    se = samples.std(axis=-1) / np.sqrt(samples.shape[-1])
    assert np.all(np.abs(mean - expected) <= 5 * se + 1e-12), (
        f"{name}: {mean} vs {expected} (se {se})"
    )


@pytest.mark.parametrize("law", LAWS, ids=lambda law: type(law).__name__)
def test_law_is_centred_with_identity_covariance(law):
    X = law.sample(D, N, rng=11)
    assert X.shape == (D, N)
    _assert_mean(X, 0.0, "mean")
    products = np.stack([X[i] * X[j] for i in range(D) for j in range(D)])
    _assert_mean(products, np.eye(D).ravel(), "covariance")


@pytest.mark.parametrize(
    "law",
    [law for law in LAWS if not isinstance(law, rl.StudentT) or law.df > 8],
    ids=lambda law: type(law).__name__,
)
def test_fourth_moment_matches_closed_form(law):
    # the standard error of the fourth moment needs a finite eighth moment: Student-t
    # with df > 8 only
    X = law.sample(D, N, rng=12)
    _assert_mean(X[0] ** 4, law.fourth_moment(D), "fourth moment")


@pytest.mark.parametrize("law", LAWS, ids=lambda law: type(law).__name__)
def test_symmetric_flag_matches_the_law(law):
    # x and -x have the same law iff a projection v.x does; compare v.x with -v.x from
    # independent draws
    v = np.array([0.6, -0.48, 0.64])
    a = v @ law.sample(D, 50_000, rng=13)
    b = -(v @ law.sample(D, 50_000, rng=14))
    p = stats.ks_2samp(a, b).pvalue
    if law.is_symmetric:
        assert p > 1e-4
    else:
        assert p < 1e-10


def test_sample_labels_and_noise():
    net = rl.planted_network(6, 3, 4, rng=0)
    s = rl.sample(net, 20_000, rng=1, noise=0.5, inputs=rl.Laplace())
    assert s.X.shape == (6, 20_000) and s.Y.shape == (4, 20_000)
    np.testing.assert_allclose(s.Y_clean, net(s.X))
    E = s.Y - s.Y_clean
    # the sample sd of 80,000 Gaussian draws has standard error sd / sqrt(2 * 80,000)
    assert abs(E.std() - 0.5) < 5 * 0.5 / np.sqrt(2 * E.size)
    X, Y = rl.sample(net, 5, rng=2)
    np.testing.assert_array_equal(Y, net(X))
    assert repr(s) == "Samples(d=6, n=20000, m=4)"


def test_sample_validates():
    net = rl.planted_network(3, 2, 1, rng=0)
    with pytest.raises(ValueError, match="noise must be"):
        rl.sample(net, 10, rng=0, noise=-1)
    with pytest.raises(TypeError, match="n must be an int"):
        rl.sample(net, 10.0, rng=0)
    with pytest.raises(TypeError, match="network must be a TwoLayerNetwork"):
        rl.sample("net", 10, rng=0)
    with pytest.raises(TypeError, match="inputs must be an InputLaw"):
        rl.sample(net, 10, rng=0, inputs="gaussian")
    with pytest.raises(ValueError, match="df must be > 4"):
        rl.StudentT(df=3)
