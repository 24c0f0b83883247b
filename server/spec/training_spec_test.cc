// The training spec through its JSON, proto and canonical-bytes forms (round
// trips, digest sensitivity, the errors naming the field and its range), and
// the training rows' conversion to TrainingTime with the loss histogram.
#include <cmath>
#include <string>

#include "gtest/gtest.h"
#include "server/api/convert.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr char kTrainingJson[] = R"({
  "architecture": {"mlp": {"inputDim": 1, "widths": [16],
                           "activation": "ACTIVATION_ERF",
                           "sw": [1.5, 1.0], "sb": [0.3, 0.1]}},
  "points": [{"x": [0.2]}, {"x": [0.7]}],
  "training": {"data": {"x": [{"x": [-1.0]}, {"x": [0.2]}, {"x": [1.1]}],
                        "y": [0.3, -0.5, 0.8]},
               "eta": 0.25, "times": [0, 0.5, 2], "empiricalNtk": true,
               "lossHistogram": {"bins": 12, "min": 1e-6, "max": 10}},
  "sampling": {"seed": "3", "numNetworks": "256", "chunkSize": 32}
})";

// kTrainingJson with the first occurrence of `from` replaced by `to`.
std::string With(const std::string& from, const std::string& to) {
  std::string json = kTrainingJson;
  const size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  return json;
}

TEST(TrainingSpecTest, RoundTripsThroughProtoAndCanonicalBytes) {
  auto spec = SpecFromJson(kTrainingJson);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->training.has_value());
  const TrainingSpec& t = *spec->training;
  EXPECT_EQ(t.x.rows(), 3);
  EXPECT_EQ(t.y(1), -0.5);
  EXPECT_EQ(t.eta, 0.25);
  EXPECT_EQ(t.times, (std::vector<double>{0, 0.5, 2}));
  EXPECT_EQ(t.method, TrainingMethod::kGradientDescent);
  EXPECT_TRUE(t.empirical_ntk);
  ASSERT_TRUE(t.loss_histogram.has_value());
  EXPECT_EQ(t.loss_histogram->bins, 12);
  EXPECT_EQ(t.loss_histogram->min, 1e-6);
  EXPECT_EQ(t.loss_histogram->max, 10);
  const v1::ExperimentSpec proto = SpecToProto(*spec);
  EXPECT_EQ(proto.training().loss_histogram().bins(), 12);
  auto again = SpecFromProto(proto);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(CanonicalSpecBytes(*again), CanonicalSpecBytes(*spec));
  auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*spec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*spec));
  ASSERT_TRUE(decoded->training && decoded->training->loss_histogram);
  EXPECT_EQ(decoded->training->loss_histogram->max, 10);
  // Bytes with an impossible histogram are refused (validated on decode),
  // not trusted.
  ExperimentSpec bad = *spec;
  bad.training->loss_histogram->bins = -3;
  const absl::Status refused =
      DecodeSpecBytes(CanonicalSpecBytes(bad)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("bins"), absl::string_view::npos) << refused;
}

TEST(TrainingSpecTest, DefaultsAndGradientFlowAndGeneratedData) {
  auto spec = SpecFromJson(
      With(R"("lossHistogram": {"bins": 12, "min": 1e-6, "max": 10})",
           R"("lossHistogram": {}, "method": "TRAINING_METHOD_GRADIENT_FLOW",
         "tolerance": 1e-5, "lastLayerOnly": true)"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  const TrainingSpec& t = *spec->training;
  EXPECT_EQ(t.method, TrainingMethod::kGradientFlow);
  EXPECT_EQ(t.tolerance, 1e-5);
  EXPECT_TRUE(t.last_layer_only);
  EXPECT_EQ(t.loss_histogram->bins, LossHistogramSpec{}.bins);
  EXPECT_EQ(t.loss_histogram->min, LossHistogramSpec{}.min);
  auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*spec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*spec));

  std::string talk = R"({
    "architecture": {"mlp": {"inputDim": 4, "widths": [8],
                             "activation": "ACTIVATION_TANH"}},
    "points": [{"x": [0, 0, 0, 0]}],
    "training": {"data": {"generator": {"n": 5, "seed": "9"}}},
    "sampling": {"numNetworks": "64", "chunkSize": 32}})";
  auto gen = SpecFromJson(talk);
  ASSERT_TRUE(gen.ok()) << gen.status();
  EXPECT_EQ(gen->training->x.rows(), 5);
  EXPECT_EQ(gen->training->x.cols(), 4);
  EXPECT_FALSE(gen->training->loss_histogram.has_value());
  EXPECT_EQ(gen->training->times, std::vector<double>{0.0});
}

TEST(TrainingSpecTest, TrainingFieldsChangeTheDigest) {
  auto spec = SpecFromJson(kTrainingJson);
  ASSERT_TRUE(spec.ok());
  const std::string digest = SpecDigest(*spec);
  ExperimentSpec other = *spec;
  other.training->loss_histogram.reset();
  EXPECT_NE(SpecDigest(other), digest);
  other = *spec;
  other.training->loss_histogram->bins = 13;
  EXPECT_NE(SpecDigest(other), digest);
  other = *spec;
  other.training->loss_histogram->min = 2e-6;
  EXPECT_NE(SpecDigest(other), digest);
  other = *spec;
  other.training->times.back() = 2.5;
  EXPECT_NE(SpecDigest(other), digest);
  other = *spec;
  other.training->y(0) = 0.31;
  EXPECT_NE(SpecDigest(other), digest);
  other = *spec;
  other.training->empirical_ntk = false;
  EXPECT_NE(SpecDigest(other), digest);
}

