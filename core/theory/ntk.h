// Infinite-width learning dynamics: the NNGP kernel K and the neural tangent
// kernel Theta of an MLP in the NTK parameterisation (Jacot et al. arXiv
// 1806.07572), by the layer recursion
//   K^(1) = Theta^(1) = sb_0^2 + sw_0^2 x.y / d,
//   K^(l+1) = sb_l^2 + sw_l^2 E[act(u) act(v)],
//   Kdot^(l+1) = sw_l^2 E[act'(u) act'(v)],  (u, v) ~ N(0, K^(l)),
//   Theta^(l+1) = K^(l+1) + Theta^(l) Kdot^(l+1)  (elementwise),
// with closed forms for E[act' act'] (erf: (4/pi) / sqrt((1 + 2 kxx)(1 + 2
// kyy) - 4 kxy^2); relu: (pi - t) / (2 pi), cos t = kxy / sqrt(kxx kyy);
// identity: 1) and nested Gauss-Hermite quadrature otherwise; and the mean
// and covariance of the trained ensemble of the linearised network (Lee et
// al. arXiv 1902.06720, eqs. 15-16):
//   mu_t(x) = A_t(x) Y,  A_t(x) = Theta(x, X) Theta^-1 (I - D_t),
//   Sigma_t(x, x') = K(x, x') + A_t(x) K(X, X) A_t(x')^T
//                    - A_t(x) K(X, x') - A_t(x') K(X, x),
// D_t = exp(-Theta t) for gradient flow and (I - eta Theta)^(t / eta) for
// gradient descent, through the eigendecomposition of Theta(X, X). With
// last_layer_only the tangent kernel of the trained parameters is K itself,
// and t -> infinity gives the NNGP posterior mean K(x, X) K^-1 Y and
// covariance K(x, x') - K(x, X) K^-1 K(X, x'). The expected training loss
// follows from the same flow at the training points: with B_t = V D_t V^T
// (Theta(X, X) = V diag(lambda) V^T), mu_t(X) - Y = -B_t Y and
// Sigma_t(X, X) = B_t K(X, X) B_t, so
//   E[L_t] = (1/2) (|B_t Y|^2 + tr(B_t K(X, X) B_t)).
// Gradient descent is stable when eta lambda_max < 2; above it the
// linearised descent diverges (|1 - eta lambda| > 1) and so do mu_t and
// Sigma_t.
//
// Cost: the recursion is O(M^2 L) pair expectations over the M = n + P
// points (closed forms: ~0.1 us each; by quadrature ~10^4 activation
// evaluations each, vectorised), the flow O(n^3 + T M^2 n).
#ifndef NNFT_CORE_THEORY_NTK_H_
#define NNFT_CORE_THEORY_NTK_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"

namespace nnft::theory {

struct NtkKernels {
  Eigen::MatrixXd nngp;  // K(x_i, x_j) of the output
  Eigen::MatrixXd ntk;   // Theta(x_i, x_j) of the output, all parameters
};

// E[act'(u) act'(v)], (u, v) ~ N(0, [[kxx, kxy], [kxy, kyy]]).
double DerivativePairMoment(Activation activation, double kxx, double kyy,
                            double kxy);

// Both expectations at once: E[act(u) act(v)] and E[act'(u) act'(v)],
// closed forms where known, else one nested Gauss-Hermite pass over the
// nodes (96, 160 or 256 per dimension as PairMoment) that evaluates act and
// act' together, vectorised.
struct PairMoments {
  double value = 0;       // E[act(u) act(v)]
  double derivative = 0;  // E[act'(u) act'(v)]
};
PairMoments ValueAndDerivativePairMoments(Activation activation, double kxx,
                                          double kyy, double kxy);

// Why `architecture` has no NTK here, naming the field ("" when it has one:
// an MLP with a Gaussian first bias, no deformation or output_mean and one
// output component (residual layers, an input projection and sw0_axes
// allowed: MlpNtk); conv1d (Conv1dNtk, core/theory/arch_kernels.h); KAN with
// spline_order >= 1 (KanNtk); attention (AttentionNtk,
// core/theory/attention_ntk.h, which may still refuse an embed_dim its
// quadrature does not cover or a point count over its budget); gauss_net
// (one output, no output_mean) and cos_net (one output): GaussNetNtk,
// CosNetNtk in core/theory/gauss_cos_ntk.h.
std::string NtkAbsentReason(const Architecture& architecture);

// K and Theta of an MLP over the rows of `points` (P x d), on `threads`
// OpenMP threads (rows of each layer shared out; the values do not depend
// on the thread count). Residual layers l < L:
//   K^(l+1) = K^(l) + sb^2 + sw^2 C^(l),
//   Theta^(l+1) = Theta^(l) + sb^2 + sw^2 (C^(l) + Cdot^(l) Theta^(l));
// an input projection W (trained, no bias) gives Theta^(1) = 2 K^(1) -
// sb0^2 with K^(1) = sb0^2 + sw0^2 s^2 x.y/d; sw0_axes scale the points.
// Cost O(P^2 L) pair moments. Assumes NtkAbsentReason(mlp) is "".
NtkKernels MlpNtk(const MlpSpec& mlp, const Eigen::MatrixXd& points,
                  int threads = 1);

struct FlowTheory {
  std::vector<double> times;  // the training spec's recorded times
  // Per time: mu_t at the evaluation points (the spec's points, then any
  // extra points), Sigma_t over them, and E[L_t] (loss units).
  std::vector<Eigen::VectorXd> mean;
  std::vector<Eigen::MatrixXd> cov;
  std::vector<double> loss;
  // The tangent kernel of the trained parameters at the evaluation points
  // (the ensemble mean of the empirical NTK at initialisation).
  Eigen::MatrixXd tangent;
  // 2 / lambda_max of the tangent kernel at the training points: gradient
  // descent with a larger eta diverges (infinite without a positive
  // eigenvalue).
  double max_stable_eta = 0;
  std::string method;
};

// The flow given K and the tangent kernel over [training.x; evaluation
// points] (n + M rows, training points first).
FlowTheory FlowFromKernels(const TrainingSpec& training,
                           const Eigen::MatrixXd& nngp,
                           const Eigen::MatrixXd& tangent,
                           const std::string& method);

// The infinite-width flow for a spec with `training` that passed Validate,
// at the spec's points followed by the rows of `extra_points` (Q x d; may
// have no rows).
FlowTheory TrainingFlowTheory(const ExperimentSpec& spec,
                              const Eigen::MatrixXd& extra_points,
                              int threads = 1);
FlowTheory TrainingFlowTheory(const ExperimentSpec& spec);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_NTK_H_
