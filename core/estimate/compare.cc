// Monte Carlo against exact values: z-scores and chi^2 per degree of freedom.
#include "core/estimate/compare.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace nnft {

Comparison Compare(const std::vector<double>& estimate,
                   const std::vector<double>& stderr_estimate,
                   const std::vector<double>& exact) {
  if (estimate.size() != stderr_estimate.size() ||
      estimate.size() != exact.size()) {
    std::fprintf(stderr, "nnft: Compare: sizes differ (%zu, %zu, %zu)\n",
                 estimate.size(), stderr_estimate.size(), exact.size());
    std::abort();
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Comparison c;
  c.z.assign(estimate.size(), kNaN);
  for (size_t i = 0; i < estimate.size(); ++i) {
    const double se = stderr_estimate[i];
    if (!std::isfinite(exact[i]) || !std::isfinite(estimate[i]) ||
        !std::isfinite(se) || !(se > 0.0)) {
      continue;
    }
    const double z = (estimate[i] - exact[i]) / se;
    c.z[i] = z;
    c.chi2 += z * z;
    c.max_abs_z = std::fmax(c.max_abs_z, std::fabs(z));
    ++c.dof;
  }
  if (c.dof == 0) {
    c.chi2_per_dof = kNaN;
    c.max_abs_z = kNaN;
  } else {
    c.chi2_per_dof = c.chi2 / c.dof;
  }
  return c;
}

}  // namespace nnft
