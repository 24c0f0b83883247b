// Reflection positivity (Osterwalder-Schrader) of any ensemble. For a
// reflection theta (x[axis] -> -x[axis]) and points x_1..x_Q in the positive
// half-space, the matrix
//   M_ij = <phi(theta x_i) phi(x_j)>
// must be positive semi-definite when the theory is reflection positive
// (more generally <F(theta x) F(x)> >= 0 for F in the positive-time algebra;
// with include_four_point also F = phi(x_i) phi(x_j), i <= j:
//   M_(ij),(kl) = <phi(theta x_i) phi(theta x_j) phi(x_k) phi(x_l)>).
// Only the symmetric part of M enters c^T M c, so M is symmetrised.
//
// The engine runs the spec's engine form (ReflectionEngineSpec): the points
// x_1..x_Q and their reflections are appended after the spec's P points
// (indices P..P+Q-1 originals, P+Q..P+2Q-1 reflections), and the tuples M
// needs after the spec's requested tuples. The estimator builds M from the
// means, its eigenvalues by Eigen's SelfAdjointEigenSolver, and their errors
// by the delete-one-bin jackknife (core/estimate/jackknife.h).
//
// Verdict at threshold z* (ReflectionSpec::z_threshold), z = l_min / se:
//   "violated"      z < -z*,
//   "inconclusive"  no error bar, or the largest eigenvalue is itself not
//                   resolved (l_max < z* se(l_max)),
//   "holds"         otherwise (the smallest eigenvalue is consistent with
//                   >= 0 at z*).
// p_negative = Phi(-z): the probability that the true smallest eigenvalue is
// negative, for a Gaussian error and a flat prior.
//
// Exactly: M_ij = G2(theta x_i, x_j) from the exact two-point function at the
// appended points (for a translation-invariant G2 along t, M_ij =
// G(t_i + t_j)): the free propagator is RP, a sharp momentum cutoff is not
// (the phi^4 cos-net), nor is the Gauss-net kernel exp(-t^2/2).
#ifndef NNFT_CORE_ANALYSES_REFLECTION_H_
#define NNFT_CORE_ANALYSES_REFLECTION_H_

#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"
#include "core/theory/theory.h"

namespace nnft {

// The engine form of a spec with reflection.enabled (reflection cleared in
// it). InvalidArgument when the appended tuples exceed limits.max_tuples.
absl::StatusOr<ExperimentSpec> ReflectionEngineSpec(const ExperimentSpec& spec,
                                                    const Limits& limits = {});

struct RpMatrix {
  int size = 0;
  Eigen::MatrixXd estimate;         // symmetrised
  std::vector<double> eigenvalues;  // ascending
  std::vector<double> eigenvalue_stderr;
  double min_eigenvalue = 0.0, min_stderr = 0.0, z = 0.0;
  std::string verdict;  // "holds", "violated", "inconclusive"
  double p_negative = 0.0;
  bool has_exact = false;
  Eigen::MatrixXd exact;
  std::vector<double> exact_eigenvalues;  // ascending
};

struct ReflectionResult {
  int axis = 0;
  double z_threshold = 3.0;
  Eigen::MatrixXd points;  // Q x d, the positive-half-space points
  RpMatrix two_point;
  bool has_four_point = false;
  RpMatrix four_point;
};

// `spec` is the user's spec; `engine_tuples`, `sums` and `engine_theory` come
// from its engine form.
ReflectionResult AnalyzeReflection(const ExperimentSpec& spec,
                                   const TupleSet& engine_tuples,
                                   const BinnedSums& sums,
                                   const TheoryValues& engine_theory);

// Ascending eigenvalues of the symmetric part of `m`.
std::vector<double> SymmetricEigenvalues(const Eigen::MatrixXd& m);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_REFLECTION_H_
