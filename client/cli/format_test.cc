// The CLI's renderings: CSV reads back bit for bit with the documented
// columns, absent arrays give empty cells, the table shows the theory the
// header says, progress lines carry chunks and the first estimates.
#include "client/cli/format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/progress.h"
#include "client/cli/spec_file.h"
#include "gtest/gtest.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;

JobResult SampleResult(bool has_exact) {
  JobResult result;
  result.header.mutable_job()->set_name("jobs/abc");
  result.header.set_num_entries(2);
  result.header.set_has_exact(has_exact);
  v1::Estimate* est = result.entries.mutable_estimate();
  v1::IndexTuple* t0 = est->add_tuples();
  t0->add_index(0);
  t0->add_index(1);
  v1::IndexTuple* t1 = est->add_tuples();
  for (int i : {0, 0, 1, 1}) t1->add_index(i);
  // Values whose shortest decimal form needs all 17 digits.
  est->add_mean(0.1 + 0.2);
  est->add_mean(1.0 / 3.0);
  est->add_stderr(1e-3 / 7.0);
  est->add_stderr(std::nan(""));
  est->add_connected(0.1 + 0.2);
  est->add_connected(-2.0 / 3.0);
  est->add_connected_stderr(1e-3);
  est->add_connected_stderr(2e-3);
  result.entries.mutable_theory()->add_gp(0.3);
  result.entries.mutable_theory()->add_gp(0.33);
  if (has_exact) {
    result.entries.mutable_theory()->add_exact(0.31);
    result.entries.mutable_theory()->add_exact(0.34);
  }
  return result;
}

