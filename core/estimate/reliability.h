// Per-entry reliability of a Monte Carlo estimate: can its standard error be
// trusted, and how should its z-score be read?
//
// A standard error from B bins is honest when the bin means are close to
// Gaussian. Two things break that, and each entry says which:
//  - few bins: z = (estimate - exact) / stderr then follows Student's t with
//    B - 1 degrees of freedom, whose tails are heavier than the normal's
//    (with 16 bins P(|z| > 3) = 0.009, not 0.0027);
//  - heavy tails: an estimator dominated by rare networks (the Gauss-net's
//    log-normal hidden units, large biases) has skewed, outlier-ridden bin
//    means; its error is underestimated and the mean biased towards the
//    typical network at any fixed sample size.
// The diagnostics are the sample skewness g1 and excess kurtosis g2 of the
// (count-weighted) bin means, each standardised by its sampling spread for
// Gaussian bin means (sqrt(6/B), sqrt(24/B)), and the largest share of one
// bin in the total absolute deviation. They detect tails the sample shows; a
// tail no network has reached yet cannot be seen in any data, which is why a
// heavy-tailed verdict is also set when the skewness is large but the
// estimate happens to sit close to its theory.
//
// Cost O(B) per entry.
#ifndef NNFT_CORE_ESTIMATE_RELIABILITY_H_
#define NNFT_CORE_ESTIMATE_RELIABILITY_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace nnft {

enum class Verdict : int {
  kOk = 0,           // Gaussian bin means, enough bins: z reads as N(0, 1)
  kFewBins = 1,      // fewer than kMinBins bins: read z as Student-t(dof)
  kHeavyTailed = 2,  // bin means skewed or outlier-ridden: error too small
  kNoError = 3,      // fewer than 2 bins or no spread: no error bar at all
};

// Short upper-case name of a verdict ("OK", "FEW_BINS", ...).
const char* VerdictName(Verdict verdict);

struct EntryReliability {
  Verdict verdict = Verdict::kNoError;
  int dof = 0;  // B - 1: degrees of freedom of the Student-t reading of z
  // Half-width of the 95% interval in standard errors: the 0.975 quantile of
  // Student-t with `dof` degrees of freedom (1.96 as dof -> infinity).
  double t95 = std::numeric_limits<double>::quiet_NaN();
  // g1 / sqrt(6/B) and g2 / sqrt(24/B) of the bin means: about N(0, 1) for
  // Gaussian bin means, large and positive for heavy upper tails.
  double skewness_z = std::numeric_limits<double>::quiet_NaN();
  double kurtosis_z = std::numeric_limits<double>::quiet_NaN();
  // max_b w_b |m_b - mean| / sum_b w_b |m_b - mean| (about 2.4 / B for
  // Gaussian bin means; 1 when one bin carries every deviation).
  double max_bin_share = std::numeric_limits<double>::quiet_NaN();
  // The skewness of one network's contribution to the connected part of an
  // even order n >= 2 in the Gaussian limit (WickProductSkewness of the
  // entry's estimated covariance); NaN for odd orders, reweighted runs,
  // estimates without the sums, and tuples with a slot met once whose square
  // no entry brings (its variance is not estimated). The estimator's own
  // skewness is this over sqrt(networks) (FlagUnreachedTails reads it).
  double wick_skewness = std::numeric_limits<double>::quiet_NaN();
  std::string reason;  // one line; empty when the verdict is kOk
};

// Thresholds of the verdicts (documented in docs/error_bars.md).
inline constexpr int kMinBins = 24;
inline constexpr double kMaxSkewnessZ = 5.0;
inline constexpr double kMaxKurtosisZ = 8.0;
inline constexpr double kMaxBinShare = 0.3;

// The predicted loss of the 95% interval's coverage (Edgeworth, the
// skewness term of the studentised mean: 2 z phi(z) (z^4 + 2 z^2 - 3) / 18
// gamma^2 at z = 1.96, about 0.247 gamma^2) above which an entry whose
// estimator has skewness gamma is heavy-tailed. The kurtosis term, left out,
// gives some of it back (28% for an order-6 Wick product at one point), so
// the rule errs towards flagging.
inline constexpr double kMaxSkewCoverageLoss = 0.02;
inline constexpr double kSkewCoverageLossPerGamma2 = 0.247;

// The skewness E[W^3] / E[W^2]^(3/2) of the Wick product
// W = :x_1 ... x_n: of a centred Gaussian vector with covariance `cov`
// (n x n row-major over the slots, repeats allowed; n even, 2 <= n <= 6).
// W is the influence function of the joint cumulant kappa(x_1, ..., x_n) at
// a Gaussian: the leading fluctuation of one network's contribution to a
// connected-part estimate near the Gaussian (large-width) limit. Exact sums
// over Wick contractions: E[W^2] = perm(C); E[W^3] sums over the ways to
// split each copy's legs into halves joined to the other two copies (no leg
// contracted within its copy). At one point (every entry of C equal):
// (n!)^3 / ((n/2)!)^3 / (n!)^(3/2): 2.83, 14.7, 89.4 for n = 2, 4, 6 (the
// Hermite polynomials He_n). NaN when E[W^2] <= 0 or n is out of range.
// Cost O(C(n, n/2)^3).
double WickProductSkewness(const std::vector<double>& cov, int n);

// The reliability of a mean estimated from bin means `values` with weights
// `weights` (w_b = n_b / N, summing to 1; equal lengths, else aborts).
EntryReliability AssessBins(const std::vector<double>& values,
                            const std::vector<double>& weights);

// P(T <= t) for Student's t with `dof` >= 1 degrees of freedom.
double StudentTCdf(double t, int dof);

// P(F > f) for Snedecor's F with (d1, d2) >= 1 degrees of freedom:
// I_{d2 / (d2 + d1 f)}(d2/2, d1/2); 1 for f <= 0, NaN for NaN f.
double FSurvival(double f, int d1, int d2);

// The q-quantile (0 < q < 1) of Student's t with `dof` >= 1 degrees of
// freedom (bisection on StudentTCdf, to 1e-10).
double StudentTQuantile(double q, int dof);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_RELIABILITY_H_
