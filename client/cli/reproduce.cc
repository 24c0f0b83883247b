// `nnft reproduce NAME` and `nnft reproduce --list`; see reproduce.h.
#include "client/cli/reproduce.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;

int Fail(std::FILE* err, const absl::Status& status, int code) {
  std::fprintf(err, "nnft: %s: %s\n",
               absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return code;
}

// Submits every run (the server queues them), then waits for each and
// fetches its result; progress lines on err.
absl::StatusOr<std::map<std::string, JobResult>> RunAll(const Client& client,
                                                        const Study& study,
                                                        int64_t num_networks,
                                                        std::FILE* err) {
  std::map<std::string, std::string> jobs;
  for (const StudyRun& run : study.runs) {
    v1::ExperimentSpec spec = run.spec;
    if (num_networks > 0)
      spec.mutable_sampling()->set_num_networks(num_networks);
    absl::StatusOr<v1::Job> job = client.Submit(spec);
    if (!job.ok()) return job.status();
    std::fprintf(err, "%s: run %s submitted as %s\n", study.id.c_str(),
                 run.name.c_str(), job->name().c_str());
    jobs[run.name] = job->name();
  }
  std::map<std::string, JobResult> results;
  for (const auto& [name, job_name] : jobs) {
    absl::StatusOr<v1::Job> done = client.WaitForCompletion(job_name);
    if (!done.ok()) return done.status();
    if (done->state() != v1::Job::SUCCEEDED) {
      return absl::AbortedError(absl::StrCat(
          "run ", name, " (", job_name, ") ended ",
          v1::Job::State_Name(done->state()), ": ", done->error_message()));
    }
    absl::StatusOr<JobResult> result = client.FetchResult(job_name);
    if (!result.ok()) return result.status();
    std::fprintf(err, "%s: run %s done (%lld networks)\n", study.id.c_str(),
                 name.c_str(),
                 static_cast<long long>(done->progress().networks_done()));
    results[name] = *std::move(result);
  }
  return results;
}

}  // namespace

int ListReproduce(const std::string& dir, std::FILE* out, std::FILE* err) {
  absl::StatusOr<std::vector<Study>> studies = ListStudies(dir);
  if (!studies.ok()) return Fail(err, studies.status(), kExitUsage);
  for (const Study& s : *studies) {
    std::fprintf(out, "%-20s arXiv %-11s %s\n", s.id.c_str(), s.arxiv.c_str(),
                 s.title.c_str());
  }
  return kExitOk;
}

int RunReproduce(const Client& client, const std::string& id,
                 const ReproduceOptions& options, std::FILE* out,
                 std::FILE* err) {
  absl::StatusOr<Study> study = FindStudy(options.dir, id);
  if (!study.ok()) return Fail(err, study.status(), kExitUsage);
  absl::StatusOr<std::map<std::string, JobResult>> results =
      RunAll(client, *study, options.num_networks, err);
  if (!results.ok()) return Fail(err, results.status(), kExitRpcError);
  std::vector<ComparisonRow> rows;
  bool all_agree = true;
  for (const StudyQuantity& q : study->quantities) {
    const auto it = results->find(q.run);
    if (it == results->end()) {
      return Fail(err,
                  absl::InvalidArgumentError(
                      absl::StrCat(study->path, ": quantity '", q.label,
                                   "' names an unknown run '", q.run, "'")),
                  kExitUsage);
    }
    absl::StatusOr<Extracted> got = Extract(q, it->second);
    if (!got.ok()) return Fail(err, got.status(), kExitRpcError);
    rows.push_back(Compare(q, *got));
    all_agree = all_agree && rows.back().agrees;
  }
  std::fputs(FormatComparison(*study, rows).c_str(), out);
  if (!options.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    const std::string path =
        (std::filesystem::path(options.out_dir) / (study->id + ".csv"))
            .string();
    std::ofstream csv(path);
    csv << ComparisonCsv(rows);
    if (!csv) {
      return Fail(err,
                  absl::PermissionDeniedError(
                      absl::StrCat(path, ": cannot be written")),
                  kExitUsage);
    }
    std::fprintf(out, "wrote %s\n", path.c_str());
  }
  std::fprintf(out,
               "figure: run the Python front end (PYTHONPATH=build/python "
               "python3 -m nnft reproduce %s --out_dir DIR)\n",
               study->id.c_str());
  std::fflush(out);
  return all_agree ? kExitOk : kExitDisagrees;
}

}  // namespace nnft::client::cli