TEST(FormatResultTest, CsvHasDocumentedColumnsAndReadsBackExactly) {
  const JobResult result = SampleResult(false);
  const std::vector<std::string> lines = absl::StrSplit(
      FormatResult(result, OutputFormat::kCsv), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  ASSERT_EQ(header.size(), std::size(kCsvColumns));
  for (size_t c = 0; c < header.size(); ++c)
    EXPECT_EQ(header[c], kCsvColumns[c]);

  const std::vector<std::string> row0 = absl::StrSplit(lines[1], ',');
  ASSERT_EQ(row0.size(), header.size());
  EXPECT_EQ(row0[0], "0 1");
  EXPECT_EQ(row0[1], "2");
  EXPECT_EQ(std::strtod(row0[2].c_str(), nullptr), 0.1 + 0.2);
  EXPECT_EQ(std::strtod(row0[3].c_str(), nullptr), 1e-3 / 7.0);
  EXPECT_EQ(std::strtod(row0[6].c_str(), nullptr), 0.3);
  EXPECT_EQ(row0[8], "");  // no exact theory sent: empty cell

  const std::vector<std::string> row1 = absl::StrSplit(lines[2], ',');
  EXPECT_EQ(row1[0], "0 0 1 1");
  EXPECT_EQ(std::strtod(row1[2].c_str(), nullptr), 1.0 / 3.0);
  EXPECT_EQ(row1[3], "nan");
  EXPECT_EQ(std::strtod(row1[4].c_str(), nullptr), -2.0 / 3.0);
}

TEST(FormatResultTest, TableNamesTheTheoryItShows) {
  const std::string gp =
      FormatResult(SampleResult(false), OutputFormat::kTable);
  EXPECT_NE(gp.find("infinite-width GP"), std::string::npos) << gp;
  EXPECT_NE(gp.find("(0,0,1,1)"), std::string::npos) << gp;
  EXPECT_NE(gp.find("0.3 +- "), std::string::npos) << gp;
  const std::string exact =
      FormatResult(SampleResult(true), OutputFormat::kTable);
  EXPECT_NE(exact.find("exact at finite width"), std::string::npos) << exact;
  EXPECT_NE(exact.find("0.31"), std::string::npos) << exact;
}

TEST(FormatResultTest, JsonCarriesHeaderEntriesAndKernel) {
  JobResult result = SampleResult(false);
  result.kernel = {1.0, 0.5, 0.5, 1.0};
  const std::string json = FormatResult(result, OutputFormat::kJson);
  EXPECT_NE(json.find("\"header\""), std::string::npos);
  EXPECT_NE(json.find("\"jobs/abc\""), std::string::npos);
  EXPECT_NE(json.find("\"kernel\": [1,0.5,0.5,1]"), std::string::npos) << json;
}

TEST(FormatKernelTest, ShowsTheNtkOrWhyItIsAbsentAndThePrediction) {
  v1::ComputeKernelResponse kernel;
  kernel.set_num_points(2);
  for (double v : {1.0, 0.25, 0.25, 2.0}) kernel.add_kernel(v);
  for (double v : {3.5, 0.75, 0.75, 4.5}) kernel.add_ntk(v);
  kernel.set_num_cross_points(1);
  for (double v : {0.125, 0.375}) kernel.add_cross_kernel(v);
  v1::TrainingPrediction* p = kernel.mutable_prediction();
  p->add_times(0);
  p->add_times(8);
  p->set_num_points(3);
  for (double v : {0.0, 0.0, 0.0, -0.4, 0.61, 0.9}) p->add_mean(v);
  for (int i = 0; i < 18; ++i) p->add_covariance(i);
  p->add_loss(1.5);
  p->add_loss(0.0625);
  const std::string table = FormatKernel(kernel, OutputFormat::kTable);
  EXPECT_NE(table.find("# NTK, 2 x 2"), std::string::npos) << table;
  EXPECT_NE(table.find("4.5"), std::string::npos) << table;
  EXPECT_NE(table.find("# cross NNGP kernel K(x, y), 2 x 1"), std::string::npos)
      << table;
  EXPECT_NE(table.find("0.375"), std::string::npos) << table;
  EXPECT_NE(table.find("mu(y0)"), std::string::npos) << table;
  EXPECT_NE(table.find("0.0625"), std::string::npos) << table;
  EXPECT_NE(table.find("0.61"), std::string::npos) << table;
  // Sigma(y0, y0) at t = 8: covariance[(1 * 3 + 2) * 3 + 2] = 17.
  EXPECT_NE(table.find("17"), std::string::npos) << table;

  kernel.clear_ntk();
  kernel.set_ntk_absent_reason("architecture.kan: no analytic NTK here");
  const std::string absent = FormatKernel(kernel, OutputFormat::kTable);
  EXPECT_NE(absent.find("# NTK absent: architecture.kan"), std::string::npos)
      << absent;
}

TEST(ParseOutputFormatTest, RejectsUnknownNamingAllowedValues) {
  EXPECT_EQ(*ParseOutputFormat(""), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  absl::StatusOr<OutputFormat> bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("table, json, csv"), std::string::npos);
}

TEST(ProgressTest, LineShowsChunksNetworksAndFirstEstimates) {
  v1::JobUpdate update;
  update.mutable_job()->set_name("jobs/abc");
  update.mutable_job()->set_state(v1::Job::RUNNING);
  v1::Progress* p = update.mutable_job()->mutable_progress();
  p->set_chunks_done(3);
  p->set_chunks_total(12);
  p->set_networks_done(3000);
  p->set_networks_total(12000);
  for (int i = 0; i < 5; ++i) {
    update.mutable_estimate()->add_tuples()->add_index(i);
    update.mutable_estimate()->add_mean(i + 0.5);
    update.mutable_estimate()->add_stderr(0.01);
  }
  const std::string line = ProgressLine(update, 2);
  EXPECT_EQ(line,
            "jobs/abc RUNNING 3/12 chunks 3000/12000 networks "
            "G(0)=0.5+-0.01 G(1)=1.5+-0.01");
  const std::string bar = ProgressBar(update, 2, 40);
  EXPECT_EQ(bar.size(), 40u);
  EXPECT_EQ(bar.rfind("RUNNING [######------------------] 3/12", 0), 0u) << bar;
}

TEST(ProgressTest, RateAndTimeLeftFromTheFirstUpdate) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  RateMeter rate;
  rate.Update(t0, 1000, 11000);  // the origin: nothing known yet
  EXPECT_TRUE(std::isnan(rate.per_second()));
  EXPECT_EQ(RateText(rate, true), "? networks/s ETA ?");
  rate.Update(t0 + absl::Seconds(2), 5000, 11000);  // 4000 in 2 s
  EXPECT_DOUBLE_EQ(rate.per_second(), 2000.0);
  EXPECT_EQ(rate.eta(), absl::Seconds(3));
  EXPECT_EQ(RateText(rate, true), "2e+03 networks/s ETA 3s");
  EXPECT_EQ(RateText(rate, false), "2e+03 networks/s");
  EXPECT_EQ(FormatEta(absl::Seconds(3725)), "1:02:05");
  EXPECT_EQ(FormatEta(absl::Seconds(125)), "2:05");

  v1::JobUpdate update;
  update.mutable_job()->set_name("jobs/abc");
  update.mutable_job()->set_state(v1::Job::RUNNING);
  update.mutable_job()->mutable_progress()->set_networks_done(5000);
  update.mutable_job()->mutable_progress()->set_networks_total(11000);
  EXPECT_EQ(ProgressLine(update, 0, RateText(rate, true)),
            "jobs/abc RUNNING 0/0 chunks 5000/11000 networks "
            "2e+03 networks/s ETA 3s");
}

