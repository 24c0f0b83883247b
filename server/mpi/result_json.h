// The result file of nnft-mpi-worker: the estimate rank 0 merged, with the
// facts needed to trust and compare it (seed, counts, hashes, timings).
#ifndef NNFT_SERVER_MPI_RESULT_JSON_H_
#define NNFT_SERVER_MPI_RESULT_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/estimate/estimate.h"

namespace nnft::mpi {

// Timings of a run, in seconds, reported beside the estimate.
struct RunTimings {
  double wall = 0;     // rank 0, from process start to the last fold
  double startup = 0;  // of which MPI_Init, the spec read and engine setup
  double compute = 0;  // rank 0 computing its own chunks
  double receive = 0;  // rank 0 copying received chunks (MPI_Recv)
  double wait = 0;     // rank 0 blocked waiting for other ranks' chunks
  double fold = 0;     // rank 0 folding and hashing
  std::vector<double> rank_compute;      // compute seconds of every rank
  std::vector<double> rank_compute_cpu;  // their CPU seconds (all threads)
};

// Facts about the run, reported beside the estimate.
struct RunInfo {
  int ranks = 1;
  int threads = 1;
  int64_t block = 1;
  int64_t chunk_size = 0;
  std::string chunk_hash;
  RunTimings timings;
};

// The result file: {"tuples", "mean", "stderr", "connected",
// "connected_stderr", "networks", "chunks", "bins", "seed", "chunk_size",
// "ranks", "threads", "block", "chunk_hash", "estimate_hash", "timing"}.
// Doubles print with 17 significant digits (they parse back to the same
// bits); NaN and infinities, which JSON lacks, print as null. The seed
// prints as a decimal string, since JSON readers keep only 53 bits of a
// number.
std::string ResultToJson(const CorrelatorEstimate& estimate,
                         const RunInfo& info);

}  // namespace nnft::mpi

#endif  // NNFT_SERVER_MPI_RESULT_JSON_H_
