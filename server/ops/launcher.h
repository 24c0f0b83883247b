// Runs a job's missing chunks through an external launcher (mpirun, srun, a
// batch wrapper) instead of the in-process engine (DESIGN.md section 6).
//
// The launcher is a command template, run by /bin/sh -c in its own process
// group, with placeholders:
//   {ranks}    LauncherOptions::ranks
//   {threads}  LauncherOptions::threads (OpenMP threads per rank)
//   {worker}   the nnft-mpi-worker binary
//   {args}     the worker's arguments, shell-quoted: --spec=<file> --stream
//              --chunks=<ranges> --threads=<T> --expect_digest=<digest>
// e.g. "mpirun -np {ranks} --oversubscribe {worker} {args}" or
// "srun --ntasks={ranks} --cpus-per-task={threads} {worker} {args}".
// The spec goes to a file under spec_dir (which rank 0 must be able to read;
// on a cluster, a shared file system), removed after the run.
//
// Rank 0 of the worker writes each finished chunk on its stdout as a
// CRC-checked record (server/mpi/chunk_stream.h). Run() verifies every record
// (CRC, a chunk it asked for, not seen before, the spec's chunk size and
// number of sums) and hands it to on_chunk as it arrives, so the job runner
// stores, folds and publishes it exactly like an in-process chunk; the worker
// refuses to run unless its spec digest, engine fingerprint included, is the
// server's, so the stored bits are those of an in-process run. A bad record
// stops the run at once: nothing after it is handed on.
//
// Thread safety: a Launcher is immutable; Run may be called concurrently.
#ifndef NNFT_SERVER_OPS_LAUNCHER_H_
#define NNFT_SERVER_OPS_LAUNCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"

namespace nnft::server {

struct LauncherOptions {
  // The command template (see above); must contain {args}.
  std::string command{};
  // MPI ranks ({ranks}); in [1, 100000].
  int ranks = 2;
  // OpenMP threads per rank ({threads}, and the worker's --threads); >= 1.
  int threads = 1;
  // nnft-mpi-worker ({worker}); "" uses the one beside the running binary.
  std::string worker{};
  // Directory of the spec files handed to the worker; created if missing.
  std::string spec_dir{};
  // After a cancellation, SIGTERM to the process group, then SIGKILL after
  // this long.
  absl::Duration kill_grace = absl::Seconds(5);
  // Bytes of the launcher's stderr kept for the error of a failed run.
  int stderr_tail_bytes = 2000;

  absl::Status Validate() const;
};

class Launcher {
 public:
  // InvalidArgument for bad options; NotFound when the worker is not there.
  static absl::StatusOr<std::unique_ptr<Launcher>> Create(
      LauncherOptions options);

  // Computes `chunks` (increasing, distinct) of `spec`, whose chunks carry
  // `num_sums` sums each. on_chunk is called on the calling thread once per
  // verified chunk, in arrival order; returning false, or stop() returning
  // true (polled every 100 ms), ends the run: the launcher's process group
  // gets SIGTERM (SIGKILL after kill_grace) and Run returns Cancelled.
  // A launcher exiting non-zero or on a signal: Internal with the status and
  // the tail of its stderr. A bad record, an unrequested or repeated chunk,
  // or a clean exit with chunks missing: DataLoss (the process group is
  // killed; chunks handed on before stay valid).
  absl::Status Run(const ExperimentSpec& spec,
                   const std::vector<int64_t>& chunks, int64_t num_sums,
                   const std::function<bool(ChunkSums)>& on_chunk,
                   const std::function<bool()>& stop) const;

  // The shell command for `args` (each shell-quoted into {args}).
  std::string Expand(const std::vector<std::string>& args) const;
  const LauncherOptions& options() const { return options_; }

 private:
  explicit Launcher(LauncherOptions options) : options_(std::move(options)) {}
  LauncherOptions options_;
};

// "0:40,52:60" for {0..39, 52..59}: the worker's --chunks syntax.
std::string ChunkRanges(const std::vector<int64_t>& chunks);

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_LAUNCHER_H_
