// Per-entry reliability: the Student-t functions against tabulated values,
// the verdicts on Gaussian, few and heavy-tailed bins, and the Gauss-net whose
// log-normal hidden units made estimates miss their exact value by several
// standard errors with no warning.
#include "core/estimate/reliability.h"

#include <cmath>
#include <random>
#include <vector>

#include "Eigen/Eigenvalues"
#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/mc_test_util.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/test_util.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

using theory::IsClose;

std::vector<double> Equal(int bins) {
  return std::vector<double>(bins, 1.0 / bins);
}

TEST(StudentTTest, MatchesTabulatedValues) {
  // Tables of Student's t (e.g. Abramowitz & Stegun 26.10).
  EXPECT_TRUE(IsClose(StudentTCdf(2.0, 10), 0.963306, 1e-6));
  EXPECT_TRUE(IsClose(StudentTCdf(-1.0, 1), 0.25, 1e-12));
  EXPECT_TRUE(IsClose(StudentTCdf(0.0, 7), 0.5, 1e-12));
  EXPECT_TRUE(IsClose(StudentTQuantile(0.975, 1), 12.7062, 1e-5));
  EXPECT_TRUE(IsClose(StudentTQuantile(0.975, 15), 2.13145, 1e-5));
  EXPECT_TRUE(IsClose(StudentTQuantile(0.975, 63), 1.99834, 1e-5));
  // Large dof: the normal's 1.95996.
  EXPECT_TRUE(IsClose(StudentTQuantile(0.975, 100000), 1.95996, 1e-4));
}

TEST(AssessBinsTest, GaussianBinMeansAreOkAndRarelyFlagged) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  int flagged = 0;
  constexpr int kTrials = 2000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<double> v(64);
    for (double& x : v) x = 3.0 + normal(rng);
    const EntryReliability r = AssessBins(v, Equal(64));
    EXPECT_EQ(r.dof, 63);
    EXPECT_TRUE(IsClose(r.t95, 1.99834, 1e-5));
    if (r.verdict != Verdict::kOk) ++flagged;
  }
  // False alarms on honest Gaussian bins: below 1% (binomial: the expected
  // rate of the thresholds is ~0.1%, so 20 of 2000 is far out).
  EXPECT_LT(flagged, kTrials / 100) << flagged << " of " << kTrials;
}

TEST(FSurvivalTest, MatchesClosedForms) {
  // F(2, n): P(F > f) = (1 + 2 f / n)^(-n/2); F(1, n) is t_n squared.
  EXPECT_TRUE(IsClose(FSurvival(1.0, 2, 2), 0.5, 1e-12));
  EXPECT_TRUE(IsClose(FSurvival(3.0, 2, 10), std::pow(1.6, -5.0), 1e-12));
  EXPECT_TRUE(
      IsClose(FSurvival(4.0, 1, 30), 2 * (1 - StudentTCdf(2.0, 30)), 1e-10));
  EXPECT_EQ(FSurvival(0.0, 5, 7), 1.0);
  EXPECT_TRUE(std::isnan(FSurvival(std::nan(""), 5, 7)));
}

TEST(AssessBinsTest, FewBinsSaysStudentT) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> normal;
  std::vector<double> v(16);
  for (double& x : v) x = normal(rng);
  const EntryReliability r = AssessBins(v, Equal(16));
  EXPECT_EQ(r.verdict, Verdict::kFewBins) << r.reason;
  EXPECT_EQ(r.dof, 15);
  EXPECT_NE(r.reason.find("Student-t with 15 dof"), std::string::npos)
      << r.reason;
}

TEST(AssessBinsTest, OneDominantBinIsHeavyTailed) {
  std::mt19937_64 rng(9);
  std::lognormal_distribution<double> lognormal(0.0, 3.0);
  std::vector<double> v(64);
  for (double& x : v) x = lognormal(rng);
  const EntryReliability r = AssessBins(v, Equal(64));
  EXPECT_EQ(r.verdict, Verdict::kHeavyTailed) << r.skewness_z;
  EXPECT_GT(r.skewness_z, kMaxSkewnessZ);
  EXPECT_FALSE(r.reason.empty());
}

