// The analytic NTKs of ComputeKernel beyond the plain MLP (residual MLP,
// input projection, conv1d, KAN, attention) against the ensemble mean of the
// empirical NTK Theta_emp(x, y) = sum_theta df(x)/dtheta df(y)/dtheta of
// networks sampled here from the spec's definitions (NTK parameterisation:
// every parameter a unit normal times its scale) and differentiated by the
// reverse-mode tape of tape_test_util.h. Seeded; every entry must lie within
// kMaxZ standard errors of the theory. Where the analytic mean is exact at
// every width (one hidden layer, KAN, attention) small widths are used; the
// deep nets have O(1/width) corrections, small beside the errors at the
// widths used (checked by the z-scores).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "core/sampling/arch_features.h"
#include "core/theory/arch_kernels.h"
#include "core/theory/attention_kernel.h"
#include "core/theory/attention_ntk.h"
#include "core/theory/kernel_answer.h"
#include "core/theory/ntk.h"
#include "core/theory/tape_test_util.h"
#include "core/theory/test_util.h"
#include "gtest/gtest.h"

namespace nnft::theory {
namespace {

using testing::EnsembleNtk;
using testing::ExpectWithinErrors;
using testing::MaxAbsZ;
using testing::NtkEnsemble;
using testing::Rows;
using testing::Tape;

std::vector<double> Normals(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> out(count);
  for (double& v : out) v = normal(rng);
  return out;
}

double Act(Activation a, double u) {
  switch (a) {
    case Activation::kErf:
      return std::erf(u);
    case Activation::kRelu:
      return u > 0 ? u : 0.0;
    case Activation::kTanh:
      return std::tanh(u);
    case Activation::kGelu:
      return 0.5 * u * std::erfc(-u / std::numbers::sqrt2);
    default:
      ADD_FAILURE() << "activation not in this test";
      return 0.0;
  }
}

double Slope(Activation a, double u) {
  switch (a) {
    case Activation::kErf:
      return 2.0 / std::sqrt(std::numbers::pi) * std::exp(-u * u);
    case Activation::kRelu:
      return u > 0 ? 1.0 : 0.0;
    case Activation::kTanh:
      return 1.0 - std::tanh(u) * std::tanh(u);
    case Activation::kGelu:
      return 0.5 * std::erfc(-u / std::numbers::sqrt2) +
             u * std::exp(-0.5 * u * u) / std::sqrt(2.0 * std::numbers::pi);
    default:
      return 0.0;
  }
}

int ActNode(Tape& tape, Activation a, int id) {
  const double u = tape.value(id);
  return tape.Apply(id, Act(a, u), Slope(a, u));
}

// Consumes leaves [next, next + count) of the parameter vector.
struct Leaves {
  int next = 0;
  int Take(int count) {
    const int first = next;
    next += count;
    return first;
  }
};

// z_i = sb b_i + (sw / sqrt(n_in)) sum_j W_ij in_j for i < n_out.
std::vector<int> Dense(Tape& tape, Leaves& leaves, const std::vector<int>& in,
                       int n_out, double sw, double sb) {
  const int n_in = static_cast<int>(in.size());
  const int w = leaves.Take(n_out * n_in), b = leaves.Take(n_out);
  std::vector<int> out(n_out), row(n_in);
  for (int i = 0; i < n_out; ++i) {
    for (int j = 0; j < n_in; ++j) row[j] = w + i * n_in + j;
    const int dot = tape.Dot(row, in);
    out[i] = tape.Linear({{dot, sw / std::sqrt(double(n_in))}, {b + i, sb}});
  }
  return out;
}

int DenseParams(int n_in, int n_out) { return n_out * (n_in + 1); }

// ---------------------------------------------------------------- MLP ----

// Empirical NTK of an MLP (residual layers, input projection) at `points`.
Eigen::MatrixXd MlpEmpiricalNtk(const MlpSpec& mlp,
                                const Eigen::MatrixXd& points, uint64_t seed) {
  const int d = mlp.input_dim, depth = static_cast<int>(mlp.widths.size());
  const int k = mlp.input_projection_dim;
  int count = k > 0 ? k * d : 0;
  int n_in = k > 0 ? k : d;
  for (int l = 0; l < depth; ++l) {
    count += DenseParams(n_in, mlp.widths[l]);
    n_in = mlp.widths[l];
  }
  count += DenseParams(n_in, 1);
  const std::vector<double> params = Normals(count, seed);
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    Leaves leaves;
    std::vector<int> h(d);
    for (int j = 0; j < d; ++j) h[j] = tape.Constant(points(p, j));
    if (k > 0) {  // W x, W ~ N(0, s^2 / d), no bias
      const int w = leaves.Take(k * d);
      std::vector<int> out(k), row(d);
      for (int i = 0; i < k; ++i) {
        for (int j = 0; j < d; ++j) row[j] = w + i * d + j;
        out[i] = tape.Linear(
            {{tape.Dot(row, h), mlp.input_projection_scale / std::sqrt(d)}});
      }
      h = out;
    }
    std::vector<int> z =
        Dense(tape, leaves, h, mlp.widths[0], mlp.sw[0], mlp.sb[0]);
    for (int l = 1; l <= depth; ++l) {
      std::vector<int> act(z.size());
      for (size_t i = 0; i < z.size(); ++i) {
        act[i] = ActNode(tape, mlp.activation, z[i]);
      }
      const int n_out = l < depth ? mlp.widths[l] : 1;
      std::vector<int> next =
          Dense(tape, leaves, act, n_out, mlp.sw[l], mlp.sb[l]);
      if (mlp.residual && l < depth) {
        for (size_t i = 0; i < next.size(); ++i) {
          next[i] = tape.Linear({{next[i], 1.0}, {z[i], 1.0}});
        }
      }
      z = next;
    }
    EXPECT_EQ(leaves.next, count);
    grads.col(p) = tape.Gradient(z[0], count);
  }
  return testing::GramOfGradients(grads);
}

TEST(ArchNtkTest, ResidualMlpMatchesEnsembleMeanOfEmpiricalNtk) {
  const MlpSpec mlp{.input_dim = 2,
                    .widths = {192, 192, 192},
                    .activation = Activation::kErf,
                    .sw = {1.2, 0.8, 0.7, 1.1},
                    .sb = {0.3, 0.2, 0.1, 0.4},
                    .residual = true};
  const Eigen::MatrixXd x = Rows({{0.5, -1.0}, {1.2, 0.3}, {-0.7, 0.9}});
  const NtkKernels theory = MlpNtk(mlp, x);
  const NtkEnsemble mc = EnsembleNtk(
      160, [&](int m) { return MlpEmpiricalNtk(mlp, x, 1000 + m); });
  ExpectWithinErrors(mc, theory.ntk, "residual mlp, 3 x 192 erf");
  // The ensemble resolves the residual terms: the plain recursion is far.
  MlpSpec plain = mlp;
  plain.residual = false;
  const double plain_z = MaxAbsZ(mc, MlpNtk(plain, x).ntk);
  std::printf("  against the non-residual recursion: max |z| = %.1f\n",
              plain_z);
  EXPECT_GT(plain_z, 10.0);
}

TEST(ArchNtkTest, InputProjectionMlpMatchesEnsembleMeanOfEmpiricalNtk) {
  // One hidden layer on W x: the projection is a linear layer of width k, so
  // the mean has O(1/k) corrections; k = 256.
  const MlpSpec mlp{.input_dim = 3,
                    .widths = {64},
                    .activation = Activation::kTanh,
                    .sw = {1.3, 0.9},
                    .sb = {0.2, 0.5},
                    .input_projection_dim = 256,
                    .input_projection_scale = 0.8};
  const Eigen::MatrixXd x =
      Rows({{0.5, -1.0, 0.2}, {1.2, 0.3, -0.4}, {-0.7, 0.9, 1.0}});
  const NtkKernels theory = MlpNtk(mlp, x);
  const NtkEnsemble mc = EnsembleNtk(
      300, [&](int m) { return MlpEmpiricalNtk(mlp, x, 2000 + m); });
  ExpectWithinErrors(mc, theory.ntk, "input-projection mlp, tanh");
  // ... and the projection's own gradient (Theta^(1) = 2 K^(1) - sb0^2).
  Eigen::MatrixXd frozen = theory.ntk;
  {
    MlpSpec direct = mlp;
    direct.input_projection_dim = 0;
    direct.sw[0] *= mlp.input_projection_scale;
    frozen = MlpNtk(direct, x).ntk;
  }
  const double frozen_z = MaxAbsZ(mc, frozen);
  std::printf("  without the projection's gradient: max |z| = %.1f\n",
              frozen_z);
  EXPECT_GT(frozen_z, 10.0);
}

// --------------------------------------------------------------- conv ----

Eigen::MatrixXd ConvEmpiricalNtk(const Conv1dSpec& c,
                                 const Eigen::MatrixXd& points, uint64_t seed) {
  const int len = c.sequence_length, k = c.kernel_size, n = c.channels;
  const int o = (k - 1) / 2;
  int count = 0, c_in = c.in_channels;
  for (int l = 0; l < c.layers; ++l) {
    count += n * c_in * k + n;
    c_in = n;
  }
  count += n + 1;
  const std::vector<double> params = Normals(count, seed);
  auto source = [&](int t, int j) {
    const int s = t + j - o;
    if (c.padding == Padding::kCircular) return ((s % len) + len) % len;
    return s >= 0 && s < len ? s : -1;
  };
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    Leaves leaves;
    // in[t][ch]
    std::vector<std::vector<int>> in(len, std::vector<int>(c.in_channels));
    for (int t = 0; t < len; ++t) {
      for (int ch = 0; ch < c.in_channels; ++ch) {
        in[t][ch] = tape.Constant(points(p, t * c.in_channels + ch));
      }
    }
    std::vector<std::vector<int>> z;
    int cin = c.in_channels;
    for (int l = 0; l < c.layers; ++l) {
      const int w = leaves.Take(n * cin * k), b = leaves.Take(n);
      const double scale = c.sw[l] / std::sqrt(double(cin) * k);
      z.assign(len, std::vector<int>(n));
      for (int t = 0; t < len; ++t) {
        for (int ch = 0; ch < n; ++ch) {
          std::vector<int> ws, xs;
          for (int j = 0; j < k; ++j) {
            const int s = source(t, j);
            if (s < 0) continue;
            for (int ci = 0; ci < cin; ++ci) {
              ws.push_back(w + (ch * cin + ci) * k + j);
              xs.push_back(in[s][ci]);
            }
          }
          const int dot = ws.empty() ? tape.Constant(0.0) : tape.Dot(ws, xs);
          z[t][ch] = tape.Linear({{dot, scale}, {b + ch, c.sb[l]}});
        }
      }
      in.assign(len, std::vector<int>(n));
      for (int t = 0; t < len; ++t) {
        for (int ch = 0; ch < n; ++ch) {
          in[t][ch] = ActNode(tape, c.activation, z[t][ch]);
        }
      }
      cin = n;
    }
    const int w = leaves.Take(n), b = leaves.Take(1);
    std::vector<int> ws(n);
    for (int ch = 0; ch < n; ++ch) ws[ch] = w + ch;
    const int dot = tape.Dot(ws, in[c.output_position]);
    const int out = tape.Linear(
        {{dot, c.sw[c.layers] / std::sqrt(double(n))}, {b, c.sb[c.layers]}});
    EXPECT_EQ(leaves.next, count);
    grads.col(p) = tape.Gradient(out, count);
  }
  return testing::GramOfGradients(grads);
}

