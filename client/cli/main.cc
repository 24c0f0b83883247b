// The `nnft` command-line tool: submit, watch, inspect and fetch nnft jobs.
// See UsageText() in commands.cc; `nnft --help` prints it with the flags.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/args.h"
#include "client/cli/commands.h"
#include "client/client.h"

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
ABSL_FLAG(std::string, token, "",
          "bearer token for a server with --token_file (prefer --token_file "
          "or $NNFT_TOKEN: arguments are visible to other users)");
ABSL_FLAG(std::string, token_file, "",
          "file whose first line is the bearer token");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM roots verifying the server's certificate: TLS on");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate chain (with --tls_key and --tls_ca)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(bool, list, false, "reproduce: list the studies");
ABSL_FLAG(
    std::string, reproduce_dir, "",
    "reproduce: directory of the study files (default $NNFT_REPRODUCE_DIR, "
    "else the source tree's deploy/reproduce)");
ABSL_FLAG(std::string, out_dir, ".",
          "reproduce: directory of the CSV table written ('' for none)");
ABSL_FLAG(int64_t, num_networks, 0,
          "reproduce: networks per run (0: as in the study)");

namespace {

// The token from --token, else the first line of --token_file, else
// $NNFT_TOKEN; "" for none.
absl::StatusOr<std::string> ResolveToken() {
  std::string token = absl::GetFlag(FLAGS_token);
  const std::string file = absl::GetFlag(FLAGS_token_file);
  if (token.empty() && !file.empty()) {
    std::ifstream in(file);
    if (!in || !std::getline(in, token)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token_file '", file, "': cannot be read"));
    }
  }
  if (token.empty()) {
    if (const char* env = std::getenv("NNFT_TOKEN")) token = env;
  }
  return std::string(absl::StripAsciiWhitespace(token));
}

// --reproduce_dir, else $NNFT_REPRODUCE_DIR, else the source tree's.
std::string ReproduceDir() {
  std::string dir = absl::GetFlag(FLAGS_reproduce_dir);
  if (dir.empty()) {
    if (const char* env = std::getenv("NNFT_REPRODUCE_DIR")) dir = env;
  }
  return dir.empty() ? NNFT_DEFAULT_REPRODUCE_DIR : dir;
}

}  // namespace

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
                nnft::client::cli::FlagHelp(
                    {"server", "timeout", "watch", "request_id", "priority",
                     "format", "entries", "page_size", "token", "token_file",
                     "tls_ca", "tls_cert", "tls_key", "list", "reproduce_dir",
                     "out_dir", "num_networks"})
                    .c_str());
    return kExitOk;
  }
  absl::StatusOr<std::string> token = ResolveToken();
  if (!token.ok()) {
    std::fprintf(stderr, "nnft: %s\nRun 'nnft --help' for usage.\n",
                 std::string(token.status().message()).c_str());
    return kExitUsage;
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
      .token = *token,
      .tls_ca = absl::GetFlag(FLAGS_tls_ca),
      .tls_cert = absl::GetFlag(FLAGS_tls_cert),
      .tls_key = absl::GetFlag(FLAGS_tls_key),
      .list = absl::GetFlag(FLAGS_list),
      .reproduce_dir = ReproduceDir(),
      .out_dir = absl::GetFlag(FLAGS_out_dir),
      .num_networks = absl::GetFlag(FLAGS_num_networks),
  };
  // Bad security options are usage errors, found before any call.
  absl::Status checked =
      nnft::client::MakeChannelCredentials(
          nnft::client::ClientOptions{.token = options.token,
                                      .tls_ca_file = options.tls_ca,
                                      .tls_cert_file = options.tls_cert,
                                      .tls_key_file = options.tls_key})
          .status();
  if (!checked.ok()) {
    std::fprintf(stderr, "nnft: %s\nRun 'nnft --help' for usage.\n",
                 std::string(checked.message()).c_str());
    return kExitUsage;
  }
  return nnft::client::cli::RunCommand(parsed->operands, options, stdout,
                                       stderr);
}
