// Tests of the NTK recursion and the linearised flow (ntk.h) against
// independent closed forms and limits.
#include "core/theory/ntk.h"

#include <cmath>
#include <numbers>

#include "Eigen/Cholesky"
#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"
#include "core/theory/test_util.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

TEST(DerivativePairMomentTest, ErfClosedFormMatchesDirectQuadrature) {
  // E[erf'(u) erf'(v)] by a plain 2-D Gauss-Hermite sum on the Cholesky
  // factor, independent of the nested rule in ntk.cc.
  const double kxx = 0.7, kyy = 1.3, kxy = -0.4;
  const QuadratureRule& rule = GaussHermite(120);
  const double l11 = std::sqrt(kxx), l21 = kxy / l11,
               l22 = std::sqrt(kyy - l21 * l21);
  const auto d = [](double u) {
    return 2 / std::sqrt(std::numbers::pi) * std::exp(-u * u);
  };
  double direct = 0;
  for (size_t i = 0; i < rule.nodes.size(); ++i) {
    for (size_t j = 0; j < rule.nodes.size(); ++j) {
      const double u = l11 * rule.nodes[i];
      const double v = l21 * rule.nodes[i] + l22 * rule.nodes[j];
      direct += rule.weights[i] * rule.weights[j] * d(u) * d(v);
    }
  }
  EXPECT_TRUE(IsClose(DerivativePairMoment(Activation::kErf, kxx, kyy, kxy),
                      direct, 1e-10));
}

TEST(DerivativePairMomentTest, ReluIsHalfOnTheDiagonalAndZeroOpposite) {
  EXPECT_TRUE(
      IsClose(DerivativePairMoment(Activation::kRelu, 2, 2, 2), 0.5, 1e-14));
  EXPECT_TRUE(
      IsClose(DerivativePairMoment(Activation::kRelu, 1, 1, -1), 0.0, 0, 1e-7));
  // Orthogonal pre-activations: P(u > 0, v > 0) = 1/4.
  EXPECT_TRUE(
      IsClose(DerivativePairMoment(Activation::kRelu, 1, 3, 0), 0.25, 1e-14));
}

TEST(DerivativePairMomentTest, TanhQuadratureMeetsSmallVarianceLimit) {
  // For tiny variances tanh'(u) ~ 1 - u^2: E = 1 - kxx - kyy + O(k^2).
  const double k = 1e-4;
  EXPECT_TRUE(IsClose(DerivativePairMoment(Activation::kTanh, k, k, 0.5 * k),
                      1 - 2 * k, 0, 1e-7));
}

TEST(MlpNtkTest, OneLayerMatchesPhysicsFormula) {
  // Theta = sb1^2 + sw1^2 C + sw1^2 Cdot S (PHYSICS.md, learning dynamics).
  MlpSpec mlp{.input_dim = 2,
              .widths = {100},
              .activation = Activation::kErf,
              .sw = {1.3, 0.8},
              .sb = {0.4, 0.2}};
  Eigen::MatrixXd x(3, 2);
  x << 0.5, -1.0, 0.1, 0.3, -0.7, 1.2;
  const NtkKernels k = MlpNtk(mlp, x);
  const Eigen::MatrixXd s = PreactivationCovariance(x, 1.3, 0.4);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const double c =
          (2 / std::numbers::pi) *
          std::asin(2 * s(i, j) /
                    std::sqrt((1 + 2 * s(i, i)) * (1 + 2 * s(j, j))));
      const double cdot = (4 / std::numbers::pi) /
                          std::sqrt((1 + 2 * s(i, i)) * (1 + 2 * s(j, j)) -
                                    4 * s(i, j) * s(i, j));
      const double theta = 0.04 + 0.64 * c + 0.64 * cdot * s(i, j);
      EXPECT_TRUE(IsClose(k.nngp(i, j), 0.04 + 0.64 * c, 1e-12));
      EXPECT_TRUE(IsClose(k.ntk(i, j), theta, 1e-12));
    }
  }
}

