// Training flow -> proto (convert.h): rows per recorded time and the
// empirical NTK, each small enough for one result piece (P <= 64).
#include <algorithm>

#include "server/api/convert.h"

namespace nnft::server {
namespace {

void AppendMatrix(const Eigen::MatrixXd& m, int n,
                  google::protobuf::RepeatedField<double>* out) {
  if (m.rows() < n || m.cols() < n) return;
  out->Reserve(n * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) out->Add(m(i, j));
  }
}

void AppendVector(const Eigen::VectorXd& v, int n,
                  google::protobuf::RepeatedField<double>* out) {
  if (v.size() < n) return;
  out->Add(v.data(), v.data() + n);
}

}  // namespace

void TrainingTimeToProto(const TrainingTimeEstimate& row, int index,
                         int max_points, v1::TrainingTime* out) {
  const int n = std::min<int>(max_points, static_cast<int>(row.mu.size()));
  out->set_index(index);
  out->set_t(row.t);
  out->set_loss_mean(row.loss_mean);
  out->set_loss_stderr(row.loss_stderr);
  out->set_loss_std(row.loss_std);
  out->set_num_points(n);
  AppendVector(row.mu, n, out->mutable_mu());
  AppendVector(row.mu_stderr, n, out->mutable_mu_stderr());
  AppendVector(row.mu_theory, n, out->mutable_mu_theory());
  AppendMatrix(row.sigma, n, out->mutable_sigma());
  AppendMatrix(row.sigma_stderr, n, out->mutable_sigma_stderr());
  AppendMatrix(row.sigma_theory, n, out->mutable_sigma_theory());
}

void LossHistogramToProto(const TrainingFlow& flow,
                          const TrainingTimeEstimate& row,
                          v1::TrainingTime* out) {
  const size_t slots = row.loss_histogram.size();
  if (slots < 2 || flow.loss_histogram_edges.size() + 1 != slots) return;
  out->mutable_loss_histogram_edges()->Add(flow.loss_histogram_edges.begin(),
                                           flow.loss_histogram_edges.end());
  out->set_loss_histogram_underflow(row.loss_histogram.front());
  out->mutable_loss_histogram_counts()->Add(row.loss_histogram.begin() + 1,
                                            row.loss_histogram.end() - 1);
  out->set_loss_histogram_overflow(row.loss_histogram.back());
  out->mutable_loss_quantile_levels()->Add(flow.loss_quantile_levels.begin(),
                                           flow.loss_quantile_levels.end());
  out->mutable_loss_quantiles()->Add(row.loss_quantiles.begin(),
                                     row.loss_quantiles.end());
}

void EmpiricalNtkToProto(const TrainingFlow& flow, v1::EmpiricalNtk* out) {
  const int n = static_cast<int>(flow.ntk_mean.rows());
  out->set_num_points(n);
  AppendMatrix(flow.ntk_mean, n, out->mutable_mean());
  AppendMatrix(flow.ntk_stderr, n, out->mutable_stderr());
  AppendMatrix(flow.ntk_std, n, out->mutable_std());
  AppendMatrix(flow.ntk_theory, n, out->mutable_theory());
}

bool ResultPieces::NextTraining(v1::ResultPiece* piece) {
  const TrainingFlow& flow = *result_->training;
  if (next_time_ < static_cast<int>(flow.times.size())) {
    const TrainingTimeEstimate& row = flow.times[next_time_];
    TrainingTimeToProto(row, next_time_, static_cast<int>(row.mu.size()),
                        piece->mutable_training_time());
    LossHistogramToProto(flow, row, piece->mutable_training_time());
    ++next_time_;
    return true;
  }
  if (!ntk_sent_ && flow.ntk_mean.size() > 0) {
    ntk_sent_ = true;
    EmpiricalNtkToProto(flow, piece->mutable_empirical_ntk());
    return true;
  }
  return false;
}

}  // namespace nnft::server
