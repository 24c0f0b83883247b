#include "core/theory/cosnet_propagator.h"

#include <cmath>
#include <numbers>

#include "core/theory/quadrature.h"
#include "core/theory/test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;

TEST(CutoffPropagatorTest, CoincidentPointsMatchFiniteCutoffClosedForms) {
  const double m = 0.7, l = 12.0;
  const double at = std::atan(l / m);
  EXPECT_TRUE(
      IsClose(CutoffPropagator(1, 1, m, l, 0.0), at / (kPi * m), 1e-13));
  EXPECT_TRUE(IsClose(CutoffPropagator(2, 1, m, l, 0.0),
                      std::log1p(l * l / (m * m)) / (4 * kPi), 1e-13));
  EXPECT_TRUE(IsClose(CutoffPropagator(3, 1, m, l, 0.0),
                      (l - m * at) / (2 * kPi * kPi), 1e-13));
  EXPECT_TRUE(IsClose(
      CutoffPropagator(1, 2, m, l, 0.0),
      (l / (2 * m * m * (l * l + m * m)) + at / (2 * m * m * m)) / kPi, 1e-13));
  EXPECT_TRUE(IsClose(CutoffPropagator(2, 2, m, l, 0.0),
                      (1 / (m * m) - 1 / (l * l + m * m)) / (4 * kPi), 1e-13));
  EXPECT_TRUE(IsClose(
      CutoffPropagator(3, 2, m, l, 0.0),
      (at / (2 * m) - l / (2 * (l * l + m * m))) / (2 * kPi * kPi), 1e-13));
}

TEST(CutoffSineMomentTest, IsMinusRTimesTheRadialDerivativeOfThePropagator) {
  // S_q(r) = -r dI_q/dr, against a fourth-order central difference of I_q
  // (step 1e-3: truncation ~h^4 I^(5) ~ 1e-12, rounding ~1e-13 / h).
  const double m = 0.8, l = 6.0, h = 1e-3;
  for (int d = 1; d <= 3; ++d) {
    for (int q = 1; q <= 3; ++q) {
      EXPECT_EQ(CutoffSineMoment(d, q, m, l, 0.0), 0.0);
      for (double r : {0.3, 1.1, 2.7}) {
        auto i = [&](double s) { return CutoffPropagator(d, q, m, l, s); };
        const double derivative =
            (-i(r + 2 * h) + 8 * i(r + h) - 8 * i(r - h) + i(r - 2 * h)) /
            (12 * h);
        EXPECT_TRUE(IsClose(CutoffSineMoment(d, q, m, l, r), -r * derivative,
                            1e-8, 1e-11))
            << "d = " << d << ", q = " << q << ", r = " << r;
      }
    }
  }
  // d = 1, q = 2, L -> infinity: I_2 = (1 + m r) e^{-m r} / (4 m^3), so
  // S_2 = r^2 e^{-m r} / (4 m); the finite-cutoff tail is O(r / L^3).
  for (double r : {0.5, 1.5}) {
    EXPECT_TRUE(IsClose(CutoffSineMoment(1, 2, m, 2e3, r),
                        r * r * std::exp(-m * r) / (4 * m), 0.0, 1e-8));
  }
}

