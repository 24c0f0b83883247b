// The Gauss-net and cos-net NTKs of gauss_cos_ntk.h against the ensemble mean
// of the empirical NTK of networks written here from core/spec/spec.h's
// definitions (parameters as the sampler scales them: unit normals, the
// cos-net's momenta b = L u with u uniform in the unit ball, phases c = pi v
// with v uniform on [-1, 1]) and differentiated by the tape of
// tape_test_util.h. Both means are exact at every width, so small widths and
// many networks are used. Seeded; every entry within kMaxZ standard errors,
// and the formula with one term dropped must be many standard errors away.
// Part of the arch_ntk_test binary.
#include "core/theory/gauss_cos_ntk.h"

#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "core/sampling/box.h"
#include "core/theory/cosnet_propagator.h"
#include "core/theory/kernel_answer.h"
#include "core/theory/ntk.h"
#include "core/theory/tape_test_util.h"
#include "core/theory/test_util.h"
#include "core/theory/theory.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

using testing::EnsembleNtk;
using testing::ExpectWithinErrors;
using testing::MaxAbsZ;
using testing::NtkEnsemble;
using testing::Rows;
using testing::Tape;

constexpr double kPi = std::numbers::pi;

// Empirical NTK of a Gauss-net over all its parameters, laid out as
// [w0 (N x d), beta0 (N), w1 (N), beta1], unit normals:
//   phi(x) = sb1 beta1 + sum_i (sw1/sqrt N) w1_i exp(z_i(x) - S(x, x)),
//   z_i = (sw0/sqrt d) w0_i.x' + sb0 beta0_i, x'_k = axes_k x_k.
Eigen::MatrixXd GaussNetEmpiricalNtk(const GaussNetSpec& g,
                                     const Eigen::MatrixXd& points,
                                     uint64_t seed) {
  const int d = g.input_dim, n = g.width;
  const int count = n * d + 2 * n + 1;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> params(count);
  for (double& v : params) v = normal(rng);
  const int w0 = 0, beta0 = n * d, w1 = n * d + n, beta1 = n * d + 2 * n;
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    std::vector<int> x(d);
    double norm2 = 0;
    for (int k = 0; k < d; ++k) {
      const double xk =
          points(p, k) * (g.field.sw0_axes.empty() ? 1.0 : g.field.sw0_axes[k]);
      x[k] = tape.Constant(xk);
      norm2 += xk * xk;
    }
    const double offset = g.sb0 * g.sb0 + g.sw0 * g.sw0 * norm2 / d;
    std::vector<std::pair<int, double>> readout = {{beta1, g.sb1}};
    std::vector<int> row(d);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < d; ++k) row[k] = w0 + i * d + k;
      const int z =
          tape.Linear({{tape.Dot(row, x), g.sw0 / std::sqrt(double(d))},
                       {beta0 + i, g.sb0}},
                      -offset);
      readout.push_back(
          {tape.Mul(w1 + i, tape.Exp(z)), g.sw1 / std::sqrt(double(n))});
    }
    grads.col(p) = tape.Gradient(tape.Linear(readout), count);
  }
  return testing::GramOfGradients(grads);
}

