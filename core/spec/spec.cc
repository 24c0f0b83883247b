// Validation of experiment specs. Every message names the field by its path
// in the proto (snake_case, as in proto/nnft/v1/spec.proto), its value and
// the allowed range, so a user can fix the JSON file from the message alone.
#include "core/spec/spec.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/analyses/symmetry.h"
#include "core/analyses/width_sweep.h"
#include "core/spec/tuples.h"
#include "core/status_macros.h"

namespace nnft {
namespace {

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t lo,
                        int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, ": must be in [", lo, ", ", hi, "]"));
}

// value > 0 and finite.
absl::Status CheckPositive(absl::string_view field, double value) {
  if (std::isfinite(value) && value > 0.0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, ": must be finite and > 0"));
}

// value >= 0 and finite.
absl::Status CheckNonNegative(absl::string_view field, double value) {
  if (std::isfinite(value) && value >= 0.0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " = ", value, ": must be finite and >= 0"));
}

bool IsKnownActivation(Activation a) {
  const int v = static_cast<int>(a);
  return v >= static_cast<int>(Activation::kIdentity) &&
         v <= static_cast<int>(Activation::kCos);
}

// Residual layers and the g(Wx) input projection.
absl::Status ValidateMlpExtensions(const MlpSpec& mlp, const Limits& limits) {
  if (mlp.residual && mlp.first_bias == BiasLaw::kUniformPhase) {
    return absl::InvalidArgumentError(
        "architecture.mlp.residual with first_bias = uniform_phase: the "
        "residual stream would carry the non-Gaussian phase; use a Gaussian "
        "first bias");
  }
  if (mlp.residual) {
    for (size_t l = 1; l < mlp.widths.size(); ++l) {
      if (mlp.widths[l] != mlp.widths[0]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "architecture.mlp.residual needs equal hidden widths: widths[", l,
            "] = ", mlp.widths[l], " but widths[0] = ", mlp.widths[0]));
      }
    }
  }
  NNFT_RETURN_IF_ERROR(CheckRange("architecture.mlp.input_projection_dim",
                                  mlp.input_projection_dim, 0,
                                  limits.max_width));
  if (mlp.input_projection_dim > 0) {
    NNFT_RETURN_IF_ERROR(CheckPositive(
        "architecture.mlp.input_projection_scale", mlp.input_projection_scale));
  }
  return absl::OkStatus();
}

absl::Status CheckScales(absl::string_view name, const std::vector<double>& sw,
                         const std::vector<double>& sb, int64_t layers) {
  for (const auto& [v, field] : {std::pair{&sw, "sw"}, std::pair{&sb, "sb"}}) {
    if (static_cast<int64_t>(v->size()) != layers) {
      return absl::InvalidArgumentError(
          absl::StrCat("architecture.", name, ".", field, " has ", v->size(),
                       " entries: must have ", layers, " (layers + 1)"));
    }
  }
  for (int64_t l = 0; l < layers; ++l) {
    NNFT_RETURN_IF_ERROR(CheckPositive(
        absl::StrCat("architecture.", name, ".sw[", l, "]"), sw[l]));
    NNFT_RETURN_IF_ERROR(CheckNonNegative(
        absl::StrCat("architecture.", name, ".sb[", l, "]"), sb[l]));
  }
  return absl::OkStatus();
}

absl::Status ValidateConv1d(const Conv1dSpec& c, const Limits& limits) {
  constexpr absl::string_view kName = "architecture.conv1d.";
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "sequence_length"),
                                  c.sequence_length, 1, limits.max_input_dim));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "in_channels"),
                                  c.in_channels, 1,
                                  limits.max_input_dim / c.sequence_length));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "kernel_size"),
                                  c.kernel_size, 1, c.sequence_length));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "channels"), c.channels,
                                  1, limits.max_width));
  NNFT_RETURN_IF_ERROR(
      CheckRange(absl::StrCat(kName, "layers"), c.layers, 1, limits.max_depth));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "output_position"),
                                  c.output_position, 0, c.sequence_length - 1));
  if (!IsKnownActivation(c.activation)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kName, "activation: unknown activation"));
  }
  if (c.padding != Padding::kCircular && c.padding != Padding::kZero) {
    return absl::InvalidArgumentError(
        absl::StrCat(kName, "padding: unknown padding"));
  }
  return CheckScales("conv1d", c.sw, c.sb, int64_t{c.layers} + 1);
}

