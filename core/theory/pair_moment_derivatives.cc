#include "core/theory/pair_moment_derivatives.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/theory/kernels.h"
#include "core/theory/quadrature.h"

namespace nnft::theory {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxOrder = 4;

// Nodes per dimension. The fourth derivatives converge more slowly than the
// moment itself (tanh, variance 1.3: relative error 5e-5 with 96 nodes, 1e-7
// with 160, 1e-9 with 256), so twice PairMoment's count, capped at 256.
int NodesForVariance(double v) { return v <= 1.0 ? 160 : 256; }

// All derivatives of act at x, orders 0..4: ActivationDerivative's values,
// with tanh and the sigmoid evaluated once instead of once per order.
std::array<double, kMaxOrder + 1> Derivatives(Activation activation, double x) {
  std::array<double, kMaxOrder + 1> d{};
  if (activation == Activation::kTanh) {
    const double t = std::tanh(x), s = 1.0 - t * t;
    d = {t, s, -2.0 * t * s, s * (6.0 * t * t - 2.0),
         8.0 * t * s * (2.0 - 3.0 * t * t)};
    return d;
  }
  if (activation == Activation::kSigmoid ||
      activation == Activation::kSoftplus) {
    const double s = ActivationValue(Activation::kSigmoid, x);
    const double q = s * (1.0 - s);
    const double sig[] = {
        s, q, q * (1.0 - 2.0 * s), q * (1.0 - 6.0 * s + 6.0 * s * s),
        q * (1.0 - 2.0 * s) * (1.0 - 12.0 * s + 12.0 * s * s)};
    const bool softplus = activation == Activation::kSoftplus;
    d[0] = softplus ? ActivationValue(activation, x) : s;
    for (int k = 1; k <= kMaxOrder; ++k) d[k] = sig[softplus ? k - 1 : k];
    return d;
  }
  for (int k = 0; k <= kMaxOrder; ++k) {
    d[k] = ActivationDerivative(activation, k, x);
  }
  return d;
}

// E[act^(i)(u) act^(j)(v)] for i, j in [0, 4] by nested Gauss-Hermite:
// u = sqrt(kaa) z1, v = (kab / sqrt(kaa)) z1 + tau z2.
std::array<std::array<double, kMaxOrder + 1>, kMaxOrder + 1> CrossExpectations(
    Activation activation, double kaa, double kbb, double kab) {
  const int n = NodesForVariance(std::max(kaa, kbb));
  const QuadratureRule& rule = GaussHermite(n);
  const double sx = std::sqrt(std::max(kaa, 0.0));
  const double rho = sx > 0.0 ? kab / sx : 0.0;
  const double tau = std::sqrt(std::max(kbb - rho * rho, 0.0));
  std::array<std::array<double, kMaxOrder + 1>, kMaxOrder + 1> out{};
  for (int i = 0; i < n; ++i) {
    const double z1 = rule.nodes[i];
    std::array<double, kMaxOrder + 1> inner{};
    for (int j = 0; j < n; ++j) {
      const auto dv = Derivatives(activation, rho * z1 + tau * rule.nodes[j]);
      for (int k = 0; k <= kMaxOrder; ++k) inner[k] += rule.weights[j] * dv[k];
    }
    const auto du = Derivatives(activation, sx * z1);
    for (int a = 0; a <= kMaxOrder; ++a) {
      for (int b = 0; b <= kMaxOrder; ++b) {
        out[a][b] += rule.weights[i] * du[a] * inner[b];
      }
    }
  }
  return out;
}

PairMomentJet ReluJet(double kaa, double kbb, double kab) {
  PairMomentJet jet;
  jet.value = PairMoment(Activation::kRelu, kaa, kbb, kab);
  const double norm = std::sqrt(kaa * kbb);
  const double c = std::clamp(kab / norm, -1.0, 1.0);
  const double t = std::acos(c);
  const double s = std::sqrt(std::max(0.0, 1.0 - c * c));
  const double ra = std::sqrt(kaa), rb = std::sqrt(kbb);
  jet.grad[kEntryAb] = (kPi - t) / (2.0 * kPi);
  jet.grad[kEntryAa] = rb * s / (4.0 * kPi * ra);
  jet.grad[kEntryBb] = ra * s / (4.0 * kPi * rb);
  if (s <= 1e-12) {
    for (auto& row : jet.hess) row.fill(kNaN);
    return jet;
  }
  auto& h = jet.hess;
  h[kEntryAb][kEntryAb] = 1.0 / (2.0 * kPi * norm * s);
  h[kEntryAa][kEntryAb] = h[kEntryAb][kEntryAa] = -c / (4.0 * kPi * kaa * s);
  h[kEntryBb][kEntryAb] = h[kEntryAb][kEntryBb] = -c / (4.0 * kPi * kbb * s);
  const double cos2t = 2.0 * c * c - 1.0;
  h[kEntryAa][kEntryAa] = rb * cos2t / (8.0 * kPi * kaa * ra * s);
  h[kEntryBb][kEntryBb] = ra * cos2t / (8.0 * kPi * kbb * rb * s);
  h[kEntryAa][kEntryBb] = h[kEntryBb][kEntryAa] = 1.0 / (8.0 * kPi * norm * s);
  return jet;
}

}  // namespace

