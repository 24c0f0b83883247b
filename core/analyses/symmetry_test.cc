// Symmetry checks, multi-component fields and the cluster property, through
// the engine and the estimators. Seeds are fixed; Monte-Carlo values are
// compared with exact ones within stated numbers of standard errors, and a
// broken symmetry must be detected (max |z| above the Bonferroni threshold).
#include "core/analyses/symmetry.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "Eigen/Geometry"
#include "Eigen/QR"
#include "core/analyses/symmetry_estimate.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

constexpr double kMaxZ = 4.5;

struct McRun {
  CorrelatorEstimate estimate;
  CheckResults checks;
  TheoryValues theory;
};

McRun RunSpec(const ExperimentSpec& spec) {
  McRun run;
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return run;
  const int64_t num_chunks = NumChunks(spec.sampling);
  MomentAccumulator acc((*engine)->tuples(), spec.sampling.seed);
  for (int64_t k = 0; k < num_chunks; ++k) {
    EXPECT_TRUE(acc.Add((*engine)->RunChunk(k)).ok());
  }
  run.estimate = acc.Finish();
  auto checks = EstimateChecks(spec, (*engine)->tuples(), acc);
  EXPECT_TRUE(checks.ok()) << checks.status();
  if (checks.ok()) run.checks = *checks;
  auto theory = ComputeTheory(spec, (*engine)->tuples());
  EXPECT_TRUE(theory.ok()) << theory.status();
  if (theory.ok()) run.theory = *theory;
  return run;
}

Eigen::MatrixXd Rotation3() {
  return Eigen::AngleAxisd(0.9, Eigen::Vector3d(1, 2, 2).normalized())
      .toRotationMatrix();
}

// A fixed rotation in SO(n) from the QR decomposition of a fixed matrix.
Eigen::MatrixXd RotationN(int n) {
  Eigen::MatrixXd a(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) a(i, j) = std::sin(1.0 + 3 * i + 7 * j * j);
  }
  Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(a).householderQ();
  if (q.determinant() < 0) q.col(0) *= -1.0;
  return q;
}

SymmetryCheck RotationCheck(const Eigen::MatrixXd& r) {
  SymmetryCheck c;
  c.kind = SymmetryCheck::Kind::kRotation;
  c.matrix = r;
  return c;
}

ExperimentSpec ErfNet3d(std::vector<double> axes) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 3,
                              .widths = {20},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.5, 0.0},
                              .field = {.sw0_axes = std::move(axes)}};
  spec.points.resize(3, 3);
  spec.points << 0.8, -0.3, 0.5, -0.6, 0.9, 0.2, 0.1, 0.4, -1.0;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 11, .num_networks = 40000, .chunk_size = 1000};
  spec.symmetry_checks = {RotationCheck(Rotation3())};
  return spec;
}

