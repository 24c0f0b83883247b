#include "core/theory/theory.h"

#include <cmath>
#include <numbers>

#include "core/theory/cosnet_propagator.h"
#include "core/theory/gaussian_moments.h"
#include "core/theory/kernels.h"
#include "core/theory/test_util.h"
#include "core/theory/wick.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

using theory::IsClose;
constexpr double kPi = std::numbers::pi;

ExperimentSpec SpecWith(Architecture architecture, int d,
                        std::vector<int> orders,
                        std::vector<std::vector<int>> tuples = {}) {
  ExperimentSpec spec;
  spec.architecture = std::move(architecture);
  spec.points.resize(3, d);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < d; ++k)
      spec.points(i, k) = 0.3 * (i + 1) - 0.45 * k + 0.1 * i * k;
  spec.observables.orders = std::move(orders);
  spec.observables.tuples = std::move(tuples);
  return spec;
}

TheoryValues Compute(const ExperimentSpec& spec,
                     TupleSet* tuples_out = nullptr) {
  absl::StatusOr<TupleSet> tuples = TupleSet::Build(
      static_cast<int>(spec.points.rows()), spec.observables, 1 << 20);
  EXPECT_TRUE(tuples.ok()) << tuples.status();
  absl::StatusOr<TheoryValues> values = ComputeTheory(spec, *tuples);
  EXPECT_TRUE(values.ok()) << values.status();
  if (tuples_out != nullptr) *tuples_out = *tuples;
  return *values;
}

TEST(ComputeTheoryTest, ErfSingleLayerFillsEveryField) {
  MlpSpec mlp{.input_dim = 2,
              .widths = {8},
              .activation = Activation::kErf,
              .sw = {1.2, 0.9},
              .sb = {0.3, 0.4}};
  const ExperimentSpec spec = SpecWith(mlp, 2, {1, 2, 3, 4});
  TupleSet tuples;
  const TheoryValues v = Compute(spec, &tuples);
  ASSERT_TRUE(v.has_exact);
  EXPECT_FALSE(v.method.empty());
  const Eigen::MatrixXd& k = v.kernel;
  auto s = [&](int a, int b) {
    return 0.09 + 1.44 * spec.points.row(a).dot(spec.points.row(b)) / 2.0;
  };
  EXPECT_TRUE(IsClose(
      k(0, 2),
      0.16 + 0.81 * 2 / kPi *
                 std::asin(2 * s(0, 2) /
                           std::sqrt((1 + 2 * s(0, 0)) * (1 + 2 * s(2, 2)))),
      1e-14));
  for (size_t i = 0; i < tuples.requested().size(); ++i) {
    const Tuple& t = tuples.tuples()[tuples.requested()[i]];
    if (t.size() % 2 == 1) {
      EXPECT_EQ(v.gp_full[i], 0.0);
      EXPECT_EQ(v.exact_full[i], 0.0);
      EXPECT_EQ(v.exact_connected[i], 0.0);
    } else if (t.size() == 2) {
      EXPECT_EQ(v.gp_connected[i], k(t[0], t[1]));
      EXPECT_TRUE(IsClose(v.exact_full[i], k(t[0], t[1]), 1e-14));
    } else {
      EXPECT_EQ(v.gp_connected[i], 0.0);
      EXPECT_TRUE(IsClose(v.gp_full[i],
                          k(t[0], t[1]) * k(t[2], t[3]) +
                              k(t[0], t[2]) * k(t[1], t[3]) +
                              k(t[0], t[3]) * k(t[1], t[2]),
                          1e-14));
      // The exact full correlator is the GP one plus the 1/N connected part.
      EXPECT_TRUE(
          IsClose(v.exact_full[i], v.gp_full[i] + v.exact_connected[i], 1e-12));
      EXPECT_TRUE(std::isfinite(v.exact_connected[i]));
    }
  }
}

TEST(ComputeTheoryTest, MemoisedMomentsGiveTheDirectSixPointValues) {
  // ComputeTheory memoises neuron moments across tuples; recompute one
  // 6-point connected function from scratch with the i.i.d.-neuron formula.
  MlpSpec mlp{.input_dim = 1,
              .widths = {3},
              .activation = Activation::kTanh,
              .sw = {1.1, 0.9},
              .sb = {0.3, 0.2}};
  const ExperimentSpec spec = SpecWith(mlp, 1, {2, 4, 6});
  TupleSet tuples;
  const TheoryValues v = Compute(spec, &tuples);
  const std::vector<int> t = {0, 1, 1, 2, 2, 2};
  int index = -1;
  for (size_t i = 0; i < tuples.requested().size(); ++i) {
    if (tuples.tuples()[tuples.requested()[i]] == t)
      index = static_cast<int>(i);
  }
  ASSERT_GE(index, 0);
  const Eigen::MatrixXd s =
      theory::PreactivationCovariance(spec.points, 1.1, 0.3);
  auto m = [&](std::vector<int> idx) {
    const int n = static_cast<int>(idx.size());
    Eigen::MatrixXd sub(n, n);
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) sub(j, k) = s(idx[j], idx[k]);
    return std::pow(0.9, n) *
           theory::GaussianProductMoment(Activation::kTanh, sub);
  };
  double m4c = 0.0, ccc = 0.0;
  for (const theory::SplitFourTwo& sp : theory::SplitsFourTwo()) {
    m4c += m({t[sp.four[0]], t[sp.four[1]], t[sp.four[2]], t[sp.four[3]]}) *
           m({t[sp.two[0]], t[sp.two[1]]});
  }
  for (const theory::Pairing& p : theory::Pairings(6)) {
    double term = 1.0;
    for (const auto& [a, b] : p) term *= m({t[a], t[b]});
    ccc += term;
  }
  EXPECT_TRUE(IsClose(v.exact_connected[index],
                      (15 * m(t) - 3 * m4c + 2 * ccc) / 9.0, 1e-7, 1e-12));
}