TEST(CutoffPropagatorTest, LargeCutoffApproachesContinuumPropagator) {
  const double m = 1.3;
  for (double r : {0.4, 1.0, 2.5}) {
    // d = 1: the tail is -(1/pi) sin(L r)/(r L^2) + O(L^-4).
    const double l1 = 1e4;
    EXPECT_TRUE(IsClose(CutoffPropagator(1, 1, m, l1, r),
                        InfiniteCutoffPropagator(1, m, r), 0.0,
                        1.0 / (kPi * r * l1 * l1)))
        << r;
    // d = 2: G_L - G = sqrt(2/(pi r)) sin(L r - pi/4) / (2 pi r L^{3/2}) +
    // O(L^-5/2).
    const double l2 = 3000.0;
    const double tail2 = std::sqrt(2 / (kPi * r)) * std::sin(l2 * r - kPi / 4) /
                         (2 * kPi * r * std::pow(l2, 1.5));
    EXPECT_TRUE(IsClose(CutoffPropagator(2, 1, m, l2, r) - tail2,
                        InfiniteCutoffPropagator(2, m, r), 0.0,
                        2.0 / (r * r * std::pow(l2, 2.5))))
        << r;
    // d = 3: G_L - G = -cos(L r) / (2 pi^2 r^2 L) + O(L^-2).
    const double l3 = 3000.0;
    const double tail3 = -std::cos(l3 * r) / (2 * kPi * kPi * r * r * l3);
    EXPECT_TRUE(IsClose(CutoffPropagator(3, 1, m, l3, r) - tail3,
                        InfiniteCutoffPropagator(3, m, r), 0.0,
                        1.0 / (r * r * r * l3 * l3)))
        << r;
  }
}

TEST(CutoffPropagatorTest, SquaredPropagatorApproachesContinuum) {
  // H = -dG/d(m^2): (1 + m r) e^{-m r}/(4 m^3), r K1(m r)/(4 pi m), e^{-m r}/(8
  // pi m).
  const double m = 0.8, r = 1.7, l = 2000.0;
  EXPECT_TRUE(IsClose(CutoffPropagator(1, 2, m, l, r),
                      (1 + m * r) * std::exp(-m * r) / (4 * m * m * m), 1e-9));
  EXPECT_TRUE(IsClose(CutoffPropagator(2, 2, m, l, r),
                      r * std::cyl_bessel_k(1.0, m * r) / (4 * kPi * m), 1e-8));
  EXPECT_TRUE(IsClose(CutoffPropagator(3, 2, m, l, r),
                      std::exp(-m * r) / (8 * kPi * m), 1e-6));
}

// Direct d = 1 neuron moment: A^n sa^n E_{b,c} prod_k cos(b x_k +
// c)/(b^2+m^2)^{n/2} with A^2 sa^2 = 2 vol(B_L)/(2 pi) = 2 L / pi; trapezoid in
// c, Gauss-Legendre in b.
double DirectMoment(const std::vector<double>& x, double m, double l) {
  const int n = static_cast<int>(x.size());
  auto integrand = [&](double b) {
    double phase_mean = 0.0;
    for (int t = 0; t < 32; ++t) {
      const double c = 2 * kPi * t / 32;
      double p = 1.0;
      for (double xk : x) p *= std::cos(b * xk + c);
      phase_mean += p / 32;
    }
    return phase_mean * std::pow(b * b + m * m, -0.5 * n);
  };
  const double mean_b =
      CompositeGaussLegendre(integrand, -l, l, 400, 20) / (2 * l);
  return std::pow(2 * l / kPi, 0.5 * n) * mean_b;
}

TEST(CosNetMomentsTest, MatchDirectIntegrationOverWeightsAndPhases) {
  const double m = 0.9, l = 6.0;
  Eigen::MatrixXd points(4, 1);
  points << -0.7, 0.1, 0.4, 1.3;
  CosNetMoments moments(
      CosNetSpec{.input_dim = 1, .width = 10, .mass = m, .cutoff = l}, points);
  auto xs = [&](std::vector<int> idx) {
    std::vector<double> v;
    for (int i : idx) v.push_back(points(i, 0));
    return v;
  };
  for (const std::vector<int>& idx : {std::vector<int>{0, 2},
                                      {0, 1, 2, 3},
                                      {1, 1, 3, 3},
                                      {0, 1, 1, 2, 3, 3}}) {
    EXPECT_TRUE(
        IsClose(moments.Moment(idx), DirectMoment(xs(idx), m, l), 1e-11))
        << idx.size();
  }
  EXPECT_TRUE(IsClose(moments.Kernel()(0, 2),
                      CutoffPropagator(1, 1, m, l, points(2, 0) - points(0, 0)),
                      1e-15));
}

}  // namespace
}  // namespace nnft::theory
