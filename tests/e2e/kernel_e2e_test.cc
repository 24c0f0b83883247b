// End-to-end: ComputeKernel's NTK, cross-kernels and theory-only training
// prediction through the real nnft-server, against a wide ensemble trained
// by the same server, against the server's own answer for the union of the
// point sets, and on bad input; the `nnft kernel` CLI prints the NTK.
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

namespace v1 = ::nnft::v1;

v1::ExperimentSpec FromJson(const std::string& json) {
  v1::ExperimentSpec spec;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &spec).ok())
      << json;
  return spec;
}

// An erf net of width 2048 on 4 training points in d = 2, gradient descent
// with eta = 0.5, recorded at t = 0, 1, 2, 4; 512 networks.
v1::ExperimentSpec WideTrainingSpec() {
  return FromJson(R"({
    "architecture": {"mlp": {"inputDim": 2, "widths": [2048],
      "activation": "ACTIVATION_ERF", "sw": [1.5, 1.0], "sb": [0.3, 0.1]}},
    "training": {"data": {"x": [{"x": [-1.0, 0.5]}, {"x": [0.2, -0.3]},
                                {"x": [0.9, 0.8]}, {"x": [-0.4, -1.1]}],
                          "y": [0.6, -0.4, 0.9, 0.1]},
                 "eta": 0.5, "times": [0, 1, 2, 4]},
    "sampling": {"seed": "23", "numNetworks": "512", "chunkSize": 32}})");
}

void AddPoint(v1::ExperimentSpec* spec, double a, double b) {
  v1::Point* p = spec->add_points();
  p->add_x(a);
  p->add_x(b);
}

void AddCross(v1::ComputeKernelRequest* request, double a, double b) {
  v1::Point* p = request->add_cross_points();
  p->add_x(a);
  p->add_x(b);
}

// z-score with an absolute floor of 1e-6 on the error (a training point
// late in training: the spread is the convergence residual).
double Z(double value, double err, double exact) {
  return (value - exact) / std::hypot(err, 1e-6);
}

class KernelE2eTest : public ServerTest {};

TEST_F(KernelE2eTest, PredictionMatchesWideEnsembleTrainedByTheServer) {
  // The ensemble records f_t at x_0, x_1 (x_0 a training point) and at
  // y_0, y_1; ComputeKernel gets x as the spec's points and y as cross
  // points.
  v1::ExperimentSpec job_spec = WideTrainingSpec();
  AddPoint(&job_spec, 0.2, -0.3);
  AddPoint(&job_spec, 0.5, 0.5);
  AddPoint(&job_spec, -0.7, 0.1);
  AddPoint(&job_spec, 1.3, -0.9);
  absl::StatusOr<v1::Job> job = client_->Submit(job_spec);
  ASSERT_TRUE(job.ok()) << job.status();

  v1::ComputeKernelRequest request;
  *request.mutable_spec() = WideTrainingSpec();
  AddPoint(request.mutable_spec(), 0.2, -0.3);
  AddPoint(request.mutable_spec(), 0.5, 0.5);
  AddCross(&request, -0.7, 0.1);
  AddCross(&request, 1.3, -0.9);
  absl::StatusOr<v1::ComputeKernelResponse> kernel = client_->Kernel(request);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  ASSERT_TRUE(kernel->has_prediction());
  const v1::TrainingPrediction& pred = kernel->prediction();
  ASSERT_EQ(pred.num_points(), 4);
  ASSERT_EQ(pred.times_size(), 4);
  ASSERT_EQ(pred.mean_size(), 16);
  ASSERT_EQ(pred.covariance_size(), 64);
  ASSERT_EQ(pred.loss_size(), 4);
  EXPECT_EQ(kernel->ntk_size(), 4);
  EXPECT_EQ(kernel->cross_ntk_size(), 4);

  ASSERT_TRUE(
      client_->WaitForCompletion(job->name(), absl::Now() + absl::Seconds(240))
          .ok());
  absl::StatusOr<client::JobResult> result = client_->FetchResult(job->name());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->training.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const v1::TrainingTime& r = result->training[i];
    ASSERT_EQ(r.num_points(), 4);
    EXPECT_EQ(r.t(), pred.times(i));
    for (int a = 0; a < 4; ++a) {
      const double zm = Z(r.mu(a), r.mu_stderr(a), pred.mean(i * 4 + a));
      EXPECT_LT(std::abs(zm), 3)
          << "t = " << r.t() << " point " << a << ": mu " << r.mu(a) << " +- "
          << r.mu_stderr(a) << ", predicted " << pred.mean(i * 4 + a);
      // The job's own theory column is the same prediction.
      EXPECT_NEAR(r.mu_theory(a), pred.mean(i * 4 + a), 1e-9);
      for (int b = a; b < 4; ++b) {
        const double cov = pred.covariance((i * 4 + a) * 4 + b);
        EXPECT_LT(
            std::abs(Z(r.sigma(a * 4 + b), r.sigma_stderr(a * 4 + b), cov)), 3)
            << "t = " << r.t() << " (" << a << ", " << b << "): Sigma "
            << r.sigma(a * 4 + b) << " +- " << r.sigma_stderr(a * 4 + b)
            << ", predicted " << cov;
      }
    }
    EXPECT_LT(std::abs(Z(r.loss_mean(), r.loss_stderr(), pred.loss(i))), 3)
        << "t = " << r.t() << ": loss " << r.loss_mean() << " +- "
        << r.loss_stderr() << ", predicted " << pred.loss(i);
  }
}

