// The JSON documents of the job dashboard (server/ops/dashboard.h): a small
// writer that always produces valid JSON, and the views of a job it serves.
//
//   /api/jobs row: {"id", "name", "label", "kind", "state", "priority",
//     "chunks_done", "chunks_total", "networks_done", "networks_total",
//     "rate" (networks computed per second, null when unknown), "eta_s"
//     (seconds left at that rate: null when unknown or stopped, 0 once
//     succeeded),
//     "created", "started", "ended" (RFC 3339 UTC or null)}
//   /api/jobs/<id>: {"job": row, "error", "theory": {"kind", "method"},
//     "estimate": {"networks", "chunks", "width"}, "entries_total",
//     "entries": [{"tuple", "order", "mean", "stderr", "theory", "z",
//     "verdict"}], "summary": {"dof", "chi2_per_dof", "max_abs_z"},
//     "sweep": {"progress": [...], "fits": [{..., "points": [...]}]}}
//
// Numbers that are not finite are written as null. The views compute no
// physics: estimates come from the job manager's snapshots or results,
// theory from core's ComputeTheory, z-scores from core's Compare and the
// width-sweep fits from core's AnalyzeWidthSweep.
//
// All functions are pure; JsonWriter is not thread-safe (one per document).
#ifndef NNFT_SERVER_OPS_DASHBOARD_JSON_H_
#define NNFT_SERVER_OPS_DASHBOARD_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/estimate/estimate.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"
#include "server/jobs/job_manager.h"

namespace nnft::server {

// Builds one JSON document. Strings are escaped so the text is valid JSON
// and safe inside HTML: quotes, backslashes, control characters, '<', '>',
// '&', U+2028 and U+2029 become \u escapes; bytes that are not valid UTF-8
// become U+FFFD. Calls must nest properly (programmer error otherwise).
class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The key of the next value inside an object.
  void Key(absl::string_view key);
  void String(absl::string_view text);
  // %.10g; null when not finite.
  void Number(double value);
  void Int(int64_t value);
  void Bool(bool value);
  void Null();
  // An RFC 3339 UTC time, null for absl::InfinitePast().
  void Time(absl::Time time);

  // The document; the writer is left empty.
  std::string Take();

 private:
  void BeforeValue();

  std::string out_;
  // Per open container: whether it already holds a value.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// `text` as a JSON string literal, quotes included (JsonWriter's escaping).
std::string JsonQuote(absl::string_view text);

// What the dashboard reads from a job's spec, once per job (a job's spec never
// changes).
struct JobMeta {
  std::string label;  // spec.label, cut to kMaxLabelBytes
  // "correlators", "width_sweep" or "training".
  std::string kind = "correlators";
  int64_t chunk_size = 1000;  // networks per chunk
  // The spec with its defaults, when it still validates against the server's
  // limits (theory needs it).
  std::optional<ExperimentSpec> spec;
};

JobMeta ReadJobMeta(const JobSnapshot& job, const Limits& limits);

// Networks computed per second by the job's current or last run (chunks found
// in the store do not count) and the seconds left at that rate. NaN when
// unknown (queued, or nothing computed yet); eta_s is 0 once the job has
// succeeded and NaN for a failed or cancelled one.
struct JobPace {
  double rate = 0;
  double eta_s = 0;
};
JobPace PaceOf(const JobSnapshot& job, int64_t chunk_size, absl::Time now);

// The /api/jobs row of a job ("id" is the name without "jobs/").
void WriteJobRow(const JobSnapshot& job, const JobMeta& meta, absl::Time now,
                 JsonWriter& w);

// One width of a sweep as the detail view reads it; estimate and theory may
// be null (not run yet).
struct SweepWidthView {
  int width = 0;
  int64_t chunks_done = 0, chunks_total = 0;
  const CorrelatorEstimate* estimate = nullptr;
  const TheoryValues* theory = nullptr;
};

// Everything the /api/jobs/<id> document is made of. Pointers may be null.
struct JobDetailView {
  const JobSnapshot* job = nullptr;
  const JobMeta* meta = nullptr;
  // The entries shown (for a sweep: its widest width with an estimate).
  const CorrelatorEstimate* estimate = nullptr;
  const TheoryValues* theory = nullptr;
  int estimate_width = 0;  // sweeps: the width of `estimate`
  std::vector<SweepWidthView> sweep;
};

// The detail document, with at most max_entries entries and max_fits fits.
std::string JobDetailJson(const JobDetailView& view, absl::Time now,
                          int max_entries, int max_fits);

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_DASHBOARD_JSON_H_
