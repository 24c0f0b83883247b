#include "core/theory/finite_width.h"

#include <algorithm>
#include <cmath>

#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"
#include "core/theory/test_util.h"
#include "core/theory/wick.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

Eigen::MatrixXd Points() {
  Eigen::MatrixXd x(3, 2);
  x << 0.4, -0.3, -0.9, 0.6, 0.2, 1.1;
  return x;
}

SingleLayerMoments MomentsFor(Activation act, const Eigen::MatrixXd& s,
                              double width, double sw1, double sb1) {
  auto table =
      std::make_shared<NeuronMomentTable>(NeuronKind::kGaussianBias, act, s);
  return {.width = width,
          .output_bias_var = sb1 * sb1,
          .moment = [table, sw1](const std::vector<int>& idx) {
            return std::pow(sw1, static_cast<int>(idx.size())) *
                   table->Moment(idx);
          }};
}

// Identity activation, checked independently: given W1, phi is Gaussian with
// covariance sb1^2 + R S, R = sum_i W1_i^2 ~ (sw1^2/N) chi^2_N, so
//   G^(n) = sum over pairings E_R prod_pairs (sb1^2 + R S_ab),
// with E R^k = sw1^{2k} prod_{j<k} (1 + 2j/N).
double IdentityFullCorrelator(const Eigen::MatrixXd& s,
                              const std::vector<int>& idx, double n_width,
                              double sw1, double sb1) {
  const double b = sb1 * sb1;
  auto moment_r = [&](int k) {
    double m = std::pow(sw1, 2 * k);
    for (int j = 0; j < k; ++j) m *= 1.0 + 2.0 * j / n_width;
    return m;
  };
  double total = 0.0;
  for (const Pairing& p : Pairings(static_cast<int>(idx.size()))) {
    // prod_pairs (b + R s_p) = sum over subsets T of pairs b^{|P - T|} R^|T|
    // prod_T s.
    const int pairs = static_cast<int>(p.size());
    for (int mask = 0; mask < (1 << pairs); ++mask) {
      double term = 1.0;
      int k = 0;
      for (int q = 0; q < pairs; ++q) {
        if ((mask >> q) & 1) {
          term *= s(idx[p[q].first], idx[p[q].second]);
          ++k;
        } else {
          term *= b;
        }
      }
      total += term * moment_r(k);
    }
  }
  return total;
}

TEST(FiniteWidthTest, IdentityNetMatchesChiSquareMixture) {
  const Eigen::MatrixXd s = PreactivationCovariance(Points(), 1.3, 0.6);
  const double width = 7.0, sw1 = 1.2, sb1 = 0.5;
  const SingleLayerMoments mm =
      MomentsFor(Activation::kIdentity, s, width, sw1, sb1);
  for (const std::vector<int>& idx : {std::vector<int>{0, 1},
                                      {0, 1, 2, 2},
                                      {1, 1, 2, 2},
                                      {0, 0, 0, 0},
                                      {0, 1, 1, 2, 2, 2},
                                      {0, 0, 1, 1, 2, 2}}) {
    const ExactCorrelator e = ExactSingleLayerCorrelator(mm, idx);
    EXPECT_TRUE(
        IsClose(e.full, IdentityFullCorrelator(s, idx, width, sw1, sb1), 1e-13))
        << idx.size();
  }
  // Connected 4-point function: (2 sw1^4 / N) sum_3 S S.
  const ExactCorrelator e4 = ExactSingleLayerCorrelator(mm, {0, 1, 1, 2});
  EXPECT_TRUE(IsClose(e4.connected,
                      2.0 * std::pow(sw1, 4) / width * WickSum(s, {0, 1, 1, 2}),
                      1e-13));
}

