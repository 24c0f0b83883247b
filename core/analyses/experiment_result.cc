#include "core/analyses/experiment_result.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <variant>

#include "core/estimate/tail_reach.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"
#include "core/theory/ntk.h"

namespace nnft {
namespace {

// The flow and its theory; the per-entry theory of the virtual points is
// unknown (NaN), so the comparisons have no degrees of freedom.
void AddTrainingFlow(const ExperimentSpec& spec, ExperimentResult& result) {
  const theory::FlowTheory flow_theory = theory::TrainingFlowTheory(spec);
  result.training = std::make_shared<const TrainingFlow>(
      MakeTrainingFlow(spec, result.estimate, &flow_theory));
  const std::vector<double> nan(result.estimate.mean.size(),
                                std::numeric_limits<double>::quiet_NaN());
  result.theory.gp_full = result.theory.gp_connected = nan;
  result.theory.exact_full = result.theory.exact_connected = nan;
  result.theory.method = flow_theory.method;
}

// Folds chunks [0, num_chunks) in order.
absl::Status Fold(MomentAccumulator& acc, int64_t num_chunks,
                  const ChunkSource& chunks) {
  for (int64_t k = 0; k < num_chunks; ++k) {
    NNFT_ASSIGN_OR_RETURN(const ChunkSums chunk, chunks(k));
    NNFT_RETURN_IF_ERROR(acc.Add(chunk));
  }
  return absl::OkStatus();
}

}  // namespace

Comparison CompareIfSized(const std::vector<double>& estimate,
                          const std::vector<double>& stderr_estimate,
                          const std::vector<double>& exact) {
  if (exact.size() != estimate.size()) return Comparison{};
  return Compare(estimate, stderr_estimate, exact);
}

TheoryComparisons CompareWithTheory(const CorrelatorEstimate& e,
                                    const TheoryValues& theory) {
  return {.vs_exact = CompareIfSized(e.mean, e.stderr_mean, theory.exact_full),
          .vs_gp = CompareIfSized(e.mean, e.stderr_mean, theory.gp_full),
          .vs_exact_connected = CompareIfSized(e.connected, e.stderr_connected,
                                               theory.exact_connected)};
}

RunningSweepAnalysis AnalyseRunningSweep(
    const std::vector<int>& widths,
    const std::vector<const CorrelatorEstimate*>& estimates,
    const std::vector<const TheoryValues*>& theories) {
  RunningSweepAnalysis out;
  out.analysis = AnalyzeWidthSweep(widths, estimates, theories);
  out.comparisons.resize(widths.size());
  for (size_t i = 0; i < widths.size(); ++i) {
    if (estimates[i] != nullptr && theories[i] != nullptr) {
      out.comparisons[i] = CompareWithTheory(*estimates[i], *theories[i]);
    }
  }
  return out;
}

RunningAnalyses RunningAnalysis::Update(const CorrelatorEstimate& estimate,
                                        const MomentAccumulator& acc) {
  RunningAnalyses out;
  if (spec_.training) {
    if (!flow_theory_) flow_theory_ = theory::TrainingFlowTheory(spec_);
    out.training = std::make_shared<const TrainingFlow>(
        MakeTrainingFlow(spec_, estimate, &*flow_theory_));
  }
  if (!spec_.symmetry_checks.empty() || !spec_.cluster_checks.empty()) {
    // Too few chunks for the paired errors (no degrees of freedom yet):
    // nothing to publish.
    absl::StatusOr<CheckResults> c = EstimateChecks(engine_spec_, tuples_, acc);
    const bool resolved =
        c.ok() &&
        std::all_of(c->symmetry.begin(), c->symmetry.end(),
                    [](const SymmetryResult& r) { return r.dof > 0; });
    if (resolved) {
      out.checks = std::make_shared<const CheckResults>(*std::move(c));
    }
  }
  return out;
}

BestTheoryComparison CompareWithBestTheory(const CorrelatorEstimate* estimate,
                                           const TheoryValues* theory) {
  BestTheoryComparison out;
  if (estimate == nullptr || theory == nullptr) return out;
  const std::vector<double>& v =
      theory->has_exact ? theory->exact_full : theory->gp_full;
  if (v.size() != estimate->mean.size()) return out;
  out.values = &v;
  out.kind = theory->leading_order_in_inverse_width ? "leading_order"
             : theory->has_exact                    ? "exact"
                                                    : "gp";
  out.comparison = Compare(estimate->mean, estimate->stderr_mean, v);
  return out;
}

absl::StatusOr<ExperimentResult> AnalyseExperiment(const ExperimentSpec& spec,
                                                   const Limits& limits,
                                                   int max_bins,
                                                   int64_t num_chunks,
                                                   const ChunkSource& chunks) {
  if (!spec.width_sweep.empty()) {
    return absl::InvalidArgumentError(
        "AnalyseExperiment: a width sweep is analysed by AnalyseWidthSweep");
  }
  // The engine form is what the chunks hold: the null-cone field's Theta
  // statistics, or the spec's points with the reflection points appended.
  NNFT_ASSIGN_OR_RETURN(const ExperimentSpec engine, EngineSpec(spec, limits));
  NNFT_ASSIGN_OR_RETURN(const TupleSet tuples,
                        BuildTupleSet(engine, limits.max_tuples));
  MomentAccumulator acc(tuples, engine.sampling.seed, max_bins,
                        engine.insertion.has_value());
  NNFT_RETURN_IF_ERROR(Fold(acc, num_chunks, chunks));

  ExperimentResult result;
  result.estimate = acc.Finish();
  FlagUnreachedTails(engine, result.estimate);
  if (engine.training) {
    AddTrainingFlow(engine, result);
  } else {
    NNFT_ASSIGN_OR_RETURN(result.checks, EstimateChecks(engine, tuples, acc));
    NNFT_ASSIGN_OR_RETURN(result.theory, ComputeTheory(engine, tuples));
  }
  static_cast<TheoryComparisons&>(result) =
      CompareWithTheory(result.estimate, result.theory);
  // The analyses built on the binned sums: the null-cone push and the
  // reflection-positivity spectra (of the user's spec).
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    result.conformal = AnalyzeNullCone(spec, tuples, acc.Binned());
  }
  if (spec.reflection.enabled) {
    result.reflection =
        AnalyzeReflection(spec, tuples, acc.Binned(), result.theory);
  }
  if (engine.effective_coupling.has_value()) {
    absl::StatusOr<EffectiveCouplingResult> ec =
        ComputeEffectiveCouplings(engine, tuples, acc);
    if (ec.ok()) {
      result.effective_coupling = *std::move(ec);
    } else {
      result.effective_coupling_status = ec.status();
    }
  }
  return result;
}

