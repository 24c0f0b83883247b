// Spec conversions: proto <-> core, JSON <-> proto. See spec_proto.h.
#include "server/spec/spec_proto.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "server/spec/proto_zeros.h"
#include "server/spec/spec_proto_sym.h"
#include "server/spec/spec_proto_training.h"

namespace nnft::server {
namespace {

// Field paths in messages start at the request's `spec` field.
constexpr absl::string_view kPrefix = "spec.";

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(kPrefix, field, what));
}

absl::StatusOr<Activation> ActivationFromProto(
    int value, absl::string_view field = "architecture.mlp.activation") {
  switch (value) {
    case v1::ACTIVATION_IDENTITY:
      return Activation::kIdentity;
    case v1::ACTIVATION_RELU:
      return Activation::kRelu;
    case v1::ACTIVATION_ERF:
      return Activation::kErf;
    case v1::ACTIVATION_TANH:
      return Activation::kTanh;
    case v1::ACTIVATION_SIGMOID:
      return Activation::kSigmoid;
    case v1::ACTIVATION_GELU:
      return Activation::kGelu;
    case v1::ACTIVATION_SOFTPLUS:
      return Activation::kSoftplus;
    case v1::ACTIVATION_SIN:
      return Activation::kSin;
    case v1::ACTIVATION_COS:
      return Activation::kCos;
    case v1::ACTIVATION_UNSPECIFIED:
      return Invalid(field,
                     ": required (one of ACTIVATION_IDENTITY, RELU, ERF, "
                     "TANH, SIGMOID, GELU, SOFTPLUS, SIN, COS)");
  }
  return Invalid(field, absl::StrCat(" = ", value, ": unknown value"));
}

v1::Activation ActivationToProto(Activation activation) {
  switch (activation) {
    case Activation::kIdentity:
      return v1::ACTIVATION_IDENTITY;
    case Activation::kRelu:
      return v1::ACTIVATION_RELU;
    case Activation::kErf:
      return v1::ACTIVATION_ERF;
    case Activation::kTanh:
      return v1::ACTIVATION_TANH;
    case Activation::kSigmoid:
      return v1::ACTIVATION_SIGMOID;
    case Activation::kGelu:
      return v1::ACTIVATION_GELU;
    case Activation::kSoftplus:
      return v1::ACTIVATION_SOFTPLUS;
    case Activation::kSin:
      return v1::ACTIVATION_SIN;
    case Activation::kCos:
      return v1::ACTIVATION_COS;
  }
  return v1::ACTIVATION_UNSPECIFIED;
}

absl::StatusOr<MlpSpec> MlpFromProto(const v1::Mlp& p) {
  MlpSpec mlp;
  mlp.input_dim = p.input_dim();
  mlp.widths.assign(p.widths().begin(), p.widths().end());
  NNFT_ASSIGN_OR_RETURN(mlp.activation, ActivationFromProto(p.activation()));
  const size_t layers = mlp.widths.size() + 1;
  if (p.sw().empty()) {
    mlp.sw.assign(layers, 1.0);
  } else {
    mlp.sw.assign(p.sw().begin(), p.sw().end());
  }
  if (p.sb().empty()) {
    mlp.sb.assign(layers, 0.0);
  } else {
    mlp.sb.assign(p.sb().begin(), p.sb().end());
  }
  switch (p.first_bias()) {
    case v1::BIAS_LAW_UNSPECIFIED:
    case v1::BIAS_LAW_GAUSSIAN:
      mlp.first_bias = BiasLaw::kGaussian;
      break;
    case v1::BIAS_LAW_UNIFORM_PHASE:
      mlp.first_bias = BiasLaw::kUniformPhase;
      break;
    default:
      return Invalid("architecture.mlp.first_bias",
                     absl::StrCat(" = ", p.first_bias(), ": unknown value"));
  }
  mlp.residual = p.residual();
  mlp.input_projection_dim = p.input_projection_dim();
  if (p.has_input_projection_scale())
    mlp.input_projection_scale = p.input_projection_scale();
  return mlp;
}

// Layer scales: empty means all `fill`.
std::vector<double> Scales(const google::protobuf::RepeatedField<double>& v,
                           int layers, double fill) {
  if (v.empty()) return std::vector<double>(layers + 1, fill);
  return std::vector<double>(v.begin(), v.end());
}

