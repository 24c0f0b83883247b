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

namespace {

// The Gauss-net's log-normal hidden units (header).
void FlagUnreachedGaussNetTails(const GaussNetSpec& net,
                                const ExperimentSpec& spec,
                                CorrelatorEstimate& est) {
  const double draws = static_cast<double>(est.networks) * net.width;
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
        t, tail, est.networks, net.width);
  }
}

// The Gaussian limit's skewness of a connected part's estimator (header).
void FlagSkewedConnectedParts(CorrelatorEstimate& est) {
  const double m = static_cast<double>(est.networks);
  for (size_t i = 0; i < est.tuples.size() && i < est.reliability.size(); ++i) {
    EntryReliability& r = est.reliability[i];
    if (r.verdict != Verdict::kOk && r.verdict != Verdict::kFewBins) continue;
    if (!std::isfinite(r.wick_skewness)) continue;
    const double gamma = r.wick_skewness / std::sqrt(m);
    const double loss = kSkewCoverageLossPerGamma2 * gamma * gamma;
    if (loss <= kMaxSkewCoverageLoss) continue;
    const double needed = kSkewCoverageLossPerGamma2 * r.wick_skewness *
                          r.wick_skewness / kMaxSkewCoverageLoss;
    r.verdict = Verdict::kHeavyTailed;
    r.reason = absl::StrFormat(
        "order-%d connected part: one network's contribution has skewness "
        "%.1f in the Gaussian limit, so over %d networks the estimate's is "
        "%.2f and its 95%% intervals cover about %.0f%% (Edgeworth); about "
        "%.0f networks bring that to %.0f%%, or set "
        "sampling.integrate_output_layer",
        static_cast<int>(est.tuples[i].size()), r.wick_skewness, est.networks,
        gamma, 100.0 * (0.95 - loss), std::ceil(needed),
        100.0 * (0.95 - kMaxSkewCoverageLoss));
  }
}

}  // namespace

void FlagUnreachedTails(const ExperimentSpec& spec, CorrelatorEstimate& est) {
  if (est.networks <= 0) return;
  if (const auto* net = std::get_if<GaussNetSpec>(&spec.architecture)) {
    FlagUnreachedGaussNetTails(*net, spec, est);
  }
  // With the output layer integrated each network contributes the Gaussian
  // moments given its hidden layer, not a product of outputs; reweighted
  // ratios have their own jackknife. Neither is the Wick product.
  if (!spec.sampling.integrate_output_layer && !est.reweight.has_value()) {
    FlagSkewedConnectedParts(est);
  }
  FlagSiblingsOfHeavyTails(est);
}

}  // namespace nnft
