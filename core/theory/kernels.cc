#include "core/theory/kernels.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

#include "core/theory/quadrature.h"
#include "core/theory/vector_activation.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kPairNodes = 96;

double Relu(double kxx, double kyy, double kxy) {
  const double norm = std::sqrt(kxx * kyy);
  if (norm <= 0.0) return 0.0;
  const double c = std::clamp(kxy / norm, -1.0, 1.0);
  const double t = std::acos(c);
  return norm / (2.0 * kPi) *
         (std::sqrt(std::max(0.0, 1.0 - c * c)) + (kPi - t) * c);
}

double Erf(double kxx, double kyy, double kxy) {
  const double arg =
      2.0 * kxy / std::sqrt((1.0 + 2.0 * kxx) * (1.0 + 2.0 * kyy));
  return 2.0 / kPi * std::asin(std::clamp(arg, -1.0, 1.0));
}

// f(-y) = sign f(y) + offset + slope y.
struct Reflection {
  double sign, offset, slope;
};

constexpr Reflection ReflectionOf(Activation a) {
  switch (a) {
    case Activation::kSigmoid:
      return {-1.0, 1.0, 0.0};
    case Activation::kGelu:
    case Activation::kSoftplus:
      return {1.0, 0.0, -1.0};
    default:  // tanh, erf: odd
      return {-1.0, 0.0, 0.0};
  }
}

template <Activation A>
double Reflected(double kxx, double kyy, double kxy, int n) {
  constexpr Reflection r = ReflectionOf(A);
  const QuadratureRule& rule = GaussHermite(n);
  const double* z = rule.nodes.data();
  const double* w = rule.weights.data();
  const double sx = std::sqrt(std::max(kxx, 0.0));
  const double rho = sx > 0.0 ? kxy / sx : 0.0;
  const double tau = std::sqrt(std::max(kyy - rho * rho, 0.0));
  double total = 0.0;
  // Nodes n/2.. are >= 0 (the middle one 0 for odd n, its own mirror).
  for (int i = n / 2; i < n; ++i) {
    const double c = rho * z[i];
    double inner = 0.0;
#pragma omp simd reduction(+ : inner)
    for (int j = 0; j < n; ++j)
      inner += w[j] * VectorActivation<A>(c + tau * z[j]);
    total += w[i] * VectorActivation<A>(sx * z[i]) * inner;
    if (n % 2 == 1 && i == n / 2) continue;
    const double mirrored = r.sign * inner + r.offset + r.slope * c;
    total += w[i] * VectorActivation<A>(-sx * z[i]) * mirrored;
  }
  return total;
}

}  // namespace

bool HasReflectedQuadrature(Activation activation) {
  switch (activation) {
    case Activation::kTanh:
    case Activation::kErf:
    case Activation::kSigmoid:
    case Activation::kGelu:
    case Activation::kSoftplus:
      return true;
    default:
      return false;
  }
}

double ReflectedPairQuadrature(Activation activation, double kxx, double kyy,
                               double kxy, int n) {
  switch (activation) {
    case Activation::kTanh:
      return Reflected<Activation::kTanh>(kxx, kyy, kxy, n);
    case Activation::kErf:
      return Reflected<Activation::kErf>(kxx, kyy, kxy, n);
    case Activation::kSigmoid:
      return Reflected<Activation::kSigmoid>(kxx, kyy, kxy, n);
    case Activation::kGelu:
      return Reflected<Activation::kGelu>(kxx, kyy, kxy, n);
    case Activation::kSoftplus:
      return Reflected<Activation::kSoftplus>(kxx, kyy, kxy, n);
    default:
      assert(false && "no reflection for this activation");
      return PairMomentByQuadrature(activation, kxx, kyy, kxy, n);
  }
}

int PairQuadratureNodes(double kxx, double kyy) {
  // Large variances sharpen tanh/sigmoid towards a step: more nodes.
  const double v = std::max(kxx, kyy);
  return v <= 2.0 ? kPairNodes : v <= 8.0 ? 160 : 256;
}

double ActivationValue(Activation activation, double x) {
  switch (activation) {
    case Activation::kIdentity:
      return x;
    case Activation::kRelu:
      return x > 0.0 ? x : 0.0;
    case Activation::kErf:
      return std::erf(x);
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kSigmoid:
      return x >= 0.0 ? 1.0 / (1.0 + std::exp(-x))
                      : std::exp(x) / (1.0 + std::exp(x));
    case Activation::kGelu:
      return 0.5 * x * std::erfc(-x / std::numbers::sqrt2);
    case Activation::kSoftplus:
      return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    case Activation::kSin:
      return std::sin(x);
    case Activation::kCos:
      return std::cos(x);
  }
  return 0.0;
}

bool HasClosedPairMoment(Activation activation) {
  switch (activation) {
    case Activation::kIdentity:
    case Activation::kRelu:
    case Activation::kErf:
    case Activation::kCos:
    case Activation::kSin:
      return true;
    default:
      return false;
  }
}

