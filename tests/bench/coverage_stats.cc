#include "tests/bench/coverage_stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/estimate/reliability.h"

namespace nnft::coverage {

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Regularised upper incomplete gamma Q(a, x): the series of P for x < a + 1,
// the Lentz continued fraction of Q otherwise (Numerical Recipes, 3rd ed.,
// section 6.2); both converge to 1e-15 in at most a few hundred terms for the
// a <= a few hundred used here.
double ChiSquareSurvival(double x, int dof) {
  assert(dof >= 1);
  if (!(x > 0)) return 1.0;
  const double a = 0.5 * dof, y = 0.5 * x;
  const double log_prefactor = a * std::log(y) - y - std::lgamma(a);
  if (y < a + 1) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 1000 && std::abs(term) > 1e-16 * sum; ++n) {
      term *= y / (a + n);
      sum += term;
    }
    return std::max(0.0, 1.0 - sum * std::exp(log_prefactor));
  }
  constexpr double kTiny = 1e-300;
  double b = y + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < 1e-16) break;
  }
  return std::exp(log_prefactor) * h;
}

double ReferenceCdf(double x, Reference reference, int dof) {
  switch (reference) {
    case Reference::kNormal:
      return NormalCdf(x);
    case Reference::kStudentT:
      return StudentTCdf(x, dof);
    case Reference::kUniform:
      return std::clamp(x, 0.0, 1.0);
  }
  return 0.0;
}

double KsStatistic(std::vector<double> values,
                   const std::function<double(double)>& cdf) {
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  double d = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double f = cdf(values[i]);
    d = std::max({d, (i + 1) / n - f, f - i / n});
  }
  return d;
}

// Q_KS(l) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 l^2); 1 for small l.
double KsPValue(double d, int n) {
  if (n < 1) return std::nan("");
  const double sn = std::sqrt(static_cast<double>(n));
  const double l = (sn + 0.12 + 0.11 / sn) * d;
  if (l < 0.2) return 1.0;
  double sum = 0, sign = 1;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::exp(-2.0 * j * j * l * l);
    sum += sign * term;
    sign = -sign;
    if (term < 1e-16) break;
  }
  return std::clamp(2 * sum, 0.0, 1.0);
}

namespace {

// |z| of N(0, 1) whose two-sided tail is p: the fractions "within k sigma"
// of p-values use the same levels as those of z-scores.
constexpr double kTwoSided[3] = {0.31731050786291415, 0.04550026389635842,
                                 0.0026997960632601866};

// P(|T| < 2) under the reference.
double Expected2(Reference reference, int dof) {
  if (reference == Reference::kStudentT) {
    return 2 * StudentTCdf(2.0, dof) - 1;
  }
  return 1 - kTwoSided[1];
}

}  // namespace

Summary Summarise(const std::vector<Sample>& samples, Reference reference,
                  int dof) {
  Summary s;
  std::vector<double> values;
  int in[3] = {0, 0, 0}, flagged = 0;
  double sum = 0, sq = 0;
  for (const Sample& x : samples) {
    if (!std::isfinite(x.value)) continue;
    values.push_back(x.value);
    sum += x.value;
    sq += x.value * x.value;
    flagged += x.flagged;
    for (int k = 0; k < 3; ++k) {
      in[k] += reference == Reference::kUniform ? x.value > kTwoSided[k]
                                                : std::abs(x.value) < k + 1;
    }
    const bool miss = reference == Reference::kUniform ? x.value <= kTwoSided[2]
                                                       : std::abs(x.value) >= 3;
    s.misses3 += miss;
    s.misses3_flagged += miss && x.flagged;
  }
  s.k = static_cast<int>(values.size());
  if (s.k == 0) return s;
  const double k = s.k;
  s.within1 = in[0] / k, s.within2 = in[1] / k, s.within3 = in[2] / k;
  s.expected2 = Expected2(reference, dof);
  s.binomial_sd2 = std::sqrt(s.expected2 * (1 - s.expected2) / k);
  s.mean = sum / k;
  s.sd = s.k > 1
             ? std::sqrt(std::max(0.0, (sq - k * s.mean * s.mean) / (k - 1)))
             : 0.0;
  s.ks_d = KsStatistic(
      values, [&](double x) { return ReferenceCdf(x, reference, dof); });
  s.ks_p = KsPValue(s.ks_d, s.k);
  s.flagged_share = flagged / k;
  const double dev = (s.within2 - s.expected2) / s.binomial_sd2;
  s.calibration = dev < -3 ? "LOW" : dev > 3 ? "HIGH" : "OK";
  // A miscalibrated family whose every entry carries a non-OK verdict is
  // flagged where it is read, which is what the verdicts promise.
  if (dev < -3 && flagged == s.k) s.calibration += ", all flagged";
  return s;
}

}  // namespace nnft::coverage
