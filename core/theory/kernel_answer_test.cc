// ComputeKernel's analytic extras (kernel_answer.h) against the trained
// ensemble and against independent code: the NTK equals the ensemble mean of
// the empirical NTK; the theory-only training prediction equals a wide
// ensemble trained by gradient descent and by gradient flow, at the spec's
// points and at cross points, within 3 standard errors at several times; the
// cross-kernels are blocks of the kernels over the union of the points; bad
// requests are refused naming the field.
#include "core/theory/kernel_answer.h"

#include <cmath>
#include <string>

#include "Eigen/Eigenvalues"
#include "core/theory/kernels.h"
#include "core/theory/test_util.h"
#include "core/theory/theory.h"
#include "core/train/train_test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

using ::nnft::testing_util::RunTrainingFlow;

// z-score with an absolute floor of 1e-6 on the error: at a training point
// late in training the spread is the convergence residual, not Monte Carlo.
double Z(double value, double err, double exact) {
  return (value - exact) / std::hypot(err, 1e-6);
}

Eigen::MatrixXd Points(std::initializer_list<double> values, int d) {
  Eigen::MatrixXd x(static_cast<Eigen::Index>(values.size()) / d, d);
  auto it = values.begin();
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (int j = 0; j < d; ++j) x(i, j) = *it++;
  }
  return x;
}

// The empirical NTK of `mlp` at `points`, averaged over an ensemble at
// initialisation (training.empirical_ntk, no step taken).
ExperimentSpec EmpiricalNtkSpec(const MlpSpec& mlp,
                                const Eigen::MatrixXd& points,
                                int64_t networks) {
  ExperimentSpec spec;
  spec.architecture = mlp;
  spec.points = points;
  TrainingSpec t;
  t.x = points.topRows(1);
  t.y = Eigen::VectorXd::Zero(1);
  t.times = {0.0};
  t.empirical_ntk = true;
  spec.training = t;
  spec.sampling.seed = 5;
  spec.sampling.chunk_size = networks / 16;
  spec.sampling.num_networks = networks;
  return spec;
}

void ExpectNtkIsEnsembleMean(const MlpSpec& mlp, int64_t networks) {
  const Eigen::MatrixXd x =
      Points({0.3, -0.8, 1.1, 0.4, -0.6, -0.2}, mlp.input_dim);
  ExperimentSpec spec;
  spec.architecture = mlp;
  spec.points = x;
  const auto answer = ComputeKernelAnswer(spec, Eigen::MatrixXd(), {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_TRUE(answer->ntk_absent_reason.empty()) << answer->ntk_absent_reason;
  const TrainingFlow flow =
      RunTrainingFlow(EmpiricalNtkSpec(mlp, x, networks), 2);
  ASSERT_EQ(flow.ntk_mean.rows(), x.rows());
  for (int p = 0; p < x.rows(); ++p) {
    for (int q = p; q < x.rows(); ++q) {
      const double z =
          Z(flow.ntk_mean(p, q), flow.ntk_stderr(p, q), answer->ntk(p, q));
      std::cout << ActivationName(mlp.activation) << " Theta(" << p << ", " << q
                << "): ensemble " << flow.ntk_mean(p, q) << " +- "
                << flow.ntk_stderr(p, q) << ", analytic " << answer->ntk(p, q)
                << ", z = " << z << "\n";
      EXPECT_LT(std::abs(z), 3);
      EXPECT_GT(flow.ntk_std(p, q), 0);  // a real ensemble, not one network
    }
  }
}

TEST(KernelAnswerTest, NtkOfTwoLayerTanhIsEnsembleMeanOfEmpiricalNtk) {
  ExpectNtkIsEnsembleMean(MlpSpec{.input_dim = 2,
                                  .widths = {512, 512},
                                  .activation = Activation::kTanh,
                                  .sw = {1.5, 1.2, 1.0},
                                  .sb = {0.3, 0.2, 0.1}},
                          512);
}

TEST(KernelAnswerTest, NtkOfOneLayerReluIsEnsembleMeanOfEmpiricalNtk) {
  ExpectNtkIsEnsembleMean(MlpSpec{.input_dim = 2,
                                  .widths = {512},
                                  .activation = Activation::kRelu,
                                  .sw = {1.4, 1.0},
                                  .sb = {0.5, 0.2}},
                          1024);
}

// n = 4 training points in d = 2; the prediction is asked at two spec points
// (one a training point) and two cross points.
ExperimentSpec WideSpec(TrainingMethod method, std::vector<double> times,
                        const Eigen::MatrixXd& points) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 2,
                              .widths = {2048},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.3, 0.1}};
  TrainingSpec t;
  t.x = Points({-1.0, 0.5, 0.2, -0.3, 0.9, 0.8, -0.4, -1.1}, 2);
  t.y.resize(4);
  t.y << 0.6, -0.4, 0.9, 0.1;
  t.eta = 0.5;
  t.times = std::move(times);
  t.method = method;
  spec.training = t;
  spec.points = points;
  spec.sampling.seed = 17;
  spec.sampling.chunk_size = 32;
  spec.sampling.num_networks = 512;
  return spec;
}