double ActivationDerivative(Activation activation, int k, double x) {
  if (k == 0) return ActivationValue(activation, x);
  switch (activation) {
    case Activation::kIdentity:
      return k == 1 ? 1.0 : 0.0;
    case Activation::kRelu:
      return k == 1 ? (x > 0.0 ? 1.0 : 0.0) : 0.0;
    case Activation::kErf: {
      // erf' = (2/sqrt(pi)) e^{-x^2} times 1, -2x, 4x^2 - 2, 12x - 8x^3.
      const double e = 2.0 / std::sqrt(kPi) * std::exp(-x * x);
      const double poly[] = {1.0, -2.0 * x, 4.0 * x * x - 2.0,
                             12.0 * x - 8.0 * x * x * x};
      return e * poly[k - 1];
    }
    case Activation::kTanh: {
      const double t = std::tanh(x), s = 1.0 - t * t;
      const double d[] = {s, -2.0 * t * s, s * (6.0 * t * t - 2.0),
                          8.0 * t * s * (2.0 - 3.0 * t * t)};
      return d[k - 1];
    }
    case Activation::kSigmoid:
    case Activation::kSoftplus: {
      // softplus^(k) = sigmoid^(k-1).
      const int order = activation == Activation::kSoftplus ? k - 1 : k;
      const double s = ActivationValue(Activation::kSigmoid, x);
      if (order == 0) return s;
      const double q = s * (1.0 - s);
      const double d[] = {
          q, q * (1.0 - 2.0 * s), q * (1.0 - 6.0 * s + 6.0 * s * s),
          q * (1.0 - 2.0 * s) * (1.0 - 12.0 * s + 12.0 * s * s)};
      return d[order - 1];
    }
    case Activation::kGelu: {
      // (x Phi(x))' = Phi + x phi; then phi times (2 - x^2), (x^3 - 4x),
      // (-x^4 + 7x^2 - 4).
      const double phi = std::exp(-0.5 * x * x) / std::sqrt(2.0 * kPi);
      if (k == 1) return 0.5 * std::erfc(-x / std::numbers::sqrt2) + x * phi;
      const double x2 = x * x;
      const double poly[] = {2.0 - x2, x * x2 - 4.0 * x,
                             -x2 * x2 + 7.0 * x2 - 4.0};
      return phi * poly[k - 2];
    }
    case Activation::kSin: {
      const double d[] = {std::cos(x), -std::sin(x), -std::cos(x), std::sin(x)};
      return d[k - 1];
    }
    case Activation::kCos: {
      const double d[] = {-std::sin(x), -std::cos(x), std::sin(x), std::cos(x)};
      return d[k - 1];
    }
  }
  return kNaN;
}

PairMomentJet PairMomentDerivatives(Activation activation, double kaa,
                                    double kbb, double kab) {
  if (activation == Activation::kRelu) return ReluJet(kaa, kbb, kab);
  PairMomentJet jet;
  jet.value = PairMoment(activation, kaa, kbb, kab);
  if (activation == Activation::kIdentity) {
    jet.grad[kEntryAb] = 1.0;
    return jet;
  }
  const auto e = CrossExpectations(activation, kaa, kbb, kab);
  auto& h = jet.hess;
  jet.grad[kEntryAb] = e[1][1];
  jet.grad[kEntryAa] = 0.5 * e[2][0];
  jet.grad[kEntryBb] = 0.5 * e[0][2];
  h[kEntryAb][kEntryAb] = e[2][2];
  h[kEntryAa][kEntryAb] = h[kEntryAb][kEntryAa] = 0.5 * e[3][1];
  h[kEntryBb][kEntryAb] = h[kEntryAb][kEntryBb] = 0.5 * e[1][3];
  h[kEntryAa][kEntryAa] = 0.25 * e[4][0];
  h[kEntryBb][kEntryBb] = 0.25 * e[0][4];
  h[kEntryAa][kEntryBb] = h[kEntryBb][kEntryAa] = 0.25 * e[2][2];
  return jet;
}

DiagonalMomentJet DiagonalMomentDerivatives(Activation activation, double k) {
  DiagonalMomentJet jet;
  jet.value = PairMoment(activation, k, k, k);
  switch (activation) {
    case Activation::kIdentity:
      jet.first = 1.0;
      return jet;
    case Activation::kRelu:
      jet.first = 0.5;
      return jet;
    default:
      break;
  }
  const int n = NodesForVariance(k);
  const QuadratureRule& rule = GaussHermite(n);
  const double sk = std::sqrt(std::max(k, 0.0));
  for (int i = 0; i < n; ++i) {
    const auto d = Derivatives(activation, sk * rule.nodes[i]);
    const double w = rule.weights[i];
    jet.first += w * (d[1] * d[1] + d[0] * d[2]);
    jet.second +=
        w * 0.25 * (2.0 * d[0] * d[4] + 8.0 * d[1] * d[3] + 6.0 * d[2] * d[2]);
  }
  return jet;
}

}  // namespace nnft::theory
