#include "client/cli/format.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/cli/format_sym.h"
#include "client/cli/training_format.h"
#include "google/protobuf/util/json_util.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;
using google::protobuf::RepeatedField;

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a well-formed message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

// Short human form of a double: %.6g, "nan" for NaN.
std::string Short(double value, int digits = 6) {
  if (std::isnan(value)) return "nan";
  return absl::StrFormat("%.*g", digits, value);
}

double At(const RepeatedField<double>& field, int i) {
  return i < field.size() ? field.Get(i) : std::nan("");
}

std::string Cell(const RepeatedField<double>& field, int i) {
  return i < field.size() ? ExactNumber(field.Get(i)) : "";
}

// Pads the columns of `rows` to a common width, two spaces apart.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) {
        line.append(width[c] - row[c].size() + 2, ' ');
      }
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string ProgressText(const v1::Progress& p) {
  return absl::StrCat(p.chunks_done(), "/", p.chunks_total(), " chunks (",
                      p.chunks_from_store(), " from store), ",
                      p.networks_done(), "/", p.networks_total(), " networks");
}

std::string SummaryText(const v1::ComparisonSummary& s) {
  if (s.dof() == 0) return "-";
  return absl::StrFormat("chi2/dof = %s (dof %d), max |z| = %s",
                         Short(s.chi2_per_dof(), 4), s.dof(),
                         Short(s.max_abs_z(), 3));
}

// The verdict of entry i ("OK", "!HEAVY_TAILED", ...; "-" when the server
// sent none): a warning is marked so it is never read as a confident number.
std::string VerdictMark(const v1::Estimate& est, int i) {
  if (i >= est.reliability_size()) return "-";
  const v1::EntryReliability& r = est.reliability(i);
  if (r.verdict() == v1::VERDICT_OK) return "OK";
  const std::string& name = v1::Verdict_Name(r.verdict());
  return absl::StrCat("!", absl::StripPrefix(name, "VERDICT_"));
}

// One line per entry that is not OK: its tuple and the reason.
std::string VerdictNotes(const v1::Estimate& est) {
  std::string out;
  int warned = 0;
  for (int i = 0; i < est.reliability_size() && i < est.tuples_size(); ++i) {
    const v1::EntryReliability& r = est.reliability(i);
    if (r.verdict() == v1::VERDICT_OK) continue;
    if (++warned > 10) continue;
    absl::StrAppend(&out, "# ", VerdictMark(est, i), " ",
                    TupleLabel(est.tuples(i)), ": ", r.reason(), "\n");
  }
  if (warned > 10) {
    absl::StrAppend(&out, "# ... and ", warned - 10,
                    " more entries with a warning\n");
  }
  return out;
}

std::string ResultTable(const JobResult& result) {
  const v1::ResultHeader& h = result.header;
  const v1::EntryBlock& e = result.entries;
  const bool exact = h.has_exact();
  std::string out = absl::StrFormat(
      "# %s  networks=%d chunks=%d bins=%d seed=%d\n# theory: %s (%s)\n",
      h.job().name(), h.networks(), h.chunks(), h.bins(), h.seed(),
      !exact                     ? "infinite-width GP"
      : h.theory_leading_order() ? "finite width at leading order in 1/N"
                                 : "exact at finite width",
      h.theory_method().empty() ? "-" : h.theory_method());
  absl::StrAppend(&out, "# vs exact: ", SummaryText(h.vs_exact()),
                  "; connected vs exact: ", SummaryText(h.vs_exact_connected()),
                  "; vs gp: ", SummaryText(h.vs_gp()), "\n");
  const auto& theory = exact ? e.theory().exact() : e.theory().gp();
  const auto& theory_c =
      exact ? e.theory().exact_connected() : e.theory().gp_connected();
  const auto& z = exact ? e.z_exact() : e.z_gp();
  std::vector<std::vector<std::string>> rows = {
      {"tuple", "mean +- stderr", "connected +- err", exact ? "exact" : "gp",
       exact ? "exact_c" : "gp_c", "z", exact ? "z_c" : "", "verdict"}};
  const v1::Estimate& est = e.estimate();
  for (int i = 0; i < est.tuples_size(); ++i) {
    rows.push_back({TupleLabel(est.tuples(i)),
                    absl::StrCat(Short(At(est.mean(), i)), " +- ",
                                 Short(At(est.stderr(), i), 2)),
                    absl::StrCat(Short(At(est.connected(), i)), " +- ",
                                 Short(At(est.connected_stderr(), i), 2)),
                    Short(At(theory, i)), Short(At(theory_c, i)),
                    Short(At(z, i), 3),
                    exact ? Short(At(e.z_exact_connected(), i), 3) : "",
                    VerdictMark(est, i)});
  }
  absl::StrAppend(&out, AlignColumns(rows), VerdictNotes(est));
  if (h.has_conformal()) absl::StrAppend(&out, ConformalTable(h.conformal()));
  if (h.has_reflection_positivity()) {
    absl::StrAppend(&out, ReflectionTable(h.reflection_positivity()));
  }
  absl::StrAppend(&out, ChecksTable(h));
  return out;
}

