// Exact two-point function of the OU-net (core/spec/spec.h OuNetSpec; arXiv
// 2504.05462): phi(t) = mlp(X_t) with X a stationary Ornstein-Uhlenbeck path
// independent of the weights, so
//   G2(t, s) = E_{(a, b)}[K_mlp(a, b)],
//   (a, b) ~ N(0, sigma^2 [[1, rho], [rho, 1]]),  rho = exp(-|t - s| / tau),
// K_mlp the MLP's NNGP kernel on scalar inputs (exact G2 of the MLP at every
// width, its output layer being Gaussian). The expectation is a 2-D
// Gauss-Hermite sum (64 x 64 nodes) over a = sigma z1,
// b = sigma (rho z1 + sqrt(1 - rho^2) z2), once per distinct |t - s|.
// Accurate to ~1e-8 for smooth activations (erf, tanh); kinks (ReLU with
// sb = 0) converge slowly (~1e-4).
//
// Reflection positivity under t -> -t holds exactly: given the weights,
// phi is a function of the current state of a reversible stationary Markov
// process, so <F(theta X) F(X)> = E[E[F | X_0]^2] >= 0.
#ifndef NNFT_CORE_THEORY_OU_NET_H_
#define NNFT_CORE_THEORY_OU_NET_H_

#include "Eigen/Core"
#include "core/spec/spec.h"

namespace nnft {

// G2 at the times (P x 1), P x P.
Eigen::MatrixXd OuNetKernel(const OuNetSpec& net, const Eigen::MatrixXd& times);

}  // namespace nnft

#endif  // NNFT_CORE_THEORY_OU_NET_H_
