#include "core/theory/cosnet_propagator.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kPanelNodes = 24;

// Radial integrand of I_q without the (2 pi)^-d angular prefactor.
double Radial(int d, int q, double mass, double r, double p) {
  const double denom = std::pow(p * p + mass * mass, -q);
  switch (d) {
    case 1:
      return std::cos(p * r) * denom;
    case 2:
      return p * std::cyl_bessel_j(0.0, p * r) * denom;
    default: {
      const double x = p * r;
      const double sinc = std::abs(x) < 1e-4
                              ? 1.0 - x * x / 6.0 * (1.0 - x * x / 20.0)
                              : std::sin(x) / x;
      return p * p * sinc * denom;
    }
  }
}

// Radial integrand of S_q (the angular mean of (p.r) sin(p.r) is p r sin(p r)
// in d = 1, p r J1(p r) in d = 2 and sin(x)/x - cos(x), x = p r, in d = 3),
// without the prefactor.
double SineRadial(int d, int q, double mass, double r, double p) {
  const double denom = std::pow(p * p + mass * mass, -q);
  const double x = p * r;
  switch (d) {
    case 1:
      return x * std::sin(x) * denom;
    case 2:
      return p * x * std::cyl_bessel_j(1.0, x) * denom;
    default: {
      const double mean = std::abs(x) < 1e-3
                              ? x * x / 3.0 * (1.0 - x * x / 10.0)
                              : std::sin(x) / x - std::cos(x);
      return p * p * mean * denom;
    }
  }
}

double RadialPrefactor(int d) {
  switch (d) {
    case 1:
      return 1.0 / kPi;
    case 2:
      return 1.0 / (2.0 * kPi);
    default:
      return 1.0 / (2.0 * kPi * kPi);
  }
}

// Sum over the balanced sign patterns with eps_0 = +1 of f(sum_k eps_k x_k).
template <typename F>
double BalancedSum(const Eigen::MatrixXd& points, const std::vector<int>& idx,
                   F&& f) {
  const int n = static_cast<int>(idx.size());
  double total = 0.0;
  for (int mask = 0; mask < (1 << n); mask += 2) {  // bit 0 clear: eps_0 = +1
    if (2 * __builtin_popcount(mask) != n) continue;
    Eigen::VectorXd x = Eigen::VectorXd::Zero(points.cols());
    for (int k = 0; k < n; ++k) {
      const double eps = ((mask >> k) & 1) ? -1.0 : 1.0;
      x += eps * points.row(idx[k]).transpose();
    }
    total += f(x);
  }
  return total;
}

// int_0^cutoff f(p) dp by composite Gauss-Legendre on the panels of the
// header (no wider than m near 0, p/2 further out, one period 2 pi / r).
template <typename F>
double PanelIntegral(double mass, double cutoff, double r, F&& f) {
  const double period = r > 0.0 ? 2.0 * kPi / r : cutoff;
  const QuadratureRule& rule = GaussLegendre(kPanelNodes);
  double total = 0.0;
  double p = 0.0;
  while (p < cutoff) {
    double h = std::min({std::max(mass, 0.5 * p), period, cutoff - p});
    if (cutoff - p - h < 1e-3 * h) h = cutoff - p;  // no sliver panel
    const double mid = p + 0.5 * h;
    double panel = 0.0;
    for (int i = 0; i < kPanelNodes; ++i) {
      panel += rule.weights[i] * f(mid + 0.5 * h * rule.nodes[i]);
    }
    total += 0.5 * h * panel;
    p += h;
  }
  return total;
}

}  // namespace

double CutoffPropagator(int d, int q, double mass, double cutoff, double r) {
  assert(d >= 1 && d <= 3 && q >= 1 && mass > 0.0 && cutoff > 0.0);
  r = std::abs(r);
  return RadialPrefactor(d) * PanelIntegral(mass, cutoff, r, [&](double p) {
           return Radial(d, q, mass, r, p);
         });
}

double CutoffSineMoment(int d, int q, double mass, double cutoff, double r) {
  assert(d >= 1 && d <= 3 && q >= 1 && mass > 0.0 && cutoff > 0.0);
  r = std::abs(r);
  if (r == 0.0) return 0.0;
  return RadialPrefactor(d) * PanelIntegral(mass, cutoff, r, [&](double p) {
           return SineRadial(d, q, mass, r, p);
         });
}

double InfiniteCutoffPropagator(int d, double mass, double r) {
  switch (d) {
    case 1:
      return std::exp(-mass * r) / (2.0 * mass);
    case 2:
      return std::cyl_bessel_k(0.0, mass * r) / (2.0 * kPi);
    default:
      return std::exp(-mass * r) / (4.0 * kPi * r);
  }
}

double MomentumBallVolume(int d, double cutoff) {
  const double two_pi = 2.0 * kPi;
  switch (d) {
    case 1:
      return 2.0 * cutoff / two_pi;
    case 2:
      return kPi * cutoff * cutoff / (two_pi * two_pi);
    default:
      return 4.0 * kPi * cutoff * cutoff * cutoff /
             (3.0 * two_pi * two_pi * two_pi);
  }
}

CosNetMoments::CosNetMoments(const CosNetSpec& net,
                             const Eigen::MatrixXd& points)
    : net_(net), points_(points) {
  if (net.box_side > 0) {
    // Validated specs only: the lattice exists.
    lattice_ = *MakeBoxLattice(net.input_dim, net.box_side, net.cutoff);
  }
}

double CosNetMoments::Propagator(int q, const Eigen::VectorXd& r) {
  if (lattice_) return BoxPropagator(*lattice_, q, net_.mass, r);
  const double norm = r.norm();
  auto [it, inserted] = cache_.try_emplace({q, norm}, 0.0);
  if (inserted) {
    it->second =
        CutoffPropagator(net_.input_dim, q, net_.mass, net_.cutoff, norm);
  }
  return it->second;
}

double CosNetMoments::Moment(const std::vector<int>& idx) {
  const int n = static_cast<int>(idx.size());
  if (n == 0) return 1.0;
  if (n % 2 == 1) return 0.0;
  // m_n = (V_L / 2)^{n/2 - 1} sum_balanced I_{n/2}: m_2 = I_1,
  // m_4 = (1/2) V_L sum_3 I_2, m_6 = (1/4) V_L^2 sum_10 I_3 (see the header).
  const double v = lattice_ ? static_cast<double>(lattice_->k.size()) /
                                  std::pow(net_.box_side, net_.input_dim)
                            : MomentumBallVolume(net_.input_dim, net_.cutoff);
  const int q = n / 2;
  const double scale = std::pow(0.5 * v, q - 1);
  return scale * BalancedSum(points_, idx, [&](const Eigen::VectorXd& x) {
           return Propagator(q, x);
         });
}

Eigen::MatrixXd CosNetMoments::Kernel() {
  const Eigen::Index p = points_.rows();
  Eigen::MatrixXd k(p, p);
  for (Eigen::Index i = 0; i < p; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      k(i, j) = k(j, i) = Moment({static_cast<int>(i), static_cast<int>(j)});
    }
  }
  return k;
}

}  // namespace nnft::theory
