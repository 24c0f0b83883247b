#include "server/spec/digest.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/analyses/width_sweep.h"
#include "gtest/gtest.h"

namespace nnft::server {
namespace {

ExperimentSpec MlpExample() {
  ExperimentSpec spec;
  MlpSpec mlp;
  mlp.input_dim = 2;
  mlp.widths = {16, 8};
  mlp.activation = Activation::kTanh;
  mlp.sw = {1.0, 1.5, 0.5};
  mlp.sb = {0.0, 0.1, 0.2};
  spec.architecture = mlp;
  spec.points.resize(3, 2);
  spec.points << 0.0, 1.0, -0.5, 0.25, 1e-300, -2.0;
  spec.observables.orders = {4, 2};
  spec.observables.tuples = {{2, 0}, {1, 1, 0, 2}};
  spec.sampling.seed = 42;
  spec.sampling.num_networks = 10000;
  spec.sampling.chunk_size = 500;
  return spec;
}

bool SameSpec(const ExperimentSpec& a, const ExperimentSpec& b) {
  // Byte equality of the request encoding covers every field it holds;
  // num_networks is compared separately by the callers that need it.
  return RequestSpecBytes(a) == RequestSpecBytes(b);
}

TEST(SpecDigestTest, EqualSpecsGiveEqualDigests) {
  EXPECT_EQ(SpecDigest(MlpExample()), SpecDigest(MlpExample()));
  EXPECT_EQ(SpecDigest(MlpExample()).size(), 64u);
}

TEST(SpecDigestTest, NumNetworksIsIgnored) {
  ExperimentSpec more = MlpExample();
  more.sampling.num_networks = 123456789;
  EXPECT_EQ(SpecDigest(MlpExample()), SpecDigest(more));
}

TEST(SpecDigestTest, TupleOrderAndDuplicatesAreIgnored) {
  ExperimentSpec other = MlpExample();
  other.observables.tuples = {{0, 1, 1, 2}, {0, 2}, {2, 0}};
  other.observables.orders = {2, 4};
  EXPECT_EQ(SpecDigest(MlpExample()), SpecDigest(other));
  // ...but the request bytes keep the submitted order.
  EXPECT_NE(RequestSpecBytes(MlpExample()), RequestSpecBytes(other));
}

TEST(SpecDigestTest, EveryNumericFieldChangesTheDigest) {
  const std::string base = SpecDigest(MlpExample());
  std::vector<std::pair<std::string, std::function<void(ExperimentSpec&)>>>
      edits = {
          {"input_dim",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).input_dim = 3;
           }},
          {"widths",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).widths[1] = 9;
           }},
          {"depth",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).widths.push_back(8);
           }},
          {"activation",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).activation = Activation::kErf;
           }},
          {"sw",
           [](ExperimentSpec& s) {
             auto& sw = std::get<MlpSpec>(s.architecture).sw[2];
             sw = std::nextafter(sw, 1.0);
           }},
          {"sb",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).sb[0] = 1e-12;
           }},
          {"first_bias",
           [](ExperimentSpec& s) {
             std::get<MlpSpec>(s.architecture).first_bias =
                 BiasLaw::kUniformPhase;
           }},
          {"point bits", [](ExperimentSpec& s) { s.points(0, 0) = -0.0; }},
          {"point ulp",
           [](ExperimentSpec& s) {
             s.points(2, 0) = std::nextafter(s.points(2, 0), 1.0);
           }},
          {"orders", [](ExperimentSpec& s) { s.observables.orders = {2}; }},
          {"tuple",
           [](ExperimentSpec& s) {
             s.observables.tuples[0] = {0, 1};
           }},
          {"seed", [](ExperimentSpec& s) { s.sampling.seed = 43; }},
          {"chunk_size",
           [](ExperimentSpec& s) { s.sampling.chunk_size = 501; }},
          {"precision",
           [](ExperimentSpec& s) {
             s.sampling.precision = Precision::kFloat32;
           }},
          {"integrate_output_layer",
           [](ExperimentSpec& s) { s.sampling.integrate_output_layer = true; }},
          {"integrate_first_layer_bias",
           [](ExperimentSpec& s) {
             s.sampling.integrate_first_layer_bias = true;
           }},
          {"architecture",
           [](ExperimentSpec& s) {
             s.architecture = GaussNetSpec{.input_dim = 2};
           }},
      };
  for (const auto& [what, edit] : edits) {
    ExperimentSpec spec = MlpExample();
    edit(spec);
    EXPECT_NE(SpecDigest(spec), base) << what;
  }
}