absl::StatusOr<Conv1dSpec> Conv1dFromProto(const v1::Conv1d& p) {
  Conv1dSpec c;
  c.sequence_length = p.sequence_length();
  if (p.has_in_channels()) c.in_channels = p.in_channels();
  c.kernel_size = p.kernel_size();
  c.channels = p.channels();
  if (p.has_layers()) c.layers = p.layers();
  NNFT_ASSIGN_OR_RETURN(
      c.activation,
      ActivationFromProto(p.activation(), "architecture.conv1d.activation"));
  switch (p.padding()) {
    case v1::PADDING_UNSPECIFIED:
    case v1::PADDING_CIRCULAR:
      c.padding = Padding::kCircular;
      break;
    case v1::PADDING_ZERO:
      c.padding = Padding::kZero;
      break;
    default:
      return Invalid("architecture.conv1d.padding",
                     absl::StrCat(" = ", p.padding(), ": unknown value"));
  }
  c.output_position = p.output_position();
  c.sw = Scales(p.sw(), c.layers, 1.0);
  c.sb = Scales(p.sb(), c.layers, 0.0);
  return c;
}

AttentionSpec AttentionFromProto(const v1::Attention& p) {
  AttentionSpec a;
  a.sequence_length = p.sequence_length();
  a.embed_dim = p.embed_dim();
  a.heads = p.heads();
  if (p.has_head_dim()) a.head_dim = p.head_dim();
  a.output_position = p.output_position();
  a.output_component = p.output_component();
  if (p.has_sq()) a.sq = p.sq();
  if (p.has_sk()) a.sk = p.sk();
  if (p.has_sv()) a.sv = p.sv();
  if (p.has_so()) a.so = p.so();
  a.sb = p.sb();
  return a;
}

absl::StatusOr<KanSpec> KanFromProto(const v1::Kan& p) {
  KanSpec k;
  k.input_dim = p.input_dim();
  k.width = p.width();
  if (p.has_grid_size()) k.grid_size = p.grid_size();
  if (p.has_spline_order()) k.spline_order = p.spline_order();
  if (p.has_grid_range()) k.grid_range = p.grid_range();
  if (p.base_activation() != v1::ACTIVATION_UNSPECIFIED) {
    NNFT_ASSIGN_OR_RETURN(
        k.base_activation,
        ActivationFromProto(p.base_activation(),
                            "architecture.kan.base_activation"));
  }
  if (p.has_sa0()) k.sa0 = p.sa0();
  if (p.has_sc0()) k.sc0 = p.sc0();
  if (p.has_sa1()) k.sa1 = p.sa1();
  if (p.has_sc1()) k.sc1 = p.sc1();
  return k;
}

// The conv1d, attention and KAN cases of SpecToProto.
void ExtraArchitectureToProto(const Architecture& architecture,
                              v1::Architecture* a) {
  if (const auto* c = std::get_if<Conv1dSpec>(&architecture)) {
    v1::Conv1d* p = a->mutable_conv1d();
    p->set_sequence_length(c->sequence_length);
    p->set_in_channels(c->in_channels);
    p->set_kernel_size(c->kernel_size);
    p->set_channels(c->channels);
    p->set_layers(c->layers);
    p->set_activation(ActivationToProto(c->activation));
    p->set_padding(c->padding == Padding::kZero ? v1::PADDING_ZERO
                                                : v1::PADDING_CIRCULAR);
    p->set_output_position(c->output_position);
    p->mutable_sw()->Add(c->sw.begin(), c->sw.end());
    p->mutable_sb()->Add(c->sb.begin(), c->sb.end());
  } else if (const auto* t = std::get_if<AttentionSpec>(&architecture)) {
    v1::Attention* p = a->mutable_attention();
    p->set_sequence_length(t->sequence_length);
    p->set_embed_dim(t->embed_dim);
    p->set_heads(t->heads);
    p->set_head_dim(t->head_dim);
    p->set_output_position(t->output_position);
    p->set_output_component(t->output_component);
    p->set_sq(t->sq);
    p->set_sk(t->sk);
    p->set_sv(t->sv);
    p->set_so(t->so);
    p->set_sb(t->sb);
  } else if (const auto* k = std::get_if<KanSpec>(&architecture)) {
    v1::Kan* p = a->mutable_kan();
    p->set_input_dim(k->input_dim);
    p->set_width(k->width);
    p->set_grid_size(k->grid_size);
    p->set_spline_order(k->spline_order);
    p->set_grid_range(k->grid_range);
    p->set_base_activation(ActivationToProto(k->base_activation));
    p->set_sa0(k->sa0);
    p->set_sc0(k->sc0);
    p->set_sa1(k->sa1);
    p->set_sc1(k->sc1);
  }
}

