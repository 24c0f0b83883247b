// The dashboard's JSON documents. See dashboard_json.h.
#include "server/ops/dashboard_json.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "core/analyses/experiment_result.h"
#include "core/analyses/width_sweep.h"
#include "core/estimate/reliability.h"
#include "server/api/convert.h"
#include "server/spec/spec_proto.h"
#include "server/store/store.h"

namespace nnft::server {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Length of the valid UTF-8 sequence at text[i] (1 to 4), or 0 when the bytes
// there are not one (overlong forms, surrogates and code points past U+10FFFF
// included).
int Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0;
  };
  const unsigned char b0 = byte(i);
  const auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(byte(i + 1)) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char b1 = byte(i + 1);
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    return b1 >= lo && b1 <= hi && cont(byte(i + 2)) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char b1 = byte(i + 1);
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return b1 >= lo && b1 <= hi && cont(byte(i + 2)) && cont(byte(i + 3)) ? 4
                                                                          : 0;
  }
  return 0;
}

void AppendQuoted(absl::string_view text, std::string& out) {
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const int n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out.append("\\ufffd");
      ++i;
      continue;
    }
    if (n == 3 && c == 0xE2 &&
        static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out.append(text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
    } else if (n > 1) {
      out.append(text.data() + i, n);
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\\') {
      out.append("\\\\");
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7F) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
    i += n;
  }
  out.push_back('"');
}

void WriteTuple(const Tuple& tuple, JsonWriter& w) {
  w.BeginArray();
  for (int index : tuple) w.Int(index);
  w.EndArray();
}

