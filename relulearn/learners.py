"""The registry of learners: every learner of the package, listed once, with its
assumptions.

The conformance test (``tests/test_conformance.py``), chapter 8 and ``bench/`` all read
:data:`LEARNERS`; a new learner joins them all by one entry here. Every learner follows
the contract of :mod:`relulearn.recovery`:
``learner(X, Y, k, *, rng=None, on_failure="raise", progress=False, ...)`` returning a
:class:`~relulearn.Recovery`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .descent import train
from .exact import recover_exact
from .lowrank import recover_low_rank
from .noisy import recover_noisy
from .symmetric import recover_symmetric
from .tensor_init import recover_tensor_gd

__all__ = ["LEARNERS", "LearnerSpec", "get_learner"]

INPUTS = ("gaussian", "symmetric", "any")
OUTPUTS = ("any", "k<=m", "k>m", "scalar")


@dataclass(frozen=True)
class LearnerSpec:
    """A learner and the assumptions under which it is meant to work.

    Parameters
    ----------
    name : str
        The name chapter 8 and the benchmarks print.
    function : callable
        ``function(X, Y, k, *, rng, on_failure, progress, **options) -> Recovery``.
    inputs : {"gaussian", "symmetric", "any"}
        The input law it assumes: standard Gaussian, any symmetric law (x and -x equally
        likely), or none.
    noisy_labels : bool
        Whether it allows mean-zero label noise (False: it assumes exact labels).
    outputs : {"any", "k<=m", "k>m", "scalar"}
        The output shapes it is meant for: any m, at least k outputs, fewer outputs than
        hidden units (a rank-deficient output layer), or a single output.
    min_samples : callable
        ``min_samples(d, k, m)``: the fewest samples it accepts (below, it raises
        ``ValueError``).
    certifies_exact : bool
        Whether it certifies its answer on noiseless planted data that meet its
        assumptions (with enough samples); learners with statistical certificates
        certify noisy data instead.
    outputs_required : bool
        Whether other output shapes raise ``ValueError`` (False: the learner accepts
        them and hands over to another route, as exact recovery does for k > m).
    options : mapping
        Keyword options the comparison harness passes (e.g. an iteration budget).
    """

    name: str
    function: Callable = field(repr=False)
    inputs: str = "any"
    noisy_labels: bool = False
    outputs: str = "any"
    min_samples: Callable[[int, int, int], int] = field(
        default=lambda d, k, m: 1, repr=False
    )
    certifies_exact: bool = True
    outputs_required: bool = True
    options: Mapping = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def __post_init__(self):
        if self.inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {self.inputs!r}")
        if self.outputs not in OUTPUTS:
            raise ValueError(f"outputs must be one of {OUTPUTS}, got {self.outputs!r}")

    def fits_outputs(self, k: int, m: int) -> bool:
        """Whether ``m`` outputs with ``k`` hidden units is a shape this learner is
        meant for.
        """
        return {"any": True, "k<=m": k <= m, "k>m": k > m, "scalar": m == 1}[
            self.outputs
        ]

    def __call__(self, X, Y, k: int, **kwargs):
        """Run the learner with the registry's options (``kwargs`` override them)."""
        return self.function(X, Y, k, **{**self.options, **kwargs})


#: The registry: one :class:`LearnerSpec` per learner of the package, in the order
#: chapter 8 introduces them (gradient training, exact recovery, low-rank exact
#: recovery, noisy recovery, tensor initialisation + descent, the symmetric method of
#: moments), with its assumptions and the options chapter 8 runs it with. The
#: conformance test, chapter 8 and ``bench/`` read it; :func:`get_learner` looks an
#: entry up by name.
LEARNERS: tuple[LearnerSpec, ...] = (
    LearnerSpec(
        "gradient training",
        train,
        inputs="any",
        noisy_labels=True,
        outputs="any",
        certifies_exact=False,
        options=MappingProxyType({"max_iter": 3000}),
    ),
    LearnerSpec(
        "exact recovery",
        recover_exact,
        inputs="gaussian",
        outputs="k<=m",
        outputs_required=False,
        min_samples=lambda d, k, m: 2,
    ),
    LearnerSpec(
        "low-rank exact recovery",
        recover_low_rank,
        inputs="gaussian",
        outputs="k>m",
        min_samples=lambda d, k, m: 2 * k * d,
    ),
    LearnerSpec(
        "noisy recovery",
        recover_noisy,
        inputs="gaussian",
        noisy_labels=True,
        outputs="any",
        min_samples=lambda d, k, m: 2 * k * d,
    ),
    LearnerSpec(
        "tensor initialisation + descent",
        recover_tensor_gd,
        inputs="gaussian",
        outputs="scalar",
    ),
    LearnerSpec(
        "symmetric method of moments",
        recover_symmetric,
        inputs="symmetric",
        noisy_labels=True,
        outputs="k<=m",
        min_samples=lambda d, k, m: max(2, d * (d + 1) // 2),
        certifies_exact=False,
    ),
)


def get_learner(name: str) -> LearnerSpec:
    """The registry entry called ``name``.

    Parameters
    ----------
    name : str
        A learner's name, e.g. ``"exact recovery"`` (the names of :data:`LEARNERS`).

    Returns
    -------
    LearnerSpec

    Raises
    ------
    ValueError
        No learner has that name (the message lists the names).
    """
    for spec in LEARNERS:
        if spec.name == name:
            return spec
    raise ValueError(
        f"no learner named {name!r}; the learners are {[s.name for s in LEARNERS]}"
    )