GaussNetSpec GaussNetFromProto(const v1::GaussNet& p) {
  GaussNetSpec g;
  g.input_dim = p.input_dim();
  g.width = p.width();
  if (p.has_sw0()) g.sw0 = p.sw0();
  g.sb0 = p.sb0();
  if (p.has_sw1()) g.sw1 = p.sw1();
  g.sb1 = p.sb1();
  return g;
}

CosNetSpec CosNetFromProto(const v1::CosNet& p) {
  CosNetSpec c;
  c.input_dim = p.input_dim();
  c.width = p.width();
  if (p.has_mass()) c.mass = p.mass();
  if (p.has_cutoff()) c.cutoff = p.cutoff();
  if (p.has_sa()) c.sa = p.sa();
  return c;
}

absl::StatusOr<NullConeSpec> NullConeFromProto(const v1::NullCone& p) {
  NullConeSpec c;
  c.input_dim = p.input_dim();
  if (p.has_scale()) c.scale = p.scale();
  switch (p.law()) {
    case v1::THETA_LAW_UNSPECIFIED:
    case v1::THETA_LAW_SPHERE:
      c.law = ThetaLaw::kSphere;
      break;
    case v1::THETA_LAW_GAUSSIAN:
      c.law = ThetaLaw::kGaussian;
      break;
    case v1::THETA_LAW_RADIAL:
      c.law = ThetaLaw::kRadial;
      break;
    default:
      return Invalid("architecture.null_cone.law",
                     absl::StrCat(" = ", p.law(), ": unknown value"));
  }
  c.radii.assign(p.radii().begin(), p.radii().end());
  c.radial_weights.assign(p.radial_weights().begin(), p.radial_weights().end());
  return c;
}

absl::StatusOr<OuNetSpec> OuNetFromProto(const v1::OuNet& p) {
  OuNetSpec o;
  if (p.has_tau()) o.tau = p.tau();
  if (p.has_sigma()) o.sigma = p.sigma();
  NNFT_ASSIGN_OR_RETURN(o.mlp, MlpFromProto(p.mlp()));
  if (o.mlp.input_dim == 0) o.mlp.input_dim = 1;
  return o;
}

absl::StatusOr<Architecture> ArchitectureFromProto(
    const v1::ExperimentSpec& proto) {
  const v1::Architecture& a = proto.architecture();
  switch (a.kind_case()) {
    case v1::Architecture::kMlp: {
      NNFT_ASSIGN_OR_RETURN(MlpSpec mlp, MlpFromProto(a.mlp()));
      return Architecture(std::move(mlp));
    }
    case v1::Architecture::kGaussNet:
      return Architecture(GaussNetFromProto(a.gauss_net()));
    case v1::Architecture::kCosNet:
      return Architecture(CosNetFromProto(a.cos_net()));
    case v1::Architecture::kNullCone: {
      NNFT_ASSIGN_OR_RETURN(NullConeSpec c, NullConeFromProto(a.null_cone()));
      return Architecture(std::move(c));
    }
    case v1::Architecture::kOuNet: {
      NNFT_ASSIGN_OR_RETURN(OuNetSpec o, OuNetFromProto(a.ou_net()));
      return Architecture(std::move(o));
    }
    case v1::Architecture::kConv1D: {
      NNFT_ASSIGN_OR_RETURN(Conv1dSpec c, Conv1dFromProto(a.conv1d()));
      return Architecture(std::move(c));
    }
    case v1::Architecture::kAttention:
      return Architecture(AttentionFromProto(a.attention()));
    case v1::Architecture::kKan: {
      NNFT_ASSIGN_OR_RETURN(KanSpec k, KanFromProto(a.kan()));
      return Architecture(std::move(k));
    }
    case v1::Architecture::KIND_NOT_SET:
      break;
  }
  return Invalid("architecture",
                 ": no architecture set (one of mlp, gauss_net, cos_net, "
                 "null_cone, ou_net, conv1d, attention, kan)");
}

