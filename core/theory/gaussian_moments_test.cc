#include "core/theory/gaussian_moments.h"

#include <cmath>
#include <numbers>

#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"
#include "core/theory/test_util.h"
#include "core/theory/wick.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;

// A rank-3 covariance of four points in d = 2 with a bias.
Eigen::MatrixXd FourPointCovariance() {
  Eigen::MatrixXd x(4, 2);
  x << 0.4, -0.3, -0.9, 0.6, 0.2, 1.1, 1.0, 0.1;
  return PreactivationCovariance(x, 1.1, 0.5);
}

// Activation values summed on a tensor Gauss-Hermite grid of a's columns, for
// any function f of the vector u = a z.
template <typename F>
double BruteForce(const Eigen::MatrixXd& a, int nodes, F&& f) {
  double total = 0.0;
  ForEachHermiteNode(static_cast<int>(a.cols()), nodes,
                     [&](const Eigen::VectorXd& z, double w) {
                       total += w * f(Eigen::VectorXd(a * z));
                     });
  return total;
}

TEST(ClosedMomentTest, CosAndSinAndIdentityMatchQuadrature) {
  const Eigen::MatrixXd s = FourPointCovariance();
  const Eigen::MatrixXd a = GaussianFactor(s);
  ASSERT_EQ(a.cols(), 3);
  EXPECT_TRUE(IsClose(CosProductMoment(s),
                      HermiteProductMoment(Activation::kCos, a, 40), 1e-12));
  EXPECT_TRUE(IsClose(SinProductMoment(s),
                      HermiteProductMoment(Activation::kSin, a, 40), 1e-11,
                      1e-14));
  EXPECT_TRUE(IsClose(GaussianProductMoment(Activation::kIdentity, s),
                      HermiteProductMoment(Activation::kIdentity, a, 4),
                      1e-13));
  // Odd orders: sin and identity vanish, cos does not.
  const Eigen::MatrixXd s3 = s.topLeftCorner(3, 3);
  const Eigen::MatrixXd a3 = GaussianFactor(s3);
  EXPECT_EQ(SinProductMoment(s3), 0.0);
  EXPECT_TRUE(IsClose(CosProductMoment(s3),
                      HermiteProductMoment(Activation::kCos, a3, 40), 1e-12));
}

TEST(ClosedMomentTest, UniformPhaseCosMatchesPhaseAverage) {
  // E_c E_u prod cos(u_k + c): trapezoid in c (exact for trig polynomials of
  // degree < 64) around Gauss-Hermite in u.
  Eigen::MatrixXd x(6, 2);
  x << 0.4, -0.3, -0.9, 0.6, 0.2, 1.1, 1.0, 0.1, 0.4, -0.3, -0.5, -0.5;
  const Eigen::MatrixXd s = PreactivationCovariance(x, 1.3, 0.0);
  for (int n : {2, 4, 6}) {
    const Eigen::MatrixXd sn = s.topLeftCorner(n, n);
    const Eigen::MatrixXd a = GaussianFactor(sn);
    double direct = 0.0;
    for (int t = 0; t < 64; ++t) {
      const double c = 2.0 * kPi * t / 64.0;
      direct += BruteForce(a, 48, [&](const Eigen::VectorXd& u) {
        double p = 1.0;
        for (int k = 0; k < n; ++k) p *= std::cos(u[k] + c);
        return p;
      });
    }
    direct /= 64.0;
    EXPECT_TRUE(IsClose(UniformPhaseCosMoment(sn), direct, 1e-12)) << n;
  }
  EXPECT_TRUE(
      IsClose(UniformPhaseCosMoment(s.topLeftCorner(2, 2)),
              0.5 * std::exp(-1.69 * (x.row(0) - x.row(1)).squaredNorm() / 4.0),
              1e-14));
}

TEST(ClosedMomentTest, GaussNetMatchesQuadrature) {
  const Eigen::MatrixXd s = FourPointCovariance();
  const Eigen::MatrixXd a = GaussianFactor(s);
  const double direct = BruteForce(a, 40, [&](const Eigen::VectorXd& u) {
    double p = 1.0;
    for (int k = 0; k < 4; ++k) p *= std::exp(u[k] - s(k, k));
    return p;
  });
  EXPECT_TRUE(IsClose(GaussNetMoment(s), direct, 1e-10));
}

// relu(x) - relu(-x) = x: sum_s (prod s_k) E prod relu(s_k a_k.z) = Wick(A
// A^T).
double ReluSignedSum(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  double total = 0.0;
  for (int mask = 0; mask < (1 << n); ++mask) {
    Eigen::MatrixXd b = a;
    double sign = 1.0;
    for (int k = 0; k < n; ++k) {
      if ((mask >> k) & 1) {
        b.row(k) *= -1.0;
        sign = -sign;
      }
    }
    total += sign * ReluProductMoment(b);
  }
  return total;
}

TEST(ReluMomentTest, SignedSumsReproduceWick) {
  Eigen::MatrixXd a3(4, 3);
  a3 << 0.9, -0.2, 0.4, 0.1, 1.3, -0.5, -0.7, 0.3, 0.8, 0.5, 0.5, 0.5;
  Eigen::MatrixXd a2 = a3.leftCols(2);
  for (const Eigen::MatrixXd& a : {a2, a3}) {
    const Eigen::MatrixXd cov = a * a.transpose();
    EXPECT_TRUE(IsClose(ReluSignedSum(a), WickSum(cov, {0, 1, 2, 3}), 1e-13));
    Eigen::MatrixXd a6(6, a.cols());
    a6 << a, a.row(1) * 0.7, a.row(0) + a.row(2);
    EXPECT_TRUE(IsClose(ReluSignedSum(a6),
                        WickSum(a6 * a6.transpose(), {0, 1, 2, 3, 4, 5}),
                        1e-12));
  }
}