TEST_F(KernelE2eTest, CrossKernelsAreBlocksOfTheUnionAnswer) {
  const std::string arch = R"({"architecture": {"mlp": {"inputDim": 2,
      "widths": [64, 64], "activation": "ACTIVATION_TANH",
      "sw": [1.3, 1.1, 0.9], "sb": [0.2, 0.3, 0.1]}},
      "observables": {"orders": [2]},
      "sampling": {"seed": "1", "numNetworks": "100", "chunkSize": 50}})";
  v1::ComputeKernelRequest request;
  *request.mutable_spec() = FromJson(arch);
  AddPoint(request.mutable_spec(), 0.3, -0.8);
  AddPoint(request.mutable_spec(), 1.1, 0.4);
  AddPoint(request.mutable_spec(), -0.6, -0.2);
  AddCross(&request, 0.0, 1.0);
  AddCross(&request, -1.5, 0.5);
  absl::StatusOr<v1::ComputeKernelResponse> cross = client_->Kernel(request);
  ASSERT_TRUE(cross.ok()) << cross.status();

  v1::ExperimentSpec all = request.spec();
  AddPoint(&all, 0.0, 1.0);
  AddPoint(&all, -1.5, 0.5);
  absl::StatusOr<v1::ComputeKernelResponse> whole = client_->Kernel(all);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(cross->num_cross_points(), 2);
  ASSERT_EQ(cross->cross_kernel_size(), 6);
  ASSERT_EQ(cross->cross_ntk_size(), 6);
  ASSERT_EQ(whole->ntk_size(), 25);
  const auto close = [](double a, double b) {
    return std::abs(a - b) <= 1e-12 * std::abs(b);
  };
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 2; ++q) {
      EXPECT_TRUE(
          close(cross->cross_kernel(p * 2 + q), whole->kernel(p * 5 + 3 + q)))
          << p << ", " << q;
      EXPECT_TRUE(close(cross->cross_ntk(p * 2 + q), whole->ntk(p * 5 + 3 + q)))
          << p << ", " << q;
    }
    for (int r = 0; r < 3; ++r) {
      EXPECT_TRUE(close(cross->ntk(p * 3 + r), whole->ntk(p * 5 + r)));
      EXPECT_TRUE(close(cross->kernel(p * 3 + r), whole->kernel(p * 5 + r)));
    }
  }
  // The CLI prints the NTK beside the kernel.
  const std::string path = tmp_.path() + "/tanh.json";
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(all, &json).ok());
  WriteFile(path, json);
  const CliRun cli = RunCli({Server(), "kernel", path});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("# NTK, 5 x 5"), std::string::npos) << cli.out;
}

