// Monte Carlo against exact theory: per-entry z-scores
// z = (MC - exact) / stderr and chi^2 per degree of freedom over the entries
// where both the exact value and a positive standard error exist.
#ifndef NNFT_CORE_COMPARE_H_
#define NNFT_CORE_COMPARE_H_

#include <vector>

namespace nnft {

struct Comparison {
  std::vector<double> z;  // NaN where no exact value or no error
  double chi2 = 0.0;
  int dof = 0;            // entries counted
  double chi2_per_dof = 0.0;
  double max_abs_z = 0.0;
};

Comparison Compare(const std::vector<double>& estimate,
                   const std::vector<double>& stderr_estimate,
                   const std::vector<double>& exact);

}  // namespace nnft

#endif  // NNFT_CORE_COMPARE_H_
