// Ensemble training against the infinite-width theory (core/train/train.h,
// core/theory/ntk.h): wide erf nets trained by gradient descent follow the
// NTK prediction of Lee et al. (arXiv 1902.06720) within 3 standard errors;
// the ensemble mean of the empirical NTK at initialisation is the analytic
// NTK; the finite-width deviation of the trained mean shrinks with width;
// chunks are bit-identical for any thread count.
#include "core/train/train.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/train/train_result.h"
#include "core/train/train_test_util.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

// n = 4 training points in d = 2, two test points (one unseen).
ExperimentSpec WideErfSpec(int width, int64_t networks) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 2,
                              .widths = {width},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.3, 0.1}};
  TrainingSpec t;
  t.x.resize(4, 2);
  t.x << -1.0, 0.5, 0.2, -0.3, 0.9, 0.8, -0.4, -1.1;
  t.y.resize(4);
  t.y << 0.6, -0.4, 0.9, 0.1;
  t.eta = 0.5;
  t.times = {0.0, 2.0, 200.0};  // init, mid-flow, late (converged)
  spec.training = t;
  spec.points.resize(2, 2);
  spec.points << 0.2, -0.3, 0.5, 0.5;
  spec.sampling.seed = 11;
  spec.sampling.chunk_size = networks / 16;
  spec.sampling.num_networks = networks;
  return spec;
}

using testing_util::RunTrainingFlow;

// z-score with an absolute floor of 1e-6 on the error: at a training point
// late in training both the spread and the deviation from the target are
// set by the remaining convergence residual (~1e-10), not by Monte Carlo.
double Z(double value, double err, double exact) {
  return (value - exact) / std::hypot(err, 1e-6);
}

TEST(EnsembleTrainingTest, WideErfNetFollowsNtkTheoryAtThreeTimes) {
  const TrainingFlow flow = RunTrainingFlow(WideErfSpec(1024, 1024), 2);
  ASSERT_EQ(flow.times.size(), 3u);
  for (const TrainingTimeEstimate& r : flow.times) {
    for (int p = 0; p < 2; ++p) {
      EXPECT_LT(std::abs(Z(r.mu(p), r.mu_stderr(p), r.mu_theory(p))), 3)
          << "t = " << r.t << " p = " << p << " mu " << r.mu(p) << " +- "
          << r.mu_stderr(p) << " theory " << r.mu_theory(p);
      EXPECT_LT(std::abs(Z(r.sigma(p, p), r.sigma_stderr(p, p),
                           r.sigma_theory(p, p))),
                3)
          << "t = " << r.t << " p = " << p << " Sigma " << r.sigma(p, p)
          << " +- " << r.sigma_stderr(p, p) << " theory "
          << r.sigma_theory(p, p);
    }
    EXPECT_LT(
        std::abs(Z(r.sigma(0, 1), r.sigma_stderr(0, 1), r.sigma_theory(0, 1))),
        3);
  }
  // Training did something: the loss fell by orders of magnitude and the
  // variance at the training point collapsed.
  EXPECT_LT(flow.times[2].loss_mean, 1e-3 * flow.times[0].loss_mean);
  EXPECT_LT(flow.times[2].sigma(0, 0), 1e-2 * flow.times[0].sigma(0, 0));
}

TEST(EnsembleTrainingTest, EmpiricalNtkAverageIsAnalyticNtk) {
  ExperimentSpec spec = WideErfSpec(256, 800);
  spec.training->times = {0.0};
  spec.training->empirical_ntk = true;
  const TrainingFlow flow = RunTrainingFlow(spec, 2);
  ASSERT_EQ(flow.ntk_mean.rows(), 2);
  for (int p = 0; p < 2; ++p) {
    for (int q = p; q < 2; ++q) {
      EXPECT_LT(std::abs(Z(flow.ntk_mean(p, q), flow.ntk_stderr(p, q),
                           flow.ntk_theory(p, q))),
                3)
          << flow.ntk_mean(p, q) << " +- " << flow.ntk_stderr(p, q) << " vs "
          << flow.ntk_theory(p, q);
      EXPECT_GT(flow.ntk_std(p, q), 0);  // O(1/sqrt(N)) spread
    }
  }
}

