// Width sweeps in the job manager: the per-width sub-experiments of a sweep
// job (each under its own digest), their theory, snapshots and the folded
// result with the fits (core/analyses/width_sweep.h). The runs themselves are
// in job_runner.cc (JobManager::Impl::RunSweep).
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/analyses/experiment_result.h"
#include "core/analyses/width_sweep.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"
#include "core/theory/theory.h"
#include "server/jobs/job_manager_internal.h"
#include "server/spec/digest.h"

namespace nnft::server {
namespace {

// The request's tuple set (the same for every width).
absl::StatusOr<TupleSet> SpecTuples(const ExperimentSpec& spec,
                                    const Limits& limits) {
  return TupleSet::Build(static_cast<int>(spec.points.rows()), spec.observables,
                         limits.max_tuples);
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
  std::vector<SweepWidthChunks> widths;
  for (const SweepWidth& width : job.sweep) {
    widths.push_back({.width = width.width,
                      .spec = &width.spec,
                      .num_chunks = width.num_chunks,
                      .chunks = [&store = *store, &width](
                                    int64_t k) -> absl::StatusOr<ChunkSums> {
                        NNFT_ASSIGN_OR_RETURN(std::optional<ChunkSums> chunk,
                                              store.GetChunk(width.digest, k));
                        if (!chunk) {
                          return absl::DataLossError(absl::StrCat(
                              "chunk ", k, " of width ", width.width,
                              " is missing from the store"));
                        }
                        return *std::move(chunk);
                      }});
  }
  NNFT_ASSIGN_OR_RETURN(
      ExperimentResult analysed,
      AnalyseWidthSweep(job.spec, widths, options.limits, options.max_bins));
  for (size_t w = 0; w < job.sweep.size(); ++w) {
    analysed.sweep->widths[w].digest = job.sweep[w].digest;
  }
  static_cast<ExperimentResult&>(result) = std::move(analysed);
  return absl::OkStatus();
}

}  // namespace nnft::server
