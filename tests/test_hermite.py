"""Tests for relulearn.hermite: Hermite coefficients, tails, dual activation, truncations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import relulearn as rl
from relulearn import hermite as H


def quad_coefficient(f, n):
    """Independent oracle: adaptive quadrature of f(x) He_n(x) phi(x) / sqrt(n!) on each half-line."""

    def g(x):
        return (
            float(f(np.array(x)))
            * special.eval_hermitenorm(n, x)
            * math.exp(-x * x / 2)
            / math.sqrt(2 * math.pi * math.factorial(n))
        )

    opts = {"epsabs": 1e-15, "epsrel": 1e-13, "limit": 400}
    with (
        warnings.catch_warnings()
    ):  # quad may flag round-off at these tolerances; the 1e-12 check decides
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        return (
            integrate.quad(g, -40, 0, **opts)[0] + integrate.quad(g, 0, 40, **opts)[0]
        )


# -----------------------------------------------------------------------------------------
# h_n
def test_orthonormality_by_gauss_hermite_quadrature():
    # 80-node Gauss-Hermite is exact for polynomials of degree <= 159 >= 2 * 40
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    Hz = H.hermite_functions(z, 40)
    gram = (Hz * w) @ Hz.T
    assert np.max(np.abs(gram - np.eye(41))) < 1e-12


def test_hermite_functions_match_scipy_and_derivative_identity():
    x = np.linspace(-4, 4, 17)
    Hx = H.hermite_functions(x, 12)
    for n in range(13):
        ref = special.eval_hermitenorm(n, x) / math.sqrt(math.factorial(n))
        np.testing.assert_allclose(Hx[n], ref, rtol=1e-12, atol=1e-12)
    # h_n(0) = (-1)^(n/2) sqrt((n-1)!! / n!!) for even n (from He_n(0) = (-1)^(n/2)
    # (n-1)!!)
    h0 = H.hermite_functions(0.0, 10)
    for n in range(0, 11, 2):
        ref = (-1) ** (n // 2) * math.sqrt(
            float(sp.factorial2(n - 1) / sp.factorial2(n))
        )
        assert abs(h0[n] - ref) < 1e-14
        assert abs(h0[n + 1 if n < 10 else 9]) < 1e-14


# --------------------------------------------------------------------------------
# coefficients
def test_relu_closed_form_matches_sympy_exact_integrals():
    x = sp.symbols("x", real=True)
    a = H.hermite_coefficients("relu", 10)
    for n in range(11):
        He = sp.hermite_prob(n, x)
        exact = sp.integrate(x * He * sp.exp(-(x**2) / 2), (x, 0, sp.oo)) / sp.sqrt(
            2 * sp.pi * sp.factorial(n)
        )
        assert abs(float(exact) - a[n]) < 1e-15


@pytest.mark.parametrize(
    "name",
    ["relu", "abs", "erf", "step", "tanh", "sigmoid", "softplus", "squared_relu"],
)
def test_coefficients_against_independent_quadrature(name):
    act = H.absolute if name == "abs" else rl.get_activation(name)
    a = H.hermite_coefficients(act, 30)
    ref = np.array([quad_coefficient(act, n) for n in range(31)])
    assert np.max(np.abs(a - ref)) < 1e-12


def test_coefficients_match_reference_values_and_symmetries():
    # reference values from independent 50-digit / 300-node computations, 8 significant
    # digits
    np.testing.assert_allclose(
        H.hermite_coefficients("sigmoid", 9)[[0, 1, 3, 9]],
        [0.5, 2.0662096e-01, -2.5473258e-02, 5.8778917e-04],
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        H.hermite_coefficients("tanh", 19)[[1, 3, 19]],
        [6.0570551e-01, -1.4843719e-01, -1.8336300e-03],
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        H.hermite_coefficients("erf", 19)[[1, 19]],
        [6.5147002e-01, -1.6743021e-03],
        rtol=1e-7,
    )
    assert abs(H.hermite_coefficients("erf", 1)[1] - 2 / math.sqrt(3 * math.pi)) < 1e-15
    assert np.max(np.abs(H.hermite_coefficients("tanh", 30)[0::2])) < 1e-14
    assert np.max(np.abs(H.hermite_coefficients("sigmoid", 30)[2::2])) < 1e-14


def test_normalisation():
    for name in ["relu", "tanh", "sigmoid", "erf", "softplus", "step"]:
        n = H.normalize_activation(name)
        a = H.hermite_coefficients(n, 400)
        # sum of squares + tail = E f^2 = 1
        assert abs(np.sum(a**2) + H.hermite_tail(n, 400) - 1.0) < 1e-12, name
    nr = H.normalize_activation("relu")
    assert abs(nr.scale - math.sqrt(2)) < 1e-15
    assert abs(H.hermite_coefficients(nr, 0)[0] - 1 / math.sqrt(math.pi)) < 1e-15
    assert "relu" in repr(nr) and "0x" not in repr(nr)


# -----------------------------------------------------------------------------------------
# tails
def test_relu_tail_constant_and_table():
    eps = {q: H.hermite_tail("relu", q) for q in (10, 100, 1000, 10**4, 10**6)}
    scaled = [eps[q] * q**1.5 for q in sorted(eps)]
    # reference values in 50-digit arithmetic: 1.27501e-3, 4.21374e-5, 1.33796e-6,
    # 4.23272e-8
    np.testing.assert_allclose(
        [eps[10], eps[100], eps[1000], eps[10**4]],
        [1.27501e-3, 4.21374e-5, 1.33796e-6, 4.23272e-8],
        rtol=1e-5,
    )
    assert all(np.diff(scaled) > 0)  # approaches from below
    assert abs(scaled[-1] - 0.0423291) < 1e-6
    assert abs(H.RELU_TAIL_CONSTANT - 0.0423291) < 1e-7
    # far beyond the mpmath regime: the asymptote
    assert (
        abs(H.hermite_tail("relu", 4 * 10**9) * (4e9) ** 1.5 / H.RELU_TAIL_CONSTANT - 1)
        < 1e-8
    )


def test_relu_tail_has_no_cancellation():
    # eps(q) - eps(q + 2) must equal a_{q+2}^2 to full relative precision even where eps
    # ~ 1e-14; a_{2j}^2 = Gamma(j - 1/2) / (8 pi^1.5 Gamma(j + 1) (j - 1/2)) (closed
    # form, via gammaln)
    for q in (20, 10**4, 10**8):
        n = q + 2
        j = n // 2
        a2 = math.exp(special.gammaln(j - 0.5) - special.gammaln(j + 1)) / (
            8 * math.pi**1.5 * (j - 0.5)
        )
        d = H.hermite_tail("relu", q) - H.hermite_tail("relu", q + 2)
        assert abs(d / a2 - 1) < 1e-6 * max(1, q * 1e-4), (
            q
        )  # relative, float difference of two tails
    a = H.hermite_coefficients("relu", 40)
    assert (
        abs(
            H.hermite_tail("relu", 20)
            - np.sum(a[21:] ** 2)
            - H.hermite_tail("relu", 40)
        )
        < 1e-17
    )


def test_tails_of_smooth_activations_below_1e_12():
    # reference values (normalised activations) from an independent high-precision
    # computation
    for name, q, ref in [
        ("sigmoid", 19, 8.4849e-11),
        ("tanh", 20, 8.3358e-06),
        ("erf", 20, 3.7790e-06),
        ("relu", 20, 9.2457e-04),
        ("sigmoid", 11, 3.4795e-08),
    ]:
        assert abs(H.hermite_tail(H.normalize_activation(name), q) / ref - 1) < 1e-4, (
            name
        )
    # raw sigmoid at q = 80: 2.7e-23 (50-digit reference), far below the cancellation
    # floor of 1 - partial sum
    t80 = H.hermite_tail("sigmoid", 80)
    assert 2.5e-23 < t80 < 2.9e-23
    # erf tail (closed form) equals the summed closed-form squares
    a = H.hermite_coefficients("erf", 200)
    assert abs(H.hermite_tail("erf", 40) / np.sum(a[41:][::-1] ** 2) - 1) < 1e-10
    assert H.hermite_tail("erf", 60) < 1e-12


def test_lipschitz_bound_holds_and_is_loose_for_relu():
    for q in (1, 5, 20, 100):
        assert H.hermite_tail("relu", q) <= H.lipschitz_tail_bound("relu", q)
        assert H.hermite_tail("tanh", q) <= H.lipschitz_tail_bound("tanh", q)
    assert abs(H.lipschitz_tail_bound("relu", 20) - 0.5 / 21) < 1e-12
    assert H.lipschitz_tail_bound("relu", 20) / H.hermite_tail("relu", 20) > 40


# -----------------------------------------------------------------------------------------
# dual
def test_dual_activation_closed_forms_match_series_and_monte_carlo():
    rho = np.array([-0.9, -0.3, 0.0, 0.5, 0.99])
    for name in ["relu", "erf", "step"]:
        closed = H.dual_activation(name, rho)
        series = H.dual_activation(name, rho, closed_form=False)
        tol = (
            1e-10 if name != "step" else 1e-4
        )  # step's series converges like N^(-1/2) at 0.99
        assert np.max(np.abs(closed - series)) < tol, name
    absd = H.dual_activation(H.absolute, rho)
    assert (
        np.max(np.abs(absd - H.dual_activation(H.absolute, rho, closed_form=False)))
        < 1e-10
    )
    assert abs(H.dual_activation(H.normalize_activation("relu"), 1.0) - 1.0) < 1e-15
    # Monte Carlo E relu(X) relu(Y), corr 0.5: tolerance 5 standard errors from the
    # samples
    g = np.random.default_rng(3).standard_normal((2, 200_000))
    Xs, Ys = g[0], 0.5 * g[0] + math.sqrt(0.75) * g[1]
    prod = np.maximum(Xs, 0) * np.maximum(Ys, 0)
    assert abs(
        prod.mean() - H.dual_activation("relu", 0.5)
    ) < 5 * prod.std() / math.sqrt(prod.size)


# ------------------------------------------------------------------ truncation,
# vectorised tails
def test_truncated_activation_is_the_partial_sum():
    z = np.linspace(-3, 3, 11)
    tq = H.truncated_activation("tanh", 7)
    a = H.hermite_coefficients("tanh", 7)
    np.testing.assert_allclose(tq(z), a @ H.hermite_functions(z, 7), atol=1e-14)
    dz = 1e-6
    np.testing.assert_allclose(
        tq.derivative(z), (tq(z + dz) - tq(z - dz)) / (2 * dz), atol=1e-7
    )
    # E (f - f_q)^2 = eps(q): exact by 200-node Gauss-Hermite for the smooth tanh
    x, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / w.sum()
    assert abs(np.dot(w, (np.tanh(x) - tq(x)) ** 2) - H.hermite_tail("tanh", 7)) < 1e-12


def test_vectorised_tail_matches_scalar():
    for act in ["tanh", H.normalize_activation("relu"), "erf", "step"]:
        qs = [0, 1, 7, 30]
        vec = H.hermite_tail(act, qs)
        ref = np.array([H.hermite_tail(act, q) for q in qs])
        np.testing.assert_allclose(vec, ref, rtol=1e-12, atol=1e-300)
    # the explicit-sum branch (small q) and the 3F2 branch (large q) agree where they
    # meet
    assert (
        abs(
            H.hermite_tail("relu", 254)
            / (
                H.hermite_tail("relu", 256)
                + H.hermite_coefficients("relu", 256)[256] ** 2
            )
            - 1
        )
        < 1e-13
    )
    assert abs(H.hermite_tail("step", 0) - 0.25) < 1e-15  # E step^2 - a_0^2 = 1/2 - 1/4


# ----------------------------------------------------------------------------------
# validation
def test_input_validation_names_the_argument():
    with pytest.raises(ValueError, match="degree"):
        H.hermite_coefficients("relu", -1)
    with pytest.raises(TypeError, match="degree"):
        H.hermite_coefficients("relu", 2.5)
    with pytest.raises(ValueError, match="q"):
        H.hermite_tail("relu", -2)
    with pytest.raises(ValueError, match="activation"):
        H.hermite_coefficients("nope", 3)
    with pytest.raises(ValueError, match="rho"):
        H.dual_activation("relu", 1.5)
    zero = rl.Activation("zero", lambda z: 0.0 * z, lambda z: 0.0 * z)
    with pytest.raises(ValueError, match="zero"):
        H.normalize_activation(zero)
