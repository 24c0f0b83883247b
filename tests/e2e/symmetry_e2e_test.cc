// End-to-end symmetry checks against the real server: the shipped example
// experiments (deploy/examples) through the C++ client and the `nnft` CLI.
// Rotation invariance of a Gaussian-first-layer erf net in d = 3 holds and
// fails detectably with an anisotropic first layer; SO(5) invariance of a
// Gauss-net with d_out = 5 holds and breaks with shifted output-row means;
// a rotation that is not one gets INVALID_ARGUMENT naming the field.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/spec/spec_proto.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

std::string ExamplePath(const std::string& name) {
  return absl::StrCat(NNFT_SOURCE_DIR, "/deploy/examples/", name);
}

v1::ExperimentSpec LoadExample(const std::string& name) {
  std::ifstream in(ExamplePath(name));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<v1::ExperimentSpec> spec =
      server::SpecProtoFromJson(text.str());
  EXPECT_TRUE(spec.ok()) << name << ": " << spec.status();
  return spec.ok() ? *spec : v1::ExperimentSpec();
}

// "submitted jobs/ID (...)" on the CLI's stderr.
std::string JobName(const CliRun& run) {
  const size_t at = run.err.find("jobs/");
  if (at == std::string::npos) return "";
  return run.err.substr(at, run.err.find_first_of(" \n\t", at) - at);
}

class SymmetryE2eTest : public ServerTest {
 protected:
  v1::ResultHeader Run(const v1::ExperimentSpec& spec) {
    absl::StatusOr<v1::Job> job = client_->Submit(spec);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return {};
    absl::StatusOr<v1::Job> done = client_->WaitForCompletion(job->name());
    EXPECT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();
    absl::StatusOr<client::JobResult> result =
        client_->FetchResult(job->name());
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->header : v1::ResultHeader();
  }
};

TEST_F(SymmetryE2eTest, RotationInvarianceHoldsAndAnisotropyBreaksIt) {
  const v1::ResultHeader iso = Run(LoadExample("rotation_erf_3d.json"));
  // Checks: rotation, x <-> y, z -> -z, a translation. The erf kernel
  // depends on x.y, |x|, |y|: O(3) invariant, not translation invariant.
  ASSERT_EQ(iso.symmetry_size(), 4);
  for (int c = 0; c < 3; ++c) {
    const v1::SymmetryResult& r = iso.symmetry(c);
    EXPECT_TRUE(r.consistent()) << r.kind() << " max|z| " << r.max_abs_z();
    EXPECT_GT(r.dof(), 0) << r.kind();
  }
  EXPECT_EQ(iso.symmetry(0).kind(), "rotation");
  EXPECT_EQ(iso.symmetry(3).kind(), "translation");
  EXPECT_FALSE(iso.symmetry(3).consistent());
  // sw0_axes = (1, 1, 2) is the isotropic net at (x, y, 2z): rotations that
  // mix z break, x <-> y and z -> -z still hold.
  const v1::ResultHeader aniso =
      Run(LoadExample("rotation_erf_3d_anisotropic.json"));
  ASSERT_EQ(aniso.symmetry_size(), 4);
  EXPECT_FALSE(aniso.symmetry(0).consistent());
  EXPECT_GT(aniso.symmetry(0).max_abs_z(), 2 * aniso.symmetry(0).z_threshold());
  // The joint test over the differences' covariance agrees: invariances
  // pass at 1%, the broken rotation and translation fail far below it.
  for (const v1::ResultHeader* h : {&iso, &aniso}) {
    for (const v1::SymmetryResult& r : h->symmetry()) {
      if (r.dof() == 0) continue;  // exact per network: nothing to test
      ASSERT_TRUE(std::isfinite(r.p_value())) << r.kind();
      EXPECT_GT(r.hotelling_t2(), 0) << r.kind();
      EXPECT_EQ(r.p_value() > 0.01, r.consistent())
          << r.kind() << " p " << r.p_value();
    }
  }
  EXPECT_LT(aniso.symmetry(0).p_value(), 1e-6);
  EXPECT_TRUE(aniso.symmetry(1).consistent()) << aniso.symmetry(1).max_abs_z();
  EXPECT_TRUE(aniso.symmetry(2).consistent()) << aniso.symmetry(2).max_abs_z();
}

