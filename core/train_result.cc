// Training flow from the virtual-point estimate (train_result.h). Walks the
// requested tuples in the order TrainingObservables lists them.
#include "core/train_result.h"

#include <cmath>
#include <limits>

#include "core/train.h"

namespace nnft {

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
  return flow;
}

}  // namespace nnft
