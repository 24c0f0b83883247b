// `nnft reproduce`: published NN-FT results rerun on a server. A study is a
// JSON file in deploy/reproduce/ (format: deploy/reproduce/README.md), shared
// with the Python front end (nnft.reproduce): the specs to run, the
// quantities to read off their results, each quantity's published value
// with its source, and the comparison rule. The CLI prints the table
// "quantity | published | nnft +- err | z or difference | agrees" and writes
// it as CSV; the figures are drawn by the Python front end
// (`python3 -m nnft reproduce NAME`). No physics here: every number is the
// server's or the paper's.
#ifndef NNFT_CLIENT_CLI_REPRODUCE_H_
#define NNFT_CLIENT_CLI_REPRODUCE_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client.h"
#include "google/protobuf/struct.pb.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::client::cli {

// Exit code of `nnft reproduce` when some quantity disagrees with its
// published value (the run itself succeeded).
inline constexpr int kExitDisagrees = 3;

// One run of a study: its name and its spec ("spec_file" read relative to
// the study file, the run's "label" applied).
struct StudyRun {
  std::string name = "";
  nnft::v1::ExperimentSpec spec = {};
};

// One quantity of a study and its published value: a number (`value`), a
// verdict ("invariant" or "broken") or `theory`, the server's evaluation of
// the paper's formula ("exact": the exact column; "first_order": the phi^4
// first-order shift).
struct StudyQuantity {
  std::string label = "";
  std::string run = "";                   // a StudyRun name
  google::protobuf::Struct extract = {};  // {"kind": ..., kind-specific fields}
  std::optional<double> value = {};
  std::string theory = "";
  std::string verdict = "";
  std::string source = "";  // paper, equation or statement
  double max_abs_z = 3;     // agrees when |z| <= max_abs_z ...
  double tolerance = 0;     // ... or |nnft - published| <= tolerance
};

struct Study {
  std::string id = "";
  std::string title = "";
  std::string citation = "";
  std::string arxiv = "";
  std::string path = "";  // the study file
  std::vector<StudyRun> runs = {};
  std::vector<StudyQuantity> quantities = {};
};

// Every study in `dir` (*.json), sorted by id. InvalidArgument naming the
// file and the field for a malformed study; NotFound when `dir` has none.
absl::StatusOr<std::vector<Study>> ListStudies(const std::string& dir);

// The study with this id; NotFound listing the known ids.
absl::StatusOr<Study> FindStudy(const std::string& dir, const std::string& id);

// A quantity read off a result: value, standard error (NaN when none), the
// requested theory value (NaN when none), a verdict for symmetry checks.
struct Extracted {
  double value = 0;
  double err = 0;
  double theory = 0;
  std::string verdict = "";
  std::string note = "";
};

// Reads quantity `q` off `result`. NotFound when the result lacks it (a
// tuple not requested, a missing analysis), InvalidArgument for an unknown
// extract kind.
absl::StatusOr<Extracted> Extract(const StudyQuantity& q,
                                  const JobResult& result);

// One table row.
struct ComparisonRow {
  std::string label = "";
  std::string published = "";  // the number or the verdict, as printed
  double published_value = 0;  // NaN for verdicts
  Extracted got = {};
  double z = 0;           // (nnft - published) / err; NaN when undefined
  double difference = 0;  // nnft - published; NaN for verdicts
  bool agrees = false;
  std::string source = "";
};

ComparisonRow Compare(const StudyQuantity& q, const Extracted& got);

// The table (header lines, rows, sources, agreement count) and its CSV.
std::string FormatComparison(const Study& study,
                             const std::vector<ComparisonRow>& rows);
std::string ComparisonCsv(const std::vector<ComparisonRow>& rows);

struct ReproduceOptions {
  // Directory of the study files.
  std::string dir = "";
  // Directory for <id>.csv; "" writes none.
  std::string out_dir = ".";
  // > 0: overrides every run's sampling.num_networks.
  int64_t num_networks = 0;
};

// Submits the study's runs, waits for them (progress on err), prints the
// table on out and writes the CSV. Returns kExitOk, kExitRpcError (a call or
// a job failed), kExitUsage (unknown study, unwritable out_dir) or
// kExitDisagrees.
int RunReproduce(const Client& client, const std::string& id,
                 const ReproduceOptions& options, std::FILE* out,
                 std::FILE* err);

// `nnft reproduce --list`: id, arXiv number and title per study.
int ListReproduce(const std::string& dir, std::FILE* out, std::FILE* err);

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_REPRODUCE_H_
