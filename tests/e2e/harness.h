// Helpers of the end-to-end tests (besides the server process in
// server_process.h): the real `nnft` CLI run with captured output, a small
// experiment in proto and core form, and the core's own answer for a spec
// (nnft::Engine chunks folded in order by a MomentAccumulator), which a
// served result must match bit for bit.
#ifndef NNFT_TESTS_E2E_HARNESS_H_
#define NNFT_TESTS_E2E_HARNESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "gtest/gtest.h"
#include "nnft/v1/nnft.pb.h"
#include "tests/e2e/server_process.h"

namespace nnft::e2e {

struct CliRun {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

// Runs the real `nnft` binary with `args` (stdin from /dev/null).
CliRun RunCli(const std::vector<std::string>& args);

// Path of the nnft CLI binary (a compile definition).
std::string CliBinary();

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

// A test with its own nnft-server on a fresh data directory (started in
// SetUp) and a client of it; Server() is the CLI's --server flag for it.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::string Server() const { return "--server=" + server_->address(); }

  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::Client> client_;
};

}  // namespace nnft::e2e

#endif  // NNFT_TESTS_E2E_HARNESS_H_
