#include "server/spec/spec_proto.h"

#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nnft::server {
namespace {

// Architecture and points of a two-point, two-dimensional erf MLP.
constexpr char kMlpHead[] =
    R"({"architecture": {"mlp": {"inputDim": 2, "widths": [10, 20],
        "activation": "ACTIVATION_ERF"}},
        "points": [{"x": [0.5, -1]}, {"x": [2, 3]}])";

TEST(SpecFromJsonTest, AppliesDocumentedDefaults) {
  auto spec = SpecFromJson(absl::StrCat(kMlpHead, "}"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  const auto& mlp = std::get<MlpSpec>(spec->architecture);
  EXPECT_EQ(mlp.input_dim, 2);
  EXPECT_EQ(mlp.widths, (std::vector<int>{10, 20}));
  EXPECT_EQ(mlp.activation, Activation::kErf);
  EXPECT_EQ(mlp.sw, (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(mlp.sb, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(mlp.first_bias, BiasLaw::kGaussian);
  ASSERT_EQ(spec->points.rows(), 2);
  ASSERT_EQ(spec->points.cols(), 2);
  EXPECT_EQ(spec->points(0, 1), -1.0);
  EXPECT_EQ(spec->points(1, 0), 2.0);
  EXPECT_EQ(spec->observables.orders, (std::vector<int>{2, 4}));
  EXPECT_TRUE(spec->observables.tuples.empty());
  EXPECT_EQ(spec->sampling.seed, 0u);
  EXPECT_EQ(spec->sampling.num_networks, 100000);
  EXPECT_EQ(spec->sampling.chunk_size, 1000);
  EXPECT_EQ(spec->sampling.precision, Precision::kFloat64);
  EXPECT_FALSE(spec->sampling.integrate_output_layer);
}

TEST(SpecFromJsonTest, GaussNetAndCosNetOptionalScalarsDefault) {
  auto gauss = SpecFromJson(R"({"architecture": {"gaussNet": {"inputDim": 1,
      "width": 5, "sb0": 0.25}}, "points": [{"x": [0]}]})");
  ASSERT_TRUE(gauss.ok()) << gauss.status();
  const auto& g = std::get<GaussNetSpec>(gauss->architecture);
  EXPECT_EQ(g.sw0, 1.0);
  EXPECT_EQ(g.sw1, 1.0);
  EXPECT_EQ(g.sb0, 0.25);
  EXPECT_EQ(g.sb1, 0.0);

  auto cos = SpecFromJson(R"({"architecture": {"cos_net": {"input_dim": 3,
      "width": 7, "mass": 2}}, "points": [{"x": [0, 1, 2]}]})");
  ASSERT_TRUE(cos.ok()) << cos.status();
  const auto& c = std::get<CosNetSpec>(cos->architecture);
  EXPECT_EQ(c.mass, 2.0);
  EXPECT_EQ(c.cutoff, 10.0);
  EXPECT_EQ(c.sa, 1.0);
}

TEST(SpecFromJsonTest, ExplicitValuesOverrideDefaults) {
  auto spec = SpecFromJson(absl::StrCat(kMlpHead, R"(,
      "observables": {"orders": [6], "tuples": [{"index": [1, 0]}]},
      "sampling": {"seed": "42", "numNetworks": "12345", "chunkSize": 100,
                   "precision": "PRECISION_FLOAT32",
                   "integrateOutputLayer": true}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->observables.orders, (std::vector<int>{6}));
  ASSERT_EQ(spec->observables.tuples.size(), 1u);
  EXPECT_EQ(spec->observables.tuples[0], (std::vector<int>{1, 0}));
  EXPECT_EQ(spec->sampling.seed, 42u);
  EXPECT_EQ(spec->sampling.num_networks, 12345);
  EXPECT_EQ(spec->sampling.chunk_size, 100);
  EXPECT_EQ(spec->sampling.precision, Precision::kFloat32);
  EXPECT_TRUE(spec->sampling.integrate_output_layer);
}

struct BadCase {
  std::string name;
  std::string json;
  std::string message;  // a substring the error must contain
};

class BadSpecTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadSpecTest, IsInvalidArgumentNamingTheField) {
  Limits limits;
  limits.max_tuples = 1000;
  auto spec = SpecFromJson(GetParam().json, limits);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(GetParam().message),
            absl::string_view::npos)
      << spec.status().message();
}

