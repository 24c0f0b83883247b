#include "server/admission.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "core/tuples.h"

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

absl::StatusOr<JobCost> EstimateCost(const ExperimentSpec& spec, int threads,
                                     int max_bins) {
  const int num_points = static_cast<int>(spec.points.rows());
  NNFT_ASSIGN_OR_RETURN(const int64_t tuples,
                        TupleSet::CountClosure(num_points, spec.observables,
                                               Limits{}.max_tuples * 64));
  int max_order = 1;
  for (int n : spec.observables.orders) max_order = std::max(max_order, n);
  for (const auto& t : spec.observables.tuples) {
    max_order = std::max(max_order, static_cast<int>(t.size()));
  }
  const double parameters =
      static_cast<double>(NetworkParameters(spec.architecture));
  const double per_thread =
      8.0 * (2.0 * parameters + static_cast<double>(num_points) * 1024.0 +
             static_cast<double>(tuples));
  const double workers =
      threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  JobCost cost;
  cost.memory_bytes = static_cast<int64_t>(
      workers * per_thread + 16.0 * max_bins * static_cast<double>(tuples));
  const double chunks = static_cast<double>(NumChunks(spec.sampling));
  cost.store_bytes =
      static_cast<int64_t>(chunks * (8.0 * static_cast<double>(tuples) + 128));
  const double networks = chunks * spec.sampling.chunk_size;
  cost.gflop = networks *
               (2.0 * parameters * num_points +
                static_cast<double>(tuples) * max_order) *
               1e-9;
  return cost;
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