absl::Status ValidateAttention(const AttentionSpec& a, const Limits& limits) {
  constexpr absl::string_view kName = "architecture.attention.";
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "sequence_length"),
                                  a.sequence_length, 1, limits.max_input_dim));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "embed_dim"), a.embed_dim,
                                  1, limits.max_input_dim / a.sequence_length));
  NNFT_RETURN_IF_ERROR(
      CheckRange(absl::StrCat(kName, "heads"), a.heads, 1, limits.max_width));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "head_dim"), a.head_dim,
                                  1, limits.max_width));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "output_position"),
                                  a.output_position, 0, a.sequence_length - 1));
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "output_component"),
                                  a.output_component, 0, a.embed_dim - 1));
  for (const auto& [v, f] : {std::pair{a.sq, "sq"}, std::pair{a.sk, "sk"},
                             std::pair{a.sv, "sv"}, std::pair{a.so, "so"}}) {
    NNFT_RETURN_IF_ERROR(CheckPositive(absl::StrCat(kName, f), v));
  }
  return CheckNonNegative(absl::StrCat(kName, "sb"), a.sb);
}

absl::Status ValidateKan(const KanSpec& k, const Limits& limits) {
  constexpr absl::string_view kName = "architecture.kan.";
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(kName, "input_dim"), k.input_dim,
                                  1, limits.max_input_dim));
  NNFT_RETURN_IF_ERROR(
      CheckRange(absl::StrCat(kName, "width"), k.width, 1, limits.max_width));
  NNFT_RETURN_IF_ERROR(
      CheckRange(absl::StrCat(kName, "grid_size"), k.grid_size, 1, 1000));
  NNFT_RETURN_IF_ERROR(
      CheckRange(absl::StrCat(kName, "spline_order"), k.spline_order, 0, 5));
  NNFT_RETURN_IF_ERROR(
      CheckPositive(absl::StrCat(kName, "grid_range"), k.grid_range));
  if (!IsKnownActivation(k.base_activation)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kName, "base_activation: unknown activation"));
  }
  for (const auto& [v, f] :
       {std::pair{k.sa0, "sa0"}, std::pair{k.sc0, "sc0"},
        std::pair{k.sa1, "sa1"}, std::pair{k.sc1, "sc1"}}) {
    NNFT_RETURN_IF_ERROR(CheckNonNegative(absl::StrCat(kName, f), v));
  }
  if (k.sa1 == 0.0 && k.sc1 == 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kName, "sa1 = sc1 = 0: the field would vanish; one must be > 0"));
  }
  return absl::OkStatus();
}

constexpr int kMaxOutputDim = 64;