void ExpectInvalid(const std::string& json, const std::string& field,
                   const std::string& range) {
  auto spec = SpecFromJson(json);
  ASSERT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument)
      << field << ": " << spec.status();
  const std::string message(spec.status().message());
  EXPECT_NE(message.find(field), std::string::npos) << message;
  EXPECT_NE(message.find(range), std::string::npos) << message;
}

TEST(TrainingSpecTest, BadInputNamesTheFieldAndRange) {
  ExpectInvalid(With(R"("eta": 0.25)", R"("eta": -1)"), "training.eta", "> 0");
  ExpectInvalid(With("[0, 0.5, 2]", "[0, 0.6]"), "training.times[1]",
                "multiple of eta");
  ExpectInvalid(With("[0, 0.5, 2]", "[0.5, 0.5]"), "training.times[1]",
                "strictly increasing");
  ExpectInvalid(With(R"("y": [0.3, -0.5, 0.8])", R"("y": [0.3])"),
                "training.data.y", "1 targets");
  ExpectInvalid(With(R"({"x": [1.1]}])", R"({"x": [1.1, 2]}])"),
                "spec.training.data.x[2]", "input_dim = 1");
  ExpectInvalid(
      With(R"("eta": 0.25)",
           R"("eta": 0.25, "parameterisation": "PARAMETERISATION_STANDARD")"),
      "spec.training.parameterisation", "not supported");
  ExpectInvalid(
      With(
          R"("eta": 0.25)",
          R"("eta": 0.25, "method": "TRAINING_METHOD_GRADIENT_FLOW", "tolerance": 0.5)"),
      "training.tolerance", "(0, 0.1]");
  ExpectInvalid(With(R"("bins": 12)", R"("bins": 300)"),
                "training.loss_histogram.bins", "[1, 256]");
  ExpectInvalid(With(R"("min": 1e-6)", R"("min": -1)"),
                "training.loss_histogram.min", "> 0");
  ExpectInvalid(With(R"("max": 10)", R"("max": 1e-7)"),
                "training.loss_histogram.max", "> min");
  ExpectInvalid(With(R"("data": {)", R"("data": {"generator": {"n": 4},)"),
                "spec.training.data", "not both");
  ExpectInvalid(R"({"architecture": {"mlp": {"inputDim": 4, "widths": [8],
                                            "activation": "ACTIVATION_TANH"}},
                   "points": [{"x": [0, 0, 0, 0]}],
                   "training": {"data": {"generator": {"n": 0}}}})",
                "spec.training.data.generator.n", "[1, 4096]");
  ExpectInvalid(With(R"("chunkSize": 32})",
                     R"("chunkSize": 32, "integrateOutputLayer": true})"),
                "integrate_output_layer", "false");
}

TEST(TrainingSpecTest, RowsCarryTheLossHistogram) {
  TrainingFlow flow;
  flow.loss_histogram_edges = {1e-2, 1e-1, 1};
  flow.loss_quantile_levels = {0.05, 0.25, 0.5, 0.75, 0.95};
  TrainingTimeEstimate row;
  row.t = 2;
  row.loss_mean = 0.2;
  row.mu = Eigen::VectorXd::Zero(1);
  row.mu_stderr = row.mu_theory = row.mu;
  row.sigma = Eigen::MatrixXd::Ones(1, 1);
  row.sigma_stderr = row.sigma_theory = row.sigma;
  row.loss_histogram = {1, 3, 5, 2};
  for (double level : flow.loss_quantile_levels) {
    row.loss_quantiles.push_back(LossHistogramQuantile(
        row.loss_histogram, flow.loss_histogram_edges, level));
  }
  flow.times.push_back(row);
  v1::TrainingTime out;
  TrainingTimeToProto(row, 0, 1, &out);
  LossHistogramToProto(flow, row, &out);
  ASSERT_EQ(out.loss_histogram_edges_size(), 3);
  ASSERT_EQ(out.loss_histogram_counts_size(), 2);
  EXPECT_EQ(out.loss_histogram_underflow(), 1);
  EXPECT_EQ(out.loss_histogram_counts(0), 3);
  EXPECT_EQ(out.loss_histogram_counts(1), 5);
  EXPECT_EQ(out.loss_histogram_overflow(), 2);
  ASSERT_EQ(out.loss_quantiles_size(), 5);
  EXPECT_TRUE(std::isnan(out.loss_quantiles(0)));  // 0.55 of 11: underflow
  // Median: target 5.5 networks, 1.5 into the second bin's 5: 10^(-1 + 0.3).
  EXPECT_DOUBLE_EQ(out.loss_quantiles(2), 0.1 * std::pow(10.0, 0.3));
  EXPECT_TRUE(std::isnan(out.loss_quantiles(4)));  // overflow
  // Without a histogram nothing is added.
  TrainingTimeEstimate plain = row;
  plain.loss_histogram.clear();
  v1::TrainingTime none;
  LossHistogramToProto(flow, plain, &none);
  EXPECT_EQ(none.loss_histogram_edges_size(), 0);
}

}  // namespace
}  // namespace nnft::server
