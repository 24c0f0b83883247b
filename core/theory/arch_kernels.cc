// Conv1d and KAN kernels; formulas in arch_kernels.h.
#include "core/theory/arch_kernels.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/sampling/arch_features.h"
#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

// Source position of tap j at output position t, or -1 when padded away.
int Source(const Conv1dSpec& c, int t, int j) {
  const int len = c.sequence_length;
  int src = t + j - (c.kernel_size - 1) / 2;
  if (c.padding == Padding::kCircular) return ((src % len) + len) % len;
  return src >= 0 && src < len ? src : -1;
}

// K'(pt, qs) = bias2 + (scale / k) sum_j m(p src(t,j), q src(s,j)).
Eigen::MatrixXd ConvolveCovariance(const Conv1dSpec& c,
                                   const Eigen::MatrixXd& m, int num_points,
                                   double scale, double bias2) {
  const int len = c.sequence_length, k = c.kernel_size;
  Eigen::MatrixXd out(num_points * len, num_points * len);
  for (int p = 0; p < num_points; ++p) {
    for (int t = 0; t < len; ++t) {
      for (int q = 0; q < num_points; ++q) {
        for (int s = 0; s < len; ++s) {
          double sum = 0.0;
          for (int j = 0; j < k; ++j) {
            const int a = Source(c, t, j), b = Source(c, s, j);
            if (a >= 0 && b >= 0) sum += m(p * len + a, q * len + b);
          }
          out(p * len + t, q * len + s) = bias2 + scale / k * sum;
        }
      }
    }
  }
  return out;
}

constexpr int kPanelNodes = 8;

// Integral over [lo, hi] split at the sorted `cuts`, 8-point Gauss-Legendre
// per panel: calls f(x, w).
template <typename F>
void PanelRule(std::vector<double> cuts, double lo, double hi, F&& f) {
  cuts.push_back(lo);
  cuts.push_back(hi);
  std::sort(cuts.begin(), cuts.end());
  const QuadratureRule& rule = GaussLegendre(kPanelNodes);
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double a = std::max(cuts[i], lo), b = std::min(cuts[i + 1], hi);
    if (!(b > a)) continue;
    for (int n = 0; n < kPanelNodes; ++n) {
      f(0.5 * (a + b) + 0.5 * (b - a) * rule.nodes[n],
        0.5 * (b - a) * rule.weights[n]);
    }
  }
}

double NormalDensity(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
}

}  // namespace

Eigen::MatrixXd ConvPatches(const Conv1dSpec& c,
                            const Eigen::MatrixXd& points) {
  const int cin = c.in_channels, k = c.kernel_size;
  Eigen::MatrixXd patches = Eigen::MatrixXd::Zero(points.rows(), cin * k);
  for (Eigen::Index p = 0; p < points.rows(); ++p) {
    for (int j = 0; j < k; ++j) {
      const int src = Source(c, c.output_position, j);
      if (src < 0) continue;
      for (int ch = 0; ch < cin; ++ch) {
        patches(p, j * cin + ch) = points(p, src * cin + ch);
      }
    }
  }
  return patches;
}

MlpSpec PatchMlp(const Conv1dSpec& c) {
  return MlpSpec{.input_dim = c.in_channels * c.kernel_size,
                 .widths = {c.channels},
                 .activation = c.activation,
                 .sw = {c.sw[0], c.sw[1]},
                 .sb = {c.sb[0], c.sb[1]}};
}

Eigen::MatrixXd Conv1dKernel(const Conv1dSpec& c,
                             const Eigen::MatrixXd& points) {
  const int num = static_cast<int>(points.rows()), len = c.sequence_length;
  const int cin = c.in_channels;
  // Per-position dot products x_p(t) . x_q(s) over the input channels.
  Eigen::MatrixXd tokens(num * len, cin);
  for (int p = 0; p < num; ++p) {
    for (int t = 0; t < len; ++t) {
      for (int ch = 0; ch < cin; ++ch) {
        tokens(p * len + t, ch) = points(p, t * cin + ch);
      }
    }
  }
  const Eigen::MatrixXd dots = tokens * tokens.transpose();
  Eigen::MatrixXd k = ConvolveCovariance(c, dots, num, c.sw[0] * c.sw[0] / cin,
                                         c.sb[0] * c.sb[0]);
  for (int l = 1; l < c.layers; ++l) {
    k = ConvolveCovariance(c, NeuronCovariance(c.activation, k), num,
                           c.sw[l] * c.sw[l], c.sb[l] * c.sb[l]);
  }
  const int t0 = c.output_position;
  const double sw = c.sw[c.layers], sb = c.sb[c.layers];
  Eigen::MatrixXd g2(num, num);
  for (int p = 0; p < num; ++p) {
    for (int q = 0; q <= p; ++q) {
      const int i = p * len + t0, j = q * len + t0;
      g2(p, q) = g2(q, p) =
          sb * sb +
          sw * sw * PairMoment(c.activation, k(i, i), k(j, j), k(i, j));
    }
  }
  return g2;
}

