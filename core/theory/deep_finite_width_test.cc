// The leading-order 1/n theory of deep MLPs against exact results: the
// susceptibilities against finite differences of the pair moment, the
// one-hidden-layer reduction to the exact single-layer G4_c, and deep linear
// and bias-free ReLU networks whose finite-width moments are known exactly.
#include "core/theory/deep_finite_width.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"
#include "core/theory/pair_moment_derivatives.h"
#include "core/theory/test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

using Key = DeepFiniteWidth::Key;

Eigen::MatrixXd FourPointsD2() {
  Eigen::MatrixXd x(4, 2);
  x << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2;
  return x;
}

// Every pair a <= b over p points.
std::vector<std::pair<int, int>> AllPairs(int p) {
  std::vector<std::pair<int, int>> out;
  for (int a = 0; a < p; ++a)
    for (int b = a; b < p; ++b) out.push_back({a, b});
  return out;
}

// Every sorted 4-tuple over p points (repeats included).
std::vector<Key> AllFourTuples(int p) {
  std::vector<Key> out;
  for (int a = 0; a < p; ++a)
    for (int b = a; b < p; ++b)
      for (int c = b; c < p; ++c)
        for (int d = c; d < p; ++d) out.push_back({a, b, c, d});
  return out;
}

const Activation kAll[] = {
    Activation::kIdentity, Activation::kRelu,    Activation::kErf,
    Activation::kTanh,     Activation::kSigmoid, Activation::kGelu,
    Activation::kSoftplus, Activation::kSin,     Activation::kCos};

TEST(PairMomentDerivativesTest, GradientMatchesFiniteDifferencesOfPairMoment) {
  const double kaa = 0.9, kbb = 1.4, kab = 0.5, h = 1e-4;
  for (Activation act : kAll) {
    const std::string name(ActivationName(act));
    const PairMomentJet jet = PairMomentDerivatives(act, kaa, kbb, kab);
    auto g = [&](double a, double b, double c) {
      return PairMoment(act, a, b, c);
    };
    EXPECT_TRUE(IsClose(jet.value, g(kaa, kbb, kab), 1e-12)) << name;
    const double daa = (g(kaa + h, kbb, kab) - g(kaa - h, kbb, kab)) / (2 * h);
    const double dbb = (g(kaa, kbb + h, kab) - g(kaa, kbb - h, kab)) / (2 * h);
    const double dab = (g(kaa, kbb, kab + h) - g(kaa, kbb, kab - h)) / (2 * h);
    EXPECT_TRUE(IsClose(jet.grad[kEntryAa], daa, 1e-6, 1e-9)) << name;
    EXPECT_TRUE(IsClose(jet.grad[kEntryBb], dbb, 1e-6, 1e-9)) << name;
    EXPECT_TRUE(IsClose(jet.grad[kEntryAb], dab, 1e-6, 1e-9)) << name;
  }
}

TEST(PairMomentDerivativesTest, HessianMatchesFiniteDifferencesOfGradient) {
  const double k[3] = {0.9, 1.4, 0.5};  // kaa, kbb, kab
  const double h = 1e-4;
  for (Activation act : kAll) {
    const std::string name(ActivationName(act));
    const PairMomentJet jet = PairMomentDerivatives(act, k[0], k[1], k[2]);
    for (int j = 0; j < 3; ++j) {
      double plus[3] = {k[0], k[1], k[2]}, minus[3] = {k[0], k[1], k[2]};
      plus[j] += h;
      minus[j] -= h;
      const PairMomentJet jp =
          PairMomentDerivatives(act, plus[0], plus[1], plus[2]);
      const PairMomentJet jm =
          PairMomentDerivatives(act, minus[0], minus[1], minus[2]);
      for (int i = 0; i < 3; ++i) {
        const double fd = (jp.grad[i] - jm.grad[i]) / (2 * h);
        EXPECT_TRUE(IsClose(jet.hess[i][j], fd, 1e-5, 1e-8))
            << name << " d2G/dK" << i << " dK" << j;
      }
    }
  }
}