TEST(AssessBinsTest, NoSpreadOrOneBinHasNoError) {
  EXPECT_EQ(AssessBins({1.0}, {1.0}).verdict, Verdict::kNoError);
  EXPECT_EQ(AssessBins({2.0, 2.0, 2.0}, Equal(3)).verdict, Verdict::kNoError);
}

// A narrow Gauss-net with a large first-layer bias: each hidden unit is
// log-normal (exp(b0), b0 ~ N(0, sb0^2)), so the four-point products are
// dominated by rare networks. Over seeds, every entry whose z against the
// exact value exceeds 3 must carry a non-OK verdict.
TEST(ReliabilityTest, GaussNetEntriesMissingTheirExactValueAreFlagged) {
  Eigen::MatrixXd x(2, 1);
  x << 0.05, -0.05;
  int entries = 0, flagged = 0, far_unflagged = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    ExperimentSpec spec;
    spec.architecture = GaussNetSpec{
        .input_dim = 1, .width = 2, .sw0 = 1.0, .sb0 = 1.0, .sw1 = 1.0};
    spec.points = x;
    spec.observables.orders = {2, 4};
    spec.sampling.seed = seed;
    spec.sampling.chunk_size = 2000;
    spec.sampling.num_networks = 64 * 2000;
    spec.sampling.integrate_output_layer = true;
    const McRun run = RunMc(spec);
    const CorrelatorEstimate& e = run.estimate;
    const Comparison c = Compare(e.mean, e.stderr_mean, run.theory.exact_full);
    ASSERT_EQ(e.reliability.size(), e.mean.size());
    for (size_t i = 0; i < e.mean.size(); ++i) {
      ++entries;
      const bool ok = e.reliability[i].verdict == Verdict::kOk;
      if (!ok) ++flagged;
      if (std::abs(c.z[i]) > 3 && ok) ++far_unflagged;
      std::printf(
          "seed %2d tuple %zu z %7.2f %-12s skew %6.1f kurt %6.1f "
          "share %.2f\n",
          static_cast<int>(seed), i, c.z[i],
          VerdictName(e.reliability[i].verdict), e.reliability[i].skewness_z,
          e.reliability[i].kurtosis_z, e.reliability[i].max_bin_share);
    }
  }
  EXPECT_EQ(far_unflagged, 0);
  // The diagnostics have teeth here: these estimates are heavy-tailed.
  EXPECT_GT(flagged, entries / 2);
}