TEST(SpecDigestTest, GaussNetAndCosNetFieldsChangeTheDigest) {
  ExperimentSpec g = MlpExample();
  g.architecture = GaussNetSpec{.input_dim = 2, .width = 10};
  ExperimentSpec g2 = g;
  std::get<GaussNetSpec>(g2.architecture).sb1 = 0.5;
  EXPECT_NE(SpecDigest(g), SpecDigest(g2));
  ExperimentSpec c = MlpExample();
  c.architecture = CosNetSpec{.input_dim = 2, .width = 10};
  ExperimentSpec c2 = c;
  std::get<CosNetSpec>(c2.architecture).cutoff = 11.0;
  EXPECT_NE(SpecDigest(c), SpecDigest(c2));
  EXPECT_NE(SpecDigest(g), SpecDigest(c));
}

TEST(DecodeSpecBytesTest, RoundTripsEveryArchitecture) {
  std::vector<ExperimentSpec> specs = {MlpExample(), MlpExample(),
                                       MlpExample()};
  specs[1].architecture = GaussNetSpec{.input_dim = 2,
                                       .width = 7,
                                       .sw0 = 1.25,
                                       .sb0 = 0.5,
                                       .sw1 = 2.0,
                                       .sb1 = 0.125};
  specs[2].architecture = CosNetSpec{
      .input_dim = 2, .width = 9, .mass = 0.5, .cutoff = 3.0, .sa = 2.0};
  specs[2].sampling.precision = Precision::kFloat32;
  specs[2].sampling.integrate_output_layer = true;
  for (const ExperimentSpec& spec : specs) {
    absl::StatusOr<ExperimentSpec> decoded =
        DecodeSpecBytes(RequestSpecBytes(spec));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(SameSpec(*decoded, spec));
    EXPECT_EQ(decoded->observables.tuples, spec.observables.tuples);
    EXPECT_EQ(decoded->points.rows(), spec.points.rows());
    EXPECT_EQ(decoded->sampling.seed, spec.sampling.seed);
    // The canonical form decodes to a spec with the same digest.
    absl::StatusOr<ExperimentSpec> canonical =
        DecodeSpecBytes(CanonicalSpecBytes(spec));
    ASSERT_TRUE(canonical.ok()) << canonical.status();
    EXPECT_EQ(SpecDigest(*canonical), SpecDigest(spec));
  }
}

