// Command-line parsing for the `nnft` CLI over Abseil flags (defined in
// main.cc), done here rather than by absl::ParseCommandLine so that flags may
// sit anywhere among the operands and a usage error exits with the CLI's
// usage code (2) instead of Abseil's 1.
#ifndef NNFT_CLIENT_CLI_ARGS_H_
#define NNFT_CLIENT_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nnft::client::cli {

struct ParsedArgs {
  std::vector<std::string> operands;  // the command and its arguments
  bool help = false;                  // --help or -h was given
};

// Sets every "--name=value", "--name value", "--flag", "--noflag" (for
// booleans) through the registered Abseil flags and returns the rest in
// order; "--" ends the flags. InvalidArgument naming the flag for an unknown
// flag, a missing value or a value its type rejects.
absl::StatusOr<ParsedArgs> ParseArgs(int argc, char** argv);

// Lines "  --name (help; default: value)" for the given flags.
std::string FlagHelp(const std::vector<std::string>& names);

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_ARGS_H_
