#include "core/theory/gaussian_moments.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>

#include "Eigen/Geometry"
#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"
#include "core/theory/vector_activation.h"
#include "core/theory/wick.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kArcNodes = 24;
// Largest Gauss-Hermite grid (activation values times points) kept in memory.
constexpr double kMaxGridEntries = 2e7;
constexpr Eigen::Index kMaxGridPoints = 1000;

// Gauss-Hermite nodes per dimension for an r-dimensional tensor grid.
int HermiteNodesForRank(int r) {
  static constexpr int kNodes[] = {1, 256, 128, 32, 20};
  return r <= 4 ? kNodes[r] : 0;
}

// E|z|^n for z ~ N(0, I_r): 2^{n/2} Gamma((n + r)/2) / Gamma(r/2).
double ChiMoment(int n, int r) {
  return std::exp(0.5 * n * std::numbers::ln2 + std::lgamma(0.5 * (n + r)) -
                  std::lgamma(0.5 * r));
}

// Sum over sign patterns eps of weight(eps) exp(-eps.S.eps / 2).
template <typename Weight>
double SignPatternSum(const Eigen::MatrixXd& cov, Weight&& weight) {
  const int n = static_cast<int>(cov.rows());
  double total = 0.0;
  for (int mask = 0; mask < (1 << n); ++mask) {
    int sum = 0;
    int parity = 1;
    for (int k = 0; k < n; ++k) {
      const bool minus = (mask >> k) & 1;
      sum += minus ? -1 : 1;
      if (minus) parity = -parity;
    }
    const double w = weight(sum, parity);
    if (w == 0.0) continue;
    double q = 0.0;
    for (int j = 0; j < n; ++j) {
      const int ej = ((mask >> j) & 1) ? -1 : 1;
      for (int k = 0; k < n; ++k) {
        const int ek = ((mask >> k) & 1) ? -1 : 1;
        q += ej * ek * cov(j, k);
      }
    }
    total += w * std::exp(-0.5 * q);
  }
  return total;
}

double ReluRank1(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  bool all_pos = true, all_neg = true;
  double prod = 1.0;
  for (int k = 0; k < n; ++k) {
    all_pos = all_pos && a(k, 0) > 0.0;
    all_neg = all_neg && a(k, 0) < 0.0;
    prod *= std::abs(a(k, 0));
  }
  if (!all_pos && !all_neg) return 0.0;
  return 0.5 * prod * ChiMoment(n, 1);
}

// Integral of f over [lo, hi] by one Gauss-Legendre rule.
template <typename F>
double Legendre(F&& f, double lo, double hi) {
  return CompositeGaussLegendre(f, lo, hi, 1, kArcNodes);
}

double ReluRank2(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  const double beta0 = std::atan2(a(0, 1), a(0, 0));
  double lo = beta0 - 0.5 * kPi, hi = beta0 + 0.5 * kPi;
  for (int k = 1; k < n; ++k) {
    const double beta = std::atan2(a(k, 1), a(k, 0));
    const double centre = beta0 + std::remainder(beta - beta0, 2.0 * kPi);
    lo = std::max(lo, centre - 0.5 * kPi);
    hi = std::min(hi, centre + 0.5 * kPi);
  }
  if (hi <= lo) return 0.0;
  const double arc = Legendre(
      [&](double t) {
        const double c = std::cos(t), s = std::sin(t);
        double p = 1.0;
        for (int k = 0; k < n; ++k) p *= a(k, 0) * c + a(k, 1) * s;
        return p;
      },
      lo, hi);
  return ChiMoment(n, 2) * arc / (2.0 * kPi);
}

// The pole of the spherical coordinates: the candidate direction farthest
// from every great circle a_k.omega = 0.
Eigen::Vector3d ChoosePole(const Eigen::MatrixXd& a) {
  static const double kCandidates[][3] = {
      {1, 0, 0},           {0, 1, 0},          {0, 0, 1},
      {1, 1, 1},           {1, -1, 1},         {1, 1, -1},
      {-1, 1, 1},          {0.31, 0.52, 0.79}, {0.83, -0.27, 0.49},
      {-0.44, 0.71, 0.55}, {0.61, 0.62, -0.48}};
  Eigen::Vector3d best(0, 0, 1);
  double best_score = -1.0;
  for (const auto& c : kCandidates) {
    const Eigen::Vector3d p = Eigen::Vector3d(c[0], c[1], c[2]).normalized();
    double score = std::numeric_limits<double>::infinity();
    for (int k = 0; k < a.rows(); ++k) {
      const Eigen::Vector3d ak = a.row(k).transpose();
      score = std::min(score, std::abs(ak.dot(p)) / ak.norm());
    }
    if (score > best_score) {
      best_score = score;
      best = p;
    }
  }
  return best;
}