Eigen::MatrixXd RandomPoints(int rows, int cols, uint64_t seed) {
  const std::vector<double> v = Normals(rows * cols, seed);
  Eigen::MatrixXd out(rows, cols);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) out(i, j) = v[i * cols + j];
  }
  return out;
}

TEST(ArchNtkTest, OneLayerConvMatchesEnsembleExactlyAtSmallWidth) {
  // One conv layer: the mean of Theta_emp is the analytic NTK at every width.
  const Conv1dSpec c{.sequence_length = 5,
                     .in_channels = 2,
                     .kernel_size = 3,
                     .channels = 8,
                     .layers = 1,
                     .activation = Activation::kErf,
                     .padding = Padding::kZero,
                     .output_position = 0,
                     .sw = {1.4, 0.9},
                     .sb = {0.3, 0.2}};
  const Eigen::MatrixXd x = RandomPoints(3, 10, 7);
  const NtkKernels theory = Conv1dNtk(c, x);
  EXPECT_TRUE(IsClose(theory.nngp(0, 1), Conv1dKernel(c, x)(0, 1), 1e-12));
  const NtkEnsemble mc = EnsembleNtk(
      2000, [&](int m) { return ConvEmpiricalNtk(c, x, 3000 + m); });
  ExpectWithinErrors(mc, theory.ntk, "conv1d, 1 layer, 8 channels, erf");
}