TEST(ComputeTheoryTest, DeepNetHasLeadingOrderTheoryLabelledAsSuch) {
  MlpSpec mlp{.input_dim = 1,
              .widths = {8, 8},
              .activation = Activation::kTanh,
              .sw = {1.2, 0.9, 1.0},
              .sb = {0.3, 0.4, 0.1}};
  TupleSet tuples;
  const TheoryValues v = Compute(SpecWith(mlp, 1, {1, 2, 4, 6}), &tuples);
  EXPECT_TRUE(v.has_exact);
  EXPECT_TRUE(v.leading_order_in_inverse_width);
  EXPECT_NE(v.method.find("leading order in 1/n"), std::string::npos)
      << v.method;
  for (size_t i = 0; i < v.gp_full.size(); ++i) {
    const size_t n = tuples.tuples()[tuples.requested()[i]].size();
    EXPECT_TRUE(std::isfinite(v.gp_full[i]));
    EXPECT_TRUE(std::isfinite(v.exact_full[i])) << "order " << n;
    // G6_c is O(1/n^2): not given at this order.
    EXPECT_EQ(std::isnan(v.exact_connected[i]), n == 6) << "order " << n;
    if (n == 1) EXPECT_EQ(v.exact_full[i], 0.0);
  }
}

TEST(ComputeTheoryTest, DeepTheoryGivesTheSameBitsOnAnyThreadCount) {
  // 7 points in d = 2 (rank-3 first layer), three tanh layers: every
  // quadrature (kernel entries, nested 4-point moments, jets) is shared out.
  MlpSpec mlp{.input_dim = 2,
              .widths = {8, 8, 8},
              .activation = Activation::kTanh,
              .sw = {1.2, 0.9, 1.0, 1.1},
              .sb = {0.3, 0.4, 0.1, 0.2}};
  ExperimentSpec spec = SpecWith(mlp, 2, {2, 4});
  spec.points.resize(7, 2);
  for (int i = 0; i < 7; ++i)
    spec.points.row(i) << std::sin(1.3 * i), 0.4 * i - 1.1;
  absl::StatusOr<TupleSet> tuples =
      TupleSet::Build(7, spec.observables, 1 << 20);
  ASSERT_TRUE(tuples.ok()) << tuples.status();
  absl::StatusOr<TheoryValues> one = ComputeTheory(spec, *tuples);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(one->leading_order_in_inverse_width) << one->method;
  for (int threads : {2, 3}) {
    absl::StatusOr<TheoryValues> many =
        ComputeTheory(spec, *tuples, {.threads = threads});
    ASSERT_TRUE(many.ok()) << many.status();
    ASSERT_EQ(many->kernel.size(), one->kernel.size());
    for (Eigen::Index i = 0; i < one->kernel.size(); ++i) {
      EXPECT_EQ(many->kernel.data()[i], one->kernel.data()[i]);
    }
    for (size_t i = 0; i < one->exact_full.size(); ++i) {
      EXPECT_EQ(many->exact_full[i], one->exact_full[i]) << threads << " " << i;
      EXPECT_EQ(many->exact_connected[i], one->exact_connected[i])
          << threads << " " << i;
    }
  }
}

TEST(ComputeTheoryTest, ThreadCountOutOfRangeIsRefusedNamingTheField) {
  const ExperimentSpec spec = SpecWith(MlpSpec{}, 1, {2});
  absl::StatusOr<TupleSet> tuples =
      TupleSet::Build(3, spec.observables, 1 << 20);
  ASSERT_TRUE(tuples.ok());
  for (int threads : {0, 1025}) {
    absl::StatusOr<TheoryValues> v =
        ComputeTheory(spec, *tuples, {.threads = threads});
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(v.status().message().find("threads"), std::string::npos);
    EXPECT_NE(v.status().message().find("between 1 and 1024"),
              std::string::npos);
  }
}

