#include "server/jobs/job_test_util.h"

#include <unistd.h>

#include <bit>
#include <map>
#include <utility>

#include "absl/time/clock.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"

namespace nnft::server::testing_util {

TempDir::TempDir(const std::string& prefix) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  path_ = std::filesystem::path(testing::TempDir()) /
          (prefix + info->name() + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(path_);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

ExperimentSpec TinySpec(int64_t num_networks, int chunk_size, int width,
                        uint64_t seed) {
  ExperimentSpec spec;
  MlpSpec mlp;
  mlp.input_dim = 1;
  mlp.widths = {width};
  mlp.activation = Activation::kErf;
  mlp.sw = {1.5, 1.0};
  mlp.sb = {0.2, 0.1};
  spec.architecture = mlp;
  spec.points.resize(3, 1);
  spec.points << -0.5, 0.25, 1.0;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = seed;
  spec.sampling.num_networks = num_networks;
  spec.sampling.chunk_size = chunk_size;
  return spec;
}

ExperimentSpec BlockerSpec() {
  return TinySpec(int64_t{100} << 20, 1000, 64, /*seed=*/999);
}

JobManagerOptions Options(const std::string& dir) {
  return JobManagerOptions{.data_dir = dir, .worker_threads = kThreads};
}

std::unique_ptr<JobManager> OpenManager(JobManagerOptions options) {
  absl::StatusOr<std::unique_ptr<JobManager>> m = JobManager::Open(options);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

JobSnapshot MustSubmit(JobManager& m, ExperimentSpec spec, std::string owner,
                       std::string request_id, int priority) {
  absl::StatusOr<JobSnapshot> s =
      m.Submit(SubmitRequest{.spec = std::move(spec),
                             .spec_json = "{}",
                             .request_id = std::move(request_id),
                             .priority = priority,
                             .owner = std::move(owner)});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : JobSnapshot{};
}

JobSnapshot WaitFor(JobManager& m, const std::string& name,
                    const std::function<bool(const JobSnapshot&)>& pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int64_t version = 0;
  while (true) {
    absl::StatusOr<JobSnapshot> s = m.WaitForChange(name, version, deadline);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return JobSnapshot{};
    if (pred(*s) || absl::Now() >= deadline) return *s;
    if (IsTerminal(s->state)) return *s;  // nothing more will change
    version = s->version;
  }
}

JobSnapshot WaitDone(JobManager& m, const std::string& name) {
  return WaitFor(m, name,
                 [](const JobSnapshot& s) { return IsTerminal(s.state); });
}

CorrelatorEstimate DirectEstimate(const ExperimentSpec& spec, int64_t chunks) {
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return CorrelatorEstimate{};
  std::map<int64_t, ChunkSums> sums;
  EXPECT_TRUE((*engine)
                  ->RunChunks(0, chunks, kThreads,
                              [&](ChunkSums c) {
                                sums[c.chunk] = std::move(c);
                                return true;
                              })
                  .ok());
  MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed);
  for (const auto& [k, c] : sums) EXPECT_TRUE(acc.Add(c).ok());
  return acc.Finish();
}

void ExpectSameBits(const std::vector<double>& a, const std::vector<double>& b,
                    const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i]), std::bit_cast<uint64_t>(b[i]))
        << what << "[" << i << "]: " << a[i] << " vs " << b[i];
  }
}

void ExpectSameEstimate(const CorrelatorEstimate& got,
                        const CorrelatorEstimate& want) {
  EXPECT_EQ(got.tuples, want.tuples);
  ExpectSameBits(got.mean, want.mean, "mean");
  ExpectSameBits(got.stderr_mean, want.stderr_mean, "stderr_mean");
  ExpectSameBits(got.connected, want.connected, "connected");
  ExpectSameBits(got.stderr_connected, want.stderr_connected,
                 "stderr_connected");
  EXPECT_EQ(got.networks, want.networks);
  EXPECT_EQ(got.chunks, want.chunks);
}

}  // namespace nnft::server::testing_util