// output_dim, sw0_axes, output_mean of `arch` ("architecture.mlp", ...).
absl::Status ValidateFieldOptions(absl::string_view arch, int input_dim,
                                  const FieldOptions& field) {
  const int output_dim = field.output_dim;
  const std::vector<double>& axes = field.sw0_axes;
  const std::vector<double>& mean = field.output_mean;
  NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat(arch, ".output_dim"), output_dim,
                                  1, kMaxOutputDim));
  if (!axes.empty() && static_cast<int>(axes.size()) != input_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        arch, ".sw0_axes has ", axes.size(), " entries: must be empty or ",
        input_dim, " (one per input coordinate)"));
  }
  for (size_t k = 0; k < axes.size(); ++k) {
    NNFT_RETURN_IF_ERROR(
        CheckPositive(absl::StrCat(arch, ".sw0_axes[", k, "]"), axes[k]));
  }
  if (!mean.empty() && static_cast<int>(mean.size()) != output_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        arch, ".output_mean has ", mean.size(), " entries: must be empty or ",
        output_dim, " (one per output component)"));
  }
  for (size_t c = 0; c < mean.size(); ++c) {
    if (!std::isfinite(mean[c])) {
      return absl::InvalidArgumentError(absl::StrCat(
          arch, ".output_mean[", c, "] = ", mean[c], ": must be finite"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMlp(const MlpSpec& mlp, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(CheckRange("architecture.mlp.input_dim", mlp.input_dim,
                                  1, limits.max_input_dim));
  const int64_t depth = static_cast<int64_t>(mlp.widths.size());
  if (depth < 1 || depth > limits.max_depth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.widths has ", depth,
        " entries (hidden layers): must be in [1, ", limits.max_depth, "]"));
  }
  for (int64_t l = 0; l < depth; ++l) {
    NNFT_RETURN_IF_ERROR(
        CheckRange(absl::StrCat("architecture.mlp.widths[", l, "]"),
                   mlp.widths[l], 1, limits.max_width));
  }
  if (!IsKnownActivation(mlp.activation)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.activation = ", static_cast<int>(mlp.activation),
        ": unknown activation"));
  }
  if (static_cast<int64_t>(mlp.sw.size()) != depth + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.sw has ", mlp.sw.size(), " entries: must have ",
        depth + 1, " (one per layer, len(widths) + 1)"));
  }
  if (static_cast<int64_t>(mlp.sb.size()) != depth + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.sb has ", mlp.sb.size(), " entries: must have ",
        depth + 1, " (one per layer, len(widths) + 1)"));
  }
  for (int64_t l = 0; l <= depth; ++l) {
    NNFT_RETURN_IF_ERROR(
        CheckPositive(absl::StrCat("architecture.mlp.sw[", l, "]"), mlp.sw[l]));
    NNFT_RETURN_IF_ERROR(CheckNonNegative(
        absl::StrCat("architecture.mlp.sb[", l, "]"), mlp.sb[l]));
  }
  if (mlp.first_bias == BiasLaw::kUniformPhase &&
      mlp.activation != Activation::kCos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.first_bias = uniform_phase needs activation cos, "
        "got ",
        ActivationName(mlp.activation)));
  }
  if (mlp.first_bias != BiasLaw::kGaussian &&
      mlp.first_bias != BiasLaw::kUniformPhase) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.mlp.first_bias = ", static_cast<int>(mlp.first_bias),
        ": unknown bias law"));
  }
  NNFT_RETURN_IF_ERROR(ValidateMlpExtensions(mlp, limits));
  return ValidateFieldOptions("architecture.mlp", mlp.input_dim, mlp.field);
}

absl::Status ValidateGaussNet(const GaussNetSpec& g, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(CheckRange("architecture.gauss_net.input_dim",
                                  g.input_dim, 1, limits.max_input_dim));
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.gauss_net.width", g.width, 1, limits.max_width));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.gauss_net.sw0", g.sw0));
  NNFT_RETURN_IF_ERROR(CheckNonNegative("architecture.gauss_net.sb0", g.sb0));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.gauss_net.sw1", g.sw1));
  NNFT_RETURN_IF_ERROR(CheckNonNegative("architecture.gauss_net.sb1", g.sb1));
  return ValidateFieldOptions("architecture.gauss_net", g.input_dim, g.field);
}

absl::Status ValidateCosNet(const CosNetSpec& c, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.cos_net.input_dim", c.input_dim, 1, 3));
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.cos_net.width", c.width, 1, limits.max_width));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.cos_net.mass", c.mass));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.cos_net.cutoff", c.cutoff));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.cos_net.sa", c.sa));
  return ValidateFieldOptions("architecture.cos_net", c.input_dim,
                              FieldOptions{.output_dim = c.output_dim});
}

