// Exact theory over correlator slots s = p * d_out + c (core/spec/spec.h) for
// multi-component fields, anisotropic first layers and specs with symmetry
// or cluster checks. The output rows are independent given the shared hidden
// layers, so the Gaussian process is block-diagonal in components,
// E[phi^a(x) phi^b(y)] = delta^{ab} K(x, y), and Wick's theorem pairs slots
// with delta^{ab} K. A tuple whose slots share one component is the
// single-component theory at its points (finite width included); mixed
// tuples are exact at order <= 3 (0: independent zero-mean rows) and GP
// only above (exact NaN). An anisotropic first layer is the isotropic net at
// x'_k = sw0_axes[k] x_k. With output_mean non-zero every value is NaN.
#ifndef NNFT_CORE_THEORY_SLOT_THEORY_H_
#define NNFT_CORE_THEORY_SLOT_THEORY_H_

#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/spec/tuples.h"
#include "core/theory/theory.h"

namespace nnft::theory {

// True when `spec` needs the slot theory (any of the features above, or a
// tuple set over more slots than the spec's points).
bool NeedsSlotTheory(const ExperimentSpec& spec, const TupleSet& tuples);

// Theory for the requested tuples of `tuples` (base slots of a valid spec).
// `points` (rows x d) replaces the spec's points when given (the evaluation
// points of a check), and tuples then index its slots.
absl::StatusOr<TheoryValues> SlotTheory(const ExperimentSpec& spec,
                                        const Eigen::MatrixXd& points,
                                        const TupleSet& tuples);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_SLOT_THEORY_H_