TEST(ArchNtkTest, DeepConvMatchesEnsembleAtLargeWidth) {
  const Conv1dSpec c{.sequence_length = 5,
                     .in_channels = 1,
                     .kernel_size = 3,
                     .channels = 96,
                     .layers = 2,
                     .activation = Activation::kRelu,
                     .padding = Padding::kCircular,
                     .output_position = 2,
                     .sw = {1.3, 1.2, 1.0},
                     .sb = {0.2, 0.3, 0.1}};
  const Eigen::MatrixXd x = RandomPoints(3, 5, 8);
  const NtkKernels theory = Conv1dNtk(c, x, 2);
  EXPECT_TRUE(IsClose(theory.nngp(2, 1), Conv1dKernel(c, x)(2, 1), 1e-12));
  const NtkEnsemble mc =
      EnsembleNtk(150, [&](int m) { return ConvEmpiricalNtk(c, x, 4000 + m); });
  ExpectWithinErrors(mc, theory.ntk, "conv1d, 2 layers, 96 channels, relu");
}

// ---------------------------------------------------------------- KAN ----

Eigen::MatrixXd KanEmpiricalNtk(const KanSpec& kan,
                                const Eigen::MatrixXd& points, uint64_t seed) {
  const int d = kan.input_dim, n = kan.width;
  const int nb = kan.grid_size + kan.spline_order;
  const int count = n * d * (1 + nb) + n * (1 + nb);
  const std::vector<double> params = Normals(count, seed);
  std::vector<double> basis(nb), up(nb), down(nb);
  auto spline = [&](double x, std::vector<double>& out) {
    BsplineBasis<double>(x, kan.grid_size, kan.spline_order, kan.grid_range,
                         out.data());
  };
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    Leaves leaves;
    const int a0 = leaves.Take(n * d), c0 = leaves.Take(n * d * nb);
    const int a1 = leaves.Take(n), c1 = leaves.Take(n * nb);
    std::vector<std::pair<int, double>> outer;
    for (int q = 0; q < n; ++q) {
      std::vector<std::pair<int, double>> terms;
      for (int i = 0; i < d; ++i) {
        const double x = points(p, i);
        terms.push_back({a0 + q * d + i, kan.sa0 / std::sqrt(double(d)) *
                                             Act(kan.base_activation, x)});
        spline(x, basis);
        for (int b = 0; b < nb; ++b) {
          terms.push_back({c0 + (q * d + i) * nb + b,
                           kan.sc0 / std::sqrt(double(d)) * basis[b]});
        }
      }
      const int u = tape.Linear(terms);
      const double uv = tape.value(u);
      std::vector<int> features = {ActNode(tape, kan.base_activation, u)};
      std::vector<int> coeffs = {a1 + q};
      // B_i'(u) by central differences of the basis: independent of the
      // theory's (N_i - N_{i+1}) / h.
      constexpr double kH = 1e-6;
      spline(uv, basis);
      spline(uv + kH, up);
      spline(uv - kH, down);
      for (int b = 0; b < nb; ++b) {
        features.push_back(
            tape.Apply(u, basis[b], (up[b] - down[b]) / (2 * kH)));
        coeffs.push_back(c1 + q * nb + b);
      }
      const int base_term = tape.Mul(coeffs[0], features[0]);
      outer.push_back({base_term, kan.sa1 / std::sqrt(double(n))});
      const int spline_term =
          tape.Dot(std::vector<int>(coeffs.begin() + 1, coeffs.end()),
                   std::vector<int>(features.begin() + 1, features.end()));
      outer.push_back({spline_term, kan.sc1 / std::sqrt(double(n))});
    }
    const int out = tape.Linear(outer);
    EXPECT_EQ(leaves.next, count);
    grads.col(p) = tape.Gradient(out, count);
  }
  return testing::GramOfGradients(grads);
}

