// Width sweeps in the job manager: each width under its own digest, shared
// with single-width jobs both ways; progress, cancel, resume; the result's
// per-width estimates have the engine's bits and the fits the exact slopes.
#include <signal.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/estimate.h"
#include "core/width_sweep.h"
#include "gtest/gtest.h"
#include "server/digest.h"
#include "server/job_manager.h"

namespace nnft::server {
namespace {

constexpr int kThreads = 2;

class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(testing::TempDir()) /
            (std::string("nnft_jobs_") + info->name() + "_" +
             std::to_string(getpid()));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A small erf net at three points: G2 and G4 over every tuple.
ExperimentSpec TinySpec(int64_t num_networks, int chunk_size = 100,
                        int width = 8, uint64_t seed = 7) {
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

// A job that cannot finish during a test: keeps the single runner busy.
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

JobSnapshot MustSubmit(JobManager& m, ExperimentSpec spec,
                       std::string owner = "", std::string request_id = "",
                       int priority = 0) {
  absl::StatusOr<JobSnapshot> s =
      m.Submit(SubmitRequest{.spec = std::move(spec),
                             .spec_json = "{}",
                             .request_id = std::move(request_id),
                             .priority = priority,
                             .owner = std::move(owner)});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : JobSnapshot{};
}

// Waits until `pred(snapshot)` holds (or 60 s pass) and returns the snapshot.
JobSnapshot WaitFor(JobManager& m, const std::string& name,
                    const std::function<bool(const JobSnapshot&)>& pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int64_t version = 0;
  while (true) {
    absl::StatusOr<JobSnapshot> s = m.WaitForChange(name, version, deadline);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok() || pred(*s) || absl::Now() >= deadline) return *s;
    if (IsTerminal(s->state)) return *s;  // nothing more will change
    version = s->version;
  }
}

JobSnapshot WaitDone(JobManager& m, const std::string& name) {
  return WaitFor(m, name,
                 [](const JobSnapshot& s) { return IsTerminal(s.state); });
}

// The estimate from running the engine directly and folding in chunk order.
CorrelatorEstimate DirectEstimate(const ExperimentSpec& spec, int64_t chunks) {
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
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

// An erf sweep at two points with G4 and G6 tuples, output layer integrated.
ExperimentSpec SweepSpec(std::vector<int> widths, int64_t num_networks,
                         int chunk_size = 500) {
  ExperimentSpec spec = TinySpec(num_networks, chunk_size);
  spec.points.resize(2, 1);
  spec.points << 0.5, -1.0;
  spec.observables.orders = {2, 4, 6};
  spec.observables.tuples = {{0, 1}, {0, 0, 1, 1}, {0, 0, 0, 1, 1, 1}};
  spec.sampling.integrate_output_layer = true;
  spec.width_sweep = std::move(widths);
  return spec;
}

TEST(JobSweepTest, EachWidthUsesItsOwnDigestSharedWithSingleJobs) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const ExperimentSpec sweep = SweepSpec({8, 2, 4}, 20000);
  const int64_t k = NumChunks(sweep.sampling);
  // A single job at N = 4 first: the sweep finds its chunks stored.
  const JobSnapshot single = MustSubmit(*m, SweepWidthSpec(sweep, 4));
  EXPECT_EQ(WaitDone(*m, single.name).state, JobState::kSucceeded);
  const JobSnapshot job = MustSubmit(*m, sweep);
  EXPECT_EQ(job.chunks_total, 3 * k);
  ASSERT_EQ(job.sweep.size(), 3u);
  EXPECT_EQ(job.sweep[1].digest, single.digest);
  const JobSnapshot done = WaitDone(*m, job.name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.chunks_done, 3 * k);
  EXPECT_EQ(done.chunks_from_store, k);
  for (const SweepWidthSnapshot& w : done.sweep) {
    EXPECT_EQ(w.chunks_done, k);
    ASSERT_TRUE(w.estimate.has_value());
    ASSERT_NE(w.theory, nullptr);
    EXPECT_TRUE(w.theory->has_exact);
  }
  absl::StatusOr<JobResult> result = m->Result(job.name);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->sweep.has_value());
  const SweepResult& r = *result->sweep;
  ASSERT_EQ(r.widths.size(), 3u);
  const int want_widths[] = {2, 4, 8};
  for (int w = 0; w < 3; ++w) {
    SCOPED_TRACE(want_widths[w]);
    EXPECT_EQ(r.widths[w].width, want_widths[w]);
    const ExperimentSpec one = SweepWidthSpec(sweep, want_widths[w]);
    EXPECT_EQ(r.widths[w].digest, SpecDigest(one));
    ExpectSameEstimate(r.widths[w].estimate, DirectEstimate(one, k));
    // Exact finite-width theory beside each width: G2, G4_c and G6_c.
    EXPECT_EQ(r.widths[w].vs_exact_connected.dof, 3);
    EXPECT_LT(r.widths[w].vs_exact_connected.max_abs_z, 4.0);
  }
  ASSERT_EQ(r.analysis.fits.size(), 2u);
  EXPECT_EQ(r.analysis.fits[0].order, 4);
  EXPECT_EQ(r.analysis.fits[1].order, 6);
  for (const PowerLawFit& fit : r.analysis.fits) {
    EXPECT_LT(std::abs(fit.z), 3.0)
        << fit.order << ": " << fit.exponent << " +- " << fit.exponent_stderr;
  }
  // And a later single job at N = 8 is answered from the sweep's chunks.
  const JobSnapshot later = MustSubmit(*m, SweepWidthSpec(sweep, 8));
  EXPECT_EQ(later.state, JobState::kSucceeded);
  EXPECT_EQ(later.chunks_from_store, k);
}

TEST(JobSweepTest, CancelStopsTheSweep) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  ExperimentSpec spec = SweepSpec({64, 128}, int64_t{1} << 30, 1000);
  const JobSnapshot job = MustSubmit(*m, spec);
  WaitFor(*m, job.name,
          [](const JobSnapshot& s) { return s.chunks_done >= 2; });
  ASSERT_TRUE(m->Cancel(job.name).ok());
  const JobSnapshot done = WaitDone(*m, job.name);
  EXPECT_EQ(done.state, JobState::kCancelled);
  EXPECT_EQ(m->Result(job.name).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(JobSweepTest, ResumesAfterRestartWithTheSameBits) {
  TempDir dir;
  const ExperimentSpec sweep = SweepSpec({3, 6}, 200000, 1000);
  const int64_t k = NumChunks(sweep.sampling);
  std::string name;
  {
    auto m = OpenManager(Options(dir.path()));
    name = MustSubmit(*m, sweep).name;
    const JobSnapshot s = WaitFor(*m, name, [&](const JobSnapshot& s) {
      return s.chunks_done >= k + 5 || IsTerminal(s.state);
    });
    EXPECT_FALSE(IsTerminal(s.state)) << "ran to the end before the restart";
  }  // drained: the job stays queued
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot done = WaitDone(*m, name);
  ASSERT_EQ(done.state, JobState::kSucceeded) << done.error;
  EXPECT_EQ(done.chunks_total, 2 * k);
  EXPECT_GE(done.chunks_from_store, k);
  absl::StatusOr<JobResult> result = m->Result(name);
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectSameEstimate(result->sweep->widths[1].estimate,
                     DirectEstimate(SweepWidthSpec(sweep, 6), k));
}

TEST(JobSweepTest, RejectsTargetStderrAndBadWidths) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  absl::StatusOr<JobSnapshot> s = m->Submit(SubmitRequest{
      .spec = SweepSpec({2, 4}, 2000), .spec_json = "{}", .target_stderr = 1});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("with width_sweep"), std::string::npos);
  s = m->Submit(
      SubmitRequest{.spec = SweepSpec({2, 2}, 2000), .spec_json = "{}"});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("width_sweep.widths[1] = 2: repeated"),
            std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace nnft::server