absl::StatusOr<ExperimentResult> AnalyseWidthSweep(
    const ExperimentSpec& spec, const std::vector<SweepWidthChunks>& widths,
    const Limits& limits, int max_bins) {
  // The request's tuple set (the same for every width).
  NNFT_ASSIGN_OR_RETURN(const TupleSet tuples,
                        TupleSet::Build(static_cast<int>(spec.points.rows()),
                                        spec.observables, limits.max_tuples));
  SweepResult sweep;
  for (const SweepWidthChunks& width : widths) {
    SweepWidthResult& r = sweep.widths.emplace_back();
    r.width = width.width;
    MomentAccumulator acc(tuples, width.spec->sampling.seed, max_bins);
    NNFT_RETURN_IF_ERROR(Fold(acc, width.num_chunks, width.chunks));
    r.estimate = acc.Finish();
    FlagUnreachedTails(*width.spec, r.estimate);
    NNFT_ASSIGN_OR_RETURN(r.theory, ComputeTheory(*width.spec, tuples));
    static_cast<TheoryComparisons&>(r) =
        CompareWithTheory(r.estimate, r.theory);
  }
  std::vector<int> ns;
  std::vector<const CorrelatorEstimate*> estimates;
  std::vector<const TheoryValues*> theories;
  for (const SweepWidthResult& r : sweep.widths) {
    ns.push_back(r.width);
    estimates.push_back(&r.estimate);
    theories.push_back(&r.theory);
  }
  sweep.analysis = AnalyzeWidthSweep(ns, estimates, theories);

  ExperimentResult result;
  // The header's totals: every width's networks and chunks, the one seed.
  result.estimate.seed = spec.sampling.seed;
  for (const SweepWidthResult& r : sweep.widths) {
    result.estimate.networks += r.estimate.networks;
    result.estimate.chunks += r.estimate.chunks;
    result.estimate.bins = r.estimate.bins;
  }
  if (!sweep.widths.empty()) {
    const TheoryValues& first = sweep.widths.front().theory;
    result.theory.kernel = first.kernel;
    result.theory.method = first.method;
    result.theory.has_exact = first.has_exact;
    result.theory.leading_order_in_inverse_width =
        first.leading_order_in_inverse_width;
  }
  result.sweep = std::move(sweep);
  return result;
}

}  // namespace nnft
