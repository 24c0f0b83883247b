// Effective quartic couplings from the connected 4-point function, at
// leading order in 1/N (the Edgeworth picture of arXiv 2008.08601, section on
// effective actions; arXiv 2307.03223):
//
// Local coupling over a cutoff region. A quartic term (lambda/4!) int phi^4
// in the action gives, at first order, G4_c(x1..x4) = -lambda int prod_i
// K(x, x_i) dx. Following arXiv 2008.08601 we read off, per 4-point tuple,
//   lambda_t(Lambda) = -G4_c(t) / (24 int_{[-Lambda, Lambda]^d} prod_{i in t}
//                      K(x, x_i) dx),
// the sign convention of that paper (positive lambda: G4_c < 0, a stabilising
// quartic term), with the factor 24 as written there. G4_c is the measured
// connected function (equal in expectation to G4 - G4_GP where G2 = K exactly,
// as for single-hidden-layer nets). lambda(Lambda) is the mean of lambda_t
// over the requested 4-point tuples whose points all lie in the region. The
// integral is by composite Gauss-Legendre (panels split at 0 and at the
// points' coordinates, where kernels such as ReLU's have kinks): 8 panels x
// 16 nodes per piece in d = 1, 4 x 8 per axis in d = 2; d > 2 is not
// supported. The running is the least-squares slope of log|lambda| against
// log Lambda over the cutoffs. For ReLU with sb = 0 the kernel is homogeneous
// of degree 1 in each argument, so |lambda| ∝ Lambda^-(d+4).
//
// Amputated vertex on the point set: V_ijkl = -sum_abcd G4_c(abcd) K^-1_ai
// K^-1_bj K^-1_ck K^-1_dl, with K the exact two-point function at the points
// (core/theory/interactions.h TwoPointKernel) inverted by LDLT; singular K
// (a pivot below 1e-10 of the largest) is refused. Cost O(P^5) per
// evaluation.
//
// Every error (lambda, slope, vertex) is the delete-one-bin jackknife of the
// whole computation (MomentAccumulator::Derived), so the correlations between
// tuples and between cutoffs are accounted for.
#ifndef NNFT_CORE_ANALYSES_EFFECTIVE_COUPLING_H_
#define NNFT_CORE_ANALYSES_EFFECTIVE_COUPLING_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

struct EffectiveCouplingResult {
  std::vector<double> cutoffs;
  std::vector<double> lambda;  // lambda(Lambda); NaN when no tuple fits
  std::vector<double> lambda_stderr;
  std::vector<int> tuples_used;  // 4-point tuples inside each region
  double slope = 0;              // d log|lambda| / d log Lambda (NaN: < 2)
  double slope_stderr = 0;
  // Amputated vertex for every sorted 4-tuple (empty unless requested).
  std::vector<Tuple> vertex_tuples;
  std::vector<double> vertex;
  std::vector<double> vertex_stderr;
  std::string method;
};

// InvalidArgument when spec.effective_coupling is absent, FailedPrecondition
// when the architecture has no known two-point function, InvalidArgument for
// a singular K with amputated_vertex.
absl::StatusOr<EffectiveCouplingResult> ComputeEffectiveCouplings(
    const ExperimentSpec& spec, const TupleSet& tuples,
    const MomentAccumulator& accumulator);

// K^-1 of the exact two-point function at the spec's points by LDLT;
// InvalidArgument naming the pivot when K is singular.
absl::StatusOr<Eigen::MatrixXd> InverseKernel(const ExperimentSpec& spec);

// int_{[-cutoff, cutoff]^d} prod_{i in t} K(x, x_i) dx for each tuple
// (exposed for tests).
absl::StatusOr<std::vector<double>> KernelProductIntegrals(
    const ExperimentSpec& spec, const std::vector<Tuple>& tuples,
    double cutoff);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_EFFECTIVE_COUPLING_H_
