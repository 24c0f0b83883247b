#include "server/ops/flag_help.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace nnft::server {
namespace {

bool IsOwnFlagFile(absl::string_view file) {
  return !absl::StrContains(file, "absl/");
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace

bool HandleHelp(int argc, char** argv, absl::string_view program) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = IsOwnFlagFile;
  usage.contains_helpshort_flags = IsOwnFlagFile;
  absl::SetFlagsUsageConfig(usage);
  if (!WantsHelp(argc, argv)) return false;
  std::vector<const absl::CommandLineFlag*> own;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsOwnFlagFile(flag->Filename())) own.push_back(flag);
  }
  std::sort(own.begin(), own.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::printf("%s: %s\n\nflags:\n", std::string(program).c_str(),
              std::string(absl::ProgramUsageMessage()).c_str());
  for (const absl::CommandLineFlag* flag : own) {
    std::printf("  --%s  %s (default: %s)\n", std::string(flag->Name()).c_str(),
                flag->Help().c_str(), flag->DefaultValue().c_str());
  }
  std::printf("\n--helpfull lists Abseil's own flags too.\n");
  std::fflush(stdout);
  return true;
}

}  // namespace nnft::server
