// End-to-end: bad input over the wire gets the right status code and a
// message naming the field, the server survives it, and a job running
// meanwhile finishes with the core's bits. Also the CLI against the real
// server: `nnft submit --watch`, then `nnft result --format csv` parses and
// carries the served numbers exactly.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

class WireE2eTest : public ServerTest {
 protected:
  // Submits `spec` and expects `code` with every `words` in the message.
  void ExpectRejected(const v1::ExperimentSpec& spec, absl::StatusCode code,
                      const std::vector<std::string>& words,
                      const std::string& what) {
    absl::StatusOr<v1::Job> job = client_->Submit(spec);
    ASSERT_FALSE(job.ok()) << what << " was accepted";
    EXPECT_EQ(job.status().code(), code) << what << ": " << job.status();
    for (const std::string& word : words) {
      EXPECT_TRUE(absl::StrContains(job.status().message(), word))
          << what << ": message lacks '" << word << "': " << job.status();
    }
  }
};

TEST_F(WireE2eTest, BadInputGetsTheRightStatusAndLeavesARunningJobAlone) {
  const SmallSpec running_spec{
      .width = 1024, .seed = 17, .chunk_size = 1000, .num_chunks = 40};
  absl::StatusOr<v1::Job> running = client_->Submit(running_spec.Proto());
  ASSERT_TRUE(running.ok()) << running.status();

  // Malformed JSON and a misspelt field never leave the CLI (exit 2).
  const std::string malformed = tmp_.path() + "/malformed.json";
  WriteFile(malformed, "{\"architecture\": {\"mlp\": ");
  CliRun cli = RunCli({Server(), "submit", malformed});
  EXPECT_EQ(cli.exit_code, 2) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.err, "INVALID_ARGUMENT")) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.err, malformed)) << cli.err;
  const std::string misspelt = tmp_.path() + "/misspelt.json";
  WriteFile(misspelt, R"({"architecture": {"mlp": {"widthz": [8]}}})");
  cli = RunCli({Server(), "submit", misspelt});
  EXPECT_EQ(cli.exit_code, 2) << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.err, "widthz")) << cli.err;

  const SmallSpec base{
      .width = 8, .seed = 1, .chunk_size = 100, .num_chunks = 2};
  v1::ExperimentSpec spec = base.Proto();
  spec.clear_architecture();
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"architecture"},
                 "unset architecture");
  spec = base.Proto();
  spec.mutable_architecture()->mutable_mlp()->set_widths(0, 0);
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"widths[0]"},
                 "width 0");
  spec = base.Proto();
  spec.mutable_architecture()->mutable_mlp()->clear_activation();
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"activation"},
                 "unset activation");
  spec = base.Proto();
  spec.mutable_sampling()->set_chunk_size(0);
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"chunk_size"},
                 "chunk_size 0");
  spec = base.Proto();
  spec.mutable_observables()->add_orders(7);
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"orders"},
                 "order 7");
  spec = base.Proto();
  spec.mutable_points(1)->add_x(3.0);
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"points[1]"},
                 "ragged points");
  spec = base.Proto();
  spec.mutable_observables()->set_orders(0, 2);
  spec.mutable_observables()->set_orders(1, 6);
  for (int i = 0; i < 4097; ++i) spec.add_points()->add_x(0.001 * i);
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument, {"points"},
                 "4100 points");

  // Free text is bounded (1024 bytes), whatever the field.
  spec = base.Proto();
  spec.set_label(std::string(1 << 20, 'x'));
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument,
                 {"spec.label", "1048576 bytes", "at most 1024"},
                 "1 MiB label");
  spec = base.Proto();
  v1::SymmetryCheck* check = spec.add_symmetry_checks();
  check->set_phi_sign_flip(true);
  check->set_label(std::string(2000, 'y'));
  ExpectRejected(spec, absl::StatusCode::kInvalidArgument,
                 {"spec.symmetry_checks[0].label", "at most 1024"},
                 "2000-byte check label");

  // An oversized ComputeKernel answer (tanh, 30 points, orders 2, 4, 6:
  // 1.66 million tuples) is refused from the spec's counts.
  spec = base.Proto();
  spec.mutable_architecture()->mutable_mlp()->set_activation(
      v1::ACTIVATION_TANH);
  spec.mutable_observables()->clear_orders();
  for (int order : {2, 4, 6}) spec.mutable_observables()->add_orders(order);
  spec.clear_points();
  for (int i = 0; i < 30; ++i) spec.add_points()->add_x(0.1 * i);
  const absl::Time kernel_start = absl::Now();
  absl::StatusOr<v1::ComputeKernelResponse> kernel = client_->Kernel(spec);
  const absl::Duration kernel_time = absl::Now() - kernel_start;
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument)
      << kernel.status();
  EXPECT_TRUE(absl::StrContains(kernel.status().message(), "1664545 tuples"))
      << kernel.status();
  std::cout << "oversized ComputeKernel refused in "
            << absl::FormatDuration(kernel_time) << "\n";

  // A request over gRPC's 4 MiB message limit is refused by the transport or
  // by the service; either way not accepted.
  spec = base.Proto();
  for (int i = 0; i < 600000; ++i) spec.mutable_points(0)->add_x(1.0);
  absl::StatusOr<v1::Job> oversize = client_->Submit(spec);
  ASSERT_FALSE(oversize.ok());
  EXPECT_TRUE(oversize.status().code() ==
                  absl::StatusCode::kResourceExhausted ||
              oversize.status().code() == absl::StatusCode::kInvalidArgument)
      << oversize.status();

  absl::StatusOr<v1::Job> bad_priority =
      client_->Submit(base.Proto(), "", 5000);
  EXPECT_EQ(bad_priority.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_priority.status().message(), "priority"))
      << bad_priority.status();

  // request_id reused with another spec.
  ASSERT_TRUE(client_->Submit(base.Proto(), "rid-1").ok());
  v1::ExperimentSpec other = base.Proto();
  other.mutable_sampling()->set_seed(2);
  EXPECT_EQ(client_->Submit(other, "rid-1").status().code(),
            absl::StatusCode::kAlreadyExists);

  const std::string unknown = "jobs/0123456789abcdef";
  absl::StatusOr<v1::Job> missing = client_->Get(unknown);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), unknown))
      << missing.status();
  EXPECT_EQ(client_->Cancel(unknown).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->FetchResult(unknown).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Watch(unknown, {}).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Job> malformed_name = client_->Get("not-a-job");
  EXPECT_EQ(malformed_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(malformed_name.status().message(), "name"))
      << malformed_name.status();

  // A page token the server never issued.
  absl::StatusOr<v1::ListJobsResponse> page = client_->List(1, "xyz");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(page.status().message(), "page_token"))
      << page.status();
  EXPECT_EQ(client_->List(5000).status().code(),
            absl::StatusCode::kInvalidArgument);

  // The server is alive and the running job finishes with the core's bits.
  ASSERT_TRUE(client_->Info().ok());
  absl::StatusOr<v1::Job> done = client_->WaitForCompletion(
      running->name(), absl::Now() + absl::Seconds(60));
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();
  absl::StatusOr<client::JobResult> served =
      client_->FetchResult(running->name());
  ASSERT_TRUE(served.ok()) << served.status();
  absl::StatusOr<CorrelatorEstimate> core =
      CoreEstimate(running_spec.Core(), running_spec.num_chunks);
  ASSERT_TRUE(core.ok()) << core.status();
  const std::vector<std::string> diffs = BitDifferences(*served, *core);
  EXPECT_TRUE(diffs.empty()) << diffs.front();
}