absl::Status ValidateNullCone(const NullConeSpec& c) {
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.null_cone.input_dim", c.input_dim, 1, 8));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.null_cone.scale", c.scale));
  const int law = static_cast<int>(c.law);
  if (law < static_cast<int>(ThetaLaw::kGaussian) ||
      law > static_cast<int>(ThetaLaw::kRadial)) {
    return absl::InvalidArgumentError(
        absl::StrCat("architecture.null_cone.law = ", law, ": unknown law"));
  }
  if (c.law != ThetaLaw::kRadial) {
    if (!c.radii.empty() || !c.radial_weights.empty()) {
      return absl::InvalidArgumentError(
          "architecture.null_cone.radii: only for law THETA_LAW_RADIAL");
    }
    return absl::OkStatus();
  }
  NNFT_RETURN_IF_ERROR(CheckRange("architecture.null_cone.radii size",
                                  static_cast<int64_t>(c.radii.size()), 1,
                                  1024));
  if (c.radial_weights.size() != c.radii.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.null_cone.radial_weights has ", c.radial_weights.size(),
        " entries: must match the ", c.radii.size(), " radii"));
  }
  for (size_t k = 0; k < c.radii.size(); ++k) {
    NNFT_RETURN_IF_ERROR(CheckNonNegative(
        absl::StrCat("architecture.null_cone.radii[", k, "]"), c.radii[k]));
    NNFT_RETURN_IF_ERROR(CheckPositive(
        absl::StrCat("architecture.null_cone.radial_weights[", k, "]"),
        c.radial_weights[k]));
  }
  return absl::OkStatus();
}

absl::Status ValidateOuNet(const OuNetSpec& o, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.ou_net.input_dim", o.input_dim, 1, 1));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.ou_net.tau", o.tau));
  NNFT_RETURN_IF_ERROR(CheckPositive("architecture.ou_net.sigma", o.sigma));
  NNFT_RETURN_IF_ERROR(
      CheckRange("architecture.ou_net.mlp.input_dim", o.mlp.input_dim, 1, 1));
  // The OU-net's field has one component with no mean shift: the inner MLP's
  // multi-component options would be silently ignored, so they are refused.
  NNFT_RETURN_IF_ERROR(CheckRange("architecture.ou_net.mlp.output_dim",
                                  o.mlp.field.output_dim, 1, 1));
  const auto must_be_empty = [](absl::string_view field, size_t entries) {
    if (entries == 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "architecture.ou_net.mlp.", field, " has ", entries,
        " entries: must be empty for an ou_net (its input is the path X_t, "
        "its field one component)"));
  };
  NNFT_RETURN_IF_ERROR(must_be_empty("sw0_axes", o.mlp.field.sw0_axes.size()));
  NNFT_RETURN_IF_ERROR(
      must_be_empty("output_mean", o.mlp.field.output_mean.size()));
  return ValidateMlp(o.mlp, limits);
}

// Parameters of the conv1d, attention and KAN nets (weights and biases).
int64_t ExtraParameterCount(const Architecture& architecture) {
  if (const auto* c = std::get_if<Conv1dSpec>(&architecture)) {
    int64_t count = 0, fan_in = c->in_channels;
    for (int l = 0; l < c->layers; ++l) {
      count += fan_in * c->kernel_size * c->channels + c->channels;
      fan_in = c->channels;
    }
    return count + c->channels + 1;
  }
  if (const auto* a = std::get_if<AttentionSpec>(&architecture)) {
    return int64_t{a->heads} * a->head_dim * (3 * int64_t{a->embed_dim} + 1) +
           1;
  }
  const auto& k = std::get<KanSpec>(architecture);
  const int64_t per_edge = 1 + int64_t{k.grid_size} + k.spline_order;
  return int64_t{k.width} * (k.input_dim + 1) * per_edge;
}

// Parameters of one network: weights plus biases of every layer. Fits int64
// for every spec within the width, depth and input_dim limits.
int64_t ParameterCount(const Architecture& architecture) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    int64_t count = 0;
    int64_t fan_in = mlp->input_dim;
    if (mlp->input_projection_dim > 0) {
      count += fan_in * mlp->input_projection_dim;
      fan_in = mlp->input_projection_dim;
    }
    for (int width : mlp->widths) {
      count += fan_in * width + width;
      fan_in = width;
    }
    return count + (fan_in + 1) * mlp->field.output_dim;  // output layer
  }
  if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    return int64_t{g->width} * (g->input_dim + 1 + g->field.output_dim) +
           g->field.output_dim;
  }
  if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    return int64_t{c->width} * (c->input_dim + 1 + c->output_dim);
  }
  if (const auto* n = std::get_if<NullConeSpec>(&architecture)) {
    return n->input_dim + 2;
  }
  if (const auto* ou = std::get_if<OuNetSpec>(&architecture)) {
    return ParameterCount(ou->mlp);
  }
  return ExtraParameterCount(architecture);
}

