// The training-loss histogram (core/train/train.h, core/train/train_result.h):
// the counts add up to the networks, bracket the reported mean loss, do not
// depend on the chunk split or thread count, follow the exact law of the loss
// at initialisation (a wide net's f is Gaussian with the NNGP variance, so L =
// (f - y)^2 / 2 has an exact CDF), and sit near 0 once a wide net has fitted
// its data; the quantiles interpolate log-linearly inside a bin.
#include <cmath>
#include <map>
#include <numeric>

#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/theory/ntk.h"
#include "core/train/train.h"
#include "core/train/train_result.h"
#include "core/train/train_test_util.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

// n training points in d = 2 (the first n of four), one test point; an erf
// net of the given width trained by gradient descent (eta = 0.5).
ExperimentSpec Spec(int width, int64_t networks, int chunks, int n,
                    std::vector<double> times) {
  ExperimentSpec spec;
  spec.architecture = MlpSpec{.input_dim = 2,
                              .widths = {width},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.0},
                              .sb = {0.3, 0.1}};
  TrainingSpec t;
  Eigen::MatrixXd x(4, 2);
  x << -1.0, 0.5, 0.2, -0.3, 0.9, 0.8, -0.4, -1.1;
  Eigen::VectorXd y(4);
  y << 0.6, -0.4, 0.9, 0.1;
  t.x = x.topRows(n);
  t.y = y.head(n);
  t.eta = 0.5;
  t.times = std::move(times);
  t.loss_histogram = LossHistogramSpec{.bins = 72, .min = 1e-16, .max = 1e2};
  spec.training = t;
  spec.points = x.topRows(1);  // the first training point
  spec.sampling.seed = 17;
  spec.sampling.num_networks = networks;
  spec.sampling.chunk_size = static_cast<int>(networks / chunks);
  return spec;
}

using testing_util::RunTrainingFlow;

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

TEST(LossHistogramTest, CountsAddUpAndBracketTheMeanLoss) {
  const int64_t networks = 512;
  const TrainingFlow flow =
      RunTrainingFlow(Spec(64, networks, 8, 4, {0, 2, 20}), 2);
  ASSERT_EQ(flow.times.size(), 3u);
  const std::vector<double>& e = flow.loss_histogram_edges;
  ASSERT_EQ(e.size(), 73u);
  EXPECT_DOUBLE_EQ(e.front(), 1e-16);
  EXPECT_EQ(e.back(), 1e2);
  for (const TrainingTimeEstimate& r : flow.times) {
    ASSERT_EQ(r.loss_histogram.size(), 74u);
    EXPECT_EQ(std::accumulate(r.loss_histogram.begin(), r.loss_histogram.end(),
                              int64_t{0}),
              networks)
        << "t = " << r.t;
    EXPECT_EQ(r.loss_histogram.back(), 0) << "overflow at t = " << r.t;
    // Every loss in bin k lies in [e_k, e_k+1): the histogram brackets the
    // mean (underflow losses in [0, e_0)).
    double low = 0, high = r.loss_histogram[0] * e[0];
    for (size_t k = 0; k + 1 < e.size(); ++k) {
      low += r.loss_histogram[k + 1] * e[k];
      high += r.loss_histogram[k + 1] * e[k + 1];
    }
    const double sum = r.loss_mean * networks;
    EXPECT_LE(low, sum * (1 + 1e-12)) << "t = " << r.t;
    EXPECT_GE(high, sum * (1 - 1e-12)) << "t = " << r.t;
    ASSERT_EQ(r.loss_quantiles.size(), 5u);
    for (size_t i = 1; i < 5; ++i) {
      EXPECT_LE(r.loss_quantiles[i - 1], r.loss_quantiles[i]);
    }
  }
}

TEST(LossHistogramTest, CountsDoNotDependOnChunksOrThreads) {
  const TrainingFlow a = RunTrainingFlow(Spec(16, 256, 16, 4, {0, 1}), 1);
  const TrainingFlow b = RunTrainingFlow(Spec(16, 256, 4, 4, {0, 1}), 2);
  ASSERT_EQ(a.times.size(), b.times.size());
  for (size_t i = 0; i < a.times.size(); ++i) {
    EXPECT_EQ(a.times[i].loss_histogram, b.times[i].loss_histogram);
    EXPECT_EQ(a.times[i].loss_quantiles, b.times[i].loss_quantiles);
  }
}

