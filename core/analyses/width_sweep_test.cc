#include "core/analyses/width_sweep.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/sampling/engine.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

ExperimentSpec ErfSweep() {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {100},
                              .activation = Activation::kErf,
                              .sw = {2.0, 1.0},
                              .sb = {0.0, 0.0}};
  spec.points = Eigen::MatrixXd(2, 1);
  spec.points << 0.5, -1.0;
  spec.observables.orders = {2, 4, 6};
  spec.observables.tuples = {{0, 1}, {0, 0, 1, 1}, {0, 0, 0, 1, 1, 1}};
  spec.sampling.num_networks = 20000;
  spec.sampling.chunk_size = 500;
  spec.width_sweep = {8, 2, 4};
  return spec;
}

TEST(WithWidthTest, SetsEveryHiddenLayerAndClearsTheSweep) {
  ExperimentSpec spec = ErfSweep();
  std::get<MlpSpec>(spec.architecture).widths = {10, 20, 30};
  std::get<MlpSpec>(spec.architecture).sw = {1, 1, 1, 1};
  std::get<MlpSpec>(spec.architecture).sb = {0, 0, 0, 0};
  const ExperimentSpec one = WithWidth(spec, 7);
  EXPECT_EQ(std::get<MlpSpec>(one.architecture).widths,
            (std::vector<int>{7, 7, 7}));
  EXPECT_TRUE(one.width_sweep.empty());
  spec.architecture = GaussNetSpec{};
  EXPECT_EQ(std::get<GaussNetSpec>(WithWidth(spec, 9).architecture).width, 9);
  spec.architecture = CosNetSpec{};
  EXPECT_EQ(std::get<CosNetSpec>(WithWidth(spec, 11).architecture).width, 11);
}

TEST(ExpandWidthSweepTest, OneSpecPerWidthAscendingWithSameSampling) {
  const ExperimentSpec spec = ErfSweep();
  absl::StatusOr<std::vector<ExperimentSpec>> specs = ExpandWidthSweep(spec);
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 3u);
  const int want[] = {2, 4, 8};
  for (int i = 0; i < 3; ++i) {
    const ExperimentSpec& s = (*specs)[i];
    EXPECT_EQ(std::get<MlpSpec>(s.architecture).widths[0], want[i]);
    EXPECT_EQ(s.sampling.seed, SweepWidthSeed(spec.sampling.seed, want[i]));
    EXPECT_EQ(s.sampling.num_networks, spec.sampling.num_networks);
    EXPECT_EQ(s.sampling.chunk_size, spec.sampling.chunk_size);
    EXPECT_TRUE(s.width_sweep.empty());
  }
}

TEST(SweepWidthSeedTest, DiffersPerWidthAndIsFixed) {
  // SplitMix64 of seed + N * golden gamma; the value for (0, 1) is
  // SplitMix64's first output from state 0 (Vigna's reference sequence).
  EXPECT_EQ(SweepWidthSeed(0, 1), 0xE220A8397B1DCDAFull);
  std::set<uint64_t> seen;
  for (int n = 1; n <= 1000; ++n) seen.insert(SweepWidthSeed(7, n));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ValidateWidthSweepTest, RejectsBadListsNamingTheField) {
  ExperimentSpec spec = ErfSweep();
  const std::map<std::vector<int>, std::string> bad = {
      {{16}, "width_sweep.widths has 1 entries: must be in [2, 32]"},
      {{4, 0}, "width_sweep.widths[1] = 0: must be in [1, 1000000]"},
      {{4, 2000000},
       "width_sweep.widths[1] = 2000000: must be in [1, 1000000]"},
      {{4, 8, 4}, "width_sweep.widths[2] = 4: repeated"},
  };
  for (const auto& [widths, message] : bad) {
    spec.width_sweep = widths;
    absl::Status s = Validate(spec);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
  }
  spec.width_sweep.assign(33, 0);
  for (int i = 0; i < 33; ++i) spec.width_sweep[i] = i + 1;
  EXPECT_NE(Validate(spec).message().find("has 33 entries"), std::string::npos);
  // The parameter limit is checked per width.
  spec.width_sweep = {2, 100};
  std::get<MlpSpec>(spec.architecture).widths = {0};  // overridden
  EXPECT_NE(Validate(spec, Limits{.max_parameters = 250})
                .message()
                .find("width_sweep.widths[1] = 100: "),
            std::string::npos);
}

TEST(FitPowerLawTest, RecoversAnExactPowerLaw) {
  const std::vector<int> widths = {2, 4, 8, 16, 32};
  std::vector<double> values, errors;
  for (int n : widths) {
    values.push_back(-3.0 * std::pow(n, -2.0));  // the sign is dropped
    errors.push_back(0.01 * std::abs(values.back()));
  }
  const PowerLawFit fit = FitPowerLaw(widths, values, errors);
  EXPECT_NEAR(fit.exponent, -2.0, 1e-12);
  EXPECT_NEAR(fit.amplitude, 3.0, 1e-12);
  EXPECT_NEAR(fit.chi2, 0.0, 1e-18);
  EXPECT_EQ(fit.dof, 3);
  EXPECT_EQ(fit.widths_used, 5);
  EXPECT_EQ(fit.widths_dropped, 0);
}

