// ComputeKernel's cross points and NTK answer <-> proto (convert.h).
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "server/api/convert.h"

namespace nnft::server {
namespace {

void AddMatrix(const Eigen::MatrixXd& m,
               google::protobuf::RepeatedField<double>* out) {
  out->Reserve(static_cast<int>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) out->Add(m(i, j));
  }
}

}  // namespace

absl::StatusOr<Eigen::MatrixXd> CrossPointsFromProto(
    const v1::ComputeKernelRequest& request, int input_dim,
    const Limits& limits) {
  const int q = request.cross_points_size();
  if (q > limits.max_points) {
    return Eigen::MatrixXd(q, 0);  // core names the limit
  }
  Eigen::MatrixXd points(q, input_dim);
  for (int i = 0; i < q; ++i) {
    const auto& x = request.cross_points(i).x();
    if (x.size() != input_dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cross_points[", i, "].x has ", x.size(),
          " coordinates: must have the architecture's input_dim = ",
          input_dim));
    }
    // -0.0 as +0.0, as SpecFromProto reads the spec's points.
    for (int j = 0; j < input_dim; ++j) points(i, j) = x[j] + 0.0;
  }
  return points;
}

void KernelAnswerToProto(const theory::KernelAnswer& answer,
                         v1::ComputeKernelResponse* out) {
  AddMatrix(answer.ntk, out->mutable_ntk());
  out->set_ntk_absent_reason(answer.ntk_absent_reason);
  out->set_num_cross_points(static_cast<int>(answer.num_cross_points));
  AddMatrix(answer.cross_kernel, out->mutable_cross_kernel());
  out->set_cross_kernel_absent_reason(answer.cross_kernel_absent_reason);
  AddMatrix(answer.cross_ntk, out->mutable_cross_ntk());
  if (!answer.prediction) return;
  const theory::FlowTheory& flow = *answer.prediction;
  v1::TrainingPrediction* p = out->mutable_prediction();
  const int64_t m = flow.tangent.rows();
  p->mutable_times()->Add(flow.times.begin(), flow.times.end());
  p->set_num_points(static_cast<int>(m));
  p->mutable_mean()->Reserve(static_cast<int>(flow.mean.size() * m));
  p->mutable_covariance()->Reserve(static_cast<int>(flow.cov.size() * m * m));
  for (size_t i = 0; i < flow.mean.size(); ++i) {
    for (int64_t a = 0; a < m; ++a) p->add_mean(flow.mean[i](a));
    AddMatrix(flow.cov[i], p->mutable_covariance());
    p->add_loss(flow.loss[i]);
  }
  p->set_max_stable_eta(flow.max_stable_eta);
  p->set_method(flow.method);
}

}  // namespace nnft::server