TEST(DecodeSpecBytesTest, RejectsForeignBytesAndSurvivesTruncation) {
  const std::string bytes = RequestSpecBytes(MlpExample());
  EXPECT_EQ(DecodeSpecBytes(bytes + "x").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSpecBytes("hello").status().code(),
            absl::StatusCode::kDataLoss);
  // A prefix of a proto may itself be a proto (a field boundary): the job
  // row's checksum, not the codec, detects truncation. The decoder only
  // never crashes and never returns a spec that fails Validate.
  int rejected = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<ExperimentSpec> d = DecodeSpecBytes(bytes.substr(0, n));
    if (d.ok()) {
      EXPECT_TRUE(Validate(*d).ok()) << n;
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  // Rows of the old binary codec are recognised, not misread.
  EXPECT_TRUE(IsLegacySpecBytes(std::string("NNFT-SPEC\x01\0\0\0", 13)));
  EXPECT_FALSE(IsLegacySpecBytes(bytes));
  EXPECT_EQ(DecodeSpecBytes("NNFT-SPEC").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WidthSweepDigestTest, SweepHasItsOwnDigestAndEachWidthThatOfItsSpec) {
  ExperimentSpec sweep = MlpExample();
  sweep.width_sweep = {32, 8, 16};
  const std::string d = SpecDigest(sweep);
  EXPECT_NE(d, SpecDigest(MlpExample()));
  ExperimentSpec reordered = sweep;
  reordered.width_sweep = {8, 16, 32};
  EXPECT_EQ(SpecDigest(reordered), d);
  reordered.width_sweep = {8, 16, 64};
  EXPECT_NE(SpecDigest(reordered), d);
  // A sweep's width is stored under the digest of the single experiment.
  ExperimentSpec single = MlpExample();
  std::get<MlpSpec>(single.architecture).widths = {8, 8};
  single.sampling.seed = SweepWidthSeed(sweep.sampling.seed, 8);
  EXPECT_EQ(SpecDigest(SweepWidthSpec(sweep, 8)), SpecDigest(single));
  absl::StatusOr<ExperimentSpec> decoded =
      DecodeSpecBytes(RequestSpecBytes(sweep));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->width_sweep, sweep.width_sweep);
  EXPECT_TRUE(SameSpec(*decoded, sweep));
}

TEST(EngineFingerprintTest, NamesEngineVersionAndTarget) {
  const std::string f = EngineFingerprint();
  EXPECT_EQ(f.rfind("nnft-engine/", 0), 0u) << f;
  EXPECT_NE(f.find("; march="), std::string::npos) << f;
}

}  // namespace
}  // namespace nnft::server