TEST(GaussCosNtkTest, GaussNetMatchesEnsembleMeanOfEmpiricalNtk) {
  const Eigen::MatrixXd x =
      Rows({{0.5, -0.3}, {-0.2, 0.6}, {0.7, 0.4}, {-0.6, -0.5}});
  const GaussNetSpec with_bias{.input_dim = 2,
                               .width = 16,
                               .sw0 = 1.1,
                               .sb0 = 0.5,
                               .sw1 = 0.9,
                               .sb1 = 0.3};
  const NtkKernels theory = GaussNetNtk(with_bias, x);
  const NtkEnsemble mc = EnsembleNtk(6000, [&](int m) {
    return GaussNetEmpiricalNtk(with_bias, x, 7000 + m);
  });
  ExpectWithinErrors(mc, theory.ntk, "gauss-net, d = 2, sb0 = 0.5");
  // The hidden parameters are resolved: K alone (the readout's tangent) is
  // far, and so is Theta without the first-layer bias's sw1^2 C sb0^2.
  const double readout_z = MaxAbsZ(mc, theory.nngp);
  Eigen::MatrixXd dropped_b0 = theory.ntk;
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index q = 0; q < x.rows(); ++q) {
      const double c = (theory.nngp(p, q) - with_bias.sb1 * with_bias.sb1) /
                       (with_bias.sw1 * with_bias.sw1);
      dropped_b0(p, q) -=
          with_bias.sw1 * with_bias.sw1 * c * with_bias.sb0 * with_bias.sb0;
    }
  }
  const double b0_z = MaxAbsZ(mc, dropped_b0);
  std::printf("  readout only: max |z| = %.1f; without b0: max |z| = %.1f\n",
              readout_z, b0_z);
  EXPECT_GT(readout_z, 10.0);
  EXPECT_GT(b0_z, 10.0);

  // No first-layer bias, d = 3, anisotropic first layer.
  const GaussNetSpec axes{.input_dim = 3,
                          .width = 16,
                          .sw0 = 0.9,
                          .sb0 = 0.0,
                          .sw1 = 1.2,
                          .sb1 = 0.0,
                          .field = {.sw0_axes = {1.3, 0.6, 1.0}}};
  const Eigen::MatrixXd y =
      Rows({{0.5, -0.4, 0.2}, {-0.3, 0.8, 0.5}, {0.9, 0.1, -0.6}});
  const NtkKernels theory3 = GaussNetNtk(axes, y);
  const NtkEnsemble mc3 = EnsembleNtk(
      6000, [&](int m) { return GaussNetEmpiricalNtk(axes, y, 9000 + m); });
  ExpectWithinErrors(mc3, theory3.ntk, "gauss-net, d = 3, sw0_axes, no bias");
  GaussNetSpec isotropic = axes;
  isotropic.field.sw0_axes.clear();
  const double isotropic_z = MaxAbsZ(mc3, GaussNetNtk(isotropic, y).ntk);
  std::printf("  ignoring sw0_axes: max |z| = %.1f\n", isotropic_z);
  EXPECT_GT(isotropic_z, 10.0);
}

// Empirical NTK of a cos-net over [alpha (N), u (N x d), v (N)]:
//   phi(x) = sum_i sqrt(a2) alpha_i cos(b_i.x + pi v_i) / sqrt(b_i^2 + m^2),
// b_i = L u_i, N a2 = 2 V_L. In a box the b_i are lattice momenta drawn
// uniformly (constants on the tape), N a2 = 2 M / L_box^d, and the leaves
// are [alpha, v].
Eigen::MatrixXd CosNetEmpiricalNtk(const CosNetSpec& c,
                                   const Eigen::MatrixXd& points,
                                   uint64_t seed) {
  const int d = c.input_dim, n = c.width;
  const bool box = c.box_side > 0;
  std::optional<BoxLattice> lattice;
  double a2 = 2 * MomentumBallVolume(d, c.cutoff) / n;
  if (box) {
    lattice = *MakeBoxLattice(d, c.box_side, c.cutoff);
    a2 = 2 * double(lattice->k.size()) / std::pow(c.box_side, d) / n;
  }
  const int count = box ? 2 * n : n * d + 2 * n;
  const int alpha = 0, u = n, v = box ? n : n + n * d;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> params(count);
  std::vector<std::vector<double>> momenta(n, std::vector<double>(d));
  for (int i = 0; i < n; ++i) {
    params[alpha + i] = normal(rng);
    params[v + i] = 2 * uniform(rng) - 1;
    if (box) {
      const auto& k = lattice->k[std::min<size_t>(
          lattice->k.size() - 1, size_t(uniform(rng) * lattice->k.size()))];
      for (int j = 0; j < d; ++j) momenta[i][j] = 2 * kPi * k[j] / c.box_side;
      continue;
    }
    double norm2 = 0;  // uniform in the unit ball: direction times U^(1/d)
    for (int j = 0; j < d; ++j) {
      params[u + i * d + j] = normal(rng);
      norm2 += params[u + i * d + j] * params[u + i * d + j];
    }
    const double radius = std::pow(uniform(rng), 1.0 / d) / std::sqrt(norm2);
    for (int j = 0; j < d; ++j) params[u + i * d + j] *= radius;
  }
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    std::vector<int> x(d), b(d);
    for (int j = 0; j < d; ++j) x[j] = tape.Constant(points(p, j));
    std::vector<std::pair<int, double>> readout;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < d; ++j) {
        b[j] = box ? tape.Constant(momenta[i][j])
                   : tape.Linear({{u + i * d + j, c.cutoff}});
      }
      const int s = tape.Linear({{tape.Dot(b, b), 1.0}}, c.mass * c.mass);
      const double root = std::sqrt(tape.value(s));
      const int rho = tape.Apply(s, root, 0.5 / root);
      const int arg = tape.Linear({{tape.Dot(b, x), 1.0}, {v + i, kPi}});
      const double phase = tape.value(arg);
      const int wave = tape.Apply(arg, std::cos(phase), -std::sin(phase));
      readout.push_back(
          {tape.Mul(alpha + i, tape.Div(wave, rho)), std::sqrt(a2)});
    }
    grads.col(p) = tape.Gradient(tape.Linear(readout), count);
  }
  return testing::GramOfGradients(grads);
}

