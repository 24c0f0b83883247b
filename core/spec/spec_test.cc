#include "core/spec/spec.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

using ::testing::HasSubstr;

// A small valid spec: a one-hidden-layer erf MLP on 6 points in R^2.
ExperimentSpec ValidSpec() {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 2,
                              .widths = {8},
                              .activation = Activation::kErf,
                              .sw = {1.0, 1.5},
                              .sb = {0.5, 0.0}};
  spec.points = Eigen::MatrixXd::Random(6, 2);
  spec.observables.orders = {2, 4};
  spec.sampling.num_networks = 2000;
  spec.sampling.chunk_size = 100;
  return spec;
}

MlpSpec& Mlp(ExperimentSpec& spec) {
  return std::get<MlpSpec>(spec.architecture);
}

// Expects InvalidArgument whose message contains every fragment.
void ExpectInvalid(const absl::Status& status,
                   std::initializer_list<std::string> fragments) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (const auto& f : fragments) EXPECT_THAT(status.message(), HasSubstr(f));
}

TEST(ValidateTest, AcceptsValidSpecsOfEveryArchitecture) {
  ExperimentSpec spec = ValidSpec();
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.architecture = GaussNetSpec{.input_dim = 2, .width = 10};
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.architecture = CosNetSpec{.input_dim = 2, .width = 10};
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST(ValidateTest, RejectsZeroWidthNamingFieldAndRange) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).widths = {0};
  ExpectInvalid(Validate(spec),
                {"architecture.mlp.widths[0] = 0: must be in [1, 1000000]"});
}

TEST(ValidateTest, RejectsWidthAboveTheLimit) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).widths = {8, 20};
  Mlp(spec).sw = {1, 1, 1};
  Mlp(spec).sb = {0, 0, 0};
  ExpectInvalid(Validate(spec, Limits{.max_width = 10}),
                {"architecture.mlp.widths[1] = 20", "[1, 10]"});
}

TEST(ValidateTest, RejectsNegativeBiasVariance) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).sb = {0.5, -1.0};
  ExpectInvalid(Validate(spec), {"architecture.mlp.sb[1] = -1", ">= 0"});
}

TEST(ValidateTest, RejectsNonPositiveOrNanWeightScale) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).sw = {0.0, 1.0};
  ExpectInvalid(Validate(spec), {"architecture.mlp.sw[0] = 0", "> 0"});
  Mlp(spec).sw = {1.0, std::nan("")};
  ExpectInvalid(Validate(spec), {"architecture.mlp.sw[1]"});
}

TEST(ValidateTest, RejectsScaleListsOfTheWrongLength) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).sw = {1.0};
  ExpectInvalid(Validate(spec), {"architecture.mlp.sw has 1 entries", "2"});
  spec = ValidSpec();
  Mlp(spec).sb = {0.0, 0.0, 0.0};
  ExpectInvalid(Validate(spec), {"architecture.mlp.sb has 3 entries"});
}

TEST(ValidateTest, RejectsDepthOutsideLimits) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).widths = {};
  Mlp(spec).sw = {1.0};
  Mlp(spec).sb = {0.0};
  ExpectInvalid(Validate(spec), {"architecture.mlp.widths has 0 entries"});
}

TEST(ValidateTest, RejectsUniformPhaseWithoutCos) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).first_bias = BiasLaw::kUniformPhase;
  ExpectInvalid(Validate(spec), {"architecture.mlp.first_bias", "cos", "erf"});
  Mlp(spec).activation = Activation::kCos;
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST(ValidateTest, RejectsPointDimensionMismatch) {
  ExperimentSpec spec = ValidSpec();
  Mlp(spec).input_dim = 1;
  ExpectInvalid(Validate(spec),
                {"points: 6 points of dimension 2 but the architecture's "
                 "input_dim is 1"});
}

TEST(ValidateTest, RejectsNonFinitePoints) {
  ExperimentSpec spec = ValidSpec();
  spec.points(3, 1) = std::numeric_limits<double>::infinity();
  ExpectInvalid(Validate(spec), {"points[3].x[1] = inf", "finite"});
  spec.points(3, 1) = std::nan("");
  ExpectInvalid(Validate(spec), {"points[3].x[1]"});
}

TEST(ValidateTest, RejectsTooManyPoints) {
  ExperimentSpec spec = ValidSpec();
  ExpectInvalid(Validate(spec, Limits{.max_points = 5}),
                {"points: 6 points: must be in [1, 5]"});
}