TEST(SymmetryValidationTest, RejectsMatricesThatAreNotRotations) {
  ExperimentSpec spec = ErfNet3d({});
  const Eigen::MatrixXd r = Rotation3();
  const std::vector<Eigen::MatrixXd> bad = {
      1.01 * r,                                    // not orthogonal
      Eigen::MatrixXd::Zero(3, 3),                 // singular
      Eigen::Vector3d(1, 1, -1).asDiagonal() * r,  // det -1
      Eigen::MatrixXd::Identity(2, 2),             // wrong size
  };
  for (const Eigen::MatrixXd& m : bad) {
    spec.symmetry_checks = {RotationCheck(m)};
    const absl::Status status = Validate(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << m;
    EXPECT_NE(status.message().find("symmetry_checks[0].rotation"),
              std::string::npos)
        << status;
  }
  spec.symmetry_checks = {RotationCheck(r)};
  EXPECT_TRUE(Validate(spec).ok());
}

TEST(SymmetryValidationTest, RejectsBadOutputRotationAndPermutation) {
  ExperimentSpec spec = ErfNet3d({});
  std::get<MlpSpec>(spec.architecture).field.output_dim = 2;
  SymmetryCheck c;
  c.kind = SymmetryCheck::Kind::kOutputRotation;
  c.matrix = Eigen::MatrixXd::Identity(2, 2);
  c.matrix(0, 1) = 0.1;
  spec.symmetry_checks = {c};
  EXPECT_EQ(Validate(spec).code(), absl::StatusCode::kInvalidArgument);
  c.kind = SymmetryCheck::Kind::kCoordinatePermutation;
  c.permutation = {0, 0, 2};
  spec.symmetry_checks = {c};
  EXPECT_EQ(Validate(spec).code(), absl::StatusCode::kInvalidArgument);
}

// Features without multi-component or check support reject them by name.
TEST(SymmetryValidationTest, RejectsUnsupportedCombinations) {
  using Edit = void (*)(ExperimentSpec&);
  const std::vector<std::pair<std::string, Edit>> features = {
      {"width_sweep",
       [](ExperimentSpec& s) {
         s.width_sweep = {10, 20};
       }},
      {"insertion", [](ExperimentSpec& s) { s.insertion = Insertion{}; }},
      {"deformation",
       [](ExperimentSpec& s) {
         std::get<MlpSpec>(s.architecture).deformation = Deformation{};
       }},
      {"training",
       [](ExperimentSpec& s) {
         TrainingSpec t;
         t.x = Eigen::MatrixXd::Zero(2, 3);
         t.y = Eigen::VectorXd::Zero(2);
         s.training = t;
       }},
  };
  for (const auto& [name, edit] : features) {
    ExperimentSpec checks = ErfNet3d({});  // output_dim 1, a rotation check
    edit(checks);
    absl::Status status = Validate(checks);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("symmetry_checks"), std::string::npos)
        << status;
    EXPECT_NE(status.message().find(name), std::string::npos) << status;
    ExperimentSpec multi = ErfNet3d({});
    multi.symmetry_checks.clear();
    std::get<MlpSpec>(multi.architecture).field.output_dim = 2;
    edit(multi);
    status = Validate(multi);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_NE(status.message().find("output_dim = 2"), std::string::npos)
        << status;
  }
  ExperimentSpec axes = ErfNet3d({1.0, 2.0, 0.5});
  axes.symmetry_checks.clear();
  std::get<MlpSpec>(axes.architecture).deformation = Deformation{};
  EXPECT_EQ(Validate(axes).code(), absl::StatusCode::kInvalidArgument);
  std::get<MlpSpec>(axes.architecture).deformation.reset();
  EXPECT_TRUE(Validate(axes).ok());
}

TEST(MultiComponentTest, ComponentZeroDrawsTheSingleComponentNumbers) {
  ExperimentSpec one = ErfNet3d({});
  one.symmetry_checks.clear();
  one.observables.orders = {2};
  one.sampling.num_networks = 4000;
  ExperimentSpec two = one;
  std::get<MlpSpec>(two.architecture).field.output_dim = 2;
  // Slots of component 0 are 0, 2, 4: the tuples (0,0), (0,2), (2,4).
  two.observables.orders.clear();
  two.observables.tuples = {{0, 0}, {0, 2}, {2, 4}};
  one.observables.orders.clear();
  one.observables.tuples = {{0, 0}, {0, 1}, {1, 2}};
  const McRun a = RunSpec(one), b = RunSpec(two);
  ASSERT_EQ(a.estimate.mean.size(), 3u);
  ASSERT_EQ(b.estimate.mean.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.estimate.mean[i], b.estimate.mean[i]) << i;  // same bits
  }
}

TEST(MultiComponentTest, TwoPointFunctionIsDeltaTimesKernel) {
  ExperimentSpec spec = ErfNet3d({});
  spec.symmetry_checks.clear();
  std::get<MlpSpec>(spec.architecture).field.output_dim = 3;
  spec.observables.orders = {2};
  const McRun run = RunSpec(spec);
  ASSERT_EQ(run.estimate.mean.size(), 45u);  // C(9 + 1, 2) slot pairs
  for (size_t i = 0; i < run.estimate.mean.size(); ++i) {
    const Tuple& t = run.estimate.tuples[i];
    const double exact = run.theory.exact_full[i];
    const double expect =
        t[0] % 3 == t[1] % 3 ? run.theory.kernel(t[0] / 3, t[1] / 3) : 0.0;
    EXPECT_NEAR(exact, expect, 1e-12) << i;
    EXPECT_LT(std::abs(run.estimate.mean[i] - exact),
              kMaxZ * run.estimate.stderr_mean[i])
        << "slots " << t[0] << "," << t[1];
  }
}