TEST(EnsembleTrainingTest, FiniteWidthDeviationOfMeanShrinksWithWidth) {
  // At the unseen point and late time; narrow nets deviate at O(1/N).
  const auto deviation = [](int width) {
    const TrainingFlow flow = RunTrainingFlow(WideErfSpec(width, 3200), 2);
    const TrainingTimeEstimate& r = flow.times[2];
    return std::pair(r.mu(1) - r.mu_theory(1), r.mu_stderr(1));
  };
  const auto [d_narrow, e_narrow] = deviation(4);
  const auto [d_wide, e_wide] = deviation(64);
  EXPECT_GT(std::abs(d_narrow), 3 * e_narrow) << d_narrow << " +- " << e_narrow;
  EXPECT_GT(std::abs(d_narrow) - std::abs(d_wide),
            3 * std::hypot(e_narrow, e_wide))
      << d_narrow << " +- " << e_narrow << " vs " << d_wide << " +- " << e_wide;
}

TEST(EnsembleTrainingTest, LateTimeDeviationOfMeanScalesAsInverseWidth) {
  // The trained mean at the unseen point differs from the infinite-width
  // flow by finite-width physics, E[f_t] - mu_t = C(t) / N + O(1/N^2) (the
  // NTK moves and fluctuates at O(1/sqrt(N)); Dyer & Gur-Ari arXiv
  // 1909.11304), not by a convention mismatch (a wrong time unit or
  // parameterisation would leave a deviation that does not fall with N).
  // From widths 32 and 128 the exponent p of |d| ~ N^-p is more than 3
  // standard errors above 1/2 (the network-to-network spread falls as
  // N^-1/2) and not above 1 by more than 3; the O(1/N^2) term, of the
  // opposite sign here, makes the two-width exponent approach 1 from below
  // (0.84 +- 0.06 with this seed; 1.04 +- 0.24 from widths 64 and 128).
  const auto deviation = [](int width, int64_t networks) {
    const TrainingFlow flow = RunTrainingFlow(WideErfSpec(width, networks), 2);
    const TrainingTimeEstimate& r = flow.times[2];  // t = 200, converged
    return std::pair(r.mu(1) - r.mu_theory(1), r.mu_stderr(1));
  };
  const auto [d_narrow, e_narrow] = deviation(32, 3200);
  const auto [d_wide, e_wide] = deviation(128, 6400);
  const double p = std::log(d_narrow / d_wide) / std::log(4.0);
  const double p_err =
      std::hypot(e_narrow / d_narrow, e_wide / d_wide) / std::log(4.0);
  RecordProperty("deviation_32", absl::StrCat(d_narrow, " +- ", e_narrow));
  RecordProperty("deviation_128", absl::StrCat(d_wide, " +- ", e_wide));
  RecordProperty("exponent", absl::StrCat(p, " +- ", p_err));
  EXPECT_GT(d_wide, 3 * e_wide) << d_wide << " +- " << e_wide;
  EXPECT_LT(p - 1, 3 * p_err) << p << " +- " << p_err;
  EXPECT_GT(p - 0.5, 3 * p_err) << p << " +- " << p_err;
}

TEST(EnsembleTrainingTest, LastLayerTrainingReachesNngpPosterior) {
  ExperimentSpec spec = WideErfSpec(1024, 1024);
  spec.training->last_layer_only = true;
  spec.training->times = {400.0};
  const TrainingTimeEstimate r = RunTrainingFlow(spec, 2).times[0];
  // The unseen point: mean and variance of the posterior flow.
  EXPECT_LT(std::abs(Z(r.mu(1), r.mu_stderr(1), r.mu_theory(1))), 3)
      << r.mu(1) << " +- " << r.mu_stderr(1) << " vs " << r.mu_theory(1);
  EXPECT_LT(
      std::abs(Z(r.sigma(1, 1), r.sigma_stderr(1, 1), r.sigma_theory(1, 1))),
      3);
  // The training point (y = -0.4) is nearly interpolated; what is left of
  // the residual (~3e-5 here) carries O(1/sqrt(N)) finite-width corrections
  // far above its Monte-Carlo error, so only its size is checked.
  EXPECT_NEAR(r.mu(0), -0.4, 1e-4);
  EXPECT_NEAR(r.mu_theory(0), -0.4, 1e-4);
  EXPECT_LT(r.sigma(0, 0), 1e-6);
}