// One term of the cos-net NTK at every pair: f(x_p, x_q).
template <typename F>
Eigen::MatrixXd PairTerm(const Eigen::MatrixXd& x, F&& f) {
  Eigen::MatrixXd out(x.rows(), x.rows());
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index q = 0; q < x.rows(); ++q) {
      out(p, q) = f(x.row(p).transpose(), x.row(q).transpose());
    }
  }
  return out;
}

TEST(GaussCosNtkTest, CosNetMatchesEnsembleMeanOfEmpiricalNtk) {
  for (int d : {2, 3}) {
    const CosNetSpec net{
        .input_dim = d, .width = 16, .mass = 1.0, .cutoff = 2.5};
    const Eigen::MatrixXd x =
        d == 2 ? Rows({{0.4, -0.3}, {-0.5, 0.6}, {0.9, 0.5}, {0.1, 0.2}})
               : Rows({{0.4, -0.3, 0.2}, {-0.5, 0.6, 0.1}, {0.9, 0.5, -0.4}});
    const NtkKernels theory = CosNetNtk(net, x, 2);
    const NtkEnsemble mc = EnsembleNtk(
        8000, [&](int m) { return CosNetEmpiricalNtk(net, x, 100 * d + m); });
    ExpectWithinErrors(
        mc, theory.ntk,
        d == 2 ? "cos-net, d = 2, L = 2.5" : "cos-net, d = 3, L = 2.5");
    // Each term is resolved: the formula without it is far.
    const double l2 = net.cutoff * net.cutoff, m = net.mass;
    auto radial = [&](auto integral) {
      return PairTerm(x,
                      [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
                        return integral((a - b).norm());
                      });
    };
    const Eigen::MatrixXd sine =
        l2 * radial([&](double r) {
          return CutoffSineMoment(d, 2, m, net.cutoff, r);
        });
    const Eigen::MatrixXd curvature =
        l2 * radial([&](double r) {
          return CutoffPropagator(d, 2, m, net.cutoff, r) -
                 m * m * CutoffPropagator(d, 3, m, net.cutoff, r);
        });
    const Eigen::MatrixXd dot =
        l2 *
        PairTerm(x, [&](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
          return a.dot(b) *
                 CutoffPropagator(d, 1, m, net.cutoff, (a - b).norm());
        });
    const Eigen::MatrixXd phase = kPi * kPi * theory.nngp;
    const double sine_z = MaxAbsZ(mc, theory.ntk - sine);
    const double curvature_z = MaxAbsZ(mc, theory.ntk - curvature);
    const double dot_z = MaxAbsZ(mc, theory.ntk - dot);
    const double phase_z = MaxAbsZ(mc, theory.ntk - phase);
    std::printf(
        "  without S_2: max |z| = %.1f; without I_2 - m^2 I_3: %.1f; "
        "without x.y I_1: %.1f; without the phases: %.1f\n",
        sine_z, curvature_z, dot_z, phase_z);
    EXPECT_GT(sine_z, 10.0);
    EXPECT_GT(curvature_z, 10.0);
    EXPECT_GT(dot_z, 10.0);
    EXPECT_GT(phase_z, 10.0);
  }
}

