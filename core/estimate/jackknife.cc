// Delete-one-bin jackknife over binned moment sums (jackknife.h).
#include "core/estimate/jackknife.h"

#include <cmath>
#include <limits>

namespace nnft {

JackknifeResult Jackknife(
    const BinnedSums& sums,
    const std::function<std::vector<double>(const std::vector<double>&)>& f) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  JackknifeResult out;
  const size_t tuples = sums.total.size();
  const double total_n = static_cast<double>(sums.networks);
  std::vector<double> means(tuples, kNaN);
  if (sums.networks > 0) {
    for (size_t t = 0; t < tuples; ++t) means[t] = sums.total[t] / total_n;
  }
  out.value = f(means);
  out.stderr_value.assign(out.value.size(), kNaN);
  const int num_bins = static_cast<int>(sums.bins.size());
  if (sums.networks == 0 || num_bins < 2) return out;
  std::vector<double> theta_j(out.value.size());
  for (size_t k = 0; k < theta_j.size(); ++k) {
    theta_j[k] = num_bins * out.value[k];
  }
  std::vector<std::vector<double>> deleted(num_bins);
  std::vector<double> w(num_bins);
  for (int b = 0; b < num_bins; ++b) {
    w[b] = static_cast<double>(sums.counts[b]) / total_n;
    const double rest = total_n - static_cast<double>(sums.counts[b]);
    for (size_t t = 0; t < tuples; ++t) {
      means[t] = (sums.total[t] - sums.bins[b][t]) / rest;
    }
    deleted[b] = f(means);
    for (size_t k = 0; k < theta_j.size(); ++k) {
      theta_j[k] -= (1.0 - w[b]) * deleted[b][k];
    }
  }
  for (size_t k = 0; k < out.value.size(); ++k) {
    double var = 0.0;
    for (int b = 0; b < num_bins; ++b) {
      const double h = 1.0 / w[b];
      const double pseudo = h * out.value[k] - (h - 1.0) * deleted[b][k];
      var += (pseudo - theta_j[k]) * (pseudo - theta_j[k]) / (h - 1.0);
    }
    out.stderr_value[k] = std::sqrt(var / num_bins);
  }
  return out;
}

}  // namespace nnft
