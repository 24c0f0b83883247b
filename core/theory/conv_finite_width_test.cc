// Deterministic checks of the conv1d leading-order theory
// (conv_finite_width.h): with one position and kernel size 1 the conv net is
// the MLP of the same widths, and the recursion must give the MLP's
// (deep_finite_width.h); one conv layer is the single-layer MLP on the
// output patch. The first layer's four-point moments
// come from different rules (the conv theory uses the nested Gauss-Hermite
// rule at every layer, the MLP's its moment table at layer 1, equal to ~1e-5
// relative), and the cumulant M4 - C C amplifies that difference: hence the
// tolerances; a wrong recursion is off by O(1).
#include "core/theory/conv_finite_width.h"

#include <cmath>
#include <vector>

#include "core/theory/arch_kernels.h"
#include "core/theory/deep_finite_width.h"
#include "core/theory/test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

void ExpectSameAsMlp(const Conv1dSpec& conv) {
  const int n = conv.channels;
  const MlpSpec mlp{.input_dim = conv.in_channels,
                    .widths = std::vector<int>(conv.layers, n),
                    .activation = conv.activation,
                    .sw = conv.sw,
                    .sb = conv.sb};
  Eigen::MatrixXd x(4, conv.in_channels);
  x << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2;
  const std::vector<std::array<int, 4>> fours = {
      {0, 1, 2, 3}, {0, 0, 1, 1}, {1, 1, 1, 1}, {0, 1, 1, 3}};
  const std::vector<std::pair<int, int>> pairs = {{0, 1}, {2, 3}, {1, 1}};
  const ConvFiniteWidth c(conv, x, fours, pairs);
  const DeepFiniteWidth m(mlp, x, fours, pairs);
  for (const auto& t : fours) {
    EXPECT_TRUE(IsClose(c.Connected4(t), m.Connected4(t), 1e-4, 1e-9))
        << t[0] << t[1] << t[2] << t[3];
    EXPECT_TRUE(IsClose(c.Vertex(t[0], t[1], t[2], t[3]),
                        m.Vertex(t[0], t[1], t[2], t[3]), 1e-4, 1e-8));
  }
  for (const auto& [a, b] : pairs) {
    EXPECT_TRUE(IsClose(c.kernel()(a, b), m.kernel()(a, b), 1e-12));
    // dK ~ 1e-3 here: within 1e-5 absolute (the kernel is O(1)).
    EXPECT_TRUE(IsClose(c.kernel_correction()(a, b),
                        m.kernel_correction()(a, b), 1e-2, 1e-5));
  }
}

TEST(ConvFiniteWidthTest, KernelSizeOneIsTheMlp) {
  for (Activation act : {Activation::kTanh, Activation::kRelu}) {
    ExpectSameAsMlp(Conv1dSpec{.sequence_length = 1,
                               .in_channels = 2,
                               .kernel_size = 1,
                               .channels = 32,
                               .layers = 3,
                               .activation = act,
                               .padding = Padding::kCircular,
                               .output_position = 0,
                               .sw = {1.5, 1.6, 1.6, 1.0},
                               .sb = {0.3, 0.2, 0.2, 0.1}});
  }
}

TEST(ConvFiniteWidthTest, OneLayerIsTheSingleLayerMlpOnThePatches) {
  // One conv layer is exactly the one-hidden-layer MLP on the output patch
  // (arch_kernels.h PatchMlp): G2 = K, G4_c = (sw^4/N)(3 M4 - sum C C).
  const Conv1dSpec conv{.sequence_length = 5,
                        .in_channels = 1,
                        .kernel_size = 3,
                        .channels = 16,
                        .layers = 1,
                        .activation = Activation::kErf,
                        .padding = Padding::kZero,
                        .output_position = 0,
                        .sw = {1.4, 1.1},
                        .sb = {0.2, 0.3}};
  Eigen::MatrixXd x(4, 5);
  x << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2, 1.1, 0.4, -0.6, -0.2, 0.0, 0.8,
      0.5, -1.0, 0.6, 0.3, -0.4, 0.7;
  const std::vector<std::array<int, 4>> fours = {{0, 1, 2, 3}, {0, 0, 1, 1}};
  const std::vector<std::pair<int, int>> pairs = {{0, 1}, {2, 3}};
  const ConvFiniteWidth c(conv, x, fours, pairs);
  const DeepFiniteWidth m(PatchMlp(conv), ConvPatches(conv, x), fours, pairs);
  for (const auto& t : fours) {
    EXPECT_TRUE(IsClose(c.Connected4(t), m.Connected4(t), 1e-4, 1e-9));
  }
  for (const auto& [a, b] : pairs) {
    EXPECT_TRUE(IsClose(c.kernel()(a, b), m.kernel()(a, b), 1e-12));
    EXPECT_EQ(c.kernel_correction()(a, b), 0.0);
  }
}

}  // namespace
}  // namespace nnft::theory
