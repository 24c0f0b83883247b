// The Gauss-net estimator with the first-layer biases integrated
// (sampling.integrate_first_layer_bias, bias_integral.h): the closed form
// against a quadrature over the biases for fixed weights, and the Monte Carlo
// against the exact finite-width G2, G4_c and G6_c, with smaller errors than
// integrating the output layer alone.
#include "core/sampling/bias_integral.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "core/mc_test_util.h"
#include "core/theory/quadrature.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

// Hafnian of the symmetric matrix k over the index list idx.
double Hafnian(const Eigen::MatrixXd& k, std::vector<int> idx) {
  if (idx.empty()) return 1.0;
  const int first = idx[0];
  double total = 0;
  for (size_t j = 1; j < idx.size(); ++j) {
    std::vector<int> rest;
    for (size_t i = 1; i < idx.size(); ++i) {
      if (i != j) rest.push_back(idx[i]);
    }
    total += k(first, idx[j]) * Hafnian(k, rest);
  }
  return total;
}

TEST(LogNormalCumulantsTest, MatchTheMomentsOfExpTwoB) {
  const double sb0 = 0.7;
  const std::vector<double> kappa = LogNormalCumulants(sb0, 3);
  const auto m = [&](int k) { return std::exp(2.0 * k * k * sb0 * sb0); };
  EXPECT_DOUBLE_EQ(kappa[1], m(1));
  EXPECT_NEAR(kappa[2], m(2) - m(1) * m(1), 1e-12 * m(2));
  EXPECT_NEAR(kappa[3], m(3) - 3 * m(2) * m(1) + 2 * std::pow(m(1), 3),
              1e-12 * m(3));
}

// For fixed bias-free units g (3 neurons, 2 points), E_b[Haf(K)] by a
// 3-dimensional Gauss-Hermite rule over b_1..b_3 (exact to rounding for
// these entire integrands) equals the closed form at orders 2, 4 and 6.
TEST(BiasIntegralTest, ClosedFormEqualsQuadratureOverTheBiases) {
  const GaussNetSpec net{
      .input_dim = 1, .width = 3, .sw0 = 1, .sb0 = 0.3, .sw1 = 1.3, .sb1 = 0.4};
  auto tuples = TupleSet::Build(2, ObservableSpec{.orders = {2, 4, 6}}, 1000);
  ASSERT_TRUE(tuples.ok()) << tuples.status();
  const int n = net.width, p = 2;
  const std::vector<double> g = {0.9, 0.4, 1.7,   // point 0, neurons 0..2
                                 1.2, 0.3, 0.6};  // point 1
  std::vector<double> closed(tuples->size(), 0.0), scratch;
  BiasIntegral(net, *tuples).Add(g.data(), scratch, closed.data());

  const theory::QuadratureRule& gh = theory::GaussHermite(40);
  const int q = static_cast<int>(gh.nodes.size());
  std::vector<double> quad(tuples->size(), 0.0);
  for (int i0 = 0; i0 < q; ++i0) {
    for (int i1 = 0; i1 < q; ++i1) {
      for (int i2 = 0; i2 < q; ++i2) {
        const double b[3] = {net.sb0 * gh.nodes[i0], net.sb0 * gh.nodes[i1],
                             net.sb0 * gh.nodes[i2]};
        const double weight = gh.weights[i0] * gh.weights[i1] * gh.weights[i2];
        Eigen::MatrixXd k(p, p);
        for (int a = 0; a < p; ++a) {
          for (int c = 0; c < p; ++c) {
            double s = 0;
            for (int j = 0; j < n; ++j) {
              s += std::exp(2 * b[j]) * g[j + n * a] * g[j + n * c];
            }
            k(a, c) = net.sb1 * net.sb1 + net.sw1 * net.sw1 / n * s;
          }
        }
        for (int64_t t = 0; t < tuples->size(); ++t) {
          const Tuple& tuple = tuples->tuples()[t];
          if (tuple.size() % 2 == 0) quad[t] += weight * Hafnian(k, tuple);
        }
      }
    }
  }
  for (int64_t t = 0; t < tuples->size(); ++t) {
    const Tuple& tuple = tuples->tuples()[t];
    if (tuple.size() % 2 == 1) {
      EXPECT_EQ(closed[t], 0.0);
      continue;
    }
    EXPECT_NEAR(closed[t], quad[t], 1e-10 * std::abs(quad[t]))
        << "tuple of order " << tuple.size() << " starting " << tuple[0];
  }
}

