// The MPI side of nnft-mpi-worker: every rank computes its block-cyclic
// share of the chunks (server/mpi/chunk_merge.h) with the core engine; ranks
// r > 0 send each finished chunk to rank 0 as one MPI_DOUBLE message tagged
// by the chunk index ({k, networks, sums...}); rank 0 computes its own
// share, takes the others' messages between its blocks, and folds every
// chunk in index order.
//
// Stream mode (options.stream_fd >= 0): the ranks compute a given list of
// chunks, and rank 0 writes each one, its own or received, as a CRC-checked
// record (server/mpi/chunk_stream.h) the moment it has it, then an end
// record; nothing is merged. This is how the server runs a job's missing
// chunks through a launcher (server/ops/launcher.h).
//
// MPI use is funnelled: only the calling (main) thread makes MPI calls; the
// engine's OpenMP threads never do, so MPI_THREAD_FUNNELED suffices.
#ifndef NNFT_SERVER_MPI_MPI_WORKER_H_
#define NNFT_SERVER_MPI_MPI_WORKER_H_

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/sampling/engine.h"

namespace nnft::mpi {

struct WorkerOptions {
  // OpenMP threads per rank for Engine::RunChunks; 0 uses OpenMP's default.
  int threads = 1;
  // Consecutive chunks per block of the block-cyclic deal, >= 1; 0 uses one
  // chunk per thread (the hardware's thread count when threads is 0), so a
  // rank's threads share each block.
  int64_t block = 0;
  // Progress lines on stderr from rank 0 (at most one per `progress_seconds`,
  // plus the first and the last fold).
  bool progress = true;
  double progress_seconds = 1.0;
  // Seconds from process start to the call (MPI_Init, the spec read, the
  // engine setup): reported as startup and included in the wall time.
  double startup_seconds = 0;
  // Chunks to compute, increasing and distinct, each in [0, NumChunks);
  // empty: every chunk of the spec. Only with stream_fd >= 0.
  std::vector<int64_t> chunks;
  // Stream mode: rank 0 writes chunk records to this file descriptor.
  int stream_fd = -1;
};

// Runs the engine's whole sampling plan over every rank of `comm`
// (collective: every rank must call it with the same engine spec and
// options). Returns on rank 0 the result JSON (server/mpi/result_json.h), or
// "" in stream mode, and on other ranks "". InvalidArgument for bad options;
// FailedPrecondition when the chunk count exceeds MPI_TAG_UB; Internal for a
// malformed message or an MPI error. An error on one rank leaves the others
// blocked: the caller aborts the communicator.
absl::StatusOr<std::string> RunMpiWorker(MPI_Comm comm, const Engine& engine,
                                         const WorkerOptions& options);

}  // namespace nnft::mpi

#endif  // NNFT_SERVER_MPI_MPI_WORKER_H_
