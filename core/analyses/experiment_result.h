// The result of an experiment, owned by core: everything the chunks of a
// spec say (the estimate with its reliability, the theory beside it, the
// comparisons, and every analysis the spec asks for), built by one function
// from a spec and a source of chunks. The server only feeds it stored chunks
// and converts what it returns, so a new analysis is added here (and in the
// conversion to the wire) and nowhere else. This header is the server's one
// door to the result's vocabulary: it brings the types of every part
// (CorrelatorEstimate, TheoryValues, SweepResult, TrainingFlow, CheckResults).
#ifndef NNFT_CORE_ANALYSES_EXPERIMENT_RESULT_H_
#define NNFT_CORE_ANALYSES_EXPERIMENT_RESULT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/analyses/effective_coupling.h"
#include "core/analyses/null_cone.h"
#include "core/analyses/reflection.h"
#include "core/analyses/symmetry_estimate.h"
#include "core/analyses/width_sweep.h"
#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"
#include "core/theory/theory.h"
#include "core/train/train_result.h"

namespace nnft {

// An estimate against its theory: z-scores per entry and the summaries.
struct TheoryComparisons {
  Comparison vs_exact;            // full correlators vs theory.exact_full
  Comparison vs_gp;               // full correlators vs theory.gp_full
  Comparison vs_exact_connected;  // connected parts vs theory.exact_connected
};

// The three comparisons; each has no degrees of freedom where the theory has
// no value per entry (CompareIfSized).
TheoryComparisons CompareWithTheory(const CorrelatorEstimate& estimate,
                                    const TheoryValues& theory);

// One width of a width sweep.
struct SweepWidthResult : TheoryComparisons {
  int width = 0;
  // The caller's key of this width's chunks (the server's store digest);
  // core leaves it empty.
  std::string digest;
  CorrelatorEstimate estimate;
  TheoryValues theory;
};

struct SweepResult {
  std::vector<SweepWidthResult> widths;  // ascending
  WidthSweepAnalysis analysis;           // m_n per width and the fits
};

struct ExperimentResult : TheoryComparisons {
  // From chunks [0, num_chunks), in order. Width sweeps: empty entries, the
  // totals (networks, chunks, bins, seed) of every width.
  CorrelatorEstimate estimate;
  // Width sweeps: the first width's kernel and method only. Training: the
  // entries are the flow's raw virtual-point moments (see core/train/train.h),
  // so the per-entry theory is NaN and the comparisons have no degrees of
  // freedom.
  TheoryValues theory;
  // Null-cone fields: the push of the Theta moments to the spec's points.
  std::optional<ConformalResult> conformal;
  // Specs with a reflection-positivity request.
  std::optional<ReflectionResult> reflection;
  // Training specs: the flow and its theory.
  std::shared_ptr<const TrainingFlow> training;
  // Width sweeps: per-width results and the fits.
  std::optional<SweepResult> sweep;
  // spec.effective_coupling: the analysis, or why it could not run.
  std::optional<EffectiveCouplingResult> effective_coupling;
  absl::Status effective_coupling_status;
  CheckResults checks;  // symmetry and cluster checks of the spec
};

// Chunk k of an experiment (k in [0, num_chunks), asked in order), or an
// error (a missing chunk is the source's DataLoss, with its own words).
using ChunkSource = std::function<absl::StatusOr<ChunkSums>(int64_t k)>;

// Folds chunks [0, num_chunks) of `spec` (the user's spec: its engine form,
// EngineSpec, is derived here) into bins (max_bins, as MomentAccumulator)
// and computes the theory, the comparisons and every analysis the spec
// requests. Not for width sweeps (AnalyseWidthSweep). Errors: the spec's
// validation, the source's errors, a chunk that does not fit the spec.
absl::StatusOr<ExperimentResult> AnalyseExperiment(const ExperimentSpec& spec,
                                                   const Limits& limits,
                                                   int max_bins,
                                                   int64_t num_chunks,
                                                   const ChunkSource& chunks);

// One width of a sweep: its spec (SweepWidthSpec) and its chunks.
struct SweepWidthChunks {
  int width = 0;
  const ExperimentSpec* spec = nullptr;
  int64_t num_chunks = 0;
  ChunkSource chunks;
};

// A width sweep of `spec` (spec.width_sweep non-empty): every width folded
// and compared with its exact theory, then the fits of AnalyzeWidthSweep.
absl::StatusOr<ExperimentResult> AnalyseWidthSweep(
    const ExperimentSpec& spec, const std::vector<SweepWidthChunks>& widths,
    const Limits& limits, int max_bins);

// Compare(estimate, stderr, exact) when `exact` has one value per entry;
// an empty comparison (no degrees of freedom) otherwise.
Comparison CompareIfSized(const std::vector<double>& estimate,
                          const std::vector<double>& stderr_estimate,
                          const std::vector<double>& exact);

// A running width sweep's analysis: the fits over the widths with an
// estimate so far, and per width its comparisons (absent until the width has
// both an estimate and its theory). Null entries of `estimates` and
// `theories` mark widths not started.
struct RunningSweepAnalysis {
  WidthSweepAnalysis analysis;
  std::vector<std::optional<TheoryComparisons>> comparisons;
};
RunningSweepAnalysis AnalyseRunningSweep(
    const std::vector<int>& widths,
    const std::vector<const CorrelatorEstimate*>& estimates,
    const std::vector<const TheoryValues*>& theories);

// What a running experiment publishes beside each interim estimate: the
// training flow with its theory, and the symmetry and cluster checks once
// every symmetry check has degrees of freedom (null until then, or when the
// spec asks for none).
struct RunningAnalyses {
  std::shared_ptr<const TrainingFlow> training;
  std::shared_ptr<const CheckResults> checks;
};

// The analyses of one running experiment; the flow theory is computed once,
// on the first interim estimate of a training spec. `spec` is the user's
// spec, `engine_spec` and `tuples` the engine's (Engine::spec(),
// Engine::tuples()); all three outlive this object.
class RunningAnalysis {
 public:
  RunningAnalysis(const ExperimentSpec& spec, const ExperimentSpec& engine_spec,
                  const TupleSet& tuples)
      : spec_(spec), engine_spec_(engine_spec), tuples_(tuples) {}

  // `estimate` is acc.Finish() of the chunks folded so far.
  RunningAnalyses Update(const CorrelatorEstimate& estimate,
                         const MomentAccumulator& acc);

 private:
  const ExperimentSpec& spec_;
  const ExperimentSpec& engine_spec_;
  const TupleSet& tuples_;
  std::optional<theory::FlowTheory> flow_theory_;
};

// A running estimate beside the best theory it has: the exact (or leading
// order in 1/N) finite-width values where the architecture has them, else
// the Gaussian process. `values` is null (and the comparison empty) when
// there is no estimate, no theory, or no theory of the estimate's size.
struct BestTheoryComparison {
  const std::vector<double>* values = nullptr;  // into the TheoryValues
  const char* kind = "none";  // "exact", "leading_order", "gp" or "none"
  Comparison comparison;
};
BestTheoryComparison CompareWithBestTheory(const CorrelatorEstimate* estimate,
                                           const TheoryValues* theory);

}  // namespace nnft

#endif  // NNFT_CORE_ANALYSES_EXPERIMENT_RESULT_H_