TEST(ArchNtkTest, KanMatchesEnsembleExactlyAtSmallWidth) {
  for (int order : {1, 3}) {
    const KanSpec kan{.input_dim = 2,
                      .width = 4,
                      .grid_size = 5,
                      .spline_order = order,
                      .grid_range = 2.0,
                      .base_activation = Activation::kGelu,
                      .sa0 = 1.0,
                      .sc0 = 0.8,
                      .sa1 = 0.9,
                      .sc1 = 1.1};
    const Eigen::MatrixXd x = Rows({{0.5, -1.0}, {1.2, 0.3}, {-0.7, 0.9}});
    const NtkKernels theory = KanNtk(kan, x, 2);
    const Eigen::MatrixXd kernel = KanKernel(kan, x);
    for (int p = 0; p < 3; ++p) {
      EXPECT_TRUE(IsClose(theory.nngp(p, 2), kernel(p, 2), 1e-10));
    }
    const NtkEnsemble mc = EnsembleNtk(
        4000, [&](int m) { return KanEmpiricalNtk(kan, x, 5000 + m); });
    ExpectWithinErrors(mc, theory.ntk,
                       order == 1 ? "kan, order 1" : "kan, order 3");
  }
}

// ---------------------------------------------------------- attention ----

Eigen::MatrixXd AttentionEmpiricalNtk(const AttentionSpec& a,
                                      const Eigen::MatrixXd& points,
                                      uint64_t seed) {
  const int t_len = a.sequence_length, d = a.embed_dim, e = a.head_dim;
  const int heads = a.heads;
  const int per_head = 3 * d * e + e;
  const int count = heads * per_head + 1;
  const std::vector<double> params = Normals(count, seed);
  Eigen::MatrixXd grads(count, points.rows());
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    Tape tape(params);
    Leaves leaves;
    auto token = [&](int s, int j) { return points(p, s * d + j); };
    // proj(W)_s,b = (scale / sqrt D) sum_j W_jb x_sj.
    auto project = [&](int w, double scale, int s, int b) {
      std::vector<std::pair<int, double>> terms;
      for (int j = 0; j < d; ++j) {
        terms.push_back(
            {w + j * e + b, scale / std::sqrt(double(d)) * token(s, j)});
      }
      return tape.Linear(terms);
    };
    std::vector<std::pair<int, double>> readout;
    for (int h = 0; h < heads; ++h) {
      const int wq = leaves.Take(d * e), wk = leaves.Take(d * e);
      const int wv = leaves.Take(d * e), wo = leaves.Take(e);
      std::vector<int> q(e);
      for (int b = 0; b < e; ++b)
        q[b] = project(wq, a.sq, a.output_position, b);
      std::vector<int> logits(t_len);
      double top = -1e300;
      for (int s = 0; s < t_len; ++s) {
        std::vector<int> k(e);
        for (int b = 0; b < e; ++b) k[b] = project(wk, a.sk, s, b);
        logits[s] = tape.Linear({{tape.Dot(q, k), 1.0 / std::sqrt(double(e))}});
        top = std::max(top, tape.value(logits[s]));
      }
      std::vector<std::pair<int, double>> norm_terms;
      std::vector<int> weights(t_len);
      for (int s = 0; s < t_len; ++s) {
        weights[s] = tape.Exp(tape.Linear({{logits[s], 1.0}}, -top));
        norm_terms.push_back({weights[s], 1.0});
      }
      const int norm = tape.Linear(norm_terms);
      for (int s = 0; s < t_len; ++s) weights[s] = tape.Div(weights[s], norm);
      for (int b = 0; b < e; ++b) {
        std::vector<int> v(t_len);
        for (int s = 0; s < t_len; ++s) v[s] = project(wv, a.sv, s, b);
        const int o = tape.Dot(weights, v);
        readout.push_back(
            {tape.Mul(wo + b, o), a.so / std::sqrt(double(heads) * e)});
      }
    }
    const int b = leaves.Take(1);
    readout.push_back({b, a.sb});
    const int out = tape.Linear(readout);
    EXPECT_EQ(leaves.next, count);
    grads.col(p) = tape.Gradient(out, count);
  }
  return testing::GramOfGradients(grads);
}

