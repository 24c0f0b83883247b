// Helpers of the end-to-end tests: a temporary directory, the real
// nnft-server binary run as a child process on 127.0.0.1 port 0 (the port is
// read from its "listening address=HOST:PORT" log line), the real `nnft` CLI
// run with captured output, and the core's own answer for a spec (nnft::Engine
// chunks folded in order by a MomentAccumulator), which a served result must
// match bit for bit.
#ifndef NNFT_TESTS_E2E_HARNESS_H_
#define NNFT_TESTS_E2E_HARNESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "core/estimate.h"
#include "core/spec.h"
#include "nnft/v1/nnft.pb.h"

namespace nnft::e2e {

// A fresh directory under $TEST_TMPDIR or /tmp, removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerOptions {
  std::string data_dir;
  int worker_threads = 2;
  int max_queued_jobs = 1000;
  // Appended to the command line as given.
  std::vector<std::string> extra_args = {};
};

// The real server binary as a child process. Its stderr and stdout go to
// `<data_dir>.log.<n>` so a failed test can show them.
class ServerProcess {
 public:
  // Starts the server and waits (up to `wait`) for its listening line.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerOptions& options, absl::Duration wait = absl::Seconds(60));
  // SIGKILLs the process if it still runs.
  ~ServerProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

  // Sends `signal` and waits up to `wait` for the process to exit. Returns
  // the wait status (see WIFEXITED); DeadlineExceeded if it did not exit.
  absl::StatusOr<int> Stop(int signal, absl::Duration wait = absl::Seconds(60));

  // A client of this server (unary deadline 30 s).
  std::unique_ptr<client::Client> NewClient() const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  bool running_ = false;
  std::string address_;
  std::string log_path_;
};

struct CliRun {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

// Runs the real `nnft` binary with `args` (stdin from /dev/null).
CliRun RunCli(const std::vector<std::string>& args);

// Path of the nnft CLI and server binaries (compile definitions).
std::string CliBinary();
std::string ServerBinary();

// Writes `text` to `path`; aborts the test on failure.
void WriteFile(const std::string& path, const std::string& text);

// A small erf MLP experiment: d = 1, one hidden layer of `width`, points
// x = -1, 0.5, 2 (P = 3), orders 2 and 4 (every tuple), the given sampling.
// `Proto` and `Core` give the same experiment in both forms, written out
// independently (the server's conversion is under test).
struct SmallSpec {
  int width = 64;
  uint64_t seed = 1;
  int chunk_size = 500;
  int64_t num_chunks = 16;

  nnft::v1::ExperimentSpec Proto() const;
  ExperimentSpec Core() const;
};

// The core's answer: chunks [0, num_chunks) of the spec, computed by
// nnft::Engine and folded in order by MomentAccumulator(max_bins = 64, the
// server's default).
absl::StatusOr<CorrelatorEstimate> CoreEstimate(const ExperimentSpec& spec,
                                                int64_t num_chunks);

// Nonzero-bit differences between a served result and the core's estimate,
// as readable lines ("mean[3]: served 0x... core 0x..."); empty when every
// tuple, mean, error and connected part agrees bit for bit.
std::vector<std::string> BitDifferences(const client::JobResult& served,
                                        const CorrelatorEstimate& core);

// Waits for `name` to reach at least `chunks_done` finished chunks (or to
// end); returns the job then.
absl::StatusOr<nnft::v1::Job> WaitForChunks(const client::Client& client,
                                            const std::string& name,
                                            int64_t chunks_done,
                                            absl::Duration wait);

}  // namespace nnft::e2e

#endif  // NNFT_TESTS_E2E_HARNESS_H_