TEST(PairMomentDerivativesTest, DiagonalJetMatchesFiniteDifferences) {
  const double k = 1.3, h = 1e-3;
  for (Activation act : kAll) {
    const std::string name(ActivationName(act));
    auto g = [&](double v) { return PairMoment(act, v, v, v); };
    const DiagonalMomentJet jet = DiagonalMomentDerivatives(act, k);
    EXPECT_TRUE(IsClose(jet.first, (g(k + h) - g(k - h)) / (2 * h), 1e-6, 1e-9))
        << name;
    // Five-point stencil (truncation O(h^4)).
    const double second = (-g(k + 2 * h) + 16 * g(k + h) - 30 * g(k) +
                           16 * g(k - h) - g(k - 2 * h)) /
                          (12 * h * h);
    EXPECT_TRUE(IsClose(jet.second, second, 1e-6, 1e-8)) << name;
  }
}

// With one hidden layer the recursion has only its local term, which must be
// the exact (sw1^4/N)(3 M4 - sum C C) of core/theory/finite_width.h with the
// same neuron moments.
TEST(DeepFiniteWidthTest, OneHiddenLayerEqualsExactSingleLayerG4c) {
  const Eigen::MatrixXd x = FourPointsD2();
  const std::vector<Key> tuples = AllFourTuples(4);
  for (Activation act : {Activation::kTanh, Activation::kRelu, Activation::kErf,
                         Activation::kCos}) {
    for (bool uniform : {false, true}) {
      if (uniform && act != Activation::kCos) continue;
      const MlpSpec mlp{
          .input_dim = 2,
          .widths = {24},
          .activation = act,
          .sw = {1.3, 0.9},
          .sb = {uniform ? 0.0 : 0.4, 0.2},
          .first_bias = uniform ? BiasLaw::kUniformPhase : BiasLaw::kGaussian};
      const DeepFiniteWidth theory(mlp, x, tuples, AllPairs(4));
      const NeuronMomentTable table(
          uniform ? NeuronKind::kUniformPhase : NeuronKind::kGaussianBias, act,
          PreactivationCovariance(x, 1.3, uniform ? 0.0 : 0.4));
      const Eigen::MatrixXd c = FirstLayerNeuronCovariance(mlp, x);
      const double sw4 = std::pow(0.9, 4);
      EXPECT_TRUE(theory.kernel().isApprox(MlpKernel(mlp, x), 1e-14));
      EXPECT_EQ(theory.kernel_correction().norm(), 0.0);
      for (const Key& t : tuples) {
        const double exact =
            sw4 / 24.0 *
            (3.0 * table.Moment({t[0], t[1], t[2], t[3]}) -
             c(t[0], t[1]) * c(t[2], t[3]) - c(t[0], t[2]) * c(t[1], t[3]) -
             c(t[0], t[3]) * c(t[1], t[2]));
        EXPECT_TRUE(IsClose(theory.Connected4(t), exact, 1e-10, 1e-15))
            << ActivationName(act) << (uniform ? " uniform phase" : "")
            << " at " << t[0] << t[1] << t[2] << t[3];
      }
    }
  }
}

// Exact moments of a deep linear net with biases: the neurons of layer m+1
// are i.i.d. N(0, Q) given layer m, Q_ab = sb^2 + (sw^2/n) sum_i z_ia z_ib, a
// Wishart matrix, so M = E[Q] and T_(ab)(cd) = E[Q_ab Q_cd] obey
//   M' = sb^2 + sw^2 M,
//   T'_(ab)(cd) = sb^4 + sb^2 sw^2 (M_ab + M_cd)
//                 + sw^4 [T_(ab)(cd) + (T_(ac)(bd) + T_(ad)(bc)) / n],
// exactly, and G4_c = sum_3 T - sum_3 M M at the output.
struct LinearExact {
  Eigen::MatrixXd m;
  std::vector<double> t;  // P^4, index ((a P + b) P + c) P + d
  int p = 0;
  double T(int a, int b, int c, int d) const {
    return t[((a * p + b) * p + c) * p + d];
  }
  double Connected4(const Key& k) const {
    const auto [a, b, c, d] = k;
    return T(a, b, c, d) + T(a, c, b, d) + T(a, d, b, c) - m(a, b) * m(c, d) -
           m(a, c) * m(b, d) - m(a, d) * m(b, c);
  }
};