// Reweighting (spec.insertion): the weights' summary, then per entry the
// reweighted and free correlators, their shift and the first-order theory.
std::string ReweightTable(const JobResult& result) {
  const v1::ReweightSummary& w = result.header.reweight();
  std::string out = absl::StrFormat(
      "# phi^4 reweighting: lambda=%s ESS=%s (%s of networks) <int phi^4> "
      "free=%s reweighted=%s\n",
      Short(w.lambda()), Short(w.ess(), 6), Short(w.ess_fraction(), 3),
      Short(w.mean_action()), Short(w.mean_action_weighted()));
  if (w.ess_warning()) absl::StrAppend(&out, "# WARNING: ", w.warning(), "\n");
  const v1::ReweightEntries& r = result.entries.reweight();
  const v1::Estimate& est = result.entries.estimate();
  std::vector<std::vector<std::string>> rows = {{"tuple", "reweighted +- err",
                                                 "free +- err", "shift +- err",
                                                 "1st order", "z_shift"}};
  for (int i = 0; i < est.tuples_size(); ++i) {
    const double pt = At(r.first_order_shift(), i);
    rows.push_back(
        {TupleLabel(est.tuples(i)),
         absl::StrCat(Short(At(est.mean(), i)), " +- ",
                      Short(At(est.stderr(), i), 2)),
         absl::StrCat(Short(At(r.free_mean(), i)), " +- ",
                      Short(At(r.free_stderr(), i), 2)),
         absl::StrCat(Short(At(r.shift(), i)), " +- ",
                      Short(At(r.shift_stderr(), i), 2)),
         Short(pt),
         Short((At(r.shift(), i) - pt) / At(r.shift_stderr(), i), 3)});
  }
  return out + AlignColumns(rows);
}

// Effective couplings (spec.effective_coupling).
std::string EffectiveCouplingTable(const JobResult& result) {
  const v1::EffectiveCouplingResult& ec = result.header.effective_coupling();
  if (!ec.error().empty()) {
    return absl::StrCat("# effective coupling: not computed: ", ec.error(),
                        "\n");
  }
  std::string out = absl::StrCat("# effective coupling: ", ec.method(), "\n");
  if (ec.cutoffs_size() > 0) {
    std::vector<std::vector<std::string>> rows = {
        {"cutoff", "lambda +- err", "tuples"}};
    for (int i = 0; i < ec.cutoffs_size(); ++i) {
      rows.push_back(
          {Short(ec.cutoffs(i)),
           absl::StrCat(Short(At(ec.lambda(), i)), " +- ",
                        Short(At(ec.lambda_stderr(), i), 2)),
           absl::StrCat(i < ec.tuples_used_size() ? ec.tuples_used(i) : 0)});
    }
    absl::StrAppend(
        &out, AlignColumns(rows),
        absl::StrFormat("# running: d log|lambda| / d log Lambda "
                        "= %s +- %s\n",
                        Short(ec.slope(), 5), Short(ec.slope_stderr(), 2)));
  }
  if (ec.vertex_tuples_size() > 0) {
    std::vector<std::vector<std::string>> rows = {
        {"tuple", "amputated vertex +- err"}};
    for (int i = 0; i < ec.vertex_tuples_size(); ++i) {
      rows.push_back({TupleLabel(ec.vertex_tuples(i)),
                      absl::StrCat(Short(At(ec.vertex(), i)), " +- ",
                                   Short(At(ec.vertex_stderr(), i), 2))});
    }
    absl::StrAppend(&out, AlignColumns(rows));
  }
  return out;
}

