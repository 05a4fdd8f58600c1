"""relulearn: provably learning two-layer ReLU networks, the companion package of the course.

Samples are columns: ``X`` is (d, n), ``Y`` is (m, n), and the model is ``Y = U f(V X) + E``.
"""

from __future__ import annotations

from .activations import (
    ACTIVATION_NAMES,
    Activation,
    erf,
    get_activation,
    leaky_relu,
    linear,
    quadratic,
    relu,
    sigmoid,
    softplus,
    squared_relu,
    step,
    tanh,
)
from .descent import loss_gradients, squared_loss, train
from .inputs import (
    SYMMETRIC_LAWS,
    CenteredExponential,
    Gaussian,
    GaussianMixture,
    InputLaw,
    Laplace,
    Samples,
    StudentT,
    UniformBall,
    UniformCube,
    UniformSphere,
    sample,
)
from .metrics import RecoveryError, canonical_form, is_exact, match_units, matched, recovery_error
from .network import TwoLayerNetwork, planted_network
from .plotting import plot_success_vs_n, use_style
from .recovery import Certificate, Recovery, RecoveryFailed

# --- later chapters add their imports below this line (one block per module) ---
from .hardness import (
    FitSearch,
    exact_fit_search,
    find_exact_fit,
    is_splittable,
    set_splitting_instance,
    splitting_witness,
)
from .tensors import JennrichResult, jennrich, simultaneous_diagonalization, top_subspace, whitening
from .moments import (
    PHI0,
    first_moment,
    fourth_moment_contraction,
    hermite_coefficient,
    population_first_moment,
    population_fourth_moment_contraction,
    population_second_moment_contraction,
    projected_second_moment,
    second_moment_contraction,
)
from .exact import (
    MomentEstimate,
    UnitRows,
    ZeroSetCertificate,
    candidate_zero_sets,
    certify_zero_set,
    find_unit_rows,
    label_row_space,
    moment_estimate,
    recover_exact,
    solve_input_weights,
    solve_output_weights,
)
from .lowrank import (
    LowRankEstimate,
    RegressionResult,
    decompose_projected_moments,
    hidden_span,
    low_rank_moment_estimate,
    projected_hermite4,
    recover_low_rank,
    sign_pattern_regression,
)
from .noisy import alternating_refinement, fit_output_layer, recover_noisy
from .symmetric import (
    DetectorNullSpace,
    LinearPart,
    detector_null_space,
    detector_operator,
    even_odd_split,
    linear_part,
    pure_neuron_detectors,
    recover_symmetric,
    weights_from_detectors,
)
from .hermite import (
    RELU_TAIL_CONSTANT,
    NormalizedActivation,
    PolynomialFit,
    RandomDeepNetwork,
    absolute,
    best_polynomial_error,
    dual_activation,
    fit_polynomial,
    hermite_coefficients,
    hermite_functions,
    hermite_tail,
    lipschitz_tail_bound,
    monomial_features,
    normalize_activation,
    random_deep_network,
    second_moment,
    shadow_gap,
    shadow_gap_infinite_width,
    truncated_activation,
)
from .convexity import (
    ActivationProperties,
    activation_properties,
    alpha,
    population_hessian,
    rho,
    rho_terms,
    smallest_hessian_eigenvalue,
)
from .tensor_init import (
    TensorInit,
    WeightError,
    decompose_projected_moment,
    low_order_residuals,
    magnitudes_and_signs,
    moment_constants,
    projected_moment,
    recover_tensor_gd,
    second_moment_subspace,
    tensor_initialization,
    weight_error,
)

__version__ = "0.1.0"
