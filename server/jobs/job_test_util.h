// Fixtures shared by the store and job-manager tests: a per-test temporary
// directory, a tiny erf-net spec, a manager opened on it, submission and
// waiting helpers, and bit-for-bit comparison against the engine run
// directly (the property every job path must keep).
#ifndef NNFT_SERVER_JOBS_JOB_TEST_UTIL_H_
#define NNFT_SERVER_JOBS_JOB_TEST_UTIL_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "server/jobs/job_manager.h"

namespace nnft::server::testing_util {

inline constexpr int kThreads = 2;

// A fresh directory under the test temp dir, named after the running test
// and the process, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "nnft_jobs_");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A small erf net at three points: G2 and G4 over every tuple.
ExperimentSpec TinySpec(int64_t num_networks, int chunk_size = 100,
                        int width = 8, uint64_t seed = 7);

// A job that cannot finish during a test: keeps the single runner busy.
ExperimentSpec BlockerSpec();

JobManagerOptions Options(const std::string& dir);

// The manager opened with `options` (a failed open is a test failure and
// returns null).
std::unique_ptr<JobManager> OpenManager(JobManagerOptions options);

// Submits `spec`; a refused submission is a test failure.
JobSnapshot MustSubmit(JobManager& m, ExperimentSpec spec,
                       std::string owner = "", std::string request_id = "",
                       int priority = 0);

// Waits until `pred(snapshot)` holds, the job ends, or 60 s pass; returns
// the last snapshot.
JobSnapshot WaitFor(JobManager& m, const std::string& name,
                    const std::function<bool(const JobSnapshot&)>& pred);
JobSnapshot WaitDone(JobManager& m, const std::string& name);

// The estimate from running the engine directly on chunks [0, chunks) and
// folding them in chunk order.
CorrelatorEstimate DirectEstimate(const ExperimentSpec& spec, int64_t chunks);

void ExpectSameBits(const std::vector<double>& a, const std::vector<double>& b,
                    const char* what);
void ExpectSameEstimate(const CorrelatorEstimate& got,
                        const CorrelatorEstimate& want);

}  // namespace nnft::server::testing_util

#endif  // NNFT_SERVER_JOBS_JOB_TEST_UTIL_H_
