// Monte Carlo of deep MLPs against the leading-order 1/n theory
// (core/theory/deep_finite_width.h) through ComputeTheory: at 4 distinct
// inputs, the MC N G4_c approaches the vertex sum_3 V as N grows and G2
// approaches K + dK. The output layer is integrated exactly (variance
// reduction) so G4_c is resolved at every width. Seeds are fixed; every
// check is a z-test with the stated number of standard errors.
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
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

ExperimentSpec DeepSpec(const MlpSpec& mlp, uint64_t seed, int chunks,
                        int chunk_size, std::vector<int> orders = {2, 4}) {
  ExperimentSpec spec;
  spec.architecture = mlp;
  spec.points.resize(4, 2);
  spec.points << 0.3, -0.5, 1.0, 0.2, -0.7, 0.9, 0.1, 1.2;
  spec.observables.orders = std::move(orders);
  spec.sampling.seed = seed;
  spec.sampling.chunk_size = chunk_size;
  spec.sampling.num_networks = int64_t{chunks} * chunk_size;
  spec.sampling.integrate_output_layer = true;
  return spec;
}

TEST(DeepMcTheoryTest, TanhThreeLayersConnectedFourPointApproachesVertex) {
  auto arch = [](int n) {
    return MlpSpec{.input_dim = 2,
                   .widths = {n, n, n},
                   .activation = Activation::kTanh,
                   .sw = {1.5, 1.6, 1.6, 1.0},
                   .sb = {0.3, 0.2, 0.2, 0.1}};
  };
  const std::string name = "tanh, 3 hidden layers";
  ExpectConvergesToVertex(name,
                          VertexSweep(
                              name,
                              [&](int n, uint64_t seed) {
                                return DeepSpec(arch(n), seed, 40, 1000);
                              },
                              {16, 32, 64, 128}, {0, 1, 2, 3}, 900),
                          /*dk_resolved=*/true);
}

TEST(DeepMcTheoryTest, ReluTwoLayersConnectedFourPointApproachesVertex) {
  auto arch = [](int n) {
    return MlpSpec{.input_dim = 2,
                   .widths = {n, n},
                   .activation = Activation::kRelu,
                   .sw = {1.4, 1.4, 1.0},
                   .sb = {0.2, 0.1, 0.0}};
  };
  const std::string name = "relu, 2 hidden layers";
  ExpectConvergesToVertex(name,
                          VertexSweep(
                              name,
                              [&](int n, uint64_t seed) {
                                return DeepSpec(arch(n), seed, 40, 1000);
                              },
                              {16, 32, 64, 128}, {0, 1, 2, 3}, 950),
                          /*dk_resolved=*/true);
}

