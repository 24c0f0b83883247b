// End-to-end width sweeps: the real server and the `nnft` CLI. An erf sweep
// streams per-width estimates and fits while it runs; its result has every
// width, exact finite-width theory with z-scores, and fitted exponents of
// G4_c and G6_c within 3 standard errors of -1 and -2; bad sweeps are
// INVALID_ARGUMENT naming the field.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

constexpr char kSweepJson[] = R"({
  "label": "erf width sweep",
  "architecture": {"mlp": {"inputDim": 1, "widths": [1],
                           "activation": "ACTIVATION_ERF", "sw": [2, 1]}},
  "points": [{"x": [0.5]}, {"x": [-1.0]}],
  "observables": {"orders": [2, 4, 6],
                  "tuples": [{"index": [0, 1]}, {"index": [0, 0, 1, 1]},
                             {"index": [0, 0, 0, 1, 1, 1]}]},
  "sampling": {"seed": "3", "numNetworks": "100000", "chunkSize": 2000,
               "integrateOutputLayer": true},
  "widthSweep": {"widths": [32, 16, 8, 4, 2]}
})";

class SweepE2eTest : public ServerTest {};

TEST_F(SweepE2eTest, ErfSweepStreamsAndFitsTheExactExponents) {
  const std::string path = tmp_.path() + "/sweep.json";
  WriteFile(path, kSweepJson);
  v1::ExperimentSpec spec;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(kSweepJson, &spec).ok());
  absl::StatusOr<v1::Job> job = client_->Submit(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->progress().chunks_total(), 5 * 50);
  int sweep_updates = 0;
  absl::StatusOr<v1::Job> done =
      client_->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(120),
                                 [&](const v1::JobUpdate& u) {
                                   if (u.width_sweep().blocks_size() > 0)
                                     ++sweep_updates;
                                   return true;
                                 });
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->state(), v1::Job::SUCCEEDED) << done->error_message();
  EXPECT_GE(sweep_updates, 1);

  absl::StatusOr<client::JobResult> r = client_->FetchResult(job->name());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->header.has_width_sweep());
  ASSERT_EQ(r->sweep_widths.size(), 5u);
  const int widths[] = {2, 4, 8, 16, 32};
  for (int w = 0; w < 5; ++w) {
    const v1::SweepWidthBlock& b = r->sweep_widths[w];
    EXPECT_EQ(b.width(), widths[w]);
    ASSERT_EQ(b.entries().z_exact_connected_size(), 3);
    for (double z : b.entries().z_exact_connected()) {
      EXPECT_LT(std::abs(z), 4.0) << "N = " << b.width();
    }
    ASSERT_EQ(b.deviation_size(), 3);
  }
  ASSERT_EQ(r->sweep_fits.size(), 2u);
  for (const v1::PowerLawFit& f : r->sweep_fits) {
    EXPECT_EQ(f.expected_exponent(), f.order() == 4 ? -1.0 : -2.0);
    EXPECT_LT(std::abs(f.exponent() - f.expected_exponent()),
              3 * f.exponent_stderr())
        << f.order() << ": " << f.exponent() << " +- " << f.exponent_stderr();
    EXPECT_EQ(f.widths_used(), 5);
  }

  // The CLI: `nnft submit sweep.json` follows the (now stored) sweep and
  // prints both tables.
  CliRun cli = RunCli({Server(), "submit", path});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_TRUE(absl::StrContains(cli.out, "width sweep N = 2,4,8,16,32"))
      << cli.out;
  EXPECT_TRUE(absl::StrContains(cli.out, "# fits |G_c| = A N^s")) << cli.out;
  EXPECT_TRUE(absl::StrContains(cli.out, "(0,0,0,1,1,1)  6")) << cli.out;
}

TEST_F(SweepE2eTest, BadSweepsAreInvalidArgumentNamingTheField) {
  v1::ExperimentSpec spec = SmallSpec{.width = 8, .num_chunks = 2}.Proto();
  const std::pair<std::vector<int>, std::string> cases[] = {
      {{8}, "spec.width_sweep.widths has 1 entries: must be in [2, 32]"},
      {{8, 0}, "spec.width_sweep.widths[1] = 0: must be in [1, 1000000]"},
      {{8, 8}, "spec.width_sweep.widths[1] = 8: repeated"},
  };
  for (const auto& [widths, message] : cases) {
    spec.mutable_width_sweep()->clear_widths();
    for (int n : widths) spec.mutable_width_sweep()->add_widths(n);
    absl::StatusOr<v1::Job> job = client_->Submit(spec);
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(job.status().message(), message))
        << job.status().message();
  }
}

}  // namespace
}  // namespace nnft::e2e
