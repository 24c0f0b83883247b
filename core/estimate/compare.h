// Monte Carlo against exact theory: per-entry z-scores
// z = (MC - exact) / stderr and chi^2 per degree of freedom over the entries
// where the estimate and the exact value are finite and the standard error is
// finite and positive.
//
// chi^2 = sum z^2 treats the entries as independent. Correlators at shared
// points come from the same networks and are correlated, so chi^2/dof is a
// summary, not a calibrated goodness-of-fit test: its expectation is still 1
// when every z has unit variance, but its spread is wider than chi^2_dof/dof.
#ifndef NNFT_CORE_ESTIMATE_COMPARE_H_
#define NNFT_CORE_ESTIMATE_COMPARE_H_

#include <vector>

namespace nnft {

struct Comparison {
  std::vector<double> z;  // NaN where no exact value or no error
  double chi2 = 0.0;
  int dof = 0;                // entries counted
  double chi2_per_dof = 0.0;  // NaN when dof == 0
  double max_abs_z = 0.0;     // NaN when dof == 0
};

// The three vectors must have equal lengths (aborts otherwise: a programming
// error). NaN for "no value" makes every comparison against it fail, so a
// test cannot pass by comparing nothing.
Comparison Compare(const std::vector<double>& estimate,
                   const std::vector<double>& stderr_estimate,
                   const std::vector<double>& exact);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_COMPARE_H_
