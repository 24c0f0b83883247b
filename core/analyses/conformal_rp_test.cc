// Null-cone conformal fields, the OU-net and reflection positivity: Monte
// Carlo against exact values (seeded; tolerances in standard errors).
#include <algorithm>
#include <cmath>
#include <map>

#include "core/analyses/null_cone.h"
#include "core/analyses/reflection.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/theory/ou_net.h"
#include "core/theory/test_util.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

using theory::IsClose;

struct McRun {
  std::unique_ptr<Engine> engine;
  BinnedSums sums;
  TheoryValues theory;
};

McRun RunSpec(const ExperimentSpec& spec) {
  McRun run;
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  run.engine = std::move(*engine);
  std::map<int64_t, ChunkSums> chunks;
  const int64_t n = NumChunks(spec.sampling);
  EXPECT_TRUE(run.engine
                  ->RunChunks(0, n, 2,
                              [&](ChunkSums c) {
                                chunks.emplace(c.chunk, std::move(c));
                                return true;
                              })
                  .ok());
  MomentAccumulator acc(run.engine->tuples(), spec.sampling.seed);
  for (auto& [k, c] : chunks) EXPECT_TRUE(acc.Add(c).ok());
  run.sums = acc.Binned();
  auto theory = ComputeTheory(run.engine->spec(), run.engine->tuples());
  EXPECT_TRUE(theory.ok()) << theory.status();
  run.theory = *theory;
  return run;
}

ExperimentSpec NullConeSpec4(ThetaLaw law) {
  ExperimentSpec spec;
  spec.architecture = NullConeSpec{.input_dim = 4, .law = law, .scale = 1.0};
  spec.points.resize(5, 4);
  spec.points << 0.1, 0.2, -0.3, 0.4,  //
      1.0, -0.5, 0.2, 0.0,             //
      -0.7, 0.9, 0.3, -0.2,            //
      0.4, 0.4, 1.1, 0.6,              //
      -1.2, -0.3, -0.8, 0.5;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 11, .num_networks = 40000, .chunk_size = 1000};
  return spec;
}

TEST(NullConeTest, ExactMomentsOfTheLaws) {
  // n = 6: sphere mu2 = 1/6, mu4 = 3/48; Gaussian scale 2: 4 and 48.
  const ThetaMoments s = ExactThetaMoments({.input_dim = 4});
  EXPECT_TRUE(IsClose(s.mu2, 1.0 / 6, 1e-15));
  EXPECT_TRUE(IsClose(s.mu4, 1.0 / 16, 1e-15));
  const ThetaMoments g = ExactThetaMoments(
      {.input_dim = 4, .law = ThetaLaw::kGaussian, .scale = 2});
  EXPECT_TRUE(IsClose(g.mu2, 4, 1e-15));
  EXPECT_TRUE(IsClose(g.mu4, 48, 1e-15));
  // Radial atoms 1 and 2 with weights 1, 3: E R^2 = 13/4, E R^4 = 49/4.
  const ThetaMoments r = ExactThetaMoments({.input_dim = 4,
                                            .law = ThetaLaw::kRadial,
                                            .radii = {1, 2},
                                            .radial_weights = {1, 3}});
  EXPECT_TRUE(IsClose(r.mu2, 13.0 / 4 / 6, 1e-15));
  EXPECT_TRUE(IsClose(r.mu4, 3 * 49.0 / 4 / 48, 1e-15));
}