absl::Status ValidateArchitecture(const Architecture& architecture,
                                  const Limits& limits) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateMlp(*mlp, limits));
  } else if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateGaussNet(*g, limits));
  } else if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateCosNet(*c, limits));
  } else if (const auto* n = std::get_if<NullConeSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateNullCone(*n));
  } else if (const auto* ou = std::get_if<OuNetSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateOuNet(*ou, limits));
  } else if (const auto* conv = std::get_if<Conv1dSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateConv1d(*conv, limits));
  } else if (const auto* att = std::get_if<AttentionSpec>(&architecture)) {
    NNFT_RETURN_IF_ERROR(ValidateAttention(*att, limits));
  } else {
    NNFT_RETURN_IF_ERROR(ValidateKan(std::get<KanSpec>(architecture), limits));
  }
  const int64_t parameters = ParameterCount(architecture);
  if (parameters > limits.max_parameters) {
    return absl::InvalidArgumentError(
        absl::StrCat("architecture: ", parameters,
                     " parameters per network exceed the limit max_parameters "
                     "= ",
                     limits.max_parameters));
  }
  return absl::OkStatus();
}

absl::Status ValidatePoints(const Eigen::MatrixXd& points, int input_dim,
                            const Limits& limits) {
  const int64_t p = points.rows();
  if (p < 1 || p > limits.max_points) {
    return absl::InvalidArgumentError(absl::StrCat(
        "points: ", p, " points: must be in [1, ", limits.max_points, "]"));
  }
  if (points.cols() != input_dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("points: ", p, " points of dimension ", points.cols(),
                     " but the architecture's input_dim is ", input_dim));
  }
  for (int64_t i = 0; i < p; ++i) {
    for (int64_t j = 0; j < points.cols(); ++j) {
      if (!std::isfinite(points(i, j))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "points[", i, "].x[", j, "] = ", points(i, j), ": must be finite"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateObservables(const ObservableSpec& obs, int num_points,
                                 const Limits& limits) {
  for (size_t i = 0; i < obs.orders.size(); ++i) {
    NNFT_RETURN_IF_ERROR(CheckRange(absl::StrCat("observables.orders[", i, "]"),
                                    obs.orders[i], 1, kMaxOrder));
    for (size_t j = 0; j < i; ++j) {
      if (obs.orders[j] == obs.orders[i]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "observables.orders[", i, "] = ", obs.orders[i],
            ": repeats observables.orders[", j, "]; orders must be distinct"));
      }
    }
  }
  if (obs.orders.empty() && obs.tuples.empty()) {
    return absl::InvalidArgumentError(
        "observables: no orders and no tuples: give at least one order in "
        "[1, 6] or one explicit tuple");
  }
  // Tuple sizes and indices, and the closure size against max_tuples
  // (counted, not built: every request is validated).
  return TupleSet::CountClosure(num_points, obs, limits.max_tuples).status();
}

// integrate_output_layer is allowed for every architecture: each has a
// Gaussian output layer (W1, b1 or a) given its hidden layer.
absl::Status ValidateSampling(const SamplingSpec& s, const Limits& limits) {
  NNFT_RETURN_IF_ERROR(CheckRange("sampling.num_networks", s.num_networks, 1,
                                  limits.max_networks));
  NNFT_RETURN_IF_ERROR(CheckRange("sampling.chunk_size", s.chunk_size, 1,
                                  limits.max_chunk_size));
  const int64_t chunks = NumChunks(s);
  if (chunks < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampling.num_networks = ", s.num_networks,
        " with sampling.chunk_size = ", s.chunk_size, " gives ", chunks,
        " chunk: at least 2 chunks are needed for error bars"));
  }
  if (s.precision != Precision::kFloat64 &&
      s.precision != Precision::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampling.precision = ", static_cast<int>(s.precision),
                     ": unknown precision"));
  }
  return absl::OkStatus();
}

