// Spec conversions: proto <-> core, JSON <-> proto. See spec_json.h.
#include "server/spec_json.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace nnft::server {
namespace {

// Field paths in messages start at the request's `spec` field.
constexpr absl::string_view kPrefix = "spec.";

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(kPrefix, field, what));
}

absl::StatusOr<Activation> ActivationFromProto(int value) {
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
      return Invalid("architecture.mlp.activation",
                     ": required (one of ACTIVATION_IDENTITY, RELU, ERF, "
                     "TANH, SIGMOID, GELU, SOFTPLUS, SIN, COS)");
  }
  return Invalid("architecture.mlp.activation",
                 absl::StrCat(" = ", value, ": unknown value"));
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
  return mlp;
}

GaussNetSpec GaussNetFromProto(const v1::GaussNet& p) {
  GaussNetSpec g;
  g.input_dim = p.input_dim();
  g.width = p.width();
  g.sw0 = p.has_sw0() ? p.sw0() : 1.0;
  g.sb0 = p.sb0();
  g.sw1 = p.has_sw1() ? p.sw1() : 1.0;
  g.sb1 = p.sb1();
  return g;
}

CosNetSpec CosNetFromProto(const v1::CosNet& p) {
  CosNetSpec c;
  c.input_dim = p.input_dim();
  c.width = p.width();
  c.mass = p.has_mass() ? p.mass() : 1.0;
  c.cutoff = p.has_cutoff() ? p.cutoff() : 10.0;
  c.sa = p.has_sa() ? p.sa() : 1.0;
  return c;
}

absl::StatusOr<NullConeSpec> NullConeFromProto(const v1::NullCone& p) {
  NullConeSpec c;
  c.input_dim = p.input_dim();
  c.scale = p.has_scale() ? p.scale() : 1.0;
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
  o.tau = p.has_tau() ? p.tau() : 1.0;
  o.sigma = p.has_sigma() ? p.sigma() : 1.0;
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
    case v1::Architecture::KIND_NOT_SET:
      break;
  }
  return Invalid("architecture",
                 ": no architecture set (one of mlp, gauss_net, cos_net, "
                 "null_cone, ou_net)");
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
  out->z_threshold = r.has_z_threshold() ? r.z_threshold() : 3.0;
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
  s.num_networks = p.has_num_networks() ? p.num_networks() : 100000;
  s.chunk_size = p.has_chunk_size() ? p.chunk_size() : 1000;
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
  return s;
}

}  // namespace

absl::StatusOr<ExperimentSpec> SpecFromProto(const v1::ExperimentSpec& proto,
                                             const Limits& limits) {
  ExperimentSpec spec;
  NNFT_ASSIGN_OR_RETURN(spec.architecture, ArchitectureFromProto(proto));
  NNFT_ASSIGN_OR_RETURN(
      spec.points, PointsFromProto(proto, InputDim(spec.architecture), limits));
  const v1::Observables& obs = proto.observables();
  if (obs.orders().empty()) {
    spec.observables.orders = {2, 4};
  } else {
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
  } else {
    const auto& o = std::get<OuNetSpec>(spec.architecture);
    v1::OuNet* p = a->mutable_ou_net();
    p->set_tau(o.tau);
    p->set_sigma(o.sigma);
    ExperimentSpec inner;
    inner.architecture = o.mlp;
    *p->mutable_mlp() = SpecToProto(inner).architecture().mlp();
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
