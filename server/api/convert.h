// Core results -> proto messages: jobs (from JobManager snapshots),
// estimates, theory, comparisons, and the pieces GetResult streams. The spec
// conversions (proto <-> core, JSON) are in server/spec/spec_proto.h; together
// the two files are the whole of the proto <-> core adaptation.
//
// Pieces are sized so that no message exceeds kMaxPieceBytes whatever the
// result size (DESIGN.md section 3, "Streaming").
//
// All functions are pure and thread-safe.
#ifndef NNFT_SERVER_API_CONVERT_H_
#define NNFT_SERVER_API_CONVERT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/estimate/compare.h"
#include "core/estimate/estimate.h"
#include "core/theory/kernel_answer.h"
#include "core/theory/theory.h"
#include "google/protobuf/timestamp.pb.h"
#include "nnft/v1/nnft.pb.h"
#include "server/jobs/job_manager.h"

namespace nnft::server {

// Upper bound on the serialised size of one streamed ResultPiece.
inline constexpr int64_t kMaxPieceBytes = 256 * 1024;
// Bound on one serialised EntryReliability: its reason cut at
// kMaxReasonBytes, a verdict, dof and four doubles with tags and lengths.
inline constexpr int64_t kMaxReasonBytes = 200;
inline constexpr int64_t kMaxReliabilityBytes = kMaxReasonBytes + 64;

// Longest free-text label of a spec (ExperimentSpec.label and the labels of
// its symmetry and cluster checks), in bytes of UTF-8. Reported by
// GetServerInfo (Limits.max_label_bytes).
inline constexpr int64_t kMaxLabelBytes = 1024;

// InvalidArgument naming the first label of `spec` longer than
// kMaxLabelBytes ("spec.symmetry_checks[2].label has 5000 bytes: must have at
// most 1024"). Reads sizes only: call it before any other work on the spec.
absl::Status CheckSpecText(const v1::ExperimentSpec& spec);

// `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary
// (labels stored before the limit existed are served cut).
std::string TruncateUtf8(const std::string& text, int64_t max_bytes);

v1::Job::State StateToProto(JobState state);

// Unset (nullptr-equivalent: cleared) for absl::InfinitePast().
void TimeToProto(absl::Time time, google::protobuf::Timestamp* out);

// The Job resource. Job.spec is parsed back from the snapshot's spec_json;
// its labels are cut to kMaxLabelBytes.
v1::Job JobToProto(const JobSnapshot& job);
// The same without Job.spec (SubmitBatch's answer: no JSON parsed, a small
// message); `submitted` is the spec the job was submitted with, whose chunk
// size gives progress.networks_total.
v1::Job JobToProtoWithoutSpec(const JobSnapshot& job,
                              const v1::ExperimentSpec& submitted);

// Entries [begin, end) of `estimate` (requested-tuple order).
// One entry's reliability diagnostics (core/estimate/reliability.h).
void ReliabilityToProto(const EntryReliability& r, v1::EntryReliability* out);

void EstimateToProto(const CorrelatorEstimate& estimate, int64_t begin,
                     int64_t end, v1::Estimate* out);

// Entries [begin, end) of the per-tuple theory; the kernel is not included.
void TheoryToProto(const TheoryValues& theory, int64_t begin, int64_t end,
                   v1::Theory* out);

v1::ComparisonSummary SummaryToProto(const Comparison& comparison);

// The analyses of server/api/convert_analyses.cc.
void ConformalToProto(const ConformalResult& result, v1::ConformalResult* out);
void ReflectionToProto(const ReflectionResult& result,
                       v1::ReflectionPositivityResult* out);

// A WatchJob update: the job, the first `max_entries` entries of its current
// estimate (when it has one) and the largest standard error of all of them.
v1::JobUpdate JobUpdateToProto(const JobSnapshot& job, int max_entries);

// --- width sweeps (convert_sweep.cc) ---
void PowerLawFitToProto(const PowerLawFit& fit, v1::PowerLawFit* out);
// The live view of a sweep job: widths with an estimate (first max_entries
// entries, theory and z-scores where the snapshot has theory) and the fits
// over them.
void SweepUpdateToProto(const JobSnapshot& job, int max_entries,
                        v1::WidthSweepUpdate* out);
// The header's summary of a sweep result.
void SweepSummaryToProto(const SweepResult& sweep, v1::WidthSweepSummary* out);
// Entries [begin, end) of width w of a sweep result.
void SweepWidthToProto(const SweepResult& sweep, int w, int64_t begin,
                       int64_t end, v1::SweepWidthBlock* out);

// Training flow rows (convert_training.cc): one recorded time, restricted to
// the first `max_points` points; the empirical NTK at initialisation.
void TrainingTimeToProto(const TrainingTimeEstimate& row, int index,
                         int max_points, v1::TrainingTime* out);
void EmpiricalNtkToProto(const TrainingFlow& flow, v1::EmpiricalNtk* out);
// The loss histogram and quantiles of one row (nothing without a histogram).
void LossHistogramToProto(const TrainingFlow& flow,
                          const TrainingTimeEstimate& row,
                          v1::TrainingTime* out);

// ComputeKernel (convert_kernel.cc). The request's cross points as a Q x d
// matrix (d = `input_dim`); a point with another number of coordinates
// answers InvalidArgument naming cross_points[i].x. A count over
// limits.max_points is left to core (theory::ValidateKernelAnswer names it).
absl::StatusOr<Eigen::MatrixXd> CrossPointsFromProto(
    const v1::ComputeKernelRequest& request, int input_dim,
    const Limits& limits);
// The NTK, cross-kernels and training prediction into `out` (fields 6-12).
void KernelAnswerToProto(const theory::KernelAnswer& answer,
                         v1::ComputeKernelResponse* out);

// GetResult's stream, produced one piece at a time: a header, then entry
// blocks of at most EntriesPerBlock() entries, then (width sweeps) per-width
// blocks and fit blocks, then kernel blocks of at most RowsPerBlock() rows.
// The result is shared, never copied.
class ResultPieces {
 public:
  ResultPieces(std::shared_ptr<const JobResult> result,
               std::string engine_fingerprint);

  // Fills the next piece; false when the stream is complete.
  bool Next(v1::ResultPiece* piece);

  int64_t EntriesPerBlock() const { return entries_per_block_; }
  int RowsPerBlock() const { return rows_per_block_; }

 private:
  void FillHeader(v1::ResultHeader* header) const;
  void FillEntries(int64_t begin, int64_t end, v1::EntryBlock* block) const;
  // The next sweep piece (width blocks, then fit blocks); false when done.
  bool NextSweep(v1::ResultPiece* piece);

  std::shared_ptr<const JobResult> result_;
  std::string engine_fingerprint_;
  int64_t entries_per_block_;
  int rows_per_block_;
  bool header_sent_ = false;
  int64_t next_entry_ = 0;
  int next_row_ = 0;
  // Training jobs: pieces of the flow instead of entry blocks.
  bool NextTraining(v1::ResultPiece* piece);
  int next_time_ = 0;
  bool ntk_sent_ = false;
  int next_width_ = 0;            // sweep: width being sent
  int64_t next_width_entry_ = 0;  // sweep: next entry of that width
  int64_t next_fit_ = 0;          // sweep: next fit
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_CONVERT_H_
