// Monte Carlo of multi-layer conv1d nets against the leading-order
// 1/channels theory (core/theory/conv_finite_width.h) through ComputeTheory:
// at 4 distinct sequences, every MC G4_c entry lies within errors of the
// vertex at the largest channel count N, N G4_c at a tracked tuple fits
// V + c/N with the intercept at the vertex sum_3 V, and G2
// approaches K + dK. The output layer is integrated exactly (variance
// reduction). Seeds fixed; every check is a z-test with the stated number of
// standard errors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/mc_test_util.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/conv_finite_width.h"
#include "core/theory/deep_finite_width.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

// As deep_mc_theory_test.cc: the largest |z| over ~45 correlated entries of
// one run, and the fitted intercept within kMaxInterceptZ of the vertex.
constexpr double kMaxZ = 4.5;
constexpr double kMaxInterceptZ = 3.0;

ExperimentSpec ConvExperiment(const Conv1dSpec& conv, uint64_t seed, int chunks,
                              int chunk_size) {
  ExperimentSpec spec;
  spec.architecture = conv;
  spec.points.resize(4, conv.InputDim());
  // Four distinct sequences of length 4 (one channel).
  spec.points << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2, 1.1, 0.4, -0.6, -0.2,
      0.0, 0.8, 0.5, -1.0;
  spec.observables.orders = {2, 4};
  spec.sampling.seed = seed;
  spec.sampling.chunk_size = chunk_size;
  spec.sampling.num_networks = int64_t{chunks} * chunk_size;
  spec.sampling.integrate_output_layer = true;
  return spec;
}

struct Row {
  int width = 0;
  double mc = 0.0, se = 0.0, theory = 0.0;  // N G4_c at the tracked tuple
  double max_abs_z4 = 0.0, max_abs_z2 = 0.0, max_abs_z2_gp = 0.0;
};

template <typename Arch>
std::vector<Row> Sweep(const std::string& name, Arch&& arch,
                       const std::vector<int>& widths, const Tuple& tracked,
                       uint64_t seed, int chunks, int chunk_size) {
  std::vector<Row> rows;
  std::printf("%s\n%6s %12s %10s %12s %7s %11s %10s %12s\n", name.c_str(), "N",
              "MC N G4_c", "+-", "theory", "z", "max|z| G4c", "max|z| G2",
              "(G2 vs K)");
  for (int width : widths) {
    const McRun run =
        RunMc(ConvExperiment(arch(width), ++seed, chunks, chunk_size));
    EXPECT_TRUE(run.theory.leading_order_in_inverse_width)
        << name << ": " << run.theory.method;
    const auto& est = run.estimate;
    std::vector<double> m4, s4, t4, m2, s2, t2, k2;
    Row row{.width = width};
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      const Tuple& t = est.tuples[i];
      if (t.size() == 4) {
        m4.push_back(est.connected[i]);
        s4.push_back(est.stderr_connected[i]);
        t4.push_back(run.theory.exact_connected[i]);
        if (t == tracked) {
          row.mc = width * est.connected[i];
          row.se = width * est.stderr_connected[i];
          row.theory = width * run.theory.exact_connected[i];
        }
      } else if (t.size() == 2) {
        m2.push_back(est.mean[i]);
        s2.push_back(est.stderr_mean[i]);
        t2.push_back(run.theory.exact_full[i]);
        k2.push_back(run.theory.gp_full[i]);
      }
    }
    const Comparison c4 = Compare(m4, s4, t4), c2 = Compare(m2, s2, t2);
    EXPECT_EQ(c4.dof, static_cast<int>(m4.size())) << name << " N=" << width;
    EXPECT_EQ(c2.dof, static_cast<int>(m2.size())) << name << " N=" << width;
    row.max_abs_z4 = c4.max_abs_z;
    row.max_abs_z2 = c2.max_abs_z;
    row.max_abs_z2_gp = Compare(m2, s2, k2).max_abs_z;
    std::printf("%6d %12.5f %10.5f %12.5f %7.2f %11.2f %10.2f %12.2f\n", width,
                row.mc, row.se, row.theory, (row.mc - row.theory) / row.se,
                row.max_abs_z4, row.max_abs_z2, row.max_abs_z2_gp);
    EXPECT_LT(row.max_abs_z2, kMaxZ) << name << " G2 at N=" << width;
    rows.push_back(row);
  }
  return rows;
}

void ExpectConvergesToVertex(const std::string& name,
                             const std::vector<Row>& rows) {
  const Row& widest = rows.back();
  EXPECT_LT(widest.max_abs_z4, kMaxZ) << name << ": G4_c at the largest width";
  EXPECT_GT(std::abs(widest.mc), 10 * widest.se) << name << ": unresolved";
  double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Row& r : rows) {
    const double w = 1.0 / (r.se * r.se), x = 1.0 / r.width;
    s += w, sx += w * x, sy += w * r.mc, sxx += w * x * x, sxy += w * x * r.mc;
    EXPECT_NEAR(r.theory, widest.theory, 1e-12 * std::abs(widest.theory));
  }
  const double det = s * sxx - sx * sx;
  const double intercept = (sxx * sy - sx * sxy) / det;
  const double intercept_se = std::sqrt(sxx / det);
  std::printf("fit N G4_c = A + c/N: A = %.5f +- %.5f, vertex %.5f (%.2f se)\n",
              intercept, intercept_se, widest.theory,
              (intercept - widest.theory) / intercept_se);
  EXPECT_LT(std::abs(intercept - widest.theory), kMaxInterceptZ * intercept_se)
      << name << ": intercept " << intercept << " +- " << intercept_se;
}

TEST(ConvMcTheoryTest, TanhThreeLayersCircularApproachesVertex) {
  auto arch = [](int n) {
    return Conv1dSpec{.sequence_length = 4,
                      .in_channels = 1,
                      .kernel_size = 3,
                      .channels = n,
                      .layers = 3,
                      .activation = Activation::kTanh,
                      .padding = Padding::kCircular,
                      .output_position = 1,
                      .sw = {1.6, 1.6, 1.6, 1.0},
                      .sb = {0.3, 0.2, 0.2, 0.1}};
  };
  const std::string name = "conv1d tanh, 3 layers, circular";
  ExpectConvergesToVertex(
      name, Sweep(name, arch, {16, 32, 64}, {0, 0, 1, 1}, 300, 30, 1000));
}

TEST(ConvMcTheoryTest, ReluTwoLayersZeroPaddingApproachesVertex) {
  auto arch = [](int n) {
    return Conv1dSpec{.sequence_length = 4,
                      .in_channels = 1,
                      .kernel_size = 3,
                      .channels = n,
                      .layers = 2,
                      .activation = Activation::kRelu,
                      .padding = Padding::kZero,
                      .output_position = 0,
                      .sw = {1.5, 1.6, 1.0},
                      .sb = {0.2, 0.1, 0.0}};
  };
  const std::string name = "conv1d relu, 2 layers, zero padding";
  ExpectConvergesToVertex(
      name, Sweep(name, arch, {16, 32, 64}, {0, 1, 2, 3}, 400, 30, 1000));
}

}  // namespace
}  // namespace nnft
