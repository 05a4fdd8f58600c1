"""Every learner of the registry through the same battery of checks (the learner contract).

Modelled on scikit-learn's ``utils/estimator_checks.py``: each check is a small
function, and one parametrised test runs every check on every entry of
:data:`relulearn.LEARNERS`, so a learner added to the registry gets the whole battery.
The contract is in :mod:`relulearn.recovery`.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import relulearn as rl

D, K = 6, 2


def _shape(spec: rl.LearnerSpec) -> tuple[int, int, int]:
    m = {"any": 3, "k<=m": 3, "k>m": 1, "scalar": 1}[spec.outputs]
    return D, K, m


def _n(spec: rl.LearnerSpec) -> int:
    d, k, m = _shape(spec)
    return max(4000, spec.min_samples(d, k, m))


@functools.cache
def _planted(name: str, noise: float = 0.0, seed: int = 0):
    spec = rl.get_learner(name)
    d, k, m = _shape(spec)
    rng = np.random.default_rng(seed)
    net = rl.planted_network(d, k, m, rng=rng, condition=2.0)
    X = rng.standard_normal((d, _n(spec)))
    Y = net(X)
    if noise:
        Y = Y + noise * np.sqrt(np.mean(Y**2)) * rng.standard_normal(Y.shape)
    X.setflags(write=False)
    Y.setflags(write=False)
    return net, X, Y


@functools.cache
def _baseline(name: str):
    """The learner on its noiseless planted instance (cached: several checks compare with it)."""
    spec = rl.get_learner(name)
    _, X, Y = _planted(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.RelulearnWarning)
        return spec(X, Y, K, rng=0, on_failure="return")


def _run(spec, X, Y, k=K, **kw):
    kw.setdefault("rng", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rl.RelulearnWarning)
        return spec(X, Y, k, **kw)


# ------------------------------------------------------------------------------------------------
# the checks
# ------------------------------------------------------------------------------------------------
def check_rejects_malformed_input(spec):
    """Bad input raises ValueError/TypeError naming the argument, before any work."""
    _, X, Y = _planted(spec.name)
    d = X.shape[0]
    Xnan = X.copy()
    Xnan[0, 3] = np.nan
    Yinf = Y.copy()
    Yinf[0, 5] = np.inf
    cases = [
        ("X 1-d", {"X": X[0], "Y": Y}, ValueError, "X"),
        ("Y wrong n", {"X": X, "Y": Y[:, :-1]}, ValueError, "Y"),
        ("X NaN", {"X": Xnan, "Y": Y}, ValueError, "X"),
        ("Y inf", {"X": X, "Y": Yinf}, ValueError, "Y"),
        ("X complex", {"X": X + 0j, "Y": Y}, TypeError, "X"),
        ("Y complex", {"X": X, "Y": Y * (1 + 1e-3j)}, TypeError, "Y"),
        ("X strings", {"X": X.astype(str), "Y": Y}, TypeError, "X"),
        ("Y None", {"X": X, "Y": None}, TypeError, "Y"),
        ("k > d", {"X": X, "Y": Y, "k": d + 1}, ValueError, "k"),
        ("k zero", {"X": X, "Y": Y, "k": 0}, ValueError, "k"),
        ("k float", {"X": X, "Y": Y, "k": 2.5}, TypeError, "k"),
        ("k bool", {"X": X, "Y": Y, "k": True}, TypeError, "k"),
        (
            "on_failure",
            {"X": X, "Y": Y, "on_failure": "ignore"},
            ValueError,
            "on_failure",
        ),
        ("rng", {"X": X, "Y": Y, "rng": "seed"}, TypeError, "rng"),
        ("progress", {"X": X, "Y": Y, "progress": "yes"}, TypeError, "progress"),
        ("overflow X", {"X": X * 1e160, "Y": Y}, ValueError, "rescale"),
        ("overflow Y", {"X": X, "Y": Y * 1e160}, ValueError, "rescale"),
    ]
    if (
        spec.outputs == "k<=m" and spec.outputs_required
    ):  # fewer outputs than hidden units: a shape the method cannot handle
        cases.append(("k > m", {"X": X, "Y": Y[:1], "k": K}, ValueError, "m"))
    if spec.outputs == "scalar":
        cases.append(
            ("m > 1", {"X": X, "Y": np.vstack([Y, Y]), "k": K}, ValueError, "scalar")
        )
    few = spec.min_samples(d, K, Y.shape[0]) - 1
    if few >= 1:
        cases.append(
            (
                "too few samples",
                {"X": X[:, :few], "Y": Y[:, :few]},
                ValueError,
                "samples",
            )
        )
    for label, kw, exc, word in cases:
        kw = dict(kw)
        Xc, Yc, k = kw.pop("X"), kw.pop("Y"), kw.pop("k", K)
        with pytest.raises(exc) as info:
            _run(spec, Xc, Yc, k, **kw)
        assert word in str(info.value), (
            f"{spec.name}, {label}: message {str(info.value)!r} does not name {word!r}"
        )


def check_status_semantics(spec):
    """Status is one of three; ok means certified; a reason exactly when not certified; residual as defined."""
    net, X, Y = _planted(spec.name)
    res = _baseline(spec.name)
    assert isinstance(res, rl.Recovery)
    assert res.status in rl.STATUSES
    assert res.ok == (res.status == "certified")
    assert bool(res.reason) == (res.status != "certified"), (res.status, res.reason)
    if res.network is not None:
        r = np.linalg.norm(Y - res.network(X)) / np.linalg.norm(Y)
        assert res.residual == pytest.approx(r, rel=1e-6, abs=1e-13)
    assert res.n_samples_used == X.shape[1]
    if spec.certifies_exact:
        assert res.status == "certified", res.reason
        err = rl.recovery_error(res.network, net)
        assert err.max < 1e-6, err


def check_unexplainable_data(spec):
    """Labels the model cannot explain (pure noise; a tanh network) are never certified.

    With ``on_failure="raise"`` a failed answer raises RecoveryFailed carrying the
    result and reason.
    """
    net, X, Y = _planted(spec.name)
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(Y.shape)
    tanh_net = rl.TwoLayerNetwork(net.U, net.V, "tanh")
    for label, Yb in (("pure noise", noise), ("tanh network", tanh_net(X))):
        res = _run(spec, X, Yb, on_failure="return")
        assert res.status != "certified", f"{spec.name} certified {label}: {res!r}"
        assert res.reason
        if (
            res.network is not None
        ):  # a failed or unverified result still reports its own residual
            r = np.linalg.norm(Yb - res.network(X)) / np.linalg.norm(Yb)
            assert res.residual == pytest.approx(r, rel=1e-6, abs=1e-13), (
                label,
                res.residual,
                r,
            )
        try:
            raised = _run(spec, X, Yb, on_failure="raise")
        except rl.RecoveryFailed as exc:
            assert res.status == "failed"
            assert exc.result is not None and exc.result.status == "failed"
            assert str(exc) == exc.result.reason == res.reason
        else:
            assert res.status == "unverified"
            assert raised.status == "unverified"


def check_unusual_valid_input(spec):
    """float32, lists, Fortran order, and scalar labels as (n,) give the same status and network."""
    _, X, Y = _planted(spec.name)
    base = _baseline(spec.name)
    variants = {
        "float32": (X.astype(np.float32), Y.astype(np.float32)),
        "Fortran order": (np.asfortranarray(X), np.asfortranarray(Y)),
    }
    if X.shape[1] <= 4000:
        variants["lists"] = (X.tolist(), Y.tolist())
    if Y.shape[0] == 1:
        variants["labels (n,)"] = (X, Y[0])
    for label, (Xv, Yv) in variants.items():
        res = _run(spec, Xv, Yv, on_failure="return")
        assert res.status == base.status, (
            f"{spec.name}, {label}: {res.status} ({res.reason}) vs {base.status}"
        )
        if base.network is not None and label != "float32":
            np.testing.assert_allclose(
                res.network.V, base.network.V, atol=1e-9, err_msg=label
            )
        if base.network is not None and label == "float32" and base.ok:
            # float32 rounds the data at 6e-8 relative; the answer moves by about that
            # much times the conditioning
            assert rl.recovery_error(res.network, base.network).max < 1e-3, label


def check_same_seed_same_answer(spec):
    """An int seed and a Generator made from it give the same answer, twice."""
    _, X, Y = _planted(spec.name, noise=0.1)
    a = _run(spec, X, Y, rng=3, on_failure="return")
    b = _run(spec, X, Y, rng=np.random.default_rng(3), on_failure="return")
    assert a.status == b.status and a.reason == b.reason
    if a.network is not None:
        np.testing.assert_array_equal(a.network.U, b.network.U)
        np.testing.assert_array_equal(a.network.V, b.network.V)


def check_no_foreign_warning(spec):
    """Only relulearn's warning classes leave a learner, on planted, noisy and unexplainable data."""
    _net, X, Y = _planted(spec.name)
    _, _, Yn = _planted(spec.name, noise=0.5)
    rng = np.random.default_rng(11)
    for Yb in (Y, Yn, rng.standard_normal(Y.shape) * 1e3, np.zeros_like(Y)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                spec(X, Yb, K, rng=0, on_failure="return")
            except ValueError:
                pass  # all-zero labels may be refused up front
        foreign = [w for w in caught if not issubclass(w.category, rl.RelulearnWarning)]
        assert not foreign, [f"{w.category.__name__}: {w.message}" for w in foreign]


def check_progress_changes_nothing(spec):
    """``progress=True`` shows a bar and returns the same answer."""
    _, X, Y = _planted(spec.name)
    base = _baseline(spec.name)
    res = _run(spec, X, Y, on_failure="return", progress=True)
    assert res.status == base.status
    if base.network is not None:
        np.testing.assert_array_equal(res.network.V, base.network.V)


def check_input_checked_once(spec):
    """The full check of X (finiteness, dtype) runs once per call; the steps inside trust it."""
    import relulearn._validation as validation

    _, X, Y = _planted(spec.name)
    seen = []
    original = validation._as_real

    def counting(name, A, *, ndim=2):
        if (
            isinstance(A, np.ndarray)
            and A.shape == X.shape
            and not validation._is_checked(A)
        ):
            seen.append(name)
        return original(name, A, ndim=ndim)

    validation._as_real = counting
    try:
        _run(spec, X, Y, on_failure="return")
    finally:
        validation._as_real = original
    assert seen == ["X"], seen
    assert validation._CHECKED.get() is None  # nothing is remembered after the call


def check_signature(spec):
    """The contract's signature: X, Y, k, then keyword-only rng, on_failure, progress with their defaults."""
    import inspect

    sig = inspect.signature(spec.function)
    params = list(sig.parameters.values())
    assert [p.name for p in params[:3]] in (["X", "Y", "k"], ["X", "y", "k"])
    for name, default in (("rng", None), ("on_failure", "raise"), ("progress", False)):
        assert sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert sig.parameters[name].default == default
    if "tol" in sig.parameters:
        assert (
            "||" in spec.function.__doc__
            and "/ ||Y" in spec.function.__doc__.replace("/ ||y", "/ ||Y")
        )


CHECKS = [
    check_signature,
    check_input_checked_once,
    check_rejects_malformed_input,
    check_status_semantics,
    check_unexplainable_data,
    check_unusual_valid_input,
    check_same_seed_same_answer,
    check_no_foreign_warning,
    check_progress_changes_nothing,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", rl.LEARNERS, ids=lambda s: s.name.replace(" ", "_"))
def test_learner_conformance(spec, check):
    check(spec)


def test_registry_names_are_unique_and_public():
    names = [s.name for s in rl.LEARNERS]
    assert len(set(names)) == len(names)
    for s in rl.LEARNERS:
        assert getattr(rl, s.function.__name__) is s.function
    with pytest.raises(ValueError, match="no learner named"):
        rl.get_learner("nope")
