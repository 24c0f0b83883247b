// Per-entry reliability diagnostics; formulas and thresholds in reliability.h.
#include "core/estimate/reliability.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_format.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of the regularised incomplete beta function (modified
// Lentz), converging for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < kEps) break;
  }
  return h;
}

// Regularised incomplete beta I_x(a, b), x in [0, 1].
double IncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) -
                           std::lgamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) {
    return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  }
  return 1.0 - std::exp(log_front) * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

// The same quantities at the dof of the last call on this thread. Every
// entry of one estimate has the same dof, and a quantile costs about 40
// incomplete-beta evaluations: computed per entry they dominated
// MomentAccumulator::Finish (4012 entries, folded every 250 ms while a job
// runs).
struct DofCache {
  int dof = -1;
  double t95 = kNaN;  // StudentTQuantile(0.975, dof)
  double p3 = kNaN;   // P(|t| > 3) = 2 StudentTCdf(-3, dof)
};

const DofCache& CachedForDof(int dof) {
  thread_local DofCache cache;
  if (cache.dof != dof) {
    cache.dof = dof;
    cache.t95 = StudentTQuantile(0.975, dof);
    cache.p3 = 2.0 * StudentTCdf(-3.0, dof);
  }
  return cache;
}

// perm of the k x k submatrix cov[rows][cols] (n x n row-major), k <= 6,
// by Ryser's formula: (-1)^k sum over column subsets S of
// (-1)^|S| prod_i sum_{j in S} a_ij (2^k k^2 operations).
double Permanent(const std::vector<double>& cov, int n, const int* rows,
                 const int* cols, int k) {
  double sum = 0;
  for (int subset = 1; subset < (1 << k); ++subset) {
    double product = 1;
    for (int i = 0; i < k; ++i) {
      double row = 0;
      for (int j = 0; j < k; ++j) {
        if (subset & (1 << j)) row += cov[rows[i] * n + cols[j]];
      }
      product *= row;
    }
    sum += (__builtin_popcount(subset) % 2 == k % 2) ? product : -product;
  }
  return sum;
}

// Permanent above for k <= 3, written out.
double SmallPermanent(const std::vector<double>& cov, int n, const int* r,
                      const int* c, int k) {
  const auto a = [&](int i, int j) { return cov[r[i] * n + c[j]]; };
  switch (k) {
    case 1:
      return a(0, 0);
    case 2:
      return a(0, 0) * a(1, 1) + a(0, 1) * a(1, 0);
    case 3:
      return a(0, 0) * (a(1, 1) * a(2, 2) + a(1, 2) * a(2, 1)) +
             a(0, 1) * (a(1, 0) * a(2, 2) + a(1, 2) * a(2, 0)) +
             a(0, 2) * (a(1, 0) * a(2, 1) + a(1, 1) * a(2, 0));
    default:
      return Permanent(cov, n, r, c, k);
  }
}

// The slots in `mask` (ascending) into `slots`; returns their count.
int SlotsOf(int mask, int n, int* slots) {
  int k = 0;
  for (int s = 0; s < n; ++s) {
    if (mask & (1 << s)) slots[k++] = s;
  }
  return k;
}

}  // namespace

double WickProductSkewness(const std::vector<double>& cov, int n) {
  if (n < 2 || n > 6 || n % 2 != 0 ||
      cov.size() != static_cast<size_t>(n) * n) {
    return kNaN;
  }
  const int full = (1 << n) - 1;
  int all[6];
  SlotsOf(full, n, all);
  const double second = Permanent(cov, n, all, all, n);
  if (!(second > 0) || !std::isfinite(second)) return kNaN;
  // Copies A, B, C of the n legs: A's half `a` joins B's half `b`, A's other
  // half joins C's half `c`, B's other half joins C's other half.
  std::vector<int> halves;
  for (int mask = 0; mask <= full; ++mask) {
    if (__builtin_popcount(mask) == n / 2) halves.push_back(mask);
  }
  const int h = static_cast<int>(halves.size());  // C(n, n/2) <= 20
  std::vector<int> complement(h);                 // index of full ^ halves[i]
  for (int i = 0; i < h; ++i) {
    complement[i] = static_cast<int>(
        std::find(halves.begin(), halves.end(), full ^ halves[i]) -
        halves.begin());
  }
  // perm(C[halves[i]][halves[j]]), symmetric since C is.
  std::vector<double> perm(h * h);
  int x_slots[3], y_slots[3];
  for (int i = 0; i < h; ++i) {
    SlotsOf(halves[i], n, x_slots);
    for (int j = 0; j <= i; ++j) {
      SlotsOf(halves[j], n, y_slots);
      perm[i * h + j] = perm[j * h + i] =
          SmallPermanent(cov, n, x_slots, y_slots, n / 2);
    }
  }
  double third = 0;
  for (int a = 0; a < h; ++a) {
    const double* rest_a = &perm[complement[a] * h];
    for (int b = 0; b < h; ++b) {
      const double* rest_b = &perm[complement[b] * h];
      double sum_c = 0;
      for (int c = 0; c < h; ++c) sum_c += rest_a[c] * rest_b[complement[c]];
      third += perm[a * h + b] * sum_c;
    }
  }
  return third / std::pow(second, 1.5);
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kFewBins:
      return "FEW_BINS";
    case Verdict::kHeavyTailed:
      return "HEAVY_TAILED";
    case Verdict::kNoError:
      return "NO_ERROR";
  }
  return "UNKNOWN";
}

