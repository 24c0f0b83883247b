#include "core/theory/kernels.h"

#include <cmath>
#include <numbers>

#include "Eigen/Eigenvalues"
#include "core/theory/gaussian_moments.h"
#include "core/theory/quadrature.h"
#include "core/theory/test_util.h"
#include "core/theory/vector_activation.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;

TEST(GaussHermiteTest, IntegratesGaussianMomentsExactly) {
  const QuadratureRule& rule = GaussHermite(20);
  double double_factorial = 1.0;  // (2k - 1)!!
  for (int k = 0; k <= 19; ++k) {
    double even = 0.0, odd = 0.0;
    for (int i = 0; i < 20; ++i) {
      even += rule.weights[i] * std::pow(rule.nodes[i], 2 * k);
      odd += rule.weights[i] * std::pow(rule.nodes[i], 2 * k + 1);
    }
    EXPECT_TRUE(IsClose(even, double_factorial, 1e-12)) << "E z^" << 2 * k;
    EXPECT_TRUE(IsClose(odd, 0.0, 0.0, 1e-12 * double_factorial));
    double_factorial *= 2 * k + 1;
  }
}

TEST(GaussHermiteTest, LargeRulesStayAccurate) {
  for (int n : {64, 128, 256}) {
    const QuadratureRule& rule = GaussHermite(n);
    double sum = 0.0, cos_mean = 0.0;
    for (int i = 0; i < n; ++i) {
      sum += rule.weights[i];
      cos_mean += rule.weights[i] * std::cos(2.0 * rule.nodes[i]);
    }
    EXPECT_TRUE(IsClose(sum, 1.0, 1e-14));
    EXPECT_TRUE(IsClose(cos_mean, std::exp(-2.0), 1e-12)) << n;
  }
}

TEST(GaussLegendreTest, IntegratesPolynomialsAndSine) {
  const QuadratureRule& rule = GaussLegendre(12);
  for (int k = 0; k < 12; ++k) {
    double s = 0.0;
    for (int i = 0; i < 12; ++i)
      s += rule.weights[i] * std::pow(rule.nodes[i], 2 * k);
    EXPECT_TRUE(IsClose(s, 2.0 / (2 * k + 1), 1e-13));
  }
  EXPECT_TRUE(
      IsClose(CompositeGaussLegendre([](double x) { return std::sin(x); }, 0.0,
                                     kPi, 3, 16),
              2.0, 1e-14));
}

TEST(GaussianFactorTest, ReproducesSingularCovariance) {
  Eigen::MatrixXd points(3, 2);
  points << 0.3, -1.0, 0.3, -1.0, 1.2, 0.4;  // a repeated point
  const Eigen::MatrixXd s = PreactivationCovariance(points, 1.3, 0.0);
  const Eigen::MatrixXd a = GaussianFactor(s);
  EXPECT_EQ(a.cols(), 2);
  EXPECT_LT((a * a.transpose() - s).norm(), 1e-13);
}

TEST(PairMomentTest, ClosedFormsMatchQuadrature) {
  const double cases[][3] = {
      {0.7, 1.3, 0.4}, {2.0, 0.5, -0.9}, {1.0, 1.0, 0.999}, {0.2, 3.0, 0.0}};
  for (Activation act : {Activation::kErf, Activation::kCos, Activation::kSin,
                         Activation::kIdentity}) {
    for (const auto& c : cases) {
      EXPECT_TRUE(IsClose(PairMoment(act, c[0], c[1], c[2]),
                          PairMomentByQuadrature(act, c[0], c[1], c[2], 96),
                          1e-11, 1e-13))
          << ActivationName(act) << " " << c[0] << " " << c[1] << " " << c[2];
    }
  }
}

TEST(PairMomentTest, ReluArcCosineLimitsAndQuadrature) {
  // Perfect correlation: E relu(u)^2 = k/2; independence: k/(2 pi) factors;
  // anti-correlation: 0.
  EXPECT_TRUE(
      IsClose(PairMoment(Activation::kRelu, 2.0, 2.0, 2.0), 1.0, 1e-14));
  EXPECT_TRUE(IsClose(PairMoment(Activation::kRelu, 2.0, 0.5, 0.0),
                      1.0 / (2.0 * kPi), 1e-14));
  EXPECT_TRUE(
      IsClose(PairMoment(Activation::kRelu, 2.0, 2.0, -2.0), 0.0, 0.0, 1e-15));
  // Against the exact angular integral over the arc where both are positive.
  Eigen::MatrixXd a(2, 2);
  a << std::sqrt(0.8), 0.0, 0.5 / std::sqrt(0.8), std::sqrt(1.7 - 0.25 / 0.8);
  EXPECT_TRUE(IsClose(PairMoment(Activation::kRelu, 0.8, 1.7, 0.5),
                      ReluProductMoment(a), 1e-13));
  // The kink limits Gauss-Hermite to algebraic convergence: ~1e-3 at 256 nodes.
  EXPECT_TRUE(IsClose(
      PairMoment(Activation::kRelu, 0.8, 1.7, 0.5),
      PairMomentByQuadrature(Activation::kRelu, 0.8, 1.7, 0.5, 256), 2e-3));
}

