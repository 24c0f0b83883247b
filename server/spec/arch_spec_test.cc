// The conv1d, attention and KAN architectures and the MLP's residual and
// g(Wx) fields through the server's spec path: JSON -> core spec (defaults,
// messages), core -> proto -> core, and the canonical bytes (decode gives the
// same bytes; every field changes the digest; a plain MLP keeps its bytes).
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

constexpr char kSeq[] =
    R"("points": [{"x": [0.9, -0.3, 0.2, 0.5, -0.6, 0.1, 0.4, -0.8]}]})";

std::string Json(const std::string& architecture, const char* points = kSeq) {
  return R"({"architecture": {)" + architecture + "}, " + points;
}

TEST(ArchSpecJsonTest, Conv1dDefaultsAndRoundTrip) {
  auto spec = SpecFromJson(Json(R"("conv1d": {"sequence_length": 4,
      "in_channels": 2, "kernel_size": 3, "channels": 8,
      "activation": "ACTIVATION_RELU", "padding": "PADDING_ZERO",
      "output_position": 3})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  const auto& c = std::get<Conv1dSpec>(spec->architecture);
  EXPECT_EQ(c.layers, 1);
  EXPECT_EQ(c.padding, Padding::kZero);
  EXPECT_EQ(c.sw, (std::vector<double>{1, 1}));
  EXPECT_EQ(c.sb, (std::vector<double>{0, 0}));
  auto back = SpecFromProto(SpecToProto(*spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(CanonicalSpecBytes(*back), CanonicalSpecBytes(*spec));
}

TEST(ArchSpecJsonTest, AttentionDefaultsAreTheDocumentedOnes) {
  // spec.proto documents head_dim's default as 1; the conversion takes every
  // default from the core type, so the core type must hold the same.
  auto spec = SpecFromJson(Json(R"("attention": {"sequence_length": 4,
      "embed_dim": 2, "heads": 3, "output_position": 1})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  const auto& a = std::get<AttentionSpec>(spec->architecture);
  EXPECT_EQ(a.head_dim, 1);
  EXPECT_EQ(a.head_dim, AttentionSpec{}.head_dim);
  EXPECT_EQ(a.sq, 1.0);
  EXPECT_EQ(a.so, 1.0);
}

TEST(ArchSpecJsonTest, AttentionAndKanRoundTrip) {
  for (const std::string& arch :
       {std::string(R"("attention": {"sequence_length": 4, "embed_dim": 2,
          "heads": 3, "head_dim": 2, "output_position": 1,
          "output_component": 1, "sq": 1.5, "sb": 0.1})"),
        std::string(R"("kan": {"input_dim": 8, "width": 5,
          "spline_order": 1, "sc1": 0.5})")}) {
    auto spec = SpecFromJson(Json(arch));
    ASSERT_TRUE(spec.ok()) << spec.status();
    auto back = SpecFromProto(SpecToProto(*spec));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(CanonicalSpecBytes(*back), CanonicalSpecBytes(*spec));
    auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*spec));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*spec));
  }
  auto kan = SpecFromJson(Json(R"("kan": {"input_dim": 8, "width": 5})"));
  ASSERT_TRUE(kan.ok()) << kan.status();
  const auto& k = std::get<KanSpec>(kan->architecture);
  EXPECT_EQ(k.grid_size, 5);
  EXPECT_EQ(k.spline_order, 3);
  EXPECT_EQ(k.base_activation, Activation::kGelu);
}

