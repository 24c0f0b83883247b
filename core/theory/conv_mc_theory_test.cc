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
  ExpectConvergesToVertex(name,
                          VertexSweep(
                              name,
                              [&](int n, uint64_t seed) {
                                return ConvExperiment(arch(n), seed, 30, 1000);
                              },
                              {16, 32, 64}, {0, 0, 1, 1}, 300),
                          /*dk_resolved=*/false);
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
  ExpectConvergesToVertex(name,
                          VertexSweep(
                              name,
                              [&](int n, uint64_t seed) {
                                return ConvExperiment(arch(n), seed, 30, 1000);
                              },
                              {16, 32, 64}, {0, 1, 2, 3}, 400),
                          /*dk_resolved=*/false);
}

}  // namespace
}  // namespace nnft