TEST(ValidateTest, RejectsOrderAboveSix) {
  ExperimentSpec spec = ValidSpec();
  spec.observables.orders = {2, 7};
  ExpectInvalid(Validate(spec),
                {"observables.orders[1] = 7: must be in [1, 6]"});
}

TEST(ValidateTest, RejectsRepeatedOrders) {
  ExperimentSpec spec = ValidSpec();
  spec.observables.orders = {2, 2};
  ExpectInvalid(Validate(spec), {"observables.orders[1] = 2", "distinct"});
}

TEST(ValidateTest, RejectsExplicitTupleOutOfRange) {
  ExperimentSpec spec = ValidSpec();
  spec.observables.tuples = {{0, 1}, {2, 6}};
  ExpectInvalid(Validate(spec),
                {"observables.tuples[1].index[1] = 6: must be in [0, 5]"});
  spec.observables.tuples = {{0, 1, 1, 1, 2, 3, 4}};
  ExpectInvalid(Validate(spec), {"observables.tuples[0] has 7 indices"});
}

TEST(ValidateTest, RejectsTooManyTuplesNamingLimitAndCount) {
  ExperimentSpec spec = ValidSpec();
  // Closure of all orders up to 4 over 6 points: C(10, 4) - 1 = 209 tuples.
  ExpectInvalid(Validate(spec, Limits{.max_tuples = 200}),
                {"209", "max_tuples = 200"});
  EXPECT_TRUE(Validate(spec, Limits{.max_tuples = 209}).ok());
}

TEST(ValidateTest, RejectsParameterCountOverLimit) {
  ExperimentSpec spec = ValidSpec();
  // (2*8 + 8) + (8 + 1) = 33 parameters.
  ExpectInvalid(Validate(spec, Limits{.max_parameters = 32}),
                {"33 parameters", "max_parameters = 32"});
  EXPECT_TRUE(Validate(spec, Limits{.max_parameters = 33}).ok());
}

TEST(ValidateTest, RejectsCosNetOutsideItsRanges) {
  ExperimentSpec spec = ValidSpec();
  spec.architecture = CosNetSpec{.input_dim = 4, .width = 10};
  spec.points = Eigen::MatrixXd::Zero(3, 4);
  ExpectInvalid(Validate(spec),
                {"architecture.cos_net.input_dim = 4: must be in [1, 3]"});
  spec.architecture = CosNetSpec{.input_dim = 4, .width = 10};
  std::get<CosNetSpec>(spec.architecture).input_dim = 1;
  std::get<CosNetSpec>(spec.architecture).mass = 0.0;
  spec.points = Eigen::MatrixXd::Zero(3, 1);
  ExpectInvalid(Validate(spec), {"architecture.cos_net.mass = 0"});
  std::get<CosNetSpec>(spec.architecture).mass = 1.0;
  std::get<CosNetSpec>(spec.architecture).cutoff = -2.0;
  ExpectInvalid(Validate(spec), {"architecture.cos_net.cutoff = -2"});
}

TEST(ValidateTest, RejectsGaussNetNegativeBias) {
  ExperimentSpec spec = ValidSpec();
  spec.architecture = GaussNetSpec{.input_dim = 2, .width = 10, .sb1 = -0.5};
  ExpectInvalid(Validate(spec), {"architecture.gauss_net.sb1 = -0.5"});
}

TEST(ValidateTest, RejectsOuNetInnerFieldOptionsItWouldIgnore) {
  ExperimentSpec spec = ValidSpec();
  OuNetSpec ou;
  ou.mlp = {.input_dim = 1, .widths = {8}, .sw = {1.0, 1.0}, .sb = {0, 0}};
  spec.architecture = ou;
  spec.points = Eigen::MatrixXd::Random(4, 1);
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  std::get<OuNetSpec>(spec.architecture).mlp.field.output_dim = 2;
  ExpectInvalid(Validate(spec),
                {"architecture.ou_net.mlp.output_dim = 2: must be in [1, 1]"});
  std::get<OuNetSpec>(spec.architecture).mlp.field.output_dim = 1;
  std::get<OuNetSpec>(spec.architecture).mlp.field.sw0_axes = {2.0};
  ExpectInvalid(Validate(spec),
                {"architecture.ou_net.mlp.sw0_axes has 1 entries: must be "
                 "empty"});
  std::get<OuNetSpec>(spec.architecture).mlp.field.output_mean = {0.5, 1, 2};
  ExpectInvalid(Validate(spec),
                {"architecture.ou_net.mlp.sw0_axes has 1 entries: must be "
                 "empty"});
  std::get<OuNetSpec>(spec.architecture).mlp.field.sw0_axes.clear();
  std::get<OuNetSpec>(spec.architecture).mlp.field.output_mean = {0.5};
  ExpectInvalid(Validate(spec),
                {"architecture.ou_net.mlp.output_mean has 1 entries"});
}