// Points as a P x d matrix; every point must have d coordinates. Counts
// beyond the limit are left to Validate, which names the limit.
absl::StatusOr<Eigen::MatrixXd> PointsFromProto(const v1::ExperimentSpec& proto,
                                                int input_dim,
                                                const Limits& limits) {
  const int p = proto.points_size();
  if (p > limits.max_points || input_dim < 1 ||
      input_dim > limits.max_input_dim) {
    return Eigen::MatrixXd(p, 0);  // Validate reports the range
  }
  Eigen::MatrixXd points(p, input_dim);
  for (int i = 0; i < p; ++i) {
    const auto& x = proto.points(i).x();
    if (x.size() != input_dim) {
      return Invalid(absl::StrCat("points[", i, "].x"),
                     absl::StrCat(" has ", x.size(),
                                  " coordinates: must have the "
                                  "architecture's input_dim = ",
                                  input_dim));
    }
    for (int j = 0; j < input_dim; ++j) points(i, j) = x[j];
  }
  return points;
}

// Reflection-positivity request; ranges are left to Validate.
absl::Status ReflectionFromProto(const v1::ExperimentSpec& proto, int input_dim,
                                 ReflectionSpec* out) {
  if (!proto.has_reflection_positivity()) return absl::OkStatus();
  const v1::ReflectionPositivity& r = proto.reflection_positivity();
  out->enabled = true;
  out->axis = r.axis();
  out->include_four_point = r.include_four_point();
  if (r.has_z_threshold()) out->z_threshold = r.z_threshold();
  const int q = std::min(r.points_size(), 65);  // Validate names the limit
  out->points.resize(q, input_dim);
  for (int i = 0; i < q; ++i) {
    if (r.points(i).x_size() != input_dim) {
      return Invalid(absl::StrCat("reflection_positivity.points[", i, "].x"),
                     absl::StrCat(" has ", r.points(i).x_size(),
                                  " coordinates: must have the "
                                  "architecture's input_dim = ",
                                  input_dim));
    }
    for (int j = 0; j < input_dim; ++j) out->points(i, j) = r.points(i).x(j);
  }
  return absl::OkStatus();
}

absl::StatusOr<SamplingSpec> SamplingFromProto(const v1::Sampling& p) {
  SamplingSpec s;
  s.seed = p.seed();
  if (p.has_num_networks()) s.num_networks = p.num_networks();
  if (p.has_chunk_size()) s.chunk_size = p.chunk_size();
  switch (p.precision()) {
    case v1::PRECISION_UNSPECIFIED:
    case v1::PRECISION_FLOAT64:
      s.precision = Precision::kFloat64;
      break;
    case v1::PRECISION_FLOAT32:
      s.precision = Precision::kFloat32;
      break;
    default:
      return Invalid("sampling.precision",
                     absl::StrCat(" = ", p.precision(), ": unknown value"));
  }
  s.integrate_output_layer = p.integrate_output_layer();
  s.integrate_first_layer_bias = p.integrate_first_layer_bias();
  return s;
}

}  // namespace

