// Exact theory beside the Monte Carlo: for each requested tuple, the
// infinite-width (Gaussian process) correlator from the NNGP kernel, and the
// exact finite-width correlator where it is known (single-hidden-layer nets,
// whose neurons are i.i.d., so cumulants add: G4_c = (sw1^4/N)(3 M4 - sum C C),
// N^2 G6_c from M6, M4, C; see PHYSICS.md), and for deep MLPs the leading
// order in 1/n (core/theory/deep_finite_width.h).
#ifndef NNFT_CORE_THEORY_THEORY_H_
#define NNFT_CORE_THEORY_THEORY_H_

#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

// How ComputeTheory and NngpKernel run.
struct TheoryOptions {
  // OpenMP threads for the quadratures (kernel entries, four-point moments,
  // vertex channels), in [1, 1024]. Any count gives the same bits: each
  // value is one thread's whole computation.
  int threads = 1;

  absl::Status Validate() const;
};

struct TheoryValues {
  // NNGP kernel K(x_i, x_j) at the spec's points (P x P); empty when unknown.
  Eigen::MatrixXd kernel;
  // Per requested tuple (TupleSet::requested order); NaN where unknown.
  std::vector<double> gp_full;       // Wick: sum over pairings of products of K
  std::vector<double> gp_connected;  // K for n = 2, else 0
  std::vector<double> exact_full;    // at the spec's finite width
  std::vector<double> exact_connected;
  // True when exact_* holds at finite width for this architecture (otherwise
  // exact_* is NaN and gp_* is the only theory).
  bool has_exact = false;
  // True when exact_* is not exact but the leading order in 1/n of a deep
  // MLP (core/theory/deep_finite_width.h): G2 and G4_c to O(1/n), G6 to
  // O(1/n) (its connected part, O(1/n^2), NaN). `method` says so.
  bool leading_order_in_inverse_width = false;
  // With a phi^4 insertion: the first-order (tadpole) shift of each 2-point
  // entry, NaN for other orders; empty without an insertion.
  std::vector<double> pt_shift;
  // A sentence saying which formulas were used (for users and logs).
  std::string method;
};

// InvalidArgument for an invalid spec or options; never fails for valid ones
// (unknown entries are NaN).
absl::StatusOr<TheoryValues> ComputeTheory(const ExperimentSpec& spec,
                                           const TupleSet& tuples,
                                           const TheoryOptions& options = {});

// The NNGP kernel alone, at `points` (P x d). For attention, the errors of
// theory::AttentionKernel (Unimplemented beyond the supported embed_dim,
// ResourceExhausted over its point budget).
absl::StatusOr<Eigen::MatrixXd> NngpKernel(const Architecture& architecture,
                                           const Eigen::MatrixXd& points,
                                           const TheoryOptions& options = {});

}  // namespace nnft

#endif  // NNFT_CORE_THEORY_THEORY_H_
