// Conv1d and KAN kernels; formulas in arch_kernels.h.
#include "core/theory/arch_kernels.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/sampling/arch_features.h"
#include "core/theory/kernels.h"
#include "core/theory/ntk.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

int Source(const Conv1dSpec& c, int t, int j) { return Conv1dSource(c, t, j); }

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

// Per-position dot products x_p(t) . x_q(s) over the input channels,
// (P T) x (P T), row p T + t.
Eigen::MatrixXd TokenDots(const Conv1dSpec& c, const Eigen::MatrixXd& points) {
  const int num = static_cast<int>(points.rows()), len = c.sequence_length;
  const int cin = c.in_channels;
  Eigen::MatrixXd tokens(num * len, cin);
  for (int p = 0; p < num; ++p) {
    for (int t = 0; t < len; ++t) {
      for (int ch = 0; ch < cin; ++ch) {
        tokens(p * len + t, ch) = points(p, t * cin + ch);
      }
    }
  }
  return tokens * tokens.transpose();
}

// E[act act] and E[act' act'] under N(0, k) for every pair of rows of k, the
// rows shared out over `threads` (each entry one thread's computation).
void PairMomentMatrices(Activation activation, const Eigen::MatrixXd& k,
                        int threads, Eigen::MatrixXd& value,
                        Eigen::MatrixXd& derivative) {
  const int64_t num = k.rows();
  value.resize(num, num);
  derivative.resize(num, num);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 1)
  for (int64_t i = num - 1; i >= 0; --i) {
    for (int64_t j = 0; j <= i; ++j) {
      const PairMoments m =
          ValueAndDerivativePairMoments(activation, k(i, i), k(j, j), k(i, j));
      value(i, j) = value(j, i) = m.value;
      derivative(i, j) = derivative(j, i) = m.derivative;
    }
  }
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

