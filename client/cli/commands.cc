#include "client/cli/commands.h"

#include <functional>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/cli/format.h"
#include "client/cli/progress.h"
#include "client/cli/reproduce.h"
#include "client/cli/spec_file.h"
#include "client/cli/training_format.h"
#include "client/client.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;

// Everything a command needs; the client is created on first use so that
// usage errors never touch the network.
struct Context {
  const CliOptions& options;
  OutputFormat format;
  std::FILE* out;
  std::FILE* err;
  std::unique_ptr<Client> client;

  Client& client_ref() {
    if (client == nullptr) {
      // main() has checked the options and that the TLS files are readable.
      client = std::make_unique<Client>(
          options.server, ClientOptions{.timeout = options.timeout,
                                        .token = options.token,
                                        .tls_ca_file = options.tls_ca,
                                        .tls_cert_file = options.tls_cert,
                                        .tls_key_file = options.tls_key});
    }
    return *client;
  }
};

int Print(Context& ctx, const std::string& text) {
  std::fputs(text.c_str(), ctx.out);
  std::fflush(ctx.out);
  return kExitOk;
}

int RpcError(Context& ctx, const absl::Status& status) {
  std::fprintf(ctx.err, "nnft: %s: %s\n",
               absl::StatusCodeToString(status.code()).c_str(),
               std::string(status.message()).c_str());
  return kExitRpcError;
}

int UsageError(std::FILE* err, const std::string& message) {
  std::fprintf(err, "nnft: %s\nRun 'nnft --help' for usage.\n",
               message.c_str());
  return kExitUsage;
}

// Reads a spec file; on failure prints the error and returns false.
bool LoadSpec(Context& ctx, const std::string& path, v1::ExperimentSpec* spec) {
  absl::StatusOr<v1::ExperimentSpec> read = ReadSpecFile(path);
  if (!read.ok()) {
    std::fprintf(ctx.err, "nnft: %s: %s\n",
                 absl::StatusCodeToString(read.status().code()).c_str(),
                 std::string(read.status().message()).c_str());
    return false;
  }
  *spec = *std::move(read);
  return true;
}

// The result of a succeeded job after a watch: in a table after the job (a
// blank line between), in json or csv alone, as `nnft result` prints it (the
// final state is on err already), so the output stays one document.
int PrintJobAndResult(Context& ctx, const v1::Job& job) {
  absl::StatusOr<JobResult> result = ctx.client_ref().FetchResult(job.name());
  if (!result.ok()) {
    Print(ctx, FormatJob(job, ctx.format));
    return RpcError(ctx, result.status());
  }
  if (ctx.format == OutputFormat::kTable) {
    Print(ctx, FormatJob(job, ctx.format));
    Print(ctx, "\n");
  }
  return Print(ctx, FormatResult(*result, ctx.format));
}

// Watches `name` to its end with live progress on err; prints the final job
// and, when it succeeded, its result on out (PrintJobAndResult). Non-zero
// unless the job SUCCEEDED.
int WatchToEnd(Context& ctx, const std::string& name) {
  ProgressPrinter printer(ctx.err, ctx.options.terminal, ctx.options.entries);
  TrainingLivePrinter flow(ctx.err, ctx.options.terminal);
  const int max_entries = std::max(1, ctx.options.entries);
  absl::StatusOr<v1::Job> job = ctx.client_ref().WaitForCompletion(
      name, absl::InfiniteFuture(),
      [&](const v1::JobUpdate& update) {
        if (update.training().empty()) {
          printer.Update(update);
        } else {
          flow.Update(update);
        }
        return true;
      },
      max_entries);
  if (!job.ok()) return RpcError(ctx, job.status());
  flow.Finish();
  printer.Finish(*job);
  if (job->state() != v1::Job::SUCCEEDED) {
    Print(ctx, FormatJob(*job, ctx.format));
    std::fprintf(ctx.err, "nnft: job %s ended %s\n", job->name().c_str(),
                 StateName(job->state()).c_str());
    return kExitRpcError;
  }
  return PrintJobAndResult(ctx, *job);
}

