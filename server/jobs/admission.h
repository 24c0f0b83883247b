// Admission control: what a job will cost, estimated from its spec before it
// is queued, checked against the server's per-job limits, so a spec the
// server cannot afford is refused at submission (INVALID_ARGUMENT naming the
// limit and the flag that sets it) instead of failing hours later.
//
// The estimates are upper-bound style and architecture-generic:
//   memory  threads x (parameters + P x (parameters / depth-ish activations)
//           + T) x 8 bytes for the workers, plus the estimator's bins
//           (max_bins x T x 8 x 2);
//   store   chunks x T x 8 bytes of stored sums (plus per-row overhead);
//   work    networks x (2 x parameters x P + T x n) floating-point operations,
// with P the points, T the tuples of the closure (sub-multisets included) and
// n the largest order, all counted on the spec's engine form (the points and
// tuples its analyses add) and the chunk layout the engine writes (2T + 4
// sums with a phi^4 insertion). Training adds 6 x parameters flops per
// training point and step (forward and backward passes). A width sweep costs
// the sum of its widths' store and work and the largest width's memory. They
// count what scales; constant factors of the activation functions are not
// modelled (the engine's erf costs several times its matrix-vector products),
// so the limits are generous by design.
#ifndef NNFT_SERVER_JOBS_ADMISSION_H_
#define NNFT_SERVER_JOBS_ADMISSION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"

namespace nnft::server {

struct JobCost {
  int64_t memory_bytes = 0;  // resident while the job runs
  int64_t store_bytes = 0;   // its chunks in the result store
  double gflop = 0;          // estimated work, 10^9 floating-point operations
};

struct AdmissionLimits {
  int64_t max_job_memory_bytes = int64_t{8} << 30;  // 0: none
  int64_t max_job_store_bytes = int64_t{4} << 30;   // 0: none
  double max_job_gflop = 1e7;                       // 0: none

  absl::Status Validate() const;
};

// The estimate for `spec` run on `threads` worker threads (0: the machine's
// hardware threads) with estimators of `max_bins` bins. The spec must be valid.
absl::StatusOr<JobCost> EstimateCost(const ExperimentSpec& spec, int threads,
                                     int max_bins);

// InvalidArgument naming the first limit `cost` exceeds, its value and the
// server flag that sets it.
absl::Status CheckCost(const JobCost& cost, const AdmissionLimits& limits);

}  // namespace nnft::server

#endif  // NNFT_SERVER_JOBS_ADMISSION_H_
