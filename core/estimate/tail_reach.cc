#include "core/estimate/tail_reach.h"

#include <cmath>
#include <variant>

#include "absl/strings/str_format.h"

namespace nnft {

double GaussNetVarianceDeviation(const ExperimentSpec& spec,
                                 const Tuple& tuple) {
  const auto* net = std::get_if<GaussNetSpec>(&spec.architecture);
  if (net == nullptr || tuple.empty()) return 0.0;
  const int d = net->input_dim;
  const int d_out = net->field.output_dim;  // slot s = p * d_out + c
  const std::vector<double>& axes = net->field.sw0_axes;
  double sum_sq = 0;  // |sum_k x'_k|^2
  for (int k = 0; k < d; ++k) {
    double s = 0;
    for (int slot : tuple) s += spec.points(slot / d_out, k);
    if (!axes.empty()) s *= axes[k];
    sum_sq += s * s;
  }
  const double n = static_cast<double>(tuple.size());
  double variance = net->sw0 * net->sw0 / d * sum_sq;
  if (!spec.sampling.integrate_first_layer_bias) {
    variance += n * n * net->sb0 * net->sb0;
  }
  return 2.0 * std::sqrt(variance);
}

void FlagUnreachedTails(const ExperimentSpec& spec, CorrelatorEstimate& est) {
  const auto* net = std::get_if<GaussNetSpec>(&spec.architecture);
  if (net == nullptr || est.networks <= 0) return;
  const double draws = static_cast<double>(est.networks) * net->width;
  for (size_t i = 0; i < est.tuples.size() && i < est.reliability.size(); ++i) {
    EntryReliability& r = est.reliability[i];
    if (r.verdict != Verdict::kOk && r.verdict != Verdict::kFewBins) continue;
    const double t = GaussNetVarianceDeviation(spec, est.tuples[i]);
    const double tail = 0.5 * std::erfc(t / std::sqrt(2.0));  // Q(t)
    if (draws * tail >= 1.0) continue;
    r.verdict = Verdict::kHeavyTailed;
    r.reason = absl::StrFormat(
        "log-normal hidden units: this order's variance is set by draws "
        "%.1f standard deviations out (probability %.1e per neuron), which "
        "%d networks x %d neurons have not reached: the error is "
        "underestimated and the mean biased low (integrate_first_layer_bias "
        "removes the biases' share)",
        t, tail, est.networks, net->width);
  }
  FlagSiblingsOfHeavyTails(est);
}

}  // namespace nnft