TEST(ArchNtkTest, AttentionMatchesEnsembleExactlyAtFewHeads) {
  for (int head_dim : {1, 2}) {
    const AttentionSpec a{.sequence_length = 3,
                          .embed_dim = 2,
                          .heads = 2,
                          .head_dim = head_dim,
                          .output_position = 1,
                          .output_component = 0,
                          .sq = 1.3,
                          .sk = 1.1,
                          .sv = 0.9,
                          .so = 1.2,
                          .sb = 0.3};
    const Eigen::MatrixXd x = RandomPoints(3, 6, 11);
    // Q = 4 quadrature dimensions for e = 1, 7 for e = 2.
    const int order = head_dim == 1 ? 24 : 8;
    const auto theory = AttentionNtk(a, x, {.order = order, .threads = 2});
    ASSERT_TRUE(theory.ok()) << theory.status();
    // The same rule as the kernel's: its NNGP is the kernel's to rounding.
    const auto kernel = AttentionKernel(a, x, {.order = order, .threads = 2});
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    for (int p = 0; p < 3; ++p) {
      EXPECT_TRUE(IsClose(theory->nngp(p, 0), (*kernel)(p, 0), 1e-10));
    }
    // The automatic order (32 for e = 1, 8 for e = 2) agrees with this one
    // to the rule's accuracy (~1e-3 relative at worst, attention_ntk.h).
    const auto automatic = AttentionNtk(a, x);
    ASSERT_TRUE(automatic.ok()) << automatic.status();
    for (int p = 0; p < 3; ++p) {
      EXPECT_TRUE(IsClose(automatic->ntk(p, 1), theory->ntk(p, 1), 1e-3));
    }
    const NtkEnsemble mc = EnsembleNtk(
        4000, [&](int m) { return AttentionEmpiricalNtk(a, x, 6000 + m); });
    ExpectWithinErrors(mc, theory->ntk,
                       head_dim == 1 ? "attention, e = 1" : "attention, e = 2");
    // The ensemble resolves the query and key terms through the softmax:
    // the value and output terms alone, 2 K - sb^2, are far.
    const Eigen::MatrixXd values_only =
        (2.0 * theory->nngp).array() - a.sb * a.sb;
    const double values_z = MaxAbsZ(mc, values_only);
    std::printf("  without the query and key terms: max |z| = %.1f\n",
                values_z);
    EXPECT_GT(values_z, 6.0);
  }
}