absl::StatusOr<ExperimentSpec> SpecFromProto(const v1::ExperimentSpec& given,
                                             const Limits& limits) {
  // -0.0 read as 0.0 everywhere (proto_zeros.h): one digest per spec,
  // whichever form it came in.
  v1::ExperimentSpec proto = given;
  ClearNegativeZeros(&proto);
  ExperimentSpec spec;
  NNFT_ASSIGN_OR_RETURN(spec.architecture, ArchitectureFromProto(proto));
  FieldOptionsFromProto(proto.architecture(), spec.architecture);
  // Checks, points, reflection points and training data are matrices sized
  // by the input dimension: out of range, report it (Validate names the
  // architecture's field and range) before building any of them.
  if (const int d = InputDim(spec.architecture);
      d < 1 || d > limits.max_input_dim) {
    absl::Status s = Validate(spec, limits);
    if (s.ok()) {
      s = absl::InvalidArgumentError(
          absl::StrCat("architecture input dimension = ", d,
                       ": must be in [1, ", limits.max_input_dim, "]"));
    }
    return absl::Status(s.code(), absl::StrCat(kPrefix, s.message()));
  }
  ChecksFromProto(proto, InputDim(spec.architecture),
                  OutputDim(spec.architecture), spec);
  NNFT_ASSIGN_OR_RETURN(
      spec.points, PointsFromProto(proto, InputDim(spec.architecture), limits));
  const v1::Observables& obs = proto.observables();
  if (!obs.orders().empty()) {
    spec.observables.orders.assign(obs.orders().begin(), obs.orders().end());
  }
  spec.observables.tuples.reserve(obs.tuples_size());
  for (const v1::IndexTuple& t : obs.tuples()) {
    spec.observables.tuples.emplace_back(t.index().begin(), t.index().end());
  }
  NNFT_ASSIGN_OR_RETURN(spec.sampling, SamplingFromProto(proto.sampling()));
  NNFT_RETURN_IF_ERROR(TargetStderrFromProto(proto).status());
  NNFT_RETURN_IF_ERROR(ReflectionFromProto(proto, InputDim(spec.architecture),
                                           &spec.reflection));
  NNFT_ASSIGN_OR_RETURN(
      spec.training,
      TrainingFromProto(proto, InputDim(spec.architecture), limits));
  spec.width_sweep.assign(proto.width_sweep().widths().begin(),
                          proto.width_sweep().widths().end());
  if (!spec.width_sweep.empty() && proto.sampling().target_stderr() > 0) {
    return Invalid("sampling.target_stderr",
                   " > 0 with width_sweep: early stopping is not supported "
                   "for width sweeps (set num_networks instead)");
  }
  InteractionsFromProto(proto, spec);
  if (absl::Status s = Validate(spec, limits); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(kPrefix, s.message()));
  }
  return spec;
}

absl::StatusOr<double> TargetStderrFromProto(const v1::ExperimentSpec& proto) {
  const double t = proto.sampling().target_stderr();
  if (!std::isfinite(t) || t < 0) {
    return Invalid("sampling.target_stderr",
                   absl::StrCat(" = ", t, ": must be finite and >= 0"));
  }
  return t;
}

absl::StatusOr<v1::ExperimentSpec> SpecProtoFromJson(absl::string_view json) {
  v1::ExperimentSpec proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &proto, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec: not a valid ExperimentSpec in JSON: ",
        std::string(status.message().data(), status.message().size())));
  }
  return proto;
}

absl::StatusOr<ExperimentSpec> SpecFromJson(absl::string_view json,
                                            const Limits& limits) {
  NNFT_ASSIGN_OR_RETURN(v1::ExperimentSpec proto, SpecProtoFromJson(json));
  return SpecFromProto(proto, limits);
}