TEST(PairMomentTest, QuadratureActivationsMeetExactIdentities) {
  // gelu at zero correlation: E[u Phi(u)] = k / sqrt(2 pi (1 + k)) (Stein).
  auto gelu_mean = [](double k) {
    return k / std::sqrt(2.0 * kPi * (1.0 + k));
  };
  EXPECT_TRUE(IsClose(PairMoment(Activation::kGelu, 0.6, 2.5, 0.0),
                      gelu_mean(0.6) * gelu_mean(2.5), 1e-12));
  // softplus(x) - softplus(-x) = x gives M(k) - M(-k) = k/2.
  EXPECT_TRUE(IsClose(PairMoment(Activation::kSoftplus, 1.1, 0.7, 0.5) -
                          PairMoment(Activation::kSoftplus, 1.1, 0.7, -0.5),
                      0.25, 1e-12));
  // tanh, sin are odd; sigmoid at zero correlation: 1/4.
  EXPECT_TRUE(
      IsClose(PairMoment(Activation::kTanh, 1.0, 2.0, 0.0), 0.0, 0.0, 1e-15));
  EXPECT_TRUE(
      IsClose(PairMoment(Activation::kSigmoid, 1.0, 2.0, 0.0), 0.25, 1e-13));
  // Converged: 96 nodes agree with 160.
  for (Activation act : {Activation::kTanh, Activation::kSigmoid,
                         Activation::kGelu, Activation::kSoftplus}) {
    EXPECT_TRUE(IsClose(PairMoment(act, 1.2, 0.9, 0.6),
                        PairMomentByQuadrature(act, 1.2, 0.9, 0.6, 160), 1e-10,
                        1e-14))
        << ActivationName(act);
  }
}

Eigen::MatrixXd SomePoints() {
  Eigen::MatrixXd x(4, 2);
  x << 0.5, -0.2, -1.0, 0.8, 0.0, 0.0, 1.5, 1.1;
  return x;
}

TEST(MlpKernelTest, SingleErfLayerIsWilliams) {
  MlpSpec mlp{.input_dim = 2,
              .widths = {10},
              .activation = Activation::kErf,
              .sw = {1.4, 0.8},
              .sb = {0.3, 0.2}};
  const Eigen::MatrixXd x = SomePoints();
  const Eigen::MatrixXd k = MlpKernel(mlp, x);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      auto s = [&](int a, int b) {
        return 0.09 + 1.96 * x.row(a).dot(x.row(b)) / 2.0;
      };
      const double c =
          2.0 / kPi *
          std::asin(2.0 * s(i, j) /
                    std::sqrt((1.0 + 2.0 * s(i, i)) * (1.0 + 2.0 * s(j, j))));
      EXPECT_TRUE(IsClose(k(i, j), 0.04 + 0.64 * c, 1e-14));
    }
  }
}

// A layer's expectation by quadrature (erf) or by the exact angle integral
// (relu, whose kink defeats Gauss-Hermite).
double Reference(Activation act, const Eigen::MatrixXd& k, int i, int j) {
  if (act != Activation::kRelu) {
    return PairMomentByQuadrature(act, k(i, i), k(j, j), k(i, j), 200);
  }
  Eigen::MatrixXd cov(2, 2);
  cov << k(i, i), k(i, j), k(j, i), k(j, j);
  return ReluProductMoment(GaussianFactor(cov));
}

TEST(MlpKernelTest, DeepRecursionMatchesLayerwiseQuadrature) {
  const Eigen::MatrixXd x = SomePoints();
  for (Activation act : {Activation::kErf, Activation::kRelu}) {
    MlpSpec mlp{.input_dim = 2,
                .widths = {5, 5, 5},
                .activation = act,
                .sw = {1.2, 1.1, 0.9, 1.3},
                .sb = {0.1, 0.4, 0.2, 0.3}};
    const Eigen::MatrixXd k = MlpKernel(mlp, x);
    Eigen::MatrixXd ref = PreactivationCovariance(x, 1.2, 0.1);
    for (int l = 1; l <= 3; ++l) {
      Eigen::MatrixXd next(4, 4);
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
          next(i, j) = mlp.sb[l] * mlp.sb[l] +
                       mlp.sw[l] * mlp.sw[l] * Reference(act, ref, i, j);
        }
      }
      ref = next;
    }
    const double tol = 1e-11;
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        EXPECT_TRUE(IsClose(k(i, j), ref(i, j), tol)) << ActivationName(act);
      }
    }
  }
}

TEST(MlpKernelTest, IdentityNetIsAffineInTheInputKernel) {
  MlpSpec mlp{.input_dim = 2,
              .widths = {3, 3},
              .activation = Activation::kIdentity,
              .sw = {2.0, 0.5, 3.0},
              .sb = {1.0, 0.0, 0.5}};
  const Eigen::MatrixXd x = SomePoints();
  const Eigen::MatrixXd k = MlpKernel(mlp, x);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      const double s = 1.0 + 4.0 * x.row(i).dot(x.row(j)) / 2.0;
      EXPECT_TRUE(IsClose(k(i, j), 0.25 + 9.0 * (0.25 * s), 1e-14));
    }
  }
}

