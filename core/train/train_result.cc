// Training flow from the virtual-point estimate (train_result.h). Walks the
// requested tuples in the order TrainingObservables lists them.
#include "core/train/train_result.h"

#include <cmath>
#include <iterator>
#include <limits>

#include "core/train/train.h"

namespace nnft {

double LossHistogramQuantile(const std::vector<int64_t>& slots,
                             const std::vector<double>& edges, double level) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  int64_t total = 0;
  for (int64_t c : slots) total += c;
  const int bins = static_cast<int>(edges.size()) - 1;
  if (total == 0 || static_cast<int>(slots.size()) != bins + 2) return kNan;
  const double target = level * static_cast<double>(total);
  double below = static_cast<double>(slots[0]);  // networks under slot s
  if (target < below) return kNan;               // in the underflow
  for (int k = 0; k < bins; ++k) {
    const double count = static_cast<double>(slots[k + 1]);
    if (count > 0 && target <= below + count) {
      const double f = (target - below) / count;
      return edges[k] * std::pow(edges[k + 1] / edges[k], f);
    }
    below += count;
  }
  return kNan;  // in the overflow
}

namespace {

// Reads the histogram singletons (mean = count / networks, exact) into the
// rows, from entry e on.
void ReadLossHistograms(const ExperimentSpec& spec,
                        const TrainingLayout& layout,
                        const CorrelatorEstimate& estimate, size_t e,
                        TrainingFlow& flow) {
  const size_t needed = flow.times.size() * layout.histogram_slots;
  if (layout.histogram_slots == 0 || e + needed > estimate.mean.size()) return;
  flow.loss_histogram_edges = spec.training->loss_histogram->Edges();
  flow.loss_quantile_levels.assign(std::begin(kLossQuantileLevels),
                                   std::end(kLossQuantileLevels));
  const double n = static_cast<double>(estimate.networks);
  for (TrainingTimeEstimate& r : flow.times) {
    r.loss_histogram.resize(layout.histogram_slots);
    for (int64_t& count : r.loss_histogram) {
      count = std::llround(estimate.mean[e++] * n);
    }
    for (double level : flow.loss_quantile_levels) {
      r.loss_quantiles.push_back(LossHistogramQuantile(
          r.loss_histogram, flow.loss_histogram_edges, level));
    }
  }
}

}  // namespace

TrainingFlow MakeTrainingFlow(const ExperimentSpec& spec,
                              const CorrelatorEstimate& estimate,
                              const theory::FlowTheory* theory) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  const TrainingLayout layout = MakeTrainingLayout(spec);
  const int num = layout.num_points;
  TrainingFlow flow;
  flow.networks = estimate.networks;
  if (theory) flow.theory_method = theory->method;
  size_t e = 0;  // next requested entry
  const auto ok = [&] { return e < estimate.mean.size(); };
  for (int i = 0; i < layout.num_times && ok(); ++i) {
    TrainingTimeEstimate r;
    r.t = spec.training->times[i];
    r.mu.resize(num);
    r.mu_stderr.resize(num);
    r.sigma.resize(num, num);
    r.sigma_stderr.resize(num, num);
    for (int p = 0; p < num; ++p, ++e) {
      r.mu(p) = estimate.mean[e];
      r.mu_stderr(p) = estimate.stderr_mean[e];
    }
    for (int p = 0; p < num; ++p) {
      for (int q = p; q < num; ++q, ++e) {
        r.sigma(p, q) = r.sigma(q, p) = estimate.connected[e];
        r.sigma_stderr(p, q) = r.sigma_stderr(q, p) =
            estimate.stderr_connected[e];
      }
    }
    r.loss_mean = estimate.mean[e];
    r.loss_stderr = estimate.stderr_mean[e++];
    r.loss_std = std::sqrt(std::max(estimate.connected[e++], 0.0));
    if (theory) {
      r.mu_theory = theory->mean[i];
      r.sigma_theory = theory->cov[i];
    } else {
      r.mu_theory = Eigen::VectorXd::Constant(num, kNan);
      r.sigma_theory = Eigen::MatrixXd::Constant(num, num, kNan);
    }
    flow.times.push_back(std::move(r));
  }
  if (layout.ntk && ok()) {
    flow.ntk_mean.resize(num, num);
    flow.ntk_stderr.resize(num, num);
    flow.ntk_std.resize(num, num);
    for (int p = 0; p < num; ++p) {
      for (int q = p; q < num; ++q) {
        flow.ntk_mean(p, q) = flow.ntk_mean(q, p) = estimate.mean[e];
        flow.ntk_stderr(p, q) = flow.ntk_stderr(q, p) =
            estimate.stderr_mean[e++];
        flow.ntk_std(p, q) = flow.ntk_std(q, p) =
            std::sqrt(std::max(estimate.connected[e++], 0.0));
      }
    }
    flow.ntk_theory =
        theory ? theory->tangent : Eigen::MatrixXd::Constant(num, num, kNan);
  }
  if (flow.times.size() == static_cast<size_t>(layout.num_times)) {
    ReadLossHistograms(spec, layout, estimate, e, flow);
  }
  return flow;
}

}  // namespace nnft