LinearExact ExactLinear(const MlpSpec& mlp, const Eigen::MatrixXd& x) {
  LinearExact e;
  e.p = static_cast<int>(x.rows());
  const int p = e.p;
  e.m = PreactivationCovariance(x, mlp.sw[0], mlp.sb[0]);
  e.t.resize(p * p * p * p);
  for (int a = 0; a < p; ++a)
    for (int b = 0; b < p; ++b)
      for (int c = 0; c < p; ++c)
        for (int d = 0; d < p; ++d)
          e.t[((a * p + b) * p + c) * p + d] = e.m(a, b) * e.m(c, d);
  for (size_t l = 1; l <= mlp.widths.size(); ++l) {
    const double sw2 = mlp.sw[l] * mlp.sw[l], sb2 = mlp.sb[l] * mlp.sb[l];
    const double n = mlp.widths[l - 1];
    std::vector<double> next(e.t.size());
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b)
        for (int c = 0; c < p; ++c)
          for (int d = 0; d < p; ++d)
            next[((a * p + b) * p + c) * p + d] =
                sb2 * sb2 + sb2 * sw2 * (e.m(a, b) + e.m(c, d)) +
                sw2 * sw2 *
                    (e.T(a, b, c, d) + (e.T(a, c, b, d) + e.T(a, d, b, c)) / n);
    e.t = std::move(next);
    e.m = (sw2 * e.m).array() + sb2;
  }
  return e;
}

TEST(DeepFiniteWidthTest, LinearSingleInputMatchesProductOfChiSquares) {
  // One input, no biases: Q_L = Q_0 prod_m sw_m^2 chi2_{n_m}/n_m, so
  // G4_c / G2^2 = 3 (prod_m (1 + 2/n_m) - 1) exactly and 6 sum_m 1/n_m at
  // leading order.
  Eigen::MatrixXd x(1, 1);
  x << 0.8;
  const MlpSpec mlp{.input_dim = 1,
                    .widths = {16, 40, 24},
                    .activation = Activation::kIdentity,
                    .sw = {1.1, 0.9, 1.3, 0.7},
                    .sb = {0.0, 0.0, 0.0, 0.0}};
  const LinearExact exact = ExactLinear(mlp, x);
  const double g2 = exact.m(0, 0);
  const double prod = (1 + 2.0 / 16) * (1 + 2.0 / 40) * (1 + 2.0 / 24);
  EXPECT_TRUE(
      IsClose(exact.Connected4({0, 0, 0, 0}), 3 * g2 * g2 * (prod - 1), 1e-12));
  const DeepFiniteWidth theory(mlp, x, {{0, 0, 0, 0}}, {{0, 0}});
  EXPECT_TRUE(IsClose(theory.kernel()(0, 0), g2, 1e-14));
  EXPECT_TRUE(IsClose(theory.Connected4({0, 0, 0, 0}),
                      6 * g2 * g2 * (1.0 / 16 + 1.0 / 40 + 1.0 / 24), 1e-12));
  EXPECT_EQ(theory.kernel_correction()(0, 0), 0.0);  // linear: G2 = K exactly
}

