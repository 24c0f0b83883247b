// End-to-end: the shipped example specs of the null-cone conformal field and
// of reflection positivity, through the real nnft-server, the C++ client and
// the `nnft` CLI, against exact values.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

v1::ExperimentSpec Example(const std::string& name, int64_t networks) {
  std::ifstream in(std::string(NNFT_EXAMPLES_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  v1::ExperimentSpec spec;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(text.str(), &spec).ok())
      << name;
  spec.mutable_sampling()->set_num_networks(networks);
  return spec;
}

class AnalysesE2eTest : public ServerTest {
 protected:
  client::JobResult Run(const v1::ExperimentSpec& spec, std::string* name) {
    absl::StatusOr<v1::Job> job = client_->Submit(spec);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return {};
    *name = job->name();
    absl::StatusOr<v1::Job> done = client_->WaitForCompletion(
        job->name(), absl::Now() + absl::Seconds(120));
    EXPECT_TRUE(done.ok() && done->state() == v1::Job::SUCCEEDED);
    absl::StatusOr<client::JobResult> result = client_->FetchResult(*name);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : client::JobResult{};
  }

  std::string Server() const { return "--server=" + server_->address(); }
};

TEST_F(AnalysesE2eTest, NullConeSphereLawMatchesExactConformalFunctionInD4) {
  std::string name;
  const client::JobResult r = Run(Example("null_cone_d4.json", 40000), &name);
  ASSERT_TRUE(r.header.has_conformal());
  const v1::ConformalResult& c = r.header.conformal();
  EXPECT_EQ(c.dimension(), 4);
  EXPECT_DOUBLE_EQ(c.mu4().exact(), 3.0 / 48);  // 3/(n(n+2)), n = 6
  ASSERT_EQ(c.four_point_size(), 15);           // C(6, 4)
  for (const auto& q : c.four_point()) {
    const double g = (1.0 / 48) * (1 + 1 / q.u() + q.v() / q.u());
    EXPECT_NEAR(q.g().exact(), g, 1e-12 * g);
    EXPECT_LT(std::abs(q.g().value() - g), 4 * q.g().stderr());
    EXPECT_LT(std::abs(q.g4().value() - q.g4().exact()), 4 * q.g4().stderr());
  }
  ASSERT_EQ(c.checks_size(), 5);
  for (const auto& k : c.checks())
    EXPECT_TRUE(k.passed()) << k.transformation();
  const CliRun cli = RunCli({Server(), "result", name});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.out, "conformal covariance")) << cli.out;
  EXPECT_TRUE(absl::StrContains(cli.out, "special_conformal")) << cli.out;
}

TEST_F(AnalysesE2eTest, ReflectionPositivityHoldsForOuNetAndFailsWithCutoff) {
  std::string ou_name, cos_name;
  const client::JobResult ou = Run(Example("rp_ou_net.json", 40000), &ou_name);
  ASSERT_TRUE(ou.header.has_reflection_positivity());
  const v1::RpMatrix& m = ou.header.reflection_positivity().two_point();
  EXPECT_EQ(m.verdict(), "holds") << m.z();
  ASSERT_TRUE(m.has_exact());
  EXPECT_GE(m.exact_eigenvalues(0), 0.0);
  EXPECT_TRUE(ou.header.reflection_positivity().has_four_point());

  const client::JobResult cut =
      Run(Example("rp_cutoff_cos_net.json", 20000), &cos_name);
  const v1::RpMatrix& c = cut.header.reflection_positivity().two_point();
  EXPECT_EQ(c.verdict(), "violated") << c.z();
  ASSERT_TRUE(c.has_exact());
  EXPECT_LT(c.exact_eigenvalues(0), -0.02);
  EXPECT_LT(std::abs(c.min_eigenvalue() - c.exact_eigenvalues(0)),
            4 * c.min_stderr());
  const CliRun cli = RunCli({Server(), "result", cos_name});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.out, "verdict: violated")) << cli.out;
}

}  // namespace
}  // namespace nnft::e2e
