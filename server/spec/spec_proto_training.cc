// Training spec conversion (spec_proto_training.h).
#include "server/spec/spec_proto_training.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/train/train.h"

namespace nnft::server {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("spec.training.", field, what));
}

absl::Status DataFromProto(const v1::TrainingData& d, int input_dim,
                           const Limits& limits, TrainingSpec& t) {
  if (d.has_generator()) {
    if (d.x_size() > 0 || d.y_size() > 0) {
      return Invalid("data", ": give inline x and y or a generator, not both");
    }
    const int n = d.generator().n();
    if (n < 1 || n > 4096) {
      return Invalid("data.generator.n",
                     absl::StrCat(" = ", n, ": must be in [1, 4096]"));
    }
    if (input_dim != 4) {
      return Invalid("data.generator",
                     absl::StrCat(": the talk's data is 4-D: needs "
                                  "architecture input_dim = 4, not ",
                                  input_dim));
    }
    GenerateTalkData(n, d.generator().seed(), &t.x, &t.y);
    return absl::OkStatus();
  }
  if (d.x_size() > limits.max_points) {
    // Validate reports the count; no n x d matrix is built for it (a large
    // message of empty points would otherwise allocate n x d doubles).
    t.x.resize(d.x_size(), 0);
    return absl::OkStatus();
  }
  t.x.resize(d.x_size(), input_dim);
  for (int i = 0; i < d.x_size(); ++i) {
    if (d.x(i).x_size() != input_dim) {
      return Invalid(
          absl::StrCat("data.x[", i, "]"),
          absl::StrCat(" has ", d.x(i).x_size(),
                       " coordinates: must have input_dim = ", input_dim));
    }
    for (int j = 0; j < input_dim; ++j) t.x(i, j) = d.x(i).x(j);
  }
  t.y.resize(d.y_size());
  for (int i = 0; i < d.y_size(); ++i) t.y(i) = d.y(i);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<TrainingSpec>> TrainingFromProto(
    const v1::ExperimentSpec& proto, int input_dim, const Limits& limits) {
  if (!proto.has_training()) return std::nullopt;
  const v1::Training& p = proto.training();
  TrainingSpec t;
  NNFT_RETURN_IF_ERROR(DataFromProto(p.data(), input_dim, limits, t));
  if (p.has_eta()) t.eta = p.eta();
  if (p.times_size() > 0) t.times.assign(p.times().begin(), p.times().end());
  switch (p.method()) {
    case v1::TRAINING_METHOD_UNSPECIFIED:
    case v1::TRAINING_METHOD_GRADIENT_DESCENT:
      t.method = TrainingMethod::kGradientDescent;
      break;
    case v1::TRAINING_METHOD_GRADIENT_FLOW:
      t.method = TrainingMethod::kGradientFlow;
      break;
    default:
      return Invalid("method",
                     absl::StrCat(" = ", p.method(), ": unknown value"));
  }
  if (p.has_tolerance()) t.tolerance = p.tolerance();
  if (p.parameterisation() == v1::PARAMETERISATION_STANDARD) {
    return Invalid("parameterisation",
                   " = PARAMETERISATION_STANDARD: not supported (its tangent "
                   "kernel grows with the width); use PARAMETERISATION_NTK");
  }
  if (p.parameterisation() != v1::PARAMETERISATION_UNSPECIFIED &&
      p.parameterisation() != v1::PARAMETERISATION_NTK) {
    return Invalid("parameterisation", absl::StrCat(" = ", p.parameterisation(),
                                                    ": unknown value"));
  }
  t.last_layer_only = p.last_layer_only();
  t.empirical_ntk = p.empirical_ntk();
  if (p.has_loss_histogram()) {
    const v1::LossHistogram& h = p.loss_histogram();
    LossHistogramSpec hist;
    if (h.bins() != 0) hist.bins = h.bins();
    if (h.has_min()) hist.min = h.min();
    if (h.has_max()) hist.max = h.max();
    t.loss_histogram = hist;
  }
  return t;
}

void TrainingToProto(const TrainingSpec& t, v1::Training* out) {
  for (Eigen::Index i = 0; i < t.x.rows(); ++i) {
    auto* x = out->mutable_data()->add_x()->mutable_x();
    for (Eigen::Index j = 0; j < t.x.cols(); ++j) x->Add(t.x(i, j));
  }
  for (Eigen::Index i = 0; i < t.y.size(); ++i) {
    out->mutable_data()->add_y(t.y(i));
  }
  out->set_eta(t.eta);
  out->mutable_times()->Add(t.times.begin(), t.times.end());
  out->set_method(t.method == TrainingMethod::kGradientDescent
                      ? v1::TRAINING_METHOD_GRADIENT_DESCENT
                      : v1::TRAINING_METHOD_GRADIENT_FLOW);
  out->set_tolerance(t.tolerance);
  out->set_last_layer_only(t.last_layer_only);
  out->set_parameterisation(v1::PARAMETERISATION_NTK);
  out->set_empirical_ntk(t.empirical_ntk);
  if (t.loss_histogram) {
    v1::LossHistogram* h = out->mutable_loss_histogram();
    h->set_bins(t.loss_histogram->bins);
    h->set_min(t.loss_histogram->min);
    h->set_max(t.loss_histogram->max);
  }
}

}  // namespace nnft::server