TEST(FiniteWidthTest, ConnectedSixPointMatchesMomentCumulantOfFullOnes) {
  // G6_c = G6 - sum_15 G4_c G2 - sum_15 G2 G2 G2 from the identity mixture.
  const Eigen::MatrixXd s = PreactivationCovariance(Points(), 0.9, 0.3);
  const double width = 5.0, sw1 = 1.1, sb1 = 0.4;
  const SingleLayerMoments mm =
      MomentsFor(Activation::kIdentity, s, width, sw1, sb1);
  const std::vector<int> idx = {0, 0, 1, 2, 2, 2};
  auto g = [&](std::vector<int> t) {
    return IdentityFullCorrelator(s, t, width, sw1, sb1);
  };
  double expected = g(idx);
  for (const SplitFourTwo& sp : SplitsFourTwo()) {
    std::vector<int> four, two = {idx[sp.two[0]], idx[sp.two[1]]};
    for (int k : sp.four) four.push_back(idx[k]);
    double g4c = g(four);
    for (const Pairing& p : Pairings(4)) {
      g4c -= g({four[p[0].first], four[p[0].second]}) *
             g({four[p[1].first], four[p[1].second]});
    }
    expected -= g4c * g(two);
  }
  for (const Pairing& p : Pairings(6)) {
    double term = 1.0;
    for (const auto& [a, b] : p) term *= g({idx[a], idx[b]});
    expected -= term;
  }
  EXPECT_TRUE(IsClose(ExactSingleLayerCorrelator(mm, idx).connected, expected,
                      1e-10, 1e-14));
}

TEST(FiniteWidthTest, SymmetricUnderPermutationOfSlots) {
  const Eigen::MatrixXd s = PreactivationCovariance(Points(), 1.3, 0.6);
  for (Activation act :
       {Activation::kRelu, Activation::kTanh, Activation::kCos}) {
    const SingleLayerMoments mm = MomentsFor(act, s, 3.0, 1.0, 0.2);
    std::vector<int> idx = {0, 1, 1, 2, 2, 0};
    const ExactCorrelator ref = ExactSingleLayerCorrelator(mm, idx);
    std::vector<int> idx4 = {0, 1, 2, 2};
    const ExactCorrelator ref4 = ExactSingleLayerCorrelator(mm, idx4);
    for (int trial = 0; trial < 5; ++trial) {
      std::next_permutation(idx.begin(), idx.end());
      std::next_permutation(idx4.begin(), idx4.end());
      const ExactCorrelator e = ExactSingleLayerCorrelator(mm, idx);
      const ExactCorrelator e4 = ExactSingleLayerCorrelator(mm, idx4);
      EXPECT_TRUE(IsClose(e.full, ref.full, 1e-9));
      EXPECT_TRUE(IsClose(e.connected, ref.connected, 1e-8, 1e-12));
      EXPECT_TRUE(IsClose(e4.full, ref4.full, 1e-10));
      EXPECT_TRUE(IsClose(e4.connected, ref4.connected, 1e-9, 1e-13));
    }
  }
}

TEST(FiniteWidthTest, OddOrdersVanishAndWidthScaling) {
  const Eigen::MatrixXd s = PreactivationCovariance(Points(), 1.3, 0.6);
  const SingleLayerMoments m1 = MomentsFor(Activation::kErf, s, 10.0, 1.0, 0.3);
  const SingleLayerMoments m2 = MomentsFor(Activation::kErf, s, 40.0, 1.0, 0.3);
  EXPECT_EQ(ExactSingleLayerCorrelator(m1, {0, 1, 2}).full, 0.0);
  EXPECT_EQ(ExactSingleLayerCorrelator(m1, {2}).connected, 0.0);
  const std::vector<int> four = {0, 1, 2, 2}, six = {0, 0, 1, 1, 2, 2};
  EXPECT_TRUE(IsClose(ExactSingleLayerCorrelator(m1, four).connected,
                      4.0 * ExactSingleLayerCorrelator(m2, four).connected,
                      1e-12));
  EXPECT_TRUE(IsClose(ExactSingleLayerCorrelator(m1, six).connected,
                      16.0 * ExactSingleLayerCorrelator(m2, six).connected,
                      1e-10));
}

}  // namespace
}  // namespace nnft::theory
