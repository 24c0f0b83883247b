// Conversions of the multi-component options and checks
// (server/spec/spec_proto_sym.h).
#include "server/spec/spec_proto_sym.h"

#include <cstdint>
#include <variant>

namespace nnft::server {
namespace {

// An n x n matrix from its row-major values; any other count (or an n out
// of range, from a spec not yet validated) gives a 1 x size matrix whose
// shape validation then reports.
Eigen::MatrixXd MatrixFromProto(const v1::Matrix& m, int n) {
  const int size = m.values_size();
  if (n <= 0 || size != int64_t{n} * n) {
    Eigen::MatrixXd out(1, size);
    for (int i = 0; i < size; ++i) out(0, i) = m.values(i);
    return out;
  }
  Eigen::MatrixXd out(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) out(i, j) = m.values(i * n + j);
  }
  return out;
}

void MatrixToProto(const Eigen::MatrixXd& m, v1::Matrix* out) {
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) out->add_values(m(i, j));
  }
}

template <typename Proto>
void CommonFromProto(const Proto& p, FieldOptions& s) {
  s.output_dim = p.output_dim() == 0 ? 1 : p.output_dim();
  s.sw0_axes.assign(p.sw0_axes().begin(), p.sw0_axes().end());
  s.output_mean.assign(p.output_mean().begin(), p.output_mean().end());
}

template <typename Proto>
void CommonToProto(const FieldOptions& s, Proto* p) {
  if (s.output_dim != 1) p->set_output_dim(s.output_dim);
  p->mutable_sw0_axes()->Add(s.sw0_axes.begin(), s.sw0_axes.end());
  p->mutable_output_mean()->Add(s.output_mean.begin(), s.output_mean.end());
}

SymmetryCheck SymmetryFromProto(const v1::SymmetryCheck& p, int d, int dout) {
  using Kind = SymmetryCheck::Kind;
  SymmetryCheck c;
  c.label = p.label();
  switch (p.transform_case()) {
    case v1::SymmetryCheck::kRotation:
      c.kind = Kind::kRotation;
      c.matrix = MatrixFromProto(p.rotation(), d);
      break;
    case v1::SymmetryCheck::kTranslation:
      c.kind = Kind::kTranslation;
      c.vector = Eigen::Map<const Eigen::VectorXd>(p.translation().x().data(),
                                                   p.translation().x_size());
      break;
    case v1::SymmetryCheck::kReflectionAxis:
      c.kind = Kind::kReflection;
      c.axis = p.reflection_axis();
      break;
    case v1::SymmetryCheck::kOutputRotation:
      c.kind = Kind::kOutputRotation;
      c.matrix = MatrixFromProto(p.output_rotation(), dout);
      break;
    case v1::SymmetryCheck::kCoordinatePermutation:
      c.kind = Kind::kCoordinatePermutation;
      c.permutation.assign(p.coordinate_permutation().index().begin(),
                           p.coordinate_permutation().index().end());
      break;
    case v1::SymmetryCheck::kPhiSignFlip:
    case v1::SymmetryCheck::TRANSFORM_NOT_SET:
      c.kind = Kind::kPhiSignFlip;
      break;
  }
  return c;
}

void SymmetryToProto(const SymmetryCheck& c, v1::SymmetryCheck* p) {
  using Kind = SymmetryCheck::Kind;
  p->set_label(c.label);
  switch (c.kind) {
    case Kind::kRotation:
      MatrixToProto(c.matrix, p->mutable_rotation());
      break;
    case Kind::kTranslation:
      p->mutable_translation()->mutable_x()->Add(
          c.vector.data(), c.vector.data() + c.vector.size());
      break;
    case Kind::kReflection:
      p->set_reflection_axis(c.axis);
      break;
    case Kind::kPhiSignFlip:
      p->set_phi_sign_flip(true);
      break;
    case Kind::kOutputRotation:
      MatrixToProto(c.matrix, p->mutable_output_rotation());
      break;
    case Kind::kCoordinatePermutation:
      p->mutable_coordinate_permutation()->mutable_index()->Add(
          c.permutation.begin(), c.permutation.end());
      break;
  }
}

}  // namespace

void FieldOptionsFromProto(const v1::Architecture& proto,
                           Architecture& architecture) {
  if (auto* m = std::get_if<MlpSpec>(&architecture)) {
    CommonFromProto(proto.mlp(), m->field);
  } else if (auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    CommonFromProto(proto.gauss_net(), g->field);
  } else if (auto* c = std::get_if<CosNetSpec>(&architecture)) {
    c->output_dim =
        proto.cos_net().output_dim() == 0 ? 1 : proto.cos_net().output_dim();
  }
}

void FieldOptionsToProto(const Architecture& architecture,
                         v1::Architecture* proto) {
  if (const auto* m = std::get_if<MlpSpec>(&architecture)) {
    CommonToProto(m->field, proto->mutable_mlp());
  } else if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    CommonToProto(g->field, proto->mutable_gauss_net());
  } else if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    if (c->output_dim != 1) {
      proto->mutable_cos_net()->set_output_dim(c->output_dim);
    }
  }
}

void ChecksFromProto(const v1::ExperimentSpec& proto, int d, int dout,
                     ExperimentSpec& spec) {
  for (const v1::SymmetryCheck& p : proto.symmetry_checks()) {
    spec.symmetry_checks.push_back(SymmetryFromProto(p, d, dout));
  }
  for (const v1::ClusterCheck& p : proto.cluster_checks()) {
    ClusterCheck c;
    c.label = p.label();
    c.points.assign(p.points().begin(), p.points().end());
    c.component = p.component();
    c.direction = Eigen::Map<const Eigen::VectorXd>(p.direction().data(),
                                                    p.direction_size());
    c.separations.assign(p.separations().begin(), p.separations().end());
    spec.cluster_checks.push_back(std::move(c));
  }
}

void ChecksToProto(const ExperimentSpec& spec, v1::ExperimentSpec* proto) {
  for (const SymmetryCheck& c : spec.symmetry_checks) {
    SymmetryToProto(c, proto->add_symmetry_checks());
  }
  for (const ClusterCheck& c : spec.cluster_checks) {
    v1::ClusterCheck* p = proto->add_cluster_checks();
    p->set_label(c.label);
    p->mutable_points()->Add(c.points.begin(), c.points.end());
    p->set_component(c.component);
    p->mutable_direction()->Add(c.direction.data(),
                                c.direction.data() + c.direction.size());
    p->mutable_separations()->Add(c.separations.begin(), c.separations.end());
  }
}

}  // namespace nnft::server