TEST(NullConeTest, SphereLawG4AndConformalBlockMatchExactInD4) {
  const ExperimentSpec spec = NullConeSpec4(ThetaLaw::kSphere);
  McRun run = RunSpec(spec);
  const ConformalResult r =
      AnalyzeNullCone(spec, run.engine->tuples(), run.sums);
  EXPECT_TRUE(IsClose(r.mu2, 1.0 / 6, 1e-12));  // |Theta| = 1 exactly
  EXPECT_EQ(r.mu2_stderr, 0.0);
  EXPECT_LT(std::abs(r.mu4 - 1.0 / 16), 4 * r.mu4_stderr);
  EXPECT_LT(std::abs(r.mu4_mixed - 1.0 / 16), 4 * r.mu4_mixed_stderr);
  ASSERT_EQ(r.four_point.size(), 5u);  // C(5, 4)
  ASSERT_EQ(r.two_point.size(), 10u);
  for (const ConformalFourPoint& e : r.four_point) {
    const auto d2 = [&](int a, int b) {
      return (spec.points.row(e.index[a]) - spec.points.row(e.index[b]))
          .squaredNorm();
    };
    // Independent exact values from the distances.
    const double u = d2(0, 1) * d2(2, 3) / (d2(0, 2) * d2(1, 3));
    const double v = d2(0, 3) * d2(1, 2) / (d2(0, 2) * d2(1, 3));
    const double g = (1.0 / 48) * (1 + 1 / u + v / u);
    const double g4 =
        (1.0 / 48) * 0.25 *
        (d2(0, 1) * d2(2, 3) + d2(0, 2) * d2(1, 3) + d2(0, 3) * d2(1, 2));
    EXPECT_TRUE(IsClose(e.u, u, 1e-12));
    EXPECT_TRUE(IsClose(e.v, v, 1e-12));
    EXPECT_TRUE(IsClose(e.g_exact, g, 1e-12));
    EXPECT_TRUE(IsClose(e.g4_exact, g4, 1e-12));
    EXPECT_LT(std::abs(e.g - g), 4 * e.g_stderr);
    EXPECT_LT(std::abs(e.g4 - g4), 4 * e.g4_stderr);
    // G4_c = (mu4/3 - mu2^2) sum = (1/48 - 1/36) sum < 0.
    EXPECT_LT(std::abs(e.g4c - e.g4c_exact), 4 * e.g4c_stderr);
    EXPECT_LT(e.g4c_exact, 0);
  }
  for (const ConformalTwoPoint& e : r.two_point) {
    const double x =
        -0.5 * (spec.points.row(e.i) - spec.points.row(e.j)).squaredNorm();
    EXPECT_TRUE(IsClose(e.value, x / 6, 1e-12));
  }
}

TEST(NullConeTest, CovarianceChecksPassForTheNullConeField) {
  const ExperimentSpec spec = NullConeSpec4(ThetaLaw::kGaussian);
  McRun run = RunSpec(spec);
  ConformalResult r = AnalyzeNullCone(spec, run.engine->tuples(), run.sums);
  ASSERT_EQ(r.checks.size(), 5u);
  for (const CovarianceCheck& c : r.checks) {
    EXPECT_TRUE(c.passed) << c.transformation << " " << c.max_abs_z;
    EXPECT_EQ(c.dof, 15) << c.transformation;  // 10 pairs + 5 quadruples
  }
  // Gaussian Theta: free field, G4_c = 0 exactly.
  for (const ConformalFourPoint& e : r.four_point) {
    EXPECT_EQ(e.g4c_exact, 0.0);
    EXPECT_LT(std::abs(e.g4c), 4 * e.g4c_stderr);
  }
}

TEST(NullConeTest, EngineFormTheoryComparesThetaStatistics) {
  const ExperimentSpec spec = NullConeSpec4(ThetaLaw::kRadial);
  ExperimentSpec radial = spec;
  std::get<NullConeSpec>(radial.architecture).radii = {0.5, 1.5};
  std::get<NullConeSpec>(radial.architecture).radial_weights = {2, 1};
  McRun run = RunSpec(radial);
  MomentAccumulator acc(run.engine->tuples(), 1);
  ASSERT_EQ(run.theory.exact_full.size(), 3u);
  const ConformalResult r =
      AnalyzeNullCone(radial, run.engine->tuples(), run.sums);
  // E R^2 = (2 * 0.25 + 2.25)/3, E R^4 = (2 * 0.0625 + 5.0625)/3.
  EXPECT_TRUE(IsClose(run.theory.exact_full[0], (0.5 + 2.25) / 3 / 6, 1e-14));
  EXPECT_TRUE(
      IsClose(run.theory.exact_full[1], 3 * (0.125 + 5.0625) / 3 / 48, 1e-14));
  EXPECT_LT(std::abs(r.mu2 - run.theory.exact_full[0]), 4 * r.mu2_stderr);
  EXPECT_LT(std::abs(r.mu4 - run.theory.exact_full[1]), 4 * r.mu4_stderr);
}

