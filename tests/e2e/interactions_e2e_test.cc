// End-to-end: the interaction features through the real server, the C++
// client and the `nnft` CLI. A phi^4-reweighted box cos-net (streamed
// JobUpdates carry the weights' summary; the result's shift agrees with the
// tadpole), effective couplings of a ReLU net (running slope near -5), the
// deformed density (G2, G4_c against exact), and bad input answered with
// INVALID_ARGUMENT naming the field.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

v1::ExperimentSpec FromJson(const std::string& json) {
  v1::ExperimentSpec spec;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &spec).ok())
      << json;
  return spec;
}

constexpr char kPhi4[] = R"({
  "architecture": {"cosNet": {"inputDim": 1, "width": 2000, "mass": 1.0,
                              "cutoff": 5.0, "boxSide": 4.0}},
  "points": [{"x": [0.0]}, {"x": [0.7]}, {"x": [2.0]}],
  "observables": {"orders": [2]},
  "sampling": {"seed": "5", "numNetworks": "40000", "chunkSize": 2000},
  "insertion": {"lambda": 0.05}
})";

class InteractionsE2eTest : public ServerTest {};

TEST_F(InteractionsE2eTest, Phi4ReweightingStreamsAndMatchesTheTadpole) {
  absl::StatusOr<v1::Job> job = client_->Submit(FromJson(kPhi4));
  ASSERT_TRUE(job.ok()) << job.status();
  int updates_with_weights = 0;
  absl::StatusOr<v1::Job> done = client_->WaitForCompletion(
      job->name(), absl::Now() + absl::Minutes(4), [&](const v1::JobUpdate& u) {
        if (u.has_reweight() && u.reweight().ess() > 0) ++updates_with_weights;
        return true;
      });
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED);
  EXPECT_GT(updates_with_weights, 0);
  absl::StatusOr<client::JobResult> r = client_->FetchResult(job->name());
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::ReweightSummary& w = r->header.reweight();
  EXPECT_NEAR(w.lambda(), 0.05, 1e-15);
  EXPECT_GT(w.ess_fraction(), 0.5);
  EXPECT_FALSE(w.ess_warning());
  const v1::ReweightEntries& e = r->entries.reweight();
  ASSERT_EQ(e.shift_size(), 6);
  for (int i = 0; i < e.shift_size(); ++i) {
    // 4.5 standard errors (see core/theory/interactions_test.cc for the
    // budget).
    EXPECT_LT(std::abs(e.shift(i) - e.first_order_shift(i)),
              4.5 * e.shift_stderr(i))
        << i << ": " << e.shift(i) << " +- " << e.shift_stderr(i) << " vs "
        << e.first_order_shift(i);
  }
  // The CLI shows the reweighting table and the summary line.
  CliRun table = RunCli({Server(), "result", job->name()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(absl::StrContains(table.out, "# phi^4 reweighting: lambda=0.05"))
      << table.out;
  EXPECT_TRUE(absl::StrContains(table.out, "1st order")) << table.out;
}

TEST_F(InteractionsE2eTest, CliSubmitsEffectiveCouplingsAndShowsTheRunning) {
  const std::string path = tmp_.path() + "/relu.json";
  WriteFile(path, R"({
    "architecture": {"mlp": {"inputDim": 1, "widths": [10],
                             "activation": "ACTIVATION_RELU"}},
    "points": [{"x": [0.5]}, {"x": [1.0]}, {"x": [1.5]}, {"x": [2.0]},
               {"x": [2.5]}, {"x": [3.0]}],
    "observables": {"orders": [2, 4]},
    "sampling": {"seed": "3", "numNetworks": "100000", "chunkSize": 1000,
                 "integrateOutputLayer": true},
    "effectiveCoupling": {"cutoffs": [1.0, 1.5, 2.0, 2.5, 3.0, 4.0]}
  })");
  CliRun submit = RunCli({Server(), "submit", path, "--watch"});
  ASSERT_EQ(submit.exit_code, 0) << submit.out << submit.err;
  std::string name;
  for (const auto& line : std::vector<std::string>{submit.out}) {
    const size_t at = line.find("jobs/");
    if (at != std::string::npos)
      name = line.substr(at, line.find('\n', at) - at);
  }
  ASSERT_FALSE(name.empty()) << submit.out;
  CliRun table = RunCli({Server(), "result", name});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(absl::StrContains(table.out, "# running: d log|lambda|"))
      << table.out;
  absl::StatusOr<client::JobResult> r = client_->FetchResult(name);
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::EffectiveCouplingResult& ec = r->header.effective_coupling();
  ASSERT_TRUE(ec.error().empty()) << ec.error();
  ASSERT_EQ(ec.lambda_size(), 6);
  // phi = x Z on x > 0: the slope is -5 to rounding (core test explains).
  EXPECT_LT(std::abs(ec.slope() + 5), std::max(3 * ec.slope_stderr(), 1e-9))
      << ec.slope() << " +- " << ec.slope_stderr();
}