TEST(DeepMcTheoryTest, ErfGeluSoftplusTwoLayersMatchAtWidth128) {
  // The other activation families (closed-form erf pair moments; gelu and
  // softplus by quadrature), with and without biases, unequal widths, one
  // width each: every G4_c entry against the vertex and every G2 against
  // K + dK. G4_c is resolved to ~100 standard errors here, so its O(1/N^2)
  // part is nearly resolved too (at a quarter of these widths it is 5-17% of
  // G4_c for gelu and softplus, |z| up to 6.6): the G4_c check allows a
  // next-order relative term of up to kNextOrder / N (a wrong vertex would
  // be off by O(1)).
  constexpr double kNextOrder = 4.0;
  struct Case {
    std::string name;
    MlpSpec mlp;
  };
  const std::vector<Case> cases = {
      {"erf, biases", MlpSpec{.input_dim = 2,
                              .widths = {128, 96},
                              .activation = Activation::kErf,
                              .sw = {1.5, 1.8, 1.0},
                              .sb = {0.3, 0.2, 0.1}}},
      {"gelu, no biases", MlpSpec{.input_dim = 2,
                                  .widths = {128, 128},
                                  .activation = Activation::kGelu,
                                  .sw = {1.5, 1.6, 1.0},
                                  .sb = {0.0, 0.0, 0.0}}},
      {"softplus, biases", MlpSpec{.input_dim = 2,
                                   .widths = {96, 128},
                                   .activation = Activation::kSoftplus,
                                   .sw = {1.4, 1.2, 1.0},
                                   .sb = {0.2, 0.3, 0.0}}},
  };
  uint64_t seed = 1200;
  for (const Case& c : cases) {
    const McRun run = RunMc(DeepSpec(c.mlp, ++seed, 20, 1000));
    ASSERT_TRUE(run.theory.leading_order_in_inverse_width) << c.name;
    const auto& est = run.estimate;
    std::vector<double> m4, s4, t4, m2, s2, t2;
    double resolved = 0.0;  // largest |G4_c| / se
    // Largest |z| after allowing a next-order relative term kNextOrder / N.
    const double n_min =
        *std::min_element(c.mlp.widths.begin(), c.mlp.widths.end());
    double z_next = 0.0;
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      if (est.tuples[i].size() == 4) {
        m4.push_back(est.connected[i]);
        s4.push_back(est.stderr_connected[i]);
        t4.push_back(run.theory.exact_connected[i]);
        resolved = std::max(resolved, std::abs(m4.back()) / s4.back());
        z_next = std::max(z_next, (std::abs(m4.back() - t4.back()) -
                                   kNextOrder / n_min * std::abs(t4.back())) /
                                      s4.back());
      } else {
        m2.push_back(est.mean[i]);
        s2.push_back(est.stderr_mean[i]);
        t2.push_back(run.theory.exact_full[i]);
      }
    }
    const Comparison c4 = Compare(m4, s4, t4), c2 = Compare(m2, s2, t2);
    std::printf(
        "%s: max|z| G4_c %.2f (%.2f beyond %g/N), G2 %.2f; max |G4_c|/se "
        "%.1f\n",
        c.name.c_str(), c4.max_abs_z, z_next, kNextOrder, c2.max_abs_z,
        resolved);
    EXPECT_EQ(c4.dof, 35) << c.name;
    EXPECT_LT(z_next, kVertexMaxZ) << c.name;
    EXPECT_LT(c2.max_abs_z, kVertexMaxZ) << c.name;
    EXPECT_GT(resolved, 10.0) << c.name << ": G4_c unresolved";
  }
}

TEST(DeepMcTheoryTest, ReluSixPointResidualIsOrderOneOverWidthSquared) {
  // G6 = Wick(K + dK) + sum_15 G4_c G2 + G6_c: the theory gives G6 to O(1/N)
  // and drops G6_c = O(1/N^2), so N^2 (G6_MC - G6_theory) must tend to a
  // constant. At (1,1,1,1,1,1) it is resolved at N = 32; an error in the
  // O(1/N) terms would make it grow like N (4x from N = 32 to 128).
  auto arch = [](int n) {
    return MlpSpec{.input_dim = 2,
                   .widths = {n, n},
                   .activation = Activation::kRelu,
                   .sw = {1.4, 1.4, 1.0},
                   .sb = {0.2, 0.1, 0.0}};
  };
  double scaled[2], scaled_se[2];
  int k = 0;
  for (int width : {32, 128}) {
    const McRun run =
        RunMc(DeepSpec(arch(width), 980 + width, 40, 1000, {2, 4, 6}));
    const auto& est = run.estimate;
    bool found = false;
    for (size_t i = 0; i < est.tuples.size(); ++i) {
      if (est.tuples[i] != Tuple{1, 1, 1, 1, 1, 1}) continue;
      found = true;
      ASSERT_TRUE(std::isfinite(run.theory.exact_full[i]));
      EXPECT_TRUE(std::isnan(run.theory.exact_connected[i]));  // O(1/N^2)
      const double n2 = static_cast<double>(width) * width;
      scaled[k] = n2 * (est.mean[i] - run.theory.exact_full[i]);
      scaled_se[k] = n2 * est.stderr_mean[i];
      std::printf("N=%d: N^2 (G6_MC - G6_theory) at (111111) = %.1f +- %.1f\n",
                  width, scaled[k], scaled_se[k]);
    }
    ASSERT_TRUE(found);
    ++k;
  }
  EXPECT_GT(std::abs(scaled[0]), 5 * scaled_se[0]) << "unresolved at N=32";
  EXPECT_LT(std::abs(scaled[1] - scaled[0]),
            3 * std::hypot(scaled_se[0], scaled_se[1]));
}

}  // namespace
}  // namespace nnft