// "key: value" from the CLI's job output.
std::string Field(const std::string& out, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, key + ":")) {
      return std::string(
          absl::StripAsciiWhitespace(line.substr(key.size() + 1)));
    }
  }
  return "";
}

TEST_F(WireE2eTest, CliSubmitWatchThenResultCsvParses) {
  const SmallSpec spec{
      .width = 32, .seed = 18, .chunk_size = 250, .num_chunks = 12};
  std::string json;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(spec.Proto(), &json).ok());
  const std::string path = tmp_.path() + "/spec.json";
  WriteFile(path, json);

  CliRun submit = RunCli({Server(), "submit", path, "--watch"});
  ASSERT_EQ(submit.exit_code, 0) << submit.out << submit.err;
  const std::string name = Field(submit.out, "name");
  ASSERT_TRUE(absl::StartsWith(name, "jobs/")) << submit.out;
  EXPECT_EQ(Field(submit.out, "state"), "SUCCEEDED") << submit.out;
  // Not a terminal: plain progress lines on stderr, ending with the total.
  EXPECT_TRUE(absl::StrContains(submit.err, name + " SUCCEEDED 12/12 chunks"))
      << submit.err;

  CliRun csv = RunCli({Server(), "result", name, "--format=csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines =
      absl::StrSplit(csv.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u);
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  ASSERT_GE(header.size(), 6u);
  EXPECT_EQ(header[0], "tuple");
  EXPECT_EQ(header[2], "mean");
  EXPECT_EQ(header[3], "stderr");
  EXPECT_EQ(header[4], "connected");

  absl::StatusOr<client::JobResult> served = client_->FetchResult(name);
  ASSERT_TRUE(served.ok()) << served.status();
  const v1::Estimate& est = served->entries.estimate();
  ASSERT_EQ(static_cast<int>(lines.size()) - 1, est.tuples_size());
  for (int i = 0; i < est.tuples_size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i + 1], ',');
    ASSERT_EQ(cells.size(), header.size()) << lines[i + 1];
    EXPECT_EQ(cells[0], absl::StrJoin(est.tuples(i).index(), " "));
    EXPECT_EQ(std::strtod(cells[2].c_str(), nullptr), est.mean(i));
    EXPECT_EQ(std::strtod(cells[3].c_str(), nullptr), est.stderr(i));
    EXPECT_EQ(std::strtod(cells[4].c_str(), nullptr), est.connected(i));
  }

  // The other commands answer too.
  EXPECT_EQ(RunCli({Server(), "result", name}).exit_code, 0);
  EXPECT_EQ(RunCli({Server(), "result", name, "--format=json"}).exit_code, 0);
  CliRun list = RunCli({Server(), "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(list.out, name)) << list.out;
  EXPECT_EQ(RunCli({Server(), "get", name}).exit_code, 0);
  EXPECT_EQ(RunCli({Server(), "info"}).exit_code, 0);
  EXPECT_EQ(RunCli({Server(), "kernel", path}).exit_code, 0);
  CliRun missing = RunCli({Server(), "get", "jobs/0123456789abcdef"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "NOT_FOUND")) << missing.err;
  EXPECT_EQ(RunCli({Server(), "frobnicate"}).exit_code, 2);
}

}  // namespace
}  // namespace nnft::e2e
