// Core analyses -> proto: the null-cone conformal result and the
// reflection-positivity spectra carried in ResultHeader (convert.h).
#include "server/api/convert.h"

namespace nnft::server {
namespace {

void MeasuredToProto(double value, double stderr_value, double exact,
                     v1::Measured* out) {
  out->set_value(value);
  out->set_stderr(stderr_value);
  out->set_exact(exact);
}

void MatrixToProto(const Eigen::MatrixXd& m,
                   google::protobuf::RepeatedField<double>* out) {
  out->Reserve(static_cast<int>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) out->Add(m(i, j));
  }
}

void RpMatrixToProto(const RpMatrix& m, v1::RpMatrix* out) {
  out->set_size(m.size);
  MatrixToProto(m.estimate, out->mutable_matrix());
  out->mutable_eigenvalues()->Add(m.eigenvalues.begin(), m.eigenvalues.end());
  out->mutable_eigenvalue_stderr()->Add(m.eigenvalue_stderr.begin(),
                                        m.eigenvalue_stderr.end());
  out->set_min_eigenvalue(m.min_eigenvalue);
  out->set_min_stderr(m.min_stderr);
  out->set_z(m.z);
  out->set_verdict(m.verdict);
  out->set_p_negative(m.p_negative);
  out->set_has_exact(m.has_exact);
  if (m.has_exact) {
    MatrixToProto(m.exact, out->mutable_exact_matrix());
    out->mutable_exact_eigenvalues()->Add(m.exact_eigenvalues.begin(),
                                          m.exact_eigenvalues.end());
  }
}

}  // namespace

void ConformalToProto(const ConformalResult& r, v1::ConformalResult* out) {
  out->set_dimension(r.dimension);
  MeasuredToProto(r.mu2, r.mu2_stderr, r.mu2_exact, out->mutable_mu2());
  MeasuredToProto(r.mu4, r.mu4_stderr, r.mu4_exact, out->mutable_mu4());
  MeasuredToProto(r.mu4_mixed, r.mu4_mixed_stderr, r.mu4_exact,
                  out->mutable_mu4_mixed());
  for (const ConformalTwoPoint& e : r.two_point) {
    auto* p = out->add_two_point();
    p->set_i(e.i);
    p->set_j(e.j);
    MeasuredToProto(e.value, e.stderr_value, e.exact, p->mutable_g2());
  }
  for (const ConformalFourPoint& e : r.four_point) {
    auto* p = out->add_four_point();
    p->mutable_index()->Add(e.index.begin(), e.index.end());
    p->set_u(e.u);
    p->set_v(e.v);
    MeasuredToProto(e.g4, e.g4_stderr, e.g4_exact, p->mutable_g4());
    MeasuredToProto(e.g4c, e.g4c_stderr, e.g4c_exact,
                    p->mutable_g4_connected());
    MeasuredToProto(e.g, e.g_stderr, e.g_exact, p->mutable_g());
  }
  out->set_two_point_omitted(r.two_point_omitted);
  out->set_four_point_omitted(r.four_point_omitted);
  for (const CovarianceCheck& c : r.checks) {
    auto* p = out->add_checks();
    p->set_transformation(c.transformation);
    p->set_dof(c.dof);
    p->set_chi2_per_dof(c.chi2_per_dof);
    p->set_max_abs_z(c.max_abs_z);
    p->set_passed(c.passed);
    p->set_note(c.note);
  }
}

void ReflectionToProto(const ReflectionResult& r,
                       v1::ReflectionPositivityResult* out) {
  out->set_axis(r.axis);
  out->set_z_threshold(r.z_threshold);
  for (Eigen::Index i = 0; i < r.points.rows(); ++i) {
    auto* x = out->add_points()->mutable_x();
    for (Eigen::Index j = 0; j < r.points.cols(); ++j) x->Add(r.points(i, j));
  }
  RpMatrixToProto(r.two_point, out->mutable_two_point());
  if (r.has_four_point) {
    RpMatrixToProto(r.four_point, out->mutable_four_point());
  }
}

}  // namespace nnft::server