TEST(DeepFiniteWidthTest, LinearWithBiasesMatchesExactOneOverNTerm) {
  // Four distinct inputs, biases, unequal widths scaled by lambda: the exact
  // G4_c is a polynomial in 1/lambda whose 1/lambda term the theory must
  // give, so the relative residual falls like 1/lambda (it would tend to a
  // constant with a wrong coefficient).
  const Eigen::MatrixXd x = FourPointsD2();
  const std::vector<Key> tuples = AllFourTuples(4);
  double previous_worst = 0.0;
  for (int lambda : {100, 1000, 10000}) {
    const MlpSpec mlp{.input_dim = 2,
                      .widths = {2 * lambda, 3 * lambda, lambda},
                      .activation = Activation::kIdentity,
                      .sw = {1.2, 0.9, 1.1, 1.3},
                      .sb = {0.3, 0.5, 0.2, 0.4}};
    const LinearExact exact = ExactLinear(mlp, x);
    const DeepFiniteWidth theory(mlp, x, tuples, AllPairs(4));
    EXPECT_TRUE(theory.kernel().isApprox(exact.m, 1e-13));
    EXPECT_LT(theory.kernel_correction().cwiseAbs().maxCoeff(), 1e-15);
    double worst = 0.0;
    for (const Key& t : tuples) {
      const double e = exact.Connected4(t), v = theory.Connected4(t);
      worst = std::max(worst, std::abs(e - v) / std::abs(v));
    }
    EXPECT_LT(worst, 10.0 / lambda) << "lambda " << lambda;
    if (previous_worst > 0.0) {
      EXPECT_TRUE(IsClose(worst / previous_worst, 0.1, 0.05))
          << "lambda " << lambda << ": residual ratio "
          << worst / previous_worst;
    }
    previous_worst = worst;
  }
}

TEST(DeepFiniteWidthTest, BiasFreeReluSingleInputMatchesExactMoments) {
  // Positive homogeneity: Q' = Q sw^2 (1/n) sum_i relu(g_i)^2, with
  // E relu(g)^2 = 1/2, E relu(g)^4 = 3/2, so G2 = K exactly and
  // G4_c / G2^2 = 3 (prod_m (1 + 5/n_m) - 1): 15 sum_m 1/n_m at leading
  // order.
  Eigen::MatrixXd x(1, 2);
  x << 0.6, -1.1;
  const MlpSpec mlp{.input_dim = 2,
                    .widths = {32, 20, 50},
                    .activation = Activation::kRelu,
                    .sw = {1.3, 1.4, 1.2, 0.8},
                    .sb = {0.0, 0.0, 0.0, 0.0}};
  const DeepFiniteWidth theory(mlp, x, {{0, 0, 0, 0}}, {{0, 0}});
  const double g2 = theory.kernel()(0, 0);
  EXPECT_TRUE(IsClose(theory.Connected4({0, 0, 0, 0}),
                      15 * g2 * g2 * (1.0 / 32 + 1.0 / 20 + 1.0 / 50), 1e-12));
  EXPECT_TRUE(IsClose(theory.Vertex(0, 0, 0, 0),
                      5 * 50 * g2 * g2 * (1.0 / 32 + 1.0 / 20 + 1.0 / 50),
                      1e-12));
  EXPECT_EQ(theory.kernel_correction()(0, 0), 0.0);
}

TEST(DeepFiniteWidthTest, ChannelsAreSymmetricAndUnpreparedOnesAreNaN) {
  const Eigen::MatrixXd x = FourPointsD2();
  const MlpSpec mlp{.input_dim = 2,
                    .widths = {16, 16},
                    .activation = Activation::kTanh,
                    .sw = {1.2, 1.5, 1.0},
                    .sb = {0.3, 0.2, 0.1}};
  const DeepFiniteWidth theory(mlp, x, {{0, 1, 2, 3}}, AllPairs(4));
  const double v = theory.Channel(0, 1, 2, 3);
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(theory.Channel(1, 0, 3, 2), v);
  EXPECT_EQ(theory.Channel(2, 3, 0, 1), v);
  EXPECT_TRUE(std::isnan(theory.Channel(0, 0, 1, 1)));
  // dK is symmetric and finite at every pair.
  const Eigen::MatrixXd& dk = theory.kernel_correction();
  EXPECT_TRUE(dk.allFinite());
  EXPECT_TRUE(dk.isApprox(dk.transpose(), 1e-14));
}