absl::Status ValidateReflection(const ExperimentSpec& spec,
                                const Limits& limits) {
  const ReflectionSpec& r = spec.reflection;
  if (!r.enabled) return absl::OkStatus();
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    return absl::InvalidArgumentError(
        "reflection_positivity: not available for architecture.null_cone "
        "(its field is complex on the Euclidean section)");
  }
  const int d = InputDim(spec.architecture);
  NNFT_RETURN_IF_ERROR(
      CheckRange("reflection_positivity.axis", r.axis, 0, d - 1));
  NNFT_RETURN_IF_ERROR(
      CheckRange("reflection_positivity.points size", r.points.rows(), 1, 64));
  if (r.points.cols() != d) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reflection_positivity.points: dimension ", r.points.cols(),
        " but the architecture's input_dim is ", d));
  }
  if (r.include_four_point && r.points.rows() > 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reflection_positivity.points: ", r.points.rows(),
        " points with include_four_point: must be at most 8 (the four-point "
        "matrix has Q(Q+1)/2 rows)"));
  }
  if (spec.points.rows() + 2 * r.points.rows() > limits.max_points) {
    return absl::InvalidArgumentError(
        absl::StrCat("reflection_positivity.points: ", spec.points.rows(),
                     " points plus ", 2 * r.points.rows(),
                     " reflected and original points exceed max_points "
                     "= ",
                     limits.max_points));
  }
  for (int64_t i = 0; i < r.points.rows(); ++i) {
    for (int j = 0; j < d; ++j) {
      if (!std::isfinite(r.points(i, j))) {
        return absl::InvalidArgumentError(
            absl::StrCat("reflection_positivity.points[", i, "].x[", j,
                         "] = ", r.points(i, j), ": must be finite"));
      }
    }
    if (!(r.points(i, r.axis) > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reflection_positivity.points[", i, "].x[", r.axis, "] = ",
          r.points(i, r.axis), ": must be > 0 (the positive half-space)"));
    }
  }
  return CheckPositive("reflection_positivity.z_threshold", r.z_threshold);
}

}  // namespace

absl::string_view ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kIdentity:
      return "identity";
    case Activation::kRelu:
      return "relu";
    case Activation::kErf:
      return "erf";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kGelu:
      return "gelu";
    case Activation::kSoftplus:
      return "softplus";
    case Activation::kSin:
      return "sin";
    case Activation::kCos:
      return "cos";
  }
  return "unknown";
}

namespace {
int SaturatedInt(int64_t v) {
  return static_cast<int>(std::clamp<int64_t>(v, INT_MIN, INT_MAX));
}
}  // namespace

int InputDim(const Architecture& architecture) {
  return std::visit(
      [](const auto& a) {
        // T x channels in 64 bits, saturated: this runs before Validate has
        // checked the factors (spec conversion sizes the points with it),
        // where the int product of the members' InputDim() could overflow.
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, Conv1dSpec>) {
          return SaturatedInt(int64_t{a.sequence_length} * a.in_channels);
        } else if constexpr (std::is_same_v<A, AttentionSpec>) {
          return SaturatedInt(int64_t{a.sequence_length} * a.embed_dim);
        } else if constexpr (requires { a.InputDim(); }) {
          return a.InputDim();
        } else {
          return a.input_dim;
        }
      },
      architecture);
}

int OutputDim(const Architecture& architecture) {
  return std::visit(
      [](const auto& a) {
        if constexpr (requires { a.field; }) {
          return a.field.output_dim;
        } else if constexpr (requires { a.output_dim; }) {
          return a.output_dim;
        } else {
          return 1;  // null-cone and OU-net fields have one component
        }
      },
      architecture);
}

int64_t NumChunks(const SamplingSpec& sampling) {
  if (sampling.chunk_size <= 0 || sampling.num_networks <= 0) return 0;
  const int64_t c = sampling.chunk_size;
  return (sampling.num_networks + c - 1) / c;
}