v1::ExperimentSpec SpecToProto(const ExperimentSpec& spec) {
  v1::ExperimentSpec proto;
  v1::Architecture* a = proto.mutable_architecture();
  if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture)) {
    v1::Mlp* p = a->mutable_mlp();
    p->set_input_dim(mlp->input_dim);
    p->mutable_widths()->Add(mlp->widths.begin(), mlp->widths.end());
    p->set_activation(ActivationToProto(mlp->activation));
    p->mutable_sw()->Add(mlp->sw.begin(), mlp->sw.end());
    p->mutable_sb()->Add(mlp->sb.begin(), mlp->sb.end());
    p->set_first_bias(mlp->first_bias == BiasLaw::kUniformPhase
                          ? v1::BIAS_LAW_UNIFORM_PHASE
                          : v1::BIAS_LAW_GAUSSIAN);
    p->set_residual(mlp->residual);
    p->set_input_projection_dim(mlp->input_projection_dim);
    if (mlp->input_projection_dim > 0) {
      p->set_input_projection_scale(mlp->input_projection_scale);
    }
  } else if (const auto* g = std::get_if<GaussNetSpec>(&spec.architecture)) {
    v1::GaussNet* p = a->mutable_gauss_net();
    p->set_input_dim(g->input_dim);
    p->set_width(g->width);
    p->set_sw0(g->sw0);
    p->set_sb0(g->sb0);
    p->set_sw1(g->sw1);
    p->set_sb1(g->sb1);
  } else if (const auto* c = std::get_if<CosNetSpec>(&spec.architecture)) {
    v1::CosNet* p = a->mutable_cos_net();
    p->set_input_dim(c->input_dim);
    p->set_width(c->width);
    p->set_mass(c->mass);
    p->set_cutoff(c->cutoff);
    p->set_sa(c->sa);
  } else if (const auto* n = std::get_if<NullConeSpec>(&spec.architecture)) {
    v1::NullCone* p = a->mutable_null_cone();
    p->set_input_dim(n->input_dim);
    p->set_law(n->law == ThetaLaw::kGaussian ? v1::THETA_LAW_GAUSSIAN
               : n->law == ThetaLaw::kRadial ? v1::THETA_LAW_RADIAL
                                             : v1::THETA_LAW_SPHERE);
    p->set_scale(n->scale);
    p->mutable_radii()->Add(n->radii.begin(), n->radii.end());
    p->mutable_radial_weights()->Add(n->radial_weights.begin(),
                                     n->radial_weights.end());
  } else if (const auto* ou = std::get_if<OuNetSpec>(&spec.architecture)) {
    const auto& o = *ou;
    v1::OuNet* p = a->mutable_ou_net();
    p->set_tau(o.tau);
    p->set_sigma(o.sigma);
    ExperimentSpec inner;
    inner.architecture = o.mlp;
    *p->mutable_mlp() = SpecToProto(inner).architecture().mlp();
  } else {
    ExtraArchitectureToProto(spec.architecture, a);
  }
  if (spec.reflection.enabled) {
    v1::ReflectionPositivity* r = proto.mutable_reflection_positivity();
    r->set_axis(spec.reflection.axis);
    r->set_include_four_point(spec.reflection.include_four_point);
    r->set_z_threshold(spec.reflection.z_threshold);
    for (Eigen::Index i = 0; i < spec.reflection.points.rows(); ++i) {
      auto* x = r->add_points()->mutable_x();
      for (Eigen::Index j = 0; j < spec.reflection.points.cols(); ++j) {
        x->Add(spec.reflection.points(i, j));
      }
    }
  }
  for (Eigen::Index i = 0; i < spec.points.rows(); ++i) {
    auto* x = proto.add_points()->mutable_x();
    x->Reserve(static_cast<int>(spec.points.cols()));
    for (Eigen::Index j = 0; j < spec.points.cols(); ++j) {
      x->Add(spec.points(i, j));
    }
  }
  v1::Observables* obs = proto.mutable_observables();
  obs->mutable_orders()->Add(spec.observables.orders.begin(),
                             spec.observables.orders.end());
  for (const auto& t : spec.observables.tuples) {
    obs->add_tuples()->mutable_index()->Add(t.begin(), t.end());
  }
  v1::Sampling* s = proto.mutable_sampling();
  s->set_seed(spec.sampling.seed);
  s->set_num_networks(spec.sampling.num_networks);
  s->set_chunk_size(spec.sampling.chunk_size);
  s->set_precision(spec.sampling.precision == Precision::kFloat32
                       ? v1::PRECISION_FLOAT32
                       : v1::PRECISION_FLOAT64);
  s->set_integrate_output_layer(spec.sampling.integrate_output_layer);
  s->set_integrate_first_layer_bias(spec.sampling.integrate_first_layer_bias);
  if (spec.training) TrainingToProto(*spec.training, proto.mutable_training());
  proto.mutable_width_sweep()->mutable_widths()->Add(spec.width_sweep.begin(),
                                                     spec.width_sweep.end());
  if (spec.width_sweep.empty()) proto.clear_width_sweep();
  InteractionsToProto(spec, &proto);
  FieldOptionsToProto(spec.architecture, proto.mutable_architecture());
  ChecksToProto(spec, &proto);
  return proto;
}

std::string SpecProtoToJson(const v1::ExperimentSpec& proto, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = false;
  std::string json;
  // Printing a well-formed message cannot fail (no Any fields in the spec).
  const auto status =
      google::protobuf::util::MessageToJsonString(proto, &json, options);
  if (!status.ok()) return "{}";
  return json;
}

}  // namespace nnft::server