std::string ResultCsv(const JobResult& result) {
  std::string out = absl::StrCat(absl::StrJoin(kCsvColumns, ","), "\n");
  const v1::EntryBlock& e = result.entries;
  const v1::Estimate& est = e.estimate();
  for (int i = 0; i < est.tuples_size(); ++i) {
    const std::vector<std::string> cells = {
        absl::StrJoin(est.tuples(i).index(), " "),
        absl::StrCat(est.tuples(i).index_size()),
        Cell(est.mean(), i),
        Cell(est.stderr(), i),
        Cell(est.connected(), i),
        Cell(est.connected_stderr(), i),
        Cell(e.theory().gp(), i),
        Cell(e.theory().gp_connected(), i),
        Cell(e.theory().exact(), i),
        Cell(e.theory().exact_connected(), i),
        Cell(e.z_exact(), i),
        Cell(e.z_exact_connected(), i),
        Cell(e.z_gp(), i)};
    absl::StrAppend(&out, absl::StrJoin(cells, ","), "\n");
  }
  return out;
}

std::string ResultJson(const JobResult& result) {
  std::vector<std::string> kernel;
  kernel.reserve(result.kernel.size());
  for (double v : result.kernel) {
    kernel.push_back(std::isfinite(v)
                         ? ExactNumber(v)
                         : absl::StrCat("\"", ExactNumber(v), "\""));
  }
  std::string training;
  if (!result.training.empty()) {  // training jobs: the flow rows, in order
    std::vector<std::string> rows;
    for (const auto& row : result.training) rows.push_back(ToJson(row, false));
    training =
        absl::StrCat(",\n \"training\": [", absl::StrJoin(rows, ","), "]");
    if (result.empirical_ntk) {
      absl::StrAppend(&training, ",\n \"empiricalNtk\": ",
                      ToJson(*result.empirical_ntk, false));
    }
  }
  return absl::StrCat("{\"header\": ", ToJson(result.header, false),
                      ",\n \"entries\": ", ToJson(result.entries, false),
                      ",\n \"kernel\": [", absl::StrJoin(kernel, ","), "]",
                      training, "}\n");
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text.empty() || text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "csv") return OutputFormat::kCsv;
  return absl::InvalidArgumentError(
      absl::StrCat("--format=", text, ": must be one of table, json, csv"));
}

std::string StateName(v1::Job::State state) {
  return v1::Job::State_Name(state);
}

std::string TupleLabel(const v1::IndexTuple& tuple) {
  return absl::StrCat("(", absl::StrJoin(tuple.index(), ","), ")");
}

std::string ExactNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.17g", value);
}

std::string FormatJob(const v1::Job& job, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(job, true) + "\n";
  std::vector<std::vector<std::string>> rows = {
      {"name:", job.name()},
      {"state:", StateName(job.state())},
      {"progress:", ProgressText(job.progress())},
      {"digest:", job.digest()},
      {"request_id:", job.request_id().empty() ? "-" : job.request_id()},
      {"priority:", absl::StrCat(job.priority())},
      {"submissions:", absl::StrCat(job.submissions())},
      {"label:", job.spec().label().empty() ? "-" : job.spec().label()},
      {"created:", FormatTimestamp(job.create_time())},
      {"started:", FormatTimestamp(job.start_time())},
      {"ended:", FormatTimestamp(job.end_time())}};
  if (job.state() == v1::Job::FAILED) {
    rows.push_back(
        {"error:",
         absl::StrCat(absl::StatusCodeToString(
                          static_cast<absl::StatusCode>(job.error_code())),
                      ": ", job.error_message())});
  }
  return AlignColumns(rows);
}

std::string FormatJobList(const std::vector<v1::Job>& jobs,
                          OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const v1::Job& job : jobs) items.push_back(ToJson(job, false));
    return absl::StrCat("[", absl::StrJoin(items, ",\n "), "]\n");
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "STATE", "CHUNKS", "NETWORKS", "CREATED", "DIGEST", "LABEL"}};
  for (const v1::Job& job : jobs) {
    rows.push_back({job.name(), StateName(job.state()),
                    absl::StrCat(job.progress().chunks_done(), "/",
                                 job.progress().chunks_total()),
                    absl::StrCat(job.progress().networks_done()),
                    FormatTimestamp(job.create_time()),
                    job.digest().substr(0, 12), job.spec().label()});
  }
  return AlignColumns(rows);
}

