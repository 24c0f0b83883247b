// The analytic side of ComputeKernel beyond the NNGP kernel and the
// correlator theory of core/theory/theory.h: the neural tangent kernel at the
// spec's points, the cross-kernels K(X, Y) and Theta(X, Y) between the spec's
// points X and a second point set Y (test points), and, for a spec with
// `training`, the theory-only prediction of the trained ensemble at X and Y:
// mean mu_t, covariance Sigma_t and expected loss E[L_t] at every recorded
// time, for gradient flow and for gradient descent with the MSE loss (what
// Neural Tangents' predict.gradient_descent_mse_ensemble gives), with no
// Monte Carlo. Formulas, parameterisation and time convention: ntk.h and
// core/spec/spec.h TrainingSpec. The NTK exists for MLPs (residual layers
// and input projections included), conv1d, KAN (spline_order >= 1),
// attention, the Gauss-net and the cos-net: ntk.h, arch_kernels.h,
// attention_ntk.h and gauss_cos_ntk.h give each formula; NtkAbsentReason
// names the field for the rest.
//
// Cost: one NTK layer recursion over the union of the training points, X and
// Y (M = n + P + Q rows; O(M^2 L) pair expectations, shared out over
// `threads`), one n x n eigendecomposition, O(T M^2 n) for the flow. A
// request with cross points or training is bounded (kMaxKernelAnswerPoints,
// kMaxQuadraturePairLayers) and refused above, naming the fields; without
// them an NTK over the budget is left out with the reason.
//
// Thread safety: a pure function of its arguments.
#ifndef NNFT_CORE_THEORY_KERNEL_ANSWER_H_
#define NNFT_CORE_THEORY_KERNEL_ANSWER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"

namespace nnft::theory {

// Most points n + P + Q (training, spec, cross) of a request with cross
// points or training: the kernels over them are M x M (8 MiB at the limit).
inline constexpr int kMaxKernelAnswerPoints = 1024;
// Most pair expectations by quadrature, M (M + 1) / 2 per hidden layer
// summed over the layers, for activations without a closed form (tanh,
// sigmoid, gelu, softplus: ~10^4 activation evaluations each); about 20
// CPU seconds.
inline constexpr int64_t kMaxQuadraturePairLayers = int64_t{1} << 19;

// Most point pairs (P + Q)(P + Q + 1)/2 of a KAN NTK (two spline pair
// expectations each, ~6 ms together: ~20 CPU seconds); above it the NTK is
// left out with the reason and the NNGP answer stands.
inline constexpr int64_t kMaxKanNtkPairs = 3500;
// Most panel quadratures of a cos-net NTK (CosNetNtkPanels: ~20 us each in
// d = 2, where Bessel functions dominate, ~1.5 us in d = 1, 3; ~20 CPU
// seconds at most); above it the NTK is left out with the reason.
inline constexpr double kMaxCosNetNtkPanels = 1e6;

struct KernelAnswerOptions {
  // OpenMP threads of the layer recursion, >= 1.
  int threads = 1;
  // Non-empty: leave the P x P NTK (and the cross NTK) out, with this as
  // the reason (the caller's answer would be too large with it).
  std::string omit_ntk{};
};

struct KernelAnswer {
  int64_t num_cross_points = 0;  // Q
  // Theta(x_p, x_q) of all parameters (NTK parameterisation), P x P; empty
  // when absent, and then ntk_absent_reason says why.
  Eigen::MatrixXd ntk;
  std::string ntk_absent_reason;
  // K(x_p, y_q), P x Q: the NNGP kernel of the spec's architecture; empty
  // without cross points, and then, or when the kernel is unknown,
  // cross_kernel_absent_reason says why.
  Eigen::MatrixXd cross_kernel;
  std::string cross_kernel_absent_reason;
  // Theta(x_p, y_q), P x Q; empty without cross points or without the NTK.
  Eigen::MatrixXd cross_ntk;
  // With spec.training: the flow at the P spec points then the Q cross
  // points (mean, cov over those P + Q, loss, per recorded time).
  std::optional<FlowTheory> prediction;
  // The formulas used, in words.
  std::string method;
};

// InvalidArgument naming the field and the allowed range: cross points of
// another dimension than the architecture's input, not finite, or more than
// limits.max_points of them; with cross points or training, n + P + Q over
// kMaxKernelAnswerPoints, or a recursion by quadrature over
// kMaxQuadraturePairLayers.
absl::Status ValidateKernelAnswer(const ExperimentSpec& spec,
                                  const Eigen::MatrixXd& cross_points,
                                  const Limits& limits = {});

// The answer for a spec (validated here against `limits`) and cross points
// (Q x d, possibly no rows).
absl::StatusOr<KernelAnswer> ComputeKernelAnswer(
    const ExperimentSpec& spec, const Eigen::MatrixXd& cross_points,
    const KernelAnswerOptions& options, const Limits& limits = {});

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_KERNEL_ANSWER_H_