TEST(DeepFiniteWidthTest, NestedProductMomentConvergesAndMatchesClosedForms) {
  // A layer-2 kernel at four distinct points: the production node counts
  // against 40 nodes per dimension (converged to ~1e-9), for every smooth
  // activation.
  const MlpSpec one{.input_dim = 2,
                    .widths = {8},
                    .activation = Activation::kTanh,
                    .sw = {1.5, 1.6},
                    .sb = {0.3, 0.2}};
  for (Activation act :
       {Activation::kTanh, Activation::kErf, Activation::kSigmoid,
        Activation::kGelu, Activation::kSoftplus}) {
    MlpSpec mlp = one;
    mlp.activation = act;
    const Eigen::MatrixXd cov = MlpKernel(mlp, FourPointsD2());
    const double fine = NestedProductMoment(act, cov, {1, 1, 1, 1}, 40);
    EXPECT_TRUE(
        IsClose(NestedProductMoment(act, cov, {1, 1, 1, 1}, NestedNodes(4)),
                fine, 1e-5))
        << ActivationName(act);
    // Repeated points as powers: (0, 0, 2, 3) and (1, 1, 1, 3).
    const Eigen::MatrixXd c3 = cov({0, 2, 3}, {0, 2, 3});
    EXPECT_TRUE(IsClose(NestedProductMoment(act, c3, {2, 1, 1}, NestedNodes(3)),
                        NestedProductMoment(act, c3, {2, 1, 1}, 80), 1e-8))
        << ActivationName(act);
    const Eigen::MatrixXd c2 = cov({1, 3}, {1, 3});
    EXPECT_TRUE(IsClose(NestedProductMoment(act, c2, {3, 1}, NestedNodes(2)),
                        NestedProductMoment(act, c2, {3, 1}, 200), 1e-8))
        << ActivationName(act);
  }
  // Closed forms: identity (Wick), and the erf pair moment at r = 2.
  const Eigen::Matrix2d k{{0.9, 0.4}, {0.4, 1.3}};
  EXPECT_TRUE(IsClose(
      NestedProductMoment(Activation::kIdentity, k, {2, 2}, NestedNodes(2)),
      0.9 * 1.3 + 2 * 0.4 * 0.4, 1e-12));
  EXPECT_TRUE(
      IsClose(NestedProductMoment(Activation::kErf, k, {1, 1}, NestedNodes(2)),
              PairMoment(Activation::kErf, 0.9, 1.3, 0.4), 1e-12));
  EXPECT_TRUE(std::isnan(NestedProductMoment(
      Activation::kTanh, Eigen::Matrix2d::Ones(), {1, 1}, 8)));
}

TEST(DeepFiniteWidthTest, CostCountsDistinctQuadruplesPerLayer) {
  // The channels below (01)(23) stay inside {0, 1, 2, 3}: one quadruple of
  // distinct points per hidden layer; repeated points cost nothing here.
  EXPECT_EQ(DeepFiniteWidthCost(3, {{0, 1, 2, 3}}, {}), 3);
  EXPECT_EQ(DeepFiniteWidthCost(3, {{0, 0, 1, 2}}, {{0, 1}}), 0);
  EXPECT_EQ(DeepFiniteWidthCost(2, AllFourTuples(6), AllPairs(6)), 2 * 15);
}

TEST(DeepFiniteWidthTest, UnsupportedFeaturesAreNamed) {
  MlpSpec mlp{.widths = {8, 8}, .sw = {1, 1, 1}, .sb = {0, 0, 0}};
  EXPECT_TRUE(DeepFiniteWidthSupported(mlp).ok());
  mlp.residual = true;
  EXPECT_EQ(DeepFiniteWidthSupported(mlp).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_NE(DeepFiniteWidthSupported(mlp).message().find("residual"),
            std::string::npos);
  mlp.residual = false;
  mlp.input_projection_dim = 4;
  EXPECT_NE(
      DeepFiniteWidthSupported(mlp).message().find("input_projection_dim"),
      std::string::npos);
}

}  // namespace
}  // namespace nnft::theory