std::string FormatResult(const JobResult& result, OutputFormat format) {
  if (result.header.training_times() > 0 && format != OutputFormat::kJson) {
    return format == OutputFormat::kCsv ? TrainingResultCsv(result)
                                        : TrainingResultTable(result);
  }
  if (result.header.has_width_sweep()) return FormatSweepResult(result, format);
  switch (format) {
    case OutputFormat::kCsv:
      return ResultCsv(result);
    case OutputFormat::kJson:
      return ResultJson(result);
    case OutputFormat::kTable:
      break;
  }
  std::string out = ResultTable(result);
  if (result.header.has_reweight()) out += ReweightTable(result);
  if (result.header.has_effective_coupling()) {
    out += EffectiveCouplingTable(result);
  }
  return out;
}

namespace {

// `values` as `rows` x `cols` aligned rows (short of values: what there is).
std::string MatrixRows(const RepeatedField<double>& values, int rows,
                       int cols) {
  std::vector<std::vector<std::string>> out;
  for (int i = 0; i < rows; ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < cols && i * cols + j < values.size(); ++j) {
      row.push_back(Short(values[i * cols + j]));
    }
    out.push_back(std::move(row));
  }
  return AlignColumns(out);
}

// The NTK (or why it is absent), the cross kernels, and the training
// prediction: mean and variance per point and the expected loss, per time.
std::string NtkTables(const v1::ComputeKernelResponse& kernel) {
  const int p = kernel.num_points(), q = kernel.num_cross_points();
  std::string out;
  if (kernel.ntk_size() > 0) {
    absl::StrAppend(&out, absl::StrFormat("# NTK, %d x %d\n", p, p),
                    MatrixRows(kernel.ntk(), p, p));
  } else {
    absl::StrAppend(&out, "# NTK absent: ", kernel.ntk_absent_reason(), "\n");
  }
  if (q > 0 && kernel.cross_kernel_size() > 0) {
    absl::StrAppend(
        &out, absl::StrFormat("# cross NNGP kernel K(x, y), %d x %d\n", p, q),
        MatrixRows(kernel.cross_kernel(), p, q));
  } else if (q > 0) {
    absl::StrAppend(&out, "# cross kernel absent: ",
                    kernel.cross_kernel_absent_reason(), "\n");
  }
  if (q > 0 && kernel.cross_ntk_size() > 0) {
    absl::StrAppend(&out,
                    absl::StrFormat("# cross NTK Theta(x, y), %d x %d\n", p, q),
                    MatrixRows(kernel.cross_ntk(), p, q));
  }
  if (!kernel.has_prediction()) return out;
  const v1::TrainingPrediction& pred = kernel.prediction();
  const int m = pred.num_points();
  absl::StrAppend(&out, "# training prediction (", pred.method(), ")\n");
  std::vector<std::vector<std::string>> rows = {{"t", "loss"}};
  for (int a = 0; a < m; ++a) {
    const std::string name =
        a < p ? absl::StrCat("x", a) : absl::StrCat("y", a - p);
    rows[0].push_back(absl::StrCat("mu(", name, ")"));
    rows[0].push_back(absl::StrCat("Sigma(", name, ",", name, ")"));
  }
  for (int i = 0; i < pred.times_size(); ++i) {
    std::vector<std::string> row = {Short(pred.times(i)),
                                    Short(At(pred.loss(), i))};
    for (int a = 0; a < m; ++a) {
      row.push_back(Short(At(pred.mean(), i * m + a)));
      row.push_back(Short(At(pred.covariance(), (i * m + a) * m + a)));
    }
    rows.push_back(std::move(row));
  }
  absl::StrAppend(&out, AlignColumns(rows));
  return out;
}

}  // namespace