TEST(ProgressTest, PrinterLinesCarryTheRate) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buf, &size);
  ProgressPrinter printer(out, /*terminal=*/false, 0, absl::ZeroDuration());
  v1::JobUpdate update;
  update.mutable_job()->set_name("jobs/abc");
  update.mutable_job()->set_state(v1::Job::RUNNING);
  v1::Progress* p = update.mutable_job()->mutable_progress();
  p->set_networks_total(4000);
  for (int k = 1; k <= 2; ++k) {
    p->set_chunks_done(k);
    p->set_networks_done(1000 * k);
    printer.Update(update);
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::fclose(out);
  const std::string text(buf, size);
  std::free(buf);
  EXPECT_NE(text.find("1000/4000 networks ? networks/s ETA ?"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2000/4000 networks "), std::string::npos) << text;
  EXPECT_NE(text.rfind(" networks/s ETA "), text.find(" networks/s ETA "))
      << text;
  EXPECT_EQ(text.find("2000/4000 networks ?"), std::string::npos) << text;
}

TEST(SpecFileTest, EnumsTakeShortNamesInAnyCase) {
  absl::StatusOr<v1::ExperimentSpec> spec = ParseSpecJson(
      R"({"architecture": {"conv1d": {"sequenceLength": 2, "kernelSize": 1,
          "channels": 4, "activation": "relu", "padding": "Zero"}},
          "points": [{"x": [0.5, 0.25]}],
          "training": {"method": "gradient_flow"},
          "sampling": {"seed": "18446744073709551615", "numNetworks": 4000,
                       "precision": "PRECISION_FLOAT32"}})",
      "a.json");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->architecture().conv1d().activation(), v1::ACTIVATION_RELU);
  EXPECT_EQ(spec->architecture().conv1d().padding(), v1::PADDING_ZERO);
  EXPECT_EQ(spec->training().method(), v1::TRAINING_METHOD_GRADIENT_FLOW);
  EXPECT_EQ(spec->sampling().precision(), v1::PRECISION_FLOAT32);
  EXPECT_EQ(spec->sampling().seed(), 18446744073709551615ull);
  EXPECT_EQ(spec->points(0).x(1), 0.25);

  absl::StatusOr<v1::ExperimentSpec> bad = ParseSpecJson(
      R"({"architecture": {"mlp": {"activation": "rleu"}}})", "b.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "b.json: not a valid nnft.v1.ExperimentSpec in JSON: "
                "architecture.mlp.activation = \"rleu\": must be one of "
                "identity, relu, erf"),
            std::string::npos)
      << bad.status();
  EXPECT_EQ(bad.status().message().find("unspecified"), std::string::npos);
}