// E[sum_i f_i(u) f_i(v)] for the `count` piecewise polynomials f_i on the
// knots of KanSpec that basis(x, out) writes (see SplinePairMoment).
template <typename Basis>
double SplineBasisPairMoment(const KanSpec& kan, int count, Basis&& basis_fn,
                             double a, double b, double c) {
  const double h = 2.0 * kan.grid_range / kan.grid_size;
  std::vector<double> knots;
  for (int j = 0; j <= kan.grid_size + 2 * kan.spline_order; ++j) {
    knots.push_back(-kan.grid_range + (j - kan.spline_order) * h);
  }
  const double lo = knots.front(), hi = knots.back();
  std::vector<double> bu(count), bv(count), inner(count);
  auto basis = [&](double x, std::vector<double>& out) {
    basis_fn(x, out.data());
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

}  // namespace

int Conv1dSource(const Conv1dSpec& c, int t, int j) {
  const int len = c.sequence_length;
  int src = t + j - (c.kernel_size - 1) / 2;
  if (c.padding == Padding::kCircular) return ((src % len) + len) % len;
  return src >= 0 && src < len ? src : -1;
}

std::vector<Eigen::MatrixXd> Conv1dHiddenKernels(const Conv1dSpec& c,
                                                 const Eigen::MatrixXd& points,
                                                 int threads) {
  const int num = static_cast<int>(points.rows());
  std::vector<Eigen::MatrixXd> out;
  out.push_back(ConvolveCovariance(c, TokenDots(c, points), num,
                                   c.sw[0] * c.sw[0] / c.in_channels,
                                   c.sb[0] * c.sb[0]));
  for (int l = 1; l < c.layers; ++l) {
    out.push_back(ConvolveCovariance(
        c, NeuronCovariance(c.activation, out.back(), threads), num,
        c.sw[l] * c.sw[l], c.sb[l] * c.sb[l]));
  }
  return out;
}

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
  Eigen::MatrixXd k =
      ConvolveCovariance(c, TokenDots(c, points), num,
                         c.sw[0] * c.sw[0] / c.in_channels, c.sb[0] * c.sb[0]);
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

NtkKernels Conv1dNtk(const Conv1dSpec& c, const Eigen::MatrixXd& points,
                     int threads) {
  const int num = static_cast<int>(points.rows()), len = c.sequence_length;
  Eigen::MatrixXd k =
      ConvolveCovariance(c, TokenDots(c, points), num,
                         c.sw[0] * c.sw[0] / c.in_channels, c.sb[0] * c.sb[0]);
  Eigen::MatrixXd theta = k, value, derivative;
  for (int l = 1; l < c.layers; ++l) {
    PairMomentMatrices(c.activation, k, threads, value, derivative);
    const double sw2 = c.sw[l] * c.sw[l];
    k = ConvolveCovariance(c, value, num, sw2, c.sb[l] * c.sb[l]);
    theta = k + ConvolveCovariance(c, theta.cwiseProduct(derivative), num, sw2,
                                   0.0);
  }
  const int t0 = c.output_position;
  const double sw2 = c.sw[c.layers] * c.sw[c.layers];
  const double sb2 = c.sb[c.layers] * c.sb[c.layers];
  NtkKernels out{.nngp = Eigen::MatrixXd(num, num),
                 .ntk = Eigen::MatrixXd(num, num)};
  for (int p = 0; p < num; ++p) {
    for (int q = 0; q <= p; ++q) {
      const int i = p * len + t0, j = q * len + t0;
      const PairMoments m = ValueAndDerivativePairMoments(c.activation, k(i, i),
                                                          k(j, j), k(i, j));
      out.nngp(p, q) = out.nngp(q, p) = sb2 + sw2 * m.value;
      out.ntk(p, q) = out.ntk(q, p) =
          sb2 + sw2 * (m.value + m.derivative * theta(i, j));
    }
  }
  return out;
}

double SplinePairMoment(const KanSpec& kan, double a, double b, double c) {
  return SplineBasisPairMoment(
      kan, kan.grid_size + kan.spline_order,
      [&](double x, double* out) {
        BsplineBasis<double>(x, kan.grid_size, kan.spline_order, kan.grid_range,
                             out);
      },
      a, b, c);
}

// B_i'(x) = (N_i(x) - N_{i+1}(x)) / h on uniform knots, N_j the order k - 1
// B-splines on the same knots t_0..t_{G+2k}: BsplineBasis with G + 2
// intervals on [-(r + h), r + h] (same spacing h, same first knot t_0).
double SplineDerivativePairMoment(const KanSpec& kan, double a, double b,
                                  double c) {
  assert(kan.spline_order >= 1);
  const int count = kan.grid_size + kan.spline_order;
  const double h = 2.0 * kan.grid_range / kan.grid_size;
  std::vector<double> lower(count + 1);
  return SplineBasisPairMoment(
      kan, count,
      [&](double x, double* out) {
        BsplineBasis<double>(x, kan.grid_size + 2, kan.spline_order - 1,
                             kan.grid_range + h, lower.data());
        for (int i = 0; i < count; ++i) out[i] = (lower[i] - lower[i + 1]) / h;
      },
      a, b, c);
}

Eigen::MatrixXd KanInnerCovariance(const KanSpec& kan,
                                   const Eigen::MatrixXd& points) {
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
  return f * f.transpose() / d;
}

Eigen::MatrixXd KanKernel(const KanSpec& kan, const Eigen::MatrixXd& points) {
  const int num = static_cast<int>(points.rows());
  const Eigen::MatrixXd s = KanInnerCovariance(kan, points);
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

NtkKernels KanNtk(const KanSpec& kan, const Eigen::MatrixXd& points,
                  int threads) {
  const int num = static_cast<int>(points.rows());
  const Eigen::MatrixXd s = KanInnerCovariance(kan, points);
  NtkKernels out{.nngp = Eigen::MatrixXd(num, num),
                 .ntk = Eigen::MatrixXd(num, num)};
  const double a2 = kan.sa1 * kan.sa1, c2 = kan.sc1 * kan.sc1;
  // Row p writes the pairs (p, q <= p) and their mirrors: each entry is one
  // thread's whole computation, the same bits on any thread count.
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 1)
  for (int p = num - 1; p >= 0; --p) {
    for (int q = 0; q <= p; ++q) {
      const double spp = s(p, p), sqq = s(q, q), spq = s(p, q);
      const PairMoments base =
          ValueAndDerivativePairMoments(kan.base_activation, spp, sqq, spq);
      const double spline = SplinePairMoment(kan, spp, sqq, spq);
      const double spline_slope =
          SplineDerivativePairMoment(kan, spp, sqq, spq);
      const double k = a2 * base.value + c2 * spline;
      out.nngp(p, q) = out.nngp(q, p) = k;
      out.ntk(p, q) = out.ntk(q, p) =
          k + spq * (a2 * base.derivative + c2 * spline_slope);
    }
  }
  return out;
}

}  // namespace nnft::theory