std::string Mlp(absl::string_view mlp_fields, absl::string_view rest = "") {
  return absl::StrCat(R"({"architecture": {"mlp": {"inputDim": 1, )",
                      mlp_fields, R"(}}, "points": [{"x": [1]}])", rest, "}");
}

constexpr char kOk[] = R"("widths": [3], "activation": "ACTIVATION_RELU")";

INSTANTIATE_TEST_SUITE_P(
    Fields, BadSpecTest,
    testing::Values(
        BadCase{"NoArchitecture", R"({"points": [{"x": [1]}]})",
                "spec.architecture: no architecture set (one of mlp, "
                "gauss_net, cos_net, null_cone, ou_net, conv1d, attention, "
                "kan)"},
        BadCase{"WidthZero",
                Mlp(R"("widths": [0], "activation": "ACTIVATION_RELU")"),
                "spec.architecture.mlp.widths[0] = 0: must be in [1, 1000000]"},
        BadCase{"NoWidths", Mlp(R"("activation": "ACTIVATION_RELU")"),
                "spec.architecture.mlp.widths has 0 entries"},
        BadCase{"ActivationUnset", Mlp(R"("widths": [3])"),
                "spec.architecture.mlp.activation: required"},
        BadCase{"ActivationUnknownNumber",
                Mlp(R"("widths": [3], "activation": 99)"),
                "spec.architecture.mlp.activation"},
        BadCase{"NegativeSb", Mlp(absl::StrCat(kOk, R"(, "sb": [0, -1])")),
                "spec.architecture.mlp.sb[1] = -1: must be finite and >= 0"},
        BadCase{"SwCount", Mlp(absl::StrCat(kOk, R"(, "sw": [1, 1, 1])")),
                "spec.architecture.mlp.sw has 3 entries"},
        BadCase{"UniformPhaseNeedsCos",
                Mlp(absl::StrCat(kOk,
                                 R"(, "firstBias": "BIAS_LAW_UNIFORM_PHASE")")),
                "spec.architecture.mlp.first_bias"},
        BadCase{"GaussSw0Zero",
                R"({"architecture": {"gaussNet": {"inputDim": 1, "width": 2,
                    "sw0": 0}}, "points": [{"x": [1]}]})",
                "spec.architecture.gauss_net.sw0 = 0"},
        BadCase{"CosNetDimension",
                R"({"architecture": {"cosNet": {"inputDim": 4, "width": 2}},
                    "points": [{"x": [1, 2, 3, 4]}]})",
                "spec.architecture.cos_net.input_dim = 4: must be in [1, 3]"},
        BadCase{"PointDimensionMismatch",
                R"({"architecture": {"mlp": {"inputDim": 2, "widths": [3],
                    "activation": "ACTIVATION_ERF"}},
                    "points": [{"x": [1, 2]}, {"x": [1]}]})",
                "spec.points[1].x has 1 coordinates: must have the "
                "architecture's input_dim = 2"},
        // Training data and reflection points are sized by the input
        // dimension: a negative or huge one is refused before they are built.
        BadCase{"TrainingWithNegativeInputDim",
                R"({"architecture": {"mlp": {"inputDim": -2, "widths": [3],
                    "activation": "ACTIVATION_ERF"}},
                    "points": [{"x": [1, 2]}],
                    "training": {"data": {"x": [{"x": [1, 2]}], "y": [0.5]},
                                 "times": [0, 1]}})",
                "spec.architecture.mlp.input_dim = -2: must be in [1, "},
        BadCase{
            "TrainingWithHugeInputDim",
            R"({"architecture": {"mlp": {"inputDim": 2000000000,
                    "widths": [3], "activation": "ACTIVATION_ERF"}},
                    "points": [{"x": [1]}],
                    "training": {"data": {"x": [{"x": [1]}], "y": [0.5]},
                                 "times": [0, 1]}})",
            "spec.architecture.mlp.input_dim = 2000000000: must be in [1, "},
        BadCase{"ReflectionWithNegativeInputDim",
                R"({"architecture": {"mlp": {"inputDim": -1, "widths": [3],
                    "activation": "ACTIVATION_ERF"}},
                    "points": [{"x": [1]}],
                    "reflectionPositivity": {"axis": 0,
                                             "points": [{"x": [1]}]}})",
                "spec.architecture.mlp.input_dim = -1: must be in [1, "},
        // A symmetry check's matrix is sized by the output dimension before
        // validation: a negative or huge one must not reach Eigen.
        BadCase{"OutputRotationWithHugeOutputDim",
                R"({"architecture": {"mlp": {"inputDim": 1, "widths": [3],
                    "activation": "ACTIVATION_ERF", "outputDim": 2000000000}},
                    "points": [{"x": [1]}],
                    "symmetryChecks": [{"outputRotation": {"values": [1]}}]})",
                "spec.architecture.mlp.output_dim = 2000000000: must be in "},
        BadCase{"OutputRotationWithNegativeOutputDim",
                R"({"architecture": {"mlp": {"inputDim": 1, "widths": [3],
                    "activation": "ACTIVATION_ERF", "outputDim": -2}},
                    "points": [{"x": [1]}],
                    "symmetryChecks": [{"outputRotation":
                                        {"values": [1, 0, 0, 1]}}]})",
                "spec.architecture.mlp.output_dim = -2: must be in "},
        BadCase{"NoPoints",
                R"({"architecture": {"mlp": {"inputDim": 1, "widths": [3],
                    "activation": "ACTIVATION_ERF"}}})",
                "spec.points"},
        BadCase{"OrderSeven", Mlp(kOk, R"(, "observables": {"orders": [7]})"),
                "spec.observables.orders[0] = 7: must be in [1, 6]"},
        BadCase{"TupleIndexOutOfRange",
                Mlp(kOk, R"(, "observables": {"tuples": [{"index": [0, 5]}]})"),
                "spec.observables.tuples[0].index[1] = 5: must be in [0, 0]"},
        BadCase{"TooManyTuples",
                R"({"architecture": {"mlp": {"inputDim": 1, "widths": [3],
                    "activation": "ACTIVATION_ERF"}}, "points": [
                    {"x": [1]}, {"x": [2]}, {"x": [3]}, {"x": [4]},
                    {"x": [5]}, {"x": [6]}, {"x": [7]}, {"x": [8]},
                    {"x": [9]}, {"x": [10]}],
                    "observables": {"orders": [6]}})",
                "max_tuples = 1000"},
        BadCase{"NumNetworksZero",
                Mlp(kOk, R"(, "sampling": {"numNetworks": 0})"),
                "spec.sampling.num_networks = 0"},
        BadCase{"ChunkSizeZero", Mlp(kOk, R"(, "sampling": {"chunkSize": 0})"),
                "spec.sampling.chunk_size = 0"},
        BadCase{
            "OneChunk",
            Mlp(kOk, R"(, "sampling": {"numNetworks": 10, "chunkSize": 10})"),
            "at least 2 chunks"},
        BadCase{"NegativeTargetStderr",
                Mlp(kOk, R"(, "sampling": {"targetStderr": -1})"),
                "spec.sampling.target_stderr = -1: must be finite and >= 0"},
        BadCase{"MalformedJson", R"({"architecture": )", "spec: not a valid"},
        BadCase{"UnknownField", Mlp(kOk, R"(, "colour": "red")"), "colour"}),
    [](const testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

void ExpectSameSpec(const ExperimentSpec& a, const ExperimentSpec& b) {
  ASSERT_EQ(a.architecture.index(), b.architecture.index());
  if (const auto* ma = std::get_if<MlpSpec>(&a.architecture)) {
    const auto& mb = std::get<MlpSpec>(b.architecture);
    EXPECT_EQ(ma->input_dim, mb.input_dim);
    EXPECT_EQ(ma->widths, mb.widths);
    EXPECT_EQ(ma->activation, mb.activation);
    EXPECT_EQ(ma->sw, mb.sw);
    EXPECT_EQ(ma->sb, mb.sb);
    EXPECT_EQ(ma->first_bias, mb.first_bias);
  } else if (const auto* ga = std::get_if<GaussNetSpec>(&a.architecture)) {
    const auto& gb = std::get<GaussNetSpec>(b.architecture);
    EXPECT_EQ(ga->input_dim, gb.input_dim);
    EXPECT_EQ(ga->width, gb.width);
    EXPECT_EQ(ga->sw0, gb.sw0);
    EXPECT_EQ(ga->sb0, gb.sb0);
    EXPECT_EQ(ga->sw1, gb.sw1);
    EXPECT_EQ(ga->sb1, gb.sb1);
  } else {
    const auto& ca = std::get<CosNetSpec>(a.architecture);
    const auto& cb = std::get<CosNetSpec>(b.architecture);
    EXPECT_EQ(ca.input_dim, cb.input_dim);
    EXPECT_EQ(ca.width, cb.width);
    EXPECT_EQ(ca.mass, cb.mass);
    EXPECT_EQ(ca.cutoff, cb.cutoff);
    EXPECT_EQ(ca.sa, cb.sa);
  }
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.observables.orders, b.observables.orders);
  EXPECT_EQ(a.observables.tuples, b.observables.tuples);
  EXPECT_EQ(a.sampling.seed, b.sampling.seed);
  EXPECT_EQ(a.sampling.num_networks, b.sampling.num_networks);
  EXPECT_EQ(a.sampling.chunk_size, b.sampling.chunk_size);
  EXPECT_EQ(a.sampling.precision, b.sampling.precision);
  EXPECT_EQ(a.sampling.integrate_output_layer,
            b.sampling.integrate_output_layer);
  EXPECT_EQ(a.sampling.integrate_first_layer_bias,
            b.sampling.integrate_first_layer_bias);
}

