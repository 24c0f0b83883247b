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

#include "core/analyses/width_sweep.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "gtest/gtest.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_test_util.h"
#include "server/spec/digest.h"

namespace nnft::server {
namespace {

using testing_util::DirectEstimate;
using testing_util::ExpectSameEstimate;
using testing_util::MustSubmit;
using testing_util::OpenManager;
using testing_util::Options;
using testing_util::TempDir;
using testing_util::TinySpec;
using testing_util::WaitDone;
using testing_util::WaitFor;

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
