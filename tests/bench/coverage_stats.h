// Statistics of a coverage study (nnft-coverage): K independent z-scores (or
// chi-square p-values) of one estimator family against exact values, reduced
// to the fractions within 1, 2 and 3 standard errors, the mean and spread of
// z, and a Kolmogorov-Smirnov test against the distribution the error bars
// promise: N(0, 1), Student-t(dof) when the errors come from few bins, or
// Uniform(0, 1) for the p-values of chi-square statistics.
#ifndef NNFT_TESTS_BENCH_COVERAGE_STATS_H_
#define NNFT_TESTS_BENCH_COVERAGE_STATS_H_

#include <functional>
#include <string>
#include <vector>

namespace nnft::coverage {

// What a family's samples are and what they should follow.
enum class Reference {
  kNormal,    // z-scores, N(0, 1)
  kStudentT,  // z-scores, Student-t with `dof` degrees of freedom
  kUniform,   // p-values of chi-square statistics, Uniform(0, 1)
};

// One seed's entry of one family.
struct Sample {
  double value = 0.0;    // z, or the p-value for kUniform
  bool flagged = false;  // a non-OK reliability verdict on the entry
};

struct Summary {
  int k = 0;  // samples (seeds) with a finite value
  // Fractions of |z| < 1, 2, 3 (for p-values: p > 0.3173, 0.0455, 0.0027,
  // the same two-sided levels of N(0, 1)).
  double within1 = 0, within2 = 0, within3 = 0;
  // What the reference promises for within2, and the binomial spread of
  // within2 over k samples.
  double expected2 = 0, binomial_sd2 = 0;
  double mean = 0, sd = 0;  // of z (of p for kUniform: 0.5, 0.289 ideally)
  double ks_d = 0, ks_p = 0;
  double flagged_share = 0;  // share of samples with a non-OK verdict
  int misses3 = 0;           // |z| >= 3 (p <= 0.0027)
  int misses3_flagged = 0;   // ... of which flagged
  // "OK" when within2 is within 3 binomial spreads of expected2, "LOW"
  // below (errors too small), "HIGH" above (errors too large).
  std::string calibration;
};

Summary Summarise(const std::vector<Sample>& samples, Reference reference,
                  int dof);

double NormalCdf(double z);
// P(X > x) for X ~ chi-square with `dof` >= 1 degrees of freedom
// (regularised upper incomplete gamma Q(dof/2, x/2)).
double ChiSquareSurvival(double x, int dof);
// The CDF of the reference at x.
double ReferenceCdf(double x, Reference reference, int dof);
// Kolmogorov-Smirnov statistic D of `values` (any order) against `cdf`.
double KsStatistic(std::vector<double> values,
                   const std::function<double(double)>& cdf);
// P(D_n >= d) by the asymptotic Kolmogorov law with Stephens' small-sample
// correction, sqrt(n) -> sqrt(n) + 0.12 + 0.11/sqrt(n) (Numerical Recipes,
// 3rd ed., section 14.3.3); good to a few per cent for n >= 5.
double KsPValue(double d, int n);

}  // namespace nnft::coverage

#endif  // NNFT_TESTS_BENCH_COVERAGE_STATS_H_
