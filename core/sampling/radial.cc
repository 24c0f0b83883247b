// Tabulated inverse CDF of the deformed radial law; see radial.h.
#include "core/sampling/radial.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/theory/quadrature.h"

namespace nnft {
namespace {

constexpr int kCells = 16384;
constexpr double kLogDrop = 60.0;

// Mass of a cell of width h whose log density runs linearly from a to b:
// h e^a (e^(b-a) - 1)/(b - a).
double CellMass(double h, double a, double b) {
  const double delta = b - a;
  if (std::abs(delta) < 1e-12) return h * std::exp(0.5 * (a + b));
  return h * std::exp(a) * std::expm1(delta) / delta;
}

}  // namespace

RadialLaw::RadialLaw(int64_t dim, double s, double lambda)
    : dim_(dim), s_(s), lambda_(lambda) {
  assert(dim >= 1 && s > 0 && lambda >= 0);
  const double dm1 = static_cast<double>(dim - 1);
  const double inv_s2 = 1.0 / (s * s);
  // Mode of log f: (D-1)/r - 2r/s^2 - 4 lambda r^3 = 0, rationalised so it
  // holds at lambda = 0 without cancellation.
  const double y =
      2 * dm1 /
      (2 * inv_s2 + std::sqrt(4 * inv_s2 * inv_s2 + 16 * lambda * dm1));
  mode_ = std::sqrt(y);
  const double curvature =
      (dim > 1 ? dm1 / y : 0.0) + 2 * inv_s2 + 12 * lambda * y;
  const double sigma = 1.0 / std::sqrt(curvature);
  // Walk out from the mode until log f has dropped by kLogDrop (unimodal).
  double step = sigma;
  hi_ = mode_ + step;
  while (LogDensity(hi_) > -kLogDrop) hi_ = mode_ + (step *= 2);
  lo_ = mode_;
  step = sigma;
  while (lo_ > 0 && LogDensity(lo_) > -kLogDrop) {
    lo_ = std::max(0.0, mode_ - step);
    step *= 2;
  }
  h_ = (hi_ - lo_) / kCells;
  log_f_.resize(kCells + 1);
  for (int j = 0; j <= kCells; ++j) log_f_[j] = LogDensity(lo_ + j * h_);
  cdf_.assign(kCells + 1, 0.0);
  for (int j = 0; j < kCells; ++j) {
    // A first cell starting at r = 0 (D >= 2, density 0 there): the density
    // is ~ r^(D-1) in it, mass h f(h) / D.
    cdf_[j + 1] = cdf_[j] + (std::isinf(log_f_[j])
                                 ? h_ * std::exp(log_f_[j + 1]) / double(dim_)
                                 : CellMass(h_, log_f_[j], log_f_[j + 1]));
  }
}

double RadialLaw::LogDensity(double r) const {
  const double inv_s2 = 1.0 / (s_ * s_);
  auto g = [&](double x) {
    const double x2 = x * x;
    const double log_term =
        dim_ > 1 ? static_cast<double>(dim_ - 1) * std::log(x) : 0.0;
    return log_term - x2 * inv_s2 - lambda_ * x2 * x2;
  };
  if (r <= 0) return dim_ > 1 ? -INFINITY : g(0.0) - g(mode_);
  return g(r) - g(mode_);
}

double RadialLaw::Sample(double u) const {
  const double target = u * cdf_[kCells];
  int j = static_cast<int>(std::upper_bound(cdf_.begin(), cdf_.end(), target) -
                           cdf_.begin()) -
          1;
  j = std::clamp(j, 0, kCells - 1);
  const double mass = cdf_[j + 1] - cdf_[j];
  if (!(mass > 0)) return lo_ + (j + 0.5) * h_;
  const double q = std::clamp((target - cdf_[j]) / mass, 0.0, 1.0);
  if (std::isinf(log_f_[j])) {
    return lo_ + h_ * std::pow(q, 1.0 / double(dim_));  // the r^(D-1) cell
  }
  const double delta = log_f_[j + 1] - log_f_[j];
  // Solve (e^(delta t) - 1)/(e^delta - 1) = q for t in [0, 1].
  const double t =
      std::abs(delta) < 1e-12 ? q : std::log1p(q * std::expm1(delta)) / delta;
  return lo_ + (j + std::clamp(t, 0.0, 1.0)) * h_;
}

RadialLaw::RadialMoments RadialLaw::Moments() const {
  auto moment = [&](int power) {
    return theory::CompositeGaussLegendre(
        [&](double r) {
          const double f = r > 0 || dim_ == 1 ? std::exp(LogDensity(r)) : 0.0;
          return std::pow(r, power) * f;
        },
        lo_, hi_, 400, 20);
  };
  const double z = moment(0);
  return {.r2 = moment(2) / z, .r4 = moment(4) / z};
}

}  // namespace nnft
