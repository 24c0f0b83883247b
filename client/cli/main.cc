// The `nnft` command-line tool: submit, watch, inspect and fetch nnft jobs.
// See UsageText() in commands.cc; `nnft --help` prints it with the flags.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "client/cli/args.h"
#include "client/cli/commands.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "server address, host:port");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "deadline of each unary call, e.g. 30s or 2m");
ABSL_FLAG(bool, watch, false, "submit: follow the job until it ends");
ABSL_FLAG(std::string, request_id, "",
          "submit: idempotency key (a retry with the same key returns the "
          "same job)");
ABSL_FLAG(int32_t, priority, 0, "submit: higher runs first, in [-1000, 1000]");
ABSL_FLAG(std::string, format, "table",
          "output format: table or json; result also takes csv");
ABSL_FLAG(int32_t, entries, 3,
          "estimate entries shown in the live progress line");
ABSL_FLAG(int32_t, page_size, 0,
          "list: jobs per page requested from the server (0: its default)");

int main(int argc, char** argv) {
  using nnft::client::cli::kExitOk;
  using nnft::client::cli::kExitUsage;
  absl::StatusOr<nnft::client::cli::ParsedArgs> parsed =
      nnft::client::cli::ParseArgs(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "nnft: %s\nRun 'nnft --help' for usage.\n",
                 std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  if (parsed->help) {
    std::printf("%s\nflags:\n%s", nnft::client::cli::UsageText().c_str(),
                nnft::client::cli::FlagHelp({"server", "timeout", "watch",
                                             "request_id", "priority", "format",
                                             "entries", "page_size"})
                    .c_str());
    return kExitOk;
  }
  const nnft::client::cli::CliOptions options{
      .server = absl::GetFlag(FLAGS_server),
      .timeout = absl::GetFlag(FLAGS_timeout),
      .watch = absl::GetFlag(FLAGS_watch),
      .request_id = absl::GetFlag(FLAGS_request_id),
      .priority = absl::GetFlag(FLAGS_priority),
      .format = absl::GetFlag(FLAGS_format),
      .entries = absl::GetFlag(FLAGS_entries),
      .page_size = absl::GetFlag(FLAGS_page_size),
      .terminal = isatty(STDERR_FILENO) == 1,
  };
  return nnft::client::cli::RunCommand(parsed->operands, options, stdout,
                                       stderr);
}