TEST(MlpKernelTest, UniformPhaseCosAndGaussNet) {
  const Eigen::MatrixXd x = SomePoints();
  MlpSpec mlp{.input_dim = 2,
              .widths = {7},
              .activation = Activation::kCos,
              .sw = {1.5, 2.0},
              .sb = {0.0, 0.5},
              .first_bias = BiasLaw::kUniformPhase};
  GaussNetSpec g{.input_dim = 2,
                 .width = 7,
                 .sw0 = 1.5,
                 .sb0 = 0.7,
                 .sw1 = 2.0,
                 .sb1 = 0.5};
  const Eigen::MatrixXd k = MlpKernel(mlp, x);
  const Eigen::MatrixXd kg = GaussNetKernel(g, x);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      const double e =
          std::exp(-2.25 * (x.row(i) - x.row(j)).squaredNorm() / 4.0);
      EXPECT_TRUE(IsClose(k(i, j), 0.25 + 4.0 * 0.5 * e, 1e-14));
      EXPECT_TRUE(IsClose(kg(i, j), 0.25 + 4.0 * e, 1e-14));
    }
  }
  // Gaussian-bias cos: (1/2)[e^{-V(x-y)/2} + e^{-V(x+y)/2}] (PHYSICS.md).
  mlp.first_bias = BiasLaw::kGaussian;
  mlp.sb[0] = 0.7;
  const Eigen::MatrixXd kc = MlpKernel(mlp, x);
  const Eigen::MatrixXd s = PreactivationCovariance(x, 1.5, 0.7);
  const double vm = s(0, 0) + s(1, 1) - 2 * s(0, 1),
               vp = s(0, 0) + s(1, 1) + 2 * s(0, 1);
  EXPECT_TRUE(IsClose(
      kc(0, 1), 0.25 + 4.0 * 0.5 * (std::exp(-vm / 2) + std::exp(-vp / 2)),
      1e-14));
}

TEST(MlpKernelTest, QuadratureActivationKernelIsSymmetricPositive) {
  const Eigen::MatrixXd x = SomePoints();
  MlpSpec mlp{.input_dim = 2,
              .widths = {4, 4},
              .activation = Activation::kTanh,
              .sw = {1.5, 1.5, 1.0},
              .sb = {0.1, 0.1, 0.1}};
  const Eigen::MatrixXd k = MlpKernel(mlp, x);
  EXPECT_LT((k - k.transpose()).norm(), 1e-15);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k);
  EXPECT_GT(eig.eigenvalues().minCoeff(), 0.0);
}

TEST(PairMomentTest, ReflectedHalfGridEqualsTheFullGrid) {
  // Odd and even rules, a near-diagonal pair (tau ~ 0) and large variances.
  const double cases[][3] = {
      {0.7, 1.3, 0.4}, {2.5, 3.0, -1.9}, {1.0, 1.0, 0.999999}, {6.0, 0.2, 0.5}};
  for (Activation a :
       {Activation::kTanh, Activation::kErf, Activation::kSigmoid,
        Activation::kGelu, Activation::kSoftplus}) {
    for (const auto& c : cases) {
      for (int n : {95, 96, 160}) {
        const double full = PairMomentByQuadrature(a, c[0], c[1], c[2], n);
        EXPECT_TRUE(IsClose(ReflectedPairQuadrature(a, c[0], c[1], c[2], n),
                            full, 1e-13, 1e-15))
            << static_cast<int>(a) << " n " << n << " K " << c[0] << " " << c[1]
            << " " << c[2];
      }
    }
  }
}

TEST(VectorActivationTest, QuadratureSoftplusMatchesTheLibraryForm) {
  for (double x = -40.0; x <= 40.0; x += 0.0137) {
    EXPECT_TRUE(IsClose(QuadratureSoftplus(x),
                        ActivationValue(Activation::kSoftplus, x), 1e-15))
        << x;
  }
}

TEST(MlpKernelTest, ThreadCountsGiveTheSameBits) {
  MlpSpec mlp;
  mlp.input_dim = 2;
  mlp.widths = {8, 8, 8};
  mlp.activation = Activation::kSoftplus;
  mlp.sw = {1.2, 1.2, 1.2, 1.2};
  mlp.sb = {0.1, 0.1, 0.1, 0.1};
  Eigen::MatrixXd x(13, 2);
  for (int i = 0; i < 13; ++i) x.row(i) << std::sin(1.7 * i), 0.3 * i - 1.8;
  const Eigen::MatrixXd one = MlpKernel(mlp, x, 1);
  for (int threads : {2, 3}) {
    const Eigen::MatrixXd many = MlpKernel(mlp, x, threads);
    for (Eigen::Index i = 0; i < one.size(); ++i) {
      EXPECT_EQ(many.data()[i], one.data()[i]) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace nnft::theory
