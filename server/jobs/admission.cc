#include "server/jobs/admission.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/analyses/symmetry.h"
#include "core/analyses/width_sweep.h"
#include "core/sampling/engine.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"

namespace nnft::server {

absl::Status AdmissionLimits::Validate() const {
  if (max_job_memory_bytes < 0 || max_job_store_bytes < 0 ||
      !(max_job_gflop >= 0) || !std::isfinite(max_job_gflop)) {
    return absl::InvalidArgumentError(
        "admission limits: max_job_memory_mb, max_job_store_mb and "
        "max_job_gflop must be finite and >= 0 (0: no limit)");
  }
  return absl::OkStatus();
}

namespace {

// Nominal step count of a gradient-flow run per unit of training time (the
// integrator adapts its steps; this only sizes the estimate).
constexpr double kFlowStepsPerUnitTime = 100;

// Multi-component fields and symmetry or cluster checks: the engine
// evaluates the transformed points too (appended) and keeps phi and its
// covariance over real and virtual slots. 0 for the other specs.
double SlotCount(const ExperimentSpec& spec) {
  if (OutputDim(spec.architecture) == 1 && spec.symmetry_checks.empty() &&
      spec.cluster_checks.empty()) {
    return 0;
  }
  return MakeEvaluationPlan(spec).total_slots();
}

absl::StatusOr<int64_t> SlotTupleCount(const ExperimentSpec& spec) {
  const EvaluationPlan plan = MakeEvaluationPlan(spec);
  if (spec.symmetry_checks.empty() && spec.cluster_checks.empty()) {
    return TupleSet::CountClosure(plan.base_slots(), spec.observables,
                                  Limits{}.max_tuples * 64);
  }
  NNFT_ASSIGN_OR_RETURN(const TupleSet set,
                        BuildSpecTuples(spec, plan, Limits{}.max_tuples * 64));
  return set.size();
}

// The cost of one experiment (no width sweep): counted on its engine form,
// whose points and tuples include what the analyses add (reflection
// positivity's reflected points, the null cone's statistics), and with the
// chunk layout the engine writes (2T + extras for a phi^4 insertion).
absl::StatusOr<JobCost> SingleCost(const ExperimentSpec& spec, int threads,
                                   int max_bins) {
  NNFT_ASSIGN_OR_RETURN(const ExperimentSpec engine, EngineSpec(spec));
  int64_t tuples = 0;
  int max_order = 1;
  if (engine.training.has_value()) {
    NNFT_ASSIGN_OR_RETURN(const TupleSet set,
                          BuildTupleSet(engine, Limits{}.max_tuples * 64));
    tuples = static_cast<int64_t>(set.size());
    max_order = 2;
  } else if (SlotCount(engine) > 0) {
    // Multi-component fields, symmetry or cluster checks: the checks' tuples
    // over the real (P_eval x d_out) and virtual slots.
    NNFT_ASSIGN_OR_RETURN(tuples, SlotTupleCount(engine));
  } else {
    NNFT_ASSIGN_OR_RETURN(
        tuples,
        TupleSet::CountClosure(static_cast<int>(engine.points.rows()),
                               engine.observables, Limits{}.max_tuples * 64));
    for (int n : engine.observables.orders) max_order = std::max(max_order, n);
    for (const auto& t : engine.observables.tuples) {
      max_order = std::max(max_order, static_cast<int>(t.size()));
    }
  }
  const double sums = engine.insertion.has_value()
                          ? 2.0 * static_cast<double>(tuples) + kWeightExtras
                          : static_cast<double>(tuples);
  double num_points = static_cast<double>(engine.points.rows());
  const double slots = SlotCount(engine);
  if (slots > 0) num_points = MakeEvaluationPlan(engine).points.rows();
  double steps = 0;  // training: forward + backward passes per network
  if (engine.training.has_value()) {
    const TrainingSpec& t = *engine.training;
    num_points += static_cast<double>(t.x.rows());
    const double last = t.times.empty() ? 0.0 : t.times.back();
    steps = t.method == TrainingMethod::kGradientDescent
                ? last / t.eta
                : last * kFlowStepsPerUnitTime;
    steps *= static_cast<double>(t.x.rows());
  }
  const double parameters =
      static_cast<double>(NetworkParameters(engine.architecture));
  const double per_thread =
      8.0 * (2.0 * parameters + num_points * 1024.0 +
             static_cast<double>(tuples) + sums + slots * (slots + 1));
  const double workers =
      threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  JobCost cost;
  cost.memory_bytes =
      static_cast<int64_t>(workers * per_thread + 16.0 * max_bins * sums);
  const double chunks = static_cast<double>(NumChunks(engine.sampling));
  cost.store_bytes = static_cast<int64_t>(chunks * (8.0 * sums + 128));
  const double networks = chunks * engine.sampling.chunk_size;
  cost.gflop = networks *
               (2.0 * parameters * num_points + 6.0 * parameters * steps +
                static_cast<double>(tuples) * max_order) *
               1e-9;
  return cost;
}

}  // namespace

absl::StatusOr<JobCost> EstimateCost(const ExperimentSpec& spec, int threads,
                                     int max_bins) {
  if (spec.width_sweep.empty()) return SingleCost(spec, threads, max_bins);
  // A sweep runs its widths in turn: memory is the largest width's, stored
  // sums and work add up.
  JobCost total;
  for (int width : spec.width_sweep) {
    NNFT_ASSIGN_OR_RETURN(
        const JobCost c, SingleCost(WithWidth(spec, width), threads, max_bins));
    total.memory_bytes = std::max(total.memory_bytes, c.memory_bytes);
    total.store_bytes += c.store_bytes;
    total.gflop += c.gflop;
  }
  return total;
}

absl::Status CheckCost(const JobCost& cost, const AdmissionLimits& limits) {
  constexpr double kMiB = 1 << 20;
  if (limits.max_job_memory_bytes > 0 &&
      cost.memory_bytes > limits.max_job_memory_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spec: estimated memory %.0f MiB exceeds the server's per-job limit "
        "max_job_memory_mb = %.0f (fewer points, tuples or a smaller width)",
        cost.memory_bytes / kMiB, limits.max_job_memory_bytes / kMiB));
  }
  if (limits.max_job_store_bytes > 0 &&
      cost.store_bytes > limits.max_job_store_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spec: estimated stored sums %.0f MiB exceed the server's per-job "
        "limit max_job_store_mb = %.0f (fewer chunks: a larger chunk_size or "
        "fewer networks; or fewer tuples)",
        cost.store_bytes / kMiB, limits.max_job_store_bytes / kMiB));
  }
  if (limits.max_job_gflop > 0 && cost.gflop > limits.max_job_gflop) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spec: estimated work %.3g GFLOP exceeds the server's per-job limit "
        "max_job_gflop = %.3g (fewer networks, points or a smaller width)",
        cost.gflop, limits.max_job_gflop));
  }
  return absl::OkStatus();
}

}  // namespace nnft::server