absl::Status ValidateArchitectureAndPoints(const Architecture& architecture,
                                           const Eigen::MatrixXd& points,
                                           const Limits& limits) {
  NNFT_RETURN_IF_ERROR(ValidateArchitecture(architecture, limits));
  NNFT_RETURN_IF_ERROR(ValidateInteractionArchitecture(architecture, nullptr));
  return ValidatePoints(points, InputDim(architecture), limits);
}

namespace {

// integrate_first_layer_bias: the engine's closed form needs hidden units
// exp(w.x + b - S(x,x)) with a Gaussian bias and a Gaussian output layer
// integrated out, on the real slots of one output component.
absl::Status ValidateFirstLayerBias(const ExperimentSpec& spec) {
  if (!spec.sampling.integrate_first_layer_bias) return absl::OkStatus();
  constexpr char kField[] = "sampling.integrate_first_layer_bias";
  const auto* g = std::get_if<GaussNetSpec>(&spec.architecture);
  if (g == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(kField,
                     ": only for architecture.gauss_net (the closed-form bias "
                     "moments are those of exp(b), b ~ N(0, sb0^2))"));
  }
  if (!spec.sampling.integrate_output_layer) {
    return absl::InvalidArgumentError(
        absl::StrCat(kField, ": needs sampling.integrate_output_layer = true"));
  }
  if (g->field.output_dim != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kField, ": needs gauss_net.output_dim = 1 (got ",
                     g->field.output_dim, ")"));
  }
  for (const SymmetryCheck& c : spec.symmetry_checks) {
    if (c.kind == SymmetryCheck::Kind::kPhiSignFlip ||
        c.kind == SymmetryCheck::Kind::kOutputRotation) {
      return absl::InvalidArgumentError(absl::StrCat(
          kField,
          ": not with a phi -> -phi or output-rotation symmetry check "
          "(allowed: checks that move the points)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Validate(const ExperimentSpec& spec, const Limits& limits) {
  // A sweep overrides the architecture's width: validated per width there.
  NNFT_RETURN_IF_ERROR(ValidateFieldCompatibility(spec));
  NNFT_RETURN_IF_ERROR(ValidateFirstLayerBias(spec));
  if (!spec.width_sweep.empty()) return ValidateWidthSweep(spec, limits);
  NNFT_RETURN_IF_ERROR(ValidateArchitecture(spec.architecture, limits));
  NNFT_RETURN_IF_ERROR(
      ValidatePoints(spec.points, InputDim(spec.architecture), limits));
  if (spec.training) {
    NNFT_RETURN_IF_ERROR(ValidateTraining(spec, limits));
  } else {
    NNFT_RETURN_IF_ERROR(
        ValidateObservables(spec.observables, NumBaseSlots(spec), limits));
  }
  NNFT_RETURN_IF_ERROR(ValidateSampling(spec.sampling, limits));
  if (spec.sampling.integrate_output_layer) {
    const std::vector<double>* mean = nullptr;
    if (const auto* m = std::get_if<MlpSpec>(&spec.architecture)) {
      mean = &m->field.output_mean;
    } else if (const auto* g = std::get_if<GaussNetSpec>(&spec.architecture)) {
      mean = &g->field.output_mean;
    }
    if (mean != nullptr) {
      for (double v : *mean) {
        if (v != 0.0) {
          return absl::InvalidArgumentError(
              "sampling.integrate_output_layer needs a centred output layer: "
              "output_mean must be empty or all 0");
        }
      }
    }
  }
  if (std::holds_alternative<NullConeSpec>(spec.architecture) &&
      spec.sampling.integrate_output_layer) {
    return absl::InvalidArgumentError(
        "sampling.integrate_output_layer: not available for "
        "architecture.null_cone (it has no output layer)");
  }
  NNFT_RETURN_IF_ERROR(ValidateReflection(spec, limits));
  NNFT_RETURN_IF_ERROR(ValidateInteractions(spec));
  return ValidateChecks(spec, limits);
}

}  // namespace nnft

namespace nnft {

int64_t NetworkParameters(const Architecture& architecture) {
  return ParameterCount(architecture);
}

}  // namespace nnft
