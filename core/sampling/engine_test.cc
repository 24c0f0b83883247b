// core/sampling/engine.h: bit-identical chunk sums for any thread count and
// chunk split; Monte-Carlo correlators against exact values (means and standard
// errors computed here from the chunk sums, 4 standard errors); float vs
// double and integrate_output_layer vs plain sampling within errors.
#include "core/sampling/engine.h"

#include <cmath>
#include <map>
#include <numbers>
#include <vector>

#include "gtest/gtest.h"

namespace nnft {
namespace {

constexpr double kSigmas = 4.0;

ExperimentSpec SmallSpec(Architecture arch, Eigen::MatrixXd points,
                         std::vector<int> orders, int64_t networks, int chunk) {
  ExperimentSpec spec;
  spec.architecture = std::move(arch);
  spec.points = std::move(points);
  spec.observables.orders = std::move(orders);
  spec.sampling.seed = 20261201;
  spec.sampling.num_networks = networks;
  spec.sampling.chunk_size = chunk;
  return spec;
}

Eigen::MatrixXd Line(std::vector<double> xs) {
  Eigen::MatrixXd p(xs.size(), 1);
  for (size_t i = 0; i < xs.size(); ++i) p(i, 0) = xs[i];
  return p;
}

std::vector<ChunkSums> RunAll(const Engine& engine, int threads) {
  const int64_t chunks = NumChunks(engine.spec().sampling);
  std::vector<ChunkSums> out(chunks);
  absl::Status s = engine.RunChunks(0, chunks, threads, [&](ChunkSums c) {
    out[c.chunk] = std::move(c);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Mean over networks and its standard error from the spread of chunk means.
struct Estimate {
  std::vector<double> mean, err;
};
Estimate FromChunks(const std::vector<ChunkSums>& chunks) {
  const size_t n_t = chunks[0].sums.size();
  const double k = static_cast<double>(chunks.size());
  Estimate e{std::vector<double>(n_t, 0), std::vector<double>(n_t, 0)};
  for (size_t t = 0; t < n_t; ++t) {
    double s1 = 0, s2 = 0;
    for (const auto& c : chunks) {
      const double m = c.sums[t] / c.networks;
      s1 += m;
      s2 += m * m;
    }
    e.mean[t] = s1 / k;
    e.err[t] =
        std::sqrt(std::max(0.0, s2 / k - e.mean[t] * e.mean[t]) / (k - 1));
  }
  return e;
}

std::unique_ptr<Engine> MustCreate(const ExperimentSpec& spec) {
  auto engine = Engine::Create(spec);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return std::move(*engine);
}

TEST(EngineTest, BitIdenticalForThreadCountsAndChunkSplits) {
  for (Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    ExperimentSpec spec =
        SmallSpec(MlpSpec{.input_dim = 1,
                          .widths = {50},
                          .activation = Activation::kErf,
                          .sw = {1.0, 1.0},
                          .sb = {0.3, 0.1}},
                  Line({-1.0, 0.0, 0.5, 1.0}), {2, 4}, 200, 20);
    spec.sampling.precision = precision;
    auto engine = MustCreate(spec);
    const auto one = RunAll(*engine, 1);
    const auto two = RunAll(*engine, 2);
    std::vector<ChunkSums> split(10);
    auto keep = [&](ChunkSums c) {
      split[c.chunk] = std::move(c);
      return true;
    };
    ASSERT_TRUE(engine->RunChunks(0, 5, 2, keep).ok());
    ASSERT_TRUE(engine->RunChunks(5, 10, 1, keep).ok());
    for (int k = 0; k < 10; ++k) {
      EXPECT_EQ(one[k].sums, two[k].sums) << "chunk " << k;
      EXPECT_EQ(one[k].sums, split[k].sums) << "chunk " << k;
      EXPECT_EQ(one[k].sums, engine->RunChunk(k).sums) << "chunk " << k;
      EXPECT_EQ(one[k].networks, 20);
    }
    EXPECT_NE(one[0].sums, one[1].sums);
  }
}

// Identity activation, one hidden layer: G2 = sb1^2 + sw1^2 (sb0^2 + sw0^2
// x.y / d) exactly at every width (PHYSICS.md); d = 2.
TEST(EngineTest, IdentityNetworkTwoPointFunctionIsExact) {
  Eigen::MatrixXd pts(3, 2);
  pts << 0.5, -1.0, 1.5, 0.25, -0.75, 2.0;
  const double sw0 = 1.3, sb0 = 0.4, sw1 = 0.8, sb1 = 0.5;
  for (Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    ExperimentSpec spec = SmallSpec(MlpSpec{.input_dim = 2,
                                            .widths = {30},
                                            .activation = Activation::kIdentity,
                                            .sw = {sw0, sw1},
                                            .sb = {sb0, sb1}},
                                    pts, {2}, 40000, 1000);
    spec.sampling.precision = precision;
    auto engine = MustCreate(spec);
    const Estimate e = FromChunks(RunAll(*engine, 2));
    const auto& tuples = engine->tuples().tuples();
    for (size_t t = 0; t < tuples.size(); ++t) {
      if (tuples[t].size() != 2) continue;  // the closure's singletons
      const int a = tuples[t][0], b = tuples[t][1];
      const double exact =
          sb1 * sb1 +
          sw1 * sw1 * (sb0 * sb0 + sw0 * sw0 * pts.row(a).dot(pts.row(b)) / 2);
      EXPECT_NEAR(e.mean[t], exact, kSigmas * e.err[t]) << a << "," << b;
      EXPECT_LT(e.err[t], 0.05);  // the test has power
    }
  }
}

// Input dimension above the small-d path (d > 16 takes the matrix product).
TEST(EngineTest, HighDimensionalInputTwoPointFunctionIsExact) {
  Eigen::MatrixXd pts(3, 20);
  for (int p = 0; p < 3; ++p) {
    for (int k = 0; k < 20; ++k) pts(p, k) = std::sin(1.0 + p * 20 + k);
  }
  ExperimentSpec spec = SmallSpec(MlpSpec{.input_dim = 20,
                                          .widths = {30},
                                          .activation = Activation::kIdentity,
                                          .sw = {1.5, 1.0},
                                          .sb = {0.3, 0.2}},
                                  pts, {2}, 40000, 1000);
  auto engine = MustCreate(spec);
  const Estimate e = FromChunks(RunAll(*engine, 2));
  const auto& tuples = engine->tuples().tuples();
  for (size_t t = 0; t < tuples.size(); ++t) {
    if (tuples[t].size() != 2) continue;
    const int a = tuples[t][0], b = tuples[t][1];
    const double exact =
        0.04 + 1.0 * (0.09 + 2.25 * pts.row(a).dot(pts.row(b)) / 20);
    EXPECT_NEAR(e.mean[t], exact, kSigmas * e.err[t]) << a << "," << b;
  }
}

// Deep linear network: K^(l+1) = sb_l^2 + sw_l^2 K^(l) exactly at finite
// width (the weights enter linearly and independently); exercises the GEMMs.
TEST(EngineTest, DeepLinearNetworkTwoPointFunctionIsExact) {
  const Eigen::MatrixXd pts = Line({-1.0, 0.5, 2.0});
  const std::vector<double> sw = {1.0, 1.2, 0.9, 1.1},
                            sb = {0.3, 0.2, 0.0, 0.4};
  for (bool integrate : {false, true}) {
    ExperimentSpec spec = SmallSpec(MlpSpec{.input_dim = 1,
                                            .widths = {20, 30, 25},
                                            .activation = Activation::kIdentity,
                                            .sw = sw,
                                            .sb = sb},
                                    pts, {2}, 40000, 1000);
    spec.sampling.integrate_output_layer = integrate;
    auto engine = MustCreate(spec);
    const Estimate e = FromChunks(RunAll(*engine, 2));
    const auto& tuples = engine->tuples().tuples();
    for (size_t t = 0; t < tuples.size(); ++t) {
      if (tuples[t].size() != 2) continue;
      double k = sb[0] * sb[0] +
                 sw[0] * sw[0] * pts(tuples[t][0], 0) * pts(tuples[t][1], 0);
      for (int l = 1; l < 4; ++l) k = sb[l] * sb[l] + sw[l] * sw[l] * k;
      EXPECT_NEAR(e.mean[t], k, kSigmas * e.err[t])
          << "integrate " << integrate;
    }
  }
}

// Erf, one hidden layer: G2 = sb1^2 + sw1^2 (2/pi)
// asin(2S/sqrt((1+2Sxx)(1+2Syy))) (Williams 1996), plain and with the output
// layer integrated out; G4 of the two methods and of float vs double agree
// within errors.
TEST(EngineTest, ErfNetworkMatchesWilliamsKernelAndMethodsAgree) {
  const Eigen::MatrixXd pts = Line({-1.0, 0.0, 0.7});
  const double sw0 = 1.5, sb0 = 0.5, sw1 = 1.0, sb1 = 0.2;
  auto spec_for = [&](Precision precision, bool integrate) {
    ExperimentSpec spec = SmallSpec(MlpSpec{.input_dim = 1,
                                            .widths = {8},
                                            .activation = Activation::kErf,
                                            .sw = {sw0, sw1},
                                            .sb = {sb0, sb1}},
                                    pts, {2, 4}, 60000, 1000);
    spec.sampling.precision = precision;
    spec.sampling.integrate_output_layer = integrate;
    return spec;
  };
  auto s = [&](int a, int b) {
    return sb0 * sb0 + sw0 * sw0 * pts(a, 0) * pts(b, 0);
  };
  std::map<std::pair<int, bool>, Estimate> est;
  std::unique_ptr<Engine> engine;
  for (Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    for (bool integrate : {false, true}) {
      engine = MustCreate(spec_for(precision, integrate));
      est[{static_cast<int>(precision), integrate}] =
          FromChunks(RunAll(*engine, 2));
    }
  }
  const auto& tuples = engine->tuples().tuples();
  for (size_t t = 0; t < tuples.size(); ++t) {
    for (const auto& [key, e] : est) {
      if (tuples[t].size() != 2) continue;
      const int a = tuples[t][0], b = tuples[t][1];
      const double c =
          2 / std::numbers::pi *
          std::asin(2 * s(a, b) /
                    std::sqrt((1 + 2 * s(a, a)) * (1 + 2 * s(b, b))));
      EXPECT_NEAR(e.mean[t], sb1 * sb1 + sw1 * sw1 * c, kSigmas * e.err[t])
          << "tuple " << a << b << " precision " << key.first << " integrate "
          << key.second;
    }
    const Estimate& ref = est.begin()->second;
    for (const auto& [key, e] : est) {
      EXPECT_NEAR(e.mean[t], ref.mean[t],
                  kSigmas * std::hypot(e.err[t], ref.err[t]))
          << "tuple " << t << " precision " << key.first << " integrate "
          << key.second;
    }
  }
  // Odd moments vanish exactly when the output layer is integrated out.
  const Estimate& wick = est[{static_cast<int>(Precision::kFloat64), true}];
  for (size_t t = 0; t < tuples.size(); ++t) {
    if (tuples[t].size() % 2 == 1) EXPECT_EQ(wick.mean[t], 0.0);
  }
}

// Gauss-net (arXiv 2008.08601): G2 = sb1^2 + sw1^2 exp(-sw0^2 |x-y|^2 / (2d)).
TEST(EngineTest, GaussNetTwoPointFunctionIsExact) {
  const Eigen::MatrixXd pts = Line({-0.5, 0.0, 0.8});
  const GaussNetSpec g{.input_dim = 1,
                       .width = 20,
                       .sw0 = 0.7,
                       .sb0 = 0.2,
                       .sw1 = 1.0,
                       .sb1 = 0.3};
  for (bool integrate : {false, true}) {
    ExperimentSpec spec = SmallSpec(g, pts, {2}, 40000, 1000);
    spec.sampling.integrate_output_layer = integrate;
    auto engine = MustCreate(spec);
    const Estimate e = FromChunks(RunAll(*engine, 2));
    const auto& tuples = engine->tuples().tuples();
    for (size_t t = 0; t < tuples.size(); ++t) {
      if (tuples[t].size() != 2) continue;
      const double r = pts(tuples[t][0], 0) - pts(tuples[t][1], 0);
      const double exact =
          g.sb1 * g.sb1 + g.sw1 * g.sw1 * std::exp(-g.sw0 * g.sw0 * r * r / 2);
      EXPECT_NEAR(e.mean[t], exact, kSigmas * e.err[t])
          << "integrate " << integrate;
    }
  }
}

// phi^4 free cos-net (arXiv 2307.03223), d = 1:
// G2(r) = (1/pi) int_0^Lambda cos(p r) / (p^2 + m^2) dp at every width.
TEST(EngineTest, CosNetTwoPointFunctionIsTheCutoffPropagator) {
  const Eigen::MatrixXd pts = Line({0.0, 0.3, 1.0});
  const CosNetSpec c{.input_dim = 1, .width = 30, .mass = 1.0, .cutoff = 5.0};
  for (bool integrate : {false, true}) {
    ExperimentSpec spec = SmallSpec(c, pts, {2}, 40000, 1000);
    spec.sampling.integrate_output_layer = integrate;
    auto engine = MustCreate(spec);
    const Estimate e = FromChunks(RunAll(*engine, 2));
    const auto& tuples = engine->tuples().tuples();
    for (size_t t = 0; t < tuples.size(); ++t) {
      if (tuples[t].size() != 2) continue;
      const double r = pts(tuples[t][0], 0) - pts(tuples[t][1], 0);
      // Simpson's rule, 2000 intervals.
      const int n = 2000;
      const double h = c.cutoff / n;
      double sum = 0;
      for (int i = 0; i <= n; ++i) {
        const double p = i * h;
        const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        sum += w * std::cos(p * r) / (p * p + c.mass * c.mass);
      }
      const double exact = sum * h / 3 / std::numbers::pi;
      EXPECT_NEAR(e.mean[t], exact, kSigmas * e.err[t]) << "r = " << r;
    }
  }
}

TEST(EngineTest, RunChunksStopsWhenTheCallbackSaysSo) {
  ExperimentSpec spec =
      SmallSpec(MlpSpec{.widths = {10}}, Line({0.0, 1.0}), {2}, 2000, 100);
  auto engine = MustCreate(spec);
  int calls = 0;
  absl::Status s = engine->RunChunks(0, 20, 2, [&](ChunkSums) {
    ++calls;
    return calls < 3;
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(engine->RunChunks(3, 1, 1, [](ChunkSums) { return true; }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EngineTest, CreateRejectsAnInvalidSpec) {
  ExperimentSpec spec =
      SmallSpec(MlpSpec{.widths = {0}}, Line({0.0, 1.0}), {2}, 2000, 100);
  EXPECT_EQ(Engine::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nnft