TEST(ValidateTest, RejectsChunkSizeAndSingleChunk) {
  ExperimentSpec spec = ValidSpec();
  spec.sampling.chunk_size = 0;
  ExpectInvalid(Validate(spec), {"sampling.chunk_size = 0: must be in [1, "});
  spec.sampling.chunk_size = 2000;
  ExpectInvalid(Validate(spec),
                {"sampling.num_networks = 2000", "1 chunk", "at least 2"});
  spec.sampling.num_networks = 0;
  ExpectInvalid(Validate(spec), {"sampling.num_networks = 0"});
}

TEST(ValidateTest, AllowsIntegratedOutputLayerForEveryArchitecture) {
  ExperimentSpec spec = ValidSpec();
  spec.sampling.integrate_output_layer = true;
  EXPECT_TRUE(Validate(spec).ok());
  spec.architecture = GaussNetSpec{.input_dim = 2, .width = 10};
  EXPECT_TRUE(Validate(spec).ok());
  spec.architecture = CosNetSpec{.input_dim = 2, .width = 10};
  EXPECT_TRUE(Validate(spec).ok());
}

TEST(ValidateTest, IntegrateFirstLayerBiasOnlyForGaussNetWithOutputLayer) {
  ExperimentSpec spec = ValidSpec();
  spec.architecture = GaussNetSpec{.input_dim = 2, .width = 10, .sb0 = 1.0};
  spec.sampling.integrate_output_layer = true;
  spec.sampling.integrate_first_layer_bias = true;
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.observables.orders = {2, 4, 6};  // every even order has a closed form
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.sampling.integrate_output_layer = false;
  ExpectInvalid(Validate(spec), {"sampling.integrate_first_layer_bias",
                                 "needs sampling.integrate_output_layer"});
  spec.sampling.integrate_output_layer = true;
  std::get<GaussNetSpec>(spec.architecture).field.output_dim = 2;
  ExpectInvalid(Validate(spec), {"sampling.integrate_first_layer_bias",
                                 "output_dim = 1 (got 2)"});
  std::get<GaussNetSpec>(spec.architecture).field.output_dim = 1;
  spec.symmetry_checks = {
      SymmetryCheck{.kind = SymmetryCheck::Kind::kPhiSignFlip}};
  ExpectInvalid(Validate(spec),
                {"sampling.integrate_first_layer_bias", "phi -> -phi"});
  spec = ValidSpec();
  spec.sampling.integrate_output_layer = true;
  spec.sampling.integrate_first_layer_bias = true;
  ExpectInvalid(Validate(spec), {"sampling.integrate_first_layer_bias",
                                 "only for architecture.gauss_net"});
}

TEST(NumChunksTest, RoundsUp) {
  EXPECT_EQ(NumChunks({.num_networks = 2000, .chunk_size = 100}), 20);
  EXPECT_EQ(NumChunks({.num_networks = 2001, .chunk_size = 100}), 21);
  EXPECT_EQ(NumChunks({.num_networks = 1, .chunk_size = 100}), 1);
  EXPECT_EQ(NumChunks({.num_networks = int64_t{1} << 40, .chunk_size = 1}),
            int64_t{1} << 40);
}

TEST(SpecTest, InputDimAndActivationName) {
  EXPECT_EQ(InputDim(MlpSpec{.input_dim = 3}), 3);
  EXPECT_EQ(InputDim(GaussNetSpec{.input_dim = 5}), 5);
  EXPECT_EQ(InputDim(CosNetSpec{.input_dim = 2}), 2);
  EXPECT_EQ(ActivationName(Activation::kRelu), "relu");
  EXPECT_EQ(ActivationName(Activation::kGelu), "gelu");
  EXPECT_EQ(ActivationName(Activation::kCos), "cos");
}

}  // namespace
}  // namespace nnft