// More training points than max_points: refused by count, with no
// n x input_dim matrix built for them first (a message of many empty points
// at a large input_dim would otherwise allocate n x d doubles).
TEST(SpecFromProtoTest, TooManyTrainingPointsRefusedByCountBeforeSizing) {
  v1::ExperimentSpec proto;
  v1::Mlp* mlp = proto.mutable_architecture()->mutable_mlp();
  mlp->set_input_dim(4096);
  mlp->add_widths(3);
  mlp->set_activation(v1::ACTIVATION_ERF);
  proto.add_points()->mutable_x()->Resize(4096, 0.5);
  v1::Training* training = proto.mutable_training();
  for (int i = 0; i < 100000; ++i) training->mutable_data()->add_x();
  training->add_times(0);
  training->add_times(1);
  const auto spec = SpecFromProto(proto, Limits{.max_points = 64});
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(spec.status().message(),
              testing::HasSubstr("training.data.x: 100000 points: must be "
                                 "between 1 and 64"));
}

TEST(SpecJsonRoundTripTest, CoreToJsonAndBackIsExact) {
  ExperimentSpec spec;
  MlpSpec mlp;
  mlp.input_dim = 3;
  mlp.widths = {4, 5};
  mlp.activation = Activation::kCos;
  mlp.sw = {1.5, 0.1, 1.0 / 3.0};
  mlp.sb = {0.0, 0.7, 1e-300};
  mlp.first_bias = BiasLaw::kUniformPhase;
  spec.architecture = mlp;
  spec.points = Eigen::MatrixXd(2, 3);
  spec.points << 0.1, -2.5e-17, 3, 1.0 / 7.0, 0, -1e300;
  spec.observables.orders = {4, 1};
  spec.observables.tuples = {{1, 0, 1}, {1, 1}};
  spec.sampling.seed = 18446744073709551615u;
  spec.sampling.num_networks = int64_t{1} << 35;
  spec.sampling.chunk_size = 777;
  spec.sampling.precision = Precision::kFloat32;
  ASSERT_TRUE(Validate(spec).ok()) << Validate(spec);

  const std::string json = SpecProtoToJson(SpecToProto(spec));
  auto back = SpecFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  ExpectSameSpec(spec, *back);
  // Printing again gives the same text.
  EXPECT_EQ(SpecProtoToJson(SpecToProto(*back)), json);
}

