// End-to-end: the architectures beyond the plain MLP (conv1d, attention, KAN,
// residual MLP, g(Wx)) through the real nnft-server. Each shipped example
// file (deploy/examples) is submitted with the C++ client at a reduced number
// of networks; the served result equals the core's own answer bit for bit,
// and where the theory is exact at every width (one-layer conv1d, KAN,
// attention's G2 at every head count) the 2-point z-scores against it are
// below 5. One example also goes through the
// `nnft` CLI (submit --watch, then result).
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/spec/spec_proto.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

std::string Example(const std::string& name) {
  return std::string(NNFT_EXAMPLES_DIR) + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ArchE2eTest : public ServerTest {};

TEST_F(ArchE2eTest, ExamplesMatchTheCoreBitForBit) {
  struct Case {
    std::string file;
    bool exact_g2;  // theory exact at every width
  };
  const Case cases[] = {{"conv1d.json", true},
                        {"attention.json", true},
                        {"kan.json", true},
                        {"residual_mlp.json", false},
                        {"rotation_invariant.json", false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    absl::StatusOr<v1::ExperimentSpec> proto =
        server::SpecProtoFromJson(ReadFile(Example(c.file)));
    ASSERT_TRUE(proto.ok()) << proto.status();
    proto->mutable_sampling()->set_num_networks(8 * 500);
    proto->mutable_sampling()->set_chunk_size(500);
    absl::StatusOr<v1::Job> job = client_->Submit(*proto);
    ASSERT_TRUE(job.ok()) << job.status();
    absl::StatusOr<v1::Job> done = client_->WaitForCompletion(
        job->name(), absl::Now() + absl::Seconds(120));
    ASSERT_TRUE(done.ok()) << done.status();
    ASSERT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();
    absl::StatusOr<client::JobResult> served =
        client_->FetchResult(job->name());
    ASSERT_TRUE(served.ok()) << served.status();
    absl::StatusOr<ExperimentSpec> core_spec = server::SpecFromProto(*proto);
    ASSERT_TRUE(core_spec.ok()) << core_spec.status();
    absl::StatusOr<CorrelatorEstimate> core = CoreEstimate(*core_spec, 8);
    ASSERT_TRUE(core.ok()) << core.status();
    const std::vector<std::string> diffs = BitDifferences(*served, *core);
    EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences";
    if (!c.exact_g2) continue;
    const v1::EntryBlock& e = served->entries;
    int checked = 0;
    for (int i = 0; i < e.estimate().tuples_size(); ++i) {
      if (e.estimate().tuples(i).index_size() != 2) continue;
      EXPECT_LT(std::abs(e.z_gp(i)), 5.0) << "tuple " << i;
      ++checked;
    }
    EXPECT_EQ(checked, 3);
  }
}

TEST_F(ArchE2eTest, CliSubmitsAConvNetAndPrintsItsResult) {
  const std::string server = "--server=" + server_->address();
  CliRun submit = RunCli({server, "submit", Example("conv1d.json"), "--watch"});
  ASSERT_EQ(submit.exit_code, 0) << submit.out << submit.err;
  EXPECT_TRUE(absl::StrContains(submit.out, "SUCCEEDED")) << submit.out;
  CliRun info = RunCli({server, "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* a : {"conv1d", "attention", "kan"}) {
    EXPECT_TRUE(absl::StrContains(info.out, a)) << info.out;
  }
}

}  // namespace
}  // namespace nnft::e2e