TEST_F(SymmetryE2eTest, SoFiveInvarianceOfAGaussNetAndItsBreaking) {
  const v1::ResultHeader so5 = Run(LoadExample("so5_gauss_net.json"));
  ASSERT_EQ(so5.symmetry_size(), 3);
  EXPECT_EQ(so5.symmetry(0).kind(), "output_rotation");
  EXPECT_TRUE(so5.symmetry(0).consistent()) << so5.symmetry(0).max_abs_z();
  EXPECT_EQ(so5.symmetry(0).dof(), 65);
  EXPECT_TRUE(so5.symmetry(1).consistent());  // phi -> -phi
  EXPECT_TRUE(so5.symmetry(2).consistent());  // Gauss-net: translations
  const v1::ResultHeader shifted =
      Run(LoadExample("so5_gauss_net_shifted.json"));
  EXPECT_FALSE(shifted.symmetry(0).consistent());
  EXPECT_GT(shifted.symmetry(0).max_abs_z(),
            2 * shifted.symmetry(0).z_threshold());
}

// The checks stream with the estimate: watchers see verdicts while chunks
// fold, and the last update's checks are the result's.
TEST_F(SymmetryE2eTest, ChecksStreamAsTheEstimateSharpens) {
  v1::ExperimentSpec spec = LoadExample("rotation_erf_3d.json");
  spec.mutable_sampling()->set_seed(spec.sampling().seed() + 1);  // not stored
  absl::StatusOr<v1::Job> job = client_->Submit(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  std::vector<v1::JobUpdate> with_checks;
  absl::StatusOr<v1::Job> done =
      client_->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(120),
                                 [&](const v1::JobUpdate& u) {
                                   if (u.symmetry_size() > 0)
                                     with_checks.push_back(u);
                                   return true;
                                 });
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED);
  ASSERT_FALSE(with_checks.empty()) << "no update carried the checks";
  const v1::JobUpdate& last = with_checks.back();
  ASSERT_EQ(last.symmetry_size(), spec.symmetry_checks_size());
  absl::StatusOr<client::JobResult> result = client_->FetchResult(job->name());
  ASSERT_TRUE(result.ok()) << result.status();
  const v1::ResultHeader& header = result->header;
  ASSERT_EQ(header.symmetry_size(), last.symmetry_size());
  if (last.job().progress().chunks_done() == header.chunks()) {
    for (int c = 0; c < header.symmetry_size(); ++c) {
      EXPECT_EQ(last.symmetry(c).max_abs_z(), header.symmetry(c).max_abs_z());
      EXPECT_EQ(last.symmetry(c).consistent(), header.symmetry(c).consistent());
    }
  }
  // Verdicts of partial prefixes come with their own (larger) errors.
  for (const v1::JobUpdate& u : with_checks) {
    EXPECT_GT(u.symmetry(0).dof(), 0);
    EXPECT_LE(u.job().progress().chunks_done(), header.chunks());
  }
}

TEST_F(SymmetryE2eTest, NonRotationsAreInvalidArgument) {
  v1::ExperimentSpec spec = LoadExample("rotation_erf_3d.json");
  auto* values = spec.mutable_symmetry_checks(0)->mutable_rotation();
  values->set_values(0, values->values(0) * 1.01);
  absl::StatusOr<v1::Job> job = client_->Submit(spec);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      absl::StrContains(job.status().message(), "symmetry_checks[0].rotation"))
      << job.status();
  spec = LoadExample("so5_gauss_net.json");
  spec.mutable_symmetry_checks(0)->mutable_output_rotation()->clear_values();
  for (int i = 0; i < 25; ++i) {
    spec.mutable_symmetry_checks(0)->mutable_output_rotation()->add_values(
        i % 6 == 0 && i != 24 ? 1.0 : 0.0);  // singular
  }
  job = client_->Submit(spec);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(job.status().message(),
                                "symmetry_checks[0].output_rotation"))
      << job.status();
}

TEST_F(SymmetryE2eTest, CliPrintsTheChecksAndTheClusterTable) {
  const std::string server = "--server=" + server_->address();
  CliRun submit = RunCli(
      {server, "submit", ExamplePath("cluster_gauss_net.json"), "--watch"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string name = JobName(submit);
  ASSERT_FALSE(name.empty()) << submit.err;
  CliRun result = RunCli({server, "result", name, "--format", "table"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(absl::StrContains(result.out, "# cluster check pairs at 0 and s"))
      << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "finite width")) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "# preferred: ")) << result.out;
  CliRun so5 =
      RunCli({server, "submit", ExamplePath("so5_gauss_net.json"), "--watch"});
  ASSERT_EQ(so5.exit_code, 0) << so5.err;
  const std::string name5 = JobName(so5);
  CliRun table = RunCli({server, "result", name5, "--format", "table"});
  EXPECT_TRUE(absl::StrContains(table.out, "output_rotation")) << table.out;
  EXPECT_TRUE(absl::StrContains(table.out, "invariant")) << table.out;
}

}  // namespace
}  // namespace nnft::e2e