double StudentTCdf(double t, int dof) {
  if (std::isnan(t) || dof < 1) return kNaN;
  const double nu = dof;
  const double tail = 0.5 * IncompleteBeta(nu / 2.0, 0.5, nu / (nu + t * t));
  return t > 0 ? 1.0 - tail : tail;
}

double FSurvival(double f, int d1, int d2) {
  if (std::isnan(f) || d1 < 1 || d2 < 1) return kNaN;
  if (f <= 0.0) return 1.0;
  const double a = d1, b = d2;
  return IncompleteBeta(b / 2.0, a / 2.0, b / (b + a * f));
}

double StudentTQuantile(double q, int dof) {
  if (!(q > 0.0 && q < 1.0) || dof < 1) return kNaN;
  double lo = -1.0, hi = 1.0;
  while (StudentTCdf(lo, dof) > q) lo *= 2.0;
  while (StudentTCdf(hi, dof) < q) hi *= 2.0;
  while (hi - lo > 1e-10 * std::max(1.0, std::abs(hi))) {
    const double mid = 0.5 * (lo + hi);
    (StudentTCdf(mid, dof) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

EntryReliability AssessBins(const std::vector<double>& values,
                            const std::vector<double>& weights) {
  if (values.size() != weights.size()) {
    std::fprintf(stderr, "nnft: AssessBins: %zu values, %zu weights\n",
                 values.size(), weights.size());
    std::abort();
  }
  EntryReliability out;
  const int bins = static_cast<int>(values.size());
  out.dof = std::max(bins - 1, 0);
  if (bins < 2) {
    out.reason = absl::StrFormat("%d bin(s): no error bar", bins);
    return out;
  }
  out.t95 = CachedForDof(out.dof).t95;
  double mean = 0.0;
  for (int b = 0; b < bins; ++b) mean += weights[b] * values[b];
  double m2 = 0.0, m3 = 0.0, m4 = 0.0, abs_sum = 0.0, abs_max = 0.0;
  for (int b = 0; b < bins; ++b) {
    const double d = values[b] - mean;
    m2 += weights[b] * d * d;
    m3 += weights[b] * d * d * d;
    m4 += weights[b] * d * d * d * d;
    abs_sum += weights[b] * std::abs(d);
    abs_max = std::max(abs_max, weights[b] * std::abs(d));
  }
  if (!(m2 > 0.0) || !std::isfinite(m2)) {
    out.reason = "no spread between bins: no error bar";
    return out;
  }
  out.skewness_z = m3 / std::pow(m2, 1.5) / std::sqrt(6.0 / bins);
  out.kurtosis_z = (m4 / (m2 * m2) - 3.0) / std::sqrt(24.0 / bins);
  out.max_bin_share = abs_max / abs_sum;
  if (std::abs(out.skewness_z) > kMaxSkewnessZ ||
      out.kurtosis_z > kMaxKurtosisZ || out.max_bin_share > kMaxBinShare) {
    out.verdict = Verdict::kHeavyTailed;
    out.reason = absl::StrFormat(
        "bin means not Gaussian (skewness %.1f sd, kurtosis %.1f sd, largest "
        "bin %.0f%% of the spread): rare networks dominate, the error is "
        "likely underestimated",
        out.skewness_z, out.kurtosis_z, 100.0 * out.max_bin_share);
    return out;
  }
  if (bins < kMinBins) {
    out.verdict = Verdict::kFewBins;
    const double p3 = CachedForDof(out.dof).p3;
    out.reason = absl::StrFormat(
        "%d bins: z follows Student-t with %d dof (P(|z| > 3) = %.4f, "
        "normal 0.0027; 95%% interval +-%.2f stderr)",
        bins, out.dof, p3, out.t95);
    return out;
  }
  out.verdict = Verdict::kOk;
  return out;
}

}  // namespace nnft