TEST(SpecJsonRoundTripTest, GaussAndCosNetSurviveTheRoundTrip) {
  for (const char* json :
       {R"({"architecture": {"gaussNet": {"inputDim": 2, "width": 9,
            "sw0": 0.5, "sb0": 0.25, "sw1": 2, "sb1": 0.125}},
            "points": [{"x": [1, 2]}]})",
        R"({"architecture": {"cosNet": {"inputDim": 2, "width": 9,
            "mass": 0.5, "cutoff": 3, "sa": 2}},
            "points": [{"x": [1, 2]}]})"}) {
    auto spec = SpecFromJson(json);
    ASSERT_TRUE(spec.ok()) << spec.status();
    const std::string printed = SpecProtoToJson(SpecToProto(*spec), true);
    auto back = SpecFromJson(printed);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(SpecProtoToJson(SpecToProto(*back), true), printed);
    ExpectSameSpec(*spec, *back);
  }
}

TEST(SpecFromJsonTest, IntegrateFirstLayerBiasParsesRoundTripsAndValidates) {
  constexpr char kGauss[] =
      R"({"architecture": {"gaussNet": {"inputDim": 1, "width": 4,
          "sb0": 1}}, "points": [{"x": [-0.05]}, {"x": [0.05]}],
          "sampling": {"integrateOutputLayer": true)";
  auto plain = SpecFromJson(absl::StrCat(kGauss, "}}"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->sampling.integrate_first_layer_bias);
  EXPECT_FALSE(SpecToProto(*plain).sampling().integrate_first_layer_bias());
  auto spec = SpecFromJson(
      absl::StrCat(kGauss, R"(, "integrateFirstLayerBias": true}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->sampling.integrate_first_layer_bias);
  EXPECT_TRUE(SpecToProto(*spec).sampling().integrate_first_layer_bias());
  auto back = SpecFromJson(SpecProtoToJson(SpecToProto(*spec)));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameSpec(*spec, *back);
  // Not for an MLP: InvalidArgument naming the field.
  auto mlp = SpecFromJson(
      absl::StrCat(kMlpHead, R"(, "sampling": {"integrateOutputLayer": true,
                    "integrateFirstLayerBias": true}})"));
  ASSERT_FALSE(mlp.ok());
  EXPECT_EQ(mlp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(mlp.status().message()),
              testing::HasSubstr("sampling.integrate_first_layer_bias"));
}

TEST(SpecFromJsonTest, WidthSweepParsesValidatesAndRoundTrips) {
  auto spec = SpecFromJson(
      absl::StrCat(kMlpHead, R"(, "widthSweep": {"widths": [16, 4, 8]}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->width_sweep, (std::vector<int>{16, 4, 8}));
  auto back = SpecFromProto(SpecToProto(*spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->width_sweep, spec->width_sweep);
  EXPECT_FALSE(SpecToProto(*SpecFromJson(absl::StrCat(kMlpHead, "}")))
                   .has_width_sweep());
  const std::pair<const char*, const char*> bad[] = {
      {R"("widthSweep": {"widths": [4]})",
       "spec.width_sweep.widths has 1 entries: must be in [2, 32]"},
      {R"("widthSweep": {"widths": [4, -1]})",
       "spec.width_sweep.widths[1] = -1: must be in [1, 1000000]"},
      {R"("widthSweep": {"widths": [4, 8]},
          "sampling": {"targetStderr": 0.1})",
       "spec.sampling.target_stderr > 0 with width_sweep"},
  };
  for (const auto& [field, message] : bad) {
    auto s = SpecFromJson(absl::StrCat(kMlpHead, ", ", field, "}"));
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(message), std::string::npos)
        << s.status().message();
  }
}

}  // namespace
}  // namespace nnft::server