TEST_F(KernelE2eTest, BadCrossPointsAndTooManyPointsAreRefusedNamingTheField) {
  v1::ComputeKernelRequest request;
  *request.mutable_spec() = WideTrainingSpec();
  AddPoint(request.mutable_spec(), 0.2, -0.3);
  AddCross(&request, 0.0, 1.0);
  request.add_cross_points()->add_x(0.5);  // d = 1, the net's is 2
  absl::StatusOr<v1::ComputeKernelResponse> kernel = client_->Kernel(request);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(kernel.status().message().find("cross_points[1].x"),
            std::string::npos)
      << kernel.status();

  request.clear_cross_points();
  for (int i = 0; i < 1100; ++i) AddCross(&request, 0.001 * i, 0.0);
  kernel = client_->Kernel(request);
  EXPECT_EQ(kernel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(kernel.status().message().find(
                "4 + 1 + 1100 = 1105 points: must be at most 1024"),
            std::string::npos)
      << kernel.status();

  // The Gauss-net has an NTK (core/theory/gauss_cos_ntk.h): with sw0 = sw1
  // = 1, sb0 = sb1 = 0 and d = 1, Theta(x, y) = exp(-(x - y)^2 / 2) (1 +
  // x y), here at x = 0, 1 and the cross point y = 2.
  v1::ComputeKernelRequest gauss;
  *gauss.mutable_spec() = FromJson(R"({
      "architecture": {"gaussNet": {"inputDim": 1, "width": 10}},
      "points": [{"x": [0.0]}, {"x": [1.0]}],
      "sampling": {"seed": "1", "numNetworks": "100", "chunkSize": 50}})");
  gauss.add_cross_points()->add_x(2.0);
  kernel = client_->Kernel(gauss);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->ntk_absent_reason(), "");
  auto theta = [](double x, double y) {
    return std::exp(-0.5 * (x - y) * (x - y)) * (1 + x * y);
  };
  ASSERT_EQ(kernel->ntk_size(), 4);
  ASSERT_EQ(kernel->cross_ntk_size(), 2);
  for (int p = 0; p < 2; ++p) {
    for (int q = 0; q < 2; ++q) {
      EXPECT_NEAR(kernel->ntk(p * 2 + q), theta(p, q), 1e-14);
    }
    EXPECT_NEAR(kernel->cross_ntk(p), theta(p, 2.0), 1e-14);
  }
  EXPECT_EQ(kernel->cross_kernel_size(), 2);

  // An architecture without an NTK answers the kernel and says why: the cos
  // MLP with a uniform phase, G2 = (1/2) exp(-(x - y)^2 / 2).
  v1::ComputeKernelRequest phase;
  *phase.mutable_spec() = FromJson(R"({
      "architecture": {"mlp": {"inputDim": 1, "widths": [10],
        "activation": "ACTIVATION_COS", "sw": [1.0, 1.0], "sb": [0.0, 0.0],
        "firstBias": "BIAS_LAW_UNIFORM_PHASE"}},
      "points": [{"x": [0.0]}, {"x": [1.0]}],
      "sampling": {"seed": "1", "numNetworks": "100", "chunkSize": 50}})");
  phase.add_cross_points()->add_x(2.0);
  kernel = client_->Kernel(phase);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ(kernel->ntk_size(), 0);
  EXPECT_NE(kernel->ntk_absent_reason().find("architecture.mlp.first_bias"),
            std::string::npos)
      << kernel->ntk_absent_reason();
  ASSERT_EQ(kernel->cross_kernel_size(), 2);
  for (int p = 0; p < 2; ++p) {
    EXPECT_NEAR(kernel->cross_kernel(p),
                0.5 * std::exp(-0.5 * (2.0 - p) * (2.0 - p)), 1e-14);
  }
  EXPECT_FALSE(kernel->has_prediction());
}

}  // namespace
}  // namespace nnft::e2e
