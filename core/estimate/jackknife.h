// Delete-one-bin jackknife of any smooth function of the mean moments, for
// the analyses built on top of the correlators (conformal push, reflection
// positivity eigenvalues). Same estimator as MomentAccumulator's connected
// parts (estimate.h): for unequal bins (Busing, Meijer and van der Leeden,
// Stat. Comput. 9 (1999) 3), with h_b = N / n_b,
//   pseudo_b = h_b f - (h_b - 1) f_(-b),  f_J = B f - sum_b (1 - w_b) f_(-b),
//   se^2 = (1/B) sum_b (pseudo_b - f_J)^2 / (h_b - 1).
// Cost: B + 1 evaluations of f.
#ifndef NNFT_CORE_ESTIMATE_JACKKNIFE_H_
#define NNFT_CORE_ESTIMATE_JACKKNIFE_H_

#include <functional>
#include <vector>

#include "core/estimate/estimate.h"

namespace nnft {

struct JackknifeResult {
  std::vector<double> value;         // f(full-sample means)
  std::vector<double> stderr_value;  // NaN with fewer than 2 bins
};

// `f` maps the mean of every closure tuple (total / networks) to a vector of
// fixed length. Every value is NaN when `sums` holds no network.
JackknifeResult Jackknife(
    const BinnedSums& sums,
    const std::function<std::vector<double>(const std::vector<double>&)>& f);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_JACKKNIFE_H_