TEST(SpecFileTest, ParsesJsonAndNamesSourceOnError) {
  absl::StatusOr<v1::ExperimentSpec> spec = ParseSpecJson(
      R"({"architecture": {"mlp": {"inputDim": 1, "widths": [8],
          "activation": "ACTIVATION_ERF"}},
          "points": [{"x": [0.5]}], "sampling": {"num_networks": "4000"}})",
      "a.json");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->architecture().mlp().widths(0), 8);
  EXPECT_EQ(spec->sampling().num_networks(), 4000);

  absl::StatusOr<v1::ExperimentSpec> bad =
      ParseSpecJson(R"({"architecture": {"mlp": {"widthz": [8]}}})", "b.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("b.json: ", 0), 0u) << bad.status();
  EXPECT_NE(bad.status().message().find("widthz"), std::string::npos)
      << bad.status();

  absl::StatusOr<v1::ExperimentSpec> missing =
      ReadSpecFile("/nonexistent/spec.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/spec.json"),
            std::string::npos);
}

JobResult SampleSweep() {
  JobResult result;
  result.header.mutable_job()->set_name("jobs/sweep");
  v1::WidthSweepSummary* s = result.header.mutable_width_sweep();
  s->set_entries_per_width(1);
  s->set_num_fits(1);
  for (int n : {2, 4}) {
    s->add_widths(n);
    v1::SweepWidthBlock& w = result.sweep_widths.emplace_back();
    w.set_width(n);
    v1::Estimate* est = w.mutable_entries()->mutable_estimate();
    v1::IndexTuple* t = est->add_tuples();
    for (int i : {0, 0, 1, 1}) t->add_index(i);
    est->add_mean(1.0 / n);
    est->add_stderr(0.01);
    est->add_connected(0.5 / n);
    est->add_connected_stderr(0.001);
    w.mutable_entries()->mutable_theory()->add_exact_connected(0.5 / n);
    w.mutable_entries()->add_z_exact_connected(0.25);
    w.add_deviation(0.125);
    w.add_deviation_background(0.0625);
  }
  v1::PowerLawFit& f = result.sweep_fits.emplace_back();
  for (int i : {0, 0, 1, 1}) f.mutable_tuple()->add_index(i);
  f.set_order(4);
  f.set_exponent(-1.0);
  f.set_exponent_stderr(0.015625);
  f.set_expected_exponent(-1);
  f.set_widths_used(2);
  return result;
}

TEST(FormatSweepResultTest, TableHasPerWidthRowsAndFits) {
  const std::string table = FormatResult(SampleSweep(), OutputFormat::kTable);
  EXPECT_NE(table.find("width sweep N = 2,4"), std::string::npos) << table;
  EXPECT_NE(table.find("0.25 +- 0.001"), std::string::npos) << table;
  EXPECT_NE(table.find("0.125 +- 0.062"), std::string::npos) << table;
  EXPECT_NE(table.find("-1 +- 0.016"), std::string::npos) << table;
  EXPECT_NE(table.find("2/0"), std::string::npos) << table;
}

TEST(FormatSweepResultTest, CsvHasAWidthColumnAndAFitSection) {
  const std::string csv = FormatResult(SampleSweep(), OutputFormat::kCsv);
  const std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  ASSERT_GE(lines.size(), 6u) << csv;
  EXPECT_EQ(lines[0].rfind("width,tuple,order,mean", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("2,0 0 1 1,4,0.5,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("4,0 0 1 1,4,0.25,", 0), 0u) << lines[2];
  EXPECT_EQ(lines[4].rfind("tuple,order,exponent", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("0 0 1 1,4,-1,0.015625,-1,", 0), 0u) << lines[5];
}

}  // namespace
}  // namespace nnft::client::cli