TEST(ArchSpecJsonTest, MessagesNameTheField) {
  auto conv = SpecFromJson(Json(R"("conv1d": {"sequence_length": 8,
      "kernel_size": 3, "channels": 8})"));
  EXPECT_EQ(conv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(conv.status().message().find("spec.architecture.conv1d.activation"),
            std::string::npos)
      << conv.status();
  auto att = SpecFromJson(Json(R"("attention": {"sequence_length": 4,
      "embed_dim": 2, "heads": 0})"));
  EXPECT_NE(att.status().message().find(
                "spec.architecture.attention.heads = 0: must be in [1, "),
            std::string::npos)
      << att.status();
  auto points = SpecFromJson(Json(R"("attention": {"sequence_length": 3,
      "embed_dim": 2, "heads": 2})"));
  EXPECT_EQ(points.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ArchDigestTest, NewFieldsChangeTheDigest) {
  const char* kMlp = R"("mlp": {"input_dim": 8, "widths": [4, 4],
      "activation": "ACTIVATION_ERF")";
  auto plain = SpecFromJson(Json(std::string(kMlp) + "}"));
  auto residual =
      SpecFromJson(Json(std::string(kMlp) + R"(, "residual": true})"));
  auto projected =
      SpecFromJson(Json(std::string(kMlp) + R"(, "input_projection_dim": 3})"));
  ASSERT_TRUE(plain.ok() && residual.ok() && projected.ok());
  // Off, the new fields are absent from the canonical proto.
  const v1::ExperimentSpec canonical = CanonicalSpecProto(*plain);
  const v1::Mlp& mlp_proto = canonical.architecture().mlp();
  EXPECT_FALSE(mlp_proto.residual());
  EXPECT_EQ(mlp_proto.input_projection_dim(), 0);
  EXPECT_NE(SpecDigest(*plain), SpecDigest(*residual));
  EXPECT_NE(SpecDigest(*plain), SpecDigest(*projected));
  EXPECT_NE(SpecDigest(*residual), SpecDigest(*projected));
  for (const auto* s : {&*residual, &*projected}) {
    auto decoded = DecodeSpecBytes(CanonicalSpecBytes(*s));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(CanonicalSpecBytes(*decoded), CanonicalSpecBytes(*s));
    const auto& mlp = std::get<MlpSpec>(decoded->architecture);
    EXPECT_EQ(mlp.residual || mlp.input_projection_dim == 3, true);
  }
}

// Sequence length times channels beyond int range is refused by name, not
// overflowed (the input dimension is asked for before the ranges are checked).
TEST(ArchSpecJsonTest, HugeSequenceTimesChannelsIsInvalidArgument) {
  for (
      const std::string& arch :
      {std::string(
           R"("conv1d": {"activation": "ACTIVATION_ERF", "sequence_length": 1048576,
            "in_channels": 1048576})"),
       std::string(R"("attention": {"sequence_length": 1048576,
            "embed_dim": 1048576})")}) {
    auto spec = SpecFromJson(Json(arch));
    ASSERT_FALSE(spec.ok()) << arch;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find("sequence_length"),
              std::string::npos)
        << spec.status();
  }
}

// -0.0 and 0.0 are one spec: same digest from the binary proto, and the JSON
// form (where protobuf writes -0.0 as "-0") keeps it.
TEST(ArchDigestTest, NegativeZeroIsZero) {
  auto plus = SpecFromJson(
      R"({"architecture": {"mlp": {"activation": "ACTIVATION_ERF", "input_dim": 1,
      "widths": [4], "sb": [0.0, 0.0]}}, "points": [{"x": [0.0]}]})");
  ASSERT_TRUE(plus.ok()) << plus.status();
  v1::ExperimentSpec proto = SpecToProto(*plus);
  ASSERT_EQ(proto.architecture().mlp().sb_size(), 2);
  proto.mutable_points(0)->set_x(0, -0.0);
  proto.mutable_architecture()->mutable_mlp()->set_sb(0, -0.0);
  auto minus = SpecFromProto(proto);
  ASSERT_TRUE(minus.ok()) << minus.status();
  EXPECT_EQ(SpecDigest(*minus), SpecDigest(*plus));
  auto json = SpecProtoFromJson(SpecProtoToJson(proto));
  ASSERT_TRUE(json.ok()) << json.status();
  auto from_json = SpecFromProto(*json);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(SpecDigest(*from_json), SpecDigest(*plus));
}

}  // namespace
}  // namespace nnft::server