TEST(EnsembleTrainingTest, GradientFlowMatchesSmallStepDescent) {
  ExperimentSpec flow_spec = WideErfSpec(64, 32);
  flow_spec.training->method = TrainingMethod::kGradientFlow;
  flow_spec.training->tolerance = 1e-8;
  flow_spec.training->times = {1.0};
  ExperimentSpec gd_spec = flow_spec;
  gd_spec.training->method = TrainingMethod::kGradientDescent;
  gd_spec.training->eta = 1e-3;
  const TrainingLayout layout = MakeTrainingLayout(flow_spec);
  std::vector<double> a(layout.size()), b(layout.size());
  MakeNetworkTrainer(flow_spec)->Train(5, a.data());
  MakeNetworkTrainer(gd_spec)->Train(5, b.data());
  for (int p = 0; p < 2; ++p) {
    // GD is O(eta) off the flow.
    EXPECT_NEAR(a[layout.Value(0, p)], b[layout.Value(0, p)], 5e-3);
  }
}

TEST(EnsembleTrainingTest, ChunksAreBitIdenticalForAnyThreadCount) {
  ExperimentSpec spec = WideErfSpec(32, 64);
  spec.training->empirical_ntk = true;
  auto engine = Engine::Create(spec);
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::map<int64_t, std::vector<double>> two;
  ASSERT_TRUE((*engine)
                  ->RunChunks(0, 16, 2,
                              [&](ChunkSums c) {
                                two[c.chunk] = c.sums;
                                return true;
                              })
                  .ok());
  for (int64_t k : {0, 7, 15}) {
    const ChunkSums one = (*engine)->RunChunk(k);
    ASSERT_EQ(one.sums.size(), two[k].size());
    for (size_t i = 0; i < one.sums.size(); ++i) {
      ASSERT_EQ(one.sums[i], two[k][i]) << "chunk " << k << " entry " << i;
    }
  }
}

TEST(EnsembleTrainingTest, InitialFunctionHasTheMlpLaw) {
  // At t = 0 the ensemble covariance is the NNGP kernel (the trained
  // parameterisation draws the plain MLP's law).
  const TrainingTimeEstimate r =
      RunTrainingFlow(WideErfSpec(16, 3200), 2).times[0];
  for (int p = 0; p < 2; ++p) {
    EXPECT_LT(
        std::abs(Z(r.sigma(p, p), r.sigma_stderr(p, p), r.sigma_theory(p, p))),
        3);
  }
}

TEST(TrainingValidationTest, RejectsBadFieldsNamingThem) {
  ExperimentSpec spec = WideErfSpec(8, 32);
  spec.training->times = {0.0, 0.75};  // not a multiple of eta = 0.5
  absl::Status s = Validate(spec);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("training.times[1]"), std::string::npos) << s;
  spec = WideErfSpec(8, 32);
  spec.training->eta = -1;
  EXPECT_NE(Validate(spec).message().find("training.eta"), std::string::npos);
  spec = WideErfSpec(8, 32);
  spec.training->y.resize(3);
  EXPECT_NE(Validate(spec).message().find("training.data.y"),
            std::string::npos);
  spec = WideErfSpec(8, 32);
  spec.architecture = GaussNetSpec{.input_dim = 2};
  EXPECT_NE(Validate(spec).message().find("mlp"), std::string::npos);
  EXPECT_TRUE(Validate(WideErfSpec(8, 32)).ok());
}

TEST(TalkDataTest, TargetIsTheSeedTalkFunction) {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  GenerateTalkData(50, 3, &x, &y);
  ASSERT_EQ(x.rows(), 50);
  ASSERT_EQ(x.cols(), 4);
  for (int i = 0; i < 50; ++i) {
    EXPECT_LE(x.row(i).cwiseAbs().maxCoeff(), 1.0);
    const double a = x(i, 0) * x(i, 0) + x(i, 1) * x(i, 1);
    const double b = x(i, 2) * x(i, 2) + x(i, 3) * x(i, 3);
    EXPECT_DOUBLE_EQ(y(i), std::exp(std::sin(a) + std::sin(b)));
  }
  Eigen::MatrixXd x2;
  Eigen::VectorXd y2;
  GenerateTalkData(50, 3, &x2, &y2);
  EXPECT_EQ(x, x2);
}

}  // namespace
}  // namespace nnft