double PairMomentByQuadrature(Activation activation, double kxx, double kyy,
                              double kxy, int n) {
  const QuadratureRule& rule = GaussHermite(n);
  const double sx = std::sqrt(std::max(kxx, 0.0));
  // v = (kxy / sx) z1 + tau z2, tau^2 = kyy - kxy^2 / kxx.
  const double rho = sx > 0.0 ? kxy / sx : 0.0;
  const double tau = std::sqrt(std::max(kyy - rho * rho, 0.0));
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z1 = rule.nodes[i];
    double inner = 0.0;
    for (int j = 0; j < n; ++j) {
      inner += rule.weights[j] *
               ActivationValue(activation, rho * z1 + tau * rule.nodes[j]);
    }
    total += rule.weights[i] * ActivationValue(activation, sx * z1) * inner;
  }
  return total;
}

double PairMoment(Activation activation, double kxx, double kyy, double kxy) {
  switch (activation) {
    case Activation::kIdentity:
      return kxy;
    case Activation::kRelu:
      return Relu(kxx, kyy, kxy);
    case Activation::kErf:
      return Erf(kxx, kyy, kxy);
    case Activation::kCos:
      return 0.5 * (std::exp(-0.5 * (kxx + kyy - 2.0 * kxy)) +
                    std::exp(-0.5 * (kxx + kyy + 2.0 * kxy)));
    case Activation::kSin:
      return 0.5 * (std::exp(-0.5 * (kxx + kyy - 2.0 * kxy)) -
                    std::exp(-0.5 * (kxx + kyy + 2.0 * kxy)));
    default: {
      const int nodes = PairQuadratureNodes(kxx, kyy);
      if (HasReflectedQuadrature(activation)) {
        return ReflectedPairQuadrature(activation, kxx, kyy, kxy, nodes);
      }
      return PairMomentByQuadrature(activation, kxx, kyy, kxy, nodes);
    }
  }
}

Eigen::MatrixXd PreactivationCovariance(const Eigen::MatrixXd& points,
                                        double sw0, double sb0) {
  const double d = static_cast<double>(points.cols());
  Eigen::MatrixXd s = (sw0 * sw0 / d) * (points * points.transpose());
  s.array() += sb0 * sb0;
  return s;
}

Eigen::MatrixXd NeuronCovariance(Activation activation,
                                 const Eigen::MatrixXd& k, int threads) {
  const Eigen::Index p = k.rows();
  Eigen::MatrixXd c(p, p);
  // Row i writes (i, j <= i) and the mirrors: no entry is written twice.
  // Long rows first, handed out one at a time, balance the triangle.
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 1)
  for (Eigen::Index i = p - 1; i >= 0; --i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      c(i, j) = c(j, i) = PairMoment(activation, k(i, i), k(j, j), k(i, j));
    }
  }
  return c;
}

Eigen::MatrixXd UniformPhaseCosCovariance(const Eigen::MatrixXd& points,
                                          double sw0) {
  const Eigen::Index p = points.rows();
  const double scale = sw0 * sw0 / (2.0 * points.cols());
  Eigen::MatrixXd c(p, p);
  for (Eigen::Index i = 0; i < p; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      const double r2 = (points.row(i) - points.row(j)).squaredNorm();
      c(i, j) = c(j, i) = 0.5 * std::exp(-scale * r2);
    }
  }
  return c;
}

Eigen::MatrixXd FirstLayerNeuronCovariance(const MlpSpec& mlp,
                                           const Eigen::MatrixXd& points,
                                           int threads) {
  if (mlp.first_bias == BiasLaw::kUniformPhase) {
    return UniformPhaseCosCovariance(points, mlp.sw[0]);
  }
  return NeuronCovariance(mlp.activation,
                          PreactivationCovariance(points, mlp.sw[0], mlp.sb[0]),
                          threads);
}

// Residual layers (l = 1..L-1) add the previous pre-activation covariance:
// K^(l+1) = K^(l) + sb^2 + sw^2 C^(l) (the cross terms vanish: W^(l) is
// independent of z^(l) with mean zero). g(Wx) in the limit k -> infinity:
// (Wx).(Wy)/k -> s^2 x.y/d, i.e. the MLP kernel with sw[0] -> s sw[0].
Eigen::MatrixXd MlpKernel(const MlpSpec& spec, const Eigen::MatrixXd& points,
                          int threads) {
  const int depth = static_cast<int>(spec.widths.size());
  assert(depth >= 1 && static_cast<int>(spec.sw.size()) == depth + 1);
  MlpSpec mlp = spec;
  if (mlp.input_projection_dim > 0) mlp.sw[0] *= mlp.input_projection_scale;
  Eigen::MatrixXd c = FirstLayerNeuronCovariance(mlp, points, threads);
  Eigen::MatrixXd k = PreactivationCovariance(points, mlp.sw[0], mlp.sb[0]);
  for (int l = 1; l <= depth; ++l) {
    Eigen::MatrixXd next = (mlp.sw[l] * mlp.sw[l]) * c;
    next.array() += mlp.sb[l] * mlp.sb[l];
    if (mlp.residual && l < depth) next += k;
    k = std::move(next);
    if (l < depth) c = NeuronCovariance(mlp.activation, k, threads);
  }
  return k;
}

Eigen::MatrixXd GaussNetKernel(const GaussNetSpec& net,
                               const Eigen::MatrixXd& points) {
  Eigen::MatrixXd k =
      (2.0 * net.sw1 * net.sw1) * UniformPhaseCosCovariance(points, net.sw0);
  k.array() += net.sb1 * net.sb1;
  return k;
}

}  // namespace nnft::theory
