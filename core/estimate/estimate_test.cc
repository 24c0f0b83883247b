#include "core/estimate/estimate.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "Eigen/Cholesky"
#include "Eigen/Core"
#include "gtest/gtest.h"

namespace nnft {
namespace {

TupleSet AllTuples(int num_points, std::vector<int> orders) {
  auto set = TupleSet::Build(
      num_points, {.orders = std::move(orders), .tuples = {}}, 1 << 20);
  EXPECT_TRUE(set.ok()) << set.status();
  return *std::move(set);
}

// ---------------------------------------------------------------- Cumulant

TEST(CumulantTest, ConstantHasNoConnectedPartBeyondOrderOne) {
  // Moments of the constant 1: every partition contributes its coefficient,
  // and the coefficients sum to 0 for n >= 2.
  auto one = [](const Tuple&) { return 1.0; };
  EXPECT_DOUBLE_EQ(Cumulant({0}, one), 1.0);
  for (int n = 2; n <= kMaxOrder; ++n) {
    EXPECT_NEAR(Cumulant(Tuple(n, 0), one), 0.0, 1e-12) << n;
  }
}

TEST(CumulantTest, GaussianHasOnlyMeanAndVariance) {
  // X ~ N(mu, s^2): E[X^k] by the recursion m_k = mu m_(k-1) + (k-1) s^2
  // m_(k-2).
  const double mu = 0.7, s2 = 1.9;
  std::vector<double> m(kMaxOrder + 1);
  m[0] = 1.0;
  m[1] = mu;
  for (int k = 2; k <= kMaxOrder; ++k)
    m[k] = mu * m[k - 1] + (k - 1) * s2 * m[k - 2];
  auto moment = [&](const Tuple& t) { return m[t.size()]; };
  EXPECT_NEAR(Cumulant({0}, moment), mu, 1e-12);
  EXPECT_NEAR(Cumulant({0, 0}, moment), s2, 1e-12);
  for (int n = 3; n <= kMaxOrder; ++n) {
    EXPECT_NEAR(Cumulant(Tuple(n, 0), moment), 0.0, 1e-10) << n;
  }
}

TEST(CumulantTest, PoissonHasEveryCumulantEqualToItsRate) {
  // X ~ Poisson(lambda): E[X^n] = sum_k S(n, k) lambda^k (Touchard), S the
  // Stirling numbers of the second kind; every cumulant equals lambda.
  const double lambda = 1.3;
  double stirling[kMaxOrder + 1][kMaxOrder + 1] = {};
  stirling[0][0] = 1.0;
  for (int n = 1; n <= kMaxOrder; ++n) {
    for (int k = 1; k <= n; ++k) {
      stirling[n][k] = k * stirling[n - 1][k] + stirling[n - 1][k - 1];
    }
  }
  auto moment = [&](const Tuple& t) {
    double sum = 0.0;
    for (size_t k = 1; k <= t.size(); ++k) {
      sum += stirling[t.size()][k] * std::pow(lambda, k);
    }
    return sum;
  };
  for (int n = 1; n <= kMaxOrder; ++n) {
    EXPECT_NEAR(Cumulant(Tuple(n, 0), moment), lambda, 1e-10) << n;
  }
}

TEST(CumulantTest, MultivariateGaussianConnectedPartsAreTheCovariance) {
  // Zero-mean Gaussian with covariance K: moments by Wick's theorem (sum over
  // pairings); connected parts K_ij at order 2 and 0 beyond.
  Eigen::Matrix3d k;
  k << 2.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 1.5;
  std::function<double(const Tuple&)> wick = [&](const Tuple& t) -> double {
    if (t.empty()) return 1.0;
    if (t.size() % 2 == 1) return 0.0;
    double sum = 0.0;
    for (size_t j = 1; j < t.size(); ++j) {
      Tuple rest;
      for (size_t i = 1; i < t.size(); ++i) {
        if (i != j) rest.push_back(t[i]);
      }
      sum += k(t[0], t[j]) * wick(rest);
    }
    return sum;
  };
  EXPECT_NEAR(Cumulant({0, 2}, wick), -0.3, 1e-12);
  EXPECT_NEAR(Cumulant({1, 1}, wick), 1.0, 1e-12);
  EXPECT_NEAR(Cumulant({0, 1, 1, 2}, wick), 0.0, 1e-12);
  EXPECT_NEAR(Cumulant({0, 0, 1, 1, 2, 2}, wick), 0.0, 1e-12);
  // The full moment is not zero, so the test would catch a missing term.
  EXPECT_GT(std::fabs(wick({0, 1, 1, 2})), 0.05);  // -0.06
  EXPECT_GT(std::fabs(wick({0, 0, 1, 1, 2, 2})), 1.0);
}

TEST(CumulantTest, TwoPointIsCovariance) {
  auto moment = [](const Tuple& t) {
    if (t == Tuple{0}) return 2.0;
    if (t == Tuple{1}) return -3.0;
    return 5.0;  // {0, 1}
  };
  EXPECT_DOUBLE_EQ(Cumulant({0, 1}, moment), 5.0 - 2.0 * -3.0);
}

// ------------------------------------------------------------ Accumulator

ChunkSums Chunk(int64_t k, int64_t networks, std::vector<double> sums) {
  return ChunkSums{.chunk = k, .networks = networks, .sums = std::move(sums)};
}

TEST(MomentAccumulatorTest, RejectsNonIncreasingIndexAndWrongLength) {
  TupleSet set = AllTuples(2, {1});  // tuples {0}, {1}
  MomentAccumulator acc(set, 7);
  EXPECT_TRUE(acc.Add(Chunk(0, 10, {1, 2})).ok());
  EXPECT_TRUE(acc.Add(Chunk(3, 10, {1, 2})).ok());  // gaps are allowed
  EXPECT_EQ(acc.Add(Chunk(3, 10, {1, 2})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(acc.Add(Chunk(1, 10, {1, 2})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(acc.Add(Chunk(4, 10, {1, 2, 3})).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(acc.chunks(), 2);
  EXPECT_TRUE(acc.Add(Chunk(4, 10, {1, 2})).ok());
  EXPECT_EQ(acc.chunks(), 3);
}

TEST(MomentAccumulatorTest, ReportsNanErrorsWithFewerThanTwoBins) {
  TupleSet set = AllTuples(1, {2});  // {0}, {0,0}
  MomentAccumulator acc(set, 1);
  CorrelatorEstimate empty = acc.Finish();
  ASSERT_EQ(empty.mean.size(), 1u);
  EXPECT_TRUE(std::isnan(empty.mean[0]));
  ASSERT_TRUE(acc.Add(Chunk(0, 4, {2.0, 6.0})).ok());
  CorrelatorEstimate one = acc.Finish();
  EXPECT_DOUBLE_EQ(one.mean[0], 1.5);
  EXPECT_DOUBLE_EQ(one.connected[0], 1.5 - 0.25);
  EXPECT_TRUE(std::isnan(one.stderr_mean[0]));
  EXPECT_TRUE(std::isnan(one.stderr_connected[0]));
}

TEST(MomentAccumulatorTest, MeanIsExactAndBinningIsDeterministic) {
  // Integer chunk sums: every sum is exact in double, so the mean is too.
  TupleSet set = AllTuples(3, {1});
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> value(-1000, 1000);
  std::vector<ChunkSums> chunks;
  int64_t totals[3] = {0, 0, 0};
  for (int k = 0; k < 100; ++k) {
    std::vector<double> sums(3);
    for (int t = 0; t < 3; ++t) {
      const int v = value(rng);
      sums[t] = v;
      totals[t] += v;
    }
    chunks.push_back(Chunk(k, 8, sums));
  }
  MomentAccumulator a(set, 5, /*max_bins=*/8), b(set, 5, /*max_bins=*/8);
  for (const auto& c : chunks) {
    ASSERT_TRUE(a.Add(c).ok());
    ASSERT_TRUE(b.Add(c).ok());
  }
  CorrelatorEstimate ea = a.Finish(), eb = b.Finish();
  EXPECT_EQ(ea.networks, 800);
  EXPECT_EQ(ea.chunks, 100);
  EXPECT_EQ(ea.seed, 5u);
  // 100 chunks into at most 8 bins: bins of 16 chunks, 6 full and 1 of 4.
  EXPECT_EQ(ea.bins, 7);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(ea.mean[t], static_cast<double>(totals[t]) / 800.0);
    EXPECT_EQ(ea.mean[t], eb.mean[t]);
    EXPECT_EQ(ea.stderr_mean[t], eb.stderr_mean[t]);
    EXPECT_EQ(ea.stderr_connected[t], eb.stderr_connected[t]);
  }
  // Recompute the stderr from bins of 16 chunks with the unequal-bin
  // formula, written out independently here.
  for (int t = 0; t < 3; ++t) {
    std::vector<double> bin_sum(7, 0.0), bin_n(7, 0.0);
    for (int k = 0; k < 100; ++k) {
      bin_sum[k / 16] += chunks[k].sums[t];
      bin_n[k / 16] += 8;
    }
    double ss = 0.0, sw2 = 0.0;
    for (int bi = 0; bi < 7; ++bi) {
      const double w = bin_n[bi] / 800.0;
      ss += w * w * std::pow(bin_sum[bi] / bin_n[bi] - ea.mean[t], 2);
      sw2 += w * w;
    }
    EXPECT_NEAR(ea.stderr_mean[t], std::sqrt(ss / (1 - sw2)),
                1e-12 * ea.stderr_mean[t]);
  }
}

TEST(MomentAccumulatorTest, EqualBinJackknifeMatchesTextbookFormula) {
  // One point, orders {2}: kappa_2 = m2 - m1^2 over B = 4 equal bins.
  TupleSet set = AllTuples(1, {2});
  const double s1[4] = {3.0, -1.0, 4.0, 2.5}, s2[4] = {9.0, 5.0, 11.0, 7.0};
  MomentAccumulator acc(set, 1, /*max_bins=*/4);
  for (int k = 0; k < 4; ++k)
    ASSERT_TRUE(acc.Add(Chunk(k, 5, {s1[k], s2[k]})).ok());
  CorrelatorEstimate est = acc.Finish();
  double t1 = 0, t2 = 0;
  for (int k = 0; k < 4; ++k) t1 += s1[k], t2 += s2[k];
  EXPECT_NEAR(est.connected[0], t2 / 20 - (t1 / 20) * (t1 / 20), 1e-14);
  double del[4], mean_del = 0;
  for (int k = 0; k < 4; ++k) {
    const double m1 = (t1 - s1[k]) / 15, m2 = (t2 - s2[k]) / 15;
    del[k] = m2 - m1 * m1;
    mean_del += del[k] / 4;
  }
  double ss = 0;
  for (int k = 0; k < 4; ++k) ss += (del[k] - mean_del) * (del[k] - mean_del);
  EXPECT_NEAR(est.stderr_connected[0], std::sqrt(3.0 / 4.0 * ss), 1e-13);
}

TEST(MomentAccumulatorTest, JackknifeOfTheMeanEqualsItsStderrForEqualBins) {
  // For the linear statistic kappa_1 = mean, the delete-one-bin jackknife
  // reduces to sqrt(var(bin means) / B), the stderr of the mean.
  TupleSet set = AllTuples(2, {1});
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(1.0, 3.0);
  MomentAccumulator acc(set, 1, /*max_bins=*/16);
  for (int k = 0; k < 40; ++k) {  // 40 chunks -> 10 bins of 4 chunks
    ASSERT_TRUE(acc.Add(Chunk(k, 10, {normal(rng), normal(rng)})).ok());
  }
  CorrelatorEstimate est = acc.Finish();
  EXPECT_EQ(est.bins, 10);
  for (int t = 0; t < 2; ++t) {
    EXPECT_DOUBLE_EQ(est.connected[t], est.mean[t]);
    EXPECT_NEAR(est.stderr_connected[t], est.stderr_mean[t],
                1e-12 * est.stderr_mean[t]);
  }
}

TEST(MomentAccumulatorTest, StderrMatchesSigmaOverRootNForGaussianChunks) {
  // 200 independent order-1 tuples; chunk k holds C_k in [50, 150] networks of
  // N(mu, s^2), so its sum is N(C_k mu, C_k s^2) and Var(mean) = s^2 / N.
  // 101 chunks into 64 bins: 50 bins of 2 chunks and one of 1 (unequal bins).
  const int kTuples = 200;
  const double mu = 0.3, s = 2.0;
  TupleSet set = AllTuples(kTuples, {1});
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> size(50, 150);
  std::normal_distribution<double> normal(0.0, 1.0);
  MomentAccumulator acc(set, 3);
  for (int k = 0; k < 101; ++k) {
    const int c = size(rng);
    std::vector<double> sums(kTuples);
    for (double& x : sums) x = c * mu + std::sqrt(c) * s * normal(rng);
    ASSERT_TRUE(acc.Add(Chunk(k, c, sums)).ok());
  }
  CorrelatorEstimate est = acc.Finish();
  EXPECT_EQ(est.bins, 51);
  const double exact_var = s * s / est.networks;
  double mean_ratio = 0.0, chi2 = 0.0;
  for (int t = 0; t < kTuples; ++t) {
    mean_ratio += est.stderr_mean[t] * est.stderr_mean[t] / exact_var / kTuples;
    chi2 += std::pow((est.mean[t] - mu) / est.stderr_mean[t], 2) / kTuples;
  }
  // se^2 / (s^2/N) averages to 1 with sd about sqrt(2/50/200) = 1.4%; allow
  // 3.5 sd. chi2/dof of the means about 1 with sd about 0.1 (plus the
  // fluctuation of se); allow 3 sd.
  EXPECT_NEAR(mean_ratio, 1.0, 0.05);
  EXPECT_NEAR(chi2, 1.0, 0.3);
}

TEST(MomentAccumulatorTest, JackknifedGaussianCumulantsVanishWithinErrors) {
  // Two points, phi ~ N(mu, K) per network; connected parts: mu, K, then 0.
  const Eigen::Vector2d mu(0.5, -0.2);
  Eigen::Matrix2d k;
  k << 1.0, 0.4, 0.4, 2.0;
  const Eigen::Matrix2d l = k.llt().matrixL();
  TupleSet set = AllTuples(2, {1, 2, 3, 4});
  std::mt19937_64 rng(99);
  std::normal_distribution<double> normal(0.0, 1.0);
  MomentAccumulator acc(set, 9);
  const int kChunks = 64, kPerChunk = 2000;
  for (int c = 0; c < kChunks; ++c) {
    std::vector<double> sums(set.size(), 0.0);
    for (int m = 0; m < kPerChunk; ++m) {
      const Eigen::Vector2d phi =
          mu + l * Eigen::Vector2d(normal(rng), normal(rng));
      for (int t = 0; t < set.size(); ++t) {
        double prod = 1.0;
        for (int i : set.tuples()[t]) prod *= phi(i);
        sums[t] += prod;
      }
    }
    ASSERT_TRUE(acc.Add(Chunk(c, kPerChunk, sums)).ok());
  }
  CorrelatorEstimate est = acc.Finish();
  const double n = static_cast<double>(est.networks);
  for (size_t r = 0; r < est.tuples.size(); ++r) {
    const Tuple& t = est.tuples[r];
    double exact = 0.0;
    if (t.size() == 1) exact = mu(t[0]);
    if (t.size() == 2) exact = k(t[0], t[1]);
    const double z = (est.connected[r] - exact) / est.stderr_connected[r];
    EXPECT_LT(std::fabs(z), 4.0) << "tuple size " << t.size() << " z " << z;
    if (t.size() == 2) {
      // Var of a sample covariance: (K_ii K_jj + K_ij^2) / N.
      const double se = std::sqrt(
          (k(t[0], t[0]) * k(t[1], t[1]) + k(t[0], t[1]) * k(t[0], t[1])) / n);
      EXPECT_NEAR(est.stderr_connected[r] / se, 1.0, 0.3);
    }
  }
}

}  // namespace
// Half or more of an order's entries heavy-tailed: the rest of that order
// (sharing the networks) are marked with a reason naming the count; other
// orders and a lone heavy entry are left alone.
TEST(FlagSiblingsOfHeavyTailsTest, MarksAnOrderWhoseEntriesAreMostlyHeavy) {
  CorrelatorEstimate est;
  est.tuples = {{0, 1},       {0, 0, 1, 1}, {0, 0, 0, 1}, {0, 1, 1, 1},
                {1, 1, 1, 1}, {0, 0},       {1, 1},       {0, 0, 0, 0}};
  est.reliability.resize(est.tuples.size());
  for (EntryReliability& r : est.reliability) r.verdict = Verdict::kOk;
  est.reliability[1].verdict = Verdict::kHeavyTailed;  // order 4: 3 of 5
  est.reliability[2].verdict = Verdict::kHeavyTailed;
  est.reliability[7].verdict = Verdict::kHeavyTailed;
  est.reliability[4].verdict = Verdict::kNoError;      // stays: no error bar
  est.reliability[6].verdict = Verdict::kHeavyTailed;  // order 2: 1 of 3
  FlagSiblingsOfHeavyTails(est);
  EXPECT_EQ(est.reliability[3].verdict, Verdict::kHeavyTailed);
  EXPECT_NE(est.reliability[3].reason.find("3 of the 5 order-4 entries"),
            std::string::npos)
      << est.reliability[3].reason;
  EXPECT_EQ(est.reliability[4].verdict, Verdict::kNoError);
  EXPECT_EQ(est.reliability[0].verdict, Verdict::kOk);
  EXPECT_EQ(est.reliability[5].verdict, Verdict::kOk);
}

TEST(StderrTargetReachedTest, NeedsEveryErrorBelowTheTargetAndTrusted) {
  CorrelatorEstimate est;
  EXPECT_FALSE(StderrTargetReached(est, 1.0));  // nothing estimated yet
  est.tuples = {{0, 0}, {0, 1}};
  est.stderr_mean = {0.01, 0.02};
  est.reliability.resize(2);
  for (EntryReliability& r : est.reliability) r.verdict = Verdict::kOk;
  EXPECT_TRUE(StderrTargetReached(est, 0.03));
  EXPECT_FALSE(StderrTargetReached(est, 0.015));  // one error above
  est.reliability[1].verdict = Verdict::kHeavyTailed;
  EXPECT_FALSE(StderrTargetReached(est, 0.03));  // below, but not trusted
  est.reliability[1].verdict = Verdict::kOk;
  est.stderr_mean[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(StderrTargetReached(est, 0.03));  // one bin: no error
}

}  // namespace nnft