// Follows a sweep job to its end with live progress (the fitted exponents
// so far), then prints its per-width and fit tables.
int SweepToEnd(Context& ctx, const v1::Job& job) {
  std::fprintf(ctx.err, "submitted width sweep %s (%s)\n", job.name().c_str(),
               StateName(job.state()).c_str());
  ProgressPrinter printer(ctx.err, ctx.options.terminal, ctx.options.entries);
  absl::StatusOr<v1::Job> done = ctx.client_ref().WaitForCompletion(
      job.name(), absl::InfiniteFuture(),
      [&](const v1::JobUpdate& update) {
        printer.Update(update);
        return true;
      },
      std::max(1, ctx.options.entries));
  if (!done.ok()) return RpcError(ctx, done.status());
  printer.Finish(*done);
  if (done->state() != v1::Job::SUCCEEDED) {
    std::fprintf(ctx.err, "nnft: job %s ended %s\n", done->name().c_str(),
                 StateName(done->state()).c_str());
    return kExitRpcError;
  }
  absl::StatusOr<JobResult> result = ctx.client_ref().FetchResult(job.name());
  if (!result.ok()) return RpcError(ctx, result.status());
  return Print(ctx, FormatResult(*result, ctx.format));
}

int Submit(Context& ctx, const std::vector<std::string>& args) {
  v1::ExperimentSpec spec;
  if (!LoadSpec(ctx, args[0], &spec)) return kExitUsage;
  absl::StatusOr<v1::Job> job = ctx.client_ref().Submit(
      spec, ctx.options.request_id, ctx.options.priority);
  if (!job.ok()) return RpcError(ctx, job.status());
  // A width sweep is followed to its end and its tables printed.
  if (spec.width_sweep().widths_size() > 0) return SweepToEnd(ctx, *job);
  if (!ctx.options.watch) return Print(ctx, FormatJob(*job, ctx.format));
  std::fprintf(ctx.err, "submitted %s (%s)\n", job->name().c_str(),
               StateName(job->state()).c_str());
  return WatchToEnd(ctx, job->name());
}

int Watch(Context& ctx, const std::vector<std::string>& args) {
  return WatchToEnd(ctx, args[0]);
}

int Get(Context& ctx, const std::vector<std::string>& args) {
  absl::StatusOr<v1::Job> job = ctx.client_ref().Get(args[0]);
  if (!job.ok()) return RpcError(ctx, job.status());
  return Print(ctx, FormatJob(*job, ctx.format));
}

int List(Context& ctx, const std::vector<std::string>& args) {
  std::vector<v1::Job> jobs;
  std::string token;
  do {
    absl::StatusOr<v1::ListJobsResponse> page =
        ctx.client_ref().List(ctx.options.page_size, token);
    if (!page.ok()) return RpcError(ctx, page.status());
    jobs.insert(jobs.end(), page->jobs().begin(), page->jobs().end());
    token = page->next_page_token();
  } while (!token.empty());
  return Print(ctx, FormatJobList(jobs, ctx.format));
}

int Cancel(Context& ctx, const std::vector<std::string>& args) {
  absl::StatusOr<v1::Job> job = ctx.client_ref().Cancel(args[0]);
  if (!job.ok()) return RpcError(ctx, job.status());
  return Print(ctx, FormatJob(*job, ctx.format));
}

int Delete(Context& ctx, const std::vector<std::string>& args) {
  absl::Status status = ctx.client_ref().Delete(args[0]);
  if (!status.ok()) return RpcError(ctx, status);
  return Print(ctx, absl::StrCat("deleted ", args[0], "\n"));
}

int Result(Context& ctx, const std::vector<std::string>& args) {
  absl::StatusOr<JobResult> result = ctx.client_ref().FetchResult(args[0]);
  if (!result.ok()) return RpcError(ctx, result.status());
  return Print(ctx, FormatResult(*result, ctx.format));
}

int Kernel(Context& ctx, const std::vector<std::string>& args) {
  v1::ExperimentSpec spec;
  if (!LoadSpec(ctx, args[0], &spec)) return kExitUsage;
  absl::StatusOr<v1::ComputeKernelResponse> kernel =
      ctx.client_ref().Kernel(spec);
  if (!kernel.ok()) return RpcError(ctx, kernel.status());
  return Print(ctx, FormatKernel(*kernel, ctx.format));
}

int Info(Context& ctx, const std::vector<std::string>& args) {
  absl::StatusOr<v1::ServerInfo> info = ctx.client_ref().Info();
  if (!info.ok()) return RpcError(ctx, info.status());
  return Print(ctx, FormatInfo(*info, ctx.format));
}

int Reproduce(Context& ctx, const std::vector<std::string>& args) {
  if (ctx.options.list) {
    return ListReproduce(ctx.options.reproduce_dir, ctx.out, ctx.err);
  }
  return RunReproduce(
      ctx.client_ref(), args[0],
      ReproduceOptions{.dir = ctx.options.reproduce_dir,
                       .out_dir = ctx.options.out_dir,
                       .num_networks = ctx.options.num_networks},
      ctx.out, ctx.err);
}

