// The null-cone, OU-net and reflection-positivity fields through the spec's
// JSON, proto and canonical-bytes forms: round trips, digest sensitivity, and
// the field-naming errors.
#include <string>

#include "gtest/gtest.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr char kRpJson[] = R"({
  "architecture": {"ouNet": {"tau": 0.5, "sigma": 2.0,
    "mlp": {"widths": [8], "activation": "ACTIVATION_ERF"}}},
  "points": [{"x": [0.0]}],
  "observables": {"orders": [2]},
  "reflectionPositivity": {"points": [{"x": [0.5]}, {"x": [1.0]}],
                           "includeFourPoint": true, "zThreshold": 2.5},
  "sampling": {"seed": "3", "numNetworks": "4000", "chunkSize": 1000}
})";

constexpr char kConeJson[] = R"({
  "architecture": {"nullCone": {"inputDim": 2, "law": "THETA_LAW_RADIAL",
    "scale": 0.5, "radii": [1, 2], "radialWeights": [1, 3]}},
  "points": [{"x": [0, 0]}, {"x": [1, 0]}],
  "sampling": {"numNetworks": "4000"}
})";

TEST(AnalysesSpecTest, OuNetReflectionSpecRoundTripsThroughProtoAndBytes) {
  auto spec = SpecFromJson(kRpJson);
  ASSERT_TRUE(spec.ok()) << spec.status();
  const auto& ou = std::get<OuNetSpec>(spec->architecture);
  EXPECT_EQ(ou.tau, 0.5);
  EXPECT_EQ(ou.sigma, 2.0);
  EXPECT_EQ(ou.mlp.input_dim, 1);
  EXPECT_TRUE(spec->reflection.enabled);
  EXPECT_TRUE(spec->reflection.include_four_point);
  EXPECT_EQ(spec->reflection.z_threshold, 2.5);
  EXPECT_EQ(spec->reflection.points(1, 0), 1.0);
  auto again = SpecFromProto(SpecToProto(*spec));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(CanonicalSpecBytes(*again), CanonicalSpecBytes(*spec));
  auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*spec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*spec));
}

TEST(AnalysesSpecTest, ReflectionAndNullConeFieldsChangeTheDigest) {
  auto spec = SpecFromJson(kRpJson);
  ASSERT_TRUE(spec.ok());
  ExperimentSpec other = *spec;
  other.reflection.points(0, 0) = 0.25;
  EXPECT_NE(SpecDigest(other), SpecDigest(*spec));
  other = *spec;
  other.reflection.enabled = false;
  EXPECT_NE(SpecDigest(other), SpecDigest(*spec));
  auto cone = SpecFromJson(kConeJson);
  ASSERT_TRUE(cone.ok()) << cone.status();
  const auto& nc = std::get<NullConeSpec>(cone->architecture);
  EXPECT_EQ(nc.law, ThetaLaw::kRadial);
  EXPECT_EQ(nc.radial_weights[1], 3.0);
  ExperimentSpec sphere = *cone;
  std::get<NullConeSpec>(sphere.architecture).law = ThetaLaw::kSphere;
  std::get<NullConeSpec>(sphere.architecture).radii.clear();
  std::get<NullConeSpec>(sphere.architecture).radial_weights.clear();
  EXPECT_NE(SpecDigest(sphere), SpecDigest(*cone));
  auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*cone));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*cone));
}

TEST(AnalysesSpecTest, BadRequestsNameTheField) {
  std::string json = kRpJson;
  json.replace(json.find("[{\"x\": [0.5]}"), 13, "[{\"x\": [-0.5]}");
  auto spec = SpecFromJson(json);
  ASSERT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(
                "spec.reflection_positivity.points[0].x[0] = -0.5"),
            std::string::npos)
      << spec.status();
  std::string cone = kConeJson;
  cone.replace(cone.find("\"scale\": 0.5"), 12, "\"scale\": -1.0");
  spec = SpecFromJson(cone);
  ASSERT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(
      spec.status().message().find("spec.architecture.null_cone.scale = -1"),
      std::string::npos)
      << spec.status();
}

}  // namespace
}  // namespace nnft::server