TEST(GaussCosNtkTest, BoxCosNetMatchesEnsembleOverWeightsAndPhases) {
  const CosNetSpec net{
      .input_dim = 2, .width = 16, .mass = 0.8, .cutoff = 4.0, .box_side = 5.0};
  const Eigen::MatrixXd x =
      Rows({{0.4, -0.3}, {-0.5, 0.6}, {2.9, 0.5}, {1.1, 4.2}});
  const NtkKernels theory = CosNetNtk(net, x);
  const NtkEnsemble mc = EnsembleNtk(
      8000, [&](int m) { return CosNetEmpiricalNtk(net, x, 500 + m); });
  ExpectWithinErrors(mc, theory.ntk, "box cos-net, d = 2, alpha and v");
  const double weights_z = MaxAbsZ(mc, theory.nngp);
  std::printf("  without the phases: max |z| = %.1f\n", weights_z);
  EXPECT_GT(weights_z, 10.0);
}

TEST(GaussCosNtkTest, ComputeKernelReturnsTheGaussAndCosNetNtk) {
  const Eigen::MatrixXd x = Rows({{0.3, -0.2}, {0.8, 0.5}, {-0.4, 0.7}});
  const Eigen::MatrixXd y = Rows({{0.1, 0.9}, {-0.6, -0.3}});
  Eigen::MatrixXd all(5, 2);
  all << x, y;
  const GaussNetSpec gauss{.input_dim = 2, .width = 8, .sb0 = 0.4, .sb1 = 0.2};
  const CosNetSpec cos{.input_dim = 2, .width = 8, .cutoff = 3.0};
  for (const Architecture& arch : {Architecture(gauss), Architecture(cos)}) {
    ExperimentSpec spec;
    spec.architecture = arch;
    spec.points = x;
    EXPECT_EQ(NtkAbsentReason(arch), "");
    const auto answer = ComputeKernelAnswer(spec, y, {.threads = 2});
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_TRUE(answer->ntk_absent_reason.empty()) << answer->ntk_absent_reason;
    const NtkKernels exact = std::holds_alternative<GaussNetSpec>(arch)
                                 ? GaussNetNtk(gauss, all)
                                 : CosNetNtk(cos, all);
    ASSERT_EQ(answer->ntk.rows(), 3);
    ASSERT_EQ(answer->cross_ntk.cols(), 2);
    for (int p = 0; p < 3; ++p) {
      for (int q = 0; q < 3; ++q) {
        EXPECT_TRUE(IsClose(answer->ntk(p, q), exact.ntk(p, q), 1e-14));
      }
      for (int q = 0; q < 2; ++q) {
        EXPECT_TRUE(
            IsClose(answer->cross_ntk(p, q), exact.ntk(p, 3 + q), 1e-14));
      }
    }
    // The NNGP beside the NTK is the architecture's own kernel.
    const auto kernel = NngpKernel(arch, all, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    ASSERT_EQ(answer->cross_kernel.size(), 6);
    for (int p = 0; p < 3; ++p) {
      for (int q = 0; q < 2; ++q) {
        EXPECT_TRUE(
            IsClose(answer->cross_kernel(p, q), (*kernel)(p, 3 + q), 1e-12));
      }
    }
  }
  // A cos-net NTK over the quadrature budget is left out, saying why.
  {
    ExperimentSpec big;
    big.architecture = CosNetSpec{.input_dim = 1};
    big.points = Eigen::VectorXd::LinSpaced(600, 0.0, 6.0);
    big.observables.orders = {2};  // the tuple limit
    ASSERT_GT(
        CosNetNtkPanels(std::get<CosNetSpec>(big.architecture), big.points),
        kMaxCosNetNtkPanels);
    const auto answer = ComputeKernelAnswer(big, Eigen::MatrixXd(), {});
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->ntk.size(), 0);
    EXPECT_NE(answer->ntk_absent_reason.find("radial quadrature panels"),
              std::string::npos)
        << answer->ntk_absent_reason;
  }
  // Several outputs or a mean shift: absent, naming the field.
  GaussNetSpec shifted = gauss;
  shifted.field.output_mean = {0.5};
  EXPECT_NE(NtkAbsentReason(shifted).find("architecture.gauss_net.output_mean"),
            std::string::npos);
  CosNetSpec two = cos;
  two.output_dim = 2;
  EXPECT_NE(NtkAbsentReason(two).find("architecture.cos_net.output_dim = 2"),
            std::string::npos);
}

}  // namespace
}  // namespace nnft::theory
