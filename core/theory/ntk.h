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
// covariance K(x, x') - K(x, X) K^-1 K(X, x').
#ifndef NNFT_CORE_THEORY_NTK_H_
#define NNFT_CORE_THEORY_NTK_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/spec.h"

namespace nnft::theory {

struct NtkKernels {
  Eigen::MatrixXd nngp;  // K(x_i, x_j) of the output
  Eigen::MatrixXd ntk;   // Theta(x_i, x_j) of the output, all parameters
};

// E[act'(u) act'(v)], (u, v) ~ N(0, [[kxx, kxy], [kxy, kyy]]).
double DerivativePairMoment(Activation activation, double kxx, double kyy,
                            double kxy);

// K and Theta over the rows of `points` (P x d). Cost O(P^2 L) pair moments.
NtkKernels MlpNtk(const MlpSpec& mlp, const Eigen::MatrixXd& points);

struct FlowTheory {
  std::vector<Eigen::VectorXd> mean;  // mu_t at the spec's points, per time
  std::vector<Eigen::MatrixXd> cov;   // Sigma_t, per time
  // The tangent kernel of the trained parameters at the spec's points (the
  // ensemble mean of the empirical NTK at initialisation).
  Eigen::MatrixXd tangent;
  std::string method;
};

// The infinite-width flow for a spec with `training` that passed Validate.
FlowTheory TrainingFlowTheory(const ExperimentSpec& spec);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_NTK_H_