std::string FormatKernel(const v1::ComputeKernelResponse& kernel,
                         OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(kernel, true) + "\n";
  const int p = kernel.num_points();
  std::string out =
      absl::StrFormat("# NNGP kernel, %d x %d (%s)\n", p, p, kernel.method());
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < p; ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < p && i * p + j < kernel.kernel_size(); ++j) {
      row.push_back(Short(kernel.kernel(i * p + j)));
    }
    rows.push_back(std::move(row));
  }
  absl::StrAppend(&out, AlignColumns(rows));
  const v1::Theory& t = kernel.theory();
  absl::StrAppend(&out, "# theory per tuple (", t.method(), ")\n");
  rows = {{"tuple", "gp", "gp_connected", "exact", "exact_connected"}};
  for (int i = 0; i < kernel.tuples_size(); ++i) {
    rows.push_back({TupleLabel(kernel.tuples(i)), Short(At(t.gp(), i)),
                    Short(At(t.gp_connected(), i)), Short(At(t.exact(), i)),
                    Short(At(t.exact_connected(), i))});
  }
  absl::StrAppend(&out, AlignColumns(rows));
  absl::StrAppend(&out, NtkTables(kernel));
  return out;
}

std::string FormatInfo(const v1::ServerInfo& info, OutputFormat format) {
  if (format == OutputFormat::kJson) return ToJson(info, true) + "\n";
  const v1::Limits& l = info.limits();
  const v1::Counters& c = info.counters();
  std::vector<std::vector<std::string>> rows = {
      {"version:", info.version()},
      {"engine:", info.engine_fingerprint()},
      {"data_dir:", info.data_dir()},
      {"worker_threads:", absl::StrCat(info.worker_threads())},
      {"architectures:", absl::StrJoin(info.architectures(), " ")},
      {"activations:", absl::StrJoin(info.activations(), " ")},
      {"limits:",
       absl::StrFormat("input_dim<=%d width<=%d depth<=%d points<=%d "
                       "tuples<=%d networks<=%d chunk_size<=%d "
                       "parameters<=%d queued_jobs<=%d batch_entries<=%d",
                       l.max_input_dim(), l.max_width(), l.max_depth(),
                       l.max_points(), l.max_tuples(), l.max_networks(),
                       l.max_chunk_size(), l.max_parameters(),
                       l.max_queued_jobs(), l.max_batch_entries())},
      {"counters:", absl::StrFormat("jobs_submitted=%d jobs_deduplicated=%d "
                                    "jobs_completed=%d chunks_computed=%d "
                                    "chunks_from_store=%d networks_computed=%d "
                                    "exact_hits=%d",
                                    c.jobs_submitted(), c.jobs_deduplicated(),
                                    c.jobs_completed(), c.chunks_computed(),
                                    c.chunks_from_store(),
                                    c.networks_computed(), c.exact_hits())}};
  const v1::SecurityInfo& sec = info.security();
  rows.push_back(
      {"security:",
       absl::StrCat(
           "tls=", sec.tls() ? "on" : "off", " client_certificates=",
           sec.client_certificates() ? "required" : "off",
           " tokens=", sec.tokens() ? "on" : "off",
           sec.tokens() ? absl::StrCat(" principal=", sec.principal()) : "")});
  return AlignColumns(rows);
}

// ---------------------------------------------------------------- sweeps