struct Command {
  const char* operand;  // "" when none
  bool csv_allowed;
  std::function<int(Context&, const std::vector<std::string>&)> run;
};

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"submit", {"SPEC.json", false, Submit}},
      {"watch", {"JOB", false, Watch}},
      {"get", {"JOB", false, Get}},
      {"list", {"", false, List}},
      {"cancel", {"JOB", false, Cancel}},
      {"delete", {"JOB", false, Delete}},
      {"result", {"JOB", true, Result}},
      {"kernel", {"SPEC.json", false, Kernel}},
      {"info", {"", false, Info}},
      {"reproduce", {"NAME", false, Reproduce}},
  };
  return *commands;
}

}  // namespace

std::string UsageText() {
  return "usage: nnft [flags] COMMAND [ARG]\n"
         "\n"
         "commands:\n"
         "  submit SPEC.json  queue an experiment (spec in protobuf JSON; '-' "
         "reads stdin);\n"
         "                    prints the job; with --watch, follows it to the "
         "end\n"
         "                    (rate and time left on stderr) and prints its "
         "result\n"
         "                    a width sweep (widthSweep set) is followed to "
         "its end\n"
         "                    and prints per-width and power-law fit tables\n"
         "  watch JOB         follow a job to its end (live progress on "
         "stderr),\n"
         "                    then print its result\n"
         "  get JOB           print a job\n"
         "  list              print every job, oldest first\n"
         "  cancel JOB        request cancellation (takes effect at the next "
         "chunk)\n"
         "  delete JOB        remove a finished job's record\n"
         "  result JOB        print a succeeded job's result (--format "
         "table|json|csv)\n"
         "  kernel SPEC.json  print the NNGP kernel and exact theory of a "
         "spec\n"
         "  info              print the server's version, limits and counters\n"
         "  reproduce NAME    rerun a published study (deploy/reproduce/NAME): "
         "table of\n"
         "                    published vs nnft values with z, CSV in "
         "--out_dir;\n"
         "                    --list names the studies; exit 3 when a "
         "quantity disagrees\n"
         "\n"
         "exit codes: 0 ok; 1 the server answered an error, or a watched job "
         "did not succeed;\n"
         "            2 usage error or unreadable spec file; 3 reproduce: a "
         "quantity disagrees\n"
         "            with its published value\n";
}

int RunCommand(const std::vector<std::string>& operands,
               const CliOptions& options, std::FILE* out, std::FILE* err) {
  if (operands.empty()) return UsageError(err, "missing COMMAND");
  const auto it = Commands().find(operands[0]);
  if (it == Commands().end()) {
    return UsageError(err, absl::StrCat("unknown command '", operands[0], "'"));
  }
  const Command& command = it->second;
  const std::vector<std::string> args(operands.begin() + 1, operands.end());
  const size_t wanted =
      command.operand[0] == '\0' || (operands[0] == "reproduce" && options.list)
          ? 0
          : 1;
  if (args.size() != wanted) {
    return UsageError(
        err,
        wanted == 0
            ? absl::StrCat("'", operands[0], "' takes no arguments")
            : absl::StrCat("usage: nnft ", operands[0], " ", command.operand));
  }
  absl::StatusOr<OutputFormat> format = ParseOutputFormat(options.format);
  if (!format.ok())
    return UsageError(err, std::string(format.status().message()));
  if (*format == OutputFormat::kCsv && !command.csv_allowed) {
    return UsageError(err, absl::StrCat("--format=csv applies to 'result' "
                                        "only; '",
                                        operands[0], "' prints table or json"));
  }
  if (!(options.timeout > absl::ZeroDuration())) {
    return UsageError(err, "--timeout must be > 0");
  }
  if (options.num_networks < 0) {
    return UsageError(err, absl::StrCat("--num_networks=", options.num_networks,
                                        ": must be >= 0 (0: as in the study)"));
  }
  if (options.priority < -1000 || options.priority > 1000) {
    return UsageError(err, absl::StrCat("--priority=", options.priority,
                                        ": must be in [-1000, 1000]"));
  }
  Context ctx{.options = options,
              .format = *format,
              .out = out,
              .err = err,
              .client = nullptr};
  return command.run(ctx, args);
}

}  // namespace nnft::client::cli