void WriteEntries(const JobDetailView& view, int max_entries, JsonWriter& w) {
  const CorrelatorEstimate* e = view.estimate;
  const BestTheoryComparison best = CompareWithBestTheory(e, view.theory);
  const std::vector<double>* theory = best.values;
  const Comparison& cmp = best.comparison;
  w.Key("theory");
  w.BeginObject();
  w.Key("kind");
  w.String(best.kind);
  w.Key("method");
  w.String(theory != nullptr ? view.theory->method : "");
  w.EndObject();
  w.Key("estimate");
  if (e == nullptr) {
    w.Null();
  } else {
    w.BeginObject();
    w.Key("networks");
    w.Int(e->networks);
    w.Key("chunks");
    w.Int(e->chunks);
    w.Key("width");
    if (view.estimate_width > 0) {
      w.Int(view.estimate_width);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  const int64_t total = e == nullptr ? 0 : e->mean.size();
  w.Key("entries_total");
  w.Int(total);
  w.Key("entries");
  w.BeginArray();
  for (int64_t i = 0; i < std::min<int64_t>(total, max_entries); ++i) {
    w.BeginObject();
    w.Key("tuple");
    WriteTuple(e->tuples[i], w);
    w.Key("order");
    w.Int(static_cast<int64_t>(e->tuples[i].size()));
    w.Key("mean");
    w.Number(e->mean[i]);
    w.Key("stderr");
    w.Number(e->stderr_mean[i]);
    w.Key("theory");
    w.Number(theory != nullptr ? (*theory)[i] : kNaN);
    w.Key("z");
    w.Number(theory != nullptr ? cmp.z[i] : kNaN);
    w.Key("verdict");
    if (static_cast<int64_t>(e->reliability.size()) == total) {
      w.String(VerdictName(e->reliability[i].verdict));
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("summary");
  w.BeginObject();
  w.Key("dof");
  w.Int(cmp.dof);
  w.Key("chi2_per_dof");
  w.Number(theory != nullptr ? cmp.chi2_per_dof : kNaN);
  w.Key("max_abs_z");
  w.Number(theory != nullptr ? cmp.max_abs_z : kNaN);
  w.EndObject();
}

void WriteFit(const PowerLawFit& fit, const std::vector<SweepWidthView>& sweep,
              JsonWriter& w) {
  w.BeginObject();
  w.Key("tuple");
  WriteTuple(fit.tuple, w);
  w.Key("order");
  w.Int(fit.order);
  w.Key("exponent");
  w.Number(fit.exponent);
  w.Key("exponent_stderr");
  w.Number(fit.exponent_stderr);
  w.Key("expected_exponent");
  w.Number(fit.expected_exponent);
  w.Key("amplitude");
  w.Number(fit.amplitude);
  w.Key("amplitude_stderr");
  w.Number(fit.amplitude_stderr);
  w.Key("chi2_per_dof");
  w.Number(fit.chi2_per_dof);
  w.Key("widths_used");
  w.Int(fit.widths_used);
  w.Key("z");
  w.Number(fit.z);
  // The connected correlator fitted, per width that has an estimate.
  w.Key("points");
  w.BeginArray();
  const size_t entry = static_cast<size_t>(fit.entry);
  for (const SweepWidthView& s : sweep) {
    if (s.estimate == nullptr || entry >= s.estimate->connected.size()) {
      continue;
    }
    w.BeginObject();
    w.Key("width");
    w.Int(s.width);
    w.Key("value");
    w.Number(s.estimate->connected[entry]);
    w.Key("stderr");
    w.Number(s.estimate->stderr_connected[entry]);
    w.Key("theory");
    const bool has_theory =
        s.theory != nullptr && s.theory->has_exact &&
        s.theory->exact_connected.size() == s.estimate->connected.size();
    w.Number(has_theory ? s.theory->exact_connected[entry] : kNaN);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteSweep(const std::vector<SweepWidthView>& sweep, int max_fits,
                JsonWriter& w) {
  std::vector<int> widths;
  std::vector<const CorrelatorEstimate*> estimates;
  std::vector<const TheoryValues*> theories;
  w.BeginObject();
  w.Key("progress");
  w.BeginArray();
  for (const SweepWidthView& s : sweep) {
    widths.push_back(s.width);
    estimates.push_back(s.estimate);
    theories.push_back(s.theory);
    w.BeginObject();
    w.Key("width");
    w.Int(s.width);
    w.Key("chunks_done");
    w.Int(s.chunks_done);
    w.Key("chunks_total");
    w.Int(s.chunks_total);
    w.EndObject();
  }
  w.EndArray();
  const WidthSweepAnalysis analysis =
      AnalyzeWidthSweep(widths, estimates, theories);
  w.Key("fits_total");
  w.Int(static_cast<int64_t>(analysis.fits.size()));
  w.Key("fits");
  w.BeginArray();
  const int fits = std::min<int>(max_fits, analysis.fits.size());
  for (int i = 0; i < fits; ++i) WriteFit(analysis.fits[i], sweep, w);
  w.EndArray();
  w.EndObject();
}

}  // namespace

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_value_.empty()) {
    if (has_value_.back()) out_.push_back(',');
    has_value_.back() = true;
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  has_value_.push_back(false);
}

void JsonWriter::EndObject() {
  assert(!has_value_.empty() && !after_key_);
  has_value_.pop_back();
  out_.push_back('}');
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  has_value_.push_back(false);
}

void JsonWriter::EndArray() {
  assert(!has_value_.empty() && !after_key_);
  has_value_.pop_back();
  out_.push_back(']');
}

void JsonWriter::Key(absl::string_view key) {
  assert(!has_value_.empty() && !after_key_);
  BeforeValue();
  AppendQuoted(key, out_);
  out_.push_back(':');
  after_key_ = true;
}

void JsonWriter::String(absl::string_view text) {
  BeforeValue();
  AppendQuoted(text, out_);
}

void JsonWriter::Number(double value) {
  BeforeValue();
  if (std::isfinite(value)) {
    absl::StrAppendFormat(&out_, "%.10g", value);
  } else {
    out_.append("null");
  }
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  absl::StrAppend(&out_, value);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
}

void JsonWriter::Time(absl::Time time) {
  if (time == absl::InfinitePast()) {
    Null();
  } else {
    String(
        absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", time, absl::UTCTimeZone()));
  }
}

std::string JsonWriter::Take() {
  assert(has_value_.empty() && !after_key_);
  std::string out;
  out.swap(out_);
  return out;
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  AppendQuoted(text, out);
  return out;
}

JobMeta ReadJobMeta(const JobSnapshot& job, const Limits& limits) {
  JobMeta meta;
  absl::StatusOr<v1::ExperimentSpec> proto = SpecProtoFromJson(job.spec_json);
  if (!proto.ok()) return meta;
  meta.label = TruncateUtf8(proto->label(), kMaxLabelBytes);
  if (proto->sampling().has_chunk_size()) {
    meta.chunk_size = proto->sampling().chunk_size();
  }
  if (!job.sweep.empty() || proto->width_sweep().widths_size() > 0) {
    meta.kind = "width_sweep";
  } else if (proto->has_training()) {
    meta.kind = "training";
  }
  absl::StatusOr<ExperimentSpec> spec = SpecFromProto(*proto, limits);
  if (spec.ok()) {
    meta.chunk_size = spec->sampling.chunk_size;
    meta.spec = *std::move(spec);
  }
  return meta;
}

JobPace PaceOf(const JobSnapshot& job, int64_t chunk_size, absl::Time now) {
  JobPace pace{.rate = kNaN,
               .eta_s = job.state == JobState::kSucceeded ? 0 : kNaN};
  const bool running = job.state == JobState::kRunning;
  if (job.start_time == absl::InfinitePast() ||
      (!running && !IsTerminal(job.state))) {
    return pace;
  }
  const absl::Time end = running ? now : job.end_time;
  const double seconds = absl::ToDoubleSeconds(end - job.start_time);
  const int64_t computed =
      std::max<int64_t>(0, job.chunks_done - job.chunks_from_store) *
      chunk_size;
  if (end == absl::InfinitePast() || !(seconds > 0) || computed == 0) {
    return pace;
  }
  pace.rate = static_cast<double>(computed) / seconds;
  if (running) {
    const int64_t left =
        std::max<int64_t>(0, job.chunks_total - job.chunks_done) * chunk_size;
    pace.eta_s = static_cast<double>(left) / pace.rate;
  }
  return pace;
}

void WriteJobRow(const JobSnapshot& job, const JobMeta& meta, absl::Time now,
                 JsonWriter& w) {
  absl::string_view id = job.name;
  absl::ConsumePrefix(&id, "jobs/");
  const JobPace pace = PaceOf(job, meta.chunk_size, now);
  w.BeginObject();
  w.Key("id");
  w.String(id);
  w.Key("name");
  w.String(job.name);
  w.Key("label");
  w.String(meta.label);
  w.Key("kind");
  w.String(meta.kind);
  w.Key("state");
  w.String(JobStateName(job.state));
  w.Key("priority");
  w.Int(job.priority);
  w.Key("chunks_done");
  w.Int(job.chunks_done);
  w.Key("chunks_total");
  w.Int(job.chunks_total);
  w.Key("networks_done");
  w.Int(job.networks_done);
  w.Key("networks_total");
  w.Int(job.chunks_total * meta.chunk_size);
  w.Key("rate");
  w.Number(pace.rate);
  w.Key("eta_s");
  w.Number(pace.eta_s);
  w.Key("created");
  w.Time(job.create_time);
  w.Key("started");
  w.Time(job.start_time);
  w.Key("ended");
  w.Time(job.end_time);
  w.EndObject();
}

std::string JobDetailJson(const JobDetailView& view, absl::Time now,
                          int max_entries, int max_fits) {
  JsonWriter w;
  w.BeginObject();
  w.Key("job");
  WriteJobRow(*view.job, *view.meta, now, w);
  w.Key("error");
  if (view.job->error.ok()) {
    w.Null();
  } else {
    w.String(view.job->error.ToString());
  }
  WriteEntries(view, max_entries, w);
  w.Key("sweep");
  if (view.sweep.empty()) {
    w.Null();
  } else {
    WriteSweep(view.sweep, max_fits, w);
  }
  w.EndObject();
  return w.Take();
}

}  // namespace nnft::server