// Integral over the meridian at azimuth alpha (theta in [0, pi], weight
// sin theta) of prod_k relu(b_k.omega), b_k in the pole's frame.
double MeridianIntegral(const Eigen::MatrixXd& b, double alpha) {
  const int n = static_cast<int>(b.rows());
  const double ca = std::cos(alpha), sa = std::sin(alpha);
  double lo = 0.0, hi = kPi;
  for (int k = 0; k < n; ++k) {
    const double r = b(k, 0) * ca + b(k, 1) * sa;
    if (b(k, 2) > 0.0) {
      hi = std::min(hi,
                    std::atan2(b(k, 2), -r));  // positive for theta < theta_k
    } else {
      lo = std::max(lo,
                    std::atan2(-b(k, 2), r));  // positive for theta > theta_k
    }
  }
  if (hi <= lo) return 0.0;
  return Legendre(
      [&](double t) {
        const double st = std::sin(t), ct = std::cos(t);
        double p = st;
        for (int k = 0; k < n; ++k) {
          p *= st * (b(k, 0) * ca + b(k, 1) * sa) + b(k, 2) * ct;
        }
        return p;
      },
      lo, hi);
}

double ReluRank3(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  const Eigen::Vector3d pole = ChoosePole(a);
  const Eigen::Vector3d e1 = pole.unitOrthogonal();
  const Eigen::Vector3d e2 = pole.cross(e1);
  Eigen::MatrixXd b(n, 3);
  b.col(0) = a * e1;
  b.col(1) = a * e2;
  b.col(2) = a * pole;
  // F(alpha) is smooth between the azimuths of the great circles' crossings.
  std::vector<double> cuts = {0.0, 2.0 * kPi};
  for (int j = 0; j < n; ++j) {
    for (int k = j + 1; k < n; ++k) {
      const Eigen::Vector3d bj = b.row(j).transpose(),
                            bk = b.row(k).transpose();
      const Eigen::Vector3d v = bj.cross(bk);
      if (v.norm() <= 1e-12 * bj.norm() * bk.norm()) continue;
      for (double sign : {1.0, -1.0}) {
        double alpha = std::atan2(sign * v[1], sign * v[0]);
        if (alpha < 0.0) alpha += 2.0 * kPi;
        cuts.push_back(alpha);
      }
    }
  }
  std::sort(cuts.begin(), cuts.end());
  double total = 0.0;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    if (cuts[i + 1] - cuts[i] <= 0.0) continue;
    total += Legendre([&](double alpha) { return MeridianIntegral(b, alpha); },
                      cuts[i], cuts[i + 1]);
  }
  return ChiMoment(n, 3) * total / (4.0 * kPi);
}

// A fixed orthogonal 4 x 4 matrix with no special axes: a product of Givens
// rotations by irrational-looking angles.
const Eigen::Matrix4d& GenericRotation4() {
  static const Eigen::Matrix4d q = [] {
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
    const double angles[6] = {0.61, 1.13, 0.37, 0.89, 1.41, 0.23};
    int a = 0;
    for (int i = 0; i < 4; ++i) {
      for (int j = i + 1; j < 4; ++j) {
        Eigen::Matrix4d g = Eigen::Matrix4d::Identity();
        const double c = std::cos(angles[a]), s = std::sin(angles[a]);
        ++a;
        g(i, i) = c;
        g(j, j) = c;
        g(i, j) = -s;
        g(j, i) = s;
        m = m * g;
      }
    }
    return m;
  }();
  return q;
}

}  // namespace

double CosProductMoment(const Eigen::MatrixXd& cov) {
  const int n = static_cast<int>(cov.rows());
  return std::ldexp(SignPatternSum(cov, [](int, int) { return 1.0; }), -n);
}

double SinProductMoment(const Eigen::MatrixXd& cov) {
  const int n = static_cast<int>(cov.rows());
  if (n % 2 == 1) return 0.0;
  const double sign =
      (n / 2) % 2 == 0 ? 1.0 : -1.0;  // (2i)^-n = (-1)^{n/2} 2^-n
  return sign * std::ldexp(SignPatternSum(cov,
                                          [](int, int parity) {
                                            return static_cast<double>(parity);
                                          }),
                           -n);
}

double UniformPhaseCosMoment(const Eigen::MatrixXd& cov) {
  const int n = static_cast<int>(cov.rows());
  if (n % 2 == 1) return 0.0;
  return std::ldexp(
      SignPatternSum(cov, [](int sum, int) { return sum == 0 ? 1.0 : 0.0; }),
      -n);
}

