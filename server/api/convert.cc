// Core results -> proto. See convert.h.
#include "server/api/convert.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "server/api/convert_sym.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

// Bound on the serialised bytes one entry adds to an EntryBlock: its index
// tuple (at most 6 indices < 2^21, 3 bytes each, plus tags and lengths),
// 17 doubles (estimate 5, theory 4, z-scores 3, reweighting 5) of 8 bytes in
// packed fields, and its EntryReliability (kMaxReliabilityBytes).
constexpr int64_t kMaxEntryBytes = 32 + 17 * 8 + kMaxReliabilityBytes;
// Room for tags, lengths and the block's scalar fields.
constexpr int64_t kBlockOverheadBytes = 4096;

// Networks per chunk of the job's spec (the proto default when unset).
int64_t ChunkSize(const v1::ExperimentSpec& spec) {
  return spec.sampling().has_chunk_size() ? spec.sampling().chunk_size() : 1000;
}

template <typename T>
void AppendRange(const std::vector<T>& values, int64_t begin, int64_t end,
                 google::protobuf::RepeatedField<T>* out) {
  if (begin >= static_cast<int64_t>(values.size())) return;
  end = std::min<int64_t>(end, values.size());
  out->Add(values.begin() + begin, values.begin() + end);
}

// The weights' summary; lambda and the warning threshold from the job's spec.
v1::ReweightSummary ReweightSummaryToProto(const ReweightEstimate& rw,
                                           const v1::ExperimentSpec& spec) {
  v1::ReweightSummary out;
  const double fraction = spec.insertion().has_ess_warning_fraction()
                              ? spec.insertion().ess_warning_fraction()
                              : 0.1;
  out.set_lambda(spec.insertion().lambda());
  out.set_ess(rw.ess);
  out.set_ess_fraction(rw.ess_fraction);
  out.set_ess_warning(rw.ess_fraction < fraction);
  if (out.ess_warning()) {
    out.set_warning(absl::StrCat(
        "effective sample size ", rw.ess, " is ", rw.ess_fraction,
        " of the networks, below ess_warning_fraction = ", fraction,
        ": the reweighted estimates rest on few networks and their errors "
        "may be unreliable (lower lambda or the box volume)"));
  }
  out.set_mean_action(rw.mean_action);
  out.set_mean_action_weighted(rw.mean_action_weighted);
  return out;
}

void EffectiveCouplingToProto(const JobResult& r,
                              v1::EffectiveCouplingResult* out) {
  if (!r.effective_coupling_status.ok()) {
    out->set_error(std::string(r.effective_coupling_status.message()));
    return;
  }
  if (!r.effective_coupling) return;
  const EffectiveCouplingResult& ec = *r.effective_coupling;
  out->mutable_cutoffs()->Add(ec.cutoffs.begin(), ec.cutoffs.end());
  out->mutable_lambda()->Add(ec.lambda.begin(), ec.lambda.end());
  out->mutable_lambda_stderr()->Add(ec.lambda_stderr.begin(),
                                    ec.lambda_stderr.end());
  out->mutable_tuples_used()->Add(ec.tuples_used.begin(), ec.tuples_used.end());
  out->set_slope(ec.slope);
  out->set_slope_stderr(ec.slope_stderr);
  for (const Tuple& t : ec.vertex_tuples) {
    out->add_vertex_tuples()->mutable_index()->Add(t.begin(), t.end());
  }
  out->mutable_vertex()->Add(ec.vertex.begin(), ec.vertex.end());
  out->mutable_vertex_stderr()->Add(ec.vertex_stderr.begin(),
                                    ec.vertex_stderr.end());
  out->set_method(ec.method);
}

}  // namespace

v1::Job::State StateToProto(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return v1::Job::QUEUED;
    case JobState::kRunning:
      return v1::Job::RUNNING;
    case JobState::kSucceeded:
      return v1::Job::SUCCEEDED;
    case JobState::kFailed:
      return v1::Job::FAILED;
    case JobState::kCancelled:
      return v1::Job::CANCELLED;
  }
  return v1::Job::STATE_UNSPECIFIED;
}

void TimeToProto(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(time);
  out->set_seconds(nanos >= 0 ? nanos / 1000000000
                              : -((-nanos + 999999999) / 1000000000));
  out->set_nanos(static_cast<int32_t>(nanos - out->seconds() * 1000000000));
}