double SplinePairMoment(const KanSpec& kan, double a, double b, double c) {
  const int count = kan.grid_size + kan.spline_order;
  const double h = 2.0 * kan.grid_range / kan.grid_size;
  std::vector<double> knots;
  for (int j = 0; j <= kan.grid_size + 2 * kan.spline_order; ++j) {
    knots.push_back(-kan.grid_range + (j - kan.spline_order) * h);
  }
  const double lo = knots.front(), hi = knots.back();
  std::vector<double> bu(count), bv(count), inner(count);
  auto basis = [&](double x, std::vector<double>& out) {
    BsplineBasis<double>(x, kan.grid_size, kan.spline_order, kan.grid_range,
                         out.data());
  };
  const double su = std::sqrt(std::max(a, 0.0));
  const double beta = su > 0.0 ? c / a : 0.0;
  const double tau = std::sqrt(std::max(b - beta * c, 0.0));
  const bool degenerate = tau <= 1e-7 * std::sqrt(std::max(b, 1e-300));
  // inner_i(u) = E[B_i(v) | u].
  auto conditional = [&](double u) {
    const double mean = beta * u;
    if (degenerate) {
      basis(mean, inner);
      return;
    }
    std::fill(inner.begin(), inner.end(), 0.0);
    std::vector<double> cuts;
    for (double t : knots) cuts.push_back(t);
    for (int m = -10; m <= 10; ++m) cuts.push_back(mean + m * tau);
    PanelRule(cuts, std::max(lo, mean - 10 * tau),
              std::min(hi, mean + 10 * tau), [&](double v, double w) {
                const double dens = NormalDensity((v - mean) / tau) / tau;
                basis(v, bv);
                for (int i = 0; i < count; ++i) inner[i] += w * dens * bv[i];
              });
  };
  auto term = [&](double u) {
    basis(u, bu);
    conditional(u);
    double sum = 0.0;
    for (int i = 0; i < count; ++i) sum += bu[i] * inner[i];
    return sum;
  };
  if (su == 0.0) return term(0.0);
  std::vector<double> cuts(knots);
  if (beta != 0.0) {
    for (double t : knots) cuts.push_back(t / beta);
  }
  for (int m = -10; m <= 10; ++m) cuts.push_back(m * su);
  double total = 0.0;
  PanelRule(cuts, std::max(lo, -10 * su), std::min(hi, 10 * su),
            [&](double u, double w) {
              total += w * NormalDensity(u / su) / su * term(u);
            });
  return total;
}

Eigen::MatrixXd KanKernel(const KanSpec& kan, const Eigen::MatrixXd& points) {
  const int num = static_cast<int>(points.rows()), d = kan.input_dim;
  const int nb = 1 + kan.grid_size + kan.spline_order;
  Eigen::MatrixXd f(num, int64_t{d} * nb);  // first-layer edge features
  std::vector<double> basis(nb - 1);
  for (int p = 0; p < num; ++p) {
    for (int i = 0; i < d; ++i) {
      const double x = points(p, i);
      f(p, i * nb) = kan.sa0 * ActivationValue(kan.base_activation, x);
      BsplineBasis<double>(x, kan.grid_size, kan.spline_order, kan.grid_range,
                           basis.data());
      for (int j = 1; j < nb; ++j) f(p, i * nb + j) = kan.sc0 * basis[j - 1];
    }
  }
  const Eigen::MatrixXd s = f * f.transpose() / d;
  Eigen::MatrixXd g2(num, num);
  for (int p = 0; p < num; ++p) {
    for (int q = 0; q <= p; ++q) {
      const double base =
          PairMoment(kan.base_activation, s(p, p), s(q, q), s(p, q));
      const double spline = SplinePairMoment(kan, s(p, p), s(q, q), s(p, q));
      g2(p, q) = g2(q, p) =
          kan.sa1 * kan.sa1 * base + kan.sc1 * kan.sc1 * spline;
    }
  }
  return g2;
}

}  // namespace nnft::theory
