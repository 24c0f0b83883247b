// Exact theory of the interaction features (PHYSICS.md, "Independence
// breaking" and "phi^4 free cos-net"):
//
// Radially deformed output layer of a single-hidden-layer net,
// phi = b + N^{-1/2} sum_i a_i h_i with P(a) ∝ exp(-|a|^2/s^2 - lambda |a|^4)
// (a = sqrt(N) W_1, core/spec/spec.h Deformation). With rho = |a|^2/N, a = r u,
// u uniform on S^{N-1}: E[a_i a_j] = E[rho] delta_ij and E[a_i a_j a_k a_l] =
// E[rho^2] N/(N+2) (delta delta + 2 more), so
//   G2 = sb^2 + E[rho] C,
//   G4_c = Var(rho) sum_3 C C + 3 E[rho^2]/(N+2) (M4 - sum_3 C C),
// with C, M4 the neuron moments of core/theory/gaussian_moments.h. At lambda
// = 0, rho ~ (s^2/2) chi^2_N / N and this is the i.i.d. (s^2/2)^2 (3 M4 -
// sum C C)/N. E[rho], E[rho^2] by quadrature of the radial law
// (core/sampling/radial.h). Odd correlators vanish (a -> -a); G6 is not given
// (NaN).
//
// phi^4 insertion in the box, first order (the tadpole):
//   delta G2(x, y) = -(lambda/2) int_box dz G(x - z) G(0) G(z - y)
//                  = -(lambda/2) G(0) H(x - y),
// G, H the lattice sums of core/sampling/box.h (the z integral is exact by
// orthogonality of the lattice modes).
#ifndef NNFT_CORE_THEORY_INTERACTIONS_H_
#define NNFT_CORE_THEORY_INTERACTIONS_H_

#include <optional>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft::theory {

struct RhoMoments {
  double mean = 0;    // E[rho]
  double second = 0;  // E[rho^2]
};

// Moments of rho = |a|^2 / n for the deformed law on n entries.
RhoMoments DeformedRhoMoments(const Deformation& deformation, int64_t n);

// True when `mlp` has one hidden layer and its output layer is deformed.
bool HasDeformedOutput(const MlpSpec& mlp);

// G2 = sb^2 + E[rho] C at `points` (requires HasDeformedOutput).
Eigen::MatrixXd DeformedKernel(const MlpSpec& mlp,
                               const Eigen::MatrixXd& points);

struct DeformedCorrelators {
  std::vector<double> full, connected;  // per tuple; NaN for n = 6
};
DeformedCorrelators DeformedExact(const MlpSpec& mlp,
                                  const Eigen::MatrixXd& points,
                                  const std::vector<Tuple>& tuples);

// The two-point function the effective-coupling analysis amputates with: the
// NNGP kernel, or the deformed G2 above. FailedPrecondition where none is
// known (a deformed hidden layer).
absl::StatusOr<Eigen::MatrixXd> TwoPointKernel(const Architecture& architecture,
                                               const Eigen::MatrixXd& points);

// The first-order (tadpole) shift of G(x_i, x_j) for a box cos-net with
// coupling lambda: -(lambda/2) G(0) H(x_i - x_j).
double TadpoleShift(const CosNetSpec& net, double lambda,
                    const Eigen::VectorXd& xi, const Eigen::VectorXd& xj);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_INTERACTIONS_H_