TEST(ReluMomentTest, RepeatedPointsMatchArcCosineDegreeTwo) {
  // E[relu(u)^2 relu(v)^2] = (s_u s_v)^2 / (2 pi) J_2(t),
  // J_2 = 3 sin t cos t + (pi - t)(1 + 2 cos^2 t) (Cho & Saul 2009).
  Eigen::Vector3d p(0.8, -0.4, 0.3), q(-0.2, 0.9, 0.6);
  const double t = std::acos(p.dot(q) / (p.norm() * q.norm()));
  const double j2 = 3 * std::sin(t) * std::cos(t) +
                    (kPi - t) * (1 + 2 * std::cos(t) * std::cos(t));
  const double expected = std::pow(p.norm() * q.norm(), 2) / (2 * kPi) * j2;
  Eigen::MatrixXd a3(4, 3);
  a3 << p.transpose(), p.transpose(), q.transpose(), q.transpose();
  EXPECT_TRUE(IsClose(ReluProductMoment(a3), expected, 1e-12));
  // The same through the covariance (rank 2) and the circle.
  EXPECT_TRUE(
      IsClose(GaussianProductMoment(Activation::kRelu, a3 * a3.transpose()),
              expected, 1e-12));
  // E relu(z)^4 = 3/2; degree-1 arc-cosine for pairs.
  EXPECT_TRUE(
      IsClose(ReluProductMoment(Eigen::MatrixXd::Ones(4, 1)), 1.5, 1e-14));
  Eigen::MatrixXd pair(2, 3);
  pair << p.transpose(), q.transpose();
  EXPECT_TRUE(IsClose(
      ReluProductMoment(pair),
      PairMoment(Activation::kRelu, p.squaredNorm(), q.squaredNorm(), p.dot(q)),
      1e-12));
}

TEST(ReluMomentTest, AgreesWithFineHermiteGrid) {
  const Eigen::MatrixXd s = FourPointCovariance();
  const double exact = GaussianProductMoment(Activation::kRelu, s);
  const double grid =
      HermiteProductMoment(Activation::kRelu, GaussianFactor(s), 64);
  EXPECT_TRUE(IsClose(grid, exact, 2e-3));
}

TEST(ReluMomentTest, RankFourFallsBackToHermiteWithinItsStatedAccuracy) {
  // Two independent pairs, rotated so no axis is special: the exact moment
  // is the product of two degree-1 arc-cosine kernels.
  Eigen::MatrixXd a(4, 4);
  a << 0.9, 0.3, 0, 0, -0.2, 1.1, 0, 0, 0, 0, 0.7, -0.5, 0, 0, 0.4, 0.8;
  const double c = std::cos(0.7), s = std::sin(0.7);
  Eigen::MatrixXd rot = Eigen::MatrixXd::Identity(4, 4);
  rot.block(1, 1, 2, 2) << c, -s, s, c;  // mixes the two pairs
  const Eigen::MatrixXd b = a * rot;
  auto pair = [&](int i, int j) {
    return PairMoment(Activation::kRelu, a.row(i).squaredNorm(),
                      a.row(j).squaredNorm(), a.row(i).dot(a.row(j)));
  };
  EXPECT_TRUE(
      IsClose(GaussianProductMoment(Activation::kRelu, b * b.transpose()),
              pair(0, 1) * pair(2, 3), 5e-3));
  EXPECT_TRUE(std::isnan(ReluProductMoment(b)));
}

TEST(NeuronMomentTableTest, GlobalGridMatchesPerTupleQuadrature) {
  Eigen::MatrixXd x(5, 1);
  x << -1.0, -0.3, 0.2, 0.9, 1.4;
  const Eigen::MatrixXd s = PreactivationCovariance(x, 1.2, 0.4);  // rank 2
  NeuronMomentTable table(NeuronKind::kGaussianBias, Activation::kTanh, s);
  for (const std::vector<int>& idx :
       {std::vector<int>{0, 1, 2, 3}, {1, 1, 4, 4}, {0, 2, 2, 3, 4, 4}}) {
    const int n = static_cast<int>(idx.size());
    Eigen::MatrixXd sub(n, n);
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) sub(j, k) = s(idx[j], idx[k]);
    const double local = GaussianProductMoment(Activation::kTanh, sub);
    const double fine =
        HermiteProductMoment(Activation::kTanh, GaussianFactor(sub), 200);
    // tanh of pre-activations with variance ~3: poles near the real axis
    // slow Gauss-Hermite down to ~1e-7 at 128 nodes per dimension.
    EXPECT_TRUE(IsClose(table.Moment(idx), fine, 3e-7));
    EXPECT_TRUE(IsClose(local, fine, 3e-7));
  }
}

TEST(NeuronMomentTableTest, TanhMomentsOfOddOrderVanish) {
  const Eigen::MatrixXd s = FourPointCovariance();
  NeuronMomentTable table(NeuronKind::kGaussianBias, Activation::kTanh, s);
  EXPECT_TRUE(IsClose(table.Moment({0, 1, 3}), 0.0, 0.0, 1e-15));
}

}  // namespace
}  // namespace nnft::theory