TEST(RotationCheckTest, HoldsForGaussianFirstLayerInThreeDimensions) {
  const McRun run = RunSpec(ErfNet3d({}));
  ASSERT_EQ(run.checks.symmetry.size(), 1u);
  const SymmetryResult& r = run.checks.symmetry[0];
  EXPECT_EQ(r.kind, "rotation");
  EXPECT_GT(r.dof, 20);
  EXPECT_TRUE(r.consistent)
      << "max|z| " << r.max_abs_z << " threshold " << r.z_threshold;
  EXPECT_LT(r.chi2_per_dof, 3.0);
}

TEST(RotationCheckTest, FailsDetectablyForAnAnisotropicFirstLayer) {
  const McRun run = RunSpec(ErfNet3d({1.0, 1.0, 2.0}));
  const SymmetryResult& r = run.checks.symmetry.at(0);
  EXPECT_FALSE(r.consistent);
  EXPECT_GT(r.max_abs_z, 2 * r.z_threshold);
  // The anisotropic net at x is the isotropic one at x' = (x, y, 2z): its
  // theory (which the estimate must match) is not rotation invariant.
  for (size_t i = 0; i < run.estimate.mean.size(); ++i) {
    EXPECT_LT(std::abs(run.estimate.mean[i] - run.theory.exact_full[i]),
              kMaxZ * run.estimate.stderr_mean[i]);
  }
}

ExperimentSpec GaussNet5(std::vector<double> mean) {
  ExperimentSpec spec;
  spec.architecture =
      GaussNetSpec{.input_dim = 2,
                   .width = 50,
                   .sw0 = 1.0,
                   .sb0 = 0.0,
                   .sw1 = 1.0,
                   .sb1 = 0.2,
                   .field = {.output_dim = 5, .output_mean = std::move(mean)}};
  spec.points.resize(2, 2);
  spec.points << 0.3, -0.2, -0.5, 0.6;
  spec.observables.orders = {1, 2};
  spec.sampling = {.seed = 5, .num_networks = 20000, .chunk_size = 500};
  SymmetryCheck c;
  c.kind = SymmetryCheck::Kind::kOutputRotation;
  c.matrix = RotationN(5);
  spec.symmetry_checks = {c};
  return spec;
}

TEST(OutputRotationCheckTest, GaussNetIsSoFiveInvariant) {
  const McRun run = RunSpec(GaussNet5({}));
  const SymmetryResult& r = run.checks.symmetry.at(0);
  EXPECT_EQ(r.kind, "output_rotation");
  EXPECT_EQ(r.dof, 65);  // 10 one-point and 55 two-point slot tuples
  EXPECT_TRUE(r.consistent) << r.max_abs_z << " vs " << r.z_threshold;
  EXPECT_LT(r.chi2_per_dof, 3.0);
}

TEST(OutputRotationCheckTest, ShiftedOutputMeansBreakSoFive) {
  const McRun run = RunSpec(GaussNet5({0.5, 0.0, -0.5, 0.0, 0.0}));
  const SymmetryResult& r = run.checks.symmetry.at(0);
  EXPECT_FALSE(r.consistent);
  EXPECT_GT(r.max_abs_z, 2 * r.z_threshold);
}

TEST(SignFlipCheckTest, EvenOrdersAreExactlyInvariantOddOrdersTested) {
  ExperimentSpec spec = GaussNet5({});
  spec.symmetry_checks[0].kind = SymmetryCheck::Kind::kPhiSignFlip;
  const McRun run = RunSpec(spec);
  const SymmetryResult& r = run.checks.symmetry.at(0);
  EXPECT_EQ(r.dof, 10);  // the one-point functions; G2 flips to itself
  EXPECT_TRUE(r.consistent) << r.max_abs_z;
  for (size_t i = 0; i < r.tuples.size(); ++i) {
    if (r.tuples[i].size() == 2) EXPECT_EQ(r.difference[i], 0.0);
  }
}