TEST(NullConeTest, RejectsIntegrateOutputLayerAndReflection) {
  ExperimentSpec spec = NullConeSpec4(ThetaLaw::kSphere);
  spec.sampling.integrate_output_layer = true;
  EXPECT_EQ(Validate(spec).code(), absl::StatusCode::kInvalidArgument);
  spec.sampling.integrate_output_layer = false;
  spec.reflection = {.enabled = true, .points = Eigen::MatrixXd::Ones(1, 4)};
  EXPECT_EQ(Validate(spec).code(), absl::StatusCode::kInvalidArgument);
}

TEST(OuNetTest, KernelOfIdentityNetIsLinearInTheOuCorrelation) {
  // K(a, b) = sb1^2 + sw1^2 (sb0^2 + sw0^2 a b): G2 = 0.25 + 4 (0.09 + 2.25
  // sigma^2 rho), sw0 = 1.5, sb0 = 0.3, sw1 = 2, sb1 = 0.5.
  OuNetSpec net{.tau = 0.7, .sigma = 1.3};
  net.mlp = {.input_dim = 1,
             .widths = {10},
             .activation = Activation::kIdentity,
             .sw = {1.5, 2.0},
             .sb = {0.3, 0.5}};
  Eigen::MatrixXd t(3, 1);
  t << 0.0, 0.4, 1.5;
  const Eigen::MatrixXd k = OuNetKernel(net, t);
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      const double rho = std::exp(-std::abs(t(a, 0) - t(b, 0)) / 0.7);
      EXPECT_TRUE(
          IsClose(k(a, b), 0.25 + 4 * (0.09 + 2.25 * 1.69 * rho), 1e-10));
    }
  }
}

ExperimentSpec RpSpec(Architecture arch, std::vector<double> times) {
  ExperimentSpec spec;
  spec.architecture = std::move(arch);
  spec.points.resize(1, 1);
  spec.points << 0.0;
  spec.observables.orders = {2};
  spec.reflection.enabled = true;
  spec.reflection.points.resize(static_cast<int>(times.size()), 1);
  for (size_t i = 0; i < times.size(); ++i)
    spec.reflection.points(i, 0) = times[i];
  spec.sampling = {.seed = 5, .num_networks = 40000, .chunk_size = 500};
  return spec;
}

TEST(ReflectionTest, OuNetIsReflectionPositiveAndMatchesItsExactMatrix) {
  OuNetSpec net{.tau = 1.0, .sigma = 1.0};
  net.mlp = {.input_dim = 1,
             .widths = {20},
             .activation = Activation::kErf,
             .sw = {1.5, 1.0},
             .sb = {0.5, 0.0}};
  ExperimentSpec spec = RpSpec(net, {0.2, 0.6, 1.4});
  spec.sampling.integrate_output_layer = true;
  spec.reflection.include_four_point = true;
  McRun run = RunSpec(spec);
  const ReflectionResult r =
      AnalyzeReflection(spec, run.engine->tuples(), run.sums, run.theory);
  ASSERT_TRUE(r.two_point.has_exact);
  EXPECT_GE(r.two_point.exact_eigenvalues.front(), -1e-10);
  EXPECT_EQ(r.two_point.verdict, "holds") << r.two_point.z;
  const double times[3] = {0.2, 0.6, 1.4};
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      // Translation invariance: M_ab = G(t_a + t_b).
      Eigen::MatrixXd pair(2, 1);
      pair << 0.0, times[a] + times[b];
      EXPECT_TRUE(IsClose(r.two_point.exact(a, b), OuNetKernel(net, pair)(0, 1),
                          1e-12));
    }
  }
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_LT(
        std::abs(r.two_point.eigenvalues[k] - r.two_point.exact_eigenvalues[k]),
        4 * r.two_point.eigenvalue_stderr[k])
        << k;
  }
  ASSERT_TRUE(r.has_four_point);
  EXPECT_EQ(r.four_point.size, 6);
  EXPECT_NE(r.four_point.verdict, "violated") << r.four_point.z;
}