TEST_F(InteractionsE2eTest, DeformedDensityMatchesExactThroughTheService) {
  v1::ExperimentSpec spec = FromJson(R"({
    "architecture": {"mlp": {"inputDim": 1, "widths": [4],
                             "activation": "ACTIVATION_ERF", "sw": [1.5, 1.0],
                             "sb": [0.3, 0.0],
                             "deformation": {"s": 1.0, "lambda": 1.0}}},
    "points": [{"x": [-0.8]}, {"x": [0.4]}, {"x": [1.2]}],
    "observables": {"orders": [2, 4]},
    "sampling": {"seed": "11", "numNetworks": "100000", "chunkSize": 2000}
  })");
  absl::StatusOr<v1::Job> job = client_->Submit(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_TRUE(client_->WaitForCompletion(job->name()).ok());
  absl::StatusOr<client::JobResult> r = client_->FetchResult(job->name());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->header.has_exact());
  EXPECT_EQ(r->header.vs_exact().dof(), 21);
  EXPECT_LT(r->header.vs_exact().max_abs_z(), 4.5);
  EXPECT_LT(r->header.vs_exact_connected().max_abs_z(), 4.5);
}

TEST_F(InteractionsE2eTest, BadInteractionInputIsInvalidArgument) {
  struct Case {
    std::string json, word;
  };
  const std::vector<Case> cases = {
      {R"({"architecture": {"mlp": {"inputDim": 1, "widths": [4],
           "activation": "ACTIVATION_ERF",
           "deformation": {"s": 1.0, "lambda": -0.5}}},
           "points": [{"x": [0.1]}]})",
       "deformation.lambda"},
      {R"({"architecture": {"cosNet": {"inputDim": 1, "width": 10,
           "cutoff": 5.0, "boxSide": 1.0}}, "points": [{"x": [0.1]}]})",
       "too small for the cutoff"},
      {R"({"architecture": {"cosNet": {"inputDim": 1, "width": 10,
           "cutoff": 5.0, "boxSide": 4.0}}, "points": [{"x": [0.1]}],
           "insertion": {"lambda": -1.0}})",
       "insertion.lambda"},
      {R"({"architecture": {"cosNet": {"inputDim": 1, "width": 10}},
           "points": [{"x": [0.1]}], "insertion": {"lambda": 1.0}})",
       "box_side > 0"},
      {R"({"architecture": {"mlp": {"inputDim": 1, "widths": [4],
           "activation": "ACTIVATION_RELU"}},
           "points": [{"x": [0.5]}, {"x": [1.0]}],
           "effectiveCoupling": {"amputatedVertex": true}})",
       "singular"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::Job> job = client_->Submit(FromJson(c.json));
    ASSERT_FALSE(job.ok()) << c.word;
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument)
        << job.status();
    EXPECT_TRUE(absl::StrContains(job.status().message(), c.word))
        << job.status();
  }
}

}  // namespace
}  // namespace nnft::e2e
