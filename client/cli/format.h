// Text renderings of the service's messages for the `nnft` CLI: jobs as
// "key: value" lines or tables, results as an aligned table, CSV or JSON,
// kernels and server info. Pure functions of the messages, so they are
// tested without a server. No physics: every number printed is the
// server's; CSV and JSON print doubles with 17 significant digits, so they
// read back bit for bit.
#ifndef NNFT_CLIENT_CLI_FORMAT_H_
#define NNFT_CLIENT_CLI_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/client.h"
#include "nnft/v1/nnft.pb.h"

namespace nnft::client::cli {

enum class OutputFormat { kTable, kJson, kCsv };

// "table", "json" or "csv" (case-sensitive). InvalidArgument naming the
// allowed values otherwise; "" gives kTable.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// "QUEUED", "RUNNING", ...
std::string StateName(nnft::v1::Job::State state);

// "(0,1,1)".
std::string TupleLabel(const nnft::v1::IndexTuple& tuple);

// One double: %.17g, with "nan", "inf", "-inf" for non-finite values.
std::string ExactNumber(double value);

// A job as "key: value" lines (name first), or as protobuf JSON.
std::string FormatJob(const nnft::v1::Job& job, OutputFormat format);

// Jobs as a table (one line each, with a header line) or a JSON array.
std::string FormatJobList(const std::vector<nnft::v1::Job>& jobs,
                          OutputFormat format);

// A full result. kTable: a summary header, then one line per tuple with
// mean +- stderr, connected +- err, the theory (exact at finite width when
// the server has it, otherwise the infinite-width GP value) and z-scores.
// kCsv: one header row, then one row per tuple; see kCsvColumns. kJson: an
// object {"header": ..., "entries": ..., "kernel": [...]}.
std::string FormatResult(const JobResult& result, OutputFormat format);

// The analyses in ResultHeader, as '#'-prefixed summaries and aligned tables
// (client/cli/format_analyses.cc); FormatResult's table appends them.
std::string ConformalTable(const nnft::v1::ConformalResult& conformal);
std::string ReflectionTable(const nnft::v1::ReflectionPositivityResult& rp);
// A width sweep's result (header.has_width_sweep()), as FormatResult prints
// it. kTable: per width and tuple, G +- err and G_c +- err beside exact
// finite-width theory with z-scores and the deviation m_n +- background;
// then one line per fit: exponent +- err, expected, z, amplitude, chi2/dof,
// widths used/dropped. kCsv: the per-width rows with a leading "width"
// column (kCsvColumns after it, then deviation, deviation_background), a
// blank line, then the fits. kJson: {"header", "widths", "fits", "kernel"}.
std::string FormatSweepResult(const JobResult& result, OutputFormat format);

// The CSV columns of FormatResult, in order. Absent arrays give empty cells.
inline constexpr const char* kCsvColumns[] = {"tuple",     "order",
                                              "mean",      "stderr",
                                              "connected", "connected_stderr",
                                              "gp",        "gp_connected",
                                              "exact",     "exact_connected",
                                              "z_exact",   "z_exact_connected",
                                              "z_gp"};

// A ComputeKernel answer: the P x P kernel, then the theory per tuple.
std::string FormatKernel(const nnft::v1::ComputeKernelResponse& kernel,
                         OutputFormat format);

// Server version, limits, capabilities and counters.
std::string FormatInfo(const nnft::v1::ServerInfo& info, OutputFormat format);

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_FORMAT_H_