TEST(MlpNtkTest, DeepLinearNetIsPolynomialInTheInputKernel) {
  // Identity activation, no biases, sw = 1: K^(l) = S, Theta^(L+1) = (L+1) S.
  MlpSpec mlp{.input_dim = 1,
              .widths = {10, 10, 10},
              .activation = Activation::kIdentity,
              .sw = {1, 1, 1, 1},
              .sb = {0, 0, 0, 0}};
  Eigen::MatrixXd x(2, 1);
  x << 0.5, -2.0;
  const NtkKernels k = MlpNtk(mlp, x);
  EXPECT_TRUE(IsClose(k.ntk(0, 1), 4 * (0.5 * -2.0), 1e-14));
  EXPECT_TRUE(IsClose(k.nngp(0, 1), 0.5 * -2.0, 1e-14));
}

ExperimentSpec FlowSpec(TrainingMethod method, bool last_layer_only) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {64},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.5, 0.1}};
  TrainingSpec t;
  t.x.resize(3, 1);
  t.x << -1.0, 0.2, 1.1;
  t.y.resize(3);
  t.y << 0.3, -0.5, 0.8;
  t.eta = 0.01;
  t.times = {0.0, 1.0, 1e5};
  t.method = method;
  t.last_layer_only = last_layer_only;
  spec.training = t;
  spec.points.resize(2, 1);
  spec.points << 0.2, 0.6;  // a training point and a fresh one
  return spec;
}

TEST(TrainingFlowTheoryTest, InterpolatesTrainingPointsAtLateTime) {
  for (bool last : {false, true}) {
    const FlowTheory th =
        TrainingFlowTheory(FlowSpec(TrainingMethod::kGradientFlow, last));
    EXPECT_TRUE(IsClose(th.mean[0](0), 0.0, 0, 1e-15));
    EXPECT_TRUE(IsClose(th.mean[2](0), -0.5, 1e-8));
    EXPECT_TRUE(IsClose(th.cov[2](0, 0), 0.0, 0, 1e-8));
    EXPECT_GT(th.cov[2](1, 1), 1e-4);  // a fresh point keeps some variance
  }
}

TEST(TrainingFlowTheoryTest, LastLayerLateTimeIsNngpPosterior) {
  const ExperimentSpec spec = FlowSpec(TrainingMethod::kGradientFlow, true);
  const FlowTheory th = TrainingFlowTheory(spec);
  Eigen::MatrixXd all(5, 1);
  all << spec.training->x, spec.points;
  const Eigen::MatrixXd k =
      NngpKernel(spec.architecture, all).value();  // independent NNGP code
  const Eigen::MatrixXd kxx = k.topLeftCorner(3, 3);
  const Eigen::MatrixXd ktx = k.bottomLeftCorner(2, 3);
  const Eigen::VectorXd mean = ktx * kxx.ldlt().solve(spec.training->y);
  const Eigen::MatrixXd cov =
      k.bottomRightCorner(2, 2) - ktx * kxx.ldlt().solve(ktx.transpose());
  for (int p = 0; p < 2; ++p) {
    EXPECT_TRUE(IsClose(th.mean[2](p), mean(p), 1e-7, 1e-9));
    for (int q = 0; q < 2; ++q) {
      EXPECT_TRUE(IsClose(th.cov[2](p, q), cov(p, q), 1e-6, 1e-9));
    }
  }
}

TEST(TrainingFlowTheoryTest, SmallStepDescentFollowsTheFlow) {
  const FlowTheory flow =
      TrainingFlowTheory(FlowSpec(TrainingMethod::kGradientFlow, false));
  const FlowTheory gd =
      TrainingFlowTheory(FlowSpec(TrainingMethod::kGradientDescent, false));
  // O(eta) = 1e-2 apart at t = 1.
  EXPECT_TRUE(IsClose(gd.mean[1](1), flow.mean[1](1), 2e-2));
  EXPECT_TRUE(IsClose(gd.cov[1](1, 1), flow.cov[1](1, 1), 2e-2));
}

}  // namespace
}  // namespace nnft::theory