void ExpectPredictionMatchesEnsemble(TrainingMethod method) {
  const Eigen::MatrixXd x = Points({0.2, -0.3, 0.5, 0.5}, 2);
  const Eigen::MatrixXd y = Points({-0.7, 0.1, 1.3, -0.9}, 2);
  const std::vector<double> times = {0.0, 1.0, 4.0, 16.0};
  const auto answer =
      ComputeKernelAnswer(WideSpec(method, times, x), y, {.threads = 2});
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_TRUE(answer->prediction.has_value());
  const FlowTheory& pred = *answer->prediction;
  ASSERT_EQ(pred.mean.size(), times.size());
  // The ensemble records f_t at the union of the spec's and the cross points.
  Eigen::MatrixXd all(4, 2);
  all << x, y;
  const TrainingFlow flow = RunTrainingFlow(WideSpec(method, times, all), 2);
  ASSERT_EQ(flow.times.size(), times.size());
  for (size_t i = 0; i < times.size(); ++i) {
    const TrainingTimeEstimate& r = flow.times[i];
    for (int p = 0; p < 4; ++p) {
      const double zm = Z(r.mu(p), r.mu_stderr(p), pred.mean[i](p));
      EXPECT_LT(std::abs(zm), 3)
          << "t = " << r.t << " point " << p << ": mu " << r.mu(p) << " +- "
          << r.mu_stderr(p) << ", predicted " << pred.mean[i](p);
      for (int q = p; q < 4; ++q) {
        const double zs =
            Z(r.sigma(p, q), r.sigma_stderr(p, q), pred.cov[i](p, q));
        EXPECT_LT(std::abs(zs), 3)
            << "t = " << r.t << " (" << p << ", " << q << "): Sigma "
            << r.sigma(p, q) << " +- " << r.sigma_stderr(p, q) << ", predicted "
            << pred.cov[i](p, q);
      }
      std::cout << "t = " << r.t << " point " << p << ": z(mu) = " << zm
                << ", z(Sigma_pp) = "
                << Z(r.sigma(p, p), r.sigma_stderr(p, p), pred.cov[i](p, p))
                << "\n";
    }
    const double zl = Z(r.loss_mean, r.loss_stderr, pred.loss[i]);
    std::cout << "t = " << r.t << ": loss " << r.loss_mean << " +- "
              << r.loss_stderr << ", predicted " << pred.loss[i]
              << ", z = " << zl << "\n";
    EXPECT_LT(std::abs(zl), 3);
  }
  // Training did something: the loss fell and the variance at the training
  // point (spec point 0) collapsed.
  EXPECT_LT(pred.loss.back(), 0.1 * pred.loss.front());
  EXPECT_LT(pred.cov.back()(0, 0), 0.1 * pred.cov.front()(0, 0));
}

TEST(KernelAnswerTest, GradientDescentPredictionMatchesWideEnsemble) {
  ExpectPredictionMatchesEnsemble(TrainingMethod::kGradientDescent);
}

TEST(KernelAnswerTest, GradientFlowPredictionMatchesWideEnsemble) {
  ExpectPredictionMatchesEnsemble(TrainingMethod::kGradientFlow);
}