// One training point x_1, y_1 = 0.6: at t = 0, f(x_1) ~ N(0, K(x_1, x_1)) up
// to O(1/width), so P(L < c) = Phi((y + s) / sd) - Phi((y - s) / sd) with
// s = sqrt(2 c). Each cumulative fraction is within 5 binomial errors.
TEST(LossHistogramTest, InitialLossFollowsTheGaussianLaw) {
  const int64_t networks = 4000;
  const TrainingFlow flow = RunTrainingFlow(Spec(1024, networks, 8, 1, {0}), 2);
  const TrainingTimeEstimate& r = flow.times[0];
  ASSERT_EQ(r.mu_theory(0), 0.0);
  const double sd = std::sqrt(r.sigma_theory(0, 0)), y = 0.6;
  ASSERT_GT(sd, 0.1);
  const std::vector<double>& e = flow.loss_histogram_edges;
  int64_t below = r.loss_histogram[0];
  int checked = 0;
  for (size_t k = 1; k < e.size(); ++k) {
    below += r.loss_histogram[k];  // networks with L < e_k
    const double s = std::sqrt(2 * e[k]);
    const double exact = Phi((y + s) / sd) - Phi((y - s) / sd);
    if (exact < 0.01 || exact > 0.99) continue;
    const double err = std::sqrt(exact * (1 - exact) / networks);
    const double measured = static_cast<double>(below) / networks;
    EXPECT_LT(std::abs(measured - exact), 5 * err)
        << "P(L < " << e[k] << ") = " << measured << " exact " << exact;
    ++checked;
  }
  EXPECT_GT(checked, 5);
}

// A wide net fits its 4 points: late in training at least 95 % of the losses
// are below 1e-6 (the NTK flow's residual decays as exp(-lambda_min t)).
TEST(LossHistogramTest, WideNetLossIsNearZeroLateInTraining) {
  const int64_t networks = 256;
  const TrainingFlow flow =
      RunTrainingFlow(Spec(256, networks, 4, 4, {0, 200}), 2);
  EXPECT_GT(flow.times[0].loss_quantiles[2], 1e-2);
  const std::vector<double>& e = flow.loss_histogram_edges;
  const std::vector<int64_t>& late = flow.times[1].loss_histogram;
  int64_t small = late[0];  // networks with L < 1e-6
  for (size_t k = 0; k + 1 < e.size() && e[k + 1] <= 1e-6; ++k) {
    small += late[k + 1];
  }
  EXPECT_GE(small, networks * 95 / 100);
  EXPECT_LT(flow.times[1].loss_mean, 1e-6);
}

TEST(LossHistogramTest, QuantilesInterpolateLogLinearly) {
  const std::vector<double> edges = {1, 10, 100};
  const std::vector<int64_t> slots = {0, 2, 2, 0};
  EXPECT_DOUBLE_EQ(LossHistogramQuantile(slots, edges, 0.5), 10);
  EXPECT_DOUBLE_EQ(LossHistogramQuantile(slots, edges, 0.25), std::sqrt(10));
  EXPECT_DOUBLE_EQ(LossHistogramQuantile(slots, edges, 1.0), 100);
  EXPECT_TRUE(std::isnan(LossHistogramQuantile({1, 1, 1, 1}, edges, 0.1)));
  EXPECT_TRUE(std::isnan(LossHistogramQuantile({1, 1, 1, 1}, edges, 0.9)));
  EXPECT_TRUE(std::isnan(LossHistogramQuantile({0, 0, 0, 0}, edges, 0.5)));
  EXPECT_EQ(LossHistogramSlot(edges, 0.5), 0);
  EXPECT_EQ(LossHistogramSlot(edges, 1), 1);
  EXPECT_EQ(LossHistogramSlot(edges, 99), 2);
  EXPECT_EQ(LossHistogramSlot(edges, 100), 3);
  EXPECT_EQ(LossHistogramSlot(edges, std::nan("")), 3);
}

TEST(LossHistogramTest, ValidationNamesTheFieldAndRange) {
  const auto message = [](LossHistogramSpec h) {
    ExperimentSpec spec = Spec(8, 32, 2, 4, {0});
    spec.training->loss_histogram = h;
    const absl::Status s = Validate(spec);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_NE(message({.bins = 0}).find("training.loss_histogram.bins"),
            std::string::npos);
  EXPECT_NE(message({.bins = 257}).find("[1, 256]"), std::string::npos);
  EXPECT_NE(message({.min = 0}).find("training.loss_histogram.min"),
            std::string::npos);
  EXPECT_NE(message({.min = 1, .max = 1}).find("training.loss_histogram.max"),
            std::string::npos);
  EXPECT_TRUE(Validate(Spec(8, 32, 2, 4, {0})).ok());
}

}  // namespace
}  // namespace nnft