TEST(ReflectionTest, SharpCutoffCosNetViolatesAsItsExactMatrixSays) {
  ExperimentSpec spec = RpSpec(
      CosNetSpec{.input_dim = 1, .width = 50, .mass = 1.0, .cutoff = 2.0},
      {0.5, 1.0, 1.5, 2.0});
  spec.sampling.integrate_output_layer = true;
  spec.sampling.num_networks = 20000;
  McRun run = RunSpec(spec);
  const ReflectionResult r =
      AnalyzeReflection(spec, run.engine->tuples(), run.sums, run.theory);
  ASSERT_TRUE(r.two_point.has_exact);
  // (1/pi) int_0^2 cos(p t)/(p^2 + 1) dp at t_i + t_j, smallest eigenvalue
  // -2.31944732e-02 (independent quadrature, scipy).
  EXPECT_TRUE(
      IsClose(r.two_point.exact_eigenvalues.front(), -2.31944732e-02, 1e-6));
  EXPECT_EQ(r.two_point.verdict, "violated") << r.two_point.z;
  EXPECT_LT(std::abs(r.two_point.min_eigenvalue -
                     r.two_point.exact_eigenvalues.front()),
            4 * r.two_point.min_stderr);
  EXPECT_GT(r.two_point.p_negative, 0.999);
}

TEST(ReflectionTest, GaussNetKernelIsNotReflectionPositive) {
  ExperimentSpec spec =
      RpSpec(GaussNetSpec{.input_dim = 1, .width = 10}, {0.25, 0.5, 1.0});
  spec.sampling.num_networks = 2000;
  McRun run = RunSpec(spec);
  const ReflectionResult r =
      AnalyzeReflection(spec, run.engine->tuples(), run.sums, run.theory);
  // exp(-(t_i + t_j)^2 / 2): smallest eigenvalue -0.08918221 (numpy).
  ASSERT_TRUE(r.two_point.has_exact);
  EXPECT_TRUE(
      IsClose(r.two_point.exact_eigenvalues.front(), -0.08918221, 1e-6));
}

TEST(ReflectionTest, EngineFormAppendsOriginalsThenReflections) {
  ExperimentSpec spec = RpSpec(
      MlpSpec{.input_dim = 2, .widths = {5}, .sw = {1, 1}, .sb = {0, 0}}, {});
  spec.points.resize(2, 2);
  spec.points << 0, 0, 1, 1;
  spec.reflection.axis = 1;
  spec.reflection.points.resize(2, 2);
  spec.reflection.points << 0.5, 0.25, -1.0, 2.0;
  auto engine_spec = EngineSpec(spec);
  ASSERT_TRUE(engine_spec.ok()) << engine_spec.status();
  ASSERT_EQ(engine_spec->points.rows(), 6);
  EXPECT_EQ(engine_spec->points(2, 1), 0.25);
  EXPECT_EQ(engine_spec->points(4, 1), -0.25);
  EXPECT_EQ(engine_spec->points(5, 0), -1.0);
  EXPECT_FALSE(engine_spec->reflection.enabled);
  // 3 user pairs of two points (orders {2}) then the 4 RP cells.
  EXPECT_EQ(engine_spec->observables.tuples.size(), 3u + 4u);
  spec.reflection.points(0, 1) = -0.1;  // not in the positive half-space
  EXPECT_EQ(EngineSpec(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nnft