TEST(KernelAnswerTest, InitialLossIsHalfTargetNormPlusKernelTrace) {
  // At t = 0 the outputs are the prior: E[L_0] = (1/2)(|Y|^2 + tr K(X, X)).
  const ExperimentSpec spec = WideSpec(TrainingMethod::kGradientDescent,
                                       {0.0, 1.0}, Points({0.0, 0.0}, 2));
  const auto answer = ComputeKernelAnswer(spec, Eigen::MatrixXd(), {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  const Eigen::MatrixXd k =
      NngpKernel(spec.architecture, spec.training->x).value();
  EXPECT_TRUE(IsClose(answer->prediction->loss[0],
                      0.5 * (spec.training->y.squaredNorm() + k.trace()),
                      1e-12));
  EXPECT_LT(answer->prediction->loss[1], answer->prediction->loss[0]);
}

TEST(KernelAnswerTest, DescentAboveTwoOverLambdaMaxIsFlaggedAsDiverging) {
  ExperimentSpec spec = WideSpec(TrainingMethod::kGradientDescent, {0.0, 1.0},
                                 Points({0.0, 0.0}, 2));
  const auto stable = ComputeKernelAnswer(spec, Eigen::MatrixXd(), {});
  ASSERT_TRUE(stable.ok()) << stable.status();
  const MlpSpec& mlp = std::get<MlpSpec>(spec.architecture);
  const double lambda_max = MlpNtk(mlp, spec.training->x)
                                .ntk.selfadjointView<Eigen::Lower>()
                                .eigenvalues()
                                .maxCoeff();
  EXPECT_TRUE(
      IsClose(stable->prediction->max_stable_eta, 2 / lambda_max, 1e-12));
  EXPECT_EQ(stable->prediction->method.find("diverges"), std::string::npos);
  ASSERT_GT(stable->prediction->max_stable_eta, spec.training->eta);
  spec.training->eta = 1.5 * stable->prediction->max_stable_eta;
  spec.training->times = {0.0, 3 * spec.training->eta};
  const auto unstable = ComputeKernelAnswer(spec, Eigen::MatrixXd(), {});
  ASSERT_TRUE(unstable.ok()) << unstable.status();
  EXPECT_NE(unstable->prediction->method.find("diverges"), std::string::npos)
      << unstable->prediction->method;
}

TEST(KernelAnswerTest, CrossKernelsAreBlocksOfTheUnionKernels) {
  const MlpSpec mlp{.input_dim = 2,
                    .widths = {64, 64},
                    .activation = Activation::kTanh,
                    .sw = {1.3, 1.1, 0.9},
                    .sb = {0.2, 0.3, 0.1}};
  ExperimentSpec spec;
  spec.architecture = mlp;
  spec.points = Points({0.3, -0.8, 1.1, 0.4, -0.6, -0.2}, 2);
  const Eigen::MatrixXd y = Points({0.0, 1.0, -1.5, 0.5}, 2);
  const auto answer = ComputeKernelAnswer(spec, y, {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  Eigen::MatrixXd all(5, 2);
  all << spec.points, y;
  // K over the union by the NNGP code of core/theory (its own quadrature).
  const Eigen::MatrixXd k = MlpKernel(mlp, all);
  const NtkKernels union_kernels = MlpNtk(mlp, all);
  ASSERT_EQ(answer->cross_kernel.rows(), 3);
  ASSERT_EQ(answer->cross_kernel.cols(), 2);
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 2; ++q) {
      EXPECT_TRUE(IsClose(answer->cross_kernel(p, q), k(p, 3 + q), 1e-12));
      EXPECT_TRUE(
          IsClose(answer->cross_ntk(p, q), union_kernels.ntk(p, 3 + q), 1e-13));
    }
    for (int r = 0; r < 3; ++r) {
      EXPECT_TRUE(IsClose(answer->ntk(p, r), union_kernels.ntk(p, r), 1e-13));
    }
  }
}

TEST(KernelAnswerTest, ArchitectureWithoutNtkSaysWhyAndKeepsCrossKernel) {
  ExperimentSpec spec;
  // The cos MLP with a uniform phase (the Gauss-net and cos-net have an NTK
  // since gauss_cos_ntk.h).
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {100},
                              .activation = Activation::kCos,
                              .sw = {1.2, 1.0},
                              .sb = {0.0, 0.5},
                              .first_bias = BiasLaw::kUniformPhase};
  spec.points = Points({0.0, 1.0}, 1);
  const Eigen::MatrixXd y = Points({2.5}, 1);
  const auto answer = ComputeKernelAnswer(spec, y, {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->ntk.size(), 0);
  EXPECT_EQ(answer->cross_ntk.size(), 0);
  EXPECT_NE(answer->ntk_absent_reason.find("architecture.mlp.first_bias"),
            std::string::npos)
      << answer->ntk_absent_reason;
  // G2 = sb1^2 + sw1^2 (1/2) exp(-sw0^2 |x - y|^2 / (2d)).
  for (int p = 0; p < 2; ++p) {
    const double r = spec.points(p, 0) - 2.5;
    EXPECT_TRUE(IsClose(answer->cross_kernel(p, 0),
                        0.25 + 0.5 * std::exp(-1.44 * r * r / 2), 1e-14));
  }
  // A deformed MLP (non-Gaussian weights) has no NTK here either, and says
  // which field.
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {8, 8},
                              .activation = Activation::kErf,
                              .sw = {1, 1, 1},
                              .sb = {0, 0, 0},
                              .deformation = Deformation{.lambda = 0.5}};
  const auto deformed = ComputeKernelAnswer(spec, y, {});
  ASSERT_TRUE(deformed.ok()) << deformed.status();
  EXPECT_NE(deformed->ntk_absent_reason.find("architecture.mlp.deformation"),
            std::string::npos)
      << deformed->ntk_absent_reason;
}

TEST(KernelAnswerTest, BadCrossPointsAndTooManyPointsAreRefusedByName) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 2,
                              .widths = {16},
                              .activation = Activation::kTanh,
                              .sw = {1, 1},
                              .sb = {0, 0}};
  spec.points = Points({0.0, 1.0}, 2);
  auto status = ComputeKernelAnswer(spec, Points({1, 2, 3}, 3), {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("cross_points[0].x"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("input_dim = 2"), std::string::npos);

  Eigen::MatrixXd nan = Points({0, 0, 1, 1}, 2);
  nan(1, 1) = std::nan("");
  status = ComputeKernelAnswer(spec, nan, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("cross_points[1].x[1]"), std::string::npos)
      << status.message();

  const Eigen::MatrixXd many = Eigen::MatrixXd::Zero(kMaxKernelAnswerPoints, 2);
  status = ComputeKernelAnswer(spec, many, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("cross_points"), std::string::npos);
  EXPECT_NE(
      status.message().find("1 + 1024 = 1025 points: must be at most 1024"),
      std::string::npos)
      << status.message();

  // tanh has no closed form: 1000 points over 2 layers is over the budget.
  std::get<MlpSpec>(spec.architecture).widths = {16, 16};
  std::get<MlpSpec>(spec.architecture).sw = {1, 1, 1};
  std::get<MlpSpec>(spec.architecture).sb = {0, 0, 0};
  status =
      ComputeKernelAnswer(spec, Eigen::MatrixXd::Zero(998, 2), {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("at most 524288"), std::string::npos)
      << status.message();
}

TEST(KernelAnswerTest, NtkOverTheBudgetWithoutCrossPointsIsLeftOutWithReason) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 1,
                              .widths = {16, 16, 16},
                              .activation = Activation::kTanh,
                              .sw = {1, 1, 1, 1},
                              .sb = {0, 0, 0, 0}};
  spec.points = Eigen::VectorXd::LinSpaced(600, -1, 1);  // 3 x 180300 pairs
  spec.observables.orders = {2};
  const auto answer = ComputeKernelAnswer(
      spec, Eigen::MatrixXd(), {.omit_ntk = "too large for this test"});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->ntk_absent_reason, "too large for this test");
  EXPECT_EQ(answer->ntk.size(), 0);
  // Without the caller's reason the budget rules the NTK out, before any
  // pair expectation is computed.
  const auto budget = ComputeKernelAnswer(spec, Eigen::MatrixXd(), {});
  ASSERT_TRUE(budget.ok()) << budget.status();
  EXPECT_EQ(budget->ntk.size(), 0);
  EXPECT_NE(budget->ntk_absent_reason.find("at most 524288"), std::string::npos)
      << budget->ntk_absent_reason;
}

TEST(KernelAnswerTest, TrainingSpecOfAResidualNetIsRefused) {
  ExperimentSpec spec =
      WideSpec(TrainingMethod::kGradientFlow, {0.0}, Points({0.0, 0.0}, 2));
  auto& mlp = std::get<MlpSpec>(spec.architecture);
  mlp.widths = {32, 32};
  mlp.sw = {1, 1, 1};
  mlp.sb = {0, 0, 0};
  mlp.residual = true;
  const absl::Status status = Validate(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("architecture.mlp.residual"),
            std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace nnft::theory
