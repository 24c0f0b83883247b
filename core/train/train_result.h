// The training flow as a physicist reads it: per recorded time, the ensemble
// mean mu_t(x) = E[f_t(x)] and covariance Sigma_t(x, y) at the spec's points
// with standard errors, the training loss (mean, error, spread), and the
// infinite-width prediction beside them; and the empirical NTK at
// initialisation (ensemble mean, error, spread) beside the analytic kernel.
// Built from the moment engine's estimate over the virtual points of
// core/train/train.h: mu from the singletons (errors from bin means), Sigma and
// Var(L) from the connected pairs (delete-one-bin jackknife errors).
#ifndef NNFT_CORE_TRAIN_TRAIN_RESULT_H_
#define NNFT_CORE_TRAIN_TRAIN_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"

namespace nnft {

struct TrainingTimeEstimate {
  double t = 0;  // training time
  double loss_mean = 0, loss_stderr = 0;
  double loss_std = 0;  // spread of the loss over the ensemble
  Eigen::VectorXd mu, mu_stderr, mu_theory;           // P
  Eigen::MatrixXd sigma, sigma_stderr, sigma_theory;  // P x P
  // With a loss histogram (TrainingFlow::loss_histogram_edges): networks per
  // slot (B + 2: underflow, the B bins, overflow), and the loss quantiles at
  // TrainingFlow::loss_quantile_levels (empty without one).
  std::vector<int64_t> loss_histogram;
  std::vector<double> loss_quantiles;
};

// Levels of the reported loss quantiles.
inline constexpr double kLossQuantileLevels[] = {0.05, 0.25, 0.5, 0.75, 0.95};

// Quantile at `level` of the histogram (slots as above, B + 1 edges):
// log-linear inside the bin holding it; NaN when it falls in the underflow
// or overflow, or the histogram is empty.
double LossHistogramQuantile(const std::vector<int64_t>& slots,
                             const std::vector<double>& edges, double level);

struct TrainingFlow {
  std::vector<TrainingTimeEstimate> times;
  // Empirical NTK at initialisation (empty unless requested), P x P.
  Eigen::MatrixXd ntk_mean, ntk_stderr, ntk_std, ntk_theory;
  std::string theory_method;
  int64_t networks = 0;
  // With a loss histogram: its B + 1 edges and the quantile levels.
  std::vector<double> loss_histogram_edges;
  std::vector<double> loss_quantile_levels;
};

// `estimate` must come from the tuple set of BuildTupleSet(spec) (requested
// order); `theory` may be null (theory columns NaN).
TrainingFlow MakeTrainingFlow(const ExperimentSpec& spec,
                              const CorrelatorEstimate& estimate,
                              const theory::FlowTheory* theory);

}  // namespace nnft

#endif  // NNFT_CORE_TRAIN_TRAIN_RESULT_H_