// The Gauss-net's G2 is translation invariant at every width, but its
// finite-width G4_c is not: E[h1 h2 h3 h4] = exp((sw0^2/2d)(|sum x|^2 -
// 2 sum |x|^2)) gains exp((sw0^2/d)(4|a|^2 + 2 a.sum x)) under x -> x + a.
// The measured paired differences must match the exact ones.
TEST(TranslationCheckTest, GaussNetFourPointBreaksItAsTheExactTheorySays) {
  ExperimentSpec spec;
  spec.architecture = GaussNetSpec{.input_dim = 2, .width = 8};
  spec.points.resize(2, 2);
  spec.points << 0.3, -0.2, -0.4, 0.5;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 9, .num_networks = 40000, .chunk_size = 500};
  SymmetryCheck shift;
  shift.kind = SymmetryCheck::Kind::kTranslation;
  shift.vector = Eigen::Vector2d(0.6, -0.4);
  spec.symmetry_checks = {shift};
  const McRun run = RunSpec(spec);
  ExperimentSpec moved = spec;
  moved.symmetry_checks.clear();
  moved.points.rowwise() += shift.vector.transpose();
  const McRun exact_moved = RunSpec(moved);  // (theory only is used)
  const SymmetryResult& r = run.checks.symmetry.at(0);
  ASSERT_EQ(r.tuples.size(), run.theory.exact_full.size());
  for (size_t i = 0; i < r.tuples.size(); ++i) {
    const double exact =
        exact_moved.theory.exact_full[i] - run.theory.exact_full[i];
    if (r.tuples[i].size() == 2) EXPECT_NEAR(exact, 0.0, 1e-12);
    EXPECT_LT(std::abs(r.difference[i] - exact), kMaxZ * r.stderr_difference[i])
        << "tuple " << i << ": " << r.difference[i] << " +- "
        << r.stderr_difference[i] << " vs exact " << exact;
  }
  EXPECT_FALSE(r.consistent) << r.max_abs_z;
}

// Gauss-net, d = 1, sw0 = sw1 = 1, sb = 0, pairs at 0 and at s:
//   D(s) = G4(0, 0, s, s) - G2(0, 0) G2(s, s)
//        = 2 exp(-s^2) + (1/N)(2 - 2 exp(-s^2))
// (GP part 2 K(0, s)^2; G4_c = (1/N)(3 M4 - C00 Css - 2 C0s^2) with
// M4 = E[h(0)^2 h(s)^2] = 1, C(x, x) = 1, PHYSICS.md). The GP part clusters
// (Gaussian decay); the finite-width part tends to 2/N, so the finite-N
// Gauss-net does not cluster, by O(1/N). Separations stop at 1.5: beyond,
// the estimator's variance, ~exp(4 s^2), makes the errors unreliable.
TEST(ClusterCheckTest, GaussNetFourPointFactorisesWithSeparation) {
  constexpr int kWidth = 1000;
  ExperimentSpec spec;
  spec.architecture = GaussNetSpec{.input_dim = 1, .width = kWidth, .sw0 = 1.0};
  spec.points = Eigen::MatrixXd::Zero(1, 1);
  spec.observables.orders = {2};
  spec.sampling = {.seed = 3, .num_networks = 40000, .chunk_size = 500};
  ClusterCheck c;
  c.points = {0, 0, 0, 0};
  c.direction = Eigen::VectorXd::Ones(1);
  c.separations = {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5};
  spec.cluster_checks = {c};
  const McRun run = RunSpec(spec);
  const ClusterResult& r = run.checks.cluster.at(0);
  ASSERT_EQ(r.value.size(), 7u);
  EXPECT_EQ(r.theory_kind, "finite width");
  for (size_t j = 0; j < r.value.size(); ++j) {
    const double s = r.separations[j], k2 = std::exp(-s * s);
    EXPECT_NEAR(r.theory[j], 2 * k2 + (2 - 2 * k2) / kWidth, 1e-9) << s;
    EXPECT_LT(std::abs(r.z_theory[j]), kMaxZ)
        << "s " << s << ": " << r.value[j] << " +- " << r.stderr_value[j]
        << " vs " << r.theory[j];
  }
  EXPECT_GT(r.value[0] / r.stderr_value[0], 10.0);  // correlated at s = 0
  EXPECT_LT(r.value.back(), 0.15 * r.value[0]);     // decayed by s = 1.5
  // The decay is Gaussian in s with xi = 1 (2 exp(-s^2)).
  EXPECT_EQ(r.gaussian.model, "gaussian");
  EXPECT_LT(std::abs(r.gaussian.scale - 1.0),
            5 * r.gaussian.scale_stderr + 0.05);
}