namespace nnft::server {
namespace {

// Multi-component options and checks (spec fields 20-29).
ExperimentSpec WithChecks() {
  ExperimentSpec spec = MlpExample();
  spec.observables.tuples.clear();
  auto& mlp = std::get<MlpSpec>(spec.architecture);
  mlp.field.output_dim = 2;
  mlp.field.sw0_axes = {1.0, 2.0};
  mlp.field.output_mean = {0.5, 0.0};
  SymmetryCheck rotation;
  rotation.kind = SymmetryCheck::Kind::kRotation;
  rotation.matrix.resize(2, 2);
  rotation.matrix << 0.6, -0.8, 0.8, 0.6;
  rotation.label = "r";
  SymmetryCheck shift;
  shift.kind = SymmetryCheck::Kind::kTranslation;
  shift.vector = Eigen::Vector2d(0.5, -1.0);
  SymmetryCheck perm;
  perm.kind = SymmetryCheck::Kind::kCoordinatePermutation;
  perm.permutation = {1, 0};
  spec.symmetry_checks = {rotation, shift, perm};
  ClusterCheck cluster;
  cluster.points = {0, 1, 2, 0};
  cluster.component = 1;
  cluster.direction = Eigen::Vector2d(1.0, 0.0);
  cluster.separations = {0.0, 1.0, 2.0};
  cluster.label = "c";
  spec.cluster_checks = {cluster};
  return spec;
}

TEST(SymExtensionDigestTest, DefaultsAreOneEncoding) {
  // A field at its default encodes as the default does, set or not: the
  // canonical proto is written from the core spec with defaults explicit.
  const std::string bytes = CanonicalSpecBytes(MlpExample());
  ExperimentSpec same = MlpExample();
  std::get<MlpSpec>(same.architecture).field.output_dim = 1;
  EXPECT_EQ(CanonicalSpecBytes(same), bytes);
  EXPECT_EQ(CanonicalSpecProto(MlpExample()).symmetry_checks_size(), 0);
  EXPECT_GT(CanonicalSpecBytes(WithChecks()).size(), bytes.size());
}

TEST(SymExtensionDigestTest, CanonicalProtoClearsWhatTheNumbersIgnore) {
  ExperimentSpec spec = WithChecks();
  spec.observables.orders = {4, 2, 4};
  spec.width_sweep = {16, 8};
  const v1::ExperimentSpec canonical = CanonicalSpecProto(spec);
  EXPECT_FALSE(canonical.sampling().has_num_networks());
  for (const auto& c : canonical.symmetry_checks()) EXPECT_EQ(c.label(), "");
  for (const auto& c : canonical.cluster_checks()) EXPECT_EQ(c.label(), "");
  EXPECT_EQ(std::vector<int>(canonical.observables().orders().begin(),
                             canonical.observables().orders().end()),
            (std::vector<int>{2, 4}));
  EXPECT_EQ(std::vector<int>(canonical.width_sweep().widths().begin(),
                             canonical.width_sweep().widths().end()),
            (std::vector<int>{8, 16}));
}

TEST(SymExtensionDigestTest, EveryFieldChangesTheDigestLabelsDoNot) {
  const std::string base = SpecDigest(WithChecks());
  std::vector<std::function<void(ExperimentSpec&)>> edits = {
      [](ExperimentSpec& s) {
        std::get<MlpSpec>(s.architecture).field.output_dim = 3;
      },
      [](ExperimentSpec& s) {
        std::get<MlpSpec>(s.architecture).field.sw0_axes[1] = 3;
      },
      [](ExperimentSpec& s) {
        std::get<MlpSpec>(s.architecture).field.output_mean[1] = 1;
      },
      [](ExperimentSpec& s) { s.symmetry_checks[0].matrix(0, 1) = 0.8; },
      [](ExperimentSpec& s) { s.symmetry_checks[1].vector(0) = 0.25; },
      [](ExperimentSpec& s) {
        s.symmetry_checks[2].permutation = {0, 1};
      },
      [](ExperimentSpec& s) { s.symmetry_checks.pop_back(); },
      [](ExperimentSpec& s) { s.cluster_checks[0].separations[2] = 3; },
      [](ExperimentSpec& s) { s.cluster_checks[0].component = 0; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    ExperimentSpec edited = WithChecks();
    edits[i](edited);
    EXPECT_NE(SpecDigest(edited), base) << "edit " << i;
  }
  ExperimentSpec relabelled = WithChecks();
  relabelled.symmetry_checks[0].label = "other";
  relabelled.cluster_checks[0].label = "other";
  EXPECT_EQ(SpecDigest(relabelled), base);
}

TEST(SymExtensionDigestTest, KeysFromOneConversionEqualTheSeparateOnes) {
  ExperimentSpec swept = MlpExample();
  swept.width_sweep = {64, 16, 32};
  for (const ExperimentSpec& spec : {MlpExample(), swept, WithChecks()}) {
    const SpecKeys keys = SpecDigestAndRequestBytes(spec);
    EXPECT_EQ(keys.digest, SpecDigest(spec));
    EXPECT_EQ(keys.request_bytes, RequestSpecBytes(spec));
  }
}

TEST(SymExtensionDigestTest, RoundTripsWithLabelsInRequestMode) {
  const ExperimentSpec spec = WithChecks();
  absl::StatusOr<ExperimentSpec> decoded =
      DecodeSpecBytes(RequestSpecBytes(spec));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(RequestSpecBytes(*decoded), RequestSpecBytes(spec));
  EXPECT_EQ(decoded->symmetry_checks[0].label, "r");
  EXPECT_EQ(decoded->cluster_checks[0].label, "c");
  EXPECT_EQ(std::get<MlpSpec>(decoded->architecture).field.output_dim, 2);
  absl::StatusOr<ExperimentSpec> canonical =
      DecodeSpecBytes(CanonicalSpecBytes(spec));
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(SpecDigest(*canonical), SpecDigest(spec));
  EXPECT_TRUE(Validate(*canonical).ok()) << Validate(*canonical);
}

}  // namespace
}  // namespace nnft::server