// The Wick product's skewness from its contraction sums, against the Hermite
// polynomials at one point and a Gauss-Hermite quadrature at two correlated
// points (the Wick product built there by its own recursion,
// :x_1..x_n: = x_n :x_1..x_{n-1}: - sum_i C(i, n) :..no x_i, x_n..:).
double WickByQuadrature(const std::vector<int>& point_of_slot, double var0,
                        double var1, double cov01) {
  // Golub-Welsch nodes and weights of the standard normal (32 nodes: exact
  // for polynomials of degree < 64, here degree 3 n <= 18 per axis).
  constexpr int kNodes = 32;
  Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(kNodes, kNodes);
  for (int i = 1; i < kNodes; ++i) {
    jacobi(i, i - 1) = jacobi(i - 1, i) = std::sqrt(static_cast<double>(i));
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(jacobi);
  const Eigen::VectorXd node = eig.eigenvalues();
  const Eigen::VectorXd weight = eig.eigenvectors().row(0).array().square();
  const double c[2][2] = {{var0, cov01}, {cov01, var1}};
  const double a = std::sqrt(var0), b = cov01 / a, r = std::sqrt(var1 - b * b);
  double second = 0, third = 0;
  for (int i = 0; i < kNodes; ++i) {
    for (int j = 0; j < kNodes; ++j) {
      const double x[2] = {a * node(i), b * node(i) + r * node(j)};
      // w[mask]: the Wick product of the slots in mask, built up slot by slot.
      const int n = static_cast<int>(point_of_slot.size());
      std::vector<double> w(1 << n, 0.0);
      w[0] = 1.0;
      for (int mask = 1; mask < (1 << n); ++mask) {
        const int last = 31 - __builtin_clz(mask);
        const int rest = mask & ~(1 << last);
        double v = x[point_of_slot[last]] * w[rest];
        for (int s = 0; s < last; ++s) {
          if (rest & (1 << s)) {
            v -= c[point_of_slot[s]][point_of_slot[last]] * w[rest & ~(1 << s)];
          }
        }
        w[mask] = v;
      }
      const double p = w[(1 << n) - 1], wt = weight(i) * weight(j);
      second += wt * p * p;
      third += wt * p * p * p;
    }
  }
  return third / std::pow(second, 1.5);
}

TEST(WickProductSkewnessTest, HermiteAtOnePointQuadratureAtTwo) {
  for (int n : {2, 4, 6}) {
    // He_n: E[He^2] = n!, E[He^3] = (n!)^3 / ((n/2)!)^3.
    double f = 1, h = 1;
    for (int k = 2; k <= n; ++k) f *= k;
    for (int k = 2; k <= n / 2; ++k) h *= k;
    const double expected = f * f * f / (h * h * h) / std::pow(f, 1.5);
    // The scale of the point does not matter.
    EXPECT_TRUE(IsClose(WickProductSkewness(std::vector<double>(n * n, 2.5), n),
                        expected, 1e-12))
        << n;
  }
  // (0, 0, 0, 1, 1, 1) and (0, 0, 1, 1) with variances 2, 0.5 and
  // correlation 0.6, and (0, 1, 1, 1, 1, 1) with correlation -0.3.
  const auto cov = [](const std::vector<int>& p, double var0, double var1,
                      double cov01) {
    const int n = static_cast<int>(p.size());
    const double c[2][2] = {{var0, cov01}, {cov01, var1}};
    std::vector<double> m(n * n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) m[i * n + j] = c[p[i]][p[j]];
    }
    return m;
  };
  const double c6 = 0.6 * std::sqrt(2.0 * 0.5);
  for (const std::vector<int>& p :
       {std::vector<int>{0, 0, 0, 1, 1, 1}, std::vector<int>{0, 0, 1, 1}}) {
    const double quadrature = WickByQuadrature(p, 2.0, 0.5, c6);
    EXPECT_TRUE(IsClose(
        WickProductSkewness(cov(p, 2.0, 0.5, c6), static_cast<int>(p.size())),
        quadrature, 1e-8))
        << p.size() << ": quadrature " << quadrature;
  }
  const std::vector<int> p{0, 1, 1, 1, 1, 1};
  EXPECT_TRUE(IsClose(WickProductSkewness(cov(p, 1.0, 1.0, -0.3), 6),
                      WickByQuadrature(p, 1.0, 1.0, -0.3), 1e-8));
  // Uncorrelated halves of odd order each: He_3(x) He_3(y) is symmetric.
  EXPECT_NEAR(WickProductSkewness(cov({0, 0, 0, 1, 1, 1}, 1, 1, 0), 6), 0.0,
              1e-12);
  // Odd orders, wrong sizes and no variance have no value.
  EXPECT_TRUE(std::isnan(WickProductSkewness(std::vector<double>(9, 1.0), 3)));
  EXPECT_TRUE(std::isnan(WickProductSkewness(std::vector<double>(9, 1.0), 4)));
  EXPECT_TRUE(std::isnan(WickProductSkewness(std::vector<double>(16, 0.0), 4)));
}

}  // namespace
}  // namespace nnft