TEST(FitPowerLawTest, TwoPointSlopeErrorMatchesPropagation) {
  // Two widths with relative errors r: var(s) = 2 r^2 / log(N2/N1)^2.
  const double r = 0.05;
  const PowerLawFit fit = FitPowerLaw({4, 16}, {1.0, 0.3}, {r, 0.3 * r});
  EXPECT_NEAR(fit.exponent, std::log(0.3) / std::log(4.0), 1e-12);
  EXPECT_NEAR(fit.exponent_stderr, std::sqrt(2.0) * r / std::log(4.0), 1e-12);
  EXPECT_EQ(fit.dof, 0);
  EXPECT_TRUE(std::isnan(fit.chi2_per_dof));
}

TEST(FitPowerLawTest, DropsNoiseDominatedWidthsAndCountsThem) {
  const PowerLawFit fit =
      FitPowerLaw({2, 4, 8, 16}, {1.0, 0.5, 0.01, NAN}, {0.01, 0.01, 0.01, 1});
  EXPECT_EQ(fit.widths_used, 2);
  EXPECT_EQ(fit.widths_dropped, 2);
  EXPECT_NEAR(fit.exponent, -1.0, 1e-12);
  const PowerLawFit none = FitPowerLaw({2, 4}, {0.01, 1.0}, {0.01, 1.0});
  EXPECT_EQ(none.widths_used, 0);
  EXPECT_TRUE(std::isnan(none.exponent));
}

// Monte Carlo through the engine with the output layer integrated, then the
// analysis: the fitted exponents of G4_c and G6_c of single-hidden-layer
// nets must be within 3 standard errors of the exact -1 and -2, and each
// width's m_4 must exceed its background at small N.
struct SweepCase {
  const char* name;
  Architecture architecture;
};

WidthSweepAnalysis RunSweep(const ExperimentSpec& spec,
                            std::vector<CorrelatorEstimate>& estimates,
                            std::vector<TheoryValues>& theories) {
  absl::StatusOr<std::vector<ExperimentSpec>> specs = ExpandWidthSweep(spec);
  EXPECT_TRUE(specs.ok()) << specs.status();
  std::vector<const CorrelatorEstimate*> e;
  std::vector<const TheoryValues*> t;
  estimates.reserve(specs->size());
  theories.reserve(specs->size());
  for (const ExperimentSpec& one : *specs) {
    auto engine = Engine::Create(one);
    EXPECT_TRUE(engine.ok()) << engine.status();
    MomentAccumulator acc((*engine)->tuples(), one.sampling.seed);
    std::map<int64_t, ChunkSums> chunks;
    EXPECT_TRUE((*engine)
                    ->RunChunks(0, NumChunks(one.sampling), 2,
                                [&](ChunkSums c) {
                                  chunks[c.chunk] = std::move(c);
                                  return true;
                                })
                    .ok());
    for (auto& [k, c] : chunks) EXPECT_TRUE(acc.Add(c).ok());
    estimates.push_back(acc.Finish());
    absl::StatusOr<TheoryValues> theory =
        ComputeTheory(one, (*engine)->tuples());
    EXPECT_TRUE(theory.ok()) << theory.status();
    theories.push_back(*std::move(theory));
  }
  for (size_t i = 0; i < estimates.size(); ++i) {
    e.push_back(&estimates[i]);
    t.push_back(&theories[i]);
  }
  return AnalyzeWidthSweep(SweepWidths(spec), e, t);
}

TEST(WidthSweepMonteCarloTest, ExponentsOfG4cAndG6cMatchOneHiddenLayer) {
  const SweepCase cases[] = {
      {"erf", MlpSpec{.input_dim = 1,
                      .widths = {1},
                      .activation = Activation::kErf,
                      .sw = {2.0, 1.0},
                      .sb = {0.0, 0.0}}},
      {"relu", MlpSpec{.input_dim = 1,
                       .widths = {1},
                       .activation = Activation::kRelu,
                       .sw = {1.0, 1.0},
                       .sb = {1.0, 0.0}}},
      {"cos uniform phase", MlpSpec{.input_dim = 1,
                                    .widths = {1},
                                    .activation = Activation::kCos,
                                    .sw = {1.0, 1.0},
                                    .sb = {0.0, 0.0},
                                    .first_bias = BiasLaw::kUniformPhase}},
  };
  for (const SweepCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExperimentSpec spec = ErfSweep();
    spec.architecture = c.architecture;
    spec.sampling.integrate_output_layer = true;
    spec.sampling.num_networks = 200000;
    spec.sampling.chunk_size = 1000;
    spec.width_sweep = {2, 4, 8, 16, 32};
    std::vector<CorrelatorEstimate> estimates;
    std::vector<TheoryValues> theories;
    const WidthSweepAnalysis a = RunSweep(spec, estimates, theories);
    ASSERT_EQ(a.fits.size(), 2u);
    for (const PowerLawFit& fit : a.fits) {
      SCOPED_TRACE(fit.order);
      EXPECT_GE(fit.widths_used, 3);
      std::printf("%s n=%d s=%g +- %g used=%d chi2/dof=%g\n", c.name, fit.order,
                  fit.exponent, fit.exponent_stderr, fit.widths_used,
                  fit.chi2_per_dof);
      EXPECT_LT(std::abs(fit.exponent - fit.expected_exponent),
                3 * fit.exponent_stderr)
          << fit.exponent << " +- " << fit.exponent_stderr;
      EXPECT_LT(fit.exponent_stderr, 0.2);
    }
    // m_4 at N = 2 is far above its background (the net is non-Gaussian).
    EXPECT_GT(a.deviation[0][1], 5 * a.deviation_background[0][1]);
  }
}

}  // namespace
}  // namespace nnft