absl::Status CheckSpecText(const v1::ExperimentSpec& spec) {
  auto check = [](const std::string& text,
                  const auto&... field) -> absl::Status {
    if (static_cast<int64_t>(text.size()) <= kMaxLabelBytes) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(field..., " has ", text.size(),
                     " bytes: must have at most ", kMaxLabelBytes, " bytes"));
  };
  NNFT_RETURN_IF_ERROR(check(spec.label(), "spec.label"));
  for (int i = 0; i < spec.symmetry_checks_size(); ++i) {
    NNFT_RETURN_IF_ERROR(check(spec.symmetry_checks(i).label(),
                               "spec.symmetry_checks[", i, "].label"));
  }
  for (int i = 0; i < spec.cluster_checks_size(); ++i) {
    NNFT_RETURN_IF_ERROR(check(spec.cluster_checks(i).label(),
                               "spec.cluster_checks[", i, "].label"));
  }
  return absl::OkStatus();
}

std::string TruncateUtf8(const std::string& text, int64_t max_bytes) {
  if (static_cast<int64_t>(text.size()) <= max_bytes) return text;
  size_t end = static_cast<size_t>(std::max<int64_t>(max_bytes, 0));
  // Back up over continuation bytes (10xxxxxx) to a character's first byte.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

namespace {

// Every field of the job but its spec; `chunk_size` sets networks_total.
void JobFieldsToProto(const JobSnapshot& job, int64_t chunk_size,
                      v1::Job* out) {
  out->set_name(job.name);
  out->set_state(StateToProto(job.state));
  out->set_digest(job.digest);
  out->set_request_id(job.request_id);
  out->set_priority(job.priority);
  v1::Progress* p = out->mutable_progress();
  p->set_chunks_total(job.chunks_total);
  p->set_chunks_done(job.chunks_done);
  p->set_chunks_from_store(job.chunks_from_store);
  p->set_networks_done(job.networks_done);
  p->set_networks_total(job.chunks_total * chunk_size);
  if (job.create_time != absl::InfinitePast()) {
    TimeToProto(job.create_time, out->mutable_create_time());
  }
  if (job.start_time != absl::InfinitePast()) {
    TimeToProto(job.start_time, out->mutable_start_time());
  }
  if (job.end_time != absl::InfinitePast()) {
    TimeToProto(job.end_time, out->mutable_end_time());
  }
  if (!job.error.ok()) {
    out->set_error_code(static_cast<int>(job.error.code()));
    out->set_error_message(std::string(job.error.message()));
  }
  out->set_submissions(job.submissions);
}

}  // namespace

v1::Job JobToProtoWithoutSpec(const JobSnapshot& job,
                              const v1::ExperimentSpec& submitted) {
  v1::Job out;
  JobFieldsToProto(job, ChunkSize(submitted), &out);
  return out;
}

v1::Job JobToProto(const JobSnapshot& job) {
  v1::Job out;
  absl::StatusOr<v1::ExperimentSpec> spec =
      job.submitted_spec != nullptr ? *job.submitted_spec
                                    : SpecProtoFromJson(job.spec_json);
  if (spec.ok()) {
    *out.mutable_spec() = *std::move(spec);
    v1::ExperimentSpec* s = out.mutable_spec();
    s->set_label(TruncateUtf8(s->label(), kMaxLabelBytes));
    for (v1::SymmetryCheck& c : *s->mutable_symmetry_checks()) {
      c.set_label(TruncateUtf8(c.label(), kMaxLabelBytes));
    }
    for (v1::ClusterCheck& c : *s->mutable_cluster_checks()) {
      c.set_label(TruncateUtf8(c.label(), kMaxLabelBytes));
    }
  }
  JobFieldsToProto(job, ChunkSize(out.spec()), &out);
  return out;
}

void ReliabilityToProto(const EntryReliability& r, v1::EntryReliability* out) {
  // Core's verdicts in order after the proto's UNSPECIFIED.
  static_assert(static_cast<int>(Verdict::kOk) + 1 == v1::VERDICT_OK &&
                static_cast<int>(Verdict::kNoError) + 1 ==
                    v1::VERDICT_NO_ERROR);
  out->set_verdict(static_cast<v1::Verdict>(static_cast<int>(r.verdict) + 1));
  // The reasons are one line of fixed text and a few numbers; the cut only
  // guards the piece-size bound.
  out->set_reason(r.reason.substr(0, kMaxReasonBytes));
  out->set_dof(r.dof);
  out->set_t95(r.t95);
  out->set_skewness_z(r.skewness_z);
  out->set_kurtosis_z(r.kurtosis_z);
  out->set_max_bin_share(r.max_bin_share);
}

void EstimateToProto(const CorrelatorEstimate& estimate, int64_t begin,
                     int64_t end, v1::Estimate* out) {
  end = std::min<int64_t>(end, estimate.tuples.size());
  for (int64_t i = begin; i < end; ++i) {
    out->add_tuples()->mutable_index()->Add(estimate.tuples[i].begin(),
                                            estimate.tuples[i].end());
  }
  AppendRange(estimate.mean, begin, end, out->mutable_mean());
  AppendRange(estimate.stderr_mean, begin, end, out->mutable_stderr());
  AppendRange(estimate.connected, begin, end, out->mutable_connected());
  AppendRange(estimate.stderr_connected, begin, end,
              out->mutable_connected_stderr());
  for (int64_t i = begin;
       i < std::min<int64_t>(end, estimate.reliability.size()); ++i) {
    ReliabilityToProto(estimate.reliability[i], out->add_reliability());
  }
  out->set_networks(estimate.networks);
  out->set_chunks(estimate.chunks);
  out->set_bins(estimate.bins);
  out->set_seed(estimate.seed);
}

void TheoryToProto(const TheoryValues& theory, int64_t begin, int64_t end,
                   v1::Theory* out) {
  AppendRange(theory.gp_full, begin, end, out->mutable_gp());
  AppendRange(theory.gp_connected, begin, end, out->mutable_gp_connected());
  AppendRange(theory.exact_full, begin, end, out->mutable_exact());
  AppendRange(theory.exact_connected, begin, end,
              out->mutable_exact_connected());
  out->set_has_exact(theory.has_exact);
  out->set_leading_order(theory.leading_order_in_inverse_width);
}

v1::ComparisonSummary SummaryToProto(const Comparison& comparison) {
  v1::ComparisonSummary out;
  out.set_chi2(comparison.chi2);
  out.set_dof(comparison.dof);
  out.set_chi2_per_dof(comparison.chi2_per_dof);
  out.set_max_abs_z(comparison.max_abs_z);
  return out;
}

v1::JobUpdate JobUpdateToProto(const JobSnapshot& job, int max_entries) {
  v1::JobUpdate out;
  *out.mutable_job() = JobToProto(job);
  if (job.estimate.has_value()) {
    const CorrelatorEstimate& e = *job.estimate;
    EstimateToProto(e, 0, max_entries, out.mutable_estimate());
    double max_stderr = 0;
    for (double s : e.stderr_mean) {
      if (std::isfinite(s)) max_stderr = std::max(max_stderr, s);
    }
    out.set_max_stderr(max_stderr);
    if (e.reweight.has_value()) {
      *out.mutable_reweight() =
          ReweightSummaryToProto(*e.reweight, out.job().spec());
    }
  }
  if (job.training) {
    constexpr int kUpdatePoints = 8;
    for (size_t i = 0; i < job.training->times.size(); ++i) {
      v1::TrainingTime* row = out.add_training();
      TrainingTimeToProto(job.training->times[i], static_cast<int>(i),
                          kUpdatePoints, row);
      LossHistogramToProto(*job.training, job.training->times[i], row);
    }
  }
  if (job.checks) CheckResultsToProto(*job.checks, &out);
  if (!job.sweep.empty()) {
    SweepUpdateToProto(job, max_entries, out.mutable_width_sweep());
  }
  return out;
}

ResultPieces::ResultPieces(std::shared_ptr<const JobResult> result,
                           std::string engine_fingerprint)
    : result_(std::move(result)),
      engine_fingerprint_(std::move(engine_fingerprint)),
      entries_per_block_((kMaxPieceBytes - kBlockOverheadBytes) /
                         kMaxEntryBytes) {
  const int64_t p = result_->theory.kernel.rows();
  const int64_t row_bytes = std::max<int64_t>(1, 8 * p);
  rows_per_block_ = static_cast<int>(
      std::max<int64_t>(1, (kMaxPieceBytes - kBlockOverheadBytes) / row_bytes));
}

void ResultPieces::FillHeader(v1::ResultHeader* header) const {
  const JobResult& r = *result_;
  *header->mutable_job() = JobToProto(r.job);
  // The spec can be far larger than a piece (P x d doubles): GetJob has it.
  if (static_cast<int64_t>(header->job().spec().ByteSizeLong()) >
      kMaxPieceBytes / 2) {
    header->mutable_job()->clear_spec();
  }
  header->set_num_entries(static_cast<int64_t>(r.estimate.tuples.size()));
  header->set_num_points(static_cast<int>(r.theory.kernel.rows()));
  if (header->num_points() == 0 && header->job().has_spec()) {
    header->set_num_points(header->job().spec().points_size());
  }
  header->set_networks(r.estimate.networks);
  header->set_chunks(r.estimate.chunks);
  header->set_bins(r.estimate.bins);
  header->set_seed(r.estimate.seed);
  header->set_theory_method(r.theory.method);
  header->set_has_exact(r.theory.has_exact);
  header->set_theory_leading_order(r.theory.leading_order_in_inverse_width);
  *header->mutable_vs_exact() = SummaryToProto(r.vs_exact);
  *header->mutable_vs_gp() = SummaryToProto(r.vs_gp);
  *header->mutable_vs_exact_connected() =
      SummaryToProto(result_->vs_exact_connected);
  header->set_engine_fingerprint(engine_fingerprint_);
  if (r.conformal) ConformalToProto(*r.conformal, header->mutable_conformal());
  if (r.reflection) {
    ReflectionToProto(*r.reflection, header->mutable_reflection_positivity());
  }
  if (r.training) {
    header->set_num_entries(0);  // the flow comes as TrainingTime pieces
    header->set_training_times(static_cast<int>(r.training->times.size()));
    header->set_training_theory_method(r.training->theory_method);
  }
  if (r.sweep) SweepSummaryToProto(*r.sweep, header->mutable_width_sweep());
  if (r.estimate.reweight.has_value()) {
    *header->mutable_reweight() =
        ReweightSummaryToProto(*r.estimate.reweight, JobToProto(r.job).spec());
  }
  if (r.effective_coupling || !r.effective_coupling_status.ok()) {
    EffectiveCouplingToProto(r, header->mutable_effective_coupling());
  }
  CheckResultsToProto(r.checks, header);
}

void ResultPieces::FillEntries(int64_t begin, int64_t end,
                               v1::EntryBlock* block) const {
  const JobResult& r = *result_;
  block->set_offset(begin);
  EstimateToProto(r.estimate, begin, end, block->mutable_estimate());
  TheoryToProto(r.theory, begin, end, block->mutable_theory());
  AppendRange(r.vs_exact.z, begin, end, block->mutable_z_exact());
  AppendRange(result_->vs_exact_connected.z, begin, end,
              block->mutable_z_exact_connected());
  AppendRange(r.vs_gp.z, begin, end, block->mutable_z_gp());
  if (r.estimate.reweight.has_value()) {
    const ReweightEstimate& rw = *r.estimate.reweight;
    v1::ReweightEntries* e = block->mutable_reweight();
    AppendRange(rw.free_mean, begin, end, e->mutable_free_mean());
    AppendRange(rw.free_stderr, begin, end, e->mutable_free_stderr());
    AppendRange(rw.shift, begin, end, e->mutable_shift());
    AppendRange(rw.shift_stderr, begin, end, e->mutable_shift_stderr());
    AppendRange(r.theory.pt_shift, begin, end, e->mutable_first_order_shift());
  }
}

bool ResultPieces::Next(v1::ResultPiece* piece) {
  piece->Clear();
  if (!header_sent_) {
    header_sent_ = true;
    FillHeader(piece->mutable_header());
    return true;
  }
  if (result_->training) return NextTraining(piece);
  const int64_t entries = static_cast<int64_t>(result_->estimate.tuples.size());
  if (next_entry_ < entries) {
    const int64_t end = std::min(entries, next_entry_ + entries_per_block_);
    FillEntries(next_entry_, end, piece->mutable_entries());
    next_entry_ = end;
    return true;
  }
  if (result_->sweep && NextSweep(piece)) return true;
  const Eigen::MatrixXd& kernel = result_->theory.kernel;
  const int p = static_cast<int>(kernel.rows());
  if (next_row_ < p && kernel.cols() == p) {
    const int end = std::min(p, next_row_ + rows_per_block_);
    v1::KernelBlock* block = piece->mutable_kernel();
    block->set_row_offset(next_row_);
    block->set_rows(end - next_row_);
    block->mutable_values()->Reserve((end - next_row_) * p);
    for (int i = next_row_; i < end; ++i) {
      for (int j = 0; j < p; ++j) block->add_values(kernel(i, j));
    }
    next_row_ = end;
    return true;
  }
  return false;
}

}  // namespace nnft::server