TEST(DecayFitTest, RecoversAnExponentialAndAPower) {
  std::vector<double> s = {1, 2, 3, 4}, e(4), p(4), se(4, 1e-4);
  for (int i = 0; i < 4; ++i) {
    e[i] = 2.0 * std::exp(-s[i] / 1.5);
    p[i] = 3.0 * std::pow(s[i], -2.5);
  }
  const DecayFit fe = FitDecay(s, e, se, DecayModel::kExponential);
  EXPECT_NEAR(fe.scale, 1.5, 1e-9);
  EXPECT_NEAR(fe.amplitude, 2.0, 1e-9);
  const DecayFit fp = FitDecay(s, p, se, DecayModel::kPower);
  EXPECT_NEAR(fp.scale, 2.5, 1e-9);
}

TEST(BonferroniTest, MatchesTheNormalQuantile) {
  EXPECT_NEAR(BonferroniThreshold(1, 0.01), 2.5758, 1e-3);
  EXPECT_NEAR(BonferroniThreshold(50, 0.01), 3.7190, 1e-3);
}

TEST(SymmetryPValueTest, CorrelatedEntriesGiveUniformPValues) {
  // An exact invariance (rotation of an isotropic erf net), 64 seeds of 64
  // bins: the entries share networks, so chi2 = sum z^2 is not chi^2(dof)
  // (measured: 20% of its p-values below 0.05). Hotelling's T^2 over the
  // bins' covariance gives p-values that are Uniform(0, 1): the share below
  // 0.05 must stay within 3 binomial spreads (0.05 + 0.082 at 64 seeds), and
  // the mean within 3 of its spreads of 1/2 (0.5 +- 0.108).
  constexpr int kSeeds = 64;
  int below = 0, independent_below = 0, with_p = 0;
  double sum = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    ExperimentSpec spec;
    spec.architecture = MlpSpec{.input_dim = 2,
                                .widths = {8},
                                .activation = Activation::kErf,
                                .sw = {1.5, 1.0},
                                .sb = {0.5, 0.1}};
    spec.points.resize(3, 2);
    spec.points << 0.8, -0.3, -0.6, 0.9, 0.1, 0.4;
    spec.observables.orders = {1, 2, 3, 4};
    spec.sampling = {.seed = static_cast<uint64_t>(70000 + seed),
                     .num_networks = 64 * 250,
                     .chunk_size = 250};
    SymmetryCheck rotation = RotationCheck(Eigen::Rotation2Dd(0.7).matrix());
    spec.symmetry_checks = {rotation};
    const McRun run = RunSpec(spec);
    ASSERT_EQ(run.checks.symmetry.size(), 1u);
    const SymmetryResult& r = run.checks.symmetry[0];
    ASSERT_GT(r.dof, 20);
    if (!std::isfinite(r.p_value_correlated)) continue;
    ++with_p;
    below += r.p_value_correlated < 0.05;
    sum += r.p_value_correlated;
    // The same share for chi2 read as chi^2(dof) (Wilson-Hilferty).
    const double k = r.dof, c = r.chi2 / k;
    const double wh =
        (std::cbrt(c) - (1 - 2 / (9 * k))) / std::sqrt(2 / (9 * k));
    independent_below += wh > 1.6449;
  }
  std::printf(
      "Hotelling p < 0.05: %d of %d, mean p %.3f; chi2 as chi^2(dof) "
      "p < 0.05: %d\n",
      below, with_p, sum / with_p, independent_below);
  ASSERT_EQ(with_p, kSeeds);
  EXPECT_LE(below, static_cast<int>(
                       kSeeds * (0.05 + 3 * std::sqrt(0.05 * 0.95 / kSeeds))));
  EXPECT_NEAR(sum / with_p, 0.5, 3 * std::sqrt(1.0 / 12 / kSeeds));
}

}  // namespace
}  // namespace nnft