double GaussNetMoment(const Eigen::MatrixXd& cov) {
  return std::exp(0.5 * cov.sum() - cov.trace());
}

double ReluProductMoment(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows());
  const int r = static_cast<int>(a.cols());
  if (n == 0) return 1.0;
  for (int k = 0; k < n; ++k) {
    if (a.row(k).squaredNorm() == 0.0) return 0.0;  // relu(0) = 0
  }
  switch (r) {
    case 1:
      return ReluRank1(a);
    case 2:
      return ReluRank2(a);
    case 3:
      return ReluRank3(a);
    default:
      return kNaN;
  }
}

namespace {

// sum_g w[g] prod_{k < N} act(shift[k] + u[k][g]) in one simd loop.
template <Activation A, int N>
double FlatProductSum(const double* w, const double* const* u,
                      const double* shift, int size) {
  double total = 0.0;
#pragma omp simd reduction(+ : total)
  for (int g = 0; g < size; ++g) {
    double p = w[g];
    for (int k = 0; k < N; ++k) p *= VectorActivation<A>(shift[k] + u[k][g]);
    total += p;
  }
  return total;
}

template <Activation A>
double FlatProductSum(int n, const double* w, const double* const* u,
                      const double* shift, int size) {
  switch (n) {
    case 1:
      return FlatProductSum<A, 1>(w, u, shift, size);
    case 2:
      return FlatProductSum<A, 2>(w, u, shift, size);
    case 3:
      return FlatProductSum<A, 3>(w, u, shift, size);
    case 4:
      return FlatProductSum<A, 4>(w, u, shift, size);
    case 5:
      return FlatProductSum<A, 5>(w, u, shift, size);
    default:
      return FlatProductSum<A, 6>(w, u, shift, size);
  }
}

// HermiteProductMoment for n <= 6 rows, r in [1, 4] and an activation with a
// vector form: the last min(r, 2) dimensions as one flat simd loop over their
// nodes^2 points, the others (at most 2) as outer loops shifting it.
template <Activation A>
double VectorHermiteProductMoment(const Eigen::MatrixXd& a, int nodes) {
  const int n = static_cast<int>(a.rows());
  const int r = static_cast<int>(a.cols());
  const int r_in = std::min(r, 2), r_out = r - r_in;
  const QuadratureRule& rule = GaussHermite(nodes);
  const double* z = rule.nodes.data();
  const double* w = rule.weights.data();
  const int size = r_in == 2 ? nodes * nodes : nodes;
  std::vector<double> flat_w(size), flat_u(static_cast<size_t>(n) * size);
  for (int g = 0; g < size; ++g) {
    const int i = g % nodes, j = g / nodes;  // dims r_out, r_out + 1
    flat_w[g] = r_in == 2 ? w[i] * w[j] : w[i];
    for (int k = 0; k < n; ++k) {
      double u = a(k, r_out) * z[i];
      if (r_in == 2) u += a(k, r_out + 1) * z[j];
      flat_u[static_cast<size_t>(k) * size + g] = u;
    }
  }
  const double* u[6];
  for (int k = 0; k < n; ++k)
    u[k] = flat_u.data() + static_cast<size_t>(k) * size;
  const int outer = r_out == 0 ? 1 : r_out == 1 ? nodes : nodes * nodes;
  double total = 0.0;
  for (int o = 0; o < outer; ++o) {
    const int i = o % nodes, j = o / nodes;
    double weight = 1.0;
    double shift[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    if (r_out >= 1) weight *= w[i];
    if (r_out == 2) weight *= w[j];
    for (int k = 0; k < n; ++k) {
      if (r_out >= 1) shift[k] += a(k, 0) * z[i];
      if (r_out == 2) shift[k] += a(k, 1) * z[j];
    }
    total += weight * FlatProductSum<A>(n, flat_w.data(), u, shift, size);
  }
  return total;
}

}  // namespace

double HermiteProductMoment(Activation activation, const Eigen::MatrixXd& a,
                            int nodes) {
  const int n = static_cast<int>(a.rows());
  const int r = static_cast<int>(a.cols());
  double out = 0.0;
  if (n >= 1 && n <= 6 && r >= 1 && r <= 4 &&
      DispatchVectorActivation(activation, [&]<Activation A>() {
        out = VectorHermiteProductMoment<A>(a, nodes);
      })) {
    return out;
  }
  double total = 0.0;
  ForEachHermiteNode(static_cast<int>(a.cols()), nodes,
                     [&](const Eigen::VectorXd& z, double w) {
                       double p = w;
                       for (int k = 0; k < n; ++k) {
                         p *= ActivationValue(activation, a.row(k).dot(z));
                       }
                       total += p;
                     });
  return total;
}

double GaussianProductMoment(Activation activation,
                             const Eigen::MatrixXd& cov) {
  const int n = static_cast<int>(cov.rows());
  if (n == 0) return 1.0;
  switch (activation) {
    case Activation::kIdentity: {
      std::vector<int> idx(n);
      for (int k = 0; k < n; ++k) idx[k] = k;
      return WickSum(cov, idx);
    }
    case Activation::kCos:
      return CosProductMoment(cov);
    case Activation::kSin:
      return SinProductMoment(cov);
    default:
      break;
  }
  const Eigen::MatrixXd a = GaussianFactor(cov);
  const int r = static_cast<int>(a.cols());
  if (activation == Activation::kRelu && r <= 3) return ReluProductMoment(a);
  if (activation == Activation::kRelu && r == 4) {
    // The eigenvectors of structured covariances often align the kinks
    // relu(a_k.z) = 0 with grid axes, where Gauss-Hermite does worst; a fixed
    // generic rotation of the factor (z -> Q z leaves N(0, I) invariant)
    // avoids that.
    return HermiteProductMoment(activation, a * GenericRotation4(), 24);
  }
  if (r > 4) return kNaN;
  return HermiteProductMoment(activation, a, HermiteNodesForRank(r));
}

NeuronMomentTable::NeuronMomentTable(NeuronKind kind, Activation activation,
                                     const Eigen::MatrixXd& s)
    : kind_(kind), activation_(activation), s_(s) {
  // The global grid needs one eigen-decomposition of S (cost P^3).
  const bool closed =
      activation_ == Activation::kIdentity || activation_ == Activation::kCos ||
      activation_ == Activation::kSin || activation_ == Activation::kRelu;
  if (kind_ != NeuronKind::kGaussianBias || closed ||
      s_.rows() > kMaxGridPoints) {
    return;
  }
  const Eigen::MatrixXd a = GaussianFactor(s_);
  const int r = static_cast<int>(a.cols());
  if (r > 4) return;
  const int nodes = HermiteNodesForRank(r);
  const double g = std::pow(static_cast<double>(nodes), r);
  if (g * static_cast<double>(s_.rows()) > kMaxGridEntries) return;
  grid_values_.resize(static_cast<Eigen::Index>(g), s_.rows());
  grid_weights_.resize(static_cast<Eigen::Index>(g));
  Eigen::Index m = 0;
  ForEachHermiteNode(r, nodes, [&](const Eigen::VectorXd& z, double w) {
    grid_weights_[m] = w;
    const Eigen::VectorXd u = a * z;
    for (Eigen::Index p = 0; p < u.size(); ++p) {
      grid_values_(m, p) = ActivationValue(activation_, u[p]);
    }
    ++m;
  });
}

double NeuronMomentTable::Moment(const std::vector<int>& idx) const {
  const int n = static_cast<int>(idx.size());
  assert(n <= 8);
  if (n == 0) return 1.0;
  if (grid_weights_.size() > 0) {
    const double* cols[8];
    for (int k = 0; k < n; ++k) cols[k] = grid_values_.col(idx[k]).data();
    const double* w = grid_weights_.data();
    const Eigen::Index size = grid_weights_.size();
    double total = 0.0;
    if (n == 4) {  // the finite-width theories' case, in one simd loop
      const double *c0 = cols[0], *c1 = cols[1], *c2 = cols[2], *c3 = cols[3];
#pragma omp simd reduction(+ : total)
      for (Eigen::Index g = 0; g < size; ++g) {
        total += w[g] * c0[g] * c1[g] * c2[g] * c3[g];
      }
      return total;
    }
    for (Eigen::Index g = 0; g < size; ++g) {
      double p = w[g];
      for (int k = 0; k < n; ++k) p *= cols[k][g];
      total += p;
    }
    return total;
  }
  Eigen::MatrixXd cov(n, n);
  for (int j = 0; j < n; ++j) {
    for (int k = 0; k < n; ++k) cov(j, k) = s_(idx[j], idx[k]);
  }
  switch (kind_) {
    case NeuronKind::kUniformPhase:
      return UniformPhaseCosMoment(cov);
    case NeuronKind::kGaussNet:
      return GaussNetMoment(cov);
    case NeuronKind::kGaussianBias:
      break;
  }
  return GaussianProductMoment(activation_, cov);
}

}  // namespace nnft::theory
