// The `nnft` CLI's commands over nnft::client::Client. Each command writes its
// data (a job, a result, a table) to `out` and progress and errors to `err`,
// and returns the process exit code: kExitOk, kExitRpcError (the server
// answered with an error, or a watched job ended other than SUCCEEDED) or
// kExitUsage (bad command line, or a spec file that cannot be read or
// parsed).
#ifndef NNFT_CLIENT_CLI_COMMANDS_H_
#define NNFT_CLIENT_CLI_COMMANDS_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nnft::client::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;
inline constexpr int kExitUsage = 2;

struct CliOptions {
  // Server address, host:port.
  std::string server = "127.0.0.1:50051";
  // Deadline of each unary call; > 0.
  absl::Duration timeout = absl::Seconds(30);
  // submit: watch the job until it ends.
  bool watch = false;
  // submit: idempotency key ("" for none) and priority in [-1000, 1000].
  std::string request_id;
  int priority = 0;
  // "table" (""), "json" or "csv" (csv: result only).
  std::string format;
  // Estimate entries shown in the live progress line; >= 0.
  int entries = 3;
  // list: jobs per page requested from the server (0: the server's default).
  int page_size = 0;
  // Progress display: true draws a bar in place (a terminal), false prints
  // plain lines.
  bool terminal = false;
  // Security: bearer token ("" for none) and TLS files (PEM; "" for none).
  // tls_ca turns TLS on; tls_cert/tls_key present a client certificate.
  std::string token;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // reproduce: list the studies instead of running one; the directory of
  // the study files; the directory of the CSV written ("" for none); > 0
  // overrides every run's number of networks.
  bool list = false;
  std::string reproduce_dir;
  std::string out_dir = ".";
  int64_t num_networks = 0;
};

// Runs operands[0] with operands[1..]. See the file comment for exit codes.
int RunCommand(const std::vector<std::string>& operands,
               const CliOptions& options, std::FILE* out, std::FILE* err);

// The usage text (commands and what they print).
std::string UsageText();

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_COMMANDS_H_