TEST(ComputeTheoryTest, DeepNetOverTheMomentBudgetSaysWhy) {
  // 24 points, all 4-point tuples: 10626 distinct quadruples per layer.
  MlpSpec mlp{.input_dim = 1,
              .widths = {8, 8},
              .activation = Activation::kTanh,
              .sw = {1.2, 0.9, 1.0},
              .sb = {0.3, 0.4, 0.1}};
  ExperimentSpec spec = SpecWith(mlp, 1, {2, 4});
  spec.points = Eigen::VectorXd::LinSpaced(24, -1.0, 1.0);
  const TheoryValues v = Compute(spec);
  EXPECT_FALSE(v.has_exact);
  EXPECT_NE(v.method.find("not computed"), std::string::npos) << v.method;
  EXPECT_NE(v.method.find("over the limit"), std::string::npos) << v.method;
  for (double x : v.gp_full) EXPECT_TRUE(std::isfinite(x));
  for (double x : v.exact_full) EXPECT_TRUE(std::isnan(x));
}

TEST(ComputeTheoryTest, DeepResidualNetSaysWhyItHasNoFiniteWidthTheory) {
  MlpSpec mlp{.input_dim = 1,
              .widths = {8, 8},
              .activation = Activation::kTanh,
              .sw = {1.2, 0.9, 1.0},
              .sb = {0.3, 0.4, 0.1},
              .residual = true};
  const TheoryValues v = Compute(SpecWith(mlp, 1, {2, 4}));
  EXPECT_FALSE(v.has_exact);
  EXPECT_NE(v.method.find("no finite-width theory: residual"),
            std::string::npos)
      << v.method;
  for (size_t i = 0; i < v.gp_full.size(); ++i) {
    EXPECT_TRUE(std::isfinite(v.gp_full[i]));
    EXPECT_TRUE(std::isnan(v.exact_full[i]));
  }
}

TEST(ComputeTheoryTest, GaussNetConnectedFourPointMatchesProductFormula) {
  GaussNetSpec g{.input_dim = 1,
                 .width = 5,
                 .sw0 = 1.1,
                 .sb0 = 0.2,
                 .sw1 = 1.3,
                 .sb1 = 0.1};
  const ExperimentSpec spec = SpecWith(g, 1, {4}, {{0, 1, 2, 2}});
  const TheoryValues v = Compute(spec);
  ASSERT_EQ(v.exact_connected.size(), 1u);
  const double x[4] = {spec.points(0, 0), spec.points(1, 0), spec.points(2, 0),
                       spec.points(2, 0)};
  // E prod h = exp(n^2 sb0^2/2 - n sb0^2 + (sw0^2/2)(|sum x|^2 - 2 sum x^2)), d
  // = 1.
  auto moment = [&](std::vector<double> xs) {
    const double n = static_cast<double>(xs.size());
    double sum = 0.0, sq = 0.0;
    for (double xi : xs) {
      sum += xi;
      sq += xi * xi;
    }
    return std::exp(n * n * 0.04 / 2 - n * 0.04 +
                    1.21 / 2 * (sum * sum - 2 * sq));
  };
  const double m4 = moment({x[0], x[1], x[2], x[3]});
  const double cc = moment({x[0], x[1]}) * moment({x[2], x[3]}) +
                    moment({x[0], x[2]}) * moment({x[1], x[3]}) +
                    moment({x[0], x[3]}) * moment({x[1], x[2]});
  EXPECT_TRUE(IsClose(v.exact_connected[0],
                      std::pow(1.3, 4) / 5 * (3 * m4 - cc), 1e-13));
}

TEST(ComputeTheoryTest, CosNetKernelIsTheCutoffPropagator) {
  CosNetSpec c{.input_dim = 2, .width = 20, .mass = 1.0, .cutoff = 5.0};
  const ExperimentSpec spec = SpecWith(c, 2, {2, 4});
  const TheoryValues v = Compute(spec);
  EXPECT_TRUE(v.has_exact);
  const double r = (spec.points.row(0) - spec.points.row(2)).norm();
  EXPECT_TRUE(IsClose(v.kernel(0, 2),
                      theory::CutoffPropagator(2, 1, 1.0, 5.0, r), 1e-14));
  for (double e : v.exact_connected) EXPECT_TRUE(std::isfinite(e));
}

TEST(ComputeTheoryTest, RejectsMismatchedPoints) {
  MlpSpec mlp{.input_dim = 2,
              .widths = {8},
              .activation = Activation::kErf,
              .sw = {1.0, 1.0},
              .sb = {0.0, 0.0}};
  EXPECT_EQ(NngpKernel(mlp, Eigen::MatrixXd::Zero(3, 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  mlp.first_bias = BiasLaw::kUniformPhase;  // needs cos
  EXPECT_EQ(NngpKernel(mlp, Eigen::MatrixXd::Zero(3, 2)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ExperimentSpec spec = SpecWith(
      MlpSpec{
          .input_dim = 2, .widths = {8}, .sw = {1.0, 1.0}, .sb = {0.0, 0.0}},
      2, {2});
  absl::StatusOr<TupleSet> other =
      TupleSet::Build(5, spec.observables, 1 << 20);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(ComputeTheory(spec, *other).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nnft