// ------------------------------------------------------ ComputeKernel ----

TEST(ArchNtkTest, ComputeKernelReturnsTheNtkOfEachArchitecture) {
  const Eigen::MatrixXd x = RandomPoints(2, 4, 3), y = RandomPoints(1, 4, 4);
  Eigen::MatrixXd all(3, 4);
  all << x, y;
  const Conv1dSpec conv{.sequence_length = 4,
                        .in_channels = 1,
                        .kernel_size = 3,
                        .channels = 16,
                        .layers = 2,
                        .activation = Activation::kTanh,
                        .sw = {1, 1, 1},
                        .sb = {0, 0, 0}};
  const KanSpec kan{.input_dim = 4, .width = 8};
  const AttentionSpec attention{
      .sequence_length = 2, .embed_dim = 2, .heads = 8, .head_dim = 1};
  const MlpSpec residual{.input_dim = 4,
                         .widths = {8, 8},
                         .activation = Activation::kRelu,
                         .sw = {1, 1, 1},
                         .sb = {0, 0, 0},
                         .residual = true};
  for (const Architecture& arch :
       {Architecture(conv), Architecture(kan), Architecture(attention),
        Architecture(residual)}) {
    ExperimentSpec spec;
    spec.architecture = arch;
    spec.points = x;
    const auto answer = ComputeKernelAnswer(spec, y, {.threads = 2});
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_TRUE(answer->ntk_absent_reason.empty()) << answer->ntk_absent_reason;
    ASSERT_EQ(answer->ntk.rows(), 2);
    ASSERT_EQ(answer->cross_ntk.cols(), 1);
    EXPECT_FALSE(answer->method.empty());
    // The NTK dominates the NNGP kernel (Theta - K is a Gram matrix of the
    // hidden parameters' gradients) and is symmetric.
    for (int p = 0; p < 2; ++p) {
      EXPECT_GT(answer->ntk(p, p), 0.0);
      EXPECT_DOUBLE_EQ(answer->ntk(0, 1), answer->ntk(1, 0));
    }
    EXPECT_TRUE(std::isfinite(answer->cross_ntk(1, 0)));
    EXPECT_EQ(answer->cross_kernel.size(), 2);
  }
  // A KAN NTK over the pair budget is left out, saying why.
  {
    ExperimentSpec big;
    big.architecture = kan;
    big.points = RandomPoints(84, 4, 5);  // 3570 pairs > kMaxKanNtkPairs
    const auto answer = ComputeKernelAnswer(big, Eigen::MatrixXd(), {});
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->ntk.size(), 0);
    EXPECT_NE(answer->ntk_absent_reason.find("spline pair expectations"),
              std::string::npos)
        << answer->ntk_absent_reason;
  }
  // What has none says why, naming the field.
  ExperimentSpec spec;
  spec.architecture = KanSpec{.input_dim = 4, .width = 8, .spline_order = 0};
  spec.points = x;
  const auto answer = ComputeKernelAnswer(spec, y, {});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_NE(answer->ntk_absent_reason.find("architecture.kan.spline_order"),
            std::string::npos)
      << answer->ntk_absent_reason;
}

}  // namespace
}  // namespace nnft::theory