// A narrow Gauss-net at inputs near zero with a large first-layer bias
// scale: the units exp(b_j) are log-normal and dominate the plain (output
// layer integrated) estimator. With the biases integrated too, every G2,
// G4_c and G6_c entry is within kSigmas standard errors of the exact
// finite-width value (theory/finite_width.h), seeded, and the standard
// errors of G4_c and G6_c drop by the factors printed.
TEST(BiasIntegralTest, MatchesExactGaussNetTheoryWithSmallerErrors) {
  constexpr double kSigmas = 4.0;      // over 3 + 5 + 7 correlated entries
  constexpr double kRounding = 1e-12;  // relative floor for tiny errors
  ExperimentSpec spec;
  spec.architecture = GaussNetSpec{
      .input_dim = 1, .width = 4, .sw0 = 1, .sb0 = 1, .sw1 = 1, .sb1 = 0.2};
  spec.points = Eigen::MatrixXd(2, 1);
  // Not +-x: at x_1 = -x_2 the units' products over (0,1) and (0,0,1,1)
  // do not depend on w, and those entries come out exact with no variance.
  spec.points << -0.05, 0.1;
  spec.observables.orders = {2, 4, 6};
  spec.sampling = {.seed = 7,
                   .num_networks = 64 * 2000,
                   .chunk_size = 2000,
                   .integrate_output_layer = true,
                   .integrate_first_layer_bias = true};
  const McRun with = RunMc(spec);
  spec.sampling.integrate_first_layer_bias = false;
  const McRun plain = RunMc(spec);
  const CorrelatorEstimate& e = with.estimate;
  ASSERT_EQ(e.tuples.size(), plain.estimate.tuples.size());
  ASSERT_FALSE(e.tuples.empty());
  double ratio4 = 1e300, ratio6 = 1e300;
  for (size_t i = 0; i < e.tuples.size(); ++i) {
    const size_t n = e.tuples[i].size();
    const double exact_full = with.theory.exact_full[i];
    const double exact_c = with.theory.exact_connected[i];
    if (n % 2 == 1) {  // exactly 0 with the output layer integrated
      EXPECT_EQ(e.mean[i], 0.0);
      continue;
    }
    EXPECT_NEAR(e.mean[i], exact_full,
                kSigmas * e.stderr_mean[i] + kRounding * std::abs(exact_full))
        << "G" << n << " entry " << i;
    EXPECT_NEAR(e.connected[i], exact_c,
                kSigmas * e.stderr_connected[i] + kRounding * std::abs(exact_c))
        << "G" << n << "_c entry " << i;
    const double r = plain.estimate.stderr_connected[i] / e.stderr_connected[i];
    std::printf(
        "G%zu_c entry %zu: exact %.6g, bias integrated %.6g +- %.3g (z %+.2f), "
        "output layer only %.6g +- %.3g (z %+.2f); stderr ratio %.1f\n",
        n, i, exact_c, e.connected[i], e.stderr_connected[i],
        (e.connected[i] - exact_c) / e.stderr_connected[i],
        plain.estimate.connected[i], plain.estimate.stderr_connected[i],
        (plain.estimate.connected[i] - exact_c) /
            plain.estimate.stderr_connected[i],
        r);
    if (n == 4) ratio4 = std::min(ratio4, r);
    if (n == 6) ratio6 = std::min(ratio6, r);
  }
  // Teeth: the errors must drop, not merely stay honest. (The plain
  // errors are themselves underestimated here, docs/error_bars.md, so the
  // true gain is larger.)
  EXPECT_GT(ratio4, 10.0);
  EXPECT_GT(ratio6, 10.0);
}

// Single precision: the bias-free units in float, the sums in double; G2
// and G4_c still within kSigmas standard errors of the exact values.
TEST(BiasIntegralTest, Float32MatchesExactGaussNetTheory) {
  constexpr double kSigmas = 4.0;
  constexpr double kRounding = 1e-5;  // float units, relative
  ExperimentSpec spec;
  spec.architecture = GaussNetSpec{
      .input_dim = 2, .width = 6, .sw0 = 1, .sb0 = 0.8, .sw1 = 1, .sb1 = 0.3};
  spec.points = Eigen::MatrixXd(3, 2);
  spec.points << 0.05, -0.02, -0.1, 0.03, 0.0, 0.08;
  spec.observables.orders = {2, 4};
  spec.sampling = {.seed = 11,
                   .num_networks = 64 * 500,
                   .chunk_size = 500,
                   .precision = Precision::kFloat32,
                   .integrate_output_layer = true,
                   .integrate_first_layer_bias = true};
  const McRun run = RunMc(spec);
  const CorrelatorEstimate& e = run.estimate;
  ASSERT_FALSE(e.tuples.empty());
  for (size_t i = 0; i < e.tuples.size(); ++i) {
    if (e.tuples[i].size() % 2 == 1) continue;
    const double exact = run.theory.exact_connected[i];
    EXPECT_NEAR(e.connected[i], exact,
                kSigmas * e.stderr_connected[i] + kRounding * std::abs(exact))
        << "order " << e.tuples[i].size() << " entry " << i;
  }
}

// A wrong moment (m_1^2 for coinciding neurons, i.e. the biases treated as
// independent per edge) is detected: the test above can fail.
TEST(BiasIntegralTest, IgnoringCoincidingNeuronsIsBiased) {
  const GaussNetSpec net{
      .input_dim = 1, .width = 2, .sw0 = 1, .sb0 = 0.8, .sw1 = 1, .sb1 = 0};
  auto tuples = TupleSet::Build(1, ObservableSpec{.orders = {4}}, 100);
  ASSERT_TRUE(tuples.ok());
  const std::vector<double> g = {0.5, 0.7};
  std::vector<double> closed(tuples->size(), 0.0), scratch;
  BiasIntegral(net, *tuples).Add(g.data(), scratch, closed.data());
  const int t = tuples->Find({0, 0, 0, 0});
  ASSERT_GE(t, 0);
  // 3 E[K^2], K = (1/2) sum_j u_j g_j^2: the naive 3 (E K)^2 misses
  // 3 (1/4) (m2 - m1^2) sum_j g_j^4.
  const double m1 = std::exp(2 * 0.64), m2 = std::exp(8 * 0.64);
  const double s2 = 0.25 + 0.49, s4 = 0.0625 + 0.2401;
  const double naive = 3 * std::pow(0.5 * m1 * s2, 2);
  const double exact = naive + 3 * 0.25 * (m2 - m1 * m1) * s4;
  EXPECT_NEAR(closed[t], exact, 1e-12 * exact);
  EXPECT_GT(std::abs(closed[t] - naive), 0.5 * naive);
}

}  // namespace
}  // namespace nnft
