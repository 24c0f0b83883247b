// Width sweeps in the job manager: the per-width sub-experiments of a sweep
// job (each under its own digest), their theory, snapshots and the folded
// result with the fits (core/width_sweep.h). The runs themselves are in
// job_runner.cc (JobManager::Impl::RunSweep).
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/compare.h"
#include "core/status_macros.h"
#include "core/theory.h"
#include "core/tuples.h"
#include "core/width_sweep.h"
#include "server/digest.h"
#include "server/job_manager_internal.h"

namespace nnft::server {
namespace {

// The request's tuple set (the same for every width).
absl::StatusOr<TupleSet> SpecTuples(const ExperimentSpec& spec,
                                    const Limits& limits) {
  return TupleSet::Build(static_cast<int>(spec.points.rows()), spec.observables,
                         limits.max_tuples);
}

// Folds chunks [0, K) of one width from the store, in chunk order.
absl::StatusOr<CorrelatorEstimate> FoldWidth(ResultStore& store,
                                             const SweepWidth& width,
                                             const TupleSet& tuples,
                                             int max_bins) {
  MomentAccumulator acc(tuples, width.spec.sampling.seed, max_bins);
  for (int64_t k = 0; k < width.num_chunks; ++k) {
    NNFT_ASSIGN_OR_RETURN(std::optional<ChunkSums> chunk,
                          store.GetChunk(width.digest, k));
    if (!chunk) {
      return absl::DataLossError(absl::StrCat("chunk ", k, " of width ",
                                              width.width,
                                              " is missing from the store"));
    }
    NNFT_RETURN_IF_ERROR(acc.Add(*chunk));
  }
  return acc.Finish();
}

Comparison CompareIfSized(const std::vector<double>& estimate,
                          const std::vector<double>& stderr_estimate,
                          const std::vector<double>& exact) {
  if (exact.size() != estimate.size()) return Comparison{};
  return Compare(estimate, stderr_estimate, exact);
}

}  // namespace

void InitSweep(Job& job) {
  job.sweep.clear();
  const bool done = job.record.state == JobState::kSucceeded;
  for (int n : SweepWidths(job.spec)) {
    SweepWidth& width = job.sweep.emplace_back();
    width.width = n;
    width.spec = SweepWidthSpec(job.spec, n);
    width.digest = SpecDigest(width.spec);
    width.num_chunks = NumChunks(width.spec.sampling);
    width.chunks_done = done ? width.num_chunks : 0;
  }
}

std::vector<SweepWidthSnapshot> SweepSnapshot(const Job& job) {
  std::vector<SweepWidthSnapshot> out;
  out.reserve(job.sweep.size());
  for (const SweepWidth& width : job.sweep) {
    out.push_back({.width = width.width,
                   .digest = width.digest,
                   .chunks_total = width.num_chunks,
                   .chunks_done = width.chunks_done,
                   .estimate = width.estimate,
                   .theory = width.theory});
  }
  return out;
}

absl::Status JobManager::Impl::PrepareSweepTheory(
    const std::shared_ptr<Job>& job) {
  NNFT_ASSIGN_OR_RETURN(const TupleSet tuples,
                        SpecTuples(job->spec, options.limits));
  std::vector<std::shared_ptr<const TheoryValues>> theories;
  for (const SweepWidth& width : job->sweep) {
    NNFT_ASSIGN_OR_RETURN(TheoryValues theory,
                          ComputeTheory(width.spec, tuples));
    theories.push_back(std::make_shared<const TheoryValues>(std::move(theory)));
  }
  absl::MutexLock lock(&mu);
  for (size_t w = 0; w < theories.size(); ++w) {
    job->sweep[w].theory = std::move(theories[w]);
    job->sweep[w].chunks_done = 0;
    job->sweep[w].estimate.reset();
  }
  return absl::OkStatus();
}

absl::Status JobManager::Impl::FillSweepResult(const Job& job,
                                               JobResult& result) {
  NNFT_ASSIGN_OR_RETURN(const TupleSet tuples,
                        SpecTuples(job.spec, options.limits));
  SweepResult sweep;
  for (const SweepWidth& width : job.sweep) {
    SweepWidthResult& r = sweep.widths.emplace_back();
    r.width = width.width;
    r.digest = width.digest;
    NNFT_ASSIGN_OR_RETURN(r.estimate,
                          FoldWidth(*store, width, tuples, options.max_bins));
    NNFT_ASSIGN_OR_RETURN(r.theory, ComputeTheory(width.spec, tuples));
    const CorrelatorEstimate& e = r.estimate;
    r.vs_exact = CompareIfSized(e.mean, e.stderr_mean, r.theory.exact_full);
    r.vs_gp = CompareIfSized(e.mean, e.stderr_mean, r.theory.gp_full);
    r.vs_exact_connected = CompareIfSized(e.connected, e.stderr_connected,
                                          r.theory.exact_connected);
  }
  std::vector<int> widths;
  std::vector<const CorrelatorEstimate*> estimates;
  std::vector<const TheoryValues*> theories;
  for (const SweepWidthResult& r : sweep.widths) {
    widths.push_back(r.width);
    estimates.push_back(&r.estimate);
    theories.push_back(&r.theory);
  }
  sweep.analysis = AnalyzeWidthSweep(widths, estimates, theories);
  // The header's totals: every width's networks and chunks, the one seed.
  result.estimate.seed = job.spec.sampling.seed;
  for (const SweepWidthResult& r : sweep.widths) {
    result.estimate.networks += r.estimate.networks;
    result.estimate.chunks += r.estimate.chunks;
    result.estimate.bins = r.estimate.bins;
  }
  if (!sweep.widths.empty()) {
    result.theory.kernel = sweep.widths.front().theory.kernel;
    result.theory.method = sweep.widths.front().theory.method;
    result.theory.has_exact = sweep.widths.front().theory.has_exact;
    result.theory.leading_order_in_inverse_width =
        sweep.widths.front().theory.leading_order_in_inverse_width;
  }
  result.sweep = std::move(sweep);
  return absl::OkStatus();
}

}  // namespace nnft::server