namespace {

std::string PlusMinus(double value, double error) {
  return absl::StrCat(Short(value), " +- ", Short(error, 2));
}

std::string SweepWidthTable(const JobResult& result) {
  const v1::WidthSweepSummary& s = result.header.width_sweep();
  std::string out = absl::StrFormat(
      "# %s  width sweep N = %s; %d networks per width, seed %d\n"
      "# theory: %s\n",
      result.header.job().name(), absl::StrJoin(s.widths(), ","),
      result.sweep_widths.empty()
          ? 0
          : result.sweep_widths[0].entries().estimate().networks(),
      result.header.seed(), result.header.theory_method());
  std::vector<std::vector<std::string>> rows = {
      {"N", "tuple", "G +- err", "exact", "z", "G_c +- err", "exact_c", "z_c",
       "m_n +- bg"}};
  for (const v1::SweepWidthBlock& w : result.sweep_widths) {
    const v1::EntryBlock& e = w.entries();
    const v1::Estimate& est = e.estimate();
    for (int i = 0; i < est.tuples_size(); ++i) {
      rows.push_back(
          {absl::StrCat(w.width()), TupleLabel(est.tuples(i)),
           PlusMinus(At(est.mean(), i), At(est.stderr(), i)),
           Short(At(e.theory().exact(), i)), Short(At(e.z_exact(), i), 3),
           PlusMinus(At(est.connected(), i), At(est.connected_stderr(), i)),
           Short(At(e.theory().exact_connected(), i)),
           Short(At(e.z_exact_connected(), i), 3),
           PlusMinus(At(w.deviation(), i), At(w.deviation_background(), i))});
    }
  }
  absl::StrAppend(&out, AlignColumns(rows));
  return out;
}

std::string SweepFitTable(const JobResult& result) {
  std::string out =
      absl::StrCat("# fits |G_c| = A N^s (",
                   result.header.width_sweep().fit_method(), ")\n");
  std::vector<std::vector<std::string>> rows = {
      {"tuple", "n", "s +- err", "expected", "z", "A +- err", "chi2/dof",
       "widths used/dropped"}};
  for (const v1::PowerLawFit& f : result.sweep_fits) {
    rows.push_back({TupleLabel(f.tuple()), absl::StrCat(f.order()),
                    PlusMinus(f.exponent(), f.exponent_stderr()),
                    Short(f.expected_exponent()), Short(f.z(), 3),
                    PlusMinus(f.amplitude(), f.amplitude_stderr()),
                    Short(f.chi2_per_dof(), 3),
                    absl::StrCat(f.widths_used(), "/", f.widths_dropped())});
  }
  absl::StrAppend(&out, AlignColumns(rows));
  return out;
}

std::string SweepCsv(const JobResult& result) {
  std::string out = absl::StrCat("width,", absl::StrJoin(kCsvColumns, ","),
                                 ",deviation,deviation_background\n");
  for (const v1::SweepWidthBlock& w : result.sweep_widths) {
    JobResult one;
    one.entries = w.entries();
    std::vector<std::string> lines =
        absl::StrSplit(ResultCsv(one), '\n', absl::SkipEmpty());
    for (size_t i = 1; i < lines.size(); ++i) {
      absl::StrAppend(&out, w.width(), ",", lines[i], ",",
                      Cell(w.deviation(), static_cast<int>(i - 1)), ",",
                      Cell(w.deviation_background(), static_cast<int>(i - 1)),
                      "\n");
    }
  }
  absl::StrAppend(&out,
                  "\ntuple,order,exponent,exponent_stderr,expected_exponent,z,"
                  "amplitude,amplitude_stderr,chi2,dof,widths_used,"
                  "widths_dropped\n");
  for (const v1::PowerLawFit& f : result.sweep_fits) {
    absl::StrAppend(
        &out, absl::StrJoin(f.tuple().index(), " "), ",", f.order(), ",",
        ExactNumber(f.exponent()), ",", ExactNumber(f.exponent_stderr()), ",",
        ExactNumber(f.expected_exponent()), ",", ExactNumber(f.z()), ",",
        ExactNumber(f.amplitude()), ",", ExactNumber(f.amplitude_stderr()), ",",
        ExactNumber(f.chi2()), ",", f.dof(), ",", f.widths_used(), ",",
        f.widths_dropped(), "\n");
  }
  return out;
}

std::string SweepJson(const JobResult& result) {
  std::vector<std::string> widths, fits;
  for (const auto& w : result.sweep_widths) widths.push_back(ToJson(w, false));
  for (const auto& f : result.sweep_fits) fits.push_back(ToJson(f, false));
  std::string json = ResultJson(result);
  json.resize(json.size() - 2);  // drop the closing "}\n"
  return absl::StrCat(json, ",\n \"widths\": [", absl::StrJoin(widths, ",\n  "),
                      "],\n \"fits\": [", absl::StrJoin(fits, ",\n  "), "]}\n");
}

}  // namespace

std::string FormatSweepResult(const JobResult& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::kCsv:
      return SweepCsv(result);
    case OutputFormat::kJson:
      return SweepJson(result);
    case OutputFormat::kTable:
      break;
  }
  return absl::StrCat(SweepWidthTable(result), "\n", SweepFitTable(result));
}

}  // namespace nnft::client::cli
