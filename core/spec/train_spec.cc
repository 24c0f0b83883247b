// Training layout, observables, validation and the talk's data generator
// (core/train/train.h).
#include <algorithm>
#include <cmath>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/sampling/rng.h"
#include "core/status_macros.h"
#include "core/train/train.h"

namespace nnft {

int TrainingLayout::NtkIndex(int p, int q) const {
  // Rows p = 0..P-1 hold P - p entries each.
  return num_times * (num_points + 1) + p * num_points - p * (p - 1) / 2 +
         (q - p);
}

TrainingLayout MakeTrainingLayout(const ExperimentSpec& spec) {
  TrainingLayout layout;
  if (!spec.training) return layout;
  layout.num_times = static_cast<int>(spec.training->times.size());
  layout.num_points = static_cast<int>(spec.points.rows());
  layout.ntk = spec.training->empirical_ntk;
  if (spec.training->loss_histogram) {
    layout.histogram_slots = spec.training->loss_histogram->bins + 2;
  }
  return layout;
}

std::vector<double> LossHistogramSpec::Edges() const {
  std::vector<double> edges(bins + 1);
  for (int k = 0; k < bins; ++k) {
    edges[k] = min * std::pow(max / min, static_cast<double>(k) / bins);
  }
  edges[bins] = max;
  return edges;
}

int LossHistogramSlot(const std::vector<double>& edges, double loss) {
  const int bins = static_cast<int>(edges.size()) - 1;
  if (!std::isfinite(loss) || loss >= edges[bins]) return bins + 1;
  return static_cast<int>(std::upper_bound(edges.begin(), edges.end(), loss) -
                          edges.begin());
}

ObservableSpec TrainingObservables(const TrainingLayout& layout) {
  ObservableSpec obs;
  obs.orders = {1, 2};
  const int num = layout.num_points;
  for (int i = 0; i < layout.num_times; ++i) {
    for (int p = 0; p < num; ++p) obs.tuples.push_back({layout.Value(i, p)});
    for (int p = 0; p < num; ++p) {
      for (int q = p; q < num; ++q) {
        obs.tuples.push_back({layout.Value(i, p), layout.Value(i, q)});
      }
    }
    obs.tuples.push_back({layout.Loss(i)});
    obs.tuples.push_back({layout.Loss(i), layout.Loss(i)});
  }
  if (layout.ntk) {
    for (int p = 0; p < num; ++p) {
      for (int q = p; q < num; ++q) {
        const int j = layout.NtkIndex(p, q);
        obs.tuples.push_back({j});
        obs.tuples.push_back({j, j});
      }
    }
  }
  for (int i = 0; i < layout.num_times; ++i) {
    for (int s = 0; s < layout.histogram_slots; ++s) {
      obs.tuples.push_back({layout.HistogramSlot(i, s)});
    }
  }
  return obs;
}

namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status ValidateTimes(const TrainingSpec& t, const Limits& limits) {
  const int num = static_cast<int>(t.times.size());
  if (num < 1 || num > limits.max_training_times) {
    return Bad("training.times",
               absl::StrCat(num, " times: must be between 1 and ",
                            limits.max_training_times));
  }
  for (int i = 0; i < num; ++i) {
    const double ti = t.times[i];
    const std::string field = absl::StrCat("training.times[", i, "] = ", ti);
    if (!std::isfinite(ti) || ti < 0)
      return Bad(field, "must be finite and >= 0");
    if (i > 0 && ti <= t.times[i - 1]) {
      return Bad(field, "times must be strictly increasing");
    }
    if (t.method == TrainingMethod::kGradientDescent) {
      const double steps = ti / t.eta;
      if (std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps)) {
        return Bad(field, absl::StrCat("gradient descent records at t = eta * "
                                       "steps: must be a whole multiple of "
                                       "eta = ",
                                       t.eta));
      }
      if (std::round(steps) > static_cast<double>(limits.max_training_steps)) {
        return Bad(field,
                   absl::StrCat("needs ", std::round(steps), " steps: at most ",
                                limits.max_training_steps));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLossHistogram(const LossHistogramSpec& h) {
  if (h.bins < 1 || h.bins > 256) {
    return Bad("training.loss_histogram.bins",
               absl::StrCat(h.bins, ": must be in [1, 256]"));
  }
  if (!std::isfinite(h.min) || !(h.min > 0)) {
    return Bad("training.loss_histogram.min",
               absl::StrCat(h.min, ": must be finite and > 0"));
  }
  if (!std::isfinite(h.max) || !(h.max > h.min)) {
    return Bad("training.loss_histogram.max",
               absl::StrCat(h.max, ": must be finite and > min = ", h.min));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTraining(const ExperimentSpec& spec,
                              const Limits& limits) {
  const TrainingSpec& t = *spec.training;
  const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
  if (mlp == nullptr) {
    return Bad("training", "the architecture must be an mlp");
  }
  if (mlp->first_bias != BiasLaw::kGaussian) {
    return Bad("training", "architecture.mlp.first_bias must be Gaussian");
  }
  // The trainer and the NTK theory are those of the plain MLP: these would
  // be ignored, training and predicting another network than the spec's.
  if (mlp->residual) {
    return Bad("architecture.mlp.residual", "must be false for training");
  }
  if (mlp->input_projection_dim > 0) {
    return Bad(
        "architecture.mlp.input_projection_dim",
        absl::StrCat(mlp->input_projection_dim, ": must be 0 for training"));
  }
  if (mlp->deformation.has_value()) {
    return Bad("architecture.mlp.deformation",
               "must be absent for training (the trained weights start "
               "Gaussian)");
  }
  if (spec.reflection.enabled) {
    return Bad("reflection", "must be off for training");
  }
  if (spec.sampling.integrate_output_layer) {
    return Bad("sampling.integrate_output_layer",
               "must be false for training (the output layer is trained)");
  }
  if (spec.points.rows() > kMaxTrainingPoints) {
    return Bad("points", absl::StrCat(spec.points.rows(),
                                      " test points for training: at most ",
                                      kMaxTrainingPoints));
  }
  const int64_t n = t.x.rows();
  if (n < 1 || n > limits.max_points) {
    return Bad(
        "training.data.x",
        absl::StrCat(n, " points: must be between 1 and ", limits.max_points));
  }
  if (t.x.cols() != mlp->input_dim) {
    return Bad(
        "training.data.x",
        absl::StrCat("points have ", t.x.cols(),
                     " coordinates: must have input_dim = ", mlp->input_dim));
  }
  if (t.y.size() != n) {
    return Bad("training.data.y",
               absl::StrCat(t.y.size(), " targets: must equal the ", n,
                            " training points"));
  }
  if (!t.x.allFinite() || !t.y.allFinite()) {
    return Bad("training.data", "every coordinate and target must be finite");
  }
  if (!(t.eta > 0) || !std::isfinite(t.eta)) {
    return Bad("training.eta", absl::StrCat(t.eta, ": must be finite and > 0"));
  }
  if (t.method == TrainingMethod::kGradientFlow &&
      !(t.tolerance > 0 && t.tolerance <= 0.1)) {
    return Bad("training.tolerance",
               absl::StrCat(t.tolerance, ": must be in (0, 0.1]"));
  }
  NNFT_RETURN_IF_ERROR(ValidateTimes(t, limits));
  if (t.loss_histogram) {
    NNFT_RETURN_IF_ERROR(ValidateLossHistogram(*t.loss_histogram));
  }
  const TrainingLayout layout = MakeTrainingLayout(spec);
  const int64_t per_time =
      int64_t{layout.num_points} * (layout.num_points + 3) / 2 + 2 +
      layout.histogram_slots;
  const int64_t tuples = per_time * layout.num_times + 2 * layout.NtkEntries();
  if (tuples > limits.max_tuples) {
    return Bad(
        "training",
        absl::StrCat(tuples, " flow entries (times x points^2): at most ",
                     limits.max_tuples));
  }
  return absl::OkStatus();
}

void GenerateTalkData(int n, uint64_t seed, Eigen::MatrixXd* x,
                      Eigen::VectorXd* y) {
  std::vector<double> u(StreamPadded<double>(int64_t{4} * n));
  FillUniforms(StreamId{.seed = seed, .network = 0, .tag = kTalkDataTag},
               int64_t{4} * n, u.data());
  x->resize(n, 4);
  y->resize(n);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) (*x)(i, k) = 2 * u[4 * i + k] - 1;
    const Eigen::RowVectorXd r = x->row(i);
    (*y)(i) = std::exp(std::sin(r(0) * r(0) + r(1) * r(1)) +
                       std::sin(r(2) * r(2) + r(3) * r(3)));
  }
}

}  // namespace nnft
