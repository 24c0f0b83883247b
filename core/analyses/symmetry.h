// Symmetry checks and the cluster property, as the engine evaluates them: the
// transformed inputs are appended to the spec's points, transformed outputs
// (phi -> -phi, an SO(d_out) rotation) become virtual slots (linear
// combinations of the evaluated slots, per network), and each check's
// transformed tuples join the tuple closure without being requested. So the
// same networks give G at the original and at the transformed slots, and the
// bins give errors of the paired difference (arXiv 2106.00694 studies the
// SO(d_out) case through parameter-space correlators; here it is tested
// directly on the correlators).
//
// Slots: s = p * d_out + c for point p and component c (core/spec/spec.h).
#ifndef NNFT_CORE_ANALYSES_SYMMETRY_H_
#define NNFT_CORE_ANALYSES_SYMMETRY_H_

#include <array>
#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"

namespace nnft {

// What the engine evaluates for a spec. Without checks: the spec's points,
// no virtual slot, identity maps.
struct EvaluationPlan {
  struct Term {
    int slot = 0;
    double weight = 0.0;
  };
  int output_dim = 1;
  int base_points = 0;     // P
  Eigen::MatrixXd points;  // P base points, then the appended ones
  int real_slots = 0;      // points.rows() * output_dim
  // Virtual slot v (slot index real_slots + v) = sum of weight * phi[slot].
  std::vector<std::vector<Term>> virtual_slots;
  // Per symmetry check: the slot holding the transform of base slot s.
  std::vector<std::vector<int>> slot_maps;
  // Per cluster check, per separation: slots (i, j, k + s u, l + s u).
  std::vector<std::vector<std::array<int, 4>>> cluster_slots;

  int base_slots() const { return base_points * output_dim; }
  int total_slots() const {
    return real_slots + static_cast<int>(virtual_slots.size());
  }
  // `tuple` (base slots) under check `check`, sorted.
  Tuple Map(int check, const Tuple& tuple) const;
};

// Validates the checks against the spec (architecture and points already
// valid). InvalidArgument naming the field: a rotation that is not
// orthogonal with determinant +1 within 1e-9, a wrong size, a
// non-permutation, an axis or component out of range.
absl::Status ValidateChecks(const ExperimentSpec& spec, const Limits& limits);

// The plan of a spec that passed Validate.
EvaluationPlan MakeEvaluationPlan(const ExperimentSpec& spec);

// The tuple set the engine sums for `spec`: the requested tuples over the
// base slots, closed under sub-multisets, plus every check's tuples (closed
// too, not requested). Without checks, exactly TupleSet::Build over the
// base slots. Every module that folds a spec's chunk sums must use this.
absl::StatusOr<TupleSet> BuildSpecTuples(const ExperimentSpec& spec,
                                         const EvaluationPlan& plan,
                                         int64_t max_tuples);
absl::StatusOr<TupleSet> BuildSpecTuples(const ExperimentSpec& spec,
                                         int64_t max_tuples);

// Rejects output_dim > 1 and symmetry or cluster checks together with the
// features that do not support them (training, width sweeps, insertions,
// effective couplings, reflection checks, deformed weights), and sw0_axes
// with a deformation. Called by Validate before anything else.
absl::Status ValidateFieldCompatibility(const ExperimentSpec& spec);

// Number of slots of the spec's points (P * d_out).
int NumBaseSlots(const ExperimentSpec& spec);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_SYMMETRY_H_
